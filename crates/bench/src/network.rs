use chrono::{Duration, NaiveDateTime};
use edufed_domain::calendar::{
    ActivityDetails, ActivityKind, Direction, GradeRange, Recurrence, Schedule,
};
use edufed_domain::changes::Actor;
use edufed_domain::directory::{Contacts, NewOrganization, OrgKind, Organization, Slug};
use edufed_domain::time::TimeZone;
use edufed_store::Store;

/// The activity kinds the benchmarks seed: all but a professional trial's
/// sessions (they belong to a programme in the trial bank) and a mentoring
/// meeting (it belongs to a pair), which the datasets do not seed; the
/// kinds the recorded figures were measured with.
pub fn seeded_kinds() -> Vec<ActivityKind> {
    ActivityKind::ALL
        .iter()
        .copied()
        .filter(|k| {
            !matches!(
                k,
                ActivityKind::ProfessionalTrial | ActivityKind::MentoringMeeting
            )
        })
        .collect()
}

/// Creates an organization as the node itself does (no caller to
/// authorize), `zone` an IANA name.
pub async fn organization(
    store: &Store,
    slug: &str,
    kind: OrgKind,
    full_name: &str,
    short_name: &str,
    city: &str,
    zone: &str,
) -> Organization {
    let new = NewOrganization {
        slug: Slug::parse("slug", slug).unwrap(),
        kind,
        full_name: full_name.into(),
        short_name: short_name.into(),
        city: city.into(),
        time_zone: TimeZone::parse("time_zone", zone).unwrap(),
        contacts: Contacts::default(),
        inn: None,
    };
    store
        .create_organization(new, &Actor::Node)
        .await
        .expect("organization")
}

/// The `i`th organization of a seeded network: `org-i`, named by its
/// number, so that a large network needs no list of names.
pub async fn numbered_organization(
    store: &Store,
    i: usize,
    kind: OrgKind,
    city: &str,
    zone: &str,
) -> Organization {
    let (full_name, short_name) = (format!("Организация {i}"), format!("Орг {i}"));
    organization(
        store,
        &format!("org-{i}"),
        kind,
        &full_name,
        &short_name,
        city,
        zone,
    )
    .await
}

/// A public in-person activity of the network for pupils of `grades`, held
/// at its publisher: what most of a network's calendar is.
pub fn activity(
    title: String,
    kind: ActivityKind,
    direction: Direction,
    grades: GradeRange,
    capacity: u32,
    agreement_id: Option<String>,
    schedule: Schedule,
) -> ActivityDetails {
    ActivityDetails {
        description: "Совместное мероприятие сети".into(),
        direction: Some(direction),
        capacity: Some(capacity),
        agreement_id,
        ..edufed_tests::pupils_activity(title, kind, grades, schedule)
    }
    .validate()
    .expect("valid activity")
}

/// `minutes` from `start` in `zone`, repeated by the RRULE `rule` if any.
pub fn schedule(
    zone: TimeZone,
    start: NaiveDateTime,
    minutes: i64,
    rule: Option<String>,
) -> Schedule {
    Schedule {
        time_zone: zone,
        start,
        end: start + Duration::minutes(minutes),
        all_day: false,
        recurrence: rule.map(|rule| Recurrence {
            rule,
            exdates: vec![],
            rdates: vec![],
        }),
    }
}
