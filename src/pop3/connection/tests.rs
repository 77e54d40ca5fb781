//! The connection's rules with no socket at all: a server's bytes in every
//! chunking, what the client sends, and the events it gives.

use super::*;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

fn options(method: Method, starttls: bool) -> Options {
    Options {
        starttls,
        user: "alice".into(),
        password: "secret".into(),
        method,
        limits: Limits::default(),
        timeout: Duration::from_secs(30),
        nonce: "rOprNGfwEbeRWgbNEkqO".into(),
        host: "pop.example.org".into(),
        port: 995,
        cleartext_remote: false,
        known: None,
        pipeline: true,
        after_login: Vec::new(),
    }
}

/// What a server sends: in plain text, then (after STLS) over TLS.
struct Script<'a> {
    plain: &'a [u8],
    tls: &'a [u8],
}

/// Everything the client sent (with "[TLS]" where TLS began), and every event.
#[derive(Debug, PartialEq, Eq)]
struct Outcome {
    sent: String,
    events: Vec<Result<Event, Error>>,
}

fn drain(c: &mut Connection, sent: &mut String, events: &mut Vec<Result<Event, Error>>) {
    let out = c.poll_transmit().to_vec();
    sent.push_str(&String::from_utf8_lossy(&out));
    c.consume_transmit(out.len());
    while let Some(e) = c.poll_event() {
        events.push(e);
    }
}

/// Runs `script` against a fresh connection, fed `chunk` bytes at a time.
fn run(options: Options, script: &Script<'_>, chunk: usize) -> Outcome {
    let now = Instant::now();
    let mut c = Connection::new(options, now);
    let (mut sent, mut events) = (String::new(), Vec::new());
    for piece in script.plain.chunks(chunk) {
        c.handle_input(piece, now);
        drain(&mut c, &mut sent, &mut events);
    }
    if events.iter().any(|e| matches!(e, Ok(Event::StartTls))) && !script.tls.is_empty() {
        c.tls_started(now);
        sent.push_str("[TLS]");
        drain(&mut c, &mut sent, &mut events);
        for piece in script.tls.chunks(chunk) {
            c.handle_input(piece, now);
            drain(&mut c, &mut sent, &mut events);
        }
    }
    Outcome { sent, events }
}

/// The same outcome whatever the chunking; returns it.
fn in_every_chunking(options: Options, script: Script<'_>) -> Outcome {
    let whole = run(options.clone(), &script, usize::MAX);
    for chunk in (1..=40).chain([64, 128, 512]) {
        assert_eq!(
            run(options.clone(), &script, chunk),
            whole,
            "chunk size {chunk}"
        );
    }
    whole
}

const GREETING: &[u8] = b"+OK POP3 ready <1896.697170952@dbc.mtview.ca.us>\r\n";

fn script(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

#[test]
fn user_and_pass_when_no_sasl_is_offered() {
    let server = script(&[
        GREETING,
        b"+OK\r\nUSER\r\nUIDL\r\n.\r\n",
        b"+OK\r\n",
        b"+OK logged in\r\n",
    ]);
    let out = in_every_chunking(
        options(Method::Auto, false),
        Script {
            plain: &server,
            tls: b"",
        },
    );
    assert_eq!(out.sent, "CAPA\r\nUSER alice\r\nPASS secret\r\n");
    assert_eq!(out.events, vec![Ok(Event::LoggedIn)]);
}

#[test]
fn a_starttls_account_sends_nothing_to_a_server_without_stls() {
    let server = script(&[GREETING, b"+OK\r\nUSER\r\nSASL PLAIN\r\n.\r\n"]);
    let out = in_every_chunking(
        options(Method::Auto, true),
        Script {
            plain: &server,
            tls: b"",
        },
    );
    assert_eq!(out.sent, "CAPA\r\n", "no credential, not even STLS");
    assert_eq!(out.events, vec![Err(Error::StlsUnavailable)]);
}

#[test]
fn a_refused_stls_stops_before_any_credential() {
    let server = script(&[
        GREETING,
        b"+OK\r\nSTLS\r\nUSER\r\n.\r\n",
        b"-ERR not now\r\n",
    ]);
    let out = in_every_chunking(
        options(Method::Auto, true),
        Script {
            plain: &server,
            tls: b"",
        },
    );
    assert_eq!(out.sent, "CAPA\r\nSTLS\r\n");
    assert_eq!(out.events, vec![Err(Error::StlsRefused("not now".into()))]);
}

#[test]
fn a_server_without_capa_is_asked_for_stls_all_the_same() {
    let server = script(&[GREETING, b"-ERR what?\r\n", b"-ERR no STLS\r\n"]);
    let out = in_every_chunking(
        options(Method::Auto, true),
        Script {
            plain: &server,
            tls: b"",
        },
    );
    assert_eq!(out.sent, "CAPA\r\nSTLS\r\n");
    assert_eq!(out.events, vec![Err(Error::StlsRefused("no STLS".into()))]);
}

#[test]
fn plain_text_after_stls_is_never_taken_for_the_tls_conversation() {
    // The +OK and an injected line together, or apart: either way refused,
    // and nothing is sent after STLS.
    let server = script(&[
        GREETING,
        b"+OK\r\nSTLS\r\n.\r\n",
        b"+OK begin TLS\r\n+OK injected: logged in\r\n",
    ]);
    for chunk in (1..=40).chain([usize::MAX]) {
        let out = run(
            options(Method::Auto, true),
            &Script {
                plain: &server,
                tls: b"",
            },
            chunk,
        );
        assert_eq!(out.sent, "CAPA\r\nSTLS\r\n", "chunk {chunk}");
        assert!(
            matches!(
                out.events.last(),
                Some(Err(Error::Protocol(ProtocolError::Unsolicited { .. })))
            ),
            "chunk {chunk}: {:?}",
            out.events
        );
    }
}

#[test]
fn starttls_then_capa_again_and_the_login_over_tls() {
    let plain = script(&[
        GREETING,
        b"+OK\r\nSTLS\r\nUSER\r\n.\r\n",
        b"+OK begin TLS\r\n",
    ]);
    let tls = script(&[b"+OK\r\nUSER\r\nSASL PLAIN\r\n.\r\n", b"+OK welcome\r\n"]);
    let out = in_every_chunking(
        options(Method::Auto, true),
        Script {
            plain: &plain,
            tls: &tls,
        },
    );
    assert_eq!(
        out.sent,
        format!(
            "CAPA\r\nSTLS\r\n[TLS]CAPA\r\nAUTH PLAIN {}\r\n",
            B64.encode("\0alice\0secret")
        ),
        "the capabilities after TLS decide the login"
    );
    assert_eq!(out.events, vec![Ok(Event::StartTls), Ok(Event::LoggedIn)]);
}

#[test]
fn apop_needs_the_greetings_timestamp_and_sends_only_a_digest() {
    let without = script(&[b"+OK ready\r\n", b"+OK\r\n.\r\n"]);
    let out = in_every_chunking(
        options(Method::Apop, false),
        Script {
            plain: &without,
            tls: b"",
        },
    );
    assert_eq!(out.sent, "CAPA\r\n");
    assert_eq!(out.events, vec![Err(Error::NoApop)]);

    let mut o = options(Method::Apop, false);
    o.password = "tanstaaf".into();
    o.user = "mrose".into();
    let with = script(&[
        GREETING,
        b"+OK\r\n.\r\n",
        b"+OK maildrop has 2 messages\r\n",
    ]);
    let out = in_every_chunking(
        o,
        Script {
            plain: &with,
            tls: b"",
        },
    );
    assert_eq!(
        out.sent,
        "CAPA\r\nAPOP mrose c4c9334bac560ecc979e58001b3e22fb\r\n"
    );
    assert_eq!(out.events, vec![Ok(Event::LoggedIn)]);
}

/// RFC 7677 §3, with its client nonce passed in.
#[test]
fn scram_sha_256_end_to_end_with_the_rfcs_vectors() {
    let mut o = options(Method::Auto, false);
    o.user = "user".into();
    o.password = "pencil".into();
    let server_first =
        "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
    let server_final = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";
    let server = script(&[
        GREETING,
        b"+OK\r\nSASL PLAIN SCRAM-SHA-256\r\n.\r\n",
        format!("+ {}\r\n", B64.encode(server_first)).as_bytes(),
        format!("+ {}\r\n", B64.encode(server_final)).as_bytes(),
        b"+OK\r\n",
    ]);
    let out = in_every_chunking(
        o.clone(),
        Script {
            plain: &server,
            tls: b"",
        },
    );
    let client_final = "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=";
    assert_eq!(
        out.sent,
        format!(
            "CAPA\r\nAUTH SCRAM-SHA-256 {}\r\n{}\r\n\r\n",
            B64.encode("n,,n=user,r=rOprNGfwEbeRWgbNEkqO"),
            B64.encode(client_final)
        )
    );
    assert_eq!(out.events, vec![Ok(Event::LoggedIn)]);

    // The same server saying +OK without proving it knows the password.
    let unproven = script(&[
        GREETING,
        b"+OK\r\nSASL SCRAM-SHA-256\r\n.\r\n",
        format!("+ {}\r\n", B64.encode(server_first)).as_bytes(),
        b"+OK\r\n",
    ]);
    let out = in_every_chunking(
        o,
        Script {
            plain: &unproven,
            tls: b"",
        },
    );
    assert_eq!(
        out.events,
        vec![Err(Error::Sasl(SaslError::Unfinished("SCRAM-SHA-256")))]
    );
}

#[test]
fn refusals_are_told_apart_by_their_codes_and_never_repeat_the_password() {
    for (reply, refusal) in [
        ("-ERR [AUTH] bad password secret\r\n", Refusal::Credentials),
        ("-ERR no such user\r\n", Refusal::Credentials),
        ("-ERR [IN-USE] locked\r\n", Refusal::InUse),
        ("-ERR [LOGIN-DELAY] wait\r\n", Refusal::LoginDelay),
        ("-ERR [SYS/TEMP] offline\r\n", Refusal::Temporary),
        ("-ERR [SYS/PERM] disabled\r\n", Refusal::Permanent),
    ] {
        let server = script(&[GREETING, b"+OK\r\n.\r\n", b"+OK\r\n", reply.as_bytes()]);
        let out = in_every_chunking(
            options(Method::UserPass, false),
            Script {
                plain: &server,
                tls: b"",
            },
        );
        match &out.events[..] {
            [
                Err(Error::Refused {
                    refusal: r,
                    text,
                    mechanism: None,
                }),
            ] => {
                assert_eq!(*r, refusal, "{reply}");
                assert!(!text.contains("secret"), "{text}");
            }
            other => panic!("{reply}: {other:?}"),
        }
    }
    // A refused SASL mechanism other than PLAIN is named, for the hint.
    let server = script(&[
        GREETING,
        b"+OK\r\nSASL CRAM-MD5\r\n.\r\n",
        b"-ERR [AUTH] no\r\n",
    ]);
    let out = in_every_chunking(
        options(Method::Auto, false),
        Script {
            plain: &server,
            tls: b"",
        },
    );
    assert!(matches!(
        &out.events[..],
        [Err(Error::Refused {
            mechanism: Some(Mechanism::CramMd5),
            ..
        })]
    ));
}

#[test]
fn a_refusing_greeting_and_a_user_name_that_would_smuggle_a_command() {
    let out = in_every_chunking(
        options(Method::Auto, false),
        Script {
            plain: b"-ERR [SYS/TEMP] too busy\r\n",
            tls: b"",
        },
    );
    assert_eq!(
        out.events,
        vec![Err(Error::Greeting {
            code: Some(RespCode::SysTemp),
            text: "too busy".into()
        })]
    );
    assert_eq!(out.sent, "");

    let mut o = options(Method::Auto, false);
    o.user = "alice\r\nDELE 1".into();
    let server = script(&[GREETING, b"+OK\r\nUSER\r\n.\r\n"]);
    let out = in_every_chunking(
        o,
        Script {
            plain: &server,
            tls: b"",
        },
    );
    assert_eq!(out.sent, "CAPA\r\n", "nothing after CAPA");
    assert!(matches!(&out.events[..], [Err(Error::UnsafeArgument(_))]));
}

fn logged_in(now: Instant) -> Connection {
    let mut c = Connection::new(options(Method::UserPass, false), now);
    c.handle_input(
        &script(&[
            GREETING,
            b"+OK\r\nPIPELINING\r\n.\r\n",
            b"+OK\r\n",
            b"+OK\r\n",
        ]),
        now,
    );
    assert_eq!(c.poll_event(), Some(Ok(Event::LoggedIn)));
    let n = c.poll_transmit().len();
    c.consume_transmit(n);
    c
}

#[test]
fn each_reply_comes_back_with_the_command_it_answers() {
    let now = Instant::now();
    let mut c = logged_in(now);
    let stat = c.send(&Command::Stat, now).unwrap();
    let top = c
        .send(
            &Command::Top {
                message: 1,
                lines: 0,
            },
            now,
        )
        .unwrap();
    let dele = c.send(&Command::Dele(1), now).unwrap();
    assert_eq!(c.poll_transmit(), b"STAT\r\nTOP 1 0\r\nDELE 1\r\n");
    let wire = b"+OK 2 320\r\n+OK\r\nSubject: hi\r\n\r\n.\r\n-ERR [SYS/TEMP] not now\r\n";
    for piece in wire.chunks(3) {
        c.handle_input(piece, now);
    }
    let mut got = Vec::new();
    while let Some(Ok(Event::Reply(h, r))) = c.poll_event() {
        got.push((h, r.indicator, r.body));
    }
    assert_eq!(
        got,
        vec![
            (stat, Indicator::Ok, None),
            (top, Indicator::Ok, Some(b"Subject: hi\r\n\r\n".to_vec())),
            (dele, Indicator::Err, None),
        ]
    );
    assert_eq!(c.in_flight(), 0);
    assert_eq!(c.poll_timeout(), None, "nothing owed: no deadline");
    assert!(matches!(
        Connection::new(options(Method::Auto, false), now).send(&Command::Stat, now),
        Err(Error::NotReady)
    ));
}

#[test]
fn the_clocks_tell_silence_a_dropped_pipeline_and_a_trickle_apart() {
    let t0 = Instant::now();
    let timeout = Duration::from_secs(30);

    // Silence while one reply is owed.
    let mut c = logged_in(t0);
    c.send(&Command::Stat, t0).unwrap();
    assert_eq!(c.poll_timeout(), Some(t0 + timeout));
    c.handle_timeout(t0 + timeout - Duration::from_secs(1));
    assert_eq!(c.poll_event(), None, "not yet");
    // (Called late, as a busy machine does: still silence, not slowness.)
    c.handle_timeout(t0 + timeout + Duration::from_secs(5));
    assert_eq!(c.poll_event(), Some(Err(Error::Timeout { timeout })));

    // A few bytes, then silence: a stall, however slow the bytes were.
    let mut c = logged_in(t0);
    c.send(&Command::Retr(1), t0).unwrap();
    c.handle_input(b"+OK\r\nSub", t0 + Duration::from_millis(5));
    assert_eq!(
        c.poll_timeout(),
        Some(t0 + Duration::from_millis(5) + timeout)
    );
    c.handle_timeout(t0 + timeout + Duration::from_secs(3));
    assert_eq!(c.poll_event(), Some(Err(Error::Timeout { timeout })));

    // The first of two pipelined commands answered, not a byte of the second.
    let mut c = logged_in(t0);
    c.send(&Command::Stat, t0).unwrap();
    c.send(&Command::Noop, t0).unwrap();
    let t1 = t0 + Duration::from_secs(1);
    c.handle_input(b"+OK 0 0\r\n", t1);
    assert!(matches!(c.poll_event(), Some(Ok(Event::Reply(..)))));
    c.handle_timeout(t1 + timeout + Duration::from_secs(5));
    assert_eq!(
        c.poll_event(),
        Some(Err(Error::Unanswered {
            timeout,
            in_flight: 1
        }))
    );

    // A byte every 20 seconds: never silent for the timeout, yet too slow.
    let mut c = logged_in(t0);
    c.send(&Command::Retr(1), t0).unwrap();
    let mut now = t0;
    let mut failed = None;
    for b in b"+OK\r\nbody that never ends" {
        now += Duration::from_secs(20);
        if c.poll_timeout().is_some_and(|d| d <= now) {
            c.handle_timeout(now);
        }
        c.handle_input(&[*b], now);
        if let Some(e) = c.poll_event() {
            failed = Some(e);
            break;
        }
    }
    assert!(
        matches!(
            failed,
            Some(Err(Error::TooSlow {
                bytes: 1..=2,
                secs: 30..=45
            }))
        ),
        "given up once the reply took the timeout and came slower than MIN_RATE: {failed:?}"
    );
}

#[test]
fn time_the_caller_spent_away_is_not_the_servers_silence_nor_its_slowness() {
    let t0 = Instant::now();
    let timeout = Duration::from_secs(30);
    let s = Duration::from_secs;
    // Two RETRs pipelined; the first answered at t0 + 1 s, then the caller
    // hands it to the store, which takes 40 s on a loaded machine. The
    // second reply came meanwhile and waits in the socket.
    let mut c = logged_in(t0);
    c.send(&Command::Retr(1), t0).unwrap();
    c.send(&Command::Retr(2), t0).unwrap();
    c.handle_input(b"+OK\r\none\r\n.\r\n", t0 + s(1));
    assert!(matches!(c.poll_event(), Some(Ok(Event::Reply(..)))));
    let back = t0 + s(41);
    c.resume(t0 + s(1), back);
    assert_eq!(c.poll_timeout(), Some(back + timeout));
    c.handle_timeout(back);
    assert_eq!(c.poll_event(), None, "not silence: Pipit was away");
    // Its first bytes, read now: not a trickle either.
    c.handle_input(b"+OK\r\ntw", back);
    assert_eq!(c.poll_event(), None);
    c.handle_input(b"o\r\n.\r\n", back + Duration::from_millis(1));
    assert!(matches!(c.poll_event(), Some(Ok(Event::Reply(..)))));

    // A command sent while away is waited for from the moment the caller
    // is back to read.
    let mut c = logged_in(t0);
    c.send(&Command::Stat, t0 + s(10)).unwrap();
    c.resume(t0, t0 + s(12));
    assert_eq!(c.poll_timeout(), Some(t0 + s(12) + timeout));
    // Real silence after the caller is back is still a timeout.
    c.handle_timeout(t0 + s(12) + timeout);
    assert_eq!(c.poll_event(), Some(Err(Error::Timeout { timeout })));
}

// ---- OAuth2 access tokens: XOAUTH2 and OAUTHBEARER (RFC 7628) ----

/// A token of the length real ones have (a Microsoft one runs past 2 KB):
/// too long for the AUTH line, which RFC 5034 caps at 255 octets.
fn token() -> String {
    format!("eyJ0eXAiOiJKV1QifQ.{}.sig", "A".repeat(1500))
}

fn bearer(mechanism: Mechanism) -> Options {
    let mut o = options(Method::Sasl(mechanism), false);
    o.password = token();
    o
}

fn xoauth2_message() -> String {
    B64.encode(format!("user=alice\x01auth=Bearer {}\x01\x01", token()))
}

fn oauthbearer_message() -> String {
    B64.encode(format!(
        "n,a=alice,\x01host=pop.example.org\x01port=995\x01auth=Bearer {}\x01\x01",
        token()
    ))
}

const OFFERS_BOTH: &[u8] = b"+OK\r\nUSER\r\nSASL PLAIN XOAUTH2 OAUTHBEARER\r\n.\r\n";

#[test]
fn a_token_goes_in_a_step_of_its_own_after_the_servers_go_ahead() {
    for (mechanism, message) in [
        (Mechanism::XOAuth2, xoauth2_message()),
        (Mechanism::OAuthBearer, oauthbearer_message()),
    ] {
        // "+ " and a bare "+" are both a go-ahead.
        for go_ahead in [&b"+ \r\n"[..], b"+\r\n"] {
            let server = script(&[GREETING, OFFERS_BOTH, go_ahead, b"+OK Logged in.\r\n"]);
            let out = in_every_chunking(
                bearer(mechanism),
                Script {
                    plain: &server,
                    tls: b"",
                },
            );
            assert_eq!(
                out.sent,
                format!("CAPA\r\nAUTH {}\r\n{message}\r\n", mechanism.name())
            );
            assert_eq!(out.events, vec![Ok(Event::LoggedIn)]);
        }
    }
}

#[test]
fn a_refused_token_goes_through_the_failure_dance_to_a_refusal_that_names_it() {
    for (mechanism, message, error, answer, status) in [
        (
            Mechanism::XOAuth2,
            xoauth2_message(),
            r#"{"status":"401","schemes":"bearer","scope":"mail"}"#,
            "",
            "401",
        ),
        (
            Mechanism::OAuthBearer,
            oauthbearer_message(),
            r#"{"status":"invalid_token"}"#,
            "AQ==",
            "invalid_token",
        ),
    ] {
        let server = script(&[
            GREETING,
            OFFERS_BOTH,
            b"+ \r\n",
            format!("+ {}\r\n", B64.encode(error)).as_bytes(),
            b"-ERR [AUTH] Authentication failed.\r\n",
        ]);
        let out = in_every_chunking(
            bearer(mechanism),
            Script {
                plain: &server,
                tls: b"",
            },
        );
        assert_eq!(
            out.sent,
            format!(
                "CAPA\r\nAUTH {}\r\n{message}\r\n{answer}\r\n",
                mechanism.name()
            )
        );
        assert_eq!(
            out.events,
            vec![Err(Error::TokenRefused {
                mechanism,
                status: Some(status.into()),
                text: "Authentication failed.".into(),
            })]
        );
        let shown = out.events[0].as_ref().unwrap_err().to_string();
        assert!(!shown.contains(&token()[..40]), "{shown}");
    }
}

#[test]
fn a_token_refused_without_the_dance_is_refused_all_the_same() {
    let server = script(&[GREETING, OFFERS_BOTH, b"+ \r\n", b"-ERR [AUTH] expired\r\n"]);
    let out = in_every_chunking(
        bearer(Mechanism::XOAuth2),
        Script {
            plain: &server,
            tls: b"",
        },
    );
    assert_eq!(
        out.events,
        vec![Err(Error::TokenRefused {
            mechanism: Mechanism::XOAuth2,
            status: None,
            text: "expired".into(),
        })]
    );
    // -ERR with another code after the token keeps its meaning: wait, not sign in.
    let server = script(&[
        GREETING,
        OFFERS_BOTH,
        b"+ \r\n",
        b"-ERR [SYS/TEMP] auth backend down\r\n",
    ]);
    let out = in_every_chunking(
        bearer(Mechanism::OAuthBearer),
        Script {
            plain: &server,
            tls: b"",
        },
    );
    assert!(
        matches!(
            &out.events[..],
            [Err(Error::Refused {
                refusal: Refusal::Temporary,
                ..
            })]
        ),
        "{:?}",
        out.events
    );
}

#[test]
fn an_err_at_once_is_a_refusal_before_the_token_went() {
    for mechanism in [Mechanism::XOAuth2, Mechanism::OAuthBearer] {
        let server = script(&[
            GREETING,
            OFFERS_BOTH,
            b"-ERR [AUTH] Plaintext authentication disallowed\r\n",
        ]);
        let out = in_every_chunking(
            bearer(mechanism),
            Script {
                plain: &server,
                tls: b"",
            },
        );
        assert_eq!(out.sent, format!("CAPA\r\nAUTH {}\r\n", mechanism.name()));
        assert_eq!(
            out.events,
            vec![Err(Error::Refused {
                refusal: Refusal::Credentials,
                text: "Plaintext authentication disallowed".into(),
                mechanism: Some(mechanism),
            })]
        );
    }
}

#[test]
fn a_challenge_that_is_not_base64_is_refused_with_a_cancel() {
    // Instead of the go-ahead: the token never goes.
    let server = script(&[GREETING, OFFERS_BOTH, b"+ not*base64\r\n"]);
    let out = in_every_chunking(
        bearer(Mechanism::XOAuth2),
        Script {
            plain: &server,
            tls: b"",
        },
    );
    assert_eq!(out.sent, "CAPA\r\nAUTH XOAUTH2\r\n*\r\n");
    assert_eq!(out.events, vec![Err(Error::Sasl(SaslError::BadBase64))]);

    // Instead of the error after the token.
    let server = script(&[GREETING, OFFERS_BOTH, b"+ \r\n", b"+ {status:401}\r\n"]);
    let out = in_every_chunking(
        bearer(Mechanism::OAuthBearer),
        Script {
            plain: &server,
            tls: b"",
        },
    );
    assert_eq!(
        out.sent,
        format!(
            "CAPA\r\nAUTH OAUTHBEARER\r\n{}\r\n*\r\n",
            oauthbearer_message()
        )
    );
    assert_eq!(out.events, vec![Err(Error::Sasl(SaslError::BadBase64))]);
}

#[test]
fn a_server_that_asks_again_after_the_dance_is_cancelled() {
    let error = B64.encode(r#"{"status":"401"}"#);
    let server = script(&[
        GREETING,
        OFFERS_BOTH,
        b"+ \r\n",
        format!("+ {error}\r\n").as_bytes(),
        format!("+ {error}\r\n").as_bytes(),
    ]);
    let out = in_every_chunking(
        bearer(Mechanism::XOAuth2),
        Script {
            plain: &server,
            tls: b"",
        },
    );
    assert_eq!(
        out.sent,
        format!("CAPA\r\nAUTH XOAUTH2\r\n{}\r\n\r\n*\r\n", xoauth2_message())
    );
    assert_eq!(
        out.events,
        vec![Err(Error::Sasl(SaslError::TooManySteps("XOAUTH2")))]
    );

    // Nor is +OK believed after the server said the token was refused.
    let server = script(&[
        GREETING,
        OFFERS_BOTH,
        b"+ \r\n",
        format!("+ {error}\r\n").as_bytes(),
        b"+OK Logged in.\r\n",
    ]);
    let out = in_every_chunking(
        bearer(Mechanism::OAuthBearer),
        Script {
            plain: &server,
            tls: b"",
        },
    );
    assert_eq!(
        out.events,
        vec![Err(Error::Sasl(SaslError::Contradiction("OAUTHBEARER")))]
    );
}

#[test]
fn the_token_is_never_shown_even_when_the_server_repeats_it() {
    let message = xoauth2_message();
    let token = token();
    for reply in [
        format!("-ERR [AUTH] bad token {token}\r\n"),
        format!("-ERR [AUTH] you sent {message}\r\n"),
        format!(
            "+ {}\r\n-ERR [AUTH] {token}\r\n",
            B64.encode(format!(r#"{{"status":"{token}"}}"#))
        ),
        format!("-ERR [SYS/TEMP] {token} {message}\r\n"),
        format!("garbage {token}\r\n"),
    ] {
        let server = script(&[GREETING, OFFERS_BOTH, b"+ \r\n", reply.as_bytes()]);
        let out = run(
            bearer(Mechanism::XOAuth2),
            &Script {
                plain: &server,
                tls: b"",
            },
            7,
        );
        let [Err(e)] = &out.events[..] else {
            panic!("{reply}: {:?}", out.events)
        };
        let shown = format!("{e} {e:?}");
        // Any 20 characters of the token or its message would be too many.
        for secret in [&token, &message] {
            for piece in secret.as_bytes().chunks(20) {
                let piece = std::str::from_utf8(piece).unwrap();
                if piece.chars().all(|c| c == 'A') {
                    continue; // the filler repeats; its pieces prove nothing
                }
                assert!(!shown.contains(piece), "{piece} in {shown}");
            }
        }
        assert!(shown.contains("***"), "{shown}");
    }
    assert!(!format!("{:?}", bearer(Mechanism::XOAuth2)).contains(&token[..30]));
}

#[test]
fn a_token_goes_only_to_a_server_that_offers_its_mechanism() {
    for (capa, offered) in [
        (
            &b"+OK\r\nUSER\r\nSASL PLAIN LOGIN XOAUTH2\r\n.\r\n"[..],
            vec!["PLAIN".to_string(), "LOGIN".into(), "XOAUTH2".into()],
        ),
        (b"+OK\r\nUSER\r\n.\r\n", vec![]),
        (b"-ERR no CAPA here\r\n", vec![]),
        (
            b"+OK\r\nSASL PLAIN \x1b[2J\r\n.\r\n",
            vec!["PLAIN".into(), "[U+001B][2J".into()],
        ),
    ] {
        let server = script(&[GREETING, capa]);
        let out = in_every_chunking(
            bearer(Mechanism::OAuthBearer),
            Script {
                plain: &server,
                tls: b"",
            },
        );
        assert_eq!(out.sent, "CAPA\r\n", "nothing after CAPA");
        assert_eq!(
            out.events,
            vec![Err(Error::NotOffered {
                mechanism: Mechanism::OAuthBearer,
                offered: offered.clone(),
            })]
        );
        let text = out.events[0].as_ref().unwrap_err().to_string();
        assert!(text.contains("does not offer OAUTHBEARER"), "{text}");
        if offered.is_empty() {
            assert!(text.contains("lists no SASL mechanisms"), "{text}");
        } else {
            assert!(text.contains("it offers SASL PLAIN"), "{text}");
        }
    }
}

#[test]
fn a_token_never_goes_in_clear_to_another_machine() {
    let mut o = bearer(Mechanism::XOAuth2);
    o.cleartext_remote = true;
    let server = script(&[GREETING, OFFERS_BOTH]);
    let out = in_every_chunking(
        o,
        Script {
            plain: &server,
            tls: b"",
        },
    );
    assert_eq!(out.sent, "CAPA\r\n");
    assert_eq!(out.events, vec![Err(Error::TokenInClear)]);

    // Over STARTTLS, the capabilities after TLS decide, and the token goes.
    let mut o = bearer(Mechanism::XOAuth2);
    o.starttls = true;
    let plain = script(&[GREETING, b"+OK\r\nSTLS\r\n.\r\n", b"+OK begin TLS\r\n"]);
    let tls = script(&[OFFERS_BOTH, b"+ \r\n", b"+OK\r\n"]);
    let out = in_every_chunking(
        o,
        Script {
            plain: &plain,
            tls: &tls,
        },
    );
    assert_eq!(
        out.sent,
        format!(
            "CAPA\r\nSTLS\r\n[TLS]CAPA\r\nAUTH XOAUTH2\r\n{}\r\n",
            xoauth2_message()
        )
    );
    assert_eq!(out.events, vec![Ok(Event::StartTls), Ok(Event::LoggedIn)]);
}

#[test]
fn a_token_or_user_name_that_would_break_the_message_is_refused_unsent() {
    for (user, token, what) in [
        ("alice", "tok\r\nDELE 1", "access token"),
        ("alice", "tok\0x", "access token"),
        ("alice", "tok\x01auth=Bearer other", "access token"),
        ("alice\x01auth=Bearer x", "tok", "user name"),
        ("alice\nQUIT", "tok", "user name"),
    ] {
        let mut o = bearer(Mechanism::OAuthBearer);
        o.user = user.into();
        o.password = token.into();
        let server = script(&[GREETING, OFFERS_BOTH]);
        let out = in_every_chunking(
            o,
            Script {
                plain: &server,
                tls: b"",
            },
        );
        assert_eq!(out.sent, "CAPA\r\n", "{user:?} {token:?}");
        match &out.events[..] {
            [Err(Error::UnsafeArgument(e))] => assert_eq!(e.what, what),
            other => panic!("{user:?} {token:?}: {other:?}"),
        }
    }
}

#[test]
fn auto_logs_in_with_the_password_even_where_tokens_are_offered() {
    let server = script(&[
        GREETING,
        b"+OK\r\nUSER\r\nSASL XOAUTH2 OAUTHBEARER\r\n.\r\n",
        b"+OK\r\n",
        b"+OK\r\n",
    ]);
    let out = in_every_chunking(
        options(Method::Auto, false),
        Script {
            plain: &server,
            tls: b"",
        },
    );
    assert_eq!(out.sent, "CAPA\r\nUSER alice\r\nPASS secret\r\n");
}

#[test]
fn a_probe_reads_the_greeting_and_capabilities_and_sends_nothing_of_the_user() {
    let server = script(&[GREETING, b"+OK\r\nUSER\r\nSASL PLAIN\r\n.\r\n"]);
    let out = in_every_chunking(
        options(Method::Probe, false),
        Script {
            plain: &server,
            tls: b"",
        },
    );
    assert_eq!(out.sent, "CAPA\r\n");
    assert_eq!(out.events, vec![Ok(Event::Probed)]);
}

#[test]
fn a_starttls_probe_goes_through_tls_and_asks_again() {
    let server = script(&[GREETING, b"+OK\r\nSTLS\r\nUSER\r\n.\r\n", b"+OK go\r\n"]);
    let out = in_every_chunking(
        options(Method::Probe, true),
        Script {
            plain: &server,
            tls: b"+OK\r\nUSER\r\nSASL PLAIN SCRAM-SHA-256\r\n.\r\n",
        },
    );
    assert_eq!(out.sent, "CAPA\r\nSTLS\r\n[TLS]CAPA\r\n");
    assert_eq!(out.events, vec![Ok(Event::StartTls), Ok(Event::Probed)]);
}

#[test]
fn after_a_probe_only_quit_may_be_sent() {
    let now = Instant::now();
    let mut c = Connection::new(options(Method::Probe, false), now);
    c.handle_input(GREETING, now);
    c.handle_input(b"+OK\r\nUSER\r\n.\r\n", now);
    assert_eq!(c.poll_event(), Some(Ok(Event::Probed)));
    assert_eq!(c.send(&Command::Stat, now), Err(Error::NotReady));
    assert!(c.send(&Command::Quit, now).is_ok());
    c.handle_input(b"+OK bye\r\n", now);
    assert!(matches!(c.poll_event(), Some(Ok(Event::Reply(_, r))) if r.is_ok()));
}

#[test]
fn the_greeting_time_and_the_login_method_are_remembered() {
    let start = Instant::now();
    let later = start + Duration::from_millis(40);
    let mut c = Connection::new(options(Method::Auto, false), start);
    assert_eq!((c.greeted_at(), c.logged_in_with()), (None, None));
    c.handle_input(GREETING, later);
    assert_eq!(c.greeted_at(), Some(later));
    c.handle_input(b"+OK\r\nSASL PLAIN\r\n.\r\n", later);
    assert_eq!(c.logged_in_with(), None, "not before the login is over");
    c.handle_input(b"+OK welcome\r\n", later);
    assert_eq!(c.poll_event(), Some(Ok(Event::LoggedIn)));
    assert_eq!(c.logged_in_with(), Some(Method::Sasl(Mechanism::Plain)));
    assert_eq!(logged_in(start).logged_in_with(), Some(Method::UserPass));
}

// ---- Round trips: remembered capabilities and the login pipelined ----

/// A server answering line by line, each line the client sends taking the
/// next reply; returns the client's flights after the greeting (bursts it
/// sends before it must wait), all it sent, and the events.
fn converse(options: Options, replies: &[&[u8]]) -> (usize, String, Vec<Result<Event, Error>>) {
    let now = Instant::now();
    let mut c = Connection::new(options, now);
    let (mut sent, mut events) = (String::new(), Vec::new());
    let mut replies = replies.iter();
    c.handle_input(GREETING, now);
    let mut flights = 0;
    loop {
        while let Some(e) = c.poll_event() {
            events.push(e);
        }
        if events.iter().any(|e| matches!(e, Ok(Event::StartTls))) && !sent.contains("[TLS]") {
            c.tls_started(now);
            sent.push_str("[TLS]");
        }
        let out = c.poll_transmit().to_vec();
        c.consume_transmit(out.len());
        if out.is_empty() {
            break;
        }
        flights += 1;
        let text = String::from_utf8_lossy(&out).into_owned();
        let lines = text.matches("\r\n").count();
        sent.push_str(&text);
        let answer: Vec<u8> = replies
            .by_ref()
            .take(lines)
            .flat_map(|r| r.to_vec())
            .collect();
        c.handle_input(&answer, now);
    }
    (flights, sent, events)
}

const LISTING: [&[u8]; 3] = [
    b"+OK\r\nTOP\r\nUIDL\r\nPIPELINING\r\n.\r\n",
    b"+OK\r\n1 uid-1\r\n.\r\n",
    b"+OK\r\n1 120\r\n.\r\n",
];

fn remembering(method: Method, capa: &[u8]) -> Options {
    let mut o = options(method, false);
    o.known = Some(Capabilities::parse(capa));
    o.after_login = vec![Command::Capa, Command::Uidl(None), Command::List(None)];
    o
}

fn logged_in_with_listing(events: &[Result<Event, Error>]) -> bool {
    events.len() == 4
        && events[0] == Ok(Event::LoggedIn)
        && events[1..]
            .iter()
            .all(|e| matches!(e, Ok(Event::Reply(_, r)) if r.is_ok()))
}

#[test]
fn a_server_seen_before_takes_login_and_listing_in_one_flight() {
    let plain = B64.encode("\0alice\0secret");
    let dovecot = b"TOP\r\nUIDL\r\nUSER\r\nPIPELINING\r\nSASL PLAIN SCRAM-SHA-256\r\n";
    // PLAIN, as the account asks: one flight.
    let replies = [&b"+OK\r\n"[..], LISTING[0], LISTING[1], LISTING[2]];
    let (flights, sent, events) = converse(
        remembering(Method::Sasl(Mechanism::Plain), dovecot),
        &replies,
    );
    assert_eq!(
        sent,
        format!("AUTH PLAIN {plain}\r\nCAPA\r\nUIDL\r\nLIST\r\n")
    );
    assert_eq!(flights, 1);
    assert!(logged_in_with_listing(&events), "{events:?}");

    // Not seen before: CAPA first, then the same flight.
    let mut fresh = remembering(Method::Sasl(Mechanism::Plain), dovecot);
    fresh.known = None;
    let capa = b"+OK\r\nTOP\r\nUIDL\r\nPIPELINING\r\nSASL PLAIN\r\n.\r\n";
    let (flights, sent, events) = converse(
        fresh,
        &[&capa[..], replies[0], LISTING[0], LISTING[1], LISTING[2]],
    );
    assert_eq!(
        sent,
        format!("CAPA\r\nAUTH PLAIN {plain}\r\nCAPA\r\nUIDL\r\nLIST\r\n")
    );
    assert_eq!(flights, 2);
    assert!(logged_in_with_listing(&events), "{events:?}");

    // USER and PASS go together too.
    let replies = [
        &b"+OK\r\n"[..],
        b"+OK\r\n",
        LISTING[0],
        LISTING[1],
        LISTING[2],
    ];
    let (flights, sent, events) = converse(remembering(Method::UserPass, dovecot), &replies);
    assert_eq!(
        sent,
        "USER alice\r\nPASS secret\r\nCAPA\r\nUIDL\r\nLIST\r\n"
    );
    assert_eq!(flights, 1);
    assert!(logged_in_with_listing(&events), "{events:?}");

    // A server that did not pipeline last time: one command at a time.
    let replies = [&b"+OK\r\n"[..], b"+OK\r\n"];
    let (flights, sent, events) =
        converse(remembering(Method::UserPass, b"USER\r\nUIDL\r\n"), &replies);
    assert_eq!(sent, "USER alice\r\nPASS secret\r\n");
    assert_eq!(flights, 2);
    assert_eq!(events, vec![Ok(Event::LoggedIn)]);

    // Nor when pipelining is off for this server.
    let mut off = remembering(Method::UserPass, dovecot);
    off.pipeline = false;
    let (flights, _, _) = converse(off, &replies);
    assert_eq!(flights, 2);
}

#[test]
fn scram_costs_its_own_round_trips_and_no_more() {
    let mut o = remembering(Method::Auto, b"PIPELINING\r\nSASL PLAIN SCRAM-SHA-256\r\n");
    o.user = "user".into();
    o.password = "pencil".into();
    let server_first =
        "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
    let server_final = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=";
    let first = format!("+ {}\r\n", B64.encode(server_first));
    let last = format!("+ {}\r\n", B64.encode(server_final));
    let replies = [
        first.as_bytes(),
        last.as_bytes(),
        b"+OK\r\n",
        LISTING[0],
        LISTING[1],
        LISTING[2],
    ];
    let (flights, sent, events) = converse(o, &replies);
    assert!(sent.starts_with("AUTH SCRAM-SHA-256 "), "{sent}");
    assert!(sent.ends_with("\r\n\r\nCAPA\r\nUIDL\r\nLIST\r\n"), "{sent}");
    assert_eq!(
        flights, 3,
        "first, final, then the empty answer with the listing"
    );
    assert!(logged_in_with_listing(&events), "{events:?}");
}

#[test]
fn remembered_capabilities_never_make_the_login_weaker() {
    // The strongest mechanism remembered is PLAIN: the server may offer
    // more now, so it is asked.
    let replies = [&b"+OK\r\nSASL PLAIN\r\nPIPELINING\r\n.\r\n"[..], b"+OK\r\n"];
    let (_, sent, _) = converse(remembering(Method::Auto, b"SASL PLAIN\r\n"), &replies);
    assert!(sent.starts_with("CAPA\r\nAUTH PLAIN "), "{sent}");
    // Nor when it offered no SASL at all (USER/PASS).
    let (_, sent, _) = converse(remembering(Method::Auto, b"USER\r\n"), &replies);
    assert!(sent.starts_with("CAPA\r\n"), "{sent}");
    // An access token goes only where the mechanism was listed.
    let mut o = remembering(Method::Sasl(Mechanism::XOAuth2), b"SASL PLAIN\r\n");
    o.password = token();
    let (_, sent, events) = converse(o, &[b"+OK\r\nSASL PLAIN\r\n.\r\n"]);
    assert_eq!(sent, "CAPA\r\n");
    assert!(
        matches!(events[..], [Err(Error::NotOffered { .. })]),
        "{events:?}"
    );
}

#[test]
fn starttls_still_requires_stls_and_asks_capa_over_tls() {
    let mut o = remembering(
        Method::Sasl(Mechanism::Plain),
        b"STLS\r\nPIPELINING\r\nSASL PLAIN\r\n",
    );
    o.starttls = true;
    let capa = b"+OK\r\nPIPELINING\r\nSASL PLAIN\r\n.\r\n";
    let replies = [
        &b"+OK begin TLS\r\n"[..],
        capa,
        b"+OK\r\n",
        LISTING[0],
        LISTING[1],
        LISTING[2],
    ];
    let (flights, sent, events) = converse(o.clone(), &replies);
    assert!(
        sent.starts_with("STLS\r\n[TLS]CAPA\r\nAUTH PLAIN "),
        "STLS without CAPA first; CAPA over TLS before the login: {sent}"
    );
    assert_eq!(flights, 3);
    assert_eq!(events[0], Ok(Event::StartTls));
    assert!(logged_in_with_listing(&events[1..]), "{events:?}");

    // Remembered STLS, refused now: nothing more is sent.
    let (_, sent, events) = converse(o.clone(), &[b"-ERR not today\r\n"]);
    assert_eq!(sent, "STLS\r\n");
    assert_eq!(events, vec![Err(Error::StlsRefused("not today".into()))]);

    // Remembered without STLS: asked, as if never seen.
    o.known = Some(Capabilities::parse(b"SASL PLAIN\r\n"));
    let (_, sent, _) = converse(o, &[b"+OK\r\nSASL PLAIN\r\n.\r\n"]);
    assert_eq!(sent, "CAPA\r\n");
}

#[test]
fn a_remembered_mechanism_refused_is_asked_about_and_the_login_goes_on() {
    // SCRAM remembered; the server has dropped it (and pipelining).
    let o = remembering(Method::Auto, b"PIPELINING\r\nSASL PLAIN SCRAM-SHA-256\r\n");
    let replies = [
        &b"-ERR Unsupported authentication mechanism.\r\n"[..],
        b"+OK\r\nUSER\r\nSASL PLAIN\r\n.\r\n",
        b"+OK\r\n",
    ];
    let now = Instant::now();
    let mut c = Connection::new(o.clone(), now);
    c.handle_input(GREETING, now);
    assert!(c.capa_skipped());
    let (_, sent, events) = converse(o, &replies);
    let plain = B64.encode("\0alice\0secret");
    assert!(sent.starts_with("AUTH SCRAM-SHA-256 "), "{sent}");
    assert!(
        sent.ends_with(&format!("\r\nCAPA\r\nAUTH PLAIN {plain}\r\n")),
        "{sent}"
    );
    assert_eq!(
        events,
        vec![Ok(Event::LoggedIn)],
        "the listing is the caller's to send"
    );
    let mut c = Connection::new(remembering(Method::Auto, b"SASL SCRAM-SHA-256\r\n"), now);
    c.handle_input(GREETING, now);
    c.handle_input(replies[0], now);
    assert!(c.remembered_wrong() && !c.capa_skipped());

    // A wrong password later in the exchange is a refusal, not a retry.
    let mut o = remembering(Method::Auto, b"SASL SCRAM-SHA-256\r\n");
    o.user = "user".into();
    let server_first =
        "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
    let first = format!("+ {}\r\n", B64.encode(server_first));
    let (_, _, events) = converse(
        o,
        &[first.as_bytes(), b"-ERR [AUTH] Authentication failed.\r\n"],
    );
    assert!(
        matches!(
            events[..],
            [Err(Error::Refused {
                refusal: Refusal::Credentials,
                ..
            })]
        ),
        "{events:?}"
    );
}

#[test]
fn a_server_asking_for_more_behind_a_pipelined_login_stops_it() {
    // It ignored PLAIN's initial response: the CAPA behind may be taken
    // for the next step, so nothing more goes, and the caller tries again.
    let (_, sent, events) = converse(
        remembering(
            Method::Sasl(Mechanism::Plain),
            b"PIPELINING\r\nSASL PLAIN\r\n",
        ),
        &[b"+ \r\n"],
    );
    assert!(sent.ends_with("\r\nCAPA\r\nUIDL\r\nLIST\r\n"), "{sent}");
    assert_eq!(events, vec![Err(Error::PipelinedLogin)]);
}

#[test]
fn a_password_never_goes_behind_a_user_the_server_may_refuse() {
    // A server that pipelines but does not list USER (Dovecot refusing
    // plain-text logins does so): USER alone, and its -ERR stops the login
    // with the password unsent.
    let (_, sent, events) = converse(
        remembering(Method::UserPass, b"PIPELINING\r\nUIDL\r\n"),
        &[b"-ERR [AUTH] Plaintext authentication disallowed\r\n"],
    );
    assert_eq!(sent, "USER alice\r\n");
    assert!(!sent.contains("secret"));
    assert!(matches!(events.as_slice(), [Err(_)]), "{events:?}");

    // Plain text to another machine: the server's word on USER first, even
    // from a server that lists USER and pipelines.
    let mut remote = remembering(Method::UserPass, b"PIPELINING\r\nUSER\r\nUIDL\r\n");
    remote.cleartext_remote = true;
    let (_, sent, _) = converse(remote, &[b"-ERR no such user\r\n"]);
    assert_eq!(sent, "USER alice\r\n");
}

#[test]
fn an_access_token_is_sent_only_after_this_sessions_capa_lists_its_mechanism() {
    let known = Capabilities::parse(b"PIPELINING\r\nSASL XOAUTH2\r\n");
    assert!(!Connection::may_skip_capa(
        Method::Sasl(Mechanism::XOAuth2),
        &known
    ));
}
