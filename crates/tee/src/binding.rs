//! Binding an enclave key to a quote through the report data.
//!
//! A quote proves that some TEE software with given measurements chose 64 bytes of report data.
//! For the network to trust signatures made by a key that lives inside the TEE, the software
//! must put a commitment to that key in the report data, so a quote for one key cannot be
//! presented for another:
//!
//! ```text
//! report_data[0..32]  = sha256("verity-tee/enclave-key/v1" || enclave_key)
//! report_data[32..64] = nonce
//! ```
//!
//! `enclave_key` is the key's public form as the registry stores it: for a secp256k1 key used
//! on-chain, its 20-byte Ethereum address. The nonce is the verifier's freshness challenge
//! (for example a recent block hash, or a registration id), so an old quote cannot be replayed
//! to renew a registration; pass zeros where no challenge exists. SHA-256 rather than keccak
//! because TEE tooling (Gramine, TDX guest tools) and DCAP itself use SHA-256, and the EVM
//! has it as a precompile.

use ring::digest::{SHA256, digest};

use crate::{Result, TeeError, VerifiedQuote};

/// Domain separator of the key commitment.
pub const KEY_BINDING_DOMAIN: &[u8] = b"verity-tee/enclave-key/v1";

/// The report data a TEE must put in its quote to bind `enclave_key` under `nonce`.
pub fn key_binding_report_data(enclave_key: &[u8], nonce: [u8; 32]) -> [u8; 64] {
    let mut input = Vec::with_capacity(KEY_BINDING_DOMAIN.len() + enclave_key.len());
    input.extend_from_slice(KEY_BINDING_DOMAIN);
    input.extend_from_slice(enclave_key);
    let mut out = [0; 64];
    out[..32].copy_from_slice(digest(&SHA256, &input).as_ref());
    out[32..].copy_from_slice(&nonce);
    out
}

/// Checks that a verified quote binds `enclave_key` under `nonce`.
pub fn check_key_binding(quote: &VerifiedQuote, enclave_key: &[u8], nonce: [u8; 32]) -> Result<()> {
    let expected = key_binding_report_data(enclave_key, nonce);
    if quote.report_data == expected {
        Ok(())
    } else {
        Err(TeeError::ReportDataMismatch {
            expected: hex::encode(expected),
            found: hex::encode(quote.report_data),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binding_is_domain_separated_and_keeps_the_nonce() {
        let rd = key_binding_report_data(b"\x11\x22", [7; 32]);
        assert_ne!(rd[..32], digest(&SHA256, b"\x11\x22").as_ref()[..]);
        assert_eq!(rd[32..], [7; 32]);
        assert_ne!(rd, key_binding_report_data(b"\x11\x23", [7; 32]));
    }
}
