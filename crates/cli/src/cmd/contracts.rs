//! `verity contracts deploy`: deploy the contract set to any EVM chain, and the Groth16
//! verifiers of the sensor-circuit keys given with `--zk-vk` (keys with public toxic waste,
//! such as the devnet's, are refused on any chain but 31337 before anything is deployed).

use alloy::{
    network::EthereumWallet,
    primitives::{Address, U256},
    providers::ProviderBuilder,
    signers::local::PrivateKeySigner,
};
use std::path::PathBuf;

use alloy::providers::Provider;
use clap::{Args, Subcommand};
use eyre::WrapErr;
use verity_settlement::{DeployConfig, deploy};

use super::OutputArgs;

#[derive(Debug, Subcommand)]
pub(crate) enum ContractsCommand {
    /// Deploy TestToken (unless --token), NodeRegistry, VerifierRegistry and TaskMarket.
    ///
    /// Example:
    ///   VERITY_PRIVATE_KEY=0x... verity contracts deploy --rpc-url http://127.0.0.1:8545 --json
    Deploy(DeployArgs),
}

#[derive(Debug, Args)]
pub(crate) struct DeployArgs {
    /// JSON-RPC endpoint of the chain.
    #[arg(long, env = "VERITY_RPC_URL", default_value = "http://127.0.0.1:8545")]
    rpc_url: String,
    /// Deployer and owner key (hex). Prefer the environment variable to the flag.
    #[arg(long, env = "VERITY_PRIVATE_KEY", hide_env_values = true)]
    private_key: String,
    /// Existing ERC20 to stake and pay in; omitted, a TestToken (devnets only) is deployed.
    #[arg(long)]
    token: Option<Address>,
    /// Treasury (defaults to the deployer).
    #[arg(long)]
    treasury: Option<Address>,
    /// Coordinators allowed to assign (defaults to the deployer).
    #[arg(long = "coordinator")]
    coordinators: Vec<Address>,
    /// Minimum stake in whole tokens (18 decimals).
    #[arg(long, default_value_t = 100)]
    min_stake: u64,
    /// Protocol fee, basis points (at most 1000).
    #[arg(long, default_value_t = 100)]
    protocol_fee_bps: u16,
    /// Scheduler fee, basis points (at most 1000).
    #[arg(long, default_value_t = 50)]
    scheduler_fee_bps: u16,
    /// Least seconds an operator gets between being seated and its commit or submit deadline
    /// (fixed for the deployment's lifetime; the default suits an L2 with 2-second blocks).
    #[arg(long, default_value_t = verity_settlement::PRODUCTION_MIN_RESPONSE_WINDOW)]
    min_response_window: u32,
    /// Least seconds between a replicated task's commit and reveal deadlines.
    #[arg(long, default_value_t = verity_settlement::PRODUCTION_MIN_REVEAL_WINDOW)]
    min_reveal_window: u32,
    /// Least audit rate of an optimistic task, basis points (fixed for the deployment's
    /// lifetime; the collateral floor of a task grows as 1/rate). 0 only on chain 31337.
    #[arg(long, default_value_t = verity_settlement::PRODUCTION_MIN_AUDIT_BPS)]
    min_audit_bps: u16,
    /// Verifying key files of sensor circuits whose verifiers to deploy and register
    /// (`sensor-n{N}-d{D}.vk`, as `verity zk ceremony finalize --keys-dir` writes them).
    /// Repeatable. Keys derived from the devnet seed are refused unless the chain id is 31337.
    #[arg(long = "zk-vk")]
    zk_vks: Vec<PathBuf>,
    /// The compiled verifier of each --zk-vk, in order (`contracts/out/<Name>.json` layout,
    /// compiled from `finalize --solidity` by the pinned solc); not needed for the devnet keys,
    /// whose verifiers are committed.
    #[arg(long = "zk-verifier-artifact")]
    zk_artifacts: Vec<PathBuf>,
    /// Seconds every governance change waits in the timelock that owns the contracts (the
    /// deploying key is its only proposer and executor).
    #[arg(long, default_value_t = 86_400)]
    timelock_delay: u64,
    #[command(flatten)]
    output: OutputArgs,
}

pub(crate) async fn run(cmd: ContractsCommand) -> eyre::Result<()> {
    let ContractsCommand::Deploy(args) = cmd;
    let signer: PrivateKeySigner = args
        .private_key
        .trim()
        .parse()
        .wrap_err("parsing the private key")?;
    let owner = signer.address();
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer))
        .connect_http(args.rpc_url.parse().wrap_err("parsing --rpc-url")?);
    let chain_id = provider
        .get_chain_id()
        .await
        .wrap_err("reading the chain id")?;
    let zk = zk_keys(&args, chain_id)?;
    let mut cfg = DeployConfig::devnet(owner);
    cfg.token = args.token;
    cfg.treasury = args.treasury.unwrap_or(owner);
    if !args.coordinators.is_empty() {
        cfg.coordinators = args.coordinators;
    }
    cfg.min_stake = U256::from(args.min_stake) * U256::from(10u64).pow(U256::from(18u64));
    cfg.protocol_fee_bps = args.protocol_fee_bps;
    cfg.scheduler_fee_bps = args.scheduler_fee_bps;
    cfg.min_response_window = args.min_response_window;
    cfg.min_reveal_window = args.min_reveal_window;
    cfg.min_audit_bps = args.min_audit_bps;
    let d = deploy(provider.clone(), &cfg).await.wrap_err("deploying")?;
    let mut s = verity_settlement::Settlement::new(provider.clone(), d, Default::default());
    for key in &zk {
        let adapter = match &key.artifact {
            None => verity_zk::market::deploy_verifier(&provider, key.shape, key.program).await,
            Some(artifact) => {
                verity_zk::market::deploy_verifier_artifact(&provider, artifact, key.program).await
            }
        }
        .wrap_err_with(|| format!("deploying the verifier of {}", key.path.display()))?;
        s.set_verifier(owner, verity_zk::market::verifier_id(key.shape), adapter)
            .await
            .wrap_err("registering the verifier")?;
        tracing::info!(target: "cli::contracts", slots = key.shape.slots, depth = key.shape.depth, %adapter, "zk verifier registered");
    }
    let d = verity_settlement::hand_to_timelock(&mut s, owner, args.timelock_delay)
        .await
        .wrap_err("handing governance to the timelock")?;
    if args.output.json {
        println!("{}", serde_json::to_string(&d)?);
    } else {
        println!("chain id   {}", d.chain_id);
        println!("token      {}", d.token);
        println!("registry   {}", d.registry);
        println!("market     {}", d.market);
        println!("verifiers  {}", d.verifiers);
        println!("timelock   {}", d.timelock);
        println!("from block {}", d.deployed_block);
    }
    Ok(())
}

/// A verifying key to deploy a verifier for.
struct ZkKey {
    path: PathBuf,
    shape: verity_zk::Shape,
    program: alloy::primitives::B256,
    /// The compiled verifier; `None` for the devnet keys (committed verifiers).
    artifact: Option<Vec<u8>>,
}

/// Loads and checks every `--zk-vk` before anything is deployed.
fn zk_keys(args: &DeployArgs, chain_id: u64) -> eyre::Result<Vec<ZkKey>> {
    use verity_zk::keys::{read_verifying_key, shape_of_file_name};
    if !args.zk_artifacts.is_empty() && args.zk_artifacts.len() != args.zk_vks.len() {
        eyre::bail!(
            "{} --zk-verifier-artifact for {} --zk-vk: give one per key, in order",
            args.zk_artifacts.len(),
            args.zk_vks.len()
        );
    }
    let mut out = Vec::new();
    for (i, path) in args.zk_vks.iter().enumerate() {
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        let shape = shape_of_file_name(name).ok_or_else(|| {
            eyre::eyre!(
                "{}: expected a file named sensor-n<N>-d<D>.vk",
                path.display()
            )
        })?;
        let vk = read_verifying_key(path).wrap_err_with(|| format!("{}", path.display()))?;
        verity_zk::origin::check_for_chain(shape, &vk, chain_id)
            .wrap_err_with(|| format!("{}", path.display()))?;
        let bytes = std::fs::read(path).wrap_err_with(|| format!("reading {}", path.display()))?;
        let program = alloy::primitives::B256::from(verity_store::Cid::of(&bytes).digest());
        let committed = verity_zk::market::devnet_verifying_key(shape) == Some(&bytes[..]);
        let artifact = match args.zk_artifacts.get(i) {
            Some(a) => Some(std::fs::read(a).wrap_err_with(|| format!("reading {}", a.display()))?),
            None if committed => None,
            None => eyre::bail!(
                "{}: not a devnet key, so its verifier must be compiled: pass --zk-verifier-artifact",
                path.display()
            ),
        };
        out.push(ZkKey {
            path: path.clone(),
            shape,
            program,
            artifact,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Wrap {
        #[command(flatten)]
        deploy: DeployArgs,
    }

    fn args(extra: &[&str]) -> DeployArgs {
        let mut argv = vec!["deploy", "--private-key", "0x01"];
        argv.extend_from_slice(extra);
        Wrap::try_parse_from(argv).expect("arguments").deploy
    }

    #[test]
    fn devnet_seed_verifying_keys_are_refused_off_chain_31337() {
        let dir = std::env::temp_dir().join(format!("verity-deploy-zk-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let shape = verity_zk::Shape {
            slots: 16,
            depth: 10,
        };
        let path = dir.join("sensor-n16-d10.vk");
        std::fs::write(
            &path,
            verity_zk::market::devnet_verifying_key(shape).expect("vk"),
        )
        .expect("write");
        let a = args(&["--zk-vk", path.to_str().expect("utf-8")]);
        for chain in [1u64, 8453] {
            let err = zk_keys(&a, chain).err().expect("refused");
            let policy = err
                .downcast_ref::<verity_zk::origin::KeyPolicyError>()
                .expect("a key-policy error");
            assert_eq!(policy.code(), "V-ZKK-001");
            assert!(matches!(
                policy,
                verity_zk::origin::KeyPolicyError::InsecureKey { chain_id, .. } if *chain_id == chain
            ));
        }
        let ok = zk_keys(&a, 31337).expect("accepted on the devnet");
        assert_eq!(ok.len(), 1);
        assert_eq!(ok[0].shape, shape);
        assert!(ok[0].artifact.is_none(), "the committed verifier serves it");
        // A file whose name says no shape is refused before anything is read.
        let bad = args(&["--zk-vk", dir.join("key.vk").to_str().expect("utf-8")]);
        assert!(zk_keys(&bad, 31337).is_err());
        std::fs::remove_dir_all(&dir).ok();
    }
}
