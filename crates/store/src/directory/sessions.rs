//! Console sessions and the one-time sign-in links that start them. They
//! are this node's own business: neither enters the change log.

use edufed_domain::StorageError;
use edufed_domain::directory::{Error, TokenSecret};
use edufed_domain::ids::{PersonId, SessionId, SignInLinkId};
use edufed_domain::policy::{Credential, Principal};
use edufed_domain::session::{EndReason, NewSignInLink, Origin, Session, SignInLink};
use sqlx::AnyConnection;

use super::people::{find_person, roles_of};
use crate::Store;
use crate::error::storage;
use crate::sql::{decode_all, instant, micros, optional_instant};
use crate::tx::WriteTx;

pub(super) const LINK_COLUMNS: &str =
    "id, person_id, issued_by, created_at, expires_at, used_at, invitation";
const SESSION_COLUMNS: &str = "id, person_id, origin, issuer, user_agent, started_at, \
                               last_seen_at, idle_expires_at, expires_at, ended_at, end_reason";

/// The most sessions a listing shows: the newest.
const LISTED_SESSIONS: i64 = 100;

impl Store {
    /// Issues a one-time sign-in link for a person; the secret is returned
    /// once and only its hash is kept.
    #[tracing::instrument(name = "store.sessions.create_sign_in_link", skip_all, fields(person = %new.person_id))]
    pub async fn create_sign_in_link(
        &self,
        new: NewSignInLink,
    ) -> Result<(SignInLink, TokenSecret), Error> {
        let mut tx = self.write_tx().await?;
        find_person(tx.conn(), &new.person_id).await?;
        if !new.invitation {
            // A member of an organization that requires an identity
            // provider signs in through it, not with a link.
            super::identities::check_no_requirement(tx.conn(), &new.person_id, None).await?;
        }
        let (link, secret) = new.issue(tx.now());
        sqlx::query(
            "INSERT INTO sign_in_links (id, person_id, issued_by, secret_hash, created_at, \
             expires_at, invitation) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(link.id.to_string())
        .bind(link.person_id.to_string())
        .bind(link.issued_by.as_ref().map(ToString::to_string))
        .bind(secret.hash().as_str().to_owned())
        .bind(micros(link.created_at))
        .bind(micros(link.expires_at))
        .bind(i64::from(link.invitation))
        .execute(tx.conn())
        .await
        .map_err(storage)?;
        tx.commit().await?;
        Ok((link, secret))
    }

    /// Starts a session from a sign-in link, which never works again.
    #[tracing::instrument(name = "store.sessions.redeem_sign_in_link", skip_all)]
    pub async fn redeem_sign_in_link(
        &self,
        secret: &TokenSecret,
        user_agent: &str,
    ) -> Result<(Session, TokenSecret), Error> {
        let mut tx = self.write_tx().await?;
        let now = tx.now();
        let link: SignInLink = sqlx::query_as::<_, LinkRow>(&format!(
            "SELECT {LINK_COLUMNS} FROM sign_in_links WHERE secret_hash = $1"
        ))
        .bind(secret.hash().as_str().to_owned())
        .fetch_optional(tx.conn())
        .await
        .map_err(storage)?
        .ok_or(Error::UnknownLink)?
        .try_into()?;
        link.check_usable(now)?;
        if link.invitation {
            return Err(Error::InvitationOnly);
        }
        super::identities::check_no_requirement(tx.conn(), &link.person_id, None).await?;
        let used =
            sqlx::query("UPDATE sign_in_links SET used_at = $1 WHERE id = $2 AND used_at IS NULL")
                .bind(micros(now))
                .bind(link.id.to_string())
                .execute(tx.conn())
                .await
                .map_err(storage)?;
        if used.rows_affected() == 0 {
            return Err(Error::LinkUsed(now));
        }
        let started = insert_session(
            &mut tx,
            self,
            link.person_id,
            Origin::Link,
            None,
            user_agent,
        )
        .await?;
        tx.commit().await?;
        Ok(started)
    }

    /// Resolves a session's secret to the caller, moving its idle deadline
    /// on (at most once a minute), or says why it is not accepted.
    #[tracing::instrument(name = "store.sessions.authenticate_session", skip_all)]
    pub async fn authenticate_session(&self, secret: &TokenSecret) -> Result<Principal, Error> {
        let mut conn = self.reader().acquire().await.map_err(storage)?;
        let session: Session = sqlx::query_as::<_, SessionRow>(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE secret_hash = $1"
        ))
        .bind(secret.hash().as_str().to_owned())
        .fetch_optional(&mut *conn)
        .await
        .map_err(storage)?
        .ok_or(Error::UnknownSession)?
        .try_into()?;
        let now = self.clock().now();
        session.check_usable(now)?;
        let principal = principal_of(&mut conn, &session).await?;
        drop(conn);
        if let Some(idle_until) = session.touch(self.session_lifetimes(), now) {
            let mut tx = self.write_tx().await?;
            sqlx::query(
                "UPDATE sessions SET last_seen_at = $1, idle_expires_at = $2 \
                 WHERE id = $3 AND ended_at IS NULL",
            )
            .bind(micros(now))
            .bind(micros(idle_until))
            .bind(session.id.to_string())
            .execute(tx.conn())
            .await
            .map_err(storage)?;
            tx.commit().await?;
        }
        Ok(principal)
    }

    /// The caller behind a session already accepted once, as it is now.
    #[tracing::instrument(name = "store.sessions.reauthenticate_session", skip(self))]
    pub async fn reauthenticate_session(&self, id: &SessionId) -> Result<Principal, Error> {
        let mut conn = self.reader().acquire().await.map_err(storage)?;
        let session = session_by_id(&mut conn, id)
            .await?
            .ok_or(Error::UnknownSession)?;
        session.check_usable(self.clock().now())?;
        principal_of(&mut conn, &session).await
    }

    /// A session's record.
    pub async fn get_session(&self, id: &SessionId) -> Result<Session, Error> {
        let mut conn = self.reader().acquire().await.map_err(storage)?;
        session_by_id(&mut conn, id)
            .await?
            .ok_or_else(|| Error::SessionNotFound(id.to_string()))
    }

    /// A person's sessions, newest first, ended ones included (the last 100).
    #[tracing::instrument(name = "store.sessions.list_sessions", skip(self))]
    pub async fn list_sessions(&self, person: &PersonId) -> Result<Vec<Session>, Error> {
        let rows: Vec<SessionRow> = sqlx::query_as(&format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE person_id = $1 \
             ORDER BY started_at DESC, id DESC LIMIT {LISTED_SESSIONS}"
        ))
        .bind(person.to_string())
        .fetch_all(self.reader())
        .await
        .map_err(storage)?;
        Ok(decode_all(rows)?)
    }

    /// Ends a session.
    #[tracing::instrument(name = "store.sessions.end_session", skip(self))]
    pub async fn end_session(&self, id: &SessionId, reason: EndReason) -> Result<Session, Error> {
        let mut tx = self.write_tx().await?;
        let mut session = session_by_id(tx.conn(), id)
            .await?
            .ok_or_else(|| Error::SessionNotFound(id.to_string()))?;
        if session.ended.is_some() {
            return Err(Error::SessionAlreadyEnded(id.clone()));
        }
        let at = tx.now();
        sqlx::query(
            "UPDATE sessions SET ended_at = $1, end_reason = $2 WHERE id = $3 AND ended_at IS NULL",
        )
        .bind(micros(at))
        .bind(reason.as_str())
        .bind(id.to_string())
        .execute(tx.conn())
        .await
        .map_err(storage)?;
        tx.commit().await?;
        session.ended = Some((at, reason));
        Ok(session)
    }
}

/// Ends every open session of a person and voids their unused sign-in
/// links, inside the transaction that took their membership away.
pub(crate) async fn end_sessions_of(
    tx: &mut WriteTx<'_>,
    person: &PersonId,
    reason: EndReason,
) -> Result<(), Error> {
    let at = micros(tx.now());
    sqlx::query(
        "UPDATE sessions SET ended_at = $1, end_reason = $2 \
         WHERE person_id = $3 AND ended_at IS NULL AND idle_expires_at > $1 AND expires_at > $1",
    )
    .bind(at)
    .bind(reason.as_str())
    .bind(person.to_string())
    .execute(tx.conn())
    .await
    .map_err(storage)?;
    sqlx::query(
        "UPDATE sign_in_links SET expires_at = $1 WHERE person_id = $2 AND used_at IS NULL \
         AND expires_at > $1",
    )
    .bind(at)
    .bind(person.to_string())
    .execute(tx.conn())
    .await
    .map_err(storage)?;
    Ok(())
}

pub(super) async fn insert_session(
    tx: &mut WriteTx<'_>,
    store: &Store,
    person: PersonId,
    origin: Origin,
    issuer: Option<&str>,
    user_agent: &str,
) -> Result<(Session, TokenSecret), Error> {
    let (mut session, secret) = Session::start(
        person,
        origin,
        user_agent,
        store.session_lifetimes(),
        tx.now(),
    );
    session.issuer = issuer.map(str::to_owned);
    sqlx::query(
        "INSERT INTO sessions (id, person_id, secret_hash, origin, issuer, user_agent, \
         started_at, last_seen_at, idle_expires_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(session.id.to_string())
    .bind(session.person_id.to_string())
    .bind(secret.hash().as_str().to_owned())
    .bind(session.origin.as_str())
    .bind(session.issuer.clone())
    .bind(session.user_agent.clone())
    .bind(micros(session.started_at))
    .bind(micros(session.last_seen_at))
    .bind(micros(session.idle_expires_at))
    .bind(micros(session.expires_at))
    .execute(tx.conn())
    .await
    .map_err(storage)?;
    Ok((session, secret))
}

pub(super) async fn session_by_id(
    conn: &mut AnyConnection,
    id: &SessionId,
) -> Result<Option<Session>, Error> {
    let row: Option<SessionRow> = sqlx::query_as(&format!(
        "SELECT {SESSION_COLUMNS} FROM sessions WHERE id = $1"
    ))
    .bind(id.to_string())
    .fetch_optional(conn)
    .await
    .map_err(storage)?;
    Ok(row.map(Session::try_from).transpose()?)
}

async fn principal_of(conn: &mut AnyConnection, session: &Session) -> Result<Principal, Error> {
    let person = find_person(conn, &session.person_id).await?;
    let memberships = roles_of(conn, &person.id).await?;
    Ok(Principal {
        person_id: person.id,
        credential: Credential::Session(session.id.clone()),
        operator: person.operator,
        memberships,
    })
}

#[derive(sqlx::FromRow)]
pub(super) struct LinkRow {
    id: String,
    person_id: String,
    issued_by: Option<String>,
    created_at: i64,
    expires_at: i64,
    used_at: Option<i64>,
    invitation: i64,
}

impl TryFrom<LinkRow> for SignInLink {
    type Error = StorageError;

    fn try_from(row: LinkRow) -> Result<Self, StorageError> {
        Ok(SignInLink {
            id: SignInLinkId::from_stored(row.id),
            person_id: PersonId::from_stored(row.person_id),
            issued_by: row.issued_by.map(PersonId::from_stored),
            created_at: instant(row.created_at)?,
            expires_at: instant(row.expires_at)?,
            used_at: optional_instant(row.used_at)?,
            invitation: row.invitation != 0,
        })
    }
}

#[derive(sqlx::FromRow)]
struct SessionRow {
    id: String,
    person_id: String,
    origin: String,
    issuer: Option<String>,
    user_agent: String,
    started_at: i64,
    last_seen_at: i64,
    idle_expires_at: i64,
    expires_at: i64,
    ended_at: Option<i64>,
    end_reason: Option<String>,
}

impl TryFrom<SessionRow> for Session {
    type Error = StorageError;

    fn try_from(row: SessionRow) -> Result<Self, StorageError> {
        let corrupt = |what: &str| StorageError::msg(format!("session {}: {what}", row.id));
        let ended = match (row.ended_at, &row.end_reason) {
            (None, _) => None,
            (Some(at), Some(reason)) => Some((
                instant(at)?,
                EndReason::parse("end_reason", reason).map_err(|e| corrupt(&e.to_string()))?,
            )),
            (Some(_), None) => return Err(corrupt("ended without a reason")),
        };
        Ok(Session {
            origin: Origin::parse("origin", &row.origin).map_err(|e| corrupt(&e.to_string()))?,
            id: SessionId::from_stored(row.id),
            person_id: PersonId::from_stored(row.person_id),
            issuer: row.issuer,
            user_agent: row.user_agent,
            started_at: instant(row.started_at)?,
            last_seen_at: instant(row.last_seen_at)?,
            idle_expires_at: instant(row.idle_expires_at)?,
            expires_at: instant(row.expires_at)?,
            ended,
        })
    }
}
