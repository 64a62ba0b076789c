//! A node made with an earlier schema upgrades: `tests/fixtures` holds the
//! demo's methodical-centre hub as `edufed backup` copied it under schema
//! 20261207000026 (with its key, passphrase `fixture-passphrase`). Restored
//! into each backend at that schema and migrated to this release's, every
//! record reads back, and every entry of its log, and of its peers' logs it
//! mirrors, verifies under the key that signed it.
//!
//! When a release changes the schema, the fixture stays: a new one is added
//! beside it from the release before.

use std::path::PathBuf;

use edufed_domain::changes::{ChangeEntry, EntityKind, Operation};
use edufed_proto::v1 as pb;
use edufed_server::backup::{self, SecretString};
use edufed_tests::{TestDb, TestNode, both_backends, test_settings};

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/hub-schema-26.edufed-backup")
}

/// Reads the whole retained log through Watch, until a heartbeat says it
/// is caught up.
async fn read_all(node: &TestNode) -> Vec<pb::ChangeEntry> {
    let mut feed = node.change_feed(&node.operator_token).await;
    let mut stream = feed
        .watch(pb::WatchRequest {
            after_sequence: 0,
            entity_kinds: vec![],
            heartbeat_seconds: 1,
            // The retained log as it is, from its start (the hub had
            // compacted it).
            snapshot: true,
        })
        .await
        .unwrap()
        .into_inner();
    let mut entries = Vec::new();
    while let Some(message) = stream.message().await.unwrap() {
        match message.event.unwrap() {
            pb::watch_response::Event::Entry(entry) => entries.push(entry),
            pb::watch_response::Event::Heartbeat(_) => return entries,
        }
    }
    entries
}

fn domain_entry(entry: &pb::ChangeEntry) -> ChangeEntry {
    let time = entry.time.expect("a time");
    ChangeEntry {
        sequence: entry.sequence,
        kind: EntityKind::parse("kind", &entry.entity_kind).unwrap(),
        entity_id: entry.entity_id.clone(),
        version: entry.version,
        operation: if entry.operation == pb::ChangeOperation::Delete as i32 {
            Operation::Delete
        } else {
            Operation::Upsert
        },
        org_id: (!entry.organization_id.is_empty())
            .then(|| edufed_domain::ids::OrgId::from_stored(entry.organization_id.clone())),
        payload: entry.payload_json.clone(),
        created_at: chrono::DateTime::from_timestamp(
            time.seconds,
            u32::try_from(time.nanos).unwrap(),
        )
        .unwrap(),
        actor: entry.actor.clone(),
    }
}

both_backends!(
    a_node_of_the_previous_schema_upgrades_and_reads_whole,
    |backend| async move {
        let manifest = backup::verify(&fixture()).unwrap();
        let db = TestDb::new(backend).await;
        let settings = test_settings(&db.dir.path().join("data"), &db.url);
        backup::restore(
            &settings,
            &fixture(),
            Some(SecretString::from("fixture-passphrase".to_owned())),
            false,
        )
        .await
        .unwrap();
        // A new operator token, as an operator who lost theirs would issue.
        let report = edufed_server::initialize(&settings, true).await.unwrap();
        assert_eq!(report.node_id, manifest.node_id);
        let token = std::fs::read_to_string(report.operator_token_file.unwrap())
            .unwrap()
            .trim()
            .to_owned();
        let node = TestNode::resume(db, &token, |_| {}).await;
        let store = node.node.store();
        assert_eq!(
            store.schema_version().await.unwrap(),
            edufed_store::backup::known_schema_version(store.backend())
        );

        // Every record reads back: organizations, the year's activities,
        // cohorts, agreements and enrolments (what reports read), peers,
        // subscriptions and mirrors.
        let organizations = node
            .operator()
            .await
            .list_organizations(pb::ListOrganizationsRequest {
                page_size: 500,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .organizations;
        assert_eq!(organizations.len() as u64, manifest.tables["organizations"]);
        let year = edufed_domain::report::SchoolYear(2026);
        let facts = store
            .report_facts(&[year.period(), year.period().previous()])
            .await
            .unwrap();
        assert!(!facts.activities.is_empty() && !facts.registrations.is_empty());
        assert_eq!(facts.agreements.len() as u64, manifest.tables["agreements"]);
        let peers = store.list_peers().await.unwrap();
        assert_eq!(peers.len() as u64, manifest.tables["peers"]);
        assert_eq!(
            store.list_subscriptions().await.unwrap().len() as u64,
            manifest.tables["subscriptions"]
        );
        let mirrors = store.list_mirrors(None).await.unwrap();
        assert_eq!(mirrors.len() as u64, manifest.tables["mirrors"]);

        // The log, read through Watch, is whole and signed by the node's
        // key; what it mirrors is signed by its origins' pinned keys.
        // Each record's latest entry, the new operator token's numbered
        // above the gap the restore left.
        let log = read_all(&node).await;
        assert!(log.len() > 100 && log.len() as u64 <= manifest.tables["change_log"] + 1);
        let last = log.last().unwrap().sequence;
        assert!(last > manifest.log_latest + edufed_store::backup::RESTORE_GAP);
        let pem = std::fs::read_to_string(node.data_dir.join("node.key")).unwrap();
        let key = edufed_federation::NodeIdentity::from_pem(&pem)
            .unwrap()
            .public_key();
        for entry in &log {
            let signature: [u8; 64] = entry.signature.clone().try_into().unwrap();
            assert!(
                edufed_federation::verify(
                    &key,
                    domain_entry(entry).statement(&entry.node_id).as_bytes(),
                    &signature
                ),
                "entry {} does not verify",
                entry.sequence
            );
        }
        assert!(!mirrors.is_empty());
        for mirror in &mirrors {
            let origin = peers
                .iter()
                .find(|p| p.descriptor.node_id == mirror.origin)
                .expect("a pinned origin");
            let signature: [u8; 64] = mirror.signature.clone().try_into().unwrap();
            let key = edufed_federation::PublicKey::from_bytes(&origin.descriptor.public_key)
                .expect("an Ed25519 key");
            assert!(edufed_federation::verify(
                &key,
                mirror.entry.statement(&mirror.origin).as_bytes(),
                &signature
            ));
        }
    }
);
