//! Integration tests of verity-zk: proofs, tampering, Solidity drift, properties.

mod ceremony;
mod fixture;
mod market;
mod onchain;
mod proofs;
mod properties;
mod solidity;
