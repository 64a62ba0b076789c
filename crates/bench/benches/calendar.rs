//! The calendar's window query at network scale: 1 000 organizations and
//! 100 000 activities, a tenth of them recurring weekly for a school year,
//! queried for one month.
//!
//! `cargo bench -p edufed-bench --bench calendar` runs it on SQLite;
//! with `EDUFED_BENCH_POSTGRES_URL=postgres://…/postgres` also on
//! PostgreSQL (a fresh database is created there). `EDUFED_BENCH_SCALE`
//! divides the dataset for a quick run (e.g. 10).

use std::time::Instant;

use chrono::{Datelike as _, Duration, NaiveDate, TimeZone as _, Utc};
use edufed_bench::{
    activity, millis, numbered_organization, on_each_backend, open_store, percentile, scale,
    schedule, timed,
};
use edufed_domain::calendar::{ActivityKind, Direction, GradeRange, OccurrenceFilter, Viewer};
use edufed_domain::directory::OrgKind;
use edufed_domain::page::PageSize;
use edufed_store::{ConnectOptions, Store};
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};

const ORGS: usize = 1_000;
const ACTIVITIES: usize = 100_000;

fn main() {
    let scale = scale();
    on_each_backend(async |backend, url| run(backend, url, scale).await);
}

async fn run(backend: &str, url: &str, scale: usize) {
    let store = open_store(url, &ConnectOptions::default()).await;
    let (orgs, activities) = (ORGS / scale, ACTIVITIES / scale);
    let seeded = Instant::now();
    seed(&store, orgs, activities).await;
    println!(
        "{backend}: seeded {orgs} organizations and {activities} activities in {:.1} s",
        seeded.elapsed().as_secs_f64()
    );

    let from = Utc.with_ymd_and_hms(2030, 11, 1, 0, 0, 0).unwrap();
    let month = edufed_tests::occurrences_between(from, from + Duration::days(30));
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
        let (mut times, page) = timed(30, async || {
            store
                .find_occurrences(&filter, &Viewer::Anonymous, size, None)
                .await
                .expect("query")
        })
        .await;
        let found = page.items.len();
        println!(
            "{backend}: {name}: median {:.2} ms, p95 {:.2} ms ({found} occurrences on the page)",
            millis(percentile(&mut times, 50)),
            millis(percentile(&mut times, 95)),
        );
    }
    store.close().await;
}

/// A deterministic network: organizations in three cities, activities over
/// the school year 2030–31, a tenth of them twice a week.
async fn seed(store: &Store, orgs: usize, activities: usize) {
    let mut rng = StdRng::seed_from_u64(2030);
    let zones = ["Asia/Tomsk", "Asia/Yekaterinburg", "Asia/Novokuznetsk"];
    let mut ids = Vec::with_capacity(orgs);
    for i in 0..orgs {
        let kind = if i % 10 == 0 {
            OrgKind::University
        } else {
            OrgKind::School
        };
        let org = numbered_organization(store, i, kind, "Томск", zones[i % 3]).await;
        ids.push((org.id, org.time_zone));
    }
    let kinds = edufed_bench::seeded_kinds();
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
        let title = format!(
            "{} №{i}",
            if kind == ActivityKind::Olympiad {
                "Олимпиада"
            } else {
                "Занятие"
            }
        );
        let rule = recurring.then(|| "FREQ=WEEKLY;BYDAY=TU,TH;UNTIL=20310531T235959Z".to_owned());
        // The arguments draw the direction, the top grade and the capacity
        // in this order, which the seed's network depends on.
        let details = activity(
            title,
            kind,
            directions[rng.gen_range(0..directions.len())],
            GradeRange::new("grades", low, rng.gen_range(low..=11)).unwrap(),
            rng.gen_range(10..60),
            None,
            schedule(*zone, start, 90, rule),
        );
        edufed_tests::publish_as_operator(store, publisher, details).await;
    }
}
