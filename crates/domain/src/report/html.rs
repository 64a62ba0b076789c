//! The reports as one HTML page for the methodical centre: indicators with
//! their targets, tables, and bar charts drawn as inline SVG, so any browser
//! shows it with nothing to build or fetch.

use std::fmt::Write as _;

use super::{
    ActivityRow, Dimension, Facts, Indicator, IndicatorRow, ParticipationRow, Query, Report,
    ResourceRow, activities, agreements, indicators, participation, resources,
};

/// `text` with the characters HTML gives meaning to escaped.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "\
body{font-family:system-ui,sans-serif;margin:0;color:#1d2733;background:#f6f7f9}
main{max-width:1100px;margin:0 auto;padding:1.5rem}
h1{font-size:1.5rem;margin:0 0 .25rem}h2{font-size:1.15rem;margin:2rem 0 .5rem}
p.meta{color:#5b6673;margin:0 0 1rem}
form{display:flex;gap:.75rem;flex-wrap:wrap;align-items:end;background:#fff;padding:.75rem;border-radius:6px}
label{display:flex;flex-direction:column;font-size:.8rem;color:#5b6673}
table{border-collapse:collapse;width:100%;background:#fff;font-size:.9rem}
th,td{padding:.35rem .5rem;border-bottom:1px solid #e3e6ea;text-align:left}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
tfoot td{font-weight:600}
.short{color:#b3261e}.met{color:#1b7a3a}
figure{margin:1rem 0;background:#fff;padding:.75rem;border-radius:6px}
figcaption{font-weight:600;margin-bottom:.5rem}
svg.chart text{font-size:12px;fill:#1d2733}
rect.bar{fill:#3a6ea5}
nav.exports a{margin-right:.75rem}
";

const SCRIPT: &str = "\
for (const svg of document.querySelectorAll('svg.chart')) {
  let drawn = 0;
  for (const bar of svg.querySelectorAll('rect.bar')) {
    if (bar.getBBox().width > 0) drawn++;
  }
  svg.dataset.drawn = String(drawn);
}
document.body.dataset.rendered = 'yes';
";

/// Which exports the page links to, and the query they repeat.
#[derive(Debug, Clone)]
pub struct PageLinks {
    /// The query string of the page's own request, without `?`.
    pub query: String,
    /// The form's values: from, to, organization, city, scope.
    pub form: [(String, String); 5],
}

fn fmt_num(x: f64) -> String {
    if x.fract() == 0.0 {
        format!("{x:.0}")
    } else {
        format!("{x:.2}")
    }
}

fn opt(x: Option<f64>) -> String {
    x.map(fmt_num).unwrap_or_else(|| "—".to_owned())
}

/// Horizontal bars, one per label.
fn bar_chart(out: &mut String, id: &str, caption: &str, unit: &str, bars: &[(String, f64)]) {
    let max = bars.iter().map(|b| b.1).fold(0.0_f64, f64::max);
    let row = 24;
    let height = (bars.len().max(1) * row + 8) as u32;
    let _ = write!(
        out,
        "<figure id=\"{id}\"><figcaption>{}</figcaption>\
         <svg class=\"chart\" role=\"img\" aria-label=\"{}\" width=\"100%\" height=\"{height}\" \
         viewBox=\"0 0 760 {height}\" preserveAspectRatio=\"xMinYMin meet\">",
        esc(caption),
        esc(caption)
    );
    if bars.is_empty() {
        out.push_str("<text x=\"0\" y=\"16\">No data for this period.</text>");
    }
    for (i, (label, value)) in bars.iter().enumerate() {
        let y = i * row + 4;
        let width = if max > 0.0 { value / max * 440.0 } else { 0.0 };
        let _ = write!(
            out,
            "<text x=\"0\" y=\"{}\">{}</text>\
             <rect class=\"bar\" x=\"220\" y=\"{y}\" width=\"{width:.1}\" height=\"18\" rx=\"2\"><title>{}: {} {}</title></rect>\
             <text x=\"{:.1}\" y=\"{}\">{} {}</text>",
            y + 14,
            esc(label),
            esc(label),
            fmt_num(*value),
            esc(unit),
            226.0 + width,
            y + 14,
            fmt_num(*value),
            esc(unit)
        );
    }
    out.push_str("</svg></figure>");
}

fn table(
    out: &mut String,
    id: &str,
    header: &[&str],
    rows: &[Vec<String>],
    total: Option<Vec<String>>,
) {
    let _ = write!(out, "<table id=\"{id}\"><thead><tr>");
    for (i, h) in header.iter().enumerate() {
        let class = if i == 0 { "" } else { " class=\"n\"" };
        let _ = write!(out, "<th{class}>{}</th>", esc(h));
    }
    out.push_str("</tr></thead><tbody>");
    let cells = |out: &mut String, row: &[String]| {
        out.push_str("<tr>");
        for (i, c) in row.iter().enumerate() {
            let class = if i == 0 { "" } else { " class=\"n\"" };
            let _ = write!(out, "<td{class}>{}</td>", esc(c));
        }
        out.push_str("</tr>");
    };
    if rows.is_empty() {
        let _ = write!(
            out,
            "<tr><td colspan=\"{}\">Nothing in this period.</td></tr>",
            header.len()
        );
    }
    for row in rows {
        cells(out, row);
    }
    out.push_str("</tbody>");
    if let Some(total) = total {
        out.push_str("<tfoot>");
        cells(out, &total);
        out.push_str("</tfoot>");
    }
    out.push_str("</table>");
}

fn label_of(facts: &Facts, key: &super::Key, group_by: &[Dimension]) -> String {
    group_by
        .iter()
        .map(|d| {
            let v = key.get(*d);
            match d {
                Dimension::Organization | Dimension::Publisher if !v.is_empty() => {
                    facts.org_name(&crate::ids::OrgId::from_stored(v.to_owned()))
                }
                _ if v.is_empty() => "—".to_owned(),
                _ => v.to_owned(),
            }
        })
        .collect::<Vec<_>>()
        .join(" · ")
}

fn with(q: &Query, group_by: &[Dimension]) -> Query {
    Query {
        group_by: group_by.to_vec(),
        ..q.clone()
    }
}

fn indicator_rows(facts: &Facts, rows: &[IndicatorRow]) -> Vec<Vec<String>> {
    rows.iter()
        .map(|r| {
            let who = if r.organization.is_empty() {
                "All in scope".to_owned()
            } else {
                facts.org_name(&crate::ids::OrgId::from_stored(r.organization.clone()))
            };
            vec![
                format!("{} — {}", r.indicator.title(), who),
                opt(r.value),
                r.indicator.unit().to_owned(),
                opt(r.previous),
                opt(r.trend),
                opt(r.target),
                r.target_due.map(|d| d.to_string()).unwrap_or_default(),
                opt(r.gap),
            ]
        })
        .collect()
}

fn activity_cells(label: String, r: &ActivityRow) -> Vec<String> {
    vec![
        label,
        r.activities_held.to_string(),
        r.activities_cancelled.to_string(),
        r.occurrences_held.to_string(),
        r.occurrences_scheduled.to_string(),
        r.occurrences_cancelled.to_string(),
        fmt_num(r.hours_held),
    ]
}

fn participation_cells(label: String, r: &ParticipationRow) -> Vec<String> {
    vec![
        label,
        r.cohorts.to_string(),
        r.registered.to_string(),
        r.attended.to_string(),
        r.participants.to_string(),
        r.prize_winners.to_string(),
        r.winners.to_string(),
        r.waitlisted.to_string(),
    ]
}

fn resource_cells(facts: &Facts, r: &ResourceRow, group_by: &[Dimension]) -> Vec<String> {
    let label = if r.name.is_empty() {
        label_of(facts, &r.key, group_by)
    } else {
        format!(
            "{} ({})",
            r.name,
            facts.org_name(&crate::ids::OrgId::from_stored(r.key.organization.clone()))
        )
    };
    vec![
        label,
        fmt_num(r.bookable_hours),
        fmt_num(r.booked_hours),
        fmt_num(r.utilization),
        r.bookings.to_string(),
    ]
}

fn activity_table(
    facts: &Facts,
    out: &mut String,
    id: &str,
    report: &Report<ActivityRow>,
    group_by: &[Dimension],
) {
    table(
        out,
        id,
        &[
            "Group",
            "Activities held",
            "Cancelled",
            "Occurrences held",
            "To come",
            "Occurrences cancelled",
            "Hours held",
        ],
        &report
            .rows
            .iter()
            .map(|r| activity_cells(label_of(facts, &r.key, group_by), r))
            .collect::<Vec<_>>(),
        Some(activity_cells("Total".into(), &report.total)),
    );
}

/// The page for `q` (its grouping is ignored: the page chooses its own).
pub fn render(facts: &Facts, q: &Query, node_name: &str, links: &PageLinks) -> String {
    use Dimension::*;
    let mut out = String::new();
    let scope = q.scope.describe(facts);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>Network report — {}</title>\n<style>\n{STYLE}</style>\n</head>\n<body>\n<main>\
         <h1>Network report: {}</h1><p class=\"meta\">{} · {} · as of {} UTC · node {}</p>",
        esc(&scope),
        esc(&scope),
        esc(&q.period.to_string()),
        esc(&format!("school year {}", q.period.school_year())),
        facts.as_of.format("%Y-%m-%d %H:%M"),
        esc(node_name),
    );
    out.push_str("<form method=\"get\" action=\"/reports\">");
    for (name, value) in &links.form {
        let kind = if name == "from" || name == "to" {
            "date"
        } else {
            "text"
        };
        let _ = write!(
            out,
            "<label>{}<input type=\"{kind}\" name=\"{}\" value=\"{}\"></label>",
            esc(name),
            esc(name),
            esc(value)
        );
    }
    out.push_str("<button type=\"submit\">Show</button></form>");
    out.push_str("<nav class=\"exports\"><p>Exports:");
    for name in [
        "activities",
        "participation",
        "agreements",
        "resources",
        "indicators",
    ] {
        for ext in ["csv", "json"] {
            let _ = write!(
                out,
                " <a href=\"/reports/{name}.{ext}?{}\">{name}.{ext}</a>",
                esc(&links.query)
            );
        }
    }
    out.push_str("</p></nav>");

    // Indicators.
    let rows = indicators(facts, q);
    out.push_str("<h2>Indicators</h2>");
    table(
        &mut out,
        "indicators",
        &[
            "Indicator",
            "Value",
            "Unit",
            "Previous period",
            "Trend",
            "Target",
            "Due",
            "Gap",
        ],
        &indicator_rows(facts, &rows),
        None,
    );
    let shares: Vec<(String, f64)> = rows
        .iter()
        .filter(|r| r.indicator == Indicator::NetworkCoverage && !r.organization.is_empty())
        .filter_map(|r| {
            r.value.map(|v| {
                (
                    facts.org_name(&crate::ids::OrgId::from_stored(r.organization.clone())),
                    v,
                )
            })
        })
        .collect();
    bar_chart(
        &mut out,
        "chart-coverage",
        "Network-form coverage by organization",
        "%",
        &shares,
    );

    // Activities.
    out.push_str("<h2>Joint activities</h2>");
    let by_month = activities(facts, &with(q, &[Month]));
    bar_chart(
        &mut out,
        "chart-activities-month",
        "Occurrences held by month",
        "held",
        &by_month
            .rows
            .iter()
            .map(|r| (r.key.month.clone(), f64::from(r.occurrences_held)))
            .collect::<Vec<_>>(),
    );
    let grouping = [Direction, Kind];
    activity_table(
        facts,
        &mut out,
        "activities",
        &activities(facts, &with(q, &grouping)),
        &grouping,
    );
    let grouping = [Organization];
    out.push_str("<h2>Activities by organization</h2>");
    activity_table(
        facts,
        &mut out,
        "activities-by-organization",
        &activities(facts, &with(q, &grouping)),
        &grouping,
    );

    // Participation.
    out.push_str("<h2>Participation</h2>");
    let by_direction = participation(facts, &with(q, &[Direction]));
    bar_chart(
        &mut out,
        "chart-participation-direction",
        "Pupils registered by direction",
        "pupils",
        &by_direction
            .rows
            .iter()
            .map(|r| {
                (
                    if r.key.direction.is_empty() {
                        "—".to_owned()
                    } else {
                        r.key.direction.clone()
                    },
                    f64::from(r.registered),
                )
            })
            .collect::<Vec<_>>(),
    );
    let participation_header = [
        "Group",
        "Cohorts",
        "Registered",
        "Attended",
        "Participants",
        "Prize-winners",
        "Winners",
        "Waitlisted",
    ];
    let grouping = [Organization, Grade];
    let by_school = participation(facts, &with(q, &grouping));
    table(
        &mut out,
        "participation",
        &participation_header,
        &by_school
            .rows
            .iter()
            .map(|r| participation_cells(label_of(facts, &r.key, &grouping), r))
            .collect::<Vec<_>>(),
        Some(participation_cells("Total".into(), &by_school.total)),
    );

    // Agreements.
    out.push_str("<h2>Network agreements</h2>");
    let grouping = [Kind, State];
    let report = agreements(facts, &with(q, &grouping));
    let agreement_cells = |label: String, r: &super::AgreementRow| {
        vec![
            label,
            r.agreements.to_string(),
            r.signed_in_period.to_string(),
            r.expiring_soon.to_string(),
            fmt_num(r.planned_hours),
            fmt_num(r.delivered_hours),
            fmt_num(r.scheduled_hours),
            r.planned_students.to_string(),
            r.students_reached.to_string(),
        ]
    };
    table(
        &mut out,
        "agreements",
        &[
            "Kind · state",
            "Agreements",
            "Signed in period",
            "Expiring soon",
            "Planned hours",
            "Delivered hours",
            "Hours to come",
            "Planned students",
            "Students reached",
        ],
        &report
            .rows
            .iter()
            .map(|r| agreement_cells(label_of(facts, &r.key, &grouping), r))
            .collect::<Vec<_>>(),
        Some(agreement_cells("Total".into(), &report.total)),
    );

    // Resources.
    out.push_str("<h2>Resources</h2>");
    let by_month = resources(facts, &with(q, &[Month]));
    bar_chart(
        &mut out,
        "chart-utilization-month",
        "Resource utilization by month",
        "%",
        &by_month
            .report
            .rows
            .iter()
            .map(|r| (r.key.month.clone(), r.utilization))
            .collect::<Vec<_>>(),
    );
    let resource_header = [
        "Resource",
        "Bookable hours",
        "Booked hours",
        "Utilization, %",
        "Occurrences booked",
    ];
    let grouping = [Resource];
    let per_resource = resources(facts, &with(q, &grouping));
    table(
        &mut out,
        "resources",
        &resource_header,
        &per_resource
            .report
            .rows
            .iter()
            .map(|r| resource_cells(facts, r, &grouping))
            .collect::<Vec<_>>(),
        Some(resource_cells(facts, &per_resource.report.total, &[])),
    );
    for (id, caption, rows) in [
        ("busiest", "Busiest resources", &per_resource.busiest),
        ("idlest", "Idlest resources", &per_resource.idlest),
    ] {
        let _ = write!(out, "<h2>{caption}</h2>");
        table(
            &mut out,
            id,
            &resource_header,
            &rows
                .iter()
                .map(|r| resource_cells(facts, r, &grouping))
                .collect::<Vec<_>>(),
            None,
        );
    }
    let _ = write!(
        out,
        "<p class=\"meta\">Counts of cohorts and records only: no pupil's data is kept or shown.</p>\
         </main>\n<script>\n{SCRIPT}</script>\n</body>\n</html>\n"
    );
    out
}
