//! Whether the region converged: every subscription's mirrors equal what
//! their origin shows the follower (a digest per origin, compared across
//! nodes), and every acknowledged registration and booking is at its home
//! node exactly once.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use edufed_proto::v1 as pb;

use super::layout::{Follow, RELAYED};
use super::load::{Effect, Kind, Outcome};
use super::setup::Region;

/// A subscription whose mirrors differ from their origin.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Divergence {
    pub follower: String,
    pub origin: String,
    pub mirrored: String,
    pub shown: String,
}

/// The digests of one subscription: (follower's mirrors, origin's view).
async fn digests(
    region: &Region,
    follow: &Follow,
) -> Result<(pb::Digest, pb::Digest), tonic::Status> {
    let follower = &region.nodes[follow.follower];
    let origin = &region.nodes[follow.origin];
    let kinds: Vec<String> = if follow.via.is_some() && follow.kinds.is_empty() {
        RELAYED.iter().map(|k| (*k).to_owned()).collect()
    } else {
        follow.kinds.iter().map(|k| (*k).to_owned()).collect()
    };
    let mirrored = follower
        .operator
        .federation()
        .get_digest(pb::GetDigestRequest {
            origin: origin.id.clone(),
            for_node: String::new(),
            entity_kinds: kinds.clone(),
        })
        .await?
        .into_inner();
    // A relay passes on what is shared with the whole network; a direct
    // stream also what concerns the follower's organizations.
    let for_node = match follow.via {
        Some(_) => String::new(),
        None => follower.id.clone(),
    };
    let shown = origin
        .operator
        .federation()
        .get_digest(pb::GetDigestRequest {
            origin: String::new(),
            for_node,
            entity_kinds: kinds,
        })
        .await?
        .into_inner();
    Ok((mirrored, shown))
}

/// Compares every subscription's digests until all agree or `patience`
/// runs out; returns how long it took and what still differs.
pub async fn converge(region: &Region, patience: Duration) -> (Duration, Vec<Divergence>, u64) {
    let started = Instant::now();
    let mut pending: Vec<&Follow> = region.layout.follows.iter().collect();
    let mut records = 0;
    loop {
        let mut still = Vec::new();
        let mut differ = Vec::new();
        for follow in pending {
            match digests(region, follow).await {
                Ok((mirrored, shown)) if mirrored.sha256 == shown.sha256 => {
                    records += mirrored.records;
                }
                Ok((mirrored, shown)) => {
                    still.push(follow);
                    differ.push(Divergence {
                        follower: region.nodes[follow.follower].spec.name.clone(),
                        origin: region.nodes[follow.origin].spec.name.clone(),
                        mirrored: format!(
                            "{} records, up to {}",
                            mirrored.records, mirrored.latest_sequence
                        ),
                        shown: format!(
                            "{} records, up to {}",
                            shown.records, shown.latest_sequence
                        ),
                    });
                }
                Err(status) => {
                    still.push(follow);
                    differ.push(Divergence {
                        follower: region.nodes[follow.follower].spec.name.clone(),
                        origin: region.nodes[follow.origin].spec.name.clone(),
                        mirrored: format!("no digest: {}", status.message()),
                        shown: String::new(),
                    });
                }
            }
        }
        if still.is_empty() || started.elapsed() > patience {
            return (started.elapsed(), differ, records);
        }
        pending = still;
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// What the home nodes hold of the load's registrations and bookings.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct Effects {
    pub acknowledged: u64,
    pub refused: u64,
    pub uncertain: u64,
    /// Acknowledged and missing.
    pub lost: u64,
    /// Held more than once, or held without a write that made it.
    pub duplicated: u64,
    /// Acknowledged on the school restored from an older copy after that
    /// copy was made, and gone with the restore, as a restore loses them.
    pub lost_to_restore: u64,
    /// Courses whose seats taken differ from their confirmed registrations.
    pub seat_mismatches: u64,
    pub examples: Vec<String>,
}

/// Counts each tag's records at the home nodes and compares with the
/// ledger. `restored` is the school restored from a copy and when the copy
/// was begun.
pub async fn effects(
    region: &Region,
    ledger: &[Effect],
    restored: Option<(usize, Instant)>,
) -> anyhow::Result<Effects> {
    let mut held: HashMap<String, u32> = HashMap::new();
    let mut seat_mismatches = 0;
    for node in &region.nodes {
        for course in node.courses.get().into_iter().flatten() {
            let listed = node
                .operator
                .calendar()
                .list_registrations(pb::ListRegistrationsRequest {
                    activity_id: course.clone(),
                })
                .await?
                .into_inner()
                .registrations;
            let mut confirmed = 0;
            for registration in &listed {
                if let Some(tag) = registration
                    .cohort
                    .as_ref()
                    .and_then(|c| c.teacher.strip_prefix("Педагог "))
                {
                    *held.entry(tag.to_owned()).or_default() += 1;
                }
                if registration.state == pb::RegistrationState::Confirmed as i32 {
                    confirmed += registration.cohort.as_ref().map_or(0, |c| c.headcount);
                }
            }
            let shown = node
                .operator
                .calendar()
                .get_activity(pb::GetActivityRequest {
                    activity_id: course.clone(),
                })
                .await?
                .into_inner();
            let taken = shown.occurrences.first().map_or(0, |o| o.seats_taken);
            if taken != confirmed {
                seat_mismatches += 1;
            }
        }
        let now = chrono::Utc::now();
        for lab in node.labs.get().into_iter().flatten() {
            let listed = node
                .operator
                .booking()
                .list_bookings(pb::ListBookingsRequest {
                    resource_id: lab.clone(),
                    requester: String::new(),
                    from: Some(timestamp(now)),
                    to: Some(timestamp(now + chrono::Duration::days(399))),
                })
                .await?
                .into_inner()
                .occurrences;
            for occurrence in listed {
                if let Some(tag) = occurrence.purpose.strip_prefix("Занятие ") {
                    *held.entry(tag.to_owned()).or_default() += 1;
                }
            }
        }
    }
    let mut report = Effects {
        seat_mismatches,
        ..Effects::default()
    };
    let mut known = std::collections::HashSet::new();
    for effect in ledger.iter().filter(|e| e.kind != Kind::Activity) {
        known.insert(effect.tag.clone());
        let count = held.get(&effect.tag).copied().unwrap_or(0);
        let may_be_lost =
            restored.is_some_and(|(node, at)| effect.home == node && effect.sent >= at);
        match &effect.outcome {
            Outcome::Acked(_) => {
                report.acknowledged += 1;
                match count {
                    1 => {}
                    0 if may_be_lost => report.lost_to_restore += 1,
                    0 => {
                        report.lost += 1;
                        report.examples.push(format!(
                            "{:?} {} (for {}) lost",
                            effect.kind,
                            effect.tag,
                            effect.target.as_deref().unwrap_or("-")
                        ));
                    }
                    _ => {
                        report.duplicated += 1;
                        report.examples.push(format!(
                            "{:?} {} held {count} times",
                            effect.kind, effect.tag
                        ));
                    }
                }
            }
            Outcome::Refused(_) => {
                report.refused += 1;
                if count > 0 {
                    report.duplicated += 1;
                    report
                        .examples
                        .push(format!("{:?} {} refused but held", effect.kind, effect.tag));
                }
            }
            Outcome::Uncertain(_) => {
                report.uncertain += 1;
                if count > 1 {
                    report.duplicated += 1;
                    report.examples.push(format!(
                        "{:?} {} held {count} times",
                        effect.kind, effect.tag
                    ));
                }
            }
        }
    }
    for (tag, count) in &held {
        if !known.contains(tag) {
            report.duplicated += u64::from(*count);
            report.examples.push(format!("{tag} held without a write"));
        }
    }
    report.examples.truncate(20);
    Ok(report)
}

fn timestamp(at: chrono::DateTime<chrono::Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: 0,
    }
}
