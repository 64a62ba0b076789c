//! Pools, migrations and write transactions.

use std::time::Duration;

use edufed_domain::session::Lifetimes;
use edufed_domain::time::Clock;
use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Connection as _, Executor as _};
use tokio::sync::watch;

pub(crate) static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/sqlite");
pub(crate) static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../../migrations/postgres");

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

impl Backend {
    /// The backend a database URL names, if any.
    pub fn of_url(url: &str) -> Option<Self> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }

    /// `sqlite` or `postgres`.
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Why a store could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The URL names no supported database.
    #[error("unsupported database URL {0:?}: expected sqlite:// or postgres://")]
    UnsupportedUrl(String),
    /// No connection could be opened: the server is unreachable or refuses
    /// the credentials, or the SQLite file cannot be created.
    #[error("cannot connect to the database: {0}")]
    Connect(#[source] sqlx::Error),
    /// The schema could not be brought to this version's migrations: one
    /// failed, or the database has one applied that this version lacks.
    #[error("cannot migrate the database: {0}")]
    Migrate(#[source] sqlx::migrate::MigrateError),
    /// A statement of the start-up failed.
    #[error("cannot prepare the database: {0}")]
    Prepare(#[source] sqlx::Error),
}

/// How many connections a store opens, and how long a call waits for one.
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

/// How long an SQLite reader connection may stay idle before it closes.
const READER_IDLE: Duration = Duration::from_secs(30);

/// How long an SQLite reader connection lives. The pool hands its idle
/// readers out in turn, so readers a burst opened would all stay busy enough
/// never to idle out, each mapping the pages it read: a reader closes after
/// this long, and only as many as the calls need open again.
const READER_LIFETIME: Duration = Duration::from_secs(60);

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
    /// Counts the batches of peers' entries this process applied, so that
    /// relays wake when a mirror changes.
    mirrored: watch::Sender<u64>,
    clock: Clock,
    sessions: Lifetimes,
    /// Write transactions committed by this process, for caches of what
    /// was read before them.
    pub(crate) writes: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// The reports' facts of recent periods, kept until the next change.
    pub(crate) facts: crate::report::FactsCache,
    /// Numbers the log's committed entries (PostgreSQL).
    pub(crate) sequencer: std::sync::Arc<crate::tx::Sequencer>,
    /// SQLite's writer, whose writes commit in groups.
    pub(crate) group: std::sync::Arc<crate::tx::Group>,
    /// On SQLite, the readers of followers' streams: [`FEED_READS`]
    /// connections that map nothing, taken in turn.
    feed: Option<Feed>,
}

/// How many followers' streams read the change log (or the mirrors they
/// relay) at once on SQLite. A node's streams all wake when its log moves;
/// unbounded, each took a reader of its own, and every reader kept its own
/// mapping of the file, which grew with the log's tail, so a node with many
/// followers held many copies of the same pages. A read is a few
/// milliseconds: the streams take turns on connections of their own, which
/// map nothing and copy the few pages a read needs into their caches.
pub const FEED_READS: usize = 2;

/// Connections open now, by pool ([`Store::connections`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Connections {
    /// The calls' readers; on PostgreSQL, the one pool that serves
    /// everything.
    pub read: u32,
    /// Followers' streams' readers, on SQLite.
    pub feed: Option<u32>,
    /// The writer, on SQLite.
    pub write: Option<u32>,
}

/// The connections followers' streams read through on SQLite, and their
/// turns.
#[derive(Debug, Clone)]
struct Feed {
    pool: AnyPool,
    turns: std::sync::Arc<tokio::sync::Semaphore>,
}

/// A turn of a follower's stream to read, and the pool it reads from.
pub(crate) struct FeedRead<'a> {
    pool: &'a AnyPool,
    _turn: Option<tokio::sync::SemaphorePermit<'a>>,
}

impl FeedRead<'_> {
    /// The pool this turn reads from.
    pub(crate) fn pool(&self) -> &AnyPool {
        self.pool
    }
}

/// How much of the database file each SQLite reader of the calls maps:
/// a query over a large calendar reads thousands of pages, which a mapping
/// gives in place where a read call would copy each.
const READER_MMAP: u64 = 256 << 20;

/// Each SQLite reader's cache of pages, in KiB (SQLite's default is 2 000):
/// for a mapped reader, the pages still in the write-ahead log; for a
/// follower's, the hot pages (the log's index and tail).
const READER_CACHE_KIB: u32 = 512;

impl Store {
    /// Opens (creating if needed, for SQLite) the database at `url`.
    pub async fn connect(url: &str, options: &ConnectOptions) -> Result<Self, OpenError> {
        install_default_drivers();
        let Some(backend) = Backend::of_url(url) else {
            return Err(OpenError::UnsupportedUrl(redact(url)));
        };
        let (read, write, feed) = match backend {
            Backend::Sqlite => {
                let url = sqlite_url(url);
                // The calls' readers take pages from the file's mapping
                // rather than copying each with a read call. A mapping grows
                // to every page its connection touched, counted in the node's
                // resident memory once per mapping: the writer, which reads
                // few pages a write, and followers' readers, which read the
                // log's tail as it moves, map nothing and keep what they
                // read in their caches.
                let pool = |max: u32, reader: bool, mapped: bool| {
                    AnyPoolOptions::new()
                        .max_connections(max)
                        .acquire_timeout(options.acquire_timeout)
                        .after_connect(move |conn, _meta| {
                            Box::pin(async move {
                                for pragma in [
                                    "PRAGMA journal_mode = WAL",
                                    "PRAGMA synchronous = NORMAL",
                                    "PRAGMA foreign_keys = ON",
                                    "PRAGMA busy_timeout = 10000",
                                ] {
                                    conn.execute(pragma).await?;
                                }
                                if reader {
                                    conn.execute(&*format!(
                                        "PRAGMA cache_size = -{READER_CACHE_KIB}"
                                    ))
                                    .await?;
                                }
                                if mapped {
                                    conn.execute(&*format!("PRAGMA mmap_size = {READER_MMAP}"))
                                        .await?;
                                }
                                Ok(())
                            })
                        })
                };
                // The writer opens (and creates) the file before readers do.
                let write = pool(1, false, false)
                    .connect(&url)
                    .await
                    .map_err(OpenError::Connect)?;
                // Each reader is a thread with its own statement cache and
                // its own mapping of the file: more than eight (or two a
                // core) only wait for the cores, and those a burst opened
                // close once idle for half a minute, so a small node stays
                // small.
                let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
                let most = u32::try_from(2 * cores).unwrap_or(u32::MAX).max(8);
                let readers = options.max_connections.clamp(1, most);
                let read = pool(readers, true, true)
                    .min_connections(1)
                    .idle_timeout(Some(READER_IDLE))
                    .max_lifetime(Some(READER_LIFETIME))
                    .connect(&url)
                    .await
                    .map_err(OpenError::Connect)?;
                let feed = pool(FEED_READS as u32, true, false)
                    .idle_timeout(Some(READER_IDLE))
                    .connect_lazy(&url)
                    .map_err(OpenError::Connect)?;
                let feed = Feed {
                    pool: feed,
                    turns: std::sync::Arc::new(tokio::sync::Semaphore::new(FEED_READS)),
                };
                (read, write, Some(feed))
            }
            Backend::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(options.max_connections.max(2))
                    .acquire_timeout(options.acquire_timeout)
                    // Whatever the server's default: the change log's
                    // numbering pass reads, after taking its lock, what the
                    // pass before it committed.
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            conn.execute(
                                "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL \
                                 READ COMMITTED",
                            )
                            .await?;
                            Ok(())
                        })
                    })
                    .connect(url)
                    .await
                    .map_err(OpenError::Connect)?;
                (pool.clone(), pool, None)
            }
        };
        let store = Self {
            read,
            write,
            backend,
            latest: watch::channel(0).0,
            mirrored: watch::channel(0).0,
            clock: Clock::system(),
            sessions: Lifetimes::default(),
            writes: Default::default(),
            facts: Default::default(),
            sequencer: Default::default(),
            group: Default::default(),
            feed,
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
        // Entries a previous run committed and did not number.
        self.sequence_log()
            .await
            .map_err(|e| OpenError::Prepare(sqlx::Error::Protocol(e.to_string())))?;
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

    /// The same store ending console sessions after `lifetimes`.
    pub fn with_session_lifetimes(mut self, lifetimes: Lifetimes) -> Self {
        self.sessions = lifetimes;
        self
    }

    /// How long console sessions last.
    pub fn session_lifetimes(&self) -> Lifetimes {
        self.sessions
    }

    /// The clock the store reads.
    pub fn clock(&self) -> &Clock {
        &self.clock
    }

    /// Whether other processes may write to this database (replicas of the
    /// node on PostgreSQL): then this process learns of their log entries
    /// by polling. SQLite has one writer, this process.
    pub fn has_other_writers(&self) -> bool {
        self.backend == Backend::Postgres
    }

    /// The database this store runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A connection of its own for checking that the database answers,
    /// apart from the pools, so that a check neither waits behind the
    /// node's calls nor retries inside a pool: it fails as soon as the
    /// database refuses or drops it.
    pub fn probe(&self) -> Probe {
        Probe {
            options: self.read.connect_options(),
            connection: None,
        }
    }

    /// How many connections the store holds open now, by pool.
    pub fn connections(&self) -> Connections {
        Connections {
            read: self.read.size(),
            feed: self.feed.as_ref().map(|feed| feed.pool.size()),
            write: (self.backend == Backend::Sqlite).then(|| self.write.size()),
        }
    }

    /// Closes every connection, waiting for those in use to be returned.
    pub async fn close(&self) {
        self.write.close().await;
        self.read.close().await;
        if let Some(feed) = &self.feed {
            feed.pool.close().await;
        }
    }

    /// A receiver that changes whenever a change-log entry commits on this
    /// process; its value is the latest sequence known.
    pub fn subscribe_latest(&self) -> watch::Receiver<u64> {
        self.latest.subscribe()
    }

    /// Changes whenever this process has applied peers' entries to its
    /// mirrors: what a relay passes on wakes it.
    pub fn subscribe_mirrored(&self) -> watch::Receiver<u64> {
        self.mirrored.subscribe()
    }

    /// Wakes the relays after a commit of mirrored entries.
    pub(crate) fn observe_mirrored(&self) {
        self.mirrored.send_modify(|n| *n = n.wrapping_add(1));
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

    /// The pool writes go through: one connection on SQLite.
    pub(crate) fn writer(&self) -> &AnyPool {
        &self.write
    }

    /// The pool reads go through; on PostgreSQL, the one pool writes use too.
    pub(crate) fn reader(&self) -> &AnyPool {
        &self.read
    }

    /// A turn to read for a follower's stream: on SQLite one of
    /// [`FEED_READS`] at once, on the followers' own connections; on
    /// PostgreSQL, whose connections map nothing here, the one pool
    /// without turns.
    pub(crate) async fn feed_read(&self) -> FeedRead<'_> {
        match &self.feed {
            Some(feed) => FeedRead {
                pool: &feed.pool,
                // Never closed: the semaphore lives as long as the store.
                _turn: feed.turns.acquire().await.ok(),
            },
            None => FeedRead {
                pool: &self.read,
                _turn: None,
            },
        }
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

/// See [`Store::probe`].
pub struct Probe {
    options: std::sync::Arc<sqlx::any::AnyConnectOptions>,
    connection: Option<sqlx::AnyConnection>,
}

impl Probe {
    /// Drops the connection (after a check given up on mid-way).
    pub fn reset(&mut self) {
        self.connection = None;
    }

    /// Asks the database a trivial question, connecting first when there is
    /// no connection; an error drops the connection, to open a new one next
    /// time.
    pub async fn check(&mut self) -> Result<(), edufed_domain::StorageError> {
        use sqlx::ConnectOptions as _;
        let connection = match &mut self.connection {
            Some(connection) => connection,
            None => self.connection.insert(
                self.options
                    .connect()
                    .await
                    .map_err(crate::error::storage)?,
            ),
        };
        match connection.execute("SELECT 1").await {
            Ok(_) => Ok(()),
            Err(error) => {
                self.connection = None;
                Err(crate::error::storage(error))
            }
        }
    }
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
    fn sqlite_urls_create_files() {
        assert_eq!(sqlite_url("sqlite://a.db"), "sqlite://a.db?mode=rwc");
        assert_eq!(
            sqlite_url("sqlite://a.db?cache=shared"),
            "sqlite://a.db?cache=shared&mode=rwc"
        );
    }
}
