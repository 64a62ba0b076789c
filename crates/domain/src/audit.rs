//! The audit trail: who changed which record, when, how and from where.
//!
//! Every write a node makes to its records leaves an entry, in the same
//! transaction as the write, in a table of its own that change-log
//! compaction does not touch; entries go after their retention (three
//! years unless configured). A write a node sent to a record's home node
//! leaves one entry there (the peer acting for its person) and one here
//! (the person, and where the write went).

use chrono::{DateTime, Utc};

use crate::ids::{OrgId, PersonId};
use crate::policy::Credential;

/// How long entries are kept unless the operator says otherwise.
pub const DEFAULT_RETENTION_DAYS: u32 = 3 * 365;

/// What an entry names the node itself as, for its own background work.
pub const NODE_ACTOR: &str = "node";

/// Where a call came from, as the node's edge saw it: recorded with every
/// write the call makes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CallOrigin {
    /// The call's path (`/edufed.v1.Booking/CancelBooking`), or the name
    /// of the background work that wrote.
    pub method: String,
    /// What the caller proved who they are with.
    pub credential: Option<Credential>,
    /// The client's network address.
    pub address: Option<String>,
    /// The name of the person a peer acts for, as the peer sent it: this
    /// node does not keep the person.
    pub acting_name: Option<String>,
}

impl CallOrigin {
    /// A call to `method` from `address`.
    pub fn call(method: impl Into<String>, address: Option<String>) -> Self {
        Self {
            method: method.into(),
            credential: None,
            address,
            acting_name: None,
        }
    }

    /// Background work of the node's own (`agreement lifecycle`).
    pub fn work(name: impl Into<String>) -> Self {
        Self::call(format!("work:{}", name.into()), None)
    }

    /// The node a forwarded call came from.
    pub fn via_node(&self) -> Option<&str> {
        match &self.credential {
            Some(Credential::Peer(node)) => Some(node),
            _ => None,
        }
    }

    /// The credential as an entry records it: `token:<id>`,
    /// `session:<id>` or `peer:<node id>`.
    pub fn credential_text(&self) -> Option<String> {
        self.credential.as_ref().map(|c| match c {
            Credential::Token(id) => format!("token:{id}"),
            Credential::Session(id) => format!("session:{id}"),
            Credential::Peer(node) => format!("peer:{node}"),
        })
    }
}

/// One write, as the trail keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Unique and ordered by time (a UUIDv7).
    pub id: String,
    pub at: DateTime<Utc>,
    /// The call's path or the background work's name; empty when the
    /// write was made outside a call (the node's start-up, a command).
    pub method: String,
    /// The kind of record written (`booking`, `growth_record`…).
    pub kind: String,
    pub record_id: String,
    /// The record's version after the write, where it has versions.
    pub version: Option<u64>,
    /// `upsert`, `delete`, or `forward` for a write sent to the record's
    /// home node.
    pub operation: String,
    /// The organizations the record belongs to, whose admins read the
    /// entry.
    pub org_id: Option<OrgId>,
    pub also_org_id: Option<OrgId>,
    /// The person who wrote, or [`NODE_ACTOR`].
    pub actor: String,
    /// The person's name as this node knows it now, if it knows them.
    pub actor_name: Option<String>,
    /// `token:<id>`, `session:<id>` or `peer:<node id>`.
    pub credential: Option<String>,
    /// The node that forwarded the write here for one of its people.
    pub via_node: Option<String>,
    /// The node this node forwarded the write to.
    pub forwarded_to: Option<String>,
    /// The client's address.
    pub address: Option<String>,
}

impl AuditEntry {
    /// The person who wrote, unless it was the node.
    pub fn person(&self) -> Option<PersonId> {
        (self.actor != NODE_ACTOR).then(|| PersonId::from_stored(self.actor.clone()))
    }
}

/// Which entries to list, newest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    /// Entries of records of these organizations only; `None` is every
    /// entry (the operator).
    pub scope: Option<Vec<OrgId>>,
    /// Entries of records of this organization only.
    pub org: Option<OrgId>,
    /// Entries of this kind of record only.
    pub kind: Option<String>,
    /// Entries of this record only.
    pub record_id: Option<String>,
    /// Entries written by this person only.
    pub actor: Option<String>,
    /// Entries at or after this instant.
    pub since: Option<DateTime<Utc>>,
    /// Entries before this instant.
    pub until: Option<DateTime<Utc>>,
}
