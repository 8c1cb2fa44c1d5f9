//! Trent's calls to an external key store's proxy, and what their failures become.
//!
//! AWS KMS cannot add exceptions for external key stores, so a proxy failure is answered with
//! the exception of the operation that met it and a message naming the failure — the table of
//! the specification's "Error codes" section, whose texts are kept word for word:
//! Create/UpdateCustomKeyStore answer `XksProxy*Exception`s, CreateKey answers
//! `CustomKeyStoreInvalidStateException` / `XksKey*Exception`, cryptographic operations
//! answer `KMSInvalidStateException`. ConnectCustomKeyStore records a `ConnectionErrorCode`.

use serde::de::DeserializeOwned;
use trent_api::xks::{self as wire, ErrorName, RequestMetadata};
use trent_api::{Blob, KmsError, SensitiveBlob};
use trent_crypto::SecretBytes;

use super::stores::{ConnectionError, LoadedStore};
use super::{ProxyTarget, TransportError};
use crate::Kms;

/// Why a proxy call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Failure {
    /// The proxy answered this error.
    Proxy(ErrorName),
    /// No answer.
    Transport(TransportError),
    /// An answer that is not what the specification says (or an error without a JSON body).
    Malformed,
    /// Decrypt answered, but what it answered does not decrypt.
    BadPlaintext,
    /// The store is not `CONNECTED`.
    NotConnected,
}

pub(crate) const NOT_CONNECTED: &str = "This KMS key is in a custom key store that is not connected to its external key store proxy. Connect the external key store and try the request again.";
const UNINTERPRETABLE: &str = "AWS KMS cannot interpret the response from the external key store proxy. If you see this error repeatedly, report it to your external key store proxy administrator.";

impl Failure {
    /// The specification's message for this failure ("Error codes", KMS considerations).
    pub fn message(&self) -> &'static str {
        match self {
            Failure::Proxy(ErrorName::Validation) | Failure::Malformed => UNINTERPRETABLE,
            Failure::Proxy(ErrorName::InvalidState) => "The external key associated with this KMS key in an external key store is not enabled in the external key manager. Enable the external key in the external key manager and retry the request.",
            Failure::Proxy(ErrorName::InvalidCiphertext) => "The external key store proxy rejected the request because the specified ciphertext or encryption context is corrupted, missing, or otherwise invalid.",
            Failure::BadPlaintext => "The ciphertext that the external key store proxy submitted for decryption, or the encryption context, is corrupted, missing, or otherwise invalid.",
            Failure::Proxy(ErrorName::InvalidKeyUsage) => "The external key associated with this KMS key in an external key store does not support the requested operation. Enable the operation on the key in your external key manager, and try the request again.",
            Failure::Proxy(ErrorName::AuthenticationFailed) => "The external key store proxy rejected the request because it could not authenticate AWS KMS. Verify the XKS proxy authentication credentials for your external key store and update if necessary.",
            Failure::Proxy(ErrorName::AccessDenied) => "The external key store proxy denied access to the operation. Verify that the user and the external key are both authorized for this operation, and try the request again.",
            Failure::Proxy(ErrorName::KeyNotFound) => "The external key associated with this KMS key in an external key store was not found in its external key manager. If the external key ID associated with this KMS key is incorrect, create a new KMS key with the correct external key ID.",
            Failure::Proxy(ErrorName::InvalidUriPath) => "The external key store proxy rejected the request because of an invalid URI path. Verify the URI path for your external key store and update if necessary.",
            Failure::Proxy(ErrorName::UnsupportedOperation) => "The external key store proxy rejected the request because it does not support the requested operation. If you see this error repeatedly, report it to your external key store proxy administrator.",
            Failure::Proxy(ErrorName::DependencyTimeout) => "The external key store proxy did not respond to the request in the time allotted. Retry the request. If you see this error repeatedly, report it to your external key store proxy administrator.",
            Failure::Proxy(ErrorName::Throttling) => "The external key store proxy rejected the request due to a very high request rate. Reduce the frequency of your calls using KMS keys in this external key store.",
            Failure::Proxy(ErrorName::Internal) => "The external key store proxy rejected the request because it cannot communicate with the external key manager. Verify that the external key store proxy configuration is correct and that the external key manager is available.",
            Failure::Transport(TransportError::Connect(_)) => "AWS KMS cannot communicate with the external key store proxy. This might be a transient network issue. If you see this error repeatedly, verify that your external key store proxy is active and is connected to the network, and that its endpoint URI is correct in your external keystore.",
            Failure::Transport(TransportError::Tls(_)) => "AWS KMS cannot establish a TLS connection to the external key store proxy. Verify the TLS configuration, including its certificate.",
            Failure::Transport(TransportError::Timeout) => "AWS KMS rejected the request because the external key store proxy did not respond in time. Retry the request. If you see this error repeatedly, report it to your external key store proxy administrator.",
            Failure::NotConnected => NOT_CONNECTED,
        }
    }

    /// CreateCustomKeyStore / UpdateCustomKeyStore.
    pub fn for_admin(&self) -> KmsError {
        let m = self.message().to_owned();
        match self {
            Failure::Proxy(ErrorName::AuthenticationFailed) => KmsError::XksProxyIncorrectAuthenticationCredential(m),
            Failure::Proxy(ErrorName::InvalidUriPath) => KmsError::XksProxyInvalidConfiguration(m),
            Failure::Proxy(ErrorName::DependencyTimeout | ErrorName::Throttling) | Failure::Transport(_) => {
                KmsError::XksProxyUriUnreachable(m)
            }
            Failure::NotConnected => KmsError::CustomKeyStoreInvalidState(m),
            Failure::Proxy(_) | Failure::Malformed | Failure::BadPlaintext => KmsError::XksProxyInvalidResponse(m),
        }
    }

    /// CreateKey (its GetKeyMetadata call).
    pub fn for_create_key(&self) -> KmsError {
        let m = self.message().to_owned();
        match self {
            Failure::Proxy(ErrorName::InvalidState | ErrorName::InvalidKeyUsage) => {
                KmsError::XksKeyInvalidConfiguration(m)
            }
            Failure::Proxy(ErrorName::KeyNotFound) => KmsError::XksKeyNotFound(m),
            Failure::Proxy(ErrorName::AccessDenied) => KmsError::InvalidState(m),
            Failure::Proxy(_)
            | Failure::Transport(_)
            | Failure::Malformed
            | Failure::BadPlaintext
            | Failure::NotConnected => KmsError::CustomKeyStoreInvalidState(m),
        }
    }

    /// Encrypt, Decrypt, ReEncrypt, GenerateDataKey*.
    pub fn for_crypto(&self) -> KmsError {
        KmsError::InvalidState(self.message().to_owned())
    }

    /// What a failed connection attempt records (`ConnectionErrorCode`).
    pub fn connection_error(&self) -> ConnectionError {
        match self {
            Failure::Proxy(ErrorName::AuthenticationFailed) => ConnectionError::InvalidCredentials,
            Failure::Proxy(ErrorName::AccessDenied) => ConnectionError::XksProxyAccessDenied,
            Failure::Proxy(ErrorName::InvalidUriPath) => ConnectionError::XksProxyInvalidConfiguration,
            Failure::Proxy(ErrorName::DependencyTimeout) | Failure::Transport(TransportError::Timeout) => {
                ConnectionError::XksProxyTimedOut
            }
            Failure::Transport(TransportError::Connect(_)) => ConnectionError::XksProxyNotReachable,
            Failure::Transport(TransportError::Tls(_)) => ConnectionError::XksProxyInvalidTlsConfiguration,
            Failure::Proxy(ErrorName::Throttling) => ConnectionError::NetworkErrors,
            Failure::Proxy(_) | Failure::Malformed | Failure::BadPlaintext => ConnectionError::XksProxyInvalidResponse,
            Failure::NotConnected => ConnectionError::InternalError,
        }
    }
}

/// The proxy configuration a call goes to: a store's, or one being tried out (Create/Update).
pub(crate) struct Proxy<'a> {
    pub endpoint: &'a str,
    pub uri_path: &'a str,
    pub region: &'a str,
    pub access_key_id: &'a str,
    pub secret: &'a SecretBytes,
}

impl<'a> Proxy<'a> {
    pub fn of(store: &'a LoadedStore) -> Proxy<'a> {
        Proxy {
            endpoint: &store.doc.uri_endpoint,
            uri_path: &store.doc.uri_path,
            region: store.region(),
            access_key_id: &store.doc.access_key_id,
            secret: &store.secret,
        }
    }
}

/// Posts one request and reads its answer.
async fn call<T: DeserializeOwned>(kms: &Kms, proxy: &Proxy<'_>, suffix: &str, body: Vec<u8>) -> Result<T, Failure> {
    let Some(transport) = kms.xks.transport.get() else {
        return Err(Failure::Transport(TransportError::Connect("no proxy transport".into())));
    };
    let target = ProxyTarget {
        endpoint: proxy.endpoint.to_owned(),
        path: format!("{}{suffix}", proxy.uri_path),
        region: proxy.region.to_owned(),
        access_key_id: proxy.access_key_id.to_owned(),
        secret: SecretBytes::new(proxy.secret.expose().to_vec()),
    };
    let reply = transport.post(&target, body).await.map_err(Failure::Transport)?;
    if reply.status == 200 {
        return serde_json::from_slice(&reply.body).map_err(|_| Failure::Malformed);
    }
    let error: wire::ErrorBody = serde_json::from_slice(&reply.body).map_err(|_| Failure::Malformed)?;
    match ErrorName::parse(&error.error_name) {
        Some(name) => {
            tracing::info!(proxy = %proxy.endpoint, error = name.as_str(), status = reply.status, "external key store proxy refused a request");
            Err(Failure::Proxy(name))
        }
        None => Err(Failure::Malformed),
    }
}

fn body<T: serde::Serialize>(v: &T) -> Result<Vec<u8>, Failure> {
    serde_json::to_vec(v).map_err(|_| Failure::Malformed)
}

/// GetHealthStatus, as Create/Update/ConnectCustomKeyStore call it.
pub(crate) async fn health(kms: &Kms, proxy: &Proxy<'_>, kms_operation: &str, request_id: &str) -> Result<(), Failure> {
    let req = wire::MetadataOnly {
        request_metadata: RequestMetadata {
            kms_operation: kms_operation.to_owned(),
            kms_request_id: request_id.to_owned(),
            ..RequestMetadata::default()
        },
    };
    let out: wire::HealthResponse = call(kms, proxy, "/health", body(&req)?).await?;
    // "xksProxyFleetSize … MUST be an integer greater than zero"; "at least one and no more than
    // ten entries in ekmFleetDetails".
    if out.xks_proxy_fleet_size == 0 || out.ekm_fleet_details.is_empty() || out.ekm_fleet_details.len() > 10 {
        return Err(Failure::Malformed);
    }
    Ok(())
}

/// GetKeyMetadata for CreateKey: the external key must be `AES_256`, allow `ENCRYPT` and
/// `DECRYPT`, and be `ENABLED` (spec "GetKeyMetadata", KMS considerations).
pub(crate) async fn check_external_key(
    kms: &Kms,
    proxy: &Proxy<'_>,
    xks_key_id: &str,
    metadata: RequestMetadata,
) -> Result<(), KmsError> {
    let req = wire::MetadataOnly {
        request_metadata: metadata,
    };
    let path = format!("/keys/{xks_key_id}/metadata");
    let out: wire::KeyMetadataResponse = call(kms, proxy, &path, body(&req).map_err(|f| f.for_create_key())?)
        .await
        .map_err(|f| f.for_create_key())?;
    if out.key_usage.len() > 10 {
        return Err(Failure::Malformed.for_create_key());
    }
    let usable = out.key_spec == "AES_256"
        && out.key_usage.iter().any(|u| u == "ENCRYPT")
        && out.key_usage.iter().any(|u| u == "DECRYPT");
    if !usable {
        return Err(KmsError::XksKeyInvalidConfiguration(format!(
            "The external key {xks_key_id} is not a 256-bit AES key that allows ENCRYPT and DECRYPT (keySpec {}, keyUsage {:?}).",
            out.key_spec, out.key_usage
        )));
    }
    if out.key_status != "ENABLED" {
        return Err(Failure::Proxy(ErrorName::InvalidState).for_create_key());
    }
    Ok(())
}

/// What the proxy's Encrypt made.
pub(crate) struct Encrypted {
    pub iv: Vec<u8>,
    pub ciphertext: Vec<u8>,
    pub tag: Vec<u8>,
    pub metadata: Vec<u8>,
}

/// Encrypt under the external key, asking for the CDIV and checking it (spec Appendix C: a
/// corrupted answer is found before the caller keeps the ciphertext and forgets its data key).
pub(crate) async fn encrypt(
    kms: &Kms,
    proxy: &Proxy<'_>,
    xks_key_id: &str,
    metadata: RequestMetadata,
    plaintext: &[u8],
    aad: &[u8],
) -> Result<Encrypted, Failure> {
    let req = wire::EncryptRequest {
        request_metadata: metadata,
        plaintext: SensitiveBlob::new(zeroize::Zeroizing::new(plaintext.to_vec())),
        encryption_algorithm: "AES_GCM".into(),
        additional_authenticated_data: Some(Blob(aad.to_vec())),
        ciphertext_data_integrity_value_algorithm: Some("SHA_256".into()),
    };
    let out: wire::EncryptResponse = call(kms, proxy, &format!("/keys/{xks_key_id}/encrypt"), body(&req)?).await?;
    let metadata = out.ciphertext_metadata.map(|b| b.0).unwrap_or_default();
    let shaped = out.ciphertext.0.len() == plaintext.len()
        && matches!(out.initialization_vector.0.len(), 12 | 16)
        && out.authentication_tag.0.len() == 16
        && metadata.len() <= trent_crypto::xks::MAX_METADATA;
    if !shaped {
        return Err(Failure::Malformed);
    }
    let expected = trent_crypto::xks::cdiv(
        aad,
        &metadata,
        &out.initialization_vector.0,
        &out.ciphertext.0,
        &out.authentication_tag.0,
    );
    let given = out.ciphertext_data_integrity_value.ok_or(Failure::Malformed)?;
    if !bool::from(subtle::ConstantTimeEq::ct_eq(given.0.as_slice(), expected.as_slice())) {
        return Err(Failure::Malformed);
    }
    Ok(Encrypted {
        iv: out.initialization_vector.0,
        ciphertext: out.ciphertext.0,
        tag: out.authentication_tag.0,
        metadata,
    })
}

/// Decrypt under the external key.
pub(crate) async fn decrypt(
    kms: &Kms,
    proxy: &Proxy<'_>,
    xks_key_id: &str,
    metadata: RequestMetadata,
    parts: &trent_crypto::xks::OuterBlob<'_>,
) -> Result<SecretBytes, Failure> {
    let req = wire::DecryptRequest {
        request_metadata: metadata,
        ciphertext: Blob(parts.ciphertext.to_vec()),
        ciphertext_metadata: (!parts.metadata.is_empty()).then(|| Blob(parts.metadata.to_vec())),
        encryption_algorithm: "AES_GCM".into(),
        additional_authenticated_data: Some(Blob(parts.aad.to_vec())),
        initialization_vector: Blob(parts.iv.to_vec()),
        authentication_tag: Blob(parts.tag.to_vec()),
    };
    let out: wire::DecryptResponse = call(kms, proxy, &format!("/keys/{xks_key_id}/decrypt"), body(&req)?).await?;
    if out.plaintext.len() != parts.ciphertext.len() {
        return Err(Failure::Malformed);
    }
    Ok(SecretBytes::new(out.plaintext.expose().to_vec()))
}
