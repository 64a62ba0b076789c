//! Busy time: what a resource's free/busy shows, and the busy times a
//! network resource shares with peers (when, not who or why).

use chrono::{DateTime, Utc};
use edufed_domain::StorageError;
use edufed_domain::booking::{Access, Busy, Error, Resource, SharedBusy, SharedInterval};
use edufed_domain::changes::{Actor, EntityKind, NewChange};
use edufed_domain::ids::ResourceId;

use crate::Store;
use crate::error::storage;
use crate::sql::{decode_all, instant, micros, optional_instant};
use crate::tx::WriteTx;

/// How far ahead a resource's busy times are shared with peers, in days:
/// as far as a free/busy query reaches.
const SHARED_BUSY_DAYS: i64 = 400;

/// A blocking occurrence's time.
#[derive(sqlx::FromRow)]
struct BusyRow {
    start_at: i64,
    block_end: i64,
    state: String,
    hold_expires_at: Option<i64>,
}

impl TryFrom<BusyRow> for SharedInterval {
    type Error = StorageError;

    fn try_from(row: BusyRow) -> Result<Self, StorageError> {
        Ok(SharedInterval {
            start: instant(row.start_at)?,
            end: instant(row.block_end)?,
            held_until: if row.state == "held" {
                optional_instant(row.hold_expires_at)?
            } else {
                None
            },
        })
    }
}

/// Held and confirmed occurrences of `resource` (holds until they lapse at
/// `now`) that meet `[from, to)`, buffers included, in order.
const BLOCKING: &str = "SELECT start_at, block_end, state, hold_expires_at FROM booking_occurrences \
     WHERE resource_id = $1 AND start_at < $2 AND block_end > $3 \
     AND (state = 'confirmed' OR (state = 'held' AND hold_expires_at > $4)) ORDER BY start_at";

impl Store {
    /// Busy time of each resource in `[from, to)`: held and confirmed
    /// bookings (buffers included) and blackouts, in order.
    #[tracing::instrument(name = "store.booking.free_busy", skip(self, resources))]
    pub async fn free_busy(
        &self,
        resources: &[Resource],
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<(ResourceId, Vec<Busy>)>, Error> {
        let now = self.clock().now();
        let mut out = Vec::with_capacity(resources.len());
        for resource in resources {
            let rows: Vec<BusyRow> = sqlx::query_as(BLOCKING)
                .bind(resource.id.to_string())
                .bind(micros(to))
                .bind(micros(from))
                .bind(micros(now))
                .fetch_all(self.reader())
                .await
                .map_err(storage)?;
            let mut busy = Vec::with_capacity(rows.len());
            for row in rows {
                let interval = SharedInterval::try_from(row)?;
                busy.push(Busy {
                    start: interval.start,
                    end: interval.end,
                    why: if interval.held_until.is_some() {
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
}

/// Logs a network resource's busy times from now on, shared with peers so
/// that their free/busy includes them; who booked stays between the owner
/// and the requester.
pub(super) async fn append_busy(
    tx: &mut WriteTx<'_>,
    resource: &Resource,
    actor: &Actor,
) -> Result<(), Error> {
    if resource.details.access != Access::Network {
        return Ok(());
    }
    let at = tx.now();
    let rows: Vec<BusyRow> = sqlx::query_as(BLOCKING)
        .bind(resource.id.to_string())
        .bind(micros(at + chrono::Duration::days(SHARED_BUSY_DAYS)))
        .bind(micros(at))
        .bind(micros(at))
        .fetch_all(tx.conn())
        .await
        .map_err(storage)?;
    let payload = SharedBusy {
        resource_id: resource.id.clone(),
        owner: resource.owner.clone(),
        busy: decode_all(rows)?,
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
