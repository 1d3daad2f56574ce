//! Which constraint emptied the pool, for [`AllocError::NoFeasibleSet`].

use std::collections::HashSet;

use crate::error::AllocError;
use crate::needs::{Constraint, TaskNeeds};
use crate::scheduler::Scheduler;
use crate::select::Shortfall;

/// Applies the per-node constraints in [`Constraint::PER_NODE`] order and names the first
/// after which fewer nodes remain than the task needs (k for primaries, 2k with backups).
/// If every per-node constraint leaves enough, the set-level rule (distinct regions, or a
/// backup for each primary) is named.
pub(crate) fn diagnose(s: &Scheduler, needs: &TaskNeeds, shortfall: Shortfall) -> AllocError {
    let mut failed_at = [0u32; Constraint::PER_NODE.len()];
    let mut total = 0u32;
    let mut survivor_regions = HashSet::new();
    for record in s.slots.iter().flatten() {
        total += 1;
        let first = if record.departed || !record.view.live {
            Some(Constraint::Liveness)
        } else if record.busy() >= record.view.capacity {
            Some(Constraint::Capacity)
        } else {
            needs.first_failed(&record.attrs)
        };
        match first {
            Some(c) => {
                let at = Constraint::PER_NODE
                    .iter()
                    .position(|x| *x == c)
                    .expect("per-node constraint");
                failed_at[at] += 1;
            }
            None => {
                survivor_regions.insert(record.view.region);
            }
        }
    }
    let k = needs.replication;
    let needed = match shortfall {
        Shortfall::Primaries => k,
        Shortfall::Backups => 2 * k,
    };
    let mut remaining = total;
    for (i, constraint) in Constraint::PER_NODE.iter().enumerate() {
        remaining -= failed_at[i];
        if remaining < needed {
            return AllocError::NoFeasibleSet {
                constraint: *constraint,
                needed,
                remaining,
            };
        }
    }
    match shortfall {
        Shortfall::Primaries => AllocError::NoFeasibleSet {
            constraint: Constraint::DistinctRegions,
            needed: k,
            remaining: survivor_regions.len() as u32,
        },
        Shortfall::Backups => AllocError::NoFeasibleSet {
            constraint: Constraint::Backups,
            needed,
            remaining,
        },
    }
}
