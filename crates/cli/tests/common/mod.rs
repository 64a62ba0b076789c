//! What the binary's tests share: a clean `edufed` command, a node served
//! by it, client runs, and stopping it.

#![allow(dead_code, reason = "each test file uses some of these")]

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, BufReader};
use tokio::process::{Child, Command};

pub const BIN: &str = env!("CARGO_BIN_EXE_edufed");

/// `edufed` with a clean environment: no EDUFED_* from the caller.
pub fn edufed(cwd: &Path) -> Command {
    let mut command = Command::new(BIN);
    command.current_dir(cwd);
    for (key, _) in std::env::vars() {
        if key.starts_with("EDUFED_") {
            command.env_remove(key);
        }
    }
    command.env("EDUFED_LOG", "info").kill_on_drop(true);
    command
}

pub struct Served {
    pub child: Child,
    pub url: String,
    pub stdout: String,
}

/// Starts `edufed serve` and waits for the line that says where it serves.
pub async fn serve(mut command: Command, args: &[&str]) -> Served {
    let mut child = command
        .arg("serve")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn edufed serve");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut stdout = String::new();
    let url = tokio::time::timeout(Duration::from_secs(60), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            stdout.push_str(&line);
            stdout.push('\n');
            if let Some(url) = line.strip_prefix("serving gRPC and HTTP on ") {
                return url.to_owned();
            }
        }
        panic!("edufed serve exited: {stdout}");
    })
    .await
    .expect("edufed serve starts");
    Served { child, url, stdout }
}

/// Runs a client command; returns (success, stdout, stderr).
pub async fn run(mut command: Command, args: &[&str]) -> (bool, String, String) {
    let output = command.args(args).output().await.expect("run edufed");
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Sends SIGTERM and waits for a clean exit.
pub async fn terminate(mut served: Served) -> String {
    let pid = served.child.id().expect("running").to_string();
    let status = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(status.success());
    let mut stderr = String::new();
    let mut err = served.child.stderr.take().unwrap();
    let exit = tokio::time::timeout(Duration::from_secs(20), async {
        use tokio::io::AsyncReadExt as _;
        err.read_to_string(&mut stderr).await.unwrap();
        served.child.wait().await.unwrap()
    })
    .await
    .expect("the node exits after SIGTERM");
    assert!(exit.success(), "exit status {exit:?}: {stderr}");
    stderr
}

/// A loopback address with a port free now, for a node restarted on it.
pub fn free_loopback() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("127.0.0.1:{port}")
}
