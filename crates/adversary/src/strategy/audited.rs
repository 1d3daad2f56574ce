//! **Naive cheater against drawn audits** (optimistic, trust model v2 part 3). The same cheat
//! as the naive cheater, on the terms the market now enforces on every real deployment: the
//! task is audited with probability `p_a` (the SDK's default, 20 %) by a committee drawn after
//! the result is posted, and its collateral is the floor `C = ⌈R·(1 − p_a)/p_a⌉ + 10 %·R`
//! (`TaskMarket.collateralFloor`). The watchtower still samples at `p`.
//!
//! Branches, each played on chain: neither audited nor sampled, `(1 − p_a)(1 − p)`: the wrong
//! result is paid; audited or sampled: the committee overturns it and the cheater loses `C`
//! (played through the audit: the market draws the audit with no challenger, so no part of the
//! slash comes back to anyone the cheater controls). The honest operator pays the auditors
//! their tenth of the bounty when its task is audited: its expected pay is
//! `(1 − p_a)·R + p_a·R_audited`, both measured.

use crate::{
    Error, Result,
    arena::{STAKE, forged, tokens, truth},
    outcome::{Branch, Outcome},
    strategy::{Ctx, honest_slashes},
};

pub(crate) const NAME: &str = "naive_cheater@audited";

/// Certain audit: the rate a task asks for to play its audited branch.
const ALWAYS: u16 = 10_000;

pub(crate) async fn measure(c: &Ctx<'_>) -> Result<Outcome> {
    let a = c.arena;
    let rate = verity_sdk::DEFAULT_AUDIT_BPS;
    let p_a = f64::from(rate) / 10_000.0;
    let floor = verity_settlement::collateral_floor(c.bounty, rate)
        .ok_or(Error::NoFloor { audit_bps: rate })?;
    let op = a.honest[0];
    a.recover_wei(op, floor.max(tokens(STAKE))).await?;
    a.recover_wei(a.cheater, floor).await?;
    let s0 = honest_slashes(a).await?;

    // The honest operator, audited: its result upheld, the auditors paid from the bounty.
    let w0 = a.worth(&[op]).await?;
    let id = a.open_audited(c.bounty, floor, op, ALWAYS).await?;
    a.s.submit_result(op, id, truth()).await?;
    a.finalize_unchallenged(id).await?;
    let committee = a.draw(id).await?;
    a.vote_and_resolve(id, &committee, |_| Some(truth()))
        .await?;
    let audited_pay = a.worth(&[op]).await? - w0;

    // The cheater, audited: overturned, the floor slashed.
    a.recover_wei(a.cheater, floor).await?;
    let w0 = a.worth(&[a.cheater]).await?;
    let id = a.open_audited(c.bounty, floor, a.cheater, ALWAYS).await?;
    a.s.submit_result(a.cheater, id, forged()).await?;
    a.finalize_unchallenged(id).await?;
    let committee = a.draw(id).await?;
    a.vote_and_resolve(id, &committee, |_| Some(truth()))
        .await?;
    let caught = a.worth(&[a.cheater]).await? - w0;
    let honest_slashed = honest_slashes(a).await? > s0;

    let reward = c.base.reward;
    let honest_ev = reward - ((reward - audited_pay) as f64 * p_a).round() as i128;
    let missed = (1.0 - p_a) * (1.0 - c.p);
    Ok(Outcome {
        strategy: NAME.into(),
        unit: reward,
        honest: Branch {
            name: "honest work, audited at p_a (auditors paid from the bounty)",
            prob: 1.0,
            payoff: honest_ev,
            work: 1.0,
        },
        branches: vec![
            Branch {
                name: "neither audited nor sampled: wrong result paid",
                prob: missed,
                payoff: c.base.cheat_unchallenged,
                work: 0.0,
            },
            Branch {
                name: "audited or sampled: overturned, the floor slashed",
                prob: 1.0 - missed,
                payoff: caught,
                work: 0.0,
            },
        ],
        honest_slashed,
        detection_rate: 1.0 - missed,
        note: format!(
            "p_a = {p_a}, p = {}; collateral floor {:.4}; caught: {:.4} (committee of {}); \
             honest audited: {:.4}",
            c.p,
            crate::arena::as_tokens(i128::try_from(floor).unwrap_or(i128::MAX)),
            crate::arena::as_tokens(caught),
            committee.len(),
            crate::arena::as_tokens(audited_pay)
        ),
        facts: vec![
            ("caught", caught),
            ("floor", i128::try_from(floor).unwrap_or(i128::MAX)),
            ("reward", reward),
            ("audited_pay", audited_pay),
            ("unchallenged", c.base.cheat_unchallenged),
        ],
    })
}

/// Where it stops paying.
pub(crate) fn threshold(p: f64) -> String {
    let p_a = f64::from(verity_sdk::DEFAULT_AUDIT_BPS) / 10_000.0;
    format!(
        "never pays at the floor: caught with probability ≥ p_a = {p_a} (and p = {p} besides), \
         it loses C ≥ R·(1 − p_a)/p_a, so its expectation is at most (1 − p_a)·R − p_a·C ≤ 0 \
         while honest work earns R − c − p_a·10 %·R"
    )
}
