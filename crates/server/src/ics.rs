//! iCalendar feeds over plain HTTP, for calendar apps:
//!
//! - `/ics/network.ics?grade=9&direction=…&kind=…&subject=…&format=…&publisher=…`
//! - `/ics/organizations/{slug or id}.ics` (same filters)
//! - `/ics/activities/{id}.ics`
//! - `/ics/resources/{id}.ics`: a resource's busy time (details through the
//!   private URL, for its owner and the requesters)
//!
//! These show public activities. The same paths under
//! `/ics/private/{key}/…` show what the token behind the key may see; the
//! key comes from `Calendar.GetFeedUrls` (`edufed ics url`) and stops
//! working when the token is revoked or expires.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use edufed_domain::FieldError;
use edufed_domain::calendar::{ActivityKind, Direction, FeedFilter, Format, Viewer, ics};
use edufed_domain::directory::OrgRef;
use edufed_domain::ids::ActivityId;
use edufed_domain::text;
use edufed_store::Store;

/// The feed routes.
pub(crate) fn routes(store: Store) -> axum::Router {
    axum::Router::new()
        .route("/ics/network.ics", get(network))
        .route("/ics/organizations/{file}", get(organization))
        .route("/ics/activities/{file}", get(activity))
        .route("/ics/resources/{file}", get(resource))
        .route("/ics/private/{key}/resources/{file}", get(private_resource))
        .route("/ics/private/{key}/network.ics", get(private_network))
        .route(
            "/ics/private/{key}/organizations/{file}",
            get(private_organization),
        )
        .route(
            "/ics/private/{key}/activities/{file}",
            get(private_activity),
        )
        .with_state(store)
}

enum Scope {
    Network,
    Organization(String),
    Activity(String),
}

type Params = Query<HashMap<String, String>>;

async fn network(State(store): State<Store>, Query(params): Params) -> Response {
    feed(&store, None, Scope::Network, &params).await
}

async fn organization(
    State(store): State<Store>,
    Path(file): Path<String>,
    Query(params): Params,
) -> Response {
    feed(&store, None, Scope::Organization(file), &params).await
}

async fn activity(
    State(store): State<Store>,
    Path(file): Path<String>,
    Query(params): Params,
) -> Response {
    feed(&store, None, Scope::Activity(file), &params).await
}

async fn private_network(
    State(store): State<Store>,
    Path(key): Path<String>,
    Query(params): Params,
) -> Response {
    feed(&store, Some(key), Scope::Network, &params).await
}

async fn private_organization(
    State(store): State<Store>,
    Path((key, file)): Path<(String, String)>,
    Query(params): Params,
) -> Response {
    feed(&store, Some(key), Scope::Organization(file), &params).await
}

async fn private_activity(
    State(store): State<Store>,
    Path((key, file)): Path<(String, String)>,
    Query(params): Params,
) -> Response {
    feed(&store, Some(key), Scope::Activity(file), &params).await
}

async fn resource(State(store): State<Store>, Path(file): Path<String>) -> Response {
    resource_feed(&store, None, &file).await
}

async fn private_resource(
    State(store): State<Store>,
    Path((key, file)): Path<(String, String)>,
) -> Response {
    resource_feed(&store, Some(key), &file).await
}

/// A resource's busy time over the past month and the coming year: plain
/// "busy" for everyone; what and for whom, for the owner and the requesters
/// (through a private URL). Resources not open to the whole network are
/// shown only to those who may see them.
async fn resource_feed(store: &Store, key: Option<String>, file: &str) -> Response {
    let caller = match key {
        None => None,
        Some(key) => match store.authenticate_feed(&key).await {
            Ok(principal) => Some(principal),
            Err(_) => return problem(StatusCode::NOT_FOUND, "no such feed"),
        },
    };
    let raw = file.strip_suffix(".ics").unwrap_or(file);
    let Ok(id) = edufed_domain::ids::ResourceId::parse("resource", raw) else {
        return problem(StatusCode::NOT_FOUND, "no such resource");
    };
    let Ok(resource) = store.get_resource(&id).await else {
        return problem(StatusCode::NOT_FOUND, "no such resource");
    };
    let member_of = |org: &edufed_domain::ids::OrgId| {
        caller
            .as_ref()
            .is_some_and(|p| p.operator || p.memberships.iter().any(|(o, _)| o == org))
    };
    let visible = resource.details.access == edufed_domain::booking::Access::Network
        || member_of(&resource.owner);
    if !visible {
        return problem(StatusCode::NOT_FOUND, "no such resource");
    }
    let now = edufed_domain::time::now();
    let listed = match store
        .list_bookings(
            Some(&resource.id),
            None,
            now - chrono::Duration::days(31),
            now + chrono::Duration::days(366),
            true,
        )
        .await
    {
        Ok(listed) => listed,
        Err(error) => {
            tracing::error!(%error, "resource feed query failed");
            return problem(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
        }
    };
    let busy: Vec<_> = listed
        .iter()
        .filter(|l| {
            l.occurrence.state.blocks()
                && l.occurrence.hold_expires_at.is_none_or(|until| until > now)
        })
        .map(|l| {
            let details = (member_of(&resource.owner) || member_of(&l.booking.requester_org))
                .then(|| format!("{} ({} people)", l.booking.purpose, l.booking.headcount));
            ics::BusyEntry {
                uid: format!("{}-{}", l.booking.id, l.occurrence.start.timestamp()),
                start: l.occurrence.start,
                end: l.occurrence.end,
                details,
            }
        })
        .collect();
    (
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (header::CACHE_CONTROL, "private, max-age=300"),
        ],
        ics::render_busy(&resource.details.name, &busy, now),
    )
        .into_response()
}

fn problem(status: StatusCode, message: impl Into<String>) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("{}\n", message.into()),
    )
        .into_response()
}

fn filter_from(params: &HashMap<String, String>) -> Result<FeedFilter, FieldError> {
    let param = |name: &str| params.get(name).map(|v| v.trim()).filter(|v| !v.is_empty());
    Ok(FeedFilter {
        kind: param("kind")
            .map(|v| ActivityKind::parse("kind", v))
            .transpose()?,
        direction: param("direction")
            .map(|v| Direction::parse("direction", v))
            .transpose()?,
        format: param("format")
            .map(|v| Format::parse("format", v))
            .transpose()?,
        grade: param("grade")
            .map(|v| match v.parse::<u8>() {
                Ok(g @ 1..=11) => Ok(g),
                _ => Err(FieldError::new("grade", "grades are 1 to 11")),
            })
            .transpose()?,
        subject: param("subject")
            .map(|v| text::line("subject", v, 60).map(|s| text::fold(&s)))
            .transpose()?,
        ..FeedFilter::default()
    })
}

async fn feed(
    store: &Store,
    key: Option<String>,
    scope: Scope,
    params: &HashMap<String, String>,
) -> Response {
    let viewer = match key {
        None => Viewer::Anonymous,
        Some(key) => match store.authenticate_feed(&key).await {
            Ok(principal) => Viewer::of(Some(&principal)),
            // Revoked, expired or unknown: the same answer, to give nothing away.
            Err(_) => return problem(StatusCode::NOT_FOUND, "no such feed"),
        },
    };
    let mut filter = match filter_from(params) {
        Ok(filter) => filter,
        Err(e) => return problem(StatusCode::BAD_REQUEST, e.to_string()),
    };
    if let Some(publisher) = params.get("publisher").filter(|p| !p.trim().is_empty()) {
        let Ok(reference) = OrgRef::parse("publisher", publisher) else {
            return problem(
                StatusCode::BAD_REQUEST,
                "invalid publisher: not an organization id or slug",
            );
        };
        match store.get_organization(&reference).await {
            Ok(org) => filter.publisher = Some(org.id),
            Err(_) => return problem(StatusCode::NOT_FOUND, "no such publisher"),
        }
    }
    let name = match &scope {
        Scope::Network => "edufed".to_owned(),
        Scope::Organization(file) => {
            let raw = file.strip_suffix(".ics").unwrap_or(file);
            let Ok(reference) = OrgRef::parse("organization", raw) else {
                return problem(StatusCode::NOT_FOUND, "no such organization");
            };
            match store.get_organization(&reference).await {
                Ok(org) => {
                    filter.publisher = Some(org.id);
                    org.short_name
                }
                Err(_) => return problem(StatusCode::NOT_FOUND, "no such organization"),
            }
        }
        Scope::Activity(file) => {
            let raw = file.strip_suffix(".ics").unwrap_or(file);
            match ActivityId::parse("activity", raw) {
                Ok(id) => filter.activity = Some(id),
                Err(_) => return problem(StatusCode::NOT_FOUND, "no such activity"),
            }
            "edufed".to_owned()
        }
    };
    let activities = match store.feed_activities(&filter, &viewer).await {
        Ok(activities) => activities,
        Err(error) => {
            tracing::error!(%error, "feed query failed");
            return problem(StatusCode::INTERNAL_SERVER_ERROR, "internal error");
        }
    };
    let name = match (&scope, activities.first()) {
        (Scope::Activity(_), Some(entry)) => entry.activity.details.title.clone(),
        (Scope::Activity(_), None) => return problem(StatusCode::NOT_FOUND, "no such activity"),
        _ => name,
    };
    let body = ics::render(&name, &activities, edufed_domain::time::now());
    (
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (header::CACHE_CONTROL, "private, max-age=300"),
        ],
        body,
    )
        .into_response()
}
