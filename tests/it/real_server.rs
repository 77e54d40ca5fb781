//! Fetching from a real Dovecot: every transport, every login, every policy.

use crate::support::dovecot::Dovecot;
use crate::support::{Pipit, describe, mail, open_db, stderr};

fn sorted(mut v: Vec<Vec<u8>>) -> Vec<Vec<u8>> {
    v.sort();
    v
}

#[test]
fn implicit_tls_fetch_stores_every_message_byte_for_byte() {
    let messages = mail::varied(300);
    let server = Dovecot::start(&messages);
    let pipit = Pipit::new();
    let cert = server.cert();
    pipit.add_account(
        server.tls_port,
        "tls",
        &["--ca-file", cert.to_str().unwrap(), "--policy", "keep"],
    );

    let report = pipit.fetch_ok();
    assert_eq!(report["new"], 300, "{report:#}");
    assert_eq!(report["downloaded"], 300);
    assert_eq!(report["deleted_on_server"], 0);
    assert!(
        report["bytes"].as_u64().unwrap() > messages.iter().map(Vec::len).sum::<usize>() as u64
    );
    assert_eq!(report["errors"].as_array().unwrap().len(), 0);

    let list = pipit.list();
    assert_eq!(list.len(), 300);
    for m in &list {
        for field in [
            "id", "uid", "account", "from", "subject", "date", "size", "state",
        ] {
            assert!(m.get(field).is_some(), "list entry lacks {field}: {m}");
        }
        assert_eq!(m["state"], "full");
        assert_eq!(m["account"], "lab");
    }
    assert_eq!(
        pipit.all_raw(),
        sorted(messages.clone()),
        "stored bytes differ from the server's"
    );
    assert_eq!(
        server.messages(),
        sorted(messages),
        "policy keep left the server as it was"
    );

    // Decoded fields made it through.
    assert!(
        list.iter()
            .any(|m| m["subject"].as_str().unwrap().starts_with("Grüße aus Köln"))
    );
    let search = pipit.ok(&["search", "koln", "--json"]);
    let hits: Vec<serde_json::Value> = serde_json::from_slice(&search.stdout).unwrap();
    assert_eq!(hits.len(), 50, "every Köln message and nothing else");

    let again = pipit.fetch_ok();
    assert_eq!(again["new"], 0, "{again:#}");
    assert_eq!(again["downloaded"], 0);
    assert_eq!(pipit.list().len(), 300);
}

#[test]
fn starttls_and_plain_transports() {
    let messages = mail::varied(12);
    let server = Dovecot::start(&messages);

    let pipit = Pipit::new();
    pipit.add_account(
        server.plain_port,
        "starttls",
        &["--trust-fingerprint", &server.fingerprint()],
    );
    assert_eq!(pipit.fetch_ok()["downloaded"], 12);
    assert_eq!(pipit.all_raw(), sorted(messages.clone()));

    let pipit = Pipit::new();
    pipit.add_account(server.plain_port, "plain", &[]);
    assert_eq!(pipit.fetch_ok()["downloaded"], 12);
    assert_eq!(pipit.all_raw(), sorted(messages));
}

#[test]
fn every_login_method_works() {
    let messages = mail::varied(3);
    let server = Dovecot::start(&messages);
    let cert = server.cert();
    for auth in ["auto", "user", "apop", "plain", "cram-md5", "scram-sha-256"] {
        let pipit = Pipit::new();
        pipit.add_account(
            server.tls_port,
            "tls",
            &["--ca-file", cert.to_str().unwrap(), "--auth", auth],
        );
        let (code, report) = pipit.fetch(&[]);
        assert_eq!(
            code,
            0,
            "login with {auth} failed: {report:#}\n{}",
            server.log()
        );
        assert_eq!(report["downloaded"], 3, "{auth}");
    }
}

#[test]
fn delete_policy_moves_mail_off_the_server() {
    let messages = mail::varied(40);
    let server = Dovecot::start(&messages);
    let pipit = Pipit::new();
    server.account_for(&pipit, &["--policy", "delete"]);
    let report = pipit.fetch_ok();
    assert_eq!(report["downloaded"], 40, "{report:#}");
    assert_eq!(report["deleted_on_server"], 40);
    assert!(server.messages().is_empty(), "the server still holds mail");
    assert_eq!(
        pipit.all_raw(),
        sorted(messages),
        "the store is the only copy now: it must be whole"
    );
    let again = pipit.fetch_ok();
    assert_eq!(
        (again["new"].as_u64(), again["deleted_on_server"].as_u64()),
        (Some(0), Some(0))
    );
    assert!(pipit.list().iter().all(|m| m["on_server"] == false));
}

#[test]
fn keep_days_policy_deletes_only_old_mail() {
    let messages = mail::varied(10);
    let server = Dovecot::start(&messages);
    let pipit = Pipit::new();
    server.account_for(&pipit, &["--policy", "keep-days:7"]);
    assert_eq!(pipit.fetch_ok()["deleted_on_server"], 0);
    assert_eq!(server.messages().len(), 10);

    // Four messages have been on the server for eight days.
    let db = open_db(&pipit.store_path());
    let aged = db
        .execute(
            "UPDATE messages SET first_seen = first_seen - 8 * 86400 WHERE id IN (SELECT id FROM messages ORDER BY id LIMIT 4)",
            [],
        )
        .unwrap();
    assert_eq!(aged, 4);
    drop(db);
    let report = pipit.fetch_ok();
    assert_eq!(report["deleted_on_server"], 4, "{report:#}");
    assert_eq!(server.messages().len(), 6);
    assert_eq!(
        pipit.list().len(),
        10,
        "deleting on the server keeps the local copy"
    );
}

#[test]
fn a_message_deleted_here_is_deleted_on_the_server() {
    let messages = mail::varied(5);
    let server = Dovecot::start(&messages);
    let pipit = Pipit::new();
    server.account_for(&pipit, &[]);
    pipit.fetch_ok();
    let victim = pipit.list()[0].clone();
    let id = victim["id"].as_i64().unwrap().to_string();
    let victim_raw = pipit.raw(victim["id"].as_i64().unwrap());
    let out = pipit.ok(&["delete", &id]);
    assert!(stderr(&out).contains("Trash"), "{}", describe(&out));
    assert_eq!(pipit.list().len(), 4);
    let trash = pipit.ok(&["list", "--trash", "--json"]);
    assert_eq!(
        serde_json::from_slice::<Vec<serde_json::Value>>(&trash.stdout)
            .unwrap()
            .len(),
        1
    );

    let report = pipit.fetch_ok();
    assert_eq!(report["deleted_on_server"], 1, "{report:#}");
    assert_eq!(server.messages().len(), 4);
    assert!(!server.messages().contains(&victim_raw));
    assert_eq!(
        pipit.raw(victim["id"].as_i64().unwrap()),
        victim_raw,
        "Trash keeps the bytes"
    );
}

#[test]
fn large_messages_stay_headers_only_under_a_size_limit() {
    let mut messages = mail::varied(3);
    messages.push(mail::sized(1, 300_000));
    let server = Dovecot::start(&messages);
    let pipit = Pipit::new();
    server.account_for(&pipit, &["--max-size", "100000"]);
    let report = pipit.fetch_ok();
    assert_eq!(report["new"], 4, "{report:#}");
    assert_eq!(report["downloaded"], 3);
    assert_eq!(report["headers_only"], 1);
    let list = pipit.list();
    let big = list
        .iter()
        .find(|m| m["subject"] == "Big 1")
        .expect("the big one is listed by its header");
    assert_eq!(big["state"], "headers");
    let id = big["id"].as_i64().unwrap().to_string();
    let shown = pipit.ok(&["show", &id]);
    assert!(String::from_utf8_lossy(&shown.stdout).contains("still on the server"));
    assert!(
        pipit
            .raw(big["id"].as_i64().unwrap())
            .starts_with(b"From: big@example.org\r\n")
    );
    assert_eq!(
        pipit.fetch_ok()["downloaded"],
        0,
        "it stays on the server until asked for"
    );
}

#[test]
fn wrong_password_exits_3_and_says_so() {
    let server = Dovecot::start(&mail::varied(2));
    let pipit = Pipit::new();
    let cert = server.cert();
    pipit.add_account(
        server.tls_port,
        "tls",
        &[
            "--password-command",
            "printf wrong",
            "--ca-file",
            cert.to_str().unwrap(),
        ],
    );
    let out = pipit.run(&["fetch"]);
    assert_eq!(out.status.code(), Some(3), "{}", describe(&out));
    let err = stderr(&out);
    assert!(
        err.contains("refused the login") && err.contains("password"),
        "{err}"
    );
    assert!(
        !err.contains("wrong"),
        "the password must not be echoed: {err}"
    );
    assert!(pipit.list().is_empty());
}

#[test]
fn untrusted_certificate_exits_4_naming_its_fingerprint_and_can_then_be_trusted() {
    let messages = mail::varied(4);
    let server = Dovecot::start(&messages);
    let pipit = Pipit::new();
    pipit.add_account(server.tls_port, "tls", &[]);
    let out = pipit.run(&["fetch"]);
    assert_eq!(out.status.code(), Some(4), "{}", describe(&out));
    let err = stderr(&out);
    let fingerprint = server.fingerprint();
    assert!(
        err.contains("not trusted") && err.contains(&fingerprint),
        "{err}"
    );
    assert!(err.contains("subject CN=localhost"), "{err}");
    assert!(
        err.contains(&format!("--trust-fingerprint {fingerprint}")),
        "{err}"
    );
    assert!(
        !server.log().contains("Login: user=<alice>"),
        "no login before the certificate is trusted"
    );

    pipit.ok(&["account", "remove", "lab"]);
    pipit.add_account(
        server.tls_port,
        "tls",
        &["--trust-fingerprint", &fingerprint],
    );
    assert_eq!(pipit.fetch_ok()["downloaded"], 4);

    // A different pinned certificate: refused, with both fingerprints shown.
    let other = Pipit::new();
    let wrong = "AB:".repeat(31) + "AB";
    other.add_account(server.tls_port, "tls", &["--trust-fingerprint", &wrong]);
    let out = other.run(&["fetch"]);
    assert_eq!(out.status.code(), Some(4), "{}", describe(&out));
    let err = stderr(&out);
    assert!(
        err.contains(&fingerprint) && err.contains(&wrong) && err.contains("changed"),
        "{err}"
    );
}

#[test]
fn server_list_shows_what_the_server_holds_and_when_the_policy_deletes_it() {
    let mut messages = mail::varied(4);
    messages.push(mail::sized(1, 300_000));
    let server = Dovecot::start(&messages);
    let pipit = Pipit::new();
    server.account_for(&pipit, &["--policy", "keep-days:7", "--max-size", "100000"]);
    pipit.fetch_ok();
    let inventory = |pipit: &Pipit| -> Vec<serde_json::Value> {
        serde_json::from_slice(&pipit.ok(&["server", "list", "--json"]).stdout).unwrap()
    };
    let lines = inventory(&pipit);
    assert_eq!(lines.len(), 5, "{lines:#?}");
    let big = lines
        .iter()
        .find(|l| l["state"] == "headers")
        .expect("the big one");
    assert_eq!(big["deletion"]["when"], "once_downloaded");
    assert_eq!(big["size"].as_u64(), Some(messages[4].len() as u64));
    let stored: Vec<_> = lines.iter().filter(|l| l["state"] == "full").collect();
    assert_eq!(stored.len(), 4);
    assert!(
        stored
            .iter()
            .all(|l| l["deletion"]["when"] == "after" && l["days_on_server"] == 0)
    );

    // Deleted here: it goes at the next fetch, and then it is not listed.
    let id = stored[0]["message"].as_i64().unwrap();
    pipit.ok(&["delete", &id.to_string()]);
    let lines = inventory(&pipit);
    let gone = lines.iter().find(|l| l["message"] == id).unwrap();
    assert_eq!(gone["deletion"]["when"], "next_fetch");
    pipit.fetch_ok();
    assert_eq!(inventory(&pipit).len(), 4);

    let text = String::from_utf8(pipit.ok(&["server", "list"]).stdout).unwrap();
    assert!(text.contains("4 messages on the server"), "{text}");
    assert!(text.contains("deleted there once downloaded"), "{text}");
    let out = pipit.run(&["server", "list", "--account", "nobody"]);
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    assert!(
        stderr(&out).contains("no account named \"nobody\""),
        "{}",
        describe(&out)
    );
}

/// Pseudo-random bytes, as an attachment that no compressor shrinks.
fn noise(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// A message with `text` and a base64 attachment of `bytes`, its lines
/// `line` characters long.
fn with_attachment(i: usize, bytes: &[u8], line: usize) -> Vec<u8> {
    use base64::Engine as _;
    let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
    let mut m = format!(
        "From: Ana <ana@example.org>\r\nTo: alice@example.net\r\nSubject: photos {i}\r\n\
         Message-ID: <photos{i}@example.org>\r\nMIME-Version: 1.0\r\n\
         Content-Type: multipart/mixed; boundary=\"=b{i}\"\r\n\r\n--=b{i}\r\n\
         Content-Type: text/plain; charset=utf-8\r\n\r\nthe harbour at dawn, as promised\r\n\
         --=b{i}\r\nContent-Type: image/jpeg; name=\"p{i}.jpg\"\r\nContent-Transfer-Encoding: base64\r\n\
         Content-Disposition: attachment; filename=\"p{i}.jpg\"\r\n\r\n"
    )
    .into_bytes();
    for chunk in encoded.as_bytes().chunks(line) {
        m.extend_from_slice(chunk);
        m.extend_from_slice(b"\r\n");
    }
    m.extend_from_slice(format!("--=b{i}--\r\n").as_bytes());
    m
}

#[test]
fn packed_bytes_come_back_byte_for_byte_from_show_raw_and_export() {
    // Base64 attachments of each ending (padding 0, 1, 2), another line
    // length, 8-bit and binary bytes in a body, a large message, and text.
    let mut binary =
        b"From: Bo <bo@example.org>\r\nSubject: 8-bit\r\nMessage-ID: <bin@example.org>\r\n\
Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n"
            .to_vec();
    // Every byte value but NUL, CR and LF inside lines of the body.
    for row in 0..200u32 {
        let line: Vec<u8> = (1..=255u8)
            .filter(|&b| b != b'\r' && b != b'\n')
            .map(|b| b.wrapping_add(row as u8).max(1))
            .filter(|&b| b != b'\r' && b != b'\n')
            .collect();
        binary.extend_from_slice(&line);
        binary.extend_from_slice(b"\r\n");
    }
    binary.extend_from_slice("Grüße aus Köln, ünïcödé ✓\r\n".as_bytes());
    let messages = vec![
        with_attachment(0, &noise(30_000, 1), 76),
        with_attachment(1, &noise(30_001, 2), 76),
        with_attachment(2, &noise(30_002, 3), 64),
        with_attachment(3, &noise(6 * 1024 * 1024, 4), 76),
        binary,
        mail::sized(5, 300_000),
        b"Subject: tiny\r\n\r\nx\r\n".to_vec(),
    ];
    let server = Dovecot::start(&messages);
    let pipit = Pipit::new();
    let cert = server.cert();
    pipit.add_account(
        server.tls_port,
        "tls",
        &["--ca-file", cert.to_str().unwrap(), "--policy", "keep"],
    );
    let report = pipit.fetch_ok();
    assert_eq!(report["downloaded"], messages.len(), "{report:#}");
    assert_eq!(
        pipit.all_raw(),
        sorted(messages.clone()),
        "show --raw gives back other bytes than the server's"
    );
    // They were packed (all but the tiny one), and the store is smaller
    // than the mail in it.
    let db = open_db(&pipit.store_path());
    let packed: i64 = db
        .query_row("SELECT sum(packed) FROM message_bytes", [], |r| r.get(0))
        .unwrap();
    assert!(packed >= 6, "{packed} of {} packed", messages.len());
    let stored: i64 = db
        .query_row("SELECT sum(length(raw)) FROM message_bytes", [], |r| {
            r.get(0)
        })
        .unwrap();
    let mail: usize = messages.iter().map(Vec::len).sum();
    assert!(
        (stored as f64) < mail as f64 * 0.77,
        "{stored} bytes stored for {mail}"
    );
    // Export gives the same bytes (each message here has no "From " line to quote).
    let mbox = pipit.home().join("all.mbox");
    pipit.ok(&["export", "--mbox", mbox.to_str().unwrap()]);
    let exported = std::fs::read(&mbox).unwrap();
    for m in &messages {
        assert!(
            exported.windows(m.len()).any(|w| w == m.as_slice()),
            "a message is not in the export byte for byte"
        );
    }
    // A backup holds them too.
    let backup = pipit.home().join("backup.db");
    pipit.ok(&["backup", backup.to_str().unwrap()]);
    let copy = pipit::store::Store::open(&backup).unwrap();
    let mut from_backup: Vec<Vec<u8>> = pipit
        .list()
        .iter()
        .map(|m| copy.raw(m["id"].as_i64().unwrap()).unwrap())
        .collect();
    from_backup.sort();
    assert_eq!(from_backup, sorted(messages));
}
