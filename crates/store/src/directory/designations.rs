//! Organizations' designations: an organization's own, kept whole beside
//! the columns searches select on and shared with the network through the
//! change log; and those its peers share, kept in the same table under the
//! peer's node id, so that the directory and the calendar select on both
//! in one clause.

use chrono::NaiveDate;
use edufed_domain::changes::{EntityKind, NewChange};
use edufed_domain::designations::{Designation, DesignationDetails, DesignationQuery, Error};
use edufed_domain::directory::OrgRef;
use edufed_domain::ids::{DesignationId, OrgId};
use edufed_domain::policy::{Action, Principal, Target, authorize};
use edufed_domain::text;
use sqlx::AnyConnection;

use crate::Store;
use crate::error::storage;
use crate::sql::{QueryText, Value, from_json, like_escape, micros, signed, to_json};
use crate::tx::{Locked, WriteTx};

/// The most designations one listing answers.
pub const MAX_LISTED: u32 = 2_000;

/// A designation as a listing found it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundDesignation {
    pub designation: Designation,
    /// The node that keeps it; `None` here.
    pub home: Option<String>,
}

/// The origin column of this node's own designations.
const OWN: &str = "";

fn day(d: Option<NaiveDate>) -> Option<String> {
    d.map(|d| d.format("%Y-%m-%d").to_string())
}

async fn save(tx: &mut WriteTx<'_>, origin: &str, d: &Designation) -> Result<(), Error> {
    sqlx::query("DELETE FROM designations WHERE origin = $1 AND id = $2")
        .bind(origin.to_owned())
        .bind(d.id.to_string())
        .execute(tx.conn())
        .await
        .map_err(storage)?;
    sqlx::query(
        "INSERT INTO designations (origin, id, org_id, kind, field_folded, valid_from, \
         valid_until, record, version, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(origin.to_owned())
    .bind(d.id.to_string())
    .bind(d.org.to_string())
    .bind(d.details.kind.as_str())
    .bind(text::fold(&d.details.field))
    .bind(day(d.details.valid_from))
    .bind(day(d.details.valid_until))
    .bind(to_json(d)?)
    .bind(signed(d.version))
    .bind(micros(d.created_at))
    .bind(micros(d.updated_at))
    .execute(tx.conn())
    .await
    .map_err(storage)?;
    Ok(())
}

async fn load(conn: &mut AnyConnection, id: &DesignationId) -> Result<Designation, Error> {
    let record: Option<String> =
        sqlx::query_scalar("SELECT record FROM designations WHERE origin = $1 AND id = $2")
            .bind(OWN)
            .bind(id.to_string())
            .fetch_optional(&mut *conn)
            .await
            .map_err(storage)?;
    match record {
        Some(record) => Ok(from_json(&record)?),
        None => Err(Error::NotFound(id.to_string())),
    }
}

/// Narrows `q` (over a column of organization ids, `column`) to the
/// organizations a designation of `query` stands for.
pub(crate) fn push_designated(q: &mut QueryText, column: &str, query: &DesignationQuery) {
    q.raw(&format!(
        " AND {column} IN (SELECT x.org_id FROM designations x WHERE 1 = 1"
    ));
    push_conditions(q, "x", query);
    q.raw(")");
}

/// The conditions of `query` on the designations aliased `alias`.
fn push_conditions(q: &mut QueryText, alias: &str, query: &DesignationQuery) {
    q.push(
        &format!(" AND {alias}.kind = $?"),
        Value::Text(query.kind.as_str().into()),
    );
    if let Some(field) = &query.field {
        q.push(
            &format!(" AND {alias}.field_folded LIKE $? ESCAPE '\\'"),
            Value::Text(format!("%{}%", like_escape(field))),
        );
    }
    if let Some(on) = query.on {
        let on = on.format("%Y-%m-%d").to_string();
        q.push(
            &format!(" AND ({alias}.valid_from IS NULL OR {alias}.valid_from <= $?)"),
            Value::Text(on.clone()),
        );
        q.push(
            &format!(" AND ({alias}.valid_until IS NULL OR {alias}.valid_until >= $?)"),
            Value::Text(on),
        );
    }
}

impl Store {
    /// States a new designation of `org`, an organization hosted here.
    #[tracing::instrument(name = "store.designations.add", skip_all, fields(org = %org))]
    pub async fn add_designation(
        &self,
        org: &OrgId,
        details: DesignationDetails,
        caller: &Principal,
    ) -> Result<Designation, Error> {
        authorize(
            caller,
            Action::ManageDesignations,
            Target::Organization(org),
        )?;
        let mut tx = self.write_tx().await?;
        let found = super::find_org(tx.conn(), &OrgRef::Id(org.clone())).await?;
        found.ensure_hosted_here()?;
        tx.lock(Locked::Organizations, org.as_str()).await?;
        let designation = Designation::new(org.clone(), details, tx.now())?;
        save(&mut tx, OWN, &designation).await?;
        tx.append(change(&designation, caller, false)).await?;
        tx.commit().await?;
        Ok(designation)
    }

    /// Replaces a designation's details.
    #[tracing::instrument(name = "store.designations.change", skip_all, fields(id = %id))]
    pub async fn change_designation(
        &self,
        id: &DesignationId,
        expected_version: Option<u64>,
        details: DesignationDetails,
        caller: &Principal,
    ) -> Result<Designation, Error> {
        let mut tx = self.write_tx().await?;
        let current = load(tx.conn(), id).await?;
        authorize(
            caller,
            Action::ManageDesignations,
            Target::Organization(&current.org),
        )?;
        tx.lock(Locked::Organizations, current.org.as_str()).await?;
        let current = load(tx.conn(), id).await?;
        let next = current.changed(details, expected_version, tx.now())?;
        save(&mut tx, OWN, &next).await?;
        tx.append(change(&next, caller, false)).await?;
        tx.commit().await?;
        Ok(next)
    }

    /// Removes a designation (its term ended early, or it was stated in
    /// error); peers drop their copies.
    #[tracing::instrument(name = "store.designations.remove", skip_all, fields(id = %id))]
    pub async fn remove_designation(
        &self,
        id: &DesignationId,
        expected_version: Option<u64>,
        caller: &Principal,
    ) -> Result<Designation, Error> {
        let mut tx = self.write_tx().await?;
        let current = load(tx.conn(), id).await?;
        authorize(
            caller,
            Action::ManageDesignations,
            Target::Organization(&current.org),
        )?;
        tx.lock(Locked::Organizations, current.org.as_str()).await?;
        let mut current = load(tx.conn(), id).await?;
        if let Some(expected) = expected_version
            && expected != current.version
        {
            return Err(Error::Version {
                id: current.id.clone(),
                expected,
                actual: current.version,
            });
        }
        sqlx::query("DELETE FROM designations WHERE origin = $1 AND id = $2")
            .bind(OWN)
            .bind(id.to_string())
            .execute(tx.conn())
            .await
            .map_err(storage)?;
        current.version += 1;
        current.updated_at = tx.now();
        tx.append(change(&current, caller, true)).await?;
        tx.commit().await?;
        Ok(current)
    }

    /// Designations here and shared by peers: of `org` when set, answering
    /// `query` when set; by organization and kind, at most [`MAX_LISTED`].
    pub async fn list_designations(
        &self,
        org: Option<&OrgId>,
        query: Option<&DesignationQuery>,
    ) -> Result<Vec<FoundDesignation>, Error> {
        let mut q = QueryText::new("SELECT origin, record FROM designations d WHERE 1 = 1");
        if let Some(org) = org {
            q.push(" AND d.org_id = $?", Value::Text(org.to_string()));
        }
        if let Some(query) = query {
            push_conditions(&mut q, "d", query);
        }
        q.push(
            " ORDER BY d.org_id, d.kind, d.created_at, d.id LIMIT $?",
            Value::Int(i64::from(MAX_LISTED)),
        );
        let rows: Vec<(String, String)> = q
            .query_as()
            .fetch_all(self.reader())
            .await
            .map_err(storage)?;
        let mut found = Vec::new();
        for (origin, record) in rows {
            let designation: Designation = from_json(&record)?;
            found.push(FoundDesignation {
                designation,
                home: (origin != OWN).then_some(origin),
            });
        }
        Ok(found)
    }
}

fn change(d: &Designation, caller: &Principal, removed: bool) -> NewChange {
    let make = if removed {
        NewChange::delete
    } else {
        NewChange::upsert
    };
    make(
        EntityKind::Designation,
        d.id.to_string(),
        d.version,
        Some(d.org.clone()),
        d,
        &caller.actor(),
    )
    .shared(true)
}

/// Keeps a designation `origin` shares (its organization one the origin
/// hosts, checked by the caller).
pub(crate) async fn mirror(
    tx: &mut WriteTx<'_>,
    origin: &str,
    payload: &str,
    entity_id: &str,
    org: Option<&OrgId>,
) -> Result<(), edufed_domain::StorageError> {
    let designation = match serde_json::from_str::<Designation>(payload) {
        Ok(d) if d.id.as_str() == entity_id && Some(&d.org) == org => d,
        _ => {
            tracing::warn!(%origin, id = %entity_id, "mirrored designation unreadable or not its entry's; ignored");
            return Ok(());
        }
    };
    match save(tx, origin, &designation).await {
        Ok(()) => Ok(()),
        Err(Error::Storage(e)) => Err(e),
        Err(other) => Err(edufed_domain::StorageError::new(other)),
    }
}

/// Drops the copy of a designation `origin` removed or no longer shares.
pub(crate) async fn forget(
    tx: &mut WriteTx<'_>,
    origin: &str,
    id: &str,
) -> Result<(), edufed_domain::StorageError> {
    sqlx::query("DELETE FROM designations WHERE origin = $1 AND id = $2")
        .bind(origin.to_owned())
        .bind(id.to_owned())
        .execute(tx.conn())
        .await
        .map_err(storage)?;
    Ok(())
}
