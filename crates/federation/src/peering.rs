//! Pinning: fetching a would-be peer's descriptor and checking that it
//! proves the expected key, and refreshing a pinned peer's descriptor.

use std::time::Duration;

use edufed_domain::FieldError;
use edufed_domain::federation::{Error, HostedOrg, NodeDescriptor, Peer};
use edufed_domain::ids::OrgId;
use edufed_domain::text;
use edufed_proto::v1 as pb;
use edufed_proto::v1::federation_client::FederationClient;
use edufed_store::Store;
use rand::RngCore as _;

use crate::PeerTls;

/// A descriptor as a peer sent it, checked for shape only: the caller
/// checks its signature before trusting any of it.
pub fn descriptor_in(raw: Option<pb::NodeDescriptor>, url: &str) -> Result<NodeDescriptor, Error> {
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

/// Fetches the descriptor of the node at `url` and checks it proves the
/// key with fingerprint `expected`.
pub async fn fetch(tls: &PeerTls, url: &str, expected: &str) -> Result<NodeDescriptor, Error> {
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
pub async fn check_claims(store: &Store, descriptor: &NodeDescriptor) -> Result<(), Error> {
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
