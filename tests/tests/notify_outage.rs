//! A dead mail server, on both backends: writes go on, the outbox keeps
//! what could not go with why, and when the server is back the backlog is
//! delivered, once per notification; what waited longer than the sender
//! may try is given up, reported, and sent again on the operator's word.

use chrono::{Duration, Utc};
use edufed_domain::time::Clock;
use edufed_proto::v1 as pb;
use edufed_tests::smtp::SmtpSink;
use edufed_tests::{Backend, Bearer, TestNode, both_backends, eventually, member, org_request};

/// The `Message-ID`s of `messages`, in order.
fn message_ids(messages: &[String]) -> Vec<String> {
    messages
        .iter()
        .filter_map(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("Message-ID: "))
                .map(|id| id.trim().to_owned())
        })
        .collect()
}

both_backends!(
    a_dead_mail_server_delays_news_and_loses_none,
    |backend: Backend| async move {
        let Some(mut sink) = SmtpSink::start().await else {
            return;
        };
        let clock = Clock::manual(Utc::now());
        let db = edufed_tests::TestDb::new(backend).await;
        let node = TestNode::start_with_clock(db, clock.clone(), |s| {
            sink.configure(s, "edufed <edufed@hub.example>");
            s.notify_give_up_hours = 48;
        })
        .await;
        let mut op = node.operator().await;
        op.create_organization(pb::CreateOrganizationRequest {
            kind: pb::OrganizationKind::University.into(),
            ..org_request("tusur")
        })
        .await
        .unwrap();
        op.create_organization(org_request("gym24")).await.unwrap();
        let (_, lecturer) = member(
            &node,
            "tusur",
            pb::Role::Coordinator,
            "lecturer@tusur.example",
        )
        .await;
        let (_, deputy) = member(
            &node,
            "gym24",
            pb::Role::Coordinator,
            "deputy@gym24.example",
        )
        .await;
        let channel = node.channel().await;
        let mut calendar = pb::calendar_client::CalendarClient::with_interceptor(
            channel.clone(),
            Bearer::new(&deputy),
        );
        let mut notifications = pb::notifications_client::NotificationsClient::with_interceptor(
            channel.clone(),
            Bearer::new(&node.operator_token),
        );
        let mut course = edufed_tests::public_course("Олимпиадная физика", 20);
        course.capacity = 10_000;
        let activity = pb::calendar_client::CalendarClient::with_interceptor(
            channel.clone(),
            Bearer::new(&lecturer),
        )
        .publish_activity(pb::PublishActivityRequest {
            publisher: "tusur".into(),
            details: Some(course),
            draft: false,
        })
        .await
        .unwrap()
        .into_inner();
        let email_status = |status: &pb::NotificationStatus| {
            status
                .channels
                .iter()
                .find(|c| c.channel == pb::NotificationChannel::Email as i32)
                .cloned()
                .unwrap()
        };

        // The mail server dies; fifty groups are registered all the same.
        sink.stop().await;
        for n in 0..50 {
            calendar
                .register(pb::RegisterRequest {
                    activity_id: activity.id.clone(),
                    venue: 0,
                    occurrence_start: None,
                    cohort: Some(pb::Cohort {
                        organization: "gym24".into(),
                        grades: Some(pb::GradeRange { min: 9, max: 9 }),
                        headcount: 1 + n % 3,
                        teacher: format!("Учитель {n}"),
                        teacher_contact: String::new(),
                        teachers: false,
                    }),
                })
                .await
                .unwrap();
        }
        // Each is news for the publisher; none could go. The sender found
        // the server down and stopped trying it for a while instead of
        // failing each message in turn.
        let waiting = eventually("fifty waiting, the first tried and failed", || {
            let mut notifications = notifications.clone();
            async move {
                let status = notifications
                    .get_status(pb::GetNotificationStatusRequest::default())
                    .await
                    .unwrap()
                    .into_inner();
                let email = email_status(&status);
                (email.queued == 50 && email.retrying >= 1).then_some(email)
            }
        })
        .await;
        assert_eq!(waiting.sent, 0);

        // The server is back; the retries come due and the backlog goes,
        // one message per notification.
        sink.restart().await;
        clock.advance(Duration::minutes(2));
        eventually("the backlog delivered", || {
            let mut notifications = notifications.clone();
            async move {
                let status = notifications
                    .get_status(pb::GetNotificationStatusRequest::default())
                    .await
                    .unwrap()
                    .into_inner();
                (email_status(&status).sent == 50).then_some(())
            }
        })
        .await;
        let (_, metrics) = edufed_tests::http_get(node.node.addr(), "/metrics").await;
        assert!(
            metrics.contains(r#"edufed_notifications{channel="email",state="sent"} 50"#)
                && metrics.contains(r#"edufed_notifications{channel="email",state="queued"} 0"#),
            "{metrics}"
        );
        let ids = message_ids(&sink.wait_for(50).await);
        let mut unique = ids.clone();
        unique.sort();
        unique.dedup();
        assert_eq!((ids.len(), unique.len()), (50, 50), "{ids:?}");

        // Down again for longer than the sender may try: given up, with
        // the reason, until the operator sends it again.
        sink.stop().await;
        calendar
            .register(pb::RegisterRequest {
                activity_id: activity.id.clone(),
                venue: 0,
                occurrence_start: None,
                cohort: Some(pb::Cohort {
                    organization: "gym24".into(),
                    grades: Some(pb::GradeRange { min: 10, max: 10 }),
                    headcount: 5,
                    teacher: "Учитель".into(),
                    teacher_contact: String::new(),
                    teachers: false,
                }),
            })
            .await
            .unwrap();
        eventually("the first attempt failed", || {
            let mut notifications = notifications.clone();
            async move {
                let status = notifications
                    .get_status(pb::GetNotificationStatusRequest::default())
                    .await
                    .unwrap()
                    .into_inner();
                (email_status(&status).retrying == 1).then_some(())
            }
        })
        .await;
        clock.advance(Duration::hours(49));
        let given_up = eventually("given up after 48 hours", || {
            let mut notifications = notifications.clone();
            async move {
                let status = notifications
                    .get_status(pb::GetNotificationStatusRequest::default())
                    .await
                    .unwrap()
                    .into_inner();
                (email_status(&status).failed == 1).then_some(status)
            }
        })
        .await;
        let failure = &given_up.failed[0];
        assert_eq!(failure.address, "lecturer@tusur.example");
        assert!(failure.attempts >= 2, "{failure:?}");
        assert!(!failure.last_error.is_empty());
        sink.restart().await;
        let retried = notifications
            .retry(pb::RetryNotificationsRequest {
                key: failure.key.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(retried.requeued, 1);
        // The sender tries the mail server again once its pause is over.
        clock.advance(Duration::hours(2));
        sink.wait_for(51).await;
        let unknown = notifications
            .retry(pb::RetryNotificationsRequest {
                key: "no-such-key".into(),
            })
            .await
            .unwrap_err();
        assert_eq!(unknown.code(), tonic::Code::InvalidArgument);
        node.node.stop().await.unwrap();
        sink.stop().await;
    }
);
