//! `/mentoring`: the programmes, and a new one for those who run them.

use askama::Template;
use axum::http::StatusCode;
use axum::response::Response;
use edufed_domain::policy::Action;
use edufed_proto::v1 as pb;

use super::{form_name, term};
use crate::errors::{Problem, above, beside, russian};
use crate::page::{Layout, Section, failure, render_with, see_other, t};
use crate::view::{Choice, Names, choices, organizations};
use crate::visitor::{Posted, Visitor};

/// Rows of the monitoring card the form offers.
const CRITERIA: usize = 4;

struct Row {
    id: String,
    title: String,
    form: String,
    owner: String,
    partners: String,
    term: String,
    elsewhere: bool,
}

/// The new programme's form as posted.
#[derive(Debug, Default)]
pub(crate) struct NewProgramme {
    owner: String,
    title: String,
    form: String,
    form_label: String,
    /// The partners' ids, one field each.
    partners: Vec<String>,
    starts_on: String,
    ends_on: String,
    goals: String,
    coordinator: String,
    /// The card's rows: a title and a scale each.
    criteria: Vec<String>,
    scales: Vec<String>,
}

/// One row of the card in the form.
struct CriterionRow {
    n: usize,
    title: String,
    scale: String,
}

#[derive(Template)]
#[template(path = "mentoring.html")]
struct ListPage {
    layout: Layout,
    rows: Vec<Row>,
    runs: bool,
    owners: Vec<Choice>,
    partners: Vec<Choice>,
    forms: Vec<Choice>,
    coordinators: Vec<Choice>,
    criteria: Vec<CriterionRow>,
    form: NewProgramme,
    problem: Option<Problem>,
}

impl ListPage {
    fn error(&self, field: &str) -> String {
        beside(self.problem.as_ref(), field)
    }

    /// The problem's message when it names no field of the form.
    fn general_error(&self) -> String {
        const FIELDS: [&str; 9] = [
            "details.title",
            "details.form",
            "details.form_label",
            "details.partners",
            "details.starts_on",
            "details.ends_on",
            "details.goals",
            "details.coordinator_id",
            "details.criteria",
        ];
        above(self.problem.as_ref(), &FIELDS)
    }
}

/// The posted form, whose repeated fields (the partners, the card's rows)
/// come as pairs.
fn parse(pairs: Vec<(String, String)>) -> NewProgramme {
    let mut form = NewProgramme::default();
    for (key, value) in pairs {
        match key.as_str() {
            "owner" => form.owner = value,
            "title" => form.title = value,
            "form" => form.form = value,
            "form_label" => form.form_label = value,
            "partners" => form.partners.push(value),
            "starts_on" => form.starts_on = value,
            "ends_on" => form.ends_on = value,
            "goals" => form.goals = value,
            "coordinator" => form.coordinator = value,
            "criterion" => form.criteria.push(value),
            "scale" => form.scales.push(value),
            _ => {}
        }
    }
    form
}

/// `GET /mentoring`.
pub(crate) async fn show(visitor: Visitor) -> Response {
    if !visitor.signed_in() {
        return see_other("/calendar");
    }
    page(&visitor, NewProgramme::default(), None).await
}

async fn page(visitor: &Visitor, form: NewProgramme, problem: Option<Problem>) -> Response {
    let api = visitor.api();
    let listed = match api
        .mentoring()
        .list_programmes(pb::ListProgrammesRequest::default())
        .await
    {
        Ok(listed) => listed.into_inner().programmes,
        Err(status) => return failure(&status),
    };
    let orgs = match organizations(api).await {
        Ok(orgs) => orgs,
        Err(status) => return failure(&status),
    };
    let names = Names::of(&orgs);
    let rows = listed
        .iter()
        .map(|p| {
            let d = p.details.clone().unwrap_or_default();
            Row {
                id: p.id.clone(),
                form: form_name(&d),
                owner: names.name(&p.owner_id),
                partners: d
                    .partners
                    .iter()
                    .map(|o| names.name(o))
                    .collect::<Vec<_>>()
                    .join(", "),
                term: term(&d.starts_on, &d.ends_on),
                title: d.title,
                elsewhere: !p.home_node.is_empty(),
            }
        })
        .collect();
    let runs_in = visitor.memberships_for(Action::ManageMentoring);
    let owners: Vec<Choice> = runs_in
        .iter()
        .map(|m| Choice {
            value: m.organization_id.clone(),
            label: names.name(&m.organization_id),
            selected: m.organization_id == form.owner,
        })
        .collect();
    let partners = orgs
        .iter()
        .map(|o| Choice {
            value: o.id.clone(),
            label: names.name(&o.id),
            selected: form.partners.contains(&o.id),
        })
        .collect();
    let mut coordinators = Vec::new();
    for m in &runs_in {
        let Ok(members) = api
            .directory()
            .list_members(pb::ListMembersRequest {
                organization: m.organization_id.clone(),
                page_size: 500,
                page_token: String::new(),
            })
            .await
        else {
            continue;
        };
        for member in members.into_inner().members {
            let Some(person) = member.person else {
                continue;
            };
            if coordinators.iter().any(|c: &Choice| c.value == person.id) {
                continue;
            }
            let me = visitor
                .me
                .as_ref()
                .and_then(|me| me.person.as_ref())
                .is_some_and(|p| p.id == person.id);
            coordinators.push(Choice {
                selected: person.id == form.coordinator || (form.coordinator.is_empty() && me),
                label: format!(
                    "{} ({})",
                    person.display_name,
                    names.name(&m.organization_id)
                ),
                value: person.id,
            });
        }
    }
    let criteria = (0..CRITERIA)
        .map(|n| CriterionRow {
            n,
            title: form.criteria.get(n).cloned().unwrap_or_default(),
            scale: form
                .scales
                .get(n)
                .cloned()
                .unwrap_or_else(|| "5".to_owned()),
        })
        .collect();
    let status = if problem.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render_with(
        status,
        &ListPage {
            layout: Layout::new(visitor, Section::Mentoring, t("mentoring-title")),
            rows,
            runs: !owners.is_empty(),
            owners,
            partners,
            forms: choices::<pb::MentoringForm>(form.form.parse().unwrap_or(0)),
            coordinators,
            criteria,
            form,
            problem,
        },
    )
}

/// `POST /mentoring`: a new programme.
pub(crate) async fn create(posted: Posted<Vec<(String, String)>>) -> Response {
    let Posted { visitor, form } = posted;
    let form = parse(form);
    let criteria = form
        .criteria
        .iter()
        .zip(form.scales.iter().chain(std::iter::repeat(&String::new())))
        .filter(|(title, _)| !title.trim().is_empty())
        .enumerate()
        .map(|(i, (title, scale))| pb::MentoringCriterion {
            key: format!("k{}", i + 1),
            title: title.trim().to_owned(),
            scale: scale.trim().parse().unwrap_or(0),
        })
        .collect();
    let created = visitor
        .api()
        .mentoring()
        .create_programme(pb::CreateProgrammeRequest {
            owner: form.owner.clone(),
            details: Some(pb::MentoringProgrammeDetails {
                title: form.title.clone(),
                form: form.form.trim().parse().unwrap_or(0),
                form_label: form.form_label.clone(),
                partners: form.partners.clone(),
                agreement_id: String::new(),
                starts_on: form.starts_on.clone(),
                ends_on: form.ends_on.clone(),
                goals: form.goals.clone(),
                coordinator_id: form.coordinator.clone(),
                criteria,
            }),
        })
        .await;
    match created {
        Ok(programme) => see_other(&format!("/mentoring/{}", programme.into_inner().id)),
        Err(status) => page(&visitor, form, Some(russian(&status))).await,
    }
}
