//! `verity watchtower run`: re-execute a sample of submitted optimistic results and challenge
//! the wrong ones (see `verity_node::watchtower`).

use std::path::PathBuf;

use clap::{Args, Subcommand};
use tokio_util::sync::CancellationToken;
use verity_node::config::NodeConfig;

use super::shutdown::run_until_shutdown;

#[derive(Debug, Subcommand)]
pub(crate) enum WatchtowerCommand {
    /// Follow submitted results, re-execute a deterministic sample, challenge a wrong digest
    /// (posting a bond equal to the task's collateral) and drive the dispute to its end.
    ///
    /// Examples:
    ///   verity watchtower run --config node.toml --sample-rate 0.25
    ///   verity watchtower run --rpc-url http://127.0.0.1:8545 --deployment devnet.json \
    ///       --key keys/watchtower.key --gateway http://127.0.0.1:8080 --sample-rate 1
    Run(WatchtowerArgs),
}

/// The node's configuration file, plus flags (highest layer).
#[derive(Debug, Args)]
pub(crate) struct WatchtowerArgs {
    /// TOML configuration (see config/node.example.toml; `[watchtower]` holds the sampling).
    #[arg(long, env = "VERITY_NODE_CONFIG")]
    config: Option<PathBuf>,
    /// JSON-RPC endpoint.
    #[arg(long)]
    rpc_url: Option<String>,
    /// Deployment JSON.
    #[arg(long)]
    deployment: Option<PathBuf>,
    /// Key file of the account that posts bonds and receives winnings (`keys.operator`).
    #[arg(long)]
    key: Option<PathBuf>,
    /// Data directory (blob cache).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Gateway URL (repeatable; replaces the configured list).
    #[arg(long = "gateway")]
    gateways: Vec<String>,
    /// Fraction of submitted results to re-execute, 0.0-1.0.
    #[arg(long)]
    sample_rate: Option<f64>,
    /// Seed of the per-task sampling decision.
    #[arg(long)]
    seed: Option<u64>,
    /// Metrics listener (`host:port`; empty disables).
    #[arg(long)]
    metrics_listen: Option<String>,
    /// Devnets only (fault injection): challenge every result of this operator unchecked,
    /// as its second address would (`[watchtower] accomplice_of`).
    #[arg(long, value_name = "OPERATOR")]
    accomplice_of: Option<alloy::primitives::Address>,
}

impl WatchtowerArgs {
    fn load(self) -> eyre::Result<NodeConfig> {
        let mut cfg = NodeConfig::load(self.config.as_deref())?;
        if let Some(v) = self.rpc_url {
            cfg.chain.rpc_url = v;
        }
        if let Some(v) = self.deployment {
            cfg.chain.deployment = v;
        }
        if let Some(v) = self.key {
            cfg.keys.operator = v;
        }
        if let Some(v) = self.data_dir {
            cfg.store.data_dir = v;
        }
        if !self.gateways.is_empty() {
            cfg.store.gateways = self.gateways;
        }
        if let Some(v) = self.sample_rate {
            cfg.watchtower.sample_rate = v;
        }
        if let Some(v) = self.seed {
            cfg.watchtower.seed = Some(v);
        }
        if let Some(v) = self.accomplice_of {
            cfg.watchtower.accomplice_of = Some(v);
        }
        if let Some(v) = self.metrics_listen {
            cfg.metrics.listen = v;
        }
        cfg.validate()?;
        Ok(cfg)
    }
}

pub(crate) async fn run(cmd: WatchtowerCommand) -> eyre::Result<()> {
    match cmd {
        WatchtowerCommand::Run(args) => {
            let cfg = args.load()?;
            let cancel = CancellationToken::new();
            let tower = verity_node::watchtower::run(cfg, cancel.clone());
            run_until_shutdown("watchtower", cancel, tower).await
        }
    }
}
