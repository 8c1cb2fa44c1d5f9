//! The service object: configuration, the caches the request path reads, and the one door to the
//! store.
//!
//! The door has two sides. Reading (`Kms::read`) is open to the whole crate: resolution and
//! listing need it and a read changes nothing. Writing (`Kms::write`) takes an [`Authority`]: an
//! authorization decision (`authz::Authorized`), the authorizer's own resolution work
//! (`authz::Lookup`, e.g. creating an AWS managed key on first reference, as AWS does), or the
//! service's background jobs ([`System`], constructible only here and in `jobs`). `Authority` is
//! sealed in this module, so no other type can claim it: an operation that would write without a
//! decision does not compile.

mod coherence;
mod jobs;
pub(crate) mod negative;
mod seed;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use trent_api::KmsError;
use trent_audit::{AuditLog, ChainKey};
use trent_crypto::seal::Keyring;
use trent_crypto::RootKey;
use trent_store::{Store, StoreError, StoreRead};
use trent_types::{AccountId, AliasName, KeyId, Region};

use crate::authz::identity::IdentityCache;
use crate::clock::Clock;
use crate::credentials::{Caller, CredentialCache};
use crate::grants::TokenKey;
use crate::keys::LoadedKey;
use crate::usage::UsageBuffer;

pub use jobs::{spawn_audit_flusher, spawn_scheduler};
pub use seed::{Seed, SeedKey};

/// Static configuration of a service instance.
#[derive(Debug, Clone)]
pub struct Config {
    /// The Regions the deployment serves; the first is the default (where requests signed for
    /// no served Region are verified, and the Region of `trent admin` tools). Never empty.
    pub regions: Vec<String>,
}

/// Per-request facts from the transport.
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    pub request_id: String,
    pub source_ip: Option<String>,
    /// Whether the request arrived over TLS (`aws:SecureTransport`).
    pub secure: bool,
    /// The Region the request is for: its SigV4 credential scope's, which the server checked
    /// is one the deployment serves (`None` only for callers inside the process: the default).
    pub region: Option<Region>,
}

mod sealed {
    pub trait Sealed {}
}

/// Permission to write to the store (see the module docs). Sealed: implemented only below.
pub(crate) trait Authority: sealed::Sealed + Sync {}

impl<T: Sync> sealed::Sealed for crate::authz::Authorized<T> {}
impl<T: Sync> Authority for crate::authz::Authorized<T> {}
impl sealed::Sealed for crate::authz::Lookup {}
impl Authority for crate::authz::Lookup {}
impl sealed::Sealed for System {}
impl Authority for System {}

/// The service's own background work (scheduler jobs, flushes): acts for no caller.
pub(crate) struct System(());

impl System {
    pub(crate) fn new() -> System {
        System(())
    }
}

/// Aliases by (account, Region, name), and each key's aliases (`kms:ResourceAliases`) by
/// (Region, key id): an alias belongs to one Region, as in AWS.
#[derive(Default)]
pub(crate) struct AliasMaps {
    by_name: HashMap<(AccountId, Region, AliasName), KeyId>,
    by_key: HashMap<(Region, KeyId), Vec<AliasName>>,
}

impl AliasMaps {
    fn set(&mut self, account: AccountId, region: &Region, name: &AliasName, key: Option<KeyId>) {
        if let Some(old) = self.by_name.remove(&(account, region.clone(), name.clone())) {
            if let Some(list) = self.by_key.get_mut(&(region.clone(), old)) {
                list.retain(|n| n != name);
            }
        }
        if let Some(k) = key {
            self.by_name.insert((account, region.clone(), name.clone()), k);
            self.by_key.entry((region.clone(), k)).or_default().push(name.clone());
        }
    }

    fn forget_key(&mut self, region: &Region, key: &KeyId) {
        self.by_name.retain(|(_, r, _), k| !(k == key && r == region));
        self.by_key.remove(&(region.clone(), *key));
    }
}

/// The service. Cheap to share behind an `Arc`; all state is internally synchronised.
pub struct Kms {
    pub(crate) store: Arc<dyn Store>,
    /// The root key(s) records are sealed under; two during a root-key rotation (`rotation`).
    root: std::sync::RwLock<Arc<Keyring>>,
    /// A running root-key rotation's progress (done, total).
    pub(crate) root_rotation: Arc<std::sync::Mutex<Option<(usize, usize)>>>,
    /// What derived keys come from (see `rotation`): the root key until it was first rotated.
    derivation: Arc<RootKey>,
    clock: Arc<dyn Clock>,
    /// The Regions served; the first is the default.
    regions: Vec<Region>,
    /// Decrypted keys by key id, one per Region the id has a key in (the related keys of a
    /// multi-Region key share an id): the hot path reads only this (never the database) once
    /// warm.
    keys: RwLock<HashMap<KeyId, Vec<Arc<LoadedKey>>>>,
    aliases: RwLock<AliasMaps>,
    credentials: CredentialCache,
    /// Parsed identity policies by principal.
    pub(crate) identities: IdentityCache,
    /// Last uses not yet written to the store.
    pub(crate) usage: UsageBuffer,
    /// Audit events not yet written to the store.
    pub(crate) audit: Arc<AuditLog>,
    chain_key: Arc<ChainKey>,
    /// This process's identity in the audit trail (random, new at every start).
    boot_id: Arc<str>,
    pub(crate) grant_tokens: TokenKey,
    /// Key ids and access key ids recently looked up and not found.
    pub(crate) missing_keys: negative::NegativeCache<(Region, KeyId)>,
    missing_credentials: negative::NegativeCache<String>,
    /// Whether cached keys and credentials may be used (see `coherence`).
    coherent: std::sync::atomic::AtomicBool,
    /// Whether other servers share the store (it has a change feed; see `coherence`).
    shared: std::sync::atomic::AtomicBool,
    /// The latest whole-trail verification and when it ran (`cloudtrail`'s GetTrailStatus).
    pub(crate) trail_verification: tokio::sync::Mutex<Option<(i64, Arc<trent_audit::Verification>)>>,
    /// Whether multi-Region keys wait to leave `Creating`/`Updating` (see `jobs`).
    pub(crate) settle_due: std::sync::atomic::AtomicBool,
    /// Key invalidations so far (see `coherence`).
    key_epoch: std::sync::atomic::AtomicU64,
    /// Serialises read-modify-write of key records within this process.
    pub(crate) write_lock: tokio::sync::Mutex<()>,
    /// Serialises the creation of AWS managed keys (during resolution, so never under
    /// `write_lock`).
    pub(crate) managed_lock: tokio::sync::Mutex<()>,
    /// Counters and timings for `/metrics`.
    metrics: Arc<crate::metrics::Metrics>,
    /// External key stores: the proxy transport and the store documents (see `xks`).
    pub(crate) xks: crate::xks::XksState,
    /// Request quotas, when configured (see `quota`).
    pub(crate) quotas: std::sync::OnceLock<crate::quota::Quotas>,
    /// Dev mode: the account every caller is the root of (see `seed`).
    dev_account: std::sync::OnceLock<AccountId>,
    /// Fault injection (debug builds only): the operation that panics mid-request, to test that
    /// a panic is answered and audited.
    #[cfg(debug_assertions)]
    pub(crate) panic_on: std::sync::OnceLock<trent_api::Operation>,
}

impl Kms {
    /// Opens the service over `store`, loading credentials and aliases into memory.
    pub fn open(store: Arc<dyn Store>, root: RootKey, clock: Arc<dyn Clock>, config: Config) -> Result<Self, KmsError> {
        Self::open_with(store, Keyring::new(root), clock, config)
    }

    /// Opens the service with a keyring: during an unfinished root-key rotation, the new key
    /// and the old one (`rotation`).
    pub fn open_with(
        store: Arc<dyn Store>,
        root: Keyring,
        clock: Arc<dyn Clock>,
        config: Config,
    ) -> Result<Self, KmsError> {
        let mut regions: Vec<Region> = Vec::with_capacity(config.regions.len());
        for name in &config.regions {
            let region =
                Region::parse(name).ok_or_else(|| KmsError::internal(format!("'{name}' is not a Region name")))?;
            if !regions.contains(&region) {
                regions.push(region);
            }
        }
        if regions.is_empty() {
            return Err(KmsError::internal("no Region to serve"));
        }
        let credentials = CredentialCache::default();
        credentials.load(store.as_ref(), &root, clock.now_ms())?;
        let mut aliases = AliasMaps::default();
        for a in store.all_aliases().map_err(KmsError::internal)? {
            aliases.set(a.account_id, &a.region, &a.name, Some(a.target_key_id));
        }
        let derivation = crate::rotation::derivation_base(store.as_ref(), &root)?;
        let chain_key = Arc::new(crate::audit::chain_key(&derivation)?);
        let grant_tokens = TokenKey::derive(&derivation)?;
        let boot_id: Arc<str> = Arc::from(hex::encode(
            trent_crypto::random::array::<8>().map_err(KmsError::internal)?,
        ));
        Ok(Self {
            store,
            root: std::sync::RwLock::new(Arc::new(root)),
            root_rotation: Arc::new(std::sync::Mutex::new(None)),
            derivation: Arc::new(derivation),
            clock,
            regions,
            keys: RwLock::new(HashMap::new()),
            aliases: RwLock::new(aliases),
            credentials,
            identities: IdentityCache::default(),
            usage: UsageBuffer::default(),
            audit: Arc::new(AuditLog::new()),
            chain_key,
            boot_id,
            grant_tokens,
            missing_keys: negative::NegativeCache::default(),
            missing_credentials: negative::NegativeCache::default(),
            coherent: std::sync::atomic::AtomicBool::new(true),
            shared: std::sync::atomic::AtomicBool::new(false),
            key_epoch: std::sync::atomic::AtomicU64::new(0),
            settle_due: std::sync::atomic::AtomicBool::new(false),
            trail_verification: tokio::sync::Mutex::new(None),
            write_lock: tokio::sync::Mutex::new(()),
            managed_lock: tokio::sync::Mutex::new(()),
            metrics: Arc::new(crate::metrics::Metrics::new()),
            xks: crate::xks::XksState::default(),
            quotas: std::sync::OnceLock::new(),
            dev_account: std::sync::OnceLock::new(),
            #[cfg(debug_assertions)]
            panic_on: std::sync::OnceLock::new(),
        })
    }

    /// Fault injection, compiled into debug builds only: every request for `operation` (its
    /// `TrentService` name) panics after it is decoded, as a bug would.
    #[cfg(debug_assertions)]
    pub fn inject_panic(&self, operation: &str) -> Result<(), String> {
        let op = trent_api::Operation::from_name(operation).ok_or_else(|| format!("no operation {operation}"))?;
        self.panic_on
            .set(op)
            .map_err(|_| "a fault is already injected".to_owned())
    }

    /// The default Region: the first the deployment serves.
    pub fn region(&self) -> &Region {
        // `open_with` refuses an empty list.
        self.regions
            .first()
            .unwrap_or_else(|| unreachable!("a service serves a Region"))
    }

    /// Every Region the deployment serves, the default first.
    pub fn regions(&self) -> &[Region] {
        &self.regions
    }

    /// The served Region of this name, if the deployment serves it.
    pub fn served_region(&self, name: &str) -> Option<&Region> {
        self.regions.iter().find(|r| r.as_str() == name)
    }

    /// The Region a request is for (its credential scope's; the default for in-process callers).
    pub(crate) fn region_of<'m>(&'m self, meta: &'m RequestMeta) -> &'m Region {
        meta.region.as_ref().unwrap_or_else(|| self.region())
    }

    pub fn credentials(&self) -> &CredentialCache {
        &self.credentials
    }

    /// The keyring as it is now (a rotation swaps it).
    pub(crate) fn root(&self) -> Arc<Keyring> {
        match self.root.read() {
            Ok(g) => Arc::clone(&g),
            Err(poisoned) => Arc::clone(&poisoned.into_inner()),
        }
    }

    pub(crate) fn set_root(&self, ring: Keyring) {
        match self.root.write() {
            Ok(mut g) => *g = Arc::new(ring),
            Err(poisoned) => *poisoned.into_inner() = Arc::new(ring),
        }
    }

    /// The secret derived keys (audit chain, grant tokens, material ids) come from.
    pub(crate) fn derivation(&self) -> &Arc<RootKey> {
        &self.derivation
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Runs a read on the blocking pool so the database never stalls the async executor.
    pub(crate) async fn read<T, F>(&self, f: F) -> Result<T, KmsError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn StoreRead) -> Result<T, StoreError> + Send + 'static,
    {
        let store = Arc::clone(&self.store);
        let metrics = Arc::clone(&self.metrics);
        tokio::task::spawn_blocking(move || {
            let started = std::time::Instant::now();
            let out = f(store.as_ref());
            metrics.store_call("read", started.elapsed());
            out
        })
        .await
        .map_err(KmsError::internal)?
        .map_err(KmsError::internal)
    }

    /// Applies request quotas from now on (once; an empty set changes nothing).
    pub fn set_quotas(&self, quotas: crate::quota::Quotas) {
        if !quotas.is_empty() {
            let _ = self.quotas.set(quotas);
        }
    }

    /// The service's metrics (the server records requests in them).
    pub fn metrics(&self) -> &crate::metrics::Metrics {
        &self.metrics
    }

    /// The metrics in Prometheus's text format, gauges read now.
    pub fn render_metrics(&self) -> String {
        let cached = self.keys.read().map(|m| m.len()).unwrap_or(0);
        self.metrics.render(self.audit.pending(), cached, false)
    }

    /// Runs a write (with the reads it needs) on the blocking pool. Needs an [`Authority`].
    /// Within a request that changes state, the request's audit event is written in the same
    /// transaction (see `pipeline::AuditScope`). Any store error is an internal error; see
    /// [`Self::try_write`] for writes whose store errors are answers.
    pub(crate) async fn write<T, F, A>(&self, authority: &A, f: F) -> Result<T, KmsError>
    where
        A: Authority + ?Sized,
        T: Send + 'static,
        F: FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
    {
        self.try_write(authority, f).await?.map_err(KmsError::internal)
    }

    /// [`Self::write`], handing back the store's error (`UniqueViolation`, `NotFound`, …) for
    /// the operation to answer with. A write that fails writes nothing — not its audit event
    /// either: the request's guard records it, with its error, as any failed request.
    pub(crate) async fn try_write<T, F, A>(&self, _authority: &A, f: F) -> Result<Result<T, StoreError>, KmsError>
    where
        A: Authority + ?Sized,
        T: Send + 'static,
        F: FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
    {
        let store = Arc::clone(&self.store);
        let metrics = Arc::clone(&self.metrics);
        let Some((scope, event)) = crate::pipeline::AuditScope::claim() else {
            return tokio::task::spawn_blocking(move || {
                let started = std::time::Instant::now();
                let out = f(store.as_ref());
                metrics.store_call("write", started.elapsed());
                out
            })
            .await
            .map_err(KmsError::internal);
        };
        let (log, key) = (Arc::clone(&self.audit), Arc::clone(&self.chain_key));
        let result = tokio::task::spawn_blocking(move || {
            let started = std::time::Instant::now();
            let out = log.write_with(store.as_ref(), &key, event, f);
            metrics.store_call("write", started.elapsed());
            out
        })
        .await
        .map_err(KmsError::internal)?;
        if result.is_err() {
            scope.release();
        }
        Ok(result)
    }

    /// This process's identity in the audit trail.
    pub(crate) fn boot_id(&self) -> &Arc<str> {
        &self.boot_id
    }

    /// The store for synchronous writes already running on the blocking pool.
    pub(crate) fn store_for<A: Authority + ?Sized>(&self, _authority: &A) -> Arc<dyn Store> {
        Arc::clone(&self.store)
    }

    // --- caches ---

    pub(crate) fn cached_key(&self, region: &Region, key_id: &KeyId) -> Option<Arc<LoadedKey>> {
        if !self.coherent() {
            return None;
        }
        self.keys
            .read()
            .ok()?
            .get(key_id)?
            .iter()
            .find(|k| k.record.region == *region)
            .cloned()
    }

    pub(crate) fn cache_key(&self, key: Arc<LoadedKey>) {
        self.missing_keys
            .forget(&(key.record.region.clone(), key.record.key_id));
        if let Ok(mut m) = self.keys.write() {
            let regional = m.entry(key.record.key_id).or_default();
            regional.retain(|k| k.record.region != key.record.region);
            regional.push(key);
        }
    }

    /// Drops a key, in every Region, from the cache; the next use reloads it.
    pub(crate) fn uncache(&self, key_id: &KeyId) {
        if let Ok(mut m) = self.keys.write() {
            m.remove(key_id);
        }
    }

    pub(crate) fn alias_target(&self, account: AccountId, region: &Region, name: &AliasName) -> Option<KeyId> {
        self.aliases
            .read()
            .ok()?
            .by_name
            .get(&(account, region.clone(), name.clone()))
            .copied()
    }

    pub(crate) fn set_alias_target(&self, account: AccountId, region: &Region, name: &AliasName, key: Option<KeyId>) {
        if let Ok(mut m) = self.aliases.write() {
            m.set(account, region, name, key);
        }
    }

    pub(crate) fn forget_key_aliases(&self, region: &Region, key: &KeyId) {
        if let Ok(mut m) = self.aliases.write() {
            m.forget_key(region, key);
        }
    }

    /// Alias names that point at a key (`kms:ResourceAliases`).
    pub(crate) fn aliases_of(&self, region: &Region, key_id: &KeyId) -> Vec<AliasName> {
        self.aliases
            .read()
            .ok()
            .and_then(|m| m.by_key.get(&(region.clone(), *key_id)).cloned())
            .unwrap_or_default()
    }

    /// Makes sure the credential cache holds an access key as the store has it now: one created
    /// elsewhere (another server, `trent admin create-account`) is loaded on first sight, and a
    /// cached one is read again once it is [`crate::credentials::RECHECK_MS`] old, so a key (or
    /// its user, or its session's role) deleted elsewhere stops authenticating here too.
    pub async fn ensure_credential(&self, access_key_id: &str) -> Result<(), KmsError> {
        if !self.credential_needs_read(access_key_id) {
            return Ok(());
        }
        self.read_credential(access_key_id).await
    }

    /// Whether the store must be read for this access key before the request is verified (see
    /// [`Self::ensure_credential`]); answering `true` claims the read.
    pub fn credential_needs_read(&self, access_key_id: &str) -> bool {
        !self.coherent() || self.credentials.needs_read(access_key_id, self.now_ms())
    }

    /// Reads an access key and its principal from the store into the credential cache (or out
    /// of it, when they are gone).
    pub async fn read_credential(&self, access_key_id: &str) -> Result<(), KmsError> {
        let now = self.now_ms();
        let id = access_key_id.to_owned();
        if self.missing_credentials.is_missing(&id, now) {
            return Ok(());
        }
        let root = self.root();
        let found = self
            .read(move |s| {
                let Some(r) = s.access_key(&id)? else { return Ok(None) };
                let entry =
                    crate::credentials::prepare(s, &root, &r).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                Ok(entry)
            })
            .await?;
        match found {
            Some(entry) => self.credentials.insert(entry, now),
            // Gone, inactive, or its user or role gone: forget it (it may have been cached).
            None => {
                self.credentials.remove(access_key_id);
                self.missing_credentials.remember(access_key_id.to_owned(), now);
            }
        }
        Ok(())
    }

    /// The caller a known access key authenticates as (tests, tools).
    pub fn caller_of(&self, access_key_id: &str) -> Option<Caller> {
        self.credentials.caller(access_key_id)
    }

    pub(crate) fn chain_key(&self) -> &Arc<ChainKey> {
        &self.chain_key
    }

    pub(crate) fn audit_log(&self) -> Arc<AuditLog> {
        Arc::clone(&self.audit)
    }
}
