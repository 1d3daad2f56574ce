#![doc = include_str!("../README.md")]

mod error;
mod requester;
mod spec;
mod zk;

pub use error::{Result, SdkError};
pub use requester::{Outcome, Requester, Submitted, WaitOptions};
pub use spec::{DEFAULT_AUDIT_BPS, TaskSpec, parse_tokens};
pub use verity_primitives::envelope::ExecLimits;
pub use verity_settlement::{Mode, Status, TaskId};
pub use zk::ZkTaskSpec;
