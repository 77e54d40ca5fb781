//! The last resort: guessing `pop.<domain>`, `pop3.<domain>` and
//! `mail.<domain>`, on 995 (TLS) and 110 (STLS), side by side. Each guess
//! reads the greeting and the capabilities and logs in to nothing (see
//! [`crate::net::Session::probe`]): no user name or password is sent.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::net::{Endpoint, Fingerprint, NetError, Security, Session, Trust};
use crate::pop3::Limits;

/// The names guessed, most likely first.
pub const PREFIXES: [&str; 3] = ["pop", "pop3", "mail"];

/// One server that answered like a POP3 server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Answered {
    pub host: String,
    pub port: u16,
    pub security: Security,
    /// Its certificate did not verify (self-signed, another name…): its
    /// fingerprint, for the user to decide on.
    pub untrusted: Option<Fingerprint>,
    /// What the server calls itself, if it says (CAPA IMPLEMENTATION).
    pub implementation: Option<String>,
}

impl Answered {
    /// Lower is better: trusted encryption, then an untrusted certificate,
    /// then plain text; TLS before STLS; then the order guessed.
    fn rank(&self, guess: usize) -> (u8, u8, usize) {
        let safety = match (self.security, &self.untrusted) {
            (Security::Plain, _) => 2,
            (_, Some(_)) => 1,
            (_, None) => 0,
        };
        let tls = u8::from(self.security != Security::Tls);
        (safety, tls, guess)
    }
}

/// The best of the guesses, in [`Answered::rank`]'s order; `Err` says what
/// each said.
pub fn probe(domain: &str, timeout: Duration, stop: &AtomicBool) -> Result<Answered, String> {
    let guesses: Vec<(String, u16, Security)> = PREFIXES
        .iter()
        .flat_map(|p| {
            [
                (format!("{p}.{domain}"), 995, Security::Tls),
                (format!("{p}.{domain}"), 110, Security::Starttls),
            ]
        })
        .collect();
    let results: Vec<Result<Answered, String>> = std::thread::scope(|s| {
        let handles: Vec<_> = guesses
            .iter()
            .map(|(host, port, security)| {
                s.spawn(move || {
                    if stop.load(Ordering::Relaxed) {
                        return Err("stopped".to_string());
                    }
                    one(host, *port, *security, timeout, stop)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_else(|_| Err("the probe failed".into())))
            .collect()
    });
    let best = results
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.as_ref().ok().map(|a| (a.rank(i), a)))
        .min_by_key(|(rank, _)| *rank)
        .map(|(_, a)| a.clone());
    best.ok_or_else(|| {
        let hosts: Vec<String> = PREFIXES.iter().map(|p| format!("{p}.{domain}")).collect();
        let first_error = results
            .iter()
            .find_map(|r| r.as_ref().err())
            .cloned()
            .unwrap_or_default();
        format!(
            "no POP3 server answered on {} (ports 995 and 110); {}: {first_error}",
            hosts.join(", "),
            guesses[0].0
        )
    })
}

fn endpoint(
    host: &str,
    port: u16,
    security: Security,
    trust: Trust,
    timeout: Duration,
) -> Endpoint {
    Endpoint {
        host: host.to_string(),
        port,
        security,
        trust,
        timeout,
        limits: Limits::default(),
    }
}

/// One guess: STLS on 110 (a server without it is found, as plain text);
/// a certificate that does not verify is looked past with its fingerprint
/// pinned, to see whether a POP3 server is behind it.
fn one(
    host: &str,
    port: u16,
    security: Security,
    timeout: Duration,
    stop: &AtomicBool,
) -> Result<Answered, String> {
    let answered = |security, untrusted, probed: crate::net::Probed| Answered {
        host: host.to_string(),
        port,
        security,
        untrusted,
        implementation: probed.capabilities.and_then(|c| c.implementation),
    };
    match Session::probe(&endpoint(host, port, security, Trust::WebRoots, timeout)) {
        Ok(p) => Ok(answered(security, None, p)),
        Err(NetError::StlsUnavailable | NetError::StlsRefused(_)) => {
            // It spoke POP3 (greeting, CAPA) but will not encrypt.
            Ok(Answered {
                host: host.to_string(),
                port,
                security: Security::Plain,
                untrusted: None,
                implementation: None,
            })
        }
        Err(NetError::Certificate(c)) => {
            let Some(seen) = c.seen.clone() else {
                return Err(format!("{host}:{port}: {}", c.reason));
            };
            if stop.load(Ordering::Relaxed) {
                return Err("stopped".into());
            }
            let pinned = Trust::Fingerprint(seen.clone());
            Session::probe(&endpoint(host, port, security, pinned, timeout))
                .map(|p| answered(security, Some(seen), p))
                .map_err(|e| format!("{host}:{port}: {e}"))
        }
        Err(e) => Err(format!("{host}:{port}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(security: Security, untrusted: bool) -> Answered {
        Answered {
            host: "pop.example.org".into(),
            port: 995,
            security,
            untrusted: untrusted.then(|| Fingerprint::of(b"x")),
            implementation: None,
        }
    }

    #[test]
    fn trusted_encryption_beats_an_unknown_certificate_which_beats_plain_text() {
        let mut ranked = [
            a(Security::Plain, false).rank(0),
            a(Security::Tls, true).rank(1),
            a(Security::Starttls, false).rank(5),
            a(Security::Tls, false).rank(4),
        ];
        ranked.sort();
        assert_eq!(ranked[0], (0, 0, 4));
        assert_eq!(ranked[1], (0, 1, 5));
        assert_eq!(ranked[2], (1, 0, 1));
        assert_eq!(ranked[3], (2, 1, 0));
    }
}
