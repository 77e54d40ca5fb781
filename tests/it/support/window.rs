//! Driving the real window in tests: egui_kittest renders it headless and
//! the tests act through its accessibility tree, with passwords and
//! sign-ins in an in-process mock keychain.

use std::time::{Duration, Instant};

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use pipit::app::PipitApp;
use pipit::paths::Paths;

use super::Pipit;

/// The process's keychain: an in-memory one, set once.
pub fn mock_keychain() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        if keyring_core::get_default_store().is_none() {
            keyring_core::set_default_store(keyring_core::mock::Store::new().unwrap());
        }
    });
}

/// The window on `home`, at `size`.
pub fn window_sized(home: &Pipit, size: egui::Vec2) -> Harness<'static, PipitApp> {
    mock_keychain();
    let app = PipitApp::new(Paths::under(home.home()), None);
    Harness::builder()
        .with_size(size)
        .allow_missing_glyphs()
        .build_ui_state(|ui, app: &mut PipitApp| app.ui(ui), app)
}

/// The window on `home`, at a laptop's size.
pub fn window(home: &Pipit) -> Harness<'static, PipitApp> {
    window_sized(home, egui::vec2(1280.0, 800.0))
}

/// Steps the window until `done`, for at most 30 s.
pub fn wait(h: &mut Harness<'_, PipitApp>, what: &str, done: impl Fn(&PipitApp) -> bool) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        h.step();
        if done(h.state()) {
            h.step();
            h.step();
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for: {what}; banner: {:?}; dialog: {:?}",
            h.state().banner,
            h.state().account_dialog
        );
        std::thread::sleep(Duration::from_millis(15));
    }
}

pub fn steps(h: &mut Harness<'_, PipitApp>, n: usize) {
    for _ in 0..n {
        h.step();
    }
}

/// The On server view with only the messages known by their headers, as
/// the view was before it listed everything on the server (issue 18).
pub fn on_server_headers_only(h: &mut Harness<'_, PipitApp>) {
    h.get_by_label("On server").click();
    wait(h, "the On server view", |app| {
        app.view == pipit::app::View::OnServer
    });
    h.get_by_label_contains("Headers only (").click();
    h.step();
}

/// Replaces the text of the field labelled `label` with `text`, as typed.
pub fn replace_text(h: &mut Harness<'_, PipitApp>, label: &str, text: &str) {
    h.get_by_label(label).focus();
    h.step();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.step();
    h.get_by_label(label).type_text(text);
    h.step();
}

/// The config file of `home`, as saved.
pub fn config_of(home: &Pipit) -> pipit::config::Config {
    pipit::config::Config::load(&home.home().join("config.toml")).unwrap()
}

/// A port nothing listens on.
pub fn closed_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

/// From a new account's address step to its fields, typed by hand.
pub fn manual_setup(h: &mut Harness<'_, PipitApp>) {
    h.get_by_label("Manual setup").click();
    steps(h, 3);
}

/// As [`replace_text`], for a text field whose label another widget shares
/// (a column of the list behind a dialog, say).
pub fn replace_field(h: &mut Harness<'_, PipitApp>, label: &str, text: &str) {
    let role = egui::accesskit::Role::TextInput;
    h.get_by_role_and_label(role, label).focus();
    h.step();
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::A);
    h.step();
    h.get_by_role_and_label(role, label).type_text(text);
    h.step();
}
