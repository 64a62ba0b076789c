//! The web console every node serves on its HTTP port, for the people of
//! the network: pages in Russian, rendered on the server (askama templates,
//! checked when the crate compiles, HTML-escaped by default), that work
//! without JavaScript.
//!
//! The console has no path to the store and no policy of its own: each
//! page calls the node's gRPC services in process, as the signed-in person
//! (see [`rpc`]), so it can do exactly what that person may do through the
//! API, and shows the API's refusals beside the fields they name, in
//! Russian. People sign in through the region's identity provider (OpenID
//! Connect) or with a one-time link; either starts a server-side session; its secret lives in an HttpOnly cookie, every form carries a
//! token derived from it, and every page sends a strict
//! Content-Security-Policy.

mod errors;
mod page;
mod pages;
mod rpc;
mod view;
mod visitor;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse as _;
use axum::routing::get;

pub use rpc::Rpc;

pub(crate) use page::{t, t_with};

/// How a node serves its console.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// Served over TLS: the session cookie is `Secure` and `__Host-`.
    pub secure_cookies: bool,
}

/// The console of one node.
#[derive(Clone)]
pub struct Console {
    rpc: Rpc,
    settings: Settings,
    /// The node's clock: what "today" is on a page.
    clock: edufed_domain::time::Clock,
}

impl Console {
    /// The console calling the node's services through `rpc`, reading
    /// time from the node's `clock`.
    pub fn new(rpc: Rpc, settings: Settings, clock: edufed_domain::time::Clock) -> Self {
        Self {
            rpc,
            settings,
            clock,
        }
    }

    /// The console's routes: `/` and below, except the API's and the
    /// plain HTTP paths the server keeps.
    pub fn routes(self) -> Router {
        Router::new()
            .merge(pages::routes())
            .merge(pages::account::routes())
            .merge(pages::calendar::routes())
            .merge(pages::activity::routes())
            .merge(pages::reports::routes())
            .merge(pages::audit::routes())
            .merge(pages::node::routes())
            .merge(pages::publish::routes())
            .merge(pages::booking::routes())
            .merge(pages::agreements::routes())
            .merge(pages::mentoring::routes())
            .merge(pages::careers::routes())
            .merge(pages::notifications::routes())
            .merge(pages::oidc::routes())
            .route("/static/console.css", get(stylesheet))
            .route("/static/console.js", get(script))
            .layer(axum::middleware::from_fn(page::protect))
            .with_state(self)
    }
}

async fn stylesheet() -> axum::response::Response {
    asset(
        "text/css; charset=utf-8",
        include_str!("../static/console.css"),
    )
}

async fn script() -> axum::response::Response {
    asset(
        "text/javascript; charset=utf-8",
        include_str!("../static/console.js"),
    )
}

fn asset(content_type: &'static str, body: &'static str) -> axum::response::Response {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=3600"),
            ),
        ],
        body,
    )
        .into_response()
}
