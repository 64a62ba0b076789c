//! A connection to a node, with the caller's bearer token on every call.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context as _, bail};
use edufed_proto::v1::change_feed_client::ChangeFeedClient;
use edufed_proto::v1::directory_client::DirectoryClient;
use tonic::metadata::MetadataValue;
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint};

use crate::ClientArgs;

/// Adds `authorization: Bearer …` when there is a token.
#[derive(Clone)]
pub struct Bearer(Option<MetadataValue<tonic::metadata::Ascii>>);

impl Interceptor for Bearer {
    fn call(
        &mut self,
        mut request: tonic::Request<()>,
    ) -> Result<tonic::Request<()>, tonic::Status> {
        if let Some(value) = &self.0 {
            request
                .metadata_mut()
                .insert("authorization", value.clone());
        }
        Ok(request)
    }
}

/// A channel to the node and the caller's credentials.
pub struct Connection {
    channel: Channel,
    bearer: Bearer,
}

/// A client of one service, carrying the caller's token.
pub type Authed = InterceptedService<Channel, Bearer>;

impl Connection {
    /// Connects to `--server` with the caller's token (see [`token`]).
    pub async fn open(args: &ClientArgs) -> anyhow::Result<Self> {
        Self::connect_with(args, token(args)?).await
    }

    /// Connects to `--server` with no token.
    pub async fn anonymous(args: &ClientArgs) -> anyhow::Result<Self> {
        Self::connect_with(args, None).await
    }

    /// Connects to `--server` with `token`.
    pub async fn with_token(args: &ClientArgs, token: &str) -> anyhow::Result<Self> {
        Self::connect_with(args, Some(token.to_owned())).await
    }

    async fn connect_with(args: &ClientArgs, token: Option<String>) -> anyhow::Result<Self> {
        let bearer = match token {
            Some(token) => Some(
                format!("Bearer {token}")
                    .parse()
                    .context("the token holds characters a header cannot carry")?,
            ),
            None => None,
        };
        let mut endpoint = Endpoint::from_shared(args.server.clone())
            .with_context(|| format!("{:?} is not a URL", args.server))?
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(60));
        if args.server.starts_with("https://") {
            let mut tls = ClientTlsConfig::new().with_webpki_roots();
            if let Some(ca) = &args.ca_cert {
                let pem =
                    std::fs::read(ca).with_context(|| format!("cannot read {}", ca.display()))?;
                tls = tls.ca_certificate(Certificate::from_pem(pem));
            }
            endpoint = endpoint.tls_config(tls)?;
        }
        let channel = endpoint
            .connect()
            .await
            .with_context(|| format!("cannot connect to {}", args.server))?;
        Ok(Self {
            channel,
            bearer: Bearer(bearer),
        })
    }

    /// A plain-gRPC channel to `url` with `token`, connected on first use
    /// and again after the node restarts: what a long-running driver of
    /// several nodes (`edufed region`) keeps.
    pub fn lazy(url: &str, token: &str) -> anyhow::Result<Self> {
        let bearer = format!("Bearer {token}")
            .parse()
            .context("the token holds characters a header cannot carry")?;
        let channel = Endpoint::from_shared(url.to_owned())
            .with_context(|| format!("{url:?} is not a URL"))?
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(30))
            .connect_lazy();
        Ok(Self {
            channel,
            bearer: Bearer(Some(bearer)),
        })
    }

    // A client of each of the node's services, on the one channel, each call
    // carrying the caller's token.

    /// gRPC health, which needs no token.
    pub fn health(&self) -> tonic_health::pb::health_client::HealthClient<Channel> {
        tonic_health::pb::health_client::HealthClient::new(self.channel.clone())
    }

    pub fn directory(&self) -> DirectoryClient<Authed> {
        DirectoryClient::with_interceptor(self.channel.clone(), self.bearer.clone())
    }

    pub fn booking(&self) -> edufed_proto::v1::booking_client::BookingClient<Authed> {
        edufed_proto::v1::booking_client::BookingClient::with_interceptor(
            self.channel.clone(),
            self.bearer.clone(),
        )
    }

    pub fn calendar(&self) -> edufed_proto::v1::calendar_client::CalendarClient<Authed> {
        edufed_proto::v1::calendar_client::CalendarClient::with_interceptor(
            self.channel.clone(),
            self.bearer.clone(),
        )
    }

    pub fn change_feed(&self) -> ChangeFeedClient<Authed> {
        ChangeFeedClient::with_interceptor(self.channel.clone(), self.bearer.clone())
    }

    pub fn federation(&self) -> edufed_proto::v1::federation_client::FederationClient<Authed> {
        edufed_proto::v1::federation_client::FederationClient::with_interceptor(
            self.channel.clone(),
            self.bearer.clone(),
        )
    }

    pub fn agreements(&self) -> edufed_proto::v1::agreements_client::AgreementsClient<Authed> {
        edufed_proto::v1::agreements_client::AgreementsClient::with_interceptor(
            self.channel.clone(),
            self.bearer.clone(),
        )
    }

    pub fn trials(&self) -> edufed_proto::v1::trials_client::TrialsClient<Authed> {
        edufed_proto::v1::trials_client::TrialsClient::with_interceptor(
            self.channel.clone(),
            self.bearer.clone(),
        )
    }

    pub fn designations(
        &self,
    ) -> edufed_proto::v1::designations_client::DesignationsClient<Authed> {
        edufed_proto::v1::designations_client::DesignationsClient::with_interceptor(
            self.channel.clone(),
            self.bearer.clone(),
        )
    }

    pub fn privacy(&self) -> edufed_proto::v1::privacy_client::PrivacyClient<Authed> {
        edufed_proto::v1::privacy_client::PrivacyClient::with_interceptor(
            self.channel.clone(),
            self.bearer.clone(),
        )
    }

    pub fn audit(&self) -> edufed_proto::v1::audit_client::AuditClient<Authed> {
        edufed_proto::v1::audit_client::AuditClient::with_interceptor(
            self.channel.clone(),
            self.bearer.clone(),
        )
    }

    pub fn routes(&self) -> edufed_proto::v1::routes_client::RoutesClient<Authed> {
        edufed_proto::v1::routes_client::RoutesClient::with_interceptor(
            self.channel.clone(),
            self.bearer.clone(),
        )
    }

    pub fn mentoring(&self) -> edufed_proto::v1::mentoring_client::MentoringClient<Authed> {
        edufed_proto::v1::mentoring_client::MentoringClient::with_interceptor(
            self.channel.clone(),
            self.bearer.clone(),
        )
    }

    pub fn notifications(
        &self,
    ) -> edufed_proto::v1::notifications_client::NotificationsClient<Authed> {
        edufed_proto::v1::notifications_client::NotificationsClient::with_interceptor(
            self.channel.clone(),
            self.bearer.clone(),
        )
    }

    pub fn reports(&self) -> edufed_proto::v1::reports_client::ReportsClient<Authed> {
        edufed_proto::v1::reports_client::ReportsClient::with_interceptor(
            self.channel.clone(),
            self.bearer.clone(),
        )
    }

    /// `GET path` over the node's channel (HTTP/2, TLS as for calls), with
    /// the bearer token; the body of a 200 answer, else the body as the error.
    pub async fn get_page(&self, path: &str) -> anyhow::Result<Vec<u8>> {
        use tonic::codegen::{Body as _, Service as _};
        let mut request = http::Request::builder().method(http::Method::GET).uri(path);
        if let Some(value) = &self.bearer.0 {
            request = request.header(http::header::AUTHORIZATION, value.to_str()?);
        }
        let request = request.body(tonic::body::Body::empty())?;
        let mut channel = self.channel.clone();
        std::future::poll_fn(|cx| channel.poll_ready(cx)).await?;
        let response = channel
            .call(request)
            .await
            .with_context(|| format!("cannot fetch {path}"))?;
        let status = response.status();
        let mut body = std::pin::pin!(response.into_body());
        let mut bytes = Vec::new();
        while let Some(frame) = std::future::poll_fn(|cx| body.as_mut().poll_frame(cx)).await {
            if let Ok(data) = frame?.into_data() {
                bytes.extend_from_slice(&data);
            }
        }
        if status != http::StatusCode::OK {
            let text = String::from_utf8_lossy(&bytes);
            bail!("{} ({status})", text.trim());
        }
        Ok(bytes)
    }
}

/// Whether the URL names this machine (where the local operator token may go).
pub(crate) fn is_loopback(server: &str) -> bool {
    let Ok(uri) = server.parse::<http::Uri>() else {
        return false;
    };
    match uri.host() {
        Some("localhost") => true,
        Some(host) => host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback()),
        None => false,
    }
}

/// The token to use: `--token`, else `--token-file`, else the one `edufed
/// login` kept for this node, else, for a node on this machine, the
/// operator token of the local data directory.
fn token(args: &ClientArgs) -> anyhow::Result<Option<String>> {
    if let Some(token) = &args.token {
        return Ok(Some(token.trim().to_owned()));
    }
    if args.token_file.is_none()
        && let Some(token) = crate::login::stored_token(&args.server)
    {
        return Ok(Some(token));
    }
    let (path, explicit) = match &args.token_file {
        Some(path) => (path.clone(), true),
        // The operator token never expires: never send it off this machine unasked.
        None if !is_loopback(&args.server) => return Ok(None),
        None => {
            let data_dir = std::env::var_os("EDUFED_DATA_DIR")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from("edufed-data"));
            (data_dir.join(edufed_server::OPERATOR_TOKEN_FILE), false)
        }
    };
    match std::fs::read_to_string(&path) {
        Ok(token) if !token.trim().is_empty() => Ok(Some(token.trim().to_owned())),
        Ok(_) if explicit => bail!("the token file {} is empty", path.display()),
        Err(error) if explicit => {
            Err(error).with_context(|| format!("cannot read the token file {}", path.display()))
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::is_loopback;

    #[test]
    fn only_loopback_servers_get_the_local_operator_token() {
        assert!(is_loopback("http://127.0.0.1:50051"));
        assert!(is_loopback("https://localhost:50051"));
        assert!(is_loopback("http://[::1]:50051"));
        assert!(!is_loopback("http://hub.example.org:50051"));
        assert!(!is_loopback("http://10.0.0.5:50051"));
    }
}
