//! An HTTPS server on loopback for the discovery tests: a test CA of its
//! own (its PEM is what `PIPIT_DISCOVER_CA` points at), one certificate
//! for every test name, and answers chosen per host and path: a document,
//! a status, a redirect, silence, or an endless body.

use std::collections::HashMap;
use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

/// How the server answers one host and path.
#[derive(Clone, Debug)]
pub enum Reply {
    /// 200 with this XML.
    Xml(String),
    Status(u16),
    /// 302 to this address.
    Redirect(String),
    /// Reads the request and never answers.
    Hang,
    /// 200 and bytes without end (no Content-Length), until the client goes.
    Endless,
}

pub struct Https {
    pub port: u16,
    /// The test CA's certificate, PEM.
    pub ca: PathBuf,
    _dir: tempfile::TempDir,
    routes: Arc<Mutex<HashMap<String, Reply>>>,
    /// Every request, as host + path.
    asked: Arc<Mutex<Vec<String>>>,
}

impl Https {
    /// Serves certificates for `names`, signed by a new test CA.
    pub fn start(names: &[&str]) -> Https {
        let dir = tempfile::tempdir().unwrap();
        let mut ca_params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "Pipit test CA");
        let ca_key = rcgen::KeyPair::generate().unwrap();
        let ca = rcgen::CertifiedIssuer::self_signed(ca_params, ca_key).unwrap();
        let ca_path = dir.path().join("ca.pem");
        std::fs::write(&ca_path, ca.pem()).unwrap();

        let params =
            rcgen::CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &ca).unwrap();
        let config =
            ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .unwrap()
                .with_no_client_auth()
                .with_single_cert(
                    vec![cert.der().clone(), ca.der().clone()],
                    PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
                )
                .unwrap();
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let routes: Arc<Mutex<HashMap<String, Reply>>> = Arc::default();
        let asked: Arc<Mutex<Vec<String>>> = Arc::default();
        let (r, a) = (routes.clone(), asked.clone());
        std::thread::spawn(move || {
            for tcp in listener.incoming().flatten() {
                let (config, routes, asked) = (config.clone(), r.clone(), a.clone());
                std::thread::spawn(move || serve(tcp, config, &routes, &asked));
            }
        });
        Https {
            port,
            ca: ca_path,
            _dir: dir,
            routes,
            asked,
        }
    }

    /// Answers `host` + `path` (without the query) so.
    pub fn route(&self, host: &str, path: &str, reply: Reply) {
        self.routes
            .lock()
            .unwrap()
            .insert(format!("{host}{path}"), reply);
    }

    /// Every request so far, as host + path.
    pub fn asked(&self) -> Vec<String> {
        self.asked.lock().unwrap().clone()
    }
}

fn serve(
    tcp: TcpStream,
    config: Arc<ServerConfig>,
    routes: &Mutex<HashMap<String, Reply>>,
    asked: &Mutex<Vec<String>>,
) {
    let _ = tcp.set_read_timeout(Some(Duration::from_secs(30)));
    let Ok(conn) = ServerConnection::new(config) else {
        return;
    };
    let mut tls = StreamOwned::new(conn, tcp);
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 16 * 1024 {
        match tls.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return,
        }
    }
    let head = String::from_utf8_lossy(&head).to_string();
    let path = head
        .split_whitespace()
        .nth(1)
        .unwrap_or("/")
        .split('?')
        .next()
        .unwrap_or("/")
        .to_string();
    let host = head
        .lines()
        .find_map(|l| l.strip_prefix("Host:").or_else(|| l.strip_prefix("host:")))
        .map(|h| h.trim().split(':').next().unwrap_or("").to_string())
        .unwrap_or_default();
    let key = format!("{host}{path}");
    asked.lock().unwrap().push(key.clone());
    let reply = routes
        .lock()
        .unwrap()
        .get(&key)
        .cloned()
        .unwrap_or(Reply::Status(404));
    let _ = match reply {
        Reply::Xml(body) => write!(
            tls,
            "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
        Reply::Status(code) => write!(
            tls,
            "HTTP/1.1 {code} Whatever\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        ),
        Reply::Redirect(to) => write!(
            tls,
            "HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        ),
        Reply::Hang => {
            std::thread::sleep(Duration::from_secs(30));
            Ok(())
        }
        Reply::Endless => {
            let _ = write!(
                tls,
                "HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nConnection: close\r\n\r\n<clientConfig>"
            );
            let chunk = vec![b' '; 64 * 1024];
            // 100 MB at most, for as long as the client reads.
            for _ in 0..1600 {
                if tls.write_all(&chunk).is_err() {
                    break;
                }
            }
            Ok(())
        }
    };
    let _ = tls.flush();
    tls.conn.send_close_notify();
    let _ = tls.flush();
}

/// A config-v1.1 document with one POP3 server.
pub fn autoconfig(host: &str, port: u16, socket_type: &str, username: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="example.test">
    <domain>example.test</domain>
    <incomingServer type="imap">
      <hostname>imap.example.test</hostname><port>993</port><socketType>SSL</socketType>
      <username>%EMAILADDRESS%</username><authentication>password-cleartext</authentication>
    </incomingServer>
    <incomingServer type="pop3">
      <hostname>{host}</hostname>
      <port>{port}</port>
      <socketType>{socket_type}</socketType>
      <username>{username}</username>
      <authentication>password-cleartext</authentication>
    </incomingServer>
  </emailProvider>
</clientConfig>"#
    )
}
