//! The audit trail: who wrote which record, when and from where, on the
//! node a write was made on and on the node it was forwarded to; read by
//! the admins of the records' organizations and the operator; kept past
//! change-log compaction until its own retention.

use edufed_proto::v1 as pb;
use edufed_tests::{Backend, Bearer, TestNode, both_backends, eventually, full_mesh, org_request};
use tonic::Code;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

type Audit = pb::audit_client::AuditClient<InterceptedService<Channel, Bearer>>;

async fn audit(node: &TestNode, token: &str) -> Audit {
    pb::audit_client::AuditClient::with_interceptor(node.channel().await, Bearer::new(token))
}

async fn booking(
    node: &TestNode,
    token: &str,
) -> pb::booking_client::BookingClient<InterceptedService<Channel, Bearer>> {
    pb::booking_client::BookingClient::with_interceptor(node.channel().await, Bearer::new(token))
}

async fn entries(client: &mut Audit, request: pb::ListAuditEntriesRequest) -> Vec<pb::AuditEntry> {
    client
        .list_audit_entries(request)
        .await
        .unwrap()
        .into_inner()
        .entries
}

fn of_record(id: &str) -> pb::ListAuditEntriesRequest {
    pb::ListAuditEntriesRequest {
        record_id: id.to_owned(),
        ..Default::default()
    }
}

fn lab() -> pb::Resource {
    pb::Resource {
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
        rules: Some(pb::BookingRules {
            min_minutes: 45,
            max_advance_days: 400,
            ..Default::default()
        }),
        approval: pb::ApprovalPolicy::ApprovalRequired.into(),
        access: pb::Access::Network.into(),
        ..Default::default()
    }
}

fn next_weekday() -> chrono::NaiveDate {
    let mut day = chrono::Utc::now().date_naive() + chrono::Duration::days(7);
    while chrono::Datelike::weekday(&day).number_from_monday() > 5 {
        day += chrono::Duration::days(1);
    }
    day
}

both_backends!(
    a_forwarded_cancellation_is_in_the_trail_of_both_nodes,
    |backend| async move {
        let technopark = TestNode::start(Backend::Sqlite).await;
        let hub = TestNode::start(backend).await;
        technopark
            .operator()
            .await
            .create_organization(pb::CreateOrganizationRequest {
                kind: pb::OrganizationKind::Technopark.into(),
                ..org_request("kvantorium")
            })
            .await
            .unwrap();
        for slug in ["gym24", "lyceum7"] {
            hub.operator()
                .await
                .create_organization(org_request(slug))
                .await
                .unwrap();
        }
        let park_coordinator = technopark
            .member_token("kvantorium", pb::Role::Coordinator)
            .await;
        let park_admin = technopark.member_token("kvantorium", pb::Role::Admin).await;
        let school_coordinator = hub.member_token("gym24", pb::Role::Coordinator).await;
        let school_director = hub.member_token("gym24", pb::Role::Admin).await;
        let other_director = hub.member_token("lyceum7", pb::Role::Admin).await;
        full_mesh(&[&technopark, &hub]).await;

        let resource = booking(&technopark, &park_coordinator)
            .await
            .create_resource(pb::CreateResourceRequest {
                owner: "kvantorium".into(),
                resource: Some(lab()),
            })
            .await
            .unwrap()
            .into_inner();
        eventually("the lab mirrored on the hub", || {
            let hub = &hub;
            let id = resource.id.clone();
            async move {
                hub.node
                    .store()
                    .get_mirror(edufed_domain::changes::EntityKind::Resource, &id)
                    .await
                    .unwrap()
            }
        })
        .await;

        // The school's coordinator requests the lab and cancels the
        // booking through the hub; both go to the technopark.
        let mut school = booking(&hub, &school_coordinator).await;
        let day = next_weekday();
        let requested = school
            .request_booking(pb::RequestBookingRequest {
                resource_id: resource.id.clone(),
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
        eventually("the booking mirrored on the hub", || {
            let hub = &hub;
            let id = requested.id.clone();
            async move {
                hub.node
                    .store()
                    .get_mirror(edufed_domain::changes::EntityKind::Booking, &id)
                    .await
                    .unwrap()
            }
        })
        .await;
        let cancelled = school
            .cancel_booking(pb::CancelBookingRequest {
                booking_id: requested.id.clone(),
                scope: pb::CancelScope::All.into(),
                occurrence_start: None,
                comment: "Урок перенесён".into(),
            })
            .await
            .unwrap()
            .into_inner();

        // Who cancelled it, on the hub: the school's coordinator, with
        // their token, from this machine, sent to the technopark.
        let mut director = audit(&hub, &school_director).await;
        let here = entries(&mut director, of_record(&requested.id)).await;
        assert_eq!(here.len(), 1, "{here:?}");
        let entry = &here[0];
        assert_eq!(entry.method, "/edufed.v1.Booking/CancelBooking");
        assert_eq!(entry.operation, "forward");
        assert_eq!(entry.record_kind, "booking");
        assert_eq!(entry.forwarded_to, technopark.node.node_id());
        assert_eq!(entry.actor_name, "gym24 Coordinator");
        assert!(entry.credential.starts_with("token:"), "{entry:?}");
        assert_eq!(entry.address, "127.0.0.1");
        assert_eq!(entry.via_node, "");
        let school_id = entry.organization_id.clone();
        // The request went the same way, recorded against the lab.
        let requests = entries(
            &mut director,
            pb::ListAuditEntriesRequest {
                organization: "gym24".into(),
                ..Default::default()
            },
        )
        .await;
        assert!(
            requests
                .iter()
                .any(|e| e.method == "/edufed.v1.Booking/RequestBooking"
                    && e.record_id == resource.id
                    && e.operation == "forward"),
            "{requests:?}"
        );

        // On the technopark, the booking's home: the write the hub made
        // for that person, with the booking's version after it.
        let mut operator = audit(&technopark, &technopark.operator_token).await;
        let at_home = entries(&mut operator, of_record(&requested.id)).await;
        assert_eq!(at_home.len(), 2, "requested and cancelled: {at_home:?}");
        let cancel = &at_home[0];
        assert_eq!(cancel.method, "/edufed.v1.Booking/CancelBooking");
        assert_eq!(cancel.operation, "upsert");
        assert_eq!(cancel.version, Some(cancelled.version));
        assert_eq!(cancel.via_node, hub.node.node_id());
        assert_eq!(
            cancel.credential,
            format!("peer:{}", hub.node.node_id()),
            "{cancel:?}"
        );
        assert_eq!(
            cancel.actor,
            format!("{}@{}", entry.actor, hub.node.node_id())
        );
        assert_eq!(cancel.address, "127.0.0.1");
        assert_eq!(at_home[1].method, "/edufed.v1.Booking/RequestBooking");
        let at = |e: &pb::AuditEntry| e.at.map(|t| (t.seconds, t.nanos));
        assert!(at(&at_home[1]) <= at(cancel));
        // The technopark's admin reads it too: the lab is theirs.
        let mut admin = audit(&technopark, &park_admin).await;
        assert_eq!(entries(&mut admin, of_record(&requested.id)).await, at_home);

        // A coordinator may not read the trail; another school's director
        // does not see this school's entries and may not ask for them.
        let err = audit(&technopark, &park_coordinator)
            .await
            .list_audit_entries(of_record(&requested.id))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
        let mut other = audit(&hub, &other_director).await;
        assert!(
            entries(&mut other, of_record(&requested.id))
                .await
                .is_empty()
        );
        let err = other
            .list_audit_entries(pb::ListAuditEntriesRequest {
                organization: "gym24".into(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
        // Bad input names its field.
        let err = director
            .list_audit_entries(pb::ListAuditEntriesRequest {
                person_id: "not an id".into(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
        let err = director
            .list_audit_entries(pb::ListAuditEntriesRequest {
                page_token: "forged".into(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");

        // By person, a page at a time, newest first.
        let person = entries(
            &mut director,
            pb::ListAuditEntriesRequest {
                person_id: entry.actor.clone(),
                ..Default::default()
            },
        )
        .await;
        assert_eq!(person.len(), 2, "{person:?}");
        let first = director
            .list_audit_entries(pb::ListAuditEntriesRequest {
                person_id: entry.actor.clone(),
                page_size: 1,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(first.entries, person[..1]);
        let second = director
            .list_audit_entries(pb::ListAuditEntriesRequest {
                person_id: entry.actor.clone(),
                page_size: 1,
                page_token: first.next_page_token,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(second.entries, person[1..]);
        assert!(second.next_page_token.is_empty());

        // Compaction of the change log leaves the trail; its own retention
        // does not.
        let store = technopark.node.store();
        let later = chrono::Utc::now() + chrono::Duration::days(1);
        store.compact_changes(later).await.unwrap();
        assert_eq!(
            entries(&mut operator, of_record(&requested.id)).await,
            at_home
        );
        let expired = store.expire_audit(later).await.unwrap();
        assert!(expired >= 3, "{expired}");
        assert!(
            entries(&mut operator, of_record(&requested.id))
                .await
                .is_empty()
        );
        assert!(!school_id.is_empty());
    }
);
