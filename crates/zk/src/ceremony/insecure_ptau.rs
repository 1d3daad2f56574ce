//! **INSECURE, FOR TESTS ONLY.** Writes a small prepared powers-of-tau file (`.ptau`, BN254,
//! sections 1–7 and 12–15, see [`super::phase1`]) from tau, alpha and beta the caller
//! **knows**. Anyone who knows them can forge proofs for every circuit set up from the file.
//! The real ceremony files (Perpetual Powers of Tau, Hermez) cannot be downloaded on this
//! machine; this stands in for them in tests and on devnets, and every name here says so.

use std::io::{BufWriter, Write};
use std::path::Path;

use ark_bn254::{Fq, Fr, G1Projective, G2Projective};
use ark_ec::PrimeGroup;
use ark_ec::scalar_mul::BatchMulPreprocessing;
use ark_ff::{BigInteger, Field, One, PrimeField, Zero};

use super::error::{CeremonyError, Result};
use super::phase1::{self, G1_BYTES, G2_BYTES, MAGIC, VERSION, snarkjs_root_of_unity};

/// The known secrets of an insecure test file.
#[derive(Clone, Copy, Debug)]
pub struct KnownTau {
    /// tau.
    pub tau: Fr,
    /// alpha.
    pub alpha: Fr,
    /// beta.
    pub beta: Fr,
}

impl KnownTau {
    /// The secrets the tests use, from a fixed public seed (recognised and refused off the
    /// devnet by [`crate::origin`]).
    pub fn insecure_test() -> Self {
        use ark_ff::UniformRand;
        use ark_std::rand::{SeedableRng, rngs::StdRng};
        let mut rng = StdRng::seed_from_u64(INSECURE_TEST_SEED);
        Self {
            tau: Fr::rand(&mut rng),
            alpha: Fr::rand(&mut rng),
            beta: Fr::rand(&mut rng),
        }
    }
}

/// The public seed of [`KnownTau::insecure_test`].
pub const INSECURE_TEST_SEED: u64 = 0x696e_7365_6375_7265; // "insecure"

/// L_i(tau) on the 2^m domain (snarkjs' roots); `truncated` drops tau^(M−1) as the last block
/// of section 12 does (it is the inverse FFT of 2^m powers whose last one is absent).
fn lagrange_scalars(tau: Fr, m: u32, truncated: bool) -> Result<Vec<Fr>> {
    let size = 1usize << m;
    let w = snarkjs_root_of_unity(m);
    let mut w_i = Vec::with_capacity(size);
    let mut acc = Fr::one();
    for _ in 0..size {
        w_i.push(acc);
        acc *= w;
    }
    let mut denom: Vec<Fr> = w_i.iter().map(|x| tau - x).collect();
    if denom.iter().any(Zero::is_zero) {
        return Err(CeremonyError::ptau(12, "tau is a root of unity"));
    }
    ark_ff::batch_inversion(&mut denom);
    let m_inv = Fr::from(size as u64).inverse().expect("2^m is invertible");
    let numer = (tau.pow([size as u64]) - Fr::one()) * m_inv;
    let last = tau.pow([size as u64 - 1]) * m_inv;
    Ok(w_i
        .iter()
        .zip(&denom)
        .map(|(x, d)| {
            let s = *x * numer * d;
            if truncated { s - last * x } else { s }
        })
        .collect())
}

/// Writes the INSECURE file of power `power` (1..=20) from `secrets` to `path`.
pub fn write_insecure_ptau(path: &Path, power: u32, secrets: KnownTau) -> Result<()> {
    if power == 0 || power > 20 {
        return Err(CeremonyError::ptau(
            1,
            format!("test files have power 1..=20, not {power}"),
        ));
    }
    let KnownTau { tau, alpha, beta } = secrets;
    let n = 1usize << power;
    let g1 = BatchMulPreprocessing::new(G1Projective::generator(), 2 * n);
    let g2 = BatchMulPreprocessing::new(G2Projective::generator(), n);
    let mut powers = Vec::with_capacity(2 * n - 1);
    let mut acc = Fr::one();
    for _ in 0..2 * n - 1 {
        powers.push(acc);
        acc *= tau;
    }
    let scaled = |k: Fr, v: &[Fr]| v.iter().map(|x| k * x).collect::<Vec<_>>();
    let g1s = |v: &[Fr]| {
        let mut out = Vec::with_capacity(v.len() * G1_BYTES as usize);
        g1.batch_mul(v)
            .iter()
            .for_each(|p| phase1::encode_g1(p, &mut out));
        out
    };
    let g2s = |v: &[Fr]| {
        let mut out = Vec::with_capacity(v.len() * G2_BYTES as usize);
        g2.batch_mul(v)
            .iter()
            .for_each(|p| phase1::encode_g2(p, &mut out));
        out
    };
    let bases: Vec<Vec<Fr>> = (0..=power + 1)
        .map(|m| lagrange_scalars(tau, m, m == power + 1))
        .collect::<Result<_>>()?;
    let blocks = |f: &dyn Fn(&[Fr]) -> Vec<u8>, k: Fr, top: u32| -> Vec<u8> {
        bases[..=top as usize]
            .iter()
            .flat_map(|b| f(&scaled(k, b)))
            .collect()
    };
    let mut header = 32u32.to_le_bytes().to_vec();
    header.extend_from_slice(&Fq::MODULUS.to_bytes_le());
    header.extend_from_slice(&power.to_le_bytes());
    header.extend_from_slice(&power.to_le_bytes());
    let sections: Vec<(u32, Vec<u8>)> = vec![
        (1, header),
        (2, g1s(&powers)),
        (3, g2s(&powers[..n])),
        (4, g1s(&scaled(alpha, &powers[..n]))),
        (5, g1s(&scaled(beta, &powers[..n]))),
        (6, g2s(&[beta])),
        (7, 0u32.to_le_bytes().to_vec()),
        (12, blocks(&g1s, Fr::one(), power + 1)),
        (13, blocks(&g2s, Fr::one(), power)),
        (14, blocks(&g1s, alpha, power)),
        (15, blocks(&g1s, beta, power)),
    ];
    let tmp = super::partial_path(path);
    let f = std::fs::File::create(&tmp).map_err(CeremonyError::io("writing", &tmp))?;
    let mut w = BufWriter::new(f);
    let mut write = || -> std::io::Result<()> {
        w.write_all(MAGIC)?;
        w.write_all(&VERSION.to_le_bytes())?;
        w.write_all(&(sections.len() as u32).to_le_bytes())?;
        for (id, bytes) in &sections {
            w.write_all(&id.to_le_bytes())?;
            w.write_all(&(bytes.len() as u64).to_le_bytes())?;
            w.write_all(bytes)?;
        }
        w.flush()
    };
    write().map_err(CeremonyError::io("writing", &tmp))?;
    std::fs::rename(&tmp, path).map_err(CeremonyError::io("writing", path))?;
    tracing::warn!(target: "zk::ceremony", path = %path.display(), power, "wrote an INSECURE powers-of-tau file (known tau), for tests only");
    Ok(())
}
