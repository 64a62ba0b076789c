//! The learning routes' indicators: trials per pupil of the cohorts on
//! routes, and the leavers of grades 9 and 11 who chose a profile and who
//! go on in their route's.

use crate::ids::OrgId;
use crate::routes::RouteState;

use super::{Facts, Indicator, Period, SchoolYear};

/// The routes' indicators of the school year `period` starts in, into `c`,
/// by school. A cancelled route counts for nothing; a route's outcome
/// counts once it is stated, for cohorts leaving grade 9 or 11.
pub(super) fn count(
    facts: &Facts,
    in_scope: &dyn Fn(&OrgId) -> bool,
    period: &Period,
    c: &mut super::compute::Counts,
) {
    let year = SchoolYear::of(period.from);
    let routes = facts.routes.iter().filter(|r| {
        i32::from(r.school_year) == year.0
            && r.state != RouteState::Cancelled
            && in_scope(&r.school)
    });
    for r in routes {
        let f = r.figures();
        let mut add = |indicator: Indicator, n: f64, d: f64| {
            let o = c.per_org.entry((indicator, r.school.clone())).or_default();
            o.0 += n;
            o.1 += d;
            let t = c.total.entry(indicator).or_default();
            t.0 += n;
            t.1 += d;
        };
        add(
            Indicator::TrialsPerPupil,
            f64::from(f.trial_visits),
            f64::from(r.cohort.headcount),
        );
        if let Some(outcome) = r.outcome.as_ref().filter(|_| matches!(r.grade, 9 | 11)) {
            let leavers = f64::from(outcome.leavers.unwrap_or(r.cohort.headcount));
            let chose: u32 = outcome.profiles.iter().map(|p| p.count).sum();
            add(Indicator::LeaversOriented, f64::from(chose), leavers);
            if let Some(continuing) = outcome.continuing {
                add(Indicator::LeaversContinuing, f64::from(continuing), leavers);
            }
        }
    }
}
