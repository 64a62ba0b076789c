//! The activities, participation, agreements and resources reports: one
//! page shape for the four, each a table grouped as the visitor chooses
//! and a chart along one dimension, with every dimension's values named
//! in Russian (kinds and directions from the catalogue, months by name).

use askama::Template;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Response;
use edufed_domain::report::{Dimension, ReportKind};
use edufed_domain::stable::Named;
use edufed_domain::{agreement, booking, calendar, designations, mentoring};
use edufed_i18n::ru;
use edufed_proto::v1 as pb;

use super::chart::{Chart, legend};
use super::{Asked, Cell, Choice, Filter, Table, capitalized, csv, filter, month, number};
use crate::errors::{Problem, russian};
use crate::page::{Layout, Section, failure, render_with, t};
use crate::visitor::Visitor;

/// Which of the four reports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Which {
    Activities,
    Participation,
    Agreements,
    Resources,
    Mentoring,
}

impl Which {
    fn kind(self) -> ReportKind {
        match self {
            Which::Activities => ReportKind::Activities,
            Which::Participation => ReportKind::Participation,
            Which::Agreements => ReportKind::Agreements,
            Which::Resources => ReportKind::Resources,
            Which::Mentoring => ReportKind::Mentoring,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Which::Activities => "activities",
            Which::Participation => "participation",
            Which::Agreements => "agreements",
            Which::Resources => "resources",
            Which::Mentoring => "mentoring",
        }
    }

    fn path(self) -> &'static str {
        match self {
            Which::Activities => "/reports/activities",
            Which::Participation => "/reports/participation",
            Which::Agreements => "/reports/agreements",
            Which::Resources => "/reports/resources",
            Which::Mentoring => "/reports/mentoring",
        }
    }

    /// The dimension its chart runs along.
    fn charted(self) -> Dimension {
        match self {
            Which::Activities | Which::Resources => Dimension::Month,
            Which::Participation => Dimension::Direction,
            Which::Agreements | Which::Mentoring => Dimension::State,
        }
    }

    /// The catalogue's keys of its figures' columns.
    fn columns(self) -> &'static [&'static str] {
        match self {
            Which::Activities => &[
                "reports-col-activities-held",
                "reports-col-activities-cancelled",
                "reports-col-occurrences-held",
                "reports-col-occurrences-scheduled",
                "reports-col-occurrences-cancelled",
                "reports-col-hours-held",
            ],
            Which::Participation => &[
                "reports-col-cohorts",
                "reports-col-registered",
                "reports-col-attended",
                "reports-col-participants",
                "reports-col-prize-winners",
                "reports-col-winners",
                "reports-col-cohorts-with-results",
                "reports-col-waitlisted-cohorts",
                "reports-col-waitlisted",
            ],
            Which::Agreements => &[
                "reports-col-agreements",
                "reports-col-signed-in-period",
                "reports-col-expiring-soon",
                "reports-col-planned-hours",
                "reports-col-delivered-hours",
                "reports-col-scheduled-hours",
                "reports-col-planned-students",
                "reports-col-students-reached",
                "reports-col-agreement-attended",
            ],
            Which::Resources => &[
                "reports-col-resources",
                "reports-col-bookable-hours",
                "reports-col-booked-hours",
                "reports-col-utilization",
                "reports-col-bookings",
            ],
            Which::Mentoring => &[
                "reports-col-pairs",
                "reports-col-pairs-active",
                "reports-col-pairs-completed",
                "reports-col-pairs-ended-early",
                "reports-col-pairs-crossing",
                "reports-col-pairs-crossing-share",
                "reports-col-mentees",
                "reports-col-goal-met",
                "reports-col-goal-partly",
                "reports-col-goal-not-met",
                "reports-col-pairs-previous",
            ],
        }
    }
}

/// What a row is grouped by, named for people.
#[derive(Debug, Default)]
struct Key {
    organization: String,
    publisher: String,
    direction: String,
    kind: String,
    month: String,
    grade: String,
    state: String,
    resource: String,
    designation: String,
}

/// A report as fetched: what it covered, its rows and total, and for
/// resources the busiest and the idlest.
struct Fetched {
    scope: Option<pb::ReportScope>,
    rows: Vec<(Key, Vec<Cell>)>,
    total: Vec<Cell>,
    extremes: Vec<Table>,
}

fn n(x: u32) -> Cell {
    Cell::Number(f64::from(x))
}

/// Calls the report `which` with `request`.
async fn fetch(
    which: Which,
    visitor: &Visitor,
    request: pb::ReportRequest,
) -> Result<Fetched, tonic::Status> {
    let api = visitor.api();
    Ok(match which {
        Which::Activities => {
            let r = api.reports().activities_report(request).await?.into_inner();
            let line = |r: &pb::ActivityRow| {
                (
                    Key {
                        organization: r.organization_name.clone(),
                        direction: r.direction.clone(),
                        kind: r.kind.clone(),
                        month: r.month.clone(),
                        designation: r.designation.clone(),
                        ..Key::default()
                    },
                    vec![
                        n(r.activities_held),
                        n(r.activities_cancelled),
                        n(r.occurrences_held),
                        n(r.occurrences_scheduled),
                        n(r.occurrences_cancelled),
                        Cell::Number(r.hours_held),
                    ],
                )
            };
            Fetched {
                rows: r.rows.iter().map(line).collect(),
                total: line(&r.total.unwrap_or_default()).1,
                scope: r.scope,
                extremes: Vec::new(),
            }
        }
        Which::Participation => {
            let r = api
                .reports()
                .participation_report(request)
                .await?
                .into_inner();
            let line = |r: &pb::ParticipationRow| {
                (
                    Key {
                        organization: r.organization_name.clone(),
                        publisher: r.publisher_name.clone(),
                        direction: r.direction.clone(),
                        kind: r.kind.clone(),
                        month: r.month.clone(),
                        grade: r.grade.clone(),
                        designation: r.designation.clone(),
                        ..Key::default()
                    },
                    vec![
                        n(r.cohorts),
                        n(r.registered),
                        n(r.attended),
                        n(r.participants),
                        n(r.prize_winners),
                        n(r.winners),
                        n(r.cohorts_with_results),
                        n(r.waitlisted_cohorts),
                        n(r.waitlisted),
                    ],
                )
            };
            Fetched {
                rows: r.rows.iter().map(line).collect(),
                total: line(&r.total.unwrap_or_default()).1,
                scope: r.scope,
                extremes: Vec::new(),
            }
        }
        Which::Agreements => {
            let r = api.reports().agreements_report(request).await?.into_inner();
            let line = |r: &pb::AgreementRow| {
                (
                    Key {
                        organization: r.organization_name.clone(),
                        kind: r.kind.clone(),
                        state: r.state.clone(),
                        ..Key::default()
                    },
                    vec![
                        n(r.agreements),
                        n(r.signed_in_period),
                        n(r.expiring_soon),
                        Cell::Number(r.planned_hours),
                        Cell::Number(r.delivered_hours),
                        Cell::Number(r.scheduled_hours),
                        n(r.planned_students),
                        n(r.students_reached),
                        n(r.attended),
                    ],
                )
            };
            Fetched {
                rows: r.rows.iter().map(line).collect(),
                total: line(&r.total.unwrap_or_default()).1,
                scope: r.scope,
                extremes: Vec::new(),
            }
        }
        Which::Resources => {
            let r = api.reports().resources_report(request).await?.into_inner();
            let line = |r: &pb::ResourceRow| {
                (
                    Key {
                        organization: r.organization_name.clone(),
                        kind: r.kind.clone(),
                        month: r.month.clone(),
                        resource: r.name.clone(),
                        ..Key::default()
                    },
                    vec![
                        n(r.resources),
                        Cell::Number(r.bookable_hours),
                        Cell::Number(r.booked_hours),
                        Cell::Share(r.utilization),
                        n(r.bookings),
                    ],
                )
            };
            let extreme = |id: &str, caption: &str, rows: &[pb::ResourceRow]| {
                Table::new(
                    id,
                    t(caption),
                    &[
                        "report-dimension-resource",
                        "report-dimension-organization",
                        "reports-col-utilization",
                        "reports-col-booked-hours",
                        "reports-col-bookable-hours",
                    ],
                    rows.iter()
                        .map(|r| {
                            vec![
                                Cell::Text(r.name.clone()),
                                Cell::Text(r.organization_name.clone()),
                                Cell::Share(r.utilization),
                                Cell::Number(r.booked_hours),
                                Cell::Number(r.bookable_hours),
                            ]
                        })
                        .collect(),
                    None,
                )
            };
            Fetched {
                rows: r.rows.iter().map(line).collect(),
                total: line(&r.total.unwrap_or_default()).1,
                extremes: vec![
                    extreme("busiest", "reports-busiest", &r.busiest),
                    extreme("idlest", "reports-idlest", &r.idlest),
                ],
                scope: r.scope,
            }
        }
        Which::Mentoring => {
            let r = api.reports().mentoring_report(request).await?.into_inner();
            let line = |r: &pb::MentoringRow| {
                (
                    Key {
                        organization: r.organization_name.clone(),
                        kind: r.form.clone(),
                        state: r.state.clone(),
                        ..Key::default()
                    },
                    vec![
                        n(r.pairs),
                        n(r.active),
                        n(r.completed),
                        n(r.ended_early),
                        n(r.crossing),
                        if r.has_crossing_share {
                            Cell::Share(r.crossing_share)
                        } else {
                            Cell::Text(t("reports-none"))
                        },
                        n(r.mentees),
                        n(r.met),
                        n(r.partly),
                        n(r.not_met),
                        n(r.previous),
                    ],
                )
            };
            let teachers = Table::new(
                "teachers",
                t("reports-teachers"),
                &[
                    "report-dimension-organization",
                    "reports-col-teachers",
                    "reports-col-young-teachers",
                    "reports-col-young-mentored",
                    "reports-col-courses",
                    "reports-col-seminars",
                    "reports-col-association",
                    "reports-col-growth-system",
                    "reports-col-courses-recorded",
                    "reports-col-seminar-visits",
                ],
                r.teachers
                    .iter()
                    .map(|x| {
                        vec![
                            Cell::Text(x.organization_name.clone()),
                            n(x.teachers),
                            n(x.young_teachers),
                            with_share(x.young_mentored, x.young_mentored_share),
                            with_share(x.courses, x.courses_share),
                            with_share(x.seminars, x.seminars_share),
                            n(x.association_members),
                            with_share(x.growth_system, x.growth_system_share),
                            n(x.courses_recorded),
                            n(x.seminar_visits),
                        ]
                    })
                    .collect(),
                None,
            );
            Fetched {
                rows: r.rows.iter().map(line).collect(),
                total: line(&r.total.unwrap_or_default()).1,
                scope: r.scope,
                extremes: if r.teachers.is_empty() {
                    Vec::new()
                } else {
                    vec![teachers]
                },
            }
        }
    })
}

/// A count with its share, «12 (40 %)».
fn with_share(count: u32, share: f64) -> Cell {
    Cell::Text(format!("{count} ({}\u{a0}%)", number(share)))
}

/// A stable name of a domain enum, named in Russian; «—» for none.
fn vocabulary<N: Named>(parsed: Result<N, edufed_domain::FieldError>, raw: &str) -> String {
    match parsed {
        Ok(value) => ru().name(value),
        Err(_) if raw.is_empty() => t("reports-none"),
        Err(_) => raw.to_owned(),
    }
}

/// The value of `dimension` of a row of `which`, for people.
fn dimension_value(which: Which, dimension: Dimension, key: &Key) -> String {
    let or_none = |text: &str| {
        if text.is_empty() {
            t("reports-none")
        } else {
            text.to_owned()
        }
    };
    match dimension {
        Dimension::Organization => or_none(&key.organization),
        Dimension::Publisher => or_none(&key.publisher),
        Dimension::Resource => or_none(&key.resource),
        Dimension::Designation => match key.designation.split_once(':') {
            Some((kind, field)) => format!(
                "{} «{field}»",
                vocabulary(designations::DesignationKind::parse("kind", kind), kind)
            ),
            None => t("reports-no-designation"),
        },
        Dimension::Direction => {
            if key.direction.is_empty() {
                t("reports-no-direction")
            } else {
                vocabulary(
                    calendar::Direction::parse("direction", &key.direction),
                    &key.direction,
                )
            }
        }
        Dimension::Kind => match which {
            Which::Activities | Which::Participation => {
                vocabulary(calendar::ActivityKind::parse("kind", &key.kind), &key.kind)
            }
            Which::Agreements => vocabulary(
                agreement::AgreementKind::parse("kind", &key.kind),
                &key.kind,
            ),
            Which::Resources => {
                vocabulary(booking::ResourceKind::parse("kind", &key.kind), &key.kind)
            }
            Which::Mentoring => vocabulary(
                mentoring::MentoringForm::parse("kind", &key.kind),
                &key.kind,
            ),
        },
        Dimension::Month => or_none(&month(&key.month)),
        Dimension::Grade if key.grade == "teachers" => t("reports-grade-teachers"),
        Dimension::Grade => {
            let bounds = key
                .grade
                .split_once('-')
                .unwrap_or((&key.grade, &key.grade));
            match (bounds.0.parse::<u32>(), bounds.1.parse::<u32>()) {
                (Ok(from), Ok(to)) => capitalized(&ru().grades(from, to)),
                _ => or_none(&key.grade),
            }
        }
        Dimension::State if which == Which::Mentoring => {
            vocabulary(mentoring::PairState::parse("state", &key.state), &key.state)
        }
        Dimension::State => vocabulary(agreement::State::parse("state", &key.state), &key.state),
    }
}

/// The dimensions `group_by` names, known ones only.
fn dimensions(group_by: &[String]) -> Vec<Dimension> {
    group_by
        .iter()
        .filter_map(|name| Dimension::parse("group_by", name).ok())
        .collect()
}

/// The report's table, grouped by `group_by`.
fn table(which: Which, fetched: &Fetched, group_by: &[Dimension]) -> Table {
    let mut columns: Vec<String> = group_by.iter().map(|d| ru().name(*d)).collect();
    columns.extend(which.columns().iter().map(|k| t(k)));
    let rows = fetched
        .rows
        .iter()
        .map(|(key, figures)| {
            let mut row: Vec<Cell> = group_by
                .iter()
                .map(|d| Cell::Text(dimension_value(which, *d, key)))
                .collect();
            row.extend(figures.iter().map(copy));
            row
        })
        .collect();
    let mut total: Vec<Cell> = group_by
        .iter()
        .enumerate()
        .map(|(i, _)| {
            Cell::Text(if i == 0 {
                t("reports-total")
            } else {
                String::new()
            })
        })
        .collect();
    total.extend(fetched.total.iter().map(copy));
    Table {
        id: which.name().to_owned(),
        caption: t(&format!("reports-{}-title", which.name())),
        columns,
        rows,
        total: Some(total),
        paging: None,
    }
}

/// The page of a long table asked for (`page=`), the first by default.
pub(crate) fn page_asked(pairs: &[(String, String)]) -> usize {
    pairs
        .iter()
        .find(|(k, _)| k == "page")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(1)
}

/// The page's own address with the table's page `page`.
pub(crate) fn page_link(path: &str, pairs: &[(String, String)], page: usize) -> String {
    let mut kept: Vec<(&str, String)> = pairs
        .iter()
        .filter(|(k, _)| k != "page")
        .map(|(k, v)| (k.as_str(), v.clone()))
        .collect();
    kept.push(("page", page.to_string()));
    format!(
        "{path}?{}",
        serde_urlencoded::to_string(&kept).unwrap_or_default()
    )
}

fn copy(cell: &Cell) -> Cell {
    match cell {
        Cell::Text(text) => Cell::Text(text.clone()),
        Cell::Number(x) => Cell::Number(*x),
        Cell::Share(x) => Cell::Share(*x),
        Cell::Empty => Cell::Empty,
    }
}

fn figure(cells: &[Cell], at: usize) -> f64 {
    match cells.get(at) {
        Some(Cell::Number(x) | Cell::Share(x)) => *x,
        _ => 0.0,
    }
}

/// The report's chart, from the report grouped by its charted dimension.
fn chart(which: Which, fetched: &Fetched) -> Chart {
    let dimension = which.charted();
    let label = |key: &Key| dimension_value(which, dimension, key);
    let id = format!("chart-{}", which.name());
    let title = t(&format!("reports-chart-{}", which.name()));
    let labels = |keys: &[&str]| -> Vec<String> { keys.iter().map(|k| t(k)).collect() };
    match which {
        Which::Activities => Chart::stacked(
            &id,
            title,
            legend(&labels(&[
                "reports-legend-held",
                "reports-legend-scheduled",
                "reports-legend-cancelled",
            ])),
            fetched
                .rows
                .iter()
                .map(|(key, f)| {
                    let parts = vec![figure(f, 2), figure(f, 3), figure(f, 4)];
                    let text = ru().text_with(
                        "reports-chart-occurrences",
                        &[
                            ("held", number(parts[0]).as_str().into()),
                            ("scheduled", number(parts[1]).as_str().into()),
                            ("cancelled", number(parts[2]).as_str().into()),
                        ],
                    );
                    (label(key), parts, text)
                })
                .collect(),
        ),
        Which::Participation => Chart::overlaid(
            &id,
            title,
            legend(&labels(&[
                "reports-legend-registered",
                "reports-legend-attended",
            ])),
            fetched
                .rows
                .iter()
                .map(|(key, f)| {
                    let (registered, attended) = (figure(f, 1), figure(f, 2));
                    let text = ru().text_with(
                        "reports-chart-pupils",
                        &[
                            ("registered", number(registered).as_str().into()),
                            ("attended", number(attended).as_str().into()),
                        ],
                    );
                    (label(key), registered, attended, text)
                })
                .collect(),
        ),
        Which::Agreements | Which::Mentoring => Chart::stacked(
            &id,
            title,
            Vec::new(),
            fetched
                .rows
                .iter()
                .map(|(key, f)| (label(key), vec![figure(f, 0)], number(figure(f, 0))))
                .collect(),
        ),
        Which::Resources => Chart::percentages(
            &id,
            title,
            fetched
                .rows
                .iter()
                .map(|(key, f)| {
                    let share = figure(f, 3);
                    (label(key), share, format!("{}\u{a0}%", number(share)))
                })
                .collect(),
        ),
    }
}

#[derive(Template)]
#[template(path = "report.html")]
struct ReportPage {
    layout: Layout,
    filter: Filter,
    explain: String,
    chart: Option<Chart>,
    table: Option<Table>,
    extremes: Vec<Table>,
}

/// `GET /reports/activities`.
pub(crate) async fn activities(
    visitor: Visitor,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    show(Which::Activities, visitor, &pairs).await
}

/// `GET /reports/participation`.
pub(crate) async fn participation(
    visitor: Visitor,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    show(Which::Participation, visitor, &pairs).await
}

/// `GET /reports/agreements`.
pub(crate) async fn agreements(
    visitor: Visitor,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    show(Which::Agreements, visitor, &pairs).await
}

/// `GET /reports/mentoring`.
pub(crate) async fn mentoring(
    visitor: Visitor,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    show(Which::Mentoring, visitor, &pairs).await
}

/// `GET /reports/resources`.
pub(crate) async fn resources(
    visitor: Visitor,
    Query(pairs): Query<Vec<(String, String)>>,
) -> Response {
    show(Which::Resources, visitor, &pairs).await
}

async fn show(which: Which, visitor: Visitor, pairs: &[(String, String)]) -> Response {
    if !visitor.signed_in() {
        return super::sign_in_first(&visitor);
    }
    let asked = Asked::parse(pairs);
    let group_by: Vec<String> = if asked.group_by.is_empty() {
        which
            .kind()
            .default_grouping()
            .iter()
            .map(|d| d.as_str().to_owned())
            .collect()
    } else {
        asked.group_by.clone()
    };
    let (fetched, problem): (Option<Fetched>, Option<Problem>) =
        match fetch(which, &visitor, asked.request(&group_by)).await {
            Ok(fetched) => (Some(fetched), None),
            Err(status) if status.code() == tonic::Code::InvalidArgument => {
                (None, Some(russian(&status)))
            }
            Err(status) => return failure(&status),
        };
    let grouped = dimensions(&group_by);
    let mut table = fetched.as_ref().map(|f| table(which, f, &grouped));
    if asked.csv
        && let (Some(fetched), Some(table)) = (&fetched, &table)
    {
        return csv::download(which.name(), fetched.scope.as_ref(), table);
    }
    if let Some(table) = table.as_mut() {
        table.page(page_asked(pairs), |n| page_link(which.path(), pairs, n));
    }
    let charted = which.charted();
    let chart = match &fetched {
        Some(f) if grouped == [charted] => Some(chart(which, f)),
        Some(_) => match fetch(
            which,
            &visitor,
            asked.request(&[charted.as_str().to_owned()]),
        )
        .await
        {
            Ok(along) => Some(chart(which, &along)),
            Err(status) => return failure(&status),
        },
        None => None,
    };
    let choices = which
        .kind()
        .allowed()
        .iter()
        .map(|d| Choice {
            value: d.as_str().to_owned(),
            label: ru().name(*d),
            selected: grouped.contains(d),
        })
        .collect();
    let failed = problem.is_some();
    let filter = match filter(
        &visitor,
        which.path(),
        &asked,
        fetched.as_ref().and_then(|f| f.scope.as_ref()),
        choices,
        &group_by,
        problem,
    )
    .await
    {
        Ok(filter) => filter,
        Err(status) => return failure(&status),
    };
    let heading = t(&format!("reports-{}-title", which.name()));
    let page = ReportPage {
        layout: Layout::new(&visitor, Section::Reports, heading),
        filter,
        explain: t(&format!("reports-{}-explain", which.name())),
        chart: chart.filter(|c| !c.is_empty()),
        table,
        extremes: fetched.map(|f| f.extremes).unwrap_or_default(),
    };
    let status = if failed {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render_with(status, &page)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dimension_values_are_named_in_russian() {
        let key = Key {
            direction: "distance_and_gifted".into(),
            kind: "olympiad_prep_course".into(),
            month: "2026-02".into(),
            grade: "9-11".into(),
            state: "active".into(),
            ..Key::default()
        };
        let of = |which, d| dimension_value(which, d, &key);
        assert_eq!(
            of(Which::Activities, Dimension::Kind),
            "Подготовка к олимпиаде"
        );
        assert_eq!(of(Which::Activities, Dimension::Month), "Февраль 2026");
        assert_eq!(of(Which::Participation, Dimension::Grade), "9–11 классы");
        for d in [Dimension::Direction, Dimension::State] {
            let named = of(Which::Agreements, d);
            assert!(!named.contains('_') && !named.is_empty(), "{named}");
        }
        assert_eq!(of(Which::Activities, Dimension::Organization), "—");
    }
}
