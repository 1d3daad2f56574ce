//! Reputation from outcomes, with exponential time decay: a pure function.
//!
//! The outcomes are the indexer's projection of chain events only (`TaskFinalized` winners
//! completed, `Declined` and replaced holders failed, `OperatorSlashed` slashed; latency from
//! the block times of assignment and settlement): nothing a node says about itself enters
//! the score, which is why the registry view marks it `Verified::OnChain`.
//!
//! Every outcome is weighted by `w = 0.5^(age / half_life)`. A completion adds `w` of good
//! evidence, reduced by its latency beyond the target (the remainder counts as bad evidence);
//! a failure adds `failure_weight * w` of bad evidence. The base score is the weighted share
//! of good evidence with a neutral prior of `prior_weight` pseudo-outcomes at `prior_score`
//! (a Beta-posterior mean). A slashing is not a statistical sample but on-chain proof of
//! misbehaviour, so it does not merely add to the bad side (where a large volume of good
//! work could outweigh it): it counts as a failure and also multiplies the score by
//! `1 - slash_penalty * w`.
//!
//! ```text
//! base  = (good + prior_score * prior_weight) / (good + bad + prior_weight)
//! score = base * product over slashings of (1 - slash_penalty * w)        in [0, 1]
//! ```
//!
//! Decay is what keeps old good behaviour from shielding new bad behaviour: a fresh slashing
//! costs the same share of the score however long the good history before it, and evidence
//! from many half-lives ago weighs almost nothing; a node with no recent evidence drifts back
//! to the prior instead of keeping a score it earned long ago, and an old slashing heals.

use serde::{Deserialize, Serialize};

use crate::store::{OutcomeKind, OutcomeRecord};

/// How outcomes turn into a score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReputationPolicy {
    /// Age at which an outcome counts half, seconds (at least 1).
    pub half_life_secs: u64,
    /// Share of the score a fresh slashing removes (0..=1); decays with its age.
    pub slash_penalty: f64,
    /// Bad evidence one failure adds (in completions).
    pub failure_weight: f64,
    /// Completions at or below this latency count fully; slower ones count
    /// `target / latency` good and the rest bad.
    pub target_latency_ms: u64,
    /// Score of a node without evidence.
    pub prior_score: f64,
    /// Pseudo-outcomes of prior evidence (how quickly evidence moves the score).
    pub prior_weight: f64,
}

impl Default for ReputationPolicy {
    fn default() -> Self {
        Self {
            half_life_secs: 7 * 24 * 3600,
            slash_penalty: 0.5,
            failure_weight: 3.0,
            target_latency_ms: 60_000,
            prior_score: 0.5,
            prior_weight: 2.0,
        }
    }
}

/// Why a reputation policy is unusable.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PolicyError {
    /// A weight is negative, infinite or NaN, or the prior is outside [0, 1].
    #[error("[V-REP-001] reputation policy: {field} = {value} is out of range ({expected})")]
    OutOfRange {
        /// Field.
        field: &'static str,
        /// Value.
        value: f64,
        /// What is allowed.
        expected: &'static str,
    },
}

impl ReputationPolicy {
    /// Checks every field is in range.
    pub fn validate(&self) -> Result<(), PolicyError> {
        let check = |field, value: f64, ok: bool, expected| {
            if ok && value.is_finite() {
                Ok(())
            } else {
                Err(PolicyError::OutOfRange {
                    field,
                    value,
                    expected,
                })
            }
        };
        check(
            "half_life_secs",
            self.half_life_secs as f64,
            self.half_life_secs > 0,
            "> 0",
        )?;
        check(
            "slash_penalty",
            self.slash_penalty,
            (0.0..=1.0).contains(&self.slash_penalty),
            "0..=1",
        )?;
        check(
            "failure_weight",
            self.failure_weight,
            self.failure_weight >= 0.0,
            ">= 0",
        )?;
        check(
            "prior_score",
            self.prior_score,
            (0.0..=1.0).contains(&self.prior_score),
            "0..=1",
        )?;
        check(
            "prior_weight",
            self.prior_weight,
            self.prior_weight > 0.0,
            "> 0",
        )
    }
}

/// One reputation input, as far as scoring is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// How it ended.
    pub kind: OutcomeKind,
    /// Unix seconds.
    pub at: u64,
    /// Latency, milliseconds, if known.
    pub latency_ms: Option<u64>,
}

impl From<&OutcomeRecord> for Outcome {
    fn from(o: &OutcomeRecord) -> Self {
        Self {
            kind: o.kind,
            at: o.at,
            latency_ms: o.latency_ms,
        }
    }
}

/// The decayed evidence behind a score.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Evidence {
    /// Decayed good evidence.
    pub good: f64,
    /// Decayed bad evidence.
    pub bad: f64,
    /// Product of the slashing factors (1: no slashing counts any more).
    pub slash_factor: f64,
}

impl Default for Evidence {
    fn default() -> Self {
        Self {
            good: 0.0,
            bad: 0.0,
            slash_factor: 1.0,
        }
    }
}

/// Weight of evidence `age` seconds old.
pub fn decay(age_secs: u64, half_life_secs: u64) -> f64 {
    (-(age_secs as f64) / half_life_secs.max(1) as f64).exp2()
}

/// Sums the decayed evidence of `outcomes` at time `now` (outcomes dated after `now` count as
/// current, never more).
pub fn evidence(outcomes: &[Outcome], now: u64, p: &ReputationPolicy) -> Evidence {
    let mut e = Evidence::default();
    for o in outcomes {
        let w = decay(now.saturating_sub(o.at), p.half_life_secs);
        match o.kind {
            OutcomeKind::Completed => {
                let speed = match o.latency_ms {
                    Some(l) if l > p.target_latency_ms => p.target_latency_ms as f64 / l as f64,
                    _ => 1.0,
                };
                e.good += w * speed;
                e.bad += w * (1.0 - speed);
            }
            OutcomeKind::Failed => e.bad += w * p.failure_weight,
            OutcomeKind::Slashed => {
                // At least as bad as a failure, and on top of that a share of the score.
                e.bad += w * p.failure_weight;
                e.slash_factor *= 1.0 - p.slash_penalty * w;
            }
        }
    }
    e
}

/// The reputation score in [0, 1] of a node with these outcomes, at time `now`.
pub fn score(outcomes: &[Outcome], now: u64, p: &ReputationPolicy) -> f64 {
    let e = evidence(outcomes, now, p);
    let base = (e.good + p.prior_score * p.prior_weight) / (e.good + e.bad + p.prior_weight);
    (base * e.slash_factor).clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const DAY: u64 = 24 * 3600;
    const NOW: u64 = 2_000_000_000;

    fn done(at: u64) -> Outcome {
        Outcome {
            kind: OutcomeKind::Completed,
            at,
            latency_ms: Some(1_000),
        }
    }

    fn slashed(at: u64) -> Outcome {
        Outcome {
            kind: OutcomeKind::Slashed,
            at,
            latency_ms: None,
        }
    }

    fn failed(at: u64) -> Outcome {
        Outcome {
            kind: OutcomeKind::Failed,
            at,
            latency_ms: None,
        }
    }

    #[test]
    fn a_year_of_good_work_then_recent_slashes_scores_below_a_short_clean_history() {
        let p = ReputationPolicy::default();
        // A completion every hour for a year, up to a day ago: 8,760 tasks.
        let mut veteran: Vec<Outcome> =
            (1..=365 * 24).map(|h| done(NOW - DAY - h * 3600)).collect();
        let before = score(&veteran, NOW, &p);
        veteran.push(slashed(NOW - 3600));
        veteran.push(slashed(NOW - 1800));
        let after = score(&veteran, NOW, &p);
        // Five clean tasks this week.
        let newcomer: Vec<Outcome> = (1..=5).map(|d| done(NOW - d * DAY)).collect();
        let fresh = score(&newcomer, NOW, &p);
        assert!(before > 0.95, "a clean year scores high: {before}");
        assert!(fresh > 0.7, "a short clean history scores well: {fresh}");
        assert!(
            after < fresh,
            "veteran after slashes {after} vs newcomer {fresh}"
        );
        assert!(
            after < 0.6,
            "two fresh slashes wipe out most of a year: {after}"
        );
    }

    #[test]
    fn old_evidence_fades_to_the_prior_and_half_life_halves_weight() {
        let p = ReputationPolicy::default();
        assert!((decay(p.half_life_secs, p.half_life_secs) - 0.5).abs() < 1e-12);
        assert!((decay(3 * p.half_life_secs, p.half_life_secs) - 0.125).abs() < 1e-12);
        assert_eq!(score(&[], NOW, &p), p.prior_score);
        let ancient: Vec<Outcome> = (0..100).map(|i| slashed(NOW - 400 * DAY - i)).collect();
        assert!((score(&ancient, NOW, &p) - p.prior_score).abs() < 0.01);
        // A slashing is a failure plus a share of the score, and it heals: on top of the
        // failure it costs half the score today, a quarter one half-life on.
        let clean: Vec<Outcome> = (1..=20).map(|h| done(NOW - h * 3600)).collect();
        let mut as_failure = clean.clone();
        as_failure.push(failed(NOW));
        let mut one = clean.clone();
        one.push(slashed(NOW));
        assert!((score(&one, NOW, &p) - score(&as_failure, NOW, &p) * 0.5).abs() < 1e-12);
        let later = NOW + p.half_life_secs;
        assert!((score(&one, later, &p) - score(&as_failure, later, &p) * 0.75).abs() < 1e-12);
    }

    #[test]
    fn slow_completions_count_less_than_fast_ones() {
        let p = ReputationPolicy::default();
        let fast = [done(NOW); 3];
        let slow = [Outcome {
            latency_ms: Some(4 * p.target_latency_ms),
            ..done(NOW)
        }; 3];
        assert!(score(&slow, NOW, &p) < score(&fast, NOW, &p));
        assert!(score(&[failed(NOW)], NOW, &p) > score(&[slashed(NOW)], NOW, &p));
    }

    #[test]
    fn bad_policies_are_rejected() {
        let bad = ReputationPolicy {
            slash_penalty: f64::NAN,
            ..Default::default()
        };
        assert!(matches!(
            bad.validate(),
            Err(PolicyError::OutOfRange {
                field: "slash_penalty",
                ..
            })
        ));
        let bad = ReputationPolicy {
            prior_score: 1.5,
            ..Default::default()
        };
        assert!(bad.validate().is_err());
        ReputationPolicy::default().validate().unwrap();
    }

    fn outcome() -> impl Strategy<Value = Outcome> {
        (0u8..3, 0u64..200 * DAY, proptest::option::of(0u64..600_000)).prop_map(
            |(k, age, latency_ms)| Outcome {
                kind: match k {
                    0 => OutcomeKind::Completed,
                    1 => OutcomeKind::Failed,
                    _ => OutcomeKind::Slashed,
                },
                at: NOW - age,
                latency_ms,
            },
        )
    }

    proptest! {
        #[test]
        fn score_is_in_range_and_monotone_in_each_new_outcome(
            history in proptest::collection::vec(outcome(), 0..200),
            age in 0u64..200 * DAY,
        ) {
            let p = ReputationPolicy::default();
            let s = score(&history, NOW, &p);
            prop_assert!((0.0..=1.0).contains(&s));
            let with = |o: Outcome| {
                let mut h = history.clone();
                h.push(o);
                score(&h, NOW, &p)
            };
            prop_assert!(with(done(NOW - age)) >= s - 1e-12);
            prop_assert!(with(failed(NOW - age)) <= s + 1e-12);
            prop_assert!(with(slashed(NOW - age)) <= s + 1e-12);
            // A slashing today costs at least as much as the same slashing earlier.
            prop_assert!(with(slashed(NOW)) <= with(slashed(NOW - age)) + 1e-12);
        }

        #[test]
        fn old_good_history_never_shields_two_recent_slashes(
            // Up to one completion per hour, for up to two years, ending at least two
            // half-lives before now.
            per_day in 1u64..=24,
            days in 1u64..730,
            gap_half_lives in 2u64..10,
        ) {
            let p = ReputationPolicy::default();
            let end = NOW - gap_half_lives * p.half_life_secs;
            let step = DAY / per_day;
            let mut veteran: Vec<Outcome> =
                (0..per_day * days).map(|i| done(end - i * step)).collect();
            veteran.push(slashed(NOW - 60));
            veteran.push(slashed(NOW - 30));
            let newcomer: Vec<Outcome> = (1..=3).map(|d| done(NOW - d * DAY)).collect();
            let (v, n) = (score(&veteran, NOW, &p), score(&newcomer, NOW, &p));
            prop_assert!(v < n, "veteran {} newcomer {}", v, n);
        }
    }
}
