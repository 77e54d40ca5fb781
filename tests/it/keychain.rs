//! Passwords in a real OS keychain (a test Secret Service), and nowhere else.

use std::path::Path;
use std::process::Output;

use crate::support::dovecot::{Dovecot, USER};
use crate::support::keyring::SecretService;
use crate::support::{Pipit, account_add_args, describe, mail, stderr};

const PASSWORD: &str = "Pw-7fQx9-only-in-the-keychain";
const WRONG: &str = "Wrong-3kLp2-not-the-password";

/// Every file under `dir`, searched for `needle` as bytes.
fn files_containing(dir: &Path, needle: &str) -> Vec<String> {
    let mut hits = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(bytes) = std::fs::read(&path)
                && bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
            {
                hits.push(path.display().to_string());
            }
        }
    }
    hits
}

fn assert_secret_kept(pipit: &Pipit, outputs: &[Output]) {
    for secret in [PASSWORD, WRONG] {
        let hits = files_containing(pipit.home(), secret);
        assert!(hits.is_empty(), "a password is written in {hits:?}");
        for out in outputs {
            let all = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(
                !all.contains(secret),
                "a password is in the program's output:\n{all}"
            );
        }
    }
}

#[test]
fn a_password_lives_in_the_keychain_and_nowhere_else() {
    let keyring = SecretService::start();
    let server = Dovecot::start_with_password(&mail::varied(20), PASSWORD);
    let pipit = Pipit::with_keyring(&keyring);
    let cert = server.cert();
    let mut outputs = Vec::new();

    let args = account_add_args(
        server.tls_port,
        "tls",
        &["--ca-file", cert.to_str().unwrap(), "--password-stdin"],
    );
    let add = pipit.run_with_stdin(
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
        format!("{PASSWORD}\n").as_bytes(),
    );
    assert_eq!(add.status.code(), Some(0), "{}", describe(&add));
    assert_eq!(
        keyring.lookup("alice@127.0.0.1").as_deref(),
        Some(PASSWORD),
        "filed as service pipit, user alice@host"
    );
    outputs.push(add);

    let fetch = pipit.run(&["fetch", "--json"]);
    assert_eq!(fetch.status.code(), Some(0), "{}", describe(&fetch));
    assert_eq!(pipit.list().len(), 20);
    outputs.push(fetch);

    // A wrong password, then a failed fetch.
    let set = pipit.run_with_stdin(
        &["account", "set-password", "lab", "--password-stdin"],
        format!("{WRONG}\n").as_bytes(),
    );
    assert_eq!(set.status.code(), Some(0), "{}", describe(&set));
    outputs.push(set);
    let failed = pipit.run(&["fetch"]);
    assert_eq!(failed.status.code(), Some(3), "{}", describe(&failed));
    outputs.push(failed);
    assert_secret_kept(&pipit, &outputs);

    let remove = pipit.run(&["account", "remove", "lab"]);
    assert_eq!(remove.status.code(), Some(0), "{}", describe(&remove));
    assert!(
        stderr(&remove).contains("removed from the keychain"),
        "{}",
        describe(&remove)
    );
    assert_eq!(
        keyring.lookup("alice@127.0.0.1"),
        None,
        "the keychain entry is gone"
    );
    outputs.push(remove);
    assert_secret_kept(&pipit, &outputs);
}

#[test]
fn set_password_moves_an_account_from_its_command_to_the_keychain() {
    let keyring = SecretService::start();
    let server = Dovecot::start_with_password(&mail::varied(2), PASSWORD);
    let pipit = Pipit::with_keyring(&keyring);
    server.account_for(&pipit, &["--password-command", "false"]);
    assert_eq!(pipit.run(&["fetch"]).status.code(), Some(1));
    let set = pipit.run_with_stdin(
        &["account", "set-password", "lab", "--password-stdin"],
        PASSWORD.as_bytes(),
    );
    assert!(
        stderr(&set).contains("now takes its password from the keychain"),
        "{}",
        describe(&set)
    );
    assert_eq!(pipit.fetch_ok()["downloaded"], 2);
}

#[test]
fn no_keychain_reachable_is_one_clear_message() {
    // No session bus at all (Pipit's test runs never see the developer's).
    let pipit = Pipit::new();
    let out = pipit.run_with_stdin(
        &[
            "account",
            "add",
            "lab",
            "--host",
            "127.0.0.1",
            "--user",
            USER,
            "--password-stdin",
        ],
        b"whatever\n",
    );
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let err = stderr(&out);
    assert!(
        err.contains("keychain is not reachable") && err.contains("D-Bus"),
        "{err}"
    );
    assert!(
        err.contains("unlock or install a keyring") && err.contains("--password-command"),
        "{err}"
    );
    assert!(
        !pipit.home().join("config.toml").exists(),
        "no account without its password"
    );

    // An account whose password is in a keychain that is not there now.
    std::fs::write(
        pipit.home().join("config.toml"),
        "[[account]]\nname = \"lab\"\nhost = \"127.0.0.1\"\nport = 995\nsecurity = \"tls\"\nuser = \"alice\"\npolicy = \"keep\"\n",
    )
    .unwrap();
    let out = pipit.run(&["fetch"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        stderr(&out).contains("keychain is not reachable"),
        "{}",
        describe(&out)
    );
}

#[test]
fn editing_the_server_moves_the_password_to_its_new_keychain_entry() {
    let keyring = SecretService::start();
    let server = Dovecot::start_with_password(&mail::varied(3), PASSWORD);
    let pipit = Pipit::with_keyring(&keyring);
    let args = account_add_args(
        server.tls_port,
        "tls",
        &[
            "--trust-fingerprint",
            &server.fingerprint(),
            "--password-stdin",
        ],
    );
    let add = pipit.run_with_stdin(
        &args.iter().map(String::as_str).collect::<Vec<_>>(),
        PASSWORD.as_bytes(),
    );
    assert_eq!(add.status.code(), Some(0), "{}", describe(&add));
    assert_eq!(pipit.fetch_ok()["downloaded"], 3);

    // The same server by its name: the keychain entry is filed by host.
    let edit = pipit.run(&["account", "edit", "lab", "--host", "localhost"]);
    assert_eq!(edit.status.code(), Some(0), "{}", describe(&edit));
    assert!(
        stderr(&edit).contains("Its mail stays"),
        "{}",
        describe(&edit)
    );
    assert_eq!(keyring.lookup("alice@localhost").as_deref(), Some(PASSWORD));
    assert_eq!(
        keyring.lookup("alice@127.0.0.1"),
        None,
        "the old entry is gone"
    );
    let again = pipit.fetch_ok();
    assert_eq!(
        (again["new"].as_u64(), again["downloaded"].as_u64()),
        (Some(0), Some(0)),
        "{again:#}"
    );
    assert_eq!(pipit.list().len(), 3);
    assert_secret_kept(&pipit, &[add, edit]);
}
