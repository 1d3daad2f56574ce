//! circomlib-compatible Poseidon over BN254 (x^5 S-box, 8 full rounds, circomlib's partial
//! round counts, width `t = inputs + 1`, capacity element first and zero, output `state[0]`).

mod grain;

use std::sync::OnceLock;

use ark_bn254::Fr;

/// The largest number of inputs circomlib's `Poseidon(n)` template accepts.
pub const MAX_INPUTS: usize = 16;

/// Full rounds (all widths).
pub const ROUNDS_F: usize = 8;

/// Partial rounds for widths t = 2..=17, as in circomlib's `poseidon.circom`.
const ROUNDS_P: [usize; 16] = [
    56, 57, 56, 60, 60, 63, 64, 63, 60, 66, 60, 65, 70, 60, 64, 68,
];

/// The constants of one Poseidon width.
#[derive(Debug)]
pub struct PoseidonParams {
    /// State width (inputs + 1).
    pub t: usize,
    /// Partial rounds.
    pub rounds_p: usize,
    /// Round constants, `t` per round.
    pub constants: Vec<Fr>,
    /// MDS matrix, `mds[i][j]` multiplies `state[j]` into the new `state[i]`.
    pub mds: Vec<Vec<Fr>>,
}

/// The parameters for `n_inputs` inputs (generated once per process, then cached).
///
/// # Panics
/// If `n_inputs` is 0 or above [`MAX_INPUTS`] (a programming error: every call site in this
/// crate uses a fixed arity).
pub fn params(n_inputs: usize) -> &'static PoseidonParams {
    static CACHE: [OnceLock<PoseidonParams>; MAX_INPUTS] = [const { OnceLock::new() }; MAX_INPUTS];
    assert!(
        (1..=MAX_INPUTS).contains(&n_inputs),
        "poseidon arity {n_inputs} unsupported"
    );
    CACHE[n_inputs - 1].get_or_init(|| {
        let t = n_inputs + 1;
        let rounds_p = ROUNDS_P[t - 2];
        let (constants, mds) = grain::generate(t, ROUNDS_F, rounds_p);
        PoseidonParams {
            t,
            rounds_p,
            constants,
            mds,
        }
    })
}

fn pow5(x: Fr) -> Fr {
    let x2 = x * x;
    x2 * x2 * x
}

/// Poseidon hash of 1..=16 field elements, equal to circomlib's `Poseidon(n)`.
///
/// # Panics
/// If `inputs` is empty or longer than [`MAX_INPUTS`].
pub fn hash(inputs: &[Fr]) -> Fr {
    let p = params(inputs.len());
    let t = p.t;
    let mut state = Vec::with_capacity(t);
    state.push(Fr::from(0u64));
    state.extend_from_slice(inputs);
    let total = ROUNDS_F + p.rounds_p;
    for r in 0..total {
        for (s, c) in state.iter_mut().zip(&p.constants[r * t..(r + 1) * t]) {
            *s += c;
        }
        let full = r < ROUNDS_F / 2 || r >= ROUNDS_F / 2 + p.rounds_p;
        if full {
            state.iter_mut().for_each(|s| *s = pow5(*s));
        } else {
            state[0] = pow5(state[0]);
        }
        state = p
            .mds
            .iter()
            .map(|row| row.iter().zip(&state).map(|(m, s)| *m * s).sum())
            .collect();
    }
    state[0]
}

#[cfg(test)]
mod tests {
    use super::*;
    use ark_ff::{BigInteger, PrimeField};

    fn hex(x: Fr) -> String {
        x.into_bigint()
            .to_bytes_be()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }

    /// circomlibjs `test/poseidon.js` ("poseidonperm_x5_254_3" and "_5" reference vectors).
    #[test]
    fn matches_circomlibjs_vectors() {
        let f = |v: u64| Fr::from(v);
        assert_eq!(
            hex(hash(&[f(1), f(2)])),
            "115cc0f5e7d690413df64c6b9662e9cf2a3617f2743245519e19607a4417189a"
        );
        assert_eq!(
            hex(hash(&[f(1), f(2), f(3), f(4)])),
            "299c867db6c1fdd79dcefa40e4510b9837e60ebb1ce0663dbaa525df65250465"
        );
    }
}
