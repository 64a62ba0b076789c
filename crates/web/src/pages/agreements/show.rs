//! `/agreements/{id}`: one agreement, the version shown with its Article 15
//! sections, parties and signatures, every version, the history, and what
//! the visitor may do: sign or decline for a party, propose the draft,
//! amend or terminate it.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use edufed_domain::policy::Action;
use edufed_i18n::ru;
use edufed_proto::v1 as pb;

use super::document::{Document, Naming};
use super::{OrgOption, Orgs, expiring, expiry, in_force, shown_version, state_class, zone};
use crate::Console;
use crate::errors::{Problem, russian};
use crate::page::{Layout, Section, failure, render_with, see_other, t};
use crate::view::{DEFAULT_ZONE, instant, named};
use crate::visitor::{Posted, Visitor};

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct Shown {
    /// The version to show; the one that matters now when absent.
    #[serde(default)]
    version: Option<u32>,
    /// What was just done, for the notice.
    #[serde(default)]
    done: Option<String>,
}

struct VersionRow {
    number: u32,
    status: String,
    proposed_at: String,
    hash: String,
    signatures: String,
    declined: String,
    current: bool,
}

struct EventRow {
    at: String,
    action: String,
    version: u32,
    state: String,
    org: String,
    comment: String,
}

/// What the visitor last typed into one of the page's forms, kept when
/// the API refuses it.
#[derive(Default)]
pub(crate) struct Typed {
    comment: String,
    effective_on: String,
    /// The form the problem is about: sign, decline, propose, terminate.
    action: &'static str,
}

#[derive(Template)]
#[template(path = "agreement.html")]
struct AgreementPage {
    layout: Layout,
    id: String,
    doc: Document,
    state: String,
    state_class: &'static str,
    facts: Vec<(String, String)>,
    expiring: bool,
    shown_note: String,
    awaiting: String,
    versions: Vec<VersionRow>,
    history: Vec<EventRow>,
    sign_as: Vec<OrgOption>,
    sign_version: u32,
    sign_hash: String,
    can_edit: bool,
    can_propose: bool,
    revision: u64,
    amend: bool,
    terminate_as: Vec<OrgOption>,
    elsewhere: bool,
    problem: Option<Problem>,
    typed: Typed,
}

impl AgreementPage {
    /// The problem's message beside `field` of the `action` form.
    fn error(&self, action: &str, field: &str) -> String {
        match &self.problem {
            Some(p) if self.typed.action == action => p.about(field).unwrap_or_default().to_owned(),
            _ => String::new(),
        }
    }

    /// The problem's message for the `action` form when it names none of
    /// its fields.
    fn general(&self, action: &str) -> String {
        match &self.problem {
            Some(p)
                if self.typed.action == action
                    && ["comment", "effective_on"]
                        .iter()
                        .all(|f| p.about(f).is_none()) =>
            {
                p.message.clone()
            }
            _ => String::new(),
        }
    }

    /// Whether the visitor may do anything here.
    fn acts(&self) -> bool {
        !self.sign_as.is_empty()
            || self.can_edit
            || self.can_propose
            || self.amend
            || !self.terminate_as.is_empty()
    }
}

/// `GET /agreements/{id}`; `GET /agreements/{id}.html` is the printable
/// page, for a program's bearer token as for a signed-in person.
pub(crate) async fn show(
    State(console): State<Console>,
    headers: HeaderMap,
    visitor: Visitor,
    Path(id): Path<String>,
    Query(shown): Query<Shown>,
) -> Response {
    if let Some(id) = id.strip_suffix(".html") {
        return super::print::for_program(&console, &headers, visitor, id, shown.version).await;
    }
    let notice = shown
        .done
        .as_deref()
        .filter(|d| d.chars().all(|c| c.is_ascii_lowercase()))
        .map(|d| t(&format!("agreement-done-{d}")));
    page(&visitor, &id, shown.version, None, Typed::default(), notice).await
}

async fn page(
    visitor: &Visitor,
    id: &str,
    version: Option<u32>,
    problem: Option<Problem>,
    typed: Typed,
    notice: Option<String>,
) -> Response {
    let api = visitor.api();
    let a = match api
        .agreements()
        .get_agreement(pb::GetAgreementRequest {
            agreement_id: id.to_owned(),
        })
        .await
    {
        Ok(a) => a.into_inner(),
        Err(status) => return failure(&status),
    };
    let history = match api
        .agreements()
        .get_agreement_history(pb::GetAgreementHistoryRequest {
            agreement_id: id.to_owned(),
        })
        .await
    {
        Ok(h) => h.into_inner().events,
        Err(status) => return failure(&status),
    };
    let orgs = match Orgs::load(api).await {
        Ok(orgs) => orgs,
        Err(status) => return failure(&status),
    };
    let Some(shown) = shown_version(&a, version) else {
        return super::turned_away(
            StatusCode::NOT_FOUND,
            ru().text_with(
                "agreement-no-version",
                &[("version", version.unwrap_or(0).into())],
            ),
        );
    };
    let viewer = visitor.zone.unwrap_or(DEFAULT_ZONE);
    let zone = zone(&a, viewer);
    let when = |ts: Option<&prost_types::Timestamp>| {
        instant(ts)
            .map(|at| ru().instant(at, zone, Some(viewer)))
            .unwrap_or_default()
    };
    let doc = Document::of(&a, shown, &orgs, Naming::Short, zone, Some(viewer));
    let node = visitor.me.as_ref().map_or("", |me| me.node_id.as_str());
    let home = a.home_node.is_empty() || a.home_node == node;
    let left = expiry(&a, visitor.now);

    let mut facts = vec![
        (t("agreement-kind"), doc.kind.clone()),
        (t("agreement-initiator"), orgs.short(&a.initiator_id)),
        (t("agreement-term"), doc.term.clone()),
    ];
    if !doc.number.is_empty() {
        facts.insert(0, (t("agreement-number"), doc.number.clone()));
    }
    if let Some((_, words)) = &left {
        facts.push((t("agreements-ends"), words.clone()));
    }
    facts.push((t("agreement-zone"), ru().zone(zone, visitor.now)));

    let status = |n: u32| version_status(&a, n);
    let shown_note = ru().text_with(
        "agreement-shown-version",
        &[
            ("version", shown.number.into()),
            ("status", status(shown.number).as_str().into()),
        ],
    );
    let versions = a
        .versions
        .iter()
        .rev()
        .map(|v| VersionRow {
            number: v.number,
            status: status(v.number),
            proposed_at: when(v.proposed_at.as_ref()),
            hash: v.content_hash.chars().take(16).collect(),
            signatures: {
                let parties = v.content.as_ref().map_or(0, |c| c.parties.len());
                if v.content_hash.is_empty() {
                    String::new()
                } else {
                    ru().text_with(
                        "agreement-signed-of",
                        &[
                            ("signed", (v.signatures.len().min(999) as i64).into()),
                            ("parties", (parties.min(999) as i64).into()),
                        ],
                    )
                }
            },
            declined: v
                .declined
                .as_ref()
                .map(|d| format!("{}: {}", orgs.short(&d.org_id), d.comment))
                .unwrap_or_default(),
            current: v.number == shown.number,
        })
        .collect();
    let history = history
        .iter()
        .rev()
        .map(|e| EventRow {
            at: when(e.at.as_ref()),
            action: t(&format!("agreement-action-{}", e.action.replace('_', "-"))),
            version: e.version,
            state: named::<pb::AgreementState>(e.state),
            org: if e.org_id.is_empty() {
                t("agreement-by-node")
            } else {
                orgs.short(&e.org_id)
            },
            comment: e.comment.clone(),
        })
        .collect();

    let option = |org: &str| OrgOption {
        id: org.to_owned(),
        name: orgs.short(org),
    };
    let sign_as: Vec<OrgOption> = if a.awaiting_version == 0 {
        Vec::new()
    } else {
        a.awaiting_parties
            .iter()
            .filter(|org| visitor.may(Action::SignAgreements, org))
            .map(|org| option(org))
            .collect()
    };
    let sign_hash = a
        .versions
        .iter()
        .find(|v| v.number == a.awaiting_version)
        .map(|v| v.content_hash.clone())
        .unwrap_or_default();
    let state = pb::AgreementState::try_from(a.state).unwrap_or_default();
    let initiates = visitor.may(Action::ManageAgreements, &a.initiator_id);
    let parties: Vec<String> = super::effective(&a)
        .and_then(|v| v.content.as_ref())
        .map(|c| c.parties.iter().map(|p| p.org.clone()).collect())
        .unwrap_or_default();
    let steady = in_force(&a) && a.awaiting_version == 0 && home;
    let amend = steady
        && parties
            .iter()
            .any(|p| visitor.may(Action::ManageAgreements, p));
    let terminate_as = if steady {
        parties
            .iter()
            .filter(|p| visitor.may(Action::SignAgreements, p))
            .map(|p| option(p))
            .collect()
    } else {
        Vec::new()
    };
    let awaiting: Vec<String> = a.awaiting_parties.iter().map(|o| orgs.short(o)).collect();
    let layout = Layout::new(visitor, Section::Agreements, doc.title.clone()).with_notice(notice);
    let code = if problem.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    render_with(
        code,
        &AgreementPage {
            layout,
            id: a.id.clone(),
            state: named::<pb::AgreementState>(a.state),
            state_class: state_class(a.state),
            facts,
            expiring: left.is_some_and(|(d, _)| expiring(d)),
            shown_note,
            awaiting: awaiting.join(", "),
            versions,
            history,
            sign_as,
            sign_version: a.awaiting_version,
            sign_hash,
            can_edit: home
                && initiates
                && matches!(
                    state,
                    pb::AgreementState::Draft | pb::AgreementState::Declined
                ),
            can_propose: home && initiates && state == pb::AgreementState::Draft,
            revision: a.revision,
            amend,
            terminate_as,
            elsewhere: !home,
            problem,
            typed,
            doc,
        },
    )
}

/// Where version `n` stands, in words.
pub(super) fn version_status(a: &pb::Agreement, n: u32) -> String {
    let state = pb::AgreementState::try_from(a.state).unwrap_or_default();
    let ended = matches!(
        state,
        pb::AgreementState::Expired | pb::AgreementState::Terminated
    );
    let declined = a
        .versions
        .iter()
        .find(|v| v.number == n)
        .is_some_and(|v| v.declined.is_some());
    let key = if n == a.in_force_version && ended {
        "agreement-version-ended"
    } else if n == a.in_force_version {
        "agreement-version-in-force"
    } else if n == a.awaiting_version && a.in_force_version != 0 {
        "agreement-version-amendment"
    } else if n == a.awaiting_version {
        "agreement-version-awaiting"
    } else if declined {
        "agreement-version-declined"
    } else if n < a.in_force_version {
        "agreement-version-replaced"
    } else if state == pb::AgreementState::Draft && a.versions.last().is_some_and(|v| v.number == n)
    {
        "agreement-version-draft"
    } else {
        "agreement-version-not-in-force"
    };
    t(key)
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct BallotForm {
    #[serde(default)]
    org: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    content_hash: String,
    #[serde(default)]
    comment: String,
    #[serde(default)]
    revision: String,
    #[serde(default)]
    effective_on: String,
}

impl BallotForm {
    fn version(&self) -> u32 {
        self.version.trim().parse().unwrap_or(0)
    }
}

/// After a change: the agreement again, saying what was done.
fn done(id: &str, what: &str) -> Response {
    see_other(&format!("/agreements/{id}?done={what}"))
}

async fn refused(
    visitor: &Visitor,
    id: &str,
    status: &tonic::Status,
    action: &'static str,
    form: BallotForm,
) -> Response {
    let typed = Typed {
        comment: form.comment,
        effective_on: form.effective_on,
        action,
    };
    page(visitor, id, None, Some(russian(status)), typed, None).await
}

/// `POST /agreements/{id}/sign`.
pub(crate) async fn sign(Path(id): Path<String>, posted: Posted<BallotForm>) -> Response {
    let Posted { visitor, form } = posted;
    let request = pb::SignAgreementRequest {
        agreement_id: id.clone(),
        org: form.org.trim().to_owned(),
        version: form.version(),
        content_hash: form.content_hash.trim().to_owned(),
    };
    match visitor.api().agreements().sign_agreement(request).await {
        Ok(_) => done(&id, "signed"),
        Err(status) => refused(&visitor, &id, &status, "sign", form).await,
    }
}

/// `POST /agreements/{id}/decline`.
pub(crate) async fn decline(Path(id): Path<String>, posted: Posted<BallotForm>) -> Response {
    let Posted { visitor, form } = posted;
    let request = pb::DeclineAgreementRequest {
        agreement_id: id.clone(),
        org: form.org.trim().to_owned(),
        version: form.version(),
        comment: form.comment.trim().to_owned(),
    };
    match visitor.api().agreements().decline_agreement(request).await {
        Ok(_) => done(&id, "declined"),
        Err(status) => refused(&visitor, &id, &status, "decline", form).await,
    }
}

/// `POST /agreements/{id}/propose`.
pub(crate) async fn propose(Path(id): Path<String>, posted: Posted<BallotForm>) -> Response {
    let Posted { visitor, form } = posted;
    let request = pb::ProposeAgreementRequest {
        agreement_id: id.clone(),
        expected_revision: form.revision.trim().parse().unwrap_or(0),
    };
    match visitor.api().agreements().propose_agreement(request).await {
        Ok(_) => done(&id, "proposed"),
        // What is missing is shown beside its field in the draft's form.
        Err(status) if russian(&status).field.is_some() => {
            super::new::edit_refused(&visitor, &id, &status).await
        }
        Err(status) => refused(&visitor, &id, &status, "propose", form).await,
    }
}

/// `POST /agreements/{id}/terminate`.
pub(crate) async fn terminate(Path(id): Path<String>, posted: Posted<BallotForm>) -> Response {
    let Posted { visitor, form } = posted;
    let request = pb::TerminateAgreementRequest {
        agreement_id: id.clone(),
        org: form.org.trim().to_owned(),
        effective_on: form.effective_on.trim().to_owned(),
        comment: form.comment.trim().to_owned(),
    };
    match visitor
        .api()
        .agreements()
        .terminate_agreement(request)
        .await
    {
        Ok(_) => done(&id, "terminated"),
        Err(status) => refused(&visitor, &id, &status, "terminate", form).await,
    }
}
