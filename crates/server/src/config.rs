//! Settings, layered: defaults < TOML file (`--config`) < `EDUFED_*`
//! environment < command-line flags.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use figment::Figment;
use figment::providers::{Env, Format as _, Serialized, Toml};
use serde::{Deserialize, Serialize};

/// Everything a node is configured with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Where gRPC and plain HTTP listen, on one port.
    pub listen: SocketAddr,
    /// Where the node keeps its key, operator token and (by default) its SQLite database.
    pub data_dir: PathBuf,
    /// `sqlite://…` or `postgres://…`; `<data_dir>/edufed.db` when unset.
    pub database_url: Option<String>,
    /// PEM certificate chain for TLS.
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for TLS.
    pub tls_key: Option<PathBuf>,
    /// PEM CA certificates; when set, clients must present a certificate it signed.
    pub tls_client_ca: Option<PathBuf>,
    /// Allow plaintext on a non-loopback address.
    pub insecure: bool,
    /// The longest a unary RPC may take, in seconds.
    pub request_timeout_secs: u64,
    /// The largest gRPC message accepted or sent, in bytes.
    pub max_message_bytes: usize,
    /// How long shutdown waits for in-flight RPCs, in seconds.
    pub shutdown_grace_secs: u64,
    /// How long the change log keeps entries, in days.
    pub changelog_retention_days: u32,
    /// How long the audit trail keeps entries, in days.
    pub audit_retention_days: u32,
    /// How long people's names stay on activities and registrations that
    /// are over, in days, before the role replaces them.
    pub personal_data_retention_days: u32,
    /// Database connections in the pool (on SQLite, the readers beside the
    /// one writer, at most eight or two per core).
    pub max_connections: u32,
    /// Watch streams open at once; a quarter of them is kept for peers and
    /// the operator.
    pub max_watch_streams: usize,
    /// Watch streams one person (all their tokens and sessions) may hold.
    pub max_watch_streams_per_person: usize,
    /// Watch and Relay streams one peer node may hold.
    pub max_watch_streams_per_peer: usize,
    /// A connection's first request must arrive within this (and a TLS
    /// handshake finish), in seconds.
    pub header_timeout_secs: u64,
    /// A connection with no call in flight closes this long after its last
    /// call, in seconds.
    pub idle_timeout_secs: u64,
    /// Connections one client address (an IPv6 /64) may hold; 0 for no cap.
    /// Raise it for a load balancer or proxy in front, which is one address.
    pub max_connections_per_address: usize,
    /// How long the database may take to answer the node's check before the
    /// node says it is not serving and answers calls UNAVAILABLE, in
    /// milliseconds.
    pub database_timeout_ms: u64,
    /// Calls per second one token or console session may make, sustained,
    /// and in a burst; 0 for no limit.
    pub rate_limit_per_second: u32,
    pub rate_limit_burst: u32,
    /// The same for one peer node (its sync, relays and forwarded writes).
    pub peer_rate_limit_per_second: u32,
    pub peer_rate_limit_burst: u32,
    /// The same for calls without a credential, per client address (an
    /// IPv6 /64): calendar feeds, organization reads, the descriptor.
    pub anonymous_rate_limit_per_second: u32,
    pub anonymous_rate_limit_burst: u32,
    /// Credentials that fail from one address, per minute and in a burst,
    /// before the address is refused for a while; 0 for no limit.
    pub failed_auth_per_minute: u32,
    pub failed_auth_burst: u32,
    /// The node's name in its descriptor, e.g. "ТУСУР".
    pub node_name: String,
    /// The URL peers reach this node at; `http(s)://<listen>` when unset.
    pub public_url: Option<String>,
    /// CAs (PEM) trusted for peers' certificates, besides the public roots.
    /// The node presents its own `tls_cert` to peers that require client
    /// certificates.
    pub peer_ca: Option<PathBuf>,
    /// How often the node applies the transitions time brings to
    /// agreements (in force from the first day, expired after the last).
    pub agreement_check_secs: u64,
    /// A console session unused this long ends, in minutes.
    pub session_idle_minutes: u64,
    /// A console session ends this long after it started, in hours.
    pub session_max_age_hours: u64,
    /// The mail server notifications go through; without one, e-mail
    /// waits in the outbox (webhooks still go).
    pub smtp_host: Option<String>,
    /// Its port: 587 for STARTTLS, 465 for implicit TLS, 25 for a relay.
    pub smtp_port: u16,
    /// `starttls` (required, not opportunistic), `tls` (implicit) or
    /// `none` (a relay on the same machine).
    pub smtp_tls: String,
    /// The login, when the server asks for one.
    pub smtp_username: Option<String>,
    /// A file holding the password; `EDUFED_SMTP_PASSWORD` also works.
    /// Never logged.
    pub smtp_password_file: Option<PathBuf>,
    /// `From:` of notifications, e.g. `edufed ТУСУР <edufed@tusur.ru>`.
    pub mail_from: Option<String>,
    /// `Reply-To:` of notifications.
    pub mail_reply_to: Option<String>,
    /// A notification not delivered this long is given up, in hours.
    pub notify_give_up_hours: u64,
    /// How long a sender holds the notifications it took before another
    /// replica (or this one, restarted) may try them, in seconds.
    pub notify_lease_secs: u64,
    /// Days before a lesson its registered schools are reminded.
    pub reminder_days: Vec<u32>,
    /// Days before an agreement ends its parties' admins are told.
    pub agreement_expiring_days: Vec<u32>,
    /// The OpenID Connect issuers people sign in through (`[[oidc]]` tables
    /// in the TOML file).
    #[serde(default)]
    pub oidc: Vec<OidcIssuer>,
}

/// An OpenID Connect issuer the node is a relying party of: a regional
/// broker (Keycloak in front of ЕСИА and VK ID) or an organization's own.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OidcIssuer {
    /// Short and stable, in URLs and bindings: `region`, `tusur`.
    pub name: String,
    /// The provider's name as people know it: «Госуслуги». The sign-in
    /// button reads «Войти через Госуслуги».
    pub label: String,
    /// The issuer URL, whose `/.well-known/openid-configuration` is read.
    pub issuer: String,
    /// The node's client id at the issuer.
    pub client_id: String,
    /// A file holding the client secret (never logged); none for a public
    /// client.
    #[serde(default)]
    pub client_secret_file: Option<PathBuf>,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 50051)),
            data_dir: PathBuf::from("edufed-data"),
            database_url: None,
            tls_cert: None,
            tls_key: None,
            tls_client_ca: None,
            insecure: false,
            request_timeout_secs: 30,
            max_message_bytes: 4 * 1024 * 1024,
            shutdown_grace_secs: 10,
            changelog_retention_days: 90,
            audit_retention_days: edufed_domain::audit::DEFAULT_RETENTION_DAYS,
            personal_data_retention_days: edufed_domain::privacy::DEFAULT_RETENTION_DAYS,
            max_connections: 16,
            max_watch_streams: 1024,
            max_watch_streams_per_person: 32,
            max_watch_streams_per_peer: 512,
            header_timeout_secs: 10,
            idle_timeout_secs: 120,
            max_connections_per_address: 256,
            database_timeout_ms: 1500,
            rate_limit_per_second: 100,
            rate_limit_burst: 500,
            peer_rate_limit_per_second: 1000,
            peer_rate_limit_burst: 5000,
            anonymous_rate_limit_per_second: 50,
            anonymous_rate_limit_burst: 200,
            failed_auth_per_minute: 30,
            failed_auth_burst: 20,
            agreement_check_secs: 30,
            node_name: "edufed".to_owned(),
            public_url: None,
            peer_ca: None,
            session_idle_minutes: 7 * 24 * 60,
            session_max_age_hours: 30 * 24,
            smtp_host: None,
            smtp_port: 587,
            smtp_tls: "starttls".to_owned(),
            smtp_username: None,
            smtp_password_file: None,
            mail_from: None,
            mail_reply_to: None,
            notify_give_up_hours: 48,
            notify_lease_secs: 120,
            reminder_days: vec![1, 7],
            agreement_expiring_days: vec![14, 60],
            oidc: Vec::new(),
        }
    }
}

/// The settings given as flags; unset ones leave lower layers alone.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Overrides {
    /// `--listen`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub listen: Option<SocketAddr>,
    /// `--data-dir`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub data_dir: Option<PathBuf>,
    /// `--database-url`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database_url: Option<String>,
    /// `--tls-cert`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_cert: Option<PathBuf>,
    /// `--tls-key`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_key: Option<PathBuf>,
    /// `--tls-client-ca`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls_client_ca: Option<PathBuf>,
    /// `--insecure`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub insecure: Option<bool>,
}

/// The environment variables read, each `EDUFED_` + a setting's name in capitals.
pub const ENV_KEYS: &[&str] = &[
    "listen",
    "data_dir",
    "database_url",
    "tls_cert",
    "tls_key",
    "tls_client_ca",
    "insecure",
    "request_timeout_secs",
    "max_message_bytes",
    "shutdown_grace_secs",
    "changelog_retention_days",
    "audit_retention_days",
    "personal_data_retention_days",
    "max_connections",
    "max_watch_streams",
    "max_watch_streams_per_person",
    "max_watch_streams_per_peer",
    "header_timeout_secs",
    "idle_timeout_secs",
    "max_connections_per_address",
    "database_timeout_ms",
    "rate_limit_per_second",
    "rate_limit_burst",
    "peer_rate_limit_per_second",
    "peer_rate_limit_burst",
    "anonymous_rate_limit_per_second",
    "anonymous_rate_limit_burst",
    "failed_auth_per_minute",
    "failed_auth_burst",
    "agreement_check_secs",
    "node_name",
    "public_url",
    "peer_ca",
    "session_idle_minutes",
    "session_max_age_hours",
    "smtp_host",
    "smtp_port",
    "smtp_tls",
    "smtp_username",
    "smtp_password_file",
    "mail_from",
    "mail_reply_to",
    "notify_give_up_hours",
    "notify_lease_secs",
    "reminder_days",
    "agreement_expiring_days",
];

impl OidcIssuer {
    /// Refuses what cannot work: a name that is not a short word, an issuer
    /// that is not https (http only on this machine), no client id.
    pub fn validate(&self) -> anyhow::Result<()> {
        let name = &self.name;
        if name.is_empty()
            || name.len() > 32
            || !name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        {
            bail!("oidc.name {name:?} must be 1 to 32 of a-z, 0-9 and -");
        }
        let local = self.issuer.starts_with("http://")
            && self.issuer.parse::<http::Uri>().is_ok_and(|uri| {
                matches!(
                    uri.host(),
                    Some("127.0.0.1" | "localhost" | "[::1]" | "::1")
                )
            });
        if !(self.issuer.starts_with("https://") || local) {
            bail!("oidc {name}: issuer must start with https:// (http:// only on this machine)");
        }
        if self.client_id.trim().is_empty() {
            bail!("oidc {name}: client_id is required");
        }
        if self.label.trim().is_empty() {
            bail!("oidc {name}: label is required (the provider's name on the sign-in button)");
        }
        Ok(())
    }

    /// The environment variable that may hold the client secret instead of
    /// a file: `EDUFED_OIDC_<NAME>_CLIENT_SECRET`, the name in capitals with
    /// `-` as `_`.
    pub fn secret_variable(&self) -> String {
        format!(
            "EDUFED_OIDC_{}_CLIENT_SECRET",
            self.name.to_ascii_uppercase().replace('-', "_")
        )
    }

    /// The client secret from `client_secret_file`, else from
    /// [`Self::secret_variable`], if any.
    pub fn client_secret(&self) -> anyhow::Result<Option<String>> {
        if self.client_secret_file.is_none()
            && let Ok(secret) = std::env::var(self.secret_variable())
            && !secret.is_empty()
        {
            return Ok(Some(secret));
        }
        self.client_secret_file
            .as_ref()
            .map(|path| {
                std::fs::read_to_string(path)
                    .map(|s| s.trim_end_matches(['\r', '\n']).to_owned())
                    .with_context(|| {
                        format!(
                            "oidc {}: cannot read client_secret_file {}",
                            self.name,
                            path.display()
                        )
                    })
            })
            .transpose()
    }
}

impl Settings {
    /// The relying party of the configured issuers, for a node reached at
    /// `public_url`; `None` when none is configured.
    pub fn issuers(&self, public_url: &str) -> anyhow::Result<Option<edufed_identity::Issuers>> {
        if self.oidc.is_empty() {
            return Ok(None);
        }
        let configs = self
            .oidc
            .iter()
            .map(|issuer| {
                Ok(edufed_identity::IssuerConfig {
                    name: issuer.name.clone(),
                    label: issuer.label.clone(),
                    issuer: issuer.issuer.clone(),
                    client_id: issuer.client_id.clone(),
                    client_secret: issuer.client_secret()?,
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(Some(edufed_identity::Issuers::new(configs, public_url)?))
    }

    /// Layers the sources and checks the result.
    pub fn load(config_file: Option<&Path>, flags: &Overrides) -> anyhow::Result<Self> {
        let mut figment = Figment::from(Serialized::defaults(Settings::default()));
        if let Some(path) = config_file {
            if !path.is_file() {
                bail!("configuration file {} does not exist", path.display());
            }
            figment = figment.merge(Toml::file_exact(path));
        }
        let settings: Settings = figment
            .merge(Env::prefixed("EDUFED_").only(ENV_KEYS))
            .merge(Serialized::defaults(flags))
            .extract()
            .context("invalid configuration")?;
        settings.validate()?;
        Ok(settings)
    }

    /// Refuses combinations that cannot work or are unsafe.
    pub fn validate(&self) -> anyhow::Result<()> {
        match (&self.tls_cert, &self.tls_key) {
            (Some(_), None) | (None, Some(_)) => {
                bail!("tls_cert and tls_key go together: give both or neither")
            }
            _ => {}
        }
        if self.tls_client_ca.is_some() && self.tls_cert.is_none() {
            bail!(
                "tls_client_ca needs tls_cert and tls_key: client certificates are checked only over TLS"
            );
        }
        if self.tls_cert.is_none() && !self.listen.ip().is_loopback() && !self.insecure {
            bail!(
                "refusing to serve plaintext on the non-loopback address {}: give --tls-cert and \
                 --tls-key, or --insecure if a TLS proxy stands in front",
                self.listen
            );
        }
        if self.request_timeout_secs == 0 || self.request_timeout_secs > 3600 {
            bail!("request_timeout_secs must be between 1 and 3600");
        }
        if !(1024..=256 * 1024 * 1024).contains(&self.max_message_bytes) {
            bail!("max_message_bytes must be between 1 KiB and 256 MiB");
        }
        if self.changelog_retention_days == 0 {
            bail!("changelog_retention_days must be at least 1");
        }
        if !(1..=36_500).contains(&self.audit_retention_days) {
            bail!("audit_retention_days must be between 1 and 36500");
        }
        if !(1..=36_500).contains(&self.personal_data_retention_days) {
            bail!("personal_data_retention_days must be between 1 and 36500");
        }
        if self.node_name.trim().is_empty() || self.node_name.chars().count() > 200 {
            bail!("node_name must be 1 to 200 characters");
        }
        if let Some(url) = &self.public_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            bail!("public_url must start with http:// or https://");
        }
        if self.agreement_check_secs == 0 || self.agreement_check_secs > 3600 {
            bail!("agreement_check_secs must be between 1 and 3600");
        }
        if self.max_watch_streams == 0 {
            bail!("max_watch_streams must be at least 1");
        }
        if self.max_watch_streams_per_person == 0 || self.max_watch_streams_per_peer == 0 {
            bail!("max_watch_streams_per_person and max_watch_streams_per_peer must be at least 1");
        }
        if !(1..=300).contains(&self.header_timeout_secs) {
            bail!("header_timeout_secs must be between 1 and 300");
        }
        if !(1..=86_400).contains(&self.idle_timeout_secs) {
            bail!("idle_timeout_secs must be between 1 and 86400");
        }
        for (name, per, burst) in [
            (
                "rate_limit",
                self.rate_limit_per_second,
                self.rate_limit_burst,
            ),
            (
                "peer_rate_limit",
                self.peer_rate_limit_per_second,
                self.peer_rate_limit_burst,
            ),
            (
                "anonymous_rate_limit",
                self.anonymous_rate_limit_per_second,
                self.anonymous_rate_limit_burst,
            ),
            (
                "failed_auth",
                self.failed_auth_per_minute,
                self.failed_auth_burst,
            ),
        ] {
            if per > 0 && burst == 0 {
                bail!("{name}_burst must be at least 1 when a rate is set");
            }
        }
        if !(100..=60_000).contains(&self.database_timeout_ms) {
            bail!("database_timeout_ms must be between 100 and 60000");
        }
        if self.max_connections == 0 {
            bail!("max_connections must be at least 1");
        }
        self.session_lifetimes()?;
        if edufed_notify::TlsMode::parse(&self.smtp_tls).is_none() {
            bail!("smtp_tls must be starttls, tls or none");
        }
        if self.smtp_host.is_some() && self.mail_from.is_none() {
            bail!("smtp_host needs mail_from: the address notifications come from");
        }
        if self.notify_give_up_hours == 0 || self.notify_give_up_hours > 30 * 24 {
            bail!("notify_give_up_hours must be between 1 and 720");
        }
        if self.notify_lease_secs < 1 || self.notify_lease_secs > 3600 {
            bail!("notify_lease_secs must be between 1 and 3600");
        }
        if self.reminder_days.iter().any(|d| *d == 0 || *d > 60) {
            bail!("reminder_days must each be between 1 and 60");
        }
        if self
            .agreement_expiring_days
            .iter()
            .any(|d| *d == 0 || *d > 366)
        {
            bail!("agreement_expiring_days must each be between 1 and 366");
        }
        let mut names = std::collections::BTreeSet::new();
        for issuer in &self.oidc {
            issuer.validate()?;
            if !names.insert(issuer.name.as_str()) {
                bail!("oidc: two issuers are named {:?}", issuer.name);
            }
        }
        Ok(())
    }

    /// The mail server's settings, with the password read from
    /// `smtp_password_file` or `EDUFED_SMTP_PASSWORD`; `None` without
    /// `smtp_host`.
    pub fn smtp(&self) -> anyhow::Result<Option<edufed_notify::SmtpSettings>> {
        let Some(host) = &self.smtp_host else {
            return Ok(None);
        };
        let password = match &self.smtp_password_file {
            Some(path) => Some(
                std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read smtp_password_file {}", path.display()))?
                    .trim_end_matches(['\r', '\n'])
                    .to_owned(),
            ),
            None => std::env::var("EDUFED_SMTP_PASSWORD").ok(),
        };
        Ok(Some(edufed_notify::SmtpSettings {
            host: host.clone(),
            port: self.smtp_port,
            tls: edufed_notify::TlsMode::parse(&self.smtp_tls)
                .context("smtp_tls must be starttls, tls or none")?,
            username: self.smtp_username.clone(),
            password,
            from: self.mail_from.clone().unwrap_or_default(),
            reply_to: self.mail_reply_to.clone(),
            timeout: std::time::Duration::from_secs(30),
        }))
    }

    /// How long console sessions last.
    pub fn session_lifetimes(&self) -> anyhow::Result<edufed_domain::session::Lifetimes> {
        const YEAR_HOURS: u64 = 366 * 24;
        if self.session_max_age_hours == 0 || self.session_max_age_hours > YEAR_HOURS {
            bail!("session_max_age_hours must be between 1 and {YEAR_HOURS}");
        }
        if self.session_idle_minutes < 5
            || self.session_idle_minutes > self.session_max_age_hours * 60
        {
            bail!("session_idle_minutes must be at least 5 and at most session_max_age_hours × 60");
        }
        // Both are bounded above, so they fit.
        let minutes = |m: u64| chrono::Duration::minutes(m as i64);
        edufed_domain::session::Lifetimes::new(
            minutes(self.session_idle_minutes),
            minutes(self.session_max_age_hours * 60),
        )
        .map_err(|e| anyhow::anyhow!("{e}"))
    }

    /// The database URL: the configured one, or SQLite in the data directory.
    pub fn database_url(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", self.data_dir.join("edufed.db").display()),
        }
    }

    /// The rates the node enforces.
    pub(crate) fn rate_settings(&self) -> crate::limits::RateSettings {
        use crate::limits::Rate;
        crate::limits::RateSettings {
            credential: Rate {
                per_second: self.rate_limit_per_second,
                burst: self.rate_limit_burst,
            },
            peer: Rate {
                per_second: self.peer_rate_limit_per_second,
                burst: self.peer_rate_limit_burst,
            },
            address: Rate {
                per_second: self.anonymous_rate_limit_per_second,
                burst: self.anonymous_rate_limit_burst,
            },
            failed_auth_per_minute: self.failed_auth_per_minute,
            failed_auth_burst: self.failed_auth_burst,
        }
    }

    /// The database URL without its password, for people to read.
    pub fn database_display(&self) -> String {
        edufed_store::redact_url(&self.database_url())
    }
}

#[cfg(test)]
mod tests {

    #[test]
    fn an_issuer_in_the_clear_must_be_this_machine() {
        let issuer = |url: &str| OidcIssuer {
            name: "region".into(),
            label: "Госуслуги".into(),
            issuer: url.into(),
            client_id: "edufed".into(),
            client_secret_file: None,
        };
        assert!(
            issuer("https://id.region.example/realms/schools")
                .validate()
                .is_ok()
        );
        assert!(issuer("http://127.0.0.1:8080").validate().is_ok());
        assert!(issuer("http://localhost:8080/realms/x").validate().is_ok());
        for bad in [
            "http://localhost.evil.example",
            "http://127.0.0.1.evil.example",
            "ftp://x",
        ] {
            assert!(issuer(bad).validate().is_err(), "{bad}");
        }
        let mut named = issuer("https://id.example");
        named.name = "Region!".into();
        assert!(named.validate().is_err());
    }

    use super::*;

    #[test]
    fn defaults_need_no_configuration() {
        let settings = Settings::default();
        settings.validate().unwrap();
        assert_eq!(settings.listen.to_string(), "127.0.0.1:50051");
        assert_eq!(settings.database_url(), "sqlite://edufed-data/edufed.db");
    }

    #[test]
    #[allow(
        clippy::result_large_err,
        reason = "figment's Jail fixes the closure's error type"
    )]
    fn layers_apply_in_order() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "edufed.toml",
                "listen = \"127.0.0.1:6000\"\ndata_dir = \"/from/file\"\nrequest_timeout_secs = 5\n",
            )?;
            jail.set_env("EDUFED_DATA_DIR", "/from/env");
            jail.set_env("EDUFED_DATABASE_URL", "postgres://env@localhost/db");
            let flags = Overrides {
                database_url: Some("postgres://flag@localhost/db".into()),
                ..Default::default()
            };
            let s = Settings::load(Some(Path::new("edufed.toml")), &flags).unwrap();
            assert_eq!(s.listen.port(), 6000);
            assert_eq!(s.request_timeout_secs, 5);
            assert_eq!(s.data_dir, PathBuf::from("/from/env"));
            assert_eq!(
                s.database_url.as_deref(),
                Some("postgres://flag@localhost/db")
            );
            Ok(())
        });
    }

    #[test]
    fn plaintext_off_loopback_needs_insecure() {
        let mut settings = Settings {
            listen: "0.0.0.0:50051".parse().unwrap(),
            ..Default::default()
        };
        assert!(
            settings
                .validate()
                .unwrap_err()
                .to_string()
                .contains("--insecure")
        );
        settings.insecure = true;
        settings.validate().unwrap();
        let half_tls = Settings {
            tls_cert: Some("cert.pem".into()),
            ..Default::default()
        };
        assert!(half_tls.validate().is_err());
    }

    #[test]
    fn the_shipped_example_holds_the_defaults() {
        let example = Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../deploy/edufed.toml"
        ));
        let text = std::fs::read_to_string(example).unwrap();
        let from_file: Settings = toml::from_str(&text).unwrap();
        assert_eq!(from_file, Settings::default());
    }

    #[test]
    fn missing_config_file_is_an_error() {
        let err = Settings::load(
            Some(Path::new("/nonexistent/edufed.toml")),
            &Overrides::default(),
        )
        .unwrap_err();
        assert!(err.to_string().contains("does not exist"));
    }
}
