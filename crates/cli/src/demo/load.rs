//! Loading a fresh demo directory: the seeds' organizations, resources,
//! activities and agreements, each through its node's gRPC API as the
//! organization's admin, and the record of what was loaded.

use std::collections::{BTreeMap, HashMap};
use std::os::unix::fs::DirBuilderExt as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use chrono::NaiveDate;
use edufed_domain::time::Clock;
use edufed_proto::v1 as pb;

use super::nodes::{DemoNode, Site, connect, federate};
use super::records::{activity_details, agreement_content};
use super::seeds::{GUIDE_LAB, GUIDE_LAB_OWNER, seeds};
use super::{
    AGREEMENTS_DIR, LoadedOrg, MANIFEST_FILE, Manifest, TOKENS_DIR, token_file, write_private,
};
use crate::client::Connection;
use crate::output::to_json;

/// Connections as each organization's admin, opened on first use.
pub(super) struct Admins<'a> {
    dir: &'a Path,
    nodes: &'a [DemoNode],
    orgs: &'a BTreeMap<String, LoadedOrg>,
    open: HashMap<String, Connection>,
}

impl Admins<'_> {
    pub(super) async fn of(&mut self, slug: &str) -> anyhow::Result<&Connection> {
        if !self.open.contains_key(slug) {
            let org = self
                .orgs
                .get(slug)
                .with_context(|| format!("organization {slug} was not loaded"))?;
            let node = self
                .nodes
                .iter()
                .find(|n| n.site.dir_name() == org.node)
                .with_context(|| format!("no node {}", org.node))?;
            let path = token_file(self.dir, slug);
            let token = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let conn = connect(&node.url, token.trim()).await?;
            self.open.insert(slug.to_owned(), conn);
        }
        self.open
            .get(slug)
            .with_context(|| format!("no connection for {slug}"))
    }

    /// Who reviews `slug`'s professional trials on its node: the methodical
    /// centre's admin on the hub, the node's operator elsewhere.
    pub(super) async fn reviewer_of(&mut self, slug: &str) -> anyhow::Result<&Connection> {
        let org = self
            .orgs
            .get(slug)
            .with_context(|| format!("organization {slug} was not loaded"))?;
        if org.node == Site::Hub.dir_name() {
            return self.of(REVIEWING_CENTRE).await;
        }
        let key = format!("operator of {}", org.node);
        if !self.open.contains_key(&key) {
            let node = self
                .nodes
                .iter()
                .find(|n| n.site.dir_name() == org.node)
                .with_context(|| format!("no node {}", org.node))?;
            let conn = connect(&node.url, &node.operator_token).await?;
            self.open.insert(key.clone(), conn);
        }
        self.open
            .get(&key)
            .with_context(|| format!("no connection for {key}"))
    }
}

/// The methodical centre on the hub that reviews its trials for the bank.
const REVIEWING_CENTRE: &str = "imc-tomsk";

/// Creates the organizations, each with an admin and the admin's token.
async fn load_organizations(
    dir: &Path,
    nodes: &[DemoNode],
) -> anyhow::Result<BTreeMap<String, LoadedOrg>> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir.join(TOKENS_DIR))
        .with_context(|| format!("cannot create {}", dir.join(TOKENS_DIR).display()))?;
    let mut operators = Vec::new();
    for n in nodes {
        operators.push(connect(&n.url, &n.operator_token).await?);
    }
    let mut orgs = BTreeMap::new();
    for seed in &seeds()?.organizations {
        let site = Site::of(seed.kind.into());
        let mut directory = operators[site.index()].directory();
        let created = directory
            .create_organization(pb::CreateOrganizationRequest {
                slug: seed.slug.clone(),
                kind: seed.kind.into(),
                full_name: seed.full_name.clone(),
                short_name: seed.short_name.clone(),
                city: seed.city.clone(),
                time_zone: seed.time_zone.clone(),
                contacts: Some(pb::Contacts {
                    email: seed.email.clone(),
                    phone: String::new(),
                    website: String::new(),
                    address: seed.address.clone(),
                }),
                inn: seed.inn.clone(),
            })
            .await
            .with_context(|| format!("cannot create organization {}", seed.slug))?
            .into_inner();
        let member = directory
            .add_member(pb::AddMemberRequest {
                organization: seed.slug.clone(),
                person: Some(pb::add_member_request::Person::NewPerson(pb::NewPerson {
                    display_name: format!("Администратор ({})", seed.short_name),
                    email: String::new(),
                })),
                role: pb::Role::Admin.into(),
            })
            .await
            .with_context(|| format!("cannot add an admin to {}", seed.slug))?
            .into_inner();
        let person_id = member.person.map(|p| p.id).unwrap_or_default();
        let secret = directory
            .create_token(pb::CreateTokenRequest {
                person_id,
                name: "edufed demo".to_owned(),
                ttl: None,
            })
            .await
            .with_context(|| format!("cannot issue a token for the admin of {}", seed.slug))?
            .into_inner()
            .secret;
        write_private(&token_file(dir, &seed.slug), &format!("{secret}\n"))?;
        orgs.insert(
            seed.slug.clone(),
            LoadedOrg {
                id: created.id,
                node: site.dir_name().to_owned(),
                short_name: seed.short_name.clone(),
            },
        );
    }
    Ok(orgs)
}

/// Loads a fresh demo directory and records it.
pub(super) async fn load(
    dir: &Path,
    nodes: &[DemoNode],
    clock: &Clock,
    today: NaiveDate,
) -> anyhow::Result<Manifest> {
    let orgs = load_organizations(dir, nodes).await?;
    federate(nodes).await?;
    let mut admins = Admins {
        dir,
        nodes,
        orgs: &orgs,
        open: HashMap::new(),
    };
    let mut summary = Vec::new();

    let per_node = |site: Site| orgs.values().filter(|o| o.node == site.dir_name()).count();
    summary.push(format!(
        "{} organizations ({} on the university node, {} on the technopark node, {} on the hub), each with an admin and the admin's token",
        orgs.len(),
        per_node(Site::University),
        per_node(Site::Technopark),
        per_node(Site::Hub),
    ));

    let mut lab_id = None;
    let mut resources = Vec::new();
    let seeds = seeds()?;
    for seed in &seeds.resources {
        let created = admins
            .of(&seed.owner)
            .await?
            .booking()
            .create_resource(pb::CreateResourceRequest {
                owner: seed.owner.to_owned(),
                resource: Some(pb::Resource {
                    kind: seed.kind.into(),
                    name: seed.name.to_owned(),
                    capacity: seed.capacity,
                    features: seed.features.clone(),
                    approval: pb::ApprovalPolicy::ApprovalRequired.into(),
                    access: pb::Access::Network.into(),
                    ..Default::default()
                }),
            })
            .await
            .with_context(|| format!("cannot add resource {} of {}", seed.name, seed.owner))?
            .into_inner();
        if seed.owner == GUIDE_LAB_OWNER && seed.name == GUIDE_LAB {
            lab_id = Some(created.id.clone());
        }
        resources.push(format!(
            "{} ({} places{})",
            seed.name,
            seed.capacity,
            if seed.capacity_assumed {
                ", assumed"
            } else {
                ""
            }
        ));
    }
    let lab_id = lab_id.with_context(|| format!("the technopark has no {GUIDE_LAB}"))?;
    summary.push(format!(
        "{} resources, open to the network, the owner approving requests: {}",
        resources.len(),
        resources.join(", ")
    ));
    summary.extend(super::past::load_past(&mut admins, &lab_id, clock, today).await?);

    let mut university_activities = 0;
    for seed in &seeds.activities {
        let details = activity_details(seed, today, &orgs)?;
        admins
            .of(&seed.publisher)
            .await?
            .calendar()
            .publish_activity(pb::PublishActivityRequest {
                publisher: seed.publisher.to_owned(),
                details: Some(details),
                draft: false,
            })
            .await
            .with_context(|| format!("cannot publish «{}» of {}", seed.title, seed.publisher))?;
        if orgs
            .get(&seed.publisher)
            .is_some_and(|o| o.node == Site::University.dir_name())
        {
            university_activities += 1;
        }
    }
    summary.push(format!(
        "{} public activities with the seeds' dates and grades ({university_activities} of the universities); \
         where the seeds give no date or grades, the activity's description says what is assumed",
        seeds.activities.len()
    ));

    std::fs::create_dir_all(dir.join(AGREEMENTS_DIR))
        .with_context(|| format!("cannot create {}", dir.join(AGREEMENTS_DIR).display()))?;
    let (mut drafted, mut proposed, mut across) = (0, 0, 0);
    let mut skipped = Vec::new();
    let mut agreement_id = None;
    let mut agreement_file = PathBuf::new();
    for seed in &seeds.agreements {
        let content = agreement_content(seed, today)?;
        let Some(initiator) = seed.parties.first().map(|p| p.org.as_str()) else {
            bail!("«{}» has no parties", seed.title);
        };
        let home = |slug: &str| orgs.get(slug).map(|o| o.node.clone());
        let cross_node = seed.parties.iter().any(|p| home(&p.org) != home(initiator));
        let slugs: Vec<&str> = seed.parties.iter().map(|p| p.org.as_str()).collect();
        let file = dir
            .join(AGREEMENTS_DIR)
            .join(format!("{}.json", slugs.join("+")));
        write_private(&file, &format!("{}\n", to_json(&content, true)))?;
        if seed.propose {
            agreement_file = file.clone();
        }
        let mut client = admins.of(initiator).await?.agreements();
        let agreement = match client
            .draft_agreement(pb::DraftAgreementRequest {
                initiator: initiator.to_owned(),
                content: Some(content),
            })
            .await
        {
            Ok(agreement) => agreement.into_inner(),
            Err(status) if cross_node => {
                skipped.push(format!(
                    "«{}» ({}): the initiator's node refused a party on another node ({:?}: {})",
                    seed.title,
                    slugs.join(" and "),
                    status.code(),
                    status.message()
                ));
                continue;
            }
            Err(status) => {
                return Err(status).with_context(|| {
                    format!("cannot draft «{}» on {initiator}'s node", seed.title)
                });
            }
        };
        if cross_node {
            across += 1;
        }
        if seed.propose {
            client
                .propose_agreement(pb::ProposeAgreementRequest {
                    agreement_id: agreement.id.clone(),
                    expected_revision: agreement.revision,
                })
                .await
                .with_context(|| format!("cannot propose «{}»", seed.title))?;
            proposed += 1;
            agreement_id = Some(agreement.id);
        } else {
            drafted += 1;
        }
    }
    summary.push(format!(
        "{} agreements: {drafted} drafts, {proposed} proposed for signatures \
         ({across} of them with a party on another node, on the initiator's node){}",
        seeds.agreements.len(),
        if skipped.is_empty() {
            String::new()
        } else {
            format!("; {} skipped", skipped.len())
        }
    ));
    summary.extend(skipped.into_iter().map(|s| format!("  skipped {s}")));
    summary.push(super::mentoring::load_mentoring(&mut admins, today).await?);
    summary.push(super::careers::load_careers(&mut admins, today, &lab_id).await?);

    let manifest = Manifest {
        organizations: orgs.clone(),
        lab_id,
        lab_name: GUIDE_LAB.to_owned(),
        agreement_id,
        agreement_file,
        summary,
    };
    let json = serde_json::to_string_pretty(&manifest).context("cannot record the demo")?;
    write_private(&dir.join(MANIFEST_FILE), &format!("{json}\n"))?;
    Ok(manifest)
}
