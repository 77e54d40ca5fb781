//! The schema, as a list of forward migrations. Migration `i` (0-based) moves
//! the database from version `i` to `i + 1`; each runs in its own transaction
//! together with the version bump. Never edit one that has shipped: add another.

/// `PRAGMA application_id`: marks the file as Pipit's ("PIPT").
pub const APPLICATION_ID: i64 = 0x5049_5054;

pub const MIGRATIONS: &[&str] = &[
    // 1: messages, their bytes, and the full-text index.
    "
    CREATE TABLE messages (
        id INTEGER PRIMARY KEY,
        account TEXT NOT NULL,
        -- The server's UIDL, or 'digest:<sha256 of the header block>' when it has none.
        uid TEXT NOT NULL,
        -- Which occurrence of this uid in the server's listing: servers that
        -- repeat a UID must not make one message hide another.
        uid_seq INTEGER NOT NULL DEFAULT 0,
        -- 'headers': only the header block is here; 'full': the whole message;
        -- 'purged': removed from Trash for good, kept as a tombstone while the
        -- server still holds it, so it is never downloaded again.
        state TEXT NOT NULL CHECK (state IN ('headers', 'full', 'purged')),
        on_server INTEGER NOT NULL DEFAULT 1,
        size INTEGER NOT NULL DEFAULT 0,
        first_seen INTEGER NOT NULL,
        downloaded_at INTEGER,
        from_addr TEXT NOT NULL DEFAULT '',
        to_addr TEXT NOT NULL DEFAULT '',
        cc_addr TEXT NOT NULL DEFAULT '',
        subject TEXT NOT NULL DEFAULT '',
        date INTEGER,
        message_id TEXT NOT NULL DEFAULT '',
        attachments TEXT NOT NULL DEFAULT '',
        body_text TEXT NOT NULL DEFAULT '',
        seen INTEGER NOT NULL DEFAULT 0,
        trashed_at INTEGER,
        delete_on_server INTEGER NOT NULL DEFAULT 0,
        download_requested INTEGER NOT NULL DEFAULT 0,
        UNIQUE (account, uid, uid_seq)
    ) STRICT;

    CREATE INDEX messages_by_date ON messages (date);

    -- Raw bytes apart, so listing never reads them.
    CREATE TABLE message_bytes (
        message_id INTEGER PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
        raw BLOB NOT NULL
    ) STRICT;

    CREATE VIRTUAL TABLE messages_fts USING fts5 (
        from_addr, subject, body_text,
        content = 'messages', content_rowid = 'id',
        tokenize = 'unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
        INSERT INTO messages_fts (rowid, from_addr, subject, body_text)
        VALUES (new.id, new.from_addr, new.subject, new.body_text);
    END;
    CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, from_addr, subject, body_text)
        VALUES ('delete', old.id, old.from_addr, old.subject, old.body_text);
    END;
    CREATE TRIGGER messages_fts_update AFTER UPDATE OF from_addr, subject, body_text ON messages BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, from_addr, subject, body_text)
        VALUES ('delete', old.id, old.from_addr, old.subject, old.body_text);
        INSERT INTO messages_fts (rowid, from_addr, subject, body_text)
        VALUES (new.id, new.from_addr, new.subject, new.body_text);
    END;
    ",
    // 2: what Pipit has learnt about each account's server.
    "
    CREATE TABLE account_state (
        account TEXT PRIMARY KEY,
        -- When Pipit last logged in, and the LOGIN-DELAY (seconds) the server
        -- then asked for: no login is tried again before both have passed.
        last_login INTEGER,
        login_delay INTEGER NOT NULL DEFAULT 0,
        -- When the server was seen to break under pipelining; Pipit then sends
        -- one command at a time to it for a while.
        pipelining_broken_at INTEGER
    ) STRICT;
    ",
    // 3: the text for search apart from the rows the list reads, which were
    // as wide as each message's text (and read whole for a column after it).
    // The index keeps no copy of the text (contentless): the triggers tell it
    // the old values of a row they replace, read from the two tables.
    "
    DROP TRIGGER messages_fts_insert;
    DROP TRIGGER messages_fts_delete;
    DROP TRIGGER messages_fts_update;
    DROP TABLE messages_fts;

    CREATE TABLE message_text (
        message_id INTEGER PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
        body_text TEXT NOT NULL
    ) STRICT;
    INSERT INTO message_text (message_id, body_text)
        SELECT id, body_text FROM messages WHERE body_text != '';
    ALTER TABLE messages DROP COLUMN body_text;

    CREATE VIRTUAL TABLE messages_fts USING fts5 (
        from_addr, subject, body_text,
        content = '',
        tokenize = 'unicode61 remove_diacritics 2'
    );
    INSERT INTO messages_fts (rowid, from_addr, subject, body_text)
        SELECT m.id, m.from_addr, m.subject, coalesce(t.body_text, '')
        FROM messages m LEFT JOIN message_text t ON t.message_id = m.id;

    -- Each message has one row in the index: its sender, subject and text
    -- (empty until it has some). A row is replaced by deleting exactly what
    -- was indexed, then indexing the new values.
    CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
        INSERT INTO messages_fts (rowid, from_addr, subject, body_text)
        VALUES (new.id, new.from_addr, new.subject, '');
    END;
    CREATE TRIGGER messages_fts_update AFTER UPDATE OF from_addr, subject ON messages
    WHEN old.from_addr IS NOT new.from_addr OR old.subject IS NOT new.subject BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, from_addr, subject, body_text)
        VALUES ('delete', old.id, old.from_addr, old.subject,
            coalesce((SELECT body_text FROM message_text WHERE message_id = old.id), ''));
        INSERT INTO messages_fts (rowid, from_addr, subject, body_text)
        VALUES (new.id, new.from_addr, new.subject,
            coalesce((SELECT body_text FROM message_text WHERE message_id = new.id), ''));
    END;
    -- Before, while the text is still there (the delete cascades to it).
    CREATE TRIGGER messages_fts_delete BEFORE DELETE ON messages BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, from_addr, subject, body_text)
        VALUES ('delete', old.id, old.from_addr, old.subject,
            coalesce((SELECT body_text FROM message_text WHERE message_id = old.id), ''));
    END;
    CREATE TRIGGER message_text_fts_insert AFTER INSERT ON message_text BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, from_addr, subject, body_text)
        SELECT 'delete', id, from_addr, subject, '' FROM messages WHERE id = new.message_id;
        INSERT INTO messages_fts (rowid, from_addr, subject, body_text)
        SELECT id, from_addr, subject, new.body_text FROM messages WHERE id = new.message_id;
    END;
    CREATE TRIGGER message_text_fts_update AFTER UPDATE OF body_text ON message_text BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, from_addr, subject, body_text)
        SELECT 'delete', id, from_addr, subject, old.body_text FROM messages WHERE id = old.message_id;
        INSERT INTO messages_fts (rowid, from_addr, subject, body_text)
        SELECT id, from_addr, subject, new.body_text FROM messages WHERE id = new.message_id;
    END;
    -- Not when the message itself goes (its row is gone by the cascade).
    CREATE TRIGGER message_text_fts_delete AFTER DELETE ON message_text BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, from_addr, subject, body_text)
        SELECT 'delete', id, from_addr, subject, old.body_text FROM messages WHERE id = old.message_id;
        INSERT INTO messages_fts (rowid, from_addr, subject, body_text)
        SELECT id, from_addr, subject, '' FROM messages WHERE id = old.message_id;
    END;
    ",
    // 4: a message is who it is, not where its UID points. The server's
    // copies of a message move to a ledger of their own: one message may have
    // several (a mailbox that moved, renumbered UIDs, a duplicate), each known
    // by its UID, its listed size and the digest of its header block. The
    // messages table is rebuilt without (uid, uid_seq) as its identity; ids,
    // and so the full-text index, stay as they were. `migrate` runs this with
    // foreign keys off (dropping the old table must not cascade to the bytes),
    // and `finish` fills in the digests from the stored bytes.
    "
    DROP TRIGGER messages_fts_insert;
    DROP TRIGGER messages_fts_update;
    DROP TRIGGER messages_fts_delete;
    DROP TRIGGER message_text_fts_insert;
    DROP TRIGGER message_text_fts_update;
    DROP TRIGGER message_text_fts_delete;

    CREATE TABLE messages_v4 (
        id INTEGER PRIMARY KEY,
        account TEXT NOT NULL,
        -- The UID it was first stored under, for people reading a listing;
        -- '' when it had none. Identity lives in the ledger.
        uid TEXT NOT NULL DEFAULT '',
        -- 'headers': only the header block is here; 'full': the whole message;
        -- 'purged': removed from Trash for good, kept as a tombstone while the
        -- server may still hold it, so it is never downloaded again.
        state TEXT NOT NULL CHECK (state IN ('headers', 'full', 'purged')),
        -- Whether the last session's listing showed a copy of it (the ledger
        -- has one); kept in step with the ledger by the store.
        on_server INTEGER NOT NULL DEFAULT 1,
        -- When its last copy left the server without Pipit deleting it; such
        -- a message may come back under another UID (a mailbox that moved).
        vanished_at INTEGER,
        -- Bytes stored: the whole message when full, else what LIST said.
        size INTEGER NOT NULL DEFAULT 0,
        -- What the server listed for it when it was first seen; NULL if unknown.
        listed_size INTEGER,
        -- SHA-256 of its header block (line endings as LF, no blank line).
        header_digest BLOB,
        first_seen INTEGER NOT NULL,
        downloaded_at INTEGER,
        from_addr TEXT NOT NULL DEFAULT '',
        to_addr TEXT NOT NULL DEFAULT '',
        cc_addr TEXT NOT NULL DEFAULT '',
        subject TEXT NOT NULL DEFAULT '',
        date INTEGER,
        message_id TEXT NOT NULL DEFAULT '',
        attachments TEXT NOT NULL DEFAULT '',
        seen INTEGER NOT NULL DEFAULT 0,
        trashed_at INTEGER,
        delete_on_server INTEGER NOT NULL DEFAULT 0,
        download_requested INTEGER NOT NULL DEFAULT 0,
        -- Why only its headers are here, when that is not the user's choice
        -- (a header block or a message larger than Pipit reads); '' if none.
        problem TEXT NOT NULL DEFAULT '',
        -- Its download broke a session (it ran past every bound): it is not
        -- asked for again unless the user asks.
        set_aside INTEGER NOT NULL DEFAULT 0
    ) STRICT;
    INSERT INTO messages_v4 (id, account, uid, state, on_server, size, listed_size, first_seen,
            downloaded_at, from_addr, to_addr, cc_addr, subject, date, message_id, attachments,
            seen, trashed_at, delete_on_server, download_requested)
        SELECT id, account, CASE WHEN uid LIKE 'digest:%' THEN '' ELSE uid END, state, on_server,
            size, CASE WHEN state = 'headers' THEN size END, first_seen, downloaded_at, from_addr,
            to_addr, cc_addr, subject, date, message_id, attachments, seen, trashed_at,
            delete_on_server, download_requested
        FROM messages;

    -- Each copy of a message that the server listed in the last session.
    CREATE TABLE ledger (
        id INTEGER PRIMARY KEY,
        account TEXT NOT NULL,
        -- Its UIDL; NULL when the server has none or gave one Pipit cannot use.
        uid TEXT,
        -- What LIST said; NULL until the next listing (stores from before
        -- version 4 kept the stored size, not the listed one).
        size INTEGER,
        -- SHA-256 of its header block, once read.
        header_digest BLOB,
        message INTEGER NOT NULL REFERENCES messages (id) ON DELETE CASCADE,
        first_seen INTEGER NOT NULL
    ) STRICT;
    INSERT INTO ledger (account, uid, size, message, first_seen)
        SELECT account, CASE WHEN uid LIKE 'digest:%' THEN NULL ELSE uid END,
            CASE WHEN state = 'headers' THEN size END, id, first_seen
        FROM messages WHERE on_server = 1;

    -- UIDs the server has given to more than one message, now or before: a
    -- copy under one of them is told apart by its header digest too.
    CREATE TABLE suspect_uids (
        account TEXT NOT NULL,
        uid TEXT NOT NULL,
        PRIMARY KEY (account, uid)
    ) STRICT, WITHOUT ROWID;
    INSERT OR IGNORE INTO suspect_uids (account, uid)
        SELECT account, uid FROM messages WHERE uid_seq > 0 AND uid NOT LIKE 'digest:%';

    DROP TABLE messages;
    ALTER TABLE messages_v4 RENAME TO messages;
    CREATE INDEX messages_by_date ON messages (date);
    CREATE INDEX messages_by_digest ON messages (account, header_digest);
    CREATE INDEX messages_by_message_id ON messages (account, message_id);
    CREATE INDEX ledger_by_account ON ledger (account, uid);
    CREATE INDEX ledger_by_message ON ledger (message);

    CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
        INSERT INTO messages_fts (rowid, from_addr, subject, body_text)
        VALUES (new.id, new.from_addr, new.subject, '');
    END;
    CREATE TRIGGER messages_fts_update AFTER UPDATE OF from_addr, subject ON messages
    WHEN old.from_addr IS NOT new.from_addr OR old.subject IS NOT new.subject BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, from_addr, subject, body_text)
        VALUES ('delete', old.id, old.from_addr, old.subject,
            coalesce((SELECT body_text FROM message_text WHERE message_id = old.id), ''));
        INSERT INTO messages_fts (rowid, from_addr, subject, body_text)
        VALUES (new.id, new.from_addr, new.subject,
            coalesce((SELECT body_text FROM message_text WHERE message_id = new.id), ''));
    END;
    CREATE TRIGGER messages_fts_delete BEFORE DELETE ON messages BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, from_addr, subject, body_text)
        VALUES ('delete', old.id, old.from_addr, old.subject,
            coalesce((SELECT body_text FROM message_text WHERE message_id = old.id), ''));
    END;
    CREATE TRIGGER message_text_fts_insert AFTER INSERT ON message_text BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, from_addr, subject, body_text)
        SELECT 'delete', id, from_addr, subject, '' FROM messages WHERE id = new.message_id;
        INSERT INTO messages_fts (rowid, from_addr, subject, body_text)
        SELECT id, from_addr, subject, new.body_text FROM messages WHERE id = new.message_id;
    END;
    CREATE TRIGGER message_text_fts_update AFTER UPDATE OF body_text ON message_text BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, from_addr, subject, body_text)
        SELECT 'delete', id, from_addr, subject, old.body_text FROM messages WHERE id = old.message_id;
        INSERT INTO messages_fts (rowid, from_addr, subject, body_text)
        SELECT id, from_addr, subject, new.body_text FROM messages WHERE id = old.message_id;
    END;
    CREATE TRIGGER message_text_fts_delete AFTER DELETE ON message_text BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, from_addr, subject, body_text)
        SELECT 'delete', id, from_addr, subject, old.body_text FROM messages WHERE id = old.message_id;
        INSERT INTO messages_fts (rowid, from_addr, subject, body_text)
        SELECT id, from_addr, subject, '' FROM messages WHERE id = old.message_id;
    END;
    ",
    // 5: the index reads text folded as a person searches it (fold.rs):
    // Greek without accents, ß as ss, each character of Chinese, Japanese and
    // Korean a word. Rebuilt from the tables; the triggers fold too.
    "
    DROP TRIGGER messages_fts_insert;
    DROP TRIGGER messages_fts_update;
    DROP TRIGGER messages_fts_delete;
    DROP TRIGGER message_text_fts_insert;
    DROP TRIGGER message_text_fts_update;
    DROP TRIGGER message_text_fts_delete;
    INSERT INTO messages_fts (messages_fts) VALUES ('delete-all');
    INSERT INTO messages_fts (rowid, from_addr, subject, body_text)
        SELECT m.id, pipit_fold(m.from_addr), pipit_fold(m.subject),
            pipit_fold(coalesce(t.body_text, ''))
        FROM messages m LEFT JOIN message_text t ON t.message_id = m.id;

    CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
        INSERT INTO messages_fts (rowid, from_addr, subject, body_text)
        VALUES (new.id, pipit_fold(new.from_addr), pipit_fold(new.subject), '');
    END;
    CREATE TRIGGER messages_fts_update AFTER UPDATE OF from_addr, subject ON messages
    WHEN old.from_addr IS NOT new.from_addr OR old.subject IS NOT new.subject BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, from_addr, subject, body_text)
        VALUES ('delete', old.id, pipit_fold(old.from_addr), pipit_fold(old.subject),
            pipit_fold(coalesce((SELECT body_text FROM message_text WHERE message_id = old.id), '')));
        INSERT INTO messages_fts (rowid, from_addr, subject, body_text)
        VALUES (new.id, pipit_fold(new.from_addr), pipit_fold(new.subject),
            pipit_fold(coalesce((SELECT body_text FROM message_text WHERE message_id = new.id), '')));
    END;
    CREATE TRIGGER messages_fts_delete BEFORE DELETE ON messages BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, from_addr, subject, body_text)
        VALUES ('delete', old.id, pipit_fold(old.from_addr), pipit_fold(old.subject),
            pipit_fold(coalesce((SELECT body_text FROM message_text WHERE message_id = old.id), '')));
    END;
    CREATE TRIGGER message_text_fts_insert AFTER INSERT ON message_text BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, from_addr, subject, body_text)
        SELECT 'delete', id, pipit_fold(from_addr), pipit_fold(subject), '' FROM messages WHERE id = new.message_id;
        INSERT INTO messages_fts (rowid, from_addr, subject, body_text)
        SELECT id, pipit_fold(from_addr), pipit_fold(subject), pipit_fold(new.body_text) FROM messages WHERE id = new.message_id;
    END;
    CREATE TRIGGER message_text_fts_update AFTER UPDATE OF body_text ON message_text BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, from_addr, subject, body_text)
        SELECT 'delete', id, pipit_fold(from_addr), pipit_fold(subject), pipit_fold(old.body_text) FROM messages WHERE id = old.message_id;
        INSERT INTO messages_fts (rowid, from_addr, subject, body_text)
        SELECT id, pipit_fold(from_addr), pipit_fold(subject), pipit_fold(new.body_text) FROM messages WHERE id = old.message_id;
    END;
    CREATE TRIGGER message_text_fts_delete AFTER DELETE ON message_text BEGIN
        INSERT INTO messages_fts (messages_fts, rowid, from_addr, subject, body_text)
        SELECT 'delete', id, pipit_fold(from_addr), pipit_fold(subject), pipit_fold(old.body_text) FROM messages WHERE id = old.message_id;
        INSERT INTO messages_fts (rowid, from_addr, subject, body_text)
        SELECT id, pipit_fold(from_addr), pipit_fold(subject), '' FROM messages WHERE id = old.message_id;
    END;
    ",
    // 6: the capabilities each account's server listed (CAPA), remembered
    // so that the next session need not ask before logging in: with the
    // server that listed them (host:port:security; another server's are
    // never used), those listed before the login and those after it. NULL:
    // nothing remembered, ask.
    "
    ALTER TABLE account_state ADD COLUMN capa_server TEXT;
    ALTER TABLE account_state ADD COLUMN capa_before TEXT;
    ALTER TABLE account_state ADD COLUMN capa_after TEXT;
    ",
    // 7: rules before download. Which rule held a message back or deleted it
    // on the server (its header block stays for a while, so a wrong rule is
    // seen), and which deleting rules the user has armed by a dry run: the
    // fingerprint of the rule as it was then (an edited rule is not armed).
    "
    CREATE TABLE rule_marks (
        message_id INTEGER PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
        rule TEXT NOT NULL,
        -- 'headers-only', 'leave-on-server', 'unarmed' (a deleting rule not
        -- armed yet: left on the server), 'delete' (deleted on the server by
        -- an armed rule, or about to be).
        action TEXT NOT NULL CHECK (action IN ('headers-only', 'leave-on-server', 'unarmed', 'delete')),
        at INTEGER NOT NULL
    ) STRICT;
    CREATE INDEX rule_marks_by_action ON rule_marks (action, at);
    CREATE TABLE rule_arms (
        account TEXT NOT NULL,
        rule TEXT NOT NULL,
        fingerprint TEXT NOT NULL,
        armed_at INTEGER NOT NULL,
        PRIMARY KEY (account, rule)
    ) STRICT;
    ",
    // 8: a message's bytes may be kept packed (pack.rs: base64 attachments
    // as the bytes they encode, the rest deflated, with the CRC-32 and
    // length of the original): 1 when `raw` holds that form, 0 when it
    // holds the bytes as received. Rows stored before stay as they are
    // (0) and read as before; new ones are packed when that is smaller.
    "
    ALTER TABLE message_bytes ADD COLUMN packed INTEGER NOT NULL DEFAULT 0 CHECK (packed IN (0, 1));
    ",
    // 9: the message list's order from indexes, one per sortable column
    // (order.rs), over the messages a list shows (not purged, not in
    // Trash), for all accounts and per account: the first screen of a
    // million messages is then a short walk down one index, and the whole
    // order is read from it, without a sort. Trash and On server are small
    // and sorted as read. The sender's and subject's sort keys are Pipit's
    // (pipit_from_key, pipit_subject_key), kept in columns of their own by
    // triggers, so that the indexes hold plain values: any SQLite can check
    // the database without Pipit's functions.
    "
    ALTER TABLE messages ADD COLUMN sort_from TEXT NOT NULL DEFAULT '';
    ALTER TABLE messages ADD COLUMN sort_subject TEXT NOT NULL DEFAULT '';
    UPDATE messages SET sort_from = pipit_from_key(from_addr),
        sort_subject = pipit_subject_key(subject);
    CREATE TRIGGER messages_sort_insert AFTER INSERT ON messages BEGIN
        UPDATE messages SET sort_from = pipit_from_key(new.from_addr),
            sort_subject = pipit_subject_key(new.subject)
        WHERE id = new.id;
    END;
    CREATE TRIGGER messages_sort_update AFTER UPDATE OF from_addr, subject ON messages
    WHEN old.from_addr IS NOT new.from_addr OR old.subject IS NOT new.subject BEGIN
        UPDATE messages SET sort_from = pipit_from_key(new.from_addr),
            sort_subject = pipit_subject_key(new.subject)
        WHERE id = new.id;
    END;
    CREATE INDEX messages_list_date ON messages (date)
        WHERE state != 'purged' AND trashed_at IS NULL;
    CREATE INDEX messages_list_size ON messages (size)
        WHERE state != 'purged' AND trashed_at IS NULL;
    CREATE INDEX messages_list_from ON messages (sort_from)
        WHERE state != 'purged' AND trashed_at IS NULL;
    CREATE INDEX messages_list_subject ON messages (sort_subject)
        WHERE state != 'purged' AND trashed_at IS NULL;
    CREATE INDEX messages_account_date ON messages (account, date)
        WHERE state != 'purged' AND trashed_at IS NULL;
    CREATE INDEX messages_account_size ON messages (account, size)
        WHERE state != 'purged' AND trashed_at IS NULL;
    CREATE INDEX messages_account_from ON messages (account, sort_from)
        WHERE state != 'purged' AND trashed_at IS NULL;
    CREATE INDEX messages_account_subject ON messages (account, sort_subject)
        WHERE state != 'purged' AND trashed_at IS NULL;
    ",
];

/// What a migration needs beyond SQL, run in its transaction after its SQL.
pub fn finish(step: usize, tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
    if step == 3 {
        backfill_header_digests(tx)?;
    }
    Ok(())
}

/// Version 4: the header digest of every message whose bytes are stored,
/// read from the front of those bytes only (the header block is bounded).
fn backfill_header_digests(tx: &rusqlite::Transaction<'_>) -> rusqlite::Result<()> {
    let ids: Vec<i64> = tx
        .prepare("SELECT message_id FROM message_bytes")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut set_message =
        tx.prepare("UPDATE messages SET header_digest = ?2 WHERE id = ?1 AND state != 'purged'")?;
    let mut set_copies = tx.prepare("UPDATE ledger SET header_digest = ?2 WHERE message = ?1")?;
    let mut front = vec![0u8; crate::mime::HEADER_DIGEST_SCAN];
    for id in ids {
        let blob = tx.blob_open(rusqlite::MAIN_DB, "message_bytes", "raw", id, true)?;
        let n = blob.read_at(&mut front, 0)?;
        let digest = crate::mime::header_digest(&front[..n]);
        set_message.execute(rusqlite::params![id, digest.as_slice()])?;
        set_copies.execute(rusqlite::params![id, digest.as_slice()])?;
    }
    Ok(())
}
