//! A node's identity: an Ed25519 key pair. The node id is the fingerprint of
//! its public key, so a peer pinned by fingerprint cannot be impersonated.

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey as _, EncodePrivateKey as _};
use ed25519_dalek::{Signature, Signer as _, SigningKey, Verifier as _, VerifyingKey};
use sha2::{Digest as _, Sha256};

/// Why a key could not be read.
#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// The PEM text is not an Ed25519 PKCS#8 private key.
    #[error("not an Ed25519 PKCS#8 private key: {0}")]
    Malformed(String),
}

/// The node's key pair.
pub struct NodeIdentity {
    key: SigningKey,
}

impl std::fmt::Debug for NodeIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NodeIdentity")
            .field("node_id", &self.node_id())
            .finish_non_exhaustive()
    }
}

impl NodeIdentity {
    /// A new random identity.
    pub fn generate() -> Self {
        Self {
            key: SigningKey::generate(&mut rand::rngs::OsRng),
        }
    }

    /// Reads a key saved by [`NodeIdentity::to_pem`].
    pub fn from_pem(pem: &str) -> Result<Self, IdentityError> {
        SigningKey::from_pkcs8_pem(pem)
            .map(|key| Self { key })
            .map_err(|e| IdentityError::Malformed(e.to_string()))
    }

    /// The private key as PKCS#8 PEM, for the data directory.
    pub fn to_pem(&self) -> String {
        self.key
            .to_pkcs8_pem(LineEnding::LF)
            .map(|pem| pem.to_string())
            .unwrap_or_default()
    }

    /// The public key peers pin (by its fingerprint, the node id).
    pub fn public_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    /// The node id: the fingerprint of the public key.
    pub fn node_id(&self) -> String {
        fingerprint(&self.public_key())
    }

    /// Signs `message`.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
    }
}

/// The fingerprint of a public key: lowercase hex of its SHA-256.
pub fn fingerprint(key: &VerifyingKey) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// Whether `signature` is `key`'s signature of `message`.
pub fn verify(key: &VerifyingKey, message: &[u8], signature: &[u8; 64]) -> bool {
    key.verify(message, &Signature::from_bytes(signature))
        .is_ok()
}

impl edufed_domain::agreement::decide::Signer for NodeIdentity {
    fn node_id(&self) -> String {
        NodeIdentity::node_id(self)
    }

    fn public_key(&self) -> [u8; 32] {
        NodeIdentity::public_key(self).to_bytes()
    }

    fn sign(&self, message: &[u8]) -> Vec<u8> {
        NodeIdentity::sign(self, message).to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_round_trip_keeps_the_node_id() {
        let id = NodeIdentity::generate();
        let again = NodeIdentity::from_pem(&id.to_pem()).unwrap();
        assert_eq!(id.node_id(), again.node_id());
        assert_eq!(id.node_id().len(), 64);
        assert!(NodeIdentity::from_pem("nonsense").is_err());
    }

    #[test]
    fn signatures_verify_and_detect_tampering() {
        let id = NodeIdentity::generate();
        let signature = id.sign(b"payload");
        assert!(verify(&id.public_key(), b"payload", &signature));
        assert!(!verify(&id.public_key(), b"pay1oad", &signature));
        let other = NodeIdentity::generate();
        assert!(!verify(&other.public_key(), b"payload", &signature));
    }
}
