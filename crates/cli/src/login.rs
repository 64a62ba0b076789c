//! `edufed login` and `edufed logout`: a person signs the command line in
//! through their region's identity provider with the device flow (they
//! enter a short code at the provider, in any browser), and the node hands
//! the command line a token that lasts 12 hours. It is kept per node in
//! the user's configuration directory, readable by them alone, and used
//! when no other token is given.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context as _, bail};
use clap::Args;
use edufed_proto::v1 as pb;
use serde::{Deserialize, Serialize};

use crate::ClientArgs;
use crate::client::Connection;
use crate::output::out;
use crate::output::{Format, print_json};

/// `edufed login`.
#[derive(Debug, Args)]
pub struct LoginArgs {
    /// The identity provider's name on the node, as `edufed login` lists
    /// them [default: the node's only one].
    #[arg(long)]
    issuer: Option<String>,
}

/// A token the command line keeps for one node.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Stored {
    pub token: String,
    pub token_id: String,
    pub issuer: String,
    /// RFC 3339; the token is not used after it.
    pub expires: String,
}

/// Where the command line keeps its tokens: `$EDUFED_CONFIG_DIR`, else
/// `$XDG_CONFIG_HOME/edufed`, else `~/.config/edufed`.
fn config_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("EDUFED_CONFIG_DIR") {
        return Some(PathBuf::from(dir));
    }
    if let Some(dir) = std::env::var_os("XDG_CONFIG_HOME").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(dir).join("edufed"));
    }
    std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".config").join("edufed"))
}

fn credentials_file() -> Option<PathBuf> {
    config_dir().map(|dir| dir.join("credentials.json"))
}

fn read_all(path: &Path) -> BTreeMap<String, Stored> {
    std::fs::read(path)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

/// Writes the tokens, readable and writable by the user alone (0600, in a
/// 0700 directory), replacing the file at once.
fn write_all(path: &Path, all: &BTreeMap<String, Stored>) -> anyhow::Result<()> {
    use std::os::unix::fs::{DirBuilderExt as _, OpenOptionsExt as _};
    let dir = path
        .parent()
        .context("the credentials file has no directory")?;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("cannot create {}", dir.display()))?;
    let partial = path.with_extension("json.partial");
    // A fresh file (never one left there, nor a link to elsewhere) that
    // only the user may read from its first byte.
    match std::fs::remove_file(&partial) {
        Ok(()) => {}
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
        Err(error) => {
            return Err(error).with_context(|| format!("cannot replace {}", partial.display()));
        }
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&partial)
        .with_context(|| format!("cannot write {}", partial.display()))?;
    file.write_all(&serde_json::to_vec_pretty(all)?)?;
    file.sync_all()?;
    std::fs::rename(&partial, path).with_context(|| format!("cannot write {}", path.display()))
}

/// The key a node's token is kept under: its URL without a trailing slash.
fn key(server: &str) -> String {
    server.trim_end_matches('/').to_owned()
}

/// Whether a token may travel to `server`: over TLS, or to this machine.
pub fn safe_to_send(server: &str) -> bool {
    server.starts_with("https://") || crate::client::is_loopback(server)
}

/// The token kept for `server`, unless it has expired (or the server is
/// reached in the clear elsewhere than this machine).
pub fn stored_token(server: &str) -> Option<String> {
    if !safe_to_send(server) {
        return None;
    }
    let stored = read_all(&credentials_file()?).remove(&key(server))?;
    let expires = chrono::DateTime::parse_from_rfc3339(&stored.expires).ok()?;
    (expires > chrono::Utc::now()).then_some(stored.token)
}

/// Runs `edufed login`.
pub async fn login(client: &ClientArgs, args: LoginArgs, format: Format) -> anyhow::Result<()> {
    let path =
        credentials_file().context("no configuration directory: set HOME or EDUFED_CONFIG_DIR")?;
    // Anonymously: a token kept from before may have lapsed.
    let conn = Connection::anonymous(client).await?;
    let mut directory = conn.directory();
    let issuers = directory
        .list_issuers(pb::ListIssuersRequest::default())
        .await?
        .into_inner()
        .issuers;
    let names = || {
        issuers
            .iter()
            .map(|i| format!("{} ({})", i.name, i.label))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let issuer = match (&args.issuer, issuers.as_slice()) {
        (_, []) => bail!(
            "the node signs no one in through an identity provider; ask its operator for a token"
        ),
        (Some(name), _) => name.clone(),
        (None, [only]) => only.name.clone(),
        (None, _) => bail!(
            "the node has several identity providers; choose one with --issuer: {}",
            names()
        ),
    };
    let started = directory
        .begin_device_sign_in(pb::BeginDeviceSignInRequest {
            issuer: issuer.clone(),
        })
        .await?
        .into_inner();
    let url = if started.verification_uri_complete.is_empty() {
        started.verification_uri.clone()
    } else {
        started.verification_uri_complete.clone()
    };
    eprintln!("To sign in, open in any browser:\n  {url}");
    eprintln!("and confirm the code {}", started.user_code);
    eprintln!("Waiting…");
    let mut interval = started
        .interval
        .as_ref()
        .map_or(5, |d| u64::try_from(d.seconds).unwrap_or(5))
        .max(1);
    let deadline = started
        .expire_time
        .as_ref()
        .and_then(|t| chrono::DateTime::from_timestamp(t.seconds, 0));
    let done = loop {
        tokio::time::sleep(Duration::from_secs(interval)).await;
        if deadline.is_some_and(|end| chrono::Utc::now() >= end) {
            bail!("the code was not confirmed in time; run edufed login again");
        }
        let polled = directory
            .poll_device_sign_in(pb::PollDeviceSignInRequest {
                handle: started.handle.clone(),
            })
            .await?
            .into_inner();
        if polled.slow_down {
            interval += 5;
        }
        if !polled.pending {
            break polled;
        }
    };
    let token = done.token.context("the node answered without a token")?;
    let expires = token
        .expire_time
        .as_ref()
        .and_then(|t| chrono::DateTime::from_timestamp(t.seconds, 0))
        .context("the node's token has no expiry")?;
    let mut all = read_all(&path);
    all.insert(
        key(&client.server),
        Stored {
            token: done.secret,
            token_id: token.id.clone(),
            issuer,
            expires: expires.to_rfc3339(),
        },
    );
    write_all(&path, &all)?;
    let conn = Connection::with_token(client, &all[&key(&client.server)].token).await?;
    let me = conn
        .directory()
        .who_am_i(pb::WhoAmIRequest {})
        .await?
        .into_inner();
    if format == Format::Json {
        return print_json(&me);
    }
    let name = me.person.map(|p| p.display_name).unwrap_or_default();
    out!(
        "signed in as {name} until {} (the token is kept in {})",
        expires
            .with_timezone(&chrono::Local)
            .format("%Y-%m-%d %H:%M"),
        path.display()
    );
    Ok(())
}

/// Runs `edufed logout`: revokes the kept token at the node and forgets it.
pub async fn logout(client: &ClientArgs) -> anyhow::Result<()> {
    let path =
        credentials_file().context("no configuration directory: set HOME or EDUFED_CONFIG_DIR")?;
    let mut all = read_all(&path);
    let Some(stored) = all.remove(&key(&client.server)) else {
        bail!("not signed in to {} (no kept token)", client.server);
    };
    let revoked = async {
        let conn = Connection::with_token(client, &stored.token).await?;
        conn.directory()
            .revoke_token(pb::RevokeTokenRequest {
                token_id: stored.token_id.clone(),
            })
            .await?;
        anyhow::Ok(())
    }
    .await;
    write_all(&path, &all)?;
    match revoked {
        Ok(()) => out!(
            "signed out of {}: the token is revoked and forgotten",
            client.server
        ),
        Err(error) => out!(
            "the token is forgotten here, but the node did not revoke it ({error:#}); it lapses by {}",
            stored.expires
        ),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_token_travels_only_over_tls_or_to_this_machine() {
        assert!(safe_to_send("https://hub.example"));
        assert!(safe_to_send("http://127.0.0.1:50051"));
        assert!(!safe_to_send("http://hub.example:50051"));
    }

    #[test]
    fn tokens_are_kept_for_the_user_alone() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("edufed").join("credentials.json");
        let mut all = BTreeMap::new();
        all.insert(
            key("http://127.0.0.1:50051/"),
            Stored {
                token: "edufed_x".into(),
                token_id: "id".into(),
                issuer: "region".into(),
                expires: "2099-01-01T00:00:00+00:00".into(),
            },
        );
        write_all(&path, &all).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        let dir_mode = std::fs::metadata(path.parent().unwrap())
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(dir_mode, 0o700);
        assert_eq!(read_all(&path), all);
        assert!(all.contains_key("http://127.0.0.1:50051"));
    }
}
