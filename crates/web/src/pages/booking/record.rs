//! `/bookings/{id}`: one booking with its lessons and where each stands;
//! the resource's owner approves or rejects them with a comment, the
//! requester cancels one or all.

use askama::Template;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use edufed_domain::policy::Action;
use edufed_i18n::ru;
use edufed_proto::v1 as pb;

use super::{lesson, note_text, refusal, state_name, states_summary, zones};
use crate::errors::Problem;
use crate::page::{Layout, Section, failure, render_with, see_other, t};
use crate::view::{Names, instant, organizations};
use crate::visitor::{Posted, Visitor};

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct Shown {
    /// Just requested: its copy may still be on its way here.
    #[serde(default)]
    made: Option<String>,
    /// Starts (Unix seconds) left out as they collided.
    #[serde(default)]
    skipped: String,
    /// What was just done: `approved`, `rejected`, `cancelled`.
    #[serde(default)]
    done: String,
}

/// A decision or a cancellation as posted.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct Decision {
    /// One lesson's start (Unix seconds); all when empty.
    #[serde(default)]
    occurrence: String,
    #[serde(default)]
    comment: String,
    /// Where to go back to: `inbox` or the booking's page.
    #[serde(default)]
    back: String,
}

struct Lesson {
    start: String,
    when: String,
    state: String,
    class: &'static str,
    note: String,
    pending: bool,
    active: bool,
}

#[derive(Template)]
#[template(path = "booking.html")]
struct BookingPage {
    layout: Layout,
    id: String,
    resource_id: String,
    resource: String,
    facts: Vec<(String, String)>,
    summary: String,
    lessons: Vec<Lesson>,
    decides: bool,
    cancels: bool,
    pending: usize,
    active: usize,
    problem: Option<Problem>,
}

#[derive(Template)]
#[template(path = "booking_on_its_way.html")]
struct OnItsWay {
    layout: Layout,
    id: String,
}

/// `GET /bookings/{id}`.
pub(crate) async fn show(
    visitor: Visitor,
    Path(id): Path<String>,
    Query(shown): Query<Shown>,
) -> Response {
    if !visitor.signed_in() {
        return see_other("/calendar");
    }
    let notice = notice(&visitor, &shown);
    // A booking of another node's resource is read through its copy here,
    // which follows the request within moments.
    let tries = if shown.made.is_some() { 25 } else { 1 };
    let mut attempt = 0;
    let found = loop {
        attempt += 1;
        match fetch(&visitor, &id).await {
            Err(status) if status.code() == tonic::Code::NotFound && attempt < tries => {
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
            other => break other,
        }
    };
    match found {
        Ok(booking) => page(&visitor, booking, notice, None).await,
        Err(status) if status.code() == tonic::Code::NotFound && tries > 1 => {
            let layout = Layout::new(&visitor, Section::Resources, t("booking-heading"));
            render_with(StatusCode::OK, &OnItsWay { layout, id })
        }
        Err(status) => failure(&status),
    }
}

async fn fetch(visitor: &Visitor, id: &str) -> Result<pb::BookingRecord, tonic::Status> {
    visitor
        .api()
        .booking()
        .get_booking(pb::GetBookingRequest {
            booking_id: id.to_owned(),
        })
        .await
        .map(tonic::Response::into_inner)
}

/// The line at the top after a request or a decision.
fn notice(visitor: &Visitor, shown: &Shown) -> Option<String> {
    let key = match shown.done.as_str() {
        "approved" => "booking-approved",
        "rejected" => "booking-rejected",
        "cancelled" => "booking-cancelled",
        _ if shown.made.is_some() => "booking-made",
        _ => return None,
    };
    let skipped: Vec<String> = shown
        .skipped
        .split(',')
        .filter_map(|s| s.trim().parse::<i64>().ok())
        .filter_map(|s| chrono::DateTime::from_timestamp(s, 0))
        .map(|at| ru().instant(at, visitor.zone.unwrap_or(crate::view::DEFAULT_ZONE), None))
        .collect();
    if key == "booking-made" && !skipped.is_empty() {
        let dates = skipped.join("; ");
        return Some(ru().text_with("booking-made-skipped", &[("dates", (&dates).into())]));
    }
    Some(t(key))
}

async fn page(
    visitor: &Visitor,
    booking: pb::BookingRecord,
    notice: Option<String>,
    problem: Option<Problem>,
) -> Response {
    let api = visitor.api();
    let resource = match api
        .booking()
        .get_resource(pb::GetResourceRequest {
            resource_id: booking.resource_id.clone(),
        })
        .await
    {
        Ok(found) => found.into_inner(),
        Err(status) => return failure(&status),
    };
    let names = match organizations(api).await {
        Ok(orgs) => Names::of(&orgs),
        Err(status) => return failure(&status),
    };
    let (zone, viewer) = zones(visitor, &resource);
    let now = visitor.now;
    let lessons: Vec<Lesson> = booking
        .occurrences
        .iter()
        .map(|o| {
            let state = o.state();
            let upcoming = instant(o.end.as_ref()).is_some_and(|end| end > now);
            Lesson {
                start: o
                    .start
                    .as_ref()
                    .map(|s| s.seconds.to_string())
                    .unwrap_or_default(),
                when: lesson(o.start.as_ref(), o.end.as_ref(), zone, viewer),
                state: state_name(o.state),
                class: state_class(state),
                note: note_text(&o.note),
                pending: matches!(
                    state,
                    pb::OccurrenceState::Pending | pb::OccurrenceState::Held
                ),
                active: upcoming
                    && matches!(
                        state,
                        pb::OccurrenceState::Pending
                            | pb::OccurrenceState::Held
                            | pb::OccurrenceState::Confirmed
                    ),
            }
        })
        .collect();
    let facts = vec![
        (t("booking-resource"), resource.name.clone()),
        (t("booking-requester"), names.name(&booking.requester_id)),
        (t("booking-purpose"), booking.purpose.clone()),
        (
            t("booking-headcount"),
            ru().count("pupils", i64::from(booking.headcount)),
        ),
    ];
    let decides = visitor.may(Action::ManageResources, &resource.owner_id);
    let cancels = decides || visitor.may(Action::RequestBookings, &booking.requester_id);
    let title = ru().text_with("booking-title", &[("resource", (&resource.name).into())]);
    let status = if problem.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render_with(
        status,
        &BookingPage {
            layout: Layout::new(visitor, Section::Resources, title).with_notice(notice),
            id: booking.id.clone(),
            resource_id: resource.id.clone(),
            resource: resource.name.clone(),
            facts,
            summary: states_summary(booking.occurrences.iter().map(|o| o.state)),
            pending: lessons.iter().filter(|l| l.pending).count(),
            active: lessons.iter().filter(|l| l.active).count(),
            lessons,
            decides,
            cancels,
            problem,
        },
    )
}

/// A state's class, for its colour.
pub(super) fn state_class(state: pb::OccurrenceState) -> &'static str {
    match state {
        pb::OccurrenceState::Confirmed => "ok",
        pb::OccurrenceState::Pending | pb::OccurrenceState::Held => "waiting",
        _ => "gone",
    }
}

fn occurrence(raw: &str) -> Option<prost_types::Timestamp> {
    raw.trim()
        .parse::<i64>()
        .ok()
        .map(|seconds| prost_types::Timestamp { seconds, nanos: 0 })
}

/// Where a decision goes back to.
fn back(id: &str, form: &Decision, done: &str) -> Response {
    if form.back == "inbox" {
        see_other(&format!("/bookings?done={done}"))
    } else {
        see_other(&format!("/bookings/{id}?done={done}"))
    }
}

/// The booking's page again with the API's refusal.
async fn refused(visitor: &Visitor, id: &str, status: &tonic::Status) -> Response {
    let problem = refusal(status);
    match fetch(visitor, id).await {
        Ok(booking) => page(visitor, booking, None, Some(problem)).await,
        Err(_) => failure(status),
    }
}

/// `POST /bookings/{id}/approve`.
pub(crate) async fn approve(Path(id): Path<String>, posted: Posted<Decision>) -> Response {
    decide(id, posted, true).await
}

/// `POST /bookings/{id}/reject`.
pub(crate) async fn reject(Path(id): Path<String>, posted: Posted<Decision>) -> Response {
    decide(id, posted, false).await
}

async fn decide(id: String, posted: Posted<Decision>, approve: bool) -> Response {
    let Posted { visitor, form } = posted;
    let request = pb::DecideBookingRequest {
        booking_id: id.clone(),
        occurrence_start: occurrence(&form.occurrence),
        comment: form.comment.trim().to_owned(),
    };
    let mut client = visitor.api().booking();
    let decided = if approve {
        client.approve_booking(request).await
    } else {
        client.reject_booking(request).await
    };
    match decided {
        Ok(_) => back(&id, &form, if approve { "approved" } else { "rejected" }),
        Err(status) => refused(&visitor, &id, &status).await,
    }
}

/// `POST /bookings/{id}/cancel`: one lesson, or every one.
pub(crate) async fn cancel(Path(id): Path<String>, posted: Posted<Decision>) -> Response {
    let Posted { visitor, form } = posted;
    let at = occurrence(&form.occurrence);
    let scope = if at.is_some() {
        pb::CancelScope::One
    } else {
        pb::CancelScope::All
    };
    let cancelled = visitor
        .api()
        .booking()
        .cancel_booking(pb::CancelBookingRequest {
            booking_id: id.clone(),
            scope: scope.into(),
            occurrence_start: at,
            comment: form.comment.trim().to_owned(),
        })
        .await;
    match cancelled {
        Ok(_) => back(&id, &form, "cancelled"),
        Err(status) => refused(&visitor, &id, &status).await,
    }
}
