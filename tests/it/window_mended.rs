//! Issue 13, "The window, mended": one test for each thing a demanding new
//! user found, driven through the accessibility tree (egui_kittest), with
//! passwords in an in-process mock keychain.

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT as _, Queryable as _};
use pipit::app::{PipitApp, Preview, Reading, View};

use crate::support::fake::{FakeServer, Faults};
use crate::support::window::{
    closed_port, config_of, manual_setup, mock_keychain, on_server_headers_only, replace_text,
    steps, wait, window, window_sized,
};
use crate::support::{Pipit, mail};

/// Item 1: a failing account's error was replaced by another's "nothing
/// new", and its sidebar entry showed nothing.
#[test]
fn window_one_accounts_failure_is_not_hidden_by_anothers_success() {
    let server = FakeServer::start(vec![mail::sized(1, 500)], Faults::well_behaved());
    let home = Pipit::new();
    home.add_account(server.port, "plain", &[]);
    let port = closed_port().to_string();
    home.add_account_named("broken", &port);
    let mut h = window(&home);
    h.step();
    h.get_by_label("Get Mail").click();
    wait(&mut h, "both fetches", |app| {
        app.fetching.is_empty() && app.rows.len() == 1
    });
    let banner = h.state().banner.clone().expect("the failure is shown");
    assert!(banner.error, "{banner:?}");
    assert!(
        banner.text.starts_with("broken: The server 127.0.0.1:"),
        "{banner:?}"
    );
    // Get Mail again: "lab" has nothing new, "broken" still fails; its
    // error stays in the footer and on its sidebar entry.
    h.state_mut().banner = None;
    h.get_by_label("Get Mail").click();
    wait(&mut h, "the second round", |app| {
        app.fetching.is_empty() && app.banner.is_some()
    });
    assert!(
        h.state()
            .banner
            .as_ref()
            .unwrap()
            .text
            .starts_with("broken:")
    );
    h.state_mut().banner = None;
    steps(&mut h, 2);
    h.get_by_label("broken: the last Get Mail failed; details")
        .click();
    steps(&mut h, 2);
    let banner = h
        .state()
        .banner
        .clone()
        .expect("one click shows the detail");
    assert!(banner.detail.unwrap().contains("cannot connect"));
    assert!(
        h.query_by_label("lab: the last Get Mail failed; details")
            .is_none()
    );

    // A Get Mail that finds nothing says so.
    h.state_mut().config.accounts.retain(|a| a.name == "lab");
    h.state_mut().banner = None;
    h.get_by_label("Get Mail").click();
    wait(&mut h, "a round with nothing new", |app| {
        app.fetching.is_empty()
    });
    assert_eq!(
        h.state().notice.as_ref().map(|n| n.text.as_str()),
        Some("No new mail")
    );
    h.get_by_label_contains("No new mail");
}

/// Item 2: the window could neither change nor remove an account.
#[test]
fn window_account_settings_change_the_server_keep_the_password_and_remove() {
    mock_keychain();
    let server = FakeServer::start(vec![mail::sized(1, 500)], Faults::well_behaved());
    let home = Pipit::new();
    home.add_account(server.port, "plain", &[]);
    let path = home.home().join("config.toml");
    let mut config = config_of(&home);
    config.accounts[0].password_command = None;
    config.accounts[0].host = "127.0.0.1".into();
    config.accounts[0].user = "settings-user".into();
    config.save(&path).unwrap();
    config.accounts[0]
        .keychain_entry()
        .set(&pipit::secrets::Password::new("secret".into()))
        .unwrap();

    let mut h = window(&home);
    steps(&mut h, 2);
    h.get_by_label("Settings of lab").click();
    steps(&mut h, 3);
    h.get_by_label("Account settings: lab");
    assert_eq!(
        h.get_by_label("Server").value().as_deref(),
        Some("127.0.0.1")
    );
    assert_eq!(
        h.get_by_label("Port").value().as_deref(),
        Some(server.port.to_string().as_str())
    );
    replace_text(&mut h, "Server", "localhost");
    h.get_by_label("Save").click();
    wait(&mut h, "the settings to be saved", |app| {
        app.account_dialog.is_none()
    });
    let saved = config_of(&home);
    assert_eq!(saved.accounts[0].host, "localhost");
    assert_eq!(saved.accounts[0].name, "lab");
    assert_eq!(
        saved.accounts[0].keychain_entry().get().unwrap().expose(),
        "secret",
        "the password followed the account"
    );
    assert!(
        config.accounts[0].keychain_entry().get().is_err(),
        "the old entry went"
    );
    h.get_by_label("Get Mail").click();
    wait(&mut h, "mail with the new settings", |app| {
        app.fetching.is_empty() && app.rows.len() == 1
    });
    assert!(
        h.state().banner.as_ref().is_none_or(|b| !b.error),
        "{:?}",
        h.state().banner
    );

    // Remove, after saying what stays and what goes.
    h.get_by_label("Settings of lab").click();
    steps(&mut h, 3);
    h.get_by_label("Remove account…").click();
    steps(&mut h, 3);
    h.get_by_label_contains(
        "stays on this computer, in All mail; nothing is deleted on the server",
    );
    h.get_by_label("Remove account").click();
    wait(&mut h, "the account to go", |app| {
        app.config.accounts.is_empty()
    });
    assert!(config_of(&home).accounts.is_empty());
    assert!(
        saved.accounts[0].keychain_entry().get().is_err(),
        "its password went"
    );
    assert_eq!(h.state().rows.len(), 1, "its mail stays");
}

/// A server with one small message and two over the account's size limit,
/// fetched once: the big ones wait "On server".
fn two_on_the_server(faults: Faults) -> (FakeServer, Pipit) {
    let server = FakeServer::start(
        vec![
            mail::sized(1, 500),
            mail::sized(2, 30_000),
            mail::sized(3, 30_000),
        ],
        faults,
    );
    let home = Pipit::new();
    home.add_account(server.port, "plain", &["--max-size", "10000"]);
    home.fetch_ok();
    (server, home)
}

fn open_on_server(h: &mut Harness<'_, PipitApp>, n: usize) -> i64 {
    on_server_headers_only(h);
    wait(h, "the On server view", |app| {
        app.view == View::OnServer && app.rows.len() == 2
    });
    let id = h.state().rows[n].id;
    h.state_mut().select(id);
    wait(h, "it to open", |app| {
        matches!(app.reading, Some(Reading::Ready(_)))
    });
    id
}

/// Items 3 and 14: Delete on server acted at once and left a ghost that
/// offered Download and Restore; a preview marked the message read.
#[test]
fn window_delete_on_server_asks_first_and_leaves_no_ghost() {
    let (server, home) = two_on_the_server(Faults::well_behaved());
    let mut h = window(&home);
    wait(&mut h, "the list", |app| app.rows.len() == 3);
    let id = open_on_server(&mut h, 0);
    wait(&mut h, "the preview", |app| {
        matches!(app.previews.get(&id), Some(Preview::Ready(_)))
    });
    // Only previewed: not read (item 14).
    h.state_mut().reload();
    wait(&mut h, "the list again", |app| app.rows.len() == 2);
    assert!(
        !h.state().rows.iter().find(|r| r.id == id).unwrap().seen,
        "a preview does not mark the message read"
    );

    h.get_by_label("Delete on server…").click();
    steps(&mut h, 3);
    h.get_by_label("Delete on the server?");
    h.get_by_label("Cancel").click();
    steps(&mut h, 3);
    assert_eq!(h.state().rows.len(), 2, "nothing happened");
    assert_eq!(server.mailbox().len(), 3);

    h.get_by_label("Delete on server…").click();
    steps(&mut h, 3);
    h.get_by_label("Delete on server").click();
    wait(&mut h, "the deletion on the server", |app| {
        app.fetching.is_empty() && app.rows.len() == 1
    });
    assert_eq!(server.mailbox().len(), 2);

    h.get_by_label("Trash").click();
    wait(&mut h, "Trash", |app| {
        app.view == View::Trash && app.rows.len() == 1 && app.rows[0].id == id
    });
    h.state_mut().select(id);
    wait(&mut h, "it to open", |app| {
        matches!(app.reading, Some(Reading::Ready(_)))
    });
    h.get_by_label_contains("Deleted on the server");
    assert!(
        h.query_by_label_contains("is still on the server: only its headers")
            .is_none()
    );
    assert!(h.query_by_label("Download").is_none());
    assert!(h.query_by_label_contains("Preview").is_none());
    assert!(
        h.get_by_label("Restore").accesskit_node().is_disabled(),
        "nothing to restore: only headers, and gone from the server"
    );
}

/// Item 4: after Download the reader kept saying "still on the server"; a
/// preview asked for during a fetch failed with "another Pipit".
#[test]
fn window_download_shows_the_message_and_a_preview_waits_for_the_fetch() {
    let (server, home) = two_on_the_server(Faults::well_behaved());
    let mut h = window(&home);
    wait(&mut h, "the list", |app| app.rows.len() == 3);
    let first = open_on_server(&mut h, 0);
    wait(&mut h, "the preview", |app| {
        matches!(app.previews.get(&first), Some(Preview::Ready(_)))
    });
    // Downloads crawl from now on, so the fetch is still running when the
    // other message's preview is asked for.
    server.set_faults(Faults {
        retr_delay_ms: 1500,
        ..Faults::well_behaved()
    });
    h.get_by_label("Download").click();
    steps(&mut h, 2);
    assert!(!h.state().fetching.is_empty());
    h.get_by_label_contains("Downloading the whole message");
    let second = h.state().rows.iter().find(|r| r.id != first).unwrap().id;
    h.state_mut().select(second);
    wait(&mut h, "the second message", |app| {
        matches!(app.reading, Some(Reading::Ready(_)))
    });
    h.get_by_label_contains("Waiting for Get Mail to finish");
    // A Download asked for while a fetch runs is carried out when it ends,
    // not forgotten.
    assert!(!h.state().fetching.is_empty());
    h.get_by_label("Download").click();
    steps(&mut h, 2);
    wait(&mut h, "the second preview", |app| {
        matches!(
            app.previews.get(&second),
            Some(Preview::Ready(_) | Preview::Failed(_))
        )
    });
    match h.state().previews.get(&second) {
        Some(Preview::Ready(_)) => {}
        other => panic!("the preview failed: {other:?}"),
    }
    wait(&mut h, "the downloads", |app| {
        app.fetching.is_empty() && app.downloading.is_empty()
    });
    // The small one at the first fetch, then the two asked for.
    assert_eq!(
        server.count("RETR"),
        3,
        "both downloaded: {:?}",
        server.sessions()
    );
    h.state_mut().select(first);
    wait(
        &mut h,
        "the downloaded message",
        |app| matches!(&app.reading, Some(Reading::Ready(o)) if o.detail.summary.state == pipit::store::MessageState::Full),
    );
    assert!(
        h.query_by_label_contains("is still on the server: only its headers")
            .is_none()
    );
    assert!(h.query_by_label("Download").is_none());
}

/// Item 4, without touching the selection: the reader follows the download.
#[test]
fn window_the_reader_follows_a_download_without_a_click() {
    let (_server, home) = two_on_the_server(Faults::well_behaved());
    let mut h = window(&home);
    wait(&mut h, "the list", |app| app.rows.len() == 3);
    open_on_server(&mut h, 0);
    h.get_by_label("Download").click();
    wait(&mut h, "the message itself in the reader", |app| {
        app.fetching.is_empty()
            && matches!(&app.reading, Some(Reading::Ready(o)) if o.detail.summary.state == pipit::store::MessageState::Full)
    });
    assert!(
        h.query_by_label_contains("is still on the server: only its headers")
            .is_none()
    );
    assert!(h.query_by_label("Download").is_none());
    h.get_by_label_contains("0123456789 abcdefghijklmnopqrstuvwxyz");
}

/// Item 7: the reading pane snapped back; nothing was remembered.
#[test]
fn window_panes_keep_their_size_and_the_layout_is_remembered() {
    let server = FakeServer::start(mail::varied(6), Faults::well_behaved());
    let home = Pipit::new();
    home.add_account(server.port, "plain", &[]);
    home.fetch_ok();
    let mut h = window(&home);
    wait(&mut h, "the list", |app| app.rows.len() == 6);
    let before = h.state().layout.reader;
    // Drag the reader's left edge 200 points to the left.
    let edge = egui::pos2(1280.0 - before, 400.0);
    h.event(egui::Event::PointerMoved(edge));
    h.step();
    h.event(egui::Event::PointerButton {
        pos: edge,
        button: egui::PointerButton::Primary,
        pressed: true,
        modifiers: egui::Modifiers::NONE,
    });
    h.step();
    for dx in (10..=200).step_by(10) {
        h.event(egui::Event::PointerMoved(edge - egui::vec2(dx as f32, 0.0)));
        h.step();
    }
    h.event(egui::Event::PointerButton {
        pos: edge - egui::vec2(200.0, 0.0),
        button: egui::PointerButton::Primary,
        pressed: false,
        modifiers: egui::Modifiers::NONE,
    });
    steps(&mut h, 2);
    let dragged = h.state().layout.reader;
    assert!(
        (dragged - (before + 200.0)).abs() < 12.0,
        "{before} → {dragged}"
    );
    h.event(egui::Event::PointerMoved(egui::pos2(400.0, 300.0)));
    h.key_press(egui::Key::J);
    h.key_press(egui::Key::J);
    steps(&mut h, 5);
    assert!(
        (h.state().layout.reader - dragged).abs() < 1.0,
        "the pane kept its size after keys: {}",
        h.state().layout.reader
    );
    // The list is narrow now (two-line rows): sorted by its choice.
    h.get_by_label("Sort by").click();
    steps(&mut h, 2);
    h.get_by_label("Subject").click();
    steps(&mut h, 2);
    drop(h);

    let h = window(&home);
    let app = h.state();
    assert!(
        (app.layout.reader - dragged).abs() < 1.0,
        "{}",
        app.layout.reader
    );
    assert_eq!(app.sort.column, pipit::app::Column::Subject);
}

/// Item 8: below ~900 points panels overlapped; the reader is now a toggle.
#[test]
fn window_a_narrow_window_shows_the_reader_instead_of_the_list() {
    let server = FakeServer::start(mail::varied(6), Faults::well_behaved());
    let home = Pipit::new();
    home.add_account(server.port, "plain", &[]);
    home.fetch_ok();
    let mut h = window_sized(&home, egui::vec2(700.0, 600.0));
    wait(&mut h, "the list", |app| app.rows.len() == 6);
    assert!(h.state().narrow);
    h.get_by_label_contains("Plain message 0").click();
    wait(&mut h, "the reader", |app| {
        app.reader_open && matches!(app.reading, Some(Reading::Ready(_)))
    });
    h.get_by_label("← Back to the list");
    assert!(
        h.query_by_label_contains("HTML only 2").is_none(),
        "the list gives way"
    );
    h.get_by_label_contains("Line 0 of message 0");
    // Dates in local time, saying so (item 6).
    h.get_by_label_contains("(UTC");
    h.key_press(egui::Key::Escape);
    steps(&mut h, 3);
    assert!(!h.state().reader_open);
    h.get_by_label_contains("HTML only 2");
}

/// Items 15 and 17: keys that did nothing or surprised.
#[test]
fn window_keys_move_delete_restore_switch_views_and_show_the_shortcuts() {
    let server = FakeServer::start(mail::varied(6), Faults::well_behaved());
    let home = Pipit::new();
    home.add_account(server.port, "plain", &[]);
    home.fetch_ok();
    let mut h = window(&home);
    wait(&mut h, "the list", |app| app.rows.len() == 6);
    let search_at = h.get_by_label("Search").rect();

    // Down from the search box goes to the list.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::F);
    steps(&mut h, 2);
    assert!(h.get_by_label("Search").is_focused());
    h.key_press(egui::Key::ArrowDown);
    steps(&mut h, 2);
    assert!(!h.get_by_label("Search").is_focused());
    assert_eq!(h.state().selected, Some(h.state().rows[0].id));
    // End and Home.
    h.key_press(egui::Key::End);
    steps(&mut h, 2);
    assert_eq!(h.state().selected, Some(h.state().rows[5].id));
    h.key_press(egui::Key::Home);
    steps(&mut h, 2);
    assert_eq!(h.state().selected, Some(h.state().rows[0].id));
    h.key_press(egui::Key::PageDown);
    steps(&mut h, 2);
    assert_eq!(
        h.state().selected,
        Some(h.state().rows[5].id),
        "a page holds them all"
    );
    h.key_press(egui::Key::PageUp);
    steps(&mut h, 2);
    assert_eq!(h.state().selected, Some(h.state().rows[0].id));
    // A click on a column title, then Enter: the message opens, the sort
    // stays.
    h.get_by_label("Date ⏷").click();
    steps(&mut h, 2);
    let sort = h.state().sort;
    h.key_press(egui::Key::Enter);
    steps(&mut h, 3);
    assert_eq!(h.state().sort, sort, "Enter did not sort again");

    // Delete to Trash, then Ctrl+4 (Trash: All mail, lab, On server, Trash).
    let id = h.state().selected.unwrap();
    h.key_press(egui::Key::Delete);
    wait(&mut h, "the delete", |app| app.rows.len() == 5);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Num4);
    wait(&mut h, "Trash", |app| {
        app.view == View::Trash && app.rows.len() == 1
    });
    assert_eq!(
        h.get_by_label("Search").rect(),
        search_at,
        "the search box stays put"
    );
    h.state_mut().select(id);
    wait(&mut h, "it to open", |app| {
        matches!(app.reading, Some(Reading::Ready(_)))
    });
    // R restores.
    h.key_press(egui::Key::R);
    wait(&mut h, "the restore", |app| app.rows.is_empty());
    h.get_by_label("Trash is empty.");
    // Back in All mail, delete it again; in Trash, Delete asks, then deletes for good.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Num1);
    wait(&mut h, "All mail", |app| {
        app.view == View::All && app.rows.len() == 6
    });
    h.state_mut().select(id);
    steps(&mut h, 2);
    h.key_press(egui::Key::Delete);
    wait(&mut h, "the delete", |app| app.rows.len() == 5);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Num4);
    wait(&mut h, "Trash", |app| {
        app.view == View::Trash && app.rows.len() == 1
    });
    h.state_mut().select(id);
    steps(&mut h, 2);
    h.key_press(egui::Key::Delete);
    steps(&mut h, 3);
    assert_eq!(
        h.state().selected,
        Some(id),
        "Delete in Trash does not just deselect"
    );
    h.get_by_label("Delete for good?");
    h.get_by_label("Delete for good").click();
    wait(&mut h, "the message to go for good", |app| {
        app.rows.is_empty()
    });

    // F1 lists the shortcuts; Escape closes it.
    h.key_press(egui::Key::F1);
    steps(&mut h, 3);
    h.get_by_label("Keyboard shortcuts");
    h.get_by_label("Ctrl+1 … Ctrl+9");
    h.key_press(egui::Key::Escape);
    steps(&mut h, 3);
    assert!(!h.state().show_help);

    // The footer's notices go away.
    assert!(h.state().notice.is_some());
    h.state_mut().notice.as_mut().unwrap().until = Instant::now();
    steps(&mut h, 2);
    assert!(h.state().notice.is_none());
}

/// Item 16: the account dialog's errors, its security choice, and its Escape.
#[test]
fn window_the_account_dialog_says_what_is_wrong_where_and_can_be_dismissed() {
    let home = Pipit::new();
    let mut h = window(&home);
    steps(&mut h, 2);
    h.get_by_label_contains("Welcome to Pipit");
    manual_setup(&mut h);
    replace_text(&mut h, "User name", "alice");
    replace_text(&mut h, "Port", "99999");
    h.get_by_label("Save").click();
    steps(&mut h, 3);
    // Each error beside its field, all at once.
    h.get_by_label("Port: \"99999\" is not a number from 1 to 65535 (usually 995 for TLS).");
    h.get_by_label_contains("Server: the server name is empty");
    h.get_by_label_contains("Password: enter it");
    // Fixed, and the error goes without another click.
    replace_text(&mut h, "Port", "1995");
    steps(&mut h, 2);
    assert!(h.query_by_label_contains("Port:").is_none());
    // The security choice never names a port the field contradicts.
    assert!(h.query_by_label_contains("port 995").is_none());

    // A server that cannot be found is not saved without a word.
    replace_text(&mut h, "Password", "secret");
    replace_text(&mut h, "Server", "pop.nonexistent.invalid");
    // The dialog shrinks as errors go, and is centred again a frame later.
    steps(&mut h, 3);
    h.get_by_label("Test connection").click();
    wait(&mut h, "the test to fail", |app| {
        app.account_dialog
            .as_ref()
            .is_some_and(|d| format!("{:?}", d.status).contains("Failed"))
    });
    h.get_by_label_contains("could not be found");
    h.get_by_label("Save").click();
    steps(&mut h, 3);
    h.get_by_label_contains("The last test of these settings failed");
    h.get_by_label("Save anyway");
    assert!(!home.home().join("config.toml").exists(), "not saved yet");
    // A result shows only for the settings it tested: another server, and it goes.
    replace_text(&mut h, "Server", "pop.example.org");
    steps(&mut h, 2);
    assert!(h.query_by_label_contains("could not be found").is_none());
    assert!(h.query_by_label("Save anyway").is_none());

    // Plain text warns.
    h.get_by_label("Security").click();
    steps(&mut h, 3);
    h.get_by_label("None (plain text)").click();
    steps(&mut h, 3);
    h.get_by_label_contains(
        "Plain text: your password and your mail cross the network unencrypted",
    );

    // Escape: a look around before setting up, once it is clear that
    // what was typed goes (review item 14).
    h.key_press(egui::Key::Escape);
    steps(&mut h, 3);
    h.get_by_label("Discard changes").click();
    steps(&mut h, 3);
    assert!(h.state().account_dialog.is_none());
    h.get_by_label_contains("No account yet");
}

/// Items 12 and 17: HTML links ask first, showing where they lead; the
/// message file's viewer names the file, not an "Account".
#[test]
fn window_html_links_show_their_real_target_before_opening() {
    let raw = b"From: News <news@example.org>\r\nSubject: Weekly\r\nContent-Type: text/html; charset=utf-8\r\n\r\n\
<h1>Spring</h1><p>See <a href=\"https://evil.example/login\">https://bank.example</a> now.</p><ul><li>one</li><li>two</li></ul>\r\n";
    let viewer = pipit::app::Viewer::from_bytes(raw, "/tmp/weekly.eml");
    let mut h = Harness::builder()
        .with_size(egui::vec2(900.0, 600.0))
        .build_ui_state(|ui, v: &mut pipit::app::Viewer| v.ui(ui), viewer);
    h.step();
    h.step();
    h.get_by_label("Spring");
    h.get_by_label("one");
    h.get_by_label("File");
    assert!(h.query_by_label("Account").is_none());
    h.get_by_label("https://bank.example").click();
    h.step();
    h.step();
    h.get_by_label("Open this link?");
    h.get_by_label("https://evil.example/login");
}

/// Item 13: Save… wrote to $HOME when there was no Downloads folder and
/// opened no dialog; without a portal it now says what it did.
#[test]
fn window_save_without_a_file_chooser_says_where_it_went() {
    let raw = b"From: Ana <ana@example.org>\r\nSubject: Minutes\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n\
--b\r\nContent-Type: application/pdf\r\n\
Content-Disposition: attachment; filename=\"minutes.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--b--\r\n";
    let dir = tempfile::tempdir().unwrap();
    let viewer = pipit::app::Viewer::from_bytes(raw, "minutes.eml");
    {
        let mut folders = viewer.attachment_folders.lock().unwrap();
        folders.save_dir = Some(dir.path().to_path_buf());
        folders.chooser =
            pipit::attachment::Chooser::PortalAt("unix:path=/nonexistent/pipit-bus".into());
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
    h.get_by_label_contains("no file chooser is available on this desktop");
    assert_eq!(
        std::fs::read(dir.path().join("minutes.pdf")).unwrap(),
        b"%PDF-"
    );
}

/// Items 9 and 10: text cut mid-letter with no way to read the rest; a
/// bold faked by drawing twice.
#[test]
fn window_cut_text_ends_in_an_ellipsis_and_shows_whole_on_hover_in_a_real_bold_face() {
    let subject = "A subject far too long for its column, which goes on and on about the \
harbour plans, the boats, the party and who brings what";
    let raw = format!(
        "From: Ana <ana@example.org>\r\nSubject: {subject}\r\nDate: Mon, 2 Nov 2026 10:00:00 +0000\r\n\r\nbody\r\n"
    );
    let server = FakeServer::start(vec![raw.into_bytes()], Faults::well_behaved());
    let home = Pipit::new();
    home.add_account(server.port, "plain", &[]);
    home.fetch_ok();
    let mut h = window(&home);
    wait(&mut h, "the list", |app| app.rows.len() == 1);
    let row = h.get_by_label_contains("harbour plans").rect();
    // The subject's cell starts after the unread dot and the From column.
    let subject_cell = egui::pos2(
        row.left() + 14.0 + h.state().layout.from + 40.0,
        row.center().y,
    );
    h.hover_at(subject_cell);
    steps(&mut h, 6);
    h.get_by_label(subject);
    // Unread rows use the shipped semibold face, not a second stroke.
    let bold = h.ctx.fonts(|f| {
        f.definitions()
            .families
            .get(&egui::FontFamily::Name("bold".into()))
            .and_then(|faces| faces.first().cloned())
    });
    assert_eq!(bold.as_deref(), Some("Inter-SemiBold"));
}

/// What the file chooser was asked: the name and the folder to start in.
type Asked = std::sync::Arc<std::sync::Mutex<Vec<(String, Vec<u8>)>>>;

/// A stand-in for the desktop portal's file chooser: it answers every
/// SaveFile with `uri`, as a portal does, with a Response signal on the
/// request object the caller named, and remembers what it was asked.
struct FakeChooser {
    uri: String,
    conn: std::sync::Arc<std::sync::OnceLock<zbus::blocking::Connection>>,
    asked: Asked,
}

#[zbus::interface(name = "org.freedesktop.portal.FileChooser")]
impl FakeChooser {
    fn save_file(
        &self,
        #[zbus(header)] header: zbus::message::Header<'_>,
        _parent: &str,
        _title: &str,
        options: std::collections::HashMap<String, zbus::zvariant::OwnedValue>,
    ) -> zbus::zvariant::OwnedObjectPath {
        let text = |key: &str| {
            options
                .get(key)
                .and_then(|v| String::try_from(v.clone()).ok())
                .unwrap_or_default()
        };
        let folder = options
            .get("current_folder")
            .and_then(|v| Vec::<u8>::try_from(v.clone()).ok())
            .unwrap_or_default();
        self.asked
            .lock()
            .unwrap()
            .push((text("current_name"), folder));
        let sender = header
            .sender()
            .map(|s| s.trim_start_matches(':').replace('.', "_"))
            .unwrap_or_default();
        let path = format!(
            "/org/freedesktop/portal/desktop/request/{sender}/{}",
            text("handle_token")
        );
        let conn = self.conn.get().unwrap().clone();
        let (uri, at) = (self.uri.clone(), path.clone());
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            let mut results = std::collections::HashMap::new();
            results.insert("uris", zbus::zvariant::Value::from(vec![uri]));
            conn.emit_signal(
                None::<&str>,
                at.as_str(),
                "org.freedesktop.portal.Request",
                "Response",
                &(0u32, results),
            )
            .unwrap();
        });
        zbus::zvariant::OwnedObjectPath::try_from(path).unwrap()
    }
}

/// Item 13: Save… opened no dialog. Now it asks the desktop's file chooser
/// (the XDG portal), starting in the save folder, and writes where the
/// user chose.
#[test]
fn window_save_asks_the_desktops_file_chooser() {
    use std::io::BufRead as _;
    let dir = tempfile::tempdir().unwrap();
    let mut daemon = std::process::Command::new("dbus-daemon")
        .args(["--session", "--nofork", "--print-address=1"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("dbus-daemon (package dbus) is installed");
    let mut address = String::new();
    std::io::BufReader::new(daemon.stdout.take().unwrap())
        .read_line(&mut address)
        .unwrap();
    let address = address.trim().to_string();
    let chosen = dir.path().join("elsewhere").join("the minutes.pdf");
    std::fs::create_dir(chosen.parent().unwrap()).unwrap();
    let conn_slot = std::sync::Arc::new(std::sync::OnceLock::new());
    let asked: Asked = Asked::default();
    let fake = FakeChooser {
        uri: format!(
            "file://{}",
            chosen.display().to_string().replace(' ', "%20")
        ),
        conn: conn_slot.clone(),
        asked: asked.clone(),
    };
    let conn = zbus::blocking::connection::Builder::address(address.as_str())
        .unwrap()
        .name("org.freedesktop.portal.Desktop")
        .unwrap()
        .serve_at("/org/freedesktop/portal/desktop", fake)
        .unwrap()
        .build()
        .unwrap();
    conn_slot.set(conn.clone()).unwrap();

    let start = dir.path().join("downloads");
    std::fs::create_dir(&start).unwrap();
    let mut folders = pipit::attachment::Folders::default();
    folders.save_dir = Some(start.clone());
    folders.chooser = pipit::attachment::Chooser::PortalAt(address);
    let attachment = pipit::mime::Attachment {
        name: "minutes.pdf".into(),
        content_type: "application/pdf".into(),
        bytes: b"%PDF-1.4".to_vec(),
    };
    let saved = folders.save_chosen(&attachment).unwrap();
    assert_eq!(
        saved,
        pipit::attachment::Saved::At {
            path: chosen.clone(),
            fallback: None
        }
    );
    assert_eq!(std::fs::read(&chosen).unwrap(), b"%PDF-1.4");
    let mut folder = start.as_os_str().as_encoded_bytes().to_vec();
    folder.push(0);
    assert_eq!(
        asked.lock().unwrap().as_slice(),
        [("minutes.pdf".to_string(), folder)],
        "asked with the attachment's name, starting in the save folder"
    );
    assert!(
        std::fs::read_dir(&start).unwrap().next().is_none(),
        "nothing written where it was not asked"
    );
    drop(conn);
    let _ = daemon.kill();
    let _ = daemon.wait();
}

/// Item 5: the keychain's failure was a wall of D-Bus internals pointing at
/// a command-line flag; now it is said beside the Password field, in the
/// dialog's own terms, with the detail one click away.
#[test]
fn window_a_keychain_that_fails_is_explained_beside_the_password() {
    mock_keychain();
    let entry = keyring_core::Entry::new("pipit", "alice@pop.keychain-fails.example").unwrap();
    let cred: &keyring_core::mock::Cred = entry.as_any().downcast_ref().unwrap();
    cred.set_error(keyring_core::Error::NoStorageAccess(Box::new(std::io::Error::other(
        "org.freedesktop.DBus.Error.ServiceUnknown: The name org.freedesktop.secrets was not provided",
    ))));
    let home = Pipit::new();
    let mut h = window(&home);
    steps(&mut h, 2);
    manual_setup(&mut h);
    replace_text(&mut h, "User name", "alice");
    replace_text(&mut h, "Password", "secret");
    replace_text(&mut h, "Server", "pop.keychain-fails.example");
    h.get_by_label("Save").click();
    wait(&mut h, "the keychain to answer", |app| {
        app.account_dialog
            .as_ref()
            .is_some_and(|d| d.password_error.is_some())
    });
    let said = h
        .state()
        .account_dialog
        .as_ref()
        .unwrap()
        .password_error
        .clone()
        .unwrap();
    assert!(said.contains("no keychain is available"), "{said}");
    assert!(
        said.contains("Password command under More settings"),
        "{said}"
    );
    assert!(
        !said.contains("--password-command") && !said.contains("DBus"),
        "{said}"
    );
    h.get_by_label(&said);
    h.get_by_label("Details");
    assert!(!home.home().join("config.toml").exists(), "nothing saved");
}

/// Item 15: Space read on in the reader; the list's rows tell a screen
/// reader what the bold face and the icons show.
#[test]
fn window_space_reads_on_and_rows_say_what_their_marks_mean() {
    let mut long = String::from(
        "From: Ana <ana@example.org>\r\nSubject: Long read\r\nDate: Mon, 2 Nov 2026 10:00:00 +0000\r\n\r\n",
    );
    for i in 0..200 {
        long.push_str(&format!("Paragraph line {i} of a long read.\r\n"));
    }
    let server = FakeServer::start(
        vec![long.into_bytes(), mail::sized(2, 30_000)],
        Faults::well_behaved(),
    );
    let home = Pipit::new();
    home.add_account(server.port, "plain", &["--max-size", "10000"]);
    home.fetch_ok();
    let mut h = window(&home);
    wait(&mut h, "the list", |app| app.rows.len() == 2);
    h.get_by_label_contains("Long read, unread");
    h.get_by_label_contains("Big 2, unread, still on the server");
    h.get_by_label_contains("Long read").click();
    wait(&mut h, "the long read", |app| {
        matches!(app.reading, Some(Reading::Ready(_)))
    });
    let top = h.get_by_label_contains("Paragraph line 0 of").rect().top();
    h.key_press(egui::Key::Space);
    steps(&mut h, 4);
    let after = h.get_by_label_contains("Paragraph line 0 of").rect().top();
    assert!(
        after < top - 200.0,
        "Space scrolled the text: {top} → {after}"
    );
    assert!(
        h.query_by_label_contains("Long read, unread").is_none(),
        "opened: read"
    );
}

/// Item 12, against hostile mail: HTML laid out as rich text is bounded as
/// plain text is, so a megabyte-long paragraph cannot freeze the window.
#[test]
fn window_a_huge_html_paragraph_is_shown_in_part_and_quickly() {
    let mut raw = String::from(
        "From: News <news@example.org>\r\nSubject: Endless\r\nContent-Type: text/html\r\n\r\n<p>",
    );
    for i in 0..60_000 {
        raw.push_str(&format!("word{i} <b>bold</b> "));
    }
    raw.push_str("</p>\r\n");
    let viewer = pipit::app::Viewer::from_bytes(raw.as_bytes(), "endless.eml");
    let mut h = Harness::builder()
        .with_size(egui::vec2(900.0, 600.0))
        .build_ui_state(|ui, v: &mut pipit::app::Viewer| v.ui(ui), viewer);
    let started = Instant::now();
    h.step();
    h.step();
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "two frames took {:?}",
        started.elapsed()
    );
    h.get_by_label("The message goes on; the rest is not shown here.");
}

/// Item 5: a failed Open said "could not be saved", with the detail of a
/// missing program.
#[test]
fn window_an_open_that_fails_says_so_and_what_to_do() {
    let raw = b"From: Ana <ana@example.org>\r\nSubject: Minutes\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n\
--b\r\nContent-Type: application/pdf\r\n\
Content-Disposition: attachment; filename=\"minutes.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--b--\r\n";
    let viewer = pipit::app::Viewer::from_bytes(raw, "minutes.eml");
    viewer.attachment_folders.lock().unwrap().opener = "/nonexistent/xdg-open".into();
    let mut h = Harness::builder()
        .with_size(egui::vec2(900.0, 600.0))
        .build_ui_state(|ui, v: &mut pipit::app::Viewer| v.ui(ui), viewer);
    h.step();
    h.get_by_label("Open").click();
    let deadline = Instant::now() + Duration::from_secs(10);
    while h.state().banner.is_none() && Instant::now() < deadline {
        h.step();
        std::thread::sleep(Duration::from_millis(10));
    }
    h.step();
    let banner = h.state().banner.clone().unwrap();
    assert!(banner.error);
    assert!(
        banner
            .text
            .starts_with("The attachment could not be opened: this desktop has no program"),
        "{banner:?}"
    );
    assert!(banner.text.contains("Save it instead"), "{banner:?}");
    assert!(!banner.text.contains("saved"), "{banner:?}");
    assert!(banner.detail.unwrap().contains("/nonexistent/xdg-open"));
}

/// Item 9: the attachment mark read as "0" and the on-server mark was a
/// blob, with nothing to say what they meant.
#[test]
fn window_icons_say_what_they_mean_on_hover() {
    let server = FakeServer::start(
        vec![mail::varied(4).remove(3), mail::sized(2, 30_000)],
        Faults::well_behaved(),
    );
    let home = Pipit::new();
    home.add_account(server.port, "plain", &["--max-size", "10000"]);
    home.fetch_ok();
    // Wide enough for columns.
    let mut h = window_sized(&home, egui::vec2(1600.0, 800.0));
    wait(&mut h, "the list", |app| app.rows.len() == 2);
    let (date, size) = (h.state().layout.date, h.state().layout.size);
    let row = h.get_by_label_contains("With attachment 3").rect();
    // The clip stands at the end of the Subject column.
    h.hover_at(egui::pos2(
        row.right() - date - size - 6.0 - 9.0,
        row.center().y,
    ));
    steps(&mut h, 6);
    h.get_by_label("Attachments: data3.bin");
    let row = h.get_by_label_contains("Big 2").rect();
    // The cloud stands at the start of the Size column.
    h.hover_at(egui::pos2(row.right() - size + 2.0 + 9.0, row.center().y));
    steps(&mut h, 6);
    h.get_by_label_contains("Still on the server: only its headers are here.");
}

/// Item 7, in the real window under Xvfb: its size, changed, is the size it
/// opens at next time.
#[test]
fn window_the_real_window_opens_at_the_size_it_was_left_at() {
    for tool in ["xvfb-run", "xauth", "xdotool"] {
        crate::support::require_tool(tool);
    }
    let home = Pipit::new();
    let work = tempfile::tempdir().unwrap();
    let script = r#"
        set -u
        pipit=$1; home=$2
        start() { "$pipit" --home "$home" 2>/dev/null & pid=$!;
                  for i in $(seq 40); do sleep 0.5; win=$(xdotool search --name '^Pipit$' 2>/dev/null | head -1); [ -n "$win" ] && break; done; }
        start
        sleep 2
        xdotool windowsize "$win" 1000 640
        sleep 3
        kill $pid; wait $pid 2>/dev/null
        start
        sleep 2
        xdotool getwindowgeometry "$win" | grep Geometry
        kill $pid
    "#;
    let out = std::process::Command::new("xvfb-run")
        .args([
            "-a",
            "-s",
            "-screen 0 1280x800x24",
            "bash",
            "-c",
            script,
            "bash",
        ])
        .arg(env!("CARGO_BIN_EXE_pipit"))
        .arg(home.home())
        .env("XDG_CACHE_HOME", work.path().join("cache"))
        .env("XDG_RUNTIME_DIR", work.path())
        .env_remove("DBUS_SESSION_BUS_ADDRESS")
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("Geometry: 1000x640"),
        "{said}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
