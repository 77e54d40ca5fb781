//! `pipit list|show|search|delete|export|backup`: the store, read and changed offline.
//! What a message says reaches the terminal through `crate::reveal`: no
//! escape sequence, bare carriage return or direction override gets through.

use std::path::Path;

use super::{Failure, exit, human_bytes};
use crate::paths::Paths;
use crate::reveal;
use crate::store::{Filter, MessageState, Store, Summary};
use crate::sync::inventory::Kind;

fn open(paths: &Paths) -> Result<Store, Failure> {
    Ok(Store::open(&paths.store)?)
}

pub fn list(
    paths: &Paths,
    account: Option<String>,
    trash: bool,
    deleted_by_rule: bool,
    json: bool,
) -> Result<(), Failure> {
    let store = open(paths)?;
    let messages = store.messages(&Filter {
        account,
        trash,
        deleted_by_rule,
        ..Filter::default()
    })?;
    print_summaries(&messages, json);
    Ok(())
}

pub fn server_list(paths: &Paths, account: Option<&str>, json: bool) -> Result<(), Failure> {
    let config = crate::config::Config::load(&paths.config)?;
    if let Some(name) = account {
        config.account(name)?;
    }
    let store = open(paths)?;
    let now = crate::dates::unix_now();
    let lines = crate::sync::inventory::lines(&store, &config, account, now)?;
    if json {
        super::emit(&serde_json::to_string_pretty(&lines).expect("inventory serialises"));
        return Ok(());
    }
    if lines.is_empty() {
        eprintln!("Nothing is known to be on the server: fetch first (pipit fetch).");
        return Ok(());
    }
    let mut out = String::new();
    let mut total = 0u64;
    for l in &lines {
        let c = &l.copy;
        total += c.size.unwrap_or(0);
        let stored = match l.kind {
            Kind::Stored => "stored",
            Kind::HeadersOnly => "headers only",
            Kind::ToDownload => "not downloaded yet",
            Kind::Failed => "failed (see show)",
            Kind::DeletedHere if c.state == MessageState::Purged => "deleted here",
            Kind::DeletedHere => "in Trash",
        };
        let deletion =
            crate::sync::inventory::deletion_words(l.deletion, "the next fetch", &format_date);
        out.push_str(&format!(
            "{:>6}  {:<10.10}  {:<18}  {:>9}  {:>4} d  {:<32}  {}\n",
            c.message,
            c.account,
            stored,
            c.size.map_or("?".into(), human_bytes),
            l.days_on_server,
            deletion,
            reveal::field(&c.subject)
        ));
    }
    out.push_str(&format!(
        "{} messages on the server, {}",
        lines.len(),
        human_bytes(total)
    ));
    super::emit(&out);
    Ok(())
}

pub fn search(paths: &Paths, query: &str, json: bool) -> Result<(), Failure> {
    let store = open(paths)?;
    let messages = store.search(query, &Filter::default())?;
    print_summaries(&messages, json);
    Ok(())
}

fn print_summaries(messages: &[Summary], json: bool) {
    if json {
        super::emit(&serde_json::to_string_pretty(messages).expect("summaries serialise"));
        return;
    }
    let mut out = String::new();
    for m in messages {
        let mark = match m.state {
            MessageState::Headers => " (on server)",
            _ => "",
        };
        let clip = if m.attachments.is_empty() {
            ""
        } else {
            " [attachment]"
        };
        out.push_str(&format!(
            "{:>6}  {}  {:<30.30}  {}{clip}{mark}  {}\n",
            m.id,
            m.date.map_or("                ".to_string(), format_date),
            reveal::field(&m.from),
            reveal::field(&m.subject),
            human_bytes(m.size)
        ));
    }
    super::emit(out.trim_end_matches('\n'));
}

pub fn show(paths: &Paths, id: i64, raw: bool) -> Result<(), Failure> {
    let store = open(paths)?;
    if raw {
        super::emit_bytes(&store.raw(id)?);
        return Ok(());
    }
    let d = store.detail(id)?;
    let mut text = format!(
        "From:    {}\nTo:      {}\n",
        reveal::field(&d.summary.from),
        reveal::field(&d.to)
    );
    if !d.cc.is_empty() {
        text.push_str(&format!("Cc:      {}\n", reveal::field(&d.cc)));
    }
    text.push_str(&format!(
        "Subject: {}\nDate:    {}\n",
        reveal::field(&d.summary.subject),
        d.summary.date.map_or(String::new(), format_date)
    ));
    if !d.summary.attachments.is_empty() {
        let names: Vec<_> = d
            .summary
            .attachments
            .iter()
            .map(|a| reveal::field(a))
            .collect();
        text.push_str(&format!("Attachments: {}\n", names.join(", ")));
    }
    for caution in [
        reveal::caution("sender", &d.summary.from),
        reveal::caution("subject", &d.summary.subject),
    ]
    .into_iter()
    .flatten()
    {
        text.push_str(&caution);
        text.push('\n');
    }
    text.push('\n');
    if d.summary.state == MessageState::Headers {
        if d.summary.on_server {
            text.push_str(&format!(
                "(Only the headers are downloaded: the message, {}, is still on the server.)\n",
                human_bytes(d.summary.size)
            ));
        } else {
            text.push_str(&format!(
                "(Only the headers were downloaded, and the message, {}, is no longer on the server.)\n",
                human_bytes(d.summary.size)
            ));
        }
        if !d.problem.is_empty() {
            text.push_str(&format!("(Why only the headers: {}.)\n", d.problem));
        }
    } else {
        text.push_str(&reveal::text(&d.text));
        text.push('\n');
    }
    super::emit_bytes(text.as_bytes());
    Ok(())
}

pub fn preview(paths: &Paths, id: i64, lines: u32) -> Result<(), Failure> {
    let store = open(paths)?;
    let summary = store.detail(id)?.summary;
    let config = crate::config::Config::load(&paths.config)?;
    let account = config.account(&summary.account)?;
    let password = account.password_source().password()?;
    let top = crate::sync::preview(account, &password, &store, &paths.locks, id, lines)?;
    super::emit_bytes(reveal::text(&String::from_utf8_lossy(&top)).as_bytes());
    Ok(())
}

pub fn delete(paths: &Paths, id: i64) -> Result<(), Failure> {
    let store = open(paths)?;
    store.trash(id, crate::dates::unix_now())?;
    eprintln!(
        "Message {id} moved to Trash; the account's policy removes it from the server on the next fetch."
    );
    Ok(())
}

pub fn export(paths: &Paths, mbox: &Path) -> Result<(), Failure> {
    let store = open(paths)?;
    let file = std::fs::File::create_new(mbox).map_err(|e| {
        Failure::new(
            exit::OTHER,
            format!(
                "cannot create {}: {e} (an existing file is never overwritten)",
                mbox.display()
            ),
        )
    })?;
    let mut out = std::io::BufWriter::new(file);
    let count = store.export_mbox(&mut out)?;
    eprintln!("Wrote {count} messages to {}", mbox.display());
    Ok(())
}

pub fn backup(paths: &Paths, file: &Path) -> Result<(), Failure> {
    let store = open(paths)?;
    store.backup(file)?;
    eprintln!("Wrote a copy of the mail store to {}", file.display());
    Ok(())
}

/// `2026-11-02 10:00` in UTC.
fn format_date(unix: i64) -> String {
    crate::dates::Civil::from_unix(unix).short()
}
