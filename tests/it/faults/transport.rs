//! Cuts, silence and trickles, in plain text and under TLS: the connection breaks at any point, and nothing is lost or doubled.

use super::*;

#[test]
fn a_cut_in_the_middle_of_retr_stores_nothing_partial_and_deletes_nothing() {
    let messages = mail::varied(20);
    let faults = Faults {
        cut_retr_once: Some((7, 1500)),
        ..Faults::well_behaved()
    };
    let server = FakeServer::start(messages.clone(), faults);
    let pipit = Pipit::new();
    server.account_for(&pipit, "plain", &["--policy", "delete"]);

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
    server.assert_nothing_lost(&pipit, &messages);

    let report = pipit.fetch_ok();
    assert_eq!(report["deleted_on_server"], 20, "{report:#}");
    assert!(server.mailbox().is_empty());
    assert_eq!(pipit.all_raw(), sorted(messages.clone()));
    server.assert_nothing_lost(&pipit, &messages);
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
    server.account_for(&pipit, "plain", &["--policy", "delete"]);

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
    server.assert_nothing_lost(&pipit, &messages);
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
fn a_starttls_account_never_sends_credentials_to_a_server_without_stls() {
    let messages = mail::varied(2);
    let server = FakeServer::start(messages.clone(), Faults::well_behaved());
    let pipit = Pipit::new();
    server.account_for(&pipit, "starttls", &["--policy", "keep"]);
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
    server.account_for(&pipit, "starttls", &["--policy", "keep"]);
    let out = pipit.run(&["fetch"]);
    server.assert_nothing_lost(&pipit, &messages);
    assert_eq!(out.status.code(), Some(4), "{}", describe(&out));
    assert_eq!(
        server.sessions()[0],
        vec!["CAPA".to_string(), "STLS".to_string()]
    );
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
        server.account_for(&pipit, "starttls", &["--policy", "keep"]);
        let out = pipit.run(&["fetch"]);
        server.assert_nothing_lost(&pipit, &messages);
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

/// A store that stops taking messages for longer than the timeout (another
/// program holding its write lock; on a loaded machine, a slow fsync) is
/// not a server that stopped answering: the fetch waits for its store,
/// then reads what the server sent meanwhile, and finishes.
#[test]
fn a_store_slower_than_the_timeout_is_not_the_servers_silence() {
    let messages: Vec<Vec<u8>> = (0..120).map(|i| mail::sized(i, 100_000)).collect();
    let server = FakeServer::start(messages.clone(), Faults::well_behaved());
    let pipit = Pipit::new();
    pipit.add_account(
        server.port,
        "plain",
        &["--timeout", "1", "--policy", "keep"],
    );
    let fetch = pipit
        .command()
        .args(["fetch"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Once the downloads have begun, hold the store's write lock for 3 s.
    let start = std::time::Instant::now();
    while server.count("RETR") == 0 && start.elapsed() < std::time::Duration::from_secs(30) {
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    let db = crate::support::open_db(&pipit.store_path());
    db.busy_timeout(std::time::Duration::from_secs(30)).unwrap();
    db.execute_batch("BEGIN IMMEDIATE").unwrap();
    std::thread::sleep(std::time::Duration::from_secs(3));
    db.execute_batch("COMMIT").unwrap();
    let out = fetch.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    server.assert_nothing_lost(&pipit, &messages);
}
