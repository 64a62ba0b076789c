//! The decisions on a pair: its state machine, and what each step records.

use chrono::{DateTime, NaiveDate, Utc};

use super::{Error, Outcome, Pair, PairState};
use crate::error::FieldError;
use crate::stable::string_enum;
use crate::text;

string_enum!(
    /// A step of a pair's life.
    Transition as PairTransition {
        /// Planned → active: the pair starts meeting.
        Started = "started",
        /// Active → completed, with its outcome.
        Completed = "completed",
        /// Planned or active → ended early, with a reason.
        EndedEarly = "ended_early",
        /// Assessed at a checkpoint (active or completed).
        Assessed = "assessed",
    }
);

/// How a pair is brought to its end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Close {
    /// At its term, with the outcome.
    Complete { on: NaiveDate, outcome: Outcome },
    /// Before its term: why, and the outcome so far if there is one.
    EndEarly {
        on: NaiveDate,
        reason: String,
        outcome: Option<Outcome>,
    },
}

impl Close {
    /// Checks the texts.
    pub fn validate(self) -> Result<Self, FieldError> {
        Ok(match self {
            Close::Complete { on, outcome } => Close::Complete {
                on,
                outcome: outcome.validate("outcome")?,
            },
            Close::EndEarly {
                on,
                reason,
                outcome,
            } => Close::EndEarly {
                on,
                reason: text::line("reason", &reason, super::MAX_TITLE)?,
                outcome: outcome.map(|o| o.validate("outcome")).transpose()?,
            },
        })
    }
}

impl Pair {
    /// Whether the pair may take `step` now.
    pub fn check(&self, step: Transition) -> Result<(), Error> {
        let allowed = match step {
            Transition::Started => self.state == PairState::Planned,
            Transition::Completed => self.state == PairState::Active,
            Transition::EndedEarly => {
                matches!(self.state, PairState::Planned | PairState::Active)
            }
            Transition::Assessed => {
                matches!(self.state, PairState::Active | PairState::Completed)
            }
        };
        if allowed {
            Ok(())
        } else {
            Err(Error::WrongState {
                pair_state: self.state,
                pair_transition: step,
            })
        }
    }

    /// The pair started meeting on `on`.
    pub fn start(mut self, on: NaiveDate, at: DateTime<Utc>) -> Result<Self, Error> {
        self.check(Transition::Started)?;
        self.state = PairState::Active;
        self.starts_on = on;
        Ok(self.touched(at))
    }

    /// The pair came to its end.
    pub fn close(mut self, close: Close, at: DateTime<Utc>) -> Result<Self, Error> {
        match close {
            Close::Complete { on, outcome } => {
                self.check(Transition::Completed)?;
                self.check_end(on)?;
                self.state = PairState::Completed;
                self.ends_on = Some(on);
                self.outcome = Some(outcome);
            }
            Close::EndEarly {
                on,
                reason,
                outcome,
            } => {
                self.check(Transition::EndedEarly)?;
                self.check_end(on)?;
                self.state = PairState::EndedEarly;
                self.ends_on = Some(on);
                self.reason = Some(reason);
                self.outcome = outcome;
            }
        }
        Ok(self.touched(at))
    }

    /// One more checkpoint assessed.
    pub fn assessed(mut self, at: DateTime<Utc>) -> Result<Self, Error> {
        self.check(Transition::Assessed)?;
        self.assessments += 1;
        Ok(self.touched(at))
    }

    fn check_end(&self, on: NaiveDate) -> Result<(), Error> {
        if on < self.starts_on {
            return Err(FieldError::new("on", "must not come before the pair's start").into());
        }
        Ok(())
    }

    fn touched(mut self, at: DateTime<Utc>) -> Self {
        self.version += 1;
        self.updated_at = at;
        self
    }
}
