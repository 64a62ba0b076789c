//! Who is calling: bearer tokens resolved to a [`Principal`].
//!
//! The server's HTTP layer calls [`authenticate`] once per request and puts
//! the principal in the request's extensions; handlers ask for it with
//! [`principal`] when the call needs a token.

use edufed_domain::directory::TokenSecret;
use edufed_domain::policy::Principal;
use edufed_domain::session::PresentedSession;
use edufed_domain::{ErrorCode, ServiceError};
use edufed_store::Store;
use http::HeaderMap;
use tonic::Status;

use crate::status::to_status;

/// Why a caller could not be identified.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Unauthenticated(String);

impl ServiceError for Unauthenticated {
    fn error_code(&self) -> ErrorCode {
        ErrorCode::Unauthenticated
    }
}

fn refuse(why: impl Into<String>) -> Status {
    to_status(&Unauthenticated(why.into()))
}

/// Resolves the `authorization: Bearer <token>` header, or basic
/// credentials whose password is the token (what a browser's login prompt
/// sends). No header is
/// anonymous (`Ok(None)`); a malformed, unknown, revoked or expired token is
/// UNAUTHENTICATED, even on calls that need none.
pub async fn authenticate(store: &Store, headers: &HeaderMap) -> Result<Option<Principal>, Status> {
    let Some(value) = headers.get(http::header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| refuse("the authorization header is not text"))?;
    let basic: String;
    let secret = match value.split_once(' ') {
        Some((scheme, secret))
            if scheme.eq_ignore_ascii_case("bearer") && !secret.trim().is_empty() =>
        {
            secret
        }
        // A browser's login prompt sends the token as the password.
        Some((scheme, encoded)) if scheme.eq_ignore_ascii_case("basic") => {
            basic = basic_password(encoded.trim())
                .ok_or_else(|| refuse("the basic credentials must be base64 of \"name:token\""))?;
            basic.as_str()
        }
        _ => {
            return Err(refuse(
                "the authorization header must be \"Bearer <token>\"",
            ));
        }
    };
    store
        .authenticate(&TokenSecret::presented(secret))
        .await
        .map(Some)
        .map_err(|e| to_status(&e))
}

/// Resolves a console session's secret to the caller, or UNAUTHENTICATED
/// saying why (ended, expired, unknown).
pub async fn authenticate_session(
    store: &Store,
    secret: &PresentedSession,
) -> Result<Principal, Status> {
    store
        .authenticate_session(&TokenSecret::presented(&secret.0))
        .await
        .map_err(|e| to_status(&e))
}

/// The password of HTTP basic credentials (`name:password`, base64).
fn basic_password(encoded: &str) -> Option<String> {
    use base64::Engine as _;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let text = String::from_utf8(decoded).ok()?;
    let (_, password) = text.split_once(':')?;
    (!password.trim().is_empty()).then(|| password.trim().to_owned())
}

/// The caller of a call that needs a token.
pub fn principal<T>(request: &tonic::Request<T>) -> Result<Principal, Status> {
    request
        .extensions()
        .get::<Principal>()
        .cloned()
        .ok_or_else(|| refuse("this call needs a bearer token"))
}

/// A peer node calling as itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerCaller {
    /// Its node id.
    pub node_id: String,
    /// The organizations it hosts, as it last proved.
    pub organizations: Vec<edufed_domain::ids::OrgId>,
}

/// Resolves a peer's credential (`x-edufed-node` and `x-edufed-node-auth`):
/// a pinned peer's signature of "`from` calls `this_node` at `time`", with
/// `time` within [`AUTH_SKEW_SECS`] of `now`. No headers is `Ok(None)`;
/// anything else that does not check out is UNAUTHENTICATED, and logged.
///
/// [`AUTH_SKEW_SECS`]: edufed_domain::federation::AUTH_SKEW_SECS
pub async fn authenticate_peer(
    store: &Store,
    headers: &HeaderMap,
    this_node: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<PeerCaller>, Status> {
    use edufed_domain::federation::{AUTH_SKEW_SECS, Error, auth_statement};
    use edufed_federation::{NODE_AUTH_HEADER, NODE_HEADER};
    let Some(from) = headers.get(NODE_HEADER) else {
        return Ok(None);
    };
    let refuse = |why: String| {
        tracing::warn!(%why, "peer credential refused");
        refuse(why)
    };
    let from = from
        .to_str()
        .map_err(|_| refuse("the node header is not text".into()))?;
    let credential = headers
        .get(NODE_AUTH_HEADER)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| refuse(format!("{NODE_AUTH_HEADER} is missing")))?;
    let (time, signature) = credential
        .split_once('.')
        .and_then(|(t, s)| Some((t.parse::<i64>().ok()?, hex_signature(s)?)))
        .ok_or_else(|| {
            refuse(format!(
                "{NODE_AUTH_HEADER} must be <unix seconds>.<hex signature>"
            ))
        })?;
    if now.timestamp().abs_diff(time) > AUTH_SKEW_SECS.unsigned_abs() {
        return Err(refuse(format!(
            "the credential of node {} is dated {time}, too far from this node's clock",
            edufed_domain::text::excerpt(from)
        )));
    }
    let peer = match store.get_peer(from).await {
        Ok(peer) => peer,
        Err(Error::NotFound(_)) => {
            return Err(refuse(format!(
                "node {} is not a pinned peer of this node",
                edufed_domain::text::excerpt(from)
            )));
        }
        Err(other) => return Err(to_status(&other)),
    };
    let key = ed25519_dalek_key(&peer.descriptor.public_key)
        .ok_or_else(|| refuse("the pinned key is invalid".into()))?;
    if !edufed_federation::verify(
        &key,
        auth_statement(from, this_node, time).as_bytes(),
        &signature,
    ) {
        return Err(refuse(format!(
            "the credential of node {from} does not verify with its pinned key"
        )));
    }
    Ok(Some(PeerCaller {
        node_id: peer.descriptor.node_id,
        organizations: peer
            .descriptor
            .organizations
            .into_iter()
            .map(|o| o.id)
            .collect(),
    }))
}

fn hex_signature(raw: &str) -> Option<[u8; 64]> {
    hex::decode(raw).ok()?.try_into().ok()
}

fn ed25519_dalek_key(bytes: &[u8; 32]) -> Option<edufed_federation::PublicKey> {
    edufed_federation::PublicKey::from_bytes(bytes).ok()
}
