//! Phase 1: reading a BN254 powers-of-tau file in the snarkjs `.ptau` format (the format of
//! the Perpetual Powers of Tau and Hermez ceremonies after `snarkjs powersoftau
//! prepare phase2`).
//!
//! Layout (as read in snarkjs 0.7.6 and @iden3/binfileutils; hand-written reader, no code
//! copied): `b"ptau"`, `u32` version 1, `u32` section count, then sections `(u32 id, u64
//! length, bytes)`, all little-endian:
//!
//! | id | content |
//! |----|---------|
//! | 1  | header: `u32` n8 = 32, q (32 bytes LE), `u32` power p, `u32` ceremony power |
//! | 2  | tau^j·G1, j < 2^(p+1) − 1 |
//! | 3  | tau^j·G2, j < 2^p |
//! | 4  | alpha·tau^j·G1, j < 2^p |
//! | 5  | beta·tau^j·G1, j < 2^p |
//! | 6  | beta·G2 |
//! | 7  | the phase-1 contributions (not read here) |
//! | 12 | for m = 0..=p+1, block of 2^m points: L_i(tau)·G1 over the 2^m-th roots of unity |
//! | 13, 14, 15 | the same for m = 0..=p: L_i(tau)·G2, alpha·L_i(tau)·G1, beta·L_i(tau)·G1 |
//!
//! A point is affine `(x, y)`, each coordinate 32 bytes little-endian in Montgomery form (an
//! Fq2 coordinate is `c0` then `c1`); `(0, 0)` is the point at infinity. Every point read is
//! checked to be on the curve and in the prime-order subgroup. Only the parts a circuit needs
//! are read (the files run to gigabytes). The roots of unity are snarkjs' (`w = nr^((r−1)/2^28)`,
//! `nr` the smallest quadratic non-residue), which [`snarkjs_root_of_unity`] recomputes so that
//! the Lagrange blocks can be checked against arkworks' evaluation domain before use.

use std::collections::HashMap;
use std::fs::File;
use std::io::{BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use ark_bn254::{Fq, Fq2, Fr, G1Affine, G2Affine};
use ark_ec::AffineRepr;
use ark_ff::{BigInt, BigInteger, Field, One, PrimeField, Zero};

use super::error::{CeremonyError, Result};

/// File magic.
pub const MAGIC: &[u8; 4] = b"ptau";
/// The only version there is.
pub const VERSION: u32 = 1;
/// Bytes of an affine G1 point.
pub const G1_BYTES: u64 = 64;
/// Bytes of an affine G2 point.
pub const G2_BYTES: u64 = 128;
/// BN254 Fr's two-adicity: the largest power of two a domain can have.
pub const TWO_ADICITY: u32 = 28;

/// An open `.ptau` file: header read, section table known, points read on demand.
#[derive(Debug)]
pub struct Ptau {
    path: PathBuf,
    file: BufReader<File>,
    power: u32,
    ceremony_power: u32,
    sections: HashMap<u32, (u64, u64)>,
}

/// snarkjs' primitive 2^m-th root of unity (wasmcurves `build_fft.js`).
pub fn snarkjs_root_of_unity(m: u32) -> Fr {
    let mut nr = Fr::from(2u64);
    while nr.legendre().is_qr() {
        nr += Fr::one();
    }
    let mut w = nr.pow(Fr::MODULUS >> TWO_ADICITY);
    for _ in m..TWO_ADICITY {
        w.square_in_place();
    }
    w
}

impl Ptau {
    /// Opens `path` and reads its header and section table.
    pub fn open(path: &Path) -> Result<Self> {
        let f = File::open(path).map_err(CeremonyError::io("reading", path))?;
        let mut file = BufReader::with_capacity(1 << 20, f);
        let io = |e: std::io::Error| CeremonyError::ptau(0, e.to_string());
        let mut head = [0u8; 12];
        file.read_exact(&mut head).map_err(io)?;
        if &head[..4] != MAGIC {
            return Err(CeremonyError::ptau(0, "not a ptau file (magic)"));
        }
        let version = u32::from_le_bytes(head[4..8].try_into().expect("4 bytes"));
        if version != VERSION {
            return Err(CeremonyError::ptau(
                0,
                format!("version {version}, expected 1"),
            ));
        }
        let count = u32::from_le_bytes(head[8..12].try_into().expect("4 bytes"));
        let total = file.get_ref().metadata().map_err(io)?.len();
        let mut sections = HashMap::new();
        let mut at = 12u64;
        for _ in 0..count {
            let mut s = [0u8; 12];
            file.read_exact(&mut s).map_err(io)?;
            let id = u32::from_le_bytes(s[..4].try_into().expect("4 bytes"));
            let len = u64::from_le_bytes(s[4..].try_into().expect("8 bytes"));
            at += 12;
            if at.checked_add(len).is_none_or(|end| end > total) {
                return Err(CeremonyError::ptau(
                    id,
                    "section runs past the end of the file",
                ));
            }
            if sections.insert(id, (at, len)).is_some() {
                return Err(CeremonyError::ptau(id, "section appears twice"));
            }
            at += len;
            file.seek(SeekFrom::Start(at)).map_err(io)?;
        }
        let mut ptau = Self {
            path: path.to_path_buf(),
            file,
            power: 0,
            ceremony_power: 0,
            sections,
        };
        ptau.read_header()?;
        Ok(ptau)
    }

    fn read_header(&mut self) -> Result<()> {
        let h = self.read(1, 0, 4 + 32 + 8)?;
        let n8 = u32::from_le_bytes(h[..4].try_into().expect("4 bytes"));
        if n8 != 32 {
            return Err(CeremonyError::ptau(
                1,
                format!("field size {n8} bytes, BN254 has 32"),
            ));
        }
        if h[4..36] != Fq::MODULUS.to_bytes_le()[..] {
            return Err(CeremonyError::ptau(1, "the base field is not BN254's"));
        }
        self.power = u32::from_le_bytes(h[36..40].try_into().expect("4 bytes"));
        self.ceremony_power = u32::from_le_bytes(h[40..44].try_into().expect("4 bytes"));
        if self.power == 0 || self.power >= TWO_ADICITY {
            return Err(CeremonyError::ptau(
                1,
                format!("power {} out of range", self.power),
            ));
        }
        let p = self.power;
        let n = 1u64 << p;
        let expect = [
            (2, (2 * n - 1) * G1_BYTES),
            (3, n * G2_BYTES),
            (4, n * G1_BYTES),
            (5, n * G1_BYTES),
            (6, G2_BYTES),
        ];
        for (id, len) in expect {
            self.expect_len(id, len)?;
        }
        Ok(())
    }

    fn expect_len(&self, id: u32, len: u64) -> Result<()> {
        match self.sections.get(&id) {
            None => Err(CeremonyError::ptau(id, "missing")),
            Some(&(_, got)) if got != len => Err(CeremonyError::ptau(
                id,
                format!("{got} bytes, expected {len} for power {}", self.power),
            )),
            Some(_) => Ok(()),
        }
    }

    /// The file's power p: it holds 2^p powers of tau (2^(p+1) − 1 in G1).
    pub fn power(&self) -> u32 {
        self.power
    }

    /// The power the phase-1 ceremony was run for.
    pub fn ceremony_power(&self) -> u32 {
        self.ceremony_power
    }

    /// Whether the Lagrange sections of `prepare phase2` (12..15) are present.
    pub fn has_lagrange(&self) -> bool {
        (12..=15).all(|id| self.sections.contains_key(&id))
    }

    fn read(&mut self, id: u32, offset: u64, len: u64) -> Result<Vec<u8>> {
        let &(start, size) = self
            .sections
            .get(&id)
            .ok_or_else(|| CeremonyError::ptau(id, "missing"))?;
        if offset.checked_add(len).is_none_or(|end| end > size) {
            return Err(CeremonyError::ptau(
                id,
                format!("read of {len} bytes at {offset} past the section's {size}"),
            ));
        }
        let mut buf = vec![0u8; len as usize];
        let path = self.path.clone();
        self.file
            .seek(SeekFrom::Start(start + offset))
            .and_then(|_| self.file.read_exact(&mut buf))
            .map_err(CeremonyError::io("reading", &path))?;
        Ok(buf)
    }

    fn g1s(&mut self, id: u32, start: u64, count: u64) -> Result<Vec<G1Affine>> {
        let raw = self.read(id, start * G1_BYTES, count * G1_BYTES)?;
        raw.chunks_exact(G1_BYTES as usize)
            .enumerate()
            .map(|(i, c)| decode_g1(c).ok_or_else(|| bad_point(id, start + i as u64)))
            .collect()
    }

    fn g2s(&mut self, id: u32, start: u64, count: u64) -> Result<Vec<G2Affine>> {
        let raw = self.read(id, start * G2_BYTES, count * G2_BYTES)?;
        raw.chunks_exact(G2_BYTES as usize)
            .enumerate()
            .map(|(i, c)| decode_g2(c).ok_or_else(|| bad_point(id, start + i as u64)))
            .collect()
    }

    /// tau^j·G1 for j in `start..start + count` (section 2).
    pub fn tau_g1(&mut self, start: u64, count: u64) -> Result<Vec<G1Affine>> {
        self.g1s(2, start, count)
    }

    /// tau^j·G2 for j in `start..start + count` (section 3).
    pub fn tau_g2(&mut self, start: u64, count: u64) -> Result<Vec<G2Affine>> {
        self.g2s(3, start, count)
    }

    /// alpha·tau^j·G1 (section 4).
    pub fn alpha_tau_g1(&mut self, start: u64, count: u64) -> Result<Vec<G1Affine>> {
        self.g1s(4, start, count)
    }

    /// beta·tau^j·G1 (section 5).
    pub fn beta_tau_g1(&mut self, start: u64, count: u64) -> Result<Vec<G1Affine>> {
        self.g1s(5, start, count)
    }

    /// beta·G2 (section 6).
    pub fn beta_g2(&mut self) -> Result<G2Affine> {
        Ok(self.g2s(6, 0, 1)?[0])
    }

    fn lagrange_block(&self, id: u32, m: u32) -> Result<(u64, u64)> {
        let top = if id == 12 { self.power + 1 } else { self.power };
        if m > top {
            return Err(CeremonyError::PtauTooSmall {
                power: self.power,
                needed: m,
            });
        }
        self.expect_len(
            id,
            ((2u64 << top) - 1) * if id == 13 { G2_BYTES } else { G1_BYTES },
        )?;
        Ok(((1u64 << m) - 1, 1u64 << m))
    }

    /// L_i(tau)·G1 over the domain of size 2^m (section 12).
    pub fn lagrange_g1(&mut self, m: u32) -> Result<Vec<G1Affine>> {
        let (start, count) = self.lagrange_block(12, m)?;
        self.g1s(12, start, count)
    }

    /// L_i(tau)·G2 over the domain of size 2^m (section 13).
    pub fn lagrange_g2(&mut self, m: u32) -> Result<Vec<G2Affine>> {
        let (start, count) = self.lagrange_block(13, m)?;
        self.g2s(13, start, count)
    }

    /// alpha·L_i(tau)·G1 (section 14).
    pub fn alpha_lagrange_g1(&mut self, m: u32) -> Result<Vec<G1Affine>> {
        let (start, count) = self.lagrange_block(14, m)?;
        self.g1s(14, start, count)
    }

    /// beta·L_i(tau)·G1 (section 15).
    pub fn beta_lagrange_g1(&mut self, m: u32) -> Result<Vec<G1Affine>> {
        let (start, count) = self.lagrange_block(15, m)?;
        self.g1s(15, start, count)
    }
}

fn bad_point(id: u32, index: u64) -> CeremonyError {
    CeremonyError::ptau(
        id,
        format!("point {index} is not a valid point of the group"),
    )
}

/// A coordinate: 32 bytes little-endian, Montgomery form, below the modulus.
fn decode_fq(b: &[u8]) -> Option<Fq> {
    let mut limbs = [0u64; 4];
    for (l, c) in limbs.iter_mut().zip(b.chunks_exact(8)) {
        *l = u64::from_le_bytes(c.try_into().ok()?);
    }
    let big = BigInt::new(limbs);
    (big < Fq::MODULUS).then(|| Fq::new_unchecked(big))
}

fn decode_g1(b: &[u8]) -> Option<G1Affine> {
    let (x, y) = (decode_fq(&b[..32])?, decode_fq(&b[32..64])?);
    if x.is_zero() && y.is_zero() {
        return Some(G1Affine::zero());
    }
    let p = G1Affine::new_unchecked(x, y);
    (p.is_on_curve() && p.is_in_correct_subgroup_assuming_on_curve()).then_some(p)
}

fn decode_g2(b: &[u8]) -> Option<G2Affine> {
    let f = |i: usize| decode_fq(&b[32 * i..32 * (i + 1)]);
    let (x, y) = (Fq2::new(f(0)?, f(1)?), Fq2::new(f(2)?, f(3)?));
    if x.is_zero() && y.is_zero() {
        return Some(G2Affine::zero());
    }
    let p = G2Affine::new_unchecked(x, y);
    (p.is_on_curve() && p.is_in_correct_subgroup_assuming_on_curve()).then_some(p)
}

/// Montgomery-form limbs, little-endian (snarkjs `toRprLEM`).
pub(crate) fn encode_fq(x: &Fq, out: &mut Vec<u8>) {
    for limb in x.0.0 {
        out.extend_from_slice(&limb.to_le_bytes());
    }
}

/// The file encoding of a G1 point.
pub(crate) fn encode_g1(p: &G1Affine, out: &mut Vec<u8>) {
    let (x, y) = p.xy().unwrap_or((Fq::zero(), Fq::zero()));
    encode_fq(&x, out);
    encode_fq(&y, out);
}

/// The file encoding of a G2 point.
pub(crate) fn encode_g2(p: &G2Affine, out: &mut Vec<u8>) {
    let (x, y) = p.xy().unwrap_or((Fq2::zero(), Fq2::zero()));
    for c in [x.c0, x.c1, y.c0, y.c1] {
        encode_fq(&c, out);
    }
}
