//! Cache coherence across servers sharing one database. The store's change feed
//! ([`trent_store::StoreRead::watch`]) says what another server (or this one) committed; the
//! service drops what it cached of it, so the next request reads the store. While the feed is
//! down ([`Change::Lost`] until [`Change::Resumed`]) nothing cached is trusted: keys and
//! credentials are read from the store on every request, and everything is dropped again when
//! the feed resumes. Two races are closed: a key read from the store while a change to it is
//! announced is not cached (an epoch counter), and a request that changes a key decides on the
//! key as stored, not as cached (a DisableKey must not be skipped as a no-op because this server
//! has not yet heard of another's EnableKey). The hot path still makes no store call for a warm
//! key while the feed is up.

use std::sync::atomic::Ordering;
use std::sync::{Arc, Weak};

use trent_api::KmsError;
use trent_store::Change;

use super::{AliasMaps, Kms};

impl Kms {
    /// Subscribes this service to its store's change feed; `false` when the store is never
    /// shared (SQLite). Holds the service weakly: the feed ends when the store is dropped.
    pub fn watch_store(self: &Arc<Self>) -> Result<bool, KmsError> {
        let weak: Weak<Kms> = Arc::downgrade(self);
        let sink: trent_store::ChangeSink = Arc::new(move |change| {
            if let Some(kms) = weak.upgrade() {
                kms.apply_change(change);
            }
        });
        let shared = self.store.watch(sink).map_err(KmsError::internal)?;
        self.shared.store(shared, Ordering::Release);
        Ok(shared)
    }

    /// Whether other servers may change the store (it has a change feed): then a request that
    /// changes a key decides on the key as stored, not as cached.
    pub(crate) fn shared_store(&self) -> bool {
        self.shared.load(Ordering::Acquire)
    }

    /// Counts key invalidations; a key read from the store is cached only if none arrived while
    /// it was read, so a load racing a change never caches the state from before it.
    pub(crate) fn key_epoch(&self) -> u64 {
        self.key_epoch.load(Ordering::Acquire)
    }

    /// Whether cached keys and credentials may be used (the change feed is live, or there is
    /// none because no other server shares the store).
    pub(crate) fn coherent(&self) -> bool {
        self.coherent.load(Ordering::Acquire)
    }

    /// Whether a cached copy of this credential may answer when the store cannot be read.
    pub fn trusts_cached_credential(&self, access_key_id: &str) -> bool {
        self.coherent() && self.credentials.contains(access_key_id)
    }

    /// Drops what `change` makes stale. Runs on the feed's thread; may read the store.
    fn apply_change(&self, change: Change) {
        match change {
            Change::Key(id) => {
                self.key_epoch.fetch_add(1, Ordering::AcqRel);
                self.uncache(&id);
                for region in self.regions() {
                    self.missing_keys.forget(&(region.clone(), id));
                }
            }
            Change::Alias(account, region, name) => match self.store.alias(&account, &region, &name) {
                Ok(found) => self.set_alias_target(account, &region, &name, found.map(|a| a.target_key_id)),
                Err(e) => {
                    tracing::warn!(error = %e, "cannot re-read a changed alias; reloading all aliases");
                    self.reload_aliases();
                }
            },
            Change::AccessKey(id) => {
                self.credentials.remove(&id);
                self.missing_credentials.forget(&id);
            }
            Change::Identity(account) => {
                self.identities.clear();
                self.credentials.remove_account(account);
            }
            Change::Lost => {
                self.key_epoch.fetch_add(1, Ordering::AcqRel);
                tracing::warn!("the database change feed is down: caches are bypassed until it is back");
                self.coherent.store(false, Ordering::Release);
                self.drop_caches();
            }
            Change::Resumed => {
                self.key_epoch.fetch_add(1, Ordering::AcqRel);
                self.drop_caches();
                self.reload_aliases();
                self.coherent.store(true, Ordering::Release);
                tracing::info!("the database change feed is live");
            }
        }
    }

    fn drop_caches(&self) {
        if let Ok(mut m) = self.keys.write() {
            m.clear();
        }
        self.credentials.clear();
        self.identities.clear();
        self.missing_keys.clear();
        self.missing_credentials.clear();
    }

    fn reload_aliases(&self) {
        match self.store.all_aliases() {
            Ok(all) => {
                let mut maps = AliasMaps::default();
                for a in all {
                    maps.set(a.account_id, &a.region, &a.name, Some(a.target_key_id));
                }
                if let Ok(mut m) = self.aliases.write() {
                    *m = maps;
                }
            }
            Err(e) => tracing::error!(error = %e, "cannot reload aliases"),
        }
    }
}
