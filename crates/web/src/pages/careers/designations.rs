//! An organization's designations on its page (`/organizations/{slug}`):
//! resource centre, base site, innovation site with their documents;
//! its admins add and remove them.

use axum::extract::Path;
use axum::response::Response;
use edufed_domain::policy::Action;
use edufed_i18n::ru;
use edufed_proto::v1 as pb;

use crate::errors::{Problem, beside, russian};
use crate::page::{see_other, t};
use crate::view::{Choice, choices, named};
use crate::visitor::{Posted, Visitor};

/// A new designation as the form holds it.
#[derive(Debug, Default, Clone, serde::Deserialize)]
pub(crate) struct DesignationForm {
    #[serde(default)]
    pub(crate) kind: String,
    #[serde(default)]
    pub(crate) field: String,
    #[serde(default)]
    pub(crate) level: String,
    #[serde(default)]
    pub(crate) issuer: String,
    #[serde(default)]
    pub(crate) number: String,
    #[serde(default)]
    pub(crate) document_date: String,
    #[serde(default)]
    pub(crate) valid_from: String,
    #[serde(default)]
    pub(crate) valid_until: String,
    #[serde(default)]
    pub(crate) teachers: String,
    #[serde(default)]
    pub(crate) pupils: String,
}

pub(crate) struct Row {
    pub(crate) id: String,
    pub(crate) kind: String,
    pub(crate) field: String,
    pub(crate) level: String,
    pub(crate) document: String,
    pub(crate) term: String,
    pub(crate) counts: String,
}

/// The section of the organization's page.
pub(crate) struct Block {
    pub(crate) rows: Vec<Row>,
    /// The visitor may add and remove them (the organization's admins).
    pub(crate) manages: bool,
    pub(crate) kinds: Vec<Choice>,
    pub(crate) levels: Vec<Choice>,
    pub(crate) form: DesignationForm,
    pub(crate) problem: Option<Problem>,
}

impl Block {
    pub(crate) fn error(&self, field: &str) -> String {
        beside(self.problem.as_ref(), field)
    }

    /// A problem that names no field of the form.
    pub(crate) fn general_error(&self) -> String {
        match &self.problem {
            Some(p)
                if p.field
                    .as_deref()
                    .is_none_or(|f| !f.starts_with("details.")) =>
            {
                p.message.clone()
            }
            _ => String::new(),
        }
    }
}

fn day(raw: &str) -> String {
    chrono::NaiveDate::parse_from_str(raw, "%Y-%m-%d")
        .map(|d| ru().date(d))
        .unwrap_or_default()
}

/// A designation as the page lists it.
pub(crate) fn row(d: &pb::Designation) -> Row {
    let x = d.details.clone().unwrap_or_default();
    let document = x
        .document
        .map(|doc| {
            [doc.issuer, doc.number, day(&doc.date)]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(", ")
        })
        .unwrap_or_default();
    let term = match (x.valid_from.is_empty(), x.valid_until.is_empty()) {
        (true, true) => String::new(),
        _ => format!("{} — {}", day(&x.valid_from), day(&x.valid_until)),
    };
    let counts = [
        x.teachers
            .map(|n| format!("{}: {n}", t("designations-teachers"))),
        x.pupils
            .map(|n| format!("{}: {n}", t("designations-pupils"))),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(", ");
    Row {
        id: d.id.clone(),
        kind: named::<pb::DesignationKind>(x.kind),
        field: x.field,
        level: named::<pb::DesignationLevel>(x.level),
        document,
        term,
        counts,
    }
}

/// The section for `org`, with a refused form when there is one.
pub(crate) async fn block(
    visitor: &Visitor,
    org: &pb::Organization,
    refused: Option<(DesignationForm, Problem)>,
) -> Result<Block, tonic::Status> {
    let listed = visitor
        .api()
        .designations()
        .list_designations(pb::ListDesignationsRequest {
            organization: org.id.clone(),
            ..Default::default()
        })
        .await?
        .into_inner()
        .designations;
    let (form, problem) = match refused {
        Some((form, problem)) => (form, Some(problem)),
        None => (DesignationForm::default(), None),
    };
    Ok(Block {
        rows: listed.iter().map(row).collect(),
        manages: org.home_node.is_empty() && visitor.may(Action::ManageDesignations, &org.id),
        kinds: choices::<pb::DesignationKind>(form.kind.parse().unwrap_or(0)),
        levels: choices::<pb::DesignationLevel>(form.level.parse().unwrap_or(0)),
        form,
        problem,
    })
}

fn details(form: &DesignationForm) -> pb::DesignationDetails {
    let count = |s: &str| s.trim().parse::<u32>().ok();
    let document = !(form.issuer.trim().is_empty()
        && form.number.trim().is_empty()
        && form.document_date.trim().is_empty());
    pb::DesignationDetails {
        kind: form.kind.trim().parse().unwrap_or(0),
        field: form.field.clone(),
        level: form.level.trim().parse().unwrap_or(0),
        document: document.then(|| pb::DesignationDocument {
            issuer: form.issuer.clone(),
            number: form.number.clone(),
            date: form.document_date.clone(),
        }),
        valid_from: form.valid_from.clone(),
        valid_until: form.valid_until.clone(),
        teachers: count(&form.teachers),
        pupils: count(&form.pupils),
    }
}

/// `POST /organizations/{slug}/designations`.
pub(crate) async fn add(Path(slug): Path<String>, posted: Posted<DesignationForm>) -> Response {
    let Posted { visitor, form } = posted;
    let added = visitor
        .api()
        .designations()
        .add_designation(pb::AddDesignationRequest {
            organization: slug.clone(),
            details: Some(details(&form)),
        })
        .await;
    match added {
        Ok(_) => see_other(&format!(
            "/organizations/{slug}?done=designated#designations"
        )),
        Err(status) => {
            crate::pages::node::members::refused_designation(
                &visitor,
                &slug,
                form,
                russian(&status),
            )
            .await
        }
    }
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct Empty {}

/// `POST /organizations/{slug}/designations/{id}/remove`.
pub(crate) async fn remove(
    Path((slug, id)): Path<(String, String)>,
    posted: Posted<Empty>,
) -> Response {
    let visitor = posted.visitor;
    let removed = visitor
        .api()
        .designations()
        .remove_designation(pb::RemoveDesignationRequest {
            id,
            expected_version: 0,
        })
        .await;
    match removed {
        Ok(_) => see_other(&format!(
            "/organizations/{slug}?done=undesignated#designations"
        )),
        Err(status) => {
            crate::pages::node::members::refused_designation(
                &visitor,
                &slug,
                DesignationForm::default(),
                russian(&status),
            )
            .await
        }
    }
}
