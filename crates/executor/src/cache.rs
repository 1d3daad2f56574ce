//! A map of compiled programs bounded in bytes, least recently used out first.

use std::collections::HashMap;

use crate::Digest;

/// Holds entries whose weights (estimated bytes) add up to at most `capacity`; inserting
/// evicts the least recently used entries until the new one fits, and an entry heavier than
/// the whole capacity is not kept. Lookups are O(1), evictions O(n) in the number of entries,
/// which is small (tens of modules).
#[derive(Debug)]
pub(crate) struct LruCache<V> {
    capacity: u64,
    weight: u64,
    clock: u64,
    entries: HashMap<Digest, Entry<V>>,
}

#[derive(Debug)]
struct Entry<V> {
    value: V,
    weight: u64,
    used: u64,
}

impl<V: Clone> LruCache<V> {
    pub(crate) fn new(capacity: u64) -> Self {
        Self {
            capacity,
            weight: 0,
            clock: 0,
            entries: HashMap::new(),
        }
    }

    pub(crate) fn get(&mut self, key: &Digest) -> Option<V> {
        self.clock += 1;
        let clock = self.clock;
        self.entries.get_mut(key).map(|entry| {
            entry.used = clock;
            entry.value.clone()
        })
    }

    pub(crate) fn insert(&mut self, key: Digest, value: V, weight: u64) {
        if let Some(old) = self.entries.remove(&key) {
            self.weight -= old.weight;
        }
        if weight > self.capacity || self.capacity == 0 {
            return;
        }
        while self.weight + weight > self.capacity {
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, entry)| entry.used)
                .map(|(key, _)| *key);
            let Some(oldest) = oldest else { break };
            if let Some(evicted) = self.entries.remove(&oldest) {
                self.weight -= evicted.weight;
            }
        }
        self.clock += 1;
        self.weight += weight;
        self.entries.insert(
            key,
            Entry {
                value,
                weight,
                used: self.clock,
            },
        );
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    /// Total weight of the entries held.
    #[cfg(test)]
    pub(crate) fn weight(&self) -> u64 {
        self.weight
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> Digest {
        Digest([n; 32])
    }

    #[test]
    fn evicts_the_least_recently_used_until_the_new_entry_fits() {
        let mut cache = LruCache::new(100);
        cache.insert(key(1), "one", 40);
        cache.insert(key(2), "two", 40);
        cache.insert(key(3), "three", 20);
        assert_eq!(cache.get(&key(1)), Some("one"));
        // 100 full: the 50-byte entry evicts 2 (40) and then 3 (20), not the recently used 1.
        cache.insert(key(4), "four", 50);
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.weight(), 90);
        assert_eq!(cache.get(&key(2)), None);
        assert_eq!(cache.get(&key(3)), None);
        assert_eq!(cache.get(&key(1)), Some("one"));
        assert_eq!(cache.get(&key(4)), Some("four"));
    }

    #[test]
    fn reinserting_a_key_replaces_its_weight() {
        let mut cache = LruCache::new(100);
        cache.insert(key(1), 1, 60);
        cache.insert(key(1), 11, 30);
        cache.insert(key(2), 2, 70);
        assert_eq!(cache.weight(), 100);
        assert_eq!(cache.get(&key(1)), Some(11));
        assert_eq!(cache.get(&key(2)), Some(2));
    }

    #[test]
    fn an_entry_heavier_than_the_capacity_is_not_kept_and_evicts_nothing() {
        let mut cache = LruCache::new(100);
        cache.insert(key(1), 1, 10);
        cache.insert(key(2), 2, 101);
        assert_eq!(cache.get(&key(2)), None);
        assert_eq!(cache.get(&key(1)), Some(1));
    }

    #[test]
    fn zero_capacity_keeps_nothing() {
        let mut cache = LruCache::new(0);
        cache.insert(key(1), 1, 1);
        assert_eq!(cache.get(&key(1)), None);
        assert_eq!(cache.len(), 0);
    }
}
