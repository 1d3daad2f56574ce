//! The devnet's ZkProof sample tasks: sensor readings signed by simulated devices (the zk
//! crate's device library), aggregated under a Groth16 proof at N = 16 that the market's
//! registered verifier checks.

use alloy::primitives::Address;
use eyre::WrapErr;
use verity_sdk::ZkTaskSpec;
use verity_settlement::Settlement;
use verity_zk::{
    Shape,
    device::Device,
    input::TaskInput,
    market::{deploy_verifier, devnet_verifying_key, verifier_id},
    registry::Registry,
    statement::Query,
};

/// The circuit size the devnet's sample tasks use (the committed N = 16 verifier).
pub(super) const SHAPE: Shape = Shape {
    slots: 16,
    depth: 10,
};

/// Devices in the simulated fleet.
const DEVICES: u64 = 5;

/// Deploys the committed N = 16 verifier with its adapter and registers it in the market, as
/// the owner would once per circuit.
pub(super) async fn register_verifier(s: &Settlement, owner: Address) -> eyre::Result<()> {
    let vk = devnet_verifying_key(SHAPE).ok_or_else(|| eyre::eyre!("no devnet key for N=16"))?;
    let program = alloy::primitives::B256::from(verity_store::Cid::of(vk).digest());
    let adapter = deploy_verifier(s.provider(), SHAPE, program)
        .await
        .wrap_err("deploying the N=16 verifier")?;
    s.set_verifier(owner, verifier_id(SHAPE), adapter)
        .await
        .wrap_err("registering the N=16 verifier")?;
    tracing::info!(target: "devnet", %adapter, "zk verifier registered (N=16)");
    Ok(())
}

/// The `seed`-th sample task: nine readings from the fleet, one out of range and one out of the
/// window (the proof shows they were left out of the aggregate).
pub(super) fn spec(seed: u64, assign_within: u64, prove_within: u64) -> eyre::Result<ZkTaskSpec> {
    let devices: Vec<Device> = (0..DEVICES).map(Device::from_seed).collect();
    let mut registry = Registry::new(SHAPE.depth)?;
    for d in &devices {
        registry.register(d.public_key())?;
    }
    let base = 20 + (seed % 50) as u32;
    let readings = (0..9u32)
        .map(|i| {
            let d = &devices[i as usize % devices.len()];
            match i {
                3 => d.sign(900, 1500),
                5 => d.sign(base, 3000),
                _ => d.sign(base + i, 1000 + 10 * i),
            }
        })
        .collect();
    let input = TaskInput {
        shape: SHAPE,
        query: Query::new(registry.root(), (1000, 2000), (0, 100))?,
        devices: devices.iter().map(Device::public_key).collect(),
        readings,
    };
    let mut spec = ZkTaskSpec::devnet(input)?;
    spec.assign_within = assign_within;
    spec.prove_within = prove_within;
    Ok(spec)
}
