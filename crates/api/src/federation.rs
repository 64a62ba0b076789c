//! The `edufed.v1.Federation` service: this node's signed descriptor, and
//! pinning peers by the fingerprint of their key.

use std::sync::Arc;
use std::time::Duration;

use edufed_domain::FieldError;
use edufed_domain::changes::Actor;
use edufed_domain::changes::EntityKind;
use edufed_domain::federation::{
    Error, HostedOrg, NodeDescriptor, Peer, Subscription, parse_fingerprint,
};
use edufed_domain::ids::OrgId;
use edufed_domain::policy::{Action, Target, authorize};
use edufed_domain::text;
use edufed_federation::{NodeIdentity, PeerTls};
use edufed_proto::v1 as pb;
use edufed_proto::v1::federation_client::FederationClient;
use edufed_proto::v1::federation_server::Federation;
use edufed_store::Store;
use rand::RngCore as _;
use tonic::{Request, Response, Status};

use crate::auth::principal;
use crate::convert::timestamp;
use crate::status::ApiError;

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

fn descriptor_in(raw: Option<pb::NodeDescriptor>, url: &str) -> Result<NodeDescriptor, Error> {
    let malformed = |what: &str| {
        Error::KeyMismatch(format!(
            "the node at {url} sent a malformed descriptor: {what}"
        ))
    };
    let raw = raw.ok_or_else(|| malformed("no descriptor"))?;
    let public_key: [u8; 32] = raw
        .public_key
        .try_into()
        .map_err(|_| malformed("the public key is not 32 bytes"))?;
    if raw.organizations.len() > 100_000 {
        return Err(malformed("too many organizations"));
    }
    if raw.name.chars().nth(200).is_some() || raw.url.chars().nth(500).is_some() {
        return Err(malformed("its name or URL is too long"));
    }
    for o in &raw.organizations {
        let well_formed = edufed_domain::directory::Slug::parse("slug", &o.slug).is_ok()
            && !o.id.is_empty()
            && o.id.len() <= 100
            && [&o.full_name, &o.short_name, &o.city, &o.kind, &o.time_zone]
                .iter()
                .all(|f| f.chars().nth(300).is_none() && !f.chars().any(char::is_control));
        if !well_formed {
            return Err(malformed(&format!(
                "organization {} is not well formed",
                text::excerpt(&o.id)
            )));
        }
    }
    // As signed; the caller checks the signature before trusting any of it.
    Ok(NodeDescriptor {
        node_id: raw.node_id,
        name: raw.name,
        url: raw.url,
        public_key,
        organizations: raw
            .organizations
            .into_iter()
            .map(|o| HostedOrg {
                id: OrgId::from_stored(o.id),
                slug: o.slug,
                full_name: o.full_name,
                kind: o.kind,
                short_name: o.short_name,
                city: o.city,
                time_zone: o.time_zone,
            })
            .collect(),
    })
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
    }
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

/// Fetches the descriptor of the node at `url` and checks it proves the
/// key with fingerprint `expected`.
async fn fetch(tls: &PeerTls, url: &str, expected: &str) -> Result<NodeDescriptor, Error> {
    let unreachable =
        |e: &dyn std::fmt::Display| Error::Unreachable(format!("cannot reach {url}: {e}"));
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        return Err(FieldError::new("url", "must start with http:// or https://").into());
    }
    let endpoint = tls
        .endpoint(url)
        .map_err(|e| FieldError::new("url", e))?
        .timeout(Duration::from_secs(10));
    let channel = endpoint.connect().await.map_err(|e| unreachable(&e))?;
    let mut nonce = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut nonce);
    let signed = FederationClient::new(channel)
        .get_descriptor(pb::GetDescriptorRequest {
            nonce: nonce.to_vec(),
        })
        .await
        .map_err(|status| unreachable(&status.message()))?
        .into_inner();
    let mut descriptor = descriptor_in(signed.descriptor, url)?;
    descriptor.check(expected, &nonce, &signed.signature)?;
    // This node reaches the peer where the operator said, whatever URL
    // the peer announces for itself (behind a proxy they differ).
    descriptor.url = url.to_owned();
    Ok(descriptor)
}

/// Refuses a descriptor that claims an organization this node hosts or
/// another peer hosts: what a peer hosts decides what it may read here and
/// for whom it may act.
async fn check_claims(store: &Store, descriptor: &NodeDescriptor) -> Result<(), Error> {
    let mut taken: Vec<(OrgId, String)> = store
        .hosted_organizations()
        .await?
        .into_iter()
        .map(|o| (o.id, "this node".to_owned()))
        .collect();
    for peer in store.list_peers().await? {
        if peer.descriptor.node_id == descriptor.node_id {
            continue;
        }
        taken.extend(
            peer.descriptor
                .organizations
                .into_iter()
                .map(|o| (o.id, format!("peer {}", peer.descriptor.node_id))),
        );
    }
    if let Some((org, owner)) = descriptor
        .organizations
        .iter()
        .find_map(|o| taken.iter().find(|(id, _)| id == &o.id))
    {
        tracing::warn!(url = %descriptor.url, peer = %descriptor.node_id, %org, "peer claims an organization it does not host");
        return Err(Error::KeyMismatch(format!(
            "the node at {} claims to host organization {org}, which {owner} hosts",
            descriptor.url
        )));
    }
    Ok(())
}

/// Fetches a pinned peer's descriptor again from its pinned URL, checks it
/// against the pinned key and the claims of others, and keeps what it now
/// hosts. A node calls this when a peer acts for an organization it did not
/// list when pinned, and when a subscription's link comes up.
pub async fn refresh_peer(store: &Store, tls: &PeerTls, node_id: &str) -> Result<Peer, Error> {
    let pinned = store.get_peer(node_id).await?;
    let descriptor = fetch(tls, &pinned.descriptor.url, node_id).await?;
    check_claims(store, &descriptor).await?;
    store.refresh_peer(&descriptor).await
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
        let peer = async {
            authorize(&caller, Action::ManagePeers, Target::Node)?;
            let req = request.get_ref();
            let expected = parse_fingerprint("fingerprint", &req.fingerprint)?;
            let url = text::line("url", &req.url, 500)?;
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(FieldError::new("url", "must start with http:// or https://").into());
            }
            if expected == self.identity.node_id() {
                return Err(
                    Error::KeyMismatch("that fingerprint is this node's own".into()).into(),
                );
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
            let peer = self
                .store
                .add_peer(descriptor, &Actor::Person(caller.person_id.clone()))
                .await?;
            tracing::info!(peer = %peer.descriptor.node_id, %url, "peer pinned");
            Ok::<_, ApiError>(peer)
        }
        .await?;
        Ok(Response::new(peer_out(&peer)))
    }

    async fn list_peers(
        &self,
        request: Request<pb::ListPeersRequest>,
    ) -> RpcResult<pb::ListPeersResponse> {
        let caller = principal(&request)?;
        let peers = async {
            authorize(&caller, Action::ManagePeers, Target::Node)?;
            Ok::<_, ApiError>(self.store.list_peers().await?)
        }
        .await?;
        Ok(Response::new(pb::ListPeersResponse {
            peers: peers.iter().map(peer_out).collect(),
        }))
    }

    async fn remove_peer(
        &self,
        request: Request<pb::RemovePeerRequest>,
    ) -> RpcResult<pb::RemovePeerResponse> {
        let caller = principal(&request)?;
        async {
            authorize(&caller, Action::ManagePeers, Target::Node)?;
            let node_id = parse_fingerprint("node_id", &request.get_ref().node_id)?;
            self.store
                .remove_peer(&node_id, &Actor::Person(caller.person_id.clone()))
                .await?;
            Ok::<_, ApiError>(())
        }
        .await?;
        Ok(Response::new(pb::RemovePeerResponse {}))
    }

    async fn subscribe(
        &self,
        request: Request<pb::SubscribeRequest>,
    ) -> RpcResult<pb::SubscriptionStatus> {
        let caller = principal(&request)?;
        let subscription = async {
            authorize(&caller, Action::ManagePeers, Target::Node)?;
            let req = request.get_ref();
            let node_id = parse_fingerprint("node_id", &req.node_id)?;
            if req.entity_kinds.len() > 32 {
                return Err(FieldError::new("entity_kinds", "at most 32 kinds").into());
            }
            let kinds = req
                .entity_kinds
                .iter()
                .map(|k| EntityKind::parse("entity_kinds", k))
                .collect::<Result<Vec<_>, _>>()?;
            Ok::<_, ApiError>(
                self.store
                    .subscribe(&node_id, &kinds, &Actor::Person(caller.person_id.clone()))
                    .await?,
            )
        }
        .await?;
        Ok(Response::new(subscription_out(
            &subscription,
            self.store.clock().now(),
        )))
    }

    async fn unsubscribe(
        &self,
        request: Request<pb::UnsubscribeRequest>,
    ) -> RpcResult<pb::UnsubscribeResponse> {
        let caller = principal(&request)?;
        async {
            authorize(&caller, Action::ManagePeers, Target::Node)?;
            let node_id = parse_fingerprint("node_id", &request.get_ref().node_id)?;
            self.store
                .unsubscribe(&node_id, &Actor::Person(caller.person_id.clone()))
                .await?;
            Ok::<_, ApiError>(())
        }
        .await?;
        Ok(Response::new(pb::UnsubscribeResponse {}))
    }

    async fn list_subscriptions(
        &self,
        request: Request<pb::ListSubscriptionsRequest>,
    ) -> RpcResult<pb::ListSubscriptionsResponse> {
        let caller = principal(&request)?;
        let list = async {
            authorize(&caller, Action::ManagePeers, Target::Node)?;
            Ok::<_, ApiError>(self.store.list_subscriptions().await?)
        }
        .await?;
        let now = self.store.clock().now();
        Ok(Response::new(pb::ListSubscriptionsResponse {
            subscriptions: list.iter().map(|s| subscription_out(s, now)).collect(),
        }))
    }
}
