//! The console's notification pages in a real Chromium, on both backends:
//! a deputy director chooses what they are told, and a message's
//! unsubscribe link works without signing in.

use edufed_proto::v1 as pb;
use edufed_tests::console::{Person, journey, sign_in_link};
use edufed_tests::smtp::SmtpSink;
use edufed_tests::{Backend, Bearer, TestNode, both_backends, eventually, member, org_request};
use serde_json::json;

both_backends!(
    people_choose_what_they_are_told,
    |backend: Backend| async move {
        let Some(mut sink) = SmtpSink::start().await else {
            return;
        };
        let node = TestNode::start_with(edufed_tests::TestDb::new(backend).await, |s| {
            sink.configure(s, "edufed <edufed@hub.example>");
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
        let (deputy, deputy_token) = member(
            &node,
            "gym24",
            pb::Role::Coordinator,
            "deputy@gym24.example",
        )
        .await;
        let (_, teacher) = member(&node, "gym24", pb::Role::Teacher, "teacher@gym24.example").await;
        let channel = node.channel().await;
        let calendar = |token: &str| {
            pb::calendar_client::CalendarClient::with_interceptor(
                channel.clone(),
                Bearer::new(token),
            )
        };
        // The teacher registers a group: the deputy is told, with a link
        // that turns such news off.
        let course = calendar(&lecturer)
            .publish_activity(pb::PublishActivityRequest {
                publisher: "tusur".into(),
                details: Some(edufed_tests::public_course("Олимпиадная химия", 20)),
                draft: false,
            })
            .await
            .unwrap()
            .into_inner();
        calendar(&teacher)
            .register(pb::RegisterRequest {
                activity_id: course.id.clone(),
                venue: 0,
                occurrence_start: None,
                cohort: Some(pb::Cohort {
                    organization: "gym24".into(),
                    grades: Some(pb::GradeRange { min: 9, max: 9 }),
                    headcount: 8,
                    teacher: "Учитель".into(),
                    teacher_contact: String::new(),
                    teachers: false,
                }),
            })
            .await
            .unwrap();
        let unsubscribe = eventually("the deputy's message", || async {
            sink.messages().into_iter().find_map(|raw| {
                let message = mail_parser::MessageParser::default().parse(raw.as_bytes())?;
                if !message.header_raw("To")?.contains("deputy@gym24.example") {
                    return None;
                }
                let link = message.header_raw("List-Unsubscribe")?;
                Some(link.trim().trim_matches(['<', '>']).to_owned())
            })
        })
        .await;
        let Some(_) = journey(
            "notifications",
            json!({
                "node": node.node.url(),
                "deputy": sign_in_link(&node, &Person {
                    id: deputy.to_string(),
                    token: deputy_token.clone(),
                }).await,
                "email": "deputy@gym24.example",
                "unsubscribe": unsubscribe,
            }),
        )
        .await
        else {
            return;
        };
        let chosen = pb::notifications_client::NotificationsClient::with_interceptor(
            channel.clone(),
            Bearer::new(&deputy_token),
        )
        .get_preferences(pb::GetNotificationPreferencesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .preferences;
        let delivery = |kind: pb::NotificationKind| {
            chosen
                .iter()
                .find(|p| p.kind == kind as i32)
                .map(|p| p.delivery)
                .unwrap()
        };
        assert_eq!(
            delivery(pb::NotificationKind::Reminder),
            pb::NotificationDelivery::Digest as i32
        );
        assert_eq!(
            delivery(pb::NotificationKind::RegistrationConfirmed),
            pb::NotificationDelivery::Off as i32
        );
        assert_eq!(
            delivery(pb::NotificationKind::BookingApproved),
            pb::NotificationDelivery::Immediately as i32
        );
        node.node.stop().await.unwrap();
        sink.stop().await;
    }
);
