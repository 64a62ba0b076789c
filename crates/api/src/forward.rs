//! Both ends of a forwarded write.
//!
//! On the home node: a pinned peer's call that names a person, an
//! organization the peer hosts and that person's role there becomes a
//! [`Principal`] with that one membership, authorized by this node's own
//! policy like any other caller; its idempotency key makes a retried
//! forward have its effect once ([`once`]).
//!
//! On the forwarding node: a write to a record this node only mirrors is
//! sent to the record's home node ([`Forwarding::to_home`]).

use std::future::Future;

use edufed_domain::changes::EntityKind;
use edufed_domain::directory::Role;
use edufed_domain::ids::{OrgId, PersonId, TokenId};
use edufed_domain::policy::Principal;
use edufed_federation::forward::{
    ACTING_ORG_HEADER, ACTING_PERSON_HEADER, ACTING_ROLE_HEADER, IDEMPOTENCY_HEADER,
    MAX_IDEMPOTENCY_KEY, idempotency_key,
};
use edufed_federation::{Acting, Forwarder, PeerTls};
use edufed_store::Store;
use http::HeaderMap;
use tonic::{Request, Response, Status};

use crate::auth::PeerCaller;
use crate::status::to_status;

/// A call a peer forwarded, as the edge found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forwarded {
    /// The forwarding node.
    pub node_id: String,
    /// The idempotency key it sent.
    pub key: String,
    /// The person it acts for, as this node names them.
    pub person: String,
}

/// The calls a peer may make for one of its people: the writes that are
/// forwarded to a record's home node, and the read of an agreement.
pub const FORWARDABLE: &[&str] = &[
    "/edufed.v1.Calendar/Register",
    "/edufed.v1.Calendar/Withdraw",
    "/edufed.v1.Calendar/ChangeHeadcount",
    "/edufed.v1.Booking/RequestBooking",
    "/edufed.v1.Booking/CancelBooking",
    "/edufed.v1.Booking/GetBooking",
    "/edufed.v1.Agreements/SignAgreement",
    "/edufed.v1.Agreements/DeclineAgreement",
    "/edufed.v1.Agreements/GetAgreement",
];

/// Resolves the acting headers of a pinned peer's call to `path`. No acting
/// headers is `Ok(None)` (the peer calls as itself). Only the calls in
/// [`FORWARDABLE`] may act for a person, and the organization must be one
/// the peer hosts; if its pinned descriptor does not list it, the
/// descriptor is fetched again once, as the organization may be new there.
pub async fn acting_principal(
    store: &Store,
    tls: &PeerTls,
    peer: &PeerCaller,
    path: &str,
    headers: &HeaderMap,
) -> Result<Option<(Principal, Forwarded)>, Status> {
    let Some(org) = headers.get(ACTING_ORG_HEADER) else {
        return Ok(None);
    };
    let refuse = |why: String| {
        tracing::warn!(peer = %peer.node_id, %why, "forwarded call refused");
        Status::permission_denied(why)
    };
    if !FORWARDABLE.contains(&path) {
        return Err(refuse(format!(
            "node {} may act for its people only on their registrations, bookings and \
             agreements (the calls a node forwards); not {}",
            peer.node_id,
            edufed_domain::text::excerpt(path)
        )));
    }
    let header = |name: &str| -> Result<&str, Status> {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty() && v.len() <= MAX_IDEMPOTENCY_KEY)
            .ok_or_else(|| Status::invalid_argument(format!("{name} is missing or malformed")))
    };
    let org = OrgId::from_stored(
        org.to_str()
            .map_err(|_| Status::invalid_argument(format!("{ACTING_ORG_HEADER} is not text")))?
            .to_owned(),
    );
    let person = header(ACTING_PERSON_HEADER)?;
    let role = Role::parse(ACTING_ROLE_HEADER, header(ACTING_ROLE_HEADER)?)
        .map_err(|e| Status::invalid_argument(e.to_string()))?;
    let key = header(IDEMPOTENCY_HEADER)?;
    let mut hosted = peer.organizations.contains(&org);
    if !hosted {
        match edufed_federation::peering::refresh_peer(store, tls, &peer.node_id).await {
            Ok(fresh) => hosted = fresh.descriptor.organizations.iter().any(|o| o.id == org),
            Err(error) => {
                tracing::warn!(peer = %peer.node_id, %error, "peer descriptor not refreshed");
            }
        }
    }
    if !hosted {
        return Err(refuse(format!(
            "node {} does not host organization {org}, so it cannot act for it here",
            peer.node_id
        )));
    }
    let principal = Principal {
        // Unique across the network, and naming where the person lives.
        person_id: PersonId::from_stored(format!("{person}@{}", peer.node_id)),
        token_id: TokenId::from_stored(format!("node:{}", peer.node_id)),
        operator: false,
        memberships: vec![(org, role)],
    };
    let forwarded = Forwarded {
        node_id: peer.node_id.clone(),
        key: key.to_owned(),
        person: principal.person_id.to_string(),
    };
    Ok(Some((principal, forwarded)))
}

/// Runs a write once per idempotency key of a forwarded call. The key is
/// the forwarding node's, for one acting person, and reserved in the
/// database before the write runs (so replicas of the home node take turns
/// too); the first success's answer is kept, and a retry with the same key
/// and the same request gets it back without running again. A key reused
/// for another request is refused; a retry while the first is still running
/// is UNAVAILABLE. A failed write frees its key. Calls that were not
/// forwarded just run.
pub async fn once<Q, R, Fut>(
    store: &Store,
    forwarded: Option<Forwarded>,
    method: &str,
    request: &Q,
    run: Fut,
) -> Result<Response<R>, Status>
where
    Q: prost::Message,
    R: prost::Message + Default,
    Fut: Future<Output = Result<Response<R>, Status>>,
{
    use edufed_store::federation::Reservation;
    use sha2::{Digest as _, Sha256};
    let Some(forwarded) = forwarded else {
        return run.await;
    };
    let key = format!("{}/{}", forwarded.person, forwarded.key);
    let fingerprint = format!(
        "{method}#{}",
        hex::encode(Sha256::digest(request.encode_to_vec()))
    );
    let store_status = |e: edufed_domain::federation::Error| to_status(&e);
    match store
        .reserve_forwarded(&forwarded.node_id, &key, &fingerprint)
        .await
        .map_err(store_status)?
    {
        Reservation::Reserved => {}
        Reservation::Answered { request, response } => {
            if request != fingerprint {
                return Err(reused_key());
            }
            tracing::info!(peer = %forwarded.node_id, method, "forwarded write repeated; stored answer returned");
            let answer = R::decode(response.as_slice()).map_err(|e| {
                tracing::error!(error = %e, "stored answer unreadable");
                Status::internal("the stored answer to this write is unreadable")
            })?;
            return Ok(Response::new(answer));
        }
        Reservation::InProgress { request } => {
            if request != fingerprint {
                return Err(reused_key());
            }
            return Err(Status::unavailable(
                "a write with this idempotency key is still running; retry shortly for its answer",
            ));
        }
    }
    match run.await {
        Ok(response) => {
            store
                .record_forwarded(
                    &forwarded.node_id,
                    &key,
                    &response.get_ref().encode_to_vec(),
                )
                .await
                .map_err(store_status)?;
            Ok(response)
        }
        Err(status) => {
            if let Err(error) = store.release_forwarded(&forwarded.node_id, &key).await {
                tracing::warn!(%error, "idempotency key not released");
            }
            Err(status)
        }
    }
}

fn reused_key() -> Status {
    crate::status::ApiError::from(edufed_domain::FieldError::new(
        IDEMPOTENCY_HEADER,
        "this key was used for another request",
    ))
    .into()
}

/// The forwarded call a request carries, if it does.
pub fn forwarded<T>(request: &Request<T>) -> Option<Forwarded> {
    request.extensions().get::<Forwarded>().cloned()
}

/// What a service needs to send writes for mirrored records home.
#[derive(Debug, Clone)]
pub struct Forwarding {
    store: Store,
    forwarder: Option<Forwarder>,
}

impl Forwarding {
    /// Forwarding with `forwarder`; `None` refuses writes to mirrored
    /// records as UNAVAILABLE.
    pub fn new(store: Store, forwarder: Option<Forwarder>) -> Self {
        Self { store, forwarder }
    }

    /// The mirrored record of `kind` and `id`, if this node mirrors one.
    pub async fn mirror(
        &self,
        kind: EntityKind,
        id: &str,
    ) -> Result<Option<edufed_store::federation::Mirror>, Status> {
        self.store
            .get_mirror(kind, id)
            .await
            .map_err(|e| to_status(&e))
    }

    /// Sends the client's `request` about a record of `kind` another node
    /// keeps (a registration, a booking) to that node, acting for the
    /// organization the mirrored record's payload names at `org_path`.
    /// `Ok(None)` when this node keeps no mirror of it.
    pub async fn about_mirrored<T, R, F, Fut>(
        &self,
        kind: EntityKind,
        id: &str,
        org_path: &[&str],
        request: &Request<T>,
        caller: &Principal,
        call: F,
    ) -> Result<Option<R>, Status>
    where
        T: Clone,
        F: Fn(tonic::transport::Channel, Request<T>) -> Fut,
        Fut: Future<Output = Result<Response<R>, Status>>,
    {
        let Some(mirror) = self.mirror(kind, id.trim()).await? else {
            return Ok(None);
        };
        let payload: serde_json::Value =
            serde_json::from_str(&mirror.entry.payload).unwrap_or_default();
        let org = org_path
            .iter()
            .try_fold(&payload, |value, key| value.get(key))
            .and_then(|v| v.as_str())
            .map(|raw| OrgId::from_stored(raw.to_owned()))
            .ok_or_else(|| {
                Status::failed_precondition(format!(
                    "the mirrored {} {id} does not say whose it is",
                    kind.as_str()
                ))
            })?;
        self.to_home(
            &mirror.origin,
            request,
            request.get_ref().clone(),
            caller,
            &org,
            call,
        )
        .await
        .map(Some)
    }

    /// Forwards `message` (the client's `request`, with its references
    /// resolved to ids) to the home node `to` for `caller` acting for `org`,
    /// with the idempotency key the client sent (or a fresh one). A call that
    /// was itself forwarded is never forwarded again: a node accepts writes
    /// only for records it owns.
    pub async fn to_home<T, U, R, F, Fut>(
        &self,
        to: &str,
        request: &Request<U>,
        message: T,
        caller: &Principal,
        org: &OrgId,
        call: F,
    ) -> Result<R, Status>
    where
        T: Clone,
        F: Fn(tonic::transport::Channel, Request<T>) -> Fut,
        Fut: Future<Output = Result<Response<R>, Status>>,
    {
        if let Some(from) = forwarded(request) {
            tracing::warn!(peer = %from.node_id, home = %to, "forwarded write for a record this node does not own refused");
            return Err(Status::failed_precondition(format!(
                "this record belongs to node {to}, not to this node; send the write there"
            )));
        }
        let Some(forwarder) = &self.forwarder else {
            return Err(Status::unavailable(format!(
                "this record belongs to node {to}, and this node does not forward writes"
            )));
        };
        let role = caller.role_in(org).ok_or_else(|| {
            Status::permission_denied(format!("you hold no role in organization {org}"))
        })?;
        let acting = Acting {
            person: caller.person_id.to_string(),
            org: org.clone(),
            role,
        };
        let key = idempotency_key(request.metadata())?;
        tracing::info!(home = %to, %org, key = %key, "write forwarded to the record's home node");
        forwarder.forward(to, message, &acting, &key, call).await
    }
}
