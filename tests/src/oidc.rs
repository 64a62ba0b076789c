//! A real OpenID Connect provider for the tests: panva's `oidc-provider`
//! from npm (pinned in `tests/browser/package-lock.json`, installed by
//! `scripts/test`), run by `tests/browser/oidc/provider.mjs` on a free
//! loopback port with the clients and accounts a test gives it; stopped
//! when dropped.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt as _, AsyncWriteExt as _, BufReader};
use tokio::process::{Child, ChildStdin, Command};

/// A client the provider knows.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Client {
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uris: Vec<String>,
    /// Where the provider may send a browser back after signing out.
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
}

/// An account at the provider, by its subject.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Account {
    pub email: String,
    pub email_verified: bool,
    pub name: String,
}

/// A running provider.
pub struct OidcProvider {
    /// Its issuer URL, `http://127.0.0.1:<port>`.
    pub issuer: String,
    child: Child,
    /// Held open: the provider stops when it closes.
    _stdin: ChildStdin,
}

impl OidcProvider {
    /// Starts a provider for `clients` with `accounts` (subject → account);
    /// `None` when node or the provider's package is missing here (outside
    /// `scripts/test`, which installs both and requires them).
    pub async fn start(clients: &[Client], accounts: &[(&str, Account)]) -> Option<Self> {
        let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("browser");
        if !dir.join("node_modules/oidc-provider").exists() {
            assert!(
                std::env::var_os("EDUFED_REQUIRE_BROWSER").is_none(),
                "tests/browser/node_modules lacks oidc-provider (scripts/test installs it)"
            );
            eprintln!("oidc-provider is not installed here; skipped (scripts/test installs it)");
            return None;
        }
        let setting = serde_json::json!({
            "port": 0,
            "clients": clients,
            "accounts": accounts
                .iter()
                .map(|(sub, account)| ((*sub).to_owned(), serde_json::to_value(account).expect("account")))
                .collect::<serde_json::Map<_, _>>(),
        });
        let mut child = Command::new("node")
            .arg("oidc/provider.mjs")
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("node runs (scripts/test installs nodejs)");
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all(format!("{setting}\n").as_bytes())
            .await
            .expect("setting written");
        let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let issuer = tokio::time::timeout(Duration::from_secs(30), async {
            while let Some(line) = lines.next_line().await.expect("provider output") {
                if let Some(issuer) = line.strip_prefix("LISTENING ") {
                    return issuer.to_owned();
                }
            }
            panic!("the OpenID Connect provider exited before it listened");
        })
        .await
        .expect("the OpenID Connect provider listens");
        // What it prints later is read and dropped: a closed pipe would
        // stop it.
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Some(Self {
            issuer,
            child,
            _stdin: stdin,
        })
    }

    /// Where the provider listens.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.issuer
            .trim_start_matches("http://")
            .parse()
            .expect("a loopback address")
    }

    /// Signs with a new key from now on, publishing only it: a key
    /// rotation at the provider.
    pub async fn rotate_keys(&self) {
        let (status, body) = crate::http_post(self.addr(), "/__test/rotate", "").await;
        assert_eq!(status, 200, "{body}");
    }

    /// Stops the provider.
    pub async fn stop(&mut self) {
        self.child.kill().await.ok();
    }
}
