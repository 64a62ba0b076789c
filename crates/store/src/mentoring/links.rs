//! What an activity's mentoring link names: the programme and the pair,
//! kept here or mirrored from the node that keeps them.

use edufed_domain::calendar::{ActivityDetails, Error};
use edufed_domain::changes::EntityKind;
use edufed_domain::ids::OrgId;
use edufed_domain::mentoring::{Pair, SharedPair};
use sqlx::AnyConnection;

use super::rows::{PAIR_COLUMNS, PairRow};
use crate::error::storage;
use crate::sql::from_json;

/// `details` with its mentoring link checked against the programme and
/// pair it names (see [`ActivityDetails::linked`]); unchanged without one.
pub(crate) async fn linked(
    conn: &mut AnyConnection,
    publisher: &OrgId,
    details: ActivityDetails,
) -> Result<ActivityDetails, Error> {
    let Some(link) = &details.mentoring else {
        return Ok(details);
    };
    let programme = link.programme.to_string();
    let kept: Option<String> =
        sqlx::query_scalar("SELECT id FROM mentoring_programmes WHERE id = $1")
            .bind(&programme)
            .fetch_optional(&mut *conn)
            .await
            .map_err(storage)?;
    if kept.is_none()
        && mirrored(conn, EntityKind::MentoringProgramme, &programme)
            .await?
            .is_none()
    {
        return Err(Error::ProgrammeNotFound(programme));
    }
    let pair = match &link.pair {
        None => None,
        Some(id) => {
            let row: Option<PairRow> = sqlx::query_as(&format!(
                "SELECT {PAIR_COLUMNS} FROM mentoring_pairs WHERE id = $1"
            ))
            .bind(id.to_string())
            .fetch_optional(&mut *conn)
            .await
            .map_err(storage)?;
            match row {
                Some(row) => Some(Pair::try_from(row)?.shared()),
                None => match mirrored(conn, EntityKind::MentoringPair, id.as_str()).await? {
                    Some(payload) => Some(from_json::<SharedPair>(&payload)?),
                    None => None,
                },
            }
        }
    };
    details.linked(publisher, pair)
}

/// The payload of the mirrored record `kind`/`id`, if this node mirrors it.
async fn mirrored(
    conn: &mut AnyConnection,
    kind: EntityKind,
    id: &str,
) -> Result<Option<String>, Error> {
    Ok(sqlx::query_scalar(
        "SELECT payload FROM mirrors WHERE entity_kind = $1 AND entity_id = $2 \
         AND operation = 'upsert' ORDER BY origin LIMIT 1",
    )
    .bind(kind.as_str())
    .bind(id)
    .fetch_optional(&mut *conn)
    .await
    .map_err(storage)?)
}
