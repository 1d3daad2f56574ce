//! The public inputs: one Poseidon digest of the input vector and one of the output vector.
//!
//! Values are packed as bytes `x + 128`, 31 to a field element (little-endian), and absorbed
//! 15 elements at a time into a chain `acc ← Poseidon(acc, e₁ … e₁₅)` started at the vector's
//! length (circomlib-compatible Poseidon from verity-zk). Two public inputs instead of one per
//! value keep the verifier's cost fixed (each public input costs an ecMul on chain, about
//! 6,000 gas); the price is the hash inside the circuit, about 600 constraints per 465 values.

use ark_bn254::Fr;
use ark_ff::{One, Zero};

/// Bytes per packed field element (`31 · 8 < 254`).
pub const PACK: usize = 31;
/// Field elements absorbed per Poseidon call (arity 16 with the chained value).
pub const RATE: usize = 15;

/// The packed field elements of `values`.
pub fn pack(values: &[i8]) -> Vec<Fr> {
    values
        .chunks(PACK)
        .map(|chunk| {
            let mut acc = Fr::zero();
            let mut pow = Fr::one();
            for v in chunk {
                acc += pow * Fr::from(u64::from((*v as i16 + 128) as u16));
                pow *= Fr::from(256u64);
            }
            acc
        })
        .collect()
}

/// The digest of a vector of int8 values.
pub fn digest(values: &[i8]) -> Fr {
    let mut acc = Fr::from(values.len() as u64);
    for chunk in pack(values).chunks(RATE) {
        let mut ins = Vec::with_capacity(chunk.len() + 1);
        ins.push(acc);
        ins.extend_from_slice(chunk);
        acc = verity_zk::poseidon::hash(&ins);
    }
    acc
}

/// The public inputs of a proof that `input` gives `output`: `[digest(input), digest(output)]`.
pub fn public_inputs(input: &[i8], output: &[i8]) -> [Fr; 2] {
    [digest(input), digest(output)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_separates_values_and_lengths() {
        let a = digest(&[1, 2, 3]);
        assert_ne!(a, digest(&[1, 2, 4]));
        assert_ne!(a, digest(&[1, 2, 3, -128]), "a trailing -128 packs as zero");
        assert_ne!(digest(&[0; 31]), digest(&[0; 32]));
        let long: Vec<i8> = (0..1000).map(|i| (i % 256 - 128) as i8).collect();
        let mut other = long.clone();
        other[999] = 0;
        assert_ne!(digest(&long), digest(&other));
    }
}
