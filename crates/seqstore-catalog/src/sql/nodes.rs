//! The server processes sharing the catalog.

use super::Db;
use super::SqlCatalog;
use async_trait::async_trait;
use seqstore_core::Timestamp;
use seqstore_core::catalog::{NodeRecord, Nodes, Result};
use seqstore_core::ids::NodeId;
use sqlx::Row;

#[async_trait]
impl Nodes for SqlCatalog {
    async fn node_alive(&self, node: &NodeId, started: Timestamp, now: Timestamp) -> Result<()> {
        sqlx::query(
            "INSERT INTO nodes (id, started_at, seen_at) VALUES ($1, $2, $3) \
             ON CONFLICT (id) DO UPDATE SET started_at = $2, seen_at = $3",
        )
        .bind(node.as_str())
        .bind(started.millis())
        .bind(now.millis())
        .execute(self.pool())
        .await
        .db()?;
        Ok(())
    }

    async fn live_nodes(&self, since: Timestamp) -> Result<Vec<NodeRecord>> {
        let rows = sqlx::query(
            "SELECT id, started_at, seen_at FROM nodes WHERE seen_at >= $1 ORDER BY id",
        )
        .bind(since.millis())
        .fetch_all(self.pool())
        .await
        .db()?;
        rows.iter()
            .map(|r| {
                Ok(NodeRecord {
                    id: NodeId::from(r.try_get::<String, _>("id").db()?),
                    started_at: Timestamp::from_millis(r.try_get("started_at").db()?),
                    seen_at: Timestamp::from_millis(r.try_get("seen_at").db()?),
                })
            })
            .collect()
    }

    async fn node_stopped(&self, node: &NodeId) -> Result<()> {
        sqlx::query("DELETE FROM nodes WHERE id = $1")
            .bind(node.as_str())
            .execute(self.pool())
            .await
            .db()?;
        Ok(())
    }
}
