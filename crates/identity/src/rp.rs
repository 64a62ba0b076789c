//! The node as a relying party of its issuers: the authorization code flow
//! with PKCE, `state` and `nonce`; the ID token's signature and claims
//! checked; the keys cached and fetched again when a token names one the
//! cache lacks (a key rotation); the device flow for the command line; and
//! RP-initiated logout.
//!
//! Nothing here stores anything: the caller keeps the `state`, `nonce` and
//! PKCE verifier of a started sign-in and hands them back to finish it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreGenderClaim, CoreIdToken, CoreIdTokenClaims,
    CoreIdTokenVerifier, CoreJsonWebKeySet,
};
use openidconnect::{
    AccessToken, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EmptyAdditionalClaims,
    IssuerUrl, Nonce, OAuth2TokenResponse as _, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl,
    Scope, SignatureVerificationError, TokenResponse as _, UserInfoClaims,
};
use openidconnect::{ClaimsVerificationError, JsonWebKeySetUrl};

use crate::Metadata;

/// How long a discovery document is trusted before it is read again.
const DISCOVERY_TTL: Duration = Duration::from_secs(3600);
/// The least time between two fetches of an issuer's keys.
const KEYS_REFETCH: Duration = Duration::from_secs(1);

/// One issuer as the node's configuration names it.
#[derive(Clone)]
pub struct IssuerConfig {
    /// Short and stable: `region`.
    pub name: String,
    /// The sign-in button's words.
    pub label: String,
    /// The issuer URL.
    pub issuer: String,
    pub client_id: String,
    /// Never logged.
    pub client_secret: Option<String>,
}

impl std::fmt::Debug for IssuerConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuerConfig")
            .field("name", &self.name)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .finish_non_exhaustive()
    }
}

/// Why a sign-in through an issuer failed; [`Failure::reason`] is its
/// label in the node's metrics.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Failure {
    #[error("no issuer is named {0} on this node")]
    UnknownIssuer(String),
    /// The issuer could not be reached or said something unreadable.
    #[error("the identity provider cannot be reached: {0}")]
    Unreachable(String),
    /// The issuer refused to exchange the code.
    #[error("the identity provider refused the sign-in: {0}")]
    Exchange(String),
    #[error("the ID token's signature is not the identity provider's")]
    Signature,
    #[error("the ID token was issued to another client")]
    Audience,
    #[error("the ID token has expired")]
    Expired,
    #[error("the ID token was not issued for this sign-in (nonce)")]
    Nonce,
    #[error("the ID token names another issuer")]
    Issuer,
    /// Any other claim that does not hold.
    #[error("the ID token is not acceptable: {0}")]
    Claims(String),
    /// The person refused, or the device code lapsed.
    #[error("the sign-in on the other device was refused or has lapsed")]
    DeviceRefused,
    /// The issuer does not offer what was asked (the device flow).
    #[error("the identity provider does not offer {0}")]
    Unsupported(&'static str),
}

impl Failure {
    /// The failure's label in metrics and logs.
    pub fn reason(&self) -> &'static str {
        match self {
            Failure::UnknownIssuer(_) => "unknown_issuer",
            Failure::Unreachable(_) => "unreachable",
            Failure::Exchange(_) => "exchange",
            Failure::Signature => "signature",
            Failure::Audience => "audience",
            Failure::Expired => "expired",
            Failure::Nonce => "nonce",
            Failure::Issuer => "issuer",
            Failure::Claims(_) => "claims",
            Failure::DeviceRefused => "device_refused",
            Failure::Unsupported(_) => "unsupported",
        }
    }
}

/// A started sign-in: where to send the browser, and what to keep until it
/// comes back.
#[derive(Debug, Clone)]
pub struct Authorization {
    pub url: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
}

/// Who the issuer says signed in, from a checked ID token (and its user
/// info endpoint when the token carries no e-mail).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proven {
    /// The issuer's name on this node.
    pub issuer: String,
    pub subject: String,
    pub email: Option<String>,
    /// Only `true` when the issuer says so.
    pub email_verified: bool,
    pub name: Option<String>,
}

/// A started device sign-in: what to show the person.
#[derive(Debug, Clone)]
pub struct DeviceStart {
    pub device_code: String,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: Option<String>,
    pub expires_in: Duration,
    pub interval: Duration,
}

/// A poll of a device sign-in.
#[derive(Debug, Clone)]
pub enum DevicePoll {
    /// Not yet; `slow_down` asks for a longer interval.
    Pending {
        slow_down: bool,
    },
    Done(Proven),
}

struct Cached {
    metadata: Metadata,
    read_at: Instant,
    keys_read_at: Instant,
}

struct Issuer {
    config: IssuerConfig,
    cache: tokio::sync::Mutex<Option<Cached>>,
}

/// The issuers a node signs people in through.
#[derive(Clone)]
pub struct Issuers {
    issuers: Arc<Vec<Issuer>>,
    /// The node's public URL, without a trailing slash.
    base: String,
    signed_out_uri: String,
    http: reqwest::Client,
    observer: Option<Observer>,
}

/// Told each sign-in's issuer and outcome (`ok` or a failure's reason).
pub type Observer = Arc<dyn Fn(&str, &str) + Send + Sync>;

impl std::fmt::Debug for Issuers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Issuers")
            .field("base", &self.base)
            .finish_non_exhaustive()
    }
}

/// The path an issuer named `name` sends browsers back to: each issuer
/// its own, so that an answer cannot be passed off as another issuer's
/// (a mix-up).
pub fn callback_path(name: &str) -> String {
    format!("/sign-in/oidc/{name}/callback")
}
/// The path issuers send browsers to after signing out there.
pub const SIGNED_OUT_PATH: &str = "/signed-out";

impl Issuers {
    /// The issuers of a node reached at `public_url`.
    pub fn new(configs: Vec<IssuerConfig>, public_url: &str) -> anyhow::Result<Self> {
        let base = public_url.trim_end_matches('/');
        Ok(Self {
            issuers: Arc::new(
                configs
                    .into_iter()
                    .map(|config| Issuer {
                        config,
                        cache: tokio::sync::Mutex::new(None),
                    })
                    .collect(),
            ),
            base: base.to_owned(),
            signed_out_uri: format!("{base}{SIGNED_OUT_PATH}"),
            http: crate::http_client()?,
            observer: None,
        })
    }

    /// The same issuers, telling `observer` of each sign-in's outcome.
    pub fn observed_by(mut self, observer: Observer) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Records a sign-in's outcome through `issuer`: `ok`, or why it
    /// failed.
    pub fn record(&self, issuer: &str, outcome: &str) {
        let issuer = if self.knows(issuer) {
            issuer
        } else {
            "unknown"
        };
        if let Some(observer) = &self.observer {
            observer(issuer, outcome);
        }
    }

    /// The label of the issuer `name`.
    pub fn label(&self, name: &str) -> Option<&str> {
        self.issuers
            .iter()
            .find(|i| i.config.name == name)
            .map(|i| i.config.label.as_str())
    }

    /// The redirect URI to register at the issuer `name`.
    pub fn redirect_uri(&self, name: &str) -> String {
        format!("{}{}", self.base, callback_path(name))
    }

    /// The issuer URL of `name`, as configured (no trailing slash).
    pub fn issuer_url(&self, name: &str) -> Option<&str> {
        self.issuers
            .iter()
            .find(|i| i.config.name == name)
            .map(|i| i.config.issuer.trim_end_matches('/'))
    }

    /// The post-logout redirect URI to register at each issuer.
    pub fn signed_out_uri(&self) -> &str {
        &self.signed_out_uri
    }

    /// Each issuer's name and label, in the configuration's order.
    pub fn list(&self) -> Vec<(String, String)> {
        self.issuers
            .iter()
            .map(|i| (i.config.name.clone(), i.config.label.clone()))
            .collect()
    }

    /// Whether an issuer of this name is configured.
    pub fn knows(&self, name: &str) -> bool {
        self.issuers.iter().any(|i| i.config.name == name)
    }

    fn issuer(&self, name: &str) -> Result<&Issuer, Failure> {
        self.issuers
            .iter()
            .find(|i| i.config.name == name)
            .ok_or_else(|| Failure::UnknownIssuer(name.to_owned()))
    }

    /// The issuer's discovery document, read again after an hour.
    async fn metadata(&self, issuer: &Issuer) -> Result<Metadata, Failure> {
        let mut cache = issuer.cache.lock().await;
        if let Some(cached) = cache.as_ref()
            && cached.read_at.elapsed() < DISCOVERY_TTL
        {
            return Ok(cached.metadata.clone());
        }
        let url = IssuerUrl::new(issuer.config.issuer.trim_end_matches('/').to_owned())
            .map_err(|e| Failure::Unreachable(e.to_string()))?;
        let metadata = Metadata::discover_async(url, &self.http)
            .await
            .map_err(|e| Failure::Unreachable(error_chain(&e)))?;
        let now = Instant::now();
        *cache = Some(Cached {
            metadata: metadata.clone(),
            read_at: now,
            keys_read_at: now,
        });
        Ok(metadata)
    }

    /// The issuer's keys read again (a token named a key the cache
    /// lacks), unless they were read a moment ago.
    async fn refetch_keys(&self, issuer: &Issuer) -> Result<Option<Metadata>, Failure> {
        let mut cache = issuer.cache.lock().await;
        let Some(cached) = cache.as_mut() else {
            return Ok(None);
        };
        if cached.keys_read_at.elapsed() < KEYS_REFETCH {
            return Ok(None);
        }
        let url: &JsonWebKeySetUrl = cached.metadata.jwks_uri();
        let keys = CoreJsonWebKeySet::fetch_async(url, &self.http)
            .await
            .map_err(|e| Failure::Unreachable(error_chain(&e)))?;
        tracing::info!(issuer = %issuer.config.name, keys = keys.keys().len(), "identity provider's keys read again");
        cached.metadata = cached.metadata.clone().set_jwks(keys);
        cached.keys_read_at = Instant::now();
        Ok(Some(cached.metadata.clone()))
    }

    fn client(
        &self,
        issuer: &Issuer,
        metadata: Metadata,
    ) -> Result<
        CoreClient<
            openidconnect::EndpointSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointNotSet,
            openidconnect::EndpointMaybeSet,
            openidconnect::EndpointMaybeSet,
        >,
        Failure,
    > {
        let redirect = RedirectUrl::new(self.redirect_uri(&issuer.config.name))
            .map_err(|e| Failure::Claims(format!("redirect URI: {e}")))?;
        Ok(CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(issuer.config.client_id.clone()),
            issuer.config.client_secret.clone().map(ClientSecret::new),
        )
        .set_redirect_uri(redirect))
    }

    /// Starts a sign-in through `name`: the URL to send the browser to,
    /// with a fresh state, nonce and PKCE challenge.
    pub async fn authorize(&self, name: &str) -> Result<Authorization, Failure> {
        let issuer = self.issuer(name)?;
        let metadata = self.metadata(issuer).await?;
        let client = self.client(issuer, metadata)?;
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (url, state, nonce) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("email".to_owned()))
            .add_scope(Scope::new("profile".to_owned()))
            .set_pkce_challenge(challenge)
            .url();
        Ok(Authorization {
            url: url.to_string(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
        })
    }

    /// Finishes a sign-in through `name`: exchanges the code (with the PKCE
    /// verifier), checks the ID token against `nonce`, and says who signed
    /// in.
    pub async fn finish(
        &self,
        name: &str,
        code: &str,
        pkce_verifier: &str,
        nonce: &str,
    ) -> Result<Proven, Failure> {
        let issuer = self.issuer(name)?;
        let metadata = self.metadata(issuer).await?;
        let client = self.client(issuer, metadata.clone())?;
        let response = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|_| Failure::Unsupported("a token endpoint"))?
            .set_pkce_verifier(PkceCodeVerifier::new(pkce_verifier.to_owned()))
            .request_async(&self.http)
            .await
            .map_err(|e| Failure::Exchange(error_chain(&e)))?;
        let token = response
            .id_token()
            .ok_or_else(|| Failure::Claims("the token response has no ID token".into()))?
            .clone();
        let nonce = Nonce::new(nonce.to_owned());
        let claims = self
            .verified(issuer, metadata, &token, |n| {
                if n.is_some_and(|n| n.secret() == nonce.secret()) {
                    Ok(())
                } else {
                    Err("nonce does not match".to_owned())
                }
            })
            .await?;
        self.proven(issuer, &claims, Some(response.access_token()))
            .await
    }

    /// The ID token's claims once its signature (with the keys read again
    /// if it names one the cache lacks) and claims hold.
    async fn verified(
        &self,
        issuer: &Issuer,
        metadata: Metadata,
        token: &CoreIdToken,
        nonce: impl Fn(Option<&Nonce>) -> Result<(), String> + Clone,
    ) -> Result<CoreIdTokenClaims, Failure> {
        let check = |metadata: &Metadata| {
            let verifier = self.verifier(issuer, metadata);
            token.claims(&verifier, nonce.clone()).cloned()
        };
        match check(&metadata) {
            Ok(claims) => Ok(claims),
            Err(ClaimsVerificationError::SignatureVerification(
                SignatureVerificationError::NoMatchingKey,
            )) => match self.refetch_keys(issuer).await? {
                Some(fresh) => check(&fresh).map_err(classify),
                None => Err(Failure::Signature),
            },
            Err(error) => Err(classify(error)),
        }
    }

    fn verifier<'a>(&self, issuer: &Issuer, metadata: &Metadata) -> CoreIdTokenVerifier<'a> {
        let client_id = ClientId::new(issuer.config.client_id.clone());
        let issuer_url = metadata.issuer().clone();
        let keys = metadata.jwks().clone();
        match &issuer.config.client_secret {
            Some(secret) => CoreIdTokenVerifier::new_confidential_client(
                client_id,
                ClientSecret::new(secret.clone()),
                issuer_url,
                keys,
            ),
            None => CoreIdTokenVerifier::new_public_client(client_id, issuer_url, keys),
        }
    }

    /// Who the claims name; the e-mail from the user info endpoint when the
    /// ID token carries none (as providers that keep ID tokens small do).
    async fn proven(
        &self,
        issuer: &Issuer,
        claims: &CoreIdTokenClaims,
        access_token: Option<&AccessToken>,
    ) -> Result<Proven, Failure> {
        let mut proven = Proven {
            issuer: issuer.config.name.clone(),
            subject: claims.subject().as_str().to_owned(),
            email: claims.email().map(|e| e.as_str().to_owned()),
            email_verified: claims.email_verified().unwrap_or(false),
            name: claims
                .name()
                .and_then(|n| n.get(None))
                .map(|n| n.as_str().to_owned()),
        };
        if proven.email.is_none()
            && let Some(access_token) = access_token
        {
            let metadata = self.metadata(issuer).await?;
            let client = self.client(issuer, metadata)?;
            if let Ok(request) =
                client.user_info(access_token.clone(), Some(claims.subject().clone()))
            {
                let info: UserInfoClaims<EmptyAdditionalClaims, CoreGenderClaim> = request
                    .request_async(&self.http)
                    .await
                    .map_err(|e| Failure::Unreachable(error_chain(&e)))?;
                proven.email = info.email().map(|e| e.as_str().to_owned());
                proven.email_verified = info.email_verified().unwrap_or(false);
                if proven.name.is_none() {
                    proven.name = info
                        .name()
                        .and_then(|n| n.get(None))
                        .map(|n| n.as_str().to_owned());
                }
            }
        }
        Ok(proven)
    }

    /// Starts a device sign-in through `name` (for the command line).
    pub async fn device_start(&self, name: &str) -> Result<DeviceStart, Failure> {
        let issuer = self.issuer(name)?;
        let metadata = self.metadata(issuer).await?;
        let endpoint = metadata
            .additional_metadata()
            .device_authorization_endpoint
            .clone()
            .ok_or(Failure::Unsupported("the device flow"))?;
        let body: serde_json::Value = self
            .token_request(issuer, &endpoint, &[("scope", "openid email profile")])
            .await?
            .map_err(|(status, body)| Failure::Exchange(format!("{status}: {body}")))?;
        let text = |key: &str| body.get(key).and_then(|v| v.as_str()).map(str::to_owned);
        let seconds =
            |key: &str, default: u64| body.get(key).and_then(|v| v.as_u64()).unwrap_or(default);
        Ok(DeviceStart {
            device_code: text("device_code")
                .ok_or_else(|| Failure::Claims("no device_code".into()))?,
            user_code: text("user_code").ok_or_else(|| Failure::Claims("no user_code".into()))?,
            verification_uri: text("verification_uri")
                .ok_or_else(|| Failure::Claims("no verification_uri".into()))?,
            verification_uri_complete: text("verification_uri_complete"),
            expires_in: Duration::from_secs(seconds("expires_in", 600)),
            interval: Duration::from_secs(seconds("interval", 5)),
        })
    }

    /// Asks `name` once whether the device sign-in of `device_code` is
    /// done, and if so checks its ID token.
    pub async fn device_poll(&self, name: &str, device_code: &str) -> Result<DevicePoll, Failure> {
        let issuer = self.issuer(name)?;
        let metadata = self.metadata(issuer).await?;
        let endpoint = metadata
            .token_endpoint()
            .ok_or(Failure::Unsupported("a token endpoint"))?
            .to_string();
        let answer = self
            .token_request(
                issuer,
                &endpoint,
                &[
                    ("grant_type", "urn:ietf:params:oauth:grant-type:device_code"),
                    ("device_code", device_code),
                ],
            )
            .await?;
        let body = match answer {
            Ok(body) => body,
            Err((_, body)) => {
                return match body.get("error").and_then(|e| e.as_str()) {
                    Some("authorization_pending") => Ok(DevicePoll::Pending { slow_down: false }),
                    Some("slow_down") => Ok(DevicePoll::Pending { slow_down: true }),
                    Some("access_denied" | "expired_token") => Err(Failure::DeviceRefused),
                    _ => Err(Failure::Exchange(body.to_string())),
                };
            }
        };
        let raw = body
            .get("id_token")
            .and_then(|t| t.as_str())
            .ok_or_else(|| Failure::Claims("the token response has no ID token".into()))?;
        let token: CoreIdToken = raw
            .parse()
            .map_err(|e: serde_json::Error| Failure::Claims(e.to_string()))?;
        // The device flow carries no nonce: the device code, which only
        // this node holds, ties the token to this sign-in.
        let claims = self.verified(issuer, metadata, &token, |_| Ok(())).await?;
        let access = body
            .get("access_token")
            .and_then(|t| t.as_str())
            .map(|t| AccessToken::new(t.to_owned()));
        Ok(DevicePoll::Done(
            self.proven(issuer, &claims, access.as_ref()).await?,
        ))
    }

    /// A form POST to the issuer authenticated as this client: the JSON
    /// answer, or the status and JSON of a refusal.
    async fn token_request(
        &self,
        issuer: &Issuer,
        endpoint: &str,
        form: &[(&str, &str)],
    ) -> Result<Result<serde_json::Value, (u16, serde_json::Value)>, Failure> {
        let mut fields: Vec<(&str, &str)> = form.to_vec();
        fields.push(("client_id", &issuer.config.client_id));
        let mut request = self.http.post(endpoint).form(&fields);
        if let Some(secret) = &issuer.config.client_secret {
            request = request.basic_auth(
                form_encode(&issuer.config.client_id),
                Some(form_encode(secret)),
            );
        }
        let response = request
            .send()
            .await
            .map_err(|e| Failure::Unreachable(error_chain(&e)))?;
        let status = response.status();
        let bytes = response
            .bytes()
            .await
            .map_err(|e| Failure::Unreachable(error_chain(&e)))?;
        let body: serde_json::Value = serde_json::from_slice(&bytes)
            .map_err(|e| Failure::Unreachable(format!("an answer that is not JSON: {e}")))?;
        Ok(if status.is_success() {
            Ok(body)
        } else {
            Err((status.as_u16(), body))
        })
    }

    /// Where to send a browser to sign out at `name` too, when it offers
    /// RP-initiated logout.
    pub async fn logout_url(&self, name: &str) -> Option<String> {
        let issuer = self.issuer(name).ok()?;
        let metadata = self.metadata(issuer).await.ok()?;
        let endpoint = metadata
            .additional_metadata()
            .end_session_endpoint
            .clone()?;
        let mut url = reqwest::Url::parse(&endpoint).ok()?;
        url.query_pairs_mut()
            .append_pair("client_id", &issuer.config.client_id)
            .append_pair("post_logout_redirect_uri", &self.signed_out_uri);
        Some(url.to_string())
    }
}

/// A claims failure as a [`Failure`].
fn classify(error: ClaimsVerificationError) -> Failure {
    match error {
        ClaimsVerificationError::Expired(_) => Failure::Expired,
        ClaimsVerificationError::InvalidAudience(_) => Failure::Audience,
        ClaimsVerificationError::InvalidIssuer(_) => Failure::Issuer,
        ClaimsVerificationError::InvalidNonce(_) => Failure::Nonce,
        ClaimsVerificationError::SignatureVerification(_) => Failure::Signature,
        other => Failure::Claims(other.to_string()),
    }
}

/// A client id or secret as HTTP Basic authentication carries it at a
/// token endpoint (RFC 6749 §2.3.1: form-encoded first).
fn form_encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// An error with its causes, on one line.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
