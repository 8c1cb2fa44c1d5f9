//! TLS in process (`--tls-cert`/`--tls-key`): rustls on aws-lc-rs, TLS 1.2 and 1.3 only, HTTP/1.1.
//! The certificate is held by a resolver that [`Tls::reload`] replaces (SIGHUP in the binary), so
//! a renewed certificate takes effect for new connections without dropping any; a reload that
//! fails keeps the certificate in use.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use tokio_rustls::TlsAcceptor;

/// Where the certificate chain and its key are read from (PEM).
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

#[derive(Debug)]
struct Current(RwLock<Arc<CertifiedKey>>);

impl ResolvesServerCert for Current {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        self.0.read().ok().map(|c| Arc::clone(&c))
    }
}

/// The server's TLS configuration and its reloadable certificate.
#[derive(Clone)]
pub struct Tls {
    files: TlsFiles,
    current: Arc<Current>,
    acceptor: TlsAcceptor,
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// Reads and checks a certificate chain and its private key.
fn load(files: &TlsFiles) -> Result<CertifiedKey, String> {
    let what = |p: &Path, e: &dyn std::fmt::Display| format!("{}: {e}", p.display());
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert)
        .map_err(|e| what(&files.cert, &e))?
        .collect::<Result<_, _>>()
        .map_err(|e| what(&files.cert, &e))?;
    if chain.is_empty() {
        return Err(format!("{}: no certificate in the file", files.cert.display()));
    }
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| what(&files.key, &e))?;
    let signing = provider()
        .key_provider
        .load_private_key(key)
        .map_err(|e| what(&files.key, &e))?;
    let certified = CertifiedKey::new(chain, signing);
    certified
        .keys_match()
        .map_err(|e| format!("{} does not match {}: {e}", files.key.display(), files.cert.display()))?;
    Ok(certified)
}

impl Tls {
    /// Loads the certificate and key; an error names the file and what is wrong with it.
    pub fn new(files: TlsFiles) -> Result<Tls, String> {
        let current = Arc::new(Current(RwLock::new(Arc::new(load(&files)?))));
        let mut config = rustls::ServerConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| e.to_string())?
            .with_no_client_auth()
            .with_cert_resolver(Arc::clone(&current) as Arc<dyn ResolvesServerCert>);
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Tls {
            files,
            current,
            acceptor: TlsAcceptor::from(Arc::new(config)),
        })
    }

    /// Reads the files again; new connections get the new certificate. On error the one in use
    /// stays.
    pub fn reload(&self) -> Result<(), String> {
        let fresh = Arc::new(load(&self.files)?);
        let mut slot = self
            .current
            .0
            .write()
            .map_err(|_| "certificate lock poisoned".to_owned())?;
        *slot = fresh;
        Ok(())
    }

    pub(crate) fn acceptor(&self) -> &TlsAcceptor {
        &self.acceptor
    }
}
