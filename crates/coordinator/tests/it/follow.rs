//! The chain follower on the devchain: reorgs made with `evm_snapshot`/`evm_revert` are
//! detected and undone, and a restart from the cursor duplicates nothing.

use std::sync::Arc;

use alloy::providers::Provider;
use verity_coordinator::{
    follow::{self, ChainBlock, LogSource, RpcLogSource, Step, StreamConfig},
    indexer::project_block,
    store::{Page, SqlStore, Store, TaskStatus},
};
use verity_settlement::Mode;

use crate::{
    devnet::{Net, tokens},
    support::TestDb,
};

/// Every journaled log's block is the chain's block at that height.
async fn journal_on_chain(net: &Net, store: &dyn Store) -> usize {
    let journal = store.journal(0).await.unwrap();
    for e in &journal {
        let b = net
            .provider
            .get_block_by_number(e.block_number.into())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            b.header.hash, e.block_hash,
            "journaled block {} is off-chain",
            e.block_number
        );
    }
    journal.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reorg_is_detected_undone_and_the_new_branch_indexed() {
    let net = Net::new(2).await;
    let db = TestDb::sqlite();
    let store: Arc<dyn Store> = Arc::new(db.open().await);
    let indexer = net.indexer(store.clone(), 7);
    let first = indexer.sync(100).await.unwrap();
    assert!(first.idle && first.logs > 0, "{first:?}");
    let before_fork = store.cursor().await.unwrap().unwrap();

    // Branch A: client creates a task of 5 tokens; indexed.
    let snap = net.snapshot().await;
    let a = net.create(&net.s, net.client, Mode::Optimistic, 5).await;
    net.advance(1).await;
    let p = indexer.sync(100).await.unwrap();
    assert!(p.logs >= 1, "{p:?}");
    let t = store.task(a).await.unwrap().unwrap();
    assert_eq!((t.client, t.bounty), (net.client, tokens(5)));
    let tip_a = store.cursor().await.unwrap().unwrap();

    // Branch B from the snapshot: client2's 9-token task gets the same id, two blocks later.
    net.revert(snap).await;
    let s = net.fresh();
    net.advance(3).await;
    net.advance(3).await;
    let b = net.create(&s, net.client2, Mode::Optimistic, 9).await;
    assert_eq!(a, b, "same id on the other branch");
    assert!(net.s.block_number().await.unwrap() >= tip_a.number);

    // The follower alone names the blocks to undo, newest first, down to the fork point.
    let chain = RpcLogSource::new(
        net.provider.clone(),
        vec![net.contracts().market, net.contracts().registry],
    );
    let cfg = StreamConfig {
        confirmations: 0,
        chunk_blocks: 7,
        start_block: net.s.deployment().deployed_block,
        keep_blocks: 64,
    };
    match follow::step(store.as_ref(), &chain, &cfg).await.unwrap() {
        Step::Reorg { undo, fork_point } => {
            assert_eq!(undo.first(), Some(&tip_a), "newest first");
            assert!(undo.windows(2).all(|w| w[0].number > w[1].number));
            let fork = fork_point.expect("fork point");
            assert!(
                fork.number <= before_fork.number,
                "{fork:?} vs {before_fork:?}"
            );
            assert!(undo.iter().all(|b| b.number > fork.number));
        }
        other => panic!("expected a reorg, got {other:?}"),
    }

    let p = indexer.sync(100).await.unwrap();
    assert!(p.reverted >= 1 && p.idle, "{p:?}");
    let t = store.task(b).await.unwrap().unwrap();
    assert_eq!(
        (t.client, t.bounty),
        (net.client2, tokens(9)),
        "branch B's task"
    );
    assert_eq!(t.status, TaskStatus::Open);
    let n = journal_on_chain(&net, store.as_ref()).await;
    assert!(n > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_from_the_cursor_duplicates_nothing() {
    let net = Net::new(2).await;
    let db = TestDb::sqlite();
    let store = db.open().await;
    let shared: Arc<dyn Store> = Arc::new(store.clone());
    net.indexer(shared.clone(), 5).sync(100).await.unwrap();
    net.create(&net.s, net.client, Mode::Optimistic, 5).await;
    let p = net.indexer(shared.clone(), 5).sync(100).await.unwrap();
    assert_eq!(p.duplicate, 0);
    let journal = store.journal(0).await.unwrap();
    let tasks = store
        .tasks(Page {
            after: None,
            limit: 10,
        })
        .await
        .unwrap();
    store.close().await;
    drop((store, shared));

    // Reopened, a new indexer has nothing to do, and re-applying the last range skips it all.
    let reopened: Arc<dyn Store> = Arc::new(SqlStore::open(&db.url).await.unwrap());
    let p = net.indexer(reopened.clone(), 5).sync(100).await.unwrap();
    assert_eq!((p.logs, p.duplicate, p.reverted), (0, 0, 0), "{p:?}");
    assert!(p.idle);
    assert_eq!(reopened.journal(0).await.unwrap(), journal);
    assert_eq!(
        reopened
            .tasks(Page {
                after: None,
                limit: 10
            })
            .await
            .unwrap(),
        tasks
    );
    assert_eq!(
        journal_on_chain(&net, reopened.as_ref()).await,
        journal.len()
    );

    // Replaying the newest journaled block (a crash after commit, before the cursor was
    // read back) journals nothing twice.
    let last = journal.last().unwrap();
    let chain = RpcLogSource::new(
        net.provider.clone(),
        vec![net.contracts().market, net.contracts().registry],
    );
    let block = ChainBlock {
        header: chain.header(last.block_number).await.unwrap().unwrap(),
        logs: chain
            .logs(last.block_number, last.block_number)
            .await
            .unwrap(),
    };
    let logs = project_block(reopened.as_ref(), net.contracts(), &block)
        .await
        .unwrap();
    assert!(!logs.is_empty());
    let applied = reopened
        .apply_block(block.block_ref(), &logs, 64)
        .await
        .unwrap();
    assert_eq!((applied.new, applied.duplicate), (0, logs.len()));
    assert_eq!(reopened.journal(0).await.unwrap(), journal);
}
