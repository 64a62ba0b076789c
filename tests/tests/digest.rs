//! Federation.GetDigest: a follower's digest of what it mirrors of an
//! origin equals the origin's digest of what it shows that follower, once
//! the follower caught up; and differs while a write has not arrived.

use edufed_proto::v1 as pb;
use edufed_tests::{Backend, Bearer, TestNode, both_backends, eventually, org_request};
use tonic::Code;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

type Federation = pb::federation_client::FederationClient<InterceptedService<Channel, Bearer>>;
type Calendar = pb::calendar_client::CalendarClient<InterceptedService<Channel, Bearer>>;

async fn federation(node: &TestNode, token: &str) -> Federation {
    pb::federation_client::FederationClient::with_interceptor(
        node.channel().await,
        Bearer::new(token),
    )
}

async fn calendar(node: &TestNode, token: &str) -> Calendar {
    pb::calendar_client::CalendarClient::with_interceptor(node.channel().await, Bearer::new(token))
}

/// `from`'s operator pins `to`, reached at `url`.
async fn pin(from: &TestNode, to: &TestNode, url: String) {
    federation(from, &from.operator_token)
        .await
        .add_peer(pb::AddPeerRequest {
            url,
            fingerprint: to.node.node_id().into(),
        })
        .await
        .unwrap();
}

/// The digest `node`'s operator gets.
async fn digest(
    node: &TestNode,
    origin: &str,
    for_node: &str,
    kinds: &[&str],
) -> Result<pb::Digest, tonic::Status> {
    federation(node, &node.operator_token)
        .await
        .get_digest(pb::GetDigestRequest {
            origin: origin.into(),
            for_node: for_node.into(),
            entity_kinds: kinds.iter().map(|k| (*k).to_owned()).collect(),
        })
        .await
        .map(tonic::Response::into_inner)
}

/// Waits until `follower`'s digest of its mirrors of `origin` equals
/// `origin`'s digest for `for_node`, both of `kinds`, and returns it.
async fn converged(
    follower: &TestNode,
    origin: &TestNode,
    for_node: &str,
    kinds: &[&str],
) -> pb::Digest {
    let origin_id = origin.node.node_id().to_owned();
    eventually("the follower's mirrors matching its origin", || {
        let origin_id = origin_id.clone();
        async move {
            let shown = digest(origin, "", for_node, kinds).await.unwrap();
            let mirrored = digest(follower, &origin_id, "", kinds).await.unwrap();
            (shown == mirrored).then_some(shown)
        }
    })
    .await
}

/// The field a refusal names.
fn field_of(status: &tonic::Status) -> String {
    use tonic_types::StatusExt as _;
    status
        .get_details_bad_request()
        .and_then(|b| b.field_violations.first().map(|v| v.field.clone()))
        .unwrap_or_default()
}

/// The kinds the hub follows of the university.
const FOLLOWED: [&str; 3] = ["activity", "activity_seats", "registration"];
/// Of those, the kinds a relay passes on.
const RELAYED: [&str; 2] = ["activity", "activity_seats"];

both_backends!(
    a_followers_digest_matches_what_its_origin_shows_it,
    |backend| async move {
        let university = TestNode::start(backend).await;
        let hub = TestNode::start(backend).await;
        let region = TestNode::start(Backend::Sqlite).await;
        university
            .operator()
            .await
            .create_organization(pb::CreateOrganizationRequest {
                kind: pb::OrganizationKind::University.into(),
                ..org_request("tusur")
            })
            .await
            .unwrap();
        hub.operator()
            .await
            .create_organization(org_request("gym24"))
            .await
            .unwrap();
        let coordinator = university
            .member_token("tusur", pb::Role::Coordinator)
            .await;
        let school = hub.member_token("gym24", pb::Role::Coordinator).await;
        let university_id = university.node.node_id().to_owned();
        let hub_id = hub.node.node_id().to_owned();

        // The hub reaches the university through a link the test can cut;
        // the region follows the university through the hub.
        let link = edufed_tests::Partition::start(university.node.addr()).await;
        pin(&hub, &university, link.url()).await;
        pin(&university, &hub, hub.node.url()).await;
        pin(&region, &hub, hub.node.url()).await;
        pin(&hub, &region, region.node.url()).await;
        federation(&hub, &hub.operator_token)
            .await
            .subscribe(pb::SubscribeRequest {
                node_id: university_id.clone(),
                entity_kinds: FOLLOWED.map(str::to_owned).to_vec(),
                via: String::new(),
                activity_filter: None,
            })
            .await
            .unwrap();
        federation(&region, &region.operator_token)
            .await
            .subscribe(pb::SubscribeRequest {
                node_id: university_id.clone(),
                entity_kinds: vec![],
                via: hub_id.clone(),
                activity_filter: None,
            })
            .await
            .unwrap();

        // Before anything is published both digests are of nothing; the
        // hub follows the university, so its mirrors of it, none yet, are
        // digested rather than refused.
        let empty = converged(&hub, &university, &hub_id, &FOLLOWED).await;
        assert_eq!((empty.records, empty.latest_sequence), (0, 0));
        assert_eq!(
            empty.sha256,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(empty.origin, university_id);

        // The university publishes three courses and a draft.
        let mut tusur = calendar(&university, &coordinator).await;
        let publisher = tusur.clone();
        let publish = |title: &str, draft: bool| {
            let mut tusur = publisher.clone();
            let request = pb::PublishActivityRequest {
                publisher: "tusur".into(),
                details: Some(edufed_tests::public_course(title, 20)),
                draft,
            };
            async move { tusur.publish_activity(request).await.unwrap().into_inner() }
        };
        let olympiad = publish("Олимпиадная информатика", false).await;
        let cancelled = publish("Робототехника", false).await;
        let restricted = publish("Педсовет", false).await;
        publish("Черновик", true).await;

        // The hub's school registers a group for the olympiad; the hub
        // forwards it to the university, which keeps it.
        let mut hub_calendar = calendar(&hub, &school).await;
        let olympiad_id = olympiad.id.clone();
        eventually("the olympiad reaching the hub", || {
            let (node, id) = (&hub, olympiad_id.clone());
            async move {
                node.node
                    .store()
                    .get_mirror(edufed_domain::changes::EntityKind::Activity, &id)
                    .await
                    .unwrap()
                    .map(|_| ())
            }
        })
        .await;
        let mut register = tonic::Request::new(pb::RegisterRequest {
            activity_id: olympiad.id.clone(),
            venue: 0,
            occurrence_start: None,
            cohort: Some(pb::Cohort {
                organization: "gym24".into(),
                grades: Some(pb::GradeRange { min: 10, max: 10 }),
                headcount: 12,
                teacher: "Казак О.Г.".into(),
                teacher_contact: String::new(),
                teachers: false,
            }),
        });
        register.metadata_mut().insert(
            edufed_federation::forward::IDEMPOTENCY_HEADER,
            "gym24-olympiad".parse().unwrap(),
        );
        hub_calendar.register(register).await.unwrap();

        // One course is called off, one is restricted to the university:
        // peers are told it is gone (a shared deletion), and the entry
        // that follows, which they may not see, hides nothing from them.
        tusur
            .set_activity_status(pb::SetActivityStatusRequest {
                activity_id: cancelled.id.clone(),
                status: pb::ActivityStatus::Cancelled.into(),
            })
            .await
            .unwrap();
        let mut details = restricted.details.clone().unwrap();
        details.visibility = pb::Visibility::Organization.into();
        tusur
            .update_activity(pb::UpdateActivityRequest {
                activity_id: restricted.id.clone(),
                expected_version: 0,
                details: Some(details),
            })
            .await
            .unwrap();

        // The hub holds what the university shows it: three activities
        // (the restricted one as its deletion, never the draft), the
        // olympiad's seats and its school's registration.
        let for_hub = converged(&hub, &university, &hub_id, &FOLLOWED).await;
        assert_eq!(for_hub.origin, university_id);
        let by_kind = |kind: &'static str| {
            let hub_id = hub_id.clone();
            let university = &university;
            async move {
                digest(university, "", &hub_id, &[kind])
                    .await
                    .unwrap()
                    .records
            }
        };
        assert_eq!(by_kind("activity").await, 3);
        assert_eq!(by_kind("registration").await, 1);
        assert_eq!(by_kind("activity_seats").await, 1);
        assert_eq!(for_hub.records, 5);
        assert_eq!(
            for_hub.latest_sequence,
            digest(&hub, &university_id, "", &FOLLOWED)
                .await
                .unwrap()
                .latest_sequence
        );

        // What the network is shown has no registration: the region,
        // following through the hub, holds exactly that of the kinds a
        // relay passes on.
        let shared = converged(&region, &university, "", &RELAYED).await;
        assert_eq!(shared.records, 4);
        assert_eq!(
            digest(&university, "", "", &FOLLOWED)
                .await
                .unwrap()
                .records,
            for_hub.records - 1
        );
        // The hub mirrors those same records.
        assert_eq!(
            digest(&hub, &university_id, "", &RELAYED).await.unwrap(),
            shared
        );
        // Erasures never count.
        assert_eq!(
            digest(&university, "", &hub_id, &["erasure"])
                .await
                .unwrap()
                .records,
            0
        );

        // A write that has not arrived: the hub is cut off, the university
        // publishes, and the digests differ until the link returns.
        link.cut();
        publish("Физика для 10 классов", false).await;
        let shown = digest(&university, "", &hub_id, &FOLLOWED).await.unwrap();
        let mirrored = digest(&hub, &university_id, "", &FOLLOWED).await.unwrap();
        assert_eq!(mirrored, for_hub, "nothing reached the hub");
        assert_ne!(shown, mirrored);
        assert!(shown.records > mirrored.records);
        assert!(shown.latest_sequence > mirrored.latest_sequence);
        link.heal();
        let caught_up = converged(&hub, &university, &hub_id, &FOLLOWED).await;
        assert_eq!(caught_up, shown);

        // Refusals.
        let admin = hub.member_token("gym24", pb::Role::Admin).await;
        let err = federation(&hub, &admin)
            .await
            .get_digest(pb::GetDigestRequest {
                origin: university_id.clone(),
                ..Default::default()
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied, "{err:?}");
        let err = digest(&hub, &university_id, "", &["activity", "lessons"])
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
        assert_eq!(field_of(&err), "entity_kinds");
        let stranger = "ab".repeat(32);
        let err = digest(&university, "", &stranger, &[]).await.unwrap_err();
        assert_eq!(err.code(), Code::NotFound, "{err:?}");
        assert!(err.message().contains(&stranger), "{}", err.message());
        let err = digest(&hub, &stranger, "", &[]).await.unwrap_err();
        assert_eq!(err.code(), Code::NotFound, "{err:?}");
        assert!(err.message().contains(&stranger), "{}", err.message());
        let err = digest(&hub, &university_id, region.node.node_id(), &[])
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
        assert_eq!(field_of(&err), "for_node");
        let err = digest(&hub, "", &hub_id, &[]).await.unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument, "{err:?}");
        assert_eq!(field_of(&err), "for_node");
        let err = digest(&hub, "42", "", &[]).await.unwrap_err();
        assert_eq!(field_of(&err), "origin");

        for node in [region, hub, university] {
            node.node.stop().await.unwrap();
        }
    }
);
