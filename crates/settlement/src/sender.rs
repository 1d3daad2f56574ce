//! Sending transactions: nonce management, retries bounded by attempts and by the on-chain
//! deadline a call must meet, receipts with a confirmation depth, and revert decoding.

use std::{
    collections::HashMap,
    sync::{Arc, atomic::Ordering},
    time::Duration,
};

use alloy::{
    eips::{BlockId, eip1559::Eip1559Estimation},
    network::TransactionBuilder,
    primitives::{Address, B256},
    providers::{DynProvider, Provider},
    rpc::types::{TransactionReceipt, TransactionRequest},
};
use tokio::sync::Mutex;
use tracing::{debug, warn};
use verity_contracts::ContractError;

use crate::{Deployment, Error, Result};

/// How transactions are sent and confirmed.
#[derive(Debug, Clone)]
pub struct TxOptions {
    /// Blocks that must exist on top of (and including) the receipt's block: 1 = mined.
    pub confirmations: u64,
    /// How long to wait for the receipt and its confirmations.
    pub receipt_timeout: Duration,
    /// Delay before the first receipt poll; later polls back off to eight times it.
    pub poll_interval: Duration,
    /// Attempts for transport failures (reverts are never retried).
    pub attempts: u32,
    /// First retry delay; doubles each attempt.
    pub backoff: Duration,
    /// A fixed gas limit; `None` estimates each transaction (and so finds reverts before
    /// sending). Fixed limits suit time-critical calls whose estimate would be stale anyway.
    pub gas_limit: Option<u64>,
    /// How long a fee estimate (`eth_feeHistory`) is reused for later sends; zero asks for
    /// every transaction. Any failed send drops it. The default, 500 ms, is safe for blocks
    /// down to 100 ms apart: the estimate offers twice the base fee, which five full blocks
    /// in a row (+12.5 % each) do not reach.
    pub fee_ttl: Duration,
}

impl Default for TxOptions {
    fn default() -> Self {
        Self {
            confirmations: 1,
            receipt_timeout: Duration::from_secs(60),
            poll_interval: Duration::from_millis(20),
            attempts: 4,
            backoff: Duration::from_millis(200),
            gas_limit: None,
            fee_ttl: Duration::from_millis(500),
        }
    }
}

/// Typed access to Verity's contracts over any alloy [`Provider`].
///
/// Every state-changing method takes the sender's address first; the provider's wallet must hold
/// its key. Nonces are tracked here per sender (one lock per send, so concurrent calls from one
/// account get consecutive nonces), and re-read from the node after any failure.
#[derive(Clone)]
pub struct Settlement {
    pub(crate) provider: DynProvider,
    pub(crate) deployment: Deployment,
    pub(crate) opts: TxOptions,
    nonces: Arc<Mutex<HashMap<Address, u64>>>,
    /// Tasks' records rebuilt from events (see `record.rs`), shared by clones.
    pub(crate) records:
        Arc<std::sync::Mutex<HashMap<verity_primitives::TaskId, crate::record::Cached>>>,
    deadline: Option<u64>,
    /// Moving average of how long a sent transaction took to show a receipt (microseconds),
    /// shared by clones: the first receipt poll waits most of it instead of asking at once.
    inclusion_us: Arc<std::sync::atomic::AtomicU64>,
    /// The last fee estimate and when it was made (see [`TxOptions::fee_ttl`]).
    fees: Arc<std::sync::Mutex<Option<(tokio::time::Instant, Eip1559Estimation)>>>,
}

impl std::fmt::Debug for Settlement {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settlement")
            .field("deployment", &self.deployment)
            .field("opts", &self.opts)
            .finish_non_exhaustive()
    }
}

impl Settlement {
    /// Wraps a provider (with a wallet for the accounts that will send) and a deployment.
    pub fn new(provider: impl Provider + 'static, deployment: Deployment, opts: TxOptions) -> Self {
        Self {
            provider: provider.erased(),
            deployment,
            opts,
            nonces: Arc::default(),
            records: Arc::default(),
            deadline: None,
            inclusion_us: Arc::default(),
            fees: Arc::default(),
        }
    }

    /// The provider.
    pub fn provider(&self) -> &DynProvider {
        &self.provider
    }

    /// The contract addresses.
    pub fn deployment(&self) -> &Deployment {
        &self.deployment
    }

    /// The chain id the deployment lives on.
    pub fn chain_id(&self) -> u64 {
        self.deployment.chain_id
    }

    /// The latest block's timestamp.
    pub async fn chain_time(&self) -> Result<u64> {
        let block = self
            .provider
            .get_block(BlockId::latest())
            .await
            .map_err(|e| Error::from_rpc("eth_getBlockByNumber", Address::ZERO, 1, e))?
            .ok_or_else(|| Error::Decode {
                call: "eth_getBlockByNumber",
                reason: "no latest block".into(),
            })?;
        Ok(block.header.timestamp)
    }

    /// The latest block number.
    pub async fn block_number(&self) -> Result<u64> {
        self.provider
            .get_block_number()
            .await
            .map_err(|e| Error::from_rpc("eth_blockNumber", Address::ZERO, 1, e))
    }

    /// A handle whose sends are bound by an on-chain deadline (unix seconds, the last second
    /// the call can still succeed): once the latest block is at or past it, no (re)try is sent
    /// and [`Error::DeadlinePassed`] is returned instead. Shares nonces with `self`.
    pub fn before(&self, deadline: u64) -> Settlement {
        Settlement {
            deadline: Some(deadline),
            ..self.clone()
        }
    }

    /// A handle that sends with these options. Shares nonces with `self`.
    pub fn with_options(&self, opts: TxOptions) -> Settlement {
        Settlement {
            opts,
            ..self.clone()
        }
    }

    /// Sends `tx` from `from` and waits for its receipt, retrying transport failures within the
    /// attempt budget and the deadline set by [`Settlement::before`].
    pub(crate) async fn send(
        &self,
        call: &'static str,
        from: Address,
        tx: TransactionRequest,
    ) -> Result<TransactionReceipt> {
        let deadline = self.deadline;
        let mut backoff = self.opts.backoff;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let sent = async {
                if let Some(deadline) = deadline {
                    let chain_time = self.chain_time().await?;
                    if chain_time >= deadline {
                        return Err(Error::DeadlinePassed {
                            call,
                            deadline,
                            chain_time,
                        });
                    }
                }
                let tx = self.prepare(call, from, tx.clone()).await?;
                self.send_once(call, from, tx).await
            };
            match sent.await {
                Ok(hash) => return self.await_receipt(call, from, tx, hash).await,
                Err(e @ Error::Rpc { .. }) if attempt < self.opts.attempts => {
                    warn!(target: "settlement::send", call, %from, attempt, error = %e, "retrying");
                    tokio::time::sleep(backoff).await;
                    backoff *= 2;
                }
                Err(Error::Rpc { call, source, .. }) => {
                    return Err(Error::Rpc {
                        call,
                        attempts: attempt,
                        source,
                    });
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Fills what does not depend on the nonce (gas limit and fees) before the sender's nonce
    /// lock is taken, so concurrent sends from one account overlap their estimates instead of
    /// queueing behind each other. The gas is estimated on the pending block, as alloy's filler
    /// does (a revert there is returned, decoded, without sending; Hardhat runs a `latest`
    /// estimate inside the latest block, where a reveal is still "in the commit block"), with
    /// a margin for state that changes before inclusion; unused gas is not paid for.
    async fn prepare(
        &self,
        call: &'static str,
        from: Address,
        tx: TransactionRequest,
    ) -> Result<TransactionRequest> {
        let mut tx = tx.with_from(from);
        match self.opts.gas_limit {
            Some(gas) => tx = tx.with_gas_limit(gas),
            None if tx.gas.is_none() => {
                let estimate = self
                    .provider
                    .estimate_gas(tx.clone())
                    .await
                    .map_err(|e| Error::from_rpc(call, from, 1, e))?;
                tx = tx.with_gas_limit(with_margin(estimate));
            }
            None => {}
        }
        if tx.gas_price.is_none() && tx.max_fee_per_gas.is_none() {
            let fees = self.fees(call, from).await?;
            tx = tx
                .with_max_fee_per_gas(fees.max_fee_per_gas)
                .with_max_priority_fee_per_gas(fees.max_priority_fee_per_gas);
        }
        Ok(tx)
    }

    /// A fee estimate no older than [`TxOptions::fee_ttl`].
    async fn fees(&self, call: &'static str, from: Address) -> Result<Eip1559Estimation> {
        let fresh = |at: &tokio::time::Instant| at.elapsed() < self.opts.fee_ttl;
        if let Some((at, fees)) = *self.fees.lock().unwrap_or_else(|e| e.into_inner())
            && fresh(&at)
        {
            return Ok(fees);
        }
        let fees = self
            .provider
            .estimate_eip1559_fees()
            .await
            .map_err(|e| Error::from_rpc(call, from, 1, e))?;
        *self.fees.lock().unwrap_or_else(|e| e.into_inner()) =
            Some((tokio::time::Instant::now(), fees));
        Ok(fees)
    }

    async fn send_once(
        &self,
        call: &'static str,
        from: Address,
        tx: TransactionRequest,
    ) -> Result<B256> {
        let mut nonces = self.nonces.lock().await;
        let nonce = match nonces.get(&from) {
            Some(n) => *n,
            None => self
                .provider
                .get_transaction_count(from)
                .pending()
                .await
                .map_err(|e| Error::from_rpc(call, from, 1, e))?,
        };
        let tx = tx.with_nonce(nonce);
        match self.provider.send_transaction(tx).await {
            Ok(pending) => {
                nonces.insert(from, nonce + 1);
                debug!(target: "settlement::send", call, %from, nonce, tx = %pending.tx_hash(), "sent");
                Ok(*pending.tx_hash())
            }
            Err(e) => {
                // The nonce may or may not be used: ask the node next time. The fees may be
                // what was refused: estimate them again too.
                nonces.remove(&from);
                *self.fees.lock().unwrap_or_else(|e| e.into_inner()) = None;
                Err(Error::from_rpc(call, from, 1, e))
            }
        }
    }

    async fn await_receipt(
        &self,
        call: &'static str,
        from: Address,
        tx: TransactionRequest,
        hash: B256,
    ) -> Result<TransactionReceipt> {
        let started = tokio::time::Instant::now();
        // Polls start at `poll_interval` and slow down to eight times it while the receipt
        // does not come: a busy node with many transactions in flight would otherwise spend
        // most of the chain's time answering receipt polls between blocks. The first poll
        // waits three quarters of the usual inclusion time (an automining chain's is about 0).
        let mut poll = self.opts.poll_interval;
        let max_poll = self.opts.poll_interval * 8;
        let usual = Duration::from_micros(self.inclusion_us.load(Ordering::Relaxed));
        tokio::time::sleep((usual * 3 / 4).min(max_poll)).await;
        let not_confirmed = |reason: String| Error::NotConfirmed {
            call,
            tx: hash,
            reason,
        };
        loop {
            let receipt = self.provider.get_transaction_receipt(hash).await;
            match receipt {
                Ok(Some(r)) => {
                    self.observe_inclusion(started.elapsed());
                    let mined_in = r.block_number.unwrap_or_default();
                    // A receipt is in a block at or below the head: one confirmation needs
                    // no head read.
                    let head = if self.opts.confirmations <= 1 {
                        mined_in
                    } else {
                        self.block_number().await?
                    };
                    if head + 1 >= mined_in + self.opts.confirmations {
                        if r.status() {
                            return Ok(r);
                        }
                        self.nonces.lock().await.remove(&from);
                        let error = self.replay(from, tx, mined_in).await;
                        return Err(Error::FailedOnChain {
                            call,
                            from,
                            tx: hash,
                            error,
                        });
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    warn!(target: "settlement::send", call, %hash, error = %e, "receipt poll failed")
                }
            }
            if started.elapsed() >= self.opts.receipt_timeout {
                self.nonces.lock().await.remove(&from);
                return Err(not_confirmed(format!(
                    "no receipt with {} confirmation(s) after {:?}",
                    self.opts.confirmations, self.opts.receipt_timeout
                )));
            }
            tokio::time::sleep(poll).await;
            poll = (poll * 3 / 2).min(max_poll);
        }
    }

    /// Folds one send-to-receipt time into the moving average (weight 1/8).
    fn observe_inclusion(&self, took: Duration) {
        let took = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        let _ = self
            .inclusion_us
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |avg| {
                Some(if avg == 0 {
                    took
                } else {
                    avg - avg / 8 + took / 8
                })
            });
    }

    /// Re-runs a failed transaction as a call on the state and environment of the block it was
    /// mined in, to name the revert. The state is the one after the block, which reproduces the
    /// usual causes: an earlier transaction in the block changed what the call depends on, or
    /// the block's timestamp is past a deadline.
    async fn replay(
        &self,
        from: Address,
        tx: TransactionRequest,
        block: u64,
    ) -> Option<Box<ContractError>> {
        let tx = tx.with_from(from);
        let at = BlockId::number(block);
        match self.provider.call(tx).block(at).await {
            Ok(_) => None,
            Err(e) => e
                .as_error_resp()
                .and_then(|p| p.as_revert_data())
                .map(|d| Box::new(ContractError::decode(&d))),
        }
    }
}

/// The gas limit sent for an estimate: a quarter more plus 10 000, for storage that other
/// transactions sent meanwhile warm, fill or clear first.
fn with_margin(estimate: u64) -> u64 {
    estimate.saturating_add(estimate / 4).saturating_add(10_000)
}
