//! What a real server will not do on demand: cuts, silence, lies, floods.
//! After each, nothing is lost, nothing is stored twice, nothing partial is
//! stored as complete, and no DELE went out for a message not yet stored.

use crate::support::fake::{FakeServer, Faults};
use crate::support::{Pipit, describe, invariant, mail, stderr};

/// Adds the test account for `server`, and has the server check every DELE
/// against this account's store as it arrives.
fn add(pipit: &Pipit, server: &FakeServer, security: &str, policy: &str) {
    pipit.add_account(
        server.port,
        security,
        &["--policy", policy, "--timeout", "5"],
    );
    server.check_deletes_against(&pipit.store_path());
}

fn sorted(mut v: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    v.sort();
    v
}

/// The invariant, plus: every DELE the server saw was for a durable message.
fn assert_nothing_lost(pipit: &Pipit, original: &[Vec<u8>], server: &FakeServer) {
    invariant::check(&pipit.store_path(), original, &server.mailbox());
    assert_eq!(server.violations(), Vec::<String>::new());
}

/// Runs `pipit args…` with its address space capped at 1 GiB: a server that
/// floods must meet bounded buffers, not an ever-growing heap.
fn run_capped(pipit: &Pipit, args: &[&str]) -> std::process::Output {
    let mut cmd = std::process::Command::new("sh");
    cmd.args([
        "-c",
        "ulimit -v 1048576 && exec \"$@\"",
        "sh",
        env!("CARGO_BIN_EXE_pipit"),
        "--home",
    ])
    .arg(pipit.home())
    .args(args)
    .env_remove("DBUS_SESSION_BUS_ADDRESS")
    .env("XDG_RUNTIME_DIR", pipit.home());
    cmd.output().unwrap()
}

/// Runs `fetch`; checks the invariant, the exit status and what stderr says.
fn fetch_fails(
    pipit: &Pipit,
    server: &FakeServer,
    messages: &[Vec<u8>],
    code: i32,
    says: &str,
) -> std::process::Output {
    let out = pipit.run(&["fetch"]);
    assert_nothing_lost(pipit, messages, server);
    assert_eq!(out.status.code(), Some(code), "{}", describe(&out));
    assert!(
        stderr(&out).contains(says),
        "expected {says:?}: {}",
        describe(&out)
    );
    out
}

fn commands_of(server: &FakeServer, session: usize, verb: &str) -> usize {
    server.sessions()[session]
        .iter()
        .filter(|c| c.starts_with(verb))
        .count()
}

#[test]
fn a_cut_in_the_middle_of_retr_stores_nothing_partial_and_deletes_nothing() {
    let messages = mail::varied(20);
    let faults = Faults {
        cut_retr_once: Some((7, 1500)),
        ..Faults::well_behaved()
    };
    let server = FakeServer::start(messages.clone(), faults);
    let pipit = Pipit::new();
    add(&pipit, &server, "plain", "delete");

    let (code, report) = pipit.fetch(&[]);
    assert_eq!(code, 5, "a cut connection is a network error: {report:#}");
    assert!(
        report["errors"][0]
            .as_str()
            .unwrap()
            .contains("closed the connection"),
        "{report:#}"
    );
    assert_eq!(
        commands_of(&server, 0, "DELE"),
        0,
        "no DELE before the bytes are durable"
    );
    assert_eq!(server.mailbox().len(), 20);
    assert_nothing_lost(&pipit, &messages, &server);

    let report = pipit.fetch_ok();
    assert_eq!(report["deleted_on_server"], 20, "{report:#}");
    assert!(server.mailbox().is_empty());
    assert_eq!(pipit.all_raw(), sorted(messages.clone()));
    assert_nothing_lost(&pipit, &messages, &server);
}

#[test]
fn a_session_cut_before_quit_is_answered_deletes_on_the_next_fetch_without_duplicates() {
    let messages = mail::varied(8);
    let faults = Faults {
        drop_quit_once: true,
        ..Faults::well_behaved()
    };
    let server = FakeServer::start(messages.clone(), faults);
    let pipit = Pipit::new();
    add(&pipit, &server, "plain", "delete");

    let (code, report) = pipit.fetch(&[]);
    assert_eq!(code, 5, "{report:#}");
    assert_eq!(commands_of(&server, 0, "DELE"), 8);
    assert_eq!(
        server.mailbox().len(),
        8,
        "no +OK to QUIT: the server deleted nothing"
    );
    assert_eq!(
        pipit.all_raw(),
        sorted(messages.clone()),
        "but everything is stored"
    );
    assert!(
        pipit.list().iter().all(|m| m["on_server"] == true),
        "and still counted as on the server"
    );

    let report = pipit.fetch_ok();
    assert_eq!(
        report["downloaded"], 0,
        "nothing downloaded twice: {report:#}"
    );
    assert_eq!(report["deleted_on_server"], 8);
    assert!(server.mailbox().is_empty());
    assert_eq!(pipit.list().len(), 8);
    assert_nothing_lost(&pipit, &messages, &server);
}

#[test]
fn a_starttls_account_never_sends_credentials_to_a_server_without_stls() {
    let messages = mail::varied(2);
    let server = FakeServer::start(messages.clone(), Faults::well_behaved());
    let pipit = Pipit::new();
    add(&pipit, &server, "starttls", "keep");
    fetch_fails(&pipit, &server, &messages, 4, "does not offer STLS");
    for session in server.sessions() {
        for c in session {
            assert!(
                !c.starts_with("USER")
                    && !c.starts_with("PASS")
                    && !c.starts_with("AUTH")
                    && !c.starts_with("APOP"),
                "sent {c:?}"
            );
        }
    }

    // A server that does not know CAPA is asked STLS once, refuses, and gets nothing more.
    let messages = mail::varied(2);
    let server = FakeServer::start(messages.clone(), Faults::default());
    let pipit = Pipit::new();
    add(&pipit, &server, "starttls", "keep");
    let out = pipit.run(&["fetch"]);
    assert_nothing_lost(&pipit, &messages, &server);
    assert_eq!(out.status.code(), Some(4), "{}", describe(&out));
    assert_eq!(
        server.sessions()[0],
        vec!["CAPA".to_string(), "STLS".to_string()]
    );
}

#[test]
fn an_endless_line_ends_in_a_protocol_error_with_bounded_memory() {
    let messages = mail::varied(2);
    let server = FakeServer::start(
        messages.clone(),
        Faults {
            endless_greeting: true,
            ..Faults::well_behaved()
        },
    );
    let pipit = Pipit::new();
    add(&pipit, &server, "plain", "keep");
    let out = run_capped(&pipit, &["fetch"]);
    assert_nothing_lost(&pipit, &messages, &server);
    assert_eq!(out.status.code(), Some(6), "{}", describe(&out));
    assert!(
        stderr(&out).contains("status line longer than"),
        "{}",
        describe(&out)
    );
}

#[test]
fn a_lying_size_and_an_endless_message_end_in_a_protocol_error_with_the_store_intact() {
    let messages = mail::varied(6);
    let faults = Faults {
        list_size: Some(100),
        endless_retr: Some(4),
        ..Faults::well_behaved()
    };
    let server = FakeServer::start(messages.clone(), faults);
    let pipit = Pipit::new();
    add(&pipit, &server, "plain", "delete");
    let out = run_capped(&pipit, &["fetch"]);
    assert_eq!(out.status.code(), Some(6), "{}", describe(&out));
    assert!(
        stderr(&out).contains("longer than the"),
        "{}",
        describe(&out)
    );
    assert_eq!(commands_of(&server, 0, "DELE"), 0);
    assert_nothing_lost(&pipit, &messages, &server);
    // The messages before the endless one are whole and kept; it is not.
    let endless = pipit
        .list()
        .into_iter()
        .find(|m| m["subject"] == "With attachment 3")
        .expect("listed by its headers");
    assert_eq!(
        endless["state"], "headers",
        "nothing partial stored as full"
    );

    // Without the flood, the lie about sizes does no harm.
    server.set_faults(Faults {
        list_size: Some(100),
        ..Faults::well_behaved()
    });
    assert_eq!(
        pipit.fetch_ok()["downloaded"],
        3,
        "the three the flood stopped"
    );
    assert_eq!(pipit.all_raw(), sorted(messages.clone()));
    assert_nothing_lost(&pipit, &messages, &server);
}

#[test]
fn invalid_utf8_and_nul_bytes_are_stored_exactly_and_parsed_best_effort() {
    let odd = b"From: \xff\xfe <odd@example.org>\r\nSubject: caf\xe9 \x00 menu\r\n\r\nbody \x00\x01\xff bytes\r\n.leading dot\r\n".to_vec();
    let messages = vec![odd.clone()];
    let server = FakeServer::start(messages.clone(), Faults::well_behaved());
    let pipit = Pipit::new();
    add(&pipit, &server, "plain", "keep");
    pipit.fetch_ok();
    let list = pipit.list();
    assert_eq!(list.len(), 1);
    assert!(
        list[0]["subject"].as_str().unwrap().starts_with("caf"),
        "{:?}",
        list[0]
    );
    assert_eq!(pipit.raw(list[0]["id"].as_i64().unwrap()), odd);
    let shown = pipit.ok(&["show", &list[0]["id"].to_string()]);
    assert!(String::from_utf8_lossy(&shown.stdout).contains("bytes"));
    assert_nothing_lost(&pipit, &messages, &server);
}

#[test]
fn duplicate_uids_never_hide_a_message() {
    let messages = mail::varied(4);
    let server = FakeServer::start(
        messages.clone(),
        Faults {
            same_uid: Some("same".into()),
            ..Faults::well_behaved()
        },
    );
    let pipit = Pipit::new();
    add(&pipit, &server, "plain", "keep");
    assert_eq!(pipit.fetch_ok()["downloaded"], 4);
    assert_eq!(pipit.all_raw(), sorted(messages.clone()));
    assert_eq!(pipit.fetch_ok()["downloaded"], 0);
    assert_nothing_lost(&pipit, &messages, &server);
}

#[test]
fn a_server_without_uidl_or_top_still_works() {
    let messages = mail::varied(5);
    let faults = Faults {
        no_uidl: true,
        no_top: true,
        capa: Some(vec!["USER".into()]),
        ..Faults::default()
    };
    let server = FakeServer::start(messages.clone(), faults);
    let pipit = Pipit::new();
    add(&pipit, &server, "plain", "keep");
    let report = pipit.fetch_ok();
    assert_eq!(report["downloaded"], 5, "{report:#}");
    let notes = report["accounts"][0]["notes"].to_string();
    assert!(notes.contains("no UIDL"), "{notes}");
    assert_eq!(pipit.all_raw(), sorted(messages.clone()));
    assert_eq!(
        pipit.fetch_ok()["downloaded"],
        0,
        "recognised again by header digest"
    );
    assert_nothing_lost(&pipit, &messages, &server);
}

#[test]
fn a_server_that_stops_answering_times_out() {
    use std::net::TcpListener;
    // Accepts and then says nothing at all.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let _hold = std::thread::spawn(move || {
        let conns: Vec<_> = listener.incoming().take(1).collect();
        std::thread::sleep(std::time::Duration::from_secs(10));
        drop(conns);
    });
    let pipit = Pipit::new();
    pipit.add_account(port, "plain", &["--timeout", "1"]);
    let out = pipit.run(&["fetch"]);
    assert_eq!(out.status.code(), Some(5), "{}", describe(&out));
    invariant::check(&pipit.store_path(), &[], &[]);
    assert!(
        stderr(&out).contains("did not answer within 1 seconds"),
        "{}",
        describe(&out)
    );
}

#[test]
fn refusals_are_told_apart_by_their_response_codes() {
    let cases = [
        ("-ERR [AUTH] invalid credentials", 3, "refused the login"),
        ("-ERR no such user or bad password", 3, "refused the login"),
        (
            "-ERR [IN-USE] mailbox locked by another session",
            1,
            "in use by another session",
        ),
        ("-ERR [SYS/TEMP] storage offline", 1, "temporary problem"),
        ("-ERR [SYS/PERM] account disabled", 1, "administrator"),
        (
            "-ERR [LOGIN-DELAY] wait 15 minutes between logins",
            1,
            "wait before logging in again",
        ),
    ];
    for (reply, code, says) in cases {
        let messages = mail::varied(1);
        let server = FakeServer::start(
            messages.clone(),
            Faults {
                pass_reply: Some(reply.into()),
                ..Faults::well_behaved()
            },
        );
        let pipit = Pipit::new();
        add(&pipit, &server, "plain", "keep");
        let out = fetch_fails(&pipit, &server, &messages, code, says);
        assert!(
            !stderr(&out).contains("secret"),
            "the password must not appear: {}",
            describe(&out)
        );
    }
}

#[test]
fn a_scram_server_that_never_proves_it_knows_the_password_is_not_trusted() {
    let messages = mail::varied(2);
    let server = FakeServer::start(
        messages.clone(),
        Faults {
            capa: Some(
                ["SASL SCRAM-SHA-256", "TOP", "UIDL", "PIPELINING"]
                    .map(String::from)
                    .to_vec(),
            ),
            scram_without_proof: true,
            ..Faults::well_behaved()
        },
    );
    let pipit = Pipit::new();
    add(&pipit, &server, "plain", "keep");
    fetch_fails(
        &pipit,
        &server,
        &messages,
        6,
        "without proving it knows the password",
    );
    for verb in ["UIDL", "LIST", "RETR"] {
        assert_eq!(
            commands_of(&server, 0, verb),
            0,
            "{verb} after an unproven login"
        );
    }
}

#[test]
fn a_password_with_a_line_break_is_refused_before_anything_is_sent() {
    let messages = mail::varied(2);
    let server = FakeServer::start(messages.clone(), Faults::well_behaved());
    let pipit = Pipit::new();
    // A password command whose output would smuggle a DELE onto the wire.
    pipit.add_account(
        server.port,
        "plain",
        &["--password-command", "printf 'secret\\r\\nDELE 1\\n'"],
    );
    let out = fetch_fails(
        &pipit,
        &server,
        &messages,
        1,
        "the password contains a line break",
    );
    assert!(
        stderr(&out).contains("nothing was sent"),
        "{}",
        describe(&out)
    );
    assert!(!stderr(&out).contains("DELE"), "{}", describe(&out));
    assert!(server.sessions().is_empty(), "not even connected");
}

#[test]
fn what_a_server_says_is_shown_without_the_password_or_its_control_characters() {
    let messages = mail::varied(1);
    let server = FakeServer::start(
        messages.clone(),
        Faults {
            pass_reply: Some(
                "-ERR [AUTH] password secret is wrong\u{1b}[2J\u{202e}txt.exe for alice".into(),
            ),
            ..Faults::well_behaved()
        },
    );
    let pipit = Pipit::new();
    add(&pipit, &server, "plain", "keep");
    let out = fetch_fails(&pipit, &server, &messages, 3, "password *** is wrong");
    let err = stderr(&out);
    assert!(!err.contains("secret"), "the password is shown: {err}");
    assert!(
        !err.contains('\u{1b}') && !err.contains('\u{202e}'),
        "a control character reaches the terminal: {err:?}"
    );
    assert!(err.contains("[U+001B][2J[U+202E]txt.exe"), "{err:?}");
}

#[test]
fn a_refusing_greeting_and_a_garbage_greeting() {
    let messages: Vec<Vec<u8>> = vec![];
    let server = FakeServer::start(
        messages.clone(),
        Faults {
            greeting: Some("-ERR [SYS/TEMP] too many connections".into()),
            ..Faults::well_behaved()
        },
    );
    let pipit = Pipit::new();
    add(&pipit, &server, "plain", "keep");
    let out = fetch_fails(&pipit, &server, &messages, 1, "too many connections");
    assert!(
        stderr(&out).contains("Try again later"),
        "{}",
        describe(&out)
    );

    let messages: Vec<Vec<u8>> = vec![];
    let server = FakeServer::start(
        messages.clone(),
        Faults {
            greeting: Some("SSH-2.0-OpenSSH_9.2".into()),
            ..Faults::well_behaved()
        },
    );
    let pipit = Pipit::new();
    add(&pipit, &server, "plain", "keep");
    fetch_fails(&pipit, &server, &messages, 6, "SSH-2.0");
}

#[test]
fn a_cancelled_fetch_keeps_what_it_stored_and_deletes_nothing() {
    use pipit::secrets::{Password, PasswordSource};
    use pipit::worker::{Event, Worker};
    let messages = mail::varied(30);
    let server = FakeServer::start(
        messages.clone(),
        Faults {
            retr_delay_ms: 50,
            ..Faults::well_behaved()
        },
    );
    let pipit = Pipit::new();
    add(&pipit, &server, "plain", "delete");
    let config = pipit::config::Config::load(&pipit.home().join("config.toml")).unwrap();
    let worker = Worker::spawn(pipit::paths::Paths::under(pipit.home()));
    worker.fetch(
        config.accounts[0].clone(),
        PasswordSource::Given(Password::new("secret".into())),
    );
    let result = loop {
        match worker
            .events()
            .recv_timeout(std::time::Duration::from_secs(20))
            .expect("the worker reports")
        {
            Event::Progress(pipit::sync::Progress::Headers { done: 30, .. }) => worker.cancel(),
            Event::Progress(_) => {}
            Event::Finished { result, .. } => break result,
        }
    };
    let err = result.expect_err("cancelled");
    assert!(err.to_string().contains("cancelled"), "{err}");
    assert_eq!(commands_of(&server, 0, "DELE"), 0);
    assert_eq!(server.mailbox().len(), 30);
    assert_eq!(
        pipit.list().len(),
        30,
        "the headers stored before the cancel stay"
    );
    assert_nothing_lost(&pipit, &messages, &server);
    drop(worker);
    // Whatever was whole before the cancel is kept; the next fetch brings the rest.
    let before = invariant::stored_messages(&pipit.store_path()).len();
    assert_eq!(
        pipit.fetch_ok()["downloaded"].as_u64(),
        Some(30 - before as u64)
    );
    assert_eq!(pipit.all_raw(), sorted(messages.clone()));
    assert!(server.mailbox().is_empty());
    assert_nothing_lost(&pipit, &messages, &server);
}

#[test]
fn the_dele_check_itself_catches_a_delete_of_something_not_stored() {
    let messages = mail::varied(2);
    let server = FakeServer::start(messages.clone(), Faults::well_behaved());
    let pipit = Pipit::new();
    add(&pipit, &server, "plain", "delete");
    // Point the check at an empty store: every DELE now looks premature.
    let elsewhere = Pipit::new();
    elsewhere.ok(&["list"]);
    server.check_deletes_against(&elsewhere.store_path());
    pipit.fetch_ok();
    assert_eq!(server.violations().len(), 2);
}

#[test]
fn a_server_trickling_one_byte_at_a_time_is_given_up_in_bounded_time() {
    let messages = mail::varied(1);
    let server = FakeServer::start(
        messages.clone(),
        Faults {
            trickle_ms: Some(250),
            ..Faults::well_behaved()
        },
    );
    let pipit = Pipit::new();
    pipit.add_account(server.port, "plain", &["--timeout", "1"]);
    fetch_fails(&pipit, &server, &messages, 5, "sends too slowly");
}

#[test]
fn a_list_of_ten_million_messages_is_refused_with_bounded_memory() {
    let messages = mail::varied(3);
    let server = FakeServer::start(
        messages.clone(),
        Faults {
            huge_list: true,
            ..Faults::well_behaved()
        },
    );
    let pipit = Pipit::new();
    add(&pipit, &server, "plain", "delete");
    let out = run_capped(&pipit, &["fetch"]);
    assert_eq!(out.status.code(), Some(6), "{}", describe(&out));
    assert!(
        stderr(&out).contains("longer than the"),
        "{}",
        describe(&out)
    );
    assert_nothing_lost(&pipit, &messages, &server);
}

#[test]
fn err_on_some_retrs_leaves_those_on_the_server_for_next_time() {
    let messages = mail::varied(10);
    let server = FakeServer::start(
        messages.clone(),
        Faults {
            retr_errors: vec!["uid-0003".into(), "uid-0007".into()],
            ..Faults::well_behaved()
        },
    );
    let pipit = Pipit::new();
    add(&pipit, &server, "plain", "delete");
    let (code, report) = pipit.fetch(&[]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(report["downloaded"], 8);
    assert_eq!(report["deleted_on_server"], 8);
    let errors = report["errors"].to_string();
    assert!(
        errors.contains("RETR 3 failed") && errors.contains("RETR 7 failed"),
        "{errors}"
    );
    assert_eq!(
        server.mailbox().len(),
        2,
        "the two unread ones stay on the server"
    );
    assert_nothing_lost(&pipit, &messages, &server);

    server.set_faults(Faults::well_behaved());
    let report = pipit.fetch_ok();
    assert_eq!(
        (
            report["downloaded"].as_u64(),
            report["deleted_on_server"].as_u64()
        ),
        (Some(2), Some(2)),
        "{report:#}"
    );
    assert!(server.mailbox().is_empty());
    assert_nothing_lost(&pipit, &messages, &server);
}

#[test]
fn a_server_that_closes_right_after_pass() {
    let messages = mail::varied(2);
    let server = FakeServer::start(
        messages.clone(),
        Faults {
            close_after_pass: true,
            ..Faults::well_behaved()
        },
    );
    let pipit = Pipit::new();
    add(&pipit, &server, "plain", "delete");
    fetch_fails(&pipit, &server, &messages, 5, "closed the connection");
}

#[test]
fn a_starttls_account_sends_no_credential_whatever_the_server_says_after_stls() {
    let stls_caps = Faults {
        capa: Some(["TOP", "UIDL", "USER", "STLS"].map(String::from).to_vec()),
        ..Faults::default()
    };
    // +OK to STLS with plaintext injected behind it; +OK and then no TLS at all.
    for extra in ["+OK injected before TLS", ""] {
        let messages = mail::varied(1);
        let server = FakeServer::start(
            messages.clone(),
            Faults {
                fake_stls: Some(extra.into()),
                ..stls_caps.clone()
            },
        );
        let pipit = Pipit::new();
        add(&pipit, &server, "starttls", "keep");
        let out = pipit.run(&["fetch"]);
        assert_nothing_lost(&pipit, &messages, &server);
        assert!(
            matches!(out.status.code(), Some(4 | 6)),
            "{extra:?}: {}",
            describe(&out)
        );
        for c in server.sessions().concat() {
            assert!(
                !["USER", "PASS", "AUTH", "APOP"]
                    .iter()
                    .any(|v| c.starts_with(v)),
                "{extra:?}: sent {c:?}"
            );
        }
    }
}

#[test]
fn a_server_that_breaks_under_pipelining_is_then_spoken_to_one_command_at_a_time() {
    let messages = mail::varied(12);
    let server = FakeServer::start(
        messages.clone(),
        Faults {
            drop_pipelined: true,
            ..Faults::well_behaved()
        },
    );
    let pipit = Pipit::new();
    pipit.add_account(
        server.port,
        "plain",
        &["--policy", "delete", "--timeout", "1"],
    );
    server.check_deletes_against(&pipit.store_path());
    let report = pipit.fetch_ok();
    assert_eq!(report["downloaded"], 12, "{report:#}");
    assert!(
        report["accounts"][0]["notes"]
            .to_string()
            .contains("one command at a time"),
        "{report:#}"
    );
    assert_nothing_lost(&pipit, &messages, &server);

    // Remembered: the next fetch does not try pipelining (or time out) again.
    server.set_faults(Faults {
        drop_pipelined: true,
        ..Faults::well_behaved()
    });
    let sessions_before = server.sessions().len();
    let report = pipit.fetch_ok();
    assert_eq!(
        server.sessions().len(),
        sessions_before + 1,
        "one session, no timeout and retry: {report:#}"
    );
}

#[test]
fn login_delay_is_honoured_without_connecting() {
    let caps = ["TOP", "UIDL", "USER", "LOGIN-DELAY 900"]
        .map(String::from)
        .to_vec();
    let messages = mail::varied(2);
    let server = FakeServer::start(
        messages.clone(),
        Faults {
            capa: Some(caps),
            ..Faults::default()
        },
    );
    let pipit = Pipit::new();
    add(&pipit, &server, "plain", "keep");
    assert_eq!(pipit.fetch_ok()["downloaded"], 2);
    assert_eq!(
        server.sessions().len(),
        1,
        "no second session when logins are rationed"
    );
    let out = pipit.run(&["fetch"]);
    assert_nothing_lost(&pipit, &messages, &server);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        stderr(&out).contains("one login every 900 seconds")
            && stderr(&out).contains("did not connect"),
        "{}",
        describe(&out)
    );
    assert_eq!(
        server.sessions().len(),
        1,
        "and no connection for the refused one"
    );
}

#[test]
fn two_fetches_of_one_account_at_once_one_refuses() {
    let messages = mail::varied(20);
    let server = FakeServer::start(
        messages.clone(),
        Faults {
            retr_delay_ms: 30,
            ..Faults::well_behaved()
        },
    );
    let pipit = Pipit::new();
    add(&pipit, &server, "plain", "delete");
    let first = pipit
        .command()
        .arg("fetch")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the first has logged in, then start the second.
    while server
        .sessions()
        .first()
        .is_none_or(|s| !s.iter().any(|c| c.starts_with("PASS")))
    {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let second = pipit.run(&["fetch"]);
    assert_eq!(second.status.code(), Some(1), "{}", describe(&second));
    assert!(
        stderr(&second).contains("being fetched by another Pipit"),
        "{}",
        describe(&second)
    );
    assert!(first.wait_with_output().unwrap().status.success());
    assert_nothing_lost(&pipit, &messages, &server);
    assert_eq!(invariant::stored_messages(&pipit.store_path()).len(), 20);
}

#[test]
fn several_accounts_fetch_side_by_side() {
    let a = FakeServer::start(
        mail::varied(6),
        Faults {
            retr_delay_ms: 40,
            ..Faults::well_behaved()
        },
    );
    let b = FakeServer::start(
        mail::varied(6),
        Faults {
            retr_delay_ms: 40,
            ..Faults::well_behaved()
        },
    );
    let pipit = Pipit::new();
    for (name, server) in [("a", &a), ("b", &b)] {
        pipit.ok(&[
            "account",
            "add",
            name,
            "--host",
            "127.0.0.1",
            "--port",
            &server.port.to_string(),
            "--security",
            "plain",
            "--user",
            "alice",
            "--password-command",
            "printf secret",
        ]);
    }
    let report = pipit.fetch_ok();
    assert_eq!(report["downloaded"], 12, "{report:#}");
    // Each logged in before the other said goodbye: the sessions overlapped.
    let moment = |server: &FakeServer, verb: &str| {
        server
            .timeline()
            .into_iter()
            .find(|(_, c)| c.starts_with(verb))
            .map(|(t, _)| t)
            .unwrap()
    };
    assert!(moment(&a, "PASS") < moment(&b, "QUIT") && moment(&b, "PASS") < moment(&a, "QUIT"));
}
