//! A devchain with the contracts deployed, funded actors and registered operators, and an
//! indexer over it.

use std::sync::Arc;

use alloy::{
    network::EthereumWallet,
    primitives::{Address, B256, Bytes, U256, keccak256},
    providers::{DynProvider, Provider, ProviderBuilder},
    signers::local::{MnemonicBuilder, PrivateKeySigner, coins_bip39::English},
};
use verity_coordinator::{
    follow::{RpcLogSource, StreamConfig},
    indexer::{Contracts, Indexer},
    store::Store,
};
use verity_devchain::{DevchainConfig, DevchainHandle};
use verity_settlement::{
    DeployConfig, Mode, OperatorProfile, Settlement, TaskId, TaskRequest, TxOptions, deploy,
};

pub(crate) const MNEMONIC: &str = "test test test test test test test test test test test junk";
const ACCOUNTS: u32 = 24;
pub(crate) const STAKE: u64 = 1_000;

pub(crate) fn tokens(n: u64) -> U256 {
    U256::from(n) * U256::from(10u64).pow(U256::from(18u64))
}

pub(crate) fn signers() -> Vec<PrivateKeySigner> {
    (0..ACCOUNTS)
        .map(|i| {
            MnemonicBuilder::<English>::default()
                .phrase(MNEMONIC)
                .index(i)
                .unwrap()
                .build()
                .unwrap()
        })
        .collect()
}

/// One test's chain: deployment, actors, operators registered and staked.
pub(crate) struct Net {
    pub(crate) s: Settlement,
    pub(crate) provider: DynProvider,
    pub(crate) coordinator: Address,
    pub(crate) client: Address,
    pub(crate) client2: Address,
    pub(crate) operators: Vec<Address>,
    pub(crate) keys: Vec<PrivateKeySigner>,
    pub(crate) _chain: DevchainHandle,
}

impl Net {
    /// Deploys, funds and approves every actor, registers and stakes `n_ops` operators (at most
    /// 8), each with signer key `signer_key(i)`.
    pub(crate) async fn new(n_ops: usize) -> Net {
        let chain = verity_devchain::spawn(DevchainConfig {
            accounts: ACCOUNTS,
            ..DevchainConfig::default()
        })
        .await
        .unwrap();
        let keys = signers();
        let mut wallet = EthereumWallet::from(keys[0].clone());
        for k in &keys[1..] {
            wallet.register_signer(k.clone());
        }
        let provider = ProviderBuilder::new()
            .wallet(wallet)
            .connect_http(chain.url.parse().unwrap())
            .erased();
        let a: Vec<Address> = keys.iter().map(|k| k.address()).collect();
        let mut cfg = DeployConfig::devnet(a[0]);
        // Unaudited tasks (rate 0, a test deployment's setting): these tests follow each path
        // exactly, and a drawn audit would take some of them to the court.
        cfg.min_audit_bps = 0;
        cfg.treasury = a[2];
        cfg.coordinators = vec![a[1]];
        let deployment = deploy(provider.clone(), &cfg).await.unwrap();
        let s = Settlement::new(provider.clone(), deployment, TxOptions::default());
        let net = Net {
            s,
            provider,
            coordinator: a[1],
            client: a[3],
            client2: a[4],
            operators: a[5..5 + n_ops].to_vec(),
            keys,
            _chain: chain,
        };
        for who in [net.client, net.client2]
            .into_iter()
            .chain(net.operators.clone())
        {
            net.s.mint(who, who, tokens(10_000)).await.unwrap();
            net.s.approve_market(who, U256::MAX).await.unwrap();
            net.s.approve_registry(who, U256::MAX).await.unwrap();
        }
        for (i, op) in net.operators.clone().iter().enumerate() {
            net.s.register(*op, &net.profile(i)).await.unwrap();
            net.s.stake(*op, tokens(STAKE)).await.unwrap();
        }
        net
    }

    /// Operator `i`'s signing key (heartbeats): dev account 16 + i.
    pub(crate) fn signer_key(&self, i: usize) -> PrivateKeySigner {
        self.keys[16 + i.min(7)].clone()
    }

    pub(crate) fn profile(&self, i: usize) -> OperatorProfile {
        OperatorProfile {
            signer: self.signer_key(i).address(),
            hardware_hash: keccak256(format!("hw-{i}")),
            metadata_cid: Bytes::from(vec![0x01, 0x55, 0x12, 0x20, i as u8]),
            region: 276 + i as u32,
            capabilities: 0b1,
        }
    }

    pub(crate) fn contracts(&self) -> Contracts {
        Contracts {
            market: self.s.deployment().market,
            registry: self.s.deployment().registry,
        }
    }

    /// An indexer over this chain into `store` (confirmations 0, small ranges).
    pub(crate) fn indexer(&self, store: Arc<dyn Store>, max_range: u64) -> Indexer {
        let d = self.s.deployment();
        let chain = RpcLogSource::new(self.provider.clone(), vec![d.market, d.registry]);
        Indexer::new(
            store,
            Arc::new(chain),
            self.contracts(),
            StreamConfig {
                confirmations: 0,
                chunk_blocks: max_range,
                start_block: d.deployed_block,
                keep_blocks: 64,
            },
        )
    }

    /// A fresh client for the same chain (its own nonce cache: after `evm_revert` the old
    /// one's nonces are ahead of the chain's).
    pub(crate) fn fresh(&self) -> Settlement {
        Settlement::new(
            self.provider.clone(),
            *self.s.deployment(),
            TxOptions::default(),
        )
    }

    pub(crate) async fn now(&self) -> u64 {
        self.s.chain_time().await.unwrap()
    }

    pub(crate) async fn rpc(
        &self,
        method: &'static str,
        params: serde_json::Value,
    ) -> serde_json::Value {
        self.provider
            .raw_request(method.into(), params)
            .await
            .unwrap_or_else(|e| panic!("{method}: {e}"))
    }

    pub(crate) async fn snapshot(&self) -> serde_json::Value {
        self.rpc("evm_snapshot", serde_json::json!([])).await
    }

    pub(crate) async fn revert(&self, id: serde_json::Value) {
        let ok = self.rpc("evm_revert", serde_json::json!([id])).await;
        assert_eq!(ok, serde_json::json!(true));
    }

    /// Mines an empty block `secs` after the latest.
    pub(crate) async fn advance(&self, secs: u64) {
        let t = self.now().await + secs;
        self.rpc("evm_setNextBlockTimestamp", serde_json::json!([t]))
            .await;
        self.rpc("evm_mine", serde_json::json!([])).await;
    }

    /// A request of `mode` with deadlines relative to now.
    pub(crate) async fn request(&self, mode: Mode, bounty: u64) -> TaskRequest {
        let now = self.now().await;
        let (replication, quorum, reveal, window) = match mode {
            Mode::Replicated => (3, 2, now + 300, 0),
            Mode::Optimistic => (1, 1, 0, 120),
            Mode::ZkProof => (1, 1, 0, 0),
        };
        TaskRequest {
            mode,
            replication,
            quorum,
            program_digest: keccak256("program"),
            input_digest: keccak256("input"),
            bounty: tokens(bounty),
            collateral: tokens(50),
            assign_deadline: now + 100,
            commit_deadline: now + 200,
            reveal_deadline: reveal,
            challenge_window: window,
            verifier_id: B256::ZERO,
            audit_bps: 0,
        }
    }

    pub(crate) async fn create(
        &self,
        s: &Settlement,
        from: Address,
        mode: Mode,
        bounty: u64,
    ) -> TaskId {
        let req = self.request(mode, bounty).await;
        s.create_task(from, &req).await.unwrap().0
    }

    pub(crate) fn commitment(&self, id: TaskId, op: Address, digest: B256, salt: B256) -> B256 {
        verity_settlement::commitment(
            self.s.chain_id(),
            self.s.deployment().market,
            id,
            op,
            digest,
            salt,
        )
    }
}
