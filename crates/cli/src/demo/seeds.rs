//! The seeds' network (shared/network.json) as the demo loads it: the
//! organizations, their resources, activities and agreements, kept as data
//! in seeds.toml and read once.

use std::sync::LazyLock;

use anyhow::anyhow;
use chrono::Weekday;
use serde::Deserialize;

use crate::values::{
    ActivityFormat, ActivityKind, AgreementKind, Direction, OrganizationKind, ResourceKind,
    proto_enum,
};

/// The technopark's lab a school books in the guide, and its owner.
pub(super) const GUIDE_LAB: &str = "IT-квантум";
pub(super) const GUIDE_LAB_OWNER: &str = "kvantorium-mgn";

/// Everything the demo loads, in the order it loads it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Seeds {
    pub(super) organizations: Vec<OrgSeed>,
    pub(super) resources: Vec<ResourceSeed>,
    pub(super) activities: Vec<ActivitySeed>,
    pub(super) agreements: Vec<AgreementSeed>,
}

static SEEDS: LazyLock<Result<Seeds, toml::de::Error>> =
    LazyLock::new(|| toml::from_str(include_str!("seeds.toml")));

/// The seeds, parsed on first use.
pub(super) fn seeds() -> anyhow::Result<&'static Seeds> {
    SEEDS
        .as_ref()
        .map_err(|error| anyhow!("the demo's seeds.toml is not valid: {error}"))
}

impl Seeds {
    pub(super) fn org(&self, slug: &str) -> anyhow::Result<&OrgSeed> {
        self.organizations
            .iter()
            .find(|o| o.slug == slug)
            .ok_or_else(|| anyhow!("the demo's data names no organization {slug}"))
    }
}

/// An organization of the seeds.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct OrgSeed {
    pub(super) slug: String,
    pub(super) full_name: String,
    pub(super) short_name: String,
    pub(super) kind: OrganizationKind,
    pub(super) city: String,
    /// IANA zone.
    pub(super) time_zone: String,
    #[serde(default)]
    pub(super) inn: String,
    #[serde(default)]
    pub(super) address: String,
    #[serde(default)]
    pub(super) email: String,
}

/// A bookable resource of the seeds.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ResourceSeed {
    /// The owner's slug.
    pub(super) owner: String,
    pub(super) name: String,
    pub(super) kind: ResourceKind,
    #[serde(default)]
    pub(super) features: Vec<String>,
    pub(super) capacity: u32,
    /// Whether the seeds leave the capacity out (the demo's value is assumed).
    #[serde(default)]
    pub(super) capacity_assumed: bool,
}

/// Who an activity is for.
#[derive(Debug, Clone, Copy, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Audience {
    /// Students of these grades, as the seeds state.
    Grades(u32, u32),
    /// Students of these grades, assumed (the seeds do not state them).
    AssumedGrades(u32, u32),
    /// Teachers.
    Teachers,
    /// Students; the seeds do not say which grades (shown as 1–11).
    #[default]
    Unstated,
}

/// When an activity takes place. Variants named `Next…` are placed in the
/// coming year: the seeds give a month, a season or nothing, not a date.
#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub(super) enum When {
    /// Whole days, `from` to `to` inclusive (YYYY-MM-DD), `years` years
    /// running (1: once). `stated` is the period the seeds name when they
    /// give no days.
    Days {
        from: String,
        to: String,
        #[serde(default = "once")]
        years: u32,
        stated: Option<String>,
    },
    /// A one-day event on the days `rule` (an RRULE) gives, the first on
    /// `first`.
    Rule { first: String, rule: String },
    /// Lessons: the first one's local start and end, repeated by `rule`;
    /// days and times assumed.
    Lessons {
        start: String,
        end: String,
        rule: String,
    },
    /// The coming months `first` to `last` of the year (held every year then).
    NextMonths { first: u32, last: u32 },
    /// The two coming three-month intakes, autumn and spring.
    NextIntakes,
    /// `days` whole days from the coming `month`/`day`; assumed.
    NextDays { month: u32, day: u32, days: u64 },
    /// The `nth` `weekday` of each month, `count` months from next month; assumed.
    NextMonthly {
        nth: u8,
        weekday: Weekday,
        count: u32,
    },
    /// Every Saturday to the end of the school year.
    NextSaturdays,
}

fn once() -> u32 {
    1
}

/// An activity of the seeds.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ActivitySeed {
    /// The publisher's slug.
    pub(super) publisher: String,
    /// The partner organizations' slugs.
    #[serde(default)]
    pub(super) partners: Vec<String>,
    pub(super) title: String,
    pub(super) kind: ActivityKind,
    /// None: the seeds do not say (in person is assumed).
    #[serde(default)]
    pub(super) format: Option<ActivityFormat>,
    #[serde(default)]
    pub(super) direction: Option<Direction>,
    #[serde(default)]
    pub(super) subjects: Vec<String>,
    #[serde(default)]
    pub(super) audience: Audience,
    /// Seats; 0 is unlimited.
    #[serde(default)]
    pub(super) capacity: u32,
    /// "Name, position" or a name alone.
    #[serde(default)]
    pub(super) coordinator: String,
    pub(super) when: When,
    /// Further facts from the seeds for the description.
    #[serde(default)]
    pub(super) facts: String,
}

/// The term of an agreement.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Term {
    /// From and to, as the seeds state.
    Dates(String, String),
    /// The school year starting in September of this year.
    SchoolYear(i32),
    /// Not in the seeds: the current school year is assumed.
    #[default]
    Unstated,
}

proto_enum! {
    /// A party's role in an agreement.
    PartyRole => PartyRole {
        /// The base organization, which holds the students.
        Base,
        /// A participant organization, delivering part of the programme.
        Participant,
        /// A resource provider: a museum, an enterprise, a scientific organization.
        ResourceProvider,
    }
}

/// A party to an agreement.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Party {
    /// Its slug.
    pub(super) org: String,
    pub(super) role: PartyRole,
}

/// A network agreement of the seeds.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct AgreementSeed {
    pub(super) kind: AgreementKind,
    #[serde(default)]
    pub(super) number: String,
    /// YYYY-MM-DD, when the seeds give it.
    #[serde(default)]
    pub(super) dated: String,
    pub(super) title: String,
    /// The initiator first.
    pub(super) parties: Vec<Party>,
    #[serde(default)]
    pub(super) term: Term,
    #[serde(default)]
    pub(super) teachers: u32,
    #[serde(default)]
    pub(super) students: u32,
    /// What the seeds do not state and the demo assumes, besides the term.
    #[serde(default)]
    pub(super) assumed: String,
    /// Drafted with every Article 15 item and proposed for signatures.
    #[serde(default)]
    pub(super) propose: bool,
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn the_seeds_parse_and_name_only_their_own_organizations() {
        let seeds = seeds().unwrap();
        let slugs: BTreeSet<&str> = seeds
            .organizations
            .iter()
            .map(|o| o.slug.as_str())
            .collect();
        assert_eq!(slugs.len(), seeds.organizations.len(), "a slug repeats");
        let known = |slug: &str, what: &str| {
            assert!(slugs.contains(slug), "{what} names no organization {slug}");
        };
        for r in &seeds.resources {
            known(&r.owner, &format!("resource {}", r.name));
        }
        for a in &seeds.activities {
            known(&a.publisher, &format!("«{}»", a.title));
            for partner in &a.partners {
                known(partner, &format!("«{}»", a.title));
            }
        }
        for a in &seeds.agreements {
            assert!(a.parties.len() >= 2, "«{}» has one party", a.title);
            for party in &a.parties {
                known(&party.org, &format!("«{}»", a.title));
            }
        }
        assert!(
            seeds
                .resources
                .iter()
                .any(|r| r.owner == GUIDE_LAB_OWNER && r.name == GUIDE_LAB),
            "the guide's lab {GUIDE_LAB} is not a resource of {GUIDE_LAB_OWNER}"
        );
        assert_eq!(
            seeds.agreements.iter().filter(|a| a.propose).count(),
            1,
            "the guide signs one proposed agreement"
        );
    }
}
