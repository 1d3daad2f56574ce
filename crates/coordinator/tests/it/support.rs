//! Test databases for both backends, and fixtures.

use alloy::{
    primitives::{Address, B256, U256},
    signers::local::PrivateKeySigner,
};
use sqlx::{AssertSqlSafe, Connection, PgConnection};
use tempfile::TempDir;
use verity_coordinator::store::{
    BlockRef, Change, JournalEvent, LogChanges, NodeRecord, SqlStore, TaskMode, TaskRecord,
    TaskStatus,
};

/// A database a test owns: a SQLite file in a temporary directory, or a fresh PostgreSQL
/// database on the server named by `VERITY_TEST_POSTGRES_URL`.
pub(crate) struct TestDb {
    pub(crate) url: String,
    dir: Option<TempDir>,
}

impl TestDb {
    pub(crate) fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("coordinator.db").display());
        Self {
            url,
            dir: Some(dir),
        }
    }

    /// A fresh database named after the test. Without a server the test fails, unless it is
    /// explicitly opted out with `VERITY_SKIP_POSTGRES=1` (then `None`: skipped, loudly).
    pub(crate) async fn postgres(test: &str) -> Option<Self> {
        if std::env::var("VERITY_SKIP_POSTGRES").as_deref() == Ok("1") {
            eprintln!("SKIPPED {test}: VERITY_SKIP_POSTGRES=1");
            return None;
        }
        let Ok(base) = std::env::var("VERITY_TEST_POSTGRES_URL") else {
            panic!(
                "{test} needs PostgreSQL and VERITY_TEST_POSTGRES_URL is unset: start a server with \
                 `eval \"$(scripts/postgres.sh start | grep ^VERITY_TEST_POSTGRES_URL=)\" && export VERITY_TEST_POSTGRES_URL` \
                 (it installs Debian's postgresql if missing), or opt out with VERITY_SKIP_POSTGRES=1"
            );
        };
        // PostgreSQL cuts identifiers at 63 bytes: a readable prefix plus a hash of the
        // whole test path keeps names distinct.
        let mut h = std::hash::DefaultHasher::new();
        std::hash::Hash::hash(test, &mut h);
        let readable: String = test.replace("::", "_").chars().rev().take(40).collect();
        let readable: String = readable.chars().rev().collect();
        let name = format!("vt_{readable}_{:016x}", std::hash::Hasher::finish(&h));
        let mut admin = PgConnection::connect(&base)
            .await
            .unwrap_or_else(|e| panic!("cannot connect to {base}: {e}"));
        // The name is built from the test path (letters, digits, `_`): safe to splice.
        sqlx::raw_sql(AssertSqlSafe(format!(
            "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
        )))
        .execute(&mut admin)
        .await
        .unwrap();
        sqlx::raw_sql(AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .unwrap();
        admin.close().await.unwrap();
        let (head, _) = base.split_once('?').unwrap_or((&base, ""));
        let root = &head[..head.rfind('/').expect("URL has a database path")];
        Some(Self {
            url: format!("{root}/{name}"),
            dir: None,
        })
    }

    /// The SQLite file, for the SQLite backend.
    pub(crate) fn sqlite_file(&self) -> Option<std::path::PathBuf> {
        self.dir.as_ref().map(|d| d.path().join("coordinator.db"))
    }

    pub(crate) async fn open(&self) -> SqlStore {
        SqlStore::open(&self.url).await.unwrap()
    }
}

/// Runs each listed `async fn(TestDb)` against SQLite (`sqlite::name`) and PostgreSQL
/// (`postgres::name`).
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::support::TestDb::sqlite()).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let test = concat!(module_path!(), "::", stringify!($name));
                    if let Some(db) = $crate::support::TestDb::postgres(test).await {
                        super::$name(db).await
                    }
                }
            )*
        }
    };
}

pub(crate) fn operator(n: u8) -> Address {
    Address::repeat_byte(n)
}

pub(crate) fn node(n: u8, signer: Address) -> NodeRecord {
    NodeRecord {
        operator: operator(n),
        signer,
        hardware_hash: B256::repeat_byte(n ^ 0x55),
        metadata_cid: format!("bafkreinode{n}"),
        region: 276,
        capabilities: u64::MAX - u64::from(n), // high bit set: the full range round-trips
        stake: U256::from(10u64).pow(U256::from(21u64)) + U256::from(n),
        locked: U256::ZERO,
        jailed_until: 0,
        tasks_completed: 0,
        tasks_failed: 0,
        times_slashed: 0,
        registered: true,
        earnings: U256::ZERO,
    }
}

pub(crate) fn task(id: u64, client: u8) -> TaskRecord {
    TaskRecord {
        id: U256::from(id),
        client: Address::repeat_byte(client),
        mode: TaskMode::Replicated,
        status: TaskStatus::Open,
        program_digest: B256::repeat_byte(0xaa),
        input_digest: B256::repeat_byte(0xbb),
        replication: 3,
        bounty: U256::from(5_000_000_000_000_000_000u128),
        request: serde_json::json!({"assignDeadline": 1_700_000_100u64, "minStake": "1000"}),
        result_digest: None,
        created_at: 1_700_000_000,
        settled_at: None,
    }
}

pub(crate) fn block(number: u64, fork: u8) -> BlockRef {
    let mut h = [0u8; 32];
    h[..8].copy_from_slice(&number.to_be_bytes());
    h[31] = fork;
    BlockRef {
        number,
        hash: B256::from(h),
    }
}

pub(crate) fn log(b: BlockRef, index: u64, kind: &str, changes: Vec<Change>) -> LogChanges {
    LogChanges {
        event: JournalEvent {
            block_number: b.number,
            block_hash: b.hash,
            log_index: index,
            tx_hash: B256::with_last_byte(index as u8 + 1),
            kind: kind.into(),
            payload: serde_json::json!({"index": index}),
        },
        changes,
    }
}

pub(crate) fn key() -> PrivateKeySigner {
    PrivateKeySigner::random()
}
