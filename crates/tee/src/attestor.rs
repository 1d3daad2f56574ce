//! The on-chain side of attestation: what an attestor signs for the `EnclaveRegistry`, and how
//! an enclave key signs results for the `TeeResultVerifier`.
//!
//! DCAP verification costs millions of gas, so the chain does not verify quotes. Governance
//! appoints attestors and a threshold k; each attestor runs [`attest`] (this crate's
//! [`verify_quote`] under its [`Policy`], then the key binding) and signs an EIP-712
//! `Attestation`; the registry accepts a key with k distinct attestors' signatures. See
//! `docs/protocol.md`, "TEE attestation", for the trust assumption.
//!
//! The report data the enclave must commit to is [`key_binding_report_data`] of the key's
//! 20-byte address under the nonce [`registration_nonce`]`(chain, registry, operator,
//! challenge)`: the quote then names the operator too, so nobody can register someone else's
//! enclave key under their own name, and each renewal needs a new quote (a new challenge; the
//! registry accepts a quote hash once). Attestors that want stronger freshness can require the
//! challenge to be a recent block hash.

use alloy::{
    primitives::{Address, B256, Bytes, U256, keccak256},
    signers::{SignerSync, local::PrivateKeySigner},
    sol_types::{Eip712Domain, SolStruct, SolValue, eip712_domain},
};
use verity_contracts::EnclaveRegistry::Attestation;

use crate::{
    AttestationBackend, Collateral, Measurements, Policy, Result, TeeError, VerifiedQuote,
    check_key_binding, key_binding_report_data, verify_quote,
};

/// The `EnclaveRegistry` an attestation is for: its EIP-712 domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegistryDomain {
    /// The chain id.
    pub chain_id: u64,
    /// The `EnclaveRegistry` address.
    pub registry: Address,
}

impl RegistryDomain {
    /// The EIP-712 domain of `EnclaveRegistry` (name `VerityEnclaveRegistry`, version `1`).
    pub fn eip712(&self) -> Eip712Domain {
        eip712_domain! {
            name: "VerityEnclaveRegistry",
            version: "1",
            chain_id: self.chain_id,
            verifying_contract: self.registry,
        }
    }
}

/// The second half of the report data a registration quote carries:
/// `keccak256(abi.encode(chainId, registry, operator, challenge))`. It names the chain, the
/// registry and the operator, so a quote cannot be replayed for another operator or registry;
/// `challenge` makes each renewal's quote new.
pub fn registration_nonce(domain: &RegistryDomain, operator: Address, challenge: B256) -> [u8; 32] {
    keccak256(
        (
            U256::from(domain.chain_id),
            domain.registry,
            operator,
            challenge,
        )
            .abi_encode(),
    )
    .0
}

/// The registry's two measurement words for a verified quote:
/// SGX (MRENCLAVE, MRSIGNER); TDX (keccak256(MRTD || RTMR0..3), 0); devnet (its measurement, 0).
pub fn onchain_measurements(m: &Measurements) -> (B256, B256) {
    match m {
        Measurements::Sgx {
            mr_enclave,
            mr_signer,
            ..
        } => (
            B256::from_slice(&mr_enclave.0),
            B256::from_slice(&mr_signer.0),
        ),
        Measurements::Tdx { mr_td, rtmr, .. } => {
            let mut all = mr_td.0.clone();
            for r in rtmr {
                all.extend_from_slice(&r.0);
            }
            (keccak256(all), B256::ZERO)
        }
        Measurements::DevnetInsecure { measurement } => {
            (B256::from_slice(&measurement.0), B256::ZERO)
        }
    }
}

/// What an operator asks an attestor to vouch for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AttestRequest {
    /// The operator that will register the key.
    pub operator: Address,
    /// The enclave key's address, which the quote's report data must bind.
    pub enclave_key: Address,
    /// The challenge the quote's nonce was made with (see [`registration_nonce`]).
    pub challenge: B256,
    /// The longest the attestor vouches for the verdict, in seconds from `at`; the collateral's
    /// own expiry shortens it.
    pub max_validity: u64,
}

/// An attestor's signed verdict on one quote, ready for `EnclaveRegistry.register`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedAttestation {
    /// The statement.
    pub attestation: Attestation,
    /// The attestor's 65-byte signature over the statement's EIP-712 digest.
    pub signature: Bytes,
    /// The attestor's address.
    pub attestor: Address,
    /// What the quote verification found.
    pub verified: VerifiedQuote,
}

/// The EIP-712 digest of `a` under `domain`, as `EnclaveRegistry.attestationDigest` computes it.
pub fn attestation_digest(a: &Attestation, domain: &RegistryDomain) -> B256 {
    a.eip712_signing_hash(&domain.eip712())
}

/// Verifies `quote` at time `at` under `policy`, checks that its report data binds
/// `request.enclave_key` for `request.operator` on `domain`, and signs the attestation with
/// `attestor`. Refuses with the verification's or the binding's [`TeeError`].
pub fn attest(
    quote: &[u8],
    collateral: &Collateral,
    policy: &Policy,
    at: u64,
    request: &AttestRequest,
    domain: &RegistryDomain,
    attestor: &PrivateKeySigner,
) -> Result<SignedAttestation> {
    let verified = verify_quote(quote, collateral, at, policy)?;
    let nonce = registration_nonce(domain, request.operator, request.challenge);
    check_key_binding(&verified, request.enclave_key.as_slice(), nonce)?;
    let (measurement, signer) = onchain_measurements(&verified.measurements);
    let until = at.saturating_add(request.max_validity);
    let expiry = verified
        .collateral_expires_at
        .map_or(until, |c| c.min(until));
    let attestation = Attestation {
        operator: request.operator,
        enclaveKey: request.enclave_key,
        measurement,
        signer,
        quoteHash: keccak256(quote),
        expiry,
    };
    let digest = attestation_digest(&attestation, domain);
    let signature = attestor
        .sign_hash_sync(&digest)
        .map_err(|e| TeeError::Signing {
            what: "attestation",
            reason: e.to_string(),
        })?;
    tracing::info!(target: "tee::attestor", operator = %request.operator,
        enclave_key = %request.enclave_key, %measurement, expiry, "attested");
    Ok(SignedAttestation {
        attestation,
        signature: Bytes::from(signature.as_bytes().to_vec()),
        attestor: attestor.address(),
        verified,
    })
}

/// Orders signatures as the registry requires (ascending attestor address) and returns them.
pub fn registration_signatures(signed: &[SignedAttestation]) -> Vec<Bytes> {
    let mut v: Vec<_> = signed.iter().collect();
    v.sort_by_key(|s| s.attestor);
    v.into_iter().map(|s| s.signature.clone()).collect()
}

/// A secp256k1 key that lives inside the TEE: it is bound to quotes through the report data
/// and signs results for the `TeeResultVerifier`.
///
/// With a real TEE the key must be generated inside the enclave and never leave it; the devnet
/// (chain 31337) uses [`crate::DevnetInsecureBackend`] with a key held by the node process.
#[derive(Debug, Clone)]
pub struct EnclaveKey {
    signer: PrivateKeySigner,
}

impl EnclaveKey {
    /// A fresh random key.
    pub fn random() -> Self {
        Self {
            signer: PrivateKeySigner::random(),
        }
    }

    /// Wraps an existing key.
    pub fn from_signer(signer: PrivateKeySigner) -> Self {
        Self { signer }
    }

    /// The key's Ethereum address: what the registry stores.
    pub fn address(&self) -> Address {
        self.signer.address()
    }

    /// The report data that binds this key for `operator` on `domain` under `challenge`.
    pub fn registration_report_data(
        &self,
        domain: &RegistryDomain,
        operator: Address,
        challenge: B256,
    ) -> [u8; 64] {
        key_binding_report_data(
            self.address().as_slice(),
            registration_nonce(domain, operator, challenge),
        )
    }

    /// A quote from `backend` binding this key for `operator` on `domain` under `challenge`.
    pub fn registration_quote(
        &self,
        backend: &dyn AttestationBackend,
        domain: &RegistryDomain,
        operator: Address,
        challenge: B256,
    ) -> Result<Vec<u8>> {
        backend.quote(self.registration_report_data(domain, operator, challenge))
    }

    /// The proof `TeeResultVerifier` accepts for `operator`'s result `result_digest` of
    /// `program_digest` on `input_digest`, for task `task_id` on `market` of `chain_id`:
    /// `abi.encode(operator, chainId, market, taskId, signature)`, the signature being EIP-191
    /// over `keccak256(abi.encode(binding, programDigest, inputDigest, resultDigest))`.
    #[allow(clippy::too_many_arguments)]
    pub fn sign_result(
        &self,
        chain_id: u64,
        market: Address,
        task_id: U256,
        operator: Address,
        program_digest: B256,
        input_digest: B256,
        result_digest: B256,
    ) -> Result<Bytes> {
        let binding = verity_primitives::binding(chain_id, market, task_id, operator);
        let statement =
            keccak256((binding, program_digest, input_digest, result_digest).abi_encode());
        let signature = self
            .signer
            .sign_message_sync(statement.as_slice())
            .map_err(|e| TeeError::Signing {
                what: "result",
                reason: e.to_string(),
            })?;
        let proof = (
            operator,
            U256::from(chain_id),
            market,
            task_id,
            Bytes::from(signature.as_bytes().to_vec()),
        )
            .abi_encode_params();
        Ok(Bytes::from(proof))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn result_proofs_have_the_length_the_verifier_expects() {
        let k = EnclaveKey::random();
        let p = k
            .sign_result(
                31337,
                Address::repeat_byte(1),
                U256::from(7),
                Address::repeat_byte(2),
                B256::repeat_byte(3),
                B256::repeat_byte(4),
                B256::repeat_byte(5),
            )
            .unwrap();
        // TeeResultVerifier refuses any other length with MalformedProof.
        assert_eq!(p.len(), 288);
        assert_eq!(&p[12..32], Address::repeat_byte(2).as_slice());
    }

    #[test]
    fn the_nonce_names_the_operator_and_the_registry() {
        let d = RegistryDomain {
            chain_id: 31337,
            registry: Address::repeat_byte(9),
        };
        let other = RegistryDomain {
            registry: Address::repeat_byte(8),
            ..d
        };
        let (a, b) = (Address::repeat_byte(1), Address::repeat_byte(2));
        let c = B256::ZERO;
        assert_ne!(registration_nonce(&d, a, c), registration_nonce(&d, b, c));
        assert_ne!(
            registration_nonce(&d, a, c),
            registration_nonce(&other, a, c)
        );
        assert_ne!(
            registration_nonce(&d, a, c),
            registration_nonce(&d, a, B256::repeat_byte(1))
        );
    }
}
