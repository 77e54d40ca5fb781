//! The server's side of POP3, without IO, for the servers Pipit itself runs
//! (the demo's, and the tests' scripted one): a command line read into what
//! it asks, and a maildrop's answers in the TRANSACTION state (RFC 1939 §5),
//! deletions taking effect only at QUIT.

use super::stuffing::dot_stuff;

/// What a client's command line asks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request<'a> {
    Capa,
    Stls,
    User(&'a str),
    /// The password: the rest of the line, spaces and all.
    Pass(&'a str),
    Apop {
        user: &'a str,
        digest: &'a str,
    },
    Auth {
        mechanism: &'a str,
        initial_response: Option<&'a str>,
    },
    Stat,
    /// `LIST` (every message) or `LIST n`.
    List(Option<u32>),
    Uidl(Option<u32>),
    Top {
        message: u32,
        lines: usize,
    },
    Retr(u32),
    Dele(u32),
    Rset,
    Noop,
    Quit,
    /// A known command with arguments it cannot take.
    BadArguments(&'a str),
    Unknown(&'a str),
}

impl<'a> Request<'a> {
    /// Reads one command line (its CRLF or LF already gone, or not).
    pub fn parse(line: &'a str) -> Request<'a> {
        let line = line.trim_end_matches(['\r', '\n']);
        let (verb, rest) = line.split_once(' ').unwrap_or((line, ""));
        let args: Vec<&str> = rest.split_whitespace().collect();
        let number = |i: usize| args.get(i).and_then(|a| a.parse::<u32>().ok());
        let upper = verb.to_ascii_uppercase();
        let bad = Request::BadArguments(verb);
        match upper.as_str() {
            "CAPA" => Request::Capa,
            "STLS" => Request::Stls,
            "USER" => args.first().map_or(bad, |u| Request::User(u)),
            "PASS" => Request::Pass(rest),
            "APOP" => match (args.first(), args.get(1)) {
                (Some(user), Some(digest)) => Request::Apop { user, digest },
                _ => bad,
            },
            "AUTH" => args.first().map_or(bad, |m| Request::Auth {
                mechanism: m,
                initial_response: args.get(1).copied(),
            }),
            "STAT" => Request::Stat,
            "LIST" if args.is_empty() => Request::List(None),
            "LIST" => number(0).map_or(bad, |n| Request::List(Some(n))),
            "UIDL" if args.is_empty() => Request::Uidl(None),
            "UIDL" => number(0).map_or(bad, |n| Request::Uidl(Some(n))),
            "TOP" => match (number(0), args.get(1).and_then(|l| l.parse().ok())) {
                (Some(message), Some(lines)) => Request::Top { message, lines },
                _ => bad,
            },
            "RETR" => number(0).map_or(bad, Request::Retr),
            "DELE" => number(0).map_or(bad, Request::Dele),
            "RSET" => Request::Rset,
            "NOOP" => Request::Noop,
            "QUIT" => Request::Quit,
            _ => Request::Unknown(verb),
        }
    }
}

/// A mailbox as one session sees it: the messages (UIDL, bytes) when the
/// session began, and which of them it has marked deleted.
#[derive(Clone, Debug)]
pub struct Maildrop {
    messages: Vec<(String, Vec<u8>)>,
    deleted: Vec<bool>,
}

impl Maildrop {
    pub fn new(messages: Vec<(String, Vec<u8>)>) -> Maildrop {
        let deleted = vec![false; messages.len()];
        Maildrop { messages, deleted }
    }

    /// Message `n` (1-based), unless it does not exist or is marked deleted.
    pub fn get(&self, n: u32) -> Option<&(String, Vec<u8>)> {
        let i = (n as usize).checked_sub(1)?;
        (i < self.messages.len() && !self.deleted[i]).then(|| &self.messages[i])
    }

    /// The messages not marked deleted, with their numbers.
    pub fn live(&self) -> impl Iterator<Item = (u32, &(String, Vec<u8>))> {
        self.messages
            .iter()
            .zip(&self.deleted)
            .enumerate()
            .filter(|(_, (_, d))| !**d)
            .map(|(i, (m, _))| (i as u32 + 1, m))
    }

    /// The messages not marked deleted, in order: what QUIT leaves.
    pub fn kept(&self) -> Vec<(String, Vec<u8>)> {
        self.live().map(|(_, m)| m.clone()).collect()
    }

    /// The UIDLs of the messages marked deleted: what QUIT removes.
    pub fn deleted(&self) -> Vec<&str> {
        self.messages
            .iter()
            .zip(&self.deleted)
            .filter(|(_, d)| **d)
            .map(|((uid, _), _)| uid.as_str())
            .collect()
    }

    /// The reply to a TRANSACTION-state request, or `None` for one that is
    /// not (CAPA, the login, QUIT: the caller's).
    pub fn answer(&mut self, request: &Request<'_>) -> Option<Vec<u8>> {
        let no_such = || b"-ERR no such message\r\n".to_vec();
        Some(match *request {
            Request::Stat => {
                let (n, size) = self
                    .live()
                    .fold((0, 0), |(n, s), (_, (_, m))| (n + 1, s + m.len()));
                format!("+OK {n} {size}\r\n").into_bytes()
            }
            Request::List(None) | Request::Uidl(None) => {
                let uidl = matches!(request, Request::Uidl(_));
                let mut r = b"+OK\r\n".to_vec();
                for (n, (uid, m)) in self.live() {
                    let value = if uidl {
                        uid.clone()
                    } else {
                        m.len().to_string()
                    };
                    r.extend_from_slice(format!("{n} {value}\r\n").as_bytes());
                }
                r.extend_from_slice(b".\r\n");
                r
            }
            Request::List(Some(n)) => match self.get(n) {
                Some((_, m)) => format!("+OK {n} {}\r\n", m.len()).into_bytes(),
                None => no_such(),
            },
            Request::Uidl(Some(n)) => match self.get(n) {
                Some((uid, _)) => format!("+OK {n} {uid}\r\n").into_bytes(),
                None => no_such(),
            },
            Request::Top { message, lines } => match self.get(message) {
                Some((_, m)) => multiline(m, Some(lines)),
                None => no_such(),
            },
            Request::Retr(n) => match self.get(n) {
                Some((_, m)) => multiline(m, None),
                None => no_such(),
            },
            Request::Dele(n) => match self.get(n) {
                Some(_) => {
                    self.deleted[n as usize - 1] = true;
                    b"+OK deleted\r\n".to_vec()
                }
                None => no_such(),
            },
            Request::Rset => {
                self.deleted.iter_mut().for_each(|d| *d = false);
                b"+OK\r\n".to_vec()
            }
            Request::Noop => b"+OK\r\n".to_vec(),
            _ => return None,
        })
    }
}

/// "+OK", then the message (or its header block and `body_lines` lines), dot-stuffed.
pub fn multiline(message: &[u8], body_lines: Option<usize>) -> Vec<u8> {
    let mut out = b"+OK\r\n".to_vec();
    out.extend_from_slice(&dot_stuff(message, body_lines));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_lines_read_into_requests() {
        assert_eq!(Request::parse("capa\r\n"), Request::Capa);
        assert_eq!(Request::parse("USER alice"), Request::User("alice"));
        assert_eq!(Request::parse("PASS two words"), Request::Pass("two words"));
        assert_eq!(
            Request::parse("TOP 3 0"),
            Request::Top {
                message: 3,
                lines: 0
            }
        );
        assert_eq!(Request::parse("LIST"), Request::List(None));
        assert_eq!(Request::parse("uidl 2"), Request::Uidl(Some(2)));
        assert_eq!(Request::parse("RETR x"), Request::BadArguments("RETR"));
        assert_eq!(Request::parse("TOP 1"), Request::BadArguments("TOP"));
        assert_eq!(
            Request::parse("AUTH PLAIN AGFsaWNl"),
            Request::Auth {
                mechanism: "PLAIN",
                initial_response: Some("AGFsaWNl")
            }
        );
        assert_eq!(Request::parse("XYZZY"), Request::Unknown("XYZZY"));
    }

    #[test]
    fn a_maildrop_answers_and_deletes_only_what_it_is_asked_to() {
        let mut drop = Maildrop::new(vec![
            ("a".into(), b"Subject: one\r\n\r\n.dot\r\n".to_vec()),
            ("b".into(), b"Subject: two\r\n\r\nbody\r\n".to_vec()),
        ]);
        assert_eq!(drop.answer(&Request::Stat).unwrap(), b"+OK 2 44\r\n");
        assert_eq!(
            drop.answer(&Request::Retr(1)).unwrap(),
            b"+OK\r\nSubject: one\r\n\r\n..dot\r\n.\r\n"
        );
        assert_eq!(drop.answer(&Request::Dele(1)).unwrap(), b"+OK deleted\r\n");
        assert_eq!(
            drop.answer(&Request::Retr(1)).unwrap(),
            b"-ERR no such message\r\n"
        );
        assert_eq!(
            drop.answer(&Request::Uidl(None)).unwrap(),
            b"+OK\r\n2 b\r\n.\r\n"
        );
        assert_eq!(drop.deleted(), vec!["a"]);
        drop.answer(&Request::Rset);
        assert!(drop.deleted().is_empty());
        assert_eq!(drop.answer(&Request::Quit), None, "QUIT is the caller's");
    }
}
