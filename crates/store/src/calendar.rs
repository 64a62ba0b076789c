//! The calendar's repository: activities with their materialized
//! occurrences, and registrations with the seat book applied in one
//! transaction per change.

use chrono::{DateTime, Duration, Utc};
use edufed_domain::StorageError;
use edufed_domain::calendar::ics::FeedEntry;
use edufed_domain::calendar::registration::{
    Cohort, Registration, RegistrationState, Results, SeatBook, check_headcount,
};
use edufed_domain::calendar::{
    Activity, ActivityDetails, ActivityStatus, Error, FeedFilter, FoundOccurrence,
    MAX_FEED_ACTIVITIES, Occurrence, OccurrenceFilter, Viewer, Visibility,
};
use edufed_domain::changes::{Actor, EntityKind, NewChange};
use edufed_domain::ids::{ActivityId, OrgId, RegistrationId};
use edufed_domain::page::{PageSize, PageToken};
use serde::Serialize;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row as _};

use crate::Store;
use crate::db::{
    Backend, QueryText, Value, WriteTx, instant, like_escape, micros, signed, unsigned,
};
use crate::directory::Page;
use crate::error::{DbFailure, storage};

const ACTIVITY_COLUMNS: &str = "a.id, a.publisher_id, a.status, a.details, a.overrides, a.version, \
                                a.created_at, a.updated_at";

/// An activity with its occurrences and the seats held on each.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActivityWithSeats {
    /// The activity.
    pub activity: Activity,
    /// Its occurrences, each with the seats held.
    pub occurrences: Vec<(Occurrence, u32)>,
    /// Registrations waiting for seats.
    pub waitlisted: u32,
}

#[derive(Serialize)]
struct SeatsPayload<'a> {
    activity_id: &'a ActivityId,
    capacity: Option<u32>,
    occurrences: Vec<SeatsOf>,
    waitlisted: u32,
}

#[derive(Serialize)]
struct SeatsOf {
    start: DateTime<Utc>,
    taken: u32,
}

impl Store {
    /// Stores a new activity and its occurrences.
    #[tracing::instrument(name = "store.calendar.publish", skip_all, fields(publisher = %publisher))]
    pub async fn publish_activity(
        &self,
        publisher: &OrgId,
        details: ActivityDetails,
        status: ActivityStatus,
        actor: &Actor,
    ) -> Result<Activity, Error> {
        let at = self.clock().now();
        let activity = Activity {
            id: ActivityId::generate(),
            publisher: publisher.clone(),
            details,
            overrides: Vec::new(),
            status,
            version: 1,
            created_at: at,
            updated_at: at,
        };
        let occurrences = activity.occurrences()?;
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO activities (id, publisher_id, kind, direction, format, visibility, status, \
             grade_min, grade_max, subjects_key, agreement_id, capacity, search_text, details, overrides, \
             version, seats_version, next_position, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, 0, 1, $17, $18)",
        )
        .bind(activity.id.to_string())
        .bind(publisher.to_string())
        .bind_activity(&activity)?
        .bind(signed(activity.version))
        .bind(micros(at))
        .bind(micros(at))
        .execute(&mut *tx.tx)
        .await
        .map_err(|e| match DbFailure::classify(e) {
            DbFailure::ForeignKey => Error::ActivityNotFound(format!("publisher {publisher} does not exist")),
            other => other.into_storage().into(),
        })?;
        insert_occurrences(&mut tx, &activity.id, &occurrences).await?;
        tx.append(activity_change(&activity, actor)).await?;
        tx.commit().await?;
        Ok(activity)
    }

    /// An activity with its occurrences and seats.
    #[tracing::instrument(name = "store.calendar.get", skip(self))]
    pub async fn get_activity(&self, id: &ActivityId) -> Result<ActivityWithSeats, Error> {
        let mut conn = self.reader().acquire().await.map_err(storage)?;
        let activity = load_activity(&mut conn, id).await?;
        let occurrences = activity.occurrences()?;
        let seats = occurrence_seats(&mut conn, id).await?;
        let waitlisted: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM registrations WHERE activity_id = $1 AND state = $2",
        )
        .bind(id.to_string())
        .bind(RegistrationState::Waitlisted.as_str())
        .fetch_one(&mut *conn)
        .await
        .map_err(storage)?;
        let occurrences = occurrences
            .into_iter()
            .map(|o| {
                let taken = seats
                    .iter()
                    .find(|(k, _)| *k == o.key())
                    .map_or(0, |(_, t)| *t);
                (o, taken)
            })
            .collect();
        Ok(ActivityWithSeats {
            activity,
            occurrences,
            waitlisted: u32::try_from(waitlisted).unwrap_or(u32::MAX),
        })
    }

    /// Changes an activity with `change`, which gets the stored activity and
    /// returns the new one (the store bumps its version). Occurrences are
    /// rebuilt when the schedule or overrides changed; an occurrence that
    /// holds registrations may not disappear.
    #[tracing::instrument(name = "store.calendar.modify", skip(self, change, actor))]
    pub async fn modify_activity(
        &self,
        id: &ActivityId,
        actor: &Actor,
        change: impl FnOnce(&Activity) -> Result<Activity, Error>,
    ) -> Result<Activity, Error> {
        let mut tx = self.write_tx().await?;
        self.lock_activity(&mut tx, id).await?;
        let current = load_activity(&mut tx.tx, id).await?;
        let mut next = change(&current)?;
        next.id = current.id.clone();
        next.publisher = current.publisher.clone();
        next.created_at = current.created_at;
        next.version = current.version + 1;
        next.updated_at = self.clock().now();
        let occurrences = next.occurrences()?;
        if next.details.schedule != current.details.schedule || next.overrides != current.overrides
        {
            let held: Vec<i64> = sqlx::query_scalar(
                "SELECT DISTINCT occurrence_key FROM registrations \
                 WHERE activity_id = $1 AND occurrence_key IS NOT NULL AND state <> $2",
            )
            .bind(id.to_string())
            .bind(RegistrationState::Withdrawn.as_str())
            .fetch_all(&mut *tx.tx)
            .await
            .map_err(storage)?;
            if let Some(orphan) = held
                .iter()
                .find(|k| !occurrences.iter().any(|o| o.key() == **k))
            {
                let at = instant(*orphan)?;
                return Err(Error::RegistrationRefused(format!(
                    "the occurrence at {at} holds registrations and would disappear; cancel that \
                     occurrence instead of removing it from the schedule"
                )));
            }
            let seats = occurrence_seats(&mut tx.tx, id).await?;
            sqlx::query("DELETE FROM occurrences WHERE activity_id = $1")
                .bind(id.to_string())
                .execute(&mut *tx.tx)
                .await
                .map_err(storage)?;
            insert_occurrences(&mut tx, id, &occurrences).await?;
            for (key, taken) in seats {
                set_seats(&mut tx, id, key, taken).await?;
            }
        }
        if next.details.capacity != current.details.capacity
            || next.details.quotas != current.details.quotas
        {
            let registrations = load_registrations(&mut tx.tx, id).await?;
            let book = seat_book(&next, &occurrences, &registrations, self.clock().now());
            for occurrence in occurrences
                .iter()
                .filter(|o| !o.cancelled && o.end > self.clock().now())
            {
                let taken = book.taken(occurrence.key(), None);
                if next.details.capacity.is_some_and(|c| taken > c) {
                    return Err(Error::RegistrationRefused(format!(
                        "{taken} seats are already confirmed on {}; withdraw registrations before lowering the capacity",
                        occurrence.start
                    )));
                }
                for quota in &next.details.quotas {
                    let held = book.taken(occurrence.key(), Some(&quota.org_id));
                    if held > quota.seats {
                        return Err(Error::RegistrationRefused(format!(
                            "organization {} already holds {held} seats on {}, above the new quota",
                            quota.org_id, occurrence.start
                        )));
                    }
                }
            }
        }
        sqlx::query(
            "UPDATE activities SET kind = $1, direction = $2, format = $3, visibility = $4, status = $5, \
             grade_min = $6, grade_max = $7, subjects_key = $8, agreement_id = $9, capacity = $10, \
             search_text = $11, details = $12, overrides = $13, version = $14, updated_at = $15 \
             WHERE id = $16",
        )
        .bind_activity(&next)?
        .bind(signed(next.version))
        .bind(micros(next.updated_at))
        .bind(id.to_string())
        .execute(&mut *tx.tx)
        .await
        .map_err(storage)?;
        if is_shared(&current) && !is_shared(&next) {
            // Those who saw it shared are told it is gone from their view;
            // the entry carries nothing but its id.
            tx.append(
                NewChange::delete(
                    EntityKind::Activity,
                    next.id.to_string(),
                    next.version,
                    Some(next.publisher.clone()),
                    &serde_json::json!({ "id": next.id }),
                    actor,
                )
                .shared(true),
            )
            .await?;
        }
        tx.append(activity_change(&next, actor)).await?;
        // Capacity may have grown, or an occurrence been cancelled.
        self.rebalance(&mut tx, &next, actor, false).await?;
        tx.commit().await?;
        Ok(next)
    }

    /// Occurrences in a window, filtered, ordered by start, one page.
    ///
    /// Three index-friendly parts, in order of start: occurrences of up to a
    /// day that began in the day before the window and still run; longer
    /// ones still running (through a partial index on their end); then those
    /// starting inside the window, where the index on start stops at the
    /// page's end.
    #[tracing::instrument(name = "store.calendar.find", skip(self, viewer))]
    pub async fn find_occurrences(
        &self,
        filter: &OccurrenceFilter,
        viewer: &Viewer,
        size: PageSize,
        after: Option<&PageToken>,
    ) -> Result<Page<FoundOccurrence>, Error> {
        let after = match after {
            None => None,
            Some(token) => {
                let key = token.key();
                let start: i64 = key[0].parse().map_err(|_| invalid_token())?;
                let occurrence: i64 = key[2].parse().map_err(|_| invalid_token())?;
                Some((start, key[1].clone(), occurrence))
            }
        };
        let from = micros(filter.from);
        let to = micros(filter.to);
        let day_before = micros(filter.from - Duration::days(1));
        let want = size.get() as usize + 1;
        let parts: [&(dyn Fn(&mut QueryText) + Sync); 3] = [
            &|q| {
                q.push(" AND o.start_at >= $?", Value::Int(day_before));
                q.push(" AND o.start_at < $?", Value::Int(from));
                q.push(" AND o.end_at > $?", Value::Int(from));
                q.raw(" AND o.long_running = 0");
            },
            &|q| {
                q.raw(" AND o.long_running = 1");
                q.push(" AND o.end_at > $?", Value::Int(from));
                // The unary plus keeps SQLite from walking the start index
                // over everything before the window instead of the partial
                // index of long occurrences; it changes nothing on PostgreSQL.
                q.push(" AND +o.start_at < $?", Value::Int(from));
            },
            &|q| {
                q.push(" AND o.start_at >= $?", Value::Int(from));
                q.push(" AND o.start_at < $?", Value::Int(to));
            },
        ];
        let mut items: Vec<FoundOccurrence> = Vec::new();
        let order = |a: &FoundOccurrence, b: &FoundOccurrence| {
            (a.occurrence.start, &a.activity.id, a.occurrence.key()).cmp(&(
                b.occurrence.start,
                &b.activity.id,
                b.occurrence.key(),
            ))
        };
        for (index, part) in parts.iter().enumerate() {
            let before = items.len();
            // The node's own activities, then those mirrored from peers.
            for (occurrences, activities) in [
                ("occurrences", "activities"),
                ("mirror_occurrences", "mirror_activities"),
            ] {
                let mut q = QueryText::new(format!(
                    "SELECT {ACTIVITY_COLUMNS}, o.occurrence_key, o.start_at, o.end_at, o.cancelled, o.moved, \
                     o.seats_taken FROM {occurrences} o JOIN {activities} a ON a.id = o.activity_id WHERE 1 = 1"
                ));
                part(&mut q);
                push_occurrence_filter(&mut q, filter, viewer);
                if let Some((start, activity, occurrence)) = &after {
                    q.push(" AND (o.start_at > $?", Value::Int(*start));
                    q.push(" OR (o.start_at = $?", Value::Int(*start));
                    q.push(" AND (o.activity_id > $?", Value::Text(activity.clone()));
                    q.push(" OR (o.activity_id = $?", Value::Text(activity.clone()));
                    q.push(" AND o.occurrence_key > $?))))", Value::Int(*occurrence));
                }
                q.push(
                    " ORDER BY o.start_at, o.activity_id, o.occurrence_key LIMIT $?",
                    Value::Int((want - before.min(want)) as i64),
                );
                let rows = q.query().fetch_all(self.reader()).await.map_err(storage)?;
                for row in &rows {
                    items.push(found_from_row(row)?);
                }
            }
            items[before..].sort_by(order);
            // The first two parts both precede the third; order them together.
            if index == 1 {
                items.sort_by(order);
            }
            items.truncate(want);
            if items.len() >= want {
                break;
            }
        }
        Ok(Page::from_overfetch(items, size, |found| {
            vec![
                micros(found.occurrence.start).to_string(),
                found.activity.id.to_string(),
                found.occurrence.key().to_string(),
            ]
        }))
    }

    /// The activities of a feed the viewer may see, most recently changed
    /// first, at most `MAX_FEED_ACTIVITIES`.
    #[tracing::instrument(name = "store.calendar.feed", skip(self, viewer))]
    pub async fn feed_activities(
        &self,
        filter: &FeedFilter,
        viewer: &Viewer,
    ) -> Result<Vec<FeedEntry>, Error> {
        let mut q = QueryText::new(format!(
            "SELECT {ACTIVITY_COLUMNS}, \
             (SELECT MAX(o.end_at) FROM occurrences o WHERE o.activity_id = a.id) AS last_end \
             FROM activities a WHERE 1 = 1"
        ));
        push_visibility(&mut q, viewer);
        if let Some(id) = &filter.activity {
            q.push(" AND a.id = $?", Value::Text(id.to_string()));
        }
        push_activity_filters(
            &mut q,
            filter.publisher.as_ref(),
            filter.kind,
            filter.direction,
            filter.format,
            filter.grade,
            filter.subject.as_deref(),
        );
        q.push(
            " ORDER BY a.updated_at DESC, a.id LIMIT $?",
            Value::Int(i64::from(MAX_FEED_ACTIVITIES)),
        );
        let rows = q.query().fetch_all(self.reader()).await.map_err(storage)?;
        rows.iter()
            .map(|row| {
                let activity = activity_from_row(row)?;
                let last_end: Option<i64> = row.try_get("last_end").map_err(storage)?;
                let last_end = match last_end {
                    Some(micros) => instant(micros)?,
                    None => activity.updated_at,
                };
                Ok(FeedEntry { activity, last_end })
            })
            .collect()
    }

    /// Registers a cohort for one occurrence or the whole series: a seat if
    /// it fits and nobody waits ahead, else the waitlist.
    #[tracing::instrument(name = "store.calendar.register", skip(self, cohort, actor))]
    pub async fn register(
        &self,
        activity_id: &ActivityId,
        occurrence: Option<i64>,
        cohort: Cohort,
        actor: &Actor,
    ) -> Result<Registration, Error> {
        let at = self.clock().now();
        let mut tx = self.write_tx().await?;
        self.lock_activity(&mut tx, activity_id).await?;
        let activity = load_activity(&mut tx.tx, activity_id).await?;
        if activity.status != ActivityStatus::Published {
            return Err(Error::WrongStatus {
                id: activity.id,
                status: activity.status,
                why: "only published activities take registrations",
            });
        }
        let occurrences = activity.occurrences()?;
        let closes = match occurrence {
            Some(key) => {
                let found = occurrences.iter().find(|o| o.key() == key).ok_or_else(|| {
                    Error::Invalid(edufed_domain::FieldError::new(
                        "occurrence_start",
                        "is not an occurrence of this activity",
                    ))
                })?;
                if found.cancelled {
                    return Err(Error::RegistrationClosed(
                        "that occurrence is cancelled".into(),
                    ));
                }
                found.start
            }
            None => occurrences
                .iter()
                .filter(|o| !o.cancelled)
                .map(|o| o.start)
                .max()
                .unwrap_or(at),
        };
        let window = activity.details.registration;
        if window.opens_at.is_some_and(|opens| at < opens) {
            return Err(Error::RegistrationClosed(format!(
                "it opens at {}",
                window.opens_at.unwrap_or(at)
            )));
        }
        let closes = window.closes_at.map_or(closes, |c| c.min(closes));
        if at >= closes {
            return Err(Error::RegistrationClosed(format!("it closed at {closes}")));
        }
        let Some(grades) = activity.details.audience.students else {
            return Err(Error::RegistrationRefused(
                "this activity is not for students; cohorts are groups of students".into(),
            ));
        };
        if !grades.overlaps(cohort.grades) {
            return Err(Error::RegistrationRefused(format!(
                "grades {}–{} are outside the activity's {}–{}",
                cohort.grades.min, cohort.grades.max, grades.min, grades.max
            )));
        }
        if activity.details.visibility == Visibility::Organization
            && cohort.org_id != activity.publisher
        {
            return Err(Error::RegistrationRefused(
                "this activity is for the publisher's own students".into(),
            ));
        }
        let registrations = load_registrations(&mut tx.tx, activity_id).await?;
        let book = seat_book(&activity, &occurrences, &registrations, at);
        book.could_ever_fit(&cohort.org_id, cohort.headcount)
            .map_err(Error::RegistrationRefused)?;
        let state = book.place(&registrations, occurrence, &cohort.org_id, cohort.headcount);
        let position: i64 = sqlx::query_scalar(
            "UPDATE activities SET next_position = next_position + 1 WHERE id = $1 RETURNING next_position - 1",
        )
        .bind(activity_id.to_string())
        .fetch_one(&mut *tx.tx)
        .await
        .map_err(storage)?;
        let registration = Registration {
            id: RegistrationId::generate(),
            activity_id: activity_id.clone(),
            occurrence,
            cohort,
            state,
            position: unsigned(position)?,
            results: None,
            version: 1,
            created_at: at,
            updated_at: at,
        };
        sqlx::query(
            "INSERT INTO registrations (id, activity_id, occurrence_key, org_id, state, position, \
             headcount, cohort, results, version, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, 1, $9, $10)",
        )
        .bind(registration.id.to_string())
        .bind(activity_id.to_string())
        .bind(occurrence)
        .bind(registration.cohort.org_id.to_string())
        .bind(state.as_str())
        .bind(position)
        .bind(i64::from(registration.cohort.headcount))
        .bind(json(&registration.cohort)?)
        .bind(micros(at))
        .bind(micros(at))
        .execute(&mut *tx.tx)
        .await
        .map_err(|e| match DbFailure::classify(e) {
            DbFailure::ForeignKey => Error::RegistrationRefused(format!(
                "organization {} is not on this node",
                registration.cohort.org_id
            )),
            other => other.into_storage().into(),
        })?;
        tx.append(registration_change(&activity, &registration, actor))
            .await?;
        self.rebalance(&mut tx, &activity, actor, true).await?;
        tx.commit().await?;
        Ok(registration)
    }

    /// Withdraws a registration; its seats go to the waitlist in order.
    #[tracing::instrument(name = "store.calendar.withdraw", skip(self, actor))]
    pub async fn withdraw(
        &self,
        id: &RegistrationId,
        actor: &Actor,
    ) -> Result<Registration, Error> {
        self.change_registration(id, actor, |registration, _| {
            if registration.state == RegistrationState::Withdrawn {
                return Err(Error::RegistrationRefused(format!(
                    "registration {id} is already withdrawn"
                )));
            }
            registration.state = RegistrationState::Withdrawn;
            Ok(())
        })
        .await
    }

    /// Changes a registration's headcount: a confirmed group grows only into
    /// free seats; a smaller one frees seats for the waitlist.
    #[tracing::instrument(name = "store.calendar.headcount", skip(self, actor))]
    pub async fn change_headcount(
        &self,
        id: &RegistrationId,
        headcount: u32,
        actor: &Actor,
    ) -> Result<Registration, Error> {
        check_headcount(headcount)?;
        self.change_registration(id, actor, |registration, ctx| {
            if registration.state == RegistrationState::Withdrawn {
                return Err(Error::RegistrationRefused(format!(
                    "registration {id} is withdrawn"
                )));
            }
            if ctx.now >= ctx.closes(registration.occurrence) {
                return Err(Error::RegistrationClosed(
                    "headcounts are fixed once registration closes".into(),
                ));
            }
            if let Some(results) = registration.results
                && headcount < results.attended
            {
                return Err(Error::RegistrationRefused(format!(
                    "{} students attended; the headcount cannot be lower",
                    results.attended
                )));
            }
            let org = registration.cohort.org_id.clone();
            ctx.book
                .could_ever_fit(&org, headcount)
                .map_err(Error::RegistrationRefused)?;
            let current = registration.cohort.headcount;
            if registration.state == RegistrationState::Confirmed && headcount > current {
                // Growing takes seats: not past groups already waiting for them.
                let others: Vec<Registration> = ctx
                    .registrations
                    .iter()
                    .filter(|r| r.id != registration.id)
                    .cloned()
                    .collect();
                if ctx.book.queue_ahead(&others, registration.occurrence) {
                    return Err(Error::RegistrationRefused(
                        "other groups are waiting for seats; the group cannot grow past them"
                            .into(),
                    ));
                }
                ctx.book
                    .fits(registration.occurrence, &org, headcount - current)
                    .map_err(|m| Error::RegistrationRefused(m.to_string()))?;
            }
            registration.cohort.headcount = headcount;
            Ok(())
        })
        .await
    }

    /// Records a cohort's attendance and results, after the activity.
    #[tracing::instrument(name = "store.calendar.results", skip(self, actor))]
    pub async fn record_results(
        &self,
        id: &RegistrationId,
        results: Results,
        actor: &Actor,
    ) -> Result<Registration, Error> {
        self.change_registration(id, actor, |registration, _| {
            if registration.state != RegistrationState::Confirmed {
                return Err(Error::RegistrationRefused(format!(
                    "registration {id} is {}; results go to confirmed registrations",
                    registration.state
                )));
            }
            registration.results = Some(results.validate(registration.cohort.headcount)?);
            Ok(())
        })
        .await
    }

    /// A registration and the activity it is for.
    pub async fn get_registration(
        &self,
        id: &RegistrationId,
    ) -> Result<(Registration, Activity), Error> {
        let mut conn = self.reader().acquire().await.map_err(storage)?;
        let registration = load_registration(&mut conn, id).await?;
        let activity = load_activity(&mut conn, &registration.activity_id).await?;
        Ok((registration, activity))
    }

    /// An activity's registrations in arrival order; only those of `orgs`
    /// when given.
    pub async fn list_registrations(
        &self,
        activity: &ActivityId,
        orgs: Option<&[OrgId]>,
    ) -> Result<Vec<Registration>, Error> {
        let mut conn = self.reader().acquire().await.map_err(storage)?;
        let all = load_registrations(&mut conn, activity).await?;
        Ok(all
            .into_iter()
            .filter(|r| orgs.is_none_or(|orgs| orgs.contains(&r.cohort.org_id)))
            .collect())
    }

    async fn change_registration(
        &self,
        id: &RegistrationId,
        actor: &Actor,
        change: impl FnOnce(&mut Registration, &RegistrationContext<'_>) -> Result<(), Error>,
    ) -> Result<Registration, Error> {
        let at = self.clock().now();
        let mut tx = self.write_tx().await?;
        let activity_id = load_registration(&mut tx.tx, id).await?.activity_id;
        self.lock_activity(&mut tx, &activity_id).await?;
        let mut registration = load_registration(&mut tx.tx, id).await?;
        let activity = load_activity(&mut tx.tx, &activity_id).await?;
        let occurrences = activity.occurrences()?;
        let registrations = load_registrations(&mut tx.tx, &activity_id).await?;
        let book = seat_book(&activity, &occurrences, &registrations, at);
        change(
            &mut registration,
            &RegistrationContext {
                book: &book,
                registrations: &registrations,
                activity: &activity,
                occurrences: &occurrences,
                now: at,
            },
        )?;
        registration.version += 1;
        registration.updated_at = at;
        save_registration(&mut tx, &registration).await?;
        tx.append(registration_change(&activity, &registration, actor))
            .await?;
        self.rebalance(&mut tx, &activity, actor, false).await?;
        tx.commit().await?;
        Ok(registration)
    }

    /// Promotes waiting registrations that now fit, in arrival order, and
    /// brings the stored seat counts up to date; a new registration
    /// (`registered`) always logs the seat counts, if only the waitlist grew.
    async fn rebalance(
        &self,
        tx: &mut WriteTx<'_>,
        activity: &Activity,
        actor: &Actor,
        registered: bool,
    ) -> Result<(), Error> {
        let at = self.clock().now();
        let occurrences = activity.occurrences()?;
        let mut registrations = load_registrations(&mut tx.tx, &activity.id).await?;
        let mut book = seat_book(activity, &occurrences, &registrations, at);
        let promoted = if activity.status == ActivityStatus::Published {
            book.promotions(&registrations)
        } else {
            Vec::new()
        };
        for registration in registrations
            .iter_mut()
            .filter(|r| promoted.contains(&r.id))
        {
            registration.state = RegistrationState::Confirmed;
            registration.version += 1;
            registration.updated_at = at;
            save_registration(tx, registration).await?;
            tx.append(registration_change(activity, registration, actor))
                .await?;
        }
        let stored = occurrence_seats(&mut tx.tx, &activity.id).await?;
        let mut changed = !promoted.is_empty() || registered;
        for occurrence in &occurrences {
            let taken = book.taken(occurrence.key(), None);
            let before = stored
                .iter()
                .find(|(k, _)| *k == occurrence.key())
                .map_or(0, |(_, t)| *t);
            if taken != before {
                set_seats(tx, &activity.id, occurrence.key(), taken).await?;
                changed = true;
            }
        }
        if changed {
            let version: i64 = sqlx::query_scalar(
                "UPDATE activities SET seats_version = seats_version + 1 WHERE id = $1 RETURNING seats_version",
            )
            .bind(activity.id.to_string())
            .fetch_one(&mut *tx.tx)
            .await
            .map_err(storage)?;
            let waitlisted = registrations
                .iter()
                .filter(|r| r.state == RegistrationState::Waitlisted)
                .count();
            let payload = SeatsPayload {
                activity_id: &activity.id,
                capacity: activity.details.capacity,
                occurrences: occurrences
                    .iter()
                    .filter(|o| o.end > at)
                    .take(100)
                    .map(|o| SeatsOf {
                        start: o.start,
                        taken: book.taken(o.key(), None),
                    })
                    .collect(),
                waitlisted: u32::try_from(waitlisted).unwrap_or(u32::MAX),
            };
            tx.append(
                NewChange::upsert(
                    EntityKind::ActivitySeats,
                    activity.id.to_string(),
                    unsigned(version)?,
                    Some(activity.publisher.clone()),
                    &payload,
                    actor,
                )
                .shared(is_shared(activity)),
            )
            .await?;
        }
        Ok(())
    }

    /// On PostgreSQL, locks an activity's row until the transaction ends, so
    /// seat decisions on one activity are serialized; SQLite's writes are
    /// serialized already.
    async fn lock_activity(&self, tx: &mut WriteTx<'_>, id: &ActivityId) -> Result<(), Error> {
        if self.backend() == Backend::Postgres {
            let found = sqlx::query("SELECT id FROM activities WHERE id = $1 FOR UPDATE")
                .bind(id.to_string())
                .fetch_optional(&mut *tx.tx)
                .await
                .map_err(storage)?;
            if found.is_none() {
                return Err(Error::ActivityNotFound(id.to_string()));
            }
        }
        Ok(())
    }
}

/// The search's filters and the viewer's visibility, over `occurrences o`
/// joined with `activities a`.
fn push_occurrence_filter(q: &mut QueryText, filter: &OccurrenceFilter, viewer: &Viewer) {
    push_visibility(q, viewer);
    if !filter.include_cancelled {
        q.push(
            " AND a.status <> $?",
            Value::Text(ActivityStatus::Cancelled.as_str().into()),
        );
        q.raw(" AND o.cancelled = 0");
    }
    push_activity_filters(
        q,
        filter.publisher.as_ref(),
        filter.kind,
        filter.direction,
        filter.format,
        filter.grade,
        filter.subject.as_deref(),
    );
    if let Some(agreement) = &filter.agreement_id {
        q.push(" AND a.agreement_id = $?", Value::Text(agreement.clone()));
    }
    if let Some(query) = &filter.query {
        q.push(
            " AND a.search_text LIKE $? ESCAPE '\\'",
            Value::Text(format!("%{}%", like_escape(query))),
        );
    }
    if let Some(seats) = filter.min_free_seats {
        q.push(
            " AND (a.capacity IS NULL OR a.capacity - o.seats_taken >= $?)",
            Value::Int(i64::from(seats)),
        );
    }
}

/// The filters calendar searches and feeds share, over `activities a`.
fn push_activity_filters(
    q: &mut QueryText,
    publisher: Option<&OrgId>,
    kind: Option<edufed_domain::calendar::ActivityKind>,
    direction: Option<edufed_domain::calendar::Direction>,
    format: Option<edufed_domain::calendar::Format>,
    grade: Option<u8>,
    subject: Option<&str>,
) {
    if let Some(publisher) = publisher {
        q.push(
            " AND a.publisher_id = $?",
            Value::Text(publisher.to_string()),
        );
    }
    if let Some(kind) = kind {
        q.push(" AND a.kind = $?", Value::Text(kind.as_str().into()));
    }
    if let Some(direction) = direction {
        q.push(
            " AND a.direction = $?",
            Value::Text(direction.as_str().into()),
        );
    }
    if let Some(format) = format {
        q.push(" AND a.format = $?", Value::Text(format.as_str().into()));
    }
    if let Some(grade) = grade {
        q.push(" AND a.grade_min <= $?", Value::Int(i64::from(grade)));
        q.push(" AND a.grade_max >= $?", Value::Int(i64::from(grade)));
    }
    if let Some(subject) = subject {
        q.push(
            " AND a.subjects_key LIKE $? ESCAPE '\\'",
            Value::Text(format!("%|{}|%", like_escape(subject))),
        );
    }
}

/// Restricts a query over `activities a` to what the viewer may see.
fn push_visibility(q: &mut QueryText, viewer: &Viewer) {
    match viewer {
        Viewer::Operator => {}
        Viewer::Anonymous => {
            q.push(
                " AND a.status <> $?",
                Value::Text(ActivityStatus::Draft.as_str().into()),
            );
            q.push(
                " AND a.visibility = $?",
                Value::Text(Visibility::Public.as_str().into()),
            );
        }
        Viewer::Member(orgs) => {
            let list = orgs
                .iter()
                .map(|o| Value::Text(o.to_string()))
                .collect::<Vec<_>>();
            let mine = if list.is_empty() {
                "1 = 0"
            } else {
                "a.publisher_id IN ($list)"
            };
            q.push_list(
                &format!(
                    " AND ({mine} OR (a.status <> 'draft' AND a.visibility <> 'organization'))"
                ),
                list,
            );
        }
    }
}

/// What a change to one registration may consult.
struct RegistrationContext<'a> {
    book: &'a SeatBook,
    registrations: &'a [Registration],
    activity: &'a Activity,
    occurrences: &'a [Occurrence],
    now: DateTime<Utc>,
}

impl RegistrationContext<'_> {
    /// When registration for `scope` closes: the window's close, or the
    /// occurrence's start (a series: its last start).
    fn closes(&self, scope: Option<i64>) -> DateTime<Utc> {
        let start = self
            .occurrences
            .iter()
            .filter(|o| !o.cancelled && scope.is_none_or(|k| k == o.key()))
            .map(|o| o.start)
            .max()
            .unwrap_or(self.now);
        self.activity
            .details
            .registration
            .closes_at
            .map_or(start, |c| c.min(start))
    }
}

fn invalid_token() -> Error {
    Error::Invalid(edufed_domain::FieldError::new(
        "page_token",
        "is not a token returned by this list",
    ))
}

fn is_shared(activity: &Activity) -> bool {
    activity.status != ActivityStatus::Draft
        && activity.details.visibility != Visibility::Organization
}

fn activity_change(activity: &Activity, actor: &Actor) -> NewChange {
    NewChange::upsert(
        EntityKind::Activity,
        activity.id.to_string(),
        activity.version,
        Some(activity.publisher.clone()),
        activity,
        actor,
    )
    .shared(is_shared(activity))
}

fn registration_change(
    activity: &Activity,
    registration: &Registration,
    actor: &Actor,
) -> NewChange {
    NewChange::upsert(
        EntityKind::Registration,
        registration.id.to_string(),
        registration.version,
        Some(activity.publisher.clone()),
        registration,
        actor,
    )
    .also_for(registration.cohort.org_id.clone())
}

fn seat_book(
    activity: &Activity,
    occurrences: &[Occurrence],
    registrations: &[Registration],
    at: DateTime<Utc>,
) -> SeatBook {
    let upcoming = occurrences
        .iter()
        .filter(|o| !o.cancelled && o.end > at)
        .map(Occurrence::key)
        .collect();
    SeatBook::new(
        activity.details.capacity,
        activity.details.quotas.clone(),
        upcoming,
        registrations,
    )
}

fn subjects_key(subjects: &[String]) -> String {
    if subjects.is_empty() {
        String::new()
    } else {
        format!("|{}|", subjects.join("|"))
    }
}

fn json(value: &impl Serialize) -> Result<String, StorageError> {
    serde_json::to_string(value).map_err(StorageError::new)
}

/// A query built by sqlx's `Any` driver.
type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// Binds the columns every row of an activity shares, `kind` through
/// `overrides` in that order, for the node's own table and the mirror alike.
trait BindActivity: Sized {
    fn bind_activity(self, activity: &Activity) -> Result<Self, StorageError>;
}

impl BindActivity for AnyQuery<'_> {
    fn bind_activity(self, a: &Activity) -> Result<Self, StorageError> {
        Ok(self
            .bind(a.details.kind.as_str())
            .bind(a.details.direction.map(|d| d.as_str().to_owned()))
            .bind(a.details.format.as_str())
            .bind(a.details.visibility.as_str())
            .bind(a.status.as_str())
            .bind(a.details.audience.students.map(|g| i64::from(g.min)))
            .bind(a.details.audience.students.map(|g| i64::from(g.max)))
            .bind(subjects_key(&a.details.subjects))
            .bind(a.details.agreement_id.clone())
            .bind(a.details.capacity.map(i64::from))
            .bind(a.details.search_text())
            .bind(json(&a.details)?)
            .bind(json(&a.overrides)?))
    }
}

async fn insert_occurrences(
    tx: &mut WriteTx<'_>,
    id: &ActivityId,
    occurrences: &[Occurrence],
) -> Result<(), StorageError> {
    insert_occurrences_into(tx, "occurrences", id, occurrences).await
}

/// Writes occurrences into `table`: the node's own, or the mirror's.
async fn insert_occurrences_into(
    tx: &mut WriteTx<'_>,
    table: &str,
    id: &ActivityId,
    occurrences: &[Occurrence],
) -> Result<(), StorageError> {
    for o in occurrences {
        sqlx::query(&format!(
            "INSERT INTO {table} \
             (activity_id, occurrence_key, start_at, end_at, cancelled, moved, seats_taken, long_running) \
             VALUES ($1, $2, $3, $4, $5, $6, 0, $7)"
        ))
        .bind(id.to_string())
        .bind(o.key())
        .bind(micros(o.start))
        .bind(micros(o.end))
        .bind(i64::from(o.cancelled))
        .bind(i64::from(o.moved))
        .bind(i64::from(o.end - o.start > Duration::days(1)))
        .execute(&mut *tx.tx)
        .await
        .map_err(storage)?;
    }
    Ok(())
}

async fn set_seats(
    tx: &mut WriteTx<'_>,
    id: &ActivityId,
    key: i64,
    taken: u32,
) -> Result<(), StorageError> {
    sqlx::query(
        "UPDATE occurrences SET seats_taken = $1 WHERE activity_id = $2 AND occurrence_key = $3",
    )
    .bind(i64::from(taken))
    .bind(id.to_string())
    .bind(key)
    .execute(&mut *tx.tx)
    .await
    .map_err(storage)?;
    Ok(())
}

async fn occurrence_seats(
    conn: &mut AnyConnection,
    id: &ActivityId,
) -> Result<Vec<(i64, u32)>, StorageError> {
    let rows =
        sqlx::query("SELECT occurrence_key, seats_taken FROM occurrences WHERE activity_id = $1")
            .bind(id.to_string())
            .fetch_all(&mut *conn)
            .await
            .map_err(storage)?;
    rows.iter()
        .map(|row| {
            let key: i64 = row.try_get("occurrence_key").map_err(storage)?;
            let taken: i64 = row.try_get("seats_taken").map_err(storage)?;
            Ok((key, u32::try_from(taken).unwrap_or(u32::MAX)))
        })
        .collect()
}

async fn load_activity(conn: &mut AnyConnection, id: &ActivityId) -> Result<Activity, Error> {
    let row = sqlx::query(&format!(
        "SELECT {ACTIVITY_COLUMNS} FROM activities a WHERE a.id = $1"
    ))
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await
    .map_err(storage)?
    .ok_or_else(|| Error::ActivityNotFound(id.to_string()))?;
    activity_from_row(&row)
}

fn activity_from_row(row: &AnyRow) -> Result<Activity, Error> {
    let text = |c: &str| row.try_get::<String, _>(c).map_err(storage);
    let int = |c: &str| row.try_get::<i64, _>(c).map_err(storage);
    Ok(Activity {
        id: ActivityId::from_stored(text("id")?),
        publisher: OrgId::from_stored(text("publisher_id")?),
        status: ActivityStatus::parse("status", &text("status")?).map_err(StorageError::new)?,
        details: serde_json::from_str(&text("details")?).map_err(StorageError::new)?,
        overrides: serde_json::from_str(&text("overrides")?).map_err(StorageError::new)?,
        version: unsigned(int("version")?)?,
        created_at: instant(int("created_at")?)?,
        updated_at: instant(int("updated_at")?)?,
    })
}

fn found_from_row(row: &AnyRow) -> Result<FoundOccurrence, Error> {
    let int = |c: &str| row.try_get::<i64, _>(c).map_err(storage);
    Ok(FoundOccurrence {
        activity: activity_from_row(row)?,
        occurrence: Occurrence {
            original_start: instant(int("occurrence_key")?)?,
            start: instant(int("start_at")?)?,
            end: instant(int("end_at")?)?,
            cancelled: int("cancelled")? != 0,
            moved: int("moved")? != 0,
        },
        seats_taken: u32::try_from(int("seats_taken")?).unwrap_or(u32::MAX),
    })
}

async fn load_registration(
    conn: &mut AnyConnection,
    id: &RegistrationId,
) -> Result<Registration, Error> {
    let row = sqlx::query(&format!(
        "SELECT {REGISTRATION_COLUMNS} FROM registrations WHERE id = $1"
    ))
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await
    .map_err(storage)?
    .ok_or_else(|| Error::RegistrationNotFound(id.clone()))?;
    registration_from_row(&row)
}

const REGISTRATION_COLUMNS: &str = "id, activity_id, occurrence_key, state, position, cohort, results, \
                                    version, created_at, updated_at";

async fn load_registrations(
    conn: &mut AnyConnection,
    activity: &ActivityId,
) -> Result<Vec<Registration>, Error> {
    let rows = sqlx::query(&format!(
        "SELECT {REGISTRATION_COLUMNS} FROM registrations WHERE activity_id = $1 ORDER BY position"
    ))
    .bind(activity.to_string())
    .fetch_all(&mut *conn)
    .await
    .map_err(storage)?;
    rows.iter().map(registration_from_row).collect()
}

fn registration_from_row(row: &AnyRow) -> Result<Registration, Error> {
    let text = |c: &str| row.try_get::<String, _>(c).map_err(storage);
    let int = |c: &str| row.try_get::<i64, _>(c).map_err(storage);
    let results: Option<String> = row.try_get("results").map_err(storage)?;
    Ok(Registration {
        id: RegistrationId::from_stored(text("id")?),
        activity_id: ActivityId::from_stored(text("activity_id")?),
        occurrence: row.try_get("occurrence_key").map_err(storage)?,
        cohort: serde_json::from_str(&text("cohort")?).map_err(StorageError::new)?,
        state: RegistrationState::parse("state", &text("state")?).map_err(StorageError::new)?,
        position: unsigned(int("position")?)?,
        results: results
            .map(|r| serde_json::from_str(&r))
            .transpose()
            .map_err(StorageError::new)?,
        version: unsigned(int("version")?)?,
        created_at: instant(int("created_at")?)?,
        updated_at: instant(int("updated_at")?)?,
    })
}

async fn save_registration(
    tx: &mut WriteTx<'_>,
    registration: &Registration,
) -> Result<(), StorageError> {
    sqlx::query(
        "UPDATE registrations SET state = $1, headcount = $2, cohort = $3, results = $4, version = $5, \
         updated_at = $6 WHERE id = $7",
    )
    .bind(registration.state.as_str())
    .bind(i64::from(registration.cohort.headcount))
    .bind(json(&registration.cohort)?)
    .bind(registration.results.as_ref().map(json).transpose()?)
    .bind(signed(registration.version))
    .bind(micros(registration.updated_at))
    .bind(registration.id.to_string())
    .execute(&mut *tx.tx)
    .await
    .map_err(storage)?;
    Ok(())
}

/// Writes a peer's activity, as its entry carried it, into the mirrored
/// calendar: the row and its occurrences, replacing what was there.
pub(crate) async fn mirror_activity(
    tx: &mut WriteTx<'_>,
    origin: &str,
    activity: &Activity,
) -> Result<(), Error> {
    let occurrences = activity.occurrences()?;
    let held: Option<String> =
        sqlx::query_scalar("SELECT origin FROM mirror_activities WHERE id = $1")
            .bind(activity.id.to_string())
            .fetch_optional(&mut *tx.tx)
            .await
            .map_err(storage)?;
    if held.as_deref().is_some_and(|o| o != origin) {
        tracing::warn!(%origin, id = %activity.id, "a peer sent an activity another origin owns; ignored");
        return Ok(());
    }
    // Seats are reported separately; an edit keeps the last counts.
    let seats: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT start_at, seats_taken FROM mirror_occurrences WHERE activity_id = $1",
    )
    .bind(activity.id.to_string())
    .fetch_all(&mut *tx.tx)
    .await
    .map_err(storage)?;
    forget_mirrored_activity(tx, origin, &activity.id).await?;
    sqlx::query(
        "INSERT INTO mirror_activities (id, origin, publisher_id, kind, direction, format, visibility, status, \
         grade_min, grade_max, subjects_key, agreement_id, capacity, search_text, details, overrides, \
         version, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)",
    )
    .bind(activity.id.to_string())
    .bind(origin.to_owned())
    .bind(activity.publisher.to_string())
    .bind_activity(activity)?
    .bind(signed(activity.version))
    .bind(micros(activity.created_at))
    .bind(micros(activity.updated_at))
    .execute(&mut *tx.tx)
    .await
    .map_err(storage)?;
    insert_occurrences_into(tx, "mirror_occurrences", &activity.id, &occurrences).await?;
    for (start, taken) in seats {
        sqlx::query(
            "UPDATE mirror_occurrences SET seats_taken = $1 WHERE activity_id = $2 AND start_at = $3",
        )
        .bind(taken)
        .bind(activity.id.to_string())
        .bind(start)
        .execute(&mut *tx.tx)
        .await
        .map_err(storage)?;
    }
    Ok(())
}

/// Removes `origin`'s mirrored activity (deleted, or no longer shared).
pub(crate) async fn forget_mirrored_activity(
    tx: &mut WriteTx<'_>,
    origin: &str,
    id: &ActivityId,
) -> Result<(), StorageError> {
    let owned: Option<String> =
        sqlx::query_scalar("SELECT origin FROM mirror_activities WHERE id = $1")
            .bind(id.to_string())
            .fetch_optional(&mut *tx.tx)
            .await
            .map_err(storage)?;
    if owned.as_deref() != Some(origin) {
        return Ok(());
    }
    sqlx::query("DELETE FROM mirror_occurrences WHERE activity_id = $1")
        .bind(id.to_string())
        .execute(&mut *tx.tx)
        .await
        .map_err(storage)?;
    sqlx::query("DELETE FROM mirror_activities WHERE id = $1 AND origin = $2")
        .bind(id.to_string())
        .bind(origin.to_owned())
        .execute(&mut *tx.tx)
        .await
        .map_err(storage)?;
    Ok(())
}

/// The seats a peer reports taken on its mirrored activity's occurrences.
#[derive(serde::Deserialize)]
pub(crate) struct MirroredSeats {
    activity_id: ActivityId,
    occurrences: Vec<MirroredSeatsOf>,
}

#[derive(serde::Deserialize)]
struct MirroredSeatsOf {
    start: DateTime<Utc>,
    taken: u32,
}

/// Records the seats `origin` reports on its own mirrored activity.
pub(crate) async fn mirror_seats(
    tx: &mut WriteTx<'_>,
    origin: &str,
    seats: &MirroredSeats,
) -> Result<(), StorageError> {
    for o in &seats.occurrences {
        sqlx::query(
            "UPDATE mirror_occurrences SET seats_taken = $1 WHERE activity_id = $2 AND start_at = $3 \
             AND activity_id IN (SELECT id FROM mirror_activities WHERE origin = $4)",
        )
        .bind(i64::from(o.taken))
        .bind(seats.activity_id.to_string())
        .bind(micros(o.start))
        .bind(origin.to_owned())
        .execute(&mut *tx.tx)
        .await
        .map_err(storage)?;
    }
    Ok(())
}
