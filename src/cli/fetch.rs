//! `pipit fetch`: runs the worker and listens to it, drawing a progress line
//! on a terminal or printing a JSON summary.

use std::io::{IsTerminal as _, Write as _};

use serde::Serialize;

use super::{Failure, exit, human_bytes, password_from_stdin};
use crate::config::{Config, ConfigError};
use crate::paths::Paths;
use crate::secrets::PasswordSource;
use crate::sync::{FetchSummary, Progress};
use crate::worker::{Event, Worker};

/// The JSON printed by `fetch --json`: totals, then each account.
#[derive(Serialize, Default)]
struct Report {
    new: usize,
    downloaded: usize,
    headers_only: usize,
    linked: usize,
    deleted_on_server: usize,
    deleted_by_rule: usize,
    held_by_rule: usize,
    bytes: u64,
    errors: Vec<String>,
    accounts: Vec<AccountReport>,
}

#[derive(Serialize)]
struct AccountReport {
    #[serde(flatten)]
    summary: FetchSummary,
    ok: bool,
    /// The exit status this account alone would give.
    exit_code: i32,
}

pub fn run(
    paths: &Paths,
    only: Option<&str>,
    json: bool,
    password_stdin: bool,
) -> Result<(), Failure> {
    let config = Config::load(&paths.config)?;
    let accounts = match only {
        Some(name) => vec![config.account(name)?.clone()],
        None if config.accounts.is_empty() => return Err(ConfigError::NoAccounts.into()),
        None => config.accounts.clone(),
    };
    if password_stdin && accounts.len() > 1 {
        return Err(Failure::new(
            exit::USAGE,
            "--password-stdin gives one password: name the account with --account NAME",
        ));
    }
    let stdin_password = if password_stdin {
        Some(password_from_stdin()?)
    } else {
        None
    };

    let worker = Worker::spawn(paths.clone());
    let mut report = Report::default();
    let mut first_failure: Option<i32> = None;
    let mut waiting = 0;
    for account in &accounts {
        let source = match &stdin_password {
            Some(p) => PasswordSource::Given(p.clone()),
            None => account.password_source(),
        };
        worker.fetch(account.clone(), source);
        waiting += 1;
    }

    let mut bar = ProgressLine::new(!json && std::io::stderr().is_terminal());
    while waiting > 0 {
        let Ok(event) = worker.events().recv() else {
            break;
        };
        match event {
            Event::Progress(p) => bar.show(&p),
            // Only fetches were asked for.
            Event::Finished { account, result } => {
                waiting -= 1;
                bar.clear();
                let (summary, ok, code) = match result {
                    Ok(s) => (s, true, exit::OK),
                    Err(e) => {
                        let code = exit::of(e.kind());
                        let message = format!("{account}: {e}");
                        if !json {
                            eprintln!("pipit: {message}");
                        }
                        first_failure.get_or_insert(code);
                        report.errors.push(message);
                        (
                            FetchSummary {
                                account: account.clone(),
                                ..FetchSummary::default()
                            },
                            false,
                            code,
                        )
                    }
                };
                if ok && !json {
                    eprintln!("{}", describe(&summary));
                }
                report.new += summary.new;
                report.downloaded += summary.downloaded;
                report.headers_only += summary.headers_only;
                report.linked += summary.linked;
                report.deleted_on_server += summary.deleted_on_server;
                report.deleted_by_rule += summary.deleted_by_rule;
                report.held_by_rule += summary.held_by_rule;
                report.bytes += summary.bytes;
                report
                    .errors
                    .extend(summary.errors.iter().map(|e| format!("{account}: {e}")));
                report.accounts.push(AccountReport {
                    summary,
                    ok,
                    exit_code: code,
                });
            }
        }
    }
    if json {
        super::emit(&serde_json::to_string_pretty(&report).expect("report serialises"));
    }
    match first_failure {
        // Each failure was already printed (or is in the JSON report); the status tells the rest.
        Some(code) => Err(Failure::new(code, String::new())),
        None => Ok(()),
    }
}

fn describe(s: &FetchSummary) -> String {
    let mut line = format!(
        "{}: {} new, {} downloaded, {} deleted on the server ({})",
        s.account,
        s.new,
        s.downloaded,
        s.deleted_on_server,
        human_bytes(s.bytes)
    );
    if s.headers_only > 0 {
        line.push_str(&format!(
            ", {} kept as headers only (over the size limit)",
            s.headers_only
        ));
    }
    if s.deleted_by_rule > 0 {
        line.push_str(&format!(
            ", {} of them by rules, unread (see `pipit rules deleted`)",
            s.deleted_by_rule
        ));
    }
    if s.held_by_rule > 0 {
        line.push_str(&format!(
            ", {} held back by rules (headers only, left on the server)",
            s.held_by_rule
        ));
    }
    if s.linked > 0 {
        line.push_str(&format!(
            ", {} found under new UIDs and linked to the copies stored (not downloaded again)",
            s.linked
        ));
    }
    for u in &s.unarmed_rules {
        line.push_str(&format!(
            "\n  rule {:?} would delete {}; it is not armed, so they stay on the server: run `pipit rules test` to see them and arm it",
            u.rule, u.would_delete
        ));
    }
    for note in &s.notes {
        line.push_str(&format!("\n  note: {note}"));
    }
    for e in &s.errors {
        line.push_str(&format!("\n  problem: {e}"));
    }
    line
}

/// One line on standard error, redrawn in place.
struct ProgressLine {
    enabled: bool,
    drawn: bool,
}

impl ProgressLine {
    fn new(enabled: bool) -> Self {
        ProgressLine {
            enabled,
            drawn: false,
        }
    }

    fn show(&mut self, p: &Progress) {
        if !self.enabled {
            return;
        }
        let mut text = format!("{}: ", p.account());
        if let Some(fraction) = p.fraction() {
            let width = 24;
            let filled = ((fraction.clamp(0.0, 1.0) * width as f32) as usize).min(width);
            text.push_str(&format!(
                "[{}{}] ",
                "#".repeat(filled),
                " ".repeat(width - filled)
            ));
        }
        text.push_str(&p.words());
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[2K{text}");
        let _ = err.flush();
        self.drawn = true;
    }

    fn clear(&mut self) {
        if self.drawn {
            eprint!("\r\x1b[2K");
            self.drawn = false;
        }
    }
}
