//! The decisions on an agreement that the store takes under its lock: who
//! may see it, and a party's signature or refusal of the version awaiting
//! signatures.

use chrono::{DateTime, Utc};

use super::signing::Signature;
use super::{Agreement, Decline, Error, REGISTER};
use crate::ids::{AgreementId, OrgId};
use crate::policy::{Action, Principal, Target, authorize};

/// What signs for this node: its key, over a statement's bytes.
pub trait Signer: Send + Sync {
    /// The node's id: the hex SHA-256 of its public key.
    fn node_id(&self) -> String;
    /// The node's Ed25519 public key.
    fn public_key(&self) -> [u8; 32];
    /// The Ed25519 signature of `message`.
    fn sign(&self, message: &[u8]) -> Vec<u8>;
}

/// A party's answer to the version awaiting signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ballot {
    pub agreement: AgreementId,
    /// The party answering; the caller was authorized to sign for it.
    pub org: OrgId,
    /// The version the caller read.
    pub version: u32,
    pub vote: Vote,
}

/// A signature or a refusal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Vote {
    /// Sign; with the content hash the caller read, checked against the
    /// version's.
    Sign {
        /// The hash read, if the caller gave it.
        content_hash: Option<String>,
    },
    /// Decline, saying why.
    Decline {
        /// Why, for the other parties.
        comment: String,
    },
}

impl Agreement {
    /// Whether `caller` may see the agreement: members of its parties, or
    /// anyone once it is in the network's register. Anyone else is told it
    /// does not exist.
    pub fn seen_by(&self, caller: &Principal) -> Result<(), Error> {
        let sees = authorize(caller, Action::ViewAllRecords, Target::Node).is_ok()
            || REGISTER.contains(&self.lifecycle.state())
            || self.all_parties().iter().any(|org| {
                authorize(caller, Action::ViewAgreements, Target::Organization(org)).is_ok()
            });
        if sees {
            Ok(())
        } else {
            Err(Error::NotFound(self.id.to_string()))
        }
    }

    /// Casts `ballot` for `caller` at `now`: a signature, made with this
    /// node's key over the version's content hash, or a refusal. The version
    /// must be the one awaiting signatures, its hash the one the caller read,
    /// and the organization one of its parties.
    pub fn cast(
        &mut self,
        ballot: &Ballot,
        caller: &Principal,
        now: DateTime<Utc>,
        signer: &dyn Signer,
    ) -> Result<Option<Signature>, Error> {
        let Vote::Sign { content_hash } = &ballot.vote else {
            return self.decline(ballot, caller, now).map(|()| None);
        };
        let number = ballot.version;
        let version = self
            .versions
            .iter()
            .find(|v| v.number == number)
            .ok_or_else(|| {
                crate::FieldError::new("version", format!("there is no version {number}"))
            })?;
        let hash = version.content_hash.clone().ok_or_else(|| {
            Error::WrongState(format!(
                "the agreement is {}: version {number} has not been proposed",
                self.lifecycle.state(),
            ))
        })?;
        if let Some(read) = content_hash.as_deref().filter(|h| *h != hash) {
            return Err(Error::Stale(format!(
                "version {number} has content hash {hash}, not the {read} you read"
            )));
        }
        let signatory = version
            .content
            .parties
            .iter()
            .find(|p| p.org_id == ballot.org)
            .map(|p| p.signatory.name.clone())
            .ok_or_else(|| {
                Error::WrongState(format!(
                    "organization {} is not a party to version {number}",
                    ballot.org
                ))
            })?;
        self.awaiting(number)?;
        let mut signature = Signature {
            version: number,
            content_hash: hash,
            org_id: ballot.org.clone(),
            person_id: caller.person_id.clone(),
            signatory,
            signed_at: now,
            node_id: signer.node_id(),
            public_key: signer.public_key(),
            signature: Vec::new(),
        };
        signature.signature = signer.sign(signature.statement(&self.id).as_bytes());
        self.lifecycle = self.lifecycle.sign(&signature.org_id, now)?;
        if let Some(version) = self.versions.iter_mut().find(|v| v.number == number) {
            version.signatures.push(signature.clone());
        }
        Ok(Some(signature))
    }

    fn decline(
        &mut self,
        ballot: &Ballot,
        caller: &Principal,
        now: DateTime<Utc>,
    ) -> Result<(), Error> {
        let Vote::Decline { comment } = &ballot.vote else {
            return Ok(());
        };
        self.awaiting(ballot.version)?;
        self.lifecycle = self.lifecycle.decline(&ballot.org)?;
        if let Some(v) = self
            .versions
            .iter_mut()
            .find(|v| v.number == ballot.version)
        {
            v.declined = Some(Decline {
                org_id: ballot.org.clone(),
                person_id: caller.person_id.clone(),
                comment: comment.clone(),
                at: now,
            });
        }
        Ok(())
    }

    /// Whether `version` is the one awaiting signatures.
    fn awaiting(&self, version: u32) -> Result<(), Error> {
        match self.lifecycle.ballot().map(|b| b.version) {
            Some(v) if v == version => Ok(()),
            Some(v) => Err(Error::Stale(format!(
                "version {v} awaits signatures, not version {version}"
            ))),
            None => Err(Error::WrongState(format!(
                "the agreement is {}: no version awaits signatures",
                self.lifecycle.state()
            ))),
        }
    }
}
