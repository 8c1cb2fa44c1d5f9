//! External key stores, both ways (AWS "External Key Store Proxy API Specification", v1):
//!
//! - [`proxy`]: **Trent as an XKS proxy.** AWS KMS (or another Trent) keeps keys in this Trent:
//!   GetHealthStatus, GetKeyMetadata, Encrypt and Decrypt on Trent keys, each authenticated by
//!   an XKS proxy credential (an access key of an IAM user, shaped as the specification wants)
//!   and authorized by the key's policy, IAM and grants as `kms:DescribeKey`, `kms:Encrypt` and
//!   `kms:Decrypt` for that user — so "which credential may use which key" is a key policy.
//! - [`stores`] and [`client`]: **Trent using an external key store.** Custom key stores of type
//!   `EXTERNAL_KEY_STORE` (documents in the store, the proxy secret sealed under the root key),
//!   their connection states, and the proxy calls made for keys with
//!   `Origin=EXTERNAL_KEY_STORE`, whose ciphertexts are encrypted twice
//!   ([`trent_crypto::xks`]).
//!
//! The HTTP side of both is not here (this crate does no HTTP): the server serves the proxy
//! listener, and a [`Transport`] it provides carries the client's calls.

pub(crate) mod client;
pub(crate) mod envelope;
pub(crate) mod proxy;
pub(crate) mod stores;

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};

use trent_crypto::SecretBytes;

pub use proxy::{ProxyCall, ProxyOp};

/// Where one external key store's proxy is and how to sign for it.
pub struct ProxyTarget {
    /// `https://host[:port]` (`XksProxyUriEndpoint`).
    pub endpoint: String,
    /// The request path: `XksProxyUriPath` and the operation's suffix.
    pub path: String,
    /// The Region the request is signed for (the KMS key's).
    pub region: String,
    pub access_key_id: String,
    pub secret: SecretBytes,
}

/// What a proxy answered: its status and body (JSON either way).
pub struct ProxyReply {
    pub status: u16,
    pub body: Vec<u8>,
}

/// Why a call got no answer (the specification's "cannot establish a TCP connection", "…a TLS
/// connection", "socket timeout").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportError {
    Connect(String),
    Tls(String),
    Timeout,
}

/// The future of one proxy call.
pub type ProxyFuture<'a> = Pin<Box<dyn Future<Output = Result<ProxyReply, TransportError>> + Send + 'a>>;

/// Carries proxy calls: signs them with SigV4 (service `kms-xks-proxy`) and posts them over
/// TLS. Provided by the server; without one every proxy is unreachable.
pub trait Transport: Send + Sync {
    fn post<'a>(&'a self, target: &'a ProxyTarget, body: Vec<u8>) -> ProxyFuture<'a>;
}

/// The service's external-key-store state.
#[derive(Default)]
pub(crate) struct XksState {
    pub transport: OnceLock<Arc<dyn Transport>>,
    pub stores: stores::StoreCache,
    /// Whether stores wait in `CONNECTING` for their first health check (see `jobs`).
    pub connect_due: std::sync::atomic::AtomicBool,
}

impl crate::Kms {
    /// Carries Trent's calls to external key store proxies from now on (once).
    pub fn set_xks_transport(&self, transport: Arc<dyn Transport>) {
        let _ = self.xks.transport.set(transport);
    }
}
