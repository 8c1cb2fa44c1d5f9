//! Short-lived memory of lookups that found nothing (an unknown access key id, a key id no key
//! has), so that a client repeating them — by mistake or to load the database — costs a hash probe
//! instead of a query each time. Entries expire after [`TTL_MS`], so something created by another
//! process (`trent admin create-account`, another server) is found within that time; something
//! created by this process is forgotten here at once.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

/// How long a miss is remembered.
pub(crate) const TTL_MS: i64 = 5_000;
/// Most misses remembered; past it the expired ones go, then all of them.
const MAX_ENTRIES: usize = 10_000;

pub(crate) struct NegativeCache<K>(Mutex<HashMap<K, i64>>);

impl<K> Default for NegativeCache<K> {
    fn default() -> Self {
        NegativeCache(Mutex::new(HashMap::new()))
    }
}

impl<K: Hash + Eq> NegativeCache<K> {
    /// Whether `key` was missing less than [`TTL_MS`] ago.
    pub(crate) fn is_missing(&self, key: &K, now_ms: i64) -> bool {
        self.0
            .lock()
            .ok()
            .and_then(|m| m.get(key).copied())
            .is_some_and(|until| now_ms < until)
    }

    pub(crate) fn remember(&self, key: K, now_ms: i64) {
        if let Ok(mut m) = self.0.lock() {
            if m.len() >= MAX_ENTRIES {
                m.retain(|_, until| now_ms < *until);
                if m.len() >= MAX_ENTRIES {
                    m.clear();
                }
            }
            m.insert(key, now_ms.saturating_add(TTL_MS));
        }
    }

    pub(crate) fn clear(&self) {
        if let Ok(mut m) = self.0.lock() {
            m.clear();
        }
    }

    pub(crate) fn forget(&self, key: &K) {
        if let Ok(mut m) = self.0.lock() {
            m.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misses_expire_and_stay_bounded() {
        let c = NegativeCache::default();
        c.remember("a".to_owned(), 0);
        assert!(c.is_missing(&"a".to_owned(), TTL_MS - 1));
        assert!(!c.is_missing(&"a".to_owned(), TTL_MS));
        c.forget(&"a".to_owned());
        assert!(!c.is_missing(&"a".to_owned(), 0));
        for i in 0..(MAX_ENTRIES * 2) {
            c.remember(i.to_string(), 0);
        }
        assert!(c.0.lock().map(|m| m.len()).unwrap_or(0) <= MAX_ENTRIES);
    }
}
