//! The store's errors. Every variant names the CID (or path, or gateway) it is about and carries
//! a stable code operators can search for.

use std::{io, path::PathBuf};

use crate::{Cid, CidError};

/// `Result` with [`StoreError`] as the default error.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// Everything that can go wrong storing, serving or fetching a blob.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A string that is not a CID the store accepts.
    #[error(transparent)]
    InvalidCid(#[from] CidError),

    /// Nobody asked has the blob.
    #[error("[V-STO-001] blob {cid} not found")]
    NotFound {
        /// The blob asked for.
        cid: Cid,
    },

    /// A blob over the per-blob size cap. `size` is a lower bound when the blob was cut off
    /// while streaming.
    #[error(
        "[V-STO-002] blob {} is at least {size} bytes, over the cap of {limit} bytes",
        subject(cid)
    )]
    TooLarge {
        /// The blob, when known (a fetch knows it; an upload being streamed does not yet).
        cid: Option<Cid>,
        /// Bytes seen so far, or the declared length.
        size: u64,
        /// The cap.
        limit: u64,
    },

    /// Storing the blob would take the store over its total cap.
    #[error(
        "[V-STO-003] storing {cid} needs {needed} bytes; {used} of {limit} bytes are already in use"
    )]
    Full {
        /// The blob being stored.
        cid: Cid,
        /// Its size.
        needed: u64,
        /// Bytes already stored or reserved.
        used: u64,
        /// The total cap.
        limit: u64,
    },

    /// Stored bytes that no longer hash to their CID (disk corruption or tampering). They are
    /// never returned.
    #[error("[V-STO-004] stored blob {cid} at {} is corrupt: its bytes hash to {actual}", path.display())]
    Corrupt {
        /// The blob asked for.
        cid: Cid,
        /// Where its bytes are.
        path: PathBuf,
        /// What the stored bytes hash to.
        actual: Cid,
    },

    /// A gateway answered with bytes that do not hash to the CID asked for. They are dropped.
    #[error("[V-STO-005] gateway {gateway} returned wrong bytes for {cid}: they hash to {actual}")]
    Mismatch {
        /// The blob asked for.
        cid: Cid,
        /// The gateway's base URL.
        gateway: String,
        /// What the bytes it sent hash to.
        actual: Cid,
    },

    /// A file system operation failed.
    #[error("[V-STO-006] {op} {}: {source}", path.display())]
    Io {
        /// What was being done (`"reading"`, `"renaming"`, ...).
        op: &'static str,
        /// On what.
        path: PathBuf,
        /// The OS error.
        source: io::Error,
    },

    /// A gateway answered with an unexpected HTTP status.
    #[error("[V-STO-007] gateway {url} answered {status}: {message}")]
    Gateway {
        /// The request URL.
        url: String,
        /// The HTTP status.
        status: u16,
        /// The error message from the body, when there was one.
        message: String,
    },

    /// A request to a gateway failed below HTTP (connect, timeout, reset, bad response).
    #[error("[V-STO-008] request to {url} failed: {source}")]
    Transport {
        /// The request URL.
        url: String,
        /// The HTTP client's error.
        source: reqwest::Error,
    },

    /// A gateway accepted an upload but named it by a different CID than the bytes have, or
    /// answered with something that is not `{"cid": "..."}`.
    #[error("[V-STO-009] gateway {url} stored the upload as {got:?}, expected {expected}")]
    UploadMismatch {
        /// The request URL.
        url: String,
        /// The CID of the bytes sent.
        expected: Cid,
        /// What the gateway answered.
        got: String,
    },

    /// A gateway base URL the client cannot use.
    #[error("[V-STO-010] unusable gateway URL {url:?}: {reason}")]
    BadGatewayUrl {
        /// The URL given.
        url: String,
        /// Why it is unusable.
        reason: String,
    },

    /// No gateway could provide the blob; `last` is the last gateway's error.
    #[error("[V-STO-011] blob {cid} unavailable from {tried} gateway(s); last error: {last}")]
    Unavailable {
        /// The blob asked for.
        cid: Cid,
        /// How many gateways were asked.
        tried: usize,
        /// The last error seen.
        last: Box<StoreError>,
    },

    /// A blocking I/O task panicked or was cancelled.
    #[error("[V-STO-012] internal error: {0}")]
    Internal(String),

    /// The HTTP server failed.
    #[error("[V-STO-013] HTTP server failed: {0}")]
    Serve(#[source] io::Error),
}

fn subject(cid: &Option<Cid>) -> String {
    cid.map_or_else(|| "(upload)".to_owned(), |c| c.to_string())
}

impl StoreError {
    /// The stable error code, e.g. `V-STO-004`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidCid(e) => e.code(),
            Self::NotFound { .. } => "V-STO-001",
            Self::TooLarge { .. } => "V-STO-002",
            Self::Full { .. } => "V-STO-003",
            Self::Corrupt { .. } => "V-STO-004",
            Self::Mismatch { .. } => "V-STO-005",
            Self::Io { .. } => "V-STO-006",
            Self::Gateway { .. } => "V-STO-007",
            Self::Transport { .. } => "V-STO-008",
            Self::UploadMismatch { .. } => "V-STO-009",
            Self::BadGatewayUrl { .. } => "V-STO-010",
            Self::Unavailable { .. } => "V-STO-011",
            Self::Internal(_) => "V-STO-012",
            Self::Serve(_) => "V-STO-013",
        }
    }

    /// The blob is not there (as opposed to: something failed while looking).
    pub fn is_not_found(&self) -> bool {
        matches!(self, Self::NotFound { .. })
    }

    /// Bytes did not match their CID: a corrupt disk or a lying gateway. Never retry the same
    /// source expecting a different answer; never use the bytes.
    pub fn is_integrity_failure(&self) -> bool {
        matches!(
            self,
            Self::Corrupt { .. } | Self::Mismatch { .. } | Self::UploadMismatch { .. }
        )
    }

    /// Worth trying again later or elsewhere (network trouble, a gateway's 5xx).
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Transport { .. } | Self::Unavailable { .. } => true,
            Self::Gateway { status, .. } => *status >= 500 || *status == 429,
            _ => false,
        }
    }

    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self::Io {
            op,
            path: path.into(),
            source,
        }
    }
}
