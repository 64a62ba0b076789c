//! Cohort registrations: each decision runs under the activity's lock, on
//! the seats as they stand, and the waitlist is promoted in the same
//! transaction.

use edufed_domain::StorageError;
use edufed_domain::calendar::decide::{Headcount, Register, Seats, seat_book};
use edufed_domain::calendar::registration::{Registration, RegistrationState, Results};
use edufed_domain::calendar::{Activity, ActivityStatus, Error, Viewer};
use edufed_domain::changes::{Actor, EntityKind, NewChange};
use edufed_domain::federation::Idempotency;
use edufed_domain::ids::{ActivityId, OrgId, RegistrationId};
use edufed_domain::policy::Principal;

use super::rows::{load_activity, load_registration, load_registrations};
use super::{SeatsOf, SeatsPayload, is_shared, occurrence_seats, set_seats};
use crate::Store;
use crate::error::{Constraint, on, storage};
use crate::sql::{micros, signed, to_json, unsigned};
use crate::tx::{Locked, WriteTx};

impl Store {
    /// Registers a cohort for one occurrence or the whole series, for
    /// `caller`, who was authorized to register for the cohort's
    /// organization: decided on the activity and its seats under the
    /// activity's lock. A forwarded write's `key` makes a retry get this
    /// answer instead of a second registration.
    #[tracing::instrument(name = "store.calendar.register", skip_all, fields(activity = %register.activity))]
    pub async fn register(
        &self,
        register: Register,
        caller: &Principal,
        key: Option<&Idempotency>,
    ) -> Result<Registration, Error> {
        let mut tx = self.write_tx().await?;
        if let Some(answered) = tx.claim::<_, Error>(key).await? {
            return tx.replay(answered).await;
        }
        let at = tx.now();
        let activity_id = &register.activity;
        tx.lock(Locked::Activities, activity_id.as_str()).await?;
        let activity = load_activity(tx.conn(), activity_id).await?;
        let occurrences = activity.occurrences()?;
        let registrations = load_registrations(tx.conn(), activity_id).await?;
        let state = Seats::new(&activity, &occurrences, &registrations, at)
            .admit(&register, &Viewer::of(Some(caller)))?;
        let position: i64 = sqlx::query_scalar(
            "UPDATE activities SET next_position = next_position + 1 WHERE id = $1 RETURNING next_position - 1",
        )
        .bind(activity_id.to_string())
        .fetch_one(tx.conn())
        .await
        .map_err(storage)?;
        let registration = Registration {
            id: RegistrationId::generate(),
            activity_id: activity_id.clone(),
            occurrence: register.occurrence,
            venue: register.venue,
            cohort: register.cohort,
            state,
            position: unsigned(position)?,
            results: None,
            version: 1,
            created_at: at,
            updated_at: at,
        };
        sqlx::query(
            "INSERT INTO registrations (id, activity_id, occurrence_key, org_id, state, position, \
             headcount, cohort, results, version, created_at, updated_at, venue) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, 1, $9, $10, $11)",
        )
        .bind(registration.id.to_string())
        .bind(activity_id.to_string())
        .bind(registration.occurrence)
        .bind(registration.cohort.org_id.to_string())
        .bind(state.as_str())
        .bind(position)
        .bind(i64::from(registration.cohort.headcount))
        .bind(to_json(&registration.cohort)?)
        .bind(micros(at))
        .bind(micros(at))
        .bind(registration.venue.map(i64::from))
        .execute(tx.conn())
        .await
        .map_err(on(Constraint::RegistrationOrganization, || {
            Error::OrganizationNotFound(registration.cohort.org_id.to_string())
        }))?;
        let actor = caller.actor();
        tx.append(registration_change(&activity, &registration, &actor))
            .await?;
        self.rebalance(&mut tx, &activity, &actor, true).await?;
        tx.commit_with(&registration).await?;
        Ok(registration)
    }

    /// Withdraws a registration, for its school or the publisher; its seats
    /// go to the waitlist in order.
    #[tracing::instrument(name = "store.calendar.withdraw", skip(self, caller, key))]
    pub async fn withdraw(
        &self,
        id: &RegistrationId,
        caller: &Principal,
        key: Option<&Idempotency>,
    ) -> Result<Registration, Error> {
        self.change_registration(id, caller, key, |registration, seats| {
            seats.withdraw(registration, caller)
        })
        .await
    }

    /// Changes a registration's headcount, for its school: a confirmed group
    /// grows only into free seats; a smaller one frees seats for the waitlist.
    #[tracing::instrument(name = "store.calendar.headcount", skip(self, caller, key))]
    pub async fn change_headcount(
        &self,
        id: &RegistrationId,
        headcount: Headcount,
        caller: &Principal,
        key: Option<&Idempotency>,
    ) -> Result<Registration, Error> {
        self.change_registration(id, caller, key, |registration, seats| {
            seats.change_headcount(registration, headcount, caller)
        })
        .await
    }

    /// Records a cohort's attendance and results, for the publisher, after
    /// the activity has started.
    #[tracing::instrument(name = "store.calendar.results", skip(self, results, caller))]
    pub async fn record_results(
        &self,
        id: &RegistrationId,
        results: Results,
        caller: &Principal,
    ) -> Result<Registration, Error> {
        self.change_registration(id, caller, None, |registration, seats| {
            seats.record_results(registration, results, caller)
        })
        .await
    }

    /// A registration and the activity it is for.
    pub async fn get_registration(
        &self,
        id: &RegistrationId,
    ) -> Result<(Registration, Activity), Error> {
        let mut conn = self.reader().acquire().await.map_err(storage)?;
        let registration = load_registration(&mut conn, id).await?;
        let activity = load_activity(&mut conn, &registration.activity_id).await?;
        Ok((registration, activity))
    }

    /// An activity's registrations in arrival order, each waiting one with
    /// its place in line; only those of `orgs` when given.
    pub async fn list_registrations(
        &self,
        activity: &ActivityId,
        orgs: Option<&[OrgId]>,
    ) -> Result<Vec<(Registration, Option<u32>)>, Error> {
        let mut conn = self.reader().acquire().await.map_err(storage)?;
        let own: bool =
            sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM activities WHERE id = $1")
                .bind(activity.to_string())
                .fetch_one(&mut *conn)
                .await
                .map_err(storage)?
                > 0;
        if !own {
            // A peer's activity: the registrations of this node's own
            // organizations, as the home node sent them. Their places in
            // line are the home node's to tell.
            let mirrored = super::mirror::mirrored_registrations(&mut conn, activity).await?;
            return Ok(mirrored
                .into_iter()
                .filter(|r| orgs.is_none_or(|orgs| orgs.contains(&r.cohort.org_id)))
                .map(|r| (r, None))
                .collect());
        }
        let all = load_registrations(&mut conn, activity).await?;
        Ok(all
            .iter()
            .filter(|r| orgs.is_none_or(|orgs| orgs.contains(&r.cohort.org_id)))
            .map(|r| (r.clone(), r.waitlist_place(&all)))
            .collect())
    }

    /// Changes one registration with `change`, decided on the activity's
    /// seats under its lock, then promotes the waitlist.
    async fn change_registration(
        &self,
        id: &RegistrationId,
        caller: &Principal,
        key: Option<&Idempotency>,
        change: impl FnOnce(&mut Registration, &Seats<'_>) -> Result<(), Error>,
    ) -> Result<Registration, Error> {
        let mut tx = self.write_tx().await?;
        if let Some(answered) = tx.claim::<_, Error>(key).await? {
            return tx.replay(answered).await;
        }
        let at = tx.now();
        let activity_id = load_registration(tx.conn(), id).await?.activity_id;
        tx.lock(Locked::Activities, activity_id.as_str()).await?;
        let mut registration = load_registration(tx.conn(), id).await?;
        let activity = load_activity(tx.conn(), &activity_id).await?;
        let occurrences = activity.occurrences()?;
        let registrations = load_registrations(tx.conn(), &activity_id).await?;
        change(
            &mut registration,
            &Seats::new(&activity, &occurrences, &registrations, at),
        )?;
        registration.version += 1;
        registration.updated_at = at;
        save_registration(&mut tx, &registration).await?;
        let actor = caller.actor();
        tx.append(registration_change(&activity, &registration, &actor))
            .await?;
        self.rebalance(&mut tx, &activity, &actor, false).await?;
        tx.commit_with(&registration).await?;
        Ok(registration)
    }

    /// Promotes waiting registrations that now fit, in arrival order, and
    /// brings the stored seat counts up to date; a new registration
    /// (`registered`) always logs the seat counts, if only the waitlist grew.
    pub(super) async fn rebalance(
        &self,
        tx: &mut WriteTx<'_>,
        activity: &Activity,
        actor: &Actor,
        registered: bool,
    ) -> Result<(), Error> {
        let at = tx.now();
        let occurrences = activity.occurrences()?;
        let mut registrations = load_registrations(tx.conn(), &activity.id).await?;
        let mut book = seat_book(activity, &occurrences, &registrations, at);
        let promoted = if activity.status == ActivityStatus::Published {
            book.promotions(&registrations)
        } else {
            Vec::new()
        };
        for registration in registrations
            .iter_mut()
            .filter(|r| promoted.contains(&r.id))
        {
            registration.state = RegistrationState::Confirmed;
            registration.version += 1;
            registration.updated_at = at;
            save_registration(tx, registration).await?;
            tx.append(registration_change(activity, registration, actor))
                .await?;
        }
        let stored = occurrence_seats(tx.conn(), &activity.id).await?;
        let mut changed = !promoted.is_empty() || registered;
        for occurrence in &occurrences {
            let taken = book.taken(occurrence.key(), None);
            let before = stored
                .iter()
                .find(|(k, _)| *k == occurrence.key())
                .map_or(0, |(_, t)| *t);
            if taken != before {
                set_seats(tx, &activity.id, occurrence.key(), taken).await?;
                changed = true;
            }
        }
        if changed {
            let version: i64 = sqlx::query_scalar(
                "UPDATE activities SET seats_version = seats_version + 1 WHERE id = $1 RETURNING seats_version",
            )
            .bind(activity.id.to_string())
            .fetch_one(tx.conn())
            .await
            .map_err(storage)?;
            let waitlisted = registrations
                .iter()
                .filter(|r| r.state == RegistrationState::Waitlisted)
                .count();
            let payload = SeatsPayload {
                activity_id: &activity.id,
                capacity: activity.details.capacity,
                occurrences: occurrences
                    .iter()
                    .filter(|o| o.end > at)
                    .take(100)
                    .map(|o| SeatsOf {
                        start: o.start,
                        taken: book.taken(o.key(), None),
                    })
                    .collect(),
                waitlisted: u32::try_from(waitlisted).unwrap_or(u32::MAX),
            };
            tx.append(
                NewChange::upsert(
                    EntityKind::ActivitySeats,
                    activity.id.to_string(),
                    unsigned(version)?,
                    Some(activity.publisher.clone()),
                    &payload,
                    actor,
                )
                .shared(is_shared(activity)),
            )
            .await?;
        }
        Ok(())
    }
}

pub(super) fn registration_change(
    activity: &Activity,
    registration: &Registration,
    actor: &Actor,
) -> NewChange {
    NewChange::upsert(
        EntityKind::Registration,
        registration.id.to_string(),
        registration.version,
        Some(activity.publisher.clone()),
        registration,
        actor,
    )
    .also_for(registration.cohort.org_id.clone())
}

pub(super) async fn save_registration(
    tx: &mut WriteTx<'_>,
    registration: &Registration,
) -> Result<(), StorageError> {
    sqlx::query(
        "UPDATE registrations SET state = $1, headcount = $2, cohort = $3, results = $4, version = $5, \
         updated_at = $6 WHERE id = $7",
    )
    .bind(registration.state.as_str())
    .bind(i64::from(registration.cohort.headcount))
    .bind(to_json(&registration.cohort)?)
    .bind(registration.results.as_ref().map(to_json).transpose()?)
    .bind(signed(registration.version))
    .bind(micros(registration.updated_at))
    .bind(registration.id.to_string())
    .execute(tx.conn())
    .await
    .map_err(storage)?;
    Ok(())
}
