//! The web console's pages over a busy node: the calendar's month, week
//! and list, an activity's page as its publisher and as a school, the
//! indicators and the activities report of the school year, each rendered
//! by a real node over HTTP for a signed-in person, with its size.
//!
//! `cargo bench -p edufed-bench --bench console` runs it on SQLite; with
//! `EDUFED_BENCH_POSTGRES_URL=postgres://…/postgres` also on PostgreSQL.
//! `EDUFED_BENCH_SCALE` divides the activities and cohorts for a quick run.
//!
//! The node: 20 publishers (universities, technoparks, museums) and 100
//! schools in Tomsk; 10 000 activities of the school year 2025/26 published
//! through the gRPC API by their publishers' admins, a fiftieth of them
//! weekly on Tuesdays and Thursdays until the end of May; 3 000 cohorts
//! registered by the schools' admins, 25 of them for one popular course;
//! the node's clock then moved to 15 June 2026 and a third of the cohorts'
//! results recorded. What is timed is a GET of each page with the person's
//! session cookie, from the request until the last byte, as a browser would
//! wait for it.

use chrono::{Datelike as _, Duration, NaiveDate, TimeZone as _, Utc};
use edufed_bench::{Steal, millis, on_each_backend, percentile, scale, timed};
use edufed_domain::time::Clock;
use edufed_proto::v1 as pb;
use edufed_tests::console::{Person, person};
use edufed_tests::{Backend, Bearer, TestDb, TestNode, http_get_headers, org_request};
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;

const PUBLISHERS: usize = 20;
const SCHOOLS: usize = 100;
const ACTIVITIES: usize = 10_000;
const COHORTS: usize = 3_000;
/// Cohorts registered for the one course whose page is timed.
const POPULAR: usize = 25;
/// Clients writing at once while seeding.
const WRITERS: usize = 8;
/// Timed GETs of each page.
const RUNS: usize = 30;

type Calendar = pb::calendar_client::CalendarClient<InterceptedService<Channel, Bearer>>;

fn calendar_client(channel: &Channel, token: &str) -> Calendar {
    pb::calendar_client::CalendarClient::with_interceptor(channel.clone(), Bearer::new(token))
}

fn main() {
    let scale = scale();
    on_each_backend(async |backend, url| run(backend, url, scale).await);
}

async fn run(backend: &'static str, url: &str, scale: usize) {
    let db = TestDb {
        url: url.to_owned(),
        backend: if backend == "SQLite" {
            Backend::Sqlite
        } else {
            Backend::Postgres
        },
        dir: tempfile::tempdir().expect("temp dir"),
    };
    let clock = Clock::manual(Utc.with_ymd_and_hms(2025, 8, 25, 3, 0, 0).unwrap());
    let node = TestNode::start_with_clock(db, clock.clone(), |_| {}).await;
    let seeding = std::time::Instant::now();
    let network = seed(&node, &clock, scale).await;
    println!(
        "{backend}: seeded {} activities and {} cohorts through the API in {:.0} s",
        ACTIVITIES / scale,
        network.cohorts,
        seeding.elapsed().as_secs_f64()
    );

    let school = cookie(&node, &network.school).await;
    let publisher = cookie(&node, &network.publisher).await;
    let popular = format!("/activities/{}", network.popular);
    let pages: [(&str, String, &str); 8] = [
        (
            "calendar, month (November)",
            "/calendar?date=2025-11-12".into(),
            &school,
        ),
        (
            "calendar, week",
            "/calendar?view=week&date=2025-11-12".into(),
            &school,
        ),
        (
            "calendar, list",
            "/calendar?view=list&date=2025-11-12".into(),
            &school,
        ),
        (
            "calendar, month, grade 9",
            "/calendar?date=2025-11-12&grade=9".into(),
            &school,
        ),
        ("activity, as its publisher", popular.clone(), &publisher),
        ("activity, as a school", popular, &school),
        (
            "indicators, the school year",
            "/reports?from=2025-09-01&to=2026-08-31".into(),
            &school,
        ),
        (
            "activities report, the school year",
            "/reports/activities?from=2025-09-01&to=2026-08-31".into(),
            &school,
        ),
    ];
    let steal = Steal::start();
    println!("| page | median | p95 | size |");
    println!("|---|---|---|---|");
    for (label, path, cookie) in pages {
        let headers = [("Cookie", cookie)];
        let (mut times, (status, body)) = timed(RUNS, async || {
            http_get_headers(node.node.addr(), &path, &headers).await
        })
        .await;
        assert_eq!(status, 200, "{label}: {body}");
        println!(
            "| {label} | {:.1} ms | {:.1} ms | {:.1} KB |",
            millis(percentile(&mut times, 50)),
            millis(percentile(&mut times, 95)),
            body.len() as f64 / 1024.0
        );
    }
    println!("{backend}: {}", steal.taken());
}

/// What the timed pages are about.
struct Network {
    /// A school's coordinator.
    school: Person,
    /// The popular course's publisher's admin.
    publisher: Person,
    /// The course 25 schools registered for.
    popular: String,
    cohorts: usize,
}

async fn seed(node: &TestNode, clock: &Clock, scale: usize) -> Network {
    let mut operator = node.operator().await;
    let kinds = [
        pb::OrganizationKind::University,
        pb::OrganizationKind::Technopark,
        pb::OrganizationKind::Museum,
    ];
    let mut publishers = Vec::new();
    for i in 0..PUBLISHERS {
        let slug = format!("publisher-{i}");
        operator
            .create_organization(pb::CreateOrganizationRequest {
                kind: kinds[i % kinds.len()].into(),
                full_name: format!("Организатор №{i}"),
                ..org_request(&slug)
            })
            .await
            .expect("publisher");
        publishers.push((
            slug.clone(),
            person(node, &slug, pb::Role::Admin, "Администратор").await,
        ));
    }
    let mut schools = Vec::new();
    for i in 0..SCHOOLS {
        let slug = format!("school-{i}");
        operator
            .create_organization(org_request(&slug))
            .await
            .expect("school");
        schools.push((
            slug.clone(),
            person(node, &slug, pb::Role::Admin, "Завуч").await,
        ));
    }

    // The activities, each published by its publisher's admin.
    let activities = ACTIVITIES / scale;
    let channel = node.channel().await;
    let calendar = |token: &str| calendar_client(&channel, token);
    let mut writers = tokio::task::JoinSet::new();
    for w in 0..WRITERS {
        let clients: Vec<(String, Calendar)> = publishers
            .iter()
            .map(|(slug, p)| (slug.clone(), calendar(&p.token)))
            .collect();
        writers.spawn(async move {
            let mut rng = StdRng::seed_from_u64(w as u64);
            let mut ids = Vec::new();
            for i in (w..activities).step_by(WRITERS) {
                let (slug, mut client) = clients[i % clients.len()].clone();
                let details = details(&mut rng, i);
                let kind = details.kind;
                let grades = details
                    .audience
                    .as_ref()
                    .and_then(|a| a.students)
                    .map_or((1, 11), |g| (g.min, g.max));
                let activity = client
                    .publish_activity(pb::PublishActivityRequest {
                        publisher: slug,
                        details: Some(details),
                        draft: false,
                    })
                    .await
                    .expect("publish")
                    .into_inner();
                ids.push((i, activity.id, kind, grades));
            }
            ids
        });
    }
    let mut activity_ids = vec![String::new(); activities];
    let mut audiences = vec![(1, 11); activities];
    let mut competitive = std::collections::HashSet::new();
    while let Some(ids) = writers.join_next().await {
        for (i, id, kind, grades) in ids.expect("writer") {
            audiences[i] = grades;
            if [pb::ActivityKind::Olympiad, pb::ActivityKind::Contest]
                .iter()
                .any(|k| *k as i32 == kind)
            {
                competitive.insert(id.clone());
            }
            activity_ids[i] = id;
        }
    }

    // The cohorts: 25 for activity 0 (publisher 0's capacious course), the
    // rest one each on activities drawn at random.
    let cohorts = COHORTS / scale;
    let mut writers = tokio::task::JoinSet::new();
    for w in 0..WRITERS {
        let clients: Vec<(String, Calendar)> = schools
            .iter()
            .map(|(slug, p)| (slug.clone(), calendar(&p.token)))
            .collect();
        let activity_ids = activity_ids.clone();
        let audiences = audiences.clone();
        writers.spawn(async move {
            let mut rng = StdRng::seed_from_u64(100 + w as u64);
            let mut made = Vec::new();
            for i in (w..cohorts).step_by(WRITERS) {
                let (slug, mut client) = clients[i % clients.len()].clone();
                let n = if i < POPULAR {
                    0
                } else {
                    rng.gen_range(1..activity_ids.len())
                };
                let activity = activity_ids[n].clone();
                let (low, high) = audiences[n];
                let grade = rng.gen_range(low..=high);
                let registered = client
                    .register(pb::RegisterRequest {
                        activity_id: activity.clone(),
                        venue: 0,
                        occurrence_start: None,
                        cohort: Some(pb::Cohort {
                            organization: slug,
                            grades: Some(pb::GradeRange {
                                min: grade,
                                max: grade,
                            }),
                            headcount: rng.gen_range(5..=15),
                            teacher: "Учитель".into(),
                            teacher_contact: String::new(),
                            teachers: false,
                        }),
                    })
                    .await;
                // A cohort that does not fit a small activity is waitlisted;
                // one refused (a school twice on one occurrence) is left out.
                if let Ok(registration) = registered {
                    made.push((activity, registration.into_inner()));
                }
            }
            made
        });
    }
    let mut registrations = Vec::new();
    while let Some(made) = writers.join_next().await {
        registrations.extend(made.expect("writer"));
    }

    // The year is over; a third of the cohorts' results are recorded by
    // their activities' publishers.
    clock.set(Utc.with_ymd_and_hms(2026, 6, 15, 9, 0, 0).unwrap());
    let publisher_of: std::collections::HashMap<&str, usize> = activity_ids
        .iter()
        .enumerate()
        .map(|(i, id)| (id.as_str(), i % PUBLISHERS))
        .collect();
    for (n, (activity, registration)) in registrations.iter().enumerate() {
        if !n.is_multiple_of(3) || registration.state != pb::RegistrationState::Confirmed as i32 {
            continue;
        }
        let (_, admin) = &publishers[publisher_of[activity.as_str()]];
        let headcount = registration.cohort.as_ref().map_or(1, |c| c.headcount);
        calendar(&admin.token)
            .record_results(pb::RecordResultsRequest {
                registration_id: registration.id.clone(),
                results: Some(if competitive.contains(activity) {
                    pb::Results {
                        attended: headcount,
                        participants: headcount,
                        prize_winners: headcount / 4,
                        winners: headcount / 10,
                    }
                } else {
                    pb::Results {
                        attended: headcount,
                        ..Default::default()
                    }
                }),
            })
            .await
            .expect("results");
    }
    let (_, publisher) = &publishers[0];
    let (_, school) = &schools[0];
    Network {
        school: school.clone(),
        publisher: publisher.clone(),
        popular: activity_ids[0].clone(),
        cohorts: registrations.len(),
    }
}

/// Activity `i`: a course, olympiad, excursion… of the year 2025/26 for a
/// span of grades; a fiftieth recur twice a week until May; activity 0 is
/// a course open to every grade with room for every school.
fn details(rng: &mut StdRng, i: usize) -> pb::ActivityDetails {
    let kinds = [
        pb::ActivityKind::Course,
        pb::ActivityKind::Olympiad,
        pb::ActivityKind::Excursion,
        pb::ActivityKind::MasterClass,
        pb::ActivityKind::OlympiadPrepCourse,
        pb::ActivityKind::Contest,
    ];
    let directions = [
        pb::Direction::ResearchAndProjects,
        pb::Direction::DistanceAndGifted,
        pb::Direction::Upbringing,
        pb::Direction::Innovation,
        pb::Direction::SportAndHealth,
    ];
    let recurring = i.is_multiple_of(50);
    let mut day =
        NaiveDate::from_ymd_opt(2025, 9, 1).unwrap() + Duration::days(rng.gen_range(0..270));
    while recurring && !matches!(day.weekday(), chrono::Weekday::Tue | chrono::Weekday::Thu) {
        day += Duration::days(1);
    }
    let hour = rng.gen_range(9..18);
    let (low, high) = if i == 0 {
        (1, 11)
    } else {
        let low = rng.gen_range(1..=11);
        (low, rng.gen_range(low..=11))
    };
    let kind = kinds[rng.gen_range(0..kinds.len())];
    pb::ActivityDetails {
        title: format!("Мероприятие №{i}"),
        kind: kind.into(),
        direction: directions[rng.gen_range(0..directions.len())].into(),
        audience: Some(pb::Audience {
            students: Some(pb::GradeRange {
                min: low,
                max: high,
            }),
            ..Default::default()
        }),
        capacity: if i == 0 { 1000 } else { rng.gen_range(40..200) },
        schedule: Some(pb::Schedule {
            time_zone: String::new(),
            start: format!("{day}T{hour:02}:00"),
            end: format!("{day}T{:02}:30", hour + 1),
            all_day: false,
            recurrence: recurring.then(|| pb::Recurrence {
                rule: "FREQ=WEEKLY;BYDAY=TU,TH;UNTIL=20260531T235959Z".into(),
                exdates: Vec::new(),
                rdates: Vec::new(),
            }),
        }),
        ..edufed_tests::public_course("", 1)
    }
}

/// The session cookie of `who`, signed in through a one-time link.
async fn cookie(node: &TestNode, who: &Person) -> String {
    let url = edufed_tests::console::sign_in_link(node, who).await;
    let secret = url.rsplit('/').next().expect("secret").to_owned();
    let session = node
        .directory("")
        .await
        .start_session(pb::StartSessionRequest {
            link_secret: secret,
            user_agent: "bench".into(),
        })
        .await
        .expect("session")
        .into_inner();
    format!("edufed_session={}", session.secret)
}
