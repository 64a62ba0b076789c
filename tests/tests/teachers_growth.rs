//! Teachers' professional growth by person, for those who agree, and their
//! visits to the network's seminars counted from registrations of groups
//! of teachers: what the mentoring report shows beside each school's
//! stated figures, and what never leaves the school's node.

use edufed_proto::v1 as pb;
use edufed_tests::{Bearer, TestDb, TestNode, both_backends, member, org_request};
use sqlx::Connection as _;
use tonic::Code;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tonic_types::StatusExt as _;

type Client = pb::mentoring_client::MentoringClient<InterceptedService<Channel, Bearer>>;
type Calendar = pb::calendar_client::CalendarClient<InterceptedService<Channel, Bearer>>;

async fn client(node: &TestNode, token: &str) -> Client {
    pb::mentoring_client::MentoringClient::with_interceptor(
        node.channel().await,
        Bearer::new(token),
    )
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

fn course(person: &str, title: &str, hours: u32) -> pb::RecordGrowthRequest {
    pb::RecordGrowthRequest {
        organization: "lyceum7".into(),
        person_id: person.into(),
        kind: pb::GrowthKind::Course.into(),
        title: title.into(),
        on: "2025-11-20".into(),
        hours,
    }
}

both_backends!(
    teachers_grow_by_person_and_at_seminars,
    |backend| async move {
        let clock = edufed_domain::time::Clock::manual(chrono::Utc::now());
        let node =
            TestNode::start_with_clock(TestDb::new(backend).await, clock.clone(), |_| {}).await;
        let mut op = node.operator().await;
        for slug in ["lyceum7", "gym24", "imc"] {
            op.create_organization(org_request(slug)).await.unwrap();
        }
        let (teacher_id, teacher) = member(&node, "lyceum7", pb::Role::Teacher, "").await;
        let (other_id, _) = member(&node, "lyceum7", pb::Role::Teacher, "").await;
        let (_, colleague) = member(&node, "lyceum7", pb::Role::Teacher, "").await;
        let admin = node.member_token("lyceum7", pb::Role::Admin).await;
        let outsider = node.member_token("gym24", pb::Role::Admin).await;
        let centre = node.member_token("imc", pb::Role::Coordinator).await;
        let (teacher_id, other_id) = (teacher_id.to_string(), other_id.to_string());
        let mut by_admin = client(&node, &admin).await;
        let mut by_teacher = client(&node, &teacher).await;

        // Nothing is recorded by person before the teacher agrees.
        let early = by_admin
            .record_growth(course(&teacher_id, "Формирующее оценивание", 72))
            .await
            .unwrap_err();
        assert_eq!(early.code(), Code::FailedPrecondition, "{early:?}");
        // Nobody agrees for another: not the school's admin, not an outsider.
        let for_another = client(&node, &outsider)
            .await
            .set_growth_consent(pb::SetGrowthConsentRequest {
                organization: "lyceum7".into(),
                given: true,
            })
            .await
            .unwrap_err();
        assert_eq!(for_another.code(), Code::PermissionDenied);

        let consent = by_teacher
            .set_growth_consent(pb::SetGrowthConsentRequest {
                organization: "lyceum7".into(),
                given: true,
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(consent.person_id, teacher_id);
        assert!(consent.given_at.is_some());

        // A course states its hours; a seminar has none.
        let no_hours = by_admin
            .record_growth(course(&teacher_id, "Формирующее оценивание", 0))
            .await
            .unwrap_err();
        assert_eq!(field_of(&no_hours), "hours");
        let seminar_hours = by_teacher
            .record_growth(pb::RecordGrowthRequest {
                kind: pb::GrowthKind::Seminar.into(),
                ..course("", "Городской семинар по функциональной грамотности", 3)
            })
            .await
            .unwrap_err();
        assert_eq!(field_of(&seminar_hours), "hours");
        let recorded = by_admin
            .record_growth(course(&teacher_id, "Формирующее оценивание", 72))
            .await
            .unwrap()
            .into_inner();
        assert_eq!(recorded.hours, 72);
        by_teacher
            .record_growth(pb::RecordGrowthRequest {
                kind: pb::GrowthKind::Seminar.into(),
                ..course("", "Городской семинар по функциональной грамотности", 0)
            })
            .await
            .unwrap();
        by_teacher
            .record_growth(course("", "Цифровая образовательная среда", 36))
            .await
            .unwrap();
        // A teacher who did not agree has nothing recorded, even by the admin.
        let not_agreed = by_admin
            .record_growth(course(&other_id, "Формирующее оценивание", 72))
            .await
            .unwrap_err();
        assert_eq!(not_agreed.code(), Code::FailedPrecondition);

        // Who reads what: the teacher their own, the admin everyone's, a
        // colleague nobody's but their own, an outsider nothing.
        let own = by_teacher
            .list_growth(pb::ListGrowthRequest {
                organization: "lyceum7".into(),
                person_id: teacher_id.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(own.records.len(), 3);
        let all = by_admin
            .list_growth(pb::ListGrowthRequest {
                organization: "lyceum7".into(),
                person_id: String::new(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(all.records.len(), 3);
        assert_eq!(all.consents.len(), 1);
        for (token, person) in [
            (&colleague, teacher_id.clone()),
            (&colleague, String::new()),
            (&outsider, teacher_id.clone()),
        ] {
            let denied = client(&node, token)
                .await
                .list_growth(pb::ListGrowthRequest {
                    organization: "lyceum7".into(),
                    person_id: person,
                })
                .await
                .unwrap_err();
            assert_eq!(denied.code(), Code::PermissionDenied);
        }
        let gone = client(&node, &colleague)
            .await
            .delete_growth(pb::DeleteGrowthRequest {
                id: recorded.id.clone(),
            })
            .await
            .unwrap_err();
        assert_eq!(
            gone.code(),
            Code::NotFound,
            "another teacher's record is not theirs"
        );

        // The methodical centre's seminar for teachers: the lyceum registers a
        // group of five teachers, four come.
        let seminar = calendar(&node, &centre)
            .await
            .publish_activity(pb::PublishActivityRequest {
                publisher: "imc".into(),
                details: Some(pb::ActivityDetails {
                    title: "Городской семинар по функциональной грамотности".into(),
                    kind: pb::ActivityKind::Seminar.into(),
                    audience: Some(pb::Audience {
                        teachers: true,
                        ..Default::default()
                    }),
                    format: pb::Format::InPerson.into(),
                    place: Some(pb::Place {
                        kind: pb::PlaceKind::AtPublisher.into(),
                        value: String::new(),
                    }),
                    visibility: pb::Visibility::Network.into(),
                    schedule: Some(pb::Schedule {
                        time_zone: "Asia/Tomsk".into(),
                        start: "2026-12-20T15:00".into(),
                        end: "2026-12-20T17:00".into(),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                draft: false,
            })
            .await
            .unwrap()
            .into_inner();
        let mut lyceum_calendar = calendar(&node, &admin).await;
        let register = |grades: Option<pb::GradeRange>, teachers: bool| pb::RegisterRequest {
            activity_id: seminar.id.clone(),
            venue: 0,
            occurrence_start: None,
            cohort: Some(pb::Cohort {
                organization: "lyceum7".into(),
                grades,
                headcount: 5,
                teacher: "Соколова И. В.".into(),
                teacher_contact: String::new(),
                teachers,
            }),
        };
        let pupils = lyceum_calendar
            .register(register(Some(pb::GradeRange { min: 9, max: 9 }), false))
            .await
            .unwrap_err();
        assert_eq!(pupils.code(), Code::FailedPrecondition, "{pupils:?}");
        let graded_teachers = lyceum_calendar
            .register(register(Some(pb::GradeRange { min: 9, max: 9 }), true))
            .await
            .unwrap_err();
        assert_eq!(field_of(&graded_teachers), "cohort.grades");
        let registered = lyceum_calendar
            .register(register(None, true))
            .await
            .unwrap()
            .into_inner();
        assert!(registered.cohort.as_ref().unwrap().teachers);
        assert_eq!(registered.state, pb::RegistrationState::Confirmed as i32);
        // A group of teachers is not a group of pupils: a course for pupils
        // takes none.
        let course_for_pupils = calendar(&node, &centre)
            .await
            .publish_activity(pb::PublishActivityRequest {
                publisher: "imc".into(),
                details: Some(edufed_tests::public_course("Олимпиадная физика", 20)),
                draft: false,
            })
            .await
            .unwrap()
            .into_inner();
        let refused = lyceum_calendar
            .register(pb::RegisterRequest {
                activity_id: course_for_pupils.id.clone(),
                venue: 0,
                ..register(None, true)
            })
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::FailedPrecondition);

        // The school states its teachers; the report sets beside them what
        // the teachers recorded and how often they came to seminars.
        by_admin
            .set_teacher_figures(pb::TeacherFigures {
                organization: "lyceum7".into(),
                school_year: "2026/27".into(),
                teachers: 60,
                young_teachers: 4,
                courses: 30,
                course_hours: 2160,
                seminars: 12,
                ..Default::default()
            })
            .await
            .unwrap();
        by_admin
            .set_teacher_figures(pb::TeacherFigures {
                organization: "lyceum7".into(),
                school_year: "2025/26".into(),
                teachers: 58,
                courses: 20,
                ..Default::default()
            })
            .await
            .unwrap();
        let report = |from: &str, to: &str| {
            let channel = node.channel();
            let admin = admin.clone();
            let (from, to) = (from.to_owned(), to.to_owned());
            async move {
                pb::reports_client::ReportsClient::with_interceptor(
                    channel.await,
                    Bearer::new(&admin),
                )
                .mentoring_report(pb::ReportRequest {
                    from,
                    to,
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner()
                .teachers
                .into_iter()
                .next()
                .expect("the lyceum stated its teachers")
            }
        };
        let last_year = report("2025-09-01", "2026-05-31").await;
        assert_eq!(
            (last_year.courses_recorded, last_year.course_hours_recorded),
            (1, 108),
            "one teacher with two courses recorded in 2025/26"
        );
        let this_year = report("2026-09-01", "2027-05-31").await;
        assert_eq!(this_year.courses_recorded, 0);
        assert_eq!(this_year.seminar_visits, 5, "five teachers registered");

        // After the seminar the centre records attendance: four came.
        clock.set(
            chrono::DateTime::parse_from_rfc3339("2026-12-21T09:00:00+07:00")
                .unwrap()
                .to_utc(),
        );
        calendar(&node, &centre)
            .await
            .record_results(pb::RecordResultsRequest {
                registration_id: registered.id.clone(),
                results: Some(pb::Results {
                    attended: 4,
                    ..Default::default()
                }),
            })
            .await
            .unwrap();
        assert_eq!(report("2026-09-01", "2027-05-31").await.seminar_visits, 4);

        // The records never reach the change log.
        sqlx::any::install_default_drivers();
        let mut conn = sqlx::AnyConnection::connect(&node.db.url).await.unwrap();
        let payloads: Vec<String> = sqlx::query_scalar("SELECT payload FROM change_log")
            .fetch_all(&mut conn)
            .await
            .unwrap();
        assert!(
            payloads
                .iter()
                .all(|p| !p.contains("Формирующее оценивание") && !p.contains("Цифровая")),
            "growth by person stays out of the change log"
        );

        // Withdrawing the agreement erases the teacher's records.
        let withdrawn = by_teacher
            .set_growth_consent(pb::SetGrowthConsentRequest {
                organization: "lyceum7".into(),
                given: false,
            })
            .await
            .unwrap()
            .into_inner();
        assert!(withdrawn.given_at.is_none());
        let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM growth_records")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(left, 0);
        let after = report("2025-09-01", "2026-05-31").await;
        assert_eq!(after.courses_recorded, 0);
    }
);
