//! POP3 commands (RFC 1939, 2449, 2595, 5034) and how each is written on the wire.

use std::fmt;

/// One command a client sends. Arguments that carry secrets are never shown by
/// `Debug` or [`Command::redacted`].
#[derive(Clone, PartialEq, Eq)]
pub enum Command {
    Capa,
    Stls,
    User(String),
    Pass(String),
    /// `APOP name digest` (RFC 1939 §7): the digest is an MD5 of timestamp + password.
    Apop {
        user: String,
        digest: String,
    },
    /// `AUTH mechanism [initial-response]` (RFC 5034).
    Auth {
        mechanism: String,
        initial_response: Option<String>,
    },
    /// One line of a SASL exchange after a `+ challenge` continuation.
    AuthResponse(String),
    Stat,
    List(Option<u32>),
    Uidl(Option<u32>),
    Top {
        message: u32,
        lines: u32,
    },
    Retr(u32),
    Dele(u32),
    Rset,
    Noop,
    Quit,
}

/// An argument that would break out of its command line: a CR or LF would
/// start another command on the wire, a NUL would cut a SASL message short.
/// Such a command is refused before anything is sent; nothing is stripped.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error(
    "the {what} contains {character}, which POP3 cannot carry (it would end the command, or a part of it, early); \
nothing was sent. Correct the {what}"
)]
pub struct UnsafeArgument {
    /// Which argument: "user name", "password", …
    pub what: &'static str,
    /// The character, named: "a line break (LF)", …
    pub character: &'static str,
}

/// Refuses a value with CR, LF or NUL in it, naming `what` it is.
pub fn check_argument(what: &'static str, value: &str) -> Result<(), UnsafeArgument> {
    let character = if value.contains('\n') {
        "a line break (LF)"
    } else if value.contains('\r') {
        "a carriage return (CR)"
    } else if value.contains('\0') {
        "a NUL character"
    } else {
        return Ok(());
    };
    Err(UnsafeArgument { what, character })
}

/// As [`check_argument`], and refuses U+0001 too: it separates the fields of
/// an XOAUTH2 or OAUTHBEARER message, so one in a user name or an access
/// token would start a field of its own.
pub fn check_sasl_field(what: &'static str, value: &str) -> Result<(), UnsafeArgument> {
    check_argument(what, value)?;
    if value.contains('\u{1}') {
        return Err(UnsafeArgument {
            what,
            character: "a U+0001 control character (the separator of SASL fields)",
        });
    }
    Ok(())
}

/// What shape of reply a command expects.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplyShape {
    /// A status line only.
    Single,
    /// A status line; on `+OK` a dot-terminated body follows, of at most
    /// `limit` bytes kept. One longer is read to its end and dropped (the
    /// reply says so) up to `tolerate` bytes; past that it is an error.
    Multi { limit: usize, tolerate: usize },
    /// A status line or a SASL continuation (`+ challenge`).
    Sasl,
}

/// The size limits the reader enforces: what a server may make us buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// One status line, CRLF included. RFC 2449 says 512; real servers write longer greetings.
    pub status_line: usize,
    /// A header block (`TOP n 0`).
    pub header_block: usize,
    /// A whole message (`RETR`) or a preview (`TOP n lines`).
    pub message: usize,
    /// A listing (`LIST`, `UIDL`, `CAPA`).
    pub listing: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            status_line: 4 * 1024,
            header_block: 1024 * 1024,
            message: 64 * 1024 * 1024,
            listing: 32 * 1024 * 1024,
        }
    }
}

impl Command {
    /// Refuses a command whose arguments would not stay on its own line.
    pub fn check(&self) -> Result<(), UnsafeArgument> {
        match self {
            Command::User(user) => check_argument("user name", user),
            Command::Pass(password) => check_argument("password", password),
            Command::Apop { user, digest } => {
                check_argument("user name", user)?;
                check_argument("APOP digest", digest)
            }
            Command::Auth {
                mechanism,
                initial_response,
            } => {
                check_argument("SASL mechanism", mechanism)?;
                check_argument("SASL response", initial_response.as_deref().unwrap_or(""))
            }
            Command::AuthResponse(response) => check_argument("SASL response", response),
            _ => Ok(()),
        }
    }

    /// The bytes on the wire, CRLF included; nothing for a command whose
    /// arguments [`Command::check`] refuses.
    pub fn encode(&self, out: &mut Vec<u8>) -> Result<(), UnsafeArgument> {
        self.check()?;
        self.write(out);
        Ok(())
    }

    fn write(&self, out: &mut Vec<u8>) {
        let line = match self {
            Command::Capa => "CAPA".to_string(),
            Command::Stls => "STLS".to_string(),
            Command::User(u) => format!("USER {u}"),
            Command::Pass(p) => format!("PASS {p}"),
            Command::Apop { user, digest } => format!("APOP {user} {digest}"),
            Command::Auth {
                mechanism,
                initial_response: None,
            } => format!("AUTH {mechanism}"),
            Command::Auth {
                mechanism,
                initial_response: Some(ir),
            } => {
                // RFC 5034 §4: an empty initial response is sent as "=".
                let ir = if ir.is_empty() { "=" } else { ir.as_str() };
                format!("AUTH {mechanism} {ir}")
            }
            Command::AuthResponse(r) => r.clone(),
            Command::Stat => "STAT".to_string(),
            Command::List(None) => "LIST".to_string(),
            Command::List(Some(n)) => format!("LIST {n}"),
            Command::Uidl(None) => "UIDL".to_string(),
            Command::Uidl(Some(n)) => format!("UIDL {n}"),
            Command::Top { message, lines } => format!("TOP {message} {lines}"),
            Command::Retr(n) => format!("RETR {n}"),
            Command::Dele(n) => format!("DELE {n}"),
            Command::Rset => "RSET".to_string(),
            Command::Noop => "NOOP".to_string(),
            Command::Quit => "QUIT".to_string(),
        };
        out.extend_from_slice(line.as_bytes());
        out.extend_from_slice(b"\r\n");
    }

    /// The reply shape this command expects, with the byte limit that applies.
    pub fn reply_shape(&self, limits: &Limits) -> ReplyShape {
        match self {
            Command::Capa | Command::List(None) | Command::Uidl(None) => ReplyShape::Multi {
                limit: limits.listing,
                tolerate: limits.listing,
            },
            // A header block over its bound is that message's problem, not
            // the session's: read past (up to a message's bound), not kept.
            Command::Top { lines: 0, .. } => ReplyShape::Multi {
                limit: limits.header_block,
                tolerate: limits.message,
            },
            Command::Top { .. } | Command::Retr(_) => ReplyShape::Multi {
                limit: limits.message,
                tolerate: limits.message,
            },
            Command::Auth { .. } | Command::AuthResponse(_) => ReplyShape::Sasl,
            _ => ReplyShape::Single,
        }
    }

    /// The command as it may appear in a log or an error: secrets replaced by `***`.
    pub fn redacted(&self) -> String {
        match self {
            Command::Pass(_) => "PASS ***".to_string(),
            Command::Apop { user, .. } => format!("APOP {user} ***"),
            Command::Auth {
                mechanism,
                initial_response: Some(_),
            } => format!("AUTH {mechanism} ***"),
            Command::AuthResponse(_) => "***".to_string(),
            other => {
                let mut out = Vec::new();
                other.write(&mut out);
                String::from_utf8_lossy(&out).trim_end().to_string()
            }
        }
    }

    /// Commands that may be sent in a pipelined burst (RFC 2449 PIPELINING):
    /// those that change no session state a later command depends on.
    pub fn pipelinable(&self) -> bool {
        matches!(
            self,
            Command::List(_)
                | Command::Uidl(_)
                | Command::Top { .. }
                | Command::Retr(_)
                | Command::Dele(_)
                | Command::Stat
                | Command::Noop
        )
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(c: &Command) -> String {
        let mut out = Vec::new();
        c.encode(&mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn an_argument_that_would_start_another_command_is_refused_unsent() {
        let cases = [
            (
                Command::User("alice\r\nDELE 1".into()),
                "user name",
                "line break",
            ),
            (
                Command::Pass("pw\rQUIT".into()),
                "password",
                "carriage return",
            ),
            (Command::Pass("pw\0x".into()), "password", "NUL"),
            (
                Command::Apop {
                    user: "a\nb".into(),
                    digest: "0".into(),
                },
                "user name",
                "line break",
            ),
            (
                Command::AuthResponse("x\ny".into()),
                "SASL response",
                "line break",
            ),
        ];
        for (command, what, character) in cases {
            let mut out = Vec::new();
            let err = command.encode(&mut out).unwrap_err();
            assert!(out.is_empty(), "nothing written for {command:?}");
            assert_eq!(err.what, what);
            assert!(err.character.contains(character), "{err}");
            let text = err.to_string();
            assert!(text.contains("nothing was sent"), "{text}");
            assert!(
                !text.contains("DELE") && !text.contains("QUIT"),
                "the value is not shown: {text}"
            );
        }
        assert_eq!(
            wire(&Command::Pass("pässwörd with spaces".into())),
            "PASS pässwörd with spaces\r\n"
        );
    }

    #[test]
    fn commands_are_written_with_crlf() {
        assert_eq!(wire(&Command::Retr(7)), "RETR 7\r\n");
        assert_eq!(
            wire(&Command::Top {
                message: 3,
                lines: 0
            }),
            "TOP 3 0\r\n"
        );
        assert_eq!(wire(&Command::List(None)), "LIST\r\n");
        assert_eq!(wire(&Command::Uidl(Some(2))), "UIDL 2\r\n");
        assert_eq!(
            wire(&Command::Auth {
                mechanism: "PLAIN".into(),
                initial_response: Some(String::new())
            }),
            "AUTH PLAIN =\r\n"
        );
    }

    #[test]
    fn secrets_never_show_in_debug_or_redacted() {
        let pass = Command::Pass("hunter2".into());
        assert!(!format!("{pass:?}").contains("hunter2"));
        let auth = Command::Auth {
            mechanism: "PLAIN".into(),
            initial_response: Some("AGFsaWNlAGh1bnRlcjI=".into()),
        };
        assert!(!auth.redacted().contains("AGFs"));
        assert!(!format!("{:?}", Command::AuthResponse("secret".into())).contains("secret"));
    }

    #[test]
    fn listing_commands_expect_a_body_and_single_ones_do_not() {
        let l = Limits::default();
        assert_eq!(
            Command::List(None).reply_shape(&l),
            ReplyShape::Multi {
                limit: l.listing,
                tolerate: l.listing
            }
        );
        assert_eq!(Command::List(Some(1)).reply_shape(&l), ReplyShape::Single);
        assert_eq!(
            Command::Top {
                message: 1,
                lines: 0
            }
            .reply_shape(&l),
            ReplyShape::Multi {
                limit: l.header_block,
                tolerate: l.message
            }
        );
        assert_eq!(Command::Dele(1).reply_shape(&l), ReplyShape::Single);
    }
}
