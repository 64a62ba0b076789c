//! Personal data: a person erased on request, names on records past the
//! retention replaced by the role, and the register's counts.

use chrono::{DateTime, Utc};
use edufed_domain::StorageError;
use edufed_domain::changes::{Actor, EntityKind, NewChange};
use edufed_domain::directory::Membership;
use edufed_domain::ids::{ActivityId, PersonId, RegistrationId};
use edufed_domain::policy::{Action, Principal, Target, authorize};
use edufed_domain::privacy::{Counts, ERASED, Erased, Error, Subject};
use edufed_domain::session::EndReason;

use crate::Store;
use crate::calendar::redact::{self, Whose};
use crate::error::storage;
use crate::sql::{micros, signed, unsigned};
use crate::tx::WriteTx;

/// Records looked at per pass of the retention.
const RETENTION_BATCH: i64 = 500;

impl Store {
    /// Erases the person `id` on their request: their name and e-mail go
    /// from their record (the id stays, for the audit trail), they leave
    /// their organizations, their tokens, sessions and accounts end, their
    /// growth records, preferences and messages go, and their name is
    /// replaced by the role on the activities they coordinate and the
    /// registrations they are the teacher of (new versions, which peers'
    /// copies follow), also in the change log still kept. A tombstone in
    /// the log tells peers to drop what they hold of the person. An admin
    /// of every organization they belong to, or the operator, may.
    #[tracing::instrument(name = "store.privacy.erase", skip(self, caller))]
    pub async fn erase_person(&self, id: &PersonId, caller: &Principal) -> Result<Erased, Error> {
        let mut tx = self.write_tx().await?;
        let now = tx.now();
        let person = crate::directory::find_person(tx.conn(), id).await?;
        let memberships: Vec<(String, String, i64)> =
            sqlx::query_as("SELECT org_id, role, version FROM memberships WHERE person_id = $1")
                .bind(id.to_string())
                .fetch_all(tx.conn())
                .await
                .map_err(storage)?;
        let orgs: Vec<_> = memberships
            .iter()
            .map(|(org, _, _)| edufed_domain::ids::OrgId::from_stored(org.clone()))
            .collect();
        authorize(
            caller,
            Action::ErasePersonalData,
            Target::Person {
                id,
                operator: person.operator,
                organizations: &orgs,
            },
        )?;
        let actor = caller.actor();
        let email = person.email.as_ref().map(|e| e.as_str().to_owned());
        let subject = Subject::new(&person.display_name, email.as_deref());
        let mut erased = Erased::default();
        if person.display_name != ERASED {
            let needles = Subject::needles(&person.display_name, email.as_deref());
            for activity in candidates(&mut tx, "activities", "details", &needles).await? {
                let activity = ActivityId::from_stored(activity);
                if redact::activity(&mut tx, &activity, Whose::Of(&subject), &actor, now).await? {
                    scrub_log(&mut tx, EntityKind::Activity, activity.as_str(), &subject).await?;
                    erased.activities += 1;
                }
            }
            for registration in candidates(&mut tx, "registrations", "cohort", &needles).await? {
                let registration = RegistrationId::from_stored(registration);
                if redact::registration(&mut tx, &registration, Whose::Of(&subject), &actor, now)
                    .await?
                {
                    let id = registration.to_string();
                    scrub_log(&mut tx, EntityKind::Registration, &id, &subject).await?;
                    erased.registrations += 1;
                }
            }
        }
        for (org, role, version) in &memberships {
            let membership = Membership {
                org_id: edufed_domain::ids::OrgId::from_stored(org.clone()),
                person_id: id.clone(),
                role: edufed_domain::directory::Role::parse("role", role)
                    .map_err(edufed_domain::directory::Error::from)?,
                created_at: now,
            };
            tx.append(NewChange::delete(
                EntityKind::Membership,
                membership.entity_id(),
                unsigned(*version)? + 1,
                Some(membership.org_id.clone()),
                &membership,
                &actor,
            ))
            .await?;
            erased.memberships += 1;
        }
        let person_id = id.to_string();
        let at = micros(now);
        let mut run = async |sql: &str, with_time: bool| -> Result<u64, StorageError> {
            let mut query = sqlx::query(sql).bind(person_id.clone());
            if with_time {
                query = query.bind(at);
            }
            Ok(query
                .execute(tx.conn())
                .await
                .map_err(storage)?
                .rows_affected())
        };
        run("DELETE FROM memberships WHERE person_id = $1", false).await?;
        erased.credentials += run(
            "UPDATE api_tokens SET revoked_at = $2 WHERE person_id = $1 AND revoked_at IS NULL",
            true,
        )
        .await?;
        erased.credentials += run("DELETE FROM identities WHERE person_id = $1", false).await?;
        for sql in [
            "DELETE FROM pending_sign_ins WHERE invitation_id IN \
             (SELECT id FROM sign_in_links WHERE person_id = $1)",
            "DELETE FROM sign_in_links WHERE person_id = $1",
        ] {
            run(sql, false).await?;
        }
        for sql in [
            "DELETE FROM growth_records WHERE person_id = $1",
            "DELETE FROM growth_consents WHERE person_id = $1",
            "DELETE FROM notification_preferences WHERE person_id = $1",
            "DELETE FROM notification_outbox WHERE person_id = $1",
        ] {
            erased.records += run(sql, false).await?;
        }
        let open: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM sessions WHERE person_id = $1 AND ended_at IS NULL",
        )
        .bind(id.to_string())
        .fetch_one(tx.conn())
        .await
        .map_err(storage)?;
        crate::directory::end_sessions_of(&mut tx, id, EndReason::MembershipRemoved).await?;
        erased.credentials += unsigned(open)?;
        let version = person.version + 1;
        sqlx::query(
            "UPDATE people SET display_name = $1, email = NULL, version = $2 WHERE id = $3",
        )
        .bind(ERASED)
        .bind(signed(version))
        .bind(id.to_string())
        .execute(tx.conn())
        .await
        .map_err(storage)?;
        let redacted = edufed_domain::directory::Person {
            display_name: ERASED.to_owned(),
            email: None,
            version,
            ..person
        };
        tx.append(NewChange::upsert(
            EntityKind::Person,
            id.to_string(),
            version,
            None,
            &redacted,
            &actor,
        ))
        .await?;
        // The person's earlier entries in the log carried their name.
        scrub_log(&mut tx, EntityKind::Person, id.as_str(), &subject).await?;
        tx.append(
            NewChange::delete(
                EntityKind::Erasure,
                id.to_string(),
                version,
                None,
                &serde_json::json!({ "person": id }),
                &actor,
            )
            .shared(true),
        )
        .await?;
        tx.commit().await?;
        tracing::info!(person = %id, ?erased, "personal data erased");
        Ok(erased)
    }

    /// Replaces by the role every name on the activities that ended before
    /// `before` and on their registrations (a pass of at most a few hundred
    /// records; the node's work calls it again until none is left); how
    /// many records changed.
    pub async fn expire_personal_data(&self, before: DateTime<Utc>) -> Result<u64, Error> {
        let mut changed = 0;
        for table in ["activities", "registrations"] {
            let mut after = String::new();
            loop {
                let sql = if table == "activities" {
                    "SELECT a.id FROM activities a WHERE a.id > $2 \
                     AND a.details LIKE '%\"coordinator\":{%' \
                     AND NOT EXISTS (SELECT 1 FROM occurrences o WHERE o.activity_id = a.id \
                                     AND o.end_at >= $1) \
                     ORDER BY a.id LIMIT $3"
                } else {
                    "SELECT r.id FROM registrations r WHERE r.id > $2 \
                     AND NOT EXISTS (SELECT 1 FROM occurrences o WHERE o.activity_id = r.activity_id \
                                     AND o.end_at >= $1) \
                     ORDER BY r.id LIMIT $3"
                };
                let page: Vec<String> = sqlx::query_scalar(sql)
                    .bind(micros(before))
                    .bind(after.clone())
                    .bind(RETENTION_BATCH)
                    .fetch_all(self.reader())
                    .await
                    .map_err(storage)?;
                let Some(last) = page.last() else {
                    break;
                };
                after = last.clone();
                for id in page {
                    let mut tx = self.write_tx().await?;
                    let now = tx.now();
                    let done = if table == "activities" {
                        let id = ActivityId::from_stored(id);
                        redact::activity(&mut tx, &id, Whose::Anyone, &Actor::Node, now).await?
                    } else {
                        let id = RegistrationId::from_stored(id);
                        redact::registration(&mut tx, &id, Whose::Anyone, &Actor::Node, now).await?
                    };
                    tx.commit().await?;
                    changed += u64::from(done);
                }
            }
        }
        Ok(changed)
    }

    /// How many records hold each kind of personal data, for the register.
    pub async fn personal_data_counts(&self) -> Result<Counts, StorageError> {
        let count = async |sql: &str| -> Result<u64, StorageError> {
            let n: i64 = sqlx::query_scalar(sql)
                .fetch_one(self.reader())
                .await
                .map_err(storage)?;
            unsigned(n)
        };
        Ok(Counts {
            people: count("SELECT COUNT(*) FROM people WHERE display_name <> 'удалённый пользователь'")
                .await?,
            identities: count("SELECT COUNT(*) FROM identities").await?,
            sessions: count("SELECT COUNT(*) FROM sessions WHERE ended_at IS NULL").await?,
            coordinators: count(
                "SELECT COUNT(*) FROM activities WHERE details LIKE '%\"coordinator\":{%' \
                 AND details NOT LIKE '%\"coordinator\":{\"name\":\"координатор\"%'",
            )
            .await?,
            teachers: count(
                "SELECT COUNT(*) FROM registrations WHERE cohort NOT LIKE '%\"teacher\":\"педагог\"%'",
            )
            .await?,
            signatories: count("SELECT COUNT(*) FROM agreements").await?,
            mentors: count("SELECT COUNT(*) FROM mentoring_pairs").await?,
            growth: count("SELECT COUNT(*) FROM growth_records").await?,
            outbox: count("SELECT COUNT(*) FROM notification_outbox").await?,
            audit: count("SELECT COUNT(*) FROM audit_log").await?,
        })
    }
}

/// The ids of `table`'s rows whose `column` contains one of `needles`: the
/// records that may name the person, for the domain's match to decide.
async fn candidates(
    tx: &mut WriteTx<'_>,
    table: &str,
    column: &str,
    needles: &[String],
) -> Result<Vec<String>, StorageError> {
    let mut ids = Vec::new();
    for needle in needles {
        let found: Vec<String> = sqlx::query_scalar(&format!(
            "SELECT id FROM {table} WHERE {column} LIKE $1 ESCAPE '\\' ORDER BY id"
        ))
        .bind(format!("%{}%", crate::sql::like_escape(needle)))
        .fetch_all(tx.conn())
        .await
        .map_err(storage)?;
        ids.extend(found);
    }
    ids.sort();
    ids.dedup();
    Ok(ids)
}

/// Replaces the person's name and e-mail in the payloads of the entries
/// the log still keeps for one record (entries are signed as they are
/// served, so the redacted ones verify).
async fn scrub_log(
    tx: &mut WriteTx<'_>,
    kind: EntityKind,
    id: &str,
    subject: &Subject,
) -> Result<(), StorageError> {
    let entries: Vec<(i64, String)> = sqlx::query_as(
        "SELECT seq, payload FROM change_log WHERE entity_kind = $1 AND entity_id = $2",
    )
    .bind(kind.as_str())
    .bind(id.to_owned())
    .fetch_all(tx.conn())
    .await
    .map_err(storage)?;
    for (seq, payload) in entries {
        let Ok(mut value) = serde_json::from_str::<serde_json::Value>(&payload) else {
            continue;
        };
        if scrub(&mut value, subject) {
            sqlx::query("UPDATE change_log SET payload = $1 WHERE seq = $2")
                .bind(value.to_string())
                .bind(seq)
                .execute(tx.conn())
                .await
                .map_err(storage)?;
        }
    }
    Ok(())
}

/// Replaces every string in `value` that names the person (by
/// [`ERASED`]) or is their e-mail (by nothing); whether any was.
fn scrub(value: &mut serde_json::Value, subject: &Subject) -> bool {
    match value {
        serde_json::Value::String(s) if subject.named(s) => {
            *s = ERASED.to_owned();
            true
        }
        serde_json::Value::String(s) if subject.reached_at(s) => {
            s.clear();
            true
        }
        serde_json::Value::Array(items) => items
            .iter_mut()
            .fold(false, |any, item| scrub(item, subject) | any),
        serde_json::Value::Object(fields) => fields
            .values_mut()
            .fold(false, |any, item| scrub(item, subject) | any),
        _ => false,
    }
}
