//! The invariant every fault test checks, written once: after any fetch —
//! finished, cut, crashed or refused — every message that was on the server
//! is still on the server or whole in the store, never in neither, never
//! twice in the store, and the database passes `PRAGMA integrity_check`.

use std::path::Path;

/// The full messages in the store at `store`, straight from the database.
pub fn stored_messages(store: &Path) -> Vec<Vec<u8>> {
    if !store.exists() {
        return Vec::new();
    }
    let db = rusqlite::Connection::open(store).expect("open the store");
    // Killed between creating the file and its first migration: no mail yet.
    let has_tables: bool = db
        .query_row(
            "SELECT count(*) > 0 FROM sqlite_master WHERE name = 'messages'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    if !has_tables {
        return Vec::new();
    }
    pipit::store::register_bytes_function(&db).unwrap();
    // Stores from before version 8 have no `packed` column.
    let packed: bool = db
        .query_row(
            "SELECT count(*) > 0 FROM pragma_table_info('message_bytes') WHERE name = 'packed'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let bytes = if packed {
        "pipit_bytes(b.raw, b.packed)"
    } else {
        "b.raw"
    };
    let mut stmt = db
        .prepare(&format!(
            "SELECT {bytes} FROM messages m JOIN message_bytes b ON b.message_id = m.id WHERE m.state = 'full'"
        ))
        .expect("the store has its tables");
    // Damaged bytes come back as NULL, and fail here.
    stmt.query_map([], |r| r.get::<_, Vec<u8>>(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

/// Panics, saying which part broke, unless the invariant holds.
pub fn check(store: &Path, original: &[Vec<u8>], on_server: &[Vec<u8>]) {
    if store.exists() {
        let db = rusqlite::Connection::open(store).expect("open the store");
        let verdict: String = db
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        assert_eq!(verdict, "ok", "the database is damaged");
    }
    let mut stored = stored_messages(store);
    stored.sort();
    for pair in stored.windows(2) {
        assert!(pair[0] != pair[1], "a message is stored twice");
    }
    for m in &stored {
        assert!(
            original.contains(m),
            "a stored message matches no message of the server's (stored partial?)"
        );
    }
    for (i, m) in original.iter().enumerate() {
        assert!(
            stored.binary_search(m).is_ok() || on_server.contains(m),
            "message {i} is neither on the server nor in the store: lost"
        );
    }
}
