//! First start and every start: the node's identity, its database, and the
//! operator's bootstrap token.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, bail};
use edufed_federation::NodeIdentity;
use edufed_store::{ConnectOptions, Store, redact_url};

use crate::config::Settings;
use crate::datadir::{DataDir, OPERATOR_TOKEN_FILE};

/// What start-up did, for the operator.
#[derive(Debug, Clone)]
pub struct InitReport {
    /// The node's id (its key's fingerprint).
    pub node_id: String,
    /// Where the key, the tokens and an SQLite database live.
    pub data_dir: PathBuf,
    /// The database, without password.
    pub database: String,
    /// Whether this start created the node's identity.
    pub created: bool,
    /// Where a new operator token was written, if one was.
    pub operator_token_file: Option<PathBuf>,
}

pub(crate) struct Prepared {
    pub(crate) store: Store,
    pub(crate) identity: NodeIdentity,
    pub(crate) report: InitReport,
}

/// Prepares a node without serving it: creates its identity and operator
/// token on first start (or a new token when `rotate_operator_token`),
/// migrates its database. This is `edufed init`.
pub async fn initialize(
    settings: &Settings,
    rotate_operator_token: bool,
) -> anyhow::Result<InitReport> {
    let prepared = prepare(settings, rotate_operator_token).await?;
    prepared.store.close().await;
    Ok(prepared.report)
}

pub(crate) async fn prepare(
    settings: &Settings,
    rotate_operator_token: bool,
) -> anyhow::Result<Prepared> {
    let data = DataDir::open(&settings.data_dir)?;
    let url = settings.database_url();
    // Replicas may share a data directory; only the key's creation needs
    // the lock (a blocking flock, so off the async threads). Migrations are
    // serialized by the database itself.
    let (data, identity, created) = tokio::task::spawn_blocking(move || {
        let lock = data.lock()?;
        let (identity, created) = data.identity(&lock)?;
        drop(lock);
        anyhow::Ok((data, identity, created))
    })
    .await
    .context("the data directory task failed")??;

    let options = ConnectOptions {
        max_connections: settings.max_connections,
        acquire_timeout: Duration::from_secs(10),
    };
    let store = Store::connect(&url, &options)
        .await
        .with_context(|| format!("cannot open the database {}", redact_url(&url)))?;
    store.migrate().await?;

    let node_id = identity.node_id();
    let bound = store.bind_node_id(&node_id).await?;
    if bound != node_id {
        store.close().await;
        bail!(
            "the database {} belongs to node {bound}, but the key in {} is node {node_id}; \
             point the node at its own database or data directory",
            redact_url(&url),
            data.path().display()
        );
    }

    let operator_token_file = if created || rotate_operator_token {
        let (_, secret) = store.issue_operator_token().await?;
        Some(data.write_secret(OPERATOR_TOKEN_FILE, &format!("{}\n", secret.expose()))?)
    } else {
        None
    };

    Ok(Prepared {
        store,
        identity,
        report: InitReport {
            node_id,
            data_dir: data.path().to_path_buf(),
            database: redact_url(&url),
            created,
            operator_token_file,
        },
    })
}

/// The files `edufed init --self-signed-cert` writes in the data directory.
pub const SELF_SIGNED_CERT_FILE: &str = "tls-cert.pem";
/// The key beside [`SELF_SIGNED_CERT_FILE`], mode 0600.
pub const SELF_SIGNED_KEY_FILE: &str = "tls-key.pem";

/// Creates a self-signed TLS certificate for the node, good for serving and
/// for presenting to peers (server and client use), for `names` plus
/// `localhost` and `127.0.0.1`. Peers trust it by listing it in their
/// `peer_ca`. Refuses to replace an existing certificate.
pub fn self_signed_certificate(
    settings: &Settings,
    names: &[String],
) -> anyhow::Result<(std::path::PathBuf, std::path::PathBuf)> {
    use rcgen::{CertificateParams, ExtendedKeyUsagePurpose, KeyPair};
    let data = DataDir::open(&settings.data_dir)?;
    let cert_path = data.path().join(SELF_SIGNED_CERT_FILE);
    if cert_path.exists() {
        anyhow::bail!(
            "{} exists already; remove it to issue a new certificate",
            cert_path.display()
        );
    }
    let mut sans: Vec<String> = names.to_vec();
    for default in ["localhost", "127.0.0.1"] {
        if !sans.iter().any(|n| n == default) {
            sans.push(default.to_owned());
        }
    }
    let mut params = CertificateParams::new(sans).context("invalid certificate names")?;
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    let key = KeyPair::generate().context("cannot generate a key")?;
    let cert = params
        .self_signed(&key)
        .context("cannot sign the certificate")?;
    let key_path = data.write_secret(SELF_SIGNED_KEY_FILE, &key.serialize_pem())?;
    let cert_path = data.write_secret(SELF_SIGNED_CERT_FILE, &cert.pem())?;
    Ok((cert_path, key_path))
}
