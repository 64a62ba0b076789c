//! Wire ↔ domain conversions of the Calendar service.

use chrono::DateTime;
use edufed_domain::FieldError;
use edufed_domain::calendar::decide::Register;
use edufed_domain::calendar::registration::Cohort;
use edufed_domain::calendar::registration::{Registration, RegistrationState, Results};
use edufed_domain::calendar::{
    Activity, ActivityDetails, ActivityKind, ActivityStatus, Audience, Coordinator, Direction,
    Format, GradeRange, MentoringLink, Occurrence, OverrideChange, Place, RegistrationWindow,
    Schedule, SeatQuota, Venue, Visibility,
};
use edufed_domain::ids::{ActivityId, AgreementId, OrgId, PairId, ProgrammeId, TrialId};
use edufed_domain::text;
use edufed_domain::time::TimeZone;
use edufed_proto::v1 as pb;

use crate::convert::{
    ToProto, enum_map, instant, local, local_out, recurrence, required, timestamp,
};

enum_map!(
    kind_in,
    kind_out,
    pb::ActivityKind,
    "ACTIVITY_KIND_",
    ActivityKind
);
enum_map!(
    direction_in,
    direction_out,
    pb::Direction,
    "DIRECTION_",
    Direction
);
enum_map!(format_in, format_out, pb::Format, "FORMAT_", Format);
enum_map!(
    visibility_in,
    visibility_out,
    pb::Visibility,
    "VISIBILITY_",
    Visibility
);
enum_map!(
    status_in,
    status_out,
    pb::ActivityStatus,
    "ACTIVITY_STATUS_",
    ActivityStatus
);
enum_map!(
    state_in,
    state_out,
    pb::RegistrationState,
    "REGISTRATION_STATE_",
    RegistrationState
);

fn grades(field: &str, range: &pb::GradeRange) -> Result<GradeRange, FieldError> {
    GradeRange::new(field, range.min, range.max)
}

/// A cohort's grades: required for students, none for teachers.
pub(crate) fn cohort_grades(
    range: Option<&pb::GradeRange>,
    teachers: bool,
) -> Result<Option<GradeRange>, FieldError> {
    match (range, teachers) {
        (Some(_), true) => Err(FieldError::new(
            "cohort.grades",
            "a group of teachers has no grades",
        )),
        (None, true) => Ok(None),
        (range, false) => Ok(Some(grades(
            "cohort.grades",
            range.ok_or_else(|| FieldError::new("cohort.grades", "is required"))?,
        )?)),
    }
}

/// The publisher's activity details, from the request's `details`; `zone`
/// is the publisher's time zone, used when the schedule names none.
pub(crate) fn details(
    raw: Option<&pb::ActivityDetails>,
    zone: TimeZone,
) -> Result<ActivityDetails, FieldError> {
    let raw = raw.ok_or_else(|| FieldError::new("details", "is required"))?;
    details_of(raw, zone).map_err(|e| e.within("details"))
}

fn details_of(raw: &pb::ActivityDetails, zone: TimeZone) -> Result<ActivityDetails, FieldError> {
    if let Some(raw) = text::optional_line("agreement_id", &raw.agreement_id, 100)? {
        // Stored as listed, so the agreement's report finds the activity.
        let id = AgreementId::parse("agreement_id", &raw)?;
        if id.as_str() != raw {
            return Err(FieldError::new(
                "agreement_id",
                "give the agreement's id as listed",
            ));
        }
    }
    let audience = raw
        .audience
        .as_ref()
        .ok_or_else(|| FieldError::new("audience", "is required"))?;
    let place = raw
        .place
        .as_ref()
        .ok_or_else(|| FieldError::new("place", "is required"))?;
    let place = match pb::PlaceKind::try_from(place.kind).unwrap_or(pb::PlaceKind::Unspecified) {
        pb::PlaceKind::Unspecified => return Err(FieldError::new("place.kind", "is required")),
        pb::PlaceKind::AtPublisher => Place::AtPublisher,
        pb::PlaceKind::Outbound => Place::Outbound,
        pb::PlaceKind::Address => Place::Address(place.value.clone()),
        pb::PlaceKind::Resource => Place::Resource(place.value.clone()),
        pb::PlaceKind::Online => Place::Online(place.value.clone()),
    };
    let schedule = raw
        .schedule
        .as_ref()
        .ok_or_else(|| FieldError::new("schedule", "is required"))?;
    let time_zone = if schedule.time_zone.trim().is_empty() {
        zone
    } else {
        TimeZone::parse("schedule.time_zone", &schedule.time_zone)?
    };
    let recurrence = schedule
        .recurrence
        .as_ref()
        .map(|r| recurrence("schedule.recurrence", &r.rule, &r.exdates, &r.rdates))
        .transpose()?;
    let coordinator = match &raw.coordinator {
        Some(c)
            if !(c.name.trim().is_empty()
                && c.position.trim().is_empty()
                && c.contact.trim().is_empty()) =>
        {
            Some(Coordinator {
                name: text::line("coordinator.name", &c.name, 300)?,
                position: text::optional_line("coordinator.position", &c.position, 300)?,
                contact: text::optional_line("coordinator.contact", &c.contact, 300)?,
            })
        }
        _ => None,
    };
    let registration = raw.registration.as_ref();
    ActivityDetails {
        title: raw.title.clone(),
        description: raw.description.clone(),
        kind: required("kind", kind_in("kind", raw.kind)?)?,
        direction: direction_in("direction", raw.direction)?,
        subjects: raw.subjects.clone(),
        audience: Audience {
            students: audience
                .students
                .as_ref()
                .map(|g| grades("audience.students", g))
                .transpose()?,
            teachers: audience.teachers,
            parents: audience.parents,
            university_students: audience.university_students,
        },
        format: required("format", format_in("format", raw.format)?)?,
        place,
        coordinator,
        partners: raw
            .partner_organization_ids
            .iter()
            .map(|id| OrgId::parse("partner_organization_ids", id))
            .collect::<Result<_, _>>()?,
        capacity: (raw.capacity != 0).then_some(raw.capacity),
        quotas: raw
            .quotas
            .iter()
            .map(|q| {
                Ok(SeatQuota {
                    org_id: OrgId::parse("quotas.organization_id", &q.organization_id)?,
                    seats: q.seats,
                })
            })
            .collect::<Result<_, FieldError>>()?,
        registration: RegistrationWindow {
            opens_at: instant(
                "registration.opens_at",
                registration.and_then(|r| r.opens_at.as_ref()),
            )?,
            closes_at: instant(
                "registration.closes_at",
                registration.and_then(|r| r.closes_at.as_ref()),
            )?,
        },
        visibility: required("visibility", visibility_in("visibility", raw.visibility)?)?,
        agreement_id: text::optional_line("agreement_id", &raw.agreement_id, 100)?,
        schedule: Schedule {
            time_zone,
            start: local("schedule.start", &schedule.start)?,
            end: local("schedule.end", &schedule.end)?,
            all_day: schedule.all_day,
            recurrence,
        },
        mentoring: mentoring_link(&raw.mentoring_programme_id, &raw.mentoring_pair_id)?,
        trial: match raw.trial_id.trim() {
            "" => None,
            id => Some(TrialId::parse("trial_id", id)?),
        },
        venues: raw
            .venues
            .iter()
            .enumerate()
            .map(|(i, v)| {
                Ok(Venue {
                    number: v.number,
                    org: match v.organization.trim() {
                        "" => None,
                        id => Some(OrgId::parse(&format!("venues[{i}].organization"), id)?),
                    },
                    place: v.place.clone(),
                    capacity: (v.capacity != 0).then_some(v.capacity),
                    coordinator: Some(v.coordinator.clone()),
                })
            })
            .collect::<Result<_, FieldError>>()?,
    }
    .validate()
}

/// The mentoring programme and pair an activity belongs to, if named.
pub(crate) fn mentoring_link(
    programme: &str,
    pair: &str,
) -> Result<Option<MentoringLink>, FieldError> {
    match (programme.trim(), pair.trim()) {
        ("", "") => Ok(None),
        ("", _) => Err(FieldError::new(
            "mentoring_programme_id",
            "is required with mentoring_pair_id",
        )),
        (programme, pair) => Ok(Some(MentoringLink {
            programme: ProgrammeId::parse("mentoring_programme_id", programme)?,
            pair: if pair.is_empty() {
                None
            } else {
                Some(PairId::parse("mentoring_pair_id", pair)?)
            },
        })),
    }
}

/// A cohort's registration for the activity the request names, for
/// `org` (resolved by the caller from `cohort.organization`).
pub(crate) fn register(req: &pb::RegisterRequest, org: OrgId) -> Result<Register, FieldError> {
    let raw = req
        .cohort
        .as_ref()
        .ok_or_else(|| FieldError::new("cohort", "is required"))?;
    let cohort = Cohort {
        org_id: org,
        grades: cohort_grades(raw.grades.as_ref(), raw.teachers)?,
        headcount: raw.headcount,
        teacher: raw.teacher.clone(),
        teacher_contact: Some(raw.teacher_contact.clone()),
    }
    .validate()
    .map_err(|e| e.within("cohort"))?;
    Ok(Register {
        activity: ActivityId::parse("activity_id", &req.activity_id)?,
        occurrence: instant("occurrence_start", req.occurrence_start.as_ref())?
            .map(|t| t.timestamp_micros()),
        cohort,
        venue: (req.venue != 0).then_some(req.venue),
    })
}

pub(crate) fn results(raw: Option<&pb::Results>) -> Result<Results, FieldError> {
    let raw = raw.ok_or_else(|| FieldError::new("results", "is required"))?;
    Ok(Results {
        attended: raw.attended,
        participants: raw.participants,
        prize_winners: raw.prize_winners,
        winners: raw.winners,
    })
}

impl ToProto for ActivityDetails {
    type Proto = pb::ActivityDetails;
    fn to_proto(&self) -> pb::ActivityDetails {
        let (place_kind, place_value) = match &self.place {
            Place::AtPublisher => (pb::PlaceKind::AtPublisher, String::new()),
            Place::Outbound => (pb::PlaceKind::Outbound, String::new()),
            Place::Address(a) => (pb::PlaceKind::Address, a.clone()),
            Place::Resource(r) => (pb::PlaceKind::Resource, r.clone()),
            Place::Online(u) => (pb::PlaceKind::Online, u.clone()),
        };
        pb::ActivityDetails {
            title: self.title.clone(),
            description: self.description.clone(),
            kind: kind_out(self.kind),
            direction: self.direction.map_or(0, direction_out),
            subjects: self.subjects.clone(),
            audience: Some(pb::Audience {
                students: self.audience.students.map(|g| pb::GradeRange {
                    min: u32::from(g.min),
                    max: u32::from(g.max),
                }),
                teachers: self.audience.teachers,
                parents: self.audience.parents,
                university_students: self.audience.university_students,
            }),
            format: format_out(self.format),
            place: Some(pb::Place {
                kind: place_kind.into(),
                value: place_value,
            }),
            coordinator: self.coordinator.as_ref().map(|c| pb::Coordinator {
                name: c.name.clone(),
                position: c.position.clone().unwrap_or_default(),
                contact: c.contact.clone().unwrap_or_default(),
            }),
            partner_organization_ids: self.partners.iter().map(ToString::to_string).collect(),
            capacity: self.capacity.unwrap_or(0),
            quotas: self
                .quotas
                .iter()
                .map(|q| pb::SeatQuota {
                    organization_id: q.org_id.to_string(),
                    seats: q.seats,
                })
                .collect(),
            registration: Some(pb::RegistrationWindow {
                opens_at: self.registration.opens_at.map(timestamp),
                closes_at: self.registration.closes_at.map(timestamp),
            }),
            visibility: visibility_out(self.visibility),
            agreement_id: self.agreement_id.clone().unwrap_or_default(),
            schedule: Some(pb::Schedule {
                time_zone: self.schedule.time_zone.name().to_owned(),
                start: local_out(self.schedule.start),
                end: local_out(self.schedule.end),
                all_day: self.schedule.all_day,
                recurrence: self.schedule.recurrence.as_ref().map(|r| pb::Recurrence {
                    rule: r.rule.clone(),
                    exdates: r.exdates.iter().map(|d| local_out(*d)).collect(),
                    rdates: r.rdates.iter().map(|d| local_out(*d)).collect(),
                }),
            }),
            mentoring_programme_id: self
                .mentoring
                .as_ref()
                .map(|l| l.programme.to_string())
                .unwrap_or_default(),
            mentoring_pair_id: self
                .mentoring
                .as_ref()
                .and_then(|l| l.pair.as_ref())
                .map(ToString::to_string)
                .unwrap_or_default(),
            trial_id: self
                .trial
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            venues: self
                .venues
                .iter()
                .map(|v| pb::Venue {
                    number: v.number,
                    organization: v.org.as_ref().map(ToString::to_string).unwrap_or_default(),
                    place: v.place.clone(),
                    capacity: v.capacity.unwrap_or(0),
                    coordinator: v.coordinator.clone().unwrap_or_default(),
                })
                .collect(),
        }
    }
}

impl ToProto for Activity {
    type Proto = pb::Activity;
    fn to_proto(&self) -> pb::Activity {
        pb::Activity {
            id: self.id.to_string(),
            publisher_id: self.publisher.to_string(),
            details: Some(self.details.to_proto()),
            status: status_out(self.status),
            overrides: self
                .overrides
                .iter()
                .map(|o| match &o.change {
                    OverrideChange::Cancelled => pb::OccurrenceOverride {
                        original_start: local_out(o.original_start),
                        cancelled: true,
                        start: String::new(),
                        end: String::new(),
                    },
                    OverrideChange::Moved { start, end } => pb::OccurrenceOverride {
                        original_start: local_out(o.original_start),
                        cancelled: false,
                        start: local_out(*start),
                        end: local_out(*end),
                    },
                })
                .collect(),
            version: self.version,
            create_time: Some(timestamp(self.created_at)),
            update_time: Some(timestamp(self.updated_at)),
        }
    }
}

/// An occurrence with its seats.
pub(crate) fn occurrence_out(o: &Occurrence, taken: u32, capacity: Option<u32>) -> pb::Occurrence {
    pb::Occurrence {
        original_start: Some(timestamp(o.original_start)),
        start: Some(timestamp(o.start)),
        end: Some(timestamp(o.end)),
        cancelled: o.cancelled,
        moved: o.moved,
        seats_taken: taken,
        seats_free: capacity.map(|c| c.saturating_sub(taken)),
    }
}

impl ToProto for Registration {
    type Proto = pb::Registration;
    fn to_proto(&self) -> pb::Registration {
        pb::Registration {
            id: self.id.to_string(),
            activity_id: self.activity_id.to_string(),
            occurrence_start: self
                .occurrence
                .and_then(DateTime::from_timestamp_micros)
                .map(timestamp),
            cohort: Some(pb::Cohort {
                organization: self.cohort.org_id.to_string(),
                grades: self.cohort.grades.map(|g| pb::GradeRange {
                    min: u32::from(g.min),
                    max: u32::from(g.max),
                }),
                headcount: self.cohort.headcount,
                teacher: self.cohort.teacher.clone(),
                teacher_contact: self.cohort.teacher_contact.clone().unwrap_or_default(),
                teachers: self.cohort.grades.is_none(),
            }),
            state: state_out(self.state),
            position: self.position,
            results: self.results.map(|r| pb::Results {
                attended: r.attended,
                participants: r.participants,
                prize_winners: r.prize_winners,
                winners: r.winners,
            }),
            version: self.version,
            create_time: Some(timestamp(self.created_at)),
            update_time: Some(timestamp(self.updated_at)),
            waitlist_place: 0,
            venue: self.venue.unwrap_or(0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_domain_enum_value_has_a_wire_twin() {
        for kind in ActivityKind::ALL {
            assert_eq!(kind_in("kind", kind_out(*kind)).unwrap(), Some(*kind));
        }
        for d in Direction::ALL {
            assert_eq!(
                direction_in("direction", direction_out(*d)).unwrap(),
                Some(*d)
            );
        }
        for f in Format::ALL {
            assert_eq!(format_in("format", format_out(*f)).unwrap(), Some(*f));
        }
        for v in Visibility::ALL {
            assert_eq!(
                visibility_in("visibility", visibility_out(*v)).unwrap(),
                Some(*v)
            );
        }
        for s in ActivityStatus::ALL {
            assert_eq!(status_in("status", status_out(*s)).unwrap(), Some(*s));
        }
        for s in RegistrationState::ALL {
            assert_eq!(state_in("state", state_out(*s)).unwrap(), Some(*s));
        }
        assert_eq!(kind_in("kind", 999).unwrap_err().field, "kind");
    }

    #[test]
    fn local_times() {
        assert_eq!(
            local_out(local("start", "2024-09-03T14:00").unwrap()),
            "2024-09-03T14:00:00"
        );
        assert_eq!(
            local_out(local("start", "2022-10-22").unwrap()),
            "2022-10-22T00:00:00"
        );
        assert_eq!(local("start", "tomorrow").unwrap_err().field, "start");
    }
}
