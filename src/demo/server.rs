//! A small POP3 server over TLS, for the demo only: one user, one mailbox in
//! memory, RFC 1939 plus CAPA, UIDL, TOP, SASL PLAIN and pipelining (commands
//! are read line by line, so a pipelined burst is simply answered in order).
//! DELE takes effect at QUIT, as on a real server.

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

use base64::Engine as _;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection, StreamOwned};

use crate::net::Fingerprint;
use crate::pop3::server::{Maildrop, Request};

pub struct Server {
    pub port: u16,
    pub fingerprint: Fingerprint,
    stop: Arc<AtomicBool>,
}

struct Shared {
    user: String,
    password: String,
    /// (UIDL, message) in order; deleted ones are removed at QUIT.
    mailbox: Mutex<Vec<(String, Vec<u8>)>>,
}

impl Server {
    /// Starts serving `messages` on a free loopback port, with a certificate
    /// made now for localhost and 127.0.0.1.
    pub fn start(user: &str, password: &str, messages: Vec<Vec<u8>>) -> Result<Server, String> {
        let certified =
            rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()])
                .map_err(|e| format!("cannot make a certificate: {e}"))?;
        let cert_der: CertificateDer<'static> = certified.cert.der().clone();
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
            certified.signing_key.serialize_der(),
        ));
        let fingerprint = Fingerprint::of(&cert_der);
        let config =
            ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
                .with_safe_default_protocol_versions()
                .map_err(|e| e.to_string())?
                .with_no_client_auth()
                .with_single_cert(vec![cert_der], key)
                .map_err(|e| format!("cannot use the certificate: {e}"))?;
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0")
            .map_err(|e| format!("cannot listen on loopback: {e}"))?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        let shared = Arc::new(Shared {
            user: user.into(),
            password: password.into(),
            mailbox: Mutex::new(
                messages
                    .into_iter()
                    .enumerate()
                    .map(|(i, m)| (format!("demo-{:04}", i + 1), m))
                    .collect(),
            ),
        });
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        thread::Builder::new()
            .name("pipit-demo-server".into())
            .spawn(move || {
                for tcp in listener.incoming() {
                    if flag.load(Ordering::Relaxed) {
                        return;
                    }
                    let Ok(tcp) = tcp else { continue };
                    let (config, shared) = (config.clone(), shared.clone());
                    thread::spawn(move || {
                        if let Ok(conn) = ServerConnection::new(config) {
                            let _ = serve(StreamOwned::new(conn, tcp), &shared);
                        }
                    });
                }
            })
            .map_err(|e| e.to_string())?;
        Ok(Server {
            port,
            fingerprint,
            stop,
        })
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Reads CRLF- (or LF-) terminated lines of at most 512 bytes.
struct Lines<S> {
    stream: S,
    buf: Vec<u8>,
}

impl<S: Read> Lines<S> {
    fn next(&mut self) -> io::Result<Option<String>> {
        loop {
            if let Some(i) = self.buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=i).collect();
                return Ok(Some(String::from_utf8_lossy(&line).trim_end().to_string()));
            }
            if self.buf.len() > 512 {
                return Err(io::Error::new(io::ErrorKind::InvalidData, "line too long"));
            }
            let mut chunk = [0u8; 4096];
            let n = self.stream.read(&mut chunk)?;
            if n == 0 {
                return Ok(None);
            }
            self.buf.extend_from_slice(&chunk[..n]);
        }
    }
}

fn serve(stream: StreamOwned<ServerConnection, TcpStream>, shared: &Shared) -> io::Result<()> {
    let mut lines = Lines {
        stream,
        buf: Vec::new(),
    };
    let snapshot = shared.mailbox.lock().map(|m| m.clone()).unwrap_or_default();
    let mut maildrop = Maildrop::new(snapshot);
    let mut user_ok = false;
    let mut authed = false;
    let welcome = |ok: bool| {
        if ok {
            b"+OK welcome\r\n".to_vec()
        } else {
            b"-ERR [AUTH] wrong user name or password\r\n".to_vec()
        }
    };
    reply(&mut lines.stream, b"+OK Pipit demo POP3 server ready\r\n")?;
    while let Some(line) = lines.next()? {
        let request = Request::parse(&line);
        let out: Vec<u8> = match request {
            Request::Capa => b"+OK\r\nTOP\r\nUIDL\r\nUSER\r\nPIPELINING\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nSASL PLAIN\r\nIMPLEMENTATION Pipit-demo\r\n.\r\n".to_vec(),
            Request::Quit => {
                if authed && let Ok(mut mailbox) = shared.mailbox.lock() {
                    let gone = maildrop.deleted();
                    mailbox.retain(|(uid, _)| !gone.contains(&uid.as_str()));
                }
                reply(&mut lines.stream, b"+OK bye\r\n")?;
                return Ok(());
            }
            Request::Noop => b"+OK\r\n".to_vec(),
            Request::User(user) if !authed => {
                user_ok = user == shared.user;
                b"+OK\r\n".to_vec()
            }
            Request::Pass(password) if !authed => {
                authed = user_ok && password == shared.password;
                welcome(authed)
            }
            Request::Auth {
                mechanism,
                initial_response,
            } if !authed && mechanism.eq_ignore_ascii_case("PLAIN") => {
                let response = match initial_response {
                    Some(ir) => ir.to_string(),
                    None => {
                        reply(&mut lines.stream, b"+ \r\n")?;
                        lines.next()?.unwrap_or_default()
                    }
                };
                let decoded = base64::engine::general_purpose::STANDARD
                    .decode(response.trim())
                    .unwrap_or_default();
                let parts: Vec<&[u8]> = decoded.split(|&b| b == 0).collect();
                authed = parts.len() == 3
                    && parts[1] == shared.user.as_bytes()
                    && parts[2] == shared.password.as_bytes();
                welcome(authed)
            }
            _ if !authed => b"-ERR log in first\r\n".to_vec(),
            ref other => maildrop
                .answer(other)
                .unwrap_or_else(|| b"-ERR unknown command\r\n".to_vec()),
        };
        reply(&mut lines.stream, &out)?;
    }
    Ok(())
}

fn reply(stream: &mut impl Write, bytes: &[u8]) -> io::Result<()> {
    stream.write_all(bytes)?;
    stream.flush()
}
