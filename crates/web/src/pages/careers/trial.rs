//! `/trials/{id}`: a trial's programme and reviews; its host's people
//! submit, revise and withdraw it, a reviewer approves, returns or refuses
//! it; its sessions are found in the calendar.

use askama::Template;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use edufed_domain::policy::Action;
use edufed_i18n::ru;
use edufed_proto::v1 as pb;

use super::{PROGRAMME_FIELDS, ProgrammeForm, state_class};
use crate::errors::{Problem, above, beside, russian};
use crate::page::{Layout, Section, failure, render_with, see_other, t, t_with};
use crate::view::{Choice, DEFAULT_ZONE, Names, choices, instant, named, organizations};
use crate::visitor::{Posted, Visitor};

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct Shown {
    #[serde(default)]
    done: String,
}

struct ReviewLine {
    revision: String,
    decision: String,
    comment: String,
    at: String,
}

#[derive(Template)]
#[template(path = "trial.html")]
struct TrialPage {
    layout: Layout,
    id: String,
    facts: Vec<(String, String)>,
    state: String,
    class: &'static str,
    reviews: Vec<ReviewLine>,
    sessions_href: String,
    submits: bool,
    withdraws: bool,
    revises: bool,
    reviews_it: bool,
    decisions: Vec<Choice>,
    programme: ProgrammeForm,
    programme_directions: Vec<Choice>,
    problem: Option<Problem>,
}

impl TrialPage {
    fn error(&self, field: &str) -> String {
        beside(self.problem.as_ref(), field)
    }

    fn general_error(&self) -> String {
        let mut fields = PROGRAMME_FIELDS.to_vec();
        fields.extend(["comment", "decision"]);
        above(self.problem.as_ref(), &fields)
    }
}

/// `GET /trials/{id}`.
pub(crate) async fn show(
    visitor: Visitor,
    Path(id): Path<String>,
    Query(shown): Query<Shown>,
) -> Response {
    if !visitor.signed_in() {
        return see_other("/calendar");
    }
    let notice = match shown.done.as_str() {
        "created" => Some(t("trials-created")),
        "submitted" => Some(t("trials-submitted")),
        "reviewed" => Some(t("trials-reviewed")),
        "withdrawn" => Some(t("trials-withdrawn")),
        "revised" => Some(t("trials-revised")),
        _ => None,
    };
    page(&visitor, &id, notice, None, None).await
}

async fn page(
    visitor: &Visitor,
    id: &str,
    notice: Option<String>,
    problem: Option<Problem>,
    form: Option<ProgrammeForm>,
) -> Response {
    let api = visitor.api();
    let trial = match api
        .trials()
        .get_trial(pb::GetTrialRequest { id: id.to_owned() })
        .await
    {
        Ok(found) => found.into_inner(),
        Err(status) => return failure(&status),
    };
    let orgs = match organizations(api).await {
        Ok(orgs) => orgs,
        Err(status) => return failure(&status),
    };
    let names = Names::of(&orgs);
    // Reviewers: the operator, and admins and coordinators of a
    // methodical centre hosted here (the API decides; the page offers).
    let reviewer = crate::pages::node::runs_the_node(visitor)
        || orgs.iter().any(|o| {
            o.kind == pb::OrganizationKind::MethodicalCentre as i32
                && o.home_node.is_empty()
                && visitor.may(Action::ReviewTrials, &o.id)
        });
    let p = trial.programme.clone().unwrap_or_default();
    let g = p.grades.unwrap_or_default();
    let r = p.responsible.clone().unwrap_or_default();
    let mut facts = vec![
        (t("trials-host"), names.name(&trial.host_id)),
        (t("trials-grades"), ru().grades(g.min, g.max)),
        (t("trials-hours"), p.hours.to_string()),
        (t("trials-weeks"), p.weeks.to_string()),
        (t("trials-workplaces"), p.workplaces.to_string()),
        (
            t("trials-responsible"),
            [r.name.as_str(), r.position.as_str(), r.contact.as_str()]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(", "),
        ),
    ];
    if p.direction != 0 {
        facts.insert(
            1,
            (t("trials-direction"), named::<pb::Direction>(p.direction)),
        );
    }
    for (key, text) in [
        ("trials-goals", &p.goals),
        ("trials-content", &p.content),
        ("trials-safety", &p.safety),
    ] {
        if !text.is_empty() {
            facts.push((t(key), text.clone()));
        }
    }
    let reviews = trial
        .reviews
        .iter()
        .map(|rv| ReviewLine {
            revision: t_with("trials-revision", "revision", &rv.revision.to_string()),
            decision: t(&format!(
                "trials-decided-{}",
                pb::ReviewDecision::try_from(rv.decision)
                    .map(|d| d
                        .as_str_name()
                        .trim_start_matches("REVIEW_DECISION_")
                        .to_lowercase())
                    .unwrap_or_default()
            )),
            comment: rv.comment.clone(),
            at: instant(rv.at.as_ref())
                .map(|at| ru().short_instant(at, visitor.zone.unwrap_or(DEFAULT_ZONE)))
                .unwrap_or_default(),
        })
        .collect();
    let state = pb::TrialState::try_from(trial.state).unwrap_or(pb::TrialState::Unspecified);
    let hosts = trial.home_node.is_empty() && visitor.may(Action::ManageTrials, &trial.host_id);
    let status = if problem.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render_with(
        status,
        &TrialPage {
            layout: Layout::new(visitor, Section::Careers, p.profession.clone())
                .with_notice(notice),
            id: trial.id.clone(),
            facts,
            state: named::<pb::TrialState>(trial.state),
            class: state_class(trial.state),
            reviews,
            sessions_href: format!(
                "/calendar?view=list&publisher={}&kind={}",
                trial.host_id,
                pb::ActivityKind::ProfessionalTrial as i32
            ),
            submits: hosts && matches!(state, pb::TrialState::Draft | pb::TrialState::Returned),
            withdraws: hosts
                && !matches!(state, pb::TrialState::Refused | pb::TrialState::Withdrawn),
            revises: hosts
                && matches!(
                    state,
                    pb::TrialState::Draft | pb::TrialState::Returned | pb::TrialState::Approved
                ),
            reviews_it: trial.home_node.is_empty()
                && state == pb::TrialState::Submitted
                && reviewer,
            decisions: choices::<pb::ReviewDecision>(0),
            programme_directions: choices::<pb::Direction>(p.direction),
            programme: form.unwrap_or_else(|| ProgrammeForm::of(&p)),
            problem,
        },
    )
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct Empty {}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct ReviewForm {
    #[serde(default)]
    decision: String,
    #[serde(default)]
    comment: String,
}

fn step(id: &str) -> pb::TrialStepRequest {
    pb::TrialStepRequest {
        id: id.to_owned(),
        expected_version: 0,
    }
}

async fn answered<T>(
    visitor: &Visitor,
    id: &str,
    done: &str,
    result: Result<T, tonic::Status>,
) -> Response {
    match result {
        Ok(_) => see_other(&format!("/trials/{id}?done={done}")),
        Err(status) => page(visitor, id, None, Some(russian(&status)), None).await,
    }
}

/// `POST /trials/{id}/submit`.
pub(crate) async fn submit(Path(id): Path<String>, posted: Posted<Empty>) -> Response {
    let visitor = posted.visitor;
    let result = visitor.api().trials().submit_trial(step(&id)).await;
    answered(&visitor, &id, "submitted", result).await
}

/// `POST /trials/{id}/withdraw`.
pub(crate) async fn withdraw(Path(id): Path<String>, posted: Posted<Empty>) -> Response {
    let visitor = posted.visitor;
    let result = visitor.api().trials().withdraw_trial(step(&id)).await;
    answered(&visitor, &id, "withdrawn", result).await
}

/// `POST /trials/{id}/review`.
pub(crate) async fn review(Path(id): Path<String>, posted: Posted<ReviewForm>) -> Response {
    let Posted { visitor, form } = posted;
    let result = visitor
        .api()
        .trials()
        .review_trial(pb::ReviewTrialRequest {
            id: id.clone(),
            expected_version: 0,
            decision: form.decision.trim().parse().unwrap_or(0),
            comment: form.comment,
        })
        .await;
    answered(&visitor, &id, "reviewed", result).await
}

/// `POST /trials/{id}/revise`.
pub(crate) async fn revise(Path(id): Path<String>, posted: Posted<ProgrammeForm>) -> Response {
    let Posted { visitor, form } = posted;
    let result = visitor
        .api()
        .trials()
        .revise_trial(pb::ReviseTrialRequest {
            id: id.clone(),
            expected_version: 0,
            programme: Some(form.proto()),
        })
        .await;
    match result {
        Ok(_) => see_other(&format!("/trials/{id}?done=revised")),
        Err(status) => page(&visitor, &id, None, Some(russian(&status)), Some(form)).await,
    }
}
