//! People and their memberships: who belongs to which organization, in
//! which role, and the node's operator.

use edufed_domain::changes::{Actor, EntityKind, NewChange};
use edufed_domain::directory::{
    Email, Error, Member, MemberRef, Membership, NewPerson, OrgRef, Person, Role,
};
use edufed_domain::ids::{OrgId, PersonId};
use edufed_domain::page::{PageSize, PageToken};
use edufed_domain::policy;
use edufed_domain::session::EndReason;
use sqlx::AnyConnection;

use super::rows::{MemberRow, PERSON_COLUMNS, PersonRow, RoleRow, VersionedMemberRow};
use super::{Page, find_org};
use crate::Store;
use crate::error::{Constraint, on, storage};
use crate::sql::{decode_all, micros, signed, unsigned};
use crate::tx::{Locked, WriteTx};

impl Store {
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
        let mut query = sqlx::query_as::<_, MemberRow>(&sql).bind(org.to_string());
        if let Some(key) = &after {
            query = query.bind(key[0].clone()).bind(key[1].clone());
        }
        let rows = query
            .bind(i64::from(size.get()) + 1)
            .fetch_all(self.reader())
            .await
            .map_err(storage)?;
        let items = decode_all(rows)?;
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
        let row: VersionedMemberRow = sqlx::query_as(&format!(
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
        let version = unsigned(row.membership_version)?;
        let member = Member::try_from(row.member)?;
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
        // Whoever loses a role is signed out everywhere at once.
        super::sessions::end_sessions_of(&mut tx, person, EndReason::MembershipRemoved).await?;
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

    /// The node operator, created on first call. Safe when several
    /// processes start on one database at once: one creates, all get it.
    #[tracing::instrument(name = "store.directory.ensure_operator", skip(self))]
    pub async fn ensure_operator(&self) -> Result<Person, Error> {
        let select = format!("SELECT {PERSON_COLUMNS} FROM people p WHERE p.operator = 1");
        if let Some(row) = sqlx::query_as::<_, PersonRow>(&select)
            .fetch_optional(self.reader())
            .await
            .map_err(storage)?
        {
            return Ok(row.try_into()?);
        }
        let mut tx = self.write_tx().await?;
        let operator = NewPerson {
            display_name: "Оператор узла".to_owned(),
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
            // Another start made it: read in this transaction, which sees it
            // even before it commits (it may share SQLite's group commit).
            let row: PersonRow = sqlx::query_as(&select)
                .fetch_one(tx.conn())
                .await
                .map_err(storage)?;
            return tx.replay(row.try_into()?).await;
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

pub(crate) async fn find_person(conn: &mut AnyConnection, id: &PersonId) -> Result<Person, Error> {
    let row: PersonRow = sqlx::query_as(&format!(
        "SELECT {PERSON_COLUMNS} FROM people p WHERE p.id = $1"
    ))
    .bind(id.to_string())
    .fetch_optional(&mut *conn)
    .await
    .map_err(storage)?
    .ok_or_else(|| Error::PersonNotFound(id.to_string()))?;
    Ok(row.try_into()?)
}

async fn find_person_by_email(
    conn: &mut AnyConnection,
    email: &Email,
) -> Result<Option<Person>, Error> {
    let row: Option<PersonRow> = sqlx::query_as(&format!(
        "SELECT {PERSON_COLUMNS} FROM people p WHERE p.email = $1"
    ))
    .bind(email.as_str().to_owned())
    .fetch_optional(&mut *conn)
    .await
    .map_err(storage)?;
    Ok(row.map(Person::try_from).transpose()?)
}

pub(super) async fn roles_of(
    conn: &mut AnyConnection,
    id: &PersonId,
) -> Result<Vec<(OrgId, Role)>, Error> {
    let rows: Vec<RoleRow> =
        sqlx::query_as("SELECT org_id, role FROM memberships WHERE person_id = $1 ORDER BY org_id")
            .bind(id.to_string())
            .fetch_all(&mut *conn)
            .await
            .map_err(storage)?;
    Ok(rows
        .into_iter()
        .map(<(OrgId, Role)>::try_from)
        .collect::<Result<_, _>>()?)
}
