//! Mentoring in figures: pairs and groups by form, organization and state,
//! the share that joins organizations, outcomes, and the count against
//! the period before. Counted from the pairs as shared (no person is in
//! them): this node's and those peers share with it.

use std::collections::BTreeMap;

use chrono::NaiveDate;

use super::{Dimension, Facts, Period, Query, SchoolYear};
use crate::calendar::ActivityKind;
use crate::calendar::registration::RegistrationState;
use crate::ids::{OrgId, PersonId};
use crate::mentoring::{
    GrowthKind, MentoringForm, OutcomeResult, PairState, SharedPair, TeacherFigures,
};

/// What a row of the mentoring report is about; empty parts are not
/// grouped by.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct MentoringKey {
    pub organization: String,
    /// The form's stable name.
    pub form: String,
    /// The pair's state's stable name.
    pub state: String,
}

/// One row: pairs working in the period, and what became of them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MentoringRow {
    pub key: MentoringKey,
    /// Pairs and groups working at some time in the period.
    pub pairs: u32,
    pub planned: u32,
    pub active: u32,
    pub completed: u32,
    pub ended_early: u32,
    /// Of them, those joining people of more than one organization.
    pub crossing: u32,
    /// People mentored (a cohort counts its headcount).
    pub mentees: u32,
    /// Outcomes of those ended.
    pub met: u32,
    pub partly: u32,
    pub not_met: u32,
    /// Pairs working in the period before.
    pub previous: u32,
}

impl MentoringRow {
    /// The share of pairs that join organizations, in percent.
    pub fn crossing_share(&self) -> Option<f64> {
        (self.pairs > 0).then(|| f64::from(self.crossing) * 100.0 / f64::from(self.pairs))
    }

    fn add(&mut self, pair: &SharedPair) {
        self.pairs += 1;
        match pair.state {
            PairState::Planned => self.planned += 1,
            PairState::Active => self.active += 1,
            PairState::Completed => self.completed += 1,
            PairState::EndedEarly => self.ended_early += 1,
        }
        if pair.organizations.len() > 1 {
            self.crossing += 1;
        }
        self.mentees += pair.mentees;
        match pair.outcome.as_ref().map(|o| o.result) {
            Some(OutcomeResult::Met) => self.met += 1,
            Some(OutcomeResult::Partly) => self.partly += 1,
            Some(OutcomeResult::NotMet) => self.not_met += 1,
            None => {}
        }
    }
}

/// An organization's teachers in the school year the period starts in,
/// as it stated them, with the young teachers the pairs mentor.
#[derive(Debug, Clone, PartialEq)]
pub struct TeacherRow {
    pub org_id: OrgId,
    pub figures: TeacherFigures,
    /// Young teachers of the organization mentored in pairs of the form
    /// «молодой учитель – опытный учитель» working in the period.
    pub young_mentored: u32,
    /// Teachers who agreed to records by person with a qualification
    /// course completed in the school year, and those courses' hours.
    pub courses_recorded: u32,
    pub course_hours_recorded: u32,
    /// Teachers' visits to the network's seminars, round tables,
    /// conferences, master classes and internships in the period, from the
    /// organization's registrations: attended where recorded, else the
    /// confirmed headcount.
    pub seminar_visits: u32,
}

impl TeacherRow {
    /// `part` of `whole` in percent, when there is a whole.
    pub fn share(part: u32, whole: u32) -> Option<f64> {
        (whole > 0).then(|| f64::from(part) * 100.0 / f64::from(whole))
    }
}

/// The report: rows as grouped, a total that counts each pair once, and
/// the teachers of the organizations in scope.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MentoringReport {
    pub rows: Vec<MentoringRow>,
    pub total: MentoringRow,
    pub teachers: Vec<TeacherRow>,
}

/// The organization's teachers' visits to the kinds of activity teachers
/// grow by, for teachers, in `period`.
fn seminar_visits(facts: &Facts, org: &OrgId, period: &Period) -> u32 {
    let activities: std::collections::HashMap<_, _> = facts
        .activities
        .iter()
        .filter(|a| a.teachers && ActivityKind::TEACHERS_GROWTH.contains(&a.kind))
        .map(|a| (&a.id, a))
        .collect();
    facts
        .registrations
        .iter()
        .filter(|r| &r.org_id == org && r.state == RegistrationState::Confirmed)
        .filter_map(|r| {
            let a = activities.get(&r.activity_id)?;
            super::compute::dated(facts, r, a, period)?;
            Some(r.results.as_ref().map_or(r.headcount, |x| x.attended))
        })
        .sum()
}

/// Whether the pair worked at some time in `period`.
fn works_in(pair: &SharedPair, period: &Period) -> bool {
    pair.starts_on <= period.to && pair.ends_on.unwrap_or(NaiveDate::MAX) >= period.from
}

/// The mentoring report of `q`: pairs of the organizations its scope
/// admits, grouped by organization (each of a pair's organizations),
/// form and state as asked.
pub fn mentoring(facts: &Facts, q: &Query) -> MentoringReport {
    let admitted = |pair: &SharedPair| -> Vec<String> {
        pair.organizations
            .iter()
            .filter(|org| facts.orgs.get(*org).is_some_and(|o| q.scope.admits(o)))
            .map(ToString::to_string)
            .collect()
    };
    let by = |d: Dimension| q.group_by.contains(&d);
    let keys = |pair: &SharedPair, orgs: &[String]| -> Vec<MentoringKey> {
        let base = MentoringKey {
            organization: String::new(),
            form: if by(Dimension::Kind) {
                pair.form.as_str().to_owned()
            } else {
                String::new()
            },
            state: if by(Dimension::State) {
                pair.state.as_str().to_owned()
            } else {
                String::new()
            },
        };
        if by(Dimension::Organization) {
            orgs.iter()
                .map(|org| MentoringKey {
                    organization: org.clone(),
                    ..base.clone()
                })
                .collect()
        } else {
            vec![base]
        }
    };
    let previous = q.period.previous();
    let mut rows: BTreeMap<MentoringKey, MentoringRow> = BTreeMap::new();
    let mut total = MentoringRow::default();
    for pair in &facts.pairs {
        let orgs = admitted(pair);
        if orgs.is_empty() {
            continue;
        }
        if works_in(pair, &q.period) {
            total.add(pair);
            for key in keys(pair, &orgs) {
                rows.entry(key.clone())
                    .or_insert_with(|| MentoringRow {
                        key,
                        ..MentoringRow::default()
                    })
                    .add(pair);
            }
        }
        if works_in(pair, &previous) {
            total.previous += 1;
            for key in keys(pair, &orgs) {
                rows.entry(key.clone())
                    .or_insert_with(|| MentoringRow {
                        key,
                        ..MentoringRow::default()
                    })
                    .previous += 1;
            }
        }
    }
    let year = SchoolYear::of(q.period.from);
    let teachers = facts
        .teacher_figures
        .iter()
        .filter(|f| f.school_year == year)
        .filter(|f| facts.orgs.get(&f.org_id).is_some_and(|o| q.scope.admits(o)))
        .map(|f| TeacherRow {
            org_id: f.org_id.clone(),
            figures: f.clone(),
            courses_recorded: {
                let people: std::collections::BTreeSet<&PersonId> = facts
                    .growth
                    .iter()
                    .filter(|g| g.org_id == f.org_id && g.kind == GrowthKind::Course)
                    .filter(|g| SchoolYear::of(g.on) == year)
                    .map(|g| &g.person)
                    .collect();
                u32::try_from(people.len()).unwrap_or(u32::MAX)
            },
            course_hours_recorded: facts
                .growth
                .iter()
                .filter(|g| g.org_id == f.org_id && g.kind == GrowthKind::Course)
                .filter(|g| SchoolYear::of(g.on) == year)
                .filter_map(|g| g.hours)
                .sum(),
            seminar_visits: seminar_visits(facts, &f.org_id, &q.period),
            young_mentored: facts
                .pairs
                .iter()
                .filter(|p| p.form == MentoringForm::YoungTeacher && works_in(p, &q.period))
                .flat_map(|p| p.mentees_by_org.iter())
                .filter(|(org, _)| org == &f.org_id)
                .map(|(_, count)| count)
                .sum(),
        })
        .collect();
    MentoringReport {
        rows: rows.into_values().collect(),
        total,
        teachers,
    }
}

/// The mentoring indicators of `period` into `c`: pairs working (each of
/// their organizations in scope counts the pair), the share joining
/// organizations, and, for the school year the period starts in, the
/// shares of the teachers each organization stated.
pub(super) fn count(
    facts: &Facts,
    in_scope: &dyn Fn(&OrgId) -> bool,
    period: &Period,
    c: &mut super::compute::Counts,
) {
    use super::Indicator;
    let mut pairs: BTreeMap<&OrgId, (f64, f64)> = BTreeMap::new();
    let (mut all, mut crossing) = (0.0, 0.0);
    let mut young: BTreeMap<&OrgId, f64> = BTreeMap::new();
    for pair in facts.pairs.iter().filter(|p| works_in(p, period)) {
        let orgs: Vec<&OrgId> = pair.organizations.iter().filter(|o| in_scope(o)).collect();
        if orgs.is_empty() {
            continue;
        }
        let crosses = f64::from(u8::from(pair.organizations.len() > 1));
        all += 1.0;
        crossing += crosses;
        for org in orgs {
            let p = pairs.entry(org).or_default();
            p.0 += crosses;
            p.1 += 1.0;
        }
        if pair.form == MentoringForm::YoungTeacher {
            for (org, count) in &pair.mentees_by_org {
                *young.entry(org).or_default() += f64::from(*count);
            }
        }
    }
    for (org, (crosses, count)) in &pairs {
        c.per_org
            .insert((Indicator::MentoringPairs, (*org).clone()), (*count, 1.0));
        c.per_org.insert(
            (Indicator::MentoringCrossing, (*org).clone()),
            (*crosses, *count),
        );
    }
    c.total.insert(Indicator::MentoringPairs, (all, 1.0));
    c.total
        .insert(Indicator::MentoringCrossing, (crossing, all));

    let year = SchoolYear::of(period.from);
    for indicator in [
        Indicator::YoungTeachersMentored,
        Indicator::TeachersCourses,
        Indicator::TeachersSeminars,
        Indicator::TeachersGrowthSystem,
    ] {
        c.total.entry(indicator).or_default();
    }
    for f in facts
        .teacher_figures
        .iter()
        .filter(|f| f.school_year == year && in_scope(&f.org_id))
    {
        let mentored = young.get(&f.org_id).copied().unwrap_or(0.0);
        for (indicator, n, d) in [
            (
                Indicator::YoungTeachersMentored,
                mentored.min(f64::from(f.young_teachers)),
                f64::from(f.young_teachers),
            ),
            (
                Indicator::TeachersCourses,
                f64::from(f.courses),
                f64::from(f.teachers),
            ),
            (
                Indicator::TeachersSeminars,
                f64::from(f.seminars),
                f64::from(f.teachers),
            ),
            (
                Indicator::TeachersGrowthSystem,
                f64::from(f.growth_system),
                f64::from(f.teachers),
            ),
        ] {
            c.per_org.insert((indicator, f.org_id.clone()), (n, d));
            let t = c.total.entry(indicator).or_default();
            t.0 += n;
            t.1 += d;
        }
    }
}
