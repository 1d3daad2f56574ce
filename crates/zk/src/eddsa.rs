//! EdDSA over BabyJubJub with Poseidon, exactly as circomlib's `EdDSAPoseidon`
//! (circomlibjs `eddsa.js`: `prv2pub`, `signPoseidon`, `verifyPoseidon`).
//!
//! Key derivation and nonces use BLAKE-512 (the SHA-3 finalist, not BLAKE2), as circomlibjs
//! does, so keys made by existing device tooling give the same public keys here.

use ark_bn254::Fr;
use ark_ff::{BigInteger, PrimeField};
use blake_hash::Digest;

use crate::babyjubjub::Point;
use crate::poseidon;

/// A device's 32-byte private key (circomlib's `prvKey`).
#[derive(Clone)]
pub struct PrivateKey([u8; 32]);

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PrivateKey(..)")
    }
}

/// An EdDSA-Poseidon signature: the nonce point `R8` and the scalar `S < subgroup order`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Signature {
    /// `R8 = r·Base8`.
    pub r8: Point,
    /// `S = r + h·s (mod subgroup order)`.
    pub s: ark_ed_on_bn254::Fr,
}

fn blake512(parts: &[&[u8]]) -> [u8; 64] {
    let mut h = blake_hash::Blake512::new();
    for p in parts {
        h.update(p);
    }
    h.finalize().into()
}

impl PrivateKey {
    /// Wraps raw key bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// A fresh key from the operating system's randomness.
    pub fn random() -> Self {
        use ark_std::rand::RngCore;
        let mut b = [0u8; 32];
        ark_std::rand::rngs::OsRng.fill_bytes(&mut b);
        Self(b)
    }

    /// The raw key bytes.
    pub fn to_bytes(&self) -> [u8; 32] {
        self.0
    }

    /// The public key `A = (s >> 3)·Base8` (circomlib's `prv2pub`).
    pub fn public(&self) -> Point {
        let s = secret_scalar_bits(&self.0);
        Point::base8().mul_bits_le(&s[3..])
    }

    /// Signs one field element (circomlib's `signPoseidon`).
    pub fn sign(&self, msg: Fr) -> Signature {
        let h = blake512(&[&self.0]);
        let s_bits = secret_scalar_bits(&self.0);
        let a = Point::base8().mul_bits_le(&s_bits[3..]);
        let mut msg_le = msg.into_bigint().to_bytes_le();
        msg_le.resize(32, 0);
        let r_buf = blake512(&[&h[32..], &msg_le]);
        let r = ark_ed_on_bn254::Fr::from_le_bytes_mod_order(&r_buf);
        let r8 = Point::base8().mul_scalar(&r);
        let hm = challenge(&r8, &a, msg);
        let hm_l = ark_ed_on_bn254::Fr::from_le_bytes_mod_order(&hm.into_bigint().to_bytes_le());
        let s_l = ark_ed_on_bn254::Fr::from_le_bytes_mod_order(&pruned(&self.0));
        Signature {
            r8,
            s: r + hm_l * s_l,
        }
    }
}

fn pruned(key: &[u8; 32]) -> [u8; 32] {
    let h = blake512(&[key]);
    let mut s = [0u8; 32];
    s.copy_from_slice(&h[..32]);
    s[0] &= 0xF8;
    s[31] &= 0x7F;
    s[31] |= 0x40;
    s
}

fn secret_scalar_bits(key: &[u8; 32]) -> Vec<bool> {
    pruned(key)
        .iter()
        .flat_map(|b| (0..8).map(move |i| (b >> i) & 1 == 1))
        .collect()
}

/// `h = Poseidon(R8x, R8y, Ax, Ay, M)`.
pub fn challenge(r8: &Point, a: &Point, msg: Fr) -> Fr {
    poseidon::hash(&[r8.x, r8.y, a.x, a.y, msg])
}

/// Verifies a signature (circomlib's `verifyPoseidon`): both points on the curve,
/// `S` below the subgroup order (guaranteed by its type), and `S·B8 == R8 + 8·h·A`.
pub fn verify(public: &Point, msg: Fr, sig: &Signature) -> bool {
    if !sig.r8.is_on_curve() || !public.is_on_curve() {
        return false;
    }
    let h = challenge(&sig.r8, public, msg);
    let left = Point::base8().mul_scalar(&sig.s);
    let right = sig.r8.add(&public.double().double().double().mul_fr(&h));
    left == right
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn fr(s: &str) -> Fr {
        Fr::from_str(s).expect("decimal")
    }

    /// circomlibjs `test/eddsa.js`, "Sign (using Poseidon) a single 10 bytes from 0 to 9".
    #[test]
    fn matches_circomlibjs_sign_poseidon_vector() {
        let mut prv = [0u8; 32];
        let hex = "0001020304050607080900010203040506070809000102030405060708090001";
        for (i, b) in prv.iter_mut().enumerate() {
            *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("hex");
        }
        let key = PrivateKey::from_bytes(prv);
        let msg = Fr::from_le_bytes_mod_order(&[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 0]);
        let a = key.public();
        assert_eq!(
            a.x,
            fr("13277427435165878497778222415993513565335242147425444199013288855685581939618")
        );
        assert_eq!(
            a.y,
            fr("13622229784656158136036771217484571176836296686641868549125388198837476602820")
        );
        let sig = key.sign(msg);
        assert_eq!(
            sig.r8.x,
            fr("11384336176656855268977457483345535180380036354188103142384839473266348197733")
        );
        assert_eq!(
            sig.r8.y,
            fr("15383486972088797283337779941324724402501462225528836549661220478783371668959")
        );
        assert_eq!(
            sig.s,
            ark_ed_on_bn254::Fr::from_str(
                "1672775540645840396591609181675628451599263765380031905495115170613215233181"
            )
            .expect("decimal")
        );
        assert!(verify(&a, msg, &sig));
        assert!(!verify(&a, msg + Fr::from(1u64), &sig));
        assert!(!verify(&a.double(), msg, &sig));
    }
}
