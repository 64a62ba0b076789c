//! A series of lessons as people state it (days of the week, a first and a
//! last date, dates to leave out) turned into what the API takes: the
//! first lesson's date, an RFC 5545 RRULE and local EXDATEs. Nobody types
//! a rule.

use chrono::{Datelike as _, Duration, NaiveDate, NaiveTime, TimeZone as _, Utc, Weekday};
use chrono_tz::Tz;

/// The longest period of skipped dates one entry may name.
const MAX_SKIPPED_SPAN_DAYS: i64 = 400;

/// A weekly series as the API takes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Series {
    /// The first lesson's date: the first chosen weekday from the start.
    pub(crate) first: NaiveDate,
    /// `FREQ=WEEKLY;BYDAY=…;UNTIL=…Z`.
    pub(crate) rule: String,
    /// Local starts left out, `2026-11-04T14:00`.
    pub(crate) exdates: Vec<String>,
    /// How many lessons the series has, the skipped ones left out.
    pub(crate) lessons: usize,
}

/// Why a series cannot be built, by the form field at fault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Wrong {
    pub(crate) field: &'static str,
    /// The catalogue's key of the message.
    pub(crate) key: &'static str,
}

fn wrong(field: &'static str, key: &'static str) -> Wrong {
    Wrong { field, key }
}

/// The ISO weekday number (1 is Monday) as a `Weekday`.
pub(crate) fn weekday(n: u32) -> Option<Weekday> {
    match n {
        1 => Some(Weekday::Mon),
        2 => Some(Weekday::Tue),
        3 => Some(Weekday::Wed),
        4 => Some(Weekday::Thu),
        5 => Some(Weekday::Fri),
        6 => Some(Weekday::Sat),
        7 => Some(Weekday::Sun),
        _ => None,
    }
}

fn byday(day: Weekday) -> &'static str {
    match day {
        Weekday::Mon => "MO",
        Weekday::Tue => "TU",
        Weekday::Wed => "WE",
        Weekday::Thu => "TH",
        Weekday::Fri => "FR",
        Weekday::Sat => "SA",
        Weekday::Sun => "SU",
    }
}

/// Every `days` of the week from `from` to `until` (both included) at
/// `start`, local to `zone`, but on the `skipped` dates.
pub(crate) fn weekly(
    from: NaiveDate,
    until: NaiveDate,
    days: &[Weekday],
    skipped: &[NaiveDate],
    start: NaiveTime,
    zone: Tz,
) -> Result<Series, Wrong> {
    if days.is_empty() {
        return Err(wrong("days", "request-error-days"));
    }
    if until < from || until - from > Duration::days(3 * 366) {
        return Err(wrong("until", "request-error-until"));
    }
    let chosen = |d: &NaiveDate| days.contains(&d.weekday());
    let dates: Vec<NaiveDate> = from
        .iter_days()
        .take_while(|d| *d <= until)
        .filter(chosen)
        .collect();
    let Some(first) = dates.first().copied() else {
        return Err(wrong("until", "request-error-no-lessons"));
    };
    let left_out: Vec<NaiveDate> = dates
        .iter()
        .copied()
        .filter(|d| skipped.contains(d))
        .collect();
    if left_out.len() == dates.len() {
        return Err(wrong("skip", "request-error-no-lessons"));
    }
    let mut ordered: Vec<Weekday> = days.to_vec();
    ordered.sort_by_key(Weekday::number_from_monday);
    ordered.dedup();
    let names: Vec<&str> = ordered.iter().map(|d| byday(*d)).collect();
    // UNTIL is an instant: the end of the last day, in the resource's zone.
    let last = until.and_hms_opt(23, 59, 59).unwrap_or_default();
    let until_utc = zone
        .from_local_datetime(&last)
        .earliest()
        .map_or_else(|| last.and_utc(), |t| t.with_timezone(&Utc));
    let time = start.format("%H:%M");
    Ok(Series {
        first,
        rule: format!(
            "FREQ=WEEKLY;BYDAY={};UNTIL={}",
            names.join(","),
            until_utc.format("%Y%m%dT%H%M%SZ")
        ),
        exdates: left_out.iter().map(|d| format!("{d}T{time}")).collect(),
        lessons: dates.len() - left_out.len(),
    })
}

/// A date as people write it: `04.11.2026` or `2026-11-04`.
pub(crate) fn date(raw: &str) -> Option<NaiveDate> {
    let raw = raw.trim();
    ["%d.%m.%Y", "%Y-%m-%d", "%d.%m.%y"]
        .iter()
        .find_map(|f| NaiveDate::parse_from_str(raw, f).ok())
}

/// The dates a person lists: separated by commas, semicolons or lines,
/// each a date or a period `30.12.2026 – 08.01.2027`. The entry that does
/// not read is returned as the error.
pub(crate) fn dates(raw: &str) -> Result<Vec<NaiveDate>, String> {
    let mut found = Vec::new();
    for item in raw.split([',', ';', '\n']) {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let period = ["–", "—", " - ", ".."]
            .iter()
            .find_map(|sep| item.split_once(sep));
        match period {
            Some((a, b)) => {
                let (Some(a), Some(b)) = (date(a), date(b)) else {
                    return Err(item.to_owned());
                };
                if b < a || b - a > Duration::days(MAX_SKIPPED_SPAN_DAYS) {
                    return Err(item.to_owned());
                }
                found.extend(a.iter_days().take_while(|d| *d <= b));
            }
            None => found.push(date(item).ok_or_else(|| item.to_owned())?),
        }
    }
    found.sort();
    found.dedup();
    Ok(found)
}

/// A time of day as a form sends it, `14:00`.
pub(crate) fn time(raw: &str) -> Option<NaiveTime> {
    let raw = raw.trim();
    ["%H:%M", "%H:%M:%S", "%H.%M"]
        .iter()
        .find_map(|f| NaiveTime::parse_from_str(raw, f).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn tuesdays_and_thursdays_without_a_holiday() {
        let series = weekly(
            day("2026-11-02"),
            day("2026-11-30"),
            &[Weekday::Thu, Weekday::Tue],
            &[day("2026-11-05"), day("2026-11-06")],
            NaiveTime::from_hms_opt(14, 0, 0).unwrap(),
            chrono_tz::Asia::Tomsk,
        )
        .unwrap();
        assert_eq!(series.first, day("2026-11-03"), "the first Tuesday");
        // The last day ends at 23:59:59 in Tomsk (UTC+7).
        assert_eq!(
            series.rule,
            "FREQ=WEEKLY;BYDAY=TU,TH;UNTIL=20261130T165959Z"
        );
        assert_eq!(
            series.exdates,
            ["2026-11-05T14:00"],
            "a Friday is no lesson"
        );
        assert_eq!(series.lessons, 7);
    }

    #[test]
    fn a_series_needs_days_and_an_order() {
        let at = NaiveTime::from_hms_opt(9, 0, 0).unwrap();
        let tz = chrono_tz::Europe::Moscow;
        let d = day("2026-11-02");
        assert_eq!(weekly(d, d, &[], &[], at, tz).unwrap_err().field, "days");
        assert_eq!(
            weekly(d, d - Duration::days(1), &[Weekday::Mon], &[], at, tz)
                .unwrap_err()
                .field,
            "until"
        );
        assert_eq!(
            weekly(d, d, &[Weekday::Tue], &[], at, tz).unwrap_err().key,
            "request-error-no-lessons"
        );
        assert_eq!(
            weekly(d, d, &[Weekday::Mon], &[d], at, tz)
                .unwrap_err()
                .field,
            "skip"
        );
    }

    #[test]
    fn dates_are_read_as_people_write_them() {
        assert_eq!(
            dates("04.11.2026, 2026-02-23;\n30.12.2026 – 02.01.2027").unwrap(),
            [
                day("2026-02-23"),
                day("2026-11-04"),
                day("2026-12-30"),
                day("2026-12-31"),
                day("2027-01-01"),
                day("2027-01-02"),
            ]
        );
        assert_eq!(dates(" ").unwrap(), Vec::<NaiveDate>::new());
        assert_eq!(dates("4 ноября").unwrap_err(), "4 ноября");
        assert_eq!(
            dates("02.01.2027 – 30.12.2026").unwrap_err(),
            "02.01.2027 – 30.12.2026"
        );
        assert_eq!(time("9:05"), NaiveTime::from_hms_opt(9, 5, 0));
        assert_eq!(time("25:00"), None);
    }
}
