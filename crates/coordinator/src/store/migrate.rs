//! Versioned schema migrations, compiled in and applied at open.
//!
//! Each migration is a SQL file under `crates/coordinator/migrations`. One file serves both
//! backends where the SQL allows (so far always: the schema sticks to BIGINT and TEXT and needs
//! no auto-increment); a migration whose SQL must differ carries one text per backend
//! ([`Migration::postgres`] overrides [`Migration::sql`] on PostgreSQL). Applied versions are
//! recorded in `schema_migrations` with a checksum of the text that ran; a build refuses a
//! database whose recorded checksums differ from its files (an edited migration) or that has
//! versions it does not know (a newer coordinator).
//!
//! Hand-written rather than `sqlx::migrate!` because that macro reads the files at build time
//! per backend and keeps a separate history per driver; this keeps one list and one table.

use alloy::primitives::keccak256;
use sqlx::{AnyConnection, Connection, Row};

use super::{Result, StoreError, sql::Backend};

/// One schema version.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// Version, strictly increasing from 1.
    pub version: i64,
    /// Short name (the file name without version and extension).
    pub name: &'static str,
    /// The SQL (both backends, unless [`Migration::postgres`] is set).
    pub sql: &'static str,
    /// PostgreSQL's text, when it must differ.
    pub postgres: Option<&'static str>,
}

impl Migration {
    /// The text that runs on `backend`.
    pub fn sql_for(&self, backend: Backend) -> &'static str {
        match (backend, self.postgres) {
            (Backend::Postgres, Some(pg)) => pg,
            _ => self.sql,
        }
    }
}

/// Every migration, in order.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial",
        sql: include_str!("../../migrations/0001_initial.sql"),
        postgres: None,
    },
    Migration {
        version: 2,
        name: "earnings_and_plans",
        sql: include_str!("../../migrations/0002_earnings_and_plans.sql"),
        postgres: None,
    },
    Migration {
        version: 3,
        name: "task_logs",
        sql: include_str!("../../migrations/0003_task_logs.sql"),
        postgres: None,
    },
];

fn checksum(sql: &str) -> String {
    keccak256(sql.as_bytes()).to_string()
}

fn db(op: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |source| StoreError::Database { op, source }
}

/// Applies every migration not yet recorded, each in its own transaction.
pub(super) async fn run(conn: &mut AnyConnection, backend: Backend) -> Result<Vec<i64>> {
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version BIGINT PRIMARY KEY,
            name TEXT NOT NULL,
            checksum TEXT NOT NULL,
            applied_at BIGINT NOT NULL
        )",
    )
    .execute(&mut *conn)
    .await
    .map_err(db("create schema_migrations"))?;

    let applied =
        sqlx::query("SELECT version, name, checksum FROM schema_migrations ORDER BY version")
            .fetch_all(&mut *conn)
            .await
            .map_err(db("read schema_migrations"))?;
    let known = MIGRATIONS.last().map_or(0, |m| m.version);
    let mut done = Vec::new();
    for row in &applied {
        let version: i64 = row.try_get(0).map_err(db("read schema_migrations"))?;
        let name: String = row.try_get(1).map_err(db("read schema_migrations"))?;
        let recorded: String = row.try_get(2).map_err(db("read schema_migrations"))?;
        let Some(m) = MIGRATIONS.iter().find(|m| m.version == version) else {
            return Err(StoreError::SchemaTooNew {
                found: version,
                known,
            });
        };
        let expected = checksum(m.sql_for(backend));
        if recorded != expected {
            return Err(StoreError::MigrationChanged {
                version,
                name,
                applied: recorded,
                expected,
            });
        }
        done.push(version);
    }

    let mut ran = Vec::new();
    for m in MIGRATIONS.iter().filter(|m| !done.contains(&m.version)) {
        let sql = m.sql_for(backend);
        let mut tx = conn.begin().await.map_err(db("begin migration"))?;
        sqlx::raw_sql(sql)
            .execute(&mut *tx)
            .await
            .map_err(db("apply migration"))?;
        sqlx::query(
            "INSERT INTO schema_migrations (version, name, checksum, applied_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(m.version)
        .bind(m.name)
        .bind(checksum(sql))
        .bind(crate::clock::unix_now() as i64)
        .execute(&mut *tx)
        .await
        .map_err(db("record migration"))?;
        tx.commit().await.map_err(db("commit migration"))?;
        tracing::info!(target: "coordinator::store", version = m.version, name = m.name, "applied migration");
        ran.push(m.version);
    }
    Ok(ran)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_increase_from_one_and_names_match_files() {
        for (i, m) in MIGRATIONS.iter().enumerate() {
            assert_eq!(m.version, i as i64 + 1);
            assert!(!m.sql.trim().is_empty());
        }
    }
}
