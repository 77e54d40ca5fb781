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
];
