//! Chain configuration and the deterministic dev accounts.

use std::time::Duration;

use alloy::{
    primitives::{Address, U256, address},
    signers::local::{MnemonicBuilder, PrivateKeySigner, coins_bip39::English},
};

use crate::error::{Error, Result};

/// Hardhat's default mnemonic: the dev accounts equal Hardhat's default accounts.
pub const DEFAULT_MNEMONIC: &str = "test test test test test test test test test test test junk";

/// Hardhat's default chain id.
pub const DEFAULT_CHAIN_ID: u64 = 31337;

/// Hardhat's default coinbase (block beneficiary).
pub const DEFAULT_COINBASE: Address = address!("0xc014ba5ec014ba5ec014ba5ec014ba5ec014ba5e");

/// 1 gwei.
pub(crate) const GWEI: u64 = 1_000_000_000;

/// How the devchain is set up at genesis.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DevchainConfig {
    /// EIP-155 chain id (default 31337, Hardhat's).
    pub chain_id: u64,
    /// BIP-39 mnemonic the dev accounts are derived from (path `m/44'/60'/0'/0/{i}`).
    pub mnemonic: String,
    /// Number of dev accounts to derive and fund (default 10).
    pub accounts: u32,
    /// Genesis balance of each dev account, in wei (default 10 000 ETH).
    pub balance_wei: U256,
    /// Block gas limit (default 30 000 000).
    pub gas_limit: u64,
    /// Base fee of the genesis block in wei (default 1 gwei). Later blocks follow the
    /// EIP-1559 update rule, exactly like Hardhat and mainnet.
    pub base_fee: u64,
    /// Genesis timestamp in seconds; `None` = now.
    pub genesis_timestamp: Option<u64>,
    /// `None` = instant mining (automine: one block per transaction). `Some(d)` = automine
    /// off and [`crate::serve`] mines a block (with every pending transaction) every `d`.
    pub block_time: Option<Duration>,
    /// Let a block carry its parent's timestamp when the wall clock has not moved on a whole
    /// second (Hardhat's `allowBlocksWithSameTimestamp`). Off (default): every block is at
    /// least a second after its parent, so a chain making several blocks a second runs its
    /// clock ahead of the wall clock. On: block time follows the wall clock exactly, which a
    /// sub-second `block_time` needs to keep deadlines honest.
    pub allow_same_timestamp: bool,
}

impl Default for DevchainConfig {
    fn default() -> Self {
        Self {
            chain_id: DEFAULT_CHAIN_ID,
            mnemonic: DEFAULT_MNEMONIC.to_owned(),
            accounts: 10,
            balance_wei: U256::from(10_000u64) * U256::from(10u64).pow(U256::from(18u64)),
            gas_limit: 30_000_000,
            base_fee: GWEI,
            genesis_timestamp: None,
            block_time: None,
            allow_same_timestamp: false,
        }
    }
}

impl DevchainConfig {
    pub(crate) fn validate(&self) -> Result<()> {
        if self.chain_id == 0 {
            return Err(Error::InvalidConfig("chain_id must not be 0".into()));
        }
        if self.gas_limit < 21_000 {
            return Err(Error::InvalidConfig(format!(
                "gas_limit {} is below the 21000 gas of a plain transfer",
                self.gas_limit
            )));
        }
        if self.accounts > 1_000 {
            return Err(Error::InvalidConfig(format!(
                "accounts = {} is more than the 1000 supported",
                self.accounts
            )));
        }
        if self.block_time.is_some_and(|d| d.is_zero()) {
            return Err(Error::InvalidConfig(
                "block_time must be positive (use None for instant mining)".into(),
            ));
        }
        Ok(())
    }
}

/// An unlocked dev account (funded at genesis, usable with `eth_sendTransaction`).
#[derive(Debug, Clone)]
pub struct DevAccount {
    /// The account's address.
    pub address: Address,
    /// Its private key.
    pub signer: PrivateKeySigner,
}

/// Derives `count` accounts from `mnemonic` on `m/44'/60'/0'/0/{i}`.
pub(crate) fn derive_accounts(mnemonic: &str, count: u32) -> Result<Vec<DevAccount>> {
    if count == 0 {
        return Ok(Vec::new());
    }
    let parent = MnemonicBuilder::<English>::default()
        .phrase(mnemonic)
        .derivation_path("m/44'/60'/0'/0/0")?
        .build_parent_key()?;
    (0..count)
        .map(|i| {
            let signer = parent.child(i)?.signer();
            Ok(DevAccount {
                address: signer.address(),
                signer,
            })
        })
        .collect()
}
