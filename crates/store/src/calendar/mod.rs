//! The calendar's repository: activities with their materialized
//! occurrences (`occurrences`, and `mirror_occurrences` for peers'), and
//! registrations with the seat book applied in one transaction per change.

mod mirror;
pub(crate) mod redact;
mod registrations;
mod rows;
mod search;

use chrono::{DateTime, Duration, Utc};
use edufed_domain::StorageError;
use edufed_domain::calendar::decide::{Publish, check_delivers, seat_book};
use edufed_domain::calendar::registration::RegistrationState;
use edufed_domain::calendar::{Activity, ActivityStatus, Error, Occurrence, Visibility};
use edufed_domain::changes::{Actor, EntityKind, NewChange};
use edufed_domain::ids::{ActivityId, AgreementId};
use edufed_domain::policy::Principal;
use edufed_domain::time::local_label;
use serde::Serialize;
use sqlx::AnyConnection;

pub(crate) use self::mirror::{forget_mirrored_activity, mirror_activity, mirror_seats};
use self::rows::{load_activity, load_registrations};
use crate::Store;
use crate::error::{Constraint, on, storage};
use crate::sql::{instant, micros, signed, to_json};
use crate::tx::{Locked, WriteTx};

pub(super) const ACTIVITY_COLUMNS: &str = "a.id, a.publisher_id, a.status, a.details, a.overrides, a.version, \
                                a.created_at, a.updated_at";

/// An activity with its occurrences and the seats held on each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityWithSeats {
    pub activity: Activity,
    /// Its occurrences, each with the seats held.
    pub occurrences: Vec<(Occurrence, u32)>,
    /// Registrations waiting for seats.
    pub waitlisted: u32,
}

#[derive(Serialize)]
pub(super) struct SeatsPayload<'a> {
    pub(super) activity_id: &'a ActivityId,
    pub(super) capacity: Option<u32>,
    pub(super) occurrences: Vec<SeatsOf>,
    pub(super) waitlisted: u32,
}

#[derive(Serialize)]
pub(super) struct SeatsOf {
    pub(super) start: DateTime<Utc>,
    pub(super) taken: u32,
}

impl Store {
    /// Stores a new activity and its occurrences, for `caller`, who was
    /// authorized to publish for its publisher. An activity that delivers an
    /// agreement is checked against the agreement as it stands now.
    #[tracing::instrument(name = "store.calendar.publish", skip_all, fields(publisher = %publish.publisher))]
    pub async fn publish_activity(
        &self,
        publish: Publish,
        caller: &Principal,
    ) -> Result<Activity, Error> {
        let Publish {
            publisher,
            details,
            status,
        } = publish;
        let publisher = &publisher;
        let mut tx = self.write_tx().await?;
        let at = tx.now();
        if let Some(id) = &details.agreement_id {
            let id = AgreementId::from_stored(id.clone());
            let agreement = crate::agreement::find(tx.conn(), &id).await?;
            check_delivers(agreement.as_ref(), &id, publisher)?;
        }
        let details = crate::mentoring::linked(tx.conn(), publisher, details).await?;
        crate::trials::check_session(tx.conn(), publisher, details.trial.as_ref()).await?;
        let activity = Activity {
            id: ActivityId::generate(),
            publisher: publisher.clone(),
            details,
            overrides: Vec::new(),
            status,
            version: 1,
            created_at: at,
            updated_at: at,
        };
        let occurrences = activity.occurrences()?;
        sqlx::query(
            "INSERT INTO activities (id, publisher_id, kind, direction, format, visibility, status, \
             grade_min, grade_max, subjects_key, agreement_id, capacity, search_text, details, overrides, \
             partners_key, programme_id, pair_id, trial_id, version, seats_version, next_position, \
             created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, \
             $20, 0, 1, $21, $22)",
        )
        .bind(activity.id.to_string())
        .bind(publisher.to_string())
        .bind_activity(&activity)?
        .bind(signed(activity.version))
        .bind(micros(at))
        .bind(micros(at))
        .execute(tx.conn())
        .await
        .map_err(on(Constraint::ActivityPublisher, || {
            Error::OrganizationNotFound(publisher.to_string())
        }))?;
        insert_occurrences(&mut tx, &activity.id, &occurrences).await?;
        tx.append(activity_change(&activity, &caller.actor()))
            .await?;
        tx.commit().await?;
        Ok(activity)
    }

    /// An activity with its occurrences and seats.
    #[tracing::instrument(name = "store.calendar.get", skip(self))]
    pub async fn get_activity(&self, id: &ActivityId) -> Result<ActivityWithSeats, Error> {
        let mut conn = self.reader().acquire().await.map_err(storage)?;
        // A peer's activity is answered from its mirror, with the seats its
        // home node last reported; how many wait there only the home knows.
        let (activity, seats, waitlisted) = match load_activity(&mut conn, id).await {
            Ok(activity) => {
                let seats = occurrence_seats(&mut conn, id).await?;
                let waitlisted: i64 = sqlx::query_scalar(
                    "SELECT COUNT(*) FROM registrations WHERE activity_id = $1 AND state = $2",
                )
                .bind(id.to_string())
                .bind(RegistrationState::Waitlisted.as_str())
                .fetch_one(&mut *conn)
                .await
                .map_err(storage)?;
                (activity, seats, waitlisted)
            }
            Err(Error::ActivityNotFound(_)) => {
                let activity = mirror::load_mirrored_activity(&mut conn, id).await?;
                let seats = mirror::mirrored_seats(&mut conn, id).await?;
                (activity, seats, 0)
            }
            Err(other) => return Err(other),
        };
        let occurrences = activity.occurrences()?;
        let occurrences = occurrences
            .into_iter()
            .map(|o| {
                let taken = seats
                    .iter()
                    .find(|(k, _)| *k == o.key())
                    .map_or(0, |(_, t)| *t);
                (o, taken)
            })
            .collect();
        Ok(ActivityWithSeats {
            activity,
            occurrences,
            waitlisted: u32::try_from(waitlisted).unwrap_or(u32::MAX),
        })
    }

    /// Changes an activity with `change`, for `caller` if its publisher
    /// lets them: `change` gets the stored activity and returns the new one
    /// (the store bumps its version). Occurrences are rebuilt when the
    /// schedule or overrides changed; an occurrence that holds registrations
    /// may not disappear.
    #[tracing::instrument(name = "store.calendar.modify", skip(self, change, caller))]
    pub async fn modify_activity(
        &self,
        id: &ActivityId,
        caller: &Principal,
        change: impl FnOnce(&Activity) -> Result<Activity, Error>,
    ) -> Result<Activity, Error> {
        let actor = &caller.actor();
        let mut tx = self.write_tx().await?;
        let at = tx.now();
        tx.lock(Locked::Activities, id.as_str()).await?;
        let current = load_activity(tx.conn(), id).await?;
        current.managed_by(caller)?;
        let mut next = change(&current)?;
        if let Some(id) = &next.details.agreement_id
            && next.details.agreement_id != current.details.agreement_id
        {
            let id = AgreementId::from_stored(id.clone());
            let agreement = crate::agreement::find(tx.conn(), &id).await?;
            check_delivers(agreement.as_ref(), &id, &current.publisher)?;
        }
        if next.details.mentoring != current.details.mentoring
            || next.details.kind != current.details.kind
        {
            next.details =
                crate::mentoring::linked(tx.conn(), &current.publisher, next.details).await?;
        } else if next.details.kind == edufed_domain::calendar::ActivityKind::MentoringMeeting {
            // A pair's meeting stays open to the pair's organizations.
            next.details.partners = current.details.partners.clone();
        }
        if next.details.trial != current.details.trial {
            crate::trials::check_session(
                tx.conn(),
                &current.publisher,
                next.details.trial.as_ref(),
            )
            .await?;
        }
        next.id = current.id.clone();
        next.publisher = current.publisher.clone();
        next.created_at = current.created_at;
        next.version = current.version + 1;
        next.updated_at = at;
        let occurrences = next.occurrences()?;
        if next.details.schedule != current.details.schedule || next.overrides != current.overrides
        {
            let held: Vec<i64> = sqlx::query_scalar(
                "SELECT DISTINCT occurrence_key FROM registrations \
                 WHERE activity_id = $1 AND occurrence_key IS NOT NULL AND state <> $2",
            )
            .bind(id.to_string())
            .bind(RegistrationState::Withdrawn.as_str())
            .fetch_all(tx.conn())
            .await
            .map_err(storage)?;
            if let Some(orphan) = held
                .iter()
                .find(|k| !occurrences.iter().any(|o| o.key() == **k))
            {
                let at = local_label(instant(*orphan)?, current.details.schedule.time_zone);
                return Err(Error::RegistrationRefused(format!(
                    "the occurrence at {at} holds registrations and would disappear; cancel that \
                     occurrence instead of removing it from the schedule"
                )));
            }
            let seats = occurrence_seats(tx.conn(), id).await?;
            sqlx::query("DELETE FROM occurrences WHERE activity_id = $1")
                .bind(id.to_string())
                .execute(tx.conn())
                .await
                .map_err(storage)?;
            insert_occurrences(&mut tx, id, &occurrences).await?;
            for (key, taken) in seats {
                set_seats(&mut tx, id, key, taken).await?;
            }
        }
        if next.details.capacity != current.details.capacity
            || next.details.quotas != current.details.quotas
        {
            let registrations = load_registrations(tx.conn(), id).await?;
            let book = seat_book(&next, &occurrences, &registrations, at);
            for occurrence in occurrences.iter().filter(|o| !o.cancelled && o.end > at) {
                let taken = book.taken(occurrence.key(), None);
                if next.details.capacity.is_some_and(|c| taken > c) {
                    return Err(Error::RegistrationRefused(format!(
                        "{taken} seats are already confirmed on {}; withdraw registrations before lowering the capacity",
                        local_label(occurrence.start, next.details.schedule.time_zone)
                    )));
                }
                for quota in &next.details.quotas {
                    let held = book.taken(occurrence.key(), Some(&quota.org_id));
                    if held > quota.seats {
                        return Err(Error::RegistrationRefused(format!(
                            "organization {} already holds {held} seats on {}, above the new quota",
                            quota.org_id,
                            local_label(occurrence.start, next.details.schedule.time_zone)
                        )));
                    }
                }
            }
        }
        sqlx::query(UPDATE_ACTIVITY)
            .bind_activity(&next)?
            .bind(signed(next.version))
            .bind(micros(next.updated_at))
            .bind(id.to_string())
            .execute(tx.conn())
            .await
            .map_err(storage)?;
        if is_shared(&current) && !is_shared(&next) {
            // Those who saw it shared are told it is gone from their view;
            // the entry carries nothing but its id.
            tx.append(
                NewChange::delete(
                    EntityKind::Activity,
                    next.id.to_string(),
                    next.version,
                    Some(next.publisher.clone()),
                    &serde_json::json!({ "id": next.id }),
                    actor,
                )
                .shared(true),
            )
            .await?;
        }
        tx.append(activity_change(&next, actor)).await?;
        // Capacity may have grown, or an occurrence been cancelled.
        self.rebalance(&mut tx, &next, actor, false).await?;
        tx.commit().await?;
        Ok(next)
    }
}

pub(super) fn is_shared(activity: &Activity) -> bool {
    activity.status != ActivityStatus::Draft
        && activity.details.visibility != Visibility::Organization
}

/// Saves an activity's every column but its id and publisher.
pub(super) const UPDATE_ACTIVITY: &str = "UPDATE activities SET kind = $1, direction = $2, \
     format = $3, visibility = $4, status = $5, grade_min = $6, grade_max = $7, subjects_key = $8, \
     agreement_id = $9, capacity = $10, search_text = $11, details = $12, overrides = $13, \
     partners_key = $14, programme_id = $15, pair_id = $16, trial_id = $17, version = $18, \
     updated_at = $19 WHERE id = $20";

pub(super) fn activity_change(activity: &Activity, actor: &Actor) -> NewChange {
    NewChange::upsert(
        EntityKind::Activity,
        activity.id.to_string(),
        activity.version,
        Some(activity.publisher.clone()),
        activity,
        actor,
    )
    .shared(is_shared(activity))
}

fn subjects_key(subjects: &[String]) -> String {
    if subjects.is_empty() {
        String::new()
    } else {
        format!("|{}|", subjects.join("|"))
    }
}

/// A query built by sqlx's `Any` driver.
type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// The partners an activity seen by partners only is open to, as
/// `|org|org|`; empty for every other visibility.
fn partners_key(activity: &Activity) -> String {
    if activity.details.visibility != Visibility::Partners || activity.details.partners.is_empty() {
        return String::new();
    }
    let ids: Vec<String> = activity
        .details
        .partners
        .iter()
        .map(|o| o.to_string())
        .collect();
    format!("|{}|", ids.join("|"))
}

/// Binds the columns every row of an activity shares, `kind` through
/// `overrides` and then `partners_key`, `programme_id`, `pair_id` and
/// `trial_id`, in that order, for the node's own table and the mirror
/// alike.
pub(super) trait BindActivity: Sized {
    fn bind_activity(self, activity: &Activity) -> Result<Self, StorageError>;
}

impl BindActivity for AnyQuery<'_> {
    fn bind_activity(self, a: &Activity) -> Result<Self, StorageError> {
        Ok(self
            .bind(a.details.kind.as_str())
            .bind(a.details.direction.map(|d| d.as_str().to_owned()))
            .bind(a.details.format.as_str())
            .bind(a.details.visibility.as_str())
            .bind(a.status.as_str())
            .bind(a.details.audience.students.map(|g| i64::from(g.min)))
            .bind(a.details.audience.students.map(|g| i64::from(g.max)))
            .bind(subjects_key(&a.details.subjects))
            .bind(a.details.agreement_id.clone())
            .bind(a.details.capacity.map(i64::from))
            .bind(a.details.search_text())
            .bind(to_json(&a.details)?)
            .bind(to_json(&a.overrides)?)
            .bind(partners_key(a))
            .bind(
                a.details
                    .mentoring
                    .as_ref()
                    .map(|l| l.programme.to_string()),
            )
            .bind(
                a.details
                    .mentoring
                    .as_ref()
                    .and_then(|l| l.pair.as_ref())
                    .map(|p| p.to_string()),
            )
            .bind(a.details.trial.as_ref().map(|t| t.to_string())))
    }
}

async fn insert_occurrences(
    tx: &mut WriteTx<'_>,
    id: &ActivityId,
    occurrences: &[Occurrence],
) -> Result<(), StorageError> {
    insert_occurrences_into(tx, "occurrences", id, occurrences).await
}

/// Writes occurrences into `table`: the node's own, or the mirror's.
pub(super) async fn insert_occurrences_into(
    tx: &mut WriteTx<'_>,
    table: &str,
    id: &ActivityId,
    occurrences: &[Occurrence],
) -> Result<(), StorageError> {
    // Many rows per statement: a statement's round trip costs more than
    // its rows (seven parameters a row, well under either database's
    // limit).
    const ROWS: usize = 100;
    for chunk in occurrences.chunks(ROWS) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| {
                let p = i * 7;
                format!(
                    "(${}, ${}, ${}, ${}, ${}, ${}, 0, ${})",
                    p + 1,
                    p + 2,
                    p + 3,
                    p + 4,
                    p + 5,
                    p + 6,
                    p + 7
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO {table} \
             (activity_id, occurrence_key, start_at, end_at, cancelled, moved, seats_taken, long_running) \
             VALUES {}",
            values.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for o in chunk {
            query = query
                .bind(id.to_string())
                .bind(o.key())
                .bind(micros(o.start))
                .bind(micros(o.end))
                .bind(i64::from(o.cancelled))
                .bind(i64::from(o.moved))
                .bind(i64::from(o.end - o.start > Duration::days(1)));
        }
        query.execute(tx.conn()).await.map_err(storage)?;
    }
    Ok(())
}

pub(super) async fn set_seats(
    tx: &mut WriteTx<'_>,
    id: &ActivityId,
    key: i64,
    taken: u32,
) -> Result<(), StorageError> {
    sqlx::query(
        "UPDATE occurrences SET seats_taken = $1 WHERE activity_id = $2 AND occurrence_key = $3",
    )
    .bind(i64::from(taken))
    .bind(id.to_string())
    .bind(key)
    .execute(tx.conn())
    .await
    .map_err(storage)?;
    Ok(())
}

pub(super) async fn occurrence_seats(
    conn: &mut AnyConnection,
    id: &ActivityId,
) -> Result<Vec<(i64, u32)>, StorageError> {
    seats_in(conn, "occurrences", id).await
}

/// The seats taken on each occurrence of `id` in `table` (the node's own
/// occurrences, or the mirror's), by occurrence key.
pub(super) async fn seats_in(
    conn: &mut AnyConnection,
    table: &str,
    id: &ActivityId,
) -> Result<Vec<(i64, u32)>, StorageError> {
    let rows: Vec<(i64, i64)> = sqlx::query_as(&format!(
        "SELECT occurrence_key, seats_taken FROM {table} WHERE activity_id = $1"
    ))
    .bind(id.to_string())
    .fetch_all(&mut *conn)
    .await
    .map_err(storage)?;
    Ok(rows
        .into_iter()
        .map(|(key, taken)| (key, u32::try_from(taken).unwrap_or(u32::MAX)))
        .collect())
}
