//! `/resources/{id}`: one resource, its week of free and busy time, and the
//! request form: one lesson, or a weekly series with dates left out. A
//! request over booked time is refused with every lesson that collides
//! listed, and may be sent again without them.

use askama::Template;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use chrono::{DateTime, Duration, NaiveDate, NaiveTime, Utc};
use chrono_tz::Tz;
use edufed_domain::policy::Action;
use edufed_i18n::ru;
use edufed_proto::v1 as pb;
use tonic_types::StatusExt as _;

use super::series::{self, weekday};
use super::week::{self, Busy, Week, instant_in, monday_of};
use super::{hours_summary, refusal, stamp, zones};
use crate::errors::Problem;
use crate::page::{Layout, Section, failure, render_with, see_other, t};
use crate::view::{Names, named, organizations};
use crate::visitor::{Posted, Visitor};

/// The fields of the form a refusal may name; any other shows above it.
const FIELDS: [&str; 9] = [
    "requester",
    "date",
    "start",
    "end",
    "days",
    "until",
    "skip",
    "purpose",
    "headcount",
];

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct Shown {
    /// A day of the week to show, `2026-11-05`; this week when absent.
    #[serde(default)]
    week: String,
}

/// The request form as posted.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub(crate) struct RequestForm {
    #[serde(default)]
    requester: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    start: String,
    #[serde(default)]
    end: String,
    /// `once` or `weekly`.
    #[serde(default)]
    repeat: String,
    #[serde(default)]
    day_1: Option<String>,
    #[serde(default)]
    day_2: Option<String>,
    #[serde(default)]
    day_3: Option<String>,
    #[serde(default)]
    day_4: Option<String>,
    #[serde(default)]
    day_5: Option<String>,
    #[serde(default)]
    day_6: Option<String>,
    #[serde(default)]
    day_7: Option<String>,
    #[serde(default)]
    until: String,
    /// Dates left out, as people write them.
    #[serde(default)]
    skip: String,
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    headcount: String,
    /// `1`: book around the lessons that collide.
    #[serde(default)]
    skip_conflicts: String,
}

impl RequestForm {
    fn days(&self) -> [bool; 7] {
        [
            &self.day_1,
            &self.day_2,
            &self.day_3,
            &self.day_4,
            &self.day_5,
            &self.day_6,
            &self.day_7,
        ]
        .map(Option::is_some)
    }

    fn weekly(&self) -> bool {
        self.repeat == "weekly"
    }

    /// The form's fields, to send again as they were.
    fn hidden(&self) -> Vec<(String, String)> {
        let mut fields: Vec<(String, String)> = [
            ("requester", &self.requester),
            ("date", &self.date),
            ("start", &self.start),
            ("end", &self.end),
            ("repeat", &self.repeat),
            ("until", &self.until),
            ("skip", &self.skip),
            ("purpose", &self.purpose),
            ("headcount", &self.headcount),
        ]
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).clone()))
        .collect();
        for (n, on) in self.days().iter().enumerate() {
            if *on {
                fields.push((format!("day_{}", n + 1), (n + 1).to_string()));
            }
        }
        fields
    }
}

struct OrgChoice {
    value: String,
    label: String,
    selected: bool,
}

struct DayChoice {
    n: u32,
    label: String,
    checked: bool,
}

#[derive(Template)]
#[template(path = "resources_one.html")]
struct ResourcePage {
    layout: Layout,
    id: String,
    name: String,
    facts: Vec<(String, String)>,
    manages: bool,
    week: Week,
    caption: String,
    previous: String,
    next: String,
    this_week: String,
    zone_note: String,
    can_request: bool,
    organizations: Vec<OrgChoice>,
    days: Vec<DayChoice>,
    form: RequestForm,
    problem: Option<Problem>,
    /// The lessons that collide with booked time, as refused.
    conflicts: Vec<String>,
    /// How many more collide than are listed.
    conflicts_more: u32,
    hidden: Vec<(String, String)>,
}

impl ResourcePage {
    fn error(&self, field: &str) -> String {
        self.problem
            .as_ref()
            .and_then(|p| p.about(field))
            .unwrap_or_default()
            .to_owned()
    }

    fn general_error(&self) -> String {
        match &self.problem {
            Some(p) if FIELDS.iter().all(|f| p.about(f).is_none()) => p.message.clone(),
            _ => String::new(),
        }
    }

    fn more(&self) -> String {
        ru().text_with(
            "conflicts-more",
            &[("count", i64::from(self.conflicts_more).into())],
        )
    }

    fn conflicts_explain(&self) -> String {
        let count = self.conflicts.len() as i64 + i64::from(self.conflicts_more);
        ru().text_with("conflicts-explain", &[("count", count.into())])
    }
}

/// `GET /resources/{id}`.
pub(crate) async fn show(
    visitor: Visitor,
    Path(id): Path<String>,
    Query(shown): Query<Shown>,
) -> Response {
    if !visitor.signed_in() {
        return see_other("/calendar");
    }
    let day = series::date(&shown.week);
    page(&visitor, &id, day, RequestForm::default(), None, Vec::new()).await
}

/// `POST /resources/{id}/request`.
pub(crate) async fn request(Path(id): Path<String>, posted: Posted<RequestForm>) -> Response {
    let Posted { visitor, form } = posted;
    let day = series::date(&form.date);
    let resource = match visitor
        .api()
        .booking()
        .get_resource(pb::GetResourceRequest {
            resource_id: id.clone(),
        })
        .await
    {
        Ok(found) => found.into_inner(),
        Err(status) => return failure(&status),
    };
    let (zone, _) = zones(&visitor, &resource);
    let request = match build(&id, &form, zone) {
        Ok(request) => request,
        Err(problem) => return page(&visitor, &id, day, form, Some(problem), Vec::new()).await,
    };
    match visitor.api().booking().request_booking(request).await {
        Ok(made) => {
            let made = made.into_inner();
            let booking = made.booking.map(|b| b.id).unwrap_or_default();
            let skipped: Vec<String> = made
                .skipped
                .iter()
                .take(30)
                .filter_map(|c| c.start.as_ref().map(|s| s.seconds.to_string()))
                .collect();
            see_other(&format!(
                "/bookings/{booking}?made=1&skipped={}",
                skipped.join(",")
            ))
        }
        Err(status) => {
            let details = status.get_error_details();
            match details.error_info() {
                Some(info) if info.reason == "BOOKING_CONFLICT" => {
                    let starts: Vec<DateTime<Utc>> = info
                        .metadata
                        .get("starts")
                        .map(|s| {
                            s.split(',')
                                .filter_map(|t| DateTime::parse_from_rfc3339(t).ok())
                                .map(|t| t.with_timezone(&Utc))
                                .collect()
                        })
                        .unwrap_or_default();
                    let count: usize = info
                        .metadata
                        .get("count")
                        .and_then(|c| c.parse().ok())
                        .unwrap_or(starts.len());
                    // Those not listed are counted, as blanks.
                    let mut listed: Vec<String> = starts.iter().map(|s| s.to_rfc3339()).collect();
                    listed.resize(count.max(listed.len()), String::new());
                    // The week shown is the first colliding lesson's.
                    let day = starts
                        .first()
                        .map(|s| s.with_timezone(&zone).date_naive())
                        .or(day);
                    page(&visitor, &id, day, form, None, listed).await
                }
                _ => {
                    let problem = refusal(&status);
                    page(&visitor, &id, day, form, Some(problem), Vec::new()).await
                }
            }
        }
    }
}

/// The API's request from the form, or the field a person must correct.
fn build(id: &str, form: &RequestForm, zone: Tz) -> Result<pb::RequestBookingRequest, Problem> {
    let problem = |field: &str, message: String| Problem {
        field: Some(field.to_owned()),
        message,
    };
    let date = series::date(&form.date).ok_or_else(|| problem("date", t("request-error-date")))?;
    let start =
        series::time(&form.start).ok_or_else(|| problem("start", t("request-error-time")))?;
    let end = series::time(&form.end).ok_or_else(|| problem("end", t("request-error-time")))?;
    let (first, recurrence) = if form.weekly() {
        let days: Vec<chrono::Weekday> = form
            .days()
            .iter()
            .enumerate()
            .filter(|(_, on)| **on)
            .filter_map(|(n, _)| weekday(n as u32 + 1))
            .collect();
        let until =
            series::date(&form.until).ok_or_else(|| problem("until", t("request-error-until")))?;
        let skipped = series::dates(&form.skip).map_err(|bad| {
            problem(
                "skip",
                ru().text_with("request-error-skip", &[("value", (&bad).into())]),
            )
        })?;
        let series = series::weekly(date, until, &days, &skipped, start, zone)
            .map_err(|wrong| problem(wrong.field, t(wrong.key)))?;
        (
            series.first,
            Some(pb::BookingRecurrence {
                rule: series.rule,
                exdates: series.exdates,
            }),
        )
    } else {
        (date, None)
    };
    let local = |at: NaiveTime| format!("{first}T{}", at.format("%H:%M"));
    Ok(pb::RequestBookingRequest {
        resource_id: id.to_owned(),
        requester: form.requester.trim().to_owned(),
        start: local(start),
        end: local(end),
        recurrence,
        purpose: form.purpose.trim().to_owned(),
        headcount: form.headcount.trim().parse().unwrap_or(0),
        skip_conflicts: form.skip_conflicts == "1",
        ..Default::default()
    })
}

async fn page(
    visitor: &Visitor,
    id: &str,
    day: Option<NaiveDate>,
    form: RequestForm,
    problem: Option<Problem>,
    conflicts: Vec<String>,
) -> Response {
    let api = visitor.api();
    let resource = match api
        .booking()
        .get_resource(pb::GetResourceRequest {
            resource_id: id.to_owned(),
        })
        .await
    {
        Ok(found) => found.into_inner(),
        Err(status) => return failure(&status),
    };
    let (zone, viewer) = zones(visitor, &resource);
    let now = visitor.now;
    let monday = monday_of(day.unwrap_or_else(|| now.with_timezone(&zone).date_naive()));
    let from = instant_in(zone, monday, NaiveTime::MIN);
    let to = instant_in(zone, monday + Duration::days(7), NaiveTime::MIN);
    let busy = match api
        .booking()
        .free_busy(pb::FreeBusyRequest {
            resource_ids: vec![id.to_owned()],
            from: Some(stamp(from)),
            to: Some(stamp(to)),
        })
        .await
    {
        Ok(answer) => answer
            .into_inner()
            .resources
            .into_iter()
            .flat_map(|r| r.busy)
            .filter_map(|b| {
                Some(Busy {
                    start: crate::view::instant(b.start.as_ref())?,
                    end: crate::view::instant(b.end.as_ref())?,
                    why: b.why,
                })
            })
            .collect::<Vec<_>>(),
        Err(status) => return failure(&status),
    };
    let names = match organizations(api).await {
        Ok(orgs) => Names::of(&orgs),
        Err(status) => return failure(&status),
    };
    let grid = week::build(monday, zone, &resource.hours, &busy, now);
    let facts = facts(&resource, &names, zone, now);
    let zone_name = ru().zone(zone, now);
    let caption = ru().text_with(
        "resource-week-caption",
        &[
            ("from", (&ru().date(monday)).into()),
            ("to", (&ru().date(monday + Duration::days(6))).into()),
            ("zone", (&zone_name).into()),
        ],
    );
    let link = |d: NaiveDate| format!("/resources/{id}?week={d}#week");
    let own = visitor.memberships_for(Action::RequestBookings);
    let chosen = if form.requester.is_empty() {
        own.first()
            .map(|m| m.organization_slug.clone())
            .unwrap_or_default()
    } else {
        form.requester.clone()
    };
    let organizations = own
        .iter()
        .map(|m| OrgChoice {
            value: m.organization_slug.clone(),
            label: names.name(&m.organization_id),
            selected: m.organization_slug == chosen || m.organization_id == chosen,
        })
        .collect();
    let checked = form.days();
    let days = (1..=7u32)
        .map(|n| DayChoice {
            n,
            label: ru().weekday(monday + Duration::days(i64::from(n) - 1)),
            checked: checked[n as usize - 1],
        })
        .collect();
    // The lessons refused, read in the resource's zone with the form's end.
    let length = series::time(&form.end)
        .zip(series::time(&form.start))
        .map(|(end, start)| end - start)
        .filter(|d| *d > Duration::zero());
    let listed: Vec<String> = conflicts
        .iter()
        .filter_map(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|s| {
            let s = s.with_timezone(&Utc);
            let ts = stamp(s);
            let end = length.map(|l| stamp(s + l));
            match end {
                Some(end) => super::lesson(Some(&ts), Some(&end), zone, viewer),
                None => super::when(Some(&ts), zone, viewer),
            }
        })
        .collect();
    let conflicts_more = (conflicts.len() - listed.len()) as u32;
    let status = if problem.is_some() || !conflicts.is_empty() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let hidden = form.hidden();
    render_with(
        status,
        &ResourcePage {
            layout: Layout::new(visitor, Section::Resources, resource.name.clone()),
            id: resource.id.clone(),
            name: resource.name.clone(),
            facts,
            manages: visitor.may(Action::ManageResources, &resource.owner_id),
            week: grid,
            caption,
            previous: link(monday - Duration::days(7)),
            next: link(monday + Duration::days(7)),
            this_week: format!("/resources/{id}#week"),
            zone_note: ru().text_with("request-zone-note", &[("zone", (&zone_name).into())]),
            can_request: !own.is_empty(),
            organizations,
            days,
            form,
            problem,
            conflicts: listed,
            conflicts_more,
            hidden,
        },
    )
}

/// What a person needs to know of a resource before asking for it.
fn facts(
    resource: &pb::Resource,
    names: &Names,
    zone: Tz,
    now: DateTime<Utc>,
) -> Vec<(String, String)> {
    let mut facts = vec![
        (t("resource-kind"), named::<pb::ResourceKind>(resource.kind)),
        (t("resource-owner"), names.name(&resource.owner_id)),
        (
            t("resource-capacity"),
            if resource.capacity == 0 {
                t("resources-unlimited")
            } else {
                ru().count("places", i64::from(resource.capacity))
            },
        ),
    ];
    if !resource.features.is_empty() {
        facts.push((t("resource-features"), resource.features.join(", ")));
    }
    facts.push((t("resource-hours"), hours_summary(&resource.hours)));
    facts.push((
        t("resource-approval"),
        named::<pb::ApprovalPolicy>(resource.approval),
    ));
    facts.push((t("resource-access"), named::<pb::Access>(resource.access)));
    if let Some(rules) = &resource.rules {
        let minutes = |n: u32| i64::from(n);
        facts.push((
            t("resource-duration"),
            ru().text_with(
                "resource-duration-value",
                &[
                    ("min", minutes(rules.min_minutes.max(1)).into()),
                    ("max", minutes(rules.max_minutes).into()),
                ],
            ),
        ));
        if rules.buffer_minutes > 0 {
            facts.push((
                t("resource-buffer"),
                ru().text_with(
                    "resource-minutes",
                    &[("count", minutes(rules.buffer_minutes).into())],
                ),
            ));
        }
        if rules.min_notice_minutes > 0 {
            facts.push((
                t("resource-notice"),
                ru().text_with(
                    "resource-minutes",
                    &[("count", minutes(rules.min_notice_minutes).into())],
                ),
            ));
        }
    }
    for blackout in resource.blackouts.iter().take(5) {
        let reason = if blackout.reason.is_empty() {
            String::new()
        } else {
            format!(": {}", blackout.reason)
        };
        let day = |raw: &str| {
            raw.get(..10)
                .and_then(series::date)
                .map(|d| ru().date(d))
                .unwrap_or_default()
        };
        facts.push((
            t("resource-blackout"),
            format!("{} – {}{reason}", day(&blackout.start), day(&blackout.end)),
        ));
    }
    facts.push((t("resource-zone"), ru().zone(zone, now)));
    facts
}
