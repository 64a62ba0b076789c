//! Professional trials (профессиональные пробы): a host's programme of a
//! profession for pupils of some grades, reviewed before it enters the
//! network's bank. Only an approved trial is listed to schools; its
//! sessions are calendar activities of kind `professional_trial`.
//!
//! A trial's life: the host drafts it and submits it; a reviewer (the
//! methodical centre's admins and coordinators, or the operator) approves
//! it, returns it with comments, or refuses it. A returned trial is revised
//! (each revision numbered) and submitted again; revising an approved
//! trial takes it out of the bank until its revision is approved. The host
//! may withdraw a trial at any time but after a refusal.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::calendar::{Direction, GradeRange};
use crate::error::{ErrorCode, FieldError, ServiceError, StorageError};
use crate::ids::{OrgId, PersonId, TrialId};
use crate::stable::string_enum;
use crate::text;

string_enum!(
    /// Where a trial is in its review.
    TrialState {
        /// Being prepared by its host; only the host sees it.
        Draft = "draft",
        /// Waiting for a reviewer.
        Submitted = "submitted",
        /// Sent back with comments, to be revised.
        Returned = "returned",
        /// In the network's bank: listed to schools.
        Approved = "approved",
        /// Refused; it stays as it was, for the record.
        Refused = "refused",
        /// Taken back by its host.
        Withdrawn = "withdrawn",
    }
);

string_enum!(
    /// What a reviewer decides.
    ReviewDecision {
        /// Into the bank.
        Approve = "approve",
        /// Back to the host with comments, to revise.
        Return = "return",
        /// Out, with the reason.
        Refuse = "refuse",
    }
);

string_enum!(
    /// A step of a trial's life.
    TrialStep {
        /// Draft or returned → submitted.
        Submit = "submit",
        /// A new revision of the programme (draft, returned or approved).
        Revise = "revise",
        /// Submitted → approved, returned or refused.
        Review = "review",
        /// Any but refused → withdrawn.
        Withdraw = "withdraw",
    }
);

/// The longest a trial may run, in weeks (three months).
pub const MAX_WEEKS: u32 = 13;
/// The most hours a trial's programme may take.
pub const MAX_HOURS: u32 = 400;
/// The most workplaces one session offers.
pub const MAX_WORKPLACES: u32 = 500;

/// The person who answers for a trial at its host (named publicly).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Responsible {
    pub name: String,
    pub position: Option<String>,
    /// An e-mail or a phone, as written.
    pub contact: Option<String>,
}

/// What a host offers: the programme a reviewer reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrialProgramme {
    /// The profession or field, e.g. «инженер-конструктор».
    pub profession: String,
    pub direction: Option<Direction>,
    pub goals: String,
    /// What the pupils do, session by session.
    pub content: String,
    /// Hours in all, 1 to [`MAX_HOURS`].
    pub hours: u32,
    /// How long it runs, 1 to [`MAX_WEEKS`] weeks.
    pub weeks: u32,
    pub grades: GradeRange,
    /// Pupils one session takes, 1 to [`MAX_WORKPLACES`].
    pub workplaces: u32,
    pub responsible: Responsible,
    /// Safety requirements (clothing, briefing, age limits).
    pub safety: String,
}

impl TrialProgramme {
    /// Checks the fields and their bounds, naming the one at fault.
    pub fn validate(mut self) -> Result<Self, FieldError> {
        self.profession = text::line("profession", &self.profession, 200)?;
        self.goals = text::paragraph("goals", &self.goals, 4_000)?;
        self.content = text::paragraph("content", &self.content, 10_000)?;
        if self.content.is_empty() {
            return Err(FieldError::new("content", "is required"));
        }
        self.safety = text::paragraph("safety", &self.safety, 4_000)?;
        for (field, value, max) in [
            ("hours", self.hours, MAX_HOURS),
            ("weeks", self.weeks, MAX_WEEKS),
            ("workplaces", self.workplaces, MAX_WORKPLACES),
        ] {
            if value == 0 || value > max {
                return Err(FieldError::new(field, format!("must be 1 to {max}")));
            }
        }
        self.responsible.name = text::line("responsible.name", &self.responsible.name, 200)?;
        if let Some(position) = &self.responsible.position {
            self.responsible.position = text::optional_line("responsible.position", position, 200)?;
        }
        if let Some(contact) = &self.responsible.contact {
            self.responsible.contact = text::optional_line("responsible.contact", contact, 200)?;
        }
        Ok(self)
    }
}

/// A reviewer's decision on one revision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    /// The revision decided on.
    pub revision: u32,
    pub decision: ReviewDecision,
    /// Required to return or refuse.
    pub comment: String,
    pub by: PersonId,
    pub at: DateTime<Utc>,
}

/// A trial as stored on its host's node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Trial {
    pub id: TrialId,
    pub host: OrgId,
    pub programme: TrialProgramme,
    pub state: TrialState,
    /// The programme's revision, from 1; each revision after the first is
    /// made on a returned (or approved) trial.
    pub revision: u32,
    /// Reviews, oldest first.
    pub reviews: Vec<Review>,
    /// Increases on every change.
    pub version: u64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Why a trial operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Invalid(#[from] FieldError),
    #[error("professional trial {0} not found")]
    NotFound(String),
    /// The trial's state does not allow the step.
    #[error("the trial is {trial_state}, so it cannot {trial_step}")]
    WrongState {
        trial_state: TrialState,
        trial_step: TrialStep,
    },
    /// The trial changed since the version the caller saw.
    #[error("professional trial {id} is at version {actual}, not the expected {expected}")]
    Version {
        id: TrialId,
        expected: u64,
        actual: u64,
    },
    #[error(transparent)]
    Denied(#[from] crate::policy::Denied),
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl ServiceError for Error {
    fn error_code(&self) -> ErrorCode {
        match self {
            Error::Invalid(_) => ErrorCode::InvalidArgument,
            Error::NotFound(_) => ErrorCode::NotFound,
            Error::WrongState { .. } | Error::Version { .. } => ErrorCode::FailedPrecondition,
            Error::Denied(_) => ErrorCode::PermissionDenied,
            Error::Storage(e) => e.error_code(),
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            Error::Invalid(e) => Some(&e.field),
            _ => None,
        }
    }
}

impl Trial {
    /// A new draft of `host`.
    pub fn draft(
        id: TrialId,
        host: OrgId,
        programme: TrialProgramme,
        at: DateTime<Utc>,
    ) -> Result<Self, FieldError> {
        Ok(Trial {
            id,
            host,
            programme: programme.validate()?,
            state: TrialState::Draft,
            revision: 1,
            reviews: Vec::new(),
            version: 1,
            created_at: at,
            updated_at: at,
        })
    }

    /// Whether schools see it in the bank.
    pub fn listed(&self) -> bool {
        self.state == TrialState::Approved
    }

    /// The latest review, if any.
    pub fn last_review(&self) -> Option<&Review> {
        self.reviews.last()
    }

    fn refuse(&self, step: TrialStep) -> Error {
        Error::WrongState {
            trial_state: self.state,
            trial_step: step,
        }
    }

    /// Checks the caller's version, when given.
    pub fn at_version(&self, expected: Option<u64>) -> Result<(), Error> {
        match expected {
            Some(expected) if expected != self.version => Err(Error::Version {
                id: self.id.clone(),
                expected,
                actual: self.version,
            }),
            _ => Ok(()),
        }
    }

    fn stepped(mut self, at: DateTime<Utc>) -> Self {
        self.version += 1;
        self.updated_at = at;
        self
    }

    /// The host submits it for review.
    pub fn submit(&self, at: DateTime<Utc>) -> Result<Self, Error> {
        if !matches!(self.state, TrialState::Draft | TrialState::Returned) {
            return Err(self.refuse(TrialStep::Submit));
        }
        let mut next = self.clone();
        next.state = TrialState::Submitted;
        Ok(next.stepped(at))
    }

    /// The host replaces the programme. A draft stays a draft (the same
    /// revision); a returned or approved trial gets a new revision, and an
    /// approved one goes back to review, out of the bank until approved.
    pub fn revise(&self, programme: TrialProgramme, at: DateTime<Utc>) -> Result<Self, Error> {
        let programme = programme.validate()?;
        let mut next = self.clone();
        match self.state {
            TrialState::Draft => {}
            TrialState::Returned => next.revision += 1,
            TrialState::Approved => {
                next.revision += 1;
                next.state = TrialState::Submitted;
            }
            _ => return Err(self.refuse(TrialStep::Revise)),
        }
        next.programme = programme;
        Ok(next.stepped(at))
    }

    /// A reviewer decides on the submitted revision; returning or refusing
    /// says why.
    pub fn reviewed(
        &self,
        decision: ReviewDecision,
        comment: &str,
        by: PersonId,
        at: DateTime<Utc>,
    ) -> Result<Self, Error> {
        if self.state != TrialState::Submitted {
            return Err(self.refuse(TrialStep::Review));
        }
        let comment = text::paragraph("comment", comment, 4_000)?;
        if comment.is_empty() && decision != ReviewDecision::Approve {
            return Err(FieldError::new(
                "comment",
                "says what to change, or why the trial is refused",
            )
            .into());
        }
        let mut next = self.clone();
        next.state = match decision {
            ReviewDecision::Approve => TrialState::Approved,
            ReviewDecision::Return => TrialState::Returned,
            ReviewDecision::Refuse => TrialState::Refused,
        };
        next.reviews.push(Review {
            revision: self.revision,
            decision,
            comment,
            by,
            at,
        });
        Ok(next.stepped(at))
    }

    /// The host takes it back.
    pub fn withdrawn(&self, at: DateTime<Utc>) -> Result<Self, Error> {
        if matches!(self.state, TrialState::Refused | TrialState::Withdrawn) {
            return Err(self.refuse(TrialStep::Withdraw));
        }
        let mut next = self.clone();
        next.state = TrialState::Withdrawn;
        Ok(next.stepped(at))
    }
}

#[cfg(test)]
mod tests;
