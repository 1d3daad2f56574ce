//! TEE attestation on-chain (issue 20): enclave keys registered with k-of-n attestor
//! signatures, and ZkProof-mode tasks settled by an enclave-signed result through the
//! `TeeResultVerifier`. The devnet stand-in plays the TEE (chain 31337); the real sample quotes'
//! attestor path is in `crates/tee/tests/it/attestor.rs`.

use alloy::{
    primitives::{Address, B256, Bytes, U256},
    signers::local::PrivateKeySigner,
};
use verity_settlement::{
    Attestation, GovernanceCall, Mode, Status, TaskId, TeeConfig, TeeDeployment, deploy_tee,
    hand_to_timelock, tee_verifier_id,
};
use verity_tee::{
    AttestRequest, Collateral, DevnetInsecureBackend, EnclaveKey, Policy, RegistryDomain, attest,
    attestation_digest, devnet::DEFAULT_DEVNET_MEASUREMENT, parse_collateral,
};

use crate::harness::*;

const VALIDITY: u64 = 3_600;
const ATTEST_VALIDITY: u64 = 86_400;
const GOVERNANCE_DELAY: u64 = 60;

fn measurement() -> B256 {
    B256::from(DEFAULT_DEVNET_MEASUREMENT)
}

/// Any collateral: the devnet type needs none, but `verify_quote` takes one.
fn collateral() -> Collateral {
    parse_collateral(include_bytes!(
        "../../../tee/tests/data/tdx_quote_collateral.json"
    ))
    .unwrap()
}

fn attestor_keys() -> Vec<PrivateKeySigner> {
    (1..=4u8)
        .map(|i| PrivateKeySigner::from_bytes(&B256::repeat_byte(i)).unwrap())
        .collect()
}

/// A deployment with the TEE contracts: attestors 0..3 appointed (key 3 is not an
/// attestor), threshold 2, the devnet measurement allowed, the TEE verifier registered.
struct Tee {
    net: Net,
    tee: TeeDeployment,
    attestors: Vec<PrivateKeySigner>,
    domain: RegistryDomain,
}

impl Tee {
    /// Owned by the deployer account (governance stand-in).
    async fn new() -> Tee {
        let net = Net::new().await;
        let attestors = attestor_keys();
        let cfg = TeeConfig {
            validity: VALIDITY,
            attestors: attestors[..3].iter().map(|k| k.address()).collect(),
            threshold: 2,
            measurements: vec![measurement()],
            signers: vec![],
        };
        let tee = deploy_tee(&net.s, net.owner, &cfg).await.unwrap();
        net.s
            .set_verifier(net.owner, tee_verifier_id(), tee.verifier)
            .await
            .unwrap();
        Tee::with(net, tee, attestors)
    }

    fn with(net: Net, tee: TeeDeployment, attestors: Vec<PrivateKeySigner>) -> Tee {
        let domain = RegistryDomain {
            chain_id: net.s.chain_id(),
            registry: tee.enclaves,
        };
        Tee {
            net,
            tee,
            attestors,
            domain,
        }
    }

    /// `key`'s quote for `op` under `challenge`, signed by the attestors `by` (in that order).
    async fn attested(
        &self,
        op: Address,
        key: &EnclaveKey,
        backend: &DevnetInsecureBackend,
        challenge: u8,
        by: &[usize],
    ) -> (Attestation, Vec<Bytes>) {
        let quote = key
            .registration_quote(backend, &self.domain, op, B256::repeat_byte(challenge))
            .unwrap();
        let policy = Policy::default().allow_insecure_devnet(31337).unwrap();
        let req = AttestRequest {
            operator: op,
            enclave_key: key.address(),
            challenge: B256::repeat_byte(challenge),
            max_validity: ATTEST_VALIDITY,
        };
        let at = self.net.now().await;
        let signed: Vec<_> = by
            .iter()
            .map(|i| {
                attest(
                    &quote,
                    &collateral(),
                    &policy,
                    at,
                    &req,
                    &self.domain,
                    &self.attestors[*i],
                )
                .unwrap()
            })
            .collect();
        let a = signed[0].attestation.clone();
        (a, signed.into_iter().map(|s| s.signature).collect())
    }

    /// Registers a fresh key for `op`, attested by attestors 0 and 1.
    async fn registered(&self, op: Address) -> EnclaveKey {
        let key = EnclaveKey::random();
        let (a, sigs) = self
            .attested(op, &key, &DevnetInsecureBackend::new(), 1, &[0, 1])
            .await;
        self.net
            .s
            .register_enclave(op, &self.tee, &a, sorted(&self.attestors, &[0, 1], sigs))
            .await
            .unwrap();
        key
    }

    /// A TEE task (ZkProof mode, the TEE verifier) of 100 tokens assigned to `op`.
    async fn task(&self, op: Address) -> TaskId {
        let mut req = self.net.request(Mode::ZkProof, 100).await;
        req.verifier_id = tee_verifier_id();
        self.net.open_and_assign(&req, &[op]).await
    }

    /// `key`'s proof that `op` computed `result` for task `id`.
    fn proof(&self, key: &EnclaveKey, id: TaskId, op: Address, result: B256) -> Bytes {
        let d = self.net.s.deployment();
        key.sign_result(
            d.chain_id,
            d.market,
            id,
            op,
            alloy::primitives::keccak256("program"),
            alloy::primitives::keccak256("input"),
            result,
        )
        .unwrap()
    }
}

/// The signatures of attestors `by` (given in that order) sorted as the registry requires.
fn sorted(keys: &[PrivateKeySigner], by: &[usize], sigs: Vec<Bytes>) -> Vec<Bytes> {
    let mut v: Vec<_> = by.iter().map(|i| keys[*i].address()).zip(sigs).collect();
    v.sort_by_key(|(a, _)| *a);
    v.into_iter().map(|(_, s)| s).collect()
}

#[tokio::test]
async fn governed_registration_and_a_tee_task_settled_by_the_enclave_key() {
    let mut net = Net::new().await;
    let owner = net.owner;
    // Governance: the timelock owns the core contracts and, once it accepts, the registry.
    hand_to_timelock(&mut net.s, owner, GOVERNANCE_DELAY)
        .await
        .unwrap();
    let attestors = attestor_keys();
    let cfg = TeeConfig {
        validity: VALIDITY,
        attestors: attestors[..3].iter().map(|k| k.address()).collect(),
        threshold: 2,
        measurements: vec![],
        signers: vec![],
    };
    let tee = deploy_tee(&net.s, owner, &cfg).await.unwrap();
    let timelock = net.s.deployment().timelock;
    net.s
        .transfer_enclaves_ownership(owner, &tee, timelock)
        .await
        .unwrap();
    let calls = [
        GovernanceCall::accept_ownership(tee.enclaves, B256::repeat_byte(1)),
        GovernanceCall::set_measurement(&tee, measurement(), true, B256::repeat_byte(2)),
        GovernanceCall::set_verifier(
            net.s.deployment(),
            tee_verifier_id(),
            tee.verifier,
            B256::repeat_byte(3),
        ),
    ];
    for c in &calls {
        net.s.schedule_governance(owner, c).await.unwrap();
    }
    net.advance(GOVERNANCE_DELAY).await;
    for c in &calls {
        net.s.execute_governance(owner, c).await.unwrap();
    }
    // The owner account can no longer change the allow-list itself.
    expect_revert(
        net.s
            .set_measurement(owner, &tee, B256::repeat_byte(9), true)
            .await,
        "OwnableUnauthorizedAccount",
    );
    let env = Tee::with(net, tee, attestors);
    let op = env.net.op(0);

    // Two of three attestors vouch for the enclave key; the operator registers it.
    let key = EnclaveKey::random();
    let (a, sigs) = env
        .attested(op, &key, &DevnetInsecureBackend::new(), 1, &[2, 0])
        .await;
    assert_eq!(
        env.net.s.attestation_digest(&env.tee, &a).await.unwrap(),
        attestation_digest(&a, &env.domain),
        "the attestor signs the digest the registry checks"
    );
    let now = env.net.now().await;
    env.net
        .s
        .register_enclave(op, &env.tee, &a, sorted(&env.attestors, &[2, 0], sigs))
        .await
        .unwrap();
    let e = env.net.s.enclave(&env.tee, key.address()).await.unwrap();
    assert_eq!(e.operator, op);
    assert_eq!(e.measurement, measurement());
    assert!(!e.revoked);
    // The next block is the registration's: its time is now + 1 on the devchain's clock.
    assert!(
        e.expiresAt >= now + VALIDITY && e.expiresAt <= now + VALIDITY + 2,
        "{}",
        e.expiresAt
    );
    env.net
        .s
        .check_enclave(&env.tee, key.address(), op)
        .await
        .unwrap();

    // A TEE task: created, assigned, settled at once by the enclave-signed result.
    let l0 = env.net.ledger().await;
    let id = env.task(op).await;
    let result = digest("out");
    env.net
        .s
        .submit_proof(op, id, result, env.proof(&key, id, op, result))
        .await
        .unwrap();
    let l1 = env.net.ledger().await;
    let (p, s, rest) = split(t(100));
    l0.assert_deltas(
        &l1,
        &[
            (env.net.client, wallet(-t(100))),
            (op, market(rest)),
            (env.net.treasury, market(p)),
            (env.net.coordinator, market(s)),
        ],
    );
    let task = env.net.s.task(id).await.unwrap();
    assert_eq!(task.status, Status::Finalized);
}

#[tokio::test]
async fn registration_refusals_change_nothing() {
    let env = Tee::new().await;
    let (op, other) = (env.net.op(0), env.net.op(1));
    let dev = DevnetInsecureBackend::new();
    let key = EnclaveKey::random();
    let (a, sigs) = env.attested(op, &key, &dev, 1, &[0, 1, 3]).await;
    let (s0, s1, s3) = (sigs[0].clone(), sigs[1].clone(), sigs[2].clone());
    let two = sorted(&env.attestors, &[0, 1], vec![s0.clone(), s1.clone()]);
    let reversed: Vec<Bytes> = two.iter().rev().cloned().collect();

    // Another measurement, attested as genuine but not on the allow-list.
    let rogue = DevnetInsecureBackend::with_measurement([0x66; 32]);
    let (a_rogue, sig_rogue) = env.attested(op, &key, &rogue, 1, &[0, 1]).await;
    // An attestation whose validity has already run out.
    let mut stale = a.clone();
    stale.expiry = env.net.now().await - 1;
    // The signed statement altered after signing: the signatures recover to strangers.
    let mut altered = a.clone();
    altered.expiry += 1;

    let rows: Vec<(&str, Address, Attestation, Vec<Bytes>, &str)> = vec![
        (
            "wrong measurement",
            op,
            a_rogue,
            sorted(&env.attestors, &[0, 1], sig_rogue),
            "MeasurementNotAllowed",
        ),
        (
            "one signature of two",
            op,
            a.clone(),
            vec![s0.clone()],
            "TooFewSignatures",
        ),
        ("no signature", op, a.clone(), vec![], "TooFewSignatures"),
        (
            "the same attestor twice",
            op,
            a.clone(),
            vec![s0.clone(), s0.clone()],
            "DuplicateAttestor",
        ),
        (
            "a non-attestor's signature",
            op,
            a.clone(),
            sorted(&env.attestors, &[0, 3], vec![s0.clone(), s3.clone()]),
            "NotAttestor",
        ),
        (
            "signatures not sorted",
            op,
            a.clone(),
            reversed,
            "AttestorsNotAscending",
        ),
        (
            "a malformed signature",
            op,
            a.clone(),
            vec![s0.clone(), Bytes::from(vec![1u8; 64])],
            "InvalidSignature",
        ),
        (
            "sent by another operator",
            other,
            a.clone(),
            two.clone(),
            "NotOperator",
        ),
        (
            "expired attestation",
            op,
            stale,
            two.clone(),
            "AttestationExpired",
        ),
        ("statement altered", op, altered, two.clone(), "NotAttestor"),
    ];
    for (name, from, att, sigs, error) in rows {
        let l0 = env.net.ledger().await;
        let r = env.net.s.register_enclave(from, &env.tee, &att, sigs).await;
        match r {
            Ok(_) => panic!("{name}: registered"),
            Err(e) => assert_eq!(e.revert_name().as_deref(), Some(error), "{name}: {e}"),
        }
        let e = env.net.s.enclave(&env.tee, key.address()).await.unwrap();
        assert_eq!(
            e.operator,
            Address::ZERO,
            "{name}: a registration was stored"
        );
        l0.assert_deltas(&env.net.ledger().await, &[]);
    }

    // The accepted registration, then the refusals that need one.
    env.net
        .s
        .register_enclave(op, &env.tee, &a, two.clone())
        .await
        .unwrap();
    let stored = env.net.s.enclave(&env.tee, key.address()).await.unwrap();
    expect_revert(
        env.net
            .s
            .register_enclave(op, &env.tee, &a, two.clone())
            .await,
        "QuoteAlreadyUsed",
    );
    // The same key attested for another operator (its own quote, nonce naming `other`).
    let (a_other, sigs_other) = env.attested(other, &key, &dev, 2, &[0, 1]).await;
    expect_revert(
        env.net
            .s
            .register_enclave(
                other,
                &env.tee,
                &a_other,
                sorted(&env.attestors, &[0, 1], sigs_other),
            )
            .await,
        "KeyOfAnotherOperator",
    );
    // A revoked key is never registered again, even with a fresh quote.
    env.net
        .s
        .revoke_enclave(op, &env.tee, key.address())
        .await
        .unwrap();
    let (a3, s3) = env.attested(op, &key, &dev, 3, &[0, 1]).await;
    expect_revert(
        env.net
            .s
            .register_enclave(op, &env.tee, &a3, sorted(&env.attestors, &[0, 1], s3))
            .await,
        "KeyRevoked",
    );
    let after = env.net.s.enclave(&env.tee, key.address()).await.unwrap();
    assert_eq!(
        (after.operator, after.expiresAt, after.revoked),
        (stored.operator, stored.expiresAt, true)
    );
}

#[tokio::test]
async fn renewal_with_a_fresh_quote_extends_the_registration() {
    let env = Tee::new().await;
    let op = env.net.op(0);
    let key = env.registered(op).await;
    let first = env.net.s.enclave(&env.tee, key.address()).await.unwrap();
    env.net.advance(VALIDITY / 2).await;
    let (a, sigs) = env
        .attested(op, &key, &DevnetInsecureBackend::new(), 2, &[1, 2])
        .await;
    env.net
        .s
        .register_enclave(op, &env.tee, &a, sorted(&env.attestors, &[1, 2], sigs))
        .await
        .unwrap();
    let renewed = env.net.s.enclave(&env.tee, key.address()).await.unwrap();
    assert_eq!(renewed.operator, op);
    assert!(
        renewed.expiresAt >= first.expiresAt + VALIDITY / 2,
        "{} then {}",
        first.expiresAt,
        renewed.expiresAt
    );
    // Past the first registration's end, the renewed one still signs for the operator.
    env.net.advance(VALIDITY / 2 + 10).await;
    assert!(env.net.now().await > first.expiresAt);
    env.net
        .s
        .check_enclave(&env.tee, key.address(), op)
        .await
        .unwrap();
}

/// How a refused TEE proof is made, and the error the market bubbles up from the verifier.
#[derive(Debug, Clone, Copy)]
enum Bad {
    ExpiredRegistration,
    RevokedByOperator,
    RevokedByGovernance,
    MeasurementRemoved,
    UnregisteredKey,
    SignedForAnotherTask,
    KeyOfAnotherOperator,
    SignedAnotherResult,
    Malformed,
}

#[tokio::test]
async fn tee_proofs_refused_at_use_time_leave_the_task_assigned() {
    let cases = [
        (Bad::ExpiredRegistration, "RegistrationExpired"),
        (Bad::RevokedByOperator, "KeyRevoked"),
        (Bad::RevokedByGovernance, "KeyRevoked"),
        (Bad::MeasurementRemoved, "MeasurementNotAllowed"),
        (Bad::UnregisteredKey, "UnknownEnclaveKey"),
        (Bad::SignedForAnotherTask, "BindingMismatch"),
        (Bad::KeyOfAnotherOperator, "KeyOfAnotherOperator"),
        // A signature over another result recovers to some other address: no such key.
        (Bad::SignedAnotherResult, "UnknownEnclaveKey"),
        (Bad::Malformed, "MalformedProof"),
    ];
    for (bad, error) in cases {
        let env = Tee::new().await;
        let (op, other) = (env.net.op(0), env.net.op(1));
        let key = env.registered(op).await;
        let other_key = env.registered(other).await;
        match bad {
            Bad::ExpiredRegistration => env.net.advance(VALIDITY).await,
            Bad::RevokedByOperator => {
                env.net
                    .s
                    .revoke_enclave(op, &env.tee, key.address())
                    .await
                    .unwrap();
            }
            Bad::RevokedByGovernance => {
                env.net
                    .s
                    .revoke_enclave(env.net.owner, &env.tee, key.address())
                    .await
                    .unwrap();
            }
            Bad::MeasurementRemoved => {
                env.net
                    .s
                    .set_measurement(env.net.owner, &env.tee, measurement(), false)
                    .await
                    .unwrap();
            }
            _ => {}
        }
        let id = env.task(op).await;
        let result = digest("out");
        let proof = match bad {
            Bad::UnregisteredKey => env.proof(&EnclaveKey::random(), id, op, result),
            Bad::SignedForAnotherTask => env.proof(&key, id + U256::from(1), op, result),
            // `other`'s key signs `op`'s binding: the signature is good, the key is not op's.
            Bad::KeyOfAnotherOperator => env.proof(&other_key, id, op, result),
            Bad::SignedAnotherResult => env.proof(&key, id, op, digest("other")),
            Bad::Malformed => Bytes::from(vec![0u8; 287]),
            _ => env.proof(&key, id, op, result),
        };
        let l0 = env.net.ledger().await;
        let r = env.net.s.submit_proof(op, id, result, proof).await;
        match r {
            Ok(_) => panic!("{bad:?}: accepted"),
            Err(e) => assert_eq!(e.revert_name().as_deref(), Some(error), "{bad:?}: {e}"),
        }
        l0.assert_deltas(&env.net.ledger().await, &[]);
        assert_eq!(
            env.net.s.task(id).await.unwrap().status,
            Status::Assigned,
            "{bad:?}"
        );
    }
}

#[tokio::test]
async fn governance_refusals() {
    let env = Tee::new().await;
    let (a3, stranger) = (env.attestors[3].address(), env.net.op(0));
    let s = &env.net.s;
    // A key registered while attestors 0 and 1 are both appointed.
    let registered = env.registered(env.net.op(0)).await;
    expect_revert(
        s.set_measurement(stranger, &env.tee, B256::repeat_byte(5), true)
            .await,
        "OwnableUnauthorizedAccount",
    );
    expect_revert(
        s.set_attestor(stranger, &env.tee, a3, true).await,
        "OwnableUnauthorizedAccount",
    );
    expect_revert(
        s.set_attestor_threshold(env.net.owner, &env.tee, 4).await,
        "ThresholdOutOfRange",
    );
    expect_revert(
        s.set_attestor_threshold(env.net.owner, &env.tee, 0).await,
        "ThresholdOutOfRange",
    );
    expect_revert(
        s.set_attestor(env.net.owner, &env.tee, env.attestors[0].address(), true)
            .await,
        "AttestorAlreadySet",
    );
    // Removing attestors may not leave fewer than the threshold (2 of 3 now).
    s.set_attestor(env.net.owner, &env.tee, env.attestors[0].address(), false)
        .await
        .unwrap();
    expect_revert(
        s.set_attestor(env.net.owner, &env.tee, env.attestors[1].address(), false)
            .await,
        "ThresholdOutOfRange",
    );
    // A removed attestor's signature no longer counts.
    let key = EnclaveKey::random();
    let op = env.net.op(0);
    let (a, sigs) = env
        .attested(op, &key, &DevnetInsecureBackend::new(), 1, &[0, 1])
        .await;
    expect_revert(
        s.register_enclave(op, &env.tee, &a, sorted(&env.attestors, &[0, 1], sigs))
            .await,
        "NotAttestor",
    );
    // Only the key's operator or governance revoke.
    expect_revert(
        s.revoke_enclave(env.net.op(1), &env.tee, registered.address())
            .await,
        "NotKeyHolder",
    );
    expect_revert(
        s.revoke_enclave(op, &env.tee, Address::repeat_byte(7))
            .await,
        "UnknownEnclaveKey",
    );
}

/// An SGX-style registration accepted through its MRSIGNER (its MRENCLAVE is not listed), and
/// disabled at use time once governance removes that signer. The statement is signed directly
/// (`attestation_digest`), as an attestor would after verifying an SGX quote with these values.
#[tokio::test]
async fn an_allowed_mrsigner_admits_any_measurement_until_it_is_removed() {
    use alloy::signers::SignerSync;
    let env = Tee::new().await;
    let op = env.net.op(0);
    let mr_signer = B256::repeat_byte(0x51);
    let key = EnclaveKey::random();
    let a = Attestation {
        operator: op,
        enclaveKey: key.address(),
        measurement: B256::repeat_byte(0x3e),
        signer: mr_signer,
        quoteHash: B256::repeat_byte(0x9a),
        expiry: env.net.now().await + ATTEST_VALIDITY,
    };
    let digest = attestation_digest(&a, &env.domain);
    let sigs: Vec<Bytes> = [0usize, 1]
        .iter()
        .map(|i| {
            let sig = env.attestors[*i].sign_hash_sync(&digest).unwrap();
            Bytes::from(sig.as_bytes().to_vec())
        })
        .collect();
    let sigs = sorted(&env.attestors, &[0, 1], sigs);
    let s = &env.net.s;
    expect_revert(
        s.register_enclave(op, &env.tee, &a, sigs.clone()).await,
        "MeasurementNotAllowed",
    );
    s.set_enclave_signer(env.net.owner, &env.tee, mr_signer, true)
        .await
        .unwrap();
    s.register_enclave(op, &env.tee, &a, sigs).await.unwrap();
    s.check_enclave(&env.tee, key.address(), op).await.unwrap();
    s.set_enclave_signer(env.net.owner, &env.tee, mr_signer, false)
        .await
        .unwrap();
    expect_revert(
        s.check_enclave(&env.tee, key.address(), op).await,
        "MeasurementNotAllowed",
    );
    // A zero signer (TDX, devnet) is never allowed by the signer list.
    expect_revert(
        s.set_enclave_signer(env.net.owner, &env.tee, B256::ZERO, true)
            .await,
        "ZeroValue",
    );
}
