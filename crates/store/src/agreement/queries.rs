//! Reading agreements: one, a filtered list, a history, and what one
//! delivered.

use edufed_domain::agreement::report::{self, CohortFacts};
use edufed_domain::agreement::summary::Summary;
use edufed_domain::agreement::{Agreement, AgreementFilter, Error, HistoryEntry, REGISTER};
use edufed_domain::ids::AgreementId;

use super::rows::{BookedRow, CohortRow, DeliveredRow, HISTORY_COLUMNS, HistoryRow, SlotRow, load};
use crate::Store;
use crate::error::storage;
use crate::sql::{QueryText, Value, decode_all, micros};

impl Store {
    /// The agreement, with its versions and signatures.
    #[tracing::instrument(name = "store.agreement.get", skip(self))]
    pub async fn get_agreement(&self, id: &AgreementId) -> Result<Agreement, Error> {
        let mut conn = self.reader().acquire().await.map_err(storage)?;
        load(&mut conn, id).await
    }

    /// Agreements that `filter` lets through, by id, after `after`.
    #[tracing::instrument(name = "store.agreement.list", skip(self, filter))]
    pub async fn list_agreements(
        &self,
        filter: &AgreementFilter,
        after: Option<&AgreementId>,
        limit: u32,
    ) -> Result<Vec<Agreement>, Error> {
        let mut q = QueryText::new("SELECT id FROM agreements WHERE 1 = 1");
        if let Some(party) = &filter.party {
            q.push(
                " AND id IN (SELECT agreement_id FROM agreement_parties WHERE org_id = $?)",
                Value::Text(party.to_string()),
            );
        }
        if !filter.kinds.is_empty() {
            q.push_list(
                " AND kind IN ($list)",
                filter
                    .kinds
                    .iter()
                    .map(|k| Value::Text(k.as_str().into()))
                    .collect(),
            );
        }
        if !filter.states.is_empty() {
            q.push_list(
                " AND state IN ($list)",
                filter
                    .states
                    .iter()
                    .map(|s| Value::Text(s.as_str().into()))
                    .collect(),
            );
        }
        if let Some(before) = filter.ending_before {
            q.push(" AND ends_at < $?", Value::Int(micros(before)));
        }
        if let Some(orgs) = &filter.visible_to {
            q.push_list(
                " AND (state IN ($list)",
                REGISTER
                    .iter()
                    .map(|s| Value::Text(s.as_str().into()))
                    .collect(),
            );
            if orgs.is_empty() {
                q.raw(")");
            } else {
                q.push_list(
                    " OR id IN (SELECT agreement_id FROM agreement_parties WHERE org_id IN ($list)))",
                    orgs.iter().map(|o| Value::Text(o.to_string())).collect(),
                );
            }
        }
        if let Some(after) = after {
            q.push(" AND id > $?", Value::Text(after.to_string()));
        }
        q.push(" ORDER BY id LIMIT $?", Value::Int(i64::from(limit)));
        let mut conn = self.reader().acquire().await.map_err(storage)?;
        let ids: Vec<(String,)> = q.query_as().fetch_all(&mut *conn).await.map_err(storage)?;
        let mut out = Vec::with_capacity(ids.len());
        for (id,) in ids {
            out.push(load(&mut conn, &AgreementId::from_stored(id)).await?);
        }
        Ok(out)
    }

    /// Peers' agreements this node mirrors (and does not keep itself) that
    /// `filter` lets through, by id, after `after`, as their home nodes'
    /// summaries, each with the node it came from. A copy that cannot be
    /// read is left out.
    #[tracing::instrument(name = "store.agreement.list_mirrored", skip(self, filter))]
    pub async fn list_mirrored_agreements(
        &self,
        filter: &AgreementFilter,
        after: Option<&AgreementId>,
        limit: u32,
    ) -> Result<Vec<(Summary, String)>, Error> {
        let rows: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT entity_id, origin, payload FROM mirrors WHERE entity_kind = 'agreement' \
             AND operation <> 'delete' AND entity_id > $1 \
             AND entity_id NOT IN (SELECT id FROM agreements) ORDER BY entity_id, version DESC",
        )
        .bind(after.map(|a| a.to_string()).unwrap_or_default())
        .fetch_all(self.reader())
        .await
        .map_err(storage)?;
        let mut out: Vec<(Summary, String)> = Vec::new();
        let mut seen = String::new();
        for (id, origin, payload) in rows {
            // A record relayed by several peers: the newest copy.
            if id == seen {
                continue;
            }
            seen.clone_from(&id);
            match serde_json::from_str::<Summary>(&payload) {
                Ok(summary) if summary.id.as_str() == id => {
                    if filter.admits(&summary) {
                        out.push((summary, origin));
                    }
                }
                _ => {
                    tracing::warn!(%id, %origin, "a mirrored agreement could not be read; not listed")
                }
            }
            if out.len() >= limit as usize {
                break;
            }
        }
        Ok(out)
    }

    /// Every transition of the agreement, oldest first.
    #[tracing::instrument(name = "store.agreement.history", skip(self))]
    pub async fn agreement_history(&self, id: &AgreementId) -> Result<Vec<HistoryEntry>, Error> {
        let rows: Vec<HistoryRow> = sqlx::query_as(&format!(
            "SELECT {HISTORY_COLUMNS} FROM agreement_history WHERE agreement_id = $1 ORDER BY seq"
        ))
        .bind(id.to_string())
        .fetch_all(self.reader())
        .await
        .map_err(storage)?;
        Ok(decode_all(rows)?)
    }

    /// What the agreement delivered, as of the store's clock: its
    /// activities and their occurrences, the cohorts registered for them,
    /// and the bookings made under it.
    #[tracing::instrument(name = "store.agreement.report", skip(self))]
    pub async fn agreement_report(&self, id: &AgreementId) -> Result<report::Report, Error> {
        let now = self.clock().now();
        let mut conn = self.reader().acquire().await.map_err(storage)?;
        let agreement = load(&mut conn, id).await?;
        let Some(version) = agreement.effective() else {
            return Err(Error::NotFound(id.to_string()));
        };
        let content = &version.content;
        let rows: Vec<DeliveredRow> = sqlx::query_as(
            "SELECT id, publisher_id, status, details FROM activities \
             WHERE agreement_id = $1 AND status <> 'draft' ORDER BY id",
        )
        .bind(id.to_string())
        .fetch_all(&mut *conn)
        .await
        .map_err(storage)?;
        let mut activities = Vec::new();
        for row in rows {
            let occurrences: Vec<SlotRow> = sqlx::query_as(
                "SELECT start_at, end_at, cancelled FROM occurrences WHERE activity_id = $1 ORDER BY start_at",
            )
            .bind(row.id.clone())
            .fetch_all(&mut *conn)
            .await
            .map_err(storage)?;
            activities.push(row.facts(content, occurrences)?);
        }
        let cohorts: Vec<CohortRow> = sqlx::query_as(
            "SELECT r.org_id, r.headcount, r.results FROM registrations r \
             JOIN activities a ON a.id = r.activity_id \
             WHERE a.agreement_id = $1 AND r.state = 'confirmed'",
        )
        .bind(id.to_string())
        .fetch_all(&mut *conn)
        .await
        .map_err(storage)?;
        let cohorts: Vec<CohortFacts> = decode_all(cohorts)?;
        let bookings: Vec<BookedRow> = sqlx::query_as(
            "SELECT o.booking_id, o.resource_id, r.owner_id, o.state, o.start_at, o.end_at, o.hold_expires_at \
             FROM booking_occurrences o JOIN bookings b ON b.id = o.booking_id \
             JOIN resources r ON r.id = o.resource_id WHERE b.agreement_id = $1",
        )
        .bind(id.to_string())
        .fetch_all(&mut *conn)
        .await
        .map_err(storage)?;
        let mut booked = Vec::with_capacity(bookings.len());
        for row in bookings {
            booked.extend(row.facts(now)?);
        }
        Ok(report::build(content, now, &activities, &cohorts, &booked))
    }
}
