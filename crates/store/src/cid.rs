//! The content id of a blob: an IPFS CIDv1 with the `raw` codec and a sha2-256 multihash.

use std::{fmt, str::FromStr};

use ::cid::{CidGeneric, Version, multibase, multihash::Multihash};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use sha2::{Digest as _, Sha256};

/// Multicodec code of `raw` (opaque bytes).
pub const RAW_CODEC: u64 = 0x55;
/// Multicodec code of `sha2-256`.
pub const SHA2_256: u64 = 0x12;
/// Longest CID string we try to decode. A raw sha2-256 CIDv1 is 59 characters in base32; the
/// limit leaves room for other multibases and keeps hostile input cheap to reject.
pub const MAX_CID_STRING_LEN: usize = 256;

/// The only CID shape the store accepts: CIDv1, `raw` codec, sha2-256, 32-byte digest.
///
/// Two blobs have the same `Cid` exactly when they have the same sha2-256 digest, so the
/// type holds only the digest. [`Cid::digest`] is what goes on-chain (`programDigest`,
/// `inputDigest`); the string form is what IPFS tools and gateways understand.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Cid([u8; 32]);

/// Why a string or an IPFS CID is not a [`Cid`] the store accepts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CidError {
    /// Not a multibase-encoded CID at all (bad characters, bad varints, trailing bytes...).
    #[error("[V-CID-001] malformed CID {input:?}: {reason}")]
    Malformed {
        /// The input, cut to [`MAX_CID_STRING_LEN`] characters.
        input: String,
        /// What the decoder disliked.
        reason: String,
    },
    /// A CIDv0 (`Qm...`): always `dag-pb`, never a raw block.
    #[error(
        "[V-CID-002] CIDv0 {input:?} is not supported: blobs are named by CIDv1 (raw, sha2-256)"
    )]
    Version0 {
        /// The input.
        input: String,
    },
    /// A CIDv1 whose codec is not `raw` (0x55).
    #[error("[V-CID-003] CID {input:?} has codec 0x{codec:x}; only raw (0x55) is supported")]
    Codec {
        /// The input.
        input: String,
        /// The multicodec found.
        codec: u64,
    },
    /// A CIDv1 whose multihash is not sha2-256 (0x12).
    #[error(
        "[V-CID-004] CID {input:?} uses hash function 0x{code:x}; only sha2-256 (0x12) is supported"
    )]
    Hash {
        /// The input.
        input: String,
        /// The multihash code found.
        code: u64,
    },
    /// A sha2-256 multihash whose digest is not 32 bytes long.
    #[error("[V-CID-005] CID {input:?} has a {len}-byte sha2-256 digest; it must be 32 bytes")]
    DigestLength {
        /// The input.
        input: String,
        /// The digest length found.
        len: usize,
    },
}

impl CidError {
    /// The stable error code, e.g. `V-CID-001`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Malformed { .. } => "V-CID-001",
            Self::Version0 { .. } => "V-CID-002",
            Self::Codec { .. } => "V-CID-003",
            Self::Hash { .. } => "V-CID-004",
            Self::DigestLength { .. } => "V-CID-005",
        }
    }
}

/// Bytes that do not hash to the CID they were expected to have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("expected {expected}, the bytes hash to {actual}")]
pub struct CidMismatch {
    /// The CID the bytes were supposed to have.
    pub expected: Cid,
    /// The CID they have.
    pub actual: Cid,
}

impl Cid {
    /// The CID of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self(Sha256::digest(bytes).into())
    }

    /// The CID whose sha2-256 digest is `digest`.
    pub const fn from_digest(digest: [u8; 32]) -> Self {
        Self(digest)
    }

    /// The sha2-256 digest of the content.
    pub const fn digest(&self) -> [u8; 32] {
        self.0
    }

    /// The digest as 64 lower-case hex characters.
    pub fn digest_hex(&self) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut out = String::with_capacity(64);
        for b in self.0 {
            out.push(HEX[usize::from(b >> 4)] as char);
            out.push(HEX[usize::from(b & 0x0f)] as char);
        }
        out
    }

    /// `Ok` when `bytes` hash to this CID.
    pub fn verify(&self, bytes: &[u8]) -> Result<(), CidMismatch> {
        let actual = Self::of(bytes);
        if actual == *self {
            Ok(())
        } else {
            Err(CidMismatch {
                expected: *self,
                actual,
            })
        }
    }

    /// The binary CID: `0x01 0x55 0x12 0x20` followed by the digest.
    pub fn to_bytes(&self) -> Vec<u8> {
        self.to_ipfs().to_bytes()
    }

    /// The same CID as the `cid` crate's type.
    pub fn to_ipfs(&self) -> ::cid::Cid {
        let mh = Multihash::<64>::wrap(SHA2_256, &self.0).expect("32 bytes fit in 64");
        ::cid::Cid::new_v1(RAW_CODEC, mh)
    }

    /// Accepts an IPFS CID if it has the one shape the store uses.
    pub fn from_ipfs<const S: usize>(cid: &CidGeneric<S>) -> Result<Self, CidError> {
        let input = || cid.to_string();
        if cid.version() == Version::V0 {
            return Err(CidError::Version0 { input: input() });
        }
        if cid.codec() != RAW_CODEC {
            return Err(CidError::Codec {
                input: input(),
                codec: cid.codec(),
            });
        }
        let hash = cid.hash();
        if hash.code() != SHA2_256 {
            return Err(CidError::Hash {
                input: input(),
                code: hash.code(),
            });
        }
        let digest: [u8; 32] = hash
            .digest()
            .try_into()
            .map_err(|_| CidError::DigestLength {
                input: input(),
                len: hash.digest().len(),
            })?;
        Ok(Self(digest))
    }
}

impl FromStr for Cid {
    type Err = CidError;

    /// Parses a CIDv1 in any multibase (canonically base32 lower, `b...`). Rejects CIDv0,
    /// other codecs, other hashes, and anything with bytes after the multihash.
    fn from_str(s: &str) -> Result<Self, CidError> {
        let malformed = |reason: &str| CidError::Malformed {
            input: s.chars().take(MAX_CID_STRING_LEN).collect(),
            reason: reason.to_owned(),
        };
        if s.len() > MAX_CID_STRING_LEN {
            return Err(malformed("too long"));
        }
        if s.len() == 46 && s.starts_with("Qm") {
            return Err(CidError::Version0 {
                input: s.to_owned(),
            });
        }
        let (_base, bytes) = multibase::decode(s).map_err(|e| malformed(&e.to_string()))?;
        let mut rest = bytes.as_slice();
        let cid = ::cid::Cid::read_bytes(&mut rest).map_err(|e| match e {
            ::cid::Error::InvalidExplicitCidV0 => CidError::Version0 {
                input: s.to_owned(),
            },
            e => malformed(&e.to_string()),
        })?;
        if !rest.is_empty() {
            return Err(malformed(&format!("{} trailing bytes", rest.len())));
        }
        Self::from_ipfs(&cid).map_err(|e| with_input(e, s))
    }
}

/// Reports the caller's spelling rather than the canonical one.
fn with_input(err: CidError, s: &str) -> CidError {
    let input = s.to_owned();
    match err {
        CidError::Malformed { reason, .. } => CidError::Malformed { input, reason },
        CidError::Version0 { .. } => CidError::Version0 { input },
        CidError::Codec { codec, .. } => CidError::Codec { input, codec },
        CidError::Hash { code, .. } => CidError::Hash { input, code },
        CidError::DigestLength { len, .. } => CidError::DigestLength { input, len },
    }
}

impl TryFrom<&::cid::Cid> for Cid {
    type Error = CidError;

    fn try_from(cid: &::cid::Cid) -> Result<Self, CidError> {
        Self::from_ipfs(cid)
    }
}

impl From<Cid> for ::cid::Cid {
    fn from(cid: Cid) -> Self {
        cid.to_ipfs()
    }
}

/// Base32 lower case with the `b` multibase prefix, the CIDv1 default.
impl fmt::Display for Cid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&multibase::encode(
            multibase::Base::Base32Lower,
            self.to_bytes(),
        ))
    }
}

impl fmt::Debug for Cid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cid({self})")
    }
}

impl Serialize for Cid {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Cid {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Derived independently of the `cid` crate: the binary CID is
    // 0x01 (v1) 0x55 (raw) 0x12 (sha2-256) 0x20 (32 bytes) || sha256(input), encoded as RFC 4648
    // base32, lower case, no padding, prefixed with the multibase code `b`. Computed with
    // Python: 'b' + base64.b32encode(bytes([1,0x55,0x12,0x20]) + hashlib.sha256(x).digest())
    //          .decode().lower().rstrip('=')
    const EMPTY: &str = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku";
    const HELLO_WORLD: &str = "bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e";

    #[test]
    fn empty_input_vector() {
        assert_eq!(Cid::of(b"").to_string(), EMPTY);
        assert_eq!(
            Cid::of(b"").digest_hex(),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn hello_world_vector() {
        assert_eq!(Cid::of(b"hello world").to_string(), HELLO_WORLD);
    }

    #[test]
    fn binary_form_is_the_four_byte_prefix_and_the_digest() {
        let cid = Cid::of(b"abc");
        let bytes = cid.to_bytes();
        assert_eq!(&bytes[..4], &[0x01, 0x55, 0x12, 0x20]);
        assert_eq!(&bytes[4..], &cid.digest());
    }

    #[test]
    fn digest_roundtrips() {
        let cid = Cid::of(b"hello world");
        assert_eq!(Cid::from_digest(cid.digest()), cid);
    }

    #[test]
    fn verify_reports_both_cids() {
        let cid = Cid::of(b"a");
        assert!(cid.verify(b"a").is_ok());
        let err = cid.verify(b"b").unwrap_err();
        assert_eq!(err.expected, cid);
        assert_eq!(err.actual, Cid::of(b"b"));
    }

    #[test]
    fn serde_uses_the_string_form() {
        let cid = Cid::of(b"");
        let json = serde_json::to_string(&cid).unwrap();
        assert_eq!(json, format!("\"{EMPTY}\""));
        assert_eq!(serde_json::from_str::<Cid>(&json).unwrap(), cid);
        assert!(serde_json::from_str::<Cid>("\"nope\"").is_err());
    }

    #[test]
    fn error_codes_are_stable() {
        let err: CidError = "x".parse::<Cid>().unwrap_err();
        assert_eq!(err.code(), "V-CID-001");
        assert!(err.to_string().starts_with("[V-CID-001]"));
    }
}
