//! `Requester::submit_zk`: a ZkProof task from signed readings. The verifying key and the input
//! blob are on the gateway under the digests the task and its calldata suffix name; a proof
//! made from that blob (the operator played by hand with the zk library) is accepted by the
//! registered verifier and the task finalizes; a bad reading is refused before any gas.

use alloy::{
    consensus::Transaction as _,
    primitives::{B256, U256},
    providers::Provider,
};
use verity_sdk::{Outcome, Requester, SdkError, Status, WaitOptions, ZkTaskSpec, parse_tokens};
use verity_zk::{
    Shape,
    device::Device,
    input::{ProvingInput, input_digest_from_calldata},
    keys::{DEVNET_SEED, setup_deterministic},
    market::{deploy_verifier, program_digest},
    registry::Registry,
    solidity::encode_proof,
    statement::{Aggregate, Query, field_to_word},
};

use crate::flow::net;

const SHAPE: Shape = Shape {
    slots: 16,
    depth: 10,
};

/// Five registered devices, nine readings of which one is out of range and one out of window.
fn input() -> ProvingInput {
    let devices: Vec<Device> = (0..5).map(Device::from_seed).collect();
    let mut registry = Registry::new(SHAPE.depth).unwrap();
    for d in &devices {
        registry.register(d.public_key()).unwrap();
    }
    let readings = (0..9u32)
        .map(|i| {
            let d = &devices[i as usize % devices.len()];
            match i {
                3 => d.sign(900, 1500),
                5 => d.sign(40, 3000),
                _ => d.sign(20 + i, 1000 + 10 * i),
            }
        })
        .collect();
    ProvingInput {
        shape: SHAPE,
        query: Query::new(registry.root(), (1000, 2000), (0, 100)).unwrap(),
        devices: devices.iter().map(Device::public_key).collect(),
        readings,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_zk_task_from_signed_readings_is_opened_proved_and_finalized() {
    let n = net().await;
    let sdk = Requester::new(n.s.clone(), n.gateway.clone(), n.client);
    let input = input();
    let mut spec = ZkTaskSpec::devnet(input.clone()).unwrap();
    spec.bounty = parse_tokens("10").unwrap();
    spec.collateral = parse_tokens("5").unwrap();

    // The market's verifier for N = 16, requiring the committed key's digest.
    let keys = setup_deterministic(SHAPE, DEVNET_SEED).unwrap();
    let program = program_digest(&keys).unwrap();
    let adapter = deploy_verifier(n.s.provider(), SHAPE, program)
        .await
        .unwrap();
    n.s.set_verifier(n.owner, spec.verifier_id, adapter)
        .await
        .unwrap();

    let wallet0 = n.s.token_balance(n.client).await.unwrap();
    let task = sdk.submit_zk(&spec).await.unwrap();
    assert_eq!(
        wallet0 - n.s.token_balance(n.client).await.unwrap(),
        spec.bounty,
        "the bounty left the wallet, exactly"
    );
    let info = sdk.task(task.id).await.unwrap();
    assert_eq!(info.status, Status::Open);
    assert_eq!(info.program_digest, program, "program = the verifying key");
    assert_eq!(
        info.input_digest,
        B256::from(field_to_word(input.query.digest())),
        "inputDigest = Poseidon(root, window, range)"
    );
    // The verifying key and the input blob are on the gateway; the creating transaction
    // names the blob.
    assert_eq!(
        B256::from(task.program.digest()),
        program,
        "the published key is the circuit's"
    );
    let blob = n.gateway.fetch(&task.input).await.unwrap();
    assert_eq!(ProvingInput::from_bytes(&blob).unwrap(), input);
    let tx =
        n.s.provider()
            .get_transaction_by_hash(task.tx)
            .await
            .unwrap()
            .unwrap();
    assert_eq!(
        input_digest_from_calldata(tx.input()),
        Some(task.input.digest())
    );

    // The operator, by hand: assign, prove from the fetched blob, submit.
    n.s.assign(n.owner, task.id, &[n.operator]).await.unwrap();
    let d = n.s.deployment();
    let binding = verity_primitives::binding(d.chain_id, d.market, task.id, n.operator);
    let fetched = ProvingInput::from_bytes(&blob).unwrap();
    let circuit = fetched.witness(binding.0).unwrap();
    let expected = Aggregate::of(
        &input.query,
        input.readings.iter().map(|r| (r.value, r.timestamp)),
    );
    assert_eq!(expected.count, 7);
    assert_eq!(circuit.claimed, expected);
    let result = B256::from(field_to_word(expected.digest()));
    let proof = keys.prove(circuit).unwrap();
    n.s.submit_proof(n.operator, task.id, result, encode_proof(&proof).into())
        .await
        .unwrap();
    let outcome = sdk
        .wait(task.id, WaitOptions::default(), |_| {})
        .await
        .unwrap();
    assert_eq!(outcome, Outcome::Finalized { result });
    assert_eq!(
        n.s.market_balance(n.operator).await.unwrap(),
        spec.bounty - spec.bounty * U256::from(150u64) / U256::from(10_000u64),
        "the prover is paid the bounty minus the devnet fees (1% + 0.5%)"
    );
}

#[tokio::test]
async fn a_zk_task_with_a_forged_reading_spends_nothing() {
    let n = net().await;
    let sdk = Requester::new(n.s.clone(), n.gateway.clone(), n.client);
    let nonce =
        n.s.provider()
            .get_transaction_count(n.client)
            .await
            .unwrap();
    let mut bad = input();
    bad.readings[2].value += 1;
    let err = sdk
        .submit_zk(&ZkTaskSpec::devnet(bad).unwrap())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, SdkError::InvalidSpec { field: "input", reason } if reason.contains("reading 2")),
        "{err}"
    );
    let mut unregistered = input();
    unregistered
        .readings
        .push(Device::from_seed(77).sign(30, 1500));
    let err = sdk
        .submit_zk(&ZkTaskSpec::devnet(unregistered).unwrap())
        .await
        .unwrap_err();
    assert!(err.to_string().contains("not registered"), "{err}");
    let mut too_big = input();
    too_big.shape = Shape {
        slots: 32,
        depth: 10,
    };
    assert!(matches!(
        ZkTaskSpec::devnet(too_big),
        Err(SdkError::InvalidSpec {
            field: "input.shape",
            ..
        })
    ));
    assert_eq!(
        n.s.provider()
            .get_transaction_count(n.client)
            .await
            .unwrap(),
        nonce,
        "no transaction sent"
    );
    assert!(n.store.is_empty(), "nothing uploaded");
}
