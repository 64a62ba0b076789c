//! Finding free slots across resources: for a duration, a window, required
//! features and a headcount, the earliest fitting slots first, the snuggest
//! room breaking ties.

use chrono::{DateTime, Datelike as _, Duration, NaiveTime, TimeZone as _, Utc};

use super::{Busy, Resource};

/// What a slot search asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotQuery {
    /// How long each slot is.
    pub duration: Duration,
    /// Slots start no earlier.
    pub from: DateTime<Utc>,
    /// Slots end no later.
    pub to: DateTime<Utc>,
    /// Feature tags every candidate has (folded).
    pub features: Vec<String>,
    /// People to seat: a resource of smaller capacity is left out.
    pub headcount: u32,
    /// At most this many slots.
    pub limit: usize,
}

/// A free slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slot {
    pub resource: Resource,
    /// On a 15-minute grid.
    pub start: DateTime<Utc>,
    /// `start` plus the query's duration.
    pub end: DateTime<Utc>,
}

/// Slot starts are on this grid, in minutes past the hour.
const GRID_MINUTES: i64 = 15;

/// Whether the resource can take the query at all.
pub fn suits(resource: &Resource, query: &SlotQuery) -> bool {
    let d = &resource.details;
    let minutes = query.duration.num_minutes();
    query.features.iter().all(|f| d.features.contains(f))
        && d.capacity.is_none_or(|c| c >= query.headcount)
        && minutes >= i64::from(d.rules.min_minutes)
        && minutes <= i64::from(d.rules.max_minutes)
}

/// The first free slot of each resource on each day of the window, earliest
/// first; among equal starts, the resource whose capacity wastes the fewest
/// seats. `busy` holds each resource's busy time, buffers included.
pub fn find(
    resources: &[(Resource, Vec<Busy>)],
    query: &SlotQuery,
    now: DateTime<Utc>,
) -> Vec<Slot> {
    let mut slots = Vec::new();
    for (resource, busy) in resources {
        if !suits(resource, query) {
            continue;
        }
        let rules = resource.details.rules;
        let earliest = query
            .from
            .max(now + Duration::minutes(i64::from(rules.min_notice_minutes)));
        let latest = query
            .to
            .min(now + Duration::days(i64::from(rules.max_advance_days)));
        let buffer = Duration::minutes(i64::from(rules.buffer_minutes));
        let tz = resource.details.time_zone.tz();
        let mut day = earliest.with_timezone(&tz).date_naive();
        let last_day = latest.with_timezone(&tz).date_naive();
        while day <= last_day {
            // The day's bookable span, local.
            let spans: Vec<(NaiveTime, Option<NaiveTime>)> = if resource.details.hours.is_empty() {
                vec![(NaiveTime::MIN, None)]
            } else {
                resource
                    .details
                    .hours
                    .iter()
                    .filter(|h| h.weekday == day.weekday())
                    .map(|h| (h.opens, Some(h.closes)))
                    .collect()
            };
            for (opens, closes) in spans {
                let Some(open) = tz.from_local_datetime(&day.and_time(opens)).earliest() else {
                    continue;
                };
                let close = match closes {
                    Some(c) => tz.from_local_datetime(&day.and_time(c)).earliest(),
                    None => day.succ_opt().and_then(|d| {
                        tz.from_local_datetime(&d.and_time(NaiveTime::MIN))
                            .earliest()
                    }),
                };
                let Some(close) = close else { continue };
                let (open, close) = (open.with_timezone(&Utc), close.with_timezone(&Utc));
                let mut start = align(open.max(earliest));
                while start + query.duration <= close.min(latest) {
                    let end = start + query.duration;
                    match busy
                        .iter()
                        .find(|b| b.start < end + buffer && start < b.end)
                    {
                        None => {
                            slots.push(Slot {
                                resource: resource.clone(),
                                start,
                                end,
                            });
                            break;
                        }
                        Some(b) => {
                            start = align(b.end.max(start + Duration::minutes(GRID_MINUTES)))
                        }
                    }
                }
                if slots.last().is_some_and(|s| {
                    s.resource.id == resource.id && s.start.date_naive() == open.date_naive()
                }) {
                    break;
                }
            }
            day = match day.succ_opt() {
                Some(next) => next,
                None => break,
            };
        }
    }
    slots.sort_by_key(|s| {
        let waste = s
            .resource
            .details
            .capacity
            .map_or(u32::MAX, |c| c - query.headcount);
        (s.start, waste, s.resource.id.clone())
    });
    slots.truncate(query.limit);
    slots
}

/// Rounds up to the slot grid.
fn align(t: DateTime<Utc>) -> DateTime<Utc> {
    let step = GRID_MINUTES * 60;
    let seconds = t.timestamp();
    let rounded = (seconds + step - 1).div_euclid(step) * step;
    DateTime::from_timestamp(rounded, 0).unwrap_or(t)
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::booking::{
        Access, ApprovalPolicy, BookingRules, ResourceDetails, ResourceKind, WeeklyHours,
    };
    use crate::ids::{OrgId, ResourceId};
    use crate::time::TimeZone;

    fn room(name: &str, capacity: u32, features: &[&str]) -> Resource {
        Resource {
            id: ResourceId::generate(),
            owner: OrgId::generate(),
            details: ResourceDetails {
                kind: ResourceKind::Room,
                name: name.into(),
                capacity: Some(capacity),
                features: features.iter().map(|f| f.to_string()).collect(),
                time_zone: TimeZone::parse("tz", "Asia/Tomsk").unwrap(),
                hours: vec![WeeklyHours {
                    weekday: chrono::Weekday::Mon,
                    opens: NaiveTime::from_hms_opt(9, 0, 0).unwrap(),
                    closes: NaiveTime::from_hms_opt(12, 0, 0).unwrap(),
                }],
                rules: BookingRules {
                    buffer_minutes: 15,
                    ..BookingRules::default()
                },
                approval: ApprovalPolicy::Automatic,
                access: Access::Network,
            },
            blackouts: vec![],
            version: 1,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    fn tomsk(h: u32, m: u32) -> DateTime<Utc> {
        // Monday 2 September 2030, Tomsk (UTC+7).
        let local = NaiveDate::from_ymd_opt(2030, 9, 2)
            .unwrap()
            .and_hms_opt(h, m, 0)
            .unwrap();
        chrono_tz::Asia::Tomsk
            .from_local_datetime(&local)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn earliest_then_snuggest_and_around_bookings() {
        let big = room("Актовый зал", 200, &["проектор"]);
        let small = room("Аудитория 12", 30, &["проектор"]);
        let plain = room("Кабинет 5", 30, &[]);
        // The small room is busy 09:00–10:15 (a booking and its buffer).
        let busy_small = vec![Busy {
            start: tomsk(9, 0),
            end: tomsk(10, 15),
            why: "booked".into(),
        }];
        let query = SlotQuery {
            duration: Duration::minutes(60),
            from: tomsk(0, 0),
            to: tomsk(23, 0),
            features: vec!["проектор".into()],
            headcount: 25,
            limit: 5,
        };
        let now = tomsk(0, 0) - Duration::days(1);
        let slots = find(
            &[
                (big.clone(), vec![]),
                (small.clone(), busy_small),
                (plain, vec![]),
            ],
            &query,
            now,
        );
        assert_eq!(slots.len(), 2, "the room without a projector is left out");
        assert_eq!(
            (slots[0].resource.id.clone(), slots[0].start),
            (big.id, tomsk(9, 0))
        );
        assert_eq!(
            (slots[1].resource.id.clone(), slots[1].start),
            (small.id, tomsk(10, 15))
        );
        // A slot must leave its own buffer before the next booking.
        let tight = vec![Busy {
            start: tomsk(10, 0),
            end: tomsk(12, 0),
            why: "booked".into(),
        }];
        let slots = find(
            &[(room("x", 30, &[]), tight)],
            &SlotQuery {
                features: vec![],
                ..query
            },
            now,
        );
        assert!(
            slots.is_empty(),
            "09:00–10:00 leaves no 15 minutes before 10:00"
        );
    }
}
