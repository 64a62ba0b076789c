//! The seeds' professional trials, designations and learning routes, as
//! the demo loads them: Magnitogorsk's resource centres and МГМЛ as the
//! base site of «Звезда» (seed 003), Gymnasium 24's innovation sites (seed
//! 000); МГМЛ's trial system with hosts on three nodes, one programme
//! returned with a comment and approved in its revision, one waiting for
//! review (seed 003); and a route per school that describes routes:
//! Gymnasium 44's engineering route for grade 10 and last year's grade 11
//! with its leavers (seed 004), МГМЛ's trials for grade 7, Gymnasium 24's
//! science route for grade 9 (seed 000). Cohorts are codes and counts.

use anyhow::Context as _;
use chrono::{Datelike as _, Duration, NaiveDate, Weekday};
use edufed_proto::v1 as pb;

use super::load::Admins;
use super::timing::school_year;

struct Designation {
    org: &'static str,
    kind: pb::DesignationKind,
    field: &'static str,
    level: pb::DesignationLevel,
    document: Option<(&'static str, &'static str, &'static str)>,
    term: Option<(&'static str, &'static str)>,
    counts: Option<(u32, u32)>,
}

const DESIGNATIONS: &[Designation] = &[
    Designation {
        org: "school10-mgn",
        kind: pb::DesignationKind::ResourceCentre,
        field: "Робототехника",
        level: pb::DesignationLevel::Municipal,
        document: None,
        term: None,
        counts: None,
    },
    Designation {
        org: "gym53-mgn",
        kind: pb::DesignationKind::ResourceCentre,
        field: "IT-технологии",
        level: pb::DesignationLevel::Municipal,
        document: None,
        term: None,
        counts: None,
    },
    Designation {
        org: "magtu",
        kind: pb::DesignationKind::ResourceCentre,
        field: "Физика и машиностроение",
        level: pb::DesignationLevel::Municipal,
        document: None,
        term: None,
        counts: None,
    },
    Designation {
        org: "mgml",
        kind: pb::DesignationKind::BaseSite,
        field: "Многопрофильная инженерная олимпиада «Звезда» (ЮУрГУ)",
        level: pb::DesignationLevel::Unspecified,
        document: None,
        term: None,
        counts: None,
    },
    Designation {
        org: "gym24-tomsk",
        kind: pb::DesignationKind::InnovationSite,
        field: "Механизмы сохранения лидирующих позиций РФ в области качества математического \
                образования (Инновационная методическая сеть «Учусь учиться»)",
        level: pb::DesignationLevel::Federal,
        document: Some((
            "Министерство образования и науки РФ; договор с НОУ ДПО «Институт СДП»",
            "№741; №031/2020-фип",
            "2019-12-30",
        )),
        term: Some(("2019-12-30", "2024-12-31")),
        counts: Some((14, 539)),
    },
    Designation {
        org: "gym24-tomsk",
        kind: pb::DesignationKind::InnovationSite,
        field: "Муниципальная сетевая площадка «Молодой специалист» по методическому \
                сопровождению молодых педагогов",
        level: pb::DesignationLevel::Municipal,
        document: Some((
            "Департамент образования администрации г. Томска",
            "№568-р",
            "2021-06-24",
        )),
        term: Some(("2021-09-01", "2024-05-30")),
        counts: Some((20, 0)),
    },
];

/// A trial of the demo and how far its review got.
struct Trial {
    host: &'static str,
    profession: &'static str,
    grades: (u32, u32),
    hours: u32,
    weeks: u32,
    workplaces: u32,
    responsible: &'static str,
    content: &'static str,
    review: Review,
    /// Sessions, days from today.
    sessions: &'static [i64],
}

enum Review {
    /// Returned with this comment, revised and approved.
    ReturnedThenApproved(&'static str),
    Approved,
    /// Submitted, waiting for the reviewer.
    Waiting,
}

const TRIALS: &[Trial] = &[
    Trial {
        host: "pcdod-mgn",
        profession: "Оператор беспилотных авиационных систем",
        grades: (7, 8),
        hours: 8,
        weeks: 2,
        workplaces: 12,
        responsible: "Педагог дополнительного образования, руководитель объединения «Аэроквантум»",
        content: "1. Устройство квадрокоптера, правила полётов.\n2. Пилотирование на симуляторе.\n\
                  3. Полёт по маршруту в зале, защита мини-проекта.",
        review: Review::ReturnedThenApproved(
            "Добавьте требования безопасности при полётах в зале и число пилотов на одного педагога.",
        ),
        sessions: &[16, 23],
    },
    Trial {
        host: "kvantorium-mgn",
        profession: "Инженер-робототехник",
        grades: (7, 11),
        hours: 6,
        weeks: 2,
        workplaces: 15,
        responsible: "Наставник «Промробоквантума»",
        content: "1. Промышленный манипулятор: кинематика и программирование.\n\
                  2. Сборка и настройка захвата.\n3. Задача на линии сортировки.",
        review: Review::Approved,
        sessions: &[17, 31],
    },
    Trial {
        host: "magtu",
        profession: "Инженер-металлург",
        grades: (9, 11),
        hours: 6,
        weeks: 1,
        workplaces: 20,
        responsible: "Доцент кафедры металлургии и химических технологий",
        content: "1. Экскурсия по лабораториям института.\n2. Плавка и разливка в учебной \
                  лаборатории.\n3. Анализ структуры металла под микроскопом.",
        review: Review::Approved,
        sessions: &[19],
    },
    Trial {
        host: "pcdod-mgn",
        profession: "Оператор 3D-печати",
        grades: (8, 11),
        hours: 4,
        weeks: 1,
        workplaces: 10,
        responsible: "Педагог дополнительного образования объединения «Хайтек»",
        content: "1. Моделирование детали.\n2. Подготовка к печати и печать.",
        review: Review::Waiting,
        sessions: &[],
    },
];

fn designation_details(d: &Designation) -> pb::DesignationDetails {
    pb::DesignationDetails {
        kind: d.kind.into(),
        field: d.field.into(),
        level: d.level.into(),
        document: d
            .document
            .map(|(issuer, number, date)| pb::DesignationDocument {
                issuer: issuer.into(),
                number: number.into(),
                date: date.into(),
            }),
        valid_from: d.term.map(|t| t.0.to_owned()).unwrap_or_default(),
        valid_until: d.term.map(|t| t.1.to_owned()).unwrap_or_default(),
        teachers: d.counts.map(|c| c.0),
        pupils: d.counts.and_then(|c| (c.1 > 0).then_some(c.1)),
    }
}

fn programme(t: &Trial, safety: &str) -> pb::TrialProgramme {
    pb::TrialProgramme {
        profession: t.profession.into(),
        direction: pb::Direction::CareerGuidance.into(),
        goals: "Попробовать профессию на рабочем месте и решить, подходит ли профиль.".into(),
        content: t.content.into(),
        hours: t.hours,
        weeks: t.weeks,
        grades: Some(pb::GradeRange {
            min: t.grades.0,
            max: t.grades.1,
        }),
        workplaces: t.workplaces,
        responsible: Some(pb::TrialResponsible {
            name: t.responsible.into(),
            position: String::new(),
            contact: String::new(),
        }),
        safety: safety.into(),
    }
}

/// The activity id of the first upcoming activity for `grade` whose title
/// starts with `title`, as `school`'s admin finds it.
async fn offering(
    admins: &mut Admins<'_>,
    school: &str,
    today: NaiveDate,
    grade: u32,
    title: &str,
) -> anyhow::Result<String> {
    let from = today.and_hms_opt(0, 0, 0).context("a day")?.and_utc();
    let found = admins
        .of(school)
        .await?
        .calendar()
        .list_occurrences(pb::ListOccurrencesRequest {
            from: Some(prost_types::Timestamp {
                seconds: from.timestamp(),
                nanos: 0,
            }),
            to: Some(prost_types::Timestamp {
                seconds: from.timestamp() + 399 * 86_400,
                nanos: 0,
            }),
            grade,
            query: title.into(),
            page_size: 50,
            ..Default::default()
        })
        .await
        .with_context(|| format!("cannot search for «{title}»"))?
        .into_inner();
    found
        .occurrences
        .into_iter()
        .filter_map(|o| o.activity)
        .find(|a| {
            a.details
                .as_ref()
                .is_some_and(|d| d.title.starts_with(title))
        })
        .map(|a| a.id)
        .with_context(|| format!("no upcoming «{title}» for grade {grade} seen by {school}"))
}

fn item(title: &str, activity: &str, required: bool) -> pb::RouteItemDraft {
    pb::RouteItemDraft {
        title: title.into(),
        offering: Some(pb::RouteOffering {
            activity_id: activity.into(),
            ..Default::default()
        }),
        required,
        hours: 0,
        note: String::new(),
    }
}

fn cohort(code: &str, headcount: u32, teacher: &str) -> pb::RouteCohort {
    pb::RouteCohort {
        code: code.into(),
        headcount,
        teacher: teacher.into(),
        teacher_contact: String::new(),
    }
}

/// Loads the designations, the trials and the routes; says what it did.
pub(super) async fn load_careers(
    admins: &mut Admins<'_>,
    today: NaiveDate,
    lab: &str,
) -> anyhow::Result<String> {
    for d in DESIGNATIONS {
        admins
            .of(d.org)
            .await?
            .designations()
            .add_designation(pb::AddDesignationRequest {
                organization: d.org.into(),
                details: Some(designation_details(d)),
            })
            .await
            .with_context(|| format!("cannot designate {} «{}»", d.org, d.field))?;
    }

    // The trials, reviewed on their hosts' nodes: by the methodical
    // centre's admin on the hub, by the node's operator elsewhere.
    let mut sessions: Vec<(&str, String)> = Vec::new();
    let (mut approved, mut waiting) = (0, 0);
    for t in TRIALS {
        let mut host = admins.of(t.host).await?.trials();
        let draft = host
            .create_trial(pb::CreateTrialRequest {
                host: t.host.into(),
                programme: Some(programme(
                    t,
                    "Инструктаж по технике безопасности перед занятием.",
                )),
            })
            .await
            .with_context(|| format!("cannot prepare «{}»", t.profession))?
            .into_inner();
        let step = |id: &str| pb::TrialStepRequest {
            id: id.into(),
            expected_version: 0,
        };
        host.submit_trial(step(&draft.id)).await?;
        let mut reviewer = admins.reviewer_of(t.host).await?.trials();
        let decide = |decision: pb::ReviewDecision, comment: &str| pb::ReviewTrialRequest {
            id: draft.id.clone(),
            expected_version: 0,
            decision: decision.into(),
            comment: comment.into(),
        };
        match t.review {
            Review::Waiting => {
                waiting += 1;
                continue;
            }
            Review::Approved => {}
            Review::ReturnedThenApproved(comment) => {
                reviewer
                    .review_trial(decide(pb::ReviewDecision::Return, comment))
                    .await?;
                host.revise_trial(pb::ReviseTrialRequest {
                    id: draft.id.clone(),
                    expected_version: 0,
                    programme: Some(programme(
                        t,
                        "Инструктаж перед полётами; полёты только в сетке ограждения; \
                         не более шести пилотов на одного педагога; защитные очки.",
                    )),
                })
                .await?;
                host.submit_trial(step(&draft.id)).await?;
            }
        }
        reviewer
            .review_trial(decide(pb::ReviewDecision::Approve, ""))
            .await
            .with_context(|| format!("cannot approve «{}»", t.profession))?;
        approved += 1;
        for days in t.sessions {
            let day = today + Duration::days(*days);
            let session = admins
                .of(t.host)
                .await?
                .calendar()
                .publish_activity(pb::PublishActivityRequest {
                    publisher: t.host.into(),
                    details: Some(pb::ActivityDetails {
                        title: format!("Профессиональная проба «{}»", t.profession),
                        kind: pb::ActivityKind::ProfessionalTrial.into(),
                        direction: pb::Direction::CareerGuidance.into(),
                        audience: Some(pb::Audience {
                            students: Some(pb::GradeRange {
                                min: t.grades.0,
                                max: t.grades.1,
                            }),
                            ..Default::default()
                        }),
                        format: pb::Format::InPerson.into(),
                        place: Some(pb::Place {
                            kind: pb::PlaceKind::AtPublisher.into(),
                            value: String::new(),
                        }),
                        visibility: pb::Visibility::Public.into(),
                        capacity: t.workplaces,
                        schedule: Some(pb::Schedule {
                            start: format!("{day}T14:00"),
                            end: format!("{day}T16:00"),
                            ..Default::default()
                        }),
                        trial_id: draft.id.clone(),
                        ..Default::default()
                    }),
                    draft: false,
                })
                .await
                .with_context(|| format!("cannot schedule «{}»", t.profession))?
                .into_inner();
            sessions.push((t.profession, session.id));
        }
    }
    let session = |profession: &str| {
        sessions
            .iter()
            .find(|(p, _)| *p == profession)
            .map(|(_, id)| id.clone())
            .with_context(|| format!("no session of «{profession}»"))
    };

    // «Звезда»'s stage held at two base sites at once: ЮУрГУ publishes it
    // on the university node, МГМЛ's pupils register at МГМЛ's site.
    let mut ids = Vec::new();
    for slug in ["mgml", "school21-mgn"] {
        ids.push(
            admins
                .of("susu")
                .await?
                .directory()
                .get_organization(pb::GetOrganizationRequest {
                    organization: slug.into(),
                })
                .await
                .with_context(|| format!("the university node does not know {slug}"))?
                .into_inner()
                .id,
        );
    }
    let stage_day = today + Duration::days(45);
    let zvezda = admins
        .of("susu")
        .await?
        .calendar()
        .publish_activity(pb::PublishActivityRequest {
            publisher: "susu".into(),
            details: Some(pb::ActivityDetails {
                title: "Олимпиада «Звезда» (техника и технологии), отборочный этап на базовых площадках"
                    .into(),
                kind: pb::ActivityKind::Olympiad.into(),
                direction: pb::Direction::DistanceAndGifted.into(),
                audience: Some(pb::Audience {
                    students: Some(pb::GradeRange { min: 7, max: 11 }),
                    ..Default::default()
                }),
                format: pb::Format::InPerson.into(),
                place: Some(pb::Place {
                    kind: pb::PlaceKind::AtPublisher.into(),
                    value: String::new(),
                }),
                visibility: pb::Visibility::Public.into(),
                schedule: Some(pb::Schedule {
                    time_zone: "Asia/Yekaterinburg".into(),
                    start: format!("{stage_day}T10:00"),
                    end: format!("{stage_day}T14:00"),
                    ..Default::default()
                }),
                venues: vec![
                    pb::Venue {
                        organization: ids[0].clone(),
                        place: "МГМЛ, актовый зал и кабинеты физики".into(),
                        capacity: 60,
                        coordinator: "Заместитель директора МГМЛ по УВР".into(),
                        ..Default::default()
                    },
                    pb::Venue {
                        organization: ids[1].clone(),
                        place: "СОШ №21, кабинеты 201–204".into(),
                        capacity: 40,
                        coordinator: "Руководитель ШМО естественных наук".into(),
                        ..Default::default()
                    },
                ],
                ..Default::default()
            }),
            draft: false,
        })
        .await
        .context("cannot publish «Звезда» at its base sites")?
        .into_inner();
    // The hub knows it once it follows the university node's log.
    let mut hub_calendar = admins.of("mgml").await?.calendar();
    for _ in 0..100 {
        let seen = hub_calendar
            .get_activity(pb::GetActivityRequest {
                activity_id: zvezda.id.clone(),
            })
            .await
            .is_ok();
        if seen {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    hub_calendar
        .register(pb::RegisterRequest {
            activity_id: zvezda.id,
            venue: 1,
            occurrence_start: None,
            cohort: Some(pb::Cohort {
                organization: "mgml".into(),
                grades: Some(pb::GradeRange { min: 9, max: 11 }),
                headcount: 24,
                teacher: "Руководитель инженерного направления".into(),
                teacher_contact: String::new(),
                teachers: false,
            }),
        })
        .await
        .context("cannot register МГМЛ's pupils for «Звезда»")?;

    // Routes. Gymnasium 44: this year's grade 10 in engineering, with a
    // lab booked at the technopark; last year's grade 11 with its leavers.
    let year = school_year(today);
    let mut routes = Vec::new();
    let prep = offering(
        admins,
        "gym44-nkz",
        today,
        10,
        "Курсы подготовки к олимпиадам",
    )
    .await?;
    let winter = offering(
        admins,
        "gym44-nkz",
        today,
        10,
        "Зимняя физико-математическая школа",
    )
    .await?;
    let mut wednesday = today + Duration::days(10);
    while wednesday.weekday() != Weekday::Wed {
        wednesday += Duration::days(1);
    }
    let engineering = pb::RouteTemplateDraft {
        title: "Инженерный профиль, 10 класс".into(),
        profile: "инженерный".into(),
        grade: 10,
        school_year: u32::try_from(year).unwrap_or_default(),
        items: vec![
            pb::RouteItemDraft {
                hours: 72,
                ..item("Олимпиадная подготовка ТГУ", &prep, true)
            },
            item(
                "Проба «Инженер-металлург» в МГТУ",
                &session("Инженер-металлург")?,
                true,
            ),
            item(
                "Проба «Инженер-робототехник» в Кванториуме",
                &session("Инженер-робототехник")?,
                true,
            ),
            pb::RouteItemDraft {
                title: "Практикум в «IT-квантуме»".into(),
                offering: Some(pb::RouteOffering {
                    resource_id: lab.into(),
                    start: format!("{wednesday}T10:00"),
                    end: format!("{wednesday}T12:00"),
                    purpose: "Практикум инженерного 10 класса Гимназии №44".into(),
                    ..Default::default()
                }),
                required: true,
                hours: 0,
                note: String::new(),
            },
            pb::RouteItemDraft {
                hours: 36,
                ..item("Зимняя физико-математическая школа ТГУ", &winter, false)
            },
        ],
    };
    let mut gym44 = admins.of("gym44-nkz").await?.routes();
    let template = gym44
        .create_route_template(pb::CreateRouteTemplateRequest {
            school: "gym44-nkz".into(),
            template: Some(engineering.clone()),
        })
        .await
        .context("cannot compose Gymnasium 44's route")?
        .into_inner();
    let route = gym44
        .assign_route(pb::AssignRouteRequest {
            template_id: template.id.clone(),
            cohort: Some(cohort("10И-2026", 14, "Классный руководитель 10 «И»")),
            electives: vec![5],
        })
        .await?
        .into_inner();
    gym44
        .enrol_route(pb::EnrolRouteRequest {
            id: route.id.clone(),
        })
        .await
        .context("cannot enrol Gymnasium 44's route")?;
    routes.push("Гимназия №44: 10И, инженерный");
    let last = gym44
        .create_route_template(pb::CreateRouteTemplateRequest {
            school: "gym44-nkz".into(),
            template: Some(pb::RouteTemplateDraft {
                title: "Инженерный профиль, 11 класс".into(),
                grade: 11,
                school_year: u32::try_from(year - 1).unwrap_or_default(),
                items: vec![pb::RouteItemDraft {
                    hours: 72,
                    ..item("Олимпиадная подготовка ТГУ", &prep, true)
                }],
                ..engineering
            }),
        })
        .await?
        .into_inner();
    let leavers = gym44
        .assign_route(pb::AssignRouteRequest {
            template_id: last.id,
            cohort: Some(cohort("11И-2025", 20, "Классный руководитель 11 «И»")),
            electives: vec![],
        })
        .await?
        .into_inner();
    gym44
        .follow_route_item(pb::FollowRouteItemRequest {
            id: leavers.id.clone(),
            expected_version: 0,
            item: 1,
            attended: Some(18),
            result: "3 призёра регионального этапа".into(),
        })
        .await?;
    gym44
        .conclude_route(pb::ConcludeRouteRequest {
            id: leavers.id,
            expected_version: 0,
            outcome: Some(pb::RouteOutcome {
                profiles: vec![
                    pb::ProfileCount {
                        profile: "инженерный".into(),
                        count: 15,
                    },
                    pb::ProfileCount {
                        profile: "социально-экономический".into(),
                        count: 3,
                    },
                ],
                leavers: Some(20),
                continuing: Some(12),
            }),
        })
        .await?;

    // МГМЛ: trials for grade 7, on the hub and at the technopark, and a
    // project day in the technopark's lab.
    let friday = wednesday + Duration::days(2);
    let mut mgml = admins.of("mgml").await?.routes();
    let template = mgml
        .create_route_template(pb::CreateRouteTemplateRequest {
            school: "mgml".into(),
            template: Some(pb::RouteTemplateDraft {
                title: "Профессиональные пробы, 7 класс".into(),
                profile: "профориентация".into(),
                grade: 7,
                school_year: u32::try_from(year).unwrap_or_default(),
                items: vec![
                    pb::RouteItemDraft {
                        title: "Проектный день в «IT-квантуме»".into(),
                        offering: Some(pb::RouteOffering {
                            resource_id: lab.into(),
                            start: format!("{friday}T10:00"),
                            end: format!("{friday}T13:00"),
                            purpose: "Проектный день 7 «А» МГМЛ".into(),
                            ..Default::default()
                        }),
                        required: true,
                        hours: 0,
                        note: String::new(),
                    },
                    item(
                        "Проба «Оператор беспилотных авиационных систем»",
                        &session("Оператор беспилотных авиационных систем")?,
                        true,
                    ),
                    item(
                        "Проба «Инженер-робототехник»",
                        &session("Инженер-робототехник")?,
                        false,
                    ),
                ],
            }),
        })
        .await
        .context("cannot compose МГМЛ's route")?
        .into_inner();
    let route = mgml
        .assign_route(pb::AssignRouteRequest {
            template_id: template.id,
            cohort: Some(cohort("7А-2026", 12, "Классный руководитель 7 «А»")),
            electives: vec![3],
        })
        .await?
        .into_inner();
    mgml.enrol_route(pb::EnrolRouteRequest { id: route.id })
        .await
        .context("cannot enrol МГМЛ's route")?;
    routes.push("МГМЛ: 7А, профпробы");

    // Gymnasium 24: grade 9, science, from Tomsk University's offerings.
    let conference = offering(
        admins,
        "gym24-tomsk",
        today,
        9,
        "Региональная научно-практическая конференция",
    )
    .await?;
    let prep = offering(
        admins,
        "gym24-tomsk",
        today,
        9,
        "Курсы подготовки к олимпиадам",
    )
    .await?;
    let mut gym24 = admins.of("gym24-tomsk").await?.routes();
    let template = gym24
        .create_route_template(pb::CreateRouteTemplateRequest {
            school: "gym24-tomsk".into(),
            template: Some(pb::RouteTemplateDraft {
                title: "Естественно-научный профиль, 9 класс".into(),
                profile: "естественно-научный".into(),
                grade: 9,
                school_year: u32::try_from(year).unwrap_or_default(),
                items: vec![
                    pb::RouteItemDraft {
                        hours: 72,
                        ..item("Олимпиадная подготовка ТГУ", &prep, true)
                    },
                    item("Конференция «Мир науки глазами детей»", &conference, false),
                ],
            }),
        })
        .await
        .context("cannot compose Gymnasium 24's route")?
        .into_inner();
    gym24
        .assign_route(pb::AssignRouteRequest {
            template_id: template.id,
            cohort: Some(cohort("9Б-2026", 22, "Классный руководитель 9 «Б»")),
            electives: vec![2],
        })
        .await?;
    routes.push("Гимназия №24: 9Б, естественно-научный (назначен, ещё не записан)");

    Ok(format!(
        "{} designations (resource centres, МГМЛ as «Звезда»'s base site, Gymnasium 24's \
         innovation sites); «Звезда»'s stage at two base sites (МГМЛ, СОШ №21) with МГМЛ's \
         pupils registered at theirs; {approved} professional trials in the bank with their sessions \
         (one returned with a comment and approved in its revision), {waiting} waiting for \
         review; learning routes: {}, and Gymnasium 44's last year's grade 11 concluded \
         with its leavers' profiles",
        DESIGNATIONS.len(),
        routes.join("; ")
    ))
}
