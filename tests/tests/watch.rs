//! The change feed end to end: Watch streams backlog then live changes, and a
//! client killed mid-stream resumes from its cursor with nothing missed or
//! repeated.

use std::time::Duration;

use edufed_proto::v1 as pb;
use edufed_tests::{TestNode, both_backends, org_request};
use rand::Rng as _;
use tonic::Code;
use tonic_types::StatusExt as _;

fn watch_from(cursor: u64) -> pb::WatchRequest {
    pb::WatchRequest {
        after_sequence: cursor,
        entity_kinds: vec![],
        heartbeat_seconds: 1,
        snapshot: false,
    }
}

/// Reads a whole log through Watch, until a heartbeat says it is caught up.
async fn read_all(node: &TestNode, token: &str, request: pb::WatchRequest) -> Vec<pb::ChangeEntry> {
    let mut feed = node.change_feed(token).await;
    let mut stream = feed.watch(request).await.unwrap().into_inner();
    let mut entries = Vec::new();
    while let Some(message) = stream.message().await.unwrap() {
        match message.event.unwrap() {
            pb::watch_response::Event::Entry(entry) => entries.push(entry),
            pb::watch_response::Event::Heartbeat(_) => return entries,
        }
    }
    entries
}

both_backends!(a_killed_watcher_resumes_exactly, |backend| async move {
    let node = TestNode::start(backend).await;
    let token = node.operator_token.clone();
    let mut writer_client = node.operator().await;
    const ORGS: usize = 60;
    let writer = tokio::spawn(async move {
        for i in 0..ORGS {
            let org = writer_client
                .create_organization(org_request(&format!("school-{i}")))
                .await
                .unwrap()
                .into_inner();
            writer_client
                .add_member(pb::AddMemberRequest {
                    organization: org.id,
                    person: Some(pb::add_member_request::Person::NewPerson(pb::NewPerson {
                        display_name: format!("Учитель {i}"),
                        email: String::new(),
                    })),
                    role: pb::Role::Teacher.into(),
                })
                .await
                .unwrap();
            if i % 7 == 0 {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    });

    let mut received: Vec<pb::ChangeEntry> = Vec::new();
    let mut cursor = 0;
    let mut kills = 0;
    let mut rng = rand::thread_rng();
    loop {
        let writer_done = writer.is_finished();
        let latest = node.node.store().latest_sequence().await.unwrap();
        if writer_done && cursor >= latest {
            break;
        }
        // Connect, take a few messages, then drop the stream mid-way.
        let mut feed = node.change_feed(&token).await;
        let mut stream = feed.watch(watch_from(cursor)).await.unwrap().into_inner();
        let take = rng.gen_range(1..12);
        for _ in 0..take {
            let Ok(Some(message)) = stream.message().await else {
                break;
            };
            match message.event.unwrap() {
                pb::watch_response::Event::Entry(entry) => {
                    assert!(entry.sequence > cursor, "entries arrive in order");
                    cursor = entry.sequence;
                    received.push(entry);
                }
                pb::watch_response::Event::Heartbeat(beat) => {
                    cursor = cursor.max(beat.latest_sequence);
                    break;
                }
            }
        }
        drop(stream);
        kills += 1;
    }
    writer.await.unwrap();
    assert!(
        kills > 5,
        "the watcher was killed and restarted many times ({kills})"
    );

    let log = read_all(&node, &token, watch_from(0)).await;
    assert_eq!(
        log.len(),
        2 + ORGS * 3,
        "operator person and token, then per org: org, person, membership"
    );
    assert_eq!(received, log, "exactly the log: none missing, none twice");
});

both_backends!(
    watch_streams_live_changes_with_heartbeats,
    |backend| async move {
        let node = TestNode::start(backend).await;
        let mut op = node.operator().await;
        let mut feed = node.change_feed(&node.operator_token).await;
        let latest = node.node.store().latest_sequence().await.unwrap();
        let mut stream = feed
            .watch(pb::WatchRequest {
                after_sequence: latest,
                entity_kinds: vec!["organization".into()],
                heartbeat_seconds: 1,
                snapshot: false,
            })
            .await
            .unwrap()
            .into_inner();
        let created = op
            .create_organization(org_request("tsu"))
            .await
            .unwrap()
            .into_inner();
        let entry = loop {
            match stream.message().await.unwrap().unwrap().event.unwrap() {
                pb::watch_response::Event::Entry(entry) => break entry,
                pb::watch_response::Event::Heartbeat(_) => continue,
            }
        };
        assert_eq!(entry.entity_kind, "organization");
        assert_eq!(entry.entity_id, created.id);
        assert_eq!(entry.version, 1);
        assert_eq!(entry.operation, pb::ChangeOperation::Upsert as i32);
        let payload: serde_json::Value = serde_json::from_str(&entry.payload_json).unwrap();
        assert_eq!(payload["slug"], "tsu");
        // Then a heartbeat carrying the latest sequence.
        let beat = match stream.message().await.unwrap().unwrap().event.unwrap() {
            pb::watch_response::Event::Heartbeat(beat) => beat,
            pb::watch_response::Event::Entry(e) => panic!("unexpected {e:?}"),
        };
        assert_eq!(
            beat.latest_sequence,
            node.node.store().latest_sequence().await.unwrap()
        );

        let bad = feed
            .watch(pb::WatchRequest {
                entity_kinds: vec!["spaceship".into()],
                ..watch_from(0)
            })
            .await
            .unwrap_err();
        assert_eq!(bad.code(), Code::InvalidArgument);
        let anonymous = node
            .change_feed("")
            .await
            .watch(watch_from(0))
            .await
            .unwrap_err();
        assert_eq!(anonymous.code(), Code::Unauthenticated);
    }
);

both_backends!(
    members_see_only_their_organizations_changes,
    |backend| async move {
        let node = TestNode::start(backend).await;
        let mut op = node.operator().await;
        let a = op
            .create_organization(org_request("school-a"))
            .await
            .unwrap()
            .into_inner();
        op.create_organization(org_request("school-b"))
            .await
            .unwrap();
        let viewer = op
            .add_member(pb::AddMemberRequest {
                organization: "school-a".into(),
                person: Some(pb::add_member_request::Person::NewPerson(pb::NewPerson {
                    display_name: "Наблюдатель".into(),
                    email: String::new(),
                })),
                role: pb::Role::Viewer.into(),
            })
            .await
            .unwrap()
            .into_inner();
        let token = op
            .create_token(pb::CreateTokenRequest {
                person_id: viewer.person.unwrap().id,
                name: "watch".into(),
                ttl: None,
            })
            .await
            .unwrap()
            .into_inner()
            .secret;
        let seen = read_all(&node, &token, watch_from(0)).await;
        assert_eq!(
            seen.len(),
            2,
            "school-a's creation and its membership: {seen:?}"
        );
        assert!(seen.iter().all(|e| e.organization_id == a.id));
    }
);

both_backends!(an_expired_cursor_asks_for_a_resync, |backend| async move {
    let node = TestNode::start(backend).await;
    let mut op = node.operator().await;
    op.create_organization(org_request("tsu")).await.unwrap();
    let latest = node.node.store().latest_sequence().await.unwrap();
    node.node
        .store()
        .compact_changes(node.node.store().clock().now() + chrono::Duration::seconds(1))
        .await
        .unwrap();
    let mut feed = node.change_feed(&node.operator_token).await;
    let err = feed.watch(watch_from(0)).await.unwrap_err();
    assert_eq!(err.code(), Code::OutOfRange);
    let info = err
        .get_error_details()
        .error_info()
        .cloned()
        .expect("ErrorInfo");
    assert_eq!(info.reason, "CURSOR_EXPIRED");
    assert_eq!(info.domain, "edufed.v1");
    assert_eq!(info.metadata["latest_sequence"], latest.to_string());
    let ahead = feed.watch(watch_from(latest + 1000)).await.unwrap_err();
    assert_eq!(
        ahead.code(),
        Code::OutOfRange,
        "a cursor from another database resyncs too"
    );
    // A snapshot streams the retained log whatever the cursor says: the
    // latest entry of every record, the organization's creation among them.
    let snapshot = read_all(
        &node,
        &node.operator_token,
        pb::WatchRequest {
            snapshot: true,
            ..watch_from(latest + 1000)
        },
    )
    .await;
    assert!(
        snapshot
            .iter()
            .any(|e| e.entity_kind == "organization" && e.payload_json.contains("tsu")),
        "{snapshot:?}"
    );
    // From the latest sequence, as the error says, the watch works.
    op.create_organization(org_request("tpu")).await.unwrap();
    let next = read_all(&node, &node.operator_token, watch_from(latest)).await;
    assert_eq!(next.len(), 1);
});

both_backends!(shutdown_ends_watch_streams_cleanly, |backend| async move {
    let node = TestNode::start(backend).await;
    let mut feed = node.change_feed(&node.operator_token).await;
    let mut stream = feed
        .watch(pb::WatchRequest {
            heartbeat_seconds: 300,
            ..watch_from(0)
        })
        .await
        .unwrap()
        .into_inner();
    // The backlog: the operator and their token.
    for _ in 0..2 {
        stream.message().await.unwrap().unwrap();
    }
    let stopped = tokio::spawn(node.node.stop());
    let end = tokio::time::timeout(Duration::from_secs(10), stream.message())
        .await
        .expect("the stream ends well within the grace period");
    let status = end.unwrap_err();
    assert_eq!(status.code(), Code::Unavailable);
    assert!(status.message().contains("reconnect"));
    tokio::time::timeout(Duration::from_secs(10), stopped)
        .await
        .expect("the node stops")
        .unwrap()
        .unwrap();
});

both_backends!(a_revoked_token_ends_its_stream, |backend| async move {
    let node = TestNode::start(backend).await;
    let mut op = node.operator().await;
    let created = op
        .create_token(pb::CreateTokenRequest {
            person_id: String::new(),
            name: "watcher".into(),
            ttl: None,
        })
        .await
        .unwrap()
        .into_inner();
    let mut feed = node.change_feed(&created.secret).await;
    let mut stream = feed.watch(watch_from(0)).await.unwrap().into_inner();
    op.revoke_token(pb::RevokeTokenRequest {
        token_id: created.token.unwrap().id,
    })
    .await
    .unwrap();
    // Entries may still arrive until the next heartbeat re-checks the token.
    let status = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match stream.message().await {
                Ok(Some(_)) => continue,
                Ok(None) => panic!("the stream ended without a status"),
                Err(status) => return status,
            }
        }
    })
    .await
    .expect("the stream ends within a heartbeat");
    assert_eq!(status.code(), Code::Unauthenticated, "{status:?}");
});

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn streams_beyond_the_limit_are_refused() {
    let db = edufed_tests::TestDb::new(edufed_tests::Backend::Sqlite).await;
    let node = TestNode::start_with(db, |s| s.max_watch_streams = 2).await;
    let mut feed = node.change_feed(&node.operator_token).await;
    let first = feed.watch(watch_from(0)).await.unwrap().into_inner();
    let second = feed.watch(watch_from(0)).await.unwrap().into_inner();
    let third = feed.watch(watch_from(0)).await.unwrap_err();
    assert_eq!(third.code(), Code::ResourceExhausted);
    drop(first);
    // The freed slot is reusable once the pump notices the client left.
    let reopened = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match feed.watch(watch_from(0)).await {
                Ok(stream) => return stream,
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        }
    })
    .await
    .expect("a slot frees up");
    drop((second, reopened));
}

both_backends!(entries_carry_the_node_signature, |backend| async move {
    let node = TestNode::start(backend).await;
    let mut op = node.operator().await;
    op.create_organization(org_request("gym24-tomsk"))
        .await
        .unwrap();
    let entries = read_all(&node, &node.operator_token, watch_from(0)).await;
    assert!(!entries.is_empty());
    // The node's public key, as a peer would pin it.
    let pem = std::fs::read_to_string(node.data_dir.join("node.key")).unwrap();
    let key = edufed_federation::NodeIdentity::from_pem(&pem)
        .unwrap()
        .public_key();
    for entry in &entries {
        assert_eq!(entry.node_id, node.node.node_id());
        let signature: [u8; 64] = entry.signature.clone().try_into().unwrap();
        let domain = edufed_domain::changes::ChangeEntry {
            sequence: entry.sequence,
            kind: edufed_domain::changes::EntityKind::parse("kind", &entry.entity_kind).unwrap(),
            entity_id: entry.entity_id.clone(),
            version: entry.version,
            operation: if entry.operation == pb::ChangeOperation::Delete as i32 {
                edufed_domain::changes::Operation::Delete
            } else {
                edufed_domain::changes::Operation::Upsert
            },
            org_id: (!entry.organization_id.is_empty())
                .then(|| edufed_domain::ids::OrgId::from_stored(entry.organization_id.clone())),
            payload: entry.payload_json.clone(),
            created_at: chrono::DateTime::from_timestamp(
                entry.time.unwrap().seconds,
                entry.time.unwrap().nanos as u32,
            )
            .unwrap(),
            actor: entry.actor.clone(),
        };
        let statement = domain.statement(&entry.node_id);
        assert!(edufed_federation::verify(
            &key,
            statement.as_bytes(),
            &signature
        ));
        // A changed payload no longer verifies.
        let forged = edufed_domain::changes::ChangeEntry {
            payload: domain.payload.replace("gym24", "gym25"),
            ..domain.clone()
        };
        if forged.payload != domain.payload {
            assert!(!edufed_federation::verify(
                &key,
                forged.statement(&entry.node_id).as_bytes(),
                &signature
            ));
        }
    }
});

/// A node's followers all wake when its log moves, and take turns reading
/// it on SQLite (`FEED_READS` at once, on connections of their own): every
/// stream still gets every entry, once and in order, and `/metrics` says how
/// many connections each pool holds open.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_followers_take_turns_reading_the_log() {
    const STREAMS: usize = 12;
    let node = TestNode::start(edufed_tests::Backend::Sqlite).await;
    let start = node.node.store().latest_sequence().await.unwrap();
    let mut streams = Vec::new();
    for _ in 0..STREAMS {
        let mut feed = node.change_feed(&node.operator_token).await;
        let request = pb::WatchRequest {
            heartbeat_seconds: 300,
            ..watch_from(start)
        };
        streams.push(feed.watch(request).await.unwrap().into_inner());
    }
    let mut op = node.operator().await;
    for i in 0..20 {
        op.create_organization(org_request(&format!("school-{i}")))
            .await
            .unwrap();
    }
    let latest = node.node.store().latest_sequence().await.unwrap();
    assert!(latest >= start + 20, "{start} → {latest}");
    let mut seen = Vec::new();
    for mut stream in streams {
        let sequences = tokio::time::timeout(Duration::from_secs(30), async {
            let mut sequences = Vec::new();
            while sequences.last() != Some(&latest) {
                match stream.message().await.unwrap().unwrap().event.unwrap() {
                    pb::watch_response::Event::Entry(entry) => sequences.push(entry.sequence),
                    pb::watch_response::Event::Heartbeat(_) => {}
                }
            }
            sequences
        })
        .await
        .expect("every stream reaches the latest entry");
        seen.push(sequences);
    }
    let expected: Vec<u64> = (start + 1..=latest).collect();
    for sequences in &seen {
        assert_eq!(
            sequences, &expected,
            "each stream gets every entry once, in order"
        );
    }

    let metrics = edufed_tests::http_get(node.node.addr(), "/metrics").await.1;
    let open = |pool: &str| -> u32 {
        let prefix = format!("edufed_database_connections{{pool=\"{pool}\"}} ");
        metrics
            .lines()
            .find_map(|line| line.strip_prefix(&prefix))
            .unwrap_or_else(|| panic!("no {prefix} in /metrics:\n{metrics}"))
            .parse()
            .unwrap()
    };
    assert_eq!(open("write"), 1);
    let readers = open("read");
    assert!(
        (1..=16).contains(&readers),
        "{readers} readers open for {STREAMS} streams"
    );
    let feed = open("feed");
    assert!(
        (1..=edufed_store::FEED_READS as u32).contains(&feed),
        "{feed} connections read the log for {STREAMS} streams"
    );
}
