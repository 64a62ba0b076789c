//! The methodical centre's reports: the network's indicators against
//! their targets (`/reports`), and the activities, participation,
//! agreements and resources reports (`/reports/<name>`), each for a period
//! and a scope, grouped as the Reports API allows, with charts drawn on
//! the server and every table as a CSV file (`?format=csv`). The figures
//! are the API's; the console only names and draws them.
//!
//! `/reports` used to be a page of its own behind a token; the console's
//! session replaces that. Programs keep `/reports/<name>.csv|json` with a
//! bearer token, which the node's plain HTTP side serves.

mod chart;
mod csv;
mod tables;
mod targets;

use askama::Template;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Response;
use chrono::NaiveDate;
use edufed_domain::policy::Action;
use edufed_domain::report::{Indicator, SchoolYear};
use edufed_i18n::ru;
use edufed_proto::v1 as pb;

use crate::Console;
use crate::errors::{Problem, russian};
use crate::page::{Layout, Section, failure, render_with, t};
use crate::view::organizations;
use crate::visitor::Visitor;

pub(crate) use chart::Chart;
pub(crate) use csv::{Cell, Table};

pub(crate) fn routes() -> axum::Router<Console> {
    use axum::routing::get;
    axum::Router::new()
        .route("/reports", get(indicators))
        .route("/reports/activities", get(tables::activities))
        .route("/reports/participation", get(tables::participation))
        .route("/reports/agreements", get(tables::agreements))
        .route("/reports/resources", get(tables::resources))
        .route("/reports/mentoring", get(tables::mentoring))
        .merge(targets::routes())
}

/// What a report page is asked for, from its query string. The old page's
/// parameters (`scope=network`, `organization=`, `city=`, `group_by=a,b`)
/// still work, so links to it keep their meaning.
#[derive(Debug, Default, Clone)]
pub(crate) struct Asked {
    pub(crate) from: String,
    pub(crate) to: String,
    /// `node` (or empty), `network`, `city:<name>` or `org:<slug>`.
    pub(crate) scope: String,
    /// Dimensions by their stable names, in the order asked.
    pub(crate) group_by: Vec<String>,
    /// The table as a CSV file rather than the page.
    pub(crate) csv: bool,
}

impl Asked {
    pub(crate) fn parse(pairs: &[(String, String)]) -> Self {
        let mut asked = Asked::default();
        for (key, value) in pairs {
            let value = value.trim();
            match key.as_str() {
                "from" => value.clone_into(&mut asked.from),
                "to" => value.clone_into(&mut asked.to),
                "scope" => value.clone_into(&mut asked.scope),
                "organization" if !value.is_empty() => asked.scope = format!("org:{value}"),
                "city" if !value.is_empty() => asked.scope = format!("city:{value}"),
                "group_by" => asked.group_by.extend(
                    value
                        .split(',')
                        .map(str::trim)
                        .filter(|d| !d.is_empty())
                        .map(str::to_owned),
                ),
                "format" => asked.csv = value == "csv",
                _ => {}
            }
        }
        asked
    }

    /// The API's request for this, grouped by `group_by`.
    pub(crate) fn request(&self, group_by: &[String]) -> pb::ReportRequest {
        let mut request = pb::ReportRequest {
            from: self.from.clone(),
            to: self.to.clone(),
            ..Default::default()
        };
        match self.scope.split_once(':') {
            Some(("org", slug)) => slug.clone_into(&mut request.organization),
            Some(("city", city)) => city.clone_into(&mut request.city),
            _ => request.network = self.scope == "network",
        }
        request.group_by = group_by
            .iter()
            .map(|name| {
                pb::ReportDimension::from_str_name(&format!(
                    "REPORT_DIMENSION_{}",
                    name.to_ascii_uppercase()
                ))
                .map_or(0, |d| d as i32)
            })
            .collect();
        request
    }

    /// The query string that asks for this again, grouped by `group_by`.
    pub(crate) fn query(&self, group_by: &[String], csv: bool) -> String {
        let mut pairs: Vec<(&str, &str)> = vec![("from", &self.from), ("to", &self.to)];
        if !self.scope.is_empty() {
            pairs.push(("scope", &self.scope));
        }
        for d in group_by {
            pairs.push(("group_by", d));
        }
        if csv {
            pairs.push(("format", "csv"));
        }
        serde_urlencoded::to_string(&pairs).unwrap_or_default()
    }
}

/// One option of a select or one checkbox.
pub(crate) struct Choice {
    pub(crate) value: String,
    pub(crate) label: String,
    pub(crate) selected: bool,
}

/// A link of the period presets or of the reports' tabs.
pub(crate) struct Link {
    pub(crate) href: String,
    pub(crate) label: String,
    pub(crate) current: bool,
}

/// The form above every report: period, scope, grouping; the tabs; and
/// what the report covered, in words.
pub(crate) struct Filter {
    pub(crate) action: &'static str,
    pub(crate) from: String,
    pub(crate) to: String,
    pub(crate) scopes: Vec<Choice>,
    pub(crate) cities: Vec<Choice>,
    pub(crate) organizations: Vec<Choice>,
    pub(crate) dimensions: Vec<Choice>,
    pub(crate) presets: Vec<Link>,
    pub(crate) tabs: Vec<Link>,
    /// «Вся сеть, 1 сентября 2025 — 31 августа 2026».
    pub(crate) covered: String,
    /// The CSV file of this table.
    pub(crate) csv: String,
    pub(crate) problem: Option<Problem>,
}

impl Filter {
    /// The problem's message if it is about `field`.
    pub(crate) fn error(&self, field: &str) -> String {
        self.problem
            .as_ref()
            .and_then(|p| p.about(field))
            .unwrap_or_default()
            .to_owned()
    }

    /// The scope's problem: the API names the organization or the city.
    pub(crate) fn scope_error(&self) -> String {
        let organization = self.error("organization");
        if organization.is_empty() {
            self.error("city")
        } else {
            organization
        }
    }

    /// The problem's message when it names none of the form's fields.
    pub(crate) fn general_error(&self) -> String {
        match &self.problem {
            Some(p)
                if ["from", "to", "organization", "city", "group_by"]
                    .iter()
                    .all(|f| p.about(f).is_none()) =>
            {
                p.message.clone()
            }
            _ => String::new(),
        }
    }
}

/// The pages of the reports, for the tabs: path and label key.
const TABS: [(&str, &str); 6] = [
    ("/reports", "reports-tab-indicators"),
    ("/reports/activities", "reports-tab-activities"),
    ("/reports/participation", "reports-tab-participation"),
    ("/reports/agreements", "reports-tab-agreements"),
    ("/reports/resources", "reports-tab-resources"),
    ("/reports/mentoring", "reports-tab-mentoring"),
];

/// Builds the form for `action`, from what was asked and what the API
/// says the report covered (`from`/`to` filled in when the period was
/// left to the default).
pub(crate) async fn filter(
    visitor: &Visitor,
    action: &'static str,
    asked: &Asked,
    covered: Option<&pb::ReportScope>,
    dimensions: Vec<Choice>,
    group_by: &[String],
    problem: Option<Problem>,
) -> Result<Filter, tonic::Status> {
    let orgs = organizations(visitor.api()).await?;
    let (from, to) = match covered {
        Some(scope) => (scope.from.clone(), scope.to.clone()),
        None => (asked.from.clone(), asked.to.clone()),
    };
    let mut cities: Vec<String> = orgs
        .iter()
        .map(|o| o.city.trim().to_owned())
        .filter(|c| !c.is_empty())
        .collect();
    cities.sort();
    cities.dedup();
    let mut named: Vec<(String, String)> = orgs
        .iter()
        .map(|o| {
            let name = if o.short_name.is_empty() {
                o.full_name.clone()
            } else {
                o.short_name.clone()
            };
            (name, o.slug.clone())
        })
        .collect();
    named.sort();
    let scope = asked.scope.as_str();
    let scopes = [
        ("node", "reports-scope-node"),
        ("network", "reports-scope-network"),
    ]
    .into_iter()
    .map(|(value, key)| Choice {
        value: value.to_owned(),
        label: t(key),
        selected: scope == value || (value == "node" && scope.is_empty()),
    })
    .collect();
    let in_words = scope_in_words(scope, &named);
    let period = match (parse_day(&from), parse_day(&to)) {
        (Some(from), Some(to)) => ru().text_with(
            "reports-period",
            &[
                ("from", ru().date(from).as_str().into()),
                ("to", ru().date(to).as_str().into()),
            ],
        ),
        _ => String::new(),
    };
    let this_year = SchoolYear::of(visitor.now.date_naive());
    let presets = [this_year, SchoolYear(this_year.0 - 1)]
        .into_iter()
        .map(|year| {
            let period = year.period();
            let preset = Asked {
                from: period.from.to_string(),
                to: period.to.to_string(),
                ..asked.clone()
            };
            Link {
                href: format!("{action}?{}", preset.query(group_by, false)),
                label: ru().text_with(
                    "reports-school-year",
                    &[("year", year.to_string().as_str().into())],
                ),
                current: from == preset.from && to == preset.to,
            }
        })
        .collect();
    let kept = Asked {
        from: from.clone(),
        to: to.clone(),
        ..asked.clone()
    };
    let tabs = TABS
        .iter()
        .map(|(path, key)| Link {
            href: format!("{path}?{}", kept.query(&[], false)),
            label: t(key),
            current: *path == action,
        })
        .collect();
    Ok(Filter {
        action,
        csv: format!("{action}?{}", kept.query(group_by, true)),
        from,
        to,
        scopes,
        cities: cities
            .into_iter()
            .map(|city| Choice {
                selected: scope == format!("city:{city}"),
                value: format!("city:{city}"),
                label: city,
            })
            .collect(),
        organizations: named
            .into_iter()
            .map(|(name, slug)| Choice {
                selected: scope == format!("org:{slug}"),
                value: format!("org:{slug}"),
                label: name,
            })
            .collect(),
        dimensions,
        presets,
        tabs,
        covered: if period.is_empty() {
            in_words
        } else {
            format!("{in_words}, {period}")
        },
        problem,
    })
}

/// The scope in words: «Вся сеть», «Город Томск», «Гимназия №24».
fn scope_in_words(scope: &str, named: &[(String, String)]) -> String {
    match scope.split_once(':') {
        Some(("org", slug)) => named
            .iter()
            .find(|(_, s)| s == slug)
            .map_or_else(|| slug.to_owned(), |(name, _)| name.clone()),
        Some(("city", city)) => {
            ru().text_with("reports-scope-city-named", &[("city", city.into())])
        }
        _ if scope == "network" => t("reports-scope-network"),
        _ => t("reports-scope-node"),
    }
}

fn parse_day(raw: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok()
}

/// A number as people read it in Russian: a decimal comma, at most two
/// decimals, thousands apart.
pub(crate) fn number(x: f64) -> String {
    let rounded = (x * 100.0).round() / 100.0;
    let text = format!("{rounded:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let (sign, digits) = whole
        .strip_prefix('-')
        .map_or(("", whole), |digits| ("−", digits));
    let mut grouped = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 && digits.len() > 4 {
            grouped.push('\u{a0}');
        }
        grouped.push(c);
    }
    if fraction.is_empty() {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped},{fraction}")
    }
}

/// A month «2026-01» as «Январь 2026».
pub(crate) fn month(raw: &str) -> String {
    let parsed = raw
        .split_once('-')
        .and_then(|(y, m)| Some((y.parse::<i32>().ok()?, m.parse::<u32>().ok()?)))
        .filter(|(_, m)| (1..=12).contains(m));
    match parsed {
        Some((year, month)) => capitalized(&ru().month(year, month)),
        None => raw.to_owned(),
    }
}

pub(crate) fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The page for a visitor who must sign in first: reports are for the
/// network's members.
pub(crate) fn sign_in_first(visitor: &Visitor) -> Response {
    render_with(
        StatusCode::UNAUTHORIZED,
        &crate::pages::calendar::signed_out(visitor),
    )
}

/// One indicator, as the page shows it.
struct IndicatorLine {
    name: String,
    organization: String,
    value: String,
    basis: String,
    previous: String,
    trend: String,
    /// `up`, `down` or empty, for the arrow's colour.
    trend_class: &'static str,
    target: String,
    due: String,
    gap: String,
    reached: bool,
}

#[derive(Template)]
#[template(path = "reports.html")]
struct IndicatorsPage {
    layout: Layout,
    filter: Filter,
    overall: Vec<IndicatorLine>,
    by_organization: Vec<IndicatorLine>,
    /// Which of the organizations' lines are shown, when there are many.
    paging: Option<csv::Paging>,
    chart: Chart,
    /// The visitor may state enrolments or set targets somewhere (a hint;
    /// the API decides).
    may_set: bool,
}

/// `GET /reports`: the indicators against their targets.
pub(crate) async fn indicators(
    visitor: Visitor,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    if !visitor.signed_in() {
        return sign_in_first(&visitor);
    }
    let asked = Asked::parse(&pairs);
    let answer = visitor
        .api()
        .reports()
        .indicators_report(asked.request(&[]))
        .await;
    let (report, problem) = match answer {
        Ok(report) => (Some(report.into_inner()), None),
        Err(status) if status.code() == tonic::Code::InvalidArgument => {
            (None, Some(russian(&status)))
        }
        Err(status) => return failure(&status),
    };
    if asked.csv
        && let Some(report) = &report
    {
        return csv::download(
            "indicators",
            report.scope.as_ref(),
            &indicator_table(report),
        );
    }
    let failed = problem.is_some();
    let filter = match filter(
        &visitor,
        "/reports",
        &asked,
        report.as_ref().and_then(|r| r.scope.as_ref()),
        Vec::new(),
        &[],
        problem,
    )
    .await
    {
        Ok(filter) => filter,
        Err(status) => return failure(&status),
    };
    let rows = report.map(|r| r.rows).unwrap_or_default();
    let lines: Vec<(bool, IndicatorLine)> = rows
        .iter()
        .map(|r| (r.organization.is_empty(), indicator_line(r)))
        .collect();
    let overall_rows: Vec<&pb::IndicatorRow> =
        rows.iter().filter(|r| r.organization.is_empty()).collect();
    let chart = Chart::towards(
        "chart-indicators",
        t("reports-chart-indicators"),
        vec![
            chart::Key {
                label: t("reports-legend-value"),
                class: chart::SERIES[0],
            },
            chart::Key {
                label: t("reports-legend-target"),
                class: chart::SERIES[2],
            },
        ],
        // Only a target gives a bar its scale: figures without one are in
        // the table below.
        overall_rows
            .iter()
            .filter(|r| r.has_target)
            .map(|r| {
                let line = indicator_line(r);
                let text = if r.has_target {
                    ru().text_with(
                        "reports-value-of-target",
                        &[
                            ("value", line.value.as_str().into()),
                            ("target", line.target.as_str().into()),
                        ],
                    )
                } else {
                    line.value.clone()
                };
                (
                    line.name,
                    if r.has_value { r.value } else { 0.0 },
                    r.has_target.then_some(r.target),
                    text,
                )
            })
            .collect(),
    );
    let (overall, by_organization): (Vec<_>, Vec<_>) =
        lines.into_iter().partition(|(whole, _)| *whole);
    let may_set = visitor.may_somewhere(Action::SetTargets);
    let mut by_organization: Vec<IndicatorLine> =
        by_organization.into_iter().map(|(_, l)| l).collect();
    let paging = csv::page_of(&mut by_organization, tables::page_asked(&pairs), |n| {
        tables::page_link("/reports", &pairs, n)
    });
    let page = IndicatorsPage {
        layout: Layout::new(&visitor, Section::Reports, t("reports-indicators-title")),
        filter,
        overall: overall.into_iter().map(|(_, l)| l).collect(),
        by_organization,
        paging,
        chart,
        may_set,
    };
    let status = if failed {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render_with(status, &page)
}

/// An indicator's name in Russian, from its stable name.
pub(crate) fn indicator_name(raw: &str) -> String {
    Indicator::parse("indicator", raw).map_or_else(|_| raw.to_owned(), |i| ru().name(i))
}

/// A figure in an indicator's unit: «6,5 %» for a share, else the number.
fn in_unit(row: &pb::IndicatorRow, x: f64) -> String {
    if row.unit == "%" {
        format!("{}\u{a0}%", number(x))
    } else {
        number(x)
    }
}

/// A difference in an indicator's unit, signed: percentage points for a
/// share.
fn difference(row: &pb::IndicatorRow, x: f64) -> String {
    let sign = if x > 0.0 { "+" } else { "" };
    if row.unit == "%" {
        format!("{sign}{}\u{a0}{}", number(x), t("reports-points"))
    } else {
        format!("{sign}{}", number(x))
    }
}

fn indicator_line(r: &pb::IndicatorRow) -> IndicatorLine {
    let missing = || t("reports-no-value");
    let value = if r.has_value {
        in_unit(r, r.value)
    } else {
        missing()
    };
    let basis = if r.unit == "%"
        || matches!(
            r.indicator.as_str(),
            "participants_per_activity" | "trials_per_pupil"
        ) {
        ru().text_with(
            "reports-basis",
            &[
                ("numerator", number(r.numerator).as_str().into()),
                ("denominator", number(r.denominator).as_str().into()),
            ],
        )
    } else {
        String::new()
    };
    let trend_known = r.has_value && r.has_previous;
    IndicatorLine {
        name: indicator_name(&r.indicator),
        organization: r.organization_name.clone(),
        value,
        basis,
        previous: if r.has_previous {
            in_unit(r, r.previous)
        } else {
            missing()
        },
        trend: if trend_known {
            let arrow = match r.trend {
                x if x > 0.0 => "▲ ",
                x if x < 0.0 => "▼ ",
                _ => "",
            };
            format!("{arrow}{}", difference(r, r.trend))
        } else {
            missing()
        },
        trend_class: match r.trend {
            x if trend_known && x > 0.0 => "up",
            x if trend_known && x < 0.0 => "down",
            _ => "",
        },
        target: if r.has_target {
            in_unit(r, r.target)
        } else {
            t("reports-no-target")
        },
        due: parse_day(&r.target_due)
            .map(|due| ru().date(due))
            .unwrap_or_default(),
        gap: match (r.has_target, r.has_value) {
            (true, true) if r.gap <= 0.0 => t("reports-target-reached"),
            (true, true) => ru().text_with(
                "reports-gap",
                &[("gap", difference(r, r.gap).trim_start_matches('+').into())],
            ),
            _ => String::new(),
        },
        reached: r.has_target && r.has_value && r.gap <= 0.0,
    }
}

/// The indicators as a table, for the CSV file.
fn indicator_table(report: &pb::IndicatorsReportResponse) -> Table {
    let columns = [
        "reports-col-indicator",
        "reports-col-organization",
        "reports-col-value",
        "reports-col-unit",
        "reports-col-numerator",
        "reports-col-denominator",
        "reports-col-previous",
        "reports-col-trend",
        "reports-col-target",
        "reports-col-due",
        "reports-col-gap",
    ];
    let optional = |has: bool, x: f64| if has { Cell::Number(x) } else { Cell::Empty };
    let rows = report
        .rows
        .iter()
        .map(|r| {
            vec![
                Cell::Text(indicator_name(&r.indicator)),
                Cell::Text(if r.organization.is_empty() {
                    t("reports-whole-scope")
                } else {
                    r.organization_name.clone()
                }),
                optional(r.has_value, r.value),
                Cell::Text(if r.unit == "%" {
                    "%".to_owned()
                } else {
                    t(&format!("reports-unit-{}", r.indicator.replace('_', "-")))
                }),
                Cell::Number(r.numerator),
                Cell::Number(r.denominator),
                optional(r.has_previous, r.previous),
                optional(r.has_value && r.has_previous, r.trend),
                optional(r.has_target, r.target),
                Cell::Text(r.target_due.clone()),
                optional(r.has_target && r.has_value, r.gap),
            ]
        })
        .collect();
    Table::new(
        "indicators",
        t("reports-indicators-title"),
        &columns,
        rows,
        None,
    )
}

/// The last day of the school year of `now`: a target's default date.
pub(crate) fn school_year_end(now: chrono::DateTime<chrono::Utc>) -> NaiveDate {
    SchoolYear::of(now.date_naive()).period().to
}

/// The school year of `now`, as «2025/26».
pub(crate) fn school_year(now: chrono::DateTime<chrono::Utc>) -> String {
    SchoolYear::of(now.date_naive()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_in_russian() {
        assert_eq!(number(4.5), "4,5");
        assert_eq!(number(3.0), "3");
        assert_eq!(number(12.345), "12,35");
        assert_eq!(number(1234.0), "1234");
        assert_eq!(number(12345.0), "12\u{a0}345");
        assert_eq!(number(-1.5), "−1,5");
        assert_eq!(month("2026-01"), "Январь 2026");
        assert_eq!(month(""), "");
    }

    #[test]
    fn old_links_keep_their_meaning() {
        let pairs = |raw: &[(&str, &str)]| -> Vec<(String, String)> {
            raw.iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect()
        };
        let asked = Asked::parse(&pairs(&[
            ("from", "2026-01-01"),
            ("to", "2026-02-28"),
            ("scope", "network"),
            ("group_by", "month, kind"),
        ]));
        let request = asked.request(&asked.group_by);
        assert!(request.network);
        assert_eq!(
            request.group_by,
            [
                pb::ReportDimension::Month as i32,
                pb::ReportDimension::Kind as i32
            ]
        );
        let asked = Asked::parse(&pairs(&[("city", "Томск"), ("format", "csv")]));
        assert!(asked.csv);
        assert_eq!(asked.request(&[]).city, "Томск");
        assert_eq!(
            Asked::parse(&pairs(&[("organization", "gym24")]))
                .request(&[])
                .organization,
            "gym24"
        );
        assert_eq!(asked.request(&["planet".into()]).group_by, [0]);
    }
}
