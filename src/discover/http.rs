//! Fetching an autoconfig document over HTTPS: short timeouts, a bounded
//! body (never read whole), a few redirects followed by hand (HTTPS only,
//! no loops), and certificates checked against the web's roots.

use std::io::Read as _;
use std::sync::Arc;
use std::time::Duration;

use oauth2::url::Url;

use super::overrides;

/// The most a document may be: real ones are a few KiB.
pub const MAX_DOCUMENT: u64 = 1024 * 1024;

/// Redirects followed before giving up.
pub const MAX_REDIRECTS: usize = 3;

/// A document, and where it was found in the end.
#[derive(Debug)]
pub struct Document {
    pub url: String,
    pub text: String,
}

/// Why no document came.
#[derive(Debug, PartialEq, Eq)]
pub enum Miss {
    /// The server answered that there is none (404 and the like): a plain
    /// "not here".
    NotThere(String),
    /// Anything else: what went wrong.
    Failed(String),
}

impl std::fmt::Display for Miss {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Miss::NotThere(s) | Miss::Failed(s) => f.write_str(s),
        }
    }
}

/// One HTTPS client for the lookups.
#[derive(Clone)]
pub struct Http {
    agent: ureq::Agent,
}

impl Http {
    pub fn new(timeout: Duration) -> Result<Http, String> {
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(timeout)
            .timeout(timeout)
            .redirects(0)
            .https_only(true)
            .user_agent(concat!("Pipit/", env!("CARGO_PKG_VERSION")))
            .tls_config(Arc::new(tls_config()?))
            .resolver(|netloc: &str| {
                let (host, port) = split_netloc(netloc)?;
                crate::net::hosts::resolve(host, port)
            })
            .build();
        Ok(Http { agent })
    }

    /// GETs `url`, following up to [`MAX_REDIRECTS`] HTTPS redirects.
    pub fn get(&self, url: &str) -> Result<Document, Miss> {
        let mut url =
            Url::parse(url).map_err(|e| Miss::Failed(format!("bad address {url}: {e}")))?;
        let mut seen = vec![url.to_string()];
        loop {
            if url.scheme() != "https" {
                return Err(Miss::Failed(format!(
                    "{} is not HTTPS: not asked",
                    url.as_str()
                )));
            }
            let response = match self.agent.get(url.as_str()).call() {
                Ok(r) => r,
                Err(ureq::Error::Status(code, r)) if (300..400).contains(&code) => r,
                Err(ureq::Error::Status(code, _)) => {
                    return Err(Miss::NotThere(format!("no document (HTTP {code})")));
                }
                Err(ureq::Error::Transport(t)) => return Err(Miss::Failed(transport(&t))),
            };
            let status = response.status();
            if (300..400).contains(&status) {
                let Some(location) = response.header("Location") else {
                    return Err(Miss::Failed(format!(
                        "HTTP {status} redirect without a Location"
                    )));
                };
                let next = url.join(location).map_err(|e| {
                    Miss::Failed(format!("a redirect to a bad address {location:?}: {e}"))
                })?;
                if next.scheme() != "https" {
                    return Err(Miss::Failed(format!(
                        "redirected to {next}, which is not HTTPS: not followed"
                    )));
                }
                if seen.iter().any(|s| *s == next.as_str()) {
                    return Err(Miss::Failed(format!("a redirect loop (back to {next})")));
                }
                if seen.len() > MAX_REDIRECTS {
                    return Err(Miss::Failed(format!("more than {MAX_REDIRECTS} redirects")));
                }
                seen.push(next.to_string());
                url = next;
                continue;
            }
            if status != 200 {
                return Err(Miss::NotThere(format!("no document (HTTP {status})")));
            }
            if let Some(length) = response
                .header("Content-Length")
                .and_then(|l| l.trim().parse::<u64>().ok())
                && length > MAX_DOCUMENT
            {
                return Err(Miss::Failed(too_large()));
            }
            let mut body = Vec::new();
            response
                .into_reader()
                .take(MAX_DOCUMENT + 1)
                .read_to_end(&mut body)
                .map_err(|e| Miss::Failed(format!("the document broke off: {e}")))?;
            if body.len() as u64 > MAX_DOCUMENT {
                return Err(Miss::Failed(too_large()));
            }
            let text = String::from_utf8(body)
                .map_err(|_| Miss::Failed("the document is not UTF-8 text".into()))?;
            return Ok(Document {
                url: url.to_string(),
                text,
            });
        }
    }
}

fn too_large() -> String {
    format!(
        "the document is larger than {} KiB: not read",
        MAX_DOCUMENT / 1024
    )
}

fn transport(t: &ureq::Transport) -> String {
    use ureq::ErrorKind as K;
    let what = match t.kind() {
        K::Dns => "cannot find the server",
        K::ConnectionFailed => "cannot connect",
        K::Io => {
            if t.to_string().to_ascii_lowercase().contains("timed out") {
                return "no answer in time".into();
            }
            "the connection failed"
        }
        K::InsecureRequestHttpsOnly => "not HTTPS: not asked",
        _ => "failed",
    };
    match t.message() {
        Some(m) => format!("{what}: {m}"),
        None => match std::error::Error::source(t) {
            Some(s) => format!("{what}: {s}"),
            None => what.to_string(),
        },
    }
}

/// `host:port` (the host maybe in brackets) as ureq hands it to a resolver.
fn split_netloc(netloc: &str) -> std::io::Result<(&str, u16)> {
    let bad = || {
        std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("bad address {netloc}"),
        )
    };
    let (host, port) = netloc.rsplit_once(':').ok_or_else(bad)?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    Ok((host, port.parse().map_err(|_| bad())?))
}

/// The web's roots, and in debug builds a test CA ([`overrides::extra_ca`]).
fn tls_config() -> Result<rustls::ClientConfig, String> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject as _;
    let mut roots = rustls::RootCertStore {
        roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
    };
    if let Some(path) = overrides::extra_ca() {
        for cert in CertificateDer::pem_file_iter(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?
        {
            let cert = cert.map_err(|e| format!("{}: {e}", path.display()))?;
            roots
                .add(cert)
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())
        .map(|b| b.with_root_certificates(roots).with_no_client_auth())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_netloc_splits_into_host_and_port() {
        assert_eq!(
            split_netloc("autoconfig.example.org:443").unwrap(),
            ("autoconfig.example.org", 443)
        );
        assert_eq!(split_netloc("[::1]:8443").unwrap(), ("::1", 8443));
        assert!(split_netloc("example.org").is_err());
    }
}
