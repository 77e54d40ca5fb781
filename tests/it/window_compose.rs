//! Issue 19, items 5 and 7: Reply, Reply All and Forward handed to the
//! desktop's mail composer as a `mailto:` URI (the opener is a script that
//! writes down what it was given), and the window's look: light, dark or
//! the system's, and the zoom, both remembered.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use pipit::app::{PipitApp, Reading};

use crate::support::Pipit;
use crate::support::fake::{FakeServer, Faults};
use crate::support::window::{closed_port, steps, wait, window};

fn lunch() -> Vec<u8> {
    b"From: \"Doe, Jane\" <jane@example.org>\r\n\
To: Me <me@example.net>, bob@example.com\r\n\
Cc: carol@example.com, ME@example.net\r\n\
Subject: Lunch? 100% sure\r\n\
Date: Sun, 29 Nov 2026 09:41:00 +0100\r\n\
Message-ID: <m2@example.org>\r\n\
References: <m1@example.org>\r\n\
Content-Type: text/plain; charset=utf-8\r\n\r\n\
Shall we?\r\n> you said noon\r\n>> or one\r\n"
        .to_vec()
}

/// An opener that writes the URI it is given into `uri` beside itself.
fn recording_opener(dir: &Path) -> PathBuf {
    let script = dir.join("opener.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\nd=$(dirname \"$0\")\nprintf '%s' \"$1\" > \"$d/uri.part\" && mv \"$d/uri.part\" \"$d/uri\"\n",
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    script
}

/// The window on a fetched `lunch()`, open in the reader; the account's
/// user is me@example.net.
fn lunch_open() -> (FakeServer, Pipit, Harness<'static, PipitApp>) {
    let server = FakeServer::start(vec![lunch()], Faults::well_behaved());
    let home = Pipit::new();
    home.add_account(server.port, "plain", &[]);
    home.fetch_ok();
    home.ok(&["account", "edit", "lab", "--user", "me@example.net"]);
    let mut h = window(&home);
    wait(&mut h, "the list", |app| app.rows.len() == 1);
    let id = h.state().rows[0].id;
    h.state_mut().select(id);
    wait(&mut h, "it to open", |app| {
        matches!(app.reading, Some(Reading::Ready(_)))
    });
    (server, home, h)
}

/// Waits for the opener to have written down a URI, and takes it.
fn handed(h: &mut Harness<'_, PipitApp>, dir: &Path) -> String {
    let file = dir.join("uri");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !file.exists() {
        assert!(Instant::now() < deadline, "the opener was never called");
        h.step();
        std::thread::sleep(Duration::from_millis(15));
    }
    let uri = std::fs::read_to_string(&file).unwrap();
    std::fs::remove_file(&file).unwrap();
    uri
}

#[test]
fn window_compose_reply_reply_all_and_forward_hand_the_composer_a_mailto_uri() {
    let (_server, home, mut h) = lunch_open();
    let opener = recording_opener(home.home());
    {
        let mut folders = h.state().attachment_folders.lock().unwrap();
        folders.opener = opener.into();
        // Some program takes mailto: links.
        folders.mailto_query = Some("echo".into());
    }

    h.get_by_label("Reply").click();
    let uri = handed(&mut h, home.home());
    assert_eq!(
        uri,
        "mailto:jane@example.org?subject=Re:%20Lunch%3F%20100%25%20sure\
&In-Reply-To=%3Cm2@example.org%3E\
&References=%3Cm1@example.org%3E%20%3Cm2@example.org%3E\
&body=On%20Sun,%2029%20Nov%202026%2009:41:00%20%2B0100,%20Doe,%20Jane%20wrote:%0D%0A\
%3E%20Shall%20we%3F%0D%0A%3E%3E%20you%20said%20noon%0D%0A%3E%3E%3E%20or%20one%0D%0A"
    );
    wait(&mut h, "the word that it went", |app| {
        app.notice
            .as_ref()
            .is_some_and(|n| n.text == "Handed to your mail program")
    });
    assert!(h.state().banner.is_none());

    // Reply All: everyone but oneself, each once; Ctrl+Shift+R.
    h.key_press_modifiers(
        egui::Modifiers::COMMAND | egui::Modifiers::SHIFT,
        egui::Key::R,
    );
    let uri = handed(&mut h, home.home());
    assert!(
        uri.starts_with("mailto:jane@example.org,bob@example.com?cc=carol@example.com&subject=Re:"),
        "{uri}"
    );
    // Forward: to nobody yet, the message below its headers; Ctrl+L.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::L);
    let uri = handed(&mut h, home.home());
    assert!(
        uri.starts_with("mailto:?subject=Fwd:%20Lunch%3F%20100%25%20sure&body=--------%20Forwarded%20Message%20--------%0D%0A"),
        "{uri}"
    );
    assert!(!uri.contains("In-Reply-To"), "{uri}");
    // Ctrl+R replies; it no longer gets mail (F5 does).
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::R);
    let uri = handed(&mut h, home.home());
    assert!(
        uri.starts_with("mailto:jane@example.org?subject=Re:"),
        "{uri}"
    );
    assert!(h.state().fetching.is_empty());
    // The keys are in the list F1 shows.
    h.key_press(egui::Key::F1);
    steps(&mut h, 3);
    h.get_by_label("Ctrl+Shift+R");
    assert!(
        h.query_all_by_label("Reply All").count() == 2,
        "the button and the list"
    );
    h.get_by_label("Ctrl+L");
}

#[test]
fn window_compose_without_a_mail_program_says_so_and_what_to_do() {
    let (_server, home, mut h) = lunch_open();
    let opener = recording_opener(home.home());
    // xdg-mime names no program for mailto: links.
    {
        let mut folders = h.state().attachment_folders.lock().unwrap();
        folders.opener = opener.into();
        folders.mailto_query = Some("true".into());
    }
    h.get_by_label("Reply").click();
    wait(&mut h, "the word on it", |app| app.banner.is_some());
    let banner = h.state().banner.clone().unwrap();
    assert!(banner.error);
    assert!(
        banner
            .text
            .starts_with("No mail program is set on this desktop to write the reply"),
        "{banner:?}"
    );
    assert!(banner.text.contains("Default Applications"), "{banner:?}");
    assert!(
        !home.home().join("uri").exists(),
        "not handed to the opener (a browser) after all"
    );
    h.get_by_label_contains("No mail program is set");
    h.get_by_label("Copy the link").click();
    h.step();
    assert!(h.output().platform_output.commands.iter().any(
        |c| matches!(c, egui::OutputCommand::CopyText(t) if t.starts_with("mailto:jane@example.org?"))
    ));

    // An opener that fails: said too.
    h.state_mut().banner = None;
    {
        let mut folders = h.state().attachment_folders.lock().unwrap();
        folders.opener = "false".into();
        folders.mailto_query = None;
    }
    h.get_by_label("Forward").click();
    wait(&mut h, "the word on it", |app| app.banner.is_some());
    let banner = h.state().banner.clone().unwrap();
    assert!(
        banner
            .text
            .starts_with("The reply could not be handed to a mail program"),
        "{banner:?}"
    );
}

/// A profile with an account (nothing to fetch from): no first-start dialog.
fn with_account() -> Pipit {
    let home = Pipit::new();
    home.add_account(closed_port(), "plain", &[]);
    home
}

/// The window on `home` again, as after a restart.
fn again(home: &Pipit, h: Harness<'static, PipitApp>) -> Harness<'static, PipitApp> {
    drop(h);
    let mut h = window(home);
    steps(&mut h, 3);
    h
}

#[test]
fn window_appearance_light_or_dark_is_chosen_and_remembered() {
    let home = with_account();
    let mut h = window(&home);
    steps(&mut h, 2);
    h.get_by_label("View").click();
    steps(&mut h, 2);
    h.get_by_label("Light").click();
    steps(&mut h, 3);
    assert!(!h.ctx.global_style().visuals.dark_mode);
    assert_eq!(
        h.ctx.options(|o| o.theme_preference),
        egui::ThemePreference::Light
    );
    let mut h = again(&home, h);
    assert!(!h.ctx.global_style().visuals.dark_mode, "remembered");
    h.get_by_label("View").click();
    steps(&mut h, 2);
    h.get_by_label("Dark").click();
    steps(&mut h, 3);
    assert!(h.ctx.global_style().visuals.dark_mode);
    let mut h = again(&home, h);
    assert!(h.ctx.global_style().visuals.dark_mode, "remembered");
    // The system's: as the desktop says.
    h.get_by_label("View").click();
    steps(&mut h, 2);
    h.get_by_label("Follow the system").click();
    steps(&mut h, 3);
    assert_eq!(
        h.ctx.options(|o| o.theme_preference),
        egui::ThemePreference::System
    );
    let h = again(&home, h);
    assert_eq!(
        h.ctx.options(|o| o.theme_preference),
        egui::ThemePreference::System
    );
}

#[test]
fn window_zoom_follows_ctrl_plus_minus_and_zero_and_is_remembered() {
    let home = with_account();
    let mut h = window(&home);
    steps(&mut h, 2);
    assert_eq!(h.ctx.zoom_factor(), 1.0);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Plus);
    steps(&mut h, 3);
    assert_eq!(h.ctx.zoom_factor(), 1.1);
    // Ctrl+= too, for keyboards where + takes Shift.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Equals);
    steps(&mut h, 3);
    assert_eq!(h.ctx.zoom_factor(), 1.2);
    let mut h = again(&home, h);
    assert_eq!(h.ctx.zoom_factor(), 1.2, "remembered");
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Minus);
    steps(&mut h, 3);
    assert_eq!(h.ctx.zoom_factor(), 1.1);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Num0);
    steps(&mut h, 3);
    assert_eq!(h.ctx.zoom_factor(), 1.0);
    let mut h = again(&home, h);
    assert_eq!(h.ctx.zoom_factor(), 1.0, "remembered");
    // The keys are in the list F1 shows.
    h.key_press(egui::Key::F1);
    steps(&mut h, 3);
    h.get_by_label("Ctrl++, Ctrl+=");
    h.get_by_label("Zoom in");
    h.get_by_label("Ctrl+0");
}

/// A stand-in for the desktop portal's settings: its `color-scheme` is
/// `scheme` (1 dark, 2 light), wrapped as `Read` wraps it.
struct FakeSettings {
    scheme: u32,
}

#[zbus::interface(name = "org.freedesktop.portal.Settings")]
impl FakeSettings {
    fn read(&self, namespace: &str, key: &str) -> zbus::fdo::Result<zbus::zvariant::OwnedValue> {
        if (namespace, key) != ("org.freedesktop.appearance", "color-scheme") {
            return Err(zbus::fdo::Error::Failed("no such setting".into()));
        }
        let inner = zbus::zvariant::Value::from(self.scheme);
        Ok(zbus::zvariant::Value::Value(Box::new(inner))
            .try_into()
            .unwrap())
    }
}

/// Follow the system: where the window system does not say (X11), the
/// desktop portal's light or dark preference is read and followed.
#[test]
fn window_appearance_follows_the_desktop_portals_preference() {
    use std::io::BufRead as _;
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
    for (scheme, said) in [
        (2, pipit::portal::ColorScheme::Light),
        (1, pipit::portal::ColorScheme::Dark),
        (0, pipit::portal::ColorScheme::NoPreference),
    ] {
        let conn = zbus::blocking::connection::Builder::address(address.as_str())
            .unwrap()
            .name("org.freedesktop.portal.Desktop")
            .unwrap()
            .serve_at("/org/freedesktop/portal/desktop", FakeSettings { scheme })
            .unwrap()
            .build()
            .unwrap();
        assert_eq!(pipit::portal::color_scheme(Some(&address)).unwrap(), said);
        drop(conn);
    }
    let _ = daemon.kill();
    let _ = daemon.wait();

    // The window follows what the portal said.
    let home = with_account();
    let mut h = window(&home);
    steps(&mut h, 2);
    assert!(h.ctx.global_style().visuals.dark_mode, "no word: dark");
    h.state_mut().desktop_theme = Some(egui::Theme::Light);
    steps(&mut h, 3);
    assert!(!h.ctx.global_style().visuals.dark_mode);
    // A choice of one's own outranks it.
    h.get_by_label("View").click();
    steps(&mut h, 2);
    h.get_by_label("Dark").click();
    steps(&mut h, 3);
    assert!(h.ctx.global_style().visuals.dark_mode);
}

/// A message file's window (`pipit open FILE.eml`) answers it as the
/// reader does.
#[test]
fn window_compose_a_message_files_window_replies_too() {
    let dir = tempfile::tempdir().unwrap();
    let opener = recording_opener(dir.path());
    let viewer = pipit::app::Viewer::from_bytes(&lunch(), "/tmp/lunch.eml");
    let mut v = Harness::builder()
        .with_size(egui::vec2(900.0, 600.0))
        .build_ui_state(|ui, v: &mut pipit::app::Viewer| v.ui(ui), viewer);
    {
        let mut folders = v.state().attachment_folders.lock().unwrap();
        folders.opener = opener.into();
        folders.mailto_query = Some("echo".into());
    }
    v.step();
    v.get_by_label("Reply All").click();
    let file = dir.path().join("uri");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !file.exists() {
        assert!(Instant::now() < deadline, "the opener was never called");
        v.step();
        std::thread::sleep(Duration::from_millis(15));
    }
    let uri = std::fs::read_to_string(&file).unwrap();
    assert!(
        uri.starts_with(
            "mailto:jane@example.org,me@example.net,bob@example.com?cc=carol@example.com&subject=Re:"
        ),
        "{uri}"
    );
    std::fs::remove_file(&file).unwrap();
    v.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::L);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !file.exists() {
        assert!(Instant::now() < deadline, "the opener was never called");
        v.step();
        std::thread::sleep(Duration::from_millis(15));
    }
    let uri = std::fs::read_to_string(&file).unwrap();
    assert!(uri.starts_with("mailto:?subject=Fwd:"), "{uri}");
}

/// A message file's window opened on a profile takes its main window's
/// look and zoom, and its accounts' addresses are left out of Reply All.
#[test]
fn window_compose_a_message_files_window_takes_the_profiles_look_and_addresses() {
    let home = with_account();
    home.ok(&["account", "edit", "lab", "--user", "me@example.net"]);
    std::fs::write(
        home.home().join("window.json"),
        r#"{"theme": "light", "zoom": 1.3}"#,
    )
    .unwrap();
    let opener = recording_opener(home.home());
    let viewer = pipit::app::Viewer::from_bytes(&lunch(), "/tmp/lunch.eml")
        .on_profile(&pipit::paths::Paths::under(home.home()));
    let mut v = Harness::builder()
        .with_size(egui::vec2(900.0, 600.0))
        .build_ui_state(|ui, v: &mut pipit::app::Viewer| v.ui(ui), viewer);
    {
        let mut folders = v.state().attachment_folders.lock().unwrap();
        folders.opener = opener.into();
        folders.mailto_query = Some("echo".into());
    }
    for _ in 0..3 {
        v.step();
    }
    assert!(!v.ctx.global_style().visuals.dark_mode);
    assert_eq!(v.ctx.zoom_factor(), 1.3);
    v.get_by_label("Reply All").click();
    let file = home.home().join("uri");
    let deadline = Instant::now() + Duration::from_secs(20);
    while !file.exists() {
        assert!(Instant::now() < deadline, "the opener was never called");
        v.step();
        std::thread::sleep(Duration::from_millis(15));
    }
    let uri = std::fs::read_to_string(&file).unwrap();
    assert!(
        uri.starts_with("mailto:jane@example.org,bob@example.com?cc=carol@example.com&"),
        "{uri}"
    );
}

/// Zoomed in (or in a small window), the shortcuts F1 lists scroll, and
/// Close stays on the screen: at 150 % in an 800-point-tall window the list
/// ran off the bottom, Close with it.
#[test]
fn window_zoom_the_shortcuts_list_keeps_close_on_the_screen() {
    let home = with_account();
    let mut h = crate::support::window::window_sized(&home, egui::vec2(1200.0, 760.0));
    steps(&mut h, 2);
    for _ in 0..5 {
        h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Plus);
        steps(&mut h, 2);
    }
    assert_eq!(h.ctx.zoom_factor(), 1.5);
    h.key_press(egui::Key::F1);
    steps(&mut h, 6);
    let screen = h.ctx.content_rect();
    let close = h
        .get_by_role_and_label(egui::accesskit::Role::Button, "Close")
        .rect();
    assert!(
        close.bottom() <= screen.bottom() + 0.5,
        "Close at {close:?}, off the screen {screen:?}"
    );
    h.get_by_role_and_label(egui::accesskit::Role::Button, "Close")
        .click();
    steps(&mut h, 3);
    assert!(!h.state().show_help);
}

/// Ctrl+R was Get Mail before it was Reply: with no message to answer it
/// says so, and where Get Mail went, instead of doing nothing.
#[test]
fn window_compose_ctrl_r_with_nothing_to_answer_says_where_get_mail_went() {
    let home = with_account();
    let mut h = window(&home);
    steps(&mut h, 3);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::R);
    steps(&mut h, 3);
    let notice = h.state().notice.as_ref().map(|n| n.text.clone());
    assert!(
        notice
            .as_deref()
            .is_some_and(|t| t.contains("Get Mail is F5")),
        "{notice:?}"
    );
    assert!(h.state().fetching.is_empty(), "Ctrl+R is not Get Mail");
}

/// The window's size is remembered as the window system has it, not in
/// zoomed points: zoomed to 150 %, a 1200 × 760 window was saved as
/// 800 × 507 and opened that small, smaller again at each start.
#[test]
fn window_zoom_the_remembered_window_size_does_not_shrink_by_the_zoom() {
    let home = with_account();
    let mut h = window(&home);
    steps(&mut h, 2);
    for _ in 0..5 {
        h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::Plus);
        steps(&mut h, 2);
    }
    assert_eq!(h.ctx.zoom_factor(), 1.5);
    // As egui-winit reports a 1200 × 760 window at 150 %: in zoomed points.
    h.input_mut()
        .viewports
        .entry(egui::ViewportId::ROOT)
        .or_default()
        .inner_rect = Some(egui::Rect::from_min_size(
        egui::Pos2::ZERO,
        egui::vec2(1200.0 / 1.5, 760.0 / 1.5),
    ));
    steps(&mut h, 3);
    assert_eq!(h.state().layout.window, [1200.0, 760.0]);
}
