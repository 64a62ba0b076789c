//! Federation between real nodes on loopback, all on SQLite:
//!
//! 1. publish-to-visible latency in a full mesh of three nodes (a
//!    university, a technopark and a hub, in this process): an activity
//!    published over gRPC on one node, until the others mirror it;
//! 2. catch-up after an outage: the hub follows the university through a
//!    link that is cut while thousands of activities are published, then
//!    healed; how fast the hub's cursor reaches the university's log, with
//!    the log as it was and with it compacted (the snapshot resync);
//! 3. the memory of a node serving a thousand pinned peers' Watch streams,
//!    and whether their heartbeats keep coming. That node runs in a child
//!    process (this benchmark's own executable, started with
//!    `EDUFED_BENCH_FEDERATION_NODE` naming a file of peer keys), so that
//!    its resident set holds the serving side only.
//!
//! Each part also prints the share of CPU time the host took from this
//! machine meanwhile (steal): on a shared virtual machine it explains most
//! of the spread between runs.
//!
//! `cargo bench -p edufed-bench --bench federation` runs all three; name
//! parts after `--` to run only those (`latency`, `catch-up`, `streams`).
//! `EDUFED_BENCH_SCALE` divides the samples, the activities and the peers
//! for a quick run (e.g. 10).

use std::io::Read as _;
use std::net::SocketAddr;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use edufed_bench::{Steal, millis, runtime, scale};
use edufed_domain::changes::{Actor, EntityKind};
use edufed_domain::federation::NodeDescriptor;
use edufed_federation::{NodeIdentity, PublicKey};
use edufed_proto::v1 as pb;
use edufed_store::changes::ChangeFilter;
use edufed_tests::{Backend, Bearer, Partition, TestDb, TestNode, org_request};
use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::task::JoinHandle;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

/// The parts, by the names that run them alone.
const PARTS: [&str; 3] = ["latency", "catch-up", "streams"];
/// Set in the child process that runs the node serving the streams.
const NODE_PROCESS: &str = "EDUFED_BENCH_FEDERATION_NODE";
/// How long anything the benchmark waits for may take before it gives up.
const GIVE_UP: Duration = Duration::from_secs(120);

type Intercepted = InterceptedService<Channel, Bearer>;
type Calendar = pb::calendar_client::CalendarClient<Intercepted>;
type Federation = pb::federation_client::FederationClient<Intercepted>;

fn main() {
    let runtime = runtime();
    if let Some(peers) = std::env::var_os(NODE_PROCESS) {
        runtime.block_on(serve_peers(peers.into()));
        return;
    }
    let scale = scale();
    // Parts named on the command line run alone; all run when none is named.
    let named: Vec<String> = std::env::args()
        .skip(1)
        .filter(|arg| PARTS.contains(&arg.as_str()))
        .collect();
    let runs = |part: &str| named.is_empty() || named.iter().any(|n| n == part);
    runtime.block_on(async {
        if runs("latency") {
            latency((LATENCY_SAMPLES / scale).max(20)).await;
        }
        if runs("catch-up") {
            catch_up((OUTAGE_ACTIVITIES / scale).max(100)).await;
        }
        if runs("streams") {
            subscribers((SUBSCRIBERS / scale).max(10)).await;
        }
    });
}

// 1. Publish-to-visible latency.

/// Published activities timed per publishing node.
const LATENCY_SAMPLES: usize = 200;
/// Publications before the timed ones, not counted.
const WARM_UP: usize = 5;
/// How often the other nodes' mirrors are looked at.
const POLL: Duration = Duration::from_millis(1);

/// Times activities published on the university and on the technopark
/// until the two other nodes of the mesh mirror them.
async fn latency(samples: usize) {
    let university = TestNode::start(Backend::Sqlite).await;
    let technopark = TestNode::start(Backend::Sqlite).await;
    let hub = TestNode::start(Backend::Sqlite).await;
    let tusur = publisher(&university, "tusur", pb::OrganizationKind::University).await;
    let kvantorium = publisher(&technopark, "kvantorium", pb::OrganizationKind::Technopark).await;
    hub.operator()
        .await
        .create_organization(org_request("gym24"))
        .await
        .expect("the hub's school");
    let nodes = [&university, &technopark, &hub];
    full_mesh(&nodes).await;
    for node in nodes {
        following(node, nodes.len() - 1).await;
    }

    let runs = [
        (
            "university",
            &university,
            "tusur",
            &tusur,
            [("technopark", &technopark), ("hub", &hub)],
        ),
        (
            "technopark",
            &technopark,
            "kvantorium",
            &kvantorium,
            [("university", &university), ("hub", &hub)],
        ),
    ];
    let steal = Steal::start();
    for (name, node, org, token, others) in runs {
        let mut times = visibility(node, org, token, &[others[0].1, others[1].1], samples).await;
        report(
            &format!("{name}: the PublishActivity call"),
            &mut times.call,
        );
        for ((other, _), on) in others.iter().zip(&mut times.on) {
            report(&format!("{name} → {other}: visible"), on);
        }
        report(
            &format!("{name} → both others: visible on both"),
            &mut times.everywhere,
        );
    }
    println!("SQLite: {} during the publications", steal.taken());
    for node in [university, technopark, hub] {
        stop(node).await;
    }
}

/// Publish-to-visible times of one publishing node.
struct Visibility {
    /// The PublishActivity call itself, until its answer.
    call: Vec<Duration>,
    /// From the call until the activity is mirrored, per other node.
    on: Vec<Vec<Duration>>,
    /// From the call until every other node mirrors it.
    everywhere: Vec<Duration>,
}

/// Publishes `samples` activities (after a few untimed ones) one after the
/// other, each timed until every node of `others` mirrors it.
async fn visibility(
    node: &TestNode,
    org: &str,
    token: &str,
    others: &[&TestNode],
    samples: usize,
) -> Visibility {
    let mut calendar = calendar(node, token).await;
    let mut times = Visibility {
        call: Vec::with_capacity(samples),
        on: vec![Vec::with_capacity(samples); others.len()],
        everywhere: Vec::with_capacity(samples),
    };
    for i in 0..WARM_UP + samples {
        let started = Instant::now();
        let id = calendar
            .publish_activity(pb::PublishActivityRequest {
                publisher: org.to_owned(),
                details: Some(course(&format!("Курс {i}"), i)),
                draft: false,
            })
            .await
            .expect("publish")
            .into_inner()
            .id;
        let call = started.elapsed();
        let mut seen: Vec<Option<Duration>> = vec![None; others.len()];
        loop {
            for (seen, other) in seen.iter_mut().zip(others) {
                if seen.is_none()
                    && other
                        .node
                        .store()
                        .get_mirror(EntityKind::Activity, &id)
                        .await
                        .expect("read a mirror")
                        .is_some()
                {
                    *seen = Some(started.elapsed());
                }
            }
            if seen.iter().all(Option::is_some) {
                break;
            }
            if started.elapsed() > GIVE_UP {
                panic!("activity {id} never reached every node");
            }
            tokio::time::sleep(POLL).await;
        }
        if i < WARM_UP {
            continue;
        }
        let seen: Vec<Duration> = seen.into_iter().flatten().collect();
        times.call.push(call);
        for (on, at) in times.on.iter_mut().zip(&seen) {
            on.push(*at);
        }
        times
            .everywhere
            .push(seen.into_iter().max().unwrap_or_default());
    }
    times
}

// 2. Catch-up after an outage.

/// Activities published while the hub is cut off, per outage.
const OUTAGE_ACTIVITIES: usize = 5_000;
/// Concurrent gRPC clients publishing them.
const PUBLISHERS: usize = 8;
/// Rounds of outages, each on fresh nodes.
const ROUNDS: usize = 3;

/// How long one outage took to catch up from.
struct CatchUp {
    /// Entries the hub's stream carried.
    entries: u64,
    /// From the link healing until the hub's connection got through.
    backoff: Duration,
    /// From the hub's connection getting through until its cursor reached
    /// the university's latest sequence.
    transfer: Duration,
}

impl CatchUp {
    fn rate(&self) -> f64 {
        self.entries as f64 / self.transfer.as_secs_f64()
    }
}

/// Times the hub's catching up after outages of `count` activities, in
/// [`ROUNDS`] rounds on fresh nodes, and prints the medians.
async fn catch_up(count: usize) {
    let (mut plain, mut resync) = (Vec::new(), Vec::new());
    for round in 1..=ROUNDS {
        let [from_cursor, after_compaction] = outages(round, count).await;
        plain.push(from_cursor);
        resync.push(after_compaction);
    }
    for (path, rounds) in [
        ("from its cursor", &mut plain),
        ("after compaction (snapshot resync)", &mut resync),
    ] {
        rounds.sort_by(|a, b| a.rate().total_cmp(&b.rate()));
        let median = &rounds[rounds.len() / 2];
        println!(
            "SQLite: catch-up {path}, median of {ROUNDS} rounds: {} entries in {:.2} s = {:.0} entries/s (rounds {:.0} to {:.0} entries/s)",
            median.entries,
            median.transfer.as_secs_f64(),
            median.rate(),
            rounds[0].rate(),
            rounds[rounds.len() - 1].rate(),
        );
    }
}

/// A university and a hub following it through a link that can be cut:
/// cuts the link, publishes `count` activities on the university, heals
/// the link and times the hub's catching up; then again with the
/// university's log compacted before the link heals.
async fn outages(round: usize, count: usize) -> [CatchUp; 2] {
    let university = TestNode::start(Backend::Sqlite).await;
    let hub = TestNode::start(Backend::Sqlite).await;
    let token = publisher(&university, "tusur", pb::OrganizationKind::University).await;
    // hub → partition → tap → university: the tap notes when the hub's
    // connection gets through after the link heals.
    let tap = Tap::start(university.node.addr()).await;
    let link = Partition::start(tap.addr).await;
    pin(&hub, &link.url(), university.node.node_id()).await;
    pin(&university, &hub.node.url(), hub.node.node_id()).await;
    subscribe(&hub, university.node.node_id()).await;
    publish_many(&university, &token, 10, 1, "Разминка").await;
    let (_, latest) = shared_after(&university, 0).await;
    cursor_reaches(&hub, university.node.node_id(), latest).await;

    let origin = university.node.node_id();
    let mut outcomes = Vec::with_capacity(2);
    for compact in [false, true] {
        let steal = Steal::start();
        link.cut();
        disconnected(&hub, origin).await;
        let cursor = subscription(&hub, origin).await.cursor;
        let publishing = publish_many(&university, &token, count, PUBLISHERS, "Курс").await;
        let from = if compact {
            let deleted = university
                .node
                .store()
                .compact_changes(chrono::Utc::now() + chrono::Duration::seconds(1))
                .await
                .expect("compact");
            let bounds = university.node.store().log_bounds().await.expect("bounds");
            assert!(
                cursor < bounds.compacted_through,
                "the hub's cursor must be below what the university retains"
            );
            println!(
                "SQLite: round {round}: the university compacted its log ({deleted} superseded entries deleted); the hub's cursor {cursor} is below the compaction bound {}",
                bounds.compacted_through
            );
            0
        } else {
            cursor
        };
        // What the hub's stream carries: the shared entries after its
        // cursor, or, for a resync, every retained shared entry.
        let (entries, target) = shared_after(&university, from).await;
        let healed = Instant::now();
        link.heal();
        cursor_reaches(&hub, origin, target).await;
        let done = Instant::now();
        let reconnected = tap
            .first_since(healed)
            .expect("the hub reconnected through the link");
        let outcome = CatchUp {
            entries,
            backoff: reconnected - healed,
            transfer: done - reconnected,
        };
        let path = if compact {
            "after compaction (snapshot resync)"
        } else {
            "from its cursor"
        };
        println!(
            "SQLite: round {round}: {count} activities published with {PUBLISHERS} clients in {:.1} s ({:.0}/s) while the hub was cut off; catch-up {path}: {entries} entries in {:.2} s = {:.0} entries/s from the hub's reconnection to its cursor at the university's latest sequence ({:.2} s of retry backoff before it; host steal {:.0}%)",
            publishing.as_secs_f64(),
            count as f64 / publishing.as_secs_f64(),
            outcome.transfer.as_secs_f64(),
            outcome.rate(),
            outcome.backoff.as_secs_f64(),
            steal.percent(),
        );
        outcomes.push(outcome);
    }
    drop(link);
    drop(tap);
    stop(hub).await;
    stop(university).await;
    outcomes.try_into().ok().expect("two outages")
}

/// Publishes `count` activities of "tusur" on `node` from `clients`
/// concurrent gRPC clients; returns how long it took.
async fn publish_many(
    node: &TestNode,
    token: &str,
    count: usize,
    clients: usize,
    title: &str,
) -> Duration {
    let mut calendars = Vec::with_capacity(clients);
    for _ in 0..clients {
        calendars.push(calendar(node, token).await);
    }
    let started = Instant::now();
    let tasks: Vec<JoinHandle<()>> = calendars
        .into_iter()
        .enumerate()
        .map(|(client, mut calendar)| {
            let title = title.to_owned();
            tokio::spawn(async move {
                for i in (client..count).step_by(clients) {
                    calendar
                        .publish_activity(pb::PublishActivityRequest {
                            publisher: "tusur".into(),
                            details: Some(course(&format!("{title} {i}"), i)),
                            draft: false,
                        })
                        .await
                        .expect("publish");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("publishing client");
    }
    started.elapsed()
}

/// How many entries of `node`'s retained log after `after` a peer hosting
/// no organizations reads (the shared ones), and the last one's sequence.
async fn shared_after(node: &TestNode, after: u64) -> (u64, u64) {
    let shared = ChangeFilter {
        kinds: vec![],
        organizations: Some(vec![]),
    };
    let (mut count, mut last) = (0, after);
    loop {
        let page = node
            .node
            .store()
            .read_log(last, 5_000, &shared, false)
            .await
            .expect("read the log");
        let Some(entry) = page.last() else {
            return (count, last);
        };
        last = entry.sequence;
        count += page.len() as u64;
    }
}

/// `node`'s subscription to `peer`.
async fn subscription(node: &TestNode, peer: &str) -> edufed_domain::federation::Subscription {
    node.node
        .store()
        .get_subscription(peer)
        .await
        .expect("the subscription")
}

/// Waits for `node`'s cursor on `peer` to reach `target`, looking every
/// two milliseconds.
async fn cursor_reaches(node: &TestNode, peer: &str, target: u64) {
    let started = Instant::now();
    while subscription(node, peer).await.cursor < target {
        if started.elapsed() > GIVE_UP {
            panic!("the cursor on {peer} never reached {target}");
        }
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Waits for `node` to notice that its link to `peer` is down.
async fn disconnected(node: &TestNode, peer: &str) {
    let started = Instant::now();
    while subscription(node, peer).await.connected {
        if started.elapsed() > GIVE_UP {
            panic!("the link to {peer} never went down");
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A plain TCP relay to a node that notes when each connection arrives.
struct Tap {
    /// Where to connect instead of the node.
    addr: SocketAddr,
    arrivals: Arc<Mutex<Vec<Instant>>>,
    accept: JoinHandle<()>,
}

impl Tap {
    /// A relay to `target`.
    async fn start(target: SocketAddr) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the tap");
        let addr = listener.local_addr().expect("the tap's address");
        let arrivals = Arc::new(Mutex::new(Vec::new()));
        let accept = {
            let arrivals = arrivals.clone();
            tokio::spawn(async move {
                while let Ok((mut inbound, _)) = listener.accept().await {
                    arrivals.lock().expect("arrivals").push(Instant::now());
                    tokio::spawn(async move {
                        if let Ok(mut outbound) = tokio::net::TcpStream::connect(target).await {
                            let _ =
                                tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        }
                    });
                }
            })
        };
        Self {
            addr,
            arrivals,
            accept,
        }
    }

    /// When the first connection at or after `since` arrived.
    fn first_since(&self, since: Instant) -> Option<Instant> {
        self.arrivals
            .lock()
            .expect("arrivals")
            .iter()
            .copied()
            .find(|at| *at >= since)
    }
}

impl Drop for Tap {
    fn drop(&mut self) {
        self.accept.abort();
    }
}

// 3. A node serving a thousand peers' Watch streams.

/// Peers whose Watch streams one node serves.
const SUBSCRIBERS: usize = 1_000;
/// The heartbeat the peers ask for (what a following node asks for).
const HEARTBEAT_SECS: u32 = 5;
/// Heartbeat periods the open streams are watched for.
const OBSERVED_PERIODS: u32 = 4;
/// Streams opened at once.
const OPENING: usize = 50;

/// Starts a node in a child process with `peers` pinned, opens a Watch
/// stream as each of them, and reads the node's resident set before and
/// while they are open and heartbeating.
async fn subscribers(peers: usize) {
    let identities: Vec<NodeIdentity> = (0..peers).map(|_| NodeIdentity::generate()).collect();
    let dir = tempfile::tempdir().expect("temp dir");
    let keys = dir.path().join("peers");
    let list: String = identities
        .iter()
        .map(|identity| format!("{}\n", hex::encode(identity.public_key().as_bytes())))
        .collect();
    std::fs::write(&keys, list).expect("write the peers' keys");
    let mut child =
        tokio::process::Command::new(std::env::current_exe().expect("the path of this benchmark"))
            .env(NODE_PROCESS, &keys)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("start the node process");
    let pid = child.id().expect("the node process's id").to_string();
    let mut lines = BufReader::new(child.stdout.take().expect("the node's stdout")).lines();
    let ready = lines
        .next_line()
        .await
        .expect("read the node's stdout")
        .expect("the node process says it is ready");
    let [url, node_id, latest] = ready
        .strip_prefix("ready ")
        .and_then(|rest| rest.split(' ').collect::<Vec<_>>().try_into().ok())
        .expect("ready <url> <node id> <latest sequence>");
    let latest: u64 = latest.parse().expect("the latest sequence");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let node_before = resident_kib(&pid);
    let bench_before = resident_kib("self");

    let steal = Steal::start();
    let started = Instant::now();
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut readers = Vec::with_capacity(peers);
    for chunk in identities.chunks(OPENING) {
        let now = chrono::Utc::now().timestamp();
        let opening: Vec<JoinHandle<_>> = chunk
            .iter()
            .map(|identity| {
                let credential = edufed_federation::credential(identity, node_id, now);
                tokio::spawn(open_watch(url.to_owned(), credential, latest))
            })
            .collect();
        for stream in opening {
            let stream = stream.await.expect("opening a stream");
            readers.push(tokio::spawn(heartbeats(stream, stop_rx.clone())));
        }
    }
    let opened = started.elapsed();
    println!(
        "SQLite: {peers} pinned peers opened their Watch streams (one connection each, heartbeat every {HEARTBEAT_SECS} s) in {:.1} s",
        opened.as_secs_f64()
    );

    // Watch them for a few heartbeat periods, reading the resident set
    // every second.
    let observed = Instant::now();
    let mut peak = 0;
    while observed.elapsed() < Duration::from_secs(u64::from(HEARTBEAT_SECS * OBSERVED_PERIODS)) {
        tokio::time::sleep(Duration::from_secs(1)).await;
        peak = peak.max(resident_kib(&pid));
    }
    let node_after = resident_kib(&pid);
    let bench_after = resident_kib("self");
    let ended = Instant::now();
    stop_tx.send(true).expect("the readers listen");
    let mut arrivals = Vec::with_capacity(peers);
    for reader in readers {
        arrivals.push(reader.await.expect("a stream's reader"));
    }

    let delta = node_after.saturating_sub(node_before);
    println!(
        "SQLite: the serving node's resident set: {:.1} MiB with the {peers} peers pinned, {:.1} MiB with their streams open and heartbeating (peak {:.1} MiB): {:.1} MiB more, {:.1} KiB per stream",
        mib(node_before),
        mib(node_after),
        mib(peak),
        mib(delta),
        delta as f64 / peers as f64
    );
    println!(
        "SQLite: the subscribing side (this process, {peers} gRPC channels and streams): {:.1} MiB more",
        mib(bench_after.saturating_sub(bench_before))
    );
    heartbeat_health(&arrivals, ended, peers);
    println!("SQLite: {} during the streams' life", steal.taken());

    if let Some(mut stdin) = child.stdin.take() {
        // Closing stdin tells the node process to stop.
        stdin.shutdown().await.ok();
    }
    let status = child.wait().await.expect("the node process ends");
    drop(lines);
    assert!(status.success(), "the node process failed: {status}");
}

/// What one peer saw: when its stream opened, and when each heartbeat came.
struct Arrivals {
    opened: Instant,
    heartbeats: Vec<Instant>,
}

/// Opens a Watch stream on the node at `url` as the peer whose credential
/// headers are given, from `after`.
async fn open_watch(
    url: String,
    (from, auth): (String, String),
    after: u64,
) -> (Instant, tonic::Streaming<pb::WatchResponse>) {
    let channel = Channel::from_shared(url)
        .expect("the node's URL")
        .connect()
        .await
        .expect("connect to the node");
    let mut request = tonic::Request::new(pb::WatchRequest {
        after_sequence: after,
        entity_kinds: vec![],
        heartbeat_seconds: HEARTBEAT_SECS,
        snapshot: false,
    });
    request.metadata_mut().insert(
        edufed_federation::NODE_HEADER,
        from.parse().expect("ascii node id"),
    );
    request.metadata_mut().insert(
        edufed_federation::NODE_AUTH_HEADER,
        auth.parse().expect("ascii credential"),
    );
    let stream = pb::change_feed_client::ChangeFeedClient::new(channel)
        .watch(request)
        .await
        .expect("the node serves the peer's stream")
        .into_inner();
    (Instant::now(), stream)
}

/// Reads a stream until `stop`, noting when each heartbeat arrives.
async fn heartbeats(
    (opened, mut stream): (Instant, tonic::Streaming<pb::WatchResponse>),
    mut stop: tokio::sync::watch::Receiver<bool>,
) -> Arrivals {
    let mut heartbeats = Vec::new();
    loop {
        tokio::select! {
            _ = stop.changed() => break,
            message = stream.message() => match message.expect("the stream stays healthy") {
                Some(pb::WatchResponse { event: Some(pb::watch_response::Event::Heartbeat(_)) }) => {
                    heartbeats.push(Instant::now());
                }
                Some(_) => {}
                None => panic!("the node ended a peer's stream"),
            },
        }
    }
    Arrivals { opened, heartbeats }
}

/// Prints how regularly the heartbeats came: each stream's longest wait
/// (from opening to its first heartbeat, between two, or from its last to
/// `ended`), and heartbeats received against those due.
fn heartbeat_health(arrivals: &[Arrivals], ended: Instant, peers: usize) {
    let period = Duration::from_secs(u64::from(HEARTBEAT_SECS));
    let mut longest: Vec<Duration> = arrivals
        .iter()
        .map(|a| {
            let mut marks = Vec::with_capacity(a.heartbeats.len() + 2);
            marks.push(a.opened);
            marks.extend(&a.heartbeats);
            marks.push(ended);
            marks
                .windows(2)
                .map(|w| w[1] - w[0])
                .max()
                .unwrap_or_default()
        })
        .collect();
    let received: usize = arrivals.iter().map(|a| a.heartbeats.len()).sum();
    let due: u64 = arrivals
        .iter()
        .map(|a| (ended - a.opened).as_secs() / period.as_secs())
        .sum();
    let slack = period + Duration::from_secs(1);
    let timely = longest.iter().filter(|gap| **gap <= slack).count();
    let (median, p99) = percentiles(&mut longest);
    let worst = longest.last().copied().unwrap_or_default();
    println!(
        "SQLite: heartbeats: {received} received of {due} due; {timely} of {peers} streams never waited more than {} s for one (longest wait per stream: median {}, p99 {}, max {})",
        slack.as_secs(),
        secs(median),
        secs(p99),
        secs(worst)
    );
}

/// The child process: a node with the peers whose keys are listed in the
/// file `keys` pinned, serving until its stdin closes.
async fn serve_peers(keys: std::path::PathBuf) {
    let list = std::fs::read_to_string(keys).expect("read the peers' keys");
    let keys: Vec<[u8; 32]> = list
        .lines()
        .map(|line| {
            hex::decode(line)
                .ok()
                .and_then(|bytes| bytes.try_into().ok())
                .expect("a 32-byte public key in hex")
        })
        .collect();
    let db = TestDb::new(Backend::Sqlite).await;
    let node = TestNode::start_with(db, |settings| {
        settings.max_watch_streams = keys.len() + 64;
        // Every peer connects from this machine's address.
        settings.max_connections_per_address = 0;
    })
    .await;
    for (i, key) in keys.into_iter().enumerate() {
        let public = PublicKey::from_bytes(&key).expect("an Ed25519 public key");
        let descriptor = NodeDescriptor {
            node_id: edufed_federation::fingerprint(&public),
            name: format!("Узел {i}"),
            url: format!("https://node{i}.example.org"),
            public_key: key,
            organizations: vec![],
        };
        node.node
            .store()
            .add_peer(descriptor, &Actor::Node)
            .await
            .expect("pin a peer");
    }
    let latest = node
        .node
        .store()
        .latest_sequence()
        .await
        .expect("the latest sequence");
    println!("ready {} {} {latest}", node.node.url(), node.node.node_id());
    // Serve until the benchmark closes this process's stdin.
    tokio::task::spawn_blocking(|| std::io::stdin().read_to_end(&mut Vec::new()))
        .await
        .expect("wait for stdin to close")
        .ok();
    stop(node).await;
}

// Shared helpers.

/// A Calendar client on `node` with `token`.
async fn calendar(node: &TestNode, token: &str) -> Calendar {
    pb::calendar_client::CalendarClient::with_interceptor(node.channel().await, Bearer::new(token))
}

/// The operator's Federation client on `node`.
async fn federation(node: &TestNode) -> Federation {
    pb::federation_client::FederationClient::with_interceptor(
        node.channel().await,
        Bearer::new(&node.operator_token),
    )
}

/// Creates the organization `slug` of `kind` on `node` and returns a
/// coordinator's token.
async fn publisher(node: &TestNode, slug: &str, kind: pb::OrganizationKind) -> String {
    node.operator()
        .await
        .create_organization(pb::CreateOrganizationRequest {
            kind: kind.into(),
            ..org_request(slug)
        })
        .await
        .expect("create the organization");
    node.member_token(slug, pb::Role::Coordinator).await
}

/// Pins on `node` the peer `fingerprint`, reached at `url`.
async fn pin(node: &TestNode, url: &str, fingerprint: &str) {
    federation(node)
        .await
        .add_peer(pb::AddPeerRequest {
            url: url.to_owned(),
            fingerprint: fingerprint.to_owned(),
        })
        .await
        .expect("pin a peer");
}

/// `node` follows the log of its pinned peer `fingerprint`.
async fn subscribe(node: &TestNode, fingerprint: &str) {
    federation(node)
        .await
        .subscribe(pb::SubscribeRequest {
            node_id: fingerprint.into(),
            ..Default::default()
        })
        .await
        .expect("subscribe");
}

/// Every node pins every other, then follows its log: a node follows only
/// a pinned peer.
async fn full_mesh(nodes: &[&TestNode]) {
    for (from, to) in ordered_pairs(nodes) {
        pin(from, &to.node.url(), to.node.node_id()).await;
    }
    for (from, to) in ordered_pairs(nodes) {
        subscribe(from, to.node.node_id()).await;
    }
}

/// Every (from, to) of two different nodes of `nodes`.
fn ordered_pairs<'a>(
    nodes: &'a [&'a TestNode],
) -> impl Iterator<Item = (&'a TestNode, &'a TestNode)> {
    nodes.iter().flat_map(move |from| {
        nodes
            .iter()
            .filter(move |to| from.node.node_id() != to.node.node_id())
            .map(move |to| (*from, *to))
    })
}

/// Waits until `node` has `count` subscriptions, each with its stream open.
async fn following(node: &TestNode, count: usize) {
    let started = Instant::now();
    loop {
        let subscriptions = node
            .node
            .store()
            .list_subscriptions()
            .await
            .expect("the subscriptions");
        if subscriptions.len() == count && subscriptions.iter().all(|s| s.connected) {
            return;
        }
        if started.elapsed() > GIVE_UP {
            panic!("the node never followed its {count} peers");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A public two-hour course for grades 9–11, some days from now.
fn course(title: &str, seed: usize) -> pb::ActivityDetails {
    edufed_tests::public_course(title, 10 + i64::try_from(seed % 200).unwrap_or(0))
}

/// Stops a node and removes its database.
async fn stop(node: TestNode) {
    let TestNode { node, db, .. } = node;
    node.stop().await.expect("the node stops");
    drop(db);
}

/// The median and 99th percentile (nearest rank) of `samples`, sorting them.
fn percentiles(samples: &mut [Duration]) -> (Duration, Duration) {
    samples.sort_unstable();
    let rank = |p: f64| {
        let n = samples.len();
        let i = ((p * n as f64).ceil() as usize).clamp(1, n.max(1)) - 1;
        samples.get(i).copied().unwrap_or_default()
    };
    (rank(0.5), rank(0.99))
}

/// Prints the median and 99th percentile of `samples` as `what`.
fn report(what: &str, samples: &mut [Duration]) {
    let n = samples.len();
    let (median, p99) = percentiles(samples);
    println!(
        "SQLite: {what}: median {:.1} ms, p99 {:.1} ms ({n} samples)",
        millis(median),
        millis(p99)
    );
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// The resident set of the process `pid` ("self" for this one) in KiB,
/// from `/proc` (Linux).
fn resident_kib(pid: &str) -> u64 {
    let status =
        std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc/<pid>/status");
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS in /proc/<pid>/status")
}
