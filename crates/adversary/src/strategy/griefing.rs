//! **Coordinator griefing.** A coordinator tries to get an honest operator slashed as silent
//! by leaving it no time: a task whose commit window is shorter than the market's
//! `minResponseWindow`, an assignment at the last second of the assignment window, and a
//! reassignment with less than the minimum window left. Before trust model v2 a 1-second
//! window or a reassignment at the commit deadline slashed the operator (1,000 of 1,000
//! tokens in a test); the coordinator gained nothing but the competitor's loss.
//!
//! One branch (probability 1): the tightest task the market accepts (commit deadline exactly
//! `minResponseWindow` after the assignment deadline) is assigned at the last second; the
//! squeezed reassignment is refused (`ResponseWindowTooShort`); the operator submits at the
//! last second of its window and is paid. The too-short task is refused at creation
//! (`WindowTooShort`) with nothing moved. The strategy's payoff is the coordinator's (its
//! scheduler fee, as an honest coordinator's); honest_slashed is read from the registry.

use verity_settlement::Mode;

use crate::{
    Result,
    arena::{as_tokens, expect_revert, truth},
    outcome::{Branch, Outcome},
    strategy::{Ctx, honest_slashes},
};

pub(crate) const NAME: &str = "coordinator_griefing";

/// What the griefing measured.
pub(crate) struct Griefing {
    /// The coordinator's change over the task.
    pub(crate) coordinator: i128,
    /// The honest operator's change over the task.
    pub(crate) operator: i128,
    /// The client's change over the refused creation (must be 0).
    pub(crate) refused_creation: i128,
    /// Honest slashes during the whole play.
    pub(crate) slashes: u64,
}

pub(crate) async fn play(c: &Ctx<'_>) -> Result<Griefing> {
    let a = c.arena;
    let op = a.honest[2];
    let w = a.min_response_window;
    let s0 = honest_slashes(a).await?;

    // A task with a commit window one second short of the minimum cannot be created.
    let mut short = a.request(Mode::Optimistic, c.bounty, c.collateral).await?;
    short.commit_deadline = short.assign_deadline + w - 1;
    let k0 = a.worth(&[a.client]).await?;
    expect_revert(
        a.s.create_task(a.client, &short).await,
        "createTask",
        None,
        "WindowTooShort",
    )?;
    let refused_creation = a.worth(&[a.client]).await? - k0;

    // The tightest task allowed, assigned at the last second.
    let mut req = a.request(Mode::Optimistic, c.bounty, c.collateral).await?;
    req.commit_deadline = req.assign_deadline + w;
    let who = [a.coordinator, op];
    let (c0, o0) = (a.worth(&who[..1]).await?, a.worth(&who[1..]).await?);
    let (id, _) = a.s.create_task(a.client, &req).await?;
    a.next_block_at(req.assign_deadline).await?;
    a.s.assign(a.coordinator, id, &[op]).await?;
    // A reassignment with one second less than the minimum left is refused.
    a.next_block_at(req.commit_deadline - w + 1).await?;
    expect_revert(
        a.s.reassign(a.coordinator, id, 0, a.honest[3]).await,
        "reassign",
        Some(id),
        "ResponseWindowTooShort",
    )?;
    // The operator answers at the last second of its window.
    a.next_block_at(req.commit_deadline).await?;
    a.s.submit_result(op, id, truth()).await?;
    a.finalize_unchallenged(id).await?;
    Ok(Griefing {
        coordinator: a.worth(&who[..1]).await? - c0,
        operator: a.worth(&who[1..]).await? - o0,
        refused_creation,
        slashes: honest_slashes(a).await? - s0,
    })
}

pub(crate) async fn measure(c: &Ctx<'_>) -> Result<Outcome> {
    let g = play(c).await?;
    Ok(Outcome {
        strategy: NAME.into(),
        unit: c.base.reward,
        honest: Branch {
            name: "assigns honestly",
            prob: 1.0,
            payoff: c.base.coordinator_fee,
            work: 0.0,
        },
        branches: vec![Branch {
            name: "last-second assign, squeezed reassign refused",
            prob: 1.0,
            payoff: g.coordinator,
            work: 0.0,
        }],
        honest_slashed: g.slashes > 0,
        detection_rate: 1.0,
        note: format!(
            "baseline: honest coordinator (scheduler fee); short window refused (client {:+}), \
             reassign refused, operator paid {:+.4}, {} slashed",
            as_tokens(g.refused_creation),
            as_tokens(g.operator),
            g.slashes
        ),
        facts: vec![
            ("coordinator", g.coordinator),
            ("operator", g.operator),
            ("refused_creation", g.refused_creation),
            ("honest_slashes", i128::from(g.slashes)),
            ("reward", c.base.reward),
            ("coordinator_fee", c.base.coordinator_fee),
        ],
    })
}

pub(crate) fn threshold(_p: f64) -> String {
    "never: windows below minResponseWindow are refused at creation and at reassignment \
     (devnet 10 s, production 120 s), nobody slashed"
        .into()
}
