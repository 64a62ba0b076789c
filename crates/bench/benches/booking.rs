//! Booking decisions per second with 64 concurrent clients: on one hot
//! resource (most requests collide) and spread over 1 000 resources, beside
//! the database's own rate for a plain insert of the same row.
//!
//! `cargo bench -p edufed-bench --bench booking`; with
//! `EDUFED_BENCH_POSTGRES_URL=postgres://…/postgres` also on PostgreSQL.

use std::sync::Arc;
use std::time::Instant;

use chrono::{Duration, Utc};
use edufed_bench::{on_each_backend, open_store, organization};
use edufed_domain::booking::{
    Access, ApprovalPolicy, BookingRules, Error, ResourceDetails, ResourceKind,
};
use edufed_domain::changes::Actor;
use edufed_domain::directory::OrgKind;
use edufed_domain::ids::{OrgId, ResourceId};
use edufed_domain::time::TimeZone;
use edufed_store::{ConnectOptions, Store};
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};

const CLIENTS: u64 = 64;
const REQUESTS: u64 = 40;
const RESOURCES: usize = 1_000;

fn main() {
    on_each_backend(async |backend, url| run(backend, url).await);
}

async fn run(backend: &str, url: &str) {
    let options = ConnectOptions {
        max_connections: 32,
        ..ConnectOptions::default()
    };
    let store = open_store(url, &options).await;
    let owner = organization(
        &store,
        "kvantorium",
        OrgKind::Technopark,
        "Кванториум",
        "Кванториум",
        "Магнитогорск",
        "Asia/Yekaterinburg",
    )
    .await
    .id;
    let mut resources = Vec::with_capacity(RESOURCES);
    for i in 0..RESOURCES {
        let details = ResourceDetails {
            kind: ResourceKind::Lab,
            name: format!("Лаборатория {i}"),
            capacity: Some(30),
            features: vec![],
            time_zone: TimeZone::parse("tz", "Asia/Yekaterinburg").unwrap(),
            hours: vec![],
            rules: BookingRules {
                buffer_minutes: 10,
                ..BookingRules::default()
            },
            approval: ApprovalPolicy::Automatic,
            access: Access::Network,
        }
        .validate()
        .unwrap();
        resources.push(
            store
                .create_resource(&owner, details, &Actor::Node)
                .await
                .expect("resource")
                .id,
        );
    }
    let resources = Arc::new(resources);

    let (rate, booked) = hammer(&store, &owner, resources.clone(), true).await;
    println!(
        "{backend}: one hot resource: {rate:.0} decisions/s with {CLIENTS} clients ({booked} booked, the rest refused as conflicts)"
    );
    let (rate, booked) = hammer(&store, &owner, resources.clone(), false).await;
    println!(
        "{backend}: spread over {RESOURCES} resources: {rate:.0} decisions/s with {CLIENTS} clients ({booked} booked)"
    );
    let rate = raw_inserts(url).await;
    println!(
        "{backend}: the database's own plain insert of the same row: {rate:.0} inserts/s with {CLIENTS} clients"
    );
    store.close().await;
}

/// `CLIENTS` tasks each make `REQUESTS` one-hour requests at random quarter
/// hours over twenty days; returns decisions per second and how many booked.
async fn hammer(
    store: &Store,
    org: &OrgId,
    resources: Arc<Vec<ResourceId>>,
    hot: bool,
) -> (f64, u64) {
    let base = (Utc::now() + Duration::days(2))
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc();
    let started = Instant::now();
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let store = store.clone();
            let org = org.clone();
            let resources = resources.clone();
            tokio::spawn(async move {
                let operator = edufed_tests::operator();
                let zone = chrono_tz::Asia::Yekaterinburg;
                let mut rng = StdRng::seed_from_u64(client + if hot { 0 } else { 1_000 });
                let mut booked = 0;
                for _ in 0..REQUESTS {
                    let resource = if hot {
                        &resources[0]
                    } else {
                        &resources[rng.gen_range(0..resources.len())]
                    };
                    let start = base + Duration::minutes(15 * rng.gen_range(0..(20 * 24 * 4)));
                    // A client sends local times, in the lab's zone.
                    let local = |t: chrono::DateTime<Utc>| t.with_timezone(&zone).naive_local();
                    let request = edufed_tests::lesson_request(
                        resource,
                        &org,
                        local(start),
                        local(start + Duration::hours(1)),
                    );
                    match store.request_booking(request, &operator, None).await {
                        Ok(_) => booked += 1,
                        Err(Error::Conflict(_)) => {}
                        Err(other) => panic!("unexpected {other:?}"),
                    }
                }
                booked
            })
        })
        .collect();
    let mut booked = 0;
    for task in tasks {
        booked += task.await.expect("client");
    }
    (
        (CLIENTS * REQUESTS) as f64 / started.elapsed().as_secs_f64(),
        booked,
    )
}

/// The same number of plain inserts of a comparable row into a scratch
/// table, with no checks, no log entry and one statement per transaction.
async fn raw_inserts(url: &str) -> f64 {
    use sqlx::any::{AnyPoolOptions, install_default_drivers};
    install_default_drivers();
    let sqlite = url.starts_with("sqlite:");
    // SQLite has one writer at a time whatever the pool; PostgreSQL gets the
    // pool the store uses.
    let pool = AnyPoolOptions::new()
        .max_connections(if sqlite { 1 } else { 32 })
        .connect(url)
        .await
        .expect("connect");
    sqlx::query("CREATE TABLE bench_raw (booking_id TEXT NOT NULL, resource_id TEXT NOT NULL, start_at BIGINT NOT NULL, end_at BIGINT NOT NULL, state TEXT NOT NULL, PRIMARY KEY (booking_id, start_at))")
        .execute(&pool)
        .await
        .expect("scratch table");
    let started = Instant::now();
    let tasks: Vec<_> = (0..CLIENTS)
        .map(|client| {
            let pool = pool.clone();
            tokio::spawn(async move {
                for i in 0..REQUESTS {
                    sqlx::query("INSERT INTO bench_raw VALUES ($1, $2, $3, $4, 'confirmed')")
                        .bind(format!("{client}-{i}"))
                        .bind("resource")
                        .bind(i64::try_from(i).unwrap_or(0))
                        .bind(i64::try_from(i + 1).unwrap_or(0))
                        .execute(&pool)
                        .await
                        .expect("insert");
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("client");
    }
    let rate = (CLIENTS * REQUESTS) as f64 / started.elapsed().as_secs_f64();
    pool.close().await;
    rate
}
