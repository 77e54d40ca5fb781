//! The server doctor: a read-only examination of a POP3 server, check by
//! check. Never a DELE; at most one RETR, of one small message.
//!
//! Each check is judged by a pure function of what the server said (its
//! replies, bytes and timings) in the files here, one per group:
//! `transport` (TLS, certificate, latency, throughput), `protocol` (CAPA,
//! the login, LOGIN-DELAY, EXPIRE, pipelining), `listing` (UIDL, LIST) and
//! `message` (TOP, dot-stuffing, line endings). `driver` talks to the
//! server through the same engine a fetch uses (`net::Session`).

mod driver;
pub mod listing;
pub mod message;
pub mod protocol;
pub mod transport;

use serde::Serialize;
use serde_json::Value;

pub use driver::examine;

/// How a check came out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// As it should be.
    Ok,
    /// Odd, or costly, and Pipit copes; other clients may not.
    Warn,
    /// The server breaks POP3 (or the connection is unsafe) in a way that
    /// loses, doubles or exposes mail, or stops a fetch.
    Fail,
    /// Could not be checked (nothing to check it on, or the session ended).
    Skip,
}

impl Status {
    /// The mark shown before a check in the human report.
    pub fn mark(self) -> &'static str {
        match self {
            Status::Ok => "ok",
            Status::Warn => "WARN",
            Status::Fail => "FAIL",
            Status::Skip => "skip",
        }
    }
}

/// One check's outcome: its finding in a line, and what Pipit does about it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Check {
    pub id: &'static str,
    pub status: Status,
    /// The finding, one line.
    pub detail: String,
    /// What Pipit does about it.
    pub pipit: String,
    /// What was measured or seen, for scripts (TLS version, days left, …).
    #[serde(flatten)]
    pub facts: serde_json::Map<String, Value>,
}

impl Check {
    pub fn new(
        id: &'static str,
        status: Status,
        detail: impl Into<String>,
        pipit: impl Into<String>,
    ) -> Check {
        Check {
            id,
            status,
            detail: detail.into(),
            pipit: pipit.into(),
            facts: serde_json::Map::new(),
        }
    }

    pub fn ok(id: &'static str, detail: impl Into<String>, pipit: impl Into<String>) -> Check {
        Check::new(id, Status::Ok, detail, pipit)
    }

    pub fn warn(id: &'static str, detail: impl Into<String>, pipit: impl Into<String>) -> Check {
        Check::new(id, Status::Warn, detail, pipit)
    }

    pub fn fail(id: &'static str, detail: impl Into<String>, pipit: impl Into<String>) -> Check {
        Check::new(id, Status::Fail, detail, pipit)
    }

    /// Not checked, and why.
    pub fn skip(id: &'static str, why: impl Into<String>) -> Check {
        Check::new(id, Status::Skip, why, "")
    }

    /// Adds a fact for scripts.
    pub fn with(mut self, key: &str, value: impl Serialize) -> Check {
        let value = serde_json::to_value(value).unwrap_or(Value::Null);
        self.facts.insert(key.to_string(), value);
        self
    }
}

/// Every check, in the order they are reported.
pub const CHECKS: [&str; 16] = [
    "tls",
    "certificate",
    "capa",
    "auth",
    "uidl",
    "uidl-unique",
    "uidl-stable",
    "top",
    "list-size",
    "dot-stuffing",
    "pipelining",
    "line-endings",
    "login-delay",
    "expire",
    "latency",
    "throughput",
];

/// The server examined.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Server {
    pub host: String,
    pub port: u16,
    pub security: String,
    pub user: String,
    /// The greeting's text, written out safely.
    pub greeting: Option<String>,
    /// Its IMPLEMENTATION capability.
    pub implementation: Option<String>,
    /// STAT: messages and octets in the mailbox.
    pub messages: Option<u64>,
    pub octets: Option<u64>,
}

/// The whole examination.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Report {
    pub server: Server,
    pub checks: Vec<Check>,
}

impl Report {
    /// Whether any check failed.
    pub fn failed(&self) -> bool {
        self.checks.iter().any(|c| c.status == Status::Fail)
    }

    pub fn check(&self, id: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.id == id)
    }

    fn count(&self, status: Status) -> usize {
        self.checks.iter().filter(|c| c.status == status).count()
    }

    /// One line: how many checks came out how.
    pub fn summary(&self) -> String {
        let (fail, warn, ok, skip) = (
            self.count(Status::Fail),
            self.count(Status::Warn),
            self.count(Status::Ok),
            self.count(Status::Skip),
        );
        let verdict = if fail > 0 {
            "problems found"
        } else if warn > 0 {
            "usable, with warnings"
        } else {
            "healthy"
        };
        let mut parts = vec![
            format!("{ok} ok"),
            format!("{warn} warn"),
            format!("{fail} fail"),
        ];
        if skip > 0 {
            parts.push(format!("{skip} not checked"));
        }
        format!(
            "{}:{} {verdict}: {}",
            self.server.host,
            self.server.port,
            parts.join(", ")
        )
    }

    /// The report for people: a heading, one aligned line per check (its
    /// mark, its id, its finding; what Pipit does below it), and a summary.
    pub fn human(&self) -> String {
        let s = &self.server;
        let mut out = format!(
            "Pipit doctor: {}@{}:{} ({})\n",
            s.user, s.host, s.port, s.security
        );
        if let Some(i) = &s.implementation {
            out.push_str(&format!("  server: {i}\n"));
        }
        if let (Some(n), Some(octets)) = (s.messages, s.octets) {
            out.push_str(&format!(
                "  mailbox: {n} messages, {}\n",
                crate::units::human_bytes(octets)
            ));
        }
        out.push('\n');
        let width = self.checks.iter().map(|c| c.id.len()).max().unwrap_or(0);
        for c in &self.checks {
            out.push_str(&format!(
                "{:<4}  {:<width$}  {}\n",
                c.status.mark(),
                c.id,
                shown(&c.detail)
            ));
            if !c.pipit.is_empty() && c.status != Status::Ok {
                out.push_str(&format!(
                    "{:<4}  {:<width$}  → {}\n",
                    "",
                    "",
                    shown(&c.pipit)
                ));
            }
        }
        out.push('\n');
        out.push_str(&self.summary());
        out
    }
}

/// A finding as shown to people (the human report, the window): one line,
/// whatever the server's words in it, with control, direction and
/// invisible characters written out as `[U+XXXX]`, as a header field is.
/// The JSON keeps the words exactly.
pub fn shown(text: &str) -> std::borrow::Cow<'_, str> {
    crate::reveal::field(text)
}

/// Names joined by spaces, or "none".
pub(crate) fn list(names: &[String]) -> String {
    if names.is_empty() {
        "none".into()
    } else {
        names.join(" ")
    }
}

/// The lines of a body, their line ends (CRLF or bare LF) taken off.
pub(crate) fn lines_of(bytes: &[u8]) -> Vec<&[u8]> {
    bytes
        .split_inclusive(|&b| b == b'\n')
        .map(|l| {
            let l = l.strip_suffix(b"\n").unwrap_or(l);
            l.strip_suffix(b"\r").unwrap_or(l)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_human_report_aligns_its_checks_and_ends_with_a_summary() {
        let report = Report {
            server: Server {
                host: "pop.example.org".into(),
                port: 995,
                security: "tls".into(),
                user: "alice".into(),
                ..Server::default()
            },
            checks: vec![
                Check::ok("tls", "TLSv1.3", "nothing to do"),
                Check::fail("uidl-unique", "duplicate UIDs", "Pipit tells them apart")
                    .with("duplicates", 2),
                Check::skip("dot-stuffing", "no message with a leading dot"),
            ],
        };
        let text = report.human();
        assert!(text.contains("\nok    tls           TLSv1.3\n"), "{text}");
        assert!(
            text.contains("\nFAIL  uidl-unique   duplicate UIDs\n"),
            "{text}"
        );
        let arrow = format!("\n{}→ Pipit tells them apart\n", " ".repeat(20));
        assert!(text.contains(&arrow), "{text}");
        assert!(
            !text.contains("nothing to do"),
            "an ok check needs no action: {text}"
        );
        assert!(
            text.ends_with(
                "pop.example.org:995 problems found: 1 ok, 0 warn, 1 fail, 1 not checked"
            )
        );
        assert!(report.failed());
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["checks"][1]["status"], "fail");
        assert_eq!(json["checks"][1]["duplicates"], 2);
        assert_eq!(json["checks"][2]["status"], "skip");
    }

    #[test]
    fn server_text_in_the_human_report_cannot_turn_or_forge_its_lines() {
        // An -ERR text (or a refusal) quoted in a finding: a right-to-left
        // override, a zero-width space, an escape, a line break.
        let said = "no\u{202E}txt.exe\u{200B} \u{1b}[2J\nok    tls  forged";
        let report = Report {
            server: Server {
                host: "pop.example.org".into(),
                port: 110,
                security: "plain".into(),
                user: "alice".into(),
                ..Server::default()
            },
            checks: vec![Check::fail(
                "list-size",
                format!("RETR 1 answered -ERR: {said}"),
                format!("the server said {said}"),
            )],
        };
        let text = report.human();
        for hidden in ['\u{202E}', '\u{200B}', '\u{1b}'] {
            assert!(!text.contains(hidden), "{hidden:?} in {text}");
        }
        assert!(text.contains("no[U+202E]txt.exe[U+200B]"), "{text}");
        assert!(!text.contains("\nok    tls"), "a forged line: {text}");
        assert_eq!(text.lines().count(), 6, "{text}");
        // The JSON keeps what the server said, exactly.
        let json = serde_json::to_value(&report).unwrap();
        assert!(
            json["checks"][0]["detail"]
                .as_str()
                .unwrap()
                .ends_with(said)
        );
    }
}
