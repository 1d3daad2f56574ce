//! Node configuration: typed, with defaults; layered as defaults < TOML file < `VERITY_NODE_*`
//! environment < command-line flags (the binary applies the flags). The commented template is
//! `config/node.example.toml`; a test parses it.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
};

use serde::{Deserialize, Serialize};

/// Configuration errors.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("[V-CFG-001] reading {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML for this schema.
    #[error("[V-CFG-002] parsing {path}: {source}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: Box<toml::de::Error>,
    },
    /// An environment override does not parse.
    #[error("[V-CFG-003] environment variable {var}={value:?}: {reason}")]
    Env {
        /// The variable.
        var: &'static str,
        /// Its value.
        value: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A value is out of range.
    #[error("[V-CFG-004] {field}: {reason}")]
    Invalid {
        /// The field.
        field: &'static str,
        /// Why.
        reason: String,
    },
}

/// Everything a node needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct NodeConfig {
    /// The chain.
    pub chain: ChainConfig,
    /// Key files.
    pub keys: KeysConfig,
    /// What the operator registers and stakes.
    pub operator: OperatorConfig,
    /// Local storage and gateways.
    pub store: StoreConfig,
    /// Heartbeats to a coordinator.
    pub heartbeat: HeartbeatConfig,
    /// The Prometheus endpoint.
    pub metrics: MetricsConfig,
    /// Fault injection (devnets only).
    pub fault: FaultConfig,
    /// `verity watchtower run`: which submitted results to re-execute.
    pub watchtower: WatchtowerConfig,
    /// Serving on dispute committees.
    pub committee: CommitteeConfig,
}

/// Dispute committees: a node drawn into one re-executes the task and votes by commit-reveal
/// (a drawn member that does not vote loses half its bond).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CommitteeConfig {
    /// Vote when drawn. With `false` the node still follows and settles disputes, but a draw
    /// that picks it costs it the penalty: opt out by leaving the eligible set instead.
    pub serve: bool,
}

impl Default for CommitteeConfig {
    fn default() -> Self {
        Self { serve: true }
    }
}

/// Fault injection, for devnets only: a misbehaving node loses its collateral.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct FaultConfig {
    /// `none`, `wrong_result`, `copy_commitments`, `silent`, `idle_member` or
    /// `self_challenger`.
    pub behaviour: crate::fault::Behaviour,
}

/// The watchtower: samples submitted optimistic results, re-executes them and challenges a
/// wrong one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WatchtowerConfig {
    /// Fraction of submitted results re-executed, 0.0..=1.0.
    pub sample_rate: f64,
    /// Seed of the per-task sampling decision (the same seed samples the same tasks). Unset,
    /// the watchtower draws a secret random seed at start, so no cheater can tell which tasks
    /// it watches; set it only to reproduce a run.
    pub seed: Option<u64>,
    /// **Devnets only (fault injection).** Play the second address of this operator: challenge
    /// every result it posts at once, without re-executing, and watch nobody else. This is the
    /// self-challenge attack (a cheater racing the honest watchtowers to its own dispute, to
    /// take the challenger's share of its slashed collateral); the contracts make it lose.
    pub accomplice_of: Option<alloy::primitives::Address>,
}

impl Default for WatchtowerConfig {
    fn default() -> Self {
        Self {
            sample_rate: 0.1,
            seed: None,
            accomplice_of: None,
        }
    }
}

/// The chain and contracts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChainConfig {
    /// JSON-RPC endpoint.
    pub rpc_url: String,
    /// Deployment JSON (as printed by `verity devnet --json` under `deployment`, or by
    /// `verity contracts deploy --json`).
    pub deployment: PathBuf,
    /// Blocks a transaction must be under before it counts.
    pub confirmations: u64,
    /// How often to poll for new blocks and events, milliseconds.
    pub poll_interval_ms: u64,
}

impl Default for ChainConfig {
    fn default() -> Self {
        Self {
            rpc_url: "http://127.0.0.1:8545".into(),
            deployment: "deployment.json".into(),
            confirmations: 1,
            poll_interval_ms: 500,
        }
    }
}

/// Key files (hex private keys, mode 0600; create with `verity keys new`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct KeysConfig {
    /// The operator key: stakes, sends transactions, receives payment.
    pub operator: PathBuf,
    /// The node key: signs heartbeats; registered as the operator's `signer`.
    pub node: PathBuf,
}

impl Default for KeysConfig {
    fn default() -> Self {
        Self {
            operator: "keys/operator.key".into(),
            node: "keys/node.key".into(),
        }
    }
}

/// What to register and how much to keep staked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OperatorConfig {
    /// Whole tokens (18 decimals) to keep bonded; the node tops up to this at start.
    pub stake: u64,
    /// ISO 3166-1 numeric region (0 = unspecified).
    pub region: u32,
    /// Capability flags, registered on chain and advertised in heartbeats: 1 = runs
    /// WebAssembly tasks, 2 = proves ZkProof tasks (`verity_primitives::capability`; 3 = both).
    pub capabilities: u64,
    /// Tasks executed at once.
    pub max_concurrent_tasks: u32,
    /// Asking price, token wei per million units of fuel (advertised in heartbeats).
    pub price_per_megafuel: u64,
    /// Claimed renewable share, percent (advertised in heartbeats).
    pub green_energy_pct: u8,
}

impl Default for OperatorConfig {
    fn default() -> Self {
        Self {
            stake: 1_000,
            region: 0,
            capabilities: 1,
            max_concurrent_tasks: 2,
            price_per_megafuel: 1_000,
            green_energy_pct: 0,
        }
    }
}

/// Local blob storage and the gateways to fetch from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StoreConfig {
    /// Node state: the blob store and the task database live here.
    pub data_dir: PathBuf,
    /// IPFS trustless gateways (our coordinator's, or any public one), tried in order.
    pub gateways: Vec<String>,
    /// Largest blob fetched or stored, bytes.
    pub max_blob_bytes: u64,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            data_dir: "data".into(),
            gateways: vec!["http://127.0.0.1:8080".into()],
            max_blob_bytes: 64 << 20,
        }
    }
}

/// Heartbeats.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HeartbeatConfig {
    /// Coordinator base URL; empty disables heartbeats.
    pub coordinator_url: String,
    /// Seconds between heartbeats.
    pub interval_secs: u64,
}

impl Default for HeartbeatConfig {
    fn default() -> Self {
        Self {
            coordinator_url: String::new(),
            interval_secs: 10,
        }
    }
}

/// Prometheus metrics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MetricsConfig {
    /// Where `/metrics` is served; empty disables it.
    pub listen: String,
}

impl Default for MetricsConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:9464".into(),
        }
    }
}

impl NodeConfig {
    /// Defaults, then `file` (if given), then the environment.
    pub fn load(file: Option<&Path>) -> Result<Self, ConfigError> {
        let mut cfg = match file {
            Some(path) => Self::from_file(path)?,
            None => Self::default(),
        };
        cfg.apply_env(|k| std::env::var(k).ok())?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Parses a TOML file (missing fields take their defaults; unknown fields are errors).
    pub fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.into(),
            source,
        })?;
        Self::from_toml(&text).map_err(|source| ConfigError::Parse {
            path: path.into(),
            source: Box::new(source),
        })
    }

    /// Parses TOML text.
    pub fn from_toml(text: &str) -> Result<Self, toml::de::Error> {
        toml::from_str(text)
    }

    /// Applies `VERITY_NODE_*` overrides read through `get`.
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
        fn parse<T: std::str::FromStr>(var: &'static str, v: String) -> Result<T, ConfigError>
        where
            T::Err: std::fmt::Display,
        {
            v.parse().map_err(|e: T::Err| ConfigError::Env {
                var,
                value: v,
                reason: e.to_string(),
            })
        }
        if let Some(v) = get("VERITY_NODE_RPC_URL") {
            self.chain.rpc_url = v;
        }
        if let Some(v) = get("VERITY_NODE_DEPLOYMENT") {
            self.chain.deployment = v.into();
        }
        if let Some(v) = get("VERITY_NODE_OPERATOR_KEY") {
            self.keys.operator = v.into();
        }
        if let Some(v) = get("VERITY_NODE_NODE_KEY") {
            self.keys.node = v.into();
        }
        if let Some(v) = get("VERITY_NODE_DATA_DIR") {
            self.store.data_dir = v.into();
        }
        if let Some(v) = get("VERITY_NODE_GATEWAYS") {
            self.store.gateways = v
                .split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect();
        }
        if let Some(v) = get("VERITY_NODE_STAKE") {
            self.operator.stake = parse("VERITY_NODE_STAKE", v)?;
        }
        if let Some(v) = get("VERITY_NODE_METRICS_LISTEN") {
            self.metrics.listen = v;
        }
        if let Some(v) = get("VERITY_NODE_COORDINATOR_URL") {
            self.heartbeat.coordinator_url = v;
        }
        if let Some(v) = get("VERITY_NODE_FAULT") {
            self.fault.behaviour =
                toml::Value::String(v.clone())
                    .try_into()
                    .map_err(|e: toml::de::Error| ConfigError::Env {
                        var: "VERITY_NODE_FAULT",
                        value: v,
                        reason: e.to_string(),
                    })?;
        }
        if let Some(v) = get("VERITY_NODE_WATCHTOWER_SAMPLE_RATE") {
            self.watchtower.sample_rate = parse("VERITY_NODE_WATCHTOWER_SAMPLE_RATE", v)?;
        }
        Ok(())
    }

    /// Range checks that TOML types cannot express.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |field, reason: &str| {
            Err(ConfigError::Invalid {
                field,
                reason: reason.into(),
            })
        };
        if self.chain.poll_interval_ms == 0 {
            return invalid("chain.poll_interval_ms", "must be positive");
        }
        if self.operator.green_energy_pct > 100 {
            return invalid("operator.green_energy_pct", "at most 100");
        }
        if self.operator.max_concurrent_tasks == 0 {
            return invalid("operator.max_concurrent_tasks", "must be positive");
        }
        if self.heartbeat.interval_secs == 0 {
            return invalid("heartbeat.interval_secs", "must be positive");
        }
        if !(0.0..=1.0).contains(&self.watchtower.sample_rate) {
            return invalid("watchtower.sample_rate", "between 0.0 and 1.0");
        }
        if !self.metrics.listen.is_empty() && self.metrics.listen.parse::<SocketAddr>().is_err() {
            return invalid("metrics.listen", "must be host:port, e.g. 127.0.0.1:9464");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checked_in_template_parses_to_the_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/node.example.toml");
        let cfg = NodeConfig::from_file(&path).unwrap();
        assert_eq!(
            cfg,
            NodeConfig::default(),
            "the template documents the defaults"
        );
        cfg.validate().unwrap();
    }

    #[test]
    fn layers_apply_in_order_and_bad_values_are_typed_errors() {
        let mut cfg =
            NodeConfig::from_toml("[chain]\nrpc_url = \"http://file:1\"\n[operator]\nstake = 5\n")
                .unwrap();
        assert_eq!(
            (cfg.chain.rpc_url.as_str(), cfg.operator.stake),
            ("http://file:1", 5)
        );
        assert_eq!(
            cfg.store,
            StoreConfig::default(),
            "missing sections take defaults"
        );
        let env = |k: &str| match k {
            "VERITY_NODE_RPC_URL" => Some("http://env:2".to_string()),
            "VERITY_NODE_GATEWAYS" => Some("http://a, http://b".to_string()),
            _ => None,
        };
        cfg.apply_env(env).unwrap();
        assert_eq!(cfg.chain.rpc_url, "http://env:2");
        assert_eq!(cfg.store.gateways, vec!["http://a", "http://b"]);
        assert_eq!(cfg.operator.stake, 5, "untouched by env");

        let bad = cfg.apply_env(|k| (k == "VERITY_NODE_STAKE").then(|| "lots".to_string()));
        assert!(matches!(
            bad,
            Err(ConfigError::Env {
                var: "VERITY_NODE_STAKE",
                ..
            })
        ));
        assert!(
            NodeConfig::from_toml("[chain]\nrpc = 1\n").is_err(),
            "unknown fields are errors"
        );
        cfg.apply_env(|k| (k == "VERITY_NODE_FAULT").then(|| "silent".to_string()))
            .unwrap();
        assert_eq!(cfg.fault.behaviour, crate::fault::Behaviour::Silent);
        assert!(matches!(
            cfg.apply_env(|k| (k == "VERITY_NODE_FAULT").then(|| "evil".to_string())),
            Err(ConfigError::Env {
                var: "VERITY_NODE_FAULT",
                ..
            })
        ));
        let mut cfg = NodeConfig::default();
        cfg.watchtower.sample_rate = 1.5;
        assert!(matches!(
            cfg.validate(),
            Err(ConfigError::Invalid {
                field: "watchtower.sample_rate",
                ..
            })
        ));
        let mut cfg = NodeConfig::default();
        cfg.operator.green_energy_pct = 101;
        assert!(matches!(
            cfg.validate(),
            Err(ConfigError::Invalid {
                field: "operator.green_energy_pct",
                ..
            })
        ));
    }
}
