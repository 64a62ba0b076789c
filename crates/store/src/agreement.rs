//! Agreements: one aggregate row with its lifecycle, its versions (stored
//! exactly as hashed once proposed), signatures, history and parties. Every
//! transition runs under the agreement's lock and writes its history entry
//! and change-log entry in the same transaction.

use chrono::{DateTime, Days, NaiveDate, Utc};
use edufed_domain::agreement::decide::{Ballot, Signer, Vote};
use edufed_domain::agreement::lifecycle::start_of_day;
use edufed_domain::agreement::report::{self, ActivityFacts, BookingFacts, CohortFacts};
use edufed_domain::agreement::signing::{Signature, canonical_document, content_hash};
use edufed_domain::agreement::{
    Agreement, AgreementFilter, Content, Error, HistoryEntry, Lifecycle, REGISTER, State, Term,
    Version,
};
use edufed_domain::booking::OccurrenceState;
use edufed_domain::calendar::ActivityDetails;
use edufed_domain::calendar::registration::Results;
use edufed_domain::changes::{Actor, EntityKind, NewChange};
use edufed_domain::error::FieldError;
use edufed_domain::federation::Idempotency;
use edufed_domain::ids::{ActivityId, AgreementId, BookingId, OrgId, PersonId, ResourceId};
use edufed_domain::policy::{Action, Principal, Target, authorize};
use edufed_domain::time::TimeZone;
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row as _};

use crate::Store;
use crate::error::storage;
use crate::sql::{QueryText, Value, instant, micros, optional_instant, signed, unsigned};
use crate::tx::{Locked, WriteTx};

/// A new agreement's draft.
#[derive(Debug, Clone)]
pub struct NewAgreement {
    /// The organization drafting it; a party.
    pub initiator: OrgId,
    /// The content so far.
    pub content: Content,
}

/// What one transition did, for the history and the change log.
struct Step {
    action: &'static str,
    version: u32,
    org: Option<OrgId>,
    comment: String,
    /// Versions whose row changed.
    touched: Vec<u32>,
    signature: Option<Signature>,
}

impl Step {
    fn new(action: &'static str, version: u32, org: Option<&OrgId>) -> Self {
        Self {
            action,
            version,
            org: org.cloned(),
            comment: String::new(),
            touched: Vec::new(),
            signature: None,
        }
    }

    fn touching(mut self, version: u32) -> Self {
        self.touched.push(version);
        self
    }
}

/// The change-log payload: the agreement as its parties follow it.
#[derive(Serialize)]
struct AgreementPayload<'a> {
    id: &'a AgreementId,
    action: &'a str,
    state: State,
    initiator: &'a OrgId,
    in_force_version: Option<u32>,
    latest_version: u32,
    awaiting_version: Option<u32>,
    kind: &'a str,
    number: Option<&'a str>,
    title: &'a str,
    parties: Vec<&'a OrgId>,
    valid_from: Option<NaiveDate>,
    valid_to: Option<NaiveDate>,
    ends_at: Option<DateTime<Utc>>,
    revision: u64,
    /// When the version in force got its last signature.
    #[serde(skip_serializing_if = "Option::is_none")]
    in_force_since: Option<DateTime<Utc>>,
    /// Hours the duties plan, by party, for peers' reports.
    #[serde(skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    planned_hours: std::collections::BTreeMap<OrgId, f64>,
    /// Students planned.
    #[serde(skip_serializing_if = "Option::is_none")]
    planned_students: Option<u32>,
}

impl Store {
    /// Drafts a new agreement, version 1, as its initiator.
    #[tracing::instrument(name = "store.agreement.create", skip_all, fields(initiator = %new.initiator))]
    pub async fn create_agreement(
        &self,
        new: NewAgreement,
        actor: &Actor,
    ) -> Result<Agreement, Error> {
        let now = self.clock().now();
        let mut tx = self.write_tx().await?;
        let zone = org_zone(tx.conn(), &new.initiator).await?;
        if !new.content.is_party(&new.initiator) {
            return Err(FieldError::new(
                "content.parties",
                format!("the initiator {} must be a party", new.initiator),
            )
            .into());
        }
        check_references(tx.conn(), &new.content).await?;
        let agreement = Agreement {
            id: AgreementId::generate(),
            initiator: new.initiator.clone(),
            time_zone: zone,
            lifecycle: Lifecycle::new(),
            revision: 1,
            versions: vec![Version {
                number: 1,
                content: new.content,
                content_hash: None,
                canonical: None,
                proposed_at: None,
                signatures: Vec::new(),
                declined: None,
            }],
            created_at: now,
            updated_at: now,
        };
        sqlx::query(
            "INSERT INTO agreements (id, initiator_id, kind, state, number, title, time_zone, lifecycle, \
             ends_at, next_due, revision, history_seq, created_at, updated_at) \
             VALUES ($1, $2, '', '', NULL, '', $3, '', NULL, NULL, 0, 0, $4, $4)",
        )
        .bind(agreement.id.to_string())
        .bind(agreement.initiator.to_string())
        .bind(zone.name())
        .bind(micros(now))
        .execute(tx.conn())
        .await
        .map_err(storage)?;
        let step = Step::new("drafted", 1, Some(&new.initiator)).touching(1);
        save(&mut tx, &agreement, step, actor, now).await?;
        tx.commit().await?;
        Ok(agreement)
    }

    /// Replaces the draft's content; a declined proposal becomes a new draft version.
    #[tracing::instrument(name = "store.agreement.update", skip(self, content, caller))]
    pub async fn update_agreement(
        &self,
        id: &AgreementId,
        expected_revision: Option<u64>,
        content: Content,
        caller: &Principal,
    ) -> Result<Agreement, Error> {
        self.mutate(
            id,
            expected_revision,
            Some(caller),
            None,
            async |tx, a, _now| {
                authorize(
                    caller,
                    Action::ManageAgreements,
                    Target::Organization(&a.initiator),
                )?;
                if !content.is_party(&a.initiator) {
                    return Err(FieldError::new(
                        "content.parties",
                        format!("the initiator {} must remain a party", a.initiator),
                    )
                    .into());
                }
                check_references(tx.conn(), &content).await?;
                let next = a.lifecycle.edit()?;
                let Some(number) = next.ballot().map(|b| b.version).or(match next.phase {
                    edufed_domain::agreement::Phase::Draft { version } => Some(version),
                    _ => None,
                }) else {
                    return Err(Error::WrongState("the agreement is not a draft".into()));
                };
                a.lifecycle = next;
                match a.versions.iter_mut().find(|v| v.number == number) {
                    Some(version) => version.content = content,
                    None => a.versions.push(Version {
                        number,
                        content,
                        content_hash: None,
                        canonical: None,
                        proposed_at: None,
                        signatures: Vec::new(),
                        declined: None,
                    }),
                }
                let initiator = a.initiator.clone();
                Ok(Step::new("updated", number, Some(&initiator)).touching(number))
            },
        )
        .await
    }

    /// Freezes the draft: its canonical document and hash are fixed, and
    /// every party is asked to sign.
    #[tracing::instrument(name = "store.agreement.propose", skip(self, caller))]
    pub async fn propose_agreement(
        &self,
        id: &AgreementId,
        expected_revision: Option<u64>,
        caller: &Principal,
    ) -> Result<Agreement, Error> {
        self.mutate(
            id,
            expected_revision,
            Some(caller),
            None,
            async |tx, a, now| {
                authorize(
                    caller,
                    Action::ManageAgreements,
                    Target::Organization(&a.initiator),
                )?;
                let edufed_domain::agreement::Phase::Draft { version: number } = a.lifecycle.phase
                else {
                    return Err(Error::WrongState(format!(
                        "the agreement is {}: only a draft can be proposed",
                        a.lifecycle.state()
                    )));
                };
                let zone = a.time_zone;
                let agreement_id = a.id.clone();
                let version = a
                    .versions
                    .iter_mut()
                    .find(|v| v.number == number)
                    .ok_or_else(|| Error::WrongState(format!("version {number} is missing")))?;
                version
                    .content
                    .check_complete()
                    .map_err(|e| e.within("content"))?;
                check_references(tx.conn(), &version.content).await?;
                let term = Term::of(&version.content, zone);
                a.lifecycle = a.lifecycle.propose(version.content.party_orgs(), term)?;
                freeze(&agreement_id, version, now);
                let initiator = a.initiator.clone();
                Ok(Step::new("proposed", number, Some(&initiator)).touching(number))
            },
        )
        .await
    }

    /// A party's signature of the version awaiting signatures, made with
    /// this node's key by `signer`, or its refusal; for `caller`, decided
    /// on the agreement as it stands under its lock. A forwarded write's
    /// `key` makes a retry get this answer instead of a second ballot.
    #[tracing::instrument(name = "store.agreement.ballot", skip_all, fields(agreement = %ballot.agreement, org = %ballot.org))]
    pub async fn cast_ballot(
        &self,
        ballot: Ballot,
        caller: &Principal,
        signer: &dyn Signer,
        key: Option<&Idempotency>,
    ) -> Result<Agreement, Error> {
        let id = ballot.agreement.clone();
        self.mutate(&id, None, Some(caller), key, async |_tx, a, now| {
            authorize(
                caller,
                Action::SignAgreements,
                Target::Organization(&ballot.org),
            )?;
            let signature = a.cast(&ballot, caller, now, signer)?;
            let mut step = match &signature {
                Some(_) => Step::new("signed", ballot.version, Some(&ballot.org)),
                None => Step::new("declined", ballot.version, Some(&ballot.org))
                    .touching(ballot.version),
            };
            if let Vote::Decline { comment } = &ballot.vote {
                step.comment = comment.clone();
            }
            step.signature = signature;
            Ok(step)
        })
        .await
    }

    /// Proposes an amendment of the agreement in force: a new version that
    /// replaces the current one once every party has signed it.
    #[tracing::instrument(name = "store.agreement.amend", skip(self, content, caller))]
    pub async fn amend_agreement(
        &self,
        id: &AgreementId,
        expected_revision: Option<u64>,
        org: &OrgId,
        content: Content,
        caller: &Principal,
    ) -> Result<Agreement, Error> {
        self.mutate(
            id,
            expected_revision,
            Some(caller),
            None,
            async |tx, a, now| {
                authorize(caller, Action::ManageAgreements, Target::Organization(org))?;
                let in_force = a.in_force().ok_or_else(|| {
                    Error::WrongState(format!(
                        "the agreement is {}: only an agreement in force can be amended",
                        a.lifecycle.state()
                    ))
                })?;
                if !in_force.content.is_party(org) {
                    return Err(Error::WrongState(format!(
                        "organization {org} is not a party to the version in force"
                    )));
                }
                if !content.is_party(&a.initiator) {
                    return Err(FieldError::new(
                        "content.parties",
                        format!("the initiator {} must remain a party", a.initiator),
                    )
                    .into());
                }
                content.check_complete().map_err(|e| e.within("content"))?;
                check_references(tx.conn(), &content).await?;
                let term = Term::of(&content, a.time_zone);
                // Every party to the version in force signs too: a party the
                // amendment would drop must agree to leave.
                let mut signers = in_force.content.party_orgs();
                signers.extend(content.party_orgs());
                let next = a.lifecycle.amend(signers, term)?;
                let number = next.latest_version;
                let mut version = Version {
                    number,
                    content,
                    content_hash: None,
                    canonical: None,
                    proposed_at: None,
                    signatures: Vec::new(),
                    declined: None,
                };
                freeze(&a.id, &mut version, now);
                a.lifecycle = next;
                a.versions.push(version);
                Ok(Step::new("amendment_proposed", number, Some(org)).touching(number))
            },
        )
        .await
    }

    /// A party ends the agreement early. The notice the version in force
    /// requires is enforced: `effective` (the first day no longer in force)
    /// may be no earlier than today plus the notice; without it, the
    /// earliest day allowed, or at once when no notice is required.
    #[tracing::instrument(name = "store.agreement.terminate", skip(self, comment, caller))]
    pub async fn terminate_agreement(
        &self,
        id: &AgreementId,
        org: &OrgId,
        effective: Option<NaiveDate>,
        comment: &str,
        caller: &Principal,
    ) -> Result<Agreement, Error> {
        self.mutate(id, None, Some(caller), None, async |_tx, a, now| {
            authorize(caller, Action::SignAgreements, Target::Organization(org))?;
            // What time has brought comes first: an agreement whose term has
            // run out is expired, not terminated.
            if let Some(next) = a.lifecycle.tick(now) {
                a.lifecycle = next;
            }
            let in_force = a.in_force().filter(|_| a.lifecycle.ends_at().is_some()).ok_or_else(|| {
                Error::WrongState(format!(
                    "the agreement is {}: only an agreement signed by every party can be terminated",
                    a.lifecycle.state()
                ))
            })?;
            if !in_force.content.is_party(org) {
                return Err(Error::WrongState(format!(
                    "organization {org} is not a party to the version in force"
                )));
            }
            let notice = in_force.content.termination_notice_days;
            let today = now.with_timezone(&a.time_zone.tz()).date_naive();
            let earliest_day = today
                .checked_add_days(Days::new(u64::from(notice)))
                .unwrap_or(today);
            let last_day = in_force.content.valid_to;
            let at = match effective {
                Some(day) if day > last_day + Days::new(1) => {
                    return Err(FieldError::new(
                        "effective_on",
                        format!("{day} is after the agreement's last day, {last_day}"),
                    )
                    .into());
                }
                Some(day) if day < earliest_day => {
                    return Err(FieldError::new(
                        "effective_on",
                        format!(
                            "the agreement requires {notice} days of notice; the earliest is {earliest_day}"
                        ),
                    )
                    .into());
                }
                Some(day) => start_of_day(day, a.time_zone).max(now),
                None if notice == 0 => now,
                None if earliest_day > last_day + Days::new(1) => {
                    return Err(Error::WrongState(format!(
                        "the agreement ends on {last_day}, before {notice} days of notice run out; \
                         it expires by itself"
                    )));
                }
                None => start_of_day(earliest_day, a.time_zone),
            };
            let version = a.lifecycle.in_force_version().unwrap_or(1);
            a.lifecycle = a.lifecycle.terminate(at, now)?;
            let action = if a.lifecycle.state() == State::Terminated {
                "terminated"
            } else {
                "termination_notice"
            };
            let mut step = Step::new(action, version, Some(org));
            step.comment = if comment.is_empty() {
                format!("effective {}", at.with_timezone(&a.time_zone.tz()).date_naive())
            } else {
                format!("{comment} (effective {})", at.with_timezone(&a.time_zone.tz()).date_naive())
            };
            Ok(step)
        })
        .await
    }

    /// Applies the transitions time has brought (active from the first
    /// day, expired after the last, terminated when notice runs out) to
    /// every agreement due by the store's clock. Returns how many changed.
    #[tracing::instrument(name = "store.agreement.advance", skip(self))]
    pub async fn advance_agreements(&self) -> Result<usize, Error> {
        let now = self.clock().now();
        let due: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM agreements WHERE next_due IS NOT NULL AND next_due <= $1 ORDER BY next_due LIMIT 500",
        )
        .bind(micros(now))
        .fetch_all(self.reader())
        .await
        .map_err(storage)?;
        let mut changed = 0;
        for id in due {
            let id = AgreementId::from_stored(id);
            let result = self
                .mutate(&id, None, None, None, async |_tx, a, now| {
                    let Some(next) = a.lifecycle.tick(now) else {
                        return Err(Error::Stale("nothing due".into()));
                    };
                    a.lifecycle = next;
                    let action = match a.lifecycle.state() {
                        State::Active => "activated",
                        State::Expired => "expired",
                        State::Terminated => "terminated",
                        _ => "advanced",
                    };
                    Ok(Step::new(
                        action,
                        a.lifecycle.in_force_version().unwrap_or(1),
                        None,
                    ))
                })
                .await;
            match result {
                Ok(_) => changed += 1,
                // Another worker got there first.
                Err(Error::Stale(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(changed)
    }

    /// The agreement, with its versions and signatures.
    #[tracing::instrument(name = "store.agreement.get", skip(self))]
    pub async fn get_agreement(&self, id: &AgreementId) -> Result<Agreement, Error> {
        let mut conn = self.reader().acquire().await.map_err(storage)?;
        load(&mut conn, id).await
    }

    /// Agreements that `filter` lets through, by id, after `after`.
    #[tracing::instrument(name = "store.agreement.list", skip(self, filter))]
    pub async fn list_agreements(
        &self,
        filter: &AgreementFilter,
        after: Option<&AgreementId>,
        limit: u32,
    ) -> Result<Vec<Agreement>, Error> {
        let mut q = QueryText::new("SELECT id FROM agreements WHERE 1 = 1");
        if let Some(party) = &filter.party {
            q.push(
                " AND id IN (SELECT agreement_id FROM agreement_parties WHERE org_id = $?)",
                Value::Text(party.to_string()),
            );
        }
        if !filter.kinds.is_empty() {
            q.push_list(
                " AND kind IN ($list)",
                filter
                    .kinds
                    .iter()
                    .map(|k| Value::Text(k.as_str().into()))
                    .collect(),
            );
        }
        if !filter.states.is_empty() {
            q.push_list(
                " AND state IN ($list)",
                filter
                    .states
                    .iter()
                    .map(|s| Value::Text(s.as_str().into()))
                    .collect(),
            );
        }
        if let Some(before) = filter.ending_before {
            q.push(" AND ends_at < $?", Value::Int(micros(before)));
        }
        if let Some(orgs) = &filter.visible_to {
            q.push_list(
                " AND (state IN ($list)",
                REGISTER
                    .iter()
                    .map(|s| Value::Text(s.as_str().into()))
                    .collect(),
            );
            if orgs.is_empty() {
                q.raw(")");
            } else {
                q.push_list(
                    " OR id IN (SELECT agreement_id FROM agreement_parties WHERE org_id IN ($list)))",
                    orgs.iter().map(|o| Value::Text(o.to_string())).collect(),
                );
            }
        }
        if let Some(after) = after {
            q.push(" AND id > $?", Value::Text(after.to_string()));
        }
        q.push(" ORDER BY id LIMIT $?", Value::Int(i64::from(limit)));
        let mut conn = self.reader().acquire().await.map_err(storage)?;
        let ids: Vec<String> = q
            .query()
            .fetch_all(&mut *conn)
            .await
            .map_err(storage)?
            .iter()
            .map(|row| row.try_get::<String, _>("id"))
            .collect::<Result<_, _>>()
            .map_err(storage)?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            out.push(load(&mut conn, &AgreementId::from_stored(id)).await?);
        }
        Ok(out)
    }

    /// Every transition of the agreement, oldest first.
    #[tracing::instrument(name = "store.agreement.history", skip(self))]
    pub async fn agreement_history(&self, id: &AgreementId) -> Result<Vec<HistoryEntry>, Error> {
        let rows = sqlx::query(
            "SELECT seq, action, version, state, actor, org_id, comment, at FROM agreement_history \
             WHERE agreement_id = $1 ORDER BY seq",
        )
        .bind(id.to_string())
        .fetch_all(self.reader())
        .await
        .map_err(storage)?;
        rows.iter()
            .map(|row| -> Result<HistoryEntry, Error> {
                let text = |c: &str| row.try_get::<String, _>(c).map_err(storage);
                let int = |c: &str| row.try_get::<i64, _>(c).map_err(storage);
                Ok(HistoryEntry {
                    seq: unsigned(int("seq")?)?,
                    action: text("action")?,
                    version: u32::try_from(int("version")?).map_err(storage_err)?,
                    state: State::parse("state", &text("state")?).map_err(storage_err)?,
                    actor: text("actor")?,
                    org_id: row
                        .try_get::<Option<String>, _>("org_id")
                        .map_err(storage)?
                        .map(OrgId::from_stored),
                    comment: text("comment")?,
                    at: instant(int("at")?)?,
                })
            })
            .collect()
    }

    /// What the agreement delivered, as of the store's clock: its
    /// activities and their occurrences, the cohorts registered for them,
    /// and the bookings made under it.
    #[tracing::instrument(name = "store.agreement.report", skip(self))]
    pub async fn agreement_report(&self, id: &AgreementId) -> Result<report::Report, Error> {
        let now = self.clock().now();
        let mut conn = self.reader().acquire().await.map_err(storage)?;
        let agreement = load(&mut conn, id).await?;
        let Some(version) = agreement.effective() else {
            return Err(Error::NotFound(id.to_string()));
        };
        let content = &version.content;
        let rows = sqlx::query(
            "SELECT id, publisher_id, status, details FROM activities \
             WHERE agreement_id = $1 AND status <> 'draft' ORDER BY id",
        )
        .bind(id.to_string())
        .fetch_all(&mut *conn)
        .await
        .map_err(storage)?;
        let mut activities = Vec::new();
        for row in &rows {
            let text = |c: &str| row.try_get::<String, _>(c).map_err(storage);
            let details: ActivityDetails =
                serde_json::from_str(&text("details")?).map_err(storage_err)?;
            let whole_cancelled = text("status")? == "cancelled";
            let activity_id = text("id")?;
            let occurrences = sqlx::query(
                "SELECT start_at, end_at, cancelled FROM occurrences WHERE activity_id = $1 ORDER BY start_at",
            )
            .bind(activity_id.clone())
            .fetch_all(&mut *conn)
            .await
            .map_err(storage)?
            .iter()
            .map(|o| -> Result<_, Error> {
                let int = |c: &str| o.try_get::<i64, _>(c).map_err(storage);
                Ok((
                    (instant(int("start_at")?)?, instant(int("end_at")?)?),
                    whole_cancelled || int("cancelled")? != 0,
                ))
            })
            .collect::<Result<Vec<_>, _>>()?;
            activities.push(ActivityFacts {
                id: ActivityId::from_stored(activity_id),
                publisher: OrgId::from_stored(text("publisher_id")?),
                part: content.part_for(&details.subjects, &details.title),
                occurrences,
            });
        }
        let cohorts = sqlx::query(
            "SELECT r.org_id, r.headcount, r.results FROM registrations r \
             JOIN activities a ON a.id = r.activity_id \
             WHERE a.agreement_id = $1 AND r.state = 'confirmed'",
        )
        .bind(id.to_string())
        .fetch_all(&mut *conn)
        .await
        .map_err(storage)?
        .iter()
        .map(|row| -> Result<CohortFacts, Error> {
            let results: Option<String> = row.try_get("results").map_err(storage)?;
            let results: Option<Results> = results
                .map(|r| serde_json::from_str(&r))
                .transpose()
                .map_err(storage_err)?;
            Ok(CohortFacts {
                org_id: OrgId::from_stored(row.try_get("org_id").map_err(storage)?),
                headcount: u32::try_from(row.try_get::<i64, _>("headcount").map_err(storage)?)
                    .unwrap_or(0),
                attended: results.map(|r| r.attended),
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
        let bookings = sqlx::query(
            "SELECT o.booking_id, o.resource_id, r.owner_id, o.state, o.start_at, o.end_at, o.hold_expires_at \
             FROM booking_occurrences o JOIN bookings b ON b.id = o.booking_id \
             JOIN resources r ON r.id = o.resource_id WHERE b.agreement_id = $1",
        )
        .bind(id.to_string())
        .fetch_all(&mut *conn)
        .await
        .map_err(storage)?
        .iter()
        .map(|row| -> Result<Option<BookingFacts>, Error> {
            let text = |c: &str| row.try_get::<String, _>(c).map_err(storage);
            let int = |c: &str| row.try_get::<i64, _>(c).map_err(storage);
            let state = OccurrenceState::parse("state", &text("state")?).map_err(storage_err)?;
            let lapsed = state == OccurrenceState::Held
                && optional_instant(row.try_get("hold_expires_at").map_err(storage)?)?
                    .is_some_and(|until| until <= now);
            Ok((!lapsed).then_some(()).map(|()| BookingFacts {
                booking_id: BookingId::from_stored(text("booking_id").unwrap_or_default()),
                resource_id: ResourceId::from_stored(text("resource_id").unwrap_or_default()),
                owner: OrgId::from_stored(text("owner_id").unwrap_or_default()),
                state,
                interval: (
                    instant(int("start_at").unwrap_or_default()).unwrap_or(now),
                    instant(int("end_at").unwrap_or_default()).unwrap_or(now),
                ),
            }))
        })
        .filter_map(Result::transpose)
        .collect::<Result<Vec<_>, _>>()?;
        Ok(report::build(
            content,
            now,
            &activities,
            &cohorts,
            &bookings,
        ))
    }

    /// Loads the agreement under its lock, applies `change`, and saves it
    /// with its history and change-log entries, all in one transaction.
    async fn mutate(
        &self,
        id: &AgreementId,
        expected_revision: Option<u64>,
        caller: Option<&Principal>,
        key: Option<&Idempotency>,
        change: impl AsyncFnOnce(&mut WriteTx<'_>, &mut Agreement, DateTime<Utc>) -> Result<Step, Error>,
    ) -> Result<Agreement, Error> {
        let actor = &caller.map_or(Actor::Node, Principal::actor);
        let mut tx = self.write_tx().await?;
        if let Some(answered) = tx.claim::<_, Error>(key).await? {
            return Ok(answered);
        }
        let now = tx.now();
        tx.lock(Locked::Agreements, id.as_str()).await?;
        let mut agreement = load(tx.conn(), id).await?;
        if let Some(caller) = caller {
            agreement.seen_by(caller)?;
        }
        if let Some(expected) = expected_revision
            && expected != agreement.revision
        {
            return Err(Error::Stale(format!(
                "agreement {id} is at revision {}, not the expected {expected}",
                agreement.revision
            )));
        }
        let before = agreement.lifecycle.in_force_version();
        let step = change(&mut tx, &mut agreement, now).await?;
        agreement.revision += 1;
        agreement.updated_at = now;
        let after = agreement.lifecycle.in_force_version();
        save(&mut tx, &agreement, step, actor, now).await?;
        if after != before
            && let Some(version) = after
        {
            let step = Step::new("in_force", version, None);
            record_history(&mut tx, &agreement, &step, &Actor::Node, now).await?;
        }
        tx.commit_with(&agreement).await?;
        Ok(agreement)
    }
}

fn storage_err(e: impl std::error::Error + Send + Sync + 'static) -> edufed_domain::StorageError {
    edufed_domain::StorageError::new(e)
}

/// Fixes a version's canonical document and its hash.
fn freeze(id: &AgreementId, version: &mut Version, now: DateTime<Utc>) {
    let document = canonical_document(id, version.number, &version.content);
    version.content_hash = Some(content_hash(&document));
    version.canonical = Some(document);
    version.proposed_at = Some(now);
}

async fn org_zone(conn: &mut AnyConnection, org: &OrgId) -> Result<TimeZone, Error> {
    let zone: Option<String> =
        sqlx::query_scalar("SELECT time_zone FROM organizations WHERE id = $1")
            .bind(org.to_string())
            .fetch_optional(&mut *conn)
            .await
            .map_err(storage)?;
    let zone = zone.ok_or_else(|| {
        FieldError::new(
            "initiator",
            format!("organization {org} is not on this node"),
        )
    })?;
    Ok(TimeZone::parse("time_zone", &zone)?)
}

/// Parties must be organizations on this node, and a pledged resource must
/// belong to the party pledging it.
async fn check_references(conn: &mut AnyConnection, content: &Content) -> Result<(), Error> {
    for (i, party) in content.parties.iter().enumerate() {
        let found: Option<String> =
            sqlx::query_scalar("SELECT id FROM organizations WHERE id = $1")
                .bind(party.org_id.to_string())
                .fetch_optional(&mut *conn)
                .await
                .map_err(storage)?;
        if found.is_none() {
            return Err(FieldError::new(
                format!("content.parties[{i}].org"),
                format!("organization {} is not on this node", party.org_id),
            )
            .into());
        }
    }
    for (i, pledge) in content.resources.iter().enumerate() {
        let Some(resource) = &pledge.resource_id else {
            continue;
        };
        let owner: Option<String> =
            sqlx::query_scalar("SELECT owner_id FROM resources WHERE id = $1")
                .bind(resource.to_string())
                .fetch_optional(&mut *conn)
                .await
                .map_err(storage)?;
        match owner {
            None => {
                return Err(FieldError::new(
                    format!("content.resources[{i}].resource_id"),
                    format!("resource {resource} is not on this node"),
                )
                .into());
            }
            Some(owner) if owner != pledge.org_id.as_str() => {
                return Err(FieldError::new(
                    format!("content.resources[{i}].resource_id"),
                    format!("resource {resource} does not belong to {}", pledge.org_id),
                )
                .into());
            }
            Some(_) => {}
        }
    }
    Ok(())
}

/// Writes the agreement row, the versions `step` touched, a new signature,
/// the parties, the history entry and the change-log entry.
async fn save(
    tx: &mut WriteTx<'_>,
    agreement: &Agreement,
    step: Step,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let effective = agreement
        .effective()
        .ok_or_else(|| Error::WrongState("the agreement has no version".into()))?;
    let state = agreement.lifecycle.state();
    let lifecycle = serde_json::to_string(&agreement.lifecycle).map_err(storage_err)?;
    sqlx::query(
        "UPDATE agreements SET kind = $1, state = $2, number = $3, title = $4, lifecycle = $5, \
         ends_at = $6, next_due = $7, revision = $8, updated_at = $9 WHERE id = $10",
    )
    .bind(effective.content.kind.as_str())
    .bind(state.as_str())
    .bind(effective.content.number.clone())
    .bind(effective.content.title.clone())
    .bind(lifecycle)
    .bind(agreement.lifecycle.ends_at().map(micros))
    .bind(agreement.lifecycle.next_due().map(micros))
    .bind(signed(agreement.revision))
    .bind(micros(now))
    .bind(agreement.id.to_string())
    .execute(tx.conn())
    .await
    .map_err(storage)?;
    for number in &step.touched {
        let Some(version) = agreement.versions.iter().find(|v| v.number == *number) else {
            continue;
        };
        let document = match &version.canonical {
            Some(canonical) => canonical.clone(),
            None => serde_json::to_string(&version.content).map_err(storage_err)?,
        };
        let declined = version
            .declined
            .as_ref()
            .map(serde_json::to_string)
            .transpose()
            .map_err(storage_err)?;
        sqlx::query(
            "INSERT INTO agreement_versions (agreement_id, version, document, content_hash, proposed_at, \
             declined, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $7) \
             ON CONFLICT (agreement_id, version) DO UPDATE SET document = excluded.document, \
             content_hash = excluded.content_hash, proposed_at = excluded.proposed_at, \
             declined = excluded.declined, updated_at = excluded.updated_at",
        )
        .bind(agreement.id.to_string())
        .bind(i64::from(version.number))
        .bind(document)
        .bind(version.content_hash.clone())
        .bind(version.proposed_at.map(micros))
        .bind(declined)
        .bind(micros(now))
        .execute(tx.conn())
        .await
        .map_err(storage)?;
    }
    if let Some(s) = &step.signature {
        sqlx::query(
            "INSERT INTO agreement_signatures (agreement_id, version, org_id, person_id, signatory, \
             content_hash, signed_at, node_id, public_key, signature) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(agreement.id.to_string())
        .bind(i64::from(s.version))
        .bind(s.org_id.to_string())
        .bind(s.person_id.to_string())
        .bind(s.signatory.clone())
        .bind(s.content_hash.clone())
        .bind(micros(s.signed_at))
        .bind(s.node_id.clone())
        .bind(hex::encode(s.public_key))
        .bind(hex::encode(&s.signature))
        .execute(tx.conn())
        .await
        .map_err(storage)?;
    }
    // Parties: of every version, and which are parties to the one in force.
    sqlx::query("DELETE FROM agreement_parties WHERE agreement_id = $1")
        .bind(agreement.id.to_string())
        .execute(tx.conn())
        .await
        .map_err(storage)?;
    let in_force = agreement
        .in_force()
        .map(|v| v.content.party_orgs())
        .unwrap_or_default();
    for org in agreement.all_parties() {
        sqlx::query(
            "INSERT INTO agreement_parties (agreement_id, org_id, in_force) VALUES ($1, $2, $3)",
        )
        .bind(agreement.id.to_string())
        .bind(org.to_string())
        .bind(i64::from(in_force.contains(&org)))
        .execute(tx.conn())
        .await
        .map_err(storage)?;
    }
    record_history(tx, agreement, &step, actor, now).await?;
    let latest = agreement.latest().unwrap_or(effective);
    let in_force_content = agreement.in_force().map(|v| &v.content);
    let facts = edufed_domain::report::AgreementFacts::of(agreement);
    let payload = AgreementPayload {
        id: &agreement.id,
        action: step.action,
        state,
        initiator: &agreement.initiator,
        in_force_version: agreement.lifecycle.in_force_version(),
        latest_version: latest.number,
        awaiting_version: agreement.lifecycle.ballot().map(|b| b.version),
        kind: effective.content.kind.as_str(),
        number: effective.content.number.as_deref(),
        title: &effective.content.title,
        parties: effective
            .content
            .parties
            .iter()
            .map(|p| &p.org_id)
            .collect(),
        valid_from: in_force_content.map(|c| c.valid_from),
        valid_to: in_force_content.map(|c| c.valid_to),
        ends_at: agreement.lifecycle.ends_at(),
        revision: agreement.revision,
        in_force_since: facts.as_ref().and_then(|f| f.in_force_since),
        planned_hours: facts
            .as_ref()
            .map(|f| f.planned_hours.clone())
            .unwrap_or_default(),
        planned_students: facts.and_then(|f| f.planned_students),
    };
    tx.append(
        NewChange::upsert(
            EntityKind::Agreement,
            agreement.id.to_string(),
            agreement.revision,
            Some(agreement.initiator.clone()),
            &payload,
            actor,
        )
        .for_orgs(agreement.all_parties())
        .shared(REGISTER.contains(&state)),
    )
    .await?;
    Ok(())
}

async fn record_history(
    tx: &mut WriteTx<'_>,
    agreement: &Agreement,
    step: &Step,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(), Error> {
    let seq: i64 = sqlx::query_scalar(
        "UPDATE agreements SET history_seq = history_seq + 1 WHERE id = $1 RETURNING history_seq",
    )
    .bind(agreement.id.to_string())
    .fetch_one(tx.conn())
    .await
    .map_err(storage)?;
    sqlx::query(
        "INSERT INTO agreement_history (agreement_id, seq, action, version, state, actor, org_id, comment, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(agreement.id.to_string())
    .bind(seq)
    .bind(step.action)
    .bind(i64::from(step.version))
    .bind(agreement.lifecycle.state().as_str())
    .bind(actor.as_string())
    .bind(step.org.as_ref().map(|o| o.to_string()))
    .bind(step.comment.clone())
    .bind(micros(now))
    .execute(tx.conn())
    .await
    .map_err(storage)?;
    Ok(())
}

/// The agreement, if this node keeps it.
pub(crate) async fn find(
    conn: &mut AnyConnection,
    id: &AgreementId,
) -> Result<Option<Agreement>, edufed_domain::StorageError> {
    match load(conn, id).await {
        Ok(agreement) => Ok(Some(agreement)),
        Err(Error::NotFound(_)) => Ok(None),
        Err(Error::Storage(e)) => Err(e),
        Err(other) => Err(edufed_domain::StorageError::msg(other.to_string())),
    }
}

pub(crate) async fn load(conn: &mut AnyConnection, id: &AgreementId) -> Result<Agreement, Error> {
    let row = sqlx::query(
        "SELECT id, initiator_id, time_zone, lifecycle, revision, created_at, updated_at \
         FROM agreements WHERE id = $1",
    )
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await
    .map_err(storage)?
    .ok_or_else(|| Error::NotFound(id.to_string()))?;
    let text = |c: &str| row.try_get::<String, _>(c).map_err(storage);
    let int = |c: &str| row.try_get::<i64, _>(c).map_err(storage);
    let lifecycle: Lifecycle = serde_json::from_str(&text("lifecycle")?).map_err(storage_err)?;
    let versions = sqlx::query(
        "SELECT version, document, content_hash, proposed_at, declined FROM agreement_versions \
         WHERE agreement_id = $1 ORDER BY version",
    )
    .bind(id.to_string())
    .fetch_all(&mut *conn)
    .await
    .map_err(storage)?;
    let signatures = sqlx::query(
        "SELECT version, org_id, person_id, signatory, content_hash, signed_at, node_id, public_key, signature \
         FROM agreement_signatures WHERE agreement_id = $1 ORDER BY signed_at",
    )
    .bind(id.to_string())
    .fetch_all(&mut *conn)
    .await
    .map_err(storage)?
    .iter()
    .map(signature_from_row)
    .collect::<Result<Vec<_>, _>>()?;
    let versions = versions
        .iter()
        .map(|v| -> Result<Version, Error> {
            let number = u32::try_from(v.try_get::<i64, _>("version").map_err(storage)?)
                .map_err(storage_err)?;
            let document: String = v.try_get("document").map_err(storage)?;
            let hash: Option<String> = v.try_get("content_hash").map_err(storage)?;
            // A proposed version is read back from the very document its
            // hash covers, so what is shown is what was signed.
            let content: Content = match &hash {
                Some(_) => {
                    let parsed: serde_json::Value =
                        serde_json::from_str(&document).map_err(storage_err)?;
                    serde_json::from_value(parsed["content"].clone()).map_err(storage_err)?
                }
                None => serde_json::from_str(&document).map_err(storage_err)?,
            };
            let declined: Option<String> = v.try_get("declined").map_err(storage)?;
            Ok(Version {
                number,
                content,
                canonical: hash.as_ref().map(|_| document.clone()),
                content_hash: hash,
                proposed_at: optional_instant(v.try_get("proposed_at").map_err(storage)?)?,
                signatures: signatures
                    .iter()
                    .filter(|s| s.version == number)
                    .cloned()
                    .collect(),
                declined: declined
                    .map(|d| serde_json::from_str(&d))
                    .transpose()
                    .map_err(storage_err)?,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Agreement {
        id: AgreementId::from_stored(text("id")?),
        initiator: OrgId::from_stored(text("initiator_id")?),
        time_zone: TimeZone::parse("time_zone", &text("time_zone")?).map_err(storage_err)?,
        lifecycle,
        revision: unsigned(int("revision")?)?,
        versions,
        created_at: instant(int("created_at")?)?,
        updated_at: instant(int("updated_at")?)?,
    })
}

fn signature_from_row(row: &AnyRow) -> Result<Signature, Error> {
    let text = |c: &str| row.try_get::<String, _>(c).map_err(storage);
    let bad = |what: &str| storage_err(FieldError::new(what, "is not hex"));
    let public_key: [u8; 32] = hex::decode(text("public_key")?)
        .ok()
        .and_then(|k| k.try_into().ok())
        .ok_or_else(|| bad("public_key"))?;
    Ok(Signature {
        version: u32::try_from(row.try_get::<i64, _>("version").map_err(storage)?)
            .map_err(storage_err)?,
        content_hash: text("content_hash")?,
        org_id: OrgId::from_stored(text("org_id")?),
        person_id: PersonId::from_stored(text("person_id")?),
        signatory: text("signatory")?,
        signed_at: instant(row.try_get::<i64, _>("signed_at").map_err(storage)?)?,
        node_id: text("node_id")?,
        public_key,
        signature: hex::decode(text("signature")?).map_err(|_| bad("signature"))?,
    })
}
