//! Integration tests of the executor: determinism, hostile programs, the guest ABI, and the
//! example guests against their native kernels.
//!
//! The C guests come from `scripts/build-guests.sh` (`guests/out/*.wasm`); the WAT programs
//! from `guests/wat/` are assembled here.

mod abi;
mod determinism;
mod guests;
mod hostile;
mod issue_21;
mod pool;
mod support;
mod task_log;
mod vectors;
