//! The Directory's repository: organizations, people, memberships, tokens.

use chrono::{DateTime, Utc};
use edufed_domain::StorageError;
use edufed_domain::changes::{Actor, EntityKind, NewChange};
use edufed_domain::directory::{
    ApiToken, Contacts, Email, Error, Inn, Member, MemberRef, Membership, NewOrganization,
    NewPerson, NewToken, OrgKind, OrgRef, Organization, OrganizationFilter, OrganizationPatch,
    Person, Role, Slug, TokenHash, TokenSecret,
};
use edufed_domain::ids::{OrgId, PersonId, TokenId};
use edufed_domain::page::{PageSize, PageToken};
use edufed_domain::policy::{self, Principal};
use edufed_domain::time::TimeZone;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row as _};

use crate::Store;
use crate::error::{Constraint, on, storage};
use crate::sql::{instant, like_escape, micros, optional_instant, signed, unsigned};
use crate::tx::{Locked, WriteTx};

const ORG_COLUMNS: &str = "id, slug, kind, full_name, short_name, city, time_zone, contacts, inn, \
                           version, created_at, updated_at, home_node";
const PERSON_COLUMNS: &str = "p.id AS person_id, p.display_name, p.email, p.operator, \
                              p.version AS person_version, p.created_at AS person_created_at";
const TOKEN_COLUMNS: &str = "id, person_id, name, created_at, expires_at, revoked_at";

/// A page of results and where the next one starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The rows.
    pub items: Vec<T>,
    /// The token of the next page, if there is one.
    pub next: Option<PageToken>,
}

impl<T> Page<T> {
    /// A page from rows fetched with `LIMIT size + 1`: the extra row, if
    /// any, only says that there is a next page, which starts after the
    /// sort key (`key`) of the page's last row.
    pub(crate) fn from_overfetch(
        mut items: Vec<T>,
        size: PageSize,
        key: impl Fn(&T) -> Vec<String>,
    ) -> Self {
        let limit = size.get() as usize;
        let next = (items.len() > limit).then(|| {
            items.truncate(limit);
            PageToken::after(key(&items[limit - 1]))
        });
        Self { items, next }
    }
}

impl Store {
    /// Creates an organization.
    #[tracing::instrument(name = "store.directory.create_organization", skip_all, fields(slug = %new.slug))]
    pub async fn create_organization(
        &self,
        new: NewOrganization,
        actor: &Actor,
    ) -> Result<Organization, Error> {
        let org = new.into_organization(self.clock().now());
        let mut tx = self.write_tx().await?;
        sqlx::query(&format!(
            "INSERT INTO organizations ({ORG_COLUMNS}, city_folded, search_text) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)"
        ))
        .bind(org.id.to_string())
        .bind(org.slug.to_string())
        .bind(org.kind.as_str())
        .bind(org.full_name.clone())
        .bind(org.short_name.clone())
        .bind(org.city.clone())
        .bind(org.time_zone.name())
        .bind(contacts_json(&org.contacts)?)
        .bind(org.inn.as_ref().map(|i| i.as_str().to_owned()))
        .bind(signed(org.version))
        .bind(micros(org.created_at))
        .bind(micros(org.updated_at))
        .bind(org.home_node.clone())
        .bind(edufed_domain::text::fold(&org.city))
        .bind(org.search_text())
        .execute(tx.conn())
        .await
        .map_err(on(Constraint::OrganizationSlug, || {
            Error::SlugTaken(org.slug.to_string())
        }))?;
        tx.append(NewChange::upsert(
            EntityKind::Organization,
            org.id.to_string(),
            org.version,
            Some(org.id.clone()),
            &org,
            actor,
        ))
        .await?;
        tx.commit().await?;
        Ok(org)
    }

    /// Finds an organization by id or slug.
    #[tracing::instrument(name = "store.directory.get_organization", skip(self))]
    pub async fn get_organization(&self, org: &OrgRef) -> Result<Organization, Error> {
        let mut conn = self.reader().acquire().await.map_err(storage)?;
        find_org(&mut conn, org).await
    }

    /// Lists organizations by slug.
    #[tracing::instrument(name = "store.directory.list_organizations", skip(self))]
    pub async fn list_organizations(
        &self,
        filter: &OrganizationFilter,
        size: PageSize,
        after: Option<&PageToken>,
    ) -> Result<Page<Organization>, Error> {
        let mut sql = format!("SELECT {ORG_COLUMNS} FROM organizations WHERE 1 = 1");
        let mut binds: Vec<String> = Vec::new();
        let mut push = |sql: &mut String, clause: &str, value: String| {
            binds.push(value);
            *sql += &clause.replace("$?", &format!("${}", binds.len()));
        };
        if let Some(key) = after.and_then(|t| t.key().first()) {
            push(&mut sql, " AND slug > $?", key.clone());
        }
        if let Some(kind) = filter.kind {
            push(&mut sql, " AND kind = $?", kind.as_str().to_owned());
        }
        if let Some(city) = &filter.city {
            push(&mut sql, " AND city_folded = $?", city.clone());
        }
        if let Some(query) = &filter.query {
            push(
                &mut sql,
                " AND search_text LIKE $? ESCAPE '\\'",
                format!("%{}%", like_escape(query)),
            );
        }
        sql += &format!(" ORDER BY slug LIMIT ${}", binds.len() + 1);
        let mut query = sqlx::query(&sql);
        for value in binds {
            query = query.bind(value);
        }
        let rows = query
            .bind(i64::from(size.get()) + 1)
            .fetch_all(self.reader())
            .await
            .map_err(storage)?;
        let items = rows
            .iter()
            .map(org_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_overfetch(items, size, |org| {
            vec![org.slug.to_string()]
        }))
    }

    /// Applies a patch to an organization.
    #[tracing::instrument(name = "store.directory.update_organization", skip(self, patch, actor))]
    pub async fn update_organization(
        &self,
        org: &OrgRef,
        patch: OrganizationPatch,
        actor: &Actor,
    ) -> Result<Organization, Error> {
        let mut tx = self.write_tx().await?;
        let current = find_org(tx.conn(), org).await?;
        current.ensure_hosted_here()?;
        tx.lock(Locked::Organizations, current.id.as_str()).await?;
        let current = find_org(tx.conn(), &OrgRef::Id(current.id)).await?;
        let next = current.apply(patch, self.clock().now())?;
        sqlx::query(
            "UPDATE organizations SET kind = $1, full_name = $2, short_name = $3, city = $4, \
             city_folded = $5, time_zone = $6, contacts = $7, inn = $8, search_text = $9, \
             version = $10, updated_at = $11 WHERE id = $12",
        )
        .bind(next.kind.as_str())
        .bind(next.full_name.clone())
        .bind(next.short_name.clone())
        .bind(next.city.clone())
        .bind(edufed_domain::text::fold(&next.city))
        .bind(next.time_zone.name())
        .bind(contacts_json(&next.contacts)?)
        .bind(next.inn.as_ref().map(|i| i.as_str().to_owned()))
        .bind(next.search_text())
        .bind(signed(next.version))
        .bind(micros(next.updated_at))
        .bind(next.id.to_string())
        .execute(tx.conn())
        .await
        .map_err(storage)?;
        tx.append(NewChange::upsert(
            EntityKind::Organization,
            next.id.to_string(),
            next.version,
            Some(next.id.clone()),
            &next,
            actor,
        ))
        .await?;
        tx.commit().await?;
        Ok(next)
    }

    /// Adds a person (existing, or new unless one has the same e-mail) to an
    /// organization with a role.
    #[tracing::instrument(name = "store.directory.add_member", skip(self, who, actor))]
    pub async fn add_member(
        &self,
        org: &OrgRef,
        who: MemberRef,
        role: Role,
        actor: &Actor,
    ) -> Result<Member, Error> {
        let mut tx = self.write_tx().await?;
        let org = find_org(tx.conn(), org).await?;
        org.ensure_hosted_here()?;
        tx.lock(Locked::Organizations, org.id.as_str()).await?;
        let person = match who {
            MemberRef::Existing(id) => find_person(tx.conn(), &id).await?,
            MemberRef::New(new) => {
                let existing = match &new.email {
                    Some(email) => find_person_by_email(tx.conn(), email).await?,
                    None => None,
                };
                match existing {
                    Some(person) => person,
                    None => insert_person(&mut tx, new, actor).await?,
                }
            }
        };
        let membership = Membership {
            org_id: org.id.clone(),
            person_id: person.id.clone(),
            role,
            created_at: self.clock().now(),
        };
        sqlx::query(
            "INSERT INTO memberships (org_id, person_id, role, version, created_at) \
             VALUES ($1, $2, $3, 1, $4)",
        )
        .bind(membership.org_id.to_string())
        .bind(membership.person_id.to_string())
        .bind(role.as_str())
        .bind(micros(membership.created_at))
        .execute(tx.conn())
        .await
        .map_err(on(Constraint::Membership, || Error::AlreadyMember {
            person: person.id.clone(),
            organization: org.id.clone(),
        }))?;
        tx.append(NewChange::upsert(
            EntityKind::Membership,
            membership.entity_id(),
            1,
            Some(org.id.clone()),
            &membership,
            actor,
        ))
        .await?;
        tx.commit().await?;
        Ok(Member { person, membership })
    }

    /// Lists an organization's members by display name.
    #[tracing::instrument(name = "store.directory.list_members", skip(self))]
    pub async fn list_members(
        &self,
        org: &OrgId,
        size: PageSize,
        after: Option<&PageToken>,
    ) -> Result<Page<Member>, Error> {
        let mut sql = format!(
            "SELECT {PERSON_COLUMNS}, m.org_id, m.role, m.created_at \
             FROM memberships m JOIN people p ON p.id = m.person_id WHERE m.org_id = $1"
        );
        let after = after.map(|t| t.key().to_vec());
        if after.is_some() {
            sql += " AND (p.display_name > $2 OR (p.display_name = $2 AND p.id > $3)) \
                     ORDER BY p.display_name, p.id LIMIT $4";
        } else {
            sql += " ORDER BY p.display_name, p.id LIMIT $2";
        }
        let mut query = sqlx::query(&sql).bind(org.to_string());
        if let Some(key) = &after {
            query = query.bind(key[0].clone()).bind(key[1].clone());
        }
        let rows = query
            .bind(i64::from(size.get()) + 1)
            .fetch_all(self.reader())
            .await
            .map_err(storage)?;
        let items = rows
            .iter()
            .map(member_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_overfetch(items, size, |member| {
            vec![
                member.person.display_name.clone(),
                member.person.id.to_string(),
            ]
        }))
    }

    /// Removes a person from an organization, refusing to remove its last admin.
    #[tracing::instrument(name = "store.directory.remove_member", skip(self, actor))]
    pub async fn remove_member(
        &self,
        org: &OrgRef,
        person: &PersonId,
        actor: &Actor,
    ) -> Result<Member, Error> {
        let mut tx = self.write_tx().await?;
        let org = find_org(tx.conn(), org).await?;
        org.ensure_hosted_here()?;
        tx.lock(Locked::Organizations, org.id.as_str()).await?;
        let row = sqlx::query(&format!(
            "SELECT {PERSON_COLUMNS}, m.org_id, m.role, m.created_at, m.version AS membership_version \
             FROM memberships m JOIN people p ON p.id = m.person_id \
             WHERE m.org_id = $1 AND m.person_id = $2"
        ))
        .bind(org.id.to_string())
        .bind(person.to_string())
        .fetch_optional(tx.conn())
        .await
        .map_err(storage)?
        .ok_or_else(|| Error::NotAMember {
            person: person.clone(),
            organization: org.id.clone(),
        })?;
        let member = member_from_row(&row)?;
        let version = unsigned(row.try_get("membership_version").map_err(storage)?)?;
        let admins: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM memberships WHERE org_id = $1 AND role = $2")
                .bind(org.id.to_string())
                .bind(policy::MANAGING_ROLE.as_str())
                .fetch_one(tx.conn())
                .await
                .map_err(storage)?;
        if !policy::leaves_an_admin(member.membership.role, unsigned(admins)?) {
            return Err(Error::LastAdmin {
                person: person.clone(),
                organization: org.id.clone(),
            });
        }
        sqlx::query("DELETE FROM memberships WHERE org_id = $1 AND person_id = $2")
            .bind(org.id.to_string())
            .bind(person.to_string())
            .execute(tx.conn())
            .await
            .map_err(storage)?;
        tx.append(NewChange::delete(
            EntityKind::Membership,
            member.membership.entity_id(),
            version + 1,
            Some(org.id.clone()),
            &member.membership,
            actor,
        ))
        .await?;
        tx.commit().await?;
        Ok(member)
    }

    /// A person and every organization they belong to, with their role there.
    #[tracing::instrument(name = "store.directory.get_person", skip(self))]
    pub async fn get_person(&self, id: &PersonId) -> Result<(Person, Vec<(OrgId, Role)>), Error> {
        let mut conn = self.reader().acquire().await.map_err(storage)?;
        let person = find_person(&mut conn, id).await?;
        let roles = roles_of(&mut conn, id).await?;
        Ok((person, roles))
    }

    /// The slugs of organizations, by id, for showing memberships.
    pub async fn organization_slugs(&self, ids: &[OrgId]) -> Result<Vec<(OrgId, Slug)>, Error> {
        let mut out = Vec::with_capacity(ids.len());
        let mut conn = self.reader().acquire().await.map_err(storage)?;
        for id in ids {
            let org = find_org(&mut conn, &OrgRef::Id(id.clone())).await?;
            out.push((org.id, org.slug));
        }
        Ok(out)
    }

    /// Issues a token for a person; the secret is returned once and only its
    /// hash is stored.
    #[tracing::instrument(name = "store.directory.create_token", skip_all, fields(person = %new.person_id))]
    pub async fn create_token(
        &self,
        new: NewToken,
        actor: &Actor,
    ) -> Result<(ApiToken, TokenSecret), Error> {
        let mut tx = self.write_tx().await?;
        find_person(tx.conn(), &new.person_id).await?;
        let (token, secret) = insert_token(&mut tx, new, actor).await?;
        tx.commit().await?;
        Ok((token, secret))
    }

    /// A token's record.
    pub async fn get_token(&self, id: &TokenId) -> Result<ApiToken, Error> {
        let row = sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE id = $1"
        ))
        .bind(id.to_string())
        .fetch_optional(self.reader())
        .await
        .map_err(storage)?
        .ok_or_else(|| Error::TokenNotFound(id.to_string()))?;
        token_from_row(&row)
    }

    /// A person's tokens, newest first.
    #[tracing::instrument(name = "store.directory.list_tokens", skip(self))]
    pub async fn list_tokens(&self, person: &PersonId) -> Result<Vec<ApiToken>, Error> {
        let rows = sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE person_id = $1 \
             ORDER BY created_at DESC, id DESC"
        ))
        .bind(person.to_string())
        .fetch_all(self.reader())
        .await
        .map_err(storage)?;
        rows.iter().map(token_from_row).collect()
    }

    /// Revokes a token.
    #[tracing::instrument(name = "store.directory.revoke_token", skip(self, actor))]
    pub async fn revoke_token(&self, id: &TokenId, actor: &Actor) -> Result<ApiToken, Error> {
        let mut tx = self.write_tx().await?;
        let row = sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS}, version FROM api_tokens WHERE id = $1"
        ))
        .bind(id.to_string())
        .fetch_optional(tx.conn())
        .await
        .map_err(storage)?
        .ok_or_else(|| Error::TokenNotFound(id.to_string()))?;
        let mut token = token_from_row(&row)?;
        if token.revoked_at.is_some() {
            return Err(Error::AlreadyRevoked(id.clone()));
        }
        let version = unsigned(row.try_get("version").map_err(storage)?)? + 1;
        let at = self.clock().now();
        let updated = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1, version = $2 \
             WHERE id = $3 AND revoked_at IS NULL",
        )
        .bind(micros(at))
        .bind(signed(version))
        .bind(id.to_string())
        .execute(tx.conn())
        .await
        .map_err(storage)?;
        if updated.rows_affected() == 0 {
            return Err(Error::AlreadyRevoked(id.clone()));
        }
        token.revoked_at = Some(at);
        tx.append(NewChange::upsert(
            EntityKind::ApiToken,
            token.id.to_string(),
            version,
            None,
            &token,
            actor,
        ))
        .await?;
        tx.commit().await?;
        Ok(token)
    }

    /// Resolves a presented bearer secret to the caller, or says why it is
    /// not accepted.
    #[tracing::instrument(name = "store.directory.authenticate", skip_all)]
    pub async fn authenticate(&self, secret: &TokenSecret) -> Result<Principal, Error> {
        let mut conn = self.reader().acquire().await.map_err(storage)?;
        let row = sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE secret_hash = $1"
        ))
        .bind(secret.hash().as_str().to_owned())
        .fetch_optional(&mut *conn)
        .await
        .map_err(storage)?
        .ok_or(Error::UnknownToken)?;
        principal_of(&mut conn, token_from_row(&row)?, self.clock().now()).await
    }

    /// The caller behind a token already accepted once, as it is now: for
    /// long-lived streams, which must stop when the token is revoked or
    /// expires and see membership changes.
    #[tracing::instrument(name = "store.directory.reauthenticate", skip(self))]
    pub async fn reauthenticate(&self, token: &TokenId) -> Result<Principal, Error> {
        let mut conn = self.reader().acquire().await.map_err(storage)?;
        let row = sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE id = $1"
        ))
        .bind(token.to_string())
        .fetch_optional(&mut *conn)
        .await
        .map_err(storage)?
        .ok_or(Error::UnknownToken)?;
        principal_of(&mut conn, token_from_row(&row)?, self.clock().now()).await
    }

    /// The key of a token's private feed URLs, recorded so feeds can find
    /// the token again.
    #[tracing::instrument(name = "store.directory.feed_key", skip(self))]
    pub async fn feed_key(&self, token: &TokenId) -> Result<String, Error> {
        let mut tx = self.write_tx().await?;
        let hash: String = sqlx::query_scalar("SELECT secret_hash FROM api_tokens WHERE id = $1")
            .bind(token.to_string())
            .fetch_optional(tx.conn())
            .await
            .map_err(storage)?
            .ok_or_else(|| Error::TokenNotFound(token.to_string()))?;
        let key = TokenHash::from_stored(hash).feed_key();
        sqlx::query("UPDATE api_tokens SET feed_key = $1 WHERE id = $2")
            .bind(key.clone())
            .bind(token.to_string())
            .execute(tx.conn())
            .await
            .map_err(storage)?;
        tx.commit().await?;
        Ok(key)
    }

    /// The caller behind a private feed URL's key.
    #[tracing::instrument(name = "store.directory.authenticate_feed", skip_all)]
    pub async fn authenticate_feed(&self, key: &str) -> Result<Principal, Error> {
        let mut conn = self.reader().acquire().await.map_err(storage)?;
        let row = sqlx::query(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE feed_key = $1"
        ))
        .bind(key.to_owned())
        .fetch_optional(&mut *conn)
        .await
        .map_err(storage)?
        .ok_or(Error::UnknownToken)?;
        principal_of(&mut conn, token_from_row(&row)?, self.clock().now()).await
    }

    /// The node operator, created on first call. Safe when several
    /// processes start on one database at once: one creates, all get it.
    #[tracing::instrument(name = "store.directory.ensure_operator", skip(self))]
    pub async fn ensure_operator(&self) -> Result<Person, Error> {
        let select = format!("SELECT {PERSON_COLUMNS} FROM people p WHERE p.operator = 1");
        if let Some(row) = sqlx::query(&select)
            .fetch_optional(self.reader())
            .await
            .map_err(storage)?
        {
            return person_from_row(&row);
        }
        let mut tx = self.write_tx().await?;
        let operator = NewPerson {
            display_name: "Node operator".to_owned(),
            email: None,
        }
        .into_person(true, self.clock().now());
        let inserted = sqlx::query(
            "INSERT INTO people (id, display_name, email, operator, version, created_at) \
             VALUES ($1, $2, NULL, 1, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(operator.id.to_string())
        .bind(operator.display_name.clone())
        .bind(signed(operator.version))
        .bind(micros(operator.created_at))
        .execute(tx.conn())
        .await
        .map_err(storage)?
        .rows_affected();
        if inserted == 0 {
            drop(tx);
            let row = sqlx::query(&select)
                .fetch_one(self.reader())
                .await
                .map_err(storage)?;
            return person_from_row(&row);
        }
        tx.append(NewChange::upsert(
            EntityKind::Person,
            operator.id.to_string(),
            operator.version,
            None,
            &operator,
            &Actor::Node,
        ))
        .await?;
        tx.commit().await?;
        Ok(operator)
    }

    /// Issues a token for the operator that never expires: the node's
    /// bootstrap credential, written to the data directory.
    #[tracing::instrument(name = "store.directory.issue_operator_token", skip(self))]
    pub async fn issue_operator_token(&self) -> Result<(ApiToken, TokenSecret), Error> {
        let operator = self.ensure_operator().await?;
        let new = NewToken {
            person_id: operator.id,
            name: "operator (bootstrap)".to_owned(),
            ttl: None,
        };
        let mut tx = self.write_tx().await?;
        let issued = insert_token(&mut tx, new, &Actor::Node).await?;
        tx.commit().await?;
        Ok(issued)
    }
}

async fn principal_of(
    conn: &mut AnyConnection,
    token: ApiToken,
    now: DateTime<Utc>,
) -> Result<Principal, Error> {
    token.check_usable(now)?;
    let person = find_person(conn, &token.person_id).await?;
    let memberships = roles_of(conn, &person.id).await?;
    Ok(Principal {
        person_id: person.id,
        token_id: token.id,
        operator: person.operator,
        memberships,
    })
}

async fn insert_person(
    tx: &mut WriteTx<'_>,
    new: NewPerson,
    actor: &Actor,
) -> Result<Person, Error> {
    let person = new.into_person(false, tx.now());
    sqlx::query(
        "INSERT INTO people (id, display_name, email, operator, version, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(person.id.to_string())
    .bind(person.display_name.clone())
    .bind(person.email.as_ref().map(|e| e.as_str().to_owned()))
    .bind(0_i64)
    .bind(signed(person.version))
    .bind(micros(person.created_at))
    .execute(tx.conn())
    .await
    // Another call may have added a person with this e-mail since we looked.
    .map_err(on(Constraint::PersonEmail, || {
        Error::EmailTaken(
            person
                .email
                .as_ref()
                .map(|e| e.as_str().to_owned())
                .unwrap_or_default(),
        )
    }))?;
    tx.append(NewChange::upsert(
        EntityKind::Person,
        person.id.to_string(),
        person.version,
        None,
        &person,
        actor,
    ))
    .await?;
    Ok(person)
}

async fn insert_token(
    tx: &mut WriteTx<'_>,
    new: NewToken,
    actor: &Actor,
) -> Result<(ApiToken, TokenSecret), Error> {
    let (token, secret) = new.issue(tx.now());
    sqlx::query(
        "INSERT INTO api_tokens (id, person_id, name, secret_hash, version, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, 1, $5, $6)",
    )
    .bind(token.id.to_string())
    .bind(token.person_id.to_string())
    .bind(token.name.clone())
    .bind(secret.hash().as_str().to_owned())
    .bind(micros(token.created_at))
    .bind(token.expires_at.map(micros))
    .execute(tx.conn())
    .await
    .map_err(on(Constraint::TokenPerson, || {
        Error::PersonNotFound(token.person_id.to_string())
    }))?;
    tx.append(NewChange::upsert(
        EntityKind::ApiToken,
        token.id.to_string(),
        1,
        None,
        &token,
        actor,
    ))
    .await?;
    Ok((token, secret))
}

async fn find_org(conn: &mut AnyConnection, org: &OrgRef) -> Result<Organization, Error> {
    let (column, value) = match org {
        OrgRef::Id(id) => ("id", id.to_string()),
        OrgRef::Slug(slug) => ("slug", slug.to_string()),
    };
    let row = sqlx::query(&format!(
        "SELECT {ORG_COLUMNS} FROM organizations WHERE {column} = $1"
    ))
    .bind(value)
    .fetch_optional(&mut *conn)
    .await
    .map_err(storage)?
    .ok_or_else(|| Error::OrganizationNotFound(org.to_string()))?;
    org_from_row(&row)
}

async fn find_person(conn: &mut AnyConnection, id: &PersonId) -> Result<Person, Error> {
    let row = sqlx::query(&format!(
        "SELECT {PERSON_COLUMNS} FROM people p WHERE p.id = $1"
    ))
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await
    .map_err(storage)?
    .ok_or_else(|| Error::PersonNotFound(id.to_string()))?;
    person_from_row(&row)
}

async fn find_person_by_email(
    conn: &mut AnyConnection,
    email: &Email,
) -> Result<Option<Person>, Error> {
    let row = sqlx::query(&format!(
        "SELECT {PERSON_COLUMNS} FROM people p WHERE p.email = $1"
    ))
    .bind(email.as_str().to_owned())
    .fetch_optional(&mut *conn)
    .await
    .map_err(storage)?;
    row.as_ref().map(person_from_row).transpose()
}

async fn roles_of(conn: &mut AnyConnection, id: &PersonId) -> Result<Vec<(OrgId, Role)>, Error> {
    let rows =
        sqlx::query("SELECT org_id, role FROM memberships WHERE person_id = $1 ORDER BY org_id")
            .bind(id.to_string())
            .fetch_all(&mut *conn)
            .await
            .map_err(storage)?;
    rows.iter()
        .map(|row| {
            let org: String = row.try_get("org_id").map_err(storage)?;
            let role: String = row.try_get("role").map_err(storage)?;
            Ok((
                OrgId::from_stored(org),
                Role::parse("role", &role).map_err(StorageError::new)?,
            ))
        })
        .collect()
}

fn contacts_json(contacts: &Contacts) -> Result<String, StorageError> {
    serde_json::to_string(contacts).map_err(StorageError::new)
}

fn text(row: &AnyRow, column: &str) -> Result<String, StorageError> {
    row.try_get(column).map_err(storage)
}

fn int(row: &AnyRow, column: &str) -> Result<i64, StorageError> {
    row.try_get(column).map_err(storage)
}

fn org_from_row(row: &AnyRow) -> Result<Organization, Error> {
    let inn: Option<String> = row.try_get("inn").map_err(storage)?;
    Ok(Organization {
        id: OrgId::from_stored(text(row, "id")?),
        slug: Slug::from_stored(text(row, "slug")?),
        kind: OrgKind::parse("kind", &text(row, "kind")?).map_err(StorageError::new)?,
        full_name: text(row, "full_name")?,
        short_name: text(row, "short_name")?,
        city: text(row, "city")?,
        time_zone: TimeZone::parse("time_zone", &text(row, "time_zone")?)
            .map_err(StorageError::new)?,
        contacts: serde_json::from_str(&text(row, "contacts")?).map_err(StorageError::new)?,
        inn: inn
            .map(|inn| Inn::parse("inn", &inn))
            .transpose()
            .map_err(StorageError::new)?,
        version: unsigned(int(row, "version")?)?,
        created_at: instant(int(row, "created_at")?)?,
        updated_at: instant(int(row, "updated_at")?)?,
        home_node: row.try_get("home_node").map_err(storage)?,
    })
}

fn person_from_row(row: &AnyRow) -> Result<Person, Error> {
    let email: Option<String> = row.try_get("email").map_err(storage)?;
    Ok(Person {
        id: PersonId::from_stored(text(row, "person_id")?),
        display_name: text(row, "display_name")?,
        email: email
            .map(|e| Email::parse("email", &e))
            .transpose()
            .map_err(StorageError::new)?,
        operator: int(row, "operator")? != 0,
        version: unsigned(int(row, "person_version")?)?,
        created_at: instant(int(row, "person_created_at")?)?,
    })
}

fn member_from_row(row: &AnyRow) -> Result<Member, Error> {
    let person = person_from_row(row)?;
    let membership = Membership {
        org_id: OrgId::from_stored(text(row, "org_id")?),
        person_id: person.id.clone(),
        role: Role::parse("role", &text(row, "role")?).map_err(StorageError::new)?,
        created_at: instant(int(row, "created_at")?)?,
    };
    Ok(Member { person, membership })
}

fn token_from_row(row: &AnyRow) -> Result<ApiToken, Error> {
    Ok(ApiToken {
        id: TokenId::from_stored(text(row, "id")?),
        person_id: PersonId::from_stored(text(row, "person_id")?),
        name: text(row, "name")?,
        created_at: instant(int(row, "created_at")?)?,
        expires_at: optional_instant(row.try_get("expires_at").map_err(storage)?)?,
        revoked_at: optional_instant(row.try_get("revoked_at").map_err(storage)?)?,
    })
}
