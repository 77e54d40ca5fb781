//! One POP3 connection's protocol, without IO: the greeting, CAPA, the STLS
//! upgrade and its no-downgrade rules, the login (APOP, SASL, USER/PASS)
//! and its refusals, then commands paired with their replies, and the
//! clocks that say a server has stalled.
//!
//! Bytes and time go in ([`Connection::handle_input`],
//! [`Connection::handle_timeout`]); bytes to send, events and the next
//! deadline come out ([`Connection::poll_transmit`],
//! [`Connection::poll_event`], [`Connection::poll_timeout`]). Randomness (the
//! SCRAM nonce) is an input too. `net` drives it over a socket; the tests
//! here drive it with bytes alone, in every chunking.

use std::collections::VecDeque;
use std::fmt;
use std::time::{Duration, Instant};

use super::auth::{self, Mechanism, SaslError, SaslSession};
use super::capa::Capabilities;
use super::client::Client;
use super::command::{Command, Limits, UnsafeArgument, check_argument, check_sasl_field};
use super::reply::{Indicator, ProtocolError, Reply, RespCode};

/// The least average rate, in bytes a second, at which a reply must arrive
/// once it has taken longer than the timeout: a server trickling a byte at a
/// time does not hold a session for ever.
pub const MIN_RATE: f64 = 1024.0;

/// Most SASL steps an exchange may take: more is a server going in circles.
const SASL_STEPS: usize = 8;

/// How to log in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// The strongest SASL mechanism the server offers, else USER/PASS.
    Auto,
    /// APOP: the password never crosses the wire.
    Apop,
    /// USER and PASS.
    UserPass,
    /// This SASL mechanism, whatever else is offered.
    Sasl(Mechanism),
    /// No login at all: the conversation stops once the greeting and the
    /// capabilities are known (after STLS and TLS, if asked), with
    /// [`Event::Probed`]; nothing of the user's is sent. Only QUIT may
    /// follow. For finding out what a server offers (account discovery).
    Probe,
}

/// What a connection needs to know before its first byte.
#[derive(Clone)]
pub struct Options {
    /// Upgrade with STLS before anything else, and refuse to go on without it.
    pub starttls: bool,
    pub user: String,
    pub password: String,
    pub method: Method,
    pub limits: Limits,
    /// How long the server may stay silent while a reply is owed.
    pub timeout: Duration,
    /// The SCRAM client nonce (see [`auth::fresh_nonce`]).
    pub nonce: String,
    /// The server's name and port, as the account gives them (OAUTHBEARER
    /// names them).
    pub host: String,
    pub port: u16,
    /// The connection is never encrypted and its peer is not this machine
    /// (a plain-text account on another host): no access token may cross it.
    pub cleartext_remote: bool,
    /// The capabilities this server listed before the login last time (same
    /// host, port and security). With them the CAPA before the login is
    /// skipped where that cannot weaken anything (see
    /// [`Connection::may_skip_capa`]); STLS is still required, and the CAPA
    /// after TLS is still asked.
    pub known: Option<Capabilities>,
    /// Whether commands may be pipelined at all (not to a server that
    /// broke under it lately).
    pub pipeline: bool,
    /// Commands to send right behind the login's last step when the server
    /// pipelines (the listing): their replies follow [`Event::LoggedIn`].
    /// Whether they went is [`Connection::after_login_sent`]; if not, the
    /// caller sends them itself.
    pub after_login: Vec<Command>,
}

impl fmt::Debug for Options {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Options")
            .field("starttls", &self.starttls)
            .field("user", &self.user)
            .field("password", &"***")
            .field("method", &self.method)
            .field("timeout", &self.timeout)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("cleartext_remote", &self.cleartext_remote)
            .field("known", &self.known)
            .field("pipeline", &self.pipeline)
            .finish_non_exhaustive()
    }
}

/// A command's place in the conversation: its reply comes back with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Handle(u64);

/// What the connection has to say.
#[derive(Debug, PartialEq, Eq)]
pub enum Event {
    /// Everything sent so far has gone out in plain text; switch the
    /// transport to TLS now, then call [`Connection::tls_started`].
    StartTls,
    /// Logged in: commands may be sent.
    LoggedIn,
    /// With [`Method::Probe`]: the greeting and capabilities are known, no
    /// login was tried; only QUIT may be sent.
    Probed,
    /// The reply to the command sent under this handle.
    Reply(Handle, Reply),
}

/// How a server refused a login, by its RFC 2449 / 3206 response code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// `[AUTH]`, or no code: the credentials.
    Credentials,
    /// `[IN-USE]`: another session holds the mailbox.
    InUse,
    /// `[LOGIN-DELAY]`: too soon after the last login.
    LoginDelay,
    /// `[SYS/TEMP]`: the server has a passing problem.
    Temporary,
    /// `[SYS/PERM]`: the server has a lasting problem.
    Permanent,
}

impl Refusal {
    /// The refusal a response code means.
    pub fn of(code: Option<&RespCode>) -> Refusal {
        match code {
            Some(RespCode::InUse) => Refusal::InUse,
            Some(RespCode::LoginDelay) => Refusal::LoginDelay,
            Some(RespCode::SysTemp) => Refusal::Temporary,
            Some(RespCode::SysPerm) => Refusal::Permanent,
            _ => Refusal::Credentials,
        }
    }
}

/// Why a connection cannot go on. The text a server sent comes with each,
/// already safe to show (see [`crate::reveal`]), and never the password.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// The greeting was -ERR.
    #[error("the server refused the connection: {text}")]
    Greeting {
        code: Option<RespCode>,
        text: String,
    },
    #[error(
        "the server does not offer STLS, so the connection cannot be encrypted; nothing was sent. \
Use --security tls (port 995) if the server supports it"
    )]
    StlsUnavailable,
    #[error("the server refused STLS ({0}); nothing was sent")]
    StlsRefused(String),
    /// APOP was asked for and the greeting has no timestamp.
    #[error(
        "APOP was asked for, but the server's greeting has no timestamp, so it does not support APOP"
    )]
    NoApop,
    /// The server refused the login.
    #[error("the server refused the login: {text}")]
    Refused {
        refusal: Refusal,
        text: String,
        /// The SASL mechanism refused, if it was one other than PLAIN: the
        /// server may list mechanisms it cannot use for every account.
        mechanism: Option<Mechanism>,
    },
    /// The server refused an OAuth2 access token (XOAUTH2, OAUTHBEARER):
    /// expired, revoked, or not this account's. `status` is the one in the
    /// server's error, cleaned; `text` its -ERR.
    #[error(
        "the server refused the access token ({}{}): {text}",
        mechanism.name(),
        status.as_ref().map(|s| format!(", status {s}")).unwrap_or_default()
    )]
    TokenRefused {
        mechanism: Mechanism,
        status: Option<String>,
        text: String,
    },
    /// The account names a SASL mechanism the server does not list; its
    /// list (names made safe to show) comes with it.
    #[error(
        "the server does not offer {} ({}); no credential was sent",
        mechanism.name(),
        if offered.is_empty() {
            "it lists no SASL mechanisms".to_string()
        } else {
            format!("it offers SASL {}", offered.join(" "))
        }
    )]
    NotOffered {
        mechanism: Mechanism,
        offered: Vec<String>,
    },
    /// An access token would go in plain text to another machine.
    #[error(
        "Pipit does not send an access token (XOAUTH2, OAUTHBEARER) unencrypted to another machine; \
nothing was sent. Use --security tls (port 995) or starttls"
    )]
    TokenInClear,
    #[error("the SASL exchange failed: {0}")]
    Sasl(#[from] SaslError),
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    #[error(transparent)]
    UnsafeArgument(#[from] UnsafeArgument),
    /// Nothing came for the timeout while a reply was owed.
    #[error("the server did not answer within {} seconds", timeout.as_secs())]
    Timeout { timeout: Duration },
    /// A command sent behind others got not one byte of its reply: the mark
    /// of a server that drops pipelined commands.
    #[error("the server did not answer within {} seconds ({in_flight} commands unanswered)", timeout.as_secs())]
    Unanswered { timeout: Duration, in_flight: usize },
    #[error(
        "the server sends too slowly ({bytes} bytes in {secs} seconds for one reply); Pipit gave up"
    )]
    TooSlow { bytes: usize, secs: u64 },
    /// A command before the login is over, or after a failure: Pipit's own bug.
    #[error("a command was sent before the login was over")]
    NotReady,
    /// The server asked for more of a login that should have been over,
    /// while commands were already pipelined behind it: they may have been
    /// taken for the login's next step. Try again without pipelining.
    #[error("the server asked for more of the login while commands were pipelined behind it")]
    PipelinedLogin,
}

/// Where the conversation stands: each state is named for what it expects.
enum State {
    ExpectGreeting,
    /// CAPA before the login; `upgraded` once TLS is up after STLS.
    ExpectCapa {
        upgraded: bool,
    },
    ExpectStls,
    /// STLS was accepted: nothing may come until TLS is up.
    AwaitTls,
    /// USER sent; PASS too if `pass_sent` (pipelined behind it).
    ExpectUser {
        pass_sent: bool,
    },
    ExpectPass,
    ExpectApop,
    ExpectSasl {
        exchange: Box<SaslSession>,
        mechanism: Mechanism,
        steps: usize,
    },
    /// Logged in: replies go back with their handles.
    Transaction,
    /// Probed, not logged in: only QUIT may be sent.
    Probed,
    Failed,
}

/// Clocks of the reply being waited for.
struct Clock {
    /// When the reply now owed began to be waited for.
    started: Instant,
    /// Bytes of it so far.
    bytes: usize,
    /// When the last byte came (or the wait began).
    last: Instant,
}

/// The protocol state of one POP3 connection.
pub struct Connection {
    options: Options,
    client: Client,
    state: State,
    events: VecDeque<Result<Event, Error>>,
    /// Handles of the commands sent in the TRANSACTION state, oldest first.
    handles: VecDeque<Handle>,
    next_handle: u64,
    greeting: String,
    capabilities: Option<Capabilities>,
    clock: Option<Clock>,
    bytes_received: u64,
    /// What must never be shown, longest first: the password (or access
    /// token) and every SASL message that carries it.
    secrets: Vec<String>,
    /// When the greeting came.
    greeted_at: Option<Instant>,
    /// How the login was tried (APOP, USER/PASS, or which SASL mechanism).
    login_method: Option<Method>,
    /// The login went by the remembered capabilities, not a CAPA of this session.
    capa_skipped: bool,
    /// A remembered capability proved wrong in this session (and CAPA was asked).
    remembered_wrong: bool,
    /// `Options::after_login` went out behind the login.
    after_login_sent: bool,
}

impl Connection {
    /// A new connection, at `now`, waiting for the server's greeting.
    pub fn new(options: Options, now: Instant) -> Connection {
        let client = Client::new(options.limits);
        let secrets = [options.password.clone()]
            .into_iter()
            .filter(|p| !p.is_empty())
            .collect();
        let mut connection = Connection {
            options,
            client,
            state: State::ExpectGreeting,
            events: VecDeque::new(),
            handles: VecDeque::new(),
            next_handle: 0,
            greeting: String::new(),
            capabilities: None,
            clock: None,
            bytes_received: 0,
            secrets,
            greeted_at: None,
            login_method: None,
            capa_skipped: false,
            remembered_wrong: false,
            after_login_sent: false,
        };
        connection.start_clock(now);
        connection
    }

    /// The greeting's text (APOP's timestamp is in it).
    pub fn greeting(&self) -> &str {
        &self.greeting
    }

    /// When the server's greeting arrived.
    pub fn greeted_at(&self) -> Option<Instant> {
        self.greeted_at
    }

    /// How the connection logged in: APOP, USER/PASS, or the SASL
    /// mechanism it used. `None` until the login is over.
    pub fn logged_in_with(&self) -> Option<Method> {
        matches!(self.state, State::Transaction)
            .then_some(self.login_method)
            .flatten()
    }

    /// The capabilities from the last CAPA answered before the login
    /// (`None`: the server does not know CAPA). Commands sent after the
    /// login can ask again ([`Capabilities::parse`] reads the reply).
    pub fn capabilities(&self) -> Option<&Capabilities> {
        self.capabilities.as_ref()
    }

    pub fn limits(&self) -> &Limits {
        self.client.limits()
    }

    /// Whether the login went by the remembered capabilities
    /// ([`Options::known`]) instead of asking CAPA before it.
    pub fn capa_skipped(&self) -> bool {
        self.capa_skipped
    }

    /// Whether a remembered capability proved wrong (the server refused the
    /// mechanism it had listed), so CAPA was asked after all.
    pub fn remembered_wrong(&self) -> bool {
        self.remembered_wrong
    }

    /// Whether [`Options::after_login`] went out behind the login (their
    /// replies then follow [`Event::LoggedIn`]).
    pub fn after_login_sent(&self) -> bool {
        self.after_login_sent
    }

    /// Whether the remembered capabilities may stand in for the CAPA before
    /// the login: only where no answer to CAPA could make the login
    /// stronger. A method the account names is used whatever is offered
    /// (an access token only after this session's CAPA lists it); the automatic choice
    /// only when it is already the strongest mechanism Pipit knows.
    pub fn may_skip_capa(method: Method, known: &Capabilities) -> bool {
        match method {
            Method::Apop | Method::UserPass => true,
            // An access token goes only to a server that lists its
            // mechanism now: always asked.
            Method::Sasl(m) if m.bearer() => false,
            Method::Sasl(_) => true,
            Method::Auto => Mechanism::strongest(&known.sasl) == Some(Mechanism::ScramSha256),
            // A probe is for reading the capabilities: never skipped.
            Method::Probe => false,
        }
    }

    /// The capabilities the login goes by: this session's CAPA, or the
    /// remembered ones when it was skipped.
    fn login_capabilities(&self) -> Option<&Capabilities> {
        if self.capa_skipped {
            self.options.known.as_ref()
        } else {
            self.capabilities.as_ref()
        }
    }

    /// Whether the login may have commands pipelined behind it.
    fn pipelines(&self) -> bool {
        self.options.pipeline
            && !self.options.after_login.is_empty()
            && self.login_capabilities().is_some_and(|c| c.pipelining)
    }

    /// Sends [`Options::after_login`] behind the login's last step, if the
    /// server pipelines.
    fn send_after_login(&mut self) {
        if !self.pipelines() {
            return;
        }
        for command in std::mem::take(&mut self.options.after_login) {
            if let Err(e) = self.client.send(&command) {
                return self.fail(e.into());
            }
            self.handles.push_back(Handle(self.next_handle));
            self.next_handle += 1;
        }
        self.after_login_sent = true;
    }

    /// How long the server may stay silent while a reply is owed.
    pub fn timeout(&self) -> Duration {
        self.options.timeout
    }

    /// Every byte received so far.
    pub fn bytes_received(&self) -> u64 {
        self.bytes_received
    }

    /// Replies still owed.
    pub fn in_flight(&self) -> usize {
        self.client.in_flight()
    }

    /// Bytes to write to the server, if any: write them all, then
    /// [`Connection::consume_transmit`].
    pub fn poll_transmit(&self) -> &[u8] {
        self.client.output()
    }

    /// Marks `n` bytes of [`Connection::poll_transmit`] as written.
    pub fn consume_transmit(&mut self, n: usize) {
        self.client.consume_output(n);
    }

    /// The next event, or the failure that ended the conversation.
    pub fn poll_event(&mut self) -> Option<Result<Event, Error>> {
        self.events.pop_front()
    }

    /// When [`Connection::handle_timeout`] must be called if nothing comes
    /// before: `None` while no reply is owed.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let clock = self.clock.as_ref()?;
        if self.client.in_flight() == 0 && !matches!(self.state, State::ExpectGreeting) {
            return None;
        }
        // Silence for the timeout is a stall. (A trickle is told by its rate
        // as its bytes come: see `handle_input`.)
        Some(clock.last + self.options.timeout)
    }

    /// Bytes read from the server, at `now`.
    pub fn handle_input(&mut self, bytes: &[u8], now: Instant) {
        if matches!(self.state, State::Failed) {
            return;
        }
        self.bytes_received += bytes.len() as u64;
        if let Some(clock) = &mut self.clock {
            clock.bytes += bytes.len();
            clock.last = now;
        }
        if matches!(self.state, State::AwaitTls) {
            // Bytes after STLS's +OK, before TLS: injected plain text.
            return self.fail(Error::Protocol(ProtocolError::Unsolicited {
                excerpt: "bytes after the STLS reply, before TLS began".into(),
            }));
        }
        self.client.feed(bytes);
        loop {
            match self.client.next_reply() {
                Ok(Some(reply)) => {
                    self.start_clock(now);
                    if matches!(self.state, State::ExpectGreeting) {
                        self.greeted_at = Some(now);
                    }
                    if let Err(e) = self.on_reply(reply) {
                        return self.fail(e);
                    }
                    if matches!(self.state, State::Failed | State::AwaitTls) {
                        return;
                    }
                }
                Ok(None) => break,
                Err(e) => return self.fail(e.into()),
            }
        }
        if let Some(e) = self.rate_error(now) {
            self.fail(e);
        }
    }

    /// The caller was away from `since` to `now` (handing a reply to the
    /// store, which may be slow on a loaded machine), not reading: that
    /// time is not the server's silence or slowness, and the clocks do not
    /// count it. What came meanwhile waits in the socket to be read.
    pub fn resume(&mut self, since: Instant, now: Instant) {
        if let Some(clock) = &mut self.clock {
            for t in [&mut clock.started, &mut clock.last] {
                *t += now.saturating_duration_since((*t).max(since));
            }
        }
    }

    /// The time has come that [`Connection::poll_timeout`] named (or later).
    pub fn handle_timeout(&mut self, now: Instant) {
        if matches!(self.state, State::Failed) {
            return;
        }
        let Some(deadline) = self.poll_timeout() else {
            return;
        };
        if now < deadline {
            return;
        }
        let timeout = self.options.timeout;
        let silent = self
            .clock
            .as_ref()
            .is_some_and(|c| now.duration_since(c.last) >= timeout);
        if silent {
            let e = if self.client.awaiting_pipelined() {
                Error::Unanswered {
                    timeout,
                    in_flight: self.client.in_flight(),
                }
            } else {
                Error::Timeout { timeout }
            };
            self.fail(e);
        }
    }

    /// TLS is up after [`Event::StartTls`]: the conversation goes on over it,
    /// and the capabilities are asked again (they may differ).
    pub fn tls_started(&mut self, now: Instant) {
        if !matches!(self.state, State::AwaitTls) {
            return self.fail(Error::NotReady);
        }
        self.client = Client::after_stls(self.options.limits);
        self.state = State::ExpectCapa { upgraded: true };
        self.start_clock(now);
        self.queue(&Command::Capa);
    }

    /// Sends a command in the TRANSACTION state (after [`Event::LoggedIn`]);
    /// its reply comes back as [`Event::Reply`] with the handle returned.
    /// Commands may be sent while others are still owed (pipelining).
    pub fn send(&mut self, command: &Command, now: Instant) -> Result<Handle, Error> {
        let allowed = match self.state {
            State::Transaction => true,
            State::Probed => *command == Command::Quit,
            _ => false,
        };
        if !allowed {
            return Err(Error::NotReady);
        }
        if self.client.in_flight() == 0 {
            self.start_clock(now);
        }
        self.client.send(command)?;
        let handle = Handle(self.next_handle);
        self.next_handle += 1;
        self.handles.push_back(handle);
        Ok(handle)
    }

    fn start_clock(&mut self, now: Instant) {
        self.clock = Some(Clock {
            started: now,
            bytes: 0,
            last: now,
        });
    }

    fn rate_error(&self, now: Instant) -> Option<Error> {
        let clock = self.clock.as_ref()?;
        // Not a byte is silence, not slowness: that is the timeout's to say.
        if self.client.in_flight() == 0 || clock.bytes == 0 {
            return None;
        }
        let elapsed = now.duration_since(clock.started);
        (elapsed > self.options.timeout && (clock.bytes as f64) < MIN_RATE * elapsed.as_secs_f64())
            .then_some(Error::TooSlow {
                bytes: clock.bytes,
                secs: elapsed.as_secs(),
            })
    }

    fn fail(&mut self, e: Error) {
        self.state = State::Failed;
        let e = redact(e, &self.secrets);
        self.events.push_back(Err(e));
    }

    /// Sends a command of the conversation's own (not in a handle's name).
    fn queue(&mut self, command: &Command) {
        if let Err(e) = self.client.send(command) {
            self.fail(e.into());
        }
    }

    fn on_reply(&mut self, reply: Reply) -> Result<(), Error> {
        match std::mem::replace(&mut self.state, State::Failed) {
            State::ExpectGreeting => {
                if !reply.is_ok() {
                    return Err(Error::Greeting {
                        code: reply.code,
                        text: reply.text,
                    });
                }
                self.greeting = reply.text;
                let known = self.options.known.as_ref();
                if self.options.starttls && known.is_some_and(|k| k.stls) {
                    // Known to offer STLS: ask for it at once. It is still
                    // required (a refusal stops here), and CAPA is asked
                    // again over TLS.
                    self.state = State::ExpectStls;
                    self.queue(&Command::Stls);
                } else if !self.options.starttls
                    && known.is_some_and(|k| Connection::may_skip_capa(self.options.method, k))
                {
                    self.capa_skipped = true;
                    self.log_in()?;
                } else {
                    self.state = State::ExpectCapa { upgraded: false };
                    self.queue(&Command::Capa);
                }
            }
            State::ExpectCapa { upgraded } => {
                self.capabilities = match reply.body {
                    Some(body) if reply.is_ok() => Some(Capabilities::parse(&body)),
                    _ => None,
                };
                if self.options.starttls && !upgraded {
                    // A server that answered CAPA without STLS does not have
                    // it. One that does not know CAPA may: ask, and stop on -ERR.
                    if self.capabilities.as_ref().is_some_and(|c| !c.stls) {
                        return Err(Error::StlsUnavailable);
                    }
                    self.state = State::ExpectStls;
                    self.queue(&Command::Stls);
                } else {
                    self.log_in()?;
                }
            }
            State::ExpectStls => {
                if !reply.is_ok() {
                    return Err(Error::StlsRefused(reply.text));
                }
                // Bytes that came after +OK but before TLS would be injected plain text.
                if self.client.has_unread_input() {
                    return Err(ProtocolError::Unsolicited {
                        excerpt: "bytes after the STLS reply, before TLS began".into(),
                    }
                    .into());
                }
                self.state = State::AwaitTls;
                self.events.push_back(Ok(Event::StartTls));
            }
            State::AwaitTls | State::Failed => return Err(Error::NotReady),
            State::ExpectUser { pass_sent } => {
                if !reply.is_ok() {
                    return Err(self.refused(reply, None));
                }
                self.state = State::ExpectPass;
                if !pass_sent {
                    let password = self.options.password.clone();
                    self.queue(&Command::Pass(password));
                }
            }
            State::ExpectPass | State::ExpectApop => {
                if !reply.is_ok() {
                    return Err(self.refused(reply, None));
                }
                self.logged_in();
            }
            State::ExpectSasl {
                mut exchange,
                mechanism,
                steps,
            } => {
                if reply.is_ok() {
                    // A success counts only once the exchange has reached its end.
                    exchange.succeeded()?;
                    self.logged_in();
                } else if reply.indicator == Indicator::Continue {
                    if self.after_login_sent {
                        // Commands went behind what should have been the
                        // last step: the server may take them for the next.
                        return Err(Error::PipelinedLogin);
                    }
                    if steps >= SASL_STEPS {
                        return Err(ProtocolError::BadListing(
                            "more SASL challenges than any mechanism needs".into(),
                        )
                        .into());
                    }
                    match exchange.respond(&reply.text) {
                        Ok(answer) => {
                            self.keep_secret(&answer);
                            let last = exchange.complete();
                            self.state = State::ExpectSasl {
                                exchange,
                                mechanism,
                                steps: steps + 1,
                            };
                            self.queue(&Command::AuthResponse(answer));
                            if last {
                                self.send_after_login();
                            }
                        }
                        Err(e) => {
                            // RFC 5034 §4: "*" cancels the exchange.
                            self.queue(&Command::AuthResponse("*".into()));
                            return Err(e.into());
                        }
                    }
                } else if mechanism.bearer()
                    && exchange.token_sent()
                    && Refusal::of(reply.code.as_ref()) == Refusal::Credentials
                {
                    // The token went, and the server will not have it (with
                    // or without its error first): expired, or revoked.
                    return Err(Error::TokenRefused {
                        mechanism,
                        status: exchange.token_status().flatten().map(str::to_string),
                        text: reason(reply.text),
                    });
                } else if steps == 0
                    && Refusal::of(reply.code.as_ref()) == Refusal::Credentials
                    && self.capa_skipped
                    && !self.after_login_sent
                    && (self.options.method == Method::Auto || mechanism.bearer())
                {
                    // Refused before any exchange: the mechanism was chosen
                    // from memory and the server may have dropped it. Ask
                    // what it offers now, and log in by that.
                    self.capa_skipped = false;
                    self.remembered_wrong = true;
                    self.state = State::ExpectCapa { upgraded: false };
                    self.queue(&Command::Capa);
                } else {
                    let hint = (mechanism != Mechanism::Plain).then_some(mechanism);
                    return Err(self.refused(reply, hint));
                }
            }
            state @ (State::Transaction | State::Probed) => {
                let handle = self.handles.pop_front().ok_or(Error::NotReady)?;
                self.state = state;
                self.events.push_back(Ok(Event::Reply(handle, reply)));
            }
        }
        Ok(())
    }

    fn logged_in(&mut self) {
        self.state = State::Transaction;
        self.events.push_back(Ok(Event::LoggedIn));
    }

    /// Logs in as the options say: APOP if asked, else the strongest SASL
    /// mechanism offered, else USER/PASS.
    fn log_in(&mut self) -> Result<(), Error> {
        if self.options.method == Method::Probe {
            self.state = State::Probed;
            self.events.push_back(Ok(Event::Probed));
            return Ok(());
        }
        let bearer = matches!(self.options.method, Method::Sasl(m) if m.bearer());
        if bearer {
            check_sasl_field("user name", &self.options.user)?;
            check_sasl_field("access token", &self.options.password)?;
        } else {
            check_argument("user name", &self.options.user)?;
            check_argument("password", &self.options.password)?;
        }
        let offered = self
            .login_capabilities()
            .and_then(|c| Mechanism::strongest(&c.sasl));
        let mechanism = match self.options.method {
            Method::Apop => {
                let stamp = auth::greeting_timestamp(&self.greeting).ok_or(Error::NoApop)?;
                let digest = auth::apop_digest(stamp, &self.options.password);
                self.login_method = Some(Method::Apop);
                self.state = State::ExpectApop;
                self.queue(&Command::Apop {
                    user: self.options.user.clone(),
                    digest,
                });
                self.send_after_login();
                return Ok(());
            }
            Method::Sasl(m) if m.bearer() => {
                // A bearer token lets in whoever holds it: never in clear
                // to another machine, and only to a server that takes it.
                if self.options.cleartext_remote {
                    return Err(Error::TokenInClear);
                }
                let sasl = self
                    .login_capabilities()
                    .map(|c| c.sasl.as_slice())
                    .unwrap_or_default();
                if !sasl.iter().any(|o| o.eq_ignore_ascii_case(m.name())) {
                    return Err(Error::NotOffered {
                        mechanism: m,
                        offered: sasl
                            .iter()
                            .take(32)
                            .map(|o| crate::reveal::field(o).chars().take(40).collect())
                            .collect(),
                    });
                }
                m
            }
            Method::Sasl(m) => m,
            // Answered above; never a login.
            Method::Probe => return Err(Error::NotReady),
            Method::Auto if offered.is_some() => offered.expect("checked by the guard"),
            Method::Auto | Method::UserPass => {
                self.login_method = Some(Method::UserPass);
                // A server that pipelines takes PASS right behind USER, but
                // only where it says it takes USER at all and the link is
                // not plain text to another machine: a USER it refuses
                // ("plaintext authentication disallowed", no such user) must
                // stop the password from going out, as it did before.
                let pass_sent = self.pipelines()
                    && self.login_capabilities().is_some_and(|c| c.user)
                    && !self.options.cleartext_remote;
                self.state = State::ExpectUser { pass_sent };
                self.queue(&Command::User(self.options.user.clone()));
                if pass_sent {
                    self.queue(&Command::Pass(self.options.password.clone()));
                    self.send_after_login();
                }
                return Ok(());
            }
        };
        let mut exchange = Box::new(
            SaslSession::new(
                mechanism,
                &self.options.user,
                &self.options.password,
                &self.options.nonce,
            )
            .with_server(&self.options.host, self.options.port),
        );
        let initial_response = exchange.initial_response();
        if let Some(response) = &initial_response {
            self.keep_secret(response);
        }
        self.login_method = Some(Method::Sasl(mechanism));
        let last = exchange.complete();
        self.state = State::ExpectSasl {
            exchange,
            mechanism,
            steps: 0,
        };
        self.queue(&Command::Auth {
            mechanism: mechanism.name().to_string(),
            initial_response,
        });
        if last {
            self.send_after_login();
        }
        Ok(())
    }

    /// A refused login (the password is taken out of it in `fail`).
    fn refused(&self, reply: Reply, mechanism: Option<Mechanism>) -> Error {
        Error::Refused {
            refusal: Refusal::of(reply.code.as_ref()),
            text: reason(reply.text),
            mechanism,
        }
    }

    /// A SASL message sent that may carry the secret (PLAIN's, XOAUTH2's,
    /// OAUTHBEARER's, all in base64): a server repeating it does not get it
    /// shown. Short ones ("", "*", "AQ==") carry nothing.
    fn keep_secret(&mut self, message: &str) {
        if message.len() >= 8 && !self.secrets.iter().any(|s| s == message) {
            self.secrets.push(message.to_string());
            self.secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
        }
    }
}

/// A refusal's text, or words saying there was none.
fn reason(text: String) -> String {
    if text.is_empty() {
        "no reason given".to_string()
    } else {
        text
    }
}

/// The error with the password (or access token), and the SASL messages
/// that carried it, taken out of whatever the server said in it: a server
/// that repeats one (in a refusal, in garbage) does not get it shown.
fn redact(e: Error, secrets: &[String]) -> Error {
    if secrets.is_empty() {
        return e;
    }
    let clean = |text: String| secrets.iter().fold(text, |text, secret| hide(text, secret));
    match e {
        Error::Greeting { code, text } => Error::Greeting {
            code,
            text: clean(text),
        },
        Error::StlsRefused(text) => Error::StlsRefused(clean(text)),
        Error::Refused {
            refusal,
            text,
            mechanism,
        } => Error::Refused {
            refusal,
            text: clean(text),
            mechanism,
        },
        Error::Protocol(ProtocolError::BadStatusLine { line }) => {
            Error::Protocol(ProtocolError::BadStatusLine { line: clean(line) })
        }
        Error::Protocol(ProtocolError::Unsolicited { excerpt }) => {
            Error::Protocol(ProtocolError::Unsolicited {
                excerpt: clean(excerpt),
            })
        }
        Error::Protocol(ProtocolError::BadListing(text)) => {
            Error::Protocol(ProtocolError::BadListing(clean(text)))
        }
        Error::TokenRefused {
            mechanism,
            status,
            text,
        } => Error::TokenRefused {
            mechanism,
            // A status is short: one that is a piece of a secret goes whole.
            status: status.map(|status| {
                if status.len() >= 8 && secrets.iter().any(|s| s.contains(status.as_str())) {
                    "***".to_string()
                } else {
                    clean(status)
                }
            }),
            text: clean(text),
        },
        Error::NotOffered { mechanism, offered } => Error::NotOffered {
            mechanism,
            offered: offered.into_iter().map(clean).collect(),
        },
        other => other,
    }
}

/// `text` with `secret` written as `***`, also where the text was cut short
/// (" […]", "…": a long status line, an excerpt of garbage) in its middle.
fn hide(text: String, secret: &str) -> String {
    let text = text.replace(secret, "***");
    for marker in [" […]", "…"] {
        let Some(body) = text.strip_suffix(marker) else {
            continue;
        };
        // The longest start of the secret that the cut text ends with (a
        // few characters may end it by chance: those are no secret).
        let start = (4..secret.len())
            .rev()
            .filter(|&k| secret.is_char_boundary(k))
            .find(|&k| body.ends_with(&secret[..k]));
        if let Some(k) = start {
            return format!("{}***{marker}", &body[..body.len() - k]);
        }
        break;
    }
    text
}

#[cfg(test)]
mod tests;
