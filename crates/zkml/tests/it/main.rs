//! Integration tests of verity-zkml (one binary).

mod fixture;
mod import;
// `onchain.rs` (the generated verifier deployed on the devchain, gas <= 230k) is written but
// not compiled yet: it needs verity-devchain, alloy and tokio as dev-dependencies, whose build
// did not fit in the session (see the README).
mod proofs;
mod reference;
