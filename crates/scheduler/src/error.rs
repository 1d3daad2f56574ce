//! Typed errors, each with a stable code operators can search for.

use crate::id::OperatorId;
use crate::needs::Constraint;
use crate::scheduler::AllocationId;

/// A registry change the scheduler refused; nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NodeError {
    /// A field of the node view is out of range.
    #[error("[V-SCH-010] node {operator}: invalid {field}: {reason}")]
    Invalid {
        /// The node's operator.
        operator: OperatorId,
        /// Which field.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// `join` for an operator that is already in the registry.
    #[error("[V-SCH-011] node {0} has already joined")]
    AlreadyJoined(OperatorId),
    /// `update`, `leave` or `set_live` for an operator that is not in the registry.
    #[error("[V-SCH-012] node {0} is not in the registry")]
    UnknownOperator(OperatorId),
}

/// Why an allocation failed; nothing was allocated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AllocError {
    /// The task's needs are malformed.
    #[error("[V-SCH-020] invalid task needs: {field}: {reason}")]
    InvalidNeeds {
        /// Which field.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// No set of nodes satisfies the task; `constraint` is the one that emptied the pool
    /// when the constraints are applied in [`Constraint::PER_NODE`] order.
    #[error(
        "[V-SCH-021] no feasible set: {needed} operators needed, {remaining} left after the {constraint} constraint"
    )]
    NoFeasibleSet {
        /// The constraint after which too few candidates remained.
        constraint: Constraint,
        /// How many candidates were needed at that point (k, or 2k with backups; for
        /// distinct regions, the number of regions).
        needed: u32,
        /// How many remained.
        remaining: u32,
    },
}

/// A release the scheduler refused; nothing was changed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReleaseError {
    /// The allocation is unknown or already released.
    #[error("[V-SCH-030] allocation {0} is unknown or already released")]
    UnknownAllocation(AllocationId),
}
