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
];
