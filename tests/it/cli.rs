//! The command line itself: usage errors, accounts, export, backup.

use crate::support::{Pipit, describe, fake, stderr};

#[test]
fn usage_errors_exit_2() {
    let pipit = Pipit::new();
    let out = pipit.run(&["fetch", "--bogus"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    let out = pipit.run(&[
        "account",
        "add",
        "x",
        "--host",
        "h",
        "--user",
        "u",
        "--password-command",
        "true",
        "--policy",
        "sometimes",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(stderr(&out).contains("keep-days:N"), "{}", describe(&out));
    let out = pipit.run(&[
        "account",
        "add",
        "x",
        "--host",
        "h",
        "--user",
        "u",
        "--password-command",
        "true",
        "--trust-fingerprint",
        "12:34",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
    assert!(stderr(&out).contains("64 hex digits"));
}

#[test]
fn account_settings_that_cannot_work_are_usage_errors_that_save_nothing() {
    let pipit = Pipit::new();
    // Adds account `name` with these settings changed from good ones; `None`
    // leaves a setting out.
    let add = |name: &str, change: &[(&str, Option<&str>)], says: &str| {
        let mut settings = vec![
            ("--host", Some("pop.example.org")),
            ("--user", Some("alice")),
            ("--password-command", Some("printf secret")),
        ];
        for &(option, value) in change {
            match settings.iter_mut().find(|(o, _)| *o == option) {
                Some(setting) => setting.1 = value,
                None => settings.push((option, value)),
            }
        }
        let mut args = vec!["account", "add", name];
        for (option, value) in &settings {
            if option.starts_with("--password-stdin") {
                args.push(option);
            } else if let Some(value) = value {
                args.extend([*option, *value]);
            }
        }
        let out = pipit.run_with_stdin(&args, b"secret\n");
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", describe(&out));
        assert!(stderr(&out).contains(says), "{args:?}: {}", describe(&out));
        assert!(
            !pipit.home().join("config.toml").exists(),
            "{args:?} saved an account"
        );
    };
    add(
        "x",
        &[("--host", Some(""))],
        "pipit: --host: the server name is empty; give a name like pop.example.org, or an address like 192.0.2.7",
    );
    add(
        "x",
        &[("--host", Some("pop example.org"))],
        "--host: \"pop example.org\" is not a server name: it has a space",
    );
    add(
        "x",
        &[("--host", Some("pop.example.org:995"))],
        "--host: \"pop.example.org:995\" is not a server name: give the name alone, without pop3:// or a port",
    );
    add(
        "x",
        &[("--port", Some("0"))],
        "--port: 0 is not a port; use a number from 1 to 65535 (995 for tls)",
    );
    add(
        "x",
        &[("--port", Some("70000"))],
        "invalid value '70000' for '--port <PORT>'",
    );
    add(
        "x",
        &[("--user", Some(""))],
        "--user: the user name is empty; give the name the server knows you by",
    );
    add(
        "x",
        &[("--user", Some("alice\r\nDELE 1"))],
        "--user: \"alice\\r\\nDELE 1\" has a control character (a line break, perhaps)",
    );
    add(
        "",
        &[],
        "NAME: the account name is empty; give it a short name like home or work",
    );
    add(
        "x",
        &[("--max-size", Some("0"))],
        "--max-size: a limit of 0 bytes would keep every message on the server",
    );
    add(
        "x",
        &[("--timeout", Some("0"))],
        "--timeout: 0 seconds is not a timeout Pipit can use; give a number of seconds from 1 to 3600",
    );
    add(
        "x",
        &[("--password-command", Some("pass 'show"))],
        "--password-command: the password command has an unclosed quote",
    );
    // Checked before the keychain is asked (there is none here: that would be exit 1).
    add(
        "x",
        &[
            ("--password-command", None),
            ("--password-stdin", None),
            ("--host", Some("")),
        ],
        "--host: the server name is empty",
    );
}

#[test]
fn accounts_are_added_listed_and_removed_without_their_password() {
    // The password lives in a file outside Pipit's home; the account names
    // only the command that prints it. A fetch uses it, so Pipit has held it.
    let server = fake::FakeServer::start(
        vec![b"Subject: hi\r\n\r\nbody\r\n".to_vec()],
        fake::Faults::well_behaved(),
    );
    let elsewhere = tempfile::tempdir().unwrap();
    let password_file = elsewhere.path().join("pw");
    std::fs::write(&password_file, fake::PASSWORD).unwrap();
    let command = format!("cat {}", password_file.display());
    let pipit = Pipit::new();
    let port = server.port.to_string();
    let mut outputs = vec![pipit.ok(&[
        "account",
        "add",
        "home",
        "--host",
        "127.0.0.1",
        "--port",
        &port,
        "--security",
        "plain",
        "--user",
        "alice",
        "--password-command",
        &command,
    ])];
    let out = pipit.ok(&["account", "list", "--json"]);
    let accounts: Vec<serde_json::Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(accounts.len(), 1);
    assert_eq!(accounts[0]["password_command"], command.as_str());
    outputs.push(out);
    outputs.push(pipit.ok(&["account", "list"]));
    outputs.push(pipit.ok(&["fetch"]));
    assert!(
        server.sessions()[0].contains(&format!("PASS {}", fake::PASSWORD)),
        "the fetch logged in with the password: {:?}",
        server.sessions()
    );
    let dup = pipit.run(&[
        "account",
        "add",
        "home",
        "--host",
        "h",
        "--user",
        "u",
        "--password-command",
        "true",
    ]);
    assert_eq!(dup.status.code(), Some(1));
    assert!(stderr(&dup).contains("exists already"));
    outputs.push(dup);
    let config = std::fs::read_to_string(pipit.home().join("config.toml")).unwrap();
    outputs.push(pipit.ok(&["account", "remove", "home"]));

    // The password is in no output and no file of Pipit's, before or after
    // the removal; the config held the command, never what it printed.
    assert!(config.contains(&command), "{config}");
    let mut files = vec![(
        "config.toml before removal".to_string(),
        config.into_bytes(),
    )];
    for entry in std::fs::read_dir(pipit.home()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            files.push((path.display().to_string(), std::fs::read(&path).unwrap()));
        }
    }
    assert!(files.len() > 2, "the store was written: {files:?}");
    for out in &outputs {
        files.push((describe(out), [&out.stdout[..], &out.stderr].concat()));
    }
    for (what, bytes) in files {
        assert!(
            !bytes
                .windows(fake::PASSWORD.len())
                .any(|w| w == fake::PASSWORD.as_bytes()),
            "the password is in {what}"
        );
    }

    let out = pipit.run(&["account", "remove", "home"]);
    assert!(
        stderr(&out).contains("no account named"),
        "{}",
        describe(&out)
    );
    let out = pipit.run(&["fetch"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no account is set up"),
        "{}",
        describe(&out)
    );
}

#[test]
fn password_from_stdin_for_one_fetch() {
    let server = fake::FakeServer::start(
        vec![b"Subject: hi\r\n\r\nbody\r\n".to_vec()],
        fake::Faults::well_behaved(),
    );
    let pipit = Pipit::new();
    pipit.add_account(server.port, "plain", &["--password-command", "false"]);
    let out = pipit.run_with_stdin(
        &["fetch", "--account", "lab", "--password-stdin"],
        b"secret\n",
    );
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    assert!(stderr(&out).contains("1 downloaded"), "{}", describe(&out));
    let out = pipit.run(&["fetch"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("password command") && stderr(&out).contains("failed"),
        "{}",
        describe(&out)
    );
}

#[test]
fn export_and_backup_write_new_files_only() {
    let server = fake::FakeServer::start(
        vec![b"From: a@example.org\r\nSubject: one\r\n\r\nFrom the start\r\n".to_vec()],
        fake::Faults::well_behaved(),
    );
    let pipit = Pipit::new();
    pipit.add_account(server.port, "plain", &[]);
    pipit.ok(&["fetch"]);
    let mbox = pipit.home().join("out.mbox");
    pipit.ok(&["export", "--mbox", mbox.to_str().unwrap()]);
    let text = std::fs::read_to_string(&mbox).unwrap();
    assert!(text.starts_with("From a@example.org "), "{text}");
    assert!(text.contains("\n>From the start\r\n"), "{text}");
    let again = pipit.run(&["export", "--mbox", mbox.to_str().unwrap()]);
    assert_eq!(again.status.code(), Some(1));
    assert!(stderr(&again).contains("never overwritten"));

    let copy = pipit.home().join("backup.db");
    pipit.ok(&["backup", copy.to_str().unwrap()]);
    let restored = Pipit::new();
    std::fs::copy(&copy, restored.store_path()).unwrap();
    assert_eq!(restored.list().len(), 1);
}

#[test]
fn a_damaged_store_is_reported_and_left_alone() {
    let pipit = Pipit::new();
    let junk = b"not a database at all\n".repeat(100);
    std::fs::write(pipit.store_path(), &junk).unwrap();
    let out = pipit.run(&["list"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        stderr(&out).contains("damaged") && stderr(&out).contains("backup"),
        "{}",
        describe(&out)
    );
    assert_eq!(std::fs::read(pipit.store_path()).unwrap(), junk);
}

#[test]
fn account_edit_changes_what_it_is_told_checks_it_as_add_does_and_keeps_the_rest() {
    let pipit = Pipit::new();
    pipit.ok(&[
        "account",
        "add",
        "home",
        "--host",
        "pop.example.org",
        "--user",
        "alice",
        "--password-command",
        "printf secret",
        "--policy",
        "delete",
    ]);
    let config = || std::fs::read_to_string(pipit.home().join("config.toml")).unwrap();
    let before = config();

    // A bad value is a usage error naming the option, and nothing changes.
    for (args, says) in [
        (
            vec!["--host", "pop example.org"],
            "--host: \"pop example.org\" is not a server name",
        ),
        (vec!["--port", "0"], "--port: 0 is not a port"),
        (vec!["--user", ""], "--user: the user name is empty"),
        (
            vec!["--policy", "sometimes"],
            "unknown policy \"sometimes\"",
        ),
        (
            vec!["--ca-file", "/no/such.pem"],
            "the CA file /no/such.pem does not exist",
        ),
    ] {
        let mut all = vec!["account", "edit", "home"];
        all.extend(&args);
        let out = pipit.run(&all);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", describe(&out));
        assert!(stderr(&out).contains(says), "{args:?}: {}", describe(&out));
        assert_eq!(config(), before, "{args:?} changed the config");
    }
    let out = pipit.run(&["account", "edit", "nobody", "--port", "110"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        stderr(&out).contains("no account named \"nobody\""),
        "{}",
        describe(&out)
    );

    // Security moves a default port with it; the rest stays as it was.
    let out = pipit.ok(&[
        "account",
        "edit",
        "home",
        "--security",
        "starttls",
        "--max-size",
        "5000",
    ]);
    assert!(
        stderr(&out).contains("Changed account \"home\""),
        "{}",
        describe(&out)
    );
    let accounts: Vec<serde_json::Value> =
        serde_json::from_slice(&pipit.ok(&["account", "list", "--json"]).stdout).unwrap();
    let a = &accounts[0];
    assert_eq!(
        (
            &a["security"],
            &a["port"],
            &a["max_size"],
            &a["policy"],
            &a["host"]
        ),
        (
            &serde_json::json!("starttls"),
            &serde_json::json!(110),
            &serde_json::json!(5000),
            &serde_json::json!("delete"),
            &serde_json::json!("pop.example.org")
        )
    );
    let out = pipit.ok(&["account", "edit", "home", "--no-max-size"]);
    assert!(stderr(&out).contains("Changed"), "{}", describe(&out));
    let out = pipit.ok(&["account", "edit", "home"]);
    assert!(
        stderr(&out).contains("Nothing to change"),
        "{}",
        describe(&out)
    );
}
