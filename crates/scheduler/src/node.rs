//! What the scheduler knows about one node: the coordinator's registry view of it, and where
//! each figure in it comes from.
//!
//! A figure the node reported about itself and nothing has checked ([`Provenance::Claimed`])
//! is kept in the view (the API shows it) but counts as the policy's floor when ranking and
//! filtering (see [`crate::Claims`]): a fresh identity that claims the maximum of everything
//! ranks exactly as one that claims nothing.

use serde::{Deserialize, Serialize};

use crate::error::NodeError;
use crate::id::{OperatorId, Region};
use crate::policy::Claims;

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
    /// Where each checkable figure above comes from. Region, capabilities and stake are chain
    /// facts (the registry's), and capacity is a limit rather than a merit, so they carry none.
    pub provenance: Checks,
}

/// How a figure was checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verified {
    /// Measured by the coordinator on its own clock (latency: a nonce it issued, echoed).
    Measured,
    /// Bound to a verified TEE quote (hardware class).
    Attested,
    /// Shown by a benchmark task whose result the coordinator checked (hardware class).
    Benchmarked,
    /// Derived from chain state or indexed chain events (reputation from task outcomes).
    OnChain,
}

/// Where a figure comes from: a check, or only the node's word.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Provenance {
    /// Self-reported; nothing has checked it.
    Claimed,
    /// Checked, and how.
    Verified(Verified),
}

impl Provenance {
    /// Whether something other than the node's word stands behind the figure.
    pub fn is_checked(self) -> bool {
        matches!(self, Provenance::Verified(_))
    }
}

/// The provenance of each checkable figure of a [`NodeView`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Checks {
    /// CPU cores, memory and GPU memory: one hardware class, checked together.
    pub hardware: Provenance,
    /// Reputation.
    pub reputation: Provenance,
    /// Latency.
    pub latency: Provenance,
    /// Green energy share.
    pub green_energy: Provenance,
    /// Asking price.
    pub price: Provenance,
}

impl Checks {
    /// Nothing checked: every figure is the node's word.
    pub const CLAIMED: Checks = Checks::all(Provenance::Claimed);

    /// Every figure with the same provenance.
    pub const fn all(p: Provenance) -> Checks {
        Checks {
            hardware: p,
            reputation: p,
            latency: p,
            green_energy: p,
            price: p,
        }
    }
}

impl Default for Checks {
    /// Nothing checked, the safe default.
    fn default() -> Self {
        Checks::CLAIMED
    }
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

    /// The attributes hard constraints look at, packed for the index: the figures as they
    /// count (see [`Claims::counted`]), so an unchecked hardware claim cannot pass a minimum
    /// the floor does not.
    pub(crate) fn hard_attrs(&self, claims: &Claims) -> HardAttrs {
        let c = claims.counted(self);
        HardAttrs {
            floor_hardware: claims.hardware_is_floor(self),
            stake: c.stake,
            memory_mib: c.memory_mib,
            gpu_memory_mib: c.gpu_memory_mib,
            capabilities: c.capabilities,
            cpu_cores: c.cpu_cores,
            region: c.region,
            reputation_permille: c.reputation_permille,
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
    /// Whether the hardware counts as the floor class (unchecked and untrusted).
    pub(crate) floor_hardware: bool,
}
