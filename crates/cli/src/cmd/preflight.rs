//! What `verity task submit` checks before it sends anything, and the price quote of
//! `verity task estimate`. Each check refuses with the reason and the subsystem that gave it;
//! none of them sends a transaction or uploads a blob.

use alloy::{
    primitives::{Address, U256},
    providers::Provider,
    rpc::types::TransactionRequest,
};
use eyre::{WrapErr, bail, eyre};
use serde_json::json;
use verity_executor::{Executor, ExecutorConfig};
use verity_sdk::{ExecLimits, TaskSpec};
use verity_settlement::{Mode, Settlement};

use super::conn::Token;

/// The program must load in the executor every node runs: real WebAssembly, only the guest
/// ABI's imports and the exports it needs, within the size and complexity budget. The check is
/// the executor's own (`Executor::prepare` compiles the module after its budget check), so the
/// rules live in one place. The task's limits must be within what a node grants.
pub(crate) fn program(module: &[u8], limits: &ExecLimits) -> eyre::Result<()> {
    // Nodes run the executor's default configuration (`verity-node` builds it so).
    let config = ExecutorConfig::default();
    let grants = [
        ("fuel", limits.fuel, config.max_task_fuel),
        (
            "memory (bytes)",
            limits.max_memory_bytes,
            config.max_task_memory_bytes,
        ),
        (
            "output (bytes)",
            limits.max_output_bytes,
            config.max_task_output_bytes,
        ),
        (
            "table elements",
            limits.max_table_elements,
            config.max_task_table_elements,
        ),
    ];
    for (what, asked, max) in grants {
        if asked > max {
            bail!(
                "task limits: {what} {asked} is above the {max} every node grants; \
                 no node could run it, so nothing was sent"
            );
        }
    }
    let executor = Executor::new(config).wrap_err("executor: starting the checker")?;
    executor
        .prepare(module)
        .map_err(|e| eyre!("program: not a module the nodes would run: {e}; nothing was sent"))?;
    Ok(())
}

/// A node as the coordinator lists it (`GET /v1/nodes`).
#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListedNode {
    status: String,
    capabilities: String,
    stake: String,
    locked: String,
}

/// Capability bit 0: runs WASM.
const CAP_WASM: u64 = 1;

/// Asks the coordinator (if the network names one) whether enough live nodes can take the
/// task: enough distinct live operators that run WASM and have the collateral free.
pub(crate) async fn feasible(coordinator: Option<&str>, spec: &TaskSpec) -> eyre::Result<()> {
    let Some(base) = coordinator else {
        tracing::info!(target: "task", "no coordinator configured: the live-node check is skipped");
        return Ok(());
    };
    let nodes = live_nodes(base).await?;
    let collateral = spec.collateral_wei()?;
    let seats = match spec.mode {
        Mode::Replicated => usize::from(spec.replication),
        Mode::Optimistic | Mode::ZkProof => 1,
    };
    // Late nodes missed a heartbeat or two but are still assignable.
    let live: Vec<&ListedNode> = nodes
        .iter()
        .filter(|n| n.status == "live" || n.status == "late")
        .collect();
    let wasm: Vec<&&ListedNode> = live
        .iter()
        .filter(|n| capabilities(n).is_some_and(|c| c & CAP_WASM != 0))
        .collect();
    let able = wasm
        .iter()
        .filter(|n| free_stake(n).is_some_and(|f| f >= collateral))
        .count();
    if able < seats {
        bail!(
            "coordinator: the task needs {seats} operator(s) but only {able} live node(s) can \
             take it ({} listed, {} live, {} run WASM, {able} with {} wei of stake free for \
             the collateral); nothing was sent",
            nodes.len(),
            live.len(),
            wasm.len(),
            collateral
        );
    }
    Ok(())
}

fn capabilities(n: &ListedNode) -> Option<u64> {
    u64::from_str_radix(n.capabilities.trim_start_matches("0x"), 16).ok()
}

fn free_stake(n: &ListedNode) -> Option<U256> {
    let stake: U256 = n.stake.parse().ok()?;
    let locked: U256 = n.locked.parse().ok()?;
    Some(stake.saturating_sub(locked))
}

/// Every node the coordinator lists, page by page.
async fn live_nodes(base: &str) -> eyre::Result<Vec<ListedNode>> {
    #[derive(serde::Deserialize)]
    struct Page {
        items: Vec<ListedNode>,
        next: Option<String>,
    }
    let client = reqwest::Client::new();
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    // A registry of 100,000 nodes is a thousand pages; stop there rather than loop forever.
    for _ in 0..1000 {
        let mut url = format!("{}/v1/nodes?limit=100", base.trim_end_matches('/'));
        if let Some(a) = &after {
            url.push_str(&format!("&after={a}"));
        }
        let response = client
            .get(&url)
            .send()
            .await
            .wrap_err_with(|| format!("coordinator: asking {url} which nodes are live"))?;
        if !response.status().is_success() {
            bail!("coordinator: {url} answered {}", response.status());
        }
        let page: Page = response
            .json()
            .await
            .wrap_err_with(|| format!("coordinator: reading {url}"))?;
        out.extend(page.items);
        match page.next {
            Some(n) => after = Some(n),
            None => return Ok(out),
        }
    }
    bail!("coordinator: more than 1000 pages of nodes")
}

/// The SDK's refusal of a bounty the account cannot pay, in tokens.
pub(crate) fn funds_error(e: verity_sdk::SdkError, token: &Token) -> eyre::Report {
    match e {
        verity_sdk::SdkError::InsufficientFunds {
            bounty,
            wallet,
            in_market,
        } => eyre!(
            "funds: the bounty is {} but the account holds {} (and {} in the market); \
             nothing was sent",
            token.show(bounty),
            token.show(wallet),
            token.show(in_market)
        ),
        other => eyre::Report::new(other),
    }
}

/// One transaction of a submission and its gas.
#[derive(Debug)]
pub(crate) struct GasLine {
    pub(crate) call: &'static str,
    pub(crate) gas: Option<u64>,
    pub(crate) note: String,
}

/// What a task costs: the bounty (fees come out of it) and the gas of the transactions.
#[derive(Debug)]
pub(crate) struct Quote {
    pub(crate) bounty: U256,
    pub(crate) protocol_fee_bps: u16,
    pub(crate) scheduler_fee_bps: u16,
    pub(crate) protocol_fee: U256,
    pub(crate) scheduler_fee: U256,
    pub(crate) gas_price: U256,
    pub(crate) gas: Vec<GasLine>,
}

impl Quote {
    /// Wei of gas for the lines that could be estimated.
    pub(crate) fn gas_cost(&self) -> U256 {
        self.gas
            .iter()
            .filter_map(|l| l.gas)
            .map(|g| U256::from(g) * self.gas_price)
            .sum()
    }

    pub(crate) fn to_json(&self, token: &Token) -> serde_json::Value {
        json!({
            "token": token.symbol,
            "decimals": token.decimals,
            "bounty": self.bounty.to_string(),
            "protocolFeeBps": self.protocol_fee_bps,
            "schedulerFeeBps": self.scheduler_fee_bps,
            "protocolFee": self.protocol_fee.to_string(),
            "schedulerFee": self.scheduler_fee.to_string(),
            "toOperators": (self.bounty - self.protocol_fee - self.scheduler_fee).to_string(),
            "gasPriceWei": self.gas_price.to_string(),
            "gas": self.gas.iter().map(|l| json!({
                "call": l.call, "gas": l.gas, "note": l.note,
            })).collect::<Vec<_>>(),
            "gasCostWei": self.gas_cost().to_string(),
        })
    }
}

/// The quote for `spec` sent from `from` (without an account, gas is not estimated): the fees
/// the market would snapshot now, and each transaction `submit` would send, estimated by the
/// node at the current gas price.
pub(crate) async fn quote(
    s: &Settlement,
    from: Option<Address>,
    spec: &TaskSpec,
) -> eyre::Result<Quote> {
    let market = verity_contracts::TaskMarket::new(s.deployment().market, s.provider());
    let protocol_fee_bps = market
        .protocolFeeBps()
        .call()
        .await
        .wrap_err("chain: the market's protocol fee")?;
    let scheduler_fee_bps = market
        .schedulerFeeBps()
        .call()
        .await
        .wrap_err("chain: the market's scheduler fee")?;
    let bps = |b: u16| spec.bounty * U256::from(b) / U256::from(10_000u64);
    let gas_price = U256::from(
        s.provider()
            .get_gas_price()
            .await
            .wrap_err("chain: reading the gas price")?,
    );
    let mut gas = Vec::new();
    match from {
        None => gas.push(GasLine {
            call: "createTask",
            gas: None,
            note: "no account to estimate from (give a key or a profile with one)".into(),
        }),
        Some(from) => {
            let in_market = s
                .market_balance(from)
                .await
                .wrap_err("chain: reading the market balance")?;
            if in_market < spec.bounty {
                let approve = verity_contracts::TestToken::new(s.deployment().token, s.provider())
                    .approve(s.deployment().market, spec.bounty)
                    .from(from)
                    .estimate_gas()
                    .await
                    .wrap_err("chain: estimating the approval")?;
                gas.push(GasLine {
                    call: "approve",
                    gas: Some(approve),
                    note: String::new(),
                });
            }
            gas.push(create_task_gas(s, from, spec, in_market >= spec.bounty).await?);
        }
    }
    Ok(Quote {
        bounty: spec.bounty,
        protocol_fee_bps,
        scheduler_fee_bps,
        protocol_fee: bps(protocol_fee_bps),
        scheduler_fee: bps(scheduler_fee_bps),
        gas_price,
        gas,
    })
}

/// `createTask`'s gas. The node can only estimate it when the bounty can be paid at estimation
/// time: from the market balance, or from the wallet with an allowance already in place.
async fn create_task_gas(
    s: &Settlement,
    from: Address,
    spec: &TaskSpec,
    from_balance: bool,
) -> eyre::Result<GasLine> {
    let token = verity_contracts::TestToken::new(s.deployment().token, s.provider());
    let allowance = token
        .allowance(from, s.deployment().market)
        .call()
        .await
        .wrap_err("chain: reading the allowance")?;
    if !from_balance && allowance < spec.bounty {
        return Ok(GasLine {
            call: "createTask",
            gas: None,
            note: "the node estimates it only once the approval is in place".into(),
        });
    }
    let program = verity_store::Cid::of(&spec.program);
    let input = verity_store::Cid::of(
        &verity_primitives::envelope::InputEnvelope {
            limits: spec.limits,
            payload: spec.input.to_vec(),
        }
        .encode(),
    );
    let now = s.chain_time().await.wrap_err("chain: reading chain time")?;
    let r = spec.request(now, program.digest().into(), input.digest().into())?;
    let too_big = |what| eyre!("task spec: {what} does not fit the market's fields");
    let req = verity_contracts::TaskMarket::TaskRequest {
        mode: r.mode.into(),
        replication: r.replication,
        quorum: r.quorum,
        programDigest: r.program_digest,
        inputDigest: r.input_digest,
        bounty: alloy::primitives::Uint::checked_from_limbs_slice(r.bounty.as_limbs())
            .ok_or_else(|| too_big("bounty"))?,
        collateral: alloy::primitives::Uint::checked_from_limbs_slice(r.collateral.as_limbs())
            .ok_or_else(|| too_big("collateral"))?,
        assignDeadline: u32::try_from(r.assign_deadline).map_err(|_| too_big("deadline"))?,
        commitDeadline: u32::try_from(r.commit_deadline).map_err(|_| too_big("deadline"))?,
        revealDeadline: u32::try_from(r.reveal_deadline).map_err(|_| too_big("deadline"))?,
        challengeWindow: r.challenge_window,
        verifierId: r.verifier_id,
        auditBps: r.audit_bps,
    };
    let terms = s
        .current_terms(&r)
        .await
        .wrap_err("chain: the market's terms")?;
    let market = verity_contracts::TaskMarket::new(s.deployment().market, s.provider());
    let call = market.createTask(
        req,
        terms.max_protocol_fee_bps,
        terms.max_scheduler_fee_bps,
        terms.verifier,
    );
    let tx: TransactionRequest = call.from(from).into_transaction_request();
    let gas = s
        .provider()
        .estimate_gas(tx)
        .await
        .wrap_err("chain: estimating createTask")?;
    Ok(GasLine {
        call: "createTask",
        gas: Some(gas),
        note: String::new(),
    })
}
