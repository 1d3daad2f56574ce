//! The generated verifier and the IResultVerifier adapter on the embedded devchain.

use alloy::network::EthereumWallet;
use alloy::primitives::{Address, Bytes, FixedBytes, U256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::sol;
use verity_devchain::{DevchainConfig, spawn};
use verity_zk::SensorCircuit;
use verity_zk::keys::{DEVNET_SEED, setup_deterministic, sha256_hex};
use verity_zk::solidity::encode_proof;
use verity_zk::statement::field_to_word;

use crate::fixture::{readings, shape, world};

sol!(
    #[sol(rpc)]
    SensorGroth16VerifierN16,
    "../../contracts/out/SensorGroth16VerifierN16.json"
);
sol!(
    #[sol(rpc)]
    SensorAggregateVerifier,
    "../../contracts/out/SensorAggregateVerifier.json"
);

#[tokio::test(flavor = "multi_thread")]
async fn n16_proof_verifies_on_chain_and_tampered_calls_do_not() {
    let keys = setup_deterministic(shape(16), DEVNET_SEED).expect("setup");
    let vk_bytes = keys.verifying_key_bytes().expect("vk");
    let committed = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/keys/sensor-n16-d10.vk"
    ))
    .expect("committed vk");
    assert_eq!(
        vk_bytes, committed,
        "deterministic setup reproduces the committed key"
    );

    let handle = spawn(DevchainConfig::default()).await.expect("devchain");
    let signer = handle.chain.accounts()[0].signer.clone();
    let operator = handle.chain.accounts()[1].address;
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer))
        .connect_http(handle.url.parse().expect("url"));
    let verifier = SensorGroth16VerifierN16::deploy(provider.clone())
        .await
        .expect("deploy verifier");
    let program: FixedBytes<32> = {
        let h = sha256_hex(&vk_bytes);
        let mut b = [0u8; 32];
        for (i, x) in b.iter_mut().enumerate() {
            *x = u8::from_str_radix(&h[2 * i..2 * i + 2], 16).expect("hex");
        }
        b.into()
    };
    let adapter = SensorAggregateVerifier::deploy(provider.clone(), *verifier.address(), program)
        .await
        .expect("deploy adapter");

    let market = Address::repeat_byte(0x11);
    let chain_id = provider.get_chain_id().await.expect("chain id");
    let binding = verity_primitives::binding(chain_id, market, U256::from(7), operator);
    let w = world();
    let rs = readings(&w, 12);
    let circuit =
        SensorCircuit::new(shape(16), &w.registry, w.query, &rs, binding.0).expect("witness");
    let public = circuit.public_inputs();
    let proof = Bytes::from(encode_proof(&keys.prove(circuit).expect("prove")));
    let input: FixedBytes<32> = field_to_word(public.input_digest).into();
    let result: FixedBytes<32> = field_to_word(public.result_digest).into();

    let call = adapter.verifyResult(program, input, result, binding, proof.clone());
    assert!(
        call.call().await.expect("call"),
        "valid proof verifies on chain"
    );
    let gas = provider
        .estimate_gas(call.clone().into_transaction_request())
        .await
        .expect("estimate");
    eprintln!("verifyResult gas (N=16, 3 public inputs): {gas}");
    assert!(gas > 21_000, "a real call was measured");

    let other_task = verity_primitives::binding(chain_id, market, U256::from(8), operator);
    let other_op =
        verity_primitives::binding(chain_id, market, U256::from(7), Address::repeat_byte(9));
    for (what, b) in [("swapped task", other_task), ("other operator", other_op)] {
        let ok = adapter
            .verifyResult(program, input, result, b, proof.clone())
            .call()
            .await
            .expect("call");
        assert!(!ok, "{what} binding rejected");
    }
    let bumped = |x: FixedBytes<32>| -> FixedBytes<32> {
        let r = U256::from_str_radix(
            "21888242871839275222246405745257275088548364400416034343698204186575808495617",
            10,
        )
        .expect("r");
        (U256::from_be_bytes(x.0) + r).to_be_bytes::<32>().into()
    };
    let ok = adapter
        .verifyResult(program, input, bumped(result), binding, proof.clone())
        .call()
        .await
        .expect("call");
    assert!(!ok, "resultDigest + r (>= modulus) rejected");
    let ok = adapter
        .verifyResult(program, bumped(input), result, binding, proof.clone())
        .call()
        .await
        .expect("call");
    assert!(!ok, "inputDigest + r (>= modulus) rejected");
    let mut wrong_result = result;
    wrong_result.0[31] ^= 1;
    let ok = adapter
        .verifyResult(program, input, wrong_result, binding, proof.clone())
        .call()
        .await
        .expect("call");
    assert!(!ok, "wrong aggregate rejected");
    let ok = adapter
        .verifyResult(
            FixedBytes::repeat_byte(1),
            input,
            result,
            binding,
            proof.clone(),
        )
        .call()
        .await
        .expect("call");
    assert!(!ok, "other program rejected");
    let mut bad_proof = proof.to_vec();
    bad_proof[40] ^= 1;
    let ok = adapter
        .verifyResult(program, input, result, binding, bad_proof.into())
        .call()
        .await
        .expect("call");
    assert!(!ok, "corrupted proof rejected");
    handle.shutdown().await.expect("shutdown");
}
