//! The only place with sockets and TLS: connecting, STLS, and a blocking
//! driver for the IO-free [`pop3::Client`].

pub mod certificate;
pub mod tls;

use std::io::{self, Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The least average rate, in bytes a second, at which a reply must arrive
/// once it has taken longer than the timeout.
pub const MIN_RATE: f64 = 1024.0;

use rustls::pki_types::ServerName;
use rustls::{ClientConnection, StreamOwned};

use crate::pop3::{self, Capabilities, Command, Limits, ProtocolError, Reply, RespCode};
pub use certificate::CertificateSummary;
pub use tls::{Fingerprint, Trust};

/// How the connection is secured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Security {
    /// TLS from the first byte (POP3S, port 995).
    Tls,
    /// Plain TCP upgraded with STLS before anything else (port 110).
    Starttls,
    /// No encryption at all: only when the account says so.
    Plain,
}

impl Security {
    pub fn default_port(self) -> u16 {
        match self {
            Security::Tls => 995,
            Security::Starttls | Security::Plain => 110,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Security::Tls => "tls",
            Security::Starttls => "starttls",
            Security::Plain => "plain",
        }
    }
}

impl std::str::FromStr for Security {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "tls" | "ssl" | "pop3s" => Ok(Security::Tls),
            "starttls" | "stls" => Ok(Security::Starttls),
            "plain" | "none" => Ok(Security::Plain),
            _ => Err(format!(
                "unknown security {s:?}: use tls, starttls or plain"
            )),
        }
    }
}

/// Where and how to connect.
#[derive(Clone, Debug)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub trust: Trust,
    /// Connecting, and waiting for any one read or write.
    pub timeout: Duration,
    pub limits: Limits,
}

/// A server certificate that was refused, with what the user needs to decide.
#[derive(Debug, thiserror::Error)]
#[error(
    "the certificate of {host} is not trusted: {reason}.\n  It presented SHA-256 fingerprint {}{}{}",
    seen.as_ref().map_or("(none)".to_string(), |f| f.to_string()),
    summary.as_ref().map(|s| format!("\n  ({s})")).unwrap_or_default(),
    match (pinned, seen) {
        (Some(p), _) => format!("\n  but the account trusts {p}: the server's certificate has changed. Check with its administrator before trusting the new one."),
        (None, Some(f)) => format!("\n  If you know this is your server's certificate, trust it with --trust-fingerprint {f}"),
        (None, None) => String::new(),
    }
)]
pub struct UntrustedCertificate {
    pub host: String,
    pub reason: String,
    /// The fingerprint of the certificate the server showed.
    pub seen: Option<Fingerprint>,
    pub summary: Option<CertificateSummary>,
    /// The fingerprint the account trusts, if it pins one.
    pub pinned: Option<Fingerprint>,
}

/// What went wrong below the mail logic: the network, TLS, or the server's bytes.
#[derive(Debug, thiserror::Error)]
pub enum NetError {
    #[error("cannot find the server {host}: {source}")]
    Resolve { host: String, source: io::Error },
    #[error("cannot connect to {addr}: {source}")]
    Connect { addr: String, source: io::Error },
    #[error("the server did not answer within {} seconds", timeout.as_secs())]
    Timeout { timeout: Duration },
    /// A command sent behind others got not one byte of its reply:
    /// the mark of a server that drops pipelined commands.
    #[error("the server did not answer within {} seconds ({in_flight} commands unanswered)", timeout.as_secs())]
    Unanswered { timeout: Duration, in_flight: usize },
    #[error("the server closed the connection")]
    Closed,
    #[error(
        "the server sends too slowly ({bytes} bytes in {secs} seconds for one reply); Pipit gave up"
    )]
    TooSlow { bytes: usize, secs: u64 },
    #[error("network error: {0}")]
    Io(io::Error),
    #[error(transparent)]
    Certificate(Box<UntrustedCertificate>),
    #[error("TLS failed: {0}")]
    Tls(String),
    #[error("TLS setup: {0}")]
    TlsSetup(String),
    #[error(
        "the server does not offer STLS, so the connection cannot be encrypted; nothing was sent. \
Use --security tls (port 995) if the server supports it"
    )]
    StlsUnavailable,
    #[error("the server refused STLS ({0}); nothing was sent")]
    StlsRefused(String),
    #[error("the server refused the connection: {text}")]
    Refused {
        code: Option<RespCode>,
        text: String,
    },
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    /// A command was refused before it was sent (see [`pop3::UnsafeArgument`]).
    #[error(transparent)]
    UnsafeArgument(#[from] pop3::UnsafeArgument),
}

enum Stream {
    Plain(TcpStream),
    Tls(Box<StreamOwned<ClientConnection, TcpStream>>),
    /// Only for the moment the TCP stream moves into TLS during STLS.
    Upgrading,
}

fn upgrading() -> io::Error {
    io::Error::other("internal: the connection was used while TLS was being set up")
}

impl Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Stream::Plain(s) => s.read(buf),
            Stream::Tls(s) => s.read(buf),
            Stream::Upgrading => Err(upgrading()),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        match self {
            Stream::Plain(s) => s.write_all(buf).and_then(|()| s.flush()),
            Stream::Tls(s) => s.write_all(buf).and_then(|()| s.flush()),
            Stream::Upgrading => Err(upgrading()),
        }
    }
}

/// One open POP3 connection: a socket and the conversation on it.
pub struct Session {
    stream: Stream,
    client: pop3::Client,
    buf: Vec<u8>,
    timeout: Duration,
    /// The greeting's text (APOP needs its timestamp).
    pub greeting: String,
    /// The capabilities last read with CAPA.
    pub capabilities: Option<Capabilities>,
    /// Every byte read from the server so far.
    pub bytes_received: u64,
}

impl Session {
    /// Connects, reads the greeting, and (for STARTTLS) upgrades with STLS
    /// before anything else is sent. Returns with CAPA read on the final transport.
    pub fn open(endpoint: &Endpoint) -> Result<Session, NetError> {
        let tcp = connect_tcp(&endpoint.host, endpoint.port, endpoint.timeout)?;
        let stream = match endpoint.security {
            Security::Tls => Stream::Tls(Box::new(tls_handshake(endpoint, tcp)?)),
            Security::Starttls | Security::Plain => Stream::Plain(tcp),
        };
        let mut session = Session {
            stream,
            client: pop3::Client::new(endpoint.limits),
            buf: vec![0; 64 * 1024],
            timeout: endpoint.timeout,
            greeting: String::new(),
            capabilities: None,
            bytes_received: 0,
        };
        let greeting = session.read_reply()?;
        if !greeting.is_ok() {
            return Err(NetError::Refused {
                code: greeting.code,
                text: greeting.text,
            });
        }
        session.greeting = greeting.text;
        session.refresh_capabilities()?;
        if endpoint.security == Security::Starttls {
            session.start_tls(endpoint)?;
            session.refresh_capabilities()?;
        }
        Ok(session)
    }

    fn start_tls(&mut self, endpoint: &Endpoint) -> Result<(), NetError> {
        // A server that answered CAPA without STLS does not have it. One that
        // does not know CAPA may still know STLS: ask, and stop on -ERR.
        if self.capabilities.as_ref().is_some_and(|c| !c.stls) {
            return Err(NetError::StlsUnavailable);
        }
        let reply = self.command(&Command::Stls)?;
        if !reply.is_ok() {
            return Err(NetError::StlsRefused(reply.text));
        }
        // Bytes that came after +OK but before TLS would be injected plaintext.
        if self.client.has_unread_input() {
            return Err(ProtocolError::Unsolicited {
                excerpt: "bytes after the STLS reply, before TLS began".into(),
            }
            .into());
        }
        let Stream::Plain(tcp) = std::mem::replace(&mut self.stream, Stream::Upgrading) else {
            return Err(NetError::Tls(
                "STLS on a connection already encrypted".into(),
            ));
        };
        self.stream = Stream::Tls(Box::new(tls_handshake(endpoint, tcp)?));
        self.client = pop3::Client::after_stls(*self.client.limits());
        Ok(())
    }

    /// Asks CAPA; a server that does not know it leaves `capabilities` as `None`.
    pub fn refresh_capabilities(&mut self) -> Result<(), NetError> {
        let reply = self.command(&Command::Capa)?;
        self.apply_capabilities(reply);
        Ok(())
    }

    /// Takes in the reply to a CAPA that was sent (perhaps pipelined) earlier.
    pub fn apply_capabilities(&mut self, reply: Reply) {
        self.capabilities = match reply.body {
            Some(body) if reply.indicator == pop3::Indicator::Ok => {
                Some(Capabilities::parse(&body))
            }
            _ => None,
        };
    }

    /// The bounds the replies are read within.
    pub fn limits(&self) -> Limits {
        *self.client.limits()
    }

    /// The capabilities, or the empty set if the server does not know CAPA.
    pub fn caps(&self) -> Capabilities {
        self.capabilities.clone().unwrap_or_default()
    }

    /// Queues a command without waiting (pipelining); see [`Session::read_reply`].
    pub fn send(&mut self, command: &Command) -> Result<(), NetError> {
        Ok(self.client.send(command)?)
    }

    /// Replies still owed for commands sent.
    pub fn in_flight(&self) -> usize {
        self.client.in_flight()
    }

    /// Sends one command and waits for its reply (everything queued before it first).
    pub fn command(&mut self, command: &Command) -> Result<Reply, NetError> {
        if self.client.in_flight() > 0 {
            return Err(NetError::Io(io::Error::other(
                "internal: a command was sent while replies were still owed",
            )));
        }
        self.client.send(command)?;
        self.read_reply()
    }

    /// Writes whatever is queued and reads the next reply.
    ///
    /// Time is bounded, not just each read: past the timeout, a reply must
    /// have come at [`MIN_RATE`] on average, or a server trickling a byte at
    /// a time could hold Pipit for ever.
    pub fn read_reply(&mut self) -> Result<Reply, NetError> {
        self.flush()?;
        let started = Instant::now();
        let mut got = 0usize;
        loop {
            if let Some(reply) = self.client.next_reply()? {
                return Ok(reply);
            }
            let elapsed = started.elapsed();
            if elapsed > self.timeout && (got as f64) < MIN_RATE * elapsed.as_secs_f64() {
                return Err(NetError::TooSlow {
                    bytes: got,
                    secs: elapsed.as_secs(),
                });
            }
            let n = match self.stream.read(&mut self.buf) {
                Ok(n) => n,
                Err(e) => {
                    return Err(match self.io_error(e) {
                        NetError::Timeout { timeout } if self.client.awaiting_pipelined() => {
                            NetError::Unanswered {
                                timeout,
                                in_flight: self.client.in_flight(),
                            }
                        }
                        other => other,
                    });
                }
            };
            if n == 0 {
                return Err(NetError::Closed);
            }
            got += n;
            self.bytes_received += n as u64;
            self.client.feed(&self.buf[..n]);
        }
    }

    /// Writes the queued commands.
    pub fn flush(&mut self) -> Result<(), NetError> {
        if self.client.output().is_empty() {
            return Ok(());
        }
        let pending = self.client.output().to_vec();
        self.stream
            .write_all(&pending)
            .map_err(|e| self.io_error(e))?;
        self.client.consume_output(pending.len());
        Ok(())
    }

    fn io_error(&self, e: io::Error) -> NetError {
        io_to_net(e, self.timeout)
    }
}

fn io_to_net(e: io::Error, timeout: Duration) -> NetError {
    match e.kind() {
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut => NetError::Timeout { timeout },
        io::ErrorKind::UnexpectedEof
        | io::ErrorKind::ConnectionReset
        | io::ErrorKind::BrokenPipe => NetError::Closed,
        _ => match e
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            Some(tls) => NetError::Tls(tls.to_string()),
            None => NetError::Io(e),
        },
    }
}

fn connect_tcp(host: &str, port: u16, timeout: Duration) -> Result<TcpStream, NetError> {
    let addrs: Vec<_> = (host, port)
        .to_socket_addrs()
        .map_err(|source| NetError::Resolve {
            host: host.to_string(),
            source,
        })?
        .collect();
    let mut last = None;
    for addr in &addrs {
        match TcpStream::connect_timeout(addr, timeout) {
            Ok(tcp) => {
                tcp.set_read_timeout(Some(timeout)).map_err(NetError::Io)?;
                tcp.set_write_timeout(Some(timeout)).map_err(NetError::Io)?;
                tcp.set_nodelay(true).map_err(NetError::Io)?;
                return Ok(tcp);
            }
            Err(e) => last = Some((addr.to_string(), e)),
        }
    }
    Err(match last {
        Some((_, e))
            if matches!(
                e.kind(),
                io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
            ) =>
        {
            NetError::Timeout { timeout }
        }
        Some((addr, source)) => NetError::Connect { addr, source },
        None => NetError::Resolve {
            host: host.to_string(),
            source: io::Error::new(io::ErrorKind::NotFound, "no address found"),
        },
    })
}

fn tls_handshake(
    endpoint: &Endpoint,
    mut tcp: TcpStream,
) -> Result<StreamOwned<ClientConnection, TcpStream>, NetError> {
    let seen: tls::Seen = Arc::new(Mutex::new(None));
    let config = tls::client_config(&endpoint.trust, seen.clone()).map_err(NetError::TlsSetup)?;
    let name = ServerName::try_from(endpoint.host.clone()).map_err(|_| {
        NetError::TlsSetup(format!(
            "{:?} is not a valid host name for TLS",
            endpoint.host
        ))
    })?;
    let mut conn =
        ClientConnection::new(Arc::new(config), name).map_err(|e| NetError::Tls(e.to_string()))?;
    while conn.is_handshaking() {
        if let Err(e) = conn.complete_io(&mut tcp) {
            let tls_error = e
                .get_ref()
                .and_then(|inner| inner.downcast_ref::<rustls::Error>())
                .cloned();
            return Err(match tls_error {
                Some(rustls::Error::InvalidCertificate(cert_error)) => {
                    let (fingerprint, summary) = seen.lock().ok().and_then(|s| s.clone()).unzip();
                    NetError::Certificate(Box::new(UntrustedCertificate {
                    host: endpoint.host.clone(),
                    reason: describe_certificate_error(&cert_error, &endpoint.host),
                    seen: fingerprint,
                    summary: summary.flatten(),
                    pinned: match &endpoint.trust {
                        Trust::Fingerprint(p) => Some(p.clone()),
                        _ => None,
                    },
                    }))
                }
                Some(other) => NetError::Tls(other.to_string()),
                // A server that hangs up mid-handshake is not speaking TLS here.
                None => match io_to_net(e, endpoint.timeout) {
                    NetError::Closed => NetError::Tls(
                        "the server closed the connection during the TLS handshake (is this port for TLS?)".into(),
                    ),
                    other => other,
                },
            });
        }
    }
    Ok(StreamOwned::new(conn, tcp))
}

fn describe_certificate_error(e: &rustls::CertificateError, host: &str) -> String {
    use rustls::CertificateError as C;
    match e {
        C::UnknownIssuer => {
            "it is not signed by an authority Pipit trusts (a self-signed certificate?)".into()
        }
        C::NotValidForName | C::NotValidForNameContext { .. } => {
            format!("it is not valid for the name {host}")
        }
        C::Expired | C::ExpiredContext { .. } => "it has expired".into(),
        C::NotValidYet | C::NotValidYetContext { .. } => {
            "it is not valid yet (is the clock right?)".into()
        }
        C::Revoked => "it has been revoked".into(),
        C::ApplicationVerificationFailure => "it is not the certificate this account trusts".into(),
        other => format!("{other:?}"),
    }
}
