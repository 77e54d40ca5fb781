//! Signing in with OAuth2 in the window (egui_kittest): an account whose
//! sign-in was revoked says so after Get Mail and offers Sign in again; a
//! code on another device signs it in (a local authorization server), a
//! real Dovecot takes the new token, and the mail comes.

use egui_kittest::Harness;
use egui_kittest::kittest::Queryable as _;
use pipit::app::PipitApp;
use pipit::config::{Account, AuthMethod, Policy};
use pipit::net::Security;
use pipit::oauth::{Grant, OAuthConfig};
use pipit::worker::SignInPrompt;

use crate::support::authserver::{AuthServer, CLIENT_ID};
use crate::support::dovecot::{self, Dovecot, OAUTH2_KEY, USER};
use crate::support::window::{replace_text, steps, wait, window};
use crate::support::{Pipit, mail};

/// An authorization server, a Dovecot that takes its tokens, and a Pipit
/// with account "lab" there whose sign-in the provider has revoked.
fn revoked_account() -> (AuthServer, Dovecot, Pipit) {
    let auth = AuthServer::start(|| {
        let now = pipit::dates::unix_now();
        dovecot::access_token(OAUTH2_KEY, USER, now - 10, now + 600)
    });
    let pop3 = Dovecot::start_with_oauth2(&mail::varied(5));
    let home = Pipit::new();
    let account = Account {
        name: "lab".into(),
        host: "127.0.0.1".into(),
        port: pop3.plain_port,
        security: Security::Plain,
        user: USER.into(),
        auth: AuthMethod::XOAuth2,
        password_command: None,
        policy: Policy::Keep,
        max_size: None,
        trust_fingerprint: None,
        ca_file: None,
        timeout_secs: 30,
        check_every_minutes: None,
        rules: Default::default(),
        oauth: Some(Box::new(OAuthConfig {
            provider: auth.issuer(),
            client_id: Some(CLIENT_ID.into()),
            client_secret: None,
            scope: None,
            key: pipit::oauth::new_key(),
        })),
    };
    // A sign-in whose access token ran out and whose refresh token the
    // provider no longer takes.
    crate::support::window::mock_keychain();
    let revoked = Grant {
        access_token: "stale".into(),
        refresh_token: Some("revoked-by-the-provider".into()),
        expires_at: Some(0),
        token_endpoint: format!("{}/token", auth.issuer()),
    };
    pipit::setup::add_signed_in(&home.home().join("config.toml"), account, &revoked).unwrap();
    (auth, pop3, home)
}

/// Get Mail fails for the revoked sign-in, and its fix opens the sign-in.
fn sign_in_again_offered(h: &mut Harness<'_, PipitApp>) {
    steps(h, 2);
    h.get_by_label("Get Mail").click();
    wait(h, "the fetch to fail", |app| {
        app.fetching.is_empty() && app.banner.is_some()
    });
    h.get_by_label_contains("sign-in has expired or was revoked. Sign in again.");
    h.get_by_label("Sign in again…").click();
    steps(h, 6);
    h.get_by_label_contains("Sign in again: lab");
}

fn signed_in_and_fetched(h: &mut Harness<'_, PipitApp>) {
    wait(h, "the sign-in and the fetch after it", |app| {
        app.sign_in_dialog.is_none() && app.fetching.is_empty() && app.rows.len() == 5
    });
    assert!(
        h.state().banner.as_ref().is_none_or(|b| !b.error),
        "{:?}",
        h.state().banner
    );
}

#[test]
fn window_a_revoked_sign_in_is_signed_in_again_with_a_code_and_the_mail_comes() {
    let (auth, _pop3, home) = revoked_account();
    let mut h = window(&home);
    h.state().attachment_folders.lock().unwrap().opener = "false".into();
    sign_in_again_offered(&mut h);
    h.get_by_label("Use a code on another device").click();
    // The code to enter elsewhere, and a Cancel while it waits.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while h.query_by_label_contains("WDJB-MJHT").is_none() {
        assert!(std::time::Instant::now() < deadline, "no code shown");
        steps(&mut h, 1);
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    h.get_by_label("Cancel");
    signed_in_and_fetched(&mut h);
    assert_eq!(auth.device_polls(), 3);
    assert_eq!(auth.problems(), Vec::<String>::new());
}

#[test]
fn window_a_revoked_sign_in_is_signed_in_again_in_the_browser() {
    let (auth, _pop3, home) = revoked_account();
    let mut h = window(&home);
    // A desktop whose opener finds no browser: the address is there to
    // open by hand.
    h.state().attachment_folders.lock().unwrap().opener = "false".into();
    sign_in_again_offered(&mut h);
    h.get_by_label("Sign in with your provider").click();
    let url = loop {
        steps(&mut h, 1);
        if let Some(SignInPrompt::Browser { url, .. }) =
            h.state().sign_in_dialog.as_ref().and_then(|d| d.prompt())
        {
            break url;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    wait(&mut h, "the opener to answer", |app| {
        matches!(
            app.sign_in_dialog.as_ref().and_then(|d| d.prompt()),
            Some(SignInPrompt::Browser {
                opened: Some(_),
                ..
            })
        )
    });
    h.get_by_label_contains("Pipit could not open a browser");
    h.get_by_label("Copy address");
    // The user's browser: the provider's page, then back to Pipit.
    let page = std::thread::spawn(move || {
        ureq::get(&url)
            .call()
            .map(|r| r.into_string().unwrap_or_default())
            .unwrap_or_else(|e| e.to_string())
    });
    signed_in_and_fetched(&mut h);
    assert!(page.join().unwrap().contains("Signed in."));
    assert_eq!(auth.asked(), ["refresh_token", "authorization_code"]);
    assert_eq!(auth.problems(), Vec::<String>::new());
}

#[test]
fn window_signing_in_a_new_account_says_what_is_missing_before_it_starts() {
    let home = Pipit::new();
    let mut h = window(&home);
    steps(&mut h, 6);
    h.get_by_label_contains("Welcome to Pipit");
    h.get_by_label("Sign in instead…").click();
    steps(&mut h, 6);
    h.get_by_label_contains("Sign in to your mailbox");
    h.get_by_label("Sign in with Microsoft").click();
    steps(&mut h, 3);
    h.get_by_label_contains("Sign in as: enter the email address you sign in with.");
    replace_text(&mut h, "Sign in as", "you@company.example");
    steps(&mut h, 3);
    h.get_by_label("Sign in with Microsoft").click();
    steps(&mut h, 3);
    if option_env!("PIPIT_MICROSOFT_CLIENT_ID").is_none() {
        h.get_by_label_contains("Client id: Pipit has no registration of its own with Microsoft");
    }
    // Another provider: the old provider's error goes.
    h.get_by_label("Another provider").click();
    steps(&mut h, 3);
    assert!(
        h.query_by_label_contains("registration of its own")
            .is_none()
    );
    replace_text(&mut h, "Provider address", "http://id.example.org");
    replace_text(&mut h, "Client id", "pipit");
    steps(&mut h, 3);
    // Enter in a field presses the default, Sign in.
    h.key_press(egui::Key::Enter);
    steps(&mut h, 3);
    h.get_by_label_contains("is not HTTPS");
    assert!(!h.state().sign_in_dialog.as_ref().unwrap().waiting());
    // Escape closes the sign-in; the dialog it came from is still there.
    h.key_press(egui::Key::Escape);
    steps(&mut h, 3);
    assert!(h.state().sign_in_dialog.is_none());
    h.get_by_label_contains("Welcome to Pipit");
    assert!(!home.home().join("config.toml").exists());
}

#[test]
fn window_a_new_sign_in_is_saved_only_once_the_mail_server_takes_it() {
    let auth = AuthServer::start(|| "token-for-no-server".to_string());
    let home = Pipit::new();
    let mut h = window(&home);
    h.state().attachment_folders.lock().unwrap().opener = "false".into();
    steps(&mut h, 6);
    h.get_by_label("Sign in instead…").click();
    steps(&mut h, 6);
    h.get_by_label("Another provider").click();
    steps(&mut h, 3);
    replace_text(&mut h, "Sign in as", "alice@example.org");
    replace_text(&mut h, "Provider address", &auth.issuer());
    // Nothing listens there: the login after the sign-in cannot work.
    let closed = crate::support::window::closed_port();
    replace_text(&mut h, "Mail server", &format!("127.0.0.1:{closed}"));
    replace_text(&mut h, "Client id", CLIENT_ID);
    h.get_by_label("Sign in with your provider").click();
    let url = loop {
        steps(&mut h, 1);
        if let Some(SignInPrompt::Browser { url, .. }) =
            h.state().sign_in_dialog.as_ref().and_then(|d| d.prompt())
        {
            break url;
        }
        assert!(
            h.state()
                .sign_in_dialog
                .as_ref()
                .is_some_and(|d| d.error.is_none()),
            "{:?}",
            h.state().sign_in_dialog.as_ref().map(|d| d.error.clone())
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let page = std::thread::spawn(move || {
        ureq::get(&url)
            .call()
            .map(|r| r.into_string().unwrap_or_default())
            .map_err(|e| e.to_string())
    });
    wait(&mut h, "the login after the sign-in to fail", |app| {
        app.sign_in_dialog
            .as_ref()
            .is_some_and(|d| !d.waiting() && d.error.is_some())
    });
    assert!(page.join().unwrap().unwrap().contains("Signed in."));
    h.get_by_label_contains("could not be reached");
    assert_eq!(auth.asked(), ["authorization_code"]);
    assert!(!home.home().join("config.toml").exists(), "nothing saved");
}

#[test]
fn window_a_sign_in_for_a_mailbox_another_account_reads_is_refused() {
    let home = Pipit::new();
    home.ok(&[
        "account",
        "add",
        "work",
        "--host",
        "outlook.office365.com",
        "--user",
        "you@company.example",
        "--password-command",
        "printf x",
    ]);
    let mut h = window(&home);
    steps(&mut h, 2);
    h.get_by_label("Add account…").click();
    steps(&mut h, 6);
    h.get_by_label("Sign in instead…").click();
    steps(&mut h, 6);
    replace_text(&mut h, "Sign in as", "you@company.example");
    replace_text(&mut h, "Client id", "pipit");
    steps(&mut h, 3);
    h.get_by_label("Sign in with Microsoft").click();
    steps(&mut h, 3);
    h.get_by_label_contains("already reads this mailbox");
    assert!(!h.state().sign_in_dialog.as_ref().unwrap().waiting());
}
