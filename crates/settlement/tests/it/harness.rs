//! A fresh contract set per test, funded actors, time controls, and exact balance accounting.

use std::collections::BTreeMap;

use alloy::{
    network::EthereumWallet,
    primitives::{Address, B256, Bytes, U256, keccak256},
    providers::{Provider, ProviderBuilder},
    signers::local::{MnemonicBuilder, PrivateKeySigner, coins_bip39::English},
};
use verity_devchain::{DevchainConfig, DevchainHandle};
use verity_settlement::{
    CaseInfo, CasePhase, DeployConfig, Deployment, Error, Mode, OperatorProfile, Settlement,
    TaskId, TaskRequest, TxOptions, deploy,
};

pub const MNEMONIC: &str = "test test test test test test test test test test test junk";
pub const ACCOUNTS: u32 = 21;

pub fn tokens(n: u64) -> U256 {
    U256::from(n) * U256::from(10u64).pow(U256::from(18u64))
}

pub const STAKE: u64 = 1_000;
pub const MIN_STAKE: u64 = 100;
pub const PROTOCOL_BPS: u16 = 100;
pub const SCHEDULER_BPS: u16 = 50;
pub const UNBONDING: u64 = 3_600;
pub const JAIL: u64 = 3_600;
pub const DISPUTE_WINDOW: u32 = 600;
pub const REVEAL_WINDOW: u32 = 300;
pub const ARBITER_WINDOW: u32 = 900;

/// The court's bound on draw rounds.
pub struct CourtRounds;
impl CourtRounds {
    pub const MAX: usize = 4;
}

/// One test's network: a fresh deployment and named, funded actors.
pub struct Net {
    pub s: Settlement,
    pub owner: Address,
    pub coordinator: Address,
    pub treasury: Address,
    pub client: Address,
    pub client2: Address,
    pub challenger: Address,
    pub operators: Vec<Address>,
    pub keeper: Address,
    /// Decides escalated disputes.
    pub arbiter: Address,
    _devchain: Option<DevchainHandle>,
}

pub fn signers() -> Vec<PrivateKeySigner> {
    (0..ACCOUNTS)
        .map(|i| {
            MnemonicBuilder::<English>::default()
                .phrase(MNEMONIC)
                .index(i)
                .expect("index")
                .build()
                .expect("dev key")
        })
        .collect()
}

/// A node to test against: `VERITY_TEST_RPC` or a fresh embedded devchain.
async fn node() -> (String, Option<DevchainHandle>) {
    match std::env::var("VERITY_TEST_RPC") {
        Ok(url) if !url.is_empty() => (url, None),
        _ => {
            let cfg = DevchainConfig {
                accounts: ACCOUNTS,
                ..DevchainConfig::default()
            };
            let handle = verity_devchain::spawn(cfg).await.expect("devchain");
            (handle.url.clone(), Some(handle))
        }
    }
}

impl Net {
    /// Deploys, then funds every actor with 10 000 tokens and approves the market and registry;
    /// registers and stakes `STAKE` for each operator.
    pub async fn new() -> Net {
        Net::with_min_audit_bps(0).await
    }

    /// As [`Net::new`], with the market's least audit rate `min_audit_bps` (immutable).
    pub async fn with_min_audit_bps(min_audit_bps: u16) -> Net {
        let (url, handle) = node().await;
        let keys = signers();
        let mut wallet = EthereumWallet::from(keys[0].clone());
        for k in &keys[1..] {
            wallet.register_signer(k.clone());
        }
        let provider = ProviderBuilder::new()
            .wallet(wallet)
            .connect_http(url.parse().expect("url"));
        let a: Vec<Address> = keys.iter().map(|k| k.address()).collect();
        let (owner, coordinator, treasury) = (a[0], a[1], a[2]);
        let mut cfg = DeployConfig::devnet(owner);
        // `new`: a test deployment where tasks may go unaudited (rate 0), so each test follows
        // the path it names; the audit tests (`audits.rs`) ask for their rate per task.
        cfg.min_audit_bps = min_audit_bps;
        cfg.treasury = treasury;
        cfg.coordinators = vec![coordinator];
        cfg.min_stake = tokens(MIN_STAKE);
        cfg.unbonding_delay = UNBONDING;
        cfg.jail_duration = JAIL;
        cfg.protocol_fee_bps = PROTOCOL_BPS;
        cfg.scheduler_fee_bps = SCHEDULER_BPS;
        cfg.committee_size = 3;
        cfg.dispute_window = DISPUTE_WINDOW;
        cfg.dispute_reveal_window = REVEAL_WINDOW;
        cfg.arbiter_window = ARBITER_WINDOW;
        cfg.arbiter = a[14];
        let deployment: Deployment = deploy(provider.clone(), &cfg).await.expect("deploy");
        let s = Settlement::new(provider, deployment, TxOptions::default());
        let net = Net {
            s,
            owner,
            coordinator,
            treasury,
            client: a[3],
            client2: a[4],
            challenger: a[5],
            operators: a[6..13].to_vec(),
            keeper: a[13],
            arbiter: a[14],
            _devchain: handle,
        };
        for who in net.actors() {
            net.s.mint(who, who, tokens(10_000)).await.expect("mint");
            net.s
                .approve_market(who, U256::MAX)
                .await
                .expect("approve market");
            net.s
                .approve_registry(who, U256::MAX)
                .await
                .expect("approve registry");
        }
        for (i, op) in net.operators.iter().enumerate() {
            net.s.register(*op, &profile(i)).await.expect("register");
            net.s.stake(*op, tokens(STAKE)).await.expect("stake");
        }
        net
    }

    /// Everyone whose balances tests account for.
    pub fn actors(&self) -> Vec<Address> {
        let mut v = vec![
            self.owner,
            self.coordinator,
            self.treasury,
            self.client,
            self.client2,
            self.challenger,
            self.keeper,
            self.arbiter,
        ];
        v.extend(&self.operators);
        v
    }

    /// Dev accounts no actor uses (`ACCOUNTS` - 15 of them): fresh identities an attacker
    /// can register, funded with 10 000 tokens and approvals like the actors.
    pub async fn fresh_identities(&self) -> Vec<Address> {
        let fresh: Vec<Address> = signers()[15..].iter().map(|k| k.address()).collect();
        for who in &fresh {
            self.s.mint(*who, *who, tokens(10_000)).await.expect("mint");
            self.s
                .approve_registry(*who, U256::MAX)
                .await
                .expect("approve registry");
            self.s
                .approve_market(*who, U256::MAX)
                .await
                .expect("approve market");
        }
        fresh
    }

    /// Mines `n` empty blocks.
    pub async fn mine_blocks(&self, n: u64) {
        for _ in 0..n {
            self.mine().await;
        }
    }

    pub fn op(&self, i: usize) -> Address {
        self.operators[i]
    }

    pub async fn now(&self) -> u64 {
        self.s.chain_time().await.expect("chain time")
    }

    /// Mines an empty block exactly `secs` seconds after the latest one. (Not evm_increaseTime:
    /// with instant mining, block timestamps run ahead of the wall clock, and an offset added to
    /// the clock moves the next block by less than asked, on Hardhat as on the devchain.)
    pub async fn advance(&self, secs: u64) {
        let target = self.now().await + secs;
        self.next_block_at(target).await;
        self.mine().await;
    }

    /// The next block (the next transaction, with instant mining) gets exactly this timestamp.
    pub async fn next_block_at(&self, ts: u64) {
        let _: serde_json::Value = self
            .s
            .provider()
            .raw_request("evm_setNextBlockTimestamp".into(), (ts,))
            .await
            .expect("evm_setNextBlockTimestamp");
    }

    pub async fn set_automine(&self, on: bool) {
        let _: serde_json::Value = self
            .s
            .provider()
            .raw_request("evm_setAutomine".into(), (on,))
            .await
            .expect("evm_setAutomine");
    }

    /// Waits, at most 30 s, until `who` has a transaction in the pool: its pending nonce is
    /// above its mined one.
    pub async fn wait_queued(&self, who: Address) {
        let p = self.s.provider();
        poll_until(
            &format!("a pending transaction from {who}"),
            std::time::Duration::from_secs(30),
            std::time::Duration::from_millis(20),
            || async {
                let mined = p.get_transaction_count(who).await.expect("nonce");
                let pending = p.get_transaction_count(who).pending().await.expect("nonce");
                pending > mined
            },
        )
        .await;
    }

    pub async fn mine(&self) {
        let _: serde_json::Value = self
            .s
            .provider()
            .raw_request("evm_mine".into(), serde_json::json!([]))
            .await
            .expect("evm_mine");
    }

    /// A task request of `mode` with deadlines relative to now and a bounty of `bounty` tokens.
    pub async fn request(&self, mode: Mode, bounty: u64) -> TaskRequest {
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

    /// Creates `req` from the client and assigns `ops` from the coordinator.
    pub async fn open_and_assign(&self, req: &TaskRequest, ops: &[Address]) -> TaskId {
        let (id, _) = self.s.create_task(self.client, req).await.expect("create");
        self.s
            .assign(self.coordinator, id, ops)
            .await
            .expect("assign");
        id
    }

    /// The dispute's case; panics if the task has none.
    pub async fn case(&self, id: TaskId) -> CaseInfo {
        self.s.case(id).await.expect("case")
    }

    /// Mines the seed block and draws until the committee is complete.
    pub async fn draw(&self, id: TaskId) -> CaseInfo {
        for _ in 0..CourtRounds::MAX {
            self.mine().await;
            self.s.draw_committee(self.keeper, id).await.expect("draw");
            let c = self.case(id).await;
            if c.phase != CasePhase::Drawing {
                return c;
            }
        }
        panic!("committee not drawn in {} rounds", CourtRounds::MAX);
    }

    /// Each `(member, digest)` commits (salt from its index), then each reveals.
    pub async fn vote(&self, id: TaskId, ballots: &[(Address, B256)]) {
        for (i, (m, d)) in ballots.iter().enumerate() {
            self.s
                .commit_ballot(*m, id, *d, salt(i as u8))
                .await
                .expect("commit ballot");
        }
        for (i, (m, d)) in ballots.iter().enumerate() {
            self.s
                .reveal_ballot(*m, id, *d, salt(i as u8))
                .await
                .expect("reveal ballot");
        }
    }

    /// Like [`Net::vote`] for a committee where some member never commits: the reveals wait
    /// for the commit deadline.
    pub async fn vote_late(&self, id: TaskId, ballots: &[(Address, B256)]) {
        for (i, (m, d)) in ballots.iter().enumerate() {
            self.s
                .commit_ballot(*m, id, *d, salt(i as u8))
                .await
                .expect("commit ballot");
        }
        self.advance(u64::from(DISPUTE_WINDOW) + 1).await;
        for (i, (m, d)) in ballots.iter().enumerate() {
            self.s
                .reveal_ballot(*m, id, *d, salt(i as u8))
                .await
                .expect("reveal ballot");
        }
    }

    pub fn commitment(&self, id: TaskId, op: Address, digest: B256, salt: B256) -> B256 {
        verity_settlement::commitment(
            self.s.chain_id(),
            self.s.deployment().market,
            id,
            op,
            digest,
            salt,
        )
    }

    /// Everyone's balances, for exact before/after comparisons.
    pub async fn ledger(&self) -> Ledger {
        let mut rows = BTreeMap::new();
        for who in self.actors() {
            let op = self.s.operator(who).await.expect("operator");
            rows.insert(
                who,
                Row {
                    wallet: self.s.token_balance(who).await.expect("balance"),
                    market: self.s.market_balance(who).await.expect("market balance"),
                    court: self.s.court_balance(who).await.expect("court balance"),
                    stake: op.stake,
                    locked: op.locked,
                    unbonding: op.unbonding,
                },
            );
        }
        let totals = self.s.market_totals().await.expect("totals");
        let d = self.s.deployment();
        // The market keeps no sum of balances: the actors hold every balance there is.
        let credited = rows.values().map(|r| r.market).sum();
        let court_credited = rows.values().map(|r| r.court).sum();
        Ledger {
            rows,
            market_tokens: self.s.token_balance(d.market).await.expect("market tokens"),
            registry_tokens: self
                .s
                .token_balance(d.registry)
                .await
                .expect("registry tokens"),
            escrowed: totals.escrowed,
            bonded: totals.bonded,
            credited,
            court_tokens: self.s.token_balance(d.court).await.expect("court tokens"),
            court_credited,
        }
    }
}

pub fn profile(i: usize) -> OperatorProfile {
    OperatorProfile {
        signer: Address::repeat_byte(0x40 + i as u8),
        hardware_hash: keccak256(format!("hw-{i}")),
        metadata_cid: Bytes::from(vec![0x01, 0x55, 0x12, 0x20, i as u8]),
        region: 276,
        capabilities: 0b1,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Row {
    pub wallet: U256,
    pub market: U256,
    pub court: U256,
    pub stake: U256,
    pub locked: U256,
    pub unbonding: U256,
}

/// A signed change of one actor's balances, in token units of 10^-18.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Delta {
    pub wallet: i128,
    pub market: i128,
    pub court: i128,
    pub stake: i128,
    pub locked: i128,
    pub unbonding: i128,
}

#[derive(Debug, Clone)]
pub struct Ledger {
    pub rows: BTreeMap<Address, Row>,
    pub market_tokens: U256,
    pub registry_tokens: U256,
    pub escrowed: U256,
    pub bonded: U256,
    pub credited: U256,
    /// The court's token balance, and the sum of the balances it records for the actors.
    pub court_tokens: U256,
    pub court_credited: U256,
}

fn diff(a: U256, b: U256) -> i128 {
    if b >= a {
        i128::try_from(b - a).expect("fits")
    } else {
        -i128::try_from(a - b).expect("fits")
    }
}

pub fn t(n: i64) -> i128 {
    i128::from(n) * 10i128.pow(18)
}

impl Ledger {
    /// Asserts the conservation identities of both contracts.
    pub fn assert_conserved(&self) {
        assert_eq!(
            self.market_tokens,
            self.escrowed + self.bonded + self.credited,
            "market tokens == escrow + bonds + balances"
        );
        assert_eq!(
            self.court_tokens, self.court_credited,
            "court tokens == balances it records"
        );
        let staked: U256 = self.rows.values().map(|r| r.stake + r.unbonding).sum();
        assert_eq!(
            self.registry_tokens, staked,
            "registry tokens == stakes + unbonding"
        );
    }

    /// Asserts that every actor changed by exactly `expected` (missing actors: unchanged), and
    /// that both contracts still balance.
    pub fn assert_deltas(&self, after: &Ledger, expected: &[(Address, Delta)]) {
        after.assert_conserved();
        let want: BTreeMap<Address, Delta> = {
            let mut m = BTreeMap::new();
            for (a, d) in expected {
                let e: &mut Delta = m.entry(*a).or_default();
                e.wallet += d.wallet;
                e.market += d.market;
                e.court += d.court;
                e.stake += d.stake;
                e.locked += d.locked;
                e.unbonding += d.unbonding;
            }
            m
        };
        for (who, before) in &self.rows {
            let now = after.rows[who];
            let got = Delta {
                wallet: diff(before.wallet, now.wallet),
                market: diff(before.market, now.market),
                court: diff(before.court, now.court),
                stake: diff(before.stake, now.stake),
                locked: diff(before.locked, now.locked),
                unbonding: diff(before.unbonding, now.unbonding),
            };
            assert_eq!(
                got,
                want.get(who).copied().unwrap_or_default(),
                "balance change of {who}"
            );
        }
    }
}

impl std::ops::Add for Delta {
    type Output = Delta;
    fn add(self, o: Delta) -> Delta {
        Delta {
            wallet: self.wallet + o.wallet,
            market: self.market + o.market,
            court: self.court + o.court,
            stake: self.stake + o.stake,
            locked: self.locked + o.locked,
            unbonding: self.unbonding + o.unbonding,
        }
    }
}

pub fn market(n: i128) -> Delta {
    Delta {
        market: n,
        ..Delta::default()
    }
}
/// Withdrawable from the dispute court (committee pay, the treasury's share).
pub fn court(n: i128) -> Delta {
    Delta {
        court: n,
        ..Delta::default()
    }
}
pub fn wallet(n: i128) -> Delta {
    Delta {
        wallet: n,
        ..Delta::default()
    }
}
pub fn locked(n: i128) -> Delta {
    Delta {
        locked: n,
        ..Delta::default()
    }
}
/// Stake changed by n (e.g. slashed collateral that was locked after the snapshot).
pub fn stake(n: i128) -> Delta {
    Delta {
        stake: n,
        ..Delta::default()
    }
}
/// Slashed: stake and locked both drop by n.
pub fn slashed(n: i128) -> Delta {
    Delta {
        stake: -n,
        locked: -n,
        ..Delta::default()
    }
}

/// Asserts a call failed with the named custom error (found at estimation, or on chain).
#[track_caller]
pub fn expect_revert<T: std::fmt::Debug>(r: Result<T, Error>, name: &str) {
    match r {
        Ok(v) => panic!("expected revert {name}, got success: {v:?}"),
        Err(e) => assert_eq!(
            e.revert_name().as_deref(),
            Some(name),
            "expected {name}, got: {e}"
        ),
    }
}

/// Fee split of a bounty as the market computes it: (protocol fee, scheduler fee, rest).
pub fn split(bounty: i128) -> (i128, i128, i128) {
    let p = bounty * i128::from(PROTOCOL_BPS) / 10_000;
    let s = bounty * i128::from(SCHEDULER_BPS) / 10_000;
    (p, s, bounty - p - s)
}

pub fn digest(s: &str) -> B256 {
    keccak256(s)
}

pub fn salt(i: u8) -> B256 {
    B256::repeat_byte(i)
}

/// Polls `cond` every `interval` until it holds; panics naming `what` once `timeout` has
/// passed without it. A wait for a condition, never a guess at how long something takes.
pub async fn poll_until<F, Fut>(
    what: &str,
    timeout: std::time::Duration,
    interval: std::time::Duration,
    mut cond: F,
) where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        if cond().await {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}"
        );
        tokio::time::sleep(interval).await;
    }
}
