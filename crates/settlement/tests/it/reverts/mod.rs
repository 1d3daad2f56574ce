//! Every revert path of every external function of `TaskMarket`, `NodeRegistry` and
//! `VerifierRegistry`. Each test covers one function: every custom error it can raise, by exact
//! name, and that the failed call changed nothing: every actor's balances and both contracts'
//! books ([`Net::ledger`]), the chain head (a call that reverts at estimation sends nothing), and
//! the task, seat, operator or setting the call would have touched.
//!
//! Deadline edges use [`Net::next_block_at`]: the next transaction (or estimate) runs at exactly
//! that second. Reverts already shown in `lifecycle.rs` (reveal in the commit block) are not
//! repeated.

mod calldata;
mod create;
mod dispute;
mod governance;
mod operators;
mod replicated;
mod results;

use alloy::{
    primitives::{Address, B256, Bytes, keccak256},
    providers::DynProvider,
    signers::local::{MnemonicBuilder, coins_bip39::English},
    sol_types::SolValue,
};
use verity_contracts::{
    ContractError, MockResultVerifier, NodeRegistry, TaskMarket, VerifierRegistry,
};
use verity_settlement::{Mode, TaskId, TaskRequest};

use crate::harness::{Ledger, MNEMONIC, Net};

/// OpenZeppelin's error for a caller that is not the owner (or not the pending owner).
pub(super) const NOT_OWNER: &str = "OwnableUnauthorizedAccount";

/// What a reverted call must leave as it was: the ledger and the head block.
pub(super) struct Frozen {
    ledger: Ledger,
    block: u64,
}

impl Frozen {
    pub(super) async fn take(net: &Net) -> Self {
        Frozen {
            ledger: net.ledger().await,
            block: block(net).await,
        }
    }

    /// Asserts no balance moved and no block was mined since [`Frozen::take`].
    pub(super) async fn check(&self, net: &Net) {
        let after = net.ledger().await;
        self.ledger.assert_deltas(&after, &[]);
        assert_eq!(
            block(net).await,
            self.block,
            "a reverting call must not be mined"
        );
    }
}

async fn block(net: &Net) -> u64 {
    net.s.block_number().await.expect("block number")
}

/// Asserts that a call through a raw binding (functions `Settlement` does not wrap) reverted
/// with the named custom error.
#[track_caller]
pub(super) fn expect_raw_revert<T: std::fmt::Debug>(
    r: Result<T, alloy::contract::Error>,
    name: &str,
) {
    match r {
        Ok(v) => panic!("expected revert {name}, got success: {v:?}"),
        Err(e) => {
            let got = e.as_revert_data().map(|d| ContractError::decode(&d).name());
            assert_eq!(got.as_deref(), Some(name), "expected {name}, got: {e}");
        }
    }
}

pub(super) fn market_sol(net: &Net) -> TaskMarket::TaskMarketInstance<DynProvider> {
    TaskMarket::new(net.s.deployment().market, net.s.provider().clone())
}

pub(super) fn registry_sol(net: &Net) -> NodeRegistry::NodeRegistryInstance<DynProvider> {
    NodeRegistry::new(net.s.deployment().registry, net.s.provider().clone())
}

pub(super) fn verifiers_sol(net: &Net) -> VerifierRegistry::VerifierRegistryInstance<DynProvider> {
    VerifierRegistry::new(net.s.deployment().verifiers, net.s.provider().clone())
}

/// Mines an empty block at exactly `ts`.
pub(super) async fn warp(net: &Net, ts: u64) {
    net.next_block_at(ts).await;
    net.mine().await;
    assert_eq!(net.now().await, ts);
}

/// A dev account the harness leaves alone: it has gas money, no tokens, no registration.
pub(super) fn outsider(i: u32) -> Address {
    MnemonicBuilder::<English>::default()
        .phrase(MNEMONIC)
        .index(15 + i)
        .expect("index")
        .build()
        .expect("dev key")
        .address()
}

/// A task id no task has.
pub(super) fn unknown_task() -> TaskId {
    TaskId::from(999)
}

/// `req` with one change.
pub(super) fn with(req: &TaskRequest, f: impl FnOnce(&mut TaskRequest)) -> TaskRequest {
    let mut r = req.clone();
    f(&mut r);
    r
}

/// A replicated request with the fewest seats the market allows (`MIN_REPLICATION`, 3, a
/// majority of 2).
pub(super) async fn smallest_replicated(net: &Net) -> TaskRequest {
    let mut r = net.request(Mode::Replicated, 100).await;
    r.replication = verity_settlement::MIN_REPLICATION;
    r.quorum = 2;
    r
}

/// Deploys the mock verifier and registers it; returns its id.
pub(super) async fn mock_verifier(net: &Net) -> B256 {
    let verifier = net
        .s
        .create_contract(net.owner, MockResultVerifier::BYTECODE.clone())
        .await
        .expect("deploy mock verifier");
    let id = B256::repeat_byte(0x2a);
    net.s
        .set_verifier(net.owner, id, verifier)
        .await
        .expect("set verifier");
    id
}

/// The proof the mock verifier accepts for `digest` by `operator` on `task`.
pub(super) fn proof_for(
    net: &Net,
    req: &TaskRequest,
    task: TaskId,
    operator: Address,
    digest: B256,
) -> Bytes {
    let d = net.s.deployment();
    let binding = verity_settlement::binding(d.chain_id, d.market, task, operator);
    let statement = (req.program_digest, req.input_digest, digest, binding);
    Bytes::from(keccak256(statement.abi_encode()).to_vec())
}
