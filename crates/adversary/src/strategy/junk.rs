//! **Junk registrations** (optimistic). The cheater registers many identities without stake,
//! before the challenge, so that the committee draw walks them and comes back empty. Before
//! trust model v2 the draw walked every registration and "no committee" let the challenged
//! result stand and be paid, so a caught cheater still got `R`. Now only the eligible set
//! (staked at least `minStake`, not jailed) is drawn from, and an empty committee would refund
//! the client with nobody paid.
//!
//! Branches: not sampled (1 − p): a wrong result paid `R`; sampled (p): challenged with the
//! junk registered, committee drawn and voting. Measured: the committee size (it fills) and the
//! payoff of the cheater plus the junk identities, whose registrations cost no tokens (gas is
//! not counted anywhere in this benchmark). The attack adds nothing to the naive cheat.

use alloy::primitives::Address;

use crate::{
    Result,
    arena::{as_tokens, attacker_profile, truth},
    outcome::{Branch, Outcome},
    strategy::{Ctx, cheat_and_get_challenged, honest_slashes},
};

pub(crate) const NAME: &str = "junk_registrations";

/// The measured caught branch.
pub(crate) struct Junk {
    pub(crate) payoff: i128,
    /// What registering cost the junk identities (tokens; gas not counted).
    pub(crate) registration_cost: i128,
    pub(crate) committee: usize,
    pub(crate) registered: usize,
}

pub(crate) async fn caught(c: &Ctx<'_>) -> Result<Junk> {
    let a = c.arena;
    a.recover(a.cheater, 0).await?;
    let mut team: Vec<Address> = vec![a.cheater];
    team.extend(&a.junk);
    let w0 = a.worth(&team).await?;
    let j0 = a.worth(&a.junk).await?;
    for (i, who) in a.junk.iter().enumerate() {
        if !a.s.operator(*who).await?.registered {
            a.s.register(*who, &attacker_profile(100 + i)).await?;
        }
    }
    let registration_cost = a.worth(&a.junk).await? - j0;
    let registered = a.s.operators().await?.len();
    let (id, committee) = cheat_and_get_challenged(c, a.watchtower).await?;
    a.vote_and_resolve(id, &committee, |_| Some(truth()))
        .await?;
    Ok(Junk {
        payoff: a.worth(&team).await? - w0,
        registration_cost,
        committee: committee.len(),
        registered,
    })
}

pub(crate) async fn measure(c: &Ctx<'_>) -> Result<Outcome> {
    let a = c.arena;
    let s0 = honest_slashes(a).await?;
    let j = caught(c).await?;
    let honest_slashed = honest_slashes(a).await? > s0;
    let eligible = a.s.eligible_set().await?.len();
    Ok(Outcome {
        strategy: NAME.into(),
        unit: c.base.reward,
        honest: c.base.honest(),
        branches: vec![
            c.base.unwatched(1.0 - c.p),
            Branch {
                name: "sampled: challenged with junk registered",
                prob: c.p,
                payoff: j.payoff,
                work: 0.0,
            },
        ],
        honest_slashed,
        detection_rate: c.p,
        note: format!(
            "{} junk of {} registrations, {eligible} eligible; committee {} of {}; junk cost {:.4} \
             (gas not counted); caught: {:.4}",
            a.junk.len(),
            j.registered,
            j.committee,
            a.committee_size,
            as_tokens(j.registration_cost),
            as_tokens(j.payoff)
        ),
        facts: vec![
            ("caught", j.payoff),
            ("committee", j.committee as i128),
            ("registration_cost", j.registration_cost),
            ("registered", j.registered as i128),
            ("eligible", eligible as i128),
            (
                "collateral",
                i128::try_from(c.collateral).unwrap_or(i128::MAX),
            ),
        ],
    })
}

pub(crate) fn threshold(p: f64) -> String {
    format!(
        "junk never enters the draw (committee full); what remains is the naive cheat: pays \
         iff s > p·(1 + C/R), p = {p}"
    )
}
