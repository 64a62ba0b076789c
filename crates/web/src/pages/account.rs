//! Signing in with a one-time link, signing out, and a person's own page:
//! who they are, their roles, and their sessions, each of which they may
//! end.

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse as _, Response};
use edufed_i18n::ru;
use edufed_proto::v1 as pb;

use crate::Console;
use crate::errors::russian;
use crate::page::{Layout, Section, failure, render, role_name, see_other, t};
use crate::visitor::{Posted, Visitor, cookie_name};

pub(crate) fn routes() -> axum::Router<Console> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/sign-in/{secret}", get(landing))
        .route("/sign-in", post(sign_in))
        .route("/sign-out", post(sign_out))
        .route("/account", get(show))
        .route("/account/sessions/{id}/end", post(end_session))
        .route("/account/identities/{issuer}/unbind", post(unbind))
}

#[derive(Template)]
#[template(path = "sign_in.html")]
struct Landing {
    layout: Layout,
    secret: String,
    problem: Option<String>,
}

/// `GET /sign-in/{secret}`: a page with one button. Opening the link signs
/// nobody in (mail scanners open links too); pressing the button does.
pub(crate) async fn landing(visitor: Visitor, Path(secret): Path<String>) -> Response {
    render(&Landing {
        layout: Layout::new(&visitor, Section::None, t("sign-in-title")),
        secret,
        problem: None,
    })
}

#[derive(serde::Deserialize)]
pub(crate) struct SignIn {
    secret: String,
}

/// `POST /sign-in`: starts a session from the link and sets its cookie.
pub(crate) async fn sign_in(
    State(console): State<Console>,
    headers: HeaderMap,
    posted: Posted<SignIn>,
) -> Response {
    let Posted { visitor, form } = posted;
    let user_agent = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let started = visitor
        .api()
        .directory()
        .start_session(pb::StartSessionRequest {
            link_secret: form.secret.clone(),
            user_agent,
        })
        .await;
    match started {
        Ok(started) => {
            let started = started.into_inner();
            let max_age = started
                .session
                .as_ref()
                .and_then(|s| s.expire_time.as_ref())
                .map_or(0, |end| (end.seconds - visitor.now.timestamp()).max(0));
            let mut response = see_other("/calendar");
            set_cookie(&mut response, &console, &started.secret, max_age);
            response
        }
        Err(status) => render(&Landing {
            layout: Layout::new(&visitor, Section::None, t("sign-in-title")),
            secret: form.secret,
            problem: Some(russian(&status).message),
        }),
    }
}

pub(crate) fn set_cookie(response: &mut Response, console: &Console, value: &str, max_age: i64) {
    let name = cookie_name(console.settings.secure_cookies);
    set_named_cookie(response, console, name, value, max_age);
}

/// Sets the console's cookie `name` (HttpOnly, SameSite=Lax, `Secure`
/// under TLS); `max_age` 0 forgets it.
pub(crate) fn set_named_cookie(
    response: &mut Response,
    console: &Console,
    name: &str,
    value: &str,
    max_age: i64,
) {
    let secure = console.settings.secure_cookies;
    let cookie = format!(
        "{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{}",
        if secure { "; Secure" } else { "" }
    );
    if let Ok(value) = HeaderValue::from_str(&cookie) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

#[derive(serde::Deserialize)]
pub(crate) struct Empty {}

/// `POST /sign-out`: ends the visitor's session and forgets its cookie.
/// A session that started at an identity provider offering RP-initiated
/// logout ends on a page that offers to sign out there too.
pub(crate) async fn sign_out(State(console): State<Console>, posted: Posted<Empty>) -> Response {
    let visitor = posted.visitor;
    let mut issuer = None;
    if let Some(id) = visitor.session_id() {
        let ended = visitor
            .api()
            .directory()
            .end_session(pb::EndSessionRequest {
                session_id: id.to_owned(),
            })
            .await;
        match ended {
            Ok(session) => {
                let session = session.into_inner();
                if !session.issuer.is_empty() {
                    issuer = logout_of(&console, &session.issuer).await;
                }
            }
            Err(status) if status.code() == tonic::Code::FailedPrecondition => {}
            Err(status) => return failure(&status),
        }
    }
    let mut response = match issuer {
        Some(issuer) => render(&crate::pages::oidc::SignedOutHere {
            layout: Layout::anonymous(t("signed-out-here-title")),
            issuer: Some(issuer),
        }),
        None => see_other("/calendar"),
    };
    set_cookie(&mut response, &console, "", 0);
    response
}

/// An issuer's label and where to sign out there, when it offers that
/// (asked anonymously: the session has just ended).
async fn logout_of(console: &Console, name: &str) -> Option<(String, String)> {
    let issuers = crate::rpc::Clients::new(console.rpc.channel(None))
        .directory()
        .list_issuers(pb::ListIssuersRequest { logout_urls: true })
        .await
        .ok()?
        .into_inner()
        .issuers;
    issuers
        .into_iter()
        .find(|i| i.name == name && !i.logout_url.is_empty())
        .map(|i| (i.label, i.logout_url))
}

/// A session as the account page lists it.
struct SessionRow {
    id: String,
    browser: String,
    /// How it started: a link, or the identity provider (named).
    origin: String,
    started: String,
    last_seen: String,
    state: String,
    active: bool,
    current: bool,
}

struct MembershipRow {
    organization: String,
    role: String,
}

#[derive(Template)]
#[template(path = "account.html")]
struct Account {
    layout: Layout,
    name: String,
    email: String,
    memberships: Vec<MembershipRow>,
    sessions: Vec<SessionRow>,
    identities: Vec<crate::pages::oidc::IdentityRow>,
    /// Where an account's unbind button posts, before `/{issuer}/unbind`.
    unbind_base: &'static str,
}

/// `GET /account`.
pub(crate) async fn show(State(console): State<Console>, visitor: Visitor) -> Response {
    let Some(me) = visitor.me.clone() else {
        let mut response = render(&crate::pages::calendar::signed_out(&visitor));
        forget_lost_session(&mut response, &console, &visitor);
        return response;
    };
    let sessions = match visitor
        .api()
        .directory()
        .list_sessions(pb::ListSessionsRequest::default())
        .await
    {
        Ok(list) => list.into_inner().sessions,
        Err(status) => return failure(&status),
    };
    let zone = visitor.zone.unwrap_or(chrono_tz::Europe::Moscow);
    let when = |ts: Option<&prost_types::Timestamp>| {
        ts.and_then(|ts| chrono::DateTime::from_timestamp(ts.seconds, 0))
            .map(|at| ru().instant(at, zone, Some(zone)))
            .unwrap_or_default()
    };
    let person = me.person.clone().unwrap_or_default();
    let identities = crate::pages::oidc::identities(&visitor, "").await;
    let labels: Vec<(String, String)> = identities
        .iter()
        .map(|i| (i.issuer.clone(), i.label.clone()))
        .collect();
    render(&Account {
        identities,
        unbind_base: "/account/identities",
        layout: Layout::new(&visitor, Section::Account, t("account-title")),
        name: person.display_name,
        email: person.email,
        memberships: me
            .memberships
            .iter()
            .map(|m| MembershipRow {
                organization: m.organization_slug.clone(),
                role: role_name(m.role),
            })
            .collect(),
        sessions: sessions
            .iter()
            .map(|s| SessionRow {
                id: s.id.clone(),
                browser: s.user_agent.clone(),
                origin: {
                    let how = ru().proto_name(
                        pb::SessionOrigin::try_from(s.origin)
                            .unwrap_or_default()
                            .as_str_name(),
                    );
                    match labels.iter().find(|(name, _)| *name == s.issuer) {
                        Some((_, label)) => format!("{how} ({label})"),
                        None => how,
                    }
                },
                started: when(s.start_time.as_ref()),
                last_seen: when(s.last_seen_time.as_ref()),
                state: if s.active {
                    t("session-active")
                } else if let Ok(reason) = pb::SessionEndReason::try_from(s.end_reason)
                    && reason != pb::SessionEndReason::Unspecified
                {
                    ru().proto_name(reason.as_str_name())
                } else {
                    t("session-expired")
                },
                active: s.active,
                current: s.current,
            })
            .collect(),
    })
}

/// `POST /account/identities/{issuer}/unbind`: unbinds the visitor's own
/// account at an identity provider; the sessions it started end.
pub(crate) async fn unbind(
    State(console): State<Console>,
    Path(issuer): Path<String>,
    posted: Posted<Empty>,
) -> Response {
    let visitor = posted.visitor;
    match crate::pages::oidc::unbind(&visitor, "", &issuer).await {
        Ok(()) => {
            // This very session may have started from it: see.
            let mut response = see_other("/account");
            let still = visitor
                .api()
                .directory()
                .who_am_i(pb::WhoAmIRequest {})
                .await
                .is_ok();
            if !still {
                response = see_other("/calendar");
                set_cookie(&mut response, &console, "", 0);
            }
            response
        }
        Err(status) => failure(&status),
    }
}

/// `POST /account/sessions/{id}/end`.
pub(crate) async fn end_session(
    State(console): State<Console>,
    Path(id): Path<String>,
    posted: Posted<Empty>,
) -> Response {
    let visitor = posted.visitor;
    let current = visitor.session_id() == Some(id.as_str());
    match visitor
        .api()
        .directory()
        .end_session(pb::EndSessionRequest { session_id: id })
        .await
    {
        Ok(_) if current => {
            let mut response = see_other("/calendar");
            set_cookie(&mut response, &console, "", 0);
            response
        }
        Ok(_) => see_other("/account"),
        Err(status) => failure(&status),
    }
}

/// Drops the cookie of a session that no longer works.
pub(crate) fn forget_lost_session(response: &mut Response, console: &Console, visitor: &Visitor) {
    if visitor.session_lost.is_some() {
        set_cookie(response, console, "", 0);
    }
}

impl From<Account> for Response {
    fn from(page: Account) -> Self {
        render(&page).into_response()
    }
}
