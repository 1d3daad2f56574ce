//! Picking the set from a best-first stream of admitted candidates: k primaries (in distinct
//! regions when asked), then one backup per primary. The fast path feeds it the index's lazy
//! merge; the naive scan feeds it a fully sorted vector. Same rules, so the same stream gives
//! the same set.
//!
//! Greedy is optimal here: choosing k nodes of maximal total score with at most one per
//! region is a partition matroid, on which best-first greedy is exact.

use crate::index::Candidate;
use crate::needs::TaskNeeds;

/// The chosen candidates: `primaries[i]` is backed up by `backups[i]` when backups were
/// asked for.
#[derive(Debug)]
pub(crate) struct Picked {
    pub(crate) primaries: Vec<Candidate>,
    pub(crate) backups: Vec<Candidate>,
}

/// Why the stream ran dry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shortfall {
    /// Fewer than k primaries could be found.
    Primaries,
    /// k primaries, but not a backup for each.
    Backups,
}

/// Pulls from `stream` only as far as needed, remembering what it has seen so backups can
/// reuse candidates the primaries skipped.
pub(crate) fn pick(
    mut stream: impl Iterator<Item = Candidate>,
    needs: &TaskNeeds,
) -> Result<Picked, Shortfall> {
    let k = needs.replication as usize;
    let mut seen: Vec<Candidate> = Vec::with_capacity(2 * k);
    let mut is_primary: Vec<bool> = Vec::with_capacity(2 * k);
    let mut primaries: Vec<usize> = Vec::with_capacity(k);

    let mut next = 0usize;
    while primaries.len() < k {
        if next == seen.len() {
            let c = stream.next().ok_or(Shortfall::Primaries)?;
            seen.push(c);
            is_primary.push(false);
        }
        let c = seen[next];
        let clash = needs.distinct_regions && primaries.iter().any(|&p| seen[p].region == c.region);
        if !clash {
            primaries.push(next);
            is_primary[next] = true;
        }
        next += 1;
    }

    let mut backups: Vec<usize> = Vec::new();
    if needs.backups {
        let mut taken = is_primary.clone();
        let primary_regions: Vec<_> = primaries.iter().map(|&p| seen[p].region).collect();
        for i in 0..k {
            // With distinct regions the backup must not share a region with the other
            // primaries, so promoting it keeps the set region-distinct.
            let fits = |c: &Candidate| {
                !needs.distinct_regions
                    || primary_regions
                        .iter()
                        .enumerate()
                        .all(|(j, r)| j == i || *r != c.region)
            };
            let mut at = 0usize;
            let found = loop {
                if at == seen.len() {
                    let c = stream.next().ok_or(Shortfall::Backups)?;
                    seen.push(c);
                    taken.push(false);
                }
                if !taken[at] && fits(&seen[at]) {
                    break at;
                }
                at += 1;
            };
            taken[found] = true;
            backups.push(found);
        }
    }

    Ok(Picked {
        primaries: primaries.iter().map(|&i| seen[i]).collect(),
        backups: backups.iter().map(|&i| seen[i]).collect(),
    })
}
