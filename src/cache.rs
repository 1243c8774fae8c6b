//! A small bounded map for the few things lodger remembers in memory: opened
//! credentials and install public keys. Memory is only an optimisation here
//! (the host holds the truth), so when the map is full the oldest entry is
//! forgotten and will simply be fetched or opened again.

use std::borrow::Borrow;
use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::sync::RwLock;

/// A map with at most `capacity` entries, evicting the oldest insertion first.
/// Reads take a shared lock, so concurrent requests do not queue on hits.
#[derive(Debug)]
pub struct BoundedCache<K, V> {
    capacity: usize,
    inner: RwLock<Inner<K, V>>,
}

#[derive(Debug)]
struct Inner<K, V> {
    map: HashMap<K, V>,
    order: VecDeque<K>,
}

impl<K: Eq + Hash + Clone, V: Clone> BoundedCache<K, V> {
    /// An empty cache holding at most `capacity` entries (at least one).
    pub fn new(capacity: usize) -> Self {
        let inner = Inner { map: HashMap::new(), order: VecDeque::new() };
        BoundedCache { capacity: capacity.max(1), inner: RwLock::new(inner) }
    }

    /// A clone of the value for `key`, if present.
    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        let inner = self.inner.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        inner.map.get(key).cloned()
    }

    /// Inserts or replaces `key`, evicting the oldest entries beyond capacity.
    pub fn insert(&self, key: K, value: V) {
        let mut inner = self.inner.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        if inner.map.insert(key.clone(), value).is_none() {
            inner.order.push_back(key);
        }
        while inner.map.len() > self.capacity {
            match inner.order.pop_front() {
                Some(oldest) => inner.map.remove(&oldest),
                None => break,
            };
        }
    }

    /// Removes `key`; returns whether it was present.
    pub fn remove<Q>(&self, key: &Q) -> bool
    where
        K: Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        let mut inner = self.inner.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        let removed = inner.map.remove(key).is_some();
        if removed {
            inner.order.retain(|k| k.borrow() != key);
        }
        removed
    }

    /// Keeps only the entries for which `keep` is true.
    pub fn retain(&self, mut keep: impl FnMut(&K, &V) -> bool) {
        let mut inner = self.inner.write().unwrap_or_else(|poisoned| poisoned.into_inner());
        inner.map.retain(|key, value| keep(key, value));
        let Inner { map, order } = &mut *inner;
        order.retain(|key| map.contains_key(key));
    }

    /// The number of entries.
    pub fn len(&self) -> usize {
        self.inner.read().unwrap_or_else(|poisoned| poisoned.into_inner()).map.len()
    }

    /// Whether the cache is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forgets_the_oldest_entry_beyond_capacity() {
        let cache = BoundedCache::new(2);
        cache.insert("a", 1);
        cache.insert("b", 2);
        cache.insert("a", 10);
        cache.insert("c", 3);
        assert_eq!((cache.get("a"), cache.get("b"), cache.get("c")), (None, Some(2), Some(3)));
        assert_eq!(cache.len(), 2);
    }

    #[test]
    fn retains_only_what_is_kept_and_forgets_the_rest_in_order() {
        let cache = BoundedCache::new(3);
        for (key, value) in [("a", 1), ("b", 2), ("c", 3)] {
            cache.insert(key, value);
        }
        cache.retain(|_, value| *value != 2);
        assert_eq!((cache.get("a"), cache.get("b"), cache.get("c")), (Some(1), None, Some(3)));
        cache.insert("d", 4);
        cache.insert("e", 5);
        assert_eq!((cache.get("a"), cache.get("c"), cache.len()), (None, Some(3), 3));
    }

    #[test]
    fn removes_entries() {
        let cache = BoundedCache::new(4);
        cache.insert("a".to_string(), 1);
        assert!(cache.remove("a"));
        assert!(!cache.remove("a"));
        assert!(cache.is_empty());
    }
}
