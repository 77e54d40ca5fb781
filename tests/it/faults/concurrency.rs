//! Fetches that meet each other or the user: a cancel, two fetches of one account, several accounts side by side.

use super::*;

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
    server.account_for(&pipit, "plain", &["--policy", "delete"]);
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
    server.assert_nothing_lost(&pipit, &messages);
    drop(worker);
    // Whatever was whole before the cancel is kept; the next fetch brings the rest.
    let before = invariant::stored_messages(&pipit.store_path()).len();
    assert_eq!(
        pipit.fetch_ok()["downloaded"].as_u64(),
        Some(30 - before as u64)
    );
    assert_eq!(pipit.all_raw(), sorted(messages.clone()));
    assert!(server.mailbox().is_empty());
    server.assert_nothing_lost(&pipit, &messages);
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
    server.account_for(&pipit, "plain", &["--policy", "delete"]);
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
    server.assert_nothing_lost(&pipit, &messages);
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
