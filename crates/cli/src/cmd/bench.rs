//! `verity bench gas`: gas per call and per task lifecycle, measured on the embedded devchain
//! (or any node with the dev accounts unlocked by key).

use alloy::{
    network::EthereumWallet,
    primitives::{Address, B256, Bytes, U256, keccak256},
    providers::{Provider, ProviderBuilder},
    rpc::types::TransactionReceipt,
};
use clap::{Args, Subcommand};
use eyre::WrapErr;
use serde::Serialize;
use verity_devchain::DevchainConfig;
use verity_settlement::{
    DeployConfig, Mode, OperatorProfile, Settlement, Status, TaskRequest, TxOptions, commitment,
    deploy,
};

use super::OutputArgs;

#[derive(Debug, Subcommand)]
pub(crate) enum BenchCommand {
    /// Gas of every call in full task lifecycles: optimistic (1 operator), replicated 3 of 3,
    /// the timeout path, an optimistic task failed over with `reassign`, and 10 optimistic
    /// tasks assigned in one `assignBatch` as the coordinator does (with the cost per task). Each lifecycle runs three times: `first` pays one-time storage
    /// costs (first credit to an account), `steady` is the cost of every later task with the
    /// bounty pulled from the client's wallet, `deposited` the same with the bounty paid from a
    /// market balance the client deposited beforehand. The steady run adds the dispute path
    /// (challenge, committee draw, every member's commit and reveal, tally, settlement) for
    /// committees of 3, 5, 7 and 11.
    ///
    /// Example: verity bench gas --json
    Gas(GasArgs),
    /// Adversarial economics (issue 15): rational strategies against the real contracts on a
    /// fresh devchain; expected value per task against honest work, per bounty and cost share.
    ///
    /// Example: verity bench adversary --json
    Adversary(GasArgs),
}

#[derive(Debug, Args)]
pub(crate) struct GasArgs {
    #[command(flatten)]
    output: OutputArgs,
}

#[derive(Debug, Serialize)]
struct Lifecycle {
    name: &'static str,
    run: &'static str,
    calls: Vec<Call>,
    total: u64,
    /// Of `total`: the 21 000 base cost of each transaction.
    intrinsic: u64,
    /// Of `total`: calldata (16 gas per nonzero byte, 4 per zero byte).
    calldata: u64,
    /// For a batch: `total` divided by the tasks in it.
    #[serde(skip_serializing_if = "Option::is_none")]
    per_task: Option<u64>,
}

/// Tasks in the `assignBatch` measurement.
const BATCH: usize = 10;

/// One transaction's gas, and what of it its calldata cost.
#[derive(Debug, Serialize)]
struct Call {
    call: String,
    gas: u64,
    calldata: u64,
}

pub(crate) async fn run(cmd: BenchCommand) -> eyre::Result<()> {
    let args = match cmd {
        BenchCommand::Gas(args) => args,
        BenchCommand::Adversary(args) => {
            let report = verity_adversary::run(&verity_adversary::Grid::default()).await?;
            let out = if args.output.json {
                report.json_lines()?
            } else {
                report.table()
            };
            print!("{out}");
            return Ok(());
        }
    };
    let chain = verity_devchain::spawn(DevchainConfig {
        accounts: 22,
        ..DevchainConfig::default()
    })
    .await
    .wrap_err("starting the devchain")?;
    let keys: Vec<_> = chain
        .chain
        .accounts()
        .iter()
        .map(|a| a.signer.clone())
        .collect();
    let mut wallet = EthereumWallet::from(keys[0].clone());
    for k in &keys[1..] {
        wallet.register_signer(k.clone());
    }
    let provider = ProviderBuilder::new()
        .wallet(wallet)
        .connect_http(chain.url.parse()?);
    let a: Vec<Address> = keys.iter().map(|k| k.address()).collect();
    let owner = a[0];
    let deployment = deploy(provider.clone(), &DeployConfig::devnet(owner)).await?;
    let s = Settlement::new(provider, deployment, TxOptions::default());
    let (client, keeper, ops) = (a[1], a[2], &a[3..8]);
    // Staked operators beyond the five the lifecycles use: the dispute committees' pool.
    let pool = &a[3..22];
    let unit = U256::from(10u64).pow(U256::from(18u64));
    for who in a.iter().take(22) {
        s.mint(owner, *who, U256::from(1_000_000u64) * unit).await?;
        s.approve_market(*who, U256::MAX).await?;
        s.approve_registry(*who, U256::MAX).await?;
    }
    for (i, op) in pool.iter().enumerate() {
        let profile = OperatorProfile {
            signer: *op,
            hardware_hash: keccak256([i as u8]),
            metadata_cid: Bytes::from_static(&[1, 0x55, 0x12, 0x20]),
            region: 276,
            capabilities: 1,
        };
        s.register(*op, &profile).await?;
        s.stake(*op, U256::from(10_000u64) * unit).await?;
    }
    let mut out = Vec::new();
    for run in ["first", "steady", "deposited"] {
        if run == "deposited" {
            // From here on the client pays bounties from a market balance (no token transfer)
            // that never runs dry.
            s.deposit(client, U256::from(10_000u64) * unit).await?;
        } else if !s.market_balance(client).await?.is_zero() {
            // A refund from the previous run would pay the next bounty: take it out, so these
            // runs measure bounties pulled from the wallet.
            s.withdraw(client).await?;
        }
        out.push(optimistic(&s, client, owner, keeper, ops[0], run).await?);
        out.push(replicated(&s, client, owner, keeper, &ops[..3], run).await?);
        out.push(timeout(&s, client, owner, keeper, ops[3], run).await?);
        out.push(failover(&s, client, owner, keeper, &ops[..2], run).await?);
        out.push(batch(&s, client, owner, keeper, ops, run).await?);
        if run == "steady" {
            // Each dispute slashes (and jails) its operator: a fresh one per committee size.
            for (k, size) in [3u8, 5, 7, 11].into_iter().enumerate() {
                s.set_dispute_params(owner, size, 600, 600).await?;
                out.push(dispute(&s, client, owner, keeper, pool[5 + k], size, run).await?);
            }
        }
    }
    if args.output.json {
        println!("{}", serde_json::to_string(&out)?);
    } else {
        for l in &out {
            println!(
                "{} ({}): total {} gas (intrinsic {}, calldata {}, execution {})",
                l.name,
                l.run,
                l.total,
                l.intrinsic,
                l.calldata,
                l.total - l.intrinsic - l.calldata
            );
            if let Some(per_task) = l.per_task {
                println!("  {:<24} {:>9}", "per task", per_task);
            }
            for c in &l.calls {
                println!(
                    "  {:<24} {:>9}  (calldata {:>5})",
                    c.call, c.gas, c.calldata
                );
            }
        }
    }
    Ok(())
}

/// A receipt's gas and the calldata part of it (EIP-2028 prices; the devchain runs Cancun, so
/// there is no EIP-7623 floor).
async fn gas(s: &Settlement, r: &TransactionReceipt) -> eyre::Result<(u64, u64)> {
    let tx = s
        .provider()
        .get_transaction_by_hash(r.transaction_hash)
        .await?
        .ok_or_else(|| eyre::eyre!("transaction {} not found", r.transaction_hash))?;
    let calldata = alloy::consensus::Transaction::input(&tx)
        .iter()
        .map(|b| if *b == 0 { 4 } else { 16 })
        .sum();
    Ok((r.gas_used, calldata))
}

/// A task of the benchmarks: 100 tokens of bounty; optimistic tasks audited at the SDK's
/// default rate with the collateral floor, the others with 50 tokens of collateral.
async fn request(s: &Settlement, mode: Mode, replication: u8) -> eyre::Result<TaskRequest> {
    let now = s.chain_time().await?;
    let unit = U256::from(10u64).pow(U256::from(18u64));
    let bounty = U256::from(100u64) * unit;
    let optimistic = mode == Mode::Optimistic;
    let audit_bps = if optimistic {
        verity_sdk::DEFAULT_AUDIT_BPS
    } else {
        0
    };
    let collateral = match verity_settlement::collateral_floor(bounty, audit_bps) {
        Some(floor) if optimistic => floor,
        _ => U256::from(50u64) * unit,
    };
    Ok(TaskRequest {
        mode,
        replication,
        quorum: replication / 2 + 1,
        program_digest: keccak256("program"),
        input_digest: keccak256(now.to_be_bytes()),
        bounty,
        collateral,
        assign_deadline: now + 100,
        commit_deadline: now + 200,
        reveal_deadline: if mode == Mode::Replicated {
            now + 300
        } else {
            0
        },
        challenge_window: if optimistic { 60 } else { 0 },
        verifier_id: B256::ZERO,
        audit_bps,
    })
}

async fn advance(s: &Settlement, secs: u64) -> eyre::Result<()> {
    let target = s.chain_time().await? + secs;
    let _: serde_json::Value = s
        .provider()
        .raw_request("evm_setNextBlockTimestamp".into(), (target,))
        .await?;
    let _: serde_json::Value = s
        .provider()
        .raw_request("evm_mine".into(), serde_json::json!([]))
        .await?;
    Ok(())
}

async fn optimistic(
    s: &Settlement,
    client: Address,
    coordinator: Address,
    keeper: Address,
    op: Address,
    run: &'static str,
) -> eyre::Result<Lifecycle> {
    // The lifecycle of a task the audit coin clears; a task it audits goes to the court (the
    // dispute rows measure that path), so up to `AUDIT_RETRIES` tasks are tried for one cleared.
    const AUDIT_RETRIES: usize = 20;
    for _ in 0..AUDIT_RETRIES {
        let req = request(s, Mode::Optimistic, 1).await?;
        let (id, r) = s.create_task(client, &req).await?;
        let mut calls = vec![("createTask".to_string(), gas(s, &r).await?)];
        calls.push((
            "assign".into(),
            gas(s, &s.assign(coordinator, id, &[op]).await?).await?,
        ));
        calls.push((
            "submitResult".into(),
            gas(s, &s.submit_result(op, id, keccak256("out")).await?).await?,
        ));
        advance(s, 61).await?;
        let r = s.finalize(keeper, id).await?;
        if s.status(id).await? != Status::Finalized {
            // Audited: its case stays open in the court; this run's operator stays staked.
            continue;
        }
        calls.push(("finalize (audit coin read)".into(), gas(s, &r).await?));
        return Ok(finish("optimistic, 1 operator", run, calls));
    }
    eyre::bail!("{AUDIT_RETRIES} optimistic tasks in a row were audited at 20 %")
}

async fn replicated(
    s: &Settlement,
    client: Address,
    coordinator: Address,
    keeper: Address,
    ops: &[Address],
    run: &'static str,
) -> eyre::Result<Lifecycle> {
    let req = request(s, Mode::Replicated, 3).await?;
    let (id, r) = s.create_task(client, &req).await?;
    let mut calls = vec![("createTask".to_string(), gas(s, &r).await?)];
    calls.push((
        "assign".into(),
        gas(s, &s.assign(coordinator, id, ops).await?).await?,
    ));
    let d = s.deployment();
    for (i, op) in ops.iter().enumerate() {
        let c = commitment(
            d.chain_id,
            d.market,
            id,
            *op,
            keccak256("out"),
            B256::repeat_byte(i as u8 + 1),
        );
        calls.push((
            format!("commit #{}", i + 1),
            gas(s, &s.commit(*op, id, c).await?).await?,
        ));
    }
    for (i, op) in ops.iter().enumerate() {
        let r = s
            .reveal(*op, id, keccak256("out"), B256::repeat_byte(i as u8 + 1))
            .await?;
        calls.push((format!("reveal #{}", i + 1), gas(s, &r).await?));
    }
    calls.push((
        "finalize".into(),
        gas(s, &s.finalize(keeper, id).await?).await?,
    ));
    Ok(finish("replicated, 3 of 3", run, calls))
}

async fn timeout(
    s: &Settlement,
    client: Address,
    coordinator: Address,
    keeper: Address,
    op: Address,
    run: &'static str,
) -> eyre::Result<Lifecycle> {
    let req = request(s, Mode::Optimistic, 1).await?;
    let (id, r) = s.create_task(client, &req).await?;
    let mut calls = vec![("createTask".to_string(), gas(s, &r).await?)];
    calls.push((
        "assign".into(),
        gas(s, &s.assign(coordinator, id, &[op]).await?).await?,
    ));
    advance(s, 201).await?;
    calls.push((
        "claimTimeout".into(),
        gas(s, &s.claim_timeout(keeper, id).await?).await?,
    ));
    // The slashed operator is jailed; top it up so the next run can assign it again.
    advance(s, 3_601).await?;
    s.stake(
        op,
        U256::from(50u64) * U256::from(10u64).pow(U256::from(18u64)),
    )
    .await?;
    Ok(finish("timeout (no submission)", run, calls))
}

/// An optimistic task whose operator is replaced before it submits; the replacement submits
/// and is paid.
async fn failover(
    s: &Settlement,
    client: Address,
    coordinator: Address,
    keeper: Address,
    ops: &[Address],
    run: &'static str,
) -> eyre::Result<Lifecycle> {
    let req = request(s, Mode::Optimistic, 1).await?;
    let (id, r) = s.create_task(client, &req).await?;
    let mut calls = vec![("createTask".to_string(), gas(s, &r).await?)];
    calls.push((
        "assign".into(),
        gas(s, &s.assign(coordinator, id, &ops[..1]).await?).await?,
    ));
    calls.push((
        "reassign".into(),
        gas(s, &s.reassign(coordinator, id, 0, ops[1]).await?).await?,
    ));
    calls.push((
        "submitResult".into(),
        gas(s, &s.submit_result(ops[1], id, keccak256("out")).await?).await?,
    ));
    advance(s, 61).await?;
    calls.push((
        "finalize".into(),
        gas(s, &s.finalize(keeper, id).await?).await?,
    ));
    Ok(finish("optimistic, reassigned", run, calls))
}

/// The optimistic lifecycle as the coordinator runs it: `BATCH` tasks created one by one,
/// assigned in one `assignBatch` (operators round-robin), each result submitted by its operator
/// and each task finalized after the challenge window. `per_task` is the whole run's gas over
/// `BATCH`: what one task costs the network when its assignment shares a batch.
async fn batch(
    s: &Settlement,
    client: Address,
    coordinator: Address,
    keeper: Address,
    ops: &[Address],
    run: &'static str,
) -> eyre::Result<Lifecycle> {
    let req = request(s, Mode::Optimistic, 1).await?;
    let mut ids = Vec::with_capacity(BATCH);
    let mut calls = Vec::with_capacity(3 * BATCH + 1);
    for _ in 0..BATCH {
        let (id, r) = s.create_task(client, &req).await?;
        calls.push(("createTask".to_string(), gas(s, &r).await?));
        ids.push(id);
    }
    let operators: Vec<Vec<Address>> = (0..BATCH).map(|i| vec![ops[i % ops.len()]]).collect();
    let r = s.assign_batch(coordinator, &ids, &operators).await?;
    calls.push((format!("assignBatch ({BATCH} tasks)"), gas(s, &r).await?));
    for (id, op) in ids.iter().zip(&operators) {
        let r = s.submit_result(op[0], *id, keccak256("out")).await?;
        calls.push(("submitResult".to_string(), gas(s, &r).await?));
    }
    advance(s, 61).await?;
    for id in &ids {
        let r = s.finalize(keeper, *id).await?;
        let name = if s.status(*id).await? == Status::Finalized {
            "finalize"
        } else {
            "finalize (opened an audit)"
        };
        calls.push((name.to_string(), gas(s, &r).await?));
    }
    let mut l = finish("optimistic, assigned in a batch", run, calls);
    l.per_task = Some(l.total / BATCH as u64);
    Ok(l)
}

/// The dispute path of an optimistic task whose result is wrong: challenge, the committee draw
/// (each round a block after the last), every member's commit and reveal, the tally and the
/// market's settlement. Calls a member makes are summed over the committee.
async fn dispute(
    s: &Settlement,
    client: Address,
    coordinator: Address,
    challenger: Address,
    op: Address,
    size: u8,
    run: &'static str,
) -> eyre::Result<Lifecycle> {
    let req = request(s, Mode::Optimistic, 1).await?;
    let (id, _) = s.create_task(client, &req).await?;
    s.assign(coordinator, id, &[op]).await?;
    s.submit_result(op, id, keccak256("wrong")).await?;
    let mut calls = vec![(
        "challenge".to_string(),
        gas(s, &s.challenge(challenger, id).await?).await?,
    )];
    let mut draw = (0, 0);
    let mut rounds = 0u64;
    loop {
        advance(s, 1).await?;
        let g = gas(s, &s.draw_committee(challenger, id).await?).await?;
        draw = (draw.0 + g.0, draw.1 + g.1);
        rounds += 1;
        let c = s.case(id).await?;
        if c.phase != verity_settlement::CasePhase::Drawing {
            break;
        }
        eyre::ensure!(rounds < 8, "committee of task {id} not drawn in 8 rounds");
    }
    calls.push((format!("draw ({rounds} rounds)"), draw));
    let members = s.case(id).await?.committee;
    let right = keccak256("out");
    let (mut commits, mut reveals) = ((0, 0), (0, 0));
    for (i, m) in members.iter().enumerate() {
        let salt = keccak256([i as u8]);
        let g = gas(s, &s.commit_ballot(*m, id, right, salt).await?).await?;
        commits = (commits.0 + g.0, commits.1 + g.1);
    }
    for (i, m) in members.iter().enumerate() {
        let salt = keccak256([i as u8]);
        let g = gas(s, &s.reveal_ballot(*m, id, right, salt).await?).await?;
        reveals = (reveals.0 + g.0, reveals.1 + g.1);
    }
    calls.push((format!("commit x{}", members.len()), commits));
    calls.push((format!("reveal x{}", members.len()), reveals));
    calls.push((
        "tally".into(),
        gas(s, &s.tally(challenger, id).await?).await?,
    ));
    calls.push((
        "resolveDispute".into(),
        gas(s, &s.resolve_dispute(challenger, id).await?).await?,
    ));
    let name: &'static str = match size {
        3 => "dispute, committee of 3",
        5 => "dispute, committee of 5",
        7 => "dispute, committee of 7",
        _ => "dispute, committee of 11",
    };
    let mut l = finish(name, run, calls);
    // Each member's commit and reveal is a transaction of its own, as is each draw round.
    l.intrinsic = 21_000 * (3 + rounds + 2 * members.len() as u64);
    Ok(l)
}

fn finish(name: &'static str, run: &'static str, calls: Vec<(String, (u64, u64))>) -> Lifecycle {
    let calls: Vec<Call> = calls
        .into_iter()
        .map(|(call, (gas, calldata))| Call {
            call,
            gas,
            calldata,
        })
        .collect();
    Lifecycle {
        name,
        run,
        total: calls.iter().map(|c| c.gas).sum(),
        intrinsic: 21_000 * calls.len() as u64,
        calldata: calls.iter().map(|c| c.calldata).sum(),
        calls,
        per_task: None,
    }
}
