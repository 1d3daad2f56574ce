//! Reading and writing each projection table, portable SQL over `sqlx::Any`.
//!
//! Encodings: addresses and hashes as lower-case 0x-hex TEXT, task ids as 32-byte 0x-hex (so
//! TEXT order is numeric order), token amounts as decimal TEXT, u64 values as BIGINT (checked:
//! above `i64::MAX` is an error), except capability bit sets, stored as their two's-complement
//! bit pattern so all 64 flags fit.

use std::str::FromStr;

use alloy::primitives::{Address, B256, U256};
use sqlx::{AnyConnection, Row, any::AnyRow};

use super::{
    AssignmentRecord, AssignmentStatus, Change, HeartbeatRecord, NodeRecord, OutcomeKind,
    OutcomeRecord, ReassignReason, ReassignmentRecord, Result, StoreError, TaskLogRecord, TaskMode,
    TaskRecord, TaskStatus,
};

pub(super) fn db(op: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |source| StoreError::Database { op, source }
}

pub(super) fn addr(a: Address) -> String {
    format!("{a:#x}")
}

pub(super) fn hash(h: B256) -> String {
    format!("{h:#x}")
}

pub(super) fn task_key(id: U256) -> String {
    hash(B256::from(id))
}

pub(super) fn int(field: &'static str, v: u64) -> Result<i64> {
    i64::try_from(v).map_err(|_| StoreError::OutOfRange { field, value: v })
}

/// Reads typed columns of one row, naming the table and key in every error.
pub(super) struct Cols<'r> {
    row: &'r AnyRow,
    table: &'static str,
    key: String,
}

impl<'r> Cols<'r> {
    pub(super) fn new(row: &'r AnyRow, table: &'static str, key: String) -> Self {
        Self { row, table, key }
    }

    fn corrupt(&self, col: &str, reason: impl std::fmt::Display) -> StoreError {
        StoreError::Corrupt {
            table: self.table,
            key: self.key.clone(),
            reason: format!("{col}: {reason}"),
        }
    }

    pub(super) fn text(&self, col: &str) -> Result<String> {
        self.row.try_get(col).map_err(|e| self.corrupt(col, e))
    }

    pub(super) fn opt_text(&self, col: &str) -> Result<Option<String>> {
        self.row.try_get(col).map_err(|e| self.corrupt(col, e))
    }

    pub(super) fn i64(&self, col: &str) -> Result<i64> {
        self.row.try_get(col).map_err(|e| self.corrupt(col, e))
    }

    pub(super) fn u64(&self, col: &str) -> Result<u64> {
        let v = self.i64(col)?;
        u64::try_from(v).map_err(|_| self.corrupt(col, format!("negative value {v}")))
    }

    pub(super) fn opt_u64(&self, col: &str) -> Result<Option<u64>> {
        let v: Option<i64> = self.row.try_get(col).map_err(|e| self.corrupt(col, e))?;
        v.map(|v| u64::try_from(v).map_err(|_| self.corrupt(col, format!("negative value {v}"))))
            .transpose()
    }

    pub(super) fn u32(&self, col: &str) -> Result<u32> {
        let v = self.i64(col)?;
        u32::try_from(v).map_err(|_| self.corrupt(col, format!("{v} out of u32 range")))
    }

    pub(super) fn parse<T: FromStr>(&self, col: &str) -> Result<T>
    where
        T::Err: std::fmt::Display,
    {
        let s = self.text(col)?;
        s.parse()
            .map_err(|e| self.corrupt(col, format!("{s:?}: {e}")))
    }

    pub(super) fn opt_parse<T: FromStr>(&self, col: &str) -> Result<Option<T>>
    where
        T::Err: std::fmt::Display,
    {
        self.opt_text(col)?
            .map(|s| {
                s.parse()
                    .map_err(|e| self.corrupt(col, format!("{s:?}: {e}")))
            })
            .transpose()
    }

    pub(super) fn task_id(&self, col: &str) -> Result<U256> {
        Ok(self.parse::<B256>(col)?.into())
    }

    pub(super) fn json(&self, col: &str) -> Result<serde_json::Value> {
        let s = self.text(col)?;
        serde_json::from_str(&s).map_err(|e| self.corrupt(col, e))
    }

    pub(super) fn named<T>(&self, col: &str, parse: fn(&str) -> Option<T>) -> Result<T> {
        let s = self.text(col)?;
        parse(&s).ok_or_else(|| self.corrupt(col, format!("unknown value {s:?}")))
    }
}

// ---- nodes ----

macro_rules! node_cols {
    () => {
        "operator, signer, hardware_hash, metadata_cid, region, \
    capabilities, stake, locked, jailed_until, tasks_completed, tasks_failed, times_slashed, registered, earnings"
    };
}
pub(super) use node_cols;

pub(super) fn node_from(row: &AnyRow) -> Result<NodeRecord> {
    let key: String = row.try_get("operator").unwrap_or_default();
    let c = Cols::new(row, "nodes", key);
    Ok(NodeRecord {
        operator: c.parse("operator")?,
        signer: c.parse("signer")?,
        hardware_hash: c.parse("hardware_hash")?,
        metadata_cid: c.text("metadata_cid")?,
        region: c.u32("region")?,
        capabilities: c.i64("capabilities")?.cast_unsigned(),
        stake: c.parse("stake")?,
        locked: c.parse("locked")?,
        jailed_until: c.u64("jailed_until")?,
        tasks_completed: c.u64("tasks_completed")?,
        tasks_failed: c.u64("tasks_failed")?,
        times_slashed: c.u64("times_slashed")?,
        registered: c.i64("registered")? != 0,
        earnings: c.parse("earnings")?,
    })
}

async fn upsert_node(conn: &mut AnyConnection, n: &NodeRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO nodes (operator, signer, hardware_hash, metadata_cid, region, capabilities, \
         stake, locked, jailed_until, tasks_completed, tasks_failed, times_slashed, registered, earnings) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
         ON CONFLICT (operator) DO UPDATE SET signer = excluded.signer, \
         hardware_hash = excluded.hardware_hash, metadata_cid = excluded.metadata_cid, \
         region = excluded.region, capabilities = excluded.capabilities, stake = excluded.stake, \
         locked = excluded.locked, jailed_until = excluded.jailed_until, \
         tasks_completed = excluded.tasks_completed, tasks_failed = excluded.tasks_failed, \
         times_slashed = excluded.times_slashed, registered = excluded.registered, \
         earnings = excluded.earnings",
    )
    .bind(addr(n.operator))
    .bind(addr(n.signer))
    .bind(hash(n.hardware_hash))
    .bind(n.metadata_cid.clone())
    .bind(i64::from(n.region))
    .bind(n.capabilities.cast_signed())
    .bind(n.stake.to_string())
    .bind(n.locked.to_string())
    .bind(int("jailed_until", n.jailed_until)?)
    .bind(int("tasks_completed", n.tasks_completed)?)
    .bind(int("tasks_failed", n.tasks_failed)?)
    .bind(int("times_slashed", n.times_slashed)?)
    .bind(i64::from(n.registered))
    .bind(n.earnings.to_string())
    .execute(conn)
    .await
    .map_err(db("upsert node"))?;
    Ok(())
}

pub(super) async fn read_node(conn: &mut AnyConnection, op: Address) -> Result<Option<NodeRecord>> {
    let sql = concat!("SELECT ", node_cols!(), " FROM nodes WHERE operator = $1");
    sqlx::query(sql)
        .bind(addr(op))
        .fetch_optional(conn)
        .await
        .map_err(db("read node"))?
        .as_ref()
        .map(node_from)
        .transpose()
}

// ---- tasks ----

macro_rules! task_cols {
    () => {
        "id, client, mode, status, program_digest, input_digest, \
    replication, bounty, request, result_digest, created_at, settled_at"
    };
}
pub(super) use task_cols;

pub(super) fn task_from(row: &AnyRow) -> Result<TaskRecord> {
    let key: String = row.try_get("id").unwrap_or_default();
    let c = Cols::new(row, "tasks", key);
    Ok(TaskRecord {
        id: c.task_id("id")?,
        client: c.parse("client")?,
        mode: c.named("mode", TaskMode::parse)?,
        status: c.named("status", TaskStatus::parse)?,
        program_digest: c.parse("program_digest")?,
        input_digest: c.parse("input_digest")?,
        replication: c.u32("replication")?,
        bounty: c.parse("bounty")?,
        request: c.json("request")?,
        result_digest: c.opt_parse("result_digest")?,
        created_at: c.u64("created_at")?,
        settled_at: c.opt_u64("settled_at")?,
    })
}

async fn upsert_task(conn: &mut AnyConnection, t: &TaskRecord) -> Result<()> {
    let settled = t.settled_at.map(|v| int("settled_at", v)).transpose()?;
    sqlx::query(
        "INSERT INTO tasks (id, client, mode, status, program_digest, input_digest, replication, \
         bounty, request, result_digest, created_at, settled_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
         ON CONFLICT (id) DO UPDATE SET client = excluded.client, mode = excluded.mode, \
         status = excluded.status, program_digest = excluded.program_digest, \
         input_digest = excluded.input_digest, replication = excluded.replication, \
         bounty = excluded.bounty, request = excluded.request, \
         result_digest = excluded.result_digest, created_at = excluded.created_at, \
         settled_at = excluded.settled_at",
    )
    .bind(task_key(t.id))
    .bind(addr(t.client))
    .bind(t.mode.as_str())
    .bind(t.status.as_str())
    .bind(hash(t.program_digest))
    .bind(hash(t.input_digest))
    .bind(i64::from(t.replication))
    .bind(t.bounty.to_string())
    .bind(t.request.to_string())
    .bind(t.result_digest.map(hash))
    .bind(int("created_at", t.created_at)?)
    .bind(settled)
    .execute(conn)
    .await
    .map_err(db("upsert task"))?;
    Ok(())
}

pub(super) async fn read_task(conn: &mut AnyConnection, id: U256) -> Result<Option<TaskRecord>> {
    let sql = concat!("SELECT ", task_cols!(), " FROM tasks WHERE id = $1");
    sqlx::query(sql)
        .bind(task_key(id))
        .fetch_optional(conn)
        .await
        .map_err(db("read task"))?
        .as_ref()
        .map(task_from)
        .transpose()
}

// ---- assignments ----

macro_rules! assignment_cols {
    () => {
        "task_id, slot, operator, backup, status, assigned_at"
    };
}
pub(super) use assignment_cols;

pub(super) fn assignment_from(row: &AnyRow) -> Result<AssignmentRecord> {
    let key: String = row.try_get("task_id").unwrap_or_default();
    let c = Cols::new(row, "assignments", key);
    Ok(AssignmentRecord {
        task_id: c.task_id("task_id")?,
        slot: c.u32("slot")?,
        operator: c.parse("operator")?,
        backup: c.opt_parse("backup")?,
        status: c.named("status", AssignmentStatus::parse)?,
        assigned_at: c.u64("assigned_at")?,
    })
}

async fn upsert_assignment(conn: &mut AnyConnection, a: &AssignmentRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO assignments (task_id, slot, operator, backup, status, assigned_at) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (task_id, slot) DO UPDATE SET operator = excluded.operator, \
         backup = excluded.backup, status = excluded.status, assigned_at = excluded.assigned_at",
    )
    .bind(task_key(a.task_id))
    .bind(i64::from(a.slot))
    .bind(addr(a.operator))
    .bind(a.backup.map(addr))
    .bind(a.status.as_str())
    .bind(int("assigned_at", a.assigned_at)?)
    .execute(conn)
    .await
    .map_err(db("upsert assignment"))?;
    Ok(())
}

async fn read_assignment(
    conn: &mut AnyConnection,
    task: U256,
    slot: u32,
) -> Result<Option<AssignmentRecord>> {
    let sql = concat!(
        "SELECT ",
        assignment_cols!(),
        " FROM assignments WHERE task_id = $1 AND slot = $2"
    );
    sqlx::query(sql)
        .bind(task_key(task))
        .bind(i64::from(slot))
        .fetch_optional(conn)
        .await
        .map_err(db("read assignment"))?
        .as_ref()
        .map(assignment_from)
        .transpose()
}

// ---- reassignments ----

macro_rules! reassignment_cols {
    () => {
        "task_id, slot, round, from_operator, to_operator, reason, at"
    };
}
pub(super) use reassignment_cols;

pub(super) fn reassignment_from(row: &AnyRow) -> Result<ReassignmentRecord> {
    let key: String = row.try_get("task_id").unwrap_or_default();
    let c = Cols::new(row, "reassignments", key);
    Ok(ReassignmentRecord {
        task_id: c.task_id("task_id")?,
        slot: c.u32("slot")?,
        round: c.u32("round")?,
        from: c.parse("from_operator")?,
        to: c.parse("to_operator")?,
        reason: c.named("reason", ReassignReason::parse)?,
        at: c.u64("at")?,
    })
}

async fn upsert_reassignment(conn: &mut AnyConnection, r: &ReassignmentRecord) -> Result<()> {
    sqlx::query(
        "INSERT INTO reassignments (task_id, slot, round, from_operator, to_operator, reason, at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) \
         ON CONFLICT (task_id, slot, round) DO UPDATE SET from_operator = excluded.from_operator, \
         to_operator = excluded.to_operator, reason = excluded.reason, at = excluded.at",
    )
    .bind(task_key(r.task_id))
    .bind(i64::from(r.slot))
    .bind(i64::from(r.round))
    .bind(addr(r.from))
    .bind(addr(r.to))
    .bind(r.reason.as_str())
    .bind(int("at", r.at)?)
    .execute(conn)
    .await
    .map_err(db("upsert reassignment"))?;
    Ok(())
}

async fn read_reassignment(
    conn: &mut AnyConnection,
    task: U256,
    slot: u32,
    round: u32,
) -> Result<Option<ReassignmentRecord>> {
    let sql = concat!(
        "SELECT ",
        reassignment_cols!(),
        " FROM reassignments WHERE task_id = $1 AND slot = $2 AND round = $3"
    );
    sqlx::query(sql)
        .bind(task_key(task))
        .bind(i64::from(slot))
        .bind(i64::from(round))
        .fetch_optional(conn)
        .await
        .map_err(db("read reassignment"))?
        .as_ref()
        .map(reassignment_from)
        .transpose()
}

// ---- outcomes ----

macro_rules! outcome_cols {
    () => {
        "task_id, operator, kind, at, latency_ms"
    };
}
pub(super) use outcome_cols;

pub(super) fn outcome_from(row: &AnyRow) -> Result<OutcomeRecord> {
    let key: String = row.try_get("task_id").unwrap_or_default();
    let c = Cols::new(row, "outcomes", key);
    Ok(OutcomeRecord {
        task_id: c.task_id("task_id")?,
        operator: c.parse("operator")?,
        kind: c.named("kind", OutcomeKind::parse)?,
        at: c.u64("at")?,
        latency_ms: c.opt_u64("latency_ms")?,
    })
}

async fn upsert_outcome(conn: &mut AnyConnection, o: &OutcomeRecord) -> Result<()> {
    let latency = o.latency_ms.map(|v| int("latency_ms", v)).transpose()?;
    sqlx::query(
        "INSERT INTO outcomes (task_id, operator, kind, at, latency_ms) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (task_id, operator) DO UPDATE SET kind = excluded.kind, at = excluded.at, \
         latency_ms = excluded.latency_ms",
    )
    .bind(task_key(o.task_id))
    .bind(addr(o.operator))
    .bind(o.kind.as_str())
    .bind(int("at", o.at)?)
    .bind(latency)
    .execute(conn)
    .await
    .map_err(db("upsert outcome"))?;
    Ok(())
}

async fn read_outcome(
    conn: &mut AnyConnection,
    task: U256,
    operator: Address,
) -> Result<Option<OutcomeRecord>> {
    let sql = concat!(
        "SELECT ",
        outcome_cols!(),
        " FROM outcomes WHERE task_id = $1 AND operator = $2"
    );
    sqlx::query(sql)
        .bind(task_key(task))
        .bind(addr(operator))
        .fetch_optional(conn)
        .await
        .map_err(db("read outcome"))?
        .as_ref()
        .map(outcome_from)
        .transpose()
}

// ---- heartbeats ----

macro_rules! heartbeat_cols {
    () => {
        "operator, seq, sent_at, received_at, telemetry"
    };
}
pub(super) use heartbeat_cols;

pub(super) fn heartbeat_from(row: &AnyRow) -> Result<HeartbeatRecord> {
    let key: String = row.try_get("operator").unwrap_or_default();
    let c = Cols::new(row, "heartbeats", key);
    Ok(HeartbeatRecord {
        operator: c.parse("operator")?,
        seq: c.u64("seq")?,
        sent_at: c.u64("sent_at")?,
        received_at: c.u64("received_at")?,
        telemetry: c.json("telemetry")?,
    })
}

// ---- task logs ----

macro_rules! task_log_cols {
    () => {
        "task_id, operator, log_digest, log, received_at"
    };
}
pub(super) use task_log_cols;

pub(super) fn task_log_from(row: &AnyRow) -> Result<TaskLogRecord> {
    let key: String = row.try_get("task_id").unwrap_or_default();
    let c = Cols::new(row, "task_logs", key);
    Ok(TaskLogRecord {
        task_id: c.task_id("task_id")?,
        operator: c.parse("operator")?,
        log_digest: c.parse("log_digest")?,
        log: c.text("log")?,
        received_at: c.u64("received_at")?,
    })
}

// ---- changes, generically ----

/// Writes a change (an upsert of its row).
pub(super) async fn apply(conn: &mut AnyConnection, change: &Change) -> Result<()> {
    match change {
        Change::Node(n) => upsert_node(conn, n).await,
        Change::Task(t) => upsert_task(conn, t).await,
        Change::Assignment(a) => upsert_assignment(conn, a).await,
        Change::Reassignment(r) => upsert_reassignment(conn, r).await,
        Change::Outcome(o) => upsert_outcome(conn, o).await,
    }
}

/// The row the change is about to overwrite (same key), if there is one.
pub(super) async fn before_image(
    conn: &mut AnyConnection,
    change: &Change,
) -> Result<Option<Change>> {
    Ok(match change {
        Change::Node(n) => read_node(conn, n.operator).await?.map(Change::Node),
        Change::Task(t) => read_task(conn, t.id).await?.map(Change::Task),
        Change::Assignment(a) => read_assignment(conn, a.task_id, a.slot)
            .await?
            .map(Change::Assignment),
        Change::Reassignment(r) => read_reassignment(conn, r.task_id, r.slot, r.round)
            .await?
            .map(Change::Reassignment),
        Change::Outcome(o) => read_outcome(conn, o.task_id, o.operator)
            .await?
            .map(Change::Outcome),
    })
}

/// Deletes the row with the change's key (undo of a change that created it).
pub(super) async fn delete(conn: &mut AnyConnection, change: &Change) -> Result<()> {
    let q = match change {
        Change::Node(n) => {
            sqlx::query("DELETE FROM nodes WHERE operator = $1").bind(addr(n.operator))
        }
        Change::Task(t) => sqlx::query("DELETE FROM tasks WHERE id = $1").bind(task_key(t.id)),
        Change::Assignment(a) => {
            sqlx::query("DELETE FROM assignments WHERE task_id = $1 AND slot = $2")
                .bind(task_key(a.task_id))
                .bind(i64::from(a.slot))
        }
        Change::Reassignment(r) => {
            sqlx::query("DELETE FROM reassignments WHERE task_id = $1 AND slot = $2 AND round = $3")
                .bind(task_key(r.task_id))
                .bind(i64::from(r.slot))
                .bind(i64::from(r.round))
        }
        Change::Outcome(o) => {
            sqlx::query("DELETE FROM outcomes WHERE task_id = $1 AND operator = $2")
                .bind(task_key(o.task_id))
                .bind(addr(o.operator))
        }
    };
    q.execute(conn).await.map_err(db("undo change"))?;
    Ok(())
}
