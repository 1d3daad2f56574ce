//! TEE attestation on-chain (issue 20): the `EnclaveRegistry` of attested enclave keys and the
//! `TeeResultVerifier` that lets a ZkProof-mode task settle on one enclave-signed result.
//!
//! [`deploy_tee`] deploys and configures both; the attestor's signature and the enclave's
//! result signature are made by `verity-tee` (`attest`, `EnclaveKey::sign_result`).
//! Governance changes to the registry go through [`GovernanceCall`] once the timelock owns it.

use alloy::{
    primitives::{Address, B256, Bytes, keccak256},
    rpc::types::TransactionReceipt,
    sol_types::SolCall,
};
use verity_contracts::{EnclaveRegistry, TeeResultVerifier};

use crate::{Error, GovernanceCall, Result, Settlement};

pub use verity_contracts::EnclaveRegistry::{Attestation, Enclave};

/// The id the TEE verifier is registered under in the `VerifierRegistry`: `keccak256("tee-v1")`.
pub fn tee_verifier_id() -> B256 {
    keccak256("tee-v1")
}

/// Where the TEE contracts live.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TeeDeployment {
    /// `EnclaveRegistry`.
    pub enclaves: Address,
    /// `TeeResultVerifier`.
    pub verifier: Address,
}

/// How [`deploy_tee`] configures the registry.
#[derive(Debug, Clone, Default)]
pub struct TeeConfig {
    /// Seconds a registration lasts (renewal needs a fresh quote).
    pub validity: u64,
    /// The attestors governance trusts.
    pub attestors: Vec<Address>,
    /// Signatures of distinct attestors a registration needs (1..=attestors).
    pub threshold: u64,
    /// Measurements (SGX MRENCLAVE, TDX keccak256(MRTD||RTMR0..3), devnet measurement) to
    /// allow from the start.
    pub measurements: Vec<B256>,
    /// SGX MRSIGNERs to allow from the start.
    pub signers: Vec<B256>,
}

/// Deploys `EnclaveRegistry` (owned by `from`) and a `TeeResultVerifier` reading it, then sets
/// the attestors, the threshold and the allow-lists of `cfg`. `deploy`'s contracts are left
/// alone: registering the verifier under [`tee_verifier_id`] is the verifier registry owner's
/// call ([`Settlement::set_verifier`], or [`GovernanceCall::set_verifier`] under a timelock),
/// and handing the registry to the timelock is [`Settlement::transfer_enclaves_ownership`]
/// followed by the timelock's [`GovernanceCall::accept_ownership`].
pub async fn deploy_tee(s: &Settlement, from: Address, cfg: &TeeConfig) -> Result<TeeDeployment> {
    let code = EnclaveRegistry::deploy_builder(s.provider(), from, cfg.validity)
        .calldata()
        .clone();
    let enclaves = s.create_contract(from, code).await?;
    let code = TeeResultVerifier::deploy_builder(s.provider(), enclaves)
        .calldata()
        .clone();
    let verifier = s.create_contract(from, code).await?;
    let tee = TeeDeployment { enclaves, verifier };
    for a in &cfg.attestors {
        s.set_attestor(from, &tee, *a, true).await?;
    }
    if cfg.threshold > 0 {
        s.set_attestor_threshold(from, &tee, cfg.threshold).await?;
    }
    for m in &cfg.measurements {
        s.set_measurement(from, &tee, *m, true).await?;
    }
    for m in &cfg.signers {
        s.set_enclave_signer(from, &tee, *m, true).await?;
    }
    Ok(tee)
}

impl GovernanceCall {
    /// `EnclaveRegistry.setMeasurement`.
    pub fn set_measurement(
        tee: &TeeDeployment,
        measurement: B256,
        allowed: bool,
        salt: B256,
    ) -> Self {
        let data = EnclaveRegistry::setMeasurementCall {
            measurement,
            allowed,
        }
        .abi_encode();
        Self {
            target: tee.enclaves,
            data: data.into(),
            salt,
        }
    }

    /// `EnclaveRegistry.revoke` by governance.
    pub fn revoke_enclave(tee: &TeeDeployment, enclave_key: Address, salt: B256) -> Self {
        let data = EnclaveRegistry::revokeCall {
            enclaveKey: enclave_key,
        }
        .abi_encode();
        Self {
            target: tee.enclaves,
            data: data.into(),
            salt,
        }
    }

    /// `acceptOwnership` of an `Ownable2Step` contract (the last step of handing it to the
    /// timelock).
    pub fn accept_ownership(target: Address, salt: B256) -> Self {
        Self {
            target,
            data: EnclaveRegistry::acceptOwnershipCall {}.abi_encode().into(),
            salt,
        }
    }
}

impl Settlement {
    fn enclaves(
        &self,
        tee: &TeeDeployment,
    ) -> EnclaveRegistry::EnclaveRegistryInstance<&alloy::providers::DynProvider> {
        EnclaveRegistry::new(tee.enclaves, self.provider())
    }

    /// Owner: adds or removes an attestor.
    pub async fn set_attestor(
        &self,
        from: Address,
        tee: &TeeDeployment,
        attestor: Address,
        allowed: bool,
    ) -> Result<TransactionReceipt> {
        let tx = self
            .enclaves(tee)
            .setAttestor(attestor, allowed)
            .into_transaction_request();
        self.send("setAttestor", from, tx).await
    }

    /// Owner: sets the number of distinct attestor signatures a registration needs.
    pub async fn set_attestor_threshold(
        &self,
        from: Address,
        tee: &TeeDeployment,
        k: u64,
    ) -> Result<TransactionReceipt> {
        let tx = self
            .enclaves(tee)
            .setThreshold(alloy::primitives::U256::from(k))
            .into_transaction_request();
        self.send("setThreshold", from, tx).await
    }

    /// Owner: allows or removes a measurement.
    pub async fn set_measurement(
        &self,
        from: Address,
        tee: &TeeDeployment,
        measurement: B256,
        allowed: bool,
    ) -> Result<TransactionReceipt> {
        let tx = self
            .enclaves(tee)
            .setMeasurement(measurement, allowed)
            .into_transaction_request();
        self.send("setMeasurement", from, tx).await
    }

    /// Owner: allows or removes an SGX MRSIGNER.
    pub async fn set_enclave_signer(
        &self,
        from: Address,
        tee: &TeeDeployment,
        signer: B256,
        allowed: bool,
    ) -> Result<TransactionReceipt> {
        let tx = self
            .enclaves(tee)
            .setSigner(signer, allowed)
            .into_transaction_request();
        self.send("setSigner", from, tx).await
    }

    /// Owner: starts handing the registry to `new_owner` (the timelock accepts through
    /// [`GovernanceCall::accept_ownership`]).
    pub async fn transfer_enclaves_ownership(
        &self,
        from: Address,
        tee: &TeeDeployment,
        new_owner: Address,
    ) -> Result<TransactionReceipt> {
        let tx = self
            .enclaves(tee)
            .transferOwnership(new_owner)
            .into_transaction_request();
        self.send("transferOwnership", from, tx).await
    }

    /// Operator `from` registers (or renews) an enclave key with attestors' signatures, sorted
    /// by ascending attestor address (`verity_tee::registration_signatures`).
    pub async fn register_enclave(
        &self,
        from: Address,
        tee: &TeeDeployment,
        attestation: &Attestation,
        signatures: Vec<Bytes>,
    ) -> Result<TransactionReceipt> {
        let tx = self
            .enclaves(tee)
            .register(attestation.clone(), signatures)
            .into_transaction_request();
        self.send("register", from, tx).await
    }

    /// The key's operator, or governance: revokes `enclave_key` for good.
    pub async fn revoke_enclave(
        &self,
        from: Address,
        tee: &TeeDeployment,
        enclave_key: Address,
    ) -> Result<TransactionReceipt> {
        let tx = self
            .enclaves(tee)
            .revoke(enclave_key)
            .into_transaction_request();
        self.send("revoke", from, tx).await
    }

    /// The registration of `enclave_key` (all zero if none).
    pub async fn enclave(&self, tee: &TeeDeployment, enclave_key: Address) -> Result<Enclave> {
        self.enclaves(tee)
            .enclaveOf(enclave_key)
            .call()
            .await
            .map_err(|e| Error::from_contract("enclaveOf", Address::ZERO, e))
    }

    /// Whether `enclave_key` may sign results for `operator` now: `Ok` or the registry's
    /// refusal (`UnknownEnclaveKey`, `KeyOfAnotherOperator`, `KeyRevoked`,
    /// `RegistrationExpired`, `MeasurementNotAllowed`).
    pub async fn check_enclave(
        &self,
        tee: &TeeDeployment,
        enclave_key: Address,
        operator: Address,
    ) -> Result<()> {
        self.enclaves(tee)
            .checkEnclave(enclave_key, operator)
            .call()
            .await
            .map_err(|e| Error::from_contract("checkEnclave", Address::ZERO, e))?;
        Ok(())
    }

    /// The EIP-712 digest the registry expects attestors to sign for `attestation`.
    pub async fn attestation_digest(
        &self,
        tee: &TeeDeployment,
        attestation: &Attestation,
    ) -> Result<B256> {
        self.enclaves(tee)
            .attestationDigest(attestation.clone())
            .call()
            .await
            .map_err(|e| Error::from_contract("attestationDigest", Address::ZERO, e))
    }
}
