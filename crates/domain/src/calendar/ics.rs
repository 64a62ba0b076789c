//! RFC 5545 iCalendar rendering of activities, for the feeds school staff
//! subscribe to from their calendar apps.
//!
//! Each activity is one VEVENT with a stable UID and a SEQUENCE that grows
//! with its version; a recurring one carries RRULE, EXDATE and RDATE, and
//! each single-occurrence change is a VEVENT with the same UID and a
//! RECURRENCE-ID. Times are local with TZID, and every zone used gets a
//! VTIMEZONE built from its real offset history over the years the events
//! span (so Tomsk's move from UTC+6 to UTC+7 in 2016 is in the feed).

use std::collections::BTreeSet;

use chrono::{
    DateTime, Datelike as _, Duration, NaiveDate, NaiveDateTime, Offset as _, TimeZone as _, Utc,
};
use chrono_tz::OffsetComponents as _;

use super::{Activity, ActivityStatus, OverrideChange, Place};
use crate::stable::Named as _;
use crate::time::TimeZone;

/// The product identifier of the feeds.
const PRODID: &str = "-//edufed//edufed calendar//RU";

/// An activity in a feed, with the end of its last occurrence (which the
/// store knows without expanding the schedule).
#[derive(Debug, Clone)]
pub struct FeedEntry {
    pub activity: Activity,
    /// When its last occurrence ends.
    pub last_end: DateTime<Utc>,
}

/// The names people read for vocabulary values, by their key in the
/// vocabulary (`activity-kind-course` → «Курс»): the catalogue's, which
/// the domain does not know.
pub type Names<'a> = &'a dyn Fn(&str) -> String;

/// A calendar of `entries` named `name`, stamped at `now`; kinds and
/// directions in CATEGORIES by their `names`.
pub fn render(name: &str, entries: &[FeedEntry], now: DateTime<Utc>, names: Names<'_>) -> String {
    let mut out = Lines::default();
    out.line("BEGIN:VCALENDAR");
    out.line("VERSION:2.0");
    out.line(&format!("PRODID:{PRODID}"));
    out.line("CALSCALE:GREGORIAN");
    out.line("METHOD:PUBLISH");
    out.property("X-WR-CALNAME", &escape(name));
    let zones: BTreeSet<&'static str> = entries
        .iter()
        .filter(|e| !e.activity.details.schedule.all_day)
        .map(|e| e.activity.details.schedule.time_zone.name())
        .collect();
    for zone in zones {
        let (first, last) = year_span(entries, zone);
        if let Ok(zone) = TimeZone::parse("time_zone", zone) {
            vtimezone(&mut out, zone, first, last);
        }
    }
    for entry in entries {
        vevent(&mut out, &entry.activity, now, names);
    }
    out.line("END:VCALENDAR");
    out.text
}

/// One busy interval of a resource's feed.
#[derive(Debug, Clone)]
pub struct BusyEntry {
    /// A stable id for the interval.
    pub uid: String,
    pub start: DateTime<Utc>,
    /// Excluded, as iCalendar's DTEND.
    pub end: DateTime<Utc>,
    /// What the viewer may see (purpose and headcount), or `None` for "busy".
    pub details: Option<String>,
}

/// A resource's busy time as a calendar.
pub fn render_busy(name: &str, busy: &[BusyEntry], now: DateTime<Utc>) -> String {
    let events: Vec<PlainEvent> = busy
        .iter()
        .map(|b| PlainEvent {
            uid: b.uid.clone(),
            start: b.start,
            end: b.end,
            summary: b.details.clone().unwrap_or_else(|| "busy".to_owned()),
            description: None,
            private: b.details.is_some(),
        })
        .collect();
    render_plain(name, &events, now)
}

/// An event with no schedule of its own: one interval, as said.
#[derive(Debug, Clone)]
pub struct PlainEvent {
    /// A stable id for the interval.
    pub uid: String,
    pub start: DateTime<Utc>,
    /// Excluded, as iCalendar's DTEND.
    pub end: DateTime<Utc>,
    pub summary: String,
    pub description: Option<String>,
    /// Shown to those the feed's key lets see it, not to everyone.
    pub private: bool,
}

/// Intervals as a calendar (a resource's busy time, a route's items).
pub fn render_plain(name: &str, events: &[PlainEvent], now: DateTime<Utc>) -> String {
    let mut out = Lines::default();
    out.line("BEGIN:VCALENDAR");
    out.line("VERSION:2.0");
    out.line(&format!("PRODID:{PRODID}"));
    out.line("CALSCALE:GREGORIAN");
    out.line("METHOD:PUBLISH");
    out.property("X-WR-CALNAME", &escape(name));
    for e in events {
        out.line("BEGIN:VEVENT");
        out.property("UID", &format!("{}@edufed", e.uid));
        out.property("DTSTAMP", &utc_stamp(now));
        out.property("DTSTART", &utc_stamp(e.start));
        out.property("DTEND", &utc_stamp(e.end));
        out.property("SUMMARY", &escape(&e.summary));
        if let Some(description) = &e.description {
            out.property("DESCRIPTION", &escape(description));
        }
        out.property("TRANSP", "OPAQUE");
        out.property("CLASS", if e.private { "PRIVATE" } else { "PUBLIC" });
        out.line("END:VEVENT");
    }
    out.line("END:VCALENDAR");
    out.text
}

/// CRLF lines folded at 75 octets, never inside a UTF-8 character.
#[derive(Default)]
struct Lines {
    text: String,
}

impl Lines {
    fn line(&mut self, line: &str) {
        let mut width = 0;
        for c in line.chars() {
            let len = c.len_utf8();
            if width + len > 75 {
                self.text.push_str("\r\n ");
                width = 1;
            }
            self.text.push(c);
            width += len;
        }
        self.text.push_str("\r\n");
    }

    fn property(&mut self, name: &str, value: &str) {
        self.line(&format!("{name}:{value}"));
    }
}

/// TEXT escaping of RFC 5545 §3.3.11.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            '\r' => {}
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

fn utc_stamp(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

fn local_stamp(t: NaiveDateTime) -> String {
    t.format("%Y%m%dT%H%M%S").to_string()
}

fn date_stamp(t: NaiveDateTime) -> String {
    t.format("%Y%m%d").to_string()
}

/// A DTSTART-like property: a date for all-day events, else local with TZID.
fn when(out: &mut Lines, name: &str, activity: &Activity, t: NaiveDateTime) {
    let schedule = &activity.details.schedule;
    if schedule.all_day {
        out.line(&format!("{name};VALUE=DATE:{}", date_stamp(t)));
    } else {
        out.line(&format!(
            "{name};TZID={}:{}",
            schedule.time_zone.name(),
            local_stamp(t)
        ));
    }
}

/// With a date-valued DTSTART, RFC 5545 wants UNTIL as a date too: the
/// local date of the rule's UNTIL instant.
fn until_as_date(rule: &str, zone: TimeZone) -> String {
    rule.split(';')
        .map(|part| match part.split_once('=') {
            Some((key, value)) if key.eq_ignore_ascii_case("UNTIL") && value.contains('T') => {
                let parsed =
                    NaiveDateTime::parse_from_str(value.trim_end_matches('Z'), "%Y%m%dT%H%M%S");
                match parsed {
                    Ok(t) if value.ends_with('Z') => {
                        format!(
                            "UNTIL={}",
                            Utc.from_utc_datetime(&t)
                                .with_timezone(&zone.tz())
                                .format("%Y%m%d")
                        )
                    }
                    Ok(t) => format!("UNTIL={}", t.format("%Y%m%d")),
                    Err(_) => part.to_owned(),
                }
            }
            _ => part.to_owned(),
        })
        .collect::<Vec<_>>()
        .join(";")
}

fn vevent(out: &mut Lines, activity: &Activity, now: DateTime<Utc>, names: Names<'_>) {
    let details = &activity.details;
    let schedule = &details.schedule;
    let uid = format!("{}@edufed", activity.id);
    let status = match activity.status {
        ActivityStatus::Cancelled => "CANCELLED",
        ActivityStatus::Draft => "TENTATIVE",
        ActivityStatus::Published | ActivityStatus::Completed => "CONFIRMED",
    };
    let duration = schedule.end - schedule.start;
    let common = |out: &mut Lines| {
        out.property("DTSTAMP", &utc_stamp(now));
        out.property("SEQUENCE", &activity.version.to_string());
        out.property("SUMMARY", &escape(&details.title));
        if !details.description.is_empty() {
            out.property("DESCRIPTION", &escape(&details.description));
        }
        let location = match &details.place {
            Place::Address(a) => Some(a.clone()),
            Place::Online(url) => Some(url.clone()),
            Place::Resource(r) => Some(format!("resource {r}")),
            Place::AtPublisher | Place::Outbound => None,
        };
        // Held at several venues: each of them, in order.
        let location = if details.venues.is_empty() {
            location
        } else {
            Some(
                details
                    .venues
                    .iter()
                    .map(|v| v.place.as_str())
                    .collect::<Vec<_>>()
                    .join("; "),
            )
        };
        if let Some(location) = location {
            out.property("LOCATION", &escape(&location));
        }
        if let Place::Online(url) = &details.place {
            out.property("URL", url);
        }
        let mut categories = vec![names(&details.kind.vocabulary_key())];
        categories.extend(details.direction.map(|d| names(&d.vocabulary_key())));
        categories.extend(details.subjects.iter().cloned());
        out.property(
            "CATEGORIES",
            &categories
                .iter()
                .map(|c| escape(c))
                .collect::<Vec<_>>()
                .join(","),
        );
        if let Some(c) = &details.coordinator {
            let contact = [Some(c.name.clone()), c.position.clone(), c.contact.clone()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(", ");
            out.property("CONTACT", &escape(&contact));
        }
        out.property("LAST-MODIFIED", &utc_stamp(activity.updated_at));
        out.property("CREATED", &utc_stamp(activity.created_at));
    };

    // A single event carries its own change: there is no series to override.
    let single_change = schedule
        .recurrence
        .is_none()
        .then(|| {
            activity
                .overrides
                .iter()
                .find(|o| o.original_start == schedule.start)
        })
        .flatten()
        .map(|o| &o.change);
    let (start, end, status) = match single_change {
        Some(OverrideChange::Moved { start, end }) => (*start, *end, status),
        Some(OverrideChange::Cancelled) => (schedule.start, schedule.end, "CANCELLED"),
        None => (schedule.start, schedule.end, status),
    };
    out.line("BEGIN:VEVENT");
    out.property("UID", &uid);
    when(out, "DTSTART", activity, start);
    when(out, "DTEND", activity, end);
    if let Some(recurrence) = &schedule.recurrence {
        let rule = recurrence.rule.trim();
        let rule = rule.strip_prefix("RRULE:").unwrap_or(rule);
        let rule = if schedule.all_day {
            until_as_date(rule, schedule.time_zone)
        } else {
            rule.to_owned()
        };
        out.property("RRULE", &rule);
        for exdate in &recurrence.exdates {
            when(out, "EXDATE", activity, *exdate);
        }
        for rdate in &recurrence.rdates {
            when(out, "RDATE", activity, *rdate);
        }
    }
    out.property("STATUS", status);
    common(out);
    out.line("END:VEVENT");

    let series_overrides = if schedule.recurrence.is_some() {
        &activity.overrides[..]
    } else {
        &[]
    };
    for change in series_overrides {
        out.line("BEGIN:VEVENT");
        out.property("UID", &uid);
        when(out, "RECURRENCE-ID", activity, change.original_start);
        match &change.change {
            OverrideChange::Cancelled => {
                when(out, "DTSTART", activity, change.original_start);
                when(out, "DTEND", activity, change.original_start + duration);
                out.property("STATUS", "CANCELLED");
            }
            OverrideChange::Moved { start, end } => {
                when(out, "DTSTART", activity, *start);
                when(out, "DTEND", activity, *end);
                out.property("STATUS", status);
            }
        }
        common(out);
        out.line("END:VEVENT");
    }
}

/// The years the activities in `zone` touch, with a year's margin each
/// side; at most the 60 years up to the latest, where current rules matter.
fn year_span(entries: &[FeedEntry], zone: &str) -> (i32, i32) {
    let mut first = i32::MAX;
    let mut last = i32::MIN;
    for entry in entries
        .iter()
        .filter(|e| e.activity.details.schedule.time_zone.name() == zone)
    {
        first = first.min(entry.activity.details.schedule.start.year());
        last = last
            .max(entry.last_end.year())
            .max(entry.activity.details.schedule.end.year());
    }
    if first > last {
        return (1970, 1970);
    }
    ((first - 1).max(last + 1 - 60), last + 1)
}

fn offset_line(seconds: i32) -> String {
    let sign = if seconds < 0 { '-' } else { '+' };
    let s = seconds.abs();
    if s % 60 == 0 {
        format!("{sign}{:02}{:02}", s / 3600, (s / 60) % 60)
    } else {
        format!("{sign}{:02}{:02}{:02}", s / 3600, (s / 60) % 60, s % 60)
    }
}

/// A VTIMEZONE with every offset change of `zone` from `first` to `last`.
fn vtimezone(out: &mut Lines, zone: TimeZone, first: i32, last: i32) {
    let tz = zone.tz();
    let offset_at = |t: DateTime<Utc>| {
        let o = tz.offset_from_utc_datetime(&t.naive_utc());
        (
            o.fix().local_minus_utc(),
            o.dst_offset() != chrono::Duration::zero(),
            o.to_string(),
        )
    };
    let start = NaiveDate::from_ymd_opt(first, 1, 1)
        .map(|d| Utc.from_utc_datetime(&d.and_time(chrono::NaiveTime::MIN)))
        .unwrap_or_else(Utc::now);
    let end = NaiveDate::from_ymd_opt(last + 1, 1, 1)
        .map(|d| Utc.from_utc_datetime(&d.and_time(chrono::NaiveTime::MIN)))
        .unwrap_or_else(Utc::now);
    // Offsets change at most a few times a year: sample daily, then find
    // each change to the second by bisection.
    let mut transitions = Vec::new();
    let mut day = start;
    let mut before = offset_at(day);
    while day < end {
        let next = day + Duration::days(1);
        let after = offset_at(next);
        if after.0 != before.0 || after.1 != before.1 {
            let (mut lo, mut hi) = (day, next);
            while hi - lo > Duration::seconds(1) {
                let mid = lo + (hi - lo) / 2;
                if offset_at(mid).0 == before.0 && offset_at(mid).1 == before.1 {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            transitions.push((hi, before.clone(), after.clone()));
        }
        before = after;
        day = next;
    }
    out.line("BEGIN:VTIMEZONE");
    out.property("TZID", zone.name());
    let (initial, _, initial_name) = offset_at(start);
    let component =
        |out: &mut Lines, dst: bool, at: NaiveDateTime, from: i32, to: i32, name: &str| {
            let kind = if dst { "DAYLIGHT" } else { "STANDARD" };
            out.line(&format!("BEGIN:{kind}"));
            out.property("DTSTART", &local_stamp(at));
            out.property("TZOFFSETFROM", &offset_line(from));
            out.property("TZOFFSETTO", &offset_line(to));
            out.property("TZNAME", &escape(name));
            out.line(&format!("END:{kind}"));
        };
    // The offset in force at the start of the span.
    let initial_dst = offset_at(start).1;
    component(
        out,
        initial_dst,
        (start + Duration::seconds(i64::from(initial))).naive_utc(),
        initial,
        initial,
        &initial_name,
    );
    for (at, from, to) in transitions {
        let local_before = (at + Duration::seconds(i64::from(from.0))).naive_utc();
        component(out, to.1, local_before, from.0, to.0, &to.2);
    }
    out.line("END:VTIMEZONE");
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::calendar::{
        ActivityDetails, ActivityKind, Audience, Format, GradeRange, Override, Recurrence,
        RegistrationWindow, Schedule, Visibility,
    };
    use crate::ids::{ActivityId, OrgId};

    /// A weekly network lesson, for tests.
    pub(crate) fn activity() -> Activity {
        let start = NaiveDate::from_ymd_opt(2016, 5, 17)
            .unwrap()
            .and_hms_opt(14, 0, 0)
            .unwrap();
        Activity {
            id: ActivityId::generate(),
            publisher: OrgId::generate(),
            details: ActivityDetails {
                title: "Технология; практика, 7–8 классы".into(),
                description: "Занятия в лабораториях\nтехнопарка".into(),
                kind: ActivityKind::NetworkLesson,
                direction: None,
                subjects: vec!["технология".into()],
                audience: Audience {
                    students: Some(GradeRange::new("g", 7, 8).unwrap()),
                    teachers: false,
                    parents: false,
                    university_students: false,
                },
                format: Format::InPerson,
                place: Place::Address("Томск, ул. Белозерская, 12/1".into()),
                coordinator: None,
                partners: vec![],
                capacity: Some(16),
                quotas: vec![],
                registration: RegistrationWindow::default(),
                visibility: Visibility::Public,
                agreement_id: None,
                schedule: Schedule {
                    time_zone: TimeZone::parse("tz", "Asia/Tomsk").unwrap(),
                    start,
                    end: start + Duration::minutes(90),
                    all_day: false,
                    recurrence: Some(Recurrence {
                        rule: "FREQ=WEEKLY;COUNT=4".into(),
                        exdates: vec![start + Duration::weeks(1)],
                        rdates: vec![],
                    }),
                },
                mentoring: None,
                trial: None,
                venues: Vec::new(),
            },
            overrides: vec![Override {
                original_start: start + Duration::weeks(2),
                change: OverrideChange::Cancelled,
            }],
            status: ActivityStatus::Published,
            version: 3,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn renders_events_zones_and_overrides() {
        let a = activity();
        let entry = FeedEntry {
            last_end: a.occurrences().unwrap().last().unwrap().end,
            activity: a.clone(),
        };
        let text = render("ТУСУР", &[entry], Utc::now(), &|key: &str| {
            format!("«{key}»")
        });
        assert!(text.starts_with("BEGIN:VCALENDAR\r\n"));
        assert!(text.ends_with("END:VCALENDAR\r\n"));
        assert!(text.contains("DTSTART;TZID=Asia/Tomsk:20160517T140000"));
        assert!(text.contains("RRULE:FREQ=WEEKLY;COUNT=4"));
        assert!(text.contains("EXDATE;TZID=Asia/Tomsk:20160524T140000"));
        assert!(text.contains("RECURRENCE-ID;TZID=Asia/Tomsk:20160531T140000"));
        assert!(text.contains("STATUS:CANCELLED"));
        assert!(text.contains("SEQUENCE:3"));
        assert!(text.contains(&format!("UID:{}@edufed", a.id)));
        assert!(text.contains("SUMMARY:Технология\\; практика\\, 7–8 классы"));
        // Kind and direction by the names the caller gives their keys.
        let categories = text
            .split("\r\n")
            .find(|l| l.starts_with("CATEGORIES:"))
            .unwrap();
        assert!(
            categories.starts_with(&format!("CATEGORIES:«{}»", a.details.kind.vocabulary_key())),
            "{categories}"
        );
        // Tomsk's 2016 change from +06 to +07 is in the VTIMEZONE.
        assert!(text.contains("TZOFFSETFROM:+0600"), "{text}");
        assert!(text.contains("TZOFFSETTO:+0700"));
        for line in text.split("\r\n") {
            assert!(line.len() <= 75, "folded: {line:?}");
        }
    }

    #[test]
    fn all_day_rules_end_on_a_date_and_single_events_carry_their_change() {
        let mut a = activity();
        a.details.schedule.all_day = true;
        a.details.schedule.start = NaiveDate::from_ymd_opt(2024, 2, 24)
            .unwrap()
            .and_time(chrono::NaiveTime::MIN);
        a.details.schedule.end = a.details.schedule.start + Duration::days(1);
        a.details.schedule.recurrence = Some(Recurrence {
            rule: "FREQ=YEARLY;BYMONTH=2;BYDAY=-1SA;UNTIL=20261231T170000Z".into(),
            exdates: vec![],
            rdates: vec![],
        });
        a.overrides.clear();
        let entry = FeedEntry {
            last_end: Utc::now(),
            activity: a.clone(),
        };
        let text = render("x", &[entry], Utc::now(), &|key: &str| key.to_owned());
        assert!(
            text.contains("RRULE:FREQ=YEARLY;BYMONTH=2;BYDAY=-1SA;UNTIL=20270101"),
            "{text}"
        );
        assert!(text.contains("DTSTART;VALUE=DATE:20240224"));
        assert!(!text.contains("VTIMEZONE"), "dates need no zone");

        let mut single = activity();
        single.details.schedule.recurrence = None;
        single.overrides = vec![Override {
            original_start: single.details.schedule.start,
            change: OverrideChange::Cancelled,
        }];
        let entry = FeedEntry {
            last_end: Utc::now(),
            activity: single,
        };
        let text = render("x", &[entry], Utc::now(), &|key: &str| key.to_owned());
        assert!(!text.contains("RECURRENCE-ID"));
        assert!(text.contains("STATUS:CANCELLED"));
    }
}
