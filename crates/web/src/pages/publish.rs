//! Publishing an activity: one form, with a recurrence picker (days of the
//! week, until, the dates to leave out) that the console turns into the
//! RFC 5545 rule and exceptions the API takes; nobody types an RRULE.
//! And, for the publisher, recording a cohort's attendance and results.

use askama::Template;
use axum::extract::Path;
use axum::response::Response;
use chrono::{Datelike as _, NaiveDate, NaiveTime, TimeZone as _, Weekday};
use chrono_tz::Tz;
use edufed_domain::policy::Action;
use edufed_proto::v1 as pb;

use crate::errors::{Problem, russian};
use crate::page::{Layout, Section, render_with, see_other, t};
use crate::view::{Choice, DEFAULT_ZONE, choices, organizations};
use crate::visitor::{Posted, Visitor};

pub(crate) fn routes() -> axum::Router<crate::Console> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/activities/new", get(form).post(publish))
        .route("/registrations/{id}/results", post(results))
}

/// The publishing form as posted.
#[derive(Debug, Clone, serde::Deserialize)]
pub(crate) struct PublishForm {
    #[serde(default)]
    publisher: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    direction: String,
    #[serde(default)]
    subjects: String,
    #[serde(default)]
    grade_min: String,
    #[serde(default)]
    grade_max: String,
    #[serde(default)]
    format: String,
    #[serde(default)]
    place_kind: String,
    #[serde(default)]
    place: String,
    #[serde(default)]
    capacity: String,
    /// Venues of an activity held at several at once, one per line:
    /// «МГМЛ, актовый зал; 60».
    #[serde(default)]
    venues: String,
    #[serde(default)]
    visibility: String,
    /// The first (or only) day, `YYYY-MM-DD`.
    #[serde(default)]
    date: String,
    #[serde(default)]
    start: String,
    #[serde(default)]
    end: String,
    /// `weekly` to repeat on the days below.
    #[serde(default)]
    repeat: String,
    #[serde(default)]
    mo: String,
    #[serde(default)]
    tu: String,
    #[serde(default)]
    we: String,
    #[serde(default)]
    th: String,
    #[serde(default)]
    fr: String,
    #[serde(default)]
    sa: String,
    #[serde(default)]
    su: String,
    /// The last day of the series, `YYYY-MM-DD`.
    #[serde(default)]
    until: String,
    /// Days left out: dates and ranges, one per line («04.11.2027»,
    /// «28.12.2027 – 08.01.2028»).
    #[serde(default)]
    skip: String,
    #[serde(default)]
    draft: String,
}

impl Default for PublishForm {
    fn default() -> Self {
        Self {
            publisher: String::new(),
            title: String::new(),
            description: String::new(),
            kind: String::new(),
            direction: String::new(),
            subjects: String::new(),
            grade_min: String::new(),
            grade_max: String::new(),
            format: (pb::Format::InPerson as i32).to_string(),
            place_kind: (pb::PlaceKind::AtPublisher as i32).to_string(),
            place: String::new(),
            capacity: String::new(),
            venues: String::new(),
            visibility: (pb::Visibility::Network as i32).to_string(),
            date: String::new(),
            start: "15:00".into(),
            end: "16:30".into(),
            repeat: String::new(),
            mo: String::new(),
            tu: String::new(),
            we: String::new(),
            th: String::new(),
            fr: String::new(),
            sa: String::new(),
            su: String::new(),
            until: String::new(),
            skip: String::new(),
            draft: String::new(),
        }
    }
}

const DAYS: [(Weekday, &str); 7] = [
    (Weekday::Mon, "MO"),
    (Weekday::Tue, "TU"),
    (Weekday::Wed, "WE"),
    (Weekday::Thu, "TH"),
    (Weekday::Fri, "FR"),
    (Weekday::Sat, "SA"),
    (Weekday::Sun, "SU"),
];

impl PublishForm {
    fn days(&self) -> [bool; 7] {
        [
            &self.mo, &self.tu, &self.we, &self.th, &self.fr, &self.sa, &self.su,
        ]
        .map(|v| !v.is_empty())
    }
}

/// A form field the console itself checks before the API sees anything:
/// what only the picker knows (its dates and days).
fn picker_problem(field: &str, key: &str) -> Problem {
    Problem {
        field: Some(field.to_owned()),
        message: t(key),
    }
}

fn date(raw: &str) -> Option<NaiveDate> {
    let raw = raw.trim();
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .or_else(|_| NaiveDate::parse_from_str(raw, "%d.%m.%Y"))
        .ok()
}

/// The dates of `skip`: single dates and ranges, one per line or comma.
fn skipped(raw: &str) -> Result<Vec<NaiveDate>, ()> {
    let mut dates = Vec::new();
    for part in raw
        .split(['\n', ',', ';'])
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let bounds: Vec<&str> = part.split(['–', '—']).map(str::trim).collect();
        let bounds = if bounds.len() == 1 && part.matches('-').count() == 1 {
            // «04.11.2027-06.11.2027»; ISO dates carry their own hyphens.
            part.split('-').map(str::trim).collect()
        } else {
            bounds
        };
        match bounds.as_slice() {
            [one] => dates.push(date(one).ok_or(())?),
            [from, to] => {
                let (from, to) = (date(from).ok_or(())?, date(to).ok_or(())?);
                if to < from || (to - from).num_days() > 366 {
                    return Err(());
                }
                dates.extend(from.iter_days().take_while(|d| *d <= to));
            }
            _ => return Err(()),
        }
    }
    Ok(dates)
}

/// The schedule the picker describes, in `zone`, or the field at fault.
fn schedule(form: &PublishForm, zone: Tz) -> Result<pb::Schedule, Problem> {
    let day = date(&form.date).ok_or_else(|| picker_problem("date", "publish-date-invalid"))?;
    let time = |raw: &str, field: &str| {
        NaiveTime::parse_from_str(raw.trim(), "%H:%M")
            .map_err(|_| picker_problem(field, "publish-time-invalid"))
    };
    let (start, end) = (time(&form.start, "start")?, time(&form.end, "end")?);
    let local = |d: NaiveDate, t: NaiveTime| d.and_time(t).format("%Y-%m-%dT%H:%M").to_string();
    let recurrence = if form.repeat == "weekly" {
        let days = form.days();
        let byday: Vec<&str> = DAYS
            .iter()
            .zip(days)
            .filter(|(_, on)| *on)
            .map(|((_, code), _)| *code)
            .collect();
        if byday.is_empty() {
            return Err(picker_problem("days", "publish-days-required"));
        }
        let until =
            date(&form.until).ok_or_else(|| picker_problem("until", "publish-until-required"))?;
        if until < day {
            return Err(picker_problem("until", "publish-until-before"));
        }
        // UNTIL is an instant (RFC 5545 with a zoned start): the end of
        // the last day, in the activity's zone.
        let last = zone
            .from_local_datetime(&until.and_hms_opt(23, 59, 59).unwrap_or_default())
            .earliest()
            .map_or_else(
                || until.and_hms_opt(23, 59, 59).unwrap_or_default().and_utc(),
                |t| t.with_timezone(&chrono::Utc),
            );
        let skip =
            skipped(&form.skip).map_err(|()| picker_problem("skip", "publish-skip-invalid"))?;
        let exdates = skip
            .into_iter()
            .filter(|d| *d >= day && *d <= until)
            .filter(|d| {
                DAYS.iter()
                    .zip(days)
                    .any(|((w, _), on)| on && d.weekday() == *w)
            })
            .map(|d| local(d, start))
            .collect();
        Some(pb::Recurrence {
            rule: format!(
                "FREQ=WEEKLY;BYDAY={};UNTIL={}",
                byday.join(","),
                last.format("%Y%m%dT%H%M%SZ")
            ),
            exdates,
            rdates: Vec::new(),
        })
    } else {
        None
    };
    Ok(pb::Schedule {
        time_zone: zone.name().to_owned(),
        start: local(day, start),
        end: local(day, end),
        all_day: false,
        recurrence,
    })
}

struct OrgChoice {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "publish.html")]
struct PublishPage {
    layout: Layout,
    form: PublishForm,
    publishers: Vec<OrgChoice>,
    kinds: Vec<Choice>,
    directions: Vec<Choice>,
    formats: Vec<Choice>,
    places: Vec<Choice>,
    visibilities: Vec<Choice>,
    days: Vec<(String, String, bool)>,
    problem: Option<Problem>,
}

impl PublishPage {
    fn error(&self, field: &str) -> String {
        self.problem
            .as_ref()
            .and_then(|p| p.about(field))
            .unwrap_or_default()
            .to_owned()
    }

    fn general_error(&self) -> String {
        const SHOWN: [&str; 18] = [
            "details.venues",
            "publisher",
            "details.title",
            "details.description",
            "details.kind",
            "details.direction",
            "details.subjects",
            "details.audience",
            "details.format",
            "details.place",
            "details.capacity",
            "details.visibility",
            "details.schedule",
            "date",
            "start",
            "end",
            "until",
            "skip",
        ];
        match &self.problem {
            Some(p) if SHOWN.iter().all(|f| p.about(f).is_none()) && p.about("days").is_none() => {
                p.message.clone()
            }
            _ => String::new(),
        }
    }
}

async fn page(visitor: &Visitor, form: PublishForm, problem: Option<Problem>) -> Response {
    let orgs = organizations(visitor.api()).await.unwrap_or_default();
    let publishers: Vec<OrgChoice> = visitor
        .memberships_for(Action::ManageActivities)
        .into_iter()
        .map(|m| {
            let org = orgs.iter().find(|o| o.id == m.organization_id);
            OrgChoice {
                value: m.organization_slug.clone(),
                label: org.map_or_else(|| m.organization_slug.clone(), |o| o.short_name.clone()),
                selected: form.publisher == m.organization_slug,
            }
        })
        .collect();
    let number = |raw: &str| raw.trim().parse::<i32>().unwrap_or(0);
    let days = form.days();
    let status = if problem.is_some() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    render_with(
        status,
        &PublishPage {
            layout: Layout::new(visitor, Section::Calendar, t("publish-title")),
            publishers,
            // A pair's meeting, seen by the pair's organizations, is
            // scheduled from the pair's page.
            kinds: choices::<pb::ActivityKind>(number(&form.kind))
                .into_iter()
                .filter(|c| c.value != (pb::ActivityKind::MentoringMeeting as i32).to_string())
                .collect(),
            directions: choices::<pb::Direction>(number(&form.direction)),
            formats: choices::<pb::Format>(number(&form.format)),
            places: choices::<pb::PlaceKind>(number(&form.place_kind)),
            visibilities: choices::<pb::Visibility>(number(&form.visibility))
                .into_iter()
                .filter(|c| c.value != (pb::Visibility::Partners as i32).to_string())
                .collect(),
            days: DAYS
                .iter()
                .zip(days)
                .map(|((weekday, code), on)| {
                    let monday =
                        NaiveDate::from_isoywd_opt(2026, 1, Weekday::Mon).unwrap_or_default();
                    let day =
                        monday + chrono::Duration::days(i64::from(weekday.num_days_from_monday()));
                    (code.to_lowercase(), edufed_i18n::ru().weekday(day), on)
                })
                .collect(),
            form,
            problem,
        },
    )
}

/// `GET /activities/new`.
pub(crate) async fn form(visitor: Visitor) -> Response {
    if !visitor.may_somewhere(Action::ManageActivities) {
        return crate::page::render(&crate::pages::calendar::signed_out(&visitor));
    }
    page(&visitor, PublishForm::default(), None).await
}

/// `POST /activities/new`.
pub(crate) async fn publish(posted: Posted<PublishForm>) -> Response {
    let Posted { visitor, form } = posted;
    let orgs = organizations(visitor.api()).await.unwrap_or_default();
    let zone = orgs
        .iter()
        .find(|o| o.slug == form.publisher || o.id == form.publisher)
        .and_then(|o| o.time_zone.parse().ok())
        .or(visitor.zone)
        .unwrap_or(DEFAULT_ZONE);
    let schedule = match schedule(&form, zone) {
        Ok(schedule) => schedule,
        Err(problem) => return page(&visitor, form, Some(problem)).await,
    };
    let number = |raw: &str| raw.trim().parse::<u32>().unwrap_or(0);
    let code = |raw: &str| raw.trim().parse::<i32>().unwrap_or(0);
    let grades = (number(&form.grade_min), number(&form.grade_max));
    let details = pb::ActivityDetails {
        title: form.title.trim().to_owned(),
        description: form.description.trim().to_owned(),
        kind: code(&form.kind),
        direction: code(&form.direction),
        subjects: form
            .subjects
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect(),
        audience: Some(pb::Audience {
            students: (grades != (0, 0)).then_some(pb::GradeRange {
                min: grades.0,
                max: grades.1,
            }),
            ..Default::default()
        }),
        format: code(&form.format),
        place: Some(pb::Place {
            kind: code(&form.place_kind),
            value: form.place.trim().to_owned(),
        }),
        capacity: number(&form.capacity),
        visibility: code(&form.visibility),
        schedule: Some(schedule),
        venues: form
            .venues
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .map(|line| {
                // «place; seats»: the seats after the last semicolon, if a number.
                let (place, capacity) = match line.rsplit_once(';') {
                    Some((place, seats)) if seats.trim().parse::<u32>().is_ok() => {
                        (place.trim(), number(seats))
                    }
                    _ => (line, 0),
                };
                pb::Venue {
                    place: place.to_owned(),
                    capacity,
                    ..Default::default()
                }
            })
            .collect(),
        ..Default::default()
    };
    let published = visitor
        .api()
        .calendar()
        .publish_activity(pb::PublishActivityRequest {
            publisher: form.publisher.trim().to_owned(),
            details: Some(details),
            draft: !form.draft.is_empty(),
        })
        .await;
    match published {
        Ok(activity) => see_other(&format!("/activities/{}", activity.into_inner().id)),
        Err(status) => page(&visitor, form, Some(russian(&status))).await,
    }
}

#[derive(serde::Deserialize)]
pub(crate) struct ResultsForm {
    #[serde(default)]
    activity: String,
    #[serde(default)]
    attended: String,
    #[serde(default)]
    participants: String,
    #[serde(default)]
    prize_winners: String,
    #[serde(default)]
    winners: String,
}

/// `POST /registrations/{id}/results`: the publisher records a cohort's
/// attendance and results.
pub(crate) async fn results(Path(id): Path<String>, posted: Posted<ResultsForm>) -> Response {
    let Posted { visitor, form } = posted;
    let number = |raw: &str| raw.trim().parse::<u32>().unwrap_or(0);
    let recorded = visitor
        .api()
        .calendar()
        .record_results(pb::RecordResultsRequest {
            registration_id: id,
            results: Some(pb::Results {
                attended: number(&form.attended),
                participants: number(&form.participants),
                prize_winners: number(&form.prize_winners),
                winners: number(&form.winners),
            }),
        })
        .await;
    match recorded {
        Ok(registration) => see_other(&format!(
            "/activities/{}?recorded=1#registrations",
            registration.into_inner().activity_id
        )),
        Err(status) => {
            crate::pages::activity::refused(&visitor, &form.activity, russian(&status)).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn picked() -> PublishForm {
        PublishForm {
            date: "2027-10-05".into(),
            start: "15:00".into(),
            end: "16:30".into(),
            repeat: "weekly".into(),
            tu: "on".into(),
            th: "on".into(),
            until: "2027-12-23".into(),
            skip: "04.11.2027\n2027-12-07 – 2027-12-09".into(),
            ..PublishForm::default()
        }
    }

    #[test]
    fn the_picker_makes_a_weekly_rule_with_its_exceptions() {
        let schedule = schedule(&picked(), chrono_tz::Asia::Tomsk).unwrap();
        assert_eq!(schedule.start, "2027-10-05T15:00");
        let recurrence = schedule.recurrence.unwrap();
        // The last day's end in Tomsk (UTC+7), as an instant.
        assert_eq!(
            recurrence.rule,
            "FREQ=WEEKLY;BYDAY=TU,TH;UNTIL=20271223T165959Z"
        );
        // Thursday 4 November, and Tuesday 7 and Thursday 9 December; the
        // Wednesday between is no lesson day.
        assert_eq!(
            recurrence.exdates,
            vec!["2027-11-04T15:00", "2027-12-07T15:00", "2027-12-09T15:00"]
        );
    }

    #[test]
    fn the_picker_names_what_it_needs() {
        let mut form = picked();
        form.tu.clear();
        form.th.clear();
        assert_eq!(
            schedule(&form, DEFAULT_ZONE).unwrap_err().field.as_deref(),
            Some("days")
        );
        let mut form = picked();
        form.until = "2027-09-01".into();
        assert_eq!(
            schedule(&form, DEFAULT_ZONE).unwrap_err().field.as_deref(),
            Some("until")
        );
        let mut form = picked();
        form.skip = "в каникулы".into();
        assert_eq!(
            schedule(&form, DEFAULT_ZONE).unwrap_err().field.as_deref(),
            Some("skip")
        );
        let mut form = picked();
        form.repeat.clear();
        assert!(schedule(&form, DEFAULT_ZONE).unwrap().recurrence.is_none());
    }
}
