//! The client side of a POP3 conversation, without IO.
//!
//! The caller queues commands, writes [`Client::output`] to the socket, and
//! feeds whatever the socket gives back into [`Client::feed`]; replies come
//! out of [`Client::next_reply`] in the order the commands went in. Several
//! commands may be in flight at once (pipelining): the client remembers the
//! shape of reply each one expects.

use std::collections::VecDeque;

use super::command::{Command, Limits, ReplyShape, UnsafeArgument};
use super::reply::{ProtocolError, Reply, ReplyReader, excerpt};

#[derive(Debug)]
pub struct Client {
    limits: Limits,
    output: Vec<u8>,
    input: Vec<u8>,
    /// One entry per reply still owed by the server, oldest first, with
    /// whether its command was sent while earlier replies were still owed.
    awaiting: VecDeque<(ReplyShape, bool)>,
    reader: Option<ReplyReader>,
}

impl Client {
    /// A fresh conversation: the first thing owed is the server's greeting.
    pub fn new(limits: Limits) -> Self {
        Client {
            limits,
            output: Vec::new(),
            input: Vec::new(),
            awaiting: VecDeque::from([(ReplyShape::Single, false)]),
            reader: None,
        }
    }

    /// A conversation continuing on a new transport after STLS: no greeting is owed.
    pub fn after_stls(limits: Limits) -> Self {
        let mut client = Client::new(limits);
        client.awaiting.clear();
        client
    }

    pub fn limits(&self) -> &Limits {
        &self.limits
    }

    /// Queues a command; its bytes join [`Client::output`]. A command whose
    /// arguments would not stay on its line is refused, and nothing queued.
    pub fn send(&mut self, command: &Command) -> Result<(), UnsafeArgument> {
        command.encode(&mut self.output)?;
        let pipelined = !self.awaiting.is_empty();
        self.awaiting
            .push_back((command.reply_shape(&self.limits), pipelined));
        Ok(())
    }

    /// Bytes waiting to be written to the server.
    pub fn output(&self) -> &[u8] {
        &self.output
    }

    /// Marks `n` bytes of [`Client::output`] as written.
    pub fn consume_output(&mut self, n: usize) {
        self.output.drain(..n);
    }

    /// How many replies the server still owes.
    pub fn in_flight(&self) -> usize {
        self.awaiting.len()
    }

    /// Whether bytes have arrived that no reply has used yet.
    pub fn has_unread_input(&self) -> bool {
        !self.input.is_empty()
    }

    /// Whether part of a reply has arrived and the rest is still owed.
    pub fn mid_reply(&self) -> bool {
        self.reader.is_some() || !self.input.is_empty()
    }

    /// Whether the reply owed next is for a command sent behind others
    /// (pipelined) and not one byte of it has come.
    pub fn awaiting_pipelined(&self) -> bool {
        !self.mid_reply()
            && self
                .awaiting
                .front()
                .is_some_and(|&(_, pipelined)| pipelined)
    }

    /// Hands the client bytes read from the server.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.input.extend_from_slice(bytes);
    }

    /// The next complete reply, if the bytes fed so far hold one.
    pub fn next_reply(&mut self) -> Result<Option<Reply>, ProtocolError> {
        if self.input.is_empty() {
            return Ok(None);
        }
        if self.reader.is_none() {
            let Some(&(shape, _)) = self.awaiting.front() else {
                return Err(ProtocolError::Unsolicited {
                    excerpt: excerpt(&self.input),
                });
            };
            self.reader = Some(ReplyReader::new(shape, self.limits.status_line));
        }
        let reader = self.reader.as_mut().expect("reader was just set");
        let (used, reply) = reader.feed(&self.input)?;
        self.input.drain(..used);
        if reply.is_some() {
            self.reader = None;
            self.awaiting.pop_front();
        }
        Ok(reply)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::pop3::reply::Indicator;
    use proptest::prelude::*;

    /// A session transcript with every reply shape: greeting, CAPA, SASL
    /// continuation, LIST, UIDL, TOP, RETR with dot-stuffing and bare LF, -ERR.
    fn transcript() -> (Vec<Command>, Vec<u8>) {
        let commands = vec![
            Command::Capa,
            Command::Auth {
                mechanism: "CRAM-MD5".into(),
                initial_response: None,
            },
            Command::AuthResponse("x".into()),
            Command::List(None),
            Command::Uidl(None),
            Command::Top {
                message: 1,
                lines: 0,
            },
            Command::Retr(1),
            Command::Retr(2),
            Command::Dele(9),
            Command::Quit,
        ];
        let server = b"+OK POP3 ready <1896.697170952@dbc.mtview.ca.us>\r\n\
+OK Capability list follows\r\nTOP\r\nUIDL\r\nPIPELINING\r\nSASL PLAIN CRAM-MD5\r\n.\r\n\
+ PDE4OTYuNjk3MTcwOTUyQHBvc3RvZmZpY2UucmVzdG9uLm1jaS5uZXQ+\r\n\
+OK [AUTH] welcome\r\n\
+OK 2 messages\r\n1 120\r\n2 200\r\n.\r\n\
+OK\r\n1 whqtswO00WBw418f9t5JxYwZ\r\n2 QhdPYR:00WBw1Ph7x7\r\n.\r\n\
+OK\r\nFrom: a@b\r\nSubject: hi\r\n\r\n.\r\n\
+OK 120 octets\r\nFrom: a@b\r\n\r\n..leading dot\r\n...two\r\nbare\nlf\n.\r\n\
+OK\nonly\nbare\nlf\n.\n\
-ERR [SYS/PERM] no such message\r\n\
+OK bye\r\n"
            .to_vec();
        (commands, server)
    }

    fn replies_when_fed_in_chunks(chunk: usize) -> Result<Vec<Reply>, ProtocolError> {
        let (commands, server) = transcript();
        let mut client = Client::new(Limits::default());
        for c in &commands {
            client.send(c).unwrap();
        }
        let mut replies = Vec::new();
        for piece in server.chunks(chunk) {
            client.feed(piece);
            while let Some(r) = client.next_reply()? {
                replies.push(r);
            }
        }
        assert_eq!(client.in_flight(), 0);
        Ok(replies)
    }

    #[test]
    fn every_chunk_size_gives_identical_replies() {
        let whole = replies_when_fed_in_chunks(usize::MAX).unwrap();
        assert_eq!(whole.len(), 11);
        assert_eq!(whole[2].indicator, Indicator::Continue);
        assert_eq!(
            whole[7].body.as_deref().unwrap(),
            b"From: a@b\r\n\r\n.leading dot\r\n..two\r\nbare\nlf\n"
        );
        assert_eq!(whole[8].body.as_deref().unwrap(), b"only\nbare\nlf\n");
        assert_eq!(whole[9].indicator, Indicator::Err);
        for chunk in (1..=64).chain([100, 128, 256, 512]) {
            assert_eq!(
                replies_when_fed_in_chunks(chunk).unwrap(),
                whole,
                "chunk size {chunk}"
            );
        }
    }

    #[test]
    fn bytes_with_nothing_asked_are_an_error() {
        let mut client = Client::new(Limits::default());
        client.feed(b"+OK hello\r\n+OK extra\r\n");
        assert!(client.next_reply().unwrap().is_some());
        assert!(matches!(
            client.next_reply(),
            Err(ProtocolError::Unsolicited { .. })
        ));
    }

    #[test]
    fn an_endless_line_is_cut_at_the_limit_whatever_the_chunking() {
        let limits = Limits {
            status_line: 100,
            ..Limits::default()
        };
        let mut client = Client::new(limits);
        let mut err = None;
        for _ in 0..1000 {
            client.feed(&[b'A'; 7]);
            if let Err(e) = client.next_reply() {
                err = Some(e);
                break;
            }
        }
        assert_eq!(err, Some(ProtocolError::StatusLineTooLong { limit: 100 }));
    }

    /// What a server sends for a RETR of `message`.
    fn stuff(message: &[u8]) -> Vec<u8> {
        let mut out = b"+OK\r\n".to_vec();
        out.extend_from_slice(&crate::pop3::dot_stuff(message, None));
        out
    }

    /// Lines built from pieces that stress the unstuffer: dots, CRs, bare LFs.
    fn message_strategy() -> impl Strategy<Value = Vec<u8>> {
        let piece = prop_oneof![
            Just(b".".to_vec()),
            Just(b"..".to_vec()),
            Just(b"\r".to_vec()),
            Just(b"\r\n".to_vec()),
            Just(b"\n".to_vec()),
            Just(b"text".to_vec()),
            proptest::collection::vec(any::<u8>(), 0..8),
        ];
        proptest::collection::vec(piece, 0..40).prop_map(|pieces| {
            let mut m: Vec<u8> = pieces.concat();
            if !m.is_empty() && !m.ends_with(b"\n") {
                m.extend_from_slice(b"\r\n");
            }
            m
        })
    }

    proptest! {
        #[test]
        fn dot_stuffing_round_trips(message in message_strategy(), chunk in 1usize..64) {
            let wire = stuff(&message);
            let mut client = Client::new(Limits::default());
            client.awaiting.clear();
            client.send(&Command::Retr(1)).unwrap();
            let mut got = None;
            for piece in wire.chunks(chunk) {
                client.feed(piece);
                if let Some(r) = client.next_reply().unwrap() {
                    got = Some(r);
                }
            }
            prop_assert_eq!(got.and_then(|r| r.body), Some(message));
            prop_assert!(!client.has_unread_input());
        }

        #[test]
        fn fuzz_arbitrary_bytes_never_panic_and_stay_bounded(input in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let limits = Limits { status_line: 64, header_block: 256, message: 512, listing: 512 };
            let mut client = Client::new(limits);
            client.send(&Command::Capa).unwrap();
            client.send(&Command::Retr(1)).unwrap();
            client.send(&Command::Top { message: 1, lines: 0 }).unwrap();
            client.feed(&input);
            while let Ok(Some(r)) = client.next_reply() {
                prop_assert!(r.body.map_or(0, |b| b.len()) <= 512);
            }
        }
    }
}
