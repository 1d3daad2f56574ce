//! The transcript's hashes: the digest of a key, the running hash that chains contributions,
//! and the challenge point in G2 each proof of knowledge answers.
//!
//! The challenge is hashed to G2 by try-and-increment (hand-written, a dozen lines: arkworks 0.6
//! has no hash-to-curve for BN254's G2, whose `a = 0` rules out its SWU map): a sha256 stream
//! gives an x in Fq2, the first x on the twist is lifted and multiplied by the cofactor. Nobody
//! knows the discrete logarithm of the result, which is what the proof of knowledge needs (the
//! same construction as snarkjs' `hashToG2`, which seeds a ChaCha stream instead).

use ark_bn254::{Fq, Fq2, G1Affine, G2Affine};
use ark_ec::AffineRepr;
use ark_ff::PrimeField;
use ark_groth16::ProvingKey;
use ark_serialize::CanonicalSerialize;
use sha2::{Digest, Sha256};

use super::phase2::Contribution;

/// Domain separation of every hash of the ceremony.
const TAG: &[u8] = b"verity.zk.phase2.v1";

/// sha256 of `parts`, each length-prefixed, under the ceremony's tag and `label`.
pub(crate) fn hash(label: &str, parts: &[&[u8]]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(TAG);
    h.update((label.len() as u64).to_le_bytes());
    h.update(label.as_bytes());
    for p in parts {
        h.update((p.len() as u64).to_le_bytes());
        h.update(p);
    }
    h.finalize().into()
}

/// Uncompressed bytes of a point or key (infallible for in-memory arkworks values).
pub(crate) fn bytes<T: CanonicalSerialize>(t: &T) -> Vec<u8> {
    let mut out = Vec::with_capacity(t.uncompressed_size());
    t.serialize_uncompressed(&mut out)
        .expect("serializing to a Vec does not fail");
    out
}

/// sha256 of a proving key's uncompressed serialization: how the transcript names its
/// initial key.
pub fn key_digest(pk: &ProvingKey<ark_bn254::Bn254>) -> [u8; 32] {
    let mut h = Sha256::new();
    pk.serialize_uncompressed(HashWriter(&mut h))
        .expect("hashing does not fail");
    h.finalize().into()
}

struct HashWriter<'a>(&'a mut Sha256);

impl std::io::Write for HashWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.update(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The running hash before the first contribution.
pub fn start(initial_digest: &[u8; 32]) -> [u8; 32] {
    hash("start", &[initial_digest])
}

/// The running hash after `c`, from the one before it.
pub fn next(previous: &[u8; 32], c: &Contribution) -> [u8; 32] {
    hash("contribution", &[previous, &bytes(c)])
}

/// The challenge a contribution's proof of knowledge answers: a point of G2 hashed from the
/// running hash, the delta it starts from and its committed `(R, s·R)`.
pub fn challenge(
    previous: &[u8; 32],
    delta_before: &G1Affine,
    r: &G1Affine,
    sr: &G1Affine,
) -> G2Affine {
    let seed = hash(
        "challenge",
        &[previous, &bytes(delta_before), &bytes(r), &bytes(sr)],
    );
    hash_to_g2(&seed)
}

/// Try-and-increment hash to BN254's G2 (see the module docs).
pub fn hash_to_g2(seed: &[u8; 32]) -> G2Affine {
    let fq = |ctr: u64, i: u8| {
        let lo = hash("h2g2", &[seed, &ctr.to_le_bytes(), &[i, 0]]);
        let hi = hash("h2g2", &[seed, &ctr.to_le_bytes(), &[i, 1]]);
        Fq::from_le_bytes_mod_order(&[lo, hi].concat())
    };
    for ctr in 0u64.. {
        let x = Fq2::new(fq(ctr, 0), fq(ctr, 1));
        let greatest = hash("h2g2-sign", &[seed, &ctr.to_le_bytes()])[0] & 1 == 1;
        if let Some(p) = G2Affine::get_point_from_x_unchecked(x, greatest) {
            let q = p.clear_cofactor();
            if !q.is_zero() {
                return q;
            }
        }
    }
    unreachable!("half of all x are on the twist")
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
