//! `/mentoring`: the mentoring programmes the visitor's organizations take
//! part in, a programme with its closed register, and a pair with its
//! checkpoints and outcome.

mod growth;
mod list;
mod meetings;
mod pair;
mod programme;
mod teachers;

use axum::Router;
use axum::routing::{get, post};
use edufed_i18n::ru;
use edufed_proto::v1 as pb;

use crate::Console;
use crate::view::{Names, named};

pub(crate) fn routes() -> Router<Console> {
    Router::new()
        .route("/mentoring", get(list::show).post(list::create))
        .route(
            "/mentoring/teachers",
            get(teachers::show).post(teachers::state),
        )
        .route("/mentoring/growth", get(growth::show).post(growth::record))
        .route("/mentoring/growth/consent", post(growth::consent))
        .route("/mentoring/growth/delete", post(growth::delete))
        .route("/mentoring/{id}", get(programme::show))
        .route("/mentoring/{id}/pairs", post(programme::add_pair))
        .route("/mentoring/pairs/{id}", get(pair::show))
        .route("/mentoring/pairs/{id}/start", post(pair::start))
        .route("/mentoring/pairs/{id}/assess", post(pair::assess))
        .route("/mentoring/pairs/{id}/complete", post(pair::complete))
        .route("/mentoring/pairs/{id}/end", post(pair::end))
        .route(
            "/mentoring/pairs/{id}/meetings",
            post(meetings::schedule_meetings),
        )
}

/// A programme's form, named: its own label for another form.
fn form_name(details: &pb::MentoringProgrammeDetails) -> String {
    if details.form_label.is_empty() {
        named::<pb::MentoringForm>(details.form)
    } else {
        details.form_label.clone()
    }
}

/// A date as people read it («1 сентября 2025»), or the text as it came.
fn date(raw: &str) -> String {
    chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .map(|d| ru().date(d))
        .unwrap_or_else(|_| raw.to_owned())
}

/// A term «с … по …».
fn term(from: &str, to: &str) -> String {
    if to.is_empty() {
        ru().text_with("mentoring-since", &[("from", (&date(from)).into())])
    } else {
        ru().text_with(
            "mentoring-term",
            &[("from", (&date(from)).into()), ("to", (&date(to)).into())],
        )
    }
}

/// A mentor or a mentee as the register shows them.
fn who(p: &pb::MentoringParticipant, names: &Names) -> String {
    let org = names.name(&p.organization);
    match pb::MentoringParticipantKind::try_from(p.kind) {
        Ok(pb::MentoringParticipantKind::Cohort) => format!(
            "{}, {}, {org}",
            ru().count("pupils", p.headcount.into()),
            ru().grades(p.min_grade, p.max_grade)
        ),
        Ok(pb::MentoringParticipantKind::Pupil) => ru().text_with(
            "mentoring-pupil-code",
            &[("code", (&p.code).into()), ("org", (&org).into())],
        ),
        _ => format!("{}, {}, {org}", p.name, p.position),
    }
}

/// A pair's state's class, for its colour.
fn state_class(state: i32) -> &'static str {
    match pb::PairState::try_from(state) {
        Ok(pb::PairState::Active) => "ok",
        Ok(pb::PairState::Planned) => "waiting",
        Ok(pb::PairState::Completed) => "done",
        _ => "gone",
    }
}
