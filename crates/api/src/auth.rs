//! Who is calling: bearer tokens resolved to a [`Principal`].
//!
//! The server's HTTP layer calls [`authenticate`] once per request and puts
//! the principal in the request's extensions; handlers ask for it with
//! [`principal`] when the call needs a token.

use edufed_domain::directory::TokenSecret;
use edufed_domain::policy::Principal;
use edufed_store::Store;
use http::HeaderMap;
use tonic::Status;

use crate::status::to_status;

/// Resolves the `authorization: Bearer <token>` header. No header is
/// anonymous (`Ok(None)`); a malformed, unknown, revoked or expired token is
/// UNAUTHENTICATED, even on calls that need none.
pub async fn authenticate(store: &Store, headers: &HeaderMap) -> Result<Option<Principal>, Status> {
    let Some(value) = headers.get(http::header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| Status::unauthenticated("the authorization header is not text"))?;
    let secret = match value.split_once(' ') {
        Some((scheme, secret))
            if scheme.eq_ignore_ascii_case("bearer") && !secret.trim().is_empty() =>
        {
            secret
        }
        _ => {
            return Err(Status::unauthenticated(
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

/// The caller of a call that needs a token.
pub fn principal<T>(request: &tonic::Request<T>) -> Result<Principal, Status> {
    request
        .extensions()
        .get::<Principal>()
        .cloned()
        .ok_or_else(|| Status::unauthenticated("this call needs a bearer token"))
}
