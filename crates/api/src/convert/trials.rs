//! Professional trials between the wire and the domain.

use edufed_domain::FieldError;
use edufed_domain::calendar::GradeRange;
use edufed_domain::trials::{
    Responsible, Review, ReviewDecision, Trial, TrialProgramme, TrialState,
};
use edufed_proto::v1 as pb;

use super::calendar::{direction_in, direction_out};
use super::{enum_map, required, timestamp};

enum_map!(
    state_in,
    state_out,
    pb::TrialState,
    "TRIAL_STATE_",
    TrialState
);
enum_map!(
    decision_in,
    decision_out,
    pb::ReviewDecision,
    "REVIEW_DECISION_",
    ReviewDecision
);

/// The programme a request carries in `programme`; fields are named from
/// the request's root (`programme.hours`).
pub(crate) fn programme_in(raw: Option<&pb::TrialProgramme>) -> Result<TrialProgramme, FieldError> {
    let raw = raw.ok_or_else(|| FieldError::new("programme", "is required"))?;
    programme_of(raw).map_err(|e| e.within("programme"))
}

fn programme_of(raw: &pb::TrialProgramme) -> Result<TrialProgramme, FieldError> {
    let grades = raw
        .grades
        .as_ref()
        .ok_or_else(|| FieldError::new("grades", "is required"))?;
    let responsible = raw
        .responsible
        .as_ref()
        .ok_or_else(|| FieldError::new("responsible.name", "is required"))?;
    TrialProgramme {
        profession: raw.profession.clone(),
        direction: direction_in("direction", raw.direction)?,
        goals: raw.goals.clone(),
        content: raw.content.clone(),
        hours: raw.hours,
        weeks: raw.weeks,
        grades: GradeRange::new("grades", grades.min, grades.max)?,
        workplaces: raw.workplaces,
        responsible: Responsible {
            name: responsible.name.clone(),
            position: Some(responsible.position.clone()),
            contact: Some(responsible.contact.clone()),
        },
        safety: raw.safety.clone(),
    }
    .validate()
}

/// A reviewer's decision from `decision`, required.
pub(crate) fn decision(raw: i32) -> Result<ReviewDecision, FieldError> {
    required("decision", decision_in("decision", raw)?)
}

/// A state to filter by, if any.
pub(crate) fn state_filter(raw: i32) -> Result<Option<TrialState>, FieldError> {
    state_in("state", raw)
}

fn review_out(r: &Review) -> pb::TrialReview {
    pb::TrialReview {
        revision: r.revision,
        decision: decision_out(r.decision),
        comment: r.comment.clone(),
        by_person_id: r.by.to_string(),
        at: Some(timestamp(r.at)),
    }
}

/// A trial on the wire; `home` names the node that keeps it, if another.
pub(crate) fn trial_out(trial: &Trial, home: Option<&str>) -> pb::Trial {
    let p = &trial.programme;
    pb::Trial {
        id: trial.id.to_string(),
        host_id: trial.host.to_string(),
        programme: Some(pb::TrialProgramme {
            profession: p.profession.clone(),
            direction: p.direction.map_or(0, direction_out),
            goals: p.goals.clone(),
            content: p.content.clone(),
            hours: p.hours,
            weeks: p.weeks,
            grades: Some(pb::GradeRange {
                min: u32::from(p.grades.min),
                max: u32::from(p.grades.max),
            }),
            workplaces: p.workplaces,
            responsible: Some(pb::TrialResponsible {
                name: p.responsible.name.clone(),
                position: p.responsible.position.clone().unwrap_or_default(),
                contact: p.responsible.contact.clone().unwrap_or_default(),
            }),
            safety: p.safety.clone(),
        }),
        state: state_out(trial.state),
        revision: trial.revision,
        reviews: trial.reviews.iter().map(review_out).collect(),
        version: trial.version,
        created_at: Some(timestamp(trial.created_at)),
        updated_at: Some(timestamp(trial.updated_at)),
        home_node: home.unwrap_or_default().to_owned(),
    }
}
