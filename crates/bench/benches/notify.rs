//! Notifications: how fast a backlog of 10 000 notifications is delivered
//! to a local SMTP server (aiosmtpd, which `scripts/bench` installs), and
//! the write rate of registrations with no notifier, with the notifier and
//! sender delivering beside them, and with the mail server down.
//!
//! `cargo bench -p edufed-bench --bench notify`; with
//! `EDUFED_BENCH_POSTGRES_URL=postgres://…/postgres` also on PostgreSQL.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use edufed_bench::{activity, on_each_backend, open_store, organization, scale, schedule};
use edufed_domain::calendar::decide::Register;
use edufed_domain::calendar::registration::Cohort;
use edufed_domain::calendar::{ActivityKind, Direction, GradeRange};
use edufed_domain::changes::Actor;
use edufed_domain::directory::{Email, MemberRef, NewPerson, OrgKind, OrgRef, Role};
use edufed_domain::ids::{ActivityId, OrgId};
use edufed_domain::notify::Channel;
use edufed_domain::time::TimeZone;
use edufed_notify::{Composer, Mailer, Notifier, Sender, Settings, SmtpSettings, TlsMode};
use edufed_store::{ConnectOptions, Store};
use edufed_tests::smtp::SmtpSink;
use tokio_util::sync::CancellationToken;

/// Writers at once, as a busy hub's clients.
const CLIENTS: usize = 16;

fn main() {
    on_each_backend(async |backend, url| run(backend, url).await);
}

/// Courses the registrations spread over, as a term's calendar does.
const COURSES: usize = 100;

/// A university with a coordinator and a school with a director, both
/// with addresses (each registration is news for both); the university's
/// id and the school's.
async fn network(store: &Store) -> (OrgId, OrgId) {
    let tusur = organization(
        store,
        "tusur",
        OrgKind::University,
        "Томский государственный университет систем управления и радиоэлектроники",
        "ТУСУР",
        "Томск",
        "Asia/Tomsk",
    )
    .await;
    let school = organization(
        store,
        "gym24",
        OrgKind::School,
        "МАОУ гимназия № 24",
        "Гимназия № 24",
        "Томск",
        "Asia/Tomsk",
    )
    .await;
    for (org, role, email) in [
        ("tusur", Role::Coordinator, "lecturer@tusur.example"),
        ("gym24", Role::Admin, "director@gym24.example"),
    ] {
        store
            .add_member(
                &OrgRef::parse("org", org).unwrap(),
                MemberRef::New(NewPerson {
                    display_name: email.into(),
                    email: Some(Email::parse("email", email).unwrap()),
                }),
                role,
                &Actor::Node,
            )
            .await
            .expect("member");
    }
    (tusur.id, school.id)
}

/// `COURSES` new courses of `publisher`: each phase registers into its
/// own, so that every phase's registrations meet courses of the same size.
async fn courses(store: &Store, publisher: &OrgId, phase: &str) -> Vec<ActivityId> {
    let zone = TimeZone::parse("zone", "Asia/Tomsk").unwrap();
    let start = (Utc::now() + chrono::Duration::days(30))
        .date_naive()
        .and_hms_opt(15, 0, 0)
        .unwrap();
    let mut courses = Vec::with_capacity(COURSES);
    for i in 0..COURSES {
        let details = activity(
            format!("Олимпиадная математика, {phase}, группа {i}"),
            ActivityKind::Course,
            Direction::DistanceAndGifted,
            GradeRange::new("grades", 9, 11).unwrap(),
            100_000,
            None,
            schedule(zone, start, 90, None),
        );
        let published = edufed_tests::publish_as_operator(store, publisher, details).await;
        courses.push(published.id);
    }
    courses
}

/// `count` registrations by `CLIENTS` concurrent writers, spread over
/// `courses`; registrations per second.
async fn register(store: &Store, school: &OrgId, courses: &[ActivityId], count: usize) -> f64 {
    let started = Instant::now();
    let per_client = count / CLIENTS;
    let mut writers = Vec::new();
    for client in 0..CLIENTS {
        let store = store.clone();
        let school = school.clone();
        let courses = courses.to_vec();
        writers.push(tokio::spawn(async move {
            for n in 0..per_client {
                store
                    .register(
                        Register {
                            activity: courses[(client + n * CLIENTS) % courses.len()].clone(),
                            occurrence: None,
                            venue: None,
                            cohort: Cohort {
                                org_id: school.clone(),
                                grades: Some(GradeRange::new("grades", 9, 9).unwrap()),
                                headcount: 1,
                                teacher: "Учитель".into(),
                                teacher_contact: None,
                            },
                        },
                        &edufed_tests::operator(),
                        None,
                    )
                    .await
                    .expect("registration");
            }
        }));
    }
    for writer in writers {
        writer.await.expect("writer");
    }
    (per_client * CLIENTS) as f64 / started.elapsed().as_secs_f64()
}

/// The notifier and the sender of a node, delivering to `sink`.
fn start_workers(store: &Store, sink: &SmtpSink, stop: &CancellationToken) {
    let smtp = SmtpSettings {
        host: sink.addr.ip().to_string(),
        port: sink.addr.port(),
        tls: TlsMode::None,
        username: None,
        password: None,
        from: "edufed <edufed@hub.example>".into(),
        reply_to: None,
        timeout: Duration::from_secs(30),
    };
    let mailer = Mailer::new(&smtp).expect("mailer");
    let wake = Arc::new(tokio::sync::Notify::new());
    let identity = Arc::new(edufed_federation::identity::NodeIdentity::generate());
    let sender = Sender::new(
        store.clone(),
        Composer::new(store.clone(), identity, "http://hub.example"),
        Some(mailer),
        Settings {
            smtp: Some(smtp),
            public_url: "http://hub.example".into(),
            give_up_after: chrono::Duration::hours(48),
            poll: Duration::from_secs(1),
            lease: chrono::Duration::minutes(2),
            concurrency: 16,
        },
        wake.clone(),
    )
    .expect("sender");
    tokio::spawn(edufed_worker::run(
        Notifier::new(store.clone(), wake),
        stop.clone(),
    ));
    tokio::spawn(edufed_worker::run(sender, stop.clone()));
}

/// Waits until `total` e-mails have been sent and none waits; panics
/// after a minute without progress.
async fn delivered(store: &Store, total: u64) {
    let mut last = (0, Instant::now());
    loop {
        let (queued, sent) = email(store).await;
        if queued == 0 && sent >= total {
            return;
        }
        if sent != last.0 {
            last = (sent, Instant::now());
        }
        assert!(
            last.1.elapsed() < Duration::from_secs(60),
            "stalled at {sent} of {total} sent, {queued} waiting"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// E-mail notifications waiting and sent.
async fn email(store: &Store) -> (u64, u64) {
    let counts = store.outbox_counts().await.expect("counts");
    let email = counts
        .iter()
        .find(|c| c.channel == Some(Channel::Email))
        .cloned()
        .unwrap_or_default();
    (email.queued, email.sent)
}

async fn run(backend: &str, url: &str) {
    let Some(sink) = SmtpSink::start().await else {
        println!("{backend}: aiosmtpd is not installed; scripts/bench installs it");
        return;
    };
    let store = open_store(
        url,
        &ConnectOptions {
            max_connections: 16,
            ..ConnectOptions::default()
        },
    )
    .await;
    let (university, school) = network(&store).await;
    // Registrations come in whole rounds of the writers.
    let half = (5_000 / scale()).div_ceil(CLIENTS) * CLIENTS;
    let backlog = 2 * half;

    // Registrations alone, no notifier: each is news for two people, so
    // they leave a backlog of 10 000 notifications in the log.
    let first = courses(&store, &university, "первая").await;
    let second = courses(&store, &university, "вторая").await;
    let third = courses(&store, &university, "третья").await;
    let alone = register(&store, &school, &first, half).await;

    // The notifier's share alone: the backlog's log entries read and turned
    // into outbox rows, in its batches.
    let started = Instant::now();
    let mut entries = 0;
    loop {
        let passed = store.fill_outbox(500).await.expect("fill");
        if passed == 0 {
            break;
        }
        entries += passed;
    }
    let filled = started.elapsed().as_secs_f64();
    println!(
        "{backend}: the notifier read {entries} log entries into {backlog} notifications in \
         {filled:.1} s: {:.0} entries/s",
        entries as f64 / filled
    );

    // The sender starts: the backlog delivered.
    let started = Instant::now();
    let stop = CancellationToken::new();
    start_workers(&store, &sink, &stop);
    delivered(&store, backlog as u64).await;
    let elapsed = started.elapsed().as_secs_f64();
    println!(
        "{backend}: a backlog of {backlog} notifications delivered to the SMTP server in \
         {elapsed:.1} s: {:.0}/s",
        backlog as f64 / elapsed
    );

    // Registrations again, with the notifier and sender delivering beside
    // them.
    let beside = register(&store, &school, &second, half).await;
    println!(
        "{backend}: {alone:.0} registrations/s with no notifier, {beside:.0}/s with the \
         notifier and sender delivering beside them ({:.0}%), {CLIENTS} writers",
        100.0 * beside / alone
    );
    delivered(&store, 2 * backlog as u64).await;

    // The mail server dies: the notifier still fills the outbox, the
    // sender's attempts fail at once and wait their retry.
    let mut sink = sink;
    let received = sink.messages();
    sink.stop().await;
    let down = register(&store, &school, &third, half).await;
    println!(
        "{backend}: {down:.0} registrations/s with the notifier running and the mail server \
         down ({:.0}% of the rate with no notifier)",
        100.0 * down / alone
    );
    stop.cancel();
    let ids: std::collections::HashSet<String> = received
        .iter()
        .filter_map(|m| {
            m.lines()
                .find_map(|l| l.strip_prefix("Message-ID: "))
                .map(str::to_owned)
        })
        .collect();
    println!(
        "{backend}: {} messages received, {} Message-IDs",
        received.len(),
        ids.len()
    );
}
