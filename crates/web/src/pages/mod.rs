//! The console's pages, one module per part of the work.

pub(crate) mod account;
pub(crate) mod activity;
pub(crate) mod agreements;
pub(crate) mod audit;
pub(crate) mod booking;
pub(crate) mod calendar;
pub(crate) mod careers;
pub(crate) mod mentoring;
pub(crate) mod node;
pub(crate) mod notifications;
pub(crate) mod oidc;
pub(crate) mod publish;
pub(crate) mod reports;

use axum::Router;
use axum::response::Response;
use axum::routing::get;

use crate::Console;
use crate::page::see_other;
use crate::visitor::Visitor;

/// `/`: the calendar, which everyone starts from.
pub(crate) async fn home(_: Visitor) -> Response {
    see_other("/calendar")
}

pub(crate) fn routes() -> Router<Console> {
    Router::new().route("/", get(home))
}
