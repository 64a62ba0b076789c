//! The reports at network scale: a school year's indicators for 1 000
//! organizations and 100 000 activities, and the activities, participation
//! and agreements reports over the same facts. Timed in two parts, as the
//! Reports service runs them: loading the facts from the store
//! (`Store::report_facts` for the year and the year before), then computing
//! each report from them (`edufed_domain::report::*`).
//!
//! `cargo bench -p edufed-bench --bench reports` runs it on SQLite; with
//! `EDUFED_BENCH_POSTGRES_URL=postgres://…/postgres` also on PostgreSQL (a
//! fresh database is created there). `EDUFED_BENCH_SCALE` divides the
//! activities, cohorts and agreements for a quick run (e.g. 10).
//!
//! The network: 900 schools and 100 publishers (universities, technoparks,
//! museums, centres of additional education, the methodical centre) in
//! three time zones. Organizations, agreements (drafted, proposed and signed
//! by both parties, then brought up to date by the lifecycle), enrolments
//! and targets are written through the store as a node writes them. The
//! 100 000 activities of the school year 2025/26 (and as many in each of
//! the two years before, history the reports must not pay for), their
//! occurrences and the schools' cohorts are built from the domain's types (occurrences expanded
//! by the schedule, details and cohorts serialized by serde as the store
//! does) and written with multi-row INSERTs in a few transactions, without
//! change-log entries, which reports do not read; a sample of them is read
//! back through the store to check they are what it would have written.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::{Duration as StdDuration, Instant};

use chrono::{DateTime, Days, Duration, NaiveDate, TimeZone as _, Utc};
use edufed_bench::{
    Steal, activity, millis, numbered_organization, on_each_backend, open_store, percentile, scale,
    schedule, timed,
};
use edufed_domain::agreement::decide::{Ballot, Signer, Vote};
use edufed_domain::agreement::{
    AgreementKind, CompletionDocument, Content, Duty, PartKind, Party, PartyRole, Programme,
    ProgrammePart, Signatory, Students,
};
use edufed_domain::calendar::registration::{Cohort, RegistrationState, Results};
use edufed_domain::calendar::{
    Activity, ActivityKind, ActivityStatus, Direction, GradeRange, Override, OverrideChange,
};
use edufed_domain::changes::{Actor, EntityKind, NewChange};
use edufed_domain::directory::{OrgKind, Role};
use edufed_domain::ids::{ActivityId, AgreementId, OrgId, RegistrationId};
use edufed_domain::policy::Principal;
use edufed_domain::report::{
    self, ActivityRow, AgreementRow, Facts, Indicator, ParticipationRow, Query, Report, ReportKind,
    SchoolYear, Scope, TargetScope,
};
use edufed_domain::time::{Clock, TimeZone};
use edufed_store::agreement::NewAgreement;
use edufed_store::{ConnectOptions, Store};
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use sqlx::Connection as _;

const SCHOOLS: usize = 900;
const PUBLISHERS: usize = 100;
const ACTIVITIES: usize = 100_000;
const AGREEMENTS: usize = 1_000;
/// Activities delivered under an agreement, per agreement in force.
const LINKED_PER_AGREEMENT: usize = 20;
/// Timed runs of each part.
const RUNS: usize = 5;
/// Activities (with their occurrences and cohorts) per INSERT transaction.
const BATCH: usize = 10_000;
/// What the Reports service looks ahead for "expiring soon" by default.
const EXPIRING_WITHIN_DAYS: u32 = 60;

fn main() {
    let scale = scale();
    on_each_backend(async |backend, url| run(backend, url, scale).await);
}

/// When the reports are asked for: the school year 2025/26 is over but for
/// its summer, so most occurrences have been held.
fn as_of() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 15, 12, 0, 0).unwrap()
}

fn day(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

async fn run(backend: &str, url: &str, scale: usize) {
    let clock = Clock::manual(Utc.with_ymd_and_hms(2024, 8, 1, 9, 0, 0).unwrap());
    let store = open_store(url, &ConnectOptions::default())
        .await
        .with_clock(clock.clone());
    let seeded = Instant::now();
    let seed = seed(&store, &clock, url, scale).await;
    println!(
        "{backend}: seeded {} organizations, {} agreements, {} activities with {} occurrences \
         and {} cohorts ({} confirmed, {} with results) in 2025/26, {} and {} activities \
         ({} and {} cohorts) in 2024/25 and 2023/24, in {:.1} s ({})",
        seed.orgs,
        seed.agreements,
        seed.year.activities,
        seed.year.occurrences,
        seed.year.registrations,
        seed.year.confirmed,
        seed.year.with_results,
        seed.previous.activities,
        seed.older.activities,
        seed.previous.registrations,
        seed.older.registrations,
        seeded.elapsed().as_secs_f64(),
        seed.phases
            .iter()
            .map(|(what, secs)| format!("{what} {secs:.1} s"))
            .collect::<Vec<_>>()
            .join(", ")
    );

    let period = SchoolYear(2025).period();
    let periods = [period, period.previous()];
    let steal = Steal::start();

    // Loading the facts. Each run's facts are assigned inside the timing,
    // dropping the previous run's there, as in the runs BENCHMARKS.md
    // records; the store's kept facts are forgotten first, so each run
    // reads them anew.
    let mut facts = Facts::default();
    let (mut load, ()) = timed(RUNS, async || {
        store.forget_report_facts();
        facts = store.report_facts(&periods).await.expect("report facts");
    })
    .await;
    // Asked again with nothing changed: the kept facts, read at the hour.
    let (mut kept, ()) = timed(RUNS, async || {
        facts = store.report_facts(&periods).await.expect("report facts");
    })
    .await;
    println!(
        "{backend}: report_facts again, nothing changed (kept): {}",
        spread(&mut kept)
    );
    let occurrences: usize = facts.activities.iter().map(|a| a.occurrences.len()).sum();
    println!(
        "{backend}: report_facts({period} and {}): {} (loaded {} organizations, {} activities \
         with {occurrences} occurrences, {} cohorts, {} agreements, {} enrolments, {} targets)",
        period.previous(),
        spread(&mut load),
        facts.orgs.len(),
        facts.activities.len(),
        facts.registrations.len(),
        facts.agreements.len(),
        facts.enrolments.len(),
        facts.targets.len(),
    );
    assert_eq!(facts.orgs.len(), seed.orgs, "every organization is loaded");
    // The year asked for and the one before; the older one not.
    let (year, previous) = (seed.year, seed.previous);
    assert_eq!(
        facts.activities.len(),
        year.activities + previous.activities,
        "every activity of both years is loaded"
    );
    assert_eq!(
        occurrences,
        year.occurrences + previous.occurrences,
        "with every occurrence"
    );
    assert_eq!(
        facts.registrations.len(),
        year.registrations - year.withdrawn + previous.registrations - previous.withdrawn,
        "every cohort of both years but the withdrawn is loaded"
    );
    assert_eq!(facts.agreements.len(), seed.agreements);
    assert_eq!(facts.enrolments.len(), 2 * SCHOOLS);

    // Computing the reports from them.
    let (mut times, rows) = computed(&facts, &query(period, None), report::indicators).await;
    let mut by_indicator: BTreeMap<&str, (usize, usize)> = BTreeMap::new();
    for r in rows.iter().filter(|r| !r.organization.is_empty()) {
        let e = by_indicator.entry(r.indicator.as_str()).or_default();
        e.0 += 1;
        e.1 += usize::from(r.value.is_some_and(|v| v > 0.0));
    }
    let per_org = rows.iter().filter(|r| !r.organization.is_empty()).count();
    println!(
        "{backend}: indicators: {} ({} rows, {per_org} per organization: {})",
        spread(&mut times),
        rows.len(),
        by_indicator
            .iter()
            .map(|(i, (n, v))| format!("{i} {n} ({v} above 0)"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for r in rows.iter().filter(|r| r.organization.is_empty()) {
        println!(
            "{backend}:   network {}: {:?} = {} / {} (previous {:?}, target {:?})",
            r.indicator, r.value, r.numerator, r.denominator, r.previous, r.target
        );
    }
    for (indicator, least) in [
        (Indicator::ActivitiesHeld, PUBLISHERS * 9 / 10),
        (Indicator::ParticipantsPerActivity, PUBLISHERS * 9 / 10),
        (Indicator::NetworkCoverage, 100 / scale),
        (Indicator::WinnersShare, SCHOOLS / 2 / scale),
        (Indicator::AgreementsSigned, 100 / scale),
    ] {
        let valued = by_indicator.get(indicator.as_str()).map_or(0, |(_, v)| *v);
        assert!(
            valued >= least,
            "{indicator}: only {valued} organizations have a value above 0"
        );
    }

    let reports = Reports {
        backend,
        facts: &facts,
        period,
    };
    let activities = reports.time("activities", report::activities).await;
    assert!(activities.total.activities_held as usize > seed.year.activities * 8 / 10);
    let participation = reports.time("participation", report::participation).await;
    assert!(participation.total.cohorts as usize > seed.year.confirmed * 9 / 10);
    let agreements = reports.time("agreements", report::agreements).await;
    assert!(agreements.total.delivered_hours > 0.0);
    println!("{backend}: {} while timing", steal.taken());

    breakdown(backend, url, &periods).await;
    backup_and_restore(backend, url, &store).await;
    store.close().await;
}

/// `edufed backup` of the whole dataset while nothing else runs, `backup
/// verify`, and `edufed restore` into a new database of the same backend;
/// beside them, the database's own copy of the same data (SQLite's `VACUUM
/// INTO`; PostgreSQL's `pg_dump -Fc` and `pg_restore`, when installed).
async fn backup_and_restore(backend: &str, url: &str, store: &Store) {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().expect("temp dir");
    let identity = edufed_federation::NodeIdentity::generate();
    store
        .bind_node_id(&identity.node_id())
        .await
        .expect("bind the node");
    let settings_for = |name: &str, url: String| {
        let data_dir = dir.path().join(name);
        std::fs::create_dir_all(&data_dir).expect("data dir");
        let key = data_dir.join(edufed_server::KEY_FILE);
        std::fs::write(&key, identity.to_pem()).expect("key");
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).expect("chmod");
        edufed_server::Settings {
            data_dir,
            database_url: Some(url),
            ..edufed_server::Settings::default()
        }
    };
    let file = dir.path().join("bench.edufed-backup");
    let started = Instant::now();
    let manifest =
        edufed_server::backup::backup(&settings_for("data", url.to_owned()), &file, None)
            .await
            .expect("backup");
    let backup = started.elapsed();
    let size = std::fs::metadata(&file).expect("backup file").len();
    let rows: u64 = manifest.tables.values().sum();
    let started = Instant::now();
    edufed_server::backup::verify(&file).expect("verify");
    let verify = started.elapsed();
    let target = match url.strip_prefix("sqlite://") {
        Some(_) => format!("sqlite://{}", dir.path().join("restored.db").display()),
        None => {
            let admin = std::env::var("EDUFED_BENCH_POSTGRES_URL").expect("the server");
            edufed_tests::create_database(&admin, "edufed_bench_restored").await
        }
    };
    let started = Instant::now();
    let restored = edufed_server::backup::restore(
        &settings_for("restored", target.clone()),
        &file,
        None,
        false,
    )
    .await
    .expect("restore");
    let restore = started.elapsed();
    assert_eq!(restored.manifest.tables, manifest.tables);
    println!(
        "{backend}: backup of {rows} rows in {} tables: {:.1} s, {:.1} MB ({:.0} rows/s); verify {:.1} s; restore into a new database {:.1} s ({:.0} rows/s)",
        manifest.tables.len(),
        backup.as_secs_f64(),
        size as f64 / 1e6,
        rows as f64 / backup.as_secs_f64(),
        verify.as_secs_f64(),
        restore.as_secs_f64(),
        rows as f64 / restore.as_secs_f64()
    );
    // The database's own copy, for scale.
    match url.strip_prefix("sqlite://") {
        Some(path) => {
            let path = path.split('?').next().expect("a path");
            let copy = dir.path().join("vacuumed.db");
            let conn = rusqlite::Connection::open(path).expect("open");
            let started = Instant::now();
            conn.execute("VACUUM INTO ?1", [copy.display().to_string()])
                .expect("VACUUM INTO");
            let took = started.elapsed();
            println!(
                "{backend}: VACUUM INTO (the raw database's copy): {:.1} s, {:.1} MB; backup / raw {:.1}x",
                took.as_secs_f64(),
                std::fs::metadata(&copy).expect("copy").len() as f64 / 1e6,
                backup.as_secs_f64() / took.as_secs_f64()
            );
        }
        None => {
            let bin = ["16", "15", "17", "14", "13"]
                .iter()
                .map(|v| std::path::PathBuf::from(format!("/usr/lib/postgresql/{v}/bin")))
                .find(|b| b.join("pg_dump").exists());
            let Some(bin) = bin else {
                println!("{backend}: pg_dump not installed; no raw figure");
                return;
            };
            let dump = dir.path().join("raw.dump");
            let started = Instant::now();
            let status = std::process::Command::new(bin.join("pg_dump"))
                .args(["-Fc", "-Z1", "-f"])
                .arg(&dump)
                .arg(url)
                .status()
                .expect("pg_dump");
            assert!(status.success());
            let dumped = started.elapsed();
            let admin = std::env::var("EDUFED_BENCH_POSTGRES_URL").expect("the server");
            let raw_target = edufed_tests::create_database(&admin, "edufed_bench_raw").await;
            let started = Instant::now();
            let status = std::process::Command::new(bin.join("pg_restore"))
                .args(["--no-owner", "-d", &raw_target])
                .arg(&dump)
                .status()
                .expect("pg_restore");
            assert!(status.success());
            let restored = started.elapsed();
            println!(
                "{backend}: pg_dump -Fc (the raw database's copy): {:.1} s, {:.1} MB; pg_restore {:.1} s; backup / raw {:.1}x, restore / raw {:.1}x",
                dumped.as_secs_f64(),
                std::fs::metadata(&dump).expect("dump").len() as f64 / 1e6,
                restored.as_secs_f64(),
                backup.as_secs_f64() / dumped.as_secs_f64(),
                restore.as_secs_f64() / restored.as_secs_f64()
            );
        }
    }
}

/// The Reports service's query over the network for `period`, grouped as
/// it groups `kind` by default (not at all for the indicators).
fn query(period: report::Period, kind: Option<ReportKind>) -> Query {
    Query {
        period,
        scope: Scope::Network,
        group_by: kind.map_or_else(Vec::new, |k| k.default_grouping().to_vec()),
        expiring_within_days: EXPIRING_WITHIN_DAYS,
    }
}

/// What a run's reports are computed from, and the backend their lines
/// name.
struct Reports<'a> {
    backend: &'a str,
    facts: &'a Facts,
    period: report::Period,
}

impl Reports<'_> {
    /// Times the `name` report over the facts and prints the times with
    /// its total; returns the report.
    async fn time<R: Total>(
        &self,
        name: &str,
        compute: fn(&Facts, &Query) -> Report<R>,
    ) -> Report<R> {
        let query = query(self.period, Some(R::KIND));
        let (mut times, report) = computed(self.facts, &query, compute).await;
        println!(
            "{}: {name} report: {} ({} rows; {})",
            self.backend,
            spread(&mut times),
            report.rows.len(),
            R::summary(&report.total)
        );
        report
    }
}

/// A report's row type, and the figures of its total that the bench
/// prints to show the report covered the network.
trait Total {
    const KIND: ReportKind;

    fn summary(t: &Self) -> String;
}

impl Total for ActivityRow {
    const KIND: ReportKind = ReportKind::Activities;

    fn summary(t: &Self) -> String {
        format!(
            "{} activities held, {} cancelled, {} occurrences held, {} to come",
            t.activities_held, t.activities_cancelled, t.occurrences_held, t.occurrences_scheduled
        )
    }
}

impl Total for ParticipationRow {
    const KIND: ReportKind = ReportKind::Participation;

    fn summary(t: &Self) -> String {
        format!(
            "{} cohorts of {} pupils, {} with results",
            t.cohorts, t.registered, t.cohorts_with_results
        )
    }
}

impl Total for AgreementRow {
    const KIND: ReportKind = ReportKind::Agreements;

    fn summary(t: &Self) -> String {
        format!(
            "{} agreements, {} signed in the year, {} expiring soon, {:.0} hours delivered, {} students reached",
            t.agreements,
            t.signed_in_period,
            t.expiring_soon,
            t.delivered_hours,
            t.students_reached
        )
    }
}

/// Times `compute` over `facts` for `query` in [`RUNS`] runs; returns the
/// times and the last report. Each run's report is assigned inside the
/// timing, dropping the previous run's there, as in the runs BENCHMARKS.md
/// records, so that new numbers compare with those.
async fn computed<R>(
    facts: &Facts,
    query: &Query,
    compute: impl Fn(&Facts, &Query) -> R,
) -> (Vec<StdDuration>, R) {
    let mut report = None;
    let (times, ()) = timed(RUNS, async || report = Some(compute(facts, query))).await;
    (times, report.expect("a run"))
}

/// "median M ms (min A, max B)" of the runs.
fn spread(times: &mut [StdDuration]) -> String {
    let median = percentile(times, 50);
    format!(
        "median {:.1} ms (min {:.1}, max {:.1}; {} runs)",
        millis(median),
        millis(times[0]),
        millis(times[times.len() - 1]),
        times.len()
    )
}

/// Where loading the facts spends its time: the statements `report_facts`
/// runs, each timed alone on a connection of its own (fetching the rows,
/// nothing decoded); the rest of its time is decoding rows and JSON.
async fn breakdown(backend: &str, url: &str, periods: &[report::Period]) {
    let mut conn = raw_connection(url).await;
    let from = periods.iter().map(|p| p.from).min().expect("a period");
    let to = periods.iter().map(|p| p.to).max().expect("a period");
    let (start, end) = Facts::window(&report::Period { from, to });
    let (start, end) = (start.timestamp_micros(), end.timestamp_micros());
    let statements = [
        (
            "occurrences in the window",
            "SELECT activity_id, occurrence_key, start_at, end_at, cancelled FROM occurrences \
             WHERE start_at >= $1 AND start_at < $2",
            true,
        ),
        (
            "activities with an occurrence in the window",
            "SELECT id, publisher_id, kind, direction, agreement_id, status FROM activities \
             WHERE status <> 'draft' AND id IN (SELECT activity_id FROM occurrences \
             WHERE start_at >= $1 AND start_at < $2)",
            true,
        ),
        (
            "their registrations, all but withdrawn",
            "SELECT id, activity_id, occurrence_key, org_id, state, headcount, cohort, results \
             FROM registrations WHERE state <> 'withdrawn' AND activity_id IN \
             (SELECT activity_id FROM occurrences WHERE start_at >= $1 AND start_at < $2 \
              UNION SELECT activity_id FROM mirror_occurrences \
              WHERE start_at >= $1 AND start_at < $2)",
            true,
        ),
    ];
    let mut parts = Vec::new();
    for (what, sql, windowed) in statements {
        let (mut times, n) = timed(3, async || {
            let mut q = sqlx::query(sql);
            if windowed {
                q = q.bind(start).bind(end);
            }
            q.fetch_all(&mut conn).await.expect("statement").len()
        })
        .await;
        parts.push((what.to_owned(), percentile(&mut times, 50), n));
        // The same statement through SQLite's C library with a native
        // driver (rusqlite), every value copied out as an owned value,
        // as the store's driver hands them over.
        if let Some(path) = url.strip_prefix("sqlite://") {
            let path = path.split('?').next().expect("a path").to_owned();
            let (mut times, n) =
                timed(3, async || native_rows(&path, sql, windowed, start, end)).await;
            parts.push((
                format!("{what}, native driver"),
                percentile(&mut times, 50),
                n,
            ));
        }
    }
    // Agreements: all of them whole (their rows, their versions with their
    // documents, their signatures), in three statements.
    let (mut times, n) = timed(3, async || {
        let mut n = 0;
        for sql in [
            "SELECT id, initiator_id, time_zone, lifecycle, revision, created_at, updated_at \
             FROM agreements ORDER BY id",
            "SELECT agreement_id, version, document, content_hash, proposed_at, declined \
             FROM agreement_versions ORDER BY agreement_id, version",
            "SELECT agreement_id, version, org_id, person_id, signatory, content_hash, signed_at, \
             node_id, public_key, signature FROM agreement_signatures \
             ORDER BY agreement_id, signed_at",
        ] {
            n += sqlx::query(sql)
                .fetch_all(&mut conn)
                .await
                .expect("agreements")
                .len();
        }
        n
    })
    .await;
    parts.push((
        "agreements, versions and signatures, 3 statements".to_owned(),
        percentile(&mut times, 50),
        n,
    ));
    for (what, time, n) in parts {
        println!(
            "{backend}:   load breakdown: {what}: {:.1} ms, {n} rows",
            millis(time)
        );
    }
    conn.close().await.expect("close");
}

/// Runs `sql` (with the window's bounds when `windowed`) on a connection of
/// SQLite's C library opened for it, copying every value of every row out
/// as an owned value; the rows' count.
fn native_rows(path: &str, sql: &str, windowed: bool, start: i64, end: i64) -> usize {
    let conn = rusqlite::Connection::open_with_flags(
        path,
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .expect("open the store's database");
    conn.execute_batch("PRAGMA mmap_size = 268435456")
        .expect("pragma");
    let mut statement = conn.prepare(sql).expect("prepare");
    let columns = statement.column_count();
    let params: Vec<i64> = if windowed { vec![start, end] } else { vec![] };
    let mut rows = statement
        .query(rusqlite::params_from_iter(params))
        .expect("query");
    let mut out: Vec<Vec<rusqlite::types::Value>> = Vec::new();
    while let Some(row) = rows.next().expect("a row") {
        out.push(
            (0..columns)
                .map(|i| row.get::<_, rusqlite::types::Value>(i).expect("a value"))
                .collect(),
        );
    }
    out.len()
}

/// A connection of the bench's own to the store's database.
async fn raw_connection(url: &str) -> sqlx::AnyConnection {
    let mut conn = sqlx::AnyConnection::connect(url)
        .await
        .expect("connect to the store's database");
    if url.starts_with("sqlite:") {
        for pragma in ["PRAGMA foreign_keys = ON", "PRAGMA busy_timeout = 10000"] {
            sqlx::query(pragma)
                .execute(&mut conn)
                .await
                .expect("pragma");
        }
    }
    conn
}

/// What was seeded.
#[derive(Default)]
struct Seeded {
    orgs: usize,
    agreements: usize,
    /// The school year 2025/26, which the reports are asked for.
    year: Counts,
    /// 2024/25, which reports compare with.
    previous: Counts,
    /// 2023/24, history no report here asks for.
    older: Counts,
    /// Seconds each part took.
    phases: Vec<(&'static str, f64)>,
}

/// What one school year's seeding wrote.
#[derive(Debug, Default, Clone, Copy)]
struct Counts {
    activities: usize,
    occurrences: usize,
    registrations: usize,
    confirmed: usize,
    withdrawn: usize,
    with_results: usize,
}

/// An organization as seeding needs it.
#[derive(Clone)]
struct Org {
    id: OrgId,
    zone: TimeZone,
}

/// An agreement as seeding needs it.
struct Agreed {
    id: AgreementId,
    publisher: usize,
    school: usize,
    kind: AgreementKind,
    valid_from: NaiveDate,
    valid_to: NaiveDate,
}

/// The serde JSON of `value`, as the store writes it: through the
/// change log's payload, the bench having no JSON library of its own.
macro_rules! json {
    ($value:expr) => {
        NewChange::upsert(EntityKind::Activity, "", 0, None, $value, &Actor::Node)
            .payload
            .to_string()
    };
}

/// A column value of a bulk INSERT.
enum Cell {
    Int(i64),
    MaybeInt(Option<i64>),
    Text(String),
    MaybeText(Option<String>),
}

/// Inserts `rows` into `table` with multi-row INSERTs, inside `tx`. Few
/// parameters each: SQLite looks up each `$N` by walking the statement's
/// list of parameter names, so a statement's binding costs the square of
/// its parameters.
async fn insert(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    table: &str,
    columns: &[&str],
    rows: &[Vec<Cell>],
) {
    let per = (240 / columns.len()).max(1);
    for chunk in rows.chunks(per) {
        let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
        let mut n = 0;
        for (i, row) in chunk.iter().enumerate() {
            assert_eq!(row.len(), columns.len());
            sql.push_str(if i == 0 { "(" } else { ", (" });
            for c in 0..columns.len() {
                n += 1;
                if c > 0 {
                    sql.push_str(", ");
                }
                write!(sql, "${n}").expect("write");
            }
            sql.push(')');
        }
        let mut q = sqlx::query(&sql);
        for row in chunk {
            for cell in row {
                q = match cell {
                    Cell::Int(v) => q.bind(*v),
                    Cell::MaybeInt(v) => q.bind(*v),
                    Cell::Text(v) => q.bind(v.clone()),
                    Cell::MaybeText(v) => q.bind(v.clone()),
                };
            }
        }
        q.execute(&mut **tx).await.expect("bulk insert");
    }
}

fn micros(at: DateTime<Utc>) -> i64 {
    at.timestamp_micros()
}

/// Seeds the network; see the module's documentation.
async fn seed(store: &Store, clock: &Clock, url: &str, scale: usize) -> Seeded {
    let mut rng = StdRng::seed_from_u64(2025);
    let mut seeded = Seeded::default();
    let mut phase = Instant::now();
    let mut lap = |seeded: &mut Seeded, what: &'static str| {
        seeded.phases.push((what, phase.elapsed().as_secs_f64()));
        phase = Instant::now();
    };
    let zones = [
        ("Томск", "Asia/Tomsk"),
        ("Екатеринбург", "Asia/Yekaterinburg"),
        ("Новокузнецк", "Asia/Novokuznetsk"),
    ];

    // Organizations: the publishers first, then the schools.
    let mut publishers = Vec::with_capacity(PUBLISHERS);
    let mut schools = Vec::with_capacity(SCHOOLS);
    for i in 0..PUBLISHERS + SCHOOLS {
        let kind = match i {
            0 => OrgKind::MethodicalCentre,
            1..=40 => OrgKind::University,
            41..=70 => OrgKind::Technopark,
            71..=90 => OrgKind::Museum,
            91..=99 => OrgKind::AdditionalEducation,
            _ => OrgKind::School,
        };
        let (city, zone) = zones[i % zones.len()];
        let org = numbered_organization(store, i, kind, city, zone).await;
        let org = Org {
            id: org.id,
            zone: org.time_zone,
        };
        if i < PUBLISHERS {
            publishers.push(org);
        } else {
            schools.push(org);
        }
    }
    seeded.orgs = publishers.len() + schools.len();
    lap(&mut seeded, "organizations");

    // Agreements between a publisher and a school: a third network-form,
    // half signed in 2024/25 and half in 2025/26, each drafted, proposed
    // and signed by both parties through the store on its own dates.
    let mut agreements = Vec::new();
    for i in 0..AGREEMENTS / scale {
        let publisher = 1 + i % (PUBLISHERS - 1);
        let school = (i * 7) % SCHOOLS;
        let kind = match i % 3 {
            0 => AgreementKind::NetworkForm,
            1 => AgreementKind::Cooperation,
            _ => AgreementKind::NetworkInteraction,
        };
        let signed_on = if i % 2 == 0 {
            day(2024, 8, 20) + Days::new((i as u64 * 7) % 300)
        } else {
            day(2025, 8, 20) + Days::new((i as u64 * 7) % 280)
        };
        let valid_from = signed_on + Days::new(1 + (i as u64 % 10));
        let valid_to = match (i % 2, i % 4) {
            // Signed in 2024/25: some over before 2025/26, the rest in force.
            (0, 0) => day(2025, 6, 30),
            (0, _) => day(2026, 8, 31),
            // Signed in 2025/26: some end this summer (expiring soon).
            (_, 1) => day(2026, 7, 31),
            _ => day(2027, 8, 31),
        };
        let content = agreement_content(
            i,
            kind,
            &schools[school].id,
            &publishers[publisher].id,
            valid_from,
            valid_to,
        );
        let at = |d: NaiveDate, h: u32| d.and_hms_opt(h, 0, 0).unwrap().and_utc();
        clock.set(at(signed_on - Days::new(10), 9));
        let drafted = store
            .create_agreement(
                NewAgreement {
                    initiator: publishers[publisher].id.clone(),
                    content,
                },
                &Actor::Node,
            )
            .await
            .expect("agreement drafted");
        let proposed = store
            .propose_agreement(&drafted.id, None, &edufed_tests::operator())
            .await
            .expect("agreement proposed");
        let version = &proposed.versions[0];
        for (n, party) in version.content.parties.iter().enumerate() {
            clock.set(at(signed_on, 10 + n as u32));
            // The party's director signs.
            let director = Principal {
                memberships: vec![(party.org_id.clone(), Role::Admin)],
                operator: false,
                ..edufed_tests::operator()
            };
            let ballot = Ballot {
                agreement: drafted.id.clone(),
                org: party.org_id.clone(),
                version: version.number,
                vote: Vote::Sign { content_hash: None },
            };
            store
                .cast_ballot(ballot, &director, &Unverified, None)
                .await
                .expect("agreement signed");
        }
        agreements.push(Agreed {
            id: drafted.id,
            publisher,
            school,
            kind,
            valid_from,
            valid_to,
        });
    }
    seeded.agreements = agreements.len();
    lap(&mut seeded, "agreements");

    // Enrolments of every school for both years, and targets.
    for (i, school) in schools.iter().enumerate() {
        for year in [2024, 2025] {
            store
                .set_enrolment(
                    &school.id,
                    SchoolYear(year),
                    300 + ((i * 37 + year as usize) % 1200) as u32,
                    &Actor::Node,
                )
                .await
                .expect("enrolment");
        }
    }
    let due = day(2026, 8, 31);
    for (indicator, value) in [
        (Indicator::NetworkCoverage, 5.0),
        (Indicator::WinnersShare, 20.0),
        (Indicator::ActivitiesHeld, 90_000.0),
        (Indicator::AgreementsSigned, 600.0),
        (Indicator::ParticipantsPerActivity, 15.0),
    ] {
        store
            .set_target(
                indicator,
                TargetScope::Network,
                due,
                value,
                "программа развития",
                &Actor::Node,
            )
            .await
            .expect("target");
    }
    for school in schools.iter().take(20) {
        store
            .set_target(
                Indicator::NetworkCoverage,
                TargetScope::Organization(school.id.clone()),
                due,
                10.0,
                "",
                &Actor::Node,
            )
            .await
            .expect("target");
    }

    lap(&mut seeded, "enrolments and targets");

    // Activities, their occurrences and cohorts, in batches: the school
    // year 2025/26, then two years of history as large, with no agreements.
    let last_linked_day = day(2026, 6, 27);
    let in_force: Vec<&Agreed> = agreements
        .iter()
        .filter(|a| a.valid_to >= day(2025, 9, 1) && a.valid_from <= last_linked_day)
        .collect();
    let linked = (in_force.len() * LINKED_PER_AGREEMENT).min(ACTIVITIES / scale / 2);
    let kinds = edufed_bench::seeded_kinds();
    let directions = Direction::ALL;
    let mut conn = raw_connection(url).await;
    let activity_columns = [
        "id",
        "publisher_id",
        "kind",
        "direction",
        "format",
        "visibility",
        "status",
        "grade_min",
        "grade_max",
        "subjects_key",
        "agreement_id",
        "capacity",
        "search_text",
        "details",
        "overrides",
        "version",
        "seats_version",
        "next_position",
        "created_at",
        "updated_at",
    ];
    let occurrence_columns = [
        "activity_id",
        "occurrence_key",
        "start_at",
        "end_at",
        "cancelled",
        "moved",
        "seats_taken",
        "long_running",
    ];
    let registration_columns = [
        "id",
        "activity_id",
        "occurrence_key",
        "org_id",
        "state",
        "position",
        "headcount",
        "cohort",
        "results",
        "version",
        "created_at",
        "updated_at",
    ];
    let total = ACTIVITIES / scale;
    let mut sample = Vec::new();
    let mut history_rng = StdRng::seed_from_u64(2023);
    for year in [2025, 2024, 2023] {
        // The year asked for draws from the seed's generator as it always did;
        // history from a generator of its own.
        let rng = if year == 2025 {
            &mut rng
        } else {
            &mut history_rng
        };
        let year_start = day(year, 9, 1);
        let linked = if year == 2025 { linked } else { 0 };
        let mut counts = Counts::default();
        let mut i = 0;
        while i < total {
            let mut activity_rows = Vec::new();
            let mut occurrence_rows = Vec::new();
            let mut registration_rows = Vec::new();
            for _ in 0..BATCH.min(total - i) {
                let agreement = (i < linked).then(|| in_force[i % in_force.len()]);
                i += 1;
                let publisher = match agreement {
                    Some(a) => &publishers[a.publisher],
                    None => &publishers[rng.gen_range(0..PUBLISHERS)],
                };
                let date = match agreement {
                    Some(a) => {
                        let from = a.valid_from.max(year_start);
                        let to = a.valid_to.min(last_linked_day);
                        from + Days::new(rng.gen_range(0..=(to - from).num_days()) as u64)
                    }
                    // Most during the school year; a few in the summer to come.
                    None if rng.gen_bool(0.97) => year_start + Days::new(rng.gen_range(0..300)),
                    None => year_start + Days::new(rng.gen_range(300..350)),
                };
                let count: u32 = match rng.gen_range(0..10) {
                    0..=4 => 1,
                    5..=7 => 2,
                    _ => 3,
                };
                let start = date
                    .and_hms_opt(rng.gen_range(9..17), [0, 30][rng.gen_range(0..2)], 0)
                    .unwrap();
                let minutes = [45, 90, 120][rng.gen_range(0..3)];
                let network_form = agreement.is_some_and(|a| a.kind == AgreementKind::NetworkForm);
                let kind = if network_form {
                    ActivityKind::NetworkLesson
                } else {
                    kinds[rng.gen_range(0..kinds.len())]
                };
                let (low, high) = if network_form {
                    (7, 8)
                } else {
                    let low = rng.gen_range(1..=11);
                    (low, rng.gen_range(low..=11))
                };
                let title = format!(
                    "{} №{i}",
                    match kind {
                        ActivityKind::Olympiad => "Олимпиада",
                        ActivityKind::NetworkLesson => "Технология",
                        _ => "Занятие",
                    }
                );
                let rule = (count > 1).then(|| format!("FREQ=WEEKLY;COUNT={count}"));
                let details = activity(
                    title,
                    kind,
                    directions[rng.gen_range(0..directions.len())],
                    GradeRange::new("grades", low, high).unwrap(),
                    60,
                    agreement.map(|a| a.id.to_string()),
                    schedule(publisher.zone, start, minutes, rule),
                );
                // A few activities are called off, a few single occurrences.
                let cancelled = rng.gen_bool(0.02);
                let overrides = if count > 1 && rng.gen_bool(0.05) {
                    vec![Override {
                        original_start: start + Duration::days(7),
                        change: OverrideChange::Cancelled,
                    }]
                } else {
                    vec![]
                };
                let created = publisher
                    .zone
                    .tz()
                    .from_local_datetime(&(start - Duration::days(30)))
                    .earliest()
                    .expect("a local time")
                    .with_timezone(&Utc);
                let activity = Activity {
                    id: ActivityId::generate(),
                    publisher: publisher.id.clone(),
                    overrides,
                    status: if cancelled {
                        ActivityStatus::Cancelled
                    } else {
                        ActivityStatus::Published
                    },
                    version: 1,
                    created_at: created,
                    updated_at: created,
                    details,
                };
                let occurrences = activity.occurrences().expect("occurrences");

                // Cohorts: none to two confirmed per activity (the agreement's
                // school for one delivered under an agreement), now and then a
                // group on the waitlist or withdrawn.
                let mut cohorts = rng.gen_range(0..=2);
                if agreement.is_some() {
                    cohorts = cohorts.max(1);
                }
                let mut states = vec![RegistrationState::Confirmed; cohorts];
                if rng.gen_bool(0.04) {
                    states.push(if rng.gen_bool(0.5) {
                        RegistrationState::Waitlisted
                    } else {
                        RegistrationState::Withdrawn
                    });
                }
                let mut taken = vec![0i64; occurrences.len()];
                let live: Vec<usize> = (0..occurrences.len())
                    .filter(|&k| !occurrences[k].cancelled)
                    .collect();
                for (n, state) in states.iter().enumerate() {
                    let school = match agreement {
                        Some(a) if n == 0 => &schools[a.school],
                        _ => &schools[rng.gen_range(0..SCHOOLS)],
                    };
                    let headcount = rng.gen_range(5..=25);
                    let grade = rng.gen_range(low..=high);
                    let cohort = Cohort {
                        org_id: school.id.clone(),
                        grades: Some(GradeRange::new("grades", grade, grade).unwrap()),
                        headcount,
                        teacher: format!("Учитель {n}"),
                        teacher_contact: None,
                    }
                    .validate()
                    .expect("valid cohort");
                    // One occurrence mostly; the whole series now and then.
                    let occurrence = if occurrences.len() > 1 && rng.gen_bool(0.2) {
                        None
                    } else {
                        Some(live[rng.gen_range(0..live.len())])
                    };
                    if *state == RegistrationState::Confirmed {
                        for (k, seats) in taken.iter_mut().enumerate() {
                            if occurrence.is_none_or(|o| o == k) && !occurrences[k].cancelled {
                                *seats += i64::from(headcount);
                            }
                        }
                    }
                    // Results for cohorts of occurrences held, every other one.
                    let held = occurrence.is_some_and(|k| {
                        !cancelled && !occurrences[k].cancelled && occurrences[k].end <= as_of()
                    });
                    let results = (*state == RegistrationState::Confirmed
                        && held
                        && rng.gen_bool(0.5))
                    .then(|| {
                        let attended = headcount - rng.gen_range(0..=headcount.min(3));
                        let competes = matches!(
                            kind,
                            ActivityKind::Olympiad | ActivityKind::Contest | ActivityKind::Game
                        );
                        let participants = if competes { attended } else { 0 };
                        let winners = participants / 10;
                        let prize_winners = participants / 5;
                        Results {
                            attended,
                            participants,
                            prize_winners,
                            winners,
                        }
                        .validate(headcount)
                        .expect("valid results")
                    });
                    counts.registrations += 1;
                    counts.confirmed += usize::from(*state == RegistrationState::Confirmed);
                    counts.withdrawn += usize::from(*state == RegistrationState::Withdrawn);
                    counts.with_results += usize::from(results.is_some());
                    let id = RegistrationId::generate();
                    if sample.len() < 20 && results.is_some() {
                        sample.push((activity.id.clone(), id.clone(), results));
                    }
                    let at = micros(created) + n as i64 * 3_600_000_000;
                    registration_rows.push(vec![
                        Cell::Text(id.to_string()),
                        Cell::Text(activity.id.to_string()),
                        Cell::MaybeInt(occurrence.map(|k| occurrences[k].key())),
                        Cell::Text(school.id.to_string()),
                        Cell::Text(state.as_str().to_owned()),
                        Cell::Int(n as i64 + 1),
                        Cell::Int(i64::from(headcount)),
                        Cell::Text(json!(&cohort)),
                        Cell::MaybeText(results.as_ref().map(|r| json!(r))),
                        Cell::Int(1 + i64::from(results.is_some())),
                        Cell::Int(at),
                        Cell::Int(at),
                    ]);
                }
                for (o, seats) in occurrences.iter().zip(&taken) {
                    occurrence_rows.push(vec![
                        Cell::Text(activity.id.to_string()),
                        Cell::Int(o.key()),
                        Cell::Int(micros(o.start)),
                        Cell::Int(micros(o.end)),
                        Cell::Int(i64::from(o.cancelled)),
                        Cell::Int(i64::from(o.moved)),
                        Cell::Int(*seats),
                        Cell::Int(i64::from(o.end - o.start > Duration::days(1))),
                    ]);
                }
                counts.occurrences += occurrences.len();
                let d = &activity.details;
                activity_rows.push(vec![
                    Cell::Text(activity.id.to_string()),
                    Cell::Text(activity.publisher.to_string()),
                    Cell::Text(d.kind.as_str().to_owned()),
                    Cell::MaybeText(d.direction.map(|x| x.as_str().to_owned())),
                    Cell::Text(d.format.as_str().to_owned()),
                    Cell::Text(d.visibility.as_str().to_owned()),
                    Cell::Text(activity.status.as_str().to_owned()),
                    Cell::MaybeInt(d.audience.students.map(|g| i64::from(g.min))),
                    Cell::MaybeInt(d.audience.students.map(|g| i64::from(g.max))),
                    Cell::Text(String::new()),
                    Cell::MaybeText(d.agreement_id.clone()),
                    Cell::MaybeInt(d.capacity.map(i64::from)),
                    Cell::Text(d.search_text()),
                    Cell::Text(json!(d)),
                    Cell::Text(json!(&activity.overrides)),
                    Cell::Int(activity.version as i64),
                    Cell::Int(states.len() as i64),
                    Cell::Int(states.len() as i64 + 1),
                    Cell::Int(micros(activity.created_at)),
                    Cell::Int(micros(activity.updated_at)),
                ]);
                counts.activities += 1;
            }
            let mut tx = conn.begin().await.expect("begin");
            insert(&mut tx, "activities", &activity_columns, &activity_rows).await;
            insert(
                &mut tx,
                "occurrences",
                &occurrence_columns,
                &occurrence_rows,
            )
            .await;
            insert(
                &mut tx,
                "registrations",
                &registration_columns,
                &registration_rows,
            )
            .await;
            tx.commit().await.expect("commit");
        }
        match year {
            2025 => seeded.year = counts,
            2024 => seeded.previous = counts,
            _ => seeded.older = counts,
        }
    }
    conn.close().await.expect("close");
    lap(&mut seeded, "activities");

    // What was written reads back through the store as it would have
    // written it.
    for (activity, registration, results) in &sample {
        let found = store
            .get_activity(activity)
            .await
            .expect("activity reads back");
        assert!(!found.occurrences.is_empty());
        let (r, _) = store
            .get_registration(registration)
            .await
            .expect("registration reads back");
        assert_eq!(&r.results, results);
    }
    for a in agreements.iter().take(5) {
        store
            .get_agreement(&a.id)
            .await
            .expect("agreement reads back");
    }

    // Time passes to the day of the reports; the lifecycle brings the
    // agreements up to date (in force, or expired).
    clock.set(as_of());
    store
        .advance_agreements()
        .await
        .expect("agreements advanced");
    lap(&mut seeded, "checks and the lifecycle");
    seeded
}

/// An agreement's content: network-form ones with their programme part and
/// students, the others with their duties in hours.
fn agreement_content(
    i: usize,
    kind: AgreementKind,
    school: &OrgId,
    publisher: &OrgId,
    valid_from: NaiveDate,
    valid_to: NaiveDate,
) -> Content {
    let signatory = |name: &str| Signatory {
        name: name.into(),
        position: "директор".into(),
        basis: "Устава".into(),
    };
    let network_form = kind == AgreementKind::NetworkForm;
    let hours = 34 + (i % 4) as u32 * 17;
    let planned = 20 + (i % 40) as u32;
    Content {
        kind,
        number: Some(format!("№{i}-сф")),
        dated: Some(valid_from),
        title: if network_form {
            "Договор о сетевой форме реализации образовательной программы".into()
        } else {
            "Договор о сотрудничестве".into()
        },
        valid_from,
        valid_to,
        parties: vec![
            Party {
                org_id: school.clone(),
                role: if network_form {
                    PartyRole::Base
                } else {
                    PartyRole::Participant
                },
                signatory: signatory("Иванова Мария Петровна"),
            },
            Party {
                org_id: publisher.clone(),
                role: PartyRole::Participant,
                signatory: signatory("Петров Пётр Петрович"),
            },
        ],
        programme: network_form.then(|| Programme {
            name: "Основная образовательная программа основного общего образования".into(),
            kind: "основная общеобразовательная".into(),
            level: "основное общее образование".into(),
            focus: "техническая".into(),
            parts: vec![ProgrammePart {
                kind: PartKind::Subject,
                name: "Технология".into(),
                hours,
                grade_min: 7,
                grade_max: 8,
            }],
        }),
        students: network_form.then(|| Students {
            status: "обучающиеся базовой организации".into(),
            admission: "по списку базовой организации".into(),
            grade_min: 7,
            grade_max: 8,
            planned_headcount: planned,
        }),
        duties: vec![Duty {
            org_id: publisher.clone(),
            part: if network_form {
                "Технология".into()
            } else {
                String::new()
            },
            hours,
            description: "проводит занятия в своих лабораториях".into(),
        }],
        resources: vec![],
        documents: if network_form {
            vec![CompletionDocument {
                name: "аттестат об основном общем образовании".into(),
                issuer: school.clone(),
            }]
        } else {
            vec![]
        },
        amendment_procedure: "дополнительным соглашением сторон".into(),
        termination_procedure: "по соглашению сторон или с уведомлением за 30 дней".into(),
        termination_notice_days: 30,
        planned_teachers: Some(2),
        planned_students: Some(planned),
        notes: String::new(),
    }
    .validated()
    .expect("valid agreement")
}

/// Signs with no key: reports never read signatures.
struct Unverified;

impl Signer for Unverified {
    fn node_id(&self) -> String {
        "00".repeat(32)
    }

    fn public_key(&self) -> [u8; 32] {
        [0; 32]
    }

    fn sign(&self, _: &[u8]) -> Vec<u8> {
        vec![0; 64]
    }
}
