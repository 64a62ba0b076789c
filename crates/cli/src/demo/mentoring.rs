//! The seeds' mentoring, as the demo loads it: Lyceum 7's young teachers
//! with Gymnasium 24 over the last school year, with checkpoints and
//! outcomes (seed 002); Gymnasium 24's teachers leading pupils' project
//! teams this year (seed 000); МГМЛ's pupils mentored by МГТУ students,
//! across the hub and the university's node (seed 003). Adults are named
//! by initials; pupils are groups or codes, never names.

use anyhow::Context as _;
use chrono::{Datelike as _, NaiveDate};
use edufed_proto::v1 as pb;

use super::load::Admins;
use super::timing::school_year;

/// A programme of the demo.
struct Programme {
    owner: &'static str,
    title: &'static str,
    form: pb::MentoringForm,
    partners: &'static [&'static str],
    goals: &'static str,
    /// The school year it runs: 0 this one, -1 the last.
    year: i32,
    criteria: &'static [(&'static str, &'static str)],
    pairs: &'static [Pair],
}

/// A mentee of the demo.
enum Mentee {
    Colleague(&'static str, &'static str, &'static str),
    Cohort(&'static str, u32, u32),
    Pupil(&'static str, &'static str),
}

/// A pair of the demo, and how far it got.
struct Pair {
    mentor: (&'static str, &'static str, &'static str),
    mentees: &'static [Mentee],
    /// Checkpoints scored, each a score per criterion.
    checkpoints: &'static [&'static [u32]],
    end: End,
}

enum End {
    Open,
    Completed(pb::MentoringResult, &'static str, &'static str),
    Early(&'static str),
}

const CARD: &[(&str, &str)] = &[
    ("success", "Профессиональная успешность наставляемого"),
    ("satisfaction", "Удовлетворённость участием в программе"),
    ("growth", "Профессиональный рост наставника"),
];

const PROGRAMMES: &[Programme] = &[
    Programme {
        owner: "lyceum7-tomsk",
        title: "Школа молодого учителя",
        form: pb::MentoringForm::YoungTeacher,
        partners: &["gym24-tomsk"],
        goals: "Адаптация молодых специалистов лицея и гимназии; открытые уроки на фестивале \
                молодых специалистов и на «Дне наставника «Я – профессионал»».",
        year: -1,
        criteria: CARD,
        pairs: &[
            Pair {
                mentor: (
                    "lyceum7-tomsk",
                    "Смирнова О. П.",
                    "учитель математики высшей категории",
                ),
                mentees: &[Mentee::Colleague(
                    "lyceum7-tomsk",
                    "Ким А. С.",
                    "учитель математики, 1-й год",
                )],
                checkpoints: &[&[3, 4, 3], &[5, 5, 4]],
                end: End::Completed(
                    pb::MentoringResult::Met,
                    "Открытый урок на фестивале молодых специалистов",
                    "",
                ),
            },
            Pair {
                mentor: (
                    "lyceum7-tomsk",
                    "Орлов И. В.",
                    "учитель физики, муниципальный наставник",
                ),
                mentees: &[Mentee::Colleague(
                    "gym24-tomsk",
                    "Зуева Д. О.",
                    "учитель физики, 2-й год",
                )],
                checkpoints: &[&[3, 3, 4], &[4, 4, 4]],
                end: End::Completed(
                    pb::MentoringResult::Partly,
                    "Проектная работа с 8 классом начата, аттестация перенесена",
                    "",
                ),
            },
            Pair {
                mentor: ("lyceum7-tomsk", "Лебедева Н. И.", "учитель русского языка"),
                mentees: &[Mentee::Colleague(
                    "lyceum7-tomsk",
                    "Быков П. А.",
                    "учитель истории, 1-й год",
                )],
                checkpoints: &[&[2, 3, 3]],
                end: End::Early("Наставляемый перешёл в другую школу"),
            },
        ],
    },
    Programme {
        owner: "gym24-tomsk",
        title: "Учитель – ученик: проектные команды",
        form: pb::MentoringForm::TeacherProjectTeam,
        partners: &[],
        goals: "Сопровождение проектных команд 8–9 классов до защиты проектов на \
                городской научно-практической конференции.",
        year: 0,
        criteria: &[
            ("progress", "Продвижение проекта по плану"),
            ("independence", "Самостоятельность команды"),
        ],
        pairs: &[
            Pair {
                mentor: ("gym24-tomsk", "Петрова А. И.", "учитель информатики"),
                mentees: &[Mentee::Cohort("gym24-tomsk", 9, 5)],
                checkpoints: &[],
                end: End::Open,
            },
            Pair {
                mentor: ("gym24-tomsk", "Соколов М. Н.", "учитель биологии"),
                mentees: &[Mentee::Cohort("gym24-tomsk", 8, 4)],
                checkpoints: &[],
                end: End::Open,
            },
        ],
    },
    Programme {
        owner: "mgml",
        title: "Студент – ученик: физика и машиностроение с МГТУ",
        form: pb::MentoringForm::StudentPupil,
        partners: &["magtu"],
        goals: "Наставничество студентов МГТУ над учениками лицея: олимпиадная физика и \
                профессиональные пробы в машиностроении.",
        year: 0,
        criteria: &[
            ("interest", "Устойчивый интерес к профилю"),
            ("results", "Результаты олимпиад и проектов"),
        ],
        pairs: &[
            Pair {
                mentor: ("magtu", "Власов А. Д.", "студент 3 курса, машиностроение"),
                mentees: &[
                    Mentee::Pupil("mgml", "M-0917"),
                    Mentee::Pupil("mgml", "M-0918"),
                ],
                checkpoints: &[],
                end: End::Open,
            },
            Pair {
                mentor: ("magtu", "Галиева Р. Ф.", "студентка 4 курса, физика"),
                mentees: &[Mentee::Cohort("mgml", 10, 6)],
                checkpoints: &[],
                end: End::Open,
            },
        ],
    },
];

fn day(year: i32, month: u32, day: u32) -> anyhow::Result<NaiveDate> {
    NaiveDate::from_ymd_opt(year, month, day)
        .with_context(|| format!("no day {year}-{month}-{day}"))
}

fn participant(mentee: &Mentee) -> pb::MentoringParticipant {
    match *mentee {
        Mentee::Colleague(org, name, position) => pb::MentoringParticipant {
            kind: pb::MentoringParticipantKind::Adult.into(),
            organization: org.into(),
            name: name.into(),
            position: position.into(),
            ..Default::default()
        },
        Mentee::Cohort(org, grade, headcount) => pb::MentoringParticipant {
            kind: pb::MentoringParticipantKind::Cohort.into(),
            organization: org.into(),
            min_grade: grade,
            max_grade: grade,
            headcount,
            ..Default::default()
        },
        Mentee::Pupil(org, code) => pb::MentoringParticipant {
            kind: pb::MentoringParticipantKind::Pupil.into(),
            organization: org.into(),
            code: code.into(),
            ..Default::default()
        },
    }
}

/// Loads the programmes, their pairs, checkpoints and outcomes; a line
/// for the demo's summary.
pub(super) async fn load_mentoring(
    admins: &mut Admins<'_>,
    today: NaiveDate,
) -> anyhow::Result<String> {
    let (mut programmes, mut pairs, mut meetings_held) = (0, 0, 0);
    let mut lyceums = String::new();
    for seed in PROGRAMMES {
        let year = school_year(today) + seed.year;
        let conn = admins.of(seed.owner).await?;
        let coordinator = conn
            .directory()
            .who_am_i(pb::WhoAmIRequest {})
            .await
            .context("who is the owner's admin")?
            .into_inner()
            .person
            .context("the admin's person")?
            .id;
        let mut client = conn.mentoring();
        let programme = client
            .create_programme(pb::CreateProgrammeRequest {
                owner: seed.owner.into(),
                details: Some(pb::MentoringProgrammeDetails {
                    title: seed.title.into(),
                    form: seed.form.into(),
                    partners: seed.partners.iter().map(|p| (*p).to_owned()).collect(),
                    starts_on: day(year, 9, 1)?.to_string(),
                    ends_on: day(year + 1, 5, 31)?.to_string(),
                    goals: seed.goals.into(),
                    coordinator_id: coordinator,
                    criteria: seed
                        .criteria
                        .iter()
                        .map(|(key, title)| pb::MentoringCriterion {
                            key: (*key).into(),
                            title: (*title).into(),
                            scale: 5,
                        })
                        .collect(),
                    ..Default::default()
                }),
            })
            .await
            .with_context(|| format!("cannot create «{}»", seed.title))?
            .into_inner();
        programmes += 1;
        if seed.owner == "lyceum7-tomsk" {
            lyceums = programme.id.clone();
        }
        for pair in seed.pairs {
            let (org, name, position) = pair.mentor;
            let added = client
                .add_pair(pb::AddPairRequest {
                    programme_id: programme.id.clone(),
                    mentor: Some(participant(&Mentee::Colleague(org, name, position))),
                    mentees: pair.mentees.iter().map(participant).collect(),
                    starts_on: day(year, 9, 15)?.to_string(),
                    ends_on: String::new(),
                })
                .await
                .with_context(|| format!("cannot add {name}'s pair to «{}»", seed.title))?
                .into_inner();
            pairs += 1;
            client
                .start_pair(pb::StartPairRequest {
                    id: added.id.clone(),
                    expected_version: 0,
                    on: day(year, 9, 20)?.to_string(),
                })
                .await
                .context("cannot start a pair")?;
            let dates = [day(year, 12, 20)?, day(year + 1, 5, 20)?];
            for (scores, on) in pair.checkpoints.iter().zip(dates) {
                let half = if on.year() == year { "I" } else { "II" };
                client
                    .assess_pair(pb::AssessPairRequest {
                        pair_id: added.id.clone(),
                        checkpoint: format!("{half} полугодие {year}/{:02}", (year + 1) % 100),
                        on: on.to_string(),
                        scores: seed
                            .criteria
                            .iter()
                            .zip(scores.iter())
                            .map(|((key, _), value)| pb::MentoringScore {
                                criterion: (*key).into(),
                                value: *value,
                            })
                            .collect(),
                        comment: String::new(),
                    })
                    .await
                    .context("cannot assess a pair")?;
            }
            let close = match &pair.end {
                End::Open => None,
                End::Completed(result, comment, profile) => Some(pb::ClosePairRequest {
                    state: pb::PairState::Completed.into(),
                    on: day(year + 1, 5, 25)?.to_string(),
                    outcome: Some(pb::MentoringOutcome {
                        result: (*result).into(),
                        comment: (*comment).into(),
                        profile: (*profile).into(),
                    }),
                    ..Default::default()
                }),
                End::Early(reason) => Some(pb::ClosePairRequest {
                    state: pb::PairState::EndedEarly.into(),
                    on: day(year + 1, 2, 1)?.to_string(),
                    reason: (*reason).into(),
                    ..Default::default()
                }),
            };
            if matches!(pair.end, End::Open) {
                meetings(conn, seed, name, &programme.id, &added.id, today).await?;
                meetings_held += 1;
            }
            if let Some(close) = close {
                client
                    .close_pair(pb::ClosePairRequest {
                        id: added.id.clone(),
                        ..close
                    })
                    .await
                    .context("cannot close a pair")?;
            }
        }
    }
    mentors_day(admins, &lyceums, today).await?;
    // The schools state their teachers for the last school year and this
    // one: the report's shares of young teachers with a mentor and of КПК.
    let this = school_year(today);
    for (year, org, teachers, young, courses, seminars, association, growth) in [
        (this - 1, "lyceum7-tomsk", 64, 6, 38, 41, 5, 14),
        (this - 1, "gym24-tomsk", 71, 5, 52, 33, 2, 15),
        (this, "lyceum7-tomsk", 66, 7, 20, 18, 6, 16),
        (this, "gym24-tomsk", 72, 4, 25, 21, 3, 17),
    ] {
        admins
            .of(org)
            .await?
            .mentoring()
            .set_teacher_figures(pb::TeacherFigures {
                organization: org.into(),
                school_year: format!("{year}/{:02}", (year + 1) % 100),
                teachers,
                young_teachers: young,
                courses,
                course_hours: courses * 72,
                internships: courses / 4,
                seminars,
                association_members: association,
                growth_system: growth,
                updated_at: None,
            })
            .await
            .with_context(|| format!("cannot state {org}'s teachers"))?;
    }
    Ok(format!(
        "{programmes} mentoring programmes of the seeds with {pairs} pairs and groups \
         (Lyceum 7's young teachers with Gymnasium 24 over the last school year, with \
         checkpoints and outcomes; МГМЛ's pupils mentored by МГТУ students across nodes), \
         {meetings_held} of them meeting weekly in the calendar; Lyceum 7's «День наставника» \
         with the schools' groups of teachers; Lyceum 7's and Gymnasium 24's teachers for the \
         last school year and this one, and the lyceum admin's own courses, recorded by person \
         with their agreement"
    ))
}

/// Eight weekly meetings of a running pair (named by its mentor) from next
/// week, published by the programme's owner and seen by the pair's organizations only.
async fn meetings(
    conn: &crate::client::Connection,
    seed: &Programme,
    mentor: &str,
    programme: &str,
    pair: &str,
    today: NaiveDate,
) -> anyhow::Result<()> {
    let zone = conn
        .directory()
        .get_organization(pb::GetOrganizationRequest {
            organization: seed.owner.into(),
        })
        .await
        .context("the owner's time zone")?
        .into_inner()
        .time_zone;
    let first =
        today + chrono::Duration::days(8 - i64::from(today.weekday().num_days_from_monday()));
    conn.calendar()
        .publish_activity(pb::PublishActivityRequest {
            publisher: seed.owner.into(),
            details: Some(pb::ActivityDetails {
                title: format!("Встреча наставника: {}", mentor),
                kind: pb::ActivityKind::MentoringMeeting.into(),
                audience: Some(pb::Audience {
                    teachers: true,
                    ..Default::default()
                }),
                format: pb::Format::InPerson.into(),
                place: Some(pb::Place {
                    kind: pb::PlaceKind::AtPublisher.into(),
                    value: String::new(),
                }),
                visibility: pb::Visibility::Partners.into(),
                schedule: Some(pb::Schedule {
                    time_zone: zone,
                    start: format!("{first}T15:30"),
                    end: format!("{first}T16:30"),
                    all_day: false,
                    recurrence: Some(pb::Recurrence {
                        rule: "FREQ=WEEKLY;COUNT=8".into(),
                        ..Default::default()
                    }),
                }),
                mentoring_programme_id: programme.into(),
                mentoring_pair_id: pair.into(),
                ..Default::default()
            }),
            draft: false,
        })
        .await
        .with_context(|| format!("cannot schedule the meetings of «{}»", seed.title))?;
    Ok(())
}

/// Lyceum 7's «День наставника «Я – профессионал»» next month, linked to
/// its programme, with both schools' groups of teachers registered; and
/// the lyceum admin's own growth, recorded once they agreed.
async fn mentors_day(
    admins: &mut Admins<'_>,
    programme: &str,
    today: NaiveDate,
) -> anyhow::Result<()> {
    let held = today + chrono::Duration::days(30);
    let lyceum = admins.of("lyceum7-tomsk").await?;
    let zone = lyceum
        .directory()
        .get_organization(pb::GetOrganizationRequest {
            organization: "lyceum7-tomsk".into(),
        })
        .await
        .context("the lyceum's time zone")?
        .into_inner()
        .time_zone;
    let event = lyceum
        .calendar()
        .publish_activity(pb::PublishActivityRequest {
            publisher: "lyceum7-tomsk".into(),
            details: Some(pb::ActivityDetails {
                title: "День наставника «Я – профессионал»".into(),
                description: "Открытые уроки наставников и молодых специалистов, круглый стол \
                              по итогам полугодия."
                    .into(),
                kind: pb::ActivityKind::Conference.into(),
                direction: pb::Direction::TeacherDevelopment.into(),
                audience: Some(pb::Audience {
                    teachers: true,
                    ..Default::default()
                }),
                format: pb::Format::InPerson.into(),
                place: Some(pb::Place {
                    kind: pb::PlaceKind::AtPublisher.into(),
                    value: String::new(),
                }),
                capacity: 80,
                visibility: pb::Visibility::Network.into(),
                schedule: Some(pb::Schedule {
                    time_zone: zone,
                    start: format!("{held}T14:00"),
                    end: format!("{held}T17:00"),
                    all_day: false,
                    recurrence: None,
                }),
                mentoring_programme_id: programme.into(),
                ..Default::default()
            }),
            draft: false,
        })
        .await
        .context("cannot publish «День наставника»")?
        .into_inner();
    for (org, headcount) in [("lyceum7-tomsk", 12), ("gym24-tomsk", 6)] {
        admins
            .of(org)
            .await?
            .calendar()
            .register(pb::RegisterRequest {
                activity_id: event.id.clone(),
                venue: 0,
                occurrence_start: None,
                cohort: Some(pb::Cohort {
                    organization: org.into(),
                    grades: None,
                    headcount,
                    teacher: "Заместитель директора по НМР".into(),
                    teacher_contact: String::new(),
                    teachers: true,
                }),
            })
            .await
            .with_context(|| format!("cannot register {org}'s teachers for «День наставника»"))?;
    }
    let mut mentoring = admins.of("lyceum7-tomsk").await?.mentoring();
    mentoring
        .set_growth_consent(pb::SetGrowthConsentRequest {
            organization: "lyceum7-tomsk".into(),
            given: true,
        })
        .await
        .context("cannot agree to growth records")?;
    let year = school_year(today);
    for (kind, title, on, hours) in [
        (
            pb::GrowthKind::Course,
            "Наставничество в образовательной организации",
            day(year, 10, 20)?,
            72,
        ),
        (
            pb::GrowthKind::Association,
            "Ассоциация наставников Томской области",
            day(year, 9, 15)?,
            0,
        ),
    ] {
        mentoring
            .record_growth(pb::RecordGrowthRequest {
                organization: "lyceum7-tomsk".into(),
                person_id: String::new(),
                kind: kind.into(),
                title: title.into(),
                on: on.to_string(),
                hours,
            })
            .await
            .with_context(|| format!("cannot record «{title}»"))?;
    }
    Ok(())
}
