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
    let mut deleted = vec![false; snapshot.len()];
    let mut user_ok = false;
    let mut authed = false;
    reply(&mut lines.stream, b"+OK Pipit demo POP3 server ready\r\n")?;
    while let Some(line) = lines.next()? {
        let mut words = line.split_whitespace();
        let verb = words.next().unwrap_or("").to_ascii_uppercase();
        let args: Vec<&str> = words.collect();
        let number = |i: usize| -> Option<usize> {
            let n: usize = args.get(i)?.parse().ok()?;
            (n >= 1 && n <= snapshot.len() && !deleted[n - 1]).then_some(n)
        };
        let out: Vec<u8> = match verb.as_str() {
            "CAPA" => b"+OK\r\nTOP\r\nUIDL\r\nUSER\r\nPIPELINING\r\nRESP-CODES\r\nAUTH-RESP-CODE\r\nSASL PLAIN\r\nIMPLEMENTATION Pipit-demo\r\n.\r\n".to_vec(),
            "QUIT" => {
                if authed && let Ok(mut mailbox) = shared.mailbox.lock() {
                    let gone: Vec<&String> = snapshot.iter().zip(&deleted).filter(|(_, d)| **d).map(|((uid, _), _)| uid).collect();
                    mailbox.retain(|(uid, _)| !gone.contains(&uid));
                }
                reply(&mut lines.stream, b"+OK bye\r\n")?;
                return Ok(());
            }
            "NOOP" => b"+OK\r\n".to_vec(),
            "USER" if !authed => {
                user_ok = args.first() == Some(&shared.user.as_str());
                b"+OK\r\n".to_vec()
            }
            "PASS" if !authed => {
                authed = user_ok && args.join(" ") == shared.password;
                if authed { b"+OK welcome\r\n".to_vec() } else { b"-ERR [AUTH] wrong user name or password\r\n".to_vec() }
            }
            "AUTH" if !authed && args.first().is_some_and(|m| m.eq_ignore_ascii_case("PLAIN")) => {
                let response = match args.get(1) {
                    Some(ir) => ir.to_string(),
                    None => {
                        reply(&mut lines.stream, b"+ \r\n")?;
                        lines.next()?.unwrap_or_default()
                    }
                };
                let decoded = base64::engine::general_purpose::STANDARD.decode(response.trim()).unwrap_or_default();
                let parts: Vec<&[u8]> = decoded.split(|&b| b == 0).collect();
                authed = parts.len() == 3 && parts[1] == shared.user.as_bytes() && parts[2] == shared.password.as_bytes();
                if authed { b"+OK welcome\r\n".to_vec() } else { b"-ERR [AUTH] wrong user name or password\r\n".to_vec() }
            }
            _ if !authed => b"-ERR log in first\r\n".to_vec(),
            "STAT" => {
                let live = snapshot.iter().zip(&deleted).filter(|(_, d)| !**d);
                let (n, size) = live.fold((0, 0), |(n, s), ((_, m), _)| (n + 1, s + m.len()));
                format!("+OK {n} {size}\r\n").into_bytes()
            }
            "LIST" | "UIDL" if args.is_empty() => {
                let mut r = b"+OK\r\n".to_vec();
                for (i, (uid, m)) in snapshot.iter().enumerate().filter(|(i, _)| !deleted[*i]) {
                    let value = if verb == "LIST" { m.len().to_string() } else { uid.clone() };
                    r.extend_from_slice(format!("{} {value}\r\n", i + 1).as_bytes());
                }
                r.extend_from_slice(b".\r\n");
                r
            }
            "LIST" | "UIDL" => match number(0) {
                Some(n) if verb == "LIST" => format!("+OK {n} {}\r\n", snapshot[n - 1].1.len()).into_bytes(),
                Some(n) => format!("+OK {n} {}\r\n", snapshot[n - 1].0).into_bytes(),
                None => b"-ERR no such message\r\n".to_vec(),
            },
            "RETR" | "TOP" => match (number(0), verb.as_str()) {
                (Some(n), "RETR") => multiline(&snapshot[n - 1].1, None),
                (Some(n), _) => match args.get(1).and_then(|l| l.parse().ok()) {
                    Some(lines) => multiline(&snapshot[n - 1].1, Some(lines)),
                    None => b"-ERR TOP needs a line count\r\n".to_vec(),
                },
                (None, _) => b"-ERR no such message\r\n".to_vec(),
            },
            "DELE" => match number(0) {
                Some(n) => {
                    deleted[n - 1] = true;
                    b"+OK deleted\r\n".to_vec()
                }
                None => b"-ERR no such message\r\n".to_vec(),
            },
            "RSET" => {
                deleted.iter_mut().for_each(|d| *d = false);
                b"+OK\r\n".to_vec()
            }
            _ => b"-ERR unknown command\r\n".to_vec(),
        };
        reply(&mut lines.stream, &out)?;
    }
    Ok(())
}

fn reply(stream: &mut impl Write, bytes: &[u8]) -> io::Result<()> {
    stream.write_all(bytes)?;
    stream.flush()
}

/// "+OK", then the message (or its header block and `body_lines` lines).
fn multiline(message: &[u8], body_lines: Option<usize>) -> Vec<u8> {
    let mut out = b"+OK\r\n".to_vec();
    out.extend_from_slice(&crate::pop3::dot_stuff(message, body_lines));
    out
}
