//! Accounts at identity providers bound to people, the sign-ins started
//! through them, and organizations' requirement of one issuer. All of it is
//! this node's own business: none of it enters the change log (but the
//! command line's tokens a sign-in issues do, as every token does).

use edufed_domain::StorageError;
use edufed_domain::changes::Actor;
use edufed_domain::directory::{ApiToken, Email, Error, NewToken, TokenHash, TokenSecret};
use edufed_domain::identity::{
    Account, BoundBy, CLI_TOKEN_TTL, Identity, Known, PendingSignIn, Resolution, SIGN_IN_TTL,
    email_key, resolve,
};
use edufed_domain::ids::{OrgId, PersonId, SignInId, SignInLinkId};
use edufed_domain::session::{EndReason, Origin, Session, SignInLink};
use sqlx::AnyConnection;

use super::people::find_person;
use super::sessions::{LinkRow, insert_session};
use crate::Store;
use crate::error::{Constraint, DbFailure, storage};
use crate::sql::{decode_all, instant, micros, optional_instant};
use crate::tx::WriteTx;

const IDENTITY_COLUMNS: &str =
    "issuer, subject, person_id, email, bound_by, bound_at, last_sign_in_at";
const PENDING_COLUMNS: &str = "id, issuer, nonce, pkce_verifier, device_code, invitation_id, \
                               created_at, expires_at, used_at";

/// A sign-in to keep until it comes back.
#[derive(Debug)]
pub struct NewPendingSignIn {
    pub issuer: String,
    /// The hash of the browser's state or the command line's handle.
    pub secret_hash: TokenHash,
    pub nonce: Option<String>,
    pub pkce_verifier: Option<String>,
    pub device_code: Option<String>,
    /// The secret of the invitation it completes.
    pub invitation: Option<TokenSecret>,
}

/// What a finished sign-in gives: a console session or the command line's
/// token.
pub enum Granted {
    Session(Session, TokenSecret),
    Token(ApiToken, TokenSecret),
}

/// What a finished sign-in should give.
#[derive(Debug, Clone, Copy)]
pub enum Grant<'a> {
    /// A session for the browser that names itself so.
    Session { user_agent: &'a str },
    /// A short-lived token for the command line.
    Token,
}

impl Store {
    /// Keeps a sign-in started through an issuer. An invitation it carries
    /// must be one, and usable.
    #[tracing::instrument(name = "store.identities.begin_sign_in", skip_all, fields(issuer = %new.issuer))]
    pub async fn begin_sign_in(&self, new: NewPendingSignIn) -> Result<PendingSignIn, Error> {
        let mut tx = self.write_tx().await?;
        let now = tx.now();
        let invitation = match &new.invitation {
            Some(secret) => {
                let link = link_by_secret(tx.conn(), secret).await?;
                link.check_usable(now)?;
                if !link.invitation {
                    return Err(Error::UnknownLink);
                }
                Some(link.id)
            }
            None => None,
        };
        // Sign-ins left unfinished a day ago are of no use to anyone.
        sqlx::query("DELETE FROM pending_sign_ins WHERE expires_at < $1")
            .bind(micros(now - chrono::Duration::days(1)))
            .execute(tx.conn())
            .await
            .map_err(storage)?;
        let pending = PendingSignIn {
            id: SignInId::generate(),
            issuer: new.issuer,
            nonce: new.nonce,
            pkce_verifier: new.pkce_verifier,
            device_code: new.device_code,
            invitation,
            created_at: now,
            expires_at: now + SIGN_IN_TTL,
            used_at: None,
        };
        sqlx::query(
            "INSERT INTO pending_sign_ins (id, secret_hash, issuer, nonce, pkce_verifier, \
             device_code, invitation_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(pending.id.to_string())
        .bind(new.secret_hash.as_str().to_owned())
        .bind(pending.issuer.clone())
        .bind(pending.nonce.clone())
        .bind(pending.pkce_verifier.clone())
        .bind(pending.device_code.clone())
        .bind(pending.invitation.as_ref().map(ToString::to_string))
        .bind(micros(pending.created_at))
        .bind(micros(pending.expires_at))
        .execute(tx.conn())
        .await
        .map_err(storage)?;
        tx.commit().await?;
        Ok(pending)
    }

    /// A started sign-in, still usable, left as it is (the command line
    /// polls it).
    pub async fn pending_sign_in(&self, secret: &TokenSecret) -> Result<PendingSignIn, Error> {
        let mut conn = self.reader().acquire().await.map_err(storage)?;
        let pending = pending_by_secret(&mut conn, secret).await?;
        pending.check_usable(self.clock().now())?;
        Ok(pending)
    }

    /// Takes a started sign-in: it never works again, whatever comes of it.
    #[tracing::instrument(name = "store.identities.take_sign_in", skip_all)]
    pub async fn take_sign_in(&self, secret: &TokenSecret) -> Result<PendingSignIn, Error> {
        let mut tx = self.write_tx().await?;
        let now = tx.now();
        let mut pending = pending_by_secret(tx.conn(), secret).await?;
        pending.check_usable(now)?;
        let taken = sqlx::query(
            "UPDATE pending_sign_ins SET used_at = $1 WHERE id = $2 AND used_at IS NULL",
        )
        .bind(micros(now))
        .bind(pending.id.to_string())
        .execute(tx.conn())
        .await
        .map_err(storage)?;
        if taken.rows_affected() == 0 {
            return Err(Error::UnknownSignIn);
        }
        tx.commit().await?;
        pending.used_at = Some(now);
        Ok(pending)
    }

    /// Finishes a taken sign-in as the account the issuer proved: finds or
    /// binds its person, checks their organizations let them sign in this
    /// way, and grants a session or a token, all in one transaction.
    #[tracing::instrument(name = "store.identities.complete_sign_in", skip_all, fields(issuer = %account.issuer))]
    pub async fn complete_sign_in(
        &self,
        pending: &PendingSignIn,
        account: &Account,
        grant: Grant<'_>,
    ) -> Result<(Resolution, Granted), Error> {
        let mut tx = self.write_tx().await?;
        let now = tx.now();
        let issuer = account.issuer.as_str();
        let bound = identity_of_account(tx.conn(), issuer, &account.subject).await?;
        let invitation = match &pending.invitation {
            Some(id) => {
                let link = link_by_id(tx.conn(), id).await?;
                link.check_usable(now)?;
                let binding = identity_of_person(tx.conn(), &link.person_id, issuer).await?;
                Some((link, binding))
            }
            None => None,
        };
        let by_email = match (&bound, &invitation, email_key(account)) {
            (None, None, Some(email)) => match person_by_email(tx.conn(), &email).await? {
                Some(person) => {
                    let binding = identity_of_person(tx.conn(), &person, issuer).await?;
                    Some((person, binding))
                }
                None => None,
            },
            _ => None,
        };
        let resolution = resolve(
            account,
            &Known {
                bound: bound.as_ref(),
                invited: invitation
                    .as_ref()
                    .map(|(link, binding)| (&link.person_id, binding.as_ref())),
                by_email: by_email
                    .as_ref()
                    .map(|(person, binding)| (person, binding.as_ref())),
            },
        )?;
        let person = resolution.person().clone();
        find_person(tx.conn(), &person).await?;
        check_no_requirement(tx.conn(), &person, Some(issuer)).await?;
        match &resolution {
            Resolution::Bind(_, how) => {
                bind(&mut tx, account, &person, *how).await?;
            }
            Resolution::Known(_) => {
                let seen = sqlx::query(
                    "UPDATE identities SET last_sign_in_at = $1, email = $2 \
                     WHERE issuer = $3 AND subject = $4 AND person_id = $5",
                )
                .bind(micros(now))
                .bind(account.email.clone())
                .bind(issuer.to_owned())
                .bind(account.subject.clone())
                .bind(person.to_string())
                .execute(tx.conn())
                .await
                .map_err(storage)?;
                // Unbound by a call that committed since it was read.
                if seen.rows_affected() == 0 {
                    return Err(Error::IdentityUnbound {
                        account: account.label().to_owned(),
                        issuer: issuer.to_owned(),
                    });
                }
            }
        }
        if let Some((link, _)) = &invitation {
            let used = sqlx::query(
                "UPDATE sign_in_links SET used_at = $1 WHERE id = $2 AND used_at IS NULL",
            )
            .bind(micros(now))
            .bind(link.id.to_string())
            .execute(tx.conn())
            .await
            .map_err(storage)?;
            if used.rows_affected() == 0 {
                return Err(Error::LinkUsed(now));
            }
        }
        let granted = match grant {
            Grant::Session { user_agent } => {
                let (session, secret) = insert_session(
                    &mut tx,
                    self,
                    person,
                    Origin::OpenIdConnect,
                    Some(issuer),
                    user_agent,
                )
                .await?;
                Granted::Session(session, secret)
            }
            Grant::Token => {
                let new = NewToken::parse(
                    person.clone(),
                    &format!("edufed login ({issuer})"),
                    Some(CLI_TOKEN_TTL),
                )?;
                let (token, secret) =
                    super::tokens::insert_token(&mut tx, new, &Actor::Person(person)).await?;
                sqlx::query("UPDATE api_tokens SET issuer = $1 WHERE id = $2")
                    .bind(issuer.to_owned())
                    .bind(token.id.to_string())
                    .execute(tx.conn())
                    .await
                    .map_err(storage)?;
                Granted::Token(token, secret)
            }
        };
        tx.commit().await?;
        Ok((resolution, granted))
    }

    /// The accounts bound to a person, by issuer.
    pub async fn list_identities(&self, person: &PersonId) -> Result<Vec<Identity>, Error> {
        let rows: Vec<IdentityRow> = sqlx::query_as(&format!(
            "SELECT {IDENTITY_COLUMNS} FROM identities WHERE person_id = $1 ORDER BY issuer"
        ))
        .bind(person.to_string())
        .fetch_all(self.reader())
        .await
        .map_err(storage)?;
        Ok(decode_all(rows)?)
    }

    /// Unbinds a person's account at `issuer`: the sessions it started end
    /// and the command line's tokens it issued are revoked, at once.
    #[tracing::instrument(name = "store.identities.unbind", skip(self, actor))]
    pub async fn unbind_identity(
        &self,
        person: &PersonId,
        issuer: &str,
        actor: &Actor,
    ) -> Result<Identity, Error> {
        let mut tx = self.write_tx().await?;
        let identity = identity_of_person(tx.conn(), person, issuer)
            .await?
            .ok_or_else(|| Error::IdentityNotFound {
                person: person.clone(),
                issuer: issuer.to_owned(),
            })?;
        sqlx::query("DELETE FROM identities WHERE issuer = $1 AND subject = $2")
            .bind(issuer.to_owned())
            .bind(identity.subject.clone())
            .execute(tx.conn())
            .await
            .map_err(storage)?;
        let at = micros(tx.now());
        sqlx::query(
            "UPDATE sessions SET ended_at = $1, end_reason = $2 WHERE person_id = $3 \
             AND issuer = $4 AND ended_at IS NULL",
        )
        .bind(at)
        .bind(EndReason::IdentityUnbound.as_str())
        .bind(person.to_string())
        .bind(issuer.to_owned())
        .execute(tx.conn())
        .await
        .map_err(storage)?;
        let tokens: Vec<(String,)> = sqlx::query_as(
            "SELECT id FROM api_tokens WHERE person_id = $1 AND issuer = $2 \
             AND revoked_at IS NULL",
        )
        .bind(person.to_string())
        .bind(issuer.to_owned())
        .fetch_all(tx.conn())
        .await
        .map_err(storage)?;
        for (id,) in tokens {
            super::tokens::revoke_in(
                &mut tx,
                &edufed_domain::ids::TokenId::from_stored(id),
                actor,
            )
            .await?;
        }
        tx.commit().await?;
        Ok(identity)
    }

    /// The issuer an organization requires its members to sign in through.
    pub async fn sign_in_requirement(&self, org: &OrgId) -> Result<Option<String>, Error> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT issuer FROM organization_sign_in WHERE org_id = $1")
                .bind(org.to_string())
                .fetch_optional(self.reader())
                .await
                .map_err(storage)?;
        Ok(row.map(|(issuer,)| issuer))
    }

    /// Requires an organization's members to sign in through `issuer`, or
    /// (`None`) lets them sign in any way. Their one-time links stop
    /// working at once.
    #[tracing::instrument(name = "store.identities.require", skip(self))]
    pub async fn set_sign_in_requirement(
        &self,
        org: &OrgId,
        issuer: Option<&str>,
    ) -> Result<Option<String>, Error> {
        let mut tx = self.write_tx().await?;
        if issuer.is_none() {
            sqlx::query("DELETE FROM organization_sign_in WHERE org_id = $1")
                .bind(org.to_string())
                .execute(tx.conn())
                .await
                .map_err(storage)?;
        }
        if let Some(issuer) = issuer {
            // One statement, so concurrent settings do not collide: the
            // last one stands.
            sqlx::query(
                "INSERT INTO organization_sign_in (org_id, issuer) VALUES ($1, $2) \
                 ON CONFLICT (org_id) DO UPDATE SET issuer = excluded.issuer",
            )
            .bind(org.to_string())
            .bind(issuer.to_owned())
            .execute(tx.conn())
            .await
            .map_err(storage)?;
            // Links not yet used, of its members and not invitations,
            // lapse now.
            sqlx::query(
                "UPDATE sign_in_links SET expires_at = $1 WHERE used_at IS NULL \
                 AND invitation = 0 AND expires_at > $1 AND person_id IN \
                 (SELECT person_id FROM memberships WHERE org_id = $2)",
            )
            .bind(micros(tx.now()))
            .bind(org.to_string())
            .execute(tx.conn())
            .await
            .map_err(storage)?;
        }
        tx.commit().await?;
        Ok(issuer.map(str::to_owned))
    }
}

/// Refuses a person whose organization requires signing in through an
/// issuer other than `through` (`None`: a one-time link).
pub(super) async fn check_no_requirement(
    conn: &mut AnyConnection,
    person: &PersonId,
    through: Option<&str>,
) -> Result<(), Error> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT r.org_id, r.issuer FROM organization_sign_in r \
         JOIN memberships m ON m.org_id = r.org_id WHERE m.person_id = $1 ORDER BY r.org_id",
    )
    .bind(person.to_string())
    .fetch_all(conn)
    .await
    .map_err(storage)?;
    match rows
        .into_iter()
        .find(|(_, issuer)| Some(issuer.as_str()) != through)
    {
        Some((org, issuer)) => Err(Error::IssuerRequired {
            organization: OrgId::from_stored(org),
            issuer,
        }),
        None => Ok(()),
    }
}

async fn bind(
    tx: &mut WriteTx<'_>,
    account: &Account,
    person: &PersonId,
    how: BoundBy,
) -> Result<(), Error> {
    let now = micros(tx.now());
    sqlx::query(
        "INSERT INTO identities (issuer, subject, person_id, email, bound_by, bound_at, \
         last_sign_in_at) VALUES ($1, $2, $3, $4, $5, $6, $6)",
    )
    .bind(account.issuer.clone())
    .bind(account.subject.clone())
    .bind(person.to_string())
    .bind(account.email.clone())
    .bind(how.as_str())
    .bind(now)
    .execute(tx.conn())
    .await
    .map_err(|error| {
        // Bound by a sign-in that finished a moment earlier.
        let failure = DbFailure::classify(error);
        if failure.is(Constraint::IdentityAccount) {
            Error::BoundToAnother(account.issuer.clone())
        } else if failure.is(Constraint::IdentityPerson) {
            Error::AlreadyBound {
                person: person.clone(),
                issuer: account.issuer.clone(),
            }
        } else {
            failure.into_storage().into()
        }
    })?;
    Ok(())
}

async fn link_by_secret(
    conn: &mut AnyConnection,
    secret: &TokenSecret,
) -> Result<SignInLink, Error> {
    let row: LinkRow = sqlx::query_as(&format!(
        "SELECT {} FROM sign_in_links WHERE secret_hash = $1",
        super::sessions::LINK_COLUMNS
    ))
    .bind(secret.hash().as_str().to_owned())
    .fetch_optional(conn)
    .await
    .map_err(storage)?
    .ok_or(Error::UnknownLink)?;
    Ok(row.try_into()?)
}

async fn link_by_id(conn: &mut AnyConnection, id: &SignInLinkId) -> Result<SignInLink, Error> {
    let row: LinkRow = sqlx::query_as(&format!(
        "SELECT {} FROM sign_in_links WHERE id = $1",
        super::sessions::LINK_COLUMNS
    ))
    .bind(id.to_string())
    .fetch_optional(conn)
    .await
    .map_err(storage)?
    .ok_or(Error::UnknownLink)?;
    Ok(row.try_into()?)
}

async fn pending_by_secret(
    conn: &mut AnyConnection,
    secret: &TokenSecret,
) -> Result<PendingSignIn, Error> {
    let row: PendingRow = sqlx::query_as(&format!(
        "SELECT {PENDING_COLUMNS} FROM pending_sign_ins WHERE secret_hash = $1"
    ))
    .bind(secret.hash().as_str().to_owned())
    .fetch_optional(conn)
    .await
    .map_err(storage)?
    .ok_or(Error::UnknownSignIn)?;
    Ok(row.try_into()?)
}

async fn identity_of_account(
    conn: &mut AnyConnection,
    issuer: &str,
    subject: &str,
) -> Result<Option<Identity>, Error> {
    let row: Option<IdentityRow> = sqlx::query_as(&format!(
        "SELECT {IDENTITY_COLUMNS} FROM identities WHERE issuer = $1 AND subject = $2"
    ))
    .bind(issuer.to_owned())
    .bind(subject.to_owned())
    .fetch_optional(conn)
    .await
    .map_err(storage)?;
    Ok(row.map(Identity::try_from).transpose()?)
}

async fn identity_of_person(
    conn: &mut AnyConnection,
    person: &PersonId,
    issuer: &str,
) -> Result<Option<Identity>, Error> {
    let row: Option<IdentityRow> = sqlx::query_as(&format!(
        "SELECT {IDENTITY_COLUMNS} FROM identities WHERE person_id = $1 AND issuer = $2"
    ))
    .bind(person.to_string())
    .bind(issuer.to_owned())
    .fetch_optional(conn)
    .await
    .map_err(storage)?;
    Ok(row.map(Identity::try_from).transpose()?)
}

async fn person_by_email(
    conn: &mut AnyConnection,
    email: &Email,
) -> Result<Option<PersonId>, Error> {
    // The node's operator is never bound by e-mail: their account is the
    // node's, not a person's to claim at a provider.
    let row: Option<(String,)> =
        sqlx::query_as("SELECT id FROM people WHERE email = $1 AND operator = 0")
            .bind(email.as_str().to_owned())
            .fetch_optional(conn)
            .await
            .map_err(storage)?;
    Ok(row.map(|(id,)| PersonId::from_stored(id)))
}

#[derive(sqlx::FromRow)]
struct IdentityRow {
    issuer: String,
    subject: String,
    person_id: String,
    email: Option<String>,
    bound_by: String,
    bound_at: i64,
    last_sign_in_at: Option<i64>,
}

impl TryFrom<IdentityRow> for Identity {
    type Error = StorageError;

    fn try_from(row: IdentityRow) -> Result<Self, StorageError> {
        Ok(Identity {
            bound_by: BoundBy::parse("bound_by", &row.bound_by)
                .map_err(|e| StorageError::msg(format!("identity {}: {e}", row.subject)))?,
            issuer: row.issuer,
            subject: row.subject,
            person_id: PersonId::from_stored(row.person_id),
            email: row.email,
            bound_at: instant(row.bound_at)?,
            last_sign_in_at: optional_instant(row.last_sign_in_at)?,
        })
    }
}

#[derive(sqlx::FromRow)]
struct PendingRow {
    id: String,
    issuer: String,
    nonce: Option<String>,
    pkce_verifier: Option<String>,
    device_code: Option<String>,
    invitation_id: Option<String>,
    created_at: i64,
    expires_at: i64,
    used_at: Option<i64>,
}

impl TryFrom<PendingRow> for PendingSignIn {
    type Error = StorageError;

    fn try_from(row: PendingRow) -> Result<Self, StorageError> {
        Ok(PendingSignIn {
            id: SignInId::from_stored(row.id),
            issuer: row.issuer,
            nonce: row.nonce,
            pkce_verifier: row.pkce_verifier,
            device_code: row.device_code,
            invitation: row.invitation_id.map(SignInLinkId::from_stored),
            created_at: instant(row.created_at)?,
            expires_at: instant(row.expires_at)?,
            used_at: optional_instant(row.used_at)?,
        })
    }
}
