//! When an activity happens: a start and end in a time zone, optionally
//! recurring (RFC 5545 RRULE with EXDATE and RDATE), with single occurrences
//! cancelled or moved (RECURRENCE-ID style). Expansion keeps local
//! wall-clock times, so "Tuesdays 14:00 Asia/Tomsk" stays 14:00 across any
//! change of the zone's UTC offset.

use chrono::{DateTime, Datelike as _, Duration, LocalResult, NaiveDateTime, TimeZone as _, Utc};
use rrule::{Frequency, RRule, Unvalidated};
use serde::{Deserialize, Serialize};

use crate::error::FieldError;
use crate::time::TimeZone;

/// The most occurrences one activity may expand to.
pub const MAX_OCCURRENCES: usize = 5000;
/// The longest one occurrence may last (a profile camp, a month-long distance game).
pub const MAX_OCCURRENCE_DAYS: i64 = 366;
/// The years a schedule may fall in.
pub const YEARS: std::ops::RangeInclusive<i32> = 1970..=2200;
/// How far ahead a rule without COUNT or UNTIL is expanded.
pub const OPEN_RULE_HORIZON_YEARS: i32 = 10;
const MAX_DATES: usize = 1000;
const MAX_RULE_LEN: usize = 500;

/// A recurrence rule and its exceptions, in the schedule's zone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recurrence {
    /// The RRULE value, e.g. `FREQ=WEEKLY;BYDAY=TU,TH;UNTIL=20200531T235959Z`.
    pub rule: String,
    /// Local start times excluded from the rule.
    pub exdates: Vec<NaiveDateTime>,
    /// Local start times added to the rule.
    pub rdates: Vec<NaiveDateTime>,
}

/// When an activity takes place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schedule {
    /// The zone the local times are in.
    pub time_zone: TimeZone,
    /// Local start of the (first) occurrence.
    pub start: NaiveDateTime,
    /// Local end of the (first) occurrence; later ones last as long.
    pub end: NaiveDateTime,
    /// Whole days: shown and exported as dates.
    pub all_day: bool,
    /// The rule, for a recurring activity.
    pub recurrence: Option<Recurrence>,
}

/// A change to one occurrence, named by its original local start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Override {
    /// The occurrence's original local start (its RECURRENCE-ID).
    pub original_start: NaiveDateTime,
    pub change: OverrideChange,
}

/// What happened to one occurrence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OverrideChange {
    /// It does not take place.
    Cancelled,
    /// It takes place at another local time.
    Moved {
        /// Local to the schedule's zone.
        start: NaiveDateTime,
        /// Local to the schedule's zone.
        end: NaiveDateTime,
    },
}

/// One expanded occurrence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Occurrence {
    /// Its original start: the stable key of the occurrence.
    pub original_start: DateTime<Utc>,
    /// When it starts (after any move).
    pub start: DateTime<Utc>,
    /// When it ends (after any move).
    pub end: DateTime<Utc>,
    /// Whether this single occurrence was cancelled.
    pub cancelled: bool,
    /// Whether it was moved from its original time.
    pub moved: bool,
}

impl Occurrence {
    /// The key registrations and overrides use: the original start in microseconds.
    pub fn key(&self) -> i64 {
        self.original_start.timestamp_micros()
    }
}

/// A local time as an instant in `zone`. An ambiguous time (a clock set
/// back) is the earlier instant; a time in a gap (a clock set forward) is
/// refused, naming `field`.
pub fn to_utc(
    field: &str,
    zone: TimeZone,
    local: NaiveDateTime,
) -> Result<DateTime<Utc>, FieldError> {
    match zone.tz().from_local_datetime(&local) {
        LocalResult::Single(t) => Ok(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(earlier, _) => Ok(earlier.with_timezone(&Utc)),
        LocalResult::None => Err(FieldError::new(
            field,
            format!("{local} does not exist in {zone}: the clocks skip it"),
        )),
    }
}

impl Schedule {
    /// Checks the schedule's own rules (end after start, bounded duration,
    /// a rule that expands within bounds) and returns it.
    pub fn validate(self) -> Result<Self, FieldError> {
        use chrono::Datelike as _;
        for (field, t) in [("schedule.start", self.start), ("schedule.end", self.end)] {
            if !YEARS.contains(&t.year()) {
                return Err(FieldError::new(field, "must fall between 1970 and 2200"));
            }
        }
        if self.all_day
            && (self.start.time() != chrono::NaiveTime::MIN
                || self.end.time() != chrono::NaiveTime::MIN)
        {
            return Err(FieldError::new(
                "schedule.end",
                "an all-day activity runs from midnight to midnight: give dates (the end is the day after the last)",
            ));
        }
        let duration = self.end - self.start;
        if duration <= Duration::zero() {
            return Err(FieldError::new("schedule.end", "must be after the start"));
        }
        if duration > Duration::days(MAX_OCCURRENCE_DAYS) {
            return Err(FieldError::new(
                "schedule.end",
                format!(
                    "one occurrence may last at most {MAX_OCCURRENCE_DAYS} days; use a recurrence"
                ),
            ));
        }
        to_utc("schedule.start", self.time_zone, self.start)?;
        to_utc("schedule.end", self.time_zone, self.end)?;
        if let Some(recurrence) = &self.recurrence
            && (recurrence.exdates.len() > MAX_DATES || recurrence.rdates.len() > MAX_DATES)
        {
            return Err(FieldError::new(
                "schedule.recurrence",
                format!("at most {MAX_DATES} exception and extra dates"),
            ));
        }
        let occurrences = self.expand(&[])?;
        if self.recurrence.is_some() {
            // RFC 5545 counts the start as the first occurrence; calendar
            // apps do too. A start the rule would not produce would make the
            // node and the apps disagree, so it is refused.
            let first = to_utc("schedule.start", self.time_zone, self.start)?;
            if occurrences.first().map(|o| o.original_start) != Some(first) {
                return Err(FieldError::new(
                    "schedule.start",
                    "is not an occurrence of the rule: start on a day the rule includes",
                ));
            }
        }
        Ok(self)
    }

    /// Every occurrence, in order of start, with `overrides` applied.
    pub fn expand(&self, overrides: &[Override]) -> Result<Vec<Occurrence>, FieldError> {
        let zone = self.time_zone;
        let duration = self.end - self.start;
        let starts: Vec<DateTime<Utc>> = match &self.recurrence {
            None => vec![to_utc("schedule.start", zone, self.start)?],
            Some(recurrence) => expand_rule(zone, self.start, recurrence)?,
        };
        let mut occurrences = Vec::with_capacity(starts.len());
        for original in starts {
            let local_original = original.with_timezone(&zone.tz()).naive_local();
            let change = overrides
                .iter()
                .find(|o| o.original_start == local_original)
                .map(|o| &o.change);
            // The same elapsed time as the first occurrence, so an end that
            // would fall in a clock change never invalidates the schedule.
            let occurrence = match change {
                None => Occurrence {
                    original_start: original,
                    start: original,
                    end: original + duration,
                    cancelled: false,
                    moved: false,
                },
                Some(OverrideChange::Cancelled) => Occurrence {
                    original_start: original,
                    start: original,
                    end: original + duration,
                    cancelled: true,
                    moved: false,
                },
                Some(OverrideChange::Moved { start, end }) => Occurrence {
                    original_start: original,
                    start: to_utc("start", zone, *start)?,
                    end: to_utc("end", zone, *end)?,
                    cancelled: false,
                    moved: true,
                },
            };
            occurrences.push(occurrence);
        }
        occurrences.sort_by_key(|o| (o.start, o.original_start));
        Ok(occurrences)
    }

    /// Whether `original_start` (local) is one of this schedule's occurrences.
    pub fn has_occurrence(&self, original_start: NaiveDateTime) -> Result<bool, FieldError> {
        let key = to_utc("original_start", self.time_zone, original_start)?;
        Ok(self.expand(&[])?.iter().any(|o| o.original_start == key))
    }
}

/// Parses and bounds an RRULE value; errors name `schedule.recurrence.rule`.
fn parse_rule(raw: &str) -> Result<RRule<Unvalidated>, FieldError> {
    const FIELD: &str = "schedule.recurrence.rule";
    let raw = raw.trim();
    let raw = raw.strip_prefix("RRULE:").unwrap_or(raw);
    if raw.is_empty() {
        return Err(FieldError::new(FIELD, "is required for a recurrence"));
    }
    if raw.len() > MAX_RULE_LEN {
        return Err(FieldError::new(
            FIELD,
            format!("is longer than {MAX_RULE_LEN} characters"),
        ));
    }
    let rule: RRule<Unvalidated> = raw
        .parse()
        .map_err(|e| FieldError::new(FIELD, format!("is not an RFC 5545 RRULE: {e}")))?;
    if matches!(
        rule.get_freq(),
        Frequency::Hourly | Frequency::Minutely | Frequency::Secondly
    ) {
        return Err(FieldError::new(
            FIELD,
            "repeats more often than daily; the network schedules at most one occurrence a day per activity",
        ));
    }
    if rule.get_by_hour().len() > 1
        || rule.get_by_minute().len() > 1
        || rule.get_by_second().len() > 1
    {
        return Err(FieldError::new(
            FIELD,
            "yields several occurrences a day; the time of day comes from the start",
        ));
    }
    Ok(rule)
}

fn expand_rule(
    zone: TimeZone,
    start: NaiveDateTime,
    recurrence: &Recurrence,
) -> Result<Vec<DateTime<Utc>>, FieldError> {
    const FIELD: &str = "schedule.recurrence.rule";
    let rule = parse_rule(&recurrence.rule)?;
    let tz = rrule::Tz::Tz(zone.tz());
    let local = |field: &str, t: NaiveDateTime| -> Result<DateTime<rrule::Tz>, FieldError> {
        to_utc(field, zone, t).map(|utc| utc.with_timezone(&tz))
    };
    let dt_start = local("schedule.start", start)?;
    let open = rule.get_count().is_none() && rule.get_until().is_none();
    let mut set = rule
        .build(dt_start)
        .map_err(|e| FieldError::new(FIELD, format!("is not valid with this start: {e}")))?;
    if open {
        let horizon = dt_start
            .checked_add_months(chrono::Months::new(12 * OPEN_RULE_HORIZON_YEARS as u32))
            .unwrap_or(dt_start);
        set = set.before(horizon);
    }
    for exdate in &recurrence.exdates {
        set = set.exdate(local("schedule.recurrence.exdates", *exdate)?);
    }
    for rdate in &recurrence.rdates {
        set = set.rdate(local("schedule.recurrence.rdates", *rdate)?);
    }
    let result = set.all((MAX_OCCURRENCES + 1) as u16);
    if result.limited && result.dates.len() <= MAX_OCCURRENCES {
        // The crate stopped on its own iteration guard: a rule too sparse
        // or too tangled to expand fully.
        return Err(FieldError::new(
            FIELD,
            "cannot be expanded within bounds; simplify it",
        ));
    }
    if result.dates.len() > MAX_OCCURRENCES {
        return Err(FieldError::new(
            FIELD,
            format!(
                "expands to more than {MAX_OCCURRENCES} occurrences; shorten it with COUNT or UNTIL"
            ),
        ));
    }
    if result.dates.is_empty() {
        return Err(FieldError::new(FIELD, "yields no occurrence"));
    }
    let mut starts: Vec<DateTime<Utc>> =
        result.dates.iter().map(|d| d.with_timezone(&Utc)).collect();
    starts.sort();
    starts.dedup();
    // Every occurrence within the years the node keeps, not only the start.
    if let Some(last) = starts.last()
        && !YEARS.contains(&last.year())
    {
        return Err(FieldError::new(
            FIELD,
            format!(
                "has occurrences as late as {}; every occurrence must fall between 1970 and 2200",
                last.year()
            ),
        ));
    }
    Ok(starts)
}

#[cfg(test)]
mod tests {
    use chrono::{Datelike as _, NaiveDate, Timelike as _, Weekday};

    use super::*;

    fn at(y: i32, m: u32, d: u32, h: u32, min: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d)
            .unwrap()
            .and_hms_opt(h, min, 0)
            .unwrap()
    }

    fn zone(name: &str) -> TimeZone {
        TimeZone::parse("time_zone", name).unwrap()
    }

    #[test]
    fn every_occurrence_falls_within_the_years_kept() {
        let start = NaiveDate::from_ymd_opt(2027, 9, 1)
            .unwrap()
            .and_hms_opt(10, 0, 0)
            .unwrap();
        let far = weekly("Asia/Tomsk", "FREQ=YEARLY;INTERVAL=1000;COUNT=100", start);
        let refused = far.validate().unwrap_err();
        assert_eq!(refused.field, "schedule.recurrence.rule");
        assert!(
            refused.reason.contains("between 1970 and 2200"),
            "{refused:?}"
        );
        let near = weekly("Asia/Tomsk", "FREQ=YEARLY;COUNT=100", start);
        assert_eq!(near.validate().unwrap().expand(&[]).unwrap().len(), 100);
    }

    fn weekly(zone_name: &str, rule: &str, start: NaiveDateTime) -> Schedule {
        Schedule {
            time_zone: zone(zone_name),
            start,
            end: start + Duration::minutes(90),
            all_day: false,
            recurrence: Some(Recurrence {
                rule: rule.to_owned(),
                exdates: vec![],
                rdates: vec![],
            }),
        }
    }

    #[test]
    fn twice_a_week_for_a_school_year_stays_at_14_local() {
        // Tuesdays and Thursdays 14:00–15:30, 1 September 2019 to 31 May 2020.
        let schedule = weekly(
            "Asia/Yekaterinburg",
            "FREQ=WEEKLY;BYDAY=TU,TH;UNTIL=20200531T235959Z",
            at(2019, 9, 3, 14, 0),
        )
        .validate()
        .unwrap();
        let occurrences = schedule.expand(&[]).unwrap();
        assert_eq!(occurrences.len(), 78);
        let tz = zone("Asia/Yekaterinburg").tz();
        for o in &occurrences {
            let local = o.start.with_timezone(&tz);
            assert_eq!((local.hour(), local.minute()), (14, 0));
            assert!(matches!(local.weekday(), Weekday::Tue | Weekday::Thu));
            assert_eq!(o.end - o.start, Duration::minutes(90));
        }
    }

    #[test]
    fn local_time_holds_across_a_change_of_utc_offset() {
        // Tomsk moved from UTC+6 to UTC+7 on 29 May 2016.
        let schedule = weekly("Asia/Tomsk", "FREQ=WEEKLY;COUNT=4", at(2016, 5, 17, 14, 0));
        let occurrences = schedule.expand(&[]).unwrap();
        let utc_hours: Vec<u32> = occurrences.iter().map(|o| o.start.hour()).collect();
        assert_eq!(
            utc_hours,
            [8, 8, 7, 7],
            "14:00 local is 08:00 UTC, then 07:00 UTC"
        );
        let tz = zone("Asia/Tomsk").tz();
        assert!(
            occurrences
                .iter()
                .all(|o| o.start.with_timezone(&tz).hour() == 14)
        );
    }

    #[test]
    fn last_saturday_of_february_every_year() {
        let schedule = weekly(
            "Asia/Tomsk",
            "FREQ=YEARLY;BYMONTH=2;BYDAY=-1SA;COUNT=3",
            at(2022, 2, 26, 10, 0),
        );
        let days: Vec<NaiveDate> = schedule
            .expand(&[])
            .unwrap()
            .iter()
            .map(|o| o.start.with_timezone(&zone("Asia/Tomsk").tz()).date_naive())
            .collect();
        assert_eq!(
            days,
            [
                NaiveDate::from_ymd_opt(2022, 2, 26).unwrap(),
                NaiveDate::from_ymd_opt(2023, 2, 25).unwrap(),
                NaiveDate::from_ymd_opt(2024, 2, 24).unwrap()
            ]
        );
    }

    #[test]
    fn a_month_long_window_is_one_occurrence() {
        let schedule = Schedule {
            time_zone: zone("Asia/Tomsk"),
            start: at(2022, 10, 22, 0, 0),
            end: at(2022, 11, 23, 0, 0),
            all_day: true,
            recurrence: None,
        }
        .validate()
        .unwrap();
        assert_eq!(schedule.expand(&[]).unwrap().len(), 1);
    }

    #[test]
    fn two_three_month_intakes_a_year() {
        let schedule = Schedule {
            time_zone: zone("Asia/Tomsk"),
            start: at(2024, 9, 1, 0, 0),
            end: at(2024, 12, 1, 0, 0),
            all_day: true,
            recurrence: Some(Recurrence {
                rule: "FREQ=YEARLY;COUNT=2".into(),
                exdates: vec![],
                rdates: vec![at(2025, 2, 1, 0, 0)],
            }),
        }
        .validate()
        .unwrap();
        let occurrences = schedule.expand(&[]).unwrap();
        assert_eq!(
            occurrences.len(),
            3,
            "autumn 2024, spring 2025, autumn 2025"
        );
    }

    #[test]
    fn exdates_and_overrides() {
        let mut schedule = weekly(
            "Asia/Tomsk",
            "FREQ=WEEKLY;BYDAY=TU;COUNT=5",
            at(2024, 1, 2, 14, 0),
        );
        schedule.recurrence.as_mut().unwrap().exdates = vec![at(2024, 1, 9, 14, 0)];
        let overrides = [
            Override {
                original_start: at(2024, 1, 16, 14, 0),
                change: OverrideChange::Cancelled,
            },
            Override {
                original_start: at(2024, 1, 23, 14, 0),
                change: OverrideChange::Moved {
                    start: at(2024, 1, 24, 10, 0),
                    end: at(2024, 1, 24, 11, 30),
                },
            },
        ];
        let occurrences = schedule.expand(&overrides).unwrap();
        assert_eq!(occurrences.len(), 4, "five minus the excluded date");
        assert!(occurrences[1].cancelled);
        let moved = occurrences.iter().find(|o| o.moved).unwrap();
        assert_eq!(
            moved.start.with_timezone(&zone("Asia/Tomsk").tz()).hour(),
            10
        );
        assert_eq!(
            moved
                .original_start
                .with_timezone(&zone("Asia/Tomsk").tz())
                .day(),
            23
        );
    }

    #[test]
    fn unbounded_or_sub_daily_rules_are_refused() {
        for rule in [
            "FREQ=SECONDLY",
            "FREQ=MINUTELY;COUNT=20000",
            "FREQ=HOURLY",
            "FREQ=DAILY;BYHOUR=1,2,3",
            "FREQ=DAILY;COUNT=6000",
            "FREQ=BOGUS",
            "",
        ] {
            let err = weekly("Asia/Tomsk", rule, at(2024, 1, 1, 9, 0))
                .validate()
                .unwrap_err();
            assert_eq!(err.field, "schedule.recurrence.rule", "{rule}");
        }
        // An open daily rule is expanded ten years ahead: within bounds.
        let open = weekly("Asia/Tomsk", "FREQ=DAILY", at(2024, 1, 1, 9, 0))
            .validate()
            .unwrap();
        assert!(open.expand(&[]).unwrap().len() <= MAX_OCCURRENCES);
    }

    #[test]
    fn the_start_must_be_an_occurrence_and_all_day_means_dates() {
        // 2024-01-01 is a Monday; the rule says Tuesdays.
        let err = weekly(
            "Asia/Tomsk",
            "FREQ=WEEKLY;BYDAY=TU;COUNT=3",
            at(2024, 1, 1, 9, 0),
        )
        .validate()
        .unwrap_err();
        assert_eq!(err.field, "schedule.start");
        let mut day = weekly("Asia/Tomsk", "FREQ=WEEKLY;COUNT=3", at(2024, 1, 2, 9, 0));
        day.all_day = true;
        assert_eq!(day.validate().unwrap_err().field, "schedule.end");
        let far = weekly("Asia/Tomsk", "FREQ=WEEKLY;COUNT=3", at(9999, 1, 2, 9, 0));
        assert_eq!(far.validate().unwrap_err().field, "schedule.start");
    }

    #[test]
    fn an_end_in_a_clock_change_keeps_the_duration() {
        // Berlin skips 02:00–03:00 on 31 March 2024; 01:00 + 90 minutes.
        let schedule = weekly(
            "Europe/Berlin",
            "FREQ=WEEKLY;COUNT=3",
            at(2024, 3, 24, 1, 0),
        )
        .validate()
        .unwrap();
        let occurrences = schedule.expand(&[]).unwrap();
        assert!(
            occurrences
                .iter()
                .all(|o| o.end - o.start == Duration::minutes(90))
        );
    }

    #[test]
    fn ends_and_durations_are_checked() {
        let mut schedule = weekly("Asia/Tomsk", "FREQ=DAILY;COUNT=2", at(2024, 1, 1, 9, 0));
        schedule.end = schedule.start;
        assert_eq!(
            schedule.clone().validate().unwrap_err().field,
            "schedule.end"
        );
        schedule.end = schedule.start + Duration::days(400);
        assert_eq!(schedule.validate().unwrap_err().field, "schedule.end");
    }

    mod properties {
        use proptest::prelude::*;

        use super::*;

        /// Zones whose UTC offset changed in the years expanded (Tomsk 2016,
        /// Moscow 2014, Novosibirsk 2016, Berlin's yearly summer time).
        const ZONES: &[&str] = &[
            "Asia/Tomsk",
            "Europe/Moscow",
            "Asia/Novosibirsk",
            "Asia/Yekaterinburg",
            "Europe/Berlin",
        ];

        proptest! {
            #[test]
            fn weekly_rules_keep_count_wall_clock_and_exceptions(
                zone_index in 0..ZONES.len(),
                year in 2012i32..2020,
                month in 1u32..=12,
                day in 1u32..=28,
                hour in 9u32..=19,
                minute in prop::sample::select(vec![0u32, 15, 30, 45]),
                count in 1usize..120,
                excluded in prop::collection::btree_set(0usize..120, 0..10),
                cancelled in prop::collection::btree_set(0usize..120, 0..5),
            ) {
                let zone_name = ZONES[zone_index];
                let start = at(year, month, day, hour, minute);
                let mut schedule = weekly(zone_name, &format!("FREQ=WEEKLY;COUNT={count}"), start);
                // Hand-worked: the n-th occurrence is n weeks later, same local time.
                let expected: Vec<NaiveDateTime> =
                    (0..count).map(|n| start + Duration::weeks(n as i64)).collect();
                let exdates: Vec<NaiveDateTime> =
                    excluded.iter().filter(|i| **i < count).map(|i| expected[*i]).collect();
                schedule.recurrence.as_mut().unwrap().exdates = exdates.clone();
                let overrides: Vec<Override> = cancelled
                    .iter()
                    .filter(|i| **i < count && !exdates.contains(&expected[**i]))
                    .map(|i| Override { original_start: expected[*i], change: OverrideChange::Cancelled })
                    .collect();
                let remaining = count - exdates.len();
                if remaining == 0 {
                    prop_assert!(schedule.expand(&overrides).is_err());
                    return Ok(());
                }
                let occurrences = schedule.expand(&overrides).unwrap();
                prop_assert_eq!(occurrences.len(), remaining);
                let tz = zone(zone_name).tz();
                let local: Vec<NaiveDateTime> =
                    occurrences.iter().map(|o| o.start.with_timezone(&tz).naive_local()).collect();
                let wanted: Vec<NaiveDateTime> =
                    expected.iter().filter(|t| !exdates.contains(t)).copied().collect();
                prop_assert_eq!(local, wanted);
                prop_assert_eq!(
                    occurrences.iter().filter(|o| o.cancelled).count(),
                    overrides.len()
                );
                for o in &occurrences {
                    prop_assert_eq!(o.end - o.start, Duration::minutes(90));
                }
            }
        }
    }
}
