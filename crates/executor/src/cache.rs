//! A small bounded map of compiled programs, least recently used out first.

use std::collections::HashMap;

use crate::Digest;

/// At most `capacity` entries; inserting into a full cache evicts the least recently used one.
/// Lookups and evictions are O(n) in the capacity, which is small (tens of modules).
#[derive(Debug)]
pub(crate) struct LruCache<V> {
    capacity: usize,
    clock: u64,
    entries: HashMap<Digest, (V, u64)>,
}

impl<V: Clone> LruCache<V> {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            capacity,
            clock: 0,
            entries: HashMap::with_capacity(capacity),
        }
    }

    pub(crate) fn get(&mut self, key: &Digest) -> Option<V> {
        self.clock += 1;
        let clock = self.clock;
        self.entries.get_mut(key).map(|(value, used)| {
            *used = clock;
            value.clone()
        })
    }

    pub(crate) fn insert(&mut self, key: Digest, value: V) {
        if self.capacity == 0 {
            return;
        }
        self.clock += 1;
        if !self.entries.contains_key(&key) && self.entries.len() >= self.capacity {
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(key, _)| *key);
            if let Some(oldest) = oldest {
                self.entries.remove(&oldest);
            }
        }
        self.entries.insert(key, (value, self.clock));
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(n: u8) -> Digest {
        Digest([n; 32])
    }

    #[test]
    fn evicts_the_least_recently_used() {
        let mut cache = LruCache::new(2);
        cache.insert(key(1), "one");
        cache.insert(key(2), "two");
        assert_eq!(cache.get(&key(1)), Some("one"));
        cache.insert(key(3), "three");
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.get(&key(2)), None);
        assert_eq!(cache.get(&key(1)), Some("one"));
        assert_eq!(cache.get(&key(3)), Some("three"));
    }

    #[test]
    fn reinserting_a_key_does_not_evict() {
        let mut cache = LruCache::new(2);
        cache.insert(key(1), 1);
        cache.insert(key(2), 2);
        cache.insert(key(2), 22);
        assert_eq!(cache.get(&key(1)), Some(1));
        assert_eq!(cache.get(&key(2)), Some(22));
    }

    #[test]
    fn zero_capacity_keeps_nothing() {
        let mut cache = LruCache::new(0);
        cache.insert(key(1), 1);
        assert_eq!(cache.get(&key(1)), None);
        assert_eq!(cache.len(), 0);
    }
}
