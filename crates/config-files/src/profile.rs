//! Profiles: where a network is, in one TOML file per network, so that `verity task ...` needs
//! no environment variables. `verity devnet` writes `devnet`; `--profile NAME` reads another.
//!
//! Profiles live in [`dir`]: `$VERITY_HOME/profiles`, else `$XDG_CONFIG_HOME/verity/profiles`,
//! else `$HOME/.config/verity/profiles`. A profile holds no private key: it names a key file
//! ([`crate::keys`]), which keeps the key loader's permission check.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use verity_settlement::Deployment;

/// Why a profile cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ProfileError {
    /// No directory to keep profiles in (no `VERITY_HOME`, `XDG_CONFIG_HOME` nor `HOME`).
    #[error("[V-PRO-001] no profile directory: set VERITY_HOME or HOME")]
    NoHome,
    /// The named profile does not exist.
    #[error("[V-PRO-002] no profile {name:?} at {path} (`verity devnet` writes `devnet`)")]
    Missing {
        /// The profile's name.
        name: String,
        /// Where it was looked for.
        path: PathBuf,
    },
    /// Reading or writing failed.
    #[error("[V-PRO-003] {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a profile.
    #[error("[V-PRO-004] parsing profile {path}: {reason}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// A name that is not a plain file name (it would escape the profile directory).
    #[error("[V-PRO-005] profile name {0:?}: use letters, digits, '-' and '_'")]
    BadName(String),
}

/// One network as the CLI reaches it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Profile {
    /// JSON-RPC endpoint of the chain.
    pub rpc_url: String,
    /// The chain's id (checked against the RPC's before anything is sent).
    pub chain_id: u64,
    /// The coordinator's API, if the network runs one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub coordinator_url: Option<String>,
    /// The blob gateway, if the network runs one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gateway_url: Option<String>,
    /// The requester's key file, if the profile has one (read-only commands need none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_file: Option<PathBuf>,
    /// Where the contracts are.
    pub deployment: Deployment,
}

/// The profile directory (see the module documentation).
pub fn dir() -> Result<PathBuf, ProfileError> {
    let var = |k| {
        std::env::var_os(k)
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
    };
    if let Some(home) = var("VERITY_HOME") {
        return Ok(home.join("profiles"));
    }
    if let Some(xdg) = var("XDG_CONFIG_HOME") {
        return Ok(xdg.join("verity").join("profiles"));
    }
    var("HOME")
        .map(|h| h.join(".config").join("verity").join("profiles"))
        .ok_or(ProfileError::NoHome)
}

/// The file of profile `name`.
pub fn path(name: &str) -> Result<PathBuf, ProfileError> {
    let plain = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !plain {
        return Err(ProfileError::BadName(name.to_string()));
    }
    Ok(dir()?.join(format!("{name}.toml")))
}

/// Reads profile `name`; `Ok(None)` if it does not exist.
pub fn find(name: &str) -> Result<Option<Profile>, ProfileError> {
    let path = path(name)?;
    match std::fs::read_to_string(&path) {
        Ok(text) => parse(&path, &text).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(ProfileError::Io { path, source }),
    }
}

/// Reads profile `name`; a missing profile is an error.
pub fn load(name: &str) -> Result<Profile, ProfileError> {
    find(name)?.ok_or_else(|| ProfileError::Missing {
        name: name.to_string(),
        path: path(name).unwrap_or_default(),
    })
}

fn parse(path: &Path, text: &str) -> Result<Profile, ProfileError> {
    toml::from_str(text).map_err(|e| ProfileError::Parse {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// Writes `profile` as `name` (replacing an older one through a temporary file) and returns
/// its path. `header` becomes a comment at the top.
pub fn save(name: &str, profile: &Profile, header: &str) -> Result<PathBuf, ProfileError> {
    let path = path(name)?;
    let io = |path: &Path| {
        let path = path.to_path_buf();
        move |source| ProfileError::Io { path, source }
    };
    let parent = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(parent).map_err(io(parent))?;
    let body = toml::to_string(profile).map_err(|e| ProfileError::Parse {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    let comment: String = header.lines().map(|l| format!("# {l}\n")).collect();
    let tmp = path.with_extension(format!("toml.{}.tmp", std::process::id()));
    std::fs::write(&tmp, format!("{comment}{body}")).map_err(io(&tmp))?;
    std::fs::rename(&tmp, &path).map_err(io(&path))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use alloy::primitives::Address;

    use super::*;

    #[test]
    fn a_profile_round_trips_through_its_toml_text() {
        let p = Profile {
            rpc_url: "http://127.0.0.1:8545".into(),
            chain_id: 31337,
            coordinator_url: Some("http://127.0.0.1:8700".into()),
            gateway_url: None,
            key_file: Some("/tmp/devnet.key".into()),
            deployment: Deployment {
                chain_id: 31337,
                token: Address::repeat_byte(1),
                registry: Address::repeat_byte(2),
                market: Address::repeat_byte(3),
                verifiers: Address::repeat_byte(4),
                court: Address::repeat_byte(5),
                deployed_block: 7,
                timelock: Address::ZERO,
            },
        };
        let text = toml::to_string(&p).unwrap();
        assert_eq!(parse(Path::new("p.toml"), &text).unwrap(), p);
    }

    #[test]
    fn a_name_that_would_leave_the_directory_is_refused() {
        assert!(matches!(path("../x"), Err(ProfileError::BadName(_))));
        assert!(matches!(path(""), Err(ProfileError::BadName(_))));
    }
}
