//! Certificate trust: the web's roots, a CA file, or one certificate pinned by
//! its SHA-256 fingerprint. Whatever the outcome, the verifier remembers the
//! certificate the server showed, so a refusal can name its fingerprint and
//! the user can choose to trust it.

use std::fmt;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject as _;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};

use super::certificate::{CertificateSummary, summarize};

/// Which certificates an account accepts.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Trust {
    /// Certificates that chain to the web's public roots (webpki-roots) and name the host.
    WebRoots,
    /// Certificates that chain to the CA (or self-signed certificate) in this PEM file.
    CaFile(PathBuf),
    /// Exactly the certificate with this SHA-256 fingerprint, whatever it says.
    Fingerprint(Fingerprint),
}

/// A certificate's SHA-256 fingerprint, written `AB:CD:…` as openssl prints it.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    pub fn of(der: &[u8]) -> Fingerprint {
        let digest = ring::digest::digest(&ring::digest::SHA256, der);
        Fingerprint(digest.as_ref().try_into().expect("SHA-256 is 32 bytes"))
    }

    /// Reads `AB:CD:…`, `abcd…` or `sha256:…`: 64 hex digits, colons and spaces ignored.
    pub fn parse(text: &str) -> Result<Fingerprint, String> {
        let t = text.trim();
        let t = t
            .strip_prefix("sha256:")
            .or_else(|| t.strip_prefix("SHA256:"))
            .or_else(|| t.strip_prefix("SHA-256:"))
            .unwrap_or(t);
        let hex: String = t
            .chars()
            .filter(|c| *c != ':' && !c.is_whitespace())
            .collect();
        if hex.len() != 64 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(format!(
                "{text:?} is not a SHA-256 fingerprint: expected 64 hex digits, as in AB:CD:EF:…"
            ));
        }
        let mut bytes = [0u8; 32];
        for (i, b) in bytes.iter_mut().enumerate() {
            *b = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).map_err(|e| e.to_string())?;
        }
        Ok(Fingerprint(bytes))
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, b) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(":")?;
            }
            write!(f, "{b:02X}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

/// The certificate the server presented, kept for error messages.
pub type Seen = Arc<Mutex<Option<(Fingerprint, Option<CertificateSummary>)>>>;

/// Builds the rustls configuration for `trust`; `seen` receives the fingerprint
/// of the certificate the server presents.
pub fn client_config(trust: &Trust, seen: Seen) -> Result<ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let inner: Arc<dyn ServerCertVerifier> = match trust {
        Trust::WebRoots => webpki_verifier(
            RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            },
            &provider,
        )?,
        Trust::CaFile(path) => {
            let mut roots = RootCertStore::empty();
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| format!("cannot read the CA file {}: {e}", path.display()))?;
            for cert in certs {
                let cert = cert
                    .map_err(|e| format!("the CA file {} is not valid PEM: {e}", path.display()))?;
                roots.add(cert).map_err(|e| {
                    format!(
                        "the CA file {} holds a certificate rustls cannot use: {e}",
                        path.display()
                    )
                })?;
            }
            if roots.is_empty() {
                return Err(format!(
                    "the CA file {} holds no certificate",
                    path.display()
                ));
            }
            webpki_verifier(roots, &provider)?
        }
        Trust::Fingerprint(pinned) => Arc::new(PinnedVerifier {
            pinned: pinned.clone(),
            algorithms: provider.signature_verification_algorithms,
        }),
    };
    let verifier = Arc::new(RecordingVerifier { inner, seen });
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    Ok(config)
}

fn webpki_verifier(
    roots: RootCertStore,
    provider: &Arc<CryptoProvider>,
) -> Result<Arc<dyn ServerCertVerifier>, String> {
    let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| e.to_string())?;
    Ok(verifier)
}

/// Delegates every decision and notes the end-entity certificate's fingerprint.
#[derive(Debug)]
struct RecordingVerifier {
    inner: Arc<dyn ServerCertVerifier>,
    seen: Seen,
}

impl ServerCertVerifier for RecordingVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Ok(mut seen) = self.seen.lock() {
            *seen = Some((Fingerprint::of(end_entity), summarize(end_entity)));
        }
        self.inner
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// Accepts one certificate by fingerprint: the user has said they trust it,
/// so its name and dates are not checked; the handshake signature still is,
/// which proves the server holds the certificate's key.
#[derive(Debug)]
struct PinnedVerifier {
    pinned: Fingerprint,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for PinnedVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if Fingerprint::of(end_entity) == self.pinned {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::ApplicationVerificationFailure,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// Whether the web's public roots (webpki-roots) would trust this chain
/// for `host`, now; if not, why, in words. Made apart from any session: a
/// server trusted by its pinned fingerprint or a CA file is judged as other
/// clients would judge it.
pub fn web_roots_verdict(chain: &[CertificateDer<'_>], host: &str) -> Result<(), String> {
    let Some((end_entity, intermediates)) = chain.split_first() else {
        return Err("the server presented no certificate".into());
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = webpki_verifier(
        RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        },
        &provider,
    )?;
    let name = ServerName::try_from(host.to_string())
        .map_err(|_| format!("{host:?} is not a valid host name for TLS"))?;
    match verifier.verify_server_cert(end_entity, intermediates, &name, &[], UnixTime::now()) {
        Ok(_) => Ok(()),
        Err(rustls::Error::InvalidCertificate(e)) => {
            Err(super::describe_certificate_error(&e, host))
        }
        Err(e) => Err(e.to_string()),
    }
}

/// Whether the certificate names `host` (whoever signed it).
pub fn valid_for_name(end_entity: &CertificateDer<'_>, host: &str) -> bool {
    let (Ok(cert), Ok(name)) = (
        rustls::server::ParsedCertificate::try_from(end_entity),
        ServerName::try_from(host.to_string()),
    ) else {
        return false;
    };
    rustls::client::verify_server_name(&cert, &name).is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_self_signed_certificate_is_judged_as_the_web_would() {
        use rustls::pki_types::pem::PemObject as _;
        let pem = include_bytes!("../../tests/data/example-cert.pem");
        let der = CertificateDer::from_pem_slice(pem).unwrap();
        let verdict = web_roots_verdict(std::slice::from_ref(&der), "mail.example.org");
        assert!(
            verdict
                .as_ref()
                .is_err_and(|e| e.contains("not signed by an authority")),
            "{verdict:?}"
        );
        assert!(web_roots_verdict(&[], "mail.example.org").is_err());
        assert!(valid_for_name(&der, "mail.example.org"));
        assert!(!valid_for_name(&der, "other.example.org"));
        assert!(!valid_for_name(&CertificateDer::from(vec![1, 2, 3]), "x"));
    }

    #[test]
    fn fingerprints_parse_in_the_forms_people_paste() {
        let colons = "AB:".repeat(31) + "AB";
        let fp = Fingerprint::parse(&colons).unwrap();
        assert_eq!(fp.to_string(), colons);
        assert_eq!(Fingerprint::parse(&"ab".repeat(32)).unwrap(), fp);
        assert_eq!(Fingerprint::parse(&format!("sha256:{colons}")).unwrap(), fp);
        let err = Fingerprint::parse("AB:CD").unwrap_err();
        assert!(err.contains("64 hex digits"), "{err}");
        assert!(Fingerprint::parse(&"zz".repeat(32)).is_err());
    }
}
