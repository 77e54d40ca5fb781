//! The only place with sockets and TLS: connecting, the TLS handshake
//! (at once, or when the engine says STLS succeeded), certificate trust,
//! and a blocking driver that moves bytes and time for the IO-free
//! [`pop3::Connection`].

pub mod certificate;
pub mod hosts;
pub mod tls;

use std::collections::VecDeque;
use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use rustls::{ClientConnection, StreamOwned};

use crate::pop3::{self, Capabilities, Command, Event, Limits, ProtocolError, Reply, RespCode};
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
    /// The server refused the login.
    #[error("the server refused the login: {text}")]
    LoginRefused {
        refusal: pop3::connection::Refusal,
        text: String,
        mechanism: Option<pop3::auth::Mechanism>,
    },
    #[error(
        "APOP was asked for, but the server's greeting has no timestamp, so it does not support APOP"
    )]
    NoApop,
    /// The server refused the OAuth2 access token.
    #[error(
        "the server refused the access token ({}{}): {text}",
        mechanism.name(),
        status.as_ref().map(|s| format!(", status {s}")).unwrap_or_default()
    )]
    TokenRefused {
        mechanism: pop3::auth::Mechanism,
        status: Option<String>,
        text: String,
    },
    /// The account's SASL mechanism is not among the server's (see
    /// [`pop3::connection::Error::NotOffered`]).
    #[error(transparent)]
    NotOffered(pop3::connection::Error),
    /// An access token would cross a network unencrypted: nothing was sent.
    #[error(transparent)]
    TokenInClear(pop3::connection::Error),
    #[error("the SASL exchange failed: {0}")]
    Sasl(pop3::auth::SaslError),
    /// Pipit's own bug: a command out of turn.
    #[error("internal: {0}")]
    Internal(String),
    /// The server asked for more of the login while commands were pipelined
    /// behind it (see [`pop3::connection::Error::PipelinedLogin`]).
    #[error("{0}")]
    PipelinedLogin(pop3::connection::Error),
}

impl From<pop3::connection::Error> for NetError {
    fn from(e: pop3::connection::Error) -> NetError {
        use pop3::connection::Error as E;
        match e {
            E::Greeting { code, text } => NetError::Refused { code, text },
            E::StlsUnavailable => NetError::StlsUnavailable,
            E::StlsRefused(text) => NetError::StlsRefused(text),
            E::NoApop => NetError::NoApop,
            E::Refused {
                refusal,
                text,
                mechanism,
            } => NetError::LoginRefused {
                refusal,
                text,
                mechanism,
            },
            E::TokenRefused {
                mechanism,
                status,
                text,
            } => NetError::TokenRefused {
                mechanism,
                status,
                text,
            },
            e @ E::NotOffered { .. } => NetError::NotOffered(e),
            e @ E::TokenInClear => NetError::TokenInClear(e),
            E::Sasl(e) => NetError::Sasl(e),
            E::Protocol(e) => NetError::Protocol(e),
            E::UnsafeArgument(e) => NetError::UnsafeArgument(e),
            E::Timeout { timeout } => NetError::Timeout { timeout },
            E::Unanswered { timeout, in_flight } => NetError::Unanswered { timeout, in_flight },
            E::TooSlow { bytes, secs } => NetError::TooSlow { bytes, secs },
            E::NotReady => NetError::Internal(e.to_string()),
            e @ E::PipelinedLogin => NetError::PipelinedLogin(e),
        }
    }
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

    /// Ends the connection after what was written: TLS's close_notify, then
    /// FIN. Bytes the server already sent are read away first, so closing
    /// does not turn into a reset that could overtake the last command.
    fn close(&mut self) {
        let tcp = match self {
            Stream::Plain(s) => s,
            Stream::Tls(s) => {
                s.conn.send_close_notify();
                while s.conn.wants_write() {
                    if s.conn.write_tls(&mut s.sock).is_err() {
                        break;
                    }
                }
                &mut s.sock
            }
            Stream::Upgrading => return,
        };
        let _ = tcp.shutdown(std::net::Shutdown::Write);
        if tcp.set_nonblocking(true).is_ok() {
            // What has come already, and no more than a little: a server
            // that keeps sending must not hold the fetch here.
            let mut sink = [0u8; 16 * 1024];
            for _ in 0..64 {
                if !matches!(tcp.read(&mut sink), Ok(n) if n > 0) {
                    break;
                }
            }
        }
    }

    /// How long one read may wait, for the engine's next deadline.
    fn set_read_timeout(&mut self, wait: Duration) -> io::Result<()> {
        // A zero timeout means "block for ever" to the OS: never ask for it.
        let wait = Some(wait.max(Duration::from_millis(1)));
        match self {
            Stream::Plain(s) => s.set_read_timeout(wait),
            Stream::Tls(s) => s.sock.set_read_timeout(wait),
            Stream::Upgrading => Err(upgrading()),
        }
    }
}

/// Who logs in, and how.
#[derive(Clone)]
pub struct Login {
    pub user: String,
    pub password: String,
    pub method: pop3::Method,
    /// What this server listed before the login last time (see
    /// [`pop3::Options::known`]).
    pub known: Option<Capabilities>,
    /// Whether commands may be pipelined (see [`pop3::Options::pipeline`]).
    pub pipeline: bool,
    /// Commands to pipeline behind the login (see
    /// [`pop3::Options::after_login`]).
    pub after_login: Vec<Command>,
}

impl Login {
    /// A login that remembers nothing and pipelines nothing behind it.
    pub fn plain(user: String, password: String, method: pop3::Method) -> Login {
        Login {
            user,
            password,
            method,
            known: None,
            pipeline: true,
            after_login: Vec::new(),
        }
    }
}

/// What a server said before any login (see [`Session::probe`]).
#[derive(Clone, Debug)]
pub struct Probed {
    pub greeting: String,
    /// `None`: the server does not know CAPA.
    pub capabilities: Option<Capabilities>,
}

/// One open POP3 connection: a socket, and the protocol engine
/// ([`pop3::Connection`]) whose bytes and clock it carries. All the rules
/// live in the engine; this only moves bytes and time.
pub struct Session {
    stream: Stream,
    connection: pop3::Connection,
    buf: Vec<u8>,
    /// Replies that came, oldest first, not yet read.
    replies: VecDeque<Reply>,
    /// Capabilities after the login, once asked again.
    capabilities_after_login: Option<Option<Capabilities>>,
    /// How long each step of [`Session::open`] took.
    timings: Timings,
    /// When the last event went to the caller: from then until it asks
    /// again, it is not reading, and the server is not to blame for that.
    away_since: Option<Instant>,
    /// Whether the address connected to is this very machine.
    loopback: bool,
}

/// How long the steps of opening a session took, each from the moment the
/// connection was first asked for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Timings {
    /// The TCP connection made (the name resolved, too).
    pub connected: Duration,
    /// The TLS handshake over (at once, or after STLS).
    pub tls: Option<Duration>,
    /// The server's greeting read.
    pub greeting: Option<Duration>,
    /// Logged in.
    pub logged_in: Duration,
}

/// What TLS a session runs over, as negotiated.
#[derive(Clone, Debug)]
pub struct TlsDetails {
    /// "TLSv1.3"
    pub version: String,
    /// "TLS13_AES_256_GCM_SHA384"
    pub cipher: String,
    /// The certificates the server presented, its own first.
    pub chain: Vec<rustls::pki_types::CertificateDer<'static>>,
}

impl Session {
    /// Connects, and converses until logged in: the greeting, CAPA, STLS
    /// (for STARTTLS, before anything else is sent), then the login.
    pub fn open(endpoint: &Endpoint, login: &Login) -> Result<Session, NetError> {
        let started = Instant::now();
        let mut session = Session::connect(endpoint, login, started)?;
        loop {
            match session.next_event()? {
                Event::StartTls => {
                    session.start_tls(endpoint)?;
                    session.timings.tls = Some(started.elapsed());
                }
                Event::LoggedIn => {
                    let timings = &mut session.timings;
                    timings.logged_in = started.elapsed();
                    timings.greeting = session
                        .connection
                        .greeted_at()
                        .map(|at| at.saturating_duration_since(started));
                    return Ok(session);
                }
                Event::Reply(..) | Event::Probed => {
                    return Err(NetError::Io(io::Error::other(
                        "internal: a reply came before the login was over",
                    )));
                }
            }
        }
    }

    /// Connects and reads the greeting and the capabilities (after STLS and
    /// TLS, for STARTTLS), without logging in: nothing of the user's is
    /// sent. Then QUIT. What account discovery asks of a server it guesses.
    pub fn probe(endpoint: &Endpoint) -> Result<Probed, NetError> {
        let login = Login::plain(String::new(), String::new(), pop3::Method::Probe);
        let mut session = Session::connect(endpoint, &login, Instant::now())?;
        loop {
            match session.next_event()? {
                Event::StartTls => session.start_tls(endpoint)?,
                Event::Probed => break,
                Event::Reply(..) | Event::LoggedIn => {
                    return Err(NetError::Io(io::Error::other(
                        "internal: a probe went past the capabilities",
                    )));
                }
            }
        }
        let probed = Probed {
            greeting: session.greeting().to_string(),
            capabilities: session.capabilities().cloned(),
        };
        // A polite goodbye; the answer changes nothing.
        let _ = session.command(&Command::Quit);
        Ok(probed)
    }

    /// The connection, before its first byte is read; `started` is when
    /// opening began, for the timings.
    fn connect(endpoint: &Endpoint, login: &Login, started: Instant) -> Result<Session, NetError> {
        let tcp = connect_tcp(&endpoint.host, endpoint.port, endpoint.timeout)?;
        let connected = started.elapsed();
        // Plain text to this very machine crosses no network.
        let loopback = tcp
            .peer_addr()
            .is_ok_and(|a| a.ip().to_canonical().is_loopback());
        let stream = match endpoint.security {
            Security::Tls => Stream::Tls(Box::new(tls_handshake(endpoint, tcp, &[])?)),
            Security::Starttls | Security::Plain => Stream::Plain(tcp),
        };
        let options = pop3::Options {
            starttls: endpoint.security == Security::Starttls,
            user: login.user.clone(),
            password: login.password.clone(),
            method: login.method,
            limits: endpoint.limits,
            timeout: endpoint.timeout,
            nonce: pop3::auth::fresh_nonce(),
            host: endpoint.host.clone(),
            port: endpoint.port,
            cleartext_remote: endpoint.security == Security::Plain && !loopback,
            known: login.known.clone(),
            pipeline: login.pipeline,
            after_login: login.after_login.clone(),
        };
        Ok(Session {
            stream,
            connection: pop3::Connection::new(options, Instant::now()),
            buf: vec![0; 64 * 1024],
            replies: VecDeque::new(),
            capabilities_after_login: None,
            timings: Timings {
                connected,
                tls: (endpoint.security == Security::Tls).then(|| started.elapsed()),
                ..Timings::default()
            },
            away_since: None,
            loopback,
        })
    }

    /// Whether the address this session is connected to is this very
    /// machine (plain text to it crosses no network). The address itself,
    /// not a second look-up of the name, which may answer otherwise.
    pub fn loopback(&self) -> bool {
        self.loopback
    }

    fn start_tls(&mut self, endpoint: &Endpoint) -> Result<(), NetError> {
        let Stream::Plain(tcp) = std::mem::replace(&mut self.stream, Stream::Upgrading) else {
            return Err(NetError::Tls(
                "STLS on a connection already encrypted".into(),
            ));
        };
        // The engine's first words over TLS (CAPA) go out with the
        // handshake's last flight, not in a burst of their own after it.
        self.connection.tls_started(Instant::now());
        let first = self.connection.poll_transmit().to_vec();
        self.stream = Stream::Tls(Box::new(tls_handshake(endpoint, tcp, &first)?));
        self.connection.consume_transmit(first.len());
        Ok(())
    }

    /// The greeting's text.
    pub fn greeting(&self) -> &str {
        self.connection.greeting()
    }

    /// How long opening the session took, step by step.
    pub fn timings(&self) -> Timings {
        self.timings
    }

    /// How the session logged in (APOP, USER/PASS, a SASL mechanism).
    pub fn logged_in_with(&self) -> Option<pop3::Method> {
        self.connection.logged_in_with()
    }

    /// The TLS version, cipher suite and certificates negotiated; `None`
    /// on a plain-text connection.
    pub fn tls_details(&self) -> Option<TlsDetails> {
        let Stream::Tls(stream) = &self.stream else {
            return None;
        };
        Some(tls_details(&stream.conn))
    }

    /// The capabilities this session's CAPA before the login listed (after
    /// TLS, for STARTTLS); `None` if it was skipped or the server does not
    /// know CAPA.
    pub fn capabilities_before_login(&self) -> Option<&Capabilities> {
        self.connection.capabilities()
    }

    /// Whether the login went by remembered capabilities (no CAPA before it).
    pub fn capa_skipped(&self) -> bool {
        self.connection.capa_skipped()
    }

    /// Whether [`Login::after_login`] went out behind the login: their
    /// replies come first from [`Session::read_reply`].
    pub fn after_login_sent(&self) -> bool {
        self.connection.after_login_sent()
    }

    /// Sends QUIT (unless it went already, pipelined behind the last
    /// command) and leaves without waiting for its reply: for a session
    /// whose QUIT has nothing to confirm (no DELE was sent). Whatever the
    /// server still sends is not read.
    ///
    /// A failure to say goodbye changes nothing (all that was fetched is
    /// stored, nothing was deleted): it is not an error.
    pub fn quit_without_waiting(mut self, quit_sent: bool) {
        if !quit_sent && self.send(&Command::Quit).is_err() {
            return;
        }
        if self.flush().is_ok() {
            self.stream.close();
        }
    }

    /// The capabilities last read: after the login if asked again, else from
    /// before it. `None`: the server does not know CAPA.
    pub fn capabilities(&self) -> Option<&Capabilities> {
        match &self.capabilities_after_login {
            Some(after) => after.as_ref(),
            None => self.connection.capabilities(),
        }
    }

    /// The capabilities, or the empty set if the server does not know CAPA.
    pub fn caps(&self) -> Capabilities {
        self.capabilities().cloned().unwrap_or_default()
    }

    /// Asks CAPA again (some servers show more after the login).
    pub fn refresh_capabilities(&mut self) -> Result<(), NetError> {
        let reply = self.command(&Command::Capa)?;
        self.apply_capabilities(reply);
        Ok(())
    }

    /// Takes in the reply to a CAPA that was sent (perhaps pipelined) earlier.
    pub fn apply_capabilities(&mut self, reply: Reply) {
        self.capabilities_after_login = Some(match reply.body {
            Some(body) if reply.indicator == pop3::Indicator::Ok => {
                Some(Capabilities::parse(&body))
            }
            _ => None,
        });
    }

    /// The bounds the replies are read within.
    pub fn limits(&self) -> Limits {
        *self.connection.limits()
    }

    /// Every byte read from the server so far.
    pub fn bytes_received(&self) -> u64 {
        self.connection.bytes_received()
    }

    /// Queues a command without waiting (pipelining); its reply comes, in
    /// order, from [`Session::read_reply`].
    pub fn send(&mut self, command: &Command) -> Result<(), NetError> {
        self.connection.send(command, Instant::now())?;
        Ok(())
    }

    /// Sends one command and waits for its reply.
    pub fn command(&mut self, command: &Command) -> Result<Reply, NetError> {
        if self.connection.in_flight() > 0 || !self.replies.is_empty() {
            return Err(NetError::Io(io::Error::other(
                "internal: a command was sent while replies were still owed",
            )));
        }
        self.send(command)?;
        self.read_reply()
    }

    /// The next reply, in the order the commands went out.
    pub fn read_reply(&mut self) -> Result<Reply, NetError> {
        loop {
            if let Some(reply) = self.replies.pop_front() {
                return Ok(reply);
            }
            match self.next_event()? {
                Event::Reply(_, reply) => self.replies.push_back(reply),
                Event::StartTls | Event::LoggedIn | Event::Probed => {
                    return Err(NetError::Io(io::Error::other(
                        "internal: the login came again",
                    )));
                }
            }
        }
    }

    /// Moves bytes both ways, and time, until the engine has an event.
    fn next_event(&mut self) -> Result<Event, NetError> {
        if let Some(since) = self.away_since.take() {
            self.connection.resume(since, Instant::now());
        }
        loop {
            self.flush()?;
            if let Some(event) = self.connection.poll_event() {
                self.away_since = Some(Instant::now());
                return Ok(event?);
            }
            let now = Instant::now();
            let wait = self
                .connection
                .poll_timeout()
                .map(|deadline| deadline.saturating_duration_since(now));
            match wait {
                // The deadline has passed: the engine says what that means.
                Some(w) if w.is_zero() => {
                    self.connection.handle_timeout(now);
                    continue;
                }
                Some(w) => self.stream.set_read_timeout(w).map_err(NetError::Io)?,
                None => {
                    return Err(NetError::Io(io::Error::other(
                        "internal: waiting for a server that owes nothing",
                    )));
                }
            }
            match self.stream.read(&mut self.buf) {
                Ok(0) => return Err(NetError::Closed),
                Ok(n) => self.connection.handle_input(&self.buf[..n], Instant::now()),
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    self.connection.handle_timeout(Instant::now());
                }
                Err(e) => return Err(io_to_net(e, self.timeout())),
            }
        }
    }

    fn timeout(&self) -> Duration {
        self.connection.timeout()
    }

    /// Writes what the engine has to send.
    fn flush(&mut self) -> Result<(), NetError> {
        let pending = self.connection.poll_transmit();
        if pending.is_empty() {
            return Ok(());
        }
        let n = pending.len();
        let timeout = self.timeout();
        self.stream
            .write_all(pending)
            .map_err(|e| io_to_net(e, timeout))?;
        self.connection.consume_transmit(n);
        Ok(())
    }
}

/// Connects and completes a TLS handshake, and no more: not a byte of
/// POP3 is read or sent. For implicit TLS (port 995) only; a report on a
/// server whose login failed still shows its TLS.
pub fn probe_tls(endpoint: &Endpoint) -> Result<TlsDetails, NetError> {
    let tcp = connect_tcp(&endpoint.host, endpoint.port, endpoint.timeout)?;
    let stream = tls_handshake(endpoint, tcp, &[])?;
    Ok(tls_details(&stream.conn))
}

fn tls_details(conn: &ClientConnection) -> TlsDetails {
    TlsDetails {
        version: conn
            .protocol_version()
            .map(|v| match v {
                rustls::ProtocolVersion::TLSv1_2 => "TLSv1.2".to_string(),
                rustls::ProtocolVersion::TLSv1_3 => "TLSv1.3".to_string(),
                other => format!("{other:?}"),
            })
            .unwrap_or_default(),
        cipher: conn
            .negotiated_cipher_suite()
            .map(|c| format!("{:?}", c.suite()))
            .unwrap_or_default(),
        chain: conn
            .peer_certificates()
            .map(|c| c.iter().map(|c| c.clone().into_owned()).collect())
            .unwrap_or_default(),
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
    let addrs = hosts::resolve(host, port).map_err(|source| NetError::Resolve {
        host: host.to_string(),
        source,
    })?;
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

/// The TLS handshake; `first` is sent as soon as it is over, with the
/// client's last handshake message.
fn tls_handshake(
    endpoint: &Endpoint,
    mut tcp: TcpStream,
    first: &[u8],
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
    // Held by rustls until the handshake is over (never sent before it).
    conn.writer().write_all(first).map_err(NetError::Io)?;
    // The whole handshake within twice the timeout: each read waits at most
    // the timeout, but a server that trickles its bytes would otherwise
    // keep it going for as long as it likes.
    let mut within = Deadlined {
        tcp: &mut tcp,
        deadline: Instant::now() + endpoint.timeout * 2,
        timeout: endpoint.timeout,
    };
    while conn.is_handshaking() {
        if let Err(e) = conn.complete_io(&mut within) {
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
    tcp.set_read_timeout(Some(endpoint.timeout))
        .map_err(NetError::Io)?;
    Ok(StreamOwned::new(conn, tcp))
}

/// A connection whose reads end at a deadline, each waiting at most the
/// timeout.
struct Deadlined<'a> {
    tcp: &'a mut TcpStream,
    deadline: Instant,
    timeout: Duration,
}

impl Read for Deadlined<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        self.tcp.set_read_timeout(Some(left.min(self.timeout)))?;
        self.tcp.read(buf)
    }
}

impl Write for Deadlined<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.tcp.write(buf)
    }

    // Each record of a flight in one write, as the connection itself would.
    fn write_vectored(&mut self, bufs: &[io::IoSlice<'_>]) -> io::Result<usize> {
        self.tcp.write_vectored(bufs)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.tcp.flush()
    }
}

pub(crate) fn describe_certificate_error(e: &rustls::CertificateError, host: &str) -> String {
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

#[cfg(test)]
mod handshake_tests {
    use super::*;

    #[test]
    fn a_tls_handshake_trickled_a_byte_at_a_time_ends_within_its_deadline() {
        // A server that starts a TLS record and then sends one byte of it
        // at a time, each well within the timeout: every read succeeds, so
        // only a deadline on the whole handshake ends it.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let _ = s.write_all(b"\x16\x03\x03\x40\x00");
            for _ in 0..100 {
                std::thread::sleep(Duration::from_millis(300));
                if s.write_all(b"\x00").is_err() {
                    return;
                }
            }
        });
        let endpoint = Endpoint {
            host: "127.0.0.1".into(),
            port,
            security: Security::Tls,
            trust: Trust::WebRoots,
            timeout: Duration::from_secs(1),
            limits: Limits::default(),
        };
        let started = Instant::now();
        let result = probe_tls(&endpoint);
        assert!(result.is_err());
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the handshake went on for {:?}",
            started.elapsed()
        );
    }
}
