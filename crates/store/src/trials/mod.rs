//! The bank of professional trials: each kept whole as its domain record
//! on its host's node, beside the columns the bank's searches select on.
//! A trial enters the change log shared with the network only while it is
//! approved; when it leaves the bank, those who saw it are told it is gone.

use edufed_domain::changes::{Actor, EntityKind, NewChange};
use edufed_domain::ids::{OrgId, TrialId};
use edufed_domain::policy::{Action, Principal, Target, authorize, permitted};
use edufed_domain::text;
use edufed_domain::trials::{Error, ReviewDecision, Trial, TrialProgramme, TrialState};
use sqlx::AnyConnection;

use crate::Store;
use crate::error::storage;
use crate::sql::{QueryText, Value, from_json, like_escape, micros, signed, to_json};
use crate::tx::{Locked, WriteTx};

/// The most trials one search answers.
pub const MAX_LISTED: u32 = 500;

/// A trial as a search found it: kept here, or mirrored from its host's
/// node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FoundTrial {
    pub trial: Trial,
    /// The node that keeps it; `None` here.
    pub home: Option<String>,
}

/// What a search of the bank asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrialFilter {
    pub host: Option<OrgId>,
    pub direction: Option<edufed_domain::calendar::Direction>,
    /// Trials whose grades include this one.
    pub grade: Option<u8>,
    /// Only trials in this state (the caller sees it).
    pub state: Option<TrialState>,
    /// In the profession, goals or content (folded).
    pub query: Option<String>,
}

/// What a search matches against, folded.
fn search_text(programme: &TrialProgramme) -> String {
    text::fold(&format!(
        "{}\n{}\n{}",
        programme.profession, programme.goals, programme.content
    ))
}

fn change(trial: &Trial, actor: &Actor) -> NewChange {
    NewChange::upsert(
        EntityKind::Trial,
        trial.id.to_string(),
        trial.version,
        Some(trial.host.clone()),
        trial,
        actor,
    )
    .shared(trial.listed())
}

async fn save(tx: &mut WriteTx<'_>, trial: &Trial, insert: bool) -> Result<(), Error> {
    let sql = if insert {
        "INSERT INTO trials (state, direction, grade_min, grade_max, search_text, record, version, \
         updated_at, created_at, host_id, id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
    } else {
        "UPDATE trials SET state = $1, direction = $2, grade_min = $3, grade_max = $4, \
         search_text = $5, record = $6, version = $7, updated_at = $8 \
         WHERE created_at = $9 AND host_id = $10 AND id = $11"
    };
    sqlx::query(sql)
        .bind(trial.state.as_str())
        .bind(trial.programme.direction.map(|d| d.as_str().to_owned()))
        .bind(i64::from(trial.programme.grades.min))
        .bind(i64::from(trial.programme.grades.max))
        .bind(search_text(&trial.programme))
        .bind(to_json(trial)?)
        .bind(signed(trial.version))
        .bind(micros(trial.updated_at))
        .bind(micros(trial.created_at))
        .bind(trial.host.to_string())
        .bind(trial.id.to_string())
        .execute(tx.conn())
        .await
        .map_err(storage)?;
    Ok(())
}

async fn load(conn: &mut AnyConnection, id: &TrialId) -> Result<Trial, Error> {
    let record: Option<String> = sqlx::query_scalar("SELECT record FROM trials WHERE id = $1")
        .bind(id.to_string())
        .fetch_optional(&mut *conn)
        .await
        .map_err(storage)?;
    match record {
        Some(record) => Ok(from_json(&record)?),
        None => Err(Error::NotFound(id.to_string())),
    }
}

/// The caller's organizations that are methodical centres hosted here:
/// whose admins and coordinators review trials for the bank.
async fn centres(conn: &mut AnyConnection, caller: &Principal) -> Result<Vec<OrgId>, Error> {
    let mut found = Vec::new();
    for org in caller.organizations() {
        let centre: Option<String> = sqlx::query_scalar(
            "SELECT id FROM organizations WHERE id = $1 AND kind = 'methodical_centre' \
             AND home_node IS NULL",
        )
        .bind(org.to_string())
        .fetch_optional(&mut *conn)
        .await
        .map_err(storage)?;
        if let Some(id) = centre {
            found.push(OrgId::from_stored(id));
        }
    }
    Ok(found)
}

/// Whether the caller reviews trials for the bank, and the centres they
/// do it for.
async fn reviewer(
    conn: &mut AnyConnection,
    caller: &Principal,
) -> Result<(bool, Vec<OrgId>), Error> {
    let centres = centres(conn, caller).await?;
    let reviews = authorize(
        caller,
        Action::ReviewTrials,
        Target::Network { centres: &centres },
    )
    .is_ok();
    Ok((reviews, centres))
}

/// Whether the caller may see `trial`: anyone sees an approved one; its
/// host's people see it in any state; reviewers see what was submitted.
fn sees(caller: &Principal, trial: &Trial, reviews: bool) -> bool {
    trial.listed()
        || authorize(
            caller,
            Action::ManageTrials,
            Target::Organization(&trial.host),
        )
        .is_ok()
        || (reviews && trial.state != TrialState::Draft)
}

impl Store {
    /// A new draft trial of `host`, an organization hosted here.
    #[tracing::instrument(name = "store.trials.create", skip_all, fields(host = %host))]
    pub async fn create_trial(
        &self,
        host: &OrgId,
        programme: TrialProgramme,
        caller: &Principal,
    ) -> Result<Trial, Error> {
        authorize(caller, Action::ManageTrials, Target::Organization(host))?;
        let mut tx = self.write_tx().await?;
        let home: Option<Option<String>> =
            sqlx::query_scalar("SELECT home_node FROM organizations WHERE id = $1")
                .bind(host.to_string())
                .fetch_optional(tx.conn())
                .await
                .map_err(storage)?;
        match home {
            Some(None) => {}
            _ => {
                return Err(edufed_domain::FieldError::new(
                    "host",
                    "is not an organization hosted on this node",
                )
                .into());
            }
        }
        let trial = Trial::draft(TrialId::generate(), host.clone(), programme, tx.now())?;
        save(&mut tx, &trial, true).await?;
        tx.append(change(&trial, &caller.actor())).await?;
        tx.commit().await?;
        Ok(trial)
    }

    /// Changes a trial by `step`, under its lock, for a caller the policy
    /// lets do `action`: the host's people for their steps, a reviewer for
    /// a review. One who may not see it is told it does not exist.
    async fn change_trial(
        &self,
        id: &TrialId,
        expected_version: Option<u64>,
        review: bool,
        caller: &Principal,
        step: impl FnOnce(&Trial, chrono::DateTime<chrono::Utc>) -> Result<Trial, Error>,
    ) -> Result<Trial, Error> {
        let mut tx = self.write_tx().await?;
        tx.lock(Locked::Trials, id.as_str()).await?;
        let current = load(tx.conn(), id).await?;
        let (reviews, centres) = reviewer(tx.conn(), caller).await?;
        if !sees(caller, &current, reviews) {
            return Err(Error::NotFound(id.to_string()));
        }
        if review {
            authorize(
                caller,
                Action::ReviewTrials,
                Target::Network { centres: &centres },
            )?;
        } else {
            authorize(
                caller,
                Action::ManageTrials,
                Target::Organization(&current.host),
            )?;
        }
        current.at_version(expected_version)?;
        let next = step(&current, tx.now())?;
        save(&mut tx, &next, false).await?;
        let actor = caller.actor();
        if current.listed() && !next.listed() {
            // Those who saw it in the bank are told it left; the entry
            // carries nothing but its id.
            tx.append(
                NewChange::delete(
                    EntityKind::Trial,
                    next.id.to_string(),
                    next.version,
                    Some(next.host.clone()),
                    &serde_json::json!({ "id": next.id }),
                    &actor,
                )
                .shared(true),
            )
            .await?;
        }
        tx.append(change(&next, &actor)).await?;
        tx.commit().await?;
        Ok(next)
    }

    /// The host replaces the programme (a new revision once returned or
    /// approved).
    pub async fn revise_trial(
        &self,
        id: &TrialId,
        expected_version: Option<u64>,
        programme: TrialProgramme,
        caller: &Principal,
    ) -> Result<Trial, Error> {
        self.change_trial(id, expected_version, false, caller, |t, at| {
            t.revise(programme, at)
        })
        .await
    }

    /// The host submits it for review.
    pub async fn submit_trial(
        &self,
        id: &TrialId,
        expected_version: Option<u64>,
        caller: &Principal,
    ) -> Result<Trial, Error> {
        self.change_trial(id, expected_version, false, caller, |t, at| t.submit(at))
            .await
    }

    /// A reviewer approves, returns or refuses the submitted revision.
    pub async fn review_trial(
        &self,
        id: &TrialId,
        expected_version: Option<u64>,
        decision: ReviewDecision,
        comment: &str,
        caller: &Principal,
    ) -> Result<Trial, Error> {
        let by = caller.person_id.clone();
        self.change_trial(id, expected_version, true, caller, |t, at| {
            t.reviewed(decision, comment, by, at)
        })
        .await
    }

    /// The host takes it back.
    pub async fn withdraw_trial(
        &self,
        id: &TrialId,
        expected_version: Option<u64>,
        caller: &Principal,
    ) -> Result<Trial, Error> {
        self.change_trial(id, expected_version, false, caller, |t, at| t.withdrawn(at))
            .await
    }

    /// One trial, kept here or in the bank as a peer shares it.
    pub async fn get_trial(&self, id: &TrialId, caller: &Principal) -> Result<FoundTrial, Error> {
        let mut conn = self.reader().acquire().await.map_err(storage)?;
        match load(&mut conn, id).await {
            Ok(trial) => {
                let (reviews, _) = reviewer(&mut conn, caller).await?;
                if sees(caller, &trial, reviews) {
                    Ok(FoundTrial { trial, home: None })
                } else {
                    Err(Error::NotFound(id.to_string()))
                }
            }
            Err(Error::NotFound(_)) => self
                .mirrored_trials()
                .await?
                .into_iter()
                .find(|f| &f.trial.id == id)
                .ok_or_else(|| Error::NotFound(id.to_string())),
            Err(other) => Err(other),
        }
    }

    /// The trials peers share with this node: those in their banks.
    async fn mirrored_trials(&self) -> Result<Vec<FoundTrial>, Error> {
        let mirrors = self
            .mirrors_of_kind(EntityKind::Trial, MAX_LISTED)
            .await
            .map_err(|e| Error::Storage(edufed_domain::StorageError::new(e)))?;
        let mut found = Vec::new();
        for mirror in mirrors {
            match mirror.decode::<Trial>() {
                Ok(trial) if trial.listed() => found.push(FoundTrial {
                    trial,
                    home: Some(mirror.origin.clone()),
                }),
                Ok(_) => {}
                Err(_) => tracing::warn!(
                    origin = %mirror.origin,
                    "a mirrored trial could not be read; left out of the bank"
                ),
            }
        }
        Ok(found)
    }

    /// The bank as the caller sees it: approved trials (here and shared by
    /// peers), and in any state those of the caller's own organizations
    /// and, for reviewers, those waiting for review; filtered, newest
    /// first, at most [`MAX_LISTED`].
    pub async fn list_trials(
        &self,
        filter: &TrialFilter,
        caller: &Principal,
    ) -> Result<Vec<FoundTrial>, Error> {
        let mut conn = self.reader().acquire().await.map_err(storage)?;
        let (reviews, _) = reviewer(&mut conn, caller).await?;
        let mut q = QueryText::new("SELECT record FROM trials WHERE 1 = 1");
        if let Some(host) = &filter.host {
            q.push(" AND host_id = $?", Value::Text(host.to_string()));
        }
        if let Some(direction) = filter.direction {
            q.push(
                " AND direction = $?",
                Value::Text(direction.as_str().into()),
            );
        }
        if let Some(grade) = filter.grade {
            q.push(" AND grade_min <= $?", Value::Int(i64::from(grade)));
            q.push(" AND grade_max >= $?", Value::Int(i64::from(grade)));
        }
        if let Some(state) = filter.state {
            q.push(" AND state = $?", Value::Text(state.as_str().into()));
        }
        if let Some(query) = &filter.query {
            q.push(
                " AND search_text LIKE $? ESCAPE '\\'",
                Value::Text(format!("%{}%", like_escape(query))),
            );
        }
        q.push(
            " ORDER BY updated_at DESC, id LIMIT $?",
            Value::Int(i64::from(MAX_LISTED)),
        );
        let records: Vec<(String,)> = q.query_as().fetch_all(&mut *conn).await.map_err(storage)?;
        let mine = permitted(caller, Action::ManageTrials);
        let mut found = Vec::new();
        for (record,) in records {
            let trial: Trial = from_json(&record)?;
            let own = mine
                .clone()
                .organizations()
                .is_none_or(|orgs| orgs.contains(&trial.host));
            if trial.listed() || own || (reviews && trial.state != TrialState::Draft) {
                found.push(FoundTrial { trial, home: None });
            }
        }
        let wants_bank = filter.state.is_none_or(|s| s == TrialState::Approved);
        if wants_bank {
            for mirrored in self.mirrored_trials().await? {
                let t = &mirrored.trial;
                let admitted = filter.host.as_ref().is_none_or(|h| h == &t.host)
                    && filter
                        .direction
                        .is_none_or(|d| t.programme.direction == Some(d))
                    && filter.grade.is_none_or(|g| t.programme.grades.contains(g))
                    && filter
                        .query
                        .as_ref()
                        .is_none_or(|q| search_text(&t.programme).contains(q.as_str()));
                if admitted {
                    found.push(mirrored);
                }
            }
        }
        found.truncate(MAX_LISTED as usize);
        Ok(found)
    }
}

/// A professional trial's session names a trial of its publisher kept
/// here and in the bank (approved).
pub(crate) async fn check_session(
    conn: &mut AnyConnection,
    publisher: &OrgId,
    trial: Option<&TrialId>,
) -> Result<(), edufed_domain::calendar::Error> {
    use edufed_domain::calendar::Error as CalendarError;
    let Some(id) = trial else {
        return Ok(());
    };
    let found = match load(conn, id).await {
        Ok(trial) => trial,
        Err(Error::Storage(e)) => return Err(CalendarError::Storage(e)),
        Err(_) => return Err(CalendarError::TrialNotFound(id.to_string())),
    };
    if &found.host != publisher {
        return Err(CalendarError::TrialNotFound(id.to_string()));
    }
    if !found.listed() {
        return Err(CalendarError::TrialNotInBank(id.to_string(), found.state));
    }
    Ok(())
}
