//! The Directory's repository: organizations here; people and their
//! memberships in `people`; tokens and the callers behind them in `tokens`;
//! console sessions and their sign-in links in `sessions`.

mod designations;
mod identities;
mod people;
mod rows;
mod sessions;
mod tokens;

pub use designations::FoundDesignation;
pub(crate) use designations::{
    forget as forget_mirrored_designation, mirror as mirror_designation, push_designated,
};
pub use identities::{Grant, Granted, NewPendingSignIn};
pub(crate) use people::find_person;
pub(crate) use sessions::end_sessions_of;
pub use tokens::SUBSCRIPTION_TOKEN;

use edufed_domain::changes::{Actor, EntityKind, NewChange};
use edufed_domain::directory::{
    Error, NewOrganization, OrgRef, Organization, OrganizationFilter, OrganizationPatch, Slug,
};
use edufed_domain::ids::OrgId;
use edufed_domain::page::{PageSize, PageToken};
use sqlx::AnyConnection;

use self::rows::{ORG_COLUMNS, OrgRow};
use crate::Store;
use crate::error::{Constraint, on, storage};
use crate::sql::{QueryText, Value, decode_all, like_escape, micros, signed, to_json};
use crate::tx::Locked;

/// A page of results and where the next one starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// At most the page size of them, in the listing's order.
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
        .bind(to_json(&org.contacts)?)
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
        let mut q = QueryText::new(format!(
            "SELECT {ORG_COLUMNS} FROM organizations WHERE 1 = 1"
        ));
        if let Some(key) = after.and_then(|t| t.key().first()) {
            q.push(" AND slug > $?", Value::Text(key.clone()));
        }
        if let Some(kind) = filter.kind {
            q.push(" AND kind = $?", Value::Text(kind.as_str().to_owned()));
        }
        if let Some(city) = &filter.city {
            q.push(" AND city_folded = $?", Value::Text(city.clone()));
        }
        if let Some(query) = &filter.query {
            q.push(
                " AND search_text LIKE $? ESCAPE '\\'",
                Value::Text(format!("%{}%", like_escape(query))),
            );
        }
        if let Some(designation) = &filter.designation {
            push_designated(&mut q, "id", designation);
        }
        q.push(
            " ORDER BY slug LIMIT $?",
            Value::Int(i64::from(size.get()) + 1),
        );
        let rows: Vec<OrgRow> = q
            .query_as()
            .fetch_all(self.reader())
            .await
            .map_err(storage)?;
        let items = decode_all(rows)?;
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
        .bind(to_json(&next.contacts)?)
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
}

pub(crate) async fn find_org(
    conn: &mut AnyConnection,
    org: &OrgRef,
) -> Result<Organization, Error> {
    let (column, value) = match org {
        OrgRef::Id(id) => ("id", id.to_string()),
        OrgRef::Slug(slug) => ("slug", slug.to_string()),
    };
    let row: OrgRow = sqlx::query_as(&format!(
        "SELECT {ORG_COLUMNS} FROM organizations WHERE {column} = $1"
    ))
    .bind(value)
    .fetch_optional(&mut *conn)
    .await
    .map_err(storage)?
    .ok_or_else(|| Error::OrganizationNotFound(org.to_string()))?;
    Ok(row.try_into()?)
}
