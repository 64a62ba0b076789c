//! What every service of a node shares.

use std::sync::Arc;

use edufed_domain::directory::OrgRef;
use edufed_domain::ids::OrgId;
use edufed_federation::{Forwarder, NodeIdentity};
use edufed_store::Store;
use tonic::{Response, Status};

use crate::status::{ApiError, ids_in, renamed};

/// A node's store, its identity, and how it sends writes for records other
/// nodes keep to their home nodes. Every service is built from one.
#[derive(Clone)]
pub struct Context {
    pub(crate) store: Store,
    pub(crate) identity: Arc<NodeIdentity>,
    pub(crate) forwarder: Option<Forwarder>,
    /// Where people reach the node (`https://hub.example`), for the links
    /// it hands out.
    pub(crate) public_url: Option<String>,
    /// The identity providers people sign in through.
    pub(crate) issuers: Option<edufed_identity::Issuers>,
}

impl Context {
    /// A node that does not forward writes: one for a mirrored record is
    /// refused as UNAVAILABLE.
    pub fn new(store: Store, identity: Arc<NodeIdentity>) -> Self {
        Self {
            store,
            identity,
            forwarder: None,
            public_url: None,
            issuers: None,
        }
    }

    /// The same node, signing people in through `issuers`.
    pub fn signing_in_with(mut self, issuers: edufed_identity::Issuers) -> Self {
        self.issuers = Some(issuers);
        self
    }

    /// The same node, reached by people at `url`.
    pub fn reached_at(mut self, url: impl Into<String>) -> Self {
        self.public_url = Some(url.into().trim_end_matches('/').to_owned());
        self
    }

    /// The URL that opens a sign-in link's secret (`/sign-in/`, or
    /// `/invitation/` for an invitation): on the node's public URL when it
    /// is known, else a path.
    pub(crate) fn sign_in_url(&self, secret: &str, invitation: bool) -> String {
        format!(
            "{}/{}/{secret}",
            self.public_url.as_deref().unwrap_or_default(),
            if invitation { "invitation" } else { "sign-in" }
        )
    }

    /// The same node, forwarding writes for mirrored records with `forwarder`.
    pub fn forwarding_with(mut self, forwarder: Forwarder) -> Self {
        self.forwarder = Some(forwarder);
        self
    }

    /// The node's store.
    /// The node's key, which signs what it hands out.
    pub fn identity(&self) -> &NodeIdentity {
        &self.identity
    }

    /// The node's store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// A handler's answer on the wire.
    pub(crate) async fn reply<T>(
        &self,
        result: Result<T, ApiError>,
    ) -> Result<Response<T>, Status> {
        match result {
            Ok(answer) => Ok(Response::new(answer)),
            Err(error) => Err(self.named(error.into_status()).await),
        }
    }

    /// `status` with the organizations its message names by id named by
    /// their slugs, which people know them by; other ids stay as they are.
    pub(crate) async fn named(&self, status: Status) -> Status {
        let mut names = Vec::new();
        for id in ids_in(&status) {
            let org = OrgRef::Id(OrgId::from_stored(id.clone()));
            if let Ok(found) = self.store.get_organization(&org).await {
                names.push((id, found.slug.to_string()));
            }
        }
        renamed(status, &names)
    }
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context").finish_non_exhaustive()
    }
}
