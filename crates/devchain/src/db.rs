//! The database revm runs on: a world state plus the chain's real block hashes.

use std::{convert::Infallible, sync::Arc};

use alloy::primitives::{Address, B256, U256};
use revm::{
    Database, DatabaseCommit, DatabaseRef,
    primitives::{AddressMap, StorageKey, StorageValue},
    state::{Account, AccountInfo, Bytecode},
};

use crate::state::MinedBlock;

/// A state (`&StateDb` for simulations, `&mut StateDb` for mining) whose `BLOCKHASH` answers
/// with the hashes of the mined blocks. revm itself limits `BLOCKHASH` to the last 256 blocks
/// before the executing block.
#[derive(Debug)]
pub(crate) struct ChainDb<'a, D> {
    pub(crate) state: D,
    pub(crate) blocks: &'a [Arc<MinedBlock>],
}

impl<D> ChainDb<'_, D> {
    fn hash_of(&self, number: u64) -> B256 {
        usize::try_from(number)
            .ok()
            .and_then(|i| self.blocks.get(i))
            .map(|b| b.hash)
            .unwrap_or_default()
    }
}

impl<D: DatabaseRef<Error = Infallible>> DatabaseRef for ChainDb<'_, D> {
    type Error = Infallible;

    fn basic_ref(&self, address: Address) -> Result<Option<AccountInfo>, Infallible> {
        self.state.basic_ref(address)
    }

    fn code_by_hash_ref(&self, code_hash: B256) -> Result<Bytecode, Infallible> {
        self.state.code_by_hash_ref(code_hash)
    }

    fn storage_ref(&self, address: Address, index: StorageKey) -> Result<StorageValue, Infallible> {
        self.state.storage_ref(address, index)
    }

    fn block_hash_ref(&self, number: u64) -> Result<B256, Infallible> {
        Ok(self.hash_of(number))
    }
}

impl<D: Database<Error = Infallible>> Database for ChainDb<'_, D> {
    type Error = Infallible;

    fn basic(&mut self, address: Address) -> Result<Option<AccountInfo>, Infallible> {
        self.state.basic(address)
    }

    fn code_by_hash(&mut self, code_hash: B256) -> Result<Bytecode, Infallible> {
        self.state.code_by_hash(code_hash)
    }

    fn storage(&mut self, address: Address, index: StorageKey) -> Result<U256, Infallible> {
        self.state.storage(address, index)
    }

    fn block_hash(&mut self, number: u64) -> Result<B256, Infallible> {
        Ok(self.hash_of(number))
    }
}

impl<D: DatabaseCommit> DatabaseCommit for ChainDb<'_, D> {
    fn commit(&mut self, changes: AddressMap<Account>) {
        self.state.commit(changes);
    }
}
