//! Read-only views for the API and the dashboard: pages in either order, rows of many tasks or
//! operators in one query, and the aggregates behind `/v1/stats`.
//!
//! Everything here is portable SQL over `sqlx::Any` (the same text runs on SQLite and
//! PostgreSQL): `$n` parameters, `COUNT`, `SUM` cast back to `BIGINT` (PostgreSQL sums
//! `BIGINT` into `NUMERIC`, which the `Any` driver cannot decode), `COALESCE`, and nearest-rank
//! percentiles computed from a bounded, ordered sample rather than `percentile_cont`, which
//! SQLite lacks. Lists of keys become `IN ($1, ..., $n)` with placeholders the code generates
//! (never values), at most [`MAX_KEYS`] of them.

use std::collections::HashMap;

use alloy::primitives::{Address, U256};
use sqlx::{AnyPool, AssertSqlSafe};

use super::{
    AssignmentRecord, BoxFuture, HeartbeatRecord, NodeRecord, OutcomeRecord, ReassignmentRecord,
    Result, SqlStore, StoreError, TaskRecord, TaskStatus,
    rows::{self, Cols, addr, db, int, task_key},
};

/// The most keys one `IN (...)` list may hold.
pub const MAX_KEYS: usize = 500;

/// The order of a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Order {
    /// Ascending keys (oldest task first).
    #[default]
    Asc,
    /// Descending keys (newest task first).
    Desc,
}

/// A page of tasks: after a cursor (exclusive, in the page's order), optionally one status.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TaskQuery {
    /// Continue after this id (in `order`).
    pub after: Option<U256>,
    /// Rows wanted (capped at [`super::MAX_PAGE`]).
    pub limit: u32,
    /// Key order.
    pub order: Order,
    /// Only tasks in this status.
    pub status: Option<TaskStatus>,
}

/// A page of nodes, by operator address.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NodeQuery {
    /// Continue after this operator (in `order`).
    pub after: Option<Address>,
    /// Rows wanted (capped at [`super::MAX_PAGE`]).
    pub limit: u32,
    /// Key order.
    pub order: Order,
}

/// The aggregates behind the network statistics.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NetworkCounts {
    /// Tasks per status (statuses without tasks are absent).
    pub tasks_by_status: HashMap<TaskStatus, u64>,
    /// Registered nodes.
    pub nodes_registered: u64,
    /// Registered nodes whose latest heartbeat arrived after `live_after`.
    pub nodes_live: u64,
    /// Sum of every node's on-chain slashing counter.
    pub slashes: u64,
    /// Finalized tasks settled at or after `settled_since`.
    pub finalized_recently: u64,
}

/// Read-only queries beyond [`super::Store`]'s, for the API.
pub trait Views: std::fmt::Debug + Send + Sync + 'static {
    /// A page of tasks.
    fn task_page(&self, q: TaskQuery) -> BoxFuture<'_, Result<Vec<TaskRecord>>>;
    /// A page of nodes.
    fn node_page(&self, q: NodeQuery) -> BoxFuture<'_, Result<Vec<NodeRecord>>>;
    /// The seats of these tasks, by task and slot (at most [`MAX_KEYS`] ids).
    fn assignments_of<'a>(
        &'a self,
        tasks: &'a [U256],
    ) -> BoxFuture<'a, Result<Vec<AssignmentRecord>>>;
    /// The seat changes of these tasks, by task, slot and round (at most [`MAX_KEYS`] ids).
    fn reassignments_of<'a>(
        &'a self,
        tasks: &'a [U256],
    ) -> BoxFuture<'a, Result<Vec<ReassignmentRecord>>>;
    /// The outcomes of these tasks, by task and operator (at most [`MAX_KEYS`] ids).
    fn outcomes_of_tasks<'a>(
        &'a self,
        tasks: &'a [U256],
    ) -> BoxFuture<'a, Result<Vec<OutcomeRecord>>>;
    /// The outcomes of these operators since `since` (unix seconds), oldest first (at most
    /// [`MAX_KEYS`] operators).
    fn outcomes_of_operators<'a>(
        &'a self,
        operators: &'a [Address],
        since: u64,
    ) -> BoxFuture<'a, Result<Vec<OutcomeRecord>>>;
    /// The latest heartbeats of these operators (at most [`MAX_KEYS`]).
    fn heartbeats_of<'a>(
        &'a self,
        operators: &'a [Address],
    ) -> BoxFuture<'a, Result<Vec<HeartbeatRecord>>>;
    /// How many seats the operator holds and is still working on.
    fn active_seat_count(&self, operator: Address) -> BoxFuture<'_, Result<u64>>;
    /// Counts for the network statistics: nodes live are those whose heartbeat arrived after
    /// `live_after`; recent finalizations are those settled at or after `settled_since`.
    fn network_counts(
        &self,
        live_after: u64,
        settled_since: u64,
    ) -> BoxFuture<'_, Result<NetworkCounts>>;
    /// Latencies (ms) of the `n` most recent completed outcomes that have one.
    fn recent_latencies(&self, n: u32) -> BoxFuture<'_, Result<Vec<u64>>>;
}

/// `$first, $first+1, ...` for `n` keys.
fn placeholders(first: usize, n: usize) -> String {
    (first..first + n)
        .map(|i| format!("${i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn too_many(what: &'static str, n: usize) -> Result<()> {
    if n > MAX_KEYS {
        return Err(StoreError::OutOfRange {
            field: what,
            value: n as u64,
        });
    }
    Ok(())
}

fn limit(l: u32) -> i64 {
    i64::from(l.clamp(1, super::MAX_PAGE))
}

fn count(row: &sqlx::any::AnyRow, col: &str, what: &str) -> Result<u64> {
    Cols::new(row, "aggregate", what.to_owned()).u64(col)
}

async fn fetch_in<T>(
    pool: &AnyPool,
    head: &str,
    keys: Vec<String>,
    tail: &str,
    extra: Option<i64>,
    op: &'static str,
    read: fn(&sqlx::any::AnyRow) -> Result<T>,
) -> Result<Vec<T>> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    too_many(op, keys.len())?;
    let mut sql = format!("{head} IN ({})", placeholders(1, keys.len()));
    if extra.is_some() {
        sql.push_str(&format!(" AND at >= ${}", keys.len() + 1));
    }
    sql.push(' ');
    sql.push_str(tail);
    // Only generated placeholders are spliced in; every value is bound.
    let mut q = sqlx::query(AssertSqlSafe(sql));
    for k in keys {
        q = q.bind(k);
    }
    if let Some(e) = extra {
        q = q.bind(e);
    }
    q.fetch_all(pool)
        .await
        .map_err(db(op))?
        .iter()
        .map(read)
        .collect()
}

impl Views for SqlStore {
    fn task_page(&self, q: TaskQuery) -> BoxFuture<'_, Result<Vec<TaskRecord>>> {
        Box::pin(async move {
            // `$2 = ''` means "any status"; the cursor is compared in the page's order.
            let sql = match (q.order, q.after.is_some()) {
                (Order::Asc, false) => concat!(
                    "SELECT ",
                    rows::task_cols!(),
                    " FROM tasks WHERE $1 = '' AND ($2 = '' OR status = $2) ORDER BY id ASC LIMIT $3"
                ),
                (Order::Asc, true) => concat!(
                    "SELECT ",
                    rows::task_cols!(),
                    " FROM tasks WHERE id > $1 AND ($2 = '' OR status = $2) ORDER BY id ASC LIMIT $3"
                ),
                (Order::Desc, false) => concat!(
                    "SELECT ",
                    rows::task_cols!(),
                    " FROM tasks WHERE $1 = '' AND ($2 = '' OR status = $2) ORDER BY id DESC LIMIT $3"
                ),
                (Order::Desc, true) => concat!(
                    "SELECT ",
                    rows::task_cols!(),
                    " FROM tasks WHERE id < $1 AND ($2 = '' OR status = $2) ORDER BY id DESC LIMIT $3"
                ),
            };
            sqlx::query(sql)
                .bind(q.after.map(task_key).unwrap_or_default())
                .bind(q.status.map(|s| s.as_str()).unwrap_or_default())
                .bind(limit(q.limit))
                .fetch_all(self.reader())
                .await
                .map_err(db("page tasks"))?
                .iter()
                .map(rows::task_from)
                .collect()
        })
    }

    fn node_page(&self, q: NodeQuery) -> BoxFuture<'_, Result<Vec<NodeRecord>>> {
        Box::pin(async move {
            let sql = match (q.order, q.after.is_some()) {
                (Order::Asc, false) => concat!(
                    "SELECT ",
                    rows::node_cols!(),
                    " FROM nodes WHERE $1 = '' ORDER BY operator ASC LIMIT $2"
                ),
                (Order::Asc, true) => concat!(
                    "SELECT ",
                    rows::node_cols!(),
                    " FROM nodes WHERE operator > $1 ORDER BY operator ASC LIMIT $2"
                ),
                (Order::Desc, false) => concat!(
                    "SELECT ",
                    rows::node_cols!(),
                    " FROM nodes WHERE $1 = '' ORDER BY operator DESC LIMIT $2"
                ),
                (Order::Desc, true) => concat!(
                    "SELECT ",
                    rows::node_cols!(),
                    " FROM nodes WHERE operator < $1 ORDER BY operator DESC LIMIT $2"
                ),
            };
            sqlx::query(sql)
                .bind(q.after.map(addr).unwrap_or_default())
                .bind(limit(q.limit))
                .fetch_all(self.reader())
                .await
                .map_err(db("page nodes"))?
                .iter()
                .map(rows::node_from)
                .collect()
        })
    }

    fn assignments_of<'a>(
        &'a self,
        tasks: &'a [U256],
    ) -> BoxFuture<'a, Result<Vec<AssignmentRecord>>> {
        Box::pin(fetch_in(
            self.reader(),
            concat!(
                "SELECT ",
                rows::assignment_cols!(),
                " FROM assignments WHERE task_id"
            ),
            tasks.iter().copied().map(task_key).collect(),
            "ORDER BY task_id, slot",
            None,
            "list assignments of tasks",
            rows::assignment_from,
        ))
    }

    fn reassignments_of<'a>(
        &'a self,
        tasks: &'a [U256],
    ) -> BoxFuture<'a, Result<Vec<ReassignmentRecord>>> {
        Box::pin(fetch_in(
            self.reader(),
            concat!(
                "SELECT ",
                rows::reassignment_cols!(),
                " FROM reassignments WHERE task_id"
            ),
            tasks.iter().copied().map(task_key).collect(),
            "ORDER BY task_id, slot, round",
            None,
            "list reassignments of tasks",
            rows::reassignment_from,
        ))
    }

    fn outcomes_of_tasks<'a>(
        &'a self,
        tasks: &'a [U256],
    ) -> BoxFuture<'a, Result<Vec<OutcomeRecord>>> {
        Box::pin(fetch_in(
            self.reader(),
            concat!(
                "SELECT ",
                rows::outcome_cols!(),
                " FROM outcomes WHERE task_id"
            ),
            tasks.iter().copied().map(task_key).collect(),
            "ORDER BY task_id, operator",
            None,
            "list outcomes of tasks",
            rows::outcome_from,
        ))
    }

    fn outcomes_of_operators<'a>(
        &'a self,
        operators: &'a [Address],
        since: u64,
    ) -> BoxFuture<'a, Result<Vec<OutcomeRecord>>> {
        Box::pin(async move {
            let since = int("since", since)?;
            fetch_in(
                self.reader(),
                concat!(
                    "SELECT ",
                    rows::outcome_cols!(),
                    " FROM outcomes WHERE operator"
                ),
                operators.iter().copied().map(addr).collect(),
                "ORDER BY at, task_id",
                Some(since),
                "list outcomes of operators",
                rows::outcome_from,
            )
            .await
        })
    }

    fn heartbeats_of<'a>(
        &'a self,
        operators: &'a [Address],
    ) -> BoxFuture<'a, Result<Vec<HeartbeatRecord>>> {
        Box::pin(fetch_in(
            self.reader(),
            concat!(
                "SELECT ",
                rows::heartbeat_cols!(),
                " FROM heartbeats WHERE operator"
            ),
            operators.iter().copied().map(addr).collect(),
            "ORDER BY operator",
            None,
            "list heartbeats of operators",
            rows::heartbeat_from,
        ))
    }

    fn active_seat_count(&self, operator: Address) -> BoxFuture<'_, Result<u64>> {
        Box::pin(async move {
            let row = sqlx::query(
                "SELECT COUNT(*) AS n FROM assignments WHERE operator = $1 AND status = 'active'",
            )
            .bind(addr(operator))
            .fetch_one(self.reader())
            .await
            .map_err(db("count active seats"))?;
            count(&row, "n", "active seats")
        })
    }

    fn network_counts(
        &self,
        live_after: u64,
        settled_since: u64,
    ) -> BoxFuture<'_, Result<NetworkCounts>> {
        Box::pin(async move {
            let mut counts = NetworkCounts::default();
            let rows = sqlx::query("SELECT status, COUNT(*) AS n FROM tasks GROUP BY status")
                .fetch_all(self.reader())
                .await
                .map_err(db("count tasks by status"))?;
            for row in &rows {
                let c = Cols::new(row, "tasks", "count by status".into());
                let status = c.named("status", TaskStatus::parse)?;
                counts.tasks_by_status.insert(status, c.u64("n")?);
            }
            let row = sqlx::query(
                "SELECT CAST(COALESCE(SUM(CASE WHEN registered = 1 THEN 1 ELSE 0 END), 0) AS BIGINT) \
                 AS registered, CAST(COALESCE(SUM(times_slashed), 0) AS BIGINT) AS slashes \
                 FROM nodes",
            )
            .fetch_one(self.reader())
            .await
            .map_err(db("count nodes"))?;
            counts.nodes_registered = count(&row, "registered", "nodes")?;
            counts.slashes = count(&row, "slashes", "nodes")?;
            let row = sqlx::query(
                "SELECT COUNT(*) AS n FROM heartbeats h JOIN nodes n ON n.operator = h.operator \
                 WHERE n.registered = 1 AND h.received_at > $1",
            )
            .bind(int("live_after", live_after)?)
            .fetch_one(self.reader())
            .await
            .map_err(db("count live nodes"))?;
            counts.nodes_live = count(&row, "n", "live nodes")?;
            let row = sqlx::query(
                "SELECT COUNT(*) AS n FROM tasks WHERE status = 'finalized' AND settled_at >= $1",
            )
            .bind(int("settled_since", settled_since)?)
            .fetch_one(self.reader())
            .await
            .map_err(db("count recent finalizations"))?;
            counts.finalized_recently = count(&row, "n", "recent finalizations")?;
            Ok(counts)
        })
    }

    fn recent_latencies(&self, n: u32) -> BoxFuture<'_, Result<Vec<u64>>> {
        Box::pin(async move {
            let rows = sqlx::query(
                "SELECT latency_ms FROM outcomes WHERE kind = 'completed' \
                 AND latency_ms IS NOT NULL ORDER BY at DESC, task_id DESC LIMIT $1",
            )
            .bind(i64::from(n.max(1)))
            .fetch_all(self.reader())
            .await
            .map_err(db("read recent latencies"))?;
            rows.iter()
                .map(|r| Cols::new(r, "outcomes", "latency".into()).u64("latency_ms"))
                .collect()
        })
    }
}

/// The nearest-rank percentile `p` (0..=100) of `sorted` (ascending), `None` when empty.
pub fn percentile(sorted: &[u64], p: u32) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let n = sorted.len();
    // rank = ceil(p/100 * n), at least 1.
    let rank = (usize::try_from(p.min(100)).unwrap_or(100) * n)
        .div_ceil(100)
        .max(1);
    sorted.get(rank - 1).copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        assert_eq!(percentile(&[], 50), None);
        assert_eq!(percentile(&[7], 99), Some(7));
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50), Some(50));
        assert_eq!(percentile(&v, 99), Some(99));
        assert_eq!(percentile(&v, 100), Some(100));
        assert_eq!(percentile(&[10, 20, 30, 40], 50), Some(20));
        assert_eq!(percentile(&[10, 20, 30, 40], 99), Some(40));
    }

    #[test]
    fn placeholders_are_numbered_from_the_first() {
        assert_eq!(placeholders(1, 3), "$1, $2, $3");
        assert_eq!(placeholders(4, 1), "$4");
    }
}
