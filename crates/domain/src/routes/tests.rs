use chrono::{DateTime, Utc};

use super::*;

fn at() -> DateTime<Utc> {
    "2026-09-01T08:00:00Z".parse().unwrap()
}

fn activity_item(title: &str, required: bool) -> ItemDraft {
    ItemDraft {
        title: title.into(),
        offering: Offering::Activity {
            activity: ActivityId::generate(),
            occurrence: None,
            venue: None,
        },
        required,
        hours: 0,
        note: String::new(),
    }
}

fn draft() -> TemplateDraft {
    TemplateDraft {
        title: "Инженерный профиль, 10 класс".into(),
        profile: "инженерный".into(),
        grade: 10,
        school_year: 2026,
        items: vec![
            activity_item("«Технология» в Кванториуме", true),
            activity_item("Проба «Инженер-конструктор»", true),
            activity_item("Проба «Сварщик»", false),
            activity_item("Профильная смена", false),
        ],
    }
}

fn facts(trial: bool, hours: u32) -> OfferingFacts {
    OfferingFacts {
        name: "offering".into(),
        org: OrgId::generate(),
        home: None,
        trial,
        hours,
    }
}

fn template() -> RouteTemplate {
    RouteTemplate::compose(
        RouteTemplateId::generate(),
        OrgId::generate(),
        draft().validate().unwrap(),
        vec![
            facts(false, 68),
            facts(true, 12),
            facts(true, 6),
            facts(false, 40),
        ],
        at(),
    )
}

fn cohort() -> RouteCohort {
    RouteCohort {
        code: "10И-2026".into(),
        headcount: 14,
        teacher: "Классный руководитель 10 «И»".into(),
        teacher_contact: None,
    }
}

#[test]
fn a_draft_naming_a_child_is_refused_at_the_field() {
    let mut named = draft();
    named.items[1].note = "Для Маши и Кирилла".into();
    assert_eq!(named.validate().unwrap_err().field, "items[1].note");
    let mut titled = draft();
    titled.title = "Маршрут Иванова Петра Сергеевича".into();
    assert_eq!(titled.validate().unwrap_err().field, "title");
    let mut coded = cohort();
    coded.code = "Petrov".into();
    assert_eq!(coded.validate().unwrap_err().field, "cohort.code");
    let mut empty = draft();
    empty.items.clear();
    assert_eq!(empty.validate().unwrap_err().field, "items");
}

#[test]
fn hours_come_from_the_offering_unless_stated() {
    let t = template();
    assert_eq!(t.hours(), (80, 126));
    assert_eq!(t.items[0].number, 1);
}

#[test]
fn electives_are_chosen_by_number() {
    let t = template();
    let route = Route::assign(&t, cohort(), &[3], at()).unwrap();
    let statuses: Vec<ItemStatus> = route.items.iter().map(|i| i.status).collect();
    assert_eq!(
        statuses,
        [
            ItemStatus::Planned,
            ItemStatus::Planned,
            ItemStatus::Planned,
            ItemStatus::NotChosen
        ]
    );
    assert_eq!(
        Route::assign(&t, cohort(), &[1], at()).unwrap_err().field,
        "electives[0]"
    );
    assert_eq!(
        Route::assign(&t, cohort(), &[3, 9], at())
            .unwrap_err()
            .field,
        "electives[1]"
    );
}

#[test]
fn trials_per_pupil_count_attended_trials() {
    let t = template();
    let route = Route::assign(&t, cohort(), &[3], at()).unwrap();
    let route = route
        .followed(2, Some(14), "все защитили работы", at())
        .unwrap();
    let route = route.followed(3, Some(7), "", at()).unwrap();
    let route = route.followed(1, None, "", at()).unwrap();
    assert_eq!(route.items[0].status, ItemStatus::Missed);
    let f = route.figures();
    assert_eq!(f.trial_visits, 21);
    assert!((f.trials_per_pupil - 1.5).abs() < 1e-9);
    assert_eq!((f.attended, f.chosen), (2, 3));
    assert_eq!(
        route
            .followed(4, Some(3), "", at())
            .unwrap_err()
            .to_string(),
        "invalid item: item 4 is not part of this cohort's route"
    );
    assert!(matches!(
        route.followed(2, Some(15), "", at()),
        Err(Error::Invalid(e)) if e.field == "attended"
    ));
}

#[test]
fn an_outcome_completes_the_route_within_the_cohort() {
    let route = Route::assign(&template(), cohort(), &[], at()).unwrap();
    let too_many = Outcome {
        profiles: vec![ProfileCount {
            profile: "инженерный".into(),
            count: 15,
        }],
        leavers: None,
        continuing: None,
    };
    assert!(route.concluded(too_many, at()).is_err());
    // Counts that overflow a u32 together are refused, not a panic.
    let huge = Outcome {
        profiles: vec![
            ProfileCount {
                profile: "инженерный".into(),
                count: u32::MAX,
            },
            ProfileCount {
                profile: "химико-биологический".into(),
                count: u32::MAX,
            },
        ],
        leavers: None,
        continuing: None,
    };
    assert!(matches!(
        route.concluded(huge, at()),
        Err(Error::Invalid(e)) if e.field == "outcome.profiles"
    ));
    let many = Outcome {
        profiles: (0..21)
            .map(|i| ProfileCount {
                profile: format!("профиль {i}"),
                count: 0,
            })
            .collect(),
        leavers: None,
        continuing: None,
    };
    assert!(route.concluded(many, at()).is_err());
    let outcome = Outcome {
        profiles: vec![
            ProfileCount {
                profile: "инженерный".into(),
                count: 11,
            },
            ProfileCount {
                profile: "естественно-научный".into(),
                count: 2,
            },
        ],
        leavers: Some(14),
        continuing: Some(11),
    };
    let done = route.concluded(outcome, at()).unwrap();
    assert_eq!(done.state, RouteState::Completed);
    assert!(matches!(
        done.followed(1, Some(1), "", at()),
        Err(Error::NotActive { .. })
    ));
}

#[test]
fn a_copy_is_next_year_s_template() {
    let t = template();
    let copy = t.copy_for(2027, at()).unwrap();
    assert_eq!(copy.school_year, 2027);
    assert_eq!(copy.copied_from.as_ref(), Some(&t.id));
    assert_ne!(copy.id, t.id);
    assert_eq!(copy.items, t.items);
}
