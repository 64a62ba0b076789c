//! The audit trail's table: an entry per record written, in the write's
//! transaction, with the call it came in (set around each call by the
//! server's edge with [`within`]).

use std::future::Future;

use chrono::{DateTime, Utc};
use edufed_domain::StorageError;
use edufed_domain::audit::{AuditEntry, AuditQuery, CallOrigin};
use edufed_domain::changes::Actor;
use edufed_domain::ids::OrgId;
use edufed_domain::page::{PageSize, PageToken};

use crate::Store;
use crate::directory::Page;
use crate::error::storage;
use crate::sql::{QueryText, Value, instant, micros, signed, unsigned};
use crate::tx::WriteTx;

tokio::task_local! {
    static ORIGIN: CallOrigin;
}

/// Runs `work` with its writes recorded as coming from `origin`.
pub async fn within<F: Future>(origin: CallOrigin, work: F) -> F::Output {
    ORIGIN.scope(origin, work).await
}

/// The origin [`within`] set for the running task, if any.
pub fn current() -> Option<CallOrigin> {
    ORIGIN.try_with(Clone::clone).ok()
}

/// A record written, for its entry.
#[derive(Debug, Clone)]
pub(crate) struct Written<'a> {
    pub(crate) kind: &'a str,
    pub(crate) record_id: &'a str,
    pub(crate) version: Option<u64>,
    pub(crate) operation: &'a str,
    pub(crate) org_id: Option<&'a OrgId>,
    pub(crate) also_org_id: Option<&'a OrgId>,
    /// Further organizations the record concerns (an agreement's parties).
    pub(crate) audience: &'a [OrgId],
    pub(crate) actor: &'a Actor,
    /// The node the write was sent to, when it was forwarded.
    pub(crate) forwarded_to: Option<&'a str>,
}

impl<'a> Written<'a> {
    /// A record the node keeps to itself (no change-log entry, no
    /// version): a teacher's growth record, an organization's figures.
    pub(crate) fn private(
        kind: &'a str,
        record_id: &'a str,
        operation: &'a str,
        org_id: &'a OrgId,
        actor: &'a Actor,
    ) -> Self {
        Self {
            kind,
            record_id,
            version: None,
            operation,
            org_id: Some(org_id),
            also_org_id: None,
            audience: &[],
            actor,
            forwarded_to: None,
        }
    }
}

const COLUMNS: &str = "id, at, method, entity_kind, entity_id, version, operation, org_id, \
                       also_org_id, audience, actor, acting_name, credential, via_node, \
                       forwarded_to, address";

impl WriteTx<'_> {
    /// Records `written` in the trail, with the call it came in.
    pub(crate) async fn audit(&mut self, written: Written<'_>) -> Result<(), StorageError> {
        let origin = current().unwrap_or_default();
        let now = self.now();
        sqlx::query(&format!(
            "INSERT INTO audit_log ({COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
        ))
        .bind(uuid::Uuid::now_v7().to_string())
        .bind(micros(now))
        .bind(origin.method.clone())
        .bind(written.kind.to_owned())
        .bind(written.record_id.to_owned())
        .bind(written.version.map(signed))
        .bind(written.operation.to_owned())
        .bind(written.org_id.map(ToString::to_string))
        .bind(written.also_org_id.map(ToString::to_string))
        .bind(audience_text(written.audience))
        .bind(written.actor.as_string())
        .bind(origin.acting_name.clone())
        .bind(origin.credential_text())
        .bind(origin.via_node().map(str::to_owned))
        .bind(written.forwarded_to.map(str::to_owned))
        .bind(origin.address.clone())
        .execute(self.conn())
        .await
        .map_err(storage)?;
        Ok(())
    }
}

#[derive(sqlx::FromRow)]
struct EntryRow {
    id: String,
    at: i64,
    method: String,
    entity_kind: String,
    entity_id: String,
    version: Option<i64>,
    operation: String,
    org_id: Option<String>,
    also_org_id: Option<String>,
    actor: String,
    credential: Option<String>,
    via_node: Option<String>,
    forwarded_to: Option<String>,
    address: Option<String>,
    actor_name: Option<String>,
}

impl TryFrom<EntryRow> for AuditEntry {
    type Error = StorageError;

    fn try_from(row: EntryRow) -> Result<Self, StorageError> {
        Ok(AuditEntry {
            id: row.id,
            at: instant(row.at)?,
            method: row.method,
            kind: row.entity_kind,
            record_id: row.entity_id,
            version: row.version.map(unsigned).transpose()?,
            operation: row.operation,
            org_id: row.org_id.map(OrgId::from_stored),
            also_org_id: row.also_org_id.map(OrgId::from_stored),
            actor: row.actor,
            actor_name: row.actor_name,
            credential: row.credential,
            via_node: row.via_node,
            forwarded_to: row.forwarded_to,
            address: row.address,
        })
    }
}

impl Store {
    /// Records that the caller's write about a record another node keeps
    /// was sent there (whose entry, there, names this node).
    pub async fn record_forward(
        &self,
        method_record: (&str, &str),
        org: Option<&OrgId>,
        actor: &Actor,
        home: &str,
    ) -> Result<(), StorageError> {
        let (kind, record_id) = method_record;
        let mut tx = self.write_tx().await?;
        tx.audit(Written {
            kind,
            record_id,
            version: None,
            operation: "forward",
            org_id: org,
            also_org_id: None,
            audience: &[],
            actor,
            forwarded_to: Some(home),
        })
        .await?;
        tx.commit().await
    }

    /// The trail's entries `query` selects, newest first, a page at a time.
    pub async fn list_audit(
        &self,
        query: &AuditQuery,
        size: PageSize,
        after: Option<&PageToken>,
    ) -> Result<Page<AuditEntry>, StorageError> {
        let columns = COLUMNS
            .split(", ")
            .filter(|c| !["audience", "acting_name"].contains(c))
            .map(|c| format!("a.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let mut sql = QueryText::new(format!(
            "SELECT {columns}, COALESCE(p.display_name, a.acting_name) AS actor_name \
             FROM audit_log a LEFT JOIN people p ON p.id = a.actor WHERE 1 = 1"
        ));
        if let Some(scope) = &query.scope {
            if scope.is_empty() {
                return Ok(Page {
                    items: Vec::new(),
                    next: None,
                });
            }
            let orgs = || scope.iter().map(|o| Value::Text(o.to_string())).collect();
            sql.push_list(" AND (a.org_id IN ($list)", orgs());
            sql.push_list(" OR a.also_org_id IN ($list)", orgs());
            for org in scope {
                sql.push(" OR a.audience LIKE $?", Value::Text(format!("%,{org},%")));
            }
            sql.raw(")");
        }
        if let Some(org) = &query.org {
            sql.push(" AND (a.org_id = $?", Value::Text(org.to_string()));
            sql.push(" OR a.also_org_id = $?", Value::Text(org.to_string()));
            sql.push(" OR a.audience LIKE $?)", Value::Text(format!("%,{org},%")));
        }
        if let Some(kind) = &query.kind {
            sql.push(" AND a.entity_kind = $?", Value::Text(kind.clone()));
        }
        if let Some(record) = &query.record_id {
            sql.push(" AND a.entity_id = $?", Value::Text(record.clone()));
        }
        if let Some(actor) = &query.actor {
            sql.push(" AND a.actor = $?", Value::Text(actor.clone()));
        }
        if let Some(since) = query.since {
            sql.push(" AND a.at >= $?", Value::Int(micros(since)));
        }
        if let Some(until) = query.until {
            sql.push(" AND a.at < $?", Value::Int(micros(until)));
        }
        if let Some(key) = after.map(PageToken::key) {
            let at: i64 = key[0]
                .parse()
                .map_err(|_| StorageError::msg("the page token's instant is not a number"))?;
            sql.push(" AND (a.at < $?", Value::Int(at));
            sql.push(" OR (a.at = $?", Value::Int(at));
            sql.push(" AND a.id < $?))", Value::Text(key[1].clone()));
        }
        sql.push(
            " ORDER BY a.at DESC, a.id DESC LIMIT $?",
            Value::Int(i64::from(size.get()) + 1),
        );
        let rows: Vec<EntryRow> = sql
            .query_as()
            .fetch_all(self.reader())
            .await
            .map_err(storage)?;
        let items = rows
            .into_iter()
            .map(AuditEntry::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Page::from_overfetch(items, size, |entry| {
            vec![micros(entry.at).to_string(), entry.id.clone()]
        }))
    }

    /// Deletes the entries written before `before`; how many went.
    pub async fn expire_audit(&self, before: DateTime<Utc>) -> Result<u64, StorageError> {
        let mut tx = self.write_tx().await?;
        let deleted = sqlx::query("DELETE FROM audit_log WHERE at < $1")
            .bind(micros(before))
            .execute(tx.conn())
            .await
            .map_err(storage)?
            .rows_affected();
        tx.commit().await?;
        Ok(deleted)
    }
}

/// The organizations a record concerns beside its own, as the trail keeps
/// them: `,a,b,`, so that one is found with `LIKE '%,a,%'`.
fn audience_text(orgs: &[OrgId]) -> String {
    if orgs.is_empty() {
        return String::new();
    }
    let listed: Vec<String> = orgs.iter().map(ToString::to_string).collect();
    format!(",{},", listed.join(","))
}
