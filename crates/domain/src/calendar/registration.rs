//! Cohort registrations and the seat book: who gets a seat, who waits, and
//! who is promoted when seats free up. Pure functions; the store applies
//! them inside one serialized transaction per activity.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{GradeRange, SeatQuota};
use crate::error::FieldError;
use crate::ids::{ActivityId, OrgId, RegistrationId};
use crate::stable::string_enum;
use crate::text;

string_enum!(
    /// Where a registration stands.
    RegistrationState {
        /// Holds its seats.
        Confirmed = "confirmed",
        /// Waits, in arrival order, for seats.
        Waitlisted = "waitlisted",
        /// Withdrawn by the school; holds nothing.
        Withdrawn = "withdrawn",
    }
);

/// The largest group one registration may bring.
pub const MAX_HEADCOUNT: u32 = 1000;

/// A group of students, or of teachers, from one organization: no child's
/// personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cohort {
    /// The registering organization.
    pub org_id: OrgId,
    /// The students' grades, checked against the activity's audience;
    /// `None` for a group of teachers (for an activity for teachers).
    pub grades: Option<GradeRange>,
    /// People, 1 to [`MAX_HEADCOUNT`]: the seats the group takes.
    pub headcount: u32,
    /// The responsible teacher's name.
    pub teacher: String,
    /// The teacher's e-mail or phone.
    pub teacher_contact: Option<String>,
}

impl Cohort {
    /// Checks the cohort's own fields.
    pub fn validate(mut self) -> Result<Self, FieldError> {
        check_headcount(self.headcount)?;
        self.teacher = text::line("teacher", &self.teacher, 200)?;
        if let Some(contact) = &self.teacher_contact {
            self.teacher_contact = text::optional_line("teacher_contact", contact, 200)?;
        }
        Ok(self)
    }
}

/// A headcount within bounds.
pub fn check_headcount(headcount: u32) -> Result<(), FieldError> {
    if headcount == 0 || headcount > MAX_HEADCOUNT {
        return Err(FieldError::new(
            "headcount",
            format!("must be 1 to {MAX_HEADCOUNT}"),
        ));
    }
    Ok(())
}

/// How a cohort did, recorded by the publisher after the activity.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Results {
    /// Students who came.
    pub attended: u32,
    /// Of them, those who took part in the competition.
    pub participants: u32,
    /// Prize-winners (призёры).
    pub prize_winners: u32,
    /// Winners (победители).
    pub winners: u32,
}

impl Results {
    /// Consistent counts for a cohort of `headcount`.
    pub fn validate(self, headcount: u32) -> Result<Self, FieldError> {
        if self.attended > headcount {
            return Err(FieldError::new(
                "attended",
                "cannot exceed the registered headcount",
            ));
        }
        if self.participants > self.attended {
            return Err(FieldError::new(
                "participants",
                "cannot exceed those who attended",
            ));
        }
        if self.prize_winners + self.winners > self.participants {
            return Err(FieldError::new(
                "winners",
                "winners and prize-winners cannot exceed participants",
            ));
        }
        Ok(self)
    }
}

/// The start and end of what a registration covers (its occurrence, or the
/// whole series), cancelled occurrences aside.
fn span(
    registration: &Registration,
    occurrences: &[super::Occurrence],
) -> Option<(DateTime<Utc>, DateTime<Utc>)> {
    let covered: Vec<_> = occurrences
        .iter()
        .filter(|o| !o.cancelled && registration.occurrence.is_none_or(|k| k == o.key()))
        .collect();
    Some((
        covered.iter().map(|o| o.start).min()?,
        covered.iter().map(|o| o.end).max()?,
    ))
}

/// A registration may be withdrawn until what it covers is over; after
/// that it is the record of who came.
pub fn check_withdrawal(
    registration: &Registration,
    occurrences: &[super::Occurrence],
    now: DateTime<Utc>,
) -> Result<(), super::Error> {
    match span(registration, occurrences) {
        Some((_, end)) if end <= now => Err(super::Error::RegistrationRefused(
            "the activity is over; its registrations are kept as records".into(),
        )),
        _ => Ok(()),
    }
}

/// Results are recorded once what the registration covers has started;
/// winners and prize-winners only for competitions.
pub fn check_results(
    kind: super::ActivityKind,
    registration: &Registration,
    occurrences: &[super::Occurrence],
    results: &Results,
    now: DateTime<Utc>,
) -> Result<(), super::Error> {
    if !kind.has_results()
        && (results.participants, results.prize_winners, results.winners) != (0, 0, 0)
    {
        return Err(FieldError::new(
            "results",
            format!("a {kind} records attendance only; winners are for olympiads, contests, games and sport"),
        )
        .into());
    }
    match span(registration, occurrences) {
        Some((start, _)) if start <= now => Ok(()),
        _ => Err(super::Error::RegistrationRefused(
            "results are recorded after the activity has started".into(),
        )),
    }
}

/// A cohort's registration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Registration {
    pub id: RegistrationId,
    pub activity_id: ActivityId,
    /// One occurrence (its key), or the whole series when `None`.
    pub occurrence: Option<i64>,
    pub cohort: Cohort,
    /// The venue it holds seats at, for an activity held at several.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub venue: Option<u32>,
    pub state: RegistrationState,
    /// Arrival order within the activity.
    pub position: u64,
    /// Results, once the publisher records them.
    pub results: Option<Results>,
    /// Increases on every change.
    pub version: u64,
    /// By the node that keeps the activity.
    pub created_at: DateTime<Utc>,
    /// By the node that keeps the activity; equal to `created_at` until a
    /// change.
    pub updated_at: DateTime<Utc>,
}

impl Registration {
    /// Where a waiting registration stands in line among `all` of its
    /// activity: 1 for the first of those competing for the same seats
    /// (arrival order); `None` unless it waits.
    pub fn waitlist_place(&self, all: &[Registration]) -> Option<u32> {
        if self.state != RegistrationState::Waitlisted {
            return None;
        }
        let ahead = all
            .iter()
            .filter(|other| {
                other.state == RegistrationState::Waitlisted
                    && other.position < self.position
                    && overlaps(other.occurrence, self.occurrence)
            })
            .count();
        Some(u32::try_from(ahead).unwrap_or(u32::MAX).saturating_add(1))
    }
}

/// Whether two scopes compete for the same seats.
fn overlaps(a: Option<i64>, b: Option<i64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => a == b,
        _ => true,
    }
}

/// The seats of one activity: capacity and quotas per occurrence, and the
/// confirmed registrations holding them.
#[derive(Debug, Clone)]
pub struct SeatBook {
    capacity: Option<u32>,
    quotas: Vec<SeatQuota>,
    /// Each venue's number and seats, for an activity held at several.
    venues: Vec<(u32, Option<u32>)>,
    /// The keys of the occurrences still to take place.
    occurrences: Vec<i64>,
    confirmed: Vec<Registration>,
}

impl SeatBook {
    /// A book over the confirmed registrations among `registrations`.
    pub fn new(
        capacity: Option<u32>,
        quotas: Vec<SeatQuota>,
        occurrences: Vec<i64>,
        registrations: &[Registration],
    ) -> Self {
        Self {
            capacity,
            quotas,
            venues: Vec::new(),
            occurrences,
            confirmed: registrations
                .iter()
                .filter(|r| r.state == RegistrationState::Confirmed)
                .cloned()
                .collect(),
        }
    }

    /// The same book with seats counted at each venue too.
    pub fn with_venues(mut self, venues: Vec<(u32, Option<u32>)>) -> Self {
        self.venues = venues;
        self
    }

    /// Seats held at venue `venue` on occurrence `key`.
    pub fn taken_at(&self, key: i64, venue: u32) -> u32 {
        self.confirmed
            .iter()
            .filter(|r| r.venue == Some(venue))
            .filter(|r| r.occurrence.is_none_or(|k| k == key))
            .map(|r| r.cohort.headcount)
            .sum()
    }

    fn venue_capacity(&self, venue: Option<u32>) -> Option<u32> {
        venue.and_then(|v| {
            self.venues
                .iter()
                .find(|(n, _)| *n == v)
                .and_then(|(_, c)| *c)
        })
    }

    /// Whether a group of `headcount` could ever get seats at `venue`.
    pub fn could_ever_fit_at(
        &self,
        venue: Option<u32>,
        org: &OrgId,
        headcount: u32,
    ) -> Result<(), String> {
        if let Some(capacity) = self.venue_capacity(venue)
            && headcount > capacity
        {
            return Err(format!(
                "{headcount} people exceed the venue's {capacity} seats"
            ));
        }
        self.could_ever_fit(org, headcount)
    }

    /// Whether `headcount` more seats fit for `org` at `venue` on `scope`.
    pub fn fits_at(
        &self,
        scope: Option<i64>,
        venue: Option<u32>,
        org: &OrgId,
        headcount: u32,
    ) -> Result<(), Misfit> {
        self.fits(scope, org, headcount)?;
        let (Some(number), Some(capacity)) = (venue, self.venue_capacity(venue)) else {
            return Ok(());
        };
        let keys: Vec<i64> = match scope {
            Some(key) => vec![key],
            None => self.occurrences.clone(),
        };
        for key in keys {
            let taken = self.taken_at(key, number);
            if taken + headcount > capacity {
                return Err(Misfit::Capacity(format!(
                    "{headcount} seats exceed what is free at the venue: {taken} of {capacity} are taken"
                )));
            }
        }
        Ok(())
    }

    /// Seats held on occurrence `key`, in all or by one organization.
    pub fn taken(&self, key: i64, org: Option<&OrgId>) -> u32 {
        self.confirmed
            .iter()
            .filter(|r| r.occurrence.is_none_or(|k| k == key))
            .filter(|r| org.is_none_or(|o| &r.cohort.org_id == o))
            .map(|r| r.cohort.headcount)
            .sum()
    }

    /// Seats left on occurrence `key`; `None` when unlimited.
    pub fn free(&self, key: i64) -> Option<u32> {
        self.capacity
            .map(|c| c.saturating_sub(self.taken(key, None)))
    }

    /// Whether a group of `headcount` could ever get seats: not larger than
    /// the capacity or than its organization's quota. A group that never
    /// could is refused rather than queued, so it cannot hold up the queue.
    pub fn could_ever_fit(&self, org: &OrgId, headcount: u32) -> Result<(), String> {
        if let Some(capacity) = self.capacity
            && headcount > capacity
        {
            return Err(format!(
                "{headcount} people exceed the capacity of {capacity} seats"
            ));
        }
        if let Some(quota) = self.quota(org)
            && headcount > quota
        {
            return Err(format!(
                "{headcount} people exceed the organization's quota of {quota} seats"
            ));
        }
        Ok(())
    }

    fn quota(&self, org: &OrgId) -> Option<u32> {
        self.quotas
            .iter()
            .find(|q| &q.org_id == org)
            .map(|q| q.seats)
    }

    /// Whether `headcount` more seats fit for `org` on `scope`, or why not.
    pub fn fits(&self, scope: Option<i64>, org: &OrgId, headcount: u32) -> Result<(), Misfit> {
        let keys: Vec<i64> = match scope {
            Some(key) if self.occurrences.contains(&key) => vec![key],
            Some(_) => return Err(Misfit::Gone),
            None if self.occurrences.is_empty() => return Err(Misfit::Gone),
            None => self.occurrences.clone(),
        };
        let quota = self.quota(org);
        for key in keys {
            if let Some(capacity) = self.capacity {
                let taken = self.taken(key, None);
                if taken + headcount > capacity {
                    return Err(Misfit::Capacity(format!(
                        "{headcount} seats do not fit: {taken} of {capacity} are taken"
                    )));
                }
            }
            if let Some(quota) = quota {
                let taken = self.taken(key, Some(org));
                if taken + headcount > quota {
                    return Err(Misfit::Quota(format!(
                        "{headcount} seats exceed the organization's quota: {taken} of {quota} are taken"
                    )));
                }
            }
        }
        Ok(())
    }

    /// Whether a waiting registration holds up those behind it: only one
    /// that waits for seats everyone competes for (not for its own
    /// organization's quota, nor for an occurrence that is over).
    fn holds_up_queue(&self, waiting: &Registration) -> bool {
        matches!(
            self.fits(
                waiting.occurrence,
                &waiting.cohort.org_id,
                waiting.cohort.headcount
            ),
            Err(Misfit::Capacity(_))
        )
    }

    /// Where a new registration goes: a seat if it fits and nobody waits
    /// for the same seats before it, else the waitlist.
    pub fn place(
        &self,
        waiting: &[Registration],
        scope: Option<i64>,
        org: &OrgId,
        headcount: u32,
    ) -> RegistrationState {
        self.place_at(waiting, scope, None, org, headcount)
    }

    /// [`place`](Self::place) at a venue: those waiting at another venue
    /// do not hold it up.
    pub fn place_at(
        &self,
        waiting: &[Registration],
        scope: Option<i64>,
        venue: Option<u32>,
        org: &OrgId,
        headcount: u32,
    ) -> RegistrationState {
        let waiting: Vec<Registration> = waiting
            .iter()
            .filter(|r| venue.is_none() || r.venue == venue)
            .cloned()
            .collect();
        if !self.queue_ahead(&waiting, scope) && self.fits_at(scope, venue, org, headcount).is_ok()
        {
            RegistrationState::Confirmed
        } else {
            RegistrationState::Waitlisted
        }
    }

    /// Whether anyone waits, ahead of everyone, for seats that `scope` competes for.
    pub fn queue_ahead(&self, waiting: &[Registration], scope: Option<i64>) -> bool {
        waiting.iter().any(|r| {
            r.state == RegistrationState::Waitlisted
                && overlaps(r.occurrence, scope)
                && self.holds_up_queue(r)
        })
    }

    /// Holds a registration's seats in the book.
    pub fn confirm(&mut self, registration: Registration) {
        self.confirmed.push(Registration {
            state: RegistrationState::Confirmed,
            ..registration
        });
    }

    /// The waiting registrations to promote now, whole, in arrival order.
    /// A group waiting for seats keeps its place: nobody behind it who wants
    /// the same seats jumps ahead. A group held back by its own quota, or
    /// waiting for an occurrence that is over, holds up no one.
    pub fn promotions(&mut self, waiting: &[Registration]) -> Vec<RegistrationId> {
        let mut queue: Vec<&Registration> = waiting
            .iter()
            .filter(|r| r.state == RegistrationState::Waitlisted)
            .collect();
        queue.sort_by_key(|r| r.position);
        // A group waiting at one venue holds up only that venue's queue.
        let mut blocked: Vec<(Option<i64>, Option<u32>)> = Vec::new();
        let mut promoted = Vec::new();
        for registration in queue {
            if blocked.iter().any(|(b, venue)| {
                overlaps(*b, registration.occurrence) && *venue == registration.venue
            }) {
                continue;
            }
            match self.fits_at(
                registration.occurrence,
                registration.venue,
                &registration.cohort.org_id,
                registration.cohort.headcount,
            ) {
                Ok(()) => {
                    promoted.push(registration.id.clone());
                    self.confirm(registration.clone());
                }
                Err(Misfit::Capacity(_)) => {
                    blocked.push((registration.occurrence, registration.venue));
                }
                Err(Misfit::Quota(_) | Misfit::Gone) => {}
            }
        }
        promoted
    }
}

/// Why a group does not fit now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Misfit {
    /// Not enough seats left.
    Capacity(String),
    /// Its organization's quota is used up.
    Quota(String),
    /// The occurrence is over or cancelled.
    Gone,
}

impl std::fmt::Display for Misfit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Misfit::Capacity(why) | Misfit::Quota(why) => f.write_str(why),
            Misfit::Gone => f.write_str("the occurrence is over or cancelled"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registration(
        position: u64,
        org: &OrgId,
        headcount: u32,
        occurrence: Option<i64>,
        state: RegistrationState,
    ) -> Registration {
        Registration {
            id: RegistrationId::generate(),
            activity_id: ActivityId::generate(),
            occurrence,
            venue: None,
            cohort: Cohort {
                org_id: org.clone(),
                grades: Some(GradeRange::new("grades", 9, 9).unwrap()),
                headcount,
                teacher: "Учитель".into(),
                teacher_contact: None,
            },
            state,
            position,
            results: None,
            version: 1,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    #[test]
    fn each_venue_fills_and_promotes_its_own_queue() {
        let (a, b) = (OrgId::generate(), OrgId::generate());
        let at = |mut r: Registration, venue: u32| {
            r.venue = Some(venue);
            r
        };
        let mut regs = vec![at(
            registration(1, &a, 8, None, RegistrationState::Confirmed),
            1,
        )];
        let book = SeatBook::new(Some(20), vec![], vec![1], &regs)
            .with_venues(vec![(1, Some(10)), (2, Some(10))]);
        // Venue 1 has two seats left, venue 2 ten: the same group waits at
        // one and gets seats at the other.
        assert_eq!(
            book.place_at(&regs, None, Some(1), &b, 5),
            RegistrationState::Waitlisted
        );
        assert_eq!(
            book.place_at(&regs, None, Some(2), &b, 5),
            RegistrationState::Confirmed
        );
        assert!(book.could_ever_fit_at(Some(2), &b, 11).is_err());
        regs.push(at(
            registration(2, &b, 5, None, RegistrationState::Waitlisted),
            1,
        ));
        regs.push(at(
            registration(3, &b, 5, None, RegistrationState::Confirmed),
            2,
        ));
        // A group waiting at venue 1 holds up no one at venue 2.
        let book = SeatBook::new(Some(20), vec![], vec![1], &regs)
            .with_venues(vec![(1, Some(10)), (2, Some(10))]);
        assert_eq!(
            book.place_at(&regs, None, Some(2), &a, 5),
            RegistrationState::Confirmed
        );
        // The first group leaves venue 1: the one waiting there gets seats.
        regs[0].state = RegistrationState::Withdrawn;
        let mut book = SeatBook::new(Some(20), vec![], vec![1], &regs)
            .with_venues(vec![(1, Some(10)), (2, Some(10))]);
        assert_eq!(book.promotions(&regs), vec![regs[1].id.clone()]);
        assert_eq!(book.taken_at(1, 1), 5);
        assert_eq!(book.taken(1, None), 10);
    }

    #[test]
    fn seats_fill_then_the_queue_waits_in_order() {
        let school = OrgId::generate();
        let mut regs = Vec::new();
        let mut book = SeatBook::new(Some(45), vec![], vec![1], &regs);
        for i in 0..50 {
            let state = book.place(&regs, None, &school, 1);
            let r = registration(i, &school, 1, None, state);
            if state == RegistrationState::Confirmed {
                book.confirm(r.clone());
            }
            regs.push(r);
        }
        let confirmed = regs
            .iter()
            .filter(|r| r.state == RegistrationState::Confirmed)
            .count();
        assert_eq!(confirmed, 45);
        assert_eq!(book.free(1), Some(0));
        // One withdraws: the first waiting group is promoted.
        let withdrawn = regs
            .iter()
            .position(|r| r.state == RegistrationState::Confirmed)
            .unwrap();
        regs[withdrawn].state = RegistrationState::Withdrawn;
        let mut book = SeatBook::new(Some(45), vec![], vec![1], &regs);
        let promoted = book.promotions(&regs);
        assert_eq!(promoted, vec![regs[45].id.clone()]);
    }

    #[test]
    fn a_big_group_keeps_its_place_in_the_queue() {
        let school = OrgId::generate();
        let regs = vec![
            registration(1, &school, 40, None, RegistrationState::Confirmed),
            registration(2, &school, 10, None, RegistrationState::Waitlisted),
            registration(3, &school, 3, None, RegistrationState::Waitlisted),
        ];
        let mut book = SeatBook::new(Some(45), vec![], vec![1], &regs);
        assert!(
            book.promotions(&regs).is_empty(),
            "the 3 do not jump ahead of the 10"
        );
        assert_eq!(
            book.place(&regs, None, &school, 1),
            RegistrationState::Waitlisted
        );
    }

    #[test]
    fn quotas_cap_an_organization() {
        let a = OrgId::generate();
        let b = OrgId::generate();
        let quotas = vec![SeatQuota {
            org_id: a.clone(),
            seats: 10,
        }];
        let regs = vec![registration(1, &a, 8, None, RegistrationState::Confirmed)];
        let book = SeatBook::new(Some(45), quotas, vec![1], &regs);
        assert!(matches!(book.fits(None, &a, 3), Err(Misfit::Quota(_))));
        assert!(book.fits(None, &b, 30).is_ok());
    }

    #[test]
    fn a_group_waiting_on_its_own_quota_holds_up_no_one() {
        let a = OrgId::generate();
        let b = OrgId::generate();
        let quotas = vec![SeatQuota {
            org_id: a.clone(),
            seats: 10,
        }];
        let regs = vec![
            registration(1, &a, 10, None, RegistrationState::Confirmed),
            registration(2, &a, 5, None, RegistrationState::Waitlisted),
        ];
        let mut book = SeatBook::new(Some(45), quotas, vec![1], &regs);
        assert_eq!(
            book.place(&regs, None, &b, 20),
            RegistrationState::Confirmed
        );
        assert!(book.promotions(&regs).is_empty());
        assert!(book.could_ever_fit(&a, 11).is_err());
        assert!(book.could_ever_fit(&b, 46).is_err());
    }

    #[test]
    fn past_or_cancelled_occurrences_take_no_one() {
        let school = OrgId::generate();
        let regs = vec![registration(
            1,
            &school,
            5,
            Some(9),
            RegistrationState::Waitlisted,
        )];
        let mut book = SeatBook::new(Some(45), vec![], vec![1, 2], &regs);
        assert_eq!(book.fits(Some(9), &school, 1), Err(Misfit::Gone));
        assert!(
            book.promotions(&regs).is_empty(),
            "never promoted into an occurrence that is gone"
        );
        assert_eq!(
            book.place(&regs, None, &school, 1),
            RegistrationState::Confirmed,
            "and it holds up no one"
        );
    }

    #[test]
    fn series_seats_count_on_every_occurrence() {
        let school = OrgId::generate();
        let regs = vec![
            registration(1, &school, 10, Some(2), RegistrationState::Confirmed),
            registration(2, &school, 5, None, RegistrationState::Confirmed),
        ];
        let book = SeatBook::new(Some(15), vec![], vec![1, 2, 3], &regs);
        assert_eq!(
            (book.free(1), book.free(2), book.free(3)),
            (Some(10), Some(0), Some(10))
        );
        assert!(book.fits(None, &school, 1).is_err(), "occurrence 2 is full");
        assert!(book.fits(Some(3), &school, 10).is_ok());
    }

    #[test]
    fn results_must_add_up() {
        let ok = Results {
            attended: 10,
            participants: 10,
            prize_winners: 3,
            winners: 1,
        };
        assert!(ok.validate(12).is_ok());
        assert_eq!(
            Results { attended: 13, ..ok }
                .validate(12)
                .unwrap_err()
                .field,
            "attended"
        );
        assert_eq!(
            Results { winners: 8, ..ok }.validate(12).unwrap_err().field,
            "winners"
        );
    }
}
