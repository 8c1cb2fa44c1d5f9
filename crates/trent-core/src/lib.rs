//! The Trent key management service: everything between an authenticated, routed request and the
//! store. One module per KMS operation under [`ops`], named as AWS names it; the shared steps
//! (decode, resolve key, check key state, authorize, persist) are written once here and in
//! [`keys`], [`state`] and [`dispatch`].
//!
//! Must not depend on HTTP or on a concrete SQL backend: storage is reached only through
//! `trent_store::Store`, always off the async executor ([`Kms::db`]).

#![forbid(unsafe_code)]

pub mod audit;
pub mod authz;
pub mod bootstrap;
pub mod clock;
pub mod credentials;
mod dispatch;
pub mod facts;
pub mod grants;
pub mod iam;
pub mod ids;
pub mod keys;
pub mod managed;
pub mod ops;
pub mod policy;
pub mod rootkey;
pub mod rotation;
pub mod scheduler;
pub mod simulate;
pub mod spec;
pub mod state;
pub mod usage;
pub mod validate;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use trent_api::KmsError;
use trent_crypto::RootKey;
use trent_store::{Store, StoreError};

pub use clock::{Clock, ManualClock, SystemClock};
pub use credentials::{Caller, CredentialCache};
pub use ids::Location;

/// Per-request facts from the transport.
#[derive(Debug, Clone, Default)]
pub struct RequestMeta {
    pub request_id: String,
    pub source_ip: Option<String>,
}

/// Static configuration of a service instance.
#[derive(Debug, Clone)]
pub struct Config {
    pub region: String,
}

/// The service. Cheap to share behind an `Arc`; all state is internally synchronised.
pub struct Kms {
    store: Arc<dyn Store>,
    root: Arc<RootKey>,
    clock: Arc<dyn Clock>,
    loc: Location,
    /// Decrypted keys by key id: the hot path reads only this (never the database) once warm.
    keys: RwLock<HashMap<String, Arc<keys::LoadedKey>>>,
    /// (account, alias name) → key id, loaded at start and written through.
    aliases: RwLock<HashMap<(String, String), String>>,
    credentials: CredentialCache,
    /// Parsed identity policies by principal.
    identities: authz::IdentityCache,
    /// Last uses not yet written to the store.
    usage: usage::UsageBuffer,
    /// Audit events not yet written to the store.
    audit: audit::AuditBuffer,
    /// Serialises read-modify-write of key records within this process.
    write: tokio::sync::Mutex<()>,
}

fn store_err(e: StoreError) -> KmsError {
    KmsError::internal(e)
}

impl Kms {
    /// Opens the service over `store`, loading credentials and aliases into memory.
    pub fn open(store: Arc<dyn Store>, root: RootKey, clock: Arc<dyn Clock>, config: Config) -> Result<Self, KmsError> {
        let credentials = CredentialCache::default();
        credentials.load(store.as_ref(), &root)?;
        let mut aliases = HashMap::new();
        for a in store.all_aliases().map_err(store_err)? {
            aliases.insert((a.account_id, a.name), a.target_key_id);
        }
        Ok(Self {
            store,
            root: Arc::new(root),
            clock,
            loc: Location { region: config.region },
            keys: RwLock::new(HashMap::new()),
            aliases: RwLock::new(aliases),
            credentials,
            identities: authz::IdentityCache::default(),
            usage: usage::UsageBuffer::default(),
            audit: audit::AuditBuffer::default(),
            write: tokio::sync::Mutex::new(()),
        })
    }

    /// A shared handle on the root key, for sealing work moved to the blocking pool.
    pub(crate) fn root_copy(&self) -> Arc<RootKey> {
        Arc::clone(&self.root)
    }

    pub fn location(&self) -> &Location {
        &self.loc
    }

    pub fn credentials(&self) -> &CredentialCache {
        &self.credentials
    }

    /// Makes sure an access key created elsewhere (another server, `trent admin
    /// create-account`) is in the credential cache; the store is read only on a cache miss.
    pub async fn ensure_credential(&self, access_key_id: &str) -> Result<(), KmsError> {
        if self.credentials.contains(access_key_id) {
            return Ok(());
        }
        let id = access_key_id.to_owned();
        let found = self
            .db(move |s| {
                let Some(r) = s.access_key(&id)?.filter(|r| r.status == "Active") else {
                    return Ok(None);
                };
                let principal = credentials::principal_of(s, &r).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                Ok(Some((r, principal)))
            })
            .await?;
        if let Some((r, principal)) = found {
            self.credentials.insert_with_principal(&self.root, &r, principal)?;
        }
        Ok(())
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Runs a store call on the blocking pool so SQLite never stalls the async executor.
    pub async fn db<T, F>(&self, f: F) -> Result<T, KmsError>
    where
        T: Send + 'static,
        F: FnOnce(&dyn Store) -> Result<T, StoreError> + Send + 'static,
    {
        let store = Arc::clone(&self.store);
        tokio::task::spawn_blocking(move || f(store.as_ref()))
            .await
            .map_err(KmsError::internal)?
            .map_err(store_err)
    }

    /// Answers one KMS request for an authenticated caller: decode → operation → encode.
    pub async fn handle(
        &self,
        caller: &Caller,
        op: trent_api::Operation,
        body: &[u8],
        meta: &RequestMeta,
    ) -> Result<Vec<u8>, KmsError> {
        dispatch::dispatch(self, caller, op, body, meta).await
    }
}
