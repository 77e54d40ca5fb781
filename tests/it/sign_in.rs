//! Signing in with OAuth2 through the real binary: a local authorization
//! server (tests/it/support/authserver.rs), a stand-in browser that follows
//! the address Pipit opens (`BROWSER` set to a script using curl), a real
//! keychain (gnome-keyring) for the tokens, and a real Dovecot that checks
//! each access token itself (its oauth2 passdb) at an XOAUTH2 or OAUTHBEARER
//! login.

use std::os::unix::fs::PermissionsExt as _;
use std::process::Output;

use crate::support::authserver::{AuthServer, CLIENT_ID, Consent};
use crate::support::dovecot::{self, Dovecot, OAUTH2_KEY, USER};
use crate::support::keyring::SecretService;
use crate::support::{Pipit, describe, mail, require_tool, stderr};

/// A Pipit whose "browser" follows the sign-in address (and its redirect
/// to Pipit's loopback address) as a browser would.
fn pipit_with_browser(keyring: &SecretService) -> Pipit {
    require_tool("curl");
    let mut pipit = Pipit::with_keyring(keyring);
    let script = pipit.home().join("browser.sh");
    std::fs::write(
        &script,
        "#!/bin/sh\nexec curl -s -o /dev/null -L --max-redirs 3 --max-time 20 \"$1\"\n",
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    pipit
        .env
        .push(("BROWSER".into(), script.display().to_string()));
    pipit
}

/// An authorization server minting the JWTs the Dovecot checks, and that
/// Dovecot.
fn servers() -> (AuthServer, Dovecot) {
    let auth = AuthServer::start(|| {
        let now = pipit::dates::unix_now();
        dovecot::access_token(OAUTH2_KEY, USER, now - 10, now + 600)
    });
    let pop3 = Dovecot::start_with_oauth2(&mail::varied(5));
    (auth, pop3)
}

/// `account add lab … --oauth ISSUER` for the Dovecot over TLS, then `extra`.
fn add_args(auth: &AuthServer, pop3: &Dovecot, extra: &[&str]) -> Vec<String> {
    let port = pop3.tls_port.to_string();
    let issuer = auth.issuer();
    let cert = pop3.cert().display().to_string();
    let mut args: Vec<String> = [
        "account",
        "add",
        "lab",
        "--host",
        "127.0.0.1",
        "--port",
        &port,
        "--ca-file",
        &cert,
        "--user",
        USER,
        "--oauth",
        &issuer,
        "--client-id",
        CLIENT_ID,
    ]
    .map(String::from)
    .to_vec();
    args.extend(extra.iter().map(|a| a.to_string()));
    args
}

fn add(pipit: &Pipit, auth: &AuthServer, pop3: &Dovecot, extra: &[&str]) -> Output {
    let args = add_args(auth, pop3, extra);
    pipit.run(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

/// Where account "lab"'s sign-in is filed: its name and its random key.
fn grant_user(pipit: &Pipit) -> String {
    let config = std::fs::read_to_string(pipit.home().join("config.toml")).unwrap();
    let key = config
        .lines()
        .find_map(|l| l.strip_prefix("key = "))
        .expect("the sign-in's key is in the config")
        .trim_matches('"');
    format!("lab {key}")
}

/// No token is in a file under --home or in any output.
fn assert_tokens_kept(pipit: &Pipit, auth: &AuthServer, outputs: &[&Output]) {
    let tokens = auth.tokens();
    assert!(!tokens.is_empty());
    for token in tokens {
        for out in outputs {
            let all = format!("{}{}", String::from_utf8_lossy(&out.stdout), stderr(out));
            assert!(!all.contains(&token), "a token is in the output:\n{all}");
        }
        let mut stack = vec![pipit.home().to_path_buf()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                } else if let Ok(bytes) = std::fs::read(&path) {
                    assert!(
                        !bytes.windows(token.len()).any(|w| w == token.as_bytes()),
                        "a token is written in {}",
                        path.display()
                    );
                }
            }
        }
    }
}

#[test]
fn oauth_signing_in_in_the_browser_adds_the_account_and_it_fetches() {
    let keyring = SecretService::start();
    let (auth, pop3) = servers();
    let pipit = pipit_with_browser(&keyring);
    let added = add(&pipit, &auth, &pop3, &[]);
    assert_eq!(added.status.code(), Some(0), "{}", describe(&added));
    assert!(
        stderr(&added).contains("Opening your browser to sign in"),
        "{}",
        describe(&added)
    );
    assert_eq!(auth.problems(), Vec::<String>::new());
    assert_eq!(auth.asked(), ["authorization_code"]);
    let kept = keyring
        .lookup_in("pipit-oauth", &grant_user(&pipit))
        .expect("the sign-in is in the keychain");
    assert!(kept.contains("refresh_token"));
    let config = std::fs::read_to_string(pipit.home().join("config.toml")).unwrap();
    assert!(
        config.contains("[accounts.oauth]") || config.contains("oauth"),
        "{config}"
    );

    let fetch = pipit.run(&["fetch", "--json"]);
    assert_eq!(fetch.status.code(), Some(0), "{}", describe(&fetch));
    assert_eq!(pipit.list().len(), 5);
    // The access token was fresh: no refresh.
    assert_eq!(auth.asked(), ["authorization_code"]);
    assert_tokens_kept(&pipit, &auth, &[&added, &fetch]);
}

#[test]
fn oauth_an_expired_token_is_renewed_without_a_prompt_and_a_revoked_one_asks_to_sign_in_again() {
    let keyring = SecretService::start();
    let (auth, pop3) = servers();
    let pipit = pipit_with_browser(&keyring);
    // Tokens that are stale at once: every fetch must renew.
    auth.set_expires_in(0);
    let added = add(&pipit, &auth, &pop3, &[]);
    assert_eq!(added.status.code(), Some(0), "{}", describe(&added));
    let first = pipit.run(&["fetch", "--json"]);
    assert_eq!(first.status.code(), Some(0), "{}", describe(&first));
    let second = pipit.run(&["fetch", "--json"]);
    assert_eq!(second.status.code(), Some(0), "{}", describe(&second));
    assert_eq!(
        auth.asked(),
        ["authorization_code", "refresh_token", "refresh_token"]
    );

    auth.revoke_all();
    let refused = pipit.run(&["fetch", "--json"]);
    assert_eq!(refused.status.code(), Some(3), "{}", describe(&refused));
    let said = String::from_utf8_lossy(&refused.stdout);
    assert!(
        said.contains("\"lab: the sign-in has expired or was revoked: sign in again (pipit account sign-in lab) (The refresh token was revoked)\""),
        "{}",
        describe(&refused)
    );
    // Asked once, not in a loop.
    assert_eq!(auth.asked().len(), 4);

    let again = pipit.run(&["account", "sign-in", "lab"]);
    assert_eq!(again.status.code(), Some(0), "{}", describe(&again));
    let after = pipit.run(&["fetch", "--json"]);
    assert_eq!(after.status.code(), Some(0), "{}", describe(&after));
    assert_tokens_kept(
        &pipit,
        &auth,
        &[&added, &first, &second, &refused, &again, &after],
    );
}

#[test]
fn oauth_a_forged_answer_is_ignored_and_a_refusal_saves_nothing() {
    let keyring = SecretService::start();
    let (auth, pop3) = servers();
    let pipit = pipit_with_browser(&keyring);
    let nothing_saved = || {
        let config = pipit.home().join("config.toml");
        assert!(!config.exists() || !std::fs::read_to_string(&config).unwrap().contains("lab"));
        assert_eq!(keyring.users_in("pipit-oauth"), Vec::<String>::new());
    };

    // An answer with another state (another program, a web page) ends
    // nothing: Pipit refuses it and waits on for the real one.
    auth.set_consent(Consent::WrongState);
    let mut child = pipit
        .command()
        .args(add_args(&auth, &pop3, &[]))
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while auth.redirects() == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "the browser never came"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // The forged answer has reached Pipit (curl waits for its page).
    std::thread::sleep(std::time::Duration::from_secs(1));
    let waiting = child.try_wait().unwrap().is_none();
    child.kill().unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        waiting,
        "the forged answer ended the sign-in: {}",
        describe(&out)
    );
    assert!(
        stderr(&out).contains("Waiting for the browser"),
        "{}",
        describe(&out)
    );
    nothing_saved();

    // The user says no in the browser.
    auth.set_consent(Consent::Deny);
    let out = add(&pipit, &auth, &pop3, &[]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        stderr(&out).contains("the sign-in was cancelled"),
        "{}",
        describe(&out)
    );
    nothing_saved();
    // No code was traded for tokens.
    assert_eq!(auth.asked(), Vec::<String>::new());
}

#[test]
fn oauth_signing_in_with_a_code_on_another_device_waits_as_told() {
    let keyring = SecretService::start();
    let (auth, pop3) = servers();
    let pipit = Pipit::with_keyring(&keyring);
    let added = add(&pipit, &auth, &pop3, &["--device"]);
    assert_eq!(added.status.code(), Some(0), "{}", describe(&added));
    assert!(
        stderr(&added).contains("enter the code WDJB-MJHT"),
        "{}",
        describe(&added)
    );
    // Pending, then "slow down", then the tokens: three polls, no more.
    assert_eq!(auth.device_polls(), 3);
    assert_eq!(auth.problems(), Vec::<String>::new());
    let fetch = pipit.run(&["fetch", "--json"]);
    assert_eq!(fetch.status.code(), Some(0), "{}", describe(&fetch));
}

#[test]
fn oauth_mistakes_on_the_command_line_are_usage_errors() {
    let pipit = Pipit::new();
    let no_client = pipit.run(&[
        "account",
        "add",
        "x",
        "--host",
        "127.0.0.1",
        "--user",
        "a",
        "--oauth",
        "https://id.example.org",
    ]);
    assert_eq!(no_client.status.code(), Some(2), "{}", describe(&no_client));
    assert!(
        stderr(&no_client).contains("--client-id"),
        "{}",
        describe(&no_client)
    );
    let plain_issuer = pipit.run(&[
        "account",
        "add",
        "x",
        "--host",
        "127.0.0.1",
        "--user",
        "a",
        "--oauth",
        "http://id.example.org",
        "--client-id",
        "c",
    ]);
    assert_eq!(
        plain_issuer.status.code(),
        Some(2),
        "{}",
        describe(&plain_issuer)
    );
    assert!(
        stderr(&plain_issuer).contains("not HTTPS"),
        "{}",
        describe(&plain_issuer)
    );
    let unknown = pipit.run(&["account", "add", "x", "--user", "a", "--oauth", "yahoo"]);
    assert_eq!(unknown.status.code(), Some(2), "{}", describe(&unknown));
    assert!(
        stderr(&unknown).contains("not a provider Pipit knows"),
        "{}",
        describe(&unknown)
    );
    let plain_login = pipit.run(&[
        "account",
        "add",
        "x",
        "--host",
        "127.0.0.1",
        "--user",
        "a",
        "--oauth",
        "https://id.example.org",
        "--client-id",
        "c",
        "--auth",
        "plain",
    ]);
    assert_eq!(
        plain_login.status.code(),
        Some(2),
        "{}",
        describe(&plain_login)
    );
    assert!(
        stderr(&plain_login)
            .contains("--auth: an account that signs in with OAuth2 logs in with its token"),
        "{}",
        describe(&plain_login)
    );
    assert!(!pipit.home().join("config.toml").exists());
}

#[test]
fn oauth_a_signed_in_account_keeps_its_sign_in_through_an_edit_and_loses_it_when_removed() {
    let keyring = SecretService::start();
    let (auth, pop3) = servers();
    let pipit = pipit_with_browser(&keyring);
    let added = add(&pipit, &auth, &pop3, &[]);
    assert_eq!(added.status.code(), Some(0), "{}", describe(&added));
    // Another way to the server, and OAUTHBEARER: the sign-in stays the account's.
    let edit = pipit.run(&[
        "account",
        "edit",
        "lab",
        "--port",
        &pop3.plain_port.to_string(),
        "--security",
        "plain",
        "--auth",
        "oauthbearer",
    ]);
    assert_eq!(edit.status.code(), Some(0), "{}", describe(&edit));
    let fetch = pipit.run(&["fetch", "--json"]);
    assert_eq!(fetch.status.code(), Some(0), "{}", describe(&fetch));
    assert_eq!(pipit.list().len(), 5);
    assert!(
        keyring
            .lookup_in("pipit-oauth", &grant_user(&pipit))
            .is_some()
    );

    // It has no password to set.
    let set = pipit.run_with_stdin(
        &["account", "set-password", "lab", "--password-stdin"],
        b"pw\n",
    );
    assert_eq!(set.status.code(), Some(2), "{}", describe(&set));
    assert!(
        stderr(&set).contains("signs in with OAuth2 and has no password"),
        "{}",
        describe(&set)
    );
    let command = pipit.run(&["account", "edit", "lab", "--password-command", "printf pw"]);
    assert_eq!(command.status.code(), Some(2), "{}", describe(&command));

    let removed = pipit.run(&["account", "remove", "lab"]);
    assert_eq!(removed.status.code(), Some(0), "{}", describe(&removed));
    assert!(
        stderr(&removed).contains("Its sign-in was removed from the keychain."),
        "{}",
        describe(&removed)
    );
    assert_eq!(keyring.users_in("pipit-oauth"), Vec::<String>::new());
    // Only the sign-in went: no new sign-in was asked for.
    assert_eq!(auth.asked(), ["authorization_code"]);
}

#[test]
fn oauth_signing_in_again_is_only_for_oauth_accounts() {
    let keyring = SecretService::start();
    let pipit = Pipit::with_keyring(&keyring);
    pipit.add_account(1995, "plain", &[]);
    let out = pipit.run(&["account", "sign-in", "lab"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(
        stderr(&out).contains("logs in with a password, not OAuth2"),
        "{}",
        describe(&out)
    );
}

#[test]
fn oauth_a_token_the_server_refuses_before_its_time_is_renewed_once() {
    let keyring = SecretService::start();
    // The first access token runs out at the mail server after 2 s, while
    // the provider said an hour: the server refuses it as Pipit still
    // holds it fresh.
    let minted = std::sync::atomic::AtomicU32::new(0);
    let auth = AuthServer::start(move || {
        let now = pipit::dates::unix_now();
        let first = minted.fetch_add(1, std::sync::atomic::Ordering::SeqCst) == 0;
        dovecot::access_token(
            OAUTH2_KEY,
            USER,
            now - 10,
            now + if first { 2 } else { 600 },
        )
    });
    let pop3 = Dovecot::start_with_oauth2(&mail::varied(5));
    let pipit = pipit_with_browser(&keyring);
    let added = add(&pipit, &auth, &pop3, &[]);
    assert_eq!(added.status.code(), Some(0), "{}", describe(&added));
    std::thread::sleep(std::time::Duration::from_secs(3));
    let fetch = pipit.run(&["fetch", "--json"]);
    assert_eq!(fetch.status.code(), Some(0), "{}", describe(&fetch));
    assert_eq!(pipit.list().len(), 5);
    assert_eq!(auth.asked(), ["authorization_code", "refresh_token"]);
    assert!(pop3.log().contains("expired"), "{}", pop3.log());
}
