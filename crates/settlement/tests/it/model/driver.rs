//! Sends a model [`Call`] to the chain through the typed client.

use alloy::primitives::{Address, U256};
use verity_settlement::{Error, Settlement};

use super::reference::{Call, Effect};

/// Sends `call` from `from`; `Call::Mine` must be handled by the caller.
pub async fn send(s: &Settlement, from: Address, call: &Call) -> Result<Effect, Error> {
    let id = |i: &u64| U256::from(*i);
    match call {
        Call::CreateTask(req) => {
            let (task, _) = s.create_task(from, req).await?;
            return Ok(Effect::Created(task.to::<u64>()));
        }
        Call::Cancel(i) => s.cancel(from, id(i)).await?,
        Call::Assign(i, ops) => s.assign(from, id(i), ops).await?,
        Call::AssignBatch(batch) => {
            let ids: Vec<U256> = batch.iter().map(|(i, _)| id(i)).collect();
            let ops: Vec<Vec<Address>> = batch.iter().map(|(_, o)| o.clone()).collect();
            s.assign_batch(from, &ids, &ops).await?
        }
        Call::Reassign(i, seat, to) => s.reassign(from, id(i), *seat, *to).await?,
        Call::Commit(i, c) => s.commit(from, id(i), *c).await?,
        Call::Reveal(i, d, salt) => s.reveal(from, id(i), *d, *salt).await?,
        Call::Decline(i) => s.decline(from, id(i)).await?,
        Call::SubmitResult(i, d) => {
            let receipt = s.submit_result(from, id(i), *d).await?;
            let block = receipt.block_number.expect("a mined receipt has a block");
            return Ok(Effect::Submitted(block));
        }
        Call::SubmitProof(i, d, proof) => s.submit_proof(from, id(i), *d, proof.clone()).await?,
        Call::Finalize(i) => s.finalize(from, id(i)).await?,
        Call::ClaimTimeout(i) => s.claim_timeout(from, id(i)).await?,
        Call::Challenge(i) => s.challenge(from, id(i)).await?,
        Call::RollAudit(i) => s.roll_audit(from, id(i)).await?,
        Call::Draw(i) => s.draw_committee(from, id(i)).await?,
        Call::CommitBallot(i, d, salt) => s.commit_ballot(from, id(i), *d, *salt).await?,
        Call::RevealBallot(i, d, salt) => s.reveal_ballot(from, id(i), *d, *salt).await?,
        Call::Tally(i) => s.tally(from, id(i)).await?,
        Call::Arbitrate(i, overturn) => s.arbitrate(from, id(i), *overturn).await?,
        Call::ResolveDispute(i) => s.resolve_dispute(from, id(i)).await?,
        Call::Withdraw => return Ok(Effect::Withdrawn(s.withdraw(from).await?)),
        Call::CourtWithdraw => return Ok(Effect::Withdrawn(s.court_withdraw(from).await?)),
        Call::Deposit(a) => s.deposit(from, *a).await?,
        Call::Stake(a) => s.stake(from, *a).await?,
        Call::RequestUnstake(a) => s.request_unstake(from, *a).await?,
        Call::WithdrawUnbonded => s.withdraw_unbonded(from).await?,
        Call::Mine => unreachable!("mined by the runner"),
        Call::SetFees(p, sch) => s.set_fees(from, *p, *sch).await?,
        Call::SetDisputeParams(size, window, reveal) => {
            s.set_dispute_params(from, *size, *window, *reveal).await?
        }
        Call::SetTreasury(who) => s.set_treasury(from, *who).await?,
        Call::SetCoordinator(who, allowed) => s.set_coordinator(from, *who, *allowed).await?,
        Call::SetMinStake(amount) => s.set_min_stake(from, *amount).await?,
        Call::SetJailDuration(secs) => s.set_jail_duration(from, *secs).await?,
        Call::SetUnbondingDelay(secs) => s.set_unbonding_delay(from, *secs).await?,
    };
    Ok(Effect::None)
}
