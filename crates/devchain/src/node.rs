//! The node behind the lock: chain state plus mining mode, snapshots and filters.

use std::collections::BTreeMap;

use alloy::primitives::{Address, B256, Bytes, U256};
use revm::state::{AccountInfo, Bytecode};

use crate::{
    error::{Error, Result},
    filters::Filters,
    state::{ChainState, PendingTx, unix_now},
};

/// Most `evm_snapshot`s kept at once (the oldest are dropped beyond that).
pub(crate) const MAX_SNAPSHOTS: usize = 256;

/// Most blocks one `hardhat_mine` / `anvil_mine` may mine.
pub(crate) const MAX_MINE_BLOCKS: u64 = 100_000;

#[derive(Debug)]
struct Snapshot {
    state: ChainState,
    /// Wall clock (seconds) when the snapshot was taken.
    taken_at: u64,
}

/// Everything behind the [`crate::Devchain`] mutex.
#[derive(Debug)]
pub(crate) struct Node {
    pub(crate) chain_id: u64,
    pub(crate) state: ChainState,
    pub(crate) automine: bool,
    pub(crate) filters: Filters,
    snapshots: BTreeMap<u64, Snapshot>,
    next_snapshot: u64,
}

impl Node {
    pub(crate) fn new(chain_id: u64, state: ChainState, automine: bool) -> Self {
        Self {
            chain_id,
            state,
            automine,
            filters: Filters::default(),
            snapshots: BTreeMap::new(),
            next_snapshot: 1,
        }
    }

    /// Admits a validated transaction: mines it at once (automine) or queues it.
    pub(crate) fn submit(&mut self, ptx: PendingTx) -> Result<B256> {
        self.state.validate(self.chain_id, &ptx, self.automine)?;
        let hash = ptx.hash;
        tracing::debug!(tx = %hash, from = %ptx.tx.signer(), "transaction accepted");
        self.filters.on_pending_tx(hash);
        self.state.pending.push(ptx);
        if !self.automine {
            return Ok(hash);
        }
        // Like Hardhat: mine the pending pool until the new transaction is in a block.
        loop {
            let txs = std::mem::take(&mut self.state.pending);
            let mined = self.state.mine(self.chain_id, txs, None, false);
            if let Some((_, err)) = mined.dropped.into_iter().find(|(p, _)| p.hash == hash) {
                return Err(err);
            }
            if self.state.tx_by_hash.contains_key(&hash) {
                return Ok(hash);
            }
            if mined.block.is_none() {
                return Err(Error::Internal(format!(
                    "transaction {hash} could not be mined"
                )));
            }
        }
    }

    /// Mines one block with the pending pool (`timestamp` forces its timestamp).
    pub(crate) fn mine_one(&mut self, timestamp: Option<u64>) -> Result<u64> {
        if let Some(ts) = timestamp {
            self.state.check_next_timestamp(ts)?;
        }
        let txs = std::mem::take(&mut self.state.pending);
        let mined = self.state.mine(self.chain_id, txs, timestamp, true);
        for (ptx, err) in mined.dropped {
            tracing::warn!(tx = %ptx.hash, error = %err, "pending transaction dropped");
        }
        Ok(self.state.latest_number())
    }

    /// Mines `blocks` blocks, `interval` seconds apart (Hardhat's `hardhat_mine`).
    pub(crate) fn mine_many(&mut self, blocks: u64, interval: Option<u64>) -> Result<u64> {
        if blocks > MAX_MINE_BLOCKS {
            return Err(Error::LimitExceeded(format!(
                "cannot mine {blocks} blocks at once (at most {MAX_MINE_BLOCKS})"
            )));
        }
        let interval = interval.unwrap_or(1).max(1);
        for i in 0..blocks {
            let timestamp = (i > 0).then(|| self.state.latest().header.timestamp + interval);
            self.mine_one(timestamp)?;
        }
        Ok(self.state.latest_number())
    }

    /// `evm_increaseTime`: returns the total offset in seconds.
    pub(crate) fn increase_time(&mut self, seconds: u64) -> i64 {
        let secs = i64::try_from(seconds).unwrap_or(i64::MAX);
        self.state.time_offset = self.state.time_offset.saturating_add(secs);
        self.state.time_offset
    }

    /// `evm_setNextBlockTimestamp`.
    pub(crate) fn set_next_block_timestamp(&mut self, timestamp: u64) -> Result<()> {
        self.state.check_next_timestamp(timestamp)?;
        self.state.next_timestamp = Some(timestamp);
        Ok(())
    }

    /// `evm_setTime`: the clock reads `timestamp` now. Returns the new offset.
    pub(crate) fn set_time(&mut self, timestamp: u64) -> i64 {
        self.state.time_offset = timestamp as i64 - unix_now() as i64;
        self.state.time_offset
    }

    /// `evm_snapshot`.
    pub(crate) fn snapshot(&mut self) -> u64 {
        let id = self.next_snapshot;
        self.next_snapshot += 1;
        self.snapshots.insert(
            id,
            Snapshot {
                state: self.state.clone(),
                taken_at: unix_now(),
            },
        );
        while self.snapshots.len() > MAX_SNAPSHOTS {
            self.snapshots.pop_first();
        }
        id
    }

    /// `evm_revert`: restores snapshot `id` and forgets it and every later one.
    pub(crate) fn revert(&mut self, id: u64) -> bool {
        let Some(snapshot) = self.snapshots.remove(&id) else {
            return false;
        };
        self.snapshots.retain(|k, _| *k < id);
        let elapsed = unix_now().saturating_sub(snapshot.taken_at) as i64;
        self.state = snapshot.state;
        // Like Hardhat: the clock goes back to where it was when the snapshot was taken.
        self.state.time_offset = self.state.time_offset.saturating_sub(elapsed);
        true
    }

    fn with_account(&mut self, address: Address, f: impl FnOnce(&mut AccountInfo)) {
        self.state.dirty = true;
        self.state.pending_cache.clear();
        let mut info = ChainState::account(&self.state.db, address);
        f(&mut info);
        self.state.db.insert_account_info(address, info);
    }

    /// `hardhat_setBalance`.
    pub(crate) fn set_balance(&mut self, address: Address, balance: U256) {
        self.with_account(address, |info| info.balance = balance);
    }

    /// `hardhat_setNonce`.
    pub(crate) fn set_nonce(&mut self, address: Address, nonce: u64) {
        self.with_account(address, |info| info.nonce = nonce);
    }

    /// `hardhat_setCode`.
    pub(crate) fn set_code(&mut self, address: Address, code: Bytes) {
        let bytecode = Bytecode::new_raw(code);
        self.with_account(address, |info| {
            info.code_hash = bytecode.hash_slow();
            info.code = Some(bytecode);
        });
    }

    /// `hardhat_setStorageAt`.
    pub(crate) fn set_storage(&mut self, address: Address, slot: U256, value: U256) {
        self.state.dirty = true;
        self.state.pending_cache.clear();
        // Loading first keeps the account's other slots.
        let _ = self.state.db.insert_account_storage(address, slot, value);
    }
}
