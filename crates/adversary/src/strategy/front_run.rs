//! **Owner front-running** (governance). A client reads the market's fees and sends
//! `createTask`; the owner raises both fees to their cap (`MAX_FEE_BPS`) in a transaction that
//! lands first, hoping to lock the task into the higher fees. Before trust model v2 the task was
//! created at the new fees (the snapshot taken at creation then kept them). Now `createTask`
//! carries the highest fees the client accepts and reverts `TermsChanged` above them, so the
//! owner gains nothing and the client loses only its gas; on a real deployment the owner is a
//! `TimelockController` besides, so a fee change waits out its delay in public.
//!
//! Branches: the owner's side (the treasury and the assigning coordinator, which it could
//! control) measured on chain. Honest: the fees of one task at the fees in force. Strategy:
//! the raised fees come first, the task is refused, nothing accrues. Detection 1: the client's
//! own caps refuse every front-run.

use crate::{
    Error, Result,
    arena::truth,
    outcome::{Branch, Outcome},
    strategy::{Ctx, honest_slashes},
};

pub(crate) const NAME: &str = "owner_front_running";

/// `TaskMarket.MAX_FEE_BPS`.
const MAX_FEE_BPS: u16 = 1_000;

pub(crate) async fn measure(c: &Ctx<'_>) -> Result<Outcome> {
    let a = c.arena;
    let s0 = honest_slashes(a).await?;
    let side = [a.treasury, a.coordinator];
    let op = a.honest[2];
    a.recover_wei(op, c.collateral).await?;

    // Honest governance: the task runs at the fees in force and both fees accrue.
    let w0 = a.worth(&side).await?;
    let id = a.open(c.bounty, c.collateral, op).await?;
    a.s.submit_result(op, id, truth()).await?;
    a.finalize_unchallenged(id).await?;
    let honest = a.worth(&side).await? - w0;

    // Front-run: the client accepts the terms it read; the owner's fee raise lands first.
    let req = a
        .request(verity_settlement::Mode::Optimistic, c.bounty, c.collateral)
        .await?;
    let terms = a.s.current_terms(&req).await?;
    let before = a.s.market_totals().await?;
    let w0 = a.worth(&side).await?;
    a.s.set_fees(a.owner, MAX_FEE_BPS, MAX_FEE_BPS).await?;
    let refused = match a.s.create_task_on_terms(a.client, &req, &terms, &[]).await {
        Err(e) if e.revert_name().as_deref() == Some("TermsChanged") => true,
        Ok(_) => false,
        Err(e) => {
            return Err(Error::UnexpectedOutcome {
                call: "createTask",
                task: None,
                expected: "TermsChanged",
                got: e.to_string(),
            });
        }
    };
    if !refused {
        return Err(Error::UnexpectedOutcome {
            call: "createTask",
            task: None,
            expected: "TermsChanged",
            got: "the task was created at the raised fees".into(),
        });
    }
    let front_run = a.worth(&side).await? - w0;
    let unchanged = a.s.market_totals().await? == before;
    a.s.set_fees(
        a.owner,
        terms.max_protocol_fee_bps,
        terms.max_scheduler_fee_bps,
    )
    .await?;
    let honest_slashed = honest_slashes(a).await? > s0;
    Ok(Outcome {
        strategy: NAME.into(),
        unit: c.base.reward,
        honest: Branch {
            name: "fees as announced",
            prob: 1.0,
            payoff: honest,
            work: 0.0,
        },
        branches: vec![Branch {
            name: "fees raised ahead of createTask: refused",
            prob: 1.0,
            payoff: front_run,
            work: 0.0,
        }],
        honest_slashed,
        detection_rate: 1.0,
        note: format!(
            "fees of one task as announced: {:.4}; front-run: {:.4} (createTask refused, escrow \
             unchanged: {unchanged})",
            crate::arena::as_tokens(honest),
            crate::arena::as_tokens(front_run)
        ),
        facts: vec![
            ("honest_fees", honest),
            ("front_run", front_run),
            ("escrow_unchanged", i128::from(unchanged)),
            ("bounty", i128::try_from(c.bounty).unwrap_or(i128::MAX)),
        ],
    })
}

/// Where it stops paying.
pub(crate) fn threshold(_p: f64) -> String {
    "never: createTask carries the client's highest fees and refuses above them, and the owner \
     is a timelock on real deployments"
        .into()
}
