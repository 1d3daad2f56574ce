//! `verity node run|status`: the worker daemon.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use tokio_util::sync::CancellationToken;
use verity_node::config::NodeConfig;

use super::{OutputArgs, shutdown::run_until_shutdown};

#[derive(Debug, Subcommand)]
pub(crate) enum NodeCommand {
    /// Run the worker daemon: register and stake if needed, then execute assigned tasks.
    ///
    /// Examples:
    ///   verity node run --config node.toml
    ///   VERITY_NODE_RPC_URL=http://127.0.0.1:8545 verity node run --deployment devnet.json
    Run(NodeArgs),
    /// Show the operator's on-chain record and market balance.
    Status(StatusArgs),
    /// Register the operator with the node key as its signer and stake up to `operator.stake`
    /// (what `node run` does at start), then exit.
    ///
    /// Example:
    ///   verity node register --config node.toml
    Register(StatusArgs),
    /// Add stake, in whole tokens (decimals allowed).
    ///
    /// Example:
    ///   verity node stake 250 --config node.toml
    Stake(AmountArgs),
    /// Start unbonding stake, in whole tokens; it can be withdrawn after the unbonding delay,
    /// and never while it is locked as collateral for open tasks.
    ///
    /// Example:
    ///   verity node unstake 100 --config node.toml
    Unstake(AmountArgs),
}

#[derive(Debug, Args)]
pub(crate) struct AmountArgs {
    /// Whole tokens, e.g. `250` or `0.5`.
    amount: String,
    #[command(flatten)]
    node: NodeArgs,
    #[command(flatten)]
    output: OutputArgs,
}

/// Config file plus the overrides flags may set (highest layer).
#[derive(Debug, Args)]
pub(crate) struct NodeArgs {
    /// TOML configuration (see config/node.example.toml).
    #[arg(long, env = "VERITY_NODE_CONFIG")]
    config: Option<PathBuf>,
    /// JSON-RPC endpoint.
    #[arg(long)]
    rpc_url: Option<String>,
    /// Deployment JSON.
    #[arg(long)]
    deployment: Option<PathBuf>,
    /// Data directory.
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Operator key file.
    #[arg(long)]
    operator_key: Option<PathBuf>,
    /// Node key file.
    #[arg(long)]
    node_key: Option<PathBuf>,
    /// Gateway URL (repeatable; replaces the configured list).
    #[arg(long = "gateway")]
    gateways: Vec<String>,
    /// Metrics listener (`host:port`; empty disables).
    #[arg(long)]
    metrics_listen: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct StatusArgs {
    #[command(flatten)]
    node: NodeArgs,
    #[command(flatten)]
    output: OutputArgs,
}

impl NodeArgs {
    fn load(self) -> eyre::Result<NodeConfig> {
        let mut cfg = NodeConfig::load(self.config.as_deref())?;
        if let Some(v) = self.rpc_url {
            cfg.chain.rpc_url = v;
        }
        if let Some(v) = self.deployment {
            cfg.chain.deployment = v;
        }
        if let Some(v) = self.data_dir {
            cfg.store.data_dir = v;
        }
        if let Some(v) = self.operator_key {
            cfg.keys.operator = v;
        }
        if let Some(v) = self.node_key {
            cfg.keys.node = v;
        }
        if !self.gateways.is_empty() {
            cfg.store.gateways = self.gateways;
        }
        if let Some(v) = self.metrics_listen {
            cfg.metrics.listen = v;
        }
        cfg.validate()?;
        Ok(cfg)
    }
}

pub(crate) async fn run(cmd: NodeCommand) -> eyre::Result<()> {
    match cmd {
        NodeCommand::Run(args) => {
            let cfg = args.load()?;
            let cancel = CancellationToken::new();
            let daemon = verity_node::daemon::run(cfg, cancel.clone());
            run_until_shutdown("node", cancel, daemon).await
        }
        NodeCommand::Register(args) => {
            let cfg = args.node.load()?;
            verity_node::daemon::register(&cfg).await?;
            print_status(&cfg, args.output.json).await
        }
        NodeCommand::Stake(args) => {
            let cfg = args.node.load()?;
            let amount = verity_sdk::parse_tokens(&args.amount)?;
            verity_node::daemon::stake(&cfg, amount).await?;
            print_status(&cfg, args.output.json).await
        }
        NodeCommand::Unstake(args) => {
            let cfg = args.node.load()?;
            let amount = verity_sdk::parse_tokens(&args.amount)?;
            verity_node::daemon::unstake(&cfg, amount).await?;
            print_status(&cfg, args.output.json).await
        }
        NodeCommand::Status(args) => {
            let cfg = args.node.load()?;
            print_status(&cfg, args.output.json).await
        }
    }
}

async fn print_status(cfg: &NodeConfig, json: bool) -> eyre::Result<()> {
    let status = verity_node::daemon::status(cfg).await?;
    if json {
        println!("{status}");
    } else {
        println!("{}", serde_json::to_string_pretty(&status)?);
    }
    Ok(())
}
