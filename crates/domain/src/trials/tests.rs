use chrono::{DateTime, TimeZone as _, Utc};

use super::*;

fn programme() -> TrialProgramme {
    TrialProgramme {
        profession: "  Инженер-конструктор  ".into(),
        direction: Some(Direction::CareerGuidance),
        goals: "Познакомить с профессией".into(),
        content: "1. Чертёж детали.\r\n2. Модель в САПР.\r\n3. Печать на 3D-принтере.".into(),
        hours: 12,
        weeks: 3,
        grades: GradeRange::new("grades", 7, 8).unwrap(),
        workplaces: 12,
        responsible: Responsible {
            name: "Сидоров О. П.".into(),
            position: Some("мастер участка".into()),
            contact: None,
        },
        safety: "Инструктаж по технике безопасности, спецодежда выдаётся.".into(),
    }
}

/// A fixed instant: the domain's tests read no clock.
fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 9, 1, 9, 0, 0).unwrap()
}

fn draft() -> Trial {
    Trial::draft(TrialId::generate(), OrgId::generate(), programme(), at()).unwrap()
}

#[test]
fn a_programme_names_the_field_at_fault() {
    let ok = programme().validate().unwrap();
    assert_eq!(ok.profession, "Инженер-конструктор");
    assert!(!ok.content.contains('\r'));
    for (field, bad) in [
        (
            "hours",
            TrialProgramme {
                hours: 0,
                ..programme()
            },
        ),
        (
            "weeks",
            TrialProgramme {
                weeks: MAX_WEEKS + 1,
                ..programme()
            },
        ),
        (
            "workplaces",
            TrialProgramme {
                workplaces: MAX_WORKPLACES + 1,
                ..programme()
            },
        ),
        (
            "content",
            TrialProgramme {
                content: " ".into(),
                ..programme()
            },
        ),
        (
            "profession",
            TrialProgramme {
                profession: String::new(),
                ..programme()
            },
        ),
    ] {
        assert_eq!(bad.validate().unwrap_err().field, field);
    }
    let mut unnamed = programme();
    unnamed.responsible.name = " ".into();
    assert_eq!(unnamed.validate().unwrap_err().field, "responsible.name");
}

#[test]
fn a_returned_trial_is_revised_and_approved_on_its_second_revision() {
    let reviewer = PersonId::generate();
    let now = at();
    let trial = draft();
    assert!(!trial.listed());
    let submitted = trial.submit(now).unwrap();
    assert_eq!(submitted.state, TrialState::Submitted);
    // Returning says what to change.
    let silent = submitted.reviewed(ReviewDecision::Return, " ", reviewer.clone(), now);
    assert!(matches!(silent, Err(Error::Invalid(ref e)) if e.field == "comment"));
    let returned = submitted
        .reviewed(
            ReviewDecision::Return,
            "Уточните требования безопасности",
            reviewer.clone(),
            now,
        )
        .unwrap();
    assert_eq!(returned.state, TrialState::Returned);
    assert!(!returned.listed());
    let revised = returned
        .revise(
            TrialProgramme {
                safety: "Инструктаж, очки и перчатки, не моложе 13 лет.".into(),
                ..programme()
            },
            now,
        )
        .unwrap();
    assert_eq!(revised.revision, 2);
    let approved = revised
        .submit(now)
        .unwrap()
        .reviewed(ReviewDecision::Approve, "", reviewer.clone(), now)
        .unwrap();
    assert!(approved.listed());
    assert_eq!(
        approved
            .reviews
            .iter()
            .map(|r| (r.revision, r.decision))
            .collect::<Vec<_>>(),
        [(1, ReviewDecision::Return), (2, ReviewDecision::Approve)]
    );
    assert_eq!(approved.version, trial.version + 5);

    // Revising an approved trial takes it out of the bank until approved.
    let again = approved.revise(programme(), now).unwrap();
    assert_eq!((again.state, again.revision), (TrialState::Submitted, 3));
    assert!(!again.listed());
}

#[test]
fn steps_the_state_does_not_allow_are_refused() {
    let now = at();
    let reviewer = PersonId::generate();
    let trial = draft();
    let early = trial.reviewed(ReviewDecision::Approve, "", reviewer.clone(), now);
    assert!(matches!(
        early,
        Err(Error::WrongState {
            trial_state: TrialState::Draft,
            trial_step: TrialStep::Review
        })
    ));
    let refused = trial
        .submit(now)
        .unwrap()
        .reviewed(
            ReviewDecision::Refuse,
            "Не профессиональная проба",
            reviewer,
            now,
        )
        .unwrap();
    assert!(refused.submit(now).is_err());
    assert!(refused.revise(programme(), now).is_err());
    assert!(refused.withdrawn(now).is_err());
    let withdrawn = draft().withdrawn(now).unwrap();
    assert!(!withdrawn.listed());
    assert!(withdrawn.submit(now).is_err());
    assert!(matches!(
        draft().at_version(Some(7)),
        Err(Error::Version { actual: 1, .. })
    ));
}
