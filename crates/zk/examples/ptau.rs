//! **INSECURE, BENCHMARK ONLY.** Writes a *prepared* (phase-2-ready) snarkjs powers-of-tau file
//! (`.ptau`, BN254) from secrets that are **known**: tau, alpha and beta are derived from a
//! fixed seed and printed on stderr. Anyone holding this file can forge proofs for every circuit
//! set up from it. It exists only so that the snarkjs peer of issue 6 (bench/zk-peer) can be
//! timed at N = 16..256: snarkjs' own `powersoftau contribute` + `prepare phase2` (group FFTs in
//! JavaScript) do not finish for 2^17..2^21 on the benchmark machine, and neither step is part of
//! what the benchmark measures (circuit setup, witness, proving, verification). Never use a file
//! from this tool for anything but timing a prover.
//!
//! ```text
//! cargo run -p verity-zk --example ptau -- <power> <out.ptau> [--seed <u64>]
//! ```
//!
//! With tau known every section is field arithmetic plus fixed-base batch scalar
//! multiplication, no group FFT:
//!
//! | id | content (snarkjs `powersoftau_new.js`, `powersoftau_preparephase2.js`) |
//! |----|-----------------------------------------------------------------------|
//! | 1  | header: n8 = 32, q (little-endian), power, ceremony power              |
//! | 2  | tau^j G1, j < 2^(p+1) - 1                                              |
//! | 3  | tau^j G2, j < 2^p                                                      |
//! | 4  | alpha tau^j G1, j < 2^p                                                |
//! | 5  | beta tau^j G1, j < 2^p                                                 |
//! | 6  | beta G2                                                                |
//! | 7  | contributions: count 0 (no ceremony took place)                        |
//! | 12 | for m = 0..=p+1: inverse DFT over the 2^m-th roots of unity of section 2's first 2^m points (the last block's 2^(p+1)-th point is zero), i.e. L_i(tau) G1 |
//! | 13 | the same for section 3, m = 0..=p (G2)                                 |
//! | 14 | the same for section 4, m = 0..=p                                      |
//! | 15 | the same for section 5, m = 0..=p                                      |
//!
//! Points are affine (x, y), each coordinate 32 bytes little-endian in Montgomery form
//! (R = 2^256); an Fq2 coordinate is c0 then c1. Sections 12..15 are what snarkjs'
//! `prepare phase2` writes (`G.lagrangeEvaluations`, a plain inverse FFT below 2^28). The
//! roots of unity are snarkjs' (wasmcurves `build_fft.js`): w = nr^((r-1)/2^28) with nr the
//! smallest quadratic non-residue >= 2, so the Lagrange bases match its prover's domain.
//! Written from the format as read in snarkjs 0.7.6 / @iden3/binfileutils; no code copied.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;

use ark_bn254::{Fq, Fq2, Fr, G1Affine, G1Projective, G2Affine, G2Projective};
use ark_ec::scalar_mul::BatchMulPreprocessing;
use ark_ec::{AffineRepr, PrimeGroup};
use ark_ff::{BigInteger, Field, One, PrimeField, UniformRand, Zero};
use ark_std::rand::{SeedableRng, rngs::StdRng};

type BoxResult<T> = Result<T, Box<dyn std::error::Error>>;

/// snarkjs' "ptau" file magic and version.
const MAGIC: &[u8; 4] = b"ptau";
const VERSION: u32 = 1;
/// Bytes of one affine point in the file: two coordinates of 32 (G1) or 64 (G2) bytes.
const G1_BYTES: u64 = 64;
const G2_BYTES: u64 = 128;
/// BN254 Fr's two-adicity; snarkjs' plain-iFFT path of `lagrangeEvaluations` is for m <= 28.
const TWO_ADICITY: u32 = 28;
/// Default seed of the known secrets (change it with `--seed`; it makes nothing secure).
const DEFAULT_SEED: u64 = 0x7665_7269_7479_2d70; // "verity-p"

fn main() -> BoxResult<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: ptau <power> <out.ptau> [--seed <u64>]";
    let power: u32 = args.first().ok_or(usage)?.parse()?;
    let out = PathBuf::from(args.get(1).ok_or(usage)?);
    let seed = match args.iter().position(|a| a == "--seed") {
        Some(i) => args.get(i + 1).ok_or(usage)?.parse()?,
        None => DEFAULT_SEED,
    };
    // The last Lagrange block of section 12 has 2^(p+1) points; snarkjs caps it at 2^(s+1).
    if power == 0 || power >= TWO_ADICITY {
        return Err(format!("power must be in 1..{TWO_ADICITY}, got {power}").into());
    }

    let mut rng = StdRng::seed_from_u64(seed);
    let tau = Fr::rand(&mut rng);
    let alpha = Fr::rand(&mut rng);
    let beta = Fr::rand(&mut rng);
    eprintln!(
        "[ptau] INSECURE BENCHMARK-ONLY powers of tau 2^{power}: the secrets are KNOWN \
         (seed {seed}): tau={tau} alpha={alpha} beta={beta}"
    );

    let started = Instant::now();
    let n = 1usize << power;
    let g1 = G1Projective::generator();
    let g2 = G2Projective::generator();
    // One fixed-base table per group, sized for the largest batch it serves.
    let t1 = BatchMulPreprocessing::new(g1, 2 * n);
    let t2 = BatchMulPreprocessing::new(g2, n);

    let mut tau_powers = Vec::with_capacity(2 * n - 1);
    let mut acc = Fr::one();
    for _ in 0..2 * n - 1 {
        tau_powers.push(acc);
        acc *= tau;
    }
    let scaled = |k: Fr, v: &[Fr]| v.iter().map(|x| k * x).collect::<Vec<_>>();

    let mut file = BufWriter::with_capacity(1 << 22, File::create(&out)?);
    file.write_all(MAGIC)?;
    file.write_all(&VERSION.to_le_bytes())?;
    file.write_all(&11u32.to_le_bytes())?;

    // 1: header.
    let modulus = Fq::MODULUS.to_bytes_le();
    section(&mut file, 1, 4 + modulus.len() as u64 + 8)?;
    file.write_all(&32u32.to_le_bytes())?;
    file.write_all(&modulus)?;
    file.write_all(&power.to_le_bytes())?;
    file.write_all(&power.to_le_bytes())?;

    // 2..6: the raw powers.
    let n1 = n as u64;
    section(&mut file, 2, (2 * n1 - 1) * G1_BYTES)?;
    write_g1(&mut file, &t1.batch_mul(&tau_powers))?;
    section(&mut file, 3, n1 * G2_BYTES)?;
    write_g2(&mut file, &t2.batch_mul(&tau_powers[..n]))?;
    section(&mut file, 4, n1 * G1_BYTES)?;
    write_g1(&mut file, &t1.batch_mul(&scaled(alpha, &tau_powers[..n])))?;
    section(&mut file, 5, n1 * G1_BYTES)?;
    write_g1(&mut file, &t1.batch_mul(&scaled(beta, &tau_powers[..n])))?;
    section(&mut file, 6, G2_BYTES)?;
    write_g2(&mut file, &[(g2 * beta).into()])?;
    eprintln!("[ptau] raw powers done in {:.1?}", started.elapsed());

    // 7: no contributions.
    section(&mut file, 7, 4)?;
    file.write_all(&0u32.to_le_bytes())?;

    // 12..15: Lagrange bases of every power-of-two domain up to 2^p (2^(p+1) for tau G1).
    let bases: Vec<Vec<Fr>> = (0..=power + 1)
        .map(|m| lagrange_block(tau, m, m == power + 1))
        .collect::<BoxResult<_>>()?;
    let prepared = (2 * n1 - 1) * G1_BYTES;
    section(&mut file, 12, prepared + 2 * n1 * G1_BYTES)?;
    for b in &bases {
        write_g1(&mut file, &t1.batch_mul(b))?;
    }
    section(&mut file, 13, (2 * n1 - 1) * G2_BYTES)?;
    for b in &bases[..=power as usize] {
        write_g2(&mut file, &t2.batch_mul(b))?;
    }
    for (id, k) in [(14, alpha), (15, beta)] {
        section(&mut file, id, prepared)?;
        for b in &bases[..=power as usize] {
            write_g1(&mut file, &t1.batch_mul(&scaled(k, b)))?;
        }
    }
    file.flush()?;
    eprintln!(
        "[ptau] wrote {} ({} bytes) in {:.1?}",
        out.display(),
        std::fs::metadata(&out)?.len(),
        started.elapsed()
    );
    Ok(())
}

/// The scalars snarkjs' inverse FFT of (tau^0, .., tau^(2^m - 1)) G yields on the domain of
/// size M = 2^m: s_i = (1/M) sum_j (tau w^-i)^j = L_i(tau) = w^i (tau^M - 1) / (M (tau - w^i)).
/// `truncated`: the last coefficient tau^(M-1) is zero (section 12's extra block), so
/// (1/M) tau^(M-1) w^i is subtracted.
fn lagrange_block(tau: Fr, m: u32, truncated: bool) -> BoxResult<Vec<Fr>> {
    let size = 1usize << m;
    let w = root_of_unity(m);
    let mut w_i = Vec::with_capacity(size);
    let mut acc = Fr::one();
    for _ in 0..size {
        w_i.push(acc);
        acc *= w;
    }
    let mut denom: Vec<Fr> = w_i.iter().map(|x| tau - x).collect();
    if denom.iter().any(Zero::is_zero) {
        return Err("tau is a root of unity; pick another --seed".into());
    }
    ark_ff::batch_inversion(&mut denom);
    let m_inv = Fr::from(size as u64)
        .inverse()
        .ok_or("domain size not invertible")?;
    let tau_m = tau.pow([size as u64]);
    let numer = (tau_m - Fr::one()) * m_inv;
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

/// The primitive 2^m-th root of unity snarkjs uses: nr^((r-1)/2^28) squared 28 - m times,
/// nr the smallest quadratic non-residue from 2 on (wasmcurves `build_fft.js`).
fn root_of_unity(m: u32) -> Fr {
    let mut nr = Fr::from(2u64);
    while nr.legendre().is_qr() {
        nr += Fr::one();
    }
    let t = Fr::MODULUS >> TWO_ADICITY;
    let mut w = nr.pow(t);
    for _ in m..TWO_ADICITY {
        w.square_in_place();
    }
    w
}

fn section(file: &mut impl Write, id: u32, len: u64) -> std::io::Result<()> {
    file.write_all(&id.to_le_bytes())?;
    file.write_all(&len.to_le_bytes())
}

/// Montgomery-form limbs, little-endian (snarkjs `toRprLEM`).
fn fq_lem(x: &Fq, out: &mut Vec<u8>) {
    for limb in x.0.0 {
        out.extend_from_slice(&limb.to_le_bytes());
    }
}

fn write_g1(file: &mut impl Write, points: &[G1Affine]) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(points.len() * G1_BYTES as usize);
    for p in points {
        let (x, y) = p.xy().unwrap_or((Fq::zero(), Fq::zero()));
        fq_lem(&x, &mut buf);
        fq_lem(&y, &mut buf);
    }
    file.write_all(&buf)
}

fn write_g2(file: &mut impl Write, points: &[G2Affine]) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(points.len() * G2_BYTES as usize);
    for p in points {
        let (x, y) = p.xy().unwrap_or((Fq2::zero(), Fq2::zero()));
        for c in [x.c0, x.c1, y.c0, y.c1] {
            fq_lem(&c, &mut buf);
        }
    }
    file.write_all(&buf)
}
