//! The transport of Trent's calls to external key store proxies (`trent_core::xks::Transport`):
//! one `POST` of JSON over HTTPS (TLS 1.2+, rustls on aws-lc-rs, the system's roots plus an
//! optional CA file), signed with SigV4 by `aws-sigv4` — the crate AWS's SDKs sign with — under
//! the service name `kms-xks-proxy` and the KMS key's Region, with `host` and `x-amz-date`
//! signed as the specification's Appendix A shows. Each call has a deadline covering the
//! connection, the handshake and the answer (AWS KMS allows 250 ms; `--xks-timeout-ms`).

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

/// Posts proxy calls over HTTPS.
pub struct XksClient {
    tls: Arc<rustls::ClientConfig>,
    timeout: Duration,
}

impl XksClient {
    /// Trusts the system's root certificates and, when given, the PEM certificates of `ca_file`
    /// (a private CA in front of an on-premises proxy).
    pub fn new(ca_file: Option<&Path>, timeout: Duration) -> Result<XksClient, String> {
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
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| e.to_string())?
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(XksClient {
            tls: Arc::new(config),
            timeout,
        })
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
        let mut req = http::Request::builder().method("POST").uri(&target.path);
        for (k, v) in headers {
            req = req.header(k, v);
        }
        for (k, v) in instructions.headers() {
            req = req.header(k, v);
        }
        let req = req
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| connect(e.to_string()))?;
        let tcp = tokio::net::TcpStream::connect((host.as_str(), port))
            .await
            .map_err(|e| connect(e.to_string()))?;
        let _ = tcp.set_nodelay(true);
        let name = rustls::pki_types::ServerName::try_from(host).map_err(|e| TransportError::Tls(e.to_string()))?;
        let stream = tokio_rustls::TlsConnector::from(Arc::clone(&self.tls))
            .connect(name, tcp)
            .await
            .map_err(|e| TransportError::Tls(e.to_string()))?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .map_err(|e| connect(e.to_string()))?;
        let driver = tokio::spawn(conn);
        let resp = sender.send_request(req).await.map_err(|e| connect(e.to_string()))?;
        let status = resp.status().as_u16();
        let bytes = http_body_util::Limited::new(resp.into_body(), MAX_REPLY)
            .collect()
            .await
            .map_err(|e| connect(e.to_string()))?
            .to_bytes();
        driver.abort();
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
