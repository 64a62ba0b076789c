//! The mirrored calendar: peers' activities, as their entries carried them,
//! in tables of the same shape as the node's own, so a window query reads
//! both.

use chrono::{DateTime, Utc};
use edufed_domain::StorageError;
use edufed_domain::calendar::registration::Registration;
use edufed_domain::calendar::{Activity, Error};
use edufed_domain::changes::{EntityKind, Operation};
use edufed_domain::ids::ActivityId;
use sqlx::AnyConnection;

use super::{BindActivity as _, insert_occurrences_into};
use crate::error::storage;
use crate::sql::{like_escape, micros, signed};
use crate::tx::WriteTx;

/// Writes a peer's activity, as its entry carried it, into the mirrored
/// calendar: the row and its occurrences, replacing what was there.
pub(crate) async fn mirror_activity(
    tx: &mut WriteTx<'_>,
    origin: &str,
    activity: &Activity,
) -> Result<(), Error> {
    let occurrences = activity.occurrences()?;
    let held: Option<String> =
        sqlx::query_scalar("SELECT origin FROM mirror_activities WHERE id = $1")
            .bind(activity.id.to_string())
            .fetch_optional(tx.conn())
            .await
            .map_err(storage)?;
    if held.as_deref().is_some_and(|o| o != origin) {
        tracing::warn!(%origin, id = %activity.id, "a peer sent an activity another origin owns; ignored");
        return Ok(());
    }
    // Seats are reported separately; an edit keeps the last counts. A new
    // activity (most of a catch-up) has neither seats nor rows to replace.
    let mut seats: Vec<(i64, i64)> = Vec::new();
    if held.is_some() {
        seats = sqlx::query_as(
            "SELECT start_at, seats_taken FROM mirror_occurrences WHERE activity_id = $1",
        )
        .bind(activity.id.to_string())
        .fetch_all(tx.conn())
        .await
        .map_err(storage)?;
        forget_mirrored_activity(tx, origin, &activity.id).await?;
    }
    sqlx::query(
        "INSERT INTO mirror_activities (id, origin, publisher_id, kind, direction, format, visibility, status, \
         grade_min, grade_max, subjects_key, agreement_id, capacity, search_text, details, overrides, \
         partners_key, programme_id, pair_id, trial_id, version, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, \
         $20, $21, $22, $23)",
    )
    .bind(activity.id.to_string())
    .bind(origin.to_owned())
    .bind(activity.publisher.to_string())
    .bind_activity(activity)?
    .bind(signed(activity.version))
    .bind(micros(activity.created_at))
    .bind(micros(activity.updated_at))
    .execute(tx.conn())
    .await
    .map_err(storage)?;
    insert_occurrences_into(tx, "mirror_occurrences", &activity.id, &occurrences).await?;
    for (start, taken) in seats {
        sqlx::query(
            "UPDATE mirror_occurrences SET seats_taken = $1 WHERE activity_id = $2 AND start_at = $3",
        )
        .bind(taken)
        .bind(activity.id.to_string())
        .bind(start)
        .execute(tx.conn())
        .await
        .map_err(storage)?;
    }
    Ok(())
}

/// Removes `origin`'s mirrored activity (deleted, or no longer shared).
pub(crate) async fn forget_mirrored_activity(
    tx: &mut WriteTx<'_>,
    origin: &str,
    id: &ActivityId,
) -> Result<(), StorageError> {
    let owned: Option<String> =
        sqlx::query_scalar("SELECT origin FROM mirror_activities WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(tx.conn())
            .await
            .map_err(storage)?;
    if owned.as_deref() != Some(origin) {
        return Ok(());
    }
    sqlx::query("DELETE FROM mirror_occurrences WHERE activity_id = $1")
        .bind(id.to_string())
        .execute(tx.conn())
        .await
        .map_err(storage)?;
    sqlx::query("DELETE FROM mirror_activities WHERE id = $1 AND origin = $2")
        .bind(id.to_string())
        .bind(origin.to_owned())
        .execute(tx.conn())
        .await
        .map_err(storage)?;
    Ok(())
}

/// The seats a peer reports taken on its mirrored activity's occurrences.
#[derive(serde::Deserialize)]
pub(crate) struct MirroredSeats {
    activity_id: ActivityId,
    occurrences: Vec<MirroredSeatsOf>,
}

#[derive(serde::Deserialize)]
struct MirroredSeatsOf {
    start: DateTime<Utc>,
    taken: u32,
}

/// Records the seats `origin` reports on its own mirrored activity.
pub(crate) async fn mirror_seats(
    tx: &mut WriteTx<'_>,
    origin: &str,
    seats: &MirroredSeats,
) -> Result<(), StorageError> {
    for o in &seats.occurrences {
        sqlx::query(
            "UPDATE mirror_occurrences SET seats_taken = $1 WHERE activity_id = $2 AND start_at = $3 \
             AND activity_id IN (SELECT id FROM mirror_activities WHERE origin = $4)",
        )
        .bind(i64::from(o.taken))
        .bind(seats.activity_id.to_string())
        .bind(micros(o.start))
        .bind(origin.to_owned())
        .execute(tx.conn())
        .await
        .map_err(storage)?;
    }
    Ok(())
}

/// A peer's activity as this node mirrors it.
pub(super) async fn load_mirrored_activity(
    conn: &mut AnyConnection,
    id: &ActivityId,
) -> Result<Activity, Error> {
    super::rows::load_activity_from(conn, "mirror_activities", id).await
}

/// The seats taken on a mirrored activity's occurrences, by occurrence key,
/// as its home node last reported them.
pub(super) async fn mirrored_seats(
    conn: &mut AnyConnection,
    id: &ActivityId,
) -> Result<Vec<(i64, u32)>, StorageError> {
    super::seats_in(conn, "mirror_occurrences", id).await
}

/// The registrations for a peer's activity that this node mirrors: those
/// of the organizations it hosts, as their home node sent them.
pub(super) async fn mirrored_registrations(
    conn: &mut AnyConnection,
    id: &ActivityId,
) -> Result<Vec<Registration>, StorageError> {
    // Payloads are canonical JSON: the activity's id reads exactly so.
    let needle = format!("%\"activity_id\":\"{}\"%", like_escape(id.as_str()));
    let payloads: Vec<String> = sqlx::query_scalar(
        "SELECT payload FROM mirrors WHERE entity_kind = $1 AND operation = $2 \
         AND payload LIKE $3 ESCAPE '\\'",
    )
    .bind(EntityKind::Registration.as_str())
    .bind(Operation::Upsert.as_str())
    .bind(needle)
    .fetch_all(&mut *conn)
    .await
    .map_err(storage)?;
    let mut found: Vec<Registration> = payloads
        .iter()
        .filter_map(|p| serde_json::from_str::<Registration>(p).ok())
        .filter(|r| r.activity_id == *id)
        .collect();
    found.sort_by_key(|r| r.position);
    Ok(found)
}
