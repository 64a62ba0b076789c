//! `/trials`: the bank as the visitor sees it (approved trials here and
//! on peers; their own organizations' in any state; for reviewers, those
//! waiting), found by grade, direction and words; and a new programme for
//! those who prepare their organization's trials.

use askama::Template;
use axum::extract::Query;
use axum::http::StatusCode;
use axum::response::Response;
use edufed_domain::policy::Action;
use edufed_i18n::ru;
use edufed_proto::v1 as pb;

use super::{PROGRAMME_FIELDS, ProgrammeForm, state_class};
use crate::errors::{Problem, above, beside, russian};
use crate::page::{Layout, Section, failure, render_with, see_other, t};
use crate::view::{Choice, Names, choices, named, organizations};
use crate::visitor::{Posted, Visitor};

#[derive(Debug, Default, Clone, serde::Deserialize)]
pub(crate) struct Filters {
    #[serde(default)]
    grade: String,
    #[serde(default)]
    direction: String,
    #[serde(default)]
    q: String,
}

pub(crate) struct Row {
    pub(crate) id: String,
    pub(crate) profession: String,
    pub(crate) host: String,
    pub(crate) grades: String,
    pub(crate) hours: u32,
    pub(crate) weeks: u32,
    pub(crate) workplaces: u32,
    pub(crate) state: String,
    pub(crate) class: &'static str,
    pub(crate) listed: bool,
    pub(crate) elsewhere: bool,
}

#[derive(Template)]
#[template(path = "trials.html")]
struct TrialsPage {
    layout: Layout,
    rows: Vec<Row>,
    filters: Filters,
    grades: Vec<Choice>,
    directions: Vec<Choice>,
    hosts: Vec<Choice>,
    programme: ProgrammeForm,
    programme_directions: Vec<Choice>,
    problem: Option<Problem>,
}

impl TrialsPage {
    fn error(&self, field: &str) -> String {
        beside(self.problem.as_ref(), field)
    }

    fn general_error(&self) -> String {
        above(self.problem.as_ref(), &PROGRAMME_FIELDS)
    }
}

/// A trial as the bank's table shows it.
pub(crate) fn row(trial: &pb::Trial, names: &Names) -> Row {
    let p = trial.programme.clone().unwrap_or_default();
    let g = p.grades.unwrap_or_default();
    Row {
        id: trial.id.clone(),
        profession: p.profession,
        host: names.name(&trial.host_id),
        grades: ru().grades(g.min, g.max),
        hours: p.hours,
        weeks: p.weeks,
        workplaces: p.workplaces,
        state: named::<pb::TrialState>(trial.state),
        class: state_class(trial.state),
        listed: trial.state == pb::TrialState::Approved as i32,
        elsewhere: !trial.home_node.is_empty(),
    }
}

/// `GET /trials`.
pub(crate) async fn show(visitor: Visitor, Query(filters): Query<Filters>) -> Response {
    if !visitor.signed_in() {
        return see_other("/calendar");
    }
    page(&visitor, filters, ProgrammeForm::default(), None).await
}

async fn page(
    visitor: &Visitor,
    filters: Filters,
    programme: ProgrammeForm,
    problem: Option<Problem>,
) -> Response {
    let api = visitor.api();
    let grade: u32 = filters.grade.trim().parse().unwrap_or(0);
    let direction: i32 = filters.direction.trim().parse().unwrap_or(0);
    let listed = match api
        .trials()
        .list_trials(pb::ListTrialsRequest {
            host: String::new(),
            direction,
            grade,
            state: 0,
            query: filters.q.clone(),
        })
        .await
    {
        Ok(listed) => listed.into_inner().trials,
        Err(status) => return failure(&status),
    };
    let names = match organizations(api).await {
        Ok(orgs) => Names::of(&orgs),
        Err(status) => return failure(&status),
    };
    let mut rows: Vec<Row> = listed.iter().map(|t| row(t, &names)).collect();
    // The bank first, then what is being prepared or reviewed.
    rows.sort_by_key(|r| !r.listed);
    let hosts: Vec<Choice> = visitor
        .memberships_for(Action::ManageTrials)
        .iter()
        .map(|m| Choice {
            value: m.organization_id.clone(),
            label: names.name(&m.organization_id),
            selected: m.organization_id == programme.host,
        })
        .collect();
    let grades = (1..=11)
        .map(|g| Choice {
            value: g.to_string(),
            label: g.to_string(),
            selected: g == grade,
        })
        .collect();
    let status = if problem.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render_with(
        status,
        &TrialsPage {
            layout: Layout::new(visitor, Section::Careers, t("trials-title")),
            rows,
            grades,
            directions: choices::<pb::Direction>(direction),
            programme_directions: choices::<pb::Direction>(
                programme.direction.parse().unwrap_or(0),
            ),
            filters,
            hosts,
            programme,
            problem,
        },
    )
}

/// `POST /trials`: a new draft.
pub(crate) async fn create(posted: Posted<ProgrammeForm>) -> Response {
    let Posted { visitor, form } = posted;
    let created = visitor
        .api()
        .trials()
        .create_trial(pb::CreateTrialRequest {
            host: form.host.clone(),
            programme: Some(form.proto()),
        })
        .await;
    match created {
        Ok(trial) => see_other(&format!("/trials/{}?done=created", trial.into_inner().id)),
        Err(status) => page(&visitor, Filters::default(), form, Some(russian(&status))).await,
    }
}
