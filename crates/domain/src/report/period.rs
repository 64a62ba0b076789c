//! The days a report covers, and school years.

use std::fmt;

use chrono::{Datelike, NaiveDate};

use super::MAX_PERIOD_DAYS;
use crate::error::FieldError;

/// Days `[from, to]`, both included, read in each record's own zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Period {
    /// Included.
    pub from: NaiveDate,
    /// Included; not before `from`.
    pub to: NaiveDate,
}

impl Period {
    /// A period of at most [`MAX_PERIOD_DAYS`], `from` not after `to`.
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Self, FieldError> {
        if to < from {
            return Err(FieldError::new("to", format!("{to} is before from {from}")));
        }
        if (to - from).num_days() >= MAX_PERIOD_DAYS {
            return Err(FieldError::new(
                "to",
                format!("a report covers at most {MAX_PERIOD_DAYS} days"),
            ));
        }
        Ok(Self { from, to })
    }

    /// The school year holding `day`.
    pub fn school_year_of(day: NaiveDate) -> Self {
        let year = SchoolYear::of(day);
        year.period()
    }

    /// Whether `day` is within.
    pub fn contains(&self, day: NaiveDate) -> bool {
        self.from <= day && day <= self.to
    }

    /// Days in the period.
    pub fn days(&self) -> i64 {
        (self.to - self.from).num_days() + 1
    }

    /// The period of the same length just before this one; a whole school
    /// year's is the school year before.
    pub fn previous(&self) -> Self {
        let year = SchoolYear::of(self.from);
        if *self == year.period() {
            return SchoolYear(year.0 - 1).period();
        }
        let to = self.from.pred_opt().unwrap_or(self.from);
        let from = to - chrono::Duration::days(self.days() - 1);
        Self { from, to }
    }

    /// The school year the period starts in.
    pub fn school_year(&self) -> SchoolYear {
        SchoolYear::of(self.from)
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} – {}", self.from, self.to)
    }
}

/// A school year, 1 September to 31 August, by the year it starts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SchoolYear(pub i32);

impl SchoolYear {
    /// The school year holding `day`.
    pub fn of(day: NaiveDate) -> Self {
        if day.month() >= 9 {
            Self(day.year())
        } else {
            Self(day.year() - 1)
        }
    }

    /// Its days, 1 September to 31 August.
    pub fn period(self) -> Period {
        Period {
            from: NaiveDate::from_ymd_opt(self.0, 9, 1).unwrap_or_default(),
            to: NaiveDate::from_ymd_opt(self.0 + 1, 8, 31).unwrap_or_default(),
        }
    }

    /// Parses "2025/26", "2025/2026", "2025-26" or "2025".
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let raw = raw.trim();
        let bad = || {
            FieldError::new(
                field,
                format!(
                    "{} is not a school year like 2025/26",
                    crate::text::excerpt(raw)
                ),
            )
        };
        let (start, end) = match raw.split_once(['/', '-']) {
            Some((start, end)) => (start, Some(end)),
            None => (raw, None),
        };
        let start: i32 = start.parse().map_err(|_| bad())?;
        if !(2000..=2100).contains(&start) {
            return Err(bad());
        }
        if let Some(end) = end {
            let end: i32 = end.parse().map_err(|_| bad())?;
            let next = start + 1;
            if end != next && end != next % 100 {
                return Err(FieldError::new(
                    field,
                    format!("{raw}: a school year ends the year after it starts"),
                ));
            }
        }
        Ok(Self(start))
    }
}

impl fmt::Display for SchoolYear {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{:02}", self.0, (self.0 + 1) % 100)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap()
    }

    #[test]
    fn school_years_parse_and_print() {
        assert_eq!(SchoolYear::parse("y", "2025/26").unwrap(), SchoolYear(2025));
        assert_eq!(
            SchoolYear::parse("y", "2025-2026").unwrap(),
            SchoolYear(2025)
        );
        assert_eq!(SchoolYear::parse("y", "2025").unwrap(), SchoolYear(2025));
        assert_eq!(SchoolYear::parse("y", "2025/27").unwrap_err().field, "y");
        assert!(SchoolYear::parse("y", "soon").is_err());
        assert_eq!(SchoolYear(2025).to_string(), "2025/26");
        assert_eq!(SchoolYear(2099).to_string(), "2099/00");
        assert_eq!(SchoolYear::of(d(2026, 8, 31)), SchoolYear(2025));
        assert_eq!(SchoolYear::of(d(2026, 9, 1)), SchoolYear(2026));
    }

    #[test]
    fn previous_periods() {
        let year = SchoolYear(2025).period();
        assert_eq!(year.previous(), SchoolYear(2024).period());
        let march = Period::new(d(2026, 3, 1), d(2026, 3, 31)).unwrap();
        assert_eq!(
            march.previous(),
            Period::new(d(2026, 1, 29), d(2026, 2, 28)).unwrap()
        );
        assert_eq!(
            Period::new(d(2026, 3, 2), d(2026, 3, 1)).unwrap_err().field,
            "to"
        );
    }
}
