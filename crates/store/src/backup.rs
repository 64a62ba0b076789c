//! A node's database as rows, and back: the store's half of `edufed backup`
//! and `edufed restore`. The rows are read in one snapshot (a read
//! transaction on SQLite's WAL, REPEATABLE READ on PostgreSQL) while the
//! node keeps writing, table by table with every table after those its
//! foreign keys name, as plain values (integers, reals, text), so a copy of
//! one backend restores into the other.
//!
//! A restored log continues above a gap: peers may have read entries the
//! copy does not hold (written after it was made), so sequences from just
//! above the copy's latest up to 2^32 beyond are never given again, and a
//! reader whose cursor falls in that gap is told to resync instead of
//! silently skipping what the restored node writes next.

use std::collections::{BTreeMap, BTreeSet};

use futures::TryStreamExt as _;
use serde_json::Value;
use sqlx::any::AnyTypeInfoKind;
use sqlx::migrate::Migrate as _;
use sqlx::{Column as _, Row as _, ValueRef as _};

use crate::db::{POSTGRES_MIGRATIONS, SQLITE_MIGRATIONS};
use crate::error::storage;
use crate::{Backend, Store};

/// Sequences kept out of use above a restored log's latest entry.
pub const RESTORE_GAP: u64 = 1 << 32;

/// `node_meta` keys: the gaps restores left in the log (JSON pairs), and
/// the floor above which sequences are given.
pub(crate) const LOG_GAPS: &str = "restored_log_gaps";
pub(crate) const LOG_FLOOR: &str = "log_floor";

/// The PostgreSQL-only table of entries committed but not yet numbered.
const PENDING: &str = "change_log_pending";

/// What a backup holds, in order: a table's columns, then its rows.
#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    /// The rows that follow are this table's, with these columns.
    Table {
        /// The table.
        name: String,
        /// Its columns, in the order of each row's values.
        columns: Vec<String>,
    },
    /// One row of the last table.
    Row(Vec<Value>),
}

/// What a dump read.
#[derive(Debug, Clone)]
pub struct Dumped {
    /// The node the database is bound to, if any.
    pub node_id: Option<String>,
    /// The latest migration applied.
    pub schema_version: i64,
    /// Rows per table, in the dump's order.
    pub tables: Vec<(String, u64)>,
    /// The latest sequence of the log in the copy.
    pub log_latest: u64,
}

/// Why a dump or a restore failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database failed.
    #[error(transparent)]
    Storage(#[from] edufed_domain::StorageError),
    /// Writing or reading the backup failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The target database is in use.
    #[error(
        "the database already holds a node's data: restore into a new, empty database (move the SQLite file aside, or create a new PostgreSQL database)"
    )]
    NotEmpty,
    /// The target database was set up by a newer schema than the copy's.
    #[error(
        "the database was set up with schema {found}, newer than the backup's {backup}: restore into a new, empty database"
    )]
    SchemaAhead {
        /// The target's latest migration.
        found: i64,
        /// The backup's.
        backup: i64,
    },
    /// The copy was made by a newer release.
    #[error(
        "the backup has schema {backup}, newer than this edufed knows ({known}): restore it with the release that made it, or a later one"
    )]
    SchemaNewer {
        /// The backup's schema.
        backup: i64,
        /// The latest this binary knows.
        known: i64,
    },
    /// The copy does not fit the schema.
    #[error("the backup does not fit the schema: {0}")]
    Mismatch(String),
}

fn migrator(backend: Backend) -> &'static sqlx::migrate::Migrator {
    match backend {
        Backend::Sqlite => &SQLITE_MIGRATIONS,
        Backend::Postgres => &POSTGRES_MIGRATIONS,
    }
}

/// The latest schema this binary knows for `backend`.
pub fn known_schema_version(backend: Backend) -> i64 {
    migrator(backend)
        .iter()
        .map(|m| m.version)
        .max()
        .unwrap_or(0)
}

/// A table's columns and how to bind their values.
#[derive(Debug, Clone)]
struct Columns {
    names: Vec<String>,
    kinds: Vec<Kind>,
    /// PostgreSQL: a column generated always as identity, which takes an
    /// explicit value only with OVERRIDING SYSTEM VALUE.
    identity: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Integer,
    Real,
    Text,
}

fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

impl Store {
    /// The latest migration applied to the database; 0 before any.
    pub async fn schema_version(&self) -> Result<i64, edufed_domain::StorageError> {
        let mut conn = self.reader().acquire().await.map_err(storage)?;
        latest_applied(&mut conn).await
    }

    /// Reads every table in one snapshot, giving each table and row to
    /// `sink` in an order a restore can insert them in.
    pub async fn dump(
        &self,
        sink: &mut (dyn FnMut(Item) -> std::io::Result<()> + Send),
    ) -> Result<Dumped, Error> {
        let mut tx = self.reader().begin().await.map_err(storage)?;
        if self.backend() == Backend::Postgres {
            sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .execute(&mut *tx)
                .await
                .map_err(storage)?;
        }
        let schema_version = latest_applied(&mut tx).await?;
        let node_id: Option<String> =
            sqlx::query_scalar("SELECT value FROM node_meta WHERE key = 'node_id'")
                .fetch_optional(&mut *tx)
                .await
                .map_err(storage)?;
        let log_latest: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM change_log")
            .fetch_one(&mut *tx)
            .await
            .map_err(storage)?;
        let mut tables = Vec::new();
        for table in ordered_tables(&mut tx, self.backend()).await? {
            let columns = columns(&mut tx, self.backend(), &table).await?;
            sink(Item::Table {
                name: table.clone(),
                columns: columns.names.clone(),
            })?;
            let select = format!(
                "SELECT {} FROM {}",
                columns
                    .names
                    .iter()
                    .map(|c| quoted(c))
                    .collect::<Vec<_>>()
                    .join(", "),
                quoted(&table)
            );
            let mut rows = sqlx::query(&select).fetch(&mut *tx);
            let mut count = 0u64;
            while let Some(row) = rows.try_next().await.map_err(storage)? {
                let mut values = Vec::with_capacity(columns.names.len());
                for i in 0..columns.names.len() {
                    values.push(value_of(&row, i)?);
                }
                sink(Item::Row(values))?;
                count += 1;
            }
            drop(rows);
            tables.push((table, count));
        }
        tx.commit().await.map_err(storage)?;
        Ok(Dumped {
            node_id,
            schema_version,
            tables,
            log_latest: u64::try_from(log_latest).unwrap_or(0),
        })
    }

    /// Restores `items` (a dump of schema `schema_version`) into this
    /// store's database, which must hold no node's data: migrates it to that
    /// schema, inserts every row in one transaction, leaves the log's gap,
    /// then migrates it to the latest schema. Returns the rows restored per
    /// table.
    pub async fn restore(
        &self,
        schema_version: i64,
        items: &mut (dyn Iterator<Item = std::io::Result<Item>> + Send),
    ) -> Result<BTreeMap<String, u64>, Error> {
        let known = known_schema_version(self.backend());
        if schema_version > known {
            return Err(Error::SchemaNewer {
                backup: schema_version,
                known,
            });
        }
        let mut conn = self.writer().acquire().await.map_err(storage)?;
        conn.ensure_migrations_table()
            .await
            .map_err(migrate_error)?;
        let found = latest_applied(&mut conn).await?;
        if found > schema_version {
            return Err(Error::SchemaAhead {
                found,
                backup: schema_version,
            });
        }
        let applied: BTreeSet<i64> = conn
            .list_applied_migrations()
            .await
            .map_err(migrate_error)?
            .into_iter()
            .map(|m| m.version)
            .collect();
        for migration in migrator(self.backend()).iter() {
            if migration.version <= schema_version
                && !applied.contains(&migration.version)
                && !migration.migration_type.is_down_migration()
            {
                conn.apply(migration).await.map_err(migrate_error)?;
            }
        }
        let bound: Option<String> =
            sqlx::query_scalar("SELECT value FROM node_meta WHERE key = 'node_id'")
                .fetch_optional(&mut *conn)
                .await
                .map_err(storage)?;
        let logged: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM change_log")
            .fetch_one(&mut *conn)
            .await
            .map_err(storage)?;
        if bound.is_some() || logged > 0 {
            return Err(Error::NotEmpty);
        }

        let backend = self.backend();
        let mut tx = sqlx::Connection::begin(&mut *conn).await.map_err(storage)?;
        let mut restored = BTreeMap::new();
        let mut pending: Vec<(Vec<String>, Vec<Value>)> = Vec::new();
        let mut current: Option<(String, Vec<String>, Columns)> = None;
        let mut batch: Vec<Vec<Value>> = Vec::new();
        for item in items {
            match item? {
                Item::Table { name, columns } => {
                    if let Some((table, names, target)) = current.take() {
                        insert(&mut tx, backend, &table, &names, &target, &mut batch).await?;
                    }
                    restored.insert(name.clone(), 0);
                    if name == PENDING && backend == Backend::Sqlite {
                        current = Some((name, columns, Columns::pending()));
                        continue;
                    }
                    let target = self::columns(&mut tx, backend, &name).await?;
                    if target.names.is_empty() {
                        return Err(Error::Mismatch(format!("no table {name} here")));
                    }
                    if let Some(missing) = columns.iter().find(|c| !target.names.contains(c)) {
                        return Err(Error::Mismatch(format!("no column {name}.{missing} here")));
                    }
                    // What the migrations put in (a cursor's first row,
                    // say) gives way to the copy's.
                    sqlx::query(&format!("DELETE FROM {}", quoted(&name)))
                        .execute(&mut *tx)
                        .await
                        .map_err(storage)?;
                    current = Some((name, columns, target));
                }
                Item::Row(values) => {
                    let Some((table, names, target)) = &current else {
                        return Err(Error::Mismatch("a row before any table".into()));
                    };
                    if values.len() != names.len() {
                        return Err(Error::Mismatch(format!(
                            "a row of {table} has {} values for {} columns",
                            values.len(),
                            names.len()
                        )));
                    }
                    *restored.get_mut(table).expect("counted") += 1;
                    if table == PENDING && backend == Backend::Sqlite {
                        pending.push((names.clone(), values));
                        continue;
                    }
                    batch.push(values);
                    if batch.len() * names.len() >= 1000 {
                        insert(&mut tx, backend, table, names, target, &mut batch).await?;
                    }
                }
            }
        }
        if let Some((table, names, target)) = current.take() {
            insert(&mut tx, backend, &table, &names, &target, &mut batch).await?;
        }
        leave_gap(&mut tx, backend).await?;
        if !pending.is_empty() {
            number_pending(&mut tx, pending).await?;
        }
        tx.commit().await.map_err(storage)?;
        drop(conn);
        self.migrate()
            .await
            .map_err(|e| Error::Mismatch(format!("migrating after the restore: {e}")))?;
        Ok(restored)
    }
}

fn migrate_error(error: sqlx::migrate::MigrateError) -> Error {
    Error::Mismatch(format!("migrating to the backup's schema: {error}"))
}

async fn latest_applied(
    conn: &mut sqlx::AnyConnection,
) -> Result<i64, edufed_domain::StorageError> {
    let exists: i64 = match sqlx::query_scalar::<_, i64>(
        "SELECT COUNT(*) FROM _sqlx_migrations WHERE success = TRUE",
    )
    .fetch_one(&mut *conn)
    .await
    {
        Ok(count) => count,
        Err(sqlx::Error::Database(_)) => return Ok(0),
        Err(other) => return Err(storage(other)),
    };
    if exists == 0 {
        return Ok(0);
    }
    sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success = TRUE")
        .fetch_one(&mut *conn)
        .await
        .map_err(storage)
}

/// The node's tables, each after the tables its foreign keys name.
async fn ordered_tables(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
) -> Result<Vec<String>, Error> {
    let (tables_sql, keys_sql) = match backend {
        Backend::Sqlite => (
            "SELECT name FROM sqlite_master WHERE type = 'table' \
             AND name NOT LIKE 'sqlite_%' AND name <> '_sqlx_migrations' ORDER BY name",
            "SELECT m.name, f.\"table\" FROM sqlite_master m, pragma_foreign_key_list(m.name) f \
             WHERE m.type = 'table'",
        ),
        Backend::Postgres => (
            "SELECT CAST(table_name AS TEXT) FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' \
             AND table_name <> '_sqlx_migrations' ORDER BY table_name",
            "SELECT CAST(tc.table_name AS TEXT), CAST(ccu.table_name AS TEXT) \
             FROM information_schema.table_constraints tc \
             JOIN information_schema.constraint_column_usage ccu \
               ON tc.constraint_name = ccu.constraint_name AND tc.table_schema = ccu.table_schema \
             WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = current_schema()",
        ),
    };
    let tables: Vec<String> = sqlx::query_scalar::<_, String>(tables_sql)
        .fetch_all(&mut *conn)
        .await
        .map_err(storage)?
        .into_iter()
        // Which replica does the background work is the running node's
        // business: a restored node takes the lease afresh.
        .filter(|t| t != "leases")
        .collect();
    let keys: Vec<(String, String)> = sqlx::query_as(keys_sql)
        .fetch_all(&mut *conn)
        .await
        .map_err(storage)?;
    let mut before: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (table, referenced) in &keys {
        if table != referenced {
            before.entry(table).or_default().insert(referenced);
        }
    }
    let mut ordered: Vec<String> = Vec::with_capacity(tables.len());
    let mut placed: BTreeSet<&str> = BTreeSet::new();
    while ordered.len() < tables.len() {
        let ready: Vec<&String> = tables
            .iter()
            .filter(|t| !placed.contains(t.as_str()))
            .filter(|t| {
                before
                    .get(t.as_str())
                    .is_none_or(|needs| needs.iter().all(|n| placed.contains(n)))
            })
            .collect();
        if ready.is_empty() {
            return Err(Error::Mismatch(
                "the tables' foreign keys form a cycle".into(),
            ));
        }
        for table in ready {
            placed.insert(table);
            ordered.push(table.clone());
        }
    }
    Ok(ordered)
}

async fn columns(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
    table: &str,
) -> Result<Columns, Error> {
    let rows: Vec<(String, String, String)> = match backend {
        Backend::Sqlite => {
            sqlx::query_as("SELECT name, type, '' FROM pragma_table_info($1) ORDER BY cid")
        }
        Backend::Postgres => sqlx::query_as(
            "SELECT CAST(column_name AS TEXT), CAST(data_type AS TEXT), \
             CAST(COALESCE(identity_generation, '') AS TEXT) \
             FROM information_schema.columns \
             WHERE table_schema = current_schema() AND table_name = $1 \
             ORDER BY ordinal_position",
        ),
    }
    .bind(table)
    .fetch_all(&mut *conn)
    .await
    .map_err(storage)?;
    let kind = |declared: &str| {
        let declared = declared.to_ascii_lowercase();
        if declared.contains("int") {
            Kind::Integer
        } else if declared.contains("real")
            || declared.contains("double")
            || declared.contains("float")
            || declared.contains("numeric")
        {
            Kind::Real
        } else {
            Kind::Text
        }
    };
    Ok(Columns {
        kinds: rows.iter().map(|(_, declared, _)| kind(declared)).collect(),
        identity: rows.iter().any(|(_, _, generation)| generation == "ALWAYS"),
        names: rows.into_iter().map(|(name, _, _)| name).collect(),
    })
}

impl Columns {
    /// What SQLite holds no table for: the pending entries of a PostgreSQL
    /// copy, numbered into the log by the restore.
    fn pending() -> Self {
        Self {
            names: Vec::new(),
            kinds: Vec::new(),
            identity: false,
        }
    }
}

/// A value as the backup keeps it.
fn value_of(row: &sqlx::any::AnyRow, i: usize) -> Result<Value, Error> {
    let raw = row.try_get_raw(i).map_err(storage)?;
    if raw.is_null() {
        return Ok(Value::Null);
    }
    let kind = raw.type_info().kind();
    let column = row.column(i).name().to_owned();
    Ok(match kind {
        AnyTypeInfoKind::Null => Value::Null,
        AnyTypeInfoKind::Bool => {
            Value::from(i64::from(row.try_get::<bool, _>(i).map_err(storage)?))
        }
        AnyTypeInfoKind::SmallInt | AnyTypeInfoKind::Integer | AnyTypeInfoKind::BigInt => {
            Value::from(row.try_get::<i64, _>(i).map_err(storage)?)
        }
        AnyTypeInfoKind::Real | AnyTypeInfoKind::Double => {
            let number = row.try_get::<f64, _>(i).map_err(storage)?;
            serde_json::Number::from_f64(number)
                .map(Value::Number)
                .ok_or_else(|| Error::Mismatch(format!("{column} holds {number}")))?
        }
        AnyTypeInfoKind::Text => Value::from(row.try_get::<String, _>(i).map_err(storage)?),
        AnyTypeInfoKind::Blob => {
            return Err(Error::Mismatch(format!("{column} holds bytes")));
        }
    })
}

/// Inserts the rows of `batch` into `table`, each value as its column's
/// kind here, and empties the batch.
async fn insert(
    conn: &mut sqlx::AnyConnection,
    backend: Backend,
    table: &str,
    names: &[String],
    target: &Columns,
    batch: &mut Vec<Vec<Value>>,
) -> Result<(), Error> {
    if batch.is_empty() {
        return Ok(());
    }
    // PostgreSQL numbers pending entries itself: their id is left out.
    let keep: Vec<usize> = (0..names.len())
        .filter(|&i| !(table == PENDING && names[i] == "id"))
        .collect();
    let kinds: Vec<Kind> = keep
        .iter()
        .map(|&i| {
            target
                .names
                .iter()
                .position(|n| *n == names[i])
                .map_or(Kind::Text, |p| target.kinds[p])
        })
        .collect();
    let mut sql = format!(
        "INSERT INTO {} ({}){} VALUES ",
        quoted(table),
        keep.iter()
            .map(|&i| quoted(&names[i]))
            .collect::<Vec<_>>()
            .join(", "),
        if target.identity && backend == Backend::Postgres && table != PENDING {
            " OVERRIDING SYSTEM VALUE"
        } else {
            ""
        }
    );
    let mut n = 0;
    for (r, _) in batch.iter().enumerate() {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for k in 0..keep.len() {
            if k > 0 {
                sql.push_str(", ");
            }
            n += 1;
            sql.push_str(&format!("${n}"));
        }
        sql.push(')');
    }
    let mut query = sqlx::query(&sql);
    for row in batch.iter() {
        for (k, &i) in keep.iter().enumerate() {
            query = bind(query, kinds[k], &row[i], table, &names[i])?;
        }
    }
    query.execute(&mut *conn).await.map_err(storage)?;
    batch.clear();
    Ok(())
}

type AnyQuery<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

fn bind<'q>(
    query: AnyQuery<'q>,
    kind: Kind,
    value: &Value,
    table: &str,
    column: &str,
) -> Result<AnyQuery<'q>, Error> {
    let wrong = || Error::Mismatch(format!("{table}.{column} holds {value}"));
    Ok(match (kind, value) {
        (Kind::Integer, Value::Null) => query.bind(None::<i64>),
        (Kind::Real, Value::Null) => query.bind(None::<f64>),
        (Kind::Text, Value::Null) => query.bind(None::<String>),
        (Kind::Integer, Value::Number(n)) => query.bind(n.as_i64().ok_or_else(wrong)?),
        (Kind::Integer, Value::String(s)) => query.bind(s.parse::<i64>().map_err(|_| wrong())?),
        (Kind::Real, Value::Number(n)) => query.bind(n.as_f64().ok_or_else(wrong)?),
        (Kind::Text, Value::String(s)) => query.bind(s.clone()),
        (Kind::Text, Value::Number(n)) => query.bind(n.to_string()),
        _ => return Err(wrong()),
    })
}

/// Leaves the gap above the restored log's latest entry: no sequence in
/// it is given, and a cursor in it is told to resync.
async fn leave_gap(conn: &mut sqlx::AnyConnection, backend: Backend) -> Result<(), Error> {
    let latest: i64 = sqlx::query_scalar("SELECT COALESCE(MAX(seq), 0) FROM change_log")
        .fetch_one(&mut *conn)
        .await
        .map_err(storage)?;
    let meta = |key: &'static str| {
        sqlx::query_scalar::<_, String>("SELECT value FROM node_meta WHERE key = $1").bind(key)
    };
    let compacted = meta(crate::changes::COMPACTED_THROUGH)
        .fetch_optional(&mut *conn)
        .await
        .map_err(storage)?
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(0);
    let floor = meta(LOG_FLOOR)
        .fetch_optional(&mut *conn)
        .await
        .map_err(storage)?
        .and_then(|v| v.parse::<i64>().ok())
        .unwrap_or(0);
    let after = u64::try_from(latest.max(compacted).max(floor)).unwrap_or(0);
    let through = after + RESTORE_GAP;
    let mut gaps: Vec<(u64, u64)> = meta(LOG_GAPS)
        .fetch_optional(&mut *conn)
        .await
        .map_err(storage)?
        .and_then(|v| serde_json::from_str(&v).ok())
        .unwrap_or_default();
    gaps.push((after, through));
    for (key, value) in [
        (LOG_GAPS, serde_json::to_string(&gaps).unwrap_or_default()),
        (LOG_FLOOR, through.to_string()),
    ] {
        sqlx::query(
            "INSERT INTO node_meta (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        )
        .bind(key)
        .bind(value)
        .execute(&mut *conn)
        .await
        .map_err(storage)?;
    }
    if backend == Backend::Sqlite {
        // AUTOINCREMENT continues above the largest sequence it recorded.
        let through = i64::try_from(through).unwrap_or(i64::MAX);
        let updated = sqlx::query("UPDATE sqlite_sequence SET seq = $1 WHERE name = 'change_log'")
            .bind(through)
            .execute(&mut *conn)
            .await
            .map_err(storage)?
            .rows_affected();
        if updated == 0 {
            sqlx::query("INSERT INTO sqlite_sequence (name, seq) VALUES ('change_log', $1)")
                .bind(through)
                .execute(&mut *conn)
                .await
                .map_err(storage)?;
        }
    }
    Ok(())
}

/// SQLite: a PostgreSQL copy's committed entries that were not numbered
/// yet, numbered above the gap in the order they were written, with the
/// organizations each concerns.
async fn number_pending(
    conn: &mut sqlx::AnyConnection,
    mut pending: Vec<(Vec<String>, Vec<Value>)>,
) -> Result<(), Error> {
    let at = |names: &[String], values: &[Value], column: &str| -> Result<Value, Error> {
        names
            .iter()
            .position(|n| n == column)
            .map(|i| values[i].clone())
            .ok_or_else(|| Error::Mismatch(format!("{PENDING} has no column {column}")))
    };
    pending.sort_by_key(|(names, values)| {
        at(names, values, "id")
            .ok()
            .and_then(|v| v.as_i64())
            .unwrap_or(0)
    });
    let log_columns = [
        "entity_kind",
        "entity_id",
        "version",
        "operation",
        "org_id",
        "payload",
        "actor",
        "created_at",
        "also_org_id",
        "shared",
    ];
    let target = columns(&mut *conn, Backend::Sqlite, "change_log").await?;
    for (names, values) in pending {
        let mut row: Vec<Value> = Vec::with_capacity(log_columns.len());
        for column in log_columns {
            row.push(at(&names, &values, column)?);
        }
        let mut batch = vec![row];
        let owned: Vec<String> = log_columns.iter().map(|c| (*c).to_owned()).collect();
        insert(
            &mut *conn,
            Backend::Sqlite,
            "change_log",
            &owned,
            &target,
            &mut batch,
        )
        .await?;
        let audience = at(&names, &values, "audience")?;
        for org in audience
            .as_str()
            .unwrap_or("")
            .split(',')
            .filter(|o| !o.is_empty())
        {
            sqlx::query(
                "INSERT INTO change_log_audience (seq, org_id) \
                 SELECT MAX(seq), $1 FROM change_log",
            )
            .bind(org.to_owned())
            .execute(&mut *conn)
            .await
            .map_err(storage)?;
        }
    }
    Ok(())
}
