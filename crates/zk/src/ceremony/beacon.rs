//! The random beacon that closes a ceremony: a last contribution whose secret anyone can
//! recompute from a public value announced in advance (a future block hash, a drand round),
//! so that no contributor, the last one included, could have chosen the final key.
//!
//! The secret is `sha256` iterated `2^iterations_exp` times over the beacon value (the
//! snarkjs `zkey beacon` parameters; the iterations make grinding over candidate beacon values
//! slow), then reduced into the scalar field from 512 hashed bits (bias below 2^-250).

use ark_bn254::Fr;
use ark_ff::{PrimeField, Zero};
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use sha2::{Digest, Sha256};

use super::error::{CeremonyError, Result};
use super::transcript;

/// Largest accepted `iterations_exp` (2^40 hashes take hours; more is a typo).
pub const MAX_ITERATIONS_EXP: u32 = 40;

/// A beacon's public parameters, recorded in its contribution.
#[derive(Clone, Debug, PartialEq, Eq, CanonicalSerialize, CanonicalDeserialize)]
pub struct Beacon {
    /// The public random value.
    pub value: Vec<u8>,
    /// sha256 is applied `2^iterations_exp` times.
    pub iterations_exp: u32,
}

impl Beacon {
    /// Beacon parameters: a non-empty value and at most [`MAX_ITERATIONS_EXP`].
    pub fn new(value: Vec<u8>, iterations_exp: u32) -> Result<Self> {
        if value.is_empty() {
            return Err(CeremonyError::BadBeacon("empty beacon value".into()));
        }
        if iterations_exp > MAX_ITERATIONS_EXP {
            return Err(CeremonyError::BadBeacon(format!(
                "iterations exponent {iterations_exp} is over {MAX_ITERATIONS_EXP}"
            )));
        }
        Ok(Self {
            value,
            iterations_exp,
        })
    }

    /// Parses a hex beacon value (with or without `0x`).
    pub fn from_hex(value: &str, iterations_exp: u32) -> Result<Self> {
        let s = value.trim().trim_start_matches("0x");
        if !s.len().is_multiple_of(2) {
            return Err(CeremonyError::BadBeacon("odd number of hex digits".into()));
        }
        let bytes = (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16))
            .collect::<Result<Vec<u8>, _>>()
            .map_err(|e| CeremonyError::BadBeacon(format!("not hex: {e}")))?;
        Self::new(bytes, iterations_exp)
    }

    /// The contribution's secret (see the module docs).
    pub fn secret(&self) -> Result<Fr> {
        if self.iterations_exp > MAX_ITERATIONS_EXP || self.value.is_empty() {
            return Err(CeremonyError::BadBeacon(
                "recorded parameters out of range".into(),
            ));
        }
        let mut h: [u8; 32] = Sha256::digest(&self.value).into();
        for _ in 1..(1u64 << self.iterations_exp) {
            h = Sha256::digest(h).into();
        }
        let lo = transcript::hash("beacon", &[&h, &[0]]);
        let hi = transcript::hash("beacon", &[&h, &[1]]);
        let s = Fr::from_le_bytes_mod_order(&[lo, hi].concat());
        if s.is_zero() {
            return Err(CeremonyError::BadBeacon(
                "beacon yields a zero secret".into(),
            ));
        }
        Ok(s)
    }
}
