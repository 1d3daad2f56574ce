//! What the market needs from the ZK path: the verifier id of a circuit shape, the program
//! digest of its keys, and the deployment of the generated Groth16 verifier behind the
//! `SensorAggregateVerifier` adapter (register the returned address in the VerifierRegistry
//! under [`verifier_id`]).

use alloy::primitives::{Address, B256, keccak256};
use alloy::providers::Provider;
use alloy::sol;

use crate::circuit::Shape;
use crate::error::{Error, Result};
use crate::keys::Keys;

sol!(
    #[sol(rpc)]
    #[allow(missing_docs)]
    SensorGroth16VerifierN16,
    "../../contracts/out/SensorGroth16VerifierN16.json"
);
sol!(
    #[sol(rpc)]
    #[allow(missing_docs)]
    SensorGroth16VerifierN64,
    "../../contracts/out/SensorGroth16VerifierN64.json"
);
sol!(
    #[sol(rpc)]
    #[allow(missing_docs)]
    SensorGroth16VerifierN256,
    "../../contracts/out/SensorGroth16VerifierN256.json"
);
sol!(
    #[sol(rpc)]
    #[allow(missing_docs)]
    SensorAggregateVerifier,
    "../../contracts/out/SensorAggregateVerifier.json"
);

/// The registry id of the verifier for a shape: `keccak256("verity.zk.sensor-aggregate.n{N}.d{D}")`.
pub fn verifier_id(shape: Shape) -> B256 {
    keccak256(format!(
        "verity.zk.sensor-aggregate.n{}.d{}",
        shape.slots, shape.depth
    ))
}

/// A task's `programDigest`: sha2-256 of the verifying key bytes (the adapter requires it).
pub fn program_digest(keys: &Keys) -> Result<B256> {
    use sha2::{Digest, Sha256};
    Ok(B256::from_slice(&Sha256::digest(
        keys.verifying_key_bytes()?,
    )))
}

/// Deploys the committed Groth16 verifier of `shape` (N = 16, 64 or 256 at depth 10: the
/// verifiers generated from the deterministic devnet keys) and an adapter requiring
/// `program`; returns the adapter's address.
pub async fn deploy_verifier<P: Provider + Clone>(
    provider: &P,
    shape: Shape,
    program: B256,
) -> Result<Address> {
    let chain =
        |what: &str, e: alloy::contract::Error| Error::Chain(format!("deploying {what}: {e}"));
    let verifier = match (shape.slots, shape.depth) {
        (16, 10) => *SensorGroth16VerifierN16::deploy(provider.clone())
            .await
            .map_err(|e| chain("SensorGroth16VerifierN16", e))?
            .address(),
        (64, 10) => *SensorGroth16VerifierN64::deploy(provider.clone())
            .await
            .map_err(|e| chain("SensorGroth16VerifierN64", e))?
            .address(),
        (256, 10) => *SensorGroth16VerifierN256::deploy(provider.clone())
            .await
            .map_err(|e| chain("SensorGroth16VerifierN256", e))?
            .address(),
        (slots, depth) => {
            return Err(Error::Chain(format!(
                "no committed verifier for N={slots}, depth {depth} (N=16/64/256, depth 10)"
            )));
        }
    };
    let adapter = SensorAggregateVerifier::deploy(provider.clone(), verifier, program)
        .await
        .map_err(|e| chain("SensorAggregateVerifier", e))?;
    Ok(*adapter.address())
}

/// The committed verifying key bytes of the deterministic devnet setup for `shape` (N = 16, 64
/// or 256 at depth 10; INSECURE FOR PRODUCTION, see [`crate::keys`]). Its sha2-256 is the
/// `programDigest` of ZkProof tasks of that shape, so a requester can publish it as the task's
/// program without running the setup.
pub fn devnet_verifying_key(shape: Shape) -> Option<&'static [u8]> {
    match (shape.slots, shape.depth) {
        (16, 10) => Some(include_bytes!("../keys/sensor-n16-d10.vk")),
        (64, 10) => Some(include_bytes!("../keys/sensor-n64-d10.vk")),
        (256, 10) => Some(include_bytes!("../keys/sensor-n256-d10.vk")),
        _ => None,
    }
}

/// Deploys a Groth16 verifier compiled from [`crate::solidity::verifier_source`] of a
/// ceremony's key (an artifact in the `contracts/out/<Name>.json` layout, whose `bytecode` is
/// the creation code) and an adapter requiring `program`; returns the adapter's address.
pub async fn deploy_verifier_artifact<P: Provider + Clone>(
    provider: &P,
    artifact: &[u8],
    program: B256,
) -> Result<Address> {
    use alloy::network::TransactionBuilder;
    let json: serde_json::Value = serde_json::from_slice(artifact)
        .map_err(|e| Error::Chain(format!("verifier artifact is not JSON: {e}")))?;
    let code = json
        .get("bytecode")
        .and_then(|b| b.as_str())
        .ok_or_else(|| Error::Chain("verifier artifact has no \"bytecode\" string".into()))?;
    let code: alloy::primitives::Bytes = code
        .parse()
        .map_err(|e| Error::Chain(format!("verifier artifact bytecode is not hex: {e}")))?;
    if code.is_empty() {
        return Err(Error::Chain("verifier artifact bytecode is empty".into()));
    }
    let tx = alloy::rpc::types::TransactionRequest::default().with_deploy_code(code);
    let receipt = provider
        .send_transaction(tx)
        .await
        .map_err(|e| Error::Chain(format!("deploying the verifier: {e}")))?
        .get_receipt()
        .await
        .map_err(|e| Error::Chain(format!("deploying the verifier: {e}")))?;
    let verifier = receipt
        .contract_address
        .filter(|_| receipt.status())
        .ok_or_else(|| Error::Chain("the verifier deployment reverted".into()))?;
    let adapter = SensorAggregateVerifier::deploy(provider.clone(), verifier, program)
        .await
        .map_err(|e| Error::Chain(format!("deploying SensorAggregateVerifier: {e}")))?;
    Ok(*adapter.address())
}
