//! Servers that work, oddly: bad bytes, duplicate UIDs, no UIDL or TOP, -ERR on some messages, pipelining that breaks.

use super::*;

#[test]
fn invalid_utf8_and_nul_bytes_are_stored_exactly_and_parsed_best_effort() {
    let odd = b"From: \xff\xfe <odd@example.org>\r\nSubject: caf\xe9 \x00 menu\r\n\r\nbody \x00\x01\xff bytes\r\n.leading dot\r\n".to_vec();
    let messages = vec![odd.clone()];
    let server = FakeServer::start(messages.clone(), Faults::well_behaved());
    let pipit = Pipit::new();
    server.account_for(&pipit, "plain", &["--policy", "keep"]);
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
    server.assert_nothing_lost(&pipit, &messages);
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
    server.account_for(&pipit, "plain", &["--policy", "keep"]);
    assert_eq!(pipit.fetch_ok()["downloaded"], 4);
    assert_eq!(pipit.all_raw(), sorted(messages.clone()));
    assert_eq!(pipit.fetch_ok()["downloaded"], 0);
    server.assert_nothing_lost(&pipit, &messages);
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
    server.account_for(&pipit, "plain", &["--policy", "keep"]);
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
    server.assert_nothing_lost(&pipit, &messages);
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
    server.account_for(&pipit, "plain", &["--policy", "delete"]);
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
    server.assert_nothing_lost(&pipit, &messages);

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
    server.assert_nothing_lost(&pipit, &messages);
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
    server.assert_nothing_lost(&pipit, &messages);

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
