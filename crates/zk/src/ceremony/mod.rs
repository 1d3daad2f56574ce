//! Keys from a ceremony: the Groth16 phase-2 MPC of Bowe–Gabizon–Miers 2017 (the design of
//! snarkjs' `zkey contribute / verify / beacon`) for the sensor circuits, on top of a phase-1
//! powers of tau in the snarkjs `.ptau` format.
//!
//! - [`phase1`]: reads a `.ptau` file (the Perpetual Powers of Tau format);
//!   [`insecure_ptau`] writes a small one from KNOWN secrets, for tests only.
//! - [`initial`]: the circuit-specific initial key from the powers of tau (delta = 1).
//! - [`phase2`]: the ceremony state and its file; [`transcript`]: the hashes that chain it.
//! - [`contribute`](mod@contribute): each contribution multiplies delta by a secret `s` (G1 and
//!   G2), divides the L and H query points by `s`, and publishes a proof of knowledge of `s`
//!   answering a challenge hashed to G2 from the transcript.
//! - [`beacon`]: the closing contribution, whose secret is iterated sha256 of a public value.
//! - [`verify`](mod@verify): checks every contribution by pairings, from the initial key to the
//!   final one, and that nothing but delta, L and H changed.
//!
//! Only the ceremony logic is hand-written (the transcript, the proof-of-knowledge checks, the
//! `.ptau` reader, the QAP-at-tau construction, try-and-increment hashing to G2): no maintained
//! crate does phase 2 for arkworks 0.6 keys (`phase2-bn254` is bellman-based, snarkjs is
//! JavaScript over its own zkey format). Every group, pairing and serialization operation is
//! arkworks' (ark-ec, ark-bn254, ark-serialize).
//!
//! Security: a ceremony is as good as its phase 1. A key whose phase 1 is an insecure test file
//! or an arkworks setup from a known seed (the devnet keys) is forgeable however many honest
//! phase-2 contributions follow; see [`crate::origin`].

pub mod beacon;
pub mod contribute;
pub mod error;
pub mod initial;
pub mod insecure_ptau;
pub mod phase1;
pub mod phase2;
pub mod transcript;
pub mod verify;

pub use beacon::Beacon;
pub use contribute::{Receipt, contribute, finalize, secret_rng};
pub use error::CeremonyError;
pub use initial::{Qap, initial_key};
pub use phase1::Ptau;
pub use phase2::{Ceremony, Contribution};
pub use verify::{Verified, verify};

#[cfg(test)]
mod tests;

/// A temporary name beside `path`, unique to this process and call, so two writers of the same
/// file (two tests, two processes) never rename each other's half-written bytes away.
pub(crate) fn partial_path(path: &std::path::Path) -> std::path::PathBuf {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    path.with_extension(format!("partial-{}-{n}", std::process::id()))
}
