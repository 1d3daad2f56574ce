//! The coordinator as one service: store, indexer, assigner and HTTP API, started from a
//! [`CoordinatorConfig`] and stopped by a cancellation token. Each part is a task; when one
//! stops with a fatal error the others are cancelled and [`run`] returns it.

use std::{net::SocketAddr, path::Path, sync::Arc, time::Duration};

use alloy::{
    network::EthereumWallet,
    providers::{Provider, ProviderBuilder},
    signers::local::PrivateKeySigner,
};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use verity_config_files::{DeploymentFileError, KeyError, deployment, keys};
use verity_settlement::{Deployment, Settlement, TxOptions};

use crate::{
    CoordinatorConfig,
    api::{self, ApiMetrics, ApiState, NetworkInfo},
    assigner::Assigner,
    clock::{Clock, SystemClock},
    config::ChainConfig,
    disputes::{CourtReader, DisputeReader},
    follow::{RpcLogSource, StreamConfig},
    hardware::HardwareChecks,
    heartbeat::HeartbeatIntake,
    indexer::{Contracts, Indexer, IndexerError},
    latency::LatencyProbes,
    metrics::CoordinatorMetrics,
    registry_view::{RegistryView, ViewError},
    store::{SqlStore, Store, StoreError},
};

/// Why the service could not start or stopped.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// The database could not be opened.
    #[error("[V-CSV-001] store: {0}")]
    Store(#[from] StoreError),
    /// The deployment file named in the config could not be read or parsed.
    #[error("[V-CSV-002] cannot use chain.deployment: {0}")]
    Deployment(#[from] DeploymentFileError),
    /// The coordinator key file could not be read, is not a key, or is readable by group or
    /// others (the same check every key file gets).
    #[error("[V-CSV-008] cannot use chain.coordinator_key: {0}")]
    Key(#[from] KeyError),
    /// The RPC URL is malformed.
    #[error("[V-CSV-003] invalid chain.rpc_url {0:?}")]
    RpcUrl(String),
    /// The API listener could not be bound or failed.
    #[error("[V-CSV-004] API listener {addr}: {source}")]
    Listen {
        /// Address.
        addr: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The registry view (scheduler) could not be built.
    #[error("[V-CSV-005] {0}")]
    View(#[from] ViewError),
    /// The indexer stopped with a fatal error.
    #[error("[V-CSV-006] indexer: {0}")]
    Indexer(#[from] IndexerError),
    /// The config names something unusable (e.g. a missing or invalid scheduling policy).
    #[error("[V-CSV-007] {0}")]
    Config(#[from] crate::config::ConfigError),
}

/// The key the assigner signs with: none when no key is configured or the assigner is off;
/// otherwise the key file, loaded (and its permissions checked) like every key file.
fn assigner_key(cfg: &CoordinatorConfig) -> Result<Option<PrivateKeySigner>, ServiceError> {
    if cfg.chain.coordinator_key.is_empty() || !cfg.assigner.enabled {
        return Ok(None);
    }
    Ok(Some(keys::load(Path::new(&cfg.chain.coordinator_key))?))
}

/// A started coordinator.
#[derive(Debug)]
pub struct Running {
    /// Where the API listens.
    pub api_addr: SocketAddr,
    /// The store.
    pub store: Arc<SqlStore>,
    /// The metrics.
    pub metrics: CoordinatorMetrics,
    cancel: CancellationToken,
    tasks: Vec<(&'static str, JoinHandle<Result<(), ServiceError>>)>,
}

impl Running {
    /// Waits for every part to stop (after `cancel` fires, or after one fails, which cancels
    /// the rest). Returns the first error.
    pub async fn wait(self) -> Result<(), ServiceError> {
        let mut first = None;
        for (name, task) in self.tasks {
            match task.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    tracing::error!(target: "coordinator::service", part = name, error = %e, "stopped with an error");
                    self.cancel.cancel();
                    first.get_or_insert(e);
                }
                Err(e) => {
                    tracing::error!(target: "coordinator::service", part = name, error = %e, "panicked");
                    self.cancel.cancel();
                }
            }
        }
        match first {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

/// Starts every part; returns once the API is listening.
pub async fn start(
    mut cfg: CoordinatorConfig,
    cancel: CancellationToken,
) -> Result<Running, ServiceError> {
    let deployment = if cfg.chain.deployment.is_empty() {
        None
    } else {
        let d = deployment::load(Path::new(&cfg.chain.deployment))?;
        cfg.chain.chain_id = d.chain_id;
        cfg.chain.registry = d.registry;
        Some(d)
    };
    // Read before anything starts: a bad policy file stops the coordinator at once.
    let policy = cfg.policy()?;
    tracing::info!(
        target: "coordinator::service",
        policy = if cfg.scheduler.policy.is_empty() { "<default>" } else { cfg.scheduler.policy.as_str() },
        "scheduling policy loaded"
    );
    let store = Arc::new(SqlStore::open(&cfg.database.url).await?);
    let dyn_store: Arc<dyn Store> = store.clone();
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let metrics = CoordinatorMetrics::default();
    // A child token: a failing part stops the others without cancelling the caller's token.
    let cancel = cancel.child_token();
    let mut tasks: Vec<(&'static str, JoinHandle<Result<(), ServiceError>>)> = Vec::new();

    // Issued by the heartbeat intake, read by the registry view: latency is measured here.
    let probes = Arc::new(LatencyProbes::default());
    let disputes: Option<Arc<dyn DisputeReader>> = if let Some(d) = deployment {
        Some(
            start_chain_parts(
                &cfg, policy, d, &dyn_store, &clock, &probes, &metrics, &cancel, &mut tasks,
            )
            .await?,
        )
    } else {
        tracing::warn!(target: "coordinator::service", "chain.deployment is empty: no indexer, no assigner, no dispute view");
        None
    };

    let intake = Arc::new(
        HeartbeatIntake::new(dyn_store.clone(), clock.clone(), &cfg.chain, cfg.heartbeat)
            .with_probes(probes),
    );
    let state = ApiState {
        intake,
        store: dyn_store.clone(),
        views: store.clone(),
        clock: clock.clone(),
        network: network(&cfg.chain, deployment),
        liveness: cfg.heartbeat.liveness(),
        reputation: cfg.reputation,
        metrics: Arc::new(ApiMetrics::with_coordinator(&metrics)),
        disputes,
    };
    let listener = tokio::net::TcpListener::bind(&cfg.api.listen)
        .await
        .map_err(|source| ServiceError::Listen {
            addr: cfg.api.listen.clone(),
            source,
        })?;
    let api_addr = listener
        .local_addr()
        .map_err(|source| ServiceError::Listen {
            addr: cfg.api.listen.clone(),
            source,
        })?;
    let router = api::app(state, cfg.heartbeat.max_body_bytes);
    let c = cancel.clone();
    tasks.push((
        "api",
        tokio::spawn(async move {
            api::serve(listener, router, c.cancelled_owned())
                .await
                .map_err(|source| ServiceError::Listen {
                    addr: api_addr.to_string(),
                    source,
                })
        }),
    ));
    tracing::info!(target: "coordinator::service", api = %api_addr, "coordinator running");
    Ok(Running {
        api_addr,
        store,
        metrics,
        cancel,
        tasks,
    })
}

fn network(chain: &ChainConfig, d: Option<Deployment>) -> NetworkInfo {
    NetworkInfo {
        chain_id: chain.chain_id,
        market: d.map_or(alloy::primitives::Address::ZERO, |d| d.market),
        registry: chain.registry,
    }
}

#[allow(clippy::too_many_arguments)]
async fn start_chain_parts(
    cfg: &CoordinatorConfig,
    policy: verity_scheduler::Policy,
    d: Deployment,
    store: &Arc<dyn Store>,
    clock: &Arc<dyn Clock>,
    probes: &Arc<LatencyProbes>,
    metrics: &CoordinatorMetrics,
    cancel: &CancellationToken,
    tasks: &mut Vec<(&'static str, JoinHandle<Result<(), ServiceError>>)>,
) -> Result<Arc<dyn DisputeReader>, ServiceError> {
    let url = cfg
        .chain
        .rpc_url
        .parse()
        .map_err(|_| ServiceError::RpcUrl(cfg.chain.rpc_url.clone()))?;
    let key = assigner_key(cfg)?;
    let provider = match &key {
        Some(k) => ProviderBuilder::new()
            .wallet(EthereumWallet::from(k.clone()))
            .connect_http(url)
            .erased(),
        None => ProviderBuilder::new().connect_http(url).erased(),
    };
    // The API reads the court on request through its own handle (reads only, no key needed).
    let court: Arc<dyn DisputeReader> = Arc::new(CourtReader::new(Settlement::new(
        provider.clone(),
        d,
        TxOptions::default(),
    )));
    let chain = RpcLogSource::new(provider.clone(), vec![d.market, d.registry]);
    let indexer = Indexer::new(
        store.clone(),
        Arc::new(chain),
        Contracts {
            market: d.market,
            registry: d.registry,
        },
        StreamConfig {
            confirmations: cfg.indexer.confirmations,
            chunk_blocks: cfg.indexer.max_range,
            start_block: d.deployed_block,
            keep_blocks: cfg.indexer.keep_blocks,
        },
    )
    .with_metrics(metrics.clone())
    .with_poll_interval(Duration::from_millis(cfg.indexer.poll_ms));
    let c = cancel.clone();
    tasks.push((
        "indexer",
        tokio::spawn(async move {
            let r = indexer.run(c.clone()).await;
            if r.is_err() {
                c.cancel();
            }
            r.map_err(ServiceError::from)
        }),
    ));
    if let Some(k) = key {
        let settlement = Settlement::new(provider, d, TxOptions::default());
        // No attestation or benchmark intake feeds hardware checks yet: every hardware
        // claim counts as the policy's floor class.
        let view = RegistryView::new(policy, cfg.heartbeat.liveness(), cfg.reputation)?
            .with_checks(probes.clone(), Arc::new(HardwareChecks::default()));
        let assigner = Assigner::new(
            store.clone(),
            settlement,
            k.address(),
            view,
            clock.clone(),
            cfg.assigner.clone(),
        )
        .with_metrics(metrics.clone());
        let c = cancel.clone();
        tasks.push((
            "assigner",
            tokio::spawn(async move {
                assigner.run(c).await;
                Ok(())
            }),
        ));
    } else {
        tracing::info!(target: "coordinator::service", "no coordinator key (or assigner disabled): not assigning");
    }
    Ok(court)
}

/// Runs the coordinator until `cancel` fires (or a part fails), then shuts down gracefully:
/// the API finishes in-flight requests, the indexer and assigner stop between steps.
pub async fn run(cfg: CoordinatorConfig, cancel: CancellationToken) -> Result<(), ServiceError> {
    start(cfg, cancel).await?.wait().await
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 17: the coordinator read its key with its own loader, which skipped the check
    /// every other key file gets.
    #[cfg(unix)]
    #[test]
    fn the_assigner_key_must_be_private_to_its_owner() {
        use std::os::unix::fs::PermissionsExt;

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("coordinator.key");
        let key = keys::create(&path).unwrap();
        let mut cfg = CoordinatorConfig::default();
        cfg.chain.coordinator_key = path.display().to_string();
        cfg.assigner.enabled = true;

        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = assigner_key(&cfg).unwrap_err();
        assert!(
            matches!(
                e,
                ServiceError::Key(KeyError::Permissions { mode: 0o644, .. })
            ),
            "{e}"
        );
        assert!(e.to_string().starts_with("[V-CSV-008]"), "{e}");
        assert!(e.to_string().contains("[V-KEY-003]"), "{e}");

        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        let loaded = assigner_key(&cfg).unwrap().expect("a key");
        assert_eq!(loaded.address(), key.address());

        cfg.assigner.enabled = false;
        assert!(assigner_key(&cfg).unwrap().is_none());
    }

    /// The coordinator refused the `verity devnet --json` summary that the node reads.
    #[test]
    fn the_deployment_file_may_be_a_devnet_summary() {
        let dir = tempfile::tempdir().unwrap();
        let d = Deployment {
            chain_id: 31337,
            token: alloy::primitives::Address::repeat_byte(1),
            registry: alloy::primitives::Address::repeat_byte(2),
            market: alloy::primitives::Address::repeat_byte(3),
            verifiers: alloy::primitives::Address::repeat_byte(4),
            court: alloy::primitives::Address::repeat_byte(5),
            deployed_block: 1,
            timelock: alloy::primitives::Address::ZERO,
        };
        let path = dir.path().join("devnet.json");
        std::fs::write(&path, serde_json::json!({ "deployment": d }).to_string()).unwrap();
        assert_eq!(deployment::load(&path).unwrap(), d);
        let missing = dir.path().join("absent.json");
        let e = ServiceError::from(deployment::load(&missing).unwrap_err());
        assert!(e.to_string().starts_with("[V-CSV-002]"), "{e}");
        assert!(e.to_string().contains("absent.json"), "{e}");
    }
}
