//! **Seed-aware cheater** (optimistic). The watchtower samples with
//! `verity_node::watchtower::is_sampled(seed, task_id, rate)`. Its seed used to default to 0
//! in `[watchtower]`, so a cheater computed the function for its own task, did the work where
//! the default watchtower would look and cheated elsewhere: nothing ever caught it. Now the seed
//! is unset by default and each watchtower draws a secret random one at start: the cheater can
//! still compute the old public function, but it no longer predicts what is watched.
//!
//! Branches: the old seed says "sampled" (p̂): honest work, `R − c`; it says "not sampled" and
//! the secret-seed watchtower samples it anyway ((1 − p̂)·q, q measured over the same ids):
//! challenged and overturned; not sampled by either: a wrong result paid `R`. The residual is
//! the naive cheater's (spot checks at rate p; on-chain audits are still to do).

use alloy::primitives::U256;
use verity_node::watchtower::is_sampled;

use crate::{
    Error, Result,
    arena::{forged, truth},
    outcome::{Branch, Outcome},
    strategy::{Ctx, cheat_and_get_challenged, honest_slashes},
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

/// Of the ids `1..=IDS` that the public seed 0 leaves unsampled (where the cheater cheats), the
/// share the watchtower with the secret `seed` samples.
pub(crate) fn caught_share(seed: u64, rate: f64) -> f64 {
    let (mut cheated, mut caught) = (0u64, 0u64);
    for i in 1..=IDS {
        let id = U256::from(i);
        if !is_sampled(PUBLIC_SEED, id, rate) {
            cheated += 1;
            caught += u64::from(is_sampled(seed, id, rate));
        }
    }
    if cheated == 0 {
        0.0
    } else {
        caught as f64 / cheated as f64
    }
}

/// The seed every watchtower used before seeds became secret: what the cheater still computes.
const PUBLIC_SEED: u64 = 0;

pub(crate) async fn measure(c: &Ctx<'_>) -> Result<Outcome> {
    let a = c.arena;
    let wt = verity_node::config::WatchtowerConfig::default();
    // Unset in the default configuration: the watchtower draws a secret seed, as here.
    let secret = wt.seed.unwrap_or_else(rand::random);
    let p_hat = sampled_share(PUBLIC_SEED, c.p);
    let q = caught_share(secret, c.p);
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
        let watched = is_sampled(PUBLIC_SEED, id, c.p);
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
            // This task's fate under the secret seed (the branch weights use `q`, measured
            // over many ids, not this one coin).
            if is_sampled(secret, id, c.p) {
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
    // The caught branch, played: a wrong result challenged and overturned.
    a.recover(a.cheater, 0).await?;
    let w0 = a.worth(&[a.cheater]).await?;
    let (id, committee) = cheat_and_get_challenged(c, a.watchtower).await?;
    a.vote_and_resolve(id, &committee, |_| Some(truth()))
        .await?;
    let caught_payoff = a.worth(&[a.cheater]).await? - w0;
    let honest_slashed = honest_slashes(a).await? > s0;
    Ok(Outcome {
        strategy: NAME.into(),
        unit: c.base.reward,
        honest: c.base.honest(),
        branches: vec![
            Branch {
                name: "public seed 0 says sampled: does the work",
                prob: p_hat,
                payoff: watched,
                work: 1.0,
            },
            Branch {
                name: "cheats; the secret seed samples it: overturned",
                prob: (1.0 - p_hat) * q,
                payoff: caught_payoff,
                work: 0.0,
            },
            Branch {
                name: "cheats; not sampled: wrong result paid",
                prob: (1.0 - p_hat) * (1.0 - q),
                payoff: unwatched,
                work: 0.0,
            },
        ],
        honest_slashed,
        detection_rate: q,
        note: format!(
            "seed 0 samples {p_hat:.4} of ids 1..{IDS}; a secret seed samples {q:.4} of the ids \
             seed 0 leaves (this run's task: {caught} of {cheated})"
        ),
        facts: vec![
            ("cheated", i128::from(cheated)),
            ("caught", i128::from(caught)),
            ("watched", watched),
            ("unwatched", unwatched),
            ("caught_payoff", caught_payoff),
        ],
    })
}

pub(crate) fn threshold(_p: f64) -> String {
    "with secret seeds it reduces to the naive cheater: pays where c > p·(R + C) (spot checks \
     at rate p; on-chain audits drawn after the result are still to do)"
        .into()
}
