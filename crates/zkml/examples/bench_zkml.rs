//! Benchmark of verifiable inference with public weights (Groth16 over BN254).
//!
//! ```text
//! bench/zkml/make_models.py target/zkml-models --bench      # the ONNX models (not committed)
//! (cd bench/zkml && npm install)                              # the pinned solc, for the gas
//! cargo run -p verity-zkml --release --example bench_zkml -- --models target/zkml-models [--json]
//! ```
//!
//! Per model: constraints, setup time (separately), proving time (median of `--runs`), peak
//! resident memory while proving (VmHWM after a reset), proof size, native verification time,
//! and the gas of `verifyProof` as a transaction on the embedded devchain (the verifier is
//! generated with verity-zk's generator and compiled by `bench/zkml/solc.js`).
//! `--json` prints one object per model on stdout; the table goes to stderr.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use alloy::network::{EthereumWallet, TransactionBuilder};
use alloy::primitives::{Bytes, U256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::rpc::types::TransactionRequest;
use alloy::sol;
use ark_bn254::Fr;
use ark_ff::{BigInteger, PrimeField};
use ark_serialize::CanonicalSerialize;
use ark_std::rand::{SeedableRng, rngs::StdRng};
use verity_zkml::Keys;
use verity_zkml::digest::public_inputs;

sol! {
    #[sol(rpc)]
    interface IZkmlVerifier {
        function verifyProof(uint256[8] calldata proof, uint256[2] calldata input) external view returns (bool);
    }
}

const MODELS: &[&str] = &["mlp_100k", "mlp_1m", "mlp_4m", "cnn"];

struct Args {
    json: bool,
    models: PathBuf,
    only: Vec<String>,
    runs: usize,
    gas: bool,
}

fn args() -> Args {
    let mut a = Args {
        json: false,
        models: PathBuf::from("target/zkml-models"),
        only: MODELS.iter().map(|s| s.to_string()).collect(),
        runs: 3,
        gas: true,
    };
    let mut it = std::env::args().skip(1);
    while let Some(x) = it.next() {
        match x.as_str() {
            "--json" => a.json = true,
            "--no-gas" => a.gas = false,
            "--models" => a.models = it.next().expect("--models DIR").into(),
            "--only" => {
                a.only = it
                    .next()
                    .expect("--only a,b")
                    .split(',')
                    .map(String::from)
                    .collect()
            }
            "--runs" => a.runs = it.next().expect("--runs N").parse().expect("runs"),
            other => panic!("unknown argument {other} (see the example's docs)"),
        }
    }
    a
}

/// Resets the peak resident set size of this process (Linux `clear_refs`).
fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// Peak resident set size since the last reset, in MiB.
fn peak_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse::<f64>().ok()))
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn word(x: Fr) -> U256 {
    U256::from_be_slice(&x.into_bigint().to_bytes_be())
}

fn compile(root: &Path, name: &str, source: &str) -> eyre::Result<Bytes> {
    use std::io::Write;
    let mut child = Command::new("node")
        .arg(root.join("bench/zkml/solc.js"))
        .arg(name)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()?;
    child
        .stdin
        .take()
        .ok_or_else(|| eyre::eyre!("stdin"))?
        .write_all(source.as_bytes())?;
    let out = child.wait_with_output()?;
    eyre::ensure!(out.status.success(), "solc failed for {name}");
    Ok(alloy::hex::decode(String::from_utf8(out.stdout)?.trim())?.into())
}

async fn gas(
    root: &Path,
    name: &str,
    keys: &Keys,
    input: &[i8],
    proved: &verity_zkml::Proved,
) -> eyre::Result<u64> {
    let contract = format!("ZkmlVerifier_{name}");
    let source = verity_zk::solidity::verifier_source(&contract, &keys.vk);
    let code = compile(root, &contract, &source)?;
    let handle = verity_devchain::spawn(verity_devchain::DevchainConfig::default()).await?;
    let signer = handle.chain.accounts()[0].signer.clone();
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer))
        .connect_http(handle.url.parse()?);
    let receipt = provider
        .send_transaction(TransactionRequest::default().with_deploy_code(code))
        .await?
        .get_receipt()
        .await?;
    let address = receipt
        .contract_address
        .ok_or_else(|| eyre::eyre!("no contract address"))?;
    let verifier = IZkmlVerifier::new(address, provider.clone());
    let words = verity_zk::solidity::encode_proof(&proved.proof);
    let proof: [U256; 8] = std::array::from_fn(|i| U256::from_be_slice(&words[32 * i..32 * i + 32]));
    let [a, b] = public_inputs(input, &proved.output);
    let call = verifier.verifyProof(proof, [word(a), word(b)]);
    eyre::ensure!(call.call().await?, "{name}: proof rejected on chain");
    let mut wrong = proved.output.clone();
    wrong[0] = wrong[0].wrapping_add(1);
    let [_, b2] = public_inputs(input, &wrong);
    eyre::ensure!(
        !verifier.verifyProof(proof, [word(a), word(b2)]).call().await?,
        "{name}: tampered output accepted on chain"
    );
    Ok(provider
        .estimate_gas(call.into_transaction_request())
        .await?)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> eyre::Result<()> {
    let a = args();
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    eprintln!(
        "{:<9} {:>9} {:>9} {:>10} {:>9} {:>9} {:>9} {:>7} {:>8} {:>8}",
        "model", "params", "constr", "nonzero", "setup_ms", "prove_ms", "peak_MiB", "proof_B", "verify_ms", "gas"
    );
    for name in &a.only {
        let path = a.models.join(format!("{name}.onnx"));
        let bytes = std::fs::read(&path)
            .map_err(|e| eyre::eyre!("{}: {e} (run bench/zkml/make_models.py first)", path.display()))?;
        let model = Arc::new(verity_zkml::import(&bytes)?);
        let params = model.params();
        check_against_onnxruntime(&a.models, name, &model)?;
        let t = Instant::now();
        let keys = Keys::setup_deterministic(model.clone(), 0x7a6b6d6c)?;
        let setup_ms = t.elapsed().as_secs_f64() * 1e3;
        let mut rng = StdRng::seed_from_u64(1);
        let input: Vec<i8> = (0..model.input_len())
            .map(|i| ((i as u64).wrapping_mul(2654435761) >> 7) as i8)
            .collect();
        reset_peak();
        let mut times = Vec::new();
        let mut proved = None;
        for _ in 0..a.runs.max(1) {
            let t = Instant::now();
            proved = Some(keys.prove(&input, &mut rng)?);
            times.push(t.elapsed().as_secs_f64() * 1e3);
        }
        let peak = peak_mib();
        let proved = proved.ok_or_else(|| eyre::eyre!("no run"))?;
        let prove_ms = median(times);
        let proof_bytes = proved.proof.compressed_size();
        let pvk = ark_groth16::prepare_verifying_key(&keys.vk);
        let mut vt = Vec::new();
        for _ in 0..10 {
            let t = Instant::now();
            let ok = verity_zkml::prover::verify(&pvk, &input, &proved.output, &proved.proof)?;
            vt.push(t.elapsed().as_secs_f64() * 1e3);
            eyre::ensure!(ok, "{name}: proof rejected");
        }
        let verify_ms = median(vt);
        let verify_gas = if a.gas {
            Some(gas(&root, name, &keys, &input, &proved).await?)
        } else {
            None
        };
        eprintln!(
            "{:<9} {:>9} {:>9} {:>10} {:>9.0} {:>9.0} {:>9.0} {:>7} {:>9.2} {:>8}",
            name,
            params,
            keys.r1cs.num_constraints(),
            keys.r1cs.nonzero(),
            setup_ms,
            prove_ms,
            peak,
            proof_bytes,
            verify_ms,
            verify_gas.map(|g| g.to_string()).unwrap_or_else(|| "-".into())
        );
        if a.json {
            println!(
                "{{\"model\":\"{name}\",\"params\":{params},\"system\":\"verity-groth16\",\"prove_ms\":{prove_ms:.1},\"verify_ms\":{verify_ms:.3},\"proof_bytes\":{proof_bytes},\"verify_gas\":{},\"constraints\":{},\"setup_ms\":{setup_ms:.0},\"peak_rss_mib\":{peak:.0},\"threads\":{}}}",
                verify_gas.map(|g| g.to_string()).unwrap_or_else(|| "null".into()),
                keys.r1cs.num_constraints(),
                rayon_threads(),
            );
        }
    }
    Ok(())
}

/// The reference inference against the onnxruntime output make_models.py stored with the model.
fn check_against_onnxruntime(dir: &Path, name: &str, model: &verity_zkml::Model) -> eyre::Result<()> {
    let text = std::fs::read_to_string(dir.join(format!("{name}.json")))?;
    let v: serde_json::Value = serde_json::from_str(&text)?;
    let to_i8 = |x: &serde_json::Value| -> Vec<i8> {
        x.as_array()
            .map(|a| a.iter().filter_map(|v| v.as_i64()).map(|v| v as i8).collect())
            .unwrap_or_default()
    };
    for case in v["cases"].as_array().into_iter().flatten() {
        let out = model.infer(&to_i8(&case["input"]))?;
        eyre::ensure!(out == to_i8(&case["output"]), "{name}: reference differs from onnxruntime");
    }
    Ok(())
}

fn rayon_threads() -> usize {
    std::thread::available_parallelism().map(usize::from).unwrap_or(1)
}
