//! `verity dispute`: optimistic disputes in the `DisputeCourt`. `list` shows the recent
//! challenged tasks and where their cases are; `show` prints one case with its evidence (the
//! operator's digest, the ballots, the program and input digests); `arbitrate` is the arbiter's
//! decision on a case the committee left undecided.

use alloy::primitives::U256;
use clap::{Args, Subcommand};
use eyre::{WrapErr, eyre};
use serde_json::json;
use verity_settlement::{CaseInfo, CasePhase, Settlement, Status};

use super::{OutputArgs, conn::ConnArgs};

#[derive(Debug, Subcommand)]
pub(crate) enum DisputeCommand {
    /// The most recent challenged tasks and their cases. Needs no key.
    ///
    /// Examples:
    ///   verity dispute list
    ///   verity dispute list --escalated --json
    #[command(verbatim_doc_comment)]
    List(ListArgs),
    /// One case with its evidence. Needs no key.
    ///
    /// Examples:
    ///   verity dispute show 42
    ///   verity dispute show 42 --json
    #[command(verbatim_doc_comment)]
    Show(ShowArgs),
    /// The arbiter decides an escalated case (the key must be the court's arbiter).
    ///
    /// Example:
    ///   verity dispute arbitrate 42 --overturn
    #[command(verbatim_doc_comment)]
    Arbitrate(ArbitrateArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    #[command(flatten)]
    conn: ConnArgs,
    /// How many of the newest tasks to look at (each is one status read).
    #[arg(long, default_value_t = 200)]
    limit: u64,
    /// Only cases waiting for the arbiter.
    #[arg(long)]
    escalated: bool,
    #[command(flatten)]
    out: OutputArgs,
}

#[derive(Debug, Args)]
pub(crate) struct ShowArgs {
    #[command(flatten)]
    conn: ConnArgs,
    /// The disputed task.
    task: U256,
    #[command(flatten)]
    out: OutputArgs,
}

#[derive(Debug, Args)]
#[group(id = "decision", required = true, multiple = false)]
pub(crate) struct ArbitrateArgs {
    #[command(flatten)]
    conn: ConnArgs,
    /// The disputed task.
    task: U256,
    /// The operator's result is wrong: it is slashed and the challenger rewarded.
    #[arg(long, group = "decision")]
    overturn: bool,
    /// The operator's result stands: it is paid and gets the challenger's bond.
    #[arg(long, group = "decision")]
    uphold: bool,
}

pub(crate) async fn run(cmd: DisputeCommand) -> eyre::Result<()> {
    match cmd {
        DisputeCommand::List(a) => list(a).await,
        DisputeCommand::Show(a) => show(a).await,
        DisputeCommand::Arbitrate(a) => arbitrate(a).await,
    }
}

async fn list(a: ListArgs) -> eyre::Result<()> {
    let s = a.conn.resolve()?.reader()?;
    let count = s.task_count().await?;
    let newest = u64::try_from(count).map_err(|_| eyre!("task count {count} out of range"))?;
    let mut rows = Vec::new();
    for id in (1..=newest)
        .rev()
        .take(usize::try_from(a.limit).unwrap_or(usize::MAX))
    {
        let id = U256::from(id);
        if s.status(id).await? != Status::Challenged {
            continue;
        }
        let c = s.case(id).await?;
        if a.escalated && c.phase != CasePhase::Escalated {
            continue;
        }
        rows.push((id, c));
    }
    if a.out.json {
        let v: Vec<_> = rows.iter().map(|(id, c)| case_json(*id, c)).collect();
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else if rows.is_empty() {
        println!("no open disputes among the newest {} tasks", a.limit);
    } else {
        for (id, c) in &rows {
            println!(
                "task {id}: {} (agree {}, disagree {}, committee {}/{}){}",
                c.phase,
                c.agree,
                c.disagree,
                c.committee.len(),
                c.size,
                if c.phase == CasePhase::Escalated {
                    format!(", arbiter decides until {}", c.arbiter_deadline)
                } else {
                    String::new()
                }
            );
        }
    }
    Ok(())
}

async fn show(a: ShowArgs) -> eyre::Result<()> {
    let s = a.conn.resolve()?.reader()?;
    let c = s.case(a.task).await?;
    if c.phase == CasePhase::None {
        return Err(eyre!("task {} has no dispute", a.task));
    }
    let t = s.task(a.task).await?;
    let mut v = case_json(a.task, &c);
    v["program_digest"] = json!(t.program_digest);
    v["input_digest"] = json!(t.input_digest);
    v["ballots"] = json!(ballots(&s, a.task, &c).await?);
    if a.out.json {
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    println!("task {}: {} (verdict {})", a.task, c.phase, c.verdict);
    println!("  operator   {} posted {}", c.operator, c.claimed);
    println!("  challenger {}", c.challenger);
    println!("  program    {}", t.program_digest);
    println!("  input      {}", t.input_digest);
    println!(
        "  ballots    {} committed, {} revealed: {} agree, {} disagree",
        c.committed, c.revealed, c.agree, c.disagree
    );
    for b in v["ballots"].as_array().into_iter().flatten() {
        println!("    {} {}", b["member"], b["ballot"]);
    }
    if c.phase == CasePhase::Escalated {
        println!("  the arbiter decides until {}", c.arbiter_deadline);
    }
    Ok(())
}

async fn ballots(s: &Settlement, task: U256, c: &CaseInfo) -> eyre::Result<Vec<serde_json::Value>> {
    let mut out = Vec::new();
    for m in &c.committee {
        let b = s.ballot(task, *m).await?;
        out.push(json!({ "member": m, "ballot": format!("{b:?}") }));
    }
    Ok(out)
}

fn case_json(task: U256, c: &CaseInfo) -> serde_json::Value {
    json!({
        "task": task.to_string(),
        "phase": c.phase.to_string(),
        "verdict": c.verdict.to_string(),
        "by_arbiter": c.by_arbiter,
        "operator": c.operator,
        "challenger": c.challenger,
        "claimed_digest": c.claimed,
        "committee": c.committee,
        "size": c.size,
        "committed": c.committed,
        "revealed": c.revealed,
        "agree": c.agree,
        "disagree": c.disagree,
        "commit_deadline": c.commit_deadline,
        "reveal_deadline": c.reveal_deadline,
        "arbiter_deadline": c.arbiter_deadline,
    })
}

async fn arbitrate(a: ArbitrateArgs) -> eyre::Result<()> {
    let (s, me) = a.conn.resolve()?.sender().await?;
    let arbiter = s.arbiter().await?;
    if arbiter != me {
        return Err(eyre!("{me} is not the court's arbiter ({arbiter})"));
    }
    let c = s.case(a.task).await?;
    if c.phase != CasePhase::Escalated {
        return Err(eyre!(
            "task {}'s case is {}, not waiting for the arbiter",
            a.task,
            c.phase
        ));
    }
    s.arbitrate(me, a.task, a.overturn)
        .await
        .wrap_err("arbitrate")?;
    let c = s.case(a.task).await?;
    println!("task {}: {} by the arbiter", a.task, c.verdict);
    Ok(())
}
