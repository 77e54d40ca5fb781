use super::*;
use crate::mime;
use std::collections::HashSet;

fn temp_store() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("sub/pipit.db")).unwrap();
    (dir, store)
}

/// Stores one message in a batch of its own; returns its id.
pub(crate) fn add(store: &mut Store, uid: &str, raw: &[u8], state: MessageState) -> i64 {
    let parsed = mime::parse(raw);
    let batch = store.batch().unwrap();
    let (id, _) = batch
        .insert(&NewMessage {
            copy: NewCopy {
                account: "home",
                uid: Some(uid),
                size: raw.len() as u64,
                digest: Some(&mime::header_digest(raw)),
                first_seen: 1000,
            },
            raw,
            state,
            parsed: &parsed,
            problem: "",
        })
        .unwrap();
    batch.commit().unwrap();
    id
}

/// The store's view of one of `home`'s messages, as the fetch sees it.
fn stored(store: &Store, id: i64) -> Stored {
    store.ledger("home").unwrap().messages[&id].clone()
}

/// Completes a headers-only message with `full`, as a download does.
fn complete(store: &mut Store, id: i64, full: &[u8], now: i64) {
    let copy = store.copies_of(id).unwrap()[0].id;
    let batch = store.batch().unwrap();
    let got = batch
        .store_download(
            Download { copy, message: id },
            full,
            &mime::parse(full),
            &mime::header_digest(full),
            now,
        )
        .unwrap();
    batch.commit().unwrap();
    assert_eq!(got, id);
}

#[test]
fn a_new_store_is_private_and_at_the_latest_version() {
    let (_dir, store) = temp_store();
    let mode = fs::metadata(store.path()).unwrap().permissions().mode();
    assert_eq!(mode & 0o777, 0o600);
    let version: i64 = store
        .conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, MIGRATIONS.len() as i64);
    let journal: String = store
        .conn
        .pragma_query_value(None, "journal_mode", |r| r.get(0))
        .unwrap();
    assert_eq!(journal, "wal");
    let path = store.path().to_path_buf();
    drop(store);
    Store::open(&path).unwrap();
}

#[test]
fn a_newer_database_is_refused_and_left_untouched() {
    let (_dir, store) = temp_store();
    store.conn.pragma_update(None, "user_version", 99).unwrap();
    let path = store.path().to_path_buf();
    drop(store);
    let before = fs::read(&path).unwrap();
    let err = Store::open(&path).err().unwrap();
    assert!(matches!(err, StoreError::Newer { found: 99, .. }), "{err}");
    assert!(err.to_string().contains("newer Pipit"), "{err}");
    assert_eq!(fs::read(&path).unwrap(), before);
}

#[test]
fn a_damaged_file_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pipit.db");
    let garbage = b"this is not a database, it is a shopping list\n".repeat(200);
    fs::write(&path, &garbage).unwrap();
    let err = Store::open(&path).err().unwrap();
    assert!(matches!(err, StoreError::Damaged { .. }), "{err}");
    assert!(err.to_string().contains("damaged"), "{err}");
    // Deleting it here would delete the server's copy (the user's wish),
    // and a tombstone keeps it from being fetched again: never the advice.
    assert!(!err.to_string().contains("delete it here"), "{err}");
    assert_eq!(fs::read(&path).unwrap(), garbage);
}

#[test]
fn another_programs_database_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("other.db");
    Connection::open(&path)
        .unwrap()
        .execute_batch("CREATE TABLE t (x)")
        .unwrap();
    let err = Store::open(&path).err().unwrap();
    assert!(matches!(err, StoreError::Foreign { .. }), "{err}");
}

#[test]
fn headers_then_full_then_search_and_trash() {
    let (_dir, mut store) = temp_store();
    let header = b"From: Ana <ana@example.org>\r\nSubject: K\xc3\xb6ln trip\r\nDate: Mon, 2 Nov 2026 10:00:00 +0000\r\n\r\n";
    let id = add(&mut store, "u1", header, MessageState::Headers);
    assert_eq!(stored(&store, id).state, MessageState::Headers);
    assert_eq!(store.raw(id).unwrap(), header);

    let mut full = header.to_vec();
    full.extend_from_slice(b"We meet at the caf\xc3\xa9 by the station.\r\n");
    complete(&mut store, id, &full, 2000);
    assert_eq!(store.raw(id).unwrap(), full);
    let d = store.detail(id).unwrap();
    assert_eq!(d.summary.state, MessageState::Full);
    assert_eq!(d.summary.size, full.len() as u64);
    assert_eq!(&*d.summary.subject, "Köln trip");

    let all = Filter::default();
    assert_eq!(store.search("koln cafe", &all).unwrap().len(), 1);
    assert_eq!(store.search("stat", &all).unwrap().len(), 1, "prefix match");
    assert_eq!(store.search("ana", &all).unwrap().len(), 1, "sender match");
    assert!(store.search("nowhere", &all).unwrap().is_empty());
    assert!(
        store.search("\"*) NOT (zzz", &all).unwrap().is_empty(),
        "FTS syntax is not the user's problem"
    );

    store.trash(id, 3000).unwrap();
    assert!(store.messages(&all).unwrap().is_empty());
    let trash = store
        .messages(&Filter {
            trash: true,
            ..Filter::default()
        })
        .unwrap();
    assert_eq!(trash.len(), 1);
    assert!(stored(&store, id).delete_on_server);
    assert!(matches!(
        store.trash(999, 1).unwrap_err(),
        StoreError::NoSuchMessage(999)
    ));
}

#[test]
fn mbox_export_quotes_from_lines() {
    let (_dir, mut store) = temp_store();
    add(
        &mut store,
        "u1",
        b"From: Ana <ana@example.org>\r\nDate: Thu, 1 Jan 1970 00:00:10 +0000\r\n\r\nFrom here\r\n>From there\r\nend",
        MessageState::Full,
    );
    add(
        &mut store,
        "u2",
        b"Subject: only headers\r\n\r\n",
        MessageState::Headers,
    );
    let mut out = Vec::new();
    assert_eq!(store.export_mbox(&mut out).unwrap(), 1);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "From ana@example.org Thu Jan  1 00:00:10 1970\n\
From: Ana <ana@example.org>\r\nDate: Thu, 1 Jan 1970 00:00:10 +0000\r\n\r\n>From here\r\n>>From there\r\nend\n\n"
    );
}

#[test]
fn an_mbox_separator_never_carries_what_a_sender_address_smuggles() {
    assert_eq!(
        mbox_from_line("Evil <ev\0il\u{1b}[2J@example.org>", Some(10)),
        "From MAILER-DAEMON Thu Jan  1 00:00:10 1970\n"
    );
    assert_eq!(
        mbox_from_line("<a@example.org\nFrom b@example.org>", Some(10)),
        "From MAILER-DAEMON Thu Jan  1 00:00:10 1970\n"
    );
    assert_eq!(
        mbox_from_line("Ana <ana@example.org>", Some(10)),
        "From ana@example.org Thu Jan  1 00:00:10 1970\n"
    );
}

#[test]
fn restore_and_empty_trash_keep_tombstones_for_mail_still_on_the_server() {
    let (_dir, mut store) = temp_store();
    let a = add(
        &mut store,
        "u1",
        b"Subject: one\r\n\r\nbody\r\n",
        MessageState::Full,
    );
    let b = add(
        &mut store,
        "u2",
        b"Subject: two\r\n\r\nbody\r\n",
        MessageState::Full,
    );
    store.trash(a, 10).unwrap();
    store.trash(b, 10).unwrap();
    store.restore(a).unwrap();
    assert!(!stored(&store, a).delete_on_server);
    assert_eq!(store.messages(&Filter::default()).unwrap().len(), 1);

    assert_eq!(store.empty_trash().unwrap(), 1);
    let tomb = stored(&store, b);
    assert_eq!(
        tomb.state,
        MessageState::Purged,
        "kept so it is never downloaded again"
    );
    assert!(
        tomb.delete_on_server,
        "and still to be deleted on the server"
    );
    assert!(
        matches!(store.raw(b), Err(StoreError::NoSuchMessage(_))),
        "its bytes are gone"
    );
    // Below the queries that hide tombstones: its fields and its place in
    // the index are gone too, not just filtered out.
    let (subject, from): (String, String) = store
        .conn
        .query_row(
            "SELECT subject, from_addr FROM messages WHERE id = ?1",
            [b],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!((subject.as_str(), from.as_str()), ("", ""));
    assert!(store.search_ids("two").unwrap().is_empty(), "unindexed");
    assert_eq!(store.search_ids("one").unwrap(), vec![a]);
    assert!(
        store
            .messages(&Filter {
                trash: true,
                ..Filter::default()
            })
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .search(
                "two",
                &Filter {
                    trash: true,
                    ..Filter::default()
                }
            )
            .unwrap()
            .is_empty()
    );

    // Once Pipit has deleted it on the server, the tombstone goes too.
    let copies: Vec<i64> = store.copies_of(b).unwrap().iter().map(|c| c.id).collect();
    let batch = store.batch().unwrap();
    batch.forget_copies(&copies, Left::Deleted, 20).unwrap();
    batch.commit().unwrap();
    let ledger = store.ledger("home").unwrap();
    assert_eq!(ledger.messages.keys().collect::<Vec<_>>(), vec![&a]);
    assert_eq!(ledger.copies.len(), 1);
}

#[test]
fn many_connections_opening_a_new_store_at_once_all_succeed() {
    // The window's store thread and the fetch worker open it together.
    for _ in 0..20 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pipit.db");
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let path = path.clone();
                std::thread::spawn(move || {
                    Store::open(&path).map(|_| ()).map_err(|e| e.to_string())
                })
            })
            .collect();
        for h in handles {
            h.join().unwrap().unwrap();
        }
    }
}

#[test]
fn a_version_2_store_moves_its_text_apart_and_stays_searchable() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pipit.db");
    {
        // A store as Pipit left it at schema version 2, text inside the rows.
        let conn = Connection::open(&path).unwrap();
        for sql in &MIGRATIONS[..2] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "application_id", APPLICATION_ID)
            .unwrap();
        conn.pragma_update(None, "user_version", 2).unwrap();
        conn.execute_batch(
            "INSERT INTO messages (id, account, uid, state, first_seen, from_addr, subject, body_text)
             VALUES (1, 'home', 'u1', 'full', 0, 'Ana <ana@example.org>', 'Köln trip', 'meet at the café'),
                    (2, 'home', 'u2', 'headers', 0, 'Bo <bo@example.org>', 'invoice', '');
             INSERT INTO message_bytes (message_id, raw) VALUES (1, x'00'), (2, x'00');",
        )
        .unwrap();
    }
    let store = Store::open(&path).unwrap();
    let all = Filter::default();
    assert_eq!(store.detail(1).unwrap().text, "meet at the café");
    assert_eq!(store.detail(2).unwrap().text, "");
    assert_eq!(store.search("cafe", &all).unwrap()[0].id, 1);
    assert_eq!(store.search("koln", &all).unwrap()[0].id, 1);
    assert_eq!(store.search("invoice bo", &all).unwrap()[0].id, 2);
    let columns: Vec<String> = store
        .conn
        .prepare("SELECT name FROM pragma_table_info('messages')")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    assert!(!columns.iter().any(|c| c == "body_text"), "{columns:?}");
    assert_eq!(store.integrity_check(), Ok(()));
}

#[test]
fn the_index_follows_every_change_of_sender_subject_and_text() {
    let (_dir, mut store) = temp_store();
    let all = Filter::default();
    let hits = |store: &Store, q: &str| -> Vec<i64> {
        store
            .search(q, &all)
            .unwrap()
            .iter()
            .map(|s| s.id)
            .collect()
    };
    let id = add(
        &mut store,
        "u1",
        b"Subject: draft\r\n\r\n",
        MessageState::Headers,
    );
    assert_eq!(hits(&store, "draft"), vec![id]);

    // The whole message says otherwise (a server without TOP: the row's
    // header block was empty): the headers' words go, the new ones come.
    let full = b"Subject: final\r\nFrom: Ute <ute@example.org>\r\n\r\nthe harbour at dawn\r\n";
    let rewrite = |store: &mut Store, raw: &[u8], now| {
        let batch = store.batch().unwrap();
        batch
            .complete(id, raw, &mime::parse(raw), &mime::header_digest(raw), now)
            .unwrap();
        batch.commit().unwrap();
    };
    rewrite(&mut store, full, 2);
    assert!(hits(&store, "draft").is_empty());
    assert_eq!(hits(&store, "final ute harbour"), vec![id]);

    // Same headers, other text: only the text changes.
    let again = b"Subject: final\r\nFrom: Ute <ute@example.org>\r\n\r\nthe mountain at noon\r\n";
    rewrite(&mut store, again, 3);
    assert!(hits(&store, "harbour").is_empty());
    assert_eq!(hits(&store, "final mountain"), vec![id]);

    // Purged: nothing of it is found, in Trash or out.
    store.trash(id, 4).unwrap();
    store.empty_trash().unwrap();
    let trash = Filter {
        trash: true,
        ..Filter::default()
    };
    for q in ["final", "ute", "mountain"] {
        assert!(store.search(q, &all).unwrap().is_empty(), "{q}");
        assert!(store.search(q, &trash).unwrap().is_empty(), "{q}");
    }
    let text_rows: i64 = store
        .conn
        .query_row("SELECT count(*) FROM message_text", [], |r| r.get(0))
        .unwrap();
    assert_eq!(text_rows, 0, "a tombstone keeps no text");
    assert!(store.search_ids("final mountain").unwrap().is_empty());

    // A message deleted with its text (the text goes by cascade) leaves
    // nothing behind in the index either.
    let other = add(
        &mut store,
        "u2",
        b"Subject: lighthouse\r\n\r\nkeeper notes\r\n",
        MessageState::Full,
    );
    assert_eq!(store.search_ids("keeper lighthouse").unwrap(), vec![other]);
    store
        .conn
        .execute("DELETE FROM messages WHERE id = ?1", [other])
        .unwrap();
    assert!(store.search_ids("keeper").unwrap().is_empty());
    assert!(store.search_ids("lighthouse").unwrap().is_empty());
    store
        .conn
        .execute(
            "INSERT INTO messages_fts (messages_fts) VALUES ('integrity-check')",
            [],
        )
        .unwrap();
    assert_eq!(store.integrity_check(), Ok(()));
}

#[test]
fn a_version_3_store_gets_a_ledger_and_keeps_every_message() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pipit.db");
    let full = b"From: Ana <ana@example.org>\r\nSubject: harbour\r\n\r\nat dawn\r\n";
    let headers = b"From: Bo <bo@example.org>\r\nSubject: invoice\r\n\r\n";
    {
        // A store as Pipit left it at schema version 3: identity in (uid, uid_seq).
        let conn = Connection::open(&path).unwrap();
        for sql in &MIGRATIONS[..3] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "application_id", APPLICATION_ID)
            .unwrap();
        conn.pragma_update(None, "user_version", 3).unwrap();
        conn.execute_batch(
            "INSERT INTO messages (id, account, uid, uid_seq, state, on_server, size, first_seen, from_addr, subject)
             VALUES (1, 'home', 'u1', 0, 'full', 1, 60, 5, 'Ana <ana@example.org>', 'harbour'),
                    (2, 'home', 'u1', 1, 'headers', 1, 9000, 6, 'Bo <bo@example.org>', 'invoice'),
                    (3, 'home', 'digest:00ff', 0, 'full', 1, 60, 7, '', ''),
                    (4, 'home', 'u4', 0, 'full', 0, 60, 8, '', ''),
                    (5, 'home', 'u5', 0, 'purged', 1, 0, 9, '', '');
             INSERT INTO message_text (message_id, body_text) VALUES (1, 'at dawn');",
        )
        .unwrap();
        let mut add = conn
            .prepare("INSERT INTO message_bytes (message_id, raw) VALUES (?1, ?2)")
            .unwrap();
        for (id, raw) in [
            (1, &full[..]),
            (2, &headers[..]),
            (3, &full[..]),
            (4, &full[..]),
        ] {
            add.execute(params![id, raw]).unwrap();
        }
    }
    let store = Store::open(&path).unwrap();
    let ledger = store.ledger("home").unwrap();
    assert_eq!(ledger.messages.len(), 5, "every message kept");
    let copies: Vec<(Option<&str>, Option<u64>, i64)> = ledger
        .copies
        .iter()
        .map(|c| (c.uid.as_deref(), c.size, c.message))
        .collect();
    assert_eq!(
        copies,
        vec![
            (Some("u1"), None, 1),
            (Some("u1"), Some(9000), 2),
            (None, None, 3),
            (Some("u5"), None, 5),
        ],
        "a copy for each message on the server; the listed size of full ones is unknown"
    );
    assert_eq!(ledger.suspect_uids, HashSet::from(["u1".to_string()]));
    let digest = mime::header_digest(full);
    assert_eq!(ledger.messages[&1].digest, Some(digest));
    assert_eq!(
        ledger.messages[&2].digest,
        Some(mime::header_digest(headers))
    );
    assert_eq!(ledger.copies[2].digest, Some(digest));
    assert_eq!(ledger.messages[&5].digest, None, "a tombstone has no bytes");
    assert!(!store.detail(4).unwrap().summary.on_server);
    assert_eq!(&*store.detail(3).unwrap().summary.uid, "");
    assert_eq!(store.raw(1).unwrap(), full);
    assert_eq!(store.search_ids("harbour dawn").unwrap(), vec![1]);
    assert_eq!(store.search_ids("invoice").unwrap(), vec![2]);
    store
        .conn
        .execute(
            "INSERT INTO messages_fts (messages_fts) VALUES ('integrity-check')",
            [],
        )
        .unwrap();
    assert_eq!(store.integrity_check(), Ok(()));
    let fk: i64 = store
        .conn
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(fk, 0);
    let on: i64 = store
        .conn
        .pragma_query_value(None, "foreign_keys", |r| r.get(0))
        .unwrap();
    assert_eq!(on, 1, "foreign keys are on again after the migration");
}

#[test]
fn identical_bytes_join_one_message_and_other_bytes_never_fill_a_row_they_are_not() {
    let (_dir, mut store) = temp_store();
    let raw = b"Subject: same\r\n\r\nbody\r\n";
    let first = add(&mut store, "u1", raw, MessageState::Full);
    // The same message again under another UID, as a headers-only row first.
    let twin = add(
        &mut store,
        "u2",
        b"Subject: same\r\n\r\n",
        MessageState::Headers,
    );
    let twin_copy = store.copies_of(twin).unwrap()[0].id;
    let batch = store.batch().unwrap();
    let got = batch
        .store_download(
            Download {
                copy: twin_copy,
                message: twin,
            },
            raw,
            &mime::parse(raw),
            &mime::header_digest(raw),
            50,
        )
        .unwrap();
    batch.commit().unwrap();
    assert_eq!(got, first, "joined, not stored twice");
    assert!(matches!(
        store.detail(twin),
        Err(StoreError::NoSuchMessage(_))
    ));
    assert_eq!(store.copies_of(first).unwrap().len(), 2);

    // Bytes with other headers than a headers-only row shows are not its.
    let shown = add(
        &mut store,
        "u3",
        b"Subject: shown\r\n\r\n",
        MessageState::Headers,
    );
    let copy = store.copies_of(shown).unwrap()[0].id;
    let other = b"Subject: other\r\n\r\nbody\r\n";
    let batch = store.batch().unwrap();
    let got = batch
        .store_download(
            Download {
                copy,
                message: shown,
            },
            other,
            &mime::parse(other),
            &mime::header_digest(other),
            60,
        )
        .unwrap();
    batch.commit().unwrap();
    assert_ne!(got, shown);
    assert_eq!(store.raw(got).unwrap(), other);
    assert_eq!(stored(&store, shown).state, MessageState::Headers);
    assert!(store.copies_of(shown).unwrap().is_empty());
    assert!(!store.detail(shown).unwrap().summary.on_server);
    assert_eq!(
        store.copies_of(got).unwrap()[0].digest,
        Some(mime::header_digest(other)),
        "the copy now says what it holds"
    );
}

/// Issue 13, item 15: Delete in Trash removes the one message for good, as
/// Empty Trash does, and nothing outside Trash.
#[test]
fn delete_forever_takes_one_message_out_of_trash_and_keeps_its_tombstone() {
    let (_dir, mut store) = temp_store();
    let a = add(
        &mut store,
        "u1",
        b"Subject: one\r\n\r\nbody\r\n",
        MessageState::Full,
    );
    let b = add(
        &mut store,
        "u2",
        b"Subject: two\r\n\r\nbody\r\n",
        MessageState::Full,
    );
    assert!(
        matches!(store.delete_forever(a), Err(StoreError::NoSuchMessage(_))),
        "not in Trash: not deleted"
    );
    store.trash(a, 10).unwrap();
    store.trash(b, 10).unwrap();
    store.delete_forever(a).unwrap();
    assert_eq!(stored(&store, a).state, MessageState::Purged);
    assert!(stored(&store, a).delete_on_server);
    assert!(matches!(store.raw(a), Err(StoreError::NoSuchMessage(_))));
    let trash = Filter {
        trash: true,
        ..Filter::default()
    };
    let left: Vec<i64> = store
        .messages(&trash)
        .unwrap()
        .iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(left, vec![b]);
    assert!(
        store.search_ids("one").unwrap().is_empty(),
        "out of the index"
    );
}

#[test]
fn search_finds_greek_without_accents_sharp_s_as_ss_and_words_inside_japanese() {
    let (_dir, mut store) = temp_store();
    let greek = add(
        &mut store,
        "g",
        "Subject: =?UTF-8?B?zprOsc67zrfOvM6tz4HOsQ==?=\r\n\r\n\u{39a}\u{3b1}\u{3bb}\u{3b7}\u{3bc}\u{3ad}\u{3c1}\u{3b1} \u{3b1}\u{3c0}\u{3cc} \u{3c4}\u{3b7}\u{3bd} \u{391}\u{3b8}\u{3ae}\u{3bd}\u{3b1}\r\n".as_bytes(),
        MessageState::Full,
    );
    let german = add(
        &mut store,
        "d",
        "Subject: Gr\u{fc}\u{df}e aus K\u{f6}ln\r\n\r\nbis bald\r\n".as_bytes(),
        MessageState::Full,
    );
    let japanese = add(
        &mut store,
        "j",
        "Subject: =?UTF-8?B?5p2x5Lqs44GL44KJ44GT44KT44Gr44Gh44Gv?=\r\n\r\n\u{6771}\u{4eac}\u{306f}\u{6674}\u{308c}\u{3067}\u{3059}\u{3002}\r\n".as_bytes(),
        MessageState::Full,
    );
    let found = |store: &Store, q: &str| store.search_ids(q).unwrap();
    assert_eq!(
        found(&store, "καλημερα"),
        vec![greek],
        "Greek without its accents"
    );
    assert_eq!(found(&store, "ΑΘΗΝΑ"), vec![greek], "and in capitals");
    assert_eq!(found(&store, "grusse koln"), vec![german], "ß as ss");
    assert_eq!(
        found(&store, "晴れ"),
        vec![japanese],
        "a word inside Japanese text"
    );
    assert_eq!(found(&store, "から"), vec![japanese], "inside the subject");
    assert!(
        found(&store, "晴京").is_empty(),
        "the characters in that order, not anywhere"
    );
    // And every change keeps the folded index whole.
    store.trash(japanese, 5).unwrap();
    store.empty_trash().unwrap();
    assert!(found(&store, "晴れ").is_empty());
    store
        .conn
        .execute(
            "INSERT INTO messages_fts (messages_fts) VALUES ('integrity-check')",
            [],
        )
        .unwrap();
}

#[test]
fn a_version_5_store_keeps_its_account_state_and_learns_to_remember_capabilities() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pipit.db");
    {
        // A store as Pipit left it at schema version 5.
        let conn = Connection::open(&path).unwrap();
        fold::register(&conn).unwrap();
        for sql in &MIGRATIONS[..5] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "application_id", APPLICATION_ID)
            .unwrap();
        conn.pragma_update(None, "user_version", 5).unwrap();
        conn.execute_batch(
            "INSERT INTO account_state (account, last_login, login_delay, pipelining_broken_at)
             VALUES ('home', 100, 900, 50);",
        )
        .unwrap();
    }
    let store = Store::open(&path).unwrap();
    let state = store.account_state("home").unwrap();
    assert_eq!(
        state,
        AccountState {
            last_login: Some(100),
            login_delay: 900,
            pipelining_broken_at: Some(50),
            capabilities: None,
        }
    );
    let remembered = RememberedCapabilities {
        server: "pop.example.org:995:tls".into(),
        before: "PIPELINING\r\nSASL SCRAM-SHA-256\r\n".into(),
        after: "PIPELINING\r\n".into(),
    };
    store
        .remember_capabilities("home", Some(&remembered))
        .unwrap();
    store
        .remember_capabilities("new", Some(&remembered))
        .unwrap();
    let state = store.account_state("home").unwrap();
    assert_eq!(state.capabilities.as_ref(), Some(&remembered));
    assert_eq!(
        (state.last_login, state.pipelining_broken_at),
        (Some(100), Some(50)),
        "the rest of the state stays"
    );
    assert_eq!(
        store.account_state("new").unwrap().capabilities,
        Some(remembered)
    );
    store.remember_capabilities("home", None).unwrap();
    assert_eq!(store.account_state("home").unwrap().capabilities, None);
}

#[test]
fn a_message_a_rule_deleted_leaves_the_other_views_and_its_headers_go_after_30_days() {
    let (_dir, mut store) = temp_store();
    let now = 10_000_000;
    let junk = add(
        &mut store,
        "j",
        b"Subject: junk\r\n\r\n",
        MessageState::Headers,
    );
    let whole = add(
        &mut store,
        "w",
        b"Subject: kept\r\n\r\nbody",
        MessageState::Full,
    );
    let held = add(
        &mut store,
        "h",
        b"Subject: held\r\n\r\n",
        MessageState::Headers,
    );
    let batch = store.batch().unwrap();
    batch
        .mark_rule(junk, "spam", RuleMark::Delete, now)
        .unwrap();
    // A mark on a message stored whole never sweeps it.
    batch
        .mark_rule(whole, "spam", RuleMark::Delete, now)
        .unwrap();
    batch
        .mark_rule(held, "letters", RuleMark::LeaveOnServer, now)
        .unwrap();
    batch.commit().unwrap();
    let ids = |f: &Filter| -> Vec<i64> {
        let mut ids: Vec<i64> = store.messages(f).unwrap().iter().map(|m| m.id).collect();
        ids.sort();
        ids
    };
    assert_eq!(ids(&Filter::default()), vec![held]);
    let deleted = Filter {
        deleted_by_rule: true,
        ..Filter::default()
    };
    assert_eq!(ids(&deleted), vec![junk, whole]);
    // Put in Trash, one shows there.
    store.trash(junk, now).unwrap();
    let trash = Filter {
        trash: true,
        ..Filter::default()
    };
    assert_eq!(ids(&trash), vec![junk]);
    assert_eq!(ids(&deleted), vec![whole]);
    store.restore(junk).unwrap();
    assert_eq!(ids(&deleted), vec![junk, whole]);
    assert_eq!(
        store.left_on_server_by_rule("home").unwrap(),
        HashSet::from([held])
    );
    let listed = store.deleted_by_rule(Some("home")).unwrap();
    assert_eq!(listed.len(), 2);
    assert!(listed.iter().all(|d| d.rule == "spam" && d.at == now));

    // Still on the server, nothing is swept; gone from it, after 30 days.
    let sweep = |store: &mut Store, at: i64| {
        let batch = store.batch().unwrap();
        let n = batch.sweep_deleted_by_rule("home", at).unwrap();
        batch.commit().unwrap();
        n
    };
    let later = now + crate::rules::DELETED_KEPT_SECS + 1;
    assert_eq!(sweep(&mut store, later), 0);
    let copies: Vec<i64> = [junk, whole, held]
        .iter()
        .map(|&m| store.copies_of(m).unwrap()[0].id)
        .collect();
    let batch = store.batch().unwrap();
    batch.forget_copies(&copies, Left::Deleted, now).unwrap();
    batch.commit().unwrap();
    assert_eq!(sweep(&mut store, now + 86_400), 0, "kept 30 days");
    assert!(
        !store
            .deleted_by_rule_to_sweep("home", now + 86_400)
            .unwrap()
    );
    assert!(store.deleted_by_rule_to_sweep("home", later).unwrap());
    assert_eq!(sweep(&mut store, later), 1);
    assert!(!store.deleted_by_rule_to_sweep("home", later).unwrap());
    assert!(store.detail(junk).is_err());
    assert!(store.detail(whole).is_ok() && store.detail(held).is_ok());

    // No rule holds anything back any more: the marks of what is kept as
    // headers go (the deleted one's stays).
    let kept_mark = add(
        &mut store,
        "k",
        b"Subject: kept\r\n\r\n",
        MessageState::Headers,
    );
    let batch = store.batch().unwrap();
    batch
        .mark_rule(kept_mark, "letters", RuleMark::LeaveOnServer, now)
        .unwrap();
    batch.commit().unwrap();
    store.release_held_by_rules("home").unwrap();
    assert_eq!(
        store.left_on_server_by_rule("home").unwrap(),
        HashSet::new()
    );
    assert_eq!(store.deleted_by_rule(Some("home")).unwrap().len(), 1);

    // Arming: by rule and fingerprint.
    store.arm_rule("home", "spam", "abc", now).unwrap();
    store.arm_rule("home", "spam", "def", now).unwrap();
    assert_eq!(store.armed_rules("home").unwrap()["spam"], "def");
    store.disarm_rule("home", "spam").unwrap();
    assert!(store.armed_rules("home").unwrap().is_empty());
}

/// A message with a base64 attachment of `n` pseudo-random bytes, in lines
/// of `line` characters ending in `eol`.
fn with_attachment(n: usize, line: usize, eol: &str, seed: u64) -> Vec<u8> {
    use base64::Engine as _;
    let mut x = seed | 1;
    let bytes: Vec<u8> = (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as u8
        })
        .collect();
    let encoded = base64::engine::general_purpose::STANDARD.encode(&bytes);
    let mut m = format!(
        "From: Ana <ana@example.org>{eol}Subject: the photos{eol}MIME-Version: 1.0{eol}\
         Content-Type: multipart/mixed; boundary=\"b\"{eol}{eol}--b{eol}\
         Content-Type: text/plain{eol}{eol}post office protocol mailbox retrieve message server{eol}\
         post office protocol mailbox retrieve message server{eol}--b{eol}\
         Content-Type: application/octet-stream{eol}Content-Transfer-Encoding: base64{eol}{eol}"
    )
    .into_bytes();
    for chunk in encoded.as_bytes().chunks(line) {
        m.extend_from_slice(chunk);
        m.extend_from_slice(eol.as_bytes());
    }
    m.extend_from_slice(format!("--b--{eol}").as_bytes());
    m
}

#[test]
fn packed_bytes_come_back_exactly_and_attachments_shrink_to_what_they_encode() {
    let mut cases: Vec<Vec<u8>> = vec![
        Vec::new(),
        b"x".to_vec(),
        b"From: a\r\n\r\nshort".to_vec(),
        // Text that only looks like base64, lines of it, no final line ending.
        b"QUJDREVGR0hJSktMTU5PUA==\r\nQUJDREVGR0hJSktMTU5PUA".repeat(100),
        // Non-canonical base64 (trailing bits set): kept as it is.
        b"QR==\r\n".repeat(400),
        b"QUJDREVGR0hJSktMTU5PUR==\r\n".repeat(400),
    ];
    for (n, line, eol) in [
        (3000, 76, "\r\n"),
        (3001, 76, "\r\n"),
        (3002, 76, "\n"),
        (57 * 40, 76, "\r\n"), // the last line full
        (5000, 64, "\r\n"),
        (5000, 996, "\n"),
        (100_000, 72, "\r\n"),
    ] {
        cases.push(with_attachment(n, line, eol, n as u64));
    }
    // Two attachments with a base64 body in between that is not one run:
    // its line lengths change midway.
    let mut mixed = with_attachment(4000, 76, "\r\n", 7);
    mixed.extend_from_slice(&with_attachment(4000, 60, "\r\n", 8));
    mixed.extend_from_slice(b"ABCDEFGHIJKLMNOP\r\nABCDEFGH\r\nABCDEFGHIJKLMNOP\r\n");
    cases.push(mixed);
    // 8-bit bytes, and a CR without LF inside a base64-looking line.
    let binary: Vec<u8> = (0..70_000u32).map(|i| (i * 7919 % 251) as u8).collect();
    cases.push(binary);
    let mut bare_cr = with_attachment(3000, 76, "\r\n", 9);
    let at = bare_cr.len() / 2;
    bare_cr.insert(at, b'\r');
    cases.push(bare_cr);
    for raw in &cases {
        match pack::pack(raw) {
            Some(packed) => {
                assert!(packed.len() < raw.len());
                assert_eq!(&pack::unpack(&packed).unwrap(), raw);
            }
            None => assert!(raw.len() < 2000, "{} bytes not packed", raw.len()),
        }
    }
    // Random bytes in base64 keep about 3/4 of their size, not more.
    let big = with_attachment(1_000_000, 76, "\r\n", 3);
    let packed = pack::pack(&big).unwrap();
    assert!(
        (packed.len() as f64) < big.len() as f64 * 0.74,
        "{} of {}",
        packed.len(),
        big.len()
    );
}

#[test]
fn damaged_packed_bytes_are_refused_never_given_back_wrong() {
    let raw = with_attachment(3000, 76, "\r\n", 5);
    let packed = pack::pack(&raw).unwrap();
    // Every byte changed, one at a time; and every length cut short.
    for i in 0..packed.len() {
        for flip in [0x01u8, 0x80, 0xff] {
            let mut bad = packed.clone();
            bad[i] ^= flip;
            if let Ok(back) = pack::unpack(&bad) {
                assert_eq!(back, raw, "byte {i} changed gave other bytes");
            }
        }
    }
    for n in 0..packed.len() {
        assert!(pack::unpack(&packed[..n]).is_err(), "cut at {n}");
    }
    // A length no blob of this size could give is refused before it is
    // allocated.
    let mut huge = vec![1u8, 0, 0, 0, 0];
    huge.extend_from_slice(&[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f]);
    assert!(pack::unpack(&huge).is_err());
}

#[test]
fn a_damaged_row_is_a_clear_error_for_show_and_export() {
    let (_dir, mut store) = temp_store();
    let raw = with_attachment(20_000, 76, "\r\n", 11);
    let id = add(&mut store, "u1", &raw, MessageState::Full);
    let packed: bool = store
        .conn
        .query_row(
            "SELECT packed FROM message_bytes WHERE message_id = ?1",
            [id],
            |r| r.get(0),
        )
        .unwrap();
    assert!(packed, "a new message is stored packed");
    assert_eq!(store.raw(id).unwrap(), raw);
    // One bit of the stored attachment flipped, as a failing disk would.
    let mut blob: Vec<u8> = store
        .conn
        .query_row(
            "SELECT raw FROM message_bytes WHERE message_id = ?1",
            [id],
            |r| r.get(0),
        )
        .unwrap();
    blob[1000] ^= 0x10;
    store
        .conn
        .execute(
            "UPDATE message_bytes SET raw = ?2 WHERE message_id = ?1",
            params![id, blob],
        )
        .unwrap();
    let err = store.raw(id).unwrap_err();
    assert!(
        matches!(err, StoreError::Corrupt { id: i, .. } if i == id),
        "{err:?}"
    );
    assert!(err.to_string().contains("damaged"), "{err}");
    // Deleting it here would delete the server's copy (the user's wish),
    // and a tombstone keeps it from being fetched again: never the advice.
    assert!(!err.to_string().contains("delete it here"), "{err}");
    let mut out = Vec::new();
    assert!(matches!(
        store.export_mbox(&mut out),
        Err(StoreError::Corrupt { .. })
    ));
    // One damaged message does not keep the others out of an export: they
    // are written, and the export still fails, naming the damaged one.
    let sound = with_attachment(20_000, 76, "\r\n", 12);
    add(&mut store, "u2", &sound, MessageState::Full);
    let mut out = Vec::new();
    assert!(matches!(
        store.export_mbox(&mut out),
        Err(StoreError::Corrupt { id: i, .. }) if i == id
    ));
    assert!(
        out.windows(sound.len()).any(|w| w == sound.as_slice()),
        "the sound message is exported"
    );
    // A row that is not even in the packed format.
    store
        .conn
        .execute(
            "UPDATE message_bytes SET raw = x'07' WHERE message_id = ?1",
            [id],
        )
        .unwrap();
    assert!(matches!(store.raw(id), Err(StoreError::Corrupt { .. })));
}

#[test]
fn a_version_6_store_keeps_its_bytes_exactly_and_packs_what_comes_next() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pipit.db");
    let old = with_attachment(50_000, 76, "\r\n", 21);
    let headers = b"From: Bo <bo@example.org>\r\nSubject: invoice\r\n\r\n".to_vec();
    {
        // A store as Pipit left it at schema version 6: bytes as received.
        let conn = Connection::open(&path).unwrap();
        fold::register(&conn).unwrap();
        for sql in &MIGRATIONS[..6] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "application_id", APPLICATION_ID)
            .unwrap();
        conn.pragma_update(None, "user_version", 6).unwrap();
        conn.execute_batch(
            "INSERT INTO messages (id, account, uid, state, size, first_seen, from_addr, subject, date)
             VALUES (1, 'home', 'u1', 'full', 0, 5, 'Ana <ana@example.org>', 'the photos', 10),
                    (2, 'home', 'u2', 'headers', 9000, 6, 'Bo <bo@example.org>', 'invoice', 20);
             INSERT INTO ledger (account, uid, size, message, first_seen)
             VALUES ('home', 'u2', 9000, 2, 6);",
        )
        .unwrap();
        conn.execute(
            "INSERT INTO message_bytes (message_id, raw) VALUES (1, ?1), (2, ?2)",
            params![old, headers],
        )
        .unwrap();
    }
    let mut store = Store::open(&path).unwrap();
    let version: i64 = store
        .conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, MIGRATIONS.len() as i64);
    assert_eq!(store.raw(1).unwrap(), old);
    assert_eq!(store.raw(2).unwrap(), headers);
    let mut mbox = Vec::new();
    assert_eq!(store.export_mbox(&mut mbox).unwrap(), 1);
    assert!(mbox.windows(old.len()).any(|w| w == old.as_slice()));
    // The headers-only message completed, and a new one: both packed, both exact.
    let full = with_attachment(30_000, 76, "\r\n", 22)
        .into_iter()
        .skip(b"From: Ana <ana@example.org>\r\nSubject: the photos\r\n".len())
        .collect::<Vec<u8>>();
    let full = [headers.strip_suffix(b"\r\n").unwrap(), &full[..]].concat();
    complete(&mut store, 2, &full, 30);
    let new = with_attachment(40_000, 64, "\n", 23);
    let id = add(&mut store, "u3", &new, MessageState::Full);
    for (id, raw) in [(2, &full), (id, &new)] {
        assert_eq!(&store.raw(id).unwrap(), raw);
        let packed: bool = store
            .conn
            .query_row(
                "SELECT packed FROM message_bytes WHERE message_id = ?1",
                [id],
                |r| r.get(0),
            )
            .unwrap();
        assert!(packed, "message {id}");
    }
    // The same bytes again join the stored message, packed or not.
    assert_eq!(store.raw(1).unwrap(), old);
    assert_eq!(store.integrity_check(), Ok(()));
    // A backup is a store of its own that gives the same bytes.
    let copy = dir.path().join("backup.db");
    store.backup(&copy).unwrap();
    let backup = Store::open(&copy).unwrap();
    for (id, raw) in [(1, &old), (2, &full), (id, &new)] {
        assert_eq!(&backup.raw(id).unwrap(), raw);
    }
}

#[test]
fn sql_sees_the_bytes_through_pipit_bytes() {
    let (_dir, mut store) = temp_store();
    let raw = with_attachment(20_000, 76, "\r\n", 31);
    add(&mut store, "u1", &raw, MessageState::Full);
    register_bytes_function(&store.conn).unwrap();
    let n: i64 = store
        .conn
        .query_row(
            "SELECT count(*) FROM message_bytes WHERE pipit_bytes(raw, packed) = ?1",
            [&raw],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(n, 1);
}

#[test]
fn the_look_for_identical_bytes_reads_two_indexes_not_the_whole_account() {
    let (_dir, store) = temp_store();
    let plan: Vec<String> = store
        .conn
        .prepare(&format!(
            "EXPLAIN QUERY PLAN {}",
            ledger::IDENTICAL_CANDIDATES
        ))
        .unwrap()
        .query_map(
            params!["home", b"digest".as_slice(), 10, "<m@example.org>", 1, 8],
            |r| r.get::<_, String>(3),
        )
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    let plan = plan.join("\n");
    assert!(
        plan.contains("messages_by_digest (account=? AND header_digest=?)")
            && plan.contains("messages_by_message_id (account=? AND message_id=?)"),
        "{plan}"
    );
}

#[test]
fn rules_read_the_header_block_of_bytes_kept_packed() {
    let (_dir, mut store) = temp_store();
    // Long enough to be kept packed, as the fetch keeps most mail now.
    let mut headers = String::from("From: Ana <ana@example.org>\r\nX-Spam-Flag: YES\r\n");
    for i in 0..100 {
        headers.push_str(&format!(
            "Received: from relay{i}.example.org by mx.example.org\r\n"
        ));
    }
    headers.push_str("Subject: cheap pills\r\n\r\n");
    let mut whole = headers.clone().into_bytes();
    whole.extend_from_slice(&b"buy now, buy now, buy now\r\n".repeat(200));
    let held = add(&mut store, "h", headers.as_bytes(), MessageState::Headers);
    let full = add(&mut store, "f", &whole, MessageState::Full);
    for id in [held, full] {
        let packed: bool = store
            .conn
            .query_row(
                "SELECT packed FROM message_bytes WHERE message_id = ?1",
                [id],
                |r| r.get(0),
            )
            .unwrap();
        assert!(packed, "message {id} is kept packed");
    }
    let blocks = store.header_blocks(&[held, full]).unwrap();
    assert_eq!(blocks[&held], headers.as_bytes());
    assert_eq!(blocks[&full], headers.as_bytes());
}

/// Issue 17: the list of a million messages is read along an index, in
/// every order, for all mail and for one account: no sort of its rows.
#[test]
fn every_order_of_a_large_list_is_read_from_an_index() {
    let (_dir, store) = temp_store();
    let columns = [Column::Date, Column::Size, Column::From, Column::Subject];
    for account in [None, Some("home".to_string())] {
        let filter = Filter {
            account: account.clone(),
            ..Filter::default()
        };
        for column in columns {
            for ascending in [false, true] {
                let sort = Sort { column, ascending };
                let (cond, _) = list_where(&filter, true);
                let sql = format!(
                    "EXPLAIN QUERY PLAN SELECT id FROM messages WHERE {cond} ORDER BY {}",
                    sort.order_by()
                );
                let plan: Vec<String> = store
                    .conn
                    .prepare(&sql)
                    .unwrap()
                    .query_map([&account], |r| r.get::<_, String>(3))
                    .unwrap()
                    .collect::<rusqlite::Result<_>>()
                    .unwrap();
                let plan = plan.join("; ");
                assert!(
                    plan.contains("USING INDEX messages_") && !plan.contains("TEMP B-TREE"),
                    "{account:?} {sort:?}: {plan}"
                );
            }
        }
    }
}

/// The order the indexes give is the order the window showed when it
/// sorted rows itself: sender and subject without case, subjects without
/// "Re:", ties by id, Trash and all mail apart.
#[test]
fn lists_come_in_each_columns_order() {
    let (_dir, mut store) = temp_store();
    let a = add(
        &mut store,
        "a",
        b"From: bob <b@x>\r\nSubject: Re: zebra\r\nDate: Mon, 2 Nov 2026 10:00:00 +0000\r\n\r\nshort\r\n",
        MessageState::Full,
    );
    let b = add(
        &mut store,
        "b",
        b"From: Ann <a@x>\r\nSubject: apple\r\nDate: Tue, 3 Nov 2026 10:00:00 +0000\r\n\r\na longer body than the other two\r\n",
        MessageState::Full,
    );
    let c = add(
        &mut store,
        "c",
        b"From: carl <c@x>\r\nSubject: Mango\r\n\r\nno date\r\n",
        MessageState::Full,
    );
    let all = Filter::default();
    let ids = |column, ascending| store.list_ids(&all, Sort { column, ascending }).unwrap();
    assert_eq!(ids(Column::Date, false), vec![b, a, c]);
    assert_eq!(ids(Column::Date, true), vec![c, a, b]);
    assert_eq!(ids(Column::From, true), vec![b, a, c]);
    assert_eq!(ids(Column::Subject, true), vec![b, c, a]);
    assert_eq!(ids(Column::Subject, false), vec![a, c, b]);
    assert_eq!(ids(Column::Size, false)[0], b);
    let first = store
        .list_first(&all, Sort::default(), 2)
        .unwrap()
        .iter()
        .map(|r| r.id)
        .collect::<Vec<_>>();
    assert_eq!(first, vec![b, a]);
    store.trash(a, 5).unwrap();
    assert_eq!(ids(Column::Date, false), vec![b, c]);
    let trash = Filter {
        trash: true,
        ..Filter::default()
    };
    assert_eq!(store.list_ids(&trash, Sort::default()).unwrap(), vec![a]);
    let one = Filter {
        account: Some("home".into()),
        ..Filter::default()
    };
    assert_eq!(store.list_ids(&one, Sort::default()).unwrap(), vec![b, c]);
    let other = Filter {
        account: Some("work".into()),
        ..Filter::default()
    };
    assert!(store.list_ids(&other, Sort::default()).unwrap().is_empty());
    let rows = store.summaries(&[c, 999, b]).unwrap();
    assert_eq!(rows.iter().map(|r| r.id).collect::<Vec<_>>(), vec![c, b]);
}

/// A store from before the list's indexes (version 8, the one before them) gets them, over the
/// messages it holds, and lists them in every order.
#[test]
fn a_store_from_before_the_lists_indexes_gains_them_over_its_messages() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pipit.db");
    let (old, new) = {
        let conn = Connection::open(&path).unwrap();
        fold::register(&conn).unwrap();
        for sql in &MIGRATIONS[..8] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "application_id", APPLICATION_ID)
            .unwrap();
        conn.pragma_update(None, "user_version", 8).unwrap();
        drop(conn);
        let mut store = Store {
            conn: Connection::open(&path).unwrap(),
            path: path.clone(),
        };
        store.configure().unwrap();
        let old = add(
            &mut store,
            "a",
            b"From: Zed <z@x>\r\nSubject: Re: older\r\nDate: Mon, 2 Nov 2026 10:00:00 +0000\r\n\r\nx\r\n",
            MessageState::Full,
        );
        let new = add(
            &mut store,
            "b",
            b"From: amy <a@x>\r\nSubject: newer\r\nDate: Tue, 3 Nov 2026 10:00:00 +0000\r\n\r\nx\r\n",
            MessageState::Full,
        );
        (old, new)
    };
    let store = Store::open(&path).unwrap();
    let version: i64 = store
        .conn
        .pragma_query_value(None, "user_version", |r| r.get(0))
        .unwrap();
    assert_eq!(version, MIGRATIONS.len() as i64);
    let indexes: i64 = store
        .conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name LIKE 'messages_list_%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(indexes, 4);
    let all = Filter::default();
    let by = |column| {
        store
            .list_ids(
                &all,
                Sort {
                    column,
                    ascending: true,
                },
            )
            .unwrap()
    };
    assert_eq!(by(Column::Date), vec![old, new]);
    assert_eq!(by(Column::From), vec![new, old]);
    assert_eq!(by(Column::Subject), vec![new, old]);
    assert_eq!(store.integrity_check(), Ok(()));
    // Any SQLite can check it, without Pipit's functions.
    let plain = Connection::open(&path).unwrap();
    let verdict: String = plain
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(verdict, "ok");
}

/// A headers-only message whose stored (packed) header block is damaged:
/// its download is still stored, whole and exact, as a message of its own
/// (the damaged block is no evidence of which message it is), and the
/// batch does not fail (a failing batch would keep every later download of
/// the account from being stored, fetch after fetch).
#[test]
fn a_download_of_a_headers_only_message_whose_block_is_damaged_is_stored() {
    let (_dir, mut store) = temp_store();
    let mut headers = String::from("From: Ana <ana@example.org>\r\n");
    for i in 0..40 {
        headers.push_str(&format!("Received: from relay{i}.example.org\r\n"));
    }
    headers.push_str("Subject: the photos\r\n\r\n");
    let id = add(&mut store, "u1", headers.as_bytes(), MessageState::Headers);
    let packed: bool = store
        .conn
        .query_row(
            "SELECT packed FROM message_bytes WHERE message_id = ?1",
            [id],
            |r| r.get(0),
        )
        .unwrap();
    assert!(packed, "the header block is kept packed");
    store
        .conn
        .execute(
            "UPDATE message_bytes SET raw = x'01' WHERE message_id = ?1",
            [id],
        )
        .unwrap();
    let mut full = headers.clone().into_bytes();
    full.extend_from_slice(&b"the photos are attached\r\n".repeat(50));
    let copy = store.copies_of(id).unwrap()[0].id;
    let batch = store.batch().unwrap();
    let got = batch
        .store_download(
            Download { copy, message: id },
            &full,
            &mime::parse(&full),
            &mime::header_digest(&full),
            2000,
        )
        .expect("the download is stored");
    batch.commit().unwrap();
    assert_ne!(got, id, "not completed on a block that cannot be read");
    assert_eq!(store.raw(got).unwrap(), full);
    assert_eq!(stored(&store, got).state, MessageState::Full);
}

/// Bytes handed to the store with the packed form of other bytes (a
/// caller's slip: the fetch packs on another thread) are kept as they
/// are, never as the other message.
#[test]
fn bytes_with_the_packed_form_of_others_are_kept_as_they_are() {
    let (_dir, mut store) = temp_store();
    let headers = b"From: Ana <ana@example.org>\r\nSubject: the photos\r\n\r\n";
    let id = add(&mut store, "u1", headers, MessageState::Headers);
    let raw = with_attachment(20_000, 76, "\r\n", 41);
    let other = with_attachment(20_000, 76, "\r\n", 42);
    assert_eq!(raw.len(), other.len());
    let copy = store.copies_of(id).unwrap()[0].id;
    let batch = store.batch().unwrap();
    let got = batch
        .store_download_packed(
            Download { copy, message: id },
            &raw,
            &Packed::of(&other),
            &mime::parse(&raw),
            &mime::header_digest(&raw),
            2000,
        )
        .unwrap();
    batch.commit().unwrap();
    assert!(store.raw(got).unwrap() == raw, "other bytes were stored");
}
