//! A peer's agreement as this node's copy of it tells: the summary its
//! home node publishes in its change log, enough to list it beside this
//! node's own agreements. The agreement itself is read at home.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;

use super::{AgreementFilter, AgreementKind, REGISTER, State};
use crate::ids::{AgreementId, OrgId};

/// What a node's change-log entry of an agreement says of it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct Summary {
    pub id: AgreementId,
    pub state: State,
    pub initiator: OrgId,
    pub in_force_version: Option<u32>,
    pub latest_version: u32,
    pub awaiting_version: Option<u32>,
    /// The effective version's (in force, else the latest).
    pub kind: AgreementKind,
    pub number: Option<String>,
    pub title: String,
    /// The effective version's parties.
    pub parties: Vec<OrgId>,
    /// The term of the version in force.
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    /// The term of the effective version (entries before it was published
    /// lack it).
    #[serde(default)]
    pub term: Option<(NaiveDate, NaiveDate)>,
    pub ends_at: Option<DateTime<Utc>>,
    pub revision: u64,
}

impl Summary {
    /// The effective version's term, as far as the summary tells.
    pub fn term(&self) -> Option<(NaiveDate, NaiveDate)> {
        self.term.or(self.valid_from.zip(self.valid_to))
    }
}

impl AgreementFilter {
    /// Whether the filter lists the agreement `summary` describes.
    pub fn admits(&self, summary: &Summary) -> bool {
        let party = |org: &OrgId| summary.parties.contains(org) || summary.initiator == *org;
        self.party.as_ref().is_none_or(party)
            && (self.kinds.is_empty() || self.kinds.contains(&summary.kind))
            && (self.states.is_empty() || self.states.contains(&summary.state))
            && self
                .ending_before
                .is_none_or(|before| summary.ends_at.is_some_and(|end| end < before))
            && self
                .visible_to
                .as_ref()
                .is_none_or(|orgs| REGISTER.contains(&summary.state) || orgs.iter().any(party))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(state: &str, parties: &[&str]) -> Summary {
        serde_json::from_value(serde_json::json!({
            "id": "agr_1", "action": "proposed", "state": state, "initiator": "org_a",
            "in_force_version": null, "latest_version": 1, "awaiting_version": 1,
            "kind": "network_form", "number": "№1", "title": "Договор",
            "parties": parties, "valid_from": null, "valid_to": null,
            "term": ["2026-09-01", "2027-05-31"], "ends_at": null, "revision": 3
        }))
        .unwrap()
    }

    #[test]
    fn a_change_log_entry_reads_as_a_summary() {
        let s = summary("proposed", &["org_a", "org_b"]);
        assert_eq!(s.state, State::Proposed);
        assert_eq!(s.kind, AgreementKind::NetworkForm);
        assert_eq!(
            s.term(),
            Some((
                NaiveDate::from_ymd_opt(2026, 9, 1).unwrap(),
                NaiveDate::from_ymd_opt(2027, 5, 31).unwrap()
            ))
        );
    }

    #[test]
    fn the_filter_shows_parties_their_agreements_and_everyone_the_register() {
        let org = |id: &str| OrgId::from_stored(id.to_owned());
        let proposed = summary("proposed", &["org_a", "org_b"]);
        let only = |orgs: &[&str]| AgreementFilter {
            visible_to: Some(orgs.iter().map(|o| org(o)).collect()),
            ..AgreementFilter::default()
        };
        assert!(only(&["org_b"]).admits(&proposed));
        assert!(!only(&["org_c"]).admits(&proposed));
        assert!(only(&["org_c"]).admits(&summary("active", &["org_a", "org_b"])));
        let drafts = AgreementFilter {
            states: vec![State::Draft],
            ..AgreementFilter::default()
        };
        assert!(!drafts.admits(&proposed));
        let party_c = AgreementFilter {
            party: Some(org("org_c")),
            ..AgreementFilter::default()
        };
        assert!(!party_c.admits(&proposed));
        let ending = AgreementFilter {
            ending_before: DateTime::from_timestamp(1_800_000_000, 0),
            ..AgreementFilter::default()
        };
        assert!(!ending.admits(&proposed), "not in force: no end");
    }
}
