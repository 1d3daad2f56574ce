//! The insecure devnet stand-in: refused by default, accepted only for chain 31337.

use verity_tee::{
    AttestationBackend, DevnetInsecureBackend, Measurement, Measurements, Policy, TeeError,
    TeeKind, check_key_binding, devnet::DEFAULT_DEVNET_MEASUREMENT, key_binding_report_data,
    verify_quote,
};

use crate::*;

fn devnet_quote(key: &[u8], nonce: [u8; 32]) -> Vec<u8> {
    DevnetInsecureBackend::new()
        .quote(key_binding_report_data(key, nonce))
        .unwrap()
}

#[test]
fn devnet_quote_is_refused_by_the_default_policy() {
    let q = devnet_quote(&[1; 20], [0; 32]);
    // Collateral is irrelevant to the devnet type; any will do.
    let err = verify_quote(&q, &tdx_collateral(), PINNED_AT, &Policy::default()).unwrap_err();
    assert!(
        matches!(
            err,
            TeeError::TeeTypeNotAccepted {
                kind: TeeKind::DevnetInsecure,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("31337"), "{err}");
}

#[test]
fn devnet_quote_is_accepted_on_chain_31337_and_binds_its_key() {
    let key = [0x5a; 20];
    let nonce = [9; 32];
    let q = devnet_quote(&key, nonce);
    let policy = Policy::default().allow_insecure_devnet(31337).unwrap();
    let v = verify_quote(&q, &tdx_collateral(), 0, &policy).unwrap();
    assert_eq!(v.tee, TeeKind::DevnetInsecure);
    assert_eq!(v.tcb_status, None);
    assert_eq!(
        v.measurements,
        Measurements::DevnetInsecure {
            measurement: Measurement(DEFAULT_DEVNET_MEASUREMENT.to_vec())
        }
    );
    check_key_binding(&v, &key, nonce).unwrap();
    // Another key, or the right key under another nonce (a replayed quote), is refused.
    assert_eq!(
        check_key_binding(&v, &[0x5b; 20], nonce)
            .unwrap_err()
            .code(),
        "V-TEE-007"
    );
    assert_eq!(
        check_key_binding(&v, &key, [8; 32]).unwrap_err().code(),
        "V-TEE-007"
    );
}

#[test]
fn devnet_policy_cannot_be_built_for_another_chain() {
    assert_eq!(
        Policy::default()
            .allow_insecure_devnet(1)
            .unwrap_err()
            .code(),
        "V-TEE-011"
    );
}

#[test]
fn devnet_measurement_allow_list_applies() {
    let q = DevnetInsecureBackend::with_measurement([3; 32])
        .quote([0; 64])
        .unwrap();
    let mut policy = Policy::default().allow_insecure_devnet(31337).unwrap();
    policy.devnet_measurement = Some([Measurement(DEFAULT_DEVNET_MEASUREMENT.to_vec())].into());
    let err = verify_quote(&q, &tdx_collateral(), 0, &policy).unwrap_err();
    assert!(
        matches!(
            err,
            TeeError::MeasurementNotAllowed {
                name: "DEVNET_MEASUREMENT",
                ..
            }
        ),
        "{err}"
    );
}

#[test]
fn tampered_devnet_quote_is_refused() {
    let policy = Policy::default().allow_insecure_devnet(31337).unwrap();
    let mut q = devnet_quote(&[1; 20], [0; 32]);
    q[70] ^= 1; // report data
    let err = verify_quote(&q, &tdx_collateral(), 0, &policy).unwrap_err();
    assert_eq!(err.code(), "V-TEE-002", "{err}");
    let q = devnet_quote(&[1; 20], [0; 32]);
    let err = verify_quote(&q[..200], &tdx_collateral(), 0, &policy).unwrap_err();
    assert_eq!(err.code(), "V-TEE-001", "{err}");
}
