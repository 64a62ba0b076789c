//! A node under the open-file limit systemd gives a service by default
//! (1 024) is not starved by connections that send nothing; a client whose
//! output closes ends quietly.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use common::{BIN, Served, serve};
use tokio::io::AsyncReadExt as _;
use tokio::net::{TcpSocket, TcpStream};
use tokio::process::Command;

/// `edufed serve` with its open-file limit (soft and hard) at 1 024.
fn edufed_limited(cwd: &std::path::Path) -> Command {
    let mut command = Command::new("sh");
    command
        .current_dir(cwd)
        .args(["-c", "ulimit -n 1024 && exec \"$0\" \"$@\"", BIN]);
    for (key, _) in std::env::vars() {
        if key.starts_with("EDUFED_") {
            command.env_remove(key);
        }
    }
    command
        .env("EDUFED_LOG", "info")
        .env("EDUFED_HEADER_TIMEOUT_SECS", "3")
        .kill_on_drop(true);
    command
}

/// A connection from `from` to `to` that sends nothing.
async fn idle_socket(from: &str, to: SocketAddr) -> TcpStream {
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind(format!("{from}:0").parse().unwrap()).unwrap();
    socket.connect(to).await.unwrap()
}

/// Whether the node has closed `stream`: a read ends (EOF or reset) within
/// `within`.
async fn closed_within(stream: &mut TcpStream, within: Duration) -> bool {
    let mut byte = [0u8; 1];
    matches!(
        tokio::time::timeout(within, stream.read(&mut byte)).await,
        Ok(Ok(0) | Err(_))
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_sockets_do_not_lock_clients_out() {
    let cwd = tempfile::tempdir().unwrap();
    let Served { child, url, .. } =
        serve(edufed_limited(cwd.path()), &["--listen", "127.0.0.1:0"]).await;
    let _child = child;
    let addr: SocketAddr = url.trim_start_matches("http://").parse().unwrap();

    // 1 100 connections from one address (127.0.0.2: the whole of 127/8 is
    // this machine) that never send a byte.
    let mut idle = Vec::new();
    for _ in 0..1100 {
        idle.push(idle_socket("127.0.0.2", addr).await);
    }

    // Another client is served at once, over plain HTTP and over gRPC.
    let (status, body) = tokio::time::timeout(
        Duration::from_secs(5),
        edufed_tests::http_get(addr, "/healthz"),
    )
    .await
    .expect("/healthz answers while the idle sockets are open");
    assert_eq!((status, body.as_str()), (200, "ok\n"));
    let mut directory = edufed_proto::v1::directory_client::DirectoryClient::connect(url.clone())
        .await
        .unwrap();
    let descriptor = tokio::time::timeout(
        Duration::from_secs(5),
        directory.list_organizations(edufed_proto::v1::ListOrganizationsRequest::default()),
    )
    .await
    .expect("a gRPC call is answered while the idle sockets are open");
    assert!(descriptor.is_ok(), "{descriptor:?}");

    // The address holds at most its share (256): the connections beyond it
    // were closed as soon as they were accepted, and the ones held are
    // closed when no request comes within the header timeout (3 s here).
    let mut refused = 0;
    for stream in &mut idle[256..] {
        if closed_within(stream, Duration::from_millis(200)).await {
            refused += 1;
        }
    }
    assert_eq!(
        refused,
        1100 - 256,
        "connections beyond the address's share"
    );
    for (i, stream) in idle[..256].iter_mut().enumerate() {
        assert!(
            closed_within(stream, Duration::from_secs(10)).await,
            "idle connection {i} is still open"
        );
    }

    // Their places come back: the same address connects and is served.
    drop(idle);
    let (status, _) = edufed_tests::http_get_from(addr, "127.0.0.2", "/healthz").await;
    assert_eq!(status, 200);

    let metrics = edufed_tests::http_get(addr, "/metrics").await.1;
    assert!(
        metrics.contains("edufed_connections_refused_total{reason=\"per_address\"} 844"),
        "{metrics}"
    );
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("edufed_connections_closed_idle_total ")
                && l.trim_end()
                    .rsplit(' ')
                    .next()
                    .unwrap()
                    .parse::<u64>()
                    .unwrap()
                    >= 256),
        "{metrics}"
    );
}

/// `edufed org list | head -1`: a client whose reader goes away ends
/// quietly with the status a shell gives SIGPIPE, without a panic.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_whose_output_closes_ends_quietly() {
    let cwd = tempfile::tempdir().unwrap();
    let served = serve(common::edufed(cwd.path()), &["--listen", "127.0.0.1:0"]).await;
    let mut client = common::edufed(cwd.path())
        .args(["org", "list", "--server", &served.url])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(client.stdout.take());
    let output = client.wait_with_output().await.unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(141), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(stderr.is_empty(), "{stderr}");
}

/// `edufed health`, a container's health check: 0 while the node serves,
/// not 0 for a service it does not know or a node that is gone.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_says_whether_the_node_serves() {
    let cwd = tempfile::tempdir().unwrap();
    let served = serve(common::edufed(cwd.path()), &["--listen", "127.0.0.1:0"]).await;
    let url = served.url.clone();
    let (ok, out, err) =
        common::run(common::edufed(cwd.path()), &["health", "--server", &url]).await;
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "SERVING");
    let (ok, out, err) = common::run(
        common::edufed(cwd.path()),
        &[
            "health",
            "--server",
            &url,
            "--service",
            "edufed.v1.Calendar",
        ],
    )
    .await;
    assert!(ok, "{err}");
    assert_eq!(out.trim(), "SERVING");
    let (ok, _, err) = common::run(
        common::edufed(cwd.path()),
        &["health", "--server", &url, "--service", "edufed.v1.Nothing"],
    )
    .await;
    assert!(!ok);
    assert!(err.contains("NotFound"), "{err}");
    common::terminate(served).await;
    let (ok, _, err) = common::run(common::edufed(cwd.path()), &["health", "--server", &url]).await;
    assert!(!ok);
    assert!(err.contains("cannot connect"), "{err}");
}
