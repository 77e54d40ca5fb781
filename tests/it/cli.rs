//! The command line itself: usage errors, accounts, export, backup.

use crate::support::{Pipit, describe, fake, stderr};

#[test]
fn usage_errors_exit_2() {
    let pipit = Pipit::new();
    let out = pipit.run(&["fetch", "--bogus"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let out = pipit.run(&[
        "account",
        "add",
        "x",
        "--host",
        "h",
        "--user",
        "u",
        "--password-command",
        "true",
        "--policy",
        "sometimes",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(stderr(&out).contains("keep-days:N"), "{}", describe(&out));
    let out = pipit.run(&[
        "account",
        "add",
        "x",
        "--host",
        "h",
        "--user",
        "u",
        "--password-command",
        "true",
        "--trust-fingerprint",
        "12:34",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(stderr(&out).contains("64 hex digits"));
}

#[test]
fn accounts_are_added_listed_and_removed_without_their_password() {
    let pipit = Pipit::new();
    pipit.ok(&[
        "account",
        "add",
        "home",
        "--host",
        "pop.example.org",
        "--user",
        "alice",
        "--password-command",
        "printf hunter2",
    ]);
    let out = pipit.ok(&["account", "list", "--json"]);
    let accounts: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0]["port"], 995, "TLS on 995 by default");
    assert_eq!(accounts[0]["security"], "tls");
    let dup = pipit.run(&[
        "account",
        "add",
        "home",
        "--host",
        "h",
        "--user",
        "u",
        "--password-command",
        "true",
    ]);
    assert_eq!(dup.status.code(), Some(1));
    assert!(stderr(&dup).contains("exists already"));
    pipit.ok(&["account", "remove", "home"]);
    let out = pipit.run(&["account", "remove", "home"]);
    assert!(
        stderr(&out).contains("no account named"),
        "{}",
        describe(&out)
    );
    let out = pipit.run(&["fetch"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no account is set up"),
        "{}",
        describe(&out)
    );
}

#[test]
fn password_from_stdin_for_one_fetch() {
    let server = fake::FakeServer::start(
        vec![b"Subject: hi\r\n\r\nbody\r\n".to_vec()],
        fake::Faults::well_behaved(),
    );
    let pipit = Pipit::new();
    pipit.add_account(server.port, "plain", &["--password-command", "false"]);
    let out = pipit.run_with_stdin(
        &["fetch", "--account", "lab", "--password-stdin"],
        b"secret\n",
    );
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(stderr(&out).contains("1 downloaded"), "{}", describe(&out));
    let out = pipit.run(&["fetch"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("password command") && stderr(&out).contains("failed"),
        "{}",
        describe(&out)
    );
}

#[test]
fn export_and_backup_write_new_files_only() {
    let server = fake::FakeServer::start(
        vec![b"From: a@example.org\r\nSubject: one\r\n\r\nFrom the start\r\n".to_vec()],
        fake::Faults::well_behaved(),
    );
    let pipit = Pipit::new();
    pipit.add_account(server.port, "plain", &[]);
    pipit.ok(&["fetch"]);
    let mbox = pipit.home().join("out.mbox");
    pipit.ok(&["export", "--mbox", mbox.to_str().unwrap()]);
    let text = std::fs::read_to_string(&mbox).unwrap();
    assert!(text.starts_with("From a@example.org "), "{text}");
    assert!(text.contains("\n>From the start\r\n"), "{text}");
    let again = pipit.run(&["export", "--mbox", mbox.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("never overwritten"));

    let copy = pipit.home().join("backup.db");
    pipit.ok(&["backup", copy.to_str().unwrap()]);
    let restored = Pipit::new();
    std::fs::copy(&copy, restored.store_path()).unwrap();
    assert_eq!(restored.list().len(), 1);
}

#[test]
fn a_damaged_store_is_reported_and_left_alone() {
    let pipit = Pipit::new();
    let junk = b"not a database at all\n".repeat(100);
    std::fs::write(pipit.store_path(), &junk).unwrap();
    let out = pipit.run(&["list"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        stderr(&out).contains("damaged") && stderr(&out).contains("backup"),
        "{}",
        describe(&out)
    );
    assert_eq!(std::fs::read(pipit.store_path()).unwrap(), junk);
}
