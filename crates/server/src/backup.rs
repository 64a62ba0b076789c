//! `edufed backup`, `edufed backup verify` and `edufed restore`: a node's
//! database copied in one snapshot while it runs, into one gzip file of
//! JSON lines that restores into SQLite or PostgreSQL alike.
//!
//! The file: a header line (node, schema, backend, time), the node's key
//! when asked for (encrypted with a passphrase by age's scrypt recipient),
//! each table's columns and then its rows, and a trailer with the rows per
//! table and the SHA-256 of every line before it. A restore checks the
//! whole file before it touches anything.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Read as _, Write};
use std::path::{Path, PathBuf};

pub use age::secrecy::SecretString;
use anyhow::{Context as _, bail};
use base64::Engine as _;
use edufed_federation::NodeIdentity;
use edufed_store::backup::Item;
use edufed_store::{ConnectOptions, Store};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest as _, Sha256};

use crate::config::Settings;
use crate::datadir::{DataDir, KEY_FILE};

/// The file format's version.
const FORMAT: u32 = 1;

/// What a backup says about itself.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    /// The node whose database it is.
    pub node_id: String,
    /// The latest migration of its schema.
    pub schema_version: i64,
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// When the copy was made (RFC 3339).
    pub created_at: String,
    /// The edufed release that made it.
    pub made_by: String,
    /// The latest sequence of its change log.
    pub log_latest: u64,
    /// Whether it holds the node's key (encrypted).
    pub key_included: bool,
    /// Rows per table.
    pub tables: BTreeMap<String, u64>,
    /// SHA-256 of every line before the trailer, hex.
    pub sha256: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct Header {
    edufed_backup: u32,
    node_id: String,
    schema_version: i64,
    backend: String,
    created_at: String,
    made_by: String,
    log_latest: u64,
}

#[derive(Debug, Serialize, Deserialize)]
struct Trailer {
    end: TrailerBody,
}

#[derive(Debug, Serialize, Deserialize)]
struct TrailerBody {
    tables: BTreeMap<String, u64>,
    sha256: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct KeyLine {
    /// The node key's PEM, age-encrypted, base64.
    key: String,
}

#[derive(Debug, Serialize, Deserialize)]
struct TableLine {
    table: String,
    columns: Vec<String>,
}

/// Writes lines, hashing them, through gzip into a file.
struct LineWriter {
    out: flate2::write::GzEncoder<BufWriter<File>>,
    hash: Sha256,
}

impl LineWriter {
    fn line(&mut self, value: &impl Serialize) -> std::io::Result<()> {
        let mut bytes = serde_json::to_vec(value)?;
        bytes.push(b'\n');
        self.hash.update(&bytes);
        self.out.write_all(&bytes)
    }
}

/// Opens the node's database as its settings say, without migrating it.
async fn open_store(settings: &Settings) -> anyhow::Result<Store> {
    let url = settings.database_url();
    Store::connect(
        &url,
        &ConnectOptions {
            max_connections: 2,
            ..ConnectOptions::default()
        },
    )
    .await
    .with_context(|| {
        format!(
            "cannot open the database {}",
            edufed_store::redact_url(&url)
        )
    })
}

/// Copies the database of the node `settings` describe (it may be
/// running) into `out`, with its key encrypted under `passphrase` when one
/// is given. The file appears only when complete.
pub async fn backup(
    settings: &Settings,
    out: &Path,
    passphrase: Option<SecretString>,
) -> anyhow::Result<Manifest> {
    let key = match passphrase {
        None => None,
        Some(passphrase) => {
            let path = settings.data_dir.join(KEY_FILE);
            let pem = std::fs::read(&path)
                .with_context(|| format!("cannot read the node's key {}", path.display()))?;
            Some(encrypt(&pem, passphrase)?)
        }
    };
    let store = open_store(settings).await?;
    let temp = partial_path(out);
    let file = File::create(&temp).with_context(|| format!("cannot create {}", temp.display()))?;
    let mut writer = LineWriter {
        out: flate2::write::GzEncoder::new(BufWriter::new(file), flate2::Compression::fast()),
        hash: Sha256::new(),
    };
    let created_at = store
        .clock()
        .now()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let backend = store.backend().as_str();
    // The header needs what the snapshot reads; rows are kept aside until
    // it is written, as a second file would be.
    let mut body = tempfile_in(out)?;
    let dumped = {
        let mut sink = BufWriter::new(&mut body);
        let result = store
            .dump(&mut |item| {
                let line = match item {
                    Item::Table { name, columns } => serde_json::to_vec(&TableLine {
                        table: name,
                        columns,
                    })?,
                    Item::Row(values) => serde_json::to_vec(&values)?,
                };
                sink.write_all(&line)?;
                sink.write_all(b"\n")
            })
            .await;
        sink.flush()?;
        result
    };
    store.close().await;
    let dumped = dumped.context("cannot read the database")?;
    let Some(node_id) = dumped.node_id.clone() else {
        bail!("the database belongs to no node yet: start the node once, then back it up");
    };
    writer.line(&Header {
        edufed_backup: FORMAT,
        node_id: node_id.clone(),
        schema_version: dumped.schema_version,
        backend: backend.to_owned(),
        created_at: created_at.clone(),
        made_by: env!("CARGO_PKG_VERSION").to_owned(),
        log_latest: dumped.log_latest,
    })?;
    if let Some(key) = &key {
        writer.line(&KeyLine {
            key: base64::engine::general_purpose::STANDARD.encode(key),
        })?;
    }
    {
        use std::io::Seek as _;
        body.seek(std::io::SeekFrom::Start(0))?;
        let mut reader = BufReader::new(&mut body);
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            let n = reader.read(&mut buffer)?;
            if n == 0 {
                break;
            }
            writer.hash.update(&buffer[..n]);
            writer.out.write_all(&buffer[..n])?;
        }
    }
    let tables: BTreeMap<String, u64> = dumped.tables.iter().cloned().collect();
    let sha256 = hex::encode(writer.hash.clone().finalize());
    writer.line(&Trailer {
        end: TrailerBody {
            tables: tables.clone(),
            sha256: sha256.clone(),
        },
    })?;
    let file = writer
        .out
        .finish()?
        .into_inner()
        .map_err(|e| e.into_error())?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&temp, out).with_context(|| format!("cannot write {}", out.display()))?;
    Ok(Manifest {
        node_id,
        schema_version: dumped.schema_version,
        backend: backend.to_owned(),
        created_at,
        made_by: env!("CARGO_PKG_VERSION").to_owned(),
        log_latest: dumped.log_latest,
        key_included: key.is_some(),
        tables,
        sha256,
    })
}

/// `out` while it is being written.
fn partial_path(out: &Path) -> PathBuf {
    let mut name = out
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_default();
    name.push(".partial");
    out.with_file_name(name)
}

/// A scratch file beside `out`, removed when dropped.
fn tempfile_in(out: &Path) -> anyhow::Result<File> {
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    tempfile::tempfile_in(dir).with_context(|| format!("cannot write in {}", dir.display()))
}

fn encrypt(plain: &[u8], passphrase: SecretString) -> anyhow::Result<Vec<u8>> {
    let encryptor = age::Encryptor::with_user_passphrase(passphrase);
    let mut out = Vec::new();
    let mut writer = encryptor.wrap_output(&mut out)?;
    writer.write_all(plain)?;
    writer.finish()?;
    Ok(out)
}

fn decrypt(sealed: &[u8], passphrase: SecretString) -> anyhow::Result<Vec<u8>> {
    let decryptor = age::Decryptor::new(sealed).context("the key in the backup is damaged")?;
    let identity = age::scrypt::Identity::new(passphrase);
    let mut reader = decryptor
        .decrypt(std::iter::once(&identity as &dyn age::Identity))
        .map_err(|_| anyhow::anyhow!("the passphrase does not open the key in the backup"))?;
    let mut plain = Vec::new();
    reader.read_to_end(&mut plain)?;
    Ok(plain)
}

/// A backup file read line by line, checked as it goes.
struct Reader {
    lines: std::io::Lines<BufReader<flate2::read::GzDecoder<BufReader<File>>>>,
    hash: Sha256,
    header: Header,
    key: Option<Vec<u8>>,
    /// A line read ahead (the first table line, after the key).
    ahead: Option<String>,
    counts: BTreeMap<String, u64>,
    table: Option<String>,
    trailer: Option<TrailerBody>,
}

fn damaged(what: impl std::fmt::Display) -> anyhow::Error {
    anyhow::anyhow!("the backup is damaged or not an edufed backup: {what}")
}

impl Reader {
    fn open(path: &Path) -> anyhow::Result<Self> {
        let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        let mut lines = BufReader::new(flate2::read::GzDecoder::new(BufReader::new(file))).lines();
        let mut hash = Sha256::new();
        let first = lines
            .next()
            .transpose()
            .map_err(damaged)?
            .ok_or_else(|| damaged("it is empty"))?;
        hash.update(first.as_bytes());
        hash.update(b"\n");
        let header: Header = serde_json::from_str(&first).map_err(|_| damaged("no header"))?;
        if header.edufed_backup != FORMAT {
            bail!(
                "the backup is in format {}, this edufed reads format {FORMAT}",
                header.edufed_backup
            );
        }
        let mut reader = Self {
            lines,
            hash,
            header,
            key: None,
            ahead: None,
            counts: BTreeMap::new(),
            table: None,
            trailer: None,
        };
        if let Some(line) = reader.next_line()? {
            match serde_json::from_str::<KeyLine>(&line) {
                Ok(key) => {
                    reader.key = Some(
                        base64::engine::general_purpose::STANDARD
                            .decode(key.key)
                            .map_err(|_| damaged("the key line"))?,
                    );
                }
                Err(_) => reader.ahead = Some(line),
            }
        }
        Ok(reader)
    }

    /// The next line, hashed; `None` at the trailer (kept) or the end.
    fn next_line(&mut self) -> anyhow::Result<Option<String>> {
        if let Some(line) = self.ahead.take() {
            return Ok(Some(line));
        }
        if self.trailer.is_some() {
            return Ok(None);
        }
        let Some(line) = self.lines.next().transpose().map_err(damaged)? else {
            return Ok(None);
        };
        if line.starts_with("{\"end\"") {
            let trailer: Trailer =
                serde_json::from_str(&line).map_err(|_| damaged("the trailer"))?;
            self.trailer = Some(trailer.end);
            return Ok(None);
        }
        self.hash.update(line.as_bytes());
        self.hash.update(b"\n");
        Ok(Some(line))
    }

    /// The next table or row.
    fn next_item(&mut self) -> anyhow::Result<Option<Item>> {
        let Some(line) = self.next_line()? else {
            return Ok(None);
        };
        if line.starts_with('[') {
            let values: Vec<Value> = serde_json::from_str(&line).map_err(|_| damaged("a row"))?;
            let table = self
                .table
                .as_ref()
                .ok_or_else(|| damaged("a row before any table"))?;
            *self.counts.entry(table.clone()).or_default() += 1;
            return Ok(Some(Item::Row(values)));
        }
        let table: TableLine = serde_json::from_str(&line).map_err(|_| damaged("a table line"))?;
        self.counts.entry(table.table.clone()).or_default();
        self.table = Some(table.table.clone());
        Ok(Some(Item::Table {
            name: table.table,
            columns: table.columns,
        }))
    }

    /// After the last item: the file's checksum and counts match its
    /// trailer.
    fn finish(&mut self) -> anyhow::Result<Manifest> {
        if self.lines.next().is_some() {
            return Err(damaged("lines after the trailer"));
        }
        let Some(trailer) = self.trailer.take() else {
            return Err(damaged("it ends before its trailer (cut short?)"));
        };
        let sha256 = hex::encode(self.hash.clone().finalize());
        if sha256 != trailer.sha256 {
            bail!(
                "the backup's checksum does not match (it says {}, its contents give {sha256}): the file was changed or damaged",
                trailer.sha256
            );
        }
        if self.counts != trailer.tables {
            return Err(damaged("its rows per table differ from its trailer's"));
        }
        Ok(Manifest {
            node_id: self.header.node_id.clone(),
            schema_version: self.header.schema_version,
            backend: self.header.backend.clone(),
            created_at: self.header.created_at.clone(),
            made_by: self.header.made_by.clone(),
            log_latest: self.header.log_latest,
            key_included: self.key.is_some(),
            tables: trailer.tables,
            sha256,
        })
    }
}

/// Reads the whole backup and checks it: format, checksum, rows per table.
pub fn verify(path: &Path) -> anyhow::Result<Manifest> {
    let mut reader = Reader::open(path)?;
    while reader.next_item()?.is_some() {}
    reader.finish()
}

/// What a restore did.
#[derive(Debug, Clone)]
pub struct Restored {
    /// The backup's manifest.
    pub manifest: Manifest,
    /// Whether the node's key was written from the backup.
    pub key_written: bool,
    /// Where the key that was there before went, when it was replaced.
    pub key_kept_at: Option<PathBuf>,
}

/// Restores the backup at `path` into the node `settings` describe: its
/// database must be new (empty); its data directory must hold the same
/// node's key, or none (then the backup must hold the key), or another
/// node's only when `other_node` (which is then set aside as
/// `node.key.before-restore`).
pub async fn restore(
    settings: &Settings,
    path: &Path,
    passphrase: Option<SecretString>,
    other_node: bool,
) -> anyhow::Result<Restored> {
    let manifest = verify(path)?;
    let known = edufed_store::backup::known_schema_version(backend_of(settings));
    if manifest.schema_version > known {
        bail!(
            "the backup has schema {}, newer than this edufed knows ({known}): restore it with the release that made it ({}) or a later one",
            manifest.schema_version,
            manifest.made_by
        );
    }
    let mut reader = Reader::open(path)?;
    let data = DataDir::open(&settings.data_dir)?;
    let key_path = data.path().join(KEY_FILE);
    let present = if key_path.exists() {
        let pem = std::fs::read_to_string(&key_path)
            .with_context(|| format!("cannot read {}", key_path.display()))?;
        Some(
            NodeIdentity::from_pem(&pem)
                .with_context(|| format!("{} holds no usable key", key_path.display()))?
                .node_id(),
        )
    } else {
        None
    };
    let backup_key = |passphrase: Option<SecretString>| -> anyhow::Result<String> {
        let Some(sealed) = &reader.key else {
            bail!(
                "the backup holds no key: put node {}'s node.key in {} first, or make the backup with --include-key",
                manifest.node_id,
                data.path().display()
            );
        };
        let Some(passphrase) = passphrase else {
            bail!("the backup's key is encrypted: give its passphrase (--passphrase-file)");
        };
        let pem = String::from_utf8(decrypt(sealed, passphrase)?)
            .map_err(|_| damaged("the key is not text"))?;
        let id = NodeIdentity::from_pem(&pem)
            .map_err(|_| damaged("the key"))?
            .node_id();
        if id != manifest.node_id {
            bail!(
                "the key in the backup is node {id}'s, not node {}'s",
                manifest.node_id
            );
        }
        Ok(pem)
    };
    let new_key = match &present {
        Some(id) if *id == manifest.node_id => None,
        Some(id) if !other_node => bail!(
            "the backup is of node {}, but {} holds node {id}'s key: restore into node {}'s data directory, or pass --other-node to replace this node with the backup's (its key is set aside)",
            manifest.node_id,
            data.path().display(),
            manifest.node_id
        ),
        _ => Some(backup_key(passphrase)?),
    };

    let store = Store::connect(&settings.database_url(), &ConnectOptions::default())
        .await
        .with_context(|| {
            format!(
                "cannot open the database {}",
                edufed_store::redact_url(&settings.database_url())
            )
        })?;
    let mut failure: Option<anyhow::Error> = None;
    let mut items = std::iter::from_fn(|| match reader.next_item() {
        Ok(Some(item)) => Some(Ok(item)),
        Ok(None) => match reader.finish() {
            Ok(_) => None,
            Err(error) => {
                failure = Some(error);
                Some(Err(std::io::Error::other("the backup failed its check")))
            }
        },
        Err(error) => {
            failure = Some(error);
            Some(Err(std::io::Error::other("the backup failed its check")))
        }
    });
    let result = store.restore(manifest.schema_version, &mut items).await;
    store.close().await;
    if let Some(failure) = failure {
        return Err(failure);
    }
    result.context("cannot restore the database")?;

    let mut key_kept_at = None;
    let key_written = new_key.is_some();
    if let Some(pem) = new_key {
        if present.is_some() {
            let kept = data.path().join(format!("{KEY_FILE}.before-restore"));
            std::fs::rename(&key_path, &kept)
                .with_context(|| format!("cannot set {} aside", key_path.display()))?;
            key_kept_at = Some(kept);
        }
        data.write_secret(KEY_FILE, &pem)?;
    }
    Ok(Restored {
        manifest,
        key_written,
        key_kept_at,
    })
}

fn backend_of(settings: &Settings) -> edufed_store::Backend {
    edufed_store::Backend::of_url(&settings.database_url()).unwrap_or(edufed_store::Backend::Sqlite)
}
