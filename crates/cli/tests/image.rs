//! The container image (deploy/Containerfile): built with podman from a
//! statically linked edufed, from scratch. Its binary serves the node from
//! the image's own filesystem as an unprivileged user, with its data on a
//! volume, and answers the image's HEALTHCHECK through `edufed health`; the
//! image has no shell.
//!
//! scripts/test builds the static binary (`scripts/image --debug
//! --binary-only`) and names it in `EDUFED_TEST_STATIC_BINARY`. Podman runs
//! with a storage of its own in a temporary directory, removed after.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::Duration;

use edufed_tests::{eventually, http_get};

mod common;

use common::free_loopback;

const PODMAN: &str = "/usr/bin/podman";

/// Podman with its own storage under `dir`, runc (crun refuses the
/// hybrid cgroups of these machines) and the vfs driver (no overlay
/// mounts needed).
fn podman(dir: &Path) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(PODMAN);
    command
        .arg("--root")
        .arg(dir.join("storage"))
        .arg("--runroot")
        .arg(dir.join("run"))
        .args(["--storage-driver", "vfs", "--runtime", "/usr/sbin/runc"])
        .kill_on_drop(true);
    command
}

async fn run(mut command: tokio::process::Command, args: &[&str]) -> Output {
    command.args(args).output().await.expect("podman runs")
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_image_serves_from_scratch_and_answers_its_health_check() {
    let binary = std::env::var_os("EDUFED_TEST_STATIC_BINARY").map(PathBuf::from);
    let ready = Path::new(PODMAN).exists()
        && Path::new("/usr/sbin/runc").exists()
        && binary.as_ref().is_some_and(|b| b.exists());
    if !ready {
        assert!(
            std::env::var_os("EDUFED_REQUIRE_IMAGE").is_none(),
            "EDUFED_REQUIRE_IMAGE is set but podman, runc or the static binary is missing"
        );
        eprintln!("skipping: podman, runc or EDUFED_TEST_STATIC_BINARY missing (scripts/test)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let context = dir.path().join("context");
    std::fs::create_dir_all(context.join("data")).unwrap();
    std::fs::copy(binary.unwrap(), context.join("edufed")).unwrap();
    let containerfile = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/Containerfile");
    let tag = "localhost/edufed:test";
    let built = run(
        podman(dir.path()),
        &[
            "build",
            "--format",
            "docker",
            "-f",
            containerfile.to_str().unwrap(),
            "-t",
            tag,
            context.to_str().unwrap(),
        ],
    )
    .await;
    assert!(built.status.success(), "{}", text(&built));

    // What the image is: one file, an unprivileged user, a volume, a
    // health check through the binary itself.
    let inspected = run(podman(dir.path()), &["image", "inspect", tag]).await;
    assert!(inspected.status.success(), "{}", text(&inspected));
    let image: serde_json::Value = serde_json::from_slice(&inspected.stdout).unwrap();
    let config = &image[0]["Config"];
    assert_eq!(config["User"], "10001:10001", "{config}");
    assert!(config["Volumes"]["/data"].is_object(), "{config}");
    // Podman gives a docker-format image's health check beside the config.
    let check = if config["Healthcheck"].is_null() {
        &image[0]["Healthcheck"]
    } else {
        &config["Healthcheck"]
    };
    assert_eq!(
        check["Test"],
        serde_json::json!(["CMD", "/edufed", "health"]),
        "{}",
        image[0]
    );
    assert_eq!(image[0]["RootFS"]["Layers"].as_array().unwrap().len(), 2);

    // Served from the image: the volume is the data directory.
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    std::os::unix::fs::chown(&data, Some(10001), Some(10001)).unwrap();
    let listen = free_loopback();
    let started = run(
        podman(dir.path()),
        &[
            "run",
            "-d",
            "--name",
            "edufed-test",
            "--network",
            "host",
            // The machine's limits: podman's defaults exceed what this
            // sandbox may set.
            "--ulimit",
            "nofile=4096:4096",
            "--ulimit",
            "nproc=4096:4096",
            "-e",
            &format!("EDUFED_LISTEN={listen}"),
            "-e",
            &format!("EDUFED_SERVER=http://{listen}"),
            "-v",
            &format!("{}:/data", data.display()),
            tag,
        ],
    )
    .await;
    assert!(started.status.success(), "{}", text(&started));
    let addr: std::net::SocketAddr = listen.parse().unwrap();
    let logs = || async { text(&run(podman(dir.path()), &["logs", "edufed-test"]).await) };
    let up = tokio::time::timeout(Duration::from_secs(60), async {
        loop {
            if tokio::net::TcpStream::connect(addr).await.is_ok() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    })
    .await;
    assert!(up.is_ok(), "the node never listened: {}", logs().await);
    assert_eq!(http_get(addr, "/healthz").await.0, 200);
    // The image's own health check: `/edufed health` run inside it.
    eventually("the image's health check passing", || async {
        run(podman(dir.path()), &["healthcheck", "run", "edufed-test"])
            .await
            .status
            .success()
            .then_some(())
    })
    .await;
    // The node wrote its identity to the volume, as the unprivileged user.
    let key = data.join("node.key");
    assert!(key.exists(), "{}", logs().await);
    assert_eq!(
        std::os::unix::fs::MetadataExt::uid(&key.metadata().unwrap()),
        10001
    );
    // No shell to run.
    let shell = run(
        podman(dir.path()),
        &["exec", "edufed-test", "/bin/sh", "-c", "true"],
    )
    .await;
    assert!(!shell.status.success(), "the image has a shell");

    let stopped = run(podman(dir.path()), &["stop", "-t", "10", "edufed-test"]).await;
    assert!(stopped.status.success(), "{}", text(&stopped));
    let logs = logs().await;
    assert!(
        logs.contains("node stopped"),
        "a clean stop on SIGTERM: {logs}"
    );
    run(podman(dir.path()), &["rm", "-f", "edufed-test"]).await;
    run(podman(dir.path()), &["rmi", "-f", tag]).await;
    // vfs layers may hold files podman made read-only; the temp dir goes.
    let _ = std::process::Command::new("rm")
        .arg("-rf")
        .arg(dir.path())
        .status();
}
