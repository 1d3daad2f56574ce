//! `verity task submit|estimate|status|result|list|cancel`: the requester's side, through
//! `verity-sdk`. Where the network is comes from [`ConnArgs`] (flags, environment, profile).

use std::{path::PathBuf, time::Duration};

use alloy::primitives::{Address, B256, U256};
use clap::{Args, Subcommand, ValueEnum};
use eyre::{WrapErr, bail, eyre};
use serde_json::json;
use verity_sdk::{Outcome, Requester, TaskSpec, WaitOptions, parse_tokens};
use verity_settlement::{Status, TaskInfo};

use super::{
    OutputArgs,
    conn::{ConnArgs, Token},
    preflight,
};

#[derive(Debug, Subcommand)]
pub(crate) enum TaskCommand {
    /// Upload a WASM program and its input, then open a task with an escrowed bounty.
    ///
    /// Before anything is sent, the program is checked (real WebAssembly, only the guest ABI's
    /// imports, within the executor's size and complexity limits), the RPC must serve the
    /// deployment's chain, some live nodes must be able to take the task (asked of the
    /// coordinator), and the account must hold the bounty.
    ///
    /// Examples:
    ///   verity task submit --program guests/out/sha256.wasm --input data.bin --mode optimistic
    ///   verity task submit --program p.wasm --input i.bin --mode replicated --replication 3 --bounty 25 --wait
    ///   verity task submit --profile sepolia --program p.wasm --json
    #[command(verbatim_doc_comment)]
    Submit(SubmitArgs),
    /// An all-in price quote for a task: bounty, the market's fees, and gas at the current gas
    /// price. Nothing is sent.
    ///
    /// Examples:
    ///   verity task estimate --program p.wasm --input i.bin --bounty 25
    ///   verity task estimate --program p.wasm --mode replicated --json
    #[command(verbatim_doc_comment)]
    Estimate(SubmitArgs),
    /// The task as the market records it. Needs no key.
    ///
    /// Examples:
    ///   verity task status 7
    ///   verity task status 7 --json
    #[command(verbatim_doc_comment)]
    Status(IdArgs),
    /// Fetch a finalized task's output by the CID of its on-chain digest, checked against it.
    /// Needs no key.
    ///
    /// Examples:
    ///   verity task result 7 > out.bin
    ///   verity task result 7 --out out.bin
    #[command(verbatim_doc_comment)]
    Result(ResultArgs),
    /// The newest tasks, newest first. Needs no key.
    ///
    /// Examples:
    ///   verity task list
    ///   verity task list --limit 20 --json
    #[command(verbatim_doc_comment)]
    List(ListArgs),
    /// Take back the bounty of your task while nobody is assigned to it yet.
    ///
    /// Examples:
    ///   verity task cancel 7
    ///   verity task cancel 7 --json
    #[command(verbatim_doc_comment)]
    Cancel(IdArgs),
    /// Each seat's execution receipt: fuel used, wall and compile time, the failure's reason.
    /// Needs no key.
    ///
    /// Examples:
    ///   verity task logs 7
    ///   verity task logs 7 --json
    #[command(verbatim_doc_comment)]
    Logs(super::task_logs::LogsArgs),
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
    /// Collateral each operator locks, in whole tokens. Default: the least the market accepts
    /// (optimistic: the floor for the bounty and audit rate, 4.1 x the bounty at 20 %;
    /// replicated: 5 tokens).
    #[arg(long)]
    collateral: Option<String>,
    /// Optimistic: the chance, in basis points, that the result is audited by a committee
    /// drawn after it is posted (the collateral floor grows as 1/rate).
    #[arg(long, default_value_t = verity_sdk::DEFAULT_AUDIT_BPS)]
    audit_bps: u16,
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
        TaskCommand::Estimate(a) => estimate(a).await,
        TaskCommand::Status(a) => status(a).await,
        TaskCommand::Result(a) => result(a).await,
        TaskCommand::List(a) => list(a).await,
        TaskCommand::Cancel(a) => cancel(a).await,
        TaskCommand::Logs(a) => super::task_logs::run(a).await,
    }
}

fn read(path: &PathBuf) -> eyre::Result<Vec<u8>> {
    std::fs::read(path).wrap_err_with(|| format!("reading {}", path.display()))
}

/// The spec `a` describes (not yet checked against the network).
fn spec_of(a: &SubmitArgs) -> eyre::Result<TaskSpec> {
    let program = read(&a.program)?;
    let input = a.input.as_ref().map(read).transpose()?.unwrap_or_default();
    let mut spec = match a.mode {
        ModeArg::Optimistic => TaskSpec::optimistic(program, input),
        ModeArg::Replicated => TaskSpec::replicated(program, input, a.replication),
    }
    .bounty(parse_tokens(&a.bounty).wrap_err("--bounty")?);
    if matches!(a.mode, ModeArg::Optimistic) {
        spec = spec.audit_bps(a.audit_bps);
    }
    if let Some(c) = &a.collateral {
        spec = spec.collateral(parse_tokens(c).wrap_err("--collateral")?);
    }
    if let Some(w) = a.challenge_window {
        spec = spec.challenge_window(w);
    }
    if let Some(fuel) = a.fuel {
        let mut limits = spec.limits;
        limits.fuel = fuel;
        spec = spec.limits(limits);
    }
    spec.validate().wrap_err("task spec")?;
    Ok(spec)
}

async fn submit(a: SubmitArgs) -> eyre::Result<()> {
    let net = a.conn.resolve()?;
    let spec = spec_of(&a)?;
    // Everything that can refuse the task runs before the first upload or transaction.
    preflight::program(&spec.program, &spec.limits)?;
    let (settlement, account) = net.sender().await?;
    let token = Token::of(&settlement).await?;
    let sdk = Requester::new(settlement, net.gateway()?, account);
    // Funds first: a bounty the account cannot pay is the client's own fact, whatever the
    // network looks like (and the floor collateral of a huge bounty is infeasible anyway).
    sdk.check_funds(spec.bounty)
        .await
        .map_err(|e| preflight::funds_error(e, &token))?;
    preflight::feasible(net.coordinator.as_deref(), &spec).await?;
    // The SDK checks the funds again before it uploads or approves anything.
    let task = sdk
        .submit(&spec)
        .await
        .map_err(|e| preflight::funds_error(e, &token))?;
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
    let outcome = sdk
        .wait(task.id, opts, |s| {
            tracing::info!(target: "task", id = %task.id, status = %status_name(s), "status");
        })
        .await?;
    let (status, digest) = match outcome {
        Outcome::Finalized { result } => (status_name(Status::Finalized), Some(result)),
        Outcome::Refunded => (status_name(Status::Refunded), None),
    };
    if a.output.json {
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

async fn estimate(a: SubmitArgs) -> eyre::Result<()> {
    let net = a.conn.resolve()?;
    let spec = spec_of(&a)?;
    preflight::program(&spec.program, &spec.limits)?;
    net.check_chain().await?;
    let s = net.reader()?;
    let token = Token::of(&s).await?;
    let from = net.account();
    let q = preflight::quote(&s, from, &spec).await?;
    if a.output.json {
        println!("{}", serde_json::to_string(&q.to_json(&token))?);
        return Ok(());
    }
    println!("bounty          {}", token.show(spec.bounty));
    println!(
        "  protocol fee  {} ({} bps, taken from the bounty)",
        token.show(q.protocol_fee),
        q.protocol_fee_bps
    );
    println!(
        "  scheduler fee {} ({} bps, taken from the bounty)",
        token.show(q.scheduler_fee),
        q.scheduler_fee_bps
    );
    println!(
        "  to operators  {}",
        token.show(spec.bounty - q.protocol_fee - q.scheduler_fee)
    );
    println!(
        "gas price       {} gwei",
        super::conn::units(q.gas_price, 9)
    );
    for line in &q.gas {
        match line.gas {
            Some(g) => println!(
                "  {:<13} {g} gas = {} ETH",
                line.call,
                super::conn::units(U256::from(g) * q.gas_price, 18)
            ),
            None => println!("  {:<13} not estimated: {}", line.call, line.note),
        }
    }
    println!(
        "total           {} + {} ETH gas{}",
        token.show(spec.bounty),
        super::conn::units(q.gas_cost(), 18),
        if q.gas.iter().any(|l| l.gas.is_none()) {
            " (lines not estimated are left out)"
        } else {
            ""
        }
    );
    Ok(())
}

/// The one spelling of a status, in `task status`, `task list` and `--json`.
fn status_name(s: Status) -> String {
    s.to_string().to_lowercase()
}

fn mode_name(m: verity_settlement::Mode) -> String {
    m.to_string().to_lowercase()
}

fn info_json(id: U256, info: &TaskInfo, operators: Option<&[Address]>) -> serde_json::Value {
    json!({
        "id": id.to_string(),
        "status": status_name(info.status),
        "client": info.client,
        "mode": mode_name(info.mode),
        "bounty": info.bounty.to_string(),
        "collateral": info.collateral.to_string(),
        "operators": operators,
        "programDigest": info.program_digest,
        "inputDigest": info.input_digest,
        "resultDigest": (info.result != B256::ZERO).then_some(info.result),
    })
}

async fn task_info(s: &verity_settlement::Settlement, id: U256) -> eyre::Result<TaskInfo> {
    let info = s
        .task(id)
        .await
        .wrap_err_with(|| format!("chain: reading task {id}"))?;
    if info.status == Status::None {
        bail!("chain: no task {id} in this market");
    }
    Ok(info)
}

async fn status(a: IdArgs) -> eyre::Result<()> {
    let net = a.conn.resolve()?;
    let s = net.reader()?;
    let info = task_info(&s, a.id).await?;
    let operators = s
        .operators_of(a.id)
        .await
        .wrap_err("chain: reading the task's operators")?;
    if a.output.json {
        println!("{}", info_json(a.id, &info, Some(&operators)));
        return Ok(());
    }
    let token = Token::of(&s).await?;
    println!(
        "task {}  {}  {}  bounty {}  collateral {}",
        a.id,
        status_name(info.status),
        mode_name(info.mode),
        token.show(info.bounty),
        token.show(info.collateral),
    );
    if !operators.is_empty() {
        let ops: Vec<String> = operators.iter().map(|o| o.to_string()).collect();
        println!("operators {}", ops.join(", "));
    }
    if info.result != B256::ZERO {
        println!("result digest {}", info.result);
    }
    Ok(())
}

async fn result(a: ResultArgs) -> eyre::Result<()> {
    let net = a.conn.resolve()?;
    let sdk = Requester::new(net.reader()?, net.gateway()?, Address::ZERO);
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
    let net = a.conn.resolve()?;
    let s = net.reader()?;
    let count = s
        .task_count()
        .await
        .wrap_err("chain: reading the task count")?;
    let newest = u64::try_from(count).map_err(|_| eyre!("task count {count} out of range"))?;
    let mut rows = Vec::new();
    for id in (1..=newest).rev().take(a.limit as usize) {
        let id = U256::from(id);
        rows.push((id, task_info(&s, id).await?));
    }
    if a.output.json {
        let list: Vec<_> = rows.iter().map(|(id, i)| info_json(*id, i, None)).collect();
        println!("{}", serde_json::Value::Array(list));
        return Ok(());
    }
    if rows.is_empty() {
        println!("no tasks yet");
        return Ok(());
    }
    let token = Token::of(&s).await?;
    for (id, i) in &rows {
        println!(
            "{id:>6}  {:<10}  {:<11}  bounty {}",
            status_name(i.status),
            mode_name(i.mode),
            token.show(i.bounty)
        );
    }
    Ok(())
}

async fn cancel(a: IdArgs) -> eyre::Result<()> {
    let net = a.conn.resolve()?;
    let (s, me) = net.sender().await?;
    let info = task_info(&s, a.id).await?;
    if info.client != me {
        bail!(
            "task {} belongs to {}, not to {me}: only its client may cancel it",
            a.id,
            info.client
        );
    }
    if info.status != Status::Open {
        bail!(
            "task {} is {}: only a task nobody is assigned to yet (open) can be cancelled",
            a.id,
            status_name(info.status)
        );
    }
    let receipt = s
        .cancel(me, a.id)
        .await
        .wrap_err_with(|| format!("chain: cancelling task {}", a.id))?;
    let after = task_info(&s, a.id).await?;
    if a.output.json {
        println!(
            "{}",
            json!({"id": a.id.to_string(), "status": status_name(after.status),
                   "refunded": info.bounty.to_string(), "tx": receipt.transaction_hash})
        );
    } else {
        let token = Token::of(&s).await?;
        println!(
            "task {}  {}  {} back to your market balance (`verity account balance`)",
            a.id,
            status_name(after.status),
            token.show(info.bounty)
        );
    }
    Ok(())
}
