//! Across nodes: a school on the hub books a technopark's lab on the
//! technopark's node; the technopark's people are told by their node, the
//! school's by the hub, from what the hub mirrors. The technopark's node
//! never holds an address of the school's people.

use chrono::{Datelike as _, Duration, Utc, Weekday};
use edufed_domain::notify::Kind;
use edufed_proto::v1 as pb;
use edufed_tests::smtp::SmtpSink;
use edufed_tests::{
    Backend, Bearer, TestNode, both_backends, eventually, full_mesh, member, org_request,
};

fn next_tuesday() -> chrono::NaiveDate {
    let mut day = (Utc::now() + Duration::days(14)).date_naive();
    while day.weekday() != Weekday::Tue {
        day = day.succ_opt().unwrap();
    }
    day
}

both_backends!(
    a_school_on_the_hub_hears_of_its_lab_from_its_own_node,
    |backend: Backend| async move {
        let Some(mut sink) = SmtpSink::start().await else {
            return;
        };
        let park = TestNode::start_with(edufed_tests::TestDb::new(Backend::Sqlite).await, |s| {
            sink.configure(s, "edufed <edufed@park.example>");
        })
        .await;
        let hub = TestNode::start_with(edufed_tests::TestDb::new(backend).await, |s| {
            sink.configure(s, "edufed <edufed@hub.example>");
        })
        .await;
        park.operator()
            .await
            .create_organization(pb::CreateOrganizationRequest {
                kind: pb::OrganizationKind::Technopark.into(),
                short_name: "Кванториум".into(),
                ..org_request("kvantorium")
            })
            .await
            .unwrap();
        hub.operator()
            .await
            .create_organization(pb::CreateOrganizationRequest {
                short_name: "Гимназия № 24".into(),
                ..org_request("gym24")
            })
            .await
            .unwrap();
        let (_, park_admin) = member(
            &park,
            "kvantorium",
            pb::Role::Coordinator,
            "admin@kvantorium.example",
        )
        .await;
        let (deputy, deputy_token) =
            member(&hub, "gym24", pb::Role::Coordinator, "deputy@gym24.example").await;
        let (director, _) = member(&hub, "gym24", pb::Role::Admin, "director@gym24.example").await;
        full_mesh(&[&park, &hub]).await;

        let lab = pb::booking_client::BookingClient::with_interceptor(
            park.channel().await,
            Bearer::new(&park_admin),
        )
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
        let mut hub_booking = pb::booking_client::BookingClient::with_interceptor(
            hub.channel().await,
            Bearer::new(&deputy_token),
        );
        eventually("the lab offered on the hub", || {
            let mut hub_booking = hub_booking.clone();
            async move {
                let list = hub_booking
                    .list_resources(pb::ListResourcesRequest {
                        owner: "kvantorium".into(),
                        ..Default::default()
                    })
                    .await
                    .unwrap()
                    .into_inner()
                    .resources;
                (!list.is_empty()).then_some(())
            }
        })
        .await;
        // The deputy asks through the hub; the hub forwards it home.
        let day = next_tuesday();
        let requested = hub_booking
            .request_booking(pb::RequestBookingRequest {
                resource_id: lab.id.clone(),
                requester: "gym24".into(),
                start: format!("{day}T10:00"),
                end: format!("{day}T11:30"),
                purpose: "Робототехника, 7 класс".into(),
                headcount: 12,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .booking
            .unwrap();
        pb::booking_client::BookingClient::with_interceptor(
            park.channel().await,
            Bearer::new(&park_admin),
        )
        .approve_booking(pb::DecideBookingRequest {
            booking_id: requested.id.clone(),
            occurrence_start: None,
            comment: "Ждём в 9:50 у входа".into(),
        })
        .await
        .unwrap();

        // The school's director hears of it from the hub, with the lab's
        // name, the lesson's time and the comment.
        let approved = eventually("the director told by the hub", || async {
            sink.messages().into_iter().find_map(|raw| {
                let message = mail_parser::MessageParser::default().parse(raw.as_bytes())?;
                let to = message.header_raw("To")?.to_owned();
                let subject = message.subject()?.to_owned();
                (to.contains("director@gym24.example")
                    && subject.starts_with("Бронирование подтверждено"))
                .then(|| {
                    (
                        message.header_raw("From").unwrap_or_default().to_owned(),
                        subject,
                        message.body_text(0).unwrap_or_default().into_owned(),
                    )
                })
            })
        })
        .await;
        let (from, subject, text) = approved;
        assert!(from.contains("edufed@hub.example"), "{from}");
        assert!(subject.contains("IT-квантум"), "{subject}");
        assert!(
            text.contains("Кванториум") && text.contains("10:00"),
            "{text}"
        );
        assert!(text.contains("Ждём в 9:50 у входа"), "{text}");
        // The deputy asked, and hears of the decision too.
        let told_deputy = hub
            .node
            .store()
            .outbox_of(&deputy)
            .await
            .unwrap()
            .into_iter()
            .map(|q| q.kind)
            .collect::<Vec<_>>();
        assert_eq!(told_deputy, [Kind::BookingApproved]);
        // The technopark's coordinator was told of the request by the
        // technopark's node.
        eventually("the technopark told of the request", || async {
            park.node
                .store()
                .outbox()
                .await
                .unwrap()
                .into_iter()
                .find(|q| {
                    q.kind == Kind::BookingRequested && q.address == "admin@kvantorium.example"
                })
        })
        .await;
        // The technopark's node has no address of the school's people: not
        // in its outbox, not among its people.
        let park_outbox = park.node.store().outbox().await.unwrap();
        assert!(
            park_outbox
                .iter()
                .all(|q| !q.address.contains("gym24.example")),
            "{park_outbox:?}"
        );
        assert!(park.node.store().get_person(&director).await.is_err());
        assert!(park.node.store().get_person(&deputy).await.is_err());
        // A replay of the same mirror tells no one twice.
        let before = hub.node.store().outbox().await.unwrap().len();
        hub.federation()
            .await
            .unsubscribe(pb::UnsubscribeRequest {
                node_id: park.node.node_id().into(),
            })
            .await
            .unwrap();
        hub.federation()
            .await
            .subscribe(pb::SubscribeRequest {
                node_id: park.node.node_id().into(),
                entity_kinds: vec![],
                via: String::new(),
                activity_filter: None,
            })
            .await
            .unwrap();
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
        assert_eq!(hub.node.store().outbox().await.unwrap().len(), before);
        hub.node.stop().await.unwrap();
        park.node.stop().await.unwrap();
        sink.stop().await;
    }
);
