//! A message is who it is, not where its UID points: UIDs that repeat,
//! change (a mailbox that moved) or break never make Pipit delete a message
//! it has not stored, nor store one twice. Against the scripted server,
//! which checks every DELE against the store as it arrives.

use crate::support::fake::{FakeServer, Faults};
use crate::support::{Pipit, describe, mail};

/// A message of about `body` bytes, with a subject of its own.
fn message(subject: &str, body: usize) -> Vec<u8> {
    let mut m = format!(
        "From: Ana <ana@example.org>\r\nTo: alice@example.net\r\nSubject: {subject}\r\n\
Message-ID: <{subject}@example.org>\r\nDate: Mon, 2 Nov 2026 10:00:00 +0000\r\n\r\n"
    )
    .into_bytes();
    while m.len() < body {
        m.extend_from_slice(b"All work and no play makes a dull message.\r\n");
    }
    m
}

fn uids(mailbox: &[(&str, &[u8])]) -> Vec<(String, Vec<u8>)> {
    mailbox
        .iter()
        .map(|(u, m)| (u.to_string(), m.to_vec()))
        .collect()
}

fn id_of(pipit: &Pipit, subject: &str) -> i64 {
    pipit
        .list()
        .iter()
        .find(|m| m["subject"] == subject)
        .unwrap_or_else(|| panic!("no message {subject:?} in the store"))["id"]
        .as_i64()
        .unwrap()
}

/// The report's first account, for fields the summary sums.
fn fetch(pipit: &Pipit) -> serde_json::Value {
    pipit.fetch_ok()
}

/// The data-loss report: a small and a large message under one UID, the
/// large one over the size limit, and an account that deletes what it
/// stores. The small one is stored and deleted; the large one is never
/// deleted, in any later fetch.
fn a_repeated_uid_never_deletes_the_large_message_kept_as_headers(policy: &[&str]) {
    let small = message("small", 300);
    let large = message("large", 20_000);
    let server = FakeServer::start_with_uids(
        uids(&[("X", &small), ("X", &large)]),
        Faults::well_behaved(),
    );
    let pipit = Pipit::new();
    let mut extra = vec!["--max-size", "5000"];
    extra.extend_from_slice(policy);
    server.account_for(&pipit, "plain", &extra);
    let originals = vec![small.clone(), large.clone()];

    let mut report = fetch(&pipit);
    if policy == ["--policy", "keep"] {
        // The user deletes the small one here: it goes on the next fetch.
        pipit.ok(&["delete", &id_of(&pipit, "small").to_string()]);
        report = fetch(&pipit);
    }
    assert_eq!(report["deleted_on_server"], 1, "{report:#}");
    assert_eq!(server.mailbox(), vec![large.clone()]);
    for _ in 0..2 {
        let again = fetch(&pipit);
        assert_eq!(again["deleted_on_server"], 0, "{again:#}");
        assert_eq!(server.mailbox(), vec![large.clone()], "the large one stays");
    }
    let list = pipit.list();
    let kept = list.iter().find(|m| m["subject"] == "large").unwrap();
    assert_eq!(kept["state"], "headers");
    assert_eq!(kept["on_server"], true);
    server.assert_nothing_lost(&pipit, &originals);
}

#[test]
fn a_repeated_uid_never_deletes_what_was_not_downloaded_with_policy_delete() {
    a_repeated_uid_never_deletes_the_large_message_kept_as_headers(&["--policy", "delete"]);
}

#[test]
fn a_repeated_uid_never_deletes_what_was_not_downloaded_with_keep_days_0() {
    a_repeated_uid_never_deletes_the_large_message_kept_as_headers(&["--policy", "keep-days:0"]);
}

#[test]
fn a_repeated_uid_never_deletes_what_was_not_downloaded_when_the_user_deletes() {
    a_repeated_uid_never_deletes_the_large_message_kept_as_headers(&["--policy", "keep"]);
}

#[test]
fn an_err_on_the_second_copy_under_a_uid_keeps_it_on_the_server_until_it_is_stored() {
    let first = message("first", 300);
    let second = message("second", 400);
    let server = FakeServer::start_with_uids(
        uids(&[("X", &first), ("X", &second)]),
        Faults {
            retr_errors_of: vec![second.clone()],
            ..Faults::well_behaved()
        },
    );
    let pipit = Pipit::new();
    server.account_for(&pipit, "plain", &["--policy", "delete"]);
    let originals = vec![first.clone(), second.clone()];
    let report = fetch(&pipit);
    assert_eq!(report["deleted_on_server"], 1, "{report:#}");
    assert!(report.to_string().contains("RETR 2 failed"), "{report:#}");
    let again = fetch(&pipit);
    assert_eq!(again["deleted_on_server"], 0, "{again:#}");
    assert_eq!(server.mailbox(), vec![second.clone()]);
    server.assert_nothing_lost(&pipit, &originals);

    // Once the server lets it be read, it is stored, then deleted.
    server.set_faults(Faults::well_behaved());
    let last = fetch(&pipit);
    assert_eq!(
        (
            last["downloaded"].as_u64(),
            last["deleted_on_server"].as_u64()
        ),
        (Some(1), Some(1)),
        "{last:#}"
    );
    assert!(server.mailbox().is_empty());
    server.assert_nothing_lost(&pipit, &originals);
}

#[test]
fn without_uidl_identical_header_blocks_are_told_apart_by_size() {
    // One header block, two bodies: a digest of the headers alone is one
    // identity for two messages.
    let head = "From: Ana <ana@example.org>\r\nSubject: same\r\n\r\n";
    let small = format!("{head}short\r\n").into_bytes();
    let large = format!("{head}{}", "long line of text\r\n".repeat(1000)).into_bytes();
    let server = FakeServer::start(
        vec![small.clone(), large.clone()],
        Faults {
            no_uidl: true,
            ..Faults::well_behaved()
        },
    );
    let pipit = Pipit::new();
    server.account_for(
        &pipit,
        "plain",
        &["--policy", "delete", "--max-size", "5000"],
    );
    let originals = vec![small.clone(), large.clone()];
    assert_eq!(fetch(&pipit)["deleted_on_server"], 1);
    for _ in 0..2 {
        assert_eq!(fetch(&pipit)["deleted_on_server"], 0);
        assert_eq!(server.mailbox(), vec![large.clone()]);
    }
    server.assert_nothing_lost(&pipit, &originals);
}

#[test]
fn a_mailbox_under_new_uids_is_linked_not_downloaded_again() {
    let messages = mail::varied(30);
    let server = FakeServer::start(messages.clone(), Faults::well_behaved());
    let pipit = Pipit::new();
    server.account_for(
        &pipit,
        "plain",
        &["--policy", "keep", "--max-size", "20000"],
    );
    let first = fetch(&pipit);
    let headers_only = first["headers_only"].as_u64().unwrap();
    assert!(headers_only > 0, "some are over the limit: {first:#}");
    let retrs_before = server.count("RETR");

    // The provider moves the mailbox: every UID changes.
    server.renumber(|i, _| format!("moved-{i}"));
    let moved = fetch(&pipit);
    assert_eq!(
        server.count("RETR"),
        retrs_before,
        "no message downloaded again"
    );
    assert_eq!(moved["new"], 0, "{moved:#}");
    assert_eq!(moved["linked"], 30, "{moved:#}");
    assert_eq!(pipit.list().len(), 30, "each message once");
    assert!(pipit.list().iter().all(|m| m["on_server"] == true));
    server.assert_nothing_lost(&pipit, &messages);

    // And the fetch after that is an ordinary one.
    let tops = server.count("TOP");
    let after = fetch(&pipit);
    assert_eq!(
        (after["new"].as_u64(), after["linked"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(server.count("TOP"), tops, "nothing to look at any more");
}

#[test]
fn a_server_that_repairs_its_duplicate_uids_costs_no_second_download() {
    let messages = mail::varied(6);
    let server = FakeServer::start_with_uids(
        messages
            .iter()
            .map(|m| ("dup".to_string(), m.clone()))
            .collect(),
        Faults::well_behaved(),
    );
    let pipit = Pipit::new();
    server.account_for(&pipit, "plain", &["--policy", "keep"]);
    assert_eq!(fetch(&pipit)["downloaded"], 6);
    let retrs = server.count("RETR");
    server.renumber(|i, _| format!("fixed-{i}"));
    let report = fetch(&pipit);
    assert_eq!(report["linked"], 6, "{report:#}");
    assert_eq!(server.count("RETR"), retrs);
    assert_eq!(pipit.all_raw().len(), 6);
    server.assert_nothing_lost(&pipit, &messages);
}

#[test]
fn uids_rfc_1939_does_not_allow_block_nothing() {
    let messages = mail::varied(4);
    let odd = [
        "a".repeat(100),                // longer than RFC 1939 allows, but usable
        "b".repeat(600),                // too long to be a UID
        "with\u{1}control".to_string(), // a byte outside 0x21-0x7E
        "fine".to_string(),
    ];
    let server = FakeServer::start_with_uids(
        odd.iter().cloned().zip(messages.iter().cloned()).collect(),
        Faults::well_behaved(),
    );
    let pipit = Pipit::new();
    server.account_for(&pipit, "plain", &["--policy", "delete"]);
    let report = fetch(&pipit);
    assert_eq!(report["downloaded"], 4, "{report:#}");
    assert_eq!(report["deleted_on_server"], 4, "{report:#}");
    let said = report.to_string();
    assert!(said.contains("UIDL gave message 2"), "{report:#}");
    assert!(
        said.contains("told apart by a digest of their headers"),
        "{report:#}"
    );
    assert!(server.mailbox().is_empty());
    server.assert_nothing_lost(&pipit, &messages);
}

#[test]
fn a_headers_only_message_that_left_the_server_is_marked_so() {
    let large = message("large", 20_000);
    let small = message("small", 300);
    let server = FakeServer::start(vec![small.clone(), large.clone()], Faults::well_behaved());
    let pipit = Pipit::new();
    server.account_for(&pipit, "plain", &["--policy", "keep", "--max-size", "5000"]);
    fetch(&pipit);
    let id = id_of(&pipit, "large");

    // Someone deletes it with another client.
    server.delete_elsewhere(1);
    fetch(&pipit);

    let row = pipit
        .list()
        .into_iter()
        .find(|m| m["id"] == id)
        .expect("its headers stay");
    assert_eq!(row["state"], "headers");
    assert_eq!(row["on_server"], false, "{row}");
    let out = pipit.run(&["preview", &id.to_string()]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("no longer on the server"),
        "{}",
        describe(&out)
    );
}

#[test]
fn a_mailbox_moved_to_another_dovecot_is_remapped_without_a_single_retr() {
    use crate::support::dovecot::Dovecot;
    let messages = mail::varied(40);
    let old = Dovecot::start(&messages);
    // The same mail under UIDs of another shape: a provider's migration.
    let new = Dovecot::start_with_uidl_format(&messages, "moved-%08Xu%08Xv");
    let pipit = Pipit::new();
    let cert = old.cert();
    pipit.add_account(
        old.tls_port,
        "tls",
        &["--ca-file", cert.to_str().unwrap(), "--policy", "keep"],
    );
    assert_eq!(pipit.fetch_ok()["downloaded"], 40);
    assert!(
        old.retrieved() >= 40,
        "Dovecot's log counts RETRs:\n{}",
        old.log()
    );

    // The account now points at the new server; its mail stays.
    let cert = new.cert();
    let edit = pipit.ok(&[
        "account",
        "edit",
        "lab",
        "--port",
        &new.tls_port.to_string(),
        "--ca-file",
        cert.to_str().unwrap(),
    ]);
    assert!(
        String::from_utf8_lossy(&edit.stderr).contains("without downloading them again"),
        "{}",
        describe(&edit)
    );
    let report = pipit.fetch_ok();
    assert_eq!(report["linked"], 40, "{report:#}");
    assert_eq!(report["new"], 0, "{report:#}");
    assert_eq!(
        new.retrieved(),
        0,
        "not one message sent again:\n{}",
        new.log()
    );
    assert_eq!(pipit.list().len(), 40, "each message once");
    let mut all = messages.clone();
    all.sort();
    assert_eq!(pipit.all_raw(), all);
}

#[test]
fn a_look_alike_of_a_message_deleted_here_is_never_deleted_unread_after_a_move() {
    // One header block, one size, two bodies: look-alikes, both over the
    // size limit, so both kept as headers only.
    let head =
        "From: Ana <ana@example.org>\r\nSubject: same\r\nMessage-ID: <same@example.org>\r\n\r\n";
    let first = format!("{head}{}", "a".repeat(20_000)).into_bytes();
    let second = format!("{head}{}", "b".repeat(20_000)).into_bytes();
    let server = FakeServer::start_with_uids(
        uids(&[("u1", &first), ("u2", &second)]),
        Faults::well_behaved(),
    );
    let pipit = Pipit::new();
    pipit.add_account(
        server.port,
        "plain",
        &["--policy", "keep", "--max-size", "5000", "--timeout", "5"],
    );
    fetch(&pipit);
    // The user deletes the first (by its own UID and headers it goes).
    let mut ids: Vec<i64> = pipit
        .list()
        .iter()
        .map(|m| m["id"].as_i64().unwrap())
        .collect();
    ids.sort();
    pipit.ok(&["delete", &ids[0].to_string()]);
    assert_eq!(fetch(&pipit)["deleted_on_server"], 1);
    assert_eq!(server.mailbox(), vec![second.clone()]);

    // The mailbox moves. The second, under a new UID, looks like the first,
    // which the user deleted: that is no reason to delete it.
    server.renumber(|i, _| format!("moved-{i}"));
    for _ in 0..2 {
        let report = fetch(&pipit);
        assert_eq!(report["deleted_on_server"], 0, "{report:#}");
        assert_eq!(server.mailbox(), vec![second.clone()]);
    }
}

#[test]
fn a_server_whose_top_is_not_its_retr_has_each_message_stored_once() {
    let messages = mail::varied(4);
    for no_uidl in [false, true] {
        let server = FakeServer::start(
            messages.clone(),
            Faults {
                no_uidl,
                top_extra: Some("X-Top: a line RETR does not have".into()),
                ..Faults::well_behaved()
            },
        );
        let pipit = Pipit::new();
        server.account_for(&pipit, "plain", &["--policy", "keep"]);
        for _ in 0..3 {
            fetch(&pipit);
        }
        assert_eq!(
            server.count("RETR"),
            4,
            "no UIDL: {no_uidl}: each downloaded once"
        );
        let list = pipit.list();
        assert_eq!(
            list.len(),
            4,
            "no UIDL: {no_uidl}: each listed once: {list:#?}"
        );
        assert!(
            list.iter()
                .all(|m| m["state"] == "full" && m["on_server"] == true)
        );
        server.assert_nothing_lost(&pipit, &messages);
    }
}

#[test]
fn one_message_past_every_bound_is_set_aside_and_the_others_come() {
    let messages = mail::varied(4);
    let server = FakeServer::start(
        messages.clone(),
        Faults {
            endless_retr: Some(2),
            ..Faults::well_behaved()
        },
    );
    let pipit = Pipit::new();
    server.account_for(&pipit, "plain", &["--policy", "delete"]);
    let (code, first) = pipit.fetch(&[]);
    assert_eq!(code, 6, "{first:#}");
    let said = first.to_string();
    assert!(said.contains("longer than the"), "{first:#}");
    server.assert_nothing_lost(&pipit, &messages);

    // The next fetch gets the others; that one stays, named.
    let report = fetch(&pipit);
    assert_eq!(report["deleted_on_server"], 3, "{report:#}");
    assert_eq!(server.mailbox(), vec![messages[1].clone()]);
    assert!(
        report.to_string().contains("message 2") && report.to_string().contains("set aside"),
        "{report:#}"
    );
    server.assert_nothing_lost(&pipit, &messages);
    let row = pipit
        .list()
        .into_iter()
        .find(|m| m["state"] == "headers")
        .expect("its headers are kept");
    let shown = pipit.ok(&["show", &row["id"].to_string()]);
    assert!(
        String::from_utf8_lossy(&shown.stdout).contains("stays on the server"),
        "{}",
        describe(&shown)
    );
}
