#![doc = include_str!("../README.md")]

mod abi;
mod budget;
mod cache;
mod determinism;
mod digest;
mod error;
mod executor;
mod fuel;
mod host;
mod limits;
mod pool;
mod receipt;
mod watchdog;

pub mod native;

pub use budget::{BudgetMeasure, ModuleBudget, ModuleProfile};
pub use determinism::{ABI_VERSION, EngineIdentity};
pub use digest::Digest;
pub use error::{AbiViolation, ExecError, GuestTrap, Phase, Result};
pub use executor::Executor;
pub use limits::{ExecutorConfig, TaskLimits};
pub use receipt::{Execution, Failure, Receipt, TaskLog, Timings};
