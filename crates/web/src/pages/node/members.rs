//! An organization's people (`/organizations/{slug}`): its members with
//! their roles, a form that adds one and buttons that remove them; and one
//! member's page with their API tokens (each revocable) and the button
//! that issues a one-time sign-in link, shown once. The operator manages
//! every organization the node hosts, an organization's admin their own;
//! other members see the list. The API decides.

use askama::Template;
use axum::extract::{Path, Query};
use axum::response::Response;
use edufed_domain::policy::Action;
use edufed_i18n::ru;
use edufed_proto::v1 as pb;

use super::runs_the_node;
use crate::Console;
use crate::errors::{Problem, russian};
use crate::page::{Layout, Section, failure, render_with, role_name, see_other, t};
use crate::view::{Choice, DEFAULT_ZONE, choices, instant, named, zone_of};
use crate::visitor::{Posted, Visitor};

pub(super) fn routes() -> axum::Router<Console> {
    use axum::routing::{get, post};
    axum::Router::new()
        .route("/organizations/{slug}", get(show))
        .route("/organizations/{slug}/members", post(add_member))
        .route("/organizations/{slug}/sign-in", post(require_issuer))
        .route("/organizations/{slug}/members/{person}", get(person))
        .route(
            "/organizations/{slug}/members/{person}/remove",
            post(remove_member),
        )
        .route(
            "/organizations/{slug}/members/{person}/sign-in-link",
            post(sign_in_link),
        )
        .route(
            "/organizations/{slug}/members/{person}/tokens/{token}/revoke",
            post(revoke_token),
        )
        .route(
            "/organizations/{slug}/members/{person}/identities/{issuer}/unbind",
            post(unbind),
        )
        .route("/organizations/{slug}/members/{person}/erase", post(erase))
}

#[derive(Debug, Default, Clone, serde::Deserialize)]
pub(crate) struct MemberForm {
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    role: String,
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct LinkForm {
    /// Minutes the link works if unused.
    #[serde(default)]
    ttl: String,
    /// Set by the invitation's button: the link binds an account at an
    /// identity provider instead of signing in.
    #[serde(default)]
    invitation: Option<String>,
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct Shown {
    #[serde(default)]
    done: String,
}

#[derive(serde::Deserialize)]
pub(crate) struct Empty {}

/// What the visitor may be offered here: a hint, the API decides.
fn manages(visitor: &Visitor, organization: &pb::Organization) -> bool {
    organization.home_node.is_empty() && visitor.may(Action::AddMember, &organization.id)
}

async fn organization(visitor: &Visitor, slug: &str) -> Result<pb::Organization, tonic::Status> {
    Ok(visitor
        .api()
        .directory()
        .get_organization(pb::GetOrganizationRequest {
            organization: slug.to_owned(),
        })
        .await?
        .into_inner())
}

/// Every member of `slug`, page after page.
async fn members(visitor: &Visitor, slug: &str) -> Result<Vec<pb::Member>, tonic::Status> {
    let mut all = Vec::new();
    let mut page_token = String::new();
    for _ in 0..20 {
        let page = visitor
            .api()
            .directory()
            .list_members(pb::ListMembersRequest {
                organization: slug.to_owned(),
                page_size: 500,
                page_token: page_token.clone(),
            })
            .await?
            .into_inner();
        all.extend(page.members);
        if page.next_page_token.is_empty() {
            break;
        }
        page_token = page.next_page_token;
    }
    Ok(all)
}

fn short_name(org: &pb::Organization) -> String {
    if org.short_name.is_empty() {
        org.full_name.clone()
    } else {
        org.short_name.clone()
    }
}

struct MemberRow {
    person_id: String,
    name: String,
    email: String,
    role: String,
    since: String,
}

#[derive(Template)]
#[template(path = "node_organization.html")]
struct OrganizationPage {
    layout: Layout,
    slug: String,
    facts: Vec<(String, String)>,
    hosted: bool,
    members: Vec<MemberRow>,
    manages: bool,
    roles: Vec<Choice>,
    form: MemberForm,
    problem: Option<Problem>,
    /// How members may sign in, when the node has identity providers.
    sign_in: Option<Vec<Choice>>,
    designations: crate::pages::careers::designations::Block,
}

impl OrganizationPage {
    fn error(&self, field: &str) -> String {
        self.problem
            .as_ref()
            .and_then(|p| p.about(field))
            .unwrap_or_default()
            .to_owned()
    }

    fn general_error(&self) -> String {
        match &self.problem {
            Some(p)
                if ["person", "new_person", "role"]
                    .iter()
                    .all(|f| p.about(f).is_none()) =>
            {
                p.message.clone()
            }
            _ => String::new(),
        }
    }
}

fn section(visitor: &Visitor) -> Section {
    if runs_the_node(visitor) {
        Section::Node
    } else {
        Section::Account
    }
}

/// `GET /organizations/{slug}`.
pub(crate) async fn show(
    visitor: Visitor,
    Path(slug): Path<String>,
    Query(shown): Query<Shown>,
) -> Response {
    let notice = match shown.done.as_str() {
        "designated" => Some(t("designations-added")),
        "undesignated" => Some(t("designations-removed")),
        "removed" => Some(t("members-removed")),
        "erased" => Some(t("members-erased")),
        "sign-in" => Some(t("sign-in-policy-saved")),
        _ => None,
    };
    organization_page(&visitor, &slug, MemberForm::default(), None, notice).await
}

/// The organization's page with a designation the API refused.
pub(crate) async fn refused_designation(
    visitor: &Visitor,
    slug: &str,
    form: crate::pages::careers::designations::DesignationForm,
    problem: Problem,
) -> Response {
    page_with(
        visitor,
        slug,
        MemberForm::default(),
        None,
        None,
        Some((form, problem)),
    )
    .await
}

async fn organization_page(
    visitor: &Visitor,
    slug: &str,
    form: MemberForm,
    problem: Option<Problem>,
    notice: Option<String>,
) -> Response {
    page_with(visitor, slug, form, problem, notice, None).await
}

async fn page_with(
    visitor: &Visitor,
    slug: &str,
    form: MemberForm,
    problem: Option<Problem>,
    notice: Option<String>,
    designation: Option<(
        crate::pages::careers::designations::DesignationForm,
        Problem,
    )>,
) -> Response {
    if !visitor.signed_in() {
        return crate::pages::reports::sign_in_first(visitor);
    }
    let org = match organization(visitor, slug).await {
        Ok(org) => org,
        Err(status) => return failure(&status),
    };
    let hosted = org.home_node.is_empty();
    let list = if hosted {
        match members(visitor, slug).await {
            Ok(list) => list,
            Err(status) => return failure(&status),
        }
    } else {
        Vec::new()
    };
    let zone = zone_of(&org.time_zone, visitor.zone.unwrap_or(DEFAULT_ZONE));
    let viewer = visitor.zone.unwrap_or(DEFAULT_ZONE);
    let mut facts = vec![
        (t("members-full-name"), org.full_name.clone()),
        (t("members-kind"), named::<pb::OrganizationKind>(org.kind)),
        (t("members-city"), org.city.clone()),
        (t("members-zone"), ru().zone(zone, visitor.now)),
    ];
    if !hosted {
        facts.push((t("members-home"), t("members-mirrored")));
    }
    let manages = manages(visitor, &org);
    let roles = choices::<pb::Role>(form.role.parse().unwrap_or(pb::Role::Teacher as i32));
    let members = list
        .iter()
        .map(|m| {
            let person = m.person.clone().unwrap_or_default();
            MemberRow {
                person_id: person.id,
                name: person.display_name,
                email: person.email,
                role: role_name(m.role),
                since: instant(m.create_time.as_ref())
                    .map(|at| ru().date(at.with_timezone(&viewer).date_naive()))
                    .unwrap_or_default(),
            }
        })
        .collect();
    let status = if problem.is_some() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    let refused = designation.is_some();
    let designations =
        match crate::pages::careers::designations::block(visitor, &org, designation).await {
            Ok(block) => block,
            Err(status) => return failure(&status),
        };
    let status = if refused {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        status
    };
    let sign_in = if manages && hosted {
        crate::pages::oidc::requirement_choices(visitor, &org.id).await
    } else {
        None
    };
    render_with(
        status,
        &OrganizationPage {
            sign_in,
            layout: Layout::new(visitor, section(visitor), short_name(&org)).with_notice(notice),
            slug: org.slug.clone(),
            facts,
            hosted,
            members,
            manages,
            roles,
            form,
            problem,
            designations,
        },
    )
}

/// `POST /organizations/{slug}/members`: adds a new person with a role,
/// then opens their page, where a sign-in link is one button away.
pub(crate) async fn add_member(Path(slug): Path<String>, posted: Posted<MemberForm>) -> Response {
    let Posted { visitor, form } = posted;
    let request = pb::AddMemberRequest {
        organization: slug.clone(),
        person: Some(pb::add_member_request::Person::NewPerson(pb::NewPerson {
            display_name: form.display_name.trim().to_owned(),
            email: form.email.trim().to_owned(),
        })),
        role: form.role.trim().parse().unwrap_or(0),
    };
    match visitor.api().directory().add_member(request).await {
        Ok(member) => {
            let person = member.into_inner().person.unwrap_or_default();
            see_other(&format!(
                "/organizations/{slug}/members/{}?done=added",
                person.id
            ))
        }
        Err(status) => organization_page(&visitor, &slug, form, Some(russian(&status)), None).await,
    }
}

/// `POST /organizations/{slug}/members/{person}/remove`.
pub(crate) async fn remove_member(
    Path((slug, person)): Path<(String, String)>,
    posted: Posted<Empty>,
) -> Response {
    let visitor = posted.visitor;
    match visitor
        .api()
        .directory()
        .remove_member(pb::RemoveMemberRequest {
            organization: slug.clone(),
            person_id: person,
        })
        .await
    {
        Ok(_) => see_other(&format!("/organizations/{slug}?done=removed")),
        Err(status) => {
            organization_page(
                &visitor,
                &slug,
                MemberForm::default(),
                Some(russian(&status)),
                None,
            )
            .await
        }
    }
}

struct TokenRow {
    id: String,
    name: String,
    created: String,
    expires: String,
    state: String,
    usable: bool,
}

struct SessionRow {
    browser: String,
    started: String,
    last_seen: String,
}

/// A sign-in link just issued: shown once.
struct Issued {
    url: String,
    expires: String,
    /// An invitation, not a sign-in link.
    invitation: bool,
}

#[derive(Template)]
#[template(path = "node_person.html")]
struct PersonPage {
    layout: Layout,
    slug: String,
    organization: String,
    person_id: String,
    email: String,
    role: String,
    tokens: Vec<TokenRow>,
    sessions: Vec<SessionRow>,
    manages: bool,
    ttls: Vec<Choice>,
    issued: Option<Issued>,
    problem: Option<Problem>,
    /// The accounts at identity providers bound to them.
    identities: Vec<crate::pages::oidc::IdentityRow>,
    /// Whether the node has identity providers to invite through.
    invites: bool,
    /// Where an account's unbind button posts, before `/{issuer}/unbind`.
    unbind_base: String,
}

impl PersonPage {
    /// Why the erasure was not done, beside its confirmation.
    fn erase_error(&self) -> String {
        crate::errors::beside(self.problem.as_ref(), "confirm")
    }
}

/// `GET /organizations/{slug}/members/{person}`.
pub(crate) async fn person(
    visitor: Visitor,
    Path((slug, person)): Path<(String, String)>,
    Query(shown): Query<Shown>,
) -> Response {
    let notice = match shown.done.as_str() {
        "added" => Some(t("members-added")),
        "revoked" => Some(t("members-token-revoked")),
        "unbound" => Some(t("members-identity-unbound")),
        _ => None,
    };
    person_page(&visitor, &slug, &person, None, None, notice).await
}

async fn person_page(
    visitor: &Visitor,
    slug: &str,
    person_id: &str,
    issued: Option<Issued>,
    problem: Option<Problem>,
    notice: Option<String>,
) -> Response {
    if !visitor.signed_in() {
        return crate::pages::reports::sign_in_first(visitor);
    }
    let org = match organization(visitor, slug).await {
        Ok(org) => org,
        Err(status) => return failure(&status),
    };
    let list = match members(visitor, slug).await {
        Ok(list) => list,
        Err(status) => return failure(&status),
    };
    let Some(member) = list
        .iter()
        .find(|m| m.person.as_ref().is_some_and(|p| p.id == person_id))
    else {
        // No longer a member (removed meanwhile): the organization's list.
        return see_other(&format!("/organizations/{slug}"));
    };
    let person = member.person.clone().unwrap_or_default();
    let manages = manages(visitor, &org);
    let zone = visitor.zone.unwrap_or(DEFAULT_ZONE);
    let when = |ts: Option<&prost_types::Timestamp>| {
        instant(ts)
            .map(|at| ru().instant(at, zone, Some(zone)))
            .unwrap_or_default()
    };
    // Another person's tokens and sessions are for who manages them; a
    // member who merely reads the list sees neither.
    let (identities, invites) = if manages {
        (
            crate::pages::oidc::identities(visitor, &person.id).await,
            crate::pages::oidc::any_issuer(visitor).await,
        )
    } else {
        (Vec::new(), false)
    };
    let (tokens, sessions) = if manages {
        let api = visitor.api();
        let tokens = api
            .directory()
            .list_tokens(pb::ListTokensRequest {
                person_id: person.id.clone(),
            })
            .await;
        let sessions = api
            .directory()
            .list_sessions(pb::ListSessionsRequest {
                person_id: person.id.clone(),
            })
            .await;
        let shown = |status: &tonic::Status| status.code() == tonic::Code::PermissionDenied;
        match (tokens, sessions) {
            (Ok(tokens), Ok(sessions)) => {
                (tokens.into_inner().tokens, sessions.into_inner().sessions)
            }
            (Err(status), _) | (_, Err(status)) if shown(&status) => (Vec::new(), Vec::new()),
            (Err(status), _) | (_, Err(status)) => return failure(&status),
        }
    } else {
        (Vec::new(), Vec::new())
    };
    let now = visitor.now;
    let tokens = tokens
        .iter()
        .map(|token| {
            let expired = instant(token.expire_time.as_ref()).is_some_and(|end| end <= now);
            let revoked = token.revoke_time.is_some();
            TokenRow {
                id: token.id.clone(),
                name: token.name.clone(),
                created: when(token.create_time.as_ref()),
                expires: if token.expire_time.is_some() {
                    when(token.expire_time.as_ref())
                } else {
                    t("members-token-forever")
                },
                state: t(if revoked {
                    "members-token-revoked-state"
                } else if expired {
                    "members-token-expired"
                } else {
                    "members-token-active"
                }),
                usable: !revoked && !expired,
            }
        })
        .collect();
    let sessions = sessions
        .iter()
        .filter(|s| s.active)
        .map(|s| SessionRow {
            browser: s.user_agent.clone(),
            started: when(s.start_time.as_ref()),
            last_seen: when(s.last_seen_time.as_ref()),
        })
        .collect();
    let ttls = [
        (15, "members-ttl-15m"),
        (60, "members-ttl-1h"),
        (1440, "members-ttl-1d"),
        (4320, "members-ttl-3d"),
    ]
    .into_iter()
    .map(|(minutes, key)| Choice {
        value: minutes.to_string(),
        label: t(key),
        selected: minutes == 15,
    })
    .collect();
    let status = if problem.is_some() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    };
    render_with(
        status,
        &PersonPage {
            layout: Layout::new(visitor, section(visitor), person.display_name.clone())
                .with_notice(notice),
            slug: org.slug.clone(),
            organization: short_name(&org),
            person_id: person.id.clone(),
            email: person.email.clone(),
            role: role_name(member.role),
            tokens,
            sessions,
            manages,
            ttls,
            issued,
            problem,
            unbind_base: format!(
                "/organizations/{}/members/{}/identities",
                org.slug, person.id
            ),
            identities,
            invites,
        },
    )
}

/// `POST /organizations/{slug}/members/{person}/sign-in-link`: issues a
/// one-time link and shows it on the page this once; it is never stored
/// in the clear, so it cannot be shown again.
pub(crate) async fn sign_in_link(
    Path((slug, person)): Path<(String, String)>,
    posted: Posted<LinkForm>,
) -> Response {
    let Posted { visitor, form } = posted;
    let minutes: i64 = form.ttl.trim().parse().unwrap_or(15);
    let issued = visitor
        .api()
        .directory()
        .create_sign_in_link(pb::CreateSignInLinkRequest {
            person_id: person.clone(),
            ttl: Some(prost_types::Duration {
                seconds: minutes.saturating_mul(60),
                nanos: 0,
            }),
            invitation: form.invitation.is_some(),
        })
        .await;
    match issued {
        Ok(link) => {
            let link = link.into_inner();
            let zone = visitor.zone.unwrap_or(DEFAULT_ZONE);
            let issued = Issued {
                invitation: form.invitation.is_some(),
                url: link.url,
                expires: instant(link.expire_time.as_ref())
                    .map(|at| ru().instant(at, zone, Some(zone)))
                    .unwrap_or_default(),
            };
            person_page(&visitor, &slug, &person, Some(issued), None, None).await
        }
        Err(status) => {
            person_page(&visitor, &slug, &person, None, Some(russian(&status)), None).await
        }
    }
}

/// `POST /organizations/{slug}/members/{person}/tokens/{token}/revoke`.
pub(crate) async fn revoke_token(
    Path((slug, person, token)): Path<(String, String, String)>,
    posted: Posted<Empty>,
) -> Response {
    let visitor = posted.visitor;
    match visitor
        .api()
        .directory()
        .revoke_token(pb::RevokeTokenRequest { token_id: token })
        .await
    {
        Ok(_) => see_other(&format!(
            "/organizations/{slug}/members/{person}?done=revoked"
        )),
        Err(status) => {
            person_page(&visitor, &slug, &person, None, Some(russian(&status)), None).await
        }
    }
}

/// `POST /organizations/{slug}/members/{person}/identities/{issuer}/unbind`:
/// unbinds the member's account at an identity provider; the sessions it
/// started end at once.
pub(crate) async fn unbind(
    Path((slug, person, issuer)): Path<(String, String, String)>,
    posted: Posted<Empty>,
) -> Response {
    let visitor = posted.visitor;
    match crate::pages::oidc::unbind(&visitor, &person, &issuer).await {
        Ok(()) => see_other(&format!(
            "/organizations/{slug}/members/{person}?done=unbound"
        )),
        Err(status) => {
            person_page(&visitor, &slug, &person, None, Some(russian(&status)), None).await
        }
    }
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct EraseForm {
    #[serde(default)]
    confirm: String,
}

/// `POST /organizations/{slug}/members/{person}/erase`: erases the
/// member's personal data on their request, once the form confirms that it
/// cannot be undone.
pub(crate) async fn erase(
    Path((slug, person)): Path<(String, String)>,
    posted: Posted<EraseForm>,
) -> Response {
    let Posted { visitor, form } = posted;
    if form.confirm != "yes" {
        let problem = Problem {
            field: Some("confirm".into()),
            message: t("members-erase-confirm-missing"),
        };
        return person_page(&visitor, &slug, &person, None, Some(problem), None).await;
    }
    match visitor
        .api()
        .privacy()
        .erase_person(pb::ErasePersonRequest {
            person_id: person.clone(),
        })
        .await
    {
        Ok(_) => see_other(&format!("/organizations/{slug}?done=erased")),
        Err(status) => {
            person_page(&visitor, &slug, &person, None, Some(russian(&status)), None).await
        }
    }
}

#[derive(Debug, Default, serde::Deserialize)]
pub(crate) struct RequireForm {
    #[serde(default)]
    issuer: String,
}

/// `POST /organizations/{slug}/sign-in`: how the organization's members
/// sign in: only through one identity provider, or any way.
pub(crate) async fn require_issuer(
    Path(slug): Path<String>,
    posted: Posted<RequireForm>,
) -> Response {
    let Posted { visitor, form } = posted;
    let set = visitor
        .api()
        .directory()
        .set_sign_in_requirement(pb::SetSignInRequirementRequest {
            organization: slug.clone(),
            issuer: form.issuer,
        })
        .await;
    match set {
        Ok(_) => see_other(&format!("/organizations/{slug}?done=sign-in")),
        Err(status) => {
            organization_page(
                &visitor,
                &slug,
                MemberForm::default(),
                Some(russian(&status)),
                None,
            )
            .await
        }
    }
}
