//! A resource's week as a grid: a column per day, a row per hour of its
//! working day, each cell free, busy (with the booked time), closed or
//! past, in the resource's own zone.

use chrono::{
    DateTime, Datelike as _, Duration, NaiveDate, NaiveTime, TimeZone as _, Timelike as _, Utc,
};
use chrono_tz::Tz;
use edufed_i18n::ru;
use edufed_proto::v1 as pb;

use super::series::time;
use crate::page::t;

/// A busy time of the resource: from, until, and why ("booked", "held", or
/// a blackout's reason).
pub(crate) struct Busy {
    pub(crate) start: DateTime<Utc>,
    pub(crate) end: DateTime<Utc>,
    pub(crate) why: String,
}

/// What a cell of the grid is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Slot {
    Free,
    Busy,
    Closed,
    Past,
}

impl Slot {
    /// The cell's class.
    pub(crate) fn class(self) -> &'static str {
        match self {
            Slot::Free => "free",
            Slot::Busy => "busy",
            Slot::Closed => "closed",
            Slot::Past => "past",
        }
    }
}

pub(crate) struct Cell {
    /// `2026-11-05T15`: the day and hour, for tests to find.
    pub(crate) key: String,
    pub(crate) slot: Slot,
    pub(crate) text: String,
    /// The busy time's local span, or a blackout's reason.
    pub(crate) detail: String,
}

pub(crate) struct Row {
    pub(crate) label: String,
    pub(crate) cells: Vec<Cell>,
}

pub(crate) struct Day {
    pub(crate) label: String,
    pub(crate) today: bool,
}

pub(crate) struct Week {
    pub(crate) days: Vec<Day>,
    pub(crate) rows: Vec<Row>,
}

/// The Monday of `date`'s week.
pub(crate) fn monday_of(date: NaiveDate) -> NaiveDate {
    date - Duration::days(i64::from(date.weekday().num_days_from_monday()))
}

/// A local time as an instant; a time the clocks skip is taken an hour later.
pub(crate) fn instant_in(zone: Tz, date: NaiveDate, at: NaiveTime) -> DateTime<Utc> {
    let local = date.and_time(at);
    zone.from_local_datetime(&local)
        .earliest()
        .or_else(|| {
            zone.from_local_datetime(&(local + Duration::hours(1)))
                .earliest()
        })
        .map_or_else(|| local.and_utc(), |t| t.with_timezone(&Utc))
}

/// The opening hours on `weekday` (1 is Monday): none when closed; the
/// whole day when the resource sets no hours.
fn hours_on(hours: &[pb::WeeklyHours], weekday: u32) -> Vec<(NaiveTime, NaiveTime)> {
    if hours.is_empty() {
        return vec![(
            NaiveTime::MIN,
            NaiveTime::from_hms_opt(23, 59, 59).unwrap_or_default(),
        )];
    }
    hours
        .iter()
        .filter(|h| h.weekday == weekday)
        .filter_map(|h| Some((time(&h.opens)?, time(&h.closes)?)))
        .collect()
}

/// The rows shown: from the earliest opening to the latest closing hour,
/// or 08:00–20:00 for a resource open at any time.
fn span(hours: &[pb::WeeklyHours]) -> (u32, u32) {
    let opens = hours.iter().filter_map(|h| time(&h.opens)).min();
    let closes = hours.iter().filter_map(|h| time(&h.closes)).max();
    match (opens, closes) {
        (Some(o), Some(c)) if o < c => {
            let last = if c.minute() > 0 {
                c.hour() + 1
            } else {
                c.hour()
            };
            (o.hour(), last.clamp(o.hour() + 1, 24))
        }
        _ => (8, 20),
    }
}

/// The week from `monday` of a resource open `hours`, busy `busy`, as
/// seen at `now`, in `zone`.
pub(crate) fn build(
    monday: NaiveDate,
    zone: Tz,
    hours: &[pb::WeeklyHours],
    busy: &[Busy],
    now: DateTime<Utc>,
) -> Week {
    let today = now.with_timezone(&zone).date_naive();
    let dates: Vec<NaiveDate> = (0..7).map(|n| monday + Duration::days(n)).collect();
    let days = dates
        .iter()
        .map(|d| Day {
            label: ru().day(*d),
            today: *d == today,
        })
        .collect();
    let (first, last) = span(hours);
    let rows = (first..last)
        .map(|hour| {
            let from = NaiveTime::from_hms_opt(hour, 0, 0).unwrap_or_default();
            Row {
                label: ru().time(from),
                cells: dates
                    .iter()
                    .map(|date| cell(*date, hour, zone, hours, busy, now))
                    .collect(),
            }
        })
        .collect();
    Week { days, rows }
}

fn cell(
    date: NaiveDate,
    hour: u32,
    zone: Tz,
    hours: &[pb::WeeklyHours],
    busy: &[Busy],
    now: DateTime<Utc>,
) -> Cell {
    let from = NaiveTime::from_hms_opt(hour, 0, 0).unwrap_or_default();
    let start = instant_in(zone, date, from);
    let end = if hour + 1 >= 24 {
        instant_in(zone, date + Duration::days(1), NaiveTime::MIN)
    } else {
        instant_in(
            zone,
            date,
            NaiveTime::from_hms_opt(hour + 1, 0, 0).unwrap_or_default(),
        )
    };
    let key = format!("{date}T{hour:02}");
    let open = hours_on(hours, date.weekday().number_from_monday())
        .iter()
        .any(|(opens, closes)| *opens < from + Duration::hours(1) && *closes > from);
    let taken = busy.iter().find(|b| b.start < end && b.end > start);
    let local = |at: DateTime<Utc>| at.with_timezone(&zone);
    let (slot, text, detail) = match taken {
        _ if end <= now => (Slot::Past, t("slot-past"), String::new()),
        Some(b) if b.why != "booked" && b.why != "held" => {
            (Slot::Closed, t("slot-closed"), b.why.clone())
        }
        Some(b) => {
            let (s, e) = (local(b.start), local(b.end));
            let detail = if s.date_naive() == e.date_naive() {
                format!("{}–{}", ru().time(s.time()), ru().time(e.time()))
            } else {
                String::new()
            };
            let text = if b.why == "held" {
                t("slot-held")
            } else {
                t("slot-busy")
            };
            (Slot::Busy, text, detail)
        }
        None if !open => (Slot::Closed, t("slot-closed"), String::new()),
        None => (Slot::Free, t("slot-free"), String::new()),
    };
    Cell {
        key,
        slot,
        text,
        detail,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn weekdays(opens: &str, closes: &str) -> Vec<pb::WeeklyHours> {
        (1..=5)
            .map(|weekday| pb::WeeklyHours {
                weekday,
                opens: opens.into(),
                closes: closes.into(),
            })
            .collect()
    }

    #[test]
    fn a_week_shows_busy_closed_and_free_hours_in_the_resource_zone() {
        let tomsk = chrono_tz::Asia::Tomsk;
        let monday: NaiveDate = "2030-09-02".parse().unwrap();
        let thursday = monday + Duration::days(3);
        let at = |d: NaiveDate, h: u32, m: u32| {
            instant_in(tomsk, d, NaiveTime::from_hms_opt(h, m, 0).unwrap())
        };
        let busy = [
            Busy {
                start: at(thursday, 15, 0),
                end: at(thursday, 16, 15),
                why: "booked".into(),
            },
            Busy {
                start: at(monday + Duration::days(4), 0, 0),
                end: at(monday + Duration::days(5), 0, 0),
                why: "профилактика".into(),
            },
        ];
        let now = at(monday, 10, 30);
        let week = build(monday, tomsk, &weekdays("09:00", "17:30"), &busy, now);
        assert_eq!(week.days.len(), 7);
        assert!(week.days[0].today);
        assert_eq!(week.days[3].label, "чт, 5 сентября");
        let labels: Vec<&str> = week.rows.iter().map(|r| r.label.as_str()).collect();
        assert_eq!(labels.first(), Some(&"09:00"));
        assert_eq!(labels.last(), Some(&"17:00"), "until the half-hour closing");
        let find = |key: &str| {
            week.rows
                .iter()
                .flat_map(|r| &r.cells)
                .find(|c| c.key == key)
                .unwrap()
        };
        assert_eq!(find("2030-09-02T09").slot, Slot::Past);
        assert_eq!(find("2030-09-02T11").slot, Slot::Free);
        for hour in ["15", "16"] {
            let cell = find(&format!("2030-09-05T{hour}"));
            assert_eq!(
                (cell.slot, cell.detail.as_str()),
                (Slot::Busy, "15:00–16:15")
            );
        }
        assert_eq!(find("2030-09-05T14").slot, Slot::Free);
        let blackout = find("2030-09-06T10");
        assert_eq!(
            (blackout.slot, blackout.detail.as_str()),
            (Slot::Closed, "профилактика")
        );
        assert_eq!(find("2030-09-07T10").slot, Slot::Closed, "Saturday");
    }

    #[test]
    fn a_resource_open_at_any_time_shows_the_working_day() {
        let week = build(
            "2030-09-02".parse().unwrap(),
            chrono_tz::Europe::Moscow,
            &[],
            &[],
            "2030-01-01T00:00:00Z".parse().unwrap(),
        );
        assert_eq!(week.rows.len(), 12);
        assert!(
            week.rows
                .iter()
                .flat_map(|r| &r.cells)
                .all(|c| c.slot == Slot::Free)
        );
    }
}
