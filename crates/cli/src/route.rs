//! `edufed route …`: a school's individual learning routes: templates
//! composed from the network's offerings, routes assigned to cohorts by
//! code and count, enrolled, followed and concluded.

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use edufed_proto::v1 as pb;

use crate::client::Connection;
use crate::output::out;
use crate::output::{Format, named, print_json, table, time};
use crate::values::proto_enum;
use crate::zones::{self, Zones};

proto_enum! {
    /// Where a route stands.
    RouteState => RouteState {
        Active,
        Completed,
        Cancelled,
    }
}

/// A template's content, as a school composes it.
#[derive(Debug, Args)]
pub struct TemplateArgs {
    /// «Инженерный профиль, 10 класс».
    #[arg(long)]
    title: String,
    /// The profile it leads to («инженерный»).
    #[arg(long)]
    profile: String,
    #[arg(long)]
    grade: u32,
    /// The school year's first calendar year: 2026 for 2026/27.
    #[arg(long)]
    year: u32,
    /// An item, in order: `required:TITLE=ACTIVITY_ID` or
    /// `elective:TITLE=ACTIVITY_ID`; a lab booking as
    /// `required:TITLE=resource:RESOURCE_ID@2027-02-03T10:00/12:00`; an
    /// optional `#HOURS` at the end states its hours.
    #[arg(long = "item", required = true)]
    items: Vec<String>,
}

/// One `--item` as the wire takes it.
fn item(spec: &str) -> anyhow::Result<pb::RouteItemDraft> {
    let (kind, rest) = spec
        .split_once(':')
        .context("an item starts with required: or elective:")?;
    let required = match kind {
        "required" => true,
        "elective" => false,
        other => bail!("an item is required: or elective:, not {other}:"),
    };
    let (title, target) = rest
        .rsplit_once('=')
        .context("an item is TITLE=ACTIVITY_ID or TITLE=resource:ID@START/END")?;
    let (target, hours) = match target.rsplit_once('#') {
        Some((t, h)) => (t, h.parse().context("the hours after # are a number")?),
        None => (target, 0),
    };
    let offering = match target.strip_prefix("resource:") {
        Some(booking) => {
            let (resource, window) = booking
                .split_once('@')
                .context("a booking is resource:ID@START/END")?;
            let (start, end) = window
                .split_once('/')
                .context("a booking's time is START/END")?;
            // "12:00" after a full start keeps the start's day.
            let end = if end.len() <= 5 {
                format!("{}T{end}", start.split('T').next().unwrap_or_default())
            } else {
                end.to_owned()
            };
            pb::RouteOffering {
                resource_id: resource.into(),
                start: start.into(),
                end,
                purpose: title.trim().into(),
                ..Default::default()
            }
        }
        None => pb::RouteOffering {
            activity_id: target.trim().into(),
            ..Default::default()
        },
    };
    Ok(pb::RouteItemDraft {
        title: title.trim().into(),
        offering: Some(offering),
        required,
        hours,
        note: String::new(),
    })
}

impl TemplateArgs {
    fn proto(self) -> anyhow::Result<pb::RouteTemplateDraft> {
        Ok(pb::RouteTemplateDraft {
            title: self.title,
            profile: self.profile,
            grade: self.grade,
            school_year: self.year,
            items: self
                .items
                .iter()
                .map(|s| item(s))
                .collect::<anyhow::Result<_>>()?,
        })
    }
}

#[derive(Debug, Subcommand)]
pub enum TemplateCommand {
    /// Compose a template of a school of this node.
    Create {
        /// The school (id or slug).
        #[arg(long)]
        school: String,
        #[command(flatten)]
        template: TemplateArgs,
    },
    /// Replace a template's content.
    Revise {
        template_id: String,
        #[command(flatten)]
        template: TemplateArgs,
    },
    /// Copy a template for another school year.
    Copy {
        template_id: String,
        #[arg(long)]
        year: u32,
    },
    /// One template with its items.
    Show { template_id: String },
    /// A school's templates.
    List {
        #[arg(long)]
        school: String,
        #[arg(long, default_value_t = 0)]
        year: u32,
    },
}

#[derive(Debug, Subcommand)]
pub enum RouteCommand {
    /// Route templates.
    #[command(subcommand)]
    Template(TemplateCommand),
    /// Assign a template to a cohort (a code and a count, never names).
    Assign {
        template_id: String,
        /// The cohort's code, e.g. 10И-2026.
        #[arg(long)]
        code: String,
        #[arg(long)]
        headcount: u32,
        /// The responsible teacher, as registrations name them.
        #[arg(long)]
        teacher: String,
        #[arg(long, default_value = "")]
        teacher_contact: String,
        /// An elective chosen, by item number (repeatable).
        #[arg(long = "elective")]
        electives: Vec<u32>,
    },
    /// Ask the network for every chosen item not yet asked for.
    Enrol { route_id: String },
    /// Record how an item went.
    Follow {
        route_id: String,
        #[arg(long)]
        item: u32,
        /// Pupils who took part; 0 when missed.
        #[arg(long)]
        attended: u32,
        #[arg(long, default_value = "")]
        result: String,
    },
    /// State the outcome and complete the route.
    Conclude {
        route_id: String,
        /// PROFILE=COUNT chosen by the leavers (repeatable).
        #[arg(long = "profile")]
        profiles: Vec<String>,
        #[arg(long)]
        leavers: Option<u32>,
        /// Leavers going on in the route's profile.
        #[arg(long)]
        continuing: Option<u32>,
    },
    /// Give a route up, withdrawing its registrations and bookings.
    Cancel { route_id: String },
    /// One route with its items.
    Show { route_id: String },
    /// A school's routes.
    List {
        #[arg(long)]
        school: String,
        #[arg(long, default_value_t = 0)]
        year: u32,
        #[arg(long, value_enum, ignore_case = true)]
        state: Option<RouteState>,
    },
    /// The route's calendar over its school year.
    Calendar { route_id: String },
}

/// Runs `edufed route …`.
pub async fn route(conn: Connection, command: RouteCommand, format: Format) -> anyhow::Result<()> {
    let mut client = conn.routes();
    let mut zones = Zones::new(&conn);
    let one = match command {
        RouteCommand::Template(command) => {
            let templates = match command {
                TemplateCommand::Create { school, template } => vec![
                    client
                        .create_route_template(pb::CreateRouteTemplateRequest {
                            school,
                            template: Some(template.proto()?),
                        })
                        .await?
                        .into_inner(),
                ],
                TemplateCommand::Revise {
                    template_id,
                    template,
                } => vec![
                    client
                        .revise_route_template(pb::ReviseRouteTemplateRequest {
                            id: template_id,
                            expected_version: 0,
                            template: Some(template.proto()?),
                        })
                        .await?
                        .into_inner(),
                ],
                TemplateCommand::Copy { template_id, year } => vec![
                    client
                        .copy_route_template(pb::CopyRouteTemplateRequest {
                            id: template_id,
                            school_year: year,
                        })
                        .await?
                        .into_inner(),
                ],
                TemplateCommand::Show { template_id } => vec![
                    client
                        .get_route_template(pb::GetRouteTemplateRequest { id: template_id })
                        .await?
                        .into_inner(),
                ],
                TemplateCommand::List { school, year } => {
                    let list = client
                        .list_route_templates(pb::ListRouteTemplatesRequest {
                            school,
                            school_year: year,
                        })
                        .await?
                        .into_inner();
                    if format == Format::Json {
                        return print_json(&list);
                    }
                    let mut t =
                        table(&["title", "profile", "grade", "year", "items", "hours", "id"]);
                    for x in &list.templates {
                        t.add_row(vec![
                            x.title.clone(),
                            x.profile.clone(),
                            x.grade.to_string(),
                            year_label(x.school_year),
                            x.items.len().to_string(),
                            format!("{} / {}", x.required_hours, x.total_hours),
                            x.id.clone(),
                        ]);
                    }
                    out!("{t}");
                    return Ok(());
                }
            };
            let x = &templates[0];
            if format == Format::Json {
                return print_json(x);
            }
            out!(
                "{} — {}, {} класс, {} ({} ч обязательных из {}) {}",
                x.title,
                x.profile,
                x.grade,
                year_label(x.school_year),
                x.required_hours,
                x.total_hours,
                x.id
            );
            let mut t = table(&["#", "item", "offering", "by", "required", "hours", "trial"]);
            for i in &x.items {
                t.add_row(vec![
                    i.number.to_string(),
                    i.title.clone(),
                    i.offering_name.clone(),
                    zones.organization_name(&i.organization_id).await,
                    yes(i.required),
                    i.hours.to_string(),
                    yes(i.trial),
                ]);
            }
            out!("{t}");
            return Ok(());
        }
        RouteCommand::Assign {
            template_id,
            code,
            headcount,
            teacher,
            teacher_contact,
            electives,
        } => client
            .assign_route(pb::AssignRouteRequest {
                template_id,
                cohort: Some(pb::RouteCohort {
                    code,
                    headcount,
                    teacher,
                    teacher_contact,
                }),
                electives,
            })
            .await?
            .into_inner(),
        RouteCommand::Enrol { route_id } => client
            .enrol_route(pb::EnrolRouteRequest { id: route_id })
            .await?
            .into_inner(),
        RouteCommand::Follow {
            route_id,
            item,
            attended,
            result,
        } => client
            .follow_route_item(pb::FollowRouteItemRequest {
                id: route_id,
                expected_version: 0,
                item,
                attended: Some(attended),
                result,
            })
            .await?
            .into_inner(),
        RouteCommand::Conclude {
            route_id,
            profiles,
            leavers,
            continuing,
        } => {
            let profiles = profiles
                .iter()
                .map(|p| {
                    let (profile, count) =
                        p.rsplit_once('=').context("a profile is PROFILE=COUNT")?;
                    Ok(pb::ProfileCount {
                        profile: profile.trim().into(),
                        count: count.trim().parse().context("the count is a number")?,
                    })
                })
                .collect::<anyhow::Result<_>>()?;
            client
                .conclude_route(pb::ConcludeRouteRequest {
                    id: route_id,
                    expected_version: 0,
                    outcome: Some(pb::RouteOutcome {
                        profiles,
                        leavers,
                        continuing,
                    }),
                })
                .await?
                .into_inner()
        }
        RouteCommand::Cancel { route_id } => client
            .cancel_route(pb::CancelRouteRequest {
                id: route_id,
                expected_version: 0,
            })
            .await?
            .into_inner(),
        RouteCommand::Show { route_id } => client
            .get_route(pb::GetRouteRequest { id: route_id })
            .await?
            .into_inner(),
        RouteCommand::List {
            school,
            year,
            state,
        } => {
            let list = client
                .list_routes(pb::ListRoutesRequest {
                    school,
                    school_year: year,
                    state: state.map_or(0, i32::from),
                })
                .await?
                .into_inner();
            if format == Format::Json {
                return print_json(&list);
            }
            let mut t = table(&[
                "cohort",
                "route",
                "year",
                "state",
                "attended",
                "trials/pupil",
                "id",
            ]);
            for r in &list.routes {
                let f = r.figures.unwrap_or_default();
                t.add_row(vec![
                    r.cohort.clone().unwrap_or_default().code,
                    r.title.clone(),
                    year_label(r.school_year),
                    named!(pb::RouteState, r.state),
                    format!("{} / {}", f.items_attended, f.items_chosen),
                    format!("{:.1}", f.trials_per_pupil),
                    r.id.clone(),
                ]);
            }
            out!("{t}");
            return Ok(());
        }
        RouteCommand::Calendar { route_id } => {
            let cal = client
                .route_calendar(pb::RouteCalendarRequest {
                    id: route_id,
                    ..Default::default()
                })
                .await?
                .into_inner();
            if format == Format::Json {
                return print_json(&cal);
            }
            let mut t = table(&["start", "end", "#", "item", "by", "status"]);
            for o in &cal.occurrences {
                let zone = zones::parse(&o.time_zone);
                t.add_row(vec![
                    time(o.start.as_ref(), zone),
                    time(o.end.as_ref(), zone),
                    o.item.to_string(),
                    o.title.clone(),
                    zones.organization_name(&o.organization_id).await,
                    named!(pb::RouteItemStatus, o.status),
                ]);
            }
            out!("{t}");
            return Ok(());
        }
    };
    if format == Format::Json {
        return print_json(&one);
    }
    let cohort = one.cohort.clone().unwrap_or_default();
    let f = one.figures.unwrap_or_default();
    out!(
        "{} — группа {} ({} чел.), {}, {}; пройдено {} из {}, проб на ученика {:.1} {}",
        one.title,
        cohort.code,
        cohort.headcount,
        year_label(one.school_year),
        named!(pb::RouteState, one.state),
        f.items_attended,
        f.items_chosen,
        f.trials_per_pupil,
        one.id
    );
    let mut t = table(&["#", "item", "by", "status", "attended", "result"]);
    for i in &one.items {
        let x = i.item.clone().unwrap_or_default();
        let result = if i.refusal.is_empty() {
            i.result.clone()
        } else {
            i.refusal.clone()
        };
        t.add_row(vec![
            x.number.to_string(),
            x.title,
            zones.organization_name(&x.organization_id).await,
            named!(pb::RouteItemStatus, i.status),
            i.attended.map(|n| n.to_string()).unwrap_or_default(),
            result,
        ]);
    }
    out!("{t}");
    if let Some(outcome) = &one.outcome {
        for p in &outcome.profiles {
            out!("  профиль «{}»: {}", p.profile, p.count);
        }
        if let (Some(leavers), Some(continuing)) = (outcome.leavers, outcome.continuing) {
            out!("  выпускников {leavers}, продолжают в профиле {continuing}");
        }
    }
    Ok(())
}

fn year_label(year: u32) -> String {
    format!("{year}/{:02}", (year + 1) % 100)
}

fn yes(b: bool) -> String {
    if b { "да" } else { "" }.to_owned()
}

#[cfg(test)]
mod tests {
    use super::item;

    #[test]
    fn items_are_read_from_their_specs() {
        let a = item("required:«Технология» в Кванториуме=0190c0de-0000-7000-8000-000000000001")
            .unwrap();
        assert!(a.required);
        assert_eq!(a.title, "«Технология» в Кванториуме");
        let b = item("elective:Практикум=resource:abc@2027-02-03T10:00/12:00#3").unwrap();
        let o = b.offering.unwrap();
        assert_eq!(
            (o.start.as_str(), o.end.as_str()),
            ("2027-02-03T10:00", "2027-02-03T12:00")
        );
        assert_eq!(b.hours, 3);
        assert!(!b.required);
        assert!(item("maybe:x=y").is_err());
    }
}
