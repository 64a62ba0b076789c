//! `edufed booking|freebusy|slot`: booking resources, their busy time and
//! free slots across them.

use anyhow::bail;
use chrono::{Duration, Utc};
use clap::{Args, Subcommand};
use edufed_proto::v1 as pb;

use crate::client::Connection;
use crate::output::out;
use crate::output::{Format, given, instant, named, print_json, table, time};
use crate::zones::{self, Zones};

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

pub(crate) async fn print_listed(
    list: &[pb::ListedOccurrence],
    format: Format,
    zones: &mut Zones<'_>,
) -> anyhow::Result<()> {
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
        let zone = zones.booking(&l.booking_id).await;
        t.add_row(vec![
            time(o.start.as_ref(), zone),
            time(o.end.as_ref(), zone),
            named!(pb::OccurrenceState, o.state),
            zones.organization_name(&l.requester_id).await,
            l.purpose.clone(),
            o.note,
            l.booking_id.clone(),
        ]);
    }
    out!("{t}");
    Ok(())
}

async fn print_booking(
    b: &pb::BookingRecord,
    format: Format,
    zones: &mut Zones<'_>,
) -> anyhow::Result<()> {
    if format == Format::Json {
        return print_json(b);
    }
    out!(
        "booking {} of {} by {} ({}, {} people)",
        b.id,
        zones.resource_name(&b.resource_id).await,
        zones.organization_name(&b.requester_id).await,
        b.purpose,
        b.headcount
    );
    let zone = zones.resource(&b.resource_id).await;
    let mut t = table(&["start (for --occurrence)", "end", "state", "note"]);
    for o in &b.occurrences {
        t.add_row(vec![
            given(o.start.as_ref(), zone),
            time(o.end.as_ref(), zone),
            named!(pb::OccurrenceState, o.state),
            o.note.clone(),
        ]);
    }
    out!("{t}");
    Ok(())
}

/// `edufed booking …`
#[derive(Debug, Subcommand)]
pub enum BookingCommand {
    /// Request a booking: one interval or a series, all or nothing unless --skip-conflicts.
    Request {
        /// The resource's id, as `resource list` prints it.
        #[arg(long)]
        resource: String,
        /// The requesting organization (id or slug).
        #[arg(long)]
        requester: String,
        /// Local start, e.g. 2025-09-02T14:00.
        #[arg(long)]
        start: String,
        /// Local end of the first occurrence, e.g. 2025-09-02T15:30; later
        /// ones last as long.
        #[arg(long)]
        end: String,
        /// RRULE for a series, e.g. FREQ=WEEKLY;BYDAY=TU,TH;UNTIL=20260531T235959Z.
        #[arg(long)]
        rrule: Option<String>,
        /// A local start left out of the series; repeatable.
        #[arg(long = "exdate")]
        exdates: Vec<String>,
        /// What it is for, shown to the resource's owner.
        #[arg(long)]
        purpose: String,
        /// People who come.
        #[arg(long)]
        headcount: u32,
        /// Book the free occurrences and report the others.
        #[arg(long)]
        skip_conflicts: bool,
        /// The id of the activity it serves, if any.
        #[arg(long, default_value = "")]
        activity: String,
        /// The id of the agreement it is under, if any.
        #[arg(long, default_value = "")]
        agreement: String,
    },
    /// Approve pending occurrences (all, or one with --occurrence).
    Approve {
        /// The booking's id, as `booking request` and `booking list` print it.
        booking: String,
        /// Only the occurrence starting then, as `booking show` prints it.
        #[arg(long)]
        occurrence: Option<String>,
    },
    /// Reject pending occurrences with a comment.
    Reject {
        /// The booking's id, as `booking request` and `booking list` print it.
        booking: String,
        /// Only the occurrence starting then, as `booking show` prints it.
        #[arg(long)]
        occurrence: Option<String>,
        /// Why, for the requester.
        #[arg(long, default_value = "")]
        comment: String,
    },
    /// Cancel the series, one occurrence, or (with --following) it and those after it.
    Cancel {
        /// The booking's id, as `booking request` and `booking list` print it.
        booking: String,
        /// Only the occurrence starting then, as `booking show` prints it.
        #[arg(long)]
        occurrence: Option<String>,
        /// Also the occurrences after it.
        #[arg(long, requires = "occurrence")]
        following: bool,
        /// Why, recorded with the cancellation.
        #[arg(long, default_value = "")]
        comment: String,
    },
    /// List booked occurrences of a resource or a requester [default: the next 30 days].
    List {
        /// This resource's bookings (its id).
        #[arg(long, conflicts_with = "requester")]
        resource: Option<String>,
        /// This organization's requests (id or slug).
        #[arg(long)]
        requester: Option<String>,
        /// From (RFC 3339 or date) [default: now].
        #[arg(long)]
        from: Option<String>,
        /// To (RFC 3339 or date) [default: 30 days after --from].
        #[arg(long)]
        to: Option<String>,
    },
    /// Show a booking and its occurrences.
    Show {
        /// The booking's id, as `booking request` and `booking list` print it.
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
    let zones = &mut Zones::new(&conn);
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
            let booking = response.booking.unwrap_or_default();
            print_booking(&booking, format, zones).await?;
            let zone = zones.resource(&booking.resource_id).await;
            for c in &response.skipped {
                out!(
                    "skipped {} – {}: collides with booking {}",
                    time(c.start.as_ref(), zone),
                    time(c.end.as_ref(), zone),
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
            print_booking(&b, format, zones).await
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
            print_booking(&b, format, zones).await
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
            print_booking(&b, format, zones).await
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
            print_listed(&list.occurrences, format, zones).await
        }
        BookingCommand::Show { booking } => {
            let b = client
                .get_booking(pb::GetBookingRequest {
                    booking_id: booking,
                })
                .await?
                .into_inner();
            print_booking(&b, format, zones).await
        }
    }
}

/// Arguments of `edufed freebusy`.
#[derive(Debug, Args)]
pub struct FreeBusyArgs {
    /// A resource's id; repeatable.
    #[arg(long = "resource", required = true)]
    resources: Vec<String>,
    /// From (RFC 3339 or date) [default: now].
    #[arg(long)]
    from: Option<String>,
    /// To (RFC 3339 or date) [default: 7 days after --from].
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
    let zones = &mut Zones::new(&conn);
    let mut t = table(&["resource", "busy from", "until", "why"]);
    for r in &response.resources {
        let zone = zones.resource(&r.resource_id).await;
        for b in &r.busy {
            t.add_row(vec![
                zones.resource_name(&r.resource_id).await,
                time(b.start.as_ref(), zone),
                time(b.end.as_ref(), zone),
                b.why.clone(),
            ]);
        }
    }
    out!("{t}");
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
        /// How long each slot is, in minutes.
        #[arg(long)]
        duration: u32,
        /// People to seat.
        #[arg(long, default_value_t = 1)]
        headcount: u32,
        /// A required feature; repeatable.
        #[arg(long = "feature")]
        features: Vec<String>,
        /// From (RFC 3339 or date) [default: now].
        #[arg(long)]
        from: Option<String>,
        /// To (RFC 3339 or date) [default: 14 days after --from].
        #[arg(long)]
        to: Option<String>,
        /// At most this many slots.
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
        let zone = zones::parse(&r.time_zone);
        t.add_row(vec![
            time(s.start.as_ref(), zone),
            time(s.end.as_ref(), zone),
            r.name,
            r.capacity.to_string(),
            r.id,
        ]);
    }
    out!("{t}");
    Ok(())
}
