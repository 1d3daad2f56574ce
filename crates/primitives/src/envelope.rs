//! The task input envelope: the bytes a task's `inputDigest` names. It carries the execution
//! limits ahead of the program's input, so every replica runs under the same limits (they are
//! covered by the digest on chain) without the contracts knowing about WASM.
//!
//! Layout (all integers big-endian):
//! `b"VRTI"` | version `1` (u8) | fuel (u64) | max memory bytes (u64) | max table elements (u64) |
//! max output bytes (u64) | payload (the rest: what the guest reads as its input).

use serde::{Deserialize, Serialize};

/// Magic bytes at the start of every envelope.
pub const MAGIC: &[u8; 4] = b"VRTI";
/// The only version so far.
pub const VERSION: u8 = 1;
/// Header length in bytes.
pub const HEADER_LEN: usize = 4 + 1 + 4 * 8;

/// The limits a task sets for one execution. All of them are deterministic: the same program
/// and input under the same limits end the same way everywhere, so they are part of the task
/// (covered by its input digest through the envelope) and of the executor's receipt. This is
/// the one definition: `verity_executor::TaskLimits` is this type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(default)]
pub struct ExecLimits {
    /// Fuel for the whole execution: instantiation (a fixed cost plus the module's segments,
    /// memory and tables, then its start function), `run`, and host calls. Most WebAssembly
    /// instructions cost 1; calls into the runtime (`memory.grow`, bulk memory and table
    /// operations, the `verity` functions) cost what they take in time, and copies cost 1 per
    /// byte (see verity-executor's README).
    pub fuel: u64,
    /// Largest linear memory, in bytes (rounded down to 64 KiB pages by the engine).
    pub max_memory_bytes: u64,
    /// Largest number of elements in a table.
    pub max_table_elements: u64,
    /// Largest output, in bytes.
    pub max_output_bytes: u64,
}

impl Default for ExecLimits {
    /// The executor's defaults (what a run gets when nobody says otherwise); the SDK's task
    /// builder starts from smaller ones.
    fn default() -> Self {
        Self {
            fuel: 10_000_000_000,
            max_memory_bytes: 256 << 20,
            max_table_elements: 10_000,
            max_output_bytes: 1 << 20,
        }
    }
}

/// A decoded envelope: the limits and the guest's input of a WASM task.
///
/// Not the input of a ZkProof task (`verity_zk::input::ProvingInput`), which is a JSON blob
/// named by a calldata suffix, not by the task's `inputDigest`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputEnvelope {
    /// The limits.
    pub limits: ExecLimits,
    /// What the guest reads.
    pub payload: Vec<u8>,
}

/// The envelope's former name, kept for callers not yet renamed (`crates/cli/tests`); new code
/// says [`InputEnvelope`].
pub type TaskInput = InputEnvelope;

/// Why bytes are not an envelope.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    /// Shorter than the header.
    #[error("[V-ENV-001] input is {0} bytes, shorter than the {HEADER_LEN}-byte envelope header")]
    Truncated(usize),
    /// Wrong magic.
    #[error("[V-ENV-002] input does not start with the VRTI envelope magic")]
    BadMagic,
    /// Unknown version.
    #[error("[V-ENV-003] unsupported envelope version {0}")]
    Version(u8),
}

impl InputEnvelope {
    /// Encodes the envelope.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(HEADER_LEN + self.payload.len());
        out.extend_from_slice(MAGIC);
        out.push(VERSION);
        for v in [
            self.limits.fuel,
            self.limits.max_memory_bytes,
            self.limits.max_table_elements,
            self.limits.max_output_bytes,
        ] {
            out.extend_from_slice(&v.to_be_bytes());
        }
        out.extend_from_slice(&self.payload);
        out
    }

    /// Decodes an envelope.
    pub fn decode(bytes: &[u8]) -> Result<Self, EnvelopeError> {
        if bytes.len() < HEADER_LEN {
            return Err(EnvelopeError::Truncated(bytes.len()));
        }
        if &bytes[..4] != MAGIC {
            return Err(EnvelopeError::BadMagic);
        }
        if bytes[4] != VERSION {
            return Err(EnvelopeError::Version(bytes[4]));
        }
        let word = |i: usize| {
            let start = 5 + 8 * i;
            u64::from_be_bytes(bytes[start..start + 8].try_into().expect("8 bytes"))
        };
        Ok(Self {
            limits: ExecLimits {
                fuel: word(0),
                max_memory_bytes: word(1),
                max_table_elements: word(2),
                max_output_bytes: word(3),
            },
            payload: bytes[HEADER_LEN..].to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_what_is_not_an_envelope() {
        let input = InputEnvelope {
            limits: ExecLimits {
                fuel: 1 << 40,
                max_memory_bytes: 64 << 20,
                max_table_elements: 1000,
                max_output_bytes: 4096,
            },
            payload: b"readings".to_vec(),
        };
        let bytes = input.encode();
        assert_eq!(bytes.len(), HEADER_LEN + 8);
        assert_eq!(&bytes[5..13], &(1u64 << 40).to_be_bytes());
        assert_eq!(InputEnvelope::decode(&bytes).unwrap(), input);
        assert_eq!(
            InputEnvelope::decode(&bytes[..10]),
            Err(EnvelopeError::Truncated(10))
        );
        let mut bad = bytes.clone();
        bad[0] = b'X';
        assert_eq!(InputEnvelope::decode(&bad), Err(EnvelopeError::BadMagic));
        let mut bad = bytes;
        bad[4] = 2;
        assert_eq!(InputEnvelope::decode(&bad), Err(EnvelopeError::Version(2)));
    }
}
