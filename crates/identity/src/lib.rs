//! Signing people in through their region's identity provider with
//! standard OpenID Connect: a node is a relying party of one or more
//! issuers (a regional broker in front of ЕСИА and VK ID, a university's
//! own), each found through its discovery document.

mod rp;

pub use rp::{
    Authorization, DevicePoll, DeviceStart, Failure, IssuerConfig, Issuers, Observer, Proven,
    SIGNED_OUT_PATH, callback_path,
};

use anyhow::Context as _;
use openidconnect::core::{
    CoreAuthDisplay, CoreClaimName, CoreClaimType, CoreClientAuthMethod, CoreGrantType,
    CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm,
    CoreResponseMode, CoreResponseType, CoreSubjectIdentifierType,
};
use openidconnect::{AdditionalProviderMetadata, IssuerUrl, ProviderMetadata};
use serde::{Deserialize, Serialize};

/// What discovery documents say beyond the core: the device flow, logout
/// and PKCE methods.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
pub struct Extra {
    #[serde(default)]
    pub(crate) device_authorization_endpoint: Option<String>,
    #[serde(default)]
    pub(crate) end_session_endpoint: Option<String>,
    #[serde(default)]
    code_challenge_methods_supported: Vec<String>,
}

impl AdditionalProviderMetadata for Extra {}

/// An issuer's discovery document, with [`Extra`].
pub type Metadata = ProviderMetadata<
    Extra,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// What an issuer's discovery document says a relying party needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Discovered {
    pub issuer: String,
    pub authorization_endpoint: String,
    pub token_endpoint: Option<String>,
    pub jwks_uri: String,
    /// How many signing keys it publishes.
    pub keys: usize,
    /// The device flow, for the command line's login.
    pub device_authorization_endpoint: Option<String>,
    /// RP-initiated logout.
    pub end_session_endpoint: Option<String>,
    /// Whether it takes PKCE with S256.
    pub pkce_s256: bool,
}

/// The HTTP client a relying party talks to issuers with: no redirects
/// followed (as the OpenID Connect crate requires), a bounded wait.
pub fn http_client() -> anyhow::Result<reqwest::Client> {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(15))
        .build()
        .context("cannot build the HTTP client")
}

/// Fetches and checks `issuer`'s discovery document (it must name the same
/// issuer) and its signing keys.
pub async fn discover(issuer: &str) -> anyhow::Result<Discovered> {
    let http = http_client()?;
    let url = IssuerUrl::new(issuer.trim_end_matches('/').to_owned())
        .with_context(|| format!("{issuer:?} is not an issuer URL"))?;
    let metadata = Metadata::discover_async(url, &http)
        .await
        .with_context(|| format!("cannot read the discovery document of {issuer}"))?;
    let extra = metadata.additional_metadata();
    Ok(Discovered {
        issuer: metadata.issuer().to_string(),
        authorization_endpoint: metadata.authorization_endpoint().to_string(),
        token_endpoint: metadata.token_endpoint().map(|u| u.to_string()),
        jwks_uri: metadata.jwks_uri().to_string(),
        keys: metadata.jwks().keys().len(),
        device_authorization_endpoint: extra.device_authorization_endpoint.clone(),
        end_session_endpoint: extra.end_session_endpoint.clone(),
        pkce_s256: extra
            .code_challenge_methods_supported
            .iter()
            .any(|m| m == "S256"),
    })
}
