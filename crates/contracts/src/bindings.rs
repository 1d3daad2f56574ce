//! `sol!` bindings over the committed artifacts in `contracts/out/`.

#![allow(missing_docs, unreachable_pub, clippy::too_many_arguments)]

use alloy::sol;

sol!(
    #[sol(rpc, all_derives)]
    TaskMarket,
    "../../contracts/out/TaskMarket.json"
);

sol!(
    #[sol(rpc, all_derives)]
    DisputeCourt,
    "../../contracts/out/DisputeCourt.json"
);

sol!(
    #[sol(rpc, all_derives)]
    NodeRegistry,
    "../../contracts/out/NodeRegistry.json"
);

sol!(
    #[sol(rpc, all_derives)]
    VerifierRegistry,
    "../../contracts/out/VerifierRegistry.json"
);

sol!(
    #[sol(rpc, all_derives)]
    TestToken,
    "../../contracts/out/TestToken.json"
);

sol!(
    #[sol(rpc, all_derives)]
    VerityTimelock,
    "../../contracts/out/VerityTimelock.json"
);

// A verifier that accepts whatever the test tells it to: test code only (feature `test-utils`).
#[cfg(feature = "test-utils")]
sol!(
    #[sol(rpc, all_derives)]
    MockResultVerifier,
    "../../contracts/out/MockResultVerifier.json"
);

sol!(
    #[sol(rpc, all_derives)]
    EnclaveRegistry,
    "../../contracts/out/EnclaveRegistry.json"
);

sol!(
    #[sol(rpc, all_derives)]
    TeeResultVerifier,
    "../../contracts/out/TeeResultVerifier.json"
);
