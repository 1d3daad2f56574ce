//! What a proof states, natively: the query (registry root, time window, value range), the
//! aggregate of the accepted readings, and the three public inputs that carry them.
//!
//! Acceptance rule (the circuit implements the same): a reading in a used slot must carry a
//! valid signature from a registered device, otherwise no proof exists; a reading outside the
//! window or range is *excluded* (not counted), so the aggregate is over exactly the accepted
//! readings and an excluded reading can never be counted.

use ark_bn254::Fr;
use ark_ff::PrimeField;

use crate::babyjubjub::Point;
use crate::eddsa::Signature;
use crate::error::{Error, Result};
use crate::poseidon;

/// A reading as a device signs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignedReading {
    /// The measured value (unsigned; offset-encode signed quantities).
    pub value: u32,
    /// Unix seconds.
    pub timestamp: u32,
    /// The device's public key.
    pub device: Point,
    /// EdDSA-Poseidon signature over [`message`].
    pub signature: Signature,
}

/// The field element a device signs: `value + timestamp·2³²` (injective because both are
/// range-checked to 32 bits in the circuit; costs no hash).
pub fn message(value: u32, timestamp: u32) -> Fr {
    Fr::from(u64::from(value) | (u64::from(timestamp) << 32))
}

/// The client's question: which registry, which time window, which value range (all bounds
/// inclusive).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Query {
    /// Root of the registered-device tree.
    pub registry_root: Fr,
    /// First accepted timestamp.
    pub window_start: u32,
    /// Last accepted timestamp.
    pub window_end: u32,
    /// Smallest accepted value.
    pub range_min: u32,
    /// Largest accepted value.
    pub range_max: u32,
}

impl Query {
    /// Validates the bounds.
    pub fn new(registry_root: Fr, window: (u32, u32), range: (u32, u32)) -> Result<Self> {
        if window.0 > window.1 {
            return Err(Error::EmptyQuery {
                what: "window",
                lo: window.0,
                hi: window.1,
            });
        }
        if range.0 > range.1 {
            return Err(Error::EmptyQuery {
                what: "range",
                lo: range.0,
                hi: range.1,
            });
        }
        Ok(Self {
            registry_root,
            window_start: window.0,
            window_end: window.1,
            range_min: range.0,
            range_max: range.1,
        })
    }

    /// Whether a reading is inside the window and the range.
    pub fn accepts(&self, value: u32, timestamp: u32) -> bool {
        (self.window_start..=self.window_end).contains(&timestamp)
            && (self.range_min..=self.range_max).contains(&value)
    }

    /// `Poseidon(root, windowStart, windowEnd, rangeMin, rangeMax)`: the task's `inputDigest`.
    pub fn digest(&self) -> Fr {
        poseidon::hash(&[
            self.registry_root,
            Fr::from(self.window_start),
            Fr::from(self.window_end),
            Fr::from(self.range_min),
            Fr::from(self.range_max),
        ])
    }
}

/// Count, sum, min and max of the accepted readings (min = max = 0 when none is accepted).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Aggregate {
    /// Accepted readings.
    pub count: u64,
    /// Sum of their values.
    pub sum: u64,
    /// Smallest accepted value.
    pub min: u32,
    /// Largest accepted value.
    pub max: u32,
}

impl Aggregate {
    /// The aggregate of `(value, timestamp)` pairs under `query`.
    pub fn of(query: &Query, readings: impl IntoIterator<Item = (u32, u32)>) -> Self {
        let accepted: Vec<u32> = readings
            .into_iter()
            .filter(|(v, t)| query.accepts(*v, *t))
            .map(|(v, _)| v)
            .collect();
        Self {
            count: accepted.len() as u64,
            sum: accepted.iter().map(|v| u64::from(*v)).sum(),
            min: accepted.iter().copied().min().unwrap_or(0),
            max: accepted.iter().copied().max().unwrap_or(0),
        }
    }

    /// `Poseidon(count, sum, min, max)`: the task's `resultDigest`.
    pub fn digest(&self) -> Fr {
        poseidon::hash(&[
            Fr::from(self.count),
            Fr::from(self.sum),
            Fr::from(self.min),
            Fr::from(self.max),
        ])
    }
}

/// The Groth16 public inputs, in order: `[inputDigest, resultDigest, binding mod r]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PublicInputs {
    /// [`Query::digest`].
    pub input_digest: Fr,
    /// [`Aggregate::digest`].
    pub result_digest: Fr,
    /// [`binding_to_field`] of the market's binding.
    pub binding: Fr,
}

impl PublicInputs {
    /// The inputs for a query, its aggregate and a market binding.
    pub fn new(query: &Query, aggregate: &Aggregate, binding: [u8; 32]) -> Self {
        Self {
            input_digest: query.digest(),
            result_digest: aggregate.digest(),
            binding: binding_to_field(binding),
        }
    }

    /// As the verifier consumes them.
    pub fn to_vec(&self) -> Vec<Fr> {
        vec![self.input_digest, self.result_digest, self.binding]
    }
}

/// The market's 32-byte `binding` (a keccak256) as a field element: the big-endian integer
/// reduced modulo r, exactly what the Solidity adapter computes (`uint256(binding) % R`).
pub fn binding_to_field(binding: [u8; 32]) -> Fr {
    Fr::from_be_bytes_mod_order(&binding)
}

/// A 32-byte big-endian word as a field element, rejecting values `>= r` (how a `bytes32`
/// digest from the chain becomes a public input).
pub fn field_from_word(word: [u8; 32], index: usize) -> Result<Fr> {
    let x = Fr::from_be_bytes_mod_order(&word);
    if field_to_word(x) != word {
        return Err(Error::PublicInputOutOfField { index });
    }
    Ok(x)
}

/// A field element as a 32-byte big-endian word (how digests go on chain).
pub fn field_to_word(x: Fr) -> [u8; 32] {
    use ark_ff::BigInteger;
    let mut out = [0u8; 32];
    out.copy_from_slice(&x.into_bigint().to_bytes_be());
    out
}
