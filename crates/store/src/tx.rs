//! Write transactions: every change and its change-log entry commit together,
//! and the few places where the backends differ in how a write holds its
//! ground (row locks, the log's order) are written here once.

use chrono::{DateTime, Utc};
use edufed_domain::changes::{EntityKind, NewChange};
use edufed_domain::federation::Idempotency;
use edufed_domain::{FieldError, StorageError};
use serde::Serialize;
use serde::de::DeserializeOwned;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use sqlx::{Any, AnyConnection, Transaction};
use tokio::sync::{OwnedMutexGuard, oneshot};

use crate::audit::Written;
use crate::db::{Backend, Store};
use crate::error::storage;
use crate::sql::{micros, signed, unsigned};

/// Key of the PostgreSQL advisory lock that orders the log's numbering
/// passes and compaction.
pub(crate) const LOG_LOCK_KEY: i64 = 0x6564_7566_6564_0002;

/// Key of the PostgreSQL advisory lock the notifier holds while it fills
/// the outbox, so that replicas of one node take turns.
pub(crate) const NOTIFIER_LOCK_KEY: i64 = 0x6564_7566_6564_0003;

/// A savepoint's name.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Savepoint(pub(crate) &'static str);

/// The tables whose rows a write locks before it reads what it decides on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Locked {
    Organizations,
    Activities,
    Resources,
    Agreements,
    MentoringProgrammes,
    MentoringPairs,
    Trials,
    RouteTemplates,
    Routes,
}

impl Locked {
    fn statement(self) -> &'static str {
        match self {
            Locked::Organizations => "SELECT id FROM organizations WHERE id = $1 FOR UPDATE",
            Locked::Activities => "SELECT id FROM activities WHERE id = $1 FOR UPDATE",
            Locked::Resources => "SELECT id FROM resources WHERE id = $1 FOR UPDATE",
            Locked::Agreements => "SELECT id FROM agreements WHERE id = $1 FOR UPDATE",
            Locked::MentoringProgrammes => {
                "SELECT id FROM mentoring_programmes WHERE id = $1 FOR UPDATE"
            }
            Locked::MentoringPairs => "SELECT id FROM mentoring_pairs WHERE id = $1 FOR UPDATE",
            Locked::Trials => "SELECT id FROM trials WHERE id = $1 FOR UPDATE",
            Locked::RouteTemplates => "SELECT id FROM route_templates WHERE id = $1 FOR UPDATE",
            Locked::Routes => "SELECT id FROM routes WHERE id = $1 FOR UPDATE",
        }
    }
}

impl Store {
    /// Starts a write transaction: on PostgreSQL a transaction of its own;
    /// on SQLite a savepoint in the writer's group transaction (see
    /// [`Group`]).
    pub(crate) async fn write_tx(&self) -> Result<WriteTx<'_>, StorageError> {
        let held = match self.backend() {
            Backend::Postgres => Held::Own(self.writer().begin().await.map_err(storage)?),
            Backend::Sqlite => Held::Member(self.join_group().await?),
        };
        Ok(WriteTx {
            held,
            store: self,
            appended: None,
            log_locked: false,
            claimed: None,
        })
    }

    /// Waits for the writer, opens the group's transaction if none is
    /// open, and a savepoint for this write in it.
    async fn join_group(&self) -> Result<Member, StorageError> {
        let mut member = Member {
            state: Some(self.group.state.clone().lock_owned().await),
            open: false,
        };
        let state = member.state();
        if state.tx.is_none() {
            state.tx = Some(self.writer().begin().await.map_err(storage)?);
        }
        if let Err(e) = sqlx::query("SAVEPOINT member").execute(state.conn()?).await {
            state.broken = Some(e.to_string());
            return Err(storage(e));
        }
        member.open = true;
        Ok(member)
    }
}

/// SQLite's writer, whose writes take turns: a write that comes while
/// others wait joins the database transaction they are in, under a
/// savepoint of its own, and they commit together. A refused write rolls
/// back to its savepoint without touching its neighbours'; each caller is
/// answered after the commit that holds its write, and a failed commit
/// fails them all.
///
/// A write that finished its work queues for the writer again, behind the
/// writes already waiting; when its turn comes it commits every finished
/// write of the transaction (its own among them), unless one before it
/// did. So a transaction holds the writes that were waiting when the first
/// of them finished: none waits for a write that came after it, and on a
/// quiet node each write commits at once.
#[derive(Debug, Default)]
pub(crate) struct Group {
    state: Arc<tokio::sync::Mutex<GroupState>>,
}

#[derive(Debug, Default)]
struct GroupState {
    /// The open transaction on the writer connection; none between groups.
    tx: Option<Transaction<'static, Any>>,
    /// The finished writes waiting for the commit, by their answer's channel.
    done: Vec<oneshot::Sender<Result<(), String>>>,
    /// Why the open transaction cannot commit: a write's savepoint could
    /// not be released or rolled back, so the database ended it.
    broken: Option<String>,
}

impl GroupState {
    fn conn(&mut self) -> Result<&mut AnyConnection, StorageError> {
        match &mut self.tx {
            Some(tx) => Ok(tx),
            None => Err(StorageError::msg("the writer's transaction is not open")),
        }
    }

    /// Ends the open transaction, committing it unless it is broken, and
    /// answers the finished writes.
    ///
    /// Runs only on tasks of its own (a write's commit, the undoing of a
    /// write), which no caller's going away cancels midway.
    async fn finish(&mut self) {
        let outcome = match (self.tx.take(), self.broken.take()) {
            (None, _) => Err("the writer's transaction ended before it committed".into()),
            (Some(tx), Some(why)) => {
                tx.rollback().await.ok();
                Err(why)
            }
            (Some(tx), None) => tx.commit().await.map_err(|e| e.to_string()),
        };
        for answer in self.done.drain(..) {
            answer.send(outcome.clone()).ok();
        }
    }

    /// Undoes a write that ends without committing, keeping the others'.
    async fn roll_back_member(&mut self) {
        let undone = async {
            let conn = self.conn()?;
            sqlx::query("ROLLBACK TO SAVEPOINT member")
                .execute(&mut *conn)
                .await
                .map_err(storage)?;
            sqlx::query("RELEASE SAVEPOINT member")
                .execute(&mut *conn)
                .await
                .map_err(storage)?;
            Ok::<_, StorageError>(())
        };
        if let Err(e) = undone.await {
            self.broken = Some(e.to_string());
        }
        if self.done.is_empty() || self.broken.is_some() {
            self.finish().await;
        }
    }
}

/// What a write transaction runs on.
enum Held {
    /// PostgreSQL: a transaction of its own.
    Own(Transaction<'static, Any>),
    /// SQLite: its savepoint in the writer's group transaction, with the
    /// writer held.
    Member(Member),
    /// Committed, or rolled back.
    Ended,
}

/// A write transaction that may append to the change log; committing it
/// wakes the log's watchers.
pub(crate) struct WriteTx<'s> {
    held: Held,
    store: &'s Store,
    /// Whether the write appended to the log: on SQLite its latest
    /// sequence; on PostgreSQL 0, its entries are numbered after commit.
    appended: Option<u64>,
    log_locked: bool,
    claimed: Option<Idempotency>,
}

impl WriteTx<'_> {
    /// The connection the transaction runs on, for its statements.
    pub(crate) fn conn(&mut self) -> &mut AnyConnection {
        match &mut self.held {
            Held::Own(tx) => tx,
            Held::Member(member) => match &mut member.state().tx {
                Some(tx) => tx,
                // Joining opened it, and only its holder ends it.
                None => unreachable!("a write holds the writer's open transaction"),
            },
            Held::Ended => unreachable!("a committed write runs no statement"),
        }
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
                .fetch_optional(self.conn())
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
                .execute(self.conn())
                .await
                .map_err(storage)?;
        }
        Ok(())
    }

    /// Opens the savepoint `name`, under which a statement that a
    /// concurrent writer's commit can make fail (PostgreSQL's exclusion and
    /// unique constraints) fails alone, not the transaction. SQLite's writer
    /// is alone: what a statement checks cannot change under it, and a
    /// failed statement undoes only itself there, so it takes none.
    pub(crate) async fn savepoint(&mut self, name: Savepoint) -> Result<(), StorageError> {
        self.on_postgres(&format!("SAVEPOINT {}", name.0)).await
    }

    /// Keeps what was done since [`WriteTx::savepoint`] `name`.
    pub(crate) async fn release(&mut self, name: Savepoint) -> Result<(), StorageError> {
        self.on_postgres(&format!("RELEASE SAVEPOINT {}", name.0))
            .await
    }

    /// Undoes what was done since [`WriteTx::savepoint`] `name`; the
    /// transaction goes on.
    pub(crate) async fn roll_back_to(&mut self, name: Savepoint) -> Result<(), StorageError> {
        self.on_postgres(&format!("ROLLBACK TO SAVEPOINT {}", name.0))
            .await
    }

    async fn on_postgres(&mut self, statement: &str) -> Result<(), StorageError> {
        if self.store.backend() == Backend::Postgres {
            sqlx::query(statement)
                .execute(self.conn())
                .await
                .map_err(storage)?;
        }
        Ok(())
    }

    /// Takes the change log's lock until this transaction ends (PostgreSQL;
    /// SQLite's writes are serialized already). The sequencer holds it for
    /// each pass, and compaction to move the log's bound without a pass
    /// numbering entries meanwhile.
    pub(crate) async fn lock_log(&mut self) -> Result<(), StorageError> {
        if self.store.backend() == Backend::Postgres && !self.log_locked {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(LOG_LOCK_KEY)
                .execute(self.conn())
                .await
                .map_err(storage)?;
            self.log_locked = true;
        }
        Ok(())
    }

    /// Appends `change` to the log, in this transaction. On SQLite, whose
    /// writes are serialized, the entry takes its sequence now, and that is
    /// commit order. On PostgreSQL writers commit concurrently: the entry
    /// waits in `change_log_pending` and is numbered once committed (see
    /// [`Store::sequence_log`]), so no writer waits for another's commit.
    /// The write is recorded in the audit trail too, unless the entry is
    /// one the node derives from another write (seat counts, busy times).
    pub(crate) async fn append(&mut self, change: NewChange) -> Result<(), StorageError> {
        let now = self.now();
        let mut audience = change.audience;
        audience.sort();
        audience.dedup();
        if !matches!(
            change.kind,
            EntityKind::ActivitySeats | EntityKind::ResourceBusy
        ) {
            self.audit(Written {
                kind: change.kind.as_str(),
                record_id: &change.entity_id,
                version: Some(change.version),
                operation: change.operation.as_str(),
                org_id: change.org_id.as_ref(),
                also_org_id: change.also_org_id.as_ref(),
                audience: &audience,
                actor: &change.actor,
                forwarded_to: None,
            })
            .await?;
        }
        let postgres = self.store.backend() == Backend::Postgres;
        let statement = if postgres {
            "INSERT INTO change_log_pending \
             (entity_kind, entity_id, version, operation, org_id, payload, actor, created_at, \
              also_org_id, shared, audience) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING CAST(0 AS BIGINT)"
        } else {
            "INSERT INTO change_log \
             (entity_kind, entity_id, version, operation, org_id, payload, actor, created_at, \
              also_org_id, shared) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING seq"
        };
        let mut query = sqlx::query_scalar(statement)
            .bind(change.kind.as_str())
            .bind(change.entity_id)
            .bind(signed(change.version))
            .bind(change.operation.as_str())
            .bind(change.org_id.map(|id| id.to_string()))
            .bind(change.payload.to_string())
            .bind(change.actor.as_string())
            .bind(micros(now))
            .bind(change.also_org_id.map(|id| id.to_string()))
            .bind(i64::from(change.shared));
        if postgres {
            let listed: Vec<String> = audience.iter().map(ToString::to_string).collect();
            query = query.bind(listed.join(","));
        }
        let seq: i64 = query.fetch_one(self.conn()).await.map_err(storage)?;
        if postgres {
            // Numbered, with its audience, once committed.
            self.appended = Some(0);
            return Ok(());
        }
        for org in audience {
            sqlx::query("INSERT INTO change_log_audience (seq, org_id) VALUES ($1, $2)")
                .bind(seq)
                .bind(org.to_string())
                .execute(self.conn())
                .await
                .map_err(storage)?;
        }
        self.appended = Some(unsigned(seq)?);
        Ok(())
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
        .execute(self.conn())
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
        .fetch_one(self.conn())
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

    /// Answers a retry with the answer [`WriteTx::claim`] found, once the
    /// write it answers is committed: on SQLite that write may share this
    /// transaction and not be committed yet.
    pub(crate) async fn replay<T, E: From<StorageError>>(self, answer: T) -> Result<T, E> {
        self.commit().await?;
        Ok(answer)
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
            .execute(self.conn())
            .await
            .map_err(storage)?;
        }
        self.commit().await
    }

    /// Commits, then tells watchers about the new entries.
    pub(crate) async fn commit(mut self) -> Result<(), StorageError> {
        if let Some(key) = &self.claimed {
            // An answer must commit with the write it answers.
            return Err(StorageError::msg(format!(
                "idempotency key {} claimed but not answered",
                key.key
            )));
        }
        // On a task of its own: a caller going away does not stop a commit
        // that its neighbours' answers wait for (SQLite), nor the numbering
        // of its entries (PostgreSQL).
        let store = self.store.clone();
        let appended = self.appended;
        let committed = match std::mem::replace(&mut self.held, Held::Ended) {
            Held::Own(tx) => tokio::spawn(async move {
                tx.commit().await.map_err(storage)?;
                store.writes.fetch_add(1, Ordering::Release);
                if appended.is_some() {
                    store.sequence_committed().await;
                }
                Ok(())
            }),
            Held::Member(member) => tokio::spawn(async move {
                commit_member(member).await?;
                store.writes.fetch_add(1, Ordering::Release);
                if let Some(seq) = appended {
                    store.observe_latest(seq);
                }
                Ok(())
            }),
            Held::Ended => return Ok(()),
        };
        committed
            .await
            .map_err(|e| StorageError::msg(format!("the commit did not run: {e}")))?
    }
}

/// A write's hold on SQLite's writer, and its savepoint there once `open`.
/// Dropped without committing, whatever the path (a refusal, a caller that
/// went away mid-statement), it is undone on a task, as dropping cannot
/// wait: its savepoint rolled back, its neighbours' work kept, and the
/// transaction ended if no finished write is left to end it.
struct Member {
    state: Option<OwnedMutexGuard<GroupState>>,
    open: bool,
}

impl Member {
    fn state(&mut self) -> &mut GroupState {
        match &mut self.state {
            Some(state) => state,
            None => unreachable!("a member holds the writer until it is dropped or leaves"),
        }
    }

    /// Lets the writer go, keeping what the write did, and returns it.
    fn leave(mut self) -> Arc<tokio::sync::Mutex<GroupState>> {
        match self.state.take() {
            Some(state) => OwnedMutexGuard::mutex(&state).clone(),
            None => unreachable!("a member holds the writer until it is dropped or leaves"),
        }
    }
}

impl Drop for Member {
    fn drop(&mut self) {
        let Some(mut state) = self.state.take() else {
            return;
        };
        let open = self.open;
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                runtime.spawn(async move {
                    if open {
                        state.roll_back_member().await;
                    } else if state.done.is_empty() || state.broken.is_some() {
                        // Its savepoint may or may not have been taken;
                        // nothing was done under it.
                        state.finish().await;
                    }
                });
            }
            // No runtime left to run on: the transaction is dropped and
            // sqlx rolls it back; the writes waiting on it are told.
            Err(_) => state.broken = Some("the node is stopping".into()),
        }
    }
}

/// Releases a finished write's savepoint, then waits for the commit that
/// holds it, committing the group itself if its turn comes first.
async fn commit_member(mut member: Member) -> Result<(), StorageError> {
    let state = member.state();
    if let Err(e) = sqlx::query("RELEASE SAVEPOINT member")
        .execute(state.conn()?)
        .await
    {
        state.broken = Some(e.to_string());
        return Err(storage(e));
    }
    let (answer, mut outcome) = oneshot::channel();
    state.done.push(answer);
    // Behind the writes waiting now: they join this transaction.
    let writer = member.leave();
    let mut state = writer.lock_owned().await;
    let answered = match outcome.try_recv() {
        Ok(answer) => Some(answer),
        Err(oneshot::error::TryRecvError::Empty) => {
            state.finish().await;
            None
        }
        Err(oneshot::error::TryRecvError::Closed) => None,
    };
    drop(state);
    let answer = match answered {
        Some(answer) => Ok(answer),
        None => outcome.await,
    };
    match answer {
        Ok(Ok(())) => Ok(()),
        Ok(Err(why)) => Err(StorageError::msg(format!(
            "the write was not committed: {why}"
        ))),
        Err(_) => Err(StorageError::msg(
            "the write was not committed: the writer's transaction was abandoned",
        )),
    }
}

/// Who numbers the PostgreSQL log's committed entries, and how far: one
/// pass at a time in this process, each covering every write committed
/// before it began.
#[derive(Debug, Default)]
pub(crate) struct Sequencer {
    turn: tokio::sync::Mutex<()>,
    /// Writes with log entries committed in this process so far.
    committed: AtomicU64,
    /// How many of them a finished pass is known to have numbered.
    numbered: AtomicU64,
}

impl Store {
    /// Numbers the log entries committed but not yet numbered (PostgreSQL;
    /// on SQLite entries are numbered as they are written), in the order
    /// they were written, after every entry numbered before; tells this
    /// process's watchers. Returns the latest sequence it gave, 0 if none.
    ///
    /// A pass holds the log's advisory lock, so passes of replicas take
    /// turns; writers never wait for it. An entry is numbered only once its
    /// transaction committed, so a transaction that commits late gets a
    /// sequence above everything a reader may have seen, never a gap below.
    /// Writers run a pass after they commit; the log poller runs one on
    /// every tick, for entries a replica committed and could not number
    /// (it stopped, or the pass failed).
    pub async fn sequence_log(&self) -> Result<u64, StorageError> {
        if self.backend() != Backend::Postgres {
            return Ok(0);
        }
        // A transaction sqlx manages, not statements sent together: a
        // pooled connection that a cancelled caller left inside a
        // transaction is then committed out of it, not left holding the
        // lock. The numbering statement's snapshot is taken after the lock
        // was granted (READ COMMITTED, as `db.rs` sets every connection's),
        // so it starts from the last pass's end; its sub-statements share
        // that snapshot.
        let mut tx = self.writer().begin().await.map_err(storage)?;
        sqlx::query("SELECT CAST(0 AS BIGINT) FROM pg_advisory_xact_lock($1)")
            .bind(LOG_LOCK_KEY)
            .fetch_one(&mut *tx)
            .await
            .map_err(storage)?;
        let latest: i64 = sqlx::query_scalar(
            "WITH base AS (SELECT GREATEST(\
                 COALESCE((SELECT MAX(seq) FROM change_log), 0), \
                 COALESCE((SELECT CAST(value AS BIGINT) FROM node_meta WHERE key = $1), 0), \
                 COALESCE((SELECT CAST(value AS BIGINT) FROM node_meta WHERE key = $2), 0)) AS b), \
             moved AS (DELETE FROM change_log_pending RETURNING *), \
             numbered AS (SELECT moved.*, base.b + row_number() OVER (ORDER BY moved.id) AS seq \
                 FROM moved, base), \
             logged AS (INSERT INTO change_log (seq, entity_kind, entity_id, version, operation, \
                 org_id, payload, actor, created_at, also_org_id, shared) OVERRIDING SYSTEM VALUE \
                 SELECT seq, entity_kind, entity_id, version, operation, org_id, payload, actor, \
                 created_at, also_org_id, shared FROM numbered), \
             heard AS (INSERT INTO change_log_audience (seq, org_id) \
                 SELECT numbered.seq, listed.org_id FROM numbered, \
                 unnest(string_to_array(numbered.audience, ',')) AS listed (org_id) \
                 WHERE numbered.audience <> '') \
             SELECT CAST(COALESCE(MAX(seq), 0) AS BIGINT) FROM numbered",
        )
        .bind(crate::changes::COMPACTED_THROUGH)
        .bind(crate::backup::LOG_FLOOR)
        .fetch_one(&mut *tx)
        .await
        .map_err(storage)?;
        tx.commit().await.map_err(storage)?;
        let latest = unsigned(latest)?;
        if latest > 0 {
            self.observe_latest(latest);
        }
        Ok(latest)
    }

    /// After a write with log entries committed: returns once a pass has
    /// numbered them (this one's, or one that began after the commit). A
    /// failed pass is logged, not returned: the write is committed, and the
    /// next pass (the next write's, or the poller's) numbers its entries.
    async fn sequence_committed(&self) {
        let sequencer = &self.sequencer;
        let ticket = sequencer.committed.fetch_add(1, Ordering::AcqRel) + 1;
        while sequencer.numbered.load(Ordering::Acquire) < ticket {
            let _turn = sequencer.turn.lock().await;
            if sequencer.numbered.load(Ordering::Acquire) >= ticket {
                break;
            }
            let covers = sequencer.committed.load(Ordering::Acquire);
            if let Err(e) = self.sequence_log().await {
                tracing::warn!(error = %e, "cannot number the change log's new entries");
                break;
            }
            sequencer.numbered.fetch_max(covers, Ordering::AcqRel);
        }
    }
}
