//! Teachers' professional growth by person: kept only for a teacher who
//! agreed, only on their organization's node, never in the change log.
//! Withdrawing the agreement erases the teacher's records there.

use edufed_domain::ids::{GrowthId, OrgId, PersonId};
use edufed_domain::mentoring::{Error, GrowthConsent, GrowthRecord, NewGrowthRecord};
use edufed_domain::policy::{Action, Principal, Target, authorize};
use sqlx::AnyConnection;

use super::homes;
use crate::Store;
use crate::audit::Written;
use crate::error::storage;
use crate::sql::{from_json, instant, micros, to_json};
use crate::tx::{Locked, WriteTx};

/// Every growth record of this node, for reports.
pub(crate) async fn growth_records(
    conn: &mut AnyConnection,
) -> Result<Vec<GrowthRecord>, edufed_domain::StorageError> {
    let records: Vec<String> =
        sqlx::query_scalar("SELECT record FROM growth_records ORDER BY org_id, on_date, id")
            .fetch_all(&mut *conn)
            .await
            .map_err(storage)?;
    records.iter().map(|r| from_json(r)).collect()
}

/// Refuses an organization that is not hosted here.
async fn hosted_here(conn: &mut AnyConnection, org: &OrgId) -> Result<(), Error> {
    match homes(conn, std::slice::from_ref(org)).await?.get(org) {
        None => Err(Error::OrganizationNotFound(org.to_string())),
        Some(Some(node)) => Err(Error::HostedElsewhere {
            organization: org.to_string(),
            node: node.clone(),
        }),
        Some(None) => Ok(()),
    }
}

async fn consent_of(
    conn: &mut AnyConnection,
    org: &OrgId,
    person: &PersonId,
) -> Result<Option<GrowthConsent>, Error> {
    let given: Option<i64> = sqlx::query_scalar(
        "SELECT given_at FROM growth_consents WHERE org_id = $1 AND person_id = $2",
    )
    .bind(org.to_string())
    .bind(person.to_string())
    .fetch_optional(&mut *conn)
    .await
    .map_err(storage)?;
    Ok(match given {
        Some(at) => Some(GrowthConsent {
            org_id: org.clone(),
            person: person.clone(),
            given_at: instant(at)?,
        }),
        None => None,
    })
}

/// Serializes the changes to a teacher's agreement and records under
/// their organization's row (the agreement's row may not exist yet).
async fn lock(tx: &mut WriteTx<'_>, org: &OrgId) -> Result<(), Error> {
    Ok(tx.lock(Locked::Organizations, org.as_str()).await?)
}

impl Store {
    /// The caller agrees (`given`) or no longer agrees to have their growth
    /// recorded by person in `org`. Withdrawing erases their records there.
    /// Only the person, as a member of the organization.
    #[tracing::instrument(name = "store.mentoring.growth_consent", skip_all, fields(org = %org))]
    pub async fn set_growth_consent(
        &self,
        org: &OrgId,
        given: bool,
        caller: &Principal,
    ) -> Result<Option<GrowthConsent>, Error> {
        let person = &caller.person_id;
        authorize(
            caller,
            Action::ConsentToGrowthRecords,
            Target::Growth { org, person },
        )?;
        let mut tx = self.write_tx().await?;
        hosted_here(tx.conn(), org).await?;
        lock(&mut tx, org).await?;
        let current = consent_of(tx.conn(), org, person).await?;
        let answer = match (given, current) {
            (true, Some(consent)) => Some(consent),
            (true, None) => {
                let consent = GrowthConsent {
                    org_id: org.clone(),
                    person: person.clone(),
                    given_at: tx.now(),
                };
                sqlx::query(
                    "INSERT INTO growth_consents (org_id, person_id, given_at) VALUES ($1, $2, $3)",
                )
                .bind(org.to_string())
                .bind(person.to_string())
                .bind(micros(consent.given_at))
                .execute(tx.conn())
                .await
                .map_err(storage)?;
                tx.audit(Written::private(
                    "growth_consent",
                    person.as_str(),
                    "upsert",
                    org,
                    &caller.actor(),
                ))
                .await?;
                Some(consent)
            }
            (false, _) => {
                tx.audit(Written::private(
                    "growth_consent",
                    person.as_str(),
                    "delete",
                    org,
                    &caller.actor(),
                ))
                .await?;
                for table in ["growth_records", "growth_consents"] {
                    sqlx::query(&format!(
                        "DELETE FROM {table} WHERE org_id = $1 AND person_id = $2"
                    ))
                    .bind(org.to_string())
                    .bind(person.to_string())
                    .execute(tx.conn())
                    .await
                    .map_err(storage)?;
                }
                None
            }
        };
        tx.commit().await?;
        Ok(answer)
    }

    /// Whether `person` agreed to have their growth recorded in `org`: the
    /// person, or the organization's admins and coordinators, may ask.
    pub async fn growth_consent(
        &self,
        org: &OrgId,
        person: &PersonId,
        caller: &Principal,
    ) -> Result<Option<GrowthConsent>, Error> {
        authorize(
            caller,
            Action::RecordTeacherGrowth,
            Target::Growth { org, person },
        )?;
        let mut conn = self.reader().acquire().await.map_err(storage)?;
        consent_of(&mut conn, org, person).await
    }

    /// Records a teacher's growth, if they agreed: the teacher, or an
    /// admin or coordinator of the organization.
    #[tracing::instrument(name = "store.mentoring.record_growth", skip_all, fields(org = %new.org_id))]
    pub async fn record_growth(
        &self,
        new: NewGrowthRecord,
        caller: &Principal,
    ) -> Result<GrowthRecord, Error> {
        authorize(
            caller,
            Action::RecordTeacherGrowth,
            Target::Growth {
                org: &new.org_id,
                person: &new.person,
            },
        )?;
        let new = new.validate()?;
        let mut tx = self.write_tx().await?;
        hosted_here(tx.conn(), &new.org_id).await?;
        lock(&mut tx, &new.org_id).await?;
        if consent_of(tx.conn(), &new.org_id, &new.person)
            .await?
            .is_none()
        {
            return Err(Error::NoConsent {
                person: new.person.to_string(),
                organization: new.org_id.to_string(),
            });
        }
        let at = tx.now();
        let record = new.record(GrowthId::generate(), caller.person_id.clone(), at);
        sqlx::query(
            "INSERT INTO growth_records (id, org_id, person_id, kind, on_date, record, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(record.id.to_string())
        .bind(record.org_id.to_string())
        .bind(record.person.to_string())
        .bind(record.kind.as_str())
        .bind(record.on.to_string())
        .bind(to_json(&record)?)
        .bind(micros(at))
        .execute(tx.conn())
        .await
        .map_err(storage)?;
        tx.audit(Written::private(
            "growth_record",
            record.id.as_str(),
            "upsert",
            &record.org_id,
            &caller.actor(),
        ))
        .await?;
        tx.commit().await?;
        Ok(record)
    }

    /// Deletes a growth record: the teacher, or an admin or coordinator of
    /// the organization. One the caller may not see is not found.
    pub async fn delete_growth(&self, id: &GrowthId, caller: &Principal) -> Result<(), Error> {
        let mut tx = self.write_tx().await?;
        let stored: Option<String> =
            sqlx::query_scalar("SELECT record FROM growth_records WHERE id = $1")
                .bind(id.to_string())
                .fetch_optional(tx.conn())
                .await
                .map_err(storage)?;
        let record: GrowthRecord = match stored {
            Some(text) => from_json(&text)?,
            None => return Err(Error::GrowthNotFound(id.to_string())),
        };
        authorize(
            caller,
            Action::RecordTeacherGrowth,
            Target::Growth {
                org: &record.org_id,
                person: &record.person,
            },
        )
        .map_err(|_| Error::GrowthNotFound(id.to_string()))?;
        sqlx::query("DELETE FROM growth_records WHERE id = $1")
            .bind(id.to_string())
            .execute(tx.conn())
            .await
            .map_err(storage)?;
        tx.audit(Written::private(
            "growth_record",
            id.as_str(),
            "delete",
            &record.org_id,
            &caller.actor(),
        ))
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// An organization's growth records, newest first: one teacher's (the
    /// teacher, or the organization's admins and coordinators), or every
    /// teacher's (its admins and coordinators only), with who agreed.
    pub async fn list_growth(
        &self,
        org: &OrgId,
        person: Option<&PersonId>,
        caller: &Principal,
    ) -> Result<(Vec<GrowthRecord>, Vec<GrowthConsent>), Error> {
        match person {
            Some(person) => authorize(
                caller,
                Action::RecordTeacherGrowth,
                Target::Growth { org, person },
            )?,
            None => authorize(
                caller,
                Action::StateTeacherFigures,
                Target::Organization(org),
            )?,
        }
        let who = person.map(ToString::to_string).unwrap_or_default();
        let mut conn = self.reader().acquire().await.map_err(storage)?;
        let records: Vec<String> = sqlx::query_scalar(
            "SELECT record FROM growth_records WHERE org_id = $1 AND ($2 = '' OR person_id = $2) \
             ORDER BY on_date DESC, created_at DESC, id",
        )
        .bind(org.to_string())
        .bind(&who)
        .fetch_all(&mut *conn)
        .await
        .map_err(storage)?;
        let consents: Vec<(String, i64)> = sqlx::query_as(
            "SELECT person_id, given_at FROM growth_consents \
             WHERE org_id = $1 AND ($2 = '' OR person_id = $2) ORDER BY person_id",
        )
        .bind(org.to_string())
        .bind(&who)
        .fetch_all(&mut *conn)
        .await
        .map_err(storage)?;
        Ok((
            records
                .iter()
                .map(|r| from_json(r))
                .collect::<Result<_, _>>()?,
            consents
                .into_iter()
                .map(|(person, at)| {
                    Ok(GrowthConsent {
                        org_id: org.clone(),
                        person: PersonId::from_stored(person),
                        given_at: instant(at)?,
                    })
                })
                .collect::<Result<_, edufed_domain::StorageError>>()?,
        ))
    }
}
