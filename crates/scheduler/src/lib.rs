#![doc = include_str!("../README.md")]

mod diagnose;
mod error;
mod id;
mod index;
mod naive;
mod needs;
mod node;
mod policy;
mod scheduler;
mod score;
mod select;

pub use error::{AllocError, NodeError, ReleaseError};
pub use id::{OperatorId, Region, RegionSet};
pub use needs::{Constraint, MAX_REPLICATION, TaskNeeds};
pub use node::NodeView;
pub use policy::{Defaults, Policy, PolicyError, Scoring, Weights};
pub use scheduler::{Allocation, AllocationId, Assignment, NodeState, Plan, Scheduler};
pub use score::Score;
