//! The window, driven through its accessibility tree with egui_kittest,
//! against a real Dovecot: first start, Get Mail, read, preview via TOP,
//! delete and restore, search, and a refused password. Passwords go to an
//! in-process mock keychain, never a real one.

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use pipit::app::{PipitApp, Preview, Reading, View};
use pipit::paths::Paths;

use crate::support::dovecot::Dovecot;
use crate::support::window::on_server_headers_only;
use crate::support::{Pipit, mail};

fn mock_keychain() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| keyring_core::set_default_store(keyring_core::mock::Store::new().unwrap()));
}

fn window(home: &Pipit) -> Harness<'static, PipitApp> {
    mock_keychain();
    let app = PipitApp::new(Paths::under(home.home()), None);
    Harness::builder()
        .with_size(egui::vec2(1280.0, 800.0))
        .build_ui_state(|ui, app: &mut PipitApp| app.ui(ui), app)
}

/// Steps the window until `done` holds; the worker and store threads run meanwhile.
fn wait(h: &mut Harness<'_, PipitApp>, what: &str, done: impl Fn(&PipitApp) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        h.step();
        if done(h.state()) {
            h.step();
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for: {what}; banner: {:?}",
            h.state().banner
        );
        std::thread::sleep(Duration::from_millis(15));
    }
}

fn type_into(h: &mut Harness<'_, PipitApp>, label: &str, text: &str) {
    let field = h.get_by_label(label);
    field.focus();
    field.type_text(text);
    h.step();
}

#[test]
fn first_start_get_mail_read_preview_delete_restore_and_search() {
    // No CJK subjects here: the test has no CJK font, and a missing glyph fails it.
    let mut messages: Vec<Vec<u8>> = mail::varied(12)
        .into_iter()
        .enumerate()
        .filter(|(i, _)| i % 6 != 1)
        .map(|(_, m)| m)
        .collect();
    messages.push(mail::sized(1, 300_000));
    let server = Dovecot::start(&messages);
    let home = Pipit::new();
    let mut h = window(&home);
    h.step();

    // First start: the account dialog, with TLS on 995 by default.
    assert!(
        h.state().account_dialog.is_some(),
        "no account: the dialog opens by itself"
    );
    h.get_by_label_contains("Welcome to Pipit");
    crate::support::window::manual_setup(&mut h);
    assert_eq!(h.get_by_label("Port").value().as_deref(), Some("995"));
    type_into(&mut h, "User name", "alice");
    type_into(&mut h, "Password", "secret");
    type_into(&mut h, "Server", "127.0.0.1");
    let port = h.get_by_label("Port");
    port.focus();
    h.step();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.step();
    h.get_by_label("Port")
        .type_text(&server.tls_port.to_string());
    type_into(&mut h, "Account name", "Home");
    h.get_by_label("More settings").click();
    h.step();
    type_into(&mut h, "Size limit (MB)", "0.1");

    // Test connection: an unknown certificate, its fingerprint, and trusting it.
    h.get_by_label("Test connection").click();
    wait(&mut h, "the certificate question", |app| {
        app.account_dialog
            .as_ref()
            .is_some_and(|d| format!("{:?}", d.status).contains("Untrusted"))
    });
    h.get_by_label(&server.fingerprint());
    h.get_by_label_contains("Certificate for CN=localhost");
    h.get_by_label_contains("valid from");
    h.get_by_label("Trust this certificate").click();
    wait(&mut h, "the test to pass", |app| {
        app.account_dialog
            .as_ref()
            .is_some_and(|d| format!("{:?}", d.status).contains("Passed"))
    });
    h.get_by_label_contains("11 messages");

    // Save: the password goes to the keychain and Get Mail starts.
    h.get_by_label("Save").click();
    wait(&mut h, "the mail to arrive", |app| {
        app.fetching.is_empty() && app.rows.len() == 11
    });
    assert!(h.state().account_dialog.is_none());
    let config = pipit::config::Config::load(&home.home().join("config.toml")).unwrap();
    assert_eq!(config.accounts[0].name, "Home");
    assert!(
        config.accounts[0].password_command.is_none(),
        "the password is in the keychain"
    );
    assert_eq!(
        config.accounts[0].trust_fingerprint.as_deref(),
        Some(server.fingerprint().as_str())
    );

    // Read one.
    h.get_by_label_contains("Plain message 0").click();
    wait(&mut h, "the message to open", |app| {
        matches!(app.reading, Some(Reading::Ready(_)))
    });
    h.get_by_label_contains("Line 0 of message 0");

    // HTML-only mail reads as text, not tags.
    h.get_by_label_contains("HTML only 2").click();
    wait(&mut h, "the HTML message to open", |app| {
        matches!(app.reading, Some(Reading::Ready(_)))
    });
    h.get_by_label_contains("Newsletter");
    match &h.state().reading {
        Some(Reading::Ready(opened)) => assert!(
            !opened.detail.text.contains("<b>"),
            "{}",
            opened.detail.text
        ),
        other => panic!("{other:?}"),
    }

    // The big one is on the server: its preview comes by TOP.
    on_server_headers_only(&mut h);
    wait(&mut h, "the On server view", |app| {
        app.view == View::OnServer && app.rows.len() == 1
    });
    h.get_by_label_contains("Big 1").click();
    wait(&mut h, "the preview", |app| {
        app.previews
            .values()
            .any(|p| matches!(p, Preview::Ready(_)))
    });
    h.get_by_label_contains("0123456789 abcdefghijklmnopqrstuvwxyz");
    h.get_by_label("Download").click();
    wait(&mut h, "the download", |app| {
        app.fetching.is_empty() && app.rows.is_empty()
    });

    // Delete to Trash with the Delete key, then restore it.
    h.get_by_label("All mail").click();
    wait(&mut h, "All mail", |app| {
        app.view == View::All && app.rows.len() == 11
    });
    h.get_by_label_contains("Long line 4").click();
    h.step();
    h.key_press(egui::Key::Delete);
    wait(&mut h, "the delete", |app| app.rows.len() == 10);
    h.get_by_label("Trash").click();
    wait(&mut h, "Trash", |app| {
        app.view == View::Trash && app.rows.len() == 1
    });
    h.get_by_label_contains("Long line 4").click();
    h.step();
    h.get_by_label("Restore").click();
    wait(&mut h, "the restore", |app| app.rows.is_empty());
    h.get_by_label("All mail").click();
    wait(&mut h, "All mail again", |app| {
        app.view == View::All && app.rows.len() == 11
    });

    // Keys: k and j move the selection, Enter opens, Ctrl+F goes to the search box.
    h.get_by_label_contains("Long line 4").click();
    wait(&mut h, "a selection", |app| {
        matches!(app.reading, Some(Reading::Ready(_)))
    });
    let first = h.state().selected;
    h.key_press(egui::Key::K);
    wait(&mut h, "k to move up", |app| {
        app.selected.is_some() && app.selected != first
    });
    h.key_press(egui::Key::J);
    wait(&mut h, "j to move back", |app| app.selected == first);
    wait(&mut h, "the message to open again", |app| {
        matches!(app.reading, Some(Reading::Ready(_)))
    });

    // Delete one for good: Delete, then Empty Trash.
    h.key_press(egui::Key::Delete);
    wait(&mut h, "the delete", |app| app.rows.len() == 10);
    h.get_by_label("Trash").click();
    wait(&mut h, "Trash", |app| {
        app.view == View::Trash && app.rows.len() == 1
    });
    h.get_by_label("Empty Trash").click();
    h.step();
    h.step();
    h.get_by_label_contains("will be removed from this computer for good");
    h.get_by_label("Empty Trash for good").click();
    wait(&mut h, "Trash to empty", |app| {
        app.rows.is_empty()
            && app
                .notice
                .as_ref()
                .is_some_and(|n| n.text == "Trash emptied")
    });
    h.get_by_label("All mail").click();
    wait(&mut h, "All mail, one fewer", |app| {
        app.view == View::All && app.rows.len() == 10
    });

    // F5 gets mail; the emptied one is not downloaded again.
    h.key_press(egui::Key::F5);
    h.step();
    assert!(!h.state().fetching.is_empty(), "F5 starts Get Mail");
    wait(&mut h, "Get Mail to finish", |app| app.fetching.is_empty());
    wait(&mut h, "the list after Get Mail", |app| {
        app.rows.len() == 10
    });

    // Search as you type.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::F);
    h.step();
    h.get_by_label("Search").type_text("newsletter");
    wait(&mut h, "the search", |app| app.rows.len() == 2);
    assert!(
        h.state()
            .rows
            .iter()
            .all(|r| r.subject.starts_with("HTML only"))
    );
    h.key_press(egui::Key::Escape);
    wait(&mut h, "the search to clear", |app| {
        app.search.is_empty() && app.rows.len() == 10
    });
}

#[test]
fn a_refused_password_can_be_entered_again() {
    let server = Dovecot::start(&(1..=3).map(|i| mail::sized(i, 2000)).collect::<Vec<_>>());
    let home = Pipit::new();
    mock_keychain();
    // An account whose keychain password is wrong.
    server.account_for(&home, &["--password-command", "true"]);
    let mut config = pipit::config::Config::load(&home.home().join("config.toml")).unwrap();
    config.accounts[0].password_command = None;
    config.accounts[0].host = "localhost".into();
    config.save(&home.home().join("config.toml")).unwrap();
    config.accounts[0]
        .keychain_entry()
        .set(&pipit::secrets::Password::new("not-it".into()))
        .unwrap();

    let mut h = window(&home);
    h.step();
    h.get_by_label("Get Mail").click();
    wait(&mut h, "the refusal", |app| {
        app.fetching.is_empty() && app.banner.is_some()
    });
    h.get_by_label_contains("refused the password");
    h.get_by_label("Enter the password again").click();
    h.step();
    h.step();
    type_into(&mut h, "New password", "secret");
    h.get_by_label("Save and get mail").click();
    wait(&mut h, "the mail", |app| {
        app.fetching.is_empty() && app.rows.len() == 3
    });
}

#[test]
fn a_message_file_opens_in_its_own_viewer() {
    let raw = b"From: Ana <ana@example.org>\r\nSubject: Minutes\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n\
--b\r\nContent-Type: text/plain\r\n\r\nSee the attached minutes.\r\n--b\r\nContent-Type: application/pdf\r\n\
Content-Disposition: attachment; filename=\"minutes.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--b--\r\n";
    let viewer = pipit::app::Viewer::from_bytes(raw, "minutes.eml");
    let mut h = Harness::builder()
        .with_size(egui::vec2(900.0, 600.0))
        .build_ui_state(|ui, v: &mut pipit::app::Viewer| v.ui(ui), viewer);
    h.step();
    h.step();
    h.get_by_label("Minutes");
    h.get_by_label_contains("See the attached minutes.");
    h.get_by_label_contains("Attachment: minutes.pdf (5 B)");
    h.get_by_label("Save…");
}

#[test]
fn a_headers_only_message_that_left_the_server_offers_nothing_that_cannot_work() {
    use crate::support::fake::{FakeServer, Faults};
    let big = mail::sized(1, 30_000);
    let server = FakeServer::start(vec![mail::sized(2, 500), big], Faults::well_behaved());
    let home = Pipit::new();
    home.add_account(server.port, "plain", &["--max-size", "10000"]);
    home.fetch_ok();
    server.delete_elsewhere(1);
    home.fetch_ok();

    let mut h = window(&home);
    wait(&mut h, "the list", |app| app.rows.len() == 2);
    on_server_headers_only(&mut h);
    wait(&mut h, "the On server view, empty", |app| {
        app.view == View::OnServer && app.rows.is_empty()
    });
    h.get_by_label("All mail").click();
    wait(&mut h, "All mail", |app| {
        app.view == View::All && app.rows.len() == 2
    });
    let gone = h
        .state()
        .rows
        .iter()
        .find(|r| !r.on_server)
        .map(|r| r.id)
        .expect("the big one is no longer on the server");
    h.state_mut().select(gone);
    wait(&mut h, "it to open", |app| {
        matches!(app.reading, Some(Reading::Ready(_)))
    });
    h.get_by_label_contains("is no longer on the server: only its headers");
    assert!(h.query_by_label("Download").is_none());
    assert!(h.query_by_label("Delete on server").is_none());
    assert!(
        h.state().previews.is_empty(),
        "no preview asked of the server"
    );
}

#[test]
fn the_account_dialog_refuses_settings_that_cannot_work_and_saves_nothing() {
    let home = Pipit::new();
    let mut h = window(&home);
    h.step();
    crate::support::window::manual_setup(&mut h);
    type_into(&mut h, "User name", "alice");
    type_into(&mut h, "Password", "secret");
    type_into(&mut h, "Server", "pop example.org");
    h.get_by_label("Save").click();
    h.step();
    h.step();
    h.get_by_label(
        "Server: \"pop example.org\" is not a server name: it has a space; \
give a name like pop.example.org, or an address like 192.0.2.7.",
    );
    assert!(h.state().account_dialog.is_some(), "the dialog stays open");

    // The port, once the server is right.
    let server = h.get_by_label("Server");
    server.focus();
    h.step();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.step();
    h.get_by_label("Server").type_text("pop.example.org");
    let port = h.get_by_label("Port");
    port.focus();
    h.step();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.step();
    h.get_by_label("Port").type_text("0");
    h.step();
    h.get_by_label("Test connection").click();
    h.step();
    h.step();
    h.get_by_label_contains("Port: 0 is not a port; use a number from 1 to 65535 (995 for tls).");
    assert!(
        !home.home().join("config.toml").exists(),
        "no account was saved"
    );
}

#[test]
fn a_fetch_that_breaks_inside_is_shown_and_get_mail_works_again() {
    use crate::support::fake::{FakeServer, Faults};
    let server = FakeServer::start(vec![mail::sized(1, 500)], Faults::well_behaved());
    let home = Pipit::new();
    home.add_account(server.port, "plain", &[]);
    // Its own account name: the failpoint is armed for this whole process.
    let path = home.home().join("config.toml");
    let mut config = pipit::config::Config::load(&path).unwrap();
    config.accounts[0].name = "breaks".into();
    config.save(&path).unwrap();
    pipit::failpoint::arm("fetch:breaks");

    let mut h = window(&home);
    h.step();
    h.get_by_label("Get Mail").click();
    wait(&mut h, "the failure to be shown", |app| {
        app.fetching.is_empty() && app.banner.is_some()
    });
    h.get_by_label_contains("Pipit failed inside");
    // The window is not stuck: Get Mail starts another fetch, which ends too.
    h.state_mut().banner = None;
    h.get_by_label("Get Mail").click();
    wait(&mut h, "a second try, and its end", |app| {
        app.fetching.is_empty() && app.banner.is_some()
    });
    h.get_by_label_contains("Pipit failed inside");
}

#[test]
fn the_reader_says_why_an_attachment_was_not_saved() {
    let raw = b"From: Ana <ana@example.org>\r\nSubject: Minutes\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n\
--b\r\nContent-Type: application/pdf\r\n\
Content-Disposition: attachment; filename=\"minutes.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--b--\r\n";
    let viewer = pipit::app::Viewer::from_bytes(raw, "minutes.eml");
    {
        let mut folders = viewer.attachment_folders.lock().unwrap();
        folders.save_dir = Some("/nonexistent/folder".into());
        folders.chooser = pipit::attachment::Chooser::Off;
    }
    let mut h = Harness::builder()
        .with_size(egui::vec2(900.0, 600.0))
        .build_ui_state(|ui, v: &mut pipit::app::Viewer| v.ui(ui), viewer);
    h.step();
    h.get_by_label("Save…").click();
    let deadline = Instant::now() + Duration::from_secs(10);
    while h.state().banner.is_none() && Instant::now() < deadline {
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    h.step();
    h.get_by_label(
        "The attachment was not saved: /nonexistent/folder/minutes.pdf could not be written. \
The folder does not exist: choose another.",
    );
    h.get_by_label(
        "cannot write /nonexistent/folder/minutes.pdf: No such file or directory (os error 2)",
    );
}
