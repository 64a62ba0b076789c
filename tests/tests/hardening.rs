//! What a hostile client tried and the node now refuses, naming the field:
//! a right-to-left override in a name or a title, a recurrence whose
//! later occurrences run past the years the node keeps, and bytes that are
//! not the method's message (INVALID_ARGUMENT, not INTERNAL).

use edufed_proto::v1 as pb;
use edufed_tests::{Bearer, TestNode, both_backends, org_request, public_course};
use tonic::Code;
use tonic_types::StatusExt as _;

fn field_of(status: &tonic::Status) -> String {
    status
        .get_error_details()
        .bad_request()
        .map(|b| b.field_violations[0].field.clone())
        .unwrap_or_default()
}

both_backends!(
    invisible_formatting_and_far_occurrences_are_refused,
    |backend| async move {
        let node = TestNode::start(backend).await;
        let mut operator = node.operator().await;
        let spoofed = operator
            .create_organization(pb::CreateOrganizationRequest {
                short_name: "Лицей \u{202E}7№".into(),
                ..org_request("spoofed")
            })
            .await
            .unwrap_err();
        assert_eq!(spoofed.code(), Code::InvalidArgument);
        assert_eq!(field_of(&spoofed), "short_name");
        operator
            .create_organization(org_request("lyceum7"))
            .await
            .unwrap();
        let coordinator = node.member_token("lyceum7", pb::Role::Coordinator).await;
        let mut calendar = pb::calendar_client::CalendarClient::with_interceptor(
            node.channel().await,
            Bearer::new(&coordinator),
        );
        let publish = |details: pb::ActivityDetails| pb::PublishActivityRequest {
            publisher: "lyceum7".into(),
            details: Some(details),
            draft: false,
        };
        let titled = calendar
            .publish_activity(publish(pb::ActivityDetails {
                title: "Курс\u{200B}робототехники".into(),
                ..public_course("x", 10)
            }))
            .await
            .unwrap_err();
        assert_eq!(field_of(&titled), "details.title");
        let mut far = public_course("Юбилейная встреча выпускников", 10);
        far.schedule.as_mut().unwrap().recurrence = Some(pb::Recurrence {
            rule: "FREQ=YEARLY;INTERVAL=1000;COUNT=100".into(),
            ..Default::default()
        });
        let refused = calendar.publish_activity(publish(far)).await.unwrap_err();
        assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
        assert_eq!(field_of(&refused), "details.schedule.recurrence.rule");
        // Nothing was stored.
        let listed = operator
            .list_organizations(pb::ListOrganizationsRequest::default())
            .await
            .unwrap()
            .into_inner()
            .organizations;
        assert!(listed.iter().all(|o| o.slug != "spoofed"));
    }
);

/// Sends and receives bytes as they are, to put on the wire what no
/// generated client would.
#[derive(Clone, Default)]
struct Raw;

struct RawCoder;

impl tonic::codec::Codec for Raw {
    type Encode = Vec<u8>;
    type Decode = Vec<u8>;
    type Encoder = RawCoder;
    type Decoder = RawCoder;

    fn encoder(&mut self) -> Self::Encoder {
        RawCoder
    }

    fn decoder(&mut self) -> Self::Decoder {
        RawCoder
    }
}

impl tonic::codec::Encoder for RawCoder {
    type Item = Vec<u8>;
    type Error = tonic::Status;

    fn encode(
        &mut self,
        item: Vec<u8>,
        dst: &mut tonic::codec::EncodeBuf<'_>,
    ) -> Result<(), tonic::Status> {
        use bytes::BufMut as _;
        dst.put_slice(&item);
        Ok(())
    }
}

impl tonic::codec::Decoder for RawCoder {
    type Item = Vec<u8>;
    type Error = tonic::Status;

    fn decode(
        &mut self,
        src: &mut tonic::codec::DecodeBuf<'_>,
    ) -> Result<Option<Vec<u8>>, tonic::Status> {
        use bytes::Buf as _;
        let bytes = src.chunk().to_vec();
        src.advance(bytes.len());
        Ok(Some(bytes))
    }
}

both_backends!(
    undecodable_bytes_are_the_clients_fault,
    |backend| async move {
        let node = TestNode::start(backend).await;
        let mut grpc = tonic::client::Grpc::new(node.channel().await);
        for method in [
            "/edufed.v1.Directory/GetOrganization",
            "/edufed.v1.Calendar/ListOccurrences",
        ] {
            grpc.ready().await.unwrap();
            let answer = grpc
                .unary(
                    tonic::Request::new(vec![0x0a, 0x01, 0xff]),
                    http::uri::PathAndQuery::from_static(method),
                    Raw,
                )
                .await
                .unwrap_err();
            assert_eq!(answer.code(), Code::InvalidArgument, "{method}: {answer:?}");
            assert_eq!(field_of(&answer), "request");
        }
    }
);

/// Opens a Watch from the latest entry as `token`, over `channel`.
async fn open_watch(
    channel: &tonic::transport::Channel,
    token: &str,
) -> Result<tonic::Streaming<pb::WatchResponse>, tonic::Status> {
    pb::change_feed_client::ChangeFeedClient::with_interceptor(channel.clone(), Bearer::new(token))
        .watch(pb::WatchRequest {
            snapshot: true,
            heartbeat_seconds: 300,
            ..Default::default()
        })
        .await
        .map(tonic::Response::into_inner)
}

both_backends!(
    one_caller_cannot_take_every_watch_stream,
    |backend| async move {
        let hub = TestNode::start(backend).await;
        let peer = TestNode::start(backend).await;
        hub.operator()
            .await
            .create_organization(org_request("gym44"))
            .await
            .unwrap();

        // One viewer's token asks for 1 100 streams: it gets its own share
        // (32), and the rest are refused as too many for one caller.
        let viewer = hub.member_token("gym44", pb::Role::Viewer).await;
        let channel = hub.channel().await;
        let mut held = Vec::new();
        let mut refused = 0;
        for _ in 0..1100 {
            match open_watch(&channel, &viewer).await {
                Ok(stream) => held.push(stream),
                Err(status) => {
                    assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
                    assert!(
                        status.message().contains("as many as one caller may"),
                        "{status:?}"
                    );
                    refused += 1;
                }
            }
        }
        assert_eq!((held.len(), refused), (32, 1068));

        // People together fill the three quarters of the node's 1 024
        // streams that are theirs to take…
        for _ in 1..24 {
            let token = hub.member_token("gym44", pb::Role::Viewer).await;
            let channel = hub.channel().await;
            for _ in 0..32 {
                held.push(open_watch(&channel, &token).await.unwrap());
            }
        }
        let late = hub.member_token("gym44", pb::Role::Viewer).await;
        let status = open_watch(&hub.channel().await, &late).await.unwrap_err();
        assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
        assert!(status.message().contains("as many Watch streams as it may"));

        // …and the operator and a peer still get theirs.
        let mut operator = open_watch(&hub.channel().await, &hub.operator_token)
            .await
            .expect("the operator's Watch");
        assert!(operator.message().await.unwrap().is_some());
        edufed_tests::full_mesh(&[&hub, &peer]).await;
        // What the hub publishes reaches the peer through its stream.
        let published = pb::calendar_client::CalendarClient::with_interceptor(
            hub.channel().await,
            Bearer::new(&hub.operator_token),
        )
        .publish_activity(pb::PublishActivityRequest {
            publisher: "gym44".into(),
            details: Some(public_course("Открытый урок", 10)),
            draft: false,
        })
        .await
        .unwrap()
        .into_inner()
        .id;
        let origin = hub.node.node_id().to_owned();
        edufed_tests::eventually("the peer follows the hub", || {
            let (peer, origin, published) = (&peer, &origin, &published);
            async move {
                peer.node
                    .store()
                    .list_mirrors(Some(origin))
                    .await
                    .ok()?
                    .iter()
                    .any(|m| m.entry.entity_id == *published)
                    .then_some(())
            }
        })
        .await;

        // A stream given up gives its place back.
        held.truncate(31);
        edufed_tests::eventually("the viewer's place comes back", || {
            let (channel, viewer) = (channel.clone(), viewer.clone());
            async move { open_watch(&channel, &viewer).await.ok() }
        })
        .await;
    }
);

/// What one call answered and how long it took.
struct Answer {
    slug: String,
    code: Code,
    took: std::time::Duration,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_stopped_database_gives_unavailable_fast_and_the_node_comes_back() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::time::{Duration, Instant};
    use tonic_health::pb::health_check_response::ServingStatus;
    use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};

    let Some(cluster) = edufed_tests::cluster::Cluster::start() else {
        return;
    };
    let db = edufed_tests::TestDb {
        url: cluster.url(),
        backend: edufed_tests::Backend::Postgres,
        dir: tempfile::tempdir().unwrap(),
    };
    let node = TestNode::start_with(db, |_| {}).await;
    let mut health = HealthClient::new(node.channel().await);
    let status = |service: &str| HealthCheckRequest {
        service: service.into(),
    };
    let serving = |answer: Result<tonic::Response<tonic_health::pb::HealthCheckResponse>, _>| {
        answer
            .ok()
            .map(|r: tonic::Response<_>| r.into_inner().status)
    };
    assert_eq!(
        serving(health.check(status("")).await),
        Some(ServingStatus::Serving as i32)
    );

    // Eight clients write all along.
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = Vec::new();
    for w in 0..8 {
        let (stop, mut operator) = (stop.clone(), node.operator().await);
        writers.push(tokio::spawn(async move {
            let mut answers = Vec::new();
            let mut i = 0;
            while !stop.load(Ordering::SeqCst) {
                let slug = format!("school-{w}-{i}");
                i += 1;
                let started = Instant::now();
                let code = match operator.create_organization(org_request(&slug)).await {
                    Ok(_) => Code::Ok,
                    Err(status) => status.code(),
                };
                answers.push(Answer {
                    slug,
                    code,
                    took: started.elapsed(),
                });
                if code != Code::Ok {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
            answers
        }));
    }
    tokio::time::sleep(Duration::from_secs(1)).await;

    // PostgreSQL stops: health says NOT_SERVING within 2 s, on gRPC and
    // /healthz, and calls are answered UNAVAILABLE at once.
    let stopping = cluster_stop(&cluster).await;
    let stopped = Instant::now();
    let mut calendar = pb::calendar_client::CalendarClient::new(node.channel().await);
    loop {
        let answer = serving(health.check(status("edufed.v1.Calendar")).await);
        if answer == Some(ServingStatus::NotServing as i32) {
            break;
        }
        assert!(
            stopped.elapsed() < Duration::from_secs(2),
            "health still says {answer:?} 2 s after the database stopped"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "NOT_SERVING {} ms after PostgreSQL stopped ({} ms to stop it)",
        stopped.elapsed().as_millis(),
        stopping.as_millis()
    );
    assert_eq!(
        serving(health.check(status("")).await),
        Some(ServingStatus::NotServing as i32)
    );
    let (code, _) = edufed_tests::http_get(node.node.addr(), "/healthz").await;
    assert_eq!(code, 503);
    let started = Instant::now();
    let refused = calendar
        .list_occurrences(pb::ListOccurrencesRequest::default())
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::Unavailable, "{refused:?}");
    assert!(started.elapsed() < Duration::from_secs(2));
    tokio::time::sleep(Duration::from_secs(3)).await;

    // It starts again: the node comes back by itself.
    let restarted = {
        let started = Instant::now();
        cluster_start(&cluster).await;
        started.elapsed()
    };
    let back = Instant::now();
    edufed_tests::eventually("the node serves again", || {
        let mut health = health.clone();
        async move {
            (serving(health.check(status("")).await) == Some(ServingStatus::Serving as i32))
                .then_some(())
        }
    })
    .await;
    println!(
        "SERVING {} ms after PostgreSQL accepted connections again ({} ms to start it)",
        back.elapsed().as_millis(),
        restarted.as_millis()
    );
    assert_eq!(
        edufed_tests::http_get(node.node.addr(), "/healthz").await.0,
        200
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    stop.store(true, Ordering::SeqCst);
    let mut answers = Vec::new();
    for writer in writers {
        answers.extend(writer.await.unwrap());
    }

    // No INTERNAL, no call kept waiting, and every acknowledged write is there.
    for answer in &answers {
        assert!(
            matches!(answer.code, Code::Ok | Code::Unavailable),
            "{} answered {:?}",
            answer.slug,
            answer.code
        );
        if answer.code == Code::Unavailable {
            assert!(
                answer.took < Duration::from_secs(2),
                "{} waited {:?} for UNAVAILABLE",
                answer.slug,
                answer.took
            );
        }
    }
    let unavailable = answers
        .iter()
        .filter(|a| a.code == Code::Unavailable)
        .count();
    assert!(unavailable > 0, "no call saw the database gone");
    let listed = edufed_tests::all_slugs(&node).await;
    let acknowledged: Vec<&Answer> = answers.iter().filter(|a| a.code == Code::Ok).collect();
    for answer in &acknowledged {
        assert!(listed.contains(&answer.slug), "{} was lost", answer.slug);
    }
    println!(
        "{} writes acknowledged, {unavailable} answered UNAVAILABLE",
        acknowledged.len()
    );
    node.node.stop().await.unwrap();
}

async fn cluster_stop(cluster: &edufed_tests::cluster::Cluster) -> std::time::Duration {
    let started = std::time::Instant::now();
    tokio::task::block_in_place(|| cluster.stop());
    started.elapsed()
}

async fn cluster_start(cluster: &edufed_tests::cluster::Cluster) {
    tokio::task::block_in_place(|| cluster.start_again());
}

/// A channel to `node` from the loopback address `from` (all of 127/8 is
/// this machine), as another client's would come.
async fn channel_from(node: &TestNode, from: &str) -> tonic::transport::Channel {
    tonic::transport::Endpoint::from_shared(node.node.url())
        .unwrap()
        .local_address(Some(from.parse().unwrap()))
        .connect()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_caller_over_its_rate_waits_while_the_others_are_served() {
    let db = edufed_tests::TestDb::new(edufed_tests::Backend::Sqlite).await;
    let node = TestNode::start_with(db, |s| {
        s.rate_limit_per_second = 2;
        s.rate_limit_burst = 20;
        s.anonymous_rate_limit_per_second = 2;
        s.anonymous_rate_limit_burst = 10;
        s.failed_auth_per_minute = 6;
        s.failed_auth_burst = 5;
    })
    .await;
    node.operator()
        .await
        .create_organization(org_request("gym44"))
        .await
        .unwrap();
    let busy = node.member_token("gym44", pb::Role::Viewer).await;
    let calm = node.member_token("gym44", pb::Role::Viewer).await;
    let get = || pb::GetOrganizationRequest {
        organization: "gym44".into(),
    };

    // One token's 40 calls in a row: its burst passes, then it is told to
    // wait, with how long; another token is served all along.
    let mut busy_client = pb::directory_client::DirectoryClient::with_interceptor(
        node.channel().await,
        Bearer::new(&busy),
    );
    let mut calm_client = pb::directory_client::DirectoryClient::with_interceptor(
        node.channel().await,
        Bearer::new(&calm),
    );
    let mut refused = 0;
    for i in 0..40 {
        match busy_client.get_organization(get()).await {
            Ok(_) => {}
            Err(status) => {
                assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
                assert!(status.message().starts_with("too many calls: retry in"));
                let retry = status.get_details_retry_info().expect("RetryInfo");
                assert!(
                    retry
                        .retry_delay
                        .is_some_and(|d| d <= std::time::Duration::from_secs(1))
                );
                refused += 1;
            }
        }
        if i % 4 == 0 {
            calm_client.get_organization(get()).await.unwrap();
        }
    }
    assert!(refused >= 15, "only {refused} of 40 refused");

    // Calls without a credential are counted per address: one address
    // over its rate waits, another is served. Feeds answer 429.
    let mut flooding =
        pb::directory_client::DirectoryClient::new(channel_from(&node, "127.0.0.2").await);
    let mut anonymous_refused = 0;
    for _ in 0..30 {
        if let Err(status) = flooding.get_organization(get()).await {
            assert_eq!(status.code(), Code::ResourceExhausted);
            anonymous_refused += 1;
        }
    }
    assert!(anonymous_refused >= 15, "{anonymous_refused}");
    pb::directory_client::DirectoryClient::new(channel_from(&node, "127.0.0.3").await)
        .get_organization(get())
        .await
        .unwrap();
    let mut feed_refused = None;
    for _ in 0..30 {
        let (status, body) =
            edufed_tests::http_get_from(node.node.addr(), "127.0.0.4", "/ics/network.ics").await;
        if status == 429 {
            feed_refused = Some(body);
            break;
        }
        assert_eq!(status, 200);
    }
    let body = feed_refused.expect("the feed's reader is told to wait");
    assert!(body.starts_with("too many requests; retry in"), "{body}");

    // Wrong tokens from one address: after a few, the address is refused
    // before any token it sends is looked up; the right token from there
    // waits too, and everyone else is served.
    let guessing = channel_from(&node, "127.0.0.5").await;
    let mut codes = Vec::new();
    for i in 0..50 {
        let status = pb::directory_client::DirectoryClient::with_interceptor(
            guessing.clone(),
            Bearer::new(&format!("edufed_{i:064}")),
        )
        .get_organization(get())
        .await
        .unwrap_err();
        codes.push(status.code());
    }
    let unauthenticated = codes
        .iter()
        .filter(|c| **c == Code::Unauthenticated)
        .count();
    assert!((5..=7).contains(&unauthenticated), "{codes:?}");
    assert!(
        codes[10..].iter().all(|c| *c == Code::ResourceExhausted),
        "{codes:?}"
    );
    calm_client.get_organization(get()).await.unwrap();
    // Refusals do not cost the connection: HTTP/2 closes one after a
    // thousand streams it had to reset, and a refused call's message is
    // read first so that none is reset.
    let flood = (0..1100).map(|i| {
        let mut client = pb::directory_client::DirectoryClient::with_interceptor(
            guessing.clone(),
            Bearer::new(&format!("edufed_{i:064}")),
        );
        async move { client.get_organization(get()).await.unwrap_err() }
    });
    let statuses = futures::future::join_all(flood).await;
    for status in &statuses {
        assert_eq!(status.code(), Code::ResourceExhausted, "{status:?}");
    }
    pb::directory_client::DirectoryClient::new(guessing.clone())
        .get_organization(get())
        .await
        .expect("the same connection still carries calls");

    let metrics = edufed_tests::http_get(node.node.addr(), "/metrics").await.1;
    for line in [
        "edufed_rate_limit{kind=\"credential\",quantity=\"per_second\"} 2",
        "edufed_rate_limit{kind=\"failed_auth\",quantity=\"per_minute\"} 6",
    ] {
        assert!(metrics.contains(line), "{line}\n{metrics}");
    }
    for kind in ["credential", "address", "failed_auth"] {
        assert!(
            metrics.contains(&format!("edufed_rate_limited_total{{kind=\"{kind}\"}}")),
            "{kind}\n{metrics}"
        );
    }
}
