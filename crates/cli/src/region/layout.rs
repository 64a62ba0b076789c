//! The region's shape: a regional hub, a city hub per city and the
//! institutions of each city, with the organizations each node hosts and
//! who pins and follows whom.

use edufed_proto::v1 as pb;

/// What a node is in the region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// The regional institute's node, which follows the whole region.
    Regional,
    /// A city's methodical centre.
    CityHub,
    School,
    University,
    Technopark,
    Museum,
}

impl Role {
    pub fn is_hub(self) -> bool {
        matches!(self, Role::Regional | Role::CityHub)
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Regional => "regional hub",
            Role::CityHub => "city hub",
            Role::School => "school",
            Role::University => "university",
            Role::Technopark => "technopark",
            Role::Museum => "museum",
        }
    }

    fn org_kind(self) -> pb::OrganizationKind {
        match self {
            Role::Regional | Role::CityHub => pb::OrganizationKind::MethodicalCentre,
            Role::School => pb::OrganizationKind::School,
            Role::University => pb::OrganizationKind::University,
            Role::Technopark => pb::OrganizationKind::Technopark,
            Role::Museum => pb::OrganizationKind::Museum,
        }
    }

    fn noun(self) -> &'static str {
        match self {
            Role::Regional => "Региональный институт развития образования",
            Role::CityHub => "Методический центр",
            Role::School => "Школа",
            Role::University => "Университет",
            Role::Technopark => "Технопарк",
            Role::Museum => "Музей",
        }
    }
}

/// The towns of Tomsk oblast, for the cities' names; beyond them, numbered.
const CITIES: [&str; 10] = [
    "Томск",
    "Северск",
    "Стрежевой",
    "Асино",
    "Колпашево",
    "Кедровый",
    "Каргасок",
    "Парабель",
    "Кожевниково",
    "Мельниково",
];

/// The region's time zone.
pub const ZONE: &str = "Asia/Tomsk";

pub fn city_name(city: usize) -> String {
    CITIES
        .get(city)
        .map(|c| (*c).to_owned())
        .unwrap_or_else(|| format!("Город {}", city + 1))
}

/// One node of the region.
#[derive(Debug, Clone)]
pub struct NodeSpec {
    /// Its place in [`Layout::nodes`].
    pub index: usize,
    pub role: Role,
    /// Its city; `None` for the regional hub.
    pub city: Option<usize>,
    /// Its name, as its descriptor gives it.
    pub name: String,
    /// The slug of its own organization; the node acts for it.
    pub main_org: String,
    /// How many organizations it hosts, its own included.
    pub organizations: usize,
    /// Its PostgreSQL database, if it runs on one.
    pub postgres: Option<String>,
}

impl NodeSpec {
    /// The request creating its `k`th organization (0 is its own).
    pub fn organization(&self, k: usize) -> pb::CreateOrganizationRequest {
        let city = self.city.map(city_name).unwrap_or_else(|| "Томск".into());
        let (slug, full_name, short_name) = if k == 0 {
            (self.main_org.clone(), self.name.clone(), self.name.clone())
        } else {
            (
                format!("{}-{k}", self.main_org),
                format!("{} №{k} ({city})", self.role.noun()),
                format!("{} {}-{k}", self.role.noun(), self.index),
            )
        };
        pb::CreateOrganizationRequest {
            slug,
            kind: self.role.org_kind().into(),
            full_name,
            short_name,
            city,
            time_zone: ZONE.into(),
            contacts: None,
            inn: String::new(),
        }
    }
}

/// Who follows whom: `follower` subscribes to `origin`'s log, directly or
/// through the pinned `via`, for `kinds` (all when empty).
#[derive(Debug, Clone)]
pub struct Follow {
    pub follower: usize,
    pub origin: usize,
    pub via: Option<usize>,
    pub kinds: Vec<&'static str>,
}

/// The kinds a node relays from its mirrors.
pub const RELAYED: [&str; 4] = ["activity", "activity_seats", "resource", "resource_busy"];

/// The kinds a school follows of its partner university.
pub const PARTNER_KINDS: [&str; 3] = ["activity", "activity_seats", "registration"];

/// The whole region.
#[derive(Debug, Clone)]
pub struct Layout {
    pub nodes: Vec<NodeSpec>,
    /// Pairs (a, b): a pins b. Pins go both ways for every follow.
    pub pins: Vec<(usize, usize)>,
    pub follows: Vec<Follow>,
    /// Each school's partner university, in the next city.
    pub partners: Vec<(usize, usize)>,
}

impl Layout {
    /// `cities` cities of `per_city` institutions each (a university, a
    /// technopark, a museum, then schools), `organizations` in all, the
    /// regional hub and the first `postgres.len() - 1` city hubs on the
    /// PostgreSQL databases given.
    pub fn new(cities: usize, per_city: usize, organizations: usize, postgres: &[String]) -> Self {
        let mut nodes = Vec::new();
        let institutions = cities * per_city;
        // Every hub hosts its own centre; the institutions share the rest.
        let spread = organizations.saturating_sub(1 + cities);
        let mut push = |role: Role, city: Option<usize>, name: String, organizations: usize| {
            let index = nodes.len();
            nodes.push(NodeSpec {
                index,
                role,
                city,
                name,
                main_org: format!("node-{index}"),
                organizations: organizations.max(1),
                postgres: None,
            });
            index
        };
        push(Role::Regional, None, "ТОИПКРО".into(), 1);
        let mut hubs = Vec::new();
        let mut of_city: Vec<Vec<usize>> = Vec::new();
        let mut placed = 0;
        for city in 0..cities {
            let hub = push(
                Role::CityHub,
                Some(city),
                format!("Методический центр, {}", city_name(city)),
                1,
            );
            hubs.push(hub);
            let mut members = Vec::new();
            for k in 0..per_city {
                let role = match k {
                    0 => Role::University,
                    1 => Role::Technopark,
                    2 => Role::Museum,
                    _ => Role::School,
                };
                let n = city * per_city + k;
                // An even share, the remainder to the first ones.
                let share = spread / institutions + usize::from(n < spread % institutions);
                placed += share;
                let name = match role {
                    Role::School => format!("Школа №{} ({})", k - 2, city_name(city)),
                    _ => format!("{} ({})", role.noun(), city_name(city)),
                };
                members.push(push(role, Some(city), name, share));
            }
            of_city.push(members);
        }
        debug_assert!(placed <= spread);
        for (spec, url) in std::iter::once(0)
            .chain(hubs.iter().copied())
            .zip(postgres)
            .map(|(i, url)| (i, url.clone()))
            .collect::<Vec<_>>()
        {
            nodes[spec].postgres = Some(url);
        }
        let mut pins = Vec::new();
        let mut follows = Vec::new();
        let both = |pins: &mut Vec<(usize, usize)>, a: usize, b: usize| {
            pins.push((a, b));
            pins.push((b, a));
        };
        for (city, hub) in hubs.iter().copied().enumerate() {
            both(&mut pins, hub, 0);
            follows.push(Follow {
                follower: hub,
                origin: 0,
                via: None,
                kinds: vec![],
            });
            follows.push(Follow {
                follower: 0,
                origin: hub,
                via: None,
                kinds: vec![],
            });
            for &institution in &of_city[city] {
                both(&mut pins, institution, hub);
                follows.push(Follow {
                    follower: institution,
                    origin: hub,
                    via: None,
                    kinds: vec![],
                });
                follows.push(Follow {
                    follower: hub,
                    origin: institution,
                    via: None,
                    kinds: vec![],
                });
                // The regional hub follows every institution through its
                // city hub, without pinning it.
                follows.push(Follow {
                    follower: 0,
                    origin: institution,
                    via: Some(hub),
                    kinds: RELAYED.to_vec(),
                });
            }
        }
        let mut partners = Vec::new();
        if cities > 1 {
            for city in 0..cities {
                let university = of_city[(city + 1) % cities][0];
                for &school in &of_city[city] {
                    if nodes[school].role == Role::School {
                        both(&mut pins, school, university);
                        follows.push(Follow {
                            follower: school,
                            origin: university,
                            via: None,
                            kinds: PARTNER_KINDS.to_vec(),
                        });
                        partners.push((school, university));
                    }
                }
            }
        }
        Layout {
            nodes,
            pins,
            follows,
            partners,
        }
    }

    pub fn of_role(&self, role: Role) -> impl Iterator<Item = &NodeSpec> {
        self.nodes.iter().filter(move |n| n.role == role)
    }

    pub fn institutions(&self) -> impl Iterator<Item = &NodeSpec> {
        self.nodes.iter().filter(|n| !n.role.is_hub())
    }

    /// The city hub of `city`.
    pub fn hub_of(&self, city: usize) -> usize {
        self.nodes
            .iter()
            .find(|n| n.role == Role::CityHub && n.city == Some(city))
            .map(|n| n.index)
            .expect("every city has a hub")
    }
}
