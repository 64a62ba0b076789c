//! Forwarded writes: a write to a record another node owns (a registration
//! for its activity, a booking of its resource, a signature on its
//! agreement) goes to that home node, which alone decides.
//!
//! The forwarding node calls the home node as itself (its credential),
//! acting for one person of one organization it hosts, with the role that
//! person holds there, and with an idempotency key: a retried forward with
//! the same key has its effect once and gets the same answer.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use edufed_domain::directory::Role;
use edufed_domain::ids::OrgId;
use edufed_domain::{ErrorCode, FieldError, ServiceError};
use edufed_store::Store;
use rand::RngCore as _;
use tonic::metadata::MetadataValue;
use tonic::transport::Channel;
use tonic::{Code, Request, Status};

pub use edufed_domain::federation::{IDEMPOTENCY_HEADER, MAX_IDEMPOTENCY_KEY};

use crate::{NODE_AUTH_HEADER, NODE_HEADER, NodeIdentity, PeerTls, credential};

/// The header naming the person a forwarding node acts for (their id on
/// that node).
pub const ACTING_PERSON_HEADER: &str = "x-edufed-acting-person";
/// The header naming the organization the person acts for.
pub const ACTING_ORG_HEADER: &str = "x-edufed-acting-org";
/// The header with the person's role in that organization.
pub const ACTING_ROLE_HEADER: &str = "x-edufed-acting-role";
/// The header with the person's name as the forwarding node knows it
/// (UTF-8, base64 as gRPC's binary headers are), for the home node's audit
/// trail; optional.
pub const ACTING_NAME_HEADER: &str = "x-edufed-acting-name-bin";

/// How many times a forward is tried when the home node cannot be reached.
const ATTEMPTS: u32 = 2;
/// How long one forwarded call may take, connecting included: the tries
/// together stay within the edge's default deadline of 30 s.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);

/// For whom a node forwards a write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acting {
    /// The person's id on the forwarding node.
    pub person: String,
    /// The organization they act for; the forwarding node hosts it.
    pub org: OrgId,
    /// Their role in it.
    pub role: Role,
    /// Their name, for the home node's audit trail; empty if unknown.
    pub name: String,
}

/// Why a forwarded write did not reach its home node's decision.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The record's home node is not a pinned peer of this node.
    #[error(
        "the record's home node {node} is not a pinned peer of this node, so this node cannot send the write there: {why}"
    )]
    NotPinned {
        /// The record's home node, by id.
        node: String,
        /// What the store said.
        why: String,
    },
    /// The home node could not be reached, after retries.
    #[error(
        "the record's home node {node} is unreachable, and only it may accept this write: {why}"
    )]
    Unreachable {
        /// The record's home node, by id.
        node: String,
        /// What the last try ran into.
        why: String,
    },
    /// The home node refused this node's credential.
    #[error(
        "the record's home node {node} refused this node's credential (does it pin this node?): {why}"
    )]
    Refused {
        /// The record's home node, by id.
        node: String,
        /// What it said.
        why: String,
    },
    /// A header value cannot be sent.
    #[error(transparent)]
    Header(#[from] FieldError),
    /// The home node's own answer, passed on as it is.
    #[error("{}", .0.message())]
    Answered(Status),
}

impl ServiceError for Error {
    fn error_code(&self) -> ErrorCode {
        match self {
            Error::NotPinned { .. } | Error::Refused { .. } => ErrorCode::FailedPrecondition,
            Error::Unreachable { .. } => ErrorCode::Unavailable,
            Error::Header(_) => ErrorCode::InvalidArgument,
            // Passed on by the API's status mapping as the home node sent it.
            Error::Answered(_) => ErrorCode::Internal,
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            Error::Header(e) => Some(&e.field),
            _ => None,
        }
    }
}

/// The idempotency key a client sent with its call, or a fresh one.
pub fn idempotency_key(metadata: &tonic::metadata::MetadataMap) -> Result<String, FieldError> {
    match metadata.get(IDEMPOTENCY_HEADER) {
        Some(value) => {
            let key = value
                .to_str()
                .ok()
                .filter(|k| !k.is_empty() && k.len() <= MAX_IDEMPOTENCY_KEY)
                .filter(|k| k.bytes().all(|b| b.is_ascii_graphic()))
                .ok_or_else(|| {
                    FieldError::new(
                        IDEMPOTENCY_HEADER,
                        format!("1 to {MAX_IDEMPOTENCY_KEY} visible ASCII characters"),
                    )
                })?;
            Ok(key.to_owned())
        }
        None => {
            let mut bytes = [0u8; 16];
            rand::rngs::OsRng.fill_bytes(&mut bytes);
            Ok(hex::encode(bytes))
        }
    }
}

/// Sends writes to their home nodes.
#[derive(Clone)]
pub struct Forwarder {
    store: Store,
    identity: Arc<NodeIdentity>,
    tls: PeerTls,
    /// A lazily connecting channel per peer, with the URL it was made for.
    channels: Arc<Mutex<HashMap<String, (String, Channel)>>>,
}

impl std::fmt::Debug for Forwarder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Forwarder").finish_non_exhaustive()
    }
}

impl Forwarder {
    /// A forwarder for the node with `identity`, reaching peers with `tls`.
    pub fn new(store: Store, identity: Arc<NodeIdentity>, tls: PeerTls) -> Self {
        Self {
            store,
            identity,
            tls,
            channels: Arc::default(),
        }
    }

    /// A channel to the pinned peer `node_id`.
    async fn channel(&self, node_id: &str) -> Result<Channel, Error> {
        let peer = self
            .store
            .get_peer(node_id)
            .await
            .map_err(|e| Error::NotPinned {
                node: node_id.to_owned(),
                why: e.to_string(),
            })?;
        let url = peer.descriptor.url;
        let mut channels = self
            .channels
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some((cached_url, channel)) = channels.get(node_id)
            && *cached_url == url
        {
            return Ok(channel.clone());
        }
        let channel = self
            .tls
            .endpoint(&url)
            .map_err(|e| Error::Unreachable {
                node: node_id.to_owned(),
                why: e.to_string(),
            })?
            .timeout(CALL_TIMEOUT)
            .connect_lazy();
        channels.insert(node_id.to_owned(), (url, channel.clone()));
        Ok(channel)
    }

    /// Calls `call` on the home node `to` with `message`, as this node acting
    /// for `acting`, with the idempotency `key`. A home node that cannot be
    /// reached is tried again (with the same key) a few times, then the
    /// write fails with UNAVAILABLE. The home node's own answers, errors
    /// included, are passed on as they are.
    pub async fn forward<T, R, F, Fut>(
        &self,
        to: &str,
        message: T,
        acting: &Acting,
        key: &str,
        call: F,
    ) -> Result<R, Error>
    where
        T: Clone,
        F: Fn(Channel, Request<T>) -> Fut,
        Fut: Future<Output = Result<tonic::Response<R>, Status>>,
    {
        let channel = self.channel(to).await?;
        let mut last = None;
        for attempt in 0..ATTEMPTS {
            if attempt > 0 {
                tokio::time::sleep(Duration::from_millis(200 * 3u64.pow(attempt - 1))).await;
            }
            let request = self.request(to, message.clone(), acting, key)?;
            match call(channel.clone(), request).await {
                Ok(response) => return Ok(response.into_inner()),
                // Unreachable, or no answer in time (a timeout cancels).
                Err(status)
                    if matches!(
                        status.code(),
                        Code::Unavailable | Code::Cancelled | Code::DeadlineExceeded
                    ) =>
                {
                    tracing::warn!(peer = %to, attempt, error = %status.message(), "forward failed; retrying");
                    last = Some(status);
                }
                Err(status) if status.code() == Code::Unauthenticated => {
                    tracing::warn!(peer = %to, error = %status.message(), "home node refused this node's credential");
                    return Err(Error::Refused {
                        node: to.to_owned(),
                        why: status.message().to_owned(),
                    });
                }
                Err(status) => return Err(Error::Answered(status)),
            }
        }
        Err(Error::Unreachable {
            node: to.to_owned(),
            why: last.map(|s| s.message().to_owned()).unwrap_or_default(),
        })
    }

    fn request<T>(
        &self,
        to: &str,
        message: T,
        acting: &Acting,
        key: &str,
    ) -> Result<Request<T>, Error> {
        let (from, auth) = credential(&self.identity, to, self.store.clock().now().timestamp());
        let mut request = Request::new(message);
        let header = |value: &str| {
            MetadataValue::try_from(value)
                .map_err(|_| FieldError::new("header", format!("{} cannot be sent", text(value))))
        };
        let metadata = request.metadata_mut();
        metadata.insert(NODE_HEADER, header(&from)?);
        metadata.insert(NODE_AUTH_HEADER, header(&auth)?);
        metadata.insert(ACTING_PERSON_HEADER, header(&acting.person)?);
        metadata.insert(ACTING_ORG_HEADER, header(acting.org.as_str())?);
        metadata.insert(ACTING_ROLE_HEADER, header(acting.role.as_str())?);
        if !acting.name.is_empty() {
            metadata.insert_bin(
                ACTING_NAME_HEADER,
                tonic::metadata::MetadataValue::from_bytes(acting.name.as_bytes()),
            );
        }
        metadata.insert(IDEMPOTENCY_HEADER, header(key)?);
        Ok(request)
    }
}

fn text(value: &str) -> String {
    edufed_domain::text::excerpt(value)
}
