//! Wire ↔ domain conversions of the Mentoring service. Organizations come
//! by id or slug: [`org_fields`] lists each reference with the field it
//! came in, the handler resolves them, and the conversions read them from
//! [`Orgs`].

use std::collections::HashMap;

use chrono::NaiveDate;
use edufed_domain::FieldError;
use edufed_domain::calendar::GradeRange;
use edufed_domain::ids::{AgreementId, OrgId, PersonId};
use edufed_domain::mentoring::{
    Adult, Assessment, Close, Criterion, MAX_MENTEES, MAX_PARTNERS, Mentee, Mentor, MentoringForm,
    NewAssessment, NewPair, Outcome, OutcomeResult, Pair, PairState, Programme, ProgrammeDetails,
    Pupil, Score, SharedPair, TeacherFigures,
};
use edufed_domain::report::SchoolYear;
use edufed_proto::v1 as pb;
use edufed_store::mentoring::{MirroredProgramme, PairRecord};

use super::{date, enum_map, required, timestamp};

enum_map!(
    form_in,
    form_out,
    pb::MentoringForm,
    "MENTORING_FORM_",
    MentoringForm
);
enum_map!(state_in, state_out, pb::PairState, "PAIR_STATE_", PairState);
enum_map!(
    result_in,
    result_out,
    pb::MentoringResult,
    "MENTORING_RESULT_",
    OutcomeResult
);

/// The organizations a request names, resolved: by the text it named
/// them with.
pub(crate) type Orgs = HashMap<String, OrgId>;

/// Each organization reference of a request, with its field's path; the
/// lists are bounded first, so that no request makes the handler look up
/// more organizations than a programme or a pair can hold.
pub(crate) fn org_fields<'a>(
    details: Option<&'a pb::MentoringProgrammeDetails>,
    participants: Vec<(String, &'a pb::MentoringParticipant)>,
) -> Result<Vec<(String, &'a str)>, FieldError> {
    let mut fields = Vec::new();
    if details.is_some_and(|d| d.partners.len() > MAX_PARTNERS) {
        return Err(FieldError::new(
            "details.partners",
            format!("at most {MAX_PARTNERS} entries"),
        ));
    }
    if participants.len() > MAX_MENTEES + 1 {
        return Err(FieldError::new(
            "mentees",
            format!("at most {MAX_MENTEES} entries"),
        ));
    }
    if let Some(details) = details {
        for (i, partner) in details.partners.iter().enumerate() {
            fields.push((format!("details.partners[{i}]"), partner.as_str()));
        }
    }
    for (path, participant) in participants {
        fields.push((
            format!("{path}.organization"),
            participant.organization.as_str(),
        ));
    }
    Ok(fields)
}

/// The participants of an AddPair request, with their paths.
pub(crate) fn participants(req: &pb::AddPairRequest) -> Vec<(String, &pb::MentoringParticipant)> {
    let mut all = Vec::new();
    if let Some(mentor) = &req.mentor {
        all.push(("mentor".to_owned(), mentor));
    }
    for (i, mentee) in req.mentees.iter().enumerate() {
        all.push((format!("mentees[{i}]"), mentee));
    }
    all
}

fn org(orgs: &Orgs, field: &str, raw: &str) -> Result<OrgId, FieldError> {
    if raw.trim().is_empty() {
        return Err(FieldError::new(field, "is required"));
    }
    orgs.get(raw)
        .cloned()
        .ok_or_else(|| FieldError::new(field, "is required"))
}

fn optional_date(field: &str, raw: &str) -> Result<Option<NaiveDate>, FieldError> {
    if raw.trim().is_empty() {
        Ok(None)
    } else {
        date(field, raw).map(Some)
    }
}

/// A programme's details from the wire, at `path`.
pub(crate) fn details(
    path: &str,
    raw: Option<&pb::MentoringProgrammeDetails>,
    orgs: &Orgs,
) -> Result<ProgrammeDetails, FieldError> {
    let raw = raw.ok_or_else(|| FieldError::new(path, "is required"))?;
    let within = |e: FieldError| e.within(path);
    let partners = raw
        .partners
        .iter()
        .enumerate()
        .map(|(i, p)| org(orgs, &format!("{path}.partners[{i}]"), p))
        .collect::<Result<Vec<_>, _>>()?;
    let criteria = raw
        .criteria
        .iter()
        .map(|c| Criterion {
            key: c.key.clone(),
            title: c.title.clone(),
            scale: u8::try_from(c.scale).unwrap_or(u8::MAX),
        })
        .collect();
    Ok(ProgrammeDetails {
        title: raw.title.clone(),
        form: required("form", form_in("form", raw.form)?).map_err(within)?,
        form_label: Some(raw.form_label.clone()).filter(|l| !l.trim().is_empty()),
        partners,
        agreement: if raw.agreement_id.trim().is_empty() {
            None
        } else {
            Some(AgreementId::parse("agreement_id", &raw.agreement_id).map_err(within)?)
        },
        starts_on: date("starts_on", &raw.starts_on).map_err(within)?,
        ends_on: date("ends_on", &raw.ends_on).map_err(within)?,
        goals: raw.goals.clone(),
        coordinator: PersonId::parse("coordinator_id", &raw.coordinator_id).map_err(within)?,
        criteria,
    })
}

/// Errors of a programme's details as the domain checks them, named from
/// the request's root.
pub(crate) fn details_error(e: FieldError) -> FieldError {
    if e.field.starts_with("details.") {
        e
    } else {
        e.within("details")
    }
}

pub(crate) fn programme_out(programme: &Programme) -> pb::MentoringProgramme {
    let d = &programme.details;
    pb::MentoringProgramme {
        id: programme.id.to_string(),
        owner_id: programme.owner.to_string(),
        details: Some(pb::MentoringProgrammeDetails {
            title: d.title.clone(),
            form: form_out(d.form),
            form_label: d.form_label.clone().unwrap_or_default(),
            partners: d.partners.iter().map(ToString::to_string).collect(),
            agreement_id: d
                .agreement
                .as_ref()
                .map(ToString::to_string)
                .unwrap_or_default(),
            starts_on: d.starts_on.to_string(),
            ends_on: d.ends_on.to_string(),
            goals: d.goals.clone(),
            coordinator_id: d.coordinator.to_string(),
            criteria: d
                .criteria
                .iter()
                .map(|c| pb::MentoringCriterion {
                    key: c.key.clone(),
                    title: c.title.clone(),
                    scale: u32::from(c.scale),
                })
                .collect(),
        }),
        version: programme.version,
        created_at: Some(timestamp(programme.created_at)),
        updated_at: Some(timestamp(programme.updated_at)),
        home_node: String::new(),
    }
}

/// A programme another node keeps.
pub(crate) fn mirrored_programme_out(mirrored: &MirroredProgramme) -> pb::MentoringProgramme {
    pb::MentoringProgramme {
        home_node: mirrored.origin.clone(),
        ..programme_out(&mirrored.programme)
    }
}

/// A pair another node keeps, as it shares it.
pub(crate) fn shared_pair_out(pair: &SharedPair, origin: &str) -> pb::MentoringPair {
    pb::MentoringPair {
        id: pair.id.to_string(),
        programme_id: pair.programme_id.to_string(),
        owner_id: pair.owner.to_string(),
        form: form_out(pair.form),
        starts_on: pair.starts_on.to_string(),
        ends_on: pair.ends_on.map(|d| d.to_string()).unwrap_or_default(),
        state: state_out(pair.state),
        outcome: pair.outcome.as_ref().map(|o| pb::MentoringOutcome {
            result: result_out(o.result),
            profile: o.profile.clone().unwrap_or_default(),
            ..Default::default()
        }),
        assessments: pair.assessments,
        organization_ids: pair.organizations.iter().map(ToString::to_string).collect(),
        headcount: pair.mentees,
        home_node: origin.to_owned(),
        ..Default::default()
    }
}

/// What a pupil or a cohort must not carry: a name, a position, a person.
fn no_person(path: &str, raw: &pb::MentoringParticipant) -> Result<(), FieldError> {
    for (name, value) in [
        ("name", &raw.name),
        ("position", &raw.position),
        ("person_id", &raw.person_id),
    ] {
        if !value.trim().is_empty() {
            return Err(FieldError::new(
                format!("{path}.{name}"),
                "must be empty: a child is never named, only counted or given a code by their school",
            ));
        }
    }
    Ok(())
}

fn adult(path: &str, raw: &pb::MentoringParticipant, orgs: &Orgs) -> Result<Adult, FieldError> {
    Ok(Adult {
        name: raw.name.clone(),
        position: raw.position.clone(),
        org_id: org(orgs, &format!("{path}.organization"), &raw.organization)?,
        person_id: if raw.person_id.trim().is_empty() {
            None
        } else {
            Some(PersonId::parse(
                &format!("{path}.person_id"),
                &raw.person_id,
            )?)
        },
    })
}

fn pupil(path: &str, raw: &pb::MentoringParticipant, orgs: &Orgs) -> Result<Pupil, FieldError> {
    no_person(path, raw)?;
    Ok(Pupil {
        org_id: org(orgs, &format!("{path}.organization"), &raw.organization)?,
        code: raw.code.clone(),
    })
}

fn kind(
    path: &str,
    raw: &pb::MentoringParticipant,
) -> Result<pb::MentoringParticipantKind, FieldError> {
    let field = format!("{path}.kind");
    match pb::MentoringParticipantKind::try_from(raw.kind) {
        Ok(pb::MentoringParticipantKind::Unspecified) => Err(FieldError::new(field, "is required")),
        Ok(kind) => Ok(kind),
        Err(_) => Err(FieldError::new(
            field,
            format!("unknown value {}", raw.kind),
        )),
    }
}

/// An AddPair request as the domain's new pair.
pub(crate) fn new_pair(req: &pb::AddPairRequest, orgs: &Orgs) -> Result<NewPair, FieldError> {
    let raw = req
        .mentor
        .as_ref()
        .ok_or_else(|| FieldError::new("mentor", "is required"))?;
    let mentor = match kind("mentor", raw)? {
        pb::MentoringParticipantKind::Pupil => Mentor::Pupil(pupil("mentor", raw, orgs)?),
        pb::MentoringParticipantKind::Cohort => {
            return Err(FieldError::new(
                "mentor.kind",
                "a mentor is one person: an adult or a pupil",
            ));
        }
        _ => Mentor::Adult(adult("mentor", raw, orgs)?),
    };
    let mut mentees = Vec::with_capacity(req.mentees.len());
    for (i, raw) in req.mentees.iter().enumerate() {
        let path = format!("mentees[{i}]");
        mentees.push(match kind(&path, raw)? {
            pb::MentoringParticipantKind::Pupil => Mentee::Pupil(pupil(&path, raw, orgs)?),
            pb::MentoringParticipantKind::Cohort => {
                no_person(&path, raw)?;
                Mentee::Cohort {
                    org_id: org(orgs, &format!("{path}.organization"), &raw.organization)?,
                    grades: GradeRange::new(
                        &format!("{path}.min_grade"),
                        raw.min_grade,
                        raw.max_grade,
                    )?,
                    headcount: raw.headcount,
                }
            }
            _ => Mentee::Colleague(adult(&path, raw, orgs)?),
        });
    }
    Ok(NewPair {
        mentor,
        mentees,
        starts_on: date("starts_on", &req.starts_on)?,
        ends_on: optional_date("ends_on", &req.ends_on)?,
    })
}

fn adult_out(kind: pb::MentoringParticipantKind, adult: &Adult) -> pb::MentoringParticipant {
    pb::MentoringParticipant {
        kind: kind as i32,
        organization: adult.org_id.to_string(),
        name: adult.name.clone(),
        position: adult.position.clone(),
        person_id: adult
            .person_id
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_default(),
        ..Default::default()
    }
}

fn pupil_out(pupil: &Pupil) -> pb::MentoringParticipant {
    pb::MentoringParticipant {
        kind: pb::MentoringParticipantKind::Pupil as i32,
        organization: pupil.org_id.to_string(),
        code: pupil.code.clone(),
        ..Default::default()
    }
}

fn outcome_out(outcome: &Outcome) -> pb::MentoringOutcome {
    pb::MentoringOutcome {
        result: result_out(outcome.result),
        comment: outcome.comment.clone(),
        profile: outcome.profile.clone().unwrap_or_default(),
    }
}

pub(crate) fn pair_out(pair: &Pair) -> pb::MentoringPair {
    pb::MentoringPair {
        id: pair.id.to_string(),
        programme_id: pair.programme_id.to_string(),
        owner_id: pair.owner.to_string(),
        form: form_out(pair.form),
        mentor: Some(match &pair.mentor {
            Mentor::Adult(adult) => adult_out(pb::MentoringParticipantKind::Adult, adult),
            Mentor::Pupil(pupil) => pupil_out(pupil),
        }),
        mentees: pair
            .mentees
            .iter()
            .map(|mentee| match mentee {
                Mentee::Colleague(adult) => adult_out(pb::MentoringParticipantKind::Adult, adult),
                Mentee::Cohort {
                    org_id,
                    grades,
                    headcount,
                } => pb::MentoringParticipant {
                    kind: pb::MentoringParticipantKind::Cohort as i32,
                    organization: org_id.to_string(),
                    min_grade: u32::from(grades.min),
                    max_grade: u32::from(grades.max),
                    headcount: *headcount,
                    ..Default::default()
                },
                Mentee::Pupil(pupil) => pupil_out(pupil),
            })
            .collect(),
        starts_on: pair.starts_on.to_string(),
        ends_on: pair.ends_on.map(|d| d.to_string()).unwrap_or_default(),
        state: state_out(pair.state),
        reason: pair.reason.clone().unwrap_or_default(),
        outcome: pair.outcome.as_ref().map(outcome_out),
        assessments: pair.assessments,
        version: pair.version,
        organization_ids: pair
            .organizations()
            .iter()
            .map(ToString::to_string)
            .collect(),
        headcount: pair.mentees.iter().map(Mentee::headcount).sum(),
        home_node: String::new(),
    }
}

pub(crate) fn record_out(record: &PairRecord) -> pb::MentoringPairRecord {
    pb::MentoringPairRecord {
        pair: Some(pair_out(&record.pair)),
        assessments: record.assessments.iter().map(assessment_out).collect(),
    }
}

fn outcome_in(raw: &pb::MentoringOutcome) -> Result<Outcome, FieldError> {
    Ok(Outcome {
        result: required("outcome.result", result_in("outcome.result", raw.result)?)?,
        comment: raw.comment.clone(),
        profile: Some(raw.profile.clone()).filter(|p| !p.trim().is_empty()),
    })
}

/// A ClosePair request as the domain's close.
pub(crate) fn close(req: &pb::ClosePairRequest) -> Result<Close, FieldError> {
    let on = date("on", &req.on)?;
    match required("state", state_in("state", req.state)?)? {
        PairState::Completed => Ok(Close::Complete {
            on,
            outcome: outcome_in(
                req.outcome
                    .as_ref()
                    .ok_or_else(|| FieldError::new("outcome", "is required"))?,
            )?,
        }),
        PairState::EndedEarly => Ok(Close::EndEarly {
            on,
            reason: req.reason.clone(),
            outcome: req.outcome.as_ref().map(outcome_in).transpose()?,
        }),
        _ => Err(FieldError::new("state", "must be completed or ended_early")),
    }
}

/// An AssessPair request as the domain's new assessment.
pub(crate) fn new_assessment(req: &pb::AssessPairRequest) -> Result<NewAssessment, FieldError> {
    Ok(NewAssessment {
        checkpoint: req.checkpoint.clone(),
        on: date("on", &req.on)?,
        scores: req
            .scores
            .iter()
            .map(|s| Score {
                criterion: s.criterion.clone(),
                value: u8::try_from(s.value).unwrap_or(u8::MAX),
            })
            .collect(),
        comment: req.comment.clone(),
    })
}

pub(crate) fn assessment_out(assessment: &Assessment) -> pb::MentoringAssessment {
    pb::MentoringAssessment {
        id: assessment.id.to_string(),
        pair_id: assessment.pair_id.to_string(),
        checkpoint: assessment.checkpoint.clone(),
        on: assessment.on.to_string(),
        scores: assessment
            .scores
            .iter()
            .map(|s| pb::MentoringScore {
                criterion: s.criterion.clone(),
                value: u32::from(s.value),
            })
            .collect(),
        comment: assessment.comment.clone(),
        by_person_id: assessment.by.to_string(),
        created_at: Some(timestamp(assessment.created_at)),
    }
}

/// Teacher figures from the wire, for `org`.
pub(crate) fn teacher_figures_in(
    org: edufed_domain::ids::OrgId,
    raw: &pb::TeacherFigures,
) -> Result<TeacherFigures, FieldError> {
    Ok(TeacherFigures {
        org_id: org,
        school_year: SchoolYear::parse("school_year", &raw.school_year)?,
        teachers: raw.teachers,
        young_teachers: raw.young_teachers,
        courses: raw.courses,
        course_hours: raw.course_hours,
        internships: raw.internships,
        seminars: raw.seminars,
        association_members: raw.association_members,
        growth_system: raw.growth_system,
        updated_at: chrono::DateTime::<chrono::Utc>::UNIX_EPOCH,
    })
}

pub(crate) fn teacher_figures_out(f: &TeacherFigures) -> pb::TeacherFigures {
    pb::TeacherFigures {
        organization: f.org_id.to_string(),
        school_year: f.school_year.to_string(),
        teachers: f.teachers,
        young_teachers: f.young_teachers,
        courses: f.courses,
        course_hours: f.course_hours,
        internships: f.internships,
        seminars: f.seminars,
        association_members: f.association_members,
        growth_system: f.growth_system,
        updated_at: Some(timestamp(f.updated_at)),
    }
}
