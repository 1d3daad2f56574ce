//! The chain's data: world state, mined blocks, the pending pool, the clock.
//!
//! [`ChainState`] is everything `evm_snapshot` saves and `evm_revert` restores.

use std::{
    collections::{HashMap, VecDeque},
    ops::Deref,
    sync::Arc,
    time::{SystemTime, UNIX_EPOCH},
};

use alloy::{
    consensus::{Header, ReceiptEnvelope, TxEnvelope, transaction::Recovered},
    eips::{BlockId, BlockNumberOrTag, eip1559::BaseFeeParams},
    primitives::{Address, B256, Bytes, U256},
};
use revm::{
    DatabaseRef,
    state::{AccountInfo, Bytecode},
};

use crate::{
    error::{Error, Result},
    evm::{BlockParams, StateDb},
};

/// How many past states (one per block) are kept for queries at an older block.
pub(crate) const STATE_HISTORY: usize = 128;

/// A transaction in a mined block, with what its receipt needs.
#[derive(Debug, Clone)]
pub(crate) struct MinedTx {
    pub(crate) tx: Recovered<TxEnvelope>,
    pub(crate) hash: B256,
    pub(crate) receipt: ReceiptEnvelope,
    pub(crate) gas_used: u64,
    pub(crate) effective_gas_price: u128,
    pub(crate) contract_address: Option<Address>,
    /// Block-wide index of the transaction's first log.
    pub(crate) first_log_index: u64,
}

/// A mined block.
#[derive(Debug, Clone)]
pub(crate) struct MinedBlock {
    pub(crate) header: Header,
    pub(crate) hash: B256,
    /// RLP size of the whole block in bytes.
    pub(crate) size: u64,
    pub(crate) txs: Vec<MinedTx>,
}

/// A validated transaction waiting for the next block.
#[derive(Debug, Clone)]
pub(crate) struct PendingTx {
    pub(crate) tx: Recovered<TxEnvelope>,
    pub(crate) hash: B256,
}

/// Where a transaction is.
#[derive(Debug, Clone, Copy)]
pub(crate) enum TxLocation<'a> {
    Mined(&'a MinedBlock, usize),
    Pending(&'a PendingTx),
}

/// The block a state query or call runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Target {
    /// The next block: latest state plus the pending pool, in the next block's env.
    Pending,
    /// The state after the given mined block.
    Number(u64),
}

/// A world state: the live one or a past one.
#[derive(Debug)]
pub(crate) enum StateView<'a> {
    Live(&'a StateDb),
    /// A past block's state, or the pending block's.
    Shared(Arc<StateDb>),
}

impl Deref for StateView<'_> {
    type Target = StateDb;
    fn deref(&self) -> &StateDb {
        match self {
            Self::Live(db) => db,
            Self::Shared(db) => db,
        }
    }
}

/// Seconds since the Unix epoch, now.
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}

/// The chain's data; cloning it is how a snapshot is taken.
#[derive(Debug, Clone)]
pub(crate) struct ChainState {
    pub(crate) db: StateDb,
    pub(crate) blocks: Vec<Arc<MinedBlock>>,
    pub(crate) block_by_hash: HashMap<B256, u64>,
    pub(crate) tx_by_hash: HashMap<B256, (u64, usize)>,
    /// State after each of the last [`STATE_HISTORY`] blocks.
    pub(crate) history: VecDeque<(u64, Arc<StateDb>)>,
    pub(crate) pending: Vec<PendingTx>,
    /// Seconds added to the wall clock (`evm_increaseTime`, `evm_setNextBlockTimestamp`).
    pub(crate) time_offset: i64,
    /// Timestamp forced on the next block (`evm_setNextBlockTimestamp`).
    pub(crate) next_timestamp: Option<u64>,
    /// Base fee forced on the next block (`hardhat_setNextBlockBaseFeePerGas`).
    pub(crate) next_base_fee: Option<u64>,
    /// Gas limit of the next blocks (`evm_setBlockGasLimit`).
    pub(crate) gas_limit: u64,
    pub(crate) coinbase: Address,
    /// Whether `db` changed since the latest block was appended (an empty block on an
    /// unchanged state reuses the parent's state root and history entry).
    pub(crate) dirty: bool,
    /// A block may carry its parent's timestamp ([`crate::DevchainConfig::allow_same_timestamp`]).
    pub(crate) allow_same_timestamp: bool,
    /// The pending block's state as last computed ([`ChainState::pending_state`]). Anything
    /// that writes `db` directly must [`PendingCache::clear`] it; mining is caught by the
    /// parent hash, a reordered pool by the applied hashes, a new second by the block env.
    pub(crate) pending_cache: PendingCache,
}

/// The latest state with a prefix of the pending pool applied.
#[derive(Debug)]
pub(crate) struct CachedPending {
    /// Hash of the block the pool was applied on.
    pub(crate) parent: B256,
    /// The env the pool ran in (its timestamp follows the clock).
    pub(crate) params: BlockParams,
    /// Hashes of the pool's transactions applied, in order.
    pub(crate) applied: Vec<B256>,
    pub(crate) db: Arc<StateDb>,
}

impl CachedPending {
    /// Whether this state is still the pool's prefix on the same block and env.
    pub(crate) fn reusable(&self, parent: B256, params: &BlockParams, pool: &[PendingTx]) -> bool {
        self.parent == parent
            && self.params == *params
            && self.applied.len() <= pool.len()
            && self.applied.iter().zip(pool).all(|(h, p)| *h == p.hash)
    }
}

/// Holder of the [`CachedPending`] state. A clone (a snapshot) starts empty: the cache is
/// derived data and is rebuilt on demand.
#[derive(Debug, Default)]
pub(crate) struct PendingCache(std::sync::Mutex<Option<CachedPending>>);

impl Clone for PendingCache {
    fn clone(&self) -> Self {
        Self::default()
    }
}

impl PendingCache {
    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, Option<CachedPending>> {
        // The cache is rebuilt from scratch if a panic left it half-updated.
        self.0.lock().unwrap_or_else(|e| {
            let mut guard = e.into_inner();
            *guard = None;
            guard
        })
    }

    /// Forgets the cached state (after a direct write to the latest state).
    pub(crate) fn clear(&self) {
        *self.lock() = None;
    }
}

impl ChainState {
    pub(crate) fn latest(&self) -> &Arc<MinedBlock> {
        self.blocks.last().expect("the genesis block always exists")
    }

    pub(crate) fn latest_number(&self) -> u64 {
        self.latest().header.number
    }

    pub(crate) fn block(&self, number: u64) -> Option<&Arc<MinedBlock>> {
        usize::try_from(number)
            .ok()
            .and_then(|i| self.blocks.get(i))
    }

    pub(crate) fn block_by_hash(&self, hash: &B256) -> Option<&Arc<MinedBlock>> {
        self.block_by_hash.get(hash).and_then(|n| self.block(*n))
    }

    /// The wall clock plus the offset.
    pub(crate) fn clock(&self) -> u64 {
        let now = unix_now() as i64;
        now.saturating_add(self.time_offset).max(0) as u64
    }

    /// Timestamp the next block gets if mined now (without a forced timestamp).
    pub(crate) fn next_block_timestamp(&self) -> u64 {
        let parent = self.latest().header.timestamp;
        self.next_timestamp.unwrap_or_else(|| {
            let earliest = if self.allow_same_timestamp {
                parent
            } else {
                parent + 1
            };
            self.clock().max(earliest)
        })
    }

    /// Base fee of the next block.
    pub(crate) fn next_block_base_fee(&self) -> u64 {
        self.next_base_fee.unwrap_or_else(|| {
            self.latest()
                .header
                .next_block_base_fee(BaseFeeParams::ethereum())
                .unwrap_or_default()
        })
    }

    /// Block env of the next block.
    pub(crate) fn next_block_params(&self) -> BlockParams {
        BlockParams {
            number: self.latest_number() + 1,
            timestamp: self.next_block_timestamp(),
            base_fee: self.next_block_base_fee(),
            gas_limit: self.gas_limit,
            coinbase: self.coinbase,
        }
    }

    /// Block env a past block ran in.
    pub(crate) fn block_params(&self, block: &MinedBlock) -> BlockParams {
        BlockParams {
            number: block.header.number,
            timestamp: block.header.timestamp,
            base_fee: block.header.base_fee_per_gas.unwrap_or_default(),
            gas_limit: block.header.gas_limit,
            coinbase: block.header.beneficiary,
        }
    }

    /// Resolves an RPC block id. `latest`, `safe` and `finalized` are the latest block.
    pub(crate) fn resolve(&self, id: BlockId) -> Result<Target> {
        match id {
            BlockId::Hash(hash) => self
                .block_by_hash
                .get(&hash.block_hash)
                .map(|n| Target::Number(*n))
                .ok_or_else(|| Error::NotFound(format!("block {} not found", hash.block_hash))),
            BlockId::Number(tag) => self.resolve_tag(tag),
        }
    }

    pub(crate) fn resolve_tag(&self, tag: BlockNumberOrTag) -> Result<Target> {
        let latest = self.latest_number();
        match tag {
            BlockNumberOrTag::Latest | BlockNumberOrTag::Safe | BlockNumberOrTag::Finalized => {
                Ok(Target::Number(latest))
            }
            BlockNumberOrTag::Earliest => Ok(Target::Number(0)),
            BlockNumberOrTag::Pending => Ok(Target::Pending),
            BlockNumberOrTag::Number(n) if n <= latest => Ok(Target::Number(n)),
            BlockNumberOrTag::Number(n) => Err(Error::InvalidParams(format!(
                "Received invalid block tag {n}. Latest block number is {latest}"
            ))),
        }
    }

    /// Resolves a tag to a mined block number (`pending` = latest).
    pub(crate) fn resolve_number(&self, tag: BlockNumberOrTag) -> Result<u64> {
        Ok(match self.resolve_tag(tag)? {
            Target::Pending => self.latest_number(),
            Target::Number(n) => n,
        })
    }

    /// The world state at `target`. `Pending` applies the pending pool to a copy of the
    /// latest state (only when the pool is not empty).
    pub(crate) fn state_at(&self, target: Target, chain_id: u64) -> Result<StateView<'_>> {
        match target {
            Target::Number(n) if n == self.latest_number() => Ok(StateView::Live(&self.db)),
            Target::Number(n) => self
                .history
                .iter()
                .find(|(num, _)| *num == n)
                .map(|(_, db)| StateView::Shared(Arc::clone(db)))
                .ok_or_else(|| {
                    Error::NotFound(format!(
                        "state of block {n} is no longer available: the devchain keeps the \
                         state of the last {STATE_HISTORY} blocks"
                    ))
                }),
            Target::Pending if self.pending.is_empty() => Ok(StateView::Live(&self.db)),
            Target::Pending => Ok(StateView::Shared(self.pending_state(chain_id))),
        }
    }

    /// Block env a call at `target` runs in: the next block for `pending` and `latest`
    /// (like Hardhat), the block itself for an older block (like geth).
    pub(crate) fn call_params(&self, target: Target) -> BlockParams {
        match target {
            Target::Number(n) if n < self.latest_number() => {
                let block = self.block(n).expect("resolved block numbers exist");
                self.block_params(block)
            }
            _ => self.next_block_params(),
        }
    }

    /// Account info at a state (`None` = empty account).
    pub(crate) fn account(db: &StateDb, address: Address) -> AccountInfo {
        db.basic_ref(address).ok().flatten().unwrap_or_default()
    }

    /// Deployed code of `address`.
    pub(crate) fn code(db: &StateDb, address: Address) -> Bytes {
        let info = Self::account(db, address);
        let code = match info.code {
            Some(code) => code,
            None => db
                .code_by_hash_ref(info.code_hash)
                .unwrap_or_else(|_| Bytecode::default()),
        };
        code.original_bytes()
    }

    /// Storage slot of `address`.
    pub(crate) fn storage(db: &StateDb, address: Address, slot: U256) -> U256 {
        db.storage_ref(address, slot).unwrap_or_default()
    }

    /// Nonce the next transaction of `address` must use, counting the pending pool.
    pub(crate) fn pending_nonce(&self, address: Address) -> u64 {
        let base = Self::account(&self.db, address).nonce;
        let queued = self
            .pending
            .iter()
            .filter(|p| p.tx.signer() == address)
            .count() as u64;
        base + queued
    }

    /// Finds a transaction, mined or pending.
    pub(crate) fn find_tx(&self, hash: &B256) -> Option<TxLocation<'_>> {
        if let Some((number, index)) = self.tx_by_hash.get(hash) {
            let block = self.block(*number)?;
            return Some(TxLocation::Mined(block, *index));
        }
        self.pending
            .iter()
            .find(|p| p.hash == *hash)
            .map(TxLocation::Pending)
    }
}
