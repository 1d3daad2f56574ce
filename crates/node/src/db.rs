//! What the node must not lose, in an embedded SQLite database (WAL, `synchronous = FULL`, so
//! every committed write is fsynced before the call returns): each assigned task's phase, the
//! salt of a commitment (written before the commitment is sent), the result, and the block
//! scanned up to.

use std::{path::Path, str::FromStr};

use alloy::primitives::{B256, U256};
use sqlx::{
    Row, SqlitePool,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

/// Database errors.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// SQLite failed.
    #[error("[V-DB-001] task database: {0}")]
    Sqlite(#[from] sqlx::Error),
    /// A stored value is not what the schema allows.
    #[error("[V-DB-002] corrupt row for task {task}: {reason}")]
    Corrupt {
        /// The task.
        task: String,
        /// What is wrong.
        reason: String,
    },
}

/// Where a task is on this node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Assigned to us; nothing done yet.
    Assigned,
    /// Executed; result known.
    Executed,
    /// Salt stored; the commitment may or may not have reached the chain.
    Committing,
    /// Commitment on chain.
    Committed,
    /// Reveal on chain (replicated) or result submitted (optimistic).
    Delivered,
    /// Gave the seat back.
    Declined,
    /// Settled on chain (finalized or refunded).
    Done,
}

impl Phase {
    fn as_str(self) -> &'static str {
        match self {
            Phase::Assigned => "assigned",
            Phase::Executed => "executed",
            Phase::Committing => "committing",
            Phase::Committed => "committed",
            Phase::Delivered => "delivered",
            Phase::Declined => "declined",
            Phase::Done => "done",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "assigned" => Phase::Assigned,
            "executed" => Phase::Executed,
            "committing" => Phase::Committing,
            "committed" => Phase::Committed,
            "delivered" => Phase::Delivered,
            "declined" => Phase::Declined,
            "done" => Phase::Done,
            _ => return None,
        })
    }

    /// Nothing more to do for this task.
    pub fn is_final(self) -> bool {
        matches!(self, Phase::Declined | Phase::Done)
    }
}

/// One task as the node tracks it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskRow {
    /// The market's task id.
    pub task_id: U256,
    /// Progress.
    pub phase: Phase,
    /// The result digest, once executed.
    pub result: Option<B256>,
    /// The commitment salt (replicated), stored before the commitment is sent.
    pub salt: Option<B256>,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS tasks (
    task_id    TEXT PRIMARY KEY,
    phase      TEXT NOT NULL,
    result     BLOB,
    salt       BLOB,
    updated_at INTEGER NOT NULL DEFAULT (unixepoch())
);
CREATE TABLE IF NOT EXISTS court_duties (
    task_id    TEXT PRIMARY KEY,
    phase      TEXT NOT NULL,
    digest     BLOB,
    salt       BLOB,
    updated_at INTEGER NOT NULL DEFAULT (unixepoch())
);
CREATE TABLE IF NOT EXISTS cursor (
    id         INTEGER PRIMARY KEY CHECK (id = 0),
    next_block INTEGER NOT NULL
);
";

/// The node's task database.
#[derive(Debug, Clone)]
pub struct TaskDb {
    pool: SqlitePool,
}

impl TaskDb {
    /// Opens (creating if needed) the database file.
    pub async fn open(path: &Path) -> Result<Self, DbError> {
        let opts = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full);
        Self::with_options(opts).await
    }

    /// A private in-memory database (tests).
    pub async fn in_memory() -> Result<Self, DbError> {
        Self::with_options(SqliteConnectOptions::from_str("sqlite::memory:")?).await
    }

    async fn with_options(opts: SqliteConnectOptions) -> Result<Self, DbError> {
        // One connection: writes are serialized, and an in-memory database stays one database.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(opts)
            .await?;
        sqlx::raw_sql(SCHEMA).execute(&pool).await?;
        Ok(Self { pool })
    }

    /// Records a newly seen assignment; a task already known is left as it is.
    pub async fn insert_assigned(&self, task: U256) -> Result<bool, DbError> {
        let done =
            sqlx::query("INSERT OR IGNORE INTO tasks (task_id, phase) VALUES (?, 'assigned')")
                .bind(task.to_string())
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Moves a task to `phase`, recording the result and salt when given. Durable on return.
    pub async fn set_phase(
        &self,
        task: U256,
        phase: Phase,
        result: Option<B256>,
        salt: Option<B256>,
    ) -> Result<(), DbError> {
        sqlx::query(
            "UPDATE tasks SET phase = ?, result = COALESCE(?, result), salt = COALESCE(?, salt),
             updated_at = unixepoch() WHERE task_id = ?",
        )
        .bind(phase.as_str())
        .bind(result.map(|r| r.to_vec()))
        .bind(salt.map(|s| s.to_vec()))
        .bind(task.to_string())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// A task's row.
    pub async fn get(&self, task: U256) -> Result<Option<TaskRow>, DbError> {
        let row = sqlx::query("SELECT task_id, phase, result, salt FROM tasks WHERE task_id = ?")
            .bind(task.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.map(|r| decode(&r)).transpose()
    }

    /// Every task still in progress, oldest first.
    pub async fn in_flight(&self) -> Result<Vec<TaskRow>, DbError> {
        let rows = sqlx::query(
            "SELECT task_id, phase, result, salt FROM tasks
             WHERE phase NOT IN ('declined', 'done') ORDER BY CAST(task_id AS INTEGER)",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(decode).collect()
    }

    /// The first block not yet scanned for assignments.
    pub async fn next_block(&self) -> Result<Option<u64>, DbError> {
        let row = sqlx::query("SELECT next_block FROM cursor WHERE id = 0")
            .fetch_optional(&self.pool)
            .await?;
        Ok(row.map(|r| r.get::<i64, _>(0) as u64))
    }

    /// Records that blocks before `next` were scanned.
    pub async fn set_next_block(&self, next: u64) -> Result<(), DbError> {
        sqlx::query("INSERT INTO cursor (id, next_block) VALUES (0, ?) ON CONFLICT(id) DO UPDATE SET next_block = excluded.next_block")
            .bind(next as i64)
            .execute(&self.pool)
            .await?;
        Ok(())
    }
}

/// Where a dispute duty is on this node: every node follows every challenged task (to draw,
/// tally and settle it as anyone may), and votes when drawn into its committee.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DutyPhase {
    /// Following the case; no ballot of ours yet.
    Watching,
    /// Our commitment is sent (digest and salt stored first, so a restart can reveal).
    Committed,
    /// Our ballot is revealed; the case may still need settling.
    Revealed,
    /// The task left the dispute.
    Done,
}

impl DutyPhase {
    fn as_str(self) -> &'static str {
        match self {
            DutyPhase::Watching => "watching",
            DutyPhase::Committed => "committed",
            DutyPhase::Revealed => "revealed",
            DutyPhase::Done => "done",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "watching" => DutyPhase::Watching,
            "committed" => DutyPhase::Committed,
            "revealed" => DutyPhase::Revealed,
            "done" => DutyPhase::Done,
            _ => return None,
        })
    }
}

/// One dispute duty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DutyRow {
    /// The disputed task.
    pub task_id: U256,
    /// Progress.
    pub phase: DutyPhase,
    /// The digest we committed to (once committed).
    pub digest: Option<B256>,
    /// The secret salt of our commitment (once committed).
    pub salt: Option<B256>,
}

impl TaskDb {
    /// Starts following a challenged task; a duty already known is left as it is.
    pub async fn insert_duty(&self, task: U256) -> Result<bool, DbError> {
        let done = sqlx::query(
            "INSERT OR IGNORE INTO court_duties (task_id, phase) VALUES (?, 'watching')",
        )
        .bind(task.to_string())
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Moves a duty to `phase`, recording the digest and salt when given. Durable on return.
    pub async fn set_duty(
        &self,
        task: U256,
        phase: DutyPhase,
        ballot: Option<(B256, B256)>,
    ) -> Result<(), DbError> {
        sqlx::query(
            "UPDATE court_duties SET phase = ?, digest = COALESCE(?, digest),
             salt = COALESCE(?, salt), updated_at = unixepoch() WHERE task_id = ?",
        )
        .bind(phase.as_str())
        .bind(ballot.map(|(d, _)| d.to_vec()))
        .bind(ballot.map(|(_, s)| s.to_vec()))
        .bind(task.to_string())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Every committee duty not done, oldest task first.
    pub async fn open_duties(&self) -> Result<Vec<DutyRow>, DbError> {
        let rows = sqlx::query(
            "SELECT task_id, phase, digest, salt FROM court_duties WHERE phase != 'done'
             ORDER BY CAST(task_id AS INTEGER)",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(decode_duty).collect()
    }

    /// One duty.
    pub async fn duty(&self, task: U256) -> Result<Option<DutyRow>, DbError> {
        let row =
            sqlx::query("SELECT task_id, phase, digest, salt FROM court_duties WHERE task_id = ?")
                .bind(task.to_string())
                .fetch_optional(&self.pool)
                .await?;
        row.map(|r| decode_duty(&r)).transpose()
    }
}

fn decode_duty(r: &sqlx::sqlite::SqliteRow) -> Result<DutyRow, DbError> {
    let id: String = r.get(0);
    let corrupt = |reason: &str| DbError::Corrupt {
        task: id.clone(),
        reason: reason.into(),
    };
    let task_id = U256::from_str(&id).map_err(|_| corrupt("task id"))?;
    let phase: String = r.get(1);
    let phase = DutyPhase::parse(&phase).ok_or_else(|| corrupt("duty phase"))?;
    let word = |i: usize| -> Result<Option<B256>, DbError> {
        let v: Option<Vec<u8>> = r.get(i);
        v.map(|b| B256::try_from(b.as_slice()).map_err(|_| corrupt("32-byte field")))
            .transpose()
    };
    Ok(DutyRow {
        task_id,
        phase,
        digest: word(2)?,
        salt: word(3)?,
    })
}

fn decode(r: &sqlx::sqlite::SqliteRow) -> Result<TaskRow, DbError> {
    let id: String = r.get(0);
    let corrupt = |reason: &str| DbError::Corrupt {
        task: id.clone(),
        reason: reason.into(),
    };
    let task_id = U256::from_str(&id).map_err(|_| corrupt("task id"))?;
    let phase: String = r.get(1);
    let phase = Phase::parse(&phase).ok_or_else(|| corrupt("phase"))?;
    let word = |i: usize| -> Result<Option<B256>, DbError> {
        let v: Option<Vec<u8>> = r.get(i);
        v.map(|b| B256::try_from(b.as_slice()).map_err(|_| corrupt("32-byte field")))
            .transpose()
    };
    Ok(TaskRow {
        task_id,
        phase,
        result: word(2)?,
        salt: word(3)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn phases_salts_and_cursor_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("node.db");
        let t = U256::from(7);
        {
            let db = TaskDb::open(&path).await.unwrap();
            assert!(db.insert_assigned(t).await.unwrap());
            assert!(!db.insert_assigned(t).await.unwrap(), "idempotent");
            db.set_phase(t, Phase::Executed, Some(B256::repeat_byte(1)), None)
                .await
                .unwrap();
            db.set_phase(t, Phase::Committing, None, Some(B256::repeat_byte(2)))
                .await
                .unwrap();
            db.insert_assigned(U256::from(8)).await.unwrap();
            db.set_phase(U256::from(8), Phase::Done, None, None)
                .await
                .unwrap();
            db.set_next_block(42).await.unwrap();
        }
        let db = TaskDb::open(&path).await.unwrap();
        let row = db.get(t).await.unwrap().unwrap();
        assert_eq!(row.phase, Phase::Committing);
        assert_eq!(
            row.result,
            Some(B256::repeat_byte(1)),
            "kept across later updates"
        );
        assert_eq!(row.salt, Some(B256::repeat_byte(2)));
        assert_eq!(db.in_flight().await.unwrap(), vec![row]);
        assert_eq!(db.next_block().await.unwrap(), Some(42));
    }

    #[tokio::test]
    async fn committee_duties_survive_a_reopen_and_are_not_doubled() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("node.db");
        {
            let db = TaskDb::open(&path).await.unwrap();
            assert!(db.insert_duty(U256::from(3)).await.unwrap());
            assert!(!db.insert_duty(U256::from(3)).await.unwrap(), "idempotent");
            db.insert_duty(U256::from(4)).await.unwrap();
            let ballot = (B256::repeat_byte(9), B256::repeat_byte(7));
            db.set_duty(U256::from(3), DutyPhase::Committed, Some(ballot))
                .await
                .unwrap();
            db.set_duty(U256::from(4), DutyPhase::Done, None)
                .await
                .unwrap();
        }
        let db = TaskDb::open(&path).await.unwrap();
        assert!(!db.insert_duty(U256::from(3)).await.unwrap());
        let open = db.open_duties().await.unwrap();
        assert_eq!(
            open,
            vec![DutyRow {
                task_id: U256::from(3),
                phase: DutyPhase::Committed,
                digest: Some(B256::repeat_byte(9)),
                salt: Some(B256::repeat_byte(7)),
            }]
        );
        assert_eq!(
            db.duty(U256::from(4)).await.unwrap().unwrap().phase,
            DutyPhase::Done
        );
    }
}
