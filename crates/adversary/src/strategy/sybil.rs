//! **Sybil seat holders** (replicated, 3 seats, quorum 2). The attacker runs several staked
//! identities. The coordinator still chooses the seats on main, so a coordinator colluding with
//! the attacker gives it 2 of 3 seats: both reveal the same forged digest without working, the
//! forgery is the majority and is paid, and the honest third seat is slashed as a dissenter.
//! Trust model v2's first part has not changed this (seats drawn by the chain and disagreement
//! opening a dispute are still to do); it pays at every stake share and slashes an honest
//! operator every time.
//!
//! Without a colluding coordinator the seats are modelled as drawn uniformly over stake: each
//! seat is the attacker's with probability `f` (its stake share; 20 %, 30 %, 50 %), so it holds
//! k of 3 seats with probability C(3,k)·f^k·(1−f)^(3−k). With 2 or 3 seats it forges (measured:
//! the 2-of-3 forgery, and all 3 seats forging); with 1 seat it works honestly (forging alone
//! would be slashed as dissent); the honest alternative works every seat it gets (3f seats).
//! Detection is 0: nothing audits a replicated majority on main.

use alloy::primitives::{Address, B256};
use verity_settlement::{Mode, TaskId};

use crate::{
    Result,
    arena::{Arena, STAKE, as_tokens, attacker_profile, forged, tokens, truth},
    outcome::{Branch, Outcome},
    strategy::{Ctx, honest_slashes},
};

pub(crate) const COLLUDING: &str = "sybil_seats_colluding_coordinator";
/// Stake shares of the uniform-draw rows.
pub(crate) const SHARES: [f64; 3] = [0.2, 0.3, 0.5];

/// What the replicated plays measured.
pub(crate) struct Sybil {
    /// One honest seat's gain when all three seats are honest.
    pub(crate) seat: i128,
    /// The attacker's two seats' gain from the 2-of-3 forgery.
    pub(crate) forged_two: i128,
    /// The honest third seat's change in the 2-of-3 forgery.
    pub(crate) victim: i128,
    /// Honest slashes in the 2-of-3 forgery.
    pub(crate) victim_slashes: u64,
    /// The attacker's gain with all three seats forging.
    pub(crate) forged_three: i128,
}

/// Opens a replicated task with `seats`, has each seat commit and reveal its digest, and
/// finalizes it.
async fn replicated(c: &Ctx<'_>, seats: &[(Address, B256)]) -> Result<TaskId> {
    let a = c.arena;
    let req = a.request(Mode::Replicated, c.bounty, c.collateral).await?;
    let (id, _) = a.s.create_task(a.client, &req).await?;
    let ops: Vec<Address> = seats.iter().map(|(o, _)| *o).collect();
    a.s.assign(a.coordinator, id, &ops).await?;
    let d = a.s.deployment();
    for (i, (op, digest)) in seats.iter().enumerate() {
        let salt = B256::with_last_byte(i as u8 + 1);
        let commitment =
            verity_settlement::commitment(a.s.chain_id(), d.market, id, *op, *digest, salt);
        a.s.commit(*op, id, commitment).await?;
    }
    for (i, (op, digest)) in seats.iter().enumerate() {
        a.s.reveal(*op, id, *digest, B256::with_last_byte(i as u8 + 1))
            .await?;
    }
    a.s.finalize(a.owner, id).await?;
    Ok(id)
}

async fn enter(a: &Arena) -> Result<()> {
    for (i, who) in a.sybils.iter().enumerate() {
        if !a.s.operator(*who).await?.registered {
            a.s.register(*who, &attacker_profile(50 + i)).await?;
        }
        a.s.stake(*who, tokens(STAKE)).await?;
    }
    Ok(())
}

async fn leave(a: &Arena) -> Result<()> {
    for who in &a.sybils {
        a.s.request_unstake(*who, tokens(STAKE)).await?;
    }
    Ok(())
}

pub(crate) async fn play(c: &Ctx<'_>) -> Result<Sybil> {
    let a = c.arena;
    let (h, victim, sy) = (&a.honest[3..6], a.honest[4], &a.sybils);
    for op in h {
        a.recover(*op, STAKE).await?;
    }
    enter(a).await?;

    let s0 = a.worth(&h[..1]).await?;
    replicated(c, &[(h[0], truth()), (h[1], truth()), (h[2], truth())]).await?;
    let seat = a.worth(&h[..1]).await? - s0;

    let pair = &sy[..2];
    let (p0, v0, k0) = (
        a.worth(pair).await?,
        a.worth(&[victim]).await?,
        honest_slashes(a).await?,
    );
    replicated(
        c,
        &[(sy[0], forged()), (sy[1], forged()), (victim, truth())],
    )
    .await?;
    let forged_two = a.worth(pair).await? - p0;
    let victim_change = a.worth(&[victim]).await? - v0;
    let victim_slashes = honest_slashes(a).await? - k0;

    let t0 = a.worth(sy).await?;
    replicated(
        c,
        &[(sy[0], forged()), (sy[1], forged()), (sy[2], forged())],
    )
    .await?;
    let forged_three = a.worth(sy).await? - t0;

    leave(a).await?;
    a.recover(victim, STAKE).await?;
    Ok(Sybil {
        seat,
        forged_two,
        victim: victim_change,
        victim_slashes,
        forged_three,
    })
}

/// P(the attacker holds exactly k of 3 seats) at stake share f.
pub(crate) fn seats_prob(f: f64, k: i32) -> f64 {
    let binom = [1.0, 3.0, 3.0, 1.0][k as usize];
    binom * f.powi(k) * (1.0 - f).powi(3 - k)
}

pub(crate) fn name(f: f64) -> String {
    format!("sybil_seats_{:.0}pct_stake_uniform_draw", f * 100.0)
}

pub(crate) async fn measure(c: &Ctx<'_>) -> Result<Vec<Outcome>> {
    let m = play(c).await?;
    let slashed = m.victim_slashes > 0;
    let facts = vec![
        ("seat", m.seat),
        ("forged_two", m.forged_two),
        ("victim", m.victim),
        ("victim_slashes", i128::from(m.victim_slashes)),
        ("forged_three", m.forged_three),
        (
            "collateral",
            i128::try_from(c.collateral).unwrap_or(i128::MAX),
        ),
    ];
    let mut out = vec![Outcome {
        strategy: COLLUDING.into(),
        unit: m.seat,
        honest: Branch {
            name: "2 seats, honest work",
            prob: 1.0,
            payoff: 2 * m.seat,
            work: 2.0,
        },
        branches: vec![Branch {
            name: "2 of 3 seats forge",
            prob: 1.0,
            payoff: m.forged_two,
            work: 0.0,
        }],
        honest_slashed: slashed,
        detection_rate: 0.0,
        note: format!(
            "seats chosen by the coordinator; forged pair {:+.4}, honest third {:+.4} (slashed as \
             dissent); honest seat {:+.4}",
            as_tokens(m.forged_two),
            as_tokens(m.victim),
            as_tokens(m.seat)
        ),
        facts: facts.clone(),
    }];
    for f in SHARES {
        let p2 = seats_prob(f, 2) + seats_prob(f, 3);
        out.push(Outcome {
            strategy: name(f),
            unit: m.seat,
            honest: Branch {
                name: "every seat held, honest work",
                prob: 1.0,
                payoff: (3.0 * f * m.seat as f64) as i128,
                work: 3.0 * f,
            },
            branches: vec![
                Branch {
                    name: "3 of 3 seats: all forge",
                    prob: seats_prob(f, 3),
                    payoff: m.forged_three,
                    work: 0.0,
                },
                Branch {
                    name: "2 of 3 seats: forge, honest third slashed",
                    prob: seats_prob(f, 2),
                    payoff: m.forged_two,
                    work: 0.0,
                },
                Branch {
                    name: "1 of 3 seats: honest work",
                    prob: seats_prob(f, 1),
                    payoff: m.seat,
                    work: 1.0,
                },
                Branch {
                    name: "no seat",
                    prob: seats_prob(f, 0),
                    payoff: 0,
                    work: 0.0,
                },
            ],
            honest_slashed: slashed && seats_prob(f, 2) > 0.0,
            detection_rate: 0.0,
            note: format!(
                "seats uniform over stake, f = {f}: P(>=2 of 3) = {p2:.3}, honest slashed with \
                 P(2 of 3) = {:.3}",
                seats_prob(f, 2)
            ),
            facts: facts.clone(),
        });
    }
    Ok(out)
}

pub(crate) fn threshold(_p: f64) -> String {
    "with a colluding coordinator: pays at any stake share (2 identities with 2 collaterals of \
     free stake suffice), an honest seat slashed every time; with seats uniform over stake: \
     pays at every share > 0, since P(>=2 of 3) = 3f²−2f³ > 0 (0.104 at 20 %, 0.216 at 30 %, \
     0.5 at 50 %) and nothing audits replicated majorities"
        .into()
}

#[cfg(test)]
mod tests {
    use super::seats_prob;

    #[test]
    fn seat_probabilities_sum_to_one_and_match_the_closed_form() {
        for f in [0.2, 0.3, 0.5] {
            let total: f64 = (0..=3).map(|k| seats_prob(f, k)).sum();
            assert!((total - 1.0).abs() < 1e-12);
            let two_or_more = seats_prob(f, 2) + seats_prob(f, 3);
            assert!((two_or_more - (3.0 * f * f - 2.0 * f * f * f)).abs() < 1e-12);
        }
        assert!((seats_prob(0.5, 2) + seats_prob(0.5, 3) - 0.5).abs() < 1e-12);
    }
}
