//! Deploying the contract set and wiring it together.

use alloy::{
    network::TransactionBuilder,
    primitives::{Address, Bytes, U256},
    providers::Provider,
    rpc::types::TransactionRequest,
};
use serde::{Deserialize, Serialize};
use verity_contracts::{DisputeCourt, NodeRegistry, TaskMarket, TestToken, VerifierRegistry};

use crate::{Error, Result, Settlement, TxOptions};

/// Where a Verity contract set lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Deployment {
    /// The chain the contracts are on.
    pub chain_id: u64,
    /// The ERC20 that stakes, bounties and bonds are paid in.
    pub token: Address,
    /// `NodeRegistry`.
    pub registry: Address,
    /// `TaskMarket`.
    pub market: Address,
    /// `VerifierRegistry`.
    pub verifiers: Address,
    /// `DisputeCourt`: committees, their ballots and the arbiter for optimistic disputes.
    pub court: Address,
    /// The block of the first deployment transaction (where indexers start).
    pub deployed_block: u64,
    /// The `VerityTimelock` that owns the governed contracts, or zero if an account owns them
    /// (a deployment before [`crate::hand_to_timelock`]).
    #[serde(default)]
    pub timelock: Address,
}

/// Parameters of a new deployment. Defaults suit a devnet.
#[derive(Debug, Clone)]
pub struct DeployConfig {
    /// Owner of the registry, the market and the verifier registry (governance).
    pub owner: Address,
    /// Receives protocol fees and slashed collateral.
    pub treasury: Address,
    /// Use this ERC20; `None` deploys a fresh `TestToken` (devnets only).
    pub token: Option<Address>,
    /// Minimum stake to be assignable, in token units.
    pub min_stake: U256,
    /// Seconds between an unstake request and the withdrawal.
    pub unbonding_delay: u64,
    /// Seconds an operator is jailed after a slash.
    pub jail_duration: u64,
    /// Protocol fee in basis points (at most 1000).
    pub protocol_fee_bps: u16,
    /// Scheduler (coordinator) fee in basis points (at most 1000).
    pub scheduler_fee_bps: u16,
    /// Members drawn for an optimistic dispute (3 to 15).
    pub committee_size: u8,
    /// Seconds to draw a dispute's committee, and again for its members to commit.
    pub dispute_window: u32,
    /// Seconds for committee members to reveal after the commit phase.
    pub dispute_reveal_window: u32,
    /// Decides disputes the committee leaves undecided (zero: nobody; they end Neutral).
    pub arbiter: Address,
    /// Seconds the arbiter has to decide an escalated dispute.
    pub arbiter_window: u32,
    /// Least seconds an operator gets between being seated and its commit or submit deadline
    /// (fixed at deployment; the market refuses tasks and reassignments that give less).
    pub min_response_window: u32,
    /// Least seconds between a replicated task's commit and reveal deadlines (fixed at
    /// deployment).
    pub min_reveal_window: u32,
    /// Least audit rate (basis points) of an optimistic task, fixed at deployment. Zero lets
    /// tasks go unaudited with no collateral floor: refused on any chain but 31337.
    pub min_audit_bps: u16,
    /// Accounts allowed to assign tasks.
    pub coordinators: Vec<Address>,
}

/// `min_response_window` for a production chain: an L2 with 2-second blocks and a node that
/// needs a few blocks to see its seat, fetch the input, run and commit (docs/protocol.md).
pub const PRODUCTION_MIN_RESPONSE_WINDOW: u32 = 120;
/// `min_reveal_window` for a production chain (docs/protocol.md).
pub const PRODUCTION_MIN_REVEAL_WINDOW: u32 = 60;
/// `min_audit_bps` for any real deployment, the devnet's included: 1 % (docs/protocol.md,
/// "Audits").
pub const PRODUCTION_MIN_AUDIT_BPS: u16 = 100;
/// The only chain id on which `min_audit_bps = 0` may be deployed.
pub const DEVNET_CHAIN_ID: u64 = 31337;

impl DeployConfig {
    /// Devnet defaults with `owner` as owner, treasury and only coordinator.
    pub fn devnet(owner: Address) -> Self {
        Self {
            owner,
            treasury: owner,
            token: None,
            min_stake: U256::from(100u64) * U256::from(10u64).pow(U256::from(18u64)),
            unbonding_delay: 3600,
            jail_duration: 3600,
            protocol_fee_bps: 100,
            scheduler_fee_bps: 50,
            committee_size: 7,
            dispute_window: 600,
            dispute_reveal_window: 600,
            arbiter: owner,
            arbiter_window: 600,
            // The devnet mines every 100 ms and its nodes answer within a second.
            min_response_window: 10,
            min_reveal_window: 10,
            min_audit_bps: PRODUCTION_MIN_AUDIT_BPS,
            coordinators: vec![owner],
        }
    }
}

/// Deploys token (unless given), registry, verifier registry, dispute court and market from
/// `owner` (whose key the provider's wallet must hold), binds the market and the court to the
/// registry and to each other, and allows the coordinators. Returns the addresses.
pub async fn deploy(provider: impl Provider + 'static, cfg: &DeployConfig) -> Result<Deployment> {
    let chain_id = provider
        .get_chain_id()
        .await
        .map_err(|e| Error::from_rpc("eth_chainId", cfg.owner, 1, e))?;
    if cfg.min_audit_bps == 0 && chain_id != DEVNET_CHAIN_ID {
        return Err(Error::InvalidInput {
            what: "min_audit_bps",
            reason: format!(
                "0 lets optimistic tasks go unaudited with no collateral floor; it is for test \
                 deployments on chain {DEVNET_CHAIN_ID} only, not chain {chain_id}"
            ),
        });
    }
    let mut s = Settlement::new(
        provider,
        Deployment {
            chain_id,
            token: Address::ZERO,
            registry: Address::ZERO,
            market: Address::ZERO,
            verifiers: Address::ZERO,
            court: Address::ZERO,
            deployed_block: 0,
            timelock: Address::ZERO,
        },
        TxOptions::default(),
    );
    let owner = cfg.owner;
    let deployed_block = s.block_number().await? + 1;
    let token = match cfg.token {
        Some(t) => t,
        None => create(&s, "TestToken", owner, TestToken::BYTECODE.clone()).await?,
    };
    let registry_code = NodeRegistry::deploy_builder(
        s.provider(),
        owner,
        token,
        cfg.min_stake,
        U256::from(cfg.unbonding_delay),
        U256::from(cfg.jail_duration),
    )
    .calldata()
    .clone();
    let registry = create(&s, "NodeRegistry", owner, registry_code).await?;
    let verifiers_code = VerifierRegistry::deploy_builder(s.provider(), owner)
        .calldata()
        .clone();
    let verifiers = create(&s, "VerifierRegistry", owner, verifiers_code).await?;
    let court_code = DisputeCourt::deploy_builder(
        s.provider(),
        owner,
        token,
        registry,
        cfg.committee_size,
        cfg.dispute_window,
        cfg.dispute_reveal_window,
        cfg.arbiter,
        cfg.arbiter_window,
    )
    .calldata()
    .clone();
    let court = create(&s, "DisputeCourt", owner, court_code).await?;
    let market_code = TaskMarket::deploy_builder(
        s.provider(),
        owner,
        token,
        registry,
        verifiers,
        cfg.treasury,
        cfg.protocol_fee_bps,
        cfg.scheduler_fee_bps,
        court,
        cfg.min_response_window,
        cfg.min_reveal_window,
        cfg.min_audit_bps,
    )
    .calldata()
    .clone();
    let market = create(&s, "TaskMarket", owner, market_code).await?;
    s.deployment = Deployment {
        chain_id,
        token,
        registry,
        market,
        verifiers,
        court,
        deployed_block,
        timelock: Address::ZERO,
    };
    s.set_market_in_registry(owner, market).await?;
    s.bind_court(owner).await?;
    for c in &cfg.coordinators {
        s.set_coordinator(owner, *c, true).await?;
    }
    Ok(s.deployment)
}

async fn create(
    s: &Settlement,
    contract: &'static str,
    from: Address,
    code: Bytes,
) -> Result<Address> {
    let tx = TransactionRequest::default()
        .into_create()
        .input(code.into());
    let receipt = s.send(contract, from, tx).await?;
    receipt.contract_address.ok_or(Error::Deploy {
        contract,
        reason: "receipt has no contract address".into(),
    })
}

impl Settlement {
    /// Deploys raw creation code (bytecode plus encoded constructor arguments) from `from`.
    pub async fn create_contract(&self, from: Address, code: Bytes) -> Result<Address> {
        create(self, "create", from, code).await
    }

    /// Owner: registers (or, with `Address::ZERO`, removes) a result verifier.
    pub async fn set_verifier(
        &self,
        from: Address,
        id: alloy::primitives::B256,
        verifier: Address,
    ) -> Result<alloy::rpc::types::TransactionReceipt> {
        let tx = VerifierRegistry::new(self.deployment.verifiers, &self.provider)
            .setVerifier(id, verifier)
            .into_transaction_request();
        self.send("setVerifier", from, tx).await
    }
}
