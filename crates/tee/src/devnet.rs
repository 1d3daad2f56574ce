//! The insecure devnet stand-in for a TEE. **Not an attestation.**
//!
//! A devnet "quote" is a self-signed blob: a magic prefix, a 32-byte measurement, the 64 bytes
//! of report data, an Ed25519 public key and that key's signature over the rest. The signature
//! only proves the bytes were not altered after signing; the key is derived from a constant in
//! this file, so anyone can produce a "quote" with any measurement and any report data. It
//! exists so the devnet (chain id 31337) can exercise the TEE registration and settlement paths
//! without TEE hardware, and [`crate::verify_quote`] refuses it unless the policy was built
//! with [`crate::Policy::allow_insecure_devnet`] for chain 31337.
//!
//! Layout (224 bytes):
//!
//! | bytes    | content                                   |
//! |----------|-------------------------------------------|
//! | 0..32    | `VERITY-DEVNET-INSECURE-QUOTE-V1\0`        |
//! | 32..64   | measurement                               |
//! | 64..128  | report data                               |
//! | 128..160 | Ed25519 public key                        |
//! | 160..224 | Ed25519 signature over bytes 0..160       |

use ring::signature::{ED25519, Ed25519KeyPair, KeyPair, UnparsedPublicKey};

use crate::{
    AttestationBackend, Measurement, Measurements, Policy, Result, TeeError, TeeKind, VerifiedQuote,
};

/// The magic prefix of a devnet quote. A DCAP quote starts with its version (3, 4 or 5, as a
/// little-endian u16), so the two cannot be confused.
pub const DEVNET_QUOTE_MAGIC: &[u8; 32] = b"VERITY-DEVNET-INSECURE-QUOTE-V1\0";

/// The length of a devnet quote.
pub const DEVNET_QUOTE_LEN: usize = 224;

/// The measurement a [`DevnetInsecureBackend`] reports unless told otherwise.
pub const DEFAULT_DEVNET_MEASUREMENT: [u8; 32] = *b"verity-devnet-insecure-measure-1";

/// Public on purpose: the devnet key is not a secret and must not look like one.
const DEVNET_KEY_SEED: [u8; 32] = *b"verity devnet tee key: NOT SECRE";

const SIGNED_LEN: usize = 160;

/// Produces self-signed devnet "quotes". Plainly insecure; see the module docs.
#[derive(Debug)]
pub struct DevnetInsecureBackend {
    measurement: [u8; 32],
    key: Ed25519KeyPair,
}

impl DevnetInsecureBackend {
    /// A backend reporting [`DEFAULT_DEVNET_MEASUREMENT`].
    pub fn new() -> Self {
        Self::with_measurement(DEFAULT_DEVNET_MEASUREMENT)
    }

    /// A backend reporting `measurement` (e.g. a hash of the node binary, so a devnet can
    /// exercise allow-lists).
    pub fn with_measurement(measurement: [u8; 32]) -> Self {
        let key = Ed25519KeyPair::from_seed_unchecked(&DEVNET_KEY_SEED)
            .expect("a 32-byte seed is always a valid Ed25519 seed");
        Self { measurement, key }
    }
}

impl Default for DevnetInsecureBackend {
    fn default() -> Self {
        Self::new()
    }
}

impl AttestationBackend for DevnetInsecureBackend {
    fn kind(&self) -> TeeKind {
        TeeKind::DevnetInsecure
    }

    fn quote(&self, report_data: [u8; 64]) -> Result<Vec<u8>> {
        let mut q = Vec::with_capacity(DEVNET_QUOTE_LEN);
        q.extend_from_slice(DEVNET_QUOTE_MAGIC);
        q.extend_from_slice(&self.measurement);
        q.extend_from_slice(&report_data);
        q.extend_from_slice(self.key.public_key().as_ref());
        let sig = self.key.sign(&q);
        q.extend_from_slice(sig.as_ref());
        Ok(q)
    }
}

/// Whether `quote` claims to be a devnet quote (starts with the magic).
pub fn is_devnet_quote(quote: &[u8]) -> bool {
    quote.starts_with(DEVNET_QUOTE_MAGIC)
}

/// Verifies a devnet quote's self-signature and applies the policy (which must accept the
/// devnet type). Called by [`crate::verify_quote`].
pub(crate) fn verify(quote: &[u8], at: u64, policy: &Policy) -> Result<VerifiedQuote> {
    policy.check_tee_type(TeeKind::DevnetInsecure)?;
    if quote.len() != DEVNET_QUOTE_LEN {
        return Err(TeeError::MalformedQuote {
            reason: format!(
                "devnet quote is {} bytes, expected {DEVNET_QUOTE_LEN}",
                quote.len()
            ),
        });
    }
    let (signed, sig) = quote.split_at(SIGNED_LEN);
    let public_key = &signed[128..160];
    UnparsedPublicKey::new(&ED25519, public_key)
        .verify(signed, sig)
        .map_err(|_| TeeError::SignatureInvalid {
            reason: "devnet quote self-signature".into(),
        })?;
    let measurement = Measurement(signed[32..64].to_vec());
    let mut report_data = [0; 64];
    report_data.copy_from_slice(&signed[64..128]);
    let measurements = Measurements::DevnetInsecure { measurement };
    measurements.check(policy)?;
    tracing::warn!(target: "tee::verify", "accepted an INSECURE devnet attestation (chain 31337 only)");
    Ok(VerifiedQuote {
        tee: TeeKind::DevnetInsecure,
        tcb_status: None,
        advisory_ids: Vec::new(),
        measurements,
        report_data,
        verified_at: at,
        collateral_expires_at: None,
    })
}
