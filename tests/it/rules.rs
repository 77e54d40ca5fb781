//! Rules before download against a real Dovecot, through the real binary:
//! a deleting rule deletes exactly what it matched and only once armed by a
//! dry run, a headers-only rule keeps headers only, a dry run changes
//! nothing, and a bad rule is refused with its line.

use serde_json::Value;

use crate::support::dovecot::Dovecot;
use crate::support::{Pipit, describe, open_db, stderr};

fn message(i: usize, subject: &str, spam: bool) -> Vec<u8> {
    let flag = if spam { "YES" } else { "NO" };
    format!(
        "From: Sender {i} <s{i}@example.org>\r\nTo: alice@example.org\r\nSubject: {subject} {i}\r\n\
Message-ID: <{i}.rules@example.org>\r\nDate: Mon, 2 Nov 2026 10:00:{:02} +0000\r\nX-Spam-Flag: {flag}\r\n\r\n\
Body of message {i}.\r\n",
        i % 60
    )
    .into_bytes()
}

fn sorted(mut v: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    v.sort();
    v
}

fn json(pipit: &Pipit, args: &[&str]) -> Value {
    let out = pipit.ok(args);
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?} printed no JSON ({e}):\n{}", describe(&out)))
}

/// Every row of every table of the store but the rules' arming, as text.
fn snapshot(pipit: &Pipit) -> Vec<String> {
    let db = open_db(&pipit.store_path());
    let tables: Vec<String> = db
        .prepare(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'rule_arms'
             AND name NOT LIKE 'sqlite_%' AND name NOT LIKE 'messages_fts%' ORDER BY name",
        )
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let mut rows = Vec::new();
    for t in tables {
        let mut stmt = db.prepare(&format!("SELECT * FROM {t}")).unwrap();
        let n = stmt.column_count();
        let mut q = stmt.query([]).unwrap();
        while let Some(r) = q.next().unwrap() {
            let values: Vec<String> = (0..n)
                .map(|i| format!("{:?}", r.get::<_, rusqlite::types::Value>(i).unwrap()))
                .collect();
            rows.push(format!("{t}: {}", values.join(", ")));
        }
    }
    rows.sort();
    rows
}

fn spam_rule(pipit: &Pipit, flag: &str) {
    pipit.ok(&[
        "rules",
        "add",
        "spam",
        "--header",
        &format!("X-Spam-Flag: {flag}"),
        "--action",
        "delete",
    ]);
}

#[test]
fn a_spam_flag_rule_deletes_exactly_the_flagged_messages_and_only_once_armed() {
    // Three flagged, three not; the policy keeps everything.
    let messages: Vec<Vec<u8>> = (0..6).map(|i| message(i, "Note", i % 2 == 1)).collect();
    let ham: Vec<Vec<u8>> = messages.iter().step_by(2).cloned().collect();
    let server = Dovecot::start(&messages);
    let pipit = Pipit::new();
    server.account_for(&pipit, &["--policy", "keep"]);
    spam_rule(&pipit, "YES");
    let rules = json(&pipit, &["rules", "list", "--json"]);
    assert_eq!(rules[0]["armed"], false, "{rules:#}");

    // Not armed: it leaves the flagged ones on the server, undownloaded, and says so.
    let report = pipit.fetch_ok();
    assert_eq!(report["new"], 6, "{report:#}");
    assert_eq!(report["downloaded"], 3, "{report:#}");
    assert_eq!(report["held_by_rule"], 3, "{report:#}");
    assert_eq!(report["deleted_by_rule"], 0, "{report:#}");
    let account = &report["accounts"][0];
    assert_eq!(account["unarmed_rules"][0]["rule"], "spam", "{report:#}");
    assert_eq!(account["unarmed_rules"][0]["would_delete"], 3, "{report:#}");
    assert_eq!(server.retrieved(), 3, "no flagged body was read");
    assert_eq!(server.messages(), sorted(messages.clone()));
    let human = pipit.ok(&["fetch"]);
    let said = stderr(&human);
    assert!(
        said.contains("rule \"spam\" would delete 3") && said.contains("pipit rules test"),
        "{said}"
    );

    // The dry run: it shows the three, changes nothing but the arming.
    let before = snapshot(&pipit);
    let log = server.log().len();
    let test = json(&pipit, &["rules", "test", "--json"]);
    let matches = test["rules"][0]["matches"].as_array().unwrap();
    assert_eq!(matches.len(), 3, "{test:#}");
    assert!(
        matches
            .iter()
            .all(|m| m["acts"] == true && m["state"] == "headers")
    );
    assert_eq!(test["rules"][0]["armed"], true);
    assert_eq!(
        snapshot(&pipit),
        before,
        "a dry run changes nothing in the store"
    );
    assert_eq!(server.log().len(), log, "a dry run does not connect");
    assert_eq!(server.messages(), sorted(messages.clone()));
    assert_eq!(json(&pipit, &["rules", "list", "--json"])[0]["armed"], true);

    // Armed: the three flagged go, and a new one too; nothing else does.
    let late_spam = message(7, "Offer", true);
    let late_ham = message(8, "Offer", false);
    server.deliver(&late_spam);
    server.deliver(&late_ham);
    let report = pipit.fetch_ok();
    assert_eq!(report["deleted_by_rule"], 4, "{report:#}");
    assert_eq!(report["deleted_on_server"], 4, "{report:#}");
    assert_eq!(report["downloaded"], 1, "{report:#}");
    let mut kept = ham.clone();
    kept.push(late_ham.clone());
    assert_eq!(
        server.messages(),
        sorted(kept.clone()),
        "only the flagged ones were deleted"
    );
    assert_eq!(server.retrieved(), 4, "no flagged body was ever read");
    let human = stderr(&pipit.ok(&["fetch"]));
    assert!(!human.contains("would delete"), "{human}");

    // Their headers stay in "Deleted by rule", out of the other views.
    let deleted = json(&pipit, &["rules", "deleted", "--json"]);
    let deleted = deleted.as_array().unwrap();
    assert_eq!(deleted.len(), 4, "{deleted:#?}");
    assert!(
        deleted
            .iter()
            .all(|d| d["rule"] == "spam" && d["on_server"] == false)
    );
    let out = pipit.ok(&["list", "--deleted-by-rule", "--json"]);
    let listed: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(listed.len(), 4, "{listed:#?}");
    assert!(listed.iter().all(|m| m["state"] == "headers"));
    let list = pipit.list();
    assert_eq!(list.len(), 4, "{list:#?}");
    assert!(list.iter().all(|m| m["state"] == "full"));
    assert_eq!(pipit.all_raw(), sorted(kept.clone()));

    // Editing the rule disarms it: the next flagged one stays.
    pipit.ok(&["rules", "remove", "spam"]);
    spam_rule(&pipit, "yes");
    let third = message(9, "Again", true);
    server.deliver(&third);
    let report = pipit.fetch_ok();
    assert_eq!(report["deleted_by_rule"], 0, "{report:#}");
    assert_eq!(
        report["accounts"][0]["unarmed_rules"][0]["would_delete"], 1,
        "{report:#}"
    );
    kept.push(third);
    assert_eq!(server.messages(), sorted(kept));
}

#[test]
fn a_headers_only_rule_keeps_headers_and_the_policy_leaves_those_on_the_server() {
    let messages: Vec<Vec<u8>> = (0..4)
        .map(|i| message(i, if i < 2 { "Newsletter" } else { "Hello" }, false))
        .collect();
    let server = Dovecot::start(&messages);
    let pipit = Pipit::new();
    // Download-and-delete: what the rule holds must not be deleted by it.
    server.account_for(&pipit, &["--policy", "delete"]);
    pipit.ok(&[
        "rules",
        "add",
        "letters",
        "--subject",
        "newsletter",
        "--action",
        "headers-only",
    ]);
    let report = pipit.fetch_ok();
    assert_eq!(report["downloaded"], 2, "{report:#}");
    assert_eq!(report["held_by_rule"], 2, "{report:#}");
    assert_eq!(report["deleted_on_server"], 2, "{report:#}");
    assert_eq!(server.retrieved(), 2);
    assert_eq!(server.messages(), sorted(messages[..2].to_vec()));
    let list = pipit.list();
    for m in &list {
        let letter = m["subject"].as_str().unwrap().starts_with("Newsletter");
        assert_eq!(m["state"], if letter { "headers" } else { "full" }, "{m}");
    }
    // The inventory says why they wait: a rule, not a download to come.
    let inventory = json(&pipit, &["server", "list", "--json"]);
    let lines = inventory.as_array().unwrap();
    assert_eq!(lines.len(), 2, "{inventory:#}");
    assert!(
        lines
            .iter()
            .all(|l| l["held_by_rule"] == "letters" && l["kind"] == "headers_only"),
        "{inventory:#}"
    );
    // Again: still held, still there; judged on the headers stored, not read again.
    let tops = |server: &Dovecot| -> usize {
        server
            .log()
            .lines()
            .filter_map(|l| l.split("top=").nth(1))
            .filter_map(|r| r.split('/').next()?.parse::<usize>().ok())
            .sum()
    };
    let before = tops(&server);
    assert!(before > 0, "the log counts TOPs");
    let report = pipit.fetch_ok();
    assert_eq!(report["downloaded"], 0, "{report:#}");
    assert_eq!(tops(&server), before, "no header block read again");
    assert_eq!(server.messages(), sorted(messages[..2].to_vec()));

    // The rule gone, they are downloaded (and then deleted, as the policy says).
    pipit.ok(&["rules", "remove", "letters"]);
    let report = pipit.fetch_ok();
    assert_eq!(report["downloaded"], 2, "{report:#}");
    assert!(server.messages().is_empty());
    assert_eq!(pipit.all_raw(), sorted(messages));
}

#[test]
fn a_bad_rule_is_refused_with_its_line_and_add_checks_as_the_config_does() {
    let pipit = Pipit::new();
    pipit.add_account(995, "tls", &[]);
    // A dry run before any fetch has seen nothing, and arms nothing.
    pipit.ok(&[
        "rules",
        "add",
        "early",
        "--subject",
        "x",
        "--action",
        "delete",
    ]);
    let test = json(&pipit, &["rules", "test", "--json"]);
    assert_eq!(test["rules"][0]["armed"], false, "{test:#}");
    assert_eq!(
        json(&pipit, &["rules", "list", "--json"])[0]["armed"],
        false
    );
    pipit.ok(&["rules", "remove", "early"]);
    // The command line refuses what the config file would.
    let out = pipit.run(&[
        "rules",
        "add",
        "spam",
        "--header",
        "X-Spam-Flag",
        "--action",
        "delete",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(stderr(&out).contains("--header") && stderr(&out).contains("no ':'"));
    let out = pipit.run(&["rules", "add", "all", "--action", "delete"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(stderr(&out).contains("no condition"), "{}", describe(&out));
    let out = pipit.run(&["rules", "add", "x", "--from", "a", "--action", "shred"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));

    // A rule written by hand: refused with its line, and the file left alone.
    let path = pipit.home().join("config.toml");
    let mut text = std::fs::read_to_string(&path).unwrap();
    // The line of smaller_than: after a blank line, the table's, name's and larger_than's.
    let line = text.lines().count() + 5;
    text.push_str("\n[[account.rule]]\nname = \"big\"\nlarger_than = 100\nsmaller_than = 50\naction = \"delete\"\n");
    std::fs::write(&path, &text).unwrap();
    for args in [&["rules", "list"][..], &["fetch"], &["account", "list"]] {
        let out = pipit.run(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", describe(&out));
        let said = stderr(&out);
        assert!(
            said.contains(&format!("line {line}:")) && said.contains("smaller_than"),
            "{args:?}: {said}"
        );
    }
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
}

/// Against quirky servers a deleting rule, armed, deletes nothing it cannot
/// tell apart by UID and header block, and a server without TOP gets no
/// rules (its headers come only with the body).
#[test]
fn against_quirky_servers_an_armed_rule_deletes_nothing_it_cannot_tell_apart() {
    use crate::support::fake::{FakeServer, Faults};
    let messages: Vec<Vec<u8>> = (0..4).map(|i| message(i, "Quirk", i % 2 == 0)).collect();
    for (quirk, faults) in [
        (
            "no UIDL",
            Faults {
                no_uidl: true,
                ..Faults::well_behaved()
            },
        ),
        (
            "one UID for all",
            Faults {
                same_uid: Some("same".into()),
                ..Faults::well_behaved()
            },
        ),
    ] {
        let server = FakeServer::start(messages.clone(), faults);
        let pipit = Pipit::new();
        server.account_for(&pipit, "plain", &["--policy", "keep"]);
        spam_rule(&pipit, "YES");
        pipit.fetch_ok();
        pipit.ok(&["rules", "test"]);
        let report = pipit.fetch_ok();
        assert_eq!(report["deleted_by_rule"], 0, "{quirk}: {report:#}");
        assert!(
            report["errors"]
                .as_array()
                .unwrap()
                .iter()
                .any(|e| e.as_str().unwrap().contains("cannot be told apart")),
            "{quirk}: {report:#}"
        );
        assert_eq!(server.count("DELE"), 0, "{quirk}");
        assert_eq!(server.mailbox(), messages, "{quirk}");
        server.assert_nothing_lost(&pipit, &messages);
    }

    // No TOP (said in CAPA, or found out, without CAPA): the rules cannot
    // see headers first, so everything downloads, and the fetch says why.
    for capa in [Some(["UIDL", "USER"].map(String::from).to_vec()), None] {
        let server = FakeServer::start(
            messages.clone(),
            Faults {
                capa: capa.clone(),
                no_top: true,
                ..Faults::default()
            },
        );
        let pipit = Pipit::new();
        server.account_for(&pipit, "plain", &["--policy", "keep"]);
        pipit.ok(&[
            "rules",
            "add",
            "hold",
            "--subject",
            "quirk",
            "--action",
            "headers-only",
        ]);
        let report = pipit.fetch_ok();
        assert_eq!(report["downloaded"], 4, "{capa:?}: {report:#}");
        let notes = report["accounts"][0]["notes"].to_string();
        assert!(notes.contains("no TOP"), "{capa:?}: {report:#}");
        server.assert_nothing_lost(&pipit, &messages);
    }
}

/// Every message that was on the server is on it still, or whole in the
/// store, or (only a flagged one) its headers are in "Deleted by rule".
fn nothing_lost_but_what_the_rule_deleted(pipit: &Pipit, all: &[Vec<u8>], server: &Dovecot) {
    let mut stored = crate::support::invariant::stored_messages(&pipit.store_path());
    stored.sort();
    assert!(stored.windows(2).all(|w| w[0] != w[1]), "stored twice");
    assert!(stored.iter().all(|m| all.contains(m)), "stored partial");
    let on_server = server.messages();
    let db = open_db(&pipit.store_path());
    let verdict: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(verdict, "ok");
    for m in all {
        if stored.contains(m) || on_server.contains(m) {
            continue;
        }
        let digest = pipit::mime::header_digest(m);
        let deleted_by_rule: bool = db
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM messages x JOIN rule_marks r ON r.message_id = x.id
                 WHERE r.action = 'delete' AND x.header_digest = ?1)",
                [digest.as_slice()],
                |r| r.get(0),
            )
            .unwrap();
        let flagged = String::from_utf8_lossy(m).contains("X-Spam-Flag: YES");
        assert!(
            flagged && deleted_by_rule,
            "lost: {}",
            String::from_utf8_lossy(m)
        );
    }
}

#[test]
fn cutting_the_connection_with_an_armed_rule_loses_nothing_it_did_not_match() {
    use crate::support::proxy::{Fault, Proxy};
    let first: Vec<Vec<u8>> = (0..6).map(|i| message(i, "Before", i % 2 == 0)).collect();
    let later: Vec<Vec<u8>> = (10..30).map(|i| message(i, "After", i % 2 == 0)).collect();
    let all: Vec<Vec<u8>> = first.iter().chain(&later).cloned().collect();
    // A Dovecot whose first fetch went directly, with the rule armed after
    // it, and more mail come since; then fetches through the proxy.
    let setup = |fault: Option<Fault>| {
        let server = Dovecot::start(&first);
        let pipit = Pipit::new();
        pipit.add_account(
            server.plain_port,
            "plain",
            &["--policy", "delete", "--timeout", "2"],
        );
        spam_rule(&pipit, "YES");
        pipit.fetch_ok();
        pipit.ok(&["rules", "test"]);
        for m in &later {
            server.deliver(m);
        }
        let proxy = Proxy::start(server.plain_port, fault);
        pipit.ok(&["account", "edit", "lab", "--port", &proxy.port.to_string()]);
        (server, proxy, pipit)
    };
    let (_server, proxy, pipit) = setup(None);
    let report = pipit.fetch_ok();
    assert_eq!(report["deleted_by_rule"], 13, "{report:#}");
    let (down, up) = proxy.carried();
    let mut faults = vec![Fault::CutDown(down - 40), Fault::CutUp(up - 6)];
    let step = down / 7;
    faults.extend((1..7).map(|k| Fault::CutDown(k * step)));
    faults.extend((1..4).map(|k| Fault::CutUp(k * up / 4)));
    for fault in faults {
        let (server, _proxy, pipit) = setup(Some(fault));
        let out = pipit.run(&["fetch"]);
        assert!(
            matches!(out.status.code(), Some(0 | 5)),
            "{fault:?}: {}",
            describe(&out)
        );
        nothing_lost_but_what_the_rule_deleted(&pipit, &all, &server);
        pipit.fetch_ok();
        nothing_lost_but_what_the_rule_deleted(&pipit, &all, &server);
        assert!(
            server.messages().is_empty(),
            "{fault:?}: mail left on the server"
        );
        let deleted = json(&pipit, &["rules", "deleted", "--json"]);
        assert_eq!(deleted.as_array().unwrap().len(), 13, "{fault:?}");
        let mut ham: Vec<Vec<u8>> = all
            .iter()
            .filter(|m| !String::from_utf8_lossy(m).contains("X-Spam-Flag: YES"))
            .cloned()
            .collect();
        ham.sort();
        let mut stored = crate::support::invariant::stored_messages(&pipit.store_path());
        stored.sort();
        assert_eq!(stored, ham, "{fault:?}");
    }
}

/// A rule's DELE that the server never carried out (no +OK to QUIT) leaves
/// the message on the server marked "deleted by rule". If the rule is then
/// removed (the user saw a wrong deletion, as the view is there for), the
/// next fetch downloads the message whole: it must show in the message list,
/// not stay hidden as deleted when it is stored and wanted.
#[test]
fn a_message_a_rule_failed_to_delete_and_then_downloaded_shows_in_the_list() {
    use crate::support::fake::{FakeServer, Faults};
    let messages: Vec<Vec<u8>> = (0..2).map(|i| message(i, "Wanted", i == 0)).collect();
    let server = FakeServer::start(messages.clone(), Faults::well_behaved());
    let pipit = Pipit::new();
    server.account_for(&pipit, "plain", &["--policy", "delete"]);
    spam_rule(&pipit, "YES");
    pipit.fetch_ok();
    pipit.ok(&["rules", "test"]);
    // The rule's DELE goes out; the server drops QUIT, so nothing is deleted.
    server.set_faults(Faults {
        drop_quit_of_session: Some(2),
        ..Faults::well_behaved()
    });
    let (code, report) = pipit.fetch(&[]);
    assert_ne!(code, 0, "{report:#}");
    assert_eq!(
        server.count("DELE"),
        2,
        "the ham at the first fetch, the spam now"
    );
    assert_eq!(
        server.mailbox(),
        vec![messages[0].clone()],
        "{:#?}",
        server.sessions()
    );
    // The rule was wrong: the user removes it, and fetches again.
    pipit.ok(&["rules", "remove", "spam"]);
    let report = pipit.fetch_ok();
    assert_eq!(report["downloaded"], 1, "{report:#}");
    let stored = crate::support::invariant::stored_messages(&pipit.store_path());
    assert_eq!(
        sorted(stored),
        sorted(messages.clone()),
        "both stored whole"
    );
    assert!(server.mailbox().is_empty(), "download-and-delete");
    let list = pipit.list();
    assert_eq!(list.len(), 2, "a stored message is hidden: {list:#?}");
    assert!(list.iter().all(|m| m["state"] == "full"), "{list:#?}");
}

/// A server that answers TOP of a wanted message with a flagged message's
/// header block (the two then look alike): an armed rule deletes neither,
/// as the policy trusts no header block two listed messages share; the
/// wanted one is downloaded once the server answers truly.
#[test]
fn a_header_block_two_listed_messages_gave_deletes_neither() {
    use crate::support::fake::{FakeServer, Faults};
    let spam = message(0, "Cheap", true);
    let ham = message(1, "Hello", false);
    let wanted = message(2, "Contract", false);
    let server = FakeServer::start(vec![spam.clone(), ham.clone()], Faults::well_behaved());
    let pipit = Pipit::new();
    server.account_for(&pipit, "plain", &["--policy", "keep"]);
    spam_rule(&pipit, "YES");
    pipit.fetch_ok();
    pipit.ok(&["rules", "test"]);
    server.deliver(&wanted);
    server.set_faults(Faults {
        top_as: Some((3, 1)),
        ..Faults::well_behaved()
    });
    let report = pipit.fetch_ok();
    assert!(
        server.mailbox().contains(&wanted),
        "the wanted message was deleted on another's headers: {report:#}"
    );
    assert_eq!(report["deleted_by_rule"], 0, "{report:#}");
    server.set_faults(Faults::well_behaved());
    let report = pipit.fetch_ok();
    assert_eq!(
        report["deleted_by_rule"], 1,
        "the spam, told apart now: {report:#}"
    );
    let stored = crate::support::invariant::stored_messages(&pipit.store_path());
    assert!(stored.contains(&wanted), "{report:#}");
    assert_eq!(server.mailbox(), vec![ham, wanted]);
}

/// A server that lists a message as smaller than the header block it gives
/// for it lies about its size: a deleting rule on size (armed while the
/// server told the truth) does not delete a wanted message on that lie.
#[test]
fn a_listed_size_smaller_than_the_header_block_is_no_evidence_for_a_rule() {
    use crate::support::fake::{FakeServer, Faults};
    let ham = message(1, "Hello", false);
    let wanted = message(2, "Contract", false);
    let server = FakeServer::start(vec![ham.clone()], Faults::well_behaved());
    let pipit = Pipit::new();
    server.account_for(&pipit, "plain", &["--policy", "keep"]);
    pipit.ok(&[
        "rules",
        "add",
        "tiny",
        "--smaller-than",
        "50",
        "--action",
        "delete",
    ]);
    pipit.fetch_ok();
    let test = json(&pipit, &["rules", "test", "--json"]);
    assert_eq!(
        test["rules"][0]["matches"],
        serde_json::json!([]),
        "{test:#}"
    );
    server.deliver(&wanted);
    server.set_faults(Faults {
        list_size: Some(10),
        ..Faults::well_behaved()
    });
    let report = pipit.fetch_ok();
    assert_eq!(report["deleted_by_rule"], 0, "{report:#}");
    assert!(
        server.mailbox().contains(&wanted),
        "deleted on a size the server made up: {report:#}"
    );
    assert!(
        report["errors"]
            .to_string()
            .contains("smaller than its header block"),
        "{report:#}"
    );
}

/// Arming is for the mailbox the dry run looked at: an account removed and
/// added again under its name for another user's mailbox does not find its
/// deleting rule armed (the store keeps the arming by account name), while
/// the same mailbox again does, on another port too.
#[test]
fn an_account_added_again_for_another_mailbox_finds_its_rule_not_armed() {
    use crate::support::fake::{FakeServer, Faults};
    let server = FakeServer::start(vec![message(0, "Cheap", true)], Faults::well_behaved());
    let other_port = FakeServer::start(Vec::new(), Faults::well_behaved());
    let pipit = Pipit::new();
    server.account_for(&pipit, "plain", &["--policy", "keep"]);
    spam_rule(&pipit, "YES");
    pipit.fetch_ok();
    pipit.ok(&["rules", "test"]);
    assert_eq!(json(&pipit, &["rules", "list", "--json"])[0]["armed"], true);
    let armed = |server: &FakeServer, user: &str| {
        pipit.ok(&["account", "remove", "lab"]);
        server.account_for(&pipit, "plain", &["--policy", "keep"]);
        pipit.ok(&["account", "edit", "lab", "--user", user]);
        spam_rule(&pipit, "YES");
        json(&pipit, &["rules", "list", "--json"])[0]["armed"].clone()
    };
    assert_eq!(armed(&server, "carol"), false, "another user's mailbox");
    assert_eq!(armed(&other_port, "alice"), true, "the same mailbox again");
}

/// A new message shows (as headers) from the moment its header block is
/// stored, while the fetch that judged it still downloads the others: the
/// user who asks for it whole then is not overruled by the rule's DELE at
/// the session's end.
#[test]
fn a_message_asked_for_during_the_fetch_is_not_deleted_by_a_rule() {
    use crate::support::fake::{FakeServer, Faults};
    use std::process::Stdio;
    let ham = message(1, "Hello", false);
    let server = FakeServer::start(vec![ham.clone()], Faults::well_behaved());
    let pipit = Pipit::new();
    server.account_for(&pipit, "plain", &["--policy", "keep"]);
    spam_rule(&pipit, "YES");
    pipit.fetch_ok();
    pipit.ok(&["rules", "test"]);
    let flagged = message(2, "Contract", true);
    let slow = message(3, "Slow", false);
    server.deliver(&flagged);
    server.deliver(&slow);
    server.set_faults(Faults {
        retr_delay_ms: 2_000,
        ..Faults::well_behaved()
    });
    let child = pipit
        .command()
        .args(["fetch", "--json"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    let id: i64 = loop {
        assert!(started.elapsed().as_secs() < 20, "no header block stored");
        let found = open_db(&pipit.store_path())
            .query_row(
                "SELECT id FROM messages WHERE subject = 'Contract 2'",
                [],
                |r| r.get(0),
            )
            .ok();
        if let Some(id) = found {
            break id;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    pipit::store::Store::open(&pipit.store_path())
        .unwrap()
        .request_download(id)
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", describe(&out));
    assert!(
        server.mailbox().contains(&flagged),
        "deleted by the rule after the user asked for it: {}",
        describe(&out)
    );
    let report = pipit.fetch_ok();
    let stored = crate::support::invariant::stored_messages(&pipit.store_path());
    assert!(stored.contains(&flagged), "{report:#}");
}

/// As above, but the message is over the size limit, so it stays on the
/// server as headers: once no rule holds anything back, the mark of a
/// DELE the server never carried out goes too, and the message shows with
/// the headers-only ones (it was in no list of the window but Deleted by
/// rule, which goes from the sidebar with the last rule).
#[test]
fn a_message_a_rule_failed_to_delete_shows_again_once_the_rules_are_gone() {
    use crate::support::fake::{FakeServer, Faults};
    let messages: Vec<Vec<u8>> = (0..2).map(|i| message(i, "Wanted", i == 0)).collect();
    let server = FakeServer::start(messages.clone(), Faults::well_behaved());
    let pipit = Pipit::new();
    server.account_for(&pipit, "plain", &["--policy", "keep", "--max-size", "100"]);
    spam_rule(&pipit, "YES");
    pipit.fetch_ok();
    pipit.ok(&["rules", "test"]);
    server.set_faults(Faults {
        drop_quit_of_session: Some(2),
        ..Faults::well_behaved()
    });
    let (code, report) = pipit.fetch(&[]);
    assert_ne!(code, 0, "{report:#}");
    assert_eq!(server.count("DELE"), 1);
    pipit.ok(&["rules", "remove", "spam"]);
    pipit.fetch_ok();
    assert_eq!(server.mailbox(), messages);
    let list = pipit.list();
    assert_eq!(
        list.len(),
        2,
        "a message on the server is hidden: {list:#?}"
    );
}

/// A TOP answered with no header block at all tells nothing of the message:
/// an armed size rule does not delete it on its size alone.
#[test]
fn no_header_block_is_no_evidence_for_a_rule() {
    use crate::support::fake::{FakeServer, Faults};
    let ham = message(1, "Hello", false);
    let mut big = message(2, "Quarterly report", false);
    big.extend(b"line of the report\r\n".repeat(200));
    let server = FakeServer::start(vec![ham.clone()], Faults::well_behaved());
    let pipit = Pipit::new();
    server.account_for(&pipit, "plain", &["--policy", "keep"]);
    pipit.ok(&[
        "rules",
        "add",
        "huge",
        "--larger-than",
        "1000",
        "--action",
        "delete",
    ]);
    pipit.fetch_ok();
    pipit.ok(&["rules", "test"]);
    server.deliver(&big);
    server.set_faults(Faults {
        top_empty: Some(2),
        ..Faults::well_behaved()
    });
    let report = pipit.fetch_ok();
    assert!(
        server.mailbox().contains(&big),
        "deleted on no header block: {report:#}"
    );
    assert!(
        report["errors"].to_string().contains("no header block"),
        "{report:#}"
    );
}

fn names(pipit: &Pipit) -> Vec<String> {
    json(pipit, &["rules", "list", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap().to_string())
        .collect()
}

fn armed(pipit: &Pipit, name: &str) -> bool {
    json(pipit, &["rules", "list", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .any(|r| r["name"] == name && r["armed"] == true)
}

#[test]
fn rules_edit_changes_a_rule_at_its_place_and_move_reorders_and_both_disarm() {
    let messages: Vec<Vec<u8>> = (0..4).map(|i| message(i, "Note", i < 2)).collect();
    let server = Dovecot::start(&messages);
    let pipit = Pipit::new();
    server.account_for(&pipit, &["--policy", "keep"]);
    pipit.ok(&[
        "rules",
        "add",
        "first",
        "--subject",
        "Note 3",
        "--action",
        "headers-only",
    ]);
    spam_rule(&pipit, "YES");
    pipit.ok(&[
        "rules",
        "add",
        "last",
        "--from",
        "s3@",
        "--action",
        "leave-on-server",
    ]);
    pipit.fetch_ok();
    pipit.ok(&["rules", "test"]);
    assert!(armed(&pipit, "spam"));

    // An edit stays at its place; the armed rule after it is disarmed, and said.
    let out = pipit.ok(&["rules", "edit", "first", "--subject", "Note"]);
    assert!(
        stderr(&out).contains("Rule \"spam\" is no longer armed"),
        "{}",
        describe(&out)
    );
    assert_eq!(names(&pipit), ["first", "spam", "last"]);
    let first = &json(&pipit, &["rules", "list", "--json"])[0];
    assert_eq!(first["subject"], "Note");
    assert_eq!(first["action"], "headers-only", "the rest stays");
    assert!(!armed(&pipit, "spam"));

    // An armed deleting rule, edited, is not armed.
    pipit.ok(&["rules", "test"]);
    assert!(armed(&pipit, "spam"));
    let out = pipit.ok(&["rules", "edit", "spam", "--header", "X-Spam-Flag: Y"]);
    assert!(
        stderr(&out).contains("deletes nothing until you have seen what it matches again"),
        "{}",
        describe(&out)
    );
    assert!(!armed(&pipit, "spam"));
    assert_eq!(
        json(&pipit, &["rules", "list", "--json"])[1]["header"],
        "X-Spam-Flag: Y"
    );

    // A bad edit is refused, as add refuses it, and saves nothing.
    let path = pipit.home().join("config.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    for (args, said) in [
        (&["--name", "spam"][..], "another rule"),
        (&["--larger-than", "lots"], "--larger-than"),
        (&["--header", "X-Spam-Flag"], "no ':'"),
        (&["--from", ""], "no condition"),
        (&[], "say what to change"),
    ] {
        let out = pipit.run(&[&["rules", "edit", "last"][..], args].concat());
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", describe(&out));
        assert!(stderr(&out).contains(said), "{args:?}: {}", describe(&out));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), text, "{args:?}");
    }
    let out = pipit.run(&["rules", "edit", "nope", "--subject", "x"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));

    // A rename keeps the place.
    pipit.ok(&["rules", "edit", "last", "--name", "final", "--to", "alice"]);
    assert_eq!(names(&pipit), ["first", "spam", "final"]);

    // Moving reorders the config; an armed rule passed is disarmed, and said.
    pipit.ok(&["rules", "test"]);
    let out = pipit.ok(&["rules", "move", "final", "--up"]);
    assert!(
        stderr(&out).contains("Rule \"spam\" is no longer armed"),
        "{}",
        describe(&out)
    );
    assert_eq!(names(&pipit), ["first", "final", "spam"]);
    assert!(!armed(&pipit, "spam"));
    pipit.ok(&["rules", "move", "first", "--down"]);
    assert_eq!(names(&pipit), ["final", "first", "spam"]);
    let text = std::fs::read_to_string(&path).unwrap();
    let out = pipit.ok(&["rules", "move", "spam", "--down"]);
    assert!(stderr(&out).contains("last already"), "{}", describe(&out));
    assert_eq!(std::fs::read_to_string(&path).unwrap(), text);
    assert_eq!(pipit.run(&["rules", "move", "spam"]).status.code(), Some(2));
    assert_eq!(
        pipit
            .run(&["rules", "move", "spam", "--up", "--down"])
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        pipit.run(&["rules", "move", "nope", "--up"]).status.code(),
        Some(1)
    );
    assert_eq!(server.messages(), sorted(messages));
}
