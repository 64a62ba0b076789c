//! What a report is asked for: whose records, and what its rows are
//! grouped by.

use serde::Serialize;

use super::{Facts, OrgFacts, Period};
use crate::error::FieldError;
use crate::ids::OrgId;
use crate::stable::string_enum;

/// Whose records a report covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// The organizations this node hosts.
    Node,
    /// One organization.
    Organization(OrgId),
    /// The organizations of a city (folded).
    City(String),
    /// Every organization the node knows, its peers' included.
    Network,
}

impl Scope {
    /// Whether the organization is within.
    pub fn admits(&self, org: &OrgFacts) -> bool {
        match self {
            Scope::Node => org.hosted_here,
            Scope::Organization(id) => &org.id == id,
            Scope::City(city) => crate::text::fold(&org.city) == *city,
            Scope::Network => true,
        }
    }

    /// The scope in words.
    pub fn describe(&self, facts: &Facts) -> String {
        match self {
            Scope::Node => "this node's organizations".to_owned(),
            Scope::Organization(id) => facts.org_name(id),
            Scope::City(city) => format!("city {city}"),
            Scope::Network => "the whole network".to_owned(),
        }
    }
}

string_enum!(
    /// What rows are grouped by.
    Dimension as ReportDimension {
        /// The organization a row is about: the publisher of activities,
        /// the registering school of cohorts, a party of agreements, the
        /// owner of resources.
        Organization = "organization",
        /// The activity's publisher (participation only).
        Publisher = "publisher",
        /// The activity's direction.
        Direction = "direction",
        /// The activity's, agreement's or resource's kind.
        Kind = "kind",
        /// The month, "YYYY-MM", local.
        Month = "month",
        /// The cohort's grades (participation only).
        Grade = "grade",
        /// The agreement's state (agreements only).
        State = "state",
        /// The resource (resources only).
        Resource = "resource",
        /// The activity's publisher's designation standing on the day
        /// (activities and participation): "resource centres for robotics".
        /// An organization with two counts in both; one with none, once.
        Designation = "designation",
    }
);

/// Which report; for the dimensions each allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportKind {
    /// [`activities`](super::activities).
    Activities,
    /// [`participation`](super::participation).
    Participation,
    /// [`agreements`](super::agreements).
    Agreements,
    /// [`resources`](super::resources).
    Resources,
    /// [`mentoring`](super::mentoring): `kind` is the form, `state` the
    /// pair's state.
    Mentoring,
}

impl ReportKind {
    /// The dimensions rows may be grouped by.
    pub fn allowed(self) -> &'static [Dimension] {
        use Dimension::*;
        match self {
            ReportKind::Activities => &[Organization, Direction, Kind, Month, Designation],
            ReportKind::Participation => &[
                Organization,
                Publisher,
                Direction,
                Kind,
                Month,
                Grade,
                Designation,
            ],
            ReportKind::Agreements => &[Organization, Kind, State],
            ReportKind::Resources => &[Resource, Organization, Kind, Month],
            ReportKind::Mentoring => &[Organization, Kind, State],
        }
    }

    /// The grouping when none is asked for.
    pub fn default_grouping(self) -> &'static [Dimension] {
        use Dimension::*;
        match self {
            ReportKind::Activities => &[Organization, Direction, Kind, Month],
            ReportKind::Participation => &[Organization, Direction, Kind, Grade],
            ReportKind::Agreements => &[Kind, State],
            ReportKind::Resources => &[Resource],
            ReportKind::Mentoring => &[Kind],
        }
    }

    /// `requested`, checked, or the default; `field` names the input.
    pub fn grouping(
        self,
        field: &str,
        requested: &[Dimension],
    ) -> Result<Vec<Dimension>, FieldError> {
        if requested.is_empty() {
            return Ok(self.default_grouping().to_vec());
        }
        let mut out = Vec::new();
        for d in requested {
            if !self.allowed().contains(d) {
                return Err(FieldError::new(
                    field,
                    format!(
                        "this report is not grouped by {d}; it takes {}",
                        self.allowed()
                            .iter()
                            .map(|d| d.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
            if !out.contains(d) {
                out.push(*d);
            }
        }
        Ok(out)
    }
}

/// What a report is asked for.
#[derive(Debug, Clone)]
pub struct Query {
    pub period: Period,
    pub scope: Scope,
    /// Rows grouped by these, in this order.
    pub group_by: Vec<Dimension>,
    /// "Expiring soon" looks this many days ahead of `as_of` (agreements).
    pub expiring_within_days: u32,
}

/// What a row is grouped by; a dimension not grouped by is empty.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Key {
    /// An organization's id, as [`Dimension::Organization`] picks it.
    pub organization: String,
    /// The publisher's id.
    pub publisher: String,
    /// A [`crate::calendar::Direction`] by name.
    pub direction: String,
    /// The activity's, agreement's or resource's kind, by name.
    pub kind: String,
    /// "YYYY-MM", local to the record's organization.
    pub month: String,
    /// Grades, "8" or "8-9".
    pub grade: String,
    /// An agreement [`crate::agreement::State`] by name.
    pub state: String,
    /// A resource's id.
    pub resource: String,
    /// A designation, `kind:field`.
    pub designation: String,
}

impl Key {
    /// The key with only the dimensions of `group_by` kept.
    pub fn project(&self, group_by: &[Dimension]) -> Key {
        let keep = |d: Dimension, v: &String| {
            if group_by.contains(&d) {
                v.clone()
            } else {
                String::new()
            }
        };
        Key {
            organization: keep(Dimension::Organization, &self.organization),
            publisher: keep(Dimension::Publisher, &self.publisher),
            direction: keep(Dimension::Direction, &self.direction),
            kind: keep(Dimension::Kind, &self.kind),
            month: keep(Dimension::Month, &self.month),
            grade: keep(Dimension::Grade, &self.grade),
            state: keep(Dimension::State, &self.state),
            resource: keep(Dimension::Resource, &self.resource),
            designation: keep(Dimension::Designation, &self.designation),
        }
    }

    /// The value of one dimension.
    pub fn get(&self, d: Dimension) -> &str {
        match d {
            Dimension::Organization => &self.organization,
            Dimension::Publisher => &self.publisher,
            Dimension::Direction => &self.direction,
            Dimension::Kind => &self.kind,
            Dimension::Month => &self.month,
            Dimension::Grade => &self.grade,
            Dimension::State => &self.state,
            Dimension::Resource => &self.resource,
            Dimension::Designation => &self.designation,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouping_is_checked() {
        assert_eq!(
            ReportKind::Agreements.grouping("group_by", &[]).unwrap(),
            vec![Dimension::Kind, Dimension::State]
        );
        let err = ReportKind::Agreements
            .grouping("group_by", &[Dimension::Month])
            .unwrap_err();
        assert_eq!(err.field, "group_by");
        let key = Key {
            organization: "o".into(),
            month: "2026-01".into(),
            ..Key::default()
        };
        assert_eq!(key.project(&[Dimension::Month]).organization, "");
        assert_eq!(key.project(&[Dimension::Month]).month, "2026-01");
    }
}
