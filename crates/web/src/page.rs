//! What every page shares: the frame around it (title, navigation, who is
//! signed in, the notice of the moment), rendering with the headers every
//! page sends, and the pages that say something went wrong.

use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use edufed_i18n::ru;
use edufed_proto::v1 as pb;

use crate::errors::russian;
use crate::visitor::Visitor;

/// A section of the console, for the navigation to mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Section {
    Calendar,
    Account,
    Resources,
    Agreements,
    Mentoring,
    Careers,
    Reports,
    Node,
    Audit,
    None,
}

/// The frame of a page.
pub(crate) struct Layout {
    pub(crate) title: String,
    pub(crate) section: Section,
    /// The signed-in person's name and organizations («Иванова · gym24»).
    pub(crate) who: Option<String>,
    pub(crate) operator: bool,
    /// The form token of the signed-in visitor.
    pub(crate) csrf: String,
    /// A one-line notice at the top (a success, or why a session ended).
    pub(crate) notice: Option<String>,
    /// Whether the visitor belongs to an organization here (so sees the
    /// resources and agreements sections).
    pub(crate) member: bool,
    /// Whether the visitor reads an audit trail (an admin, the operator).
    pub(crate) auditor: bool,
}

impl Layout {
    pub(crate) fn new(visitor: &Visitor, section: Section, title: impl Into<String>) -> Self {
        let who = visitor.me.as_ref().map(|me| {
            let name = me
                .person
                .as_ref()
                .map(|p| p.display_name.clone())
                .unwrap_or_default();
            let orgs: Vec<&str> = me
                .memberships
                .iter()
                .map(|m| m.organization_slug.as_str())
                .collect();
            if orgs.is_empty() {
                name
            } else {
                format!("{name} · {}", orgs.join(", "))
            }
        });
        Self {
            title: title.into(),
            section,
            who,
            operator: visitor.may_on_node(edufed_domain::policy::Action::ManagePeers),
            csrf: visitor.csrf(),
            notice: visitor
                .session_lost
                .clone()
                .map(|why| format!("{} {why}", ru().text("notice-session-lost"))),
            member: !visitor.memberships().is_empty(),
            auditor: visitor.may_on_node(edufed_domain::policy::Action::ReadAuditTrail)
                || visitor.may_somewhere(edufed_domain::policy::Action::ReadAuditTrail),
        }
    }

    /// The frame of someone who has just signed out.
    pub(crate) fn anonymous(title: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            section: Section::Account,
            who: None,
            operator: false,
            csrf: String::new(),
            notice: None,
            member: false,
            auditor: false,
        }
    }

    /// The same frame with `notice` shown.
    pub(crate) fn with_notice(mut self, notice: Option<String>) -> Self {
        if notice.is_some() {
            self.notice = notice;
        }
        self
    }

    pub(crate) fn current(&self, section: &str) -> bool {
        let name = match self.section {
            Section::Calendar => "calendar",
            Section::Account => "account",
            Section::Resources => "resources",
            Section::Agreements => "agreements",
            Section::Mentoring => "mentoring",
            Section::Careers => "careers",
            Section::Reports => "reports",
            Section::Node => "node",
            Section::Audit => "audit",
            Section::None => "",
        };
        name == section
    }
}

/// A message from the catalogue with one variable, for templates.
pub(crate) fn t_with(key: &str, name: &str, value: &str) -> String {
    ru().text_with(key, &[(name, edufed_i18n::Arg::Text(value))])
}

/// A label from the catalogue, for templates: `{{ crate::t("nav-calendar") }}`.
pub(crate) fn t(key: &str) -> String {
    ru().text(key)
}

/// Renders a page with the headers every page sends.
pub(crate) fn render(page: &impl Template) -> Response {
    render_with(StatusCode::OK, page)
}

/// Renders a page with `status`.
pub(crate) fn render_with(status: StatusCode, page: &impl Template) -> Response {
    match page.render() {
        Ok(html) => (status, Html(html)).into_response(),
        Err(error) => {
            tracing::error!(%error, "a console page did not render");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Html(ru().text("page-broken")),
            )
                .into_response()
        }
    }
}

/// Back to `to` after a form (303, so a reload does not post again).
pub(crate) fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// Why a request was turned away before it reached the API.
#[derive(Debug)]
pub(crate) enum Notice {
    /// Posted from another site, or without the visitor's form token.
    CrossSite,
    /// The form's body was too large.
    TooLarge,
    /// The form's body did not parse.
    BadForm,
    /// The visitor's session ended meanwhile.
    SessionLost(String),
}

#[derive(Template)]
#[template(path = "problem.html")]
struct ProblemPage {
    layout: Layout,
    heading: String,
    message: String,
}

fn bare_layout(title: &str) -> Layout {
    Layout {
        title: title.to_owned(),
        section: Section::None,
        who: None,
        operator: false,
        csrf: String::new(),
        notice: None,
        member: false,
        auditor: false,
    }
}

/// A page saying a request was turned away; nothing was changed.
pub(crate) fn refused(notice: Notice) -> Response {
    let (status, key, detail) = match notice {
        Notice::CrossSite => (StatusCode::FORBIDDEN, "refused-cross-site", None),
        Notice::TooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "refused-too-large", None),
        Notice::BadForm => (StatusCode::BAD_REQUEST, "refused-bad-form", None),
        Notice::SessionLost(why) => (StatusCode::UNAUTHORIZED, "notice-session-lost", Some(why)),
    };
    let heading = t("refused-heading");
    let mut message = t(key);
    if let Some(why) = detail {
        message = format!("{message} {why}");
    }
    render_with(
        status,
        &ProblemPage {
            layout: bare_layout(&heading),
            heading,
            message,
        },
    )
}

/// A page for a call the API refused outright (no form to show it beside).
pub(crate) fn failure(status: &tonic::Status) -> Response {
    let problem = russian(status);
    let code = match status.code() {
        tonic::Code::NotFound => StatusCode::NOT_FOUND,
        tonic::Code::PermissionDenied => StatusCode::FORBIDDEN,
        tonic::Code::Unauthenticated => StatusCode::UNAUTHORIZED,
        tonic::Code::InvalidArgument | tonic::Code::OutOfRange => StatusCode::BAD_REQUEST,
        tonic::Code::Unavailable | tonic::Code::DeadlineExceeded => StatusCode::SERVICE_UNAVAILABLE,
        tonic::Code::FailedPrecondition | tonic::Code::AlreadyExists => StatusCode::CONFLICT,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    let heading = t("failure-heading");
    render_with(
        code,
        &ProblemPage {
            layout: bare_layout(&heading),
            heading,
            message: problem.message,
        },
    )
}

/// The headers every console response carries: a strict Content-Security-
/// Policy (only this origin's styles and scripts, no frames, forms only
/// to this origin), no sniffing, no referrer to other sites, and no
/// caching of pages that show a person's data.
pub(crate) async fn protect(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let is_static = request.uri().path().starts_with("/static/");
    // Secrets in the path (sign-in links, invitations, the identity
    // provider's answers, unsubscribe tokens) go to no one.
    let path = request.uri().path();
    let sign_in = path.starts_with("/sign-in")
        || path.starts_with("/invitation/")
        || path.starts_with("/notifications/unsubscribe/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static(if sign_in {
            "no-referrer"
        } else {
            "same-origin"
        }),
    );
    if !is_static {
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("private, no-store"),
        );
    }
    response
}

/// The role names of a visitor's memberships, for the account page.
pub(crate) fn role_name(role: i32) -> String {
    pb::Role::try_from(role)
        .map(|r| ru().proto_name(r.as_str_name()))
        .unwrap_or_default()
}
