//! The booking repository. Confirmed and held occurrences of one resource
//! never overlap, buffers included: on PostgreSQL an exclusion constraint
//! holds it (`booking_occurrences_no_overlap`), on SQLite the single writer
//! serializes every check with its insert. Each occurrence is written under
//! a savepoint, so a collision found only by the constraint (a concurrent
//! request) fails that occurrence, not the transaction.

use chrono::{DateTime, Duration, Utc};
use edufed_domain::StorageError;
use edufed_domain::agreement::{
    self,
    quota::{self, Used},
};
use edufed_domain::booking::{
    Access, Blackout, BookedOccurrence, Booking, BookingOutcome, Busy, CancelScope, Collision,
    Error, Initial, Interval, Listed, NewBooking, OccurrenceState, Resource, ResourceDetails,
    SharedBusy, SharedInterval, check_series,
};
use edufed_domain::changes::{Actor, EntityKind, NewChange};
use edufed_domain::ids::{AgreementId, BookingId, OrgId, ResourceId};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row as _};

use crate::Store;
use crate::db::{WriteTx, instant, micros, optional_instant, signed, unsigned};
use crate::error::{DbFailure, storage};

const RESOURCE_COLUMNS: &str = "id, owner_id, details, blackouts, version, created_at, updated_at";
const OCCURRENCE_COLUMNS: &str = "booking_id, start_at, end_at, state, hold_expires_at, note";

#[derive(Serialize)]
struct BookingPayload<'a> {
    booking: &'a Booking,
    occurrences: &'a [BookedOccurrence],
}

impl Store {
    /// Stores a new resource.
    #[tracing::instrument(name = "store.booking.create_resource", skip_all, fields(owner = %owner))]
    pub async fn create_resource(
        &self,
        owner: &OrgId,
        details: ResourceDetails,
        actor: &Actor,
    ) -> Result<Resource, Error> {
        let at = self.clock().now();
        let resource = Resource {
            id: ResourceId::generate(),
            owner: owner.clone(),
            details,
            blackouts: Vec::new(),
            version: 1,
            created_at: at,
            updated_at: at,
        };
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO resources (id, owner_id, kind, name, capacity, features_key, access, details, \
             blackouts, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(resource.id.to_string())
        .bind(owner.to_string())
        .bind(resource.details.kind.as_str())
        .bind(resource.details.name.clone())
        .bind(resource.details.capacity.map(i64::from))
        .bind(format!("|{}|", resource.details.features.join("|")))
        .bind(resource.details.access.as_str())
        .bind(json(&resource.details)?)
        .bind(json(&resource.blackouts)?)
        .bind(signed(resource.version))
        .bind(micros(at))
        .bind(micros(at))
        .execute(&mut *tx.tx)
        .await
        .map_err(|e| match DbFailure::classify(e) {
            DbFailure::ForeignKey => Error::ResourceNotFound(format!("owner {owner} does not exist")),
            other => other.into_storage().into(),
        })?;
        tx.append(
            NewChange::upsert(
                EntityKind::Resource,
                resource.id.to_string(),
                resource.version,
                Some(owner.clone()),
                &resource,
                actor,
            )
            .shared(resource.details.access == Access::Network),
        )
        .await?;
        tx.commit().await?;
        Ok(resource)
    }

    /// An organization's resources, by name.
    pub async fn list_resources(&self, owner: &OrgId) -> Result<Vec<Resource>, Error> {
        let ids: Vec<String> =
            sqlx::query_scalar("SELECT id FROM resources WHERE owner_id = $1 ORDER BY name, id")
                .bind(owner.to_string())
                .fetch_all(self.reader())
                .await
                .map_err(storage)?;
        let mut conn = self.reader().acquire().await.map_err(storage)?;
        let mut resources = Vec::with_capacity(ids.len());
        for id in ids {
            resources.push(load_resource(&mut conn, &ResourceId::from_stored(id)).await?);
        }
        Ok(resources)
    }

    /// Replaces a resource's settings.
    #[tracing::instrument(name = "store.booking.update_resource", skip(self, details, actor))]
    pub async fn update_resource(
        &self,
        id: &ResourceId,
        expected_version: Option<u64>,
        details: ResourceDetails,
        actor: &Actor,
    ) -> Result<Resource, Error> {
        self.change_resource(id, expected_version, actor, |resource| {
            resource.details = details;
            Ok(())
        })
        .await
    }

    /// Replaces a resource's blackouts, and reports the bookings they fall
    /// on: those stay as they are, for the owner to settle with the requesters.
    #[tracing::instrument(name = "store.booking.set_blackouts", skip(self, blackouts, actor))]
    pub async fn set_blackouts(
        &self,
        id: &ResourceId,
        expected_version: Option<u64>,
        blackouts: Vec<Blackout>,
        actor: &Actor,
    ) -> Result<(Resource, Vec<Listed>), Error> {
        let resource = self
            .change_resource(id, expected_version, actor, |resource| {
                resource.blackouts = blackouts;
                Ok(())
            })
            .await?;
        let intervals = resource.blackouts_between(
            self.clock().now(),
            self.clock().now() + chrono::Duration::days(3 * 366),
        )?;
        let mut affected: Vec<Listed> = Vec::new();
        if let (Some(from), Some(to)) = (
            intervals.iter().map(|((s, _), _)| *s).min(),
            intervals.iter().map(|((_, e), _)| *e).max(),
        ) {
            for listed in self.list_bookings(Some(id), None, from, to, false).await? {
                let o = &listed.occurrence;
                let open = o.state.blocks() || o.state == OccurrenceState::Pending;
                if open
                    && intervals
                        .iter()
                        .any(|((s, e), _)| *s < o.end && o.start < *e)
                {
                    affected.push(listed);
                }
            }
        }
        Ok((resource, affected))
    }

    async fn change_resource(
        &self,
        id: &ResourceId,
        expected_version: Option<u64>,
        actor: &Actor,
        change: impl FnOnce(&mut Resource) -> Result<(), Error>,
    ) -> Result<Resource, Error> {
        let at = self.clock().now();
        let mut tx = self.write_tx().await?;
        self.lock_resource(&mut tx, id).await?;
        let mut resource = load_resource(&mut tx.tx, id).await?;
        // Checked under the lock, so two editors cannot both win.
        if let Some(expected) = expected_version
            && expected != resource.version
        {
            return Err(Error::WrongState(format!(
                "resource {id} is at version {}, not the expected {expected}",
                resource.version
            )));
        }
        let old_buffer = resource.details.rules.buffer_minutes;
        let was_network = resource.details.access == Access::Network;
        change(&mut resource)?;
        if resource.details.rules.buffer_minutes != old_buffer {
            reblock(&mut tx, &resource, at).await?;
        }
        resource.version += 1;
        resource.updated_at = at;
        sqlx::query(
            "UPDATE resources SET kind = $1, name = $2, capacity = $3, features_key = $4, access = $5, \
             details = $6, blackouts = $7, version = $8, updated_at = $9 WHERE id = $10",
        )
        .bind(resource.details.kind.as_str())
        .bind(resource.details.name.clone())
        .bind(resource.details.capacity.map(i64::from))
        .bind(format!("|{}|", resource.details.features.join("|")))
        .bind(resource.details.access.as_str())
        .bind(json(&resource.details)?)
        .bind(json(&resource.blackouts)?)
        .bind(signed(resource.version))
        .bind(micros(at))
        .bind(id.to_string())
        .execute(&mut *tx.tx)
        .await
        .map_err(storage)?;
        // Peers see a resource open to the network, and the change that
        // closes it, so that their mirrors stop offering it.
        tx.append(
            NewChange::upsert(
                EntityKind::Resource,
                resource.id.to_string(),
                resource.version,
                Some(resource.owner.clone()),
                &resource,
                actor,
            )
            .shared(was_network || resource.details.access == Access::Network),
        )
        .await?;
        // Newly opened to the network, or its buffer changed: peers learn its busy times.
        append_busy(&mut tx, &resource, actor).await?;
        tx.commit().await?;
        Ok(resource)
    }

    /// Booked occurrences overlapping `[from, to)`, of one resource or of
    /// one requester's bookings, in order of start.
    pub async fn list_bookings(
        &self,
        resource: Option<&ResourceId>,
        requester: Option<&OrgId>,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        only_blocking: bool,
    ) -> Result<Vec<Listed>, Error> {
        let mut sql = String::from(
            "SELECT o.booking_id, o.start_at, o.end_at, o.state, o.hold_expires_at, o.note \
             FROM booking_occurrences o JOIN bookings b ON b.id = o.booking_id \
             WHERE o.start_at < $1 AND o.end_at > $2",
        );
        let mut binds = Vec::new();
        if let Some(resource) = resource {
            binds.push(resource.to_string());
            sql += &format!(" AND o.resource_id = ${}", binds.len() + 2);
        }
        if let Some(requester) = requester {
            binds.push(requester.to_string());
            sql += &format!(" AND b.requester_org_id = ${}", binds.len() + 2);
        }
        if only_blocking {
            sql += " AND o.state IN ('confirmed', 'held')";
        }
        sql += " ORDER BY o.start_at, o.booking_id LIMIT 5000";
        let mut query = sqlx::query(&sql).bind(micros(to)).bind(micros(from));
        for bind in binds {
            query = query.bind(bind);
        }
        let rows = query.fetch_all(self.reader()).await.map_err(storage)?;
        let mut conn = self.reader().acquire().await.map_err(storage)?;
        let mut bookings: Vec<Booking> = Vec::new();
        let mut listed = Vec::with_capacity(rows.len());
        for row in &rows {
            let id = BookingId::from_stored(row.try_get("booking_id").map_err(storage)?);
            let booking = match bookings.iter().find(|b| b.id == id) {
                Some(b) => b.clone(),
                None => {
                    let b = load_booking(&mut conn, &id).await?;
                    bookings.push(b.clone());
                    b
                }
            };
            listed.push(Listed {
                booking,
                occurrence: occurrence_from_row(row)?,
            });
        }
        Ok(listed)
    }

    /// Busy time of each resource in `[from, to)`: held and confirmed
    /// bookings (buffers included) and blackouts, in order.
    #[tracing::instrument(name = "store.booking.free_busy", skip(self, resources))]
    pub async fn free_busy(
        &self,
        resources: &[Resource],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(ResourceId, Vec<Busy>)>, Error> {
        let mut out = Vec::with_capacity(resources.len());
        for resource in resources {
            let rows = sqlx::query(
                "SELECT start_at, block_end, state FROM booking_occurrences \
                 WHERE resource_id = $1 AND start_at < $2 AND block_end > $3 \
                 AND (state = 'confirmed' OR (state = 'held' AND hold_expires_at > $4)) \
                 ORDER BY start_at",
            )
            .bind(resource.id.to_string())
            .bind(micros(to))
            .bind(micros(from))
            .bind(micros(self.clock().now()))
            .fetch_all(self.reader())
            .await
            .map_err(storage)?;
            let mut busy = Vec::with_capacity(rows.len());
            for row in &rows {
                let state: String = row.try_get("state").map_err(storage)?;
                busy.push(Busy {
                    start: instant(row.try_get("start_at").map_err(storage)?)?,
                    end: instant(row.try_get("block_end").map_err(storage)?)?,
                    why: if state == "held" {
                        "held".into()
                    } else {
                        "booked".into()
                    },
                });
            }
            for ((start, end), reason) in resource.blackouts_between(from, to)? {
                busy.push(Busy {
                    start,
                    end,
                    why: reason,
                });
            }
            busy.sort_by_key(|b| (b.start, b.end));
            out.push((resource.id.clone(), busy));
        }
        Ok(out)
    }

    /// Resources with every feature in `features` (folded) and room for
    /// `headcount`, at most `limit`, by name.
    pub async fn matching_resources(
        &self,
        requester: &OrgId,
        features: &[String],
        headcount: u32,
        limit: u32,
    ) -> Result<Vec<Resource>, Error> {
        let mut sql = String::from(
            "SELECT id FROM resources WHERE (capacity IS NULL OR capacity >= $1) \
             AND (access = 'network' OR owner_id = $2)",
        );
        for n in 0..features.len() {
            sql += &format!(" AND features_key LIKE ${} ESCAPE '\\'", n + 3);
        }
        sql += &format!(" ORDER BY name, id LIMIT ${}", features.len() + 3);
        let mut query = sqlx::query_scalar::<_, String>(&sql)
            .bind(i64::from(headcount))
            .bind(requester.to_string());
        for feature in features {
            query = query.bind(format!("%|{}|%", crate::db::like_escape(feature)));
        }
        let ids = query
            .bind(i64::from(limit))
            .fetch_all(self.reader())
            .await
            .map_err(storage)?;
        let mut conn = self.reader().acquire().await.map_err(storage)?;
        let mut resources = Vec::with_capacity(ids.len());
        for id in ids {
            resources.push(load_resource(&mut conn, &ResourceId::from_stored(id)).await?);
        }
        Ok(resources)
    }

    /// A resource.
    pub async fn get_resource(&self, id: &ResourceId) -> Result<Resource, Error> {
        let mut conn = self.reader().acquire().await.map_err(storage)?;
        load_resource(&mut conn, id).await
    }

    /// Books occurrences of a resource: all or nothing, or with
    /// `skip_conflicts` the free ones, reporting the others. The resource's
    /// rules are checked for every occurrence first, naming the rule broken.
    #[tracing::instrument(name = "store.booking.request", skip_all, fields(resource = %new.resource_id))]
    pub async fn request_booking(
        &self,
        new: NewBooking,
        actor: &Actor,
    ) -> Result<BookingOutcome, Error> {
        let at = self.clock().now();
        let mut tx = self.write_tx().await?;
        self.lock_resource(&mut tx, &new.resource_id).await?;
        let resource = load_resource(&mut tx.tx, &new.resource_id).await?;
        let span = span_of(&new.times);
        let blackouts = resource.blackouts_between(span.0, span.1)?;
        for (start, end) in &new.times {
            resource.check(*start, *end, new.headcount, at, &blackouts)?;
        }
        check_series(&new.times, resource.blocked_until(at) - at)?;
        expire_holds(&mut tx, &resource, at).await?;
        let booking = Booking {
            id: BookingId::generate(),
            resource_id: resource.id.clone(),
            requester_org: new.requester_org.clone(),
            requester: new.requester.clone(),
            purpose: new.purpose.clone(),
            headcount: new.headcount,
            activity_id: new.activity_id.clone(),
            agreement_id: new.agreement_id.clone(),
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
        .bind(booking.requester.clone())
        .bind(booking.purpose.clone())
        .bind(i64::from(booking.headcount))
        .bind(booking.activity_id.clone())
        .bind(booking.agreement_id.clone())
        .bind(micros(at))
        .bind(micros(at))
        .execute(&mut *tx.tx)
        .await
        .map_err(|e| match DbFailure::classify(e) {
            DbFailure::ForeignKey => Error::ResourceNotFound(format!(
                "organization {} is not on this node",
                booking.requester_org
            )),
            other => other.into_storage().into(),
        })?;
        let state = new.initial.state();
        let hold = match new.initial {
            Initial::Held(until) => Some(until),
            _ => None,
        };
        let mut occurrences = Vec::new();
        let mut skipped = Vec::new();
        for (start, end) in &new.times {
            let block_end = resource.blocked_until(*end);
            // Even a pending request must not sit on booked time: it could
            // never be approved.
            if let Some(with) = collision(&mut tx.tx, &resource.id, *start, block_end, None).await?
            {
                let collision = Collision {
                    start: *start,
                    end: *end,
                    with,
                };
                if new.skip_conflicts {
                    skipped.push(collision);
                    continue;
                }
                return Err(conflict(&collision, new.times.len()));
            }
            sqlx::query("SAVEPOINT occurrence")
                .execute(&mut *tx.tx)
                .await
                .map_err(storage)?;
            let inserted = sqlx::query(
                "INSERT INTO booking_occurrences (booking_id, resource_id, start_at, end_at, block_end, \
                 state, hold_expires_at, note, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, NULL, $8)",
            )
            .bind(booking.id.to_string())
            .bind(resource.id.to_string())
            .bind(micros(*start))
            .bind(micros(*end))
            .bind(micros(block_end))
            .bind(state.as_str())
            .bind(hold.map(micros))
            .bind(micros(at))
            .execute(&mut *tx.tx)
            .await;
            match inserted {
                Ok(_) => {
                    sqlx::query("RELEASE SAVEPOINT occurrence")
                        .execute(&mut *tx.tx)
                        .await
                        .map_err(storage)?;
                    occurrences.push(BookedOccurrence {
                        start: *start,
                        end: *end,
                        state,
                        hold_expires_at: hold,
                        note: None,
                    });
                }
                Err(e) => {
                    sqlx::query("ROLLBACK TO SAVEPOINT occurrence")
                        .execute(&mut *tx.tx)
                        .await
                        .map_err(storage)?;
                    match DbFailure::classify(e) {
                        // Taken by a request that committed after our check.
                        DbFailure::Exclusion(_) => {
                            let with = collision(&mut tx.tx, &resource.id, *start, block_end, None)
                                .await?
                                .unwrap_or_else(|| booking.id.clone());
                            let collision = Collision {
                                start: *start,
                                end: *end,
                                with,
                            };
                            if new.skip_conflicts {
                                skipped.push(collision);
                            } else {
                                return Err(conflict(&collision, new.times.len()));
                            }
                        }
                        other => return Err(other.into_storage().into()),
                    }
                }
            }
        }
        if occurrences.is_empty() {
            return Err(Error::Conflict(
                "every requested occurrence collides with a booking".into(),
            ));
        }
        if new.agreement_id.is_some() {
            let times: Vec<Interval> = occurrences.iter().map(|o| (o.start, o.end)).collect();
            self.check_agreement(&mut tx, &booking, &resource, &times, at, true)
                .await?;
        }
        tx.append(booking_change(&resource, &booking, &occurrences, actor))
            .await?;
        append_busy(&mut tx, &resource, actor).await?;
        tx.commit().await?;
        Ok(BookingOutcome {
            booking,
            occurrences,
            skipped,
        })
    }

    /// The owner's decision on pending (or held) occurrences: confirm them,
    /// rejecting the pending ones of other requests that overlap, with a
    /// reason. `at` names one occurrence; all of the booking's when `None`.
    #[tracing::instrument(name = "store.booking.approve", skip(self, actor))]
    pub async fn approve_booking(
        &self,
        id: &BookingId,
        at: Option<DateTime<Utc>>,
        actor: &Actor,
    ) -> Result<Vec<BookedOccurrence>, Error> {
        let moment = self.clock().now();
        let mut tx = self.write_tx().await?;
        let booking = load_booking(&mut tx.tx, id).await?;
        self.lock_resource(&mut tx, &booking.resource_id).await?;
        let resource = load_resource(&mut tx.tx, &booking.resource_id).await?;
        expire_holds(&mut tx, &resource, moment).await?;
        let mut occurrences = load_occurrences(&mut tx.tx, id).await?;
        let span = span_of(
            &occurrences
                .iter()
                .map(|o| (o.start, o.end))
                .collect::<Vec<_>>(),
        );
        let blackouts = resource.blackouts_between(span.0, span.1)?;
        if booking.agreement_id.is_some() {
            // The agreement may have been terminated or amended since the
            // request; its hours were counted then.
            let deciding: Vec<Interval> = occurrences
                .iter()
                .filter(|o| at.is_none_or(|t| t == o.start))
                .filter(|o| matches!(o.state, OccurrenceState::Pending | OccurrenceState::Held))
                .map(|o| (o.start, o.end))
                .collect();
            self.check_agreement(&mut tx, &booking, &resource, &deciding, moment, false)
                .await?;
        }
        let mut rejected: Vec<String> = Vec::new();
        let mut changed = 0;
        for occurrence in occurrences
            .iter_mut()
            .filter(|o| at.is_none_or(|t| t == o.start))
            .filter(|o| matches!(o.state, OccurrenceState::Pending | OccurrenceState::Held))
        {
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
                &mut tx.tx,
                &resource.id,
                occurrence.start,
                block_end,
                Some(this),
            )
            .await?
            {
                return Err(conflict(
                    &Collision {
                        start: occurrence.start,
                        end: occurrence.end,
                        with,
                    },
                    1,
                ));
            }
            sqlx::query(
                "UPDATE booking_occurrences SET state = $1, hold_expires_at = NULL, note = NULL, updated_at = $2, \
                 block_end = $5 WHERE booking_id = $3 AND start_at = $4",
            )
            .bind(OccurrenceState::Confirmed.as_str())
            .bind(micros(moment))
            .bind(id.to_string())
            .bind(micros(occurrence.start))
            .bind(micros(block_end))
            .execute(&mut *tx.tx)
            .await
            .map_err(|e| match DbFailure::classify(e) {
                DbFailure::Exclusion(_) => Error::Conflict("the time was just booked by another request".into()),
                other => other.into_storage().into(),
            })?;
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
            .fetch_all(&mut *tx.tx)
            .await
            .map_err(storage)?;
            rejected.extend(others);
            occurrence.state = OccurrenceState::Confirmed;
            occurrence.hold_expires_at = None;
            occurrence.note = None;
            changed += 1;
        }
        if changed == 0 {
            return Err(Error::WrongState(
                "nothing pending or held to approve".into(),
            ));
        }
        let booking = bump(&mut tx, booking, moment).await?;
        tx.append(booking_change(&resource, &booking, &occurrences, actor))
            .await?;
        // Each request that lost its time learns of it in the change feed.
        log_changed(&mut tx, &resource, rejected, moment, actor).await?;
        append_busy(&mut tx, &resource, actor).await?;
        tx.commit().await?;
        Ok(occurrences)
    }

    /// Rejects pending occurrences (one, or all of the booking's), with a reason.
    #[tracing::instrument(name = "store.booking.reject", skip(self, actor))]
    pub async fn reject_booking(
        &self,
        id: &BookingId,
        at: Option<DateTime<Utc>>,
        comment: &str,
        actor: &Actor,
    ) -> Result<Vec<BookedOccurrence>, Error> {
        self.set_state(id, actor, OccurrenceState::Rejected, comment, |o| {
            at.is_none_or(|t| t == o.start)
                && matches!(o.state, OccurrenceState::Pending | OccurrenceState::Held)
        })
        .await
    }

    /// Cancels one occurrence, this and the following ones, or the series.
    #[tracing::instrument(name = "store.booking.cancel", skip(self, actor))]
    pub async fn cancel_booking(
        &self,
        id: &BookingId,
        scope: CancelScope,
        comment: &str,
        actor: &Actor,
    ) -> Result<Vec<BookedOccurrence>, Error> {
        let moment = self.clock().now();
        self.set_state(id, actor, OccurrenceState::Cancelled, comment, |o| {
            o.state.is_open()
                && o.end > moment
                && match scope {
                    CancelScope::One(t) => o.start == t,
                    CancelScope::FromOn(t) => o.start >= t,
                    CancelScope::All => true,
                }
        })
        .await
    }

    /// A booking and its occurrences.
    pub async fn get_booking(
        &self,
        id: &BookingId,
    ) -> Result<(Booking, Vec<BookedOccurrence>), Error> {
        let mut conn = self.reader().acquire().await.map_err(storage)?;
        let booking = load_booking(&mut conn, id).await?;
        let occurrences = load_occurrences(&mut conn, id).await?;
        Ok((booking, occurrences))
    }

    /// On PostgreSQL, locks the resource's row until the transaction ends:
    /// decisions on one resource take turns, so two of them never wait on
    /// each other's rows inside the exclusion constraint (a deadlock). The
    /// constraint still holds the invariant should anything slip past.
    /// A booking under an agreement: the agreement must be in force over
    /// every occurrence, requester and owner must be parties to it, and
    /// (`with_quota`, on request) the hours must fit what the owner pledged. Runs under the agreement's
    /// lock, so concurrent requests cannot both take the last hours.
    async fn check_agreement(
        &self,
        tx: &mut WriteTx<'_>,
        booking: &Booking,
        resource: &Resource,
        times: &[Interval],
        at: DateTime<Utc>,
        with_quota: bool,
    ) -> Result<(), Error> {
        let Some(raw) = &booking.agreement_id else {
            return Ok(());
        };
        let id = AgreementId::parse("agreement_id", raw)?;
        let not_here = || {
            Error::Invalid(edufed_domain::FieldError::new(
                "agreement_id",
                format!("agreement {id} is not on this node"),
            ))
        };
        if self.backend() == crate::Backend::Postgres {
            sqlx::query("SELECT id FROM agreements WHERE id = $1 FOR UPDATE")
                .bind(id.to_string())
                .fetch_optional(&mut *tx.tx)
                .await
                .map_err(storage)?
                .ok_or_else(not_here)?;
        }
        let agreement = crate::agreement::load(&mut tx.tx, &id)
            .await
            .map_err(|e| match e {
                agreement::Error::Storage(e) => Error::Storage(e),
                _ => not_here(),
            })?;
        // Only its parties learn anything about an agreement.
        if !agreement.involves(&booking.requester_org) {
            return Err(not_here());
        }
        let refuse = |detail: String| Error::Rule {
            rule: "agreement".into(),
            detail,
        };
        let Some(version) = agreement
            .in_force()
            .filter(|_| agreement.lifecycle.ends_at().is_some())
        else {
            return Err(refuse(format!(
                "agreement {id} is {}; bookings go under an agreement in force",
                agreement.lifecycle.state()
            )));
        };
        let content = &version.content;
        let label = content
            .number
            .clone()
            .unwrap_or_else(|| format!("«{}»", content.title));
        for (start, end) in times {
            let last = *end - Duration::microseconds(1);
            if !agreement.lifecycle.in_force_at(*start) || !agreement.lifecycle.in_force_at(last) {
                return Err(refuse(format!(
                    "{start} – {end} is outside the term of agreement {label} ({} – {})",
                    content.valid_from, content.valid_to
                )));
            }
        }
        for (org, what) in [
            (&booking.requester_org, "the requesting organization"),
            (&resource.owner, "the resource's owner"),
        ] {
            if !content.is_party(org) {
                return Err(refuse(format!(
                    "{what} {org} is not a party to agreement {label}"
                )));
            }
        }
        if !with_quota {
            return Ok(());
        }
        let used = sqlx::query(
            "SELECT o.resource_id, o.start_at, o.end_at FROM booking_occurrences o \
             JOIN bookings b ON b.id = o.booking_id JOIN resources r ON r.id = o.resource_id \
             WHERE b.agreement_id = $1 AND r.owner_id = $2 AND b.id <> $4 \
             AND (o.state IN ('confirmed', 'pending') OR (o.state = 'held' AND o.hold_expires_at > $3))",
        )
        .bind(id.to_string())
        .bind(resource.owner.to_string())
        .bind(micros(at))
        .bind(booking.id.to_string())
        .fetch_all(&mut *tx.tx)
        .await
        .map_err(storage)?
        .iter()
        .map(|row| -> Result<Used, StorageError> {
            Ok(Used {
                resource_id: ResourceId::from_stored(row.try_get("resource_id").map_err(storage)?),
                start: instant(row.try_get("start_at").map_err(storage)?)?,
                end: instant(row.try_get("end_at").map_err(storage)?)?,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
        quota::check(
            content,
            &label,
            agreement.time_zone,
            &resource.owner,
            &resource.id,
            &used,
            times,
        )
    }

    async fn lock_resource(&self, tx: &mut WriteTx<'_>, id: &ResourceId) -> Result<(), Error> {
        if self.backend() == crate::Backend::Postgres {
            let found = sqlx::query("SELECT id FROM resources WHERE id = $1 FOR UPDATE")
                .bind(id.to_string())
                .fetch_optional(&mut *tx.tx)
                .await
                .map_err(storage)?;
            if found.is_none() {
                return Err(Error::ResourceNotFound(id.to_string()));
            }
        }
        Ok(())
    }

    async fn set_state(
        &self,
        id: &BookingId,
        actor: &Actor,
        state: OccurrenceState,
        comment: &str,
        select: impl Fn(&BookedOccurrence) -> bool,
    ) -> Result<Vec<BookedOccurrence>, Error> {
        let moment = self.clock().now();
        let mut tx = self.write_tx().await?;
        let booking = load_booking(&mut tx.tx, id).await?;
        self.lock_resource(&mut tx, &booking.resource_id).await?;
        let resource = load_resource(&mut tx.tx, &booking.resource_id).await?;
        let mut occurrences = load_occurrences(&mut tx.tx, id).await?;
        let note = (!comment.trim().is_empty()).then(|| comment.trim().to_owned());
        let mut changed = 0;
        for occurrence in occurrences.iter_mut().filter(|o| select(o)) {
            sqlx::query(
                "UPDATE booking_occurrences SET state = $1, note = $2, hold_expires_at = NULL, updated_at = $3 \
                 WHERE booking_id = $4 AND start_at = $5",
            )
            .bind(state.as_str())
            .bind(note.clone())
            .bind(micros(moment))
            .bind(id.to_string())
            .bind(micros(occurrence.start))
            .execute(&mut *tx.tx)
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
        let booking = bump(&mut tx, booking, moment).await?;
        tx.append(booking_change(&resource, &booking, &occurrences, actor))
            .await?;
        append_busy(&mut tx, &resource, actor).await?;
        tx.commit().await?;
        Ok(occurrences)
    }
}

fn conflict(collision: &Collision, requested: usize) -> Error {
    let series = if requested > 1 {
        " (the whole request was refused; book around it with skip_conflicts)"
    } else {
        ""
    };
    Error::Conflict(format!(
        "{} – {} collides with booking {}{series}",
        collision.start, collision.end, collision.with
    ))
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
    .fetch_all(&mut *tx.tx)
    .await
    .map_err(storage)?;
    log_changed(tx, resource, lapsed, at, &Actor::Node).await
}

/// Recomputes the busy end (end plus buffer) of the resource's future open
/// occurrences after its buffer changed. A larger buffer that would make
/// blocking occurrences overlap is refused, naming them.
async fn reblock(
    tx: &mut WriteTx<'_>,
    resource: &Resource,
    at: DateTime<Utc>,
) -> Result<(), Error> {
    let buffer = i64::from(resource.details.rules.buffer_minutes) * 60_000_000;
    let rows = sqlx::query(
        "SELECT booking_id, start_at, end_at FROM booking_occurrences \
         WHERE resource_id = $1 AND end_at > $2 AND state IN ('confirmed', 'held') ORDER BY start_at",
    )
    .bind(resource.id.to_string())
    .bind(micros(at))
    .fetch_all(&mut *tx.tx)
    .await
    .map_err(storage)?;
    let mut previous: Option<(String, i64)> = None;
    for row in &rows {
        let booking: String = row.try_get("booking_id").map_err(storage)?;
        let start: i64 = row.try_get("start_at").map_err(storage)?;
        let end: i64 = row.try_get("end_at").map_err(storage)?;
        if let Some((other, busy_until)) = &previous
            && *busy_until > start
        {
            return Err(Error::Conflict(format!(
                "with the new buffer, bookings {other} and {booking} would overlap; settle them first"
            )));
        }
        previous = Some((booking, end + buffer));
    }
    sqlx::query(
        "UPDATE booking_occurrences SET block_end = end_at + $1 \
         WHERE resource_id = $2 AND end_at > $3 AND state IN ('confirmed', 'held', 'pending')",
    )
    .bind(buffer)
    .bind(resource.id.to_string())
    .bind(micros(at))
    .execute(&mut *tx.tx)
    .await
    .map_err(|e| match DbFailure::classify(e) {
        DbFailure::Exclusion(_) => {
            Error::Conflict("with the new buffer, bookings would overlap".into())
        }
        other => other.into_storage().into(),
    })?;
    Ok(())
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
        let booking = load_booking(&mut tx.tx, &id).await?;
        let occurrences = load_occurrences(&mut tx.tx, &id).await?;
        let booking = bump(tx, booking, at).await?;
        tx.append(booking_change(resource, &booking, &occurrences, actor))
            .await?;
    }
    Ok(())
}

/// The earliest start and latest end of some intervals.
fn span_of(times: &[(DateTime<Utc>, DateTime<Utc>)]) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = times
        .iter()
        .map(|t| t.0)
        .min()
        .unwrap_or_else(edufed_domain::time::now);
    let end = times.iter().map(|t| t.1).max().unwrap_or(start);
    (start, end)
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
        .execute(&mut *tx.tx)
        .await
        .map_err(storage)?;
    Ok(booking)
}

/// How far ahead a resource's busy times are shared with peers, in days:
/// as far as a free/busy query reaches.
const SHARED_BUSY_DAYS: i64 = 400;

/// Logs a network resource's busy times from now on, shared with peers so
/// that their free/busy includes them; who booked stays between the owner
/// and the requester.
async fn append_busy(
    tx: &mut WriteTx<'_>,
    resource: &Resource,
    actor: &Actor,
) -> Result<(), Error> {
    if resource.details.access != Access::Network {
        return Ok(());
    }
    let at = tx.store.clock().now();
    let rows = sqlx::query(
        "SELECT start_at, block_end, state, hold_expires_at FROM booking_occurrences \
         WHERE resource_id = $1 AND block_end > $2 AND start_at < $3 \
         AND (state = 'confirmed' OR (state = 'held' AND hold_expires_at > $2)) \
         ORDER BY start_at",
    )
    .bind(resource.id.to_string())
    .bind(micros(at))
    .bind(micros(at + chrono::Duration::days(SHARED_BUSY_DAYS)))
    .fetch_all(&mut *tx.tx)
    .await
    .map_err(storage)?;
    let mut busy = Vec::with_capacity(rows.len());
    for row in &rows {
        let state: String = row.try_get("state").map_err(storage)?;
        busy.push(SharedInterval {
            start: instant(row.try_get("start_at").map_err(storage)?)?,
            end: instant(row.try_get("block_end").map_err(storage)?)?,
            held_until: if state == "held" {
                optional_instant(row.try_get("hold_expires_at").map_err(storage)?)?
            } else {
                None
            },
        });
    }
    let payload = SharedBusy {
        resource_id: resource.id.clone(),
        owner: resource.owner.clone(),
        busy,
    };
    // Versions are the times the busy times were taken: they only grow.
    let version = u64::try_from(at.timestamp_micros()).unwrap_or(0);
    tx.append(
        NewChange::upsert(
            EntityKind::ResourceBusy,
            resource.id.to_string(),
            version,
            Some(resource.owner.clone()),
            &payload,
            actor,
        )
        .shared(true),
    )
    .await?;
    Ok(())
}

fn booking_change(
    resource: &Resource,
    booking: &Booking,
    occurrences: &[BookedOccurrence],
    actor: &Actor,
) -> NewChange {
    NewChange::upsert(
        EntityKind::Booking,
        booking.id.to_string(),
        booking.version,
        Some(resource.owner.clone()),
        &BookingPayload {
            booking,
            occurrences,
        },
        actor,
    )
    .also_for(booking.requester_org.clone())
}

fn json(value: &impl Serialize) -> Result<String, StorageError> {
    serde_json::to_string(value).map_err(StorageError::new)
}

async fn load_resource(conn: &mut AnyConnection, id: &ResourceId) -> Result<Resource, Error> {
    let row = sqlx::query(&format!(
        "SELECT {RESOURCE_COLUMNS} FROM resources WHERE id = $1"
    ))
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await
    .map_err(storage)?
    .ok_or_else(|| Error::ResourceNotFound(id.to_string()))?;
    let text = |c: &str| row.try_get::<String, _>(c).map_err(storage);
    let int = |c: &str| row.try_get::<i64, _>(c).map_err(storage);
    Ok(Resource {
        id: ResourceId::from_stored(text("id")?),
        owner: OrgId::from_stored(text("owner_id")?),
        details: serde_json::from_str(&text("details")?).map_err(StorageError::new)?,
        blackouts: serde_json::from_str(&text("blackouts")?).map_err(StorageError::new)?,
        version: unsigned(int("version")?)?,
        created_at: instant(int("created_at")?)?,
        updated_at: instant(int("updated_at")?)?,
    })
}

async fn load_booking(conn: &mut AnyConnection, id: &BookingId) -> Result<Booking, Error> {
    let row = sqlx::query(
        "SELECT id, resource_id, requester_org_id, requester_id, purpose, headcount, activity_id, agreement_id, \
         version, created_at, updated_at FROM bookings WHERE id = $1",
    )
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await
    .map_err(storage)?
    .ok_or_else(|| Error::BookingNotFound(id.to_string()))?;
    let text = |c: &str| row.try_get::<String, _>(c).map_err(storage);
    let int = |c: &str| row.try_get::<i64, _>(c).map_err(storage);
    Ok(Booking {
        id: BookingId::from_stored(text("id")?),
        resource_id: ResourceId::from_stored(text("resource_id")?),
        requester_org: OrgId::from_stored(text("requester_org_id")?),
        requester: text("requester_id")?,
        purpose: text("purpose")?,
        headcount: u32::try_from(int("headcount")?).unwrap_or(u32::MAX),
        activity_id: row.try_get("activity_id").map_err(storage)?,
        agreement_id: row.try_get("agreement_id").map_err(storage)?,
        version: unsigned(int("version")?)?,
        created_at: instant(int("created_at")?)?,
        updated_at: instant(int("updated_at")?)?,
    })
}

async fn load_occurrences(
    conn: &mut AnyConnection,
    id: &BookingId,
) -> Result<Vec<BookedOccurrence>, Error> {
    let rows = sqlx::query(&format!(
        "SELECT {OCCURRENCE_COLUMNS} FROM booking_occurrences WHERE booking_id = $1 ORDER BY start_at"
    ))
    .bind(id.to_string())
    .fetch_all(&mut *conn)
    .await
    .map_err(storage)?;
    rows.iter().map(occurrence_from_row).collect()
}

fn occurrence_from_row(row: &AnyRow) -> Result<BookedOccurrence, Error> {
    let int = |c: &str| row.try_get::<i64, _>(c).map_err(storage);
    let state: String = row.try_get("state").map_err(storage)?;
    Ok(BookedOccurrence {
        start: instant(int("start_at")?)?,
        end: instant(int("end_at")?)?,
        state: OccurrenceState::parse("state", &state).map_err(StorageError::new)?,
        hold_expires_at: optional_instant(row.try_get("hold_expires_at").map_err(storage)?)?,
        note: row.try_get("note").map_err(storage)?,
    })
}
