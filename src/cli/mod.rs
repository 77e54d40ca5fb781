//! The headless face: subcommands that never touch a display. Each returns
//! a [`Failure`] carrying the exit status and a message that says what
//! happened and what to do.

mod account;
mod discover;
mod doctor;
mod fetch;
mod messages;
mod rules;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::config::ConfigError;
use crate::paths::Paths;
use crate::secrets::SecretError;
use crate::store::StoreError;
use crate::sync::FetchError;

/// Exit statuses, as SPEC.md fixes them.
pub mod exit {
    use crate::sync::ErrorKind;

    pub const OK: i32 = 0;
    pub const OTHER: i32 = 1;
    pub const USAGE: i32 = 2;
    /// `pipit doctor` found a check that failed.
    pub const CHECK_FAILED: i32 = 7;

    /// The exit status for a fetch that failed this way.
    pub fn of(kind: ErrorKind) -> i32 {
        match kind {
            ErrorKind::LoginRefused => 3,
            ErrorKind::Tls => 4,
            ErrorKind::Network => 5,
            ErrorKind::Protocol => 6,
            ErrorKind::Other => OTHER,
        }
    }
}

#[derive(Parser, Debug)]
#[command(
    name = "pipit",
    version,
    about = "A POP3 mail reader: download your mail, read, search and delete it offline.",
    long_about = "A POP3 mail reader: download your mail, read, search and delete it offline.\n\
With no command it opens the window; with a command it runs headless."
)]
pub struct Cli {
    /// Keep config and mail under DIR instead of the platform's directories (or set PIPIT_HOME).
    #[arg(long, global = true, value_name = "DIR")]
    pub home: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<CliCommand>,
}

#[derive(Subcommand, Debug)]
pub enum CliCommand {
    /// Add, list or remove mail accounts.
    #[command(subcommand)]
    Account(account::AccountCommand),
    /// Download new mail from the server (one pass per account).
    Fetch {
        /// Only this account (default: all).
        #[arg(long)]
        account: Option<String>,
        /// Print a JSON summary on standard output instead of a progress bar.
        #[arg(long)]
        json: bool,
        /// Read the password for this run from standard input.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List the messages in the store.
    List {
        #[arg(long)]
        account: Option<String>,
        /// List the messages in Trash instead.
        #[arg(long, conflicts_with = "deleted_by_rule")]
        trash: bool,
        /// List the messages rules deleted on the server instead (their
        /// headers, kept 30 days; `pipit rules deleted` says which rule).
        #[arg(long)]
        deleted_by_rule: bool,
        #[arg(long)]
        json: bool,
    },
    /// Show one message.
    Show {
        id: i64,
        /// Write the stored bytes to standard output, unchanged.
        #[arg(long)]
        raw: bool,
    },
    /// Show the headers and first lines of a message still on the server (TOP).
    Preview {
        id: i64,
        /// Lines of the body to show.
        #[arg(long, default_value_t = 20)]
        lines: u32,
    },
    /// Examine a POP3 server, read-only (never a DELE; at most one RETR of
    /// one small message), and report check by check.
    Doctor(Box<doctor::DoctorArgs>),
    /// What the servers hold, as of the last fetch.
    #[command(subcommand)]
    Server(ServerCommand),
    /// Rules before download: what to do with a message, judged on its
    /// headers before its body is read (list, add, remove, test, deleted).
    #[command(subcommand)]
    Rules(rules::RulesCommand),
    /// Search sender, subject and text.
    Search {
        query: String,
        #[arg(long)]
        json: bool,
    },
    /// Move a message to Trash; the account's policy removes it from the server on the next fetch.
    Delete { id: i64 },
    /// Write every downloaded message to an mbox file (mboxrd).
    Export {
        #[arg(long, value_name = "FILE")]
        mbox: PathBuf,
    },
    /// Write a consistent copy of the mail store to FILE.
    Backup { file: PathBuf },
    /// Try Pipit on a built-in POP3 server with sample mail (a throwaway profile, never yours).
    Demo {
        /// Only serve, and print how to reach the server from the command line.
        #[arg(long)]
        headless: bool,
    },
    /// Show one message file (.eml) in a window; with no file, the main window.
    Open { file: Option<PathBuf> },
}

#[derive(Subcommand, Debug)]
pub enum ServerCommand {
    /// Every message on the server as of the last fetch: what is stored of
    /// it, its size, how long it has been there, and when the account's
    /// policy deletes it there.
    List {
        /// Only this account (default: all).
        #[arg(long)]
        account: Option<String>,
        #[arg(long)]
        json: bool,
    },
}

/// A command that did not succeed: what to print, and the exit status.
#[derive(Debug)]
pub struct Failure {
    pub code: i32,
    pub message: String,
}

impl Failure {
    pub fn new(code: i32, message: impl Into<String>) -> Failure {
        Failure {
            code,
            message: message.into(),
        }
    }
}

impl From<FetchError> for Failure {
    fn from(e: FetchError) -> Self {
        Failure::new(exit::of(e.kind()), e.to_string())
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Self {
        Failure::new(exit::OTHER, e.to_string())
    }
}

impl From<ConfigError> for Failure {
    fn from(e: ConfigError) -> Self {
        Failure::new(exit::OTHER, e.to_string())
    }
}

impl From<SecretError> for Failure {
    fn from(e: SecretError) -> Self {
        Failure::new(exit::OTHER, e.to_string())
    }
}

/// What a command leaves to the window: `main` opens it, so the command
/// line never reaches into the window's code.
pub enum Then {
    /// Done: exit with status 0.
    Exit,
    /// The main window on this profile.
    Window,
    /// One message file in a window of its own.
    OpenFile(PathBuf),
    /// The main window on the demo's throwaway profile, fetching at once;
    /// the demo server lives as long as this value.
    DemoWindow(crate::demo::Demo),
}

/// Runs a subcommand; `Ok` is exit status 0 once what is left is done.
pub fn run(paths: &Paths, command: CliCommand) -> Result<Then, Failure> {
    let done = |r: Result<(), Failure>| r.map(|()| Then::Exit);
    match command {
        CliCommand::Demo { headless } => demo(headless),
        CliCommand::Open { file: Some(file) } => Ok(Then::OpenFile(file)),
        CliCommand::Open { file: None } => Ok(Then::Window),
        other => done(run_headless(paths, other)),
    }
}

fn run_headless(paths: &Paths, command: CliCommand) -> Result<(), Failure> {
    match command {
        CliCommand::Account(cmd) => account::run(paths, cmd),
        CliCommand::Fetch {
            account,
            json,
            password_stdin,
        } => fetch::run(paths, account.as_deref(), json, password_stdin),
        CliCommand::List {
            account,
            trash,
            deleted_by_rule,
            json,
        } => messages::list(paths, account, trash, deleted_by_rule, json),
        CliCommand::Show { id, raw } => messages::show(paths, id, raw),
        CliCommand::Preview { id, lines } => messages::preview(paths, id, lines),
        CliCommand::Search { query, json } => messages::search(paths, &query, json),
        CliCommand::Server(ServerCommand::List { account, json }) => {
            messages::server_list(paths, account.as_deref(), json)
        }
        CliCommand::Doctor(args) => doctor::run(paths, *args),
        CliCommand::Rules(cmd) => rules::run(paths, cmd),
        CliCommand::Delete { id } => messages::delete(paths, id),
        CliCommand::Export { mbox } => messages::export(paths, &mbox),
        CliCommand::Backup { file } => messages::backup(paths, &file),
        CliCommand::Demo { .. } | CliCommand::Open { .. } => {
            unreachable!("handled by run")
        }
    }
}

/// `pipit demo`: serve the sample mailbox, and open the window on it (or
/// print how to reach it).
fn demo(headless: bool) -> Result<Then, Failure> {
    let demo = crate::demo::Demo::start().map_err(|e| Failure::new(exit::OTHER, e))?;
    if headless {
        emit(&demo.instructions(&crate::demo::suggested_home()));
        loop {
            std::thread::park();
        }
    }
    Ok(Then::DemoWindow(demo))
}

/// Reads a password from standard input (one line; the newline is dropped).
fn password_from_stdin() -> Result<crate::secrets::Password, Failure> {
    use std::io::Read as _;
    let mut bytes = Vec::new();
    std::io::stdin()
        .take(64 * 1024)
        .read_to_end(&mut bytes)
        .map_err(|e| {
            Failure::new(
                exit::OTHER,
                format!("cannot read the password from standard input: {e}"),
            )
        })?;
    let first_line_end = bytes
        .iter()
        .position(|&b| b == b'\n')
        .map_or(bytes.len(), |i| i + 1);
    bytes.truncate(first_line_end);
    let password = crate::secrets::password_from_bytes(bytes)?;
    if password.expose().is_empty() {
        return Err(SecretError::EmptyStdin.into());
    }
    Ok(password)
}

/// Writes `text` and a newline to standard output.
fn emit(text: &str) {
    let mut bytes = text.as_bytes().to_vec();
    bytes.push(b'\n');
    emit_bytes(&bytes);
}

/// Writes bytes to standard output. A reader that went away (`| head`) ends
/// the program quietly, as it would a C program, instead of a panic.
fn emit_bytes(bytes: &[u8]) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_all(bytes).and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(exit::OK);
        }
        eprintln!("pipit: cannot write to standard output: {e}");
        std::process::exit(exit::OTHER);
    }
}

pub use crate::units::human_bytes;
