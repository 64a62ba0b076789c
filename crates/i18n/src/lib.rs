//! edufed's vocabulary for people: every label and every name of an enum
//! value from one catalogue per language (Project Fluent files under
//! `locales/`), and dates and times in the local, human form that people
//! read. The web console, the report page, the printable agreement, the
//! iCalendar feeds' categories and the command line's tables all name
//! things from here (`locales/ru/*.ftl`), so a kind of activity is called the same everywhere
//! and a second language is a second file.

pub mod errors;
pub mod notify;

use std::sync::LazyLock;

use chrono::{DateTime, Datelike as _, NaiveDate, NaiveTime, Offset as _, Timelike as _, Utc};
use chrono_tz::Tz;
use edufed_domain::stable::Named;
use fluent_bundle::concurrent::FluentBundle;
use fluent_bundle::{FluentArgs, FluentResource, FluentValue};

/// The messages of one language.
pub struct Catalogue {
    bundle: FluentBundle<FluentResource>,
}

/// The Russian files: one per part of the product, so that each part's
/// words live together.
const RU_FILES: &[(&str, &str)] = &[
    (
        "vocabulary.ftl",
        include_str!("../locales/ru/vocabulary.ftl"),
    ),
    ("console.ftl", include_str!("../locales/ru/console.ftl")),
    ("refusals.ftl", include_str!("../locales/ru/refusals.ftl")),
    ("booking.ftl", include_str!("../locales/ru/booking.ftl")),
    (
        "agreements.ftl",
        include_str!("../locales/ru/agreements.ftl"),
    ),
    ("reports.ftl", include_str!("../locales/ru/reports.ftl")),
    ("node.ftl", include_str!("../locales/ru/node.ftl")),
    (
        "notifications.ftl",
        include_str!("../locales/ru/notifications.ftl"),
    ),
    ("careers.ftl", include_str!("../locales/ru/careers.ftl")),
    ("audit.ftl", include_str!("../locales/ru/audit.ftl")),
];

static RU: LazyLock<Catalogue> = LazyLock::new(|| {
    Catalogue::parse("ru", RU_FILES).unwrap_or_else(|error| panic!("locales/ru: {error}"))
});

/// The Russian catalogue: the language of the network's people.
pub fn ru() -> &'static Catalogue {
    &RU
}

/// `CancelBooking` as `cancel-booking`.
fn kebab(name: &str) -> String {
    let mut out = String::new();
    for (i, c) in name.chars().enumerate() {
        if c.is_ascii_uppercase() {
            if i > 0 {
                out.push('-');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// A value a message is given.
#[derive(Debug, Clone)]
pub enum Arg<'a> {
    Text(&'a str),
    Number(i64),
}

impl<'a> From<&'a str> for Arg<'a> {
    fn from(text: &'a str) -> Self {
        Arg::Text(text)
    }
}

impl<'a> From<&'a String> for Arg<'a> {
    fn from(text: &'a String) -> Self {
        Arg::Text(text)
    }
}

impl From<i64> for Arg<'_> {
    fn from(n: i64) -> Self {
        Arg::Number(n)
    }
}

impl From<u32> for Arg<'_> {
    fn from(n: u32) -> Self {
        Arg::Number(i64::from(n))
    }
}

impl Catalogue {
    fn parse(locale: &str, files: &[(&str, &str)]) -> Result<Self, String> {
        let language = locale
            .parse()
            .map_err(|e| format!("locale {locale}: {e}"))?;
        let mut bundle = FluentBundle::new_concurrent(vec![language]);
        // The pages are HTML; bidi isolation marks would only be noise.
        bundle.set_use_isolating(false);
        for (name, source) in files {
            let resource =
                FluentResource::try_new((*source).to_owned()).map_err(|(_, errors)| {
                    let errors: Vec<String> = errors.iter().map(ToString::to_string).collect();
                    format!("{name}: {}", errors.join("; "))
                })?;
            // A key defined twice is a mistake, not an override.
            bundle
                .add_resource(resource)
                .map_err(|errors| format!("{name}: {errors:?}"))?;
        }
        Ok(Self { bundle })
    }

    /// Whether the catalogue has a message `key`.
    pub fn has(&self, key: &str) -> bool {
        self.bundle.has_message(key)
    }

    /// The message `key`; the key itself when the catalogue lacks it (the
    /// catalogue's completeness is a test, not a failure at run time).
    pub fn text(&self, key: &str) -> String {
        self.text_with(key, &[])
    }

    /// The message `key` given `args`.
    pub fn text_with(&self, key: &str, args: &[(&str, Arg<'_>)]) -> String {
        let Some(pattern) = self.bundle.get_message(key).and_then(|m| m.value()) else {
            return key.to_owned();
        };
        let mut fluent_args = FluentArgs::new();
        for (name, value) in args {
            match value {
                Arg::Text(text) => fluent_args.set(*name, FluentValue::from(*text)),
                Arg::Number(n) => fluent_args.set(*name, FluentValue::from(*n)),
            }
        }
        let mut errors = Vec::new();
        self.bundle
            .format_pattern(pattern, Some(&fluent_args), &mut errors)
            .into_owned()
    }

    /// What people call the call `method` of the audit trail
    /// (`/edufed.v1.Booking/CancelBooking`: «Отмена бронирования»), or the
    /// node's work (`work:agreement lifecycle`); a call without a name
    /// here is shown as `Service/Method`.
    pub fn audit_call(&self, method: &str) -> String {
        if method.is_empty() {
            return self.text("audit-outside-call");
        }
        if let Some(name) = method.strip_prefix("work:") {
            let key = format!("audit-work-{}", name.replace(' ', "-"));
            if self.has(&key) {
                return self.text(&key);
            }
            return self.text_with("audit-work", &[("name", Arg::Text(name))]);
        }
        let short = method.rsplit_once('.').map_or(method, |(_, m)| m);
        let key = short.split('/').map(kebab).collect::<Vec<_>>().join("-");
        let key = format!("audit-call-{key}");
        if self.has(&key) {
            self.text(&key)
        } else {
            short.to_owned()
        }
    }

    /// What people call a kind of record in the audit trail (`booking`:
    /// «Бронирование»), or the kind itself.
    pub fn audit_record(&self, kind: &str) -> String {
        let key = format!("audit-record-{}", kind.replace('_', "-"));
        if self.has(&key) {
            self.text(&key)
        } else {
            kind.to_owned()
        }
    }

    /// A value's name for people, e.g. «Подготовка к олимпиаде».
    pub fn name<N: Named>(&self, value: N) -> String {
        self.text(&value.vocabulary_key())
    }

    /// The name of a protobuf enum value by its full name, e.g.
    /// `ACTIVITY_KIND_COURSE` → «Курс».
    pub fn proto_name(&self, value_name: &str) -> String {
        self.text(&proto_key(value_name))
    }

    /// `count` of `key`'s noun, agreed in number: «3 ученика», «5 мест».
    pub fn count(&self, key: &str, count: i64) -> String {
        self.text_with(key, &[("count", Arg::Number(count))])
    }

    /// A span of grades: «9–11 классы», «7 класс», «все классы» for none.
    pub fn grades(&self, from: u32, to: u32) -> String {
        match (from, to) {
            (0, _) | (_, 0) => self.text("grades-all"),
            (a, b) if a == b => self.text_with("grade-one", &[("grade", a.into())]),
            (a, b) => self.text_with("grades-range", &[("from", a.into()), ("to", b.into())]),
        }
    }

    /// «12 декабря 2026».
    pub fn date(&self, date: NaiveDate) -> String {
        format!(
            "{} {} {}",
            date.day(),
            self.text(&format!("month-of-{}", date.month())),
            date.year()
        )
    }

    /// «сб, 12 декабря».
    pub fn day(&self, date: NaiveDate) -> String {
        format!(
            "{}, {} {}",
            self.weekday_short(date),
            date.day(),
            self.text(&format!("month-of-{}", date.month()))
        )
    }

    /// «суббота».
    pub fn weekday(&self, date: NaiveDate) -> String {
        self.text(&format!("weekday-{}", date.weekday().number_from_monday()))
    }

    /// «сб».
    pub fn weekday_short(&self, date: NaiveDate) -> String {
        self.text(&format!(
            "weekday-short-{}",
            date.weekday().number_from_monday()
        ))
    }

    /// «декабрь 2026».
    pub fn month(&self, year: i32, month: u32) -> String {
        format!("{} {year}", self.text(&format!("month-{month}")))
    }

    /// «17:00».
    pub fn time(&self, time: NaiveTime) -> String {
        format!("{:02}:{:02}", time.hour(), time.minute())
    }

    /// A zone's city: «Томск».
    pub fn city(&self, zone: Tz) -> String {
        let key = format!("zone-{}", zone.name().replace('/', "-").to_lowercase());
        if self.has(&key) {
            self.text(&key)
        } else {
            zone.name()
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .replace('_', " ")
        }
    }

    /// A zone as people know it: «Томск (UTC+7)».
    pub fn zone(&self, zone: Tz, at: DateTime<Utc>) -> String {
        let seconds = at.with_timezone(&zone).offset().fix().local_minus_utc();
        let (sign, seconds) = if seconds < 0 {
            ('−', -seconds)
        } else {
            ('+', seconds)
        };
        let offset = if seconds % 3600 == 0 {
            format!("{}", seconds / 3600)
        } else {
            format!("{}:{:02}", seconds / 3600, seconds % 3600 / 60)
        };
        format!("{} (UTC{sign}{offset})", self.city(zone))
    }

    /// An instant in `zone`, named when it differs from the viewer's:
    /// «сб, 12 декабря 2026, 17:00» or «сб, 12 декабря 2026, 17:00, Томск (UTC+7)».
    /// An all-day occurrence's day in its zone: «сб, 12 декабря 2026, весь
    /// день», with no time of day (its start is midnight only by storage).
    pub fn all_day(&self, at: DateTime<Utc>, zone: Tz) -> String {
        let day = at.with_timezone(&zone).date_naive();
        format!(
            "{} {}, {}",
            self.day(day),
            day.year(),
            self.text("calendar-all-day")
        )
    }

    pub fn instant(&self, at: DateTime<Utc>, zone: Tz, viewer: Option<Tz>) -> String {
        let local = at.with_timezone(&zone);
        let mut text = format!(
            "{} {}, {}",
            self.day(local.date_naive()),
            local.year(),
            self.time(local.time())
        );
        if viewer.is_some_and(|v| v != zone) {
            text.push_str(", ");
            text.push_str(&self.zone(zone, at));
        }
        text
    }

    /// An instant in `zone`, always named: «пт, 11 декабря 2026, 17:00,
    /// Томск (UTC+7)», for text read without knowing the reader's zone.
    pub fn instant_named(&self, at: DateTime<Utc>, zone: Tz) -> String {
        format!("{}, {}", self.instant(at, zone, None), self.zone(zone, at))
    }

    /// An instant in `zone`, short for tables: «сб, 12 дек 2026, 17:00
    /// (Томск)».
    pub fn short_instant(&self, at: DateTime<Utc>, zone: Tz) -> String {
        let local = at.with_timezone(&zone);
        format!(
            "{}, {} {} {}, {} ({})",
            self.weekday_short(local.date_naive()),
            local.day(),
            self.text(&format!("month-short-{}", local.month())),
            local.year(),
            self.time(local.time()),
            self.city(zone)
        )
    }
}

/// `activity-kind-course` from `ACTIVITY_KIND_COURSE`.
pub fn proto_key(value_name: &str) -> String {
    value_name.to_ascii_lowercase().replace('_', "-")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_protobuf_enum_value_has_a_russian_name() {
        let pool = prost_reflect::DescriptorPool::decode(edufed_proto::FILE_DESCRIPTOR_SET)
            .expect("descriptor set");
        let mut missing = Vec::new();
        for enumeration in pool.all_enums() {
            if !enumeration.full_name().starts_with("edufed.") {
                continue;
            }
            for value in enumeration.values() {
                if value.number() == 0 {
                    continue;
                }
                if !ru().has(&proto_key(value.name())) {
                    missing.push(value.name().to_owned());
                }
            }
        }
        assert!(missing.is_empty(), "ru.ftl lacks {missing:?}");
    }

    #[test]
    fn every_domain_enum_value_has_a_russian_name() {
        use edufed_domain::{
            agreement, booking, calendar, changes, directory, notify, report, session,
        };
        fn check<N: Named>(all: &[N], missing: &mut Vec<String>) {
            for value in all {
                if !ru().has(&value.vocabulary_key()) {
                    missing.push(value.vocabulary_key());
                }
            }
        }
        let mut missing = Vec::new();
        check(calendar::ActivityKind::ALL, &mut missing);
        check(calendar::Direction::ALL, &mut missing);
        check(calendar::Format::ALL, &mut missing);
        check(calendar::Visibility::ALL, &mut missing);
        check(calendar::ActivityStatus::ALL, &mut missing);
        check(calendar::registration::RegistrationState::ALL, &mut missing);
        check(booking::ResourceKind::ALL, &mut missing);
        check(booking::ApprovalPolicy::ALL, &mut missing);
        check(booking::Access::ALL, &mut missing);
        check(booking::Rule::ALL, &mut missing);
        check(booking::OccurrenceState::ALL, &mut missing);
        check(agreement::AgreementKind::ALL, &mut missing);
        check(agreement::PartyRole::ALL, &mut missing);
        check(agreement::PartKind::ALL, &mut missing);
        check(agreement::PledgePeriod::ALL, &mut missing);
        check(agreement::State::ALL, &mut missing);
        check(directory::OrgKind::ALL, &mut missing);
        check(directory::Role::ALL, &mut missing);
        check(session::Origin::ALL, &mut missing);
        check(session::EndReason::ALL, &mut missing);
        check(report::Dimension::ALL, &mut missing);
        check(report::Indicator::ALL, &mut missing);
        check(changes::EntityKind::ALL, &mut missing);
        check(changes::Operation::ALL, &mut missing);
        check(notify::Kind::ALL, &mut missing);
        check(notify::Delivery::ALL, &mut missing);
        check(notify::Channel::ALL, &mut missing);
        check(edufed_domain::mentoring::GrowthKind::ALL, &mut missing);
        check(edufed_domain::trials::TrialState::ALL, &mut missing);
        check(edufed_domain::trials::ReviewDecision::ALL, &mut missing);
        check(edufed_domain::trials::TrialStep::ALL, &mut missing);
        check(
            edufed_domain::designations::DesignationKind::ALL,
            &mut missing,
        );
        check(
            edufed_domain::designations::DesignationLevel::ALL,
            &mut missing,
        );
        assert!(missing.is_empty(), "ru.ftl lacks {missing:?}");
    }

    #[test]
    fn numbers_agree_with_their_nouns() {
        let ru = ru();
        assert_eq!(ru.count("pupils", 1), "1 ученик");
        assert_eq!(ru.count("pupils", 3), "3 ученика");
        assert_eq!(ru.count("pupils", 11), "11 учеников");
        assert_eq!(ru.count("places", 21), "21 место");
        assert_eq!(ru.grades(9, 11), "9–11 классы");
        assert_eq!(ru.grades(7, 7), "7 класс");
        assert_eq!(ru.grades(0, 0), "все классы");
    }

    #[test]
    fn all_day_occurrences_read_as_their_day() {
        let at = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 12, 11, 17, 0, 0).unwrap();
        assert_eq!(
            ru().all_day(at, chrono_tz::Asia::Tomsk),
            "сб, 12 декабря 2026, весь день"
        );
    }

    #[test]
    fn instants_read_in_the_zone_of_the_record() {
        let ru = ru();
        let at = "2026-12-12T10:00:00Z".parse::<DateTime<Utc>>().unwrap();
        let tomsk = chrono_tz::Asia::Tomsk;
        assert_eq!(
            ru.instant(at, tomsk, Some(tomsk)),
            "сб, 12 декабря 2026, 17:00"
        );
        assert_eq!(
            ru.instant(at, tomsk, Some(chrono_tz::Europe::Moscow)),
            "сб, 12 декабря 2026, 17:00, Томск (UTC+7)"
        );
        assert_eq!(ru.month(2026, 12), "декабрь 2026");
        assert_eq!(
            ru.name(edufed_domain::calendar::ActivityKind::OlympiadPrepCourse),
            "Подготовка к олимпиаде"
        );
        assert_eq!(ru.proto_name("DIRECTION_CAREER_GUIDANCE"), "Профориентация");
    }
}
