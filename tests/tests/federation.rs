//! Peering: an operator pins another node by URL and the fingerprint of its
//! key; a node that cannot prove it holds that key is refused.

use edufed_proto::v1 as pb;
use edufed_tests::{Backend, Bearer, TestNode, both_backends, org_request};
use tonic::Code;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

type Federation = pb::federation_client::FederationClient<InterceptedService<Channel, Bearer>>;

async fn federation(node: &TestNode, token: &str) -> Federation {
    pb::federation_client::FederationClient::with_interceptor(
        node.channel().await,
        Bearer::new(token),
    )
}

both_backends!(
    an_operator_pins_a_peer_by_its_fingerprint,
    |backend| async move {
        let university = TestNode::start(Backend::Sqlite).await;
        let hub = TestNode::start(backend).await;
        university
            .operator()
            .await
            .create_organization(org_request("tusur"))
            .await
            .unwrap();
        let mut hub_ops = federation(&hub, &hub.operator_token).await;
        let url = university.node.url();
        let fingerprint = university.node.node_id().to_owned();

        // The descriptor is public, and signed over the caller's nonce.
        let mut anyone = federation(&university, "").await;
        let signed = anyone
            .get_descriptor(pb::GetDescriptorRequest { nonce: vec![7; 16] })
            .await
            .unwrap()
            .into_inner();
        let descriptor = signed.descriptor.unwrap();
        assert_eq!(descriptor.node_id, fingerprint);
        assert_eq!(descriptor.organizations[0].slug, "tusur");
        let err = anyone
            .get_descriptor(pb::GetDescriptorRequest { nonce: vec![] })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument);

        // A key that is not the expected one is refused, and nothing is pinned.
        let wrong = hub.node.node_id().chars().rev().collect::<String>();
        let err = hub_ops
            .add_peer(pb::AddPeerRequest {
                url: url.clone(),
                fingerprint: wrong,
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::FailedPrecondition);
        assert!(err.message().contains("fingerprint"), "{}", err.message());
        // The hub's own key is not a peer.
        let err = hub_ops
            .add_peer(pb::AddPeerRequest {
                url: url.clone(),
                fingerprint: hub.node.node_id().into(),
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::FailedPrecondition);
        // Nobody listens there.
        let err = hub_ops
            .add_peer(pb::AddPeerRequest {
                url: "http://127.0.0.1:9".into(),
                fingerprint: fingerprint.clone(),
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::Unavailable);
        let err = hub_ops
            .add_peer(pb::AddPeerRequest {
                url: "ftp://x".into(),
                fingerprint: fingerprint.clone(),
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::InvalidArgument);
        assert!(
            hub_ops
                .list_peers(pb::ListPeersRequest {})
                .await
                .unwrap()
                .into_inner()
                .peers
                .is_empty()
        );

        // The right fingerprint pins it, once.
        let peer = hub_ops
            .add_peer(pb::AddPeerRequest {
                url: url.clone(),
                fingerprint: fingerprint.clone(),
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(peer.descriptor.as_ref().unwrap().organizations.len(), 1);
        let err = hub_ops
            .add_peer(pb::AddPeerRequest {
                url: url.clone(),
                fingerprint: fingerprint.clone(),
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::AlreadyExists);
        let peers = hub_ops
            .list_peers(pb::ListPeersRequest {})
            .await
            .unwrap()
            .into_inner()
            .peers;
        assert_eq!(peers.len(), 1);
        assert_eq!(peers[0].descriptor.as_ref().unwrap().node_id, fingerprint);

        // Only the operator manages peers.
        hub.operator()
            .await
            .create_organization(org_request("school5"))
            .await
            .unwrap();
        let admin = hub.member_token("school5", pb::Role::Admin).await;
        let err = federation(&hub, &admin)
            .await
            .list_peers(pb::ListPeersRequest {})
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::PermissionDenied);

        hub_ops
            .remove_peer(pb::RemovePeerRequest {
                node_id: fingerprint.clone(),
            })
            .await
            .unwrap();
        let err = hub_ops
            .remove_peer(pb::RemovePeerRequest {
                node_id: fingerprint.clone(),
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::NotFound);
        university.node.stop().await.unwrap();
        hub.node.stop().await.unwrap();
    }
);
