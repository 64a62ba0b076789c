//! Signing in through the region's identity provider: the page that offers
//! each issuer, the start that sends the browser there (with the state kept
//! in a short-lived cookie of this browser), the callback that finishes the
//! sign-in, the invitation page, the page for an account bound to no one,
//! and the page after signing out at the issuer too.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse as _, Response};
use edufed_proto::v1 as pb;

use crate::Console;
use crate::errors::russian;
use crate::page::{Layout, Section, render, render_with, see_other, t};
use crate::visitor::Visitor;

/// The cookie that keeps a started sign-in's state in the browser that
/// started it.
fn state_cookie(secure: bool) -> &'static str {
    if secure {
        "__Host-edufed_sign_in"
    } else {
        "edufed_sign_in"
    }
}

pub(crate) fn routes() -> axum::Router<Console> {
    use axum::routing::get;
    axum::Router::new()
        .route("/sign-in", get(choose))
        .route("/sign-in/oidc/{issuer}", get(start))
        .route("/sign-in/oidc/{issuer}/callback", get(callback))
        .route("/invitation/{secret}", get(invitation))
        .route("/signed-out", get(signed_out))
}

/// An issuer's button.
pub(crate) struct Button {
    pub(crate) label: String,
    pub(crate) href: String,
}

#[derive(Template)]
#[template(path = "sign_in_choose.html")]
struct Choose {
    layout: Layout,
    buttons: Vec<Button>,
    invitation: bool,
    problem: Option<String>,
}

/// The issuers' buttons, each starting a sign-in (for an invitation when
/// `invitation` is its secret).
pub(crate) async fn buttons(visitor: &Visitor, invitation: Option<&str>) -> Vec<Button> {
    let listed = visitor
        .api()
        .directory()
        .list_issuers(pb::ListIssuersRequest::default())
        .await
        .map(|r| r.into_inner().issuers)
        .unwrap_or_default();
    listed
        .into_iter()
        .map(|issuer| Button {
            href: match invitation {
                Some(secret) => format!(
                    "/sign-in/oidc/{}?invitation={}",
                    issuer.name,
                    urlencoding(secret)
                ),
                None => format!("/sign-in/oidc/{}", issuer.name),
            },
            label: issuer.label,
        })
        .collect()
}

fn urlencoding(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// `GET /sign-in`: the ways to sign in on this node.
async fn choose(visitor: Visitor) -> Response {
    if visitor.signed_in() {
        return see_other("/calendar");
    }
    render(&Choose {
        buttons: buttons(&visitor, None).await,
        layout: Layout::new(&visitor, Section::Account, t("sign-in-title")),
        invitation: false,
        problem: None,
    })
}

/// `GET /invitation/{secret}`: an admin's invitation, offering each issuer;
/// the account that completes the sign-in is bound to the invited person.
async fn invitation(visitor: Visitor, Path(secret): Path<String>) -> Response {
    render(&Choose {
        buttons: buttons(&visitor, Some(&secret)).await,
        layout: Layout::new(&visitor, Section::Account, t("invitation-title")),
        invitation: true,
        problem: None,
    })
}

#[derive(serde::Deserialize)]
struct StartQuery {
    #[serde(default)]
    invitation: Option<String>,
}

/// `GET /sign-in/oidc/{issuer}`: begins the sign-in and sends the browser
/// to the issuer, keeping the state in a cookie of this browser for ten
/// minutes. One that completes an invitation starts only from the
/// invitation's page: another site cannot make a browser bind its account
/// to someone.
async fn start(
    State(console): State<Console>,
    visitor: Visitor,
    headers: HeaderMap,
    Path(issuer): Path<String>,
    Query(query): Query<StartQuery>,
) -> Response {
    if let Some(secret) = &query.invitation {
        let site = headers
            .get("sec-fetch-site")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("same-origin");
        if site != "same-origin" {
            return see_other(&format!("/invitation/{}", urlencoding(secret)));
        }
    }
    let begun = visitor
        .api()
        .directory()
        .begin_sign_in(pb::BeginSignInRequest {
            issuer,
            invitation_secret: query.invitation.clone().unwrap_or_default(),
        })
        .await;
    match begun {
        Ok(begun) => {
            let begun = begun.into_inner();
            let mut response = see_other(&begun.authorization_url);
            set_state_cookie(&mut response, &console, &begun.state, 600);
            response
        }
        Err(status) => render_with(
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            &Choose {
                buttons: buttons(&visitor, query.invitation.as_deref()).await,
                layout: Layout::new(&visitor, Section::Account, t("sign-in-title")),
                invitation: query.invitation.is_some(),
                problem: Some(russian(&status).message),
            },
        ),
    }
}

fn set_state_cookie(response: &mut Response, console: &Console, value: &str, max_age: i64) {
    let name = state_cookie(console.settings.secure_cookies);
    crate::pages::account::set_named_cookie(response, console, name, value, max_age);
}

#[derive(serde::Deserialize)]
struct Callback {
    #[serde(default)]
    state: String,
    #[serde(default)]
    code: String,
    /// The issuer's URL (RFC 9207), when it says.
    #[serde(default)]
    iss: String,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    error_description: Option<String>,
}

#[derive(Template)]
#[template(path = "sign_in_unbound.html")]
struct Unbound {
    layout: Layout,
    reason: String,
}

/// `GET /sign-in/oidc/{issuer}/callback`: what the issuer sent back.
/// Finishes the sign-in (the API checks the ID token and who the account
/// is) and sets the session's cookie; an account bound to no one sees whom
/// to ask.
async fn callback(
    State(console): State<Console>,
    visitor: Visitor,
    headers: HeaderMap,
    Path(issuer): Path<String>,
    Query(answer): Query<Callback>,
) -> Response {
    let kept = crate::visitor::cookie(&headers, state_cookie(console.settings.secure_cookies))
        .unwrap_or_default();
    if let Some(error) = answer.error {
        // The provider's own words only for this browser's sign-in:
        // anyone can put words in a link.
        let ours = !kept.is_empty() && kept == answer.state;
        let message = match (error.as_str(), answer.error_description) {
            ("access_denied", _) => t("sign-in-denied"),
            (_, Some(said)) if ours => format!("{} {said}", t("sign-in-provider-said")),
            _ => format!("{} {error}", t("sign-in-provider-said")),
        };
        return refused(&console, &visitor, message).await;
    }
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let finished = visitor
        .api()
        .directory()
        .finish_sign_in(pb::FinishSignInRequest {
            state: answer.state,
            code: answer.code,
            user_agent,
            browser_state: kept,
            issuer,
            iss: answer.iss,
        })
        .await;
    match finished {
        Ok(started) => {
            let started = started.into_inner();
            // A session this browser had before ends: one browser, one
            // person signed in.
            if let Some(previous) = visitor.session_id() {
                visitor
                    .api()
                    .directory()
                    .end_session(pb::EndSessionRequest {
                        session_id: previous.to_owned(),
                    })
                    .await
                    .ok();
            }
            let max_age = started
                .session
                .as_ref()
                .and_then(|s| s.expire_time.as_ref())
                .map_or(0, |end| (end.seconds - visitor.now.timestamp()).max(0));
            let mut response = see_other("/calendar");
            crate::pages::account::set_cookie(&mut response, &console, &started.secret, max_age);
            set_state_cookie(&mut response, &console, "", 0);
            response
        }
        Err(status) if status.code() == tonic::Code::PermissionDenied => {
            let mut response = render_with(
                axum::http::StatusCode::FORBIDDEN,
                &Unbound {
                    layout: Layout::new(&visitor, Section::Account, t("unbound-title")),
                    reason: russian(&status).message,
                },
            );
            set_state_cookie(&mut response, &console, "", 0);
            response
        }
        Err(status) => refused(&console, &visitor, russian(&status).message).await,
    }
}

/// The sign-in page again, saying why the sign-in did not finish; the
/// started sign-in's cookie goes.
async fn refused(console: &Console, visitor: &Visitor, message: String) -> Response {
    let mut response = render_with(
        axum::http::StatusCode::UNAUTHORIZED,
        &Choose {
            buttons: buttons(visitor, None).await,
            layout: Layout::new(visitor, Section::Account, t("sign-in-title")),
            invitation: false,
            problem: Some(message),
        },
    );
    set_state_cookie(&mut response, console, "", 0);
    response
}

#[derive(Template)]
#[template(path = "signed_out_everywhere.html")]
pub(crate) struct SignedOutHere {
    pub(crate) layout: Layout,
    /// The issuer's label and where to sign out there too.
    pub(crate) issuer: Option<(String, String)>,
}

/// `GET /signed-out`: where the issuer sends the browser back after
/// signing out there.
async fn signed_out(visitor: Visitor) -> Response {
    render(&SignedOutHere {
        layout: Layout::new(&visitor, Section::Account, t("signed-out-here-title")),
        issuer: None,
    })
    .into_response()
}

/// An account bound to a person, as their pages list it.
pub(crate) struct IdentityRow {
    pub(crate) issuer: String,
    pub(crate) label: String,
    pub(crate) email: String,
    pub(crate) bound_by: String,
    pub(crate) last_sign_in: String,
}

/// The accounts bound to `person` (empty: the visitor's own), or none
/// when the visitor may not see them.
pub(crate) async fn identities(visitor: &Visitor, person: &str) -> Vec<IdentityRow> {
    let zone = visitor.zone.unwrap_or(crate::view::DEFAULT_ZONE);
    let listed = visitor
        .api()
        .directory()
        .list_identities(pb::ListIdentitiesRequest {
            person_id: person.to_owned(),
        })
        .await
        .map(|r| r.into_inner().identities)
        .unwrap_or_default();
    listed
        .into_iter()
        .map(|i| IdentityRow {
            bound_by: edufed_i18n::ru().proto_name(
                pb::IdentityBinding::try_from(i.bound_by)
                    .unwrap_or_default()
                    .as_str_name(),
            ),
            last_sign_in: crate::view::instant(i.last_sign_in_time.as_ref())
                .map(|at| edufed_i18n::ru().instant(at, zone, Some(zone)))
                .unwrap_or_default(),
            issuer: i.issuer,
            label: i.issuer_label,
            email: i.email,
        })
        .collect()
}

/// Whether the node signs people in through any identity provider.
pub(crate) async fn any_issuer(visitor: &Visitor) -> bool {
    visitor
        .api()
        .directory()
        .list_issuers(pb::ListIssuersRequest::default())
        .await
        .is_ok_and(|r| !r.into_inner().issuers.is_empty())
}

/// Unbinds `person`'s account at `issuer` (empty person: the visitor's
/// own): its sessions end at once.
pub(crate) async fn unbind(
    visitor: &Visitor,
    person: &str,
    issuer: &str,
) -> Result<(), tonic::Status> {
    visitor
        .api()
        .directory()
        .unbind_identity(pb::UnbindIdentityRequest {
            person_id: person.to_owned(),
            issuer: issuer.to_owned(),
        })
        .await
        .map(|_| ())
}

/// The choices of how an organization's members sign in: any way, or only
/// through one of the node's identity providers (the current one
/// selected); `None` when the node has none.
pub(crate) async fn requirement_choices(
    visitor: &Visitor,
    organization: &str,
) -> Option<Vec<crate::view::Choice>> {
    let api = visitor.api();
    let issuers = api
        .directory()
        .list_issuers(pb::ListIssuersRequest::default())
        .await
        .ok()?
        .into_inner()
        .issuers;
    if issuers.is_empty() {
        return None;
    }
    let current = api
        .directory()
        .get_sign_in_requirement(pb::GetSignInRequirementRequest {
            organization: organization.to_owned(),
        })
        .await
        .ok()?
        .into_inner()
        .issuer;
    let mut choices = vec![crate::view::Choice {
        value: String::new(),
        label: t("sign-in-policy-any"),
        selected: current.is_empty(),
    }];
    choices.extend(issuers.into_iter().map(|i| crate::view::Choice {
        selected: i.name == current,
        label: crate::page::t_with("sign-in-policy-only", "issuer", &i.label),
        value: i.name,
    }));
    Some(choices)
}
