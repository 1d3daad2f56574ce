use proptest::prelude::*;
use verity_zk::statement::Aggregate;
use verity_zk::{SensorCircuit, Shape};

use crate::fixture::world;

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    /// For random mixes of accepted and excluded readings, the circuit is satisfied by exactly
    /// the native aggregate: the native one satisfies it, and any other claim does not.
    #[test]
    fn circuit_aggregate_equals_native_aggregate(
        rs in prop::collection::vec((0u32..200, 900u32..2100, 0usize..8), 0..=4),
        bump in 1u64..5,
    ) {
        let w = world();
        let readings: Vec<_> = rs.iter().map(|(v, t, d)| w.devices[*d].sign(*v, *t)).collect();
        let shape = Shape { slots: 4, depth: crate::fixture::DEPTH };
        let c = SensorCircuit::new(shape, &w.registry, w.query, &readings, [1; 32]).expect("witness");
        let native = Aggregate::of(&w.query, readings.iter().map(|r| (r.value, r.timestamp)));
        prop_assert_eq!(c.claimed, native);
        prop_assert!(c.check().is_ok());
        let mut wrong = c.clone();
        wrong.claimed = Aggregate { sum: native.sum + bump, ..native };
        prop_assert!(wrong.check().is_err());
    }
}
