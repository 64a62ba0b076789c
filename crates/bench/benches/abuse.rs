//! A client guessing tokens beside clients at work: 10 000 calls with wrong
//! tokens from one address, 64 at a time, while another client reads an
//! organization over and over with its own token. The other client's
//! latency, median and 99th percentile, with no guessing, with the guessing
//! and the failed-credential limit as shipped, and with the guessing and
//! that limit off (every wrong token looked up). The other client's own
//! rate limit is off: it reads as fast as the node answers.
//!
//! `cargo bench -p edufed-bench --bench abuse` (SQLite; the limits are the
//! same on PostgreSQL).

use std::time::{Duration, Instant};

use edufed_bench::{Steal, millis, percentile, runtime};
use edufed_proto::v1 as pb;
use edufed_tests::{Backend, Bearer, TestDb, TestNode, org_request};
use tonic::transport::{Channel, Endpoint};

/// The other client's calls measured in each phase.
const CALLS: usize = 2_000;
/// Wrong tokens sent.
const GUESSES: usize = 10_000;
/// Wrong tokens in flight at once.
const GUESSERS: usize = 64;

fn main() {
    runtime().block_on(async {
        let shipped = edufed_server::Settings::default();
        for (label, failed_auth) in [
            ("failed-credential limit as shipped", shipped.failed_auth_per_minute),
            ("failed-credential limit off", 0),
        ] {
            let db = TestDb::new(Backend::Sqlite).await;
            let node = TestNode::start_with(db, |s| {
                // The other client reads as fast as the node answers, far
                // above a token's rate; only the guessing is limited here.
                s.rate_limit_per_second = 0;
                s.failed_auth_per_minute = failed_auth;
                // The guessers connect from one address, 64 at a time.
                s.max_connections_per_address = 0;
            })
            .await;
            node.operator()
                .await
                .create_organization(org_request("gym44"))
                .await
                .unwrap();
            let token = node.member_token("gym44", pb::Role::Viewer).await;
            let steal = Steal::start();
            let mut quiet = reads(&node, &token, CALLS).await;
            let started = Instant::now();
            let guessing = tokio::spawn(guess(node.node.url()));
            let mut busy = reads(&node, &token, CALLS).await;
            let (unauthenticated, exhausted) = guessing.await.unwrap();
            let took = started.elapsed();
            let (q50, q99) = (percentile(&mut quiet, 50), percentile(&mut quiet, 99));
            let (b50, b99) = (percentile(&mut busy, 50), percentile(&mut busy, 99));
            println!(
                "SQLite, {label}: the other client's GetOrganization: median {:.2} ms, p99 {:.2} ms alone; median {:.2} ms ({:.2}x), p99 {:.2} ms beside {GUESSES} wrong tokens from one address ({unauthenticated} UNAUTHENTICATED, {exhausted} RESOURCE_EXHAUSTED, over {:.1} s); {}",
                millis(q50),
                millis(q99),
                millis(b50),
                b50.as_secs_f64() / q50.as_secs_f64(),
                millis(b99),
                took.as_secs_f64(),
                steal.taken()
            );
            node.node.stop().await.unwrap();
        }
    });
}

/// `calls` reads of one organization with `token`, one after another; the
/// time of each.
async fn reads(node: &TestNode, token: &str, calls: usize) -> Vec<Duration> {
    let mut client = pb::directory_client::DirectoryClient::with_interceptor(
        node.channel().await,
        Bearer::new(token),
    );
    let mut times = Vec::with_capacity(calls);
    for _ in 0..calls {
        let started = Instant::now();
        client
            .get_organization(pb::GetOrganizationRequest {
                organization: "gym44".into(),
            })
            .await
            .expect("the other client is served");
        times.push(started.elapsed());
    }
    times
}

/// Sends [`GUESSES`] calls with wrong tokens from 127.0.0.2, [`GUESSERS`]
/// at a time; counts the answers.
async fn guess(url: String) -> (usize, usize) {
    let channel: Channel = Endpoint::from_shared(url)
        .unwrap()
        .local_address(Some("127.0.0.2".parse().unwrap()))
        .connect()
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for g in 0..GUESSERS {
        let channel = channel.clone();
        tasks.push(tokio::spawn(async move {
            let (mut unauthenticated, mut exhausted) = (0, 0);
            for i in (g..GUESSES).step_by(GUESSERS) {
                let status = pb::directory_client::DirectoryClient::with_interceptor(
                    channel.clone(),
                    Bearer::new(&format!("edufed_{i:064x}")),
                )
                .get_organization(pb::GetOrganizationRequest {
                    organization: "gym44".into(),
                })
                .await
                .expect_err("a wrong token is refused");
                match status.code() {
                    tonic::Code::Unauthenticated => unauthenticated += 1,
                    tonic::Code::ResourceExhausted => exhausted += 1,
                    other => panic!("a wrong token got {other:?}: {}", status.message()),
                }
            }
            (unauthenticated, exhausted)
        }));
    }
    let mut totals = (0, 0);
    for task in tasks {
        let (u, e) = task.await.unwrap();
        totals.0 += u;
        totals.1 += e;
    }
    totals
}
