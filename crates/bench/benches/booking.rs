//! Booking decisions per second over gRPC, beside the raw database's rate
//! for the same decision measured in the same run.
//!
//! The node runs in a child process (this benchmark's own executable,
//! started with `EDUFED_BENCH_BOOKING_NODE` naming its database), release
//! built, as a server runs: its own runtime, its own threads. 64 clients
//! on 8 connections each make 40 one-hour requests (`Booking.RequestBooking`
//! as the technopark's coordinator) at random quarter hours over twenty
//! days: once all on one hot resource (most collide), once spread over
//! 1 000 resources. A decision is a request booked or refused as a
//! conflict. Afterwards SQL counts overlapping confirmed occurrences; there
//! must be none.
//!
//! The raw database makes the same decision directly, with a native
//! driver and the same guard: on SQLite a check and an insert in one
//! `BEGIN IMMEDIATE` transaction, from four threads with a connection each
//! (WAL, `synchronous = NORMAL`, as the node runs); on PostgreSQL an insert
//! guarded by a GiST exclusion constraint, from 64 connections, with the
//! server's durability settings (`scripts/bench` starts it with fsync and
//! synchronous commit on).
//!
//! Beside them, the same clients time calls that decide nothing
//! (`Health.Check`; `Booking.GetResource` with the token), and on SQLite
//! the raw decision is made once more through sqlx's SQLite driver, the
//! store's, to show what the transport, the request path and the driver
//! cost by themselves.
//!
//! `cargo bench -p edufed-bench --bench booking`; with
//! `EDUFED_BENCH_POSTGRES_URL=postgres://…/postgres` also on PostgreSQL.
//! `EDUFED_BENCH_SCALE` divides the requests for a quick run.

use std::io::Read as _;
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, NaiveDateTime, Utc};
use edufed_bench::{Steal, millis, on_each_backend, percentile, runtime, scale};
use edufed_domain::booking::{Access, ApprovalPolicy, BookingRules, ResourceDetails, ResourceKind};
use edufed_domain::changes::Actor;
use edufed_domain::ids::OrgId;
use edufed_domain::time::TimeZone;
use edufed_proto::v1 as pb;
use edufed_tests::{Backend, Bearer, TestDb, TestNode, org_request};
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use sqlx::Connection as _;
use tokio::io::{AsyncBufReadExt as _, BufReader};
use tonic::transport::Channel;

const CLIENTS: usize = 64;
const CONNECTIONS: usize = 8;
const REQUESTS: usize = 40;
const RESOURCES: usize = 1_000;
/// Calls per client of a call that decides nothing, per booking request.
const FLOOR_CALLS: usize = 10;
/// Quarter hours in the twenty days requests fall in.
const SLOTS: i64 = 20 * 24 * 4;
/// Threads of the raw SQLite run, each with its own connection.
const RAW_SQLITE_THREADS: usize = 4;
/// Connections of the raw PostgreSQL run.
const RAW_POSTGRES_CLIENTS: usize = 64;
/// Set in the child process that runs the node, to its database's URL.
const NODE_PROCESS: &str = "EDUFED_BENCH_BOOKING_NODE";
const ZONE: chrono_tz::Tz = chrono_tz::Asia::Yekaterinburg;

fn main() {
    if let Ok(url) = std::env::var(NODE_PROCESS) {
        runtime().block_on(serve(url));
        return;
    }
    on_each_backend(async |backend, url| run(backend, url).await);
}

/// How one side of the comparison did.
struct Rate {
    decisions: usize,
    booked: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
}

impl Rate {
    fn per_second(&self) -> f64 {
        self.decisions as f64 / self.elapsed.as_secs_f64()
    }
}

async fn run(backend: &str, url: &str) {
    let requests = (REQUESTS / scale()).max(1);
    let node = NodeProcess::start(url).await;
    let base = first_day();
    let mut floors = Vec::new();
    for call in [Floor::Health, Floor::Read] {
        let rate = node.floor(call, requests * FLOOR_CALLS).await;
        println!(
            "{backend}: {} from the same {CLIENTS} clients: {rate:.0} calls/s",
            call.name()
        );
        floors.push((call.name().to_owned(), rate));
    }
    let mut lines = Vec::new();
    for (name, hot, seed) in [("one hot resource", true, 0), ("1 000 resources", false, 1)] {
        let steal = Steal::start();
        let mut grpc = node.hammer(base, hot, requests, seed).await;
        let stolen = steal.percent();
        let overlaps = overlapping_confirmed(url).await;
        assert_eq!(
            overlaps, 0,
            "{backend}, {name}: overlapping confirmed occurrences"
        );
        let raw = if backend == "SQLite" {
            for connections in [1, RAW_SQLITE_THREADS] {
                let through_sqlx = sqlx_sqlite(url, hot, requests, seed, connections).await;
                println!(
                    "{backend}, {name}: the raw decision through sqlx's SQLite driver on \
                     {connections} connection(s): {:.0} decisions/s ({} of {} booked)",
                    through_sqlx.per_second(),
                    through_sqlx.booked,
                    through_sqlx.decisions,
                );
                floors.push((
                    format!("the raw decision through sqlx, {name}, {connections} connection(s)"),
                    through_sqlx.per_second(),
                ));
            }
            raw_sqlite(url, hot, requests, seed).await
        } else {
            raw_postgres(url, hot, requests, seed).await
        };
        let ratio = grpc.per_second() / raw.per_second() * 100.0;
        let p50 = millis(percentile(&mut grpc.latencies, 50));
        let p99 = millis(percentile(&mut grpc.latencies, 99));
        println!(
            "{backend}, {name}: over gRPC {:.0} decisions/s (p50 {p50:.1} ms, p99 {p99:.1} ms, \
             {} of {} booked, steal {stolen:.0}%); the raw database {:.0} decisions/s ({} of {} \
             booked); ratio {ratio:.1}%; overlapping confirmed occurrences: {overlaps}",
            grpc.per_second(),
            grpc.booked,
            grpc.decisions,
            raw.per_second(),
            raw.booked,
            raw.decisions,
        );
        lines.push((name, grpc.per_second(), p99, raw.per_second(), ratio));
    }
    node.stop().await;
    println!("| {backend} | over gRPC | p99 | the raw database | ratio |");
    for (name, rate, p99, raw, ratio) in lines {
        println!(
            "| {name} | {rate:.0} decisions/s | {p99:.0} ms | {raw:.0} decisions/s | {ratio:.1}% |"
        );
    }
    for (name, rate) in floors {
        println!("| {name} | {rate:.0} calls/s | | | |");
    }
}

/// A call that decides nothing, to show what the transport and the
/// node's request path cost by themselves on this machine.
#[derive(Clone, Copy)]
enum Floor {
    /// `grpc.health.v1.Health/Check`: no token, no database.
    Health,
    /// `Booking.GetResource` as the coordinator: the token, the caller's
    /// memberships and one row read.
    Read,
}

impl Floor {
    fn name(self) -> &'static str {
        match self {
            Self::Health => "Health.Check, no token, no database",
            Self::Read => "Booking.GetResource, a token and one row",
        }
    }
}

/// Midnight UTC two days from now: requests start after it.
fn first_day() -> DateTime<Utc> {
    (Utc::now() + chrono::Duration::days(2))
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc()
}

/// A client's next request: which resource (an index) and when.
fn request(rng: &mut StdRng, hot: bool, base: DateTime<Utc>) -> (usize, DateTime<Utc>) {
    let resource = if hot { 0 } else { rng.gen_range(0..RESOURCES) };
    let start = base + chrono::Duration::minutes(15 * rng.gen_range(0..SLOTS));
    (resource, start)
}

/// Local time in the lab's zone, as a client sends it.
fn local(t: DateTime<Utc>) -> NaiveDateTime {
    t.with_timezone(&ZONE).naive_local()
}

/// The node in its child process, with the technopark's coordinator's
/// token and its resources' ids.
struct NodeProcess {
    child: tokio::process::Child,
    url: String,
    token: String,
    org: String,
    resources: Arc<Vec<String>>,
}

impl NodeProcess {
    async fn start(database: &str) -> Self {
        let mut child = tokio::process::Command::new(
            std::env::current_exe().expect("the path of this benchmark"),
        )
        .env(NODE_PROCESS, database)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start the node process");
        let mut lines = BufReader::new(child.stdout.take().expect("the node's stdout")).lines();
        let mut next = async || {
            lines
                .next_line()
                .await
                .expect("read the node's stdout")
                .expect("the node process says it is ready")
        };
        let ready = next().await;
        let [url, token, org] = ready
            .strip_prefix("ready ")
            .and_then(|rest| rest.split(' ').collect::<Vec<_>>().try_into().ok())
            .map(|parts: [&str; 3]| parts.map(str::to_owned))
            .expect("ready <url> <token> <organization id>");
        let mut resources = Vec::with_capacity(RESOURCES);
        loop {
            let line = next().await;
            if line == "end" {
                break;
            }
            resources.push(line);
        }
        Self {
            child,
            url,
            token,
            org,
            resources: Arc::new(resources),
        }
    }

    async fn channels(&self) -> Vec<Channel> {
        let mut channels = Vec::with_capacity(CONNECTIONS);
        for _ in 0..CONNECTIONS {
            channels.push(
                Channel::from_shared(self.url.clone())
                    .expect("url")
                    .connect()
                    .await
                    .expect("connect to the node"),
            );
        }
        channels
    }

    /// Calls per second of `call`, `CLIENTS` clients on `CONNECTIONS`
    /// connections, `calls` each.
    async fn floor(&self, call: Floor, calls: usize) -> f64 {
        let channels = self.channels().await;
        let started = Instant::now();
        let clients: Vec<_> = (0..CLIENTS)
            .map(|client| {
                let channel = channels[client % CONNECTIONS].clone();
                let resource = self.resources[client % self.resources.len()].clone();
                let bearer = Bearer::new(&self.token);
                tokio::spawn(async move {
                    let mut health =
                        tonic_health::pb::health_client::HealthClient::new(channel.clone());
                    let mut booking =
                        pb::booking_client::BookingClient::with_interceptor(channel, bearer);
                    for _ in 0..calls {
                        match call {
                            Floor::Health => {
                                health
                                    .check(tonic_health::pb::HealthCheckRequest::default())
                                    .await
                                    .expect("health");
                            }
                            Floor::Read => {
                                booking
                                    .get_resource(pb::GetResourceRequest {
                                        resource_id: resource.clone(),
                                    })
                                    .await
                                    .expect("the resource");
                            }
                        }
                    }
                })
            })
            .collect();
        for client in clients {
            client.await.expect("client");
        }
        (CLIENTS * calls) as f64 / started.elapsed().as_secs_f64()
    }

    /// `CLIENTS` clients on `CONNECTIONS` connections, `requests` each.
    async fn hammer(&self, base: DateTime<Utc>, hot: bool, requests: usize, seed: u64) -> Rate {
        let channels = self.channels().await;
        let started = Instant::now();
        let clients: Vec<_> = (0..CLIENTS)
            .map(|client| {
                let mut booking = pb::booking_client::BookingClient::with_interceptor(
                    channels[client % CONNECTIONS].clone(),
                    Bearer::new(&self.token),
                );
                let resources = self.resources.clone();
                let org = self.org.clone();
                tokio::spawn(async move {
                    let mut rng = StdRng::seed_from_u64(seed * 1_000 + client as u64);
                    let mut booked = 0;
                    let mut latencies = Vec::with_capacity(requests);
                    for _ in 0..requests {
                        let (resource, start) = request(&mut rng, hot, base);
                        let asked = Instant::now();
                        let answer = booking
                            .request_booking(pb::RequestBookingRequest {
                                resource_id: resources[resource].clone(),
                                requester: org.clone(),
                                start: local(start).format("%Y-%m-%dT%H:%M:%S").to_string(),
                                end: local(start + chrono::Duration::hours(1))
                                    .format("%Y-%m-%dT%H:%M:%S")
                                    .to_string(),
                                purpose: "Технология".into(),
                                headcount: 12,
                                ..Default::default()
                            })
                            .await;
                        latencies.push(asked.elapsed());
                        match answer {
                            Ok(_) => booked += 1,
                            Err(status)
                                if status.code() == tonic::Code::FailedPrecondition
                                    && String::from_utf8_lossy(status.details())
                                        .contains("BOOKING_CONFLICT") => {}
                            Err(status) => panic!("not a decision: {status:?}"),
                        }
                    }
                    (booked, latencies)
                })
            })
            .collect();
        let mut rate = Rate {
            decisions: CLIENTS * requests,
            booked: 0,
            elapsed: Duration::ZERO,
            latencies: Vec::with_capacity(CLIENTS * requests),
        };
        for client in clients {
            let (booked, latencies) = client.await.expect("client");
            rate.booked += booked;
            rate.latencies.extend(latencies);
        }
        rate.elapsed = started.elapsed();
        rate
    }

    async fn stop(mut self) {
        drop(self.child.stdin.take());
        self.child.wait().await.expect("the node process ends");
    }
}

/// The child process: a node on `url` with a technopark and its labs,
/// serving until its stdin closes.
async fn serve(url: String) {
    let backend = if url.starts_with("sqlite:") {
        Backend::Sqlite
    } else {
        Backend::Postgres
    };
    let db = TestDb {
        url,
        backend,
        dir: tempfile::tempdir().expect("temp dir"),
    };
    let node = TestNode::start_with(db, |_| {}).await;
    let org = node
        .operator()
        .await
        .create_organization(pb::CreateOrganizationRequest {
            kind: pb::OrganizationKind::Technopark.into(),
            ..org_request("kvantorium")
        })
        .await
        .expect("create the technopark")
        .into_inner()
        .id;
    let token = node.member_token("kvantorium", pb::Role::Coordinator).await;
    println!("ready {} {token} {org}", node.node.url());
    let owner = OrgId::from_stored(org);
    for i in 0..RESOURCES {
        let details = ResourceDetails {
            kind: ResourceKind::Lab,
            name: format!("Лаборатория {i}"),
            capacity: Some(30),
            features: vec![],
            time_zone: TimeZone::parse("time_zone", "Asia/Yekaterinburg").expect("zone"),
            hours: vec![],
            rules: BookingRules {
                buffer_minutes: 10,
                ..BookingRules::default()
            },
            approval: ApprovalPolicy::Automatic,
            access: Access::Network,
        }
        .validate()
        .expect("valid resource");
        let resource = node
            .node
            .store()
            .create_resource(&owner, details, &Actor::Node)
            .await
            .expect("resource");
        println!("{}", resource.id);
    }
    println!("end");
    tokio::task::spawn_blocking(|| std::io::stdin().read_to_end(&mut Vec::new()))
        .await
        .expect("wait for stdin to close")
        .ok();
    let TestNode { node, db, .. } = node;
    node.stop().await.expect("the node stops");
    drop(db);
}

/// Pairs of confirmed occurrences of one resource that overlap.
async fn overlapping_confirmed(url: &str) -> i64 {
    sqlx::any::install_default_drivers();
    let mut conn = sqlx::AnyConnection::connect(url).await.expect("connect");
    let count: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM booking_occurrences a JOIN booking_occurrences b \
         ON a.resource_id = b.resource_id AND a.booking_id < b.booking_id \
         AND a.start_at < b.end_at AND b.start_at < a.end_at \
         WHERE a.state = 'confirmed' AND b.state = 'confirmed'",
    )
    .fetch_one(&mut conn)
    .await
    .expect("count overlaps");
    conn.close().await.ok();
    count
}

/// The raw SQLite decision: in `BEGIN IMMEDIATE`, is anything confirmed
/// there; if not, insert. Four threads, a connection each; as many
/// requests in all as the gRPC run made, four times over so that the
/// timing is not a blink.
/// The raw decision of [`raw_sqlite`] made through sqlx's SQLite driver,
/// which the node's store uses: the same schema, statements and pragmas,
/// from `connections` tasks with a connection each (the node writes
/// through one), so the two differ only in the driver.
async fn sqlx_sqlite(url: &str, hot: bool, requests: usize, seed: u64, connections: usize) -> Rate {
    use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous};
    let path = raw_path(url, &format!("sqlx-{seed}-{connections}.db"));
    let options = SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .busy_timeout(Duration::from_secs(10));
    let mut conn = sqlx::SqliteConnection::connect_with(&options)
        .await
        .expect("open the database");
    sqlx::raw_sql(
        "CREATE TABLE occurrences (resource INTEGER NOT NULL, start_at INTEGER NOT NULL, \
         end_at INTEGER NOT NULL, state TEXT NOT NULL); \
         CREATE INDEX occurrences_resource ON occurrences (resource, start_at);",
    )
    .execute(&mut conn)
    .await
    .expect("schema");
    let base = first_day();
    let per_task = CLIENTS * requests * 4 / connections;
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(connections);
    for task in 0..connections {
        let mut conn = sqlx::SqliteConnection::connect_with(&options)
            .await
            .expect("open the database");
        tasks.push(tokio::spawn(async move {
            let mut rng = StdRng::seed_from_u64(seed * 1_000 + task as u64);
            let mut booked = 0;
            for _ in 0..per_task {
                let (resource, start) = request(&mut rng, hot, base);
                let (resource, start, end) = (
                    resource as i64,
                    start.timestamp(),
                    start.timestamp() + 3_600,
                );
                if sqlx_decide(&mut conn, resource, start, end).await {
                    booked += 1;
                }
            }
            booked
        }));
    }
    let mut booked = 0;
    for task in tasks {
        booked += task.await.expect("task");
    }
    Rate {
        decisions: per_task * connections,
        booked,
        elapsed: started.elapsed(),
        latencies: vec![],
    }
}

/// One raw decision through sqlx: books the hour unless it is taken.
async fn sqlx_decide(
    conn: &mut sqlx::SqliteConnection,
    resource: i64,
    start: i64,
    end: i64,
) -> bool {
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut *conn)
        .await
        .expect("begin");
    let taken: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM occurrences WHERE resource = ?1 \
         AND state = 'confirmed' AND start_at < ?3 AND end_at > ?2)",
    )
    .bind(resource)
    .bind(start)
    .bind(end)
    .fetch_one(&mut *conn)
    .await
    .expect("check");
    if !taken {
        sqlx::query("INSERT INTO occurrences VALUES (?1, ?2, ?3, 'confirmed')")
            .bind(resource)
            .bind(start)
            .bind(end)
            .execute(&mut *conn)
            .await
            .expect("insert");
    }
    sqlx::query("COMMIT")
        .execute(&mut *conn)
        .await
        .expect("commit");
    !taken
}

/// A file beside the node's database, for a raw run.
fn raw_path(url: &str, name: &str) -> String {
    url.trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .expect("a path")
        .replace("edufed.db", name)
}

async fn raw_sqlite(url: &str, hot: bool, requests: usize, seed: u64) -> Rate {
    let path = raw_path(url, &format!("raw-{seed}.db"));
    let open = || {
        let conn = rusqlite::Connection::open(&path).expect("open the raw database");
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA busy_timeout = 10000;",
        )
        .expect("pragmas");
        conn
    };
    open()
        .execute_batch(
            "CREATE TABLE occurrences (resource INTEGER NOT NULL, start_at INTEGER NOT NULL, \
             end_at INTEGER NOT NULL, state TEXT NOT NULL); \
             CREATE INDEX occurrences_resource ON occurrences (resource, start_at);",
        )
        .expect("schema");
    let base = first_day();
    let per_thread = CLIENTS * requests * 4 / RAW_SQLITE_THREADS;
    let started = Instant::now();
    let threads: Vec<_> = (0..RAW_SQLITE_THREADS)
        .map(|thread| {
            let conn = open();
            std::thread::spawn(move || {
                let mut rng = StdRng::seed_from_u64(seed * 1_000 + thread as u64);
                let mut booked = 0;
                let mut check = conn
                    .prepare(
                        "SELECT EXISTS (SELECT 1 FROM occurrences WHERE resource = ?1 \
                         AND state = 'confirmed' AND start_at < ?3 AND end_at > ?2)",
                    )
                    .expect("prepare");
                let mut insert = conn
                    .prepare("INSERT INTO occurrences VALUES (?1, ?2, ?3, 'confirmed')")
                    .expect("prepare");
                for _ in 0..per_thread {
                    let (resource, start) = request(&mut rng, hot, base);
                    let (start, end) = (start.timestamp(), start.timestamp() + 3_600);
                    conn.execute_batch("BEGIN IMMEDIATE").expect("begin");
                    let taken: bool = check
                        .query_row((resource, start, end), |row| row.get(0))
                        .expect("check");
                    if !taken {
                        insert.execute((resource, start, end)).expect("insert");
                        booked += 1;
                    }
                    conn.execute_batch("COMMIT").expect("commit");
                }
                booked
            })
        })
        .collect();
    let mut booked = 0;
    for thread in threads {
        booked += thread.join().expect("thread");
    }
    Rate {
        decisions: per_thread * RAW_SQLITE_THREADS,
        booked,
        elapsed: started.elapsed(),
        latencies: vec![],
    }
}

/// The raw PostgreSQL decision: an insert the exclusion constraint guards,
/// one statement a transaction, from 64 connections; four times as many
/// requests as the gRPC run made, as on SQLite.
async fn raw_postgres(url: &str, hot: bool, requests: usize, seed: u64) -> Rate {
    let pool = sqlx::postgres::PgPoolOptions::new()
        .max_connections(RAW_POSTGRES_CLIENTS as u32)
        .connect(url)
        .await
        .expect("connect");
    let table = format!("raw_occurrences_{seed}");
    for statement in [
        format!(
            "CREATE TABLE {table} (resource BIGINT NOT NULL, start_at BIGINT NOT NULL, \
             end_at BIGINT NOT NULL, state TEXT NOT NULL, \
             EXCLUDE USING gist (resource WITH =, int8range(start_at, end_at) WITH &&) \
             WHERE (state = 'confirmed'))"
        ),
        format!("CREATE INDEX {table}_resource ON {table} (resource, start_at)"),
    ] {
        sqlx::query(&statement)
            .execute(&pool)
            .await
            .expect("schema");
    }
    let insert =
        format!("INSERT INTO {table} VALUES ($1, $2, $3, 'confirmed') ON CONFLICT DO NOTHING");
    let base = first_day();
    let per_client = CLIENTS * requests * 4 / RAW_POSTGRES_CLIENTS;
    let started = Instant::now();
    let clients: Vec<_> = (0..RAW_POSTGRES_CLIENTS)
        .map(|client| {
            let pool = pool.clone();
            let insert = insert.clone();
            tokio::spawn(async move {
                let mut rng = StdRng::seed_from_u64(seed * 1_000 + client as u64);
                let mut booked = 0;
                for _ in 0..per_client {
                    let (resource, start) = request(&mut rng, hot, base);
                    let inserted = sqlx::query(&insert)
                        .bind(resource as i64)
                        .bind(start.timestamp())
                        .bind(start.timestamp() + 3_600)
                        .execute(&pool)
                        .await
                        .expect("insert")
                        .rows_affected();
                    booked += inserted as usize;
                }
                booked
            })
        })
        .collect();
    let mut booked = 0;
    for client in clients {
        booked += client.await.expect("client");
    }
    let elapsed = started.elapsed();
    pool.close().await;
    Rate {
        decisions: per_client * RAW_POSTGRES_CLIENTS,
        booked,
        elapsed,
        latencies: vec![],
    }
}
