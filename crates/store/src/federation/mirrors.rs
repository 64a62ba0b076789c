//! What this node received from its peers: the newest signed entry of
//! each record they publish, kept as a mirror, with the calendar's copies
//! of shared activities; and what of it may be relayed on.

use std::collections::HashSet;

use edufed_domain::StorageError;
use edufed_domain::calendar::{Activity, ActivityStatus, Visibility};
use edufed_domain::changes::{ChangeEntry, EntityKind, Operation};
use edufed_domain::federation::{ActivityFilter, Error};
use edufed_domain::ids::{ActivityId, OrgId};

use super::origin_hosts;
use super::rows::{MIRROR_COLUMNS, MirrorRow};
use crate::Store;
use crate::error::storage;
use crate::sql::{decode_all, from_json, micros, signed, unsigned};
use crate::tx::WriteTx;

/// The kinds a node relays from its mirrors: every entry of them it
/// receives was shared with the whole network.
pub const RELAYED: [EntityKind; 4] = [
    EntityKind::Activity,
    EntityKind::ActivitySeats,
    EntityKind::Resource,
    EntityKind::ResourceBusy,
];

/// A mirrored record: the latest signed entry a peer published for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mirror {
    /// The node that owns the record.
    pub origin: String,
    /// The entry, as the origin published it.
    pub entry: ChangeEntry,
    /// The origin's signature of the entry.
    pub signature: Vec<u8>,
}

impl Mirror {
    /// The record as the origin published it.
    pub fn decode<T: serde::de::DeserializeOwned>(&self) -> Result<T, StorageError> {
        from_json(&self.entry.payload)
    }
}

impl Store {
    /// The mirrored record of `kind` and `id`, if this node mirrors it and
    /// does not hold a record of its own with that id. Two peers publishing
    /// one id is refused as ambiguous.
    pub async fn get_mirror(&self, kind: EntityKind, id: &str) -> Result<Option<Mirror>, Error> {
        if self.owns_record(kind, id).await? {
            return Ok(None);
        }
        let rows: Vec<MirrorRow> = sqlx::query_as(&format!(
            "SELECT {MIRROR_COLUMNS} FROM mirrors WHERE entity_kind = $1 AND entity_id = $2 \
             ORDER BY origin LIMIT 2"
        ))
        .bind(kind.as_str())
        .bind(id.to_owned())
        .fetch_all(self.reader())
        .await
        .map_err(storage)?;
        let mut found = rows.into_iter().map(Mirror::try_from);
        let first = found.next().transpose()?;
        if let Some(second) = found.next().transpose()? {
            let first = first
                .as_ref()
                .map(|m| m.origin.as_str())
                .unwrap_or_default();
            tracing::warn!(%id, kind = kind.as_str(), %first, second = %second.origin, "two peers publish one id");
            return Err(Error::Ambiguous(format!(
                "peers {first} and {} both publish {} {id}; neither is trusted with it",
                second.origin,
                kind.as_str()
            )));
        }
        Ok(first)
    }

    /// The mirrored records of `kind` that `origin` published for `org`.
    pub async fn mirrors_of_org(
        &self,
        origin: &str,
        kind: EntityKind,
        org: &OrgId,
    ) -> Result<Vec<Mirror>, Error> {
        let rows: Vec<MirrorRow> = sqlx::query_as(&format!(
            "SELECT {MIRROR_COLUMNS} FROM mirrors WHERE origin = $1 AND entity_kind = $2 \
             AND org_id = $3 ORDER BY entity_id"
        ))
        .bind(origin.to_owned())
        .bind(kind.as_str())
        .bind(org.to_string())
        .fetch_all(self.reader())
        .await
        .map_err(storage)?;
        decode(rows)
    }

    /// Every mirrored record of `kind` that its origin did not delete, by
    /// origin and id, at most `limit`.
    pub async fn mirrors_of_kind(
        &self,
        kind: EntityKind,
        limit: u32,
    ) -> Result<Vec<Mirror>, Error> {
        let rows: Vec<MirrorRow> = sqlx::query_as(&format!(
            "SELECT {MIRROR_COLUMNS} FROM mirrors WHERE entity_kind = $1 AND operation = $2 \
             ORDER BY origin, entity_id LIMIT $3"
        ))
        .bind(kind.as_str())
        .bind(Operation::Upsert.as_str())
        .bind(i64::from(limit))
        .fetch_all(self.reader())
        .await
        .map_err(storage)?;
        decode(rows)
    }

    /// The mirrored record of `kind` and `id` that `origin` published.
    pub async fn get_mirror_of(
        &self,
        origin: &str,
        kind: EntityKind,
        id: &str,
    ) -> Result<Option<Mirror>, Error> {
        let row: Option<MirrorRow> = sqlx::query_as(&format!(
            "SELECT {MIRROR_COLUMNS} FROM mirrors WHERE origin = $1 AND entity_kind = $2 \
             AND entity_id = $3"
        ))
        .bind(origin.to_owned())
        .bind(kind.as_str())
        .bind(id.to_owned())
        .fetch_optional(self.reader())
        .await
        .map_err(storage)?;
        Ok(row.map(Mirror::try_from).transpose()?)
    }

    /// Whether this node holds a record of its own of `kind` with `id`.
    async fn owns_record(&self, kind: EntityKind, id: &str) -> Result<bool, Error> {
        let table = match kind {
            EntityKind::Activity => "activities",
            EntityKind::Resource | EntityKind::ResourceBusy => "resources",
            EntityKind::Agreement => "agreements",
            EntityKind::Registration => "registrations",
            EntityKind::Booking => "bookings",
            EntityKind::MentoringProgramme => "mentoring_programmes",
            EntityKind::MentoringPair => "mentoring_pairs",
            EntityKind::Trial => "trials",
            _ => return Ok(false),
        };
        let found: Option<String> =
            sqlx::query_scalar(&format!("SELECT id FROM {table} WHERE id = $1"))
                .bind(id.to_owned())
                .fetch_optional(self.reader())
                .await
                .map_err(storage)?;
        Ok(found.is_some())
    }

    /// The records of `origin` this node mirrors that may be relayed to
    /// any peer (all of them were shared with the whole network), after the
    /// origin's sequence `after`, in that order.
    pub async fn relayable_mirrors(
        &self,
        origin: &str,
        after: u64,
        limit: u32,
    ) -> Result<Vec<Mirror>, Error> {
        let turn = self.feed_read().await;
        let kinds = RELAYED
            .iter()
            .map(|k| format!("'{}'", k.as_str()))
            .collect::<Vec<_>>()
            .join(", ");
        let rows: Vec<MirrorRow> = sqlx::query_as(&format!(
            "SELECT {MIRROR_COLUMNS} FROM mirrors WHERE origin = $1 AND seq > $2 \
             AND entity_kind IN ({kinds}) ORDER BY seq LIMIT $3"
        ))
        .bind(origin.to_owned())
        .bind(signed(after))
        .bind(i64::from(limit))
        .fetch_all(turn.pool())
        .await
        .map_err(storage)?;
        drop(turn);
        decode(rows)
    }

    /// This node's generation of `origin`'s records, which its relays pass
    /// on: 0 when it does not follow `origin` or never resynced it.
    pub async fn relay_generation(&self, origin: &str) -> Result<u64, Error> {
        let generation: Option<i64> =
            sqlx::query_scalar("SELECT generation FROM subscriptions WHERE peer_id = $1")
                .bind(origin.to_owned())
                .fetch_optional(self.reader())
                .await
                .map_err(storage)?;
        Ok(generation.map(unsigned).transpose()?.unwrap_or(0))
    }

    /// Applies one verified entry from `origin`: the mirror keeps the newest
    /// entry per record, and the subscription's cursor moves to it, in one
    /// transaction, so a crash anywhere neither loses nor repeats an effect.
    pub async fn apply_mirrored(
        &self,
        origin: &str,
        entry: &ChangeEntry,
        signature: &[u8],
    ) -> Result<(), Error> {
        self.apply_mirrored_batch(origin, &[(entry.clone(), signature.to_vec())])
            .await
    }

    /// Applies verified entries from `origin`, in their order, and moves the
    /// subscription's cursor to the last, all in one transaction: a batch
    /// is applied whole or not at all, and a crash neither loses nor
    /// repeats an effect.
    #[tracing::instrument(name = "store.federation.apply", skip_all, fields(origin, entries = entries.len()))]
    pub async fn apply_mirrored_batch(
        &self,
        origin: &str,
        entries: &[(ChangeEntry, Vec<u8>)],
    ) -> Result<(), Error> {
        let Some((last, _)) = entries.last() else {
            return Ok(());
        };
        let mut tx = self.write_tx().await?;
        let mut cache = BatchCache::default();
        for (entry, signature) in entries {
            apply_one(&mut tx, origin, entry, signature, &mut cache).await?;
        }
        sqlx::query(
            "UPDATE subscriptions SET cursor = $1, connected = 1, last_error = NULL, last_contact = $2, \
             updated_at = $2 WHERE peer_id = $3 AND cursor < $1",
        )
        .bind(signed(last.sequence))
        .bind(micros(self.clock().now()))
        .bind(origin.to_owned())
        .execute(tx.conn())
        .await
        .map_err(storage)?;
        tx.commit().await?;
        self.observe_mirrored();
        Ok(())
    }

    /// Ends a resync from `origin`'s snapshot: the mirrors of its records
    /// the snapshot did not hold (they were deleted, or are no longer shown
    /// to this node) are dropped, with their calendar copies, and the cursor
    /// is set to where the snapshot ended, even below where it was (a peer
    /// restored from a backup). The subscription's generation moves on, so
    /// that nodes following `origin` through this one read it again too;
    /// for a snapshot read through a relay, `relayed` is the relay's
    /// generation it was read at. Returns how many mirrors were dropped.
    pub async fn finish_snapshot(
        &self,
        origin: &str,
        seen: &HashSet<(EntityKind, String)>,
        latest: u64,
        relayed: Option<u64>,
    ) -> Result<u64, Error> {
        let mut tx = self.write_tx().await?;
        let keys: Vec<(String, String)> =
            sqlx::query_as("SELECT entity_kind, entity_id FROM mirrors WHERE origin = $1")
                .bind(origin.to_owned())
                .fetch_all(tx.conn())
                .await
                .map_err(storage)?;
        let mut dropped = 0;
        for (kind, id) in keys {
            let Ok(kind) = EntityKind::parse("entity_kind", &kind) else {
                continue;
            };
            if seen.contains(&(kind, id.clone())) {
                continue;
            }
            sqlx::query(
                "DELETE FROM mirrors WHERE origin = $1 AND entity_kind = $2 AND entity_id = $3",
            )
            .bind(origin.to_owned())
            .bind(kind.as_str())
            .bind(id.clone())
            .execute(tx.conn())
            .await
            .map_err(storage)?;
            if kind == EntityKind::Activity {
                crate::calendar::forget_mirrored_activity(
                    &mut tx,
                    origin,
                    &ActivityId::from_stored(id),
                )
                .await?;
            } else if kind == EntityKind::Designation {
                crate::directory::forget_mirrored_designation(&mut tx, origin, &id).await?;
            }
            dropped += 1;
        }
        let at = micros(self.clock().now());
        // -1: a snapshot of the origin's own, which starts a generation.
        let relayed = relayed.map_or(-1, signed);
        sqlx::query(
            "UPDATE subscriptions SET cursor = $1, latest_seen = $1, connected = 1, last_error = NULL, \
             last_contact = $2, updated_at = $2, \
             generation = CASE WHEN $4 < 0 THEN generation + 1 ELSE $4 END WHERE peer_id = $3",
        )
        .bind(signed(latest))
        .bind(at)
        .bind(origin.to_owned())
        .bind(relayed)
        .execute(tx.conn())
        .await
        .map_err(storage)?;
        tx.commit().await?;
        self.observe_mirrored();
        Ok(dropped)
    }

    /// The mirrored records of `origin` (every origin when `None`), by kind and id.
    pub async fn list_mirrors(&self, origin: Option<&str>) -> Result<Vec<Mirror>, Error> {
        let rows: Vec<MirrorRow> = sqlx::query_as(&format!(
            "SELECT {MIRROR_COLUMNS} FROM mirrors WHERE ($1 = '' OR origin = $1) \
             ORDER BY entity_kind, entity_id"
        ))
        .bind(origin.unwrap_or_default().to_owned())
        .fetch_all(self.reader())
        .await
        .map_err(storage)?;
        decode(rows)
    }
}

fn decode(rows: Vec<MirrorRow>) -> Result<Vec<Mirror>, Error> {
    Ok(decode_all(rows)?)
}

/// Keeps the queryable copies of a mirrored record in step with its newest
/// entry: activities and their seats feed the calendar's finding queries.
/// An entry whose payload this node cannot read is kept as a mirror only.
async fn materialize(
    tx: &mut WriteTx<'_>,
    origin: &str,
    entry: &ChangeEntry,
    cache: &mut BatchCache,
) -> Result<(), Error> {
    let id = ActivityId::from_stored(entry.entity_id.clone());
    match (entry.kind, entry.operation) {
        // A person of the origin's erased: the names its writes brought
        // here (the audit trail of what it forwarded for them) go too.
        (EntityKind::Erasure, _) => {
            let forgotten = sqlx::query(
                "UPDATE audit_log SET acting_name = NULL WHERE actor = $1 AND via_node = $2",
            )
            .bind(format!("{}@{origin}", entry.entity_id))
            .bind(origin.to_owned())
            .execute(tx.conn())
            .await
            .map_err(storage)?
            .rows_affected();
            tracing::info!(%origin, person = %entry.entity_id, forgotten, "a peer's person erased");
        }
        (EntityKind::Activity, Operation::Upsert) => {
            let activity = match serde_json::from_str::<Activity>(&entry.payload) {
                Ok(activity) => activity,
                Err(error) => {
                    tracing::warn!(%origin, id = %entry.entity_id, %error, "mirrored activity unreadable");
                    return Ok(());
                }
            };
            // The signed entry names the record and its organization; the
            // payload must agree, and the organization be one the origin hosts.
            let hosted = cache.hosts(tx, origin, &activity.publisher).await?;
            let consistent =
                activity.id == id && entry.org_id.as_ref() == Some(&activity.publisher);
            if !(hosted && consistent) {
                tracing::warn!(%origin, id = %entry.entity_id, "mirrored activity does not match its entry or origin; ignored");
                return Ok(());
            }
            // The subscription's filter decides what joins the calendar.
            let wanted = cache
                .filter(tx, origin)
                .await?
                .is_none_or(|filter| filter.admits(&activity));
            let shared = activity.status != ActivityStatus::Draft
                && activity.details.visibility != Visibility::Organization
                && wanted;
            if !shared {
                crate::calendar::forget_mirrored_activity(tx, origin, &id).await?;
                return Ok(());
            }
            match crate::calendar::mirror_activity(tx, origin, &activity).await {
                Ok(()) => {
                    // Its seat counts may have arrived first (a snapshot or a
                    // relay sends them in sequence order): apply them now.
                    let seats: Option<String> = sqlx::query_scalar(
                        "SELECT payload FROM mirrors WHERE origin = $1 \
                         AND entity_kind = 'activity_seats' AND entity_id = $2",
                    )
                    .bind(origin.to_owned())
                    .bind(entry.entity_id.clone())
                    .fetch_optional(tx.conn())
                    .await
                    .map_err(storage)?;
                    if let Some(seats) = seats.and_then(|s| serde_json::from_str(&s).ok()) {
                        crate::calendar::mirror_seats(tx, origin, &seats).await?;
                    }
                }
                Err(edufed_domain::calendar::Error::Storage(e)) => return Err(Error::Storage(e)),
                // A schedule this node cannot expand (a rule or zone it does
                // not know) must not stall the subscription.
                Err(other) => {
                    tracing::warn!(%origin, id = %entry.entity_id, error = %other, "mirrored activity not materialized");
                    crate::calendar::forget_mirrored_activity(tx, origin, &id).await?;
                }
            }
        }
        (EntityKind::Activity, Operation::Delete) => {
            crate::calendar::forget_mirrored_activity(tx, origin, &id).await?;
        }
        (EntityKind::ActivitySeats, Operation::Upsert) => {
            if let Ok(seats) = serde_json::from_str(&entry.payload) {
                crate::calendar::mirror_seats(tx, origin, &seats).await?;
            }
        }
        (EntityKind::Designation, Operation::Upsert) => {
            crate::directory::mirror_designation(
                tx,
                origin,
                &entry.payload,
                &entry.entity_id,
                entry.org_id.as_ref(),
            )
            .await?;
        }
        (EntityKind::Designation, Operation::Delete) => {
            crate::directory::forget_mirrored_designation(tx, origin, &entry.entity_id).await?;
        }
        _ => {}
    }
    Ok(())
}

/// What a batch reads once: which organizations the origin hosts, and the
/// subscription's activity filter.
#[derive(Default)]
struct BatchCache {
    hosts: std::collections::HashMap<OrgId, bool>,
    filter: Option<Option<ActivityFilter>>,
}

impl BatchCache {
    /// Whether `origin` hosts `org`, asked once per batch.
    async fn hosts(
        &mut self,
        tx: &mut WriteTx<'_>,
        origin: &str,
        org: &OrgId,
    ) -> Result<bool, Error> {
        if let Some(known) = self.hosts.get(org) {
            return Ok(*known);
        }
        let known = origin_hosts(tx, origin, org).await?;
        self.hosts.insert(org.clone(), known);
        Ok(known)
    }

    /// The subscription's activity filter, read once per batch.
    async fn filter(
        &mut self,
        tx: &mut WriteTx<'_>,
        origin: &str,
    ) -> Result<Option<ActivityFilter>, Error> {
        if let Some(filter) = &self.filter {
            return Ok(filter.clone());
        }
        let filter: Option<String> =
            sqlx::query_scalar("SELECT activity_filter FROM subscriptions WHERE peer_id = $1")
                .bind(origin.to_owned())
                .fetch_optional(tx.conn())
                .await
                .map_err(storage)?
                .flatten();
        let filter = filter.and_then(|json| serde_json::from_str::<ActivityFilter>(&json).ok());
        self.filter = Some(filter.clone());
        Ok(filter)
    }
}

/// Applies one verified entry from `origin` inside `tx`: the mirror keeps
/// the newest entry per record; a newer one is materialized and told.
async fn apply_one(
    tx: &mut WriteTx<'_>,
    origin: &str,
    entry: &ChangeEntry,
    signature: &[u8],
    cache: &mut BatchCache,
) -> Result<(), Error> {
    // A record an origin publishes must belong to an organization it
    // hosts; anything else is not kept (nor relayed), only passed over.
    let owned = matches!(
        entry.kind,
        EntityKind::Activity
            | EntityKind::ActivitySeats
            | EntityKind::Registration
            | EntityKind::Resource
            | EntityKind::ResourceBusy
            | EntityKind::Booking
            | EntityKind::Agreement
            | EntityKind::MentoringProgramme
            | EntityKind::MentoringPair
            | EntityKind::Trial
            | EntityKind::Designation
    );
    let accepted = match &entry.org_id {
        _ if !owned => true,
        Some(org) => cache.hosts(tx, origin, org).await?,
        None => false,
    };
    if !accepted {
        tracing::warn!(%origin, kind = entry.kind.as_str(), id = %entry.entity_id, "entry for an organization its origin does not host; not kept");
        return Ok(());
    }
    // What the record was, for the news a change of it brings (only these
    // kinds bring any).
    let before: Option<String> = if matches!(
        entry.kind,
        EntityKind::Registration | EntityKind::Booking | EntityKind::Agreement
    ) {
        sqlx::query_scalar(
            "SELECT payload FROM mirrors WHERE origin = $1 AND entity_kind = $2 AND entity_id = $3",
        )
        .bind(origin.to_owned())
        .bind(entry.kind.as_str())
        .bind(entry.entity_id.clone())
        .fetch_optional(tx.conn())
        .await
        .map_err(storage)?
    } else {
        None
    };
    let newer = sqlx::query(
        "INSERT INTO mirrors (origin, entity_kind, entity_id, version, operation, org_id, payload, seq, \
         created_at, actor, signature) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
         ON CONFLICT (origin, entity_kind, entity_id) DO UPDATE SET version = excluded.version, \
         operation = excluded.operation, org_id = excluded.org_id, payload = excluded.payload, \
         seq = excluded.seq, created_at = excluded.created_at, actor = excluded.actor, \
         signature = excluded.signature WHERE mirrors.seq < excluded.seq",
    )
    .bind(origin.to_owned())
    .bind(entry.kind.as_str())
    .bind(entry.entity_id.clone())
    .bind(signed(entry.version))
    .bind(entry.operation.as_str())
    .bind(entry.org_id.as_ref().map(|o| o.to_string()))
    .bind(entry.payload.clone())
    .bind(signed(entry.sequence))
    .bind(micros(entry.created_at))
    .bind(entry.actor.clone())
    .bind(hex::encode(signature))
    .execute(tx.conn())
    .await
    .map_err(storage)?
    .rows_affected()
        > 0;
    if newer {
        materialize(tx, origin, entry, cache).await?;
        let now = tx.now();
        crate::notify::tell_mirrored(tx.conn(), entry, before.as_deref(), now).await?;
    }
    // An organization's record may move where it is hosted.
    if entry.kind == EntityKind::Organization {
        cache.hosts.clear();
    }
    Ok(())
}
