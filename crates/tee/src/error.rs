//! The crate's one error type. Every variant carries a stable code operators can search for.

use std::path::PathBuf;

use crate::{TcbStatus, TeeKind};

/// Why a quote was refused, or why a backend could not produce one.
///
/// The `[V-TEE-0NN]` codes are stable: a variant keeps its code when its message changes.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TeeError {
    /// The bytes are not a quote this crate understands (too short, unknown version, TEE type,
    /// QE vendor or attestation key type, bad length fields).
    #[error("[V-TEE-001] malformed quote: {reason}")]
    MalformedQuote {
        /// What was wrong, in dcap-qvl's or this crate's words.
        reason: String,
    },
    /// A signature in the chain from Intel's root to the report does not verify: the quote's
    /// report signature, the QE report signature or hash, the collateral's TCB info or QE
    /// identity signature, or a certificate in one of the chains.
    #[error("[V-TEE-002] signature invalid: {reason}")]
    SignatureInvalid {
        /// Which signature, in dcap-qvl's words.
        reason: String,
    },
    /// Part of the collateral had expired at the verification time.
    #[error("[V-TEE-003] collateral expired at {at} (unix seconds): {what}")]
    CollateralExpired {
        /// The verification time.
        at: u64,
        /// Which item expired, and when.
        what: String,
    },
    /// Part of the collateral was issued after the verification time.
    #[error("[V-TEE-004] collateral not yet valid at {at} (unix seconds): {what}")]
    CollateralNotYetValid {
        /// The verification time.
        at: u64,
        /// Which item, and its issue date.
        what: String,
    },
    /// The quote verified, but its TCB status is not in the policy's accepted set.
    #[error("[V-TEE-005] TCB status {status} not accepted (accepted: {accepted})")]
    TcbStatusNotAccepted {
        /// The quote's status.
        status: TcbStatus,
        /// The policy's accepted statuses, comma-separated.
        accepted: String,
    },
    /// The quote verified, but a measurement is not on the policy's allow-list.
    #[error("[V-TEE-006] {name} {value} is not on the allow-list")]
    MeasurementNotAllowed {
        /// `MRENCLAVE`, `MRSIGNER`, `MRTD`, `RTMR0`..`RTMR3` or `DEVNET_MEASUREMENT`.
        name: &'static str,
        /// The quote's value, hex.
        value: String,
    },
    /// The quote's report data does not bind the expected key (or nonce).
    #[error(
        "[V-TEE-007] report data does not bind the expected key: expected {expected}, found {found}"
    )]
    ReportDataMismatch {
        /// The expected report data, hex.
        expected: String,
        /// The quote's report data, hex.
        found: String,
    },
    /// The quote's TEE type is not accepted by the policy. The insecure devnet type lands here
    /// unless the policy was built with [`crate::Policy::allow_insecure_devnet`].
    #[error("[V-TEE-008] TEE type {kind} not accepted by the policy{hint}")]
    TeeTypeNotAccepted {
        /// The quote's type.
        kind: TeeKind,
        /// Extra advice for the devnet type; empty otherwise.
        hint: &'static str,
    },
    /// The collateral could not be read or parsed.
    #[error("[V-TEE-009] collateral: {reason}")]
    MalformedCollateral {
        /// What was wrong, with the path when it came from a file.
        reason: String,
    },
    /// dcap-qvl refused the quote for a reason that is none of the above (for example a debug
    /// enclave, a revoked TCB or certificate, an FMSPC that does not match the TCB info, a QE
    /// identity mismatch).
    #[error("[V-TEE-010] quote refused: {reason}")]
    VerificationFailed {
        /// dcap-qvl's reason.
        reason: String,
    },
    /// The insecure devnet type was requested for a chain other than the devnet's.
    #[error(
        "[V-TEE-011] the insecure devnet attestation is allowed only on chain id 31337, not {chain_id}"
    )]
    DevnetOnly {
        /// The chain id that was asked for.
        chain_id: u64,
    },
    /// This machine has no TEE quote interface at the expected path.
    #[error("[V-TEE-012] {kind} attestation unavailable: {path} does not exist ({hint})")]
    BackendUnavailable {
        /// The backend's type.
        kind: TeeKind,
        /// The interface that is missing.
        path: PathBuf,
        /// What to check.
        hint: &'static str,
    },
    /// Talking to the TEE quote interface failed.
    #[error("[V-TEE-013] {kind} attestation: {path}: {source}")]
    BackendIo {
        /// The backend's type.
        kind: TeeKind,
        /// The file being read or written.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The TEE quote interface answered, but not as expected (another provider, a concurrent
    /// writer, an empty quote).
    #[error("[V-TEE-014] {kind} attestation: {reason}")]
    BackendProtocol {
        /// The backend's type.
        kind: TeeKind,
        /// What was unexpected.
        reason: String,
    },
    /// A measurement or report data given as hex did not parse.
    #[error("[V-TEE-015] {what}: {reason}")]
    InvalidHex {
        /// Which value.
        what: String,
        /// Why.
        reason: String,
    },
    /// A quote file could not be read.
    #[error("[V-TEE-016] quote file {path}: {source}")]
    QuoteFile {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Signing an attestation or a result failed.
    #[error("[V-TEE-017] signing the {what} failed: {reason}")]
    Signing {
        /// `attestation` or `result`.
        what: &'static str,
        /// The signer's error.
        reason: String,
    },
}

impl TeeError {
    /// The stable code, e.g. `V-TEE-003`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::MalformedQuote { .. } => "V-TEE-001",
            Self::SignatureInvalid { .. } => "V-TEE-002",
            Self::CollateralExpired { .. } => "V-TEE-003",
            Self::CollateralNotYetValid { .. } => "V-TEE-004",
            Self::TcbStatusNotAccepted { .. } => "V-TEE-005",
            Self::MeasurementNotAllowed { .. } => "V-TEE-006",
            Self::ReportDataMismatch { .. } => "V-TEE-007",
            Self::TeeTypeNotAccepted { .. } => "V-TEE-008",
            Self::MalformedCollateral { .. } => "V-TEE-009",
            Self::VerificationFailed { .. } => "V-TEE-010",
            Self::DevnetOnly { .. } => "V-TEE-011",
            Self::BackendUnavailable { .. } => "V-TEE-012",
            Self::BackendIo { .. } => "V-TEE-013",
            Self::BackendProtocol { .. } => "V-TEE-014",
            Self::InvalidHex { .. } => "V-TEE-015",
            Self::QuoteFile { .. } => "V-TEE-016",
            Self::Signing { .. } => "V-TEE-017",
        }
    }

    /// True when the quote itself is bad or not acceptable (as opposed to a local problem such
    /// as unreadable collateral or a missing TEE device): a registry would reject the
    /// registration, not retry it.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            Self::MalformedQuote { .. }
                | Self::SignatureInvalid { .. }
                | Self::TcbStatusNotAccepted { .. }
                | Self::MeasurementNotAllowed { .. }
                | Self::ReportDataMismatch { .. }
                | Self::TeeTypeNotAccepted { .. }
                | Self::VerificationFailed { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_message_starts_with_its_code() {
        let io = || std::io::Error::other("x");
        let s = || "x".to_owned();
        let errors = [
            TeeError::MalformedQuote { reason: s() },
            TeeError::SignatureInvalid { reason: s() },
            TeeError::CollateralExpired { at: 1, what: s() },
            TeeError::CollateralNotYetValid { at: 1, what: s() },
            TeeError::TcbStatusNotAccepted {
                status: TcbStatus::OutOfDate,
                accepted: s(),
            },
            TeeError::MeasurementNotAllowed {
                name: "MRTD",
                value: s(),
            },
            TeeError::ReportDataMismatch {
                expected: s(),
                found: s(),
            },
            TeeError::TeeTypeNotAccepted {
                kind: TeeKind::Sgx,
                hint: "",
            },
            TeeError::MalformedCollateral { reason: s() },
            TeeError::VerificationFailed { reason: s() },
            TeeError::DevnetOnly { chain_id: 1 },
            TeeError::BackendUnavailable {
                kind: TeeKind::Tdx,
                path: "/x".into(),
                hint: "",
            },
            TeeError::BackendIo {
                kind: TeeKind::Tdx,
                path: "/x".into(),
                source: io(),
            },
            TeeError::BackendProtocol {
                kind: TeeKind::Tdx,
                reason: s(),
            },
            TeeError::InvalidHex {
                what: s(),
                reason: s(),
            },
            TeeError::QuoteFile {
                path: "/x".into(),
                source: io(),
            },
        ];
        for (i, e) in errors.iter().enumerate() {
            assert_eq!(e.code(), format!("V-TEE-{:03}", i + 1));
            assert!(e.to_string().starts_with(&format!("[{}]", e.code())), "{e}");
        }
    }
}
