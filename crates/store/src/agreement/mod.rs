//! Agreements: one aggregate row with its lifecycle, its versions (stored
//! exactly as hashed once proposed), signatures, history and parties. Every
//! transition runs under the agreement's lock and writes its history entry
//! and change-log entry in the same transaction. Reading them is in
//! `queries`; their rows and how an agreement is saved, in `rows`.

mod queries;
mod rows;

use chrono::{DateTime, Days, NaiveDate, Utc};
use edufed_domain::agreement::decide::{Ballot, Signer, Vote};
use edufed_domain::agreement::lifecycle::start_of_day;
use edufed_domain::agreement::signing::{Signature, canonical_document, content_hash};
use edufed_domain::agreement::{Agreement, Content, Error, Lifecycle, Phase, State, Term, Version};
use edufed_domain::changes::Actor;
use edufed_domain::error::FieldError;
use edufed_domain::federation::Idempotency;
use edufed_domain::ids::{AgreementId, OrgId};
use edufed_domain::policy::{Action, Principal, Target, authorize};
use edufed_domain::time::TimeZone;
use sqlx::AnyConnection;

use self::rows::{record_history, save};
use crate::Store;
use crate::error::storage;
use crate::sql::micros;
use crate::tx::{Locked, WriteTx};

pub(crate) use self::rows::{find, load, load_all};

/// Who changes an agreement: the node itself (what time brings), or a
/// person doing `action` for `org` (the initiator when `None`), decided
/// under the agreement's lock: someone who may not see it is told it does
/// not exist.
#[derive(Clone, Copy)]
enum By<'a> {
    Node,
    Person {
        caller: &'a Principal,
        action: Action,
        org: Option<&'a OrgId>,
    },
}

impl<'a> By<'a> {
    /// The initiator's preparer: drafts, edits and proposes.
    fn initiator(caller: &'a Principal) -> Self {
        By::Person {
            caller,
            action: Action::ManageAgreements,
            org: None,
        }
    }

    /// A party acting for `org`.
    fn party(caller: &'a Principal, action: Action, org: &'a OrgId) -> Self {
        By::Person {
            caller,
            action,
            org: Some(org),
        }
    }
}

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
        let by = By::initiator(caller);
        self.mutate(id, expected_revision, by, None, async |tx, a, _now| {
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
                Phase::Draft { version } => Some(version),
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
        })
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
        let by = By::initiator(caller);
        self.mutate(id, expected_revision, by, None, async |tx, a, now| {
            let Phase::Draft { version: number } = a.lifecycle.phase else {
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
        })
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
        let by = By::party(caller, Action::SignAgreements, &ballot.org);
        self.mutate(&id, None, by, key, async |_tx, a, now| {
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
        let by = By::party(caller, Action::ManageAgreements, org);
        self.mutate(id, expected_revision, by, None, async |tx, a, now| {
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
        })
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
        let by = By::party(caller, Action::SignAgreements, org);
        self.mutate(id, None, by, None, async |_tx, a, now| {
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
                .mutate(&id, None, By::Node, None, async |_tx, a, now| {
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

    /// Loads the agreement under its lock, applies `change`, and saves it
    /// with its history and change-log entries, all in one transaction.
    async fn mutate(
        &self,
        id: &AgreementId,
        expected_revision: Option<u64>,
        by: By<'_>,
        key: Option<&Idempotency>,
        change: impl AsyncFnOnce(&mut WriteTx<'_>, &mut Agreement, DateTime<Utc>) -> Result<Step, Error>,
    ) -> Result<Agreement, Error> {
        let caller = match by {
            By::Node => None,
            By::Person { caller, .. } => Some(caller),
        };
        let actor = &caller.map_or(Actor::Node, Principal::actor);
        let mut tx = self.write_tx().await?;
        if let Some(answered) = tx.claim::<_, Error>(key).await? {
            return tx.replay(answered).await;
        }
        let now = tx.now();
        tx.lock(Locked::Agreements, id.as_str()).await?;
        let mut agreement = load(tx.conn(), id).await?;
        if let By::Person {
            caller,
            action,
            org,
        } = by
        {
            agreement.seen_by(caller)?;
            let org = org.unwrap_or(&agreement.initiator);
            authorize(caller, action, Target::Organization(org))?;
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
