//! The rules editor and the Deleted by rule view, driven through the
//! accessibility tree against a real Dovecot.

use egui_kittest::kittest::Queryable as _;
use pipit::app::View;

use crate::support::Pipit;
use crate::support::dovecot::Dovecot;
use crate::support::window::{config_of, replace_text, steps, wait, window};

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
    h.get_by_label(
        "Would match 0 messages on the server; would act on 0 \
(3 more matched first by a rule above)",
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
