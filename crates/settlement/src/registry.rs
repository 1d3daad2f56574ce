//! `NodeRegistry` operations.

use alloy::{
    primitives::{Address, B256, Bytes, U256},
    providers::DynProvider,
    rpc::types::TransactionReceipt,
};
use verity_contracts::NodeRegistry;

use crate::{Error, Result, Settlement};

/// What an operator publishes about itself.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OperatorProfile {
    /// The node's signing key (heartbeats, attestations).
    pub signer: Address,
    /// Hash of the hardware description.
    pub hardware_hash: B256,
    /// CID of the metadata document (binary CID, at most 96 bytes).
    pub metadata_cid: Bytes,
    /// ISO 3166-1 numeric region, 0 = unspecified.
    pub region: u32,
    /// Capability bit flags.
    pub capabilities: u64,
}

/// An operator as the registry stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperatorInfo {
    /// Published profile.
    pub profile: OperatorProfile,
    /// Bonded stake (includes `locked`).
    pub stake: U256,
    /// Collateral locked by open tasks.
    pub locked: U256,
    /// Stake waiting out the unbonding delay.
    pub unbonding: U256,
    /// When `unbonding` can be withdrawn.
    pub unbonding_ready_at: u64,
    /// Not assignable before this time.
    pub jailed_until: u64,
    /// Tasks completed.
    pub tasks_completed: u32,
    /// Tasks failed (declined, silent, dissenting, overturned).
    pub tasks_failed: u32,
    /// Slashes.
    pub times_slashed: u32,
    /// Whether registered at all.
    pub registered: bool,
}

impl OperatorInfo {
    /// Stake that is neither locked nor unbonding.
    pub fn free_stake(&self) -> U256 {
        self.stake - self.locked
    }
}

impl Settlement {
    fn registry(&self) -> NodeRegistry::NodeRegistryInstance<&DynProvider> {
        NodeRegistry::new(self.deployment.registry, &self.provider)
    }

    /// Registers the sender as an operator.
    pub async fn register(&self, from: Address, p: &OperatorProfile) -> Result<TransactionReceipt> {
        let tx = self
            .registry()
            .register(
                p.signer,
                p.hardware_hash,
                p.metadata_cid.clone(),
                p.region,
                p.capabilities,
            )
            .into_transaction_request();
        self.send("register", from, tx).await
    }

    /// Replaces the sender's published profile.
    pub async fn update_metadata(
        &self,
        from: Address,
        p: &OperatorProfile,
    ) -> Result<TransactionReceipt> {
        let tx = self
            .registry()
            .updateMetadata(
                p.signer,
                p.hardware_hash,
                p.metadata_cid.clone(),
                p.region,
                p.capabilities,
            )
            .into_transaction_request();
        self.send("updateMetadata", from, tx).await
    }

    /// Adds stake (the registry must be approved for `amount`).
    pub async fn stake(&self, from: Address, amount: U256) -> Result<TransactionReceipt> {
        self.send(
            "stake",
            from,
            self.registry().stake(amount).into_transaction_request(),
        )
        .await
    }

    /// Moves free stake to unbonding.
    pub async fn request_unstake(&self, from: Address, amount: U256) -> Result<TransactionReceipt> {
        let tx = self
            .registry()
            .requestUnstake(amount)
            .into_transaction_request();
        self.send("requestUnstake", from, tx).await
    }

    /// Withdraws unbonded stake after the delay.
    pub async fn withdraw_unbonded(&self, from: Address) -> Result<TransactionReceipt> {
        let tx = self
            .registry()
            .withdrawUnbonded()
            .into_transaction_request();
        self.send("withdrawUnbonded", from, tx).await
    }

    /// Owner: binds the market (once).
    pub async fn set_market_in_registry(
        &self,
        from: Address,
        market: Address,
    ) -> Result<TransactionReceipt> {
        self.send(
            "setMarket",
            from,
            self.registry().setMarket(market).into_transaction_request(),
        )
        .await
    }

    /// Owner: minimum stake.
    pub async fn set_min_stake(&self, from: Address, amount: U256) -> Result<TransactionReceipt> {
        self.send(
            "setMinStake",
            from,
            self.registry()
                .setMinStake(amount)
                .into_transaction_request(),
        )
        .await
    }

    /// Owner: unbonding delay in seconds.
    pub async fn set_unbonding_delay(
        &self,
        from: Address,
        secs: u64,
    ) -> Result<TransactionReceipt> {
        let tx = self
            .registry()
            .setUnbondingDelay(U256::from(secs))
            .into_transaction_request();
        self.send("setUnbondingDelay", from, tx).await
    }

    /// Owner: jail duration in seconds.
    pub async fn set_jail_duration(&self, from: Address, secs: u64) -> Result<TransactionReceipt> {
        let tx = self
            .registry()
            .setJailDuration(U256::from(secs))
            .into_transaction_request();
        self.send("setJailDuration", from, tx).await
    }

    /// An operator's record (zeroes and `registered = false` if unknown).
    pub async fn operator(&self, who: Address) -> Result<OperatorInfo> {
        let o = self
            .registry()
            .getOperator(who)
            .call()
            .await
            .map_err(|e| Error::from_contract("getOperator", Address::ZERO, e))?;
        Ok(OperatorInfo {
            profile: OperatorProfile {
                signer: o.signer,
                hardware_hash: o.hardwareHash,
                metadata_cid: o.metadataCid,
                region: o.region,
                capabilities: o.capabilities,
            },
            stake: U256::from(o.stake),
            locked: U256::from(o.locked),
            unbonding: U256::from(o.unbonding),
            unbonding_ready_at: o.unbondingReadyAt.to(),
            jailed_until: o.jailedUntil.to(),
            tasks_completed: o.tasksCompleted,
            tasks_failed: o.tasksFailed,
            times_slashed: o.timesSlashed,
            registered: o.registered,
        })
    }

    /// Registered, not jailed, at or above the minimum stake.
    pub async fn is_eligible(&self, who: Address) -> Result<bool> {
        self.registry()
            .isEligible(who)
            .call()
            .await
            .map_err(|e| Error::from_contract("isEligible", Address::ZERO, e))
    }

    /// The eligible set in slot order, each member with the block it joined in (draws pick
    /// among these; see `NodeRegistry.drawEligible`).
    pub async fn eligible_set(&self) -> Result<Vec<(Address, u64)>> {
        let r = self.registry();
        let f = |e| Error::from_contract("eligibleAt", Address::ZERO, e);
        let n: U256 = r.eligibleCount().call().await.map_err(f)?;
        let mut out = Vec::new();
        for i in 0..n.to::<u64>() {
            let m = r.eligibleAt(U256::from(i)).call().await.map_err(f)?;
            out.push((m.operator, m.since.to::<u64>()));
        }
        Ok(out)
    }

    /// Anyone: brings `who`'s membership of the eligible set up to date (after a jail ended or
    /// the minimum stake changed).
    pub async fn sync_eligibility(
        &self,
        from: Address,
        who: Address,
    ) -> Result<TransactionReceipt> {
        let tx = self
            .registry()
            .syncEligibility(who)
            .into_transaction_request();
        self.send("syncEligibility", from, tx).await
    }

    /// Every operator ever registered, in order.
    pub async fn operators(&self) -> Result<Vec<Address>> {
        let r = self.registry();
        let f = |e| Error::from_contract("operatorList", Address::ZERO, e);
        let n: U256 = r.operatorCount().call().await.map_err(f)?;
        let mut out = Vec::new();
        for i in 0..n.to::<u64>() {
            out.push(r.operatorList(U256::from(i)).call().await.map_err(f)?);
        }
        Ok(out)
    }
}
