//! `/agreements`: the agreements of the visitor's organizations (or the
//! network's register), by state, with their terms and how soon each
//! ends; those ending within 60 days stand out.

use askama::Template;
use axum::extract::Query;
use axum::response::Response;
use edufed_domain::policy::Action;
use edufed_proto::v1 as pb;

use super::{Orgs, effective, expiring, expiry, state_class, term};
use crate::page::{Layout, Section, failure, render, t};
use crate::view::{Choice, choices, named};
use crate::visitor::Visitor;

/// The register: every agreement in force or ended the node knows.
const REGISTER: &str = "register";

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct Filter {
    /// An `AgreementState` number; empty for any.
    #[serde(default)]
    state: String,
    /// An organization's id, `register`, or empty for all of the visitor's.
    #[serde(default)]
    party: String,
    /// Only those in force ending within 60 days.
    #[serde(default)]
    expiring: Option<String>,
    /// The page after this token.
    #[serde(default)]
    after: String,
}

struct Row {
    id: String,
    title: String,
    number: String,
    kind: String,
    parties: String,
    state: String,
    state_class: &'static str,
    term: String,
    ends: String,
    expiring: bool,
    /// A peer's agreement this node only mirrors.
    elsewhere: bool,
}

#[derive(Template)]
#[template(path = "agreements.html")]
struct ListPage {
    layout: Layout,
    rows: Vec<Row>,
    states: Vec<Choice>,
    parties: Vec<Choice>,
    expiring: bool,
    can_draft: bool,
    next: String,
    signed_in: bool,
}

/// `GET /agreements`.
pub(crate) async fn show(visitor: Visitor, Query(filter): Query<Filter>) -> Response {
    let layout = Layout::new(&visitor, Section::Agreements, t("agreements-title"));
    if !visitor.signed_in() {
        return render(&ListPage {
            layout,
            rows: Vec::new(),
            states: Vec::new(),
            parties: Vec::new(),
            expiring: false,
            can_draft: false,
            next: String::new(),
            signed_in: false,
        });
    }
    let api = visitor.api();
    let orgs = match Orgs::load(api).await {
        Ok(orgs) => orgs,
        Err(status) => return failure(&status),
    };
    let state: i32 = filter.state.trim().parse().unwrap_or(0);
    let expiring_only = filter.expiring.is_some();
    // Whose: one of the visitor's organizations, all of them, or the register.
    let own: Vec<&pb::Membership> = {
        let mut seen = std::collections::BTreeSet::new();
        visitor
            .memberships()
            .iter()
            .filter(|m| seen.insert(m.organization_id.clone()))
            .collect()
    };
    let parties: Vec<String> = match filter.party.as_str() {
        REGISTER => vec![String::new()],
        "" => own.iter().map(|m| m.organization_id.clone()).collect(),
        one => vec![one.to_owned()],
    };
    let mut found: Vec<pb::Agreement> = Vec::new();
    let mut next = String::new();
    for party in parties.iter().take(20) {
        let request = pb::ListAgreementsRequest {
            party: party.clone(),
            states: if state == 0 { Vec::new() } else { vec![state] },
            expiring_within_days: if expiring_only { 60 } else { 0 },
            page_size: 100,
            page_token: if parties.len() == 1 {
                filter.after.clone()
            } else {
                String::new()
            },
            ..Default::default()
        };
        match api.agreements().list_agreements(request).await {
            Ok(page) => {
                let page = page.into_inner();
                if parties.len() == 1 {
                    next = page.next_page_token;
                }
                for a in page.agreements {
                    if !found.iter().any(|f| f.id == a.id) {
                        found.push(a);
                    }
                }
            }
            Err(status) => return failure(&status),
        }
    }
    let now = visitor.now;
    let node = visitor.me.as_ref().map_or("", |me| me.node_id.as_str());
    let mut rows: Vec<(i64, Row)> = found
        .iter()
        .map(|a| {
            let c = effective(a)
                .and_then(|v| v.content.clone())
                .unwrap_or_default();
            let left = expiry(a, now);
            let names: Vec<String> = c.parties.iter().map(|p| orgs.short(&p.org)).collect();
            let row = Row {
                id: a.id.clone(),
                title: c.title.clone(),
                number: c.number.clone(),
                kind: named::<pb::AgreementKind>(c.kind),
                parties: names.join(", "),
                state: named::<pb::AgreementState>(a.state),
                state_class: state_class(a.state),
                term: term(&c),
                ends: left.as_ref().map(|(_, w)| w.clone()).unwrap_or_default(),
                expiring: left.as_ref().is_some_and(|(d, _)| expiring(*d)),
                elsewhere: !a.home_node.is_empty() && a.home_node != node,
            };
            (left.map_or(i64::MAX, |(d, _)| d), row)
        })
        .collect();
    // What ends soonest first; then the rest by title.
    rows.sort_by(|a, b| a.0.cmp(&b.0).then_with(|| a.1.title.cmp(&b.1.title)));
    let mut party_choices = vec![Choice {
        value: String::new(),
        label: t("agreements-mine"),
        selected: filter.party.is_empty(),
    }];
    if own.len() > 1 {
        party_choices.extend(own.iter().map(|m| Choice {
            value: m.organization_id.clone(),
            label: orgs.short(&m.organization_id),
            selected: filter.party == m.organization_id,
        }));
    }
    party_choices.push(Choice {
        value: REGISTER.into(),
        label: t("agreements-register"),
        selected: filter.party == REGISTER,
    });
    let next = if next.is_empty() {
        String::new()
    } else {
        let query = [
            ("state", filter.state.as_str()),
            ("party", filter.party.as_str()),
            ("after", next.as_str()),
        ];
        let mut query: Vec<(&str, &str)> =
            query.into_iter().filter(|(_, v)| !v.is_empty()).collect();
        if expiring_only {
            query.push(("expiring", "1"));
        }
        format!(
            "/agreements?{}",
            serde_urlencoded::to_string(query).unwrap_or_default()
        )
    };
    render(&ListPage {
        layout,
        rows: rows.into_iter().map(|(_, r)| r).collect(),
        states: choices::<pb::AgreementState>(state),
        parties: party_choices,
        expiring: expiring_only,
        can_draft: visitor.may_somewhere(Action::ManageAgreements),
        next,
        signed_in: true,
    })
}
