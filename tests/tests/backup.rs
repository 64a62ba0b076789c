//! A busy node backed up while it writes, restored (into the same backend
//! and into the other one), and followed on by its peers: one that had not
//! read past the copy continues from its cursor, one that had is told to
//! resync and drops what the copy lost, and so does a node that follows it
//! through that peer's relay. Damaged, foreign and newer files are refused
//! with clear messages, before anything is touched.

use std::collections::BTreeSet;
use std::io::{BufRead as _, Write as _};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use edufed_proto::v1 as pb;
use edufed_server::backup::{self, SecretString};
use edufed_tests::{
    Backend, Bearer, Partition, TestDb, TestNode, eventually, org_request, public_course,
    test_settings,
};

/// The activities `node` has published, from its own log.
async fn activities(node: &TestNode) -> BTreeSet<String> {
    let filter = edufed_store::changes::ChangeFilter {
        kinds: vec![edufed_domain::changes::EntityKind::Activity],
        organizations: None,
    };
    let mut ids = BTreeSet::new();
    let mut after = 0;
    loop {
        let entries = node
            .node
            .store()
            .read_changes(after, 1000, &filter)
            .await
            .unwrap();
        let Some(last) = entries.last() else {
            return ids;
        };
        after = last.sequence;
        ids.extend(entries.into_iter().map(|e| e.entity_id));
    }
}

/// The activities of `origin` that `peer` mirrors.
async fn mirrored(peer: &TestNode, origin: &str) -> BTreeSet<String> {
    peer.node
        .store()
        .list_mirrors(Some(origin))
        .await
        .unwrap()
        .into_iter()
        .filter(|m| m.entry.kind == edufed_domain::changes::EntityKind::Activity)
        .map(|m| m.entry.entity_id)
        .collect()
}

/// `peer` pins `hub` at `url` and follows it; the hub pins the peer.
async fn follow(peer: &TestNode, hub: &TestNode, url: String) {
    peer.federation()
        .await
        .add_peer(pb::AddPeerRequest {
            url,
            fingerprint: hub.node.node_id().into(),
        })
        .await
        .unwrap();
    hub.federation()
        .await
        .add_peer(pb::AddPeerRequest {
            url: peer.node.url(),
            fingerprint: peer.node.node_id().into(),
        })
        .await
        .unwrap();
    peer.federation()
        .await
        .subscribe(pb::SubscribeRequest {
            node_id: hub.node.node_id().into(),
            ..Default::default()
        })
        .await
        .unwrap();
}

/// The lines of a backup, decompressed.
fn lines_of(path: &Path) -> Vec<String> {
    let file = std::fs::File::open(path).unwrap();
    std::io::BufReader::new(flate2::read::GzDecoder::new(file))
        .lines()
        .map(Result::unwrap)
        .collect()
}

/// Writes `lines` as a backup, with the trailer's checksum made to fit
/// when `reseal` (as a forger would).
fn write_lines(path: &Path, lines: &[String], reseal: bool) {
    use sha2::Digest as _;
    let mut lines = lines.to_vec();
    if reseal {
        let mut hash = sha2::Sha256::new();
        for line in &lines[..lines.len() - 1] {
            hash.update(line.as_bytes());
            hash.update(b"\n");
        }
        let last = lines.len() - 1;
        let mut trailer: serde_json::Value = serde_json::from_str(&lines[last]).unwrap();
        trailer["end"]["sha256"] = hex::encode(hash.finalize()).into();
        lines[last] = trailer.to_string();
    }
    let file = std::fs::File::create(path).unwrap();
    let mut out = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
    for line in lines {
        out.write_all(line.as_bytes()).unwrap();
        out.write_all(b"\n").unwrap();
    }
    out.finish().unwrap();
}

fn passphrase() -> SecretString {
    SecretString::from("корректная лошадь батарейка скрепка".to_owned())
}

async fn restore_case(from: Backend, to: Backend) {
    let hub = TestNode::start(from).await;
    let hub_settings = test_settings(&hub.data_dir, &hub.db.url);
    let (a, b) = (
        TestNode::start(Backend::Sqlite).await,
        TestNode::start(Backend::Sqlite).await,
    );
    let (link_a, link_b) = (
        Partition::start(hub.node.addr()).await,
        Partition::start(hub.node.addr()).await,
    );
    follow(&a, &hub, link_a.url()).await;
    follow(&b, &hub, link_b.url()).await;
    // Peer C follows the hub's activities through peer B, without pinning
    // the hub (a regional hub following a school through its city hub).
    let c = TestNode::start(Backend::Sqlite).await;
    c.federation()
        .await
        .add_peer(pb::AddPeerRequest {
            url: b.node.url(),
            fingerprint: b.node.node_id().into(),
        })
        .await
        .unwrap();
    b.federation()
        .await
        .add_peer(pb::AddPeerRequest {
            url: c.node.url(),
            fingerprint: c.node.node_id().into(),
        })
        .await
        .unwrap();
    c.federation()
        .await
        .subscribe(pb::SubscribeRequest {
            node_id: hub.node.node_id().into(),
            entity_kinds: vec!["activity".into()],
            via: b.node.node_id().into(),
            ..Default::default()
        })
        .await
        .unwrap();

    // Four clients publish all along; peer A is cut off before the backup,
    // peer B reads on past it.
    hub.operator()
        .await
        .create_organization(org_request("tusur"))
        .await
        .unwrap();
    let origin = hub.node.node_id().to_owned();
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..4 {
        let stop = stop.clone();
        let mut calendar = pb::calendar_client::CalendarClient::with_interceptor(
            hub.channel().await,
            Bearer::new(&hub.operator_token),
        );
        writers.push(tokio::spawn(async move {
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) {
                calendar
                    .publish_activity(pb::PublishActivityRequest {
                        publisher: "tusur".into(),
                        details: Some(public_course(&format!("Курс {w}-{i}"), 10 + i)),
                        draft: false,
                    })
                    .await
                    .unwrap();
                i += 1;
            }
        }));
    }
    eventually("peer A follows the hub", || async {
        (mirrored(&a, &origin).await.len() > 10).then_some(())
    })
    .await;
    link_a.cut();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hub.edufed-backup");
    let made = backup::backup(&hub_settings, &file, Some(passphrase()))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    stop.store(true, Ordering::SeqCst);
    for writer in writers {
        writer.await.unwrap();
    }
    let before = activities(&hub).await;
    eventually("peer B reads past the backup", || async {
        (mirrored(&b, &origin).await == before).then_some(())
    })
    .await;
    eventually("peer C reads past it through B's relay", || async {
        (mirrored(&c, &origin).await == before).then_some(())
    })
    .await;
    link_b.cut();
    let (addr, node_id, operator_token) = (
        hub.node.addr(),
        hub.node.node_id().to_owned(),
        hub.operator_token.clone(),
    );
    let TestNode {
        node, db: old_db, ..
    } = hub;
    node.stop().await.unwrap();

    // The file checks out, and says what it holds.
    let manifest = backup::verify(&file).unwrap();
    assert_eq!(manifest, made);
    assert_eq!(manifest.node_id, node_id);
    assert!(manifest.key_included);
    let copied = manifest.tables["activities"];
    assert!(
        copied < before.len() as u64,
        "the copy was made while writes ran: {copied} of {}",
        before.len()
    );

    // Refused, with nothing touched: a changed file, a newer schema, the
    // node's own database still in use, another node's data directory.
    let lines = lines_of(&file);
    let row = lines
        .iter()
        .position(|l| l.starts_with('[') && l.contains("Курс 0-1"))
        .expect("a row of the copy");
    let mut tampered = lines.clone();
    tampered[row] = tampered[row].replacen("Курс 0-1", "Курс 0-X", 1);
    let tampered_file = dir.path().join("tampered");
    write_lines(&tampered_file, &tampered, false);
    let refused = backup::verify(&tampered_file).unwrap_err().to_string();
    assert!(refused.contains("checksum does not match"), "{refused}");
    let mut newer = lines.clone();
    let mut header: serde_json::Value = serde_json::from_str(&newer[0]).unwrap();
    header["schema_version"] = (manifest.schema_version + 1).into();
    newer[0] = header.to_string();
    let newer_file = dir.path().join("newer");
    write_lines(&newer_file, &newer, true);
    let target = TestDb::new(to).await;
    let target_settings = test_settings(&target.dir.path().join("data"), &target.url);
    let refused = backup::restore(&target_settings, &newer_file, Some(passphrase()), false)
        .await
        .unwrap_err();
    assert!(
        format!("{refused:#}").contains("newer than this edufed knows"),
        "{refused:#}"
    );
    let old_settings = test_settings(&old_db.dir.path().join("data"), &old_db.url);
    let refused = backup::restore(&old_settings, &file, Some(passphrase()), false)
        .await
        .unwrap_err();
    assert!(
        format!("{refused:#}").contains("already holds a node's data"),
        "{refused:#}"
    );
    let stranger = TestDb::new(Backend::Sqlite).await;
    let stranger_settings = test_settings(&stranger.dir.path().join("data"), &stranger.url);
    let other = edufed_server::initialize(&stranger_settings, false)
        .await
        .unwrap();
    let elsewhere = TestDb::new(to).await;
    let foreign_settings = edufed_server::Settings {
        database_url: Some(elsewhere.url.clone()),
        ..stranger_settings.clone()
    };
    let refused = backup::restore(&foreign_settings, &file, Some(passphrase()), false)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        refused.contains(&format!("holds node {}'s key", other.node_id)),
        "{refused}"
    );
    let refused = backup::restore(
        &target_settings,
        &file,
        Some(SecretString::from("не тот пароль".to_owned())),
        false,
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(refused.contains("passphrase does not open"), "{refused}");

    // Restored into a new database with an empty data directory: the key
    // comes from the backup, and the node serves at its old address.
    let restored = backup::restore(&target_settings, &file, Some(passphrase()), false)
        .await
        .unwrap();
    assert!(restored.key_written);
    assert_eq!(restored.manifest.tables, manifest.tables);
    let hub = TestNode::resume(target, &operator_token, |s| s.listen = addr).await;
    assert_eq!(hub.node.node_id(), node_id);
    let restored_activities = activities(&hub).await;
    assert_eq!(restored_activities.len() as u64, copied);
    assert!(restored_activities.is_subset(&before));
    assert_eq!(
        edufed_tests::all_slugs(&hub).await.len() as u64,
        manifest.tables["organizations"]
    );

    // Peer A had read only what the copy holds: it follows on from its
    // cursor (each entry's signature checked against the key it pinned),
    // and sees what the restored hub writes next.
    link_a.heal();
    eventually("peer A follows the restored hub", || async {
        (mirrored(&a, &origin).await == restored_activities).then_some(())
    })
    .await;
    let after = pb::calendar_client::CalendarClient::with_interceptor(
        hub.channel().await,
        Bearer::new(&hub.operator_token),
    )
    .publish_activity(pb::PublishActivityRequest {
        publisher: "tusur".into(),
        details: Some(public_course("После восстановления", 20)),
        draft: false,
    })
    .await
    .unwrap()
    .into_inner()
    .id;
    eventually("peer A sees the restored hub's new write", || async {
        mirrored(&a, &origin).await.contains(&after).then_some(())
    })
    .await;
    let metrics = edufed_tests::http_get(hub.node.addr(), "/metrics").await.1;
    assert!(
        !metrics.contains("ChangeFeed/Watch\",code=\"OUT_OF_RANGE\""),
        "peer A was told to resync:\n{metrics}"
    );

    // Peer B had read entries the copy lost: its cursor falls in the gap,
    // so it resyncs, drops what the hub no longer has and takes the rest.
    link_b.heal();
    let now = activities(&hub).await;
    assert!(now.contains(&after));
    eventually("peer B resyncs with the restored hub", || async {
        (mirrored(&b, &origin).await == now).then_some(())
    })
    .await;
    let metrics = edufed_tests::http_get(hub.node.addr(), "/metrics").await.1;
    assert!(
        metrics.contains("ChangeFeed/Watch\",code=\"OUT_OF_RANGE\""),
        "{metrics}"
    );

    // Peer C's copies came through B, which has now read the hub again:
    // B's relay tells C so, and C reads B's copy again, dropping the same
    // records (without that, C would keep what the copy lost for good).
    eventually("peer C resyncs through B's relay", || async {
        (mirrored(&c, &origin).await == now).then_some(())
    })
    .await;
    drop(old_db);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_busy_sqlite_node_restores_into_sqlite() {
    restore_case(Backend::Sqlite, Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sqlite_node_moves_to_postgres() {
    if edufed_tests::postgres_admin_url().is_none() {
        return;
    }
    restore_case(Backend::Sqlite, Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_busy_postgres_node_moves_to_sqlite() {
    if edufed_tests::postgres_admin_url().is_none() {
        return;
    }
    restore_case(Backend::Postgres, Backend::Sqlite).await;
}
