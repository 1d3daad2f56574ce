#![doc = include_str!("../README.md")]

pub mod attestor;
mod backend;
mod binding;
mod collateral_time;
pub mod devnet;
mod error;
mod policy;
mod verify;

pub use attestor::{
    AttestRequest, EnclaveKey, RegistryDomain, SignedAttestation, attest, attestation_digest,
    onchain_measurements, registration_nonce, registration_signatures,
};
pub use backend::{AttestationBackend, CONFIGFS_TSM_REPORT, TdxConfigfsBackend};
pub use binding::{KEY_BINDING_DOMAIN, check_key_binding, key_binding_report_data};
pub use devnet::DevnetInsecureBackend;
pub use error::TeeError;
pub use policy::{AllowList, DEVNET_CHAIN_ID, Measurement, Policy, TcbStatus, TeeKind};
pub use verify::{
    Collateral, Measurements, VerifiedQuote, load_collateral, load_quote, parse_collateral,
    verify_quote,
};

/// `Result` with [`TeeError`] as the default error.
pub type Result<T, E = TeeError> = std::result::Result<T, E>;
