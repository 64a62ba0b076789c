use chrono::{NaiveDate, TimeZone as _, Utc};

use super::*;

fn day(m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(if m >= 9 { 2025 } else { 2026 }, m, d).unwrap()
}

fn programme(form: MentoringForm, partners: Vec<OrgId>) -> Programme {
    let owner = OrgId::generate();
    let at = Utc.with_ymd_and_hms(2025, 9, 1, 5, 0, 0).unwrap();
    Programme {
        id: ProgrammeId::generate(),
        details: ProgrammeDetails {
            title: "Молодой учитель".into(),
            form,
            form_label: None,
            partners,
            agreement: None,
            starts_on: day(9, 1),
            ends_on: day(5, 31),
            goals: String::new(),
            coordinator: PersonId::generate(),
            criteria: vec![
                Criterion {
                    key: "success".into(),
                    title: "Профессиональная успешность".into(),
                    scale: 5,
                },
                Criterion {
                    key: "satisfaction".into(),
                    title: "Удовлетворённость".into(),
                    scale: 5,
                },
            ],
        }
        .validate(&owner)
        .unwrap(),
        owner,
        version: 1,
        created_at: at,
        updated_at: at,
    }
}

fn adult(org: &OrgId) -> Adult {
    Adult {
        name: "Ольга Петровна Смирнова".into(),
        position: "учитель математики".into(),
        org_id: org.clone(),
        person_id: None,
    }
}

#[test]
fn a_pupil_code_is_never_a_name_or_a_contact() {
    for good in ["P-0042", "9a-17", "x1"] {
        assert_eq!(pupil_code("code", good).unwrap(), good);
    }
    for bad in [
        "Иванов Петя",
        "ivanov",
        "petya@mail.ru",
        "89001234567",
        "+79001234567",
        "a",
        "",
    ] {
        let error = pupil_code("mentees[0].code", bad).unwrap_err();
        assert_eq!(error.field, "mentees[0].code", "{bad}");
    }
}

#[test]
fn pupils_are_mentored_by_code_or_cohort_only_where_their_school_is_kept() {
    let school = OrgId::generate();
    let p = programme(MentoringForm::StudentPupil, vec![school.clone()]);
    let pair = |mentees| NewPair {
        mentor: Mentor::Adult(adult(&p.owner)),
        mentees,
        starts_on: day(10, 1),
        ends_on: None,
    };
    let named = pair(vec![Mentee::Colleague(adult(&school))])
        .validate(&p, 0, |_| true)
        .unwrap_err();
    assert_eq!(named.field(), Some("mentees[0].name"));
    let coded = || {
        pair(vec![Mentee::Pupil(Pupil {
            org_id: school.clone(),
            code: "P-01".into(),
        })])
    };
    assert!(coded().validate(&p, 0, |_| true).is_ok());
    let elsewhere = coded().validate(&p, 0, |_| false).unwrap_err();
    assert!(matches!(elsewhere, Error::CodeElsewhere { .. }));
    assert_eq!(elsewhere.field(), Some("mentees[0].code"));
    let cohort = pair(vec![Mentee::Cohort {
        org_id: school.clone(),
        grades: GradeRange::new("grades", 8, 9).unwrap(),
        headcount: 6,
    }])
    .validate(&p, 0, |_| false)
    .unwrap();
    assert_eq!(cohort.mentees[0].headcount(), 6);
    let outsider = pair(vec![Mentee::Pupil(Pupil {
        org_id: OrgId::generate(),
        code: "P-02".into(),
    })])
    .validate(&p, 0, |_| true)
    .unwrap_err();
    assert_eq!(outsider.field(), Some("mentees[0].organization"));
}

#[test]
fn colleagues_are_not_pupils() {
    let p = programme(MentoringForm::YoungTeacher, vec![]);
    let error = NewPair {
        mentor: Mentor::Adult(adult(&p.owner)),
        mentees: vec![Mentee::Pupil(Pupil {
            org_id: p.owner.clone(),
            code: "P-1".into(),
        })],
        starts_on: day(9, 15),
        ends_on: None,
    }
    .validate(&p, 0, |_| true)
    .unwrap_err();
    assert_eq!(error.field(), Some("mentees[0].kind"));
}

fn formed(p: &Programme) -> Pair {
    let at = Utc.with_ymd_and_hms(2025, 9, 1, 5, 0, 0).unwrap();
    let new = NewPair {
        mentor: Mentor::Adult(adult(&p.owner)),
        mentees: vec![Mentee::Colleague(adult(&p.owner))],
        starts_on: day(9, 15),
        ends_on: None,
    }
    .validate(p, 0, |_| true)
    .unwrap();
    Pair {
        id: PairId::generate(),
        programme_id: p.id.clone(),
        owner: p.owner.clone(),
        form: p.details.form,
        mentor: new.mentor,
        mentees: new.mentees,
        starts_on: new.starts_on,
        ends_on: None,
        state: PairState::Planned,
        reason: None,
        outcome: None,
        assessments: 0,
        version: 1,
        created_at: at,
        updated_at: at,
    }
}

#[test]
fn a_pair_moves_from_planned_to_its_end() {
    let p = programme(MentoringForm::YoungTeacher, vec![]);
    let at = Utc.with_ymd_and_hms(2025, 10, 1, 5, 0, 0).unwrap();
    let pair = formed(&p);
    let early = pair.clone().assessed(at).unwrap_err();
    assert!(matches!(
        early,
        Error::WrongState {
            pair_state: PairState::Planned,
            pair_transition: Transition::Assessed
        }
    ));
    let active = pair.start(day(9, 20), at).unwrap();
    assert_eq!(active.state, PairState::Active);
    assert_eq!(active.version, 2);
    let active = active.assessed(at).unwrap();
    assert_eq!(active.assessments, 1);
    let outcome = Outcome {
        result: OutcomeResult::Met,
        comment: "Провела открытый урок".into(),
        profile: None,
    };
    let done = active
        .clone()
        .close(
            Close::Complete {
                on: day(5, 25),
                outcome: outcome.clone(),
            },
            at,
        )
        .unwrap();
    assert_eq!(done.state, PairState::Completed);
    assert_eq!(done.outcome, Some(outcome.clone()));
    assert!(done.clone().start(day(9, 1), at).is_err());
    assert!(
        done.clone()
            .close(
                Close::EndEarly {
                    on: day(5, 26),
                    reason: "переезд".into(),
                    outcome: None,
                },
                at,
            )
            .is_err()
    );
    let before_start = active
        .close(
            Close::Complete {
                on: day(9, 1),
                outcome,
            },
            at,
        )
        .unwrap_err();
    assert_eq!(before_start.field(), Some("on"));
    let shared = done.shared();
    assert_eq!(shared.organizations, vec![p.owner.clone()]);
    assert_eq!(shared.outcome.unwrap().result, OutcomeResult::Met);
}

#[test]
fn scores_follow_the_card() {
    let p = programme(MentoringForm::YoungTeacher, vec![]);
    let score = |criterion: &str, value| Score {
        criterion: criterion.into(),
        value,
    };
    let new = |scores| NewAssessment {
        checkpoint: "I полугодие".into(),
        on: day(12, 20),
        scores,
        comment: String::new(),
    };
    let ok = new(vec![score("satisfaction", 4), score("success", 3)])
        .validate(&p.details.criteria)
        .unwrap();
    assert_eq!(ok.scores[0].criterion, "success");
    let cases = [
        (vec![score("success", 3)], "scores"),
        (
            vec![score("success", 6), score("satisfaction", 4)],
            "scores[0].value",
        ),
        (
            vec![score("growth", 3), score("satisfaction", 4)],
            "scores[0].criterion",
        ),
        (
            vec![score("success", 3), score("success", 4)],
            "scores[1].criterion",
        ),
    ];
    for (scores, field) in cases {
        assert_eq!(
            new(scores).validate(&p.details.criteria).unwrap_err().field,
            field
        );
    }
}

#[test]
fn another_form_is_named() {
    let mut details = programme(MentoringForm::YoungTeacher, vec![]).details;
    details.form = MentoringForm::Other;
    let owner = OrgId::generate();
    assert_eq!(
        details.clone().validate(&owner).unwrap_err().field,
        "form_label"
    );
    details.form_label = Some("ученик – профориентационная практика".into());
    assert!(details.clone().validate(&owner).is_ok());
    details.partners = vec![owner.clone()];
    assert_eq!(details.validate(&owner).unwrap_err().field, "partners[0]");
}

#[test]
fn a_programme_holds_a_bounded_register() {
    let p = programme(MentoringForm::YoungTeacher, vec![]);
    let pair = || NewPair {
        mentor: Mentor::Adult(adult(&p.owner)),
        mentees: vec![Mentee::Colleague(adult(&p.owner))],
        starts_on: day(9, 15),
        ends_on: None,
    };
    assert!(pair().validate(&p, MAX_PAIRS - 1, |_| true).is_ok());
    let full = pair().validate(&p, MAX_PAIRS, |_| true).unwrap_err();
    assert!(matches!(full, Error::ProgrammeFull { max: MAX_PAIRS }));
    assert_eq!(
        full.error_code(),
        crate::error::ErrorCode::FailedPrecondition
    );
}
