//! The notifier's side of the store: what each person wants to be told,
//! and the outbox filled from the node's own change log. The cursor moves
//! in the same transaction as the rows written for the entries it passes,
//! and each row's key (entry × person × kind) makes a replay write nothing
//! twice, so a node killed at any moment resumes where it was.

use chrono::{DateTime, Utc};
use edufed_domain::StorageError;
use edufed_domain::booking::{BookedOccurrence, Booking};
use edufed_domain::calendar::registration::Registration;
use edufed_domain::changes::EntityKind;
use edufed_domain::directory::Role;
use edufed_domain::ids::{OrgId, PersonId};
use edufed_domain::notify::{self, Delivery, Event, Kind};
use sqlx::AnyConnection;

use crate::Store;
use crate::error::storage;
use crate::sql::{from_json, instant, micros, to_json, unsigned};

/// How much of a delivery's error is kept.
const ERROR_CHARS: usize = 500;

/// A notification waiting in the outbox, or sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    /// The change entry × person × kind it was made for.
    pub key: String,
    pub change_sequence: u64,
    pub person_id: PersonId,
    /// Where it goes: the person's e-mail address.
    pub address: String,
    pub kind: Kind,
    /// The organization whose news it is.
    pub org_id: OrgId,
    /// The record it is about.
    pub entity_kind: EntityKind,
    pub entity_id: String,
    /// The lessons concerned, for booking news.
    pub starts: Vec<DateTime<Utc>>,
    /// The owner's comment on a decision, if any.
    pub comment: Option<String>,
    /// Immediately or in the digest.
    pub delivery: Delivery,
    pub created_at: DateTime<Utc>,
}

/// What an outbox row keeps of its event besides the columns.
#[derive(serde::Serialize, serde::Deserialize)]
struct Detail {
    starts: Vec<DateTime<Utc>>,
    comment: Option<String>,
}

/// A booking as the change log carries it.
#[derive(serde::Deserialize)]
struct BookingPayload {
    booking: Booking,
    occurrences: Vec<BookedOccurrence>,
}

impl Store {
    /// How `person` wants each kind of news; a kind never chosen comes
    /// immediately.
    pub async fn notification_preferences(
        &self,
        person: &PersonId,
    ) -> Result<Vec<(Kind, Delivery)>, StorageError> {
        let mut conn = self.reader().acquire().await.map_err(storage)?;
        let mut out = Vec::new();
        for kind in Kind::ALL {
            out.push((*kind, preference(&mut conn, person, *kind).await?));
        }
        Ok(out)
    }

    /// Sets how `person` wants `kind` of news.
    pub async fn set_notification_preference(
        &self,
        person: &PersonId,
        kind: Kind,
        delivery: Delivery,
    ) -> Result<(), StorageError> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO notification_preferences (person_id, kind, delivery) VALUES ($1, $2, $3) \
             ON CONFLICT (person_id, kind) DO UPDATE SET delivery = $3",
        )
        .bind(person.to_string())
        .bind(kind.as_str())
        .bind(delivery.as_str())
        .execute(tx.conn())
        .await
        .map_err(storage)?;
        tx.commit().await?;
        Ok(())
    }

    /// Reads up to `batch` entries of the log after the notifier's cursor,
    /// writes the notifications they mean to the outbox and moves the
    /// cursor past them, all in one transaction. Returns how many entries
    /// it passed (0 when it has caught up).
    #[tracing::instrument(name = "store.notify.fill_outbox", skip(self))]
    pub async fn fill_outbox(&self, batch: u32) -> Result<usize, StorageError> {
        let mut tx = self.write_tx().await?;
        let now = tx.now();
        let conn = tx.conn();
        let cursor: i64 = sqlx::query_scalar("SELECT seq FROM notifier_cursor WHERE id = 1")
            .fetch_optional(&mut *conn)
            .await
            .map_err(storage)?
            .unwrap_or(0);
        let entries: Vec<(i64, String, String, Option<String>, String, String)> = sqlx::query_as(
            "SELECT seq, entity_kind, entity_id, org_id, payload, actor FROM change_log \
             WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(cursor)
        .bind(i64::from(batch))
        .fetch_all(&mut *conn)
        .await
        .map_err(storage)?;
        let Some(last) = entries.last().map(|e| e.0) else {
            return Ok(0);
        };
        for (seq, kind, entity_id, org_id, payload, actor) in &entries {
            let Ok(kind) = EntityKind::parse("entity_kind", kind) else {
                continue;
            };
            let Some(owner) = org_id.clone().map(OrgId::from_stored) else {
                continue;
            };
            let before = previous(conn, kind, entity_id, *seq).await?;
            let events = events(kind, before.as_deref(), payload, &owner)?;
            for event in events {
                queue(conn, *seq, kind, entity_id, actor, &event, now).await?;
            }
        }
        sqlx::query("UPDATE notifier_cursor SET seq = $1 WHERE id = 1")
            .bind(last)
            .execute(&mut *conn)
            .await
            .map_err(storage)?;
        tx.commit().await?;
        Ok(entries.len())
    }

    /// Up to `limit` notifications due to be sent now (those wanted
    /// immediately whose next attempt has come), oldest first.
    pub async fn due_notifications(&self, limit: u32) -> Result<Vec<Queued>, StorageError> {
        let rows: Vec<OutboxRow> = sqlx::query_as(
            "SELECT dedupe_key, change_seq, person_id, address, kind, org_id, entity_kind, \
             entity_id, detail, delivery, created_at FROM notification_outbox \
             WHERE state = 'queued' AND delivery = 'immediately' AND next_attempt_at <= $1 \
             ORDER BY next_attempt_at, change_seq, dedupe_key LIMIT $2",
        )
        .bind(micros(self.clock().now()))
        .bind(i64::from(limit))
        .fetch_all(self.reader())
        .await
        .map_err(storage)?;
        rows.into_iter().map(decode).collect()
    }

    /// Records that the notification `key` was delivered.
    pub async fn notification_sent(&self, key: &str) -> Result<(), StorageError> {
        let mut tx = self.write_tx().await?;
        let now = micros(tx.now());
        sqlx::query(
            "UPDATE notification_outbox SET state = 'sent', sent_at = $1, attempts = attempts + 1, \
             last_error = NULL WHERE dedupe_key = $2",
        )
        .bind(now)
        .bind(key)
        .execute(tx.conn())
        .await
        .map_err(storage)?;
        tx.commit().await
    }

    /// Records a failed delivery of `key` and why: it is tried again after
    /// [`notify::retry_delay`], or given up (state `failed`) once it has
    /// waited `give_up_after` since it was queued.
    pub async fn notification_failed(
        &self,
        key: &str,
        error: &str,
        give_up_after: chrono::Duration,
    ) -> Result<(), StorageError> {
        let mut tx = self.write_tx().await?;
        let now = tx.now();
        let row: Option<(i64, i64)> = sqlx::query_as(
            "SELECT attempts, created_at FROM notification_outbox WHERE dedupe_key = $1",
        )
        .bind(key)
        .fetch_optional(tx.conn())
        .await
        .map_err(storage)?;
        let Some((attempts, created_at)) = row else {
            return tx.commit().await;
        };
        let attempts = u32::try_from(attempts.saturating_add(1)).unwrap_or(u32::MAX);
        let give_up = now - instant(created_at)? >= give_up_after;
        let next = now + notify::retry_delay(attempts);
        sqlx::query(
            "UPDATE notification_outbox SET attempts = $1, last_error = $2, next_attempt_at = $3, \
             state = $4 WHERE dedupe_key = $5",
        )
        .bind(i64::from(attempts))
        .bind(error.chars().take(ERROR_CHARS).collect::<String>())
        .bind(micros(next))
        .bind(if give_up { "failed" } else { "queued" })
        .bind(key)
        .execute(tx.conn())
        .await
        .map_err(storage)?;
        tx.commit().await
    }

    /// The outbox's notifications for `person`, oldest first.
    pub async fn outbox_of(&self, person: &PersonId) -> Result<Vec<Queued>, StorageError> {
        let rows: Vec<OutboxRow> = sqlx::query_as(
            "SELECT dedupe_key, change_seq, person_id, address, kind, org_id, entity_kind, \
             entity_id, detail, delivery, created_at FROM notification_outbox \
             WHERE person_id = $1 ORDER BY change_seq, dedupe_key",
        )
        .bind(person.to_string())
        .fetch_all(self.reader())
        .await
        .map_err(storage)?;
        rows.into_iter().map(decode).collect()
    }
}

type OutboxRow = (
    String,
    i64,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
);

fn decode(row: OutboxRow) -> Result<Queued, StorageError> {
    let (key, seq, person, address, kind, org, entity_kind, entity_id, detail, delivery, at) = row;
    let detail: Detail = from_json(&detail)?;
    Ok(Queued {
        key,
        change_sequence: unsigned(seq)?,
        person_id: PersonId::from_stored(person),
        address,
        kind: Kind::parse("kind", &kind).map_err(StorageError::new)?,
        org_id: OrgId::from_stored(org),
        entity_kind: EntityKind::parse("entity_kind", &entity_kind).map_err(StorageError::new)?,
        entity_id,
        starts: detail.starts,
        comment: detail.comment,
        delivery: Delivery::parse("delivery", &delivery).map_err(StorageError::new)?,
        created_at: instant(at)?,
    })
}

/// The record's payload as the log had it before entry `seq`, if the log
/// still holds it.
async fn previous(
    conn: &mut AnyConnection,
    kind: EntityKind,
    entity_id: &str,
    seq: i64,
) -> Result<Option<String>, StorageError> {
    if !matches!(kind, EntityKind::Registration | EntityKind::Booking) {
        return Ok(None);
    }
    sqlx::query_scalar(
        "SELECT payload FROM change_log WHERE entity_kind = $1 AND entity_id = $2 AND seq < $3 \
         ORDER BY seq DESC LIMIT 1",
    )
    .bind(kind.as_str())
    .bind(entity_id)
    .bind(seq)
    .fetch_optional(conn)
    .await
    .map_err(storage)
}

/// What an entry of `kind` means, from the record before and after.
fn events(
    kind: EntityKind,
    before: Option<&str>,
    after: &str,
    owner: &OrgId,
) -> Result<Vec<Event>, StorageError> {
    Ok(match kind {
        EntityKind::Registration => {
            let before: Option<Registration> = before.map(from_json).transpose()?;
            let after: Registration = from_json(after)?;
            notify::registration_events(before.as_ref(), &after, owner)
        }
        EntityKind::Booking => {
            let before: Option<BookingPayload> = before.map(from_json).transpose()?;
            let after: BookingPayload = from_json(after)?;
            notify::booking_events(
                before.as_ref().map(|b| b.occurrences.as_slice()),
                &after.booking,
                &after.occurrences,
                owner,
            )
        }
        _ => Vec::new(),
    })
}

/// How `person` wants `kind`: as chosen, or immediately.
async fn preference(
    conn: &mut AnyConnection,
    person: &PersonId,
    kind: Kind,
) -> Result<Delivery, StorageError> {
    let chosen: Option<String> = sqlx::query_scalar(
        "SELECT delivery FROM notification_preferences WHERE person_id = $1 AND kind = $2",
    )
    .bind(person.to_string())
    .bind(kind.as_str())
    .fetch_optional(conn)
    .await
    .map_err(storage)?;
    Ok(chosen
        .and_then(|d| Delivery::parse("delivery", &d).ok())
        .unwrap_or(Delivery::Immediately))
}

/// Writes `event` to the outbox for each member of its organization with
/// an address whose role the news concerns and who wants it, but the
/// person who acted.
async fn queue(
    conn: &mut AnyConnection,
    seq: i64,
    kind: EntityKind,
    entity_id: &str,
    actor: &str,
    event: &Event,
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    let members: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT p.id, p.email, m.role FROM memberships m JOIN people p ON p.id = m.person_id \
         WHERE m.org_id = $1 AND p.email IS NOT NULL AND p.email <> '' ORDER BY p.id",
    )
    .bind(event.org.to_string())
    .fetch_all(&mut *conn)
    .await
    .map_err(storage)?;
    let detail = to_json(&Detail {
        starts: event.starts.clone(),
        comment: event.comment.clone(),
    })?;
    for (person, address, role) in members {
        let told = Role::parse("role", &role).is_ok_and(|r| event.kind.told_to(r));
        if !told || person == actor {
            continue;
        }
        let person = PersonId::from_stored(person);
        let delivery = preference(conn, &person, event.kind).await?;
        if delivery == Delivery::Off {
            continue;
        }
        sqlx::query(
            "INSERT INTO notification_outbox (dedupe_key, change_seq, person_id, address, kind, \
             org_id, entity_kind, entity_id, detail, delivery, state, attempts, next_attempt_at, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'queued', 0, $11, $11) \
             ON CONFLICT (dedupe_key) DO NOTHING",
        )
        .bind(format!("{seq}:{person}:{}", event.kind.as_str()))
        .bind(seq)
        .bind(person.to_string())
        .bind(address)
        .bind(event.kind.as_str())
        .bind(event.org.to_string())
        .bind(kind.as_str())
        .bind(entity_id)
        .bind(detail.clone())
        .bind(delivery.as_str())
        .bind(micros(now))
        .execute(&mut *conn)
        .await
        .map_err(storage)?;
    }
    Ok(())
}
