//! `edufed backup`, `edufed backup verify` and `edufed restore`: run on the
//! node's machine, against its data directory and database (the node may
//! be running while a backup is made; a restore needs a new database).

use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use edufed_server::backup::{Manifest, SecretString};

use crate::node::SettingsArgs;
use crate::output::out;

/// Arguments of `edufed backup`.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct BackupArgs {
    #[command(subcommand)]
    command: Option<BackupCommand>,
    /// The file to write (it appears only when complete), e.g.
    /// `hub-2026-12-07.edufed-backup`.
    #[arg(long)]
    out: Option<PathBuf>,
    /// Also keep the node's key in the backup, encrypted with the
    /// passphrase from --passphrase-file or EDUFED_BACKUP_PASSPHRASE.
    #[arg(long)]
    include_key: bool,
    /// A file holding the passphrase (its first line).
    #[arg(long)]
    passphrase_file: Option<PathBuf>,
    #[command(flatten)]
    settings: SettingsArgs,
}

#[derive(Debug, Subcommand)]
enum BackupCommand {
    /// Read a backup through and check it: its format, its checksum, its
    /// rows per table.
    Verify {
        /// The backup file.
        file: PathBuf,
    },
}

/// Arguments of `edufed restore`.
#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The backup file.
    file: PathBuf,
    /// A file holding the passphrase of the key in the backup (or
    /// EDUFED_BACKUP_PASSPHRASE), when the data directory has no key yet.
    #[arg(long)]
    passphrase_file: Option<PathBuf>,
    /// Restore another node's backup here, replacing this data directory's
    /// key with the backup's (the old key is set aside, not deleted).
    #[arg(long)]
    other_node: bool,
    #[command(flatten)]
    settings: SettingsArgs,
}

fn passphrase(file: Option<&Path>) -> anyhow::Result<Option<SecretString>> {
    let text = match file {
        Some(path) => Some(
            std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?,
        ),
        None => std::env::var("EDUFED_BACKUP_PASSPHRASE").ok(),
    };
    Ok(text
        .map(|t| t.lines().next().unwrap_or_default().to_owned())
        .filter(|t| !t.is_empty())
        .map(SecretString::from))
}

fn print_manifest(manifest: &Manifest) {
    out!("node {}", manifest.node_id);
    out!(
        "  made {} by edufed {} from {}, schema {}",
        manifest.created_at,
        manifest.made_by,
        manifest.backend,
        manifest.schema_version
    );
    let rows: u64 = manifest.tables.values().sum();
    out!(
        "  {} tables, {rows} rows; change log up to {}",
        manifest.tables.len(),
        manifest.log_latest
    );
    out!(
        "  node key: {}",
        if manifest.key_included {
            "included, encrypted"
        } else {
            "not included"
        }
    );
    out!("  sha256 {}", manifest.sha256);
}

/// `edufed backup`.
pub async fn backup(args: BackupArgs) -> anyhow::Result<()> {
    if let Some(BackupCommand::Verify { file }) = args.command {
        let manifest = edufed_server::backup::verify(&file)?;
        out!("{}: the backup is whole", file.display());
        print_manifest(&manifest);
        return Ok(());
    }
    let Some(out) = args.out else {
        bail!("give --out FILE, or `edufed backup verify FILE`");
    };
    let settings = args.settings.settings()?;
    let passphrase = if args.include_key {
        let Some(passphrase) = passphrase(args.passphrase_file.as_deref())? else {
            bail!(
                "--include-key needs a passphrase to encrypt the key with: --passphrase-file or EDUFED_BACKUP_PASSPHRASE"
            );
        };
        Some(passphrase)
    } else {
        None
    };
    let manifest = edufed_server::backup::backup(&settings, &out, passphrase).await?;
    out!("wrote {}", out.display());
    print_manifest(&manifest);
    Ok(())
}

/// `edufed restore`.
pub async fn restore(args: RestoreArgs) -> anyhow::Result<()> {
    let settings = args.settings.settings()?;
    let passphrase = passphrase(args.passphrase_file.as_deref())?;
    let restored =
        edufed_server::backup::restore(&settings, &args.file, passphrase, args.other_node).await?;
    out!(
        "restored node {} into {}",
        restored.manifest.node_id,
        settings.database_display()
    );
    print_manifest(&restored.manifest);
    if restored.key_written {
        out!("  node key written to the data directory");
    }
    if let Some(kept) = restored.key_kept_at {
        out!("  the key that was there is kept at {}", kept.display());
    }
    out!(
        "  start it with `edufed serve`: it follows its peers from the copy's cursors, and peers that read past the copy resync"
    );
    Ok(())
}
