//! **Self-challenger** (optimistic). A cheater that, when the watchtower would catch it,
//! challenges its own wrong result first from a second address it controls; the committee
//! overturns the result as it would have anyway.
//!
//! Branches: not sampled (1 − p): a wrong result paid `R`; sampled (p): the pair (operator and
//! second address) ends `−C + 0.2·C = −0.8·C` (the challenger's bond back plus
//! `CHALLENGE_REWARD_BPS` = 20 % of the slashed collateral; the rest goes to the treasury).
//! Before trust model v2 the challenger took the whole slashed collateral, so the pair lost
//! nothing and the caught branch was free. Now a self-challenge softens the loss by a fifth but
//! cannot make cheating pay where the naive cheat does not.

use crate::{
    Result,
    arena::{as_tokens, truth},
    outcome::{Branch, Outcome},
    strategy::{Ctx, cheat_and_get_challenged, honest_slashes},
};

pub(crate) const NAME: &str = "self_challenger";

pub(crate) async fn measure(c: &Ctx<'_>) -> Result<Outcome> {
    let a = c.arena;
    a.recover(a.cheater, 0).await?;
    let pair = [a.cheater, a.second];
    let s0 = honest_slashes(a).await?;
    let w0 = a.worth(&pair).await?;
    let (id, committee) = cheat_and_get_challenged(c, a.second).await?;
    a.vote_and_resolve(id, &committee, |_| Some(truth()))
        .await?;
    let caught = a.worth(&pair).await? - w0;
    let honest_slashed = honest_slashes(a).await? > s0;
    Ok(Outcome {
        strategy: NAME.into(),
        unit: c.base.reward,
        honest: c.base.honest(),
        branches: vec![
            c.base.unwatched(1.0 - c.p),
            Branch {
                name: "sampled: challenges itself first, overturned",
                prob: c.p,
                payoff: caught,
                work: 0.0,
            },
        ],
        honest_slashed,
        detection_rate: c.p,
        note: format!(
            "p = {}; pair when caught: {:.4} = {:.2} of C (before v2: 0)",
            c.p,
            as_tokens(caught),
            caught as f64 / f64::from(c.collateral)
        ),
        facts: vec![
            ("caught_pair", caught),
            (
                "collateral",
                i128::try_from(c.collateral).unwrap_or(i128::MAX),
            ),
            ("committee", committee.len() as i128),
        ],
    })
}

pub(crate) fn threshold(p: f64) -> String {
    format!(
        "pays iff s > p·(1 + 0.8·C/R); at p = {p}: C/R ≥ (s/p − 1)/0.8 (= {:.2} at s = 1) stops it",
        (1.0 / p - 1.0) / 0.8
    )
}
