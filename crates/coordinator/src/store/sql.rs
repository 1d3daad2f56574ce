//! [`SqlStore`]: the [`Store`] over SQLite or PostgreSQL through `sqlx::Any`, so one body of
//! SQL (portable: `$n` parameters, `ON CONFLICT` upserts, BIGINT and TEXT) serves both.
//!
//! SQLite runs in WAL mode with `synchronous = FULL` (a committed write is on disk when the
//! call returns) and has one writer connection beside a small reader pool: SQLite allows one
//! writer at a time, and a single writer connection turns contention into queueing instead
//! of `SQLITE_BUSY` errors on lock upgrades. PostgreSQL uses one pool for both.

use alloy::primitives::{Address, B256, U256};
use sqlx::{
    AnyConnection, AnyPool, Row,
    any::{AnyPoolOptions, install_default_drivers},
};

use super::{
    Applied, AssignmentRecord, BlockRef, BoxFuture, Change, HeartbeatRecord, JournalEvent,
    LogChanges, MAX_PAGE, NodeRecord, OutcomeRecord, Page, ReassignReason, ReassignmentRecord,
    Result, SeatPlan, Store, StoreError, TaskLogRecord, TaskRecord, TaskStatus, migrate,
    rows::{self, Cols, addr, db, hash, int, task_key},
};

/// Which database a URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Backend {
    /// `sqlite://path` (embedded default).
    Sqlite,
    /// `postgres://` or `postgresql://`.
    Postgres,
}

impl Backend {
    /// The backend a URL names.
    pub fn from_url(url: &str) -> Result<Self> {
        if url.starts_with("sqlite:") {
            Ok(Backend::Sqlite)
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Ok(Backend::Postgres)
        } else {
            Err(StoreError::UnsupportedUrl { url: redact(url) })
        }
    }
}

/// The URL without a password, for errors and logs.
pub(crate) fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => {
            let creds = &url[s + 3..at];
            match creds.find(':') {
                Some(c) => format!("{}{}:***{}", &url[..s + 3], &creds[..c], &url[at..]),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// The coordinator's store over SQLite or PostgreSQL.
#[derive(Debug, Clone)]
pub struct SqlStore {
    backend: Backend,
    reader: AnyPool,
    writer: AnyPool,
}

impl SqlStore {
    /// Opens (creating a SQLite file if missing) and migrates the database at `url`.
    /// `sqlite::memory:` gives a private in-memory store (gone when the store is dropped).
    pub async fn open(url: &str) -> Result<Self> {
        install_default_drivers();
        let backend = Backend::from_url(url)?;
        let store = match backend {
            Backend::Sqlite => {
                let url = if url.contains("mode=") {
                    url.to_owned()
                } else if url.contains('?') {
                    format!("{url}&mode=rwc")
                } else {
                    format!("{url}?mode=rwc")
                };
                // `sqlite::memory:` (a stand-in for tests and simulations): one connection
                // held for the store's life, since the database vanishes with its last
                // connection and each URL parse names a new one.
                let memory = url.contains(":memory:") || url.contains("mode=memory");
                let mut writer_opts = sqlite_pool(1);
                if memory {
                    writer_opts = writer_opts
                        .min_connections(1)
                        .idle_timeout(None)
                        .max_lifetime(None);
                }
                let writer = writer_opts.connect(&url).await.map_err(db("open"))?;
                // WAL is a property of the file: set once, by the writer.
                let mode: String = sqlx::query("PRAGMA journal_mode = WAL")
                    .fetch_one(&writer)
                    .await
                    .and_then(|r| r.try_get(0))
                    .map_err(db("enable WAL"))?;
                if mode != "wal" && mode != "memory" {
                    tracing::warn!(target: "coordinator::store", %mode, "SQLite refused WAL mode");
                }
                let reader = if memory {
                    writer.clone()
                } else {
                    sqlite_pool(4).connect(&url).await.map_err(db("open"))?
                };
                Self {
                    backend,
                    reader,
                    writer,
                }
            }
            Backend::Postgres => {
                let pool = AnyPoolOptions::new()
                    .max_connections(8)
                    .connect(url)
                    .await
                    .map_err(db("open"))?;
                Self {
                    backend,
                    reader: pool.clone(),
                    writer: pool,
                }
            }
        };
        let mut conn = store.writer.acquire().await.map_err(db("open"))?;
        migrate::run(&mut conn, backend).await?;
        drop(conn);
        tracing::info!(target: "coordinator::store", backend = ?backend, url = %redact(url), "store open");
        Ok(store)
    }

    /// The read pool (for the read-only views in `views`).
    pub(super) fn reader(&self) -> &AnyPool {
        &self.reader
    }

    /// Which database this is.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Schema versions recorded as applied.
    pub async fn schema_versions(&self) -> Result<Vec<i64>> {
        let rows = sqlx::query("SELECT version FROM schema_migrations ORDER BY version")
            .fetch_all(&self.reader)
            .await
            .map_err(db("read schema_migrations"))?;
        rows.iter()
            .map(|r| r.try_get(0).map_err(db("read schema_migrations")))
            .collect()
    }

    /// Closes both pools (waits for connections to be returned).
    pub async fn close(&self) {
        self.reader.close().await;
        self.writer.close().await;
    }
}

fn sqlite_pool(max: u32) -> AnyPoolOptions {
    AnyPoolOptions::new()
        .max_connections(max)
        .after_connect(|conn, _meta| {
            Box::pin(async move {
                sqlx::raw_sql("PRAGMA synchronous = FULL; PRAGMA busy_timeout = 10000;")
                    .execute(conn)
                    .await?;
                Ok(())
            })
        })
}

fn page_limit(limit: u32) -> i64 {
    i64::from(limit.clamp(1, MAX_PAGE))
}

async fn last_seq(conn: &mut AnyConnection) -> Result<Option<(i64, u64)>> {
    let row = sqlx::query("SELECT seq, block_number FROM journal ORDER BY seq DESC LIMIT 1")
        .fetch_optional(conn)
        .await
        .map_err(db("read journal"))?;
    row.map(|r| {
        let c = Cols::new(&r, "journal", "last".into());
        Ok((c.i64("seq")?, c.u64("block_number")?))
    })
    .transpose()
}

async fn apply_log(conn: &mut AnyConnection, log: &LogChanges, seq: i64) -> Result<bool> {
    let e = &log.event;
    let exists = sqlx::query("SELECT seq FROM journal WHERE block_hash = $1 AND log_index = $2")
        .bind(hash(e.block_hash))
        .bind(int("log_index", e.log_index)?)
        .fetch_optional(&mut *conn)
        .await
        .map_err(db("read journal"))?;
    if exists.is_some() {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO journal (block_hash, log_index, block_number, tx_hash, kind, payload, seq) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(hash(e.block_hash))
    .bind(int("log_index", e.log_index)?)
    .bind(int("block_number", e.block_number)?)
    .bind(hash(e.tx_hash))
    .bind(e.kind.clone())
    .bind(e.payload.to_string())
    .bind(seq)
    .execute(&mut *conn)
    .await
    .map_err(db("journal log"))?;
    for (step, change) in log.changes.iter().enumerate() {
        let before = rows::before_image(conn, change).await?;
        let after = serde_json::to_string(change).expect("records serialize");
        let before = before.map(|b| serde_json::to_string(&b).expect("records serialize"));
        sqlx::query(
            "INSERT INTO journal_undo (block_hash, log_index, step, entity, after, before) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(hash(e.block_hash))
        .bind(int("log_index", e.log_index)?)
        .bind(step as i64)
        .bind(change.entity())
        .bind(after)
        .bind(before)
        .execute(&mut *conn)
        .await
        .map_err(db("journal before-image"))?;
        rows::apply(conn, change).await?;
    }
    Ok(true)
}

/// Restores the before-images of one log, newest change first, and drops its journal rows.
async fn undo_log(conn: &mut AnyConnection, block_hash: B256, log_index: i64) -> Result<()> {
    let steps = sqlx::query(
        "SELECT step, after, before FROM journal_undo WHERE block_hash = $1 AND log_index = $2 \
         ORDER BY step DESC",
    )
    .bind(hash(block_hash))
    .bind(log_index)
    .fetch_all(&mut *conn)
    .await
    .map_err(db("read before-images"))?;
    for row in &steps {
        let c = Cols::new(row, "journal_undo", format!("{block_hash}/{log_index}"));
        let parse = |s: String| -> Result<Change> {
            serde_json::from_str(&s).map_err(|e| StoreError::Corrupt {
                table: "journal_undo",
                key: format!("{block_hash}/{log_index}"),
                reason: e.to_string(),
            })
        };
        match c.opt_text("before")? {
            Some(before) => rows::apply(conn, &parse(before)?).await?,
            None => rows::delete(conn, &parse(c.text("after")?)?).await?,
        }
    }
    sqlx::query("DELETE FROM journal_undo WHERE block_hash = $1 AND log_index = $2")
        .bind(hash(block_hash))
        .bind(log_index)
        .execute(&mut *conn)
        .await
        .map_err(db("drop before-images"))?;
    sqlx::query("DELETE FROM journal WHERE block_hash = $1 AND log_index = $2")
        .bind(hash(block_hash))
        .bind(log_index)
        .execute(&mut *conn)
        .await
        .map_err(db("drop journal row"))?;
    Ok(())
}

fn journal_from(row: &sqlx::any::AnyRow) -> Result<JournalEvent> {
    let c = Cols::new(
        row,
        "journal",
        row.try_get("block_hash").unwrap_or_default(),
    );
    Ok(JournalEvent {
        block_number: c.u64("block_number")?,
        block_hash: c.parse("block_hash")?,
        log_index: c.u64("log_index")?,
        tx_hash: c.parse("tx_hash")?,
        kind: c.text("kind")?,
        payload: c.json("payload")?,
    })
}

fn block_from(row: &sqlx::any::AnyRow) -> Result<BlockRef> {
    let c = Cols::new(row, "indexer_blocks", String::new());
    Ok(BlockRef {
        number: c.u64("number")?,
        hash: c.parse("hash")?,
    })
}

impl SqlStore {
    /// A write transaction. On SQLite it takes the write lock at `BEGIN IMMEDIATE`, waiting
    /// for it under the busy timeout: a deferred `BEGIN` that reads first and then writes fails
    /// at once with "database is locked" when another connection (such as a store reopened
    /// after a crash, beside the old one's closing connection) committed in between.
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        match self.backend {
            Backend::Sqlite => self.writer.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.writer.begin().await,
        }
        .map_err(db("begin"))
    }
}

impl Store for SqlStore {
    fn apply_block<'a>(
        &'a self,
        block: BlockRef,
        logs: &'a [LogChanges],
        keep_blocks: u64,
    ) -> BoxFuture<'a, Result<Applied>> {
        Box::pin(async move {
            for l in logs {
                if l.event.block_hash != block.hash || l.event.block_number != block.number {
                    return Err(StoreError::WrongBlock {
                        log_index: l.event.log_index,
                        claimed: l.event.block_hash,
                        block: block.hash,
                    });
                }
            }
            let number = int("block_number", block.number)?;
            let mut tx = self.begin_write().await?;
            let stored = sqlx::query("SELECT hash FROM indexer_blocks WHERE number = $1")
                .bind(number)
                .fetch_optional(&mut *tx)
                .await
                .map_err(db("read indexer_blocks"))?;
            if let Some(row) = stored {
                let c = Cols::new(&row, "indexer_blocks", block.number.to_string());
                let stored: B256 = c.parse("hash")?;
                if stored != block.hash {
                    return Err(StoreError::BlockConflict {
                        number: block.number,
                        stored,
                        given: block.hash,
                    });
                }
            }
            let mut seq = last_seq(&mut tx).await?.map_or(0, |(s, _)| s);
            let mut applied = Applied::default();
            for log in logs {
                if apply_log(&mut tx, log, seq + 1).await? {
                    seq += 1;
                    applied.new += 1;
                } else {
                    applied.duplicate += 1;
                }
            }
            sqlx::query(
                "INSERT INTO indexer_blocks (number, hash) VALUES ($1, $2) \
                 ON CONFLICT (number) DO NOTHING",
            )
            .bind(number)
            .bind(hash(block.hash))
            .execute(&mut *tx)
            .await
            .map_err(db("record block"))?;
            sqlx::query("DELETE FROM indexer_blocks WHERE number <= $1")
                .bind(number - int("keep_blocks", keep_blocks.max(1))?)
                .execute(&mut *tx)
                .await
                .map_err(db("prune blocks"))?;
            tx.commit().await.map_err(db("commit block"))?;
            Ok(applied)
        })
    }

    fn revert_log(&self, block_hash: B256, log_index: u64) -> BoxFuture<'_, Result<bool>> {
        Box::pin(async move {
            let li = int("log_index", log_index)?;
            let mut tx = self.begin_write().await?;
            let row =
                sqlx::query("SELECT seq FROM journal WHERE block_hash = $1 AND log_index = $2")
                    .bind(hash(block_hash))
                    .bind(li)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db("read journal"))?;
            let Some(row) = row else { return Ok(false) };
            let seq = Cols::new(&row, "journal", format!("{block_hash}/{log_index}")).i64("seq")?;
            if let Some((last, newer_block)) = last_seq(&mut tx).await?
                && last > seq
            {
                return Err(StoreError::OutOfOrderRevert {
                    block_hash,
                    log_index,
                    newer_block,
                });
            }
            undo_log(&mut tx, block_hash, li).await?;
            tx.commit().await.map_err(db("commit revert"))?;
            Ok(true)
        })
    }

    fn revert_block(&self, block_hash: B256) -> BoxFuture<'_, Result<usize>> {
        Box::pin(async move {
            let mut tx = self.begin_write().await?;
            let logs = sqlx::query(
                "SELECT log_index, seq FROM journal WHERE block_hash = $1 ORDER BY seq DESC",
            )
            .bind(hash(block_hash))
            .fetch_all(&mut *tx)
            .await
            .map_err(db("read journal"))?;
            let logs = logs
                .iter()
                .map(|r| {
                    let c = Cols::new(r, "journal", hash(block_hash));
                    Ok((c.i64("log_index")?, c.i64("seq")?))
                })
                .collect::<Result<Vec<_>>>()?;
            if let Some(&(first_log, newest)) = logs.first() {
                let newer = sqlx::query(
                    "SELECT block_number FROM journal WHERE seq > $1 AND block_hash <> $2 \
                     ORDER BY seq DESC LIMIT 1",
                )
                .bind(newest)
                .bind(hash(block_hash))
                .fetch_optional(&mut *tx)
                .await
                .map_err(db("read journal"))?;
                if let Some(row) = newer {
                    let c = Cols::new(&row, "journal", hash(block_hash));
                    return Err(StoreError::OutOfOrderRevert {
                        block_hash,
                        log_index: first_log.cast_unsigned(),
                        newer_block: c.u64("block_number")?,
                    });
                }
            }
            for &(log_index, _) in &logs {
                undo_log(&mut tx, block_hash, log_index).await?;
            }
            sqlx::query("DELETE FROM indexer_blocks WHERE hash = $1")
                .bind(hash(block_hash))
                .execute(&mut *tx)
                .await
                .map_err(db("forget block"))?;
            tx.commit().await.map_err(db("commit revert"))?;
            tracing::info!(target: "coordinator::store", block = %block_hash, logs = logs.len(), "reverted block");
            Ok(logs.len())
        })
    }

    fn journal(&self, from_block: u64) -> BoxFuture<'_, Result<Vec<JournalEvent>>> {
        Box::pin(async move {
            sqlx::query(
                "SELECT block_number, block_hash, log_index, tx_hash, kind, payload FROM journal \
                 WHERE block_number >= $1 ORDER BY seq",
            )
            .bind(int("from_block", from_block)?)
            .fetch_all(&self.reader)
            .await
            .map_err(db("read journal"))?
            .iter()
            .map(journal_from)
            .collect()
        })
    }

    fn cursor(&self) -> BoxFuture<'_, Result<Option<BlockRef>>> {
        Box::pin(async move {
            sqlx::query("SELECT number, hash FROM indexer_blocks ORDER BY number DESC LIMIT 1")
                .fetch_optional(&self.reader)
                .await
                .map_err(db("read cursor"))?
                .as_ref()
                .map(block_from)
                .transpose()
        })
    }

    fn recent_blocks(&self) -> BoxFuture<'_, Result<Vec<BlockRef>>> {
        Box::pin(async move {
            sqlx::query("SELECT number, hash FROM indexer_blocks ORDER BY number DESC")
                .fetch_all(&self.reader)
                .await
                .map_err(db("read blocks"))?
                .iter()
                .map(block_from)
                .collect()
        })
    }

    fn node(&self, operator: Address) -> BoxFuture<'_, Result<Option<NodeRecord>>> {
        Box::pin(async move {
            let mut conn = self.reader.acquire().await.map_err(db("acquire"))?;
            rows::read_node(&mut conn, operator).await
        })
    }

    fn nodes(&self, page: Page<Address>) -> BoxFuture<'_, Result<Vec<NodeRecord>>> {
        Box::pin(async move {
            let sql = concat!(
                "SELECT ",
                rows::node_cols!(),
                " FROM nodes WHERE operator > $1 ORDER BY operator LIMIT $2"
            );
            sqlx::query(sql)
                .bind(page.after.map(addr).unwrap_or_default())
                .bind(page_limit(page.limit))
                .fetch_all(&self.reader)
                .await
                .map_err(db("list nodes"))?
                .iter()
                .map(rows::node_from)
                .collect()
        })
    }

    fn task(&self, id: U256) -> BoxFuture<'_, Result<Option<TaskRecord>>> {
        Box::pin(async move {
            let mut conn = self.reader.acquire().await.map_err(db("acquire"))?;
            rows::read_task(&mut conn, id).await
        })
    }

    fn tasks(&self, page: Page<U256>) -> BoxFuture<'_, Result<Vec<TaskRecord>>> {
        Box::pin(async move {
            let sql = concat!(
                "SELECT ",
                rows::task_cols!(),
                " FROM tasks WHERE id > $1 ORDER BY id LIMIT $2"
            );
            sqlx::query(sql)
                .bind(page.after.map(task_key).unwrap_or_default())
                .bind(page_limit(page.limit))
                .fetch_all(&self.reader)
                .await
                .map_err(db("list tasks"))?
                .iter()
                .map(rows::task_from)
                .collect()
        })
    }

    fn assignments(&self, task: U256) -> BoxFuture<'_, Result<Vec<AssignmentRecord>>> {
        Box::pin(async move {
            let sql = concat!(
                "SELECT ",
                rows::assignment_cols!(),
                " FROM assignments WHERE task_id = $1 ORDER BY slot"
            );
            sqlx::query(sql)
                .bind(task_key(task))
                .fetch_all(&self.reader)
                .await
                .map_err(db("list assignments"))?
                .iter()
                .map(rows::assignment_from)
                .collect()
        })
    }

    fn reassignments(&self, task: U256) -> BoxFuture<'_, Result<Vec<ReassignmentRecord>>> {
        Box::pin(async move {
            let sql = concat!(
                "SELECT ",
                rows::reassignment_cols!(),
                " FROM reassignments WHERE task_id = $1 ORDER BY slot, round"
            );
            sqlx::query(sql)
                .bind(task_key(task))
                .fetch_all(&self.reader)
                .await
                .map_err(db("list reassignments"))?
                .iter()
                .map(rows::reassignment_from)
                .collect()
        })
    }

    fn outcomes(&self, operator: Address, since: u64) -> BoxFuture<'_, Result<Vec<OutcomeRecord>>> {
        Box::pin(async move {
            let sql = concat!(
                "SELECT ",
                rows::outcome_cols!(),
                " FROM outcomes WHERE operator = $1 AND at >= $2 ORDER BY at, task_id"
            );
            sqlx::query(sql)
                .bind(addr(operator))
                .bind(int("since", since)?)
                .fetch_all(&self.reader)
                .await
                .map_err(db("list outcomes"))?
                .iter()
                .map(rows::outcome_from)
                .collect()
        })
    }

    fn record_heartbeat<'a>(&'a self, hb: &'a HeartbeatRecord) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let done = sqlx::query(
                "INSERT INTO heartbeats (operator, seq, sent_at, received_at, telemetry) \
                 VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (operator) DO UPDATE SET seq = excluded.seq, \
                 sent_at = excluded.sent_at, received_at = excluded.received_at, \
                 telemetry = excluded.telemetry WHERE heartbeats.seq < excluded.seq",
            )
            .bind(addr(hb.operator))
            .bind(int("seq", hb.seq)?)
            .bind(int("sent_at", hb.sent_at)?)
            .bind(int("received_at", hb.received_at)?)
            .bind(hb.telemetry.to_string())
            .execute(&self.writer)
            .await
            .map_err(db("record heartbeat"))?;
            if done.rows_affected() == 0 {
                return Err(StoreError::StaleHeartbeat {
                    operator: hb.operator,
                    seq: hb.seq,
                });
            }
            Ok(())
        })
    }

    fn heartbeat(&self, operator: Address) -> BoxFuture<'_, Result<Option<HeartbeatRecord>>> {
        Box::pin(async move {
            let sql = concat!(
                "SELECT ",
                rows::heartbeat_cols!(),
                " FROM heartbeats WHERE operator = $1"
            );
            sqlx::query(sql)
                .bind(addr(operator))
                .fetch_optional(&self.reader)
                .await
                .map_err(db("read heartbeat"))?
                .as_ref()
                .map(rows::heartbeat_from)
                .transpose()
        })
    }

    fn record_task_log<'a>(&'a self, log: &'a TaskLogRecord) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            sqlx::query(
                "INSERT INTO task_logs (task_id, operator, log_digest, log, received_at) \
                 VALUES ($1, $2, $3, $4, $5) \
                 ON CONFLICT (task_id, operator) DO UPDATE SET log_digest = excluded.log_digest, \
                 log = excluded.log, received_at = excluded.received_at",
            )
            .bind(task_key(log.task_id))
            .bind(addr(log.operator))
            .bind(rows::hash(log.log_digest))
            .bind(log.log.clone())
            .bind(int("received_at", log.received_at)?)
            .execute(&self.writer)
            .await
            .map_err(db("record task log"))?;
            Ok(())
        })
    }

    fn task_logs(&self, task: U256) -> BoxFuture<'_, Result<Vec<TaskLogRecord>>> {
        Box::pin(async move {
            let sql = concat!(
                "SELECT ",
                rows::task_log_cols!(),
                " FROM task_logs WHERE task_id = $1 ORDER BY operator"
            );
            sqlx::query(sql)
                .bind(task_key(task))
                .fetch_all(&self.reader)
                .await
                .map_err(db("list task logs"))?
                .iter()
                .map(rows::task_log_from)
                .collect()
        })
    }

    fn heartbeats(&self) -> BoxFuture<'_, Result<Vec<HeartbeatRecord>>> {
        Box::pin(async move {
            let sql = concat!(
                "SELECT ",
                rows::heartbeat_cols!(),
                " FROM heartbeats ORDER BY operator"
            );
            sqlx::query(sql)
                .fetch_all(&self.reader)
                .await
                .map_err(db("list heartbeats"))?
                .iter()
                .map(rows::heartbeat_from)
                .collect()
        })
    }

    fn tasks_with_status(
        &self,
        status: TaskStatus,
        page: Page<U256>,
    ) -> BoxFuture<'_, Result<Vec<TaskRecord>>> {
        Box::pin(async move {
            let sql = concat!(
                "SELECT ",
                rows::task_cols!(),
                " FROM tasks WHERE status = $1 AND id > $2 ORDER BY id LIMIT $3"
            );
            sqlx::query(sql)
                .bind(status.as_str())
                .bind(page.after.map(task_key).unwrap_or_default())
                .bind(page_limit(page.limit))
                .fetch_all(&self.reader)
                .await
                .map_err(db("list tasks by status"))?
                .iter()
                .map(rows::task_from)
                .collect()
        })
    }

    fn open_seats(&self) -> BoxFuture<'_, Result<Vec<AssignmentRecord>>> {
        Box::pin(async move {
            sqlx::query(
                "SELECT a.task_id, a.slot, a.operator, a.backup, a.status, a.assigned_at \
                 FROM assignments a JOIN tasks t ON t.id = a.task_id \
                 WHERE a.status IN ('active', 'declined') AND t.status = 'assigned' ORDER BY a.task_id, a.slot",
            )
            .fetch_all(&self.reader)
            .await
            .map_err(db("list open seats"))?
            .iter()
            .map(rows::assignment_from)
            .collect()
        })
    }

    fn record_plan<'a>(&'a self, task: U256, seats: &'a [SeatPlan]) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move {
            let mut tx = self.begin_write().await?;
            replace_plan(&mut tx, task, seats).await?;
            tx.commit().await.map_err(db("commit plan"))?;
            Ok(())
        })
    }

    fn record_plans<'a>(
        &'a self,
        plans: &'a [(U256, Vec<SeatPlan>)],
    ) -> BoxFuture<'a, Result<Vec<Vec<SeatPlan>>>> {
        Box::pin(async move {
            let mut tx = self.begin_write().await?;
            let mut previous = Vec::with_capacity(plans.len());
            for (task, seats) in plans {
                let rows = sqlx::query(PLAN_QUERY)
                    .bind(task_key(*task))
                    .fetch_all(&mut *tx)
                    .await
                    .map_err(db("read plan"))?;
                previous.push(plan_from(&rows, *task)?);
                replace_plan(&mut tx, *task, seats).await?;
            }
            tx.commit().await.map_err(db("commit plans"))?;
            Ok(previous)
        })
    }

    fn plan(&self, task: U256) -> BoxFuture<'_, Result<Vec<SeatPlan>>> {
        Box::pin(async move {
            let rows = sqlx::query(PLAN_QUERY)
                .bind(task_key(task))
                .fetch_all(&self.reader)
                .await
                .map_err(db("read plan"))?;
            plan_from(&rows, task)
        })
    }

    fn record_failover_intent(
        &self,
        task: U256,
        slot: u32,
        to: Address,
        reason: ReassignReason,
    ) -> BoxFuture<'_, Result<()>> {
        Box::pin(async move {
            sqlx::query(
                "INSERT INTO failover_intents (task_id, slot, to_operator, reason) \
                 VALUES ($1, $2, $3, $4) ON CONFLICT (task_id, slot, to_operator) \
                 DO UPDATE SET reason = excluded.reason",
            )
            .bind(task_key(task))
            .bind(i64::from(slot))
            .bind(addr(to))
            .bind(reason.as_str())
            .execute(&self.writer)
            .await
            .map_err(db("record failover intent"))?;
            Ok(())
        })
    }

    fn failover_intent(
        &self,
        task: U256,
        slot: u32,
        to: Address,
    ) -> BoxFuture<'_, Result<Option<ReassignReason>>> {
        Box::pin(async move {
            sqlx::query(
                "SELECT reason FROM failover_intents WHERE task_id = $1 AND slot = $2 \
                 AND to_operator = $3",
            )
            .bind(task_key(task))
            .bind(i64::from(slot))
            .bind(addr(to))
            .fetch_optional(&self.reader)
            .await
            .map_err(db("read failover intent"))?
            .as_ref()
            .map(|r| {
                Cols::new(r, "failover_intents", task_key(task))
                    .named("reason", ReassignReason::parse)
            })
            .transpose()
        })
    }
}

/// A task's plan, by slot.
const PLAN_QUERY: &str =
    "SELECT slot, operator, backup FROM assignment_plans WHERE task_id = $1 ORDER BY slot";

fn plan_from(rows: &[sqlx::any::AnyRow], task: U256) -> Result<Vec<SeatPlan>> {
    rows.iter()
        .map(|r| {
            let c = Cols::new(r, "assignment_plans", task_key(task));
            Ok(SeatPlan {
                slot: c.u32("slot")?,
                operator: c.parse("operator")?,
                backup: c.opt_parse("backup")?,
            })
        })
        .collect()
}

/// Replaces a task's plan inside a transaction.
async fn replace_plan(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    task: U256,
    seats: &[SeatPlan],
) -> Result<()> {
    sqlx::query("DELETE FROM assignment_plans WHERE task_id = $1")
        .bind(task_key(task))
        .execute(&mut **tx)
        .await
        .map_err(db("drop plan"))?;
    for seat in seats {
        sqlx::query(
            "INSERT INTO assignment_plans (task_id, slot, operator, backup) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(task_key(task))
        .bind(i64::from(seat.slot))
        .bind(addr(seat.operator))
        .bind(seat.backup.map(addr))
        .execute(&mut **tx)
        .await
        .map_err(db("record plan"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_their_backend_and_passwords_are_redacted() {
        assert_eq!(Backend::from_url("sqlite://x.db").unwrap(), Backend::Sqlite);
        assert_eq!(
            Backend::from_url("postgresql://u@h/db").unwrap(),
            Backend::Postgres
        );
        let e = Backend::from_url("mysql://root:hunter2@h/db").unwrap_err();
        assert!(!e.to_string().contains("hunter2"), "{e}");
        assert_eq!(redact("postgres://u:pw@h:5/db"), "postgres://u:***@h:5/db");
        assert_eq!(redact("postgres://u@h/db"), "postgres://u@h/db");
    }
}
