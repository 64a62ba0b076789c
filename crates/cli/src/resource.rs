//! `edufed resource …`: bookable resources, their hours and blackouts.

use anyhow::Context as _;
use clap::{Args, Subcommand};
use edufed_i18n::ru;
use edufed_proto::v1 as pb;

use crate::booking::print_listed;
use crate::client::Connection;
use crate::output::out;
use crate::output::{Format, named, print_json, table};
use crate::values::{Access, ApprovalPolicy, ResourceKind};
use crate::zones::Zones;

/// `mon-fri 09:00-18:00`, `sat 10:00-14:00` or `mon,wed 09:00-12:00`.
fn hours(raw: &str) -> anyhow::Result<Vec<pb::WeeklyHours>> {
    let days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let (which, span) = raw
        .trim()
        .split_once(' ')
        .context("hours look like \"mon-fri 09:00-18:00\"")?;
    let (opens, closes) = span
        .trim()
        .split_once('-')
        .context("hours look like \"mon-fri 09:00-18:00\"")?;
    let index = |d: &str| {
        days.iter()
            .position(|x| *x == d.trim().to_ascii_lowercase())
            .map(|i| i as u32 + 1)
            .with_context(|| format!("{d:?} is not a weekday (mon … sun)"))
    };
    let mut weekdays = Vec::new();
    for part in which.split(',') {
        match part.split_once('-') {
            Some((a, b)) => weekdays.extend(index(a)?..=index(b)?),
            None => weekdays.push(index(part)?),
        }
    }
    Ok(weekdays
        .into_iter()
        .map(|weekday| pb::WeeklyHours {
            weekday,
            opens: opens.into(),
            closes: closes.into(),
        })
        .collect())
}

/// A resource's settings; in `update`, only those given change.
#[derive(Debug, Args)]
pub struct ResourceArgs {
    /// What the resource is.
    #[arg(long, value_enum, ignore_case = true)]
    kind: Option<ResourceKind>,
    /// The name it is booked by, e.g. IT-квантум.
    #[arg(long)]
    name: Option<String>,
    /// People it holds; 0 is unlimited.
    #[arg(long)]
    capacity: Option<u32>,
    /// A feature tag; repeatable.
    #[arg(long = "feature")]
    features: Vec<String>,
    /// IANA zone [default: the owner's].
    #[arg(long)]
    time_zone: Option<String>,
    /// Bookable hours, e.g. "mon-fri 09:00-18:00"; repeatable.
    #[arg(long = "hours")]
    hours: Vec<String>,
    /// Shortest booking, minutes.
    #[arg(long)]
    min_minutes: Option<u32>,
    /// Longest booking, minutes.
    #[arg(long)]
    max_minutes: Option<u32>,
    /// Notice needed, minutes.
    #[arg(long)]
    notice_minutes: Option<u32>,
    /// How far ahead bookings open, days.
    #[arg(long)]
    advance_days: Option<u32>,
    /// Free time after each booking, minutes.
    #[arg(long)]
    buffer_minutes: Option<u32>,
    /// How requests are confirmed [add's default: approval_required].
    #[arg(long, value_enum, ignore_case = true)]
    approval: Option<ApprovalPolicy>,
    /// Who may book it [add's default: network].
    #[arg(long, value_enum, ignore_case = true)]
    access: Option<Access>,
}

impl ResourceArgs {
    fn apply(&self, r: &mut pb::Resource) -> anyhow::Result<()> {
        if let Some(v) = self.kind {
            r.kind = v.into();
        }
        if let Some(v) = &self.name {
            r.name = v.clone();
        }
        if let Some(v) = self.capacity {
            r.capacity = v;
        }
        if !self.features.is_empty() {
            r.features = self.features.clone();
        }
        if let Some(v) = &self.time_zone {
            r.time_zone = v.clone();
        }
        if !self.hours.is_empty() {
            r.hours = self
                .hours
                .iter()
                .map(|h| hours(h))
                .collect::<anyhow::Result<Vec<_>>>()?
                .concat();
        }
        let rules = r.rules.get_or_insert_with(Default::default);
        if let Some(v) = self.min_minutes {
            rules.min_minutes = v;
        }
        if let Some(v) = self.max_minutes {
            rules.max_minutes = v;
        }
        if let Some(v) = self.notice_minutes {
            rules.min_notice_minutes = v;
        }
        if let Some(v) = self.advance_days {
            rules.max_advance_days = v;
        }
        if let Some(v) = self.buffer_minutes {
            rules.buffer_minutes = v;
        }
        if let Some(v) = self.approval {
            r.approval = v.into();
        }
        if let Some(v) = self.access {
            r.access = v.into();
        }
        Ok(())
    }
}

/// `edufed resource …`
#[derive(Debug, Subcommand)]
pub enum ResourceCommand {
    /// Add a resource.
    Add {
        /// The owner (id or slug).
        #[arg(long)]
        owner: String,
        #[command(flatten)]
        settings: ResourceArgs,
    },
    /// Change a resource's settings: those given replace the current ones.
    Update {
        /// The resource's id, as `resource list` prints it.
        resource: String,
        #[command(flatten)]
        settings: ResourceArgs,
    },
    /// Replace a resource's bookable hours.
    Hours {
        /// The resource's id, as `resource list` prints it.
        resource: String,
        /// Hours, e.g. "mon-fri 09:00-18:00"; repeatable; none makes it always bookable.
        #[arg(long = "hours")]
        hours: Vec<String>,
    },
    /// Add a blackout (or --clear them all); prints the bookings it falls on.
    Blackout {
        /// The resource's id, as `resource list` prints it.
        resource: String,
        /// Local start, e.g. 2025-12-30 or 2025-12-30T00:00.
        #[arg(long, required_unless_present = "clear")]
        from: Option<String>,
        /// Local end, written as --from.
        #[arg(long, required_unless_present = "clear")]
        to: Option<String>,
        /// Why, shown to requesters.
        #[arg(long, default_value = "")]
        reason: String,
        /// An RRULE repeating it, e.g. FREQ=YEARLY;COUNT=5.
        #[arg(long, default_value = "")]
        rule: String,
        /// Remove every blackout instead.
        #[arg(long)]
        clear: bool,
    },
    /// List an organization's resources you may see.
    List {
        /// The owner (id or slug).
        #[arg(long)]
        owner: String,
    },
    /// Show a resource.
    Show {
        /// The resource's id, as `resource list` prints it.
        resource: String,
    },
}

fn print_resources(list: &[pb::Resource], format: Format) -> anyhow::Result<()> {
    if format == Format::Json {
        return print_json(&pb::ListResourcesResponse {
            resources: list.to_vec(),
        });
    }
    let mut t = table(&[
        "name", "kind", "capacity", "features", "hours", "approval", "access", "id",
    ]);
    for r in list {
        let hours = r
            .hours
            .iter()
            .map(|h| {
                let day = format!("weekday-short-{}", h.weekday);
                let day = if ru().has(&day) {
                    ru().text(&day)
                } else {
                    h.weekday.to_string()
                };
                format!("{day} {}-{}", h.opens, h.closes)
            })
            .collect::<Vec<_>>()
            .join(", ");
        t.add_row(vec![
            r.name.clone(),
            named!(pb::ResourceKind, r.kind),
            if r.capacity == 0 {
                "∞".into()
            } else {
                r.capacity.to_string()
            },
            r.features.join(", "),
            if hours.is_empty() {
                "always".into()
            } else {
                hours
            },
            named!(pb::ApprovalPolicy, r.approval),
            named!(pb::Access, r.access),
            r.id.clone(),
        ]);
    }
    out!("{t}");
    Ok(())
}

/// Runs `edufed resource …`.
pub async fn resource(
    conn: Connection,
    command: ResourceCommand,
    format: Format,
) -> anyhow::Result<()> {
    let mut client = conn.booking();
    match command {
        ResourceCommand::Add { owner, settings } => {
            let mut r = pb::Resource {
                approval: pb::ApprovalPolicy::ApprovalRequired.into(),
                access: pb::Access::Network.into(),
                ..Default::default()
            };
            settings.apply(&mut r)?;
            let r = client
                .create_resource(pb::CreateResourceRequest {
                    owner,
                    resource: Some(r),
                })
                .await?
                .into_inner();
            print_resources(&[r], format)
        }
        ResourceCommand::Update { resource, settings } => {
            let current = client
                .get_resource(pb::GetResourceRequest {
                    resource_id: resource.clone(),
                })
                .await?
                .into_inner();
            let mut r = current.clone();
            settings.apply(&mut r)?;
            let r = client
                .update_resource(pb::UpdateResourceRequest {
                    resource_id: resource,
                    expected_version: current.version,
                    resource: Some(r),
                })
                .await?
                .into_inner();
            print_resources(&[r], format)
        }
        ResourceCommand::Hours { resource, hours: h } => {
            let current = client
                .get_resource(pb::GetResourceRequest {
                    resource_id: resource.clone(),
                })
                .await?
                .into_inner();
            let mut r = current.clone();
            r.hours = h
                .iter()
                .map(|h| hours(h))
                .collect::<anyhow::Result<Vec<_>>>()?
                .concat();
            let r = client
                .update_resource(pb::UpdateResourceRequest {
                    resource_id: resource,
                    expected_version: current.version,
                    resource: Some(r),
                })
                .await?
                .into_inner();
            print_resources(&[r], format)
        }
        ResourceCommand::Blackout {
            resource,
            from,
            to,
            reason,
            rule,
            clear,
        } => {
            let current = client
                .get_resource(pb::GetResourceRequest {
                    resource_id: resource.clone(),
                })
                .await?
                .into_inner();
            let mut blackouts = if clear {
                Vec::new()
            } else {
                current.blackouts.clone()
            };
            if let (false, Some(from), Some(to)) = (clear, from, to) {
                blackouts.push(pb::Blackout {
                    start: from,
                    end: to,
                    reason,
                    rule,
                });
            }
            let set = client
                .set_blackouts(pb::SetBlackoutsRequest {
                    resource_id: resource,
                    blackouts,
                    // The list was read above: replace only that version of it.
                    expected_version: current.version,
                })
                .await?
                .into_inner();
            if format == Format::Json {
                return print_json(&set);
            }
            out!(
                "{} blackout(s) on {}",
                set.resource.as_ref().map_or(0, |r| r.blackouts.len()),
                set.resource.as_ref().map_or("", |r| r.name.as_str())
            );
            if set.affected.is_empty() {
                out!("no booking falls on them");
                Ok(())
            } else {
                out!(
                    "bookings that fall on them (left in place; settle them with the requesters):"
                );
                print_listed(&set.affected, format, &mut Zones::new(&conn)).await
            }
        }
        ResourceCommand::List { owner } => {
            let list = client
                .list_resources(pb::ListResourcesRequest {
                    owner,
                    ..Default::default()
                })
                .await?
                .into_inner();
            print_resources(&list.resources, format)
        }
        ResourceCommand::Show { resource } => {
            let r = client
                .get_resource(pb::GetResourceRequest {
                    resource_id: resource,
                })
                .await?
                .into_inner();
            if format == Format::Json {
                return print_json(&r);
            }
            print_resources(std::slice::from_ref(&r), format)?;
            for b in &r.blackouts {
                out!("blackout {} – {} {} {}", b.start, b.end, b.reason, b.rule);
            }
            Ok(())
        }
    }
}
