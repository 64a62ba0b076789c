//! The network's bank of professional trials, end to end: МГМЛ's trial
//! system with three hosts, a methodical centre that returns one programme
//! with a comment and approves its revision, refuses another, and a bank
//! that lists to schools only what it approved, on the hosts' node and on
//! a peer's.

use edufed_proto::v1 as pb;
use edufed_tests::{
    Backend, Bearer, TestDb, TestNode, both_backends, eventually, full_mesh, org_request,
};
use tonic::Code;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tonic_types::StatusExt as _;

type Client = pb::trials_client::TrialsClient<InterceptedService<Channel, Bearer>>;

async fn client(node: &TestNode, token: &str) -> Client {
    pb::trials_client::TrialsClient::with_interceptor(node.channel().await, Bearer::new(token))
}

fn field_of(status: &tonic::Status) -> String {
    status
        .get_error_details()
        .bad_request()
        .map(|b| b.field_violations[0].field.clone())
        .unwrap_or_default()
}

fn programme(profession: &str) -> pb::TrialProgramme {
    pb::TrialProgramme {
        profession: profession.into(),
        direction: pb::Direction::CareerGuidance.into(),
        goals: "Познакомить с профессией на рабочем месте".into(),
        content: "1. Знакомство с производством.\n2. Практическое задание.\n3. Защита работы."
            .into(),
        hours: 12,
        weeks: 3,
        grades: Some(pb::GradeRange { min: 7, max: 8 }),
        workplaces: 12,
        responsible: Some(pb::TrialResponsible {
            name: "Сидоров О. П.".into(),
            position: "мастер производственного обучения".into(),
            contact: String::new(),
        }),
        safety: "Вводный инструктаж; спецодежда выдаётся.".into(),
    }
}

async fn org(node: &TestNode, slug: &str, kind: pb::OrganizationKind) {
    node.operator()
        .await
        .create_organization(pb::CreateOrganizationRequest {
            kind: kind.into(),
            ..org_request(slug)
        })
        .await
        .unwrap();
}

fn names(list: &pb::ListTrialsResponse) -> Vec<String> {
    let mut found: Vec<String> = list
        .trials
        .iter()
        .map(|t| t.programme.as_ref().unwrap().profession.clone())
        .collect();
    found.sort();
    found
}

both_backends!(mgml_s_trial_bank, |backend| async move {
    // One clock for both nodes, before the sessions; moved past them for
    // the results.
    let clock = edufed_domain::time::Clock::manual("2027-01-10T05:00:00Z".parse().unwrap());
    let hub = TestNode::start_with_clock(TestDb::new(backend).await, clock.clone(), |_| {}).await;
    let peer =
        TestNode::start_with_clock(TestDb::new(Backend::Sqlite).await, clock.clone(), |_| {}).await;
    for (slug, kind) in [
        ("mgml", pb::OrganizationKind::School),
        ("imc", pb::OrganizationKind::MethodicalCentre),
        ("college", pb::OrganizationKind::College),
        ("mmk", pb::OrganizationKind::Enterprise),
        ("kvantorium", pb::OrganizationKind::Technopark),
    ] {
        org(&hub, slug, kind).await;
    }
    org(&peer, "tusur", pb::OrganizationKind::University).await;
    full_mesh(&[&hub, &peer]).await;
    let reviewer = hub.member_token("imc", pb::Role::Coordinator).await;
    let school = hub.member_token("mgml", pb::Role::Coordinator).await;
    let college = hub.member_token("college", pb::Role::Coordinator).await;
    let college_teacher = hub.member_token("college", pb::Role::Teacher).await;
    let enterprise = hub.member_token("mmk", pb::Role::Admin).await;
    let technopark = hub.member_token("kvantorium", pb::Role::Admin).await;
    let peer_member = peer.member_token("tusur", pb::Role::Coordinator).await;

    // Bad programmes are refused naming the field.
    let mut by_college = client(&hub, &college).await;
    for (bad, field) in [
        (
            pb::TrialProgramme {
                weeks: 14,
                ..programme("Повар")
            },
            "programme.weeks",
        ),
        (
            pb::TrialProgramme {
                grades: Some(pb::GradeRange { min: 8, max: 7 }),
                ..programme("Повар")
            },
            "programme.grades",
        ),
        (
            pb::TrialProgramme {
                content: " ".into(),
                ..programme("Повар")
            },
            "programme.content",
        ),
    ] {
        let refused = by_college
            .create_trial(pb::CreateTrialRequest {
                host: "college".into(),
                programme: Some(bad),
            })
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::InvalidArgument);
        assert_eq!(field_of(&refused), field);
    }
    // A teacher does not prepare the college's trials; nobody prepares
    // another's.
    for (token, host) in [(&college_teacher, "college"), (&enterprise, "college")] {
        let denied = client(&hub, token)
            .await
            .create_trial(pb::CreateTrialRequest {
                host: host.into(),
                programme: Some(programme("Повар")),
            })
            .await
            .unwrap_err();
        assert_eq!(denied.code(), Code::PermissionDenied);
    }

    // Three hosts, three programmes, submitted.
    let (mut hosts, mut made) = (Vec::new(), Vec::new());
    for (token, host, profession) in [
        (&college, "college", "Повар-кондитер"),
        (&enterprise, "mmk", "Сталевар"),
        (&technopark, "kvantorium", "Инженер-робототехник"),
    ] {
        let mut host_client = client(&hub, token).await;
        let draft = host_client
            .create_trial(pb::CreateTrialRequest {
                host: host.into(),
                programme: Some(programme(profession)),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(draft.state, pb::TrialState::Draft as i32);
        let submitted = host_client
            .submit_trial(pb::TrialStepRequest {
                id: draft.id.clone(),
                expected_version: draft.version,
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(submitted.state, pb::TrialState::Submitted as i32);
        hosts.push(host_client);
        made.push(submitted);
    }

    // Nothing is in the bank yet: schools see none, the reviewer sees the
    // three waiting.
    let mut by_school = client(&hub, &school).await;
    let bank = |state: pb::TrialState| pb::ListTrialsRequest {
        state: state.into(),
        ..Default::default()
    };
    assert!(
        by_school
            .list_trials(pb::ListTrialsRequest::default())
            .await
            .unwrap()
            .into_inner()
            .trials
            .is_empty()
    );
    let mut by_reviewer = client(&hub, &reviewer).await;
    let waiting = by_reviewer
        .list_trials(bank(pb::TrialState::Submitted))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(waiting.trials.len(), 3);
    let hidden = by_school
        .get_trial(pb::GetTrialRequest {
            id: made[0].id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(hidden.code(), Code::NotFound);
    // Only a methodical centre reviews.
    let not_a_reviewer = by_school
        .review_trial(pb::ReviewTrialRequest {
            id: made[0].id.clone(),
            decision: pb::ReviewDecision::Approve.into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(not_a_reviewer.code(), Code::NotFound, "{not_a_reviewer:?}");
    let own_review = hosts[0]
        .review_trial(pb::ReviewTrialRequest {
            id: made[0].id.clone(),
            decision: pb::ReviewDecision::Approve.into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(own_review.code(), Code::PermissionDenied);

    // The college's programme goes back with a comment, is revised and
    // approved on its second revision.
    let silent = by_reviewer
        .review_trial(pb::ReviewTrialRequest {
            id: made[0].id.clone(),
            decision: pb::ReviewDecision::Return.into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(field_of(&silent), "comment");
    let returned = by_reviewer
        .review_trial(pb::ReviewTrialRequest {
            id: made[0].id.clone(),
            expected_version: made[0].version,
            decision: pb::ReviewDecision::Return.into(),
            comment: "Уточните требования к санитарной книжке и спецодежде".into(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(returned.state, pb::TrialState::Returned as i32);
    let stale = hosts[0]
        .revise_trial(pb::ReviseTrialRequest {
            id: returned.id.clone(),
            expected_version: made[0].version,
            programme: Some(programme("Повар-кондитер")),
        })
        .await
        .unwrap_err();
    assert_eq!(stale.code(), Code::FailedPrecondition);
    let revised = hosts[0]
        .revise_trial(pb::ReviseTrialRequest {
            id: returned.id.clone(),
            expected_version: returned.version,
            programme: Some(pb::TrialProgramme {
                safety: "Санитарная книжка не нужна: работа без контакта с продуктами \
                         для продажи; халат и колпак выдаются."
                    .into(),
                ..programme("Повар-кондитер")
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(revised.revision, 2);
    hosts[0]
        .submit_trial(pb::TrialStepRequest {
            id: revised.id.clone(),
            expected_version: 0,
        })
        .await
        .unwrap();
    for (i, decision, comment) in [
        (0, pb::ReviewDecision::Approve, ""),
        (1, pb::ReviewDecision::Approve, ""),
        (
            2,
            pb::ReviewDecision::Refuse,
            "Программа не о профессии: это экскурсия",
        ),
    ] {
        by_reviewer
            .review_trial(pb::ReviewTrialRequest {
                id: made[i].id.clone(),
                decision: decision.into(),
                comment: comment.into(),
                ..Default::default()
            })
            .await
            .unwrap();
    }
    let approved = by_school
        .get_trial(pb::GetTrialRequest {
            id: made[0].id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        approved
            .reviews
            .iter()
            .map(|r| (r.revision, r.decision))
            .collect::<Vec<_>>(),
        [
            (1, pb::ReviewDecision::Return as i32),
            (2, pb::ReviewDecision::Approve as i32)
        ]
    );

    // Schools find the approved two, by grade, direction and text; never
    // the refused one.
    let listed = by_school
        .list_trials(pb::ListTrialsRequest {
            grade: 7,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(names(&listed), ["Повар-кондитер", "Сталевар"]);
    let by_text = by_school
        .list_trials(pb::ListTrialsRequest {
            query: "СТАЛЕВАР".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(names(&by_text), ["Сталевар"]);
    for grade in [6, 9] {
        assert!(
            by_school
                .list_trials(pb::ListTrialsRequest {
                    grade,
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner()
                .trials
                .is_empty()
        );
    }
    let refused = by_school
        .get_trial(pb::GetTrialRequest {
            id: made[2].id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::NotFound);
    let resubmit = hosts[2]
        .submit_trial(pb::TrialStepRequest {
            id: made[2].id.clone(),
            expected_version: 0,
        })
        .await
        .unwrap_err();
    assert_eq!(resubmit.code(), Code::FailedPrecondition);

    // The college schedules the approved trial's sessions in the calendar;
    // a session names its trial, which must be the publisher's and in the
    // bank.
    let session = |trial: &str| pb::ActivityDetails {
        title: "Профессиональная проба «Повар-кондитер»".into(),
        kind: pb::ActivityKind::ProfessionalTrial.into(),
        audience: Some(pb::Audience {
            students: Some(pb::GradeRange { min: 7, max: 8 }),
            ..Default::default()
        }),
        format: pb::Format::InPerson.into(),
        place: Some(pb::Place {
            kind: pb::PlaceKind::AtPublisher.into(),
            value: String::new(),
        }),
        capacity: 12,
        visibility: pb::Visibility::Public.into(),
        schedule: Some(pb::Schedule {
            time_zone: "Asia/Tomsk".into(),
            start: "2027-02-02T15:00".into(),
            end: "2027-02-02T17:00".into(),
            recurrence: Some(pb::Recurrence {
                rule: "FREQ=WEEKLY;COUNT=3".into(),
                ..Default::default()
            }),
            ..Default::default()
        }),
        trial_id: trial.into(),
        ..Default::default()
    };
    let mut college_calendar = pb::calendar_client::CalendarClient::with_interceptor(
        hub.channel().await,
        Bearer::new(&college),
    );
    let publish = |details| pb::PublishActivityRequest {
        publisher: "college".into(),
        details: Some(details),
        draft: false,
    };
    let nameless = college_calendar
        .publish_activity(publish(session("")))
        .await
        .unwrap_err();
    assert_eq!(field_of(&nameless), "details.trial_id");
    let someone_elses = college_calendar
        .publish_activity(publish(session(&made[1].id)))
        .await
        .unwrap_err();
    assert_eq!(someone_elses.code(), Code::NotFound);
    let published = college_calendar
        .publish_activity(publish(session(&made[0].id)))
        .await
        .unwrap()
        .into_inner();
    let mut school_calendar = pb::calendar_client::CalendarClient::with_interceptor(
        hub.channel().await,
        Bearer::new(&school),
    );
    let window = pb::ListOccurrencesRequest {
        from: Some(prost_types::Timestamp {
            seconds: 1_798_761_600, // 2027-01-01
            nanos: 0,
        }),
        to: Some(prost_types::Timestamp {
            seconds: 1_803_859_200, // 2027-03-01
            nanos: 0,
        }),
        kind: pb::ActivityKind::ProfessionalTrial.into(),
        page_size: 100,
        ..Default::default()
    };
    let sessions = |list: pb::ListOccurrencesResponse| list.occurrences.len();
    assert_eq!(
        sessions(
            school_calendar
                .list_occurrences(window.clone())
                .await
                .unwrap()
                .into_inner()
        ),
        3
    );
    let feed = |node: &TestNode| {
        let addr = node.node.addr();
        // Unfolded: long iCalendar lines go on after a line break and a space.
        async move {
            edufed_tests::http_get(addr, "/ics/network.ics")
                .await
                .1
                .replace("\r\n ", "")
        }
    };
    assert!(feed(&hub).await.contains("Повар-кондитер"));
    // A school registers a group of grade 7 for the first session.
    let cohort = school_calendar
        .register(pb::RegisterRequest {
            activity_id: published.id.clone(),
            venue: 0,
            occurrence_start: None,
            cohort: Some(pb::Cohort {
                organization: "mgml".into(),
                grades: Some(pb::GradeRange { min: 7, max: 7 }),
                headcount: 10,
                teacher: "Классный руководитель 7 «А»".into(),
                teacher_contact: String::new(),
                teachers: false,
            }),
        })
        .await
        .unwrap()
        .into_inner();
    // While the college revises the trial it is out of the bank: its
    // sessions leave the calendar and the feeds, and no new one is
    // published; approved again, they are back.
    let in_review = hosts[0]
        .revise_trial(pb::ReviseTrialRequest {
            id: made[0].id.clone(),
            expected_version: 0,
            programme: Some(pb::TrialProgramme {
                hours: 14,
                ..programme("Повар-кондитер")
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(in_review.state, pb::TrialState::Submitted as i32);
    assert_eq!(
        sessions(
            school_calendar
                .list_occurrences(window.clone())
                .await
                .unwrap()
                .into_inner()
        ),
        0
    );
    assert!(!feed(&hub).await.contains("Повар-кондитер"));
    let out_of_bank = college_calendar
        .publish_activity(publish(session(&made[0].id)))
        .await
        .unwrap_err();
    assert_eq!(out_of_bank.code(), Code::FailedPrecondition);
    assert!(out_of_bank.message().contains("bank"), "{out_of_bank:?}");
    by_reviewer
        .review_trial(pb::ReviewTrialRequest {
            id: made[0].id.clone(),
            decision: pb::ReviewDecision::Approve.into(),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(
        sessions(
            school_calendar
                .list_occurrences(window.clone())
                .await
                .unwrap()
                .into_inner()
        ),
        3
    );
    // After the sessions, the college records how the group did: the
    // pupils' trial counts toward their "digital footprint" in reports.
    clock.set("2027-03-01T05:00:00Z".parse().unwrap());
    let recorded = college_calendar
        .record_results(pb::RecordResultsRequest {
            registration_id: cohort.id.clone(),
            results: Some(pb::Results {
                attended: 9,
                participants: 0,
                prize_winners: 0,
                winners: 0,
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(recorded.results.unwrap().attended, 9);
    let participation = pb::reports_client::ReportsClient::with_interceptor(
        hub.channel().await,
        Bearer::new(&school),
    )
    .participation_report(pb::ReportRequest {
        from: "2027-02-01".into(),
        to: "2027-02-28".into(),
        organization: "mgml".into(),
        ..Default::default()
    })
    .await
    .unwrap()
    .into_inner();
    assert_eq!(participation.total.unwrap().attended, 9);

    // The peer's university finds the approved trials in the bank the hub
    // shares; when the enterprise withdraws its trial, it leaves there too.
    let mut on_peer = client(&peer, &peer_member).await;
    let shared = eventually("the bank shared with the peer", || {
        let mut on_peer = on_peer.clone();
        async move {
            let list = on_peer
                .list_trials(pb::ListTrialsRequest::default())
                .await
                .unwrap()
                .into_inner();
            (list.trials.len() == 2).then_some(list)
        }
    })
    .await;
    assert_eq!(names(&shared), ["Повар-кондитер", "Сталевар"]);
    assert!(
        shared
            .trials
            .iter()
            .all(|t| t.home_node == hub.node.node_id())
    );
    hosts[1]
        .withdraw_trial(pb::TrialStepRequest {
            id: made[1].id.clone(),
            expected_version: 0,
        })
        .await
        .unwrap();
    eventually("the withdrawn trial gone from the peer's bank", || {
        let mut on_peer = on_peer.clone();
        async move {
            let list = on_peer
                .list_trials(pb::ListTrialsRequest::default())
                .await
                .unwrap()
                .into_inner();
            (names(&list) == ["Повар-кондитер"]).then_some(())
        }
    })
    .await;
    let gone = on_peer
        .get_trial(pb::GetTrialRequest {
            id: made[1].id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(gone.code(), Code::NotFound);

    // The peer's calendar has the college's sessions while its trial is in
    // the bank, and loses them when the college withdraws it.
    let peer_calendar = pb::calendar_client::CalendarClient::with_interceptor(
        peer.channel().await,
        Bearer::new(&peer_member),
    );
    let peer_sessions = |calendar: &pb::calendar_client::CalendarClient<_>| {
        let mut calendar = calendar.clone();
        let window = window.clone();
        async move {
            calendar
                .list_occurrences(window)
                .await
                .unwrap()
                .into_inner()
                .occurrences
                .len()
        }
    };
    eventually("the sessions mirrored on the peer", || {
        let found = peer_sessions(&peer_calendar);
        async move { (found.await == 3).then_some(()) }
    })
    .await;
    hosts[0]
        .withdraw_trial(pb::TrialStepRequest {
            id: made[0].id.clone(),
            expected_version: 0,
        })
        .await
        .unwrap();
    eventually("the sessions gone from the peer's calendar", || {
        let found = peer_sessions(&peer_calendar);
        async move { (found.await == 0).then_some(()) }
    })
    .await;
});
