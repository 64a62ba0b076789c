//! The Directory: organizations hosted on a node, people with a role per
//! organization, and the API tokens people authenticate with.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use rand::RngCore as _;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::error::{ErrorCode, FieldError, ServiceError, StorageError};
use crate::ids::{OrgId, PersonId, TokenId};
use crate::text;
use crate::time::TimeZone;

/// Why a Directory operation failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The input broke a rule.
    #[error(transparent)]
    Invalid(#[from] FieldError),
    /// No organization has this id or slug.
    #[error("organization {0:?} not found")]
    OrganizationNotFound(String),
    /// No person has this id.
    #[error("person {0} not found")]
    PersonNotFound(String),
    /// No token has this id.
    #[error("token {0} not found")]
    TokenNotFound(String),
    /// The person holds no role in the organization.
    #[error("person {person} is not a member of organization {organization}")]
    NotAMember {
        person: PersonId,
        organization: OrgId,
    },
    /// Another organization has this slug.
    #[error("slug {0:?} is already taken")]
    SlugTaken(String),
    /// A person with this e-mail was created by a concurrent call.
    #[error("a person with e-mail {0:?} was just added by another call; retry to add them")]
    EmailTaken(String),
    /// The person already holds a role in the organization.
    #[error("person {person} is already a member of organization {organization}")]
    AlreadyMember {
        person: PersonId,
        organization: OrgId,
    },
    /// The organization changed since the version the caller saw.
    #[error("organization {id} is at version {actual}, not the expected {expected}")]
    VersionMismatch {
        id: OrgId,
        /// The version the caller expected.
        expected: u64,
        /// The version stored now.
        actual: u64,
    },
    /// Removing this member would leave the organization without an admin.
    #[error(
        "person {person} is the last admin of organization {organization}; add another admin first"
    )]
    LastAdmin {
        person: PersonId,
        organization: OrgId,
    },
    /// The organization is hosted on another node, which alone changes it.
    #[error("organization {organization} is hosted on node {node}; change it or its members there")]
    HostedElsewhere {
        organization: OrgId,
        /// The node that hosts it.
        node: String,
    },
    /// The token was already revoked.
    #[error("token {0} is already revoked")]
    AlreadyRevoked(TokenId),
    /// The bearer token presented is not known.
    #[error("the bearer token is not valid")]
    UnknownToken,
    /// The bearer token presented has been revoked.
    #[error("the bearer token has been revoked")]
    RevokedToken,
    /// The bearer token presented has expired.
    #[error("the bearer token expired at {0}")]
    ExpiredToken(DateTime<Utc>),
    /// No session has this id.
    #[error("session {0} not found")]
    SessionNotFound(String),
    /// The session was already ended.
    #[error("session {0} has already ended")]
    SessionAlreadyEnded(crate::ids::SessionId),
    /// The sign-in link presented is not known.
    #[error("the sign-in link is not valid")]
    UnknownLink,
    /// The sign-in link presented has started a session already.
    #[error("the sign-in link was already used at {0}; ask for a new one")]
    LinkUsed(DateTime<Utc>),
    /// The sign-in link presented has expired.
    #[error("the sign-in link expired at {0}; ask for a new one")]
    LinkExpired(DateTime<Utc>),
    /// The session presented is not known.
    #[error("the session is not valid; sign in again")]
    UnknownSession,
    /// The session presented was ended.
    #[error("the session ended at {0}; sign in again")]
    SessionEnded(DateTime<Utc>),
    /// The session presented has expired.
    #[error("the session expired at {0}; sign in again")]
    SessionExpired(DateTime<Utc>),
    /// No one on this node is bound to the account that signed in.
    #[error(
        "the account {account} at {issuer} is not bound to anyone on this node; ask an admin of your organization to add you with this e-mail or to send you an invitation"
    )]
    IdentityUnbound {
        /// Its e-mail, else its subject.
        account: String,
        issuer: String,
    },
    /// The account's e-mail is someone's, but the issuer has not verified it.
    #[error(
        "the identity provider has not verified the e-mail {0}; ask an admin of your organization for an invitation"
    )]
    EmailNotVerified(String),
    /// An organization of the person requires another way of signing in.
    #[error("organization {organization} requires its members to sign in through {issuer}")]
    IssuerRequired {
        organization: OrgId,
        /// The issuer's name on this node.
        issuer: String,
    },
    /// The invited person is bound to another account at this issuer.
    #[error("person {person} is already bound to another account at {issuer}; unbind it first")]
    AlreadyBound { person: PersonId, issuer: String },
    /// The account is bound to someone other than the invited person.
    #[error("this account at {0} is already bound to another person")]
    BoundToAnother(String),
    /// The person has no account bound at the issuer.
    #[error("person {person} has no account bound at {issuer}")]
    IdentityNotFound { person: PersonId, issuer: String },
    /// The sign-in presented was not started here, or has finished.
    #[error("this sign-in was not started here or has already finished; start again")]
    UnknownSignIn,
    /// The sign-in presented was started too long ago.
    #[error("this sign-in was started too long ago and lapsed at {0}; start again")]
    SignInExpired(DateTime<Utc>),
    /// A sign-in link that only binds an account was used to start a session.
    #[error("this link is an invitation: sign in with it through an identity provider")]
    InvitationOnly,
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] StorageError),
}

impl ServiceError for Error {
    fn error_code(&self) -> ErrorCode {
        match self {
            Error::Invalid(_) => ErrorCode::InvalidArgument,
            Error::OrganizationNotFound(_)
            | Error::PersonNotFound(_)
            | Error::TokenNotFound(_)
            | Error::SessionNotFound(_)
            | Error::IdentityNotFound { .. }
            | Error::NotAMember { .. } => ErrorCode::NotFound,
            Error::SlugTaken(_)
            | Error::AlreadyMember { .. }
            | Error::EmailTaken(_)
            | Error::AlreadyBound { .. }
            | Error::BoundToAnother(_) => ErrorCode::AlreadyExists,
            Error::IdentityUnbound { .. } | Error::EmailNotVerified(_) => {
                ErrorCode::PermissionDenied
            }
            Error::VersionMismatch { .. }
            | Error::LastAdmin { .. }
            | Error::AlreadyRevoked(_)
            | Error::SessionAlreadyEnded(_)
            | Error::IssuerRequired { .. }
            | Error::InvitationOnly
            | Error::HostedElsewhere { .. } => ErrorCode::FailedPrecondition,
            Error::UnknownToken
            | Error::RevokedToken
            | Error::ExpiredToken(_)
            | Error::UnknownLink
            | Error::LinkUsed(_)
            | Error::LinkExpired(_)
            | Error::UnknownSession
            | Error::SessionEnded(_)
            | Error::UnknownSignIn
            | Error::SignInExpired(_)
            | Error::SessionExpired(_) => ErrorCode::Unauthenticated,
            Error::Storage(e) => e.error_code(),
        }
    }

    fn field(&self) -> Option<&str> {
        match self {
            Error::Invalid(e) => Some(&e.field),
            _ => None,
        }
    }
}

use crate::stable::string_enum;

string_enum!(
    /// What kind of institution an organization is.
    OrgKind as OrganizationKind {
        /// A school, gymnasium or lyceum.
        School = "school",
        /// A university or institute.
        University = "university",
        /// A college of secondary vocational education.
        College = "college",
        /// A children's technopark.
        Technopark = "technopark",
        Museum = "museum",
        Theatre = "theatre",
        /// A centre of additional education.
        AdditionalEducation = "additional_education",
        /// The methodical centre overseeing the network.
        MethodicalCentre = "methodical_centre",
        /// A business or an industrial company.
        Enterprise = "enterprise",
        /// Anything else; also a peer's kind this node does not know.
        Other = "other",
    }
);

string_enum!(
    /// A person's role within one organization.
    Role {
        /// Manages the organization, its members and their tokens.
        Admin = "admin",
        /// Publishes and coordinates activities, bookings and agreements.
        Coordinator = "coordinator",
        /// Teaches; registers groups and requests bookings.
        Teacher = "teacher",
        /// Sees what members see; changes nothing.
        Viewer = "viewer",
    }
);

/// An organization's unique, URL-safe name.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Slug(String);

impl Slug {
    /// 3 to 63 lowercase Latin letters, digits and single hyphens, starting
    /// with a letter and not ending with a hyphen.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let slug = raw.trim();
        let fail = |why: &str| {
            Err(FieldError::new(
                field,
                format!("{} {why}", text::excerpt(slug)),
            ))
        };
        if slug.is_empty() {
            return Err(FieldError::new(field, "is required"));
        }
        if !(3..=63).contains(&slug.len()) {
            return fail("must be 3 to 63 characters long");
        }
        if !slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return fail("may hold only lowercase Latin letters, digits and hyphens");
        }
        if !slug.as_bytes()[0].is_ascii_lowercase() {
            return fail("must start with a letter");
        }
        if slug.ends_with('-') || slug.contains("--") {
            return fail("must not end with a hyphen or hold two in a row");
        }
        Ok(Self(slug.to_owned()))
    }

    /// Wraps a slug read back from storage.
    pub fn from_stored(raw: String) -> Self {
        Self(raw)
    }

    /// The slug as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A Russian taxpayer number (ИНН) with valid check digits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Inn(String);

impl Inn {
    /// 10 digits (a legal entity) or 12 (an individual), check digits included.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let inn = raw.trim();
        let digits: Vec<u32> = inn.chars().filter_map(|c| c.to_digit(10)).collect();
        if digits.len() != inn.chars().count() || !(digits.len() == 10 || digits.len() == 12) {
            return Err(FieldError::new(field, "must be 10 or 12 digits"));
        }
        let check = |weights: &[u32]| -> u32 {
            let sum: u32 = weights.iter().zip(&digits).map(|(w, d)| w * d).sum();
            sum % 11 % 10
        };
        let valid = if digits.len() == 10 {
            check(&[2, 4, 10, 3, 5, 9, 4, 6, 8]) == digits[9]
        } else {
            check(&[7, 2, 4, 10, 3, 5, 9, 4, 6, 8]) == digits[10]
                && check(&[3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8]) == digits[11]
        };
        if !valid {
            return Err(FieldError::new(
                field,
                format!("{} has wrong check digits", text::excerpt(inn)),
            ));
        }
        Ok(Self(inn.to_owned()))
    }

    /// The number as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An e-mail address, lowercased.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    /// A plausible address: one `@`, a non-empty local part, a dotted domain,
    /// no spaces, at most 254 characters. Stored lowercase so uniqueness is
    /// case-insensitive.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        let email = raw.trim();
        if email.len() > 254 {
            return Err(FieldError::new(field, "is longer than 254 characters"));
        }
        let valid = match email.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && !domain.contains('@')
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !email.chars().any(|c| c.is_whitespace() || c.is_control())
            }
            None => false,
        };
        if !valid {
            return Err(FieldError::new(
                field,
                format!("{} is not an e-mail address", text::excerpt(email)),
            ));
        }
        Ok(Self(email.to_lowercase()))
    }

    /// The address as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How to reach an organization.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contacts {
    pub email: Option<Email>,
    /// Digits, spaces and `+()-`, at least five digits, at most 32
    /// characters.
    pub phone: Option<String>,
    /// An http(s) URL.
    pub website: Option<String>,
    /// A postal address, one line of at most 500 characters.
    pub address: Option<String>,
}

impl Contacts {
    /// Validates raw contact fields; errors name `contacts.<field>`.
    pub fn parse(
        email: &str,
        phone: &str,
        website: &str,
        address: &str,
    ) -> Result<Self, FieldError> {
        let email = if email.trim().is_empty() {
            None
        } else {
            Some(Email::parse("contacts.email", email)?)
        };
        let phone = text::optional_line("contacts.phone", phone, 32)?;
        if let Some(phone) = &phone {
            let allowed = |c: char| c.is_ascii_digit() || " +()-".contains(c);
            if !phone.chars().all(allowed) || phone.chars().filter(char::is_ascii_digit).count() < 5
            {
                return Err(FieldError::new(
                    "contacts.phone",
                    format!("{} is not a phone number", text::excerpt(phone)),
                ));
            }
        }
        let website = text::optional_line("contacts.website", website, 2048)?;
        if let Some(site) = &website {
            let lower = site.to_ascii_lowercase();
            let rest = lower
                .strip_prefix("https://")
                .or_else(|| lower.strip_prefix("http://"));
            if rest.is_none_or(|r| r.is_empty() || r.contains(char::is_whitespace)) {
                return Err(FieldError::new(
                    "contacts.website",
                    format!("{} is not an http(s) URL", text::excerpt(site)),
                ));
            }
        }
        let address = text::optional_line("contacts.address", address, 500)?;
        Ok(Self {
            email,
            phone,
            website,
            address,
        })
    }
}

/// The longest full name, in characters.
pub const MAX_FULL_NAME: usize = 300;
/// The longest short name, in characters.
pub const MAX_SHORT_NAME: usize = 100;
/// The longest city name, in characters.
pub const MAX_CITY: usize = 100;
/// The longest person name, in characters.
pub const MAX_PERSON_NAME: usize = 200;
/// The longest token name, in characters.
pub const MAX_TOKEN_NAME: usize = 100;

/// An organization hosted on the node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Organization {
    /// The same on every node that knows the organization.
    pub id: OrgId,
    /// Unique on the node; an organization taken in from a peer may carry
    /// a suffix here.
    pub slug: Slug,
    pub kind: OrgKind,
    /// The full official name, as in its charter.
    pub full_name: String,
    /// The name reports and listings show.
    pub short_name: String,
    /// As written; searches compare it folded.
    pub city: String,
    /// The zone its local days and hours are read in.
    pub time_zone: TimeZone,
    pub contacts: Contacts,
    /// Its taxpayer number (ИНН), when stated.
    pub inn: Option<Inn>,
    /// Increases on every change.
    pub version: u64,
    /// By the hosting node's clock.
    pub created_at: DateTime<Utc>,
    /// By the hosting node's clock; equal to `created_at` until a change.
    pub updated_at: DateTime<Utc>,
    /// The pinned peer that hosts it, for an organization of another node
    /// known here; `None` for this node's own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home_node: Option<String>,
}

/// A validated organization to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewOrganization {
    /// Refused when another organization on the node has it.
    pub slug: Slug,
    pub kind: OrgKind,
    /// At most [`MAX_FULL_NAME`] characters.
    pub full_name: String,
    /// At most [`MAX_SHORT_NAME`] characters.
    pub short_name: String,
    /// At most [`MAX_CITY`] characters.
    pub city: String,
    pub time_zone: TimeZone,
    pub contacts: Contacts,
    pub inn: Option<Inn>,
}

impl NewOrganization {
    /// The organization as first stored.
    pub fn into_organization(self, now: DateTime<Utc>) -> Organization {
        Organization {
            id: OrgId::generate(),
            slug: self.slug,
            kind: self.kind,
            full_name: self.full_name,
            short_name: self.short_name,
            city: self.city,
            time_zone: self.time_zone,
            contacts: self.contacts,
            inn: self.inn,
            version: 1,
            created_at: now,
            updated_at: now,
            home_node: None,
        }
    }
}

/// Validated changes to an organization; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrganizationPatch {
    /// Apply only at this version, when set.
    pub expected_version: Option<u64>,
    pub kind: Option<OrgKind>,
    pub full_name: Option<String>,
    pub short_name: Option<String>,
    pub city: Option<String>,
    pub time_zone: Option<TimeZone>,
    /// New contacts, replacing the old.
    pub contacts: Option<Contacts>,
    /// New taxpayer number; `Some(None)` removes it.
    pub inn: Option<Option<Inn>>,
}

impl Organization {
    /// Refuses a change to an organization another node hosts.
    pub fn ensure_hosted_here(&self) -> Result<(), Error> {
        match &self.home_node {
            None => Ok(()),
            Some(node) => Err(Error::HostedElsewhere {
                organization: self.id.clone(),
                node: node.clone(),
            }),
        }
    }

    /// The organization after `patch`, with its version bumped, or
    /// `VersionMismatch` when the caller saw an older version.
    pub fn apply(&self, patch: OrganizationPatch, now: DateTime<Utc>) -> Result<Self, Error> {
        if let Some(expected) = patch.expected_version
            && expected != self.version
        {
            return Err(Error::VersionMismatch {
                id: self.id.clone(),
                expected,
                actual: self.version,
            });
        }
        let mut next = self.clone();
        if let Some(kind) = patch.kind {
            next.kind = kind;
        }
        if let Some(full_name) = patch.full_name {
            next.full_name = full_name;
        }
        if let Some(short_name) = patch.short_name {
            next.short_name = short_name;
        }
        if let Some(city) = patch.city {
            next.city = city;
        }
        if let Some(zone) = patch.time_zone {
            next.time_zone = zone;
        }
        if let Some(contacts) = patch.contacts {
            next.contacts = contacts;
        }
        if let Some(inn) = patch.inn {
            next.inn = inn;
        }
        next.version = self.version + 1;
        next.updated_at = now;
        Ok(next)
    }

    /// The text a directory search matches against, folded.
    pub fn search_text(&self) -> String {
        text::fold(&format!(
            "{} {} {}",
            self.slug, self.full_name, self.short_name
        ))
    }
}

/// Filters of an organization listing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OrganizationFilter {
    pub kind: Option<OrgKind>,
    /// Only this city, folded.
    pub city: Option<String>,
    /// Only names containing this text, folded.
    pub query: Option<String>,
    /// Only organizations with a designation answering this.
    pub designation: Option<crate::designations::DesignationQuery>,
}

/// A person known to the node.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Person {
    pub id: PersonId,
    /// Name shown to others.
    pub display_name: String,
    /// E-mail, unique on the node.
    pub email: Option<Email>,
    /// Whether this is the node's operator, who may do everything on it but
    /// sign for an organization; one person per node.
    pub operator: bool,
    /// Increases on every change.
    pub version: u64,
    /// By the node's clock.
    pub created_at: DateTime<Utc>,
}

/// A validated person to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewPerson {
    /// Name shown to others, at most [`MAX_PERSON_NAME`] characters.
    pub display_name: String,
    /// A person already on the node with this e-mail is added instead of a
    /// new one.
    pub email: Option<Email>,
}

impl NewPerson {
    /// Validates the fields of a new person; errors are nested under `parent`.
    pub fn parse(parent: &str, display_name: &str, email: &str) -> Result<Self, FieldError> {
        let display_name = text::line("display_name", display_name, MAX_PERSON_NAME)
            .map_err(|e| e.within(parent))?;
        let email = if email.trim().is_empty() {
            None
        } else {
            Some(Email::parse("email", email).map_err(|e| e.within(parent))?)
        };
        Ok(Self {
            display_name,
            email,
        })
    }

    /// The person as first stored.
    pub fn into_person(self, operator: bool, now: DateTime<Utc>) -> Person {
        Person {
            id: PersonId::generate(),
            display_name: self.display_name,
            email: self.email,
            operator,
            version: 1,
            created_at: now,
        }
    }
}

/// Who to add as a member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberRef {
    /// A person already on the node, by id.
    Existing(PersonId),
    /// A new person, or the existing one with the same e-mail.
    New(NewPerson),
}

/// A person's role in an organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Membership {
    pub org_id: OrgId,
    pub person_id: PersonId,
    pub role: Role,
    /// When the person was added, by the node's clock.
    pub created_at: DateTime<Utc>,
}

impl Membership {
    /// The id of a membership in the change log.
    pub fn entity_id(&self) -> String {
        format!("{}/{}", self.org_id, self.person_id)
    }
}

/// A membership with its person, as members are listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub person: Person,
    pub membership: Membership,
}

/// An API token's record. The secret itself is never stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiToken {
    pub id: TokenId,
    /// The person it acts for.
    pub person_id: PersonId,
    /// A label its owner chose, e.g. "laptop" or "timetable sync".
    pub name: String,
    /// By the node's clock.
    pub created_at: DateTime<Utc>,
    /// Stops working at; never when `None`.
    pub expires_at: Option<DateTime<Utc>>,
    /// When it was revoked; a revoked token never works again.
    pub revoked_at: Option<DateTime<Utc>>,
}

impl ApiToken {
    /// Whether the token may authenticate a call at `now`.
    pub fn check_usable(&self, now: DateTime<Utc>) -> Result<(), Error> {
        if self.revoked_at.is_some() {
            return Err(Error::RevokedToken);
        }
        match self.expires_at {
            Some(expiry) if expiry <= now => Err(Error::ExpiredToken(expiry)),
            _ => Ok(()),
        }
    }
}

/// The shortest token lifetime.
pub const MIN_TOKEN_TTL: Duration = Duration::minutes(1);
/// The longest token lifetime.
pub const MAX_TOKEN_TTL: Duration = Duration::days(2 * 366);
/// A token's lifetime when none is asked for.
pub const DEFAULT_TOKEN_TTL: Duration = Duration::days(90);

/// A validated request for a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewToken {
    /// The person it acts for.
    pub person_id: PersonId,
    /// A label its owner chose, at most [`MAX_TOKEN_NAME`] characters.
    pub name: String,
    /// Lifetime; `None` never expires (only the operator's bootstrap token).
    pub ttl: Option<Duration>,
}

impl NewToken {
    /// A token for a person with a bounded lifetime (`DEFAULT_TOKEN_TTL` when `ttl` is `None`).
    pub fn parse(
        person_id: PersonId,
        name: &str,
        ttl: Option<Duration>,
    ) -> Result<Self, FieldError> {
        let name = text::line("name", name, MAX_TOKEN_NAME)?;
        let ttl = ttl.unwrap_or(DEFAULT_TOKEN_TTL);
        if ttl < MIN_TOKEN_TTL || ttl > MAX_TOKEN_TTL {
            return Err(FieldError::new(
                "ttl",
                "must be between 1 minute and 2 years",
            ));
        }
        Ok(Self {
            person_id,
            name,
            ttl: Some(ttl),
        })
    }

    /// Issues the token: its record, and the secret to show once.
    pub fn issue(self, now: DateTime<Utc>) -> (ApiToken, TokenSecret) {
        let token = ApiToken {
            id: TokenId::generate(),
            person_id: self.person_id,
            name: self.name,
            created_at: now,
            expires_at: self.ttl.map(|ttl| now + ttl),
            revoked_at: None,
        };
        (token, TokenSecret::generate())
    }
}

/// A bearer secret: 256 random bits behind a recognisable prefix (so that
/// secret scanners can find leaked ones).
pub struct TokenSecret(String);

/// The prefix of every token secret.
pub const TOKEN_PREFIX: &str = "edufed_";

impl TokenSecret {
    fn generate() -> Self {
        Self::generate_with(TOKEN_PREFIX)
    }

    /// 256 random bits behind `prefix`: sign-in links and sessions have
    /// secrets of their own kind.
    pub(crate) fn generate_with(prefix: &str) -> Self {
        let mut bytes = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut bytes);
        Self(format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// Wraps a secret presented by a client.
    pub fn presented(raw: &str) -> Self {
        Self(raw.trim().to_owned())
    }

    /// The hash stored in place of the secret. SHA-256 suffices: the secret
    /// has 256 bits of entropy, so there is nothing to brute-force.
    pub fn hash(&self) -> TokenHash {
        TokenHash(hex::encode(Sha256::digest(self.0.as_bytes())))
    }

    /// The secret, to show once.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for TokenSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TokenSecret(..)")
    }
}

/// The stored hash of a token secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenHash(String);

impl TokenHash {
    /// The hash as hex.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The secret key of this token's iCalendar feed URLs: derived from the
    /// hash, so it needs no storage of its own and dies with the token.
    pub fn feed_key(&self) -> String {
        hex::encode(Sha256::digest(
            format!("edufed-ics-feed:{}", self.0).as_bytes(),
        ))
    }

    /// Wraps a stored hash.
    pub fn from_stored(hash: String) -> Self {
        Self(hash)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slug_rules() {
        assert!(Slug::parse("slug", "gym24-tomsk").is_ok());
        for bad in [
            "",
            "ab",
            "Gym24",
            "24gym",
            "gym--24",
            "gym-",
            "гимназия",
            &"a".repeat(64),
        ] {
            let err = Slug::parse("slug", bad).unwrap_err();
            assert_eq!(err.field, "slug", "{bad}");
        }
    }

    #[test]
    fn inn_check_digits() {
        // Gymnasium 24 of Tomsk, from the seeds.
        assert!(Inn::parse("inn", "7017001894").is_ok());
        assert!(Inn::parse("inn", "7017001895").is_err());
        assert!(Inn::parse("inn", "500100732259").is_ok());
        assert!(Inn::parse("inn", "500100732258").is_err());
        assert!(Inn::parse("inn", "70170O1894").is_err());
        assert!(Inn::parse("inn", "123").is_err());
    }

    #[test]
    fn contacts_name_the_nested_field() {
        let err = Contacts::parse("nope", "", "", "").unwrap_err();
        assert_eq!(err.field, "contacts.email");
        let err = Contacts::parse("", "call me", "", "").unwrap_err();
        assert_eq!(err.field, "contacts.phone");
        let err = Contacts::parse("", "", "ftp://x", "").unwrap_err();
        assert_eq!(err.field, "contacts.website");
        let ok = Contacts::parse(
            "Gym24@Education70.ru",
            "+7 (3822) 52-00-00",
            "https://gym24.ru",
            "",
        )
        .unwrap();
        assert_eq!(ok.email.unwrap().as_str(), "gym24@education70.ru");
    }

    #[test]
    fn patch_bumps_version_and_checks_expected() {
        let now = Utc::now();
        let org = NewOrganization {
            slug: Slug::parse("slug", "tsu").unwrap(),
            kind: OrgKind::University,
            full_name: "Томский государственный университет".into(),
            short_name: "ТГУ".into(),
            city: "Томск".into(),
            time_zone: TimeZone::parse("time_zone", "Asia/Tomsk").unwrap(),
            contacts: Contacts::default(),
            inn: None,
        }
        .into_organization(now);
        let patch = OrganizationPatch {
            expected_version: Some(1),
            city: Some("Северск".into()),
            ..Default::default()
        };
        let next = org.apply(patch.clone(), now).unwrap();
        assert_eq!((next.version, next.city.as_str()), (2, "Северск"));
        assert!(matches!(
            next.apply(patch, now),
            Err(Error::VersionMismatch {
                expected: 1,
                actual: 2,
                ..
            })
        ));
    }

    #[test]
    fn tokens_hash_stably_and_expire() {
        let now = Utc::now();
        let person = PersonId::generate();
        let (token, secret) = NewToken::parse(person, "laptop", Some(Duration::hours(1)))
            .unwrap()
            .issue(now);
        assert!(secret.expose().starts_with(TOKEN_PREFIX));
        assert_eq!(
            secret.hash(),
            TokenSecret::presented(secret.expose()).hash()
        );
        assert!(token.check_usable(now).is_ok());
        assert!(matches!(
            token.check_usable(now + Duration::hours(2)),
            Err(Error::ExpiredToken(_))
        ));
        assert!(NewToken::parse(PersonId::generate(), "x", Some(Duration::seconds(5))).is_err());
        assert!(NewToken::parse(PersonId::generate(), " ", None).is_err());
    }
}

/// How a client names an organization: by id or by slug.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OrgRef {
    /// By id.
    Id(OrgId),
    /// By slug.
    Slug(Slug),
}

impl OrgRef {
    /// An id if the text is one, else a slug.
    pub fn parse(field: &str, raw: &str) -> Result<Self, FieldError> {
        if raw.trim().is_empty() {
            return Err(FieldError::new(
                field,
                "is required (an organization id or slug)",
            ));
        }
        match OrgId::parse(field, raw) {
            Ok(id) => Ok(Self::Id(id)),
            Err(_) => Slug::parse(field, raw).map(Self::Slug).map_err(|_| {
                FieldError::new(
                    field,
                    format!(
                        "{} is neither an organization id nor a slug",
                        text::excerpt(raw.trim())
                    ),
                )
            }),
        }
    }
}

impl fmt::Display for OrgRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OrgRef::Id(id) => write!(f, "{id}"),
            OrgRef::Slug(slug) => write!(f, "{slug}"),
        }
    }
}
