//! Forwarded calls, both ends in one place.
//!
//! A call about a record this node only mirrors (a registration for
//! another node's activity, a booking of its resource, a signature on its
//! agreement) goes to the record's home node, which alone decides. Every
//! such call is one [`Forwardable`] request type and passes [`route`]: it
//! either sends the call home, as "this node acting for this person of this
//! organization", or runs it here with the idempotency key a forwarding
//! node sent, so a retried forward has its effect once.
//!
//! On the home node the edge turns a pinned peer's acting headers into a
//! [`Principal`] with that one membership ([`acting_principal`]), which this
//! node's own policy authorizes like any other caller.

use std::future::Future;

use edufed_domain::changes::EntityKind;
use edufed_domain::directory::Role;
use edufed_domain::federation::{IDEMPOTENCY_HEADER, Idempotency, MAX_IDEMPOTENCY_KEY};
use edufed_domain::ids::{OrgId, PersonId};
use edufed_domain::policy::{Action, Credential, Principal, Target, authorize};
use edufed_domain::{ErrorCode, FieldError, ServiceError};
use edufed_federation::forward::{
    ACTING_NAME_HEADER, ACTING_ORG_HEADER, ACTING_PERSON_HEADER, ACTING_ROLE_HEADER,
    idempotency_key,
};
use edufed_federation::{Acting, PeerTls};
use edufed_proto::v1 as pb;
use edufed_proto::v1::agreements_client::AgreementsClient;
use edufed_proto::v1::booking_client::BookingClient;
use edufed_proto::v1::calendar_client::CalendarClient;
use edufed_proto::v1::mentoring_client::MentoringClient;
use edufed_store::Store;
use edufed_store::federation::Mirror;
use http::HeaderMap;
use sha2::{Digest as _, Sha256};
use tonic::transport::Channel;
use tonic::{Request, Response, Status};

use crate::auth::{PeerCaller, principal};
use crate::context::Context;
use crate::convert::org_ref;
use crate::status::ApiError;

/// A call a peer sent on for one of its people, as the edge found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Incoming {
    /// The forwarding node's id (its key's fingerprint).
    pub node_id: String,
    /// The idempotency key it sent.
    pub key: String,
    /// The person it acts for, as this node names them.
    pub person: String,
    /// Their name as the forwarding node sent it, for the audit trail.
    pub name: Option<String>,
}

/// Whose the call is: the organization it acts for.
pub(crate) enum Acts<'a> {
    /// An organization the request names (id or slug) in `field`.
    Named {
        /// The request's field, for errors.
        field: &'static str,
        /// What the client sent.
        value: &'a str,
    },
    /// The organization the mirrored record names at this path of its payload.
    OwnerOf(&'static [&'static str]),
    /// The first of the caller's organizations among those the mirrored
    /// record lists at this path (an agreement's parties).
    MemberOf(&'static str),
}

/// A call forwarded to a record's home node when this node only mirrors it.
pub(crate) trait Forwardable: prost::Message + Clone + Default + 'static {
    /// The call's path; only these calls may act for a peer's people.
    const PATH: &'static str;
    /// What the caller must be allowed here, for the organization it acts
    /// for, before the call leaves; `None`: holding a role there is enough
    /// (the home node decides the rest).
    const ACTION: Option<Action>;
    /// The home node's answer, passed back as it came.
    type Reply: Send + 'static;
    /// The kind and id of the record the call is about, as the client sent it.
    fn record(&self) -> (EntityKind, &str);
    /// Whose the call is.
    fn acts(&self) -> Acts<'_>;
    /// Names the organization it acts for by id, for the home node.
    fn name_org(&mut self, _org: &OrgId) {}
    /// Sends the call to the home node on `channel`.
    fn send(
        channel: Channel,
        request: Request<Self>,
    ) -> impl Future<Output = Result<Response<Self::Reply>, Status>> + Send;
}

macro_rules! forwardable {
    ($req:ty => $reply:ty, $path:literal, $client:ident :: $method:ident, $action:expr,
     |$this:ident| $record:expr, |$that:ident| $acts:expr $(, |$m:ident, $o:ident| $name:expr)?) => {
        impl Forwardable for $req {
            const PATH: &'static str = $path;
            const ACTION: Option<Action> = $action;
            type Reply = $reply;
            fn record(&self) -> (EntityKind, &str) {
                let $this = self;
                $record
            }
            fn acts(&self) -> Acts<'_> {
                let $that = self;
                $acts
            }
            $(fn name_org(&mut self, org: &OrgId) {
                let ($m, $o) = (self, org);
                $name
            })?
            fn send(
                channel: Channel,
                request: Request<Self>,
            ) -> impl Future<Output = Result<Response<$reply>, Status>> + Send {
                async move { $client::new(channel).$method(request).await }
            }
        }
    };
}

forwardable!(pb::RegisterRequest => pb::Registration, "/edufed.v1.Calendar/Register",
CalendarClient::register, Some(Action::RegisterCohorts),
|r| (EntityKind::Activity, &r.activity_id),
|r| Acts::Named {
    field: "cohort.organization",
    value: r.cohort.as_ref().map_or("", |c| c.organization.as_str()),
},
|r, org| if let Some(cohort) = r.cohort.as_mut() {
    cohort.organization = org.to_string();
});
forwardable!(pb::WithdrawRequest => pb::Registration, "/edufed.v1.Calendar/Withdraw",
    CalendarClient::withdraw, None,
    |r| (EntityKind::Registration, &r.registration_id),
    |_r| Acts::OwnerOf(&["cohort", "org_id"]));
forwardable!(pb::ChangeHeadcountRequest => pb::Registration, "/edufed.v1.Calendar/ChangeHeadcount",
    CalendarClient::change_headcount, None,
    |r| (EntityKind::Registration, &r.registration_id),
    |_r| Acts::OwnerOf(&["cohort", "org_id"]));
forwardable!(pb::RequestBookingRequest => pb::RequestBookingResponse, "/edufed.v1.Booking/RequestBooking",
    BookingClient::request_booking, Some(Action::RequestBookings),
    |r| (EntityKind::Resource, &r.resource_id),
    |r| Acts::Named { field: "requester", value: &r.requester },
    |r, org| r.requester = org.to_string());
forwardable!(pb::CancelBookingRequest => pb::BookingRecord, "/edufed.v1.Booking/CancelBooking",
    BookingClient::cancel_booking, None,
    |r| (EntityKind::Booking, &r.booking_id),
    |_r| Acts::OwnerOf(&["booking", "requester_org"]));
forwardable!(pb::GetBookingRequest => pb::BookingRecord, "/edufed.v1.Booking/GetBooking",
    BookingClient::get_booking, None,
    |r| (EntityKind::Booking, &r.booking_id),
    |_r| Acts::OwnerOf(&["booking", "requester_org"]));
forwardable!(pb::SignAgreementRequest => pb::Agreement, "/edufed.v1.Agreements/SignAgreement",
    AgreementsClient::sign_agreement, Some(Action::SignAgreements),
    |r| (EntityKind::Agreement, &r.agreement_id),
    |r| Acts::Named { field: "org", value: &r.org },
    |r, org| r.org = org.to_string());
forwardable!(pb::DeclineAgreementRequest => pb::Agreement, "/edufed.v1.Agreements/DeclineAgreement",
    AgreementsClient::decline_agreement, Some(Action::SignAgreements),
    |r| (EntityKind::Agreement, &r.agreement_id),
    |r| Acts::Named { field: "org", value: &r.org },
    |r, org| r.org = org.to_string());
forwardable!(pb::GetAgreementRequest => pb::Agreement, "/edufed.v1.Agreements/GetAgreement",
    AgreementsClient::get_agreement, None,
    |r| (EntityKind::Agreement, &r.agreement_id),
    |_r| Acts::MemberOf("parties"));
forwardable!(pb::GetAgreementHistoryRequest => pb::AgreementHistory, "/edufed.v1.Agreements/GetAgreementHistory",
    AgreementsClient::get_agreement_history, None,
    |r| (EntityKind::Agreement, &r.agreement_id),
    |_r| Acts::MemberOf("parties"));
forwardable!(pb::GetPairRequest => pb::MentoringPairRecord, "/edufed.v1.Mentoring/GetPair",
    MentoringClient::get_pair, Some(Action::ViewMentoringRegister),
    |r| (EntityKind::MentoringPair, &r.id),
    |_r| Acts::MemberOf("organizations"));
forwardable!(pb::StartPairRequest => pb::MentoringPair, "/edufed.v1.Mentoring/StartPair",
    MentoringClient::start_pair, Some(Action::ManageMentoring),
    |r| (EntityKind::MentoringPair, &r.id),
    |_r| Acts::MemberOf("organizations"));
forwardable!(pb::ClosePairRequest => pb::MentoringPair, "/edufed.v1.Mentoring/ClosePair",
    MentoringClient::close_pair, Some(Action::ManageMentoring),
    |r| (EntityKind::MentoringPair, &r.id),
    |_r| Acts::MemberOf("organizations"));

/// The calls a peer may make for one of its people: those forwarded to a
/// record's home node.
pub const FORWARDABLE: &[&str] = &[
    pb::RegisterRequest::PATH,
    pb::WithdrawRequest::PATH,
    pb::ChangeHeadcountRequest::PATH,
    pb::RequestBookingRequest::PATH,
    pb::CancelBookingRequest::PATH,
    pb::GetBookingRequest::PATH,
    pb::SignAgreementRequest::PATH,
    pb::DeclineAgreementRequest::PATH,
    pb::GetAgreementRequest::PATH,
    pb::GetAgreementHistoryRequest::PATH,
    pb::GetPairRequest::PATH,
    pb::StartPairRequest::PATH,
    pb::ClosePairRequest::PATH,
];

/// The forwardable calls that only read: they leave no audit entry.
const FORWARDED_READS: &[&str] = &[
    pb::GetBookingRequest::PATH,
    pb::GetAgreementRequest::PATH,
    pb::GetAgreementHistoryRequest::PATH,
    pb::GetPairRequest::PATH,
];

/// Why a call about a mirrored record was not sent home, or a peer's
/// acting headers were refused.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    /// A forwarded call for a record this node does not own: never sent on.
    #[error("this record belongs to node {home}, not to this node; send the write there")]
    NotOwned {
        /// The record's home node.
        home: String,
    },
    /// This node does not forward.
    #[error("this record belongs to node {home}, and this node does not forward writes")]
    NoForwarding {
        /// The record's home node.
        home: String,
    },
    /// The mirrored record names no organization to act for.
    #[error("the mirrored {kind} {id} does not say whose it is")]
    Ownerless {
        /// The record's entity kind, e.g. `booking`.
        kind: &'static str,
        /// The record's id as the client sent it.
        id: String,
    },
    /// None of the caller's organizations is one the record lists.
    #[error("{kind} {id} not found")]
    Unrelated {
        /// The record's entity kind, e.g. `agreement`.
        kind: &'static str,
        /// The record's id as the client sent it.
        id: String,
    },
    /// The caller holds no role in the organization the call acts for.
    #[error("you hold no role in organization {0}")]
    NoRole(OrgId),
    /// A peer acted for a person on a call it may not forward, or for an
    /// organization it does not host.
    #[error("{0}")]
    NotActing(String),
    /// An acting header is missing or malformed.
    #[error("{0}")]
    Header(#[from] FieldError),
}

impl ServiceError for Refusal {
    fn error_code(&self) -> ErrorCode {
        match self {
            Refusal::NotOwned { .. } | Refusal::Ownerless { .. } => ErrorCode::FailedPrecondition,
            Refusal::NoForwarding { .. } => ErrorCode::Unavailable,
            Refusal::Unrelated { .. } => ErrorCode::NotFound,
            Refusal::NoRole(_) | Refusal::NotActing(_) => ErrorCode::PermissionDenied,
            Refusal::Header(_) => ErrorCode::InvalidArgument,
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            Refusal::Header(e) => Some(&e.field),
            _ => None,
        }
    }
}

/// Runs the forwardable call `request`: sends it to the record's home node
/// when this node only mirrors the record, else runs `here` for the caller
/// with the request and, for a call a peer forwarded, its idempotency key.
pub(crate) async fn route<Q, Fut>(
    ctx: &Context,
    request: Request<Q>,
    here: impl FnOnce(Principal, Q, Option<Idempotency>) -> Fut,
) -> Result<Response<Q::Reply>, Status>
where
    Q: Forwardable,
    Fut: Future<Output = Result<Q::Reply, ApiError>>,
{
    let caller = principal(&request)?;
    let (kind, id) = request.get_ref().record();
    let mirror = ctx
        .store
        .get_mirror(kind, id.trim())
        .await
        .map_err(ApiError::from)?;
    let reply = match mirror {
        Some(mirror) => send_home(ctx, &caller, request, mirror).await,
        None => {
            let fingerprint = || {
                format!(
                    "{}#{}",
                    Q::PATH,
                    hex::encode(Sha256::digest(request.get_ref().encode_to_vec()))
                )
            };
            // A peer's forward keys by its node and person; a local client
            // that sends a key of its own (a retried write, a route's
            // items) keys by its person on this node.
            let key = match Incoming::of(&request) {
                Some(f) => Some(Idempotency {
                    key: format!("{}/{}", f.person, f.key),
                    node_id: f.node_id,
                    request: fingerprint(),
                }),
                None => match request.metadata().get(IDEMPOTENCY_HEADER) {
                    Some(_) => Some(Idempotency {
                        key: format!(
                            "{}/{}",
                            caller.person_id,
                            idempotency_key(request.metadata())
                                .map_err(|e| Status::from(ApiError::from(e)))?
                        ),
                        node_id: String::new(),
                        request: fingerprint(),
                    }),
                    None => None,
                },
            };
            here(caller, request.into_inner(), key).await
        }
    };
    ctx.reply(reply).await
}

async fn send_home<Q: Forwardable>(
    ctx: &Context,
    caller: &Principal,
    request: Request<Q>,
    mirror: Mirror,
) -> Result<Q::Reply, ApiError> {
    let home = mirror.origin.clone();
    if let Some(from) = Incoming::of(&request) {
        tracing::warn!(peer = %from.node_id, %home, "forwarded call for a record this node does not own refused");
        return Err(Refusal::NotOwned { home }.into());
    }
    let Some(forwarder) = &ctx.forwarder else {
        return Err(Refusal::NoForwarding { home }.into());
    };
    let mut message = request.get_ref().clone();
    let (kind, id) = message.record();
    let (kind, id) = (kind.as_str(), id.trim().to_owned());
    let org = match message.acts() {
        Acts::Named { field, value } => {
            let org = ctx.store.get_organization(&org_ref(field, value)?).await?;
            message.name_org(&org.id);
            org.id
        }
        Acts::OwnerOf(path) => {
            let payload = mirror.decode::<serde_json::Value>()?;
            path.iter()
                .try_fold(&payload, |value, key| value.get(key))
                .and_then(|v| v.as_str())
                .map(|raw| OrgId::from_stored(raw.to_owned()))
                .ok_or_else(|| Refusal::Ownerless {
                    kind,
                    id: id.clone(),
                })?
        }
        Acts::MemberOf(path) => {
            let listed: Vec<OrgId> = mirror
                .decode::<serde_json::Value>()?
                .get(path)
                .and_then(|v| serde_json::from_value(v.clone()).ok())
                .unwrap_or_default();
            caller
                .organizations()
                .find(|org| listed.contains(org))
                .cloned()
                .ok_or_else(|| Refusal::Unrelated {
                    kind,
                    id: id.clone(),
                })?
        }
    };
    if let Some(action) = Q::ACTION {
        authorize(caller, action, Target::Organization(&org))?;
    }
    let role = caller
        .role_in(&org)
        .ok_or_else(|| Refusal::NoRole(org.clone()))?;
    // The name travels for the home node's audit trail; a person the
    // store cannot read here goes without one.
    let name = match ctx.store.get_person(&caller.person_id).await {
        Ok((person, _)) => person.display_name,
        Err(_) => String::new(),
    };
    let acting = Acting {
        person: caller.person_id.to_string(),
        org: org.clone(),
        role,
        name,
    };
    let key = idempotency_key(request.metadata())?;
    tracing::info!(%home, %org, %key, method = Q::PATH, "call forwarded to the record's home node");
    let reply = forwarder
        .forward(&home, message, &acting, &key, Q::send)
        .await
        .map_err(ApiError::from_home)?;
    // The home node's trail names this node and the person; this one's
    // names the person, their credential and address, and where it went.
    if !FORWARDED_READS.contains(&Q::PATH)
        && let Err(error) = ctx
            .store
            .record_forward((kind, &id), Some(&org), &caller.actor(), &home)
            .await
    {
        tracing::warn!(%error, %home, method = Q::PATH, "a forwarded write is missing from the audit trail");
    }
    Ok(reply)
}

impl Incoming {
    /// The peer's call `request` is, if it is one.
    pub fn of<T>(request: &Request<T>) -> Option<Incoming> {
        request.extensions().get::<Incoming>().cloned()
    }
}

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
) -> Result<Option<(Principal, Incoming)>, ApiError> {
    let Some(org) = headers.get(ACTING_ORG_HEADER) else {
        return Ok(None);
    };
    let refuse = |why: String| {
        tracing::warn!(peer = %peer.node_id, %why, "forwarded call refused");
        ApiError::from(Refusal::NotActing(why))
    };
    if !FORWARDABLE.contains(&path) {
        return Err(refuse(format!(
            "node {} may act for its people only on their registrations, bookings, \
             agreements and mentoring pairs (the calls a node forwards); not {}",
            peer.node_id,
            edufed_domain::text::excerpt(path)
        )));
    }
    let header = |name: &str| -> Result<&str, FieldError> {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.is_empty() && v.len() <= MAX_IDEMPOTENCY_KEY)
            .ok_or_else(|| FieldError::new(name, "is missing or malformed"))
    };
    let org = OrgId::from_stored(
        org.to_str()
            .map_err(|_| FieldError::new(ACTING_ORG_HEADER, "is not text"))?
            .to_owned(),
    );
    let person = header(ACTING_PERSON_HEADER)?;
    let role = Role::parse(ACTING_ROLE_HEADER, header(ACTING_ROLE_HEADER)?)?;
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
        credential: Credential::Peer(peer.node_id.clone()),
        operator: false,
        memberships: vec![(org, role)],
    };
    let incoming = Incoming {
        node_id: peer.node_id.clone(),
        key: key.to_owned(),
        person: principal.person_id.to_string(),
        name: acting_name(headers),
    };
    Ok(Some((principal, incoming)))
}

/// The acting person's name a peer sent: a line of text of at most 200
/// characters, or nothing (the name only labels the audit trail, so one
/// that does not read is left out rather than refused).
fn acting_name(headers: &HeaderMap) -> Option<String> {
    use base64::Engine as _;
    let raw = headers.get(ACTING_NAME_HEADER)?.to_str().ok()?;
    let bytes = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(raw.trim_end_matches('='))
        .ok()?;
    let name = String::from_utf8(bytes).ok()?;
    edufed_domain::text::line(ACTING_NAME_HEADER, &name, 200).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_forwardable_call_is_listed_once() {
        let mut paths = FORWARDABLE.to_vec();
        paths.sort_unstable();
        paths.dedup();
        assert_eq!(paths.len(), FORWARDABLE.len());
        for path in FORWARDABLE {
            let (service, method) = path
                .trim_start_matches('/')
                .split_once('/')
                .expect("a gRPC path");
            let descriptor = crate::export::descriptor_pool()
                .get_service_by_name(service)
                .unwrap_or_else(|| panic!("no service {service}"));
            assert!(
                descriptor.methods().any(|m| m.name() == method),
                "{path} is not a method of {service}"
            );
        }
    }
}
