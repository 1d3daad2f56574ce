//! Heartbeat intake against real node rows, on both backends.

use std::sync::Arc;

use alloy::{primitives::Address, signers::local::PrivateKeySigner};
use verity_coordinator::{
    clock::ManualClock,
    config::{ChainConfig, HeartbeatConfig},
    heartbeat::{HeartbeatIntake, IntakeError},
    store::{Change, Store},
};
use verity_primitives::heartbeat::{self, Heartbeat, SignedHeartbeat};

use crate::support::{TestDb, block, key, log, node, operator};

pub(crate) const NOW: u64 = 1_800_000_000;

pub(crate) fn chain() -> ChainConfig {
    ChainConfig {
        chain_id: 31337,
        registry: Address::repeat_byte(0x42),
        ..ChainConfig::default()
    }
}

/// A store with operator 1 registered with `signer`'s key and operator 2 deregistered, an
/// intake over it, and its clock.
pub(crate) async fn setup(
    db: &TestDb,
    signer: &PrivateKeySigner,
) -> (Arc<dyn Store>, HeartbeatIntake, ManualClock) {
    let store: Arc<dyn Store> = Arc::new(db.open().await);
    let mut gone = node(2, signer.address());
    gone.registered = false;
    let b = block(1, 0);
    store
        .apply_block(
            b,
            &[log(
                b,
                0,
                "OperatorRegistered",
                vec![Change::Node(node(1, signer.address())), Change::Node(gone)],
            )],
            64,
        )
        .await
        .unwrap();
    let clock = ManualClock::new(NOW);
    let intake = HeartbeatIntake::new(
        store.clone(),
        Arc::new(clock.clone()),
        &chain(),
        HeartbeatConfig::default(), // max age 60 s, max future 5 s
    );
    (store, intake, clock)
}

pub(crate) fn signed(op: u8, seq: u64, timestamp: u64, key: &PrivateKeySigner) -> SignedHeartbeat {
    let c = chain();
    heartbeat::example(operator(op), seq, timestamp)
        .sign(key, &heartbeat::domain(c.chain_id, c.registry))
        .unwrap()
}

async fn each_rejection_is_typed_and_only_good_heartbeats_are_stored(db: TestDb) {
    let k = key();
    let (store, intake, clock) = setup(&db, &k).await;

    let ok = intake.accept(&signed(1, 10, NOW, &k)).await.unwrap();
    assert_eq!(
        (ok.operator, ok.seq, ok.received_at),
        (operator(1), 10, NOW)
    );
    let stored = store.heartbeat(operator(1)).await.unwrap().unwrap();
    assert_eq!(
        (stored.seq, stored.sent_at, stored.received_at),
        (10, NOW, NOW)
    );
    let back: SignedHeartbeat = serde_json::from_value(stored.telemetry).unwrap();
    assert_eq!(back, signed(1, 10, NOW, &k));

    // Replays: same seq, lower seq.
    for seq in [10, 9] {
        let e = intake.accept(&signed(1, seq, NOW, &k)).await.unwrap_err();
        assert!(
            matches!(e, IntakeError::Replayed { seq: s, last: 10, .. } if s == seq),
            "{e}"
        );
    }
    // Another key, or the right key on another chain's domain.
    let e = intake
        .accept(&signed(1, 11, NOW, &key()))
        .await
        .unwrap_err();
    assert!(
        matches!(e, IntakeError::WrongSigner { expected, .. } if expected == k.address()),
        "{e}"
    );
    let elsewhere = heartbeat::example(operator(1), 11, NOW)
        .sign(&k, &heartbeat::domain(1, chain().registry))
        .unwrap();
    assert!(matches!(
        intake.accept(&elsewhere).await,
        Err(IntakeError::WrongSigner { .. })
    ));
    // Tampered after signing.
    let mut tampered = signed(1, 11, NOW, &k);
    tampered.heartbeat.freeSlots += 1;
    assert!(matches!(
        intake.accept(&tampered).await,
        Err(IntakeError::WrongSigner { .. })
    ));
    // Time bounds: exactly at each bound passes, one second beyond fails.
    let e = intake
        .accept(&signed(1, 11, NOW - 61, &k))
        .await
        .unwrap_err();
    assert!(matches!(e, IntakeError::Stale { max_age: 60, .. }), "{e}");
    let e = intake
        .accept(&signed(1, 11, NOW + 6, &k))
        .await
        .unwrap_err();
    assert!(
        matches!(e, IntakeError::FromFuture { max_skew: 5, .. }),
        "{e}"
    );
    intake.accept(&signed(1, 11, NOW - 60, &k)).await.unwrap();
    intake.accept(&signed(1, 12, NOW + 5, &k)).await.unwrap();
    // Unknown and deregistered operators.
    assert!(matches!(
        intake.accept(&signed(7, 1, NOW, &k)).await,
        Err(IntakeError::UnknownOperator(a)) if a == operator(7)
    ));
    assert!(matches!(
        intake.accept(&signed(2, 1, NOW, &k)).await,
        Err(IntakeError::NotRegistered(_))
    ));
    // Out-of-range telemetry, correctly signed.
    let mut hb: Heartbeat = heartbeat::example(operator(1), 13, NOW);
    hb.loadPermille = 1001;
    let c = chain();
    let bad = hb
        .sign(&k, &heartbeat::domain(c.chain_id, c.registry))
        .unwrap();
    assert!(matches!(
        intake.accept(&bad).await,
        Err(IntakeError::InvalidField {
            field: "loadPermille",
            ..
        })
    ));

    // Nothing rejected was stored; the clock moving on lets a fresh one through.
    assert_eq!(store.heartbeat(operator(1)).await.unwrap().unwrap().seq, 12);
    assert!(store.heartbeat(operator(2)).await.unwrap().is_none());
    clock.advance(3_600);
    let e = intake.accept(&signed(1, 13, NOW, &k)).await.unwrap_err();
    assert!(matches!(e, IntakeError::Stale { .. }), "{e}");
    intake
        .accept(&signed(1, 13, NOW + 3_600, &k))
        .await
        .unwrap();
    assert_eq!(
        store
            .heartbeat(operator(1))
            .await
            .unwrap()
            .unwrap()
            .received_at,
        NOW + 3_600
    );
}

crate::both_backends!(each_rejection_is_typed_and_only_good_heartbeats_are_stored);
