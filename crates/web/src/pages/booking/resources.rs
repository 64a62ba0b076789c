//! `/resources`: the labs, halls and rooms of the network the visitor's
//! organizations may book, found by kind, equipment, words and room.

use askama::Template;
use axum::extract::Query;
use axum::response::Response;
use edufed_domain::policy::Action;
use edufed_i18n::ru;
use edufed_proto::v1 as pb;

use super::hours_summary;
use crate::page::{Layout, Section, failure, render, see_other, t};
use crate::view::{Choice, Names, choices, named, organizations};
use crate::visitor::Visitor;

/// The search as the filter form sends it.
#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct Search {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    features: String,
    #[serde(default)]
    q: String,
    #[serde(default)]
    capacity: String,
}

struct Row {
    id: String,
    name: String,
    kind: String,
    owner: String,
    capacity: String,
    features: String,
    hours: String,
    approval: String,
}

#[derive(Template)]
#[template(path = "resources.html")]
struct ResourcesPage {
    layout: Layout,
    kinds: Vec<Choice>,
    search: Search,
    rows: Vec<Row>,
    found: String,
    /// The visitor decides requests for some organization's resources.
    decides: bool,
}

/// `GET /resources`.
pub(crate) async fn list(visitor: Visitor, Query(search): Query<Search>) -> Response {
    if !visitor.signed_in() {
        return see_other("/calendar");
    }
    let kind: i32 = search.kind.trim().parse().unwrap_or(0);
    let features: Vec<String> = search
        .features
        .split(',')
        .map(str::trim)
        .filter(|f| !f.is_empty())
        .take(20)
        .map(str::to_owned)
        .collect();
    let api = visitor.api();
    let listed = api
        .booking()
        .list_resources(pb::ListResourcesRequest {
            owner: String::new(),
            kind,
            features,
            min_capacity: search.capacity.trim().parse().unwrap_or(0),
            query: search.q.chars().take(200).collect(),
        })
        .await;
    let resources = match listed {
        Ok(listed) => listed.into_inner().resources,
        Err(status) => return failure(&status),
    };
    let names = match organizations(api).await {
        Ok(orgs) => Names::of(&orgs),
        Err(status) => return failure(&status),
    };
    let rows: Vec<Row> = resources
        .iter()
        .map(|r| Row {
            id: r.id.clone(),
            name: r.name.clone(),
            kind: named::<pb::ResourceKind>(r.kind),
            owner: names.name(&r.owner_id),
            capacity: if r.capacity == 0 {
                t("resources-unlimited")
            } else {
                r.capacity.to_string()
            },
            features: r.features.join(", "),
            hours: hours_summary(&r.hours),
            approval: named::<pb::ApprovalPolicy>(r.approval),
        })
        .collect();
    let found = ru().text_with("resources-found", &[("count", (rows.len() as i64).into())]);
    render(&ResourcesPage {
        layout: Layout::new(&visitor, Section::Resources, t("resources-title")),
        kinds: choices::<pb::ResourceKind>(kind),
        search,
        rows,
        found,
        decides: visitor.may_somewhere(Action::ManageResources),
    })
}
