//! Greetings and logins: refusals told apart, credentials never shown nor smuggled, a server that must prove it knows the password.

use super::*;

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
        server.account_for(&pipit, "plain", &["--policy", "keep"]);
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
    server.account_for(&pipit, "plain", &["--policy", "keep"]);
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
    server.account_for(&pipit, "plain", &["--policy", "keep"]);
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
fn a_password_repeated_in_garbage_is_not_shown() {
    let messages = mail::varied(1);
    let server = FakeServer::start(
        messages.clone(),
        Faults {
            pass_raw: Some(b"your password secret is not the one\r\n".to_vec()),
            ..Faults::well_behaved()
        },
    );
    let pipit = Pipit::new();
    server.account_for(&pipit, "plain", &["--policy", "keep"]);
    let out = fetch_fails(
        &pipit,
        &server,
        &messages,
        6,
        "your password *** is not the one",
    );
    assert!(!stderr(&out).contains("secret"), "{}", describe(&out));
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
    server.account_for(&pipit, "plain", &["--policy", "keep"]);
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
    server.account_for(&pipit, "plain", &["--policy", "keep"]);
    fetch_fails(&pipit, &server, &messages, 6, "SSH-2.0");
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
    server.account_for(&pipit, "plain", &["--policy", "delete"]);
    fetch_fails(&pipit, &server, &messages, 5, "closed the connection");
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
    server.account_for(&pipit, "plain", &["--policy", "keep"]);
    assert_eq!(pipit.fetch_ok()["downloaded"], 2);
    assert_eq!(
        server.sessions().len(),
        1,
        "no second session when logins are rationed"
    );
    let out = pipit.run(&["fetch"]);
    server.assert_nothing_lost(&pipit, &messages);
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
