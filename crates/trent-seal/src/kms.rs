//! The `kms` seal ("auto-unseal"): the root key is stored as a ciphertext of another service
//! that speaks the AWS KMS API — AWS KMS itself, or another Trent — and decrypted by it at
//! every start. `seal.json` holds the endpoint, Region, key id and ciphertext; the credentials
//! come from the environment as for any AWS tool (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`,
//! `AWS_SESSION_TOKEN`) and are never stored. The encryption context
//! `{"trent:seal":"root-key"}` binds the ciphertext to this use (a key policy can require it
//! with `kms:EncryptionContext:trent:seal`).
//!
//! The client is two operations of AWS JSON 1.1 (Encrypt, Decrypt), signed with `aws-sigv4`
//! (the crate AWS's SDKs sign with) over hyper, HTTPS through rustls with the system's roots
//! (or `TRENT_SEAL_KMS_CA_FILE`). It is not `aws-sdk-kms`: that SDK and its runtime would
//! roughly double the binary's dependency tree for two calls made once per start.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use trent_crypto::{RootKey, SecretBytes};

use crate::sealfile::{b64, read_json, unb64, write_json};
use crate::{RootKeyProvider, SealError};

/// The key that seals the root key, and where its service is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `https://kms.eu-west-1.amazonaws.com`, or another Trent's `http(s)://host:port`.
    pub endpoint: String,
    pub region: String,
    /// A key id, key ARN or alias of a symmetric encryption key.
    pub key_id: String,
}

/// AWS credentials for the seal's calls.
pub struct Credentials {
    pub access_key_id: String,
    pub secret_access_key: SecretBytes,
    pub session_token: Option<String>,
}

impl Credentials {
    /// The standard AWS environment variables.
    pub fn from_env() -> Result<Credentials, SealError> {
        let id = std::env::var("AWS_ACCESS_KEY_ID").ok().filter(|v| !v.is_empty());
        let secret = std::env::var("AWS_SECRET_ACCESS_KEY").ok().filter(|v| !v.is_empty());
        match (id, secret) {
            (Some(access_key_id), Some(secret)) => Ok(Credentials {
                access_key_id,
                secret_access_key: SecretBytes::new(secret.into_bytes()),
                session_token: std::env::var("AWS_SESSION_TOKEN").ok().filter(|v| !v.is_empty()),
            }),
            _ => Err(SealError::Kms(
                "the kms seal needs credentials for its key: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY".into(),
            )),
        }
    }
}

/// `seal.json` of the KMS seal, version 1.
#[derive(serde::Serialize, serde::Deserialize)]
struct KmsFile {
    v: u32,
    seal: String,
    endpoint: String,
    region: String,
    key_id: String,
    /// Base64 of the KMS ciphertext blob of the root key.
    ciphertext: String,
}

const CONTEXT_KEY: &str = "trent:seal";
const CONTEXT_VALUE: &str = "root-key";
/// How long one call may take, connection included.
const TIMEOUT: Duration = Duration::from_secs(30);

/// The KMS seal of one data directory.
pub struct KmsSeal {
    path: PathBuf,
    credentials: Credentials,
}

impl KmsSeal {
    pub fn new(path: PathBuf, credentials: Credentials) -> Self {
        Self { path, credentials }
    }

    /// Encrypts `key` under `target` and writes `seal.json` (there must be none). The new file
    /// is decrypted once before this returns, so a key that can encrypt but not decrypt (a
    /// policy allowing only kms:Encrypt) is found now, not at the next start.
    pub fn create(&self, key: &RootKey, target: &Target) -> Result<(), SealError> {
        let plaintext = zeroize::Zeroizing::new(b64(key.expose()));
        let body = request(&target.key_id, "Plaintext", &plaintext)?;
        let out = call(target, &self.credentials, "Encrypt", body.as_bytes())?;
        #[derive(serde::Deserialize)]
        struct EncryptOut {
            #[serde(rename = "CiphertextBlob")]
            ciphertext_blob: String,
        }
        let out: EncryptOut = serde_json::from_slice(&out)
            .map_err(|_| SealError::Kms("Encrypt answered without a CiphertextBlob".into()))?;
        let blob = out.ciphertext_blob.as_str();
        let back = decrypt(target, &self.credentials, &unb64(&self.path, "CiphertextBlob", blob)?)?;
        if &back != key {
            return Err(SealError::Kms(
                "the service decrypted the root key to something else".into(),
            ));
        }
        write_json(
            &self.path,
            &KmsFile {
                v: 1,
                seal: "kms".into(),
                endpoint: target.endpoint.clone(),
                region: target.region.clone(),
                key_id: target.key_id.clone(),
                ciphertext: blob.to_owned(),
            },
        )
    }

    fn read(&self) -> Result<(KmsFile, Target), SealError> {
        let f: KmsFile = read_json(&self.path)?;
        if f.v != 1 || f.seal != "kms" {
            return Err(SealError::malformed(
                &self.path,
                format!("version {} seal {} is not one this binary reads", f.v, f.seal),
            ));
        }
        let target = Target {
            endpoint: f.endpoint.clone(),
            region: f.region.clone(),
            key_id: f.key_id.clone(),
        };
        Ok((f, target))
    }

    /// Where the root key's ciphertext is decrypted.
    pub fn target(&self) -> Result<Target, SealError> {
        Ok(self.read()?.1)
    }

    /// Asks the service to decrypt the root key.
    pub fn open(&self) -> Result<RootKey, SealError> {
        let (f, target) = self.read()?;
        let blob = unb64(&self.path, "ciphertext", &f.ciphertext)?;
        decrypt(&target, &self.credentials, &blob)
    }
}

impl RootKeyProvider for KmsSeal {
    fn kind(&self) -> &'static str {
        "kms"
    }

    fn unlock_or_create(&self) -> Result<RootKey, SealError> {
        self.open()
    }
}

fn decrypt(target: &Target, creds: &Credentials, blob: &[u8]) -> Result<RootKey, SealError> {
    let body = request(&target.key_id, "CiphertextBlob", &b64(blob))?;
    let out = call(target, creds, "Decrypt", body.as_bytes())?;
    #[derive(serde::Deserialize)]
    struct DecryptOut {
        #[serde(rename = "Plaintext")]
        plaintext: String,
    }
    let out: DecryptOut =
        serde_json::from_slice(&out).map_err(|_| SealError::Kms("Decrypt answered without a Plaintext".into()))?;
    // The answer holds the root key: moved (not copied) into a string zeroized on drop.
    let text = zeroize::Zeroizing::new(out.plaintext);
    let plain = zeroize::Zeroizing::new(
        unb64(std::path::Path::new("Decrypt"), "Plaintext", &text)
            .map_err(|_| SealError::Kms("Decrypt answered a Plaintext that is not base64".into()))?,
    );
    RootKey::from_slice(&plain).ok_or_else(|| SealError::Kms("the decrypted root key is not 32 bytes".into()))
}

/// `{"KeyId":…,"<member>":"<base64>","EncryptionContext":{…}}`, built in a buffer zeroized on
/// drop (the member may be the root key), not in a `serde_json::Value`.
fn request(key_id: &str, member: &str, base64: &str) -> Result<zeroize::Zeroizing<String>, SealError> {
    let id = serde_json::to_string(key_id).map_err(|e| SealError::Kms(e.to_string()))?;
    let mut s = zeroize::Zeroizing::new(String::with_capacity(96 + id.len() + base64.len()));
    s.push_str("{\"KeyId\":");
    s.push_str(&id);
    s.push_str(",\"");
    s.push_str(member);
    s.push_str("\":\"");
    s.push_str(base64);
    s.push_str("\",\"EncryptionContext\":{\"");
    s.push_str(CONTEXT_KEY);
    s.push_str("\":\"");
    s.push_str(CONTEXT_VALUE);
    s.push_str("\"}}");
    Ok(s)
}

/// One call, on a thread and runtime of its own: the seal is opened from synchronous code
/// (offline commands) and from inside the server's runtime (`block_in_place`) alike.
fn call(target: &Target, creds: &Credentials, op: &str, body: &[u8]) -> Result<zeroize::Zeroizing<Vec<u8>>, SealError> {
    std::thread::scope(|s| {
        s.spawn(|| {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| SealError::Kms(format!("runtime: {e}")))?;
            rt.block_on(async {
                tokio::time::timeout(TIMEOUT, send(target, creds, op, body))
                    .await
                    .map_err(|_| SealError::Kms(format!("{op} at {} timed out", target.endpoint)))?
            })
        })
        .join()
        .map_err(|_| SealError::Kms(format!("{op}: the client thread failed")))?
    })
}

async fn send(
    target: &Target,
    creds: &Credentials,
    op: &str,
    body: &[u8],
) -> Result<zeroize::Zeroizing<Vec<u8>>, SealError> {
    let err = |what: String| SealError::Kms(format!("{op} at {}: {what}", target.endpoint));
    let uri: http::Uri = target.endpoint.parse().map_err(|e| err(format!("not a URL ({e})")))?;
    let tls = match uri.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        _ => return Err(err("the endpoint must start with https:// or http://".into())),
    };
    let host = uri
        .host()
        .ok_or_else(|| err("the endpoint has no host".into()))?
        .to_owned();
    let port = uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
    let authority = uri
        .authority()
        .map(|a| a.as_str().to_owned())
        .unwrap_or_else(|| host.clone());
    let secret = std::str::from_utf8(creds.secret_access_key.expose())
        .map_err(|_| err("the secret access key is not UTF-8".into()))?;
    let identity: aws_smithy_runtime_api::client::identity::Identity = aws_credential_types::Credentials::new(
        &creds.access_key_id,
        secret,
        creds.session_token.clone(),
        None,
        "trent-seal",
    )
    .into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(&target.region)
        .name("kms")
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| err(e.to_string()))?
        .into();
    let amz_target = format!("TrentService.{op}");
    let headers = [
        ("host", authority.as_str()),
        ("content-type", "application/x-amz-json-1.1"),
        ("x-amz-target", amz_target.as_str()),
    ];
    let signable = SignableRequest::new("POST", "/", headers.iter().copied(), SignableBody::Bytes(body))
        .map_err(|e| err(e.to_string()))?;
    let (instructions, _) = sign(signable, &params).map_err(|e| err(e.to_string()))?.into_parts();
    let mut req = http::Request::builder().method("POST").uri("/");
    for (k, v) in headers {
        req = req.header(k, v);
    }
    for (k, v) in instructions.headers() {
        req = req.header(k, v);
    }
    let req = req
        .body(Full::new(Bytes::copy_from_slice(body)))
        .map_err(|e| err(e.to_string()))?;
    let tcp = tokio::net::TcpStream::connect((host.as_str(), port))
        .await
        .map_err(|e| err(format!("cannot connect ({e})")))?;
    let resp = if tls {
        let connector = tokio_rustls::TlsConnector::from(Arc::new(client_config()?));
        let name = rustls::pki_types::ServerName::try_from(host.clone()).map_err(|e| err(e.to_string()))?;
        let stream = connector
            .connect(name, tcp)
            .await
            .map_err(|e| err(format!("TLS: {e}")))?;
        exchange(hyper_util::rt::TokioIo::new(stream), req).await
    } else {
        exchange(hyper_util::rt::TokioIo::new(tcp), req).await
    }
    .map_err(err)?;
    let (status, bytes) = resp;
    if status == 200 {
        return Ok(zeroize::Zeroizing::new(bytes.to_vec()));
    }
    let value: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|_| err(format!("HTTP {status} with a body that is not JSON")))?;
    {
        let kind = value.get("__type").and_then(|v| v.as_str()).unwrap_or("error");
        let kind = kind.rsplit('#').next().unwrap_or(kind);
        let message = value
            .get("message")
            .or_else(|| value.get("Message"))
            .and_then(|v| v.as_str())
            .unwrap_or("");
        Err(err(format!("{kind}: {message}")))
    }
}

async fn exchange<IO>(io: IO, req: http::Request<Full<Bytes>>) -> Result<(u16, Bytes), String>
where
    IO: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| e.to_string())?;
    let driver = tokio::spawn(conn);
    let resp = sender.send_request(req).await.map_err(|e| e.to_string())?;
    let status = resp.status().as_u16();
    // A KMS answer is small; a larger one is not a KMS answer.
    let limited = http_body_util::Limited::new(resp.into_body(), 1 << 20);
    let bytes = limited.collect().await.map_err(|e| e.to_string())?.to_bytes();
    driver.abort();
    Ok((status, bytes))
}

/// The system's root certificates, plus `TRENT_SEAL_KMS_CA_FILE` (PEM) when set.
fn client_config() -> Result<rustls::ClientConfig, SealError> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(cert);
    }
    if let Ok(path) = std::env::var("TRENT_SEAL_KMS_CA_FILE") {
        use rustls::pki_types::pem::PemObject;
        let certs = rustls::pki_types::CertificateDer::pem_file_iter(&path)
            .map_err(|e| SealError::Kms(format!("TRENT_SEAL_KMS_CA_FILE {path}: {e}")))?;
        for cert in certs {
            let cert = cert.map_err(|e| SealError::Kms(format!("TRENT_SEAL_KMS_CA_FILE {path}: {e}")))?;
            roots
                .add(cert)
                .map_err(|e| SealError::Kms(format!("TRENT_SEAL_KMS_CA_FILE {path}: {e}")))?;
        }
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| SealError::Kms(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}
