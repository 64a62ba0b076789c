//! `/agreements/new`: a draft from the form or from a JSON file (the
//! `AgreementContent` that `edufed agreement draft --file` reads);
//! `/agreements/{id}/edit`: the draft changed, and proposed;
//! `/agreements/{id}/amend`: new content for an agreement in force.

use std::sync::OnceLock;

use askama::Template;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::Response;
use edufed_domain::policy::Action;
use edufed_i18n::ru;
use edufed_proto::v1 as pb;
use prost_reflect::{DescriptorPool, DynamicMessage};

use super::form::{Block, Builder, Sent, Values, content, values_of};
use super::{Orgs, effective};
use crate::errors::{Problem, russian};
use crate::page::{Layout, Section, failure, render_with, see_other, t};
use crate::view::Choice;
use crate::visitor::{Posted, Visitor};

/// What the form does.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    New,
    Edit,
    Amend,
}

#[derive(Template)]
#[template(path = "agreement_form.html")]
struct FormPage {
    layout: Layout,
    heading: String,
    action: String,
    new: bool,
    /// The organizations the visitor may act for (the initiator of a
    /// draft, the party proposing an amendment).
    acting: Vec<Choice>,
    acting_label: String,
    acting_error: String,
    revision: u64,
    blocks: Vec<Block>,
    general: String,
    can_propose: bool,
    back: String,
    json: String,
    json_error: String,
}

/// The form as it is shown.
struct Shown<'a> {
    mode: Mode,
    id: &'a str,
    values: Values,
    sent: Sent,
    revision: u64,
    problem: Option<Problem>,
    json: String,
    json_error: String,
}

impl<'a> Shown<'a> {
    fn new(mode: Mode, id: &'a str, values: Values) -> Self {
        Self {
            mode,
            id,
            values,
            sent: Sent::all(),
            revision: 0,
            problem: None,
            json: String::new(),
            json_error: String::new(),
        }
    }
}

async fn form_page(visitor: &Visitor, shown: Shown<'_>) -> Response {
    let orgs = match Orgs::load(visitor.api()).await {
        Ok(orgs) => orgs,
        Err(status) => return failure(&status),
    };
    let acting_field = if shown.mode == Mode::Amend {
        "org"
    } else {
        "initiator"
    };
    let chosen = shown.values.get(acting_field).cloned().unwrap_or_default();
    let mut seen = std::collections::BTreeSet::new();
    let acting: Vec<Choice> = visitor
        .memberships_for(Action::ManageAgreements)
        .into_iter()
        .filter(|m| seen.insert(m.organization_id.clone()))
        .map(|m| Choice {
            value: m.organization_id.clone(),
            label: orgs.short(&m.organization_id),
            selected: m.organization_id == chosen || m.organization_slug == chosen,
        })
        .collect();
    let acting_error = shown
        .problem
        .as_ref()
        .and_then(|p| p.about(acting_field))
        .unwrap_or_default()
        .to_owned();
    // A refusal of the JSON is shown beside it; of the form, beside its field.
    let form_problem = shown
        .problem
        .as_ref()
        .filter(|_| shown.json_error.is_empty() && acting_error.is_empty());
    let builder = Builder::new(&shown.values, &orgs, &shown.sent, form_problem);
    let (blocks, general) = builder.blocks();
    let (heading, action, back) = match shown.mode {
        Mode::New => (
            t("agreement-new-title"),
            "/agreements/new".to_owned(),
            "/agreements".to_owned(),
        ),
        Mode::Edit => (
            t("agreement-edit-title"),
            format!("/agreements/{}/edit", shown.id),
            format!("/agreements/{}", shown.id),
        ),
        Mode::Amend => (
            t("agreement-amend-title"),
            format!("/agreements/{}/amend", shown.id),
            format!("/agreements/{}", shown.id),
        ),
    };
    let layout = Layout::new(visitor, Section::Agreements, heading.clone());
    let code = if shown.problem.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render_with(
        code,
        &FormPage {
            layout,
            heading,
            action,
            new: shown.mode == Mode::New,
            acting_label: t(if shown.mode == Mode::Amend {
                "agreement-form-amending-party"
            } else {
                "agreement-initiator"
            }),
            acting: if shown.mode == Mode::Edit {
                Vec::new()
            } else {
                acting
            },
            acting_error,
            revision: shown.revision,
            blocks,
            general,
            can_propose: shown.mode != Mode::Amend,
            back,
            json: shown.json,
            json_error: shown.json_error,
        },
    )
}

/// `GET /agreements/new`: the form, the visitor's organization as the
/// base organization of a network-form agreement.
pub(crate) async fn blank(visitor: Visitor) -> Response {
    if !visitor.may_somewhere(Action::ManageAgreements) {
        return super::turned_away(StatusCode::FORBIDDEN, t("agreement-may-not-draft"));
    }
    let mut values = Values::new();
    values.insert(
        "kind".into(),
        (pb::AgreementKind::NetworkForm as i32).to_string(),
    );
    if let Some(m) = visitor.memberships_for(Action::ManageAgreements).first() {
        values.insert("parties[0].org".into(), m.organization_id.clone());
        values.insert(
            "parties[0].role".into(),
            (pb::PartyRole::Base as i32).to_string(),
        );
        values.insert(
            "parties[1].role".into(),
            (pb::PartyRole::Participant as i32).to_string(),
        );
    }
    form_page(&visitor, Shown::new(Mode::New, "", values)).await
}

/// Proposes the draft `id` at `revision` if the form asked for it; the
/// draft again, with what is missing beside its field, if refused.
async fn then_propose(visitor: &Visitor, values: &Values, id: &str, revision: u64) -> Response {
    if values.get("then").map(String::as_str) != Some("propose") {
        return see_other(&format!("/agreements/{id}?done=drafted"));
    }
    let request = pb::ProposeAgreementRequest {
        agreement_id: id.to_owned(),
        expected_revision: revision,
    };
    match visitor.api().agreements().propose_agreement(request).await {
        Ok(_) => see_other(&format!("/agreements/{id}?done=proposed")),
        Err(status) => edit_refused(visitor, id, &status).await,
    }
}

/// `POST /agreements/new`: the draft from the form.
pub(crate) async fn draft(posted: Posted<Values>) -> Response {
    let Posted { visitor, form } = posted;
    let (content, sent) = content(&form);
    let request = pb::DraftAgreementRequest {
        initiator: form.get("initiator").cloned().unwrap_or_default(),
        content: Some(content),
    };
    match visitor.api().agreements().draft_agreement(request).await {
        Ok(a) => {
            let a = a.into_inner();
            then_propose(&visitor, &form, &a.id, a.revision).await
        }
        Err(status) => {
            let mut shown = Shown::new(Mode::New, "", form);
            shown.sent = sent;
            shown.problem = Some(russian(&status));
            form_page(&visitor, shown).await
        }
    }
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct JsonForm {
    #[serde(default)]
    initiator: String,
    #[serde(default)]
    json: String,
}

/// An `AgreementContent` in protobuf JSON, as `edufed agreement draft
/// --file` reads it: field names as in the .proto file or in camelCase,
/// enum values by name, unknown fields refused.
fn parse_content(text: &str) -> Result<pb::AgreementContent, String> {
    static POOL: OnceLock<Option<DescriptorPool>> = OnceLock::new();
    let descriptor = POOL
        .get_or_init(|| DescriptorPool::decode(edufed_proto::FILE_DESCRIPTOR_SET).ok())
        .as_ref()
        .and_then(|pool| pool.get_message_by_name("edufed.v1.AgreementContent"))
        .ok_or_else(|| "the descriptor set has no edufed.v1.AgreementContent".to_owned())?;
    let mut json = serde_json::Deserializer::from_str(text);
    let message = DynamicMessage::deserialize(descriptor, &mut json).map_err(|e| e.to_string())?;
    json.end().map_err(|e| e.to_string())?;
    message
        .transcode_to::<pb::AgreementContent>()
        .map_err(|e| e.to_string())
}

/// `POST /agreements/new/json`: the draft from a JSON file's content.
pub(crate) async fn draft_json(posted: Posted<JsonForm>) -> Response {
    let Posted { visitor, form } = posted;
    let mut values = Values::new();
    values.insert("initiator".into(), form.initiator.clone());
    let refused = |json_error: String, problem: Option<Problem>| {
        let mut shown = Shown::new(Mode::New, "", values.clone());
        shown.json = form.json.clone();
        shown.json_error = json_error;
        shown.problem = problem;
        shown
    };
    let content = match parse_content(&form.json) {
        Ok(content) => content,
        Err(error) => {
            let message = ru().text_with(
                "agreement-json-unreadable",
                &[("error", error.as_str().into())],
            );
            let problem = Problem {
                field: Some("json".into()),
                message: message.clone(),
            };
            return form_page(&visitor, refused(message, Some(problem))).await;
        }
    };
    let request = pb::DraftAgreementRequest {
        initiator: form.initiator.trim().to_owned(),
        content: Some(content),
    };
    match visitor.api().agreements().draft_agreement(request).await {
        Ok(a) => see_other(&format!("/agreements/{}?done=drafted", a.into_inner().id)),
        Err(status) => {
            let problem = russian(&status);
            let beside = match &problem.field {
                Some(field) if field != "initiator" => format!("{field}: {}", problem.message),
                Some(_) => String::new(),
                None => problem.message.clone(),
            };
            form_page(&visitor, refused(beside, Some(problem))).await
        }
    }
}

async fn agreement(visitor: &Visitor, id: &str) -> Result<pb::Agreement, Response> {
    visitor
        .api()
        .agreements()
        .get_agreement(pb::GetAgreementRequest {
            agreement_id: id.to_owned(),
        })
        .await
        .map(tonic::Response::into_inner)
        .map_err(|status| failure(&status))
}

/// The draft's form for `a`, with `problem`.
async fn edit_page(visitor: &Visitor, a: &pb::Agreement, problem: Option<Problem>) -> Response {
    let latest = a
        .versions
        .last()
        .and_then(|v| v.content.clone())
        .unwrap_or_default();
    let mut shown = Shown::new(Mode::Edit, &a.id, values_of(&latest));
    shown.revision = a.revision;
    shown.problem = problem;
    form_page(visitor, shown).await
}

/// `GET /agreements/{id}/edit`.
pub(crate) async fn edit(visitor: Visitor, Path(id): Path<String>) -> Response {
    match agreement(&visitor, &id).await {
        Ok(a) => edit_page(&visitor, &a, None).await,
        Err(page) => page,
    }
}

/// The draft's form with the API's refusal `status` (of proposing it)
/// beside the field it names.
pub(crate) async fn edit_refused(visitor: &Visitor, id: &str, status: &tonic::Status) -> Response {
    match agreement(visitor, id).await {
        Ok(a) => edit_page(visitor, &a, Some(russian(status))).await,
        Err(page) => page,
    }
}

fn revision(values: &Values) -> u64 {
    values
        .get("revision")
        .and_then(|r| r.trim().parse().ok())
        .unwrap_or(0)
}

/// `POST /agreements/{id}/edit`: the draft's new content, then perhaps
/// its proposal.
pub(crate) async fn update(Path(id): Path<String>, posted: Posted<Values>) -> Response {
    let Posted { visitor, form } = posted;
    let (content, sent) = content(&form);
    let request = pb::UpdateAgreementRequest {
        agreement_id: id.clone(),
        content: Some(content),
        expected_revision: revision(&form),
    };
    match visitor.api().agreements().update_agreement(request).await {
        Ok(a) => then_propose(&visitor, &form, &id, a.into_inner().revision).await,
        Err(status) => {
            let mut shown = Shown::new(Mode::Edit, &id, form.clone());
            shown.sent = sent;
            shown.revision = revision(&form);
            shown.problem = Some(russian(&status));
            form_page(&visitor, shown).await
        }
    }
}

/// `GET /agreements/{id}/amend`: the form with the content in force.
pub(crate) async fn amend_form(visitor: Visitor, Path(id): Path<String>) -> Response {
    let a = match agreement(&visitor, &id).await {
        Ok(a) => a,
        Err(page) => return page,
    };
    let current = effective(&a)
        .and_then(|v| v.content.clone())
        .unwrap_or_default();
    let mut shown = Shown::new(Mode::Amend, &id, values_of(&current));
    shown.revision = a.revision;
    form_page(&visitor, shown).await
}

/// `POST /agreements/{id}/amend`.
pub(crate) async fn amend(Path(id): Path<String>, posted: Posted<Values>) -> Response {
    let Posted { visitor, form } = posted;
    let (content, sent) = content(&form);
    let request = pb::AmendAgreementRequest {
        agreement_id: id.clone(),
        org: form.get("org").cloned().unwrap_or_default(),
        content: Some(content),
        expected_revision: revision(&form),
    };
    match visitor.api().agreements().amend_agreement(request).await {
        Ok(_) => see_other(&format!("/agreements/{id}?done=amended")),
        Err(status) => {
            let mut shown = Shown::new(Mode::Amend, &id, form.clone());
            shown.sent = sent;
            shown.revision = revision(&form);
            shown.problem = Some(russian(&status));
            form_page(&visitor, shown).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_content_reads_as_the_cli_reads_it() {
        let c = parse_content(
            r#"{"kind": "AGREEMENT_KIND_NETWORK_FORM", "valid_from": "2026-09-01",
                "terminationNoticeDays": 30, "resources": [{"period": "PLEDGE_PERIOD_TERM"}]}"#,
        )
        .unwrap();
        assert_eq!(
            (c.kind, c.termination_notice_days, c.resources[0].period),
            (1, 30, 1)
        );
        let error = parse_content(r#"{"titel": "x"}"#).unwrap_err();
        assert!(error.contains("titel"), "{error}");
        assert!(parse_content("{} trailing").is_err());
    }
}
