//! Times the phase-2 ceremony (issue 19) on the sensor circuits: initial key, one contribution,
//! the beacon, the ceremony file's write and read, and `verify` of the whole transcript.
//!
//! ```text
//! cargo run -p verity-zk --example ceremony_bench -- [--sizes 16,64] [--from ptau|devnet]
//! ```
//!
//! `--from ptau` (default) builds the initial key from an INSECURE known-tau `.ptau` written
//! first (the real ceremony files cannot be downloaded here; its writing is timed apart);
//! `--from devnet` starts from the deterministic devnet setup instead (INSECURE too). Either
//! way the contribution and verification do the same work: they depend on the key's sizes,
//! not on where its phase 1 came from.

use std::time::Instant;

use ark_std::rand::{SeedableRng, rngs::StdRng};
use verity_zk::Shape;
use verity_zk::ceremony::initial::needed_power;
use verity_zk::ceremony::insecure_ptau::{KnownTau, write_insecure_ptau};
use verity_zk::ceremony::{
    Beacon, Ceremony, Ptau, Qap, contribute, finalize, initial_key, secret_rng, verify,
};
use verity_zk::keys::{DEVNET_SEED, setup_deterministic};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .and_then(|i| args.get(i + 1).cloned())
    };
    let sizes: Vec<usize> = value("--sizes")
        .unwrap_or_else(|| "16".into())
        .split(',')
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    let from_ptau = value("--from").as_deref() != Some("devnet");
    let dir = std::env::temp_dir().join(format!("verity-ceremony-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    println!(
        "| N | L points | H points | phase 1 | ptau write s | initial key s | contribute s | beacon (2^10) s | file MB | write s | read s | verify s |"
    );
    println!("|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|");
    for slots in sizes {
        let shape = Shape { slots, depth: 10 };
        let t = Instant::now();
        let (initial, ptau_s, init_s, source) = if from_ptau {
            let qap = Qap::sensor(shape)?;
            let power = needed_power(&qap)?;
            let path = dir.join(format!("insecure-{power}.ptau"));
            write_insecure_ptau(&path, power, KnownTau::insecure_test())?;
            let ptau_s = t.elapsed().as_secs_f64();
            let t = Instant::now();
            let key = initial_key(&qap, &mut Ptau::open(&path)?)?;
            std::fs::remove_file(&path)?;
            (
                key,
                format!("{ptau_s:.1}"),
                t.elapsed().as_secs_f64(),
                format!("insecure ptau 2^{power}"),
            )
        } else {
            let keys = setup_deterministic(shape, DEVNET_SEED)?;
            (
                keys.pk,
                "–".into(),
                t.elapsed().as_secs_f64(),
                "devnet setup".into(),
            )
        };
        eprintln!("[N={slots}] initial key in {init_s:.1}s");
        let mut c = Ceremony::start(shape, initial.clone());
        let t = Instant::now();
        contribute(&mut c, "bench", &mut secret_rng(b"bench"))?;
        let contribute_s = t.elapsed().as_secs_f64();
        eprintln!("[N={slots}] contribution in {contribute_s:.1}s");
        let t = Instant::now();
        finalize(&mut c, Beacon::from_hex("0x0123456789abcdef", 10)?)?;
        let beacon_s = t.elapsed().as_secs_f64();
        let path = dir.join("bench.zkc");
        let t = Instant::now();
        c.save(&path)?;
        let write_s = t.elapsed().as_secs_f64();
        let mb = std::fs::metadata(&path)?.len() as f64 / 1e6;
        let t = Instant::now();
        let c = Ceremony::load(&path)?;
        let read_s = t.elapsed().as_secs_f64();
        std::fs::remove_file(&path)?;
        let t = Instant::now();
        verify(&initial, &c, &mut StdRng::from_entropy())?;
        let verify_s = t.elapsed().as_secs_f64();
        println!(
            "| {slots} | {} | {} | {source} | {ptau_s} | {init_s:.1} | {contribute_s:.1} | {beacon_s:.1} | {mb:.0} | {write_s:.1} | {read_s:.1} | {verify_s:.1} |",
            initial.l_query.len(),
            initial.h_query.len(),
        );
    }
    std::fs::remove_dir_all(&dir).ok();
    Ok(())
}
