//! Trent as an XKS proxy: the four operations of the specification on Trent's own keys.
//!
//! - **Who**: the server verified the request's SigV4 signature (service `kms-xks-proxy`) with
//!   an XKS proxy credential — an access key of an IAM user made by `trent admin
//!   create-xks-credential` — so the caller is that user.
//! - **Which key**: `externalKeyId` is a Trent key id, looked up in the Region the path prefix
//!   names (`/<region>/kms/xks/v1`), else the default Region. Unknown → `KeyNotFoundException`.
//! - **May it**: the key's policy, IAM and grants decide, as for that user calling
//!   `kms:DescribeKey` (GetKeyMetadata), `kms:Encrypt` or `kms:Decrypt` — the specification's
//!   optional secondary authorization, in the policy language the key already has. Refused →
//!   `AccessDeniedException` (403). GetHealthStatus is exempt, as the specification requires.
//! - **What**: AES-256-GCM under the key's current material with a fresh 96-bit IV and the AAD
//!   AWS sends, `ciphertextMetadata` naming the material version (`0x01 ‖` the first 16 bytes of
//!   its id) so rotation keeps old ciphertexts decryptable; the CDIV of Appendix C when asked,
//!   computed before a check decryption. Only enabled `SYMMETRIC_DEFAULT` keys whose material
//!   Trent holds serve (`InvalidStateException`, `InvalidKeyUsageException` otherwise).
//! - **Audit**: every request is an event of source `kms-xks-proxy` named after the operation,
//!   whose parameters are the `requestMetadata` (AWS's request id, principal, key ARN,
//!   operation) and the external key id; plaintexts never are.

use std::sync::Arc;

use trent_api::xks::{self as wire, ErrorName, XksError};
use trent_api::{Action, Blob, KmsError, Operation, SensitiveBlob};
use trent_audit::{Parameters, Source};
use trent_types::{KeyId, KeySpec, KeyState, KeyUsage, Origin};

use crate::authz::facts::NoFacts;
use crate::authz::Authorizer;
use crate::credentials::Caller;
use crate::keys::LoadedKey;
use crate::pipeline::Recorder;
use crate::service::{Kms, RequestMeta};

/// The four operations (spec "API operations").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProxyOp {
    Health,
    Metadata,
    Encrypt,
    Decrypt,
}

impl ProxyOp {
    pub fn name(self) -> &'static str {
        match self {
            ProxyOp::Health => "GetHealthStatus",
            ProxyOp::Metadata => "GetKeyMetadata",
            ProxyOp::Encrypt => "Encrypt",
            ProxyOp::Decrypt => "Decrypt",
        }
    }
}

/// One routed request: the operation and, for key operations, the `externalKeyId` of its path.
#[derive(Debug, Clone, Copy)]
pub struct ProxyCall<'a> {
    pub op: ProxyOp,
    pub key: Option<&'a str>,
}

/// A request body, decoded for its operation.
enum Body {
    Metadata(wire::MetadataOnly),
    Encrypt(wire::EncryptRequest),
    Decrypt(wire::DecryptRequest),
}

/// `ciphertextMetadata` version byte.
const METADATA_V1: u8 = 1;
/// Bytes of the material id a ciphertext names.
const MATERIAL_PREFIX: usize = 16;

fn invalid(name: ErrorName, message: &str) -> XksError {
    XksError::new(name, message)
}

fn decode<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, XksError> {
    serde_json::from_slice(body).map_err(|e| {
        // The parser's position and expectation, never the input (it may hold a plaintext).
        let what = match e.classify() {
            serde_json::error::Category::Data => "a member is missing or has the wrong type or encoding",
            _ => "the body is not a JSON object",
        };
        invalid(ErrorName::Validation, &format!("The request body is invalid: {what}."))
    })
}

fn record_metadata(p: &mut Parameters, m: &wire::RequestMetadata) {
    let mut put = |name: &'static str, v: &Option<String>| {
        if let Some(v) = v {
            let text: String = v.chars().take(2048).collect();
            p.push(name, text);
        }
    };
    put("awsPrincipalArn", &m.aws_principal_arn);
    put("awsSourceVpc", &m.aws_source_vpc);
    put("awsSourceVpce", &m.aws_source_vpce);
    put("kmsKeyArn", &m.kms_key_arn);
    put("kmsOperation", &Some(m.kms_operation.clone()));
    put("kmsRequestId", &Some(m.kms_request_id.clone()));
    put("kmsViaService", &m.kms_via_service);
}

impl Kms {
    /// Serves one XKS proxy request from an authenticated caller; the answer is the JSON body
    /// of a 200, or the error to render.
    pub async fn handle_xks(
        &self,
        caller: &Caller,
        call: ProxyCall<'_>,
        body: &[u8],
        meta: &RequestMeta,
    ) -> Result<Vec<u8>, XksError> {
        let mut recorder = Recorder::new(self, caller, meta, Source::XksProxy, call.op.name(), true);
        let result = self.serve_xks(caller, call, body, meta, &mut recorder).await;
        recorder.finish(result.as_ref().err().map(|e| (e.name.as_str(), e.message.clone())));
        result
    }

    async fn serve_xks(
        &self,
        caller: &Caller,
        call: ProxyCall<'_>,
        body: &[u8],
        meta: &RequestMeta,
        recorder: &mut Recorder<'_>,
    ) -> Result<Vec<u8>, XksError> {
        // The body is decoded once, before the key is looked up (decode → validate → authorize,
        // as every request of the service).
        let request = match call.op {
            ProxyOp::Health | ProxyOp::Metadata => Body::Metadata(decode::<wire::MetadataOnly>(body)?),
            ProxyOp::Encrypt => Body::Encrypt(decode(body)?),
            ProxyOp::Decrypt => Body::Decrypt(decode(body)?),
        };
        let metadata = match &request {
            Body::Metadata(r) => &r.request_metadata,
            Body::Encrypt(r) => &r.request_metadata,
            Body::Decrypt(r) => &r.request_metadata,
        };
        if let Some(p) = recorder.parameters() {
            record_metadata(p, metadata);
            if let Some(k) = call.key {
                p.push("externalKeyId", k.chars().take(wire::MAX_KEY_ID).collect::<String>());
            }
        }
        let Some(external_id) = call.key else {
            return self.xks_health().await;
        };
        let key = self.xks_key(caller, meta, call.op, external_id, recorder).await?;
        let out = match &request {
            Body::Metadata(_) => serde_json::to_vec(&key_metadata(&key)),
            Body::Encrypt(req) => serde_json::to_vec(&xks_encrypt(&key, req)?),
            Body::Decrypt(req) => serde_json::to_vec(&xks_decrypt(&key, req)?),
        };
        out.map_err(|_| invalid(ErrorName::Internal, "The answer could not be encoded."))
    }

    /// Resolves and authorizes the key of a key operation.
    async fn xks_key(
        &self,
        caller: &Caller,
        meta: &RequestMeta,
        op: ProxyOp,
        external_id: &str,
        recorder: &mut Recorder<'_>,
    ) -> Result<Arc<LoadedKey>, XksError> {
        let not_found = || {
            invalid(
                ErrorName::KeyNotFound,
                &format!("The external key {external_id} is not a key of this proxy."),
            )
        };
        if !wire::is_external_key_id(external_id) {
            return Err(invalid(
                ErrorName::InvalidUriPath,
                "The externalKeyId in the path is not valid.",
            ));
        }
        let id = KeyId::parse(external_id).ok_or_else(not_found)?;
        let (operation, action) = match op {
            ProxyOp::Metadata | ProxyOp::Health => (Operation::DescribeKey, Action::DescribeKey),
            ProxyOp::Encrypt => (Operation::Encrypt, Action::Encrypt),
            ProxyOp::Decrypt => (Operation::Decrypt, Action::Decrypt),
        };
        let az = Authorizer::new(self, caller, meta, operation);
        let key = az.load_key(&id).await.map_err(internal)?.ok_or_else(not_found)?;
        if key.record.account_id != caller.account() {
            return Err(not_found());
        }
        recorder.resources(vec![Arc::clone(&key.arn)]);
        match az.require_key(&key, action, &NoFacts).await {
            Ok(()) => {}
            Err(KmsError::AccessDenied(m)) => return Err(invalid(ErrorName::AccessDenied, &m)),
            Err(e) => return Err(internal(e)),
        }
        if op != ProxyOp::Metadata {
            if key.state() != KeyState::Enabled {
                return Err(invalid(
                    ErrorName::InvalidState,
                    &format!("The key {external_id} is {}.", key.state()),
                ));
            }
            if !serves_as_external_key(&key) {
                return Err(invalid(
                    ErrorName::InvalidKeyUsage,
                    &format!("The key {external_id} is not a 256-bit AES key held by this proxy."),
                ));
            }
        }
        Ok(key)
    }

    /// GetHealthStatus: a deep check (spec "GetHealthStatus"): an AES-256-GCM round trip under a
    /// throwaway key and a read of the store. The ekm is this Trent.
    async fn xks_health(&self) -> Result<Vec<u8>, XksError> {
        let crypto_ok = (|| {
            let key = trent_crypto::random::secret(32).ok()?;
            let s = trent_crypto::xks::proxy_encrypt(&key, b"health", b"", b"check").ok()?;
            let back = trent_crypto::xks::proxy_decrypt(&key, b"health", b"", &s.iv, &s.ciphertext, &s.tag).ok()?;
            (back.expose() == b"check").then_some(())
        })()
        .is_some();
        let store_ok = self.read(|s| s.meta("xks-health")).await.is_ok();
        let status = if crypto_ok && store_ok { "ACTIVE" } else { "UNAVAILABLE" };
        let version = env!("CARGO_PKG_VERSION");
        let out = wire::HealthResponse {
            xks_proxy_fleet_size: 1,
            xks_proxy_vendor: "Trent".into(),
            xks_proxy_model: format!("Trent XKS proxy {version}"),
            ekm_vendor: "Trent".into(),
            ekm_fleet_details: vec![wire::EkmFleetDetail {
                id: self.boot_id().to_string(),
                model: format!(
                    "Trent {version} (aws-lc-rs{})",
                    if trent_crypto::fips::enabled() { ", FIPS" } else { "" }
                ),
                health_status: status.into(),
            }],
        };
        serde_json::to_vec(&out).map_err(|_| invalid(ErrorName::Internal, "The answer could not be encoded."))
    }
}

fn internal(e: KmsError) -> XksError {
    tracing::error!(error = %e, "XKS proxy request failed");
    invalid(ErrorName::Internal, "The key manager could not serve the request.")
}

/// A key whose material Trent holds and which is a 256-bit AES key.
fn serves_as_external_key(key: &LoadedKey) -> bool {
    key.spec() == KeySpec::SymmetricDefault
        && key.usage() == KeyUsage::EncryptDecrypt
        && matches!(key.record.origin, Origin::AwsKms | Origin::External)
}

/// GetKeyMetadata: `AES_256` with `ENCRYPT`/`DECRYPT` for a key that can serve; the key's own
/// spec and usage otherwise (so CreateKey in the KMS refuses it); `ENABLED` only for an enabled
/// key.
fn key_metadata(key: &LoadedKey) -> wire::KeyMetadataResponse {
    let (spec, usage) = if serves_as_external_key(key) {
        ("AES_256".to_owned(), vec!["ENCRYPT".to_owned(), "DECRYPT".to_owned()])
    } else {
        let usage = match key.usage() {
            KeyUsage::EncryptDecrypt => vec!["ENCRYPT", "DECRYPT"],
            KeyUsage::SignVerify => vec!["SIGN", "VERIFY"],
            KeyUsage::GenerateVerifyMac => vec!["SIGN", "VERIFY"],
            KeyUsage::KeyAgreement => vec!["DERIVE"],
        };
        (
            key.spec().as_str().to_owned(),
            usage.into_iter().map(str::to_owned).collect(),
        )
    };
    wire::KeyMetadataResponse {
        key_spec: spec,
        key_usage: usage,
        key_status: if key.state() == KeyState::Enabled {
            "ENABLED".into()
        } else {
            "DISABLED".into()
        },
    }
}

fn check_algorithm(name: &str) -> Result<(), XksError> {
    if name == "AES_GCM" {
        return Ok(());
    }
    Err(invalid(
        ErrorName::UnsupportedOperation,
        &format!(
            "Encryption algorithm {} is not supported; v1 has only AES_GCM.",
            name.chars().take(64).collect::<String>()
        ),
    ))
}

fn xks_encrypt(key: &LoadedKey, req: &wire::EncryptRequest) -> Result<wire::EncryptResponse, XksError> {
    check_algorithm(&req.encryption_algorithm)?;
    let cdiv = match req.ciphertext_data_integrity_value_algorithm.as_deref() {
        None => false,
        Some("SHA_256") => true,
        Some(_) => {
            return Err(invalid(
                ErrorName::UnsupportedOperation,
                "ciphertextDataIntegrityValueAlgorithm must be SHA_256.",
            ))
        }
    };
    let aad = req
        .additional_authenticated_data
        .as_ref()
        .map_or(&[][..], |b| b.0.as_slice());
    if aad.len() > usize::from(u16::MAX) {
        return Err(invalid(
            ErrorName::UnsupportedOperation,
            "additionalAuthenticatedData is too long.",
        ));
    }
    let material = key.current().map_err(internal)?;
    let mut metadata = Vec::with_capacity(1 + MATERIAL_PREFIX);
    metadata.push(METADATA_V1);
    metadata.extend_from_slice(material.id.get(..MATERIAL_PREFIX).unwrap_or_default());
    let plaintext = req.plaintext.expose();
    let sealed = trent_crypto::xks::proxy_encrypt(&material.secret, aad, &metadata, plaintext)
        .map_err(|_| invalid(ErrorName::Internal, "Encryption failed."))?;
    // Appendix C: the CDIV first, then a check decryption of exactly what is returned.
    let value = cdiv.then(|| trent_crypto::xks::cdiv(aad, &metadata, &sealed.iv, &sealed.ciphertext, &sealed.tag));
    let check = trent_crypto::xks::proxy_decrypt(
        &material.secret,
        aad,
        &metadata,
        &sealed.iv,
        &sealed.ciphertext,
        &sealed.tag,
    );
    if !check.is_ok_and(|p| p.expose() == plaintext) {
        return Err(invalid(ErrorName::Internal, "The ciphertext did not decrypt back."));
    }
    Ok(wire::EncryptResponse {
        ciphertext: Blob(sealed.ciphertext),
        ciphertext_metadata: Some(Blob(metadata)),
        initialization_vector: Blob(sealed.iv.to_vec()),
        authentication_tag: Blob(sealed.tag.to_vec()),
        ciphertext_data_integrity_value: value.map(|v| Blob(v.to_vec())),
    })
}

fn xks_decrypt(key: &LoadedKey, req: &wire::DecryptRequest) -> Result<wire::DecryptResponse, XksError> {
    check_algorithm(&req.encryption_algorithm)?;
    let bad = || {
        invalid(
            ErrorName::InvalidCiphertext,
            "The ciphertext, additional authenticated data, IV or tag is invalid.",
        )
    };
    let metadata = req.ciphertext_metadata.as_ref().map_or(&[][..], |b| b.0.as_slice());
    let (version, prefix) = metadata.split_first().ok_or_else(bad)?;
    if *version != METADATA_V1 || prefix.len() != MATERIAL_PREFIX {
        return Err(bad());
    }
    let material = key
        .materials
        .iter()
        .find(|m| m.id.get(..MATERIAL_PREFIX) == Some(prefix))
        .ok_or_else(bad)?;
    let aad = req
        .additional_authenticated_data
        .as_ref()
        .map_or(&[][..], |b| b.0.as_slice());
    let plaintext = trent_crypto::xks::proxy_decrypt(
        &material.secret,
        aad,
        metadata,
        &req.initialization_vector.0,
        &req.ciphertext.0,
        &req.authentication_tag.0,
    )
    .map_err(|_| bad())?;
    Ok(wire::DecryptResponse {
        plaintext: SensitiveBlob::new(plaintext.into_zeroizing()),
    })
}

/// Access key ids of XKS proxy credentials start with this; they sign only `kms-xks-proxy`
/// requests, and IAM access keys never sign those.
pub const XKS_KEY_PREFIX: &str = "XKS";
