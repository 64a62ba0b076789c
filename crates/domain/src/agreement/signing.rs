//! What a signature covers, and how anyone checks it with nothing but the
//! signing node's public key.
//!
//! A version's canonical document is JSON with sorted keys and no
//! whitespace, over the agreement id, the version number and the content;
//! its SHA-256 is the content hash. A signature is the signing node's
//! Ed25519 signature over a canonical statement of who signed which hash
//! when. The document is stored exactly as hashed, so a later change to any
//! byte of it, or of the statement, fails verification.

use chrono::{DateTime, SecondsFormat, Utc};
use ed25519_dalek::{Signature as Ed25519, Verifier as _, VerifyingKey};
use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest as _, Sha256};

use super::Content;
use crate::ids::{AgreementId, OrgId, PersonId};
use crate::stable::canonical_json;

/// The format tag of a canonical document.
pub const DOCUMENT_FORMAT: &str = "edufed.agreement.v1";
/// The format tag of a signed statement.
pub const STATEMENT_FORMAT: &str = "edufed.agreement.signature.v1";

/// A party's signature of one version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    /// The version signed.
    pub version: u32,
    /// The content hash signed.
    pub content_hash: String,
    /// The signing party.
    pub org_id: OrgId,
    /// The person who signed for it.
    pub person_id: PersonId,
    /// The signatory's name as the content states it.
    pub signatory: String,
    /// By the signing node's clock.
    pub signed_at: DateTime<Utc>,
    /// The signing node's id: the hex SHA-256 of its public key.
    pub node_id: String,
    /// The signing node's Ed25519 public key.
    pub public_key: [u8; 32],
    /// The Ed25519 signature of [`Signature::statement`].
    pub signature: Vec<u8>,
}

/// Why a signature did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The document's hash is not the one signed: the content changed.
    #[error("the content hash {actual} is not the signed {signed}")]
    ContentChanged {
        /// The hash signed.
        signed: String,
        /// The hash of the document as it is now.
        actual: String,
    },
    /// The key given is not the signing node's.
    #[error("the key's fingerprint {0} is not the signing node's")]
    WrongKey(String),
    /// The key or the signature is malformed, or the signature does not match.
    #[error("the signature does not verify: {0}")]
    Invalid(String),
}

/// The canonical document of version `version` of agreement `id`.
pub fn canonical_document(id: &AgreementId, version: u32, content: &Content) -> String {
    canonical_json(&json!({
        "format": DOCUMENT_FORMAT,
        "agreement_id": id,
        "version": version,
        "content": content,
    }))
}

/// The lowercase hex SHA-256 of a canonical document.
pub fn content_hash(document: &str) -> String {
    hex::encode(Sha256::digest(document.as_bytes()))
}

/// The fingerprint of an Ed25519 public key: lowercase hex of its SHA-256,
/// the node id.
pub fn fingerprint(public_key: &[u8; 32]) -> String {
    hex::encode(Sha256::digest(public_key))
}

impl Signature {
    /// The statement the node signs: who signed which content, when.
    pub fn statement(&self, agreement: &AgreementId) -> String {
        canonical_json(&json!({
            "format": STATEMENT_FORMAT,
            "agreement_id": agreement,
            "version": self.version,
            "content_hash": self.content_hash,
            "org_id": self.org_id,
            "person_id": self.person_id,
            "signatory": self.signatory,
            "signed_at": self.signed_at.to_rfc3339_opts(SecondsFormat::Micros, true),
            "node_id": self.node_id,
        }))
    }

    /// Checks this signature of `document` (agreement `agreement`) against
    /// `public_key`, which the verifier got from a source it trusts.
    pub fn verify(
        &self,
        agreement: &AgreementId,
        document: &str,
        public_key: &[u8; 32],
    ) -> Result<(), VerifyError> {
        let actual = content_hash(document);
        if actual != self.content_hash {
            return Err(VerifyError::ContentChanged {
                signed: self.content_hash.clone(),
                actual,
            });
        }
        let print = fingerprint(public_key);
        if print != self.node_id {
            return Err(VerifyError::WrongKey(print));
        }
        let key = VerifyingKey::from_bytes(public_key)
            .map_err(|e| VerifyError::Invalid(e.to_string()))?;
        let signature = Ed25519::from_slice(&self.signature)
            .map_err(|e| VerifyError::Invalid(e.to_string()))?;
        key.verify(self.statement(agreement).as_bytes(), &signature)
            .map_err(|e| VerifyError::Invalid(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer as _, SigningKey};

    fn signed(id: &AgreementId, document: &str, key: &SigningKey) -> Signature {
        let public_key = key.verifying_key().to_bytes();
        let mut sig = Signature {
            version: 1,
            content_hash: content_hash(document),
            org_id: OrgId::generate(),
            person_id: PersonId::generate(),
            signatory: "Иванова М. П.".into(),
            signed_at: DateTime::from_timestamp_micros(1_780_000_000_123_456).unwrap(),
            node_id: fingerprint(&public_key),
            public_key,
            signature: vec![],
        };
        sig.signature = key.sign(sig.statement(id).as_bytes()).to_bytes().to_vec();
        sig
    }

    #[test]
    fn a_signature_verifies_with_the_key_alone_and_fails_after_any_change() {
        let (a, b) = (OrgId::generate(), OrgId::generate());
        let id = AgreementId::generate();
        let content = super::super::tests::network_form(&a, &b);
        let document = canonical_document(&id, 1, &content);
        let key = SigningKey::from_bytes(&[7; 32]);
        let sig = signed(&id, &document, &key);
        let public_key = key.verifying_key().to_bytes();
        sig.verify(&id, &document, &public_key).unwrap();

        // Any byte of the signed document changed.
        let bytes = document.as_bytes();
        for i in 0..bytes.len() {
            let mut tampered = bytes.to_vec();
            tampered[i] ^= 0x01;
            let tampered = String::from_utf8_lossy(&tampered);
            assert!(
                sig.verify(&id, &tampered, &public_key).is_err(),
                "a change at byte {i} went unnoticed"
            );
        }
        // The statement's fields.
        let mut other = sig.clone();
        other.signed_at += chrono::Duration::microseconds(1);
        assert!(matches!(
            other.verify(&id, &document, &public_key),
            Err(VerifyError::Invalid(_))
        ));
        let mut other = sig.clone();
        other.org_id = OrgId::generate();
        assert!(other.verify(&id, &document, &public_key).is_err());
        // Another agreement with the same content.
        assert!(
            sig.verify(&AgreementId::generate(), &document, &public_key)
                .is_err()
        );
        // Another node's key.
        let stranger = SigningKey::from_bytes(&[9; 32]).verifying_key().to_bytes();
        assert!(matches!(
            sig.verify(&id, &document, &stranger),
            Err(VerifyError::WrongKey(_))
        ));
    }

    #[test]
    fn the_document_is_stable() {
        let (a, b) = (OrgId::generate(), OrgId::generate());
        let id = AgreementId::generate();
        let content = super::super::tests::network_form(&a, &b);
        let one = canonical_document(&id, 1, &content);
        let back: serde_json::Value = serde_json::from_str(&one).unwrap();
        let again: Content = serde_json::from_value(back["content"].clone()).unwrap();
        assert_eq!(again, content);
        assert_eq!(canonical_document(&id, 1, &again), one);
        assert_ne!(canonical_document(&id, 2, &content), one);
    }
}
