//! verity-tee integration tests: the dcap-qvl sample quotes, the devnet stand-in, the
//! configfs backend on a machine without TDX.

mod attestor;
mod backend;
mod devnet;
mod samples;

use verity_tee::{Collateral, parse_collateral};

/// 2025-07-01T00:00:00Z: inside both samples' collateral windows (TCB info, QE identity and
/// PCK CRL issued 2025-06-19, next updates 2025-07-19).
pub(crate) const PINNED_AT: u64 = 1_751_328_000;
/// 2025-07-20T00:00:00Z: after every sample's TCB info and QE identity `nextUpdate`.
pub(crate) const AFTER_EXPIRY: u64 = 1_752_969_600;
/// 2025-06-01T00:00:00Z: before the samples' collateral was issued.
pub(crate) const BEFORE_ISSUE: u64 = 1_748_736_000;

pub(crate) const SGX_QUOTE: &[u8] = include_bytes!("../data/sgx_quote");
pub(crate) const TDX_QUOTE: &[u8] = include_bytes!("../data/tdx_quote");

pub(crate) fn sgx_collateral() -> Collateral {
    parse_collateral(include_bytes!("../data/sgx_quote_collateral.json")).unwrap()
}

pub(crate) fn tdx_collateral() -> Collateral {
    parse_collateral(include_bytes!("../data/tdx_quote_collateral.json")).unwrap()
}
