//! `verity contracts deploy`: deploy the contract set to any EVM chain.

use alloy::{
    network::EthereumWallet,
    primitives::{Address, U256},
    providers::ProviderBuilder,
    signers::local::PrivateKeySigner,
};
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
    let d = deploy(provider.clone(), &cfg).await.wrap_err("deploying")?;
    let mut s = verity_settlement::Settlement::new(provider, d, Default::default());
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
