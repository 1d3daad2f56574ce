//! Capability flags: the bit set an operator registers (`NodeRegistry.register(.., capabilities)`)
//! and its heartbeats repeat. No contract checks them: they route work. The coordinator's
//! assigner requires them of the nodes it picks; a node declines work it lacks the flag for.
//!
//! Bit 0 is what every node registers today (`[operator] capabilities = 1`): it runs WASM
//! guests (replicated and optimistic tasks). Bit 1 says the node can produce a Groth16 proof
//! for a ZkProof task; a node without it declines such tasks, so the assigner never offers
//! them one.

/// Runs WASM guests and reports results (replicated and optimistic tasks).
pub const EXECUTE_WASM: u64 = 1 << 0;

/// Proves executions (ZkProof tasks).
pub const ZK_PROVE: u64 = 1 << 1;

/// Whether the flag set `capabilities` includes every bit of `required`.
pub const fn has(capabilities: u64, required: u64) -> bool {
    capabilities & required == required
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_are_distinct_bits() {
        assert_eq!(EXECUTE_WASM & ZK_PROVE, 0);
        assert!(has(EXECUTE_WASM | ZK_PROVE, ZK_PROVE));
        assert!(!has(EXECUTE_WASM, ZK_PROVE));
        assert!(has(EXECUTE_WASM, 0));
    }
}
