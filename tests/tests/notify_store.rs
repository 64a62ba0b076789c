//! The notifier's outbox on both backends: filled from the node's own
//! change log for the members whose role the news concerns (as the
//! domain's policy says), never twice, never for the person who acted,
//! and as each person chose.

use edufed_domain::ids::PersonId;
use edufed_domain::notify::{Channel, Delivery, Kind};
use edufed_proto::v1 as pb;
use edufed_tests::{Backend, Bearer, TestNode, both_backends, member, org_request, public_course};

both_backends!(
    registrations_fill_the_outbox_once_for_the_people_they_concern,
    |backend: Backend| async move {
        let node = TestNode::start(backend).await;
        let store = node.node.store();
        let mut op = node.operator().await;
        for (slug, kind) in [
            ("tusur", pb::OrganizationKind::University),
            ("gym24", pb::OrganizationKind::School),
            ("lyceum7", pb::OrganizationKind::School),
        ] {
            op.create_organization(pb::CreateOrganizationRequest {
                kind: kind.into(),
                ..org_request(slug)
            })
            .await
            .unwrap();
        }
        let (lecturer, lecturer_token) = member(
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
        let (director, _) = member(&node, "gym24", pb::Role::Admin, "director@gym24.example").await;
        let (teacher, _) = member(&node, "gym24", pb::Role::Teacher, "teacher@gym24.example").await;
        let (neighbour, neighbour_token) =
            member(&node, "lyceum7", pb::Role::Admin, "head@lyceum7.example").await;
        // The history before the notifier's table existed is not news; what
        // the organizations and members above wrote tells nobody.
        while store.fill_outbox(100).await.unwrap() > 0 {}

        let channel = node.channel().await;
        let calendar = |token: &str| {
            pb::calendar_client::CalendarClient::with_interceptor(
                channel.clone(),
                Bearer::new(token),
            )
        };
        let mut course = public_course("Олимпиадная математика", 20);
        course.capacity = 20;
        let activity = calendar(&lecturer_token)
            .publish_activity(pb::PublishActivityRequest {
                publisher: "tusur".into(),
                details: Some(course),
                draft: false,
            })
            .await
            .unwrap()
            .into_inner();
        let cohort = |org: &str, headcount| pb::Cohort {
            organization: org.into(),
            grades: Some(pb::GradeRange { min: 9, max: 9 }),
            headcount,
            teacher: "Учитель".into(),
            teacher_contact: String::new(),
            teachers: false,
        };
        let register = |token: String, org: &'static str, headcount| {
            let activity = activity.id.clone();
            async move {
                calendar(&token)
                    .register(pb::RegisterRequest {
                        activity_id: activity,
                        venue: 0,
                        occurrence_start: None,
                        cohort: Some(cohort(org, headcount)),
                    })
                    .await
                    .unwrap()
                    .into_inner()
            }
        };
        // The director chose not to hear of promotions, and of waits in the digest.
        store
            .set_notification_preference(&director, Kind::RegistrationPromoted, Delivery::Off)
            .await
            .unwrap();
        store
            .set_notification_preference(&director, Kind::RegistrationWaitlisted, Delivery::Digest)
            .await
            .unwrap();
        // The lyceum takes 15 of 20 seats; the gymnasium's 10 wait; the
        // lyceum withdraws, and the gymnasium's group is promoted.
        let lyceum = register(neighbour_token.clone(), "lyceum7", 15).await;
        register(deputy_token.clone(), "gym24", 10).await;
        calendar(&neighbour_token)
            .withdraw(pb::WithdrawRequest {
                registration_id: lyceum.id.clone(),
            })
            .await
            .unwrap();

        // The node's own notifier may have passed some entries already;
        // small batches finish the rest.
        while store.fill_outbox(2).await.unwrap() > 0 {}

        let told = |person: PersonId| async move {
            store
                .outbox_of(&person)
                .await
                .unwrap()
                .into_iter()
                .map(|q| (q.kind, q.delivery))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            told(lecturer.clone()).await,
            [
                (Kind::RegistrationReceived, Delivery::Immediately),
                (Kind::RegistrationReceived, Delivery::Immediately),
                (Kind::RegistrationWithdrawn, Delivery::Immediately)
            ],
            "the publisher hears of each registration and the withdrawal"
        );
        assert_eq!(
            told(director.clone()).await,
            [(Kind::RegistrationWaitlisted, Delivery::Digest)],
            "as the director chose: the wait in the digest, no promotion"
        );
        assert_eq!(
            told(deputy.clone()).await,
            [(Kind::RegistrationPromoted, Delivery::Immediately)],
            "the deputy registered the group: not told of it, but of its promotion"
        );
        assert_eq!(
            told(teacher).await,
            [
                (Kind::RegistrationWaitlisted, Delivery::Immediately),
                (Kind::RegistrationPromoted, Delivery::Immediately)
            ],
            "a teacher registers groups too, and hears where they stand"
        );
        assert!(
            told(neighbour.clone()).await.is_empty(),
            "the lyceum's head acted each time"
        );
        let queued = store.outbox_of(&lecturer).await.unwrap();
        assert_eq!(queued[0].address, "lecturer@tusur.example");
        assert_eq!(queued[0].entity_id, lyceum.id);

        // The sender takes what is wanted immediately, not the digest's;
        // what one sender holds, another does not take until the lease
        // runs out.
        let lease = chrono::Duration::minutes(5);
        let due = store
            .claim_due_notifications(Channel::Email, 100, lease)
            .await
            .unwrap();
        assert!(due.iter().all(|q| q.delivery == Delivery::Immediately));
        assert!(!due.iter().any(|q| q.person_id.as_ref() == Some(&director)));
        let count = due.len();
        assert_eq!(count, 6, "{due:?}");
        assert!(
            store
                .claim_due_notifications(Channel::Email, 100, lease)
                .await
                .unwrap()
                .is_empty()
        );
        // Sent, it is done; failed, it waits its retry; failed for longer
        // than the sender may try, it is given up.
        store.notification_sent(&due[0].key).await.unwrap();
        store
            .notification_failed(&due[1].key, "421 try later", chrono::Duration::hours(24))
            .await
            .unwrap();
        store
            .notification_failed(&due[2].key, "550 no such user", chrono::Duration::zero())
            .await
            .unwrap();
        // A restarted sender's lease runs out: what it did not finish is due again.
        node.db
            .execute("UPDATE notification_outbox SET next_attempt_at = 0 WHERE attempts = 0 AND state = 'queued'")
            .await;
        let left = store
            .claim_due_notifications(Channel::Email, 100, lease)
            .await
            .unwrap();
        assert_eq!(left.len(), count - 3);
        assert!(
            !left
                .iter()
                .any(|q| [&due[0].key, &due[1].key, &due[2].key].contains(&&q.key))
        );

        // Replaying the log from the start writes nothing twice.
        node.db.execute("UPDATE notifier_cursor SET seq = 0").await;
        while store.fill_outbox(1000).await.unwrap() > 0 {}
        let keys = |list: Vec<edufed_store::notify::Queued>| {
            list.into_iter().map(|q| q.key).collect::<Vec<_>>()
        };
        assert_eq!(
            keys(store.outbox_of(&lecturer).await.unwrap()),
            keys(queued.clone())
        );
    }
);
