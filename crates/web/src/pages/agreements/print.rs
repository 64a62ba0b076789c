//! The printable agreement: one version as a document on A4, with its
//! Article 15 sections, the parties by their full names and a signature
//! block for each. `/agreements/{id}/print` is for the signed-in person;
//! `/agreements/{id}.html` the same page for a program's bearer token
//! (`edufed agreement render`).

use askama::Template;
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse as _, Response};
use edufed_i18n::ru;
use edufed_proto::v1 as pb;

use super::document::{Document, Naming};
use super::{Orgs, shown_version, zone};
use crate::Console;
use crate::page::{failure, render, t};
use crate::rpc::Clients;
use crate::view::{DEFAULT_ZONE, named};
use crate::visitor::Visitor;

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct Wanted {
    #[serde(default)]
    version: Option<u32>,
}

#[derive(Template)]
#[template(path = "agreement_print.html")]
struct PrintPage {
    id: String,
    doc: Document,
    state: String,
    version_status: String,
    zone: String,
    /// A person reads it in the console: a way back.
    in_console: bool,
}

/// `GET /agreements/{id}/print[?version=N]`.
pub(crate) async fn show(
    visitor: Visitor,
    Path(id): Path<String>,
    Query(wanted): Query<Wanted>,
) -> Response {
    if !visitor.signed_in() {
        return super::turned_away(StatusCode::UNAUTHORIZED, t("agreements-sign-in"));
    }
    printable(visitor.api(), &id, wanted.version, true, visitor.now).await
}

/// `GET /agreements/{id}.html[?version=N]`: for the bearer token in the
/// request's `Authorization` header, else for the signed-in person.
pub(crate) async fn for_program(
    console: &Console,
    headers: &HeaderMap,
    visitor: Visitor,
    id: &str,
    version: Option<u32>,
) -> Response {
    if let Some(authorization) = headers.get(header::AUTHORIZATION) {
        let api = Clients::new(console.rpc.bearer_channel(authorization.clone()));
        return printable(&api, id, version, false, visitor.now).await;
    }
    if visitor.signed_in() {
        return printable(visitor.api(), id, version, true, visitor.now).await;
    }
    (
        StatusCode::UNAUTHORIZED,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "this page needs an Authorization: Bearer token, or a signed-in session\n",
    )
        .into_response()
}

async fn printable(
    api: &Clients,
    id: &str,
    version: Option<u32>,
    in_console: bool,
    now: chrono::DateTime<chrono::Utc>,
) -> Response {
    let a = match api
        .agreements()
        .get_agreement(pb::GetAgreementRequest {
            agreement_id: id.to_owned(),
        })
        .await
    {
        Ok(a) => a.into_inner(),
        Err(status) => return failure(&status),
    };
    let orgs = match Orgs::load(api).await {
        Ok(orgs) => orgs,
        Err(status) => return failure(&status),
    };
    let shown = match version {
        Some(n) => a.versions.iter().find(|v| v.number == n),
        None => shown_version(&a, None),
    };
    let Some(shown) = shown else {
        return super::turned_away(
            StatusCode::NOT_FOUND,
            ru().text_with(
                "agreement-no-version",
                &[("version", version.unwrap_or(0).into())],
            ),
        );
    };
    let zone = zone(&a, DEFAULT_ZONE);
    render(&PrintPage {
        id: a.id.clone(),
        doc: Document::of(&a, shown, &orgs, Naming::Full, zone, None),
        state: named::<pb::AgreementState>(a.state),
        version_status: super::show::version_status(&a, shown.number),
        zone: ru().zone(zone, now),
        in_console,
    })
}
