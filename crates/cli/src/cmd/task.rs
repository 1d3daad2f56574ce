//! `verity task submit|status|result|list`: the requester's side, through `verity-sdk`.

use std::{path::PathBuf, time::Duration};

use alloy::{
    network::EthereumWallet,
    primitives::{Address, U256},
    providers::ProviderBuilder,
    signers::local::PrivateKeySigner,
};
use clap::{Args, Subcommand, ValueEnum};
use eyre::{WrapErr, eyre};
use serde_json::json;
use verity_sdk::{Outcome, Requester, TaskSpec, WaitOptions, parse_tokens};
use verity_settlement::{Settlement, Status, TaskInfo, TxOptions};
use verity_store::GatewayClient;

use super::OutputArgs;

#[derive(Debug, Subcommand)]
pub(crate) enum TaskCommand {
    /// Upload a WASM program and its input, then open a task with an escrowed bounty.
    ///
    /// Examples:
    ///   verity task submit --program guests/out/sha256.wasm --input data.bin --mode optimistic
    ///   verity task submit --program p.wasm --input i.bin --mode replicated --replication 3 --bounty 25 --wait
    Submit(SubmitArgs),
    /// The task as the market records it.
    ///
    /// Example:
    ///   verity task status 7 --json
    Status(IdArgs),
    /// Fetch a finalized task's output by the CID of its on-chain digest, checked against it.
    ///
    /// Examples:
    ///   verity task result 7 > out.bin
    ///   verity task result 7 --out out.bin
    Result(ResultArgs),
    /// The newest tasks, newest first.
    ///
    /// Example:
    ///   verity task list --limit 20 --json
    List(ListArgs),
    /// Each seat's execution receipt: fuel used, wall and compile time, the failure's reason.
    ///
    /// Example:
    ///   verity task logs 7 --json
    Logs(super::task_logs::LogsArgs),
}

/// Where the chain, the contracts, the gateway and the requester's key are.
#[derive(Debug, Args)]
pub(crate) struct ConnArgs {
    /// JSON-RPC endpoint of the chain.
    #[arg(long, env = "VERITY_RPC_URL", default_value = "http://127.0.0.1:8545")]
    rpc_url: String,
    /// Deployment JSON (`verity contracts deploy --json`, or the `verity devnet --json` summary).
    #[arg(long, env = "VERITY_DEPLOYMENT", default_value = "deployment.json")]
    deployment: PathBuf,
    /// IPFS trustless gateway that stores programs, inputs and outputs.
    #[arg(long, env = "VERITY_GATEWAY", default_value = "http://127.0.0.1:8080")]
    gateway: String,
    /// Requester key (hex). Prefer the environment variable to the flag.
    #[arg(long, env = "VERITY_PRIVATE_KEY", hide_env_values = true)]
    private_key: Option<String>,
    /// Requester key file (`verity keys new`); used when no --private-key is given.
    #[arg(long, env = "VERITY_KEY_FILE")]
    key_file: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum ModeArg {
    Optimistic,
    Replicated,
}

#[derive(Debug, Args)]
pub(crate) struct SubmitArgs {
    #[command(flatten)]
    conn: ConnArgs,
    /// The WASM module to run.
    #[arg(long)]
    program: PathBuf,
    /// The input bytes given to the program (omitted: empty input).
    #[arg(long)]
    input: Option<PathBuf>,
    /// Verification mode.
    #[arg(long, value_enum, default_value = "optimistic")]
    mode: ModeArg,
    /// Operators for replicated mode (k of k, majority decides).
    #[arg(long, default_value_t = 3)]
    replication: u8,
    /// Bounty in whole tokens (decimals allowed, 18 places).
    #[arg(long, default_value = "10")]
    bounty: String,
    /// Collateral each operator locks, in whole tokens.
    #[arg(long, default_value = "5")]
    collateral: String,
    /// Optimistic challenge window, seconds.
    #[arg(long)]
    challenge_window: Option<u32>,
    /// Fuel limit of the execution.
    #[arg(long)]
    fuel: Option<u64>,
    /// Follow the task until it is finalized or refunded.
    #[arg(long)]
    wait: bool,
    /// Give up waiting after this many seconds.
    #[arg(long, default_value_t = 600)]
    timeout_secs: u64,
    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Debug, Args)]
pub(crate) struct IdArgs {
    #[command(flatten)]
    conn: ConnArgs,
    /// Task id.
    id: U256,
    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Debug, Args)]
pub(crate) struct ResultArgs {
    #[command(flatten)]
    conn: ConnArgs,
    /// Task id.
    id: U256,
    /// Write the output here instead of stdout.
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    #[command(flatten)]
    conn: ConnArgs,
    /// How many of the newest tasks (at most 1000).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..=1000))]
    limit: u64,
    #[command(flatten)]
    output: OutputArgs,
}

pub(crate) async fn run(cmd: TaskCommand) -> eyre::Result<()> {
    match cmd {
        TaskCommand::Submit(a) => submit(a).await,
        TaskCommand::Status(a) => status(a).await,
        TaskCommand::Result(a) => result(a).await,
        TaskCommand::List(a) => list(a).await,
        TaskCommand::Logs(a) => super::task_logs::run(a).await,
    }
}

fn requester(conn: &ConnArgs) -> eyre::Result<Requester> {
    let (settlement, account) = connect(conn)?;
    let gateway = GatewayClient::new(&conn.gateway).wrap_err("parsing --gateway")?;
    Ok(Requester::new(settlement, gateway, account))
}

/// The settlement client for `conn`'s chain, deployment and key, and the key's account.
pub(crate) fn connect(conn: &ConnArgs) -> eyre::Result<(Settlement, alloy::primitives::Address)> {
    let signer: PrivateKeySigner = match (&conn.private_key, &conn.key_file) {
        (Some(hex), _) => hex.trim().parse().wrap_err("parsing the private key")?,
        (None, Some(path)) => verity_config_files::keys::load(path)
            .wrap_err_with(|| format!("loading key {}", path.display()))?,
        (None, None) => {
            return Err(eyre!(
                "no requester key: pass --private-key (or VERITY_PRIVATE_KEY) or --key-file"
            ));
        }
    };
    let account = signer.address();
    let deployment = verity_config_files::deployment::load(&conn.deployment)?;
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(signer))
        .connect_http(conn.rpc_url.parse().wrap_err("parsing --rpc-url")?);
    Ok((
        Settlement::new(provider, deployment, TxOptions::default()),
        account,
    ))
}

fn read(path: &PathBuf) -> eyre::Result<Vec<u8>> {
    std::fs::read(path).wrap_err_with(|| format!("reading {}", path.display()))
}

async fn submit(a: SubmitArgs) -> eyre::Result<()> {
    let sdk = requester(&a.conn)?;
    let program = read(&a.program)?;
    let input = a.input.as_ref().map(read).transpose()?.unwrap_or_default();
    let mut spec = match a.mode {
        ModeArg::Optimistic => TaskSpec::optimistic(program, input),
        ModeArg::Replicated => TaskSpec::replicated(program, input, a.replication),
    }
    .bounty(parse_tokens(&a.bounty)?)
    .collateral(parse_tokens(&a.collateral)?);
    if let Some(w) = a.challenge_window {
        spec = spec.challenge_window(w);
    }
    if let Some(fuel) = a.fuel {
        let mut limits = spec.limits;
        limits.fuel = fuel;
        spec = spec.limits(limits);
    }
    let task = sdk.submit(&spec).await?;
    if !a.output.json {
        println!(
            "task {}  program {}  input {}",
            task.id, task.program, task.input
        );
    }
    if !a.wait {
        if a.output.json {
            println!(
                "{}",
                json!({"id": task.id.to_string(), "program": task.program.to_string(),
                       "input": task.input.to_string(), "tx": task.tx})
            );
        }
        return Ok(());
    }
    let opts = WaitOptions {
        poll: Duration::from_millis(500),
        timeout: Duration::from_secs(a.timeout_secs),
        settle_overdue: true,
    };
    let json_out = a.output.json;
    let outcome = sdk
        .wait(task.id, opts, |s| {
            tracing::info!(target: "task", id = %task.id, status = ?s, "status");
        })
        .await?;
    let (status, digest) = match outcome {
        Outcome::Finalized { result } => ("finalized", Some(result)),
        Outcome::Refunded => ("refunded", None),
    };
    if json_out {
        println!(
            "{}",
            json!({"id": task.id.to_string(), "program": task.program.to_string(),
                   "input": task.input.to_string(), "tx": task.tx, "status": status,
                   "resultDigest": digest})
        );
    } else {
        match digest {
            Some(d) => println!("{status}  result digest {d}"),
            None => println!("{status}"),
        }
    }
    Ok(())
}

fn status_name(s: Status) -> String {
    format!("{s:?}").to_lowercase()
}

fn info_json(id: U256, info: &TaskInfo, operators: Option<&[Address]>) -> serde_json::Value {
    json!({
        "id": id.to_string(),
        "status": status_name(info.status),
        "client": info.client,
        "mode": format!("{:?}", info.mode).to_lowercase(),
        "bounty": info.bounty.to_string(),
        "operators": operators,
        "programDigest": info.program_digest,
        "inputDigest": info.input_digest,
        "resultDigest": (info.result != alloy::primitives::B256::ZERO).then_some(info.result),
    })
}

async fn status(a: IdArgs) -> eyre::Result<()> {
    let sdk = requester(&a.conn)?;
    let info = sdk.task(a.id).await?;
    let operators = sdk
        .settlement()
        .operators_of(a.id)
        .await
        .wrap_err("reading the task's operators")?;
    if a.output.json {
        println!("{}", info_json(a.id, &info, Some(&operators)));
    } else {
        println!(
            "task {}  {}  {:?}  bounty {}  operators {:?}",
            a.id,
            status_name(info.status),
            info.mode,
            info.bounty,
            operators
        );
        if info.result != alloy::primitives::B256::ZERO {
            println!("result digest {}", info.result);
        }
    }
    Ok(())
}

async fn result(a: ResultArgs) -> eyre::Result<()> {
    let sdk = requester(&a.conn)?;
    let bytes = sdk.result(a.id).await?;
    match a.out {
        Some(path) => {
            std::fs::write(&path, &bytes).wrap_err_with(|| format!("writing {}", path.display()))?
        }
        None => {
            use std::io::Write;
            std::io::stdout()
                .write_all(&bytes)
                .wrap_err("writing stdout")?;
        }
    }
    Ok(())
}

async fn list(a: ListArgs) -> eyre::Result<()> {
    let sdk = requester(&a.conn)?;
    let count = sdk
        .settlement()
        .task_count()
        .await
        .wrap_err("reading the task count")?;
    let newest = u64::try_from(count).map_err(|_| eyre!("task count {count} out of range"))?;
    let mut rows = Vec::new();
    for id in (1..=newest).rev().take(a.limit as usize) {
        let id = U256::from(id);
        let info = sdk.task(id).await?;
        rows.push((id, info));
    }
    if a.output.json {
        let list: Vec<_> = rows.iter().map(|(id, i)| info_json(*id, i, None)).collect();
        println!("{}", serde_json::Value::Array(list));
    } else {
        for (id, i) in &rows {
            println!(
                "{id:>6}  {:<10}  {:<11}  bounty {}",
                status_name(i.status),
                format!("{:?}", i.mode).to_lowercase(),
                i.bounty
            );
        }
    }
    Ok(())
}
