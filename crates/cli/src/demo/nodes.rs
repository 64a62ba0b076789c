//! The demo's three nodes: starting and stopping them, pinning them on each
//! other and subscribing each to the others' change logs, and waiting until
//! the hub's calendar shows what the university node publishes.

use std::collections::{BTreeMap, BTreeSet};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use chrono::Utc;
use edufed_proto::v1 as pb;
use edufed_server::{Node, OPERATOR_TOKEN_FILE, Settings};

use super::LoadedOrg;
use crate::ClientArgs;
use crate::client::Connection;
use crate::output::Format;

/// How long the hub may take to show the university's activities.
const MIRROR_WAIT: Duration = Duration::from_secs(60);

/// One of the demo's nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(super) enum Site {
    University,
    Technopark,
    Hub,
}

impl Site {
    pub(super) const ALL: [Site; 3] = [Site::University, Site::Technopark, Site::Hub];

    /// Its data directory's name within the demo directory.
    pub(super) fn dir_name(self) -> &'static str {
        match self {
            Site::University => "university",
            Site::Technopark => "technopark",
            Site::Hub => "hub",
        }
    }

    /// The name in its descriptor.
    pub(super) fn node_name(self) -> &'static str {
        match self {
            Site::University => "Университеты сети",
            Site::Technopark => "Детский технопарк «Кванториум»",
            Site::Hub => "Городской узел МАУ ИМЦ",
        }
    }

    /// What it is, for people.
    pub(super) fn label(self) -> &'static str {
        match self {
            Site::University => "university node",
            Site::Technopark => "technopark node",
            Site::Hub => "hub",
        }
    }

    fn port_offset(self) -> u16 {
        match self {
            Site::University => 0,
            Site::Technopark => 1,
            Site::Hub => 2,
        }
    }

    pub(super) fn index(self) -> usize {
        usize::from(self.port_offset())
    }

    /// Which node hosts an organization of `kind`: universities their own,
    /// the technopark its own, everyone else the methodical centre's hub.
    pub(super) fn of(kind: pb::OrganizationKind) -> Site {
        match kind {
            pb::OrganizationKind::University => Site::University,
            pb::OrganizationKind::Technopark => Site::Technopark,
            _ => Site::Hub,
        }
    }
}

/// A running node of the demo.
pub(super) struct DemoNode {
    pub(super) site: Site,
    node: Node,
    pub(super) url: String,
    pub(super) operator_token_file: PathBuf,
    pub(super) operator_token: String,
}

impl DemoNode {
    pub(super) fn node_id(&self) -> &str {
        self.node.node_id()
    }
}

/// Connects to `url` with `token`, as the client subcommands do.
pub(super) async fn connect(url: &str, token: &str) -> anyhow::Result<Connection> {
    Connection::open(&ClientArgs {
        server: url.to_owned(),
        token: Some(token.to_owned()),
        token_file: None,
        ca_cert: None,
        output: Format::Table,
    })
    .await
}

pub(super) async fn start_node(
    dir: &Path,
    site: Site,
    base_port: u16,
    clock: &edufed_domain::time::Clock,
) -> anyhow::Result<DemoNode> {
    let port = if base_port == 0 {
        0
    } else {
        base_port
            .checked_add(site.port_offset())
            .context("--base-port leaves no room for three ports")?
    };
    let data_dir = dir.join(site.dir_name());
    let settings = Settings {
        listen: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
        data_dir: data_dir.clone(),
        node_name: site.node_name().to_owned(),
        shutdown_grace_secs: 5,
        ..Settings::default()
    };
    let (node, report) = Node::start_with_clock(settings, clock.clone())
        .await
        .with_context(|| {
            format!(
                "cannot start the {} in {} (another --base-port may help)",
                site.label(),
                data_dir.display()
            )
        })?;
    let operator_token_file = report
        .operator_token_file
        .unwrap_or_else(|| data_dir.join(OPERATOR_TOKEN_FILE));
    let operator_token = match std::fs::read_to_string(&operator_token_file) {
        Ok(token) => token.trim().to_owned(),
        Err(error) => {
            node.stop().await.ok();
            return Err(error).with_context(|| {
                format!(
                    "cannot read the operator token {}",
                    operator_token_file.display()
                )
            });
        }
    };
    let url = node.url();
    Ok(DemoNode {
        site,
        node,
        url,
        operator_token_file,
        operator_token,
    })
}

/// Stops every node, in parallel, and waits for them.
pub(super) async fn stop_all(nodes: Vec<DemoNode>) {
    for n in &nodes {
        n.node.shutdown_token().cancel();
    }
    for n in nodes {
        if let Err(error) = n.node.wait().await {
            tracing::warn!(node = n.site.label(), error = %format!("{error:#}"), "node did not stop cleanly");
        }
    }
}

/// Pins every node on every other (again where a node's URL changed) and
/// subscribes each to the others' change logs.
pub(super) async fn federate(nodes: &[DemoNode]) -> anyhow::Result<()> {
    for from in nodes {
        let conn = connect(&from.url, &from.operator_token).await?;
        let mut federation = conn.federation();
        let pinned = federation
            .list_peers(pb::ListPeersRequest {})
            .await
            .with_context(|| format!("cannot list the peers of the {}", from.site.label()))?
            .into_inner()
            .peers;
        for to in nodes.iter().filter(|n| n.site != from.site) {
            let known = pinned
                .iter()
                .filter_map(|p| p.descriptor.as_ref())
                .find(|d| d.node_id == to.node_id());
            match known {
                Some(d) if d.url == to.url => continue,
                Some(_) => {
                    federation
                        .remove_peer(pb::RemovePeerRequest {
                            node_id: to.node_id().to_owned(),
                        })
                        .await
                        .with_context(|| {
                            format!("cannot unpin the {}'s old address", to.site.label())
                        })?;
                }
                None => {}
            }
            federation
                .add_peer(pb::AddPeerRequest {
                    url: to.url.clone(),
                    fingerprint: to.node_id().to_owned(),
                })
                .await
                .with_context(|| {
                    format!(
                        "the {} cannot pin the {}",
                        from.site.label(),
                        to.site.label()
                    )
                })?;
        }
    }
    // A peer serves only nodes that pinned it, so subscribe once all are pinned.
    for from in nodes {
        let conn = connect(&from.url, &from.operator_token).await?;
        let mut federation = conn.federation();
        for to in nodes.iter().filter(|n| n.site != from.site) {
            match federation
                .subscribe(pb::SubscribeRequest {
                    node_id: to.node_id().to_owned(),
                    entity_kinds: Vec::new(),
                    via: String::new(),
                    activity_filter: None,
                })
                .await
            {
                Ok(_) => {}
                Err(status) if status.code() == tonic::Code::AlreadyExists => {}
                Err(status) => {
                    return Err(status).with_context(|| {
                        format!(
                            "the {} cannot subscribe to the {}",
                            from.site.label(),
                            to.site.label()
                        )
                    });
                }
            }
        }
    }
    Ok(())
}

fn timestamp(at: chrono::DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: 0,
    }
}

/// The ids of the activities of `publishers` (organization ids) that a
/// node's calendar shows from `from` to `to`, its own and mirrored alike.
async fn calendar_ids(
    conn: &Connection,
    publishers: &BTreeSet<String>,
    from: chrono::DateTime<Utc>,
    to: chrono::DateTime<Utc>,
) -> anyhow::Result<BTreeSet<String>> {
    let mut calendar = conn.calendar();
    let mut ids = BTreeSet::new();
    let mut page_token = String::new();
    loop {
        let page = calendar
            .list_occurrences(pb::ListOccurrencesRequest {
                from: Some(timestamp(from)),
                to: Some(timestamp(to)),
                page_size: 500,
                page_token: page_token.clone(),
                ..Default::default()
            })
            .await?
            .into_inner();
        ids.extend(
            page.occurrences
                .into_iter()
                .filter_map(|o| o.activity)
                .filter(|a| publishers.contains(&a.publisher_id))
                .map(|a| a.id),
        );
        if page.next_page_token.is_empty() {
            return Ok(ids);
        }
        page_token = page.next_page_token;
    }
}

/// Waits until the hub's calendar shows every activity of the university
/// node's organizations that the university node's calendar shows in the
/// coming year; returns how many.
pub(super) async fn await_mirrors(
    university: &DemoNode,
    hub: &DemoNode,
    orgs: &BTreeMap<String, LoadedOrg>,
) -> anyhow::Result<usize> {
    let publishers: BTreeSet<String> = orgs
        .values()
        .filter(|o| o.node == Site::University.dir_name())
        .map(|o| o.id.clone())
        .collect();
    let from = Utc::now();
    let to = from + chrono::Duration::days(365);
    let source = connect(&university.url, &university.operator_token).await?;
    let expected = calendar_ids(&source, &publishers, from, to)
        .await
        .context("cannot read the university node's calendar")?;
    let mirror = connect(&hub.url, &hub.operator_token).await?;
    let started = Instant::now();
    loop {
        let seen = calendar_ids(&mirror, &publishers, from, to)
            .await
            .context("cannot read the hub's calendar")?;
        if expected.is_subset(&seen) {
            return Ok(expected.len());
        }
        if started.elapsed() > MIRROR_WAIT {
            let status = mirror
                .federation()
                .list_subscriptions(pb::ListSubscriptionsRequest {})
                .await
                .ok()
                .and_then(|r| {
                    r.into_inner()
                        .subscriptions
                        .into_iter()
                        .find(|s| s.node_id == university.node_id())
                });
            let why = status
                .map(|s| {
                    if s.last_error.is_empty() {
                        format!("link {}", if s.connected { "up" } else { "down" })
                    } else {
                        s.last_error
                    }
                })
                .unwrap_or_else(|| "no subscription".to_owned());
            bail!(
                "the hub's calendar shows {} of the university's {} activities after {} s ({why})",
                expected.intersection(&seen).count(),
                expected.len(),
                MIRROR_WAIT.as_secs()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
