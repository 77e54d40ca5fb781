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
                let (cond, _) = list_where(&filter);
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

/// A store from before the list's indexes (version 6) gets them, over the
/// messages it holds, and lists them in every order.
#[test]
fn a_version_6_store_gains_the_lists_indexes_over_its_messages() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pipit.db");
    let (old, new) = {
        let conn = Connection::open(&path).unwrap();
        fold::register(&conn).unwrap();
        for sql in &MIGRATIONS[..6] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "application_id", APPLICATION_ID)
            .unwrap();
        conn.pragma_update(None, "user_version", 6).unwrap();
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
