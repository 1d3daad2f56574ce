//! The SGX and TDX sample quotes shipped with dcap-qvl 0.7.1, verified against their real
//! (expired) Intel collateral at a pinned time.

use verity_tee::{
    Measurement, Measurements, Policy, TcbStatus, TeeError, TeeKind, check_key_binding,
    key_binding_report_data, verify_quote,
};

use crate::*;

/// The SGX sample's TCB status: the strict default refuses it.
fn sgx_policy() -> Policy {
    Policy::strict().accept_status(TcbStatus::ConfigurationAndSWHardeningNeeded)
}

#[test]
fn sgx_sample_verifies_at_a_pinned_time() {
    let v = verify_quote(SGX_QUOTE, &sgx_collateral(), PINNED_AT, &sgx_policy()).unwrap();
    assert_eq!(v.tee, TeeKind::Sgx);
    assert_eq!(
        v.tcb_status,
        Some(TcbStatus::ConfigurationAndSWHardeningNeeded)
    );
    assert_eq!(v.advisory_ids, ["INTEL-SA-00289", "INTEL-SA-00615"]);
    assert_eq!(v.verified_at, PINNED_AT);
    let expires = v.collateral_expires_at.unwrap();
    assert!(expires > PINNED_AT && expires < AFTER_EXPIRY, "{expires}");
    let Measurements::Sgx {
        mr_enclave,
        mr_signer,
        ..
    } = &v.measurements
    else {
        panic!("{:?}", v.measurements)
    };
    assert_eq!(mr_enclave.0.len(), 32);
    assert_eq!(mr_signer.0.len(), 32);
}

#[test]
fn tdx_sample_verifies_at_a_pinned_time_under_the_strict_policy() {
    let v = verify_quote(TDX_QUOTE, &tdx_collateral(), PINNED_AT, &Policy::strict()).unwrap();
    assert_eq!(v.tee, TeeKind::Tdx);
    assert_eq!(v.tcb_status, Some(TcbStatus::UpToDate));
    assert!(v.advisory_ids.is_empty());
    let Measurements::Tdx { mr_td, rtmr, .. } = &v.measurements else {
        panic!("{:?}", v.measurements)
    };
    assert_eq!(mr_td.0.len(), 48);
    assert!(rtmr.iter().all(|r| r.0.len() == 48));
}

#[test]
fn measurements_on_the_allow_list_are_accepted() {
    let v = verify_quote(SGX_QUOTE, &sgx_collateral(), PINNED_AT, &sgx_policy()).unwrap();
    let Measurements::Sgx {
        mr_enclave,
        mr_signer,
        ..
    } = v.measurements.clone()
    else {
        panic!()
    };
    let policy = sgx_policy()
        .allow_mr_enclave(mr_enclave)
        .allow_mr_signer(mr_signer);
    assert_eq!(
        verify_quote(SGX_QUOTE, &sgx_collateral(), PINNED_AT, &policy).unwrap(),
        v
    );

    let t = verify_quote(TDX_QUOTE, &tdx_collateral(), PINNED_AT, &Policy::strict()).unwrap();
    let Measurements::Tdx { mr_td, rtmr, .. } = t.measurements.clone() else {
        panic!()
    };
    let [r0, r1, r2, r3] = rtmr;
    let policy = Policy::strict()
        .allow_mr_td(mr_td)
        .allow_rtmr(0, r0)
        .allow_rtmr(1, r1)
        .allow_rtmr(2, r2)
        .allow_rtmr(3, r3);
    assert_eq!(
        verify_quote(TDX_QUOTE, &tdx_collateral(), PINNED_AT, &policy).unwrap(),
        t
    );
}

#[test]
fn refuses_after_the_collateral_expired() {
    for (quote, collateral) in [(SGX_QUOTE, sgx_collateral()), (TDX_QUOTE, tdx_collateral())] {
        let err = verify_quote(quote, &collateral, AFTER_EXPIRY, &sgx_policy()).unwrap_err();
        assert!(
            matches!(
                err,
                TeeError::CollateralExpired {
                    at: AFTER_EXPIRY,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().starts_with("[V-TEE-003]"), "{err}");
    }
}

#[test]
fn refuses_before_the_collateral_was_issued() {
    let err = verify_quote(
        TDX_QUOTE,
        &tdx_collateral(),
        BEFORE_ISSUE,
        &Policy::strict(),
    )
    .unwrap_err();
    assert!(
        matches!(err, TeeError::CollateralNotYetValid { .. }),
        "{err}"
    );
}

#[test]
fn a_flipped_byte_in_the_quote_signature_is_refused() {
    for (quote, collateral, policy) in [
        (SGX_QUOTE, sgx_collateral(), sgx_policy()),
        (TDX_QUOTE, tdx_collateral(), Policy::strict()),
    ] {
        let parsed = dcap_qvl::quote::Quote::parse(quote).unwrap();
        // The signed part (header and report) is followed by the u32 auth-data length, then the
        // 64-byte ECDSA signature over the signed part.
        let sig_at = parsed.signed_length() + 4;
        let mut tampered = quote.to_vec();
        tampered[sig_at + 10] ^= 0x01;
        let err = verify_quote(&tampered, &collateral, PINNED_AT, &policy).unwrap_err();
        assert!(matches!(err, TeeError::SignatureInvalid { .. }), "{err}");
        assert_eq!(err.code(), "V-TEE-002");
    }
}

#[test]
fn a_flipped_byte_in_the_report_is_refused() {
    // The report data is part of the signed report: changing it breaks the signature, so a
    // quote cannot be re-bound to another key.
    let parsed = dcap_qvl::quote::Quote::parse(TDX_QUOTE).unwrap();
    let mut tampered = TDX_QUOTE.to_vec();
    tampered[parsed.signed_length() - 1] ^= 0x80;
    let err = verify_quote(&tampered, &tdx_collateral(), PINNED_AT, &Policy::strict()).unwrap_err();
    assert!(matches!(err, TeeError::SignatureInvalid { .. }), "{err}");
}

#[test]
fn a_measurement_not_on_the_allow_list_is_refused() {
    let other = Measurement(vec![0xab; 32]);
    let err = verify_quote(
        SGX_QUOTE,
        &sgx_collateral(),
        PINNED_AT,
        &sgx_policy().allow_mr_enclave(other),
    )
    .unwrap_err();
    assert!(
        matches!(
            err,
            TeeError::MeasurementNotAllowed {
                name: "MRENCLAVE",
                ..
            }
        ),
        "{err}"
    );
    assert_eq!(err.code(), "V-TEE-006");

    let err = verify_quote(
        TDX_QUOTE,
        &tdx_collateral(),
        PINNED_AT,
        &Policy::strict().allow_rtmr(2, Measurement(vec![0x11; 48])),
    )
    .unwrap_err();
    assert!(
        matches!(err, TeeError::MeasurementNotAllowed { name: "RTMR2", .. }),
        "{err}"
    );
}

#[test]
fn a_tcb_status_the_strict_policy_does_not_accept_is_refused() {
    let err = verify_quote(SGX_QUOTE, &sgx_collateral(), PINNED_AT, &Policy::strict()).unwrap_err();
    match &err {
        TeeError::TcbStatusNotAccepted { status, accepted } => {
            assert_eq!(*status, TcbStatus::ConfigurationAndSWHardeningNeeded);
            assert_eq!(accepted, "UpToDate");
        }
        other => panic!("{other}"),
    }
    assert_eq!(err.code(), "V-TEE-005");
}

#[test]
fn a_tee_type_the_policy_does_not_accept_is_refused() {
    let policy = Policy::strict().only_tee_types([TeeKind::Sgx]);
    let err = verify_quote(TDX_QUOTE, &tdx_collateral(), PINNED_AT, &policy).unwrap_err();
    assert_eq!(err.code(), "V-TEE-008", "{err}");
}

#[test]
fn report_data_that_does_not_bind_the_key_is_refused() {
    let v = verify_quote(TDX_QUOTE, &tdx_collateral(), PINNED_AT, &Policy::strict()).unwrap();
    let err = check_key_binding(&v, &[0x42; 20], [0; 32]).unwrap_err();
    match &err {
        TeeError::ReportDataMismatch { expected, found } => {
            assert_eq!(
                *expected,
                hex::encode(key_binding_report_data(&[0x42; 20], [0; 32]))
            );
            assert_eq!(*found, hex::encode(v.report_data));
        }
        other => panic!("{other}"),
    }
    assert_eq!(err.code(), "V-TEE-007");
}

#[test]
fn the_wrong_collateral_is_refused() {
    // TDX quote, SGX platform's collateral: a typed refusal, not a panic or an acceptance.
    let err = verify_quote(TDX_QUOTE, &sgx_collateral(), PINNED_AT, &Policy::strict()).unwrap_err();
    assert!(err.is_refusal() || err.code() == "V-TEE-009", "{err}");
}

#[test]
fn truncated_and_garbage_quotes_are_malformed() {
    for bytes in [
        &SGX_QUOTE[..100],
        &TDX_QUOTE[..700],
        &[][..],
        &[0xff; 64][..],
    ] {
        let err = verify_quote(bytes, &tdx_collateral(), PINNED_AT, &Policy::strict()).unwrap_err();
        assert_eq!(err.code(), "V-TEE-001", "{err}");
    }
}

#[test]
fn verified_quote_serializes_with_hex_fields() {
    let v = verify_quote(TDX_QUOTE, &tdx_collateral(), PINNED_AT, &Policy::strict()).unwrap();
    let json = serde_json::to_value(&v).unwrap();
    assert_eq!(json["tee"], "Tdx");
    assert_eq!(json["tcb_status"], "UpToDate");
    assert_eq!(json["measurements"]["type"], "Tdx");
    assert_eq!(json["measurements"]["mr_td"].as_str().unwrap().len(), 96);
    assert_eq!(json["report_data"].as_str().unwrap().len(), 128);
}
