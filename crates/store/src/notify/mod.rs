//! The notifier's side of the store: what each person wants to be told,
//! and the outbox filled from the node's own change log. The cursor moves
//! in the same transaction as the rows written for the entries it passes,
//! and each row's key (entry × person × kind) makes a replay write nothing
//! twice, so a node killed at any moment resumes where it was.

use chrono::{DateTime, Utc};
use edufed_domain::StorageError;
use edufed_domain::booking::{BookedOccurrence, Booking};
use edufed_domain::calendar::Activity;
use edufed_domain::calendar::registration::{Registration, RegistrationState};
use edufed_domain::changes::EntityKind;
use edufed_domain::directory::Role;
use edufed_domain::ids::{OrgId, PersonId};
use edufed_domain::notify::{self, AgreementNews, Channel, Delivery, Event, Kind};
use edufed_domain::time::TimeZone;
use sqlx::AnyConnection;

use crate::db::Store;
use crate::error::storage;
use crate::sql::{from_json, signed};

mod outbox;
mod reminders;
mod webhooks;

pub use outbox::{OutboxCounts, Queued};
pub use webhooks::Webhook;

/// What an outbox row keeps of its event besides the columns.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Detail {
    /// The lessons concerned: a booking's, or the one occurrence a
    /// registration holds (its original start).
    pub starts: Vec<DateTime<Utc>>,
    /// The owner's comment on a decision, if any.
    #[serde(default)]
    pub comment: Option<String>,
    /// The activity (registration news) or resource (booking news) the
    /// news is about.
    #[serde(default)]
    pub about: String,
    /// The other side: the publisher or owner for a school, the school
    /// for a publisher or owner.
    #[serde(default)]
    pub counterpart: Option<OrgId>,
    /// A waiting group's place in line when the news was made.
    #[serde(default)]
    pub place: Option<u32>,
    /// For a reminder or an agreement's end: how many days ahead it is.
    #[serde(default)]
    pub horizon_days: Option<u32>,
    /// When a hold lapses.
    #[serde(default)]
    pub until: Option<DateTime<Utc>>,
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
    /// it passed (0 when it has caught up). Replicas of one node take
    /// turns: the cursor's row is locked while one of them fills.
    #[tracing::instrument(name = "store.notify.fill_outbox", skip(self))]
    pub async fn fill_outbox(&self, batch: u32) -> Result<usize, StorageError> {
        let mut tx = self.write_tx().await?;
        tx.lock_notifier().await?;
        let now = tx.now();
        let conn = tx.conn();
        let cursor: i64 = sqlx::query_scalar("SELECT seq FROM notifier_cursor WHERE id = 1")
            .fetch_optional(&mut *conn)
            .await
            .map_err(storage)?
            .unwrap_or(0);
        let entries: Vec<LogRow> = sqlx::query_as(
            "SELECT seq, entity_kind, entity_id, org_id, payload, actor, operation \
                 FROM change_log WHERE seq > $1 ORDER BY seq LIMIT $2",
        )
        .bind(cursor)
        .bind(i64::from(batch))
        .fetch_all(&mut *conn)
        .await
        .map_err(storage)?;
        let Some(last) = entries.last().map(|e| e.0) else {
            return Ok(0);
        };
        for (seq, kind, entity_id, org_id, payload, actor, operation) in &entries {
            let Ok(kind) = EntityKind::parse("entity_kind", kind) else {
                continue;
            };
            if operation != "upsert" {
                continue;
            }
            let Some(owner) = org_id.clone().map(OrgId::from_stored) else {
                continue;
            };
            let before = previous(conn, kind, entity_id, *seq).await?;
            let change = Change {
                kind,
                entity_id,
                before: before.as_deref(),
                after: payload,
                owner: &owner,
                now,
                mirrored: false,
            };
            tell(conn, &change, *seq, &seq.to_string(), actor).await?;
        }
        sqlx::query("UPDATE notifier_cursor SET seq = $1 WHERE id = 1 AND seq < $1")
            .bind(last)
            .execute(&mut *conn)
            .await
            .map_err(storage)?;
        tx.commit().await?;
        Ok(entries.len())
    }
}

/// Writes what `change` means to the outbox, its rows' keys starting with
/// `key`; `actor` is not told.
async fn tell(
    conn: &mut AnyConnection,
    change: &Change<'_>,
    seq: i64,
    key: &str,
    actor: &str,
) -> Result<(), StorageError> {
    let events = match events(conn, change).await {
        Ok(events) => events,
        // A record this node cannot read is news to no one; the rest of
        // the log still is.
        Err(error) if error.caused_by::<serde_json::Error>() => {
            tracing::warn!(key, %error, "a change the notifier cannot read");
            Vec::new()
        }
        Err(error) => return Err(error),
    };
    for (event, detail) in events {
        let news = News {
            seq,
            key: key.to_owned(),
            entity_kind: change.kind,
            entity_id: change.entity_id,
            event: &event,
            detail: &detail,
            now: change.now,
        };
        queue(conn, &news, actor).await?;
        queue_webhook(conn, &news).await?;
    }
    Ok(())
}

/// What a peer's record that this node mirrors means for the people of
/// the organizations hosted here: a school's registration with a
/// university, its booking of a technopark's lab, an agreement it is party
/// to. Called as the mirror is updated, in its transaction; `before` is
/// the mirror's previous payload. Only this node's members are told (the
/// peer has none of their addresses); the rows' keys name the record's
/// version, so the same version arriving again (a resync, a forwarded
/// call's answer) tells no one twice.
pub(crate) async fn tell_mirrored(
    conn: &mut AnyConnection,
    entry: &edufed_domain::changes::ChangeEntry,
    before: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(), StorageError> {
    let kind = entry.kind;
    if entry.operation != edufed_domain::changes::Operation::Upsert
        || !matches!(
            kind,
            EntityKind::Registration | EntityKind::Booking | EntityKind::Agreement
        )
    {
        return Ok(());
    }
    let Some(owner) = entry.org_id.clone() else {
        return Ok(());
    };
    let change = Change {
        kind,
        entity_id: &entry.entity_id,
        before,
        after: &entry.payload,
        owner: &owner,
        now,
        mirrored: true,
    };
    let key = format!(
        "mirror:{}:{}:{}",
        kind.as_str(),
        entry.entity_id,
        entry.version
    );
    tell(conn, &change, 0, &key, &entry.actor).await
}

/// One event of one log entry, on its way to the outbox.
struct News<'a> {
    /// The log entry it comes from; 0 for news time brings.
    seq: i64,
    /// What the rows' keys start with: the entry's sequence, or what time
    /// brought (`reminder:<registration>:<lesson>:<days>`).
    key: String,
    entity_kind: EntityKind,
    entity_id: &'a str,
    event: &'a Event,
    detail: &'a Detail,
    now: DateTime<Utc>,
}

/// The record's payload as the log had it before entry `seq`, if the log
/// still holds it.
async fn previous(
    conn: &mut AnyConnection,
    kind: EntityKind,
    entity_id: &str,
    seq: i64,
) -> Result<Option<String>, StorageError> {
    if !matches!(
        kind,
        EntityKind::Registration
            | EntityKind::Booking
            | EntityKind::Activity
            | EntityKind::Agreement
    ) {
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

/// A log entry as the notifier reads it: sequence, entity kind and id,
/// organization, payload, actor, operation.
type LogRow = (i64, String, String, Option<String>, String, String, String);

/// One entry of the log, with the record as it was before.
struct Change<'a> {
    kind: EntityKind,
    entity_id: &'a str,
    before: Option<&'a str>,
    after: &'a str,
    owner: &'a OrgId,
    now: DateTime<Utc>,
    /// A peer's record this node mirrors, not its own.
    mirrored: bool,
}

/// What an entry means, from the record before and after, with what each
/// event's message will need.
async fn events(
    conn: &mut AnyConnection,
    change: &Change<'_>,
) -> Result<Vec<(Event, Detail)>, StorageError> {
    let owner = change.owner;
    let before = change.before;
    let after = change.after;
    let about = |event: Event, about: String| {
        let detail = Detail {
            starts: event.starts.clone(),
            comment: event.comment.clone(),
            about,
            counterpart: Some(event.counterpart.clone()),
            place: None,
            horizon_days: None,
            until: None,
        };
        (event, detail)
    };
    Ok(match change.kind {
        EntityKind::Registration => {
            let before: Option<Registration> = before.map(from_json).transpose()?;
            let after: Registration = from_json(after)?;
            // A mirror's place in line is the home node's to count.
            let place = match after.state {
                RegistrationState::Waitlisted if !change.mirrored => {
                    waitlist_place(conn, &after).await?
                }
                _ => None,
            };
            let starts = after
                .occurrence
                .and_then(DateTime::<Utc>::from_timestamp_micros)
                .into_iter()
                .collect::<Vec<_>>();
            notify::registration_events(before.as_ref(), &after, owner)
                .into_iter()
                .map(|event| {
                    let waits = event.kind == Kind::RegistrationWaitlisted;
                    let (event, mut detail) = about(event, after.activity_id.to_string());
                    detail.starts.clone_from(&starts);
                    detail.place = place.filter(|_| waits);
                    (event, detail)
                })
                .collect()
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
            .into_iter()
            .map(|event| about(event, after.booking.resource_id.to_string()))
            .collect()
        }
        EntityKind::Activity => {
            let Some(before) = before else {
                return Ok(Vec::new());
            };
            let before: Activity = from_json(before)?;
            let after: Activity = from_json(after)?;
            let registered: Vec<(String, Option<i64>)> = sqlx::query_as(
                "SELECT org_id, occurrence_key FROM registrations WHERE activity_id = $1 \
                 AND state IN ('confirmed', 'waitlisted')",
            )
            .bind(after.id.to_string())
            .fetch_all(conn)
            .await
            .map_err(storage)?;
            let registered: Vec<_> = registered
                .into_iter()
                .map(|(org, key)| (OrgId::from_stored(org), key))
                .collect();
            notify::activity_events(&before, &after, &registered, change.now)
                .into_iter()
                .map(|event| about(event, after.id.to_string()))
                .collect()
        }
        EntityKind::Agreement => {
            let was_in_force = before
                .map(from_json::<AgreementNews>)
                .transpose()?
                .and_then(|b| b.in_force_version);
            let news: AgreementNews = from_json(after)?;
            notify::agreement_events(was_in_force, &news)
                .into_iter()
                .map(|event| about(event, change.entity_id.to_owned()))
                .collect()
        }
        _ => Vec::new(),
    })
}

/// Where a waiting registration stands in line now: 1 + those waiting
/// ahead of it for the same seats, as [`Registration::waitlist_place`]
/// counts.
async fn waitlist_place(
    conn: &mut AnyConnection,
    registration: &Registration,
) -> Result<Option<u32>, StorageError> {
    let base = "SELECT COUNT(*) FROM registrations WHERE activity_id = $1 \
                AND state = 'waitlisted' AND position < $2";
    let position = signed(registration.position);
    let ahead: i64 = match registration.occurrence {
        Some(key) => sqlx::query_scalar(&format!(
            "{base} AND (occurrence_key IS NULL OR occurrence_key = $3)"
        ))
        .bind(registration.activity_id.to_string())
        .bind(position)
        .bind(key)
        .fetch_one(conn)
        .await
        .map_err(storage)?,
        None => sqlx::query_scalar(base)
            .bind(registration.activity_id.to_string())
            .bind(position)
            .fetch_one(conn)
            .await
            .map_err(storage)?,
    };
    Ok(Some(
        u32::try_from(ahead).unwrap_or(u32::MAX).saturating_add(1),
    ))
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

/// Writes `news` to the outbox for each member of its organization with
/// an address whose role the news concerns and who wants it, but the
/// person who acted.
async fn queue(conn: &mut AnyConnection, news: &News<'_>, actor: &str) -> Result<(), StorageError> {
    // Each member with an address, their choice for this kind and their
    // organization's zone, in one read.
    let members: Vec<(String, String, String, Option<String>, String)> = sqlx::query_as(
        "SELECT p.id, p.email, m.role, np.delivery, o.time_zone FROM memberships m \
         JOIN people p ON p.id = m.person_id JOIN organizations o ON o.id = m.org_id \
         LEFT JOIN notification_preferences np ON np.person_id = p.id AND np.kind = $2 \
         WHERE m.org_id = $1 AND p.email IS NOT NULL AND p.email <> '' ORDER BY p.id",
    )
    .bind(news.event.org.to_string())
    .bind(news.event.kind.as_str())
    .fetch_all(&mut *conn)
    .await
    .map_err(storage)?;
    for (person, address, role, chosen, zone) in members {
        let told = Role::parse("role", &role).is_ok_and(|r| news.event.kind.told_to(r));
        if !told || person == actor {
            continue;
        }
        let person = PersonId::from_stored(person);
        // A kind never chosen comes immediately.
        let delivery = chosen
            .and_then(|d| Delivery::parse("delivery", &d).ok())
            .unwrap_or(Delivery::Immediately);
        if delivery == Delivery::Off {
            continue;
        }
        let key = format!("{}:{person}:{}", news.key, news.event.kind.as_str());
        let due = if delivery == Delivery::Digest {
            let zone = TimeZone::parse("time_zone", &zone).unwrap_or(TimeZone::UTC);
            notify::next_digest(news.now, zone)
        } else {
            news.now
        };
        let row = outbox::Row {
            key: &key,
            channel: Channel::Email,
            person: Some(&person),
            address: &address,
            delivery,
            due,
        };
        outbox::insert(conn, news, &row).await?;
    }
    Ok(())
}

/// Writes `news` to the outbox for its organization's webhook, if it has one.
async fn queue_webhook(conn: &mut AnyConnection, news: &News<'_>) -> Result<(), StorageError> {
    let url: Option<String> = sqlx::query_scalar("SELECT url FROM webhooks WHERE org_id = $1")
        .bind(news.event.org.to_string())
        .fetch_optional(&mut *conn)
        .await
        .map_err(storage)?;
    let Some(url) = url else {
        return Ok(());
    };
    let key = format!(
        "{}:{}:{}:webhook",
        news.key,
        news.event.org,
        news.event.kind.as_str()
    );
    let row = outbox::Row {
        key: &key,
        channel: Channel::Webhook,
        person: None,
        address: &url,
        delivery: Delivery::Immediately,
        due: news.now,
    };
    outbox::insert(conn, news, &row).await
}
