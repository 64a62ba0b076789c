//! The booking repository: resources, booking requests and the decisions
//! on them, busy time. Confirmed and held occurrences of one resource never
//! overlap, buffers included: on PostgreSQL an exclusion constraint holds
//! it (`booking_occurrences_no_overlap`), on SQLite the single writer
//! serializes every check with its insert.

mod busy;
mod requests;
mod rows;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use edufed_domain::StorageError;
use edufed_domain::booking::filter::ResourceFilter;
use edufed_domain::booking::{
    Access, Blackout, BookedOccurrence, Booking, Error, Listed, OccurrenceState, Resource,
    ResourceDetails, UpdateResource,
};
use edufed_domain::changes::{Actor, EntityKind, NewChange};
use edufed_domain::ids::{BookingId, OrgId, ResourceId};
use edufed_domain::policy::Principal;
use serde::Serialize;
use sqlx::AnyConnection;

use self::busy::append_busy;
use self::requests::partners_of_caller;
use self::rows::{OccurrenceRow, ResourceRow, load_booking, load_resource};
use crate::Store;
use crate::error::{Constraint, on, storage};
use crate::sql::{decode_all, like_escape, micros, signed, to_json};
use crate::tx::{Locked, WriteTx};

const RESOURCE_COLUMNS: &str = "id, owner_id, details, blackouts, version, created_at, updated_at";

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
        .bind_resource(&resource)?
        .bind(signed(resource.version))
        .bind(micros(at))
        .bind(micros(at))
        .execute(tx.conn())
        .await
        .map_err(on(Constraint::ResourceOwner, || {
            Error::OrganizationNotFound(owner.to_string())
        }))?;
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
        let rows: Vec<ResourceRow> = sqlx::query_as(&format!(
            "SELECT {RESOURCE_COLUMNS} FROM resources WHERE owner_id = $1 ORDER BY name, id"
        ))
        .bind(owner.to_string())
        .fetch_all(self.reader())
        .await
        .map_err(storage)?;
        Ok(decode_all(rows)?)
    }

    /// This node's resources of every owner that `filter` admits, by name,
    /// at most `limit` (whom they are open to is for the caller to judge).
    pub async fn find_resources(
        &self,
        filter: &ResourceFilter,
        limit: u32,
    ) -> Result<Vec<Resource>, Error> {
        let mut sql = format!(
            "SELECT {RESOURCE_COLUMNS} FROM resources WHERE (capacity IS NULL OR capacity >= $1) \
             AND ($2 = '' OR kind = $2)"
        );
        for n in 0..filter.features.len() {
            sql += &format!(" AND features_key LIKE ${} ESCAPE '\\'", n + 3);
        }
        // The words are matched here, on the names as people wrote them.
        sql += " ORDER BY name, id LIMIT 5000";
        let mut query = sqlx::query_as::<_, ResourceRow>(&sql)
            .bind(i64::from(filter.min_capacity))
            .bind(
                filter
                    .kind
                    .map(|k| k.as_str())
                    .unwrap_or_default()
                    .to_owned(),
            );
        for feature in &filter.features {
            query = query.bind(format!("%|{}|%", like_escape(feature)));
        }
        let rows = query.fetch_all(self.reader()).await.map_err(storage)?;
        let mut found = Vec::new();
        for row in rows {
            let resource = Resource::try_from(row)?;
            if filter.admits(&resource) {
                found.push(resource);
                if found.len() >= limit as usize {
                    break;
                }
            }
        }
        Ok(found)
    }

    /// Replaces a resource's settings, for `caller` if its owner lets them.
    #[tracing::instrument(name = "store.booking.update_resource", skip_all, fields(resource = %update.id))]
    pub async fn update_resource(
        &self,
        update: UpdateResource,
        caller: &Principal,
    ) -> Result<Resource, Error> {
        let UpdateResource {
            id,
            expected_version,
            mut details,
            keep_zone,
        } = update;
        self.change_resource(&id, expected_version, caller, |resource| {
            if keep_zone {
                details.time_zone = resource.details.time_zone;
            }
            resource.details = details;
            Ok(())
        })
        .await
    }

    /// Replaces a resource's blackouts, and reports the bookings they fall
    /// on: those stay as they are, for the owner to settle with the requesters.
    #[tracing::instrument(name = "store.booking.set_blackouts", skip_all, fields(resource = %id))]
    pub async fn set_blackouts(
        &self,
        id: &ResourceId,
        expected_version: Option<u64>,
        blackouts: Vec<Blackout>,
        caller: &Principal,
    ) -> Result<(Resource, Vec<Listed>), Error> {
        let resource = self
            .change_resource(id, expected_version, caller, |resource| {
                let zone = resource.details.time_zone;
                resource.blackouts = blackouts
                    .into_iter()
                    .enumerate()
                    .map(|(i, b)| {
                        b.validate(zone)
                            .map_err(|e| e.within(&format!("blackouts[{i}]")))
                    })
                    .collect::<Result<_, _>>()?;
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

    /// Changes a resource under its lock, for `caller` if its owner lets
    /// them: `change` gets the resource as stored.
    async fn change_resource(
        &self,
        id: &ResourceId,
        expected_version: Option<u64>,
        caller: &Principal,
        change: impl FnOnce(&mut Resource) -> Result<(), Error>,
    ) -> Result<Resource, Error> {
        let actor = &caller.actor();
        let mut tx = self.write_tx().await?;
        let at = tx.now();
        tx.lock(Locked::Resources, id.as_str()).await?;
        let mut resource = load_resource(tx.conn(), id).await?;
        let partners = partners_of_caller(&mut tx, caller, &resource).await?;
        resource.managed_by(caller, &partners)?;
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
        .bind_resource(&resource)?
        .bind(signed(resource.version))
        .bind(micros(at))
        .bind(id.to_string())
        .execute(tx.conn())
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
        let mut query = sqlx::query_as::<_, OccurrenceRow>(&sql)
            .bind(micros(to))
            .bind(micros(from));
        for bind in binds {
            query = query.bind(bind);
        }
        let rows = query.fetch_all(self.reader()).await.map_err(storage)?;
        let mut conn = self.reader().acquire().await.map_err(storage)?;
        let mut bookings: Vec<Booking> = Vec::new();
        let mut listed = Vec::with_capacity(rows.len());
        for row in rows {
            let id = BookingId::from_stored(row.booking_id.clone());
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
                occurrence: row.try_into()?,
            });
        }
        Ok(listed)
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
        let mut sql = format!(
            "SELECT {RESOURCE_COLUMNS} FROM resources WHERE (capacity IS NULL OR capacity >= $1) \
             AND (access = 'network' OR owner_id = $2)"
        );
        for n in 0..features.len() {
            sql += &format!(" AND features_key LIKE ${} ESCAPE '\\'", n + 3);
        }
        sql += &format!(" ORDER BY name, id LIMIT ${}", features.len() + 3);
        let mut query = sqlx::query_as::<_, ResourceRow>(&sql)
            .bind(i64::from(headcount))
            .bind(requester.to_string());
        for feature in features {
            query = query.bind(format!("%|{}|%", like_escape(feature)));
        }
        let rows = query
            .bind(i64::from(limit))
            .fetch_all(self.reader())
            .await
            .map_err(storage)?;
        Ok(decode_all(rows)?)
    }

    /// The resource `id`, one of this node's own.
    pub async fn get_resource(&self, id: &ResourceId) -> Result<Resource, Error> {
        let mut conn = self.reader().acquire().await.map_err(storage)?;
        load_resource(&mut conn, id).await
    }

    /// For each of `orgs`, the organizations it shares an agreement in force
    /// with: who sees a resource open to its owner's partners.
    pub async fn partners_of(
        &self,
        orgs: impl Iterator<Item = &OrgId>,
    ) -> Result<BTreeMap<OrgId, BTreeSet<OrgId>>, Error> {
        let mut conn = self.reader().acquire().await.map_err(storage)?;
        let mut partners = BTreeMap::new();
        for org in orgs {
            partners.insert(org.clone(), partners_in(&mut conn, org).await?);
        }
        Ok(partners)
    }

    /// The organizations that share an agreement in force (signed or
    /// active) with `org`.
    #[tracing::instrument(name = "store.agreement.partners", skip(self))]
    pub async fn agreement_partners(&self, org: &OrgId) -> Result<BTreeSet<OrgId>, Error> {
        let mut conn = self.reader().acquire().await.map_err(storage)?;
        partners_in(&mut conn, org).await
    }
}

/// The organizations that share an agreement in force with `org`.
pub(crate) async fn partners_in(
    conn: &mut AnyConnection,
    org: &OrgId,
) -> Result<BTreeSet<OrgId>, Error> {
    let rows: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT p.org_id FROM agreement_parties p \
         JOIN agreement_parties mine ON mine.agreement_id = p.agreement_id \
         JOIN agreements a ON a.id = p.agreement_id \
         WHERE mine.org_id = $1 AND mine.in_force = 1 AND p.in_force = 1 \
         AND a.state IN ('signed', 'active') AND p.org_id <> $1",
    )
    .bind(org.to_string())
    .fetch_all(&mut *conn)
    .await
    .map_err(storage)?;
    Ok(rows.into_iter().map(OrgId::from_stored).collect())
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
    let rows: Vec<(String, i64, i64)> = sqlx::query_as(
        "SELECT booking_id, start_at, end_at FROM booking_occurrences \
         WHERE resource_id = $1 AND end_at > $2 AND state IN ('confirmed', 'held') ORDER BY start_at",
    )
    .bind(resource.id.to_string())
    .bind(micros(at))
    .fetch_all(tx.conn())
    .await
    .map_err(storage)?;
    let mut previous: Option<(String, i64)> = None;
    for (booking, start, end) in rows {
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
    .execute(tx.conn())
    .await
    .map_err(on(Constraint::BookingOverlap, || {
        Error::Conflict("with the new buffer, bookings would overlap".into())
    }))?;
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

/// A query built by sqlx's `Any` driver.
type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// Binds the columns a resource's row keeps of its settings, `kind`
/// through `blackouts` in that order, for an insert and an update alike.
trait BindResource: Sized {
    fn bind_resource(self, resource: &Resource) -> Result<Self, StorageError>;
}

impl BindResource for AnyQuery<'_> {
    fn bind_resource(self, r: &Resource) -> Result<Self, StorageError> {
        Ok(self
            .bind(r.details.kind.as_str())
            .bind(r.details.name.clone())
            .bind(r.details.capacity.map(i64::from))
            .bind(format!("|{}|", r.details.features.join("|")))
            .bind(r.details.access.as_str())
            .bind(to_json(&r.details)?)
            .bind(to_json(&r.blackouts)?))
    }
}
