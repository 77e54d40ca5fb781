//! A scripted POP3 server in the test process, for what a real server will
//! not do on demand: cut a connection mid-message, never answer QUIT, lie,
//! flood. Plain TCP only. It keeps one mailbox across sessions and, like a
//! real server, applies DELE only after QUIT.

use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};

use pipit::pop3::server::{Maildrop, Request, multiline};

pub const PASSWORD: &str = "secret";

/// What the server does differently from a well-behaved one.
#[derive(Clone, Debug, Default)]
pub struct Faults {
    /// Capabilities to list; `None` answers CAPA with -ERR.
    pub capa: Option<Vec<String>>,
    pub no_uidl: bool,
    pub no_top: bool,
    /// In the first session only: close after this many bytes of RETR n's reply.
    pub cut_retr_once: Option<(u32, usize)>,
    /// In the first session only: close on QUIT without +OK (and so delete nothing).
    pub drop_quit_once: bool,
    /// In this session (1 for the first) only: close on QUIT without +OK.
    pub drop_quit_of_session: Option<usize>,
    /// `(n, m)`: TOP n answers with message m's lines (another message's
    /// header block).
    pub top_as: Option<(u32, u32)>,
    /// TOP of this message answers +OK with nothing (no header block).
    pub top_empty: Option<u32>,
    /// LIST reports this size for every message.
    pub list_size: Option<u64>,
    /// RETR n answers with a body that never ends.
    pub endless_retr: Option<u32>,
    /// The greeting is an endless line.
    pub endless_greeting: bool,
    /// Every message gets this UIDL.
    pub same_uid: Option<String>,
    /// The reply to PASS, right or wrong password.
    pub pass_reply: Option<String>,
    /// The greeting line, instead of +OK.
    pub greeting: Option<String>,
    /// Milliseconds to wait before each RETR reply.
    pub retr_delay_ms: u64,
    /// Send the greeting one byte every this many milliseconds.
    pub trickle_ms: Option<u64>,
    /// LIST claims ten million messages (and streams them).
    pub huge_list: bool,
    /// RETR of the messages with these UIDLs answers -ERR.
    pub retr_errors: Vec<String>,
    /// RETR of these very messages answers -ERR.
    pub retr_errors_of: Vec<Vec<u8>>,
    /// Close the connection as soon as PASS arrives.
    pub close_after_pass: bool,
    /// Answer STLS with +OK and then go on in plain text (with this extra line, if any).
    pub fake_stls: Option<String>,
    /// Read one command at a time and throw away whatever else was already sent.
    pub drop_pipelined: bool,
    /// Answer AUTH SCRAM-SHA-256 with a server-first message, then +OK right
    /// after the client's final message: never proving it knows the password.
    pub scram_without_proof: bool,
    /// TOP's header block has this line more than RETR's (some servers add
    /// a line of their own to one of them).
    pub top_extra: Option<String>,
    /// LIST answers with this many lines that name no message.
    pub broken_list_lines: Option<usize>,
    /// The reply to PASS is this line, whatever it is (garbage included).
    pub pass_raw: Option<Vec<u8>>,
    /// Every reply after the greeting ends its lines with a bare LF.
    pub bare_lf: bool,
    /// Each session gives every message a UIDL of its own (as a server that
    /// makes them up from session state does).
    pub uids_per_session: bool,
    /// TOP's replies are not dot-stuffed.
    pub top_unstuffed: bool,
    /// Commands that came before the login's +OK went out (pipelined
    /// behind it) are refused with -ERR.
    pub refuse_early: bool,
}

impl Faults {
    pub fn well_behaved() -> Faults {
        Faults {
            capa: Some(
                ["TOP", "UIDL", "USER", "PIPELINING", "RESP-CODES"]
                    .map(String::from)
                    .to_vec(),
            ),
            ..Faults::default()
        }
    }
}

#[derive(Default)]
struct State {
    /// Each message with the UIDL it was given on arrival.
    mailbox: Vec<(String, Vec<u8>)>,
    faults: Faults,
    /// Every command received, per session, with secrets as sent.
    sessions: Vec<Vec<String>>,
    /// The Pipit store to look into at each DELE.
    dele_check: Option<std::path::PathBuf>,
    /// DELEs that came for a message not durably stored at that moment.
    violations: Vec<String>,
    /// When each command arrived.
    timeline: Vec<(std::time::Instant, String)>,
    /// Per session, the commands read while more were already waiting
    /// behind them (sent without waiting for a reply: pipelined).
    pipelined: Vec<usize>,
}

pub struct FakeServer {
    pub port: u16,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl FakeServer {
    pub fn start(mailbox: Vec<Vec<u8>>, faults: Faults) -> FakeServer {
        let with_uids = mailbox
            .into_iter()
            .enumerate()
            .map(|(i, m)| (format!("uid-{:04}", i + 1), m))
            .collect();
        FakeServer::start_with_uids(with_uids, faults)
    }

    /// A server whose messages have the UIDLs given (repeated ones, odd ones).
    pub fn start_with_uids(mailbox: Vec<(String, Vec<u8>)>, faults: Faults) -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State {
            mailbox,
            faults,
            ..State::default()
        }));
        let stop = Arc::new(AtomicBool::new(false));
        let (s, st) = (state.clone(), stop.clone());
        let thread = thread::spawn(move || {
            for conn in listener.incoming() {
                if st.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(conn) = conn else { continue };
                let s = s.clone();
                thread::spawn(move || {
                    let _ = serve(conn, &s);
                });
            }
        });
        FakeServer {
            port,
            state,
            stop,
            thread: Some(thread),
        }
    }

    /// The mailbox now, in order.
    pub fn mailbox(&self) -> Vec<Vec<u8>> {
        self.state
            .lock()
            .unwrap()
            .mailbox
            .iter()
            .map(|(_, m)| m.clone())
            .collect()
    }

    /// The commands of every session so far.
    pub fn sessions(&self) -> Vec<Vec<String>> {
        self.state.lock().unwrap().sessions.clone()
    }

    /// How many commands of session `session` had others sent behind them
    /// before their reply (0: one command at a time).
    pub fn pipelined(&self, session: usize) -> usize {
        self.state.lock().unwrap().pipelined[session]
    }

    /// From now on, each DELE is checked against this store at the moment it
    /// arrives: the message must already be there, whole and committed.
    pub fn check_deletes_against(&self, store: &std::path::Path) {
        self.state.lock().unwrap().dele_check = Some(store.to_path_buf());
    }

    /// Every command with the moment it arrived, in order.
    pub fn timeline(&self) -> Vec<(std::time::Instant, String)> {
        self.state.lock().unwrap().timeline.clone()
    }

    /// DELEs that broke the rule "never before the bytes are durable".
    pub fn violations(&self) -> Vec<String> {
        self.state.lock().unwrap().violations.clone()
    }

    /// Gives every message a new UIDL, as a mailbox that moved or a server
    /// that renumbered (or repaired) its UIDs does.
    pub fn renumber(&self, uid: impl Fn(usize, &str) -> String) {
        let mut state = self.state.lock().unwrap();
        for (i, (u, _)) in state.mailbox.iter_mut().enumerate() {
            *u = uid(i, u);
        }
    }

    /// A new message arrives, under a UIDL never given before.
    pub fn deliver(&self, raw: &[u8]) {
        let mut state = self.state.lock().unwrap();
        let uid = format!(
            "uid-new-{:04}",
            state.sessions.len() * 1000 + state.mailbox.len()
        );
        state.mailbox.push((uid, raw.to_vec()));
    }

    /// Removes a message, as another client deleting it would.
    pub fn delete_elsewhere(&self, index: usize) {
        self.state.lock().unwrap().mailbox.remove(index);
    }

    /// How many times each command was sent, over all sessions.
    pub fn count(&self, verb: &str) -> usize {
        self.sessions()
            .iter()
            .flatten()
            .filter(|c| c.split_whitespace().next() == Some(verb))
            .count()
    }

    /// Adds Pipit's test account `lab` for this server (a 5-second timeout,
    /// then `extra`), and checks every DELE against its store as it arrives.
    pub fn account_for(&self, pipit: &super::Pipit, security: &str, extra: &[&str]) {
        let mut args = vec!["--timeout", "5"];
        args.extend_from_slice(extra);
        pipit.add_account(self.port, security, &args);
        self.check_deletes_against(&pipit.store_path());
    }

    /// The invariant, plus: every DELE this server saw was for a message
    /// durably stored at that moment.
    pub fn assert_nothing_lost(&self, pipit: &super::Pipit, original: &[Vec<u8>]) {
        super::invariant::check(&pipit.store_path(), original, &self.mailbox());
        assert_eq!(self.violations(), Vec::<String>::new());
    }

    pub fn set_faults(&self, faults: Faults) {
        self.state.lock().unwrap().faults = faults;
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve(conn: TcpStream, state: &Arc<Mutex<State>>) -> std::io::Result<()> {
    let (faults, snapshot, session) = {
        let mut s = state.lock().unwrap();
        s.sessions.push(Vec::new());
        s.pipelined.push(0);
        let first = s.sessions.len() == 1;
        let mut f = s.faults.clone();
        if !first {
            f.cut_retr_once = None;
            f.drop_quit_once = false;
        }
        if f.drop_quit_of_session == Some(s.sessions.len()) {
            f.drop_quit_once = true;
        }
        let mut snapshot = s.mailbox.clone();
        if f.uids_per_session {
            for (uid, _) in &mut snapshot {
                *uid = format!("{uid}.{}", s.sessions.len());
            }
        }
        (f, snapshot, s.sessions.len() - 1)
    };
    let mut out = conn.try_clone()?;
    let mut input = BufReader::new(conn);
    if faults.endless_greeting {
        out.write_all(b"+OK ")?;
        let junk = vec![b'A'; 64 * 1024];
        loop {
            out.write_all(&junk)?;
        }
    }
    if let Some(ms) = faults.trickle_ms {
        for b in b"+OK slow server ready\r\n" {
            out.write_all(&[*b])?;
            std::thread::sleep(std::time::Duration::from_millis(ms));
        }
    }
    match &faults.greeting {
        Some(g) => {
            out.write_all(format!("{g}\r\n").as_bytes())?;
            return Ok(());
        }
        None => out.write_all(b"+OK fake POP3 ready <1896.697170952@fake.example>\r\n")?,
    }
    let mut maildrop = Maildrop::new(snapshot.clone());
    let mut authed = false;
    let mut scram_final_next = false;
    // Commands already read when the login succeeded, still to refuse.
    let mut early = 0usize;
    let mut line = String::new();
    loop {
        line.clear();
        if input.read_line(&mut line)? == 0 {
            return Ok(());
        }
        if !input.buffer().is_empty() {
            state.lock().unwrap().pipelined[session] += 1;
        }
        if faults.drop_pipelined {
            let pending = input.buffer().len();
            input.consume(pending);
        }
        let cmd = line.trim_end().to_string();
        {
            let mut s = state.lock().unwrap();
            s.sessions[session].push(cmd.clone());
            s.timeline.push((std::time::Instant::now(), cmd.clone()));
        }
        let uid = |n: u32| match &faults.same_uid {
            Some(u) => u.clone(),
            None => snapshot[n as usize - 1].0.clone(),
        };
        if early > 0 {
            early -= 1;
            out.write_all(b"-ERR not logged in when this came\r\n")?;
            continue;
        }
        if scram_final_next {
            // Whatever the client's proof, "+OK": the server skips its own.
            scram_final_next = false;
            authed = true;
            out.write_all(b"+OK logged in\r\n")?;
            continue;
        }
        let request = Request::parse(&cmd);
        let was_authed = authed;
        let exists = |n: u32| maildrop.get(n).is_some();
        let reply: Vec<u8> = match request {
            Request::Auth {
                mechanism: "SCRAM-SHA-256",
                initial_response,
            } if faults.scram_without_proof => {
                use base64::Engine as _;
                let b64 = base64::engine::general_purpose::STANDARD;
                let first = b64
                    .decode(initial_response.unwrap_or(""))
                    .unwrap_or_default();
                let first = String::from_utf8_lossy(&first);
                let nonce = first.split("r=").nth(1).unwrap_or("").to_string();
                scram_final_next = true;
                format!(
                    "+ {}\r\n",
                    b64.encode(format!("r={nonce}server,s=QUJD,i=4096"))
                )
                .into_bytes()
            }
            Request::Auth {
                mechanism,
                initial_response,
            } if !authed => {
                // PLAIN, if it is listed; any other is unknown here.
                let listed = faults.capa.iter().flatten().any(|c| {
                    c.split_whitespace().next() == Some("SASL")
                        && c.split_whitespace()
                            .any(|m| m.eq_ignore_ascii_case(mechanism))
                });
                use base64::Engine as _;
                let given = base64::engine::general_purpose::STANDARD
                    .decode(initial_response.unwrap_or(""))
                    .unwrap_or_default();
                if !(listed && mechanism.eq_ignore_ascii_case("PLAIN")) {
                    b"-ERR unsupported authentication mechanism\r\n".to_vec()
                } else if given.ends_with(format!("\0{PASSWORD}").as_bytes()) {
                    authed = true;
                    b"+OK logged in\r\n".to_vec()
                } else {
                    b"-ERR [AUTH] invalid password\r\n".to_vec()
                }
            }
            Request::Capa => match &faults.capa {
                Some(caps) => format!("+OK\r\n{}\r\n.\r\n", caps.join("\r\n")).into_bytes(),
                None => b"-ERR unknown command\r\n".to_vec(),
            },
            Request::Stls => match &faults.fake_stls {
                Some(extra) if extra.is_empty() => b"+OK begin TLS\r\n".to_vec(),
                Some(extra) => format!("+OK begin TLS\r\n{extra}\r\n").into_bytes(),
                None => b"-ERR STLS not supported here\r\n".to_vec(),
            },
            Request::User(_) => b"+OK\r\n".to_vec(),
            Request::Pass(_) if faults.close_after_pass => {
                input.get_ref().shutdown(Shutdown::Both)?;
                return Ok(());
            }
            Request::Pass(_) if faults.pass_raw.is_some() => {
                faults.pass_raw.clone().unwrap_or_default()
            }
            Request::Pass(_) if faults.pass_reply.is_some() => {
                format!("{}\r\n", faults.pass_reply.as_ref().unwrap()).into_bytes()
            }
            Request::Pass(password) => {
                if password == PASSWORD {
                    authed = true;
                    b"+OK logged in\r\n".to_vec()
                } else {
                    b"-ERR [AUTH] invalid password\r\n".to_vec()
                }
            }
            Request::Quit => {
                if faults.drop_quit_once {
                    input.get_ref().shutdown(Shutdown::Both)?;
                    return Ok(());
                }
                if authed {
                    let mut s = state.lock().unwrap();
                    // Messages that arrived during the session stay.
                    let arrived: Vec<(String, Vec<u8>)> =
                        s.mailbox.iter().skip(snapshot.len()).cloned().collect();
                    s.mailbox = maildrop.kept().into_iter().chain(arrived).collect();
                }
                out.write_all(b"+OK bye\r\n")?;
                return Ok(());
            }
            _ if !authed => b"-ERR log in first\r\n".to_vec(),
            Request::List(None) if faults.huge_list => {
                out.write_all(b"+OK 10000000 messages\r\n")?;
                let mut chunk = Vec::with_capacity(1 << 20);
                for n in 1..=10_000_000u32 {
                    chunk.extend_from_slice(format!("{n} 4096\r\n").as_bytes());
                    if chunk.len() > (1 << 20) - 32 {
                        out.write_all(&chunk)?;
                        chunk.clear();
                    }
                }
                chunk.extend_from_slice(b".\r\n");
                chunk
            }
            Request::List(None) if faults.broken_list_lines.is_some() => {
                out.write_all(b"+OK\r\n")?;
                let chunk = b"a\r\n".repeat(64 * 1024);
                let mut left = faults.broken_list_lines.unwrap_or(0);
                while left > 0 {
                    let k = left.min(64 * 1024);
                    out.write_all(&chunk[..k * 3])?;
                    left -= k;
                }
                b".\r\n".to_vec()
            }
            Request::List(None) if faults.list_size.is_some() => {
                let size = faults.list_size.unwrap_or(0);
                listing(maildrop.live().map(|(n, _)| (n, size.to_string())))
            }
            Request::Uidl(_) if faults.no_uidl => b"-ERR no UIDL here\r\n".to_vec(),
            Request::Uidl(None) if faults.same_uid.is_some() => {
                listing(maildrop.live().map(|(n, _)| (n, uid(n))))
            }
            Request::Top { .. } if faults.no_top => b"-ERR no TOP here\r\n".to_vec(),
            Request::Top { message, .. } if faults.top_empty == Some(message) => {
                b"+OK\r\n.\r\n".to_vec()
            }
            Request::Top { message, lines }
                if faults
                    .top_as
                    .is_some_and(|(n, m)| n == message && exists(m)) =>
            {
                let m = faults.top_as.map_or(message, |(_, m)| m);
                let mut r = b"+OK\r\n".to_vec();
                r.extend_from_slice(&pipit::pop3::dot_stuff(
                    &snapshot[m as usize - 1].1,
                    Some(lines),
                ));
                r
            }
            Request::Top { message, lines } if faults.top_unstuffed && exists(message) => {
                let stuffed =
                    pipit::pop3::dot_stuff(&snapshot[message as usize - 1].1, Some(lines));
                // Undo the stuffing: the dots a line began with go out as they are.
                let mut r = b"+OK\r\n".to_vec();
                let body = stuffed.strip_suffix(b".\r\n").unwrap_or(&stuffed);
                for line in body.split_inclusive(|&b| b == b'\n') {
                    r.extend_from_slice(line.strip_prefix(b".").unwrap_or(line));
                }
                r.extend_from_slice(b".\r\n");
                r
            }
            Request::Top { message, lines } if faults.top_extra.is_some() && exists(message) => {
                let mut r = b"+OK\r\n".to_vec();
                if let Some(extra) = &faults.top_extra {
                    r.extend_from_slice(format!("{extra}\r\n").as_bytes());
                }
                r.extend_from_slice(&pipit::pop3::dot_stuff(
                    &snapshot[message as usize - 1].1,
                    Some(lines),
                ));
                r
            }
            Request::Retr(n)
                if exists(n)
                    && (faults.retr_errors.contains(&uid(n))
                        || faults.retr_errors_of.contains(&snapshot[n as usize - 1].1)) =>
            {
                b"-ERR [SYS/TEMP] cannot read that message now\r\n".to_vec()
            }
            Request::Retr(n) if exists(n) && faults.endless_retr == Some(n) => {
                out.write_all(b"+OK\r\n")?;
                let junk =
                    b"endless endless endless endless endless endless endless\r\n".repeat(1024);
                loop {
                    out.write_all(&junk)?;
                }
            }
            Request::Retr(n) if exists(n) => {
                std::thread::sleep(std::time::Duration::from_millis(faults.retr_delay_ms));
                let r = multiline(&snapshot[n as usize - 1].1, None);
                if let Some((cut_n, bytes)) = faults.cut_retr_once
                    && cut_n == n
                {
                    out.write_all(&r[..bytes.min(r.len())])?;
                    out.flush()?;
                    input.get_ref().shutdown(Shutdown::Both)?;
                    return Ok(());
                }
                r
            }
            Request::Dele(n) if exists(n) => {
                check_durable(state, &snapshot[n as usize - 1].1);
                maildrop.answer(&request).unwrap_or_default()
            }
            ref other => maildrop
                .answer(other)
                .unwrap_or_else(|| b"-ERR unknown command\r\n".to_vec()),
        };
        if authed && faults.refuse_early && !was_authed {
            early = input.buffer().iter().filter(|&&b| b == b'\n').count();
        }
        let reply = if faults.bare_lf {
            reply
                .split_inclusive(|&b| b == b'\n')
                .flat_map(|l| match l.strip_suffix(b"\r\n") {
                    Some(l) => [l, b"\n"].concat(),
                    None => l.to_vec(),
                })
                .collect()
        } else {
            reply
        };
        out.write_all(&reply)?;
    }
}

/// A multi-line listing: "+OK", `n value` lines, ".".
fn listing(lines: impl Iterator<Item = (u32, String)>) -> Vec<u8> {
    let mut r = b"+OK\r\n".to_vec();
    for (n, value) in lines {
        r.extend_from_slice(format!("{n} {value}\r\n").as_bytes());
    }
    r.extend_from_slice(b".\r\n");
    r
}

/// Records a violation unless `message` is committed, whole, in the store.
fn check_durable(state: &Arc<Mutex<State>>, message: &[u8]) {
    let Some(path) = state.lock().unwrap().dele_check.clone() else {
        return;
    };
    let durable = rusqlite::Connection::open(&path)
        .and_then(|db| {
            // The bytes as stored may be packed (store version 8).
            pipit::store::register_bytes_function(&db)?;
            db.query_row(
                "SELECT count(*) FROM messages m JOIN message_bytes b ON b.message_id = m.id
                 WHERE m.state = 'full' AND pipit_bytes(b.raw, b.packed) = ?1",
                [message],
                |r| r.get::<_, i64>(0),
            )
        })
        .unwrap_or(0);
    if durable == 0 {
        state.lock().unwrap().violations.push(format!(
            "DELE of a message not durably stored ({} bytes)",
            message.len()
        ));
    }
}
