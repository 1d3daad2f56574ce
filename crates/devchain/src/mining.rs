//! Building blocks: genesis, executing transactions, receipts, headers, the state root.

use std::{
    collections::{HashMap, HashSet, VecDeque},
    sync::Arc,
};

use alloy::{
    consensus::{
        BlockBody, EMPTY_OMMER_ROOT_HASH, EMPTY_ROOT_HASH, Header, Receipt, ReceiptEnvelope,
        Transaction as _, TxEnvelope,
        proofs::{calculate_receipt_root, calculate_transaction_root},
    },
    eips::eip4895::Withdrawals,
    primitives::{Address, B64, B256, Bloom, Bytes, U256},
    rlp::Encodable as _,
};
use alloy_trie::{
    TrieAccount,
    root::{state_root_unhashed, storage_root_unhashed},
};
use revm::{Context, ExecuteCommitEvm, MainBuilder, MainContext, state::AccountInfo};

use crate::{
    config::{DEFAULT_COINBASE, DevAccount, DevchainConfig},
    db::ChainDb,
    error::{Error, Result},
    evm::{BlockParams, Outcome, StateDb, cfg_env, evm_error, prevrandao, tx_env_from_envelope},
    state::{
        CachedPending, ChainState, MinedBlock, MinedTx, PendingCache, PendingTx, STATE_HISTORY,
        unix_now,
    },
};

/// What mining a block did.
#[derive(Debug)]
pub(crate) struct Mined {
    /// The appended block; `None` when nothing was included and an empty block was not wanted.
    pub(crate) block: Option<Arc<MinedBlock>>,
    /// Transactions that were dropped because they turned out invalid, with the reason.
    pub(crate) dropped: Vec<(PendingTx, Error)>,
}

impl ChainState {
    /// The genesis state: funded dev accounts and block 0.
    pub(crate) fn genesis(cfg: &DevchainConfig, accounts: &[DevAccount]) -> Self {
        let mut db = StateDb::default();
        for account in accounts {
            db.insert_account_info(account.address, AccountInfo::from_balance(cfg.balance_wei));
        }
        let timestamp = cfg.genesis_timestamp.unwrap_or_else(unix_now);
        let header = Header {
            parent_hash: B256::ZERO,
            ommers_hash: EMPTY_OMMER_ROOT_HASH,
            beneficiary: DEFAULT_COINBASE,
            state_root: state_root(&db),
            transactions_root: EMPTY_ROOT_HASH,
            receipts_root: EMPTY_ROOT_HASH,
            logs_bloom: Bloom::ZERO,
            difficulty: U256::ZERO,
            number: 0,
            gas_limit: cfg.gas_limit,
            gas_used: 0,
            timestamp,
            extra_data: Bytes::new(),
            mix_hash: prevrandao(0),
            nonce: B64::ZERO,
            base_fee_per_gas: Some(cfg.base_fee),
            withdrawals_root: Some(EMPTY_ROOT_HASH),
            blob_gas_used: Some(0),
            excess_blob_gas: Some(0),
            parent_beacon_block_root: Some(B256::ZERO),
            ..Header::default()
        };
        let mut state = Self {
            db,
            blocks: Vec::new(),
            block_by_hash: HashMap::new(),
            tx_by_hash: HashMap::new(),
            history: VecDeque::new(),
            pending: Vec::new(),
            time_offset: 0,
            next_timestamp: None,
            next_base_fee: None,
            gas_limit: cfg.gas_limit,
            coinbase: DEFAULT_COINBASE,
            dirty: true,
            allow_same_timestamp: cfg.allow_same_timestamp,
            pending_cache: PendingCache::default(),
        };
        state.append(seal(header, Vec::new()));
        state
    }

    /// The latest state with the pending pool applied, in the next block's env.
    ///
    /// Kept between calls ([`PendingCache`]): a pool that only grew since the last call
    /// replays just the new transactions, so estimating each of n queued transactions costs
    /// O(n) executions in all, not O(n²) plus a copy of the whole state per call.
    pub(crate) fn pending_state(&self, chain_id: u64) -> Arc<StateDb> {
        let params = self.next_block_params();
        let parent = self.latest().hash;
        let mut slot = self.pending_cache.lock();
        let mut cached = slot
            .take()
            .filter(|c| c.reusable(parent, &params, &self.pending))
            .unwrap_or_else(|| CachedPending {
                parent,
                params,
                applied: Vec::new(),
                db: Arc::new(self.db.clone()),
            });
        if cached.applied.len() < self.pending.len() {
            let fresh = &self.pending[cached.applied.len()..];
            let mut evm = Context::mainnet()
                .with_db(ChainDb {
                    state: Arc::make_mut(&mut cached.db),
                    blocks: &self.blocks,
                })
                .with_cfg(cfg_env(chain_id))
                .with_block(params.env())
                .build_mainnet();
            for p in fresh {
                if let Err(e) =
                    evm.transact_commit(tx_env_from_envelope(p.tx.inner(), p.tx.signer()))
                {
                    tracing::debug!(tx = %p.hash, error = %evm_error(e), "pending tx skipped in pending state");
                }
            }
            drop(evm);
            cached.applied.extend(fresh.iter().map(|p| p.hash));
        }
        let db = Arc::clone(&cached.db);
        *slot = Some(cached);
        db
    }

    /// Checks a timestamp forced on the next block.
    pub(crate) fn check_next_timestamp(&self, timestamp: u64) -> Result<()> {
        let parent = self.latest().header.timestamp;
        if timestamp <= parent {
            return Err(Error::InvalidParams(format!(
                "Timestamp {timestamp} is lower than or equal to previous block's timestamp {parent}"
            )));
        }
        Ok(())
    }

    /// Mines one block on top of the latest with `txs`, in order.
    ///
    /// Transactions that no longer fit the block's gas go back to the front of the pending
    /// pool (with every later transaction of the same sender); invalid ones are dropped and
    /// reported. If nothing was included and `allow_empty` is false, no block is appended
    /// and the state is unchanged.
    pub(crate) fn mine(
        &mut self,
        chain_id: u64,
        txs: Vec<PendingTx>,
        timestamp: Option<u64>,
        allow_empty: bool,
    ) -> Mined {
        let forced_timestamp = timestamp.or(self.next_timestamp);
        let mut params = self.next_block_params();
        if let Some(ts) = forced_timestamp {
            params.timestamp = ts;
        }

        let mut included: Vec<MinedTx> = Vec::new();
        let mut deferred: Vec<PendingTx> = Vec::new();
        let mut deferred_senders: HashSet<Address> = HashSet::new();
        let mut dropped = Vec::new();
        let mut cumulative_gas = 0u64;
        let mut log_index = 0u64;

        let mut evm = Context::mainnet()
            .with_db(ChainDb {
                state: &mut self.db,
                blocks: &self.blocks,
            })
            .with_cfg(cfg_env(chain_id))
            .with_block(params.env())
            .build_mainnet();
        for ptx in txs {
            let sender = ptx.tx.signer();
            let gas_limit = ptx.tx.gas_limit();
            if gas_limit > params.gas_limit {
                // Only possible after `evm_setBlockGasLimit` lowered the limit.
                let err = Error::invalid_tx(format!(
                    "Transaction gas limit is {gas_limit} and exceeds block gas limit of {}",
                    params.gas_limit
                ));
                tracing::warn!(tx = %ptx.hash, error = %err, "dropping transaction");
                dropped.push((ptx, err));
                continue;
            }
            if deferred_senders.contains(&sender)
                || gas_limit > params.gas_limit.saturating_sub(cumulative_gas)
            {
                deferred_senders.insert(sender);
                deferred.push(ptx);
                continue;
            }
            let env = tx_env_from_envelope(ptx.tx.inner(), sender);
            let outcome = match evm.transact_commit(env) {
                Ok(result) => Outcome::from(result),
                Err(e) => {
                    let err = evm_error(e);
                    tracing::warn!(tx = %ptx.hash, error = %err, "dropping invalid transaction");
                    dropped.push((ptx, err));
                    continue;
                }
            };
            cumulative_gas += outcome.gas_used;
            let tx = ptx.tx.inner();
            let contract_address = tx.kind().is_create().then(|| sender.create(tx.nonce()));
            let log_count = outcome.logs.len() as u64;
            let receipt = Receipt {
                status: outcome.success.into(),
                cumulative_gas_used: cumulative_gas,
                logs: outcome.logs,
            }
            .with_bloom();
            let tx_type = tx.tx_type();
            included.push(MinedTx {
                effective_gas_price: tx.effective_gas_price(Some(params.base_fee)),
                tx: ptx.tx,
                hash: ptx.hash,
                receipt: ReceiptEnvelope::from_typed(tx_type, receipt),
                gas_used: outcome.gas_used,
                contract_address,
                first_log_index: log_index,
            });
            log_index += log_count;
        }
        drop(evm);

        if !deferred.is_empty() {
            deferred.append(&mut self.pending);
            self.pending = deferred;
        }
        if included.is_empty() && !allow_empty {
            return Mined {
                block: None,
                dropped,
            };
        }

        let header = self.header_for(&params, &included, cumulative_gas);
        let block = self.append(seal(header, included));
        if let Some(ts) = forced_timestamp {
            // Like Hardhat: the clock continues from the forced timestamp.
            self.time_offset = ts as i64 - unix_now() as i64;
        }
        self.next_timestamp = None;
        self.next_base_fee = None;
        Mined {
            block: Some(block),
            dropped,
        }
    }

    fn header_for(&self, params: &BlockParams, txs: &[MinedTx], gas_used: u64) -> Header {
        let envelopes: Vec<&TxEnvelope> = txs.iter().map(|t| t.tx.inner()).collect();
        let receipts: Vec<&ReceiptEnvelope> = txs.iter().map(|t| &t.receipt).collect();
        let logs_bloom = receipts.iter().fold(Bloom::ZERO, |mut acc, r| {
            acc.accrue_bloom(r.logs_bloom());
            acc
        });
        Header {
            parent_hash: self.latest().hash,
            ommers_hash: EMPTY_OMMER_ROOT_HASH,
            beneficiary: params.coinbase,
            state_root: if self.dirty || !txs.is_empty() {
                state_root(&self.db)
            } else {
                self.latest().header.state_root
            },
            transactions_root: calculate_transaction_root(&envelopes),
            receipts_root: calculate_receipt_root(&receipts),
            logs_bloom,
            difficulty: U256::ZERO,
            number: params.number,
            gas_limit: params.gas_limit,
            gas_used,
            timestamp: params.timestamp,
            extra_data: Bytes::new(),
            mix_hash: prevrandao(params.number),
            nonce: B64::ZERO,
            base_fee_per_gas: Some(params.base_fee),
            withdrawals_root: Some(EMPTY_ROOT_HASH),
            blob_gas_used: Some(0),
            excess_blob_gas: Some(0),
            parent_beacon_block_root: Some(B256::ZERO),
            ..Header::default()
        }
    }

    /// Appends a sealed block: indexes it and records the state history.
    fn append(&mut self, block: MinedBlock) -> Arc<MinedBlock> {
        let number = block.header.number;
        self.block_by_hash.insert(block.hash, number);
        for (i, tx) in block.txs.iter().enumerate() {
            self.tx_by_hash.insert(tx.hash, (number, i));
        }
        let unchanged = !self.dirty && block.txs.is_empty();
        let block = Arc::new(block);
        self.blocks.push(Arc::clone(&block));
        let state = match self.history.back() {
            Some((_, parent)) if unchanged => Arc::clone(parent),
            _ => Arc::new(self.db.clone()),
        };
        self.history.push_back((number, state));
        self.dirty = false;
        while self.history.len() > STATE_HISTORY {
            self.history.pop_front();
        }
        block
    }
}

/// Hashes a header and measures the block.
fn seal(header: Header, txs: Vec<MinedTx>) -> MinedBlock {
    let hash = header.hash_slow();
    let body = BlockBody {
        transactions: txs.iter().map(|t| t.tx.inner().clone()).collect::<Vec<_>>(),
        ommers: Vec::<Header>::new(),
        withdrawals: Some(Withdrawals::default()),
    };
    let size = body.into_block(header.clone()).length() as u64;
    MinedBlock {
        header,
        hash,
        size,
        txs,
    }
}

/// The Merkle-Patricia state root of the world state.
pub(crate) fn state_root(db: &StateDb) -> B256 {
    let accounts = db.cache.accounts.iter().filter_map(|(address, account)| {
        let info = account.info()?;
        if info.is_empty() {
            return None;
        }
        let storage = account
            .storage
            .iter()
            .filter(|(_, value)| !value.is_zero())
            .map(|(slot, value)| (B256::from(*slot), *value));
        let account = TrieAccount::new(
            info.nonce,
            info.balance,
            storage_root_unhashed(storage),
            info.code_hash,
        );
        Some((*address, account))
    });
    state_root_unhashed(accounts)
}
