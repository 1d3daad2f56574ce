//! **Committee capture** (optimistic). The cheater posts a wrong digest; once challenged (the
//! watchtower sampled it, probability p) it registers and stakes fresh identities, hoping to
//! be drawn into the committee and uphold its own result. Before trust model v2 the draw read
//! the registration count at draw time and walked every registration, so enough fresh
//! identities captured the committee: the wrong result stood and the cheater also won the
//! challenger's bond (`R + C`). Now draws see only the eligible set as it was at the challenge
//! (`poolSize`, `eligibleSince` before the challenge block).
//!
//! Branches: not sampled (1 − p): a wrong result paid `R`; sampled (p): challenged, fresh
//! identities staked after the challenge, committee drawn; every attacker identity in it votes
//! the wrong digest, every other member the right one. Measured: how many fresh identities
//! were drawn, and the payoff of the cheater plus its fresh identities (their stakes count, so
//! staking costs nothing but locked capital, which is not priced).

use alloy::primitives::Address;

use crate::{
    Result,
    arena::{STAKE, as_tokens, attacker_profile, forged, tokens, truth},
    outcome::{Branch, Outcome},
    strategy::{Ctx, honest_slashes},
};

pub(crate) const NAME: &str = "committee_capture";

/// The measured caught branch and how many fresh identities the committee got.
pub(crate) struct Capture {
    pub(crate) payoff: i128,
    pub(crate) fresh_drawn: usize,
    pub(crate) committee: usize,
}

/// Plays the caught branch.
pub(crate) async fn caught(c: &Ctx<'_>) -> Result<Capture> {
    let a = c.arena;
    a.recover(a.cheater, 0).await?;
    let mut team: Vec<Address> = vec![a.cheater];
    team.extend(&a.fresh);
    let w0 = a.worth(&team).await?;
    let id = a.open(c.bounty, c.collateral, a.cheater).await?;
    a.s.submit_result(a.cheater, id, forged()).await?;
    a.s.challenge(a.watchtower, id).await?;
    for (i, who) in a.fresh.iter().enumerate() {
        if !a.s.operator(*who).await?.registered {
            a.s.register(*who, &attacker_profile(i)).await?;
        }
        a.s.stake(*who, tokens(STAKE)).await?;
    }
    let committee = a.draw(id).await?;
    let fresh_drawn = committee.iter().filter(|m| a.fresh.contains(m)).count();
    a.vote_and_resolve(id, &committee, |m| {
        Some(if a.fresh.contains(&m) {
            forged()
        } else {
            truth()
        })
    })
    .await?;
    let payoff = a.worth(&team).await? - w0;
    // Leave the eligible set again (stake moves to unbonding, still counted as theirs), so
    // later rows' committees are not the attacker's.
    for who in &a.fresh {
        a.s.request_unstake(*who, tokens(STAKE)).await?;
    }
    Ok(Capture {
        payoff,
        fresh_drawn,
        committee: committee.len(),
    })
}

pub(crate) async fn measure(c: &Ctx<'_>) -> Result<Outcome> {
    let a = c.arena;
    let s0 = honest_slashes(a).await?;
    let cap = caught(c).await?;
    let honest_slashed = honest_slashes(a).await? > s0;
    Ok(Outcome {
        strategy: NAME.into(),
        unit: c.base.reward,
        honest: c.base.honest(),
        branches: vec![
            c.base.unwatched(1.0 - c.p),
            Branch {
                name: "sampled: fresh identities staked after the challenge",
                prob: c.p,
                payoff: cap.payoff,
                work: 0.0,
            },
        ],
        honest_slashed,
        detection_rate: c.p,
        note: format!(
            "{} fresh staked after the challenge, {} of {} members fresh; caught: {:.4}",
            a.fresh.len(),
            cap.fresh_drawn,
            cap.committee,
            as_tokens(cap.payoff)
        ),
        facts: vec![
            ("caught", cap.payoff),
            ("fresh_drawn", cap.fresh_drawn as i128),
            ("committee", cap.committee as i128),
            (
                "collateral",
                i128::try_from(c.collateral).unwrap_or(i128::MAX),
            ),
        ],
    })
}

pub(crate) fn threshold(p: f64) -> String {
    format!(
        "capture itself never works (0 fresh identities drawn); what remains is the naive \
         cheat: pays iff s > p·(1 + C/R), p = {p}"
    )
}
