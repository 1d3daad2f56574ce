//! SHA-256 digests of modules, inputs and outputs: the workspace's one digest type, defined in
//! `verity-primitives` (which also converts it to the chain's `bytes32`).

pub use verity_primitives::digest::Sha256Digest as Digest;
