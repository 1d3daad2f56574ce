//! SHA-256 (sha2-256) content digests: of programs, inputs and outputs, and of the result of a
//! program that fails deterministically.
//!
//! On chain every digest is a `bytes32` ([`B256`]); off chain the executor's receipts and the
//! engine identity carry a [`Sha256Digest`], which prints and serializes as 64 lowercase hex
//! characters (no `0x`). The two convert losslessly; [`sha256`] hashes straight to the on-chain
//! form. The store's CIDs (`verity-store`) name blobs by the same digest.

use std::fmt;

use alloy::primitives::B256;
use serde::{Deserialize, Deserializer, Serialize, Serializer, de};
use sha2::{Digest as _, Sha256};

/// A SHA-256 digest. Shown and serialized as 64 lowercase hex characters.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sha256Digest(pub [u8; 32]);

impl Sha256Digest {
    /// SHA-256 of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self(Sha256::digest(bytes).into())
    }

    /// The digest as lowercase hex.
    pub fn to_hex(&self) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut s = String::with_capacity(64);
        for b in self.0 {
            s.push(char::from(HEX[usize::from(b >> 4)]));
            s.push(char::from(HEX[usize::from(b & 0xf)]));
        }
        s
    }

    /// Parses 64 hex characters (either case).
    pub fn from_hex(s: &str) -> Option<Self> {
        let s = s.as_bytes();
        if s.len() != 64 {
            return None;
        }
        let nibble = |c: u8| {
            char::from(c)
                .to_digit(16)
                .and_then(|d| u8::try_from(d).ok())
        };
        let mut out = [0u8; 32];
        for (i, pair) in s.chunks_exact(2).enumerate() {
            out[i] = nibble(pair[0])? << 4 | nibble(pair[1])?;
        }
        Some(Self(out))
    }
}

impl From<Sha256Digest> for B256 {
    fn from(d: Sha256Digest) -> Self {
        B256::from(d.0)
    }
}

impl From<B256> for Sha256Digest {
    fn from(b: B256) -> Self {
        Self(b.0)
    }
}

impl fmt::Display for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl fmt::Debug for Sha256Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Digest({})", self.to_hex())
    }
}

impl Serialize for Sha256Digest {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Sha256Digest {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Self::from_hex(&s).ok_or_else(|| de::Error::custom("expected 64 hex characters"))
    }
}

/// sha2-256 of `bytes`, as the chain holds it.
pub fn sha256(bytes: &[u8]) -> B256 {
    Sha256Digest::of(bytes).into()
}

/// The result digest of a program that fails deterministically (out of fuel, a trap, ...):
/// `sha256("verity:error:" ‖ code)`, with the executor's stable error code. Every honest
/// replica gets the same error, so they agree on this digest.
pub fn error_digest(code: &str) -> B256 {
    sha256(format!("verity:error:{code}").as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_input_has_the_fips_digest() {
        assert_eq!(
            Sha256Digest::of(b"").to_hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(B256::from(Sha256Digest::of(b"")), sha256(b""));
    }

    #[test]
    fn hex_round_trips() {
        let d = Sha256Digest::of(b"verity");
        assert_eq!(Sha256Digest::from_hex(&d.to_hex()), Some(d));
        assert_eq!(Sha256Digest::from_hex(&d.to_hex().to_uppercase()), Some(d));
        assert_eq!(Sha256Digest::from_hex("abc"), None);
        assert_eq!(Sha256Digest::from_hex(&"zz".repeat(32)), None);
        assert_eq!(Sha256Digest::from(B256::from(d)), d);
        let json = serde_json::to_string(&d).unwrap();
        assert_eq!(json, format!("\"{}\"", d.to_hex()));
        assert_eq!(serde_json::from_str::<Sha256Digest>(&json).unwrap(), d);
    }

    #[test]
    fn error_digest_is_the_hash_of_the_tagged_code() {
        // Pinned: replicas of different versions must keep agreeing on failed runs.
        assert_eq!(
            error_digest("V-EXE-006").to_string(),
            "0xfa0f19e270261ed269cfd11bb89530cd85583a2bfc5403019bd33e790cc442e5"
        );
        assert_ne!(error_digest("V-EXE-006"), error_digest("V-EXE-007"));
    }
}
