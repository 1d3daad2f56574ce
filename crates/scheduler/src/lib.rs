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
pub use node::{Checks, NodeView, Provenance, Verified};
pub use policy::{Claims, Defaults, Figure, Policy, PolicyError, Scoring, Weights};
pub use scheduler::{Allocation, AllocationId, Assignment, NodeState, Plan, Scheduler};
pub use score::Score;
