//! A contribution: multiply delta by a secret `s` (in G1 and G2), divide the L and H query
//! points by `s`, and record the proof of knowledge of `s` ([`Contribution`]). The secret is
//! dropped when the function returns; only its multiples stay.
//!
//! Hand-written ceremony logic over arkworks group operations (ark-ec scalar multiplication,
//! batch normalization), parallel over the query points with rayon.

use ark_bn254::{Fr, G1Affine, G1Projective, G2Projective};
use ark_ec::{AffineRepr, CurveGroup, PrimeGroup};
use ark_ff::{Field, UniformRand, Zero};
use ark_std::rand::{CryptoRng, RngCore, SeedableRng, rngs::StdRng};
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use super::beacon::Beacon;
use super::error::{CeremonyError, Result};
use super::phase2::{Ceremony, Contribution};
use super::transcript;

/// What a contributor keeps as a receipt: their position and the transcript hash after it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Receipt {
    /// 0-based position in the transcript.
    pub index: usize,
    /// Running transcript hash after this contribution (hex).
    pub hash: String,
}

/// A secret-drawing RNG seeded from the OS and from the contributor's own `entropy` (typed
/// text, dice): the secret is safe if either source is.
pub fn secret_rng(entropy: &[u8]) -> StdRng {
    let mut os = [0u8; 32];
    ark_std::rand::rngs::OsRng.fill_bytes(&mut os);
    let seed: [u8; 32] = Sha256::new()
        .chain_update(b"verity.zk.phase2.entropy")
        .chain_update(os)
        .chain_update(entropy)
        .finalize()
        .into();
    StdRng::from_seed(seed)
}

/// Adds a contribution by `name` with a secret drawn from `rng` (use [`secret_rng`]).
pub fn contribute<R: RngCore + CryptoRng>(
    ceremony: &mut Ceremony,
    name: &str,
    rng: &mut R,
) -> Result<Receipt> {
    if ceremony.is_finalized() {
        return Err(CeremonyError::Finalized);
    }
    let mut s = Fr::rand(rng);
    while s.is_zero() {
        s = Fr::rand(rng);
    }
    let r = (G1Projective::generator() * Fr::rand(rng)).into_affine();
    apply(ceremony, name, s, r, None)
}

/// Closes the ceremony with the random beacon (see [`super::beacon`]).
pub fn finalize(ceremony: &mut Ceremony, beacon: Beacon) -> Result<Receipt> {
    if ceremony.is_finalized() {
        return Err(CeremonyError::Finalized);
    }
    let s = beacon.secret()?;
    let r = G1Affine::generator();
    apply(ceremony, "beacon", s, r, Some(beacon))
}

fn apply(
    ceremony: &mut Ceremony,
    name: &str,
    s: Fr,
    r_g1: G1Affine,
    beacon: Option<Beacon>,
) -> Result<Receipt> {
    let previous = ceremony.transcript_hash();
    let key = &mut ceremony.key;
    let sr_g1 = (r_g1 * s).into_affine();
    let challenge = transcript::challenge(&previous, &key.delta_g1, &r_g1, &sr_g1);
    let s_challenge_g2 = (challenge * s).into_affine();
    let s_inv = s
        .inverse()
        .ok_or(CeremonyError::BadBeacon("zero secret".into()))?;
    key.delta_g1 = (key.delta_g1 * s).into_affine();
    key.vk.delta_g2 = (G2Projective::from(key.vk.delta_g2) * s).into_affine();
    scale(&mut key.l_query, s_inv);
    scale(&mut key.h_query, s_inv);
    let c = Contribution {
        name: name.to_owned(),
        delta_g1: key.delta_g1,
        delta_g2: key.vk.delta_g2,
        r_g1,
        sr_g1,
        s_challenge_g2,
        beacon,
    };
    let hash = transcript::next(&previous, &c);
    ceremony.contributions.push(c);
    let index = ceremony.contributions.len() - 1;
    tracing::info!(target: "zk::ceremony", index, name, hash = %transcript::hex(&hash), "contribution applied");
    Ok(Receipt {
        index,
        hash: transcript::hex(&hash),
    })
}

/// Multiplies every point by `k`, in parallel.
fn scale(points: &mut Vec<G1Affine>, k: Fr) {
    let scaled: Vec<G1Projective> = points.par_iter().map(|p| *p * k).collect();
    *points = G1Projective::normalize_batch(&scaled);
}
