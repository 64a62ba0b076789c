//! What every service of a node shares.

use std::sync::Arc;

use edufed_federation::{Forwarder, NodeIdentity};
use edufed_store::Store;

/// A node's store, its identity, and how it sends writes for records other
/// nodes keep to their home nodes. Every service is built from one.
#[derive(Clone)]
pub struct Context {
    pub(crate) store: Store,
    pub(crate) identity: Arc<NodeIdentity>,
    pub(crate) forwarder: Option<Forwarder>,
}

impl Context {
    /// A node that does not forward writes: one for a mirrored record is
    /// refused as UNAVAILABLE.
    pub fn new(store: Store, identity: Arc<NodeIdentity>) -> Self {
        Self {
            store,
            identity,
            forwarder: None,
        }
    }

    /// The same node, forwarding writes for mirrored records with `forwarder`.
    pub fn forwarding_with(mut self, forwarder: Forwarder) -> Self {
        self.forwarder = Some(forwarder);
        self
    }

    /// The node's store.
    pub fn store(&self) -> &Store {
        &self.store
    }
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context").finish_non_exhaustive()
    }
}
