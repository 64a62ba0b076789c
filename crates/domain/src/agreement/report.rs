//! What an agreement delivered: planned against delivered hours by programme
//! part and party, pledged against booked resource hours, the cohorts
//! reached, the activities held.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};

use super::quota::{periods_in_term, pledge_for};
use super::{Content, PledgePeriod};
use crate::booking::{Interval, OccurrenceState};
use crate::ids::{ActivityId, BookingId, OrgId, ResourceId};

/// An activity under the agreement, with its occurrences.
#[derive(Debug, Clone)]
pub struct ActivityFacts {
    pub id: ActivityId,
    /// The party that delivers it.
    pub publisher: OrgId,
    /// The programme part it delivers, resolved by [`super::Content::part_for`].
    pub part: Option<String>,
    /// Its occurrences, and whether each was cancelled.
    pub occurrences: Vec<(Interval, bool)>,
}

/// A cohort registered for an activity under the agreement.
#[derive(Debug, Clone)]
pub struct CohortFacts {
    /// The registering organization.
    pub org_id: OrgId,
    /// Pupils registered.
    pub headcount: u32,
    /// Pupils who came, once recorded.
    pub attended: Option<u32>,
}

/// A booked occurrence under the agreement.
#[derive(Debug, Clone)]
pub struct BookingFacts {
    pub booking_id: BookingId,
    pub resource_id: ResourceId,
    /// The resource's owner: the party whose pledge the hours count against.
    pub owner: OrgId,
    /// The occurrence's state; a lapsed hold is left out before.
    pub state: OccurrenceState,
    /// Without the resource's buffer.
    pub interval: Interval,
}

/// Planned against delivered hours of one programme part by one party.
#[derive(Debug, Clone, PartialEq)]
pub struct PartLine {
    /// The part's name; empty for activities under no part.
    pub part: String,
    /// The delivering party.
    pub org_id: OrgId,
    /// Hours its duties plan.
    pub planned_hours: f64,
    /// Hours of occurrences held (ended, not cancelled).
    pub delivered_hours: f64,
    /// Hours of occurrences still to come.
    pub scheduled_hours: f64,
}

/// Pledged against booked hours of one pledge.
#[derive(Debug, Clone, PartialEq)]
pub struct PledgeLine {
    /// The providing party.
    pub org_id: OrgId,
    /// The resource, when the pledge names one.
    pub resource_id: Option<ResourceId>,
    /// The resource in words, as the pledge states it.
    pub description: String,
    /// Hours pledged per `period`.
    pub hours_per_period: u32,
    pub period: PledgePeriod,
    /// Hours over the whole term.
    pub pledged_hours: f64,
    /// Confirmed hours that have taken place.
    pub used_hours: f64,
    /// Confirmed hours still to come.
    pub booked_hours: f64,
    /// Hours requested and awaiting the owner's decision, or held.
    pub pending_hours: f64,
}

/// Cohorts one organization sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reach {
    /// The registering organization.
    pub org_id: OrgId,
    /// Cohorts registered (confirmed).
    pub cohorts: u32,
    /// Their pupils.
    pub headcount: u32,
    /// Pupils who came, where recorded.
    pub attended: u32,
}

/// An agreement's delivery.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    /// By programme part and party.
    pub parts: Vec<PartLine>,
    /// By pledge.
    pub pledges: Vec<PledgeLine>,
    /// By registering organization.
    pub reach: Vec<Reach>,
    /// Cohorts reached.
    pub cohorts: u32,
    /// Their pupils.
    pub headcount: u32,
    /// Pupils who came, where recorded.
    pub attended: u32,
    /// Students the agreement plans.
    pub planned_students: Option<u32>,
    /// Activities under the agreement with at least one occurrence held.
    pub activities_held: u32,
    /// Occurrences that ended and were not cancelled.
    pub occurrences_held: u32,
    /// Occurrences cancelled alone or with their activity.
    pub occurrences_cancelled: u32,
    /// Bookings under the agreement with at least one confirmed occurrence.
    pub bookings_used: u32,
}

fn hours(minutes: i64) -> f64 {
    minutes as f64 / 60.0
}

fn minutes(interval: &Interval) -> i64 {
    (interval.1 - interval.0).num_minutes().max(0)
}

/// Builds the report of `content` as of `now`.
pub fn build(
    content: &Content,
    now: DateTime<Utc>,
    activities: &[ActivityFacts],
    cohorts: &[CohortFacts],
    bookings: &[BookingFacts],
) -> Report {
    // (part, org) → (planned, delivered, scheduled) minutes.
    let mut parts: BTreeMap<(String, OrgId), (i64, i64, i64)> = BTreeMap::new();
    for duty in &content.duties {
        let part = content
            .part_for(std::slice::from_ref(&duty.part), "")
            .unwrap_or_else(|| duty.part.clone());
        parts.entry((part, duty.org_id.clone())).or_default().0 += i64::from(duty.hours) * 60;
    }
    let (mut held, mut cancelled) = (0u32, 0u32);
    let mut activities_held = 0u32;
    for activity in activities {
        let line = parts
            .entry((
                activity.part.clone().unwrap_or_default(),
                activity.publisher.clone(),
            ))
            .or_default();
        let mut any = false;
        for (interval, was_cancelled) in &activity.occurrences {
            if *was_cancelled {
                cancelled += 1;
            } else if interval.1 <= now {
                line.1 += minutes(interval);
                held += 1;
                any = true;
            } else {
                line.2 += minutes(interval);
            }
        }
        activities_held += u32::from(any);
    }

    let mut pledges: Vec<PledgeLine> = content
        .resources
        .iter()
        .map(|p| PledgeLine {
            org_id: p.org_id.clone(),
            resource_id: p.resource_id.clone(),
            description: p.description.clone(),
            hours_per_period: p.hours,
            period: p.period,
            pledged_hours: f64::from(p.hours) * f64::from(periods_in_term(content, p.period)),
            used_hours: 0.0,
            booked_hours: 0.0,
            pending_hours: 0.0,
        })
        .collect();
    let mut used_bookings = BTreeSet::new();
    for b in bookings {
        let Some(pledge) = pledge_for(content, &b.owner, &b.resource_id) else {
            continue;
        };
        let Some(index) = content
            .resources
            .iter()
            .position(|p| std::ptr::eq(p, pledge))
        else {
            continue;
        };
        let line = &mut pledges[index];
        let h = hours(minutes(&b.interval));
        match b.state {
            OccurrenceState::Confirmed if b.interval.1 <= now => {
                line.used_hours += h;
                used_bookings.insert(b.booking_id.clone());
            }
            OccurrenceState::Confirmed => {
                line.booked_hours += h;
                used_bookings.insert(b.booking_id.clone());
            }
            OccurrenceState::Pending | OccurrenceState::Held => line.pending_hours += h,
            _ => {}
        }
    }

    let mut reach: BTreeMap<OrgId, Reach> = BTreeMap::new();
    for c in cohorts {
        let r = reach.entry(c.org_id.clone()).or_insert_with(|| Reach {
            org_id: c.org_id.clone(),
            cohorts: 0,
            headcount: 0,
            attended: 0,
        });
        r.cohorts += 1;
        r.headcount += c.headcount;
        r.attended += c.attended.unwrap_or(0);
    }
    let reach: Vec<Reach> = reach.into_values().collect();
    Report {
        parts: parts
            .into_iter()
            .map(|((part, org_id), (p, d, s))| PartLine {
                part,
                org_id,
                planned_hours: hours(p),
                delivered_hours: hours(d),
                scheduled_hours: hours(s),
            })
            .collect(),
        pledges,
        cohorts: reach.iter().map(|r| r.cohorts).sum(),
        headcount: reach.iter().map(|r| r.headcount).sum(),
        attended: reach.iter().map(|r| r.attended).sum(),
        reach,
        planned_students: content
            .planned_students
            .or(content.students.as_ref().map(|s| s.planned_headcount)),
        activities_held,
        occurrences_held: held,
        occurrences_cancelled: cancelled,
        bookings_used: u32::try_from(used_bookings.len()).unwrap_or(u32::MAX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn planned_against_delivered() {
        let (school, park) = (OrgId::generate(), OrgId::generate());
        let content = super::super::tests::network_form(&school, &park);
        let now = DateTime::from_timestamp(1_790_000_000, 0).unwrap();
        let lesson = |days: i64| {
            let start = now + Duration::days(days);
            (start, start + Duration::minutes(90))
        };
        let activities = vec![ActivityFacts {
            id: ActivityId::generate(),
            publisher: park.clone(),
            part: Some("Технология".into()),
            occurrences: vec![
                (lesson(-7), false),
                (lesson(-3), true),
                (lesson(-1), false),
                (lesson(2), false),
            ],
        }];
        let cohorts = vec![
            CohortFacts {
                org_id: school.clone(),
                headcount: 25,
                attended: Some(23),
            },
            CohortFacts {
                org_id: school.clone(),
                headcount: 24,
                attended: None,
            },
        ];
        let lab = ResourceId::generate();
        let booked = |days: i64, state| BookingFacts {
            booking_id: BookingId::generate(),
            resource_id: lab.clone(),
            owner: park.clone(),
            state,
            interval: lesson(days),
        };
        let bookings = vec![
            booked(-7, OccurrenceState::Confirmed),
            booked(2, OccurrenceState::Confirmed),
            booked(3, OccurrenceState::Pending),
            booked(4, OccurrenceState::Cancelled),
        ];
        let r = build(&content, now, &activities, &cohorts, &bookings);
        assert_eq!(r.parts.len(), 1);
        let line = &r.parts[0];
        assert_eq!((line.part.as_str(), &line.org_id), ("Технология", &park));
        assert_eq!(line.planned_hours, 68.0);
        assert_eq!(line.delivered_hours, 3.0);
        assert_eq!(line.scheduled_hours, 1.5);
        assert_eq!(
            (
                r.occurrences_held,
                r.occurrences_cancelled,
                r.activities_held
            ),
            (2, 1, 1)
        );
        assert_eq!((r.cohorts, r.headcount, r.attended), (2, 49, 23));
        assert_eq!(r.pledges[0].pledged_hours, 70.0);
        assert_eq!(r.pledges[0].used_hours, 1.5);
        assert_eq!(r.pledges[0].booked_hours, 1.5);
        assert_eq!(r.pledges[0].pending_hours, 1.5);
        assert_eq!(r.bookings_used, 2);
        assert_eq!(r.planned_students, Some(50));
    }
}
