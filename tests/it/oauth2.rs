//! OAuth2 access tokens (XOAUTH2, OAUTHBEARER) against a real Dovecot that
//! checks them itself (its `oauth2` passdb, local JWT validation), the token
//! given by a `--password-command`, as users of an external OAuth2 helper
//! give it: the real binary stores the mail with a good token, says "sign
//! in again" (exit 3) for an expired or forged one, and writes the token
//! nowhere: not in a file under its home, not in any output.

use std::net::{TcpListener, UdpSocket};
use std::path::Path;
use std::process::Output;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::support::dovecot::{self, Dovecot, OAUTH2_KEY, USER};
use crate::support::{Pipit, describe, mail};

const SIGN_IN_AGAIN: &str = "the sign-in has expired or was revoked: sign in again";

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

fn good_token() -> String {
    dovecot::access_token(OAUTH2_KEY, USER, now() - 10, now() + 600)
}

/// A token file outside Pipit's home, and the command that prints it.
struct TokenFile {
    dir: tempfile::TempDir,
}

impl TokenFile {
    fn new(token: &str) -> TokenFile {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("token"), token).unwrap();
        TokenFile { dir }
    }

    fn command(&self) -> String {
        format!("cat {}", self.dir.path().join("token").display())
    }
}

/// Every run's output, to look for the token in afterwards.
#[derive(Default)]
struct Seen(Vec<u8>);

impl Seen {
    fn keep(&mut self, out: &Output) {
        self.0.extend_from_slice(&out.stdout);
        self.0.extend_from_slice(&out.stderr);
    }
}

/// The pieces of a JWT that are its own (the header is the same in every
/// token): none may show anywhere.
fn secret_parts(token: &str) -> Vec<String> {
    let mut parts: Vec<String> = token.split('.').skip(1).map(String::from).collect();
    parts.push(token.to_string());
    parts
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

/// No file under `dir`, at any depth, holds the token or a part of it.
fn assert_no_file_holds(dir: &Path, token: &str) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            assert_no_file_holds(&path, token);
        } else if let Ok(bytes) = std::fs::read(&path) {
            for part in secret_parts(token) {
                assert!(
                    !contains(&bytes, &part),
                    "{} holds the access token",
                    path.display()
                );
            }
        }
    }
}

fn assert_never_shown(seen: &Seen, token: &str) {
    for part in secret_parts(token) {
        assert!(
            !contains(&seen.0, &part),
            "the access token was shown:\n{}",
            String::from_utf8_lossy(&seen.0)
        );
    }
}

/// `account add lab --auth MECHANISM --password-command "cat TOKENFILE"`,
/// over TLS trusting the server's certificate.
fn add_token_account(pipit: &Pipit, server: &Dovecot, mechanism: &str, file: &TokenFile) {
    let command = file.command();
    server.account_for(
        pipit,
        &["--auth", mechanism, "--password-command", &command],
    );
}

#[test]
fn a_token_from_a_command_fetches_the_mail_with_xoauth2_and_oauthbearer() {
    let messages = mail::varied(6);
    let server = Dovecot::start_with_oauth2(&messages);
    for mechanism in ["xoauth2", "oauthbearer"] {
        let token = good_token();
        let file = TokenFile::new(&token);
        let pipit = Pipit::new();
        add_token_account(&pipit, &server, mechanism, &file);
        let mut seen = Seen::default();
        seen.keep(&pipit.ok(&["account", "list", "--json"]));

        let out = pipit.run(&["fetch", "--json"]);
        seen.keep(&out);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{mechanism}: {}",
            describe(&out)
        );
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["downloaded"], 6, "{mechanism}: {report:#}");
        let mut stored = pipit.all_raw();
        stored.sort();
        let mut sent = messages.clone();
        sent.sort();
        assert_eq!(stored, sent, "{mechanism}: stored byte for byte");

        // Again, as a person would: nothing new, the token taken again.
        let out = pipit.run(&["fetch"]);
        seen.keep(&out);
        assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("0 new"),
            "{}",
            describe(&out)
        );

        assert_never_shown(&seen, &token);
        assert_no_file_holds(pipit.home(), &token);
        // Dovecot logged the token's mechanism, so it really was that one.
        let method = format!("method={}", mechanism.to_ascii_uppercase());
        assert!(server.log().contains(&method), "{}", server.log());
    }
}

#[test]
fn an_expired_or_forged_token_is_exit_3_and_says_sign_in_again() {
    let server = Dovecot::start_with_oauth2(&mail::varied(2));
    let expired = || dovecot::access_token(OAUTH2_KEY, USER, now() - 7200, now() - 3600);
    let forged = || dovecot::access_token(b"not the server's key", USER, now() - 10, now() + 600);
    for mechanism in ["xoauth2", "oauthbearer"] {
        for (what, token, dovecot_says) in [
            ("expired", expired(), "Token has expired"),
            ("forged", forged(), "Incorrect JWT signature"),
        ] {
            let file = TokenFile::new(&token);
            let pipit = Pipit::new();
            add_token_account(&pipit, &server, mechanism, &file);
            let mut seen = Seen::default();

            let out = pipit.run(&["fetch", "--json"]);
            seen.keep(&out);
            assert_eq!(
                out.status.code(),
                Some(3),
                "{mechanism} {what}: {}",
                describe(&out)
            );
            let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            let error = report["errors"][0].as_str().unwrap_or_default();
            assert!(
                error.contains(SIGN_IN_AGAIN),
                "{mechanism} {what}: {report:#}"
            );
            // The server's own status for the token comes with it.
            let status = if mechanism == "xoauth2" {
                "status 401"
            } else {
                "status invalid_token"
            };
            assert!(error.contains(status), "{mechanism} {what}: {error}");

            let out = pipit.run(&["fetch"]);
            seen.keep(&out);
            assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
            assert!(
                String::from_utf8_lossy(&out.stderr).contains(SIGN_IN_AGAIN),
                "{}",
                describe(&out)
            );

            assert!(pipit.list().is_empty(), "nothing stored");
            assert_never_shown(&seen, &token);
            assert_no_file_holds(pipit.home(), &token);
            // Dovecot itself judged the token, and said why.
            assert!(
                server.log().contains(dovecot_says),
                "{mechanism} {what}: {}",
                server.log()
            );
        }
    }
}

#[test]
fn a_token_goes_in_plain_text_to_this_machine_but_not_to_a_server_without_the_mechanism() {
    // Plain text to loopback crosses no network: allowed.
    let server = Dovecot::start_with_oauth2(&mail::varied(1));
    let token = good_token();
    let file = TokenFile::new(&token);
    let pipit = Pipit::new();
    let command = file.command();
    pipit.add_account(
        server.plain_port,
        "plain",
        &["--auth", "oauthbearer", "--password-command", &command],
    );
    assert_eq!(pipit.fetch_ok()["downloaded"], 1);

    // A Dovecot without the oauth2 passdb does not list XOAUTH2: nothing is
    // sent, and the user is told what it offers.
    let plain_server = Dovecot::start(&mail::varied(1));
    let pipit = Pipit::new();
    add_token_account(&pipit, &plain_server, "xoauth2", &file);
    let out = pipit.run(&["fetch"]);
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("does not offer XOAUTH2 (it offers SASL PLAIN LOGIN CRAM-MD5 SCRAM-SHA-256)"),
        "{err}"
    );
    assert!(!plain_server.log().contains("method=XOAUTH2"));
}

/// This machine's address on its network (not loopback), if it has one: the
/// interface a datagram to a documentation address would leave by (a UDP
/// connect sends nothing).
fn own_network_address() -> Option<std::net::IpAddr> {
    let socket = UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("192.0.2.1:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

#[test]
fn a_token_never_goes_in_plain_text_to_another_machine() {
    // A server at this machine's network address is, to Pipit, another
    // machine: the peer is not loopback.
    let ip = own_network_address()
        .expect("this test needs a network address on this machine besides loopback");
    let listener = TcpListener::bind((ip, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    let server = std::thread::spawn(move || {
        use std::io::{BufRead as _, BufReader, Write as _};
        let (mut stream, _) = listener.accept().unwrap();
        let mut heard = String::new();
        stream.write_all(b"+OK ready\r\n").unwrap();
        let mut reader = BufReader::new(stream.try_clone().unwrap());
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                break;
            }
            heard.push_str(&line);
            let reply: &[u8] = if line.starts_with("CAPA") {
                b"+OK\r\nUSER\r\nSASL PLAIN XOAUTH2 OAUTHBEARER\r\n.\r\n"
            } else if line.starts_with("AUTH") {
                b"+ \r\n"
            } else {
                b"+OK\r\n"
            };
            let _ = stream.write_all(reply);
        }
        heard
    });

    let token = good_token();
    let file = TokenFile::new(&token);
    let pipit = Pipit::new();
    let port = port.to_string();
    let command = file.command();
    pipit.ok(&[
        "account",
        "add",
        "lab",
        "--host",
        &ip.to_string(),
        "--port",
        &port,
        "--security",
        "plain",
        "--user",
        USER,
        "--auth",
        "xoauth2",
        "--password-command",
        &command,
    ]);
    let out = pipit.run(&["fetch"]);
    assert_eq!(out.status.code(), Some(4), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("does not send an access token"),
        "{}",
        describe(&out)
    );
    let heard = server.join().unwrap();
    assert_eq!(heard, "CAPA\r\n", "nothing but CAPA was sent");
}

#[test]
fn a_token_in_the_keychain_works_as_a_password_does() {
    let keyring = crate::support::keyring::SecretService::start();
    let server = Dovecot::start_with_oauth2(&mail::varied(3));
    let pipit = Pipit::with_keyring(&keyring);
    let token = good_token();
    let mut seen = Seen::default();
    let args = crate::support::account_add_args(
        server.tls_port,
        "tls",
        &[
            "--trust-fingerprint",
            &server.fingerprint(),
            "--auth",
            "xoauth2",
            "--password-stdin",
        ],
    );
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = pipit.run_with_stdin(&args, format!("{token}\n").as_bytes());
    seen.keep(&out);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let out = pipit.run(&["fetch", "--json"]);
    seen.keep(&out);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));

    // The helper's next token, expired: stored as a new password is, refused.
    let expired = dovecot::access_token(OAUTH2_KEY, USER, now() - 7200, now() - 3600);
    let out = pipit.run_with_stdin(
        &["account", "set-password", "lab", "--password-stdin"],
        expired.as_bytes(),
    );
    seen.keep(&out);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let out = pipit.run(&["fetch"]);
    seen.keep(&out);
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains(SIGN_IN_AGAIN),
        "{}",
        describe(&out)
    );

    assert_eq!(pipit.list().len(), 3);
    for token in [&token, &expired] {
        assert_never_shown(&seen, token);
        assert_no_file_holds(pipit.home(), token);
    }
}
