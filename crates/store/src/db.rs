//! Pools, migrations and write transactions.

use edufed_domain::time::Clock;
use std::time::Duration;

use chrono::{DateTime, Utc};
use edufed_domain::StorageError;
use edufed_domain::changes::NewChange;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::Migrator;
use sqlx::{Any, AnyPool, Connection as _, Executor as _, Transaction};
use tokio::sync::watch;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/postgres");

/// Key of the PostgreSQL advisory lock held while migrating, so that replicas
/// starting together migrate once.
const MIGRATION_LOCK_KEY: i64 = 0x6564_7566_6564_0001;

/// Which database a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An embedded SQLite file.
    Sqlite,
    /// A PostgreSQL server.
    Postgres,
}

/// Why a store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The URL names no supported database.
    #[error("unsupported database URL {0:?}: expected sqlite:// or postgres://")]
    UnsupportedUrl(String),
    /// Connecting failed.
    #[error("cannot connect to the database: {0}")]
    Connect(#[source] sqlx::Error),
    /// Migrating failed.
    #[error("cannot migrate the database: {0}")]
    Migrate(#[source] sqlx::migrate::MigrateError),
    /// A statement of the start-up failed.
    #[error("cannot prepare the database: {0}")]
    Prepare(#[source] sqlx::Error),
}

/// Pool settings.
#[derive(Debug, Clone)]
pub struct ConnectOptions {
    /// Connections of the read pool (and of the only pool on PostgreSQL).
    pub max_connections: u32,
    /// How long to wait for a free connection.
    pub acquire_timeout: Duration,
}

impl Default for ConnectOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
            acquire_timeout: Duration::from_secs(10),
        }
    }
}

/// A node's database.
///
/// On SQLite, writes go through a pool of one connection: write transactions
/// are serialized in the process, which is what holds invariants such as
/// "confirmed bookings never overlap" there, and readers never block writers
/// in WAL mode. On PostgreSQL one pool serves both and the database holds the
/// invariants.
#[derive(Debug, Clone)]
pub struct Store {
    read: AnyPool,
    write: AnyPool,
    backend: Backend,
    latest: watch::Sender<u64>,
    clock: Clock,
}

impl Store {
    /// Opens (creating if needed, for SQLite) the database at `url`.
    pub async fn connect(url: &str, options: &ConnectOptions) -> Result<Self, OpenError> {
        install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(OpenError::UnsupportedUrl(redact(url)));
        };
        let (read, write) = match backend {
            Backend::Sqlite => {
                let url = sqlite_url(url);
                let pool = |max: u32| {
                    AnyPoolOptions::new()
                        .max_connections(max)
                        .acquire_timeout(options.acquire_timeout)
                        .after_connect(|conn, _meta| {
                            Box::pin(async move {
                                for pragma in [
                                    "PRAGMA journal_mode = WAL",
                                    "PRAGMA synchronous = NORMAL",
                                    "PRAGMA foreign_keys = ON",
                                    "PRAGMA busy_timeout = 10000",
                                ] {
                                    conn.execute(pragma).await?;
                                }
                                Ok(())
                            })
                        })
                };
                // The writer opens (and creates) the file before readers do.
                let write = pool(1).connect(&url).await.map_err(OpenError::Connect)?;
                let read = pool(options.max_connections.max(1))
                    .connect(&url)
                    .await
                    .map_err(OpenError::Connect)?;
                (read, write)
            }
            Backend::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(options.max_connections.max(2))
                    .acquire_timeout(options.acquire_timeout)
                    .connect(url)
                    .await
                    .map_err(OpenError::Connect)?;
                (pool.clone(), pool)
            }
        };
        let store = Self {
            read,
            write,
            backend,
            latest: watch::channel(0).0,
            clock: Clock::system(),
        };
        Ok(store)
    }

    /// Brings the schema up to date. On PostgreSQL this runs under an
    /// advisory lock, so replicas starting together migrate once.
    pub async fn migrate(&self) -> Result<(), OpenError> {
        let mut conn = self.write.acquire().await.map_err(OpenError::Connect)?;
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS
                .run(&mut *conn)
                .await
                .map_err(OpenError::Migrate)?,
            Backend::Postgres => {
                sqlx::query("SELECT pg_advisory_lock($1)")
                    .bind(MIGRATION_LOCK_KEY)
                    .execute(&mut *conn)
                    .await
                    .map_err(OpenError::Prepare)?;
                let result = POSTGRES_MIGRATIONS.run(&mut *conn).await;
                let unlocked = sqlx::query("SELECT pg_advisory_unlock($1)")
                    .bind(MIGRATION_LOCK_KEY)
                    .execute(&mut *conn)
                    .await;
                result.map_err(OpenError::Migrate)?;
                if unlocked.is_err() {
                    // The lock dies with the session; do not hand it back to the pool.
                    conn.detach().close().await.ok();
                }
            }
        }
        let latest = self
            .latest_sequence()
            .await
            .map_err(|e| OpenError::Prepare(sqlx::Error::Protocol(e.to_string())))?;
        self.latest.send_replace(latest);
        Ok(())
    }

    /// The same store reading time from `clock`: the rules that fire with
    /// time (an agreement's term) follow it.
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The clock the store reads.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// The database this store runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes every connection, waiting for those in use to be returned.
    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
    }

    /// A receiver that changes whenever a change-log entry commits on this
    /// process; its value is the latest sequence known.
    pub fn subscribe_latest(&self) -> watch::Receiver<u64> {
        self.latest.subscribe()
    }

    /// Tells this process's watchers about entries committed elsewhere (by
    /// another replica on the same PostgreSQL database), found by polling.
    pub fn observe_latest(&self, seq: u64) {
        self.latest.send_if_modified(|latest| {
            let newer = seq > *latest;
            if newer {
                *latest = seq;
            }
            newer
        });
    }

    /// The pool for single-statement writes that need no transaction.
    pub(crate) fn write_pool(&self) -> &AnyPool {
        &self.write
    }

    /// The pool for reads.
    pub(crate) fn reader(&self) -> &AnyPool {
        &self.read
    }

    /// Starts a write transaction.
    pub(crate) async fn write_tx(&self) -> Result<WriteTx<'_>, StorageError> {
        let tx = self.write.begin().await.map_err(StorageError::new)?;
        Ok(WriteTx {
            tx,
            store: self,
            appended: None,
            log_locked: false,
        })
    }
}

/// A write transaction that may append to the change log; committing it
/// wakes the log's watchers.
pub(crate) struct WriteTx<'s> {
    pub(crate) tx: Transaction<'static, Any>,
    pub(crate) store: &'s Store,
    appended: Option<u64>,
    log_locked: bool,
}

impl WriteTx<'_> {
    /// Takes the change log's lock until this transaction ends (PostgreSQL;
    /// SQLite's writes are serialized already). Log writers hold it so that
    /// sequences commit in order and no reader skips one that commits late.
    pub(crate) async fn lock_log(&mut self) -> Result<(), StorageError> {
        if self.store.backend == Backend::Postgres && !self.log_locked {
            sqlx::query("SELECT pg_advisory_xact_lock($1)")
                .bind(crate::changes::LOG_LOCK_KEY)
                .execute(&mut *self.tx)
                .await
                .map_err(StorageError::new)?;
            self.log_locked = true;
        }
        Ok(())
    }

    /// Appends `change` to the log, in this transaction.
    pub(crate) async fn append(&mut self, change: NewChange) -> Result<u64, StorageError> {
        self.lock_log().await?;
        let seq = crate::changes::insert(&mut self.tx, change).await?;
        self.appended = Some(seq);
        Ok(seq)
    }

    /// Commits, then tells watchers about the new entries.
    pub(crate) async fn commit(self) -> Result<(), StorageError> {
        self.tx.commit().await.map_err(StorageError::new)?;
        if let Some(seq) = self.appended {
            self.store.observe_latest(seq);
        }
        Ok(())
    }
}

/// `sqlite:path` or `sqlite://path` with the file created when missing.
fn sqlite_url(url: &str) -> String {
    if url.contains("mode=") {
        url.to_owned()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    }
}

/// A URL without its password, for messages.
pub fn redact(url: &str) -> String {
    let url = match url.split_once('?') {
        Some((base, query)) => {
            let query: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
                    _ => pair.to_owned(),
                })
                .collect();
            format!("{base}?{}", query.join("&"))
        }
        None => url.to_owned(),
    };
    let url = url.as_str();
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// An instant as stored.
pub(crate) fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

/// A stored instant.
pub(crate) fn instant(micros: i64) -> Result<DateTime<Utc>, StorageError> {
    DateTime::from_timestamp_micros(micros)
        .ok_or_else(|| StorageError::msg(format!("stored instant {micros} is out of range")))
}

/// A stored optional instant.
pub(crate) fn optional_instant(micros: Option<i64>) -> Result<Option<DateTime<Utc>>, StorageError> {
    micros.map(instant).transpose()
}

/// A stored version or sequence, never negative.
pub(crate) fn unsigned(value: i64) -> Result<u64, StorageError> {
    u64::try_from(value).map_err(|_| StorageError::msg(format!("stored count {value} is negative")))
}

/// A version or sequence to store.
pub(crate) fn signed(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

/// Numbered placeholders `$from..$from+count`, comma-separated, for `IN (...)`.
pub(crate) fn placeholders(from: usize, count: usize) -> String {
    (from..from + count)
        .map(|n| format!("${n}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Escapes `%`, `_` and `\` for a `LIKE ... ESCAPE '\'` pattern.
pub(crate) fn like_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords() {
        assert_eq!(
            redact("postgres://edufed:secret@db:5432/edufed"),
            "postgres://edufed:***@db:5432/edufed"
        );
        assert_eq!(redact("sqlite://./x.db"), "sqlite://./x.db");
        assert_eq!(
            redact("postgres://db/edufed?user=edufed&password=secret&sslmode=require"),
            "postgres://db/edufed?user=edufed&password=***&sslmode=require"
        );
    }

    #[test]
    fn placeholders_are_numbered() {
        assert_eq!(placeholders(3, 3), "$3, $4, $5");
        assert_eq!(like_escape("50%_a\\"), "50\\%\\_a\\\\");
    }

    #[test]
    fn sqlite_urls_create_files() {
        assert_eq!(sqlite_url("sqlite://a.db"), "sqlite://a.db?mode=rwc");
        assert_eq!(
            sqlite_url("sqlite://a.db?cache=shared"),
            "sqlite://a.db?cache=shared&mode=rwc"
        );
    }
}

/// A value bound to a query built at run time.
#[derive(Debug, Clone)]
pub(crate) enum Value {
    Text(String),
    Int(i64),
}

/// A query built clause by clause, with numbered placeholders: each `$?` in
/// a clause becomes the next number, bound to the value pushed with it.
#[derive(Debug, Default)]
pub(crate) struct QueryText {
    pub(crate) sql: String,
    values: Vec<Value>,
}

impl QueryText {
    pub(crate) fn new(sql: impl Into<String>) -> Self {
        Self {
            sql: sql.into(),
            values: Vec::new(),
        }
    }

    /// Appends `clause`, its `$?` standing for `value`.
    pub(crate) fn push(&mut self, clause: &str, value: Value) {
        self.values.push(value);
        self.sql += &clause.replace("$?", &format!("${}", self.values.len()));
    }

    /// Appends `clause` with `$list` standing for `values` as placeholders.
    pub(crate) fn push_list(&mut self, clause: &str, values: Vec<Value>) {
        let first = self.values.len() + 1;
        let list = placeholders(first, values.len());
        self.values.extend(values);
        self.sql += &clause.replace("$list", &list);
    }

    /// Appends text with no value.
    pub(crate) fn raw(&mut self, text: &str) {
        self.sql += text;
    }

    /// The query with its values bound.
    pub(crate) fn query(&self) -> sqlx::query::Query<'_, sqlx::Any, sqlx::any::AnyArguments<'_>> {
        let mut query = sqlx::query(&self.sql);
        for value in &self.values {
            query = match value {
                Value::Text(v) => query.bind(v.clone()),
                Value::Int(v) => query.bind(*v),
            };
        }
        query
    }
}
