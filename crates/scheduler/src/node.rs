//! What the scheduler knows about one node: the coordinator's registry view of it.

use crate::error::NodeError;
use crate::id::{OperatorId, Region};

/// One operator's node as the coordinator sees it (chain registration and stake joined with
/// the latest signed heartbeat and the coordinator's own reputation and latency figures).
///
/// The current load is not part of the view: the scheduler counts it itself from the
/// allocations it made and has not seen released, so "load == allocations outstanding" holds
/// by construction.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeView {
    /// Logical CPU cores offered.
    pub cpu_cores: u32,
    /// Memory offered, MiB.
    pub memory_mib: u64,
    /// GPU memory offered, MiB (0: no GPU).
    pub gpu_memory_mib: u64,
    /// ISO 3166-1 numeric region.
    pub region: Region,
    /// Capability flags as registered.
    pub capabilities: u64,
    /// Stake, token wei.
    pub stake: u128,
    /// Reputation computed by the coordinator, per mille (0..=1000).
    pub reputation_permille: u16,
    /// Concurrent tasks the node accepts; the scheduler never assigns beyond it.
    pub capacity: u32,
    /// Latency measured by the coordinator, milliseconds.
    pub latency_ms: u32,
    /// Claimed share of renewable energy, percent (0..=100).
    pub green_energy_pct: u8,
    /// Asking price, token wei per million units of fuel.
    pub price_per_megafuel: u128,
    /// Whether the node is live (heartbeats arriving). Offline nodes are never picked.
    pub live: bool,
}

impl NodeView {
    /// Checks every field's range; the scheduler refuses a view that fails.
    pub fn validate(&self, operator: OperatorId) -> Result<(), NodeError> {
        let invalid = |field: &'static str, reason: String| NodeError::Invalid {
            operator,
            field,
            reason,
        };
        if !self.region.is_valid() {
            return Err(invalid(
                "region",
                format!(
                    "{} is not an ISO 3166-1 numeric code (0..=999)",
                    self.region.0
                ),
            ));
        }
        if self.reputation_permille > 1000 {
            return Err(invalid(
                "reputation_permille",
                format!("{} is above 1000", self.reputation_permille),
            ));
        }
        if self.green_energy_pct > 100 {
            return Err(invalid(
                "green_energy_pct",
                format!("{} is above 100", self.green_energy_pct),
            ));
        }
        Ok(())
    }

    /// The attributes hard constraints look at, packed for the index.
    pub(crate) fn hard_attrs(&self) -> HardAttrs {
        HardAttrs {
            stake: self.stake,
            memory_mib: self.memory_mib,
            gpu_memory_mib: self.gpu_memory_mib,
            capabilities: self.capabilities,
            cpu_cores: self.cpu_cores,
            region: self.region,
            reputation_permille: self.reputation_permille,
        }
    }
}

/// The fields a hard constraint reads, copied into every index entry so that filtering while
/// walking the index touches no other memory.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct HardAttrs {
    pub(crate) stake: u128,
    pub(crate) memory_mib: u64,
    pub(crate) gpu_memory_mib: u64,
    pub(crate) capabilities: u64,
    pub(crate) cpu_cores: u32,
    pub(crate) region: Region,
    pub(crate) reputation_permille: u16,
}
