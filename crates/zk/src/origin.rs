//! Telling keys whose toxic waste is public from the rest, and refusing them off the devnet.
//!
//! The devnet keys come from an arkworks setup seeded with the public [`DEVNET_SEED`]: anyone
//! can rerun that RNG and read off alpha, beta, tau and delta. Keys over the insecure test
//! powers of tau ([`crate::ceremony::insecure_ptau`]) have a known alpha, beta and tau. Either
//! is forgeable, whatever phase-2 contributions follow (phase 2 changes only delta, L and H).
//! Both are recognised from `alpha·G1`, which phase 2 never changes: for the devnet seed the
//! check reruns the seeded RNG up to the draws of alpha and the G1 generator (no circuit
//! synthesis), so it costs one scalar multiplication.

use ark_bn254::{Bn254, Fr, G1Projective};
use ark_ec::{CurveGroup, PrimeGroup};
use ark_ff::UniformRand;
use ark_groth16::VerifyingKey;
use ark_std::rand::{SeedableRng, rngs::StdRng};

use crate::ceremony::insecure_ptau::KnownTau;
use crate::circuit::Shape;
use crate::keys::DEVNET_SEED;

/// The chain id of devnets (Hardhat, Anvil, the embedded devchain): the only chain on which
/// keys with public toxic waste are accepted.
pub const DEVNET_CHAIN_ID: u64 = 31337;

/// What can be told of where a key came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// The deterministic setup from [`DEVNET_SEED`]: forgeable by anyone.
    DevnetSeed,
    /// Over the insecure test powers of tau ([`KnownTau::insecure_test`]): forgeable.
    InsecureTestPtau,
    /// Neither of the known-insecure origins.
    NotKnownInsecure,
}

verity_primitives::coded_error! {
    /// A key refused by the key policy.
    #[derive(Debug, thiserror::Error)]
    pub enum KeyPolicyError {
        /// A key with public toxic waste on a chain that is not a devnet.
        #[error("[V-ZKK-001] the N={slots} depth {depth} key is {origin:?} (its toxic waste is public, proofs can be forged): refused on chain {chain_id}, accepted only on the devnet chain 31337; use keys from `verity zk ceremony`")]
        InsecureKey {
            /// The chain asked for.
            chain_id: u64,
            /// Circuit slots.
            slots: usize,
            /// Circuit depth.
            depth: usize,
            /// How it is insecure.
            origin: Origin,
        },
    }
}

/// alpha·G1 of `setup_deterministic(shape, seed)`: the first draws of its RNG are alpha, beta,
/// gamma, delta, then the G1 generator (ark-groth16 0.6 `generate_random_parameters_with_reduction`).
pub fn seeded_alpha_g1(shape: Shape, seed: u64) -> ark_bn254::G1Affine {
    let mut rng = StdRng::seed_from_u64(seed ^ (shape.slots as u64) << 32 ^ shape.depth as u64);
    let alpha = Fr::rand(&mut rng);
    for _ in 0..3 {
        let _ = Fr::rand(&mut rng);
    }
    let g1 = G1Projective::rand(&mut rng);
    (g1 * alpha).into_affine()
}

/// Where `vk` (made for `shape`) came from, as far as can be told.
pub fn origin(shape: Shape, vk: &VerifyingKey<Bn254>) -> Origin {
    if vk.alpha_g1 == seeded_alpha_g1(shape, DEVNET_SEED) {
        return Origin::DevnetSeed;
    }
    let test = KnownTau::insecure_test();
    if vk.alpha_g1 == (G1Projective::generator() * test.alpha).into_affine() {
        return Origin::InsecureTestPtau;
    }
    Origin::NotKnownInsecure
}

/// Accepts `vk` for `chain_id`: keys with public toxic waste only on [`DEVNET_CHAIN_ID`].
pub fn check_for_chain(
    shape: Shape,
    vk: &VerifyingKey<Bn254>,
    chain_id: u64,
) -> Result<Origin, KeyPolicyError> {
    let origin = origin(shape, vk);
    if origin != Origin::NotKnownInsecure && chain_id != DEVNET_CHAIN_ID {
        return Err(KeyPolicyError::InsecureKey {
            chain_id,
            slots: shape.slots,
            depth: shape.depth,
            origin,
        });
    }
    Ok(origin)
}
