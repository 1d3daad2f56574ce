//! [`Devchain`]: the cheap-clone handle to the chain.

use std::{
    fmt,
    sync::{Arc, Mutex, MutexGuard},
    time::Duration,
};

use alloy::primitives::{Address, B256, U256};

use crate::{
    config::{DevAccount, DevchainConfig, derive_accounts},
    error::Result,
    node::Node,
    state::ChainState,
};

struct Shared {
    chain_id: u64,
    accounts: Vec<DevAccount>,
    block_time: Option<Duration>,
    node: Mutex<Node>,
}

/// An in-process EVM chain. Cloning is cheap: every clone is the same chain.
///
/// All state lives behind one mutex; every operation (an RPC call, mining a block) holds
/// it briefly and runs to completion, so the chain is consistent for every reader.
#[derive(Clone)]
pub struct Devchain {
    shared: Arc<Shared>,
}

impl fmt::Debug for Devchain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Devchain");
        s.field("chain_id", &self.shared.chain_id)
            .field("accounts", &self.shared.accounts.len());
        // Never wait for the lock here: formatting must not deadlock.
        if let Ok(node) = self.shared.node.try_lock() {
            s.field("block_number", &node.state.latest_number());
        }
        s.finish_non_exhaustive()
    }
}

impl Devchain {
    /// Creates the chain: derives and funds the dev accounts and mines the genesis block.
    pub fn new(cfg: DevchainConfig) -> Result<Self> {
        cfg.validate()?;
        let accounts = derive_accounts(&cfg.mnemonic, cfg.accounts)?;
        let state = ChainState::genesis(&cfg, &accounts);
        let automine = cfg.block_time.is_none();
        tracing::info!(
            chain_id = cfg.chain_id,
            accounts = accounts.len(),
            automine,
            "devchain created"
        );
        Ok(Self {
            shared: Arc::new(Shared {
                chain_id: cfg.chain_id,
                accounts,
                block_time: cfg.block_time,
                node: Mutex::new(Node::new(cfg.chain_id, state, automine)),
            }),
        })
    }

    /// The unlocked, funded dev accounts (Hardhat's, with the default mnemonic).
    pub fn accounts(&self) -> &[DevAccount] {
        &self.shared.accounts
    }

    /// The chain id.
    pub fn chain_id(&self) -> u64 {
        self.shared.chain_id
    }

    /// The configured interval mining period (`None` = automine).
    pub fn block_time(&self) -> Option<Duration> {
        self.shared.block_time
    }

    /// Locks the node. A panic while the lock was held (a bug) does not make the chain
    /// unusable: the lock is taken over as it is.
    pub(crate) fn node(&self) -> MutexGuard<'_, Node> {
        self.shared
            .node
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn account(&self, address: &Address) -> Option<&DevAccount> {
        self.shared.accounts.iter().find(|a| a.address == *address)
    }

    /// Number of the latest block.
    pub fn block_number(&self) -> u64 {
        self.node().state.latest_number()
    }

    /// Hash of the latest block.
    pub fn latest_block_hash(&self) -> B256 {
        self.node().state.latest().hash
    }

    /// Balance of `address` at the latest block.
    pub fn balance(&self, address: Address) -> U256 {
        ChainState::account(&self.node().state.db, address).balance
    }

    /// Nonce the next transaction of `address` must use (counting pending transactions).
    pub fn pending_nonce(&self, address: Address) -> u64 {
        self.node().state.pending_nonce(address)
    }

    /// Base fee the next block will have.
    pub fn next_base_fee(&self) -> u64 {
        self.node().state.next_block_base_fee()
    }

    /// Number of transactions waiting in the pending pool (automine off).
    pub fn pending_count(&self) -> usize {
        self.node().state.pending.len()
    }

    /// Mines one block with every pending transaction (`evm_mine`); returns its number.
    pub fn mine(&self) -> Result<u64> {
        self.node().mine_one(None)
    }

    /// Mines one block with the given timestamp (must be after the latest block's).
    pub fn mine_at(&self, timestamp: u64) -> Result<u64> {
        self.node().mine_one(Some(timestamp))
    }

    /// Moves the clock forward (`evm_increaseTime`); returns the total offset in seconds.
    pub fn increase_time(&self, seconds: u64) -> i64 {
        self.node().increase_time(seconds)
    }

    /// Forces the next block's timestamp (`evm_setNextBlockTimestamp`).
    pub fn set_next_block_timestamp(&self, timestamp: u64) -> Result<()> {
        self.node().set_next_block_timestamp(timestamp)
    }

    /// Whether each transaction is mined at once.
    pub fn automine(&self) -> bool {
        self.node().automine
    }

    /// Switches automine (`evm_setAutomine`). When off, transactions wait for [`Self::mine`].
    pub fn set_automine(&self, enabled: bool) {
        self.node().automine = enabled;
    }

    /// Takes a snapshot (`evm_snapshot`); returns its id.
    pub fn snapshot(&self) -> u64 {
        self.node().snapshot()
    }

    /// Restores a snapshot (`evm_revert`); `false` if there is no such snapshot.
    pub fn revert(&self, id: u64) -> bool {
        self.node().revert(id)
    }

    /// Sets the balance of `address` (`hardhat_setBalance`).
    pub fn set_balance(&self, address: Address, balance: U256) {
        self.node().set_balance(address, balance);
    }

    /// Storage slot of `address` at the latest block.
    pub fn storage_at(&self, address: Address, slot: U256) -> U256 {
        ChainState::storage(&self.node().state.db, address, slot)
    }
}
