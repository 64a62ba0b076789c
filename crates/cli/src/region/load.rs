//! The load: activities published, cohorts registered (forwarded from a
//! school to its partner university in the next city) and labs booked on
//! random institution nodes at a steady rate; every write's outcome in a
//! ledger, and how long the regional hub took to show it.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use edufed_proto::v1 as pb;
use rand::Rng as _;
use rand::seq::SliceRandom as _;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use super::layout::Role;
use super::setup::{Region, course};

/// What a write made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Activity,
    Registration,
    Booking,
}

/// How a write ended for its client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Acknowledged, with the record's id.
    Acked(String),
    /// Refused by a rule: it had no effect.
    Refused(String),
    /// Failed in a way that leaves the effect unknown (the node or the link
    /// went away): it happened at most once.
    Uncertain(String),
}

/// One write of the load.
#[derive(Debug, Clone)]
pub struct Effect {
    /// Unique; written into the record (its title, teacher or purpose).
    pub tag: String,
    pub kind: Kind,
    /// The node that holds the record.
    pub home: usize,
    /// The course or lab it is for.
    pub target: Option<String>,
    pub sent: Instant,
    pub outcome: Outcome,
}

/// Latencies until the regional hub shows a write.
#[derive(Debug, Default)]
pub struct Seen {
    /// Activities published on an institution's node, by its role, with
    /// when each was sent.
    pub published: Mutex<Vec<(Role, Instant, Duration)>>,
    /// Registrations forwarded from a school to a university in another
    /// city: until the regional hub's copy of the course counts the seat.
    pub forwarded: Mutex<Vec<(Instant, Duration)>>,
    /// Probes given up (the hub was stopped or the write was lost).
    pub abandoned: AtomicU64,
}

/// The load generator.
pub struct Load {
    region: Arc<Region>,
    pub ledger: Mutex<Vec<Effect>>,
    pub seen: Seen,
    /// Whether the regional hub is up, so that probes may run.
    pub regional_up: AtomicBool,
    counter: AtomicU64,
    /// Per course, the seats its confirmed registrations hold; a course
    /// takes one registration at a time, so the count says which one the
    /// hub shows.
    courses: HashMap<String, tokio::sync::Mutex<u32>>,
    /// Per lab, the bookings made: each takes the next half hour.
    slots: HashMap<String, AtomicU64>,
    /// Probes and writes still running.
    tasks: Mutex<JoinSet<()>>,
}

/// Whether a failure leaves the effect unknown.
fn uncertain(status: &tonic::Status) -> bool {
    matches!(
        status.code(),
        tonic::Code::Unavailable
            | tonic::Code::DeadlineExceeded
            | tonic::Code::Unknown
            | tonic::Code::Internal
            | tonic::Code::Cancelled
    )
}

fn outcome<T>(result: Result<T, tonic::Status>, id: impl FnOnce(&T) -> String) -> Outcome {
    match result {
        Ok(answer) => Outcome::Acked(id(&answer)),
        Err(status) if uncertain(&status) => {
            Outcome::Uncertain(format!("{:?}: {}", status.code(), status.message()))
        }
        Err(status) => Outcome::Refused(format!("{:?}: {}", status.code(), status.message())),
    }
}

impl Load {
    pub fn new(region: Arc<Region>) -> Arc<Self> {
        let courses = region
            .nodes
            .iter()
            .flat_map(|n| n.courses.get().cloned().unwrap_or_default())
            .map(|id| (id, tokio::sync::Mutex::new(0)))
            .collect();
        let slots = region
            .nodes
            .iter()
            .flat_map(|n| n.labs.get().cloned().unwrap_or_default())
            .map(|id| (id, AtomicU64::new(0)))
            .collect();
        Arc::new(Self {
            slots,
            region,
            ledger: Mutex::default(),
            seen: Seen::default(),
            regional_up: AtomicBool::new(true),
            counter: AtomicU64::new(0),
            courses,
            tasks: Mutex::new(JoinSet::new()),
        })
    }

    fn spawn(&self, work: impl std::future::Future<Output = ()> + Send + 'static) {
        let mut tasks = self.tasks.lock().expect("not poisoned");
        while tasks.try_join_next().is_some() {}
        tasks.spawn(work);
    }

    /// Writes at `rate` a second until `stop`.
    pub async fn run(self: Arc<Self>, rate: f64, stop: CancellationToken) {
        let mut tick = tokio::time::interval(Duration::from_secs_f64(1.0 / rate));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stop.cancelled() => break,
                _ = tick.tick() => {}
            }
            let roll = rand::thread_rng().gen_range(0..100);
            let this = self.clone();
            match roll {
                0..40 => self.spawn(async move { this.publish().await }),
                40..80 if !self.region.layout.partners.is_empty() => {
                    self.spawn(async move { this.register().await })
                }
                _ => self.spawn(async move { this.book().await }),
            }
        }
    }

    /// Waits for the writes and probes still running.
    pub async fn drain(&self) {
        let mut tasks = std::mem::take(&mut *self.tasks.lock().expect("not poisoned"));
        while tasks.join_next().await.is_some() {}
    }

    fn tag(&self, prefix: char) -> (u64, String) {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        (n, format!("{prefix}{n}"))
    }

    fn record(&self, effect: Effect) {
        self.ledger.lock().expect("not poisoned").push(effect);
    }

    fn institution(&self) -> usize {
        let institutions: Vec<usize> = self.region.layout.institutions().map(|n| n.index).collect();
        *institutions
            .choose(&mut rand::thread_rng())
            .expect("institutions")
    }

    async fn publish(self: Arc<Self>) {
        let at = self.institution();
        let node = &self.region.nodes[at];
        let (n, tag) = self.tag('a');
        let sent = Instant::now();
        let result = node
            .coordinator()
            .calendar()
            .publish_activity(pb::PublishActivityRequest {
                publisher: node.spec.main_org.clone(),
                details: Some(course(format!("Занятие {tag}"), 10 + (n % 300) as i64, 30)),
                draft: false,
            })
            .await
            .map(tonic::Response::into_inner);
        let outcome = outcome(result, |a| a.id.clone());
        self.record(Effect {
            tag,
            kind: Kind::Activity,
            home: at,
            target: None,
            sent,
            outcome: outcome.clone(),
        });
        if let Outcome::Acked(id) = outcome {
            let role = node.spec.role;
            if let Some(latency) = self.until_regional(sent, &id, 0).await {
                self.seen
                    .published
                    .lock()
                    .expect("not poisoned")
                    .push((role, sent, latency));
            }
        }
    }

    async fn register(self: Arc<Self>) {
        let (school, university) = *self
            .region
            .layout
            .partners
            .choose(&mut rand::thread_rng())
            .expect("partners");
        let courses = self.region.nodes[university]
            .courses
            .get()
            .cloned()
            .unwrap_or_default();
        let Some(course) = courses.choose(&mut rand::thread_rng()).cloned() else {
            return;
        };
        let node = &self.region.nodes[school];
        let (_, tag) = self.tag('r');
        let mut seats = self.courses[&course].lock().await;
        let sent = Instant::now();
        let result = node
            .coordinator()
            .calendar()
            .register(pb::RegisterRequest {
                activity_id: course.clone(),
                occurrence_start: None,
                cohort: Some(pb::Cohort {
                    organization: node.spec.main_org.clone(),
                    grades: Some(pb::GradeRange { min: 9, max: 9 }),
                    headcount: 1,
                    teacher: format!("Педагог {tag}"),
                    teacher_contact: String::new(),
                    teachers: false,
                }),
                venue: 0,
            })
            .await
            .map(tonic::Response::into_inner);
        let confirmed =
            matches!(&result, Ok(r) if r.state == pb::RegistrationState::Confirmed as i32);
        let outcome = outcome(result, |r| r.id.clone());
        if confirmed {
            *seats += 1;
        }
        let expected = *seats;
        // An unknown outcome leaves the count unknown: the course takes no
        // more probes.
        let probe = confirmed && !matches!(outcome, Outcome::Uncertain(_));
        drop(seats);
        self.record(Effect {
            tag,
            kind: Kind::Registration,
            home: university,
            target: Some(course.clone()),
            sent,
            outcome,
        });
        if probe && let Some(latency) = self.until_regional(sent, &course, expected).await {
            self.seen
                .forwarded
                .lock()
                .expect("not poisoned")
                .push((sent, latency));
        }
    }

    async fn book(self: Arc<Self>) {
        let at = self.institution();
        let node = &self.region.nodes[at];
        let labs = node.labs.get().cloned().unwrap_or_default();
        let Some(lab) = labs.choose(&mut rand::thread_rng()).cloned() else {
            return;
        };
        let (_, tag) = self.tag('b');
        // The lab's next half hour, from two weeks ahead: none collides,
        // and a run's bookings stay well within how far ahead labs open.
        let n = self.slots[&lab].fetch_add(1, Ordering::Relaxed);
        let start = (chrono::Utc::now() + chrono::Duration::days(14))
            .date_naive()
            .and_hms_opt(0, 0, 0)
            .expect("midnight")
            + chrono::Duration::minutes(30 * n as i64);
        let end = start + chrono::Duration::minutes(30);
        let sent = Instant::now();
        let result = node
            .coordinator()
            .booking()
            .request_booking(pb::RequestBookingRequest {
                resource_id: lab.clone(),
                requester: node.spec.main_org.clone(),
                start: start.format("%Y-%m-%dT%H:%M").to_string(),
                end: end.format("%Y-%m-%dT%H:%M").to_string(),
                purpose: format!("Занятие {tag}"),
                headcount: 10,
                ..Default::default()
            })
            .await
            .map(tonic::Response::into_inner);
        let outcome = outcome(result, |r| {
            r.booking.as_ref().map(|b| b.id.clone()).unwrap_or_default()
        });
        self.record(Effect {
            tag,
            kind: Kind::Booking,
            home: at,
            target: Some(lab),
            sent,
            outcome,
        });
    }

    /// How long after `sent` the regional hub shows activity `id` (with at
    /// least `seats` taken), polling; `None` if the hub was stopped
    /// meanwhile or a minute went by.
    async fn until_regional(&self, sent: Instant, id: &str, seats: u32) -> Option<Duration> {
        if !self.regional_up.load(Ordering::SeqCst) {
            return None;
        }
        let mut calendar = self.region.nodes[0].operator.calendar();
        while sent.elapsed() < Duration::from_secs(60) {
            if !self.regional_up.load(Ordering::SeqCst) {
                break;
            }
            let found = calendar
                .get_activity(pb::GetActivityRequest {
                    activity_id: id.to_owned(),
                })
                .await;
            let at = Instant::now();
            if let Ok(found) = found {
                let taken = found
                    .into_inner()
                    .occurrences
                    .first()
                    .map(|o| o.seats_taken)
                    .unwrap_or(0);
                if taken >= seats {
                    return Some(at.duration_since(sent));
                }
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.seen.abandoned.fetch_add(1, Ordering::Relaxed);
        None
    }
}
