//! A booking request and the decisions taken on it. The store locks and
//! reads what they need (the resource, the requester's partners, the
//! agreement, the hours already used under it) inside the write
//! transaction and calls them there, so a request is decided on the state
//! it commits against.

use std::collections::BTreeSet;

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{
    Access, BookedOccurrence, Booking, CancelScope, Error, Initial, Interval, Resource, Rule,
    check_series,
};
use crate::agreement::Agreement;
use crate::agreement::quota::{self, Used};
use crate::calendar::schedule::{Recurrence, Schedule};
use crate::ids::{ActivityId, AgreementId, BookingId, OrgId, ResourceId};
use crate::time::local_label;

/// The longest hold, in seconds: a day.
pub const MAX_HOLD_SECONDS: u32 = 86_400;

/// A booking request as the requester states it: times are local to the
/// resource's zone, which the decision reads with the resource.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The resource asked for.
    pub resource: ResourceId,
    /// The organization asking; the caller was authorized to book for it.
    pub requester: OrgId,
    /// The first occurrence's local start.
    pub start: NaiveDateTime,
    /// The first occurrence's local end.
    pub end: NaiveDateTime,
    /// How it repeats, if it does (RRULE and local EXDATEs).
    pub recurrence: Option<Recurrence>,
    /// What it is for, shown to the owner.
    pub purpose: String,
    /// How many people come (at least 1).
    pub headcount: u32,
    /// The activity the booking serves, if any.
    pub activity: Option<ActivityId>,
    /// The agreement the booking goes under, if any.
    pub agreement: Option<AgreementId>,
    /// Hold the time tentatively for this long instead of booking it.
    pub hold: Option<Duration>,
    /// Book the free occurrences and report the others, instead of all or nothing.
    pub skip_conflicts: bool,
}

/// What a request is decided on, read under the locks of its transaction.
#[derive(Debug, Clone, Copy)]
pub struct Grounds<'a> {
    /// The resource as locked by the request's transaction.
    pub resource: &'a Resource,
    /// The organizations sharing an agreement in force with the requester,
    /// when [`Request::needs_partners`] says they matter; empty otherwise.
    pub partners: &'a BTreeSet<OrgId>,
    /// The agreement named by the request, if it is one the requester is
    /// party to ([`Request::agreement`] names one it is not: refused before).
    pub agreement: Option<&'a Agreement>,
    /// The time of the decision.
    pub now: DateTime<Utc>,
}

/// A request admitted: the times of its occurrences and how they start out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Admitted {
    /// Each occurrence's start and end, in order.
    pub times: Vec<Interval>,
    /// Confirmed, pending the owner's approval, or held.
    pub initial: Initial,
}

impl Request {
    /// Whether the decision reads the requester's agreement partners: only
    /// for a resource open to its owner's partners, asked for by another
    /// organization.
    pub fn needs_partners(&self, resource: &Resource) -> bool {
        resource.details.access == Access::AgreementPartners && self.requester != resource.owner
    }

    /// Decides the request: the requester may use the resource, every
    /// occurrence keeps the resource's rules, and how the occurrences start
    /// out (the approval policy, an agreement in force, a hold). Whether
    /// the time is free is for the store to find, occurrence by occurrence.
    pub fn admit(&self, grounds: &Grounds<'_>) -> Result<Admitted, Error> {
        let resource = grounds.resource;
        if !resource.open_to(&self.requester, grounds.partners) {
            return Err(Error::rule(
                Rule::Access,
                format!(
                    "{} is open to {} only",
                    resource.details.name,
                    match resource.details.access {
                        Access::OwnOrganization => "its own organization",
                        Access::AgreementPartners => "its owner's agreement partners",
                        Access::Network => "the network",
                    }
                ),
            ));
        }
        let schedule = Schedule {
            time_zone: resource.details.time_zone,
            start: self.start,
            end: self.end,
            all_day: false,
            recurrence: self.recurrence.clone(),
        }
        .validate()
        .map_err(|e| crate::FieldError::new(e.field.replace("schedule.", ""), e.reason))?;
        let times: Vec<Interval> = schedule
            .expand(&[])?
            .iter()
            .map(|o| (o.start, o.end))
            .collect();
        let (from, to) = span(&times, grounds.now);
        let blackouts = resource.blackouts_between(from, to)?;
        for (start, end) in &times {
            resource.check(*start, *end, self.headcount, grounds.now, &blackouts)?;
        }
        check_series(
            &times,
            resource.blocked_until(grounds.now) - grounds.now,
            resource.details.time_zone,
        )?;
        let under_agreement = grounds.agreement.is_some_and(|a| {
            a.in_force().is_some_and(|v| {
                v.content.is_party(&self.requester) && v.content.is_party(&resource.owner)
            })
        });
        let decided = resource.initial_for(&self.requester, under_agreement);
        let initial = match self.hold {
            None => decided,
            // A hold blocks time like a booking: only where the request
            // would be confirmed anyway, never to jump an approval.
            Some(hold) if decided == Initial::Confirmed => Initial::Held(grounds.now + hold),
            Some(_) => {
                return Err(Error::rule(
                    Rule::Approval,
                    "this resource needs its owner's approval; request the booking instead of holding it",
                ));
            }
        };
        Ok(Admitted { times, initial })
    }
}

/// The earliest start and latest end of some intervals (`now` when none).
pub fn span(times: &[Interval], now: DateTime<Utc>) -> Interval {
    let start = times.iter().map(|t| t.0).min().unwrap_or(now);
    let end = times.iter().map(|t| t.1).max().unwrap_or(start);
    (start, end)
}

/// The refusal of an agreement a booking names but its requester is not
/// party to, or that is not on this node: the same answer, so that only
/// its parties learn an agreement exists.
pub fn unknown_agreement(id: &AgreementId) -> Error {
    Error::Invalid(crate::FieldError::new(
        "agreement_id",
        format!("agreement {id} is not on this node"),
    ))
}

/// A booking of `resource` for `requester` under `agreement`, for the
/// occurrences `times`: the agreement must be in force over each of them
/// and both the requester and the owner parties to it; with `used` (the
/// hours already booked under it, on a new request) they must also fit
/// the hours the owner pledged.
pub fn check_agreement(
    agreement: &Agreement,
    requester: &OrgId,
    resource: &Resource,
    times: &[Interval],
    used: Option<&[Used]>,
) -> Result<(), Error> {
    let id = &agreement.id;
    if !agreement.involves(requester) {
        return Err(unknown_agreement(id));
    }
    let Some(version) = agreement
        .in_force()
        .filter(|_| agreement.lifecycle.ends_at().is_some())
    else {
        return Err(Error::rule(
            Rule::Agreement,
            format!(
                "agreement {id} is {}; bookings go under an agreement in force",
                agreement.lifecycle.state()
            ),
        ));
    };
    let content = &version.content;
    let label = content
        .number
        .clone()
        .unwrap_or_else(|| format!("«{}»", content.title));
    let zone = resource.details.time_zone;
    for (start, end) in times {
        let last = *end - Duration::microseconds(1);
        if !agreement.lifecycle.in_force_at(*start) || !agreement.lifecycle.in_force_at(last) {
            return Err(Error::rule(
                Rule::Agreement,
                format!(
                    "{} – {} is outside the term of agreement {label} ({} – {})",
                    local_label(*start, zone),
                    local_label(*end, zone),
                    content.valid_from,
                    content.valid_to
                ),
            ));
        }
    }
    for (org, what) in [
        (requester, "the requesting organization"),
        (&resource.owner, "the resource's owner"),
    ] {
        if !content.is_party(org) {
            return Err(Error::rule(
                Rule::Agreement,
                format!("{what} {org} is not a party to agreement {label}"),
            ));
        }
    }
    match used {
        Some(used) => quota::check(
            content,
            &label,
            agreement.time_zone,
            &resource.owner,
            &resource.id,
            used,
            times,
        ),
        None => Ok(()),
    }
}

/// New settings for a resource, by its owner.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpdateResource {
    pub id: ResourceId,
    /// The version the owner read; the change is refused if it moved on.
    pub expected_version: Option<u64>,
    /// Replace the resource's whole settings; blackouts are kept.
    pub details: super::ResourceDetails,
    /// Keep the zone the resource has (the request named none).
    pub keep_zone: bool,
}

/// The owner's verdict on a booking's pending or held occurrences.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Confirm them; overlapping pending requests are rejected.
    Approve {
        /// A word to the requester, kept as the occurrences' note; may be empty.
        comment: String,
    },
    /// Reject them, saying why.
    Reject {
        /// Why, shown to the requester.
        comment: String,
    },
}

/// The owner decides on a booking: one occurrence, or every one waiting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decide {
    pub booking: BookingId,
    /// The occurrence, by its start; every pending or held one when `None`.
    pub occurrence: Option<DateTime<Utc>>,
    pub verdict: Verdict,
}

/// The requester or the owner cancels occurrences of a booking.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cancel {
    pub booking: BookingId,
    pub scope: CancelScope,
    /// Why, shown to the other side.
    pub comment: String,
}

/// A booking with its occurrences, as a change left it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Booked {
    pub booking: Booking,
    /// Its occurrences, in order.
    pub occurrences: Vec<BookedOccurrence>,
}
