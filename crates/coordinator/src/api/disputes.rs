//! `GET /v1/disputes?limit&after&order&escalated`: open disputes (challenges and audits) with
//! their evidence, for the arbiter and anyone watching. The store says which tasks are
//! disputed; each case is read from the court on request ([`crate::disputes`] says why).
//!
//! Paging walks the disputed tasks by id: `next` is the last task looked at when the page was
//! full, so with `escalated=true` a page may hold fewer items than `limit` (the cases that are
//! not escalated were skipped) and still have a `next`. Follow `next` until it is `null`.

use alloy::primitives::B256;
use axum::{Json, extract::State, http::StatusCode, http::Uri};
use verity_settlement::CasePhase;

use super::{
    ApiState,
    error::{ApiError, codes},
    input::Params,
    model::{BallotView, DisputePhase, DisputeView, PageOf, VoteCount},
    tasks::cid,
};
use crate::{
    disputes::CaseEvidence,
    store::{TaskQuery, TaskRecord, TaskStatus},
};

fn phase(p: CasePhase) -> Option<DisputePhase> {
    match p {
        CasePhase::Drawing => Some(DisputePhase::Drawing),
        CasePhase::Voting => Some(DisputePhase::Voting),
        CasePhase::Escalated => Some(DisputePhase::Escalated),
        CasePhase::Decided => Some(DisputePhase::Decided),
        CasePhase::None | CasePhase::Closed => None,
    }
}

fn view(
    t: &TaskRecord,
    e: CaseEvidence,
    arbiter: alloy::primitives::Address,
) -> Option<DisputeView> {
    let c = e.case;
    let phase = phase(c.phase)?;
    let mut dissenting: Vec<B256> = Vec::new();
    for r in e.reveals.iter().filter(|r| !r.agrees) {
        if !dissenting.contains(&r.digest) {
            dissenting.push(r.digest);
        }
    }
    let nonzero = |s: u64| (s != 0).then_some(s);
    Some(DisputeView {
        task_id: t.id,
        phase,
        operator: c.operator,
        claimed_digest: c.claimed,
        challenger: c.challenger,
        audit: c.challenger.is_zero(),
        committee: c.committee,
        committee_size: c.size,
        votes: VoteCount {
            committed: c.committed,
            revealed: c.revealed,
            agree: c.agree,
            disagree: c.disagree,
        },
        ballots: e
            .reveals
            .iter()
            .map(|r| BallotView {
                member: r.member,
                digest: r.digest,
                agrees: r.agrees,
            })
            .collect(),
        dissenting_digests: dissenting,
        program_digest: t.program_digest,
        program_cid: cid(t.program_digest),
        input_digest: t.input_digest,
        input_cid: cid(t.input_digest),
        arbiter,
        arbiter_deadline: (c.phase == CasePhase::Escalated)
            .then_some(c.arbiter_deadline)
            .and_then(nonzero),
        commit_deadline: nonzero(c.commit_deadline),
        reveal_deadline: nonzero(c.reveal_deadline),
    })
}

/// `GET /v1/disputes`.
pub(crate) async fn list(
    State(state): State<ApiState>,
    uri: Uri,
) -> Result<Json<PageOf<DisputeView>>, ApiError> {
    let p = Params::parse(uri.query(), &["limit", "after", "order", "escalated"])?;
    let q = TaskQuery {
        limit: p.limit()?,
        after: p.after_task()?,
        order: p.order()?,
        status: Some(TaskStatus::Challenged),
    };
    let escalated_only = p.flag("escalated")?;
    let Some(court) = state.disputes.as_ref() else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            codes::NO_COURT,
            "this coordinator follows no deployment (chain.deployment is empty), so it cannot \
             read the dispute court",
        ));
    };
    let limit = q.limit as usize;
    let tasks = state.views.task_page(q).await?;
    let mut items = Vec::new();
    if !tasks.is_empty() {
        let arbiter = court.arbiter().await?;
        for t in &tasks {
            let Some(e) = court.evidence(t.id).await? else {
                continue;
            };
            if escalated_only && e.case.phase != CasePhase::Escalated {
                continue;
            }
            items.extend(view(t, e, arbiter));
        }
    }
    let next = (tasks.len() == limit)
        .then(|| tasks.last().map(|t| t.id.to_string()))
        .flatten();
    Ok(Json(PageOf { items, next }))
}
