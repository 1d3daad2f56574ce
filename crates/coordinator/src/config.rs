//! The coordinator's configuration (TOML). Every field has a default; the checked-in template
//! `config/coordinator.example.toml` lists them all with comments and is tested to parse.

use std::path::{Path, PathBuf};

use alloy::primitives::Address;
use serde::{Deserialize, Serialize};
use verity_scheduler::Policy;

use crate::{
    assigner::AssignerConfig,
    liveness::LivenessPolicy,
    reputation::{PolicyError, ReputationPolicy},
};

/// Everything the coordinator reads from its config file.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CoordinatorConfig {
    /// Where state lives.
    pub database: DatabaseConfig,
    /// The deployment heartbeats are signed for.
    pub chain: ChainConfig,
    /// Heartbeat intake and liveness.
    pub heartbeat: HeartbeatConfig,
    /// Reputation scoring.
    pub reputation: ReputationPolicy,
    /// Following the chain.
    pub indexer: IndexerConfig,
    /// Assigning tasks and failing seats over.
    pub assigner: AssignerConfig,
    /// The scheduling policy.
    pub scheduler: SchedulerConfig,
    /// The HTTP API.
    pub api: ApiConfig,
}

/// Where the scheduling policy comes from.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SchedulerConfig {
    /// Policy file (TOML, see `config/policy.example.toml`): weights, scoring, task defaults
    /// and region groups. A relative path is taken from the config file's directory. Empty:
    /// the built-in default policy.
    pub policy: String,
}

/// How the indexer follows the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IndexerConfig {
    /// Blocks to stay behind the head (reorgs shallower than this never reach the store).
    pub confirmations: u64,
    /// Most blocks one log query of the event stream spans (its `chunk_blocks`).
    pub max_range: u64,
    /// Recent block hashes kept for reorg detection.
    pub keep_blocks: u64,
    /// Milliseconds between polls once caught up.
    pub poll_ms: u64,
}

impl Default for IndexerConfig {
    fn default() -> Self {
        Self {
            confirmations: 2,
            max_range: verity_settlement::events::DEFAULT_CHUNK_BLOCKS,
            keep_blocks: 256,
            poll_ms: 500,
        }
    }
}

/// The HTTP listener.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApiConfig {
    /// `host:port` to serve the API, dashboard and `/metrics` on.
    pub listen: String,
}

impl Default for ApiConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8080".into(),
        }
    }
}

/// Database settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://path/to/file.db` (created if missing) or `postgres://user@host:port/db`.
    pub url: String,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        Self {
            url: "sqlite://verity-coordinator.db".into(),
        }
    }
}

/// The deployment whose EIP-712 domain heartbeats are signed on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ChainConfig {
    /// Chain id.
    pub chain_id: u64,
    /// The NodeRegistry contract (the domain's verifying contract).
    pub registry: Address,
    /// JSON-RPC endpoint of the chain.
    pub rpc_url: String,
    /// Deployment JSON (bare, as `verity contracts deploy --json` prints it, or the
    /// `verity devnet --json` summary holding one; read by `verity_config_files::deployment`).
    /// Empty: no indexer or assigner, only the API over what the database holds. When set, its
    /// chain id and registry replace the two keys above.
    pub deployment: String,
    /// Key file (hex private key) of the account that assigns tasks: an allowed coordinator
    /// in the market. Like every key file it must not be readable by group or others (mode
    /// 0600, as `verity keys new` creates it). Empty: index and serve, never assign.
    pub coordinator_key: String,
}

impl Default for ChainConfig {
    fn default() -> Self {
        Self {
            chain_id: 31337,
            registry: Address::ZERO,
            rpc_url: "http://127.0.0.1:8545".into(),
            deployment: String::new(),
            coordinator_key: String::new(),
        }
    }
}

/// Heartbeat bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HeartbeatConfig {
    /// Expected seconds between a node's heartbeats.
    pub interval_secs: u64,
    /// Heartbeats a node may miss before it counts as down.
    pub allowed_misses: u64,
    /// Oldest accepted heartbeat: `timestamp >= now - max_age_secs`.
    pub max_age_secs: u64,
    /// Clock skew tolerated ahead: `timestamp <= now + max_future_secs`.
    pub max_future_secs: u64,
    /// Largest accepted request body, bytes.
    pub max_body_bytes: usize,
}

impl Default for HeartbeatConfig {
    fn default() -> Self {
        Self {
            interval_secs: 10,
            allowed_misses: 3,
            max_age_secs: 60,
            max_future_secs: 5,
            max_body_bytes: 16 * 1024,
        }
    }
}

impl HeartbeatConfig {
    /// The liveness policy these bounds imply.
    pub fn liveness(&self) -> LivenessPolicy {
        LivenessPolicy {
            interval_secs: self.interval_secs,
            allowed_misses: self.allowed_misses,
        }
    }
}

/// Why a config cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("[V-CC-001] cannot read config {path}: {source}")]
    Read {
        /// Path.
        path: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The TOML is malformed or has unknown or mistyped keys.
    #[error("[V-CC-002] invalid config {path}: {source}")]
    Parse {
        /// Path (or `<string>`).
        path: String,
        /// Cause, with line and column.
        #[source]
        source: Box<toml::de::Error>,
    },
    /// A value is out of range.
    #[error("[V-CC-003] invalid config: {field} {reason}")]
    Invalid {
        /// Field.
        field: &'static str,
        /// Why.
        reason: &'static str,
    },
    /// The reputation policy is out of range.
    #[error("[V-CC-004] invalid config: {0}")]
    Reputation(#[from] PolicyError),
    /// The scheduling policy file named by `scheduler.policy` could not be read.
    #[error("[V-CC-005] cannot read scheduling policy {path}: {source}")]
    PolicyRead {
        /// Path.
        path: String,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The scheduling policy file is not valid TOML, has unknown keys, or invalid values
    /// (negative or all-zero weights, out-of-range scoring, unknown region groups).
    #[error("[V-CC-006] invalid scheduling policy {path}: {source}")]
    PolicyInvalid {
        /// Path.
        path: String,
        /// Cause.
        #[source]
        source: verity_scheduler::PolicyError,
    },
}

impl CoordinatorConfig {
    /// Parses and validates TOML text.
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        Self::parse(text, "<string>")
    }

    /// Reads, parses and validates a TOML file. A relative `scheduler.policy` is resolved
    /// against the file's directory, and the policy it names is read and validated here, so
    /// a bad policy stops the coordinator at start rather than at its first assignment.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let mut cfg = Self::parse(&text, &path.display().to_string())?;
        if !cfg.scheduler.policy.is_empty() {
            let policy = PathBuf::from(&cfg.scheduler.policy);
            if policy.is_relative() {
                let dir = path.parent().unwrap_or_else(|| Path::new(""));
                cfg.scheduler.policy = dir.join(policy).display().to_string();
            }
            cfg.policy()?;
        }
        Ok(cfg)
    }

    /// The scheduling policy: read from `scheduler.policy` (relative paths from the current
    /// directory; [`CoordinatorConfig::load`] has already made them relative to the config
    /// file), or the default policy when that is empty.
    pub fn policy(&self) -> Result<Policy, ConfigError> {
        let path = &self.scheduler.policy;
        if path.is_empty() {
            return Ok(Policy::default());
        }
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::PolicyRead {
            path: path.clone(),
            source,
        })?;
        Policy::from_toml_str(&text).map_err(|source| ConfigError::PolicyInvalid {
            path: path.clone(),
            source,
        })
    }

    fn parse(text: &str, path: &str) -> Result<Self, ConfigError> {
        let cfg: Self = toml::from_str(text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            source: Box::new(e),
        })?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Applies the `VERITY_COORDINATOR_*` environment layer (between the file and flags):
    /// `DATABASE_URL`, `RPC_URL`, `DEPLOYMENT`, `KEY` (coordinator key file), `LISTEN`.
    /// `get` reads a variable (`std::env::var(..).ok()` outside tests).
    pub fn apply_env(&mut self, get: impl Fn(&str) -> Option<String>) {
        let var = |name: &str| get(&format!("VERITY_COORDINATOR_{name}"));
        if let Some(v) = var("DATABASE_URL") {
            self.database.url = v;
        }
        if let Some(v) = var("RPC_URL") {
            self.chain.rpc_url = v;
        }
        if let Some(v) = var("DEPLOYMENT") {
            self.chain.deployment = v;
        }
        if let Some(v) = var("KEY") {
            self.chain.coordinator_key = v;
        }
        if let Some(v) = var("LISTEN") {
            self.api.listen = v;
        }
    }

    /// Checks every value is usable.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let invalid = |field, reason| Err(ConfigError::Invalid { field, reason });
        if self.database.url.is_empty() {
            return invalid("database.url", "is empty");
        }
        let h = &self.heartbeat;
        if h.interval_secs == 0 {
            return invalid("heartbeat.interval_secs", "must be at least 1");
        }
        if h.max_age_secs < h.interval_secs {
            return invalid(
                "heartbeat.max_age_secs",
                "must be at least interval_secs (or every heartbeat in flight is stale)",
            );
        }
        if h.max_body_bytes < 1024 || h.max_body_bytes > 1 << 20 {
            return invalid("heartbeat.max_body_bytes", "must be within 1 KiB..=1 MiB");
        }
        self.reputation.validate()?;
        if self.indexer.max_range == 0 {
            return invalid("indexer.max_range", "must be at least 1");
        }
        if self.indexer.keep_blocks <= self.indexer.confirmations {
            return invalid(
                "indexer.keep_blocks",
                "must exceed indexer.confirmations (or no reorg could be undone)",
            );
        }
        if self.api.listen.parse::<std::net::SocketAddr>().is_err() {
            return invalid("api.listen", "is not host:port with a numeric host");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checked_in_template_parses_and_equals_the_defaults() {
        let text = include_str!("../../../config/coordinator.example.toml");
        let cfg = CoordinatorConfig::from_toml(text).unwrap();
        assert_eq!(cfg, CoordinatorConfig::default());
    }

    #[test]
    fn the_environment_layer_overrides_the_file() {
        let mut cfg = CoordinatorConfig::from_toml(
            "[api]\nlisten = \"127.0.0.1:1\"\n[database]\nurl = \"sqlite://a.db\"\n",
        )
        .unwrap();
        cfg.apply_env(|k| match k {
            "VERITY_COORDINATOR_LISTEN" => Some("127.0.0.1:2".into()),
            "VERITY_COORDINATOR_KEY" => Some("k.key".into()),
            _ => None,
        });
        assert_eq!(cfg.api.listen, "127.0.0.1:2");
        assert_eq!(cfg.chain.coordinator_key, "k.key");
        assert_eq!(
            cfg.database.url, "sqlite://a.db",
            "unset variables change nothing"
        );
    }

    #[test]
    fn an_empty_file_is_the_defaults_and_defaults_are_valid() {
        assert_eq!(
            CoordinatorConfig::from_toml("").unwrap(),
            CoordinatorConfig::default()
        );
    }

    #[test]
    fn unknown_keys_wrong_types_and_bad_values_are_rejected() {
        let e = CoordinatorConfig::from_toml("[heartbeat]\nintervall_secs = 5\n").unwrap_err();
        assert!(e.to_string().contains("intervall_secs"), "{e}");
        let e = CoordinatorConfig::from_toml("[heartbeat]\ninterval_secs = -1\n").unwrap_err();
        assert!(matches!(e, ConfigError::Parse { .. }), "{e}");
        let e = CoordinatorConfig::from_toml("[heartbeat]\ninterval_secs = 0\n").unwrap_err();
        assert!(matches!(
            e,
            ConfigError::Invalid {
                field: "heartbeat.interval_secs",
                ..
            }
        ));
        let e = CoordinatorConfig::from_toml("[reputation]\nprior_score = 2.0\n").unwrap_err();
        assert!(matches!(e, ConfigError::Reputation(_)), "{e}");
        let e = CoordinatorConfig::from_toml("[chain]\nregistry = \"0x12\"\n").unwrap_err();
        assert!(matches!(e, ConfigError::Parse { .. }), "{e}");
    }

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn a_policy_file_is_read_relative_to_the_config_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("etc")).unwrap();
        write(
            &dir.path().join("etc"),
            "policy.toml",
            "[weights]\nperformance = 0\nreputation = 0\nlatency = 0\ngreen_energy = 0\nprice = 2\n",
        );
        let cfg_path = write(
            &dir.path().join("etc"),
            "coordinator.toml",
            "[scheduler]\npolicy = \"policy.toml\"\n",
        );
        let cfg = CoordinatorConfig::load(&cfg_path).unwrap();
        assert_eq!(
            PathBuf::from(&cfg.scheduler.policy),
            dir.path().join("etc").join("policy.toml")
        );
        let policy = cfg.policy().unwrap();
        assert_eq!(policy.weights.price, 2.0);
        assert_eq!(policy.weights.performance, 0.0);
        // The checked-in policy template is a valid policy file too.
        let template = std::fs::canonicalize(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../config/policy.example.toml"
        ))
        .unwrap();
        let cfg_path = write(
            dir.path(),
            "c.toml",
            &format!(
                "[scheduler]\npolicy = {:?}\n",
                template.display().to_string()
            ),
        );
        let policy = CoordinatorConfig::load(&cfg_path)
            .unwrap()
            .policy()
            .unwrap();
        assert_eq!(policy.defaults.min_stake, 100 * 10u128.pow(18));
        assert!(policy.region_group("eu").is_ok());
    }

    #[test]
    fn no_policy_file_means_the_default_policy() {
        let cfg = CoordinatorConfig::from_toml("").unwrap();
        assert_eq!(cfg.policy().unwrap(), Policy::default());
    }

    #[test]
    fn a_missing_malformed_or_invalid_policy_is_a_typed_error() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = write(
            dir.path(),
            "c.toml",
            "[scheduler]\npolicy = \"nowhere.toml\"\n",
        );
        let e = CoordinatorConfig::load(&cfg).unwrap_err();
        assert!(
            matches!(&e, ConfigError::PolicyRead { path, .. } if path.ends_with("nowhere.toml")),
            "{e}"
        );
        assert!(e.to_string().starts_with("[V-CC-005]"), "{e}");

        write(dir.path(), "bad.toml", "[weights\nprice = 1\n");
        let cfg = write(dir.path(), "c.toml", "[scheduler]\npolicy = \"bad.toml\"\n");
        let e = CoordinatorConfig::load(&cfg).unwrap_err();
        assert!(
            matches!(
                &e,
                ConfigError::PolicyInvalid {
                    source: verity_scheduler::PolicyError::Toml(_),
                    ..
                }
            ),
            "{e}"
        );

        write(dir.path(), "neg.toml", "[weights]\nlatency = -1.0\n");
        let cfg = write(dir.path(), "c.toml", "[scheduler]\npolicy = \"neg.toml\"\n");
        let e = CoordinatorConfig::load(&cfg).unwrap_err();
        assert!(
            matches!(
                &e,
                ConfigError::PolicyInvalid {
                    source: verity_scheduler::PolicyError::NegativeWeight {
                        weight: "latency",
                        ..
                    },
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().starts_with("[V-CC-006]"), "{e}");

        let zero = "[weights]\nperformance = 0\nreputation = 0\nlatency = 0\n\
                    green_energy = 0\nprice = 0\n";
        write(dir.path(), "zero.toml", zero);
        let cfg = write(
            dir.path(),
            "c.toml",
            "[scheduler]\npolicy = \"zero.toml\"\n",
        );
        let e = CoordinatorConfig::load(&cfg).unwrap_err();
        assert!(
            matches!(
                &e,
                ConfigError::PolicyInvalid {
                    source: verity_scheduler::PolicyError::AllWeightsZero,
                    ..
                }
            ),
            "{e}"
        );
        // Typos in the policy are caught too, not silently defaulted.
        write(dir.path(), "typo.toml", "[weights]\nprise = 1.0\n");
        let cfg = write(
            dir.path(),
            "c.toml",
            "[scheduler]\npolicy = \"typo.toml\"\n",
        );
        assert!(matches!(
            CoordinatorConfig::load(&cfg).unwrap_err(),
            ConfigError::PolicyInvalid { .. }
        ));
    }
}
