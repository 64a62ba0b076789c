//! `edufed resource|booking|freebusy|slot`.

use anyhow::{Context as _, bail};
use chrono::{DateTime, Duration, Utc};
use clap::{Args, Subcommand};
use edufed_proto::v1 as pb;

use crate::client::Connection;
use crate::output::{Format, instant, print_json, table, time};
use crate::values::{Access, ApprovalPolicy, ResourceKind};

fn window(
    from: &Option<String>,
    to: &Option<String>,
    days: i64,
) -> anyhow::Result<(prost_types::Timestamp, prost_types::Timestamp)> {
    let from = match from {
        Some(v) => instant(v)?,
        None => prost_types::Timestamp {
            seconds: Utc::now().timestamp(),
            nanos: 0,
        },
    };
    let to = match to {
        Some(v) => instant(v)?,
        None => prost_types::Timestamp {
            seconds: from.seconds + Duration::days(days).num_seconds(),
            nanos: 0,
        },
    };
    Ok((from, to))
}

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
    /// Name.
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
        /// The resource's id.
        resource: String,
        #[command(flatten)]
        settings: ResourceArgs,
    },
    /// Replace a resource's bookable hours.
    Hours {
        /// The resource's id.
        resource: String,
        /// Hours, e.g. "mon-fri 09:00-18:00"; repeatable; none makes it always bookable.
        #[arg(long = "hours")]
        hours: Vec<String>,
    },
    /// Add a blackout (or --clear them all); prints the bookings it falls on.
    Blackout {
        /// The resource's id.
        resource: String,
        /// Local start, e.g. 2025-12-30 or 2025-12-30T00:00.
        #[arg(long, required_unless_present = "clear")]
        from: Option<String>,
        /// Local end.
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
        /// The resource's id.
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
            .map(|h| format!("{} {}-{}", h.weekday, h.opens, h.closes))
            .collect::<Vec<_>>()
            .join(", ");
        t.add_row(vec![
            r.name.clone(),
            pb::ResourceKind::try_from(r.kind)
                .map(|k| {
                    k.as_str_name()
                        .trim_start_matches("RESOURCE_KIND_")
                        .to_ascii_lowercase()
                })
                .unwrap_or_default(),
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
            pb::ApprovalPolicy::try_from(r.approval)
                .map(|k| {
                    k.as_str_name()
                        .trim_start_matches("APPROVAL_POLICY_")
                        .to_ascii_lowercase()
                })
                .unwrap_or_default(),
            pb::Access::try_from(r.access)
                .map(|k| {
                    k.as_str_name()
                        .trim_start_matches("ACCESS_")
                        .to_ascii_lowercase()
                })
                .unwrap_or_default(),
            r.id.clone(),
        ]);
    }
    println!("{t}");
    Ok(())
}

fn print_listed(list: &[pb::ListedOccurrence], format: Format) -> anyhow::Result<()> {
    if format == Format::Json {
        return print_json(&pb::ListBookingsResponse {
            occurrences: list.to_vec(),
        });
    }
    let mut t = table(&[
        "start",
        "end",
        "state",
        "requester",
        "purpose",
        "note",
        "booking id",
    ]);
    for l in list {
        let o = l.occurrence.clone().unwrap_or_default();
        t.add_row(vec![
            time(o.start.as_ref()),
            time(o.end.as_ref()),
            state_name(o.state),
            l.requester_id.clone(),
            l.purpose.clone(),
            o.note,
            l.booking_id.clone(),
        ]);
    }
    println!("{t}");
    Ok(())
}

fn state_name(state: i32) -> String {
    pb::OccurrenceState::try_from(state)
        .map(|s| {
            s.as_str_name()
                .trim_start_matches("OCCURRENCE_STATE_")
                .to_ascii_lowercase()
        })
        .unwrap_or_default()
}

fn print_booking(b: &pb::BookingRecord, format: Format) -> anyhow::Result<()> {
    if format == Format::Json {
        return print_json(b);
    }
    println!(
        "booking {} of resource {} by {} ({}, {} people)",
        b.id, b.resource_id, b.requester_id, b.purpose, b.headcount
    );
    let mut t = table(&["start (for --occurrence)", "end", "state", "note"]);
    for o in &b.occurrences {
        let start = o
            .start
            .as_ref()
            .and_then(|t| DateTime::from_timestamp(t.seconds, 0))
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
            .unwrap_or_default();
        t.add_row(vec![
            start,
            time(o.end.as_ref()),
            state_name(o.state),
            o.note.clone(),
        ]);
    }
    println!("{t}");
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
            println!(
                "{} blackout(s) on {}",
                set.resource.as_ref().map_or(0, |r| r.blackouts.len()),
                set.resource.as_ref().map_or("", |r| r.name.as_str())
            );
            if set.affected.is_empty() {
                println!("no booking falls on them");
                Ok(())
            } else {
                println!(
                    "bookings that fall on them (left in place; settle them with the requesters):"
                );
                print_listed(&set.affected, format)
            }
        }
        ResourceCommand::List { owner } => {
            let list = client
                .list_resources(pb::ListResourcesRequest { owner })
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
                println!("blackout {} – {} {} {}", b.start, b.end, b.reason, b.rule);
            }
            Ok(())
        }
    }
}

/// `edufed booking …`
#[derive(Debug, Subcommand)]
pub enum BookingCommand {
    /// Request a booking: one interval or a series, all or nothing unless --skip-conflicts.
    Request {
        /// The resource's id.
        #[arg(long)]
        resource: String,
        /// The requesting organization (id or slug).
        #[arg(long)]
        requester: String,
        /// Local start, e.g. 2025-09-02T14:00.
        #[arg(long)]
        start: String,
        /// Local end.
        #[arg(long)]
        end: String,
        /// RRULE for a series, e.g. FREQ=WEEKLY;BYDAY=TU,TH;UNTIL=20260531T235959Z.
        #[arg(long)]
        rrule: Option<String>,
        /// A local start left out of the series; repeatable.
        #[arg(long = "exdate")]
        exdates: Vec<String>,
        /// What it is for.
        #[arg(long)]
        purpose: String,
        /// People who come.
        #[arg(long)]
        headcount: u32,
        /// Book the free occurrences and report the others.
        #[arg(long)]
        skip_conflicts: bool,
        /// The activity it serves.
        #[arg(long, default_value = "")]
        activity: String,
        /// The agreement it is under.
        #[arg(long, default_value = "")]
        agreement: String,
    },
    /// Approve pending occurrences (all, or one with --occurrence).
    Approve {
        /// The booking's id.
        booking: String,
        /// One occurrence's start.
        #[arg(long)]
        occurrence: Option<String>,
    },
    /// Reject pending occurrences with a comment.
    Reject {
        /// The booking's id.
        booking: String,
        /// One occurrence's start.
        #[arg(long)]
        occurrence: Option<String>,
        /// Why.
        #[arg(long, default_value = "")]
        comment: String,
    },
    /// Cancel the series, one occurrence, or (with --following) it and those after it.
    Cancel {
        /// The booking's id.
        booking: String,
        /// One occurrence's start.
        #[arg(long)]
        occurrence: Option<String>,
        /// Also the occurrences after it.
        #[arg(long, requires = "occurrence")]
        following: bool,
        /// Why.
        #[arg(long, default_value = "")]
        comment: String,
    },
    /// List booked occurrences of a resource or a requester [default: the next 30 days].
    List {
        /// A resource's id.
        #[arg(long, conflicts_with = "requester")]
        resource: Option<String>,
        /// A requesting organization.
        #[arg(long)]
        requester: Option<String>,
        /// From (RFC 3339 or date).
        #[arg(long)]
        from: Option<String>,
        /// To.
        #[arg(long)]
        to: Option<String>,
    },
    /// Show a booking and its occurrences.
    Show {
        /// The booking's id.
        booking: String,
    },
}

/// Runs `edufed booking …`.
pub async fn booking(
    conn: Connection,
    command: BookingCommand,
    format: Format,
) -> anyhow::Result<()> {
    let mut client = conn.booking();
    match command {
        BookingCommand::Request {
            resource,
            requester,
            start,
            end,
            rrule,
            exdates,
            purpose,
            headcount,
            skip_conflicts,
            activity,
            agreement,
        } => {
            let response = client
                .request_booking(pb::RequestBookingRequest {
                    resource_id: resource,
                    requester,
                    start,
                    end,
                    recurrence: rrule.map(|rule| pb::BookingRecurrence { rule, exdates }),
                    purpose,
                    headcount,
                    activity_id: activity,
                    agreement_id: agreement,
                    skip_conflicts,
                    hold_seconds: 0,
                })
                .await?
                .into_inner();
            if format == Format::Json {
                return print_json(&response);
            }
            print_booking(&response.booking.unwrap_or_default(), format)?;
            for c in &response.skipped {
                println!(
                    "skipped {} – {}: collides with booking {}",
                    time(c.start.as_ref()),
                    time(c.end.as_ref()),
                    c.booking_id
                );
            }
            Ok(())
        }
        BookingCommand::Approve {
            booking,
            occurrence,
        } => {
            let b = client
                .approve_booking(pb::DecideBookingRequest {
                    booking_id: booking,
                    occurrence_start: occurrence.as_deref().map(instant).transpose()?,
                    comment: String::new(),
                })
                .await?
                .into_inner();
            print_booking(&b, format)
        }
        BookingCommand::Reject {
            booking,
            occurrence,
            comment,
        } => {
            let b = client
                .reject_booking(pb::DecideBookingRequest {
                    booking_id: booking,
                    occurrence_start: occurrence.as_deref().map(instant).transpose()?,
                    comment,
                })
                .await?
                .into_inner();
            print_booking(&b, format)
        }
        BookingCommand::Cancel {
            booking,
            occurrence,
            following,
            comment,
        } => {
            let scope = match (&occurrence, following) {
                (None, _) => pb::CancelScope::All,
                (Some(_), false) => pb::CancelScope::One,
                (Some(_), true) => pb::CancelScope::Following,
            };
            let b = client
                .cancel_booking(pb::CancelBookingRequest {
                    booking_id: booking,
                    scope: scope.into(),
                    occurrence_start: occurrence.as_deref().map(instant).transpose()?,
                    comment,
                })
                .await?
                .into_inner();
            print_booking(&b, format)
        }
        BookingCommand::List {
            resource,
            requester,
            from,
            to,
        } => {
            if resource.is_none() && requester.is_none() {
                bail!("give --resource or --requester");
            }
            let (from, to) = window(&from, &to, 30)?;
            let list = client
                .list_bookings(pb::ListBookingsRequest {
                    resource_id: resource.unwrap_or_default(),
                    requester: requester.unwrap_or_default(),
                    from: Some(from),
                    to: Some(to),
                })
                .await?
                .into_inner();
            print_listed(&list.occurrences, format)
        }
        BookingCommand::Show { booking } => {
            let b = client
                .get_booking(pb::GetBookingRequest {
                    booking_id: booking,
                })
                .await?
                .into_inner();
            print_booking(&b, format)
        }
    }
}

/// Arguments of `edufed freebusy`.
#[derive(Debug, Args)]
pub struct FreeBusyArgs {
    /// A resource's id; repeatable.
    #[arg(long = "resource", required = true)]
    resources: Vec<String>,
    /// From [default: now].
    #[arg(long)]
    from: Option<String>,
    /// To [default: 7 days after from].
    #[arg(long)]
    to: Option<String>,
}

/// Runs `edufed freebusy`.
pub async fn freebusy(conn: Connection, args: FreeBusyArgs, format: Format) -> anyhow::Result<()> {
    let (from, to) = window(&args.from, &args.to, 7)?;
    let response = conn
        .booking()
        .free_busy(pb::FreeBusyRequest {
            resource_ids: args.resources,
            from: Some(from),
            to: Some(to),
        })
        .await?
        .into_inner();
    if format == Format::Json {
        return print_json(&response);
    }
    let mut t = table(&["resource", "busy from", "until", "why"]);
    for r in &response.resources {
        for b in &r.busy {
            t.add_row(vec![
                r.resource_id.clone(),
                time(b.start.as_ref()),
                time(b.end.as_ref()),
                b.why.clone(),
            ]);
        }
    }
    println!("{t}");
    Ok(())
}

/// `edufed slot …`
#[derive(Debug, Subcommand)]
pub enum SlotCommand {
    /// Find free slots across the resources a requester may book.
    Find {
        /// The organization that would book.
        #[arg(long)]
        requester: String,
        /// Minutes.
        #[arg(long)]
        duration: u32,
        /// People to seat.
        #[arg(long, default_value_t = 1)]
        headcount: u32,
        /// A required feature; repeatable.
        #[arg(long = "feature")]
        features: Vec<String>,
        /// From [default: now].
        #[arg(long)]
        from: Option<String>,
        /// To [default: 14 days after from].
        #[arg(long)]
        to: Option<String>,
        /// At most this many.
        #[arg(long, default_value_t = 10)]
        limit: u32,
    },
}

/// Runs `edufed slot …`.
pub async fn slot(conn: Connection, command: SlotCommand, format: Format) -> anyhow::Result<()> {
    let SlotCommand::Find {
        requester,
        duration,
        headcount,
        features,
        from,
        to,
        limit,
    } = command;
    let (from, to) = window(&from, &to, 14)?;
    let response = conn
        .booking()
        .find_slots(pb::FindSlotsRequest {
            requester,
            duration_minutes: duration,
            from: Some(from),
            to: Some(to),
            features,
            headcount,
            limit,
        })
        .await?
        .into_inner();
    if format == Format::Json {
        return print_json(&response);
    }
    let mut t = table(&["start", "end", "resource", "capacity", "resource id"]);
    for s in &response.slots {
        let r = s.resource.clone().unwrap_or_default();
        t.add_row(vec![
            time(s.start.as_ref()),
            time(s.end.as_ref()),
            r.name,
            r.capacity.to_string(),
            r.id,
        ]);
    }
    println!("{t}");
    Ok(())
}
