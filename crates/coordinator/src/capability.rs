//! Capability flags operators register (`NodeRegistry.register(.., capabilities)`) and
//! heartbeats repeat, as the coordinator reads them. No contract checks them: they route work.
//!
//! Bit 0 is what every node registers today (`[operator] capabilities = 1`): it runs WASM
//! guests (replicated and optimistic tasks). Bit 1 says the node can produce a Groth16 proof
//! for a ZkProof task; a node without it declines such tasks (`crates/node`'s worker), so the
//! assigner never offers them one.

/// Runs WASM guests and reports results (replicated and optimistic tasks).
pub const EXECUTE_WASM: u64 = 1 << 0;

/// Proves executions (ZkProof tasks).
pub const ZK_PROVE: u64 = 1 << 1;
