//! Who is looking at a page: their session (from its cookie), who the node
//! says they are, the zone they read times in, and the token their forms
//! carry against cross-site requests.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, header};
use axum::response::{IntoResponse, Response};
use chrono_tz::Tz;
use edufed_domain::directory::Role;
use edufed_domain::ids::{OrgId, PersonId, SessionId};
use edufed_domain::policy::{Action, Credential, Principal, Target, authorize};
use edufed_domain::session::PresentedSession;
use edufed_proto::v1 as pb;
use serde::de::DeserializeOwned;
use sha2::{Digest as _, Sha256};

use crate::Console;
use crate::page::{Notice, refused};
use crate::rpc::Clients;

/// The session cookie's name: `__Host-` under TLS, so that only this
/// origin, over HTTPS, on every path, may set it.
pub(crate) fn cookie_name(secure: bool) -> &'static str {
    if secure {
        "__Host-edufed_session"
    } else {
        "edufed_session"
    }
}

/// The visitor of one request.
pub(crate) struct Visitor {
    session: Option<PresentedSession>,
    /// Who they are, when signed in.
    pub(crate) me: Option<pb::WhoAmIResponse>,
    /// The zone of their (first) organization: the one times are read in
    /// without naming it.
    pub(crate) zone: Option<Tz>,
    /// Their session ended or expired since the cookie was set: the page
    /// says so and the cookie goes.
    pub(crate) session_lost: Option<String>,
    /// The node's time when the request came.
    pub(crate) now: chrono::DateTime<chrono::Utc>,
    clients: Clients,
}

impl Visitor {
    /// The clients that call as this visitor.
    pub(crate) fn api(&self) -> &Clients {
        &self.clients
    }

    /// Whether someone is signed in.
    pub(crate) fn signed_in(&self) -> bool {
        self.me.is_some()
    }

    /// The token every form of theirs carries: derived from the session's
    /// secret, which only their browser holds (in an HttpOnly cookie), so a
    /// page of another site can neither read nor forge it.
    pub(crate) fn csrf(&self) -> String {
        self.session
            .as_ref()
            .map(|s| csrf_of(&s.0))
            .unwrap_or_default()
    }

    /// Their memberships: (organization id, slug, role).
    pub(crate) fn memberships(&self) -> &[pb::Membership] {
        self.me.as_ref().map_or(&[], |me| me.memberships.as_slice())
    }

    /// The visitor as the domain's policy sees them (from WhoAmI): the
    /// console asks the same policy function the API decides with, to show
    /// only the buttons a person may use; the API decides again on the call.
    fn principal(&self) -> Option<Principal> {
        let me = self.me.as_ref()?;
        let person = me.person.as_ref()?;
        Some(Principal {
            person_id: PersonId::from_stored(person.id.clone()),
            credential: Credential::Session(SessionId::from_stored(me.session_id.clone())),
            operator: person.operator,
            memberships: me
                .memberships
                .iter()
                .filter_map(|m| {
                    let role = pb::Role::try_from(m.role).ok()?;
                    let name = role
                        .as_str_name()
                        .trim_start_matches("ROLE_")
                        .to_lowercase();
                    Some((
                        OrgId::from_stored(m.organization_id.clone()),
                        Role::parse("role", &name).ok()?,
                    ))
                })
                .collect(),
        })
    }

    /// Whether they may do `action` for the organization `org` (its id).
    pub(crate) fn may(&self, action: Action, org: &str) -> bool {
        self.principal().is_some_and(|p| {
            let org = OrgId::from_stored(org.to_owned());
            authorize(&p, action, Target::Organization(&org)).is_ok()
        })
    }

    /// Whether they may do `action` in a mentoring programme: its owner's
    /// or partners' people by role, its coordinator whatever their role.
    pub(crate) fn may_in_programme(
        &self,
        action: Action,
        programme: &pb::MentoringProgramme,
    ) -> bool {
        let Some(details) = programme.details.as_ref() else {
            return false;
        };
        self.principal().is_some_and(|p| {
            let owner = OrgId::from_stored(programme.owner_id.clone());
            let partners: Vec<OrgId> = details
                .partners
                .iter()
                .map(|o| OrgId::from_stored(o.clone()))
                .collect();
            let coordinator = PersonId::from_stored(details.coordinator_id.clone());
            authorize(
                &p,
                action,
                Target::Programme {
                    owner: &owner,
                    partners: &partners,
                    coordinator: &coordinator,
                },
            )
            .is_ok()
        })
    }

    /// Whether they may do `action` to a pair of a mentoring programme:
    /// the programme's rule, and for starting or ending it early, the
    /// admins and coordinators of the pair's own organizations.
    pub(crate) fn may_in_pair(
        &self,
        action: Action,
        programme: &pb::MentoringProgramme,
        pair: &pb::MentoringPair,
    ) -> bool {
        let Some(details) = programme.details.as_ref() else {
            return false;
        };
        self.principal().is_some_and(|p| {
            let owner = OrgId::from_stored(programme.owner_id.clone());
            let ids = |raw: &[String]| -> Vec<OrgId> {
                raw.iter().map(|o| OrgId::from_stored(o.clone())).collect()
            };
            let (partners, organizations) = (ids(&details.partners), ids(&pair.organization_ids));
            let coordinator = PersonId::from_stored(details.coordinator_id.clone());
            authorize(
                &p,
                action,
                Target::Pair {
                    owner: &owner,
                    partners: &partners,
                    coordinator: &coordinator,
                    organizations: &organizations,
                },
            )
            .is_ok()
        })
    }

    /// Their memberships in organizations where they may do `action`.
    pub(crate) fn memberships_for(&self, action: Action) -> Vec<&pb::Membership> {
        self.memberships()
            .iter()
            .filter(|m| self.may(action, &m.organization_id))
            .collect()
    }

    /// Whether they may do `action` for one of their organizations.
    pub(crate) fn may_somewhere(&self, action: Action) -> bool {
        !self.memberships_for(action).is_empty()
    }

    /// Whether they may do `action` to the node as a whole (the operator's
    /// business: peers, every organization).
    pub(crate) fn may_on_node(&self, action: Action) -> bool {
        self.principal()
            .is_some_and(|p| authorize(&p, action, Target::Node).is_ok())
    }

    /// Their current session's id.
    pub(crate) fn session_id(&self) -> Option<&str> {
        self.me
            .as_ref()
            .map(|me| me.session_id.as_str())
            .filter(|id| !id.is_empty())
    }
}

fn csrf_of(secret: &str) -> String {
    let digest = Sha256::digest(format!("edufed-console-csrf\0{secret}").as_bytes());
    hex::encode(&digest[..16])
}

/// The session secret in a request's cookies.
fn session_cookie(headers: &HeaderMap, secure: bool) -> Option<String> {
    cookie(headers, cookie_name(secure))
}

/// The value of the cookie `name` in a request's cookies.
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value.trim().to_owned())
        .filter(|value| !value.is_empty() && value.len() <= 200)
}

impl FromRequestParts<Console> for Visitor {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, console: &Console) -> Result<Self, Response> {
        let secret = session_cookie(&parts.headers, console.settings.secure_cookies);
        let Some(secret) = secret else {
            return Ok(Visitor::anonymous(console));
        };
        let session = PresentedSession(secret);
        let clients = Clients::new(console.rpc.channel(Some(&session)));
        match clients.directory().who_am_i(pb::WhoAmIRequest {}).await {
            Ok(me) => {
                let me = me.into_inner();
                let zone = match me.memberships.first() {
                    Some(first) => clients
                        .directory()
                        .get_organization(pb::GetOrganizationRequest {
                            organization: first.organization_id.clone(),
                        })
                        .await
                        .ok()
                        .and_then(|org| org.into_inner().time_zone.parse().ok()),
                    None => None,
                };
                Ok(Visitor {
                    session: Some(session),
                    me: Some(me),
                    zone,
                    session_lost: None,
                    now: console.clock.now(),
                    clients,
                })
            }
            Err(status) if status.code() == tonic::Code::Unauthenticated => {
                let mut visitor = Visitor::anonymous(console);
                visitor.session_lost = Some(crate::errors::russian(&status).message);
                Ok(visitor)
            }
            Err(status) => Err(crate::page::failure(&status)),
        }
    }
}

impl Visitor {
    fn anonymous(console: &Console) -> Self {
        Visitor {
            session: None,
            me: None,
            zone: None,
            session_lost: None,
            now: console.clock.now(),
            clients: Clients::new(console.rpc.channel(None)),
        }
    }
}

/// A form posted by the visitor, checked to come from this console: the
/// browser's `Sec-Fetch-Site` and `Origin` must name this site, and a
/// signed-in visitor's form must carry their token. A form that fails
/// changes nothing.
pub(crate) struct Posted<T> {
    pub(crate) visitor: Visitor,
    pub(crate) form: T,
}

#[derive(serde::Deserialize)]
struct Token {
    #[serde(default)]
    csrf: String,
}

impl<T: DeserializeOwned + Send> FromRequest<Console> for Posted<T> {
    type Rejection = Response;

    async fn from_request(request: Request, console: &Console) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let visitor = Visitor::from_request_parts(&mut parts, console).await?;
        if !same_site(&parts.headers, console.settings.secure_cookies) {
            return Err(refused(Notice::CrossSite));
        }
        let bytes = axum::body::to_bytes(body, 1 << 20)
            .await
            .map_err(|_| refused(Notice::TooLarge))?;
        let token: Token =
            serde_urlencoded::from_bytes(&bytes).map_err(|_| refused(Notice::BadForm))?;
        if visitor.signed_in() && !constant_time_eq(&token.csrf, &visitor.csrf()) {
            return Err(refused(Notice::CrossSite));
        }
        if !visitor.signed_in() && visitor.session_lost.is_some() {
            return Err(refused(Notice::SessionLost(
                visitor.session_lost.clone().unwrap_or_default(),
            )));
        }
        let form = serde_urlencoded::from_bytes(&bytes).map_err(|error| {
            tracing::debug!(%error, "a console form did not parse");
            refused(Notice::BadForm)
        })?;
        Ok(Posted { visitor, form })
    }
}

/// Whether a state-changing request comes from this site: by the fetch
/// metadata a browser sends, else by its `Origin` against `Host`.
fn same_site(headers: &HeaderMap, secure: bool) -> bool {
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = text("sec-fetch-site") {
        return matches!(site, "same-origin" | "none");
    }
    match (text("origin"), text("host")) {
        (Some(origin), Some(host)) => {
            let scheme = if secure { "https" } else { "http" };
            origin == format!("{scheme}://{host}")
        }
        (Some(_), None) => false,
        // Neither fetch metadata nor an origin: not a browser's cross-site
        // form (browsers send both), and the token decides.
        (None, _) => true,
    }
}

fn constant_time_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

impl IntoResponse for Notice {
    fn into_response(self) -> Response {
        refused(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn only_this_site_may_post() {
        assert!(same_site(
            &headers(&[("sec-fetch-site", "same-origin")]),
            false
        ));
        assert!(!same_site(
            &headers(&[("sec-fetch-site", "cross-site")]),
            false
        ));
        assert!(!same_site(
            &headers(&[("sec-fetch-site", "same-site")]),
            false
        ));
        let ok = headers(&[
            ("origin", "http://127.0.0.1:8080"),
            ("host", "127.0.0.1:8080"),
        ]);
        assert!(same_site(&ok, false));
        assert!(!same_site(&ok, true));
        let evil = headers(&[
            ("origin", "http://evil.example"),
            ("host", "127.0.0.1:8080"),
        ]);
        assert!(!same_site(&evil, false));
    }

    #[test]
    fn cookies_are_found_by_name() {
        let h = headers(&[("cookie", "a=1; edufed_session=edufed_session_x; b=2")]);
        assert_eq!(
            session_cookie(&h, false).as_deref(),
            Some("edufed_session_x")
        );
        assert_eq!(session_cookie(&h, true), None);
    }

    #[test]
    fn tokens_differ_per_session() {
        assert_ne!(csrf_of("a"), csrf_of("b"));
        assert_eq!(csrf_of("a").len(), 32);
        assert!(constant_time_eq(&csrf_of("a"), &csrf_of("a")));
    }
}
