//! Notifications delivered, on both backends: a real mail server (aiosmtpd,
//! started by the test command) receives the messages each event means,
//! in Russian, with local times, the record's link and a working
//! unsubscribe link; an organization's webhook receives the same news
//! signed with its secret.

use chrono::{Datelike as _, Duration, Utc, Weekday};
use edufed_i18n::ru;
use edufed_proto::v1 as pb;
use edufed_tests::smtp::SmtpSink;
use edufed_tests::webhook::WebhookReceiver;
use edufed_tests::{Backend, Bearer, TestNode, both_backends, eventually, member, org_request};
use mail_parser::MessageParser;

/// A received message, parsed: subject, plain text, HTML and headers.
struct Mail {
    to: String,
    subject: String,
    text: String,
    html: String,
    message_id: String,
    unsubscribe: String,
}

fn parse(raw: &str) -> Mail {
    let message = MessageParser::default()
        .parse(raw.as_bytes())
        .expect("a message");
    let header = |name: &str| {
        message
            .header_raw(name)
            .map(|v| v.trim().to_owned())
            .unwrap_or_default()
    };
    Mail {
        to: header("To"),
        subject: message.subject().unwrap_or_default().to_owned(),
        text: message.body_text(0).unwrap_or_default().into_owned(),
        html: message.body_html(0).unwrap_or_default().into_owned(),
        message_id: header("Message-ID"),
        unsubscribe: header("List-Unsubscribe"),
    }
}

/// Waits for the message to `to` whose subject starts with `subject`.
async fn mail_to(sink: &SmtpSink, to: &str, subject: &str) -> Mail {
    eventually(&format!("a message to {to}: {subject}"), || async {
        sink.messages()
            .iter()
            .map(|raw| parse(raw))
            .find(|m| m.to.contains(to) && m.subject.starts_with(subject))
    })
    .await
}

fn next_tuesday() -> chrono::NaiveDate {
    let mut day = (Utc::now() + Duration::days(14)).date_naive();
    while day.weekday() != Weekday::Tue {
        day = day.succ_opt().unwrap();
    }
    day
}

both_backends!(
    people_are_told_by_email_and_webhook,
    |backend: Backend| async move {
        let Some(mut sink) = SmtpSink::start().await else {
            return;
        };
        let db = edufed_tests::TestDb::new(backend).await;
        let node = TestNode::start_with(db, |s| {
            sink.configure(s, "edufed Томск <edufed@hub.example>");
            s.mail_reply_to = Some("coordinators@hub.example".into());
        })
        .await;
        let mut op = node.operator().await;
        for (slug, kind, zone) in [
            ("tusur", pb::OrganizationKind::University, "Asia/Tomsk"),
            ("kvantorium", pb::OrganizationKind::Technopark, "Asia/Tomsk"),
            ("gym24", pb::OrganizationKind::School, "Asia/Novosibirsk"),
            ("lyceum7", pb::OrganizationKind::School, "Asia/Tomsk"),
        ] {
            op.create_organization(pb::CreateOrganizationRequest {
                kind: kind.into(),
                short_name: match slug {
                    "tusur" => "ТУСУР".into(),
                    "kvantorium" => "Кванториум".into(),
                    "lyceum7" => "Лицей № 7".into(),
                    _ => "Гимназия № 24".into(),
                },
                time_zone: zone.into(),
                ..org_request(slug)
            })
            .await
            .unwrap();
        }
        let (_, lecturer) = member(
            &node,
            "tusur",
            pb::Role::Coordinator,
            "lecturer@tusur.example",
        )
        .await;
        let (_, admin) = member(
            &node,
            "kvantorium",
            pb::Role::Coordinator,
            "admin@kvantorium.example",
        )
        .await;
        let (_, deputy) = member(
            &node,
            "gym24",
            pb::Role::Coordinator,
            "deputy@gym24.example",
        )
        .await;
        let (_, head) = member(&node, "lyceum7", pb::Role::Admin, "head@lyceum7.example").await;
        let (director, director_token) =
            member(&node, "gym24", pb::Role::Admin, "director@gym24.example").await;
        let channel = node.channel().await;
        let calendar = |token: &str| {
            pb::calendar_client::CalendarClient::with_interceptor(
                channel.clone(),
                Bearer::new(token),
            )
        };
        let booking = |token: &str| {
            pb::booking_client::BookingClient::with_interceptor(channel.clone(), Bearer::new(token))
        };
        let notifications = |token: &str| {
            pb::notifications_client::NotificationsClient::with_interceptor(
                channel.clone(),
                Bearer::new(token),
            )
        };

        // The gymnasium's webhook, its secret shown once.
        let receiver = WebhookReceiver::start().await;
        let refused = notifications(&director_token)
            .set_webhook(pb::SetWebhookRequest {
                organization: "gym24".into(),
                url: "http://crm.gym24.example/hook".into(),
            })
            .await
            .unwrap_err();
        assert_eq!(refused.code(), tonic::Code::InvalidArgument);
        let hook = notifications(&director_token)
            .set_webhook(pb::SetWebhookRequest {
                organization: "gym24".into(),
                url: receiver.url("/edufed"),
            })
            .await
            .unwrap()
            .into_inner();
        assert!(hook.secret.starts_with("whsec_"));
        let denied = notifications(&deputy)
            .set_webhook(pb::SetWebhookRequest {
                organization: "gym24".into(),
                url: receiver.url("/other"),
            })
            .await
            .unwrap_err();
        assert_eq!(denied.code(), tonic::Code::PermissionDenied);

        // A course of 20 seats: the lyceum takes 15, the gymnasium's 10 wait.
        let mut course = edufed_tests::public_course("Олимпиадная математика", 20);
        course.capacity = 20;
        let activity = calendar(&lecturer)
            .publish_activity(pb::PublishActivityRequest {
                publisher: "tusur".into(),
                details: Some(course),
                draft: false,
            })
            .await
            .unwrap()
            .into_inner();
        for (token, org, headcount) in [(&head, "lyceum7", 15), (&deputy, "gym24", 10)] {
            calendar(token)
                .register(pb::RegisterRequest {
                    activity_id: activity.id.clone(),
                    venue: 0,
                    occurrence_start: None,
                    cohort: Some(pb::Cohort {
                        organization: org.into(),
                        grades: Some(pb::GradeRange { min: 9, max: 9 }),
                        headcount,
                        teacher: "Учитель".into(),
                        teacher_contact: String::new(),
                        teachers: false,
                    }),
                })
                .await
                .unwrap();
        }

        let waiting = mail_to(&sink, "director@gym24.example", "Группа в листе ожидания").await;
        assert!(
            waiting.subject.contains("Олимпиадная математика"),
            "{}",
            waiting.subject
        );
        assert!(
            waiting.text.contains("1-е место в очереди"),
            "{}",
            waiting.text
        );
        assert!(waiting.text.contains("ТУСУР"), "{}", waiting.text);
        // The lesson in the course's zone (Tomsk), named for a reader in
        // Novosibirsk.
        let day = (Utc::now() + Duration::days(20)).date_naive();
        let start = day
            .and_hms_opt(15, 0, 0)
            .unwrap()
            .and_local_timezone(chrono_tz::Asia::Tomsk)
            .unwrap()
            .with_timezone(&Utc);
        let local = ru().instant(
            start,
            chrono_tz::Asia::Tomsk,
            Some(chrono_tz::Asia::Novosibirsk),
        );
        assert!(local.contains("15:00, Томск"), "{local}");
        assert!(waiting.text.contains(&local), "{local} in {}", waiting.text);
        let link = format!("/activities/{}", activity.id);
        assert!(waiting.text.contains(&link) && waiting.html.contains(&link));
        assert!(waiting.html.contains("<a href="), "{}", waiting.html);
        assert!(
            waiting.message_id.ends_with("@hub.example>"),
            "{}",
            waiting.message_id
        );
        eventually("the publisher told of each school's group", || async {
            let told: Vec<Mail> = sink
                .messages()
                .iter()
                .map(|raw| parse(raw))
                .filter(|m| m.to.contains("lecturer@") && m.subject.starts_with("Новая запись"))
                .collect();
            (told.iter().any(|m| m.text.contains("Гимназия № 24"))
                && told.iter().any(|m| m.text.contains("Лицей № 7")))
            .then_some(())
        })
        .await;
        assert!(
            !sink
                .messages()
                .iter()
                .any(|m| parse(m).to.contains("deputy@")),
            "the deputy registered the group and is not told of it"
        );

        // The school's webhook got the same news, signed.
        let posts = receiver.wait_for(1).await;
        let post = &posts[0];
        assert_eq!(post.path, "/edufed");
        let timestamp: i64 = post.headers["x-edufed-timestamp"].parse().unwrap();
        assert_eq!(
            post.headers["x-edufed-signature"],
            edufed_notify::signature(&hook.secret, timestamp, &post.body)
        );
        assert_ne!(
            post.headers["x-edufed-signature"],
            edufed_notify::signature("whsec_wrong", timestamp, &post.body)
        );
        let body: serde_json::Value = serde_json::from_slice(&post.body).unwrap();
        assert_eq!(body["kind"], "registration_waitlisted");
        assert_eq!(body["place"], 1);
        assert_eq!(body["id"], post.headers["x-edufed-delivery"].as_str());

        // The unsubscribe link works without signing in: opening it
        // changes nothing, pressing its button (or a mail client's
        // one-click post) turns that news off.
        let url = waiting.unsubscribe.trim_matches(['<', '>']).to_owned();
        let path = url
            .split_once(&node.node.addr().to_string())
            .unwrap()
            .1
            .to_owned();
        let (status, page) = edufed_tests::http_get(node.node.addr(), &path).await;
        assert_eq!(status, 200);
        assert!(page.contains("Отписаться"), "{page}");
        let wanted = |token: String| {
            let mut client = notifications(&token);
            async move {
                client
                    .get_preferences(pb::GetNotificationPreferencesRequest::default())
                    .await
                    .unwrap()
                    .into_inner()
                    .preferences
                    .into_iter()
                    .find(|p| p.kind == pb::NotificationKind::RegistrationWaitlisted as i32)
                    .unwrap()
                    .delivery
            }
        };
        assert_eq!(
            wanted(director_token.clone()).await,
            pb::NotificationDelivery::Immediately as i32
        );
        let (status, done) =
            edufed_tests::http_post(node.node.addr(), &path, "List-Unsubscribe=One-Click").await;
        assert_eq!(status, 200, "{done}");
        assert!(done.contains("больше не будут приходить"), "{done}");
        assert_eq!(
            wanted(director_token.clone()).await,
            pb::NotificationDelivery::Off as i32
        );
        let forged = path.replace("registration_waitlisted", "booking_approved");
        let (_, refused) = edufed_tests::http_post(node.node.addr(), &forged, "").await;
        assert!(refused.contains("id=\"unsubscribe-error\""), "{refused}");
        // Nobody else's preferences through the API.
        let denied = notifications(&lecturer)
            .get_preferences(pb::GetNotificationPreferencesRequest {
                person_id: director.to_string(),
            })
            .await
            .unwrap_err();
        assert_eq!(denied.code(), tonic::Code::PermissionDenied);

        // A lab request approved with a comment: the school hears of it in
        // the lab's local time, with the comment.
        let lab = booking(&admin)
            .create_resource(pb::CreateResourceRequest {
                owner: "kvantorium".into(),
                resource: Some(pb::Resource {
                    kind: pb::ResourceKind::Lab.into(),
                    name: "IT-квантум".into(),
                    capacity: 14,
                    hours: (1..=5)
                        .map(|weekday| pb::WeeklyHours {
                            weekday,
                            opens: "09:00".into(),
                            closes: "18:00".into(),
                        })
                        .collect(),
                    approval: pb::ApprovalPolicy::ApprovalRequired.into(),
                    access: pb::Access::Network.into(),
                    ..Default::default()
                }),
            })
            .await
            .unwrap()
            .into_inner();
        let day = next_tuesday();
        let requested = booking(&deputy)
            .request_booking(pb::RequestBookingRequest {
                resource_id: lab.id.clone(),
                requester: "gym24".into(),
                start: format!("{day}T14:00"),
                end: format!("{day}T15:30"),
                purpose: "Технология, 7 класс".into(),
                headcount: 12,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .booking
            .unwrap();
        let asked = mail_to(&sink, "admin@kvantorium.example", "Заявка на «IT-квантум»").await;
        assert!(asked.text.contains("Гимназия № 24"), "{}", asked.text);
        booking(&admin)
            .approve_booking(pb::DecideBookingRequest {
                booking_id: requested.id.clone(),
                occurrence_start: None,
                comment: "Ключ у вахтёра, кабинет 204".into(),
            })
            .await
            .unwrap();
        let approved = mail_to(&sink, "deputy@gym24.example", "Бронирование подтверждено").await;
        assert!(
            approved.text.contains("Ключ у вахтёра, кабинет 204"),
            "{}",
            approved.text
        );
        assert!(approved.text.contains("14:00"), "{}", approved.text);
        assert!(
            approved
                .text
                .contains(&format!("/bookings/{}", requested.id))
        );
        let told_director =
            mail_to(&sink, "director@gym24.example", "Бронирование подтверждено").await;
        assert_ne!(
            told_director.message_id, approved.message_id,
            "each person's message has its own id"
        );

        // Every notification went once: one message per Message-ID.
        let ids: Vec<String> = sink
            .messages()
            .iter()
            .map(|m| parse(m).message_id)
            .collect();
        let mut unique = ids.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), ids.len(), "{ids:?}");

        // The operator sees the outbox, sends a test message, and nobody
        // else may.
        let mut operator = notifications(&node.operator_token);
        let status = operator
            .get_status(pb::GetNotificationStatusRequest::default())
            .await
            .unwrap()
            .into_inner();
        assert!(status.email_configured);
        let email = status
            .channels
            .iter()
            .find(|c| c.channel == pb::NotificationChannel::Email as i32)
            .unwrap();
        assert!(email.sent >= 5, "{status:?}");
        let before = sink.messages().len();
        let tested = operator
            .send_test(pb::SendTestNotificationRequest {
                target: Some(pb::send_test_notification_request::Target::Email(
                    "ops@hub.example".into(),
                )),
            })
            .await
            .unwrap()
            .into_inner();
        assert!(tested.delivered, "{tested:?}");
        assert_eq!(sink.wait_for(before + 1).await.len(), before + 1);
        let denied = notifications(&deputy)
            .get_status(pb::GetNotificationStatusRequest::default())
            .await
            .unwrap_err();
        assert_eq!(denied.code(), tonic::Code::PermissionDenied);
        node.node.stop().await.unwrap();
        sink.stop().await;
    }
);
