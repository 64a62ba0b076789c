//! Two replicas of one node, `edufed serve` processes on one PostgreSQL
//! database, behind HAProxy (Debian's package). Sixteen clients write
//! through the balancer; the replica doing the node's background work is
//! killed with SIGKILL. The clients see at most a retry, no acknowledged
//! write is lost, the other replica takes the work within seconds (it
//! follows the peer), and the two never do it at once.

use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use edufed_proto::v1 as pb;
use edufed_tests::{Bearer, TestNode, eventually, http_get, org_request};
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

mod common;

use common::{edufed, free_loopback, run};

const HAPROXY: &str = "/usr/sbin/haproxy";

/// A replica: its process, where it serves, and its log.
struct Replica {
    child: Child,
    addr: std::net::SocketAddr,
}

async fn replica(dir: &Path, database: &str, lb: &str, log: &Path) -> Replica {
    let mut child = edufed(dir)
        .env("EDUFED_DATABASE_URL", database)
        .env("EDUFED_PUBLIC_URL", format!("http://{lb}"))
        .env("EDUFED_AGREEMENT_CHECK_SECS", "1")
        .env("EDUFED_RATE_LIMIT_PER_SECOND", "0")
        .env("EDUFED_MAX_CONNECTIONS_PER_ADDRESS", "0")
        .args(["serve", "--listen", &free_loopback()])
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(log).unwrap())
        .spawn()
        .expect("spawn edufed serve");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let url = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if let Some(url) = line.strip_prefix("serving gRPC and HTTP on ") {
                return url.to_owned();
            }
        }
        panic!("edufed serve exited; see {}", log.display());
    })
    .await
    .expect("a replica starts");
    // Its later output is read and dropped, so that it never blocks.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Replica {
        child,
        addr: url.trim_start_matches("http://").parse().unwrap(),
    }
}

/// Whether the replica at `addr` does the background work now, by its
/// metrics: `Some(term)` if it does.
async fn leads(addr: std::net::SocketAddr) -> Option<u64> {
    let (status, body) = http_get(addr, "/metrics").await;
    assert_eq!(status, 200);
    let value = |name: &str| {
        body.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .map(|v| v.trim().parse::<u64>().unwrap())
    };
    (value("edufed_leader") == Some(1)).then(|| value("edufed_leader_term").unwrap())
}

fn haproxy_config(lb: &str, replicas: &[&Replica]) -> String {
    let servers: String = replicas
        .iter()
        .enumerate()
        .map(|(i, r)| format!("  server r{i} {} check inter 300ms fall 2 rise 1\n", r.addr))
        .collect();
    format!(
        "global\n  maxconn 2000\n\
         defaults\n  mode tcp\n  timeout connect 1s\n  timeout client 60s\n  timeout server 60s\n  \
         retries 2\n  option redispatch 1\n\
         frontend edufed\n  bind {lb}\n  default_backend replicas\n\
         backend replicas\n  balance roundrobin\n  option httpchk\n  \
         http-check send meth GET uri /healthz ver HTTP/1.1 hdr Host localhost\n  \
         http-check expect status 200\n{servers}"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_killed_replica_hands_over_its_work_and_loses_no_write() {
    if edufed_tests::postgres_admin_url().is_none() {
        return;
    }
    if !Path::new(HAPROXY).exists() {
        assert!(
            std::env::var_os("EDUFED_REQUIRE_HAPROXY").is_none(),
            "EDUFED_REQUIRE_HAPROXY is set but {HAPROXY} is missing (scripts/test installs it)"
        );
        eprintln!("skipping: {HAPROXY} is missing (scripts/test installs Debian's haproxy)");
        return;
    }
    let database = edufed_tests::create_postgres_database().await;
    let dir = tempfile::tempdir().unwrap();
    let lb = free_loopback();
    let (ok, _, err) = run(edufed(dir.path()), &["init", "--database-url", &database]).await;
    assert!(ok, "{err}");
    let a = replica(dir.path(), &database, &lb, &dir.path().join("a.log")).await;
    let b = replica(dir.path(), &database, &lb, &dir.path().join("b.log")).await;
    let config = dir.path().join("haproxy.cfg");
    std::fs::write(&config, haproxy_config(&lb, &[&a, &b])).unwrap();
    let mut haproxy = Command::new(HAPROXY)
        .args(["-db", "-f"])
        .arg(&config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("haproxy starts");
    let lb_url = format!("http://{lb}");
    let channel = || async {
        tonic::transport::Channel::from_shared(lb_url.clone())
            .unwrap()
            .connect_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(10))
            .connect()
            .await
    };
    let operator = std::fs::read_to_string(dir.path().join("edufed-data/operator.token"))
        .unwrap()
        .trim()
        .to_owned();
    let directory_channel = eventually("the balancer passing calls", || async {
        channel().await.ok()
    })
    .await;
    let mut directory = pb::directory_client::DirectoryClient::with_interceptor(
        directory_channel,
        Bearer::new(&operator),
    );
    directory
        .create_organization(org_request("gym24"))
        .await
        .unwrap();
    let mut token_of = async |org: &str, role: pb::Role| {
        let member = directory
            .add_member(pb::AddMemberRequest {
                organization: org.into(),
                person: Some(pb::add_member_request::Person::NewPerson(pb::NewPerson {
                    display_name: format!("{org} {role:?}"),
                    email: String::new(),
                })),
                role: role.into(),
            })
            .await
            .unwrap()
            .into_inner();
        directory
            .create_token(pb::CreateTokenRequest {
                person_id: member.person.unwrap().id,
                name: "test".into(),
                ttl: None,
            })
            .await
            .unwrap()
            .into_inner()
            .secret
    };
    let coordinator = token_of("gym24", pb::Role::Coordinator).await;
    let hub_id = directory
        .who_am_i(pb::WhoAmIRequest {})
        .await
        .unwrap()
        .into_inner()
        .node_id;

    // A peer, which the node follows: the university pins the node (at the
    // balancer's address) and the node subscribes to its activities.
    let university = TestNode::start(edufed_tests::Backend::Sqlite).await;
    university
        .operator()
        .await
        .create_organization(pb::CreateOrganizationRequest {
            kind: pb::OrganizationKind::University.into(),
            ..org_request("tusur")
        })
        .await
        .unwrap();
    let tusur = university
        .member_token("tusur", pb::Role::Coordinator)
        .await;
    university
        .federation()
        .await
        .add_peer(pb::AddPeerRequest {
            url: lb_url.clone(),
            fingerprint: hub_id.clone(),
        })
        .await
        .unwrap();
    let client = || {
        let mut c = edufed(dir.path());
        c.env("EDUFED_SERVER", &lb_url);
        c
    };
    let uni_id = university.node.node_id().to_owned();
    let (ok, _, err) = run(
        client(),
        &[
            "peer",
            "add",
            &university.node.url(),
            "--fingerprint",
            &uni_id,
        ],
    )
    .await;
    assert!(ok, "{err}");
    let (ok, _, err) = run(client(), &["subscribe", &uni_id, "--kind", "activity"]).await;
    assert!(ok, "{err}");
    let mut uni_calendar = pb::calendar_client::CalendarClient::with_interceptor(
        university.channel().await,
        Bearer::new(&tusur),
    );
    let publish_at_university = async |calendar: &mut pb::calendar_client::CalendarClient<_>,
                                       title: &str| {
        calendar
            .publish_activity(pb::PublishActivityRequest {
                publisher: "tusur".into(),
                details: Some(edufed_tests::public_course(title, 10)),
                draft: false,
            })
            .await
            .unwrap()
            .into_inner()
            .id
    };
    let followed = async |id: String| {
        let mut calendar = pb::calendar_client::CalendarClient::with_interceptor(
            channel().await.ok()?,
            Bearer::new(&coordinator),
        );
        calendar
            .get_activity(pb::GetActivityRequest { activity_id: id })
            .await
            .ok()
    };
    let before = publish_at_university(&mut uni_calendar, "Курс до сбоя").await;
    eventually("the node following the university", || {
        followed(before.clone())
    })
    .await;

    // Exactly one replica leads; a watcher samples both until the kill,
    // then the survivor, and never sees two.
    let leader = eventually("a leader", || async {
        match (leads(a.addr).await, leads(b.addr).await) {
            (Some(_), Some(_)) => panic!("both replicas lead"),
            (Some(term), None) => Some((true, term)),
            (None, Some(term)) => Some((false, term)),
            (None, None) => None,
        }
    })
    .await;

    // Sixteen clients write through the balancer, each retrying a failed
    // write with a new connection, until told to stop.
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..16 {
        let stop = stop.clone();
        let lb_url = lb_url.clone();
        let token = coordinator.clone();
        writers.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            let mut calendar = None;
            let mut n = 0;
            // The write that took the most attempts, with why each failed.
            let mut worst: (usize, Vec<String>) = (0, Vec::new());
            while !stop.load(Ordering::Relaxed) {
                n += 1;
                let title = format!("Занятие {w}-{n}");
                let mut failures = Vec::new();
                loop {
                    assert!(failures.len() < 5, "{title}: {failures:?}");
                    if calendar.is_none() {
                        match tonic::transport::Channel::from_shared(lb_url.clone())
                            .unwrap()
                            .connect_timeout(Duration::from_secs(2))
                            .timeout(Duration::from_secs(10))
                            .connect()
                            .await
                        {
                            Ok(channel) => {
                                calendar =
                                    Some(pb::calendar_client::CalendarClient::with_interceptor(
                                        channel,
                                        Bearer::new(&token),
                                    ));
                            }
                            Err(error) => {
                                failures.push(format!("connect: {error}"));
                                tokio::time::sleep(Duration::from_secs(1)).await;
                                continue;
                            }
                        }
                    }
                    let published = calendar
                        .as_mut()
                        .unwrap()
                        .publish_activity(pb::PublishActivityRequest {
                            publisher: "gym24".into(),
                            details: Some(edufed_tests::public_course(&title, 3)),
                            draft: false,
                        })
                        .await;
                    match published {
                        Ok(answer) => {
                            acknowledged.push(answer.into_inner().id);
                            break;
                        }
                        Err(status) => {
                            assert!(
                                matches!(
                                    status.code(),
                                    tonic::Code::Unavailable | tonic::Code::Unknown
                                ),
                                "{title}: {status:?}"
                            );
                            failures.push(format!("{:?}: {}", status.code(), status.message()));
                            calendar = None;
                            // A client backs off before it retries, as gRPC's
                            // retry policy does (1 s at first).
                            tokio::time::sleep(Duration::from_secs(1)).await;
                        }
                    }
                }
                if failures.len() + 1 > worst.0 {
                    worst = (failures.len() + 1, failures);
                }
            }
            (acknowledged, worst)
        }));
    }
    tokio::time::sleep(Duration::from_secs(3)).await;

    // Kill the leader.
    let (leader_was_a, term) = leader;
    let (mut dead, survivor) = if leader_was_a { (a, b) } else { (b, a) };
    dead.child.start_kill().unwrap();
    dead.child.wait().await.unwrap();
    let killed = Instant::now();
    let new_term = eventually("the survivor taking the work", || async {
        leads(survivor.addr).await
    })
    .await;
    let handover = killed.elapsed();
    assert!(new_term > term, "a new term: {term} then {new_term}");
    // It follows the peer: a course published now arrives.
    let after = publish_at_university(&mut uni_calendar, "Курс после сбоя").await;
    eventually("the survivor following the university", || {
        followed(after.clone())
    })
    .await;
    let following = killed.elapsed();
    assert!(
        following < Duration::from_secs(10),
        "followed {following:?} after the kill"
    );

    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::Relaxed);
    let mut acknowledged = Vec::new();
    let mut worst: (usize, Vec<String>) = (0, Vec::new());
    for writer in writers {
        let (ids, theirs) = writer.await.unwrap();
        acknowledged.extend(ids);
        if theirs.0 > worst.0 {
            worst = theirs;
        }
    }
    let most_attempts = worst.0;
    assert!(
        most_attempts <= 2,
        "a write needed {most_attempts} attempts, at most a retry: {:?}",
        worst.1
    );

    // Every acknowledged write is there.
    let store = edufed_store::Store::connect(&database, &edufed_store::ConnectOptions::default())
        .await
        .unwrap();
    let mut missing = 0;
    for id in &acknowledged {
        let found = store
            .get_activity(&edufed_domain::ids::ActivityId::from_stored(id.clone()))
            .await;
        if found.is_err() {
            missing += 1;
        }
    }
    assert_eq!(missing, 0, "of {} acknowledged writes", acknowledged.len());

    // Nothing ran twice: the terms follow one another, each with its one
    // holder, the survivor's after the dead one's.
    let terms = store.lease_terms(edufed_server::LEASE).await.unwrap();
    assert!(terms.len() >= 2, "{terms:?}");
    assert!(
        terms
            .windows(2)
            .all(|t| t[0].term < t[1].term && t[0].holder != t[1].holder),
        "{terms:?}"
    );
    eprintln!(
        "{} writes acknowledged by 16 clients, at most {most_attempts} attempts each; \
         the survivor led {handover:?} after the kill and followed the peer after \
         {following:?}; terms {terms:?}",
        acknowledged.len()
    );
    haproxy.start_kill().ok();
    drop(survivor);
}
