//! Network agreements (сетевые договоры): the list of a person's
//! organizations' agreements by state and expiry, one agreement with its
//! Article 15 sections, parties, versions, history and verified
//! signatures, signing and declining, a draft from a form or a JSON file,
//! amendments, termination, and the printable page.

mod document;
mod form;
mod list;
mod new;
mod print;
mod show;

use std::collections::HashMap;

use axum::Router;
use axum::routing::{get, post};
use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use edufed_i18n::ru;
use edufed_proto::v1 as pb;

use crate::Console;
use crate::page::t;
use crate::rpc::Clients;
use crate::view::{Choice, instant, organizations};

pub(crate) fn routes() -> Router<Console> {
    Router::new()
        .route("/agreements", get(list::show))
        .route("/agreements/new", get(new::blank).post(new::draft))
        .route("/agreements/new/json", post(new::draft_json))
        .route("/agreements/{id}", get(show::show))
        .route("/agreements/{id}/print", get(print::show))
        .route("/agreements/{id}/edit", get(new::edit).post(new::update))
        .route(
            "/agreements/{id}/amend",
            get(new::amend_form).post(new::amend),
        )
        .route("/agreements/{id}/sign", post(show::sign))
        .route("/agreements/{id}/decline", post(show::decline))
        .route("/agreements/{id}/propose", post(show::propose))
        .route("/agreements/{id}/terminate", post(show::terminate))
        .route("/static/agreements.css", get(stylesheet))
        .route("/static/agreements.js", get(script))
}

async fn stylesheet() -> axum::response::Response {
    crate::asset(
        "text/css; charset=utf-8",
        include_str!("../../../static/agreements.css"),
    )
}

async fn script() -> axum::response::Response {
    crate::asset(
        "text/javascript; charset=utf-8",
        include_str!("../../../static/agreements.js"),
    )
}

/// An agreement expiring within this many days is highlighted.
const EXPIRING_DAYS: i64 = 60;

/// The organizations the node knows, by id: short names for pages, full
/// ones for the printable document.
pub(crate) struct Orgs {
    known: Vec<pb::Organization>,
    by_id: HashMap<String, usize>,
}

impl Orgs {
    pub(crate) async fn load(api: &Clients) -> Result<Self, tonic::Status> {
        let mut known = organizations(api).await?;
        known.sort_by(|a, b| Self::label(a).cmp(Self::label(b)));
        let by_id = known
            .iter()
            .enumerate()
            .map(|(i, o)| (o.id.clone(), i))
            .collect();
        Ok(Self { known, by_id })
    }

    fn label(o: &pb::Organization) -> &str {
        if o.short_name.is_empty() {
            &o.full_name
        } else {
            &o.short_name
        }
    }

    fn find(&self, id_or_slug: &str) -> Option<&pb::Organization> {
        self.by_id
            .get(id_or_slug)
            .map(|i| &self.known[*i])
            .or_else(|| self.known.iter().find(|o| o.slug == id_or_slug))
    }

    /// The short name, or what was given when the node does not know it.
    pub(crate) fn short(&self, id: &str) -> String {
        self.find(id)
            .map_or_else(|| id.to_owned(), |o| Self::label(o).to_owned())
    }

    /// The full name, for the document.
    pub(crate) fn full(&self, id: &str) -> String {
        self.find(id).map_or_else(
            || id.to_owned(),
            |o| {
                if o.full_name.is_empty() {
                    Self::label(o).to_owned()
                } else {
                    o.full_name.clone()
                }
            },
        )
    }

    /// Every organization as a choice of a select, `selected` (an id or a
    /// slug) marked, after an empty choice.
    pub(crate) fn choices(&self, selected: &str) -> Vec<Choice> {
        let mut out = vec![Choice {
            value: String::new(),
            label: "—".into(),
            selected: selected.is_empty(),
        }];
        out.extend(self.known.iter().map(|o| Choice {
            value: o.id.clone(),
            label: Self::label(o).to_owned(),
            selected: o.id == selected || o.slug == selected,
        }));
        if !selected.is_empty() && self.find(selected).is_none() {
            out.push(Choice {
                value: selected.to_owned(),
                label: selected.to_owned(),
                selected: true,
            });
        }
        out
    }
}

/// An organization the visitor may act for, for a select or a button.
pub(crate) struct OrgOption {
    pub(crate) id: String,
    pub(crate) name: String,
}

/// The version a reader cares about: `wanted`, else the one awaiting
/// signatures, else the one in force, else the latest.
pub(crate) fn shown_version(
    a: &pb::Agreement,
    wanted: Option<u32>,
) -> Option<&pb::AgreementVersion> {
    let by = |n: u32| a.versions.iter().find(|v| n != 0 && v.number == n);
    wanted
        .and_then(by)
        .or_else(|| by(a.awaiting_version))
        .or_else(|| by(a.in_force_version))
        .or(a.versions.last())
}

/// The version whose term and parties count now: the one in force, else
/// the latest.
pub(crate) fn effective(a: &pb::Agreement) -> Option<&pb::AgreementVersion> {
    a.versions
        .iter()
        .find(|v| a.in_force_version != 0 && v.number == a.in_force_version)
        .or(a.versions.last())
}

/// A "YYYY-MM-DD" date in Russian («1 сентября 2026»); the text itself
/// when it is no date.
pub(crate) fn date(raw: &str) -> String {
    match NaiveDate::parse_from_str(raw, "%Y-%m-%d") {
        Ok(day) => ru().date(day),
        Err(_) => raw.to_owned(),
    }
}

/// «1 сентября 2026 — 31 мая 2027».
pub(crate) fn term(c: &pb::AgreementContent) -> String {
    if c.valid_from.is_empty() {
        return String::new();
    }
    format!("{} — {}", date(&c.valid_from), date(&c.valid_to))
}

/// Whether the agreement is in force or about to be.
pub(crate) fn in_force(a: &pb::Agreement) -> bool {
    [pb::AgreementState::Signed, pb::AgreementState::Active]
        .iter()
        .any(|s| *s as i32 == a.state)
}

/// How soon an agreement in force ends: whole days left, and the words.
pub(crate) fn expiry(a: &pb::Agreement, now: DateTime<Utc>) -> Option<(i64, String)> {
    if !in_force(a) {
        return None;
    }
    let ends = instant(a.ends_at.as_ref())?;
    let days = (ends - now).num_days().max(0);
    let words = if days == 0 {
        t("agreement-last-day")
    } else {
        ru().text_with("agreement-days-left", &[("count", days.into())])
    };
    Some((days, words))
}

/// Whether an agreement in force ends within [`EXPIRING_DAYS`].
pub(crate) fn expiring(days: i64) -> bool {
    days < EXPIRING_DAYS
}

/// The zone the agreement's dates are read in.
pub(crate) fn zone(a: &pb::Agreement, fallback: Tz) -> Tz {
    crate::view::zone_of(&a.time_zone, fallback)
}

/// A class for a state's badge: in force, waiting, or over.
pub(crate) fn state_class(state: i32) -> &'static str {
    match pb::AgreementState::try_from(state) {
        Ok(pb::AgreementState::Signed | pb::AgreementState::Active) => "ok",
        Ok(pb::AgreementState::Proposed | pb::AgreementState::Draft) => "wait",
        _ => "over",
    }
}

#[derive(askama::Template)]
#[template(path = "problem.html")]
struct TurnedAway {
    layout: crate::page::Layout,
    heading: String,
    message: String,
}

/// A page saying why the console itself turned a request away, before
/// asking the API (which decides again on any call).
pub(crate) fn turned_away(
    code: axum::http::StatusCode,
    message: String,
) -> axum::response::Response {
    let heading = t("failure-heading");
    let layout = crate::page::Layout {
        title: heading.clone(),
        section: crate::page::Section::Agreements,
        who: None,
        operator: false,
        csrf: String::new(),
        notice: None,
        member: false,
        auditor: false,
    };
    crate::page::render_with(
        code,
        &TurnedAway {
            layout,
            heading,
            message,
        },
    )
}
