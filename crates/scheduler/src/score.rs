//! Scoring: a node's base score from the policy weights, lowered by its load.
//!
//! The base score depends only on the node (not on the task): that is what lets the index
//! keep every node in one score order and answer a task by walking that order. Scores are
//! quantised to a `u64` so that the index, the naive scan and the tests compare them exactly
//! and break ties the same way (by operator id).

use crate::node::NodeView;
use crate::policy::{Claims, Policy};

/// A node's effective score, fixed-point in `[0, 1]` (higher is better).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Score(pub u64);

impl Score {
    /// Fixed-point scale: 2^52, so every quantised value is exactly representable in f64.
    const ONE: f64 = (1u64 << 52) as f64;

    /// The score as a fraction in `[0, 1]`.
    pub fn as_f64(self) -> f64 {
        self.0 as f64 / Self::ONE
    }

    fn quantise(value: f64) -> Self {
        Score((value.clamp(0.0, 1.0) * Self::ONE) as u64)
    }
}

/// The policy's scoring rules with the weights normalised to sum to one.
#[derive(Clone, Debug)]
pub(crate) struct Scorer {
    performance: f64,
    reputation: f64,
    latency: f64,
    green: f64,
    price: f64,
    load_penalty: f64,
    ref_cpu: f64,
    ref_mem: f64,
    ref_gpu: f64,
    ref_latency: f64,
    ref_price: f64,
    claims: Claims,
}

impl Scorer {
    /// Builds from a validated policy.
    pub(crate) fn new(policy: &Policy) -> Self {
        let w = &policy.weights;
        let total = w.performance + w.reputation + w.latency + w.green_energy + w.price;
        let s = &policy.scoring;
        Self {
            performance: w.performance / total,
            reputation: w.reputation / total,
            latency: w.latency / total,
            green: w.green_energy / total,
            price: w.price / total,
            load_penalty: s.load_penalty,
            ref_cpu: f64::from(s.reference_cpu_cores),
            ref_mem: s.reference_memory_mib as f64,
            ref_gpu: s.reference_gpu_memory_mib as f64,
            ref_latency: f64::from(s.reference_latency_ms),
            ref_price: s.reference_price_per_megafuel as f64,
            claims: policy.claims.clone(),
        }
    }

    /// The load-free score in `[0, 1]`, from the figures as they count (unchecked claims at
    /// their floors, see [`Claims::counted`]).
    pub(crate) fn base(&self, view: &NodeView) -> f64 {
        let n = &self.claims.counted(view);
        let saturate = |v: f64, reference: f64| (v / reference).min(1.0);
        let performance = (saturate(f64::from(n.cpu_cores), self.ref_cpu)
            + saturate(n.memory_mib as f64, self.ref_mem)
            + saturate(n.gpu_memory_mib as f64, self.ref_gpu))
            / 3.0;
        let reputation = f64::from(n.reputation_permille) / 1000.0;
        let latency = self.ref_latency / (self.ref_latency + f64::from(n.latency_ms));
        let green = f64::from(n.green_energy_pct) / 100.0;
        let price = self.ref_price / (self.ref_price + n.price_per_megafuel as f64);
        self.performance * performance
            + self.reputation * reputation
            + self.latency * latency
            + self.green * green
            + self.price * price
    }

    /// The score with load applied: `base * (1 - load_penalty * load / capacity)`.
    pub(crate) fn effective(&self, base: f64, load: u32, capacity: u32) -> Score {
        let used = if capacity == 0 {
            1.0
        } else {
            (f64::from(load) / f64::from(capacity)).min(1.0)
        };
        Score::quantise(base * (1.0 - self.load_penalty * used))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::Region;
    use crate::node::{Checks, Provenance, Verified};

    fn node() -> NodeView {
        NodeView {
            cpu_cores: 16,
            memory_mib: 32 * 1024,
            gpu_memory_mib: 0,
            region: Region(276),
            capabilities: 0,
            stake: 0,
            reputation_permille: 900,
            capacity: 4,
            latency_ms: 50,
            green_energy_pct: 50,
            price_per_megafuel: 1_000_000_000,
            live: true,
            provenance: Checks::all(Provenance::Verified(Verified::Measured)),
        }
    }

    #[test]
    fn base_score_follows_the_weights() {
        let scorer = Scorer::new(&Policy::default());
        // performance (0.5 + 0.5 + 0) / 3, reputation 0.9, latency 0.5, green 0.5, price 0.5
        let expected = 0.3 * (1.0 / 3.0) + 0.3 * 0.9 + 0.2 * 0.5 + 0.1 * 0.5 + 0.1 * 0.5;
        assert!((scorer.base(&node()) - expected).abs() < 1e-12);
    }

    #[test]
    fn score_falls_with_load() {
        let scorer = Scorer::new(&Policy::default());
        let base = scorer.base(&node());
        let scores: Vec<Score> = (0..=4).map(|l| scorer.effective(base, l, 4)).collect();
        assert!(scores.windows(2).all(|w| w[0] > w[1]), "{scores:?}");
        let full = scores[4].as_f64();
        assert!((full - base * 0.2).abs() < 1e-9, "{full} vs {}", base * 0.2);
    }

    #[test]
    fn better_figures_score_higher() {
        let scorer = Scorer::new(&Policy::default());
        let base = scorer.base(&node());
        let cheaper = NodeView {
            price_per_megafuel: 1,
            ..node()
        };
        let faster = NodeView {
            latency_ms: 5,
            ..node()
        };
        assert!(scorer.base(&cheaper) > base);
        assert!(scorer.base(&faster) > base);
    }
}
