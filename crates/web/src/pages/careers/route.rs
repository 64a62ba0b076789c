//! `/routes/{id}`: a cohort's route: its items with what became of each on
//! the network, its calendar and feed; those who manage the school's
//! routes enrol it, mark each item's attendance and result, state the
//! leavers' outcome, or cancel it.

use askama::Template;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use edufed_domain::policy::Action;
use edufed_i18n::ru;
use edufed_proto::v1 as pb;

use super::school_year;
use crate::errors::{Problem, above, beside, russian};
use crate::page::{Layout, Section, failure, render_with, see_other, t};
use crate::view::{Choice, DEFAULT_ZONE, Names, instant, named, organizations, zone_of};
use crate::visitor::{Posted, Visitor};

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct Shown {
    #[serde(default)]
    done: String,
}

struct ItemLine {
    number: u32,
    title: String,
    by: String,
    status: String,
    class: &'static str,
    attended: String,
    result: String,
    href: String,
}

struct When {
    when: String,
    number: u32,
    title: String,
    by: String,
}

#[derive(Template)]
#[template(path = "route.html")]
struct RoutePage {
    layout: Layout,
    id: String,
    facts: Vec<(String, String)>,
    figures: String,
    outcome: Vec<String>,
    items: Vec<ItemLine>,
    calendar: Vec<When>,
    feed: String,
    active: bool,
    manages: bool,
    followable: Vec<Choice>,
    problem: Option<Problem>,
}

impl RoutePage {
    fn error(&self, field: &str) -> String {
        beside(self.problem.as_ref(), field)
    }

    fn general_error(&self) -> String {
        above(
            self.problem.as_ref(),
            &["item", "attended", "result", "outcome"],
        )
    }
}

fn status_class(status: i32) -> &'static str {
    match pb::RouteItemStatus::try_from(status) {
        Ok(pb::RouteItemStatus::Registered | pb::RouteItemStatus::Attended) => "ok",
        Ok(
            pb::RouteItemStatus::Planned
            | pb::RouteItemStatus::Waitlisted
            | pb::RouteItemStatus::Requested,
        ) => "waiting",
        Ok(pb::RouteItemStatus::Refused | pb::RouteItemStatus::Missed) => "bad",
        _ => "gone",
    }
}

/// `GET /routes/{id}`.
pub(crate) async fn show(
    visitor: Visitor,
    Path(id): Path<String>,
    Query(shown): Query<Shown>,
) -> Response {
    if !visitor.signed_in() {
        return see_other("/calendar");
    }
    let notice = match shown.done.as_str() {
        "enrolled" => Some(t("routes-enrolled")),
        "followed" => Some(t("routes-followed")),
        "concluded" => Some(t("routes-concluded")),
        "cancelled" => Some(t("routes-cancelled")),
        _ => None,
    };
    page(&visitor, &id, notice, None).await
}

async fn page(
    visitor: &Visitor,
    id: &str,
    notice: Option<String>,
    problem: Option<Problem>,
) -> Response {
    let api = visitor.api();
    let route = match api
        .routes()
        .get_route(pb::GetRouteRequest { id: id.to_owned() })
        .await
    {
        Ok(found) => found.into_inner(),
        Err(status) => return failure(&status),
    };
    let names = match organizations(api).await {
        Ok(orgs) => Names::of(&orgs),
        Err(status) => return failure(&status),
    };
    let calendar = match api
        .routes()
        .route_calendar(pb::RouteCalendarRequest {
            id: id.to_owned(),
            ..Default::default()
        })
        .await
    {
        Ok(cal) => cal.into_inner().occurrences,
        Err(status) => return failure(&status),
    };
    let feed = match api
        .calendar()
        .get_feed_urls(pb::GetFeedUrlsRequest {
            route_id: id.to_owned(),
            ..Default::default()
        })
        .await
    {
        Ok(urls) => urls.into_inner().private_path,
        Err(_) => String::new(),
    };
    let cohort = route.cohort.clone().unwrap_or_default();
    let f = route.figures.unwrap_or_default();
    let facts = vec![
        (t("routes-school"), names.name(&route.school_id)),
        (t("routes-cohort"), cohort.code.clone()),
        (t("routes-headcount"), cohort.headcount.to_string()),
        (t("routes-teacher"), cohort.teacher.clone()),
        (t("routes-profile"), route.profile.clone()),
        (t("routes-year"), school_year(route.school_year)),
        (t("routes-state"), named::<pb::RouteState>(route.state)),
    ];
    let figures = ru().text_with(
        "routes-figures",
        &[
            ("attended", i64::from(f.items_attended).into()),
            ("chosen", i64::from(f.items_chosen).into()),
            ("hours_attended", i64::from(f.hours_attended).into()),
            ("hours_chosen", i64::from(f.hours_chosen).into()),
            (
                "trials",
                format!("{:.1}", f.trials_per_pupil)
                    .replace('.', ",")
                    .as_str()
                    .into(),
            ),
        ],
    );
    let mut outcome = Vec::new();
    if let Some(o) = &route.outcome {
        for p in &o.profiles {
            outcome.push(ru().text_with(
                "routes-profiles-chosen",
                &[
                    ("profile", p.profile.as_str().into()),
                    ("count", i64::from(p.count).into()),
                ],
            ));
        }
        if let (Some(leavers), Some(continuing)) = (o.leavers, o.continuing) {
            outcome.push(ru().text_with(
                "routes-leavers-line",
                &[
                    ("leavers", i64::from(leavers).into()),
                    ("continuing", i64::from(continuing).into()),
                ],
            ));
        }
    }
    let items: Vec<ItemLine> = route
        .items
        .iter()
        .map(|i| {
            let x = i.item.clone().unwrap_or_default();
            let activity = x
                .offering
                .as_ref()
                .map(|o| o.activity_id.clone())
                .unwrap_or_default();
            ItemLine {
                number: x.number,
                title: x.title.clone(),
                by: names.name(&x.organization_id),
                status: named::<pb::RouteItemStatus>(i.status),
                class: status_class(i.status),
                attended: i.attended.map(|n| n.to_string()).unwrap_or_default(),
                result: if i.refusal.is_empty() {
                    i.result.clone()
                } else {
                    ru().text_with("routes-refusal", &[("why", i.refusal.as_str().into())])
                },
                href: if activity.is_empty() {
                    String::new()
                } else {
                    format!("/activities/{activity}")
                },
            }
        })
        .collect();
    let followable = route
        .items
        .iter()
        .filter(|i| {
            !matches!(
                pb::RouteItemStatus::try_from(i.status),
                Ok(pb::RouteItemStatus::NotChosen | pb::RouteItemStatus::Withdrawn)
            )
        })
        .filter_map(|i| i.item.as_ref())
        .map(|x| Choice {
            value: x.number.to_string(),
            label: format!("{}. {}", x.number, x.title),
            selected: false,
        })
        .collect();
    let calendar = calendar
        .iter()
        .map(|o| {
            let zone = zone_of(&o.time_zone, DEFAULT_ZONE);
            When {
                when: match (instant(o.start.as_ref()), instant(o.end.as_ref())) {
                    (Some(start), Some(end)) if o.all_day => {
                        // The end is the day after the last.
                        let last = end - chrono::Duration::days(1);
                        let (a, b) = (
                            start.with_timezone(&zone).date_naive(),
                            last.with_timezone(&zone).date_naive(),
                        );
                        if a >= b {
                            ru().date(a)
                        } else {
                            format!("{} — {}", ru().date(a), ru().date(b))
                        }
                    }
                    (Some(start), _) => ru().instant(start, zone, visitor.zone),
                    _ => String::new(),
                },
                number: o.item,
                title: o.title.clone(),
                by: names.name(&o.organization_id),
            }
        })
        .collect();
    let status = if problem.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render_with(
        status,
        &RoutePage {
            layout: Layout::new(
                visitor,
                Section::Careers,
                format!("{} · {}", route.title, cohort.code),
            )
            .with_notice(notice),
            id: route.id.clone(),
            facts,
            figures,
            outcome,
            items,
            calendar,
            feed,
            active: route.state == pb::RouteState::Active as i32,
            manages: visitor.may(Action::ManageRoutes, &route.school_id),
            followable,
            problem,
        },
    )
}

async fn answered<T>(
    visitor: &Visitor,
    id: &str,
    done: &str,
    result: Result<T, tonic::Status>,
) -> Response {
    match result {
        Ok(_) => see_other(&format!("/routes/{id}?done={done}")),
        Err(status) => page(visitor, id, None, Some(russian(&status))).await,
    }
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct Empty {}

/// `POST /routes/{id}/enrol`.
pub(crate) async fn enrol(Path(id): Path<String>, posted: Posted<Empty>) -> Response {
    let visitor = posted.visitor;
    let result = visitor
        .api()
        .routes()
        .enrol_route(pb::EnrolRouteRequest { id: id.clone() })
        .await;
    answered(&visitor, &id, "enrolled", result).await
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct FollowForm {
    #[serde(default)]
    item: String,
    #[serde(default)]
    attended: String,
    #[serde(default)]
    result: String,
}

/// `POST /routes/{id}/follow`.
pub(crate) async fn follow(Path(id): Path<String>, posted: Posted<FollowForm>) -> Response {
    let Posted { visitor, form } = posted;
    let result = visitor
        .api()
        .routes()
        .follow_route_item(pb::FollowRouteItemRequest {
            id: id.clone(),
            expected_version: 0,
            item: form.item.trim().parse().unwrap_or(0),
            attended: Some(form.attended.trim().parse().unwrap_or(0)),
            result: form.result,
        })
        .await;
    answered(&visitor, &id, "followed", result).await
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct OutcomeForm {
    #[serde(default)]
    profiles: String,
    #[serde(default)]
    leavers: String,
    #[serde(default)]
    continuing: String,
}

/// `POST /routes/{id}/conclude`: profiles one per line, «профиль = число».
pub(crate) async fn conclude(Path(id): Path<String>, posted: Posted<OutcomeForm>) -> Response {
    let Posted { visitor, form } = posted;
    let profiles = form
        .profiles
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|line| {
            let (profile, count) = line.rsplit_once('=').unwrap_or((line, ""));
            pb::ProfileCount {
                profile: profile.trim().to_owned(),
                count: count.trim().parse().unwrap_or(0),
            }
        })
        .collect();
    let count = |s: &str| s.trim().parse::<u32>().ok();
    let result = visitor
        .api()
        .routes()
        .conclude_route(pb::ConcludeRouteRequest {
            id: id.clone(),
            expected_version: 0,
            outcome: Some(pb::RouteOutcome {
                profiles,
                leavers: count(&form.leavers),
                continuing: count(&form.continuing),
            }),
        })
        .await;
    answered(&visitor, &id, "concluded", result).await
}

/// `POST /routes/{id}/cancel`.
pub(crate) async fn cancel(Path(id): Path<String>, posted: Posted<Empty>) -> Response {
    let visitor = posted.visitor;
    let result = visitor
        .api()
        .routes()
        .cancel_route(pb::CancelRouteRequest {
            id: id.clone(),
            expected_version: 0,
        })
        .await;
    answered(&visitor, &id, "cancelled", result).await
}
