//! Several nodes on one catalog. Each node says it is alive; the live node with the smallest
//! id is on duty: it performs the cluster's chores (the cleanup of interrupted work, upload
//! expiry, the archive scan, backfills), so they run once per cluster, not once per node.

use crate::Service;
use crate::error::CoreError;
use crate::ids::NodeId;
use crate::time::Timestamp;
use std::time::{Duration, SystemTime};

/// Longest a write may hold a blob before the catalog records it (an upload part, a file
/// under a pending item): the cleanup leaves younger objects alone.
const IN_FLIGHT_AT_MOST: Duration = Duration::from_secs(600);

/// One server process among those sharing the catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Its identity.
    pub id: NodeId,
    /// When it started.
    pub started: Timestamp,
    /// A node not heard of for this long is gone (as its job leases are).
    pub expiry: Duration,
}

impl Service {
    /// Records that `node` is alive. A node does so before it serves or runs anything, then
    /// well within its `expiry`.
    pub async fn node_alive(&self, node: &Node) -> Result<(), CoreError> {
        Ok(self
            .catalog
            .node_alive(&node.id, node.started, Timestamp::now())
            .await?)
    }

    /// Forgets `node` as it stops, so another takes over its duty at once.
    pub async fn node_stopped(&self, node: &Node) -> Result<(), CoreError> {
        Ok(self.catalog.node_stopped(&node.id).await?)
    }

    /// When `node` is on duty, the moment before which no live node can still be writing
    /// anything it has not recorded: the later of [`IN_FLIGHT_AT_MOST`] ago and the start of
    /// the earliest live node (a node writes only after it said it was alive, and a node gone
    /// writes nothing). `None` when another node is on duty.
    pub async fn on_duty(&self, node: &Node) -> Result<Option<SystemTime>, CoreError> {
        let now = Timestamp::now();
        let live = self.catalog.live_nodes(now.minus(node.expiry)).await?;
        if live.first().map(|n| &n.id) != Some(&node.id) {
            return Ok(None);
        }
        let earliest = live.iter().map(|n| n.started_at).min().unwrap_or(now);
        let settled = earliest.max(now.minus(IN_FLIGHT_AT_MOST));
        let millis = u64::try_from(settled.millis()).unwrap_or(0);
        Ok(Some(SystemTime::UNIX_EPOCH + Duration::from_millis(millis)))
    }
}
