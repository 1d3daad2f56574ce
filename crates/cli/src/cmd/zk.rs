//! `verity zk ceremony init | contribute | verify | finalize`: the Groth16 phase-2 ceremony
//! that makes production keys for a sensor circuit (issue 19). The work is in
//! `verity_zk::ceremony`; this file parses arguments, shows progress on stderr and prints
//! results on stdout.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use clap::{Args, Subcommand};
use eyre::WrapErr;
use indicatif::{ProgressBar, ProgressStyle};
use verity_zk::Shape;
use verity_zk::ceremony::{
    self, Beacon, Ceremony, Ptau, Qap, contribute, finalize, initial_key, secret_rng, verify,
};
use verity_zk::keys::{Keys, file_names};
use verity_zk::origin::{Origin, origin};
use verity_zk::solidity::verifier_source;

use super::OutputArgs;

#[derive(Debug, Subcommand)]
pub(crate) enum ZkCommand {
    /// The Groth16 phase-2 ceremony that makes a sensor circuit's production keys.
    #[command(subcommand)]
    Ceremony(CeremonyCommand),
}

#[derive(Debug, Subcommand)]
pub(crate) enum CeremonyCommand {
    /// Start a ceremony: the circuit's initial key from a phase-1 powers of tau (.ptau).
    ///
    /// Example:
    ///   verity zk ceremony init --slots 16 --ptau powersOfTau28_hez_final_17.ptau --out n16-0000.zkc
    Init(InitArgs),
    /// Add a contribution: multiply delta by a fresh secret (then forgotten) and append its
    /// proof of knowledge to the transcript.
    ///
    /// Example:
    ///   verity zk ceremony contribute --in n16-0000.zkc --out n16-0001.zkc --name alice
    Contribute(ContributeArgs),
    /// Check every contribution of a ceremony file from its initial key.
    ///
    /// Examples:
    ///   verity zk ceremony verify --ceremony n16-final.zkc --initial n16-0000.zkc
    ///   verity zk ceremony verify --ceremony n16-final.zkc --ptau pot17.ptau --final --json
    Verify(VerifyArgs),
    /// Close the ceremony with a public random beacon, and export the final keys and the
    /// Solidity verifier.
    ///
    /// Example:
    ///   verity zk ceremony finalize --in n16-0003.zkc --out n16-final.zkc \
    ///     --beacon 0x<block hash> --iterations-exp 10 --keys-dir keys/ --solidity Verifier.sol
    Finalize(FinalizeArgs),
}

#[derive(Debug, Args)]
pub(crate) struct InitArgs {
    /// Readings per proof (N) of the sensor circuit.
    #[arg(long)]
    slots: usize,
    /// Depth of the device registry's Merkle tree.
    #[arg(long, default_value_t = 10)]
    depth: usize,
    /// Phase-1 powers of tau in the snarkjs format, prepared for phase 2 (Lagrange sections).
    #[arg(long)]
    ptau: PathBuf,
    /// Where to write the ceremony file (its initial key; keep it to verify against).
    #[arg(long)]
    out: PathBuf,
    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Debug, Args)]
pub(crate) struct ContributeArgs {
    /// The ceremony file to contribute to.
    #[arg(long = "in")]
    input: PathBuf,
    /// Where to write the ceremony with this contribution.
    #[arg(long)]
    out: PathBuf,
    /// Your name, recorded in the transcript.
    #[arg(long)]
    name: String,
    /// Extra entropy mixed with the OS's (any text; prefer the environment variable).
    #[arg(
        long,
        env = "VERITY_CEREMONY_ENTROPY",
        hide_env_values = true,
        default_value = ""
    )]
    entropy: String,
    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// The ceremony file to check.
    #[arg(long)]
    ceremony: PathBuf,
    /// The ceremony file `init` wrote (the initial key).
    #[arg(long, conflicts_with = "ptau", required_unless_present = "ptau")]
    initial: Option<PathBuf>,
    /// Recompute the initial key from this powers-of-tau file instead.
    #[arg(long)]
    ptau: Option<PathBuf>,
    /// Also require the closing beacon.
    #[arg(long = "final")]
    require_final: bool,
    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Debug, Args)]
pub(crate) struct FinalizeArgs {
    /// The ceremony file to close.
    #[arg(long = "in")]
    input: PathBuf,
    /// Where to write the final ceremony file.
    #[arg(long)]
    out: PathBuf,
    /// The public beacon value, hex (e.g. a block hash announced before the ceremony closed).
    #[arg(long)]
    beacon: String,
    /// sha256 is iterated 2^this many times over the beacon.
    #[arg(long, default_value_t = 10)]
    iterations_exp: u32,
    /// Write the final proving and verifying keys here (`sensor-n{N}-d{D}.pk`, `.vk`).
    #[arg(long)]
    keys_dir: Option<PathBuf>,
    /// Write the Solidity verifier of the final key here.
    #[arg(long)]
    solidity: Option<PathBuf>,
    #[command(flatten)]
    output: OutputArgs,
}

pub(crate) fn run(cmd: ZkCommand) -> eyre::Result<()> {
    let ZkCommand::Ceremony(cmd) = cmd;
    match cmd {
        CeremonyCommand::Init(a) => init(a),
        CeremonyCommand::Contribute(a) => contribute_cmd(a),
        CeremonyCommand::Verify(a) => verify_cmd(a),
        CeremonyCommand::Finalize(a) => finalize_cmd(a),
    }
}

/// A spinner on stderr naming the step under way.
fn progress() -> ProgressBar {
    let pb = ProgressBar::new_spinner();
    pb.set_style(
        ProgressStyle::with_template("{spinner} [{elapsed}] {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    pb.enable_steady_tick(Duration::from_millis(200));
    pb
}

fn step<T>(pb: &ProgressBar, what: &str, f: impl FnOnce() -> eyre::Result<T>) -> eyre::Result<T> {
    pb.set_message(what.to_owned());
    let started = Instant::now();
    let out = f()?;
    pb.println(format!("{what}: {:.1?}", started.elapsed()));
    Ok(out)
}

fn load(pb: &ProgressBar, path: &Path) -> eyre::Result<Ceremony> {
    step(pb, &format!("reading {}", path.display()), || {
        Ceremony::load(path).wrap_err_with(|| format!("loading {}", path.display()))
    })
}

fn save(pb: &ProgressBar, c: &Ceremony, path: &Path) -> eyre::Result<()> {
    step(pb, &format!("writing {}", path.display()), || {
        c.save(path)
            .wrap_err_with(|| format!("writing {}", path.display()))
    })
}

fn initial_from_ptau(pb: &ProgressBar, shape: Shape, ptau: &Path) -> eyre::Result<Ceremony> {
    let qap = step(
        pb,
        &format!(
            "constraint matrices of N={} depth {}",
            shape.slots, shape.depth
        ),
        || Ok(Qap::sensor(shape)?),
    )?;
    let mut file = Ptau::open(ptau).wrap_err_with(|| format!("opening {}", ptau.display()))?;
    let key = step(pb, "initial key from the powers of tau", || {
        Ok(initial_key(&qap, &mut file)?)
    })?;
    Ok(Ceremony::start(shape, key))
}

fn init(a: InitArgs) -> eyre::Result<()> {
    let shape = Shape {
        slots: a.slots,
        depth: a.depth,
    };
    let pb = progress();
    let c = initial_from_ptau(&pb, shape, &a.ptau)?;
    save(&pb, &c, &a.out)?;
    pb.finish_and_clear();
    let digest = ceremony::transcript::hex(&c.initial_digest);
    if a.output.json {
        println!(
            "{}",
            serde_json::json!({ "slots": shape.slots, "depth": shape.depth, "initial_key_sha256": digest, "out": a.out })
        );
    } else {
        println!("initial key sha256 {digest}\nwrote {}", a.out.display());
    }
    Ok(())
}

fn contribute_cmd(a: ContributeArgs) -> eyre::Result<()> {
    let pb = progress();
    let mut c = load(&pb, &a.input)?;
    let receipt = step(&pb, &format!("contributing as {}", a.name), || {
        Ok(contribute(
            &mut c,
            &a.name,
            &mut secret_rng(a.entropy.as_bytes()),
        )?)
    })?;
    save(&pb, &c, &a.out)?;
    pb.finish_and_clear();
    if a.output.json {
        println!(
            "{}",
            serde_json::json!({ "index": receipt.index, "name": a.name, "transcript_hash": receipt.hash, "out": a.out })
        );
    } else {
        println!(
            "contribution #{} by {}\ntranscript hash {}\nwrote {}",
            receipt.index,
            a.name,
            receipt.hash,
            a.out.display()
        );
    }
    Ok(())
}

fn verify_cmd(a: VerifyArgs) -> eyre::Result<()> {
    let pb = progress();
    let c = load(&pb, &a.ceremony)?;
    let initial = match (&a.initial, &a.ptau) {
        (Some(path), _) => {
            let init = load(&pb, path)?;
            init.expect_shape(c.shape())?;
            if !init.contributions.is_empty() {
                eyre::bail!(
                    "{} has {} contributions: pass the file `init` wrote",
                    path.display(),
                    init.contributions.len()
                );
            }
            init.key
        }
        (None, Some(ptau)) => initial_from_ptau(&pb, c.shape(), ptau)?.key,
        (None, None) => eyre::bail!("pass --initial or --ptau"),
    };
    let v = step(&pb, "checking every contribution", || {
        Ok(verify(&initial, &c, &mut secret_rng(b"verify"))?)
    })?;
    pb.finish_and_clear();
    if a.require_final && !v.finalized {
        return Err(ceremony::CeremonyError::NotFinalized.into());
    }
    let insecure = origin(c.shape(), &c.key.vk);
    if a.output.json {
        let contributions: Vec<_> = v
            .contributions
            .iter()
            .map(|(name, hash, beacon)| serde_json::json!({ "name": name, "transcript_hash": hash, "beacon": beacon }))
            .collect();
        println!(
            "{}",
            serde_json::json!({
                "ok": true,
                "slots": c.slots,
                "depth": c.depth,
                "initial_key_sha256": ceremony::transcript::hex(&c.initial_digest),
                "contributions": contributions,
                "finalized": v.finalized,
                "known_insecure": insecure != Origin::NotKnownInsecure,
            })
        );
    } else {
        println!("ceremony OK: N={} depth {}", c.slots, c.depth);
        for (i, (name, hash, beacon)) in v.contributions.iter().enumerate() {
            let kind = if *beacon { " (beacon)" } else { "" };
            println!("  #{i} {name}{kind}  {hash}");
        }
        println!("finalized: {}", v.finalized);
        if insecure != Origin::NotKnownInsecure {
            println!("WARNING: phase 1 is {insecure:?}: its toxic waste is public; devnet only");
        }
    }
    Ok(())
}

fn finalize_cmd(a: FinalizeArgs) -> eyre::Result<()> {
    let beacon = Beacon::from_hex(&a.beacon, a.iterations_exp)?;
    let pb = progress();
    let mut c = load(&pb, &a.input)?;
    let receipt = step(&pb, "applying the beacon", || Ok(finalize(&mut c, beacon)?))?;
    save(&pb, &c, &a.out)?;
    let keys = Keys::from_ceremony(&c);
    let mut written = vec![a.out.clone()];
    if let Some(dir) = &a.keys_dir {
        std::fs::create_dir_all(dir).wrap_err_with(|| format!("creating {}", dir.display()))?;
        let (pk, vk) = file_names(c.shape());
        let (pk, vk) = (dir.join(pk), dir.join(vk));
        step(&pb, "writing the keys", || Ok(keys.save(&pk, &vk)?))?;
        written.extend([pk, vk]);
    }
    if let Some(path) = &a.solidity {
        let name = format!("SensorGroth16VerifierN{}", c.slots);
        std::fs::write(path, verifier_source(&name, &keys.vk))
            .wrap_err_with(|| format!("writing {}", path.display()))?;
        written.push(path.clone());
    }
    pb.finish_and_clear();
    if a.output.json {
        println!(
            "{}",
            serde_json::json!({ "index": receipt.index, "transcript_hash": receipt.hash, "written": written })
        );
    } else {
        println!(
            "beacon applied as contribution #{}\ntranscript hash {}",
            receipt.index, receipt.hash
        );
        for w in written {
            println!("wrote {}", w.display());
        }
    }
    Ok(())
}
