//! One file per subcommand; shared argument groups live here.

mod account;
mod bench;
mod conn;
mod contracts;
mod coordinator;
mod device;
mod devnet;
mod dispute;
mod keys;
mod node;
mod preflight;
mod shutdown;
mod task;
mod task_logs;
mod tee;
mod watchtower;
mod zk;

use clap::{Args, Parser, Subcommand};

pub(crate) use devnet::die_with_parent;

/// Verity: verifiable compute for DePIN, settled on an EVM chain.
#[derive(Debug, Parser)]
#[command(name = "verity", version, about, long_about = None)]
pub(crate) struct Cli {
    #[command(flatten)]
    pub(crate) log: LogArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a local network: the embedded devchain with the contracts deployed.
    Devnet(devnet::DevnetArgs),
    /// Deploy the contracts to a chain.
    #[command(subcommand)]
    Contracts(contracts::ContractsCommand),
    /// The worker daemon.
    #[command(subcommand)]
    Node(node::NodeCommand),
    /// The coordinator daemon: indexer, assigner, API and dashboard.
    #[command(subcommand)]
    Coordinator(coordinator::CoordinatorCommand),
    /// Key files.
    #[command(subcommand)]
    Keys(keys::KeysCommand),
    /// Tasks: submit, follow, fetch results.
    #[command(subcommand)]
    Task(task::TaskCommand),
    /// Balances: token, market, stake and gas of an account.
    #[command(subcommand)]
    Account(account::AccountCommand),
    /// Optimistic disputes: list and show cases, and the arbiter's decision.
    #[command(subcommand)]
    Dispute(dispute::DisputeCommand),
    /// Measurements.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
    /// Re-execute a sample of submitted results and challenge wrong ones.
    #[command(subcommand)]
    Watchtower(watchtower::WatchtowerCommand),
    /// Sensor-device simulator for ZkProof tasks: keys, registry root, signed readings.
    #[command(subcommand)]
    Device(device::DeviceCommand),
    /// TEE attestation: verify SGX/TDX DCAP quotes.
    #[command(subcommand)]
    Tee(tee::TeeCommand),
    /// Zero-knowledge keys: the Groth16 phase-2 ceremony.
    #[command(subcommand)]
    Zk(zk::ZkCommand),
}

/// Logging flags shared by every subcommand. Logs go to stderr; stdout carries results only.
#[derive(Debug, Args)]
pub(crate) struct LogArgs {
    /// Log filter, e.g. `info`, `verity=debug`. Overrides RUST_LOG.
    #[arg(long, global = true, env = "VERITY_LOG", default_value = "info")]
    pub(crate) log: String,
}

/// `--json` output for scripts.
#[derive(Debug, Args, Clone, Copy)]
pub(crate) struct OutputArgs {
    /// Print machine-readable JSON on stdout instead of a human summary.
    #[arg(long)]
    pub(crate) json: bool,
}

pub(crate) fn init_tracing(args: &LogArgs) {
    let filter = tracing_subscriber::EnvFilter::try_new(&args.log)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}

pub(crate) async fn run(cli: Cli) -> eyre::Result<()> {
    match cli.command {
        Command::Devnet(args) => devnet::run(args).await,
        Command::Contracts(cmd) => contracts::run(cmd).await,
        Command::Bench(cmd) => bench::run(cmd).await,
        Command::Keys(cmd) => keys::run(cmd),
        Command::Node(cmd) => node::run(cmd).await,
        Command::Coordinator(cmd) => coordinator::run(cmd).await,
        Command::Task(cmd) => task::run(cmd).await,
        Command::Dispute(cmd) => dispute::run(cmd).await,
        Command::Account(cmd) => account::run(cmd).await,
        Command::Watchtower(cmd) => watchtower::run(cmd).await,
        Command::Device(cmd) => device::run(cmd),
        Command::Tee(cmd) => tee::run(cmd),
        Command::Zk(cmd) => zk::run(cmd),
    }
}
