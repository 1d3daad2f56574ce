//! Where a network is, for every command that talks to one (`task`, `account`, `dispute`):
//! flags, then `VERITY_*` environment variables, then the profile (`--profile`, else `devnet`
//! if `verity devnet` wrote one), then the defaults. Read-only commands need no key; a command
//! that sends checks first that the RPC serves the deployment's chain.

use std::path::PathBuf;

use alloy::{
    network::EthereumWallet,
    primitives::{Address, U256, utils::format_units},
    providers::{Provider, ProviderBuilder},
    signers::local::PrivateKeySigner,
};
use clap::Args;
use eyre::{WrapErr, bail, eyre};
use verity_config_files::{Profile, profile};
use verity_settlement::{Deployment, Settlement, TxOptions};
use verity_store::GatewayClient;

/// The profile used when none is named.
pub(crate) const DEFAULT_PROFILE: &str = "devnet";

/// Where the chain, the contracts, the gateway, the coordinator and the requester's key are.
#[derive(Debug, Args)]
pub(crate) struct ConnArgs {
    /// Profile to read the network from (`$VERITY_HOME/profiles/NAME.toml`, else
    /// `~/.config/verity/profiles/NAME.toml`); default `devnet` when `verity devnet` wrote it.
    #[arg(long, env = "VERITY_PROFILE")]
    profile: Option<String>,
    /// JSON-RPC endpoint of the chain [default: the profile's, else http://127.0.0.1:8545].
    #[arg(long, env = "VERITY_RPC_URL")]
    rpc_url: Option<String>,
    /// Deployment JSON (`verity contracts deploy --json`, or the `verity devnet --json`
    /// summary) [default: the profile's, else deployment.json].
    #[arg(long, env = "VERITY_DEPLOYMENT")]
    deployment: Option<PathBuf>,
    /// IPFS trustless gateway that stores programs, inputs and outputs [default: the
    /// profile's, else http://127.0.0.1:8080].
    #[arg(long, env = "VERITY_GATEWAY")]
    gateway: Option<String>,
    /// Coordinator API, asked which nodes are live before a task is sent [default: the
    /// profile's; none or "": the check is skipped].
    #[arg(long, env = "VERITY_COORDINATOR")]
    coordinator: Option<String>,
    /// Requester key (hex). Prefer the environment variable to the flag.
    #[arg(long, env = "VERITY_PRIVATE_KEY", hide_env_values = true)]
    private_key: Option<String>,
    /// Requester key file (`verity keys new`); used when no --private-key is given
    /// [default: the profile's].
    #[arg(long, env = "VERITY_KEY_FILE")]
    key_file: Option<PathBuf>,
}

/// A resolved network.
#[derive(Debug)]
pub(crate) struct Network {
    pub(crate) rpc_url: String,
    pub(crate) deployment: Deployment,
    pub(crate) gateway: String,
    pub(crate) coordinator: Option<String>,
    key: Option<PrivateKeySigner>,
}

impl ConnArgs {
    /// Layers flags and environment over the profile over the defaults.
    pub(crate) fn resolve(&self) -> eyre::Result<Network> {
        let profile: Option<Profile> = match &self.profile {
            Some(name) => Some(profile::load(name).wrap_err("profile")?),
            None => profile::find(DEFAULT_PROFILE).wrap_err("profile")?,
        };
        let p = profile.as_ref();
        let rpc_url = self
            .rpc_url
            .clone()
            .or_else(|| p.map(|p| p.rpc_url.clone()))
            .unwrap_or_else(|| "http://127.0.0.1:8545".into());
        let deployment = match (&self.deployment, p) {
            (Some(path), _) => verity_config_files::deployment::load(path)?,
            (None, Some(p)) => p.deployment,
            (None, None) => verity_config_files::deployment::load(
                std::path::Path::new("deployment.json"),
            )
            .wrap_err("no profile and no --deployment: run `verity devnet`, or pass --profile or --deployment")?,
        };
        let gateway = self
            .gateway
            .clone()
            .or_else(|| p.and_then(|p| p.gateway_url.clone()))
            .unwrap_or_else(|| "http://127.0.0.1:8080".into());
        // An empty --coordinator "" means none, over the profile's.
        let coordinator = self
            .coordinator
            .clone()
            .or_else(|| p.and_then(|p| p.coordinator_url.clone()))
            .filter(|c| !c.is_empty());
        let key_file = self
            .key_file
            .clone()
            .or_else(|| p.and_then(|p| p.key_file.clone()));
        let key = match (&self.private_key, key_file) {
            (Some(hex), _) => Some(
                hex.trim()
                    .parse::<PrivateKeySigner>()
                    .wrap_err("parsing the private key")?,
            ),
            (None, Some(path)) => Some(
                verity_config_files::keys::load(&path)
                    .wrap_err_with(|| format!("loading key {}", path.display()))?,
            ),
            (None, None) => None,
        };
        Ok(Network {
            rpc_url,
            deployment,
            gateway,
            coordinator,
            key,
        })
    }
}

impl Network {
    fn url(&self) -> eyre::Result<reqwest::Url> {
        self.rpc_url
            .parse()
            .wrap_err_with(|| format!("parsing the RPC URL {:?}", self.rpc_url))
    }

    /// A settlement client that only reads: no key needed.
    pub(crate) fn reader(&self) -> eyre::Result<Settlement> {
        let provider = ProviderBuilder::new().connect_http(self.url()?);
        Ok(Settlement::new(
            provider,
            self.deployment,
            TxOptions::default(),
        ))
    }

    /// The requester's account, if a key was given.
    pub(crate) fn account(&self) -> Option<Address> {
        self.key.as_ref().map(|k| k.address())
    }

    /// A settlement client that sends from the requester's key, after checking that the RPC
    /// serves the deployment's chain.
    pub(crate) async fn sender(&self) -> eyre::Result<(Settlement, Address)> {
        let key = self.key.clone().ok_or_else(|| {
            eyre!(
                "no requester key: pass --private-key (or VERITY_PRIVATE_KEY) or --key-file, \
                 or use a profile that names one"
            )
        })?;
        let account = key.address();
        self.check_chain().await?;
        let provider = ProviderBuilder::new()
            .wallet(EthereumWallet::from(key))
            .connect_http(self.url()?);
        Ok((
            Settlement::new(provider, self.deployment, TxOptions::default()),
            account,
        ))
    }

    /// Refuses a deployment made for another chain than the one the RPC serves.
    pub(crate) async fn check_chain(&self) -> eyre::Result<()> {
        let provider = ProviderBuilder::new().connect_http(self.url()?);
        let served = provider
            .get_chain_id()
            .await
            .wrap_err_with(|| format!("chain: reading the chain id from {}", self.rpc_url))?;
        if served != self.deployment.chain_id {
            bail!(
                "chain: the deployment is for chain {} but {} serves chain {served}; \
                 refusing to send anything",
                self.deployment.chain_id,
                self.rpc_url
            );
        }
        Ok(())
    }

    /// The blob gateway.
    pub(crate) fn gateway(&self) -> eyre::Result<GatewayClient> {
        GatewayClient::new(&self.gateway)
            .wrap_err_with(|| format!("gateway: parsing {:?}", self.gateway))
    }
}

/// The payment token's symbol and decimals, for amounts people read.
#[derive(Debug, Clone)]
pub(crate) struct Token {
    pub(crate) symbol: String,
    pub(crate) decimals: u8,
}

impl Token {
    /// Reads them from the deployment's token.
    pub(crate) async fn of(s: &Settlement) -> eyre::Result<Self> {
        let t = verity_contracts::TestToken::new(s.deployment().token, s.provider());
        let symbol = t
            .symbol()
            .call()
            .await
            .wrap_err("chain: the token's symbol")?;
        let decimals = t
            .decimals()
            .call()
            .await
            .wrap_err("chain: the token's decimals")?;
        Ok(Self { symbol, decimals })
    }

    /// `amount` (raw units) in whole tokens with the symbol: `9.85 tVRT`.
    pub(crate) fn show(&self, amount: U256) -> String {
        format!("{} {}", units(amount, self.decimals), self.symbol)
    }
}

/// `amount` raw units in whole units of `decimals` places, trailing zeros dropped.
pub(crate) fn units(amount: U256, decimals: u8) -> String {
    let text = format_units(amount, decimals).unwrap_or_else(|_| amount.to_string());
    match text.split_once('.') {
        Some((whole, frac)) => {
            let frac = frac.trim_end_matches('0');
            if frac.is_empty() {
                whole.to_string()
            } else {
                format!("{whole}.{frac}")
            }
        }
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_tokens_drop_trailing_zeros_and_keep_every_significant_digit() {
        let e18 = U256::from(10u64).pow(U256::from(18u64));
        assert_eq!(units(U256::from(10u64) * e18, 18), "10");
        assert_eq!(
            units(U256::from(985u64) * e18 / U256::from(100u64), 18),
            "9.85"
        );
        assert_eq!(units(U256::from(1u64), 18), "0.000000000000000001");
        assert_eq!(units(U256::ZERO, 18), "0");
    }
}
