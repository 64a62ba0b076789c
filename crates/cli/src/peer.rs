//! `edufed peer …`: pinning other nodes by the fingerprint of their key.

use clap::Subcommand;
use edufed_proto::v1 as pb;

use crate::client::Connection;
use crate::output::{Format, print_json, table, time};

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
    /// The pinned peers.
    List,
    /// Unpin a peer.
    Remove {
        /// The peer's node id.
        node_id: String,
    },
}

fn print_peers(peers: &[pb::Peer]) {
    let mut t = table(&["node id", "name", "url", "organizations", "pinned"]);
    for peer in peers {
        let d = peer.descriptor.clone().unwrap_or_default();
        let orgs: Vec<&str> = d.organizations.iter().map(|o| o.slug.as_str()).collect();
        t.add_row(vec![
            d.node_id.clone(),
            d.name.clone(),
            d.url.clone(),
            orgs.join(", "),
            time(peer.added_at.as_ref()),
        ]);
    }
    println!("{t}");
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
            print_peers(std::slice::from_ref(&peer));
        }
        PeerCommand::List => {
            let response = client
                .list_peers(pb::ListPeersRequest {})
                .await?
                .into_inner();
            if format == Format::Json {
                return print_json(&response);
            }
            print_peers(&response.peers);
        }
        PeerCommand::Remove { node_id } => {
            client
                .remove_peer(pb::RemovePeerRequest {
                    node_id: node_id.clone(),
                })
                .await?;
            println!("peer {node_id} removed");
        }
    }
    Ok(())
}
