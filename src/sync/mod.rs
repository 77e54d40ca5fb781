//! One fetch for one account: as many POP3 sessions as it takes until
//! nothing new is left.
//!
//! The one rule everything here serves: a message is never DELE'd before its
//! bytes are durably committed, nor on less evidence than the module `plan`
//! asks that the listed message is the one stored; and deletions count as
//! done only after the server's +OK to QUIT.
//!
//! - `plan`: what to read, download, link and delete, without IO; with the
//!   account's rules before download (`crate::rules`), what they hold back
//!   and what an armed deleting rule may delete (`plan::rule_deletions`: only
//!   a message it matched by the header block read in that session, under a
//!   UID no other listed message has).
//! - `session`: one session carrying a plan out.
//! - `login`: connecting and logging in.
//! - `flight`: pipelined commands within an adaptive window.
//! - `writer`: parsing and storing downloads beside the socket.
//! - `lock`: one fetch of an account at a time.

mod flight;
pub mod inventory;
mod lock;
mod login;
pub mod plan;
mod session;
mod writer;

use std::path::Path;
use std::sync::atomic::AtomicBool;

use serde::Serialize;

use crate::config::Account;
use crate::dates::unix_now;
use crate::mime;
use crate::net::NetError;
use crate::pop3::{self, auth};
use crate::pop3::{Command, ProtocolError};
use crate::secrets::{Password, SecretError};
use crate::store::{Store, StoreError};

use lock::AccountLock;
pub(crate) use login::{Ahead, connect_and_authenticate};
use login::{check_login_delay, log_in};
use session::Pass;

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

impl Progress {
    /// The account it is about.
    pub fn account(&self) -> &str {
        match self {
            Progress::Connecting { account, .. }
            | Progress::Connected { account }
            | Progress::Authenticated { account }
            | Progress::Listed { account, .. }
            | Progress::Headers { account, .. }
            | Progress::Downloaded { account, .. }
            | Progress::Deleting { account, .. } => account,
        }
    }

    /// What is happening, in words both faces show after the account's name.
    pub fn words(&self) -> String {
        match self {
            Progress::Connecting { host, .. } => format!("connecting to {host}…"),
            Progress::Connected { .. } => "logging in…".into(),
            Progress::Authenticated { .. } => "listing messages…".into(),
            Progress::Listed { total, new, .. } => format!("{new} new of {total}"),
            Progress::Headers { done, of, .. } => format!("headers {done} of {of}"),
            Progress::Downloaded {
                done, of, bytes, ..
            } => format!(
                "{done} of {of} messages, {}",
                crate::units::human_bytes(*bytes)
            ),
            Progress::Deleting { count, .. } => format!("deleting {count} on the server…"),
        }
    }

    /// How far along the current step is, from 0 to 1, where that is known.
    pub fn fraction(&self) -> Option<f32> {
        match self {
            Progress::Headers { done, of, .. } | Progress::Downloaded { done, of, .. } => {
                Some(*done as f32 / (*of).max(1) as f32)
            }
            Progress::Deleting { .. } => Some(1.0),
            _ => None,
        }
    }
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
    /// Messages listed under a UID Pipit did not know, found to be messages
    /// it has already (a mailbox that moved, renumbered UIDs): linked, not
    /// downloaded again.
    pub linked: usize,
    /// Messages the server confirmed deleted (+OK to QUIT).
    pub deleted_on_server: usize,
    /// Of those, messages a rule deleted unread (their headers stay in the
    /// "Deleted by rule" view for 30 days).
    pub deleted_by_rule: usize,
    /// New messages a rule kept as headers only or left on the server.
    pub held_by_rule: usize,
    /// Deleting rules not armed yet, with what each would have deleted: run
    /// `pipit rules test` to arm them.
    pub unarmed_rules: Vec<UnarmedRule>,
    /// Bytes read from the server.
    pub bytes: u64,
    /// Sessions opened.
    pub sessions: usize,
    /// Problems with single messages that did not stop the fetch.
    pub errors: Vec<String>,
    /// Things worth knowing about the server (e.g. no UIDL).
    pub notes: Vec<String>,
}

/// A deleting rule that left messages on the server because it is not armed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct UnarmedRule {
    pub rule: String,
    pub would_delete: usize,
}

impl FetchSummary {
    /// Counts a message an unarmed deleting rule matched.
    pub(crate) fn rule_would_delete(&mut self, rule: &str) {
        match self.unarmed_rules.iter_mut().find(|u| u.rule == rule) {
            Some(u) => u.would_delete += 1,
            None => self.unarmed_rules.push(UnarmedRule {
                rule: rule.to_string(),
                would_delete: 1,
            }),
        }
    }
}

/// Why a fetch stopped. `exit_code` maps each to the CLI's exit status.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    #[error(transparent)]
    Net(#[from] NetError),
    #[error("the server refused the login: {text}. Check the user name and password")]
    AuthRefused { text: String },
    /// The server refused the OAuth2 access token (XOAUTH2, OAUTHBEARER).
    #[error(
        "the sign-in has expired or was revoked: sign in again (the server refused the {mechanism} access token{}: {text})",
        status.as_ref().map(|s| format!(", status {s}")).unwrap_or_default()
    )]
    TokenRefused {
        mechanism: &'static str,
        status: Option<String>,
        text: String,
    },
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
    #[error("{}", password_error(.0))]
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
    /// Pipit itself failed (a thread stopped, a row it made is missing): not
    /// the server's fault, nor the network's. Nothing was deleted.
    #[error("Pipit failed inside: {0}. Nothing was deleted on the server; please report this")]
    Internal(String),
    /// The server stopped answering while several commands were in flight.
    #[error("the server stopped answering pipelined commands")]
    PipeliningBroken,
}

/// A password that could not be had; a sign-in's own words say why.
fn password_error(e: &SecretError) -> String {
    match e {
        SecretError::SignIn(e) => e.to_string(),
        e => format!("cannot get the password: {e}"),
    }
}

impl From<ProtocolError> for FetchError {
    fn from(e: ProtocolError) -> Self {
        FetchError::Net(NetError::Protocol(e))
    }
}

/// What kind of failure a fetch met: what the faces tell the user by
/// (the command line's exit status, the window's headline), each in one
/// table of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// The server refused the credentials (or they cannot work: APOP
    /// without a timestamp).
    LoginRefused,
    /// TLS, a certificate, or STARTTLS not to be had.
    Tls,
    /// The network: no route, no answer, a cut.
    Network,
    /// The server broke POP3.
    Protocol,
    /// The server refused for another reason (busy, in use, wait), the
    /// store, the keychain, the setup, or Pipit itself.
    Other,
}

impl FetchError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            FetchError::AuthRefused { .. }
            | FetchError::TokenRefused { .. }
            | FetchError::NoApop => ErrorKind::LoginRefused,
            FetchError::Net(net) => match net {
                NetError::Certificate(_)
                | NetError::Tls(_)
                | NetError::TlsSetup(_)
                | NetError::StlsUnavailable
                | NetError::StlsRefused(_)
                | NetError::TokenInClear(_) => ErrorKind::Tls,
                NetError::Protocol(_) | NetError::Sasl(_) | NetError::PipelinedLogin(_) => {
                    ErrorKind::Protocol
                }
                NetError::LoginRefused { .. }
                | NetError::TokenRefused { .. }
                | NetError::NotOffered(_)
                | NetError::NoApop => ErrorKind::LoginRefused,
                NetError::Refused { .. } | NetError::UnsafeArgument(_) | NetError::Internal(_) => {
                    ErrorKind::Other
                }
                NetError::Resolve { .. }
                | NetError::Connect { .. }
                | NetError::Timeout { .. }
                | NetError::Unanswered { .. }
                | NetError::TooSlow { .. }
                | NetError::Closed
                | NetError::Io(_) => ErrorKind::Network,
            },
            FetchError::Sasl(_) | FetchError::Protocol(_) | FetchError::CommandFailed { .. } => {
                ErrorKind::Protocol
            }
            // A sign-in that has run out is a refused login: sign in again.
            FetchError::Password(SecretError::SignIn(e)) if e.needs_sign_in() => {
                ErrorKind::LoginRefused
            }
            FetchError::Password(SecretError::SignIn(e)) if e.is_network() => ErrorKind::Network,
            _ => ErrorKind::Other,
        }
    }
}

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
    // What this very server listed last time, if Pipit remembers it.
    let remembered_in = |state: crate::store::AccountState| {
        state
            .capabilities
            .filter(|c| c.server == login::server_key(account))
            .map(|c| {
                (
                    pop3::Capabilities::parse(c.before.as_bytes()),
                    pop3::Capabilities::parse(c.after.as_bytes()),
                )
            })
    };
    let mut remembered = remembered_in(state);
    let mut completed = 0;
    loop {
        let pass = Pass {
            account,
            password,
            cancel,
            pipelining,
            remembered: remembered.clone(),
            summary: &mut summary,
        };
        let outcome = pass.run(store, progress);
        match outcome {
            Ok(again) if again && summary.sessions < MAX_SESSIONS => {
                completed += 1;
                // The next session goes by what this one learnt.
                remembered = remembered_in(store.account_state(&account.name)?);
            }
            Ok(_) => return Ok(summary),
            // Commands in flight went unanswered: some servers advertise
            // PIPELINING and then drop what comes after the first command.
            Err(FetchError::PipeliningBroken) => {
                pipelining = false;
                // What was remembered may be what misled: ask afresh.
                remembered = None;
                store.remember_capabilities(&account.name, None)?;
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
/// server (TOP). It is found among the listed messages by one of its copies
/// (UID and size), and shown only if its header block is that copy's.
/// Nothing is stored or deleted.
pub fn preview(
    account: &Account,
    password: &Password,
    store: &Store,
    lock_dir: &Path,
    id: i64,
    lines: u32,
) -> Result<Vec<u8>, FetchError> {
    let _lock = AccountLock::take(lock_dir, &account.name)?;
    let copies = store.copies_of(id)?;
    if copies.is_empty() {
        return Err(FetchError::NotOnServer);
    }
    check_login_delay(store, account)?;
    let mut session = log_in(account, password, &mut |_| {})?;
    let caps = session.caps();
    store.record_login(
        &account.name,
        unix_now(),
        caps.login_delay.unwrap_or(0) as i64,
    )?;
    let mut ignored = FetchSummary::default();
    let (listing, _) = session::read_listing(&mut session, 1, false, &mut ignored)?;
    let candidates: Vec<(u32, Option<mime::HeaderDigest>)> = listing
        .iter()
        .filter_map(|l| {
            copies
                .iter()
                .find(|c| c.uid == l.uid && c.size.is_none_or(|s| s == l.size))
                .map(|c| (l.number, c.digest))
        })
        .collect();
    let mut found = None;
    for (number, digest) in &candidates {
        let reply = session.command(&Command::Top {
            message: *number,
            lines,
        })?;
        let body = session::expect_body(reply, "TOP")?;
        // Without a digest to compare, only a single candidate is trusted.
        let same = match digest {
            Some(d) => mime::header_digest(&body) == *d,
            None => candidates.len() == 1,
        };
        if same {
            found = Some(body);
            break;
        }
    }
    let _ = session.command(&Command::Quit);
    found.ok_or(FetchError::NotOnServer)
}

fn note(summary: &mut FetchSummary, text: &str) {
    if !summary.notes.iter().any(|n| n == text) {
        summary.notes.push(text.to_string());
    }
}

#[cfg(test)]
mod tests;
