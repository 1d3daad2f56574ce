//! `verity coordinator run`: the coordinator daemon (indexer, assigner, API, dashboard).

use std::path::PathBuf;

use clap::{Args, Subcommand};
use eyre::WrapErr;
use tokio_util::sync::CancellationToken;
use verity_coordinator::CoordinatorConfig;

use super::shutdown::run_until_shutdown;

#[derive(Debug, Subcommand)]
pub(crate) enum CoordinatorCommand {
    /// Run the coordinator: follow the chain into the database, assign open tasks (with a
    /// coordinator key), fail seats over, and serve the API, dashboard and /metrics.
    ///
    /// Layers: defaults < --config FILE < VERITY_COORDINATOR_* environment < flags.
    ///
    /// Examples:
    ///   verity coordinator run --config coordinator.toml
    ///   verity coordinator run --deployment devnet.json --coordinator-key keys/coord.key
    ///   VERITY_COORDINATOR_DATABASE_URL=postgres://verity@127.0.0.1/verity verity coordinator run
    Run(CoordinatorArgs),
}

/// Config file plus the overrides flags may set (highest layer).
#[derive(Debug, Args)]
pub(crate) struct CoordinatorArgs {
    /// TOML configuration (see config/coordinator.example.toml).
    #[arg(long, env = "VERITY_COORDINATOR_CONFIG")]
    config: Option<PathBuf>,
    /// Database URL (`sqlite://file.db` or `postgres://...`).
    #[arg(long)]
    database_url: Option<String>,
    /// JSON-RPC endpoint.
    #[arg(long)]
    rpc_url: Option<String>,
    /// Deployment JSON.
    #[arg(long)]
    deployment: Option<PathBuf>,
    /// Key file of the account that assigns (an allowed coordinator).
    #[arg(long)]
    coordinator_key: Option<PathBuf>,
    /// API listener, `host:port` (port 0 picks a free one).
    #[arg(long)]
    listen: Option<String>,
}

impl CoordinatorArgs {
    fn load(self) -> eyre::Result<CoordinatorConfig> {
        let mut cfg = match &self.config {
            Some(path) => CoordinatorConfig::load(path)?,
            None => CoordinatorConfig::default(),
        };
        cfg.apply_env(|k| std::env::var(k).ok());
        if let Some(v) = self.database_url {
            cfg.database.url = v;
        }
        if let Some(v) = self.rpc_url {
            cfg.chain.rpc_url = v;
        }
        if let Some(v) = self.deployment {
            cfg.chain.deployment = v.display().to_string();
        }
        if let Some(v) = self.coordinator_key {
            cfg.chain.coordinator_key = v.display().to_string();
        }
        if let Some(v) = self.listen {
            cfg.api.listen = v;
        }
        cfg.validate()?;
        Ok(cfg)
    }
}

pub(crate) async fn run(cmd: CoordinatorCommand) -> eyre::Result<()> {
    match cmd {
        CoordinatorCommand::Run(args) => {
            let cfg = args.load()?;
            let cancel = CancellationToken::new();
            let running = verity_coordinator::service::start(cfg, cancel.clone())
                .await
                .wrap_err("starting the coordinator")?;
            // The address on stderr for people and on stdout for scripts (port 0 picks one).
            tracing::info!(target: "coordinator", api = %running.api_addr, "listening");
            println!("{}", running.api_addr);
            run_until_shutdown("coordinator", cancel, running.wait()).await
        }
    }
}
