//! `verity node run`: set up from configuration, make sure the operator is registered and
//! staked, then run the worker, the heartbeat sender and the metrics endpoint until cancelled.

use std::{sync::Arc, time::Duration};

use alloy::{
    network::EthereumWallet,
    primitives::{Address, Bytes, U256, keccak256},
    providers::ProviderBuilder,
    signers::local::PrivateKeySigner,
};
use tokio_util::sync::CancellationToken;
use tracing::{info, warn};
use verity_executor::{Executor, ExecutorConfig};
use verity_primitives::capability;
use verity_settlement::{OperatorProfile, Settlement, TxOptions};
use verity_store::{DiskStore, FetchingStore, GatewayClient, GatewayOptions, Limits};

use crate::{
    NodeError,
    config::NodeConfig,
    db::{Phase, TaskDb},
    heartbeat::{self, Heartbeat},
    keys,
    metrics::{self, Metrics},
    prover::{KeySource, Prover},
    store_blobs::StoreBlobs,
    task_logs::{CoordinatorLogs, LogSink},
    worker::Worker,
};

fn setup(e: impl std::fmt::Display) -> NodeError {
    NodeError::Setup(e.to_string())
}

/// A connected settlement client for the operator key.
pub fn connect(cfg: &NodeConfig, operator: &PrivateKeySigner) -> Result<Settlement, NodeError> {
    let deployment = verity_config_files::deployment::load(&cfg.chain.deployment).map_err(setup)?;
    let url = cfg
        .chain
        .rpc_url
        .parse()
        .map_err(|e| setup(format!("chain.rpc_url: {e}")))?;
    let provider = ProviderBuilder::new()
        .wallet(EthereumWallet::from(operator.clone()))
        .connect_http(url);
    let opts = TxOptions {
        confirmations: cfg.chain.confirmations,
        ..TxOptions::default()
    };
    Ok(Settlement::new(provider, deployment, opts))
}

/// Registers the operator (with the node key as signer) if needed, and tops its stake up to
/// the configured amount.
pub async fn ensure_registered(
    s: &Settlement,
    cfg: &NodeConfig,
    me: Address,
    node_key: Address,
) -> Result<(), NodeError> {
    let info = s.operator(me).await?;
    if !info.registered {
        let profile = OperatorProfile {
            signer: node_key,
            hardware_hash: keccak256(hardware_description()),
            metadata_cid: Bytes::new(),
            region: cfg.operator.region,
            capabilities: cfg.operator.capabilities,
        };
        s.register(me, &profile).await?;
        info!(target: "node::daemon", operator = %me, signer = %node_key, "registered");
    }
    let want = U256::from(cfg.operator.stake) * U256::from(10u64).pow(U256::from(18u64));
    let have = s.operator(me).await?.stake;
    if have < want {
        let top_up = want - have;
        s.approve_registry(me, top_up).await?;
        s.stake(me, top_up).await?;
        info!(target: "node::daemon", operator = %me, %top_up, "staked");
    }
    Ok(())
}

fn hardware_description() -> String {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    format!(
        "{} {} cores={cores}",
        std::env::consts::OS,
        std::env::consts::ARCH
    )
}

/// Runs the node until `cancel`. In-flight tasks are persisted and resume on the next start.
pub async fn run(cfg: NodeConfig, cancel: CancellationToken) -> Result<(), NodeError> {
    let operator = keys::load(&cfg.keys.operator).map_err(setup)?;
    let node_key = keys::load(&cfg.keys.node).map_err(setup)?;
    let me = operator.address();
    let s = connect(&cfg, &operator)?;
    ensure_registered(&s, &cfg, me, node_key.address()).await?;

    std::fs::create_dir_all(&cfg.store.data_dir)
        .map_err(|e| setup(format!("creating {}: {e}", cfg.store.data_dir.display())))?;
    let db = TaskDb::open(&cfg.store.data_dir.join("node.db")).await?;
    let limits = Limits::per_blob(cfg.store.max_blob_bytes);
    let local = DiskStore::open(cfg.store.data_dir.join("blobs"), limits).map_err(setup)?;
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
        .map_err(setup)?;
    let upload_to = gateways.first().cloned();
    let blobs = StoreBlobs::new(FetchingStore::new(Arc::new(local), gateways), upload_to);
    let executor = Arc::new(Executor::new(ExecutorConfig::default()).map_err(setup)?);
    let metrics = Arc::new(Metrics::default());

    let mut services = tokio::task::JoinSet::new();
    if !cfg.metrics.listen.is_empty() {
        let listener = tokio::net::TcpListener::bind(&cfg.metrics.listen)
            .await
            .map_err(|e| {
                setup(format!(
                    "binding metrics.listen {}: {e}",
                    cfg.metrics.listen
                ))
            })?;
        info!(target: "node::daemon", addr = %listener.local_addr().map_err(setup)?, "metrics");
        let (m, c) = (metrics.clone(), cancel.clone());
        services.spawn(async move { metrics::serve(listener, m, c).await.map_err(setup) });
    }
    let mut log_sink: Option<Arc<dyn LogSink>> = None;
    if !cfg.heartbeat.coordinator_url.is_empty() {
        let d = s.deployment();
        log_sink = Some(Arc::new(CoordinatorLogs::new(
            &cfg.heartbeat.coordinator_url,
            node_key.clone(),
            heartbeat::domain(d.chain_id, d.registry),
        )));
        let hb = HeartbeatSender::new(&cfg, &s, me, node_key, db.clone());
        services.spawn(hb.run(cancel.clone()));
    }
    let chain_id = s.deployment().chain_id;
    let worker = Worker::new(
        s,
        me,
        db,
        blobs,
        executor,
        metrics,
        Duration::from_millis(cfg.chain.poll_interval_ms),
    )
    .with_confirmations(cfg.chain.confirmations)
    .with_concurrency(cfg.operator.max_concurrent_tasks as usize)
    .with_fault(cfg.fault.behaviour)
    .with_committee(cfg.committee.serve);
    let worker = match log_sink {
        Some(sink) => worker.with_logs(sink),
        None => worker,
    };
    let worker = if capability::has(cfg.operator.capabilities, capability::ZK_PROVE) {
        info!(target: "node::daemon", "proving ZkProof tasks (zk-prove capability)");
        let prover = Prover::for_chain(chain_id, KeySource::from_env()).map_err(setup)?;
        worker.with_prover(Arc::new(prover))
    } else {
        worker
    };
    let result = worker.run(cancel.clone()).await;
    cancel.cancel();
    while let Some(joined) = services.join_next().await {
        match joined {
            Ok(Err(e)) => {
                warn!(target: "node::daemon", error = %e, "service stopped with an error")
            }
            Err(e) => warn!(target: "node::daemon", error = %e, "service panicked"),
            Ok(Ok(())) => {}
        }
    }
    result
}

/// Sends a signed heartbeat to the coordinator every interval.
#[derive(Debug)]
struct HeartbeatSender {
    url: String,
    interval: Duration,
    domain: alloy::sol_types::Eip712Domain,
    key: PrivateKeySigner,
    template: Heartbeat,
    http: reqwest::Client,
    /// Where the work in hand is counted (free slots and load are reported from it).
    db: TaskDb,
    slots: u32,
}

impl HeartbeatSender {
    fn new(
        cfg: &NodeConfig,
        s: &Settlement,
        me: Address,
        key: PrivateKeySigner,
        db: TaskDb,
    ) -> Self {
        let d = s.deployment();
        let mut template = heartbeat::example(me, 0, 0);
        template.cpuCores = std::thread::available_parallelism()
            .map(|n| n.get() as u32)
            .unwrap_or(1);
        template.freeSlots = cfg.operator.max_concurrent_tasks;
        template.pricePerMegafuel = U256::from(cfg.operator.price_per_megafuel);
        template.region = cfg.operator.region;
        template.greenEnergyPct = cfg.operator.green_energy_pct;
        template.capabilities = cfg.operator.capabilities;
        Self {
            url: format!(
                "{}/v1/heartbeats",
                cfg.heartbeat.coordinator_url.trim_end_matches('/')
            ),
            interval: Duration::from_secs(cfg.heartbeat.interval_secs),
            domain: heartbeat::domain(d.chain_id, d.registry),
            key,
            template,
            http: reqwest::Client::new(),
            db,
            slots: cfg.operator.max_concurrent_tasks,
        }
    }

    /// Tasks in hand: assigned and not yet delivered (or given back, or settled). A database
    /// error counts as none busy rather than stopping the heartbeats.
    async fn busy(&self) -> u32 {
        match self.db.in_flight().await {
            Ok(rows) => rows.iter().filter(|r| r.phase != Phase::Delivered).count() as u32,
            Err(e) => {
                warn!(target: "node::heartbeat", error = %e, "could not count the tasks in hand");
                0
            }
        }
    }

    async fn run(self, cancel: CancellationToken) -> Result<(), NodeError> {
        // Sequence numbers start at the current time in milliseconds, so they keep increasing
        // across restarts without being stored.
        let mut seq = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0);
        loop {
            // Strictly increasing, and never behind the clock: the timestamp is the send time
            // (the coordinator rejects heartbeats older than its max age).
            let now_ms = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_millis() as u64)
                .unwrap_or(0);
            seq = (seq + 1).max(now_ms);
            let mut hb = self.template.clone();
            hb.seq = seq;
            hb.timestamp = now_ms / 1000;
            let (free, load) = capacity_report(self.slots, self.busy().await);
            hb.freeSlots = free;
            hb.loadPermille = load;
            let signed = hb.sign(&self.key, &self.domain).map_err(setup)?;
            match self
                .http
                .post(&self.url)
                .json(&signed)
                .send()
                .await
                .and_then(|r| r.error_for_status())
            {
                Ok(answer) => self.echo_probe(answer).await,
                Err(e) => {
                    warn!(target: "node::heartbeat", url = %self.url, error = %e, "heartbeat not delivered");
                }
            }
            tokio::select! {
                _ = cancel.cancelled() => return Ok(()),
                _ = tokio::time::sleep(self.interval) => {}
            }
        }
    }
}

impl HeartbeatSender {
    /// Posts the latency probe of the coordinator's answer straight back: the coordinator
    /// times the round trip on its own clock, so answering at once is how a node shows its
    /// latency. An answer without a probe (an older coordinator) is left alone.
    async fn echo_probe(&self, answer: reqwest::Response) {
        #[derive(serde::Deserialize)]
        struct Answer {
            operator: Address,
            probe: Option<alloy::primitives::B256>,
        }
        let Ok(Answer {
            operator,
            probe: Some(nonce),
        }) = answer.json::<Answer>().await
        else {
            return;
        };
        let url = format!("{}/echo", self.url);
        let echo = serde_json::json!({ "operator": operator, "nonce": nonce });
        if let Err(e) = self
            .http
            .post(&url)
            .json(&echo)
            .send()
            .await
            .and_then(|r| r.error_for_status())
        {
            warn!(target: "node::heartbeat", url = %url, error = %e, "latency echo not delivered");
        }
    }
}

/// `verity node register`: registers and stakes as `run` does at start.
pub async fn register(cfg: &NodeConfig) -> Result<(), NodeError> {
    let operator = keys::load(&cfg.keys.operator).map_err(setup)?;
    let node_key = keys::load(&cfg.keys.node).map_err(setup)?;
    let s = connect(cfg, &operator)?;
    ensure_registered(&s, cfg, operator.address(), node_key.address()).await
}

/// `verity node stake`: adds `amount` (token wei) to the operator's stake.
pub async fn stake(cfg: &NodeConfig, amount: U256) -> Result<(), NodeError> {
    let operator = keys::load(&cfg.keys.operator).map_err(setup)?;
    let s = connect(cfg, &operator)?;
    s.approve_registry(operator.address(), amount).await?;
    s.stake(operator.address(), amount).await?;
    info!(target: "node::daemon", operator = %operator.address(), %amount, "staked");
    Ok(())
}

/// `verity node unstake`: starts unbonding `amount` (token wei); the registry refuses stake that
/// is locked as collateral or would leave less than the minimum.
pub async fn unstake(cfg: &NodeConfig, amount: U256) -> Result<(), NodeError> {
    let operator = keys::load(&cfg.keys.operator).map_err(setup)?;
    let s = connect(cfg, &operator)?;
    s.request_unstake(operator.address(), amount).await?;
    info!(target: "node::daemon", operator = %operator.address(), %amount, "unbonding");
    Ok(())
}

/// What `verity node status` shows: the operator's on-chain record and market balance.
pub async fn status(cfg: &NodeConfig) -> Result<serde_json::Value, NodeError> {
    let operator = keys::load(&cfg.keys.operator).map_err(setup)?;
    let s = connect(cfg, &operator)?;
    let me = operator.address();
    let o = s.operator(me).await?;
    Ok(serde_json::json!({
        "operator": me,
        "registered": o.registered,
        "signer": o.profile.signer,
        "stake": o.stake.to_string(),
        "locked": o.locked.to_string(),
        "unbonding": o.unbonding.to_string(),
        "jailedUntil": o.jailed_until,
        "tasksCompleted": o.tasks_completed,
        "tasksFailed": o.tasks_failed,
        "timesSlashed": o.times_slashed,
        "marketBalance": s.market_balance(me).await?.to_string(),
    }))
}

/// Free slots and load (per mille of `slots`) with `busy` tasks in hand.
fn capacity_report(slots: u32, busy: u32) -> (u32, u16) {
    let free = slots.saturating_sub(busy);
    let load = if slots == 0 {
        1000
    } else {
        (u64::from(busy.min(slots)) * 1000 / u64::from(slots)) as u16
    };
    (free, load)
}

#[cfg(test)]
mod capacity_tests {
    use super::capacity_report;

    #[test]
    fn free_slots_and_load_follow_the_work_in_hand() {
        assert_eq!(capacity_report(4, 0), (4, 0));
        assert_eq!(capacity_report(4, 1), (3, 250));
        assert_eq!(capacity_report(4, 4), (0, 1000));
        // More in hand than slots (a failover handed one over): full, never negative.
        assert_eq!(capacity_report(4, 6), (0, 1000));
        assert_eq!(capacity_report(0, 0), (0, 1000));
    }
}
