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

/// Each node's operator pins the other.
async fn pin_each_other(a: &TestNode, b: &TestNode) {
    for (from, to) in [(a, b), (b, a)] {
        federation(from, &from.operator_token)
            .await
            .add_peer(pb::AddPeerRequest {
                url: to.node.url(),
                fingerprint: to.node.node_id().into(),
            })
            .await
            .unwrap();
    }
}

/// The first subscription's status once `done` holds of it, waiting up to
/// ten seconds.
async fn subscription_when(
    ops: &mut Federation,
    done: impl Fn(&pb::SubscriptionStatus) -> bool,
) -> Option<pb::SubscriptionStatus> {
    for _ in 0..100 {
        let list = ops
            .list_subscriptions(pb::ListSubscriptionsRequest {})
            .await
            .unwrap()
            .into_inner()
            .subscriptions;
        if done(&list[0]) {
            return Some(list[0].clone());
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    None
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

/// A Watch request on `node` signed as the node whose data directory is `caller`.
fn as_node(
    caller: &TestNode,
    to: &str,
    at: i64,
    request: pb::WatchRequest,
) -> tonic::Request<pb::WatchRequest> {
    let pem = std::fs::read_to_string(caller.data_dir.join("node.key")).unwrap();
    let identity = edufed_federation::NodeIdentity::from_pem(&pem).unwrap();
    let (from, credential) = edufed_federation::credential(&identity, to, at);
    let mut request = tonic::Request::new(request);
    request
        .metadata_mut()
        .insert(edufed_federation::NODE_HEADER, from.parse().unwrap());
    request.metadata_mut().insert(
        edufed_federation::NODE_AUTH_HEADER,
        credential.parse().unwrap(),
    );
    request
}

both_backends!(
    a_pinned_peer_reads_only_what_the_network_shares,
    |backend| async move {
        let university = TestNode::start(backend).await;
        let hub = TestNode::start(Backend::Sqlite).await;
        let stranger = TestNode::start(Backend::Sqlite).await;
        let mut op = university.operator().await;
        op.create_organization(org_request("tusur")).await.unwrap();
        let coordinator = university
            .member_token("tusur", pb::Role::Coordinator)
            .await;
        let mut calendar = pb::calendar_client::CalendarClient::with_interceptor(
            university.channel().await,
            Bearer::new(&coordinator),
        );
        calendar
            .publish_activity(pb::PublishActivityRequest {
                publisher: "tusur".into(),
                details: Some(olympiad("Олимпиада по информатике", 20)),
                draft: false,
            })
            .await
            .unwrap();
        // The university pins the hub.
        federation(&university, &university.operator_token)
            .await
            .add_peer(pb::AddPeerRequest {
                url: hub.node.url(),
                fingerprint: hub.node.node_id().into(),
            })
            .await
            .unwrap();

        let to = university.node.node_id().to_owned();
        let now = chrono::Utc::now().timestamp();
        let watch = pb::WatchRequest {
            after_sequence: 0,
            entity_kinds: vec![],
            heartbeat_seconds: 1,
            snapshot: false,
        };
        let mut feed = pb::change_feed_client::ChangeFeedClient::new(university.channel().await);
        let mut stream = feed
            .watch(as_node(&hub, &to, now, watch.clone()))
            .await
            .unwrap()
            .into_inner();
        let mut kinds = Vec::new();
        while let Some(message) = stream.message().await.unwrap() {
            match message.event.unwrap() {
                pb::watch_response::Event::Entry(entry) => {
                    assert_eq!(entry.node_id, to);
                    assert_eq!(entry.signature.len(), 64);
                    kinds.push(entry.entity_kind);
                }
                pb::watch_response::Event::Heartbeat(_) => break,
            }
        }
        // The public activity and its seats; no people, members or tokens.
        assert!(kinds.contains(&"activity".to_owned()), "{kinds:?}");
        assert!(
            kinds
                .iter()
                .all(|k| k == "activity" || k == "activity_seats"),
            "{kinds:?}"
        );

        // A node the university has not pinned, a forged credential, a stale one.
        let err = feed
            .watch(as_node(&stranger, &to, now, watch.clone()))
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::Unauthenticated);
        assert!(
            err.message().contains("not a pinned peer"),
            "{}",
            err.message()
        );
        let mut forged = as_node(&hub, &to, now, watch.clone());
        let wrong = as_node(&stranger, &to, now, watch.clone());
        forged.metadata_mut().insert(
            edufed_federation::NODE_AUTH_HEADER,
            wrong
                .metadata()
                .get(edufed_federation::NODE_AUTH_HEADER)
                .unwrap()
                .clone(),
        );
        assert_eq!(
            feed.watch(forged).await.unwrap_err().code(),
            Code::Unauthenticated
        );
        let stale = as_node(&hub, &to, now - 3600, watch.clone());
        assert_eq!(
            feed.watch(stale).await.unwrap_err().code(),
            Code::Unauthenticated
        );
        // A credential made for another node is no good here.
        let elsewhere = as_node(&hub, stranger.node.node_id(), now, watch.clone());
        assert_eq!(
            feed.watch(elsewhere).await.unwrap_err().code(),
            Code::Unauthenticated
        );
        for node in [university, hub, stranger] {
            node.node.stop().await.unwrap();
        }
    }
);

fn olympiad(title: &str, days: i64) -> pb::ActivityDetails {
    let day = (chrono::Utc::now() + chrono::Duration::days(days)).date_naive();
    pb::ActivityDetails {
        title: title.into(),
        kind: pb::ActivityKind::Olympiad.into(),
        audience: Some(pb::Audience {
            students: Some(pb::GradeRange { min: 9, max: 11 }),
            ..Default::default()
        }),
        format: pb::Format::InPerson.into(),
        place: Some(pb::Place {
            kind: pb::PlaceKind::AtPublisher.into(),
            value: String::new(),
        }),
        visibility: pb::Visibility::Public.into(),
        schedule: Some(pb::Schedule {
            time_zone: String::new(),
            start: format!("{day}T10:00"),
            end: format!("{day}T14:00"),
            all_day: false,
            recurrence: None,
        }),
        ..Default::default()
    }
}

both_backends!(
    a_subscriber_mirrors_what_a_peer_shares,
    |backend| async move {
        let university = TestNode::start(Backend::Sqlite).await;
        let hub = TestNode::start(backend).await;
        university
            .operator()
            .await
            .create_organization(org_request("tusur"))
            .await
            .unwrap();
        let coordinator = university
            .member_token("tusur", pb::Role::Coordinator)
            .await;
        let mut calendar = pb::calendar_client::CalendarClient::with_interceptor(
            university.channel().await,
            Bearer::new(&coordinator),
        );
        let mut published = Vec::new();
        for (title, draft) in [
            ("Олимпиада «Информатика»", false),
            ("Черновик", true),
            ("Олимпиада «Физика»", false),
        ] {
            let activity = calendar
                .publish_activity(pb::PublishActivityRequest {
                    publisher: "tusur".into(),
                    details: Some(olympiad(title, 30)),
                    draft,
                })
                .await
                .unwrap()
                .into_inner();
            if !draft {
                published.push(activity.id);
            }
        }
        // Each operator pins the other; the hub follows the university.
        pin_each_other(&university, &hub).await;
        let mut hub_ops = federation(&hub, &hub.operator_token).await;
        let origin = university.node.node_id().to_owned();
        hub_ops
            .subscribe(pb::SubscribeRequest {
                node_id: origin.clone(),
                entity_kinds: vec!["activity".into()],
                via: String::new(),
                activity_filter: None,
            })
            .await
            .unwrap();
        let err = hub_ops
            .subscribe(pb::SubscribeRequest {
                node_id: origin.clone(),
                entity_kinds: vec![],
                via: String::new(),
                activity_filter: None,
            })
            .await
            .unwrap_err();
        assert_eq!(err.code(), Code::AlreadyExists);

        // The mirrors converge on the public activities, each with its origin's signature.
        let latest = university.node.store().latest_sequence().await.unwrap();
        let status = subscription_when(&mut hub_ops, |s| s.cursor >= latest && s.connected)
            .await
            .expect("the subscription catches up");
        assert_eq!(status.lag_entries, 0);
        assert!(status.last_error.is_empty());
        let mirrors = hub.node.store().list_mirrors(Some(&origin)).await.unwrap();
        let mut ids: Vec<&str> = mirrors.iter().map(|m| m.entry.entity_id.as_str()).collect();
        ids.sort_unstable();
        published.sort();
        assert_eq!(
            ids,
            published.iter().map(String::as_str).collect::<Vec<_>>()
        );
        let pem = std::fs::read_to_string(university.data_dir.join("node.key")).unwrap();
        let key = edufed_federation::NodeIdentity::from_pem(&pem)
            .unwrap()
            .public_key();
        for m in &mirrors {
            assert_eq!(m.origin, origin);
            let signature: [u8; 64] = m.signature.clone().try_into().unwrap();
            assert!(edufed_federation::verify(
                &key,
                m.entry.statement(&origin).as_bytes(),
                &signature
            ));
        }

        // So do the hub's metrics.
        let (_, metrics) = edufed_tests::http_get(hub.node.addr(), "/metrics").await;
        assert!(
            metrics.contains(&format!("edufed_peer_connected{{peer=\"{origin}\"}} 1")),
            "{metrics}"
        );
        assert!(metrics.contains(&format!("edufed_peer_lag_entries{{peer=\"{origin}\"}} 0")));

        // The hub's calendar finds them, as if they were its own.
        let mut hub_calendar = pb::calendar_client::CalendarClient::new(hub.channel().await);
        let found = hub_calendar
            .list_occurrences(pb::ListOccurrencesRequest {
                from: Some(prost_types::Timestamp {
                    seconds: chrono::Utc::now().timestamp(),
                    nanos: 0,
                }),
                to: Some(prost_types::Timestamp {
                    seconds: (chrono::Utc::now() + chrono::Duration::days(60)).timestamp(),
                    nanos: 0,
                }),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        let mut titles: Vec<String> = found
            .occurrences
            .iter()
            .map(|o| {
                o.activity
                    .as_ref()
                    .unwrap()
                    .details
                    .as_ref()
                    .unwrap()
                    .title
                    .clone()
            })
            .collect();
        titles.sort();
        assert_eq!(titles, ["Олимпиада «Информатика»", "Олимпиада «Физика»"]);

        // A change follows live.
        calendar
            .publish_activity(pb::PublishActivityRequest {
                publisher: "tusur".into(),
                details: Some(olympiad("Олимпиада «Математика»", 40)),
                draft: false,
            })
            .await
            .unwrap();
        let mut seen = 0;
        for _ in 0..100 {
            seen = hub
                .node
                .store()
                .list_mirrors(Some(&origin))
                .await
                .unwrap()
                .len();
            if seen == 3 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert_eq!(seen, 3);

        // The university restricts one to its own organization: the hub's
        // calendar stops finding it.
        let restricted = published[0].clone();
        let mut details = calendar
            .get_activity(pb::GetActivityRequest {
                activity_id: restricted.clone(),
            })
            .await
            .unwrap()
            .into_inner()
            .activity
            .unwrap()
            .details
            .unwrap();
        details.visibility = pb::Visibility::Organization.into();
        calendar
            .update_activity(pb::UpdateActivityRequest {
                activity_id: restricted.clone(),
                expected_version: 0,
                details: Some(details),
            })
            .await
            .unwrap();
        let window = || pb::ListOccurrencesRequest {
            from: Some(prost_types::Timestamp {
                seconds: chrono::Utc::now().timestamp(),
                nanos: 0,
            }),
            to: Some(prost_types::Timestamp {
                seconds: (chrono::Utc::now() + chrono::Duration::days(60)).timestamp(),
                nanos: 0,
            }),
            ..Default::default()
        };
        let mut still_there = true;
        for _ in 0..100 {
            let found = hub_calendar
                .list_occurrences(window())
                .await
                .unwrap()
                .into_inner();
            still_there = found
                .occurrences
                .iter()
                .any(|o| o.activity.as_ref().unwrap().id == restricted);
            if !still_there {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(!still_there, "a restricted activity stays mirrored");

        hub_ops
            .unsubscribe(pb::UnsubscribeRequest {
                node_id: origin.clone(),
            })
            .await
            .unwrap();
        assert!(
            hub_ops
                .list_subscriptions(pb::ListSubscriptionsRequest {})
                .await
                .unwrap()
                .into_inner()
                .subscriptions
                .is_empty()
        );
        hub.node.stop().await.unwrap();
        university.node.stop().await.unwrap();
    }
);

both_backends!(
    an_entry_that_fails_its_signature_is_refused,
    |backend| async move {
        let university = TestNode::start(Backend::Sqlite).await;
        let hub = TestNode::start(backend).await;
        university
            .operator()
            .await
            .create_organization(org_request("tusur"))
            .await
            .unwrap();
        let origin = university.node.node_id().to_owned();
        pin_each_other(&university, &hub).await;
        let mut hub_ops = federation(&hub, &hub.operator_token).await;
        // Someone with access to the hub's database swaps the pinned key: the
        // university's entries no longer verify, and none is applied.
        let other = edufed_federation::NodeIdentity::generate()
            .public_key()
            .to_bytes();
        let changed = hub
            .db
            .execute(&format!(
                "UPDATE peers SET public_key = '{}' WHERE node_id = '{origin}'",
                other.iter().map(|b| format!("{b:02x}")).collect::<String>()
            ))
            .await;
        assert_eq!(changed, 1);
        // The university's public activity, so there is something to refuse.
        let coordinator = university
            .member_token("tusur", pb::Role::Coordinator)
            .await;
        pb::calendar_client::CalendarClient::with_interceptor(
            university.channel().await,
            Bearer::new(&coordinator),
        )
        .publish_activity(pb::PublishActivityRequest {
            publisher: "tusur".into(),
            details: Some(olympiad("Олимпиада «Химия»", 30)),
            draft: false,
        })
        .await
        .unwrap();
        hub_ops
            .subscribe(pb::SubscribeRequest {
                node_id: origin.clone(),
                entity_kinds: vec!["activity".into()],
                via: String::new(),
                activity_filter: None,
            })
            .await
            .unwrap();
        let failed = subscription_when(&mut hub_ops, |s| !s.last_error.is_empty())
            .await
            .expect("the subscription reports the refusal");
        assert!(!failed.connected);
        assert_eq!(failed.cursor, 0, "nothing applied");
        let error = failed.last_error;
        assert!(
            error.contains("does not verify with the pinned key"),
            "{error}"
        );
        assert!(
            hub.node
                .store()
                .list_mirrors(Some(&origin))
                .await
                .unwrap()
                .is_empty()
        );
        hub.node.stop().await.unwrap();
        university.node.stop().await.unwrap();
    }
);

/// Certificates from one federation CA, for nodes that talk mutual TLS.
fn federation_pki(dir: &std::path::Path) -> std::path::PathBuf {
    use rcgen::{BasicConstraints, CertificateParams, ExtendedKeyUsagePurpose, IsCa, KeyPair};
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_key = KeyPair::generate().unwrap();
    let ca = params.self_signed(&ca_key).unwrap();
    std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
    for name in ["university", "hub"] {
        let mut params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &ca, &ca_key).unwrap();
        std::fs::write(dir.join(format!("{name}.pem")), cert.pem()).unwrap();
        std::fs::write(dir.join(format!("{name}.key")), key.serialize_pem()).unwrap();
    }
    dir.join("ca.pem")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn peers_link_over_mutual_tls() {
    let pki = tempfile::tempdir().unwrap();
    let ca = federation_pki(pki.path());
    let start = |name: &'static str| {
        let ca = ca.clone();
        let dir = pki.path().to_path_buf();
        async move {
            let db = edufed_tests::TestDb::new(Backend::Sqlite).await;
            TestNode::start_with(db, move |s| {
                s.tls_cert = Some(dir.join(format!("{name}.pem")));
                s.tls_key = Some(dir.join(format!("{name}.key")));
                s.tls_client_ca = Some(ca.clone());
                s.peer_ca = Some(ca.clone());
            })
            .await
        }
    };
    let university = start("university").await;
    let hub = start("hub").await;
    assert!(university.node.url().starts_with("https://"));
    // The operators' own calls go over TLS with the CA and a client certificate.
    let operator = |node: &TestNode, name: &'static str| {
        let url = node.node.url();
        let token = node.operator_token.clone();
        let dir = pki.path().to_path_buf();
        async move {
            let tls = tonic::transport::ClientTlsConfig::new()
                .ca_certificate(tonic::transport::Certificate::from_pem(
                    std::fs::read(dir.join("ca.pem")).unwrap(),
                ))
                .identity(tonic::transport::Identity::from_pem(
                    std::fs::read(dir.join(format!("{name}.pem"))).unwrap(),
                    std::fs::read(dir.join(format!("{name}.key"))).unwrap(),
                ));
            let channel = Channel::from_shared(url)
                .unwrap()
                .tls_config(tls)
                .unwrap()
                .connect()
                .await
                .unwrap();
            pb::federation_client::FederationClient::with_interceptor(channel, Bearer::new(&token))
        }
    };
    let mut uni_ops = operator(&university, "university").await;
    let mut hub_ops = operator(&hub, "hub").await;
    uni_ops
        .add_peer(pb::AddPeerRequest {
            url: hub.node.url(),
            fingerprint: hub.node.node_id().into(),
        })
        .await
        .unwrap();
    let origin = university.node.node_id().to_owned();
    hub_ops
        .add_peer(pb::AddPeerRequest {
            url: university.node.url(),
            fingerprint: origin.clone(),
        })
        .await
        .unwrap();
    hub_ops
        .subscribe(pb::SubscribeRequest {
            node_id: origin.clone(),
            entity_kinds: vec![],
            via: String::new(),
            activity_filter: None,
        })
        .await
        .unwrap();
    let connected =
        subscription_when(&mut hub_ops, |s| s.connected && s.last_error.is_empty()).await;
    assert!(
        connected.is_some(),
        "the hub follows the university over mutual TLS"
    );
    university.node.stop().await.unwrap();
    hub.node.stop().await.unwrap();
}
