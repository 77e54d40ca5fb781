//! Setting up an account from an email address: where its POP3 server is
//! and how to log in, asked of these sources in this order, the first
//! answer that works winning:
//!
//! 1. built-in presets for large providers (`presets`), asking no one;
//! 2. the provider's autoconfig document, at `autoconfig.<domain>` and
//!    then `<domain>/.well-known/autoconfig` (`autoconfig`, `http`);
//! 3. Thunderbird's ISPDB;
//! 4. the domain's MX records, for domains hosted by Google or Microsoft (`mx`);
//! 5. RFC 6186 SRV records (`srv`);
//! 6. guessing `pop.`, `pop3.` and `mail.<domain>` (`probe`).
//!
//! All but the presets run side by side, each with a short timeout, so the
//! whole search takes seconds; the order only decides which answer wins.
//! Plain text is never chosen silently: a plain-text answer loses to any
//! encrypted one, and is flagged. A document that names a server outside
//! the address's domain is flagged as needing the user's confirmation.
//! The password is never sent anywhere: the ISPDB and DNS see the domain.
//!
//! [`discover`] is the one entry point, for the command line and the
//! window alike: an address, a progress callback and a cancel flag in, what
//! was found (best first) and what each source said out.

pub mod address;
pub mod autoconfig;
pub mod dns;
pub mod http;
pub mod mx;
pub mod overrides;
pub mod presets;
pub mod probe;
pub mod srv;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

pub use address::Address;
pub use autoconfig::Auth;

use crate::net::Security;

/// How long one lookup may take.
pub const LOOKUP_TIMEOUT: Duration = Duration::from_secs(4);

/// How long the whole search may take: a lookup still running then is
/// given up on.
pub const SEARCH_TIMEOUT: Duration = Duration::from_secs(10);

/// Thunderbird's ISPDB.
pub const ISPDB: &str = "https://autoconfig.thunderbird.net/v1.1/";

/// Where settings came from, in the order they are believed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Source {
    Preset,
    Autoconfig,
    WellKnown,
    Ispdb,
    Mx,
    Srv,
    Probe,
}

impl Source {
    pub const ALL: [Source; 7] = [
        Source::Preset,
        Source::Autoconfig,
        Source::WellKnown,
        Source::Ispdb,
        Source::Mx,
        Source::Srv,
        Source::Probe,
    ];

    /// What it is, for a sentence.
    pub fn describe(self) -> &'static str {
        match self {
            Source::Preset => "Pipit's built-in settings",
            Source::Autoconfig => "the provider's autoconfig document",
            Source::WellKnown => "the provider's autoconfig document (.well-known)",
            Source::Ispdb => "Thunderbird's ISPDB",
            Source::Mx => "the domain's MX records",
            Source::Srv => "the domain's SRV records",
            Source::Probe => "probing likely server names",
        }
    }

    fn index(self) -> usize {
        Source::ALL.iter().position(|s| *s == self).unwrap_or(0)
    }
}

/// What a user needs to know before using settings.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Flags {
    /// Only plain text was found: the password would cross the network
    /// readable. Never used unless the user says so (`--security plain`).
    pub plain_text: bool,
    /// The server is outside the address's domain and was named by a
    /// document or record that could have been tampered with: ask first.
    pub needs_confirmation: bool,
    /// The server's certificate did not verify (found by probing): its
    /// SHA-256 fingerprint, to trust only if the user knows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub untrusted_certificate: Option<String>,
    /// The server wants an OAuth2 sign-in, not a password.
    pub oauth_required: bool,
}

impl Flags {
    pub fn any(&self) -> bool {
        self.plain_text
            || self.needs_confirmation
            || self.untrusted_certificate.is_some()
            || self.oauth_required
    }
}

/// Settings one source gave.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Found {
    pub source: Source,
    /// Exactly where: a URL, a DNS record, the servers probed.
    pub from: String,
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub auth: Auth,
    /// The user name to log in with.
    pub user: String,
    /// Whether the source gave the user name (else it is the address).
    pub user_from_source: bool,
    /// The OAuth2 provider (`--oauth NAME`) its server signs in with, if known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub oauth_provider: Option<String>,
    pub flags: Flags,
    /// Sentences for the user: why a flag is up, what else to know.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

/// What one source said.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct Attempt {
    pub source: Source,
    /// Whether it gave settings.
    pub found: bool,
    /// What it said, for the user: what it found, or why nothing.
    pub outcome: String,
}

/// The result of a search.
#[derive(Clone, Debug, serde::Serialize)]
pub struct Discovery {
    pub address: String,
    pub domain: String,
    /// Every answer, best first: the first is the one to use.
    pub found: Vec<Found>,
    /// What each source said, in the order they are believed; a source not
    /// asked (an earlier one answered first) is absent.
    pub tried: Vec<Attempt>,
}

impl Discovery {
    /// The settings to use, if any were found.
    pub fn best(&self) -> Option<&Found> {
        self.found.first()
    }

    /// Why nothing was found, and what to do.
    pub fn nothing_found(&self) -> String {
        let d = &self.domain;
        let mut text = format!(
            "no POP3 settings found for {d} (tried presets, autoconfig, ISPDB, MX, SRV, probing pop/pop3/mail.{d}): give --host"
        );
        for a in &self.tried {
            text.push_str(&format!("\n  {}: {}", a.source.describe(), a.outcome));
        }
        text
    }
}

/// What the search is doing, as it goes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Progress {
    /// These sources are being asked, side by side.
    Asking(Vec<Source>),
    /// A source has answered (or given up).
    Answered(Attempt),
}

/// Why there was no search at all.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum DiscoverError {
    #[error("{0}")]
    BadAddress(String),
    #[error("the search was cancelled")]
    Cancelled,
    /// The system would not start a lookup (no threads left).
    #[error("cannot look anything up: {0}")]
    System(String),
}

/// Looks up POP3 settings for `address`. `progress` hears what happens as
/// it happens (on the caller's thread); setting `cancel` ends the search
/// within a moment. Nothing is saved, and no password is involved.
pub fn discover(
    address: &str,
    progress: &mut dyn FnMut(Progress),
    cancel: &AtomicBool,
) -> Result<Discovery, DiscoverError> {
    let address = Address::parse(address).map_err(DiscoverError::BadAddress)?;
    let mut discovery = Discovery {
        address: address.full.clone(),
        domain: address.domain.clone(),
        found: Vec::new(),
        tried: Vec::new(),
    };
    // The presets first, asking no one: a known provider needs no lookups.
    progress(Progress::Asking(vec![Source::Preset]));
    let preset = from_preset(&address);
    let attempt = attempt_of(Source::Preset, &preset, &address);
    progress(Progress::Answered(attempt.clone()));
    discovery.tried.push(attempt);
    if let Ok(found) = preset {
        discovery.found.push(found);
        return Ok(discovery);
    }

    if cancel.load(Ordering::Relaxed) {
        return Err(DiscoverError::Cancelled);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel::<(Source, Result<Found, String>)>();
    let asked = &Source::ALL[1..];
    progress(Progress::Asking(asked.to_vec()));
    for &source in asked {
        let (tx, stop, address) = (tx.clone(), stop.clone(), address.clone());
        std::thread::Builder::new()
            .name(format!("discover-{source:?}"))
            .spawn(move || {
                let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    lookup(source, &address, &stop)
                }))
                .unwrap_or_else(|p| Err(format!("failed: {}", crate::failpoint::panic_text(&*p))));
                let _ = tx.send((source, result));
            })
            .map_err(|e| DiscoverError::System(e.to_string()))?;
    }
    drop(tx);

    let deadline = Instant::now() + SEARCH_TIMEOUT;
    let mut results: Vec<Option<Result<Found, String>>> = vec![None; Source::ALL.len()];
    results[0] = Some(Err(String::new()));
    loop {
        if decided(&results) {
            break;
        }
        if cancel.load(Ordering::Relaxed) {
            stop.store(true, Ordering::Relaxed);
            return Err(DiscoverError::Cancelled);
        }
        let now = Instant::now();
        if now >= deadline {
            break;
        }
        let wait = (deadline - now).min(Duration::from_millis(100));
        match rx.recv_timeout(wait) {
            Ok((source, result)) => {
                let attempt = attempt_of(source, &result, &address);
                progress(Progress::Answered(attempt.clone()));
                discovery.tried.push(attempt);
                results[source.index()] = Some(result);
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    stop.store(true, Ordering::Relaxed);
    // Sources that had not answered when the search ended.
    if !decided(&results) {
        for &source in asked {
            if results[source.index()].is_none() {
                let attempt = Attempt {
                    source,
                    found: false,
                    outcome: format!("no answer within {} s", SEARCH_TIMEOUT.as_secs()),
                };
                progress(Progress::Answered(attempt.clone()));
                discovery.tried.push(attempt);
            }
        }
    }
    discovery.tried.sort_by_key(|a| a.source);
    let mut found: Vec<Found> = results
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .collect();
    found.sort_by_key(|f| (f.flags.plain_text, f.source));
    discovery.found = found;
    Ok(discovery)
}

/// Whether the answer is known: an encrypted answer with every source
/// before it done, or every source done.
fn decided(results: &[Option<Result<Found, String>>]) -> bool {
    for r in results {
        match r {
            None => return false,
            Some(Ok(f)) if !f.flags.plain_text => return true,
            Some(_) => {}
        }
    }
    true
}

fn attempt_of(source: Source, result: &Result<Found, String>, address: &Address) -> Attempt {
    match result {
        Ok(f) => Attempt {
            source,
            found: true,
            outcome: format!(
                "{}:{} ({}){}",
                f.host,
                f.port,
                f.security.name(),
                if f.flags.plain_text {
                    ", plain text only"
                } else {
                    ""
                }
            ),
        },
        Err(why) => Attempt {
            source,
            found: false,
            outcome: if why.is_empty() {
                format!("nothing for {}", address.domain)
            } else {
                why.clone()
            },
        },
    }
}

fn lookup(source: Source, address: &Address, stop: &AtomicBool) -> Result<Found, String> {
    let d = &address.domain;
    match source {
        Source::Preset => from_preset(address),
        Source::Autoconfig => from_document(
            source,
            &format!(
                "https://autoconfig.{d}/mail/config-v1.1.xml?emailaddress={}",
                encode(&address.full)
            ),
            address,
        ),
        Source::WellKnown => from_document(
            source,
            &format!("https://{d}/.well-known/autoconfig/mail/config-v1.1.xml"),
            address,
        ),
        Source::Ispdb => from_document(
            source,
            &format!(
                "{}{d}",
                overrides::ispdb().unwrap_or_else(|| ISPDB.to_string())
            ),
            address,
        ),
        Source::Mx => {
            let resolver = dns::Resolver::system(LOOKUP_TIMEOUT);
            let (preset, exchanger) = mx::lookup(&resolver, d)?;
            let mut found = found_from_preset(
                preset,
                address,
                Source::Mx,
                format!("MX record of {d}: {}", exchanger.trim_end_matches('.')),
            );
            found
                .notes
                .insert(0, format!("{d}'s mail is hosted by {}", preset.provider));
            Ok(found)
        }
        Source::Srv => {
            let resolver = dns::Resolver::system(LOOKUP_TIMEOUT);
            let (host, port, security, record) = srv::pop3(&resolver, d)?;
            let mut found = Found {
                source,
                from: format!("SRV record {record}"),
                user: address.full.clone(),
                user_from_source: false,
                oauth_provider: None,
                flags: Flags::default(),
                notes: Vec::new(),
                host,
                port,
                security,
                auth: Auth::Password,
            };
            confirm_if_foreign(&mut found, address, &format!("the SRV record {record}"));
            Ok(found)
        }
        Source::Probe => {
            let answered = probe::probe(d, LOOKUP_TIMEOUT, stop)?;
            let mut found = Found {
                source,
                from: format!(
                    "probing {}",
                    probe::PREFIXES
                        .iter()
                        .map(|p| format!("{p}.{d}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
                host: answered.host,
                port: answered.port,
                security: answered.security,
                auth: Auth::Password,
                user: address.full.clone(),
                user_from_source: false,
                oauth_provider: None,
                flags: Flags::default(),
                notes: Vec::new(),
            };
            if let Some(fp) = answered.untrusted {
                found.notes.push(format!(
                    "{}'s certificate is not one Pipit trusts (self-signed, or for another name). \
Trust it only if you know it is your server's: its SHA-256 fingerprint is {fp}",
                    found.host
                ));
                found.flags.untrusted_certificate = Some(fp.to_string());
            }
            if let Some(name) = answered.implementation {
                found.notes.push(format!("the server calls itself {name}"));
            }
            found
                .notes
                .push("the user name was not found: the address is a guess".to_string());
            flag_plain(&mut found);
            Ok(found)
        }
    }
}

/// Percent-encodes a query value.
fn encode(text: &str) -> String {
    oauth2::url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

fn from_preset(address: &Address) -> Result<Found, String> {
    let preset = presets::for_domain(&address.domain)
        .ok_or_else(|| format!("no built-in settings for {}", address.domain))?;
    Ok(found_from_preset(
        preset,
        address,
        Source::Preset,
        format!("built-in settings for {}", preset.provider),
    ))
}

fn found_from_preset(
    preset: presets::Preset,
    address: &Address,
    source: Source,
    from: String,
) -> Found {
    let mut notes = Vec::new();
    if let Some(provider) = preset.oauth {
        notes.push(format!(
            "{} wants a sign-in in the browser (OAuth2), not a password: add the account with --oauth {provider}",
            preset.provider
        ));
    }
    if let Some(note) = preset.note {
        notes.push(note.to_string());
    }
    Found {
        source,
        from,
        host: preset.host.to_string(),
        port: preset.port,
        security: preset.security,
        auth: if preset.oauth.is_some() {
            Auth::Oauth2
        } else {
            Auth::Password
        },
        user: address.full.clone(),
        user_from_source: true,
        oauth_provider: preset.oauth.map(String::from),
        flags: Flags {
            oauth_required: preset.oauth.is_some(),
            ..Flags::default()
        },
        notes,
    }
}

fn from_document(source: Source, url: &str, address: &Address) -> Result<Found, String> {
    let http = http::Http::new(LOOKUP_TIMEOUT)?;
    let document = http.get(url).map_err(|m| m.to_string())?;
    let servers = autoconfig::parse(&document.text, address)?;
    let best = servers
        .into_iter()
        .next()
        .ok_or("it lists no POP3 server")?;
    let oauth_provider = (best.auth == Auth::Oauth2)
        .then(|| presets::oauth_provider_of(&best.host).map(String::from))
        .flatten();
    let mut found = Found {
        source,
        from: document.url.clone(),
        user_from_source: best.user.is_some(),
        user: best.user.unwrap_or_else(|| address.full.clone()),
        host: best.host,
        port: best.port,
        security: best.security,
        auth: best.auth,
        flags: Flags {
            oauth_required: best.auth == Auth::Oauth2,
            ..Flags::default()
        },
        oauth_provider,
        notes: Vec::new(),
    };
    if found.flags.oauth_required {
        found.notes.push(match &found.oauth_provider {
            Some(p) => format!(
                "the server wants a sign-in in the browser (OAuth2), not a password: add the account with --oauth {p}"
            ),
            None => "the server wants a sign-in in the browser (OAuth2), not a password, with a provider Pipit does not know: add the account with --oauth ISSUER".to_string(),
        });
    }
    // The ISPDB is curated: its word on another domain's server is taken.
    if source != Source::Ispdb {
        let host = oauth2::url::Url::parse(&document.url)
            .ok()
            .and_then(|u| u.host_str().map(String::from))
            .unwrap_or_default();
        confirm_if_foreign(&mut found, address, &format!("the document at {host}"));
    }
    flag_plain(&mut found);
    Ok(found)
}

/// Flags a server outside the address's domain, named by `by`.
fn confirm_if_foreign(found: &mut Found, address: &Address, by: &str) {
    if !address.owns(&found.host) {
        found.flags.needs_confirmation = true;
        found.notes.push(format!(
            "{by} names {}, which is outside {}: use it only if you know your mail is there",
            found.host, address.domain
        ));
    }
}

fn flag_plain(found: &mut Found) {
    if found.security == Security::Plain {
        found.flags.plain_text = true;
        found.notes.push(format!(
            "{}:{} offers only plain text: your password and mail would cross the network readable",
            found.host, found.port
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn found(source: Source, plain: bool) -> Option<Result<Found, String>> {
        Some(Ok(Found {
            source,
            from: String::new(),
            host: "pop.example.org".into(),
            port: 995,
            security: if plain {
                Security::Plain
            } else {
                Security::Tls
            },
            auth: Auth::Password,
            user: "a@example.org".into(),
            user_from_source: false,
            oauth_provider: None,
            flags: Flags {
                plain_text: plain,
                ..Flags::default()
            },
            notes: vec![],
        }))
    }

    fn miss() -> Option<Result<Found, String>> {
        Some(Err("no".into()))
    }

    #[test]
    fn an_answer_wins_once_every_source_before_it_is_done() {
        let mut r = vec![
            miss(),
            None,
            found(Source::WellKnown, false),
            None,
            None,
            None,
            None,
        ];
        assert!(!decided(&r), "the autoconfig document may still answer");
        r[1] = miss();
        assert!(decided(&r));
    }

    #[test]
    fn plain_text_waits_for_every_source() {
        let mut r = vec![
            miss(),
            found(Source::Autoconfig, true),
            miss(),
            miss(),
            miss(),
            miss(),
            None,
        ];
        assert!(!decided(&r));
        r[6] = miss();
        assert!(decided(&r));
    }

    #[test]
    fn a_known_provider_asks_no_one() {
        let mut heard = Vec::new();
        let d = discover(
            "alice@gmail.com",
            &mut |p| heard.push(p),
            &AtomicBool::new(false),
        )
        .unwrap();
        let best = d.best().unwrap();
        assert_eq!(
            (best.source, best.host.as_str()),
            (Source::Preset, "pop.gmail.com")
        );
        assert!(best.flags.oauth_required);
        assert_eq!(best.oauth_provider.as_deref(), Some("google"));
        assert_eq!(heard.len(), 2, "{heard:?}");
    }

    #[test]
    fn a_cancelled_search_asks_no_one_beyond_the_presets() {
        let cancelled = AtomicBool::new(true);
        assert_eq!(
            discover("a@example.invalid", &mut |_| {}, &cancelled).unwrap_err(),
            DiscoverError::Cancelled
        );
    }

    #[test]
    fn a_bad_address_is_refused_before_any_lookup() {
        assert!(matches!(
            discover("not an address", &mut |_| {}, &AtomicBool::new(false)),
            Err(DiscoverError::BadAddress(_))
        ));
    }
}
