//! The calendar's decisions on registrations, taken on an activity as the
//! store found it under its lock: whether a cohort may register and where
//! it goes (a seat or the waitlist), and who may withdraw, resize or record
//! results. The store reads, calls these, and writes in one transaction.

use chrono::{DateTime, Utc};

use super::registration::{
    Cohort, Registration, RegistrationState, Results, SeatBook, check_headcount, check_results,
    check_withdrawal,
};
use super::{Activity, ActivityStatus, Error, Occurrence, Viewer, Visibility};
use crate::FieldError;
use crate::agreement::Agreement;
use crate::ids::{ActivityId, OrgId};
use crate::policy::{Action, Principal, Target, authorize};
use crate::time::local_label;

/// A new activity, for a publisher the caller was authorized to publish for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Publish {
    pub publisher: OrgId,
    /// What it is, when and for whom.
    pub details: super::ActivityDetails,
    /// Published at once, or kept as a draft.
    pub status: ActivityStatus,
}

impl Activity {
    /// Whether `caller` may change the activity: its publisher's admins and
    /// coordinators. Someone who may not even see it is told it does not
    /// exist.
    pub fn managed_by(&self, caller: &Principal) -> Result<(), Error> {
        if !Viewer::of(Some(caller)).can_see(self) {
            return Err(Error::ActivityNotFound(self.id.to_string()));
        }
        Ok(authorize(
            caller,
            Action::ManageActivities,
            Target::Organization(&self.publisher),
        )?)
    }
}

/// A cohort's registration as the school asks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Register {
    pub activity: ActivityId,
    /// One occurrence, by its original start (as a key), or the series.
    pub occurrence: Option<i64>,
    /// The group; the caller was authorized to register for its organization.
    pub cohort: Cohort,
    /// The venue, for an activity held at several (required there).
    pub venue: Option<u32>,
}

/// A registration's new headcount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Headcount(pub u32);

/// An activity and its registrations as a decision on its seats reads them.
#[derive(Debug)]
pub struct Seats<'a> {
    pub activity: &'a Activity,
    /// Its occurrences, expanded with its overrides.
    pub occurrences: &'a [Occurrence],
    /// Its registrations, in arrival order.
    pub registrations: &'a [Registration],
    /// Who holds which seats.
    pub book: SeatBook,
    /// The time of the decision.
    pub now: DateTime<Utc>,
}

impl<'a> Seats<'a> {
    /// The seats of `activity` at `now`: its upcoming occurrences' capacity
    /// and quotas, and the registrations holding them.
    pub fn new(
        activity: &'a Activity,
        occurrences: &'a [Occurrence],
        registrations: &'a [Registration],
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            activity,
            occurrences,
            registrations,
            book: seat_book(activity, occurrences, registrations, now),
            now,
        }
    }

    /// When registration for `scope` closes: the window's close, or the
    /// occurrence's start (a series: its last start).
    pub fn closes(&self, scope: Option<i64>) -> DateTime<Utc> {
        let start = self
            .occurrences
            .iter()
            .filter(|o| !o.cancelled && scope.is_none_or(|k| k == o.key()))
            .map(|o| o.start)
            .max()
            .unwrap_or(self.now);
        self.activity
            .details
            .registration
            .closes_at
            .map_or(start, |c| c.min(start))
    }

    /// Decides a new registration by `viewer`: the activity is one they see
    /// and takes registrations now (published, its window open, for
    /// students of the cohort's grades, open to its organization), and the
    /// group could ever fit. A seat if it fits and nobody waits ahead of
    /// it, else the waitlist.
    pub fn admit(&self, register: &Register, viewer: &Viewer) -> Result<RegistrationState, Error> {
        let activity = self.activity;
        let now = self.now;
        if !viewer.can_see(activity) {
            return Err(Error::ActivityNotFound(activity.id.to_string()));
        }
        if activity.status != ActivityStatus::Published {
            return Err(Error::WrongStatus {
                id: activity.id.clone(),
                status: activity.status,
                why: "only published activities take registrations",
            });
        }
        let closes = match register.occurrence {
            Some(key) => {
                let found = self
                    .occurrences
                    .iter()
                    .find(|o| o.key() == key)
                    .ok_or_else(|| {
                        FieldError::new("occurrence_start", "is not an occurrence of this activity")
                    })?;
                if found.cancelled {
                    return Err(Error::RegistrationClosed(
                        "that occurrence is cancelled".into(),
                    ));
                }
                found.start
            }
            None => self
                .occurrences
                .iter()
                .filter(|o| !o.cancelled)
                .map(|o| o.start)
                .max()
                .unwrap_or(now),
        };
        let window = activity.details.registration;
        let zone = activity.details.schedule.time_zone;
        if let Some(opens) = window.opens_at.filter(|opens| now < *opens) {
            return Err(Error::RegistrationClosed(format!(
                "it opens at {}",
                local_label(opens, zone)
            )));
        }
        let closes = window.closes_at.map_or(closes, |c| c.min(closes));
        if now >= closes {
            return Err(Error::RegistrationClosed(format!(
                "it closed at {}",
                local_label(closes, zone)
            )));
        }
        let cohort = &register.cohort;
        match (cohort.grades, activity.details.audience.students) {
            (None, _) if !activity.details.audience.teachers => {
                return Err(Error::RegistrationRefused(
                    "this activity is not for teachers; register a group of students".into(),
                ));
            }
            (None, _) => {}
            (Some(_), None) => {
                return Err(Error::RegistrationRefused(
                    "this activity is not for students; cohorts are groups of students".into(),
                ));
            }
            (Some(cohort_grades), Some(grades)) if !grades.overlaps(cohort_grades) => {
                return Err(Error::RegistrationRefused(format!(
                    "grades {}–{} are outside the activity's {}–{}",
                    cohort_grades.min, cohort_grades.max, grades.min, grades.max
                )));
            }
            (Some(_), Some(_)) => {}
        }
        if activity.details.visibility == Visibility::Organization
            && cohort.org_id != activity.publisher
        {
            return Err(Error::RegistrationRefused(
                "this activity is for the publisher's own students".into(),
            ));
        }
        let venues = &activity.details.venues;
        match register.venue {
            None if !venues.is_empty() => {
                return Err(FieldError::new(
                    "venue",
                    "is required: the activity is held at several venues",
                )
                .into());
            }
            Some(n) if super::venues::find(venues, n).is_none() => {
                return Err(
                    FieldError::new("venue", format!("the activity has no venue {n}")).into(),
                );
            }
            _ => {}
        }
        self.book
            .could_ever_fit_at(register.venue, &cohort.org_id, cohort.headcount)
            .map_err(Error::RegistrationRefused)?;
        Ok(self.book.place_at(
            self.registrations,
            register.occurrence,
            register.venue,
            &cohort.org_id,
            cohort.headcount,
        ))
    }

    /// Withdraws `registration` for `caller`: the school withdraws its own,
    /// the publisher any, until what it covers is over.
    pub fn withdraw(
        &self,
        registration: &mut Registration,
        caller: &Principal,
    ) -> Result<(), Error> {
        if authorize(
            caller,
            Action::RegisterCohorts,
            Target::Organization(&registration.cohort.org_id),
        )
        .is_err()
        {
            authorize(
                caller,
                Action::ManageActivities,
                Target::Organization(&self.activity.publisher),
            )?;
        }
        check_withdrawal(registration, self.occurrences, self.now)?;
        if registration.state == RegistrationState::Withdrawn {
            return Err(Error::RegistrationRefused(format!(
                "registration {} is already withdrawn",
                registration.id
            )));
        }
        registration.state = RegistrationState::Withdrawn;
        Ok(())
    }

    /// Changes the school's group size: a confirmed group grows only into
    /// free seats, and not past groups already waiting for them; a smaller
    /// one frees seats for the waitlist.
    pub fn change_headcount(
        &self,
        registration: &mut Registration,
        Headcount(headcount): Headcount,
        caller: &Principal,
    ) -> Result<(), Error> {
        authorize(
            caller,
            Action::RegisterCohorts,
            Target::Organization(&registration.cohort.org_id),
        )?;
        check_headcount(headcount)?;
        let id = &registration.id;
        if registration.state == RegistrationState::Withdrawn {
            return Err(Error::RegistrationRefused(format!(
                "registration {id} is withdrawn"
            )));
        }
        if self.now >= self.closes(registration.occurrence) {
            return Err(Error::RegistrationClosed(
                "headcounts are fixed once registration closes".into(),
            ));
        }
        if let Some(results) = registration.results
            && headcount < results.attended
        {
            return Err(Error::RegistrationRefused(format!(
                "{} students attended; the headcount cannot be lower",
                results.attended
            )));
        }
        let org = registration.cohort.org_id.clone();
        self.book
            .could_ever_fit_at(registration.venue, &org, headcount)
            .map_err(Error::RegistrationRefused)?;
        let current = registration.cohort.headcount;
        if registration.state == RegistrationState::Confirmed && headcount > current {
            let others: Vec<Registration> = self
                .registrations
                .iter()
                .filter(|r| r.id != registration.id)
                .cloned()
                .collect();
            if self.book.queue_ahead(&others, registration.occurrence) {
                return Err(Error::RegistrationRefused(
                    "other groups are waiting for seats; the group cannot grow past them".into(),
                ));
            }
            self.book
                .fits_at(
                    registration.occurrence,
                    registration.venue,
                    &org,
                    headcount - current,
                )
                .map_err(|m| Error::RegistrationRefused(m.to_string()))?;
        }
        registration.cohort.headcount = headcount;
        Ok(())
    }

    /// Records a cohort's attendance and results, for the publisher, once
    /// what it registered for has started.
    pub fn record_results(
        &self,
        registration: &mut Registration,
        results: Results,
        caller: &Principal,
    ) -> Result<(), Error> {
        authorize(
            caller,
            Action::ManageActivities,
            Target::Organization(&self.activity.publisher),
        )?;
        check_results(
            self.activity.details.kind,
            registration,
            self.occurrences,
            &results,
            self.now,
        )?;
        if registration.state != RegistrationState::Confirmed {
            return Err(Error::RegistrationRefused(format!(
                "registration {} is {}; results go to confirmed registrations",
                registration.id, registration.state
            )));
        }
        registration.results = Some(results.validate(registration.cohort.headcount)?);
        Ok(())
    }
}

/// The seat book of `activity` at `at`: its upcoming occurrences' seats.
pub fn seat_book(
    activity: &Activity,
    occurrences: &[Occurrence],
    registrations: &[Registration],
    at: DateTime<Utc>,
) -> SeatBook {
    let upcoming = occurrences
        .iter()
        .filter(|o| !o.cancelled && o.end > at)
        .map(Occurrence::key)
        .collect();
    SeatBook::new(
        activity.details.capacity,
        activity.details.quotas.clone(),
        upcoming,
        registrations,
    )
    .with_venues(
        activity
            .details
            .venues
            .iter()
            .map(|v| (v.number, v.capacity))
            .collect(),
    )
}

/// An activity may deliver an agreement that its publisher is a party to,
/// kept on this node; anything else is refused alike, so that only its
/// parties learn an agreement exists.
pub fn check_delivers(
    agreement: Option<&Agreement>,
    id: &crate::ids::AgreementId,
    publisher: &OrgId,
) -> Result<(), Error> {
    match agreement {
        Some(agreement) if agreement.involves(publisher) => Ok(()),
        _ => Err(FieldError::new(
            "details.agreement_id",
            format!("agreement {id} is not on this node"),
        )
        .into()),
    }
}
