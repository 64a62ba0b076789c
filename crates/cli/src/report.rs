//! `edufed report …`, `edufed target …` and `edufed enrolment …`: the
//! methodical centre's reports, the targets they are measured against, and
//! the enrolment each organization states.

use std::ffi::OsStr;

use clap::builder::{EnumValueParser, PossibleValue, TypedValueParser};
use clap::{Args, Subcommand, ValueEnum};
use edufed_api::export::{table as rows_of, to_csv, to_json};
use edufed_proto::v1 as pb;

use edufed_i18n::ru;

use crate::client::Connection;
use crate::output::{Format, table, time};
use crate::output::{out, out_raw};
use crate::values::ReportDimension;
use crate::zones::Zones;

/// The catalogue's name of `value` of `vocabulary` (`indicator` and
/// `network_coverage`: «Охват сетевой формой»); the value itself when the
/// catalogue has none.
fn vocabulary_name(vocabulary: &str, value: &str) -> String {
    let key = format!("{vocabulary}-{}", value.replace('_', "-"));
    if value.is_empty() || !ru().has(&key) {
        value.to_owned()
    } else {
        ru().text(&key)
    }
}

/// Which report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportName {
    /// Joint activities held, to come and cancelled.
    Activities,
    /// Cohorts registered, attended and placed.
    Participation,
    /// Agreements by kind and state; planned against delivered.
    Agreements,
    /// Booked over bookable hours of the node's resources.
    Resources,
    /// Mentoring pairs and groups by form, organization and state.
    Mentoring,
    /// The network's indicators, the previous period and the targets.
    Indicators,
}

/// How a report is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// An aligned table of the grouped columns and the figures.
    Table,
    /// CSV with a header line; every column.
    Csv,
    /// Canonical protobuf JSON of the whole response.
    Json,
}

/// `edufed report NAME`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    #[arg(value_enum)]
    name: ReportName,
    /// First day (YYYY-MM-DD); with --to. The current school year without both.
    #[arg(long)]
    from: Option<String>,
    /// Last day, included.
    #[arg(long)]
    to: Option<String>,
    /// One organization (id or slug).
    #[arg(long)]
    org: Option<String>,
    /// The organizations of a city.
    #[arg(long, conflicts_with = "org")]
    city: Option<String>,
    /// Every organization the node knows, its peers' included.
    #[arg(long, conflicts_with_all = ["org", "city"])]
    network: bool,
    /// Group rows by these, comma-separated or repeated.
    #[arg(long, value_delimiter = ',', value_parser = Dimensions, ignore_case = true)]
    group_by: Vec<Option<ReportDimension>>,
    /// Agreements: "expiring soon" looks this many days ahead (default 60).
    #[arg(long)]
    expiring_within_days: Option<u32>,
    /// table, csv or json; the global --output when not given.
    #[arg(long, value_enum)]
    format: Option<ReportFormat>,
}

/// `--group-by`'s parser: a dimension, blanks around it ignored, or none
/// for a blank item, so that `organization,` or an empty variable in a
/// script still means what it says.
#[derive(Debug, Clone, Copy)]
struct Dimensions;

impl TypedValueParser for Dimensions {
    type Value = Option<ReportDimension>;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<Self::Value, clap::Error> {
        let value = value.to_str().map_or(value, |v| OsStr::new(v.trim()));
        if value.is_empty() {
            return Ok(None);
        }
        EnumValueParser::<ReportDimension>::new()
            .parse_ref(cmd, arg, value)
            .map(Some)
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(
            ReportDimension::value_variants()
                .iter()
                .filter_map(ValueEnum::to_possible_value),
        ))
    }
}

/// `edufed target …`.
#[derive(Debug, Subcommand)]
pub enum TargetCommand {
    /// Set a target: the value an indicator should reach by a date, for one
    /// organization, a city, or the network.
    Set {
        /// network_coverage, winners_share, activities_held,
        /// agreements_signed, participants_per_activity, mentoring_pairs,
        /// mentoring_crossing, young_teachers_mentored, teachers_courses,
        /// teachers_seminars, teachers_growth_system, trials_per_pupil,
        /// leavers_oriented or leavers_continuing.
        indicator: String,
        /// The value, in the indicator's unit (percent for shares).
        value: f64,
        /// By when, YYYY-MM-DD.
        #[arg(long)]
        due: String,
        /// For one organization (id or slug).
        #[arg(long)]
        org: Option<String>,
        /// For the organizations of a city, e.g. Томск.
        #[arg(long, conflicts_with = "org")]
        city: Option<String>,
        /// Where the target comes from, e.g. a programme or an order.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Every target set on the node.
    List,
    /// Remove a target.
    Remove {
        /// The indicator, as `target list` prints it.
        indicator: String,
        /// Its date, YYYY-MM-DD.
        #[arg(long)]
        due: String,
        /// For one organization (id or slug).
        #[arg(long)]
        org: Option<String>,
        /// For the organizations of a city, e.g. Томск.
        #[arg(long, conflicts_with = "org")]
        city: Option<String>,
    },
}

/// `edufed enrolment …`.
#[derive(Debug, Subcommand)]
pub enum EnrolmentCommand {
    /// State how many students an organization has in a school year.
    Set {
        /// The organization (id or slug).
        org: String,
        /// The school year, e.g. 2025/26.
        school_year: String,
        /// Students enrolled.
        students: u32,
    },
    /// Enrolments stated on the node.
    List {
        /// Only this organization's (id or slug).
        #[arg(long)]
        org: Option<String>,
    },
}

/// Prints a response: the table drops the grouping columns no row fills,
/// and names the values of `named` columns (column, vocabulary) from the
/// catalogue.
fn print<M: prost::Message + prost::Name>(
    message: &M,
    format: ReportFormat,
    named: &[(&str, &str)],
) {
    match format {
        ReportFormat::Csv => out_raw!("{}", to_csv(message)),
        ReportFormat::Json => out!("{}", to_json(message, true)),
        ReportFormat::Table => {
            let rows = rows_of(message);
            let keep: Vec<usize> = (0..rows.header.len())
                .filter(|&i| rows.rows.iter().any(|r| !r[i].is_empty()))
                .filter(|&i| {
                    // Ids are for machines; the names beside them are printed.
                    let name = &rows.header[i];
                    !(matches!(name.as_str(), "organization" | "publisher")
                        && rows.header.iter().any(|h| *h == format!("{name}_name")))
                })
                .collect();
            let header: Vec<&str> = keep.iter().map(|&i| rows.header[i].as_str()).collect();
            let mut t = table(&header);
            for row in &rows.rows {
                t.add_row(
                    keep.iter()
                        .map(|&i| {
                            match named.iter().find(|(column, _)| *column == rows.header[i]) {
                                Some((_, vocabulary)) => vocabulary_name(vocabulary, &row[i]),
                                None => row[i].clone(),
                            }
                        })
                        .collect::<Vec<_>>(),
                );
            }
            out!("{t}");
        }
    }
}

/// The columns of the activity reports named from the catalogue.
const ACTIVITY_COLUMNS: &[(&str, &str)] = &[("kind", "activity-kind"), ("direction", "direction")];

/// Runs `report`.
pub async fn report(conn: Connection, args: ReportArgs, output: Format) -> anyhow::Result<()> {
    let req = pb::ReportRequest {
        from: args.from.unwrap_or_default(),
        to: args.to.unwrap_or_default(),
        organization: args.org.unwrap_or_default(),
        city: args.city.unwrap_or_default(),
        network: args.network,
        group_by: args.group_by.into_iter().flatten().map(i32::from).collect(),
        expiring_within_days: args.expiring_within_days.unwrap_or(0),
    };
    let format = args.format.unwrap_or(match output {
        Format::Table => ReportFormat::Table,
        Format::Json => ReportFormat::Json,
    });
    let mut client = conn.reports();
    match args.name {
        ReportName::Activities => {
            print(
                &client.activities_report(req).await?.into_inner(),
                format,
                ACTIVITY_COLUMNS,
            );
        }
        ReportName::Participation => {
            print(
                &client.participation_report(req).await?.into_inner(),
                format,
                ACTIVITY_COLUMNS,
            );
        }
        ReportName::Agreements => {
            print(
                &client.agreements_report(req).await?.into_inner(),
                format,
                &[("kind", "agreement-kind"), ("state", "agreement-state")],
            );
        }
        ReportName::Resources => {
            let response = client.resources_report(req).await?.into_inner();
            print(&response, format, &[("kind", "resource-kind")]);
            if format == ReportFormat::Table {
                for (title, rows) in [("busiest", &response.busiest), ("idlest", &response.idlest)]
                {
                    let mut t = table(&[title, "owner", "booked h", "bookable h", "utilization %"]);
                    for r in rows {
                        t.add_row(vec![
                            r.name.clone(),
                            r.organization_name.clone(),
                            r.booked_hours.to_string(),
                            r.bookable_hours.to_string(),
                            r.utilization.to_string(),
                        ]);
                    }
                    out!("{t}");
                }
            }
        }
        ReportName::Mentoring => {
            print(
                &client.mentoring_report(req).await?.into_inner(),
                format,
                &[("form", "mentoring-form"), ("state", "pair-state")],
            );
        }
        ReportName::Indicators => {
            let response = client.indicators_report(req).await?.into_inner();
            if format != ReportFormat::Table {
                print(&response, format, &[]);
                return Ok(());
            }
            let shown = |has: bool, v: f64| if has { v.to_string() } else { "—".to_owned() };
            let mut t = table(&[
                "indicator",
                "organization",
                "value",
                "unit",
                "previous",
                "trend",
                "target",
                "due",
                "gap",
            ]);
            for r in &response.rows {
                t.add_row(vec![
                    vocabulary_name("indicator", &r.indicator),
                    if r.organization.is_empty() {
                        "all in scope".to_owned()
                    } else {
                        r.organization_name.clone()
                    },
                    shown(r.has_value, r.value),
                    r.unit.clone(),
                    shown(r.has_previous, r.previous),
                    shown(r.has_value && r.has_previous, r.trend),
                    shown(r.has_target, r.target),
                    r.target_due.clone(),
                    shown(r.has_value && r.has_target, r.gap),
                ]);
            }
            if let Some(scope) = &response.scope {
                out!("{} · {} – {}", scope.scope, scope.from, scope.to);
            }
            out!("{t}");
        }
    }
    Ok(())
}

fn print_targets(targets: &[pb::Target], zone: chrono_tz::Tz) {
    let mut t = table(&["indicator", "scope", "due", "value", "note", "set"]);
    for target in targets {
        t.add_row(vec![
            // The key beside the name: `target remove` takes it.
            format!(
                "{} ({})",
                vocabulary_name("indicator", &target.indicator),
                target.indicator
            ),
            target.scope.clone(),
            target.due.clone(),
            target.value.to_string(),
            target.note.clone(),
            time(target.update_time.as_ref(), zone),
        ]);
    }
    out!("{t}");
}

/// Runs `target`.
pub async fn target(
    conn: Connection,
    command: TargetCommand,
    output: Format,
) -> anyhow::Result<()> {
    let mut client = conn.reports();
    match command {
        TargetCommand::Set {
            indicator,
            value,
            due,
            org,
            city,
            note,
        } => {
            let target = client
                .set_target(pb::SetTargetRequest {
                    indicator,
                    organization: org.unwrap_or_default(),
                    city: city.unwrap_or_default(),
                    due,
                    value,
                    note,
                })
                .await?
                .into_inner();
            if output == Format::Json {
                out!("{}", to_json(&target, true));
            } else {
                print_targets(
                    std::slice::from_ref(&target),
                    Zones::new(&conn).caller().await,
                );
            }
        }
        TargetCommand::List => {
            let list = client
                .list_targets(pb::ListTargetsRequest {})
                .await?
                .into_inner();
            if output == Format::Json {
                out!("{}", to_json(&list, true));
            } else {
                print_targets(&list.targets, Zones::new(&conn).caller().await);
            }
        }
        TargetCommand::Remove {
            indicator,
            due,
            org,
            city,
        } => {
            client
                .remove_target(pb::RemoveTargetRequest {
                    indicator,
                    organization: org.unwrap_or_default(),
                    city: city.unwrap_or_default(),
                    due,
                })
                .await?;
            out!("removed");
        }
    }
    Ok(())
}

/// Runs `enrolment`.
pub async fn enrolment(
    conn: Connection,
    command: EnrolmentCommand,
    output: Format,
) -> anyhow::Result<()> {
    let mut client = conn.reports();
    let list = match command {
        EnrolmentCommand::Set {
            org,
            school_year,
            students,
        } => vec![
            client
                .set_enrolment(pb::SetEnrolmentRequest {
                    organization: org,
                    school_year,
                    students,
                })
                .await?
                .into_inner(),
        ],
        EnrolmentCommand::List { org } => {
            client
                .list_enrolments(pb::ListEnrolmentsRequest {
                    organization: org.unwrap_or_default(),
                })
                .await?
                .into_inner()
                .enrolments
        }
    };
    if output == Format::Json {
        out!(
            "{}",
            to_json(&pb::ListEnrolmentsResponse { enrolments: list }, true)
        );
        return Ok(());
    }
    let mut zones = Zones::new(&conn);
    let mut t = table(&["organization", "school year", "students", "stated"]);
    for e in &list {
        t.add_row(vec![
            zones.organization_name(&e.org_id).await,
            e.school_year.clone(),
            e.students.to_string(),
            time(e.update_time.as_ref(), zones.organization(&e.org_id).await),
        ]);
    }
    out!("{t}");
    Ok(())
}
