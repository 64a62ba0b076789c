//! Finding activities: a window of the calendar, own and mirrored alike,
//! and the activities of an iCalendar feed, as the viewer may see them.

use chrono::Duration;
use edufed_domain::calendar::ics::FeedEntry;
use edufed_domain::calendar::{
    Activity, ActivityStatus, Error, FeedFilter, FoundOccurrence, MAX_FEED_ACTIVITIES,
    OccurrenceFilter, Viewer, Visibility,
};
use edufed_domain::ids::OrgId;
use edufed_domain::page::{PageSize, PageToken};

use super::ACTIVITY_COLUMNS;
use super::rows::{ActivityRow, FoundRow};
use crate::Store;
use crate::directory::Page;
use crate::error::storage;
use crate::sql::{QueryText, Value, instant, like_escape, micros};

/// A feed's activity with the end of its last occurrence.
#[derive(sqlx::FromRow)]
struct FeedRow {
    #[sqlx(flatten)]
    activity: ActivityRow,
    last_end: Option<i64>,
}

impl Store {
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
                let rows: Vec<FoundRow> = q
                    .query_as()
                    .fetch_all(self.reader())
                    .await
                    .map_err(storage)?;
                for row in rows {
                    items.push(row.try_into()?);
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
        let rows: Vec<FeedRow> = q
            .query_as()
            .fetch_all(self.reader())
            .await
            .map_err(storage)?;
        rows.into_iter()
            .map(|row| {
                let activity = Activity::try_from(row.activity)?;
                let last_end = match row.last_end {
                    Some(micros) => instant(micros)?,
                    None => activity.updated_at,
                };
                Ok(FeedEntry { activity, last_end })
            })
            .collect()
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
    if let Some(link) = &filter.mentoring {
        q.push(
            " AND a.programme_id = $?",
            Value::Text(link.programme.to_string()),
        );
        if let Some(pair) = &link.pair {
            q.push(" AND a.pair_id = $?", Value::Text(pair.to_string()));
        }
    }
    if let Some(designation) = &filter.host_designation {
        crate::directory::push_designated(q, "a.publisher_id", designation);
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

/// A professional trial's session is listed only while its trial is in the
/// bank: approved here, or shared (approved) by the node that keeps it.
const IN_THE_BANK: &str = "(a.trial_id IS NULL \
     OR a.trial_id IN (SELECT id FROM trials WHERE state = 'approved') \
     OR a.trial_id IN (SELECT entity_id FROM mirrors WHERE entity_kind = 'trial' \
     AND operation = 'upsert'))";

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
            q.raw(&format!(" AND {IN_THE_BANK}"));
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
                    " AND ({mine} OR (a.status <> 'draft' AND (a.visibility IN ('public', 'network')"
                ),
                list,
            );
            // Seen by partners only: the viewer's organization among them.
            for org in orgs {
                q.push(
                    " OR (a.visibility = 'partners' AND a.partners_key LIKE $? ESCAPE '\\')",
                    Value::Text(format!("%|{}|%", like_escape(org.as_str()))),
                );
            }
            q.raw(&format!(") AND {IN_THE_BANK}))"));
        }
    }
}

fn invalid_token() -> Error {
    Error::Invalid(edufed_domain::FieldError::new(
        "page_token",
        "is not a token returned by this list",
    ))
}
