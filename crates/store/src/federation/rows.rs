//! The federation tables' rows, each decoded in one place.

use edufed_domain::federation::{HostedOrg, NodeDescriptor, Peer, Subscription};
use edufed_domain::ids::OrgId;
use edufed_domain::{FieldError, StorageError};

use super::Mirror;
use crate::changes::EntryRow;
use crate::sql::{from_json, instant, optional_instant, unsigned};

pub(super) const HOSTED_COLUMNS: &str = "id, slug, full_name, kind, short_name, city, time_zone";
pub(super) const PEER_COLUMNS: &str = "node_id, name, url, public_key, organizations, added_at";
pub(super) const SUBSCRIPTION_COLUMNS: &str = "peer_id, kinds, cursor, latest_seen, connected, \
                                               last_error, last_contact, created_at, via, \
                                               activity_filter, generation";
pub(super) const MIRROR_COLUMNS: &str = "origin, entity_kind, entity_id, version, operation, \
                                         org_id, payload, seq, created_at, actor, signature";

/// An organization of this node's own, as its descriptor lists it.
#[derive(sqlx::FromRow)]
pub(super) struct HostedRow {
    id: String,
    slug: String,
    full_name: String,
    kind: String,
    short_name: String,
    city: String,
    time_zone: String,
}

impl From<HostedRow> for HostedOrg {
    fn from(row: HostedRow) -> Self {
        HostedOrg {
            id: OrgId::from_stored(row.id),
            slug: row.slug,
            full_name: row.full_name,
            kind: row.kind,
            short_name: row.short_name,
            city: row.city,
            time_zone: row.time_zone,
        }
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct PeerRow {
    node_id: String,
    name: String,
    url: String,
    /// The pinned Ed25519 key, hex.
    public_key: String,
    /// The hosted organizations of the descriptor last proved, JSON.
    organizations: String,
    added_at: i64,
}

impl TryFrom<PeerRow> for Peer {
    type Error = StorageError;

    fn try_from(row: PeerRow) -> Result<Self, StorageError> {
        let public_key: [u8; 32] = hex::decode(&row.public_key)
            .ok()
            .and_then(|k| k.try_into().ok())
            .ok_or_else(|| StorageError::new(FieldError::new("public_key", "is malformed")))?;
        let added_at = instant(row.added_at)?;
        Ok(Peer {
            descriptor: NodeDescriptor {
                node_id: row.node_id,
                name: row.name,
                url: row.url,
                public_key,
                organizations: from_json(&row.organizations)?,
            },
            added_at,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct SubscriptionRow {
    peer_id: String,
    /// The entity kinds followed, JSON.
    kinds: String,
    cursor: i64,
    latest_seen: i64,
    connected: i64,
    last_error: Option<String>,
    last_contact: Option<i64>,
    created_at: i64,
    via: Option<String>,
    /// NULL when every activity is followed.
    activity_filter: Option<String>,
    generation: i64,
}

impl TryFrom<SubscriptionRow> for Subscription {
    type Error = StorageError;

    fn try_from(row: SubscriptionRow) -> Result<Self, StorageError> {
        Ok(Subscription {
            peer_id: row.peer_id,
            kinds: from_json(&row.kinds)?,
            cursor: unsigned(row.cursor)?,
            latest_seen: unsigned(row.latest_seen)?,
            connected: row.connected != 0,
            last_error: row.last_error,
            last_contact: optional_instant(row.last_contact)?,
            created_at: instant(row.created_at)?,
            via: row.via,
            filter: row
                .activity_filter
                .as_deref()
                .map(from_json)
                .transpose()?
                .unwrap_or_default(),
            generation: unsigned(row.generation)?,
        })
    }
}

/// A mirrored record: the change-log entry its origin signed, with the
/// signature.
#[derive(sqlx::FromRow)]
pub(super) struct MirrorRow {
    origin: String,
    #[sqlx(flatten)]
    entry: EntryRow,
    /// The origin's Ed25519 signature of the entry, hex.
    signature: String,
}

impl TryFrom<MirrorRow> for Mirror {
    type Error = StorageError;

    fn try_from(row: MirrorRow) -> Result<Self, StorageError> {
        Ok(Mirror {
            origin: row.origin,
            entry: row.entry.try_into()?,
            signature: hex::decode(&row.signature).map_err(StorageError::new)?,
        })
    }
}
