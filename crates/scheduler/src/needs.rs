//! What a task needs: hard constraints and the shape of the set to pick.

use std::fmt;

use crate::error::AllocError;
use crate::id::RegionSet;
use crate::node::HardAttrs;

/// The most replicas one task may ask for.
pub const MAX_REPLICATION: u32 = 64;

/// A task's requirements. Build it from [`crate::Policy::task_defaults`] and override what
/// the task specifies: `TaskNeeds { min_gpu_memory_mib: 8192, ..policy.task_defaults() }`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TaskNeeds {
    /// Minimum logical CPU cores.
    pub min_cpu_cores: u32,
    /// Minimum memory, MiB.
    pub min_memory_mib: u64,
    /// Minimum GPU memory, MiB (0: no GPU needed).
    pub min_gpu_memory_mib: u64,
    /// Regions (jurisdictions) the task may run in; `None` means anywhere.
    pub allowed_regions: Option<RegionSet>,
    /// Capability flags every picked node must have (all bits).
    pub required_capabilities: u64,
    /// Minimum stake, token wei.
    pub min_stake: u128,
    /// Minimum reputation, per mille.
    pub min_reputation_permille: u16,
    /// How many distinct operators run the task (k).
    pub replication: u32,
    /// Whether the k operators must be in k different regions.
    pub distinct_regions: bool,
    /// Whether each assignment gets a backup operator (distinct from every primary).
    pub backups: bool,
}

impl TaskNeeds {
    /// Checks the ranges of the fields.
    pub fn validate(&self) -> Result<(), AllocError> {
        if self.replication == 0 || self.replication > MAX_REPLICATION {
            return Err(AllocError::InvalidNeeds {
                field: "replication",
                reason: format!("{} is outside 1..={MAX_REPLICATION}", self.replication),
            });
        }
        if self.min_reputation_permille > 1000 {
            return Err(AllocError::InvalidNeeds {
                field: "min_reputation_permille",
                reason: format!("{} is above 1000", self.min_reputation_permille),
            });
        }
        if let Some(regions) = &self.allowed_regions
            && regions.is_empty()
        {
            return Err(AllocError::InvalidNeeds {
                field: "allowed_regions",
                reason: "the set is empty (use None for anywhere)".into(),
            });
        }
        Ok(())
    }

    /// Whether a node with these attributes passes every per-node hard constraint (liveness
    /// and capacity are the index's business: it only holds live nodes with a free slot).
    #[inline]
    pub(crate) fn admits(&self, a: &HardAttrs) -> bool {
        a.cpu_cores >= self.min_cpu_cores
            && a.memory_mib >= self.min_memory_mib
            && a.gpu_memory_mib >= self.min_gpu_memory_mib
            && a.capabilities & self.required_capabilities == self.required_capabilities
            && a.stake >= self.min_stake
            && a.reputation_permille >= self.min_reputation_permille
            && self
                .allowed_regions
                .as_ref()
                .is_none_or(|set| set.contains(a.region))
    }

    /// The first per-node constraint (in [`Constraint::PER_NODE`] order, after liveness and
    /// capacity) that these attributes fail.
    pub(crate) fn first_failed(&self, a: &HardAttrs) -> Option<Constraint> {
        Constraint::PER_NODE[2..]
            .iter()
            .copied()
            .find(|c| !self.passes(*c, a))
    }

    fn passes(&self, c: Constraint, a: &HardAttrs) -> bool {
        match c {
            Constraint::Region => self
                .allowed_regions
                .as_ref()
                .is_none_or(|set| set.contains(a.region)),
            Constraint::CpuCores => a.cpu_cores >= self.min_cpu_cores,
            Constraint::Memory => a.memory_mib >= self.min_memory_mib,
            Constraint::GpuMemory => a.gpu_memory_mib >= self.min_gpu_memory_mib,
            Constraint::Capabilities => {
                a.capabilities & self.required_capabilities == self.required_capabilities
            }
            Constraint::Stake => a.stake >= self.min_stake,
            Constraint::Reputation => a.reputation_permille >= self.min_reputation_permille,
            Constraint::Liveness
            | Constraint::Capacity
            | Constraint::DistinctRegions
            | Constraint::Backups => true,
        }
    }
}

/// A constraint that can leave too few nodes to choose from, as named in
/// [`AllocError::NoFeasibleSet`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Constraint {
    /// The node is offline (or has left).
    Liveness,
    /// The node has no free slot (load == capacity).
    Capacity,
    /// The node is outside the allowed regions.
    Region,
    /// Too few CPU cores.
    CpuCores,
    /// Too little memory.
    Memory,
    /// Too little GPU memory.
    GpuMemory,
    /// A required capability flag is missing.
    Capabilities,
    /// Too little stake.
    Stake,
    /// Reputation below the minimum.
    Reputation,
    /// Enough nodes pass, but they span fewer than k regions.
    DistinctRegions,
    /// Enough primaries, but not enough further nodes to back each one up.
    Backups,
}

impl Constraint {
    /// The per-node constraints in the order the diagnosis applies them.
    pub const PER_NODE: [Constraint; 9] = [
        Constraint::Liveness,
        Constraint::Capacity,
        Constraint::Region,
        Constraint::CpuCores,
        Constraint::Memory,
        Constraint::GpuMemory,
        Constraint::Capabilities,
        Constraint::Stake,
        Constraint::Reputation,
    ];
}

impl fmt::Display for Constraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Constraint::Liveness => "liveness",
            Constraint::Capacity => "free capacity",
            Constraint::Region => "allowed regions",
            Constraint::CpuCores => "minimum CPU cores",
            Constraint::Memory => "minimum memory",
            Constraint::GpuMemory => "minimum GPU memory",
            Constraint::Capabilities => "required capabilities",
            Constraint::Stake => "minimum stake",
            Constraint::Reputation => "minimum reputation",
            Constraint::DistinctRegions => "distinct regions",
            Constraint::Backups => "one backup per assignment",
        })
    }
}
