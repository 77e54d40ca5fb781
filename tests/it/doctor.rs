//! `pipit doctor`: the real binary examines a real Dovecot (no check fails)
//! and the scripted server's quirks (each found by its check), and never
//! sends a DELE nor more than one RETR.

use serde_json::Value;

use crate::support::dovecot::Dovecot;
use crate::support::fake::{FakeServer, Faults};
use crate::support::{Pipit, describe, mail};

/// The ids every report has, in order.
const IDS: [&str; 16] = [
    "tls",
    "certificate",
    "capa",
    "auth",
    "uidl",
    "uidl-unique",
    "uidl-stable",
    "top",
    "list-size",
    "dot-stuffing",
    "pipelining",
    "line-endings",
    "login-delay",
    "expire",
    "latency",
    "throughput",
];

/// A mailbox whose smallest message (the one the doctor reads) has lines
/// that start with a dot, then varied mail.
fn mailbox() -> Vec<Vec<u8>> {
    let mut m = vec![
        b"From: a@example.org\r\nSubject: dots\r\nMessage-ID: <dots@example.org>\r\n\r\n..double\r\n.single\r\nplain\r\nend\r\n"
            .to_vec(),
    ];
    m.extend(mail::varied(5));
    m
}

fn check<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .expect("checks is an array")
        .iter()
        .find(|c| c["id"] == id)
        .unwrap_or_else(|| panic!("no check {id} in {report:#}"))
}

fn status(report: &Value, id: &str) -> String {
    check(report, id)["status"].as_str().unwrap().to_string()
}

fn detail(report: &Value, id: &str) -> String {
    check(report, id)["detail"].as_str().unwrap().to_string()
}

/// Runs `pipit doctor --json` (plus `extra`); its exit status and report.
fn doctor(pipit: &Pipit, extra: &[&str]) -> (i32, Value) {
    let mut args = vec!["doctor", "--json"];
    args.extend_from_slice(extra);
    let out = pipit.run(&args);
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("doctor --json printed no JSON ({e}):\n{}", describe(&out)));
    let ids: Vec<&str> = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, IDS, "{report:#}");
    for c in report["checks"].as_array().unwrap() {
        let s = c["status"].as_str().unwrap();
        assert!(["ok", "warn", "fail", "skip"].contains(&s), "{c}");
        assert!(!c["detail"].as_str().unwrap().is_empty(), "{c}");
    }
    (out.status.code().unwrap_or(-1), report)
}

/// A fake server with these faults and [`mailbox`], and a Pipit with an
/// account for it (plain text on loopback unless `security` says).
fn fake(faults: Faults, security: &str) -> (FakeServer, Pipit) {
    let server = FakeServer::start(mailbox(), faults);
    let pipit = Pipit::new();
    pipit.add_account(server.port, security, &["--timeout", "3"]);
    (server, pipit)
}

/// Never a DELE; at most one RETR per examination (`runs` of them).
fn read_only(server: &FakeServer, runs: usize) {
    assert_eq!(server.count("DELE"), 0, "{:?}", server.sessions());
    assert!(server.count("RETR") <= runs, "{:?}", server.sessions());
    assert_eq!(server.mailbox(), mailbox(), "the mailbox is untouched");
}

fn with_capa(extra: &[&str]) -> Faults {
    let mut f = Faults::well_behaved();
    f.capa
        .as_mut()
        .unwrap()
        .extend(extra.iter().map(|s| s.to_string()));
    f
}

#[test]
fn doctor_finds_no_fail_on_a_real_dovecot() {
    let server = Dovecot::start(&mailbox());
    let pipit = Pipit::new();
    server.account_for(&pipit, &[]);
    let (code, report) = doctor(&pipit, &[]);
    assert_eq!(code, 0, "{report:#}");
    for c in report["checks"].as_array().unwrap() {
        assert_ne!(c["status"], "fail", "{c}");
    }
    assert_eq!(report["server"]["messages"], 6);
    assert_eq!(report["server"]["host"], "127.0.0.1");
    let tls = check(&report, "tls");
    assert_eq!(tls["status"], "ok", "{tls}");
    assert!(
        tls["version"].as_str().unwrap().starts_with("TLSv1."),
        "{tls}"
    );
    assert!(!tls["cipher"].as_str().unwrap().is_empty());
    assert_eq!(tls["hostname_valid"], true);
    // Self-signed, trusted by its pinned fingerprint, made for 30 days.
    let cert = check(&report, "certificate");
    assert_eq!(cert["status"], "warn", "{cert}");
    assert_eq!(cert["self_signed"], true);
    assert!(
        (28..=30).contains(&cert["days_left"].as_i64().unwrap()),
        "{cert}"
    );
    assert_eq!(cert["fingerprint"], server.fingerprint());
    for id in [
        "capa",
        "auth",
        "uidl",
        "uidl-unique",
        "uidl-stable",
        "top",
        "list-size",
        "dot-stuffing",
        "pipelining",
        "line-endings",
        "login-delay",
        "expire",
        "latency",
    ] {
        assert_eq!(status(&report, id), "ok", "{id}: {:#}", check(&report, id));
    }
    assert!(detail(&report, "auth").contains("logged in with SASL SCRAM-SHA-256"));
    assert!(detail(&report, "dot-stuffing").contains("2 lines that start with a dot"));
    assert!(detail(&report, "pipelining").starts_with("advertised, and safe"));
    assert_eq!(server.retrieved(), 1, "one RETR, no more");
    assert_eq!(server.messages().len(), 6, "nothing deleted");

    // The human report: one aligned line per check, then the summary.
    let out = pipit.run(&["doctor"]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    for id in IDS {
        assert!(
            text.lines()
                .any(|l| l.get(6..).is_some_and(|r| r.starts_with(id))),
            "no line for {id}:\n{text}"
        );
    }
    assert!(text.contains("WARN  certificate "), "{text}");

    // STARTTLS on the plain port: TLS after STLS, examined as well.
    let (port, fingerprint) = (server.plain_port.to_string(), server.fingerprint());
    let out = pipit.run(&[
        "doctor",
        "--host",
        "127.0.0.1",
        "--port",
        &port,
        "--security",
        "starttls",
        "--user",
        "alice",
        "--password-command",
        "printf secret",
        "--trust-fingerprint",
        &fingerprint,
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let starttls: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        detail(&starttls, "tls").contains("after STLS"),
        "{starttls:#}"
    );
    assert_eq!(check(&starttls, "certificate")["fingerprint"], fingerprint);
    assert!(
        text.trim_end()
            .lines()
            .last()
            .unwrap()
            .contains("usable, with warnings"),
        "{text}"
    );
}

#[test]
fn doctor_on_a_well_behaved_fake_server_fails_nothing() {
    let (server, pipit) = fake(Faults::well_behaved(), "plain");
    let (code, report) = doctor(&pipit, &[]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(status(&report, "tls"), "ok", "plain text to loopback");
    assert_eq!(status(&report, "certificate"), "skip");
    assert_eq!(status(&report, "dot-stuffing"), "ok");
    assert_eq!(status(&report, "uidl-stable"), "ok");
    assert_eq!(status(&report, "pipelining"), "ok");
    assert_eq!(server.count("RETR"), 1);
    read_only(&server, 1);
}

#[test]
fn doctor_finds_missing_and_repeated_uids() {
    let (server, pipit) = fake(
        Faults {
            no_uidl: true,
            ..Faults::well_behaved()
        },
        "plain",
    );
    let (code, report) = doctor(&pipit, &[]);
    // UIDL is advertised and answers -ERR: CAPA lies, and that fails.
    assert_eq!(code, 7, "{report:#}");
    assert_eq!(status(&report, "uidl"), "warn");
    assert!(detail(&report, "uidl").starts_with("no UIDL"), "{report:#}");
    assert_eq!(status(&report, "capa"), "fail");
    assert!(detail(&report, "capa").contains("UIDL answered -ERR"));
    assert_eq!(status(&report, "uidl-unique"), "skip");
    read_only(&server, 1);

    let (server, pipit) = fake(
        Faults {
            same_uid: Some("same".into()),
            ..Faults::well_behaved()
        },
        "plain",
    );
    let (code, report) = doctor(&pipit, &[]);
    assert_eq!(code, 7);
    assert_eq!(status(&report, "uidl-unique"), "fail");
    let d = detail(&report, "uidl-unique");
    assert!(
        d.starts_with("duplicate UIDs: 6 messages share 1 UIDs"),
        "{d}"
    );
    assert!(d.contains("fetched twice"), "{d}");
    assert!(
        check(&report, "uidl-unique")["pipit"]
            .as_str()
            .unwrap()
            .contains("tells them apart by content")
    );
    read_only(&server, 1);
}

#[test]
fn doctor_finds_uids_that_change_between_sessions() {
    let (server, pipit) = fake(
        Faults {
            uids_per_session: true,
            ..Faults::well_behaved()
        },
        "plain",
    );
    let (code, report) = doctor(&pipit, &[]);
    assert_eq!(code, 7);
    assert_eq!(status(&report, "uidl-stable"), "fail");
    assert!(detail(&report, "uidl-stable").contains("every UID changed"));
    assert_eq!(server.sessions().len(), 2, "a second session for UIDL");
    assert_eq!(server.count("DELE"), 0);
}

#[test]
fn doctor_finds_lying_sizes_bare_lf_and_bad_dot_stuffing() {
    let (server, pipit) = fake(
        Faults {
            list_size: Some(100),
            ..Faults::well_behaved()
        },
        "plain",
    );
    let (code, report) = doctor(&pipit, &[]);
    assert_eq!(code, 7);
    assert_eq!(status(&report, "list-size"), "fail");
    let d = detail(&report, "list-size");
    let want = format!(
        "lying sizes: LIST says message 1 is 100 octets, RETR gave {}",
        mailbox()[0].len()
    );
    assert!(d.starts_with(&want), "{d}");
    read_only(&server, 1);

    let (server, pipit) = fake(
        Faults {
            bare_lf: true,
            ..Faults::well_behaved()
        },
        "plain",
    );
    let (code, report) = doctor(&pipit, &[]);
    assert_eq!(status(&report, "line-endings"), "warn", "{report:#}");
    assert!(
        detail(&report, "line-endings").starts_with("bare LF line endings (LIST 6, UIDL 6, RETR 8")
    );
    // The message read with bare LFs is shorter than LIST says by exactly
    // its bare LFs: a server sizing with CRLF, said as such, not as lying
    // sizes (a postmaster would look for the wrong fault).
    assert_eq!(status(&report, "list-size"), "warn", "{report:#}");
    assert!(
        detail(&report, "list-size").contains("bare LF line ends, which LIST counts as CRLF"),
        "{report:#}"
    );
    let failed = report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["status"] == "fail");
    assert_eq!(code, if failed { 7 } else { 0 }, "{report:#}");
    read_only(&server, 1);

    let (server, pipit) = fake(
        Faults {
            top_unstuffed: true,
            ..Faults::well_behaved()
        },
        "plain",
    );
    let (code, report) = doctor(&pipit, &[]);
    assert_eq!(code, 7);
    assert_eq!(status(&report, "dot-stuffing"), "fail", "{report:#}");
    assert!(detail(&report, "dot-stuffing").starts_with("TOP and RETR disagree on message 1"));
    read_only(&server, 1);
}

#[test]
fn doctor_finds_broken_pipelining() {
    let (server, pipit) = fake(
        Faults {
            drop_pipelined: true,
            ..Faults::well_behaved()
        },
        "plain",
    );
    let (code, report) = doctor(&pipit, &[]);
    assert_eq!(code, 7);
    assert_eq!(status(&report, "pipelining"), "fail", "{report:#}");
    let d = detail(&report, "pipelining");
    assert!(
        d.starts_with("advertised, but 7 of 8 commands sent together were never answered"),
        "{d}"
    );
    // The rest was examined before, one command at a time.
    assert_eq!(status(&report, "top"), "ok");
    assert_eq!(status(&report, "uidl-stable"), "ok");
    read_only(&server, 1);
}

#[test]
fn doctor_finds_no_stls_and_sends_no_credential() {
    let (server, pipit) = fake(Faults::well_behaved(), "starttls");
    let (code, report) = doctor(&pipit, &[]);
    assert_eq!(code, 7);
    assert_eq!(status(&report, "tls"), "fail");
    assert!(
        detail(&report, "tls").contains("does not offer STLS"),
        "{report:#}"
    );
    assert_eq!(status(&report, "uidl"), "skip");
    assert!(detail(&report, "uidl").contains("no encrypted session"));
    let sent: Vec<String> = server.sessions().concat();
    assert_eq!(sent, vec!["CAPA"], "nothing but CAPA");
}

#[test]
fn doctor_reads_login_delay_and_expire_from_capa() {
    let (server, pipit) = fake(with_capa(&["LOGIN-DELAY 900", "EXPIRE 0"]), "plain");
    let (code, report) = doctor(&pipit, &[]);
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(status(&report, "login-delay"), "warn");
    assert!(detail(&report, "login-delay").contains("one login every 900 seconds"));
    assert_eq!(check(&report, "login-delay")["seconds"], 900);
    assert_eq!(status(&report, "expire"), "warn");
    assert!(
        detail(&report, "expire").starts_with("EXPIRE 0: the server deletes each message once")
    );
    assert_eq!(status(&report, "uidl-stable"), "skip");
    assert_eq!(
        server.sessions().len(),
        1,
        "no second login against LOGIN-DELAY"
    );
    read_only(&server, 1);
}

#[test]
fn doctor_finds_top_advertised_but_refused() {
    let (server, pipit) = fake(
        Faults {
            no_top: true,
            ..Faults::well_behaved()
        },
        "plain",
    );
    let (code, report) = doctor(&pipit, &[]);
    assert_eq!(code, 7);
    assert_eq!(status(&report, "top"), "warn");
    assert!(detail(&report, "top").starts_with("TOP is not supported"));
    assert_eq!(status(&report, "capa"), "fail");
    assert_eq!(status(&report, "dot-stuffing"), "skip");
    read_only(&server, 1);
}

#[test]
fn doctor_examines_a_server_given_on_the_command_line() {
    let server = FakeServer::start(mailbox(), Faults::well_behaved());
    let pipit = Pipit::new();
    let port = server.port.to_string();
    let out = pipit.run_with_stdin(
        &[
            "doctor",
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--security",
            "plain",
            "--user",
            "alice",
            "--password-stdin",
            "--json",
        ],
        b"secret\n",
    );
    assert_eq!(out.status.code(), Some(0), "{}", describe(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status(&report, "auth"), "ok");
    assert_eq!(report["server"]["user"], "alice");
    read_only(&server, 1);

    // A wrong password: the login fails, and the rest is not checked.
    let out = pipit.run_with_stdin(
        &[
            "doctor",
            "--host",
            "127.0.0.1",
            "--port",
            &port,
            "--security",
            "plain",
            "--user",
            "alice",
            "--password-stdin",
        ],
        b"wrong\n",
    );
    assert_eq!(out.status.code(), Some(7), "{}", describe(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("FAIL  auth "), "{text}");
    assert!(text.contains("the login failed"), "{text}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("failed 1 of the doctor's checks: auth"));
    assert!(!text.contains("wrong") && !text.contains("secret"));
}

#[test]
fn doctor_reads_the_smallest_message_with_leading_dots() {
    let plain = b"From: a@example.org\r\nSubject: tiny\r\n\r\nhi\r\n".to_vec();
    let mut messages = vec![plain];
    messages.extend(mailbox());
    let server = FakeServer::start(messages, Faults::well_behaved());
    let pipit = Pipit::new();
    pipit.add_account(server.port, "plain", &["--timeout", "3"]);
    let (code, report) = doctor(&pipit, &[]);
    assert_eq!(code, 0, "{report:#}");
    assert!(
        detail(&report, "dot-stuffing").starts_with("TOP and RETR agree on message 2"),
        "{report:#}"
    );
    let sent = server.sessions().concat();
    let retr: Vec<&String> = sent.iter().filter(|c| c.starts_with("RETR")).collect();
    assert_eq!(retr, ["RETR 2"], "{sent:?}");
    assert_eq!(server.count("DELE"), 0);
}

#[test]
fn doctor_still_examines_tls_when_the_login_is_refused() {
    let server = Dovecot::start(&mailbox());
    let pipit = Pipit::new();
    let fingerprint = server.fingerprint();
    pipit.add_account(
        server.tls_port,
        "tls",
        &[
            "--trust-fingerprint",
            &fingerprint,
            "--password-command",
            "printf wrong",
        ],
    );
    let (code, report) = doctor(&pipit, &[]);
    assert_eq!(code, 7, "{report:#}");
    assert_eq!(status(&report, "auth"), "fail");
    assert!(detail(&report, "auth").starts_with("the login failed"));
    assert_eq!(status(&report, "tls"), "ok", "{report:#}");
    assert_eq!(status(&report, "certificate"), "warn");
    assert_eq!(status(&report, "uidl"), "skip");
    assert!(detail(&report, "uidl").contains("the login failed"));

    // A certificate nobody vouches for: no login, and how to trust it.
    let port = server.tls_port.to_string();
    let out = pipit.run(&[
        "doctor",
        "--host",
        "127.0.0.1",
        "--port",
        &port,
        "--user",
        "alice",
        "--password-command",
        "printf secret",
        "--json",
    ]);
    assert_eq!(out.status.code(), Some(7), "{}", describe(&out));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(status(&report, "tls"), "fail");
    assert_eq!(status(&report, "certificate"), "fail");
    assert!(
        detail(&report, "certificate").contains("CN=localhost"),
        "{report:#}"
    );
    let fix = format!("--trust-fingerprint {fingerprint}");
    assert!(
        check(&report, "certificate")["pipit"]
            .as_str()
            .unwrap()
            .contains(&fix)
    );
    assert_eq!(status(&report, "auth"), "skip");
}

#[test]
fn doctor_says_where_the_session_broke_when_a_small_message_cannot_be_read() {
    // LIST says the message is small; RETR streams without end. The check
    // that read it fails with what broke, not "skip: the doctor reads none
    // over 65536" for a 101-octet message.
    let (server, pipit) = fake(
        Faults {
            endless_retr: Some(1),
            ..Faults::well_behaved()
        },
        "plain",
    );
    let (code, report) = doctor(&pipit, &[]);
    assert_eq!(code, 7, "{report:#}");
    assert_eq!(status(&report, "list-size"), "fail", "{report:#}");
    let d = detail(&report, "list-size");
    assert!(d.starts_with("the session broke here: "), "{d}");
    // And it stopped near its own bound for a small message, not at a
    // fetch's 64 MiB.
    let limit: usize = d
        .split(|c: char| !c.is_ascii_digit())
        .filter_map(|w| w.parse().ok())
        .max()
        .unwrap_or_else(|| panic!("no limit named: {d}"));
    assert!(limit <= 256 * 1024, "read up to {limit} bytes: {d}");
    read_only(&server, 1);
}

#[test]
fn doctor_retrieves_nothing_from_a_server_that_deletes_what_is_retrieved() {
    // EXPIRE 0: the server deletes a message once a session that retrieved
    // it ends. One RETR by the doctor would lose that message for good if
    // it was not downloaded yet.
    for capa in [&["EXPIRE 0"][..], &["EXPIRE 0 USER"][..]] {
        let (server, pipit) = fake(with_capa(capa), "plain");
        let (code, report) = doctor(&pipit, &[]);
        assert_eq!(code, 0, "{report:#}");
        assert_eq!(server.count("RETR"), 0, "{:?}", server.sessions());
        for id in ["list-size", "dot-stuffing"] {
            assert_eq!(status(&report, id), "skip", "{report:#}");
            assert!(detail(&report, id).contains("EXPIRE 0"), "{report:#}");
        }
        // TOP is not compared with RETR, and not for want of a small message.
        let top = detail(&report, "top");
        assert!(!top.contains("small enough"), "{top}");
        read_only(&server, 0);
    }
}
