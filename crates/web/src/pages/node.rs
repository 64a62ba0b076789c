//! The operator's page (`/node`): who this node is, the peers it has
//! pinned and the subscriptions that follow them, with how far behind each
//! is and why it last failed; forms that pin and unpin a peer, subscribe
//! and unsubscribe; and the organizations the node hosts, each with its
//! members (see [`members`]).

pub(crate) mod members;

use askama::Template;
use axum::extract::{Path, Query};
use axum::response::Response;
use edufed_domain::policy::Action;
use edufed_i18n::ru;
use edufed_proto::v1 as pb;

use crate::Console;
use crate::errors::{Problem, russian};
use crate::page::{Layout, Section, failure, render_with, see_other, t};
use crate::view::{DEFAULT_ZONE, instant, named, organizations};
use crate::visitor::{Posted, Visitor};

pub(crate) fn routes() -> axum::Router<Console> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/node", get(show))
        .route("/node/peers", post(add_peer))
        .route("/node/peers/{node_id}/remove", post(remove_peer))
        .route("/node/subscriptions", post(subscribe))
        .route("/node/subscriptions/{node_id}/remove", post(unsubscribe))
        .merge(members::routes())
}

/// Whether the visitor runs this node: a hint for what a page offers (the
/// API decides what they may do).
pub(crate) fn runs_the_node(visitor: &Visitor) -> bool {
    visitor.may_on_node(Action::ManagePeers)
}

#[derive(Debug, Default, Clone, serde::Deserialize)]
pub(crate) struct PeerForm {
    #[serde(default)]
    url: String,
    #[serde(default)]
    fingerprint: String,
}

#[derive(Debug, Default, Clone, serde::Deserialize)]
pub(crate) struct SubscribeForm {
    #[serde(default)]
    node_id: String,
    #[serde(default)]
    via: String,
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct Shown {
    #[serde(default)]
    done: String,
}

#[derive(serde::Deserialize)]
pub(crate) struct Empty {}

/// Which form a refusal belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Form {
    Peer,
    Subscribe,
    Other,
}

struct PeerRow {
    node_id: String,
    name: String,
    url: String,
    organizations: String,
    added: String,
    subscribed: bool,
}

struct SubscriptionRow {
    node_id: String,
    peer: String,
    via: String,
    kinds: String,
    position: String,
    lag_entries: u64,
    lag: String,
    behind: bool,
    connected: bool,
    last_contact: String,
    last_error: String,
}

/// How the node keeps up with its neighbours, in one line.
struct Health {
    /// `ok`, `waiting` or `bad`: the line's colour.
    class: &'static str,
    headline: String,
}

impl Health {
    fn of(subscriptions: &[pb::SubscriptionStatus]) -> Self {
        let count = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        let down = subscriptions.iter().filter(|s| !s.connected).count();
        let behind = subscriptions
            .iter()
            .map(|s| s.lag_entries)
            .max()
            .unwrap_or(0);
        let (class, headline) = if subscriptions.is_empty() {
            ("", t("node-health-alone"))
        } else if down > 0 {
            (
                "bad",
                ru().text_with(
                    "node-health-down",
                    &[
                        ("down", count(down).into()),
                        ("total", count(subscriptions.len()).into()),
                    ],
                ),
            )
        } else if behind > 0 {
            (
                "waiting",
                ru().text_with(
                    "node-health-behind",
                    &[("n", i64::try_from(behind).unwrap_or(i64::MAX).into())],
                ),
            )
        } else {
            ("ok", t("node-health-ok"))
        };
        Self { class, headline }
    }
}

struct OrganizationRow {
    slug: String,
    name: String,
    kind: String,
    city: String,
}

struct Choice {
    value: String,
    label: String,
    selected: bool,
}

#[derive(Template)]
#[template(path = "node.html")]
struct NodePage {
    layout: Layout,
    node_id: String,
    node_name: String,
    health: Health,
    peers: Vec<PeerRow>,
    subscriptions: Vec<SubscriptionRow>,
    organizations: Vec<OrganizationRow>,
    unsubscribed: Vec<Choice>,
    vias: Vec<Choice>,
    peer: PeerForm,
    form: Option<Form>,
    problem: Option<Problem>,
}

impl NodePage {
    fn error(&self, form: Form, field: &str) -> String {
        match &self.problem {
            Some(p) if self.form == Some(form) => p.about(field).unwrap_or_default().to_owned(),
            _ => String::new(),
        }
    }

    fn general_error(&self, form: Form) -> String {
        let fields: &[&str] = match form {
            Form::Peer => &["url", "fingerprint"],
            Form::Subscribe => &["node_id", "via"],
            Form::Other => &[],
        };
        match &self.problem {
            Some(p) if self.form == Some(form) && fields.iter().all(|f| p.about(f).is_none()) => {
                p.message.clone()
            }
            _ => String::new(),
        }
    }
}

/// A lag in seconds, in words: «5 с», «3 мин», «2 ч», «4 дн.».
fn lag(seconds: u64) -> String {
    let (n, key) = match seconds {
        s if s < 60 => (s, "node-lag-seconds"),
        s if s < 3600 => (s / 60, "node-lag-minutes"),
        s if s < 86_400 => (s / 3600, "node-lag-hours"),
        s => (s / 86_400, "node-lag-days"),
    };
    ru().text_with(key, &[("n", i64::try_from(n).unwrap_or(i64::MAX).into())])
}

/// A node id, shortened for a table: its first twelve hex digits.
fn short(node_id: &str) -> String {
    let head: String = node_id.chars().take(12).collect();
    if head.len() < node_id.len() {
        format!("{head}…")
    } else {
        head
    }
}

/// `GET /node`.
pub(crate) async fn show(visitor: Visitor, Query(shown): Query<Shown>) -> Response {
    let notice = ["peer-added", "peer-removed", "subscribed", "unsubscribed"]
        .contains(&shown.done.as_str())
        .then(|| t(&format!("node-done-{}", shown.done)));
    page(&visitor, PeerForm::default(), None, notice).await
}

async fn page(
    visitor: &Visitor,
    peer: PeerForm,
    problem: Option<(Form, Problem)>,
    notice: Option<String>,
) -> Response {
    if !visitor.signed_in() {
        return crate::pages::reports::sign_in_first(visitor);
    }
    let api = visitor.api();
    let peers = match api.federation().list_peers(pb::ListPeersRequest {}).await {
        Ok(list) => list.into_inner().peers,
        Err(status) => return failure(&status),
    };
    let subscriptions = match api
        .federation()
        .list_subscriptions(pb::ListSubscriptionsRequest {})
        .await
    {
        Ok(list) => list.into_inner().subscriptions,
        Err(status) => return failure(&status),
    };
    let orgs = match organizations(api).await {
        Ok(orgs) => orgs,
        Err(status) => return failure(&status),
    };
    let node_id = visitor
        .me
        .as_ref()
        .map(|me| me.node_id.clone())
        .unwrap_or_default();
    let nonce = visitor.now.timestamp_micros().to_be_bytes().repeat(2);
    let node_name = api
        .federation()
        .get_descriptor(pb::GetDescriptorRequest { nonce })
        .await
        .ok()
        .and_then(|d| d.into_inner().descriptor)
        .map(|d| d.name)
        .unwrap_or_default();
    let zone = visitor.zone.unwrap_or(DEFAULT_ZONE);
    let when = |ts: Option<&prost_types::Timestamp>| {
        instant(ts)
            .map(|at| ru().instant(at, zone, Some(zone)))
            .unwrap_or_else(|| t("node-never"))
    };
    let name_of = |id: &str| {
        peers
            .iter()
            .filter_map(|p| p.descriptor.as_ref())
            .find(|d| d.node_id == id)
            .map_or_else(|| short(id), |d| d.name.clone())
    };
    let subscribed: Vec<&str> = subscriptions.iter().map(|s| s.node_id.as_str()).collect();
    let peer_rows = peers
        .iter()
        .filter_map(|p| {
            let d = p.descriptor.as_ref()?;
            Some(PeerRow {
                node_id: d.node_id.clone(),
                name: d.name.clone(),
                url: d.url.clone(),
                organizations: d
                    .organizations
                    .iter()
                    .map(|o| {
                        if o.short_name.is_empty() {
                            o.full_name.clone()
                        } else {
                            o.short_name.clone()
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(", "),
                added: when(p.added_at.as_ref()),
                subscribed: subscribed.contains(&d.node_id.as_str()),
            })
        })
        .collect::<Vec<_>>();
    let subscription_rows = subscriptions
        .iter()
        .map(|s| SubscriptionRow {
            node_id: s.node_id.clone(),
            peer: name_of(&s.node_id),
            via: if s.via.is_empty() {
                String::new()
            } else {
                name_of(&s.via)
            },
            kinds: if s.entity_kinds.is_empty() {
                t("node-kinds-all")
            } else {
                s.entity_kinds.join(", ")
            },
            position: ru().text_with(
                "node-position",
                &[
                    ("cursor", i64::try_from(s.cursor).unwrap_or(i64::MAX).into()),
                    (
                        "latest",
                        i64::try_from(s.latest_seen).unwrap_or(i64::MAX).into(),
                    ),
                ],
            ),
            lag_entries: s.lag_entries,
            lag: if s.last_contact.is_some() {
                lag(s.lag_seconds)
            } else {
                t("node-never")
            },
            behind: s.lag_entries > 0,
            connected: s.connected,
            last_contact: when(s.last_contact.as_ref()),
            last_error: s.last_error.clone(),
        })
        .collect();
    let mut hosted: Vec<OrganizationRow> = orgs
        .iter()
        .filter(|o| o.home_node.is_empty())
        .map(|o| OrganizationRow {
            slug: o.slug.clone(),
            name: if o.short_name.is_empty() {
                o.full_name.clone()
            } else {
                o.short_name.clone()
            },
            kind: named::<pb::OrganizationKind>(o.kind),
            city: o.city.clone(),
        })
        .collect();
    hosted.sort_by(|a, b| a.name.cmp(&b.name));
    let unsubscribed = peer_rows
        .iter()
        .filter(|p| !p.subscribed)
        .map(|p| Choice {
            value: p.node_id.clone(),
            label: p.name.clone(),
            selected: false,
        })
        .collect();
    let vias = peer_rows
        .iter()
        .map(|p| Choice {
            value: p.node_id.clone(),
            label: p.name.clone(),
            selected: false,
        })
        .collect();
    let status = if problem.is_some() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    let (form, problem) = problem.map_or((None, None), |(f, p)| (Some(f), Some(p)));
    render_with(
        status,
        &NodePage {
            layout: Layout::new(visitor, Section::Node, t("node-title")).with_notice(notice),
            node_id,
            node_name,
            health: Health::of(&subscriptions),
            peers: peer_rows,
            subscriptions: subscription_rows,
            organizations: hosted,
            unsubscribed,
            vias,
            peer,
            form,
            problem,
        },
    )
}

/// `POST /node/peers`: pins a peer by its URL and fingerprint.
pub(crate) async fn add_peer(posted: Posted<PeerForm>) -> Response {
    let Posted { visitor, form } = posted;
    let request = pb::AddPeerRequest {
        url: form.url.trim().to_owned(),
        fingerprint: form.fingerprint.trim().to_owned(),
    };
    match visitor.api().federation().add_peer(request).await {
        Ok(_) => see_other("/node?done=peer-added"),
        Err(status) => page(&visitor, form, Some((Form::Peer, russian(&status))), None).await,
    }
}

/// `POST /node/peers/{node_id}/remove`.
pub(crate) async fn remove_peer(Path(node_id): Path<String>, posted: Posted<Empty>) -> Response {
    let visitor = posted.visitor;
    match visitor
        .api()
        .federation()
        .remove_peer(pb::RemovePeerRequest { node_id })
        .await
    {
        Ok(_) => see_other("/node?done=peer-removed"),
        Err(status) => {
            let problem = Some((Form::Other, russian(&status)));
            page(&visitor, PeerForm::default(), problem, None).await
        }
    }
}

/// `POST /node/subscriptions`: follows a pinned peer's log.
pub(crate) async fn subscribe(posted: Posted<SubscribeForm>) -> Response {
    let Posted { visitor, form } = posted;
    let request = pb::SubscribeRequest {
        node_id: form.node_id.trim().to_owned(),
        via: form.via.trim().to_owned(),
        ..Default::default()
    };
    match visitor.api().federation().subscribe(request).await {
        Ok(_) => see_other("/node?done=subscribed"),
        Err(status) => {
            let problem = Some((Form::Subscribe, russian(&status)));
            page(&visitor, PeerForm::default(), problem, None).await
        }
    }
}

/// `POST /node/subscriptions/{node_id}/remove`.
pub(crate) async fn unsubscribe(Path(node_id): Path<String>, posted: Posted<Empty>) -> Response {
    let visitor = posted.visitor;
    match visitor
        .api()
        .federation()
        .unsubscribe(pb::UnsubscribeRequest { node_id })
        .await
    {
        Ok(_) => see_other("/node?done=unsubscribed"),
        Err(status) => {
            let problem = Some((Form::Other, russian(&status)));
            page(&visitor, PeerForm::default(), problem, None).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lags_read_in_words() {
        assert_eq!(lag(5), "5 с");
        assert_eq!(lag(180), "3 мин");
        assert_eq!(lag(7300), "2 ч");
        assert_eq!(lag(4 * 86_400), "4 дн.");
        assert_eq!(short("0123456789abcdef"), "0123456789ab…");
    }
}
