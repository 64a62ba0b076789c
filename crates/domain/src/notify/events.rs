//! What a change to a record means for the organizations it concerns,
//! decided from the record before and after the change.

use chrono::{DateTime, Utc};

use super::{Event, Kind};
use crate::booking::{BookedOccurrence, Booking, OccurrenceState};
use crate::calendar::registration::{Registration, RegistrationState};
use crate::calendar::{Activity, ActivityStatus};
use crate::ids::OrgId;

/// What a registration's change means: for the school that registered
/// and for the activity's `publisher`. `before` is the registration as the
/// log last had it (`None` when it is new).
pub fn registration_events(
    before: Option<&Registration>,
    after: &Registration,
    publisher: &OrgId,
) -> Vec<Event> {
    use RegistrationState::{Confirmed, Waitlisted, Withdrawn};
    let school = &after.cohort.org_id;
    let was = before.map(|r| r.state);
    let mut events = Vec::new();
    match (was, after.state) {
        (None, Confirmed) => {
            events.push(Event::about(Kind::RegistrationConfirmed, school, publisher));
            events.push(Event::about(Kind::RegistrationReceived, publisher, school));
        }
        (None, Waitlisted) => {
            events.push(Event::about(
                Kind::RegistrationWaitlisted,
                school,
                publisher,
            ));
            events.push(Event::about(Kind::RegistrationReceived, publisher, school));
        }
        (Some(Waitlisted), Confirmed) => {
            events.push(Event::about(Kind::RegistrationPromoted, school, publisher));
        }
        (Some(Confirmed), Waitlisted) => {
            // A larger group no longer fits: it waits again.
            events.push(Event::about(
                Kind::RegistrationWaitlisted,
                school,
                publisher,
            ));
        }
        (Some(Confirmed | Waitlisted), Withdrawn) => {
            events.push(Event::about(Kind::RegistrationWithdrawn, publisher, school));
        }
        _ => {}
    }
    events
}

/// What a booking's change means: for the organization that booked and
/// for the resource's `owner`. `before` are the booking's occurrences as
/// the log last had them (`None` when the booking is new).
pub fn booking_events(
    before: Option<&[BookedOccurrence]>,
    booking: &Booking,
    after: &[BookedOccurrence],
    owner: &OrgId,
) -> Vec<Event> {
    let was = |start: DateTime<Utc>| {
        before.and_then(|b| b.iter().find(|o| o.start == start).map(|o| o.state))
    };
    let mut requested = Vec::new();
    let mut approved = Vec::new();
    let mut rejected = Vec::new();
    let mut cancelled = Vec::new();
    let mut comment = None;
    for occurrence in after {
        let previous = was(occurrence.start);
        if previous == Some(occurrence.state) {
            continue;
        }
        let decided = |into: &mut Vec<DateTime<Utc>>, comment: &mut Option<String>| {
            into.push(occurrence.start);
            if comment.is_none() {
                comment.clone_from(&occurrence.note);
            }
        };
        match (previous, occurrence.state) {
            (None, OccurrenceState::Pending) => requested.push(occurrence.start),
            (
                Some(OccurrenceState::Pending | OccurrenceState::Held),
                OccurrenceState::Confirmed,
            ) => {
                decided(&mut approved, &mut comment);
            }
            (Some(OccurrenceState::Pending | OccurrenceState::Held), OccurrenceState::Rejected) => {
                decided(&mut rejected, &mut comment)
            }
            (Some(OccurrenceState::Confirmed), OccurrenceState::Cancelled) => {
                decided(&mut cancelled, &mut comment);
            }
            _ => {}
        }
    }
    let requester = &booking.requester_org;
    let mut events = Vec::new();
    let mut push = |kind: Kind, org: &OrgId, starts: Vec<DateTime<Utc>>| {
        if !starts.is_empty() {
            let counterpart = if org == owner { requester } else { owner };
            events.push(Event {
                kind,
                org: org.clone(),
                counterpart: counterpart.clone(),
                starts,
                comment: if kind == Kind::BookingRequested {
                    None
                } else {
                    comment.clone()
                },
            });
        }
    };
    push(Kind::BookingRequested, owner, requested);
    push(Kind::BookingApproved, requester, approved);
    push(Kind::BookingRejected, requester, rejected);
    // Both sides hear of a cancellation; the notifier leaves out the
    // person who made it.
    push(Kind::BookingCancelled, requester, cancelled.clone());
    push(Kind::BookingCancelled, owner, cancelled);
    events
}

/// What an activity's change means for the schools registered for it:
/// lessons cancelled (one, or all to come when the activity is) and
/// lessons moved. `registered` are the schools' registrations, each for
/// one occurrence (its key) or the whole series; `now` leaves out lessons
/// already past.
pub fn activity_events(
    before: &Activity,
    after: &Activity,
    registered: &[(OrgId, Option<i64>)],
    now: DateTime<Utc>,
) -> Vec<Event> {
    let (Ok(old), Ok(new)) = (before.occurrences(), after.occurrences()) else {
        return Vec::new();
    };
    let called_off =
        after.status == ActivityStatus::Cancelled && before.status != ActivityStatus::Cancelled;
    let mut cancelled = Vec::new();
    let mut moved = Vec::new();
    for occurrence in new.iter().filter(|o| o.end > now) {
        let was = old
            .iter()
            .find(|o| o.original_start == occurrence.original_start);
        let Some(was) = was else { continue };
        if !was.cancelled && (occurrence.cancelled || called_off) {
            cancelled.push((occurrence.key(), was.start));
        } else if !occurrence.cancelled && occurrence.start != was.start {
            moved.push((occurrence.key(), occurrence.start));
        }
    }
    let mut schools: Vec<&OrgId> = registered.iter().map(|(org, _)| org).collect();
    schools.sort();
    schools.dedup();
    let mut events = Vec::new();
    for school in schools {
        let concerns = |key: i64| {
            registered
                .iter()
                .any(|(org, occurrence)| org == school && occurrence.is_none_or(|k| k == key))
        };
        for (kind, lessons) in [
            (Kind::OccurrenceCancelled, &cancelled),
            (Kind::OccurrenceMoved, &moved),
        ] {
            let starts: Vec<_> = lessons
                .iter()
                .filter(|(key, _)| concerns(*key))
                .map(|(_, at)| *at)
                .collect();
            if !starts.is_empty() {
                events.push(Event {
                    kind,
                    org: school.clone(),
                    counterpart: after.publisher.clone(),
                    starts,
                    comment: None,
                });
            }
        }
    }
    events
}

/// What the change log says of an agreement's step: what was done, by
/// whom, and where its versions stand after it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
pub struct AgreementNews {
    /// The step: `proposed`, `signed`, `declined`, `amendment_proposed`,
    /// `termination_notice`, `terminated`…
    pub action: String,
    /// The party that took the step, if a party did.
    #[serde(default)]
    pub by: Option<OrgId>,
    /// Every party of the version the step concerns.
    pub parties: Vec<OrgId>,
    pub in_force_version: Option<u32>,
    pub awaiting_version: Option<u32>,
    /// A party's reason (declining, terminating).
    #[serde(default)]
    pub comment: Option<String>,
}

/// What an agreement's step means for its parties' admins: a proposal or
/// amendment to sign, every signature in (in force or amended), a refusal,
/// a termination. `was_in_force` is the version in force before the step.
pub fn agreement_events(was_in_force: Option<u32>, news: &AgreementNews) -> Vec<Event> {
    let kind = match news.action.as_str() {
        "proposed" | "amendment_proposed" => Some(Kind::AgreementAwaitingSignature),
        "signed" if news.awaiting_version.is_none() && news.in_force_version.is_some() => {
            match was_in_force {
                Some(old) if Some(old) != news.in_force_version => Some(Kind::AgreementAmended),
                Some(_) => None,
                None => Some(Kind::AgreementSigned),
            }
        }
        "declined" => Some(Kind::AgreementDeclined),
        "termination_notice" | "terminated" if news.by.is_some() => Some(Kind::AgreementTerminated),
        _ => None,
    };
    let Some(kind) = kind else {
        return Vec::new();
    };
    let Some(counterpart) = news.by.clone().or_else(|| news.parties.first().cloned()) else {
        return Vec::new();
    };
    news.parties
        .iter()
        .filter(|party| {
            // The party that declined or terminated knows.
            !(matches!(kind, Kind::AgreementDeclined | Kind::AgreementTerminated)
                && news.by.as_ref() == Some(*party))
        })
        .map(|party| Event {
            kind,
            org: party.clone(),
            counterpart: counterpart.clone(),
            starts: Vec::new(),
            comment: news.comment.clone().filter(|c| !c.trim().is_empty()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn org(slug: &str) -> OrgId {
        OrgId::from_stored(slug.into())
    }

    fn news(
        action: &str,
        by: Option<&str>,
        in_force: Option<u32>,
        awaiting: Option<u32>,
    ) -> AgreementNews {
        AgreementNews {
            action: action.into(),
            by: by.map(org),
            parties: vec![org("school"), org("park")],
            in_force_version: in_force,
            awaiting_version: awaiting,
            comment: Some("Нет подписи главбуха".into()),
        }
    }

    fn kinds(events: &[Event]) -> Vec<(Kind, String)> {
        events.iter().map(|e| (e.kind, e.org.to_string())).collect()
    }

    #[test]
    fn an_agreements_steps_are_news_for_its_parties() {
        let awaiting = agreement_events(None, &news("proposed", Some("school"), None, Some(1)));
        assert_eq!(
            kinds(&awaiting),
            [
                (Kind::AgreementAwaitingSignature, "school".into()),
                (Kind::AgreementAwaitingSignature, "park".into())
            ]
        );
        // One signature of two: nothing yet; the last one: in force.
        assert!(agreement_events(None, &news("signed", Some("park"), None, Some(1))).is_empty());
        let signed = agreement_events(None, &news("signed", Some("school"), Some(1), None));
        assert_eq!(signed.len(), 2);
        assert!(signed.iter().all(|e| e.kind == Kind::AgreementSigned));
        // An amendment signed by all: amended, not signed anew.
        let amended = agreement_events(Some(1), &news("signed", Some("park"), Some(2), None));
        assert!(amended.iter().all(|e| e.kind == Kind::AgreementAmended));
        // A refusal and a termination go to the others, with the reason.
        let declined = agreement_events(None, &news("declined", Some("park"), None, None));
        assert_eq!(
            kinds(&declined),
            [(Kind::AgreementDeclined, "school".into())]
        );
        assert_eq!(declined[0].comment.as_deref(), Some("Нет подписи главбуха"));
        let ended = agreement_events(
            Some(1),
            &news("termination_notice", Some("school"), Some(1), None),
        );
        assert_eq!(kinds(&ended), [(Kind::AgreementTerminated, "park".into())]);
        // Time ending it is not a party's news here: the expiry warnings are.
        assert!(agreement_events(Some(1), &news("terminated", None, None, None)).is_empty());
        assert!(agreement_events(None, &news("updated", Some("school"), None, None)).is_empty());
    }
}
