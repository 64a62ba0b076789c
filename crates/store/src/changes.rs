//! The change log: appended in the transaction of each change, read by
//! `Watch`, compacted after the retention period.

use chrono::{DateTime, Utc};
use edufed_domain::StorageError;
use edufed_domain::changes::{ChangeEntry, EntityKind, Error, LogBounds, Operation};
use edufed_domain::ids::OrgId;

use crate::Store;
use crate::error::storage;
use crate::sql::{decode_all, instant, micros, placeholders, signed, unsigned};

pub(crate) const COMPACTED_THROUGH: &str = "change_log_compacted_through";

/// Which entries a reader may see.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangeFilter {
    /// Only these kinds; every kind when empty.
    pub kinds: Vec<EntityKind>,
    /// Only entries of these organizations (or concerning them, or shared
    /// with the whole network); every entry when `None`.
    pub organizations: Option<Vec<OrgId>>,
}

impl Store {
    /// The latest sequence of the log; 0 when nothing was ever written.
    pub async fn latest_sequence(&self) -> Result<u64, StorageError> {
        Ok(self.log_bounds().await?.latest)
    }

    /// What part of the log is retained.
    #[tracing::instrument(name = "store.changes.bounds", skip(self))]
    pub async fn log_bounds(&self) -> Result<LogBounds, StorageError> {
        self.log_bounds_on(self.reader()).await
    }

    /// [`Store::log_bounds`] read through `pool`.
    async fn log_bounds_on(&self, pool: &sqlx::AnyPool) -> Result<LogBounds, StorageError> {
        let row: BoundsRow = sqlx::query_as(
            "SELECT COALESCE((SELECT MAX(seq) FROM change_log), 0) AS latest, \
             (SELECT value FROM node_meta WHERE key = $1) AS compacted, \
             (SELECT value FROM node_meta WHERE key = $2) AS gaps",
        )
        .bind(COMPACTED_THROUGH)
        .bind(crate::backup::LOG_GAPS)
        .fetch_one(pool)
        .await
        .map_err(storage)?;
        let latest = unsigned(row.latest)?;
        let compacted_through = row
            .compacted
            .map(|v| v.parse::<u64>())
            .transpose()
            .map_err(StorageError::new)?
            .unwrap_or(0);
        let gaps = row
            .gaps
            .as_deref()
            .map(crate::sql::from_json::<Vec<(u64, u64)>>)
            .transpose()?
            .unwrap_or_default();
        Ok(LogBounds {
            compacted_through,
            latest: latest.max(compacted_through),
            gaps,
        })
    }

    /// Up to `limit` entries after `after`, in order, that `filter` lets
    /// through. Fails with `CursorExpired` when entries after `after` were
    /// compacted away, even while a reader is streaming.
    pub async fn read_changes(
        &self,
        after: u64,
        limit: u32,
        filter: &ChangeFilter,
    ) -> Result<Vec<ChangeEntry>, Error> {
        self.read_log(after, limit, filter, true).await
    }

    /// [`Store::read_changes`], or, with `checked` false, a read of the
    /// retained log as it is: a snapshot reader starts from 0 and must not
    /// be refused for passing below the compaction bound. Compaction only
    /// deletes entries a later entry of the same record supersedes, so such
    /// a reader still ends with every record's latest entry.
    #[tracing::instrument(name = "store.changes.read", skip(self, filter))]
    pub async fn read_log(
        &self,
        after: u64,
        limit: u32,
        filter: &ChangeFilter,
        checked: bool,
    ) -> Result<Vec<ChangeEntry>, Error> {
        let turn = self.feed_read().await;
        let mut sql = String::from(
            "SELECT seq, entity_kind, entity_id, version, operation, org_id, payload, actor, created_at \
             FROM change_log WHERE seq > $1",
        );
        let mut next = 2;
        // A person's erasure reaches every reader, whatever kinds it reads.
        let mut kinds = filter.kinds.clone();
        if !kinds.is_empty() && !kinds.contains(&EntityKind::Erasure) {
            kinds.push(EntityKind::Erasure);
        }
        if !kinds.is_empty() {
            sql += &format!(" AND entity_kind IN ({})", placeholders(next, kinds.len()));
            next += kinds.len();
        }
        let (visible, next) = visible_to(filter, next);
        sql += &visible;
        sql += &format!(" ORDER BY seq LIMIT ${next}");
        let mut query = sqlx::query_as::<_, EntryRow>(&sql).bind(signed(after));
        for kind in &kinds {
            query = query.bind(kind.as_str());
        }
        for org in filter.organizations.iter().flatten() {
            query = query.bind(org.to_string());
        }
        let rows = query
            .bind(i64::from(limit))
            .fetch_all(turn.pool())
            .await
            .map_err(storage)?;
        // Checked after the read: compaction deletes and moves the bound in
        // one transaction, so if it removed anything this read needed, the
        // new bound is visible now.
        if checked {
            self.log_bounds_on(turn.pool()).await?.check_cursor(after)?;
        }
        drop(turn);
        Ok(decode_all(rows)?)
    }

    /// Deletes the entries written before `before` that a later entry of the
    /// same record supersedes, and remembers how far the log was compacted:
    /// a cursor below that bound may have missed entries. Returns how many
    /// entries were deleted.
    ///
    /// The bound only ever grows, and on PostgreSQL compaction holds the log
    /// lock, so two replicas compacting at once (or a clock stepping back)
    /// can never lower it and let a stale cursor through.
    #[tracing::instrument(name = "store.changes.compact", skip(self))]
    pub async fn compact_changes(&self, before: DateTime<Utc>) -> Result<u64, StorageError> {
        let mut tx = self.write_tx().await?;
        tx.lock_log().await?;
        let previous: Option<String> =
            sqlx::query_scalar("SELECT value FROM node_meta WHERE key = $1")
                .bind(COMPACTED_THROUGH)
                .fetch_optional(tx.conn())
                .await
                .map_err(storage)?;
        let previous: i64 = previous
            .map(|v| v.parse())
            .transpose()
            .map_err(StorageError::new)?
            .unwrap_or(0);
        let through: Option<i64> =
            sqlx::query_scalar("SELECT MAX(seq) FROM change_log WHERE created_at < $1")
                .bind(micros(before))
                .fetch_one(tx.conn())
                .await
                .map_err(storage)?;
        let Some(through) = through.filter(|t| *t > previous) else {
            return Ok(0);
        };
        // The latest entry of each record stays: the retained log is then
        // a snapshot of every record plus the recent history. An entry
        // shared with the network is superseded only by a later shared one,
        // so that a peer reading a snapshot still sees the last state (or
        // the tombstone) it was shown.
        const SUPERSEDED: &str = "SELECT c.seq FROM change_log c WHERE c.seq <= $1 AND EXISTS \
             (SELECT 1 FROM change_log l WHERE l.entity_kind = c.entity_kind \
             AND l.entity_id = c.entity_id AND l.seq > c.seq AND (l.shared = 1 OR c.shared = 0))";
        sqlx::query(&format!(
            "DELETE FROM change_log_audience WHERE seq IN ({SUPERSEDED})"
        ))
        .bind(through)
        .execute(tx.conn())
        .await
        .map_err(storage)?;
        let deleted = sqlx::query(&format!(
            "DELETE FROM change_log WHERE seq IN ({SUPERSEDED})"
        ))
        .bind(through)
        .execute(tx.conn())
        .await
        .map_err(storage)?
        .rows_affected();
        sqlx::query(
            "INSERT INTO node_meta (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(COMPACTED_THROUGH)
        .bind(through.to_string())
        .execute(tx.conn())
        .await
        .map_err(storage)?;
        tx.commit().await?;
        Ok(deleted)
    }
}

/// The condition on a `change_log` entry that lets `filter`'s reader see
/// it (` AND …`, empty when it sees everything), its organizations' ids
/// numbered from `next`, and the number after them. Bind
/// `filter.organizations` in order. Every reader of the log by visibility
/// (`read_log`, a digest of what a peer is shown) takes it from here.
pub(crate) fn visible_to(filter: &ChangeFilter, next: usize) -> (String, usize) {
    match filter.organizations.as_deref() {
        None => (String::new(), next),
        Some([]) => (" AND shared = 1".to_owned(), next),
        Some(orgs) => {
            let list = placeholders(next, orgs.len());
            (
                format!(
                    " AND (shared = 1 OR org_id IN ({list}) OR also_org_id IN ({list}) \
                     OR seq IN (SELECT seq FROM change_log_audience WHERE org_id IN ({list})))"
                ),
                next + orgs.len(),
            )
        }
    }
}

/// A change-log entry's columns, as `change_log` and `mirrors` both keep
/// them.
#[derive(sqlx::FromRow)]
pub(crate) struct EntryRow {
    seq: i64,
    entity_kind: String,
    entity_id: String,
    version: i64,
    operation: String,
    org_id: Option<String>,
    payload: String,
    created_at: i64,
    actor: String,
}

impl TryFrom<EntryRow> for ChangeEntry {
    type Error = StorageError;

    fn try_from(row: EntryRow) -> Result<Self, StorageError> {
        Ok(ChangeEntry {
            sequence: unsigned(row.seq)?,
            kind: EntityKind::parse("entity_kind", &row.entity_kind).map_err(StorageError::new)?,
            entity_id: row.entity_id,
            version: unsigned(row.version)?,
            operation: Operation::parse("operation", &row.operation).map_err(StorageError::new)?,
            org_id: row.org_id.map(OrgId::from_stored),
            payload: row.payload,
            created_at: instant(row.created_at)?,
            actor: row.actor,
        })
    }
}

/// The log's latest sequence and how far it was compacted.
#[derive(sqlx::FromRow)]
struct BoundsRow {
    latest: i64,
    /// `node_meta`'s value, a decimal sequence; NULL before any compaction.
    compacted: Option<String>,
    /// The gaps restores left, as JSON pairs; NULL before any restore.
    gaps: Option<String>,
}
