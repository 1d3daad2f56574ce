//! Deterministic (devnet, INSECURE FOR PRODUCTION) setup for N = 16, depth 10: writes the
//! verifying key and its hash to crates/zk/keys/, the proving key to target/zk-keys/
//! (gitignored), and the Solidity verifier to contracts/src/zk/.

use std::path::PathBuf;

use verity_zk::Shape;
use verity_zk::keys::{DEVNET_SEED, setup_deterministic, sha256_hex};
use verity_zk::solidity::verifier_source;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let slots: usize = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(16);
    let shape = Shape { slots, depth: 10 };
    let keys = setup_deterministic(shape, DEVNET_SEED)?;
    let vk = keys.verifying_key_bytes()?;
    let pk = keys.proving_key_bytes()?;
    let stem = format!("sensor-n{slots}-d10");
    let vk_path = root.join(format!("crates/zk/keys/{stem}.vk"));
    std::fs::write(&vk_path, &vk)?;
    std::fs::write(vk_path.with_extension("vk.sha256"), sha256_hex(&vk) + "\n")?;
    let pk_dir = root.join("target/zk-keys");
    std::fs::create_dir_all(&pk_dir)?;
    std::fs::write(pk_dir.join(format!("{stem}.pk")), &pk)?;
    std::fs::write(
        pk_dir.join(format!("{stem}.pk.sha256")),
        sha256_hex(&pk) + "\n",
    )?;
    let name = format!("SensorGroth16VerifierN{slots}");
    std::fs::write(
        root.join(format!("contracts/src/zk/{name}.sol")),
        verifier_source(&name, &keys.vk),
    )?;
    println!(
        "vk sha256 {}\npk sha256 {}",
        sha256_hex(&vk),
        sha256_hex(&pk)
    );
    Ok(())
}
