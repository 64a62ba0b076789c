//! The Calendar service end to end: publishing, finding, registering, and
//! the errors a client gets for bad input.

use chrono::{Duration, Utc};
use edufed_proto::v1 as pb;
use edufed_tests::{TestNode, both_backends, org_request};
use tonic::Code;
use tonic_types::StatusExt as _;

fn field_of(status: &tonic::Status) -> String {
    status
        .get_error_details()
        .bad_request()
        .and_then(|b| b.field_violations.first().map(|v| v.field.clone()))
        .unwrap_or_default()
}

fn ts(t: chrono::DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: t.timestamp(),
        nanos: 0,
    }
}

fn local_in(days: i64, hour: u32) -> String {
    let day = (Utc::now() + Duration::days(days)).date_naive();
    format!("{day}T{hour:02}:00")
}

fn details(title: &str, capacity: u32, start: String, end: String) -> pb::ActivityDetails {
    pb::ActivityDetails {
        title: title.into(),
        description: "Экскурсия по лабораториям и факультетам ТУСУР".into(),
        kind: pb::ActivityKind::Excursion.into(),
        direction: pb::Direction::CareerGuidance.into(),
        subjects: vec!["Физика".into()],
        audience: Some(pb::Audience {
            students: Some(pb::GradeRange { min: 8, max: 11 }),
            ..Default::default()
        }),
        format: pb::Format::InPerson.into(),
        place: Some(pb::Place {
            kind: pb::PlaceKind::AtPublisher.into(),
            value: String::new(),
        }),
        coordinator: Some(pb::Coordinator {
            name: "Иванов И.И.".into(),
            position: "методист".into(),
            contact: "ivanov@tusur.ru".into(),
        }),
        capacity,
        visibility: pb::Visibility::Public.into(),
        schedule: Some(pb::Schedule {
            time_zone: String::new(),
            start,
            end,
            all_day: false,
            recurrence: None,
        }),
        ..Default::default()
    }
}

struct Network {
    node: TestNode,
    coordinator: String,
    teacher: String,
}

async fn network(backend: edufed_tests::Backend) -> Network {
    let node = TestNode::start(backend).await;
    let mut op = node.operator().await;
    op.create_organization(pb::CreateOrganizationRequest {
        kind: pb::OrganizationKind::University.into(),
        ..org_request("tusur")
    })
    .await
    .unwrap();
    op.create_organization(org_request("gym24-tomsk"))
        .await
        .unwrap();
    let coordinator = node.member_token("tusur", pb::Role::Coordinator).await;
    let teacher = node.member_token("gym24-tomsk", pb::Role::Teacher).await;
    Network {
        node,
        coordinator,
        teacher,
    }
}

async fn calendar(
    node: &TestNode,
    token: &str,
) -> pb::calendar_client::CalendarClient<
    tonic::service::interceptor::InterceptedService<
        tonic::transport::Channel,
        edufed_tests::Bearer,
    >,
> {
    pb::calendar_client::CalendarClient::with_interceptor(
        node.channel().await,
        edufed_tests::Bearer::new(token),
    )
}

both_backends!(
    bad_activities_get_invalid_argument_naming_the_field,
    |backend| async move {
        let net = network(backend).await;
        let mut cal = calendar(&net.node, &net.coordinator).await;
        let good = || details("Экскурсия", 45, local_in(10, 15), local_in(10, 17));
        let mut every_second = good();
        every_second.schedule.as_mut().unwrap().recurrence = Some(pb::Recurrence {
            rule: "FREQ=SECONDLY;COUNT=20000".into(),
            ..Default::default()
        });
        let mut many_a_day = good();
        many_a_day.schedule.as_mut().unwrap().recurrence = Some(pb::Recurrence {
        rule: "FREQ=DAILY;BYHOUR=0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23;BYMINUTE=0,10,20,30,40,50".into(),
        ..Default::default()
    });
        let mut grades = good();
        grades.audience.as_mut().unwrap().students = Some(pb::GradeRange { min: 12, max: 3 });
        let mut title = good();
        title.title = "т".repeat(100 * 1024);
        let mut kind = good();
        kind.kind = 999;
        let mut ends_first = good();
        ends_first.schedule.as_mut().unwrap().end = local_in(9, 15);
        for (field, details) in [
            // Fields are named by their path from the request's root.
            ("details.schedule.recurrence.rule", every_second),
            ("details.schedule.recurrence.rule", many_a_day),
            ("details.audience.students", grades),
            ("details.title", title),
            ("details.kind", kind),
            ("details.schedule.end", ends_first),
        ] {
            let err = cal
                .publish_activity(pb::PublishActivityRequest {
                    publisher: "tusur".into(),
                    details: Some(details),
                    draft: false,
                })
                .await
                .unwrap_err();
            assert_eq!(err.code(), Code::InvalidArgument, "{field}: {err:?}");
            assert_eq!(field_of(&err), field);
        }
        // A teacher may not publish; nothing was stored by any of this.
        let mut as_teacher = calendar(&net.node, &net.teacher).await;
        let err = as_teacher
            .publish_activity(pb::PublishActivityRequest {
                publisher: "tusur".into(),
                details: Some(good()),
                draft: false,
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied);
        let found = cal
            .list_occurrences(pb::ListOccurrencesRequest {
                from: Some(ts(Utc::now())),
                to: Some(ts(Utc::now() + Duration::days(60))),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert!(found.occurrences.is_empty());
    }
);

both_backends!(publish_find_register_and_withdraw, |backend| async move {
    let net = network(backend).await;
    let mut cal = calendar(&net.node, &net.coordinator).await;
    let activity = cal
        .publish_activity(pb::PublishActivityRequest {
            publisher: "tusur".into(),
            details: Some(details(
                "Экскурсия по лабораториям",
                20,
                local_in(10, 15),
                local_in(10, 17),
            )),
            draft: false,
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(activity.status, pb::ActivityStatus::Published as i32);
    assert_eq!(
        activity
            .details
            .as_ref()
            .unwrap()
            .schedule
            .as_ref()
            .unwrap()
            .time_zone,
        "Asia/Tomsk"
    );

    // Anyone finds it, by grade and by text with ё.
    let mut anonymous = calendar(&net.node, "").await;
    let window = |grade: u32, query: &str| pb::ListOccurrencesRequest {
        from: Some(ts(Utc::now())),
        to: Some(ts(Utc::now() + Duration::days(30))),
        grade,
        query: query.into(),
        ..Default::default()
    };
    let found = anonymous
        .list_occurrences(window(9, "ЛАБОРАТОРИЯМ"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(found.occurrences.len(), 1);
    assert_eq!(
        found.occurrences[0].occurrence.as_ref().unwrap().seats_free,
        Some(20)
    );
    assert!(
        anonymous
            .list_occurrences(window(5, ""))
            .await
            .unwrap()
            .into_inner()
            .occurrences
            .is_empty()
    );

    // The school registers two groups: the second waits.
    let mut school = calendar(&net.node, &net.teacher).await;
    let cohort = |headcount| pb::Cohort {
        organization: "gym24-tomsk".into(),
        grades: Some(pb::GradeRange { min: 9, max: 9 }),
        headcount,
        teacher: "Казак О.Г.".into(),
        teacher_contact: String::new(),
        teachers: false,
    };
    let register = |headcount| pb::RegisterRequest {
        activity_id: activity.id.clone(),
        venue: 0,
        occurrence_start: None,
        cohort: Some(cohort(headcount)),
    };
    let first = school.register(register(15)).await.unwrap().into_inner();
    let second = school.register(register(10)).await.unwrap().into_inner();
    assert_eq!(first.state, pb::RegistrationState::Confirmed as i32);
    assert_eq!(second.state, pb::RegistrationState::Waitlisted as i32);
    let got = anonymous
        .get_activity(pb::GetActivityRequest {
            activity_id: activity.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!((got.occurrences[0].seats_taken, got.waitlisted), (15, 1));
    // Only the school and the publisher see the registrations.
    assert_eq!(
        school
            .list_registrations(pb::ListRegistrationsRequest {
                activity_id: activity.id.clone()
            })
            .await
            .unwrap()
            .into_inner()
            .registrations
            .len(),
        2
    );
    assert_eq!(
        anonymous
            .list_registrations(pb::ListRegistrationsRequest {
                activity_id: activity.id.clone()
            })
            .await
            .unwrap_err()
            .code(),
        Code::Unauthenticated
    );
    // A coordinator of the publisher cannot register the school's cohorts.
    assert_eq!(
        cal.register(register(1)).await.unwrap_err().code(),
        Code::PermissionDenied
    );

    // Withdrawing the first promotes the second.
    school
        .withdraw(pb::WithdrawRequest {
            registration_id: first.id.clone(),
        })
        .await
        .unwrap();
    let listed = cal
        .list_registrations(pb::ListRegistrationsRequest {
            activity_id: activity.id.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    let promoted = listed
        .registrations
        .iter()
        .find(|r| r.id == second.id)
        .unwrap();
    assert_eq!(promoted.state, pb::RegistrationState::Confirmed as i32);

    // Results only after the activity has started.
    let early = cal
        .record_results(pb::RecordResultsRequest {
            registration_id: second.id.clone(),
            results: Some(pb::Results {
                attended: 10,
                participants: 0,
                prize_winners: 0,
                winners: 0,
            }),
        })
        .await
        .unwrap_err();
    assert_eq!(early.code(), Code::FailedPrecondition);
    // Winners belong to competitions, not excursions.
    let winners = cal
        .record_results(pb::RecordResultsRequest {
            registration_id: second.id.clone(),
            results: Some(pb::Results {
                attended: 10,
                participants: 10,
                prize_winners: 1,
                winners: 1,
            }),
        })
        .await
        .unwrap_err();
    assert_eq!(field_of(&winners), "results");

    // Cancelling the activity: it leaves the calendar, and cannot come back.
    cal.set_activity_status(pb::SetActivityStatusRequest {
        activity_id: activity.id.clone(),
        status: pb::ActivityStatus::Cancelled.into(),
    })
    .await
    .unwrap();
    assert!(
        anonymous
            .list_occurrences(window(9, ""))
            .await
            .unwrap()
            .into_inner()
            .occurrences
            .is_empty()
    );
    let back = cal
        .set_activity_status(pb::SetActivityStatusRequest {
            activity_id: activity.id.clone(),
            status: pb::ActivityStatus::Published.into(),
        })
        .await
        .unwrap_err();
    assert_eq!(back.code(), Code::FailedPrecondition);
    assert!(back.message().contains("cancelled"), "{}", back.message());
});

both_backends!(
    the_seeds_schedules_and_single_occurrence_changes,
    |backend| async move {
        let net = network(backend).await;
        let mut cal = calendar(&net.node, &net.coordinator).await;
        // Twice a week for the school year, except the winter holidays.
        let mut lessons = details(
            "Технология (практическая часть)",
            16,
            "2030-09-03T14:00".into(),
            "2030-09-03T15:30".into(),
        );
        lessons.kind = pb::ActivityKind::NetworkLesson.into();
        lessons.schedule.as_mut().unwrap().recurrence = Some(pb::Recurrence {
            rule: "FREQ=WEEKLY;BYDAY=TU,TH;UNTIL=20310531T235959Z".into(),
            exdates: vec![
                "2030-12-31T14:00".into(),
                "2031-01-02T14:00".into(),
                "2031-01-07T14:00".into(),
            ],
            rdates: vec![],
        });
        let lessons = cal
            .publish_activity(pb::PublishActivityRequest {
                publisher: "tusur".into(),
                details: Some(lessons),
                draft: false,
            })
            .await
            .unwrap()
            .into_inner();
        let got = cal
            .get_activity(pb::GetActivityRequest {
                activity_id: lessons.id.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(
            got.occurrences.len(),
            75,
            "78 Tuesdays and Thursdays less three holidays"
        );

        // One lesson cancelled, another moved: the rest untouched.
        let first = got.occurrences[0].original_start;
        let second = got.occurrences[1].original_start;
        cal.cancel_occurrence(pb::CancelOccurrenceRequest {
            activity_id: lessons.id.clone(),
            original_start: first,
        })
        .await
        .unwrap();
        let moved = cal
            .move_occurrence(pb::MoveOccurrenceRequest {
                activity_id: lessons.id.clone(),
                original_start: second,
                start: "2030-09-06T10:00".into(),
                end: "2030-09-06T11:30".into(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(moved.overrides.len(), 2);
        assert_eq!(moved.version, 3);
        let got = cal
            .get_activity(pb::GetActivityRequest {
                activity_id: lessons.id.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(got.occurrences.len(), 75);
        assert!(got.occurrences[0].cancelled);
        assert!(got.occurrences.iter().any(|o| o.moved));
        let bogus = cal
            .cancel_occurrence(pb::CancelOccurrenceRequest {
                activity_id: lessons.id.clone(),
                original_start: Some(ts(Utc::now())),
            })
            .await
            .unwrap_err();
        assert_eq!(field_of(&bogus), "original_start");

        // The last Saturday of February, yearly; a month-long distance game is one occurrence.
        let mut festival = details(
            "Фестиваль групповых проектов",
            0,
            "2031-02-22T10:00".into(),
            "2031-02-22T16:00".into(),
        );
        festival.schedule.as_mut().unwrap().recurrence = Some(pb::Recurrence {
            rule: "FREQ=YEARLY;BYMONTH=2;BYDAY=-1SA;COUNT=3".into(),
            ..Default::default()
        });
        let festival = cal
            .publish_activity(pb::PublishActivityRequest {
                publisher: "tusur".into(),
                details: Some(festival),
                draft: false,
            })
            .await
            .unwrap()
            .into_inner();
        let got = cal
            .get_activity(pb::GetActivityRequest {
                activity_id: festival.id,
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(got.occurrences.len(), 3);
        let mut game = details(
            "Страны и континенты",
            0,
            "2030-10-22".into(),
            "2030-11-23".into(),
        );
        game.kind = pb::ActivityKind::Game.into();
        game.format = pb::Format::Online.into();
        game.schedule.as_mut().unwrap().all_day = true;
        let game = cal
            .publish_activity(pb::PublishActivityRequest {
                publisher: "tusur".into(),
                details: Some(game),
                draft: false,
            })
            .await
            .unwrap()
            .into_inner();
        let got = cal
            .get_activity(pb::GetActivityRequest {
                activity_id: game.id,
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(got.occurrences.len(), 1);
    }
);

both_backends!(
    watchers_see_publications_and_seats_they_may,
    |backend| async move {
        let net = network(backend).await;
        let mut cal = calendar(&net.node, &net.coordinator).await;
        let mut feed = pb::change_feed_client::ChangeFeedClient::with_interceptor(
            net.node.channel().await,
            edufed_tests::Bearer::new(&net.teacher),
        );
        let latest = net.node.node.store().latest_sequence().await.unwrap();
        let mut stream = feed
            .watch(pb::WatchRequest {
                after_sequence: latest,
                entity_kinds: vec![],
                heartbeat_seconds: 1,
                snapshot: false,
            })
            .await
            .unwrap()
            .into_inner();
        let mut hidden = details("Совещание кафедры", 10, local_in(10, 9), local_in(10, 10));
        hidden.visibility = pb::Visibility::Organization.into();
        cal.publish_activity(pb::PublishActivityRequest {
            publisher: "tusur".into(),
            details: Some(hidden),
            draft: false,
        })
        .await
        .unwrap();
        let public = cal
            .publish_activity(pb::PublishActivityRequest {
                publisher: "tusur".into(),
                details: Some(details(
                    "Открытая лекция",
                    30,
                    local_in(10, 15),
                    local_in(10, 17),
                )),
                draft: false,
            })
            .await
            .unwrap()
            .into_inner();
        let mut school = calendar(&net.node, &net.teacher).await;
        school
            .register(pb::RegisterRequest {
                activity_id: public.id.clone(),
                venue: 0,
                occurrence_start: None,
                cohort: Some(pb::Cohort {
                    organization: "gym24-tomsk".into(),
                    grades: Some(pb::GradeRange { min: 9, max: 9 }),
                    headcount: 12,
                    teacher: "Казак О.Г.".into(),
                    teacher_contact: String::new(),
                    teachers: false,
                }),
            })
            .await
            .unwrap();
        let mut seen = Vec::new();
        while let Some(message) = stream.message().await.unwrap() {
            match message.event.unwrap() {
                pb::watch_response::Event::Entry(entry) => seen.push(entry),
                pb::watch_response::Event::Heartbeat(beat) => {
                    if beat.latest_sequence
                        >= net.node.node.store().latest_sequence().await.unwrap()
                    {
                        break;
                    }
                }
            }
        }
        let kinds: Vec<&str> = seen.iter().map(|e| e.entity_kind.as_str()).collect();
        assert_eq!(
            kinds,
            ["activity", "registration", "activity_seats"],
            "{seen:?}"
        );
        assert_eq!(
            seen[0].entity_id, public.id,
            "the organization-only activity stays hidden"
        );
        let seats: serde_json::Value = serde_json::from_str(&seen[2].payload_json).unwrap();
        assert_eq!(seats["occurrences"][0]["taken"], 12);
    }
);
