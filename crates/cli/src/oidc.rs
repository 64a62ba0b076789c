//! `edufed oidc check`: the node's OpenID Connect issuers, as its
//! configuration names them, checked against their discovery documents.

use anyhow::bail;
use clap::Subcommand;

use crate::node::SettingsArgs;

/// `edufed oidc …`.
#[derive(Debug, Subcommand)]
pub enum OidcCommand {
    /// Read each configured issuer's discovery document and keys, and the
    /// client secret's file, and say what each offers.
    Check {
        #[command(flatten)]
        settings: SettingsArgs,
    },
}

/// Runs `edufed oidc …`.
pub async fn oidc(command: OidcCommand) -> anyhow::Result<()> {
    match command {
        OidcCommand::Check { settings } => check(&settings).await,
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
                println!("{}: ok, {}", issuer.name, found.issuer);
                println!("  sign-in at {}", found.authorization_endpoint);
                println!(
                    "  signing keys: {}; PKCE S256: {}; device flow (edufed login): {}; logout: {}",
                    found.keys,
                    yes(found.pkce_s256),
                    yes(found.device_authorization_endpoint.is_some()),
                    yes(found.end_session_endpoint.is_some()),
                );
                println!(
                    "  client {}: {}",
                    issuer.client_id,
                    if secret.is_some() {
                        "confidential (secret read)"
                    } else {
                        "public (no secret)"
                    }
                );
                if !found.pkce_s256 {
                    println!("  the issuer does not announce PKCE with S256, which edufed uses");
                }
            }
            (Err(error), _) | (_, Err(error)) => {
                println!("{}: FAILED: {error:#}", issuer.name);
                failed.push(issuer.name.clone());
            }
        }
    }
    if !failed.is_empty() {
        bail!("issuers that failed the check: {}", failed.join(", "));
    }
    Ok(())
}
