//! The state of a phase-2 ceremony: the current proving key, the transcript of contributions
//! that led to it, and the file that carries both from one contributor to the next.
//!
//! File layout: `b"VZKC"`, a little-endian `u32` version, then the arkworks uncompressed
//! serialization of [`Ceremony`] (shape, initial-key digest, contributions, key). Points are
//! checked on reading (on the curve, in the prime-order subgroup). Files are written to a
//! temporary name and renamed, so a reader never sees half a file.

use std::io::{BufReader, BufWriter, Read, Write};
use std::path::Path;

use ark_bn254::{Bn254, G1Affine, G2Affine};
use ark_groth16::ProvingKey;
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize, Compress, Validate};

use super::beacon::Beacon;
use super::error::{CeremonyError, Result};
use super::transcript;
use crate::circuit::Shape;

const MAGIC: &[u8; 4] = b"VZKC";
const VERSION: u32 = 1;

/// One contribution: the delta it leaves and its proof of knowledge of the secret `s` it
/// multiplied delta by (BGM17 §4 / snarkjs zkey): a base `R` of the contributor's choosing,
/// `s·R`, and `s·C` for the challenge `C` hashed to G2 from the transcript so far, `R` and
/// `s·R` ([`transcript::challenge`]). `e(R, s·C) = e(s·R, C)` shows that `s·R` and `s·C` share
/// one exponent, and `e(δ', C) = e(δ, s·C)` that delta was multiplied by that same `s`.
#[derive(Clone, Debug, PartialEq, Eq, CanonicalSerialize, CanonicalDeserialize)]
pub struct Contribution {
    /// Who contributed (free text, for the record).
    pub name: String,
    /// Delta in G1 after this contribution.
    pub delta_g1: G1Affine,
    /// Delta in G2 after this contribution.
    pub delta_g2: G2Affine,
    /// The base `R` of the proof of knowledge.
    pub r_g1: G1Affine,
    /// `s·R`.
    pub sr_g1: G1Affine,
    /// `s·C`, C the challenge point.
    pub s_challenge_g2: G2Affine,
    /// For the closing beacon contribution, the public value its secret was derived from.
    pub beacon: Option<Beacon>,
}

/// A ceremony's state: the key as it stands and every contribution since the initial key.
#[derive(Clone, Debug, CanonicalSerialize, CanonicalDeserialize)]
pub struct Ceremony {
    /// The circuit shape's slots (N).
    pub slots: u64,
    /// The circuit shape's registry depth.
    pub depth: u64,
    /// sha256 of the initial key ([`transcript::key_digest`]).
    pub initial_digest: [u8; 32],
    /// The contributions, oldest first.
    pub contributions: Vec<Contribution>,
    /// The proving key after the last contribution (its verifying key inside).
    pub key: ProvingKey<Bn254>,
}

impl Ceremony {
    /// A ceremony that starts from `key` (no contribution yet).
    pub fn start(shape: Shape, key: ProvingKey<Bn254>) -> Self {
        Self {
            slots: shape.slots as u64,
            depth: shape.depth as u64,
            initial_digest: transcript::key_digest(&key),
            contributions: Vec::new(),
            key,
        }
    }

    /// The circuit shape.
    pub fn shape(&self) -> Shape {
        Shape {
            slots: self.slots as usize,
            depth: self.depth as usize,
        }
    }

    /// Fails unless the ceremony is for `shape`.
    pub fn expect_shape(&self, shape: Shape) -> Result<()> {
        if self.shape() == shape {
            return Ok(());
        }
        Err(CeremonyError::ShapeMismatch {
            got_slots: self.slots,
            got_depth: self.depth,
            want_slots: shape.slots as u64,
            want_depth: shape.depth as u64,
        })
    }

    /// Whether the beacon has been applied.
    pub fn is_finalized(&self) -> bool {
        self.contributions
            .last()
            .is_some_and(|c| c.beacon.is_some())
    }

    /// The running transcript hash after the last contribution (what the next contribution's
    /// challenge is hashed from, and what a contributor writes down to find their place).
    pub fn transcript_hash(&self) -> [u8; 32] {
        self.contributions
            .iter()
            .fold(transcript::start(&self.initial_digest), |h, c| {
                transcript::next(&h, c)
            })
    }

    /// Serializes to `w` (see the module docs for the layout).
    pub fn write_to(&self, mut w: impl Write) -> Result<()> {
        w.write_all(MAGIC)
            .and_then(|()| w.write_all(&VERSION.to_le_bytes()))
            .map_err(|e| CeremonyError::Format(format!("writing: {e}")))?;
        self.serialize_uncompressed(&mut w)
            .map_err(|e| CeremonyError::Format(format!("writing: {e}")))
    }

    /// Reads what [`Ceremony::write_to`] wrote, checking every point.
    pub fn read_from(mut r: impl Read) -> Result<Self> {
        let mut head = [0u8; 8];
        r.read_exact(&mut head)
            .map_err(|e| CeremonyError::Format(format!("header: {e}")))?;
        if &head[..4] != MAGIC {
            return Err(CeremonyError::Format("not a ceremony file (magic)".into()));
        }
        let version = u32::from_le_bytes([head[4], head[5], head[6], head[7]]);
        if version != VERSION {
            return Err(CeremonyError::Format(format!(
                "version {version}, this build reads {VERSION}"
            )));
        }
        let c = Self::deserialize_with_mode(&mut r, Compress::No, Validate::Yes)
            .map_err(|e| CeremonyError::Format(e.to_string()))?;
        let mut rest = [0u8; 1];
        if r.read(&mut rest)
            .map_err(|e| CeremonyError::Format(e.to_string()))?
            != 0
        {
            return Err(CeremonyError::Format("trailing bytes".into()));
        }
        Ok(c)
    }

    /// Reads a ceremony file.
    pub fn load(path: &Path) -> Result<Self> {
        let f = std::fs::File::open(path).map_err(CeremonyError::io("reading", path))?;
        Self::read_from(BufReader::with_capacity(1 << 20, f))
    }

    /// Writes a ceremony file (to a temporary name, then renamed into place).
    pub fn save(&self, path: &Path) -> Result<()> {
        let tmp = super::partial_path(path);
        let f = std::fs::File::create(&tmp).map_err(CeremonyError::io("writing", &tmp))?;
        let mut w = BufWriter::with_capacity(1 << 20, f);
        self.write_to(&mut w)?;
        w.flush().map_err(CeremonyError::io("writing", &tmp))?;
        drop(w);
        std::fs::rename(&tmp, path).map_err(CeremonyError::io("writing", path))
    }
}
