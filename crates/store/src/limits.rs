//! Size caps.

use serde::{Deserialize, Serialize};

/// Size caps of a store. Both are checked before anything is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// Largest blob accepted, in bytes. Default 64 MiB.
    pub max_blob_bytes: u64,
    /// Largest total of all blobs, in bytes; `None` for no cap. Default `None`.
    pub max_total_bytes: Option<u64>,
}

impl Limits {
    /// The default per-blob cap: 64 MiB.
    pub const DEFAULT_MAX_BLOB_BYTES: u64 = 64 << 20;

    /// Caps of `max_blob_bytes` per blob and no total cap.
    pub const fn per_blob(max_blob_bytes: u64) -> Self {
        Self {
            max_blob_bytes,
            max_total_bytes: None,
        }
    }

    /// These caps with a total cap of `max_total_bytes`.
    pub const fn with_total(self, max_total_bytes: u64) -> Self {
        Self {
            max_total_bytes: Some(max_total_bytes),
            ..self
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self::per_blob(Self::DEFAULT_MAX_BLOB_BYTES)
    }
}
