//! A real SMTP server for the tests: aiosmtpd (PyPI, installed by
//! `scripts/test` into a virtual environment named by
//! `EDUFED_TEST_AIOSMTPD`), started on a free loopback port, keeping every
//! message it accepts in a Maildir the test reads; stopped when dropped.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tempfile::TempDir;
use tokio::process::{Child, Command};

/// One running SMTP server and the messages it has received.
pub struct SmtpSink {
    /// Where it listens.
    pub addr: SocketAddr,
    maildir: TempDir,
    program: PathBuf,
    child: Child,
}

impl SmtpSink {
    /// Starts aiosmtpd on a free loopback port and waits until it accepts
    /// connections; `None` when it is not installed here (outside
    /// `scripts/test`, which sets `EDUFED_TEST_AIOSMTPD` and requires it).
    pub async fn start() -> Option<Self> {
        let Some(program) = std::env::var_os("EDUFED_TEST_AIOSMTPD").map(PathBuf::from) else {
            assert!(
                std::env::var_os("EDUFED_REQUIRE_SMTP").is_none(),
                "EDUFED_TEST_AIOSMTPD names no aiosmtpd (scripts/test installs it)"
            );
            eprintln!("aiosmtpd is not installed here; skipped (scripts/test installs it)");
            return None;
        };
        let maildir = tempfile::tempdir().expect("maildir");
        let addr = free_port();
        let child = spawn(&program, addr, maildir.path()).await;
        Some(Self {
            addr,
            maildir,
            program,
            child,
        })
    }

    /// Starts the server again on the same address and Maildir, after
    /// [`SmtpSink::stop`]: a mail server back from an outage.
    pub async fn restart(&mut self) {
        self.child = spawn(&self.program, self.addr, self.maildir.path()).await;
    }

    /// Points a node's `settings` at this server, with no TLS, its mail
    /// coming from `from` (`edufed <edufed@hub.example>`).
    pub fn configure(&self, settings: &mut edufed_server::Settings, from: &str) {
        settings.smtp_host = Some(self.addr.ip().to_string());
        settings.smtp_port = self.addr.port();
        settings.smtp_tls = "none".into();
        settings.mail_from = Some(from.to_owned());
    }

    /// Every message received so far, as raw RFC 5322 text, oldest first.
    pub fn messages(&self) -> Vec<String> {
        let dir = self.maildir.path().join("mail");
        let mut found: Vec<(std::time::SystemTime, String)> = Vec::new();
        for sub in ["new", "cur"] {
            let Ok(entries) = std::fs::read_dir(dir.join(sub)) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                let modified = entry
                    .metadata()
                    .and_then(|m| m.modified())
                    .unwrap_or(std::time::UNIX_EPOCH);
                found.push((modified, read(&path)));
            }
        }
        found.sort_by_key(|(modified, _)| *modified);
        found.into_iter().map(|(_, text)| text).collect()
    }

    /// Waits up to ten seconds for at least `count` messages.
    pub async fn wait_for(&self, count: usize) -> Vec<String> {
        for _ in 0..100 {
            let messages = self.messages();
            if messages.len() >= count {
                return messages;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{} of {count} messages arrived", self.messages().len());
    }

    /// Stops the server (as a dead mail server would), keeping what it
    /// received.
    pub async fn stop(&mut self) {
        self.child.kill().await.ok();
    }
}

/// Runs aiosmtpd on `addr` into `maildir`/mail and waits until it accepts
/// connections.
async fn spawn(program: &Path, addr: SocketAddr, maildir: &Path) -> Child {
    let child = Command::new(program)
        .args([
            "-n",
            "-l",
            &addr.to_string(),
            "-c",
            "aiosmtpd.handlers.Mailbox",
        ])
        .arg(maildir.join("mail"))
        .kill_on_drop(true)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("{} starts: {e}", program.display()));
    for _ in 0..100 {
        if tokio::net::TcpStream::connect(addr).await.is_ok() {
            return child;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("aiosmtpd did not listen on {addr}");
}

fn read(path: &Path) -> String {
    String::from_utf8_lossy(&std::fs::read(path).unwrap_or_default()).into_owned()
}

/// A loopback address no one listens on now.
fn free_port() -> SocketAddr {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
}
