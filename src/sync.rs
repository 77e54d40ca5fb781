//! One fetch pass for one account: the UIDL ledger, TOP for headers, RETR
//! for bodies, a durable commit, and only then DELE, confirmed by QUIT.
//!
//! The one rule everything here serves: a message is never DELE'd before its
//! bytes are durably committed, and deletions count as done only after the
//! server's +OK to QUIT.

use std::collections::{HashMap, HashSet};
use std::fs::{self, File};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::config::{Account, AuthMethod, Policy};
use crate::mime;
use crate::net::{NetError, Session};
use crate::pop3::auth::{self, Mechanism, SaslSession};
use crate::pop3::listing::{parse_list, parse_uidl};
use crate::pop3::{Command, Indicator, ProtocolError, Reply, RespCode};
use crate::secrets::{Password, SecretError};
use crate::store::{AccountState, Known, MessageState, NewMessage, Store, StoreError};

/// Commands kept in flight when the server advertises PIPELINING: enough for
/// a long round trip full of small messages. At about 12 bytes a command
/// they stay well within any TCP window, as RFC 2449 asks.
const PIPELINE_WINDOW: usize = 1024;
/// Reply bytes (by the server's LIST sizes) asked for ahead of those being
/// read: more than a fast link carries in a long round trip (1 Gbit/s over
/// 50 ms is 6 MB), so large messages still stream back to back, yet a cancel
/// or a broken store waits for a few messages at most, not for 1,024 of them.
const FLIGHT_BYTES: u64 = 8 * 1024 * 1024;
/// What a header block (TOP n 0) is expected to weigh, for the same budget.
const HEADER_BYTES: u64 = 4 * 1024;
/// A session that showed about this many messages, all of them new, may be a
/// server that shows its mailbox piecemeal (Gmail: about 250 a session); only
/// then is another session worth its round trips.
const CAPPED_SESSION: std::ops::RangeInclusive<usize> = 200..=300;
/// Header blocks stored (and committed, so the window shows them) per group.
const HEADER_GROUP: usize = 512;
/// A batch of stored messages is committed once it holds this many bytes…
const BATCH_BYTES: usize = 16 * 1024 * 1024;
/// …or this many messages.
const BATCH_MESSAGES: usize = 128;
/// Sessions one fetch may open when a server shows its mailbox piecemeal.
const MAX_SESSIONS: usize = 50;
/// How long Pipit sends one command at a time to a server that broke under
/// pipelining, before it tries pipelining again.
const PIPELINING_PAUSE: i64 = 7 * 86_400;

/// What a fetch reports while it runs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Progress {
    Connecting {
        account: String,
        host: String,
    },
    Connected {
        account: String,
    },
    Authenticated {
        account: String,
    },
    /// The server's listing was read: `total` messages, `new` not in the store.
    Listed {
        account: String,
        total: usize,
        new: usize,
    },
    /// The header block of a new message is stored.
    Headers {
        account: String,
        done: usize,
        of: usize,
    },
    /// A whole message is stored (durably once its batch commits).
    Downloaded {
        account: String,
        done: usize,
        of: usize,
        bytes: u64,
    },
    Deleting {
        account: String,
        count: usize,
    },
}

/// What a whole fetch did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FetchSummary {
    pub account: String,
    /// Messages seen on the server for the first time.
    pub new: usize,
    /// Messages whose whole bytes were stored.
    pub downloaded: usize,
    /// New messages kept as headers only (over the size limit).
    pub headers_only: usize,
    /// Messages the server confirmed deleted (+OK to QUIT).
    pub deleted_on_server: usize,
    /// Bytes read from the server.
    pub bytes: u64,
    /// Sessions opened.
    pub sessions: usize,
    /// Problems with single messages that did not stop the fetch.
    pub errors: Vec<String>,
    /// Things worth knowing about the server (e.g. no UIDL).
    pub notes: Vec<String>,
}

/// Why a fetch stopped. `exit_code` maps each to the CLI's exit status.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error(transparent)]
    Net(#[from] NetError),
    #[error("the server refused the login: {text}. Check the user name and password")]
    AuthRefused { text: String },
    #[error(
        "the mailbox is in use by another session (the server said: {text}). Try again when it has finished"
    )]
    InUse { text: String },
    #[error("the server asks to wait before logging in again (LOGIN-DELAY{}): {text}", delay.map(|d| format!(" {d} s")).unwrap_or_default())]
    LoginDelay { text: String, delay: Option<u64> },
    #[error(
        "the server allows one login every {delay} seconds (LOGIN-DELAY), and the last was {ago} seconds ago; \
Pipit did not connect. Try again in {} seconds", delay - ago
    )]
    TooSoon { delay: i64, ago: i64 },
    #[error("the server has a temporary problem: {text}. Try again later")]
    ServerTemporary { text: String },
    #[error("the server has a lasting problem its administrator must fix: {text}")]
    ServerPermanent { text: String },
    #[error(
        "APOP was asked for, but the server's greeting has no timestamp, so it does not support APOP"
    )]
    NoApop,
    #[error("the SASL exchange failed: {0}")]
    Sasl(#[from] auth::SaslError),
    #[error("the server answered {command} with an error: {text}")]
    CommandFailed { command: String, text: String },
    #[error("the server broke the protocol: {0}")]
    Protocol(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot get the password: {0}")]
    Password(#[from] SecretError),
    #[error(
        "account {account:?} is being fetched by another Pipit right now; try again when it has finished"
    )]
    Locked { account: String },
    #[error("cannot take the fetch lock {path}: {source}")]
    LockFile {
        path: String,
        source: std::io::Error,
    },
    #[error("the account setup is not valid: {0}")]
    Setup(String),
    #[error("the fetch was cancelled")]
    Cancelled,
    #[error("the message is no longer on the server")]
    NotOnServer,
    /// The store writer stopped; its own error says why.
    #[error("the store stopped taking messages")]
    WriterStopped,
    /// The server stopped answering while several commands were in flight.
    #[error("the server stopped answering pipelined commands")]
    PipeliningBroken,
}

impl From<ProtocolError> for FetchError {
    fn from(e: ProtocolError) -> Self {
        FetchError::Net(NetError::Protocol(e))
    }
}

impl FetchError {
    /// The exit status the CLI gives this error: 3 authentication refused,
    /// 4 TLS or certificate, 5 network or timeout, 6 protocol violation, 1 other.
    pub fn exit_code(&self) -> i32 {
        match self {
            FetchError::AuthRefused { .. } | FetchError::NoApop => 3,
            FetchError::Net(net) => match net {
                NetError::Certificate(_)
                | NetError::Tls(_)
                | NetError::TlsSetup(_)
                | NetError::StlsUnavailable
                | NetError::StlsRefused(_) => 4,
                NetError::Protocol(_) => 6,
                NetError::Refused { .. } => 1,
                NetError::Resolve { .. }
                | NetError::Connect { .. }
                | NetError::Timeout { .. }
                | NetError::Unanswered { .. }
                | NetError::TooSlow { .. }
                | NetError::Closed
                | NetError::Io(_) => 5,
            },
            FetchError::Sasl(_) | FetchError::Protocol(_) | FetchError::CommandFailed { .. } => 6,
            _ => 1,
        }
    }
}

/// One message in this session's listing.
#[derive(Clone, Debug)]
struct OnServer {
    number: u32,
    size: u64,
    /// UIDL, or a digest of the header block when the server has no UIDL.
    uid: String,
    uid_seq: i64,
}

type Key = (String, i64);

/// Runs one fetch of `account` into `store`: as many sessions as it takes
/// until nothing new is left.
pub fn fetch(
    account: &Account,
    password: &Password,
    store: &mut Store,
    lock_dir: &Path,
    cancel: &AtomicBool,
    progress: &mut dyn FnMut(Progress),
) -> Result<FetchSummary, FetchError> {
    let _lock = AccountLock::take(lock_dir, &account.name)?;
    let mut summary = FetchSummary {
        account: account.name.clone(),
        ..FetchSummary::default()
    };
    let state = check_login_delay(store, account)?;
    let now = unix_now();
    let mut pipelining = state
        .pipelining_broken_at
        .is_none_or(|at| now - at > PIPELINING_PAUSE);
    let mut completed = 0;
    loop {
        let pass = Pass {
            account,
            password,
            cancel,
            pipelining,
            summary: &mut summary,
        };
        let outcome = pass.run(store, progress);
        match outcome {
            Ok(again) if again && summary.sessions < MAX_SESSIONS => completed += 1,
            Ok(_) => return Ok(summary),
            // Commands in flight went unanswered: some servers advertise
            // PIPELINING and then drop what comes after the first command.
            Err(FetchError::PipeliningBroken) => {
                pipelining = false;
                store.record_pipelining_broken(&account.name, unix_now())?;
                note(
                    &mut summary,
                    "the server stopped answering pipelined commands: Pipit sends it one command at a time now",
                );
            }
            // A later session failing does not undo what earlier ones stored.
            Err(e) if completed > 0 && !matches!(e, FetchError::Cancelled) => {
                summary
                    .notes
                    .push(format!("a follow-up session failed: {e}"));
                return Ok(summary);
            }
            Err(e) => return Err(e),
        }
    }
}

struct Pass<'a> {
    account: &'a Account,
    password: &'a Password,
    cancel: &'a AtomicBool,
    /// Whether to pipeline when the server offers it.
    pipelining: bool,
    summary: &'a mut FetchSummary,
}

impl Pass<'_> {
    /// One session. Returns whether another session may find more (the server
    /// showed only new messages, as servers that cap a session do).
    fn run(
        mut self,
        store: &mut Store,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<bool, FetchError> {
        let account = self.account;
        let name = account.name.clone();
        let mut session = connect_and_authenticate(account, self.password, progress)?;
        self.summary.sessions += 1;
        // Ask CAPA again (some servers, Gmail among them, show more after
        // login); a server that pipelines gets UIDL and LIST in the same flight.
        let listing_sent = session.caps().pipelining && self.pipelining;
        if listing_sent {
            session.send(&Command::Capa);
            send_listing(&mut session);
            let capa = session.read_reply()?;
            session.apply_capabilities(capa);
        } else {
            session.refresh_capabilities()?;
        }
        let caps = session.caps();
        store.record_login(&name, unix_now(), caps.login_delay.unwrap_or(0) as i64)?;
        let window = if caps.pipelining && self.pipelining {
            PIPELINE_WINDOW
        } else {
            1
        };
        // A server that does not know CAPA may still know TOP: try it.
        let try_top = caps.top || session.capabilities.is_none();
        let result =
            match self.transact(&mut session, store, progress, window, try_top, listing_sent) {
                Err(FetchError::Net(NetError::Unanswered { .. })) if window > 1 => {
                    Err(FetchError::PipeliningBroken)
                }
                other => other,
            };
        let bytes = session.bytes_received;
        self.summary.bytes += bytes;
        let done = result?;
        let (again, to_confirm) = (done.again, done.deleted);
        // Deletions count only once the server has said +OK to QUIT.
        let quit = if done.quit_sent {
            session.read_reply()?
        } else {
            session.command(&Command::Quit)?
        };
        if !quit.is_ok() {
            return Err(FetchError::CommandFailed {
                command: "QUIT".into(),
                text: quit.text,
            });
        }
        self.summary.bytes += session.bytes_received - bytes;
        if !to_confirm.is_empty() {
            let batch = store.batch()?;
            batch.mark_gone(&to_confirm)?;
            batch.commit()?;
            self.summary.deleted_on_server += to_confirm.len();
        }
        Ok(again && caps.login_delay.unwrap_or(0) == 0)
    }

    /// The TRANSACTION state: list, then headers and bodies in one pipelined
    /// flight, then deletions.
    #[allow(clippy::too_many_arguments)] // one pass's context; a struct would only rename it
    fn transact(
        &mut self,
        session: &mut Session,
        store: &mut Store,
        progress: &mut dyn FnMut(Progress),
        window: usize,
        try_top: bool,
        listing_sent: bool,
    ) -> Result<Transacted, FetchError> {
        let name = self.account.name.as_str();
        let now = unix_now();
        let listing = list_messages(session, window, try_top, listing_sent)?;
        if listing.used_digests {
            note(
                self.summary,
                "the server has no UIDL: messages are told apart by a digest of their headers",
            );
        }
        let known: HashMap<Key, Known> = store
            .known(name)?
            .into_iter()
            .map(|k| ((k.uid.clone(), k.uid_seq), k))
            .collect();
        let on_server: HashSet<Key> = listing
            .messages
            .iter()
            .map(|m| (m.uid.clone(), m.uid_seq))
            .collect();

        // Messages the store thinks are on the server but are not any more.
        let gone: Vec<i64> = known
            .values()
            .filter(|k| k.on_server && !on_server.contains(&(k.uid.clone(), k.uid_seq)))
            .map(|k| k.id)
            .collect();
        if !gone.is_empty() {
            let batch = store.batch()?;
            batch.mark_gone(&gone)?;
            batch.commit()?;
        }

        let new: Vec<&OnServer> = listing
            .messages
            .iter()
            .filter(|m| !known.contains_key(&(m.uid.clone(), m.uid_seq)))
            .collect();
        self.summary.new += new.len();
        progress(Progress::Listed {
            account: name.to_string(),
            total: listing.messages.len(),
            new: new.len(),
        });

        // What to fetch: the header block of each new message first (so the
        // list fills before any body arrives), then the bodies of new ones
        // within the size limit and of headers-only ones within it or asked for.
        let limit = self.account.max_size.unwrap_or(u64::MAX);
        let mut steps: Vec<Step<'_>> = Vec::new();
        let mut ids: HashMap<u32, i64> = HashMap::new();
        if try_top {
            steps.extend(new.iter().map(|m| Step::Top(m)));
        } else {
            // No TOP: rows without headers now; the bodies bring them.
            let batch = store.batch()?;
            for m in &new {
                ids.insert(m.number, insert_headers(&batch, name, m, &[], now)?);
            }
            batch.commit()?;
        }
        for m in &listing.messages {
            match known.get(&(m.uid.clone(), m.uid_seq)) {
                None if m.size <= limit => steps.push(Step::Retr(m, None)),
                Some(k)
                    if k.state == MessageState::Headers
                        && (m.size <= limit || k.download_requested) =>
                {
                    steps.push(Step::Retr(m, Some(k.id)));
                }
                _ => {}
            }
        }
        self.summary.headers_only += new.iter().filter(|m| m.size > limit).count();
        let to_download = steps.iter().filter(|s| matches!(s, Step::Retr(..))).count();

        // Keeping everything and nothing to delete: QUIT can follow the last
        // command at once (only to a server that pipelines).
        let may_delete = self.account.policy != Policy::Keep
            || known.values().any(|k| {
                k.on_server && k.delete_on_server && on_server.contains(&(k.uid.clone(), k.uid_seq))
            });
        let quit_early = !may_delete && window > 1;

        let writer = StoreWriter::spawn(store.path(), now);
        let tops = steps.iter().filter(|s| matches!(s, Step::Top(_))).count();
        let mut headers: Vec<(&OnServer, Reply)> = Vec::new();
        let (mut headers_done, mut downloaded, mut have_top) = (0, 0, try_top);
        let summary = &mut *self.summary;
        let fetched = pipeline_then(
            session,
            &steps,
            Flight::new(window, FLIGHT_BYTES),
            self.cancel,
            quit_early.then_some(Command::Quit),
            |step| match step {
                Step::Top(m) => Command::Top {
                    message: m.number,
                    lines: 0,
                },
                Step::Retr(m, _) => Command::Retr(m.number),
            },
            |step| match step {
                Step::Top(_) => HEADER_BYTES,
                Step::Retr(m, _) => m.size,
            },
            |step, reply, bytes| {
                match step {
                    Step::Top(m) => {
                        headers.push((m, reply));
                        if headers.len() == HEADER_GROUP || headers_done + headers.len() == tops {
                            // Stored in groups, each committed so the window shows them.
                            let batch = store.batch()?;
                            for (m, reply) in headers.drain(..) {
                                let header = if reply.is_ok() {
                                    reply.body.unwrap_or_default()
                                } else {
                                    if have_top && headers_done == 0 {
                                        // The first TOP failed: this server has no TOP.
                                        have_top = false;
                                        note(
                                            summary,
                                            "the server has no TOP: headers come with the whole message",
                                        );
                                    } else if have_top {
                                        summary.errors.push(format!(
                                            "TOP {} failed: {}",
                                            m.number, reply.text
                                        ));
                                    }
                                    Vec::new()
                                };
                                ids.insert(
                                    m.number,
                                    insert_headers(&batch, name, m, &header, now)?,
                                );
                                headers_done += 1;
                            }
                            batch.commit()?;
                            progress(Progress::Headers {
                                account: name.to_string(),
                                done: headers_done,
                                of: tops,
                            });
                        }
                    }
                    Step::Retr(m, known_id) => {
                        let Some(id) = known_id.or_else(|| ids.get(&m.number).copied()) else {
                            return Err(FetchError::Protocol(format!(
                                "no row for message {}",
                                m.number
                            )));
                        };
                        if !reply.is_ok() {
                            summary
                                .errors
                                .push(format!("RETR {} failed: {}", m.number, reply.text));
                            return Ok(());
                        }
                        if !writer.send(id, reply.body.unwrap_or_default()) {
                            return Err(FetchError::WriterStopped);
                        }
                        downloaded += 1;
                        progress(Progress::Downloaded {
                            account: name.to_string(),
                            done: downloaded,
                            of: to_download,
                            bytes,
                        });
                    }
                }
                Ok(())
            },
        );
        // Durable from here on: only these may the server delete. A store
        // failure says more than the stop it caused in the download.
        let durable: HashSet<i64> = writer.finish()?.into_iter().collect();
        fetched?;
        self.summary.downloaded += durable.len();

        // Deletions, per policy and per the user's wishes.
        let mut deleted = Vec::new();
        if !quit_early {
            let dele: Vec<(&OnServer, i64)> = listing
                .messages
                .iter()
                .filter_map(|m| {
                    let key = (m.uid.clone(), m.uid_seq);
                    let (id, state, first_seen, user_wants) = match known.get(&key) {
                        Some(k) => (k.id, k.state, k.first_seen, k.delete_on_server),
                        None => (*ids.get(&m.number)?, MessageState::Headers, now, false),
                    };
                    let full = state == MessageState::Full || durable.contains(&id);
                    let by_policy = full
                        && match self.account.policy {
                            Policy::Keep => false,
                            Policy::Delete => true,
                            Policy::KeepDays(days) => now - first_seen >= i64::from(days) * 86_400,
                        };
                    (by_policy || user_wants).then_some((m, id))
                })
                .collect();
            if !dele.is_empty() {
                progress(Progress::Deleting {
                    account: name.to_string(),
                    count: dele.len(),
                });
                let summary = &mut *self.summary;
                pipeline(
                    session,
                    &dele,
                    window,
                    self.cancel,
                    |(m, _)| Command::Dele(m.number),
                    |(m, id), reply, _| {
                        if reply.is_ok() {
                            deleted.push(*id);
                        } else {
                            summary
                                .errors
                                .push(format!("DELE {} failed: {}", m.number, reply.text));
                        }
                        Ok(())
                    },
                )?;
            }
        }
        Ok(Transacted {
            again: CAPPED_SESSION.contains(&new.len()) && new.len() == listing.messages.len(),
            deleted,
            quit_sent: quit_early,
        })
    }
}

/// One command of the fetch flight.
enum Step<'a> {
    /// The header block of a new message.
    Top(&'a OnServer),
    /// A whole message, with its row id when it already has one.
    Retr(&'a OnServer, Option<i64>),
}

/// What one session's transaction did.
struct Transacted {
    /// Another session may find more.
    again: bool,
    /// Ids of the messages DELE'd, to count once QUIT is answered.
    deleted: Vec<i64>,
    /// QUIT already went out behind the last command.
    quit_sent: bool,
}

fn insert_headers(
    batch: &crate::store::Batch<'_>,
    account: &str,
    m: &OnServer,
    header: &[u8],
    now: i64,
) -> Result<i64, FetchError> {
    Ok(batch.insert(&NewMessage {
        account,
        uid: &m.uid,
        uid_seq: m.uid_seq,
        size: m.size,
        first_seen: now,
        raw: header,
        state: MessageState::Headers,
        parsed: &mime::parse(header),
    })?)
}

/// Refuses, without connecting, a login the server asked not to have yet (LOGIN-DELAY).
fn check_login_delay(store: &Store, account: &Account) -> Result<AccountState, FetchError> {
    let state = store.account_state(&account.name)?;
    let now = unix_now();
    if let Some(last) = state.last_login
        && state.login_delay > 0
        && now - last < state.login_delay
    {
        return Err(FetchError::TooSoon {
            delay: state.login_delay,
            ago: (now - last).max(0),
        });
    }
    Ok(state)
}

/// Connects and logs in; the session comes back with the capabilities the
/// server shows after login (some, Gmail among them, show more then).
fn log_in(
    account: &Account,
    password: &Password,
    progress: &mut dyn FnMut(Progress),
) -> Result<Session, FetchError> {
    let mut session = connect_and_authenticate(account, password, progress)?;
    session.refresh_capabilities()?;
    Ok(session)
}

fn connect_and_authenticate(
    account: &Account,
    password: &Password,
    progress: &mut dyn FnMut(Progress),
) -> Result<Session, FetchError> {
    let name = account.name.clone();
    let endpoint = account.endpoint().map_err(FetchError::Setup)?;
    progress(Progress::Connecting {
        account: name.clone(),
        host: format!("{}:{}", account.host, account.port),
    });
    let mut session = Session::open(&endpoint).map_err(refused_to_fetch_error)?;
    progress(Progress::Connected {
        account: name.clone(),
    });
    authenticate(&mut session, account, password)?;
    progress(Progress::Authenticated { account: name });
    Ok(session)
}

/// What "Test connection" learns about a server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ServerInfo {
    /// The server's IMPLEMENTATION capability, if it gives one.
    pub implementation: Option<String>,
    pub messages: u64,
    pub bytes: u64,
    pub pipelining: bool,
    pub top: bool,
    pub uidl: bool,
}

/// Connects, logs in, asks STAT and leaves: proves an account's settings work.
pub fn test_connection(account: &Account, password: &Password) -> Result<ServerInfo, FetchError> {
    let mut session = log_in(account, password, &mut |_| {})?;
    let caps = session.caps();
    let stat = session.command(&Command::Stat)?;
    let (messages, bytes) = if stat.is_ok() {
        let mut words = stat.text.split_whitespace().map(|w| w.parse::<u64>().ok());
        (
            words.next().flatten().unwrap_or(0),
            words.next().flatten().unwrap_or(0),
        )
    } else {
        (0, 0)
    };
    let _ = session.command(&Command::Quit);
    Ok(ServerInfo {
        implementation: caps.implementation.clone(),
        messages,
        bytes,
        pipelining: caps.pipelining,
        top: caps.top,
        uidl: caps.uidl,
    })
}

/// The header block and first `lines` lines of a message still on the
/// server (TOP), found by its UID. Nothing is stored or deleted.
pub fn preview(
    account: &Account,
    password: &Password,
    store: &Store,
    lock_dir: &Path,
    id: i64,
    lines: u32,
) -> Result<Vec<u8>, FetchError> {
    let _lock = AccountLock::take(lock_dir, &account.name)?;
    let (uid, uid_seq) = store.locate(id)?;
    check_login_delay(store, account)?;
    let mut session = log_in(account, password, &mut |_| {})?;
    let caps = session.caps();
    store.record_login(
        &account.name,
        unix_now(),
        caps.login_delay.unwrap_or(0) as i64,
    )?;
    let try_top = caps.top || session.capabilities.is_none();
    let listing = list_messages(&mut session, 1, try_top, false)?;
    let number = listing
        .messages
        .iter()
        .find(|m| m.uid == uid && m.uid_seq == uid_seq)
        .map(|m| m.number)
        .ok_or(FetchError::NotOnServer)?;
    let reply = session.command(&Command::Top {
        message: number,
        lines,
    })?;
    let _ = session.command(&Command::Quit);
    expect_body(reply, "TOP")
}

/// Sends one command per item, keeping up to `window` in flight, and hands
/// each reply to `each` as it arrives, in order. Stops between replies when
/// cancelled, or when `each` fails.
fn pipeline<T>(
    session: &mut Session,
    items: &[T],
    window: usize,
    cancel: &AtomicBool,
    command: impl Fn(&T) -> Command,
    each: impl FnMut(&T, Reply, u64) -> Result<(), FetchError>,
) -> Result<(), FetchError> {
    let flight = Flight::new(window, u64::MAX);
    pipeline_then(session, items, flight, cancel, None, command, |_| 0, each)
}

/// [`pipeline`] within `flight`, where `expected` tells how many reply
/// bytes an item's command will bring, and with `trailer` sent right behind
/// the last item's command; its reply is left for the caller to read.
#[allow(clippy::too_many_arguments)] // each is one part of the flight; a struct would only rename them
fn pipeline_then<T>(
    session: &mut Session,
    items: &[T],
    mut flight: Flight,
    cancel: &AtomicBool,
    mut trailer: Option<Command>,
    command: impl Fn(&T) -> Command,
    expected: impl Fn(&T) -> u64,
    mut each: impl FnMut(&T, Reply, u64) -> Result<(), FetchError>,
) -> Result<(), FetchError> {
    let mut sent = 0;
    if items.is_empty()
        && let Some(t) = trailer.take()
    {
        session.send(&t);
    }
    for item in items {
        if cancel.load(Ordering::Relaxed) {
            return Err(FetchError::Cancelled);
        }
        while let Some(next) = items.get(sent) {
            let bytes = expected(next);
            if !flight.may_send(bytes) {
                break;
            }
            session.send(&command(next));
            flight.sent(bytes);
            sent += 1;
            if sent == items.len()
                && let Some(t) = trailer.take()
            {
                session.send(&t);
            }
        }
        let reply = session.read_reply()?;
        flight.answered(expected(item));
        each(item, reply, session.bytes_received)?;
    }
    Ok(())
}

/// The commands in flight, and how many reply bytes they will bring: the
/// pipelining window adapts to the messages' sizes, many small ones in
/// flight at once, a few large ones.
#[derive(Clone, Copy, Debug)]
struct Flight {
    max_commands: usize,
    max_bytes: u64,
    commands: usize,
    bytes: u64,
}

impl Flight {
    fn new(max_commands: usize, max_bytes: u64) -> Flight {
        Flight {
            max_commands: max_commands.max(1),
            max_bytes,
            commands: 0,
            bytes: 0,
        }
    }

    /// Whether a command expected to bring `bytes` may go now. With nothing
    /// in flight one always may, however large its reply.
    fn may_send(&self, bytes: u64) -> bool {
        self.commands == 0
            || (self.commands < self.max_commands
                && self.bytes.saturating_add(bytes) <= self.max_bytes)
    }

    fn sent(&mut self, bytes: u64) {
        self.commands += 1;
        self.bytes = self.bytes.saturating_add(bytes);
    }

    fn answered(&mut self, bytes: u64) {
        self.commands -= 1;
        self.bytes = self.bytes.saturating_sub(bytes);
    }
}

/// [`pipeline`], collecting the replies.
fn pipeline_all<T>(
    session: &mut Session,
    items: &[T],
    window: usize,
    cancel: &AtomicBool,
    command: impl Fn(&T) -> Command,
) -> Result<Vec<Reply>, FetchError> {
    let mut replies = Vec::with_capacity(items.len());
    pipeline(session, items, window, cancel, command, |_, reply, _| {
        replies.push(reply);
        Ok(())
    })?;
    Ok(replies)
}

/// Parses and stores downloaded messages beside the socket: one thread
/// parses (MIME decoding is the heavy part), another writes with its own
/// connection to the store, so network, parsing and disk overlap. Batches
/// commit durably; `finish` says which messages are durable.
struct StoreWriter {
    queue: Option<mpsc::SyncSender<(i64, Vec<u8>)>>,
    parser: Option<thread::JoinHandle<()>>,
    writer: Option<thread::JoinHandle<Result<Vec<i64>, StoreError>>>,
}

type Parsed = (i64, Vec<u8>, mime::Parsed);

impl StoreWriter {
    fn spawn(path: &Path, now: i64) -> StoreWriter {
        // Short queues: memory stays bounded by a few messages, not the mailbox.
        let (queue, incoming) = mpsc::sync_channel::<(i64, Vec<u8>)>(8);
        let (to_writer, parsed) = mpsc::sync_channel::<Parsed>(8);
        let parser = thread::Builder::new()
            .name("pipit-parser".into())
            .spawn(move || {
                for (id, raw) in incoming {
                    let fields = mime::parse(&raw);
                    if to_writer.send((id, raw, fields)).is_err() {
                        return; // the writer stopped; `finish` reports why
                    }
                }
            })
            .expect("cannot start the parser thread");
        let path = path.to_path_buf();
        let writer = thread::Builder::new()
            .name("pipit-store-writer".into())
            .spawn(move || {
                let mut store = Store::open(&path)?;
                store.for_bulk_writes()?;
                let mut durable = Vec::new();
                // Wait for a message outside any transaction, so a slow link
                // never holds the store's write lock; then take what is queued.
                while let Ok((id, raw, fields)) = parsed.recv() {
                    let batch = store.batch()?;
                    batch.complete(id, &raw, &fields, now)?;
                    let (mut ids, mut bytes) = (vec![id], raw.len());
                    while ids.len() < BATCH_MESSAGES && bytes < BATCH_BYTES {
                        let Ok((id, raw, fields)) = parsed.try_recv() else {
                            break;
                        };
                        batch.complete(id, &raw, &fields, now)?;
                        bytes += raw.len();
                        ids.push(id);
                    }
                    batch.commit()?;
                    durable.extend(ids);
                }
                Ok(durable)
            })
            .expect("cannot start the store writer thread");
        StoreWriter {
            queue: Some(queue),
            parser: Some(parser),
            writer: Some(writer),
        }
    }

    /// Queues a whole message; false if the writer has stopped (see `finish`).
    fn send(&self, id: i64, raw: Vec<u8>) -> bool {
        self.queue
            .as_ref()
            .is_some_and(|q| q.send((id, raw)).is_ok())
    }

    /// Commits what is queued and returns the ids now durable, or why not.
    fn finish(mut self) -> Result<Vec<i64>, StoreError> {
        drop(self.queue.take());
        if let Some(parser) = self.parser.take() {
            let _ = parser.join();
        }
        match self.writer.take().map(thread::JoinHandle::join) {
            Some(Ok(result)) => result,
            _ => Err(StoreError::Sql(rusqlite::Error::InvalidQuery)),
        }
    }
}

struct Listing {
    messages: Vec<OnServer>,
    used_digests: bool,
}

/// Queues UIDL and LIST, the two halves of a listing.
fn send_listing(session: &mut Session) {
    session.send(&Command::Uidl(None));
    session.send(&Command::List(None));
}

/// UIDL and LIST (already queued when `already_sent`); without UIDL, a
/// digest of each header block stands in.
fn list_messages(
    session: &mut Session,
    window: usize,
    try_top: bool,
    already_sent: bool,
) -> Result<Listing, FetchError> {
    let (uidl, list) = if already_sent {
        (session.read_reply()?, session.read_reply()?)
    } else if window > 1 {
        send_listing(session);
        (session.read_reply()?, session.read_reply()?)
    } else {
        let uidl = session.command(&Command::Uidl(None))?;
        (uidl, session.command(&Command::List(None))?)
    };
    let list = expect_body(list, "LIST")?;
    let sizes = parse_list(&list)?;
    let mut messages = Vec::with_capacity(sizes.len());
    let mut seen: HashMap<String, i64> = HashMap::new();
    let mut add = |number: u32, size: u64, uid: String, messages: &mut Vec<OnServer>| {
        let seq = seen.entry(uid.clone()).or_insert(0);
        messages.push(OnServer {
            number,
            size,
            uid,
            uid_seq: *seq,
        });
        *seq += 1;
    };
    if uidl.is_ok() {
        let uids: HashMap<u32, String> = parse_uidl(uidl.body.as_deref().unwrap_or_default())?
            .into_iter()
            .collect();
        for l in &sizes {
            let uid = uids.get(&l.number).cloned().ok_or_else(|| {
                FetchError::Protocol(format!("message {} is in LIST but not in UIDL", l.number))
            })?;
            add(l.number, l.size, uid, &mut messages);
        }
        return Ok(Listing {
            messages,
            used_digests: false,
        });
    }
    // No UIDL: identify each message by its header block (TOP n 0, else RETR).
    let replies = pipeline_all(session, &sizes, window, &AtomicBool::new(false), |l| {
        if try_top {
            Command::Top {
                message: l.number,
                lines: 0,
            }
        } else {
            Command::Retr(l.number)
        }
    })?;
    for (l, reply) in sizes.iter().zip(replies) {
        let body = expect_body(reply, if try_top { "TOP" } else { "RETR" })?;
        let header_end = find_header_end(&body);
        let digest = ring::digest::digest(&ring::digest::SHA256, &body[..header_end]);
        let hex: String = digest
            .as_ref()
            .iter()
            .take(16)
            .map(|b| format!("{b:02x}"))
            .collect();
        add(l.number, l.size, format!("digest:{hex}"), &mut messages);
    }
    Ok(Listing {
        messages,
        used_digests: true,
    })
}

fn find_header_end(message: &[u8]) -> usize {
    for (i, w) in message.windows(2).enumerate() {
        if w == b"\n\n" {
            return i + 2;
        }
        if w == b"\n\r" && message.get(i + 2) == Some(&b'\n') {
            return i + 3;
        }
    }
    message.len()
}

fn expect_body(reply: Reply, command: &str) -> Result<Vec<u8>, FetchError> {
    if reply.is_ok() {
        Ok(reply.body.unwrap_or_default())
    } else {
        Err(FetchError::CommandFailed {
            command: command.into(),
            text: reply.text,
        })
    }
}

/// Logs in: APOP if the account asks, else the strongest SASL mechanism
/// offered, else USER/PASS.
fn authenticate(
    session: &mut Session,
    account: &Account,
    password: &Password,
) -> Result<(), FetchError> {
    let caps = session.caps();
    let reply = match account.auth {
        AuthMethod::Apop => {
            let stamp = auth::greeting_timestamp(&session.greeting).ok_or(FetchError::NoApop)?;
            let digest = auth::apop_digest(stamp, password.expose());
            session.command(&Command::Apop {
                user: account.user.clone(),
                digest,
            })?
        }
        AuthMethod::Auto if Mechanism::strongest(&caps.sasl).is_some() => {
            let mechanism = Mechanism::strongest(&caps.sasl).expect("checked by the guard");
            let reply = sasl(session, mechanism, &account.user, password)?;
            if !reply.is_ok() && mechanism != Mechanism::Plain {
                // Servers list mechanisms they cannot use for every account
                // (a hashed password rules out CRAM-MD5 and often SCRAM).
                return Err(match login_error(reply) {
                    FetchError::AuthRefused { text } => FetchError::AuthRefused {
                        text: format!(
                            "{text} (with {}; if the password is right, the server may not support it \
for this account: try re-adding it with --auth plain)",
                            mechanism.name()
                        ),
                    },
                    other => other,
                });
            }
            reply
        }
        AuthMethod::Plain => sasl(session, Mechanism::Plain, &account.user, password)?,
        AuthMethod::CramMd5 => sasl(session, Mechanism::CramMd5, &account.user, password)?,
        AuthMethod::ScramSha256 => sasl(session, Mechanism::ScramSha256, &account.user, password)?,
        AuthMethod::Auto | AuthMethod::User => {
            let reply = session.command(&Command::User(account.user.clone()))?;
            if reply.is_ok() {
                session.command(&Command::Pass(password.expose().to_string()))?
            } else {
                reply
            }
        }
    };
    if reply.is_ok() {
        Ok(())
    } else {
        Err(login_error(reply))
    }
}

fn sasl(
    session: &mut Session,
    mechanism: Mechanism,
    user: &str,
    password: &Password,
) -> Result<Reply, FetchError> {
    let mut exchange = SaslSession::new(mechanism, user, password.expose());
    let mut reply = session.command(&Command::Auth {
        mechanism: mechanism.name().to_string(),
        initial_response: exchange.initial_response(),
    })?;
    for _ in 0..8 {
        if reply.indicator != Indicator::Continue {
            return Ok(reply);
        }
        match exchange.respond(&reply.text) {
            Ok(answer) => reply = session.command(&Command::AuthResponse(answer))?,
            Err(e) => {
                // RFC 5034 §4: "*" cancels the exchange.
                let _ = session.command(&Command::AuthResponse("*".into()));
                return Err(e.into());
            }
        }
    }
    Err(FetchError::Protocol("the SASL exchange did not end".into()))
}

/// Tells a refused login apart by its RFC 2449/3206 code.
fn login_error(reply: Reply) -> FetchError {
    let text = if reply.text.is_empty() {
        "no reason given".to_string()
    } else {
        reply.text
    };
    match reply.code {
        Some(RespCode::InUse) => FetchError::InUse { text },
        Some(RespCode::LoginDelay) => FetchError::LoginDelay { text, delay: None },
        Some(RespCode::SysTemp) => FetchError::ServerTemporary { text },
        Some(RespCode::SysPerm) => FetchError::ServerPermanent { text },
        _ => FetchError::AuthRefused { text },
    }
}

/// A greeting that is -ERR is the server refusing, often for a reason with a code.
fn refused_to_fetch_error(e: NetError) -> FetchError {
    match e {
        NetError::Refused { code, text } => login_error(Reply {
            indicator: Indicator::Err,
            code: code.or(Some(RespCode::SysTemp)),
            text,
            body: None,
        }),
        other => FetchError::Net(other),
    }
}

fn note(summary: &mut FetchSummary, text: &str) {
    if !summary.notes.iter().any(|n| n == text) {
        summary.notes.push(text.to_string());
    }
}

pub fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// Held while an account is fetched, so two Pipits never fetch it at once.
struct AccountLock {
    _file: File,
}

impl AccountLock {
    fn take(dir: &Path, account: &str) -> Result<AccountLock, FetchError> {
        let lock_error = |source| FetchError::LockFile {
            path: dir.display().to_string(),
            source,
        };
        fs::create_dir_all(dir).map_err(lock_error)?;
        let safe: String = account
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let path = dir.join(format!("{safe}.lock"));
        let file = File::options()
            .create(true)
            .write(true)
            .truncate(false)
            .open(&path)
            .map_err(lock_error)?;
        match file.try_lock() {
            Ok(()) => Ok(AccountLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(FetchError::Locked {
                account: account.to_string(),
            }),
            Err(std::fs::TryLockError::Error(e)) => Err(lock_error(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_flight_holds_many_small_messages_and_few_large_ones() {
        let mut flight = Flight::new(1024, FLIGHT_BYTES);
        let mut small = 0;
        while flight.may_send(2_000) {
            flight.sent(2_000);
            small += 1;
        }
        assert_eq!(
            small, 1024,
            "small messages: the command window is the limit"
        );

        let mut flight = Flight::new(1024, FLIGHT_BYTES);
        let mut large = 0;
        while flight.may_send(3_000_000) {
            flight.sent(3_000_000);
            large += 1;
        }
        assert_eq!(large, 2, "large ones: the byte budget is");
        flight.answered(3_000_000);
        assert!(flight.may_send(3_000_000), "an answer makes room");

        // A message larger than the whole budget still goes, alone.
        let mut flight = Flight::new(1024, FLIGHT_BYTES);
        assert!(flight.may_send(50_000_000));
        flight.sent(50_000_000);
        assert!(!flight.may_send(1));

        // Without pipelining: one command at a time, whatever its size.
        let mut flight = Flight::new(1, u64::MAX);
        assert!(flight.may_send(0));
        flight.sent(0);
        assert!(!flight.may_send(0));
    }

    #[test]
    fn header_end_with_crlf_and_lf() {
        assert_eq!(find_header_end(b"A: b\r\n\r\nbody"), 8);
        assert_eq!(find_header_end(b"A: b\n\nbody"), 6);
        assert_eq!(find_header_end(b"A: b\r\n"), 6);
    }

    #[test]
    fn a_second_fetch_of_one_account_is_refused_while_the_first_holds_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let first = AccountLock::take(dir.path(), "home").unwrap();
        let err = AccountLock::take(dir.path(), "home").err().unwrap();
        assert!(err.to_string().contains("another Pipit"), "{err}");
        AccountLock::take(dir.path(), "work").unwrap();
        drop(first);
        AccountLock::take(dir.path(), "home").unwrap();
    }
}
