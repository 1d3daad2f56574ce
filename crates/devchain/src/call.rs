//! `eth_call` and `eth_estimateGas`.

use alloy::{
    primitives::{Bytes, U256},
    rpc::types::TransactionRequest,
};
use revm::context::{TxEnv, result::HaltReason};

use crate::{
    error::{Error, Result},
    evm::{
        BlockParams, Outcome, StateDb, intrinsic_gas, request_is_priced, simulate,
        tx_env_from_request,
    },
    state::{ChainState, StateView, Target},
};

impl ChainState {
    /// The state, block env and transaction a call request runs with.
    ///
    /// An unpriced request runs with a base fee of 0 so that it needs no funds for gas
    /// (geth's `NoBaseFee`). A priced request without a gas limit gets at most what the
    /// sender can pay for (geth's rule), not the whole block gas limit.
    fn call_setup(
        &self,
        chain_id: u64,
        req: &TransactionRequest,
        target: Target,
    ) -> Result<(StateView<'_>, BlockParams, TxEnv)> {
        let view = self.state_at(target, chain_id)?;
        let mut params = self.call_params(target);
        let priced = request_is_priced(req);
        if !priced {
            params.base_fee = 0;
        }
        let mut env = tx_env_from_request(req, chain_id, params.gas_limit)?;
        if priced && req.gas.is_none() && env.gas_price > 0 {
            let balance = ChainState::account(&view, env.caller).balance;
            let allowance = balance.saturating_sub(env.value) / U256::from(env.gas_price);
            let allowance = u64::try_from(allowance).unwrap_or(u64::MAX);
            env.gas_limit = env.gas_limit.min(allowance);
        }
        Ok((view, params, env))
    }

    /// `eth_call`: the return data, or the revert as a code-3 error.
    pub(crate) fn call(
        &self,
        chain_id: u64,
        req: &TransactionRequest,
        target: Target,
    ) -> Result<Bytes> {
        let (view, params, env) = self.call_setup(chain_id, req, target)?;
        Outcome::from(simulate(&view, &self.blocks, chain_id, &params, env)?).into_call_result()
    }

    /// `eth_estimateGas`: the smallest gas limit with which the transaction succeeds
    /// (binary search), or the revert as a code-3 error.
    pub(crate) fn estimate_gas(
        &self,
        chain_id: u64,
        req: &TransactionRequest,
        target: Target,
    ) -> Result<u64> {
        let (view, params, env) = self.call_setup(chain_id, req, target)?;
        let cap = env.gas_limit;
        let intrinsic = intrinsic_gas(&env);
        if cap < intrinsic {
            return Err(Error::invalid_tx(format!(
                "gas required exceeds allowance ({cap}): the transaction needs at least \
                 {intrinsic} intrinsic gas (and the sender must pay for its gas at the given \
                 price)"
            )));
        }
        let first = Outcome::from(simulate(
            &view,
            &self.blocks,
            chain_id,
            &params,
            env.clone(),
        )?);
        if !first.success {
            return Err(match first.halt {
                Some(HaltReason::OutOfGas(_)) => {
                    Error::invalid_tx(format!("gas required exceeds allowance ({cap})"))
                }
                _ => first
                    .into_call_result()
                    .expect_err("a failed outcome is an error"),
            });
        }

        let succeeds = |db: &StateDb, gas: u64| {
            let mut env = env.clone();
            env.gas_limit = gas;
            simulate(db, &self.blocks, chain_id, &params, env).is_ok_and(|r| r.is_success())
        };
        // `lo` always fails, `hi` always succeeds.
        let mut lo = first.spent.max(intrinsic).saturating_sub(1);
        let mut hi = cap;
        // Most transactions succeed with what they spent plus the 1/64 held back by calls.
        let optimistic = (first.spent.saturating_add(2_300)).saturating_mul(64) / 63;
        if optimistic < hi {
            if succeeds(&view, optimistic) {
                hi = optimistic;
            } else {
                lo = optimistic;
            }
        }
        while hi - lo > 1 {
            let mid = lo + (hi - lo) / 2;
            if succeeds(&view, mid) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        Ok(hi)
    }
}
