//! **Idle committee member** (optimistic disputes). A member drawn into a dispute committee
//! saves the cost of re-executing the task by not voting. Before the `DisputeCourt`, members
//! were neither paid nor penalised, so idling paid at every cost share > 0, and a committee of
//! idlers let a wrong result stand. Now each drawn member locks a bond (collateral / committee
//! size), votes by commit-reveal, is paid a share of the losing side's forfeit (10 % of the
//! collateral) plus the penalties of the others when it votes with the verdict, and loses half
//! its bond when it idles or votes against the verdict.
//!
//! One branch (probability 1): a cheater is caught and one member idles while the others vote.
//! Measured: the idle member's and a voting member's balance changes. A second play measures
//! what happens when every member idles: no verdict, the case goes to the arbiter, and with a
//! silent arbiter nobody is slashed and the cheater is not paid (shown in the note). The
//! re-execution a vote needs is priced like the task's work (`cost_share × R`).

use crate::{
    Result,
    arena::{as_tokens, truth},
    outcome::{Branch, Outcome},
    strategy::{Ctx, cheat_and_get_challenged, honest_slashes},
};

pub(crate) const NAME: &str = "idle_committee_member";

/// What idling measured.
pub(crate) struct Idle {
    /// The idle member's change.
    pub(crate) idle: i128,
    /// A voting member's change in the same dispute.
    pub(crate) voting: i128,
    /// The cheater's change when the whole committee idles.
    pub(crate) cheater_all_idle: i128,
    pub(crate) slashes: u64,
}

pub(crate) async fn play(c: &Ctx<'_>) -> Result<Idle> {
    let a = c.arena;
    let s0 = honest_slashes(a).await?;
    a.recover(a.cheater, 0).await?;
    let before: Vec<i128> = {
        let mut v = Vec::new();
        for h in &a.honest {
            v.push(a.worth(&[*h]).await?);
        }
        v
    };
    let (id, committee) = cheat_and_get_challenged(c, a.watchtower).await?;
    let idler = committee.first().copied();
    a.vote_and_resolve(id, &committee, |m| (Some(m) != idler).then(truth))
        .await?;
    let mut after = Vec::new();
    for h in &a.honest {
        after.push(a.worth(&[*h]).await?);
    }
    // A member's change (0 for a member outside the honest pool, which none is here).
    let change = |who: Option<&alloy::primitives::Address>| {
        who.and_then(|w| a.honest.iter().position(|h| h == w))
            .map_or(0, |i| after[i] - before[i])
    };
    let idle = change(idler.as_ref());
    let voting = change(committee.get(1));

    a.recover(a.cheater, 0).await?;
    let w0 = a.worth(&[a.cheater]).await?;
    let (id, committee) = cheat_and_get_challenged(c, a.watchtower).await?;
    a.vote_and_resolve(id, &committee, |_| None).await?;
    let cheater_all_idle = a.worth(&[a.cheater]).await? - w0;
    Ok(Idle {
        idle,
        voting,
        cheater_all_idle,
        slashes: honest_slashes(a).await? - s0,
    })
}

pub(crate) async fn measure(c: &Ctx<'_>) -> Result<Outcome> {
    let i = play(c).await?;
    Ok(Outcome {
        strategy: NAME.into(),
        unit: c.base.reward,
        honest: Branch {
            name: "re-executes and votes",
            prob: 1.0,
            payoff: i.voting,
            work: 1.0,
        },
        branches: vec![Branch {
            name: "idles",
            prob: 1.0,
            payoff: i.idle,
            work: 0.0,
        }],
        honest_slashed: i.slashes > 0,
        detection_rate: 0.0,
        note: format!(
            "voting member {:+.4} − work; idle member {:+.4}; all idle: no verdict, silent \
             arbiter, caught cheater ends {:+.4} (not paid)",
            as_tokens(i.voting),
            as_tokens(i.idle),
            as_tokens(i.cheater_all_idle)
        ),
        facts: vec![
            ("idle", i.idle),
            ("voting", i.voting),
            ("cheater_all_idle", i.cheater_all_idle),
            ("reward", c.base.reward),
        ],
    })
}

pub(crate) fn threshold(_p: f64) -> String {
    "pays where the re-execution costs more than a voter's pay plus the idle penalty (pay = \
     (10 % of C + penalties) / voters; penalty = C / (2·size)); both scale with the collateral \
     C, so a fixed 5-token collateral leaves large tasks open until the collateral floor lands"
        .into()
}
