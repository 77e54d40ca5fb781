//! What a real server will not do on demand: cuts, silence, lies, floods,
//! quirks. After each, nothing is lost, nothing is stored twice, nothing
//! partial is stored as complete, and no DELE went out for a message not yet
//! stored (the scripted server checks each as it arrives).

mod concurrency;
mod floods;
mod login;
mod quirks;
mod remembered;
mod transport;

use crate::support::fake::{FakeServer, Faults};
use crate::support::{Pipit, describe, invariant, mail, stderr};

fn sorted(mut v: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    v.sort();
    v
}

/// Runs `pipit args…` with its address space capped at 1 GiB: a server that
/// floods must meet bounded buffers, not an ever-growing heap.
fn run_capped(pipit: &Pipit, args: &[&str]) -> std::process::Output {
    pipit
        .run_bounded(args, 1024, std::time::Duration::from_secs(120))
        .0
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
    server.assert_nothing_lost(pipit, messages);
    assert_eq!(out.status.code(), Some(code), "{}", describe(&out));
    assert!(
        stderr(&out).contains(says),
        "expected {says:?}: {}",
        describe(&out)
    );
    out
}

/// How many commands of `verb` session `session` sent.
fn commands_of(server: &FakeServer, session: usize, verb: &str) -> usize {
    server.sessions()[session]
        .iter()
        .filter(|c| c.starts_with(verb))
        .count()
}

#[test]
fn the_dele_check_itself_catches_a_delete_of_something_not_stored() {
    let messages = mail::varied(2);
    let server = FakeServer::start(messages.clone(), Faults::well_behaved());
    let pipit = Pipit::new();
    server.account_for(&pipit, "plain", &["--policy", "delete"]);
    // Point the check at an empty store: every DELE now looks premature.
    let elsewhere = Pipit::new();
    elsewhere.ok(&["list"]);
    server.check_deletes_against(&elsewhere.store_path());
    pipit.fetch_ok();
    assert_eq!(server.violations().len(), 2);
}
