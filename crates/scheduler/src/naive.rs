//! The straightforward scheduler of seed 001: filter every node, score every node, sort, take
//! the best. Kept as the benchmark peer and as the test oracle for the index.

use crate::error::AllocError;
use crate::index::{Candidate, Key};
use crate::needs::TaskNeeds;
use crate::scheduler::{Plan, Scheduler};
use crate::select::pick;

impl Scheduler {
    /// Picks the best feasible set by scanning every node (no index), without committing.
    /// Scores are computed from each node's view on every call, as the naive approach does.
    pub fn plan_naive(&self, needs: &TaskNeeds) -> Result<Plan, AllocError> {
        needs.validate()?;
        let mut candidates = Vec::new();
        for (slot, record) in self.slots.iter().enumerate() {
            let Some(record) = record else { continue };
            if !record.eligible() {
                continue;
            }
            let attrs = record.attrs;
            if !needs.admits(&attrs) {
                continue;
            }
            let base = self.scorer.base(&record.view);
            let score = self
                .scorer
                .effective(base, record.busy(), record.view.capacity);
            candidates.push(Candidate {
                key: Key::new(score, record.last_pick, record.id),
                slot: slot as u32,
                region: attrs.region,
            });
        }
        candidates.sort_unstable_by_key(|c| c.key);
        let picked = pick(candidates.into_iter(), needs)
            .map_err(|shortfall| crate::diagnose::diagnose(self, needs, shortfall))?;
        Ok(Self::to_plan(picked.primaries, picked.backups))
    }
}
