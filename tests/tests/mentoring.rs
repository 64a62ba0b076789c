//! The Mentoring service end to end: Lyceum 7's programme «молодой
//! учитель – опытный учитель» with pairs across two schools, checkpoints
//! on its monitoring card, outcomes, the closed register, and pupils who
//! are never named.

use edufed_proto::v1 as pb;
use edufed_tests::{
    Backend, Bearer, TestDb, TestNode, both_backends, eventually, full_mesh, http_get, member,
    org_request,
};
use sqlx::Connection as _;
use tonic::Code;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tonic_types::StatusExt as _;

type Client = pb::mentoring_client::MentoringClient<InterceptedService<Channel, Bearer>>;

async fn client(node: &TestNode, token: &str) -> Client {
    pb::mentoring_client::MentoringClient::with_interceptor(
        node.channel().await,
        Bearer::new(token),
    )
}

fn field_of(status: &tonic::Status) -> String {
    status
        .get_error_details()
        .bad_request()
        .map(|b| b.field_violations[0].field.clone())
        .unwrap_or_default()
}

fn criterion(key: &str, title: &str) -> pb::MentoringCriterion {
    pb::MentoringCriterion {
        key: key.into(),
        title: title.into(),
        scale: 5,
    }
}

fn young_teachers(coordinator: &str, partners: &[&str]) -> pb::MentoringProgrammeDetails {
    pb::MentoringProgrammeDetails {
        title: "Молодой учитель – опытный учитель".into(),
        form: pb::MentoringForm::YoungTeacher.into(),
        partners: partners.iter().map(|p| (*p).to_owned()).collect(),
        starts_on: "2025-09-01".into(),
        ends_on: "2026-05-31".into(),
        goals: "Адаптация молодых специалистов, открытые уроки на фестивале".into(),
        coordinator_id: coordinator.into(),
        criteria: vec![
            criterion("success", "Профессиональная успешность молодого учителя"),
            criterion("satisfaction", "Удовлетворённость наставляемого"),
            criterion("growth", "Профессиональный рост наставника"),
        ],
        ..Default::default()
    }
}

fn adult(org: &str, name: &str, position: &str) -> pb::MentoringParticipant {
    pb::MentoringParticipant {
        kind: pb::MentoringParticipantKind::Adult.into(),
        organization: org.into(),
        name: name.into(),
        position: position.into(),
        ..Default::default()
    }
}

fn scores(values: [u32; 3]) -> Vec<pb::MentoringScore> {
    ["success", "satisfaction", "growth"]
        .into_iter()
        .zip(values)
        .map(|(criterion, value)| pb::MentoringScore {
            criterion: criterion.into(),
            value,
        })
        .collect()
}

/// The texts of a column of the node's database.
async fn texts(node: &TestNode, sql: &str) -> Vec<String> {
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(&node.db.url).await.unwrap();
    let rows: Vec<(String,)> = sqlx::query_as(sql).fetch_all(&mut conn).await.unwrap();
    conn.close().await.ok();
    rows.into_iter().map(|(text,)| text).collect()
}

both_backends!(lyceum_sevens_young_teachers, |backend| async move {
    let node = TestNode::start(backend).await;
    let mut op = node.operator().await;
    for slug in ["lyceum7", "gym24", "kvantorium"] {
        op.create_organization(org_request(slug)).await.unwrap();
    }
    let admin = node.member_token("lyceum7", pb::Role::Admin).await;
    let (coordinator_id, coordinator) = member(&node, "lyceum7", pb::Role::Teacher, "").await;
    let lyceum_teacher = node.member_token("lyceum7", pb::Role::Teacher).await;
    let partner_coordinator = node.member_token("gym24", pb::Role::Coordinator).await;
    let partner_teacher = node.member_token("gym24", pb::Role::Teacher).await;
    let outsider = node.member_token("kvantorium", pb::Role::Admin).await;
    let mut by_admin = client(&node, &admin).await;
    let mut by_coordinator = client(&node, &coordinator).await;

    // A teacher does not run the school's programmes.
    let denied = client(&node, &lyceum_teacher)
        .await
        .create_programme(pb::CreateProgrammeRequest {
            owner: "lyceum7".into(),
            details: Some(young_teachers(coordinator_id.as_str(), &["gym24"])),
        })
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let unknown = by_admin
        .create_programme(pb::CreateProgrammeRequest {
            owner: "lyceum7".into(),
            details: Some(young_teachers(coordinator_id.as_str(), &["nowhere"])),
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::InvalidArgument);
    assert_eq!(field_of(&unknown), "details.partners[0]");
    let bad_scale = by_admin
        .create_programme(pb::CreateProgrammeRequest {
            owner: "lyceum7".into(),
            details: Some(pb::MentoringProgrammeDetails {
                criteria: vec![pb::MentoringCriterion {
                    scale: 1,
                    ..criterion("success", "Успешность")
                }],
                ..young_teachers(coordinator_id.as_str(), &["gym24"])
            }),
        })
        .await
        .unwrap_err();
    assert_eq!(field_of(&bad_scale), "details.criteria[0].scale");
    let many = by_admin
        .create_programme(pb::CreateProgrammeRequest {
            owner: "lyceum7".into(),
            details: Some(pb::MentoringProgrammeDetails {
                partners: (0..51).map(|i| format!("school-{i}")).collect(),
                ..young_teachers(coordinator_id.as_str(), &[])
            }),
        })
        .await
        .unwrap_err();
    assert_eq!(field_of(&many), "details.partners");

    let programme = by_admin
        .create_programme(pb::CreateProgrammeRequest {
            owner: "lyceum7".into(),
            details: Some(young_teachers(coordinator_id.as_str(), &["gym24"])),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(programme.version, 1);

    // Three pairs: two within the lyceum, one mentoring a young teacher of
    // Gymnasium 24 across organizations.
    let pairs = [
        (
            "lyceum7",
            "Смирнова Ольга Петровна",
            "lyceum7",
            "Ким Анна Сергеевна",
        ),
        (
            "lyceum7",
            "Орлов Игорь Викторович",
            "lyceum7",
            "Быков Павел Андреевич",
        ),
        (
            "lyceum7",
            "Лебедева Нина Ивановна",
            "gym24",
            "Зуева Дарья Олеговна",
        ),
    ];
    let mut ids = Vec::new();
    for (mentor_org, mentor, mentee_org, mentee) in pairs {
        let pair = by_coordinator
            .add_pair(pb::AddPairRequest {
                programme_id: programme.id.clone(),
                mentor: Some(adult(mentor_org, mentor, "учитель высшей категории")),
                mentees: vec![adult(mentee_org, mentee, "молодой учитель")],
                starts_on: "2025-09-15".into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(pair.state, pb::PairState::Planned as i32);
        ids.push(pair.id);
    }
    let outside = by_coordinator
        .add_pair(pb::AddPairRequest {
            programme_id: programme.id.clone(),
            mentor: Some(adult("kvantorium", "Сидоров Олег", "педагог")),
            mentees: vec![adult("lyceum7", "Ким Анна Сергеевна", "молодой учитель")],
            starts_on: "2025-09-15".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(field_of(&outside), "mentor.organization");
    let before_term = by_coordinator
        .add_pair(pb::AddPairRequest {
            programme_id: programme.id.clone(),
            mentor: Some(adult("lyceum7", "Орлов Игорь Викторович", "учитель")),
            mentees: vec![adult("gym24", "Зуева Дарья Олеговна", "молодой учитель")],
            starts_on: "2025-06-01".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(field_of(&before_term), "starts_on");

    // An assessment waits for the pair to start.
    let early = by_coordinator
        .assess_pair(pb::AssessPairRequest {
            pair_id: ids[0].clone(),
            checkpoint: "I полугодие 2025/26".into(),
            on: "2025-12-20".into(),
            scores: scores([3, 4, 3]),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(early.code(), Code::FailedPrecondition);
    for id in &ids {
        by_coordinator
            .start_pair(pb::StartPairRequest {
                id: id.clone(),
                on: "2025-09-20".into(),
                ..Default::default()
            })
            .await
            .unwrap();
    }
    // Two checkpoints for each pair.
    for (checkpoint, on, values) in [
        ("I полугодие 2025/26", "2025-12-20", [3, 4, 3]),
        ("II полугодие 2025/26", "2026-05-20", [5, 5, 4]),
    ] {
        for id in &ids {
            by_coordinator
                .assess_pair(pb::AssessPairRequest {
                    pair_id: id.clone(),
                    checkpoint: checkpoint.into(),
                    on: on.into(),
                    scores: scores(values),
                    comment: "Посещено 4 урока".into(),
                })
                .await
                .unwrap();
        }
    }
    let off_card = by_coordinator
        .assess_pair(pb::AssessPairRequest {
            pair_id: ids[0].clone(),
            checkpoint: "Дополнительно".into(),
            on: "2026-05-21".into(),
            scores: scores([6, 5, 4]),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(field_of(&off_card), "scores[0].value");
    // The cross-organization pair meets in the calendar: the lyceum
    // publishes the meetings, Gymnasium 24's people see them, nobody else.
    let meeting = |pair: &str, visibility: pb::Visibility| pb::ActivityDetails {
        title: "Встреча наставника: разбор открытого урока".into(),
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
        visibility: visibility.into(),
        schedule: Some(pb::Schedule {
            time_zone: "Asia/Yekaterinburg".into(),
            start: "2025-10-07T15:00:00".into(),
            end: "2025-10-07T16:00:00".into(),
            recurrence: Some(pb::Recurrence {
                rule: "FREQ=WEEKLY;COUNT=4".into(),
                ..Default::default()
            }),
            ..Default::default()
        }),
        mentoring_programme_id: programme.id.clone(),
        mentoring_pair_id: pair.into(),
        ..Default::default()
    };
    let calendar = |token: &str| {
        let node = &node;
        let token = token.to_owned();
        async move {
            pb::calendar_client::CalendarClient::with_interceptor(
                node.channel().await,
                Bearer::new(&token),
            )
        }
    };
    let mut lyceum_calendar = calendar(&admin).await;
    let publish = |pair: &str, visibility| pb::PublishActivityRequest {
        publisher: "lyceum7".into(),
        details: Some(meeting(pair, visibility)),
        draft: false,
    };
    let public = lyceum_calendar
        .publish_activity(publish(&ids[2], pb::Visibility::Public))
        .await
        .unwrap_err();
    assert_eq!(field_of(&public), "details.visibility");
    let unknown_pair = lyceum_calendar
        .publish_activity(publish(
            "0f6c1f0e-7d3a-4a53-9a43-5b1c2c0e8e12",
            pb::Visibility::Partners,
        ))
        .await
        .unwrap_err();
    assert_eq!(unknown_pair.code(), Code::NotFound);
    let not_its_pair = calendar(&partner_coordinator)
        .await
        .publish_activity(pb::PublishActivityRequest {
            publisher: "gym24".into(),
            ..publish(&ids[0], pb::Visibility::Partners)
        })
        .await
        .unwrap_err();
    assert_eq!(field_of(&not_its_pair), "publisher");
    let published = lyceum_calendar
        .publish_activity(publish(&ids[2], pb::Visibility::Partners))
        .await
        .unwrap()
        .into_inner();
    let details = published.details.unwrap();
    let gym24_id = {
        let mut op = node.operator().await;
        op.get_organization(pb::GetOrganizationRequest {
            organization: "gym24".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .id
    };
    assert_eq!(
        details.partner_organization_ids,
        vec![gym24_id],
        "the pair's other organization sees its meetings"
    );
    let meetings_seen_by = |token: String| {
        let calendar = calendar(&token);
        let programme = programme.id.clone();
        let pair = ids[2].clone();
        async move {
            calendar
                .await
                .list_occurrences(pb::ListOccurrencesRequest {
                    from: Some(prost_types::Timestamp {
                        seconds: 1_756_684_800, // 2025-09-01
                        nanos: 0,
                    }),
                    to: Some(prost_types::Timestamp {
                        seconds: 1_767_225_600, // 2026-01-01
                        nanos: 0,
                    }),
                    mentoring_programme_id: programme,
                    mentoring_pair_id: pair,
                    page_size: 100,
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner()
                .occurrences
                .len()
        }
    };
    assert_eq!(meetings_seen_by(partner_teacher.clone()).await, 4);
    assert_eq!(meetings_seen_by(lyceum_teacher.clone()).await, 4);
    assert_eq!(meetings_seen_by(outsider.clone()).await, 0);
    let hidden = calendar(&outsider)
        .await
        .get_activity(pb::GetActivityRequest {
            activity_id: published.id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(hidden.code(), Code::NotFound);
    // The partner's private feed carries them; the public feed does not.
    let urls = calendar(&partner_teacher)
        .await
        .get_feed_urls(pb::GetFeedUrlsRequest {
            organization: "lyceum7".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let (status, private) = http_get(node.node.addr(), &urls.private_path).await;
    assert_eq!(status, 200);
    assert_eq!(private.matches("SUMMARY:Встреча наставника").count(), 1);
    assert!(private.contains("RRULE:FREQ=WEEKLY;COUNT=4"), "{private}");
    let (_, public_feed) = http_get(node.node.addr(), &urls.public_path).await;
    assert!(!public_feed.contains("Встреча наставника"), "{public_feed}");
    let urls = calendar(&outsider)
        .await
        .get_feed_urls(pb::GetFeedUrlsRequest {
            organization: "lyceum7".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let (_, outsiders) = http_get(node.node.addr(), &urls.private_path).await;
    assert!(!outsiders.contains("Встреча наставника"), "{outsiders}");

    // A teacher of the lyceum who does not coordinate assesses nothing.
    let not_coordinator = client(&node, &lyceum_teacher)
        .await
        .assess_pair(pb::AssessPairRequest {
            pair_id: ids[0].clone(),
            checkpoint: "Дополнительно".into(),
            on: "2026-05-21".into(),
            scores: scores([4, 4, 4]),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(not_coordinator.code(), Code::PermissionDenied);

    // Outcomes: two completed, one ended early.
    for (id, result) in [
        (&ids[0], pb::MentoringResult::Met),
        (&ids[1], pb::MentoringResult::Partly),
    ] {
        let done = by_coordinator
            .close_pair(pb::ClosePairRequest {
                id: id.clone(),
                state: pb::PairState::Completed.into(),
                on: "2026-05-25".into(),
                outcome: Some(pb::MentoringOutcome {
                    result: result.into(),
                    comment: "Открытый урок на фестивале молодых специалистов".into(),
                    ..Default::default()
                }),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(done.state, pb::PairState::Completed as i32);
    }
    let no_reason = by_admin
        .close_pair(pb::ClosePairRequest {
            id: ids[2].clone(),
            state: pb::PairState::EndedEarly.into(),
            on: "2026-02-01".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(field_of(&no_reason), "reason");
    by_admin
        .close_pair(pb::ClosePairRequest {
            id: ids[2].clone(),
            state: pb::PairState::EndedEarly.into(),
            on: "2026-02-01".into(),
            reason: "Наставляемая перешла в другую школу".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let twice = by_admin
        .start_pair(pb::StartPairRequest {
            id: ids[2].clone(),
            on: "2026-02-02".into(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(twice.code(), Code::FailedPrecondition);

    // A pair that came to its end meets no more.
    let over = lyceum_calendar
        .publish_activity(publish(&ids[0], pb::Visibility::Partners))
        .await
        .unwrap_err();
    assert_eq!(over.code(), Code::FailedPrecondition);

    // The closed register: the partner's coordinator reads it, its
    // teacher does not, an outsider does not even see the programme.
    let register = client(&node, &partner_coordinator)
        .await
        .list_pairs(pb::ListPairsRequest {
            programme_id: programme.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .pairs;
    assert_eq!(register.len(), 3);
    assert_eq!(
        register
            .iter()
            .filter(|p| p.organization_ids.len() > 1)
            .count(),
        1,
        "one pair crosses organizations"
    );
    let states: Vec<i32> = register.iter().map(|p| p.state).collect();
    assert_eq!(
        states,
        [
            pb::PairState::Completed as i32,
            pb::PairState::Completed as i32,
            pb::PairState::EndedEarly as i32
        ]
    );
    let teacher = client(&node, &partner_teacher)
        .await
        .list_pairs(pb::ListPairsRequest {
            programme_id: programme.id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(teacher.code(), Code::PermissionDenied);
    let stranger = client(&node, &outsider)
        .await
        .get_programme(pb::GetProgrammeRequest {
            id: programme.id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(stranger.code(), Code::NotFound);
    let listed = client(&node, &partner_teacher)
        .await
        .list_programmes(pb::ListProgrammesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .programmes;
    assert_eq!(listed.len(), 1, "a partner's member sees the programme");

    let record = by_coordinator
        .get_pair(pb::GetPairRequest { id: ids[0].clone() })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(record.assessments.len(), 2);
    assert_eq!(record.pair.as_ref().unwrap().assessments, 2);
    let first = &record.assessments[0];
    assert_eq!(first.checkpoint, "I полугодие 2025/26");
    let keys: Vec<&str> = first.scores.iter().map(|s| s.criterion.as_str()).collect();
    assert_eq!(keys, ["success", "satisfaction", "growth"]);
    assert_eq!(
        record.pair.unwrap().outcome.unwrap().result,
        pb::MentoringResult::Met as i32
    );

    // The programme changes, but not under a pair's people.
    let stale = by_admin
        .update_programme(pb::UpdateProgrammeRequest {
            id: programme.id.clone(),
            expected_version: 7,
            details: Some(young_teachers(coordinator_id.as_str(), &["gym24"])),
        })
        .await
        .unwrap_err();
    assert_eq!(stale.code(), Code::FailedPrecondition);
    let dropping = by_admin
        .update_programme(pb::UpdateProgrammeRequest {
            id: programme.id.clone(),
            expected_version: 1,
            details: Some(young_teachers(coordinator_id.as_str(), &[])),
        })
        .await
        .unwrap_err();
    assert_eq!(field_of(&dropping), "partners");
    let renamed = by_admin
        .update_programme(pb::UpdateProgrammeRequest {
            id: programme.id.clone(),
            expected_version: 1,
            details: Some(pb::MentoringProgrammeDetails {
                title: "Школа молодого учителя".into(),
                ..young_teachers(coordinator_id.as_str(), &["gym24"])
            }),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(renamed.version, 2);

    // Each school states its teachers for the year: the denominators.
    let figures = |org: &str, teachers: u32, young: u32| pb::TeacherFigures {
        organization: org.into(),
        school_year: "2025/26".into(),
        teachers,
        young_teachers: young,
        courses: teachers / 2,
        course_hours: 72 * (teachers / 2),
        seminars: teachers / 3,
        growth_system: teachers / 5,
        ..Default::default()
    };
    let not_staff = client(&node, &lyceum_teacher)
        .await
        .set_teacher_figures(figures("lyceum7", 60, 4))
        .await
        .unwrap_err();
    assert_eq!(not_staff.code(), Code::PermissionDenied);
    let too_many = by_admin
        .set_teacher_figures(pb::TeacherFigures {
            young_teachers: 61,
            ..figures("lyceum7", 60, 4)
        })
        .await
        .unwrap_err();
    assert_eq!(field_of(&too_many), "young_teachers", "{too_many:?}");
    let bad_year = by_admin
        .set_teacher_figures(pb::TeacherFigures {
            school_year: "2025/27".into(),
            ..figures("lyceum7", 60, 4)
        })
        .await
        .unwrap_err();
    assert_eq!(field_of(&bad_year), "school_year");
    by_admin
        .set_teacher_figures(figures("lyceum7", 60, 4))
        .await
        .unwrap();
    client(&node, &partner_coordinator)
        .await
        .set_teacher_figures(figures("gym24", 50, 2))
        .await
        .unwrap();

    // The network's figures: by organization and form, each pair once in
    // the total, against the year before.
    let mut reports = pb::reports_client::ReportsClient::with_interceptor(
        node.channel().await,
        Bearer::new(&partner_coordinator),
    );
    let report = reports
        .mentoring_report(pb::ReportRequest {
            from: "2025-09-01".into(),
            to: "2026-05-31".into(),
            network: true,
            group_by: vec![
                pb::ReportDimension::Organization.into(),
                pb::ReportDimension::Kind.into(),
            ],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let total = report.total.unwrap();
    assert_eq!(
        (
            total.pairs,
            total.completed,
            total.ended_early,
            total.crossing
        ),
        (3, 2, 1, 1)
    );
    assert_eq!(
        (total.met, total.partly, total.not_met, total.mentees),
        (1, 1, 0, 3)
    );
    assert_eq!(total.previous, 0);
    assert!((total.crossing_share - 100.0 / 3.0).abs() < 1e-9);
    let gym = report
        .rows
        .iter()
        .find(|r| r.organization_name == "gym24")
        .or_else(|| report.rows.iter().find(|r| r.pairs == 1))
        .unwrap();
    assert_eq!((gym.pairs, gym.crossing), (1, 1));
    assert_eq!(gym.form, "young_teacher");
    let lyceum: u32 = report
        .rows
        .iter()
        .filter(|r| r.pairs == 3)
        .map(|r| r.pairs)
        .sum();
    assert_eq!(lyceum, 3, "every pair has a mentor of the lyceum");
    assert_eq!(report.teachers.len(), 2);
    let of = |young: u32| {
        report
            .teachers
            .iter()
            .find(|t| t.young_teachers == young)
            .unwrap()
    };
    let (lyceum_teachers, gym_teachers) = (of(4), of(2));
    assert_eq!(
        (
            lyceum_teachers.young_mentored,
            lyceum_teachers.young_mentored_share
        ),
        (2, 50.0),
        "two of the lyceum's four young teachers have a mentor"
    );
    assert_eq!(
        (
            gym_teachers.young_mentored,
            gym_teachers.young_mentored_share
        ),
        (1, 50.0)
    );
    assert_eq!(
        (lyceum_teachers.courses, lyceum_teachers.courses_share),
        (30, 50.0)
    );
    assert_eq!(lyceum_teachers.growth_system_share, 20.0);
    let next_year = reports
        .mentoring_report(pb::ReportRequest {
            from: "2026-09-01".into(),
            to: "2027-05-31".into(),
            network: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .total
        .unwrap();
    assert_eq!((next_year.pairs, next_year.previous), (0, 3));

    // The indicators, with a target like any other: the lyceum means to
    // have a quarter of its teachers in the national growth system.
    let mut by_lyceum_reports = pb::reports_client::ReportsClient::with_interceptor(
        node.channel().await,
        Bearer::new(&admin),
    );
    by_lyceum_reports
        .set_target(pb::SetTargetRequest {
            indicator: "teachers_growth_system".into(),
            organization: "lyceum7".into(),
            due: "2026-05-31".into(),
            value: 25.0,
            note: "Программа развития".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    let indicators = reports
        .indicators_report(pb::ReportRequest {
            from: "2025-09-01".into(),
            to: "2026-05-31".into(),
            network: true,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .rows;
    let lyceum_id = programme.owner_id.clone();
    let value = |indicator: &str, org: &str| {
        let row = indicators
            .iter()
            .find(|r| r.indicator == indicator && r.organization == org)
            .unwrap_or_else(|| panic!("{indicator} for «{org}»"));
        (row.value, row.numerator, row.denominator)
    };
    assert_eq!(value("mentoring_pairs", ""), (3.0, 3.0, 1.0));
    assert_eq!(value("mentoring_crossing", ""), (33.33, 1.0, 3.0));
    assert_eq!(value("young_teachers_mentored", ""), (50.0, 3.0, 6.0));
    assert_eq!(
        value("young_teachers_mentored", &lyceum_id),
        (50.0, 2.0, 4.0)
    );
    assert_eq!(value("teachers_courses", ""), (50.0, 55.0, 110.0));
    assert_eq!(value("teachers_seminars", &lyceum_id), (33.33, 20.0, 60.0));
    let growth = indicators
        .iter()
        .find(|r| r.indicator == "teachers_growth_system" && r.organization == lyceum_id)
        .unwrap();
    assert_eq!((growth.value, growth.target, growth.gap), (20.0, 25.0, 5.0));
    assert_eq!(growth.unit, "%");

    // The change log carries what a pair is, never who is in it.
    let payloads = texts(
        &node,
        "SELECT payload FROM change_log WHERE entity_kind = 'mentoring_pair'",
    )
    .await;
    assert_eq!(
        payloads.len(),
        3 + 3 + 6 + 3,
        "added, started, assessed, closed"
    );
    for payload in &payloads {
        for (_, mentor, _, mentee) in pairs {
            assert!(
                !payload.contains(mentor) && !payload.contains(mentee),
                "{payload}"
            );
        }
    }
});

both_backends!(pupils_are_never_named, |backend| async move {
    let node = TestNode::start(backend).await;
    let mut op = node.operator().await;
    for slug in ["mgml", "mgtu"] {
        op.create_organization(org_request(slug)).await.unwrap();
    }
    let (coordinator_id, coordinator) = member(&node, "mgml", pb::Role::Coordinator, "").await;
    let mut mgml = client(&node, &coordinator).await;
    let programme = mgml
        .create_programme(pb::CreateProgrammeRequest {
            owner: "mgml".into(),
            details: Some(pb::MentoringProgrammeDetails {
                title: "Студент – ученик: олимпиадная физика".into(),
                form: pb::MentoringForm::StudentPupil.into(),
                ..young_teachers(coordinator_id.as_str(), &["mgtu"])
            }),
        })
        .await
        .unwrap()
        .into_inner();
    let pupil = |code: &str| pb::MentoringParticipant {
        kind: pb::MentoringParticipantKind::Pupil.into(),
        organization: "mgml".into(),
        code: code.into(),
        ..Default::default()
    };
    let student = adult("mgtu", "Власов Артём", "студент 3 курса");
    let add = |mentees: Vec<pb::MentoringParticipant>| pb::AddPairRequest {
        programme_id: programme.id.clone(),
        mentor: Some(student.clone()),
        mentees,
        starts_on: "2025-10-01".into(),
        ..Default::default()
    };
    let cases = [
        (
            pb::MentoringParticipant {
                name: "Петя Иванов".into(),
                ..pupil("P-0042")
            },
            "mentees[0].name",
        ),
        (
            pb::MentoringParticipant {
                person_id: uuid::Uuid::now_v7().to_string(),
                ..pupil("P-0042")
            },
            "mentees[0].person_id",
        ),
        (pupil("Иванов Петя"), "mentees[0].code"),
        (pupil("petya@mail.ru"), "mentees[0].code"),
        (pupil("89001234567"), "mentees[0].code"),
        (
            adult("mgml", "Петя Иванов", "ученик 9 класса"),
            "mentees[0].name",
        ),
    ];
    for (mentee, field) in cases {
        let refused = mgml.add_pair(add(vec![mentee])).await.unwrap_err();
        assert_eq!(refused.code(), Code::InvalidArgument, "{field}");
        assert_eq!(field_of(&refused), field);
    }
    let crowd = mgml
        .add_pair(add((0..41).map(|i| pupil(&format!("P-{i:04}"))).collect()))
        .await
        .unwrap_err();
    assert_eq!(field_of(&crowd), "mentees");
    let pair = mgml
        .add_pair(add(vec![
            pupil("P-0042"),
            pupil("P-0043"),
            pb::MentoringParticipant {
                kind: pb::MentoringParticipantKind::Cohort.into(),
                organization: "mgml".into(),
                min_grade: 9,
                max_grade: 9,
                headcount: 5,
                ..Default::default()
            },
        ]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(pair.mentees.len(), 3);
    assert_eq!(pair.organization_ids.len(), 2);
    // Nothing refused was stored, and the log has the codes nowhere.
    let stored = texts(&node, "SELECT record FROM mentoring_pairs").await;
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].contains("Петя") && !stored[0].contains("mail.ru"));
    for payload in texts(
        &node,
        "SELECT payload FROM change_log WHERE entity_kind = 'mentoring_pair'",
    )
    .await
    {
        assert!(
            !payload.contains("P-0042") && !payload.contains("Власов"),
            "{payload}"
        );
        assert!(payload.contains("\"mentees\":7"), "{payload}");
    }
});

both_backends!(
    a_student_mentors_pupils_of_another_node,
    |backend| async move {
        let university = TestNode::start(Backend::Sqlite).await;
        let hub = TestNode::start_with(TestDb::new(backend).await, |_| {}).await;
        university
            .operator()
            .await
            .create_organization(pb::CreateOrganizationRequest {
                kind: pb::OrganizationKind::University.into(),
                ..org_request("mgtu")
            })
            .await
            .unwrap();
        hub.operator()
            .await
            .create_organization(org_request("mgml"))
            .await
            .unwrap();
        let (coordinator_id, coordinator) = member(&hub, "mgml", pb::Role::Coordinator, "").await;
        let mgtu_coordinator = university.member_token("mgtu", pb::Role::Coordinator).await;
        let mgtu_teacher = university.member_token("mgtu", pb::Role::Teacher).await;
        full_mesh(&[&university, &hub]).await;

        let mut mgml = client(&hub, &coordinator).await;
        let programme = mgml
            .create_programme(pb::CreateProgrammeRequest {
                owner: "mgml".into(),
                details: Some(pb::MentoringProgrammeDetails {
                    title: "Студент – ученик: олимпиадная физика".into(),
                    form: pb::MentoringForm::StudentPupil.into(),
                    ..young_teachers(coordinator_id.as_str(), &["mgtu"])
                }),
            })
            .await
            .unwrap()
            .into_inner();
        let pupil = |org: &str, code: &str| pb::MentoringParticipant {
            kind: pb::MentoringParticipantKind::Pupil.into(),
            organization: org.into(),
            code: code.into(),
            ..Default::default()
        };
        let add = |mentees| pb::AddPairRequest {
            programme_id: programme.id.clone(),
            mentor: Some(adult("mgtu", "Власов Артём", "студент 3 курса")),
            mentees,
            starts_on: "2025-10-01".into(),
            ..Default::default()
        };
        // A code is kept only where its school is: a pupil of an organization
        // the university's node hosts is not coded here.
        let elsewhere = mgml
            .add_pair(add(vec![pupil("mgtu", "S-0001")]))
            .await
            .unwrap_err();
        assert_eq!(elsewhere.code(), Code::FailedPrecondition);
        assert!(
            elsewhere.message().contains("mentees[0].code"),
            "{elsewhere:?}"
        );
        let pair = mgml
            .add_pair(add(vec![pupil("mgml", "P-0042"), pupil("mgml", "P-0043")]))
            .await
            .unwrap()
            .into_inner();
        mgml.start_pair(pb::StartPairRequest {
            id: pair.id.clone(),
            on: "2025-10-02".into(),
            ..Default::default()
        })
        .await
        .unwrap();

        // The university's coordinator sees the programme and the pair as the
        // hub shares them: organizations, form, state, how many.
        let mgtu = client(&university, &mgtu_coordinator).await;
        let listed = eventually("the programme mirrored on the university's node", || {
            let mut mgtu = mgtu.clone();
            async move {
                let found = mgtu
                    .list_programmes(pb::ListProgrammesRequest::default())
                    .await
                    .unwrap()
                    .into_inner()
                    .programmes;
                (!found.is_empty()).then_some(found)
            }
        })
        .await;
        assert_eq!(listed[0].id, programme.id);
        assert_eq!(listed[0].home_node, hub.node.node_id());
        let shared = eventually("the started pair mirrored on the university's node", || {
            let mut mgtu = mgtu.clone();
            let id = programme.id.clone();
            async move {
                let pairs = mgtu
                    .list_pairs(pb::ListPairsRequest { programme_id: id })
                    .await
                    .unwrap()
                    .into_inner()
                    .pairs;
                pairs
                    .into_iter()
                    .find(|p| p.state == pb::PairState::Active as i32)
            }
        })
        .await;
        assert_eq!(shared.id, pair.id);
        assert_eq!(shared.headcount, 2);
        assert_eq!(shared.organization_ids.len(), 2);
        assert!(shared.mentor.is_none() && shared.mentees.is_empty());
        // Its register is closed to the university's teachers too.
        let teacher = client(&university, &mgtu_teacher)
            .await
            .list_pairs(pb::ListPairsRequest {
                programme_id: programme.id.clone(),
            })
            .await
            .unwrap_err();
        assert_eq!(teacher.code(), Code::PermissionDenied);
        let hub_side = mgml
            .list_pairs(pb::ListPairsRequest {
                programme_id: programme.id.clone(),
            })
            .await
            .unwrap()
            .into_inner()
            .pairs;
        assert_eq!(hub_side[0].mentees[0].code, "P-0042");

        // The pair's meetings, published on the hub, reach the university's
        // calendar for the student's organization and for nobody else there.
        let hub_admin = hub.member_token("mgml", pb::Role::Admin).await;
        let meeting = pb::calendar_client::CalendarClient::with_interceptor(
            hub.channel().await,
            Bearer::new(&hub_admin),
        )
        .publish_activity(pb::PublishActivityRequest {
            publisher: "mgml".into(),
            details: Some(pb::ActivityDetails {
                title: "Разбор задач: кинематика".into(),
                kind: pb::ActivityKind::MentoringMeeting.into(),
                audience: Some(pb::Audience {
                    students: Some(pb::GradeRange { min: 9, max: 11 }),
                    university_students: true,
                    ..Default::default()
                }),
                format: pb::Format::InPerson.into(),
                place: Some(pb::Place {
                    kind: pb::PlaceKind::AtPublisher.into(),
                    value: String::new(),
                }),
                visibility: pb::Visibility::Partners.into(),
                schedule: Some(pb::Schedule {
                    time_zone: "Asia/Yekaterinburg".into(),
                    start: "2025-10-09T16:00:00".into(),
                    end: "2025-10-09T17:30:00".into(),
                    ..Default::default()
                }),
                mentoring_programme_id: programme.id.clone(),
                mentoring_pair_id: pair.id.clone(),
                ..Default::default()
            }),
            draft: false,
        })
        .await
        .unwrap()
        .into_inner();
        let other_university_member = {
            university
                .operator()
                .await
                .create_organization(org_request("usu"))
                .await
                .unwrap();
            university.member_token("usu", pb::Role::Admin).await
        };
        let found_on_university = |token: String| {
            let channel = university.channel();
            let programme = programme.id.clone();
            async move {
                pb::calendar_client::CalendarClient::with_interceptor(
                    channel.await,
                    Bearer::new(&token),
                )
                .list_occurrences(pb::ListOccurrencesRequest {
                    from: Some(prost_types::Timestamp {
                        seconds: 1_756_684_800, // 2025-09-01
                        nanos: 0,
                    }),
                    to: Some(prost_types::Timestamp {
                        seconds: 1_767_225_600, // 2026-01-01
                        nanos: 0,
                    }),
                    mentoring_programme_id: programme,
                    page_size: 100,
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner()
                .occurrences
            }
        };
        let seen = eventually("the meeting mirrored on the university's node", || {
            let found = found_on_university(mgtu_teacher.clone());
            async move {
                let found = found.await;
                (!found.is_empty()).then_some(found)
            }
        })
        .await;
        assert_eq!(seen[0].activity.as_ref().unwrap().id, meeting.id);
        assert!(
            found_on_university(other_university_member)
                .await
                .is_empty(),
            "another organization on the university's node does not see it"
        );

        let counted = pb::reports_client::ReportsClient::with_interceptor(
            university.channel().await,
            Bearer::new(&mgtu_coordinator),
        )
        .mentoring_report(pb::ReportRequest {
            from: "2025-09-01".into(),
            to: "2026-05-31".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .total
        .unwrap();
        assert_eq!(
            (
                counted.pairs,
                counted.active,
                counted.crossing,
                counted.mentees
            ),
            (1, 1, 1, 2),
            "the university counts the pair its student mentors in"
        );

        // From the university's node the student's organization opens the
        // pair at its home, without the pupils' codes, and ends it early when
        // the student leaves; the write goes to the hub, once.
        let mut mgtu_pairs = client(&university, &mgtu_coordinator).await;
        let opened = mgtu_pairs
            .get_pair(pb::GetPairRequest {
                id: pair.id.clone(),
            })
            .await
            .unwrap()
            .into_inner()
            .pair
            .unwrap();
        assert_eq!(opened.mentor.as_ref().unwrap().name, "Власов Артём");
        assert_eq!(opened.mentees.len(), 2);
        assert!(
            opened.mentees.iter().all(|m| m.code.is_empty()),
            "a pupil's code stays on the school's node: {:?}",
            opened.mentees
        );
        let teacher_reads = client(&university, &mgtu_teacher)
            .await
            .get_pair(pb::GetPairRequest {
                id: pair.id.clone(),
            })
            .await
            .unwrap_err();
        assert_eq!(teacher_reads.code(), Code::PermissionDenied);
        // Completing it with the outcome is the programme's business.
        let complete = mgtu_pairs
            .close_pair(pb::ClosePairRequest {
                id: pair.id.clone(),
                state: pb::PairState::Completed.into(),
                on: "2026-05-25".into(),
                outcome: Some(pb::MentoringOutcome {
                    result: pb::MentoringResult::Met.into(),
                    ..Default::default()
                }),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(complete.code(), Code::PermissionDenied, "{complete:?}");
        let end_early = || {
            let mut request = tonic::Request::new(pb::ClosePairRequest {
                id: pair.id.clone(),
                state: pb::PairState::EndedEarly.into(),
                on: "2026-02-01".into(),
                reason: "Студент перевёлся в другой вуз".into(),
                ..Default::default()
            });
            request.metadata_mut().insert(
                "x-edufed-idempotency-key",
                tonic::metadata::MetadataValue::from_static("mgtu-end-0001"),
            );
            request
        };
        let ended = mgtu_pairs
            .close_pair(end_early())
            .await
            .unwrap()
            .into_inner();
        assert_eq!(ended.state, pb::PairState::EndedEarly as i32);
        assert!(ended.mentees.iter().all(|m| m.code.is_empty()));
        let again = mgtu_pairs
            .close_pair(end_early())
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            again.version, ended.version,
            "a retry gets the first answer"
        );
        let at_home = mgml
            .get_pair(pb::GetPairRequest {
                id: pair.id.clone(),
            })
            .await
            .unwrap()
            .into_inner()
            .pair
            .unwrap();
        assert_eq!(at_home.state, pb::PairState::EndedEarly as i32);
        assert_eq!(at_home.version, ended.version, "ended once");
        assert_eq!(at_home.reason, "Студент перевёлся в другой вуз");

        // The pupils' codes never reached the university's database.
        for sql in [
            "SELECT payload FROM mirrors",
            "SELECT payload FROM change_log",
            "SELECT response FROM forwarded_writes",
        ] {
            for text in texts(&university, sql).await {
                assert!(
                    !text.contains("P-0042") && !text.contains("P-0043"),
                    "{text}"
                );
            }
        }
    }
);
