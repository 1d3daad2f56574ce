//! The scheduler: the registry view, the score index over it, and the allocations
//! outstanding. Updated incrementally as the coordinator learns of joins, updates, departures,
//! liveness changes and completed tasks.

use std::collections::HashMap;
use std::fmt;

use crate::error::{AllocError, NodeError, ReleaseError};
use crate::id::OperatorId;
use crate::index::{Candidate, Entry, FloorClass, Index, Key};
use crate::needs::TaskNeeds;
use crate::node::HardAttrs;
use crate::node::NodeView;
use crate::policy::{Policy, PolicyError};
use crate::score::{Score, Scorer};
use crate::select::{Shortfall, pick};

/// Names one allocation, for [`Scheduler::release`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AllocationId(pub u64);

impl fmt::Display for AllocationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// One replica of a task: the operator that runs it and the one that takes over if it fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Assignment {
    /// The operator assigned.
    pub primary: OperatorId,
    /// Its backup (distinct from every primary and every other backup), if backups were asked.
    pub backup: Option<OperatorId>,
    /// The primary's effective score when it was picked.
    pub score: Score,
}

/// A set the scheduler would pick, before anything is committed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Best first.
    pub assignments: Vec<Assignment>,
    slots: Vec<u32>,
}

/// A committed allocation: each primary holds one slot of its capacity until released.
/// Backups hold nothing: they are standbys, checked again when promoted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Allocation {
    /// The handle to release it with.
    pub id: AllocationId,
    /// Best first.
    pub assignments: Vec<Assignment>,
}

/// A node's registry record as the scheduler holds it.
#[derive(Clone, Copy, Debug)]
pub struct NodeState<'a> {
    /// The operator.
    pub id: OperatorId,
    /// Its latest view.
    pub view: &'a NodeView,
    /// Allocations outstanding on it.
    pub load: u32,
    /// Work the caller says the node holds outside this scheduler's allocations (see
    /// [`Scheduler::set_held`]); counts against capacity like `load`.
    pub held: u32,
    /// Whether it has left (kept only until its outstanding allocations are released).
    pub departed: bool,
}

#[derive(Debug)]
pub(crate) struct Slot {
    pub(crate) id: OperatorId,
    pub(crate) view: NodeView,
    pub(crate) load: u32,
    /// Work held outside this scheduler's allocations (e.g. seats on chain).
    pub(crate) held: u32,
    /// Whether the operator left while allocations on it were outstanding.
    pub(crate) departed: bool,
    /// The allocation counter when this node was last picked (0: never): the tie-break among
    /// equal scores, least recently picked first.
    pub(crate) last_pick: u64,
    base: f64,
    /// The hard-constraint attributes as they count (unchecked claims at their floors).
    pub(crate) attrs: HardAttrs,
    /// Where the node sits in the index, if it is eligible (live, present, not full).
    key: Option<Key>,
}

impl Slot {
    pub(crate) fn eligible(&self) -> bool {
        !self.departed && self.view.live && self.busy() < self.view.capacity
    }

    /// Everything counted against capacity: allocations plus held work.
    pub(crate) fn busy(&self) -> u32 {
        self.load.saturating_add(self.held)
    }
}

/// The scheduler. See the crate documentation for the design.
#[derive(Debug)]
pub struct Scheduler {
    policy: Policy,
    pub(crate) scorer: Scorer,
    pub(crate) slots: Vec<Option<Slot>>,
    free: Vec<u32>,
    by_id: HashMap<OperatorId, u32>,
    index: Index,
    allocations: HashMap<AllocationId, Vec<u32>>,
    next_allocation: u64,
}

impl Scheduler {
    /// A scheduler with no nodes, scoring by `policy` (validated here).
    pub fn new(policy: Policy) -> Result<Self, PolicyError> {
        policy.validate()?;
        let index = Index::new(FloorClass {
            cpu_cores: policy.claims.floor_cpu_cores,
            memory_mib: policy.claims.floor_memory_mib,
            gpu_memory_mib: policy.claims.floor_gpu_memory_mib,
        });
        Ok(Self {
            scorer: Scorer::new(&policy),
            policy,
            slots: Vec::new(),
            free: Vec::new(),
            by_id: HashMap::new(),
            index,
            allocations: HashMap::new(),
            next_allocation: 0,
        })
    }

    /// The policy in force.
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// Adds a node. An operator that left while its allocations were outstanding may rejoin:
    /// its load carries over.
    pub fn join(&mut self, id: OperatorId, view: NodeView) -> Result<(), NodeError> {
        view.validate(id)?;
        let base = self.scorer.base(&view);
        let attrs = view.hard_attrs(&self.policy.claims);
        if let Some(&slot) = self.by_id.get(&id) {
            let record = self.slots[slot as usize]
                .as_mut()
                .expect("by_id points at a live slot");
            if !record.departed {
                return Err(NodeError::AlreadyJoined(id));
            }
            record.departed = false;
            record.view = view;
            record.base = base;
            record.attrs = attrs;
            self.reindex(slot);
            return Ok(());
        }
        let record = Slot {
            id,
            view,
            load: 0,
            held: 0,
            departed: false,
            last_pick: 0,
            base,
            attrs,
            key: None,
        };
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = Some(record);
                slot
            }
            None => {
                self.slots.push(Some(record));
                u32::try_from(self.slots.len() - 1).expect("fewer than 2^32 nodes")
            }
        };
        self.by_id.insert(id, slot);
        self.reindex(slot);
        Ok(())
    }

    /// Replaces a node's view (a heartbeat, a stake change, a new reputation figure).
    pub fn update(&mut self, id: OperatorId, view: NodeView) -> Result<(), NodeError> {
        view.validate(id)?;
        let slot = self.present(id)?;
        self.unindex(slot);
        let base = self.scorer.base(&view);
        let attrs = view.hard_attrs(&self.policy.claims);
        let record = self.slot_mut(slot);
        record.view = view;
        record.base = base;
        record.attrs = attrs;
        self.reindex(slot);
        Ok(())
    }

    /// Marks a node live or offline (missed heartbeats). Offline nodes are never picked.
    pub fn set_live(&mut self, id: OperatorId, live: bool) -> Result<(), NodeError> {
        let slot = self.present(id)?;
        self.slot_mut(slot).view.live = live;
        self.reindex(slot);
        Ok(())
    }

    /// Sets the work `id` holds that none of this scheduler's allocations cover (for the
    /// coordinator: seats the chain shows on it, assigned by an earlier run or another
    /// coordinator, or moved to it by a failover). It counts against capacity and lowers the
    /// score exactly like allocations do. Returns whether it changed.
    pub fn set_held(&mut self, id: OperatorId, held: u32) -> Result<bool, NodeError> {
        let slot = self.present(id)?;
        if self.slot_mut(slot).held == held {
            return Ok(false);
        }
        self.slot_mut(slot).held = held;
        self.reindex(slot);
        Ok(true)
    }

    /// Removes a node. Its outstanding allocations stay until released.
    pub fn leave(&mut self, id: OperatorId) -> Result<(), NodeError> {
        let slot = self.present(id)?;
        self.unindex(slot);
        if self.slot_mut(slot).load == 0 {
            self.drop_slot(slot);
        } else {
            self.slot_mut(slot).departed = true;
        }
        Ok(())
    }

    /// Picks the best feasible set for `needs` from the index, without committing it.
    pub fn plan(&self, needs: &TaskNeeds) -> Result<Plan, AllocError> {
        needs.validate()?;
        let picked = pick(self.index.candidates(needs), needs)
            .map_err(|shortfall| self.diagnose(needs, shortfall))?;
        Ok(Self::to_plan(picked.primaries, picked.backups))
    }

    /// Picks and commits: each primary's load rises by one (its score falls with it).
    pub fn allocate(&mut self, needs: &TaskNeeds) -> Result<Allocation, AllocError> {
        let plan = self.plan(needs)?;
        Ok(self.commit(plan))
    }

    /// Like [`Scheduler::allocate`], but picking by the naive scan (the benchmark peer).
    pub fn allocate_naive(&mut self, needs: &TaskNeeds) -> Result<Allocation, AllocError> {
        let plan = self.plan_naive(needs)?;
        Ok(self.commit(plan))
    }

    /// Ends an allocation: each primary's load falls by one.
    pub fn release(&mut self, id: AllocationId) -> Result<(), ReleaseError> {
        let slots = self
            .allocations
            .remove(&id)
            .ok_or(ReleaseError::UnknownAllocation(id))?;
        for slot in slots {
            let record = self.slot_mut(slot);
            debug_assert!(record.load > 0, "release below zero on {}", record.id);
            record.load = record.load.saturating_sub(1);
            if record.departed && record.load == 0 {
                self.drop_slot(slot);
            } else {
                self.reindex(slot);
            }
        }
        Ok(())
    }

    /// A node's record, if it is in the registry (departed nodes with load included).
    pub fn node(&self, id: OperatorId) -> Option<NodeState<'_>> {
        let slot = *self.by_id.get(&id)?;
        self.slots[slot as usize].as_ref().map(Self::state)
    }

    /// A node's effective score now (its base score lowered by its current load).
    pub fn score(&self, id: OperatorId) -> Option<Score> {
        let slot = *self.by_id.get(&id)?;
        let record = self.slots[slot as usize].as_ref()?;
        Some(
            self.scorer
                .effective(record.base, record.busy(), record.view.capacity),
        )
    }

    /// Every record in the registry, in no particular order.
    pub fn nodes(&self) -> impl Iterator<Item = NodeState<'_>> {
        self.slots.iter().flatten().map(Self::state)
    }

    /// Nodes in the registry (departed nodes with load included).
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether the registry is empty.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }

    /// Nodes currently eligible (live, present, with a free slot).
    pub fn eligible(&self) -> usize {
        self.index.len()
    }

    /// Allocations not yet released.
    pub fn outstanding(&self) -> usize {
        self.allocations.len()
    }

    /// The primaries of an outstanding allocation.
    pub fn allocation(&self, id: AllocationId) -> Option<Vec<OperatorId>> {
        self.allocations.get(&id).map(|slots| {
            slots
                .iter()
                .map(|&s| self.slots[s as usize].as_ref().expect("held slot").id)
                .collect()
        })
    }

    pub(crate) fn to_plan(primaries: Vec<Candidate>, backups: Vec<Candidate>) -> Plan {
        let assignments = primaries
            .iter()
            .enumerate()
            .map(|(i, p)| Assignment {
                primary: p.key.id(),
                backup: backups.get(i).map(|b| b.key.id()),
                score: p.key.score(),
            })
            .collect();
        Plan {
            assignments,
            slots: primaries.iter().map(|p| p.slot).collect(),
        }
    }

    fn commit(&mut self, plan: Plan) -> Allocation {
        for &slot in &plan.slots {
            let pick = self.next_allocation + 1;
            let record = self.slot_mut(slot);
            debug_assert!(record.eligible(), "picked an ineligible node {}", record.id);
            record.load += 1;
            record.last_pick = pick;
            self.reindex(slot);
        }
        let id = AllocationId(self.next_allocation);
        self.next_allocation += 1;
        self.allocations.insert(id, plan.slots);
        Allocation {
            id,
            assignments: plan.assignments,
        }
    }

    fn state(slot: &Slot) -> NodeState<'_> {
        NodeState {
            id: slot.id,
            view: &slot.view,
            load: slot.load,
            held: slot.held,
            departed: slot.departed,
        }
    }

    fn present(&self, id: OperatorId) -> Result<u32, NodeError> {
        match self.by_id.get(&id) {
            Some(&slot)
                if !self.slots[slot as usize]
                    .as_ref()
                    .is_some_and(|s| s.departed) =>
            {
                Ok(slot)
            }
            _ => Err(NodeError::UnknownOperator(id)),
        }
    }

    fn slot_mut(&mut self, slot: u32) -> &mut Slot {
        self.slots[slot as usize]
            .as_mut()
            .expect("slot index refers to a live record")
    }

    /// Takes a node out of the index (before its attributes change).
    fn unindex(&mut self, slot: u32) {
        let record = self.slots[slot as usize].as_mut().expect("live record");
        if let Some(key) = record.key.take() {
            self.index.remove(&key, &record.attrs);
        }
    }

    /// Puts a node where its current state says it belongs in the index (or nowhere).
    fn reindex(&mut self, slot: u32) {
        self.unindex(slot);
        let record = self.slots[slot as usize].as_mut().expect("live record");
        if record.eligible() {
            let score = self
                .scorer
                .effective(record.base, record.busy(), record.view.capacity);
            let key = Key::new(score, record.last_pick, record.id);
            record.key = Some(key);
            self.index.insert(
                key,
                Entry {
                    slot,
                    attrs: record.attrs,
                },
            );
        }
    }

    fn drop_slot(&mut self, slot: u32) {
        self.unindex(slot);
        let record = self.slots[slot as usize].take().expect("live record");
        self.by_id.remove(&record.id);
        self.free.push(slot);
    }

    /// Turns a shortfall into the error naming the constraint that emptied the pool. This
    /// walks the whole registry, which is fine: it runs only when allocation fails.
    fn diagnose(&self, needs: &TaskNeeds, shortfall: Shortfall) -> AllocError {
        crate::diagnose::diagnose(self, needs, shortfall)
    }
}
