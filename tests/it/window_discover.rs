//! A new account from its address and password in the window
//! (egui_kittest): Pipit looks the server up (here the provider's
//! autoconfig document, served by a local HTTPS server with a test CA),
//! shows what it found and where from, tests the connection (trusting the
//! test server's certificate when asked), saves, and the mail comes.

use egui_kittest::kittest::{NodeT as _, Queryable as _};

use crate::support::dns::Dns;
use crate::support::dovecot::Dovecot;
use crate::support::https::{Https, Reply, autoconfig};
use crate::support::window::{replace_text, steps, wait, window};
use crate::support::{Pipit, mail};

#[test]
fn window_a_new_account_from_its_address_finds_its_server_and_fetches() {
    let dovecot = Dovecot::start(&[mail::sized(1, 500), mail::sized(2, 500)]);
    let https = Https::start(&["autoconfig.example.test"]);
    https.route(
        "autoconfig.example.test",
        "/mail/config-v1.1.xml",
        Reply::Xml(autoconfig(
            "pop.example.test",
            995,
            "SSL",
            "%EMAILLOCALPART%",
        )),
    );
    let dns = Dns::start();
    // This process's lookups go to the test servers (the window runs here),
    // until the test ends.
    let _settings = TestSettings::point_at(
        &https,
        &dns,
        &[format!(
            "pop.example.test:995=127.0.0.1:{}",
            dovecot.tls_port
        )],
    );

    let home = Pipit::new();
    let mut h = window(&home);
    steps(&mut h, 6);
    h.get_by_label_contains("Your email address and password");
    // Who sees what, before anything is asked.
    h.get_by_label_contains("never your password");
    replace_text(&mut h, "Email address", "alice@example.test");
    replace_text(&mut h, "Password", "secret");
    h.get_by_label("Continue").click();
    wait(&mut h, "the lookup", |app| {
        app.account_dialog
            .as_ref()
            .is_some_and(|d| d.found.is_some())
    });
    h.get_by_label_contains(
        "Found by the provider's autoconfig document: pop.example.test, port 995, TLS",
    );
    assert_eq!(
        h.get_by_label("Server").value().as_deref(),
        Some("pop.example.test")
    );
    assert_eq!(
        h.get_by_label("User name").value().as_deref(),
        Some("alice")
    );

    // The fields' dialog settles over a few frames before it takes clicks.
    steps(&mut h, 6);
    h.get_by_label("Test connection").click();
    wait(
        &mut h,
        "the test to meet the test server's certificate",
        |app| {
            app.account_dialog
                .as_ref()
                .is_some_and(|d| format!("{:?}", d.status).contains("Untrusted"))
        },
    );
    h.get_by_label("Trust this certificate").click();
    wait(&mut h, "the test to pass", |app| {
        app.account_dialog
            .as_ref()
            .is_some_and(|d| format!("{:?}", d.status).contains("Passed"))
    });
    h.get_by_label("Save").click();
    wait(&mut h, "the save and the first Get Mail", |app| {
        app.account_dialog.is_none() && app.fetching.is_empty() && app.rows.len() == 2
    });
    assert_eq!(
        https.asked(),
        ["autoconfig.example.test/mail/config-v1.1.xml"],
        "asked once, of the provider"
    );
}

/// The lookups' test settings, taken back when the test ends (an empty
/// setting is no setting). They are the process's: one test at a time.
struct TestSettings(#[allow(dead_code)] std::sync::MutexGuard<'static, ()>);

static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());

impl TestSettings {
    /// Lookups go to these test servers until the test ends.
    fn point_at(https: &Https, dns: &Dns, hosts: &[String]) -> TestSettings {
        let guard = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
        let mut all = vec![format!(
            "autoconfig.example.test:443=127.0.0.1:{}",
            https.port
        )];
        all.extend(hosts.iter().cloned());
        pipit::failpoint::set_test_setting("PIPIT_DISCOVER_HOSTS", &all.join(","));
        pipit::failpoint::set_test_setting("PIPIT_DISCOVER_CA", &https.ca.display().to_string());
        pipit::failpoint::set_test_setting("PIPIT_DISCOVER_DNS", &dns.addr.to_string());
        pipit::failpoint::set_test_setting("PIPIT_DISCOVER_ISPDB", "https://ispdb.test/v1.1/");
        TestSettings(guard)
    }
}

impl Drop for TestSettings {
    fn drop(&mut self) {
        for name in [
            "PIPIT_DISCOVER_HOSTS",
            "PIPIT_DISCOVER_CA",
            "PIPIT_DISCOVER_DNS",
            "PIPIT_DISCOVER_ISPDB",
        ] {
            pipit::failpoint::set_test_setting(name, "");
        }
    }
}

#[test]
fn window_an_address_at_a_provider_that_wants_a_sign_in_leads_to_it() {
    let home = Pipit::new();
    let mut h = window(&home);
    steps(&mut h, 6);
    replace_text(&mut h, "Email address", "someone@gmail.com");
    replace_text(&mut h, "Password", "not-needed");
    h.get_by_label("Continue").click();
    wait(&mut h, "the sign-in to take over", |app| {
        app.sign_in_dialog.is_some()
    });
    // Above the address step, which Cancel comes back to.
    assert!(h.state().account_dialog.is_some());
    h.get_by_label("Sign in with Google");
    assert_eq!(
        h.get_by_label("Sign in as").value().as_deref(),
        Some("someone@gmail.com")
    );
    // Escape closes the dialog on top: the sign-in.
    h.key_press(egui::Key::Escape);
    steps(&mut h, 3);
    assert!(h.state().sign_in_dialog.is_none());
    assert_eq!(
        h.get_by_label("Email address").value().as_deref(),
        Some("someone@gmail.com"),
        "what was typed is still there"
    );
}

#[test]
fn window_a_found_server_in_another_domain_is_used_only_once_the_user_says_so() {
    let dovecot = Dovecot::start(&[mail::sized(1, 500)]);
    let https = Https::start(&["autoconfig.example.test"]);
    https.route(
        "autoconfig.example.test",
        "/mail/config-v1.1.xml",
        Reply::Xml(autoconfig(
            "pop.elsewhere.test",
            995,
            "SSL",
            "%EMAILADDRESS%",
        )),
    );
    let dns = Dns::start();
    let _settings = TestSettings::point_at(
        &https,
        &dns,
        &[format!(
            "pop.elsewhere.test:995=127.0.0.1:{}",
            dovecot.tls_port
        )],
    );
    let home = Pipit::new();
    let mut h = window(&home);
    steps(&mut h, 6);
    replace_text(&mut h, "Email address", "alice@example.test");
    replace_text(&mut h, "Password", "secret");
    h.get_by_label("Continue").click();
    wait(&mut h, "the lookup", |app| {
        app.account_dialog
            .as_ref()
            .is_some_and(|d| d.found.is_some())
    });
    steps(&mut h, 6);
    h.get_by_label_contains("This server is not in your address's domain");
    // No password goes there, by a test or a save, before the user's word.
    for button in ["Save", "Test connection"] {
        assert!(
            h.get_by_label(button).accesskit_node().is_disabled(),
            "{button} waits for the user's word"
        );
    }
    h.get_by_label("Use this server anyway").click();
    steps(&mut h, 3);
    assert!(!h.get_by_label("Save").accesskit_node().is_disabled());
    assert!(
        !h.get_by_label("Test connection")
            .accesskit_node()
            .is_disabled()
    );
    // Another server typed by hand: the note about the found one goes.
    replace_text(&mut h, "Server", "pop.example.test");
    steps(&mut h, 3);
    assert!(
        h.query_by_label_contains("not in your address's domain")
            .is_none()
    );
    assert!(h.query_by_label("Use this server anyway").is_none());
}
