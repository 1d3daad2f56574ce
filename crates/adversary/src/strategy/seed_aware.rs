//! **Seed-aware cheater** (optimistic). The watchtower samples with
//! `verity_node::watchtower::is_sampled(seed, task_id, rate)`, a public function of a seed that
//! defaults to 0 in `[watchtower]` (config/node.example.toml) and is never mixed with anything
//! secret. The cheater computes it for its own task: where the default watchtower will look it
//! does the work, elsewhere it posts a wrong digest. Every default watchtower watches the same
//! tasks, so nothing ever catches it.
//!
//! Branches: sampled (p̂, the share of ids the real function samples): honest work, `R − c`;
//! not sampled (1 − p̂): a wrong result paid `R`, no work. Detection 0. Trust model v2 has not
//! changed this (on-chain audits drawn after the result are still to do): it pays whenever the
//! work costs anything. A watchtower configured with a secret seed reduces it to the naive
//! cheater.

use alloy::primitives::U256;
use verity_node::watchtower::is_sampled;

use crate::{
    Error, Result,
    arena::{forged, truth},
    outcome::{Branch, Outcome},
    strategy::{Ctx, honest_slashes},
};

pub(crate) const NAME: &str = "seed_aware_cheater";

/// Task ids over which the sampled share of the real function is counted.
const IDS: u64 = 100_000;
/// Tasks created at most while looking for one of each kind.
const TRIES: u32 = 200;

/// The share of task ids `1..=IDS` the watchtower with `seed` samples at `rate`.
pub(crate) fn sampled_share(seed: u64, rate: f64) -> f64 {
    let n = (1..=IDS)
        .filter(|i| is_sampled(seed, U256::from(*i), rate))
        .count();
    n as f64 / IDS as f64
}

pub(crate) async fn measure(c: &Ctx<'_>) -> Result<Outcome> {
    let a = c.arena;
    let wt = verity_node::config::WatchtowerConfig::default();
    let p_hat = sampled_share(wt.seed, c.p);
    a.recover(a.cheater, 0).await?;
    let s0 = honest_slashes(a).await?;
    let mut cheated = 0u32;
    let mut caught = 0u32;
    let mut watched_payoff = None;
    let mut unwatched_payoff = None;
    for _ in 0..TRIES {
        if watched_payoff.is_some() && unwatched_payoff.is_some() {
            break;
        }
        let req = a
            .request(verity_settlement::Mode::Optimistic, c.bounty, c.collateral)
            .await?;
        let (id, _) = a.s.create_task(a.client, &req).await?;
        let watched = is_sampled(wt.seed, id, c.p);
        let slot = if watched {
            &mut watched_payoff
        } else {
            &mut unwatched_payoff
        };
        if slot.is_some() {
            // Already measured this kind: the client takes the task back.
            a.s.cancel(a.client, id).await?;
            continue;
        }
        let w0 = a.worth(&[a.cheater]).await?;
        a.s.assign(a.coordinator, id, &[a.cheater]).await?;
        if watched {
            a.s.submit_result(a.cheater, id, truth()).await?;
        } else {
            cheated += 1;
            a.s.submit_result(a.cheater, id, forged()).await?;
            // The default watchtower challenges exactly what it samples.
            if is_sampled(wt.seed, id, c.p) {
                caught += 1;
            }
        }
        a.finalize_unchallenged(id).await?;
        *slot = Some(a.worth(&[a.cheater]).await? - w0);
    }
    let (Some(watched), Some(unwatched)) = (watched_payoff, unwatched_payoff) else {
        return Err(Error::NoSuchTask {
            sampled: watched_payoff.is_none(),
            tries: TRIES,
        });
    };
    let honest_slashed = honest_slashes(a).await? > s0;
    Ok(Outcome {
        strategy: NAME.into(),
        unit: c.base.reward,
        honest: c.base.honest(),
        branches: vec![
            Branch {
                name: "sampled by seed 0: does the work",
                prob: p_hat,
                payoff: watched,
                work: 1.0,
            },
            Branch {
                name: "not sampled: wrong result paid",
                prob: 1.0 - p_hat,
                payoff: unwatched,
                work: 0.0,
            },
        ],
        honest_slashed,
        detection_rate: if cheated == 0 {
            0.0
        } else {
            f64::from(caught) / f64::from(cheated)
        },
        note: format!(
            "seed {} (default) samples {:.4} of ids 1..{IDS}; caught {caught} of {cheated} cheats",
            wt.seed, p_hat
        ),
        facts: vec![
            ("cheated", i128::from(cheated)),
            ("caught", i128::from(caught)),
            ("watched", watched),
            ("unwatched", unwatched),
        ],
    })
}

pub(crate) fn threshold(_p: f64) -> String {
    "pays at every cost share > 0 and every collateral (detection 0 against the default \
     public seed); only a secret watchtower seed or an on-chain audit drawn after the result \
     stops it"
        .into()
}
