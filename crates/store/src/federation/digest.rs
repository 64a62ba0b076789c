//! Digests of one origin's records: what this node mirrors of a peer, and
//! its own records as the change log shows them to a reader. A follower's
//! digest of its mirrors and its origin's digest for it are equal exactly
//! when the follower holds, of every record it may see, the entry its
//! origin last showed it.

use edufed_domain::StorageError;
use edufed_domain::changes::{EntityKind, Operation};
use edufed_domain::federation::{Digest, DigestEntry, Error};

use crate::Store;
use crate::changes::{ChangeFilter, visible_to};
use crate::error::storage;
use crate::sql::{decode_all, placeholders, unsigned};

/// The record columns a digest reads, as `change_log` and `mirrors` both
/// keep them.
#[derive(sqlx::FromRow)]
struct DigestRow {
    entity_kind: String,
    entity_id: String,
    version: i64,
    operation: String,
    seq: i64,
}

impl TryFrom<DigestRow> for DigestEntry {
    type Error = StorageError;

    fn try_from(row: DigestRow) -> Result<Self, StorageError> {
        Ok(DigestEntry {
            kind: EntityKind::parse("entity_kind", &row.entity_kind).map_err(StorageError::new)?,
            entity_id: row.entity_id,
            version: unsigned(row.version)?,
            operation: Operation::parse("operation", &row.operation).map_err(StorageError::new)?,
            sequence: unsigned(row.seq)?,
        })
    }
}

/// The condition (`entity_kind <> … AND …`) that counts `kinds` (every
/// kind when empty) but never an erasure, which names a person, not a
/// record a peer keeps, its placeholders numbered from `next`; the kinds to
/// bind after the erasure's name, and the number after them. `None` when no
/// kind asked for counts.
fn counted(kinds: &[EntityKind], next: usize) -> Option<(String, Vec<EntityKind>, usize)> {
    let wanted: Vec<EntityKind> = kinds
        .iter()
        .copied()
        .filter(|k| *k != EntityKind::Erasure)
        .collect();
    if wanted.is_empty() && !kinds.is_empty() {
        return None;
    }
    let mut sql = format!("entity_kind <> ${next}");
    let next = next + 1;
    if wanted.is_empty() {
        return Some((sql, wanted, next));
    }
    sql += &format!(" AND entity_kind IN ({})", placeholders(next, wanted.len()));
    let next = next + wanted.len();
    Some((sql, wanted, next))
}

impl Store {
    /// The digest of what this node mirrors of `origin`: the newest entry
    /// received of each of its records of `kinds` (every kind when empty).
    /// `NotFound` when this node neither pins, follows nor mirrors `origin`.
    #[tracing::instrument(name = "store.federation.mirror_digest", skip(self))]
    pub async fn mirror_digest(&self, origin: &str, kinds: &[EntityKind]) -> Result<Digest, Error> {
        let entries: Vec<DigestEntry> = match counted(kinds, 2) {
            None => Vec::new(),
            Some((condition, wanted, _)) => {
                let sql = format!(
                    "SELECT entity_kind, entity_id, version, operation, seq FROM mirrors \
                     WHERE origin = $1 AND {condition}"
                );
                let mut query = sqlx::query_as::<_, DigestRow>(&sql)
                    .bind(origin.to_owned())
                    .bind(EntityKind::Erasure.as_str());
                for kind in &wanted {
                    query = query.bind(kind.as_str());
                }
                let rows = query.fetch_all(self.reader()).await.map_err(storage)?;
                decode_all(rows)?
            }
        };
        if entries.is_empty() && !self.knows_origin(origin).await? {
            return Err(Error::NotFound(origin.to_owned()));
        }
        Ok(Digest::of(origin, &entries))
    }

    /// The digest of this node's own records, `origin` being its node id,
    /// as the reader `filter` describes is shown them: of each record, the
    /// latest entry among those the reader may see (by `read_log`'s rule,
    /// so an entry hidden from it never hides an older one it saw), of the
    /// filter's kinds. Only numbered entries count, as only they are read.
    #[tracing::instrument(name = "store.federation.own_digest", skip(self, filter))]
    pub async fn own_digest(&self, origin: &str, filter: &ChangeFilter) -> Result<Digest, Error> {
        let Some((condition, wanted, next)) = counted(&filter.kinds, 1) else {
            return Ok(Digest::of(origin, &[]));
        };
        let (visible, _) = visible_to(filter, next);
        // `seq` is unique, so the latest visible entry of each record is
        // the one row with its greatest visible sequence.
        let sql = format!(
            "SELECT entity_kind, entity_id, version, operation, seq FROM change_log \
             WHERE seq IN (SELECT MAX(seq) FROM change_log WHERE {condition}{visible} \
             GROUP BY entity_kind, entity_id)"
        );
        let mut query = sqlx::query_as::<_, DigestRow>(&sql).bind(EntityKind::Erasure.as_str());
        for kind in &wanted {
            query = query.bind(kind.as_str());
        }
        for org in filter.organizations.iter().flatten() {
            query = query.bind(org.to_string());
        }
        let rows = query.fetch_all(self.reader()).await.map_err(storage)?;
        let entries: Vec<DigestEntry> = decode_all(rows)?;
        Ok(Digest::of(origin, &entries))
    }

    /// Whether `origin` is a pinned peer, one this node follows (perhaps
    /// through a relay) or one it mirrors records of.
    async fn knows_origin(&self, origin: &str) -> Result<bool, Error> {
        let followed: Option<String> = sqlx::query_scalar(
            "SELECT node_id FROM peers WHERE node_id = $1 \
             UNION SELECT peer_id FROM subscriptions WHERE peer_id = $1",
        )
        .bind(origin.to_owned())
        .fetch_optional(self.reader())
        .await
        .map_err(storage)?;
        if followed.is_some() {
            return Ok(true);
        }
        let mirrored: Option<String> =
            sqlx::query_scalar("SELECT origin FROM mirrors WHERE origin = $1 LIMIT 1")
                .bind(origin.to_owned())
                .fetch_optional(self.reader())
                .await
                .map_err(storage)?;
        Ok(mirrored.is_some())
    }
}
