//! `/audit`: the audit trail of the organizations whose admin the visitor
//! is (every entry for the operator): who wrote which record, when, how
//! and from where, newest first, a page at a time.

use askama::Template;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::get;
use chrono::{NaiveDate, TimeZone as _};
use chrono_tz::Tz;
use edufed_domain::policy::Action;
use edufed_i18n::ru;
use edufed_proto::v1 as pb;

use crate::Console;
use crate::errors::{Problem, above, beside, russian};
use crate::page::{Layout, Section, failure, render_with, see_other, t};
use crate::view::{Choice, DEFAULT_ZONE, Names, instant, organizations};
use crate::visitor::Visitor;

/// The fields of the filter, which a refusal may name.
const FIELDS: [&str; 5] = ["organization", "record_kind", "record_id", "since", "until"];

/// The kinds of record a filter offers, in the order people look for them.
const KINDS: &[&str] = &[
    "booking",
    "registration",
    "activity",
    "agreement",
    "resource",
    "organization",
    "membership",
    "person",
    "api_token",
    "mentoring_programme",
    "mentoring_pair",
    "growth_record",
    "growth_consent",
    "teacher_figures",
    "trial",
    "designation",
    "route_template",
    "route",
    "enrolment",
    "peer",
];

pub(crate) fn routes() -> axum::Router<Console> {
    axum::Router::new().route("/audit", get(show))
}

#[derive(Debug, Default, Clone, serde::Deserialize)]
pub(crate) struct Filters {
    #[serde(default)]
    org: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    record: String,
    #[serde(default)]
    person: String,
    #[serde(default)]
    since: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    page: String,
}

impl Filters {
    /// The query of these filters, on another page.
    fn href(&self, page: &str) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (name, value) in [
            ("org", &self.org),
            ("kind", &self.kind),
            ("record", &self.record),
            ("person", &self.person),
            ("since", &self.since),
            ("until", &self.until),
        ] {
            if !value.is_empty() {
                query.append_pair(name, value);
            }
        }
        if !page.is_empty() {
            query.append_pair("page", page);
        }
        format!("/audit?{}", query.finish())
    }
}

struct Row {
    when: String,
    who: String,
    person: String,
    via: String,
    action: String,
    forwarded: String,
    kind: String,
    record: String,
    record_short: String,
    version: String,
    how: String,
    address: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    layout: Layout,
    filters: Filters,
    organizations: Vec<Choice>,
    kinds: Vec<Choice>,
    rows: Vec<Row>,
    next: String,
    person_name: String,
    problem: Option<Problem>,
}

impl AuditPage {
    fn error(&self, field: &str) -> String {
        beside(self.problem.as_ref(), field)
    }

    fn general_error(&self) -> String {
        above(self.problem.as_ref(), &FIELDS)
    }
}

/// A day the visitor picked as the instant it starts in their zone; the
/// day after for the end of a span (`until` takes the whole day in).
fn day_start(
    field: &str,
    raw: &str,
    zone: Tz,
    after: bool,
) -> Result<Option<prost_types::Timestamp>, Problem> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let bad = || Problem {
        field: Some(field.to_owned()),
        message: ru().text("audit-bad-date"),
    };
    let day = NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| bad())?;
    let day = if after {
        day.succ_opt().ok_or_else(bad)?
    } else {
        day
    };
    let at = zone
        .from_local_datetime(&day.and_time(chrono::NaiveTime::MIN))
        .earliest()
        .ok_or_else(bad)?;
    Ok(Some(prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: 0,
    }))
}

/// An id as the table shows it: its last characters, which tell ids
/// apart (a UUIDv7 begins with its time, the same for a day's records).
fn short(id: &str) -> String {
    let chars: Vec<char> = id.chars().collect();
    if chars.len() <= 8 {
        return id.to_owned();
    }
    let tail: String = chars[chars.len() - 6..].iter().collect();
    format!("…{tail}")
}

/// `GET /audit`.
pub(crate) async fn show(visitor: Visitor, Query(filters): Query<Filters>) -> Response {
    if !visitor.signed_in() {
        return see_other("/calendar");
    }
    let everything = visitor.may_on_node(Action::ReadAuditTrail);
    if !everything && !visitor.may_somewhere(Action::ReadAuditTrail) {
        return see_other("/calendar");
    }
    let zone = visitor.zone.unwrap_or(DEFAULT_ZONE);
    let api = visitor.api();
    let names = match organizations(api).await {
        Ok(orgs) => orgs,
        Err(status) => return failure(&status),
    };
    let hosted: Vec<&pb::Organization> = names.iter().filter(|o| o.home_node.is_empty()).collect();
    let names_of = Names::of(&names);
    let organizations: Vec<Choice> = if everything {
        hosted
            .iter()
            .map(|o| Choice {
                value: o.slug.clone(),
                label: names_of.name(&o.id),
                selected: filters.org == o.slug || filters.org == o.id,
            })
            .collect()
    } else {
        visitor
            .memberships_for(Action::ReadAuditTrail)
            .iter()
            .map(|m| Choice {
                value: m.organization_slug.clone(),
                label: names_of.name(&m.organization_id),
                selected: filters.org == m.organization_slug || filters.org == m.organization_id,
            })
            .collect()
    };
    let kinds = KINDS
        .iter()
        .map(|k| Choice {
            value: (*k).to_owned(),
            label: ru().audit_record(k),
            selected: filters.kind == *k,
        })
        .collect();
    let mut page = AuditPage {
        layout: Layout::new(&visitor, Section::Audit, t("audit-title")),
        filters: filters.clone(),
        organizations,
        kinds,
        rows: Vec::new(),
        next: String::new(),
        person_name: String::new(),
        problem: None,
    };
    let window = day_start("since", &filters.since, zone, false)
        .and_then(|since| Ok((since, day_start("until", &filters.until, zone, true)?)));
    let (since, until) = match window {
        Ok(window) => window,
        Err(problem) => {
            page.problem = Some(problem);
            return render_with(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
    };
    let listed = api
        .audit()
        .list_audit_entries(pb::ListAuditEntriesRequest {
            organization: filters.org.clone(),
            record_kind: filters.kind.clone(),
            record_id: filters.record.clone(),
            person_id: filters.person.clone(),
            since,
            until,
            page_size: 50,
            page_token: filters.page.clone(),
        })
        .await;
    let listed = match listed {
        Ok(listed) => listed.into_inner(),
        Err(status) if status.code() == tonic::Code::InvalidArgument => {
            page.problem = Some(russian(&status));
            return render_with(StatusCode::UNPROCESSABLE_ENTITY, &page);
        }
        Err(status) => return failure(&status),
    };
    if !listed.next_page_token.is_empty() {
        page.next = filters.href(&listed.next_page_token);
    }
    page.rows = listed.entries.iter().map(|e| row(e, zone)).collect();
    if !filters.person.is_empty() {
        page.person_name = page
            .rows
            .iter()
            .find(|r| r.person == filters.person)
            .map_or_else(|| filters.person.clone(), |r| r.who.clone());
    }
    render_with(StatusCode::OK, &page)
}

fn row(e: &pb::AuditEntry, zone: Tz) -> Row {
    let node = |id: &str| id.chars().take(12).collect::<String>();
    let who = match (e.actor.as_str(), e.actor_name.is_empty()) {
        ("node", _) => t("audit-the-node"),
        (_, false) => e.actor_name.clone(),
        (_, true) if !e.via_node.is_empty() => t("audit-peer-person"),
        (actor, true) => short(actor),
    };
    let how = match e.credential.split_once(':') {
        Some(("token", _)) => t("audit-how-token"),
        Some(("session", _)) => t("audit-how-session"),
        Some(("peer", _)) => t("audit-how-peer"),
        _ => String::new(),
    };
    Row {
        when: instant(e.at.as_ref()).map_or_else(String::new, |at| ru().short_instant(at, zone)),
        who,
        // A peer's person is not one of this node's: no page of theirs.
        person: if e.actor == "node" || !e.via_node.is_empty() {
            String::new()
        } else {
            e.actor.clone()
        },
        via: if e.via_node.is_empty() {
            String::new()
        } else {
            crate::page::t_with("audit-via", "node", &node(&e.via_node))
        },
        action: ru().audit_call(&e.method),
        forwarded: if e.forwarded_to.is_empty() {
            String::new()
        } else {
            crate::page::t_with("audit-forwarded", "node", &node(&e.forwarded_to))
        },
        kind: ru().audit_record(&e.record_kind),
        record: e.record_id.clone(),
        record_short: short(&e.record_id),
        version: e.version.map(|v| v.to_string()).unwrap_or_default(),
        how,
        address: e.address.clone(),
    }
}
