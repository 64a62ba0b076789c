//! Leases: background work that one replica of a node does at a time.
//! A replica holds a lease until it expires, renewing it well before;
//! another takes it only once it has expired, under the next term.

use chrono::{DateTime, Utc};
use edufed_domain::StorageError;

use crate::Store;
use crate::error::storage;
use crate::sql::{instant, micros, unsigned};

/// A term of a lease, as recorded when it began.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Term {
    pub term: u64,
    pub holder: String,
    pub started_at: DateTime<Utc>,
}

impl Store {
    /// Takes the lease `name` for `holder`, or keeps it, until `ttl` from
    /// now (the store's clock): its term when `holder` holds it, `None`
    /// while another holder's has not expired.
    pub async fn hold_lease(
        &self,
        name: &str,
        holder: &str,
        ttl: chrono::Duration,
    ) -> Result<Option<u64>, StorageError> {
        let now = self.clock().now();
        let mut tx = self.write_tx().await?;
        let term: Option<i64> = sqlx::query_scalar(
            "INSERT INTO leases (name, holder, term, expires_at) VALUES ($1, $2, 1, $3) \
             ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, \
             expires_at = excluded.expires_at, \
             term = CASE WHEN leases.holder = excluded.holder THEN leases.term \
                         ELSE leases.term + 1 END \
             WHERE leases.holder = excluded.holder OR leases.expires_at < $4 \
             RETURNING term",
        )
        .bind(name.to_owned())
        .bind(holder.to_owned())
        .bind(micros(now + ttl))
        .bind(micros(now))
        .fetch_optional(tx.conn())
        .await
        .map_err(storage)?;
        let Some(term) = term else {
            tx.commit().await?;
            return Ok(None);
        };
        sqlx::query(
            "INSERT INTO lease_terms (name, term, holder, started_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (name, term) DO NOTHING",
        )
        .bind(name.to_owned())
        .bind(term)
        .bind(holder.to_owned())
        .bind(micros(now))
        .execute(tx.conn())
        .await
        .map_err(storage)?;
        tx.commit().await?;
        Ok(Some(unsigned(term)?))
    }

    /// Gives the lease up, if `holder` holds it, so that another replica
    /// takes it at once rather than when it would have expired.
    pub async fn release_lease(&self, name: &str, holder: &str) -> Result<(), StorageError> {
        let mut tx = self.write_tx().await?;
        sqlx::query("UPDATE leases SET expires_at = 0 WHERE name = $1 AND holder = $2")
            .bind(name.to_owned())
            .bind(holder.to_owned())
            .execute(tx.conn())
            .await
            .map_err(storage)?;
        tx.commit().await
    }

    /// Every term of the lease `name`, oldest first.
    pub async fn lease_terms(&self, name: &str) -> Result<Vec<Term>, StorageError> {
        let rows: Vec<(i64, String, i64)> = sqlx::query_as(
            "SELECT term, holder, started_at FROM lease_terms WHERE name = $1 ORDER BY term",
        )
        .bind(name.to_owned())
        .fetch_all(self.reader())
        .await
        .map_err(storage)?;
        rows.into_iter()
            .map(|(term, holder, started_at)| {
                Ok(Term {
                    term: unsigned(term)?,
                    holder,
                    started_at: instant(started_at)?,
                })
            })
            .collect()
    }
}
