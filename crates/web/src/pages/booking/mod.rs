//! Booking the network's resources: finding a lab (`/resources`), its week
//! of free and busy time and the request form (`/resources/{id}`), one
//! booking with its lessons (`/bookings/{id}`), and the inbox of requests
//! to decide and of one's own (`/bookings`).

mod inbox;
mod record;
mod resource;
mod resources;
mod series;
mod week;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use edufed_i18n::ru;
use edufed_proto::v1 as pb;

use crate::errors::{Problem, russian};
use crate::page::t;
use crate::view::{DEFAULT_ZONE, instant, named, zone_of};
use crate::visitor::Visitor;

pub(crate) fn routes() -> axum::Router<crate::Console> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/resources", get(resources::list))
        .route("/resources/{id}", get(resource::show))
        .route("/resources/{id}/request", post(resource::request))
        .route("/bookings", get(inbox::show))
        .route("/bookings/{id}", get(record::show))
        .route("/bookings/{id}/approve", post(record::approve))
        .route("/bookings/{id}/reject", post(record::reject))
        .route("/bookings/{id}/cancel", post(record::cancel))
}

/// A window of the API's longest span (400 days), from a day ago.
fn ahead(now: DateTime<Utc>) -> (prost_types::Timestamp, prost_types::Timestamp) {
    let from = now - chrono::Duration::days(1);
    (stamp(from), stamp(from + chrono::Duration::days(399)))
}

fn stamp(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: 0,
    }
}

/// The zone a resource's times are read in, and the viewer's.
fn zones(visitor: &Visitor, resource: &pb::Resource) -> (Tz, Tz) {
    let viewer = visitor.zone.unwrap_or(DEFAULT_ZONE);
    (zone_of(&resource.time_zone, viewer), viewer)
}

/// An instant of a resource, in its zone (named when not the viewer's).
fn when(at: Option<&prost_types::Timestamp>, zone: Tz, viewer: Tz) -> String {
    instant(at)
        .map(|at| ru().instant(at, zone, Some(viewer)))
        .unwrap_or_default()
}

/// A lesson's span: «вт, 3 ноября 2026, 14:00–15:30».
fn lesson(
    start: Option<&prost_types::Timestamp>,
    end: Option<&prost_types::Timestamp>,
    zone: Tz,
    viewer: Tz,
) -> String {
    let (Some(start), Some(end)) = (instant(start), instant(end)) else {
        return String::new();
    };
    let from = ru().instant(start, zone, None);
    let until = end.with_timezone(&zone);
    let mut text = format!("{from}–{}", ru().time(until.time()));
    if zone != viewer {
        text.push_str(", ");
        text.push_str(&ru().zone(zone, start));
    }
    text
}

/// The bookable hours, days with the same hours together:
/// «пн–пт 09:00–18:00; сб 10:00–14:00»; «в любое время» when unset.
fn hours_summary(hours: &[pb::WeeklyHours]) -> String {
    if hours.is_empty() {
        return t("resources-always");
    }
    let short = |n: u32| {
        chrono::NaiveDate::from_isoywd_opt(
            2030,
            10,
            series::weekday(n).unwrap_or(chrono::Weekday::Mon),
        )
        .map(|d| ru().weekday_short(d))
        .unwrap_or_default()
    };
    let mut days: Vec<(u32, String)> = (1..=7)
        .map(|n| {
            let spans: Vec<String> = hours
                .iter()
                .filter(|h| h.weekday == n)
                .map(|h| format!("{}–{}", h.opens, h.closes))
                .collect();
            (n, spans.join(", "))
        })
        .collect();
    days.retain(|(_, spans)| !spans.is_empty());
    let mut groups: Vec<(u32, u32, String)> = Vec::new();
    for (n, spans) in days {
        match groups.last_mut() {
            Some((_, last, same)) if *last + 1 == n && *same == spans => *last = n,
            _ => groups.push((n, n, spans)),
        }
    }
    groups
        .iter()
        .map(|(a, b, spans)| {
            let days = if a == b {
                short(*a)
            } else {
                format!("{}–{}", short(*a), short(*b))
            };
            format!("{days} {spans}")
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// An occurrence's state in Russian.
fn state_name(state: i32) -> String {
    named::<pb::OccurrenceState>(state)
}

/// A decision's note as the requester reads it: people's words as they
/// wrote them, the node's own notes in Russian.
fn note_text(note: &str) -> String {
    if note.starts_with("the time went to booking ") {
        t("note-time-taken")
    } else if note == "the hold expired" {
        t("note-hold-expired")
    } else {
        note.to_owned()
    }
}

/// An API refusal about booking, in Russian: a rule of the resource is
/// named and explained; anything else as the console says it elsewhere.
fn refusal(status: &tonic::Status) -> Problem {
    use tonic_types::StatusExt as _;
    let mut problem = russian(status);
    let details = status.get_error_details();
    if let Some(info) = details.error_info()
        && info.reason == "BOOKING_RULE"
        && let Some(rule) = info.metadata.get("rule")
    {
        let key = rule.replace('_', "-");
        let name = ru().text(&format!("booking-rule-{key}"));
        let mut message = ru().text_with("request-refused-rule", &[("rule", (&name).into())]);
        let explain = format!("rule-explain-{key}");
        if ru().has(&explain) {
            message.push(' ');
            message.push_str(&ru().text(&explain));
        }
        problem.message = message;
        if problem.field.is_none() {
            problem.field = field_of_rule(rule).map(str::to_owned);
        }
    }
    problem
}

/// The field of the request form a refused rule is about, to show the
/// refusal beside it.
fn field_of_rule(rule: &str) -> Option<&'static str> {
    Some(match rule {
        "access" | "agreement" | "quota" => "requester",
        "duration" | "min_duration" | "max_duration" => "end",
        "capacity" => "headcount",
        "bookable_hours" => "start",
        "blackout" | "min_notice" | "max_advance" => "date",
        "series_overlap" => "days",
        _ => return None,
    })
}

/// The occurrences of a listing grouped by booking, in order of their
/// first listed start.
fn by_booking(listed: Vec<pb::ListedOccurrence>) -> Vec<Vec<pb::ListedOccurrence>> {
    let mut groups: Vec<Vec<pb::ListedOccurrence>> = Vec::new();
    for occurrence in listed {
        match groups
            .iter_mut()
            .find(|g| g[0].booking_id == occurrence.booking_id)
        {
            Some(group) => group.push(occurrence),
            None => groups.push(vec![occurrence]),
        }
    }
    groups
}

/// How many lessons are in each state: «4 подтверждено · 2 ждут решения».
fn states_summary(states: impl Iterator<Item = i32>) -> String {
    let mut counts: Vec<(i32, usize)> = Vec::new();
    for state in states {
        match counts.iter_mut().find(|(s, _)| *s == state) {
            Some((_, n)) => *n += 1,
            None => counts.push((state, 1)),
        }
    }
    counts.sort();
    counts
        .iter()
        .map(|(state, n)| format!("{}: {n}", state_name(*state)))
        .collect::<Vec<_>>()
        .join(" · ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_read_as_a_timetable() {
        let day = |weekday: u32, opens: &str, closes: &str| pb::WeeklyHours {
            weekday,
            opens: opens.into(),
            closes: closes.into(),
        };
        let mut hours: Vec<pb::WeeklyHours> = (1..=5).map(|d| day(d, "09:00", "18:00")).collect();
        hours.push(day(6, "10:00", "14:00"));
        assert_eq!(hours_summary(&hours), "пн–пт 09:00–18:00; сб 10:00–14:00");
        assert_eq!(
            hours_summary(&[day(2, "09:00", "12:00"), day(4, "09:00", "12:00")]),
            "вт 09:00–12:00; чт 09:00–12:00"
        );
        assert_eq!(hours_summary(&[]), "в любое время");
    }

    #[test]
    fn the_node_s_notes_are_said_in_russian() {
        assert_eq!(note_text("Ждём вас"), "Ждём вас");
        assert!(!note_text("the time went to booking 1234").contains("booking"));
    }
}
