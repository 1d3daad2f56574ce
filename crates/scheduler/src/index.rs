//! The score-ordered node index: what makes an allocation cost a walk over the best few
//! nodes instead of a scan of all of them.
//!
//! Every live node with a free slot sits in ordered maps keyed by (effective score
//! descending, operator id): one for its GPU-memory tier, one for its region, and one per
//! capability bit it has. A task is answered by merging, best first, the smallest set of maps
//! that must hold every node it admits (the tiers whose range reaches its GPU minimum; or the
//! maps of its allowed regions; or the map of one capability bit it requires) and filtering
//! each entry with the hard attributes stored inline in it. The first admitted entries are, by
//! construction, the best admitted nodes: the result is exactly what a full scan would pick,
//! not an approximation. Nodes whose hardware is unchecked (counted as the policy's floor
//! class) are kept in a second family of the same maps, walked only for tasks the floor class
//! can meet.
//!
//! A load change, update or liveness change re-keys one node: O(log n) in each of its maps
//! (two plus one per capability bit). Full and offline nodes are taken out, so they cost
//! nothing to skip.
//!
//! `BTreeMap` from std is used rather than a crate: it gives ordered iteration from the top,
//! O(log n) insert/remove, and dense leaves (11 entries per node) that iterate fast.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, btree_map};

use crate::id::{OperatorId, Region};
use crate::needs::TaskNeeds;
use crate::node::HardAttrs;
use crate::score::Score;

/// Lower bounds (MiB) of the GPU-memory tiers; tier `t` holds `[GPU_TIERS[t], GPU_TIERS[t+1])`.
const GPU_TIERS: [u64; 7] = [0, 1, 8 * 1024, 16 * 1024, 24 * 1024, 48 * 1024, 80 * 1024];

/// A task restricted to at most this many regions is answered from the region maps; above
/// it, from the GPU tiers with the region checked per entry.
const REGION_FANOUT: usize = 32;

/// Position in the score order: best score first; among equal scores the node picked least
/// recently (so one-at-a-time tasks rotate over equally good nodes instead of always landing
/// on the same one), then operator id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct Key {
    descending: Reverse<Score>,
    last_pick: u64,
    id: OperatorId,
}

impl Key {
    /// `last_pick`: the scheduler's pick counter when the node was last picked (0: never).
    pub(crate) fn new(score: Score, last_pick: u64, id: OperatorId) -> Self {
        Self {
            descending: Reverse(score),
            last_pick,
            id,
        }
    }

    pub(crate) fn score(&self) -> Score {
        self.descending.0
    }

    pub(crate) fn id(&self) -> OperatorId {
        self.id
    }
}

/// What the index stores per node: its registry slot and the attributes hard constraints read.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Entry {
    pub(crate) slot: u32,
    pub(crate) attrs: HardAttrs,
}

/// A node the index offers for a task, in score order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Candidate {
    pub(crate) key: Key,
    pub(crate) slot: u32,
    pub(crate) region: Region,
}

type Map = BTreeMap<Key, Entry>;

/// One family of ordered maps: per GPU tier, per region, per capability bit.
#[derive(Debug)]
struct Maps {
    tiers: [Map; GPU_TIERS.len()],
    regions: Vec<Map>,
    /// `capabilities[b]` holds the nodes with capability bit `b` set.
    capabilities: Vec<Map>,
}

impl Default for Maps {
    fn default() -> Self {
        Self {
            tiers: Default::default(),
            regions: (0..=Region::MAX).map(|_| Map::new()).collect(),
            capabilities: (0..64).map(|_| Map::new()).collect(),
        }
    }
}

/// The floor hardware class: what an unchecked hardware claim counts as.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct FloorClass {
    pub(crate) cpu_cores: u32,
    pub(crate) memory_mib: u64,
    pub(crate) gpu_memory_mib: u64,
}

/// The index itself: nodes whose hardware is checked (or trusted) in one family of maps, and
/// nodes whose hardware counts as the floor class in another. A task whose hardware minimums
/// the floor class fails skips the second family whole: those nodes never pass, and idle ones
/// would otherwise sit above busy checked nodes in score order, each skipped one by one.
#[derive(Debug, Default)]
pub(crate) struct Index {
    checked: Maps,
    floor: Maps,
    floor_class: FloorClass,
}

/// The positions of the set bits of `flags`.
fn bits(flags: u64) -> impl Iterator<Item = usize> {
    let mut rest = flags;
    std::iter::from_fn(move || {
        (rest != 0).then(|| {
            let bit = rest.trailing_zeros() as usize;
            rest &= rest - 1;
            bit
        })
    })
}

fn tier(gpu_memory_mib: u64) -> usize {
    GPU_TIERS.partition_point(|lower| *lower <= gpu_memory_mib) - 1
}

impl Maps {
    fn len(&self) -> usize {
        self.tiers.iter().map(Map::len).sum()
    }

    fn insert(&mut self, key: Key, entry: Entry) {
        self.tiers[tier(entry.attrs.gpu_memory_mib)].insert(key, entry);
        self.regions[usize::from(entry.attrs.region.0)].insert(key, entry);
        for bit in bits(entry.attrs.capabilities) {
            self.capabilities[bit].insert(key, entry);
        }
    }

    fn remove(&mut self, key: &Key, attrs: &HardAttrs) -> bool {
        let a = self.tiers[tier(attrs.gpu_memory_mib)].remove(key).is_some();
        let b = self.regions[usize::from(attrs.region.0)]
            .remove(key)
            .is_some();
        debug_assert_eq!(a, b, "tier and region maps disagree on {key:?}");
        for bit in bits(attrs.capabilities) {
            let c = self.capabilities[bit].remove(key).is_some();
            debug_assert_eq!(a, c, "tier and capability maps disagree on {key:?}");
        }
        a
    }

    /// The smallest set of these maps that holds every node of this family `needs` admits:
    /// the GPU tiers that reach its GPU minimum, the maps of its allowed regions (when it
    /// names few enough), or the map of one capability bit it requires.
    fn sources<'a>(&'a self, needs: &TaskNeeds) -> Vec<&'a Map> {
        let mut maps: Vec<&'a Map> = self
            .tiers
            .iter()
            .enumerate()
            .filter(|(t, m)| {
                let upper = GPU_TIERS.get(t + 1).copied().unwrap_or(u64::MAX);
                upper > needs.min_gpu_memory_mib && !m.is_empty()
            })
            .map(|(_, m)| m)
            .collect();
        let mut size: usize = maps.iter().map(|m| m.len()).sum();
        if let Some(set) = needs.allowed_regions.as_ref()
            && set.len() <= REGION_FANOUT
        {
            let regional: Vec<&'a Map> = set
                .iter()
                .map(|r| &self.regions[usize::from(r.0)])
                .filter(|m| !m.is_empty())
                .collect();
            let regional_size = regional.iter().map(|m| m.len()).sum();
            if regional_size < size {
                (maps, size) = (regional, regional_size);
            }
        }
        let mut bits = needs.required_capabilities;
        while bits != 0 {
            let bit = bits.trailing_zeros() as usize;
            bits &= bits - 1;
            let flagged = &self.capabilities[bit];
            if flagged.len() < size {
                (maps, size) = (vec![flagged], flagged.len());
            }
        }
        maps
    }
}

impl Index {
    /// An empty index whose floor family holds nodes counted as `floor_class`.
    pub(crate) fn new(floor_class: FloorClass) -> Self {
        Self {
            floor_class,
            ..Self::default()
        }
    }

    /// Number of nodes indexed.
    pub(crate) fn len(&self) -> usize {
        self.checked.len() + self.floor.len()
    }

    fn family(&mut self, attrs: &HardAttrs) -> &mut Maps {
        if attrs.floor_hardware {
            &mut self.floor
        } else {
            &mut self.checked
        }
    }

    pub(crate) fn insert(&mut self, key: Key, entry: Entry) {
        self.family(&entry.attrs).insert(key, entry);
    }

    /// Removes a node indexed under `key` with `attrs`; returns whether it was there.
    pub(crate) fn remove(&mut self, key: &Key, attrs: &HardAttrs) -> bool {
        self.family(attrs).remove(key, attrs)
    }

    /// The nodes that pass every per-node constraint of `needs`, best first, lazily.
    ///
    /// Every admitted node is in each of three sources of its family (see [`Maps::sources`]),
    /// and no node of the floor family is admitted when the floor class fails the task's
    /// hardware minimums (every such node counts as at most the floor class). The smallest
    /// source of each family is walked, so the result is the same whichever is chosen; only
    /// the number of entries skipped on the way differs.
    pub(crate) fn candidates<'a>(&'a self, needs: &'a TaskNeeds) -> Candidates<'a> {
        let mut maps = self.checked.sources(needs);
        let f = self.floor_class;
        if f.cpu_cores >= needs.min_cpu_cores
            && f.memory_mib >= needs.min_memory_mib
            && f.gpu_memory_mib >= needs.min_gpu_memory_mib
        {
            maps.extend(self.floor.sources(needs));
        }
        let mut cursors: Vec<btree_map::Iter<'a, Key, Entry>> =
            maps.into_iter().map(Map::iter).collect();
        let mut heads = BinaryHeap::with_capacity(cursors.len());
        for (i, cursor) in cursors.iter_mut().enumerate() {
            if let Some((key, entry)) = cursor.next() {
                heads.push(Reverse(Head {
                    key: *key,
                    cursor: i,
                    entry: *entry,
                }));
            }
        }
        Candidates {
            needs,
            cursors,
            heads,
        }
    }
}

#[derive(Debug)]
struct Head {
    key: Key,
    cursor: usize,
    entry: Entry,
}

impl PartialEq for Head {
    fn eq(&self, other: &Self) -> bool {
        self.key == other.key
    }
}
impl Eq for Head {}
impl PartialOrd for Head {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Head {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.key.cmp(&other.key)
    }
}

/// A best-first merge of the index maps that can hold admitted nodes.
#[derive(Debug)]
pub(crate) struct Candidates<'a> {
    needs: &'a TaskNeeds,
    cursors: Vec<btree_map::Iter<'a, Key, Entry>>,
    heads: BinaryHeap<Reverse<Head>>,
}

impl Iterator for Candidates<'_> {
    type Item = Candidate;

    fn next(&mut self) -> Option<Candidate> {
        loop {
            let Reverse(head) = self.heads.pop()?;
            if let Some((key, entry)) = self.cursors[head.cursor].next() {
                self.heads.push(Reverse(Head {
                    key: *key,
                    cursor: head.cursor,
                    entry: *entry,
                }));
            }
            if self.needs.admits(&head.entry.attrs) {
                return Some(Candidate {
                    key: head.key,
                    slot: head.entry.slot,
                    region: head.entry.attrs.region,
                });
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gpu_tiers_partition_the_range() {
        assert_eq!(tier(0), 0);
        assert_eq!(tier(1), 1);
        assert_eq!(tier(8 * 1024 - 1), 1);
        assert_eq!(tier(8 * 1024), 2);
        assert_eq!(tier(80 * 1024), 6);
        assert_eq!(tier(u64::MAX), 6);
    }

    #[test]
    fn keys_order_best_score_first_then_id() {
        let a = Key::new(Score(10), 0, OperatorId([2; 20]));
        let b = Key::new(Score(10), 0, OperatorId([1; 20]));
        let c = Key::new(Score(11), 0, OperatorId([9; 20]));
        let mut keys = vec![a, b, c];
        keys.sort();
        assert_eq!(keys, vec![c, b, a]);
    }
}
