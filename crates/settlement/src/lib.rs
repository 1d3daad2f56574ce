#![doc = include_str!("../README.md")]

mod deploy;
mod error;
pub mod events;
mod governance;
mod market;
mod record;
mod registry;
mod sender;
mod token;

pub use deploy::{
    DeployConfig, Deployment, PRODUCTION_MIN_RESPONSE_WINDOW, PRODUCTION_MIN_REVEAL_WINDOW, deploy,
};
pub use error::{Error, Result};
pub use governance::{GovernanceCall, hand_to_timelock};
pub use market::{
    CreateTerms, DisputeInfo, SeatInfo, TaskInfo, TaskRequest, TaskTotals, skipped_assignments,
};
pub use record::TaskRecord;
pub use registry::{OperatorInfo, OperatorProfile};
pub use sender::{Settlement, TxOptions};
pub use verity_contracts::{ContractError, Mode, Seat, Status};
pub use verity_primitives::{TaskId, binding, commitment};
