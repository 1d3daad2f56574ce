//! Settlement integration tests. They run against the embedded devchain by default, and against
//! any other node when `VERITY_TEST_RPC` is set (the test script runs them against Hardhat, one
//! test at a time, since they share its accounts and its clock).

// Items shared between the test modules are `pub`; the lint is for library APIs.
#![allow(unreachable_pub)]

mod harness;

mod attacks;
mod audits;
mod client;
mod deposits;
mod enclaves;
mod lifecycle;
mod log_reads;
mod model;
mod reassign;
mod reverts;
mod stream;
