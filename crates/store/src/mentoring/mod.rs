//! Mentoring: programmes, their pairs and groups, and the pairs'
//! assessments. Each write reads what it decides on under the record's
//! lock, asks the policy with the programme as target, and appends its
//! change-log entry: the programme whole, a pair only as its shared view
//! (organizations, form, state, outcome), so no person of a pair, and no
//! pupil's code, ever leaves the node.

mod growth;
mod links;
mod mirrored;
mod records;
mod rows;

use std::collections::HashMap;

use chrono::NaiveDate;
use edufed_domain::changes::{EntityKind, NewChange};
use edufed_domain::federation::Idempotency;
use edufed_domain::ids::{AgreementId, AssessmentId, OrgId, PairId, PersonId, ProgrammeId};
use edufed_domain::mentoring::{
    Assessment, Close, Error, NewAssessment, NewPair, Pair, PairState, Programme, ProgrammeDetails,
};
use edufed_domain::policy::{Action, Principal, Target, authorize, permitted};
use sqlx::AnyConnection;

pub(crate) use self::growth::teacher_figures;
pub(crate) use self::links::linked;
pub use self::mirrored::MirroredProgramme;
pub(crate) use self::records::growth_records;
use self::rows::{AssessmentRow, PAIR_COLUMNS, PROGRAMME_COLUMNS, PairRow, ProgrammeRow};
use crate::Store;
use crate::error::storage;
use crate::sql::{micros, placeholders, signed, to_json};
use crate::tx::{Locked, WriteTx};

/// A pair with its assessments, newest last.
#[derive(Debug, Clone)]
pub struct PairRecord {
    pub pair: Pair,
    pub assessments: Vec<Assessment>,
}

impl Store {
    /// Creates a programme of `owner`, an organization hosted here.
    #[tracing::instrument(name = "store.mentoring.create_programme", skip_all, fields(owner = %owner))]
    pub async fn create_programme(
        &self,
        owner: &OrgId,
        details: ProgrammeDetails,
        caller: &Principal,
    ) -> Result<Programme, Error> {
        authorize(caller, Action::ManageMentoring, Target::Organization(owner))?;
        let details = details.validate(owner)?;
        let mut tx = self.write_tx().await?;
        tx.lock(Locked::Organizations, owner.as_str()).await?;
        check_references(tx.conn(), owner, &details).await?;
        let at = tx.now();
        let programme = Programme {
            id: ProgrammeId::generate(),
            owner: owner.clone(),
            details,
            version: 1,
            created_at: at,
            updated_at: at,
        };
        sqlx::query(
            "INSERT INTO mentoring_programmes (id, owner_id, coordinator_id, record, version, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(programme.id.to_string())
        .bind(owner.to_string())
        .bind(programme.details.coordinator.to_string())
        .bind(to_json(&programme.details)?)
        .bind(signed(programme.version))
        .bind(micros(at))
        .bind(micros(at))
        .execute(tx.conn())
        .await
        .map_err(storage)?;
        save_organizations(&mut tx, &programme).await?;
        append_programme(&mut tx, &programme, caller).await?;
        tx.commit().await?;
        Ok(programme)
    }

    /// Replaces what a programme says of itself. Its pairs' people must
    /// stay of its organizations.
    #[tracing::instrument(name = "store.mentoring.update_programme", skip(self, details, caller))]
    pub async fn update_programme(
        &self,
        id: &ProgrammeId,
        expected_version: Option<u64>,
        details: ProgrammeDetails,
        caller: &Principal,
    ) -> Result<Programme, Error> {
        let mut tx = self.write_tx().await?;
        tx.lock(Locked::MentoringProgrammes, id.as_str()).await?;
        let mut programme = seen_programme(tx.conn(), id, caller).await?;
        authorize(caller, Action::ManageMentoring, target(&programme))?;
        if let Some(expected) = expected_version.filter(|v| *v != programme.version) {
            return Err(Error::ProgrammeVersion {
                id: id.clone(),
                expected,
                actual: programme.version,
            });
        }
        let details = details.validate(&programme.owner)?;
        check_references(tx.conn(), &programme.owner, &details).await?;
        programme.details = details;
        for pair in pairs_of(tx.conn(), id).await? {
            if let Some(org) = pair
                .organizations()
                .into_iter()
                .find(|o| !programme.includes(o))
            {
                return Err(Error::NotInProgramme {
                    field: "partners".into(),
                    org: org.to_string(),
                });
            }
        }
        programme.version += 1;
        programme.updated_at = tx.now();
        sqlx::query(
            "UPDATE mentoring_programmes SET coordinator_id = $1, record = $2, version = $3, \
             updated_at = $4 WHERE id = $5",
        )
        .bind(programme.details.coordinator.to_string())
        .bind(to_json(&programme.details)?)
        .bind(signed(programme.version))
        .bind(micros(programme.updated_at))
        .bind(id.to_string())
        .execute(tx.conn())
        .await
        .map_err(storage)?;
        sqlx::query("DELETE FROM mentoring_programme_orgs WHERE programme_id = $1")
            .bind(id.to_string())
            .execute(tx.conn())
            .await
            .map_err(storage)?;
        save_organizations(&mut tx, &programme).await?;
        append_programme(&mut tx, &programme, caller).await?;
        tx.commit().await?;
        Ok(programme)
    }

    /// A programme, for a member of one of its organizations.
    pub async fn get_programme(
        &self,
        id: &ProgrammeId,
        caller: &Principal,
    ) -> Result<Programme, Error> {
        let mut conn = self.reader().acquire().await.map_err(storage)?;
        seen_programme(&mut conn, id, caller).await
    }

    /// The programmes the caller's organizations take part in (every one
    /// for the operator), or those of `org` among them, by title.
    pub async fn list_programmes(
        &self,
        caller: &Principal,
        org: Option<&OrgId>,
    ) -> Result<Vec<Programme>, Error> {
        let mine = permitted(caller, Action::ViewMentoringProgrammes).organizations();
        let orgs: Option<Vec<OrgId>> = match (mine, org) {
            (None, None) => None,
            (None, Some(org)) => Some(vec![org.clone()]),
            (Some(mine), None) => Some(mine),
            (Some(mine), Some(org)) => Some(mine.into_iter().filter(|o| o == org).collect()),
        };
        let rows: Vec<ProgrammeRow> = match orgs {
            None => sqlx::query_as(&format!(
                "SELECT {PROGRAMME_COLUMNS} FROM mentoring_programmes"
            ))
            .fetch_all(self.reader())
            .await
            .map_err(storage)?,
            Some(orgs) if orgs.is_empty() => Vec::new(),
            Some(orgs) => {
                let sql = format!(
                    "SELECT {PROGRAMME_COLUMNS} FROM mentoring_programmes WHERE id IN \
                     (SELECT programme_id FROM mentoring_programme_orgs WHERE org_id IN ({}))",
                    placeholders(1, orgs.len())
                );
                let mut query = sqlx::query_as(&sql);
                for org in &orgs {
                    query = query.bind(org.to_string());
                }
                query.fetch_all(self.reader()).await.map_err(storage)?
            }
        };
        let mut programmes = rows
            .into_iter()
            .map(Programme::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        programmes.sort_by(|a, b| a.details.title.cmp(&b.details.title).then(a.id.cmp(&b.id)));
        Ok(programmes)
    }

    /// Forms a pair or group in a programme.
    #[tracing::instrument(name = "store.mentoring.add_pair", skip(self, pair, caller))]
    pub async fn add_pair(
        &self,
        programme_id: &ProgrammeId,
        pair: NewPair,
        caller: &Principal,
    ) -> Result<Pair, Error> {
        let mut tx = self.write_tx().await?;
        tx.lock(Locked::MentoringProgrammes, programme_id.as_str())
            .await?;
        let programme = seen_programme(tx.conn(), programme_id, caller).await?;
        authorize(caller, Action::ManageMentoring, target(&programme))?;
        let homes = homes(tx.conn(), &programme.organizations()).await?;
        let formed: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM mentoring_pairs WHERE programme_id = $1")
                .bind(programme.id.to_string())
                .fetch_one(tx.conn())
                .await
                .map_err(storage)?;
        let formed = usize::try_from(formed).unwrap_or(usize::MAX);
        let pair = pair.validate(&programme, formed, |org| {
            homes.get(org).is_some_and(|home| home.is_none())
        })?;
        let at = tx.now();
        let pair = Pair {
            id: PairId::generate(),
            programme_id: programme.id.clone(),
            owner: programme.owner.clone(),
            form: programme.details.form,
            mentor: pair.mentor,
            mentees: pair.mentees,
            starts_on: pair.starts_on,
            ends_on: pair.ends_on,
            state: PairState::Planned,
            reason: None,
            outcome: None,
            assessments: 0,
            version: 1,
            created_at: at,
            updated_at: at,
        };
        sqlx::query(
            "INSERT INTO mentoring_pairs (id, programme_id, owner_id, state, record, version, \
             created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(pair.id.to_string())
        .bind(programme.id.to_string())
        .bind(programme.owner.to_string())
        .bind(pair.state.as_str())
        .bind(to_json(&pair)?)
        .bind(signed(pair.version))
        .bind(micros(at))
        .bind(micros(at))
        .execute(tx.conn())
        .await
        .map_err(storage)?;
        append_pair(&mut tx, &pair, caller).await?;
        tx.commit().await?;
        Ok(pair)
    }

    /// A programme's closed register: who mentors whom, for those the
    /// policy lets read it.
    pub async fn list_pairs(
        &self,
        programme_id: &ProgrammeId,
        caller: &Principal,
    ) -> Result<Vec<Pair>, Error> {
        let mut conn = self.reader().acquire().await.map_err(storage)?;
        let programme = seen_programme(&mut conn, programme_id, caller).await?;
        authorize(caller, Action::ViewMentoringRegister, target(&programme))?;
        pairs_of(&mut conn, programme_id).await
    }

    /// A pair with its assessments, for those who read the register.
    pub async fn get_pair(&self, id: &PairId, caller: &Principal) -> Result<PairRecord, Error> {
        let mut conn = self.reader().acquire().await.map_err(storage)?;
        let pair = load_pair(&mut conn, id).await?;
        let programme = seen_programme(&mut conn, &pair.programme_id, caller)
            .await
            .map_err(|_| Error::PairNotFound(id.to_string()))?;
        authorize(caller, Action::ViewMentoringRegister, target(&programme))?;
        let rows: Vec<AssessmentRow> = sqlx::query_as(
            "SELECT record FROM mentoring_assessments WHERE pair_id = $1 \
             ORDER BY created_at, id",
        )
        .bind(id.to_string())
        .fetch_all(&mut *conn)
        .await
        .map_err(storage)?;
        let assessments = rows
            .into_iter()
            .map(Assessment::try_from)
            .collect::<Result<_, _>>()?;
        Ok(PairRecord { pair, assessments })
    }

    /// The pair started meeting on `on`.
    #[tracing::instrument(name = "store.mentoring.start_pair", skip(self, caller))]
    pub async fn start_pair(
        &self,
        id: &PairId,
        expected_version: Option<u64>,
        on: NaiveDate,
        caller: &Principal,
        key: Option<&Idempotency>,
    ) -> Result<Pair, Error> {
        self.change_pair(
            id,
            expected_version,
            Action::ManageMentoring,
            (caller, key),
            |pair, at| pair.start(on, at),
        )
        .await
    }

    /// The pair came to its end: completed with its outcome (those who
    /// assess the programme's pairs), or early with a reason (also the
    /// admins and coordinators of the pair's own organizations).
    #[tracing::instrument(name = "store.mentoring.close_pair", skip(self, close, caller, key))]
    pub async fn close_pair(
        &self,
        id: &PairId,
        expected_version: Option<u64>,
        close: Close,
        caller: &Principal,
        key: Option<&Idempotency>,
    ) -> Result<Pair, Error> {
        let close = close.validate()?;
        let action = match close {
            Close::Complete { .. } => Action::AssessMentoring,
            Close::EndEarly { .. } => Action::ManageMentoring,
        };
        self.change_pair(id, expected_version, action, (caller, key), |pair, at| {
            pair.close(close, at)
        })
        .await
    }

    /// Records the pair's assessment at a checkpoint, against the
    /// programme's monitoring card.
    #[tracing::instrument(name = "store.mentoring.assess_pair", skip(self, assessment, caller))]
    pub async fn assess_pair(
        &self,
        id: &PairId,
        assessment: NewAssessment,
        caller: &Principal,
    ) -> Result<Assessment, Error> {
        let mut tx = self.write_tx().await?;
        let (pair, programme) = locked_pair(&mut tx, id, Action::AssessMentoring, caller).await?;
        let new = assessment.validate(&programme.details.criteria)?;
        let at = tx.now();
        let pair = pair.assessed(at)?;
        let assessment = Assessment {
            id: AssessmentId::generate(),
            pair_id: id.clone(),
            checkpoint: new.checkpoint,
            on: new.on,
            scores: new.scores,
            comment: new.comment,
            by: caller.person_id.clone(),
            created_at: at,
        };
        sqlx::query(
            "INSERT INTO mentoring_assessments (id, pair_id, record, created_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(assessment.id.to_string())
        .bind(id.to_string())
        .bind(to_json(&assessment)?)
        .bind(micros(at))
        .execute(tx.conn())
        .await
        .map_err(storage)?;
        save_pair(&mut tx, &pair, caller).await?;
        tx.commit().await?;
        Ok(assessment)
    }

    /// Changes a pair by `step`, for `caller`; a write a peer forwarded
    /// with its idempotency key has its effect once, a retry getting the
    /// first answer.
    async fn change_pair(
        &self,
        id: &PairId,
        expected_version: Option<u64>,
        action: Action,
        (caller, key): (&Principal, Option<&Idempotency>),
        step: impl FnOnce(Pair, chrono::DateTime<chrono::Utc>) -> Result<Pair, Error>,
    ) -> Result<Pair, Error> {
        let mut tx = self.write_tx().await?;
        if let Some(answer) = tx.claim::<Pair, Error>(key).await? {
            return tx.replay(answer).await;
        }
        let (pair, _) = locked_pair(&mut tx, id, action, caller).await?;
        if let Some(expected) = expected_version.filter(|v| *v != pair.version) {
            return Err(Error::PairVersion {
                id: id.clone(),
                expected,
                actual: pair.version,
            });
        }
        let pair = step(pair, tx.now())?;
        save_pair(&mut tx, &pair, caller).await?;
        tx.commit_with(&pair).await?;
        Ok(pair)
    }
}

/// The pair `id` under its lock, and its programme, for a caller the
/// policy lets do `action` in it; one who may not see the programme is
/// told the pair does not exist.
async fn locked_pair(
    tx: &mut WriteTx<'_>,
    id: &PairId,
    action: Action,
    caller: &Principal,
) -> Result<(Pair, Programme), Error> {
    tx.lock(Locked::MentoringPairs, id.as_str()).await?;
    let pair = load_pair(tx.conn(), id).await?;
    let programme = seen_programme(tx.conn(), &pair.programme_id, caller)
        .await
        .map_err(|_| Error::PairNotFound(id.to_string()))?;
    let organizations = pair.organizations();
    authorize(
        caller,
        action,
        Target::Pair {
            owner: &programme.owner,
            partners: &programme.details.partners,
            coordinator: &programme.details.coordinator,
            organizations: &organizations,
        },
    )?;
    Ok((pair, programme))
}

/// The policy's view of a programme.
fn target(programme: &Programme) -> Target<'_> {
    Target::Programme {
        owner: &programme.owner,
        partners: &programme.details.partners,
        coordinator: &programme.details.coordinator,
    }
}

/// The programme `id`, if the caller may see it: the operator, or a
/// member of one of its organizations, or its coordinator. Anyone else is
/// told it does not exist.
async fn seen_programme(
    conn: &mut AnyConnection,
    id: &ProgrammeId,
    caller: &Principal,
) -> Result<Programme, Error> {
    let row: ProgrammeRow = sqlx::query_as(&format!(
        "SELECT {PROGRAMME_COLUMNS} FROM mentoring_programmes WHERE id = $1"
    ))
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await
    .map_err(storage)?
    .ok_or_else(|| Error::ProgrammeNotFound(id.to_string()))?;
    let programme = Programme::try_from(row)?;
    match authorize(caller, Action::ViewMentoringProgrammes, target(&programme)) {
        Ok(()) => Ok(programme),
        Err(_) => Err(Error::ProgrammeNotFound(id.to_string())),
    }
}

async fn load_pair(conn: &mut AnyConnection, id: &PairId) -> Result<Pair, Error> {
    let row: PairRow = sqlx::query_as(&format!(
        "SELECT {PAIR_COLUMNS} FROM mentoring_pairs WHERE id = $1"
    ))
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await
    .map_err(storage)?
    .ok_or_else(|| Error::PairNotFound(id.to_string()))?;
    Ok(Pair::try_from(row)?)
}

async fn pairs_of(conn: &mut AnyConnection, programme: &ProgrammeId) -> Result<Vec<Pair>, Error> {
    let rows: Vec<PairRow> = sqlx::query_as(&format!(
        "SELECT {PAIR_COLUMNS} FROM mentoring_pairs WHERE programme_id = $1 \
         ORDER BY created_at, id"
    ))
    .bind(programme.to_string())
    .fetch_all(&mut *conn)
    .await
    .map_err(storage)?;
    Ok(rows
        .into_iter()
        .map(Pair::try_from)
        .collect::<Result<_, _>>()?)
}

/// Where each of `orgs` is hosted: `None` here, else its home node. An
/// organization not known on this node is missing from the map.
async fn homes(
    conn: &mut AnyConnection,
    orgs: &[OrgId],
) -> Result<HashMap<OrgId, Option<String>>, Error> {
    if orgs.is_empty() {
        return Ok(HashMap::new());
    }
    let sql = format!(
        "SELECT id, home_node FROM organizations WHERE id IN ({})",
        placeholders(1, orgs.len())
    );
    let mut query = sqlx::query_as::<_, (String, Option<String>)>(&sql);
    for org in orgs {
        query = query.bind(org.to_string());
    }
    let rows = query.fetch_all(&mut *conn).await.map_err(storage)?;
    Ok(rows
        .into_iter()
        .map(|(id, home)| (OrgId::from_stored(id), home))
        .collect())
}

/// The owner is hosted here; the partners, the coordinator and the
/// agreement exist.
async fn check_references(
    conn: &mut AnyConnection,
    owner: &OrgId,
    details: &ProgrammeDetails,
) -> Result<(), Error> {
    let mut orgs = vec![owner.clone()];
    orgs.extend(details.partners.iter().cloned());
    let homes = homes(conn, &orgs).await?;
    match homes.get(owner) {
        None => return Err(Error::OrganizationNotFound(owner.to_string())),
        Some(Some(node)) => {
            return Err(Error::HostedElsewhere {
                organization: owner.to_string(),
                node: node.clone(),
            });
        }
        Some(None) => {}
    }
    for (i, partner) in details.partners.iter().enumerate() {
        if !homes.contains_key(partner) {
            return Err(Error::NotKnown {
                field: format!("partners[{i}]"),
                org: partner.to_string(),
            });
        }
    }
    person_exists(conn, &details.coordinator).await?;
    if let Some(agreement) = &details.agreement {
        agreement_exists(conn, agreement).await?;
    }
    Ok(())
}

async fn person_exists(conn: &mut AnyConnection, id: &PersonId) -> Result<(), Error> {
    let found: Option<String> = sqlx::query_scalar("SELECT id FROM people WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await
        .map_err(storage)?;
    found
        .map(|_| ())
        .ok_or_else(|| Error::PersonNotFound(id.to_string()))
}

/// An agreement of this node, or one it mirrors from a peer.
async fn agreement_exists(conn: &mut AnyConnection, id: &AgreementId) -> Result<(), Error> {
    let found: Option<String> = sqlx::query_scalar(
        "SELECT id FROM agreements WHERE id = $1 UNION ALL \
         SELECT entity_id FROM mirrors WHERE entity_kind = 'agreement' AND entity_id = $1",
    )
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await
    .map_err(storage)?;
    found
        .map(|_| ())
        .ok_or_else(|| Error::AgreementNotFound(id.to_string()))
}

async fn save_organizations(tx: &mut WriteTx<'_>, programme: &Programme) -> Result<(), Error> {
    for org in programme.organizations() {
        sqlx::query("INSERT INTO mentoring_programme_orgs (programme_id, org_id) VALUES ($1, $2)")
            .bind(programme.id.to_string())
            .bind(org.to_string())
            .execute(tx.conn())
            .await
            .map_err(storage)?;
    }
    Ok(())
}

async fn save_pair(tx: &mut WriteTx<'_>, pair: &Pair, caller: &Principal) -> Result<(), Error> {
    sqlx::query(
        "UPDATE mentoring_pairs SET state = $1, record = $2, version = $3, updated_at = $4 \
         WHERE id = $5",
    )
    .bind(pair.state.as_str())
    .bind(to_json(pair)?)
    .bind(signed(pair.version))
    .bind(micros(pair.updated_at))
    .bind(pair.id.to_string())
    .execute(tx.conn())
    .await
    .map_err(storage)?;
    append_pair(tx, pair, caller).await
}

async fn append_programme(
    tx: &mut WriteTx<'_>,
    programme: &Programme,
    caller: &Principal,
) -> Result<(), Error> {
    tx.append(
        NewChange::upsert(
            EntityKind::MentoringProgramme,
            programme.id.to_string(),
            programme.version,
            Some(programme.owner.clone()),
            programme,
            &caller.actor(),
        )
        .for_orgs(programme.details.partners.iter().cloned()),
    )
    .await?;
    Ok(())
}

/// The pair's entry: its shared view, for its organizations.
async fn append_pair(tx: &mut WriteTx<'_>, pair: &Pair, caller: &Principal) -> Result<(), Error> {
    tx.append(
        NewChange::upsert(
            EntityKind::MentoringPair,
            pair.id.to_string(),
            pair.version,
            Some(pair.owner.clone()),
            &pair.shared(),
            &caller.actor(),
        )
        .for_orgs(pair.organizations()),
    )
    .await?;
    Ok(())
}
