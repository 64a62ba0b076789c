//! The people the demo's guide invites into the web console: one for each
//! kind of user the network serves, each with a one-time sign-in link made
//! afresh whenever the demo starts.

use std::path::Path;

use anyhow::Context as _;
use edufed_proto::v1 as pb;

use super::nodes::{DemoNode, Site, connect};
use super::token_file;

/// Who the guide offers a sign-in link for.
struct Person {
    /// Who they are, as the guide introduces them.
    role: &'static str,
    /// The organization whose admin they are.
    slug: &'static str,
    site: Site,
}

const PEOPLE: [Person; 4] = [
    Person {
        role: "a school's deputy director (Гимназия №24, on the hub)",
        slug: "gym24-tomsk",
        site: Site::Hub,
    },
    Person {
        role: "a university's outreach coordinator (ТГУ, on the university node)",
        slug: "tsu",
        site: Site::University,
    },
    Person {
        role: "a technopark's administrator («Кванториум», on its own node)",
        slug: "kvantorium-mgn",
        site: Site::Technopark,
    },
    Person {
        role: "the methodical centre's analyst (МАУ ИМЦ, on the hub)",
        slug: "imc-tomsk",
        site: Site::Hub,
    },
];

/// A one-time link into the console, for the guide.
pub(super) struct Invitation {
    pub(super) role: String,
    pub(super) url: String,
}

/// How long the guide's links work if unused.
const LINK_TTL: prost_types::Duration = prost_types::Duration {
    seconds: 24 * 3600,
    nanos: 0,
};

/// Asks each person's node for a sign-in link, as that person, and one for
/// the hub's operator.
pub(super) async fn invitations(dir: &Path, nodes: &[DemoNode]) -> anyhow::Result<Vec<Invitation>> {
    let mut out = Vec::new();
    for person in &PEOPLE {
        let node = &nodes[person.site.index()];
        let path = token_file(dir, person.slug);
        let token = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        out.push(Invitation {
            role: person.role.to_owned(),
            url: link(node, token.trim()).await?,
        });
    }
    let hub = &nodes[Site::Hub.index()];
    let token = std::fs::read_to_string(&hub.operator_token_file)
        .with_context(|| format!("cannot read {}", hub.operator_token_file.display()))?;
    out.push(Invitation {
        role: "the hub's operator (peers, subscriptions, the node's health)".to_owned(),
        url: link(hub, token.trim()).await?,
    });
    Ok(out)
}

async fn link(node: &DemoNode, token: &str) -> anyhow::Result<String> {
    let conn = connect(&node.url, token).await?;
    let link = conn
        .directory()
        .create_sign_in_link(pb::CreateSignInLinkRequest {
            person_id: String::new(),
            ttl: Some(LINK_TTL),
            invitation: false,
        })
        .await
        .with_context(|| format!("cannot make a sign-in link on {}", node.url))?
        .into_inner();
    Ok(link.url)
}
