//! Typed errors of the phase-2 ceremony and of the phase-1 (`.ptau`) import.

use std::path::PathBuf;

verity_primitives::coded_error! {
    /// Why a ceremony step, or the check of a ceremony, failed.
    #[derive(Debug, thiserror::Error)]
    pub enum CeremonyError {
        /// Reading or writing a ceremony or ptau file.
        #[error("[V-ZKC-001] {action} {path}: {source}")]
        Io {
            /// "reading" or "writing".
            action: &'static str,
            /// The file.
            path: PathBuf,
            /// The OS error.
            #[source]
            source: std::io::Error,
        },
        /// A ceremony file that is not one (magic, version, or points that do not decode).
        #[error("[V-ZKC-002] malformed ceremony file: {0}")]
        Format(String),
        /// A `.ptau` file that does not parse (header, section table, point encoding).
        #[error("[V-ZKC-003] malformed ptau file, section {section}: {reason}")]
        Ptau {
            /// Section id (0 for the file header).
            section: u32,
            /// What is wrong.
            reason: String,
        },
        /// The powers of tau are too few for the circuit's QAP domain.
        #[error("[V-ZKC-004] powers of tau of power {power} are too small: the circuit needs 2^{needed}")]
        PtauTooSmall {
            /// The file's power.
            power: u32,
            /// The log2 of the circuit's domain size.
            needed: u32,
        },
        /// A contribution whose proof of knowledge of its secret does not check.
        #[error("[V-ZKC-005] contribution {index} ({name}): proof of knowledge of the secret does not verify")]
        ProofOfKnowledge {
            /// Position in the transcript (0-based).
            index: usize,
            /// The contributor's name.
            name: String,
        },
        /// A contribution whose new delta (G1) is not the previous one times its proven secret.
        #[error("[V-ZKC-006] contribution {index} ({name}): delta in G1 is not the previous delta times the proven secret")]
        DeltaG1 {
            /// Position in the transcript.
            index: usize,
            /// The contributor's name.
            name: String,
        },
        /// A contribution whose new delta in G2 does not match its delta in G1.
        #[error("[V-ZKC-007] contribution {index} ({name}): delta in G2 does not match delta in G1")]
        DeltaG2 {
            /// Position in the transcript.
            index: usize,
            /// The contributor's name.
            name: String,
        },
        /// The key's L or H query is not the initial one divided by the accumulated secret.
        #[error("[V-ZKC-008] the {which} query is not the initial key's divided by the contributions' secrets")]
        QueryMismatch {
            /// "l" or "h" (or "l/h" when checked together).
            which: &'static str,
        },
        /// A part of the key that phase 2 must not change was changed.
        #[error("[V-ZKC-009] {which} differs from the initial key (phase 2 changes delta, L and H only)")]
        ChangedElement {
            /// The element, e.g. "a_query".
            which: &'static str,
        },
        /// The transcript names another initial key than the one given.
        #[error("[V-ZKC-010] the transcript starts from initial key {expected}, the key given is {actual}")]
        InitialMismatch {
            /// sha256 recorded in the transcript.
            expected: String,
            /// sha256 of the initial key given.
            actual: String,
        },
        /// A beacon contribution whose secret is not the one its recorded beacon yields.
        #[error("[V-ZKC-011] contribution {index}: the beacon does not reproduce its delta")]
        Beacon {
            /// Position in the transcript.
            index: usize,
        },
        /// The key's delta is not the one the transcript ends with.
        #[error("[V-ZKC-012] the key's delta is not the last contribution's")]
        FinalDelta,
        /// Building the circuit's constraint matrices failed.
        #[error("[V-ZKC-013] circuit synthesis: {0}")]
        Synthesis(String),
        /// A contribution to a ceremony already closed by its beacon, or a second beacon.
        #[error("[V-ZKC-014] the ceremony is finalized (beacon applied): no further contribution")]
        Finalized,
        /// The ceremony was required to be finalized and is not.
        #[error("[V-ZKC-015] the ceremony has no beacon yet (run finalize)")]
        NotFinalized,
        /// Bad beacon parameters.
        #[error("[V-ZKC-016] beacon: {0}")]
        BadBeacon(String),
        /// The ceremony's circuit shape is not the one asked for.
        #[error("[V-ZKC-017] the ceremony is for N={got_slots} depth {got_depth}, not N={want_slots} depth {want_depth}")]
        ShapeMismatch {
            /// Slots of the file.
            got_slots: u64,
            /// Depth of the file.
            got_depth: u64,
            /// Slots asked for.
            want_slots: u64,
            /// Depth asked for.
            want_depth: u64,
        },
    }
}

/// Result alias of the ceremony.
pub type Result<T, E = CeremonyError> = std::result::Result<T, E>;

impl CeremonyError {
    pub(crate) fn io(
        action: &'static str,
        path: &std::path::Path,
    ) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.to_path_buf();
        move |source| Self::Io {
            action,
            path,
            source,
        }
    }

    pub(crate) fn ptau(section: u32, reason: impl Into<String>) -> Self {
        Self::Ptau {
            section,
            reason: reason.into(),
        }
    }
}
