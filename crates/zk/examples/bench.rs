//! The ZK benchmark of issue 6: for each circuit size N, constraint count, setup time, proving
//! time, peak proving memory (VmHWM of a child process), native verification time and on-chain
//! gas (`verifyProof` alone and a whole `submitProof` in the TaskMarket on the devchain), side
//! by side with the same circuit in circom/circomlib proved with snarkjs (bench/zk-peer).
//!
//! ```text
//! cargo run --release -p verity-zk --example bench -- [--sizes 16,64,256] [--peer 16,64] [--baseline]
//! ```
//!
//! `prove_ms` is what `Keys::prove` does before its self-verification: witness values, the
//! witness check over the shape's cached constraint matrices, QAP and MSMs (`witness_ms` and
//! `check_ms` are its first two parts). The matrices are built once per key (`matrices_ms`,
//! not in `prove_ms`; `assembly_ms` is its QAP and MSM part). `--baseline` also times
//! ark-groth16's own assembly over the same matrices (`baseline_assembly_ms`, ark-ec's MSM instead
//! of `verity_zk::msm`) and the earlier path (the named check, then `Groth16::prove`, which
//! synthesizes and builds the matrices again), and requires the very same proof from the same RNG
//! seed from both.
//!
//! Each size runs in a child process (`--child N`) so that its peak RSS is its own; the child
//! resets its high-water mark (`/proc/self/clear_refs`) after the setup, so the figure is the
//! proving peak with the proving key and the constraint matrices loaded. The peer gets the very readings our device
//! simulator signed (an input JSON), so it also cross-checks circomlib compatibility.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use alloy::network::EthereumWallet;
use alloy::primitives::{B256, Bytes, U256, keccak256};
use alloy::providers::{Provider, ProviderBuilder};
use alloy::sol;
use ark_bn254::{Bn254, Fr};
use ark_ff::{PrimeField, UniformRand};
use ark_groth16::Groth16;
use ark_serialize::{CanonicalDeserialize, CanonicalSerialize};
use ark_snark::SNARK;
use ark_std::rand::{SeedableRng, rngs::StdRng};
use verity_devchain::{DevchainConfig, spawn};
use verity_settlement::{DeployConfig, Mode, OperatorProfile, Settlement, TaskRequest, TxOptions};
use verity_zk::device::Device;
use verity_zk::keys::{DEVNET_SEED, setup_deterministic, sha256_hex};
use verity_zk::prover;
use verity_zk::registry::Registry;
use verity_zk::solidity::encode_proof;
use verity_zk::statement::{Query, SignedReading, field_to_word};
use verity_zk::{SensorCircuit, Shape};

type BoxResult<T> = Result<T, Box<dyn std::error::Error>>;

const DEPTH: usize = 10;

sol! {
    #[sol(rpc)]
    interface ISensorGroth16Verifier {
        function verifyProof(uint256[8] calldata proof, uint256[3] calldata input) external view returns (bool);
    }
    #[sol(rpc)]
    interface IResultVerifierAdapter {
        function verifyResult(bytes32 programDigest, bytes32 inputDigest, bytes32 resultDigest, bytes32 binding, bytes calldata proof) external view returns (bool);
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn main() -> BoxResult<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let flag = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    if let Some(n) = flag("--child") {
        let rt = tokio::runtime::Runtime::new()?;
        let baseline = args.iter().any(|a| a == "--baseline");
        return rt.block_on(child(
            n.parse()?,
            flag("--peer-input").map(PathBuf::from),
            baseline,
        ));
    }
    let sizes = parse_sizes(&flag("--sizes").unwrap_or_else(|| "16,64,256".into()))?;
    let peer = parse_sizes(&flag("--peer").unwrap_or_default())?;
    let baseline = args.iter().any(|a| a == "--baseline");
    let work = root().join("target/zk-bench");
    std::fs::create_dir_all(&work)?;
    let exe = std::env::current_exe()?;
    let mut rows: Vec<(usize, BTreeMap<String, String>)> = Vec::new();
    for n in sizes.iter().copied() {
        let input = work.join(format!("peer-input-n{n}.json"));
        eprintln!("== verity-zk N={n}");
        let mut cmd = Command::new(&exe);
        cmd.args(["--child", &n.to_string(), "--peer-input"])
            .arg(&input);
        if baseline {
            cmd.arg("--baseline");
        }
        let out = cmd.output()?;
        if !out.status.success() {
            return Err(format!(
                "child N={n} failed: {}",
                String::from_utf8_lossy(&out.stderr)
            )
            .into());
        }
        let mut kv = parse_kv(&String::from_utf8_lossy(&out.stdout));
        if peer.contains(&n) {
            eprintln!("== circom/snarkjs N={n}");
            let out = Command::new(root().join("bench/zk-peer/run.sh"))
                .args(["prove", &n.to_string()])
                .arg(&input)
                .output()?;
            if !out.status.success() {
                return Err(format!(
                    "peer N={n} failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                )
                .into());
            }
            let peer_kv = parse_kv(&String::from_utf8_lossy(&out.stdout));
            if peer_kv.get("peer_public") != kv.get("public") {
                return Err(format!(
                    "peer N={n} proved other public inputs: {:?} vs ours {:?}",
                    peer_kv.get("peer_public"),
                    kv.get("public")
                )
                .into());
            }
            kv.extend(peer_kv);
        }
        for (k, v) in &kv {
            println!("N={n} {k}={v}");
        }
        rows.push((n, kv));
    }
    println!("\n{}", table(&rows));
    if rows
        .iter()
        .any(|(_, kv)| kv.get("peer_ptau_source").map(String::as_str) == Some("known-tau"))
    {
        println!(
            "peer powers of tau: known-tau (INSECURE, benchmark only: examples/ptau.rs; \
             PTAU_SOURCE=ceremony for snarkjs' own)"
        );
    }
    Ok(())
}

fn parse_sizes(s: &str) -> BoxResult<Vec<usize>> {
    s.split(',')
        .filter(|x| !x.is_empty())
        .map(|x| Ok(x.trim().parse()?))
        .collect()
}

fn parse_kv(s: &str) -> BTreeMap<String, String> {
    s.lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

fn table(rows: &[(usize, BTreeMap<String, String>)]) -> String {
    let get = |kv: &BTreeMap<String, String>, k: &str| kv.get(k).cloned().unwrap_or("–".into());
    let num =
        |kv: &BTreeMap<String, String>, k: &str| kv.get(k).and_then(|v| v.parse::<f64>().ok());
    let mut t = String::from(
        "| N | constraints (ours / circom) | setup s (ours / snarkjs) | witness+prove s (ours / snarkjs) | speed-up | CPU s (ours / snarkjs) | CPU ratio | peak proving RSS MiB (ours / snarkjs) | native verify ms (ours / snarkjs) | verifyProof gas | submitProof gas |\n|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for (n, kv) in rows {
        let ours_prove = num(kv, "prove_ms").map(|x| x / 1e3);
        let peer_prove = num(kv, "peer_witness_ms")
            .zip(num(kv, "peer_prove_ms"))
            .map(|(a, b)| (a + b) / 1e3);
        let ratio = ours_prove
            .zip(peer_prove)
            .map(|(o, p)| format!("{:.1}x", p / o))
            .unwrap_or("–".into());
        let ours_cpu = num(kv, "prove_cpu_ms").map(|x| x / 1e3);
        let peer_cpu = num(kv, "peer_witness_cpu_ms")
            .zip(num(kv, "peer_prove_cpu_ms"))
            .map(|(a, b)| (a + b) / 1e3);
        let cpu_ratio = ours_cpu
            .zip(peer_cpu)
            .map(|(o, p)| format!("{:.1}x", p / o))
            .unwrap_or("–".into());
        let mib = |k: &str| {
            num(kv, k)
                .map(|x| format!("{:.0}", x / 1024.0))
                .unwrap_or("–".into())
        };
        let secs = |k: &str| {
            num(kv, k)
                .map(|x| format!("{:.1}", x / 1e3))
                .unwrap_or("–".into())
        };
        let peer_setup = num(kv, "peer_setup_ms")
            .map(|x| format!("{:.1}", x / 1e3))
            .unwrap_or("–".into());
        t.push_str(&format!(
            "| {n} | {} / {} | {} / {} | {} / {} | {ratio} | {} / {} | {cpu_ratio} | {} / {} | {} / {} | {} | {} |\n",
            get(kv, "constraints"),
            get(kv, "peer_constraints"),
            secs("setup_ms"),
            peer_setup,
            ours_prove.map(|x| format!("{x:.2}")).unwrap_or("–".into()),
            peer_prove.map(|x| format!("{x:.2}")).unwrap_or("–".into()),
            ours_cpu.map(|x| format!("{x:.2}")).unwrap_or("–".into()),
            peer_cpu.map(|x| format!("{x:.2}")).unwrap_or("–".into()),
            mib("prove_peak_kb"),
            mib("peer_prove_peak_kb"),
            get(kv, "verify_ms"),
            get(kv, "peer_verify_ms"),
            get(kv, "verify_gas"),
            get(kv, "submit_gas"),
        ));
    }
    t
}

/// CPU time (user + system, all threads) of this process so far, in ms: on a shared machine
/// wall time moves with the load, CPU time much less.
fn cpu_ms() -> BoxResult<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat")?;
    // Fields after the parenthesised command: state is field 3, utime 14 and stime 15.
    let rest = stat.rsplit_once(')').ok_or("malformed /proc/self/stat")?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11).ok_or("no utime")?.parse::<f64>()?
        + fields.get(12).ok_or("no stime")?.parse::<f64>()?;
    // USER_HZ is 100 on Linux.
    Ok(ticks * 10.0)
}

/// VmHWM or VmRSS of this process in KiB.
fn status_kb(field: &str) -> BoxResult<u64> {
    let s = std::fs::read_to_string("/proc/self/status")?;
    let line = s
        .lines()
        .find(|l| l.starts_with(field))
        .ok_or_else(|| format!("{field} not in /proc/self/status"))?;
    Ok(line
        .split_whitespace()
        .nth(1)
        .ok_or("malformed status line")?
        .parse()?)
}

/// The benchmark's readings: eight registered devices, window [1000, 2000], range [10, 100],
/// every slot used, two readings excluded (one out of range, one out of window).
fn world(n: usize) -> BoxResult<(Registry, Query, Vec<SignedReading>)> {
    let mut registry = Registry::new(DEPTH)?;
    let devices: Vec<Device> = (0..8).map(Device::from_seed).collect();
    for d in &devices {
        registry.register(d.public_key())?;
    }
    let query = Query::new(registry.root(), (1000, 2000), (10, 100))?;
    let readings = (0..n)
        .map(|i| {
            let d = &devices[i % devices.len()];
            match i {
                1 => d.sign(500, 1500),
                2 => d.sign(50, 2500),
                _ => d.sign(10 + (i as u32 * 7) % 90, 1000 + i as u32),
            }
        })
        .collect();
    Ok((registry, query, readings))
}

fn dec(x: Fr) -> String {
    x.into_bigint().to_string()
}

/// The circom peer's input for the same witness (bench/zk-peer/sensor.circom signal names).
fn circom_input(c: &SensorCircuit) -> String {
    let p = c.public_inputs();
    let q = &c.query;
    let list = |f: &dyn Fn(&verity_zk::circuit::Slot) -> String| {
        format!(
            "[{}]",
            c.slots
                .iter()
                .map(|s| format!("\"{}\"", f(s)))
                .collect::<Vec<_>>()
                .join(",")
        )
    };
    let accepted =
        |s: &verity_zk::circuit::Slot| s.present && q.accepts(s.reading.value, s.reading.timestamp);
    let first = |want: u32| {
        c.slots
            .iter()
            .position(|s| accepted(s) && s.reading.value == want)
    };
    let (min_at, max_at) = (first(c.claimed.min), first(c.claimed.max));
    let sel = |at: Option<usize>| {
        format!(
            "[{}]",
            (0..c.slots.len())
                .map(|i| if Some(i) == at { "\"1\"" } else { "\"0\"" })
                .collect::<Vec<_>>()
                .join(",")
        )
    };
    let nested = |f: &dyn Fn(&verity_zk::circuit::Slot, usize) -> String| {
        format!(
            "[{}]",
            c.slots
                .iter()
                .map(|s| format!(
                    "[{}]",
                    (0..c.shape.depth)
                        .map(|l| format!("\"{}\"", f(s, l)))
                        .collect::<Vec<_>>()
                        .join(",")
                ))
                .collect::<Vec<_>>()
                .join(",")
        )
    };
    format!(
        "{{\"inputDigest\":\"{}\",\"resultDigest\":\"{}\",\"binding\":\"{}\",\"root\":\"{}\",\
\"windowStart\":\"{}\",\"windowEnd\":\"{}\",\"rangeMin\":\"{}\",\"rangeMax\":\"{}\",\
\"min\":\"{}\",\"max\":\"{}\",\"present\":{},\"value\":{},\"timestamp\":{},\"Ax\":{},\"Ay\":{},\
\"S\":{},\"R8x\":{},\"R8y\":{},\"pathIndex\":{},\"siblings\":{},\"selMin\":{},\"selMax\":{}}}",
        dec(p.input_digest),
        dec(p.result_digest),
        dec(p.binding),
        dec(q.registry_root),
        q.window_start,
        q.window_end,
        q.range_min,
        q.range_max,
        c.claimed.min,
        c.claimed.max,
        list(&|s| u8::from(s.present).to_string()),
        list(&|s| s.reading.value.to_string()),
        list(&|s| s.reading.timestamp.to_string()),
        list(&|s| dec(s.reading.device.x)),
        list(&|s| dec(s.reading.device.y)),
        list(&|s| dec(s.s)),
        list(&|s| dec(s.reading.signature.r8.x)),
        list(&|s| dec(s.reading.signature.r8.y)),
        nested(&|s, l| ((s.path.index >> l) & 1).to_string()),
        nested(&|s, l| dec(s.path.siblings[l])),
        sel(min_at),
        sel(max_at),
    )
}

/// One size, in its own process: prints key=value lines.
async fn child(n: usize, peer_input: Option<PathBuf>, baseline: bool) -> BoxResult<()> {
    let shape = Shape {
        slots: n,
        depth: DEPTH,
    };
    println!("constraints={}", SensorCircuit::constraint_count(shape)?);
    // Keys: the proving key the setup example wrote (its time is in its log), else a setup here.
    let cached = root().join(format!("target/zk-keys/sensor-n{n}-d{DEPTH}.pk"));
    let keys = if cached.exists() {
        let t = Instant::now();
        // The file's bytes are dropped before proving (they were held through it before).
        let pk = ark_groth16::ProvingKey::<Bn254>::deserialize_compressed_unchecked(
            &std::fs::read(&cached)?[..],
        )?;
        println!("pk_load_ms={}", t.elapsed().as_millis());
        let vk = pk.vk.clone();
        verity_zk::keys::Keys::new(shape, pk, vk)
    } else {
        let t = Instant::now();
        let keys = setup_deterministic(shape, DEVNET_SEED)?;
        println!("setup_ms={}", t.elapsed().as_millis());
        keys
    };
    println!("pk_bytes={}", keys.pk.compressed_size());

    let (registry, query, readings) = world(n)?;
    // The binding the market will compute for task 1 of this operator (see below).
    let chain = spawn(DevchainConfig::default()).await?;
    let accounts = chain.chain.accounts();
    let (owner, op) = (accounts[0].address, accounts[4].address);
    let mut wallet = EthereumWallet::from(accounts[0].signer.clone());
    for a in &accounts[1..] {
        wallet.register_signer(a.signer.clone());
    }
    let provider = ProviderBuilder::new()
        .wallet(wallet)
        .connect_http(chain.url.parse()?);
    let deployment =
        verity_settlement::deploy(provider.clone(), &DeployConfig::devnet(owner)).await?;
    let binding =
        verity_primitives::binding(deployment.chain_id, deployment.market, U256::from(1), op);

    let circuit = SensorCircuit::new(shape, &registry, query, &readings, binding.0)?;
    if let Some(path) = &peer_input {
        std::fs::write(path, circom_input(&circuit))?;
    }
    let public = circuit.public_inputs();
    println!(
        "public={},{},{}",
        dec(public.input_digest),
        dec(public.result_digest),
        dec(public.binding)
    );
    // The shape's constraint matrices: built once per key (like the key itself), not per proof.
    let t = Instant::now();
    let r1cs = keys.r1cs()?;
    println!("matrices_ms={}", t.elapsed().as_millis());
    println!("matrix_nonzero={}", r1cs.nonzero());
    println!("variables={}", r1cs.num_variables());

    // Peak proving memory: reset the high-water mark to the current RSS (keys and matrices
    // loaded).
    std::fs::write("/proc/self/clear_refs", "5")?;
    println!("rss_before_prove_kb={}", status_kb("VmRSS:")?);
    // Proving as `Keys::prove` does it (minus its final self-verification, timed below):
    // witness values, the witness check, then QAP and MSMs.
    let mut rng = StdRng::seed_from_u64(1);
    let cpu = cpu_ms()?;
    let t = Instant::now();
    let z = prover::assignment(circuit.clone())?;
    let witness_ms = t.elapsed().as_secs_f64() * 1e3;
    r1cs.check(&z)?;
    let check_ms = t.elapsed().as_secs_f64() * 1e3 - witness_ms;
    let (t_assembly, cpu_assembly) = (Instant::now(), cpu_ms()?);
    let proof = prover::prove(&keys.pk, &r1cs, &z, &mut rng)?;
    println!("prove_ms={}", t.elapsed().as_millis());
    println!("prove_cpu_ms={:.0}", cpu_ms()? - cpu);
    println!("assembly_ms={}", t_assembly.elapsed().as_millis());
    println!("assembly_cpu_ms={:.0}", cpu_ms()? - cpu_assembly);
    println!("prove_peak_kb={}", status_kb("VmHWM:")?);
    println!("witness_ms={witness_ms:.0}");
    println!("check_ms={check_ms:.0}");

    if baseline {
        // ark-groth16's own proof assembly over the same cached matrices and assignment (ark-ec's
        // MSM where `prover::assemble` uses `verity_zk::msm`); same seed, so the same proof.
        let mut rng = StdRng::seed_from_u64(1);
        let (r, s) = (Fr::rand(&mut rng), Fr::rand(&mut rng));
        let (t, cpu) = (Instant::now(), cpu_ms()?);
        let lib = Groth16::<Bn254>::create_proof_with_reduction_and_matrices(
            &keys.pk,
            r,
            s,
            r1cs.matrices(),
            r1cs.num_instance(),
            r1cs.num_constraints(),
            &z,
        )?;
        println!("baseline_assembly_ms={}", t.elapsed().as_millis());
        println!("baseline_assembly_cpu_ms={:.0}", cpu_ms()? - cpu);
        println!("baseline_assembly_same_proof={}", lib == proof);
        if lib != proof {
            return Err("our proof assembly differs from ark-groth16's".into());
        }
    }
    drop(z);

    if baseline {
        // The previous path: the named check (a full synthesis with every constraint) and
        // `Groth16::prove` (synthesis, matrices, QAP, MSMs); same seed, so the same proof.
        let (t, cpu) = (Instant::now(), cpu_ms()?);
        circuit.check()?;
        println!("baseline_check_ms={}", t.elapsed().as_millis());
        println!("baseline_check_cpu_ms={:.0}", cpu_ms()? - cpu);
        let mut rng = StdRng::seed_from_u64(1);
        let (t, cpu) = (Instant::now(), cpu_ms()?);
        let old = Groth16::<Bn254>::prove(&keys.pk, circuit, &mut rng)?;
        println!("baseline_prove_ms={}", t.elapsed().as_millis());
        println!("baseline_prove_cpu_ms={:.0}", cpu_ms()? - cpu);
        println!("baseline_same_proof={}", old == proof);
        if old != proof {
            return Err("cached-matrix proof differs from Groth16::prove's".into());
        }
    }

    let pvk = ark_groth16::prepare_verifying_key(&keys.vk);
    let inputs = public.to_vec();
    let mut times = Vec::new();
    for _ in 0..11 {
        let t = Instant::now();
        let ok = verity_zk::keys::verify_prepared(&pvk, &inputs, &proof)?;
        times.push(t.elapsed().as_secs_f64() * 1e3);
        if !ok {
            return Err("native verification failed".into());
        }
    }
    times.sort_by(f64::total_cmp);
    println!("verify_ms={:.2}", times[times.len() / 2]);

    // On chain: the committed verifier for this N, alone and through the market.
    let artifact = root().join(format!("contracts/out/SensorGroth16VerifierN{n}.json"));
    if !artifact.exists() {
        eprintln!("no committed verifier for N={n}: on-chain gas not measured");
        chain.shutdown().await?;
        return Ok(());
    }
    let code = artifact_bytecode(&artifact)?;
    let s = Settlement::new(provider.clone(), deployment, TxOptions::default());
    let verifier = s.create_contract(owner, code).await?;
    let encoded = encode_proof(&proof);
    let words: [U256; 8] =
        std::array::from_fn(|i| U256::from_be_slice(&encoded[32 * i..32 * i + 32]));
    let input = [public.input_digest, public.result_digest, public.binding]
        .map(|x| U256::from_be_bytes(field_to_word(x)));
    let v = ISensorGroth16Verifier::new(verifier, &provider);
    if !v.verifyProof(words, input).call().await? {
        return Err(format!("committed verifier N={n} rejects the proof (key drift?)").into());
    }
    let gas = provider
        .estimate_gas(
            v.verifyProof(words, input)
                .into_transaction_request()
                .from(owner),
        )
        .await?;
    println!("verify_gas={gas}");
    println!("verify_calldata_bytes={}", 4 + 32 * 11);

    let vk_bytes = keys.verifying_key_bytes()?;
    let program = hex_b256(&sha256_hex(&vk_bytes))?;
    let adapter_artifact = root().join("contracts/out/SensorAggregateVerifier.json");
    let mut adapter_code = artifact_bytecode(&adapter_artifact)?.to_vec();
    adapter_code.extend_from_slice(&alloy::sol_types::SolValue::abi_encode(&(
        verifier, program,
    )));
    let adapter = s.create_contract(owner, adapter_code.into()).await?;
    let vid = keccak256(format!("verity.zk.sensor-aggregate.n{n}.d10"));
    s.set_verifier(owner, vid, adapter).await?;
    s.mint(owner, owner, U256::from(10u64).pow(U256::from(24u64)))
        .await?;
    s.approve_market(owner, U256::MAX).await?;
    s.mint(owner, op, U256::from(10u64).pow(U256::from(24u64)))
        .await?;
    s.approve_registry(op, U256::MAX).await?;
    let profile = OperatorProfile {
        signer: op,
        hardware_hash: keccak256("bench-prover"),
        metadata_cid: Bytes::from(vec![0x01, 0x55, 0x12, 0x20, 0x00]),
        region: 0,
        capabilities: 0b11,
    };
    s.register(op, &profile).await?;
    s.stake(op, U256::from(10u64).pow(U256::from(21u64)))
        .await?;
    let now = s.chain_time().await?;
    let req = TaskRequest {
        mode: Mode::ZkProof,
        replication: 1,
        quorum: 1,
        program_digest: program,
        input_digest: field_to_word(public.input_digest).into(),
        bounty: U256::from(10u64).pow(U256::from(20u64)),
        collateral: U256::from(10u64).pow(U256::from(19u64)),
        assign_deadline: now + 600,
        commit_deadline: now + 3600,
        reveal_deadline: 0,
        challenge_window: 0,
        verifier_id: vid,
        audit_bps: 0,
    };
    let (task, _) = s.create_task(owner, &req).await?;
    if task != U256::from(1) {
        return Err(format!("expected task 1, got {task}").into());
    }
    s.assign(owner, task, &[op]).await?;
    let result: B256 = field_to_word(public.result_digest).into();
    let adapter_instance = IResultVerifierAdapter::new(adapter, &provider);
    let adapter_call = adapter_instance.verifyResult(
        program,
        field_to_word(public.input_digest).into(),
        result,
        binding,
        Bytes::from(encoded.clone()),
    );
    let adapter_gas = provider
        .estimate_gas(adapter_call.into_transaction_request().from(owner))
        .await?;
    println!("adapter_gas={adapter_gas}");
    let receipt = s
        .submit_proof(op, task, result, Bytes::from(encoded))
        .await?;
    println!("submit_gas={}", receipt.gas_used);
    chain.shutdown().await?;
    Ok(())
}

fn artifact_bytecode(path: &Path) -> BoxResult<Bytes> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let key = "\"bytecode\": \"";
    let start = text.find(key).ok_or("no bytecode in artifact")? + key.len();
    let end = start + text[start..].find('"').ok_or("unterminated bytecode")?;
    Ok(text[start..end].parse()?)
}

fn hex_b256(h: &str) -> BoxResult<B256> {
    Ok(h.parse()?)
}
