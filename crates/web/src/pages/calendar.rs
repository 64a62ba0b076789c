//! The network calendar: a month grid, a week or a list, filtered by grade,
//! direction, kind, publisher, subject, free seats and text, with the
//! subscription link of what is shown.

use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::Response;
use chrono::{DateTime, Datelike as _, Duration, NaiveDate, TimeZone as _, Utc};
use chrono_tz::Tz;
use edufed_domain::policy::Action;
use edufed_i18n::ru;
use edufed_proto::v1 as pb;

use crate::Console;
use crate::page::{Layout, Section, failure, render, t};
use crate::pages::account::forget_lost_session;
use crate::view::{Choice, DEFAULT_ZONE, Names, choices, instant, named, organizations, zone_of};
use crate::visitor::Visitor;

pub(crate) fn routes() -> axum::Router<Console> {
    axum::Router::new().route("/calendar", axum::routing::get(show))
}

/// The calendar's query: what is shown and how.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub(crate) struct Filters {
    /// `month` (default), `week` or `list`.
    #[serde(default)]
    view: String,
    /// A day of the period shown, `YYYY-MM-DD`; today by default.
    #[serde(default)]
    date: String,
    #[serde(default)]
    grade: String,
    #[serde(default)]
    direction: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    publisher: String,
    #[serde(default)]
    subject: String,
    #[serde(default)]
    free: String,
    #[serde(default)]
    q: String,
    /// Only activities of organizations with a designation of this kind.
    #[serde(default)]
    designation: String,
    /// With `designation`: its direction or programme, in part.
    #[serde(default)]
    designation_field: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum View {
    Month,
    Week,
    List,
}

impl Filters {
    fn view(&self) -> View {
        match self.view.as_str() {
            "week" => View::Week,
            "list" => View::List,
            _ => View::Month,
        }
    }

    fn number(raw: &str) -> i32 {
        raw.trim().parse().unwrap_or(0)
    }

    /// The query string of these filters with another view or date.
    fn link(&self, view: View, date: NaiveDate) -> String {
        let mut pairs: Vec<(&str, String)> = vec![
            (
                "view",
                match view {
                    View::Month => "month",
                    View::Week => "week",
                    View::List => "list",
                }
                .to_owned(),
            ),
            ("date", date.format("%Y-%m-%d").to_string()),
        ];
        for (key, value) in [
            ("grade", &self.grade),
            ("direction", &self.direction),
            ("kind", &self.kind),
            ("publisher", &self.publisher),
            ("subject", &self.subject),
            ("free", &self.free),
            ("q", &self.q),
            ("designation", &self.designation),
            ("designation_field", &self.designation_field),
        ] {
            if !value.trim().is_empty() {
                pairs.push((key, value.trim().to_owned()));
            }
        }
        format!(
            "/calendar?{}",
            serde_urlencoded::to_string(&pairs).unwrap_or_default()
        )
    }
}

/// One occurrence as the calendar shows it.
struct Item {
    href: String,
    title: String,
    time: String,
    /// «9–11 классы · ТУСУР · Очно».
    about: String,
    /// «5 мест», «мест нет», or empty when unlimited.
    seats: String,
    full: bool,
    cancelled: bool,
}

struct Day {
    date: NaiveDate,
    label: String,
    number: u32,
    in_period: bool,
    today: bool,
    items: Vec<Item>,
    /// «ещё 12» when some of the day's items are not shown, and where they are.
    more: String,
    more_href: String,
}

/// How many of a day's items a month cell shows; the rest are a link.
const MONTH_DAY_ITEMS: usize = 4;
/// How many of a day's items a week column shows.
const WEEK_DAY_ITEMS: usize = 12;
/// How many items a list shows before it stops at the end of a day.
const LIST_ITEMS: usize = 150;

/// Keeps a page light over a busy network: a month cell or week column
/// shows a day's first items and links the rest to the list from that day;
/// a list stops after the day at which it has shown `LIST_ITEMS`. Returns
/// the first day the list did not reach, if it stopped early.
fn trim(days: &mut Vec<Day>, view: View, filters: &Filters) -> Option<NaiveDate> {
    let per_day = match view {
        View::Month => MONTH_DAY_ITEMS,
        View::Week => WEEK_DAY_ITEMS,
        View::List => LIST_ITEMS,
    };
    let mut shown = 0;
    let mut stop = None;
    for (i, day) in days.iter_mut().enumerate() {
        if day.items.len() > per_day {
            let hidden = day.items.len() - per_day;
            day.items.truncate(per_day);
            day.more = ru().count("calendar-more", i64::try_from(hidden).unwrap_or(i64::MAX));
            day.more_href = filters.link(View::List, day.date);
        }
        shown += day.items.len();
        if view == View::List && shown >= LIST_ITEMS {
            stop = Some(i + 1);
            break;
        }
    }
    let stop = stop.filter(|&i| i < days.len())?;
    let next = days[stop].date;
    days.truncate(stop);
    Some(next)
}

struct Tab {
    label: String,
    href: String,
    current: bool,
}

#[derive(Template)]
#[template(path = "calendar.html")]
struct CalendarPage {
    layout: Layout,
    period: String,
    tabs: Vec<Tab>,
    previous: String,
    next: String,
    today: String,
    grid: bool,
    weekdays: Vec<String>,
    weeks: Vec<Vec<Day>>,
    days: Vec<Day>,
    empty: bool,
    grades: Vec<Choice>,
    kinds: Vec<Choice>,
    directions: Vec<Choice>,
    publishers: Vec<Choice>,
    designations: Vec<Choice>,
    filters: Filters,
    view_value: String,
    date_value: String,
    zone_note: String,
    subscribe: String,
    /// The visitor publishes for some organization.
    publisher: bool,
}

/// `GET /calendar`.
pub(crate) async fn show(
    State(console): State<Console>,
    visitor: Visitor,
    headers: HeaderMap,
    Query(filters): Query<Filters>,
) -> Response {
    let zone = visitor.zone.unwrap_or(DEFAULT_ZONE);
    let today = visitor.now.with_timezone(&zone).date_naive();
    let anchor = NaiveDate::parse_from_str(filters.date.trim(), "%Y-%m-%d").unwrap_or(today);
    let view = filters.view();
    let (first, last) = period(view, anchor);
    let shown = match view {
        // The grid shows whole weeks around the month.
        View::Month => (monday_of(first), monday_of(last) + Duration::days(6)),
        _ => (first, last),
    };
    let orgs = match organizations(visitor.api()).await {
        Ok(orgs) => orgs,
        Err(status) => return failure(&status),
    };
    let names = Names::of(&orgs);
    let occurrences = match occurrences(&visitor, &filters, zone, shown).await {
        Ok(found) => found,
        Err(status) => return failure(&status),
    };
    let mut days: Vec<Day> = (0..=(shown.1 - shown.0).num_days())
        .map(|i| {
            let date = shown.0 + Duration::days(i);
            Day {
                date,
                label: ru().day(date),
                number: date.day(),
                in_period: date >= first && date <= last,
                today: date == today,
                items: Vec::new(),
                more: String::new(),
                more_href: String::new(),
            }
        })
        .collect();
    for found in &occurrences {
        let (Some(activity), Some(occurrence)) = (&found.activity, &found.occurrence) else {
            continue;
        };
        let details = activity.details.clone().unwrap_or_default();
        let own_zone = zone_of(
            details
                .schedule
                .as_ref()
                .map_or("", |s| s.time_zone.as_str()),
            zone,
        );
        let Some(start) = instant(occurrence.start.as_ref()) else {
            continue;
        };
        let local = start.with_timezone(&own_zone);
        let index = (local.date_naive() - shown.0).num_days();
        let Some(day) = usize::try_from(index).ok().and_then(|i| days.get_mut(i)) else {
            continue;
        };
        let all_day = details.schedule.as_ref().is_some_and(|s| s.all_day);
        let mut time = if all_day {
            t("calendar-all-day")
        } else {
            ru().time(local.time())
        };
        if own_zone != zone {
            time = format!("{time}, {}", ru().zone(own_zone, start));
        }
        let grades = details
            .audience
            .as_ref()
            .and_then(|a| a.students.as_ref())
            .map(|g| ru().grades(g.min, g.max))
            .unwrap_or_default();
        let about = [
            grades,
            names.name(&activity.publisher_id),
            named::<pb::Format>(details.format),
        ]
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(" · ");
        let (seats, full) = match occurrence.seats_free {
            None => (String::new(), false),
            Some(0) => (t("calendar-no-seats"), true),
            Some(n) => (ru().count("places", i64::from(n)), false),
        };
        day.items.push(Item {
            href: format!(
                "/activities/{}?occurrence={}",
                activity.id,
                occurrence
                    .original_start
                    .as_ref()
                    .map_or(0, |ts| ts.seconds)
            ),
            title: details.title,
            time,
            about,
            seats,
            full,
            cancelled: occurrence.cancelled
                || activity.status == pb::ActivityStatus::Cancelled as i32,
        });
    }
    let empty = days.iter().all(|d| d.items.is_empty());
    let stopped = trim(&mut days, view, &filters);
    let (previous, next) = match view {
        View::Month => (first - Duration::days(1), last + Duration::days(1)),
        View::Week => (anchor - Duration::days(7), anchor + Duration::days(7)),
        View::List => (
            anchor - Duration::days(LIST_DAYS),
            stopped.unwrap_or(anchor + Duration::days(LIST_DAYS)),
        ),
    };
    let period_label = match view {
        View::Month => capitalized(&ru().month(anchor.year(), anchor.month())),
        _ => format!(
            "{} — {}",
            ru().date(first),
            ru().date(stopped.map_or(last, |next| next - Duration::days(1)))
        ),
    };
    let tabs = [
        (View::Month, "calendar-month"),
        (View::Week, "calendar-week"),
        (View::List, "calendar-list"),
    ]
    .into_iter()
    .map(|(v, key)| Tab {
        label: t(key),
        href: filters.link(v, anchor),
        current: v == view,
    })
    .collect();
    let grade = Filters::number(&filters.grade);
    let publisher = filters.publisher.trim().to_owned();
    let mut publishers: Vec<Choice> = orgs
        .iter()
        .map(|o| Choice {
            value: o.slug.clone(),
            label: names.name(&o.id),
            selected: o.slug == publisher || o.id == publisher,
        })
        .collect();
    publishers.sort_by(|a, b| a.label.cmp(&b.label));
    let subscribe = subscription(&visitor, &filters, &headers).await;
    let mut layout = Layout::new(&visitor, Section::Calendar, t("calendar-title"));
    layout.title = format!("{} · {period_label}", t("calendar-title"));
    let grid = view != View::List;
    let (weeks, days) = if grid {
        let mut weeks = Vec::new();
        let mut days = days.into_iter().peekable();
        while days.peek().is_some() {
            weeks.push(days.by_ref().take(7).collect());
        }
        (weeks, Vec::new())
    } else {
        (
            Vec::new(),
            days.into_iter().filter(|d| !d.items.is_empty()).collect(),
        )
    };
    let mut response = render(&CalendarPage {
        layout,
        period: period_label,
        tabs,
        previous: filters.link(view, previous),
        next: filters.link(view, next),
        today: filters.link(view, today),
        grid,
        weekdays: (0..7)
            .map(|i| ru().weekday_short(monday_of(today) + Duration::days(i)))
            .collect(),
        weeks,
        days,
        empty,
        grades: (1..=11)
            .map(|g| Choice {
                value: g.to_string(),
                label: ru().grades(g, g),
                selected: g as i32 == grade,
            })
            .collect(),
        kinds: choices::<pb::ActivityKind>(Filters::number(&filters.kind)),
        directions: choices::<pb::Direction>(Filters::number(&filters.direction)),
        designations: choices::<pb::DesignationKind>(Filters::number(&filters.designation)),
        publishers,
        view_value: match view {
            View::Month => "month",
            View::Week => "week",
            View::List => "list",
        }
        .to_owned(),
        date_value: anchor.format("%Y-%m-%d").to_string(),
        filters,
        zone_note: format!(
            "{} {}",
            t("calendar-zone-note"),
            ru().zone(zone, visitor.now)
        ),
        subscribe,
        publisher: visitor.may_somewhere(Action::ManageActivities),
    });
    forget_lost_session(&mut response, &console, &visitor);
    response
}

/// How many days a list shows.
const LIST_DAYS: i64 = 31;

/// The first and last day of the period shown around `anchor`.
fn period(view: View, anchor: NaiveDate) -> (NaiveDate, NaiveDate) {
    match view {
        View::Month => {
            let first = anchor.with_day(1).unwrap_or(anchor);
            let next = if first.month() == 12 {
                NaiveDate::from_ymd_opt(first.year() + 1, 1, 1)
            } else {
                NaiveDate::from_ymd_opt(first.year(), first.month() + 1, 1)
            }
            .unwrap_or(first);
            (first, next - Duration::days(1))
        }
        View::Week => {
            let monday = monday_of(anchor);
            (monday, monday + Duration::days(6))
        }
        View::List => (anchor, anchor + Duration::days(LIST_DAYS - 1)),
    }
}

fn monday_of(date: NaiveDate) -> NaiveDate {
    date - Duration::days(i64::from(date.weekday().num_days_from_monday()))
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Midnight of `date` in `zone`, as an instant.
fn midnight(date: NaiveDate, zone: Tz) -> DateTime<Utc> {
    zone.from_local_datetime(&date.and_hms_opt(0, 0, 0).unwrap_or_default())
        .earliest()
        .map_or_else(
            || date.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc(),
            |t| t.with_timezone(&Utc),
        )
}

fn timestamp(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: 0,
    }
}

/// The occurrences of the period, every page of them (a day or so either
/// side, for records in other zones).
async fn occurrences(
    visitor: &Visitor,
    filters: &Filters,
    zone: Tz,
    (first, last): (NaiveDate, NaiveDate),
) -> Result<Vec<pb::OccurrenceOfActivity>, tonic::Status> {
    let request = pb::ListOccurrencesRequest {
        from: Some(timestamp(midnight(first, zone) - Duration::hours(14))),
        to: Some(timestamp(
            midnight(last + Duration::days(1), zone) + Duration::hours(14),
        )),
        publisher: filters.publisher.trim().to_owned(),
        kind: Filters::number(&filters.kind),
        direction: Filters::number(&filters.direction),
        grade: u32::try_from(Filters::number(&filters.grade)).unwrap_or(0),
        subject: filters.subject.trim().to_owned(),
        min_free_seats: u32::from(!filters.free.is_empty()),
        query: filters.q.trim().to_owned(),
        include_cancelled: true,
        page_size: 500,
        host_designation_kind: Filters::number(&filters.designation),
        host_designation_field: if filters.designation.trim().is_empty() {
            String::new()
        } else {
            filters.designation_field.trim().to_owned()
        },
        ..Default::default()
    };
    let mut found = Vec::new();
    let mut page_token = String::new();
    // At most 5 000 occurrences in a period: a month of a whole region.
    for _ in 0..10 {
        let page = visitor
            .api()
            .calendar()
            .list_occurrences(pb::ListOccurrencesRequest {
                page_token: page_token.clone(),
                ..request.clone()
            })
            .await?
            .into_inner();
        found.extend(page.occurrences);
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    Ok(found)
}

/// The `webcal://` link of the feed of what the filters select.
async fn subscription(visitor: &Visitor, filters: &Filters, headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("localhost");
    let urls = visitor
        .api()
        .calendar()
        .get_feed_urls(pb::GetFeedUrlsRequest {
            organization: filters.publisher.trim().to_owned(),
            grade: u32::try_from(Filters::number(&filters.grade)).unwrap_or(0),
            kind: Filters::number(&filters.kind),
            direction: Filters::number(&filters.direction),
            subject: filters.subject.trim().to_owned(),
            ..Default::default()
        })
        .await;
    match urls {
        Ok(urls) => format!("webcal://{host}{}", urls.into_inner().public_path),
        Err(_) => format!("webcal://{host}/ics/network.ics"),
    }
}

#[derive(Template)]
#[template(path = "signed_out.html")]
pub(crate) struct SignedOut {
    layout: Layout,
}

/// The page for a visitor who must sign in first.
pub(crate) fn signed_out(visitor: &Visitor) -> SignedOut {
    SignedOut {
        layout: Layout::new(visitor, Section::Account, t("signed-out-title")),
    }
}

#[cfg(test)]
mod tests {
    use chrono::Weekday;

    use super::*;

    #[test]
    fn periods_cover_whole_months_and_weeks() {
        let day = NaiveDate::from_ymd_opt(2026, 12, 17).unwrap();
        assert_eq!(
            period(View::Month, day),
            (
                NaiveDate::from_ymd_opt(2026, 12, 1).unwrap(),
                NaiveDate::from_ymd_opt(2026, 12, 31).unwrap()
            )
        );
        let (monday, sunday) = period(View::Week, day);
        assert_eq!(monday.weekday(), Weekday::Mon);
        assert_eq!(sunday - monday, Duration::days(6));
    }

    #[test]
    fn busy_days_link_the_rest_and_lists_stop_after_a_day() {
        let start = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        let item = || Item {
            href: String::new(),
            title: String::new(),
            time: String::new(),
            about: String::new(),
            seats: String::new(),
            full: false,
            cancelled: false,
        };
        let days = |per_day: usize| -> Vec<Day> {
            (0..31)
                .map(|i| {
                    let date = start + Duration::days(i);
                    Day {
                        date,
                        label: String::new(),
                        number: 1,
                        in_period: true,
                        today: false,
                        items: (0..per_day).map(|_| item()).collect(),
                        more: String::new(),
                        more_href: String::new(),
                    }
                })
                .collect()
        };
        let filters = Filters::default();

        let mut month = days(7);
        assert_eq!(trim(&mut month, View::Month, &filters), None);
        assert_eq!(month.len(), 31);
        assert!(month.iter().all(|d| d.items.len() == MONTH_DAY_ITEMS));
        assert_eq!(month[0].more, "ещё 3 мероприятия");
        assert!(
            month[0].more_href.contains("date=2026-12-01"),
            "{}",
            month[0].more_href
        );

        let mut list = days(40);
        let next = trim(&mut list, View::List, &filters);
        assert_eq!(list.len(), 4, "40 a day: stops after the day reaching 150");
        assert_eq!(next, NaiveDate::from_ymd_opt(2026, 12, 5));
        assert!(list.iter().all(|d| d.more.is_empty()));

        let mut quiet = days(2);
        assert_eq!(trim(&mut quiet, View::List, &filters), None);
        assert_eq!(quiet.len(), 31);
    }

    #[test]
    fn links_keep_the_filters() {
        let filters = Filters {
            grade: "9".into(),
            q: "ёлка".into(),
            ..Filters::default()
        };
        let link = filters.link(View::List, NaiveDate::from_ymd_opt(2026, 12, 1).unwrap());
        assert!(link.contains("view=list"), "{link}");
        assert!(link.contains("grade=9"), "{link}");
        assert!(link.contains("q=%D1%91"), "{link}");
    }
}
