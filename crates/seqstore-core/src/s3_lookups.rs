//! What the S3 read path looked up lately: access points, store policies and objects, so
//! that a GET of a known object asks the catalog one thing, its S3 revision. Every write that
//! changes what S3 reads, on any node, increments that revision (`Service::s3_changed`); an
//! entry serves only requests that read the revision it was looked up at, and for at most
//! [`TTL`] (should counting a write have failed).

use crate::catalog::{AccessPolicy, StoreKind};
use crate::ids::{AccountId, StoreId};
use crate::s3_access::AccessPoint;
use crate::s3_objects::S3Object;
use std::borrow::Borrow;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long an entry serves.
const TTL: Duration = Duration::from_secs(1);

/// Entries per kind; a full map is emptied (a second's worth of distinct lookups).
const MAX_ENTRIES: usize = 4096;

/// A store, as the cache keys it.
pub(crate) type StoreKey = (StoreKind, AccountId, StoreId);

/// The S3 read path's lookups of the last second.
#[derive(Debug, Default)]
pub(crate) struct S3Lookups {
    /// Access points by what the request named (alias, ARN, virtual-hosted name).
    pub(crate) access_points: Lookups<String, AccessPoint>,
    /// Each store's stored policy (`None`: the store has none).
    pub(crate) policies: Lookups<StoreKey, Option<AccessPolicy>>,
    /// Objects by store and key.
    pub(crate) objects: Lookups<(StoreKey, String), S3Object>,
}

/// One kind of lookup: values with when, and at which revision, they were looked up.
#[derive(Debug)]
pub(crate) struct Lookups<K, V>(Mutex<HashMap<K, (Instant, u64, V)>>);

impl<K, V> Default for Lookups<K, V> {
    fn default() -> Self {
        Self(Mutex::new(HashMap::new()))
    }
}

impl<K: Hash + Eq, V: Clone> Lookups<K, V> {
    /// The value of `key` if it was looked up less than [`TTL`] ago at `revision`.
    pub(crate) fn get<Q>(&self, key: &Q, revision: u64) -> Option<V>
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get(key)
            .filter(|(at, rev, _)| *rev == revision && at.elapsed() < TTL)
            .map(|(_, _, value)| value.clone())
    }

    /// Remembers `value`, looked up at `revision` (a write since retires it at once).
    pub(crate) fn put(&self, key: K, value: V, revision: u64) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(key, (Instant::now(), revision, value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_serves_its_revision_for_a_second() {
        let cache: Lookups<&str, u32> = Lookups::default();
        cache.put("k", 1, 7);
        assert_eq!(cache.get("k", 7), Some(1));
        // A request that read another revision (a write since) looks up again.
        assert_eq!(cache.get("k", 8), None);
        cache
            .0
            .lock()
            .unwrap()
            .insert("k", (Instant::now() - TTL, 7, 3));
        assert_eq!(cache.get("k", 7), None);
    }

    #[test]
    fn the_maps_stay_bounded() {
        let cache: Lookups<usize, usize> = Lookups::default();
        for i in 0..3 * MAX_ENTRIES {
            cache.put(i, i, 0);
        }
        assert!(cache.0.lock().unwrap().len() <= MAX_ENTRIES);
    }
}
