//! The requester: upload, submit, wait, fetch.

use std::time::{Duration, Instant};

use alloy::primitives::{Address, B256, Bytes};
use verity_primitives::envelope::{ExecLimits, InputEnvelope};
use verity_settlement::{Mode, Settlement, Status, TaskId, TaskInfo, TaskRequest};
use verity_store::{Cid, GatewayClient};

use crate::{Result, SdkError, TaskSpec, ZkTaskSpec};

/// A requester account with a chain connection and a gateway to publish through.
#[derive(Debug, Clone)]
pub struct Requester {
    settlement: Settlement,
    gateway: GatewayClient,
    account: Address,
}

/// A task that was opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Submitted {
    /// Its number in the market.
    pub id: TaskId,
    /// The program's CID.
    pub program: Cid,
    /// The input envelope's CID.
    pub input: Cid,
    /// The request as sent (absolute deadlines).
    pub request: TaskRequest,
    /// The createTask transaction.
    pub tx: B256,
}

/// How a task ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Verified and paid; `result` is the sha2-256 of the output (its CID's digest).
    Finalized {
        /// The accepted result digest.
        result: B256,
    },
    /// The bounty went back to the requester.
    Refunded,
}

/// How long and how often [`Requester::wait`] looks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitOptions {
    /// Time between two looks.
    pub poll: Duration,
    /// Give up after this long.
    pub timeout: Duration,
    /// Take the deadline exit once it is due ([`Requester::settle_overdue`]), so a task that
    /// its operators or the coordinator left behind is refunded instead of waited on forever.
    pub settle_overdue: bool,
}

impl Default for WaitOptions {
    fn default() -> Self {
        Self {
            poll: Duration::from_millis(500),
            timeout: Duration::from_secs(600),
            settle_overdue: true,
        }
    }
}

impl Requester {
    /// A requester sending from `account` (the settlement's wallet must hold its key).
    pub fn new(settlement: Settlement, gateway: GatewayClient, account: Address) -> Self {
        Self {
            settlement,
            gateway,
            account,
        }
    }

    /// The account that pays bounties.
    pub fn account(&self) -> Address {
        self.account
    }

    /// The chain connection.
    pub fn settlement(&self) -> &Settlement {
        &self.settlement
    }

    /// Publishes a program; returns its CID (checked against the one computed here).
    pub async fn upload_program(&self, module: Bytes) -> Result<Cid> {
        self.gateway
            .upload(module.0)
            .await
            .map_err(SdkError::store("uploading the program"))
    }

    /// Publishes an input with its execution limits (the envelope the task's digest names).
    pub async fn upload_input(&self, payload: &[u8], limits: ExecLimits) -> Result<Cid> {
        let envelope = InputEnvelope {
            limits,
            payload: payload.to_vec(),
        }
        .encode();
        self.gateway
            .upload(envelope.into())
            .await
            .map_err(SdkError::store("uploading the input"))
    }

    /// Checks the spec, uploads the program and input, funds and opens the task.
    ///
    /// The bounty comes from the account's balance in the market when that covers it;
    /// otherwise the market is approved for it and pulls it from the wallet.
    pub async fn submit(&self, spec: &TaskSpec) -> Result<Submitted> {
        spec.validate()?;
        self.check_funds(spec.bounty).await?;
        let program = self.upload_program(spec.program.clone()).await?;
        let input = self.upload_input(&spec.input, spec.limits).await?;
        let now = self
            .settlement
            .chain_time()
            .await
            .map_err(SdkError::chain("reading chain time"))?;
        let request = spec.request(
            now,
            B256::from(program.digest()),
            B256::from(input.digest()),
        )?;
        self.fund(spec.bounty).await?;
        let (id, receipt) = self
            .settlement
            .create_task(self.account, &request)
            .await
            .map_err(SdkError::chain("creating the task"))?;
        tracing::info!(target: "sdk", %id, %program, %input, mode = %spec.mode, "task opened");
        Ok(Submitted {
            id,
            program,
            input,
            request,
            tx: receipt.transaction_hash,
        })
    }

    /// Checks a ZkProof spec, publishes the verifying key (the task's program) and the input
    /// blob, funds and opens the task, naming the input blob in the `createTask` calldata
    /// suffix proving nodes read. [`Submitted::input`] is the input blob's CID (the task's
    /// `inputDigest` is the query's Poseidon digest instead).
    pub async fn submit_zk(&self, spec: &ZkTaskSpec) -> Result<Submitted> {
        spec.validate()?;
        self.check_funds(spec.bounty).await?;
        let program = self.upload_program(spec.verifying_key.clone()).await?;
        let input = self
            .gateway
            .upload(spec.input.to_bytes().into())
            .await
            .map_err(SdkError::store("uploading the zk input"))?;
        let now = self
            .settlement
            .chain_time()
            .await
            .map_err(SdkError::chain("reading chain time"))?;
        let request = spec.request(now)?;
        self.fund(spec.bounty).await?;
        let suffix = verity_zk::input::calldata_suffix(input.digest());
        let (id, receipt) = self
            .settlement
            .create_task_with_suffix(self.account, &request, &suffix)
            .await
            .map_err(SdkError::chain("creating the task"))?;
        tracing::info!(target: "sdk", %id, %program, %input, "zk task opened");
        Ok(Submitted {
            id,
            program,
            input,
            request,
            tx: receipt.transaction_hash,
        })
    }

    /// Whether the account can pay `bounty`: from its market balance, else from its wallet
    /// (what `createTask` takes). [`Requester::submit`] asks this before it uploads or sends
    /// anything, so an account that cannot pay leaves no blob and no approval behind.
    pub async fn check_funds(&self, bounty: alloy::primitives::U256) -> Result<()> {
        let in_market = self
            .settlement
            .market_balance(self.account)
            .await
            .map_err(SdkError::chain("reading the market balance"))?;
        if in_market >= bounty {
            return Ok(());
        }
        let wallet = self
            .settlement
            .token_balance(self.account)
            .await
            .map_err(SdkError::chain("reading the token balance"))?;
        if wallet < bounty {
            return Err(SdkError::InsufficientFunds {
                bounty,
                wallet,
                in_market,
            });
        }
        Ok(())
    }

    /// Approves the market for exactly `bounty` (what `createTask` pulls) unless the account's
    /// market balance covers it.
    async fn fund(&self, bounty: alloy::primitives::U256) -> Result<()> {
        let in_market = self
            .settlement
            .market_balance(self.account)
            .await
            .map_err(SdkError::chain("reading the market balance"))?;
        if in_market < bounty {
            self.settlement
                .approve_market(self.account, bounty)
                .await
                .map_err(SdkError::chain("approving the bounty"))?;
        }
        Ok(())
    }

    /// The task as the market records it.
    pub async fn task(&self, id: TaskId) -> Result<TaskInfo> {
        let info = self
            .settlement
            .task(id)
            .await
            .map_err(SdkError::chain("reading the task"))?;
        if info.status == Status::None {
            return Err(SdkError::UnknownTask(id));
        }
        Ok(info)
    }

    /// Follows the task until it is finalized or refunded, calling `on_change` at every status
    /// change (starting with the current one).
    pub async fn wait(
        &self,
        id: TaskId,
        opts: WaitOptions,
        mut on_change: impl FnMut(Status),
    ) -> Result<Outcome> {
        let started = Instant::now();
        let mut last = None;
        loop {
            let info = self.task(id).await?;
            if last != Some(info.status) {
                on_change(info.status);
                last = Some(info.status);
            }
            match info.status {
                Status::Finalized => {
                    return Ok(Outcome::Finalized {
                        result: info.result,
                    });
                }
                Status::Refunded => return Ok(Outcome::Refunded),
                status if started.elapsed() >= opts.timeout => {
                    return Err(SdkError::WaitTimeout {
                        id,
                        status,
                        waited_secs: started.elapsed().as_secs(),
                    });
                }
                _ => {
                    if opts.settle_overdue && self.settle_overdue(id).await? {
                        continue;
                    }
                    tokio::time::sleep(opts.poll).await;
                }
            }
        }
    }

    /// Takes a task's deadline exit if it is due, which anyone may do: an unassigned task past
    /// its assignment deadline, or an optimistic or zk task with no result past its submit
    /// deadline, is refunded (`claimTimeout`, which slashes the silent operator); a replicated
    /// task past its reveal deadline is settled (`finalize`: the majority is paid, the silent
    /// are slashed, or the client is refunded). Returns whether it settled the task; a task not
    /// yet due, or settled by someone else first, is left alone.
    pub async fn settle_overdue(&self, id: TaskId) -> Result<bool> {
        let info = self.task(id).await?;
        let now = self
            .settlement
            .chain_time()
            .await
            .map_err(SdkError::chain("reading chain time"))?;
        let sent = match (info.status, info.mode) {
            (Status::Open, _) if now > info.assign_deadline => {
                self.settlement.claim_timeout(self.account, id).await
            }
            (Status::Assigned, Mode::Replicated) if now > info.reveal_deadline => {
                self.settlement.finalize(self.account, id).await
            }
            (Status::Assigned, Mode::Optimistic | Mode::ZkProof) if now > info.commit_deadline => {
                self.settlement.claim_timeout(self.account, id).await
            }
            _ => return Ok(false),
        };
        match sent {
            Ok(_) => {
                tracing::info!(target: "sdk", %id, status = ?info.status, "took the deadline exit");
                Ok(true)
            }
            // Someone else (an operator, the coordinator) settled it first.
            Err(_) if self.task(id).await?.status.is_terminal() => Ok(false),
            Err(e) => Err(SdkError::chain("taking the deadline exit")(e)),
        }
    }

    /// The output of a finalized task, fetched by the CID of its on-chain result digest and
    /// verified against it.
    pub async fn result(&self, id: TaskId) -> Result<Bytes> {
        let info = self.task(id).await?;
        if info.status != Status::Finalized {
            return Err(SdkError::NoResult {
                id,
                status: info.status,
            });
        }
        let cid = Cid::from_digest(info.result.0);
        // The gateway client verifies the bytes against the CID before returning them.
        let bytes = self
            .gateway
            .fetch(&cid)
            .await
            .map_err(SdkError::store("fetching the result"))?;
        Ok(Bytes::from(bytes))
    }
}
