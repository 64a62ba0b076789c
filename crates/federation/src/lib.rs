//! How nodes know each other: the node's Ed25519 identity and signatures.
//! Peer sync and forwarding will live here too.

pub mod identity;

pub use identity::{IdentityError, NodeIdentity, fingerprint, verify};
