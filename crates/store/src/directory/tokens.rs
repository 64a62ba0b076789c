//! API tokens: issued, listed and revoked, and the callers they stand for.

use chrono::{DateTime, Utc};
use edufed_domain::changes::{Actor, EntityKind, NewChange};
use edufed_domain::directory::{ApiToken, Error, NewToken, TokenHash, TokenSecret};
use edufed_domain::ids::{PersonId, TokenId};
use edufed_domain::policy::{Credential, Principal};
use sqlx::AnyConnection;

use super::people::{find_person, roles_of};
use super::rows::{TOKEN_COLUMNS, TokenRow, VersionedTokenRow};
use crate::Store;
use crate::error::{Constraint, on, storage};
use crate::sql::{decode_all, micros, signed, unsigned};
use crate::tx::WriteTx;

/// The name of the token behind a person's calendar subscriptions.
pub const SUBSCRIPTION_TOKEN: &str = "calendar subscription";

impl Store {
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
        let row: TokenRow = sqlx::query_as(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE id = $1"
        ))
        .bind(id.to_string())
        .fetch_optional(self.reader())
        .await
        .map_err(storage)?
        .ok_or_else(|| Error::TokenNotFound(id.to_string()))?;
        Ok(row.try_into()?)
    }

    /// A person's tokens, newest first.
    #[tracing::instrument(name = "store.directory.list_tokens", skip(self))]
    pub async fn list_tokens(&self, person: &PersonId) -> Result<Vec<ApiToken>, Error> {
        let rows: Vec<TokenRow> = sqlx::query_as(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE person_id = $1 \
             ORDER BY created_at DESC, id DESC"
        ))
        .bind(person.to_string())
        .fetch_all(self.reader())
        .await
        .map_err(storage)?;
        Ok(decode_all(rows)?)
    }

    /// Revokes a token.
    #[tracing::instrument(name = "store.directory.revoke_token", skip(self, actor))]
    pub async fn revoke_token(&self, id: &TokenId, actor: &Actor) -> Result<ApiToken, Error> {
        let mut tx = self.write_tx().await?;
        let token = revoke_in(&mut tx, id, actor).await?;
        tx.commit().await?;
        Ok(token)
    }

    /// Resolves a presented bearer secret to the caller, or says why it is
    /// not accepted.
    #[tracing::instrument(name = "store.directory.authenticate", skip_all)]
    pub async fn authenticate(&self, secret: &TokenSecret) -> Result<Principal, Error> {
        let mut conn = self.reader().acquire().await.map_err(storage)?;
        let row: TokenRow = sqlx::query_as(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE secret_hash = $1"
        ))
        .bind(secret.hash().as_str().to_owned())
        .fetch_optional(&mut *conn)
        .await
        .map_err(storage)?
        .ok_or(Error::UnknownToken)?;
        principal_of(&mut conn, row.try_into()?, self.clock().now()).await
    }

    /// The caller behind a token already accepted once, as it is now: for
    /// long-lived streams, which must stop when the token is revoked or
    /// expires and see membership changes.
    #[tracing::instrument(name = "store.directory.reauthenticate", skip(self))]
    pub async fn reauthenticate(&self, token: &TokenId) -> Result<Principal, Error> {
        let mut conn = self.reader().acquire().await.map_err(storage)?;
        let row: TokenRow = sqlx::query_as(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE id = $1"
        ))
        .bind(token.to_string())
        .fetch_optional(&mut *conn)
        .await
        .map_err(storage)?
        .ok_or(Error::UnknownToken)?;
        principal_of(&mut conn, row.try_into()?, self.clock().now()).await
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

    /// The key of a person's private feed URLs when they have no token of
    /// their own at hand (a console session): that of their working token
    /// named [`SUBSCRIPTION_TOKEN`], issued here the first time with its
    /// secret thrown away, so it serves feeds and nothing else. They see it
    /// among their tokens, and revoking it ends the feed.
    #[tracing::instrument(name = "store.directory.subscription_feed_key", skip(self))]
    pub async fn subscription_feed_key(&self, person: &PersonId) -> Result<String, Error> {
        let now = self.clock().now();
        let usable = self
            .list_tokens(person)
            .await?
            .into_iter()
            .find(|t| t.name == SUBSCRIPTION_TOKEN && t.check_usable(now).is_ok());
        let token = match usable {
            Some(token) => token,
            None => {
                let new = NewToken::parse(
                    person.clone(),
                    SUBSCRIPTION_TOKEN,
                    Some(chrono::Duration::days(366)),
                )?;
                self.create_token(new, &Actor::Person(person.clone()))
                    .await?
                    .0
            }
        };
        self.feed_key(&token.id).await
    }

    /// The caller behind a private feed URL's key.
    #[tracing::instrument(name = "store.directory.authenticate_feed", skip_all)]
    pub async fn authenticate_feed(&self, key: &str) -> Result<Principal, Error> {
        let mut conn = self.reader().acquire().await.map_err(storage)?;
        let row: TokenRow = sqlx::query_as(&format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE feed_key = $1"
        ))
        .bind(key.to_owned())
        .fetch_optional(&mut *conn)
        .await
        .map_err(storage)?
        .ok_or(Error::UnknownToken)?;
        principal_of(&mut conn, row.try_into()?, self.clock().now()).await
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
        credential: Credential::Token(token.id),
        operator: person.operator,
        memberships,
    })
}

pub(super) async fn insert_token(
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

/// Revokes a token inside `tx`, recording the change.
pub(super) async fn revoke_in(
    tx: &mut WriteTx<'_>,
    id: &TokenId,
    actor: &Actor,
) -> Result<ApiToken, Error> {
    let row: VersionedTokenRow = sqlx::query_as(&format!(
        "SELECT {TOKEN_COLUMNS}, version FROM api_tokens WHERE id = $1"
    ))
    .bind(id.to_string())
    .fetch_optional(tx.conn())
    .await
    .map_err(storage)?
    .ok_or_else(|| Error::TokenNotFound(id.to_string()))?;
    let mut token = ApiToken::try_from(row.token)?;
    if token.revoked_at.is_some() {
        return Err(Error::AlreadyRevoked(id.clone()));
    }
    let version = unsigned(row.version)? + 1;
    let at = tx.now();
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
    Ok(token)
}
