//! Where the seeds' events fall: the dates they state, and for those they
//! only give a month, a season or nothing, the coming such days.

use anyhow::{Context as _, anyhow, bail};
use chrono::{Datelike as _, Days, Months, NaiveDate, Weekday};
use edufed_proto::v1 as pb;

use super::seeds::When;

fn date(raw: &str) -> anyhow::Result<NaiveDate> {
    NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .with_context(|| format!("{raw:?} is not a date like 2022-10-22"))
}

fn first_of(year: i32, month: u32) -> anyhow::Result<NaiveDate> {
    NaiveDate::from_ymd_opt(year, month, 1).ok_or_else(|| anyhow!("no month {year}-{month}"))
}

fn plus_months(day: NaiveDate, months: u32) -> anyhow::Result<NaiveDate> {
    day.checked_add_months(Months::new(months))
        .ok_or_else(|| anyhow!("{day} plus {months} months is out of range"))
}

pub(super) fn plus_days(day: NaiveDate, days: u64) -> anyhow::Result<NaiveDate> {
    day.checked_add_days(Days::new(days))
        .ok_or_else(|| anyhow!("{day} plus {days} days is out of range"))
}

/// The school year (its September's year) that `today` falls in.
pub(super) fn school_year(today: NaiveDate) -> i32 {
    if today.month() >= 9 {
        today.year()
    } else {
        today.year() - 1
    }
}

fn rrule_weekday(weekday: Weekday) -> &'static str {
    match weekday {
        Weekday::Mon => "MO",
        Weekday::Tue => "TU",
        Weekday::Wed => "WE",
        Weekday::Thu => "TH",
        Weekday::Fri => "FR",
        Weekday::Sat => "SA",
        Weekday::Sun => "SU",
    }
}

const MONTHS_RU: [&str; 12] = [
    "январь",
    "февраль",
    "март",
    "апрель",
    "май",
    "июнь",
    "июль",
    "август",
    "сентябрь",
    "октябрь",
    "ноябрь",
    "декабрь",
];

fn month_name(month: u32) -> &'static str {
    let index = usize::try_from(month.clamp(1, 12) - 1).unwrap_or(0);
    MONTHS_RU[index]
}

/// All-day local start (a date) of `day`.
fn day_start(day: NaiveDate) -> String {
    day.format("%Y-%m-%d").to_string()
}

/// An all-day schedule from `from` to `until` (exclusive), optionally repeating.
fn all_day(from: NaiveDate, until: NaiveDate, recurrence: Option<pb::Recurrence>) -> pb::Schedule {
    pb::Schedule {
        time_zone: String::new(),
        start: day_start(from),
        end: day_start(until),
        all_day: true,
        recurrence,
    }
}

fn rule(rule: String, rdates: Vec<String>) -> Option<pb::Recurrence> {
    Some(pb::Recurrence {
        rule,
        exdates: Vec::new(),
        rdates,
    })
}

impl When {
    /// The schedule, in the publisher's zone; the period the seeds state
    /// when they give no days; and what of the schedule is assumed.
    pub(super) fn schedule(&self, today: NaiveDate) -> anyhow::Result<Timing> {
        let (schedule, assumed) = match self {
            When::Days {
                from,
                to,
                years,
                stated,
            } => {
                let until = plus_days(date(to)?, 1)?;
                let recurrence = (*years > 1).then(|| format!("FREQ=YEARLY;COUNT={years}"));
                (
                    all_day(
                        date(from)?,
                        until,
                        recurrence.and_then(|r| rule(r, Vec::new())),
                    ),
                    stated
                        .as_ref()
                        .map(|_| "Дни в источнике не указаны: показан весь период.".to_owned()),
                )
            }
            When::Rule { first, rule: r } => {
                let first = date(first)?;
                (
                    all_day(first, plus_days(first, 1)?, rule(r.to_owned(), Vec::new())),
                    None,
                )
            }
            When::Lessons {
                start,
                end,
                rule: r,
            } => (
                pb::Schedule {
                    time_zone: String::new(),
                    start: start.to_owned(),
                    end: end.to_owned(),
                    all_day: false,
                    recurrence: rule(r.to_owned(), Vec::new()),
                },
                Some("Дни и время занятий условны.".to_owned()),
            ),
            &When::NextMonths { first, last } => {
                let mut year = today.year();
                let (from, until) = loop {
                    let from = first_of(year, first)?;
                    let until = plus_months(first_of(year, last)?, 1)?;
                    if until > today {
                        break (from, until);
                    }
                    year += 1;
                };
                let months = if first == last {
                    month_name(first).to_owned()
                } else {
                    format!("{}–{}", month_name(first), month_name(last))
                };
                return Ok(Timing {
                    schedule: all_day(from, until, None),
                    stated: Some(format!("Проводится ежегодно: {months}.")),
                    assumed: Some(
                        "Дни в источнике не указаны: показан ближайший такой период целиком."
                            .to_owned(),
                    ),
                });
            }
            When::NextIntakes => {
                let mut starts = Vec::new();
                for year in today.year() - 1..=today.year() + 1 {
                    starts.push(first_of(year, 2)?);
                    starts.push(first_of(year, 9)?);
                }
                let mut coming = Vec::new();
                for start in starts {
                    if plus_months(start, 3)? > today {
                        coming.push(start);
                    }
                }
                let (Some(first), Some(second)) = (coming.first(), coming.get(1)) else {
                    bail!("no coming intake after {today}");
                };
                (
                    all_day(
                        *first,
                        plus_months(*first, 3)?,
                        rule(
                            "FREQ=YEARLY;COUNT=1".to_owned(),
                            vec![format!("{}T00:00", day_start(*second))],
                        ),
                    ),
                    Some(
                        "Месяцы начала наборов (сентябрь, февраль) и занятия по субботам условны."
                            .to_owned(),
                    ),
                )
            }
            &When::NextDays { month, day, days } => {
                let soon = plus_days(today, 7)?;
                let mut year = today.year();
                let from = loop {
                    let from = NaiveDate::from_ymd_opt(year, month, day)
                        .ok_or_else(|| anyhow!("no date {year}-{month}-{day}"))?;
                    if from > soon {
                        break from;
                    }
                    year += 1;
                };
                (
                    all_day(from, plus_days(from, days)?, None),
                    Some("Даты условны: источник их не называет.".to_owned()),
                )
            }
            &When::NextMonthly {
                nth,
                weekday,
                count,
            } => {
                let next = plus_months(first_of(today.year(), today.month())?, 1)?;
                let first =
                    NaiveDate::from_weekday_of_month_opt(next.year(), next.month(), weekday, nth)
                        .ok_or_else(|| anyhow!("no weekday {nth} of {next}"))?;
                (
                    all_day(
                        first,
                        plus_days(first, 1)?,
                        rule(
                            format!(
                                "FREQ=MONTHLY;BYDAY={nth}{};COUNT={count}",
                                rrule_weekday(weekday)
                            ),
                            Vec::new(),
                        ),
                    ),
                    Some("Даты условны: источник их не называет.".to_owned()),
                )
            }
            When::NextSaturdays => {
                let mut first = plus_days(today, 1)?;
                while first.weekday() != Weekday::Sat {
                    first = plus_days(first, 1)?;
                }
                let mut end_year = school_year(first) + 1;
                let mut last = NaiveDate::from_ymd_opt(end_year, 5, 31)
                    .ok_or_else(|| anyhow!("no 31 May {end_year}"))?;
                if last < plus_days(first, 28)? {
                    end_year += 1;
                    last = NaiveDate::from_ymd_opt(end_year, 5, 31)
                        .ok_or_else(|| anyhow!("no 31 May {end_year}"))?;
                }
                let weeks = (last - first).num_days() / 7 + 1;
                (
                    all_day(
                        first,
                        plus_days(first, 1)?,
                        rule(format!("FREQ=WEEKLY;BYDAY=SA;COUNT={weeks}"), Vec::new()),
                    ),
                    Some("По субботам; период (до конца учебного года) условен.".to_owned()),
                )
            }
        };
        let stated = match self {
            When::Days {
                stated: Some(s), ..
            } => Some(format!("Сроки: {s}.")),
            _ => None,
        };
        Ok(Timing {
            schedule,
            stated,
            assumed,
        })
    }
}

/// When an activity takes place, as published.
pub(super) struct Timing {
    pub(super) schedule: pb::Schedule,
    /// The period the seeds state, when they give no days.
    pub(super) stated: Option<String>,
    /// What of the schedule the demo assumes.
    pub(super) assumed: Option<String>,
}
