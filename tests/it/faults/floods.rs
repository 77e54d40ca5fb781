//! Servers that send too much: endless lines and messages, lying sizes, listings of millions, each met with bounded memory.

use super::*;

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
    server.account_for(&pipit, "plain", &["--policy", "keep"]);
    let out = run_capped(&pipit, &["fetch"]);
    server.assert_nothing_lost(&pipit, &messages);
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
    server.account_for(&pipit, "plain", &["--policy", "delete"]);
    let out = run_capped(&pipit, &["fetch"]);
    assert_eq!(out.status.code(), Some(6), "{}", describe(&out));
    assert!(
        stderr(&out).contains("longer than the"),
        "{}",
        describe(&out)
    );
    assert_eq!(commands_of(&server, 0, "DELE"), 0);
    server.assert_nothing_lost(&pipit, &messages);
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

    // Without the flood, the lie about sizes does no harm. The message that
    // flooded is set aside until the user asks for it (the window's Download).
    server.set_faults(Faults {
        list_size: Some(100),
        ..Faults::well_behaved()
    });
    let report = pipit.fetch_ok();
    assert_eq!(
        report["downloaded"], 2,
        "the others the flood stopped: {report:#}"
    );
    assert!(report.to_string().contains("set aside"), "{report:#}");
    server.assert_nothing_lost(&pipit, &messages);
    pipit::store::Store::open(&pipit.store_path())
        .unwrap()
        .request_download(endless["id"].as_i64().unwrap())
        .unwrap();
    assert_eq!(pipit.fetch_ok()["downloaded"], 1, "asked for, it comes");
    assert_eq!(pipit.all_raw(), sorted(messages.clone()));
    server.assert_nothing_lost(&pipit, &messages);
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
    server.account_for(&pipit, "plain", &["--policy", "delete"]);
    let out = run_capped(&pipit, &["fetch"]);
    assert_eq!(out.status.code(), Some(6), "{}", describe(&out));
    assert!(
        stderr(&out).contains("longer than the"),
        "{}",
        describe(&out)
    );
    server.assert_nothing_lost(&pipit, &messages);
}

#[test]
fn a_listing_of_millions_of_broken_lines_is_met_with_bounded_memory() {
    let messages = mail::varied(1);
    let server = FakeServer::start(
        messages.clone(),
        Faults {
            broken_list_lines: Some(10_000_000),
            ..Faults::well_behaved()
        },
    );
    let pipit = Pipit::new();
    server.account_for(&pipit, "plain", &["--policy", "keep"]);
    let out = run_capped(&pipit, &["fetch", "--json"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        report.to_string().contains("more listing lines like those"),
        "{report:#}"
    );
    server.assert_nothing_lost(&pipit, &messages);
}
