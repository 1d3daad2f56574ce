//! **Naive cheater** (optimistic). The operator posts a wrong digest without doing the work.
//! A watchtower re-executes a share `p` of results (`[watchtower] sample_rate`, default 0.1);
//! when it samples this one it challenges, and a committee of honest operators overturns the
//! result: the cheater loses its collateral `C`.
//!
//! Branches: not sampled (1 − p): the wrong result is paid the reward `R`, no work; sampled
//! (p): challenged and overturned, `−C`. Before trust model v2 the same (the slash went to the
//! challenger instead of mostly the treasury, which does not change the cheater's loss). It
//! pays whenever the work costs more than `p·(R + C)`: at the SDK's default collateral of
//! 5 tokens that is nearly every task above a few tokens of bounty.

use crate::{
    Result,
    arena::truth,
    outcome::{Branch, Outcome},
    strategy::{Ctx, cheat_and_get_challenged, honest_slashes},
};

pub(crate) const NAME: &str = "naive_cheater";

pub(crate) async fn measure(c: &Ctx<'_>) -> Result<Outcome> {
    let a = c.arena;
    a.recover(a.cheater, 0).await?;
    let s0 = honest_slashes(a).await?;
    let w0 = a.worth(&[a.cheater]).await?;
    let (id, committee) = cheat_and_get_challenged(c, a.watchtower).await?;
    a.vote_and_resolve(id, &committee, |_| Some(truth()))
        .await?;
    let caught = a.worth(&[a.cheater]).await? - w0;
    let honest_slashed = honest_slashes(a).await? > s0;
    Ok(Outcome {
        strategy: NAME.into(),
        unit: c.base.reward,
        honest: c.base.honest(),
        branches: vec![
            c.base.unwatched(1.0 - c.p),
            Branch {
                name: "sampled: challenged, overturned",
                prob: c.p,
                payoff: caught,
                work: 0.0,
            },
        ],
        honest_slashed,
        detection_rate: c.p,
        note: format!(
            "p = {}; caught: {:.4} (committee of {}), not caught: {:+.4}",
            c.p,
            crate::arena::as_tokens(caught),
            committee.len(),
            crate::arena::as_tokens(c.base.cheat_unchallenged)
        ),
        facts: vec![
            ("caught", caught),
            (
                "collateral",
                i128::try_from(c.collateral).unwrap_or(i128::MAX),
            ),
            ("reward", c.base.reward),
            ("unchallenged", c.base.cheat_unchallenged),
        ],
    })
}

/// Where it stops paying.
pub(crate) fn threshold(p: f64) -> String {
    format!(
        "pays iff cost share s > p·(1 + C/R); at p = {p}: collateral/reward C/R ≥ s/p − 1 \
         (= {:.0} at s = 1, {:.0} at s = 0.5, 0 at s = 0.1) stops it",
        1.0 / p - 1.0,
        0.5 / p - 1.0
    )
}
