//! Wire ↔ domain conversions of the Booking service: each write request
//! becomes a typed command, naming the field at fault.

use chrono::{DateTime, Duration, NaiveTime, Utc, Weekday};
use edufed_domain::FieldError;
use edufed_domain::booking::filter::ResourceFilter;
use edufed_domain::booking::request::MAX_HOLD_SECONDS;
use edufed_domain::booking::{
    Access, ApprovalPolicy, Blackout, Booked, BookedOccurrence, Booking, BookingOutcome,
    BookingRules, Cancel, CancelScope, Decide, Listed, OccurrenceState, Request, Resource,
    ResourceDetails, ResourceKind, UpdateResource, Verdict, WeeklyHours,
};
use edufed_domain::ids::{ActivityId, AgreementId, BookingId, OrgId, ResourceId};
use edufed_domain::text;
use edufed_domain::time::TimeZone;
use edufed_proto::v1 as pb;

use super::{ToProto, enum_map, instant, local, local_out, recurrence, timestamp};

enum_map!(
    kind_in,
    kind_out,
    pb::ResourceKind,
    "RESOURCE_KIND_",
    ResourceKind
);
enum_map!(
    approval_in,
    approval_out,
    pb::ApprovalPolicy,
    "APPROVAL_POLICY_",
    ApprovalPolicy
);
enum_map!(access_in, access_out, pb::Access, "ACCESS_", Access);
enum_map!(
    state_in,
    state_out,
    pb::OccurrenceState,
    "OCCURRENCE_STATE_",
    OccurrenceState
);

/// New settings for a resource; a zone left out keeps the one it has.
pub(crate) fn update(req: &pb::UpdateResourceRequest) -> Result<UpdateResource, FieldError> {
    let raw = req
        .resource
        .as_ref()
        .ok_or_else(|| FieldError::new("resource", "is required"))?;
    let keep_zone = raw.time_zone.trim().is_empty();
    Ok(UpdateResource {
        id: ResourceId::parse("resource_id", &req.resource_id)?,
        expected_version: (req.expected_version != 0).then_some(req.expected_version),
        // The zone is the resource's, set under its lock, when kept.
        details: details(raw, TimeZone::UTC)?,
        keep_zone,
    })
}

/// A booking request for `requester` (resolved by the caller from the
/// request's `requester`, id or slug).
pub(crate) fn request(
    req: &pb::RequestBookingRequest,
    requester: OrgId,
) -> Result<Request, FieldError> {
    if req.headcount == 0 {
        return Err(FieldError::new("headcount", "is required"));
    }
    Ok(Request {
        resource: ResourceId::parse("resource_id", &req.resource_id)?,
        requester,
        start: local("start", &req.start)?,
        end: local("end", &req.end)?,
        recurrence: req
            .recurrence
            .as_ref()
            .map(|r| recurrence("recurrence", &r.rule, &r.exdates, &[]))
            .transpose()?,
        purpose: text::line("purpose", &req.purpose, 300)?,
        headcount: req.headcount,
        activity: text::optional_line("activity_id", &req.activity_id, 100)?
            .map(|raw| ActivityId::parse("activity_id", &raw))
            .transpose()?,
        agreement: text::optional_line("agreement_id", &req.agreement_id, 100)?
            .map(|raw| AgreementId::parse("agreement_id", &raw))
            .transpose()?,
        hold: match req.hold_seconds {
            0 => None,
            s @ 1..=MAX_HOLD_SECONDS => Some(Duration::seconds(i64::from(s))),
            _ => {
                return Err(FieldError::new(
                    "hold_seconds",
                    format!("at most {MAX_HOLD_SECONDS}"),
                ));
            }
        },
        skip_conflicts: req.skip_conflicts,
    })
}

/// The owner's verdict on a booking.
pub(crate) fn decide(req: &pb::DecideBookingRequest, approve: bool) -> Result<Decide, FieldError> {
    Ok(Decide {
        booking: BookingId::parse("booking_id", &req.booking_id)?,
        occurrence: instant("occurrence_start", req.occurrence_start.as_ref())?,
        verdict: {
            let comment = text::optional_line("comment", &req.comment, 500)?.unwrap_or_default();
            if approve {
                Verdict::Approve { comment }
            } else {
                Verdict::Reject { comment }
            }
        },
    })
}

/// What a listing of resources looks for.
pub(crate) fn resource_filter(
    req: &pb::ListResourcesRequest,
) -> Result<ResourceFilter, FieldError> {
    ResourceFilter::new(
        kind_in("kind", req.kind)?,
        &req.features,
        req.min_capacity,
        &req.query,
    )
}

/// A cancellation of one occurrence, the following ones or the series.
pub(crate) fn cancel(req: &pb::CancelBookingRequest) -> Result<Cancel, FieldError> {
    let at = instant("occurrence_start", req.occurrence_start.as_ref())?;
    let need_at =
        || at.ok_or_else(|| FieldError::new("occurrence_start", "is required for this scope"));
    let scope = match pb::CancelScope::try_from(req.scope).unwrap_or(pb::CancelScope::Unspecified) {
        pb::CancelScope::Unspecified => return Err(FieldError::new("scope", "is required")),
        pb::CancelScope::One => CancelScope::One(need_at()?),
        pb::CancelScope::Following => CancelScope::FromOn(need_at()?),
        pb::CancelScope::All => CancelScope::All,
    };
    Ok(Cancel {
        booking: BookingId::parse("booking_id", &req.booking_id)?,
        scope,
        comment: text::optional_line("comment", &req.comment, 500)?.unwrap_or_default(),
    })
}

/// A resource's blackouts as sent; each is checked against the resource's
/// zone when it is set.
pub(crate) fn blackouts(raw: &[pb::Blackout]) -> Result<Vec<Blackout>, FieldError> {
    if raw.len() > edufed_domain::booking::MAX_ITEMS {
        return Err(FieldError::new(
            "blackouts",
            format!("at most {}", edufed_domain::booking::MAX_ITEMS),
        ));
    }
    raw.iter()
        .enumerate()
        .map(|(i, b)| {
            let at = |f: &str| format!("blackouts[{i}].{f}");
            Ok(Blackout {
                start: local(&at("start"), &b.start)?,
                end: local(&at("end"), &b.end)?,
                reason: b.reason.clone(),
                rule: text::optional_line(&at("rule"), &b.rule, 500)?,
            })
        })
        .collect()
}

fn time_of_day(field: &str, raw: &str) -> Result<NaiveTime, FieldError> {
    NaiveTime::parse_from_str(raw.trim(), "%H:%M")
        .or_else(|_| NaiveTime::parse_from_str(raw.trim(), "%H:%M:%S"))
        .map_err(|_| {
            FieldError::new(
                field,
                format!("{} is not a time like 09:00", text::excerpt(raw)),
            )
        })
}

/// A resource's settings as sent; a zone left out is `default_zone` (the
/// owner's).
pub(crate) fn details(
    raw: &pb::Resource,
    default_zone: TimeZone,
) -> Result<ResourceDetails, FieldError> {
    let rules = raw.rules.unwrap_or_default();
    let defaults = BookingRules::default();
    let or = |value: u32, default: u32| if value == 0 { default } else { value };
    ResourceDetails {
        kind: kind_in("resource.kind", raw.kind)?
            .ok_or_else(|| FieldError::new("resource.kind", "is required"))?,
        name: raw.name.clone(),
        capacity: (raw.capacity != 0).then_some(raw.capacity),
        features: raw.features.clone(),
        time_zone: if raw.time_zone.trim().is_empty() {
            default_zone
        } else {
            TimeZone::parse("resource.time_zone", &raw.time_zone)?
        },
        hours: raw
            .hours
            .iter()
            .map(|h| {
                let weekday = match h.weekday {
                    1 => Weekday::Mon,
                    2 => Weekday::Tue,
                    3 => Weekday::Wed,
                    4 => Weekday::Thu,
                    5 => Weekday::Fri,
                    6 => Weekday::Sat,
                    7 => Weekday::Sun,
                    _ => {
                        return Err(FieldError::new(
                            "resource.hours.weekday",
                            "is 1 (Monday) to 7 (Sunday)",
                        ));
                    }
                };
                Ok(WeeklyHours {
                    weekday,
                    opens: time_of_day("resource.hours.opens", &h.opens)?,
                    closes: time_of_day("resource.hours.closes", &h.closes)?,
                })
            })
            .collect::<Result<_, _>>()?,
        rules: BookingRules {
            min_minutes: or(rules.min_minutes, defaults.min_minutes),
            max_minutes: or(rules.max_minutes, defaults.max_minutes),
            min_notice_minutes: rules.min_notice_minutes,
            max_advance_days: or(rules.max_advance_days, defaults.max_advance_days),
            buffer_minutes: rules.buffer_minutes,
        },
        approval: approval_in("resource.approval", raw.approval)?
            .ok_or_else(|| FieldError::new("resource.approval", "is required"))?,
        access: access_in("resource.access", raw.access)?
            .ok_or_else(|| FieldError::new("resource.access", "is required"))?,
    }
    .validate()
    .map_err(|e| FieldError::new(format!("resource.{}", e.field), e.reason))
}

pub(crate) fn resource_out(r: &Resource) -> pb::Resource {
    let d = &r.details;
    pb::Resource {
        id: r.id.to_string(),
        owner_id: r.owner.to_string(),
        kind: kind_out(d.kind),
        name: d.name.clone(),
        capacity: d.capacity.unwrap_or(0),
        features: d.features.clone(),
        time_zone: d.time_zone.name().to_owned(),
        hours: d
            .hours
            .iter()
            .map(|h| pb::WeeklyHours {
                weekday: h.weekday.number_from_monday(),
                opens: h.opens.format("%H:%M").to_string(),
                closes: h.closes.format("%H:%M").to_string(),
            })
            .collect(),
        rules: Some(pb::BookingRules {
            min_minutes: d.rules.min_minutes,
            max_minutes: d.rules.max_minutes,
            min_notice_minutes: d.rules.min_notice_minutes,
            max_advance_days: d.rules.max_advance_days,
            buffer_minutes: d.rules.buffer_minutes,
        }),
        approval: approval_out(d.approval),
        access: access_out(d.access),
        blackouts: r
            .blackouts
            .iter()
            .map(|b| pb::Blackout {
                start: local_out(b.start),
                end: local_out(b.end),
                reason: b.reason.clone(),
                rule: b.rule.clone().unwrap_or_default(),
            })
            .collect(),
        version: r.version,
    }
}

impl ToProto for Booked {
    type Proto = pb::BookingRecord;
    fn to_proto(&self) -> pb::BookingRecord {
        record(&self.booking, &self.occurrences)
    }
}

impl ToProto for BookingOutcome {
    type Proto = pb::RequestBookingResponse;
    fn to_proto(&self) -> pb::RequestBookingResponse {
        pb::RequestBookingResponse {
            booking: Some(record(&self.booking, &self.occurrences)),
            skipped: self
                .skipped
                .iter()
                .map(|c| pb::Collision {
                    start: Some(timestamp(c.start)),
                    end: Some(timestamp(c.end)),
                    booking_id: c.with.to_string(),
                })
                .collect(),
        }
    }
}

fn record(booking: &Booking, occurrences: &[BookedOccurrence]) -> pb::BookingRecord {
    pb::BookingRecord {
        id: booking.id.to_string(),
        resource_id: booking.resource_id.to_string(),
        requester_id: booking.requester_org.to_string(),
        purpose: booking.purpose.clone(),
        headcount: booking.headcount,
        activity_id: booking
            .activity_id
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        agreement_id: booking
            .agreement_id
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        occurrences: occurrences
            .iter()
            .map(|o| pb::BookedOccurrence {
                start: Some(timestamp(o.start)),
                end: Some(timestamp(o.end)),
                state: state_out(o.state),
                hold_expires_at: o.hold_expires_at.map(timestamp),
                note: o.note.clone().unwrap_or_default(),
            })
            .collect(),
        version: booking.version,
    }
}

pub(crate) fn listed_out(listed: &Listed) -> pb::ListedOccurrence {
    let o = &listed.occurrence;
    pb::ListedOccurrence {
        booking_id: listed.booking.id.to_string(),
        requester_id: listed.booking.requester_org.to_string(),
        purpose: listed.booking.purpose.clone(),
        resource_id: listed.booking.resource_id.to_string(),
        headcount: listed.booking.headcount,
        occurrence: Some(pb::BookedOccurrence {
            start: Some(timestamp(o.start)),
            end: Some(timestamp(o.end)),
            state: state_out(o.state),
            hold_expires_at: o.hold_expires_at.map(timestamp),
            note: o.note.clone().unwrap_or_default(),
        }),
    }
}

/// A window of at most 400 days, within the years schedules may use.
pub(crate) fn window(
    from: Option<&prost_types::Timestamp>,
    to: Option<&prost_types::Timestamp>,
) -> Result<(DateTime<Utc>, DateTime<Utc>), FieldError> {
    use chrono::Datelike as _;
    let from = instant("from", from)?.ok_or_else(|| FieldError::new("from", "is required"))?;
    let to = instant("to", to)?.ok_or_else(|| FieldError::new("to", "is required"))?;
    for (field, t) in [("from", from), ("to", to)] {
        if !edufed_domain::calendar::schedule::YEARS.contains(&t.year()) {
            return Err(FieldError::new(field, "must fall between 1970 and 2200"));
        }
    }
    if to <= from || to - from > Duration::days(400) {
        return Err(FieldError::new("to", "must be after from, within 400 days"));
    }
    Ok((from, to))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_booking_enum_value_has_a_wire_twin() {
        for v in ResourceKind::ALL {
            assert_eq!(kind_in("k", kind_out(*v)).unwrap(), Some(*v));
        }
        for v in ApprovalPolicy::ALL {
            assert_eq!(approval_in("a", approval_out(*v)).unwrap(), Some(*v));
        }
        for v in Access::ALL {
            assert_eq!(access_in("a", access_out(*v)).unwrap(), Some(*v));
        }
        for v in OccurrenceState::ALL {
            assert_eq!(state_in("s", state_out(*v)).unwrap(), Some(*v));
        }
    }

    #[test]
    fn a_request_names_its_fields_from_the_root() {
        let good = pb::RequestBookingRequest {
            resource_id: ResourceId::generate().to_string(),
            requester: "mgml".into(),
            start: "2026-09-07T09:00".into(),
            end: "2026-09-07T10:00".into(),
            purpose: "Технология".into(),
            headcount: 12,
            recurrence: Some(pb::BookingRecurrence {
                rule: "FREQ=WEEKLY".into(),
                exdates: vec!["7 сентября".into()],
            }),
            ..Default::default()
        };
        let org = OrgId::generate();
        assert_eq!(
            request(&good, org.clone()).unwrap_err().field,
            "recurrence.exdates"
        );
        let mut no_headcount = good.clone();
        no_headcount.headcount = 0;
        assert_eq!(
            request(&no_headcount, org.clone()).unwrap_err().field,
            "headcount"
        );
        let mut long_hold = good;
        long_hold.recurrence = None;
        long_hold.hold_seconds = MAX_HOLD_SECONDS + 1;
        assert_eq!(request(&long_hold, org).unwrap_err().field, "hold_seconds");
    }
}
