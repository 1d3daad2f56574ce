//! The deployment file: where the contracts are. Either a bare [`Deployment`] (as
//! `verity contracts deploy --json` prints it) or a `verity devnet --json` summary holding one
//! under `deployment`.

use std::path::{Path, PathBuf};

use verity_settlement::Deployment;

/// Why a deployment file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum DeploymentFileError {
    /// The file could not be read.
    #[error("[V-DEP-001] reading deployment {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is not JSON.
    #[error("[V-DEP-002] parsing deployment {path}: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
    /// The JSON is not a deployment (nor a summary holding one).
    #[error("[V-DEP-003] deployment {path}: {source}")]
    Shape {
        /// The file.
        path: PathBuf,
        /// What is missing or wrong.
        #[source]
        source: serde_json::Error,
    },
}

/// Reads a deployment file: a bare `Deployment`, or a devnet summary holding one under
/// `deployment`.
pub fn load(path: &Path) -> Result<Deployment, DeploymentFileError> {
    let text = std::fs::read_to_string(path).map_err(|source| DeploymentFileError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|source| DeploymentFileError::Json {
            path: path.to_path_buf(),
            source,
        })?;
    let inner = value.get("deployment").cloned().unwrap_or(value);
    serde_json::from_value(inner).map_err(|source| DeploymentFileError::Shape {
        path: path.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use alloy::primitives::Address;

    use super::*;

    #[test]
    fn reads_a_bare_deployment_and_a_devnet_summary_alike() {
        let dir = tempfile::tempdir().unwrap();
        let d = Deployment {
            chain_id: 31337,
            token: Address::repeat_byte(1),
            registry: Address::repeat_byte(2),
            market: Address::repeat_byte(3),
            verifiers: Address::repeat_byte(4),
            court: Address::repeat_byte(5),
            deployed_block: 7,
            timelock: Address::ZERO,
        };
        let bare = dir.path().join("deployment.json");
        std::fs::write(&bare, serde_json::to_string(&d).unwrap()).unwrap();
        assert_eq!(load(&bare).unwrap(), d);
        let summary = dir.path().join("devnet.json");
        let wrapped = serde_json::json!({ "rpcUrl": "http://127.0.0.1:8545", "deployment": d });
        std::fs::write(&summary, wrapped.to_string()).unwrap();
        assert_eq!(load(&summary).unwrap(), d);
    }

    #[test]
    fn says_which_file_is_missing_malformed_or_not_a_deployment() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("absent.json");
        let e = load(&missing).unwrap_err();
        assert!(matches!(e, DeploymentFileError::Io { .. }), "{e}");
        assert!(e.to_string().starts_with("[V-DEP-001]"), "{e}");
        assert!(e.to_string().contains("absent.json"), "{e}");
        let garbage = dir.path().join("garbage.json");
        std::fs::write(&garbage, "{ not json").unwrap();
        assert!(matches!(
            load(&garbage),
            Err(DeploymentFileError::Json { .. })
        ));
        let other = dir.path().join("other.json");
        std::fs::write(&other, r#"{"hello": 1}"#).unwrap();
        assert!(matches!(
            load(&other),
            Err(DeploymentFileError::Shape { .. })
        ));
    }
}
