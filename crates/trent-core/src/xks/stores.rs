//! Custom key stores of type `EXTERNAL_KEY_STORE` (reference §13): one versioned JSON document
//! per store in the store's entity table (kind `custom-key-store`, named by its id, per
//! account), holding its Region, name, proxy endpoint and path, connectivity, the proxy
//! credential's access key id and its secret sealed under the root key
//! (`Purpose::XksProxySecret`), and the connection state.
//!
//! A store is a control-plane record: at most ten per account and Region (reference §12), read
//! rarely. The documents are cached with the secret unsealed, and read again when a copy is a
//! second old, so a connection change made by another server of a cluster is seen within about
//! a second without a change feed of its own.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use base64::Engine as _;
use serde::{Deserialize, Serialize};
use trent_api::KmsError;
use trent_crypto::seal::Purpose;
use trent_crypto::SecretBytes;
use trent_store::{EntityKind, EntityRecord, StoreError};
use trent_types::{AccountId, Region};

use crate::Kms;

/// How long a cached store document is used before it is read again.
const FRESH_MS: i64 = 1_000;
/// Custom key stores per account and Region (reference §12, "Custom key stores per Region").
pub(crate) const MAX_PER_REGION: usize = 10;

/// `ConnectionState` (reference §13).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum ConnectionState {
    Connected,
    Connecting,
    Failed,
    Disconnected,
    Disconnecting,
}

impl ConnectionState {
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionState::Connected => "CONNECTED",
            ConnectionState::Connecting => "CONNECTING",
            ConnectionState::Failed => "FAILED",
            ConnectionState::Disconnected => "DISCONNECTED",
            ConnectionState::Disconnecting => "DISCONNECTING",
        }
    }
}

/// The `ConnectionErrorCode` values an external key store can have (reference §13).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum ConnectionError {
    InvalidCredentials,
    InternalError,
    NetworkErrors,
    XksProxyAccessDenied,
    XksProxyNotReachable,
    XksProxyInvalidResponse,
    XksProxyInvalidConfiguration,
    XksProxyTimedOut,
    XksProxyInvalidTlsConfiguration,
}

impl ConnectionError {
    pub fn as_str(self) -> &'static str {
        match self {
            ConnectionError::InvalidCredentials => "INVALID_CREDENTIALS",
            ConnectionError::InternalError => "INTERNAL_ERROR",
            ConnectionError::NetworkErrors => "NETWORK_ERRORS",
            ConnectionError::XksProxyAccessDenied => "XKS_PROXY_ACCESS_DENIED",
            ConnectionError::XksProxyNotReachable => "XKS_PROXY_NOT_REACHABLE",
            ConnectionError::XksProxyInvalidResponse => "XKS_PROXY_INVALID_RESPONSE",
            ConnectionError::XksProxyInvalidConfiguration => "XKS_PROXY_INVALID_CONFIGURATION",
            ConnectionError::XksProxyTimedOut => "XKS_PROXY_TIMED_OUT",
            ConnectionError::XksProxyInvalidTlsConfiguration => "XKS_PROXY_INVALID_TLS_CONFIGURATION",
        }
    }
}

/// One external key store, as stored (version 1).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StoreDoc {
    pub v: u32,
    pub id: String,
    pub region: String,
    pub name: String,
    pub created_ms: i64,
    pub uri_endpoint: String,
    pub uri_path: String,
    pub connectivity: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_endpoint_service_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vpc_endpoint_service_owner: Option<String>,
    pub access_key_id: String,
    /// Base64 of the secret access key sealed under the root key.
    pub sealed_secret: String,
    pub state: ConnectionState,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ConnectionError>,
}

impl StoreDoc {
    pub fn parse(body: &str) -> Result<StoreDoc, KmsError> {
        let doc: StoreDoc =
            serde_json::from_str(body).map_err(|e| KmsError::internal(format!("custom key store document: {e}")))?;
        if doc.v != 1 {
            return Err(KmsError::internal(format!(
                "custom key store document version {} is newer than this binary",
                doc.v
            )));
        }
        Ok(doc)
    }

    pub fn to_body(&self) -> Result<String, KmsError> {
        serde_json::to_string(self).map_err(KmsError::internal)
    }

    pub fn sealed_secret(&self) -> Result<Vec<u8>, KmsError> {
        base64::engine::general_purpose::STANDARD
            .decode(&self.sealed_secret)
            .map_err(|_| KmsError::internal("custom key store secret is not base64"))
    }

    /// `XksProxyUriEndpoint` + `XksProxyUriPath`: what two stores of one Region may not share
    /// (`XksProxyUriInUseException`).
    pub fn uri(&self) -> String {
        format!("{}{}", self.uri_endpoint, self.uri_path)
    }
}

/// A store document with its secret unsealed.
pub(crate) struct LoadedStore {
    pub doc: StoreDoc,
    /// The exact stored body (the compare-and-swap expectation of the next write).
    pub body: String,
    pub account: AccountId,
    pub secret: SecretBytes,
}

impl LoadedStore {
    pub fn region(&self) -> &str {
        &self.doc.region
    }
}

/// A cached store and when it was read.
type Cached = (i64, Arc<LoadedStore>);

/// Store documents by (account, id), with the time they were read.
#[derive(Default)]
pub(crate) struct StoreCache {
    map: RwLock<HashMap<(AccountId, String), Cached>>,
}

impl StoreCache {
    fn get(&self, account: AccountId, id: &str, now_ms: i64) -> Option<Arc<LoadedStore>> {
        let map = self.map.read().ok()?;
        let (at, s) = map.get(&(account, id.to_owned()))?;
        (now_ms - at < FRESH_MS).then(|| Arc::clone(s))
    }

    fn put(&self, s: Arc<LoadedStore>, now_ms: i64) {
        if let Ok(mut map) = self.map.write() {
            map.insert((s.account, s.doc.id.clone()), (now_ms, s));
        }
    }

    pub fn forget(&self, account: AccountId, id: &str) {
        if let Ok(mut map) = self.map.write() {
            map.remove(&(account, id.to_owned()));
        }
    }
}

impl Kms {
    /// Unseals a store's document.
    fn open_store(&self, account: AccountId, body: String) -> Result<LoadedStore, KmsError> {
        let doc = StoreDoc::parse(&body)?;
        let secret = self
            .root()
            .unseal(Purpose::XksProxySecret, &doc.id, &doc.sealed_secret()?)
            .map_err(|_| KmsError::internal(format!("the proxy secret of {} does not open", doc.id)))?;
        Ok(LoadedStore {
            doc,
            body,
            account,
            secret,
        })
    }

    /// Seals a proxy secret for the store `id`, as stored in its document.
    pub(crate) fn seal_proxy_secret(&self, id: &str, secret: &SecretBytes) -> Result<String, KmsError> {
        let sealed = trent_crypto::seal::seal(self.root().current(), Purpose::XksProxySecret, id, secret)
            .map_err(KmsError::internal)?;
        Ok(encode_sealed(&sealed))
    }

    /// The account's store `id` in `region` (a store of another Region is not found, as in
    /// AWS), from a copy at most a second old.
    pub(crate) async fn custom_key_store(
        &self,
        account: AccountId,
        region: &Region,
        id: &str,
    ) -> Result<Option<Arc<LoadedStore>>, KmsError> {
        let now = self.now_ms();
        let loaded = match self.xks.stores.get(account, id, now) {
            Some(s) => Some(s),
            None => {
                let name = id.to_owned();
                let entity = self
                    .read(move |s| s.entity(&account, EntityKind::CustomKeyStore, &name))
                    .await?;
                match entity {
                    None => None,
                    Some(e) => {
                        let s = Arc::new(self.open_store(account, e.body)?);
                        self.xks.stores.put(Arc::clone(&s), now);
                        Some(s)
                    }
                }
            }
        };
        Ok(loaded.filter(|s| s.doc.region == region.as_str()))
    }

    /// [`Self::custom_key_store`], or `CustomKeyStoreNotFoundException` when there is none.
    pub(crate) async fn existing_custom_key_store(
        &self,
        account: AccountId,
        region: &Region,
        id: &str,
    ) -> Result<Arc<LoadedStore>, KmsError> {
        self.custom_key_store(account, region, id)
            .await?
            .ok_or_else(|| not_found(id))
    }

    /// Every store of the account in `region`, by id.
    pub(crate) async fn custom_key_stores(
        &self,
        account: AccountId,
        region: &Region,
    ) -> Result<Vec<StoreDoc>, KmsError> {
        let entities = self
            .read(move |s| s.entities(&account, EntityKind::CustomKeyStore))
            .await?;
        let mut out = Vec::new();
        for e in entities {
            let doc = StoreDoc::parse(&e.body)?;
            if doc.region == region.as_str() {
                out.push(doc);
            }
        }
        out.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(out)
    }

    /// Writes a store document over `expected` (its body as read; `None` to create it). A
    /// document changed meanwhile is `Err(Conflict)` for the caller to answer.
    pub(crate) async fn put_custom_key_store<A: crate::service::Authority + ?Sized>(
        &self,
        authority: &A,
        account: AccountId,
        doc: &StoreDoc,
        expected: Option<String>,
    ) -> Result<Result<(), StoreError>, KmsError> {
        let record = EntityRecord {
            account_id: account,
            kind: EntityKind::CustomKeyStore,
            name: doc.id.clone(),
            body: doc.to_body()?,
        };
        let id = doc.id.clone();
        let out = self
            .try_write(authority, move |s| match &expected {
                None => s.put_entity(&record, false),
                Some(old) => s.replace_entity(&record, old),
            })
            .await?;
        self.xks.stores.forget(account, &id);
        Ok(out)
    }
}

impl Kms {
    /// Runs the first health check of every store waiting in `CONNECTING` (ConnectCustomKeyStore
    /// is asynchronous): `CONNECTED`, or `FAILED` with the `ConnectionErrorCode` of what went
    /// wrong. Run by the audit flusher's tick after a Connect, and by the leader's scheduler so
    /// a store left `CONNECTING` by a restart is settled too. Returns how many were settled.
    pub async fn connect_custom_key_stores(&self) -> Result<usize, KmsError> {
        let waiting = self
            .read(|s| {
                let mut out = Vec::new();
                for a in s.accounts()? {
                    for e in s.entities(&a.account_id, EntityKind::CustomKeyStore)? {
                        out.push(e);
                    }
                }
                Ok(out)
            })
            .await?;
        let system = crate::service::System::new();
        let mut n = 0;
        for e in waiting {
            let doc = StoreDoc::parse(&e.body)?;
            if doc.state != ConnectionState::Connecting {
                continue;
            }
            let store = self.open_store(e.account_id, e.body)?;
            let request_id = uuid::Uuid::new_v4().to_string();
            let outcome = super::client::health(
                self,
                &super::client::Proxy::of(&store),
                "ConnectCustomKeyStore",
                &request_id,
            )
            .await;
            let mut doc = store.doc.clone();
            match &outcome {
                Ok(()) => {
                    doc.state = ConnectionState::Connected;
                    doc.error = None;
                }
                Err(f) => {
                    doc.state = ConnectionState::Failed;
                    doc.error = Some(f.connection_error());
                }
            }
            // Changed meanwhile (disconnected, updated, deleted): the change stands.
            match self
                .put_custom_key_store(&system, store.account, &doc, Some(store.body.clone()))
                .await?
            {
                Ok(()) => {
                    n += 1;
                    tracing::info!(custom_key_store = %doc.id, state = doc.state.as_str(), error = doc.error.map(|e| e.as_str()), "custom key store connection settled");
                }
                Err(StoreError::Conflict | StoreError::NotFound) => {}
                Err(err) => return Err(KmsError::internal(err)),
            }
        }
        Ok(n)
    }
}

/// `CustomKeyStoreNotFoundException` for a store id the account does not have in the Region.
pub(crate) fn not_found(id: &str) -> KmsError {
    KmsError::CustomKeyStoreNotFound(format!(
        "Custom key store ID {id} does not exist in this account and Region."
    ))
}

/// The stored (Base64) form of a sealed proxy secret.
pub(crate) fn encode_sealed(sealed: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(sealed)
}

/// A new custom key store id: `cks-` and 17 hex digits, AWS's shape.
pub(crate) fn new_store_id() -> Result<String, KmsError> {
    let bytes = trent_crypto::random::array::<9>().map_err(KmsError::internal)?;
    let mut hex = hex::encode(bytes);
    hex.truncate(17);
    Ok(format!("cks-{hex}"))
}
