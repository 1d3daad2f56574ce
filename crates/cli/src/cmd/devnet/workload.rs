//! The sample workload: tasks mixing the example programs and the verification modes, submitted
//! through the SDK as any requester would, followed to the end with progress bars.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use alloy::{primitives::U256, providers::Provider, sol_types::SolEvent};
use eyre::WrapErr;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use verity_contracts::TaskMarket;
use verity_sdk::{Requester, Status, TaskId, TaskSpec, parse_tokens};
use verity_settlement::events::{EventStream, MarketEvent, StreamConfig, StreamItem};

use super::programs::PROGRAMS;

/// What to submit.
#[derive(Debug, Clone)]
pub(super) struct Plan {
    /// Tasks in all.
    pub(super) tasks: u32,
    /// Operators per replicated task.
    pub(super) replication: u8,
    /// Optimistic challenge window, seconds.
    pub(super) challenge_window: u32,
    /// Deadlines after submission: assign within, execute (commit or submit) within, reveal
    /// within, seconds. They bound how long a task waits for a faulty operator.
    pub(super) windows: (u64, u64, u64),
    /// Give up on tasks not settled after this long.
    pub(super) timeout: Duration,
    /// The modes to alternate between (a subset of [`MODES`], in that order).
    pub(super) modes: Vec<&'static str>,
    /// Submissions in flight at once.
    pub(super) concurrency: usize,
    /// Draw progress bars (off for `--json`).
    pub(super) progress: bool,
}

/// One submitted task and how it ended.
#[derive(Debug, Clone)]
pub(super) struct TaskRun {
    pub(super) id: TaskId,
    pub(super) mode: &'static str,
    pub(super) program: &'static str,
    pub(super) submitted: Instant,
    /// Final status and when it was observed; `None` if it had not settled by the timeout.
    pub(super) settled: Option<(Status, Instant)>,
}

impl TaskRun {
    pub(super) fn latency(&self) -> Option<Duration> {
        self.settled.map(|(_, at)| at - self.submitted)
    }
}

/// The modes the workload alternates between, in order.
pub(super) const MODES: [&str; 3] = ["optimistic", "replicated", "zk"];

/// Extra seconds a ZkProof task gets over the execute window: proving takes longer than the
/// example programs (about 15-30 s at N = 16 on a small machine).
const PROVE_EXTRA_SECS: u64 = 60;

/// Seconds after submission by which every deadline of a `mode` task has passed.
fn due_after(plan: &Plan, mode: &str) -> u64 {
    let (assign, execute, reveal) = plan.windows;
    assign
        + execute
        + match mode {
            "replicated" => reveal,
            "zk" => 2 * PROVE_EXTRA_SECS,
            _ => 0,
        }
}

/// What one sample task asks for.
enum Sample {
    Wasm(Box<TaskSpec>),
    Zk(Box<verity_sdk::ZkTaskSpec>),
}

fn spec(mode: &str, program: Vec<u8>, input: Vec<u8>, k: u8) -> TaskSpec {
    match mode {
        "replicated" => TaskSpec::replicated(program, input, k),
        _ => TaskSpec::optimistic(program, input),
    }
}

/// Submits the plan's tasks (alternating modes, cycling programs; up to `concurrency` at once,
/// the bounties paid from one deposit) and follows them until each is finalized or refunded, or
/// the timeout passes.
pub(super) async fn run(sdk: &Requester, plan: &Plan) -> eyre::Result<Vec<TaskRun>> {
    let bars = MultiProgress::with_draw_target(if plan.progress {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    });
    let style = ProgressStyle::with_template("{prefix:>11} [{bar:30}] {pos}/{len} settled {msg}")
        .map_err(|e| eyre::eyre!("progress style: {e}"))?
        .progress_chars("=> ");
    let modes = &plan.modes;
    eyre::ensure!(!modes.is_empty(), "the workload needs at least one mode");
    let mut per_mode: BTreeMap<&'static str, ProgressBar> = BTreeMap::new();
    for (i, name) in modes.iter().enumerate() {
        let n = plan.tasks / modes.len() as u32
            + u32::from((i as u32) < plan.tasks % modes.len() as u32);
        let bar = bars.add(ProgressBar::new(u64::from(n)));
        bar.set_style(style.clone());
        bar.set_prefix(*name);
        per_mode.insert(name, bar);
    }

    // One deposit covers every bounty, so each task is a single transaction.
    let bounty = parse_tokens("10")?;
    let total = bounty * U256::from(plan.tasks);
    let s = sdk.settlement();
    s.approve_market(sdk.account(), total)
        .await
        .wrap_err("approving the workload's deposit")?;
    s.deposit(sdk.account(), total)
        .await
        .wrap_err("depositing the workload's bounties")?;
    let from_block = s.provider().get_block_number().await?;
    // Settlements are followed from now on, while submissions are still going out, so a task's
    // latency ends when its settlement shows, not when the last submission returns.
    let seen = Seen::default();
    let stop = CancellationToken::new();
    let watcher = tokio::spawn(watch_settlements(
        sdk.clone(),
        from_block,
        seen.clone(),
        stop.clone(),
    ));

    let mut runs = Vec::with_capacity(plan.tasks as usize);
    let mut inflight = JoinSet::new();
    for n in 0..plan.tasks {
        let mode = modes[n as usize % modes.len()];
        let program = PROGRAMS[(n as usize / modes.len()) % PROGRAMS.len()];
        let sample = if mode == "zk" {
            // Only the provers (half the nodes) can take these, and each proof holds a slot
            // for a while: more time to be assigned as well as to prove.
            let mut zk = super::zk::spec(
                u64::from(n),
                plan.windows.0 + PROVE_EXTRA_SECS,
                plan.windows.1 + PROVE_EXTRA_SECS,
            )?;
            zk.bounty = bounty;
            Sample::Zk(Box::new(zk))
        } else {
            Sample::Wasm(Box::new(
                spec(
                    mode,
                    program.wasm.to_vec(),
                    program.input(u64::from(n)),
                    plan.replication,
                )
                .bounty(bounty)
                .challenge_window(plan.challenge_window)
                .windows(
                    plan.windows.0,
                    plan.windows.1,
                    if mode == "replicated" {
                        plan.windows.2
                    } else {
                        0
                    },
                ),
            ))
        };
        let program_name = if mode == "zk" {
            "sensor (zk, N=16)"
        } else {
            program.name
        };
        if inflight.len() >= plan.concurrency.max(1) {
            runs.push(joined(inflight.join_next().await)?);
        }
        let sdk = sdk.clone();
        inflight.spawn(async move {
            let task = match &sample {
                Sample::Wasm(spec) => sdk.submit(spec).await?,
                Sample::Zk(spec) => sdk.submit_zk(spec).await?,
            };
            tracing::info!(target: "devnet", id = %task.id, mode, program = program_name, "submitted");
            Ok(TaskRun {
                id: task.id,
                mode,
                program: program_name,
                submitted: Instant::now(),
                settled: None,
            })
        });
    }
    while let Some(r) = inflight.join_next().await {
        runs.push(joined(Some(r))?);
    }
    runs.sort_by_key(|r| r.id);

    let deadline = Instant::now() + plan.timeout;
    let mut polls = 0u32;
    loop {
        {
            let seen = seen.lock().unwrap_or_else(|e| e.into_inner());
            for r in runs.iter_mut().filter(|r| r.settled.is_none()) {
                let Some(&(status, at)) = seen.get(&r.id) else {
                    continue;
                };
                r.settled = Some((status, at));
                if let Some(bar) = per_mode.get(r.mode) {
                    bar.inc(1);
                    if status == Status::Refunded {
                        bar.set_message("(some refunded)");
                        tracing::warn!(target: "devnet", id = %r.id, mode = r.mode, program = r.program, "refunded");
                    }
                }
            }
        }
        if Instant::now() >= deadline || runs.iter().all(|r| r.settled.is_some()) {
            break;
        }
        if watcher.is_finished() {
            break;
        }
        polls += 1;
        if polls.is_multiple_of(20) {
            settle_overdue(sdk, plan, &runs).await;
        }
        tokio::time::sleep(POLL).await;
    }
    stop.cancel();
    watcher
        .await
        .wrap_err("settlement watcher")?
        .wrap_err("following settlement events")?;
    for bar in per_mode.values() {
        bar.finish();
    }
    Ok(runs)
}

/// How often settlements are looked for (and the resolution of the measured latencies).
const POLL: Duration = Duration::from_millis(100);

/// Each task's first settlement event seen, and when.
type Seen = Arc<Mutex<HashMap<TaskId, (Status, Instant)>>>;

/// Most chunks one poll reads.
const MAX_POLL_STEPS: usize = 64;

/// Follows the market's `TaskFinalized` and `TaskRefunded` events from `from_block` into `seen`
/// (through the settlement crate's event stream: one log query per new chunk of blocks,
/// whatever the task count) until `stop`.
async fn watch_settlements(
    sdk: Requester,
    from_block: u64,
    seen: Seen,
    stop: CancellationToken,
) -> eyre::Result<()> {
    let s = sdk.settlement();
    let mut stream = EventStream::new(
        Arc::new(s.market_logs().events(vec![
            TaskMarket::TaskFinalized::SIGNATURE_HASH,
            TaskMarket::TaskRefunded::SIGNATURE_HASH,
        ])),
        s.contracts(),
        StreamConfig {
            confirmations: 0,
            start_block: from_block,
            ..StreamConfig::default()
        },
    );
    while !stop.is_cancelled() {
        let batch = stream
            .catch_up(MAX_POLL_STEPS)
            .await
            .wrap_err("reading settlement events")?;
        let now = Instant::now();
        record_settlements(&seen, batch.items, now);
        tokio::select! {
            () = stop.cancelled() => break,
            () = tokio::time::sleep(POLL) => {}
        }
    }
    Ok(())
}

/// Records each settlement among `items` not seen before.
fn record_settlements(seen: &Seen, items: Vec<StreamItem>, now: Instant) {
    let mut seen = seen.lock().unwrap_or_else(|e| e.into_inner());
    for item in items {
        // The devchain does not reorganize; a settlement is final once seen.
        let StreamItem::Event(e) = item else {
            continue;
        };
        let (id, status) = match e.market() {
            Some(MarketEvent::TaskFinalized(ev)) => (ev.taskId, Status::Finalized),
            Some(MarketEvent::TaskRefunded(ev)) => (ev.taskId, Status::Refunded),
            _ => continue,
        };
        seen.entry(id).or_insert((status, now));
    }
}

fn joined(
    r: Option<Result<Result<TaskRun, verity_sdk::SdkError>, tokio::task::JoinError>>,
) -> eyre::Result<TaskRun> {
    let r = r.ok_or_else(|| eyre::eyre!("no submission in flight"))?;
    r.wrap_err("submission task")?
        .wrap_err("submitting a sample task")
}

/// As any requester would: takes the deadline exit of tasks whose windows have all passed
/// (a silent optimistic operator leaves its task to the client to reclaim; nobody else would).
async fn settle_overdue(sdk: &Requester, plan: &Plan, runs: &[TaskRun]) {
    for r in runs.iter().filter(|r| r.settled.is_none()) {
        if r.submitted.elapsed() < Duration::from_secs(due_after(plan, r.mode) + 1) {
            continue;
        }
        if let Err(e) = sdk.settle_overdue(r.id).await {
            tracing::warn!(target: "devnet", id = %r.id, error = %e, "could not take the deadline exit");
        }
    }
}
