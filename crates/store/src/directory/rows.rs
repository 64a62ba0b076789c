//! The directory tables' rows, each decoded in one place.

use edufed_domain::StorageError;
use edufed_domain::directory::{
    ApiToken, Email, Inn, Member, Membership, OrgKind, Organization, Person, Role, Slug,
};
use edufed_domain::ids::{OrgId, PersonId, TokenId};
use edufed_domain::time::TimeZone;

use crate::sql::{from_json, instant, optional_instant, unsigned};

pub(super) const ORG_COLUMNS: &str = "id, slug, kind, full_name, short_name, city, time_zone, \
                                      contacts, inn, version, created_at, updated_at, home_node";
/// A person's columns, named apart from a membership's joined with them.
pub(super) const PERSON_COLUMNS: &str = "p.id AS person_id, p.display_name, p.email, p.operator, \
                                         p.version AS person_version, \
                                         p.created_at AS person_created_at";
pub(super) const TOKEN_COLUMNS: &str = "id, person_id, name, created_at, expires_at, revoked_at";

#[derive(sqlx::FromRow)]
pub(super) struct OrgRow {
    id: String,
    slug: String,
    kind: String,
    full_name: String,
    short_name: String,
    city: String,
    time_zone: String,
    /// The organization's contacts, JSON.
    contacts: String,
    inn: Option<String>,
    version: i64,
    created_at: i64,
    updated_at: i64,
    home_node: Option<String>,
}

impl TryFrom<OrgRow> for Organization {
    type Error = StorageError;

    fn try_from(row: OrgRow) -> Result<Self, StorageError> {
        Ok(Organization {
            id: OrgId::from_stored(row.id),
            slug: Slug::from_stored(row.slug),
            kind: OrgKind::parse("kind", &row.kind).map_err(StorageError::new)?,
            full_name: row.full_name,
            short_name: row.short_name,
            city: row.city,
            time_zone: TimeZone::parse("time_zone", &row.time_zone).map_err(StorageError::new)?,
            contacts: from_json(&row.contacts)?,
            inn: row
                .inn
                .map(|inn| Inn::parse("inn", &inn))
                .transpose()
                .map_err(StorageError::new)?,
            version: unsigned(row.version)?,
            created_at: instant(row.created_at)?,
            updated_at: instant(row.updated_at)?,
            home_node: row.home_node,
        })
    }
}

/// A person, read with [`PERSON_COLUMNS`].
#[derive(sqlx::FromRow)]
pub(super) struct PersonRow {
    person_id: String,
    display_name: String,
    email: Option<String>,
    operator: i64,
    person_version: i64,
    person_created_at: i64,
}

impl TryFrom<PersonRow> for Person {
    type Error = StorageError;

    fn try_from(row: PersonRow) -> Result<Self, StorageError> {
        Ok(Person {
            id: PersonId::from_stored(row.person_id),
            display_name: row.display_name,
            email: row
                .email
                .map(|e| Email::parse("email", &e))
                .transpose()
                .map_err(StorageError::new)?,
            operator: row.operator != 0,
            version: unsigned(row.person_version)?,
            created_at: instant(row.person_created_at)?,
        })
    }
}

/// A membership joined with its person.
#[derive(sqlx::FromRow)]
pub(super) struct MemberRow {
    #[sqlx(flatten)]
    person: PersonRow,
    org_id: String,
    role: String,
    created_at: i64,
}

impl TryFrom<MemberRow> for Member {
    type Error = StorageError;

    fn try_from(row: MemberRow) -> Result<Self, StorageError> {
        let person = Person::try_from(row.person)?;
        let membership = Membership {
            org_id: OrgId::from_stored(row.org_id),
            person_id: person.id.clone(),
            role: Role::parse("role", &row.role).map_err(StorageError::new)?,
            created_at: instant(row.created_at)?,
        };
        Ok(Member { person, membership })
    }
}

/// A member with the membership's version, for a write that supersedes it.
#[derive(sqlx::FromRow)]
pub(super) struct VersionedMemberRow {
    #[sqlx(flatten)]
    pub(super) member: MemberRow,
    pub(super) membership_version: i64,
}

/// One of a person's roles.
#[derive(sqlx::FromRow)]
pub(super) struct RoleRow {
    org_id: String,
    role: String,
}

impl TryFrom<RoleRow> for (OrgId, Role) {
    type Error = StorageError;

    fn try_from(row: RoleRow) -> Result<Self, StorageError> {
        Ok((
            OrgId::from_stored(row.org_id),
            Role::parse("role", &row.role).map_err(StorageError::new)?,
        ))
    }
}

#[derive(sqlx::FromRow)]
pub(super) struct TokenRow {
    id: String,
    person_id: String,
    name: String,
    created_at: i64,
    expires_at: Option<i64>,
    revoked_at: Option<i64>,
}

impl TryFrom<TokenRow> for ApiToken {
    type Error = StorageError;

    fn try_from(row: TokenRow) -> Result<Self, StorageError> {
        Ok(ApiToken {
            id: TokenId::from_stored(row.id),
            person_id: PersonId::from_stored(row.person_id),
            name: row.name,
            created_at: instant(row.created_at)?,
            expires_at: optional_instant(row.expires_at)?,
            revoked_at: optional_instant(row.revoked_at)?,
        })
    }
}

/// A token with its row's version, for a write that supersedes it.
#[derive(sqlx::FromRow)]
pub(super) struct VersionedTokenRow {
    #[sqlx(flatten)]
    pub(super) token: TokenRow,
    pub(super) version: i64,
}
