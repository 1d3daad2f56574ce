//! Quote verification: dcap-qvl checks Intel's chain of trust, this module turns its verdict
//! into typed errors and applies the [`Policy`].

use std::path::Path;

use dcap_qvl::{
    QuotePolicy,
    quote::{Quote, Report},
    verify::QuoteVerifier,
};
use serde::Serialize;

use crate::{
    Measurement, Policy, Result, TcbStatus, TeeError, TeeKind, devnet, policy::check_allowed,
};

/// DCAP collateral (Intel's certificates, CRLs, TCB info and QE identity for one platform),
/// as a PCCS serves it. The JSON form is dcap-qvl's serde form of `QuoteCollateralV3`.
pub type Collateral = dcap_qvl::QuoteCollateralV3;

/// A quote that passed verification and the policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifiedQuote {
    /// Which TEE produced it.
    pub tee: TeeKind,
    /// The merged platform and QE TCB status; `None` only for the devnet stand-in, which has
    /// no TCB.
    pub tcb_status: Option<TcbStatus>,
    /// Intel security advisories that apply to the platform's TCB level.
    pub advisory_ids: Vec<String>,
    /// The software measurements.
    pub measurements: Measurements,
    /// The 64 bytes the TEE's software chose to sign (see [`crate::key_binding_report_data`]).
    #[serde(with = "hex_bytes")]
    pub report_data: [u8; 64],
    /// The time the quote was verified at (unix seconds).
    pub verified_at: u64,
    /// When the first item of the collateral expires (unix seconds): the verdict must not be
    /// relied on after it. `None` for the devnet stand-in.
    pub collateral_expires_at: Option<u64>,
}

/// Measurement registers, per TEE type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type")]
pub enum Measurements {
    /// An SGX enclave.
    Sgx {
        /// Hash of the enclave's code and initial data (32 bytes).
        mr_enclave: Measurement,
        /// Hash of the enclave signer's public key (32 bytes).
        mr_signer: Measurement,
        /// Product id assigned by the signer.
        isv_prod_id: u16,
        /// Security version assigned by the signer.
        isv_svn: u16,
    },
    /// A TDX trust domain.
    Tdx {
        /// Initial TD contents (48 bytes).
        mr_td: Measurement,
        /// Runtime measurement registers 0..=3 (48 bytes each).
        rtmr: [Measurement; 4],
        /// Software-defined configuration id (48 bytes).
        mr_config_id: Measurement,
        /// Software-defined owner id (48 bytes).
        mr_owner: Measurement,
        /// The TDX module's measurement (48 bytes).
        mr_seam: Measurement,
    },
    /// The insecure devnet stand-in.
    DevnetInsecure {
        /// The measurement the devnet backend was configured with (32 bytes).
        measurement: Measurement,
    },
}

impl Measurements {
    fn from_report(report: &Report) -> Self {
        if let Some(r) = report.as_sgx() {
            return Self::Sgx {
                mr_enclave: Measurement(r.mr_enclave.to_vec()),
                mr_signer: Measurement(r.mr_signer.to_vec()),
                isv_prod_id: r.isv_prod_id,
                isv_svn: r.isv_svn,
            };
        }
        // Every non-SGX report is a TD report 1.0 or an extension of it.
        let td = match report {
            Report::TD10(r) => r,
            Report::TD15(r) => &r.base,
            Report::TD15Ex(r) => &r.base.base,
            Report::SgxEnclave(_) => unreachable!("handled above"),
        };
        let m = |b: &[u8; 48]| Measurement(b.to_vec());
        Self::Tdx {
            mr_td: m(&td.mr_td),
            rtmr: [m(&td.rt_mr0), m(&td.rt_mr1), m(&td.rt_mr2), m(&td.rt_mr3)],
            mr_config_id: m(&td.mr_config_id),
            mr_owner: m(&td.mr_owner),
            mr_seam: m(&td.mr_seam),
        }
    }

    /// Checks every allow-list of the policy that applies to this TEE type.
    pub(crate) fn check(&self, policy: &Policy) -> Result<()> {
        match self {
            Self::Sgx {
                mr_enclave,
                mr_signer,
                ..
            } => {
                check_allowed("MRENCLAVE", &policy.mr_enclave, &mr_enclave.0)?;
                check_allowed("MRSIGNER", &policy.mr_signer, &mr_signer.0)
            }
            Self::Tdx { mr_td, rtmr, .. } => {
                check_allowed("MRTD", &policy.mr_td, &mr_td.0)?;
                const NAMES: [&str; 4] = ["RTMR0", "RTMR1", "RTMR2", "RTMR3"];
                for ((name, list), value) in NAMES.iter().zip(&policy.rtmr).zip(rtmr) {
                    check_allowed(name, list, &value.0)?;
                }
                Ok(())
            }
            Self::DevnetInsecure { measurement } => check_allowed(
                "DEVNET_MEASUREMENT",
                &policy.devnet_measurement,
                &measurement.0,
            ),
        }
    }
}

/// Parses collateral JSON (dcap-qvl's `QuoteCollateralV3` serde form).
pub fn parse_collateral(json: &[u8]) -> Result<Collateral> {
    serde_json::from_slice(json).map_err(|e| TeeError::MalformedCollateral {
        reason: format!("not QuoteCollateralV3 JSON: {e}"),
    })
}

/// Reads and parses a collateral JSON file.
pub fn load_collateral(path: &Path) -> Result<Collateral> {
    let bytes = std::fs::read(path).map_err(|e| TeeError::MalformedCollateral {
        reason: format!("{}: {e}", path.display()),
    })?;
    parse_collateral(&bytes).map_err(|e| match e {
        TeeError::MalformedCollateral { reason } => TeeError::MalformedCollateral {
            reason: format!("{}: {reason}", path.display()),
        },
        other => other,
    })
}

/// Reads a quote file: raw bytes, or hex text (with or without `0x`, whitespace ignored), as
/// some tools print quotes.
pub fn load_quote(path: &Path) -> Result<Vec<u8>> {
    let bytes = std::fs::read(path).map_err(|source| TeeError::QuoteFile {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(decode_quote_text(bytes))
}

/// Raw bytes stay raw; text that is entirely hex digits is decoded. A binary DCAP quote starts
/// with its version as a little-endian u16 (bytes `03 00`, `04 00` or `05 00`), never with
/// two ASCII hex digits, so the two cannot be confused.
fn decode_quote_text(bytes: Vec<u8>) -> Vec<u8> {
    let text: Vec<u8> = bytes
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    let digits = text.strip_prefix(b"0x").unwrap_or(&text);
    if !digits.is_empty()
        && digits.iter().all(u8::is_ascii_hexdigit)
        && let Ok(decoded) = hex::decode(digits)
    {
        return decoded;
    }
    bytes
}

/// Verifies a quote at time `at` (unix seconds) against `collateral` and `policy`.
///
/// For SGX and TDX quotes, dcap-qvl checks Intel's chain (root CA, CRLs, PCK certificate, QE
/// report and identity, TCB info, the quote's signature) with `at` as the current time and
/// derives the TCB status; this function then applies the policy (TEE type, TCB status,
/// measurement allow-lists). The insecure devnet stand-in is recognised by its magic prefix and
/// verified without collateral, and only if the policy accepts it.
///
/// `at` is explicit so that a verdict can be reproduced (and so tests can pin a time inside
/// the sample collateral's validity); callers verifying live quotes pass the current time.
pub fn verify_quote(
    quote: &[u8],
    collateral: &Collateral,
    at: u64,
    policy: &Policy,
) -> Result<VerifiedQuote> {
    if devnet::is_devnet_quote(quote) {
        return devnet::verify(quote, at, policy);
    }
    let parsed = Quote::parse(quote).map_err(|e| TeeError::MalformedQuote {
        reason: format!("{e:#}"),
    })?;
    let kind = if parsed.report.is_sgx() {
        TeeKind::Sgx
    } else {
        TeeKind::Tdx
    };
    policy.check_tee_type(kind)?;
    crate::collateral_time::check(collateral, at)?;

    let claims = QuoteVerifier::new_prod()
        .verify_with_policy(quote, collateral, at, &QuotePolicy::claims_only(at))
        .map_err(|e| classify(at, format!("{e:#}")))?;
    let status = TcbStatus::from(claims.tcb.status);
    policy.check_status(status)?;
    let measurements = Measurements::from_report(&claims.report);
    measurements.check(policy)?;
    let report_data = match &claims.report {
        Report::SgxEnclave(r) => r.report_data,
        other => other.as_td10().map(|r| r.report_data).unwrap_or([0; 64]),
    };
    tracing::debug!(target: "tee::verify", %kind, %status, "quote verified");
    Ok(VerifiedQuote {
        tee: kind,
        tcb_status: Some(status),
        advisory_ids: claims.tcb.advisory_ids,
        measurements,
        report_data,
        verified_at: at,
        collateral_expires_at: Some(claims.earliest_expiration_date),
    })
}

/// Sorts a dcap-qvl refusal (an `anyhow` chain, rendered) into a typed error.
///
/// dcap-qvl 0.7 reports every failure as a message, so this matches on its wording; the tests
/// in `tests/it/samples.rs` pin the mapping for the refusals that matter (expired collateral,
/// a flipped signature byte, a truncated quote), so a dcap-qvl upgrade that rewords them fails
/// there rather than silently becoming `VerificationFailed`.
fn classify(at: u64, reason: String) -> TeeError {
    let lower = reason.to_ascii_lowercase();
    let has = |needles: &[&str]| needles.iter().any(|n| lower.contains(n));
    if has(&["notvalidyet", "in the future"]) {
        TeeError::CollateralNotYetValid { at, what: reason }
    } else if has(&["expired"]) {
        TeeError::CollateralExpired { at, what: reason }
    } else if has(&[
        "signature is invalid",
        "hash mismatch",
        "badsignature",
        "invalidsignature",
    ]) {
        TeeError::SignatureInvalid { reason }
    } else if has(&[
        "failed to decode quote",
        "unsupported dcap quote version",
        "unknown qe vendor",
        "unsupported tee type",
        "must have version",
        "attestation key type",
    ]) {
        TeeError::MalformedQuote { reason }
    } else if has(&[
        "failed to decode tcbinfo",
        "failed to decode qeidentity",
        "failed to parse crl",
    ]) {
        TeeError::MalformedCollateral { reason }
    } else {
        TeeError::VerificationFailed { reason }
    }
}

mod hex_bytes {
    pub(super) fn serialize<S: serde::Serializer>(b: &[u8; 64], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(b))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_files_may_be_hex() {
        assert_eq!(decode_quote_text(b"0x0300ff\n".to_vec()), [3, 0, 0xff]);
        assert_eq!(decode_quote_text(vec![3, 0, 0xff]), [3, 0, 0xff]);
        assert_eq!(decode_quote_text(b"abc".to_vec()), b"abc");
    }

    #[test]
    fn classification_of_dcap_qvl_messages() {
        let c = |m: &str| classify(1, m.to_owned()).code();
        assert_eq!(c("TCBInfo expired"), "V-TEE-003");
        assert_eq!(
            c("Failed to verify certificate chain: CertExpired { time: .. }"),
            "V-TEE-003"
        );
        assert_eq!(c("TCBInfo issue date is in the future"), "V-TEE-004");
        assert_eq!(c("ISV enclave report signature is invalid"), "V-TEE-002");
        assert_eq!(c("QE report hash mismatch"), "V-TEE-002");
        assert_eq!(c("Failed to decode quote: Not enough data"), "V-TEE-001");
        assert_eq!(c("Debug mode is enabled"), "V-TEE-010");
        assert_eq!(c("Failed to decode TcbInfo: eof"), "V-TEE-009");
    }
}
