//! A server seen before is logged in by the capabilities it listed then:
//! when they have changed since, the fetch still completes, and what
//! changed is learnt again.

use super::*;

fn caps(lines: &[&str]) -> Option<Vec<String>> {
    Some(lines.iter().map(|l| l.to_string()).collect())
}

const PIPELINING: &[&str] = &["TOP", "UIDL", "USER", "PIPELINING", "RESP-CODES"];
const NO_PIPELINING: &[&str] = &["TOP", "UIDL", "USER", "RESP-CODES"];

/// A fetch (of nothing new) that must succeed, as session number `session`.
fn check(pipit: &Pipit, server: &FakeServer, session: usize) -> serde_json::Value {
    let report = pipit.fetch_ok();
    assert_eq!(server.sessions().len(), session + 1, "{report:#}");
    report
}

#[test]
fn a_server_that_stopped_pipelining_and_now_drops_what_is_pipelined() {
    let messages = mail::varied(6);
    let server = FakeServer::start(messages.clone(), Faults::well_behaved());
    let pipit = Pipit::new();
    pipit.add_account(server.port, "plain", &["--auth", "user", "--timeout", "1"]);
    server.check_deletes_against(&pipit.store_path());
    assert_eq!(pipit.fetch_ok()["downloaded"], 6);
    // Seen before: no CAPA, the login and the listing in one flight.
    check(&pipit, &server, 1);
    assert_eq!(server.sessions()[1][..2], ["USER alice", "PASS secret"]);
    assert!(server.pipelined(1) > 0);

    server.set_faults(Faults {
        capa: caps(NO_PIPELINING),
        drop_pipelined: true,
        ..Faults::default()
    });
    // The pipelined login goes unanswered: the same fetch tries again,
    // asking CAPA, one command at a time.
    let report = pipit.fetch_ok();
    assert!(
        report["accounts"][0]["notes"]
            .to_string()
            .contains("one command at a time"),
        "{report:#}"
    );
    let sessions = server.sessions();
    assert_eq!(sessions.len(), 4, "{sessions:?}");
    assert_eq!(sessions[3][0], "CAPA", "{sessions:?}");
    assert_eq!(server.pipelined(3), 0);
    server.assert_nothing_lost(&pipit, &messages);

    // Learnt: the next fetch neither pipelines nor waits for a timeout.
    check(&pipit, &server, 4);
    assert_eq!(server.pipelined(4), 0);
}

#[test]
fn a_server_that_no_longer_lists_pipelining_is_asked_again_next_time() {
    let messages = mail::varied(3);
    let server = FakeServer::start(messages.clone(), Faults::well_behaved());
    let pipit = Pipit::new();
    server.account_for(&pipit, "plain", &["--auth", "user", "--policy", "delete"]);
    pipit.fetch_ok();
    // It takes what is pipelined all the same, but lists no PIPELINING
    // after the login: what was remembered is forgotten…
    server.set_faults(Faults {
        capa: caps(NO_PIPELINING),
        ..Faults::default()
    });
    check(&pipit, &server, 1);
    assert_ne!(server.sessions()[1][0], "CAPA");
    // …so the next session asks, and sends one command at a time.
    check(&pipit, &server, 2);
    assert_eq!(server.sessions()[2][0], "CAPA");
    assert_eq!(server.pipelined(2), 0);
    check(&pipit, &server, 3);
    assert_eq!(server.pipelined(3), 0, "{:?}", server.sessions()[3]);
    server.assert_nothing_lost(&pipit, &messages);
}

#[test]
fn a_sasl_mechanism_the_server_dropped_is_asked_about_in_the_same_session() {
    let messages = mail::varied(4);
    let mut with_scram = PIPELINING.to_vec();
    with_scram.push("SASL SCRAM-SHA-256 PLAIN");
    let server = FakeServer::start(
        messages.clone(),
        Faults {
            capa: caps(&with_scram),
            ..Faults::default()
        },
    );
    let pipit = Pipit::new();
    // Seen with SCRAM-SHA-256 (logged in with PLAIN, as the account asked).
    server.account_for(&pipit, "plain", &["--auth", "plain"]);
    assert_eq!(pipit.fetch_ok()["downloaded"], 4);
    pipit.ok(&["account", "edit", "lab", "--auth", "auto"]);

    // SCRAM-SHA-256 is gone now: refused at once, so Pipit asks CAPA and
    // logs in with the best left, in the same session.
    let mut plain_only = PIPELINING.to_vec();
    plain_only.push("SASL PLAIN");
    server.set_faults(Faults {
        capa: caps(&plain_only),
        ..Faults::default()
    });
    check(&pipit, &server, 1);
    let session = &server.sessions()[1];
    assert!(session[0].starts_with("AUTH SCRAM-SHA-256 "), "{session:?}");
    assert_eq!(session[1], "CAPA", "{session:?}");
    assert!(session[2].starts_with("AUTH PLAIN "), "{session:?}");
    // Learnt: PLAIN is the best it offers, so the next session asks first
    // (it may offer more again), and is never weaker for having remembered.
    check(&pipit, &server, 2);
    let session = &server.sessions()[2];
    assert_eq!(session[0], "CAPA", "{session:?}");
    assert!(session[1].starts_with("AUTH PLAIN "), "{session:?}");
    server.assert_nothing_lost(&pipit, &messages);
}

#[test]
fn remembered_capabilities_are_never_another_servers() {
    let messages = mail::varied(2);
    let mut with_scram = PIPELINING.to_vec();
    with_scram.push("SASL SCRAM-SHA-256 PLAIN");
    let first = FakeServer::start(
        messages.clone(),
        Faults {
            capa: caps(&with_scram),
            ..Faults::default()
        },
    );
    let pipit = Pipit::new();
    first.account_for(&pipit, "plain", &["--auth", "plain"]);
    pipit.fetch_ok();
    // The account moves to another server (another port): asked afresh.
    let second = FakeServer::start(messages.clone(), Faults::well_behaved());
    pipit.ok(&[
        "account",
        "edit",
        "lab",
        "--port",
        &second.port.to_string(),
        "--auth",
        "auto",
    ]);
    pipit.fetch_ok();
    assert_eq!(second.sessions()[0][0], "CAPA", "{:?}", second.sessions());
}

#[test]
fn a_server_that_refuses_what_came_behind_the_login_is_asked_one_command_at_a_time() {
    let messages = mail::varied(5);
    let server = FakeServer::start(
        messages.clone(),
        Faults {
            refuse_early: true,
            ..Faults::well_behaved()
        },
    );
    let pipit = Pipit::new();
    server.account_for(&pipit, "plain", &["--auth", "user", "--policy", "delete"]);
    let report = pipit.fetch_ok();
    assert_eq!(report["downloaded"], 5, "{report:#}");
    assert!(
        report["accounts"][0]["notes"]
            .to_string()
            .contains("asked again one command at a time"),
        "{report:#}"
    );
    assert_eq!(server.sessions().len(), 1, "in the same session");
    server.assert_nothing_lost(&pipit, &messages);
    // Learnt: nothing is pipelined next time.
    check(&pipit, &server, 1);
    assert_eq!(server.pipelined(1), 0, "{:?}", server.sessions()[1]);
}
