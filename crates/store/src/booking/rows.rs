//! The booking tables' rows, each decoded in one place.

use edufed_domain::StorageError;
use edufed_domain::booking::{BookedOccurrence, Booking, Error, OccurrenceState, Resource};
use edufed_domain::ids::{ActivityId, AgreementId, BookingId, OrgId, PersonId, ResourceId};
use sqlx::AnyConnection;

use crate::error::storage;
use crate::sql::{decode_all, from_json, instant, optional_instant, unsigned};

pub(super) const OCCURRENCE_COLUMNS: &str =
    "booking_id, start_at, end_at, state, hold_expires_at, note";

#[derive(sqlx::FromRow)]
pub(super) struct ResourceRow {
    id: String,
    owner_id: String,
    details: String,
    blackouts: String,
    version: i64,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<ResourceRow> for Resource {
    type Error = StorageError;

    fn try_from(row: ResourceRow) -> Result<Self, StorageError> {
        Ok(Resource {
            id: ResourceId::from_stored(row.id),
            owner: OrgId::from_stored(row.owner_id),
            details: from_json(&row.details)?,
            blackouts: from_json(&row.blackouts)?,
            version: unsigned(row.version)?,
            created_at: instant(row.created_at)?,
            updated_at: instant(row.updated_at)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct BookingRow {
    id: String,
    resource_id: String,
    requester_org_id: String,
    requester_id: String,
    purpose: String,
    headcount: i64,
    activity_id: Option<String>,
    agreement_id: Option<String>,
    version: i64,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<BookingRow> for Booking {
    type Error = StorageError;

    fn try_from(row: BookingRow) -> Result<Self, StorageError> {
        Ok(Booking {
            id: BookingId::from_stored(row.id),
            resource_id: ResourceId::from_stored(row.resource_id),
            requester_org: OrgId::from_stored(row.requester_org_id),
            requester: PersonId::from_stored(row.requester_id),
            purpose: row.purpose,
            headcount: u32::try_from(row.headcount).unwrap_or(u32::MAX),
            activity_id: row.activity_id.map(ActivityId::from_stored),
            agreement_id: row.agreement_id.map(AgreementId::from_stored),
            version: unsigned(row.version)?,
            created_at: instant(row.created_at)?,
            updated_at: instant(row.updated_at)?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct OccurrenceRow {
    pub(super) booking_id: String,
    start_at: i64,
    end_at: i64,
    state: String,
    hold_expires_at: Option<i64>,
    note: Option<String>,
}

impl TryFrom<OccurrenceRow> for BookedOccurrence {
    type Error = StorageError;

    fn try_from(row: OccurrenceRow) -> Result<Self, StorageError> {
        Ok(BookedOccurrence {
            start: instant(row.start_at)?,
            end: instant(row.end_at)?,
            state: OccurrenceState::parse("state", &row.state).map_err(StorageError::new)?,
            hold_expires_at: optional_instant(row.hold_expires_at)?,
            note: row.note,
        })
    }
}

pub(super) async fn load_resource(
    conn: &mut AnyConnection,
    id: &ResourceId,
) -> Result<Resource, Error> {
    let row: ResourceRow = sqlx::query_as(
        "SELECT id, owner_id, details, blackouts, version, created_at, updated_at \
         FROM resources WHERE id = $1",
    )
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await
    .map_err(storage)?
    .ok_or_else(|| Error::ResourceNotFound(id.to_string()))?;
    Ok(row.try_into()?)
}

pub(super) async fn load_booking(
    conn: &mut AnyConnection,
    id: &BookingId,
) -> Result<Booking, Error> {
    let row: BookingRow = sqlx::query_as(
        "SELECT id, resource_id, requester_org_id, requester_id, purpose, headcount, activity_id, \
         agreement_id, version, created_at, updated_at FROM bookings WHERE id = $1",
    )
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await
    .map_err(storage)?
    .ok_or_else(|| Error::BookingNotFound(id.to_string()))?;
    Ok(row.try_into()?)
}

pub(super) async fn load_occurrences(
    conn: &mut AnyConnection,
    id: &BookingId,
) -> Result<Vec<BookedOccurrence>, Error> {
    let rows: Vec<OccurrenceRow> = sqlx::query_as(&format!(
        "SELECT {OCCURRENCE_COLUMNS} FROM booking_occurrences WHERE booking_id = $1 ORDER BY start_at"
    ))
    .bind(id.to_string())
    .fetch_all(&mut *conn)
    .await
    .map_err(storage)?;
    Ok(decode_all(rows)?)
}
