//! The attestor: `attest` verifies the quote, checks the key binding for the operator and
//! signs the EIP-712 attestation the `EnclaveRegistry` accepts.

use alloy::{
    primitives::{Address, B256, keccak256},
    signers::local::PrivateKeySigner,
};
use verity_tee::{
    AttestRequest, DevnetInsecureBackend, EnclaveKey, Measurement, Policy, RegistryDomain,
    TcbStatus, TeeError, attest, attestation_digest, devnet::DEFAULT_DEVNET_MEASUREMENT,
    onchain_measurements, verify_quote,
};

use crate::*;

fn domain() -> RegistryDomain {
    RegistryDomain {
        chain_id: 31337,
        registry: Address::repeat_byte(0xee),
    }
}

fn attestor() -> PrivateKeySigner {
    PrivateKeySigner::from_bytes(&B256::repeat_byte(0x11)).unwrap()
}

fn request(key: Address) -> AttestRequest {
    AttestRequest {
        operator: Address::repeat_byte(0x0a),
        enclave_key: key,
        challenge: B256::repeat_byte(0xc1),
        max_validity: 86_400,
    }
}

/// The real samples verify at the pinned time, but their report data was chosen by whoever
/// made them, not by our binding: the attestor must refuse to vouch for any key with them.
#[test]
fn real_sample_quotes_verify_but_do_not_bind_our_key() {
    let key = EnclaveKey::random();
    let sgx_policy = Policy::strict().accept_status(TcbStatus::ConfigurationAndSWHardeningNeeded);
    let cases = [
        ("sgx", SGX_QUOTE, sgx_collateral(), sgx_policy),
        ("tdx", TDX_QUOTE, tdx_collateral(), Policy::strict()),
    ];
    for (name, quote, collateral, policy) in cases {
        // The quote itself is genuine at this time...
        verify_quote(quote, &collateral, PINNED_AT, &policy).unwrap();
        // ...but the attestor refuses: the report data does not commit to the key.
        let err = attest(
            quote,
            &collateral,
            &policy,
            PINNED_AT,
            &request(key.address()),
            &domain(),
            &attestor(),
        )
        .unwrap_err();
        assert!(
            matches!(err, TeeError::ReportDataMismatch { .. }),
            "{name}: {err}"
        );
        assert_eq!(err.code(), "V-TEE-007", "{name}");
    }
}

#[test]
fn the_attestor_refuses_an_expired_collateral_before_the_binding() {
    let key = EnclaveKey::random();
    let err = attest(
        TDX_QUOTE,
        &tdx_collateral(),
        &Policy::strict(),
        AFTER_EXPIRY,
        &request(key.address()),
        &domain(),
        &attestor(),
    )
    .unwrap_err();
    assert_eq!(err.code(), "V-TEE-003", "{err}");
}

#[test]
fn a_devnet_quote_that_binds_the_key_is_attested_and_signed() {
    let key = EnclaveKey::random();
    let req = request(key.address());
    let quote = key
        .registration_quote(
            &DevnetInsecureBackend::new(),
            &domain(),
            req.operator,
            req.challenge,
        )
        .unwrap();
    let policy = Policy::default().allow_insecure_devnet(31337).unwrap();
    let signed = attest(
        &quote,
        &tdx_collateral(),
        &policy,
        1_000,
        &req,
        &domain(),
        &attestor(),
    )
    .unwrap();
    let a = &signed.attestation;
    assert_eq!(a.operator, req.operator);
    assert_eq!(a.enclaveKey, key.address());
    assert_eq!(a.measurement, B256::from(DEFAULT_DEVNET_MEASUREMENT));
    assert_eq!(a.signer, B256::ZERO);
    assert_eq!(a.quoteHash, keccak256(&quote));
    // No collateral expiry for the devnet type: the attestor's own bound applies.
    assert_eq!(a.expiry, 1_000 + 86_400);
    assert_eq!(signed.attestor, attestor().address());
    let sig = alloy::primitives::Signature::try_from(signed.signature.as_ref()).unwrap();
    let recovered = sig
        .recover_address_from_prehash(&attestation_digest(a, &domain()))
        .unwrap();
    assert_eq!(recovered, attestor().address());

    // The same quote presented for another operator does not bind (the nonce names the
    // operator), nor under another challenge.
    for other in [
        AttestRequest {
            operator: Address::repeat_byte(0x0b),
            ..req
        },
        AttestRequest {
            challenge: B256::repeat_byte(0xc2),
            ..req
        },
    ] {
        let err = attest(
            &quote,
            &tdx_collateral(),
            &policy,
            1_000,
            &other,
            &domain(),
            &attestor(),
        )
        .unwrap_err();
        assert_eq!(err.code(), "V-TEE-007", "{err}");
    }
}

#[test]
fn the_registry_words_of_tdx_and_devnet_measurements() {
    // The TDX sample's measurements, mapped to the registry's words.
    let v = verify_quote(TDX_QUOTE, &tdx_collateral(), PINNED_AT, &Policy::strict()).unwrap();
    let (m, s) = onchain_measurements(&v.measurements);
    assert_eq!(s, B256::ZERO);
    let verity_tee::Measurements::Tdx { mr_td, rtmr, .. } = &v.measurements else {
        panic!("{:?}", v.measurements)
    };
    let mut all: Vec<u8> = mr_td.0.clone();
    rtmr.iter().for_each(|r| all.extend_from_slice(&r.0));
    assert_eq!(m, keccak256(&all));
    // A devnet measurement maps to itself.
    let dm = verity_tee::Measurements::DevnetInsecure {
        measurement: Measurement(vec![7; 32]),
    };
    assert_eq!(
        onchain_measurements(&dm),
        (B256::repeat_byte(7), B256::ZERO)
    );
}
