//! TLS to PostgreSQL, with libpq's `sslmode` semantics (PostgreSQL documentation, "SSL Support",
//! table "SSL Mode Descriptions"), which the driver alone does not give:
//!
//! | `sslmode` | encrypted | server certificate checked |
//! |---|---|---|
//! | `disable` | never | — |
//! | `prefer` (libpq's default) | when the server offers it | no |
//! | `require` | always | no — or as `verify-ca` when `sslrootcert` is given (as libpq does) |
//! | `verify-ca` | always | chains to a root in `sslrootcert` |
//! | `verify-full` | always | chains to a root in `sslrootcert` and names the host |
//!
//! `sslrootcert` is a PEM file of CA certificates, or `system` for the operating system's roots
//! (as libpq 16). Both parameters are taken out of the URL (the driver knows neither the
//! `verify-*` modes nor `sslrootcert`) and the rest is the driver's to parse. The handshake is
//! rustls on aws-lc-rs; SCRAM channel binding works over it (`tokio-postgres-rustls`).

use std::sync::Arc;

use postgres::config::SslMode;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio_postgres_rustls::MakeRustlsConnect;
use trent_store::StoreError;

/// The connector every connection of a store uses.
pub type Connector = MakeRustlsConnect;

/// What the URL asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

fn bad(why: String) -> StoreError {
    StoreError::Backend(format!("invalid database URL: {why}"))
}

/// Splits `url` into the driver's configuration and the TLS connector its `sslmode` and
/// `sslrootcert` ask for.
pub fn configure(url: &str) -> Result<(postgres::Config, Connector), StoreError> {
    let (rest, mode, root) = take_tls_params(url)?;
    let mut config: postgres::Config = rest.parse().map_err(|e| bad(format!("{e}")))?;
    let mode = match (mode, &root) {
        (Some(Mode::Require), Some(_)) => Mode::VerifyCa,
        (Some(m), _) => m,
        (None, _) => Mode::Prefer,
    };
    config.ssl_mode(match mode {
        Mode::Disable => SslMode::Disable,
        Mode::Prefer => SslMode::Prefer,
        Mode::Require | Mode::VerifyCa | Mode::VerifyFull => SslMode::Require,
    });
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier: Arc<dyn ServerCertVerifier> = match mode {
        Mode::Disable | Mode::Prefer | Mode::Require => Arc::new(Unverified(Arc::clone(&provider))),
        Mode::VerifyCa | Mode::VerifyFull => {
            let root = root.ok_or_else(|| {
                bad("sslmode=verify-ca and verify-full need sslrootcert=<PEM file> (or sslrootcert=system)".into())
            })?;
            let roots = Arc::new(load_roots(&root)?);
            let webpki = WebPkiServerVerifier::builder_with_provider(roots, Arc::clone(&provider))
                .build()
                .map_err(|e| bad(format!("sslrootcert: {e}")))?;
            if mode == Mode::VerifyCa {
                Arc::new(AnyName(webpki))
            } else {
                webpki
            }
        }
    };
    let tls = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| StoreError::Backend(format!("TLS: {e}")))?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok((config, MakeRustlsConnect::new(tls)))
}

/// Removes `sslmode` and `sslrootcert` from a URL (`postgres://…?a=b&…`) or a key=value string.
fn take_tls_params(url: &str) -> Result<(String, Option<Mode>, Option<String>), StoreError> {
    let mut mode = None;
    let mut root = None;
    let mut take = |key: &str, value: &str| -> Result<bool, StoreError> {
        match key {
            "sslmode" => {
                mode = Some(match value {
                    "disable" => Mode::Disable,
                    "prefer" | "allow" => Mode::Prefer,
                    "require" => Mode::Require,
                    "verify-ca" => Mode::VerifyCa,
                    "verify-full" => Mode::VerifyFull,
                    other => {
                        return Err(bad(format!(
                            "sslmode={other} is not one of disable, allow, prefer, require, verify-ca, verify-full"
                        )))
                    }
                });
                Ok(true)
            }
            "sslrootcert" => {
                root = Some(value.to_owned());
                Ok(true)
            }
            _ => Ok(false),
        }
    };
    let rest = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        match url.split_once('?') {
            None => url.to_owned(),
            Some((base, query)) => {
                let mut kept = Vec::new();
                for pair in query.split('&').filter(|p| !p.is_empty()) {
                    let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
                    if !take(k, &percent_decode(v))? {
                        kept.push(pair);
                    }
                }
                if kept.is_empty() {
                    base.to_owned()
                } else {
                    format!("{base}?{}", kept.join("&"))
                }
            }
        }
    } else {
        let mut kept = Vec::new();
        for word in url.split_whitespace() {
            let (k, v) = word.split_once('=').unwrap_or((word, ""));
            if !take(k.trim(), v.trim())? {
                kept.push(word);
            }
        }
        kept.join(" ")
    };
    Ok((rest, mode, root))
}

/// `%XX` escapes of a query value (a path may be written escaped).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (b, hex) {
            (b'%', Some(v)) => {
                out.push(v);
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn load_roots(root: &str) -> Result<RootCertStore, StoreError> {
    let mut store = RootCertStore::empty();
    if root == "system" {
        let found = rustls_native_certs::load_native_certs();
        for cert in found.certs {
            // A system store may hold certificates webpki cannot use; skip those, as libpq does.
            let _ = store.add(cert);
        }
    } else {
        let certs = CertificateDer::pem_file_iter(root)
            .map_err(|e| bad(format!("sslrootcert {root}: {e}")))?
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| bad(format!("sslrootcert {root}: {e}")))?;
        for cert in certs {
            store.add(cert).map_err(|e| bad(format!("sslrootcert {root}: {e}")))?;
        }
    }
    if store.is_empty() {
        return Err(bad(format!("sslrootcert {root} holds no usable CA certificate")));
    }
    Ok(store)
}

/// `prefer` / `require`: encrypted, the certificate not checked (libpq's meaning: protection
/// from eavesdropping, not from a man in the middle). The handshake signature is still
/// verified, so the peer holds the key of the certificate it sent.
#[derive(Debug)]
struct Unverified(Arc<CryptoProvider>);

impl ServerCertVerifier for Unverified {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.0.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// `verify-ca`: the chain must lead to a trusted root; the name in the certificate may differ
/// from the host connected to.
#[derive(Debug)]
struct AnyName(Arc<WebPkiServerVerifier>);

impl ServerCertVerifier for AnyName {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self
            .0
            .verify_server_cert(end_entity, intermediates, server_name, ocsp, now)
        {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.0.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_parameters_are_taken_out_of_both_url_forms() {
        let (rest, mode, root) =
            take_tls_params("postgres://u@h:5/db?sslmode=verify-full&application_name=x&sslrootcert=%2Fetc%2Fca.pem")
                .expect("url");
        assert_eq!(rest, "postgres://u@h:5/db?application_name=x");
        assert_eq!(mode, Some(Mode::VerifyFull));
        assert_eq!(root.as_deref(), Some("/etc/ca.pem"));
        let (rest, mode, root) = take_tls_params("postgres://u@h/db?sslmode=disable").expect("url");
        assert_eq!(
            (rest.as_str(), mode, root),
            ("postgres://u@h/db", Some(Mode::Disable), None)
        );
        let (rest, mode, root) =
            take_tls_params("host=h user=u sslmode=require sslrootcert=system dbname=d").expect("kv");
        assert_eq!(rest, "host=h user=u dbname=d");
        assert_eq!((mode, root.as_deref()), (Some(Mode::Require), Some("system")));
        assert!(take_tls_params("postgres://h/db?sslmode=sometimes").is_err());
    }

    #[test]
    fn verification_needs_roots() {
        let e = configure("postgres://h/db?sslmode=verify-full").err().expect("refused");
        assert!(e.to_string().contains("sslrootcert"), "{e}");
        let e = configure("postgres://h/db?sslmode=verify-ca&sslrootcert=/nonexistent/ca.pem")
            .err()
            .expect("refused");
        assert!(e.to_string().contains("/nonexistent/ca.pem"), "{e}");
        assert!(configure("postgres://h/db").is_ok());
    }
}
