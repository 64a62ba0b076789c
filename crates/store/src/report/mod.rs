//! What reports are computed from: the node's own activities, cohorts,
//! agreements and resources, the mirrors of its peers', and the enrolments
//! and targets stated here.

mod rows;

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use edufed_domain::StorageError;
use edufed_domain::agreement::{AgreementKind, State as AgreementState};
use edufed_domain::booking::Interval;
use edufed_domain::calendar::registration::{Registration, RegistrationState};
use edufed_domain::changes::{Actor, EntityKind};
use edufed_domain::ids::{AgreementId, OrgId};
use edufed_domain::mentoring::{Pair, SharedPair};
use edufed_domain::report::{
    ActivityFacts, AgreementFacts, Enrolment, Error, Facts, Indicator, OccurrenceFacts, OrgFacts,
    Period, Records, RegistrationFacts, SchoolYear, Target, TargetScope,
};
use serde::Deserialize;

use self::rows::{
    ActivityFactsRow, BookedRow, EnrolmentRow, OccurrenceFactsRow, OrgFactsRow,
    RegistrationFactsRow, ResourceFactsRow, TargetRow,
};
use crate::Store;
use crate::audit::Written;
use crate::error::storage;
use crate::sql::{from_json, micros};

/// A peer's agreement as its change log summarizes it.
#[derive(Deserialize)]
struct MirroredAgreement {
    id: AgreementId,
    state: AgreementState,
    kind: AgreementKind,
    parties: Vec<OrgId>,
    valid_from: Option<NaiveDate>,
    valid_to: Option<NaiveDate>,
    ends_at: Option<DateTime<Utc>>,
    #[serde(default)]
    in_force_since: Option<DateTime<Utc>>,
    #[serde(default)]
    planned_hours: BTreeMap<OrgId, f64>,
    #[serde(default)]
    planned_students: Option<u32>,
}

/// How long facts are kept at most: a write of another replica of the node
/// that the log does not record (an enrolment, a target) shows after this.
const FACTS_KEPT: std::time::Duration = std::time::Duration::from_secs(60);
/// How many periods' facts are kept.
const FACTS_PERIODS: usize = 4;

/// What the facts were read after: this process's writes, the log's latest
/// entry and where the subscriptions stand (other replicas' writes and
/// mirrored entries move them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Epoch {
    writes: u64,
    latest: i64,
    cursors: i64,
}

/// The facts of one request's periods, with when and at what epoch they
/// were read.
#[derive(Debug)]
struct Kept {
    periods: Vec<Period>,
    epoch: Epoch,
    read_at: std::time::Instant,
    facts: Facts,
}

/// The facts of the last few periods asked for.
#[derive(Debug, Clone, Default)]
pub(crate) struct FactsCache(std::sync::Arc<std::sync::Mutex<Vec<Kept>>>);

impl Store {
    /// Everything the reports need to cover `periods` (the period asked for
    /// and the one before it): activities with an occurrence in them, own
    /// and mirrored, their cohorts, every agreement, the resources with
    /// their confirmed bookings, enrolments and targets. Kept until anything
    /// changes (and a minute at most): asked again meanwhile, only the
    /// clock's reading is new.
    #[tracing::instrument(name = "store.report.facts", skip(self))]
    pub async fn report_facts(&self, periods: &[Period]) -> Result<Facts, Error> {
        let epoch = self.facts_epoch().await?;
        let kept = self.facts.0.lock().ok().and_then(|cache| {
            cache
                .iter()
                .find(|k| {
                    k.periods == periods && k.epoch == epoch && k.read_at.elapsed() < FACTS_KEPT
                })
                .map(|k| k.facts.clone())
        });
        if let Some(facts) = kept {
            return Ok(facts.at(self.clock().now()));
        }
        let facts = self.read_facts(periods).await?;
        if let Ok(mut cache) = self.facts.0.lock() {
            cache.retain(|k| k.periods != periods);
            cache.insert(
                0,
                Kept {
                    periods: periods.to_vec(),
                    epoch,
                    read_at: std::time::Instant::now(),
                    facts: facts.clone(),
                },
            );
            cache.truncate(FACTS_PERIODS);
        }
        Ok(facts)
    }

    /// Forgets the reports' kept facts: the next request reads them anew.
    pub fn forget_report_facts(&self) {
        if let Ok(mut cache) = self.facts.0.lock() {
            cache.clear();
        }
    }

    async fn facts_epoch(&self) -> Result<Epoch, Error> {
        // Read before the facts: a write after this reading makes the
        // facts older than their epoch, never newer.
        let writes = self.writes.load(std::sync::atomic::Ordering::Acquire);
        let (latest, cursors): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT COALESCE(MAX(seq), 0) FROM change_log), \
             (SELECT CAST(COALESCE(SUM(cursor), 0) AS BIGINT) FROM subscriptions)",
        )
        .fetch_one(self.reader())
        .await
        .map_err(storage)?;
        Ok(Epoch {
            writes,
            latest,
            cursors,
        })
    }

    async fn read_facts(&self, periods: &[Period]) -> Result<Facts, Error> {
        let as_of = self.clock().now();
        let from = periods.iter().map(|p| p.from).min().unwrap_or_default();
        let to = periods.iter().map(|p| p.to).max().unwrap_or_default();
        let (start, end) = Facts::window(&Period { from, to });
        let (start, end) = (micros(start), micros(end));
        let mut conn = self.reader().acquire().await.map_err(storage)?;

        let mut orgs = BTreeMap::new();
        for row in sqlx::query_as::<_, OrgFactsRow>(
            "SELECT id, short_name, kind, city, time_zone, home_node FROM organizations",
        )
        .fetch_all(&mut *conn)
        .await
        .map_err(storage)?
        {
            let org = OrgFacts::try_from(row)?;
            orgs.insert(org.id.clone(), org);
        }
        for (record,) in sqlx::query_as::<_, (String,)>("SELECT record FROM designations")
            .fetch_all(&mut *conn)
            .await
            .map_err(storage)?
        {
            let d: edufed_domain::designations::Designation = crate::sql::from_json(&record)?;
            if let Some(org) = orgs.get_mut(&d.org) {
                org.designations.push(d);
            }
        }

        // Activities, own then mirrored, with their occurrences in the window.
        let mut activities: Vec<ActivityFacts> = Vec::new();
        let mut seen: HashMap<String, usize> = HashMap::new();
        // The kinds teachers grow by, a fixed list of the domain's names.
        let growth = edufed_domain::calendar::ActivityKind::TEACHERS_GROWTH
            .iter()
            .map(|k| format!("'{}'", k.as_str()))
            .collect::<Vec<_>>()
            .join(", ");
        for (table, occurrences) in [
            ("activities", "occurrences"),
            ("mirror_activities", "mirror_occurrences"),
        ] {
            let mut by_activity: HashMap<String, Vec<OccurrenceFacts>> = HashMap::new();
            for row in sqlx::query_as::<_, OccurrenceFactsRow>(&format!(
                "SELECT activity_id, occurrence_key, start_at, end_at, cancelled FROM {occurrences} \
                 WHERE start_at >= $1 AND start_at < $2"
            ))
            .bind(start)
            .bind(end)
            .fetch_all(&mut *conn)
            .await
            .map_err(storage)?
            {
                let (activity, occurrence) = row.facts()?;
                by_activity.entry(activity).or_default().push(occurrence);
            }
            // Only those with an occurrence in the window: the load follows
            // the period asked for, not the node's history.
            for row in sqlx::query_as::<_, ActivityFactsRow>(&format!(
                "SELECT id, publisher_id, kind, direction, agreement_id, status, \
                 CASE WHEN kind IN ({growth}) THEN details END AS details FROM {table} \
                 WHERE status <> 'draft' AND id IN (SELECT activity_id FROM {occurrences} \
                 WHERE start_at >= $1 AND start_at < $2)"
            ))
            .bind(start)
            .bind(end)
            .fetch_all(&mut *conn)
            .await
            .map_err(storage)?
            {
                let Some(mut occurrences) = by_activity.remove(&row.id) else {
                    continue;
                };
                if seen.contains_key(&row.id) {
                    continue;
                }
                occurrences.sort_by_key(|o| o.start);
                seen.insert(row.id.clone(), activities.len());
                activities.push(row.facts(occurrences)?);
            }
        }

        // Cohorts: for this node's activities in the window (its own
        // activities', and peers' it holds a cohort's registration for), and
        // the mirrored ones of its organizations for peers' activities.
        let mut registrations = Vec::new();
        let mut own_registrations: HashSet<String> = HashSet::new();
        for row in sqlx::query_as::<_, RegistrationFactsRow>(
            "SELECT id, activity_id, occurrence_key, org_id, state, headcount, cohort, results \
             FROM registrations WHERE state <> 'withdrawn' AND activity_id IN \
             (SELECT activity_id FROM occurrences WHERE start_at >= $1 AND start_at < $2 \
              UNION SELECT activity_id FROM mirror_occurrences \
              WHERE start_at >= $1 AND start_at < $2)",
        )
        .bind(start)
        .bind(end)
        .fetch_all(&mut *conn)
        .await
        .map_err(storage)?
        {
            own_registrations.insert(row.id.clone());
            if !seen.contains_key(&row.activity_id) {
                continue;
            }
            registrations.push(row.try_into()?);
        }
        for (entity_id, payload) in mirrored(&mut conn, EntityKind::Registration).await? {
            if own_registrations.contains(&entity_id) {
                continue;
            }
            let Ok(r) = serde_json::from_str::<Registration>(&payload) else {
                tracing::warn!("a mirrored registration could not be read; left out of reports");
                continue;
            };
            if r.state == RegistrationState::Withdrawn || !seen.contains_key(r.activity_id.as_str())
            {
                continue;
            }
            registrations.push(RegistrationFacts {
                activity_id: r.activity_id,
                occurrence: r.occurrence,
                org_id: r.cohort.org_id,
                state: r.state,
                headcount: r.cohort.headcount,
                grades: r.cohort.grades.map(|g| (g.min, g.max)),
                results: r.results,
            });
        }

        // Agreements: this node's in full, peers' as summarized.
        let mut agreements = Vec::new();
        let kept = crate::agreement::load_all(&mut conn).await?;
        let own: HashSet<String> = kept.iter().map(|a| a.id.to_string()).collect();
        for agreement in &kept {
            agreements.extend(AgreementFacts::of(agreement));
        }
        for (entity_id, payload) in mirrored(&mut conn, EntityKind::Agreement).await? {
            if own.contains(&entity_id) {
                continue;
            }
            let Ok(m) = serde_json::from_str::<MirroredAgreement>(&payload) else {
                tracing::warn!("a mirrored agreement could not be read; left out of reports");
                continue;
            };
            agreements.push(AgreementFacts {
                id: m.id,
                kind: m.kind,
                state: m.state,
                parties: m.parties,
                term: m.valid_from.zip(m.valid_to),
                in_force_since: m.in_force_since,
                ends_at: m.ends_at,
                planned_hours: m.planned_hours,
                planned_students: m.planned_students,
            });
        }

        // Resources of this node and their confirmed time in the window.
        let mut booked: HashMap<String, Vec<Interval>> = HashMap::new();
        for row in sqlx::query_as::<_, BookedRow>(
            "SELECT resource_id, start_at, end_at FROM booking_occurrences \
             WHERE state = 'confirmed' AND start_at >= $1 AND start_at < $2",
        )
        .bind(start)
        .bind(end)
        .fetch_all(&mut *conn)
        .await
        .map_err(storage)?
        {
            let (resource, interval) = row.interval()?;
            booked.entry(resource).or_default().push(interval);
        }
        let mut resources = Vec::new();
        for row in sqlx::query_as::<_, ResourceFactsRow>(
            "SELECT id, owner_id, details, blackouts FROM resources ORDER BY id",
        )
        .fetch_all(&mut *conn)
        .await
        .map_err(storage)?
        {
            let booked = booked.remove(&row.id).unwrap_or_default();
            resources.push(row.facts(booked)?);
        }

        let enrolments = enrolments(&mut conn, None).await?;
        let targets = targets(&mut conn).await?;

        // Mentoring pairs as shared: this node's and its peers'.
        let mut pairs: Vec<SharedPair> = Vec::new();
        let records: Vec<String> = sqlx::query_scalar("SELECT record FROM mentoring_pairs")
            .fetch_all(&mut *conn)
            .await
            .map_err(storage)?;
        for record in records {
            pairs.push(from_json::<Pair>(&record)?.shared());
        }
        for (_, payload) in mirrored(&mut conn, EntityKind::MentoringPair).await? {
            match serde_json::from_str::<SharedPair>(&payload) {
                Ok(pair) => pairs.push(pair),
                Err(_) => tracing::warn!(
                    "a mirrored mentoring pair could not be read; left out of reports"
                ),
            }
        }
        Ok(Facts::new(
            as_of,
            Records {
                orgs,
                activities,
                registrations,
                agreements,
                resources,
                enrolments,
                targets,
                pairs,
                teacher_figures: crate::mentoring::teacher_figures(&mut conn, None).await?,
                growth: crate::mentoring::growth_records(&mut conn).await?,
                routes: crate::routes::all_routes(&mut conn).await?,
            },
        ))
    }

    /// States an organization's enrolment for a school year, replacing any.
    #[tracing::instrument(name = "store.report.set_enrolment", skip(self))]
    pub async fn set_enrolment(
        &self,
        org: &OrgId,
        year: SchoolYear,
        students: u32,
        actor: &Actor,
    ) -> Result<Enrolment, Error> {
        let now = self.clock().now();
        let enrolment = Enrolment {
            org_id: org.clone(),
            school_year: year,
            students,
            updated_at: now,
        }
        .validate()?;
        let mut tx = self.write_tx().await.map_err(Error::Storage)?;
        sqlx::query(
            "INSERT INTO enrolments (org_id, school_year, students, actor, updated_at) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (org_id, school_year) DO UPDATE SET \
             students = excluded.students, actor = excluded.actor, updated_at = excluded.updated_at",
        )
        .bind(org.to_string())
        .bind(i64::from(year.0))
        .bind(i64::from(students))
        .bind(actor.as_string())
        .bind(micros(now))
        .execute(tx.conn())
        .await
        .map_err(storage)?;
        let record = format!("{org}/{}", year.0);
        tx.audit(Written::private("enrolment", &record, "upsert", org, actor))
            .await?;
        tx.commit().await.map_err(Error::Storage)?;
        Ok(enrolment)
    }

    /// Enrolments stated here, of one organization or all, by organization
    /// and year.
    #[tracing::instrument(name = "store.report.enrolments", skip(self))]
    pub async fn enrolments(&self, org: Option<&OrgId>) -> Result<Vec<Enrolment>, Error> {
        let mut conn = self.reader().acquire().await.map_err(storage)?;
        Ok(enrolments(&mut conn, org).await?)
    }

    /// Sets a target, replacing one for the same indicator, scope and date.
    #[tracing::instrument(name = "store.report.set_target", skip(self))]
    pub async fn set_target(
        &self,
        indicator: Indicator,
        scope: TargetScope,
        due: NaiveDate,
        value: f64,
        note: &str,
        actor: &Actor,
    ) -> Result<Target, Error> {
        let now = self.clock().now();
        let target = Target {
            indicator,
            scope,
            due,
            value,
            note: note.to_owned(),
            updated_at: now,
        }
        .validate()?;
        let mut tx = self.write_tx().await.map_err(Error::Storage)?;
        sqlx::query(
            "INSERT INTO report_targets (indicator, scope, due, value, note, actor, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (indicator, scope, due) DO UPDATE SET \
             value = excluded.value, note = excluded.note, actor = excluded.actor, \
             updated_at = excluded.updated_at",
        )
        .bind(target.indicator.as_str())
        .bind(target.scope.stored())
        .bind(target.due.to_string())
        .bind(target.value)
        .bind(target.note.clone())
        .bind(actor.as_string())
        .bind(micros(now))
        .execute(tx.conn())
        .await
        .map_err(storage)?;
        tx.commit().await.map_err(Error::Storage)?;
        Ok(target)
    }

    /// Removes a target.
    #[tracing::instrument(name = "store.report.remove_target", skip(self))]
    pub async fn remove_target(
        &self,
        indicator: Indicator,
        scope: &TargetScope,
        due: NaiveDate,
    ) -> Result<(), Error> {
        let mut tx = self.write_tx().await.map_err(Error::Storage)?;
        let done = sqlx::query(
            "DELETE FROM report_targets WHERE indicator = $1 AND scope = $2 AND due = $3",
        )
        .bind(indicator.as_str())
        .bind(scope.stored())
        .bind(due.to_string())
        .execute(tx.conn())
        .await
        .map_err(storage)?;
        if done.rows_affected() == 0 {
            return Err(Error::TargetNotFound {
                indicator,
                scope: scope.stored(),
                due,
            });
        }
        tx.commit().await.map_err(Error::Storage)?;
        Ok(())
    }

    /// Every target, by indicator, scope and date.
    #[tracing::instrument(name = "store.report.targets", skip(self))]
    pub async fn targets(&self) -> Result<Vec<Target>, Error> {
        let mut conn = self.reader().acquire().await.map_err(storage)?;
        Ok(targets(&mut conn).await?)
    }
}

async fn enrolments(
    conn: &mut sqlx::AnyConnection,
    org: Option<&OrgId>,
) -> Result<Vec<Enrolment>, StorageError> {
    let rows: Vec<EnrolmentRow> = match org {
        Some(org) => {
            sqlx::query_as(
                "SELECT org_id, school_year, students, updated_at FROM enrolments \
                 WHERE org_id = $1 ORDER BY org_id, school_year",
            )
            .bind(org.to_string())
            .fetch_all(&mut *conn)
            .await
        }
        None => {
            sqlx::query_as(
                "SELECT org_id, school_year, students, updated_at FROM enrolments \
                 ORDER BY org_id, school_year",
            )
            .fetch_all(&mut *conn)
            .await
        }
    }
    .map_err(storage)?;
    rows.into_iter().map(Enrolment::try_from).collect()
}

async fn targets(conn: &mut sqlx::AnyConnection) -> Result<Vec<Target>, StorageError> {
    let rows: Vec<TargetRow> = sqlx::query_as(
        "SELECT indicator, scope, due, value, note, updated_at FROM report_targets \
         ORDER BY indicator, scope, due",
    )
    .fetch_all(&mut *conn)
    .await
    .map_err(storage)?;
    let mut out = Vec::new();
    for row in rows {
        out.extend(row.target()?);
    }
    Ok(out)
}

/// The ids and payloads of the live mirrors of `kind`.
async fn mirrored(
    conn: &mut sqlx::AnyConnection,
    kind: EntityKind,
) -> Result<Vec<(String, String)>, StorageError> {
    sqlx::query_as(
        "SELECT entity_id, payload FROM mirrors WHERE entity_kind = $1 AND operation <> 'delete'",
    )
    .bind(kind.as_str())
    .fetch_all(&mut *conn)
    .await
    .map_err(storage)
}
