//! The watchtower: follows `ResultSubmitted` events, re-executes a deterministic sample of the
//! submitted optimistic results, and challenges one whose digest differs from what it computed
//! (posting the bond, equal to the task's collateral, after approving the market for it). It
//! then drives the dispute in the `DisputeCourt` (draw rounds, tally, settlement; see
//! `committee::drive_case`) and withdraws what it won.
//!
//! Sampling is a pure function of `(seed, task id)`. The seed is secret and random unless the
//! configuration pins it (to reproduce a run): with a public seed a cheater would know which
//! tasks are watched and cheat on the others. The watchtower keeps no database:
//! on start it reads the chain from the deployment block, and a task it already challenged is
//! recognised by the dispute's challenger, so a restart neither challenges twice nor abandons a
//! dispute.

use std::{
    collections::BTreeMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use alloy::{
    primitives::{Address, B256, U256},
    sol_types::SolEvent,
};
use axum::{Router, extract::State, http::header, response::IntoResponse, routing::get};
use prometheus_client::{encoding::text::encode, metrics::counter::Counter, registry::Registry};
use sha2::{Digest as _, Sha256};
use tokio_util::sync::CancellationToken;
use tracing::{debug, info, warn};
use verity_contracts::TaskMarket;
use verity_executor::Executor;
use verity_settlement::{
    Settlement, Status,
    events::{EventStream, MarketEvent, StreamConfig, StreamItem},
};

use crate::{
    blobs::Blobs,
    committee::{drive_case, reexecute},
    error::NodeError,
};

/// Whether the watchtower with `seed` re-executes `task` at `rate` (0.0..=1.0): the first eight
/// bytes of sha2-256(seed ‖ task id), as a fraction of 2^64, below `rate`.
pub fn is_sampled(seed: u64, task: U256, rate: f64) -> bool {
    if rate >= 1.0 {
        return true;
    }
    let mut h = Sha256::new();
    h.update(seed.to_be_bytes());
    h.update(task.to_be_bytes::<32>());
    let d = h.finalize();
    let mut word = [0u8; 8];
    word.copy_from_slice(&d[..8]);
    (u64::from_be_bytes(word) as f64) < rate * 2f64.powi(64)
}

/// Outcome of [`simulate_detection`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Detection {
    /// Tasks simulated.
    pub tasks: u64,
    /// Tasks whose operator cheated.
    pub cheated: u64,
    /// Cheated tasks the watchtower sampled, hence challenged.
    pub caught: u64,
}

/// A bounded, chain-free simulation of detection: over task ids `0..tasks`, the operator of a
/// task cheats with probability `cheat_rate` (a hash of the id, independent of the sampling),
/// and a watchtower with `seed` samples at `sample_rate` with [`is_sampled`], the function the
/// watchtower uses. A sampled cheat is caught: re-execution always finds a wrong digest, and
/// the devchain test `optimistic_cheat_is_challenged_by_the_watchtower_and_overturned_by_the_committee`
/// shows the challenge then wins against an honest committee. Dishonest committee majorities
/// are outside this model.
pub fn simulate_detection(tasks: u64, cheat_rate: f64, sample_rate: f64, seed: u64) -> Detection {
    let mut d = Detection {
        tasks,
        cheated: 0,
        caught: 0,
    };
    for i in 0..tasks {
        let id = U256::from(i);
        // The cheater's coin: the sampling function under an unrelated seed.
        if !is_sampled(seed ^ 0x5eed_c4ea_7000_0000, id, cheat_rate) {
            continue;
        }
        d.cheated += 1;
        if is_sampled(seed, id, sample_rate) {
            d.caught += 1;
        }
    }
    d
}

/// Watchtower counters (`verity_watchtower_*_total`).
#[derive(Debug)]
pub struct WatchtowerMetrics {
    registry: Registry,
    /// Submitted results picked for re-execution.
    pub sampled: Counter,
    /// Re-executions that agreed with the posted digest.
    pub matched: Counter,
    /// Challenges sent.
    pub challenged: Counter,
    /// Disputes that overturned the result (bond back plus the cheater's collateral).
    pub won: Counter,
    /// Disputes that upheld the result.
    pub lost: Counter,
}

impl Default for WatchtowerMetrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("verity_watchtower");
        let mut reg = |name: &str, help: &str| {
            let c = Counter::default();
            registry.register(name, help, c.clone());
            c
        };
        let sampled = reg("sampled", "Submitted results picked for re-execution");
        let matched = reg(
            "matched",
            "Re-executions that agreed with the posted result",
        );
        let challenged = reg("challenged", "Challenges sent");
        let won = reg("won", "Disputes that overturned the result");
        let lost = reg("lost", "Disputes that upheld the result");
        Self {
            registry,
            sampled,
            matched,
            challenged,
            won,
            lost,
        }
    }
}

impl WatchtowerMetrics {
    /// The text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}

/// `GET /metrics` for the watchtower.
pub fn app(metrics: Arc<WatchtowerMetrics>) -> Router {
    Router::new()
        .route("/metrics", get(render))
        .with_state(metrics)
}

async fn render(State(m): State<Arc<WatchtowerMetrics>>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        m.render(),
    )
}

/// What the watchtower does about one submitted result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Track {
    /// Sampled; not yet re-executed (or re-execution failed and is retried).
    Pending { posted: B256 },
    /// We challenged it; the dispute is open.
    Disputing,
    /// Nothing more to do.
    Done,
}

/// Sampling parameters.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sampling {
    /// Fraction re-executed, 0.0..=1.0.
    pub rate: f64,
    /// Seed of the per-task decision.
    pub seed: u64,
}

/// Most chunks one scan reads (the rest waits for the next round).
const MAX_SCAN_STEPS: usize = 256;

/// A watchtower for account `me` (whose key the settlement's provider holds).
#[derive(Debug)]
pub struct Watchtower<B> {
    s: Settlement,
    me: Address,
    blobs: B,
    executor: Arc<Executor>,
    sampling: Sampling,
    metrics: Arc<WatchtowerMetrics>,
    poll: Duration,
    /// The market's `ResultSubmitted` events, followed from the deployment block (created on
    /// the first scan).
    stream: tokio::sync::Mutex<Option<EventStream>>,
    tracked: Mutex<BTreeMap<U256, Track>>,
    /// Devnets only: the operator whose every result we challenge unchecked (see
    /// `WatchtowerConfig::accomplice_of`).
    accomplice_of: Option<Address>,
}

impl<B: Blobs> Watchtower<B> {
    /// A watchtower challenging from `me`.
    pub fn new(
        s: Settlement,
        me: Address,
        blobs: B,
        executor: Arc<Executor>,
        sampling: Sampling,
        metrics: Arc<WatchtowerMetrics>,
        poll: Duration,
    ) -> Self {
        Self {
            s,
            me,
            blobs,
            executor,
            sampling,
            metrics,
            poll,
            stream: tokio::sync::Mutex::new(None),
            tracked: Mutex::new(BTreeMap::new()),
            accomplice_of: None,
        }
    }

    /// **Devnets only**: act as `operator`'s second address, challenging every result it posts
    /// without re-executing and nobody else's (the self-challenge attack).
    pub fn with_accomplice_of(mut self, operator: Address) -> Self {
        warn!(target: "node::fault", %operator, "FAULT INJECTION ENABLED (devnet only): self-challenging accomplice");
        self.accomplice_of = Some(operator);
        self
    }

    /// Loops until `cancel`; a step in progress completes.
    pub async fn run(&self, cancel: CancellationToken) -> Result<(), NodeError> {
        info!(target: "node::watchtower", account = %self.me, rate = self.sampling.rate, seed = self.sampling.seed, "started");
        loop {
            if let Err(e) = self.tick().await {
                if e.is_fatal() {
                    return Err(e);
                }
                warn!(target: "node::watchtower", error = %e, "step failed; retrying next round");
            }
            tokio::select! {
                _ = cancel.cancelled() => break,
                _ = tokio::time::sleep(self.poll) => {}
            }
        }
        info!(target: "node::watchtower", "stopped");
        Ok(())
    }

    /// One round: scan new `ResultSubmitted` events, then step every tracked task once.
    pub async fn tick(&self) -> Result<(), NodeError> {
        self.scan().await?;
        let open: Vec<(U256, Track)> = self
            .tracked
            .lock()
            .map_err(|_| NodeError::Internal("watchtower state poisoned".into()))?
            .iter()
            .filter(|(_, t)| **t != Track::Done)
            .map(|(id, t)| (*id, *t))
            .collect();
        for (id, track) in open {
            let next = match track {
                Track::Pending { posted } => self.check(id, posted).await,
                Track::Disputing => self.drive(id).await,
                Track::Done => continue,
            };
            match next {
                Ok(t) => self.set(id, t)?,
                Err(e) if e.is_fatal() => return Err(e),
                Err(e) => warn!(target: "node::watchtower", task = %id, error = %e, "step failed"),
            }
        }
        Ok(())
    }

    fn set(&self, id: U256, t: Track) -> Result<(), NodeError> {
        self.tracked
            .lock()
            .map_err(|_| NodeError::Internal("watchtower state poisoned".into()))?
            .insert(id, t);
        Ok(())
    }

    async fn scan(&self) -> Result<(), NodeError> {
        let mut stream = self.stream.lock().await;
        let stream = stream.get_or_insert_with(|| {
            EventStream::new(
                Arc::new(
                    self.s
                        .market_logs()
                        .events(vec![TaskMarket::ResultSubmitted::SIGNATURE_HASH]),
                ),
                self.s.contracts(),
                StreamConfig {
                    confirmations: 0,
                    start_block: self.s.deployment().deployed_block,
                    ..StreamConfig::default()
                },
            )
        });
        let batch = stream
            .catch_up(MAX_SCAN_STEPS)
            .await
            .map_err(|e| NodeError::Chain(format!("following ResultSubmitted: {e}")))?;
        for item in batch.items {
            match item {
                StreamItem::Event(e) => {
                    if let Some(MarketEvent::ResultSubmitted(ev)) = e.market() {
                        self.on_submitted(ev.taskId, ev.operator, ev.resultDigest)?;
                    }
                }
                // A tracked task's status is read from the chain before anything is sent (a
                // result a reorg removed is not challenged), and a result the new branch posts
                // again replaces the digest tracked; nothing to undo here.
                StreamItem::Reorged { from_block } => {
                    debug!(target: "node::watchtower", from_block, "chain reorganized");
                }
            }
        }
        Ok(())
    }

    fn on_submitted(&self, id: U256, operator: Address, posted: B256) -> Result<(), NodeError> {
        let mut tracked = self
            .tracked
            .lock()
            .map_err(|_| NodeError::Internal("watchtower state poisoned".into()))?;
        if let Some(track) = tracked.get_mut(&id) {
            // Seen again after a reorg: the new branch's digest is the one to check.
            if let Track::Pending { posted: p } = track {
                *p = posted;
            }
            return Ok(());
        }
        let track = if operator == self.me {
            Track::Done
        } else if let Some(partner) = self.accomplice_of {
            if operator == partner {
                Track::Pending { posted }
            } else {
                Track::Done
            }
        } else if is_sampled(self.sampling.seed, id, self.sampling.rate) {
            self.metrics.sampled.inc();
            debug!(target: "node::watchtower", task = %id, "sampled");
            Track::Pending { posted }
        } else {
            Track::Done
        };
        tracked.insert(id, track);
        Ok(())
    }

    /// Re-executes a sampled task and challenges it if the posted digest is wrong.
    async fn check(&self, id: U256, posted: B256) -> Result<Track, NodeError> {
        let task = self.s.task(id).await?;
        match task.status {
            Status::Submitted => {}
            Status::Challenged if self.s.challenger_of(id).await? == self.me => {
                // Challenged by us before a restart.
                return Ok(Track::Disputing);
            }
            _ => return Ok(Track::Done),
        }
        if self.s.chain_time().await? > task.challenge_ends() {
            debug!(target: "node::watchtower", task = %id, "challenge window closed");
            return Ok(Track::Done);
        }
        if self.accomplice_of.is_some() {
            warn!(target: "node::fault", task = %id, bond = %task.collateral, "accomplice: challenging our partner's result unchecked");
            return self.challenge(id, &task).await;
        }
        let r = match reexecute(
            &self.blobs,
            &self.executor,
            task.program_digest,
            task.input_digest,
        )
        .await
        {
            Ok(r) => r,
            Err(e) => {
                warn!(target: "node::watchtower", task = %id, error = %e, "cannot re-execute; retrying");
                return Ok(Track::Pending { posted });
            }
        };
        if r.digest == posted {
            self.metrics.matched.inc();
            debug!(target: "node::watchtower", task = %id, "result matches");
            return Ok(Track::Done);
        }
        warn!(target: "node::watchtower", task = %id, %posted, computed = %r.digest, bond = %task.collateral, "wrong result; challenging");
        self.challenge(id, &task).await
    }

    /// Posts the bond and challenges `id`.
    async fn challenge(
        &self,
        id: U256,
        task: &verity_settlement::TaskInfo,
    ) -> Result<Track, NodeError> {
        let s = self.s.before(task.challenge_ends() + 1);
        s.approve_market(self.me, task.collateral).await?;
        match s.challenge(self.me, id).await {
            Ok(_) => {
                self.metrics.challenged.inc();
                info!(target: "node::watchtower", task = %id, "challenged");
                Ok(Track::Disputing)
            }
            Err(e)
                if matches!(
                    e.revert_name().as_deref(),
                    Some("WrongStatus" | "ChallengeWindowClosed")
                ) =>
            {
                // Someone else challenged first, or we were too late.
                info!(target: "node::watchtower", task = %id, error = %e, "challenge not accepted");
                Ok(Track::Done)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Drives the case (draw rounds, tally, settlement: see [`drive_case`]), then collects.
    async fn drive(&self, id: U256) -> Result<Track, NodeError> {
        if !drive_case(&self.s, self.me, id).await? {
            return Ok(Track::Disputing);
        }
        let status = self.s.status(id).await?;
        match status {
            // Overturned: the client was refunded and we were credited the bond plus a fifth of
            // the slashed collateral (or, with no verdict, the bond alone).
            Status::Refunded => {
                self.metrics.won.inc();
                info!(target: "node::watchtower", task = %id, "dispute won");
            }
            Status::Finalized => {
                self.metrics.lost.inc();
                warn!(target: "node::watchtower", task = %id, "dispute lost: the result stood");
            }
            _ => return Ok(Track::Disputing),
        }
        if !self.s.market_balance(self.me).await?.is_zero() {
            let amount = self.s.withdraw(self.me).await?;
            info!(target: "node::watchtower", %amount, "withdrew");
        }
        Ok(Track::Done)
    }
}

/// `verity watchtower run`: the account is `keys.operator` (it posts bonds and receives what
/// it wins); chain, deployment, gateways, data directory and metrics listener are the node's
/// settings, sampling is `[watchtower]`. Runs until `cancel`.
pub async fn run(
    cfg: crate::config::NodeConfig,
    cancel: CancellationToken,
) -> Result<(), NodeError> {
    use verity_executor::ExecutorConfig;
    use verity_store::{DiskStore, FetchingStore, GatewayClient, GatewayOptions, Limits};

    let setup = |e: &dyn std::fmt::Display| NodeError::Setup(e.to_string());
    let key = crate::keys::load(&cfg.keys.operator).map_err(|e| setup(&e))?;
    let me = key.address();
    let s = crate::daemon::connect(&cfg, &key)?;
    std::fs::create_dir_all(&cfg.store.data_dir)
        .map_err(|e| setup(&format!("creating {}: {e}", cfg.store.data_dir.display())))?;
    let limits = Limits::per_blob(cfg.store.max_blob_bytes);
    let local = DiskStore::open(cfg.store.data_dir.join("blobs"), limits).map_err(|e| setup(&e))?;
    let options = GatewayOptions {
        max_blob_bytes: cfg.store.max_blob_bytes,
        ..GatewayOptions::default()
    };
    let gateways = cfg
        .store
        .gateways
        .iter()
        .map(|g| GatewayClient::with_options(g, options))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| setup(&e))?;
    // The watchtower publishes nothing: no upload gateway.
    let blobs =
        crate::store_blobs::StoreBlobs::new(FetchingStore::new(Arc::new(local), gateways), None);
    let executor = Arc::new(Executor::new(ExecutorConfig::default()).map_err(|e| setup(&e))?);
    let metrics = Arc::new(WatchtowerMetrics::default());
    let mut server = None;
    if !cfg.metrics.listen.is_empty() {
        let listener = tokio::net::TcpListener::bind(&cfg.metrics.listen)
            .await
            .map_err(|e| {
                setup(&format!(
                    "binding metrics.listen {}: {e}",
                    cfg.metrics.listen
                ))
            })?;
        info!(target: "node::watchtower", addr = %cfg.metrics.listen, "metrics");
        let (m, c) = (metrics.clone(), cancel.clone());
        server = Some(tokio::spawn(async move {
            axum::serve(listener, app(m))
                .with_graceful_shutdown(c.cancelled_owned())
                .await
        }));
    }
    let tower = Watchtower::new(
        s,
        me,
        blobs,
        executor,
        Sampling {
            rate: cfg.watchtower.sample_rate,
            seed: cfg.watchtower.seed.unwrap_or_else(rand::random),
        },
        metrics,
        Duration::from_millis(cfg.chain.poll_interval_ms),
    );
    let tower = match cfg.watchtower.accomplice_of {
        Some(partner) => tower.with_accomplice_of(partner),
        None => tower,
    };
    let result = tower.run(cancel.clone()).await;
    cancel.cancel();
    if let Some(server) = server {
        match server.await {
            Ok(Err(e)) => {
                warn!(target: "node::watchtower", error = %e, "metrics server stopped with an error")
            }
            Err(e) => warn!(target: "node::watchtower", error = %e, "metrics server panicked"),
            Ok(Ok(())) => {}
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sampling_is_deterministic_and_close_to_the_rate() {
        let n = 10_000u64;
        for rate in [0.0, 0.05, 0.3, 1.0] {
            let hits = (0..n)
                .filter(|i| is_sampled(7, U256::from(*i), rate))
                .count() as f64;
            let measured = hits / n as f64;
            assert!((measured - rate).abs() < 0.02, "rate {rate}: {measured}");
        }
        let a: Vec<bool> = (0..100)
            .map(|i| is_sampled(1, U256::from(i), 0.5))
            .collect();
        let b: Vec<bool> = (0..100)
            .map(|i| is_sampled(1, U256::from(i), 0.5))
            .collect();
        let c: Vec<bool> = (0..100)
            .map(|i| is_sampled(2, U256::from(i), 0.5))
            .collect();
        assert_eq!(a, b, "same seed, same sample");
        assert_ne!(a, c, "another seed samples other tasks");
    }

    #[test]
    fn detection_rate_tracks_the_sample_rate() {
        // cargo test -p verity-node --lib detection_rate -- --nocapture
        let (n, c) = (100_000, 0.1);
        for s in [0.01, 0.05, 0.1, 0.25, 0.5, 1.0] {
            let d = simulate_detection(n, c, s, 42);
            let rate = d.caught as f64 / d.cheated as f64;
            println!(
                "N={n} c={c} s={s}: cheated={} caught={} caught/cheated={rate:.4}",
                d.cheated, d.caught
            );
            assert!((d.cheated as f64 / n as f64 - c).abs() < 0.01);
            assert!((rate - s).abs() < 0.02, "s={s}: {rate}");
        }
        assert_eq!(simulate_detection(1_000, 0.0, 1.0, 1).cheated, 0);
        let all = simulate_detection(1_000, 1.0, 1.0, 1);
        assert_eq!((all.cheated, all.caught), (1_000, 1_000));
    }

    #[test]
    fn metrics_render_with_the_watchtower_prefix() {
        let m = WatchtowerMetrics::default();
        m.sampled.inc();
        m.challenged.inc();
        let text = m.render();
        assert!(text.contains("verity_watchtower_sampled_total 1"), "{text}");
        assert!(
            text.contains("verity_watchtower_challenged_total 1"),
            "{text}"
        );
        assert!(text.contains("verity_watchtower_won_total 0"), "{text}");
    }
}
