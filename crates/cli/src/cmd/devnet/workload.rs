//! The sample workload: tasks mixing the example programs and the verification modes, submitted
//! through the SDK as any requester would, followed to the end with progress bars.

use std::{
    collections::BTreeMap,
    time::{Duration, Instant},
};

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use verity_sdk::{Requester, Status, TaskId, TaskSpec, parse_tokens};

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
pub(super) const MODES: [&str; 2] = ["optimistic", "replicated"];

fn spec(mode: &str, program: Vec<u8>, input: Vec<u8>, k: u8) -> TaskSpec {
    match mode {
        "replicated" => TaskSpec::replicated(program, input, k),
        _ => TaskSpec::optimistic(program, input),
    }
}

/// Submits the plan's tasks (alternating modes, cycling programs) and follows them until each
/// is finalized or refunded, or the timeout passes.
pub(super) async fn run(sdk: &Requester, plan: &Plan) -> eyre::Result<Vec<TaskRun>> {
    let bars = MultiProgress::with_draw_target(if plan.progress {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    });
    let style = ProgressStyle::with_template("{prefix:>11} [{bar:30}] {pos}/{len} settled {msg}")
        .map_err(|e| eyre::eyre!("progress style: {e}"))?
        .progress_chars("=> ");
    let mut per_mode: BTreeMap<&'static str, ProgressBar> = BTreeMap::new();
    for (i, name) in MODES.iter().enumerate() {
        let n = plan.tasks / 2 + u32::from((i as u32) < plan.tasks % 2);
        let bar = bars.add(ProgressBar::new(u64::from(n)));
        bar.set_style(style.clone());
        bar.set_prefix(*name);
        per_mode.insert(name, bar);
    }

    let bounty = parse_tokens("10")?;
    let mut runs = Vec::with_capacity(plan.tasks as usize);
    for n in 0..plan.tasks {
        let mode = MODES[n as usize % MODES.len()];
        let program = PROGRAMS[(n as usize / MODES.len()) % PROGRAMS.len()];
        let task_spec = spec(
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
        );
        let task = sdk.submit(&task_spec).await?;
        tracing::info!(target: "devnet", id = %task.id, mode, program = program.name, "submitted");
        runs.push(TaskRun {
            id: task.id,
            mode,
            program: program.name,
            submitted: Instant::now(),
            settled: None,
        });
    }

    let deadline = Instant::now() + plan.timeout;
    while Instant::now() < deadline && runs.iter().any(|r| r.settled.is_none()) {
        for r in runs.iter_mut().filter(|r| r.settled.is_none()) {
            let status = sdk.task(r.id).await?.status;
            if matches!(status, Status::Finalized | Status::Refunded) {
                r.settled = Some((status, Instant::now()));
                if let Some(bar) = per_mode.get(r.mode) {
                    bar.inc(1);
                    if status == Status::Refunded {
                        bar.set_message("(some refunded)");
                        tracing::warn!(target: "devnet", id = %r.id, mode = r.mode, program = r.program, "refunded");
                    }
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    for bar in per_mode.values() {
        bar.finish();
    }
    Ok(runs)
}
