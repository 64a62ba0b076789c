//! Activities that belong to a mentoring programme: a pair's meetings,
//! which only the pair's organizations see, and the network events
//! («День наставника», a festival of open lessons) the programme's people
//! attend.

use serde::{Deserialize, Serialize};

use super::{ActivityDetails, ActivityKind, Error, Visibility};
use crate::error::FieldError;
use crate::ids::{OrgId, PairId, ProgrammeId};
use crate::mentoring::{PairState, SharedPair};

/// The programme, and the pair within it, an activity belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MentoringLink {
    pub programme: ProgrammeId,
    /// Set for a pair's meeting.
    pub pair: Option<PairId>,
}

/// The rules that need nothing but the details: a meeting names its pair
/// and is seen by the pair's organizations only.
pub(super) fn check(details: &ActivityDetails) -> Result<(), FieldError> {
    if details.kind != ActivityKind::MentoringMeeting {
        return Ok(());
    }
    if details.mentoring.as_ref().is_none_or(|l| l.pair.is_none()) {
        return Err(FieldError::new(
            "mentoring_pair_id",
            "a mentoring meeting names the pair it is for",
        ));
    }
    if details.visibility != Visibility::Partners {
        return Err(FieldError::new(
            "visibility",
            "a mentoring meeting is seen by the pair's organizations only",
        ));
    }
    Ok(())
}

impl ActivityDetails {
    /// The details with their link checked against the pair it names, as
    /// this node knows it (`found`; the store has found the programme). A
    /// pair's meeting is published by one of the pair's organizations, for
    /// a pair still running, and the pair's other organizations become its
    /// partners, so that their members see it.
    pub fn linked(mut self, publisher: &OrgId, found: Option<SharedPair>) -> Result<Self, Error> {
        let Some(link) = &self.mentoring else {
            return Ok(self);
        };
        let Some(pair_id) = &link.pair else {
            return Ok(self);
        };
        let Some(pair) = found else {
            return Err(Error::PairNotFound(pair_id.to_string()));
        };
        if pair.programme_id != link.programme {
            return Err(
                FieldError::new("mentoring_pair_id", "is not a pair of this programme").into(),
            );
        }
        if !pair.organizations.contains(publisher) {
            return Err(
                FieldError::new("publisher", "is not one of the pair's organizations").into(),
            );
        }
        if !matches!(pair.state, PairState::Planned | PairState::Active) {
            return Err(Error::PairOver {
                id: pair.id.to_string(),
                state: pair.state,
            });
        }
        if self.kind == ActivityKind::MentoringMeeting {
            self.partners = pair
                .organizations
                .iter()
                .filter(|org| *org != publisher)
                .cloned()
                .collect();
            self.quotas.clear();
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::*;
    use crate::mentoring::MentoringForm;

    fn pair(state: PairState) -> SharedPair {
        SharedPair {
            id: PairId::from_stored("pair-1".into()),
            programme_id: ProgrammeId::from_stored("prog-1".into()),
            owner: OrgId::from_stored("mgml".into()),
            form: MentoringForm::StudentPupil,
            organizations: vec![
                OrgId::from_stored("magtu".into()),
                OrgId::from_stored("mgml".into()),
            ],
            mentees: 6,
            mentees_by_org: vec![(OrgId::from_stored("mgml".into()), 6)],
            starts_on: NaiveDate::from_ymd_opt(2026, 9, 1).unwrap(),
            ends_on: None,
            state,
            outcome: None,
            assessments: 0,
        }
    }

    fn meeting() -> ActivityDetails {
        let mut details = crate::calendar::ics::tests::activity().details;
        details.kind = ActivityKind::MentoringMeeting;
        details.visibility = Visibility::Partners;
        details.partners = vec![OrgId::from_stored("elsewhere".into())];
        details.mentoring = Some(MentoringLink {
            programme: ProgrammeId::from_stored("prog-1".into()),
            pair: Some(PairId::from_stored("pair-1".into())),
        });
        details
    }

    fn found(state: PairState) -> Option<SharedPair> {
        Some(pair(state))
    }

    #[test]
    fn a_meeting_names_its_pair_and_is_seen_by_its_organizations() {
        let mut no_pair = meeting();
        no_pair.mentoring = None;
        assert_eq!(check(&no_pair).unwrap_err().field, "mentoring_pair_id");
        let mut public = meeting();
        public.visibility = Visibility::Public;
        assert_eq!(check(&public).unwrap_err().field, "visibility");
        assert!(check(&meeting()).is_ok());

        let mgml = OrgId::from_stored("mgml".into());
        let linked = meeting().linked(&mgml, found(PairState::Active)).unwrap();
        assert_eq!(linked.partners, vec![OrgId::from_stored("magtu".into())]);
    }

    #[test]
    fn a_meeting_is_refused_for_a_pair_it_cannot_belong_to() {
        let mgml = OrgId::from_stored("mgml".into());
        let outsider = OrgId::from_stored("lyceum7".into());
        let err = meeting()
            .linked(&outsider, found(PairState::Active))
            .unwrap_err();
        assert!(matches!(err, Error::Invalid(ref e) if e.field == "publisher"));
        let err = meeting()
            .linked(&mgml, found(PairState::Completed))
            .unwrap_err();
        assert!(matches!(err, Error::PairOver { .. }));
        let err = meeting().linked(&mgml, None).unwrap_err();
        assert!(matches!(err, Error::PairNotFound(_)));
        let mut other = meeting();
        other.mentoring = Some(MentoringLink {
            programme: ProgrammeId::from_stored("prog-2".into()),
            pair: Some(PairId::from_stored("pair-1".into())),
        });
        let err = other.linked(&mgml, found(PairState::Planned)).unwrap_err();
        assert!(matches!(err, Error::Invalid(ref e) if e.field == "mentoring_pair_id"));
    }
}
