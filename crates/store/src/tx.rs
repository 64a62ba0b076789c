//! Write transactions: every change and its change-log entry commit together,
//! and the few places where the backends differ in how a write holds its
//! ground (row locks, the log's order) are written here once.

use chrono::{DateTime, Utc};
use edufed_domain::changes::NewChange;
use edufed_domain::federation::Idempotency;
use edufed_domain::{FieldError, StorageError};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::{Any, AnyConnection, Transaction};

use crate::db::{Backend, Store};
use crate::error::storage;
use crate::sql::{micros, signed, unsigned};

/// Key of the PostgreSQL advisory lock that orders log appends.
pub(crate) const LOG_LOCK_KEY: i64 = 0x6564_7566_6564_0002;

/// Key of the PostgreSQL advisory lock the notifier holds while it fills
/// the outbox, so that replicas of one node take turns.
pub(crate) const NOTIFIER_LOCK_KEY: i64 = 0x6564_7566_6564_0003;

/// The tables whose rows a write locks before it reads what it decides on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Locked {
    Organizations,
    Activities,
    Resources,
    Agreements,
}

impl Locked {
    fn statement(self) -> &'static str {
        match self {
            Locked::Organizations => "SELECT id FROM organizations WHERE id = $1 FOR UPDATE",
            Locked::Activities => "SELECT id FROM activities WHERE id = $1 FOR UPDATE",
            Locked::Resources => "SELECT id FROM resources WHERE id = $1 FOR UPDATE",
            Locked::Agreements => "SELECT id FROM agreements WHERE id = $1 FOR UPDATE",
        }
    }
}

impl Store {
    /// Starts a write transaction.
    pub(crate) async fn write_tx(&self) -> Result<WriteTx<'_>, StorageError> {
        let tx = self.writer().begin().await.map_err(storage)?;
        Ok(WriteTx {
            tx,
            store: self,
            appended: None,
            log_locked: false,
            claimed: None,
        })
    }
}

/// A write transaction that may append to the change log; committing it
/// wakes the log's watchers.
pub(crate) struct WriteTx<'s> {
    tx: Transaction<'static, Any>,
    store: &'s Store,
    appended: Option<u64>,
    log_locked: bool,
    claimed: Option<Idempotency>,
}

impl WriteTx<'_> {
    /// The connection the transaction runs on, for its statements.
    pub(crate) fn conn(&mut self) -> &mut AnyConnection {
        &mut self.tx
    }

    /// The store's time now: what every rule of this write reads.
    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.store.clock().now()
    }

    /// Locks the row `id` of `table` until the transaction ends, so that
    /// decisions on one record take turns and each reads the state the one
    /// before it left. PostgreSQL takes a row lock; SQLite's writes are
    /// serialized in the process already. A missing row locks nothing: the
    /// read that follows finds it missing.
    pub(crate) async fn lock(&mut self, table: Locked, id: &str) -> Result<(), StorageError> {
        if self.store.backend() == Backend::Postgres {
            sqlx::query(table.statement())
                .bind(id.to_owned())
                .fetch_optional(&mut *self.tx)
                .await
                .map_err(storage)?;
        }
        Ok(())
    }

    /// Takes the notifier's lock until this transaction ends (PostgreSQL;
    /// SQLite's writes are serialized already): one replica fills the
    /// outbox at a time.
    pub(crate) async fn lock_notifier(&mut self) -> Result<(), StorageError> {
        if self.store.backend() == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(NOTIFIER_LOCK_KEY)
                .execute(&mut *self.tx)
                .await
                .map_err(storage)?;
        }
        Ok(())
    }

    /// Takes the change log's lock until this transaction ends (PostgreSQL;
    /// SQLite's writes are serialized already). Log writers hold it so that
    /// sequences commit in order and no reader skips one that commits late.
    pub(crate) async fn lock_log(&mut self) -> Result<(), StorageError> {
        if self.store.backend() == Backend::Postgres && !self.log_locked {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(LOG_LOCK_KEY)
                .execute(&mut *self.tx)
                .await
                .map_err(storage)?;
            self.log_locked = true;
        }
        Ok(())
    }

    /// Appends `change` to the log, in this transaction.
    pub(crate) async fn append(&mut self, change: NewChange) -> Result<u64, StorageError> {
        self.lock_log().await?;
        let now = self.now();
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO change_log \
             (entity_kind, entity_id, version, operation, org_id, payload, actor, created_at, \
              also_org_id, shared) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING seq",
        )
        .bind(change.kind.as_str())
        .bind(change.entity_id)
        .bind(signed(change.version))
        .bind(change.operation.as_str())
        .bind(change.org_id.map(|id| id.to_string()))
        .bind(change.payload.to_string())
        .bind(change.actor.as_string())
        .bind(micros(now))
        .bind(change.also_org_id.map(|id| id.to_string()))
        .bind(i64::from(change.shared))
        .fetch_one(&mut *self.tx)
        .await
        .map_err(storage)?;
        let mut audience = change.audience;
        audience.sort();
        audience.dedup();
        for org in audience {
            sqlx::query("INSERT INTO change_log_audience (seq, org_id) VALUES ($1, $2)")
                .bind(seq)
                .bind(org.to_string())
                .execute(&mut *self.tx)
                .await
                .map_err(storage)?;
        }
        let seq = unsigned(seq)?;
        self.appended = Some(seq);
        Ok(seq)
    }

    /// Claims the idempotency key of a forwarded write for this
    /// transaction, which then commits with [`WriteTx::commit_with`]: the
    /// write and its answer commit together or not at all, so a key is
    /// either unused or answered. `Some(outcome)` is the answer a write with
    /// the key already committed: the caller returns it and writes nothing.
    ///
    /// A concurrent write with the same key waits here until the first
    /// commits (PostgreSQL's unique index; SQLite's single writer), then
    /// gets its answer; if the first rolls back, the key is free again.
    pub(crate) async fn claim<T, E>(&mut self, key: Option<&Idempotency>) -> Result<Option<T>, E>
    where
        T: DeserializeOwned,
        E: From<StorageError> + From<FieldError>,
    {
        let Some(key) = key else {
            return Ok(None);
        };
        let now = self.now();
        let inserted = sqlx::query(
            "INSERT INTO forwarded_writes (node_id, idem_key, method, response, created_at) \
             VALUES ($1, $2, $3, '', $4) ON CONFLICT (node_id, idem_key) DO NOTHING",
        )
        .bind(key.node_id.clone())
        .bind(key.key.clone())
        .bind(key.request.clone())
        .bind(micros(now))
        .execute(&mut *self.tx)
        .await
        .map_err(storage)?
        .rows_affected();
        if inserted == 1 {
            self.claimed = Some(key.clone());
            return Ok(None);
        }
        // `method` holds the request's fingerprint.
        let (request, answer): (String, String) = sqlx::query_as(
            "SELECT method, response FROM forwarded_writes WHERE node_id = $1 AND idem_key = $2",
        )
        .bind(key.node_id.clone())
        .bind(key.key.clone())
        .fetch_one(&mut *self.tx)
        .await
        .map_err(storage)?;
        if request != key.request {
            return Err(Idempotency::reused().into());
        }
        let outcome = serde_json::from_str(&answer).map_err(|e| {
            StorageError::msg(format!(
                "the stored answer to key {} is unreadable: {e}",
                key.key
            ))
        })?;
        Ok(Some(outcome))
    }

    /// Commits a write whose key [`WriteTx::claim`] took, with `outcome` as
    /// the answer a retry with the key gets.
    pub(crate) async fn commit_with<T: Serialize>(
        mut self,
        outcome: &T,
    ) -> Result<(), StorageError> {
        if let Some(key) = self.claimed.take() {
            let answer = serde_json::to_string(outcome).map_err(StorageError::new)?;
            sqlx::query(
                "UPDATE forwarded_writes SET response = $1 WHERE node_id = $2 AND idem_key = $3",
            )
            .bind(answer)
            .bind(key.node_id)
            .bind(key.key)
            .execute(&mut *self.tx)
            .await
            .map_err(storage)?;
        }
        self.commit().await
    }

    /// Commits, then tells watchers about the new entries.
    pub(crate) async fn commit(self) -> Result<(), StorageError> {
        if let Some(key) = &self.claimed {
            // An answer must commit with the write it answers.
            return Err(StorageError::msg(format!(
                "idempotency key {} claimed but not answered",
                key.key
            )));
        }
        self.tx.commit().await.map_err(storage)?;
        self.store
            .writes
            .fetch_add(1, std::sync::atomic::Ordering::Release);
        if let Some(seq) = self.appended {
            self.store.observe_latest(seq);
        }
        Ok(())
    }
}
