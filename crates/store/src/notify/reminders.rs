//! News that time brings rather than a change: a reminder before each
//! lesson a school registered for, and an agreement's term ending soon.
//! Each goes once per horizon (a week, then a day before), by the keys of
//! its rows; a lesson or agreement already within the nearer horizon gets
//! only that one.

use chrono::{DateTime, Utc};
use edufed_domain::StorageError;
use edufed_domain::changes::EntityKind;
use edufed_domain::ids::OrgId;
use edufed_domain::notify::{Event, Kind};

use super::{Detail, News, queue, queue_webhook};
use crate::Store;
use crate::error::storage;
use crate::sql::{instant, micros};

/// The nearest of `horizons` (days, ascending) that `at` is within, from
/// `now`.
fn horizon(now: DateTime<Utc>, at: DateTime<Utc>, horizons: &[u32]) -> Option<u32> {
    horizons
        .iter()
        .copied()
        .find(|days| at - now <= chrono::Duration::days(i64::from(*days)))
}

impl Store {
    /// Writes the reminders and agreement endings due now to the outbox:
    /// a reminder `reminder_days` before each lesson (to the schools whose
    /// groups were registered by then), and word `expiring_days` before an
    /// agreement in force ends (to every party's admins). Returns how many
    /// lessons and agreements it looked at.
    ///
    /// It also warns a requester an hour before a hold on its lessons
    /// lapses.
    #[tracing::instrument(name = "store.notify.queue_reminders", skip(self))]
    pub async fn queue_reminders(
        &self,
        reminder_days: &[u32],
        expiring_days: &[u32],
    ) -> Result<usize, StorageError> {
        let mut reminder_days = reminder_days.to_vec();
        reminder_days.sort_unstable();
        let mut expiring_days = expiring_days.to_vec();
        expiring_days.sort_unstable();
        let mut tx = self.write_tx().await?;
        let now = tx.now();
        let mut looked = 0;
        if let Some(furthest) = reminder_days.last() {
            let until = now + chrono::Duration::days(i64::from(*furthest));
            let lessons: Vec<(String, i64, i64, String, String, i64, String)> = sqlx::query_as(
                "SELECT o.activity_id, o.occurrence_key, o.start_at, r.id, r.org_id, \
                 r.created_at, a.publisher_id FROM occurrences o \
                 JOIN activities a ON a.id = o.activity_id \
                 JOIN registrations r ON r.activity_id = o.activity_id \
                 AND (r.occurrence_key IS NULL OR r.occurrence_key = o.occurrence_key) \
                 WHERE o.start_at > $1 AND o.start_at <= $2 AND o.cancelled = 0 \
                 AND a.status = 'published' AND r.state = 'confirmed' \
                 ORDER BY o.start_at",
            )
            .bind(micros(now))
            .bind(micros(until))
            .fetch_all(tx.conn())
            .await
            .map_err(storage)?;
            looked += lessons.len();
            for (activity, key, start, registration, school, registered, publisher) in lessons {
                let start = instant(start)?;
                let Some(days) = horizon(now, start, &reminder_days) else {
                    continue;
                };
                // A group registered after the reminder's moment hears at
                // the next one.
                if instant(registered)? > start - chrono::Duration::days(i64::from(days)) {
                    continue;
                }
                let event = Event {
                    kind: Kind::Reminder,
                    org: OrgId::from_stored(school),
                    counterpart: OrgId::from_stored(publisher),
                    starts: vec![start],
                    comment: None,
                };
                let detail = Detail {
                    starts: vec![start],
                    about: activity,
                    counterpart: Some(event.counterpart.clone()),
                    horizon_days: Some(days),
                    ..Detail::default()
                };
                let news = News {
                    seq: 0,
                    key: format!("reminder:{registration}:{key}:{days}"),
                    entity_kind: EntityKind::Registration,
                    entity_id: &registration,
                    event: &event,
                    detail: &detail,
                    now,
                };
                queue(tx.conn(), &news, "").await?;
                queue_webhook(tx.conn(), &news).await?;
            }
        }
        if let Some(furthest) = expiring_days.last() {
            let until = now + chrono::Duration::days(i64::from(*furthest));
            let ending: Vec<(String, i64, String)> = sqlx::query_as(
                "SELECT id, ends_at, initiator_id FROM agreements \
                 WHERE state IN ('signed', 'active') AND ends_at > $1 AND ends_at <= $2",
            )
            .bind(micros(now))
            .bind(micros(until))
            .fetch_all(tx.conn())
            .await
            .map_err(storage)?;
            looked += ending.len();
            for (agreement, ends, initiator) in ending {
                let ends = instant(ends)?;
                let Some(days) = horizon(now, ends, &expiring_days) else {
                    continue;
                };
                let parties: Vec<String> = sqlx::query_scalar(
                    "SELECT org_id FROM agreement_parties WHERE agreement_id = $1 \
                     AND in_force = 1 ORDER BY org_id",
                )
                .bind(&agreement)
                .fetch_all(tx.conn())
                .await
                .map_err(storage)?;
                for party in parties {
                    let event = Event {
                        kind: Kind::AgreementExpiring,
                        org: OrgId::from_stored(party),
                        counterpart: OrgId::from_stored(initiator.clone()),
                        starts: vec![ends],
                        comment: None,
                    };
                    let detail = Detail {
                        starts: vec![ends],
                        about: agreement.clone(),
                        counterpart: Some(event.counterpart.clone()),
                        horizon_days: Some(days),
                        ..Detail::default()
                    };
                    let news = News {
                        seq: 0,
                        key: format!("expiring:{agreement}:{days}"),
                        entity_kind: EntityKind::Agreement,
                        entity_id: &agreement,
                        event: &event,
                        detail: &detail,
                        now,
                    };
                    queue(tx.conn(), &news, "").await?;
                    queue_webhook(tx.conn(), &news).await?;
                }
            }
        }
        looked += queue_lapsing_holds(tx.conn(), now).await?;
        tx.commit().await?;
        Ok(looked)
    }
}

/// A booking with lessons held: its id, resource, requester and owner,
/// when the hold lapses, and the lessons held.
type HeldBooking = (String, String, String, String, i64, Vec<DateTime<Utc>>);

/// How long before a hold lapses its requester is told (holds last a day
/// at most).
const HOLD_WARNING: chrono::Duration = chrono::Duration::hours(1);

/// Warns each requester whose held lessons lapse within [`HOLD_WARNING`],
/// once per booking and lapse, if the hold was placed before that; returns
/// how many bookings it looked at.
async fn queue_lapsing_holds(
    conn: &mut sqlx::AnyConnection,
    now: DateTime<Utc>,
) -> Result<usize, StorageError> {
    let held: Vec<(String, String, String, String, i64, i64)> = sqlx::query_as(
        "SELECT b.id, b.resource_id, b.requester_org_id, r.owner_id, o.start_at, \
         o.hold_expires_at FROM booking_occurrences o \
         JOIN bookings b ON b.id = o.booking_id JOIN resources r ON r.id = b.resource_id \
         WHERE o.state = 'held' AND o.hold_expires_at > $1 AND o.hold_expires_at <= $2 \
         AND o.updated_at <= o.hold_expires_at - $3 \
         ORDER BY b.id, o.hold_expires_at, o.start_at",
    )
    .bind(micros(now))
    .bind(micros(now + HOLD_WARNING))
    .bind(HOLD_WARNING.num_microseconds().unwrap_or(i64::MAX))
    .fetch_all(&mut *conn)
    .await
    .map_err(storage)?;
    let mut bookings: Vec<HeldBooking> = Vec::new();
    for (booking, resource, requester, owner, start, lapses) in held {
        let start = instant(start)?;
        match bookings.last_mut() {
            Some(last) if last.0 == booking && last.4 == lapses => last.5.push(start),
            _ => bookings.push((booking, resource, requester, owner, lapses, vec![start])),
        }
    }
    let looked = bookings.len();
    for (booking, resource, requester, owner, lapses, starts) in bookings {
        let event = Event {
            kind: Kind::BookingHoldLapsing,
            org: OrgId::from_stored(requester),
            counterpart: OrgId::from_stored(owner),
            starts: starts.clone(),
            comment: None,
        };
        let detail = Detail {
            starts,
            about: resource,
            counterpart: Some(event.counterpart.clone()),
            until: Some(instant(lapses)?),
            ..Detail::default()
        };
        let news = News {
            seq: 0,
            key: format!("hold:{booking}:{lapses}"),
            entity_kind: EntityKind::Booking,
            entity_id: &booking,
            event: &event,
            detail: &detail,
            now,
        };
        queue(conn, &news, "").await?;
        queue_webhook(conn, &news).await?;
    }
    Ok(looked)
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone as _;

    use super::*;

    #[test]
    fn the_nearest_horizon_applies() {
        let now = Utc.with_ymd_and_hms(2026, 9, 1, 8, 0, 0).unwrap();
        let days = |d: i64| now + chrono::Duration::days(d);
        assert_eq!(horizon(now, days(10), &[1, 7]), None);
        assert_eq!(horizon(now, days(7), &[1, 7]), Some(7));
        assert_eq!(horizon(now, days(3), &[1, 7]), Some(7));
        assert_eq!(horizon(now, days(1), &[1, 7]), Some(1));
        assert_eq!(
            horizon(now, now + chrono::Duration::hours(2), &[1, 7]),
            Some(1)
        );
        assert_eq!(horizon(now, days(30), &[14, 60]), Some(60));
    }
}
