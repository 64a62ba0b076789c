//! The outbox's rows: written by the notifier, claimed by the sender for a
//! while (so replicas of one node never send one twice at once), marked
//! sent, or failed with why and tried again later until the sender gives
//! up.

use chrono::{DateTime, Utc};
use edufed_domain::StorageError;
use edufed_domain::changes::EntityKind;
use edufed_domain::ids::{OrgId, PersonId};
use edufed_domain::notify::{self, Channel, Delivery, Kind};
use sqlx::AnyConnection;

use super::{Detail, News};
use crate::Store;
use crate::error::storage;
use crate::sql::{from_json, instant, micros, to_json, unsigned};

/// How much of a delivery's error is kept.
const ERROR_CHARS: usize = 500;

/// The columns a [`Queued`] is read from.
const COLUMNS: &str = "dedupe_key, change_seq, channel, person_id, address, kind, org_id, \
                       entity_kind, entity_id, detail, delivery, attempts, created_at, state, \
                       last_error";

/// A notification waiting in the outbox, or sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    /// The change entry × recipient × kind it was made for.
    pub key: String,
    pub change_sequence: u64,
    pub channel: Channel,
    /// Who it is for, by e-mail; `None` for a webhook.
    pub person_id: Option<PersonId>,
    /// Where it goes: the person's e-mail address or the webhook's URL.
    pub address: String,
    pub kind: Kind,
    /// The organization whose news it is.
    pub org_id: OrgId,
    /// The record it is about.
    pub entity_kind: EntityKind,
    pub entity_id: String,
    pub detail: Detail,
    /// Immediately or in the digest.
    pub delivery: Delivery,
    /// Delivery attempts so far.
    pub attempts: u32,
    pub created_at: DateTime<Utc>,
    /// `queued`, `sent` or `failed`.
    pub state: String,
    /// Why the last attempt failed.
    pub last_error: Option<String>,
}

/// How many notifications of one channel are in each state.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutboxCounts {
    pub channel: Option<Channel>,
    /// Waiting for their first attempt or their next.
    pub queued: u64,
    /// Of those queued, how many failed at least once.
    pub retrying: u64,
    pub sent: u64,
    /// Given up.
    pub failed: u64,
}

/// Where one outbox row goes.
pub(super) struct Row<'a> {
    pub(super) key: &'a str,
    pub(super) channel: Channel,
    pub(super) person: Option<&'a PersonId>,
    pub(super) address: &'a str,
    pub(super) delivery: Delivery,
    /// When it is first due: now, or the next digest.
    pub(super) due: DateTime<Utc>,
}

/// Writes one row for `news`, unless a row with its key exists.
pub(super) async fn insert(
    conn: &mut AnyConnection,
    news: &News<'_>,
    row: &Row<'_>,
) -> Result<(), StorageError> {
    sqlx::query(
        "INSERT INTO notification_outbox (dedupe_key, change_seq, channel, person_id, address, \
         kind, org_id, entity_kind, entity_id, detail, delivery, state, attempts, \
         next_attempt_at, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, 'queued', 0, $12, $13) \
         ON CONFLICT (dedupe_key) DO NOTHING",
    )
    .bind(row.key)
    .bind(news.seq)
    .bind(row.channel.as_str())
    .bind(row.person.map(ToString::to_string))
    .bind(row.address)
    .bind(news.event.kind.as_str())
    .bind(news.event.org.to_string())
    .bind(news.entity_kind.as_str())
    .bind(news.entity_id)
    .bind(to_json(news.detail)?)
    .bind(row.delivery.as_str())
    .bind(micros(row.due))
    .bind(micros(news.now))
    .execute(conn)
    .await
    .map_err(storage)?;
    Ok(())
}

impl Store {
    /// Claims up to `limit` notifications of `channel` due now (wanted immediately,
    /// their next attempt come), oldest first, for `lease`: no one else
    /// claims them until it runs out, so replicas of one node share the
    /// work without sending one twice at once, and a sender killed
    /// mid-send leaves them to be tried again.
    pub async fn claim_due_notifications(
        &self,
        channel: Channel,
        limit: u32,
        lease: chrono::Duration,
    ) -> Result<Vec<Queued>, StorageError> {
        self.claim(channel, Delivery::Immediately, limit, lease)
            .await
    }

    /// Claims the e-mail notifications whose daily digest is due, at most
    /// `limit`, for `lease`, ordered by person so that each person's come
    /// together.
    pub async fn claim_due_digests(
        &self,
        limit: u32,
        lease: chrono::Duration,
    ) -> Result<Vec<Queued>, StorageError> {
        self.claim(Channel::Email, Delivery::Digest, limit, lease)
            .await
    }

    async fn claim(
        &self,
        channel: Channel,
        delivery: Delivery,
        limit: u32,
        lease: chrono::Duration,
    ) -> Result<Vec<Queued>, StorageError> {
        let order = match delivery {
            Delivery::Digest => "person_id, address, change_seq, dedupe_key",
            _ => "next_attempt_at, change_seq, dedupe_key",
        };
        // Read what is due without holding the writer (an idle sender's
        // look costs writes nothing); each row is then claimed by a
        // compare-and-set on when it is due.
        let now = self.clock().now();
        let rows: Vec<OutboxRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS}, next_attempt_at FROM notification_outbox \
             WHERE state = 'queued' AND delivery = $1 AND channel = $2 \
             AND next_attempt_at <= $3 \
             ORDER BY {order} LIMIT $4"
        ))
        .bind(delivery.as_str())
        .bind(channel.as_str())
        .bind(micros(now))
        .bind(i64::from(limit))
        .fetch_all(self.reader())
        .await
        .map_err(storage)?;
        if rows.is_empty() {
            return Ok(Vec::new());
        }
        let mut tx = self.write_tx().await?;
        let mut claimed = Vec::new();
        for row in rows {
            let due = row.15;
            // Another replica may have claimed it since the read: the
            // update finds it no longer due and claims nothing.
            let done = sqlx::query(
                "UPDATE notification_outbox SET next_attempt_at = $1 \
                 WHERE dedupe_key = $2 AND state = 'queued' AND next_attempt_at = $3",
            )
            .bind(micros(now + lease))
            .bind(&row.0)
            .bind(due)
            .execute(tx.conn())
            .await
            .map_err(storage)?;
            if done.rows_affected() == 1 {
                claimed.push(decode(row)?);
            }
        }
        tx.commit().await?;
        Ok(claimed)
    }

    /// Records that the notification `key` was delivered.
    pub async fn notification_sent(&self, key: &str) -> Result<(), StorageError> {
        self.notifications_sent(&[key.to_owned()]).await
    }

    /// Records that the notifications `keys` were delivered (one digest).
    pub async fn notifications_sent(&self, keys: &[String]) -> Result<(), StorageError> {
        if keys.is_empty() {
            return Ok(());
        }
        let mut tx = self.write_tx().await?;
        let now = micros(tx.now());
        for key in keys {
            sqlx::query(
                "UPDATE notification_outbox SET state = 'sent', sent_at = $1, \
                 attempts = attempts + 1, last_error = NULL WHERE dedupe_key = $2",
            )
            .bind(now)
            .bind(key)
            .execute(tx.conn())
            .await
            .map_err(storage)?;
        }
        tx.commit().await
    }

    /// Records a failed delivery of `key` and its reason: it is tried again
    /// after [`notify::retry_delay`], or given up (state `failed`) once it
    /// has waited `give_up_after` since it was queued.
    pub async fn notification_failed(
        &self,
        key: &str,
        error: &str,
        give_up_after: chrono::Duration,
    ) -> Result<(), StorageError> {
        self.notifications_failed(&[(key.to_owned(), error.to_owned())], give_up_after)
            .await
    }

    /// Records failed deliveries, each a key and its reason, in one
    /// transaction, as [`Store::notification_failed`] does each.
    pub async fn notifications_failed(
        &self,
        failures: &[(String, String)],
        give_up_after: chrono::Duration,
    ) -> Result<(), StorageError> {
        if failures.is_empty() {
            return Ok(());
        }
        let mut tx = self.write_tx().await?;
        let now = tx.now();
        for (key, error) in failures {
            let row: Option<(i64, i64)> = sqlx::query_as(
                "SELECT attempts, created_at FROM notification_outbox WHERE dedupe_key = $1",
            )
            .bind(key)
            .fetch_optional(tx.conn())
            .await
            .map_err(storage)?;
            let Some((attempts, created_at)) = row else {
                continue;
            };
            let attempts = u32::try_from(attempts.saturating_add(1)).unwrap_or(u32::MAX);
            let give_up = now - instant(created_at)? >= give_up_after;
            let next = now + notify::retry_delay(attempts);
            sqlx::query(
                "UPDATE notification_outbox SET attempts = $1, last_error = $2, \
                 next_attempt_at = $3, state = $4 WHERE dedupe_key = $5",
            )
            .bind(i64::from(attempts))
            .bind(error.chars().take(ERROR_CHARS).collect::<String>())
            .bind(micros(next))
            .bind(if give_up { "failed" } else { "queued" })
            .bind(key)
            .execute(tx.conn())
            .await
            .map_err(storage)?;
        }
        tx.commit().await
    }

    /// Gives back claimed notifications not tried, due again at `at` (a
    /// channel found down): no attempt is counted.
    pub async fn release_notifications(
        &self,
        keys: &[String],
        at: DateTime<Utc>,
    ) -> Result<(), StorageError> {
        if keys.is_empty() {
            return Ok(());
        }
        let mut tx = self.write_tx().await?;
        for key in keys {
            sqlx::query(
                "UPDATE notification_outbox SET next_attempt_at = $1 \
                 WHERE dedupe_key = $2 AND state = 'queued'",
            )
            .bind(micros(at))
            .bind(key)
            .execute(tx.conn())
            .await
            .map_err(storage)?;
        }
        tx.commit().await
    }

    /// Puts notifications given up back in the queue, due now: the one
    /// with `key`, or all when `None`. Returns how many.
    pub async fn retry_notifications(&self, key: Option<&str>) -> Result<u64, StorageError> {
        let mut tx = self.write_tx().await?;
        let now = micros(tx.now());
        let done = match key {
            Some(key) => sqlx::query(
                "UPDATE notification_outbox SET state = 'queued', next_attempt_at = $1, \
                 created_at = $1 WHERE state = 'failed' AND dedupe_key = $2",
            )
            .bind(now)
            .bind(key)
            .execute(tx.conn())
            .await
            .map_err(storage)?,
            None => sqlx::query(
                "UPDATE notification_outbox SET state = 'queued', next_attempt_at = $1, \
                 created_at = $1 WHERE state = 'failed'",
            )
            .bind(now)
            .execute(tx.conn())
            .await
            .map_err(storage)?,
        };
        tx.commit().await?;
        Ok(done.rows_affected())
    }

    /// How many notifications each channel has queued, retrying, sent and
    /// failed.
    pub async fn outbox_counts(&self) -> Result<Vec<OutboxCounts>, StorageError> {
        let rows: Vec<(String, String, i64, i64)> = sqlx::query_as(
            "SELECT channel, state, COUNT(*), \
             SUM(CASE WHEN attempts > 0 THEN 1 ELSE 0 END) \
             FROM notification_outbox GROUP BY channel, state",
        )
        .fetch_all(self.reader())
        .await
        .map_err(storage)?;
        let mut out: Vec<OutboxCounts> = Channel::ALL
            .iter()
            .map(|c| OutboxCounts {
                channel: Some(*c),
                ..OutboxCounts::default()
            })
            .collect();
        for (channel, state, count, retried) in rows {
            let Ok(channel) = Channel::parse("channel", &channel) else {
                continue;
            };
            let Some(counts) = out.iter_mut().find(|c| c.channel == Some(channel)) else {
                continue;
            };
            let count = unsigned(count)?;
            match state.as_str() {
                "queued" => {
                    counts.queued += count;
                    counts.retrying += unsigned(retried)?;
                }
                "sent" => counts.sent += count,
                "failed" => counts.failed += count,
                _ => {}
            }
        }
        Ok(out)
    }

    /// The latest notifications given up, newest first, at most `limit`.
    pub async fn failed_notifications(&self, limit: u32) -> Result<Vec<Queued>, StorageError> {
        let rows: Vec<OutboxRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS}, next_attempt_at FROM notification_outbox WHERE state = 'failed' \
             ORDER BY created_at DESC, dedupe_key LIMIT $1"
        ))
        .bind(i64::from(limit))
        .fetch_all(self.reader())
        .await
        .map_err(storage)?;
        rows.into_iter().map(decode).collect()
    }

    /// The outbox's notifications for `person`, oldest first.
    pub async fn outbox_of(&self, person: &PersonId) -> Result<Vec<Queued>, StorageError> {
        let rows: Vec<OutboxRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS}, next_attempt_at FROM notification_outbox \
             WHERE person_id = $1 ORDER BY created_at, change_seq, dedupe_key"
        ))
        .bind(person.to_string())
        .fetch_all(self.reader())
        .await
        .map_err(storage)?;
        rows.into_iter().map(decode).collect()
    }

    /// Every notification in the outbox, oldest first (tests and the
    /// operator's checks).
    pub async fn outbox(&self) -> Result<Vec<Queued>, StorageError> {
        let rows: Vec<OutboxRow> = sqlx::query_as(&format!(
            "SELECT {COLUMNS}, next_attempt_at FROM notification_outbox \
             ORDER BY change_seq, dedupe_key"
        ))
        .fetch_all(self.reader())
        .await
        .map_err(storage)?;
        rows.into_iter().map(decode).collect()
    }
}

/// A row's columns, and when it is next due.
type OutboxRow = (
    String,
    i64,
    String,
    Option<String>,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    i64,
    i64,
    String,
    Option<String>,
    i64,
);

fn decode(row: OutboxRow) -> Result<Queued, StorageError> {
    let (
        key,
        seq,
        channel,
        person,
        address,
        kind,
        org,
        entity_kind,
        entity_id,
        detail,
        delivery,
        attempts,
        at,
        state,
        last_error,
        _due,
    ) = row;
    Ok(Queued {
        key,
        change_sequence: unsigned(seq)?,
        channel: Channel::parse("channel", &channel).map_err(StorageError::new)?,
        person_id: person.map(PersonId::from_stored),
        address,
        kind: Kind::parse("kind", &kind).map_err(StorageError::new)?,
        org_id: OrgId::from_stored(org),
        entity_kind: EntityKind::parse("entity_kind", &entity_kind).map_err(StorageError::new)?,
        entity_id,
        detail: from_json(&detail)?,
        delivery: Delivery::parse("delivery", &delivery).map_err(StorageError::new)?,
        attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
        created_at: instant(at)?,
        state,
        last_error,
    })
}
