//! Pledged resource hours as a quota: bookings under an agreement consume
//! the hours their resource's owner pledged, per the pledge's period.

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike as _, NaiveDate, Utc};

use super::{Content, Pledge, PledgePeriod};
use crate::booking::{Error, Interval, Rule};
use crate::ids::{OrgId, ResourceId};
use crate::time::TimeZone;

/// A booked occurrence already counted against an agreement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Used {
    pub resource_id: ResourceId,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

/// Which period of a pledge a day falls in.
fn period_key(period: PledgePeriod, day: NaiveDate) -> (i32, u32) {
    let school_year = if day.month() >= 9 {
        day.year()
    } else {
        day.year() - 1
    };
    match period {
        PledgePeriod::Term => (0, 0),
        PledgePeriod::SchoolYear => (school_year, 0),
        PledgePeriod::HalfYear => (school_year, u32::from(day.month() < 9)),
        PledgePeriod::Month => (day.year(), day.month()),
    }
}

/// The pledge that covers bookings of `resource` (owned by `owner`): the
/// one naming it, else the owner's pledge of any of its resources.
pub fn pledge_for<'a>(
    content: &'a Content,
    owner: &OrgId,
    resource: &ResourceId,
) -> Option<&'a Pledge> {
    let owned = || content.resources.iter().filter(|p| &p.org_id == owner);
    owned()
        .find(|p| p.resource_id.as_ref() == Some(resource))
        .or_else(|| owned().find(|p| p.resource_id.is_none()))
}

/// Whether `used` is counted against `pledge`: a pledge naming a resource
/// counts that resource's bookings; a general one counts the owner's other
/// resources.
fn counts(content: &Content, pledge: &Pledge, owner: &OrgId, used: &ResourceId) -> bool {
    pledge_for(content, owner, used).is_some_and(|p| std::ptr::eq(p, pledge))
}

fn minutes(interval: &Interval) -> i64 {
    (interval.1 - interval.0).num_minutes().max(0)
}

fn hours_text(minutes: i64) -> String {
    if minutes % 60 == 0 {
        format!("{} h", minutes / 60)
    } else {
        format!("{:.1} h", minutes as f64 / 60.0)
    }
}

/// Refuses `new` occurrences of `resource` (owned by `owner`) under the
/// agreement when they would take more hours than the owner pledged in any
/// period, `used` being what is already booked under it.
pub fn check(
    content: &Content,
    label: &str,
    zone: TimeZone,
    owner: &OrgId,
    resource: &ResourceId,
    used: &[Used],
    new: &[Interval],
) -> Result<(), Error> {
    let refuse = |detail: String| Error::rule(Rule::Quota, detail);
    let Some(pledge) = pledge_for(content, owner, resource) else {
        return Err(refuse(format!(
            "agreement {label} pledges no hours of this resource"
        )));
    };
    let day = |at: DateTime<Utc>| at.with_timezone(&zone.tz()).date_naive();
    let mut taken: BTreeMap<(i32, u32), i64> = BTreeMap::new();
    for u in used
        .iter()
        .filter(|u| counts(content, pledge, owner, &u.resource_id))
    {
        *taken
            .entry(period_key(pledge.period, day(u.start)))
            .or_default() += minutes(&(u.start, u.end));
    }
    let mut wanted: BTreeMap<(i32, u32), i64> = BTreeMap::new();
    for interval in new {
        *wanted
            .entry(period_key(pledge.period, day(interval.0)))
            .or_default() += minutes(interval);
    }
    let limit = i64::from(pledge.hours) * 60;
    for (key, more) in wanted {
        let already = taken.get(&key).copied().unwrap_or(0);
        if already + more > limit {
            let per = match pledge.period {
                PledgePeriod::Term => "for its term".to_owned(),
                PledgePeriod::SchoolYear => format!("per school year ({}/{})", key.0, key.0 + 1),
                PledgePeriod::HalfYear => format!(
                    "per half-year ({} of {}/{})",
                    if key.1 == 0 {
                        "first half"
                    } else {
                        "second half"
                    },
                    key.0,
                    key.0 + 1
                ),
                PledgePeriod::Month => format!("per month ({}-{:02})", key.0, key.1),
            };
            return Err(refuse(format!(
                "agreement {label} pledges {} of {} {per}; {} are booked and this request needs {} more",
                hours_text(limit),
                pledge.description,
                hours_text(already),
                hours_text(more),
            )));
        }
    }
    Ok(())
}

/// How many periods of a pledge the agreement's term spans (at least one).
pub fn periods_in_term(content: &Content, period: PledgePeriod) -> u32 {
    let mut keys = std::collections::BTreeSet::new();
    let mut day = content.valid_from.with_day(1).unwrap_or(content.valid_from);
    while day <= content.valid_to {
        keys.insert(period_key(period, day));
        match day.checked_add_months(chrono::Months::new(1)) {
            Some(next) => day = next,
            None => break,
        }
    }
    u32::try_from(keys.len()).unwrap_or(u32::MAX).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone as _};

    fn hour(zone: TimeZone, y: i32, m: u32, d: u32, h: u32) -> Interval {
        let start = zone
            .tz()
            .with_ymd_and_hms(y, m, d, h, 0, 0)
            .unwrap()
            .with_timezone(&Utc);
        (start, start + Duration::hours(1))
    }

    #[test]
    fn the_seventy_first_hour_is_refused() {
        let zone = TimeZone::parse("tz", "Asia/Tomsk").unwrap();
        let (school, park) = (OrgId::generate(), OrgId::generate());
        let content = super::super::tests::network_form(&school, &park);
        let lab = ResourceId::generate();
        let used: Vec<Used> = (0..70)
            .map(|i| {
                let (start, end) = hour(zone, 2026, 9, 1, 8);
                Used {
                    resource_id: lab.clone(),
                    start: start + Duration::days(i),
                    end: end + Duration::days(i),
                }
            })
            .collect();
        check(
            &content,
            "№12",
            zone,
            &park,
            &lab,
            &used[..69],
            &[hour(zone, 2027, 1, 10, 9)],
        )
        .unwrap();
        let err = check(
            &content,
            "№12",
            zone,
            &park,
            &lab,
            &used,
            &[hour(zone, 2027, 1, 10, 9)],
        )
        .unwrap_err();
        let Error::Rule { rule, detail } = err else {
            panic!()
        };
        assert_eq!(rule, "quota");
        assert!(
            detail.contains("70 h of лаборатории технопарка"),
            "{detail}"
        );
        assert!(detail.contains("70 h are booked"), "{detail}");
        // The school's resources are not pledged.
        assert!(
            check(
                &content,
                "№12",
                zone,
                &school,
                &lab,
                &[],
                &[hour(zone, 2027, 1, 10, 9)]
            )
            .is_err()
        );
    }

    #[test]
    fn periods_renew() {
        let zone = TimeZone::parse("tz", "Asia/Tomsk").unwrap();
        let (school, park) = (OrgId::generate(), OrgId::generate());
        let mut content = super::super::tests::network_form(&school, &park);
        content.resources[0].hours = 2;
        content.resources[0].period = PledgePeriod::HalfYear;
        let lab = ResourceId::generate();
        let used = |at: Interval| Used {
            resource_id: lab.clone(),
            start: at.0,
            end: at.1,
        };
        let autumn = [
            used(hour(zone, 2026, 10, 1, 9)),
            used(hour(zone, 2026, 12, 31, 22)),
        ];
        assert!(
            check(
                &content,
                "№",
                zone,
                &park,
                &lab,
                &autumn,
                &[hour(zone, 2026, 11, 1, 9)]
            )
            .is_err()
        );
        // 1 January local time is the next half, though it is still 31 December in UTC.
        check(
            &content,
            "№",
            zone,
            &park,
            &lab,
            &autumn,
            &[hour(zone, 2027, 1, 1, 2)],
        )
        .unwrap();
        assert_eq!(periods_in_term(&content, PledgePeriod::HalfYear), 2);
        assert_eq!(periods_in_term(&content, PledgePeriod::Month), 9);
        assert_eq!(periods_in_term(&content, PledgePeriod::Term), 1);
    }

    #[test]
    fn a_pledge_naming_a_resource_counts_that_resource() {
        let zone = TimeZone::parse("tz", "Asia/Tomsk").unwrap();
        let (school, park) = (OrgId::generate(), OrgId::generate());
        let mut content = super::super::tests::network_form(&school, &park);
        let (lab, hall) = (ResourceId::generate(), ResourceId::generate());
        content.resources[0].hours = 1;
        content.resources.push(Pledge {
            org_id: park.clone(),
            resource_id: Some(lab.clone()),
            description: "лаборатория".into(),
            hours: 2,
            period: PledgePeriod::Term,
        });
        let one = hour(zone, 2026, 10, 1, 9);
        let in_lab = Used {
            resource_id: lab.clone(),
            start: one.0,
            end: one.1,
        };
        // The hall's general hour is untouched by a lab booking.
        check(
            &content,
            "№",
            zone,
            &park,
            &hall,
            std::slice::from_ref(&in_lab),
            &[hour(zone, 2026, 10, 2, 9)],
        )
        .unwrap();
        check(
            &content,
            "№",
            zone,
            &park,
            &lab,
            std::slice::from_ref(&in_lab),
            &[hour(zone, 2026, 10, 2, 9)],
        )
        .unwrap();
        assert!(
            check(
                &content,
                "№",
                zone,
                &park,
                &lab,
                &[in_lab.clone(), in_lab],
                &[hour(zone, 2026, 10, 2, 9)]
            )
            .is_err()
        );
    }
}
