//! The web console, driven in a real Chromium against real nodes: each
//! journey of a person's work, then what the API holds after it; and the
//! console's defences (escaping, cross-site forms, sessions ending).

use edufed_proto::v1 as pb;
use edufed_tests::console::{journey, journey_with, organization, person, sign_in_link};
use edufed_tests::{Bearer, TestDb, TestNode, both_backends, eventually, full_mesh};
use serde_json::json;

type Calendar = pb::calendar_client::CalendarClient<
    tonic::service::interceptor::InterceptedService<tonic::transport::Channel, Bearer>,
>;

async fn calendar(node: &TestNode, token: &str) -> Calendar {
    pb::calendar_client::CalendarClient::with_interceptor(node.channel().await, Bearer::new(token))
}

both_backends!(
    a_school_on_the_hub_registers_a_group_for_a_university_course,
    |backend| async move {
        let university = TestNode::start(backend).await;
        let hub = TestNode::start_with(TestDb::new(backend).await, |_| {}).await;
        organization(
            &university,
            "tusur",
            pb::OrganizationKind::University,
            "ТУСУР",
        )
        .await;
        organization(&hub, "gym24", pb::OrganizationKind::School, "Гимназия №24").await;
        organization(&hub, "lyceum7", pb::OrganizationKind::School, "Лицей №7").await;
        let coordinator = person(
            &university,
            "tusur",
            pb::Role::Coordinator,
            "Координатор ТУСУР",
        )
        .await;
        let deputy = person(&hub, "gym24", pb::Role::Coordinator, "Завуч гимназии").await;
        let neighbour = person(&hub, "lyceum7", pb::Role::Teacher, "Учитель лицея").await;
        let director = person(&hub, "gym24", pb::Role::Admin, "Директор гимназии").await;

        full_mesh(&[&university, &hub]).await;
        let mut course = edufed_tests::public_course("Олимпиадная физика", 5);
        course.capacity = 20;
        course.kind = pb::ActivityKind::OlympiadPrepCourse.into();
        let course = calendar(&university, &coordinator.token)
            .await
            .publish_activity(pb::PublishActivityRequest {
                publisher: "tusur".into(),
                details: Some(course),
                draft: false,
            })
            .await
            .unwrap()
            .into_inner();
        calendar(&university, &coordinator.token)
            .await
            .publish_activity(pb::PublishActivityRequest {
                publisher: "tusur".into(),
                details: Some(edufed_tests::public_course("Новогодняя Ёлка в ТУСУР", 6)),
                draft: false,
            })
            .await
            .unwrap();
        let on_hub = calendar(&hub, &deputy.token).await;
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
        // The lyceum takes 15 of the 20 seats first.
        calendar(&hub, &neighbour.token)
            .await
            .register(pb::RegisterRequest {
                activity_id: course.id.clone(),
                venue: 0,
                occurrence_start: None,
                cohort: Some(pb::Cohort {
                    organization: "lyceum7".into(),
                    grades: Some(pb::GradeRange { min: 10, max: 10 }),
                    headcount: 15,
                    teacher: "Петрова А. И.".into(),
                    teacher_contact: String::new(),
                    teachers: false,
                }),
            })
            .await
            .unwrap();

        let Some(found) = journey(
            "school_registers",
            json!({
                "link": sign_in_link(&hub, &deputy).await,
                "director": sign_in_link(&hub, &director).await,
                "course": course.id,
            }),
        )
        .await
        else {
            return;
        };
        assert_eq!(
            found["states"],
            json!(["waitlisted", "confirmed", "withdrawn"])
        );

        // The university, the course's home, holds what the school did.
        let registrations = calendar(&university, &coordinator.token)
            .await
            .list_registrations(pb::ListRegistrationsRequest {
                activity_id: course.id.clone(),
            })
            .await
            .unwrap()
            .into_inner()
            .registrations;
        let ours: Vec<_> = registrations
            .iter()
            .filter(|r| r.cohort.as_ref().unwrap().headcount != 15)
            .collect();
        assert_eq!(ours.len(), 1, "{registrations:?}");
        let cohort = ours[0].cohort.as_ref().unwrap();
        assert_eq!(cohort.headcount, 5);
        assert_eq!(cohort.teacher, "Иванова М. П.");
        assert_eq!(ours[0].state(), pb::RegistrationState::Withdrawn);
    }
);

both_backends!(
    the_console_shows_text_as_text_refuses_forged_forms_and_ends_sessions,
    |backend| async move {
        let clock = edufed_domain::time::Clock::manual(chrono::Utc::now());
        let hub =
            TestNode::start_with_clock(TestDb::new(backend).await, clock.clone(), |_| {}).await;
        organization(
            &hub,
            "imc",
            pb::OrganizationKind::MethodicalCentre,
            "МАУ ИМЦ",
        )
        .await;
        organization(&hub, "gym24", pb::OrganizationKind::School, "Гимназия №24").await;
        let centre = person(&hub, "imc", pb::Role::Coordinator, "Методист").await;
        let deputy = person(
            &hub,
            "gym24",
            pb::Role::Coordinator,
            "Завуч <b>гимназии</b>",
        )
        .await;
        let viewer = person(&hub, "gym24", pb::Role::Viewer, "Наблюдатель").await;
        let mut details = edufed_tests::public_course("<script>alert(1)</script> Олимпиада", 3);
        details.description = "<img src=x onerror=alert(2)> описание".into();
        let activity = calendar(&hub, &centre.token)
            .await
            .publish_activity(pb::PublishActivityRequest {
                publisher: "imc".into(),
                details: Some(details),
                draft: false,
            })
            .await
            .unwrap()
            .into_inner();

        let mut directory = hub.operator().await;
        let Some(found) = journey_with(
            "defences",
            json!({
                "base": hub.node.url(),
                "activity": activity.id,
                "deputy": sign_in_link(&hub, &deputy).await,
                "viewer": sign_in_link(&hub, &viewer).await,
                "again": sign_in_link(&hub, &deputy).await,
            }),
            |label, _| {
                let hub = &hub;
                let clock = clock.clone();
                let mut directory = directory.clone();
                let deputy = deputy.clone();
                async move {
                    match label.as_str() {
                        // A week and a day unused: the session has expired;
                        // a new link signs in again.
                        "expire" => {
                            clock.advance(chrono::Duration::days(8));
                            return json!({ "link": sign_in_link(hub, &deputy).await });
                        }
                        "remove" => {
                            directory
                                .remove_member(pb::RemoveMemberRequest {
                                    organization: "gym24".into(),
                                    person_id: deputy.id.clone(),
                                })
                                .await
                                .unwrap();
                        }
                        other => panic!("unexpected pause {other}"),
                    }
                    json!({})
                }
            },
        )
        .await
        else {
            return;
        };
        assert_eq!(found["alerts"], json!(0));

        // Nothing forged reached the API: no registration at all.
        let registrations = calendar(&hub, &centre.token)
            .await
            .list_registrations(pb::ListRegistrationsRequest {
                activity_id: activity.id.clone(),
            })
            .await
            .unwrap()
            .into_inner()
            .registrations;
        assert!(registrations.is_empty(), "{registrations:?}");
        // Signed out, expired, removed: every session of the deputy ended.
        let sessions = directory
            .list_sessions(pb::ListSessionsRequest {
                person_id: deputy.id.clone(),
            })
            .await
            .unwrap()
            .into_inner()
            .sessions;
        let reasons: Vec<_> = sessions
            .iter()
            .map(|s| (s.active, s.end_reason()))
            .collect();
        assert!(reasons.iter().all(|(active, _)| !active), "{reasons:?}");
        assert!(
            reasons.contains(&(false, pb::SessionEndReason::SignedOut)),
            "{reasons:?}"
        );
        assert!(
            reasons.contains(&(false, pb::SessionEndReason::MembershipRemoved)),
            "{reasons:?}"
        );
    }
);

both_backends!(
    a_university_coordinator_publishes_a_course_and_records_results,
    |backend| async move {
        let clock = edufed_domain::time::Clock::manual(chrono::Utc::now());
        let university =
            TestNode::start_with_clock(TestDb::new(backend).await, clock.clone(), |_| {}).await;
        organization(
            &university,
            "tusur",
            pb::OrganizationKind::University,
            "ТУСУР",
        )
        .await;
        organization(
            &university,
            "gym24",
            pb::OrganizationKind::School,
            "Гимназия №24",
        )
        .await;
        organization(
            &university,
            "lyceum7",
            pb::OrganizationKind::School,
            "Лицей №7",
        )
        .await;
        let coordinator = person(&university, "tusur", pb::Role::Coordinator, "Координатор").await;
        let gym = person(&university, "gym24", pb::Role::Teacher, "Учитель гимназии").await;
        let lyceum = person(&university, "lyceum7", pb::Role::Teacher, "Учитель лицея").await;
        let cohort = |org: &str, headcount| pb::Cohort {
            organization: org.into(),
            grades: Some(pb::GradeRange { min: 9, max: 9 }),
            headcount,
            teacher: "Сидорова Е. В.".into(),
            teacher_contact: String::new(),
            teachers: false,
        };
        let university = &university;
        let coordinator = &coordinator;
        let Some(found) = journey_with(
            "publish_course",
            json!({ "link": sign_in_link(university, coordinator).await }),
            |label, found| {
                let (gym, lyceum, clock) = (gym.clone(), lyceum.clone(), clock.clone());
                async move {
                    match label.as_str() {
                        "published" => {
                            let activity = found["activity"].as_str().unwrap().to_owned();
                            for (who, org, headcount) in
                                [(&gym, "gym24", 15), (&lyceum, "lyceum7", 10)]
                            {
                                calendar(university, &who.token)
                                    .await
                                    .register(pb::RegisterRequest {
                                        activity_id: activity.clone(),
                                        venue: 0,
                                        occurrence_start: None,
                                        cohort: Some(cohort(org, headcount)),
                                    })
                                    .await
                                    .unwrap();
                            }
                            json!({})
                        }
                        // The course has begun: its first lessons are held.
                        "begun" => {
                            clock.set("2027-10-08T10:00:00Z".parse().unwrap());
                            json!({ "link": sign_in_link(university, coordinator).await })
                        }
                        other => panic!("unexpected pause {other}"),
                    }
                }
            },
        )
        .await
        else {
            return;
        };
        let activity = found["activity"].as_str().unwrap().to_owned();
        let mut api = calendar(university, &coordinator.token).await;
        let stored = api
            .get_activity(pb::GetActivityRequest {
                activity_id: activity.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        let details = stored.activity.unwrap().details.unwrap();
        assert_eq!(details.kind(), pb::ActivityKind::OlympiadPrepCourse);
        assert_eq!(
            details.audience.unwrap().students,
            Some(pb::GradeRange { min: 9, max: 11 })
        );
        let recurrence = details.schedule.unwrap().recurrence.unwrap();
        assert_eq!(
            recurrence.rule,
            "FREQ=WEEKLY;BYDAY=TU,TH;UNTIL=20271223T165959Z"
        );
        assert_eq!(recurrence.exdates, vec!["2027-11-04T15:00:00"]);
        assert_eq!(stored.occurrences.len(), 23);
        let registrations = api
            .list_registrations(pb::ListRegistrationsRequest {
                activity_id: activity,
            })
            .await
            .unwrap()
            .into_inner()
            .registrations;
        let gym = registrations
            .iter()
            .find(|r| r.cohort.as_ref().unwrap().headcount == 15)
            .unwrap();
        assert_eq!(
            gym.results,
            Some(pb::Results {
                attended: 14,
                ..Default::default()
            })
        );
    }
);
