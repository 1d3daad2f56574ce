//! The coordinator's own Prometheus metrics: definitions only. The HTTP layer registers them
//! ([`CoordinatorMetrics::register`]) and serves `/metrics`; the indexer and assigner update
//! them.

use prometheus_client::{
    encoding::EncodeLabelSet,
    metrics::{counter::Counter, family::Family, gauge::Gauge, histogram::Histogram},
    registry::Registry,
};

/// Why a seat was failed over (the `reason` label of `failovers_total`).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FailoverLabels {
    /// `heartbeat_missed`, `declined` or `deadline`.
    pub reason: String,
}

/// Counters, gauges and histograms of the indexer and the assigner. Cloning shares the
/// underlying values (prometheus-client metrics are `Arc`s inside).
#[derive(Debug, Clone)]
pub struct CoordinatorMetrics {
    /// Blocks between the chain head and the newest indexed block.
    pub indexer_lag_blocks: Gauge,
    /// Number of the newest indexed block.
    pub indexed_block: Gauge,
    /// Open tasks waiting for assignment.
    pub queue_depth: Gauge,
    /// Wall time of one scheduler allocation, seconds.
    pub allocation_seconds: Histogram,
    /// Tasks assigned on chain by this coordinator.
    pub assignments_total: Counter,
    /// Seats handed to their backup, by reason.
    pub failovers_total: Family<FailoverLabels, Counter>,
    /// Seats whose holder should be replaced (down, declined, silent) but cannot be: no
    /// backup, the backup is not live, or too little time is left. As of the last pass.
    pub failovers_blocked: Gauge,
    /// Failovers the market refused (the holder acted meanwhile, or a deadline passed).
    pub failovers_refused_total: Counter,
}

impl Default for CoordinatorMetrics {
    fn default() -> Self {
        Self {
            indexer_lag_blocks: Gauge::default(),
            indexed_block: Gauge::default(),
            queue_depth: Gauge::default(),
            allocation_seconds: Histogram::new([
                0.000_01, 0.000_05, 0.000_1, 0.000_5, 0.001, 0.005, 0.01, 0.05, 0.1,
            ]),
            assignments_total: Counter::default(),
            failovers_total: Family::default(),
            failovers_blocked: Gauge::default(),
            failovers_refused_total: Counter::default(),
        }
    }
}

impl CoordinatorMetrics {
    /// Registers every metric in `registry` (names get the registry's prefix, if any).
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "indexer_lag_blocks",
            "Blocks between the chain head and the newest indexed block",
            self.indexer_lag_blocks.clone(),
        );
        registry.register(
            "indexed_block",
            "Number of the newest indexed block",
            self.indexed_block.clone(),
        );
        registry.register(
            "queue_depth",
            "Open tasks waiting for assignment",
            self.queue_depth.clone(),
        );
        registry.register(
            "allocation_seconds",
            "Wall time of one scheduler allocation",
            self.allocation_seconds.clone(),
        );
        registry.register(
            "assignments",
            "Tasks assigned on chain by this coordinator",
            self.assignments_total.clone(),
        );
        registry.register(
            "failovers",
            "Seats handed to their backup operator, by reason",
            self.failovers_total.clone(),
        );
        registry.register(
            "failovers_blocked",
            "Seats whose holder should be replaced but has no live backup or no time left",
            self.failovers_blocked.clone(),
        );
        registry.register(
            "failovers_refused",
            "Failovers the market refused",
            self.failovers_refused_total.clone(),
        );
    }

    /// Counts one failover.
    pub fn failover(&self, reason: &str) {
        self.failovers_total
            .get_or_create(&FailoverLabels {
                reason: reason.to_owned(),
            })
            .inc();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use prometheus_client::encoding::text::encode;

    #[test]
    fn every_metric_is_exposed_with_its_name_and_labels() {
        let m = CoordinatorMetrics::default();
        m.indexer_lag_blocks.set(3);
        m.indexed_block.set(42);
        m.queue_depth.set(7);
        m.allocation_seconds.observe(0.0002);
        m.assignments_total.inc_by(2);
        m.failover("heartbeat_missed");
        let mut registry = Registry::with_prefix("verity_coordinator");
        m.register(&mut registry);
        let mut text = String::new();
        encode(&mut text, &registry).unwrap();
        for line in [
            "verity_coordinator_indexer_lag_blocks 3",
            "verity_coordinator_indexed_block 42",
            "verity_coordinator_queue_depth 7",
            "verity_coordinator_allocation_seconds_count 1",
            "verity_coordinator_assignments_total 2",
            "verity_coordinator_failovers_total{reason=\"heartbeat_missed\"} 1",
        ] {
            assert!(text.contains(line), "missing {line:?} in\n{text}");
        }
    }
}
