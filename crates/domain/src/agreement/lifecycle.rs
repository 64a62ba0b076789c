//! The agreement's state machine: draft → proposed → signed by every party →
//! in force (signed, then active from its first day) → expired after its last
//! day, or terminated early. An amendment is a new version proposed and
//! signed again while the old one stays in force.
//!
//! Transitions are methods that return the next lifecycle or say why not,
//! naming the state; nothing else changes a [`Lifecycle`].

use std::collections::BTreeSet;

use chrono::{DateTime, Days, NaiveDate, TimeZone as _, Utc};
use serde::{Deserialize, Serialize};

use super::{Content, Error};
use crate::ids::OrgId;
use crate::stable::string_enum;
use crate::time::TimeZone;

string_enum!(
    /// Where an agreement stands, as clients see it.
    State as AgreementState {
        /// Being written by its initiator.
        Draft = "draft",
        /// Content frozen; parties are signing.
        Proposed = "proposed",
        /// A party declined the proposal; the initiator may revise it.
        Declined = "declined",
        /// Signed by every party; its term has not begun.
        Signed = "signed",
        /// In force: signed by every party, within its term.
        Active = "active",
        /// Its term is over.
        Expired = "expired",
        /// Ended early by a party.
        Terminated = "terminated",
    }
);

/// When a version is in force: from the start of its first day to the end
/// of its last, in the agreement's time zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Term {
    /// The first instant in force.
    pub starts_at: DateTime<Utc>,
    /// The first instant no longer in force.
    pub ends_at: DateTime<Utc>,
}

/// Midnight at the start of `date` in `zone` (the first valid instant of the
/// day where a DST gap swallows midnight).
pub fn start_of_day(date: NaiveDate, zone: TimeZone) -> DateTime<Utc> {
    let tz = zone.tz();
    let mut local = date.and_hms_opt(0, 0, 0).unwrap_or_default();
    for _ in 0..24 {
        if let Some(at) = tz.from_local_datetime(&local).earliest() {
            return at.with_timezone(&Utc);
        }
        local += chrono::Duration::hours(1);
    }
    Utc.from_utc_datetime(&local)
}

impl Term {
    /// The term `content` states, read in `zone`.
    pub fn of(content: &Content, zone: TimeZone) -> Self {
        let after = content
            .valid_to
            .checked_add_days(Days::new(1))
            .unwrap_or(content.valid_to);
        Self {
            starts_at: start_of_day(content.valid_from, zone),
            ends_at: start_of_day(after, zone),
        }
    }

    /// Whether `at` falls within the term.
    pub fn contains(&self, at: DateTime<Utc>) -> bool {
        self.starts_at <= at && at < self.ends_at
    }
}

/// The signatures a version collects.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Ballot {
    /// The version being signed.
    pub version: u32,
    /// Who must sign.
    pub parties: BTreeSet<OrgId>,
    /// Who has; the version is in force once it equals `parties`.
    pub signed: BTreeSet<OrgId>,
    /// The version's term, in force once signed.
    pub term: Term,
}

impl Ballot {
    fn new(version: u32, parties: BTreeSet<OrgId>, term: Term) -> Self {
        Self {
            version,
            parties,
            signed: BTreeSet::new(),
            term,
        }
    }

    fn complete(&self) -> bool {
        self.signed == self.parties
    }

    fn sign(&mut self, org: &OrgId, state: State) -> Result<(), Error> {
        if !self.parties.contains(org) {
            return Err(Error::WrongState(format!(
                "organization {org} is not a party to version {}",
                self.version
            )));
        }
        if !self.signed.insert(org.clone()) {
            return Err(Error::WrongState(format!(
                "organization {org} has already signed version {} (agreement is {state})",
                self.version
            )));
        }
        Ok(())
    }

    fn check_party(&self, org: &OrgId) -> Result<(), Error> {
        if self.parties.contains(org) {
            Ok(())
        } else {
            Err(Error::WrongState(format!(
                "organization {org} is not a party to version {}",
                self.version
            )))
        }
    }
}

/// The lifecycle's phases, each with what it needs and nothing else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "phase", rename_all = "snake_case")]
pub enum Phase {
    /// A version being written.
    Draft {
        /// The version being written.
        version: u32,
    },
    /// A version proposed, collecting signatures.
    Proposed { ballot: Ballot },
    /// A proposal a party declined.
    Declined {
        /// The version declined.
        version: u32,
        /// The party that declined it.
        by: OrgId,
    },
    /// Fully signed.
    InForce {
        /// The version in force.
        version: u32,
        /// The term of the version in force.
        term: Term,
        /// Whether the term has begun.
        active: bool,
        /// An amendment collecting signatures; the version above stays in force meanwhile.
        amendment: Option<Ballot>,
        /// When an early termination takes effect, once a party has given notice.
        ends_early: Option<DateTime<Utc>>,
    },
    /// Over: expired, or terminated.
    Ended {
        /// The last version in force.
        version: u32,
        /// Terminated early rather than expired.
        terminated: bool,
    },
}

/// An agreement's lifecycle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lifecycle {
    pub phase: Phase,
    /// The highest version number written so far.
    pub latest_version: u32,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Self::new()
    }
}

impl Lifecycle {
    /// A new draft, version 1.
    pub fn new() -> Self {
        Self {
            phase: Phase::Draft { version: 1 },
            latest_version: 1,
        }
    }

    /// The state clients see.
    pub fn state(&self) -> State {
        match &self.phase {
            Phase::Draft { .. } => State::Draft,
            Phase::Proposed { .. } => State::Proposed,
            Phase::Declined { .. } => State::Declined,
            Phase::InForce { active: false, .. } => State::Signed,
            Phase::InForce { active: true, .. } => State::Active,
            Phase::Ended {
                terminated: false, ..
            } => State::Expired,
            Phase::Ended {
                terminated: true, ..
            } => State::Terminated,
        }
    }

    /// The version in force, or last in force once ended.
    pub fn in_force_version(&self) -> Option<u32> {
        match &self.phase {
            Phase::InForce { version, .. } | Phase::Ended { version, .. } => Some(*version),
            _ => None,
        }
    }

    /// The ballot collecting signatures: the proposal, or the amendment.
    pub fn ballot(&self) -> Option<&Ballot> {
        match &self.phase {
            Phase::Proposed { ballot } => Some(ballot),
            Phase::InForce { amendment, .. } => amendment.as_ref(),
            _ => None,
        }
    }

    /// Whether an agreement in this phase is in force at `at`.
    pub fn in_force_at(&self, at: DateTime<Utc>) -> bool {
        match &self.phase {
            Phase::InForce {
                term, ends_early, ..
            } => term.contains(at) && ends_early.is_none_or(|end| at < end),
            _ => false,
        }
    }

    /// When the term in force ends (an early termination included).
    pub fn ends_at(&self) -> Option<DateTime<Utc>> {
        match &self.phase {
            Phase::InForce {
                term, ends_early, ..
            } => Some(ends_early.map_or(term.ends_at, |e| e.min(term.ends_at))),
            _ => None,
        }
    }

    /// The next instant at which [`Lifecycle::tick`] changes something.
    pub fn next_due(&self) -> Option<DateTime<Utc>> {
        match &self.phase {
            Phase::InForce {
                term,
                active: false,
                ..
            } => Some(term.starts_at.min(self.ends_at().unwrap_or(term.ends_at))),
            Phase::InForce { .. } => self.ends_at(),
            _ => None,
        }
    }

    fn refuse(&self, what: &str) -> Error {
        Error::WrongState(format!("the agreement is {}: {what}", self.state()))
    }

    /// Whether the content may be edited, and which version an edit writes:
    /// the draft itself, or a new draft revising a declined proposal.
    pub fn edit(&self) -> Result<Self, Error> {
        match &self.phase {
            Phase::Draft { .. } => Ok(self.clone()),
            Phase::Declined { .. } => Ok(Self {
                phase: Phase::Draft {
                    version: self.latest_version + 1,
                },
                latest_version: self.latest_version + 1,
            }),
            Phase::InForce { .. } => Err(self.refuse(
                "only a draft or a declined proposal can be edited; propose an amendment instead",
            )),
            _ => Err(self.refuse("only a draft or a declined proposal can be edited")),
        }
    }

    /// Freezes the draft and asks `parties` to sign.
    pub fn propose(&self, parties: BTreeSet<OrgId>, term: Term) -> Result<Self, Error> {
        match &self.phase {
            Phase::Draft { version } => Ok(Self {
                phase: Phase::Proposed {
                    ballot: Ballot::new(*version, parties, term),
                },
                latest_version: self.latest_version,
            }),
            _ => Err(self.refuse("only a draft can be proposed")),
        }
    }

    /// Proposes an amendment of the agreement in force: a new version, which
    /// takes the old one's place only once every party has signed it.
    pub fn amend(&self, parties: BTreeSet<OrgId>, term: Term) -> Result<Self, Error> {
        match &self.phase {
            Phase::InForce {
                amendment: Some(ballot),
                ..
            } => Err(self.refuse(&format!(
                "version {} is already awaiting signatures",
                ballot.version
            ))),
            Phase::InForce {
                ends_early: Some(_),
                ..
            } => Err(self.refuse("a party has given notice of termination")),
            Phase::InForce {
                version,
                term: current,
                active,
                ends_early,
                ..
            } => Ok(Self {
                phase: Phase::InForce {
                    version: *version,
                    term: *current,
                    active: *active,
                    amendment: Some(Ballot::new(self.latest_version + 1, parties, term)),
                    ends_early: *ends_early,
                },
                latest_version: self.latest_version + 1,
            }),
            _ => Err(self.refuse("only an agreement in force can be amended")),
        }
    }

    /// `org` signs the version awaiting signatures. The last signature puts
    /// it in force (replacing the old version, for an amendment).
    pub fn sign(&self, org: &OrgId, now: DateTime<Utc>) -> Result<Self, Error> {
        let state = self.state();
        let next = match &self.phase {
            Phase::Proposed { ballot } => {
                let mut ballot = ballot.clone();
                ballot.sign(org, state)?;
                if ballot.complete() {
                    Phase::InForce {
                        version: ballot.version,
                        term: ballot.term,
                        active: false,
                        amendment: None,
                        ends_early: None,
                    }
                } else {
                    Phase::Proposed { ballot }
                }
            }
            Phase::InForce {
                version,
                term,
                active,
                amendment: Some(ballot),
                ends_early,
            } => {
                let mut ballot = ballot.clone();
                ballot.sign(org, state)?;
                if ballot.complete() {
                    // The new version's own term decides; `tick` below
                    // makes it active if it has begun.
                    Phase::InForce {
                        version: ballot.version,
                        term: ballot.term,
                        active: false,
                        amendment: None,
                        ends_early: *ends_early,
                    }
                } else {
                    Phase::InForce {
                        version: *version,
                        term: *term,
                        active: *active,
                        amendment: Some(ballot),
                        ends_early: *ends_early,
                    }
                }
            }
            _ => return Err(self.refuse("no version awaits signatures")),
        };
        let next = Self {
            phase: next,
            latest_version: self.latest_version,
        };
        Ok(next.tick(now).unwrap_or(next))
    }

    /// `org` declines the version awaiting signatures. A declined amendment
    /// is dropped and the version in force stays.
    pub fn decline(&self, org: &OrgId) -> Result<Self, Error> {
        let phase = match &self.phase {
            Phase::Proposed { ballot } => {
                ballot.check_party(org)?;
                Phase::Declined {
                    version: ballot.version,
                    by: org.clone(),
                }
            }
            Phase::InForce {
                version,
                term,
                active,
                amendment: Some(ballot),
                ends_early,
            } => {
                ballot.check_party(org)?;
                Phase::InForce {
                    version: *version,
                    term: *term,
                    active: *active,
                    amendment: None,
                    ends_early: *ends_early,
                }
            }
            _ => return Err(self.refuse("no version awaits signatures")),
        };
        Ok(Self {
            phase,
            latest_version: self.latest_version,
        })
    }

    /// A party ends the agreement early, effective at `effective` (at once
    /// when that is not after `now`). A pending amendment is dropped.
    pub fn terminate(&self, effective: DateTime<Utc>, now: DateTime<Utc>) -> Result<Self, Error> {
        match &self.phase {
            Phase::InForce {
                version,
                term,
                active,
                ends_early,
                ..
            } => {
                if let Some(end) = ends_early {
                    return Err(self.refuse(&format!("termination already takes effect at {end}")));
                }
                let next = Self {
                    phase: Phase::InForce {
                        version: *version,
                        term: *term,
                        active: *active,
                        amendment: None,
                        ends_early: Some(effective),
                    },
                    latest_version: self.latest_version,
                };
                Ok(next.tick(now).unwrap_or(next))
            }
            _ => Err(self.refuse("only an agreement signed by every party can be terminated")),
        }
    }

    /// The transitions time brings at `now`: active from the first day,
    /// expired after the last, terminated when notice runs out. `None` when
    /// nothing changes.
    pub fn tick(&self, now: DateTime<Utc>) -> Option<Self> {
        let Phase::InForce {
            version,
            term,
            active,
            amendment,
            ends_early,
        } = &self.phase
        else {
            return None;
        };
        let phase = match ends_early {
            Some(end) if *end <= now && *end < term.ends_at => Phase::Ended {
                version: *version,
                terminated: true,
            },
            _ if term.ends_at <= now => Phase::Ended {
                version: *version,
                terminated: false,
            },
            _ if !active && term.starts_at <= now => Phase::InForce {
                version: *version,
                term: *term,
                active: true,
                amendment: amendment.clone(),
                ends_early: *ends_early,
            },
            _ => return None,
        };
        Some(Self {
            phase,
            latest_version: self.latest_version,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;
    use proptest::prelude::*;

    fn term(start_day: i64, days: i64) -> Term {
        let base = DateTime::from_timestamp(1_780_000_000, 0).unwrap();
        Term {
            starts_at: base + Duration::days(start_day),
            ends_at: base + Duration::days(start_day + days),
        }
    }

    #[test]
    fn term_reads_dates_in_the_zone() {
        let zone = TimeZone::parse("tz", "Asia/Tomsk").unwrap();
        let (a, b) = (OrgId::generate(), OrgId::generate());
        let content = super::super::tests::network_form(&a, &b);
        let t = Term::of(&content, zone);
        assert_eq!(t.starts_at.to_rfc3339(), "2026-08-31T17:00:00+00:00");
        assert_eq!(t.ends_at.to_rfc3339(), "2027-05-31T17:00:00+00:00");
    }

    #[test]
    fn the_happy_path_and_an_amendment() {
        let (a, b) = (OrgId::generate(), OrgId::generate());
        let parties: BTreeSet<_> = [a.clone(), b.clone()].into();
        let t = term(10, 100);
        let now = t.starts_at - Duration::days(5);
        let l = Lifecycle::new().propose(parties.clone(), t).unwrap();
        assert_eq!(l.state(), State::Proposed);
        let l = l.sign(&a, now).unwrap();
        assert!(
            matches!(l.sign(&a, now), Err(Error::WrongState(m)) if m.contains("already signed"))
        );
        let l = l.sign(&b, now).unwrap();
        assert_eq!(l.state(), State::Signed);
        assert_eq!(l.next_due(), Some(t.starts_at));
        let l = l.tick(t.starts_at).unwrap();
        assert_eq!(l.state(), State::Active);
        let l = l.amend(parties, term(10, 200)).unwrap();
        assert_eq!(l.in_force_version(), Some(1));
        assert_eq!(l.ballot().unwrap().version, 2);
        let l = l.sign(&b, t.starts_at).unwrap();
        assert_eq!(l.in_force_version(), Some(1));
        let l = l.sign(&a, t.starts_at).unwrap();
        assert_eq!(l.in_force_version(), Some(2));
        assert_eq!(l.state(), State::Active);
        assert!(
            l.tick(t.ends_at).is_none(),
            "the amendment extended the term"
        );
        let l = l.tick(term(10, 200).ends_at).unwrap();
        assert_eq!(l.state(), State::Expired);
        let err = l.sign(&a, t.ends_at).unwrap_err().to_string();
        assert!(err.contains("expired"), "{err}");
    }

    #[test]
    fn notice_of_termination_ends_it_when_due() {
        let (a, b) = (OrgId::generate(), OrgId::generate());
        let t = term(0, 100);
        let l = Lifecycle::new()
            .propose([a.clone(), b.clone()].into(), t)
            .unwrap()
            .sign(&a, t.starts_at)
            .unwrap()
            .sign(&b, t.starts_at)
            .unwrap();
        assert_eq!(l.state(), State::Active);
        let end = t.starts_at + Duration::days(30);
        let l = l.terminate(end, t.starts_at).unwrap();
        assert_eq!(l.state(), State::Active);
        assert_eq!(l.next_due(), Some(end));
        assert!(l.tick(end - Duration::seconds(1)).is_none());
        assert_eq!(l.tick(end).unwrap().state(), State::Terminated);
    }

    #[derive(Debug, Clone)]
    enum Event {
        Edit,
        Propose(u8),
        Amend(u8),
        Sign(u8),
        Decline(u8),
        Terminate(i64),
        Advance(i64),
    }

    fn event() -> impl Strategy<Value = Event> {
        prop_oneof![
            Just(Event::Edit),
            (0u8..8).prop_map(Event::Propose),
            (0u8..8).prop_map(Event::Amend),
            (0u8..4).prop_map(Event::Sign),
            (0u8..4).prop_map(Event::Decline),
            (-5i64..40).prop_map(Event::Terminate),
            (0i64..60).prop_map(Event::Advance),
        ]
    }

    fn check(l: &Lifecycle, now: DateTime<Utc>, orgs: &[OrgId]) {
        // Time has been applied: nothing is due.
        assert!(l.tick(now).is_none(), "{l:?} is stale at {now}");
        match &l.phase {
            Phase::Draft { version } | Phase::Declined { version, .. } => {
                assert_eq!(*version, l.latest_version);
            }
            Phase::Proposed { ballot } => {
                assert_eq!(ballot.version, l.latest_version);
                assert!(ballot.signed.is_subset(&ballot.parties));
                assert!(!ballot.complete());
            }
            Phase::InForce {
                version,
                term,
                active,
                amendment,
                ends_early,
            } => {
                assert_eq!(*active, term.starts_at <= now);
                assert!(now < term.ends_at);
                assert!(ends_early.is_none_or(|e| now < e));
                if let Some(ballot) = amendment {
                    assert!(ballot.version > *version);
                    assert_eq!(ballot.version, l.latest_version);
                    assert!(!ballot.complete());
                    assert!(ends_early.is_none());
                }
                assert!(*version <= l.latest_version);
            }
            Phase::Ended { version, .. } => assert!(*version <= l.latest_version),
        }
        if let Some(ballot) = l.ballot() {
            assert!(ballot.parties.iter().all(|p| orgs.contains(p)));
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2000))]

        #[test]
        fn random_walks_stay_legal(events in proptest::collection::vec(event(), 1..60)) {
            let orgs: Vec<OrgId> = (0..3).map(|_| OrgId::generate()).collect();
            let parties = |mask: u8| -> BTreeSet<OrgId> {
                // At least two parties, as content validation requires.
                let set: BTreeSet<OrgId> = orgs.iter().enumerate()
                    .filter(|(i, _)| mask & (1 << i) != 0).map(|(_, o)| o.clone()).collect();
                if set.len() >= 2 { set } else { orgs.iter().take(2).cloned().collect() }
            };
            let mut now = DateTime::from_timestamp(1_780_000_000, 0).unwrap();
            let mut l = Lifecycle::new();
            for e in events {
                let before = l.clone();
                let result = match &e {
                    Event::Edit => l.edit(),
                    Event::Propose(m) => l.propose(parties(*m), term(i64::from(*m) * 3, 30 + i64::from(*m) * 10)),
                    Event::Amend(m) => l.amend(parties(*m), term(i64::from(*m) * 4, 40 + i64::from(*m) * 10)),
                    Event::Sign(i) => orgs.get(usize::from(*i)).map_or_else(
                        || l.sign(&OrgId::generate(), now), |o| l.sign(o, now)),
                    Event::Decline(i) => orgs.get(usize::from(*i)).map_or_else(
                        || l.decline(&OrgId::generate()), |o| l.decline(o)),
                    Event::Terminate(d) => l.terminate(now + Duration::days(*d), now),
                    Event::Advance(d) => {
                        now += Duration::days(*d);
                        Ok(l.tick(now).unwrap_or_else(|| l.clone()))
                    }
                };
                match result {
                    Ok(next) => {
                        // The version in force changes only when an
                        // amendment collects its last signature.
                        if let (Some(old), Some(new)) = (before.in_force_version(), next.in_force_version())
                            && old != new
                        {
                            let Event::Sign(i) = e else { panic!("{e:?} replaced version {old}") };
                            let ballot = before.ballot().expect("an amendment was pending");
                            let missing: Vec<_> = ballot.parties.difference(&ballot.signed).collect();
                            prop_assert_eq!(missing, vec![&orgs[usize::from(i)]]);
                            prop_assert_eq!(ballot.version, new);
                        }
                        if matches!(before.phase, Phase::Ended { .. }) {
                            prop_assert!(matches!(e, Event::Advance(_)), "{:?} changed an ended agreement", e);
                            prop_assert_eq!(&before, &next);
                        }
                        prop_assert!(next.latest_version >= before.latest_version);
                        l = next;
                    }
                    Err(Error::WrongState(message)) => {
                        prop_assert_eq!(&before, &l);
                        prop_assert!(
                            message.contains(before.state().as_str()) || message.contains("not a party"),
                            "{} does not name the state", message
                        );
                    }
                    Err(other) => panic!("unexpected {other}"),
                }
                check(&l, now, &orgs);
            }
        }
    }
}
