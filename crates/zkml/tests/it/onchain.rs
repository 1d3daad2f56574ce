//! The generated Solidity verifier of the tiny MLP on the embedded devchain: an honest proof
//! verifies, a tampered output or proof does not, and the call's gas as a transaction is under
//! the 230k.
//!
//! The verifier source and its bytecode (solc 0.8.30, the settings of
//! `contracts/scripts/compile.js`) are committed under `tests/vectors/`; the source is checked
//! against the generator here, so a key or generator change fails until both are regenerated:
//! `cargo test -p verity-zkml --test it onchain -- --ignored regenerate` then
//! `node bench/zkml/solc.js ZkmlVerifierMlpTiny < crates/zkml/tests/vectors/ZkmlVerifierMlpTiny.sol > crates/zkml/tests/vectors/ZkmlVerifierMlpTiny.bin`.

use std::sync::Arc;

use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::U256;
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use alloy::sol;
use ark_bn254::Fr;
use ark_ff::{BigInteger, PrimeField};
use ark_std::rand::{SeedableRng, rngs::StdRng};
use verity_devchain::{DevchainConfig, spawn};
use verity_zkml::Keys;
use verity_zkml::digest::public_inputs;

use crate::fixture::{dir, model, vectors};

sol! {
    #[sol(rpc)]
    interface IZkmlVerifier {
        function verifyProof(uint256[8] calldata proof, uint256[2] calldata input) external view returns (bool);
    }
}

const NAME: &str = "ZkmlVerifierMlpTiny";
const SEED: u64 = 7;

fn keys() -> Keys {
    Keys::setup_deterministic(Arc::new(model("mlp_tiny")), SEED).expect("setup")
}

fn word(x: Fr) -> U256 {
    U256::from_be_slice(&x.into_bigint().to_bytes_be())
}

#[test]
#[ignore = "writes the committed verifier source"]
fn regenerate() {
    let src = verity_zk::solidity::verifier_source(NAME, &keys().vk);
    std::fs::write(dir().join(format!("{NAME}.sol")), src).expect("write");
}

#[tokio::test(flavor = "multi_thread")]
async fn tiny_mlp_proof_verifies_on_chain_and_tampering_does_not() {
    let keys = keys();
    let committed = std::fs::read_to_string(dir().join(format!("{NAME}.sol"))).expect("source");
    assert!(
        committed == verity_zk::solidity::verifier_source(NAME, &keys.vk),
        "the committed verifier drifted from the deterministic keys (see the module docs)"
    );
    let bin = std::fs::read_to_string(dir().join(format!("{NAME}.bin"))).expect("bytecode");
    let code = alloy::hex::decode(bin.trim()).expect("hex");

    let handle = spawn(DevchainConfig::default()).await.expect("devchain");
    let signer = handle.chain.accounts()[0].signer.clone();
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer))
        .connect_http(handle.url.parse().expect("url"));
    let receipt = provider
        .send_transaction(TransactionRequest::default().with_deploy_code(code))
        .await
        .expect("deploy")
        .get_receipt()
        .await
        .expect("receipt");
    let verifier = IZkmlVerifier::new(receipt.contract_address.expect("address"), provider.clone());

    let case = &vectors("mlp_tiny").cases[0];
    let proved = keys
        .prove(&case.input, &mut StdRng::seed_from_u64(3))
        .expect("prove");
    let words = verity_zk::solidity::encode_proof(&proved.proof);
    let proof: [U256; 8] =
        std::array::from_fn(|i| U256::from_be_slice(&words[32 * i..32 * i + 32]));
    let [a, b] = public_inputs(&case.input, &case.output);
    let call = verifier.verifyProof(proof, [word(a), word(b)]);
    assert!(call.call().await.expect("call"), "honest proof");
    let gas = provider
        .estimate_gas(call.into_transaction_request())
        .await
        .expect("gas");
    assert!(gas <= 230_000, "verification as a transaction costs {gas} gas");

    let mut wrong = case.output.clone();
    wrong[0] = wrong[0].wrapping_add(1);
    let [_, b_wrong] = public_inputs(&case.input, &wrong);
    assert!(
        !verifier
            .verifyProof(proof, [word(a), word(b_wrong)])
            .call()
            .await
            .expect("call"),
        "tampered output"
    );
    let mut bad = proof;
    bad[6] = bad[0];
    bad[7] = bad[1];
    assert!(
        !verifier
            .verifyProof(bad, [word(a), word(b)])
            .call()
            .await
            .expect("call"),
        "tampered proof"
    );
}
