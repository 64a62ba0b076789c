//! Individual learning routes, end to end: Gymnasium 44's engineering
//! route for grade 10, composed from the network's offerings on two nodes
//! (the technopark's «Технология» lessons, the university's olympiad
//! preparation and its lab, a college's professional trials in the bank),
//! assigned to a cohort by code and count, turned into registrations and a
//! booking on both nodes, followed item by item, concluded with the
//! leavers' profiles, copied for next year, and cancelled on the nodes it
//! reached.

use edufed_proto::v1 as pb;
use edufed_tests::{Backend, Bearer, TestDb, TestNode, both_backends, full_mesh, org_request};
use tonic::Code;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tonic_types::StatusExt as _;

type Routes = pb::routes_client::RoutesClient<InterceptedService<Channel, Bearer>>;
type Calendar = pb::calendar_client::CalendarClient<InterceptedService<Channel, Bearer>>;

async fn routes(node: &TestNode, token: &str) -> Routes {
    pb::routes_client::RoutesClient::with_interceptor(node.channel().await, Bearer::new(token))
}

async fn calendar(node: &TestNode, token: &str) -> Calendar {
    pb::calendar_client::CalendarClient::with_interceptor(node.channel().await, Bearer::new(token))
}

fn field_of(status: &tonic::Status) -> String {
    status
        .get_error_details()
        .bad_request()
        .map(|b| b.field_violations[0].field.clone())
        .unwrap_or_default()
}

async fn org(node: &TestNode, slug: &str, kind: pb::OrganizationKind) {
    node.operator()
        .await
        .create_organization(pb::CreateOrganizationRequest {
            kind: kind.into(),
            time_zone: "Asia/Novokuznetsk".into(),
            ..org_request(slug)
        })
        .await
        .unwrap();
}

/// A weekly series in February 2027 for `grades`, 15:00–17:00.
fn series(
    title: &str,
    kind: pb::ActivityKind,
    day: u32,
    count: u32,
    grades: (u32, u32),
) -> pb::ActivityDetails {
    pb::ActivityDetails {
        title: title.into(),
        kind: kind.into(),
        audience: Some(pb::Audience {
            students: Some(pb::GradeRange {
                min: grades.0,
                max: grades.1,
            }),
            ..Default::default()
        }),
        format: pb::Format::InPerson.into(),
        place: Some(pb::Place {
            kind: pb::PlaceKind::AtPublisher.into(),
            value: String::new(),
        }),
        visibility: pb::Visibility::Network.into(),
        capacity: 60,
        schedule: Some(pb::Schedule {
            time_zone: "Asia/Novokuznetsk".into(),
            start: format!("2027-02-{day:02}T15:00"),
            end: format!("2027-02-{day:02}T17:00"),
            recurrence: (count > 1).then(|| pb::Recurrence {
                rule: format!("FREQ=WEEKLY;COUNT={count}"),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

async fn publish(
    node: &TestNode,
    token: &str,
    publisher: &str,
    details: pb::ActivityDetails,
) -> String {
    calendar(node, token)
        .await
        .publish_activity(pb::PublishActivityRequest {
            publisher: publisher.into(),
            details: Some(details),
            draft: false,
        })
        .await
        .unwrap()
        .into_inner()
        .id
}

/// An approved trial of the college, and its one session's activity.
async fn trial_session(
    hub: &TestNode,
    college: &str,
    reviewer: &str,
    profession: &str,
    day: u32,
) -> String {
    let mut trials = pb::trials_client::TrialsClient::with_interceptor(
        hub.channel().await,
        Bearer::new(college),
    );
    let trial = trials
        .create_trial(pb::CreateTrialRequest {
            host: "nkz-college".into(),
            programme: Some(pb::TrialProgramme {
                profession: profession.into(),
                direction: pb::Direction::CareerGuidance.into(),
                goals: "Попробовать профессию на рабочем месте".into(),
                content: "Инструктаж, практическое задание, защита работы.".into(),
                hours: 4,
                weeks: 1,
                grades: Some(pb::GradeRange { min: 8, max: 11 }),
                workplaces: 20,
                responsible: Some(pb::TrialResponsible {
                    name: "Мастер производственного обучения".into(),
                    position: String::new(),
                    contact: String::new(),
                }),
                safety: "Спецодежда выдаётся.".into(),
            }),
        })
        .await
        .unwrap()
        .into_inner();
    trials
        .submit_trial(pb::TrialStepRequest {
            id: trial.id.clone(),
            expected_version: 0,
        })
        .await
        .unwrap();
    pb::trials_client::TrialsClient::with_interceptor(hub.channel().await, Bearer::new(reviewer))
        .review_trial(pb::ReviewTrialRequest {
            id: trial.id.clone(),
            expected_version: 0,
            decision: pb::ReviewDecision::Approve.into(),
            comment: String::new(),
        })
        .await
        .unwrap();
    publish(
        hub,
        college,
        "nkz-college",
        pb::ActivityDetails {
            trial_id: trial.id,
            ..series(
                &format!("Проба «{profession}»"),
                pb::ActivityKind::ProfessionalTrial,
                day,
                1,
                (8, 11),
            )
        },
    )
    .await
}

fn activity_item(title: &str, activity: &str, required: bool) -> pb::RouteItemDraft {
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

async fn registrations_on(node: &TestNode, token: &str, activity: &str) -> Vec<pb::Registration> {
    calendar(node, token)
        .await
        .list_registrations(pb::ListRegistrationsRequest {
            activity_id: activity.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .registrations
}

both_backends!(gymnasium_44_engineering_route, |backend| async move {
    let hub = TestNode::start_with(TestDb::new(backend).await, |_| {}).await;
    let peer = TestNode::start(Backend::Sqlite).await;
    for (slug, kind) in [
        ("gym44-nkz", pb::OrganizationKind::School),
        ("school-other", pb::OrganizationKind::School),
        ("nkz-college", pb::OrganizationKind::College),
        ("imc-nkz", pb::OrganizationKind::MethodicalCentre),
    ] {
        org(&hub, slug, kind).await;
    }
    for (slug, kind) in [
        ("sibgiu", pb::OrganizationKind::University),
        ("kvantorium-nkz", pb::OrganizationKind::Technopark),
    ] {
        org(&peer, slug, kind).await;
    }
    full_mesh(&[&hub, &peer]).await;
    let school = hub.member_token("gym44-nkz", pb::Role::Coordinator).await;
    let school_teacher = hub.member_token("gym44-nkz", pb::Role::Teacher).await;
    let other_school = hub.member_token("school-other", pb::Role::Admin).await;
    let college = hub.member_token("nkz-college", pb::Role::Coordinator).await;
    let reviewer = hub.member_token("imc-nkz", pb::Role::Coordinator).await;
    let university = peer.member_token("sibgiu", pb::Role::Coordinator).await;
    let technopark = peer
        .member_token("kvantorium-nkz", pb::Role::Coordinator)
        .await;

    // The network's offerings: on the peer, the technopark's lessons, the
    // university's olympiad preparation and lab, and a course for younger
    // pupils; on the hub, the college's two trials in the bank.
    let technology = publish(
        &peer,
        &technopark,
        "kvantorium-nkz",
        series(
            "«Технология»: робототехника",
            pb::ActivityKind::Course,
            1,
            4,
            (9, 11),
        ),
    )
    .await;
    let olympiad = publish(
        &peer,
        &university,
        "sibgiu",
        series(
            "Подготовка к олимпиаде «Звезда»",
            pb::ActivityKind::OlympiadPrepCourse,
            4,
            3,
            (9, 11),
        ),
    )
    .await;
    let younger = publish(
        &peer,
        &university,
        "sibgiu",
        series(
            "Занимательная физика",
            pb::ActivityKind::Course,
            5,
            1,
            (5, 7),
        ),
    )
    .await;
    let lab = pb::booking_client::BookingClient::with_interceptor(
        peer.channel().await,
        Bearer::new(&university),
    )
    .create_resource(pb::CreateResourceRequest {
        owner: "sibgiu".into(),
        resource: Some(pb::Resource {
            kind: pb::ResourceKind::Lab.into(),
            name: "Лаборатория мехатроники".into(),
            capacity: 30,
            hours: (1..=5)
                .map(|weekday| pb::WeeklyHours {
                    weekday,
                    opens: "08:00".into(),
                    closes: "20:00".into(),
                })
                .collect(),
            rules: Some(pb::BookingRules {
                min_minutes: 30,
                max_minutes: 240,
                min_notice_minutes: 0,
                max_advance_days: 400,
                buffer_minutes: 0,
            }),
            approval: pb::ApprovalPolicy::Automatic.into(),
            access: pb::Access::Network.into(),
            ..Default::default()
        }),
    })
    .await
    .unwrap()
    .into_inner();
    let engineer = trial_session(&hub, &college, &reviewer, "Инженер-технолог", 10).await;
    let welder = trial_session(&hub, &college, &reviewer, "Сварщик", 17).await;
    let camp = publish(
        &hub,
        &school,
        "gym44-nkz",
        series(
            "Профильная смена «Инженерные каникулы»",
            pb::ActivityKind::ProfileCamp,
            22,
            1,
            (9, 11),
        ),
    )
    .await;
    // The hub knows the peer's offerings once they are mirrored.
    edufed_tests::eventually("the peer's offerings mirrored on the hub", || {
        let c = calendar(&hub, &school);
        let ids = [technology.clone(), olympiad.clone()];
        async move {
            let mut c = c.await;
            for id in &ids {
                c.get_activity(pb::GetActivityRequest {
                    activity_id: id.clone(),
                })
                .await
                .ok()?;
            }
            Some(())
        }
    })
    .await;
    edufed_tests::eventually("the peer's lab mirrored on the hub", || {
        let id = lab.id.clone();
        let node = &hub;
        let token = school.clone();
        async move {
            pb::booking_client::BookingClient::with_interceptor(
                node.channel().await,
                Bearer::new(&token),
            )
            .get_resource(pb::GetResourceRequest { resource_id: id })
            .await
            .ok()
        }
    })
    .await;

    let template = |items: Vec<pb::RouteItemDraft>| pb::RouteTemplateDraft {
        title: "Инженерный профиль, 10 класс".into(),
        profile: "инженерный".into(),
        grade: 10,
        school_year: 2026,
        items,
    };
    let items = vec![
        activity_item("«Технология» в Кванториуме", &technology, true),
        activity_item("Олимпиадная подготовка СибГИУ", &olympiad, true),
        activity_item("Проба «Инженер-технолог»", &engineer, true),
        activity_item("Проба «Сварщик»", &welder, false),
        activity_item("Профильная смена", &camp, false),
        pb::RouteItemDraft {
            title: "Практикум в лаборатории мехатроники".into(),
            offering: Some(pb::RouteOffering {
                resource_id: lab.id.clone(),
                start: "2027-02-03T10:00".into(),
                end: "2027-02-03T12:00".into(),
                purpose: "Практикум инженерного 10 класса".into(),
                ..Default::default()
            }),
            required: true,
            hours: 0,
            note: String::new(),
        },
    ];
    let mut by_school = routes(&hub, &school).await;

    // Refused: a child's name anywhere, an offering for other grades, a
    // teacher composing, a school composing another's.
    let mut named = items.clone();
    named[3].note = "Для Маши и Кирилла из 10 «И»".into();
    let mut younger_items = items.clone();
    younger_items[1] = activity_item("Физика", &younger, true);
    for (draft, field) in [
        (
            pb::RouteTemplateDraft {
                title: "Маршрут Петрова Ивана Сергеевича".into(),
                ..template(items.clone())
            },
            "template.title",
        ),
        (template(named), "template.items[3].note"),
        (
            template(younger_items),
            "template.items[1].offering.activity_id",
        ),
    ] {
        let refused = by_school
            .create_route_template(pb::CreateRouteTemplateRequest {
                school: "gym44-nkz".into(),
                template: Some(draft),
            })
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
        assert_eq!(field_of(&refused), field, "{refused:?}");
    }
    for (token, school_slug) in [(&school_teacher, "gym44-nkz"), (&other_school, "gym44-nkz")] {
        let denied = routes(&hub, token)
            .await
            .create_route_template(pb::CreateRouteTemplateRequest {
                school: school_slug.into(),
                template: Some(template(items.clone())),
            })
            .await
            .unwrap_err();
        assert_eq!(denied.code(), Code::PermissionDenied);
    }

    let t = by_school
        .create_route_template(pb::CreateRouteTemplateRequest {
            school: "gym44-nkz".into(),
            template: Some(template(items.clone())),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(t.items.len(), 6);
    // Hours from the offerings: 4×2 + 3×2 + 2 + 2 + 2 + 2.
    assert_eq!((t.required_hours, t.total_hours), (18, 22));
    assert!(t.items[2].trial && t.items[3].trial && !t.items[0].trial);
    assert_eq!(t.items[0].home_node, peer.node.node_id());
    assert_eq!(t.items[5].home_node, peer.node.node_id());
    assert!(t.items[2].home_node.is_empty());
    // Another school neither sees nor lists it.
    let hidden = routes(&hub, &other_school)
        .await
        .get_route_template(pb::GetRouteTemplateRequest { id: t.id.clone() })
        .await
        .unwrap_err();
    assert_eq!(hidden.code(), Code::NotFound);

    // Assigned to a cohort by code and count, with the welding trial
    // chosen and the camp not; a code that is a name is refused.
    let cohort = |code: &str| pb::RouteCohort {
        code: code.into(),
        headcount: 14,
        teacher: "Классный руководитель 10 «И»".into(),
        teacher_contact: String::new(),
    };
    let misnamed = by_school
        .assign_route(pb::AssignRouteRequest {
            template_id: t.id.clone(),
            cohort: Some(cohort("Petrov")),
            electives: vec![4],
        })
        .await
        .unwrap_err();
    assert_eq!(field_of(&misnamed), "cohort.code");
    let required_chosen = by_school
        .assign_route(pb::AssignRouteRequest {
            template_id: t.id.clone(),
            cohort: Some(cohort("10И-2026")),
            electives: vec![1],
        })
        .await
        .unwrap_err();
    assert_eq!(field_of(&required_chosen), "electives[0]");
    let route = by_school
        .assign_route(pb::AssignRouteRequest {
            template_id: t.id.clone(),
            cohort: Some(cohort("10И-2026")),
            electives: vec![4],
        })
        .await
        .unwrap()
        .into_inner();
    let statuses = |r: &pb::Route| -> Vec<i32> { r.items.iter().map(|i| i.status).collect() };
    let planned = pb::RouteItemStatus::Planned as i32;
    let not_chosen = pb::RouteItemStatus::NotChosen as i32;
    assert_eq!(
        statuses(&route),
        [planned, planned, planned, planned, not_chosen, planned]
    );

    // Enrolled: registrations on both nodes and the lab booked on the
    // peer; asking again asks for nothing twice.
    let enrolled = by_school
        .enrol_route(pb::EnrolRouteRequest {
            id: route.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let registered = pb::RouteItemStatus::Registered as i32;
    assert_eq!(
        statuses(&enrolled),
        [
            registered, registered, registered, registered, not_chosen, registered
        ],
        "{:?}",
        enrolled
            .items
            .iter()
            .map(|i| &i.refusal)
            .collect::<Vec<_>>()
    );
    let again = by_school
        .enrol_route(pb::EnrolRouteRequest {
            id: route.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(statuses(&again), statuses(&enrolled));
    let at_technopark = registrations_on(&peer, &technopark, &technology).await;
    assert_eq!(
        at_technopark.len(),
        1,
        "one registration, however often asked"
    );
    let cohort_there = at_technopark[0].cohort.clone().unwrap();
    assert_eq!(cohort_there.headcount, 14);
    assert_eq!(at_technopark[0].id, enrolled.items[0].record_id);
    assert_eq!(registrations_on(&hub, &college, &engineer).await.len(), 1);
    let booked = pb::booking_client::BookingClient::with_interceptor(
        peer.channel().await,
        Bearer::new(&university),
    )
    .get_booking(pb::GetBookingRequest {
        booking_id: enrolled.items[5].record_id.clone(),
    })
    .await
    .unwrap()
    .into_inner();
    assert_eq!(booked.headcount, 14);

    // The route's calendar: 4 + 3 + 1 + 1 occurrences and the lab, by start.
    let cal = by_school
        .route_calendar(pb::RouteCalendarRequest {
            id: route.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(cal.occurrences.len(), 10);
    let first = &cal.occurrences[0];
    assert_eq!(
        (first.item, first.title.as_str()),
        (1, "«Технология» в Кванториуме")
    );
    let starts: Vec<i64> = cal
        .occurrences
        .iter()
        .map(|o| o.start.unwrap().seconds)
        .collect();
    assert!(starts.is_sorted());
    assert!(cal.occurrences.iter().all(|o| o.item != 5));

    // The same calendar as a private iCalendar feed.
    let paths = calendar(&hub, &school)
        .await
        .get_feed_urls(pb::GetFeedUrlsRequest {
            route_id: route.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(paths.public_path.is_empty());
    let (status, body) = edufed_tests::http_get(hub.node.addr(), &paths.private_path).await;
    assert_eq!(status, 200, "{body}");
    let body = body.replace("\r\n ", "");
    assert_eq!(body.matches("BEGIN:VEVENT").count(), 10);
    assert!(body.contains("Проба «Сварщик»"));
    assert!(body.contains("Лаборатория мехатроники"));
    let other_paths = calendar(&hub, &other_school)
        .await
        .get_feed_urls(pb::GetFeedUrlsRequest {
            route_id: route.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(other_paths.code(), Code::NotFound);

    // Followed: the trials attended, the olympiad preparation missed.
    let follow = |item: u32, attended: Option<u32>, result: &str| pb::FollowRouteItemRequest {
        id: route.id.clone(),
        expected_version: 0,
        item,
        attended,
        result: result.into(),
    };
    for (item, attended, result) in [
        (1, Some(14), "зачёт"),
        (3, Some(14), "все защитили работы"),
        (4, Some(12), ""),
        (2, None, "перенесли на весну"),
    ] {
        by_school
            .follow_route_item(follow(item, attended, result))
            .await
            .unwrap();
    }
    let named_result = by_school
        .follow_route_item(follow(6, Some(14), "лучший — Петров И. С."))
        .await
        .unwrap_err();
    assert_eq!(field_of(&named_result), "result");
    let too_many = by_school
        .follow_route_item(follow(6, Some(15), ""))
        .await
        .unwrap_err();
    assert_eq!(field_of(&too_many), "attended");
    let followed = by_school
        .follow_route_item(follow(6, Some(14), "собрали манипулятор"))
        .await
        .unwrap()
        .into_inner();
    let figures = followed.figures.unwrap();
    assert_eq!(figures.trial_visits, 26);
    assert!((figures.trials_per_pupil - 26.0 / 14.0).abs() < 1e-9);
    assert_eq!((figures.items_attended, figures.items_chosen), (4, 5));
    assert_eq!(followed.items[1].status, pb::RouteItemStatus::Missed as i32);

    // The outcome: the leavers' profiles and who go on in engineering.
    let over = by_school
        .conclude_route(pb::ConcludeRouteRequest {
            id: route.id.clone(),
            expected_version: 0,
            outcome: Some(pb::RouteOutcome {
                profiles: vec![pb::ProfileCount {
                    profile: "инженерный".into(),
                    count: 15,
                }],
                leavers: Some(14),
                continuing: Some(10),
            }),
        })
        .await
        .unwrap_err();
    assert_eq!(field_of(&over), "outcome.profiles");
    let done = by_school
        .conclude_route(pb::ConcludeRouteRequest {
            id: route.id.clone(),
            expected_version: followed.version,
            outcome: Some(pb::RouteOutcome {
                profiles: vec![
                    pb::ProfileCount {
                        profile: "инженерный".into(),
                        count: 11,
                    },
                    pb::ProfileCount {
                        profile: "естественно-научный".into(),
                        count: 2,
                    },
                ],
                leavers: Some(14),
                continuing: Some(11),
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(done.state, pb::RouteState::Completed as i32);
    let after = by_school
        .follow_route_item(follow(1, Some(1), ""))
        .await
        .unwrap_err();
    assert_eq!(after.code(), Code::FailedPrecondition);

    // Copied for next year's cohort, assigned, enrolled and cancelled: its
    // registrations are withdrawn on the nodes they reached.
    let next = by_school
        .copy_route_template(pb::CopyRouteTemplateRequest {
            id: t.id.clone(),
            school_year: 2027,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        (next.school_year, next.copied_from.as_str()),
        (2027, t.id.as_str())
    );
    let listed = by_school
        .list_route_templates(pb::ListRouteTemplatesRequest {
            school: "gym44-nkz".into(),
            school_year: 0,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.templates.len(), 2);
    let second = by_school
        .assign_route(pb::AssignRouteRequest {
            template_id: t.id.clone(),
            cohort: Some(pb::RouteCohort {
                headcount: 10,
                ..cohort("10Т-2026")
            }),
            electives: vec![],
        })
        .await
        .unwrap()
        .into_inner();
    let second = by_school
        .enrol_route(pb::EnrolRouteRequest {
            id: second.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(second.items[0].status, registered);
    let cancelled = by_school
        .cancel_route(pb::CancelRouteRequest {
            id: second.id.clone(),
            expected_version: 0,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(cancelled.state, pb::RouteState::Cancelled as i32);
    let withdrawn = pb::RouteItemStatus::Withdrawn as i32;
    assert!(
        cancelled
            .items
            .iter()
            .all(|i| i.status == withdrawn || i.status == not_chosen)
    );
    let at_technopark = registrations_on(&peer, &technopark, &technology).await;
    let states: Vec<i32> = at_technopark.iter().map(|r| r.state).collect();
    assert_eq!(at_technopark.len(), 2);
    assert!(states.contains(&(pb::RegistrationState::Withdrawn as i32)));
    assert!(states.contains(&(pb::RegistrationState::Confirmed as i32)));
    let routes_listed = by_school
        .list_routes(pb::ListRoutesRequest {
            school: "gym44-nkz".into(),
            school_year: 2026,
            state: pb::RouteState::Completed.into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(routes_listed.routes.len(), 1);
    assert_eq!(routes_listed.routes[0].id, route.id);

    // Grade 11's leavers: 18 of 20 chose a profile, 12 go on in
    // engineering. The indicators count them, and the trials per pupil of
    // the cohorts on routes against the target of ten.
    let leavers_template = by_school
        .create_route_template(pb::CreateRouteTemplateRequest {
            school: "gym44-nkz".into(),
            template: Some(pb::RouteTemplateDraft {
                title: "Инженерный профиль, 11 класс".into(),
                grade: 11,
                items: vec![activity_item(
                    "«Технология» в Кванториуме",
                    &technology,
                    true,
                )],
                ..template(vec![])
            }),
        })
        .await
        .unwrap()
        .into_inner();
    let leavers = by_school
        .assign_route(pb::AssignRouteRequest {
            template_id: leavers_template.id.clone(),
            cohort: Some(pb::RouteCohort {
                headcount: 20,
                ..cohort("11И-2026")
            }),
            electives: vec![],
        })
        .await
        .unwrap()
        .into_inner();
    by_school
        .conclude_route(pb::ConcludeRouteRequest {
            id: leavers.id.clone(),
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
        .await
        .unwrap();
    let indicators = pb::reports_client::ReportsClient::with_interceptor(
        hub.channel().await,
        Bearer::new(&school),
    )
    .indicators_report(pb::ReportRequest {
        from: "2026-09-01".into(),
        to: "2027-08-31".into(),
        organization: "gym44-nkz".into(),
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner();
    let row = |indicator: &str| {
        indicators
            .rows
            .iter()
            .find(|r| r.indicator == indicator && r.organization.is_empty())
            .unwrap_or_else(|| panic!("{indicator} reported"))
            .clone()
    };
    let trials = row("trials_per_pupil");
    // 26 pupil-visits over the 14 + 20 pupils (the cancelled route left out).
    assert_eq!((trials.numerator, trials.denominator), (26.0, 34.0));
    assert!((trials.value - 0.76).abs() < 1e-9);
    assert!(trials.has_target && (trials.target - 10.0).abs() < 1e-9);
    assert_eq!(trials.target_due, "2027-08-31");
    let oriented = row("leavers_oriented");
    assert!((oriented.value - 90.0).abs() < 1e-9, "{oriented:?}");
    assert!((oriented.target - 90.0).abs() < 1e-9);
    let continuing = row("leavers_continuing");
    assert!((continuing.value - 60.0).abs() < 1e-9, "{continuing:?}");
    assert!(!continuing.has_target);
});
