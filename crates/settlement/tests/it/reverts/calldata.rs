//! The `Task` every market call carries in calldata must be the one whose hash the task's slot
//! holds: each function rejects a tampered one with `TaskMismatch` and changes nothing.

use alloy::primitives::{Address, B256, U256, aliases::U96};
use verity_settlement::{Mode, TaskId, TaskRecord};

use super::{Frozen, mock_verifier, proof_for};
use crate::harness::*;

/// Ways to lie about a task: more bounty, another client, other operators, another result, an
/// earlier submission time.
fn tampered(rec: &TaskRecord, stranger: Address) -> Vec<(&'static str, TaskRecord)> {
    let mut out = Vec::new();
    let mut r = rec.clone();
    r.task.request.bounty += U96::from(1);
    out.push(("bounty", r));
    let mut r = rec.clone();
    r.task.client = stranger;
    out.push(("client", r));
    let mut r = rec.clone();
    r.task.request.commitDeadline += 1;
    out.push(("deadline", r));
    if !rec.task.operators.is_empty() {
        let mut r = rec.clone();
        r.task.operators[0] = stranger;
        out.push(("operator", r));
        let mut r = rec.clone();
        r.task.assigner = stranger;
        out.push(("assigner", r));
    }
    if rec.task.submittedAt != 0 {
        let mut r = rec.clone();
        r.task.result = B256::repeat_byte(0xee);
        out.push(("result", r));
        let mut r = rec.clone();
        r.task.submittedAt -= 1;
        out.push(("submittedAt", r));
    }
    out
}

async fn record(net: &Net, id: TaskId) -> TaskRecord {
    net.s.task_record(id).await.expect("record")
}

#[tokio::test]
async fn every_call_rejects_a_tampered_task() {
    let net = Net::new().await;
    let stranger = net.keeper;
    let rep_req = net.request(Mode::Replicated, 100).await;
    let opt_req = net.request(Mode::Optimistic, 100).await;
    let mut zk_req = net.request(Mode::ZkProof, 100).await;
    zk_req.verifier_id = mock_verifier(&net).await;
    let (open, _) = net.s.create_task(net.client, &opt_req).await.unwrap();
    let rep = net
        .open_and_assign(&rep_req, &[net.op(0), net.op(1), net.op(2)])
        .await;
    let c = net.commitment(rep, net.op(0), digest("out"), salt(1));
    net.s.commit(net.op(0), rep, c).await.unwrap();
    let commit_block = net.s.block_number().await.unwrap();
    let opt = net.open_and_assign(&opt_req, &[net.op(3)]).await;
    let zk = net.open_and_assign(&zk_req, &[net.op(4)]).await;
    let sub = net.open_and_assign(&opt_req, &[net.op(5)]).await;
    net.s
        .submit_result(net.op(5), sub, digest("out"))
        .await
        .unwrap();
    let disputed = net.open_and_assign(&opt_req, &[net.op(6)]).await;
    net.s
        .submit_result(net.op(6), disputed, digest("out"))
        .await
        .unwrap();
    net.s.challenge(net.challenger, disputed).await.unwrap();

    let (open_r, rep_r, opt_r, zk_r, sub_r, dis_r) = (
        record(&net, open).await,
        record(&net, rep).await,
        record(&net, opt).await,
        record(&net, zk).await,
        record(&net, sub).await,
        record(&net, disputed).await,
    );
    let views = [
        net.s.task(open).await.unwrap(),
        net.s.task(rep).await.unwrap(),
        net.s.task(sub).await.unwrap(),
        net.s.task(disputed).await.unwrap(),
    ];
    let f = Frozen::take(&net).await;
    let mm = "TaskMismatch";
    for (what, r) in tampered(&open_r, stranger) {
        println!("open task, tampered {what}");
        expect_revert(net.s.cancel_with(net.client, &r).await, mm);
        expect_revert(
            net.s.assign_with(net.coordinator, &r, &[net.op(0)]).await,
            mm,
        );
        expect_revert(net.s.claim_timeout_with(net.keeper, &r).await, mm);
    }
    for (what, r) in tampered(&rep_r, stranger) {
        println!("replicated task, tampered {what}");
        let op = net.op(1);
        let c = net.commitment(rep, op, digest("out"), salt(2));
        expect_revert(net.s.commit_with(op, &r, c).await, mm);
        expect_revert(
            net.s
                .reveal_with(net.op(0), &r, digest("out"), salt(1), commit_block)
                .await,
            mm,
        );
        expect_revert(net.s.decline_with(op, &r).await, mm);
        expect_revert(
            net.s.finalize_with(net.keeper, &r, &[B256::ZERO; 3]).await,
            mm,
        );
    }
    for (what, r) in tampered(&opt_r, stranger) {
        println!("optimistic task, tampered {what}");
        let op = net.op(3);
        expect_revert(net.s.submit_result_with(op, &r, digest("out")).await, mm);
        expect_revert(net.s.decline_with(op, &r).await, mm);
        expect_revert(net.s.claim_timeout_with(net.keeper, &r).await, mm);
    }
    for (what, r) in tampered(&zk_r, stranger) {
        println!("zk task, tampered {what}");
        let op = net.op(4);
        let proof = proof_for(&net, &zk_req, zk, op, digest("out"));
        expect_revert(
            net.s.submit_proof_with(op, &r, digest("out"), proof).await,
            mm,
        );
    }
    for (what, r) in tampered(&sub_r, stranger) {
        println!("submitted task, tampered {what}");
        expect_revert(net.s.challenge_with(net.challenger, &r).await, mm);
        expect_revert(net.s.finalize_with(net.keeper, &r, &[]).await, mm);
    }
    for (what, r) in tampered(&dis_r, stranger) {
        println!("challenged task, tampered {what}");
        expect_revert(net.s.resolve_dispute_with(net.keeper, &r).await, mm);
    }
    f.check(&net).await;
    assert_eq!(
        [
            net.s.task(open).await.unwrap(),
            net.s.task(rep).await.unwrap(),
            net.s.task(sub).await.unwrap(),
            net.s.task(disputed).await.unwrap(),
        ],
        views
    );
    // The untampered records still work.
    net.s.cancel_with(net.client, &open_r).await.unwrap();
    net.s
        .submit_result_with(net.op(3), &opt_r, digest("out"))
        .await
        .unwrap();
}

#[tokio::test]
async fn replicated_finalize_rejects_wrong_revealed_digests() {
    let net = Net::new().await;
    let ops = [net.op(0), net.op(1), net.op(2)];
    let req = net.request(Mode::Replicated, 100).await;
    let id = net.open_and_assign(&req, &ops).await;
    for (i, op) in ops.iter().enumerate() {
        let c = net.commitment(id, *op, digest("out"), salt(i as u8));
        net.s.commit(*op, id, c).await.unwrap();
    }
    for (i, op) in ops.iter().enumerate() {
        net.s
            .reveal(*op, id, digest("out"), salt(i as u8))
            .await
            .unwrap();
    }
    let rec = record(&net, id).await;
    let view = net.s.task(id).await.unwrap();
    let f = Frozen::take(&net).await;
    let out = digest("out");
    // A digest other than the one revealed for a seat, or a revealed seat passed as silent.
    for digests in [
        [out, digest("other"), out],
        [out, out, B256::ZERO],
        [B256::ZERO, B256::ZERO, B256::ZERO],
    ] {
        expect_revert(
            net.s.finalize_with(net.keeper, &rec, &digests).await,
            "RevealMismatch",
        );
    }
    expect_revert(
        net.s.finalize_with(net.keeper, &rec, &[out, out]).await,
        "WrongOperatorCount",
    );
    f.check(&net).await;
    assert_eq!(net.s.task(id).await.unwrap(), view);
    net.s.finalize(net.keeper, id).await.unwrap();
    let paid = net.s.market_balance(ops[0]).await.unwrap();
    assert!(paid > U256::ZERO);
}
