//! The strategies, one module each. Every module's doc says what the attacker does, what it
//! gained before trust model v2 and what it gains now, and which branch probabilities it uses.

pub(crate) mod audited;
pub(crate) mod capture;
pub(crate) mod frivolous;
pub(crate) mod front_run;
pub(crate) mod griefing;
pub(crate) mod idle;
pub(crate) mod junk;
pub(crate) mod naive;
pub(crate) mod seed_aware;
pub(crate) mod self_challenge;
pub(crate) mod sybil;

use alloy::primitives::{Address, U256};
use verity_settlement::TaskId;

use crate::{
    Result,
    arena::{Arena, STAKE, forged, tokens, truth},
    outcome::Branch,
};

/// Everything a strategy needs for one bounty.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Ctx<'a> {
    pub(crate) arena: &'a Arena,
    pub(crate) bounty: U256,
    pub(crate) collateral: U256,
    /// The watchtower's sample rate (its default).
    pub(crate) p: f64,
    pub(crate) base: &'a Baseline,
}

/// Branches every optimistic strategy shares, measured once per (bounty, collateral).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Baseline {
    /// An honest operator's gain from one task (the reward), wei.
    pub(crate) reward: i128,
    /// The assigning coordinator's gain from that task (the scheduler fee), wei.
    pub(crate) coordinator_fee: i128,
    /// A cheater's gain from a wrong result nobody challenges, wei.
    pub(crate) cheat_unchallenged: i128,
}

impl Baseline {
    /// Plays an honest task and an unchallenged cheat.
    pub(crate) async fn measure(a: &Arena, bounty: U256, collateral: U256) -> Result<Baseline> {
        let op = a.honest[0];
        a.recover(a.cheater, 0).await?;
        // Room for the collateral (a stake above the weight cap changes no draw).
        a.recover_wei(op, collateral.max(tokens(STAKE))).await?;
        let who = [op, a.coordinator];
        let (op0, c0) = (a.worth(&who[..1]).await?, a.worth(&who[1..]).await?);
        let id = a.open(bounty, collateral, op).await?;
        a.s.submit_result(op, id, truth()).await?;
        a.finalize_unchallenged(id).await?;
        let reward = a.worth(&who[..1]).await? - op0;
        let coordinator_fee = a.worth(&who[1..]).await? - c0;

        let w0 = a.worth(&[a.cheater]).await?;
        let id = a.open(bounty, collateral, a.cheater).await?;
        a.s.submit_result(a.cheater, id, forged()).await?;
        a.finalize_unchallenged(id).await?;
        let cheat_unchallenged = a.worth(&[a.cheater]).await? - w0;
        Ok(Baseline {
            reward,
            coordinator_fee,
            cheat_unchallenged,
        })
    }

    /// The honest operator's branch: the reward, one unit of work.
    pub(crate) fn honest(&self) -> Branch {
        Branch {
            name: "honest work",
            prob: 1.0,
            payoff: self.reward,
            work: 1.0,
        }
    }

    /// The cheater's branch when nobody watches.
    pub(crate) fn unwatched(&self, prob: f64) -> Branch {
        Branch {
            name: "not sampled: wrong result paid",
            prob,
            payoff: self.cheat_unchallenged,
            work: 0.0,
        }
    }
}

/// The cheater opens a task and posts a wrong digest; `challenger` challenges it and the
/// committee is drawn. Returns the task and its committee.
pub(crate) async fn cheat_and_get_challenged(
    c: &Ctx<'_>,
    challenger: Address,
) -> Result<(TaskId, Vec<Address>)> {
    let a = c.arena;
    let id = a.open(c.bounty, c.collateral, a.cheater).await?;
    a.s.submit_result(a.cheater, id, forged()).await?;
    let committee = a.challenge_and_draw(id, challenger).await?;
    Ok((id, committee))
}

/// Honest operators' slash count (the pool, the Sybil strategy's victims included).
pub(crate) async fn honest_slashes(a: &Arena) -> Result<u64> {
    a.slashes(&a.honest).await
}
