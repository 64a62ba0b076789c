//! Booking requests and the decisions on them. Each runs in one write
//! transaction: it locks the resource (and the agreement a booking goes
//! under), reads what the domain's decision needs, decides, and writes the
//! occurrences with their change-log entries. Each occurrence is inserted
//! under a savepoint, so a collision the exclusion constraint finds (a
//! concurrent request on PostgreSQL) fails that occurrence, not the
//! transaction.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use edufed_domain::StorageError;
use edufed_domain::agreement::Agreement;
use edufed_domain::agreement::quota::Used;
use edufed_domain::booking::request::{check_agreement, unknown_agreement};
use edufed_domain::booking::{
    Booked, BookedOccurrence, Booking, BookingOutcome, Cancel, CancelScope, Collision, Decide,
    Error, Grounds, Initial, Interval, OccurrenceState, Request, Resource, Verdict,
};
use edufed_domain::changes::Actor;
use edufed_domain::federation::Idempotency;
use edufed_domain::ids::{AgreementId, BookingId, OrgId, ResourceId};
use edufed_domain::policy::Principal;
use edufed_domain::time::local_label;
use sqlx::AnyConnection;

use super::busy::append_busy;
use super::rows::{load_booking, load_occurrences, load_resource};
use super::{booking_change, partners_in};
use crate::Store;
use crate::error::{Constraint, DbFailure, on, storage};
use crate::sql::{instant, micros, signed};
use crate::tx::{Locked, Savepoint, WriteTx};

impl Store {
    /// Books a resource for `caller`, who was authorized to request
    /// bookings for `request.requester`: decided on the resource, the
    /// requester's partners and the agreement as they stand under their
    /// locks. All or nothing, or with `skip_conflicts` the free occurrences,
    /// reporting the others. A forwarded write's `key` makes a retry get
    /// this answer instead of a second booking.
    #[tracing::instrument(name = "store.booking.request", skip_all, fields(resource = %request.resource))]
    pub async fn request_booking(
        &self,
        request: Request,
        caller: &Principal,
        key: Option<&Idempotency>,
    ) -> Result<BookingOutcome, Error> {
        let mut tx = self.write_tx().await?;
        if let Some(answered) = tx.claim::<_, Error>(key).await? {
            return tx.replay(answered).await;
        }
        let at = tx.now();
        tx.lock(Locked::Resources, request.resource.as_str())
            .await?;
        let resource = load_resource(tx.conn(), &request.resource).await?;
        let agreement = match &request.agreement {
            Some(id) => Some(agreement_for(&mut tx, id, &request.requester).await?),
            None => None,
        };
        let partners = if request.needs_partners(&resource) {
            partners_in(tx.conn(), &request.requester).await?
        } else {
            BTreeSet::new()
        };
        let admitted = request.admit(&Grounds {
            resource: &resource,
            partners: &partners,
            agreement: agreement.as_ref(),
            now: at,
        })?;
        expire_holds(&mut tx, &resource, at).await?;
        let booking = Booking {
            id: BookingId::generate(),
            resource_id: resource.id.clone(),
            requester_org: request.requester.clone(),
            requester: caller.person_id.clone(),
            purpose: request.purpose.clone(),
            headcount: request.headcount,
            activity_id: request.activity.clone(),
            agreement_id: request.agreement.clone(),
            version: 1,
            created_at: at,
            updated_at: at,
        };
        sqlx::query(
            "INSERT INTO bookings (id, resource_id, requester_org_id, requester_id, purpose, headcount, \
             activity_id, agreement_id, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9, $10)",
        )
        .bind(booking.id.to_string())
        .bind(resource.id.to_string())
        .bind(booking.requester_org.to_string())
        .bind(booking.requester.to_string())
        .bind(booking.purpose.clone())
        .bind(i64::from(booking.headcount))
        .bind(booking.activity_id.as_ref().map(|id| id.to_string()))
        .bind(booking.agreement_id.as_ref().map(|id| id.to_string()))
        .bind(micros(at))
        .bind(micros(at))
        .execute(tx.conn())
        .await
        .map_err(on(Constraint::BookingRequester, || {
            Error::OrganizationNotFound(booking.requester_org.to_string())
        }))?;
        let state = admitted.initial.state();
        let hold = match admitted.initial {
            Initial::Held(until) => Some(until),
            _ => None,
        };
        let requested = admitted.times.len();
        let mut occurrences = Vec::new();
        let mut skipped = Vec::new();
        for (start, end) in admitted.times {
            let block_end = resource.blocked_until(end);
            // Even a pending request must not sit on booked time: it could
            // never be approved.
            let taken = if !request.skip_conflicts && !skipped.is_empty() {
                // Refused already: the rest are only looked at, to list
                // every collision in the refusal.
                collision(tx.conn(), &resource.id, start, block_end, None).await?
            } else {
                insert_occurrence(&mut tx, &booking, &resource, (start, end), state, hold)
                    .await?
                    .err()
            };
            match taken {
                None => occurrences.push(BookedOccurrence {
                    start,
                    end,
                    state,
                    hold_expires_at: hold,
                    note: None,
                }),
                Some(with) => skipped.push(Collision { start, end, with }),
            }
        }
        if !request.skip_conflicts && !skipped.is_empty() {
            return Err(conflicts(&skipped, &resource, requested));
        }
        if occurrences.is_empty() {
            return Err(Error::Conflict(
                "every requested occurrence collides with a booking".into(),
            ));
        }
        if let Some(agreement) = &agreement {
            let times: Vec<Interval> = occurrences.iter().map(|o| (o.start, o.end)).collect();
            let used =
                used_under(tx.conn(), &agreement.id, &resource.owner, &booking.id, at).await?;
            check_agreement(
                agreement,
                &booking.requester_org,
                &resource,
                &times,
                Some(&used),
            )?;
        }
        let actor = caller.actor();
        tx.append(booking_change(&resource, &booking, &occurrences, &actor))
            .await?;
        append_busy(&mut tx, &resource, &actor).await?;
        let outcome = BookingOutcome {
            booking,
            occurrences,
            skipped,
        };
        tx.commit_with(&outcome).await?;
        Ok(outcome)
    }

    /// The owner's verdict on pending (or held) occurrences. Approving
    /// confirms them and rejects, with a reason, the pending ones of other
    /// requests that overlap; the rules are checked again as they are now.
    #[tracing::instrument(name = "store.booking.decide", skip_all, fields(booking = %decide.booking))]
    pub async fn decide_booking(
        &self,
        decide: Decide,
        caller: &Principal,
    ) -> Result<Booked, Error> {
        let comment = match decide.verdict {
            Verdict::Approve { comment } => {
                return self
                    .approve_booking(&decide.booking, decide.occurrence, &comment, caller)
                    .await;
            }
            Verdict::Reject { comment } => comment,
        };
        let at = decide.occurrence;
        self.set_state(
            &decide.booking,
            caller,
            Booking::decided_by,
            OccurrenceState::Rejected,
            &comment,
            None,
            |o, _| {
                at.is_none_or(|t| t == o.start)
                    && matches!(o.state, OccurrenceState::Pending | OccurrenceState::Held)
            },
        )
        .await
    }

    async fn approve_booking(
        &self,
        id: &BookingId,
        at: Option<DateTime<Utc>>,
        comment: &str,
        caller: &Principal,
    ) -> Result<Booked, Error> {
        let note = (!comment.trim().is_empty()).then(|| comment.trim().to_owned());
        let mut tx = self.write_tx().await?;
        let moment = tx.now();
        let booking = load_booking(tx.conn(), id).await?;
        tx.lock(Locked::Resources, booking.resource_id.as_str())
            .await?;
        let resource = load_resource(tx.conn(), &booking.resource_id).await?;
        booking.decided_by(caller, &resource.owner)?;
        expire_holds(&mut tx, &resource, moment).await?;
        let mut occurrences = load_occurrences(tx.conn(), id).await?;
        let deciding = |o: &BookedOccurrence| {
            at.is_none_or(|t| t == o.start)
                && matches!(o.state, OccurrenceState::Pending | OccurrenceState::Held)
        };
        let times: Vec<Interval> = occurrences.iter().map(|o| (o.start, o.end)).collect();
        let span = edufed_domain::booking::request::span(&times, moment);
        let blackouts = resource.blackouts_between(span.0, span.1)?;
        if let Some(agreement_id) = &booking.agreement_id {
            // The agreement may have been terminated or amended since the
            // request; its hours were counted then.
            let agreement = agreement_for(&mut tx, agreement_id, &booking.requester_org).await?;
            let times: Vec<Interval> = occurrences
                .iter()
                .filter(|o| deciding(o))
                .map(|o| (o.start, o.end))
                .collect();
            check_agreement(&agreement, &booking.requester_org, &resource, &times, None)?;
        }
        let mut rejected: Vec<String> = Vec::new();
        let mut changed = 0;
        for occurrence in occurrences.iter_mut().filter(|o| deciding(o)) {
            // The rules may have changed since the request (hours, blackouts).
            resource.check_place(
                occurrence.start,
                occurrence.end,
                booking.headcount,
                &blackouts,
            )?;
            let block_end = resource.blocked_until(occurrence.end);
            let this = (id, occurrence.start);
            if let Some(with) = collision(
                tx.conn(),
                &resource.id,
                occurrence.start,
                block_end,
                Some(this),
            )
            .await?
            {
                let collision = Collision {
                    start: occurrence.start,
                    end: occurrence.end,
                    with,
                };
                return Err(conflict(&collision, &resource, 1));
            }
            sqlx::query(
                "UPDATE booking_occurrences SET state = $1, hold_expires_at = NULL, note = $6, updated_at = $2, \
                 block_end = $5 WHERE booking_id = $3 AND start_at = $4",
            )
            .bind(OccurrenceState::Confirmed.as_str())
            .bind(micros(moment))
            .bind(id.to_string())
            .bind(micros(occurrence.start))
            .bind(micros(block_end))
            .bind(note.clone())
            .execute(tx.conn())
            .await
            .map_err(on(Constraint::BookingOverlap, || {
                Error::Conflict("the time was just booked by another request".into())
            }))?;
            // Pending requests for the same time can no longer be granted.
            let others: Vec<String> = sqlx::query_scalar(
                "UPDATE booking_occurrences SET state = $1, note = $2, updated_at = $3 \
                 WHERE resource_id = $4 AND state = $5 AND booking_id <> $6 AND start_at < $7 AND block_end > $8 \
                 RETURNING booking_id",
            )
            .bind(OccurrenceState::Rejected.as_str())
            .bind(format!("the time went to booking {id}"))
            .bind(micros(moment))
            .bind(resource.id.to_string())
            .bind(OccurrenceState::Pending.as_str())
            .bind(id.to_string())
            .bind(micros(block_end))
            .bind(micros(occurrence.start))
            .fetch_all(tx.conn())
            .await
            .map_err(storage)?;
            rejected.extend(others);
            occurrence.state = OccurrenceState::Confirmed;
            occurrence.hold_expires_at = None;
            occurrence.note = note.clone();
            changed += 1;
        }
        if changed == 0 {
            return Err(Error::WrongState(
                "nothing pending or held to approve".into(),
            ));
        }
        let actor = caller.actor();
        let booking = bump(&mut tx, booking, moment).await?;
        tx.append(booking_change(&resource, &booking, &occurrences, &actor))
            .await?;
        // Each request that lost its time learns of it in the change feed.
        log_changed(&mut tx, &resource, rejected, moment, &actor).await?;
        append_busy(&mut tx, &resource, &actor).await?;
        tx.commit().await?;
        Ok(Booked {
            booking,
            occurrences,
        })
    }

    /// Cancels one occurrence, this and the following ones, or the series,
    /// for its requester or the resource's owner. A forwarded write's `key`
    /// makes a retry get this answer.
    #[tracing::instrument(name = "store.booking.cancel", skip_all, fields(booking = %cancel.booking))]
    pub async fn cancel_booking(
        &self,
        cancel: Cancel,
        caller: &Principal,
        key: Option<&Idempotency>,
    ) -> Result<Booked, Error> {
        let scope = cancel.scope;
        self.set_state(
            &cancel.booking,
            caller,
            Booking::cancelled_by,
            OccurrenceState::Cancelled,
            &cancel.comment,
            key,
            |o, now| {
                o.state.is_open()
                    && o.end > now
                    && match scope {
                        CancelScope::One(t) => o.start == t,
                        CancelScope::FromOn(t) => o.start >= t,
                        CancelScope::All => true,
                    }
            },
        )
        .await
    }

    /// A booking and its occurrences, if `caller` may see it.
    pub async fn get_booking(&self, id: &BookingId, caller: &Principal) -> Result<Booked, Error> {
        let mut conn = self.reader().acquire().await.map_err(storage)?;
        let booking = load_booking(&mut conn, id).await?;
        let resource = load_resource(&mut conn, &booking.resource_id).await?;
        booking.seen_by(caller, &resource.owner)?;
        let occurrences = load_occurrences(&mut conn, id).await?;
        Ok(Booked {
            booking,
            occurrences,
        })
    }

    /// Moves the occurrences `select` picks to `state`, once `may` lets
    /// `caller` (read against the booking and its owner under the lock).
    #[allow(clippy::too_many_arguments)]
    async fn set_state(
        &self,
        id: &BookingId,
        caller: &Principal,
        may: fn(&Booking, &Principal, &OrgId) -> Result<(), Error>,
        state: OccurrenceState,
        comment: &str,
        key: Option<&Idempotency>,
        select: impl Fn(&BookedOccurrence, DateTime<Utc>) -> bool,
    ) -> Result<Booked, Error> {
        let mut tx = self.write_tx().await?;
        if let Some(answered) = tx.claim::<_, Error>(key).await? {
            return tx.replay(answered).await;
        }
        let moment = tx.now();
        let booking = load_booking(tx.conn(), id).await?;
        tx.lock(Locked::Resources, booking.resource_id.as_str())
            .await?;
        let resource = load_resource(tx.conn(), &booking.resource_id).await?;
        may(&booking, caller, &resource.owner)?;
        let mut occurrences = load_occurrences(tx.conn(), id).await?;
        let note = (!comment.trim().is_empty()).then(|| comment.trim().to_owned());
        let mut changed = 0;
        for occurrence in occurrences.iter_mut().filter(|o| select(o, moment)) {
            sqlx::query(
                "UPDATE booking_occurrences SET state = $1, note = $2, hold_expires_at = NULL, updated_at = $3 \
                 WHERE booking_id = $4 AND start_at = $5",
            )
            .bind(state.as_str())
            .bind(note.clone())
            .bind(micros(moment))
            .bind(id.to_string())
            .bind(micros(occurrence.start))
            .execute(tx.conn())
            .await
            .map_err(storage)?;
            occurrence.state = state;
            occurrence.note = note.clone();
            changed += 1;
        }
        if changed == 0 {
            return Err(Error::WrongState(format!(
                "no occurrence of booking {id} can become {state}"
            )));
        }
        let actor = caller.actor();
        let booking = bump(&mut tx, booking, moment).await?;
        tx.append(booking_change(&resource, &booking, &occurrences, &actor))
            .await?;
        append_busy(&mut tx, &resource, &actor).await?;
        let booked = Booked {
            booking,
            occurrences,
        };
        tx.commit_with(&booked).await?;
        Ok(booked)
    }
}

/// The agreement a booking names, locked: refused alike when it is not on
/// this node or the requester is not party to it.
async fn agreement_for(
    tx: &mut WriteTx<'_>,
    id: &AgreementId,
    requester: &OrgId,
) -> Result<Agreement, Error> {
    tx.lock(Locked::Agreements, id.as_str()).await?;
    match crate::agreement::find(tx.conn(), id).await? {
        Some(agreement) if agreement.involves(requester) => Ok(agreement),
        _ => Err(unknown_agreement(id)),
    }
}

/// The hours booked under an agreement of the owner's resources, other
/// than `booking`'s: confirmed, pending, and held until they lapse.
async fn used_under(
    conn: &mut AnyConnection,
    agreement: &AgreementId,
    owner: &OrgId,
    booking: &BookingId,
    at: DateTime<Utc>,
) -> Result<Vec<Used>, StorageError> {
    let rows: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT o.resource_id, o.start_at, o.end_at FROM booking_occurrences o \
         JOIN bookings b ON b.id = o.booking_id JOIN resources r ON r.id = o.resource_id \
         WHERE b.agreement_id = $1 AND r.owner_id = $2 AND b.id <> $4 \
         AND (o.state IN ('confirmed', 'pending') OR (o.state = 'held' AND o.hold_expires_at > $3))",
    )
    .bind(agreement.to_string())
    .bind(owner.to_string())
    .bind(micros(at))
    .bind(booking.to_string())
    .fetch_all(&mut *conn)
    .await
    .map_err(storage)?;
    rows.into_iter()
        .map(|(resource, start, end)| {
            Ok(Used {
                resource_id: ResourceId::from_stored(resource),
                start: instant(start)?,
                end: instant(end)?,
            })
        })
        .collect()
}

/// Inserts one occurrence unless a blocking occurrence of another booking
/// overlaps it (`Ok(Err(with))` then, naming that booking), in one
/// statement, under a savepoint: a request that committed after this one
/// looked may still take the time, and the exclusion constraint then fails
/// this occurrence, not the transaction.
async fn insert_occurrence(
    tx: &mut WriteTx<'_>,
    booking: &Booking,
    resource: &Resource,
    (start, end): Interval,
    state: OccurrenceState,
    hold: Option<DateTime<Utc>>,
) -> Result<Result<(), BookingId>, Error> {
    const GUARD: Savepoint = Savepoint("occurrence");
    let at = tx.now();
    let block_end = resource.blocked_until(end);
    tx.savepoint(GUARD).await?;
    let inserted = sqlx::query(
        "INSERT INTO booking_occurrences (booking_id, resource_id, start_at, end_at, block_end, \
         state, hold_expires_at, note, updated_at) \
         SELECT $1, $2, $3, $4, $5, $6, $7, NULL, $8 WHERE NOT EXISTS \
         (SELECT 1 FROM booking_occurrences WHERE resource_id = $2 \
          AND state IN ('confirmed', 'held') AND start_at < $5 AND block_end > $3)",
    )
    .bind(booking.id.to_string())
    .bind(resource.id.to_string())
    .bind(micros(start))
    .bind(micros(end))
    .bind(micros(block_end))
    .bind(state.as_str())
    .bind(hold.map(micros))
    .bind(micros(at))
    .execute(tx.conn())
    .await;
    match inserted {
        Ok(done) => {
            tx.release(GUARD).await?;
            if done.rows_affected() == 1 {
                return Ok(Ok(()));
            }
        }
        Err(error) => {
            tx.roll_back_to(GUARD).await?;
            let failure = DbFailure::classify(error);
            if !failure.is(Constraint::BookingOverlap) {
                return Err(failure.into_storage().into());
            }
        }
    }
    let with = collision(tx.conn(), &resource.id, start, block_end, None)
        .await?
        .unwrap_or_else(|| booking.id.clone());
    Ok(Err(with))
}

fn conflict(collision: &Collision, resource: &Resource, requested: usize) -> Error {
    let series = if requested > 1 {
        " (the whole request was refused; book around it with skip_conflicts)"
    } else {
        ""
    };
    let zone = resource.details.time_zone;
    Error::Conflict(format!(
        "{} – {} collides with booking {}{series}",
        local_label(collision.start, zone),
        local_label(collision.end, zone),
        collision.with
    ))
}

/// The refusal of a request whose occurrences collide with booked time:
/// one named as [`conflict`] does, several counted and listed.
fn conflicts(collided: &[Collision], resource: &Resource, requested: usize) -> Error {
    let detail = match collided {
        [one] => conflict(one, resource, requested).to_string(),
        [first, ..] => {
            let zone = resource.details.time_zone;
            format!(
                "{} of the {requested} requested occurrences collide with bookings, the first \
                 {} – {} with booking {} (the whole request was refused; book around them with \
                 skip_conflicts)",
                collided.len(),
                local_label(first.start, zone),
                local_label(first.end, zone),
                first.with
            )
        }
        [] => "no occurrence collides".to_owned(),
    };
    Error::Collides {
        detail,
        starts: collided.iter().map(|c| c.start).collect(),
    }
}

/// A blocking occurrence of another booking overlapping `[start, block_end)`.
async fn collision(
    conn: &mut AnyConnection,
    resource: &ResourceId,
    start: DateTime<Utc>,
    block_end: DateTime<Utc>,
    except: Option<(&BookingId, DateTime<Utc>)>,
) -> Result<Option<BookingId>, StorageError> {
    let found: Option<String> = sqlx::query_scalar(
        "SELECT booking_id FROM booking_occurrences WHERE resource_id = $1 AND state IN ('confirmed', 'held') \
         AND start_at < $2 AND block_end > $3 AND NOT (booking_id = $4 AND start_at = $5) \
         ORDER BY start_at LIMIT 1",
    )
    .bind(resource.to_string())
    .bind(micros(block_end))
    .bind(micros(start))
    .bind(except.map(|(id, _)| id.to_string()).unwrap_or_default())
    .bind(except.map_or(i64::MIN, |(_, at)| micros(at)))
    .fetch_optional(&mut *conn)
    .await
    .map_err(storage)?;
    Ok(found.map(BookingId::from_stored))
}

/// Lets lapsed holds go, so their time is free again; each booking that
/// lost a hold gets a change-log entry.
async fn expire_holds(
    tx: &mut WriteTx<'_>,
    resource: &Resource,
    at: DateTime<Utc>,
) -> Result<(), Error> {
    let lapsed: Vec<String> = sqlx::query_scalar(
        "UPDATE booking_occurrences SET state = 'cancelled', note = 'the hold expired', updated_at = $1 \
         WHERE resource_id = $2 AND state = 'held' AND hold_expires_at <= $1 RETURNING booking_id",
    )
    .bind(micros(at))
    .bind(resource.id.to_string())
    .fetch_all(tx.conn())
    .await
    .map_err(storage)?;
    log_changed(tx, resource, lapsed, at, &Actor::Node).await
}

/// Bumps and logs each booking among `ids` (repeats allowed) whose
/// occurrences another decision changed, so its requester sees it.
async fn log_changed(
    tx: &mut WriteTx<'_>,
    resource: &Resource,
    mut ids: Vec<String>,
    at: DateTime<Utc>,
    actor: &Actor,
) -> Result<(), Error> {
    ids.sort();
    ids.dedup();
    for id in ids {
        let id = BookingId::from_stored(id);
        let booking = load_booking(tx.conn(), &id).await?;
        let occurrences = load_occurrences(tx.conn(), &id).await?;
        let booking = bump(tx, booking, at).await?;
        tx.append(booking_change(resource, &booking, &occurrences, actor))
            .await?;
    }
    Ok(())
}

async fn bump(
    tx: &mut WriteTx<'_>,
    mut booking: Booking,
    at: DateTime<Utc>,
) -> Result<Booking, StorageError> {
    booking.version += 1;
    booking.updated_at = at;
    sqlx::query("UPDATE bookings SET version = $1, updated_at = $2 WHERE id = $3")
        .bind(signed(booking.version))
        .bind(micros(at))
        .bind(booking.id.to_string())
        .execute(tx.conn())
        .await
        .map_err(storage)?;
    Ok(booking)
}

/// For each of `caller`'s organizations, its agreement partners, when
/// `resource` is open to its owner's partners; otherwise nothing is read.
pub(super) async fn partners_of_caller(
    tx: &mut WriteTx<'_>,
    caller: &Principal,
    resource: &Resource,
) -> Result<BTreeMap<OrgId, BTreeSet<OrgId>>, Error> {
    let mut partners = BTreeMap::new();
    if resource.details.access == edufed_domain::booking::Access::AgreementPartners {
        for org in caller.organizations() {
            partners.insert(org.clone(), partners_in(tx.conn(), org).await?);
        }
    }
    Ok(partners)
}
