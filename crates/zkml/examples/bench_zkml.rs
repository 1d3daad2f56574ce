//! Benchmark of verifiable inference with public weights (Groth16 over BN254).
//!
//! ```text
//! bench/zkml/make_models.py target/zkml-models --bench      # the ONNX models (not committed)
//! cargo run -p verity-zkml --release --example bench_zkml -- --models target/zkml-models [--json]
//! ```
//!
//! Per model: constraints, setup time (separately), proving time (median of `--runs`), peak
//! resident memory while proving (VmHWM after a reset), proof size and native verification
//! time. `verify_gas` is null here: the verifier has the same shape for every model (two public
//! inputs, `verity_zk::solidity`), and its gas as a transaction is measured on the devchain by
//! the `onchain` integration test.
//! `--json` prints one object per model on stdout; the table goes to stderr.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use ark_serialize::CanonicalSerialize;
use ark_std::rand::{SeedableRng, rngs::StdRng};
use verity_zkml::Keys;

const MODELS: &[&str] = &["mlp_100k", "mlp_1m", "mlp_4m", "cnn"];

struct Args {
    json: bool,
    models: PathBuf,
    only: Vec<String>,
    runs: usize,
}

fn args() -> Args {
    let mut a = Args {
        json: false,
        models: PathBuf::from("target/zkml-models"),
        only: MODELS.iter().map(|s| s.to_string()).collect(),
        runs: 3,
    };
    let mut it = std::env::args().skip(1);
    while let Some(x) = it.next() {
        match x.as_str() {
            "--json" => a.json = true,
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
            s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| {
                l.split_whitespace()
                    .nth(1)
                    .and_then(|v| v.parse::<f64>().ok())
            })
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let a = args();
    eprintln!(
        "{:<9} {:>9} {:>9} {:>10} {:>9} {:>9} {:>9} {:>7} {:>8} {:>8}",
        "model",
        "params",
        "constr",
        "nonzero",
        "setup_ms",
        "prove_ms",
        "peak_MiB",
        "proof_B",
        "verify_ms",
        "gas"
    );
    for name in &a.only {
        let path = a.models.join(format!("{name}.onnx"));
        let bytes = std::fs::read(&path).map_err(|e| {
            format!(
                "{}: {e} (run bench/zkml/make_models.py first)",
                path.display()
            )
        })?;
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
        let proved = proved.ok_or("no run")?;
        let prove_ms = median(times);
        let proof_bytes = proved.proof.compressed_size();
        let pvk = ark_groth16::prepare_verifying_key(&keys.vk);
        let mut vt = Vec::new();
        for _ in 0..10 {
            let t = Instant::now();
            let ok = verity_zkml::prover::verify(&pvk, &input, &proved.output, &proved.proof)?;
            vt.push(t.elapsed().as_secs_f64() * 1e3);
            if !ok {
                return Err(format!("{name}: proof rejected").into());
            }
        }
        let verify_ms = median(vt);
        // Gas: the verifier has the same shape for every model (two public inputs); it is
        // measured by the `onchain` integration test.
        let verify_gas: Option<u64> = None;
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
            verify_gas
                .map(|g| g.to_string())
                .unwrap_or_else(|| "-".into())
        );
        if a.json {
            println!(
                "{{\"model\":\"{name}\",\"params\":{params},\"system\":\"verity-groth16\",\"prove_ms\":{prove_ms:.1},\"verify_ms\":{verify_ms:.3},\"proof_bytes\":{proof_bytes},\"verify_gas\":{},\"constraints\":{},\"setup_ms\":{setup_ms:.0},\"peak_rss_mib\":{peak:.0},\"threads\":{}}}",
                verify_gas
                    .map(|g| g.to_string())
                    .unwrap_or_else(|| "null".into()),
                keys.r1cs.num_constraints(),
                rayon_threads(),
            );
        }
    }
    Ok(())
}

/// The reference inference against the onnxruntime output make_models.py stored with the model.
fn check_against_onnxruntime(
    dir: &Path,
    name: &str,
    model: &verity_zkml::Model,
) -> Result<(), Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(dir.join(format!("{name}.json")))?;
    let v: serde_json::Value = serde_json::from_str(&text)?;
    let to_i8 = |x: &serde_json::Value| -> Vec<i8> {
        x.as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_i64())
                    .map(|v| v as i8)
                    .collect()
            })
            .unwrap_or_default()
    };
    for case in v["cases"].as_array().into_iter().flatten() {
        let out = model.infer(&to_i8(&case["input"]))?;
        if out != to_i8(&case["output"]) {
            return Err(format!("{name}: reference differs from onnxruntime").into());
        }
    }
    Ok(())
}

fn rayon_threads() -> usize {
    std::thread::available_parallelism()
        .map(usize::from)
        .unwrap_or(1)
}
