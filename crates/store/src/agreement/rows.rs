//! The agreement tables' rows, each decoded in one place, and how an
//! agreement is written back with its history and change-log entries.

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use edufed_domain::StorageError;
use edufed_domain::agreement::report::{ActivityFacts, BookingFacts, CohortFacts};
use edufed_domain::agreement::signing::Signature;
use edufed_domain::agreement::{Agreement, Content, Error, HistoryEntry, REGISTER, State, Version};
use edufed_domain::booking::{Interval, OccurrenceState};
use edufed_domain::calendar::ActivityDetails;
use edufed_domain::calendar::registration::Results;
use edufed_domain::changes::{Actor, EntityKind, NewChange};
use edufed_domain::error::FieldError;
use edufed_domain::ids::{ActivityId, AgreementId, BookingId, OrgId, PersonId, ResourceId};
use edufed_domain::report::AgreementFacts;
use edufed_domain::time::TimeZone;
use serde::Serialize;
use sqlx::AnyConnection;

use super::Step;
use crate::error::storage;
use crate::sql::{
    decode_all, from_json, instant, micros, optional_instant, signed, to_json, unsigned,
};
use crate::tx::WriteTx;

pub(super) const HISTORY_COLUMNS: &str = "seq, action, version, state, actor, org_id, comment, at";

fn version_number(stored: i64) -> Result<u32, StorageError> {
    u32::try_from(stored).map_err(StorageError::new)
}

/// The aggregate's own row; its versions are rows of their own.
#[derive(sqlx::FromRow)]
struct AgreementRow {
    id: String,
    initiator_id: String,
    time_zone: String,
    /// The [`edufed_domain::agreement::Lifecycle`], JSON.
    lifecycle: String,
    revision: i64,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<AgreementRow> for Agreement {
    type Error = StorageError;

    /// The agreement without its versions, which `assemble` adds.
    fn try_from(row: AgreementRow) -> Result<Self, StorageError> {
        Ok(Agreement {
            id: AgreementId::from_stored(row.id),
            initiator: OrgId::from_stored(row.initiator_id),
            time_zone: TimeZone::parse("time_zone", &row.time_zone).map_err(StorageError::new)?,
            lifecycle: from_json(&row.lifecycle)?,
            revision: unsigned(row.revision)?,
            versions: Vec::new(),
            created_at: instant(row.created_at)?,
            updated_at: instant(row.updated_at)?,
        })
    }
}

#[derive(sqlx::FromRow)]
struct VersionRow {
    version: i64,
    /// The canonical document once proposed (its hash covers exactly
    /// these bytes); the draft's content as JSON before.
    document: String,
    /// Set once the version is proposed.
    content_hash: Option<String>,
    proposed_at: Option<i64>,
    /// The refusal that ended the version's ballot, JSON.
    declined: Option<String>,
}

impl TryFrom<VersionRow> for Version {
    type Error = StorageError;

    /// The version without its signatures, which `assemble` adds.
    fn try_from(row: VersionRow) -> Result<Self, StorageError> {
        // A proposed version is read back from the very document its
        // hash covers, so what is shown is what was signed.
        let content: Content = match &row.content_hash {
            Some(_) => {
                let parsed: serde_json::Value = from_json(&row.document)?;
                serde_json::from_value(parsed["content"].clone()).map_err(StorageError::new)?
            }
            None => from_json(&row.document)?,
        };
        Ok(Version {
            number: version_number(row.version)?,
            content,
            canonical: row.content_hash.as_ref().map(|_| row.document.clone()),
            content_hash: row.content_hash,
            proposed_at: optional_instant(row.proposed_at)?,
            signatures: Vec::new(),
            declined: row.declined.as_deref().map(from_json).transpose()?,
        })
    }
}

#[derive(sqlx::FromRow)]
struct SignatureRow {
    version: i64,
    org_id: String,
    person_id: String,
    signatory: String,
    content_hash: String,
    signed_at: i64,
    node_id: String,
    /// The signing node's Ed25519 key, hex.
    public_key: String,
    /// The Ed25519 signature of the statement, hex.
    signature: String,
}

impl TryFrom<SignatureRow> for Signature {
    type Error = StorageError;

    fn try_from(row: SignatureRow) -> Result<Self, StorageError> {
        let bad = |what: &str| StorageError::new(FieldError::new(what, "is not hex"));
        let public_key: [u8; 32] = hex::decode(&row.public_key)
            .ok()
            .and_then(|k| k.try_into().ok())
            .ok_or_else(|| bad("public_key"))?;
        Ok(Signature {
            version: version_number(row.version)?,
            content_hash: row.content_hash,
            org_id: OrgId::from_stored(row.org_id),
            person_id: PersonId::from_stored(row.person_id),
            signatory: row.signatory,
            signed_at: instant(row.signed_at)?,
            node_id: row.node_id,
            public_key,
            signature: hex::decode(&row.signature).map_err(|_| bad("signature"))?,
        })
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct HistoryRow {
    seq: i64,
    action: String,
    version: i64,
    state: String,
    actor: String,
    org_id: Option<String>,
    comment: String,
    at: i64,
}

impl TryFrom<HistoryRow> for HistoryEntry {
    type Error = StorageError;

    fn try_from(row: HistoryRow) -> Result<Self, StorageError> {
        Ok(HistoryEntry {
            seq: unsigned(row.seq)?,
            action: row.action,
            version: version_number(row.version)?,
            state: State::parse("state", &row.state).map_err(StorageError::new)?,
            actor: row.actor,
            org_id: row.org_id.map(OrgId::from_stored),
            comment: row.comment,
            at: instant(row.at)?,
        })
    }
}

/// An activity delivered under an agreement, for its report.
#[derive(sqlx::FromRow)]
pub(super) struct DeliveredRow {
    pub(super) id: String,
    publisher_id: String,
    status: String,
    details: String,
}

impl DeliveredRow {
    /// The activity's facts, its part of the programme found in `content`.
    pub(super) fn facts(
        self,
        content: &Content,
        occurrences: Vec<SlotRow>,
    ) -> Result<ActivityFacts, StorageError> {
        let details: ActivityDetails = from_json(&self.details)?;
        // A cancelled activity cancels every occurrence with it.
        let whole_cancelled = self.status == "cancelled";
        Ok(ActivityFacts {
            id: ActivityId::from_stored(self.id),
            publisher: OrgId::from_stored(self.publisher_id),
            part: content.part_for(&details.subjects, &details.title),
            occurrences: occurrences
                .into_iter()
                .map(|o| o.slot(whole_cancelled))
                .collect::<Result<_, _>>()?,
        })
    }
}

/// An occurrence of a delivered activity.
#[derive(sqlx::FromRow)]
pub(super) struct SlotRow {
    start_at: i64,
    end_at: i64,
    cancelled: i64,
}

impl SlotRow {
    fn slot(self, whole_cancelled: bool) -> Result<(Interval, bool), StorageError> {
        Ok((
            (instant(self.start_at)?, instant(self.end_at)?),
            whole_cancelled || self.cancelled != 0,
        ))
    }
}

/// A confirmed cohort of a delivered activity.
#[derive(sqlx::FromRow)]
pub(super) struct CohortRow {
    org_id: String,
    headcount: i64,
    results: Option<String>,
}

impl TryFrom<CohortRow> for CohortFacts {
    type Error = StorageError;

    fn try_from(row: CohortRow) -> Result<Self, StorageError> {
        let results: Option<Results> = row.results.as_deref().map(from_json).transpose()?;
        Ok(CohortFacts {
            org_id: OrgId::from_stored(row.org_id),
            headcount: u32::try_from(row.headcount).unwrap_or(0),
            attended: results.map(|r| r.attended),
        })
    }
}

/// A booked occurrence under an agreement, with its resource's owner.
#[derive(sqlx::FromRow)]
pub(super) struct BookedRow {
    booking_id: String,
    resource_id: String,
    owner_id: String,
    state: String,
    start_at: i64,
    end_at: i64,
    hold_expires_at: Option<i64>,
}

impl BookedRow {
    /// The occurrence's facts as of `now`; none for a hold that lapsed.
    pub(super) fn facts(self, now: DateTime<Utc>) -> Result<Option<BookingFacts>, StorageError> {
        let state = OccurrenceState::parse("state", &self.state).map_err(StorageError::new)?;
        let lapsed = state == OccurrenceState::Held
            && optional_instant(self.hold_expires_at)?.is_some_and(|until| until <= now);
        if lapsed {
            return Ok(None);
        }
        Ok(Some(BookingFacts {
            booking_id: BookingId::from_stored(self.booking_id),
            resource_id: ResourceId::from_stored(self.resource_id),
            owner: OrgId::from_stored(self.owner_id),
            state,
            interval: (
                instant(self.start_at).unwrap_or(now),
                instant(self.end_at).unwrap_or(now),
            ),
        }))
    }
}

/// The change-log payload: the agreement as its parties follow it.
#[derive(Serialize)]
struct AgreementPayload<'a> {
    id: &'a AgreementId,
    action: &'a str,
    /// The party that took the step, if a party did.
    #[serde(skip_serializing_if = "Option::is_none")]
    by: Option<&'a OrgId>,
    /// The party's reason (declining, terminating).
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<&'a str>,
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
    /// The effective version's term, for peers' lists.
    term: (NaiveDate, NaiveDate),
    ends_at: Option<DateTime<Utc>>,
    revision: u64,
    /// When the version in force got its last signature.
    #[serde(skip_serializing_if = "Option::is_none")]
    in_force_since: Option<DateTime<Utc>>,
    /// Hours the duties plan, by party, for peers' reports.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    planned_hours: BTreeMap<OrgId, f64>,
    /// Students the effective version plans, for peers' reports.
    #[serde(skip_serializing_if = "Option::is_none")]
    planned_students: Option<u32>,
}

/// Writes the agreement row, the versions `step` touched, a new signature,
/// the parties, the history entry and the change-log entry.
pub(super) async fn save(
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
    let lifecycle = to_json(&agreement.lifecycle)?;
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
            None => to_json(&version.content)?,
        };
        let declined = version.declined.as_ref().map(to_json).transpose()?;
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
    let facts = AgreementFacts::of(agreement);
    let payload = AgreementPayload {
        id: &agreement.id,
        action: step.action,
        by: step.org.as_ref(),
        comment: Some(step.comment.as_str()).filter(|c| !c.is_empty()),
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
        term: (effective.content.valid_from, effective.content.valid_to),
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

pub(super) async fn record_history(
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
) -> Result<Option<Agreement>, StorageError> {
    match load(conn, id).await {
        Ok(agreement) => Ok(Some(agreement)),
        Err(Error::NotFound(_)) => Ok(None),
        Err(Error::Storage(e)) => Err(e),
        Err(other) => Err(StorageError::msg(other.to_string())),
    }
}

/// The columns of an agreement's row, a version's and a signature's, as
/// their `FromRow` structs read them.
const AGREEMENT_COLUMNS: &str =
    "id, initiator_id, time_zone, lifecycle, revision, created_at, updated_at";
const VERSION_COLUMNS: &str = "version, document, content_hash, proposed_at, declined";
const SIGNATURE_COLUMNS: &str = "version, org_id, person_id, signatory, content_hash, signed_at, node_id, public_key, signature";

/// An agreement from its row, its versions' rows in order and its
/// signatures, each signature on its version.
fn assemble(
    row: AgreementRow,
    versions: Vec<VersionRow>,
    signatures: &[Signature],
) -> Result<Agreement, StorageError> {
    let mut agreement = Agreement::try_from(row)?;
    for row in versions {
        let mut version = Version::try_from(row)?;
        version.signatures = signatures
            .iter()
            .filter(|s| s.version == version.number)
            .cloned()
            .collect();
        agreement.versions.push(version);
    }
    Ok(agreement)
}

/// The agreement with its versions and their signatures.
pub(crate) async fn load(conn: &mut AnyConnection, id: &AgreementId) -> Result<Agreement, Error> {
    let row: AgreementRow = sqlx::query_as(&format!(
        "SELECT {AGREEMENT_COLUMNS} FROM agreements WHERE id = $1"
    ))
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await
    .map_err(storage)?
    .ok_or_else(|| Error::NotFound(id.to_string()))?;
    let versions: Vec<VersionRow> = sqlx::query_as(&format!(
        "SELECT {VERSION_COLUMNS} FROM agreement_versions WHERE agreement_id = $1 ORDER BY version"
    ))
    .bind(id.to_string())
    .fetch_all(&mut *conn)
    .await
    .map_err(storage)?;
    let signatures: Vec<SignatureRow> = sqlx::query_as(&format!(
        "SELECT {SIGNATURE_COLUMNS} FROM agreement_signatures WHERE agreement_id = $1 \
         ORDER BY signed_at"
    ))
    .bind(id.to_string())
    .fetch_all(&mut *conn)
    .await
    .map_err(storage)?;
    let signatures: Vec<Signature> = decode_all(signatures)?;
    Ok(assemble(row, versions, &signatures)?)
}

/// A version's row with the agreement it belongs to.
#[derive(sqlx::FromRow)]
struct OwnedVersionRow {
    agreement_id: String,
    #[sqlx(flatten)]
    row: VersionRow,
}

/// A signature's row with the agreement it belongs to.
#[derive(sqlx::FromRow)]
struct OwnedSignatureRow {
    agreement_id: String,
    #[sqlx(flatten)]
    row: SignatureRow,
}

/// Every agreement this node keeps, with its versions and their
/// signatures, by id: three statements, however many there are.
pub(crate) async fn load_all(conn: &mut AnyConnection) -> Result<Vec<Agreement>, StorageError> {
    let rows: Vec<AgreementRow> = sqlx::query_as(&format!(
        "SELECT {AGREEMENT_COLUMNS} FROM agreements ORDER BY id"
    ))
    .fetch_all(&mut *conn)
    .await
    .map_err(storage)?;
    let versions: Vec<OwnedVersionRow> = sqlx::query_as(&format!(
        "SELECT agreement_id, {VERSION_COLUMNS} FROM agreement_versions \
         ORDER BY agreement_id, version"
    ))
    .fetch_all(&mut *conn)
    .await
    .map_err(storage)?;
    let signatures: Vec<OwnedSignatureRow> = sqlx::query_as(&format!(
        "SELECT agreement_id, {SIGNATURE_COLUMNS} FROM agreement_signatures \
         ORDER BY agreement_id, signed_at"
    ))
    .fetch_all(&mut *conn)
    .await
    .map_err(storage)?;
    let mut signed: BTreeMap<String, Vec<Signature>> = BTreeMap::new();
    for s in signatures {
        signed
            .entry(s.agreement_id)
            .or_default()
            .push(Signature::try_from(s.row)?);
    }
    let mut versioned: BTreeMap<String, Vec<VersionRow>> = BTreeMap::new();
    for v in versions {
        versioned.entry(v.agreement_id).or_default().push(v.row);
    }
    rows.into_iter()
        .map(|row| {
            let versions = versioned.remove(&row.id).unwrap_or_default();
            let signatures = signed.remove(&row.id).unwrap_or_default();
            assemble(row, versions, &signatures)
        })
        .collect()
}
