//! `edufed oidc …`: the node's OpenID Connect issuers, as its
//! configuration names them, checked against their discovery documents;
//! the accounts at them bound to people; and an organization's requirement
//! that its members sign in through one.

use anyhow::bail;
use clap::Subcommand;
use edufed_proto::v1 as pb;

use crate::ClientArgs;
use crate::client::Connection;
use crate::node::SettingsArgs;
use crate::output::out;
use crate::output::{Format, print_json, table, time};
use crate::zones::Zones;

/// `edufed oidc …`.
#[derive(Debug, Subcommand)]
pub enum OidcCommand {
    /// Read each configured issuer's discovery document and keys, and the
    /// client secret's file, and say what each offers.
    Check {
        #[command(flatten)]
        settings: SettingsArgs,
    },
    /// List the identity providers the node signs people in through.
    Issuers,
    /// List the accounts at identity providers bound to a person.
    Accounts {
        /// Whose [default: yours].
        #[arg(long, default_value = "")]
        person: String,
    },
    /// Unbind a person's account at an identity provider: the sessions and
    /// tokens it started end at once.
    Unbind {
        /// Whose [default: yours].
        #[arg(long, default_value = "")]
        person: String,
        /// The identity provider's name, as `oidc issuers` lists it.
        #[arg(long)]
        issuer: String,
    },
    /// Show or set how an organization's members sign in: only through one
    /// identity provider (their one-time links stop working), or any way.
    Require {
        /// The organization's id or slug.
        #[arg(long)]
        org: String,
        /// Require this identity provider.
        #[arg(long, conflicts_with = "any")]
        issuer: Option<String>,
        /// Lift the requirement.
        #[arg(long)]
        any: bool,
    },
}

/// Runs `edufed oidc …`.
pub async fn oidc(client: &ClientArgs, command: OidcCommand) -> anyhow::Result<()> {
    let format = client.output;
    match command {
        OidcCommand::Check { settings } => check(&settings).await,
        OidcCommand::Issuers => {
            let conn = Connection::anonymous(client).await?;
            let listed = conn
                .directory()
                .list_issuers(pb::ListIssuersRequest { logout_urls: true })
                .await?
                .into_inner();
            if format == Format::Json {
                return print_json(&listed);
            }
            let mut t = table(&["name", "label", "signs out there too"]);
            for i in &listed.issuers {
                t.add_row(vec![
                    i.name.clone(),
                    i.label.clone(),
                    yes(!i.logout_url.is_empty()).to_owned(),
                ]);
            }
            out!("{t}");
            Ok(())
        }
        OidcCommand::Accounts { person } => {
            let conn = Connection::open(client).await?;
            let listed = conn
                .directory()
                .list_identities(pb::ListIdentitiesRequest { person_id: person })
                .await?
                .into_inner();
            if format == Format::Json {
                return print_json(&listed);
            }
            let zone = Zones::new(&conn).caller().await;
            let mut t = table(&["issuer", "e-mail", "bound by", "since", "last sign-in"]);
            for i in &listed.identities {
                t.add_row(vec![
                    i.issuer.clone(),
                    i.email.clone(),
                    pb::IdentityBinding::try_from(i.bound_by)
                        .unwrap_or_default()
                        .as_str_name()
                        .trim_start_matches("IDENTITY_BINDING_")
                        .to_lowercase(),
                    time(i.bind_time.as_ref(), zone),
                    time(i.last_sign_in_time.as_ref(), zone),
                ]);
            }
            out!("{t}");
            Ok(())
        }
        OidcCommand::Unbind { person, issuer } => {
            let conn = Connection::open(client).await?;
            let unbound = conn
                .directory()
                .unbind_identity(pb::UnbindIdentityRequest {
                    person_id: person,
                    issuer,
                })
                .await?
                .into_inner();
            if format == Format::Json {
                return print_json(&unbound);
            }
            out!(
                "unbound the account {} at {}; its sessions and tokens have ended",
                if unbound.email.is_empty() {
                    &unbound.subject
                } else {
                    &unbound.email
                },
                unbound.issuer
            );
            Ok(())
        }
        OidcCommand::Require { org, issuer, any } => {
            let conn = Connection::open(client).await?;
            let mut directory = conn.directory();
            let requirement = if issuer.is_none() && !any {
                directory
                    .get_sign_in_requirement(pb::GetSignInRequirementRequest { organization: org })
                    .await?
            } else {
                directory
                    .set_sign_in_requirement(pb::SetSignInRequirementRequest {
                        organization: org,
                        issuer: issuer.unwrap_or_default(),
                    })
                    .await?
            }
            .into_inner();
            if format == Format::Json {
                return print_json(&requirement);
            }
            if requirement.issuer.is_empty() {
                out!("members sign in any way, one-time links included");
            } else {
                out!(
                    "members sign in only through {} (one-time links do not work)",
                    requirement.issuer
                );
            }
            Ok(())
        }
    }
}

fn yes(on: bool) -> &'static str {
    if on { "yes" } else { "no" }
}

async fn check(args: &SettingsArgs) -> anyhow::Result<()> {
    let settings = args.settings()?;
    if settings.oidc.is_empty() {
        bail!("no OpenID Connect issuer is configured ([[oidc]] in the configuration file)");
    }
    let mut failed = Vec::new();
    for issuer in &settings.oidc {
        let secret = issuer.client_secret();
        match (edufed_identity::discover(&issuer.issuer).await, secret) {
            (Ok(found), Ok(secret)) => {
                out!("{}: ok, {}", issuer.name, found.issuer);
                out!("  sign-in at {}", found.authorization_endpoint);
                out!(
                    "  signing keys: {}; PKCE S256: {}; device flow (edufed login): {}; logout: {}",
                    found.keys,
                    yes(found.pkce_s256),
                    yes(found.device_authorization_endpoint.is_some()),
                    yes(found.end_session_endpoint.is_some()),
                );
                out!(
                    "  client {}: {}",
                    issuer.client_id,
                    if secret.is_some() {
                        "confidential (secret read)"
                    } else {
                        "public (no secret)"
                    }
                );
                if !found.pkce_s256 {
                    out!("  the issuer does not announce PKCE with S256, which edufed uses");
                }
            }
            (Err(error), _) | (_, Err(error)) => {
                out!("{}: FAILED: {error:#}", issuer.name);
                failed.push(issuer.name.clone());
            }
        }
    }
    if !failed.is_empty() {
        bail!("issuers that failed the check: {}", failed.join(", "));
    }
    Ok(())
}
