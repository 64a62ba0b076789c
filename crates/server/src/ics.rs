//! iCalendar feeds over plain HTTP, for calendar apps:
//!
//! - `/ics/network.ics?grade=9&direction=…&kind=…&subject=…&format=…&publisher=…`
//! - `/ics/organizations/{slug or id}.ics` (same filters)
//! - `/ics/activities/{id}.ics`
//! - `/ics/resources/{id}.ics`: a resource's busy time (details through the
//!   private URL, for its owner and the requesters)
//! - `/ics/private/{key}/routes/{id}.ics`: a learning route's items over its
//!   school year, for those who see the school's routes (private only)
//!
//! These show public activities. The same paths under
//! `/ics/private/{key}/…` show what the token behind the key may see; the
//! key comes from `Calendar.GetFeedUrls` (`edufed ics url`) and stops
//! working when the token is revoked or expires. What a feed shows is
//! decided by `edufed_api::feeds`; this module maps paths and answers.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use edufed_api::feeds::{Feed, Feeds, Scope};
use edufed_api::status::ApiError;

/// The public and private feed paths listed above.
pub(crate) fn routes(feeds: Feeds) -> axum::Router {
    axum::Router::new()
        .route("/ics/network.ics", get(network))
        .route("/ics/organizations/{file}", get(organization))
        .route("/ics/activities/{file}", get(activity))
        .route("/ics/resources/{file}", get(resource))
        .route("/ics/private/{key}/resources/{file}", get(private_resource))
        .route("/ics/private/{key}/routes/{file}", get(private_route))
        .route("/ics/private/{key}/network.ics", get(private_network))
        .route(
            "/ics/private/{key}/organizations/{file}",
            get(private_organization),
        )
        .route(
            "/ics/private/{key}/activities/{file}",
            get(private_activity),
        )
        .with_state(feeds)
}

type Params = Query<HashMap<String, String>>;

async fn network(State(feeds): State<Feeds>, Query(params): Params) -> Response {
    answer(feeds.activities(None, &Scope::Network, &params).await)
}

async fn organization(
    State(feeds): State<Feeds>,
    Path(file): Path<String>,
    Query(params): Params,
) -> Response {
    let scope = Scope::Organization(file);
    answer(feeds.activities(None, &scope, &params).await)
}

async fn activity(
    State(feeds): State<Feeds>,
    Path(file): Path<String>,
    Query(params): Params,
) -> Response {
    let scope = Scope::Activity(file);
    answer(feeds.activities(None, &scope, &params).await)
}

async fn private_network(
    State(feeds): State<Feeds>,
    Path(key): Path<String>,
    Query(params): Params,
) -> Response {
    answer(feeds.activities(Some(&key), &Scope::Network, &params).await)
}

async fn private_organization(
    State(feeds): State<Feeds>,
    Path((key, file)): Path<(String, String)>,
    Query(params): Params,
) -> Response {
    let scope = Scope::Organization(file);
    answer(feeds.activities(Some(&key), &scope, &params).await)
}

async fn private_activity(
    State(feeds): State<Feeds>,
    Path((key, file)): Path<(String, String)>,
    Query(params): Params,
) -> Response {
    let scope = Scope::Activity(file);
    answer(feeds.activities(Some(&key), &scope, &params).await)
}

async fn resource(State(feeds): State<Feeds>, Path(file): Path<String>) -> Response {
    answer(feeds.resource(None, &file).await)
}

async fn private_resource(
    State(feeds): State<Feeds>,
    Path((key, file)): Path<(String, String)>,
) -> Response {
    answer(feeds.resource(Some(&key), &file).await)
}

async fn private_route(
    State(feeds): State<Feeds>,
    Path((key, file)): Path<(String, String)>,
) -> Response {
    answer(feeds.route(&key, &file).await)
}

fn answer(feed: Result<Feed, ApiError>) -> Response {
    match feed {
        Ok(feed) => (
            [
                (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
                (header::CACHE_CONTROL, "private, max-age=300"),
            ],
            feed.body,
        )
            .into_response(),
        Err(error) => {
            let status = error.into_status();
            crate::reports::plain(crate::reports::http_code(status.code()), status.message())
        }
    }
}
