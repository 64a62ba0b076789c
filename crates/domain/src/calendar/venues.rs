//! An activity held at several venues at once: an olympiad's stage at
//! several base sites («Звезда» at МГМЛ and other schools). Each venue has
//! its own place, seats and coordinator; a cohort registers at one, its
//! seats counted there; the activity's capacity is the venues' together,
//! and lists, feeds and reports roll the venues up to the activity.

use serde::{Deserialize, Serialize};

use super::MAX_CAPACITY;
use crate::error::FieldError;
use crate::ids::OrgId;
use crate::text;

/// The most venues one activity has.
pub const MAX_VENUES: usize = 50;

/// One venue of an activity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Venue {
    /// From 1, stable: registrations name their venue by it.
    pub number: u32,
    /// The organization that hosts it (a base site), when one of the network.
    pub org: Option<OrgId>,
    /// Where, as people find it.
    pub place: String,
    /// Seats per occurrence; unlimited when unset.
    pub capacity: Option<u32>,
    /// Who answers for it there (name and contact, as written).
    pub coordinator: Option<String>,
}

/// Checks an activity's venues, numbering new ones (number 0) after the
/// highest; a number used twice is refused.
pub fn validate(mut venues: Vec<Venue>) -> Result<Vec<Venue>, FieldError> {
    if venues.len() > MAX_VENUES {
        return Err(FieldError::new("venues", format!("at most {MAX_VENUES}")));
    }
    let mut next = venues.iter().map(|v| v.number).max().unwrap_or(0);
    let mut seen = Vec::new();
    for (i, venue) in venues.iter_mut().enumerate() {
        let at = |name: &str| format!("venues[{i}].{name}");
        if venue.number == 0 {
            next += 1;
            venue.number = next;
        }
        if seen.contains(&venue.number) {
            return Err(FieldError::new(
                at("number"),
                format!("venue {} is listed twice", venue.number),
            ));
        }
        seen.push(venue.number);
        venue.place = text::line(&at("place"), &venue.place, 500)?;
        if let Some(capacity) = venue.capacity
            && (capacity == 0 || capacity > MAX_CAPACITY)
        {
            return Err(FieldError::new(
                at("capacity"),
                format!("must be 1 to {MAX_CAPACITY} seats"),
            ));
        }
        if let Some(coordinator) = &venue.coordinator {
            venue.coordinator = text::optional_line(&at("coordinator"), coordinator, 200)?;
        }
    }
    Ok(venues)
}

/// The activity's capacity: the venues' seats together, or unlimited when
/// one is.
pub fn total_capacity(venues: &[Venue]) -> Option<u32> {
    venues.iter().map(|v| v.capacity).sum()
}

/// The venue numbered `number` of `venues`.
pub fn find(venues: &[Venue], number: u32) -> Option<&Venue> {
    venues.iter().find(|v| v.number == number)
}
