//! The node's data directory: its key, its operator token and, by default,
//! its SQLite database. Secrets are written atomically with mode 0600.

use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use edufed_federation::NodeIdentity;

/// The node's private key, PKCS#8 PEM.
pub const KEY_FILE: &str = "node.key";
/// The operator's bootstrap token.
pub const OPERATOR_TOKEN_FILE: &str = "operator.token";
const LOCK_FILE: &str = ".init.lock";

/// An open data directory.
#[derive(Debug)]
pub(crate) struct DataDir {
    path: PathBuf,
}

/// Held while the directory is being initialized, so two processes starting
/// on one directory do not both create a key.
pub(crate) struct InitLock {
    _file: File,
}

impl DataDir {
    /// Opens the directory, creating it (mode 0700) if missing.
    pub(crate) fn open(path: &Path) -> anyhow::Result<Self> {
        if !path.exists() {
            fs::create_dir_all(path)
                .with_context(|| format!("cannot create the data directory {}", path.display()))?;
            fs::set_permissions(path, fs::Permissions::from_mode(0o700))?;
        }
        if !path.is_dir() {
            bail!("the data directory {} is not a directory", path.display());
        }
        Ok(Self {
            path: path.to_path_buf(),
        })
    }

    /// Its path, as configured.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// Takes the initialization lock, waiting for another process to finish.
    pub(crate) fn lock(&self) -> anyhow::Result<InitLock> {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(self.path.join(LOCK_FILE))
            .context("cannot open the data directory's lock file")?;
        file.lock().context("cannot lock the data directory")?;
        Ok(InitLock { _file: file })
    }

    /// The node's identity, created if the directory has none; the flag
    /// says whether it was just created.
    pub(crate) fn identity(&self, _lock: &InitLock) -> anyhow::Result<(NodeIdentity, bool)> {
        let key_path = self.path.join(KEY_FILE);
        if key_path.exists() {
            let mode = fs::metadata(&key_path)?.permissions().mode();
            if mode & 0o077 != 0 {
                tracing::warn!(path = %key_path.display(), mode = format!("{mode:o}"), "the node key is readable by others; chmod 600 it");
            }
            let pem = fs::read_to_string(&key_path)
                .with_context(|| format!("cannot read {}", key_path.display()))?;
            let identity = NodeIdentity::from_pem(&pem)
                .with_context(|| format!("{} holds no usable key", key_path.display()))?;
            return Ok((identity, false));
        }
        let identity = NodeIdentity::generate();
        self.write_secret(KEY_FILE, &identity.to_pem())?;
        Ok((identity, true))
    }

    /// Writes a secret file atomically with mode 0600, replacing any old one.
    pub(crate) fn write_secret(&self, name: &str, contents: &str) -> anyhow::Result<PathBuf> {
        let target = self.path.join(name);
        let temp = self
            .path
            .join(format!(".{name}.{}.tmp", std::process::id()));
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temp)
            .with_context(|| format!("cannot create {}", temp.display()))?;
        file.write_all(contents.as_bytes())?;
        file.sync_all()?;
        fs::rename(&temp, &target).with_context(|| format!("cannot write {}", target.display()))?;
        Ok(target)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_is_created_once_with_private_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let data = DataDir::open(&dir.path().join("data")).unwrap();
        let lock = data.lock().unwrap();
        let (first, created) = data.identity(&lock).unwrap();
        assert!(created);
        let (again, created) = data.identity(&lock).unwrap();
        assert!(!created);
        assert_eq!(first.node_id(), again.node_id());
        let mode = fs::metadata(data.path().join(KEY_FILE))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let dir_mode = fs::metadata(data.path()).unwrap().permissions().mode();
        assert_eq!(dir_mode & 0o777, 0o700);
    }
}
