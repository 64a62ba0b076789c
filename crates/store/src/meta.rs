//! Facts about the node kept in its database.

use edufed_domain::StorageError;

use crate::Store;
use crate::error::storage;

const NODE_ID: &str = "node_id";

impl Store {
    /// Binds the database to a node: records `node_id` on first use, and
    /// afterwards returns the id it was bound to (which the caller compares,
    /// so a node never runs on another node's database).
    #[tracing::instrument(name = "store.meta.bind_node", skip(self))]
    pub async fn bind_node_id(&self, node_id: &str) -> Result<String, StorageError> {
        let mut tx = self.write_tx().await?;
        sqlx::query(
            "INSERT INTO node_meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
        )
        .bind(NODE_ID)
        .bind(node_id)
        .execute(tx.conn())
        .await
        .map_err(storage)?;
        let bound: String = sqlx::query_scalar("SELECT value FROM node_meta WHERE key = $1")
            .bind(NODE_ID)
            .fetch_one(tx.conn())
            .await
            .map_err(storage)?;
        tx.commit().await?;
        Ok(bound)
    }
}
