//! The transport of Trent's calls to external key store proxies (`trent_core::xks::Transport`):
//! one `POST` of JSON over HTTPS (TLS 1.2+, rustls on aws-lc-rs, the system's roots plus an
//! optional CA file), signed with SigV4 by `aws-sigv4` — the crate AWS's SDKs sign with — under
//! the service name `kms-xks-proxy` and the KMS key's Region, with `host` and `x-amz-date`
//! signed as the specification's Appendix A shows. Each call has a deadline covering the
//! connection, the handshake and the answer (AWS KMS allows 250 ms; `--xks-timeout-ms`).
//! Connections are kept alive and reused per proxy (`host:port`), at most [`MAX_IDLE`] idle
//! ones each, so a busy key does not pay a TCP and TLS handshake per request.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use trent_core::xks::{ProxyFuture, ProxyReply, ProxyTarget, Transport, TransportError};

/// The largest proxy answer read (a Decrypt answer is about 6 KB).
const MAX_REPLY: usize = 64 * 1024;
/// Idle connections kept per proxy.
const MAX_IDLE: usize = 32;
/// Proxies idle connections are kept for: Create/UpdateCustomKeyStore make the server connect
/// where a caller says, so what those attempts leave open is bounded too.
const MAX_PROXIES: usize = 64;

type Sender = hyper::client::conn::http1::SendRequest<Full<Bytes>>;

/// Posts proxy calls over HTTPS.
pub struct XksClient {
    tls: Arc<rustls::ClientConfig>,
    timeout: Duration,
    /// Idle keep-alive connections by `host:port`.
    idle: std::sync::Mutex<std::collections::HashMap<String, Vec<Sender>>>,
}

impl XksClient {
    /// Trusts the system's root certificates and, when given, the PEM certificates of `ca_file`
    /// (a private CA in front of an on-premises proxy); presents `identity` (a PEM certificate
    /// chain and its key) to proxies that ask for a client certificate (mutual TLS).
    pub fn new(
        ca_file: Option<&Path>,
        identity: Option<&crate::TlsFiles>,
        timeout: Duration,
    ) -> Result<XksClient, String> {
        let mut roots = rustls::RootCertStore::empty();
        for cert in rustls_native_certs::load_native_certs().certs {
            let _ = roots.add(cert);
        }
        if let Some(path) = ca_file {
            use rustls::pki_types::pem::PemObject;
            let what = |e: &dyn std::fmt::Display| format!("{}: {e}", path.display());
            for cert in rustls::pki_types::CertificateDer::pem_file_iter(path).map_err(|e| what(&e))? {
                roots.add(cert.map_err(|e| what(&e))?).map_err(|e| what(&e))?;
            }
        }
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let builder = rustls::ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots);
        let mut config = match identity {
            None => builder.with_no_client_auth(),
            Some(files) => {
                use rustls::pki_types::pem::PemObject;
                let what = |p: &Path, e: &dyn std::fmt::Display| format!("{}: {e}", p.display());
                let chain = rustls::pki_types::CertificateDer::pem_file_iter(&files.cert)
                    .map_err(|e| what(&files.cert, &e))?
                    .collect::<Result<Vec<_>, _>>()
                    .map_err(|e| what(&files.cert, &e))?;
                let key =
                    rustls::pki_types::PrivateKeyDer::from_pem_file(&files.key).map_err(|e| what(&files.key, &e))?;
                builder
                    .with_client_auth_cert(chain, key)
                    .map_err(|e| what(&files.cert, &e))?
            }
        };
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(XksClient {
            tls: Arc::new(config),
            timeout,
            idle: std::sync::Mutex::new(std::collections::HashMap::new()),
        })
    }

    /// An idle connection to `authority` that is still open.
    fn reuse(&self, authority: &str) -> Option<Sender> {
        let mut idle = self.idle.lock().ok()?;
        let list = idle.get_mut(authority)?;
        while let Some(s) = list.pop() {
            if !s.is_closed() && s.is_ready() {
                return Some(s);
            }
        }
        None
    }

    fn keep(&self, authority: String, sender: Sender) {
        if sender.is_closed() {
            return;
        }
        if let Ok(mut idle) = self.idle.lock() {
            if !idle.contains_key(&authority) && idle.len() >= MAX_PROXIES {
                idle.retain(|_, list| {
                    list.retain(|s| !s.is_closed());
                    !list.is_empty()
                });
                if idle.len() >= MAX_PROXIES {
                    return;
                }
            }
            let list = idle.entry(authority).or_default();
            if list.len() < MAX_IDLE {
                list.push(sender);
            }
        }
    }

    /// A new TLS connection to `host:port`, its driver running on its own task (it ends when the
    /// connection closes or its sender is dropped).
    async fn connect(&self, host: String, port: u16) -> Result<Sender, TransportError> {
        let connect = |m: String| TransportError::Connect(m);
        let tcp = tokio::net::TcpStream::connect((host.as_str(), port))
            .await
            .map_err(|e| connect(e.to_string()))?;
        let _ = tcp.set_nodelay(true);
        let name = rustls::pki_types::ServerName::try_from(host).map_err(|e| TransportError::Tls(e.to_string()))?;
        let stream = tokio_rustls::TlsConnector::from(Arc::clone(&self.tls))
            .connect(name, tcp)
            .await
            .map_err(|e| TransportError::Tls(e.to_string()))?;
        let (sender, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .map_err(|e| connect(e.to_string()))?;
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "XKS proxy connection ended");
            }
        });
        Ok(sender)
    }

    async fn send(&self, target: &ProxyTarget, body: Vec<u8>) -> Result<ProxyReply, TransportError> {
        let connect = |m: String| TransportError::Connect(m);
        let uri: http::Uri = target
            .endpoint
            .parse()
            .map_err(|e| connect(format!("not a URL ({e})")))?;
        if uri.scheme_str() != Some("https") {
            return Err(connect("the endpoint must be https://".into()));
        }
        let host = uri
            .host()
            .ok_or_else(|| connect("the endpoint has no host".into()))?
            .to_owned();
        let port = uri.port_u16().unwrap_or(443);
        let authority = uri.authority().map_or_else(|| host.clone(), |a| a.as_str().to_owned());
        let secret =
            std::str::from_utf8(target.secret.expose()).map_err(|_| connect("the secret is not text".into()))?;
        let identity: aws_smithy_runtime_api::client::identity::Identity =
            aws_credential_types::Credentials::new(&target.access_key_id, secret, None, None, "trent-xks").into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&target.region)
            .name(trent_api::xks::SIGNING_NAME)
            .time(SystemTime::now())
            .settings(SigningSettings::default())
            .build()
            .map_err(|e| connect(e.to_string()))?
            .into();
        let headers = [("host", authority.as_str()), ("content-type", "application/json")];
        let signable = SignableRequest::new(
            "POST",
            &target.path,
            headers.iter().copied(),
            SignableBody::Bytes(&body),
        )
        .map_err(|e| connect(e.to_string()))?;
        let (instructions, _) = sign(signable, &params)
            .map_err(|e| connect(e.to_string()))?
            .into_parts();
        let body = Bytes::from(body);
        let request = || {
            let mut req = http::Request::builder().method("POST").uri(&target.path);
            for (k, v) in headers {
                req = req.header(k, v);
            }
            for (k, v) in instructions.headers() {
                req = req.header(k, v);
            }
            req.body(Full::new(body.clone())).map_err(|e| connect(e.to_string()))
        };
        let key = format!("{host}:{port}");
        // A kept connection the proxy closed meanwhile fails without an answer: the request is
        // sent once more on a new connection (the proxy's operations have no effect to repeat).
        let (sender, resp) = match self.reuse(&key) {
            Some(mut s) => match s.send_request(request()?).await {
                Ok(r) => (s, r),
                Err(_) => {
                    let mut s = self.connect(host, port).await?;
                    let r = s.send_request(request()?).await.map_err(|e| connect(e.to_string()))?;
                    (s, r)
                }
            },
            None => {
                let mut s = self.connect(host, port).await?;
                let r = s.send_request(request()?).await.map_err(|e| connect(e.to_string()))?;
                (s, r)
            }
        };
        let status = resp.status().as_u16();
        let bytes = http_body_util::Limited::new(resp.into_body(), MAX_REPLY)
            .collect()
            .await
            .map_err(|e| connect(e.to_string()))?
            .to_bytes();
        // The answer was read whole: the connection may carry the next request.
        self.keep(key, sender);
        Ok(ProxyReply {
            status,
            body: bytes.to_vec(),
        })
    }
}

impl Transport for XksClient {
    fn post<'a>(&'a self, target: &'a ProxyTarget, body: Vec<u8>) -> ProxyFuture<'a> {
        Box::pin(async move {
            match tokio::time::timeout(self.timeout, self.send(target, body)).await {
                Ok(r) => r,
                Err(_) => Err(TransportError::Timeout),
            }
        })
    }
}
