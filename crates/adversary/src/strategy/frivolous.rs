//! **Frivolous challenger** (optimistic). Challenges an honest result, to delay its payout or
//! hoping the committee errs. The committee re-executes and confirms the result; a strict
//! majority confirming hands the challenger's bond (equal to the task's collateral) to the
//! operator. Before trust model v2 the same; the issue's "a challenge delays an honest payout
//! for free" holds only when the committee does not reach a majority (see the idle member).
//!
//! One branch (probability 1: the committee is honest): the challenger's measured loss. The
//! honest behaviour of a challenger facing a correct result is not to challenge: payoff 0, no
//! transaction. Detection 1: every frivolous challenge that a majority votes on is lost.

use crate::{
    Result,
    arena::{as_tokens, truth},
    outcome::{Branch, Outcome},
    strategy::{Ctx, honest_slashes},
};

pub(crate) const NAME: &str = "frivolous_challenger";

/// The measured challenge: the challenger's and the honest operator's balance changes.
pub(crate) struct Frivolous {
    pub(crate) challenger: i128,
    pub(crate) operator: i128,
    pub(crate) confirmed: bool,
}

pub(crate) async fn play(c: &Ctx<'_>) -> Result<Frivolous> {
    let a = c.arena;
    let op = a.honest[1];
    let (c0, o0) = (a.worth(&[a.second]).await?, a.worth(&[op]).await?);
    let id = a.open(c.bounty, c.collateral, op).await?;
    a.s.submit_result(op, id, truth()).await?;
    let committee = a.challenge_and_draw(id, a.second).await?;
    a.vote_and_resolve(id, &committee, |_| Some(truth()))
        .await?;
    let d = a.s.case(id).await?;
    Ok(Frivolous {
        challenger: a.worth(&[a.second]).await? - c0,
        operator: a.worth(&[op]).await? - o0,
        confirmed: usize::from(d.agree) * 2 > committee.len(),
    })
}

pub(crate) async fn measure(c: &Ctx<'_>) -> Result<Outcome> {
    let a = c.arena;
    let s0 = honest_slashes(a).await?;
    let f = play(c).await?;
    let honest_slashed = honest_slashes(a).await? > s0;
    Ok(Outcome {
        strategy: NAME.into(),
        unit: c.base.reward,
        honest: Branch {
            name: "does not challenge",
            prob: 1.0,
            payoff: 0,
            work: 0.0,
        },
        branches: vec![Branch {
            name: "challenges an honest result, committee confirms",
            prob: 1.0,
            payoff: f.challenger,
            work: 0.0,
        }],
        honest_slashed,
        detection_rate: if f.confirmed { 1.0 } else { 0.0 },
        note: format!(
            "baseline: not challenging (0); bond lost {:.4}; honest operator got {:+.4} \
             (reward + bond)",
            as_tokens(-f.challenger),
            as_tokens(f.operator)
        ),
        facts: vec![
            ("challenger", f.challenger),
            ("operator", f.operator),
            ("confirmed", i128::from(f.confirmed)),
            ("reward", c.base.reward),
            (
                "collateral",
                i128::try_from(c.collateral).unwrap_or(i128::MAX),
            ),
        ],
    })
}

pub(crate) fn threshold(_p: f64) -> String {
    "never pays while a committee majority votes: the bond (= collateral) goes to the operator"
        .into()
}
