//! `edufed peer …`: pinning other nodes by the fingerprint of their key.

use clap::Subcommand;
use edufed_proto::v1 as pb;

use crate::client::Connection;
use crate::output::out;
use chrono_tz::Tz;

use crate::output::{Format, print_json, table, time};
use crate::values::{Direction, Visibility};
use crate::zones::Zones;

/// Peer nodes (operator only).
#[derive(Debug, Subcommand)]
pub enum PeerCommand {
    /// Pin a node: fetch its descriptor from URL and check that it proves
    /// the key with this fingerprint (its node id, from its `edufed whoami`).
    Add {
        /// The peer's URL, e.g. https://edufed.tusur.ru:50051.
        url: String,
        /// The node id the peer's operator gave you, 64 hex digits.
        #[arg(long)]
        fingerprint: String,
    },
    /// List the pinned peers: node id, name, URL and the organizations each hosts.
    List,
    /// Unpin a peer (and stop following it).
    Remove {
        /// The peer's node id, as `peer list` prints it.
        node_id: String,
    },
    /// How each subscription is doing: cursor, lag, link, last error.
    Status,
    /// A digest of one origin's records (count, SHA-256, latest sequence):
    /// this node's mirrors of ORIGIN, or, without ORIGIN, this node's own
    /// records as the peer given by --for is shown them. Equal digests on a
    /// follower and its origin mean the follower holds what it was shown.
    Digest {
        /// The peer whose records this node mirrors; this node's own when omitted.
        origin: Option<String>,
        /// For this node's own records: the pinned peer they are shown to;
        /// only what is shared with the whole network when omitted.
        #[arg(long = "for", value_name = "NODE ID")]
        for_node: Option<String>,
        /// Only these entity kinds (activity, activity_seats, …); repeatable, all when none.
        #[arg(long = "kind")]
        kinds: Vec<String>,
    },
}

/// `edufed subscribe`: follow a pinned peer's change log.
#[derive(Debug, clap::Args)]
pub struct SubscribeArgs {
    /// The peer's node id, as `peer list` prints it.
    node_id: String,
    /// Only these entity kinds (activity, activity_seats, agreement, …); all it shares when none.
    #[arg(long = "kind")]
    kinds: Vec<String>,
    /// Follow the node through this pinned peer, which relays what it
    /// mirrors of it and shares with the network; the node itself need not
    /// be pinned then.
    #[arg(long, value_name = "NODE ID")]
    via: Option<String>,
    /// Keep only these publishers' activities (id or slug); repeatable.
    #[arg(long = "publisher")]
    publishers: Vec<String>,
    /// Keep only activities of these directions; repeatable.
    #[arg(long = "direction", value_enum, ignore_case = true)]
    directions: Vec<Direction>,
    /// Keep only activities for some of these grades, e.g. 9 or 9-11.
    #[arg(long)]
    grades: Option<String>,
    /// Keep only activities of these visibilities; repeatable.
    #[arg(long = "visibility", value_enum, ignore_case = true)]
    visibility: Vec<Visibility>,
}

/// `edufed unsubscribe`: stop following a peer; its mirrors stay.
#[derive(Debug, clap::Args)]
pub struct UnsubscribeArgs {
    /// The peer's node id, as `peer list` prints it.
    node_id: String,
}

fn print_subscriptions(list: &[pb::SubscriptionStatus], zone: Tz) {
    let mut t = table(&[
        "peer",
        "kinds",
        "cursor",
        "lag",
        "link",
        "last contact",
        "last error",
    ]);
    for s in list {
        t.add_row(vec![
            if s.via.is_empty() {
                s.node_id.clone()
            } else {
                format!("{} (via {})", s.node_id, s.via)
            },
            if s.entity_kinds.is_empty() {
                "all".to_owned()
            } else {
                s.entity_kinds.join(", ")
            },
            s.cursor.to_string(),
            format!("{} entries, {} s", s.lag_entries, s.lag_seconds),
            if s.connected { "up" } else { "down" }.to_owned(),
            time(s.last_contact.as_ref(), zone),
            s.last_error.clone(),
        ]);
    }
    out!("{t}");
}

/// Runs `subscribe`.
pub async fn subscribe(
    conn: Connection,
    args: SubscribeArgs,
    format: Format,
) -> anyhow::Result<()> {
    let status = conn
        .federation()
        .subscribe(pb::SubscribeRequest {
            node_id: args.node_id,
            entity_kinds: args.kinds,
            via: args.via.unwrap_or_default(),
            activity_filter: Some(pb::ActivityFilter {
                publishers: args.publishers,
                directions: args.directions.into_iter().map(i32::from).collect(),
                grades: args
                    .grades
                    .as_deref()
                    .map(crate::activity::grades)
                    .transpose()?,
                visibility: args.visibility.into_iter().map(i32::from).collect(),
            }),
        })
        .await?
        .into_inner();
    if format == Format::Json {
        return print_json(&status);
    }
    print_subscriptions(
        std::slice::from_ref(&status),
        Zones::new(&conn).caller().await,
    );
    Ok(())
}

/// Runs `unsubscribe`.
pub async fn unsubscribe(conn: Connection, args: UnsubscribeArgs) -> anyhow::Result<()> {
    conn.federation()
        .unsubscribe(pb::UnsubscribeRequest {
            node_id: args.node_id.clone(),
        })
        .await?;
    out!("no longer following {}", args.node_id);
    Ok(())
}

fn print_peers(peers: &[pb::Peer], zone: Tz) {
    let mut t = table(&["node id", "name", "url", "organizations", "pinned"]);
    for peer in peers {
        let d = peer.descriptor.clone().unwrap_or_default();
        let orgs: Vec<&str> = d.organizations.iter().map(|o| o.slug.as_str()).collect();
        t.add_row(vec![
            d.node_id.clone(),
            d.name.clone(),
            d.url.clone(),
            orgs.join(", "),
            time(peer.added_at.as_ref(), zone),
        ]);
    }
    out!("{t}");
}

fn print_digest(digest: &pb::Digest) {
    let mut t = table(&["origin", "records", "sha256", "latest sequence"]);
    t.add_row(vec![
        digest.origin.clone(),
        digest.records.to_string(),
        digest.sha256.clone(),
        digest.latest_sequence.to_string(),
    ]);
    out!("{t}");
}

/// Runs a `peer` subcommand.
pub async fn peer(conn: Connection, command: PeerCommand, format: Format) -> anyhow::Result<()> {
    let mut client = conn.federation();
    match command {
        PeerCommand::Add { url, fingerprint } => {
            let peer = client
                .add_peer(pb::AddPeerRequest { url, fingerprint })
                .await?
                .into_inner();
            if format == Format::Json {
                return print_json(&peer);
            }
            print_peers(
                std::slice::from_ref(&peer),
                Zones::new(&conn).caller().await,
            );
        }
        PeerCommand::List => {
            let response = client
                .list_peers(pb::ListPeersRequest {})
                .await?
                .into_inner();
            if format == Format::Json {
                return print_json(&response);
            }
            print_peers(&response.peers, Zones::new(&conn).caller().await);
        }
        PeerCommand::Remove { node_id } => {
            client
                .remove_peer(pb::RemovePeerRequest {
                    node_id: node_id.clone(),
                })
                .await?;
            out!("peer {node_id} removed");
        }
        PeerCommand::Status => {
            let response = client
                .list_subscriptions(pb::ListSubscriptionsRequest {})
                .await?
                .into_inner();
            if format == Format::Json {
                return print_json(&response);
            }
            print_subscriptions(&response.subscriptions, Zones::new(&conn).caller().await);
        }
        PeerCommand::Digest {
            origin,
            for_node,
            kinds,
        } => {
            let digest = client
                .get_digest(pb::GetDigestRequest {
                    origin: origin.unwrap_or_default(),
                    for_node: for_node.unwrap_or_default(),
                    entity_kinds: kinds,
                })
                .await?
                .into_inner();
            if format == Format::Json {
                return print_json(&digest);
            }
            print_digest(&digest);
        }
    }
    Ok(())
}
