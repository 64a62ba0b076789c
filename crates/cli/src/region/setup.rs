//! Bringing the region up through the nodes' own APIs: data directories,
//! processes, the links between them, organizations, a coordinator and
//! labs for each institution, pins and subscriptions, and the courses
//! partner schools register for.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use anyhow::{Context as _, anyhow};
use edufed_proto::v1 as pb;
use tokio::sync::{Mutex, Semaphore};
use tokio::task::JoinSet;

use super::layout::{Layout, NodeSpec, Role};
use super::links::Link;
use super::nodes::Process;
use crate::client::Connection;

/// Courses each university publishes before the load, for schools to
/// register cohorts for.
pub const SEED_COURSES: usize = 8;
/// Labs each institution has.
pub const LABS: usize = 2;

/// A node of the running region.
pub struct Node {
    pub spec: NodeSpec,
    pub id: String,
    pub url: String,
    pub operator: Connection,
    /// Its own organization's coordinator, who makes its writes.
    pub coordinator: OnceLock<Connection>,
    /// Its own organization's labs.
    pub labs: OnceLock<Vec<String>>,
    /// Its courses made before the load (universities).
    pub courses: OnceLock<Vec<String>>,
    pub process: Mutex<Process>,
}

impl Node {
    pub fn coordinator(&self) -> &Connection {
        self.coordinator.get().expect("set up")
    }
}

/// The running region.
pub struct Region {
    pub layout: Layout,
    pub nodes: Vec<Arc<Node>>,
    /// By (from, to).
    pub links: HashMap<(usize, usize), Link>,
    pub root: PathBuf,
}

/// Runs `work` for each node, at most `parallel` at once.
async fn each<F, Fut>(nodes: &[Arc<Node>], parallel: usize, work: F) -> anyhow::Result<()>
where
    F: Fn(Arc<Node>) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let permits = Arc::new(Semaphore::new(parallel));
    let mut tasks = JoinSet::new();
    for node in nodes {
        let permit = permits.clone().acquire_owned().await?;
        let job = work(node.clone());
        tasks.spawn(async move {
            let done = job.await;
            drop(permit);
            done
        });
    }
    while let Some(done) = tasks.join_next().await {
        done??;
    }
    Ok(())
}

/// A public course of `publisher` on a weekday `days` from now.
pub fn course(title: String, days: i64, capacity: u32) -> pb::ActivityDetails {
    let day = (chrono::Utc::now() + chrono::Duration::days(days)).date_naive();
    pb::ActivityDetails {
        title,
        description: "Занятие сети региона".into(),
        kind: pb::ActivityKind::Course.into(),
        audience: Some(pb::Audience {
            students: Some(pb::GradeRange { min: 8, max: 11 }),
            ..Default::default()
        }),
        format: pb::Format::InPerson.into(),
        place: Some(pb::Place {
            kind: pb::PlaceKind::AtPublisher.into(),
            value: String::new(),
        }),
        visibility: pb::Visibility::Public.into(),
        capacity,
        schedule: Some(pb::Schedule {
            time_zone: String::new(),
            start: format!("{day}T15:00"),
            end: format!("{day}T17:00"),
            all_day: false,
            recurrence: None,
        }),
        ..Default::default()
    }
}

impl Region {
    /// Starts every node of `layout` under `root` and connects them.
    pub async fn start(layout: Layout, root: &Path, say: &dyn Fn(String)) -> anyhow::Result<Self> {
        let mut processes = Vec::new();
        {
            let mut tasks = JoinSet::new();
            let permits = Arc::new(Semaphore::new(4));
            for spec in layout.nodes.clone() {
                let root = root.to_owned();
                let permit = permits.clone().acquire_owned().await?;
                tasks.spawn(async move {
                    let mut process = Process::init(spec, &root).await?;
                    process.start().await?;
                    drop(permit);
                    anyhow::Ok(process)
                });
            }
            while let Some(done) = tasks.join_next().await {
                processes.push(done??);
            }
        }
        processes.sort_by_key(|p| p.spec.index);
        say(format!("{} nodes serve", processes.len()));
        let mut nodes = Vec::new();
        for process in processes {
            nodes.push(Arc::new(Node {
                spec: process.spec.clone(),
                id: process.node_id.clone(),
                url: process.url(),
                operator: Connection::lazy(&process.url(), &process.operator)?,
                coordinator: OnceLock::new(),
                labs: OnceLock::new(),
                courses: OnceLock::new(),
                process: Mutex::new(process),
            }));
        }
        let mut links = HashMap::new();
        for &(from, to) in &layout.pins {
            let target = nodes[to].url.trim_start_matches("http://").to_owned();
            links.insert((from, to), Link::open(target).await?);
        }
        Ok(Self {
            layout,
            nodes,
            links,
            root: root.to_owned(),
        })
    }

    /// Creates the organizations, coordinators and labs.
    pub async fn populate(&self, say: &dyn Fn(String)) -> anyhow::Result<()> {
        each(&self.nodes, 8, |node| async move {
            let mut directory = node.operator.directory();
            for k in 0..node.spec.organizations {
                directory
                    .create_organization(node.spec.organization(k))
                    .await
                    .with_context(|| format!("organization {k} of {}", node.spec.name))?;
            }
            let member = directory
                .add_member(pb::AddMemberRequest {
                    organization: node.spec.main_org.clone(),
                    person: Some(pb::add_member_request::Person::NewPerson(pb::NewPerson {
                        display_name: format!("Координатор, {}", node.spec.name),
                        email: String::new(),
                    })),
                    role: pb::Role::Coordinator.into(),
                })
                .await?
                .into_inner();
            let person = member.person.context("the member's person")?.id;
            let token = directory
                .create_token(pb::CreateTokenRequest {
                    person_id: person,
                    name: "region".into(),
                    ttl: None,
                })
                .await?
                .into_inner()
                .secret;
            let coordinator = Connection::lazy(&node.url, &token)?;
            let mut labs = Vec::new();
            if !node.spec.role.is_hub() {
                let mut booking = coordinator.booking();
                for n in 1..=LABS {
                    let lab = booking
                        .create_resource(pb::CreateResourceRequest {
                            owner: node.spec.main_org.clone(),
                            resource: Some(pb::Resource {
                                kind: pb::ResourceKind::Lab.into(),
                                name: format!("Лаборатория {n}"),
                                capacity: 30,
                                approval: pb::ApprovalPolicy::Automatic.into(),
                                access: pb::Access::Network.into(),
                                ..Default::default()
                            }),
                        })
                        .await
                        .with_context(|| format!("a lab of {}", node.spec.name))?
                        .into_inner();
                    labs.push(lab.id);
                }
            }
            let _ = node.labs.set(labs);
            let _ = node.coordinator.set(coordinator);
            Ok(())
        })
        .await?;
        let total: usize = self.nodes.iter().map(|n| n.spec.organizations).sum();
        say(format!(
            "{total} organizations, a coordinator and {LABS} labs per institution"
        ));
        Ok(())
    }

    /// Pins and subscribes as the layout says, then publishes the
    /// universities' courses and waits until partner schools and the
    /// regional hub hold them.
    pub async fn federate(&self, say: &dyn Fn(String)) -> anyhow::Result<()> {
        let pins: Vec<_> = self.layout.pins.clone();
        let links: Arc<HashMap<(usize, usize), String>> = Arc::new(
            self.links
                .iter()
                .map(|(key, link)| (*key, link.url()))
                .collect(),
        );
        let ids: Arc<Vec<String>> = Arc::new(self.nodes.iter().map(|n| n.id.clone()).collect());
        each(&self.nodes, 8, |node| {
            let mine: Vec<usize> = pins
                .iter()
                .filter(|(from, _)| *from == node.spec.index)
                .map(|(_, to)| *to)
                .collect();
            let links = links.clone();
            let ids = ids.clone();
            async move {
                let mut federation = node.operator.federation();
                for to in mine {
                    federation
                        .add_peer(pb::AddPeerRequest {
                            url: links[&(node.spec.index, to)].clone(),
                            fingerprint: ids[to].clone(),
                        })
                        .await
                        .with_context(|| format!("{} pinning node {to}", node.spec.name))?;
                }
                Ok(())
            }
        })
        .await?;
        for follow in &self.layout.follows {
            let follower = &self.nodes[follow.follower];
            follower
                .operator
                .federation()
                .subscribe(pb::SubscribeRequest {
                    node_id: self.nodes[follow.origin].id.clone(),
                    entity_kinds: follow.kinds.iter().map(|k| (*k).to_owned()).collect(),
                    via: follow
                        .via
                        .map(|v| self.nodes[v].id.clone())
                        .unwrap_or_default(),
                    activity_filter: None,
                })
                .await
                .with_context(|| {
                    format!(
                        "{} following {}",
                        follower.spec.name, self.nodes[follow.origin].spec.name
                    )
                })?;
        }
        say(format!(
            "{} pins, {} subscriptions ({} through a city hub)",
            self.layout.pins.len(),
            self.layout.follows.len(),
            self.layout
                .follows
                .iter()
                .filter(|f| f.via.is_some())
                .count()
        ));
        let universities: Vec<_> = self
            .nodes
            .iter()
            .filter(|n| n.spec.role == Role::University)
            .cloned()
            .collect();
        each(&universities, 8, |node| async move {
            let mut calendar = node.coordinator().calendar();
            let mut courses = Vec::new();
            for n in 1..=SEED_COURSES {
                let course = calendar
                    .publish_activity(pb::PublishActivityRequest {
                        publisher: node.spec.main_org.clone(),
                        details: Some(course(
                            format!("Подготовка к олимпиаде, группа {n}"),
                            30 + n as i64,
                            1000,
                        )),
                        draft: false,
                    })
                    .await?
                    .into_inner();
                courses.push(course.id);
            }
            let _ = node.courses.set(courses);
            Ok(())
        })
        .await?;
        // The schools forward registrations only for courses they hold.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(300);
        for &(school, university) in &self.layout.partners {
            let courses = self.nodes[university]
                .courses
                .get()
                .cloned()
                .unwrap_or_default();
            for id in courses {
                for at in [school, 0] {
                    let mut calendar = self.nodes[at].operator.calendar();
                    loop {
                        let found = calendar
                            .get_activity(pb::GetActivityRequest {
                                activity_id: id.clone(),
                            })
                            .await;
                        if found.is_ok() {
                            break;
                        }
                        if tokio::time::Instant::now() > deadline {
                            return Err(anyhow!(
                                "{} does not hold course {id} of {} after five minutes",
                                self.nodes[at].spec.name,
                                self.nodes[university].spec.name
                            ));
                        }
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                }
            }
        }
        say("the universities' courses reached their partner schools and the regional hub".into());
        Ok(())
    }

    /// Stops every node.
    pub async fn stop(&self) {
        for node in &self.nodes {
            let _ = node.process.lock().await.stop().await;
        }
    }
}
