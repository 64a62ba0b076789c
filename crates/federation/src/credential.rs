//! How a node calls a peer as itself: two headers, its node id and a fresh
//! signature of who calls whom when.

use edufed_domain::federation::auth_statement;

use crate::NodeIdentity;

/// The header naming the calling node.
pub const NODE_HEADER: &str = "x-edufed-node";
/// The header carrying `<unix seconds>.<hex Ed25519 signature>`.
pub const NODE_AUTH_HEADER: &str = "x-edufed-node-auth";

/// The two header values with which `identity` calls the node `to` at
/// `unix_seconds`.
pub fn credential(identity: &NodeIdentity, to: &str, unix_seconds: i64) -> (String, String) {
    let from = identity.node_id();
    let signature = identity.sign(auth_statement(&from, to, unix_seconds).as_bytes());
    (from, format!("{unix_seconds}.{}", hex::encode(signature)))
}
