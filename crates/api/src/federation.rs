//! The `edufed.v1.Federation` service: this node's signed descriptor,
//! pinning peers by the fingerprint of their key, following them, and
//! digests to compare what a node mirrors with what its origin shows it.

use std::sync::Arc;

use edufed_domain::FieldError;
use edufed_domain::changes::EntityKind;
use edufed_domain::federation::{
    ActivityFilter, Digest, Error, NodeDescriptor, Peer, Subscription, parse_fingerprint,
};
use edufed_domain::policy::{Action, Principal, Target, authorize};
use edufed_domain::text;
use edufed_federation::peering::{check_claims, fetch};
use edufed_federation::{NodeIdentity, PeerTls};
use edufed_proto::v1 as pb;
use edufed_proto::v1::federation_server::Federation;
use edufed_store::Store;
use edufed_store::changes::ChangeFilter;
use tonic::{Request, Response, Status};

use crate::auth::principal;
use crate::convert::timestamp;
use crate::status::{ApiError, reply};

type RpcResult<T> = Result<Response<T>, Status>;

/// The `edufed.v1.Federation` service.
#[derive(Clone)]
pub struct FederationService {
    store: Store,
    identity: Arc<NodeIdentity>,
    tls: PeerTls,
    name: String,
    url: String,
}

impl std::fmt::Debug for FederationService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FederationService")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

fn descriptor_out(d: &NodeDescriptor) -> pb::NodeDescriptor {
    pb::NodeDescriptor {
        node_id: d.node_id.clone(),
        name: d.name.clone(),
        url: d.url.clone(),
        public_key: d.public_key.to_vec(),
        organizations: d
            .organizations
            .iter()
            .map(|o| pb::HostedOrganization {
                id: o.id.to_string(),
                slug: o.slug.clone(),
                full_name: o.full_name.clone(),
                kind: o.kind.clone(),
                short_name: o.short_name.clone(),
                city: o.city.clone(),
                time_zone: o.time_zone.clone(),
            })
            .collect(),
    }
}

fn subscription_out(
    s: &Subscription,
    now: chrono::DateTime<chrono::Utc>,
) -> pb::SubscriptionStatus {
    pb::SubscriptionStatus {
        node_id: s.peer_id.clone(),
        entity_kinds: s.kinds.iter().map(|k| k.as_str().to_owned()).collect(),
        cursor: s.cursor,
        latest_seen: s.latest_seen,
        lag_entries: s.lag_entries(),
        lag_seconds: s
            .last_contact
            .map_or(0, |at| u64::try_from((now - at).num_seconds()).unwrap_or(0)),
        connected: s.connected,
        last_error: s.last_error.clone().unwrap_or_default(),
        last_contact: s.last_contact.map(timestamp),
        via: s.via.clone().unwrap_or_default(),
        activity_filter: (!s.filter.is_empty()).then(|| pb::ActivityFilter {
            publishers: s
                .filter
                .publishers
                .iter()
                .map(ToString::to_string)
                .collect(),
            directions: s
                .filter
                .directions
                .iter()
                .map(|d| crate::convert::calendar::direction_out(*d))
                .collect(),
            grades: s.filter.grades.map(|g| pb::GradeRange {
                min: u32::from(g.min),
                max: u32::from(g.max),
            }),
            visibility: s
                .filter
                .visibility
                .iter()
                .map(|v| crate::convert::calendar::visibility_out(*v))
                .collect(),
        }),
    }
}

fn digest_out(d: Digest) -> pb::Digest {
    pb::Digest {
        origin: d.origin,
        records: d.records,
        sha256: d.sha256,
        latest_sequence: d.latest_sequence,
    }
}

/// The entity kinds a request names, at most 32.
fn kinds_in(raw: &[String]) -> Result<Vec<EntityKind>, ApiError> {
    if raw.len() > 32 {
        return Err(FieldError::new("entity_kinds", "at most 32 kinds").into());
    }
    Ok(raw
        .iter()
        .map(|k| EntityKind::parse("entity_kinds", k))
        .collect::<Result<Vec<_>, _>>()?)
}

fn peer_out(p: &Peer) -> pb::Peer {
    pb::Peer {
        descriptor: Some(descriptor_out(&p.descriptor)),
        added_at: Some(timestamp(p.added_at)),
    }
}

impl FederationService {
    /// A service for the node with `identity`, named `name`, reached at
    /// `url`, reaching peers with `tls`.
    pub fn new(
        store: Store,
        identity: Arc<NodeIdentity>,
        tls: PeerTls,
        name: String,
        url: String,
    ) -> Self {
        Self {
            store,
            identity,
            tls,
            name,
            url,
        }
    }

    /// A subscription's activity filter from the wire, its publishers
    /// resolved to ids.
    async fn activity_filter(
        &self,
        raw: Option<&pb::ActivityFilter>,
    ) -> Result<ActivityFilter, ApiError> {
        use crate::convert::calendar::{direction_in, visibility_in};
        use crate::convert::required;
        let Some(raw) = raw else {
            return Ok(ActivityFilter::default());
        };
        if raw.publishers.len() > 500 || raw.directions.len() > 50 || raw.visibility.len() > 10 {
            return Err(FieldError::new("activity_filter", "too many values").into());
        }
        let mut publishers = Vec::with_capacity(raw.publishers.len());
        for publisher in &raw.publishers {
            let org = self
                .store
                .get_organization(&crate::convert::org_ref(
                    "activity_filter.publishers",
                    publisher,
                )?)
                .await?;
            publishers.push(org.id);
        }
        Ok(ActivityFilter {
            publishers,
            directions: raw
                .directions
                .iter()
                .map(|d| {
                    required(
                        "activity_filter.directions",
                        direction_in("activity_filter.directions", *d)?,
                    )
                })
                .collect::<Result<_, _>>()?,
            grades: raw
                .grades
                .as_ref()
                .map(|g| {
                    edufed_domain::calendar::GradeRange::new("activity_filter.grades", g.min, g.max)
                })
                .transpose()?,
            visibility: raw
                .visibility
                .iter()
                .map(|v| {
                    required(
                        "activity_filter.visibility",
                        visibility_in("activity_filter.visibility", *v)?,
                    )
                })
                .collect::<Result<_, _>>()?,
        })
    }

    /// This node's descriptor.
    async fn descriptor(&self) -> Result<NodeDescriptor, Error> {
        Ok(NodeDescriptor {
            node_id: self.identity.node_id(),
            name: self.name.clone(),
            url: self.url.clone(),
            public_key: self.identity.public_key().to_bytes(),
            organizations: self.store.hosted_organizations().await?,
        })
    }
}

impl FederationService {
    async fn add_peer(
        &self,
        caller: &Principal,
        req: pb::AddPeerRequest,
    ) -> Result<pb::Peer, ApiError> {
        authorize(caller, Action::ManagePeers, Target::Node)?;
        let expected = parse_fingerprint("fingerprint", &req.fingerprint)?;
        let url = text::line("url", &req.url, 500)?;
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(FieldError::new("url", "must start with http:// or https://").into());
        }
        if expected == self.identity.node_id() {
            return Err(Error::KeyMismatch("that fingerprint is this node's own".into()).into());
        }
        let descriptor = match fetch(&self.tls, &url, &expected).await {
            Ok(descriptor) => descriptor,
            Err(error) => {
                tracing::warn!(%url, %expected, %error, "peer refused");
                return Err(error.into());
            }
        };
        match self.store.get_peer(&descriptor.node_id).await {
            Ok(_) => return Err(Error::AlreadyPinned(descriptor.node_id).into()),
            Err(Error::NotFound(_)) => {}
            Err(other) => return Err(other.into()),
        }
        check_claims(&self.store, &descriptor).await?;
        let peer = self.store.add_peer(descriptor, &caller.actor()).await?;
        tracing::info!(peer = %peer.descriptor.node_id, %url, "peer pinned");
        Ok(peer_out(&peer))
    }

    async fn list_peers(
        &self,
        caller: &Principal,
        _: pb::ListPeersRequest,
    ) -> Result<pb::ListPeersResponse, ApiError> {
        authorize(caller, Action::ManagePeers, Target::Node)?;
        let peers = self.store.list_peers().await?;
        Ok(pb::ListPeersResponse {
            peers: peers.iter().map(peer_out).collect(),
        })
    }

    async fn remove_peer(
        &self,
        caller: &Principal,
        req: pb::RemovePeerRequest,
    ) -> Result<pb::RemovePeerResponse, ApiError> {
        authorize(caller, Action::ManagePeers, Target::Node)?;
        let node_id = parse_fingerprint("node_id", &req.node_id)?;
        self.store.remove_peer(&node_id, &caller.actor()).await?;

        Ok(pb::RemovePeerResponse {})
    }

    async fn subscribe(
        &self,
        caller: &Principal,
        req: pb::SubscribeRequest,
    ) -> Result<pb::SubscriptionStatus, ApiError> {
        authorize(caller, Action::ManagePeers, Target::Node)?;
        let node_id = parse_fingerprint("node_id", &req.node_id)?;
        let kinds = kinds_in(&req.entity_kinds)?;
        let via = match req.via.trim() {
            "" => None,
            raw => Some(parse_fingerprint("via", raw)?),
        };
        if node_id == self.identity.node_id() {
            return Err(FieldError::new("node_id", "is this node's own").into());
        }
        let filter = self.activity_filter(req.activity_filter.as_ref()).await?;
        let subscription = self
            .store
            .subscribe(&node_id, &kinds, via.as_deref(), &filter, &caller.actor())
            .await?;
        Ok(subscription_out(&subscription, self.store.clock().now()))
    }

    async fn unsubscribe(
        &self,
        caller: &Principal,
        req: pb::UnsubscribeRequest,
    ) -> Result<pb::UnsubscribeResponse, ApiError> {
        authorize(caller, Action::ManagePeers, Target::Node)?;
        let node_id = parse_fingerprint("node_id", &req.node_id)?;
        self.store.unsubscribe(&node_id, &caller.actor()).await?;

        Ok(pb::UnsubscribeResponse {})
    }

    async fn list_subscriptions(
        &self,
        caller: &Principal,
        _: pb::ListSubscriptionsRequest,
    ) -> Result<pb::ListSubscriptionsResponse, ApiError> {
        authorize(caller, Action::ManagePeers, Target::Node)?;
        let list = self.store.list_subscriptions().await?;
        let now = self.store.clock().now();
        Ok(pb::ListSubscriptionsResponse {
            subscriptions: list.iter().map(|s| subscription_out(s, now)).collect(),
        })
    }

    async fn get_digest(
        &self,
        caller: &Principal,
        req: pb::GetDigestRequest,
    ) -> Result<pb::Digest, ApiError> {
        authorize(caller, Action::ManagePeers, Target::Node)?;
        let kinds = kinds_in(&req.entity_kinds)?;
        let own = self.identity.node_id();
        let origin = match req.origin.trim() {
            "" => own.clone(),
            raw => parse_fingerprint("origin", raw)?,
        };
        let for_node = match req.for_node.trim() {
            "" => None,
            raw => Some(parse_fingerprint("for_node", raw)?),
        };
        if origin != own {
            if for_node.is_some() {
                return Err(
                    FieldError::new("for_node", "applies to this node's own records only").into(),
                );
            }
            return Ok(digest_out(self.store.mirror_digest(&origin, &kinds).await?));
        }
        // What the Watch stream shows the peer: what the network shares and
        // what concerns the organizations its pinned descriptor lists.
        let organizations = match for_node {
            None => Vec::new(),
            Some(node) if node == own => {
                return Err(FieldError::new("for_node", "is this node's own").into());
            }
            Some(node) => self
                .store
                .get_peer(&node)
                .await?
                .descriptor
                .organizations
                .into_iter()
                .map(|o| o.id)
                .collect(),
        };
        let filter = ChangeFilter {
            kinds,
            organizations: Some(organizations),
        };
        Ok(digest_out(self.store.own_digest(&own, &filter).await?))
    }
}

#[tonic::async_trait]
impl Federation for FederationService {
    async fn get_descriptor(
        &self,
        request: Request<pb::GetDescriptorRequest>,
    ) -> RpcResult<pb::SignedDescriptor> {
        let nonce = &request.get_ref().nonce;
        if !(16..=64).contains(&nonce.len()) {
            return Err(ApiError::from(FieldError::new("nonce", "16 to 64 bytes")).into());
        }
        let descriptor = self.descriptor().await.map_err(ApiError::from)?;
        let signature = self.identity.sign(descriptor.statement(nonce).as_bytes());
        Ok(Response::new(pb::SignedDescriptor {
            descriptor: Some(descriptor_out(&descriptor)),
            signature: signature.to_vec(),
        }))
    }

    async fn add_peer(&self, request: Request<pb::AddPeerRequest>) -> RpcResult<pb::Peer> {
        let caller = principal(&request)?;
        reply(self.add_peer(&caller, request.into_inner()).await)
    }

    async fn list_peers(
        &self,
        request: Request<pb::ListPeersRequest>,
    ) -> RpcResult<pb::ListPeersResponse> {
        let caller = principal(&request)?;
        reply(self.list_peers(&caller, request.into_inner()).await)
    }

    async fn remove_peer(
        &self,
        request: Request<pb::RemovePeerRequest>,
    ) -> RpcResult<pb::RemovePeerResponse> {
        let caller = principal(&request)?;
        reply(self.remove_peer(&caller, request.into_inner()).await)
    }

    async fn subscribe(
        &self,
        request: Request<pb::SubscribeRequest>,
    ) -> RpcResult<pb::SubscriptionStatus> {
        let caller = principal(&request)?;
        reply(self.subscribe(&caller, request.into_inner()).await)
    }

    async fn unsubscribe(
        &self,
        request: Request<pb::UnsubscribeRequest>,
    ) -> RpcResult<pb::UnsubscribeResponse> {
        let caller = principal(&request)?;
        reply(self.unsubscribe(&caller, request.into_inner()).await)
    }

    async fn list_subscriptions(
        &self,
        request: Request<pb::ListSubscriptionsRequest>,
    ) -> RpcResult<pb::ListSubscriptionsResponse> {
        let caller = principal(&request)?;
        reply(self.list_subscriptions(&caller, request.into_inner()).await)
    }

    async fn get_digest(&self, request: Request<pb::GetDigestRequest>) -> RpcResult<pb::Digest> {
        let caller = principal(&request)?;
        reply(self.get_digest(&caller, request.into_inner()).await)
    }
}
