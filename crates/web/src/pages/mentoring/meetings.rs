//! A pair's meetings: calendar activities of kind `mentoring_meeting`,
//! seen by the pair's organizations only, listed on the pair's page and
//! scheduled from it by those who publish for one of its organizations.

use axum::extract::Path;
use axum::response::Response;
use chrono::{Duration, NaiveDate, NaiveTime, TimeZone as _};
use chrono_tz::Tz;
use edufed_domain::policy::Action;
use edufed_i18n::ru;
use edufed_proto::v1 as pb;

use crate::errors::{Problem, russian};
use crate::page::{see_other, t};
use crate::view::{Choice, DEFAULT_ZONE, Names, instant, zone_of};
use crate::visitor::{Posted, Visitor};

/// The most meetings one weekly series holds.
const MAX_WEEKS: u32 = 52;

/// The most meetings and events a page lists.
const MAX_LISTED: usize = 200;

/// A meeting as the pair's page lists it.
pub(super) struct Meeting {
    pub(super) href: String,
    pub(super) when: String,
    pub(super) title: String,
    /// Its kind, named: a pair's meeting, a festival…
    pub(super) kind: String,
    pub(super) cancelled: bool,
}

/// The scheduling form, as posted (and shown again when refused).
#[derive(Debug, Clone, serde::Deserialize)]
pub(crate) struct MeetingForm {
    #[serde(default)]
    pub(super) publisher: String,
    #[serde(default)]
    pub(super) title: String,
    #[serde(default)]
    pub(super) date: String,
    #[serde(default)]
    pub(super) start: String,
    #[serde(default)]
    pub(super) end: String,
    /// How many weekly meetings, 1 for one.
    #[serde(default)]
    pub(super) weeks: String,
    /// An address, a room, or a link to meet online.
    #[serde(default)]
    pub(super) place: String,
}

impl Default for MeetingForm {
    fn default() -> Self {
        Self {
            publisher: String::new(),
            title: t("mentoring-meeting-default-title"),
            date: String::new(),
            start: "15:00".into(),
            end: "16:00".into(),
            weeks: "1".into(),
            place: String::new(),
        }
    }
}

/// The organizations of the pair the visitor publishes for, named.
pub(super) fn publishers(
    visitor: &Visitor,
    pair: &pb::MentoringPair,
    names: &Names,
    chosen: &str,
) -> Vec<Choice> {
    pair.organization_ids
        .iter()
        .filter(|org| visitor.may(Action::ManageActivities, org))
        .map(|org| Choice {
            value: org.clone(),
            label: names.name(org),
            selected: org == chosen,
        })
        .collect()
}

/// The pair's meetings from its start (at most the last three years) to
/// two months ahead, in the zone of the visitor (or of each meeting).
pub(super) async fn of_pair(
    visitor: &Visitor,
    pair: &pb::MentoringPair,
) -> Result<Vec<Meeting>, tonic::Status> {
    linked(visitor, &pair.programme_id, &pair.id, &pair.starts_on).await
}

/// What belongs to a programme (a pair's meetings, the network events its
/// people attend), over the same window as a pair's.
pub(super) async fn of_programme(
    visitor: &Visitor,
    programme: &pb::MentoringProgramme,
) -> Result<Vec<Meeting>, tonic::Status> {
    let starts_on = programme
        .details
        .as_ref()
        .map(|d| d.starts_on.as_str())
        .unwrap_or_default();
    linked(visitor, &programme.id, "", starts_on).await
}

async fn linked(
    visitor: &Visitor,
    programme: &str,
    pair: &str,
    starts_on: &str,
) -> Result<Vec<Meeting>, tonic::Status> {
    // From its start until two months from now, in searches of the
    // longest window one allows; at most three of them (over three years).
    let start = NaiveDate::parse_from_str(starts_on, "%Y-%m-%d")
        .unwrap_or_default()
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .and_utc()
        - Duration::days(1);
    let span = Duration::days(edufed_domain::calendar::MAX_WINDOW_DAYS);
    let until = visitor.now + Duration::days(60);
    let stamp = |at: chrono::DateTime<chrono::Utc>| prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: 0,
    };
    let mut occurrences = Vec::new();
    let mut from = start.max(until - span * 3);
    while from < until && occurrences.len() < MAX_LISTED {
        let to = (from + span).min(until.max(from + Duration::days(1)));
        let found = visitor
            .api()
            .calendar()
            .list_occurrences(pb::ListOccurrencesRequest {
                from: Some(stamp(from)),
                to: Some(stamp(to)),
                mentoring_programme_id: programme.to_owned(),
                mentoring_pair_id: pair.to_owned(),
                include_cancelled: true,
                page_size: 100,
                ..Default::default()
            })
            .await?
            .into_inner();
        occurrences.extend(found.occurrences);
        from = to;
    }
    occurrences.truncate(MAX_LISTED);
    let found = pb::ListOccurrencesResponse {
        occurrences,
        ..Default::default()
    };
    Ok(found
        .occurrences
        .into_iter()
        .filter_map(|o| {
            let activity = o.activity?;
            let occurrence = o.occurrence?;
            let details = activity.details.unwrap_or_default();
            let zone = visitor.zone.unwrap_or_else(|| {
                zone_of(
                    &details.schedule.clone().unwrap_or_default().time_zone,
                    DEFAULT_ZONE,
                )
            });
            let start = instant(occurrence.start.as_ref())?;
            Some(Meeting {
                href: format!("/activities/{}", activity.id),
                when: ru().short_instant(start, zone),
                kind: crate::view::named::<pb::ActivityKind>(details.kind),
                title: details.title,
                cancelled: occurrence.cancelled
                    || activity.status == pb::ActivityStatus::Cancelled as i32,
            })
        })
        .collect())
}

fn problem(field: &str, key: &str) -> Problem {
    Problem {
        field: Some(field.to_owned()),
        message: t(key),
    }
}

/// The meetings' schedule in `zone`: one, or weekly `weeks` times.
fn schedule(form: &MeetingForm, zone: Tz) -> Result<pb::Schedule, Problem> {
    let day = NaiveDate::parse_from_str(form.date.trim(), "%Y-%m-%d")
        .map_err(|_| problem("date", "publish-date-invalid"))?;
    let time = |raw: &str, field: &str| {
        NaiveTime::parse_from_str(raw.trim(), "%H:%M")
            .map_err(|_| problem(field, "publish-time-invalid"))
    };
    let (start, end) = (time(&form.start, "start")?, time(&form.end, "end")?);
    let weeks = match form.weeks.trim() {
        "" => 1,
        raw => raw
            .parse::<u32>()
            .ok()
            .filter(|w| (1..=MAX_WEEKS).contains(w))
            .ok_or_else(|| problem("weeks", "mentoring-meeting-weeks-invalid"))?,
    };
    let local = |t: NaiveTime| day.and_time(t).format("%Y-%m-%dT%H:%M").to_string();
    // The zone must know the start (not inside a clock change).
    if zone
        .from_local_datetime(&day.and_time(start))
        .earliest()
        .is_none()
    {
        return Err(problem("start", "publish-time-invalid"));
    }
    Ok(pb::Schedule {
        time_zone: zone.name().to_owned(),
        start: local(start),
        end: local(end),
        all_day: false,
        recurrence: (weeks > 1).then(|| pb::Recurrence {
            rule: format!("FREQ=WEEKLY;COUNT={weeks}"),
            ..Default::default()
        }),
    })
}

/// `POST /mentoring/pairs/{id}/meetings`: schedules the pair's meetings.
pub(crate) async fn schedule_meetings(
    Path(id): Path<String>,
    posted: Posted<MeetingForm>,
) -> Response {
    let Posted { visitor, form } = posted;
    let api = visitor.api();
    let pair = match api
        .mentoring()
        .get_pair(pb::GetPairRequest { id: id.clone() })
        .await
    {
        Ok(found) => found.into_inner().pair.unwrap_or_default(),
        Err(status) => return crate::page::failure(&status),
    };
    let orgs = crate::view::organizations(api).await.unwrap_or_default();
    let publisher = if form.publisher.trim().is_empty() {
        pair.organization_ids
            .iter()
            .find(|org| visitor.may(Action::ManageActivities, org))
            .cloned()
            .unwrap_or_default()
    } else {
        form.publisher.trim().to_owned()
    };
    let zone = orgs
        .iter()
        .find(|o| o.id == publisher)
        .and_then(|o| o.time_zone.parse().ok())
        .or(visitor.zone)
        .unwrap_or(DEFAULT_ZONE);
    let schedule = match schedule(&form, zone) {
        Ok(schedule) => schedule,
        Err(problem) => return super::pair::refused_meeting(&visitor, &id, form, problem).await,
    };
    let place = form.place.trim();
    let place = if place.is_empty() {
        pb::Place {
            kind: pb::PlaceKind::AtPublisher.into(),
            value: String::new(),
        }
    } else if place.starts_with("https://") || place.starts_with("http://") {
        pb::Place {
            kind: pb::PlaceKind::Online.into(),
            value: place.to_owned(),
        }
    } else {
        pb::Place {
            kind: pb::PlaceKind::Address.into(),
            value: place.to_owned(),
        }
    };
    let online = place.kind == pb::PlaceKind::Online as i32;
    let published = api
        .calendar()
        .publish_activity(pb::PublishActivityRequest {
            publisher,
            details: Some(pb::ActivityDetails {
                title: form.title.trim().to_owned(),
                kind: pb::ActivityKind::MentoringMeeting.into(),
                direction: pb::Direction::TeacherDevelopment.into(),
                audience: Some(pb::Audience {
                    teachers: true,
                    ..Default::default()
                }),
                format: if online {
                    pb::Format::Online
                } else {
                    pb::Format::InPerson
                }
                .into(),
                place: Some(place),
                visibility: pb::Visibility::Partners.into(),
                schedule: Some(schedule),
                mentoring_programme_id: pair.programme_id.clone(),
                mentoring_pair_id: pair.id.clone(),
                ..Default::default()
            }),
            draft: false,
        })
        .await;
    match published {
        Ok(_) => see_other(&format!("/mentoring/pairs/{id}?done=scheduled#meetings")),
        Err(status) => super::pair::refused_meeting(&visitor, &id, form, russian(&status)).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(weeks: &str) -> MeetingForm {
        MeetingForm {
            date: "2025-10-07".into(),
            weeks: weeks.into(),
            ..MeetingForm::default()
        }
    }

    #[test]
    fn weekly_meetings_are_counted_in_the_rule() {
        let zone: Tz = "Asia/Yekaterinburg".parse().unwrap();
        let one = schedule(&form("1"), zone).unwrap();
        assert_eq!(one.start, "2025-10-07T15:00");
        assert!(one.recurrence.is_none());
        let weekly = schedule(&form("4"), zone).unwrap();
        assert_eq!(weekly.recurrence.unwrap().rule, "FREQ=WEEKLY;COUNT=4");
        for bad in ["0", "53", "много"] {
            assert_eq!(
                schedule(&form(bad), zone).unwrap_err().field.as_deref(),
                Some("weeks")
            );
        }
        let mut no_day = form("1");
        no_day.date.clear();
        assert_eq!(
            schedule(&no_day, zone).unwrap_err().field.as_deref(),
            Some("date")
        );
    }
}
