//! Governance behind a timelock (issue 15, "owner powers"): [`hand_to_timelock`] deploys a
//! `VerityTimelock` (OpenZeppelin's `TimelockController`) and makes it the owner of the
//! registry, the market, the verifier registry and the dispute court; from then on every owner call is scheduled in
//! public ([`Settlement::schedule_governance`]) and runs only after the delay
//! ([`Settlement::execute_governance`]).

use alloy::{
    primitives::{Address, B256, Bytes, U256},
    rpc::types::TransactionReceipt,
    sol_types::SolCall,
};
use verity_contracts::{DisputeCourt, NodeRegistry, TaskMarket, VerifierRegistry, VerityTimelock};

use crate::{Deployment, Error, Result, Settlement};

/// Deploys a timelock whose only proposer and executor is `admin`, hands it the ownership of
/// the four governed contracts (two-step: `transferOwnership` from `admin`, then
/// `acceptOwnership` run by the timelock), and sets its delay to `delay` seconds. The timelock
/// starts with no delay so the hand-over completes in this call, before anyone uses the
/// contracts; its last step (`updateDelay`) is itself run through the timelock. `admin` must be
/// the contracts' current owner. Returns the deployment with `timelock` set.
pub async fn hand_to_timelock(
    s: &mut Settlement,
    admin: Address,
    delay: u64,
) -> Result<Deployment> {
    let code = VerityTimelock::deploy_builder(
        s.provider(),
        U256::ZERO,
        vec![admin],
        vec![admin],
        Address::ZERO,
    )
    .calldata()
    .clone();
    let timelock = s.create_contract(admin, code).await?;
    let d = *s.deployment();
    let owned = [d.registry, d.market, d.verifiers, d.court];
    for target in owned {
        // The four contracts share OpenZeppelin's Ownable2Step, so one binding serves.
        let tx = TaskMarket::new(target, s.provider())
            .transferOwnership(timelock)
            .into_transaction_request();
        s.send("transferOwnership", admin, tx).await?;
    }
    let accept = Bytes::from(TaskMarket::acceptOwnershipCall {}.abi_encode());
    let mut targets = owned.to_vec();
    let mut payloads = vec![accept; owned.len()];
    targets.push(timelock);
    payloads.push(Bytes::from(
        VerityTimelock::updateDelayCall {
            newDelay: U256::from(delay),
        }
        .abi_encode(),
    ));
    let values = vec![U256::ZERO; targets.len()];
    let t = VerityTimelock::new(timelock, s.provider());
    let tx = t
        .scheduleBatch(
            targets.clone(),
            values.clone(),
            payloads.clone(),
            B256::ZERO,
            B256::ZERO,
            U256::ZERO,
        )
        .into_transaction_request();
    s.send("scheduleBatch", admin, tx).await?;
    let tx = t
        .executeBatch(targets, values, payloads, B256::ZERO, B256::ZERO)
        .into_transaction_request();
    s.send("executeBatch", admin, tx).await?;
    s.deployment.timelock = timelock;
    Ok(s.deployment)
}

/// An owner call of a governed contract, as the timelock runs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GovernanceCall {
    /// The governed contract.
    pub target: Address,
    /// The ABI-encoded call.
    pub data: Bytes,
    /// Tells operations with the same target and data apart.
    pub salt: B256,
}

impl GovernanceCall {
    /// `TaskMarket.setFees`.
    pub fn set_fees(d: &Deployment, protocol_bps: u16, scheduler_bps: u16, salt: B256) -> Self {
        let data = TaskMarket::setFeesCall {
            protocolBps: protocol_bps,
            schedulerBps: scheduler_bps,
        }
        .abi_encode();
        Self {
            target: d.market,
            data: data.into(),
            salt,
        }
    }

    /// `DisputeCourt.setParams`: committee size, draw-and-commit window, reveal window.
    pub fn set_dispute_params(
        d: &Deployment,
        size: u8,
        window: u32,
        reveal_window: u32,
        salt: B256,
    ) -> Self {
        let data = DisputeCourt::setParamsCall {
            size,
            window_: window,
            revealWindow_: reveal_window,
        }
        .abi_encode();
        Self {
            target: d.court,
            data: data.into(),
            salt,
        }
    }

    /// `DisputeCourt.setArbiter`.
    pub fn set_arbiter(d: &Deployment, arbiter: Address, window: u32, salt: B256) -> Self {
        let data = DisputeCourt::setArbiterCall {
            arbiter_: arbiter,
            arbiterWindow_: window,
        }
        .abi_encode();
        Self {
            target: d.court,
            data: data.into(),
            salt,
        }
    }

    /// `NodeRegistry.setMinStake`.
    pub fn set_min_stake(d: &Deployment, min_stake: U256, salt: B256) -> Self {
        let data = NodeRegistry::setMinStakeCall {
            minStake_: min_stake,
        }
        .abi_encode();
        Self {
            target: d.registry,
            data: data.into(),
            salt,
        }
    }

    /// `VerifierRegistry.setVerifier`.
    pub fn set_verifier(d: &Deployment, id: B256, verifier: Address, salt: B256) -> Self {
        let data = VerifierRegistry::setVerifierCall {
            verifierId: id,
            verifier,
        }
        .abi_encode();
        Self {
            target: d.verifiers,
            data: data.into(),
            salt,
        }
    }
}

impl Settlement {
    fn timelock(
        &self,
    ) -> Result<VerityTimelock::VerityTimelockInstance<&alloy::providers::DynProvider>> {
        let t = self.deployment().timelock;
        if t.is_zero() {
            return Err(Error::Decode {
                call: "timelock",
                reason: "this deployment has no timelock (its owner is an account)".into(),
            });
        }
        Ok(VerityTimelock::new(t, self.provider()))
    }

    /// The timelock's delay in seconds.
    pub async fn governance_delay(&self) -> Result<u64> {
        let d = self
            .timelock()?
            .getMinDelay()
            .call()
            .await
            .map_err(|e| Error::from_contract("getMinDelay", Address::ZERO, e))?;
        Ok(d.to::<u64>())
    }

    /// A proposer schedules `call`; it can be executed once the delay has passed.
    pub async fn schedule_governance(
        &self,
        from: Address,
        call: &GovernanceCall,
    ) -> Result<TransactionReceipt> {
        let delay = U256::from(self.governance_delay().await?);
        let tx = self
            .timelock()?
            .schedule(
                call.target,
                U256::ZERO,
                call.data.clone(),
                B256::ZERO,
                call.salt,
                delay,
            )
            .into_transaction_request();
        self.send("schedule", from, tx).await
    }

    /// An executor runs a scheduled `call` whose delay has passed.
    pub async fn execute_governance(
        &self,
        from: Address,
        call: &GovernanceCall,
    ) -> Result<TransactionReceipt> {
        let tx = self
            .timelock()?
            .execute(
                call.target,
                U256::ZERO,
                call.data.clone(),
                B256::ZERO,
                call.salt,
            )
            .into_transaction_request();
        self.send("execute", from, tx).await
    }
}
