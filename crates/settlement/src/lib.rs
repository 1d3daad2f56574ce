#![doc = include_str!("../README.md")]

mod court;
mod deploy;
mod enclaves;
mod error;
pub mod events;
mod governance;
mod market;
mod record;
mod registry;
mod sender;
mod token;

pub use court::{Ballot, CaseInfo, RevealedBallot};
pub use deploy::{
    DEVNET_CHAIN_ID, DeployConfig, Deployment, PRODUCTION_MIN_AUDIT_BPS,
    PRODUCTION_MIN_RESPONSE_WINDOW, PRODUCTION_MIN_REVEAL_WINDOW, deploy,
};
pub use enclaves::{Attestation, Enclave, TeeConfig, TeeDeployment, deploy_tee, tee_verifier_id};
pub use error::{Error, Result};
pub use governance::{GovernanceCall, hand_to_timelock};
pub use market::{
    AUDIT_FEE_BPS, CreateTerms, MIN_REPLICATION, SeatInfo, TaskInfo, TaskRequest, TaskTotals,
    collateral_floor, skipped_assignments,
};
pub use record::TaskRecord;
pub use registry::{OperatorInfo, OperatorProfile};
pub use sender::{Settlement, TxOptions};
pub use verity_contracts::{CasePhase, ContractError, Mode, Seat, Status, Verdict};
pub use verity_primitives::{TaskId, binding, commitment};
