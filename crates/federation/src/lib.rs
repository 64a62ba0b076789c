//! How nodes know each other: the node's Ed25519 identity and signatures.
//! Following peers' change logs, and sending writes to their home nodes.

pub mod credential;
pub mod forward;
pub mod identity;
pub mod link;
pub mod peering;
pub mod sync;

pub use credential::{NODE_AUTH_HEADER, NODE_HEADER, credential};
pub use ed25519_dalek::VerifyingKey as PublicKey;
pub use forward::{Acting, Forwarder};
pub use identity::{IdentityError, NodeIdentity, fingerprint, verify};
pub use link::PeerTls;
