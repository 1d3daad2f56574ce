//! `verity devnet`: a whole Verity network on one machine. The embedded devchain with the
//! contracts deployed and dev accounts funded, a blob gateway, the coordinator and N worker
//! nodes as separate processes, then a sample workload through the SDK with a summary.

mod network;
mod procs;
mod profile;
mod programs;
mod report;
mod workload;
mod zk;

pub(crate) use procs::die_with_parent;

use std::{path::PathBuf, time::Duration};

use alloy::{
    network::EthereumWallet,
    primitives::{Address, U256},
    providers::ProviderBuilder,
};
use clap::Args;
use eyre::WrapErr;
use serde::Serialize;
use tokio_util::sync::CancellationToken;
use verity_devchain::{Devchain, DevchainConfig};
use verity_settlement::{DeployConfig, Deployment, Settlement, TxOptions, deploy};

use super::{OutputArgs, shutdown::Shutdown};

/// Seconds a governance change waits in the devnet's timelock (production deployments use
/// `verity contracts deploy --timelock-delay`, a day by default).
const DEVNET_TIMELOCK_DELAY: u64 = 60;

/// The examples of `verity devnet --help` (the subcommand's one-line description comes from
/// the command list, so the examples are added after the options).
const DEVNET_EXAMPLES: &str = "\
The devnet writes a profile ($VERITY_HOME/profiles/devnet.toml, else
~/.config/verity/profiles/devnet.toml) so that `verity task ...` reaches it with no flags.

Examples:
  verity devnet                         # chain, coordinator, 4 nodes, a sample workload; stays up
  verity devnet --once --tasks 40       # run the workload, print the summary, exit
  verity devnet --nodes 0               # only the chain with the contracts (http://127.0.0.1:8545)
  verity devnet --port 0 --json         # any free port; JSON summaries on stdout
  verity task list                      # in another shell, through the profile";

/// Start a local Verity network.
#[derive(Debug, Args)]
#[command(after_long_help = DEVNET_EXAMPLES)]
pub(crate) struct DevnetArgs {
    /// Address to serve JSON-RPC on (loopback by default).
    #[arg(long, default_value = "127.0.0.1", env = "VERITY_DEVNET_HOST")]
    host: String,
    /// Port to serve JSON-RPC on; 0 picks a free one.
    #[arg(long, default_value_t = 8545, env = "VERITY_DEVNET_PORT")]
    port: u16,
    /// Chain id.
    #[arg(long, default_value_t = 31337)]
    chain_id: u64,
    /// Dev accounts to derive from the dev mnemonic and fund.
    #[arg(long, default_value_t = 10)]
    accounts: u32,
    /// Mine a block every N milliseconds instead of one per transaction (default with nodes:
    /// 100; with `--nodes 0`: a block per transaction). Blocks within one wall-clock second share
    /// its timestamp, so chain time follows the wall clock.
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    block_time_ms: Option<u64>,
    /// Test tokens minted to every dev account.
    #[arg(long, default_value_t = 1_000_000)]
    tokens_per_account: u64,
    /// Deploy, print the summary and exit (for scripts and smoke tests).
    #[arg(long)]
    exit_after_deploy: bool,
    /// Worker nodes, each a separate `verity node run` process (0: only the chain).
    #[arg(long, default_value_t = 4)]
    nodes: u32,
    /// Sample tasks to submit once the network is up (0: none).
    #[arg(long, default_value_t = 16)]
    tasks: u32,
    /// Operators per replicated sample task.
    #[arg(long, default_value_t = 3)]
    replication: u8,
    /// Challenge window of the optimistic sample tasks, seconds.
    #[arg(long, default_value_t = 10)]
    challenge_window: u32,
    /// Seconds after submission by which a sample task must be assigned.
    #[arg(long, default_value_t = 30)]
    assign_within: u64,
    /// Seconds after the assignment deadline by which its operators must commit (replicated)
    /// or submit (optimistic); a silent operator holds a task up to here.
    #[arg(long, default_value_t = 60)]
    execute_within: u64,
    /// Seconds after the commit deadline by which replicated operators must reveal.
    #[arg(long, default_value_t = 30)]
    reveal_within: u64,
    /// Verification modes of the sample tasks, alternated in this order.
    #[arg(
        long,
        value_delimiter = ',',
        default_value = "optimistic,replicated,zk"
    )]
    modes: Vec<WorkloadMode>,
    /// Sample task submissions in flight at once (the bounties come from one deposit).
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Tasks each node runs at once.
    #[arg(long, default_value_t = 8)]
    node_concurrency: u32,
    /// Give up on unsettled sample tasks after this many seconds.
    #[arg(long, default_value_t = 300)]
    timeout_secs: u64,
    /// Add five faulty nodes (one posts wrong results, one copies others' commitments, one goes
    /// silent once assigned, one never votes when drawn into a dispute committee, and a
    /// self-challenger that posts wrong results and challenges them from a second address), a
    /// watchtower that re-executes optimistic results and challenges wrong ones, and that
    /// second address. The summary shows what each strategy earned against honest work.
    #[arg(long)]
    byzantine: bool,
    /// Fraction of optimistic results the watchtower re-executes (with --byzantine).
    #[arg(long, default_value_t = 1.0)]
    sample_rate: f64,
    /// Exit after the workload and its summary instead of staying up.
    #[arg(long)]
    once: bool,
    /// Directory for keys, configurations, databases and logs (default: a new temporary one).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Coordinator API and dashboard port (0: any free port).
    #[arg(long, default_value_t = 8700)]
    coordinator_port: u16,
    /// Blob gateway port (0: any free port).
    #[arg(long, default_value_t = 8080)]
    gateway_port: u16,
    /// How many times each child process (coordinator, node, watchtower) that dies is started
    /// again; 0 only reports deaths (stderr, and the summary's `restarts`).
    #[arg(long, default_value_t = 3)]
    max_restarts: u32,
    /// Name of the profile to write for this network (see `--profile` of `verity task`).
    #[arg(long, default_value = super::conn::DEFAULT_PROFILE)]
    profile: String,
    #[command(flatten)]
    output: OutputArgs,
}

/// A verification mode the sample workload can use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum WorkloadMode {
    Optimistic,
    Replicated,
    /// Groth16-proved sensor aggregation (N = 16) by the nodes that can prove.
    Zk,
}

impl WorkloadMode {
    fn name(self) -> &'static str {
        match self {
            Self::Optimistic => "optimistic",
            Self::Replicated => "replicated",
            Self::Zk => "zk",
        }
    }
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Summary {
    rpc_url: String,
    chain_id: u64,
    deployment: Deployment,
    accounts: Vec<AccountSummary>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct AccountSummary {
    address: Address,
    private_key: String,
    role: &'static str,
    tokens: U256,
}

/// The devnet's dispute windows: commit and reveal phases of a committee of 60 s each, the
/// arbiter's 120 s. Its nodes vote within seconds, so an honest committee never waits them out;
/// only an idle member does (the reveal phase opens once every member committed or the commit
/// window is over, and the tally waits for every reveal or the reveal window's end), and a
/// devnet should show that in minutes, not in the 10 + 10 + 10 minutes of the library's
/// defaults.
const DEVNET_DISPUTE_WINDOW_SECS: u32 = 60;
const DEVNET_ARBITER_WINDOW_SECS: u32 = 120;

/// `DeployConfig::devnet` with the devnet's short dispute windows.
fn devnet_deploy_config(owner: alloy::primitives::Address) -> DeployConfig {
    DeployConfig {
        dispute_window: DEVNET_DISPUTE_WINDOW_SECS,
        dispute_reveal_window: DEVNET_DISPUTE_WINDOW_SECS,
        arbiter_window: DEVNET_ARBITER_WINDOW_SECS,
        ..DeployConfig::devnet(owner)
    }
}

/// The devnet's block interval when it runs nodes.
const DEFAULT_BLOCK_TIME_MS: u64 = 100;

pub(crate) async fn run(args: DevnetArgs) -> eyre::Result<()> {
    let cfg = DevchainConfig {
        chain_id: args.chain_id,
        // The owner, a requester, one operator per node, five faulty ones, a watchtower, the
        // self-challenger's second address, and last the client account of the profile.
        accounts: args.accounts.max(args.nodes + 10),
        // A network gets a block every 100 ms: on a chain that mines only when a transaction
        // comes, an idle network's clock stands still, so challenge windows never close. Blocks
        // may share a timestamp (the EVM's clock counts seconds): otherwise every block would be
        // a second after its parent and a busy chain's clock would run ahead of the wall clock,
        // passing deadlines early.
        block_time: args
            .block_time_ms
            .or((args.nodes > 0 && !args.exit_after_deploy).then_some(DEFAULT_BLOCK_TIME_MS))
            .map(Duration::from_millis),
        allow_same_timestamp: true,
        ..DevchainConfig::default()
    };
    let chain = Devchain::new(cfg).wrap_err("starting the devchain")?;
    let listener = tokio::net::TcpListener::bind((args.host.as_str(), args.port))
        .await
        .wrap_err_with(|| format!("binding {}:{}", args.host, args.port))?;
    let url = format!("http://{}", listener.local_addr()?);
    let cancel = CancellationToken::new();
    let server = tokio::spawn(verity_devchain::serve(
        chain.clone(),
        listener,
        cancel.clone(),
    ));

    let keys: Vec<_> = chain.accounts().iter().map(|a| a.signer.clone()).collect();
    let mut wallet = EthereumWallet::from(keys[0].clone());
    for k in &keys[1..] {
        wallet.register_signer(k.clone());
    }
    let provider = ProviderBuilder::new()
        .wallet(wallet)
        .connect_http(url.parse()?);
    let owner = keys[0].address();
    let deployment = deploy(provider.clone(), &devnet_deploy_config(owner))
        .await
        .wrap_err("deploying the contracts")?;
    let mut s = Settlement::new(provider, deployment, TxOptions::default());
    // The one owner action the devnet needs, then governance goes behind the timelock.
    zk::register_verifier(&s, owner).await?;
    let deployment = verity_settlement::hand_to_timelock(&mut s, owner, DEVNET_TIMELOCK_DELAY)
        .await
        .wrap_err("handing governance to the timelock")?;
    let amount = U256::from(args.tokens_per_account) * U256::from(10u64).pow(U256::from(18u64));
    let mut accounts = Vec::new();
    for (i, k) in keys.iter().enumerate() {
        s.mint(owner, k.address(), amount)
            .await
            .wrap_err("funding dev accounts")?;
        accounts.push(AccountSummary {
            address: k.address(),
            private_key: format!("0x{}", alloy::hex::encode(k.to_bytes())),
            role: if i == 0 {
                "owner, treasury, coordinator"
            } else if i == keys.len() - 1 {
                "client (profile)"
            } else {
                "dev"
            },
            tokens: s.token_balance(k.address()).await?,
        });
    }
    let summary = Summary {
        rpc_url: url,
        chain_id: deployment.chain_id,
        deployment,
        accounts,
    };
    // Listening before the summary is printed: whoever reads it may signal at once.
    let shutdown = (args.nodes == 0 && !args.exit_after_deploy).then(Shutdown::listen);
    print_summary(&summary, args.output.json)?;

    if args.exit_after_deploy {
    } else if args.nodes == 0 {
        let path = profile::write(
            &args.profile,
            profile::Endpoints {
                rpc_url: &summary.rpc_url,
                deployment: summary.deployment,
                coordinator: None,
                gateway: None,
            },
            &keys[keys.len() - 1],
        )?;
        eprintln!(
            "profile {:?} written to {}: `verity task list` reaches this chain",
            args.profile,
            path.display()
        );
        tracing::info!(target: "devnet", "serving; Ctrl-C or SIGTERM stops");
        if let Some(shutdown) = shutdown {
            shutdown.wait().await;
        }
    } else {
        let net = network::Options {
            dir: args.dir.clone(),
            nodes: args.nodes,
            node_concurrency: args.node_concurrency,
            byzantine: args.byzantine,
            sample_rate: args.sample_rate,
            coordinator_port: args.coordinator_port,
            gateway_port: args.gateway_port,
            plan: workload::Plan {
                tasks: args.tasks,
                replication: args.replication,
                challenge_window: args.challenge_window,
                windows: (args.assign_within, args.execute_within, args.reveal_within),
                modes: {
                    let mut m: Vec<&'static str> = args.modes.iter().map(|m| m.name()).collect();
                    m.dedup();
                    m
                },
                concurrency: args.concurrency,
                timeout: Duration::from_secs(args.timeout_secs),
                progress: !args.output.json,
            },
            once: args.once,
            json: args.output.json,
            profile: args.profile.clone(),
            max_restarts: args.max_restarts,
        };
        let result = network::run(&net, &summary_json(&summary)?, &s, &keys).await;
        cancel.cancel();
        let _ = server.await;
        return result;
    }
    cancel.cancel();
    server
        .await
        .wrap_err("devchain task")?
        .wrap_err("devchain server")?;
    Ok(())
}

fn summary_json(s: &Summary) -> eyre::Result<String> {
    Ok(serde_json::to_string(s)?)
}

fn print_summary(s: &Summary, json: bool) -> eyre::Result<()> {
    if json {
        println!("{}", serde_json::to_string(s)?);
        return Ok(());
    }
    let d = &s.deployment;
    println!("Verity devnet");
    println!("  rpc        {}", s.rpc_url);
    println!("  chain id   {}", s.chain_id);
    println!("  token      {}  (TestToken, tVRT)", d.token);
    println!("  registry   {}", d.registry);
    println!("  market     {}", d.market);
    println!("  verifiers  {}", d.verifiers);
    println!("Dev accounts (well-known keys: never use them on a real chain)");
    for a in &s.accounts {
        let whole = a.tokens / U256::from(10u64).pow(U256::from(18u64));
        println!(
            "  {}  {}  {whole} tVRT  {}",
            a.address, a.private_key, a.role
        );
    }
    Ok(())
}
