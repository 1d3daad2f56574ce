//! `GET /v1/disputes` over a real case on the devchain: a challenged optimistic result whose
//! committee splits (one member agrees, one reveals another digest, one stays silent) is
//! escalated to the arbiter, and the API shows it with its evidence (both digests, the votes,
//! the committee, the program and input, the arbiter and its deadline) until the arbiter
//! decides. A second challenge, its committee not yet drawn, shows in the unfiltered list only.
//! The typed errors (no court, an unreadable court, bad parameters) use the fixture world.

use std::sync::Arc;

use alloy::{
    primitives::{Address, B256, keccak256},
    providers::{Provider, ProviderBuilder},
};
use axum::{Router, http::StatusCode};
use serde_json::{Value, json};
use verity_coordinator::{
    api::{self, ApiMetrics, codes},
    clock::ManualClock,
    disputes::CourtReader,
    store::Store,
};
use verity_settlement::{CaseInfo, CasePhase, Deployment, Mode, Settlement, TaskId, TxOptions};
use verity_store::Cid;

use crate::{
    api_openapi::{conforms_app, doc},
    api_world::{self, expect_error, get, world},
    devnet::Net,
    heartbeat::NOW,
    support::TestDb,
};

/// The court's draw-and-commit window and reveal window in the test deployment, seconds.
const WINDOW: u32 = 60;
const REVEAL: u32 = 60;

/// A devchain with one escalated case and one case still drawing, indexed into a store.
pub(crate) struct Escalation {
    pub(crate) net: Net,
    pub(crate) app: Router,
    /// The court's arbiter (the deployer, on the devnet).
    pub(crate) arbiter: Address,
    /// The escalated task and its case.
    pub(crate) task: TaskId,
    pub(crate) case: CaseInfo,
    /// The challenged task whose committee is not drawn.
    pub(crate) drawing: TaskId,
    pub(crate) claimed: B256,
    pub(crate) dissent: B256,
}

fn salt(i: u8) -> B256 {
    B256::repeat_byte(i + 1)
}

/// Mines the seed block and draws until the committee is complete.
async fn draw(net: &Net, task: TaskId) -> CaseInfo {
    for _ in 0..8 {
        net.rpc("evm_mine", json!([])).await;
        net.s.draw_committee(net.client, task).await.unwrap();
        let c = net.s.case(task).await.unwrap();
        if c.phase != CasePhase::Drawing {
            return c;
        }
    }
    panic!("committee of task {task} not drawn in 8 rounds");
}

/// Challenges `op`'s result `digest` on a new optimistic task.
async fn challenged(net: &Net, op: Address, digest: B256) -> TaskId {
    let id = net.create(&net.s, net.client, Mode::Optimistic, 10).await;
    net.s.assign(net.coordinator, id, &[op]).await.unwrap();
    net.s.submit_result(op, id, digest).await.unwrap();
    net.s.challenge(net.client2, id).await.unwrap();
    id
}

pub(crate) async fn escalation(db: &TestDb) -> Escalation {
    let net = Net::new(6).await;
    let arbiter = net.keys[0].address();
    net.s
        .set_dispute_params(arbiter, 3, WINDOW, REVEAL)
        .await
        .unwrap();
    let (claimed, dissent) = (keccak256("claimed"), keccak256("recomputed"));
    let task = challenged(&net, net.operators[0], claimed).await;
    let drawn = draw(&net, task).await;
    let c = drawn.committee.clone();
    assert_eq!(c.len(), 3, "{drawn:?}");
    // One member for the operator's digest, one for another, one silent: no majority.
    net.s
        .commit_ballot(c[0], task, claimed, salt(0))
        .await
        .unwrap();
    net.s
        .commit_ballot(c[1], task, dissent, salt(1))
        .await
        .unwrap();
    net.advance(u64::from(WINDOW) + 1).await;
    net.s
        .reveal_ballot(c[0], task, claimed, salt(0))
        .await
        .unwrap();
    net.s
        .reveal_ballot(c[1], task, dissent, salt(1))
        .await
        .unwrap();
    net.advance(u64::from(REVEAL) + 1).await;
    net.s.tally(net.client, task).await.unwrap();
    let case = net.s.case(task).await.unwrap();
    assert_eq!(case.phase, CasePhase::Escalated, "{case:?}");
    assert!(case.arbiter_deadline > net.now().await);

    let drawing = challenged(&net, net.operators[1], keccak256("other result")).await;
    assert_eq!(net.s.case(drawing).await.unwrap().phase, CasePhase::Drawing);

    let store = db.open().await;
    let shared: Arc<dyn Store> = Arc::new(store.clone());
    net.indexer(shared, 1_000).sync(1_000).await.unwrap();
    let mut state = api_world::state(
        &store,
        ManualClock::new(net.now().await),
        Arc::new(ApiMetrics::new()),
    );
    state.disputes = Some(Arc::new(CourtReader::new(net.fresh())));
    let app = api::app(state, 16 * 1024);
    Escalation {
        net,
        app,
        arbiter,
        task,
        case,
        drawing,
        claimed,
        dissent,
    }
}

fn cid(d: B256) -> String {
    Cid::from_digest(d.0).to_string()
}

fn items(page: &Value) -> &Vec<Value> {
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items: {page}"))
}

async fn the_api_shows_an_escalated_case_with_its_evidence_until_the_arbiter_decides(db: TestDb) {
    let e = escalation(&db).await;
    let c = &e.case.committee;

    let (status, page) = get(&e.app, "/v1/disputes?escalated=true").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(items(&page).len(), 1, "only the escalated case: {page}");
    assert_eq!(page["next"], Value::Null);
    let d = &items(&page)[0];
    assert_eq!(d["taskId"], json!(e.task.to_string()));
    assert_eq!(d["phase"], "escalated");
    assert_eq!(d["operator"], json!(e.net.operators[0]));
    assert_eq!(d["claimedDigest"], json!(e.claimed));
    assert_eq!(d["challenger"], json!(e.net.client2));
    assert_eq!(d["audit"], false);
    assert_eq!(d["committee"], json!(c));
    assert_eq!(d["committeeSize"], 3);
    assert_eq!(
        d["votes"],
        json!({"committed": 2, "revealed": 2, "agree": 1, "disagree": 1})
    );
    assert_eq!(
        d["ballots"],
        json!([
            {"member": c[0], "digest": e.claimed, "agrees": true},
            {"member": c[1], "digest": e.dissent, "agrees": false},
        ])
    );
    assert_eq!(d["dissentingDigests"], json!([e.dissent]));
    assert_eq!(d["programDigest"], json!(keccak256("program")));
    assert_eq!(d["programCid"], json!(cid(keccak256("program"))));
    assert_eq!(d["inputDigest"], json!(keccak256("input")));
    assert_eq!(d["inputCid"], json!(cid(keccak256("input"))));
    assert_eq!(d["arbiter"], json!(e.arbiter));
    assert_eq!(d["arbiterDeadline"], json!(e.case.arbiter_deadline));
    assert_eq!(d["revealDeadline"], json!(e.case.reveal_deadline));

    // Unfiltered: the case still drawing its committee too, in task id order.
    let (status, page) = get(&e.app, "/v1/disputes").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let ids: Vec<&Value> = items(&page).iter().map(|d| &d["taskId"]).collect();
    assert_eq!(
        ids,
        [&json!(e.task.to_string()), &json!(e.drawing.to_string())]
    );
    let drawing = &items(&page)[1];
    assert_eq!(drawing["phase"], "drawing");
    assert_eq!(drawing["operator"], json!(e.net.operators[1]));
    assert_eq!(drawing["ballots"], json!([]));
    assert_eq!(drawing["arbiterDeadline"], Value::Null);
    assert_eq!(drawing["commitDeadline"], Value::Null);

    // Paged by task id like the other lists.
    let (_, first) = get(&e.app, "/v1/disputes?limit=1").await;
    assert_eq!(items(&first).len(), 1);
    assert_eq!(first["next"], json!(e.task.to_string()));
    let (_, second) = get(&e.app, &format!("/v1/disputes?limit=1&after={}", e.task)).await;
    assert_eq!(items(&second)[0]["taskId"], json!(e.drawing.to_string()));
    let (_, desc) = get(&e.app, "/v1/disputes?order=desc&limit=1").await;
    assert_eq!(items(&desc)[0]["taskId"], json!(e.drawing.to_string()));
    // Filtered pages skip what is not escalated and still say where to go on.
    let (_, skipped) = get(&e.app, "/v1/disputes?escalated=true&order=desc&limit=1").await;
    assert_eq!(items(&skipped).len(), 0, "{skipped}");
    assert_eq!(skipped["next"], json!(e.drawing.to_string()));

    let doc = doc();
    for uri in [
        "/v1/disputes",
        "/v1/disputes?escalated=true",
        "/v1/disputes?limit=1",
    ] {
        assert_eq!(conforms_app(&e.app, &doc, "GET", uri).await, StatusCode::OK);
    }

    // The arbiter decides (with its own key, as `verity dispute arbitrate` does): nothing is
    // escalated any more, and the case shows as decided until the market settles it.
    e.net.s.arbitrate(e.arbiter, e.task, true).await.unwrap();
    let (_, page) = get(&e.app, "/v1/disputes?escalated=true").await;
    assert_eq!(items(&page).len(), 0, "{page}");
    let (_, page) = get(&e.app, "/v1/disputes").await;
    assert_eq!(items(&page)[0]["phase"], "decided", "{page}");
    assert_eq!(items(&page)[0]["arbiterDeadline"], Value::Null);
}

#[tokio::test]
async fn the_api_shows_an_escalated_case_with_its_evidence_until_the_arbiter_decides_sqlite() {
    the_api_shows_an_escalated_case_with_its_evidence_until_the_arbiter_decides(TestDb::sqlite())
        .await;
}

#[tokio::test]
async fn the_api_shows_an_escalated_case_with_its_evidence_until_the_arbiter_decides_postgres() {
    let Some(db) = TestDb::postgres("disputes_escalated").await else {
        return;
    };
    the_api_shows_an_escalated_case_with_its_evidence_until_the_arbiter_decides(db).await;
}

#[tokio::test]
async fn disputes_answer_typed_errors_without_a_court_with_an_unreadable_one_and_bad_input() {
    let db = TestDb::sqlite();
    let w = world(&db, NOW).await;
    let doc = doc();
    // The fixture's coordinator follows no deployment.
    expect_error(
        &w.app,
        "/v1/disputes",
        StatusCode::SERVICE_UNAVAILABLE,
        codes::NO_COURT,
    )
    .await;
    assert_eq!(
        conforms_app(&w.app, &doc, "GET", "/v1/disputes").await,
        StatusCode::SERVICE_UNAVAILABLE
    );
    // Input is checked before the court is needed.
    expect_error(
        &w.app,
        "/v1/disputes?escalated=yes",
        StatusCode::BAD_REQUEST,
        codes::BAD_PARAM,
    )
    .await;
    expect_error(
        &w.app,
        "/v1/disputes?escalated=true&escalated=false",
        StatusCode::BAD_REQUEST,
        codes::BAD_PARAM,
    )
    .await;
    expect_error(
        &w.app,
        "/v1/disputes?status=challenged",
        StatusCode::BAD_REQUEST,
        codes::UNKNOWN_PARAM,
    )
    .await;
    expect_error(
        &w.app,
        "/v1/disputes?limit=101",
        StatusCode::BAD_REQUEST,
        codes::LIMIT_TOO_LARGE,
    )
    .await;

    // A court behind an RPC endpoint that refuses connections (the fixture has a challenged
    // task, so the court is asked): 502, and the message does not name the endpoint.
    let dead = "http://127.0.0.1:9";
    let provider = ProviderBuilder::new()
        .connect_http(dead.parse().unwrap())
        .erased();
    let d = Deployment {
        chain_id: 31337,
        token: Address::repeat_byte(1),
        registry: Address::repeat_byte(2),
        market: Address::repeat_byte(3),
        verifiers: Address::repeat_byte(4),
        court: Address::repeat_byte(5),
        deployed_block: 1,
        timelock: Address::ZERO,
    };
    let mut state = w.state.clone();
    state.disputes = Some(Arc::new(CourtReader::new(Settlement::new(
        provider,
        d,
        TxOptions::default(),
    ))));
    let app = api::app(state, 16 * 1024);
    let (status, v) = get(&app, "/v1/disputes").await;
    assert_eq!(
        (status, api_world::code(&v)),
        (StatusCode::BAD_GATEWAY, codes::COURT_READ),
        "{v}"
    );
    assert!(
        !v.to_string().contains("127.0.0.1"),
        "the RPC endpoint leaked: {v}"
    );
    assert_eq!(
        conforms_app(&app, &doc, "GET", "/v1/disputes").await,
        StatusCode::BAD_GATEWAY
    );
}
