//! `verity device`: the sensor-device simulator of the ZK path (issue 6). Makes device keys
//! (EdDSA-Poseidon over BabyJubJub, circomlib-compatible), the registry root a ZkProof task
//! names, signed readings, and the task's input digest. Field elements are 0x-prefixed 32-byte
//! big-endian hex, as they go on chain.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use eyre::{WrapErr, eyre};
use serde_json::{Value, json};
use verity_zk::Fr;
use verity_zk::babyjubjub::Point;
use verity_zk::device::Device;
use verity_zk::eddsa::PrivateKey;
use verity_zk::encoding::{fr_from_hex, fr_to_hex, to_hex};
use verity_zk::input::{point_from_json, point_to_json, reading_to_json};
use verity_zk::registry::Registry;
use verity_zk::statement::Query;

#[derive(Debug, Subcommand)]
pub(crate) enum DeviceCommand {
    /// Make a device key file (JSON with the private key and the public point). Refuses to
    /// overwrite.
    ///
    /// Examples:
    ///   verity device keygen --out devices/d0.json
    ///   verity device keygen --seed 7 --out devices/d7.json   (reproducible, devnets only)
    Keygen(KeygenArgs),
    /// Print the Poseidon Merkle registry root of device key files (in the order given:
    /// the first file is leaf 0).
    ///
    /// Example:
    ///   verity device register-root devices/d0.json devices/d1.json
    RegisterRoot(RootArgs),
    /// Sign one reading with a device key; prints the signed reading as JSON.
    ///
    /// Example:
    ///   verity device sign --key devices/d0.json --value 42 --timestamp 1700000000
    Sign(SignArgs),
    /// Print the inputDigest of a ZkProof task: Poseidon(root, window, range).
    ///
    /// Example:
    ///   verity device query-digest --root 0x… --window 1700000000:1700003600 --range 0:1000
    QueryDigest(QueryArgs),
    /// Assemble the input blob of a ZkProof task (JSON: circuit size, query, registry keys,
    /// signed readings) from key files and `sign` outputs; checks every signature and
    /// registration first. Publish the blob and name it when creating the task (the SDK's
    /// `submit_zk` does both).
    ///
    /// Example:
    ///   verity device task-input --slots 16 --window 1700000000:1700003600 --range 0:1000 \
    ///     --keys devices/d0.json devices/d1.json --readings r0.json r1.json > input.json
    TaskInput(TaskInputArgs),
}

#[derive(Debug, Args)]
pub(crate) struct TaskInputArgs {
    /// Circuit size N (reading slots): 16, 64 or 256 have committed verifiers.
    #[arg(long, default_value_t = 16)]
    slots: usize,
    /// Registry depth.
    #[arg(long, default_value_t = 10)]
    depth: usize,
    /// Accepted timestamps, inclusive: `start:end`.
    #[arg(long)]
    window: String,
    /// Accepted values, inclusive: `min:max`.
    #[arg(long)]
    range: String,
    /// Registered device key files, leaf 0 first (only `public` is read).
    #[arg(long, num_args = 1.., required = true)]
    keys: Vec<PathBuf>,
    /// Signed readings (`verity device sign` outputs), one JSON object per file.
    #[arg(long, num_args = 1.., required = true)]
    readings: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct KeygenArgs {
    /// Where to write the key file (mode 0600).
    #[arg(long)]
    out: PathBuf,
    /// Derive the key from this seed instead of the OS RNG (reproducible; devnets only).
    #[arg(long)]
    seed: Option<u64>,
}

#[derive(Debug, Args)]
pub(crate) struct RootArgs {
    /// Device key files (or public-key files: only `public` is read).
    #[arg(required = true)]
    keys: Vec<PathBuf>,
    /// Tree depth (the circuit's registry depth).
    #[arg(long, default_value_t = 10)]
    depth: usize,
}

#[derive(Debug, Args)]
pub(crate) struct SignArgs {
    /// The device key file.
    #[arg(long)]
    key: PathBuf,
    /// The measured value (unsigned 32-bit).
    #[arg(long)]
    value: u32,
    /// Unix seconds (32-bit).
    #[arg(long)]
    timestamp: u32,
}

#[derive(Debug, Args)]
pub(crate) struct QueryArgs {
    /// Registry root (0x-hex).
    #[arg(long)]
    root: String,
    /// Accepted timestamps, inclusive: `start:end`.
    #[arg(long)]
    window: String,
    /// Accepted values, inclusive: `min:max`.
    #[arg(long)]
    range: String,
}

pub(crate) fn run(cmd: DeviceCommand) -> eyre::Result<()> {
    let out = match cmd {
        DeviceCommand::Keygen(a) => keygen(&a.out, a.seed)?,
        DeviceCommand::RegisterRoot(a) => register_root(&a.keys, a.depth)?,
        DeviceCommand::Sign(a) => sign(&a.key, a.value, a.timestamp)?,
        DeviceCommand::QueryDigest(a) => query_digest(&a.root, &a.window, &a.range)?,
        DeviceCommand::TaskInput(a) => task_input(&a)?,
    };
    println!("{out}");
    Ok(())
}

fn hex(x: Fr) -> String {
    fr_to_hex(x)
}

fn point_json(p: &Point) -> Value {
    point_to_json(p)
}

fn parse_field(s: &str, what: &str) -> eyre::Result<Fr> {
    fr_from_hex(s, "field element").wrap_err_with(|| format!("{what}: {s:?}"))
}

fn parse_point(v: &Value, what: &str) -> eyre::Result<Point> {
    Ok(point_from_json(v, what)?)
}

fn read_json(path: &Path) -> eyre::Result<Value> {
    let text =
        std::fs::read_to_string(path).wrap_err_with(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).wrap_err_with(|| format!("parsing {}", path.display()))
}

fn load_device(path: &Path) -> eyre::Result<Device> {
    let v = read_json(path)?;
    let private = v
        .get("private")
        .and_then(Value::as_str)
        .ok_or_else(|| eyre!("{}: no private key", path.display()))?;
    let bytes: [u8; 32] = alloy::hex::decode(private)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| eyre!("{}: private key is not 32 bytes of hex", path.display()))?;
    let device = Device::from_key(PrivateKey::from_bytes(bytes));
    if let Some(public) = v.get("public") {
        let recorded = parse_point(public, &path.display().to_string())?;
        if recorded != device.public_key() {
            return Err(eyre!(
                "{}: public key does not match the private key",
                path.display()
            ));
        }
    }
    Ok(device)
}

fn keygen(out: &Path, seed: Option<u64>) -> eyre::Result<Value> {
    let device = match seed {
        Some(s) => Device::from_seed(s),
        None => Device::random(),
    };
    let public = point_json(&device.public_key());
    let file = json!({
        "private": to_hex(&device.private_key().to_bytes()),
        "public": public,
    });
    write_new(out, &serde_json::to_string_pretty(&file)?)?;
    Ok(json!({ "path": out, "public": public }))
}

/// Creates `path` with mode 0600; refuses to overwrite.
fn write_new(path: &Path, text: &str) -> eyre::Result<()> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts
        .open(path)
        .wrap_err_with(|| format!("creating {}", path.display()))?;
    f.write_all(text.as_bytes())
        .wrap_err_with(|| format!("writing {}", path.display()))
}

fn register_root(keys: &[PathBuf], depth: usize) -> eyre::Result<Value> {
    let mut registry = Registry::new(depth)?;
    let mut devices = Vec::new();
    for path in keys {
        let v = read_json(path)?;
        let public = v
            .get("public")
            .ok_or_else(|| eyre!("{}: no public key", path.display()))?;
        let p = parse_point(public, &path.display().to_string())?;
        let index = registry
            .register(p)
            .wrap_err_with(|| format!("registering {}", path.display()))?;
        devices.push(json!({ "index": index, "path": path, "public": point_json(&p) }));
    }
    Ok(json!({ "depth": depth, "root": hex(registry.root()), "devices": devices }))
}

fn sign(key: &Path, value: u32, timestamp: u32) -> eyre::Result<Value> {
    let device = load_device(key)?;
    Ok(reading_to_json(&device.sign(value, timestamp)))
}

fn bounds(s: &str, what: &str) -> eyre::Result<(u32, u32)> {
    let (lo, hi) = s
        .split_once(':')
        .ok_or_else(|| eyre!("{what}: expected lo:hi, got {s:?}"))?;
    Ok((
        lo.parse()
            .wrap_err_with(|| format!("{what} start {lo:?}"))?,
        hi.parse().wrap_err_with(|| format!("{what} end {hi:?}"))?,
    ))
}

fn query_digest(root: &str, window: &str, range: &str) -> eyre::Result<Value> {
    let query = Query::new(
        parse_field(root, "root")?,
        bounds(window, "window")?,
        bounds(range, "range")?,
    )?;
    Ok(json!({ "inputDigest": hex(query.digest()) }))
}

fn task_input(a: &TaskInputArgs) -> eyre::Result<Value> {
    let devices = a
        .keys
        .iter()
        .map(|path| {
            let v = read_json(path)?;
            let public = v
                .get("public")
                .ok_or_else(|| eyre!("{}: no public key", path.display()))?;
            parse_point(public, &path.display().to_string())
        })
        .collect::<eyre::Result<Vec<_>>>()?;
    let readings = a
        .readings
        .iter()
        .map(|path| {
            let v = read_json(path)?;
            Ok(verity_zk::input::reading_from_json(
                &v,
                &path.display().to_string(),
            )?)
        })
        .collect::<eyre::Result<Vec<_>>>()?;
    let shape = verity_zk::Shape {
        slots: a.slots,
        depth: a.depth,
    };
    let mut input = verity_zk::input::TaskInput {
        shape,
        query: Query::new(Fr::from(0u64), (0, 0), (0, 0))?,
        devices,
        readings,
    };
    let root = input.registry()?.root();
    input.query = Query::new(
        root,
        bounds(&a.window, "window")?,
        bounds(&a.range, "range")?,
    )?;
    input.check().wrap_err("the readings cannot be proved")?;
    Ok(serde_json::from_slice(&input.to_bytes())?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use verity_zk::device::verify_reading;
    use verity_zk::input::reading_from_json;
    use verity_zk::statement::SignedReading;

    fn parse_reading(v: &Value) -> SignedReading {
        reading_from_json(v, "reading").expect("reading")
    }

    #[test]
    fn keygen_register_root_sign_and_digest_agree_with_the_library() {
        let dir = std::env::temp_dir().join(format!("verity-device-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let paths: Vec<PathBuf> = (0..3).map(|i| dir.join(format!("d{i}.json"))).collect();
        for (i, p) in paths.iter().enumerate() {
            let _ = std::fs::remove_file(p);
            let out = keygen(p, Some(i as u64)).expect("keygen");
            assert_eq!(
                out["public"],
                point_json(&Device::from_seed(i as u64).public_key())
            );
        }
        assert!(keygen(&paths[0], Some(9)).is_err(), "refuses to overwrite");

        let root = register_root(&paths, 10).expect("root");
        let mut reg = Registry::new(10).expect("registry");
        for i in 0..3 {
            reg.register(Device::from_seed(i).public_key())
                .expect("register");
        }
        assert_eq!(root["root"], hex(reg.root()));
        assert_eq!(root["devices"][2]["index"], 2);

        let signed = sign(&paths[1], 42, 1_700_000_000).expect("sign");
        let reading = parse_reading(&signed);
        assert!(verify_reading(&reading), "the printed signature verifies");
        assert_eq!(reading, Device::from_seed(1).sign(42, 1_700_000_000));
        let tampered = SignedReading {
            value: 43,
            ..reading
        };
        assert!(!verify_reading(&tampered), "a changed value does not");

        let digest = query_digest(
            root["root"].as_str().expect("root"),
            "1700000000:1700003600",
            "0:1000",
        )
        .expect("digest");
        let query = Query::new(reg.root(), (1_700_000_000, 1_700_003_600), (0, 1000)).expect("q");
        assert_eq!(digest["inputDigest"], hex(query.digest()));
        assert!(query_digest("0x12", "1:2", "3:4").is_err(), "short root");
        assert!(
            query_digest(&hex(reg.root()), "5:1", "0:1").is_err(),
            "empty window"
        );
        std::fs::remove_dir_all(&dir).expect("cleanup");
    }
}
