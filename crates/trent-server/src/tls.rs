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

/// Mutual TLS (the XKS proxy listener's option, spec "Authentication"): client certificates
/// must chain to `ca`, and when `subject` is given their subject common name must be it (AWS
/// KMS presents `CN=cks.kms.<Region>.amazonaws.com`). Anything else ends the handshake.
#[derive(Debug, Clone)]
pub struct ClientAuth {
    pub ca: PathBuf,
    pub subject: Option<String>,
}

/// A client certificate verifier that also checks the subject's common name.
#[derive(Debug)]
struct SubjectVerifier {
    inner: Arc<dyn rustls::server::danger::ClientCertVerifier>,
    subject: Option<String>,
}

/// The subject common names of a DER certificate.
fn common_names(der: &[u8]) -> Vec<String> {
    use x509_cert::der::Decode as _;
    let Ok(cert) = x509_cert::Certificate::from_der(der) else {
        return Vec::new();
    };
    let cn = x509_cert::der::asn1::ObjectIdentifier::new_unwrap("2.5.4.3");
    let mut out = Vec::new();
    for rdn in cert.tbs_certificate.subject.0.iter() {
        for atv in rdn.0.iter().filter(|a| a.oid == cn) {
            let value = atv.value.value();
            if let Ok(s) = std::str::from_utf8(value) {
                out.push(s.to_owned());
            }
        }
    }
    out
}

impl rustls::server::danger::ClientCertVerifier for SubjectVerifier {
    fn root_hint_subjects(&self) -> &[rustls::DistinguishedName] {
        self.inner.root_hint_subjects()
    }

    fn verify_client_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::server::danger::ClientCertVerified, rustls::Error> {
        let verified = self.inner.verify_client_cert(end_entity, intermediates, now)?;
        if let Some(subject) = &self.subject {
            if !common_names(end_entity.as_ref()).iter().any(|cn| cn == subject) {
                return Err(rustls::Error::General(format!(
                    "the client certificate's subject is not CN={subject}"
                )));
            }
        }
        Ok(verified)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

fn client_verifier(auth: &ClientAuth) -> Result<Arc<dyn rustls::server::danger::ClientCertVerifier>, String> {
    let what = |e: &dyn std::fmt::Display| format!("{}: {e}", auth.ca.display());
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_file_iter(&auth.ca).map_err(|e| what(&e))? {
        roots.add(cert.map_err(|e| what(&e))?).map_err(|e| what(&e))?;
    }
    if roots.is_empty() {
        return Err(format!("{}: no certificate in the file", auth.ca.display()));
    }
    let inner = rustls::server::WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider())
        .build()
        .map_err(|e| what(&e))?;
    Ok(Arc::new(SubjectVerifier {
        inner,
        subject: auth.subject.clone(),
    }))
}

impl Tls {
    /// Loads the certificate and key; an error names the file and what is wrong with it.
    pub fn new(files: TlsFiles) -> Result<Tls, String> {
        Tls::with_client_auth(files, None)
    }

    /// [`Tls::new`], requiring client certificates when `client` is given.
    pub fn with_client_auth(files: TlsFiles, client: Option<&ClientAuth>) -> Result<Tls, String> {
        let current = Arc::new(Current(RwLock::new(Arc::new(load(&files)?))));
        let builder = rustls::ServerConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
            .map_err(|e| e.to_string())?;
        let builder = match client {
            None => builder.with_no_client_auth(),
            Some(c) => builder.with_client_cert_verifier(client_verifier(c)?),
        };
        let mut config = builder.with_cert_resolver(Arc::clone(&current) as Arc<dyn ResolvesServerCert>);
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
