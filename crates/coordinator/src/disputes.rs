//! Open disputes with their evidence, read from the `DisputeCourt` on request.
//!
//! **Why on request, not indexed.** The indexer follows the market and the registry only; the
//! court's events (draws, commits, reveals, escalations, verdicts) are not projected into the
//! store. Projecting them would mean a new table in both SQL dialects, its before-images for
//! reorg undo and a projection for each of a dozen events, for a view that a person opens
//! now and then. Instead the store says *which* tasks are disputed (status `challenged`,
//! projected from the market's `Challenged` event, which an audit emits too with a zero
//! challenger) and [`DisputeReader`] reads each one's case from the court when the API is
//! asked. Each case is bounded work: one `caseOf` call and one `BallotRevealed` log search
//! that starts at the case's last seed block (every reveal follows the last draw round), so
//! it covers the case's own life, not the chain's. A page holds at most
//! [`crate::api::MAX_LIMIT`] cases, and the arbiter is read once per page.
//!
//! The court keeps only agree/disagree per member; the digest a dissenting member computed is
//! known from its `BallotRevealed` event alone, which is why the log search is needed.
//!
//! [`CourtReader`] is the implementation over the coordinator's [`Settlement`] handle; tests
//! and a coordinator without a deployment can use any other [`DisputeReader`] (or none: the
//! API then answers 503).

use alloy::primitives::{Address, U256};
use verity_settlement::{CaseInfo, CasePhase, RevealedBallot, Settlement};

use crate::store::BoxFuture;

/// Why the court could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DisputeError {
    /// A call or log search on the court failed.
    #[error(
        "[V-CDS-001] reading the court{}: {source}",
        .task.map(|t| format!(" for task {t}")).unwrap_or_default()
    )]
    Court {
        /// The task whose case was read (none for the court's own settings).
        task: Option<U256>,
        /// The settlement client's error.
        #[source]
        source: verity_settlement::Error,
    },
}

/// One case with what the court knows of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseEvidence {
    /// The case as `caseOf` answers.
    pub case: CaseInfo,
    /// The ballots revealed so far, in chain order.
    pub reveals: Vec<RevealedBallot>,
}

/// Reads disputes from the court.
pub trait DisputeReader: Send + Sync + std::fmt::Debug {
    /// The court's arbiter (zero: none).
    fn arbiter(&self) -> BoxFuture<'_, Result<Address, DisputeError>>;

    /// `task`'s case and its revealed ballots; `None` if the task has no case (or it is closed).
    fn evidence(&self, task: U256) -> BoxFuture<'_, Result<Option<CaseEvidence>, DisputeError>>;
}

/// [`DisputeReader`] over a [`Settlement`] (reads only; it needs no key).
#[derive(Debug, Clone)]
pub struct CourtReader {
    settlement: Settlement,
}

impl CourtReader {
    /// Reads through `settlement`.
    pub fn new(settlement: Settlement) -> Self {
        Self { settlement }
    }
}

impl DisputeReader for CourtReader {
    fn arbiter(&self) -> BoxFuture<'_, Result<Address, DisputeError>> {
        Box::pin(async move {
            self.settlement
                .arbiter()
                .await
                .map_err(|source| DisputeError::Court { task: None, source })
        })
    }

    fn evidence(&self, task: U256) -> BoxFuture<'_, Result<Option<CaseEvidence>, DisputeError>> {
        Box::pin(async move {
            let err = |source| DisputeError::Court {
                task: Some(task),
                source,
            };
            let case = self.settlement.case(task).await.map_err(err)?;
            if matches!(case.phase, CasePhase::None | CasePhase::Closed) {
                return Ok(None);
            }
            let reveals = if case.revealed == 0 {
                Vec::new()
            } else {
                self.settlement
                    .revealed_ballots(task, &case)
                    .await
                    .map_err(err)?
            };
            Ok(Some(CaseEvidence { case, reveals }))
        })
    }
}
