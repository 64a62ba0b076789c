//! The rest of what people are told, on both backends, read from the
//! outbox: lessons cancelled and moved for the schools registered; an
//! agreement to sign, signed, declined and ending for its parties' admins;
//! reminders a week and a day before a lesson; and the daily digest, sent
//! as one message at seven in the morning, local time.

use chrono::{Duration, Utc};
use edufed_domain::ids::PersonId;
use edufed_domain::notify::{Delivery, Kind};
use edufed_domain::time::Clock;
use edufed_proto::v1 as pb;
use edufed_tests::smtp::SmtpSink;
use edufed_tests::{Backend, Bearer, TestNode, both_backends, member, network_form, org_request};

both_backends!(
    time_and_changes_bring_their_news,
    |backend: Backend| async move {
        let Some(mut sink) = SmtpSink::start().await else {
            return;
        };
        // Noon (UTC) of today: the reminders' horizons below count whole
        // days from the course's first lesson, whatever the hour the test
        // runs at.
        let clock = Clock::manual(
            Utc::now()
                .date_naive()
                .and_hms_opt(12, 0, 0)
                .expect("noon")
                .and_utc(),
        );
        let db = edufed_tests::TestDb::new(backend).await;
        let node = TestNode::start_with_clock(db, clock.clone(), |s| {
            sink.configure(s, "edufed <edufed@hub.example>");
        })
        .await;
        let store = node.node.store();
        let mut op = node.operator().await;
        op.create_organization(org_request("mgml")).await.unwrap();
        for (slug, kind) in [
            ("kvantorium", pb::OrganizationKind::Technopark),
            ("tusur", pb::OrganizationKind::University),
        ] {
            op.create_organization(pb::CreateOrganizationRequest {
                kind: kind.into(),
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
        let (deputy, deputy_token) =
            member(&node, "mgml", pb::Role::Coordinator, "deputy@mgml.example").await;
        let (director, director_token) =
            member(&node, "mgml", pb::Role::Admin, "director@mgml.example").await;
        let (park, park_token) = member(
            &node,
            "kvantorium",
            pb::Role::Admin,
            "director@kvantorium.example",
        )
        .await;
        let channel = node.channel().await;
        let calendar = |token: &str| {
            pb::calendar_client::CalendarClient::with_interceptor(
                channel.clone(),
                Bearer::new(token),
            )
        };
        let agreements = |token: &str| {
            pb::agreements_client::AgreementsClient::with_interceptor(
                channel.clone(),
                Bearer::new(token),
            )
        };
        let told = |person: PersonId| async move {
            while store.fill_outbox(1000).await.unwrap() > 0 {}
            store
                .outbox_of(&person)
                .await
                .unwrap()
                .into_iter()
                .map(|q| q.kind)
                .collect::<Vec<_>>()
        };

        // A weekly course of four lessons, ten days from now; the school
        // registers its group for all of them.
        let mut course = edufed_tests::public_course("Робототехника", 10);
        course.schedule.as_mut().unwrap().recurrence = Some(pb::Recurrence {
            rule: "FREQ=WEEKLY;COUNT=4".into(),
            ..Default::default()
        });
        let activity = calendar(&lecturer)
            .publish_activity(pb::PublishActivityRequest {
                publisher: "tusur".into(),
                details: Some(course),
                draft: false,
            })
            .await
            .unwrap()
            .into_inner();
        calendar(&deputy_token)
            .register(pb::RegisterRequest {
                activity_id: activity.id.clone(),
                venue: 0,
                occurrence_start: None,
                cohort: Some(pb::Cohort {
                    organization: "mgml".into(),
                    grades: Some(pb::GradeRange { min: 9, max: 9 }),
                    headcount: 12,
                    teacher: "Учитель".into(),
                    teacher_contact: String::new(),
                    teachers: false,
                }),
            })
            .await
            .unwrap();
        let lessons = calendar(&lecturer)
            .get_activity(pb::GetActivityRequest {
                activity_id: activity.id.clone(),
            })
            .await
            .unwrap()
            .into_inner()
            .occurrences;
        assert_eq!(lessons.len(), 4);
        // The second lesson is cancelled, the third moved an hour later.
        calendar(&lecturer)
            .cancel_occurrence(pb::CancelOccurrenceRequest {
                activity_id: activity.id.clone(),
                original_start: lessons[1].original_start,
            })
            .await
            .unwrap();
        let third = chrono::DateTime::from_timestamp(
            lessons[2].original_start.as_ref().unwrap().seconds,
            0,
        )
        .unwrap()
        .with_timezone(&chrono_tz::Asia::Tomsk)
        .date_naive();
        calendar(&lecturer)
            .move_occurrence(pb::MoveOccurrenceRequest {
                activity_id: activity.id.clone(),
                original_start: lessons[2].original_start,
                start: format!("{third}T16:00"),
                end: format!("{third}T18:00"),
            })
            .await
            .unwrap();
        let deputy_told = told(deputy.clone()).await;
        assert_eq!(
            deputy_told,
            [Kind::OccurrenceCancelled, Kind::OccurrenceMoved],
            "the deputy registered (and is not told of that), but hears of the changes"
        );
        let moved = store
            .outbox_of(&deputy)
            .await
            .unwrap()
            .into_iter()
            .find(|q| q.kind == Kind::OccurrenceMoved)
            .unwrap();
        assert_eq!(moved.detail.starts.len(), 1);
        assert_eq!(
            moved.detail.starts[0]
                .with_timezone(&chrono_tz::Asia::Tomsk)
                .format("%H:%M")
                .to_string(),
            "16:00",
            "the lesson's new time"
        );

        // Reminders: a week before the first lesson, then a day before.
        // The director chose the digest for them.
        store
            .set_notification_preference(&director, Kind::Reminder, Delivery::Digest)
            .await
            .unwrap();
        store.queue_reminders(&[1, 7], &[14, 60]).await.unwrap();
        assert!(
            !told(deputy.clone()).await.contains(&Kind::Reminder),
            "ten days ahead: no reminder yet"
        );
        clock.advance(Duration::days(4));
        store.queue_reminders(&[1, 7], &[14, 60]).await.unwrap();
        store.queue_reminders(&[1, 7], &[14, 60]).await.unwrap();
        clock.advance(Duration::days(5));
        store.queue_reminders(&[1, 7], &[14, 60]).await.unwrap();
        let reminders = store
            .outbox_of(&deputy)
            .await
            .unwrap()
            .into_iter()
            .filter(|q| q.kind == Kind::Reminder)
            .map(|q| q.detail.horizon_days)
            .collect::<Vec<_>>();
        assert_eq!(
            reminders,
            [Some(7), Some(1)],
            "once a week before, once a day before"
        );

        // An agreement: the school proposes, both directors hear it waits
        // for them; the technopark signs, then the school; both hear it is
        // signed. It ends in 40 days: word at 60 days comes at once, at 14
        // days later.
        let today = clock.now().date_naive();
        let drafted = agreements(&director_token)
            .draft_agreement(pb::DraftAgreementRequest {
                initiator: "mgml".into(),
                content: Some(network_form(
                    today - Duration::days(1),
                    today + Duration::days(40),
                    70,
                )),
            })
            .await
            .unwrap()
            .into_inner();
        let proposed = agreements(&director_token)
            .propose_agreement(pb::ProposeAgreementRequest {
                agreement_id: drafted.id.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert!(
            told(park.clone())
                .await
                .contains(&Kind::AgreementAwaitingSignature)
        );
        for (token, org) in [(&park_token, "kvantorium"), (&director_token, "mgml")] {
            agreements(token)
                .sign_agreement(pb::SignAgreementRequest {
                    agreement_id: proposed.id.clone(),
                    org: org.into(),
                    version: 1,
                    content_hash: String::new(),
                })
                .await
                .unwrap();
        }
        let park_told = told(park.clone()).await;
        assert_eq!(
            park_told,
            [Kind::AgreementAwaitingSignature, Kind::AgreementSigned],
            "the park's director signed, and hears when all have"
        );
        assert!(
            !told(director.clone())
                .await
                .iter()
                .any(|k| k.as_str().starts_with("agreement_")),
            "the school's director proposed it and signed last: the one who acts is not told"
        );
        store.queue_reminders(&[1, 7], &[14, 60]).await.unwrap();
        clock.advance(Duration::days(27));
        store.queue_reminders(&[1, 7], &[14, 60]).await.unwrap();
        store.queue_reminders(&[1, 7], &[14, 60]).await.unwrap();
        let ending = store
            .outbox_of(&park)
            .await
            .unwrap()
            .into_iter()
            .filter(|q| q.kind == Kind::AgreementExpiring)
            .map(|q| q.detail.horizon_days)
            .collect::<Vec<_>>();
        assert_eq!(ending, [Some(60), Some(14)]);
        // Teachers and coordinators are not told of agreements.
        assert!(
            !told(deputy.clone())
                .await
                .iter()
                .any(|k| k.as_str().starts_with("agreement_"))
        );

        // A hold on the technopark's lab, two hours long: an hour before it
        // lapses, the school hears of it, once.
        let lab = pb::booking_client::BookingClient::with_interceptor(
            channel.clone(),
            Bearer::new(&park_token),
        )
        .create_resource(pb::CreateResourceRequest {
            owner: "kvantorium".into(),
            resource: Some(pb::Resource {
                kind: pb::ResourceKind::Lab.into(),
                name: "IT-квантум".into(),
                capacity: 14,
                approval: pb::ApprovalPolicy::Automatic.into(),
                access: pb::Access::Network.into(),
                ..Default::default()
            }),
        })
        .await
        .unwrap()
        .into_inner();
        let day = (clock.now() + Duration::days(3)).date_naive();
        pb::booking_client::BookingClient::with_interceptor(
            channel.clone(),
            Bearer::new(&deputy_token),
        )
        .request_booking(pb::RequestBookingRequest {
            resource_id: lab.id.clone(),
            requester: "mgml".into(),
            start: format!("{day}T10:00"),
            end: format!("{day}T11:30"),
            purpose: "Робототехника".into(),
            headcount: 12,
            hold_seconds: 7200,
            ..Default::default()
        })
        .await
        .unwrap();
        store.queue_reminders(&[1, 7], &[14, 60]).await.unwrap();
        let lapsing = |person: PersonId| async move {
            store
                .outbox_of(&person)
                .await
                .unwrap()
                .into_iter()
                .filter(|q| q.kind == Kind::BookingHoldLapsing)
                .count()
        };
        assert_eq!(
            lapsing(director.clone()).await,
            0,
            "two hours left: not yet"
        );
        clock.advance(Duration::minutes(61));
        store.queue_reminders(&[1, 7], &[14, 60]).await.unwrap();
        store.queue_reminders(&[1, 7], &[14, 60]).await.unwrap();
        assert_eq!(lapsing(director.clone()).await, 1, "an hour left: once");
        assert_eq!(
            lapsing(deputy.clone()).await,
            1,
            "the deputy held it, and is told too"
        );

        // The digest: the director's reminders go at 07:00 in Tomsk, a
        // message a day with that day's news (the clock jumped days ahead,
        // so there may be one message or two).
        let digest_rows = store
            .outbox_of(&director)
            .await
            .unwrap()
            .into_iter()
            .filter(|q| q.delivery == Delivery::Digest)
            .count();
        assert_eq!(digest_rows, 2, "two reminders wait for the digest");
        clock.advance(Duration::days(1));
        edufed_tests::eventually("the digests sent", || async {
            store
                .outbox_of(&director)
                .await
                .unwrap()
                .iter()
                .filter(|q| q.delivery == Delivery::Digest)
                .all(|q| q.state == "sent")
                .then_some(())
        })
        .await;
        let digests = digests_to(&sink, "director@mgml.example");
        let events: usize = digests.iter().map(|(count, _)| count).sum();
        assert_eq!(events, 2, "{digests:?}");
        assert!(
            digests
                .iter()
                .all(|(_, text)| text.contains("Робототехника"))
        );
        assert!(
            digests
                .iter()
                .all(|(_, text)| text.contains("/account/notifications")),
            "a digest links to the settings"
        );
        node.node.stop().await.unwrap();
        sink.stop().await;
    }
);

/// The digests sent to `to`: how many events each says it has, and its
/// plain text.
fn digests_to(sink: &SmtpSink, to: &str) -> Vec<(usize, String)> {
    sink.messages()
        .into_iter()
        .filter_map(|raw| {
            let message = mail_parser::MessageParser::default().parse(raw.as_bytes())?;
            if !message.header_raw("To").is_some_and(|t| t.contains(to)) {
                return None;
            }
            let subject = message
                .subject()?
                .strip_prefix("Сводка edufed: ")?
                .to_owned();
            let count = subject.split_whitespace().next()?.parse().ok()?;
            Some((count, message.body_text(0).unwrap_or_default().into_owned()))
        })
        .collect()
}
