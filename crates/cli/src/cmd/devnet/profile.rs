//! The profile `verity devnet` writes, so `verity task ...` reaches this network with no flags
//! and no environment variables: the RPC, the chain id, the deployment, the coordinator and
//! the gateway, and a key file for the devnet's client account (a well-known dev key).

use std::path::PathBuf;

use alloy::signers::local::PrivateKeySigner;
use eyre::WrapErr;
use verity_config_files::{Profile, profile};
use verity_settlement::Deployment;

/// Where the devnet is, for [`write`].
#[derive(Debug)]
pub(super) struct Endpoints<'a> {
    pub(super) rpc_url: &'a str,
    pub(super) deployment: Deployment,
    pub(super) coordinator: Option<String>,
    pub(super) gateway: Option<String>,
}

/// Writes profile `name` (and its key file beside it, mode 0600) and returns the profile's
/// path. An older profile of the same name is replaced: it named an earlier devnet.
pub(super) fn write(
    name: &str,
    at: Endpoints<'_>,
    client: &PrivateKeySigner,
) -> eyre::Result<PathBuf> {
    let path = profile::path(name).wrap_err("profile")?;
    let dir = path.parent().map(PathBuf::from).unwrap_or_default();
    std::fs::create_dir_all(&dir)
        .wrap_err_with(|| format!("profile: creating {}", dir.display()))?;
    let key_file = dir.join(format!("{name}.key"));
    match std::fs::remove_file(&key_file) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(e).wrap_err_with(|| format!("profile: replacing {}", key_file.display()));
        }
    }
    verity_config_files::keys::save(&key_file, client).wrap_err("profile: the client key")?;
    let p = Profile {
        rpc_url: at.rpc_url.to_string(),
        chain_id: at.deployment.chain_id,
        coordinator_url: at.coordinator,
        gateway_url: at.gateway,
        key_file: Some(key_file),
        deployment: at.deployment,
    };
    profile::save(
        name,
        &p,
        &format!(
            "Written by `verity devnet` (process {}); replaced by the next one.\n\
             The key file is a well-known dev key: never use it on a real chain.",
            std::process::id()
        ),
    )
    .wrap_err("profile")
}
