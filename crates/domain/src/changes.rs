//! The node's change log: what changed, in which order, by whom. Every
//! mutation appends an entry in the same transaction as the change.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::error::{ErrorCode, ServiceError, StorageError};
use crate::ids::{OrgId, PersonId};
use crate::stable::string_enum;

string_enum!(
    /// The kinds of entity the log records.
    EntityKind {
        /// An organization's profile; the payload is the
        /// [`Organization`](crate::directory::Organization).
        Organization = "organization",
        /// A person's record; the payload is the [`Person`](crate::directory::Person).
        Person = "person",
        /// A person's role in an organization.
        Membership = "membership",
        /// An API token's public record.
        ApiToken = "api_token",
        /// A calendar activity; the payload is the
        /// [`Activity`](crate::calendar::Activity).
        Activity = "activity",
        /// An activity's seat counts per occurrence.
        ActivitySeats = "activity_seats",
        /// A cohort's registration for an activity, under the activity's
        /// publisher and readable by the registering school.
        Registration = "registration",
        /// A bookable resource; the payload is the
        /// [`Resource`](crate::booking::Resource).
        Resource = "resource",
        /// A booking and its occurrences.
        Booking = "booking",
        /// A resource's busy times from now on, without who booked them:
        /// what peers see of its bookings.
        ResourceBusy = "resource_busy",
        /// A network agreement: its lifecycle and versions.
        Agreement = "agreement",
        /// A peer pinned, unpinned or followed; the payload names its node.
        Peer = "peer",
        /// A mentoring programme; the payload is the
        /// [`Programme`](crate::mentoring::Programme).
        MentoringProgramme = "mentoring_programme",
        /// A mentoring pair or group as other nodes see it: the
        /// [`SharedPair`](crate::mentoring::SharedPair), never its people.
        MentoringPair = "mentoring_pair",
        /// A professional trial; shared while it is in the network's bank
        /// (approved), the payload the [`Trial`](crate::trials::Trial).
        Trial = "trial",
        /// An organization's designation; the payload is the
        /// [`Designation`](crate::designations::Designation).
        Designation = "designation",
        /// A school's route template; never shared.
        RouteTemplate = "route_template",
        /// A route assigned to a school's cohort; never shared.
        Route = "route",
        /// A person's data erased on their request: a tombstone, shared
        /// with every peer, so that what they hold of the person goes too.
        /// The payload names the person's id only.
        Erasure = "erasure",
    }
);

string_enum!(
    /// What a change did.
    Operation as ChangeOperation {
        /// Created or changed; the payload is the new state.
        Upsert = "upsert",
        /// Deleted; the payload is the last state.
        Delete = "delete",
    }
);

/// Who made a change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// A person, through a token.
    Person(PersonId),
    /// The node itself (start-up, background jobs).
    Node,
}

impl Actor {
    /// How the actor is recorded.
    pub fn as_string(&self) -> String {
        match self {
            Actor::Person(id) => id.to_string(),
            Actor::Node => "node".to_owned(),
        }
    }
}

/// A change to append to the log.
#[derive(Debug, Clone)]
pub struct NewChange {
    pub kind: EntityKind,
    /// The id of the record changed, unique within its kind.
    pub entity_id: String,
    /// The entity's version after the change.
    pub version: u64,
    pub operation: Operation,
    /// The organization the entity belongs to, if any.
    pub org_id: Option<OrgId>,
    /// A second organization the entity concerns (a registration's school).
    pub also_org_id: Option<OrgId>,
    /// Further organizations the entry concerns (an agreement's parties).
    pub audience: Vec<OrgId>,
    /// Whether every member of the network may read the entry.
    pub shared: bool,
    /// The entity's state, as JSON.
    pub payload: serde_json::Value,
    pub actor: Actor,
}

impl NewChange {
    /// The same change, also readable by `org`.
    pub fn also_for(mut self, org: OrgId) -> Self {
        self.also_org_id = Some(org);
        self
    }

    /// The same entry, readable by members of each of `orgs` too.
    pub fn for_orgs(mut self, orgs: impl IntoIterator<Item = OrgId>) -> Self {
        self.audience.extend(orgs);
        self
    }

    /// The same change, readable by every member of the network when
    /// `shared`.
    pub fn shared(mut self, shared: bool) -> Self {
        self.shared = shared;
        self
    }

    /// An upsert of `entity`, serialized as its payload.
    pub fn upsert(
        kind: EntityKind,
        entity_id: impl Into<String>,
        version: u64,
        org_id: Option<OrgId>,
        entity: &impl Serialize,
        actor: &Actor,
    ) -> Self {
        Self {
            kind,
            entity_id: entity_id.into(),
            version,
            operation: Operation::Upsert,
            org_id,
            also_org_id: None,
            audience: Vec::new(),
            shared: false,
            payload: serde_json::to_value(entity).unwrap_or(serde_json::Value::Null),
            actor: actor.clone(),
        }
    }

    /// A deletion of `entity`, whose last state is the payload.
    pub fn delete(
        kind: EntityKind,
        entity_id: impl Into<String>,
        version: u64,
        org_id: Option<OrgId>,
        entity: &impl Serialize,
        actor: &Actor,
    ) -> Self {
        Self {
            operation: Operation::Delete,
            ..Self::upsert(kind, entity_id, version, org_id, entity, actor)
        }
    }
}

/// An entry of the log as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeEntry {
    /// Position in the log, strictly increasing.
    pub sequence: u64,
    pub kind: EntityKind,
    /// The id of the record changed, unique within its kind.
    pub entity_id: String,
    /// The entity's version after the change.
    pub version: u64,
    pub operation: Operation,
    /// The organization the entity belongs to, if any.
    pub org_id: Option<OrgId>,
    /// The entity's state as JSON text.
    pub payload: String,
    /// When the change was written, by the writing node's clock.
    pub created_at: DateTime<Utc>,
    /// Who did it, as recorded.
    pub actor: String,
}

/// The format tag of a signed change-log statement.
pub const ENTRY_FORMAT: &str = "edufed.change.v1";

impl ChangeEntry {
    /// The statement a node signs when it publishes this entry: canonical
    /// JSON (sorted keys, no whitespace) of every field a subscriber
    /// applies, with the payload exactly as sent and the publishing node's
    /// id. Ed25519 is deterministic, so the same entry always carries the
    /// same signature, which a relaying node can pass on unchanged.
    pub fn statement(&self, node_id: &str) -> String {
        crate::stable::canonical_json(&serde_json::json!({
            "format": ENTRY_FORMAT,
            "node_id": node_id,
            "sequence": self.sequence,
            "entity_kind": self.kind.as_str(),
            "entity_id": self.entity_id,
            "version": self.version,
            "operation": self.operation.as_str(),
            "organization_id": self.org_id.as_ref().map(|o| o.as_str()).unwrap_or_default(),
            "payload_json": self.payload,
            "time": self.created_at.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
            "actor": self.actor,
        }))
    }
}

/// The bounds of the retained log.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LogBounds {
    /// Entries up to and including this sequence have been compacted away.
    pub compacted_through: u64,
    /// The latest sequence written; 0 for an empty log.
    pub latest: u64,
    /// Sequences a restore from a backup left unused, each `(after,
    /// through]`: a reader may have seen entries there that the restored
    /// node no longer holds.
    pub gaps: Vec<(u64, u64)>,
}

impl LogBounds {
    /// Whether a reader may resume after `cursor` without missing entries:
    /// the entries after it must still be there, and the cursor must not
    /// point past the end (a cursor from another database) nor into a gap a
    /// restore left (entries read before the restore that it lost).
    pub fn check_cursor(&self, cursor: u64) -> Result<(), Error> {
        let in_gap = self
            .gaps
            .iter()
            .any(|(after, through)| cursor > *after && cursor <= *through);
        if cursor < self.compacted_through || cursor > self.latest || in_gap {
            return Err(Error::CursorExpired {
                cursor,
                oldest: self.compacted_through + 1,
                latest: self.latest,
            });
        }
        Ok(())
    }
}

/// Why reading the log failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The cursor is outside the retained log; the reader must resync.
    #[error(
        "cursor {cursor} is outside the retained change log (oldest sequence {oldest}, latest {latest}); \
         re-read the current state and watch from the latest sequence"
    )]
    CursorExpired {
        /// The sequence the reader asked to resume after.
        cursor: u64,
        /// The oldest sequence that may still be read.
        oldest: u64,
        /// The latest sequence written.
        latest: u64,
    },
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl ServiceError for Error {
    fn error_code(&self) -> ErrorCode {
        match self {
            Error::CursorExpired { .. } => ErrorCode::OutOfRange,
            Error::Storage(e) => e.error_code(),
        }
    }

    /// A reader told its cursor expired resyncs from a snapshot: the reason
    /// and the bounds travel machine-readably.
    fn reason(&self) -> Option<crate::Reason> {
        match self {
            Error::CursorExpired { oldest, latest, .. } => Some(crate::Reason {
                reason: "CURSOR_EXPIRED",
                metadata: vec![
                    ("oldest_sequence", oldest.to_string()),
                    ("latest_sequence", latest.to_string()),
                ],
            }),
            Error::Storage(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_bounds() {
        let bounds = LogBounds {
            compacted_through: 10,
            latest: 20,
            gaps: vec![],
        };
        assert!(bounds.check_cursor(10).is_ok());
        assert!(bounds.check_cursor(20).is_ok());
        assert!(matches!(
            bounds.check_cursor(9),
            Err(Error::CursorExpired {
                oldest: 11,
                latest: 20,
                ..
            })
        ));
        assert!(bounds.check_cursor(21).is_err());
        let empty = LogBounds::default();
        assert!(empty.check_cursor(0).is_ok());
        // A restore from a copy whose log ended at 15 left (15, 115]; the
        // restored node has written 116 to 120 since.
        let restored = LogBounds {
            compacted_through: 0,
            latest: 120,
            gaps: vec![(15, 115)],
        };
        assert!(restored.check_cursor(15).is_ok());
        assert!(restored.check_cursor(16).is_err());
        assert!(restored.check_cursor(115).is_err());
        assert!(restored.check_cursor(116).is_ok());
    }
}
