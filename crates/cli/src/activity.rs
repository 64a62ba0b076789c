//! `edufed activity …`: publishing activities on the network's calendar,
//! changing, cancelling and listing them, and recording a cohort's results.

use anyhow::{Context as _, bail};
use chrono::{Duration, NaiveDateTime, TimeZone as _, Utc};
use clap::{Args, Subcommand};
use edufed_proto::v1 as pb;

use crate::client::Connection;
use crate::output::out;
use crate::output::{Format, given, instant, named, print_json, table, time};
use crate::registration::print_registrations;
use crate::values::{ActivityFormat, ActivityKind, ActivityStatus, Direction, Visibility};
use crate::zones::{self, Zones};

/// A schedule's local date-time ("2027-09-07T14:00") as people read it in
/// its zone; as given when it is not one.
fn local(raw: &str, zone: chrono_tz::Tz) -> String {
    ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(raw, f).ok())
        .and_then(|t| zone.from_local_datetime(&t).earliest())
        .map_or_else(
            || raw.to_owned(),
            |at| edufed_i18n::ru().short_instant(at.with_timezone(&Utc), zone),
        )
}

/// `8-11` or `9`.
pub(crate) fn grades(raw: &str) -> anyhow::Result<pb::GradeRange> {
    let (min, max) = raw.split_once('-').unwrap_or((raw, raw));
    Ok(pb::GradeRange {
        min: min
            .trim()
            .parse()
            .with_context(|| format!("{raw:?} is not grades like 8-11"))?,
        max: max
            .trim()
            .parse()
            .with_context(|| format!("{raw:?} is not grades like 8-11"))?,
    })
}

fn place(raw: &str) -> anyhow::Result<pb::Place> {
    let (kind, value) = raw.split_once(':').unwrap_or((raw, ""));
    let kind = match kind {
        "at-publisher" => pb::PlaceKind::AtPublisher,
        "outbound" => pb::PlaceKind::Outbound,
        "address" => pb::PlaceKind::Address,
        "resource" => pb::PlaceKind::Resource,
        "online" => pb::PlaceKind::Online,
        _ => {
            bail!("place is at-publisher, outbound, address:<text>, resource:<id> or online:<url>")
        }
    };
    Ok(pb::Place {
        kind: kind.into(),
        value: value.to_owned(),
    })
}

/// The publisher's fields; in `update`, only those given change.
#[derive(Debug, Args)]
pub struct DetailArgs {
    /// The title the calendar and the feeds show.
    #[arg(long)]
    title: Option<String>,
    /// Free text shown with the activity, e.g. its programme; `activity
    /// list -q` searches it.
    #[arg(long)]
    description: Option<String>,
    /// What kind of event it is.
    #[arg(long, value_enum, ignore_case = true)]
    kind: Option<ActivityKind>,
    /// The network's line of work it belongs to.
    #[arg(long, value_enum, ignore_case = true)]
    direction: Option<Direction>,
    /// A subject tag; repeatable.
    #[arg(long = "subject")]
    subjects: Vec<String>,
    /// Students' grades, e.g. 8-11.
    #[arg(long)]
    grades: Option<String>,
    /// Teachers are among the audience (update adds them, never removes them).
    #[arg(long)]
    teachers: bool,
    /// Parents are among the audience (update adds them, never removes them).
    #[arg(long)]
    parents: bool,
    /// University students are among the audience (update adds them, never
    /// removes them).
    #[arg(long)]
    university_students: bool,
    /// How participants take part [publish's default: in_person].
    #[arg(long, value_enum, ignore_case = true)]
    format: Option<ActivityFormat>,
    /// at-publisher, outbound, address:<text>, resource:<id> or online:<url>.
    #[arg(long)]
    place: Option<String>,
    /// The person to ask about it, e.g. Иванова Анна Петровна.
    #[arg(long)]
    coordinator: Option<String>,
    /// The coordinator's position, e.g. учитель физики.
    #[arg(long)]
    coordinator_position: Option<String>,
    /// Coordinator's e-mail or phone.
    #[arg(long)]
    coordinator_contact: Option<String>,
    /// Seats per occurrence; 0 is unlimited.
    #[arg(long)]
    capacity: Option<u32>,
    /// Who may see it [publish's default: public].
    #[arg(long, value_enum, ignore_case = true)]
    visibility: Option<Visibility>,
    /// The id of the network agreement it is held under.
    #[arg(long)]
    agreement: Option<String>,
    /// The id of the mentoring programme it belongs to (a pair's meeting,
    /// or an event the programme's people attend).
    #[arg(long)]
    programme: Option<String>,
    /// The id of the mentoring pair it is a meeting of (with --programme
    /// and --kind mentoring-meeting; seen by the pair's organizations only).
    #[arg(long)]
    pair: Option<String>,
    /// The id of the professional trial in the bank whose session it is
    /// (with --kind professional-trial; listed while the trial is approved).
    #[arg(long)]
    trial: Option<String>,
    /// A venue of an activity held at several (repeatable, in order):
    /// `place=…;org=<organization id>;capacity=30;coordinator=…`. The
    /// activity's capacity is then the venues' together.
    #[arg(long = "venue")]
    venues: Vec<String>,
    /// Local start of the first occurrence, e.g. 2024-09-03T14:00, or a
    /// date with --all-day.
    #[arg(long)]
    start: Option<String>,
    /// Local end of the first occurrence, e.g. 2024-09-03T15:30; later ones
    /// last as long. With --all-day, the day after the last one.
    #[arg(long)]
    end: Option<String>,
    /// IANA zone [default: the publisher's].
    #[arg(long)]
    time_zone: Option<String>,
    /// Whole days: --start and --end are dates, shown and exported as such.
    #[arg(long)]
    all_day: bool,
    /// RFC 5545 RRULE, e.g. FREQ=WEEKLY;BYDAY=TU,TH;UNTIL=20250531T235959Z.
    #[arg(long)]
    rrule: Option<String>,
    /// A local start excluded from the rule; repeatable.
    #[arg(long = "exdate")]
    exdates: Vec<String>,
    /// A local start added to the rule; repeatable.
    #[arg(long = "rdate")]
    rdates: Vec<String>,
    /// When registration opens: RFC 3339, e.g. 2025-09-01T09:00:00+07:00, or
    /// a date (midnight UTC).
    #[arg(long)]
    registration_opens: Option<String>,
    /// When registration closes, written as --registration-opens.
    #[arg(long)]
    registration_closes: Option<String>,
}

impl DetailArgs {
    fn apply(&self, d: &mut pb::ActivityDetails) -> anyhow::Result<()> {
        if let Some(v) = &self.title {
            d.title = v.clone();
        }
        if let Some(v) = &self.description {
            d.description = v.clone();
        }
        if let Some(v) = self.kind {
            d.kind = v.into();
        }
        if let Some(v) = self.direction {
            d.direction = v.into();
        }
        if !self.subjects.is_empty() {
            d.subjects = self.subjects.clone();
        }
        let audience = d.audience.get_or_insert_with(Default::default);
        if let Some(v) = &self.grades {
            audience.students = Some(grades(v)?);
        }
        audience.teachers |= self.teachers;
        audience.parents |= self.parents;
        audience.university_students |= self.university_students;
        if let Some(v) = self.format {
            d.format = v.into();
        }
        if let Some(v) = &self.place {
            d.place = Some(place(v)?);
        }
        if self.coordinator.is_some()
            || self.coordinator_position.is_some()
            || self.coordinator_contact.is_some()
        {
            let c = d.coordinator.get_or_insert_with(Default::default);
            if let Some(v) = &self.coordinator {
                c.name = v.clone();
            }
            if let Some(v) = &self.coordinator_position {
                c.position = v.clone();
            }
            if let Some(v) = &self.coordinator_contact {
                c.contact = v.clone();
            }
        }
        if let Some(v) = self.capacity {
            d.capacity = v;
        }
        if let Some(v) = self.visibility {
            d.visibility = v.into();
        }
        if let Some(v) = &self.agreement {
            d.agreement_id = v.clone();
        }
        if let Some(v) = &self.programme {
            d.mentoring_programme_id = v.clone();
        }
        if let Some(v) = &self.pair {
            d.mentoring_pair_id = v.clone();
        }
        if let Some(v) = &self.trial {
            d.trial_id = v.clone();
        }
        if !self.venues.is_empty() {
            d.venues = self
                .venues
                .iter()
                .map(|spec| venue(spec))
                .collect::<anyhow::Result<_>>()?;
        }
        if self.kind == Some(ActivityKind::MentoringMeeting) && self.visibility.is_none() {
            // A pair's meeting is seen by the pair's organizations only.
            d.visibility = Visibility::Partners.into();
        }
        let s = d.schedule.get_or_insert_with(Default::default);
        if let Some(v) = &self.start {
            s.start = v.clone();
        }
        if let Some(v) = &self.end {
            s.end = v.clone();
        }
        if let Some(v) = &self.time_zone {
            s.time_zone = v.clone();
        }
        s.all_day |= self.all_day;
        if let Some(rule) = &self.rrule {
            s.recurrence = Some(pb::Recurrence {
                rule: rule.clone(),
                exdates: self.exdates.clone(),
                rdates: self.rdates.clone(),
            });
        } else if let Some(r) = s.recurrence.as_mut() {
            if !self.exdates.is_empty() {
                r.exdates = self.exdates.clone();
            }
            if !self.rdates.is_empty() {
                r.rdates = self.rdates.clone();
            }
        }
        if self.registration_opens.is_some() || self.registration_closes.is_some() {
            let w = d.registration.get_or_insert_with(Default::default);
            if let Some(v) = &self.registration_opens {
                w.opens_at = Some(instant(v)?);
            }
            if let Some(v) = &self.registration_closes {
                w.closes_at = Some(instant(v)?);
            }
        }
        Ok(())
    }
}

/// `edufed activity …`
#[derive(Debug, Subcommand)]
pub enum ActivityCommand {
    /// Publish an activity (or save a draft with --draft).
    Publish {
        /// The publishing organization (id or slug).
        #[arg(long)]
        publisher: String,
        /// Save it as a draft, seen only by the publisher, to publish later
        /// with `activity status ID published`.
        #[arg(long)]
        draft: bool,
        #[command(flatten)]
        details: DetailArgs,
    },
    /// Change an activity: the fields given replace the current ones.
    Update {
        /// The activity's id, as `activity list` prints it.
        activity: String,
        #[command(flatten)]
        details: DetailArgs,
    },
    /// Cancel an activity, or one occurrence of it with --occurrence.
    Cancel {
        /// The activity's id, as `activity list` prints it.
        activity: String,
        /// The occurrence's original start (as `activity show` prints it).
        #[arg(long)]
        occurrence: Option<String>,
    },
    /// Move one occurrence to another local time.
    Move {
        /// The activity's id, as `activity list` prints it.
        activity: String,
        /// The occurrence's original start, as `activity show` prints it.
        #[arg(long)]
        occurrence: String,
        /// Its new local start, e.g. 2024-09-10T14:00.
        #[arg(long)]
        start: String,
        /// Its new local end, e.g. 2024-09-10T15:30.
        #[arg(long)]
        end: String,
    },
    /// Publish a draft, or mark an activity completed: published or completed.
    Status {
        /// The activity's id, as `activity list` prints it.
        activity: String,
        #[arg(value_enum, ignore_case = true)]
        status: ActivityStatus,
    },
    /// List occurrences in a window [default: the next 30 days].
    List(ListArgs),
    /// Show an activity and its occurrences.
    Show {
        /// The activity's id, as `activity list` prints it.
        activity: String,
    },
    /// Record a cohort's attendance and results.
    Results {
        /// The registration's id, as `registration list` prints it.
        registration: String,
        /// Students who came.
        #[arg(long)]
        attended: u32,
        /// Of them, those who competed [default: all who came].
        #[arg(long)]
        participants: Option<u32>,
        /// Of them, prize-winners (призёры).
        #[arg(long, default_value_t = 0)]
        prize_winners: u32,
        /// Of them, winners (победители).
        #[arg(long, default_value_t = 0)]
        winners: u32,
    },
}

/// Filters of `edufed activity list`.
#[derive(Debug, Args)]
pub struct ListArgs {
    /// From (RFC 3339 or date) [default: now].
    #[arg(long)]
    from: Option<String>,
    /// To (RFC 3339 or date), at most 400 days after --from [default: 30
    /// days after --from].
    #[arg(long)]
    to: Option<String>,
    /// Only this publisher's activities (id or slug).
    #[arg(long, default_value = "")]
    publisher: String,
    /// Only activities of this kind.
    #[arg(long, value_enum, ignore_case = true)]
    kind: Option<ActivityKind>,
    /// Only activities of this line of work.
    #[arg(long, value_enum, ignore_case = true)]
    direction: Option<Direction>,
    /// A grade the audience includes.
    #[arg(long, default_value_t = 0)]
    grade: u32,
    /// Only activities with this subject tag, e.g. физика.
    #[arg(long, default_value = "")]
    subject: String,
    /// Only activities held this way.
    #[arg(long, value_enum, ignore_case = true)]
    format: Option<ActivityFormat>,
    /// At least this many free seats.
    #[arg(long, default_value_t = 0)]
    free_seats: u32,
    /// Only activities held under this agreement (its id).
    #[arg(long, default_value = "")]
    agreement: String,
    /// Only activities of this mentoring programme (its id).
    #[arg(long, default_value = "")]
    programme: String,
    /// Only meetings of this mentoring pair (its id; with --programme).
    #[arg(long, default_value = "")]
    pair: String,
    /// Only activities of organizations with a designation of this kind.
    #[arg(long, value_enum, ignore_case = true)]
    host_designation: Option<crate::designation::DesignationKind>,
    /// With --host-designation: only those whose designation's direction or
    /// programme contains this.
    #[arg(long, default_value = "")]
    host_designation_field: String,
    /// Text in the title or description.
    #[arg(long, short = 'q', default_value = "")]
    query: String,
    /// Include cancelled activities and occurrences.
    #[arg(long)]
    include_cancelled: bool,
    /// Fetch every page, not just the first 200 occurrences.
    #[arg(long)]
    all: bool,
}

async fn get(conn: &Connection, id: &str) -> anyhow::Result<pb::ActivityWithOccurrences> {
    Ok(conn
        .calendar()
        .get_activity(pb::GetActivityRequest {
            activity_id: id.to_owned(),
        })
        .await?
        .into_inner())
}

fn print_activity(a: &pb::Activity, format: Format) -> anyhow::Result<()> {
    if format == Format::Json {
        return print_json(a);
    }
    let d = a.details.clone().unwrap_or_default();
    let s = d.schedule.clone().unwrap_or_default();
    let zone = zones::parse(&s.time_zone);
    out!("{} ({})", d.title, a.id);
    out!(
        "  {} · {} · version {}",
        named!(pb::ActivityKind, d.kind),
        named!(pb::ActivityStatus, a.status),
        a.version
    );
    out!("  {} – {}", local(&s.start, zone), local(&s.end, zone));
    if let Some(r) = &s.recurrence {
        out!("  repeats {}", r.rule);
    }
    if !d.mentoring_pair_id.is_empty() {
        out!(
            "  meeting of mentoring pair {} (programme {})",
            d.mentoring_pair_id,
            d.mentoring_programme_id
        );
    } else if !d.mentoring_programme_id.is_empty() {
        out!("  part of mentoring programme {}", d.mentoring_programme_id);
    }
    for v in &d.venues {
        let seats = if v.capacity == 0 {
            "unlimited".to_owned()
        } else {
            format!("{} seats", v.capacity)
        };
        out!("  venue {}: {} ({seats})", v.number, v.place);
    }
    Ok(())
}

/// Runs `edufed activity …`.
pub async fn activity(
    conn: Connection,
    command: ActivityCommand,
    format: Format,
) -> anyhow::Result<()> {
    let mut cal = conn.calendar();
    match command {
        ActivityCommand::Publish {
            publisher,
            draft,
            details,
        } => {
            let mut d = pb::ActivityDetails {
                visibility: pb::Visibility::Public.into(),
                format: pb::Format::InPerson.into(),
                place: Some(pb::Place {
                    kind: pb::PlaceKind::AtPublisher.into(),
                    value: String::new(),
                }),
                ..Default::default()
            };
            details.apply(&mut d)?;
            let a = cal
                .publish_activity(pb::PublishActivityRequest {
                    publisher,
                    details: Some(d),
                    draft,
                })
                .await?
                .into_inner();
            print_activity(&a, format)
        }
        ActivityCommand::Update { activity, details } => {
            let current = get(&conn, &activity).await?.activity.unwrap_or_default();
            let mut d = current.details.clone().unwrap_or_default();
            details.apply(&mut d)?;
            let a = cal
                .update_activity(pb::UpdateActivityRequest {
                    activity_id: activity,
                    expected_version: current.version,
                    details: Some(d),
                })
                .await?
                .into_inner();
            print_activity(&a, format)
        }
        ActivityCommand::Cancel {
            activity,
            occurrence,
        } => {
            let a = match occurrence {
                Some(at) => cal
                    .cancel_occurrence(pb::CancelOccurrenceRequest {
                        activity_id: activity,
                        original_start: Some(instant(&at)?),
                    })
                    .await?
                    .into_inner(),
                None => cal
                    .set_activity_status(pb::SetActivityStatusRequest {
                        activity_id: activity,
                        status: pb::ActivityStatus::Cancelled.into(),
                    })
                    .await?
                    .into_inner(),
            };
            print_activity(&a, format)
        }
        ActivityCommand::Move {
            activity,
            occurrence,
            start,
            end,
        } => {
            let a = cal
                .move_occurrence(pb::MoveOccurrenceRequest {
                    activity_id: activity,
                    original_start: Some(instant(&occurrence)?),
                    start,
                    end,
                })
                .await?
                .into_inner();
            print_activity(&a, format)
        }
        ActivityCommand::Status {
            activity,
            status: s,
        } => {
            let a = cal
                .set_activity_status(pb::SetActivityStatusRequest {
                    activity_id: activity,
                    status: s.into(),
                })
                .await?
                .into_inner();
            print_activity(&a, format)
        }
        ActivityCommand::List(args) => {
            let from = match &args.from {
                Some(v) => instant(v)?,
                None => prost_types::Timestamp {
                    seconds: Utc::now().timestamp(),
                    nanos: 0,
                },
            };
            let to = match &args.to {
                Some(v) => instant(v)?,
                None => prost_types::Timestamp {
                    seconds: from.seconds + Duration::days(30).num_seconds(),
                    nanos: 0,
                },
            };
            let mut request = pb::ListOccurrencesRequest {
                from: Some(from),
                to: Some(to),
                publisher: args.publisher.clone(),
                kind: args.kind.map_or(0, i32::from),
                direction: args.direction.map_or(0, i32::from),
                grade: args.grade,
                subject: args.subject.clone(),
                format: args.format.map_or(0, i32::from),
                min_free_seats: args.free_seats,
                agreement_id: args.agreement.clone(),
                query: args.query.clone(),
                include_cancelled: args.include_cancelled,
                mentoring_programme_id: args.programme.clone(),
                mentoring_pair_id: args.pair.clone(),
                host_designation_kind: args.host_designation.map_or(0, i32::from),
                host_designation_field: args.host_designation_field.clone(),
                page_size: 200,
                page_token: String::new(),
            };
            let mut all = pb::ListOccurrencesResponse::default();
            loop {
                let page = cal.list_occurrences(request.clone()).await?.into_inner();
                all.occurrences.extend(page.occurrences);
                all.next_page_token = page.next_page_token.clone();
                if !args.all || page.next_page_token.is_empty() {
                    break;
                }
                request.page_token = page.next_page_token;
            }
            if format == Format::Json {
                return print_json(&all);
            }
            let mut t = table(&["start", "end", "title", "kind", "seats free", "activity id"]);
            for found in &all.occurrences {
                let a = found.activity.clone().unwrap_or_default();
                let o = found.occurrence.unwrap_or_default();
                let d = a.details.unwrap_or_default();
                let zone = zones::parse(&d.schedule.unwrap_or_default().time_zone);
                t.add_row(vec![
                    time(o.start.as_ref(), zone),
                    time(o.end.as_ref(), zone),
                    d.title,
                    named!(pb::ActivityKind, d.kind),
                    o.seats_free.map_or("∞".to_owned(), |f| f.to_string()),
                    a.id,
                ]);
            }
            out!("{t}");
            if !all.next_page_token.is_empty() {
                out!("more occurrences: repeat with --all");
            }
            Ok(())
        }
        ActivityCommand::Show { activity } => {
            let found = get(&conn, &activity).await?;
            if format == Format::Json {
                return print_json(&found);
            }
            let activity = found.activity.clone().unwrap_or_default();
            print_activity(&activity, format)?;
            let zone = zones::parse(
                &activity
                    .details
                    .and_then(|d| d.schedule)
                    .unwrap_or_default()
                    .time_zone,
            );
            let mut t = table(&[
                "original start (for --occurrence)",
                "start",
                "end",
                "state",
                "seats taken",
                "seats free",
            ]);
            for o in &found.occurrences {
                let state = if o.cancelled {
                    edufed_i18n::ru().text("occurrence-cancelled")
                } else if o.moved {
                    edufed_i18n::ru().text("occurrence-moved")
                } else {
                    String::new()
                };
                t.add_row(vec![
                    given(o.original_start.as_ref(), zone),
                    time(o.start.as_ref(), zone),
                    time(o.end.as_ref(), zone),
                    state,
                    o.seats_taken.to_string(),
                    o.seats_free.map_or("∞".to_owned(), |f| f.to_string()),
                ]);
            }
            out!("{t}");
            out!("waitlisted registrations: {}", found.waitlisted);
            Ok(())
        }
        ActivityCommand::Results {
            registration,
            attended,
            participants,
            prize_winners,
            winners,
        } => {
            let r = cal
                .record_results(pb::RecordResultsRequest {
                    registration_id: registration,
                    results: Some(pb::Results {
                        attended,
                        participants: participants.unwrap_or(attended),
                        prize_winners,
                        winners,
                    }),
                })
                .await?
                .into_inner();
            print_registrations(&[r], format, &mut Zones::new(&conn)).await
        }
    }
}

/// A `--venue` as the wire takes it: `key=value` pairs split by `;`.
fn venue(spec: &str) -> anyhow::Result<pb::Venue> {
    let mut v = pb::Venue::default();
    for part in spec.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = part
            .split_once('=')
            .with_context(|| format!("{part}: a venue is key=value pairs split by ;"))?;
        let value = value.trim().to_owned();
        match key.trim() {
            "place" => v.place = value,
            "org" => v.organization = value,
            "capacity" => v.capacity = value.parse().context("a venue's capacity is a number")?,
            "coordinator" => v.coordinator = value,
            "number" => v.number = value.parse().context("a venue's number is a number")?,
            other => bail!("a venue has place, org, capacity, coordinator and number, not {other}"),
        }
    }
    Ok(v)
}
