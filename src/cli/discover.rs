//! `pipit account discover ADDRESS`, and the lookup behind `account add
//! --email`: what was found and where, and what needs the user's word
//! before it is used.

use std::io::IsTerminal as _;
use std::sync::atomic::AtomicBool;

use super::{Failure, exit};
use crate::discover::{self, DiscoverError, Discovery, Found};
use crate::net::Security;

fn search(address: &str) -> Result<Discovery, Failure> {
    if let Ok(a) = discover::Address::parse(address) {
        eprintln!("Looking up POP3 settings for {}…", a.domain);
    }
    discover::discover(address, &mut |_| {}, &AtomicBool::new(false)).map_err(|e| match e {
        DiscoverError::BadAddress(why) => Failure::new(exit::USAGE, why),
        DiscoverError::Cancelled | DiscoverError::System(_) => {
            Failure::new(exit::OTHER, e.to_string())
        }
    })
}

/// `pipit account discover ADDRESS [--json]`: nothing saved, no login.
pub fn run(address: &str, json: bool) -> Result<(), Failure> {
    let discovery = search(address)?;
    if json {
        super::emit(&serde_json::to_string_pretty(&discovery).expect("a discovery serialises"));
    } else {
        super::emit(&describe(&discovery));
    }
    match discovery.best() {
        Some(_) => Ok(()),
        // Standard output has told what each source said; JSON has not, to a person.
        None => {
            let message = discovery.nothing_found();
            let message = if json {
                message
            } else {
                message.lines().next().unwrap_or_default().to_string()
            };
            Err(Failure::new(exit::OTHER, message))
        }
    }
}

/// What was found, for a person.
fn describe(d: &Discovery) -> String {
    let mut text = String::new();
    match d.best() {
        Some(f) => {
            text.push_str(&format!(
                "POP3 settings for {}, from {}\n  ({})\n",
                d.address,
                f.source.describe(),
                f.from
            ));
            text.push_str(&server_lines(f));
        }
        None => text.push_str(&format!("No POP3 settings found for {}.\n", d.address)),
    }
    for other in d.found.iter().skip(1) {
        text.push_str(&format!(
            "Also found, from {}: {}:{} ({})\n",
            other.source.describe(),
            other.host,
            other.port,
            other.security.name()
        ));
    }
    text.push_str("Asked:\n");
    for a in &d.tried {
        text.push_str(&format!("  {}: {}\n", a.source.describe(), a.outcome));
    }
    match d.best() {
        Some(f) => text.push_str(&format!(
            "Nothing was saved. To add this account: pipit account add NAME {}",
            add_options(&d.address, f)
        )),
        None => text.push_str("Nothing was saved. Give the server yourself: pipit account add NAME --email ADDRESS --host HOST …"),
    }
    text
}

fn server_lines(f: &Found) -> String {
    let mut text = format!(
        "  server:   {}:{} ({})\n  user:     {}{}\n  login:    {}\n",
        f.host,
        f.port,
        f.security.name(),
        f.user,
        if f.user_from_source {
            ""
        } else {
            " (the address; the source did not say)"
        },
        f.auth.describe()
    );
    for note in &f.notes {
        let mark = if f.flags.any() { "!" } else { "-" };
        text.push_str(&format!("  {mark} {note}\n"));
    }
    text
}

/// The `account add` options these settings need.
fn add_options(address: &str, f: &Found) -> String {
    let mut options = format!("--email {address}");
    if f.flags.oauth_required {
        options.push_str(&format!(
            " --oauth {}",
            f.oauth_provider.as_deref().unwrap_or("ISSUER")
        ));
        return options;
    }
    options.push_str(" --password-stdin");
    if f.flags.plain_text {
        options.push_str(" --security plain");
    }
    if let Some(fp) = &f.flags.untrusted_certificate {
        options.push_str(&format!(" --trust-fingerprint {fp}"));
    }
    if f.flags.needs_confirmation {
        options.push_str(" --yes");
    }
    options
}

/// What `account add --email` may already say for itself.
pub struct Given {
    /// `--security`, if given.
    pub security: Option<Security>,
    /// `--trust-fingerprint` or `--ca-file` was given.
    pub trust: bool,
    /// `--yes`.
    pub yes: bool,
    /// Standard input is free to ask a question on (a terminal, not the password).
    pub can_ask: bool,
}

/// The settings for `account add --email`, once every flag up has the
/// user's word; else a refusal that says what to add.
pub fn for_add(address: &str, given: &Given) -> Result<Found, Failure> {
    let discovery = search(address)?;
    let Some(found) = discovery.best().cloned() else {
        return Err(Failure::new(exit::OTHER, discovery.nothing_found()));
    };
    let whence = format!("{} ({})", found.source.describe(), found.from);
    let usage = |message: String| Failure::new(exit::USAGE, message);
    if found.flags.oauth_required {
        let provider = found.oauth_provider.as_deref().unwrap_or("ISSUER");
        return Err(usage(format!(
            "{address} signs in with OAuth2 (in the browser), not a password, says {whence}. \
Add it with: pipit account add NAME --email {address} --oauth {provider}"
        )));
    }
    if found.flags.plain_text && given.security != Some(Security::Plain) {
        return Err(usage(format!(
            "the only POP3 server found for {} is {}:{}, in plain text (from {whence}): your password \
and mail would cross the network readable. Pipit uses it only if you say so with --security plain",
            discovery.domain, found.host, found.port
        )));
    }
    if let Some(fp) = &found.flags.untrusted_certificate
        && !given.trust
    {
        return Err(Failure::new(
            exit::of(crate::sync::ErrorKind::Tls),
            format!(
                "{}:{} was found by probing, but its certificate is not one Pipit trusts. \
If you know it is your server's, add --trust-fingerprint {fp}",
                found.host, found.port
            ),
        ));
    }
    if found.flags.needs_confirmation && !given.yes {
        let question = format!(
            "{} says your mail is on {}:{}, outside {}.",
            found.source.describe(),
            found.host,
            found.port,
            discovery.domain
        );
        if !given.can_ask || !ask(&format!("{question} Use it? [y/N] ")) {
            return Err(usage(format!(
                "{question} Nothing was saved: if you know your mail is there, add --yes (or give --host)"
            )));
        }
    }
    eprintln!(
        "Found in {whence}: {}:{} ({}), user {}",
        found.host,
        found.port,
        found.security.name(),
        found.user
    );
    for note in &found.notes {
        eprintln!("  - {note}");
    }
    Ok(found)
}

/// Asks a yes-or-no question on the terminal.
fn ask(question: &str) -> bool {
    use std::io::Write as _;
    if !std::io::stdin().is_terminal() {
        return false;
    }
    eprint!("{question}");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).is_ok()
        && matches!(line.trim().to_ascii_lowercase().as_str(), "y" | "yes")
}
