//! Who a person signed in through an identity provider is on this node.
//!
//! An account at an issuer (its subject) is bound to at most one person,
//! and a person to at most one account per issuer. A binding is made only
//! by the node's people: an admin adds a member with an e-mail and the
//! first sign-in whose *verified* e-mail is that one binds, or an admin
//! sends a one-time invitation that binds whatever account completes the
//! sign-in. An account nobody bound never becomes anyone: [`resolve`]
//! refuses it, and the console says whom to ask.

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use crate::directory::{Email, Error, TokenSecret};
use crate::ids::{PersonId, SignInId, SignInLinkId};
use crate::stable::string_enum;

/// How long a started sign-in may take to come back.
pub const SIGN_IN_TTL: Duration = Duration::minutes(10);
/// How long the command line's token from a device sign-in lasts.
pub const CLI_TOKEN_TTL: Duration = Duration::hours(12);

/// The prefix of a device sign-in's handle.
pub const DEVICE_PREFIX: &str = "edufed_device_";

/// A fresh handle for a device sign-in, which only the command line that
/// started it holds.
pub fn device_handle() -> TokenSecret {
    TokenSecret::generate_with(DEVICE_PREFIX)
}

string_enum!(
    /// How an account came to be bound to a person.
    BoundBy as IdentityBinding {
        /// Its verified e-mail was the one an admin gave the person.
        Email = "email",
        /// It completed a sign-in from an invitation an admin sent.
        Invitation = "invitation",
    }
);

/// An account at an issuer, bound to a person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    /// The issuer's name on this node.
    pub issuer: String,
    /// The account's subject at the issuer: stable, opaque.
    pub subject: String,
    pub person_id: PersonId,
    /// Its e-mail when it was last seen.
    pub email: Option<String>,
    pub bound_by: BoundBy,
    pub bound_at: DateTime<Utc>,
    pub last_sign_in_at: Option<DateTime<Utc>>,
}

/// What a checked ID token says of the account that signed in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub issuer: String,
    pub subject: String,
    pub email: Option<String>,
    pub email_verified: bool,
}

impl Account {
    /// How the account is named to people: its e-mail, else its subject.
    pub fn label(&self) -> &str {
        self.email.as_deref().unwrap_or(&self.subject)
    }
}

/// A sign-in started through an issuer and not yet finished: what the node
/// keeps to finish it (the browser's `state`, or the command line's
/// handle, is stored only as a hash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingSignIn {
    pub id: SignInId,
    pub issuer: String,
    /// The nonce the ID token must carry (the browser's flow).
    pub nonce: Option<String>,
    /// The PKCE verifier (the browser's flow).
    pub pkce_verifier: Option<String>,
    /// The device code (the command line's flow).
    pub device_code: Option<String>,
    /// The invitation it completes, if any.
    pub invitation: Option<SignInLinkId>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub used_at: Option<DateTime<Utc>>,
}

impl PendingSignIn {
    /// Whether it may still be finished at `now`: once, in time.
    pub fn check_usable(&self, now: DateTime<Utc>) -> Result<(), Error> {
        if self.used_at.is_some() {
            return Err(Error::UnknownSignIn);
        }
        if self.expires_at <= now {
            return Err(Error::SignInExpired(self.expires_at));
        }
        Ok(())
    }
}

/// Who the account is on this node.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// Bound already.
    Known(PersonId),
    /// To be bound now, and how.
    Bind(PersonId, BoundBy),
}

impl Resolution {
    pub fn person(&self) -> &PersonId {
        match self {
            Resolution::Known(person) | Resolution::Bind(person, _) => person,
        }
    }
}

/// What the node knows that decides who an account is.
#[derive(Debug, Clone, Default)]
pub struct Known<'a> {
    /// The binding of this account, if any.
    pub bound: Option<&'a Identity>,
    /// The person of the invitation the sign-in completes, and their
    /// binding at this issuer, if any.
    pub invited: Option<(&'a PersonId, Option<&'a Identity>)>,
    /// The person whose e-mail is the account's, and their binding at this
    /// issuer, if any.
    pub by_email: Option<(&'a PersonId, Option<&'a Identity>)>,
}

/// Decides who `account` is: its binding; else the invitation's person;
/// else the person with its e-mail, when the issuer verified it; else no
/// one.
pub fn resolve(account: &Account, known: &Known<'_>) -> Result<Resolution, Error> {
    if let Some(bound) = known.bound {
        if let Some((invited, _)) = known.invited
            && *invited != bound.person_id
        {
            return Err(Error::BoundToAnother(account.issuer.clone()));
        }
        return Ok(Resolution::Known(bound.person_id.clone()));
    }
    if let Some((invited, binding)) = known.invited {
        if binding.is_some() {
            return Err(Error::AlreadyBound {
                person: invited.clone(),
                issuer: account.issuer.clone(),
            });
        }
        return Ok(Resolution::Bind(invited.clone(), BoundBy::Invitation));
    }
    if let Some(email) = &account.email
        && let Some((person, None)) = known.by_email
    {
        if !account.email_verified {
            return Err(Error::EmailNotVerified(email.clone()));
        }
        return Ok(Resolution::Bind(person.clone(), BoundBy::Email));
    }
    Err(Error::IdentityUnbound {
        account: account.label().to_owned(),
        issuer: account.issuer.clone(),
    })
}

/// The account's e-mail as the node keeps e-mails, to find a person by.
pub fn email_key(account: &Account) -> Option<Email> {
    account
        .email
        .as_deref()
        .and_then(|e| Email::parse("email", e).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(email: Option<&str>, verified: bool) -> Account {
        Account {
            issuer: "region".into(),
            subject: "sub-1".into(),
            email: email.map(str::to_owned),
            email_verified: verified,
        }
    }

    fn identity(person: &PersonId, subject: &str) -> Identity {
        Identity {
            issuer: "region".into(),
            subject: subject.into(),
            person_id: person.clone(),
            email: None,
            bound_by: BoundBy::Email,
            bound_at: DateTime::from_timestamp(1_790_000_000, 0).unwrap(),
            last_sign_in_at: None,
        }
    }

    #[test]
    fn a_bound_account_is_its_person() {
        let deputy = PersonId::generate();
        let bound = identity(&deputy, "sub-1");
        let known = Known {
            bound: Some(&bound),
            ..Known::default()
        };
        assert_eq!(
            resolve(&account(None, false), &known).unwrap(),
            Resolution::Known(deputy.clone())
        );
        // An invitation for someone else does not move it.
        let other = PersonId::generate();
        let known = Known {
            bound: Some(&bound),
            invited: Some((&other, None)),
            ..Known::default()
        };
        assert!(matches!(
            resolve(&account(None, false), &known),
            Err(Error::BoundToAnother(_))
        ));
    }

    #[test]
    fn an_invitation_binds_any_account_of_a_person_not_yet_bound() {
        let deputy = PersonId::generate();
        let known = Known {
            invited: Some((&deputy, None)),
            ..Known::default()
        };
        assert_eq!(
            resolve(&account(Some("x@y.example"), false), &known).unwrap(),
            Resolution::Bind(deputy.clone(), BoundBy::Invitation)
        );
        let other = identity(&deputy, "sub-2");
        let known = Known {
            invited: Some((&deputy, Some(&other))),
            ..Known::default()
        };
        assert!(matches!(
            resolve(&account(None, false), &known),
            Err(Error::AlreadyBound { .. })
        ));
    }

    #[test]
    fn only_a_verified_email_binds() {
        let deputy = PersonId::generate();
        let known = Known {
            by_email: Some((&deputy, None)),
            ..Known::default()
        };
        assert_eq!(
            resolve(&account(Some("deputy@gym24.example"), true), &known).unwrap(),
            Resolution::Bind(deputy.clone(), BoundBy::Email)
        );
        assert!(matches!(
            resolve(&account(Some("deputy@gym24.example"), false), &known),
            Err(Error::EmailNotVerified(_))
        ));
        // A person bound to another account at this issuer is not bound
        // again by e-mail.
        let other = identity(&deputy, "sub-2");
        let known = Known {
            by_email: Some((&deputy, Some(&other))),
            ..Known::default()
        };
        assert!(matches!(
            resolve(&account(Some("deputy@gym24.example"), true), &known),
            Err(Error::IdentityUnbound { .. })
        ));
        assert!(matches!(
            resolve(&account(Some("nobody@x.example"), true), &Known::default()),
            Err(Error::IdentityUnbound { account, .. }) if account == "nobody@x.example"
        ));
    }

    #[test]
    fn a_started_sign_in_finishes_once_and_in_time() {
        let at = DateTime::from_timestamp(1_790_000_000, 0).unwrap();
        let mut pending = PendingSignIn {
            id: SignInId::generate(),
            issuer: "region".into(),
            nonce: Some("n".into()),
            pkce_verifier: Some("v".into()),
            device_code: None,
            invitation: None,
            created_at: at,
            expires_at: at + SIGN_IN_TTL,
            used_at: None,
        };
        assert!(pending.check_usable(at).is_ok());
        assert!(matches!(
            pending.check_usable(at + SIGN_IN_TTL),
            Err(Error::SignInExpired(_))
        ));
        pending.used_at = Some(at);
        assert!(matches!(
            pending.check_usable(at),
            Err(Error::UnknownSignIn)
        ));
    }
}
