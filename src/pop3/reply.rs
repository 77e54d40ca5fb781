//! Reading replies: status lines with RFC 2449/3206 response codes, and
//! dot-terminated multi-line bodies, from bytes fed in any chunking.
//!
//! The reader never waits for a whole line before it copies body bytes, so
//! what it buffers is bounded by the limit of the reply being read, and it
//! gives the same replies whether the input comes one byte at a time or all
//! at once.

use std::fmt;

use super::command::ReplyShape;

/// What a status line starts with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Indicator {
    Ok,
    Err,
    /// `+ challenge`, only inside a SASL exchange.
    Continue,
}

/// An extended response code (RFC 2449 §8, RFC 3206), the part in `[...]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum RespCode {
    /// `[AUTH]`: the credentials were refused.
    Auth,
    /// `[SYS/TEMP]`: a temporary problem on the server; try again later.
    SysTemp,
    /// `[SYS/PERM]`: a lasting problem on the server that needs its administrator.
    SysPerm,
    /// `[IN-USE]`: another session holds the mailbox.
    InUse,
    /// `[LOGIN-DELAY]`: logged in again too soon.
    LoginDelay,
    /// Any other code, as written.
    Other(String),
}

impl RespCode {
    fn parse(code: &str) -> RespCode {
        match code.to_ascii_uppercase().as_str() {
            "AUTH" => RespCode::Auth,
            "SYS/TEMP" => RespCode::SysTemp,
            "SYS/PERM" => RespCode::SysPerm,
            "IN-USE" => RespCode::InUse,
            "LOGIN-DELAY" => RespCode::LoginDelay,
            _ => RespCode::Other(code.to_string()),
        }
    }
}

/// One whole reply.
#[derive(Clone, PartialEq, Eq)]
pub struct Reply {
    pub indicator: Indicator,
    pub code: Option<RespCode>,
    /// The text after the indicator (and code), decoded lossily.
    pub text: String,
    /// The dot-unstuffed body of a multi-line `+OK`, line endings as received,
    /// the terminating `.` line removed.
    pub body: Option<Vec<u8>>,
    /// A body longer than the limit for it, where the command tolerates that
    /// (a header block from `TOP n 0`): it was read to its end, so the next
    /// reply is found, but not kept. How many bytes it had.
    pub oversized: Option<usize>,
}

impl Reply {
    pub fn is_ok(&self) -> bool {
        self.indicator == Indicator::Ok
    }
}

impl fmt::Debug for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reply")
            .field("indicator", &self.indicator)
            .field("code", &self.code)
            .field("text", &self.text)
            .field("body_len", &self.body.as_ref().map(Vec::len))
            .field("oversized", &self.oversized)
            .finish()
    }
}

/// The server broke the protocol. Each variant says what it sent.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    #[error("the server sent a status line longer than {limit} bytes")]
    StatusLineTooLong { limit: usize },
    #[error("the server sent a reply longer than the {limit}-byte limit for it")]
    ReplyTooLarge { limit: usize },
    #[error("the server sent {line:?} where a status line (+OK or -ERR) was expected")]
    BadStatusLine { line: String },
    #[error("the server sent data nobody asked for: {excerpt:?}")]
    Unsolicited { excerpt: String },
    #[error("the server sent {0}")]
    BadListing(String),
}

/// Reads one reply of a known shape. Fed bytes; says how many it used.
#[derive(Debug)]
pub(crate) struct ReplyReader {
    shape: ReplyShape,
    status_limit: usize,
    state: ReadState,
}

#[derive(Debug)]
enum ReadState {
    /// Collecting the status line.
    Status(Vec<u8>),
    /// Inside a multi-line body.
    Body {
        head: Box<Reply>,
        body: Body,
        at: LinePos,
    },
}

/// A body being read: kept up to `limit` bytes; past that, read on and
/// dropped up to `tolerate` bytes in all; past that, an error.
#[derive(Debug)]
struct Body {
    kept: Vec<u8>,
    dropped: usize,
    limit: usize,
    tolerate: usize,
}

impl Body {
    fn push(&mut self, bytes: &[u8]) -> Result<(), ProtocolError> {
        if self.dropped > 0 || self.kept.len() + bytes.len() > self.limit {
            if self.dropped == 0 {
                self.dropped = self.kept.len();
                self.kept = Vec::new();
            }
            self.dropped += bytes.len();
            if self.dropped > self.tolerate || self.tolerate <= self.limit {
                return Err(ProtocolError::ReplyTooLarge {
                    limit: self.tolerate.max(self.limit),
                });
            }
            return Ok(());
        }
        self.kept.extend_from_slice(bytes);
        Ok(())
    }
}

/// Where in a body line the reader stands; enough to undo dot-stuffing and
/// spot the terminator across chunk boundaries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum LinePos {
    Start,
    Middle,
    /// A line began with '.'.
    Dot,
    /// A line began with ".\r".
    DotCr,
}

impl ReplyReader {
    pub(crate) fn new(shape: ReplyShape, status_limit: usize) -> Self {
        ReplyReader {
            shape,
            status_limit,
            state: ReadState::Status(Vec::new()),
        }
    }

    /// Consumes bytes from `input`; returns how many were used and the reply if
    /// it is now complete. Bytes past the end of the reply are not consumed.
    pub(crate) fn feed(&mut self, input: &[u8]) -> Result<(usize, Option<Reply>), ProtocolError> {
        let mut used = 0;
        loop {
            match &mut self.state {
                ReadState::Status(line) => {
                    let rest = &input[used..];
                    let Some(nl) = rest.iter().position(|&b| b == b'\n') else {
                        if line.len() + rest.len() > self.status_limit {
                            return Err(ProtocolError::StatusLineTooLong {
                                limit: self.status_limit,
                            });
                        }
                        line.extend_from_slice(rest);
                        return Ok((input.len(), None));
                    };
                    if line.len() + nl + 1 > self.status_limit {
                        return Err(ProtocolError::StatusLineTooLong {
                            limit: self.status_limit,
                        });
                    }
                    line.extend_from_slice(&rest[..nl]);
                    used += nl + 1;
                    let reply = parse_status(line, self.shape)?;
                    match self.shape {
                        ReplyShape::Multi { limit, tolerate } if reply.is_ok() => {
                            self.state = ReadState::Body {
                                head: Box::new(reply),
                                body: Body {
                                    kept: Vec::new(),
                                    dropped: 0,
                                    limit,
                                    tolerate,
                                },
                                at: LinePos::Start,
                            };
                        }
                        _ => return Ok((used, Some(reply))),
                    }
                }
                ReadState::Body { head, body, at } => {
                    while used < input.len() {
                        let b = input[used];
                        match *at {
                            LinePos::Start if b == b'.' => {
                                used += 1;
                                *at = LinePos::Dot;
                            }
                            LinePos::Start | LinePos::Middle => {
                                // Copy in one go up to the next line that starts
                                // with a dot (stuffed, or the end): most bodies
                                // have none, so this is one copy per read.
                                let rest = &input[used..];
                                let n = memchr::memmem::find(rest, b"\n.")
                                    .map_or(rest.len(), |p| p + 1);
                                body.push(&rest[..n])?;
                                used += n;
                                *at = if rest[n - 1] == b'\n' {
                                    LinePos::Start
                                } else {
                                    LinePos::Middle
                                };
                            }
                            LinePos::Dot => {
                                used += 1;
                                match b {
                                    b'\r' => *at = LinePos::DotCr,
                                    // ".\n": a terminator with a bare LF.
                                    b'\n' => return Ok((used, Some(finish(head, body)))),
                                    // A stuffed dot: the first '.' is dropped.
                                    _ => {
                                        body.push(&[b])?;
                                        *at = LinePos::Middle;
                                    }
                                }
                            }
                            LinePos::DotCr => {
                                if b == b'\n' {
                                    used += 1;
                                    return Ok((used, Some(finish(head, body))));
                                }
                                // ".\r" then more: not a terminator; keep the CR as data.
                                body.push(b"\r")?;
                                *at = LinePos::Middle;
                            }
                        }
                    }
                    return Ok((used, None));
                }
            }
        }
    }
}

fn finish(head: &mut Reply, body: &mut Body) -> Reply {
    let mut reply = std::mem::replace(
        head,
        Reply {
            indicator: Indicator::Ok,
            code: None,
            text: String::new(),
            body: None,
            oversized: None,
        },
    );
    if body.dropped > 0 {
        reply.oversized = Some(body.dropped);
    } else {
        reply.body = Some(std::mem::take(&mut body.kept));
    }
    reply
}

fn parse_status(raw: &[u8], shape: ReplyShape) -> Result<Reply, ProtocolError> {
    let line = raw.strip_suffix(b"\r").unwrap_or(raw);
    let (indicator, rest) = if let Some(rest) = strip_prefix_ci(line, b"+OK") {
        (Indicator::Ok, rest)
    } else if let Some(rest) = strip_prefix_ci(line, b"-ERR") {
        (Indicator::Err, rest)
    } else if shape == ReplyShape::Sasl && (line == b"+" || line.starts_with(b"+ ")) {
        (Indicator::Continue, line.get(2..).unwrap_or_default())
    } else {
        return Err(ProtocolError::BadStatusLine {
            line: excerpt(line),
        });
    };
    // The indicator must end there: "+OKAY" is not "+OK".
    if indicator != Indicator::Continue && !rest.is_empty() && rest[0] != b' ' && rest[0] != b'\t' {
        return Err(ProtocolError::BadStatusLine {
            line: excerpt(line),
        });
    }
    if indicator == Indicator::Continue {
        // A SASL challenge is base64 to decode, never shown: as it came (a
        // long one cut short, as shown text is, would no longer decode).
        return Ok(Reply {
            indicator,
            code: None,
            text: String::from_utf8_lossy(rest).trim().to_string(),
            body: None,
            oversized: None,
        });
    }
    // What a server says ends up on a terminal and in the window: control,
    // direction and invisible characters are written out here, once.
    let text = crate::reveal::field(String::from_utf8_lossy(rest).trim()).into_owned();
    let (code, text) = match text.strip_prefix('[').and_then(|t| t.split_once(']')) {
        Some((code, rest)) if !code.is_empty() && !code.contains(' ') => {
            (Some(RespCode::parse(code)), rest.trim().to_string())
        }
        _ => (None, text),
    };
    Ok(Reply {
        indicator,
        code,
        text,
        body: None,
        oversized: None,
    })
}

fn strip_prefix_ci<'a>(line: &'a [u8], prefix: &[u8]) -> Option<&'a [u8]> {
    (line.len() >= prefix.len() && line[..prefix.len()].eq_ignore_ascii_case(prefix))
        .then(|| &line[prefix.len()..])
}

/// The first bytes of something a server sent, printable, for an error message.
pub(crate) fn excerpt(bytes: &[u8]) -> String {
    let cut = &bytes[..bytes.len().min(80)];
    let mut s: String = String::from_utf8_lossy(cut)
        .chars()
        .map(|c| {
            if crate::reveal::hides(c) {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect();
    if bytes.len() > 80 {
        s.push('…');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_one(shape: ReplyShape, input: &[u8]) -> Result<(usize, Option<Reply>), ProtocolError> {
        ReplyReader::new(shape, 512).feed(input)
    }

    #[test]
    fn status_line_with_response_code() {
        let (used, reply) =
            read_one(ReplyShape::Single, b"-ERR [IN-USE] mailbox locked\r\nX").unwrap();
        let reply = reply.unwrap();
        assert_eq!(used, 30);
        assert_eq!(reply.indicator, Indicator::Err);
        assert_eq!(reply.code, Some(RespCode::InUse));
        assert_eq!(reply.text, "mailbox locked");
    }

    #[test]
    fn codes_are_recognised_in_any_case_and_unknown_ones_kept() {
        let r = read_one(ReplyShape::Single, b"-ERR [sys/temp] later\r\n")
            .unwrap()
            .1
            .unwrap();
        assert_eq!(r.code, Some(RespCode::SysTemp));
        let r = read_one(ReplyShape::Single, b"-ERR [FOO/BAR] x\r\n")
            .unwrap()
            .1
            .unwrap();
        assert_eq!(r.code, Some(RespCode::Other("FOO/BAR".into())));
        let r = read_one(ReplyShape::Single, b"+OK [not a code here\r\n")
            .unwrap()
            .1
            .unwrap();
        assert_eq!(r.code, None);
    }

    #[test]
    fn bare_indicator_and_bare_lf_are_accepted() {
        let r = read_one(ReplyShape::Single, b"+OK\n").unwrap().1.unwrap();
        assert!(r.is_ok());
        assert_eq!(r.text, "");
    }

    #[test]
    fn garbage_status_is_an_error_that_shows_it() {
        let err = read_one(ReplyShape::Single, b"HTTP/1.1 400 Bad Request\r\n").unwrap_err();
        assert!(err.to_string().contains("HTTP/1.1 400"), "{err}");
        assert!(read_one(ReplyShape::Single, b"+OKAY\r\n").is_err());
    }

    #[test]
    fn continuation_only_inside_sasl() {
        let r = read_one(ReplyShape::Sasl, b"+ PDEyMzQ+\r\n")
            .unwrap()
            .1
            .unwrap();
        assert_eq!(r.indicator, Indicator::Continue);
        assert_eq!(r.text, "PDEyMzQ+");
        assert!(read_one(ReplyShape::Single, b"+ PDEyMzQ+\r\n").is_err());
    }

    #[test]
    fn multi_line_body_is_unstuffed_and_keeps_line_endings() {
        let input = b"+OK 3 octets\r\nline one\r\n..dotted\r\n.\r\nbare lf\n\r\n.\r\nNEXT";
        let (used, reply) = read_one(
            ReplyShape::Multi {
                limit: 1000,
                tolerate: 1000,
            },
            input,
        )
        .unwrap();
        let reply = reply.unwrap();
        assert_eq!(reply.body.unwrap(), b"line one\r\n.dotted\r\n");
        // The first ".\r\n" ended it; the rest belongs to the next reply.
        assert_eq!(&input[used..], b"bare lf\n\r\n.\r\nNEXT");
    }

    #[test]
    fn multi_line_terminated_by_bare_lf() {
        let (_, reply) = read_one(
            ReplyShape::Multi {
                limit: 1000,
                tolerate: 1000,
            },
            b"+OK\nA\n..B\n.\n",
        )
        .unwrap();
        assert_eq!(reply.unwrap().body.unwrap(), b"A\n.B\n");
    }

    #[test]
    fn dot_cr_not_followed_by_lf_is_data() {
        let (_, reply) = read_one(
            ReplyShape::Multi {
                limit: 1000,
                tolerate: 1000,
            },
            b"+OK\r\n.\rX\r\n.\r\n",
        )
        .unwrap();
        assert_eq!(reply.unwrap().body.unwrap(), b"\rX\r\n");
    }

    #[test]
    fn err_to_a_multi_line_command_has_no_body() {
        let (used, reply) = read_one(
            ReplyShape::Multi {
                limit: 10,
                tolerate: 10,
            },
            b"-ERR no such message\r\nrest",
        )
        .unwrap();
        assert_eq!(used, 22);
        assert_eq!(reply.unwrap().body, None);
    }

    #[test]
    fn limits_are_enforced() {
        let long = vec![b'A'; 600];
        assert_eq!(
            read_one(ReplyShape::Single, &long).unwrap_err(),
            ProtocolError::StatusLineTooLong { limit: 512 }
        );
        let mut body = b"+OK\r\n".to_vec();
        body.extend(std::iter::repeat_n(b'x', 11));
        assert_eq!(
            read_one(
                ReplyShape::Multi {
                    limit: 10,
                    tolerate: 10
                },
                &body
            )
            .unwrap_err(),
            ProtocolError::ReplyTooLarge { limit: 10 }
        );
    }

    #[test]
    fn a_body_over_its_limit_is_read_past_when_tolerated_and_the_next_reply_found() {
        let mut wire = b"+OK\r\n".to_vec();
        wire.extend(b"X-Long: header line\r\n".repeat(100));
        wire.extend(b".\r\n+OK next\r\n");
        let shape = ReplyShape::Multi {
            limit: 50,
            tolerate: 10_000,
        };
        for chunk in [1, 2, 7, 64, 4096] {
            let mut reader = ReplyReader::new(shape, 512);
            let mut at = 0;
            let reply = loop {
                let end = (at + chunk).min(wire.len());
                let (used, reply) = reader.feed(&wire[at..end]).unwrap();
                at += used;
                if let Some(r) = reply {
                    break r;
                }
            };
            assert!(reply.is_ok());
            assert_eq!(reply.body, None, "chunk {chunk}: not kept");
            assert_eq!(reply.oversized, Some(2100), "chunk {chunk}");
            assert_eq!(
                &wire[at..],
                b"+OK next\r\n",
                "chunk {chunk}: the next reply is intact"
            );
        }
        let tight = ReplyShape::Multi {
            limit: 50,
            tolerate: 100,
        };
        assert_eq!(
            ReplyReader::new(tight, 512).feed(&wire).unwrap_err(),
            ProtocolError::ReplyTooLarge { limit: 100 },
            "past what is tolerated, the session cannot go on"
        );
    }
}
