//! The rules editor and the Deleted by rule view, driven through the
//! accessibility tree against a real Dovecot.

use egui_kittest::kittest::Queryable as _;
use pipit::app::View;

use crate::support::Pipit;
use crate::support::dovecot::Dovecot;
use crate::support::window::{config_of, replace_field, replace_text, steps, wait, window};

fn message(i: usize, spam: bool) -> Vec<u8> {
    let flag = if spam { "YES" } else { "NO" };
    format!(
        "From: Sender {i} <s{i}@example.org>\r\nTo: alice@example.org\r\nSubject: Window note {i}\r\n\
Message-ID: <{i}.window-rules@example.org>\r\nDate: Mon, 2 Nov 2026 10:00:0{i} +0000\r\nX-Spam-Flag: {flag}\r\n\r\n\
Body {i}.\r\n"
    )
    .into_bytes()
}

#[test]
fn the_rules_editor_counts_matches_live_adds_removes_and_arms_and_deleted_mail_is_in_view() {
    let messages: Vec<Vec<u8>> = (0..5).map(|i| message(i, i < 3)).collect();
    let server = Dovecot::start(&messages);
    let home = Pipit::new();
    server.account_for(&home, &["--policy", "keep"]);
    home.ok(&[
        "rules",
        "add",
        "hold",
        "--header",
        "X-Spam-Flag: YES",
        "--action",
        "headers-only",
    ]);
    home.fetch_ok();

    let mut h = window(&home);
    wait(&mut h, "the list", |app| app.rows.len() == 5);
    h.get_by_label("Rules…").click();
    wait(&mut h, "the dialog", |app| app.rules_dialog.is_some());
    steps(&mut h, 5);
    h.get_by_label_contains("Matches 3 messages on the server; acts on 3");

    // A new rule: the count follows what is typed. It goes last, so what
    // "hold" matches is not its own, and mail stored whole is left alone.
    replace_text(&mut h, "Header", "X-Spam-Flag: YES");
    steps(&mut h, 2);
    h.get_by_label_contains(
        "Would match 0 messages on the server; would act on 0 (3 more matched first by a rule above)",
    );
    replace_text(&mut h, "Header", "X-Spam-Flag: NO");
    steps(&mut h, 2);
    h.get_by_label("Would match 2 messages on the server; would act on 0");
    replace_text(&mut h, "Header", "X-Spam-Flag");
    steps(&mut h, 2);
    h.get_by_label_contains("no ':'");
    replace_text(&mut h, "Header", "X-Spam-Flag: YES");
    replace_text(&mut h, "Name", "spam");
    h.get_by_label("Delete on server").click();
    steps(&mut h, 2);
    h.get_by_label("Add rule").click();
    wait(&mut h, "the rule saved", |app| {
        app.config.accounts[0].rules.iter().count() == 2
    });
    let rules: Vec<String> = config_of(&home).accounts[0]
        .rules
        .iter()
        .map(|r| r.name.to_string())
        .collect();
    assert_eq!(rules, ["hold", "spam"]);

    // Removing the first rule leaves the matches to the second, not armed yet.
    h.get_by_label("Remove rule hold").click();
    wait(&mut h, "the rule removed", |app| {
        app.config.accounts[0].rules.iter().count() == 1
    });
    assert_eq!(config_of(&home).accounts[0].rules.iter().count(), 1);
    wait(&mut h, "the server's messages", |_| true);
    steps(&mut h, 10);
    h.get_by_label_contains("Matches 3 messages on the server; acts on 3");

    // Not armed, Get Mail says what it would delete, and deletes nothing.
    h.get_by_label("Close").click();
    steps(&mut h, 3);
    h.key_press(egui::Key::F5);
    h.step();
    wait(&mut h, "Get Mail to finish", |app| app.fetching.is_empty());
    let banner = h.state().banner.clone().expect("a word on Get Mail");
    let detail = banner.detail.unwrap_or_default();
    assert!(
        detail.contains("\u{201c}spam\u{201d} would delete 3") && detail.contains("Rules…"),
        "{detail}"
    );
    assert_eq!(server.messages().len(), 5);
    h.get_by_label("Rules…").click();
    wait(&mut h, "the dialog", |app| app.rules_dialog.is_some());
    steps(&mut h, 10);
    let listed: serde_json::Value =
        serde_json::from_slice(&home.ok(&["rules", "list", "--json"]).stdout).unwrap();
    assert_eq!(listed[0]["armed"], false);
    h.get_by_label("Arm spam: delete what it matches").click();
    for _ in 0..200 {
        steps(&mut h, 1);
        std::thread::sleep(std::time::Duration::from_millis(10));
        if h.query_by_label_contains("Armed: it deletes").is_some() {
            break;
        }
    }
    h.get_by_label_contains("Armed: it deletes");
    let listed: serde_json::Value =
        serde_json::from_slice(&home.ok(&["rules", "list", "--json"]).stdout).unwrap();
    assert_eq!(listed[0]["armed"], true);
    h.get_by_label("Close").click();
    steps(&mut h, 3);
    assert!(h.state().rules_dialog.is_none());

    // Armed, Get Mail deletes the three; their headers are in Deleted by rule.
    h.key_press(egui::Key::F5);
    h.step();
    wait(&mut h, "Get Mail to finish", |app| app.fetching.is_empty());
    let detail = h
        .state()
        .banner
        .clone()
        .and_then(|b| b.detail)
        .unwrap_or_default();
    assert!(
        detail.contains("3 deleted on the server by rules"),
        "{detail}"
    );
    assert_eq!(server.messages().len(), 2);
    h.get_by_label("Deleted by rule").click();
    wait(&mut h, "the deleted view", |app| {
        app.view == View::DeletedByRule && app.rows.len() == 3
    });
    h.get_by_label("All mail").click();
    wait(&mut h, "all mail", |app| {
        app.view == View::All && app.rows.len() == 2
    });
}

/// Steps the window until a label holding `text` shows, for at most 5 s.
fn until_shown(h: &mut egui_kittest::Harness<'_, pipit::app::PipitApp>, text: &str) {
    for _ in 0..500 {
        steps(h, 1);
        if h.query_by_label_contains(text).is_some() {
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    h.get_by_label_contains(text);
}

fn rule_names(home: &Pipit) -> Vec<String> {
    config_of(home).accounts[0]
        .rules
        .iter()
        .map(|r| r.name.to_string())
        .collect()
}

fn spam_armed(home: &Pipit) -> bool {
    let listed: serde_json::Value =
        serde_json::from_slice(&home.ok(&["rules", "list", "--json"]).stdout).unwrap();
    let spam = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "spam")
        .unwrap();
    spam["armed"] == true
}

#[test]
fn the_rules_editor_edits_a_rule_in_place_refuses_a_bad_edit_and_moves_rules() {
    let messages: Vec<Vec<u8>> = (0..5).map(|i| message(i, i < 3)).collect();
    let server = Dovecot::start(&messages);
    let home = Pipit::new();
    server.account_for(&home, &["--policy", "keep"]);
    for args in [
        &[
            "first",
            "--subject",
            "Window note 1",
            "--action",
            "headers-only",
        ][..],
        &["spam", "--header", "X-Spam-Flag: YES", "--action", "delete"],
        &["last", "--from", "s4@", "--action", "leave-on-server"],
    ] {
        home.ok(&[&["rules", "add"][..], args].concat());
    }
    home.fetch_ok();
    home.ok(&["rules", "test"]);
    assert!(spam_armed(&home));

    // Tall enough that the rules and the form fit without scrolling (the
    // dialog scrolls in a smaller window: the test below).
    let mut h = crate::support::window::window_sized(&home, egui::vec2(1200.0, 1400.0));
    wait(&mut h, "the list", |app| app.rows.len() == 5);
    h.get_by_label("Rules…").click();
    wait(&mut h, "the dialog", |app| app.rules_dialog.is_some());
    steps(&mut h, 6);
    until_shown(&mut h, "Armed: it deletes");

    // Edit: the form holds the rule, the count follows what is typed, and
    // Save puts it back at its place.
    h.get_by_label("Edit rule first").click();
    steps(&mut h, 6);
    h.get_by_label("Editing first");
    h.get_by_label_contains("Would match 1 message on the server;");
    replace_field(&mut h, "Subject", "Window note");
    steps(&mut h, 2);
    h.get_by_label_contains("Would match 5 messages on the server;");
    h.get_by_label("Save rule").click();
    wait(&mut h, "the edit saved", |app| {
        app.config.accounts[0]
            .rules
            .iter()
            .next()
            .unwrap()
            .subject
            .as_ref()
            .unwrap()
            .as_str()
            == "Window note"
    });
    steps(&mut h, 6);
    assert_eq!(rule_names(&home), ["first", "spam", "last"]);
    let saved = config_of(&home).accounts[0]
        .rules
        .get("first")
        .unwrap()
        .clone();
    assert_eq!(saved.subject.unwrap().as_str(), "Window note");
    assert_eq!(saved.action.as_str(), "headers-only");
    h.get_by_label("New rule");
    // The rule before the armed deleting rule changed: it is disarmed, and said.
    h.get_by_label_contains("\u{201c}spam\u{201d} is no longer armed");
    assert!(!spam_armed(&home));

    // A bad edit shows its error and saves nothing.
    let before = std::fs::read_to_string(home.home().join("config.toml")).unwrap();
    h.get_by_label("Edit rule last").click();
    steps(&mut h, 6);
    replace_text(&mut h, "Name", "spam");
    steps(&mut h, 2);
    h.get_by_label("Save rule").click();
    steps(&mut h, 6);
    h.get_by_label_contains("Name: another rule of this account has this name");
    replace_text(&mut h, "Name", "last");
    replace_text(&mut h, "Larger than (bytes)", "lots");
    steps(&mut h, 2);
    h.get_by_label("Save rule").click();
    steps(&mut h, 6);
    assert!(
        h.query_all_by_label_contains("give a number of bytes")
            .count()
            > 0
    );
    steps(&mut h, 6);
    assert_eq!(
        std::fs::read_to_string(home.home().join("config.toml")).unwrap(),
        before
    );
    h.get_by_label("Cancel").click();
    steps(&mut h, 6);
    h.get_by_label("New rule");
    assert_eq!(
        std::fs::read_to_string(home.home().join("config.toml")).unwrap(),
        before
    );

    // An armed deleting rule, edited, is not armed, and the window says so.
    h.get_by_label("Arm spam: delete what it matches").click();
    until_shown(&mut h, "Armed: it deletes");
    assert!(spam_armed(&home));
    h.get_by_label("Edit rule spam").click();
    steps(&mut h, 6);
    // It stands below "first", which now takes every note: as it stands,
    // it would act on none of them, and the count says so.
    h.get_by_label_contains(
        "Would match 0 messages on the server; would act on 0 (3 more matched first by a rule above)",
    );
    replace_text(&mut h, "Header", "X-Spam-Flag: Y");
    steps(&mut h, 2);
    h.get_by_label_contains(
        "Would match 0 messages on the server; would act on 0 (3 more matched first by a rule above)",
    );
    h.get_by_label("Save rule").click();
    wait(&mut h, "the edit saved", |app| {
        app.config.accounts[0]
            .rules
            .get("spam")
            .unwrap()
            .header
            .as_ref()
            .unwrap()
            .to_string()
            == "X-Spam-Flag: Y"
    });
    steps(&mut h, 6);
    h.get_by_label_contains("Edited: run a dry run (Arm) again before it deletes");
    h.get_by_label("Arm spam: delete what it matches");
    assert!(h.query_by_label_contains("Armed: it deletes").is_none());
    assert!(!spam_armed(&home));
    assert_eq!(rule_names(&home), ["first", "spam", "last"]);

    // Moving: the config's order follows; an armed rule passed is disarmed, and said.
    h.get_by_label("Arm spam: delete what it matches").click();
    until_shown(&mut h, "Armed: it deletes");
    h.get_by_label("Move last up").click();
    wait(&mut h, "the move saved", |app| {
        app.config.accounts[0]
            .rules
            .iter()
            .nth(1)
            .unwrap()
            .name
            .as_str()
            == "last"
    });
    steps(&mut h, 6);
    assert_eq!(rule_names(&home), ["first", "last", "spam"]);
    h.get_by_label_contains("\u{201c}spam\u{201d} is no longer armed");
    assert!(!spam_armed(&home));
    h.get_by_label("Move first down").click();
    wait(&mut h, "the move saved", |app| {
        app.config.accounts[0]
            .rules
            .iter()
            .next()
            .unwrap()
            .name
            .as_str()
            == "last"
    });
    assert_eq!(rule_names(&home), ["last", "first", "spam"]);
    // Nothing was deleted on the server along the way.
    assert_eq!(server.messages().len(), 5);
}

/// Zoomed to 150 % in a laptop's window, the rules editor ran off the
/// window's bottom and right, Add rule and Close with it: its contents
/// scroll, and the buttons stay on the screen.
#[test]
fn the_rules_editor_keeps_its_buttons_on_a_small_or_zoomed_screen() {
    let home = Pipit::new();
    home.add_account_named("home", "1");
    for (name, from) in [
        ("one", "a@"),
        ("two", "b@"),
        ("three", "c@"),
        ("four", "d@"),
    ] {
        home.ok(&["rules", "add", name, "--from", from, "--action", "delete"]);
    }
    let mut h = crate::support::window::window_sized(&home, egui::vec2(1200.0, 760.0));
    steps(&mut h, 3);
    for _ in 0..5 {
        h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Plus);
        steps(&mut h, 2);
    }
    assert_eq!(h.ctx.zoom_factor(), 1.5);
    h.get_by_label("Rules…").click();
    wait(&mut h, "the dialog", |app| app.rules_dialog.is_some());
    steps(&mut h, 6);
    let screen = h.ctx.content_rect();
    for label in ["Add rule", "Close"] {
        let rect = h
            .get_by_role_and_label(egui::accesskit::Role::Button, label)
            .rect();
        assert!(
            screen.contains_rect(rect),
            "{label} at {rect:?}, off the screen {screen:?}"
        );
    }
}
