//! Talking to the server for the doctor, through the engine a fetch uses
//! (`sync`'s login, `net::Session`, `pop3`): read-only. Never a DELE; one
//! RETR at most, of a small message (of the few smallest, the first with
//! lines that start with a dot, else the smallest). The judging is left to
//! the pure functions beside this file.

use std::collections::BTreeMap;
use std::net::ToSocketAddrs as _;
use std::time::{Duration, Instant};

use super::{CHECKS, Check, Report, Server, listing, message, protocol, transport};
use crate::config::{Account, Policy};
use crate::net::{Fingerprint, NetError, Security, Session, TlsDetails, certificate, tls};
use crate::pop3::listing::parse_list;
use crate::pop3::{Capabilities, Command, Limits, Reply};
use crate::secrets::Password;
use crate::sync::{Ahead, ErrorKind, FetchError, connect_and_authenticate};

/// The largest message the doctor reads whole.
const SMALL: u64 = 64 * 1024;
/// Lines of the body `TOP n k` asks for.
const TOP_LINES: u32 = 3;
/// How many of the smallest messages are looked through (with TOP) for one
/// with lines that start with a dot.
const CANDIDATES: usize = 4;
/// Commands sent together to try pipelining.
const BURST: usize = 8;

/// The doctor's bounds on replies: a fetch's, but for a message (RETR, or
/// TOP of the whole) no more than twice [`SMALL`], so a server whose LIST
/// says small while RETR streams on is cut off there, not at a fetch's
/// 64 MiB (for each of the few messages it reads).
fn limits() -> Limits {
    Limits {
        message: 2 * SMALL as usize,
        ..Limits::default()
    }
}

/// How the doctor logs in: nothing sent ahead, its own bounds.
fn ahead() -> Ahead {
    Ahead {
        limits: Some(limits()),
        ..Ahead::default()
    }
}

/// Examines the server of `account`, logging in with `password`. `policy`
/// is the account's, when it is a saved account (EXPIRE is judged by it).
pub fn examine(account: &Account, password: &Password, policy: Option<Policy>) -> Report {
    let mut exam = Exam {
        account,
        checks: BTreeMap::new(),
        server: Server {
            host: account.host.clone(),
            port: account.port,
            security: account.security.name().to_string(),
            user: account.user.clone(),
            ..Server::default()
        },
        loopback: loopback(&account.host, account.port),
        policy,
    };
    let skipped = match connect_and_authenticate(account, password, &mut |_| {}, ahead()) {
        Ok(session) => exam.transact(session, password),
        Err(e) => exam.not_opened(e),
    };
    let mut checks = exam.checks;
    Report {
        server: exam.server,
        checks: CHECKS
            .iter()
            .map(|&id| {
                checks
                    .remove(id)
                    .unwrap_or_else(|| Check::skip(id, format!("not checked: {skipped}")))
            })
            .collect(),
    }
}

/// Whether every address of the host is this machine.
fn loopback(host: &str, port: u16) -> bool {
    (host, port).to_socket_addrs().is_ok_and(|mut addrs| {
        let mut any = false;
        addrs.all(|a| {
            any = true;
            a.ip().to_canonical().is_loopback()
        }) && any
    })
}

struct Exam<'a> {
    account: &'a Account,
    checks: BTreeMap<&'static str, Check>,
    server: Server,
    loopback: bool,
    policy: Option<Policy>,
}

/// What one command cost: bytes read and time, less a round trip.
#[derive(Default)]
struct Transfer {
    bytes: u64,
    took: Duration,
}

impl Exam<'_> {
    fn put(&mut self, check: Check) {
        self.checks.insert(check.id, check);
    }

    /// The session could not be opened: the check it stopped at fails, the
    /// rest are not checked. Returns why, for them.
    fn not_opened(&mut self, e: FetchError) -> String {
        let text = crate::reveal::text(&e.to_string()).into_owned();
        match &e {
            FetchError::Net(NetError::Certificate(u)) => {
                let fingerprint = u.seen.as_ref().map(|f| f.to_string());
                let (t, c) = transport::tls_failed(
                    &text,
                    Some((&u.reason, fingerprint, u.summary.as_ref())),
                );
                self.put(t);
                self.put(c);
                "the certificate is not trusted".into()
            }
            // The failure's kind, as the exit status and the window read it.
            FetchError::Net(_) if e.kind() == ErrorKind::Tls => {
                let (t, c) = transport::tls_failed(&text, None);
                self.put(t);
                self.put(c);
                "no encrypted session".into()
            }
            FetchError::Net(_) if e.kind() == ErrorKind::Network => {
                self.put(Check::fail(
                    "latency",
                    format!("could not talk to the server: {text}"),
                    "Pipit says so and tries again at the next fetch; check the server name, port and security",
                ));
                "the server could not be reached".into()
            }
            FetchError::Net(NetError::Protocol(_) | NetError::Refused { .. }) => {
                self.put(Check::fail(
                    "capa",
                    format!("the server broke off before the login: {text}"),
                    "Pipit stops with an error that shows what the server sent",
                ));
                "the session ended before the login".into()
            }
            _ => {
                // The login failed after TLS was up: the TLS is still worth
                // a look (implicit TLS: a handshake alone, nothing sent).
                if self.account.security == Security::Tls
                    && let Ok(details) = self
                        .account
                        .endpoint()
                        .map_err(NetError::TlsSetup)
                        .and_then(|e| crate::net::probe_tls(&e))
                {
                    self.transport(Some(details), None);
                }
                self.put(Check::fail(
                    "auth",
                    format!("the login failed: {text}"),
                    "Pipit stops at a refused login and says why; check the user name, password and --auth",
                ));
                "the login failed".into()
            }
        }
    }

    /// Logged in: everything else, then QUIT (never a DELE). Returns why
    /// the checks left unjudged were not checked.
    fn transact(&mut self, mut session: Session, password: &Password) -> String {
        // Where the password went is where the session is connected, not
        // where a second look-up of the name says (it may answer otherwise).
        self.loopback = session.loopback();
        self.server.greeting = Some(crate::reveal::field(session.greeting()).into_owned());
        let before = session.capabilities().cloned();
        let apop = crate::pop3::auth::greeting_timestamp(session.greeting()).is_some();
        let used = session.logged_in_with();
        let timings = session.timings();
        self.transport(session.tls_details(), before.as_ref());
        self.put(protocol::auth(
            before.as_ref(),
            apop,
            self.account.security,
            self.loopback,
            used,
            None,
        ));
        let mut step = "capa";
        let mut seen = Seen {
            deletes_retrieved: deletes_retrieved(before.as_ref()),
            ..Seen::default()
        };
        let result = self.walk(&mut session, &mut step, &mut seen);
        // Judge what was seen, whatever stopped the walk.
        let after = seen.after.clone().flatten();
        let caps = after.as_ref().or(before.as_ref());
        self.server.implementation = caps.and_then(|c| c.implementation.clone());
        self.put(protocol::login_delay(caps));
        self.put(protocol::expire(caps, self.policy));
        self.put(transport::latency(timings.greeting, seen.rtt));
        self.judge(&seen, before.as_ref(), after.as_ref());
        let why = match result {
            Ok(()) => {
                if !seen.session_broken {
                    let _ = session.command(&Command::Quit);
                }
                "nothing to check it on".to_string()
            }
            Err(e) => {
                let text = crate::reveal::text(&e.to_string()).into_owned();
                self.checks.entry(step).or_insert_with(|| {
                    Check::fail(
                        step,
                        format!("the session broke here: {text}"),
                        "Pipit stops the fetch with this error; what it stored stays stored",
                    )
                });
                format!("the session ended early ({text})")
            }
        };
        drop(session);
        self.second_session(&seen, caps, password);
        why
    }

    fn transport(&mut self, details: Option<TlsDetails>, before: Option<&Capabilities>) {
        let host = &self.account.host;
        let stls = before.is_some_and(|c| c.stls);
        let Some(details) = details else {
            self.put(transport::tls(
                host,
                self.account.security,
                self.loopback,
                None,
                None,
                stls,
            ));
            self.put(Check::skip("certificate", "no TLS: no certificate"));
            return;
        };
        let end = details.chain.first();
        let names_host = end.map(|c| tls::valid_for_name(c, host));
        self.put(transport::tls(
            host,
            self.account.security,
            self.loopback,
            Some((&details.version, &details.cipher)),
            names_host,
            stls,
        ));
        let summary = end.and_then(|c| certificate::summarize(c));
        let today = jiff::Zoned::now().date();
        let days = summary
            .as_ref()
            .and_then(|s| transport::days_until(&s.not_after, today));
        let trusted_by = match (&self.account.trust_fingerprint, &self.account.ca_file) {
            (Some(_), _) => transport::TrustedBy::Fingerprint,
            (None, Some(_)) => transport::TrustedBy::CaFile,
            (None, None) => transport::TrustedBy::WebRoots,
        };
        self.put(transport::certificate(
            summary.as_ref(),
            details.chain.len(),
            trusted_by,
            tls::web_roots_verdict(&details.chain, host),
            days,
            &end.map(|c| Fingerprint::of(c).to_string())
                .unwrap_or_default(),
        ));
    }

    /// The commands, in order; `step` names the check each serves, so a
    /// failure is put where it happened.
    fn walk(
        &mut self,
        session: &mut Session,
        step: &mut &'static str,
        seen: &mut Seen,
    ) -> Result<(), NetError> {
        *step = "capa";
        session.refresh_capabilities()?;
        seen.after = Some(session.capabilities().cloned());
        seen.deletes_retrieved |= deletes_retrieved(seen.after.clone().flatten().as_ref());
        *step = "latency";
        let mut rtt: Option<Duration> = None;
        for _ in 0..3 {
            let t = Instant::now();
            session.command(&Command::Noop)?;
            rtt = Some(rtt.map_or(t.elapsed(), |r| r.min(t.elapsed())));
        }
        seen.rtt = rtt;
        let rtt = rtt.unwrap_or_default();
        *step = "list-size";
        let stat = session.command(&Command::Stat)?;
        if stat.is_ok() {
            let mut words = stat.text.split_whitespace().map(|w| w.parse::<u64>().ok());
            self.server.messages = words.next().flatten();
            self.server.octets = words.next().flatten();
        }
        seen.list = Some(timed(
            session,
            &Command::List(None),
            rtt,
            &mut seen.transfer,
        )?);
        *step = "uidl";
        seen.uidl = Some(timed(
            session,
            &Command::Uidl(None),
            rtt,
            &mut seen.transfer,
        )?);
        let listed = match &seen.list {
            Some(r) if r.is_ok() => parse_list(r.body.as_deref().unwrap_or_default()).0,
            _ => Vec::new(),
        };
        seen.numbers = listed.iter().map(|l| l.number).collect();
        let mut small: Vec<_> = listed.iter().filter(|l| l.size <= SMALL).collect();
        small.sort_by_key(|l| (l.size, l.number));
        small.truncate(CANDIDATES);
        // The message to read: the first of the smallest that has lines
        // starting with a dot (seen whole with TOP, which starts no
        // EXPIRE clock), else the smallest.
        let mut chosen = small.first().map(|l| (l.number, l.size));
        for (i, l) in small.iter().enumerate() {
            *step = "dot-stuffing";
            let whole = Command::Top {
                message: l.number,
                // A message has no more lines than octets.
                lines: u32::try_from(l.size).unwrap_or(u32::MAX),
            };
            let reply = timed(session, &whole, rtt, &mut seen.transfer)?;
            if !reply.is_ok() {
                break;
            }
            let dotted = super::lines_of(reply.body.as_deref().unwrap_or_default())
                .iter()
                .any(|line| line.starts_with(b"."));
            if dotted || i == 0 {
                chosen = Some((l.number, l.size));
                seen.top_whole = Some(reply);
            }
            if dotted {
                break;
            }
        }
        // No message small enough to read: only TOP n 0 of the smallest.
        let sample = chosen.or_else(|| {
            listed
                .iter()
                .min_by_key(|l| (l.size, l.number))
                .map(|l| (l.number, l.size))
        });
        if let Some((n, size)) = sample {
            seen.sample = Some((n, size));
            if size <= SMALL && !seen.deletes_retrieved {
                *step = "list-size";
                let retr = timed(session, &Command::Retr(n), rtt, &mut seen.transfer)?;
                seen.retr = Some(retr);
            }
            *step = "top";
            let top0 = Command::Top {
                message: n,
                lines: 0,
            };
            seen.top0 = Some(timed(session, &top0, rtt, &mut seen.transfer)?);
            let top_works = seen.top0.as_ref().is_some_and(Reply::is_ok);
            if top_works && seen.retr.is_some() {
                let topk = Command::Top {
                    message: n,
                    lines: TOP_LINES,
                };
                seen.topk = Some(timed(session, &topk, rtt, &mut seen.transfer)?);
            }
        }
        let pipelining = seen
            .after
            .as_ref()
            .and_then(|c| c.as_ref())
            .is_some_and(|c| c.pipelining);
        if pipelining {
            *step = "pipelining";
            self.burst(session, seen)?;
        }
        Ok(())
    }

    /// Commands sent together: `LIST n` for the first messages, then STAT
    /// and NOOP. Each reply must come, in order. A server that drops them
    /// breaks the session: that is noted, not returned.
    fn burst(&mut self, session: &mut Session, seen: &mut Seen) -> Result<(), NetError> {
        let mut expected = Vec::new();
        for &n in seen.numbers.iter().take(BURST - 2) {
            session.send(&Command::List(Some(n)))?;
            expected.push(Some(n));
        }
        session.send(&Command::Stat)?;
        session.send(&Command::Noop)?;
        expected.extend([None, None]);
        let mut replies = Vec::new();
        let mut error = None;
        for _ in 0..expected.len() {
            match session.read_reply() {
                Ok(r) => replies.push(r),
                Err(e) => {
                    error = Some(crate::reveal::text(&e.to_string()).into_owned());
                    seen.session_broken = true;
                    break;
                }
            }
        }
        seen.burst = Some((expected, replies, error));
        Ok(())
    }

    fn judge(&mut self, seen: &Seen, before: Option<&Capabilities>, after: Option<&Capabilities>) {
        let top_works = seen.top0.as_ref().map(Reply::is_ok);
        let uidl_works = seen.uidl.as_ref().map(Reply::is_ok);
        if seen.after.is_some() {
            self.put(protocol::capa(before, after, top_works, uidl_works));
        }
        if let Some((expected, replies, error)) = &seen.burst {
            self.put(protocol::pipelining(
                true,
                expected,
                replies,
                error.as_deref(),
            ));
        } else if seen.list.is_some() && !after.is_some_and(|c| c.pipelining) {
            self.put(protocol::pipelining(false, &Vec::new(), &[], None));
        }
        if let Some(uidl) = &seen.uidl {
            self.put(listing::uidl(uidl, top_works.unwrap_or(false)));
            match listing::uids(uidl) {
                Some((uids, _)) => self.put(listing::uidl_unique(&uids)),
                None => {
                    self.put(Check::skip("uidl-unique", "no UIDL"));
                    self.put(Check::skip("uidl-stable", "no UIDL"));
                }
            }
        }
        let empty = seen.list.is_some() && seen.sample.is_none();
        if empty {
            for id in ["top", "list-size", "dot-stuffing"] {
                self.put(Check::skip(id, "the mailbox is empty"));
            }
        }
        let retr = seen.retr.as_ref();
        if let Some((n, size)) = seen.sample {
            match retr {
                Some(r) if r.is_ok() => {
                    let body = r.body.as_deref().unwrap_or_default();
                    self.put(listing::list_size(
                        n,
                        size,
                        body.len(),
                        message::bare_lf(body),
                    ));
                    self.put(message::dot_stuffing(n, body, seen.top_whole.as_ref()));
                }
                Some(r) => self.put(Check::fail(
                    "list-size",
                    format!("RETR {n} answered -ERR: {}", r.text),
                    "Pipit leaves a message it cannot read on the server and says so",
                )),
                // Not read though small enough: the session broke at the
                // RETR, which the failure says (put where it happened).
                None if seen.deletes_retrieved => {
                    let why = "the server deletes a message once it is retrieved (EXPIRE 0): the doctor retrieves none";
                    self.put(Check::skip("list-size", why));
                    self.put(Check::skip("dot-stuffing", why));
                }
                None if size <= SMALL => {}
                None => {
                    let why = format!(
                        "the smallest message is {size} octets: the doctor reads none over {SMALL}"
                    );
                    self.put(Check::skip("list-size", why.clone()));
                    self.put(Check::skip("dot-stuffing", why));
                }
            }
            if let Some(top0) = &seen.top0 {
                let body = retr.filter(|r| r.is_ok()).and_then(|r| r.body.as_deref());
                let topk = seen.topk.as_ref().map(|r| (TOP_LINES, r));
                self.put(message::top(n, top0, topk, body));
            }
        }
        let mut bodies: Vec<(&str, &[u8])> = Vec::new();
        for (what, reply) in [
            ("LIST", &seen.list),
            ("UIDL", &seen.uidl),
            ("RETR", &seen.retr),
            ("TOP", &seen.top0),
        ] {
            if let Some(body) = reply.as_ref().and_then(|r| r.body.as_deref()) {
                bodies.push((what, body));
            }
        }
        if !bodies.is_empty() {
            self.put(message::line_endings(&bodies));
        }
        if seen.list.is_some() {
            self.put(transport::throughput(
                seen.transfer.bytes,
                seen.transfer.took,
            ));
        }
    }

    /// `uidl-stable`: UIDL again in a second session, unless the server
    /// asks for time between logins (LOGIN-DELAY) or had no UIDL.
    fn second_session(&mut self, seen: &Seen, caps: Option<&Capabilities>, password: &Password) {
        let Some(first) = seen.uidl.as_ref().and_then(listing::uids) else {
            return;
        };
        if let Some(d) = caps.and_then(|c| c.login_delay).filter(|d| *d > 0) {
            self.put(Check::skip(
                "uidl-stable",
                format!("the server allows one login every {d} seconds (LOGIN-DELAY): a second session would be refused"),
            ));
            return;
        }
        let again = connect_and_authenticate(self.account, password, &mut |_| {}, ahead())
            .and_then(|mut s| {
                let reply = s.command(&Command::Uidl(None))?;
                let _ = s.command(&Command::Quit);
                Ok(reply)
            });
        match again.as_ref().map(listing::uids) {
            Ok(Some((second, _))) => self.put(listing::uidl_stable(&first.0, &second)),
            Ok(None) => self.put(Check::fail(
                "uidl-stable",
                "UIDL worked in the first session and not in the second",
                "Pipit tells messages apart by their header blocks when UIDL fails",
            )),
            Err(e) => self.put(Check::skip(
                "uidl-stable",
                format!(
                    "a second session failed: {}",
                    crate::reveal::text(&e.to_string())
                ),
            )),
        }
    }
}

/// What the session showed, step by step.
#[derive(Default)]
struct Seen {
    /// CAPA after the login (`Some(None)`: it answered -ERR).
    after: Option<Option<Capabilities>>,
    rtt: Option<Duration>,
    list: Option<Reply>,
    uidl: Option<Reply>,
    numbers: Vec<u32>,
    /// The smallest message: its number and listed size.
    sample: Option<(u32, u64)>,
    retr: Option<Reply>,
    top0: Option<Reply>,
    topk: Option<Reply>,
    top_whole: Option<Reply>,
    burst: Option<(protocol::Expected, Vec<Reply>, Option<String>)>,
    session_broken: bool,
    transfer: Transfer,
    /// The server deletes what a session retrieved when it ends (EXPIRE 0,
    /// before or after the login): no RETR.
    deletes_retrieved: bool,
}

/// Whether CAPA says EXPIRE 0: a message retrieved is deleted when the
/// session ends (RFC 2449 §6.7).
fn deletes_retrieved(caps: Option<&Capabilities>) -> bool {
    caps.is_some_and(|c| c.expire == Some(Some(0)))
}

/// Sends one command and waits for its reply, counting its bytes and time
/// (less a round trip) for the throughput.
fn timed(
    session: &mut Session,
    command: &Command,
    rtt: Duration,
    transfer: &mut Transfer,
) -> Result<Reply, NetError> {
    let bytes = session.bytes_received();
    let t = Instant::now();
    let reply = session.command(command)?;
    transfer.took += t.elapsed().saturating_sub(rtt);
    transfer.bytes += session.bytes_received() - bytes;
    Ok(reply)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_is_told_from_other_hosts() {
        assert!(loopback("127.0.0.1", 110));
        assert!(loopback("::1", 110));
        assert!(!loopback("192.0.2.7", 110));
    }

    #[test]
    fn every_check_is_reported_even_when_nothing_could_be_reached() {
        let account = Account {
            name: "x".into(),
            host: "127.0.0.1".into(),
            // A port nobody listens on: reserved, and closed here.
            port: free_port(),
            security: Security::Plain,
            user: "alice".into(),
            auth: Default::default(),
            password_command: None,
            policy: Policy::Keep,
            max_size: None,
            trust_fingerprint: None,
            ca_file: None,
            timeout_secs: 2,
            check_every_minutes: None,
            oauth: None,
            rules: Default::default(),
        };
        let report = examine(&account, &Password::new("secret".into()), None);
        let ids: Vec<&str> = report.checks.iter().map(|c| c.id).collect();
        assert_eq!(ids, CHECKS.to_vec());
        let latency = report.check("latency").unwrap();
        assert_eq!(latency.status, super::super::Status::Fail, "{latency:?}");
        assert!(report.failed());
        assert!(
            report
                .check("uidl")
                .unwrap()
                .detail
                .contains("could not be reached"),
            "{report:?}"
        );
    }

    fn free_port() -> u16 {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    }
}
