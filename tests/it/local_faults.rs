//! Faults of the user's own machine: a full disk, a read-only store, a store
//! from a newer Pipit. Each gives a clear error and loses nothing.
//!
//! The full and read-only disks are small tmpfs mounts in a private mount
//! namespace (`unshare`, from util-linux), so no root and no cleanup needed.

use std::path::Path;
use std::process::{Command, Output};

use crate::support::fake::{FakeServer, Faults};
use crate::support::{Pipit, describe, invariant, mail, stderr};

/// Runs `pipit --home MNT args…` with MNT a fresh tmpfs of `size` holding a
/// copy of `pipit`'s home; `setup` runs first inside (e.g. a remount);
/// afterwards the tmpfs's files are copied back into `pipit`'s home.
fn on_small_disk(pipit: &Pipit, size: &str, setup: &str, args: &[&str]) -> Output {
    let mnt = tempfile::tempdir().unwrap();
    let script = format!(
        "set -e; m=$1; h=$2; p=$3; shift 3
         mount -t tmpfs -o size={size} tmpfs \"$m\"; cp -a \"$h\"/. \"$m\"/; {setup}
         set +e; \"$p\" --home \"$m\" \"$@\"; rc=$?; cp -a \"$m\"/. \"$h\"/; exit $rc"
    );
    let mut cmd = Command::new("unshare");
    cmd.args(["--map-root-user", "--mount", "sh", "-c", &script, "sh"])
        .arg(mnt.path())
        .arg(pipit.home())
        .arg(env!("CARGO_BIN_EXE_pipit"))
        .args(args)
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .env("XDG_RUNTIME_DIR", pipit.home());
    cmd.output().expect("unshare (util-linux) runs")
}

fn add(pipit: &Pipit, server: &FakeServer) {
    pipit.add_account(server.port, "plain", &["--policy", "delete"]);
}

fn dele_count(server: &FakeServer) -> usize {
    server
        .sessions()
        .concat()
        .iter()
        .filter(|c| c.starts_with("DELE"))
        .count()
}

#[test]
fn a_full_disk_stops_the_fetch_with_nothing_deleted_and_nothing_lost() {
    let messages: Vec<Vec<u8>> = (0..40).map(|i| mail::sized(i, 20_000)).collect();
    let server = FakeServer::start(messages.clone(), Faults::well_behaved());
    let pipit = Pipit::new();
    add(&pipit, &server);
    let out = on_small_disk(&pipit, "300k", "", &["fetch"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        stderr(&out).contains("disk holding the mail store is full"),
        "{}",
        describe(&out)
    );
    assert_eq!(dele_count(&server), 0, "no DELE for anything not stored");
    invariant::check(&pipit.store_path(), &messages, &server.mailbox());

    // On a disk with room, the next fetch completes the mailbox.
    let report = pipit.fetch_ok();
    assert_eq!(report["deleted_on_server"], 40, "{report:#}");
    invariant::check(&pipit.store_path(), &messages, &server.mailbox());
    assert!(server.mailbox().is_empty());
}

#[test]
fn a_read_only_store_is_a_clear_error_and_the_server_is_untouched() {
    let messages = mail::varied(5);
    let server = FakeServer::start(messages.clone(), Faults::well_behaved());
    let pipit = Pipit::new();
    add(&pipit, &server);
    pipit.ok(&["list"]); // creates the store
    let out = on_small_disk(&pipit, "10m", "mount -o remount,ro \"$m\";", &["fetch"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(stderr(&out).contains("read-only"), "{}", describe(&out));
    assert_eq!(dele_count(&server), 0);
    assert_eq!(server.mailbox().len(), 5);
    invariant::check(&pipit.store_path(), &messages, &server.mailbox());
}

#[test]
fn a_store_from_a_newer_pipit_is_refused_untouched() {
    let pipit = Pipit::new();
    pipit.ok(&["list"]);
    let db = rusqlite::Connection::open(pipit.store_path()).unwrap();
    db.pragma_update(None, "user_version", 1000).unwrap();
    drop(db);
    let before = std::fs::read(pipit.store_path()).unwrap();
    let out = pipit.run(&["list"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        stderr(&out).contains("newer Pipit") && stderr(&out).contains("untouched"),
        "{}",
        describe(&out)
    );
    assert_eq!(std::fs::read(pipit.store_path()).unwrap(), before);
    assert!(Path::new(&pipit.store_path()).exists());
}

#[test]
fn pipit_breaking_inside_is_said_plainly_and_deletes_nothing() {
    for (failpoint, says) in [
        ("writer", "the store writer stopped unexpectedly"),
        ("parser", "the message parser stopped unexpectedly"),
        ("fetch:lab", "the fetch stopped unexpectedly"),
        // Not a server's fault (it was exit 6, "protocol error").
        ("lost-row", "the store has no row for message 1"),
    ] {
        let messages = mail::varied(6);
        let server = FakeServer::start(messages.clone(), Faults::well_behaved());
        let pipit = Pipit::new();
        add(&pipit, &server);
        server.check_deletes_against(&pipit.store_path());
        let out = pipit
            .command()
            .arg("fetch")
            .env("PIPIT_FAILPOINT", failpoint)
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(1),
            "{failpoint}: {}",
            describe(&out)
        );
        assert!(
            stderr(&out).contains("Pipit failed inside") && stderr(&out).contains(says),
            "{failpoint}: {}",
            describe(&out)
        );
        assert_eq!(dele_count(&server), 0, "{failpoint}: no DELE after it");
        invariant::check(&pipit.store_path(), &messages, &server.mailbox());
        // Without the fault, the next fetch does the whole job.
        let report = pipit.fetch_ok();
        assert_eq!(report["deleted_on_server"], 6, "{failpoint}: {report:#}");
        invariant::check(&pipit.store_path(), &messages, &server.mailbox());
        assert_eq!(server.violations(), Vec::<String>::new());
    }
}

/// A message whose stored bytes are damaged (a failing disk: a packed row
/// no longer unpacks, so not one byte of it can be had) is not deleted on
/// the server by the policy: the server's copy may be the only sound one.
#[test]
fn the_policy_leaves_on_the_server_a_message_whose_stored_bytes_are_damaged() {
    let messages = vec![mail::sized(1, 20_000), mail::sized(2, 20_000)];
    let server = FakeServer::start(messages.clone(), Faults::well_behaved());
    let pipit = Pipit::new();
    pipit.add_account(server.port, "plain", &["--policy", "keep-days:1"]);
    pipit.fetch_ok();
    assert_eq!(server.mailbox().len(), 2);
    let db = crate::support::open_db(&pipit.store_path());
    let damaged = db
        .execute(
            "UPDATE message_bytes SET raw = x'01'
             WHERE packed = 1 AND message_id = (SELECT min(message_id) FROM message_bytes)",
            [],
        )
        .unwrap();
    assert_eq!(damaged, 1, "the first message is kept packed");
    for table in ["messages", "ledger"] {
        db.execute(
            &format!("UPDATE {table} SET first_seen = first_seen - 3 * 86400"),
            [],
        )
        .unwrap();
    }
    drop(db);
    let (_, report) = pipit.fetch(&[]);
    assert_eq!(report["deleted_on_server"], 1, "{report:#}");
    assert_eq!(server.mailbox().len(), 1, "{report:#}");
}
