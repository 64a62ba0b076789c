//! The methodical centre's reports and the operator's pages of the web
//! console, driven in a real Chromium against two real nodes (a city hub
//! and a university's node that peer), then checked against what the
//! nodes hold through the API.

use chrono::{DateTime, TimeZone as _, Utc};
use edufed_domain::time::Clock;
use edufed_proto::v1 as pb;
use edufed_tests::console::{Person, create_organization, journey, person, sign_in_link};
use edufed_tests::{Bearer, TestDb, TestNode, both_backends, eventually, full_mesh, org_request};
use serde_json::json;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

type Svc = InterceptedService<Channel, Bearer>;

fn tomsk(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    chrono_tz::Asia::Tomsk
        .with_ymd_and_hms(y, m, d, h, 0, 0)
        .unwrap()
        .with_timezone(&Utc)
}

async fn calendar(node: &TestNode, who: &Person) -> pb::calendar_client::CalendarClient<Svc> {
    pb::calendar_client::CalendarClient::with_interceptor(
        node.channel().await,
        Bearer::new(&who.token),
    )
}

async fn reports(node: &TestNode, who: &Person) -> pb::reports_client::ReportsClient<Svc> {
    pb::reports_client::ReportsClient::with_interceptor(
        node.channel().await,
        Bearer::new(&who.token),
    )
}

async fn organization(
    node: &TestNode,
    slug: &str,
    kind: pb::OrganizationKind,
    name: &str,
    city: &str,
) {
    create_organization(
        node,
        pb::CreateOrganizationRequest {
            kind: kind.into(),
            short_name: name.into(),
            full_name: name.into(),
            city: city.into(),
            ..org_request(slug)
        },
    )
    .await;
}

/// A one-off activity of `kind` and `direction`, `start`–`end` local.
fn activity(
    title: &str,
    kind: pb::ActivityKind,
    direction: pb::Direction,
    start: &str,
    end: &str,
) -> pb::ActivityDetails {
    pb::ActivityDetails {
        title: title.into(),
        kind: kind.into(),
        direction: direction.into(),
        capacity: 60,
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
            time_zone: String::new(),
            start: start.into(),
            end: end.into(),
            all_day: false,
            recurrence: None,
        }),
        ..Default::default()
    }
}

fn cohort(org: &str, min: u32, max: u32, headcount: u32) -> Option<pb::Cohort> {
    Some(pb::Cohort {
        organization: org.into(),
        grades: Some(pb::GradeRange { min, max }),
        headcount,
        teacher: "Петрова А. И.".into(),
        teacher_contact: String::new(),
        teachers: false,
    })
}

async fn results(node: &TestNode, publisher: &Person, registration: &str, r: [u32; 4]) {
    calendar(node, publisher)
        .await
        .record_results(pb::RecordResultsRequest {
            registration_id: registration.into(),
            results: Some(pb::Results {
                attended: r[0],
                participants: r[1],
                prize_winners: r[2],
                winners: r[3],
            }),
        })
        .await
        .expect("results");
}

/// A draft cooperation agreement between `base` and `partner`.
fn cooperation(base: &str, partner: &str) -> pb::AgreementContent {
    let signatory = || {
        Some(pb::Signatory {
            name: "Директор".into(),
            position: "директор".into(),
            basis: "Устава".into(),
        })
    };
    pb::AgreementContent {
        kind: pb::AgreementKind::Cooperation.into(),
        number: "№7".into(),
        dated: "2025-10-01".into(),
        title: "Договор о сотрудничестве".into(),
        valid_from: "2025-11-01".into(),
        valid_to: "2026-06-30".into(),
        parties: vec![
            pb::Party {
                org: base.into(),
                role: pb::PartyRole::Base.into(),
                signatory: signatory(),
            },
            pb::Party {
                org: partner.into(),
                role: pb::PartyRole::Participant.into(),
                signatory: signatory(),
            },
        ],
        programme: Some(pb::Programme {
            name: "Городские интеллектуальные игры".into(),
            kind: "дополнительная".into(),
            level: "основное общее образование".into(),
            focus: "социально-гуманитарная".into(),
            parts: vec![pb::ProgrammePart {
                kind: pb::PartKind::Module.into(),
                name: "Игры".into(),
                hours: 12,
                grade_min: 7,
                grade_max: 8,
            }],
        }),
        students: Some(pb::Students {
            status: "обучающиеся базовой организации".into(),
            admission: "по приказу".into(),
            grade_min: 7,
            grade_max: 8,
            planned_headcount: 40,
        }),
        duties: vec![pb::Duty {
            org: partner.into(),
            part: "Игры".into(),
            hours: 12,
            description: "проводит игры".into(),
        }],
        resources: vec![],
        documents: vec![pb::CompletionDocument {
            name: "сертификат".into(),
            issuer: partner.into(),
        }],
        amendment_procedure: "дополнительным соглашением".into(),
        termination_procedure: "по соглашению сторон".into(),
        termination_notice_days: 30,
        planned_teachers: 1,
        planned_students: 40,
        notes: String::new(),
    }
}

both_backends!(
    the_methodical_centre_reads_the_network_s_reports,
    |backend| async move {
        // Last autumn as it happened, read in March.
        let clock = Clock::manual(tomsk(2025, 10, 1, 10));
        let university =
            TestNode::start_with_clock(TestDb::new(backend).await, clock.clone(), |s| {
                s.node_name = "ТУСУР".into();
            })
            .await;
        let hub = TestNode::start_with_clock(TestDb::new(backend).await, clock.clone(), |s| {
            s.node_name = "Городской узел".into();
        })
        .await;
        organization(
            &university,
            "tusur",
            pb::OrganizationKind::University,
            "ТУСУР",
            "Томск",
        )
        .await;
        organization(
            &hub,
            "imc",
            pb::OrganizationKind::MethodicalCentre,
            "МАУ ИМЦ",
            "Томск",
        )
        .await;
        organization(
            &hub,
            "gym24",
            pb::OrganizationKind::School,
            "Гимназия №24",
            "Томск",
        )
        .await;
        let lecturer = person(&university, "tusur", pb::Role::Coordinator, "Лектор").await;
        let analyst = person(&hub, "imc", pb::Role::Coordinator, "Аналитик ИМЦ").await;
        let deputy = person(&hub, "gym24", pb::Role::Coordinator, "Завуч").await;
        let director = person(&hub, "gym24", pb::Role::Admin, "Директор").await;
        full_mesh(&[&university, &hub]).await;

        let course = calendar(&university, &lecturer)
            .await
            .publish_activity(pb::PublishActivityRequest {
                publisher: "tusur".into(),
                details: Some(activity(
                    "Олимпиада по физике",
                    pb::ActivityKind::Olympiad,
                    pb::Direction::DistanceAndGifted,
                    "2025-10-15T10:00",
                    "2025-10-15T13:00",
                )),
                draft: false,
            })
            .await
            .unwrap()
            .into_inner();
        let game = calendar(&hub, &analyst)
            .await
            .publish_activity(pb::PublishActivityRequest {
                publisher: "imc".into(),
                details: Some(activity(
                    "Городская игра «English Tours»",
                    pb::ActivityKind::Game,
                    pb::Direction::Upbringing,
                    "2025-11-12T15:00",
                    "2025-11-12T17:00",
                )),
                draft: false,
            })
            .await
            .unwrap()
            .into_inner();
        let mut on_hub = calendar(&hub, &deputy).await;
        eventually("the hub mirrors the course", || {
            let mut on_hub = on_hub.clone();
            let id = course.id.clone();
            async move {
                on_hub
                    .get_activity(pb::GetActivityRequest { activity_id: id })
                    .await
                    .ok()
            }
        })
        .await;
        let to_course = on_hub
            .register(pb::RegisterRequest {
                activity_id: course.id.clone(),
                venue: 0,
                occurrence_start: None,
                cohort: cohort("gym24", 9, 10, 12),
            })
            .await
            .unwrap()
            .into_inner();
        let to_game = on_hub
            .register(pb::RegisterRequest {
                activity_id: game.id.clone(),
                venue: 0,
                occurrence_start: None,
                cohort: cohort("gym24", 7, 7, 20),
            })
            .await
            .unwrap()
            .into_inner();

        // The centre's hall, booked once by the gymnasium.
        let mut booking = pb::booking_client::BookingClient::with_interceptor(
            hub.channel().await,
            Bearer::new(&analyst.token),
        );
        let hall = booking
            .create_resource(pb::CreateResourceRequest {
                owner: "imc".into(),
                resource: Some(pb::Resource {
                    kind: pb::ResourceKind::Room.into(),
                    name: "Конференц-зал".into(),
                    capacity: 80,
                    hours: (1..=5)
                        .map(|weekday| pb::WeeklyHours {
                            weekday,
                            opens: "09:00".into(),
                            closes: "18:00".into(),
                        })
                        .collect(),
                    approval: pb::ApprovalPolicy::Automatic.into(),
                    access: pb::Access::Network.into(),
                    ..Default::default()
                }),
            })
            .await
            .unwrap()
            .into_inner();
        pb::booking_client::BookingClient::with_interceptor(
            hub.channel().await,
            Bearer::new(&deputy.token),
        )
        .request_booking(pb::RequestBookingRequest {
            resource_id: hall.id.clone(),
            requester: "gym24".into(),
            start: "2025-10-20T10:00".into(),
            end: "2025-10-20T12:00".into(),
            purpose: "педсовет".into(),
            headcount: 40,
            ..Default::default()
        })
        .await
        .unwrap();
        pb::agreements_client::AgreementsClient::with_interceptor(
            hub.channel().await,
            Bearer::new(&deputy.token),
        )
        .draft_agreement(pb::DraftAgreementRequest {
            initiator: "gym24".into(),
            content: Some(cooperation("gym24", "imc")),
        })
        .await
        .unwrap();
        reports(&hub, &director)
            .await
            .set_enrolment(pb::SetEnrolmentRequest {
                organization: "gym24".into(),
                school_year: "2025/26".into(),
                students: 800,
            })
            .await
            .unwrap();

        // December: results of what took place; then March, when the
        // centre reads the year so far.
        clock.set(tomsk(2025, 12, 1, 12));
        results(&university, &lecturer, &to_course.id, [11, 11, 2, 1]).await;
        results(&hub, &analyst, &to_game.id, [18, 18, 3, 1]).await;
        clock.set(tomsk(2026, 3, 2, 12));
        let mut centre = reports(&hub, &analyst).await;
        let network = pb::ReportRequest {
            network: true,
            ..Default::default()
        };
        eventually("the hub holds the course's results", || {
            let mut centre = centre.clone();
            let network = network.clone();
            async move {
                let total = centre
                    .participation_report(network)
                    .await
                    .ok()?
                    .into_inner()
                    .total?;
                (total.attended == 29).then_some(())
            }
        })
        .await;

        let Some(found) = journey(
            "reports",
            json!({
                "link": sign_in_link(&hub, &analyst).await,
                "scope": "Вся сеть",
                "covered": "Вся сеть, с 1 сентября 2025 по 31 августа 2026",
                "expect": {
                    "indicators": [
                        "Доля победителей и призёров", "24,14 %", "7 из 29",
                        "Проведено мероприятий", "Гимназия №24",
                    ],
                    "activities": [
                        "ТУСУР", "МАУ ИМЦ", "Олимпиада", "Интеллектуальная игра",
                        "Дистанционное обучение и одарённые дети", "Воспитание",
                        "Октябрь 2025", "Ноябрь 2025", "Итого",
                    ],
                    "participation": [
                        "Гимназия №24", "Олимпиада", "9–10 классы", "7 класс",
                        "записано 12, пришли 11",
                    ],
                    "agreements": ["Договор о сотрудничестве", "Черновик"],
                    "resources": ["Конференц-зал", "Самые загруженные", "Загрузка по месяцам"],
                },
                "bars": { "chart-activities": 2, "chart-participation": 2 },
                "target": {
                    "indicator": "Доля победителей и призёров",
                    "for": "Вся сеть",
                    "value": "25",
                    "due": "2026-08-31",
                    "shown": ["25 %", "осталось 0,86 п. п."],
                },
                "raw": [
                    "olympiad", "distance_and_gifted", "winners_share",
                    "network_coverage", "cooperation", "draft", "room", "upbringing",
                ],
            }),
        )
        .await
        else {
            return;
        };

        // The file is the table on the page: its header row in Russian, and
        // the university's course as the API counts it.
        let csv = found["csv"].as_str().unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines[0],
            "Организация;Направление;Вид;Месяц;Мероприятий проведено;Мероприятий отменено;\
             Занятий проведено;Занятий впереди;Занятий отменено;Часов проведено"
        );
        let activities = centre
            .activities_report(network.clone())
            .await
            .unwrap()
            .into_inner();
        let held = activities
            .rows
            .iter()
            .find(|r| r.organization_name == "ТУСУР")
            .unwrap();
        assert_eq!(held.hours_held, 3.0);
        assert!(
            lines.contains(
                &"ТУСУР;Дистанционное обучение и одарённые дети;Олимпиада;\
                  Октябрь 2025;1;0;1;0;0;3"
            ),
            "{csv}"
        );
        let total = activities.total.unwrap();
        assert_eq!(
            lines.last().copied(),
            Some(
                format!(
                    "Итого;;;;{};0;{};0;0;{}",
                    total.activities_held, total.occurrences_held, total.hours_held
                )
                .as_str()
            )
        );
        assert_eq!(found["bom"], json!(true));

        // The target set on the page is the hub's.
        let targets = centre
            .list_targets(pb::ListTargetsRequest {})
            .await
            .unwrap()
            .into_inner()
            .targets;
        assert!(
            targets.iter().any(|t| t.indicator == "winners_share"
                && t.scope == "network"
                && t.due == "2026-08-31"
                && (t.value - 25.0).abs() < 1e-9),
            "{targets:?}"
        );
    }
);

both_backends!(
    the_operator_adds_a_member_and_hands_them_a_sign_in_link,
    |backend| async move {
        let university = TestNode::start_with(TestDb::new(backend).await, |s| {
            s.node_name = "ТУСУР".into();
        })
        .await;
        let hub = TestNode::start_with(TestDb::new(backend).await, |s| {
            s.node_name = "Городской узел".into();
        })
        .await;
        organization(
            &university,
            "tusur",
            pb::OrganizationKind::University,
            "ТУСУР",
            "Томск",
        )
        .await;
        organization(
            &hub,
            "gym24",
            pb::OrganizationKind::School,
            "Гимназия №24",
            "Томск",
        )
        .await;
        let director = person(&hub, "gym24", pb::Role::Admin, "Директор гимназии").await;
        let leaver = person(&hub, "gym24", pb::Role::Teacher, "Уволившаяся Учительница").await;
        full_mesh(&[&university, &hub]).await;
        let mut federation = hub.federation().await;
        eventually("the hub hears from the university", || {
            let mut federation = federation.clone();
            async move {
                let list = federation
                    .list_subscriptions(pb::ListSubscriptionsRequest {})
                    .await
                    .ok()?
                    .into_inner();
                list.subscriptions
                    .iter()
                    .any(|s| s.connected && s.last_contact.is_some())
                    .then_some(())
            }
        })
        .await;
        // The operator's own link: a sign-in link for the caller.
        let operator_link = hub
            .operator()
            .await
            .create_sign_in_link(pb::CreateSignInLinkRequest::default())
            .await
            .unwrap()
            .into_inner()
            .url;

        let Some(found) = journey(
            "operator",
            json!({
                "base": hub.node.url(),
                "link": operator_link,
                "admin": sign_in_link(&hub, &director).await,
                "peer": { "name": "ТУСУР", "id": university.node.node_id() },
                "organization": "Гимназия №24",
                "member": "Сидорова Анна Петровна",
                "leaver": "Уволившаяся Учительница",
            }),
        )
        .await
        else {
            return;
        };
        assert_eq!(found["signedInAs"], json!("Сидорова Анна Петровна · gym24"));
        // The teacher the admin erased keeps an id and nothing else.
        let (erased, memberships) = hub
            .node
            .store()
            .get_person(&edufed_domain::ids::PersonId::from_stored(
                leaver.id.clone(),
            ))
            .await
            .unwrap();
        assert_eq!(erased.display_name, edufed_domain::privacy::ERASED);
        assert!(erased.email.is_none() && memberships.is_empty());

        // The hub holds the new coordinator and the session their link began.
        let members = hub
            .operator()
            .await
            .list_members(pb::ListMembersRequest {
                organization: "gym24".into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .members;
        let added = members
            .iter()
            .find(|m| m.person.as_ref().unwrap().display_name == "Сидорова Анна Петровна")
            .unwrap_or_else(|| panic!("{members:?}"));
        assert_eq!(added.role(), pb::Role::Coordinator);
        let person_id = added.person.as_ref().unwrap().id.clone();
        let sessions = hub
            .operator()
            .await
            .list_sessions(pb::ListSessionsRequest {
                person_id: person_id.clone(),
            })
            .await
            .unwrap()
            .into_inner()
            .sessions;
        assert_eq!(sessions.len(), 1, "{sessions:?}");
        assert!(sessions[0].active);
        assert_eq!(sessions[0].origin(), pb::SessionOrigin::Link);
        // The subscription the page showed is the hub's.
        let subscriptions = federation
            .list_subscriptions(pb::ListSubscriptionsRequest {})
            .await
            .unwrap()
            .into_inner()
            .subscriptions;
        assert_eq!(subscriptions.len(), 1);
        assert_eq!(subscriptions[0].node_id, university.node.node_id());
    }
);
