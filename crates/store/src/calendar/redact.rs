//! People's names on the calendar's records replaced by their role: a
//! person's on their request (erasure), or every name on a record that is
//! over, past the retention. Each redaction is a new version of the
//! record, logged, so that peers' copies lose the name too.

use chrono::{DateTime, Utc};
use edufed_domain::calendar::Error;
use edufed_domain::changes::Actor;
use edufed_domain::ids::{ActivityId, RegistrationId};
use edufed_domain::privacy::{COORDINATOR, Subject, TEACHER};

use super::registrations::{registration_change, save_registration};
use super::rows::{load_activity, load_registration};
use super::{BindActivity as _, UPDATE_ACTIVITY, activity_change};
use crate::error::storage;
use crate::sql::{micros, signed};
use crate::tx::WriteTx;

/// Whose names go.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Whose<'a> {
    /// One person's: their name, and their e-mail as a contact.
    Of(&'a Subject),
    /// Everyone's (a record past the retention).
    Anyone,
}

impl Whose<'_> {
    fn name(self, name: &str, role: &str) -> bool {
        name != role
            && match self {
                Whose::Of(subject) => subject.named(name),
                Whose::Anyone => !name.trim().is_empty(),
            }
    }

    fn contact(self, contact: &str) -> bool {
        match self {
            Whose::Of(subject) => subject.reached_at(contact),
            Whose::Anyone => true,
        }
    }
}

/// Replaces the names `whose` selects on the activity `id` (its
/// coordinator, its venues' coordinators) by the role; whether any was.
pub(crate) async fn activity(
    tx: &mut WriteTx<'_>,
    id: &ActivityId,
    whose: Whose<'_>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    let current = load_activity(tx.conn(), id).await?;
    let mut next = current.clone();
    let mut changed = false;
    if let Some(c) = next.details.coordinator.as_mut() {
        let named = whose.name(&c.name, COORDINATOR);
        let reached = c.contact.as_deref().is_some_and(|k| whose.contact(k));
        if named || (reached && matches!(whose, Whose::Of(_))) {
            c.name = COORDINATOR.to_owned();
            c.contact = None;
            changed = true;
        } else if reached {
            c.contact = None;
            changed = true;
        }
    }
    for venue in &mut next.details.venues {
        if venue
            .coordinator
            .as_deref()
            .is_some_and(|name| whose.name(name, COORDINATOR))
        {
            venue.coordinator = Some(COORDINATOR.to_owned());
            changed = true;
        }
    }
    if !changed {
        return Ok(false);
    }
    next.version = current.version + 1;
    next.updated_at = now;
    sqlx::query(UPDATE_ACTIVITY)
        .bind_activity(&next)?
        .bind(signed(next.version))
        .bind(micros(next.updated_at))
        .bind(id.to_string())
        .execute(tx.conn())
        .await
        .map_err(storage)?;
    tx.append(activity_change(&next, actor)).await?;
    Ok(true)
}

/// Replaces the teacher's name and contact `whose` selects on the
/// registration `id` by the role; whether it did.
pub(crate) async fn registration(
    tx: &mut WriteTx<'_>,
    id: &RegistrationId,
    whose: Whose<'_>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<bool, Error> {
    let mut registration = load_registration(tx.conn(), id).await?;
    let cohort = &mut registration.cohort;
    let named = whose.name(&cohort.teacher, TEACHER);
    let reached = cohort
        .teacher_contact
        .as_deref()
        .is_some_and(|k| whose.contact(k));
    if !named && !reached {
        return Ok(false);
    }
    if named || matches!(whose, Whose::Of(_)) {
        cohort.teacher = TEACHER.to_owned();
    }
    cohort.teacher_contact = None;
    registration.version += 1;
    registration.updated_at = now;
    save_registration(tx, &registration).await?;
    let activity = load_activity(tx.conn(), &registration.activity_id).await?;
    tx.append(registration_change(&activity, &registration, actor))
        .await?;
    Ok(true)
}
