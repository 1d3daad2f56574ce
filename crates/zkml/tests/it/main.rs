//! Integration tests of verity-zkml (one binary).

mod fixture;
mod import;
mod onchain;
mod proofs;
mod reference;
