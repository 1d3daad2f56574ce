//! The devnet's closing summary: tasks settled per mode, submit-to-final latency, payouts per
//! operator and slashes with their reasons, all read back from the chain.

use std::{collections::BTreeMap, time::Duration};

use alloy::{
    primitives::{Address, I256, U256},
    sol_types::SolEvent,
};
use eyre::WrapErr;
use serde::Serialize;
use verity_contracts::{DisputeCourt, TaskMarket};
use verity_sdk::Status;
use verity_settlement::{
    Settlement,
    events::{DEFAULT_CHUNK_BLOCKS, history_to_head},
};

use super::workload::{MODES, TaskRun};

/// Per mode: how tasks ended and how long they took.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct ModeReport {
    pub(super) mode: &'static str,
    pub(super) submitted: usize,
    pub(super) finalized: usize,
    pub(super) refunded: usize,
    pub(super) unsettled: usize,
    pub(super) latency_p50_ms: Option<u64>,
    pub(super) latency_p99_ms: Option<u64>,
    /// Finalized tasks per second, from the first submission of the mode to its last
    /// finalization.
    pub(super) finalized_per_sec: Option<f64>,
}

/// One operator's take over the workload: the change of its wallet plus its market balance
/// (negative when slashed stake outweighs pay), and its stake change.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Payout {
    pub(super) operator: Address,
    /// `honest`, the fault a `--byzantine` node injects, or `watchtower`.
    pub(super) role: &'static str,
    #[serde(serialize_with = "decimal")]
    pub(super) earned_wei: I256,
    #[serde(serialize_with = "decimal")]
    pub(super) stake_change_wei: I256,
    /// Of `earned_wei` and beyond it: what the dispute court paid the operator for voting
    /// with verdicts (withdrawn from the court during the workload, plus what it still holds
    /// there).
    #[serde(serialize_with = "decimal")]
    pub(super) committee_pay_wei: I256,
}

fn decimal_u<S: serde::Serializer>(v: &U256, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&v.to_string())
}

/// Signed token amounts as decimal strings (they exceed JSON's safe integers).
fn decimal<S: serde::Serializer>(v: &I256, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&v.to_string())
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Slash {
    pub(super) task: U256,
    pub(super) operator: Address,
    #[serde(serialize_with = "decimal_u")]
    pub(super) amount_wei: U256,
    pub(super) reason: String,
}

/// How one sample task ended and who held its seats at the end.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct TaskOutcome {
    pub(super) id: U256,
    pub(super) mode: &'static str,
    pub(super) program: &'static str,
    /// `finalized`, `refunded`, or the status it was left in.
    pub(super) status: String,
    pub(super) latency_ms: Option<u64>,
    pub(super) operators: Vec<Address>,
    /// Who challenged the result, if anyone did (an audit has no challenger).
    pub(super) challenger: Option<Address>,
}

/// Every sample task's outcome, read back from the chain.
pub(super) async fn outcomes(
    s: &Settlement,
    runs: &[TaskRun],
    from_block: u64,
) -> eyre::Result<Vec<TaskOutcome>> {
    let challengers = challengers(s, from_block).await?;
    let mut out = Vec::with_capacity(runs.len());
    for r in runs {
        let status = match r.settled {
            Some((st, _)) => st,
            None => s.status(r.id).await.wrap_err("reading a task's status")?,
        };
        out.push(TaskOutcome {
            id: r.id,
            mode: r.mode,
            program: r.program,
            status: format!("{status:?}").to_lowercase(),
            latency_ms: r.latency().map(|d| d.as_millis() as u64),
            operators: s
                .operators_of(r.id)
                .await
                .wrap_err("reading a task's operators")?,
            challenger: challengers.get(&r.id).copied(),
        });
    }
    Ok(out)
}

/// The challenger of every task challenged since `from_block` (the market's `Challenged`
/// events; an audit's, with no challenger, is left out).
async fn challengers(s: &Settlement, from_block: u64) -> eyre::Result<BTreeMap<U256, Address>> {
    let source = s
        .market_logs()
        .events(vec![TaskMarket::Challenged::SIGNATURE_HASH]);
    let logs = history_to_head(&source, from_block, DEFAULT_CHUNK_BLOCKS)
        .await
        .wrap_err("reading challenge events")?;
    let mut out = BTreeMap::new();
    for log in &logs {
        let e = TaskMarket::Challenged::decode_log(&log.inner).wrap_err("decoding Challenged")?;
        if e.challenger != Address::ZERO {
            out.insert(e.taskId, e.challenger);
        }
    }
    Ok(out)
}

/// A committee member's penalty for not revealing or for voting against the verdict (the
/// court's `MemberPenalised`): taken from its stake into the case's pot.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Penalty {
    pub(super) task: U256,
    pub(super) member: Address,
    #[serde(serialize_with = "decimal_u")]
    pub(super) amount_wei: U256,
}

/// Every `MemberPenalised` event of the court since `from_block`.
pub(super) async fn penalties(s: &Settlement, from_block: u64) -> eyre::Result<Vec<Penalty>> {
    let source = verity_settlement::events::RpcLogSource::new(
        s.provider().clone(),
        vec![s.deployment().court],
    )
    .events(vec![DisputeCourt::MemberPenalised::SIGNATURE_HASH]);
    let logs = history_to_head(&source, from_block, DEFAULT_CHUNK_BLOCKS)
        .await
        .wrap_err("reading committee penalties")?;
    logs.iter()
        .map(|log| {
            let e = DisputeCourt::MemberPenalised::decode_log(&log.inner)
                .wrap_err("decoding MemberPenalised")?;
            Ok(Penalty {
                task: e.taskId,
                member: e.member,
                amount_wei: e.amount,
            })
        })
        .collect()
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Report {
    pub(super) modes: Vec<ModeReport>,
    pub(super) tasks: Vec<TaskOutcome>,
    pub(super) payouts: Vec<Payout>,
    pub(super) slashes: Vec<Slash>,
    pub(super) penalties: Vec<Penalty>,
    pub(super) audits: Audits,
    pub(super) dashboard: String,
    /// Children that died during the workload, and whether they were started again.
    pub(super) restarts: Vec<String>,
}

/// The optimistic results the audit coin sent to the court during the run (`AuditDrawn`).
#[derive(Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub(super) struct Audits {
    pub(super) audited: Vec<U256>,
}

/// Every `AuditDrawn` event of the market since `from_block`.
pub(super) async fn audits(s: &Settlement, from_block: u64) -> eyre::Result<Audits> {
    let source = s
        .market_logs()
        .events(vec![TaskMarket::AuditDrawn::SIGNATURE_HASH]);
    let logs = history_to_head(&source, from_block, DEFAULT_CHUNK_BLOCKS)
        .await
        .wrap_err("reading audit events")?;
    let mut out = Audits::default();
    for log in &logs {
        let e = TaskMarket::AuditDrawn::decode_log(&log.inner).wrap_err("decoding AuditDrawn")?;
        if e.audited {
            out.audited.push(e.taskId);
        }
    }
    Ok(out)
}

/// The `q`-quantile (nearest rank) of sorted `xs`.
fn quantile(xs: &[Duration], q: f64) -> Option<u64> {
    if xs.is_empty() {
        return None;
    }
    let rank = ((q * xs.len() as f64).ceil() as usize).clamp(1, xs.len());
    Some(xs[rank - 1].as_millis() as u64)
}

pub(super) fn modes(runs: &[TaskRun]) -> Vec<ModeReport> {
    MODES
        .iter()
        .filter(|&&mode| runs.iter().any(|r| r.mode == mode))
        .map(|&mode| {
            let of_mode: Vec<_> = runs.iter().filter(|r| r.mode == mode).collect();
            let first = of_mode.iter().map(|r| r.submitted).min();
            let last = of_mode
                .iter()
                .filter_map(|r| match r.settled {
                    Some((Status::Finalized, at)) => Some(at),
                    _ => None,
                })
                .max();
            let ended = |s| {
                of_mode
                    .iter()
                    .filter(|r| matches!(r.settled, Some((x, _)) if x == s))
                    .count()
            };
            let mut lat: Vec<Duration> = of_mode
                .iter()
                .filter(|r| matches!(r.settled, Some((Status::Finalized, _))))
                .filter_map(|r| r.latency())
                .collect();
            lat.sort();
            ModeReport {
                mode,
                submitted: of_mode.len(),
                finalized: ended(Status::Finalized),
                refunded: ended(Status::Refunded),
                unsettled: of_mode.iter().filter(|r| r.settled.is_none()).count(),
                latency_p50_ms: quantile(&lat, 0.50),
                latency_p99_ms: quantile(&lat, 0.99),
                finalized_per_sec: match (first, last) {
                    (Some(a), Some(b)) if b > a => Some(lat.len() as f64 / (b - a).as_secs_f64()),
                    _ => None,
                },
            }
        })
        .collect()
}

/// What an operator holds that pay and slashing move: wallet, market balance, stake, and its
/// balance in the dispute court.
#[derive(Debug, Clone, Copy)]
pub(super) struct Holdings {
    liquid: U256,
    stake: U256,
    court: U256,
}

pub(super) async fn holdings(s: &Settlement, op: Address) -> eyre::Result<Holdings> {
    let wallet = s.token_balance(op).await?;
    let market = s.market_balance(op).await?;
    let stake = s.operator(op).await?.stake;
    let court = s.court_balance(op).await?;
    Ok(Holdings {
        liquid: wallet + market,
        stake,
        court,
    })
}

/// What `op` withdrew from the dispute court since `from_block` (its `Withdrawn` events).
pub(super) async fn court_withdrawn(
    s: &Settlement,
    op: Address,
    from_block: u64,
) -> eyre::Result<U256> {
    let source = verity_settlement::events::RpcLogSource::new(
        s.provider().clone(),
        vec![s.deployment().court],
    )
    .events(vec![DisputeCourt::Withdrawn::SIGNATURE_HASH])
    .topic1(op.into_word());
    let logs = history_to_head(&source, from_block, DEFAULT_CHUNK_BLOCKS)
        .await
        .wrap_err("reading court withdrawals")?;
    let mut sum = U256::ZERO;
    for log in &logs {
        sum += DisputeCourt::Withdrawn::decode_log(&log.inner)
            .wrap_err("decoding Withdrawn")?
            .amount;
    }
    Ok(sum)
}

fn delta(after: U256, before: U256) -> I256 {
    I256::from_raw(after).wrapping_sub(I256::from_raw(before))
}

pub(super) fn payout(
    op: Address,
    role: &'static str,
    before: Holdings,
    after: Holdings,
    court_withdrawn: U256,
) -> Payout {
    Payout {
        operator: op,
        role,
        earned_wei: delta(after.liquid, before.liquid),
        stake_change_wei: delta(after.stake, before.stake),
        committee_pay_wei: delta(after.court + court_withdrawn, before.court),
    }
}

/// `TaskMarket.SlashReason` by name.
fn slash_reason(code: u8) -> String {
    match code {
        0 => "silent (no reveal or submission in time)".into(),
        1 => "dissent (revealed against the majority)".into(),
        2 => "wrong result (overturned by the committee)".into(),
        other => format!("unknown reason {other}"),
    }
}

/// Every `OperatorSlashed` event of the market since `from_block`.
pub(super) async fn slashes(s: &Settlement, from_block: u64) -> eyre::Result<Vec<Slash>> {
    let source = s
        .market_logs()
        .events(vec![TaskMarket::OperatorSlashed::SIGNATURE_HASH]);
    let logs = history_to_head(&source, from_block, DEFAULT_CHUNK_BLOCKS)
        .await
        .wrap_err("reading slash events")?;
    logs.iter()
        .map(|log| {
            let e = TaskMarket::OperatorSlashed::decode_log(&log.inner)
                .wrap_err("decoding OperatorSlashed")?;
            let reason = slash_reason(e.reason);
            Ok(Slash {
                task: e.taskId,
                operator: e.operator,
                amount_wei: e.amount,
                reason,
            })
        })
        .collect()
}

fn tokens(wei: I256) -> String {
    let unit = I256::from_raw(U256::from(10u64).pow(U256::from(18u64)));
    let (q, r) = (wei / unit, (wei % unit).unsigned_abs());
    let frac = r / U256::from(10u64).pow(U256::from(14u64));
    let sign = if wei.is_negative() && q.is_zero() {
        "-"
    } else {
        ""
    };
    format!("{sign}{q}.{frac:04}")
}

pub(super) fn print(r: &Report) {
    println!("Workload summary");
    for line in &r.restarts {
        println!("  child died: {line}");
    }
    println!(
        "  {:<11} {:>9} {:>9} {:>8} {:>9} {:>9} {:>9} {:>9}",
        "mode", "submitted", "finalized", "refunded", "unsettled", "p50 ms", "p99 ms", "final/s"
    );
    let ms = |v: Option<u64>| v.map_or("-".to_string(), |v| v.to_string());
    for m in &r.modes {
        println!(
            "  {:<11} {:>9} {:>9} {:>8} {:>9} {:>9} {:>9} {:>9}",
            m.mode,
            m.submitted,
            m.finalized,
            m.refunded,
            m.unsettled,
            ms(m.latency_p50_ms),
            ms(m.latency_p99_ms),
            m.finalized_per_sec
                .map_or("-".to_string(), |v| format!("{v:.2}"))
        );
    }
    println!("Payouts (tVRT; wallet + market balance change, stake change)");
    for p in &r.payouts {
        println!(
            "  {}  {:<16}  earned {:>12}  stake {:>12}",
            p.operator,
            p.role,
            tokens(p.earned_wei),
            tokens(p.stake_change_wei)
        );
    }
    println!(
        "Audits: {} optimistic results sent to the court by the audit coin{}",
        r.audits.audited.len(),
        if r.audits.audited.is_empty() {
            String::new()
        } else {
            format!(
                " (tasks {})",
                r.audits
                    .audited
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    );
    if r.slashes.is_empty() {
        println!("Slashes: none");
    } else {
        println!("Slashes");
        let mut by_op: BTreeMap<Address, Vec<&Slash>> = BTreeMap::new();
        for s in &r.slashes {
            by_op.entry(s.operator).or_default().push(s);
        }
        for (op, list) in by_op {
            for s in list {
                println!(
                    "  {op}  task {}  {}  {} tVRT",
                    s.task,
                    s.reason,
                    tokens(I256::from_raw(s.amount_wei))
                );
            }
        }
    }
    if !r.penalties.is_empty() {
        println!("Committee members penalised (did not vote, or voted against the verdict)");
        for p in &r.penalties {
            println!(
                "  {}  task {}  {} tVRT",
                p.member,
                p.task,
                tokens(I256::from_raw(p.amount_wei))
            );
        }
    }
    for line in strategies(r) {
        println!("{line}");
    }
    println!("Dashboard: {}", r.dashboard);
}

/// One line per faulty strategy of `--byzantine`: what all its accounts took together (pay
/// plus stake change), which honest work beats.
fn strategies(r: &Report) -> Vec<String> {
    let take = |roles: &[&str]| -> Option<I256> {
        let of: Vec<&Payout> = r
            .payouts
            .iter()
            .filter(|p| roles.contains(&p.role))
            .collect();
        (!of.is_empty()).then(|| {
            of.iter()
                .fold(I256::ZERO, |a, p| a + p.earned_wei + p.stake_change_wei)
        })
    };
    let mut out = Vec::new();
    let honest: Vec<I256> = r
        .payouts
        .iter()
        .filter(|p| p.role == "honest")
        .map(|p| p.earned_wei + p.stake_change_wei)
        .collect();
    if let Some(best) = honest.iter().max() {
        for (label, roles) in [
            ("wrong results", &["wrong_result"][..]),
            ("copied commitments", &["copy_commitments"][..]),
            ("silence", &["silent"][..]),
            ("idle committee member", &["idle_member"][..]),
            (
                "self-challenge (cheater and second address)",
                &["self_challenger", "accomplice"][..],
            ),
        ] {
            if let Some(t) = take(roles) {
                out.push(format!(
                    "Strategy {label}: {} tVRT (the best honest node: {} tVRT)",
                    tokens(t),
                    tokens(*best)
                ));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_quantiles() {
        let xs: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(quantile(&xs, 0.5), Some(50));
        assert_eq!(quantile(&xs, 0.99), Some(99));
        assert_eq!(quantile(&xs[..1], 0.99), Some(1));
        assert_eq!(quantile(&[], 0.5), None);
    }

    #[test]
    fn token_amounts_print_with_sign_and_four_places() {
        let unit = I256::from_raw(U256::from(10u64).pow(U256::from(18u64)));
        assert_eq!(tokens(unit * I256::try_from(3).unwrap()), "3.0000");
        assert_eq!(tokens(unit / I256::try_from(2).unwrap()), "0.5000");
        assert_eq!(tokens(-(unit / I256::try_from(4).unwrap())), "-0.2500");
        assert_eq!(tokens(-(unit * I256::try_from(5).unwrap())), "-5.0000");
    }
}
