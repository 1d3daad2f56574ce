//! Checks a ceremony from its initial key to its current key, by pairings:
//!
//! 1. the transcript names the initial key given (sha256);
//! 2. every part phase 2 must leave alone (alpha, beta, gamma, the A/B queries, the public
//!    inputs' points) equals the initial key's;
//! 3. each contribution's proof of knowledge holds against the challenge recomputed from the
//!    transcript before it, and its delta is the previous delta times the proven secret, in G1
//!    and in G2; a beacon contribution's secret is recomputed from its recorded parameters;
//! 4. the key's delta is the last contribution's;
//! 5. L and H are the initial ones divided by the product of the secrets: with random
//!    coefficients `r_i`, `e(Σ r_i·P'_i, δ') = e(Σ r_i·P_i, δ)` over all L and H points `P`
//!    (one pairing equation instead of one per point; a wrong point passes with probability
//!    1/|Fr|).
//!
//! Hand-written ceremony logic; pairings and MSMs are arkworks' and the crate's [`crate::msm`].

use ark_bn254::{Bn254, Fr, G1Affine, G2Affine};
use ark_ec::pairing::{Pairing, PairingOutput};
use ark_ec::{AffineRepr, CurveGroup};
use ark_ff::{PrimeField, UniformRand, Zero};
use ark_groth16::ProvingKey;
use ark_std::rand::RngCore;

use super::error::{CeremonyError, Result};
use super::phase2::Ceremony;
use super::transcript;

/// What a successful check found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    /// Each contribution: its name, the transcript hash after it (hex), and whether it is the
    /// beacon.
    pub contributions: Vec<(String, String, bool)>,
    /// Whether the ceremony ends with the beacon.
    pub finalized: bool,
}

/// `e(a, b) == e(c, d)`.
fn same_ratio(a: G1Affine, b: G2Affine, c: G1Affine, d: G2Affine) -> bool {
    Bn254::multi_pairing([a, (-c.into_group()).into_affine()], [b, d]) == PairingOutput::zero()
}

/// Checks `ceremony` against the key it started from (see the module docs). `rng` draws the
/// random coefficients of check 5.
pub fn verify<R: RngCore>(
    initial: &ProvingKey<Bn254>,
    ceremony: &Ceremony,
    rng: &mut R,
) -> Result<Verified> {
    let digest = transcript::key_digest(initial);
    if digest != ceremony.initial_digest {
        return Err(CeremonyError::InitialMismatch {
            expected: transcript::hex(&ceremony.initial_digest),
            actual: transcript::hex(&digest),
        });
    }
    unchanged(initial, &ceremony.key)?;

    let mut delta_g1 = initial.delta_g1;
    let mut delta_g2 = initial.vk.delta_g2;
    let mut hash = transcript::start(&digest);
    let mut out = Vec::with_capacity(ceremony.contributions.len());
    let last = ceremony.contributions.len().saturating_sub(1);
    for (index, c) in ceremony.contributions.iter().enumerate() {
        let name = || c.name.clone();
        if c.beacon.is_some() && index != last {
            return Err(CeremonyError::Finalized);
        }
        let challenge = transcript::challenge(&hash, &delta_g1, &c.r_g1, &c.sr_g1);
        if c.r_g1.is_zero()
            || c.sr_g1.is_zero()
            || c.s_challenge_g2.is_zero()
            || !same_ratio(c.r_g1, c.s_challenge_g2, c.sr_g1, challenge)
        {
            return Err(CeremonyError::ProofOfKnowledge {
                index,
                name: name(),
            });
        }
        if c.delta_g1.is_zero() || !same_ratio(c.delta_g1, challenge, delta_g1, c.s_challenge_g2) {
            return Err(CeremonyError::DeltaG1 {
                index,
                name: name(),
            });
        }
        if c.delta_g2.is_zero() || !same_ratio(delta_g1, c.delta_g2, c.delta_g1, delta_g2) {
            return Err(CeremonyError::DeltaG2 {
                index,
                name: name(),
            });
        }
        if let Some(beacon) = &c.beacon {
            let s = beacon.secret()?;
            if c.delta_g1 != (delta_g1 * s).into_affine() || c.sr_g1 != (c.r_g1 * s).into_affine() {
                return Err(CeremonyError::Beacon { index });
            }
        }
        hash = transcript::next(&hash, c);
        delta_g1 = c.delta_g1;
        delta_g2 = c.delta_g2;
        out.push((c.name.clone(), transcript::hex(&hash), c.beacon.is_some()));
    }
    if ceremony.key.delta_g1 != delta_g1 || ceremony.key.vk.delta_g2 != delta_g2 {
        return Err(CeremonyError::FinalDelta);
    }
    scaled_queries(initial, &ceremony.key, rng)?;
    Ok(Verified {
        contributions: out,
        finalized: ceremony.is_finalized(),
    })
}

/// Check 2 of the module docs.
fn unchanged(initial: &ProvingKey<Bn254>, key: &ProvingKey<Bn254>) -> Result<()> {
    let checks: [(&'static str, bool); 10] = [
        ("alpha_g1", initial.vk.alpha_g1 == key.vk.alpha_g1),
        ("beta_g1", initial.beta_g1 == key.beta_g1),
        ("beta_g2", initial.vk.beta_g2 == key.vk.beta_g2),
        ("gamma_g2", initial.vk.gamma_g2 == key.vk.gamma_g2),
        (
            "gamma_abc_g1",
            initial.vk.gamma_abc_g1 == key.vk.gamma_abc_g1,
        ),
        ("a_query", initial.a_query == key.a_query),
        ("b_g1_query", initial.b_g1_query == key.b_g1_query),
        ("b_g2_query", initial.b_g2_query == key.b_g2_query),
        ("l_query length", initial.l_query.len() == key.l_query.len()),
        ("h_query length", initial.h_query.len() == key.h_query.len()),
    ];
    match checks.iter().find(|(_, ok)| !ok) {
        Some((which, _)) => Err(CeremonyError::ChangedElement { which }),
        None => Ok(()),
    }
}

/// Check 5 of the module docs.
fn scaled_queries<R: RngCore>(
    initial: &ProvingKey<Bn254>,
    key: &ProvingKey<Bn254>,
    rng: &mut R,
) -> Result<()> {
    let n = initial.l_query.len() + initial.h_query.len();
    let coefficients: Vec<_> = (0..n).map(|_| Fr::rand(rng).into_bigint()).collect();
    let combine = |pk: &ProvingKey<Bn254>| {
        let (l, h) = coefficients.split_at(pk.l_query.len());
        (crate::msm::msm(&pk.l_query, l) + crate::msm::msm(&pk.h_query, h)).into_affine()
    };
    let before = combine(initial);
    let after = combine(key);
    if !same_ratio(after, key.vk.delta_g2, before, initial.vk.delta_g2) {
        return Err(CeremonyError::QueryMismatch { which: "l/h" });
    }
    Ok(())
}
