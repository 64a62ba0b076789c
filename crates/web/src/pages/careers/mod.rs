//! `/trials` and `/routes`: the network's bank of professional trials
//! (find, prepare, review), organizations' designations (on their pages),
//! and the schools' learning routes built from the network's offerings.

pub(crate) mod designations;
mod route;
mod routes;
mod template;
mod trial;
mod trials;

use axum::Router;
use axum::routing::{get, post};
use edufed_proto::v1 as pb;

use crate::Console;

pub(crate) fn routes() -> Router<Console> {
    Router::new()
        .route("/trials", get(trials::show).post(trials::create))
        .route("/trials/{id}", get(trial::show))
        .route("/trials/{id}/submit", post(trial::submit))
        .route("/trials/{id}/withdraw", post(trial::withdraw))
        .route("/trials/{id}/review", post(trial::review))
        .route("/trials/{id}/revise", post(trial::revise))
        .route("/routes", get(routes::show).post(routes::create))
        .route("/routes/templates/{id}", get(template::show))
        .route("/routes/templates/{id}/assign", post(template::assign))
        .route("/routes/templates/{id}/copy", post(template::copy))
        .route("/routes/{id}", get(route::show))
        .route("/routes/{id}/enrol", post(route::enrol))
        .route("/routes/{id}/follow", post(route::follow))
        .route("/routes/{id}/conclude", post(route::conclude))
        .route("/routes/{id}/cancel", post(route::cancel))
        .route(
            "/organizations/{slug}/designations",
            post(designations::add),
        )
        .route(
            "/organizations/{slug}/designations/{id}/remove",
            post(designations::remove),
        )
}

/// A trial's programme as a form holds it.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub(crate) struct ProgrammeForm {
    #[serde(default)]
    host: String,
    #[serde(default)]
    profession: String,
    #[serde(default)]
    direction: String,
    #[serde(default)]
    goals: String,
    #[serde(default)]
    content: String,
    #[serde(default)]
    hours: String,
    #[serde(default)]
    weeks: String,
    #[serde(default)]
    grade_min: String,
    #[serde(default)]
    grade_max: String,
    #[serde(default)]
    workplaces: String,
    #[serde(default)]
    responsible: String,
    #[serde(default)]
    position: String,
    #[serde(default)]
    contact: String,
    #[serde(default)]
    safety: String,
}

impl ProgrammeForm {
    /// The programme on the wire; an unreadable number is sent as 0, which
    /// the API refuses naming its field.
    fn proto(&self) -> pb::TrialProgramme {
        let n = |s: &str| s.trim().parse().unwrap_or(0);
        pb::TrialProgramme {
            profession: self.profession.clone(),
            direction: n(&self.direction) as i32,
            goals: self.goals.clone(),
            content: self.content.clone(),
            hours: n(&self.hours),
            weeks: n(&self.weeks),
            grades: Some(pb::GradeRange {
                min: n(&self.grade_min),
                max: n(&self.grade_max),
            }),
            workplaces: n(&self.workplaces),
            responsible: Some(pb::TrialResponsible {
                name: self.responsible.clone(),
                position: self.position.clone(),
                contact: self.contact.clone(),
            }),
            safety: self.safety.clone(),
        }
    }

    /// The form filled from a programme, to revise it.
    fn of(p: &pb::TrialProgramme) -> Self {
        let g = p.grades.unwrap_or_default();
        let r = p.responsible.clone().unwrap_or_default();
        Self {
            host: String::new(),
            profession: p.profession.clone(),
            direction: p.direction.to_string(),
            goals: p.goals.clone(),
            content: p.content.clone(),
            hours: p.hours.to_string(),
            weeks: p.weeks.to_string(),
            grade_min: g.min.to_string(),
            grade_max: g.max.to_string(),
            workplaces: p.workplaces.to_string(),
            responsible: r.name,
            position: r.position,
            contact: r.contact,
            safety: p.safety.clone(),
        }
    }
}

/// The fields of a programme's form, as the API names them.
const PROGRAMME_FIELDS: [&str; 11] = [
    "programme.profession",
    "programme.direction",
    "programme.goals",
    "programme.content",
    "programme.hours",
    "programme.weeks",
    "programme.grades",
    "programme.workplaces",
    "programme.responsible",
    "programme.safety",
    "host",
];

/// A trial's state's class, for its colour.
fn state_class(state: i32) -> &'static str {
    match pb::TrialState::try_from(state) {
        Ok(pb::TrialState::Approved) => "ok",
        Ok(pb::TrialState::Submitted | pb::TrialState::Returned | pb::TrialState::Draft) => {
            "waiting"
        }
        _ => "gone",
    }
}

/// "2026/27".
fn school_year(year: u32) -> String {
    format!("{year}/{:02}", (year + 1) % 100)
}
