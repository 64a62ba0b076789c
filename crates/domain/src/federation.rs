//! Peers: who another node is, and the proof that it holds its key.

use chrono::{DateTime, Utc};
use ed25519_dalek::{Signature, Verifier as _, VerifyingKey};
use serde_json::json;

use crate::agreement::signing::fingerprint;
use crate::error::{ErrorCode, FieldError, ServiceError, StorageError};
use crate::ids::OrgId;
use crate::stable::canonical_json;

/// The format tag of a descriptor statement.
pub const DESCRIPTOR_FORMAT: &str = "edufed.descriptor.v1";

/// The format tag of a node's credential statement.
pub const AUTH_FORMAT: &str = "edufed.node-auth.v1";
/// How far a node credential's time may be from the receiver's clock, in seconds.
pub const AUTH_SKEW_SECS: i64 = 300;

/// The header with the idempotency key of a write. A client may send it to
/// its own node; the node passes it on when it forwards the write, and the
/// home node answers a retried key with what the first write answered.
pub const IDEMPOTENCY_HEADER: &str = "x-edufed-idempotency-key";
/// The longest idempotency key, in bytes.
pub const MAX_IDEMPOTENCY_KEY: usize = 128;

/// A forwarded write's idempotency key, as the home node keeps it: scoped
/// to the forwarding node and the person it acts for, with a fingerprint of
/// the request, so that the same key with another request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Idempotency {
    /// The id of the node that forwarded the write.
    pub node_id: String,
    /// The acting person and the key they sent, `person/key`.
    pub key: String,
    /// The method and a hash of the request the key first came with.
    pub request: String,
}

impl Idempotency {
    /// The refusal of a key already used for another request.
    pub fn reused() -> crate::FieldError {
        crate::FieldError::new(IDEMPOTENCY_HEADER, "this key was used for another request")
    }
}

/// What a node signs to call a peer as itself: who calls whom, when. The
/// receiver accepts it from a pinned peer within [`AUTH_SKEW_SECS`] of its
/// own clock; it is good for that receiver only.
pub fn auth_statement(from: &str, to: &str, unix_seconds: i64) -> String {
    canonical_json(&json!({
        "format": AUTH_FORMAT,
        "from": from,
        "to": to,
        "time": unix_seconds,
    }))
}

/// An organization a node hosts.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HostedOrg {
    /// The same on every node that knows the organization.
    pub id: OrgId,
    /// The slug on its home node; another node that already uses it
    /// suffixes it when it takes the organization in.
    pub slug: String,
    pub full_name: String,
    /// An [`OrgKind`](crate::directory::OrgKind) by name ("school",
    /// "university", …); a kind this node does not know reads as "other".
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub short_name: String,
    #[serde(default)]
    pub city: String,
    /// An IANA name, e.g. "Asia/Tomsk"; one this node cannot read is taken
    /// as UTC.
    #[serde(default)]
    pub time_zone: String,
}

/// Who a node is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeDescriptor {
    /// Hex SHA-256 of the public key.
    pub node_id: String,
    /// The name its operator gave it, for people.
    pub name: String,
    /// Where peers reach it.
    pub url: String,
    /// Its Ed25519 public key.
    pub public_key: [u8; 32],
    /// The organizations it hosts.
    pub organizations: Vec<HostedOrg>,
}

impl NodeDescriptor {
    /// What the node signs to prove it holds its key, with the caller's nonce.
    pub fn statement(&self, nonce: &[u8]) -> String {
        let mut orgs: Vec<&HostedOrg> = self.organizations.iter().collect();
        orgs.sort_unstable_by(|a, b| a.id.as_str().cmp(b.id.as_str()));
        let orgs: Vec<serde_json::Value> = orgs
            .into_iter()
            .map(|o| {
                json!({
                    "id": o.id.as_str(),
                    "slug": o.slug,
                    "full_name": o.full_name,
                    "kind": o.kind,
                    "short_name": o.short_name,
                    "city": o.city,
                    "time_zone": o.time_zone,
                })
            })
            .collect();
        canonical_json(&json!({
            "format": DESCRIPTOR_FORMAT,
            "nonce": hex::encode(nonce),
            "node_id": self.node_id,
            "name": self.name,
            "url": self.url,
            "public_key": hex::encode(self.public_key),
            "organizations": orgs,
        }))
    }

    /// Checks a descriptor fetched from a would-be peer: its key has the
    /// fingerprint the operator expects, its node id is that fingerprint,
    /// and it signed `nonce`.
    pub fn check(&self, expected: &str, nonce: &[u8], signature: &[u8]) -> Result<(), Error> {
        let actual = fingerprint(&self.public_key);
        if actual != expected {
            return Err(Error::KeyMismatch(format!(
                "the node at {} has key fingerprint {actual}, not the expected {expected}",
                self.url
            )));
        }
        if self.node_id != actual {
            return Err(Error::KeyMismatch(format!(
                "the node at {} calls itself {}, which is not its key's fingerprint",
                self.url,
                crate::text::excerpt(&self.node_id)
            )));
        }
        let key = VerifyingKey::from_bytes(&self.public_key)
            .map_err(|e| Error::KeyMismatch(format!("the node's public key is invalid: {e}")))?;
        let signature = Signature::from_slice(signature)
            .map_err(|_| Error::KeyMismatch("the descriptor's signature is malformed".into()))?;
        key.verify(self.statement(nonce).as_bytes(), &signature)
            .map_err(|_| {
                Error::KeyMismatch(format!(
                    "the node at {} did not prove it holds the key {actual}",
                    self.url
                ))
            })
    }
}

/// Parses a fingerprint given by an operator: 64 hex digits.
pub fn parse_fingerprint(field: &str, raw: &str) -> Result<String, FieldError> {
    let value = raw.trim().to_ascii_lowercase();
    if value.len() != 64 || !value.chars().all(|c| c.is_ascii_hexdigit()) {
        return Err(FieldError::new(
            field,
            "a node's fingerprint is 64 hex digits (its node id)",
        ));
    }
    Ok(value)
}

/// A pinned peer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    /// Its descriptor as last fetched.
    pub descriptor: NodeDescriptor,
    /// When it was pinned, by this node's clock.
    pub added_at: DateTime<Utc>,
}

/// Why a federation operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input broke a rule of its own.
    #[error(transparent)]
    Invalid(#[from] FieldError),
    /// The would-be peer's key is not the one expected, or it did not prove it holds it.
    #[error("{0}")]
    KeyMismatch(String),
    /// The peer could not be reached.
    #[error("{0}")]
    Unreachable(String),
    /// No peer with that node id is pinned.
    #[error("peer {0} not found")]
    NotFound(String),
    /// The peer is pinned already.
    #[error("peer {0} is already pinned")]
    AlreadyPinned(String),
    /// This node follows that peer already.
    #[error("this node already subscribes to peer {0}")]
    AlreadySubscribed(String),
    /// No subscription to that peer.
    #[error("no subscription to peer {0}")]
    NoSubscription(String),
    /// Two peers publish a record under the same id: neither is trusted.
    #[error("{0}")]
    Ambiguous(String),
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl ServiceError for Error {
    fn error_code(&self) -> ErrorCode {
        match self {
            Error::Invalid(e) => e.error_code(),
            Error::KeyMismatch(_) | Error::Ambiguous(_) => ErrorCode::FailedPrecondition,
            Error::Unreachable(_) => ErrorCode::Unavailable,
            Error::NotFound(_) => ErrorCode::NotFound,
            Error::AlreadyPinned(_) | Error::AlreadySubscribed(_) => ErrorCode::AlreadyExists,
            Error::NoSubscription(_) => ErrorCode::NotFound,
            Error::Storage(e) => e.error_code(),
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            Error::Invalid(e) => Some(&e.field),
            _ => None,
        }
    }
}

/// One record as a [`Digest`] counts it: the latest entry of it the reader
/// may see, or the newest one received of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestEntry {
    /// The record's kind.
    pub kind: crate::changes::EntityKind,
    /// The record's id.
    pub entity_id: String,
    /// Its version in that entry.
    pub version: u64,
    /// Whether the entry keeps or deletes it.
    pub operation: crate::changes::Operation,
    /// The entry's sequence in the origin's log.
    pub sequence: u64,
}

/// One origin's records summed up, so that what a node mirrors of a peer
/// can be compared with what that peer shows it without moving the records:
/// equal digests, equal records (kind, id, version and operation each).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Digest {
    /// The origin's node id.
    pub origin: String,
    /// How many records were counted, deleted ones included.
    pub records: u64,
    /// Hex SHA-256 of the records' lines `kind\tid\tversion\toperation\n`,
    /// sorted bytewise: neither the order rows come in nor a database's
    /// collation changes it.
    pub sha256: String,
    /// The highest origin sequence among the entries counted; 0 when none.
    pub latest_sequence: u64,
}

impl Digest {
    /// The digest of `entries`, one per record, of `origin`'s.
    pub fn of(origin: impl Into<String>, entries: &[DigestEntry]) -> Self {
        use sha2::{Digest as _, Sha256};
        let mut lines: Vec<String> = entries
            .iter()
            .map(|e| {
                format!(
                    "{}\t{}\t{}\t{}\n",
                    e.kind.as_str(),
                    e.entity_id,
                    e.version,
                    e.operation.as_str()
                )
            })
            .collect();
        lines.sort_unstable();
        let mut hash = Sha256::new();
        for line in &lines {
            hash.update(line.as_bytes());
        }
        Digest {
            origin: origin.into(),
            records: entries.len() as u64,
            sha256: hex::encode(hash.finalize()),
            latest_sequence: entries.iter().map(|e| e.sequence).max().unwrap_or(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer as _, SigningKey};

    fn descriptor(key: &SigningKey) -> NodeDescriptor {
        let public_key = key.verifying_key().to_bytes();
        NodeDescriptor {
            node_id: fingerprint(&public_key),
            name: "ТУСУР".into(),
            url: "https://edufed.tusur.ru".into(),
            public_key,
            organizations: vec![],
        }
    }

    #[test]
    fn a_peer_proves_it_holds_the_pinned_key() {
        let key = SigningKey::from_bytes(&[3; 32]);
        let d = descriptor(&key);
        let nonce = [1u8; 16];
        let signature = key.sign(d.statement(&nonce).as_bytes()).to_bytes();
        d.check(&d.node_id, &nonce, &signature).unwrap();
        // Another fingerprint expected.
        let other = fingerprint(&[0; 32]);
        assert!(matches!(
            d.check(&other, &nonce, &signature),
            Err(Error::KeyMismatch(_))
        ));
        // A replayed answer to another nonce.
        assert!(d.check(&d.node_id, &[2u8; 16], &signature).is_err());
        // Someone else's descriptor served without its key.
        let impostor = SigningKey::from_bytes(&[4; 32]);
        let forged = impostor.sign(d.statement(&nonce).as_bytes()).to_bytes();
        assert!(d.check(&d.node_id, &nonce, &forged).is_err());
        // A node id that is not the key's fingerprint.
        let mut lying = d.clone();
        lying.node_id = other.clone();
        let signature = key.sign(lying.statement(&nonce).as_bytes()).to_bytes();
        assert!(lying.check(&d.node_id, &nonce, &signature).is_err());
    }

    #[test]
    fn a_digest_is_the_hash_of_the_sorted_lines() {
        use crate::changes::{EntityKind, Operation};
        let entry = |kind, id: &str, version, operation, sequence| DigestEntry {
            kind,
            entity_id: id.into(),
            version,
            operation,
            sequence,
        };
        let entries = [
            entry(EntityKind::Registration, "r1", 2, Operation::Upsert, 9),
            entry(EntityKind::Activity, "a2", 1, Operation::Delete, 4),
            entry(EntityKind::Activity, "a1", 3, Operation::Upsert, 7),
        ];
        let digest = Digest::of("origin", &entries);
        assert_eq!(digest.records, 3);
        assert_eq!(digest.latest_sequence, 9);
        // `printf 'activity\ta1\t3\tupsert\nactivity\ta2\t1\tdelete\nregistration\tr1\t2\tupsert\n' | sha256sum`
        assert_eq!(
            digest.sha256,
            "383baf50bab0e2c7624b3dab8634ffa1ea7ff53e3ea46af3feb081afe0b91abd"
        );
        // The order records come in does not matter; a version does.
        let mut reversed = entries.clone();
        reversed.reverse();
        assert_eq!(Digest::of("origin", &reversed), digest);
        let mut newer = entries.clone();
        newer[0].version = 3;
        assert_ne!(Digest::of("origin", &newer).sha256, digest.sha256);
        // Nothing is the hash of nothing.
        let empty = Digest::of("origin", &[]);
        assert_eq!((empty.records, empty.latest_sequence), (0, 0));
        assert_eq!(
            empty.sha256,
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn fingerprints_are_64_hex_digits() {
        assert!(parse_fingerprint("fingerprint", &"A".repeat(64)).is_ok());
        assert_eq!(
            parse_fingerprint("fingerprint", "abc").unwrap_err().field,
            "fingerprint"
        );
    }
}

/// A subscription to a peer's change log, and how it is doing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// The peer.
    pub peer_id: String,
    /// Only these kinds; all the peer shares when empty.
    pub kinds: Vec<crate::changes::EntityKind>,
    /// The last sequence applied.
    pub cursor: u64,
    /// The latest sequence the peer has reported.
    pub latest_seen: u64,
    /// Whether a stream is open.
    pub connected: bool,
    /// The last failure, if the last attempt failed.
    pub last_error: Option<String>,
    /// When the peer was last heard from.
    pub last_contact: Option<DateTime<Utc>>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
    /// The pinned peer that relays the origin's records, if it is followed
    /// through one.
    pub via: Option<String>,
    /// Which of the peer's activities this node keeps in its calendar.
    pub filter: ActivityFilter,
    /// Followed directly: how many times this node read the peer's records
    /// again from a snapshot. Through a relay: the relay's generation this
    /// node's copies are in step with.
    pub generation: u64,
}

/// Which of a peer's activities a subscription keeps in the calendar; an
/// empty list lets every value through.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ActivityFilter {
    /// Only these publishers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub publishers: Vec<OrgId>,
    /// Only these directions.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub directions: Vec<crate::calendar::Direction>,
    /// Only activities for students of some of these grades.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grades: Option<crate::calendar::GradeRange>,
    /// Only these visibilities.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub visibility: Vec<crate::calendar::Visibility>,
}

impl ActivityFilter {
    /// Whether it lets everything through.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Whether `activity` passes.
    pub fn admits(&self, activity: &crate::calendar::Activity) -> bool {
        let details = &activity.details;
        (self.publishers.is_empty() || self.publishers.contains(&activity.publisher))
            && (self.directions.is_empty()
                || details
                    .direction
                    .is_some_and(|d| self.directions.contains(&d)))
            && self.grades.is_none_or(|wanted| {
                details
                    .audience
                    .students
                    .is_some_and(|grades| grades.overlaps(wanted))
            })
            && (self.visibility.is_empty() || self.visibility.contains(&details.visibility))
    }
}

impl Subscription {
    /// Entries the peer has that this node has not applied yet (an upper
    /// bound: some may be filtered out).
    pub fn lag_entries(&self) -> u64 {
        self.latest_seen.saturating_sub(self.cursor)
    }
}
