//! The calendar's window query at network scale: 1 000 organizations and
//! 100 000 activities, a tenth of them recurring weekly for a school year,
//! queried for one month.
//!
//! `cargo bench -p edufed-bench --bench calendar` runs it on SQLite;
//! with `EDUFED_BENCH_POSTGRES_URL=postgres://…/postgres` also on
//! PostgreSQL (a fresh database is created there). `EDUFED_BENCH_SCALE`
//! divides the dataset for a quick run (e.g. 10).

use std::time::{Duration as StdDuration, Instant};

use chrono::{Datelike as _, Duration, NaiveDate, TimeZone as _, Utc};
use edufed_domain::calendar::decide::Publish;
use edufed_domain::calendar::{
    ActivityDetails, ActivityKind, ActivityStatus, Audience, Direction, Format, GradeRange,
    OccurrenceFilter, Place, Recurrence, RegistrationWindow, Schedule, Viewer, Visibility,
};
use edufed_domain::changes::Actor;
use edufed_domain::directory::{Contacts, NewOrganization, OrgKind, Slug};
use edufed_domain::page::PageSize;
use edufed_domain::time::TimeZone;
use edufed_store::{ConnectOptions, Store};
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use sqlx::Connection as _;

const ORGS: usize = 1_000;
const ACTIVITIES: usize = 100_000;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        let scale: usize = std::env::var("EDUFED_BENCH_SCALE")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(1)
            .max(1);
        let dir = tempfile::tempdir().expect("temp dir");
        let sqlite = format!("sqlite://{}", dir.path().join("bench.db").display());
        run("SQLite", &sqlite, scale).await;
        if let Ok(admin) = std::env::var("EDUFED_BENCH_POSTGRES_URL") {
            let name = format!("edufed_bench_{}", uuid::Uuid::now_v7().simple());
            let mut conn = sqlx::PgConnection::connect(&admin)
                .await
                .expect("connect to PostgreSQL");
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await
                .expect("create database");
            let (base, _) = admin.rsplit_once('/').expect("a URL with a database");
            run("PostgreSQL", &format!("{base}/{name}"), scale).await;
        }
    });
}

async fn run(backend: &str, url: &str, scale: usize) {
    let store = Store::connect(url, &ConnectOptions::default())
        .await
        .expect("connect");
    store.migrate().await.expect("migrate");
    let (orgs, activities) = (ORGS / scale, ACTIVITIES / scale);
    let seeded = Instant::now();
    seed(&store, orgs, activities).await;
    println!(
        "{backend}: seeded {orgs} organizations and {activities} activities in {:.1} s",
        seeded.elapsed().as_secs_f64()
    );

    let from = Utc.with_ymd_and_hms(2030, 11, 1, 0, 0, 0).unwrap();
    let month = OccurrenceFilter {
        from,
        to: from + Duration::days(30),
        publisher: None,
        kind: None,
        direction: None,
        grade: None,
        subject: None,
        format: None,
        min_free_seats: None,
        agreement_id: None,
        query: None,
        include_cancelled: false,
    };
    let cases = [
        ("one month, first page of 100", month.clone()),
        (
            "one month, grade 9",
            OccurrenceFilter {
                grade: Some(9),
                ..month.clone()
            },
        ),
        (
            "one month, grade 9, career guidance",
            OccurrenceFilter {
                grade: Some(9),
                direction: Some(Direction::CareerGuidance),
                ..month.clone()
            },
        ),
        (
            "one month, text \"олимпиада\"",
            OccurrenceFilter {
                query: Some("олимпиада".into()),
                ..month.clone()
            },
        ),
    ];
    let size = PageSize::new("page_size", 100, 100, 500).expect("page size");
    for (name, filter) in cases {
        let mut times = Vec::new();
        let mut found = 0;
        for _ in 0..30 {
            let started = Instant::now();
            let page = store
                .find_occurrences(&filter, &Viewer::Anonymous, size, None)
                .await
                .expect("query");
            times.push(started.elapsed());
            found = page.items.len();
        }
        times.sort();
        println!(
            "{backend}: {name}: median {} ms, p95 {} ms ({found} occurrences on the page)",
            ms(times[times.len() / 2]),
            ms(times[times.len() * 95 / 100]),
        );
    }
    store.close().await;
}

fn ms(d: StdDuration) -> String {
    format!("{:.2}", d.as_secs_f64() * 1000.0)
}

/// A deterministic network: organizations in three cities, activities over
/// the school year 2030–31, a tenth of them twice a week.
async fn seed(store: &Store, orgs: usize, activities: usize) {
    let mut rng = StdRng::seed_from_u64(2030);
    let zones = ["Asia/Tomsk", "Asia/Yekaterinburg", "Asia/Novokuznetsk"];
    let mut ids = Vec::with_capacity(orgs);
    for i in 0..orgs {
        let org = store
            .create_organization(
                NewOrganization {
                    slug: Slug::parse("slug", &format!("org-{i}")).unwrap(),
                    kind: if i % 10 == 0 {
                        OrgKind::University
                    } else {
                        OrgKind::School
                    },
                    full_name: format!("Организация {i}"),
                    short_name: format!("Орг {i}"),
                    city: "Томск".into(),
                    time_zone: TimeZone::parse("time_zone", zones[i % 3]).unwrap(),
                    contacts: Contacts::default(),
                    inn: None,
                },
                &Actor::Node,
            )
            .await
            .expect("organization");
        ids.push((org.id, org.time_zone));
    }
    let kinds = ActivityKind::ALL;
    let directions = Direction::ALL;
    let year_start = NaiveDate::from_ymd_opt(2030, 9, 1).unwrap();
    for i in 0..activities {
        let (publisher, zone) = &ids[rng.gen_range(0..ids.len())];
        let recurring = i % 10 == 0;
        let mut day = year_start + Duration::days(rng.gen_range(0..270));
        // A recurring lesson starts on one of its days.
        while recurring && !matches!(day.weekday(), chrono::Weekday::Tue | chrono::Weekday::Thu) {
            day += Duration::days(1);
        }
        let start = day.and_hms_opt(rng.gen_range(9..18), 0, 0).unwrap();
        let low = rng.gen_range(1..=11);
        let kind = kinds[rng.gen_range(0..kinds.len())];
        let details = ActivityDetails {
            title: format!(
                "{} №{i}",
                if kind == ActivityKind::Olympiad {
                    "Олимпиада"
                } else {
                    "Занятие"
                }
            ),
            description: "Совместное мероприятие сети".into(),
            kind,
            direction: Some(directions[rng.gen_range(0..directions.len())]),
            subjects: vec![],
            audience: Audience {
                students: Some(GradeRange::new("grades", low, rng.gen_range(low..=11)).unwrap()),
                teachers: false,
                parents: false,
                university_students: false,
            },
            format: Format::InPerson,
            place: Place::AtPublisher,
            coordinator: None,
            partners: vec![],
            capacity: Some(rng.gen_range(10..60)),
            quotas: vec![],
            registration: RegistrationWindow::default(),
            visibility: Visibility::Public,
            agreement_id: None,
            schedule: Schedule {
                time_zone: *zone,
                start,
                end: start + Duration::minutes(90),
                all_day: false,
                recurrence: recurring.then(|| Recurrence {
                    rule: "FREQ=WEEKLY;BYDAY=TU,TH;UNTIL=20310531T235959Z".into(),
                    exdates: vec![],
                    rdates: vec![],
                }),
            },
        }
        .validate()
        .expect("valid activity");
        store
            .publish_activity(
                Publish {
                    publisher: publisher.clone(),
                    details,
                    status: ActivityStatus::Published,
                },
                &edufed_tests::operator(),
            )
            .await
            .expect("activity");
    }
}
