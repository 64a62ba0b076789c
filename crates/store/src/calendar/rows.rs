//! The calendar tables' rows, each decoded in one place.

use edufed_domain::StorageError;
use edufed_domain::calendar::registration::{Registration, RegistrationState};
use edufed_domain::calendar::{Activity, ActivityStatus, Error, FoundOccurrence, Occurrence};
use edufed_domain::ids::{ActivityId, OrgId, RegistrationId};
use sqlx::AnyConnection;

use super::ACTIVITY_COLUMNS;
use crate::error::storage;
use crate::sql::{decode_all, from_json, instant, unsigned};

const REGISTRATION_COLUMNS: &str = "id, activity_id, occurrence_key, venue, state, position, cohort, \
                                    results, version, created_at, updated_at";

/// An activity's row, in the node's own table or the mirror.
#[derive(sqlx::FromRow)]
pub(super) struct ActivityRow {
    id: String,
    publisher_id: String,
    status: String,
    details: String,
    overrides: String,
    version: i64,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<ActivityRow> for Activity {
    type Error = StorageError;

    fn try_from(row: ActivityRow) -> Result<Self, StorageError> {
        Ok(Activity {
            id: ActivityId::from_stored(row.id),
            publisher: OrgId::from_stored(row.publisher_id),
            status: ActivityStatus::parse("status", &row.status).map_err(StorageError::new)?,
            details: from_json(&row.details)?,
            overrides: from_json(&row.overrides)?,
            version: unsigned(row.version)?,
            created_at: instant(row.created_at)?,
            updated_at: instant(row.updated_at)?,
        })
    }
}

/// An occurrence a search found, with its activity.
#[derive(sqlx::FromRow)]
pub(super) struct FoundRow {
    #[sqlx(flatten)]
    activity: ActivityRow,
    occurrence_key: i64,
    start_at: i64,
    end_at: i64,
    cancelled: i64,
    moved: i64,
    seats_taken: i64,
}

impl TryFrom<FoundRow> for FoundOccurrence {
    type Error = StorageError;

    fn try_from(row: FoundRow) -> Result<Self, StorageError> {
        Ok(FoundOccurrence {
            activity: row.activity.try_into()?,
            occurrence: Occurrence {
                original_start: instant(row.occurrence_key)?,
                start: instant(row.start_at)?,
                end: instant(row.end_at)?,
                cancelled: row.cancelled != 0,
                moved: row.moved != 0,
            },
            seats_taken: u32::try_from(row.seats_taken).unwrap_or(u32::MAX),
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct RegistrationRow {
    id: String,
    activity_id: String,
    occurrence_key: Option<i64>,
    venue: Option<i64>,
    state: String,
    position: i64,
    cohort: String,
    results: Option<String>,
    version: i64,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<RegistrationRow> for Registration {
    type Error = StorageError;

    fn try_from(row: RegistrationRow) -> Result<Self, StorageError> {
        Ok(Registration {
            id: RegistrationId::from_stored(row.id),
            activity_id: ActivityId::from_stored(row.activity_id),
            occurrence: row.occurrence_key,
            venue: row
                .venue
                .map(u32::try_from)
                .transpose()
                .map_err(StorageError::new)?,
            cohort: from_json(&row.cohort)?,
            state: RegistrationState::parse("state", &row.state).map_err(StorageError::new)?,
            position: unsigned(row.position)?,
            results: row.results.as_deref().map(from_json).transpose()?,
            version: unsigned(row.version)?,
            created_at: instant(row.created_at)?,
            updated_at: instant(row.updated_at)?,
        })
    }
}

pub(super) async fn load_activity(
    conn: &mut AnyConnection,
    id: &ActivityId,
) -> Result<Activity, Error> {
    load_activity_from(conn, "activities", id).await
}

/// The activity `id` of `table`: the node's own, or the mirror's.
pub(super) async fn load_activity_from(
    conn: &mut AnyConnection,
    table: &str,
    id: &ActivityId,
) -> Result<Activity, Error> {
    let row: ActivityRow = sqlx::query_as(&format!(
        "SELECT {ACTIVITY_COLUMNS} FROM {table} a WHERE a.id = $1"
    ))
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await
    .map_err(storage)?
    .ok_or_else(|| Error::ActivityNotFound(id.to_string()))?;
    Ok(row.try_into()?)
}

pub(super) async fn load_registration(
    conn: &mut AnyConnection,
    id: &RegistrationId,
) -> Result<Registration, Error> {
    let row: RegistrationRow = sqlx::query_as(&format!(
        "SELECT {REGISTRATION_COLUMNS} FROM registrations WHERE id = $1"
    ))
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await
    .map_err(storage)?
    .ok_or_else(|| Error::RegistrationNotFound(id.clone()))?;
    Ok(row.try_into()?)
}

pub(super) async fn load_registrations(
    conn: &mut AnyConnection,
    activity: &ActivityId,
) -> Result<Vec<Registration>, Error> {
    let rows: Vec<RegistrationRow> = sqlx::query_as(&format!(
        "SELECT {REGISTRATION_COLUMNS} FROM registrations WHERE activity_id = $1 ORDER BY position"
    ))
    .bind(activity.to_string())
    .fetch_all(&mut *conn)
    .await
    .map_err(storage)?;
    Ok(decode_all(rows)?)
}
