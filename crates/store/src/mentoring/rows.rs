//! The mentoring tables' rows, each decoded in one place.

use edufed_domain::StorageError;
use edufed_domain::ids::{OrgId, ProgrammeId};
use edufed_domain::mentoring::{Assessment, Pair, Programme};

use crate::sql::{from_json, instant, unsigned};

pub(super) const PROGRAMME_COLUMNS: &str = "id, owner_id, record, version, created_at, updated_at";
pub(super) const PAIR_COLUMNS: &str = "record";

#[derive(sqlx::FromRow)]
pub(super) struct ProgrammeRow {
    id: String,
    owner_id: String,
    record: String,
    version: i64,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<ProgrammeRow> for Programme {
    type Error = StorageError;

    fn try_from(row: ProgrammeRow) -> Result<Self, StorageError> {
        Ok(Programme {
            id: ProgrammeId::from_stored(row.id),
            owner: OrgId::from_stored(row.owner_id),
            details: from_json(&row.record)?,
            version: unsigned(row.version)?,
            created_at: instant(row.created_at)?,
            updated_at: instant(row.updated_at)?,
        })
    }
}

/// A pair is kept whole as its domain record; its columns are for queries.
#[derive(sqlx::FromRow)]
pub(super) struct PairRow {
    record: String,
}

impl TryFrom<PairRow> for Pair {
    type Error = StorageError;

    fn try_from(row: PairRow) -> Result<Self, StorageError> {
        from_json(&row.record)
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct AssessmentRow {
    record: String,
}

impl TryFrom<AssessmentRow> for Assessment {
    type Error = StorageError;

    fn try_from(row: AssessmentRow) -> Result<Self, StorageError> {
        from_json(&row.record)
    }
}
