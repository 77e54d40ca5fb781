//! The only place with SQL: one SQLite database per profile, in WAL mode,
//! with every commit durable (`synchronous = FULL`) — the fetch relies on
//! that before it lets the server delete anything.

mod fold;
mod ledger;
mod migrations;
mod order;
pub mod pack;
mod rules;

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt as _, PermissionsExt as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rusqlite::{Connection, ErrorCode, OptionalExtension as _, TransactionBehavior, params};
use serde::Serialize;

use crate::dates::Civil;
pub use ledger::{
    Copy, Download, Ledger, Left, NewCopy, NewMessage, OnServer, Stored, TOMBSTONE_SECS,
};
use migrations::{APPLICATION_ID, MIGRATIONS};
pub use order::{Column, Sort, from_key, subject_key};
pub use rules::{DeletedByRule, OnServerHeaders, RuleMark};

/// What can go wrong with the store. Each message says what was left untouched.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "the mail store {path} was written by a newer Pipit (schema version {found}; this one knows up to {supported}). \
It was left untouched: run the newer Pipit, or use another --home"
    )]
    Newer {
        path: PathBuf,
        found: i64,
        supported: i64,
    },
    #[error(
        "{path} is not a Pipit mail store; it was left untouched. Move it aside or use another --home"
    )]
    Foreign { path: PathBuf },
    #[error(
        "the mail store {path} is damaged ({detail}); it was left untouched. \
Restore it from a backup (pipit backup), or move it aside to start an empty one"
    )]
    Damaged { path: PathBuf, detail: String },
    #[error("cannot open the mail store {path}: {detail}")]
    Open { path: PathBuf, detail: String },
    #[error(
        "the disk holding the mail store is full; nothing more could be stored (what was stored before is intact)"
    )]
    DiskFull,
    #[error(
        "the mail store is read-only ({0}); nothing could be stored. Make it writable, or use another --home"
    )]
    ReadOnly(String),
    #[error("there is no message with id {0}")]
    NoSuchMessage(i64),
    #[error(
        "the stored bytes of message {id} are damaged ({detail}); they were left untouched, and no other bytes are given in their place. \
Restore the store from a backup (pipit backup). A fetch leaves the server's copy, if there is one, on the server; do not delete the message here, which would delete that copy too"
    )]
    Corrupt { id: i64, detail: String },
    #[error("mail store error: {0}")]
    Sql(rusqlite::Error),
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        match e.sqlite_error_code() {
            Some(ErrorCode::DiskFull) => StoreError::DiskFull,
            Some(ErrorCode::ReadOnly) => StoreError::ReadOnly(e.to_string()),
            _ => StoreError::Sql(e),
        }
    }
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// How much of a message the store holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MessageState {
    /// Only the header block (from TOP): the body is still on the server.
    Headers,
    /// The whole message.
    Full,
    /// Removed for good by the user; only a tombstone while the server holds it.
    Purged,
}

impl MessageState {
    fn as_sql(self) -> &'static str {
        match self {
            MessageState::Headers => "headers",
            MessageState::Full => "full",
            MessageState::Purged => "purged",
        }
    }

    fn from_sql(s: &str) -> MessageState {
        match s {
            "full" => MessageState::Full,
            "purged" => MessageState::Purged,
            _ => MessageState::Headers,
        }
    }
}

/// One row of the message list. Its text is shared, not copied, between the
/// window's list and the store thread's (`Arc`): a search that matches most
/// of 100,000 messages hands over that many rows.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Summary {
    pub id: i64,
    pub account: Arc<str>,
    pub uid: Arc<str>,
    pub from: Arc<str>,
    pub subject: Arc<str>,
    /// Seconds since the Unix epoch, from the Date header.
    pub date: Option<i64>,
    pub size: u64,
    pub state: MessageState,
    pub attachments: Arc<[String]>,
    pub seen: bool,
    pub on_server: bool,
    pub trashed: bool,
}

/// Everything shown for one message.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Detail {
    #[serde(flatten)]
    pub summary: Summary,
    pub to: String,
    pub cc: String,
    pub message_id: String,
    pub text: String,
    /// Why only its headers are here, when that is not the user's choice.
    pub problem: String,
}

/// What Pipit remembers about an account's server between fetches.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AccountState {
    pub last_login: Option<i64>,
    pub login_delay: i64,
    pub pipelining_broken_at: Option<i64>,
    /// The capabilities the server listed last time, if they were
    /// remembered: which server (host:port:security), and its CAPA lines
    /// before and after the login.
    pub capabilities: Option<RememberedCapabilities>,
}

/// A server's CAPA lines, as Pipit last read them (see
/// [`crate::pop3::Capabilities::lines`]).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RememberedCapabilities {
    pub server: String,
    pub before: String,
    pub after: String,
}

/// Which messages a listing shows.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub account: Option<String>,
    /// Only messages in Trash (else only those outside it).
    pub trash: bool,
    /// Only messages known by their headers alone that are still on the server.
    pub headers_only: bool,
    /// Only messages a rule deleted on the server (else only the others;
    /// Trash shows both).
    pub deleted_by_rule: bool,
}

/// Whether a message was deleted on the server by a rule, in SQL (of `messages`).
const DELETED_BY_RULE: &str =
    "EXISTS (SELECT 1 FROM rule_marks r WHERE r.message_id = messages.id AND r.action = 'delete')";

pub struct Store {
    conn: Connection,
    path: PathBuf,
}

impl Store {
    /// Opens (or creates, mode 0600) the store at `path` and brings its schema
    /// up to date. A newer, foreign or damaged database is refused untouched.
    pub fn open(path: &Path) -> Result<Store> {
        let open_error = |detail: String| StoreError::Open {
            path: path.to_path_buf(),
            detail,
        };
        if let Some(dir) = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty() && !d.exists())
        {
            fs::create_dir_all(dir).map_err(|e| open_error(e.to_string()))?;
            let _ = fs::set_permissions(dir, fs::Permissions::from_mode(0o700));
        }
        if !path.exists() {
            // Created here so it is 0600 from the start; SQLite gives the WAL the same mode.
            // Another connection may create it at the same moment: that is fine.
            match OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(path)
            {
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(open_error(e.to_string())),
            }
        }
        let conn = Connection::open(path).map_err(|e| open_error(e.to_string()))?;
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
        };
        store.configure().map_err(|e| store.classify(e))?;
        store.migrate()?;
        Ok(store)
    }

    fn configure(&self) -> rusqlite::Result<()> {
        self.conn.busy_timeout(Duration::from_secs(10))?;
        // The index's triggers fold what they index (fold.rs).
        fold::register(&self.conn)?;
        // The list's indexes are on sort keys Pipit computes (order.rs).
        order::register(&self.conn)?;
        // Reading the schema first makes a non-database fail here, before any write.
        self.conn
            .query_row("SELECT count(*) FROM sqlite_master", [], |r| {
                r.get::<_, i64>(0)
            })?;
        // Mail is mostly large blobs: 16 KiB pages write them in a quarter of
        // the system calls of the 4 KiB default (each WAL frame is a page).
        // Only a new, empty database takes this; an existing one keeps its size.
        self.conn.pragma_update(None, "page_size", 16384)?;
        // Switching a new database to WAL needs it alone for a moment, and
        // SQLite does not wait for that with the busy timeout: retry.
        let mut tries = 0;
        loop {
            match self.conn.pragma_update(None, "journal_mode", "WAL") {
                Err(e) if e.sqlite_error_code() == Some(ErrorCode::DatabaseBusy) && tries < 200 => {
                    tries += 1;
                    std::thread::sleep(Duration::from_millis(25));
                }
                other => break other?,
            }
        }
        self.conn.pragma_update(None, "synchronous", "FULL")?;
        // Statement journals in memory, not in temporary files.
        self.conn.pragma_update(None, "temp_store", "MEMORY")?;
        self.conn.pragma_update(None, "foreign_keys", "ON")?;
        Ok(())
    }

    fn classify(&self, e: rusqlite::Error) -> StoreError {
        match e.sqlite_error_code() {
            Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt) => StoreError::Damaged {
                path: self.path.clone(),
                detail: e.to_string(),
            },
            // SQLite says "unable to open" when it cannot write its WAL beside
            // the database: name the real cause if it is a read-only place.
            Some(ErrorCode::CannotOpen | ErrorCode::ReadOnly) => {
                match OpenOptions::new().append(true).open(&self.path) {
                    Err(io) => StoreError::ReadOnly(format!("{}: {io}", self.path.display())),
                    Ok(_) => StoreError::from(e),
                }
            }
            _ => StoreError::from(e),
        }
    }

    fn migrate(&mut self) -> Result<()> {
        // Read all three in one transaction, so they agree even while another
        // connection is creating the schema.
        let (version, app_id, empty) = (|| {
            let tx = self.conn.transaction()?;
            let version: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
            let app_id: i64 = tx.pragma_query_value(None, "application_id", |r| r.get(0))?;
            let empty: bool =
                tx.query_row("SELECT count(*) = 0 FROM sqlite_master", [], |r| r.get(0))?;
            tx.commit()?;
            Ok((version, app_id, empty))
        })()
        .map_err(|e| self.classify(e))?;
        let supported = MIGRATIONS.len() as i64;
        if app_id != APPLICATION_ID && !(app_id == 0 && version == 0 && empty) {
            return Err(StoreError::Foreign {
                path: self.path.clone(),
            });
        }
        if version > supported {
            return Err(StoreError::Newer {
                path: self.path.clone(),
                found: version,
                supported,
            });
        }
        if version < supported {
            // A migration may rebuild a table: dropping the old one must not
            // cascade to the rows that refer to it. (SQLite ignores this
            // pragma inside a transaction, so it is set around them.)
            self.conn.pragma_update(None, "foreign_keys", "OFF")?;
        }
        let migrated = self.run_migrations(version);
        self.conn.pragma_update(None, "foreign_keys", "ON")?;
        migrated
    }

    fn run_migrations(&mut self, version: i64) -> Result<()> {
        for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
            // Take the write lock first, then look again: another connection
            // (the window's and the worker's open the store at once) may have
            // run this step while we waited.
            let tx = self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?;
            let now: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
            if now > i as i64 {
                continue;
            }
            tx.execute_batch(sql)?;
            migrations::finish(i, &tx)?;
            let broken: Option<String> = tx
                .query_row(
                    "SELECT \"table\" FROM pragma_foreign_key_check LIMIT 1",
                    [],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(table) = broken {
                return Err(StoreError::Damaged {
                    path: self.path.clone(),
                    detail: format!(
                        "after migration {}, {table} refers to rows that do not exist",
                        i + 1
                    ),
                });
            }
            tx.pragma_update(None, "application_id", APPLICATION_ID)?;
            tx.pragma_update(None, "user_version", i as i64 + 1)?;
            tx.commit()?;
        }
        Ok(())
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn account_state(&self, account: &str) -> Result<AccountState> {
        Ok(self
            .conn
            .query_row(
                "SELECT last_login, login_delay, pipelining_broken_at, capa_server, capa_before, capa_after
                 FROM account_state WHERE account = ?1",
                [account],
                |r| {
                    let server: Option<String> = r.get(3)?;
                    let before: Option<String> = r.get(4)?;
                    let after: Option<String> = r.get(5)?;
                    Ok(AccountState {
                        last_login: r.get(0)?,
                        login_delay: r.get(1)?,
                        pipelining_broken_at: r.get(2)?,
                        capabilities: match (server, before, after) {
                            (Some(server), Some(before), Some(after)) => {
                                Some(RememberedCapabilities {
                                    server,
                                    before,
                                    after,
                                })
                            }
                            _ => None,
                        },
                    })
                },
            )
            .optional()?
            .unwrap_or_default())
    }

    /// Notes a successful login and the LOGIN-DELAY the server asked for.
    pub fn record_login(&self, account: &str, at: i64, login_delay: i64) -> Result<()> {
        self.conn.execute(
            "INSERT INTO account_state (account, last_login, login_delay) VALUES (?1, ?2, ?3)
             ON CONFLICT (account) DO UPDATE SET last_login = ?2, login_delay = ?3",
            params![account, at, login_delay],
        )?;
        Ok(())
    }

    /// Remembers the capabilities an account's server listed in a session
    /// (`None`: forgets them, so the next session asks again).
    pub fn remember_capabilities(
        &self,
        account: &str,
        capabilities: Option<&RememberedCapabilities>,
    ) -> Result<()> {
        let (server, before, after) = match capabilities {
            Some(c) => (
                Some(c.server.as_str()),
                Some(c.before.as_str()),
                Some(c.after.as_str()),
            ),
            None => (None, None, None),
        };
        self.conn.execute(
            "INSERT INTO account_state (account, capa_server, capa_before, capa_after)
             VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (account) DO UPDATE SET capa_server = ?2, capa_before = ?3, capa_after = ?4",
            params![account, server, before, after],
        )?;
        Ok(())
    }

    /// Notes that the server broke under pipelining at `at`.
    pub fn record_pipelining_broken(&self, account: &str, at: i64) -> Result<()> {
        self.conn.execute(
            "INSERT INTO account_state (account, pipelining_broken_at) VALUES (?1, ?2)
             ON CONFLICT (account) DO UPDATE SET pipelining_broken_at = ?2",
            params![account, at],
        )?;
        Ok(())
    }

    /// Readies this connection to write one large flow of batches (a fetch's
    /// downloads): dirty pages stay in memory until their batch commits
    /// instead of spilling into the WAL midway, where rewriting them would
    /// make SQLite read the whole batch back to redo its checksums. Memory
    /// then grows with the batch, which the caller bounds.
    pub fn for_bulk_writes(&self) -> Result<()> {
        self.conn.pragma_update(None, "cache_spill", false)?;
        Ok(())
    }

    /// Starts a group of writes that become durable together on [`Batch::commit`].
    ///
    /// It takes the write lock at once (BEGIN IMMEDIATE), waiting for it as
    /// long as the busy timeout allows: a deferred transaction that read
    /// first would fail at once when another connection writes meanwhile.
    pub fn batch(&mut self) -> Result<Batch<'_>> {
        Ok(Batch {
            tx: self
                .conn
                .transaction_with_behavior(TransactionBehavior::Immediate)?,
        })
    }

    /// The message list, newest first.
    pub fn messages(&self, filter: &Filter) -> Result<Vec<Summary>> {
        self.list_first(filter, Sort::default(), i64::MAX)
    }

    /// The first `limit` messages of a list in `sort`'s order, read along
    /// that column's index: the first screen, at once, whatever the count.
    pub fn list_first(&self, filter: &Filter, sort: Sort, limit: i64) -> Result<Vec<Summary>> {
        let (cond, account) = self.list_where(filter)?;
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS} FROM messages WHERE {cond} ORDER BY {} LIMIT ?2",
            sort.order_by()
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(params![account, limit], summary_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The ids of a whole list in `sort`'s order, from that column's index
    /// alone (no row is read): 8 bytes a message.
    pub fn list_ids(&self, filter: &Filter, sort: Sort) -> Result<Vec<i64>> {
        let (cond, account) = self.list_where(filter)?;
        let sql = format!(
            "SELECT id FROM messages WHERE {cond} ORDER BY {}",
            sort.order_by()
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let ids = stmt.query_map(params![account], |r| r.get(0))?;
        Ok(ids.collect::<rusqlite::Result<_>>()?)
    }

    /// A list's condition ([`list_where`]), knowing whether any message
    /// was deleted by a rule (one look along the marks' index).
    fn list_where(&self, filter: &Filter) -> Result<(String, Option<String>)> {
        let rules_deleted: bool = self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM rule_marks WHERE action = 'delete')",
            [],
            |r| r.get(0),
        )?;
        Ok(list_where(filter, rules_deleted))
    }

    /// The rows of these messages, in the order given; those gone
    /// (purged, deleted) are left out.
    pub fn summaries(&self, ids: &[i64]) -> Result<Vec<Summary>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {SUMMARY_COLUMNS} FROM messages WHERE id = ?1 AND state != 'purged'"
        ))?;
        let mut out = Vec::with_capacity(ids.len());
        for &id in ids {
            if let Some(row) = stmt.query_row([id], summary_from_row).optional()? {
                out.push(row);
            }
        }
        Ok(out)
    }

    /// Every message a server listed at the last session, Trash too (but
    /// not the notes kept of messages removed for good): the rows of the
    /// inventory.
    pub fn on_server(&self) -> Result<Vec<Summary>> {
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS} FROM messages WHERE on_server = 1 AND state != 'purged'"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map([], summary_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Full-text search over sender, subject and body; words match as prefixes,
    /// accents and case ignored. Newest first.
    pub fn search(&self, query: &str, filter: &Filter) -> Result<Vec<Summary>> {
        let Some(fts) = fts_query(query) else {
            return Ok(Vec::new());
        };
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS} FROM messages
             WHERE id IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?1)
               AND state != 'purged' AND (?2 IS NULL OR account = ?2) AND (trashed_at IS NOT NULL) = ?3
               AND (?4 = 0 OR (state = 'headers' AND on_server = 1))
               AND (?3 = 1 OR {DELETED_BY_RULE} = ?5)
             ORDER BY date DESC, id DESC"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(
            params![
                fts,
                filter.account,
                filter.trash,
                filter.headers_only,
                filter.deleted_by_rule
            ],
            summary_from_row,
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The ids, ascending, of all messages whose sender, subject or text
    /// match, from the index alone (no row is read): the window filters the
    /// list it already has with them.
    pub fn search_ids(&self, query: &str) -> Result<Vec<i64>> {
        let Some(fts) = fts_query(query) else {
            return Ok(Vec::new());
        };
        let mut stmt = self.conn.prepare_cached(
            "SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?1 ORDER BY rowid",
        )?;
        let ids = stmt.query_map([fts], |r| r.get(0))?;
        Ok(ids.collect::<rusqlite::Result<_>>()?)
    }

    /// The ids, ascending, of the messages from `lo` to `hi` (ids) that
    /// match: the index reads only that stretch of its lists, so a search
    /// can find the first screen of a large list without all its matches.
    pub fn search_ids_between(&self, query: &str, lo: i64, hi: i64) -> Result<Vec<i64>> {
        let Some(fts) = fts_query(query) else {
            return Ok(Vec::new());
        };
        let mut stmt = self.conn.prepare_cached(
            "SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?1 AND rowid BETWEEN ?2 AND ?3
             ORDER BY rowid",
        )?;
        let ids = stmt.query_map(params![fts, lo, hi], |r| r.get(0))?;
        Ok(ids.collect::<rusqlite::Result<_>>()?)
    }

    /// Changes whenever another connection has committed a change since the
    /// last call on this one (SQLite's `data_version`): when to read again.
    pub fn data_version(&self) -> Result<i64> {
        Ok(self
            .conn
            .pragma_query_value(None, "data_version", |r| r.get(0))?)
    }

    /// One message's fields.
    pub fn detail(&self, id: i64) -> Result<Detail> {
        let sql = format!(
            "SELECT {SUMMARY_COLUMNS}, to_addr, cc_addr, message_id,
                coalesce((SELECT body_text FROM message_text WHERE message_id = messages.id), ''),
                problem
             FROM messages WHERE id = ?1 AND state != 'purged'"
        );
        self.conn
            .query_row(&sql, [id], |r| {
                Ok(Detail {
                    summary: summary_from_row(r)?,
                    to: r.get(12)?,
                    cc: r.get(13)?,
                    message_id: r.get(14)?,
                    text: r.get(15)?,
                    problem: r.get(16)?,
                })
            })
            .optional()?
            .ok_or(StoreError::NoSuchMessage(id))
    }

    /// Asks the next fetch to download a headers-only message whatever its size.
    pub fn request_download(&self, id: i64) -> Result<()> {
        if self.conn.execute(
            "UPDATE messages SET download_requested = 1, set_aside = 0 WHERE id = ?1",
            [id],
        )? == 0
        {
            return Err(StoreError::NoSuchMessage(id));
        }
        Ok(())
    }

    /// Takes a message out of Trash; it is no longer to be deleted on the server.
    pub fn restore(&self, id: i64) -> Result<()> {
        if self.conn.execute(
            "UPDATE messages SET trashed_at = NULL, delete_on_server = 0 WHERE id = ?1 AND state != 'purged'",
            [id],
        )? == 0
        {
            return Err(StoreError::NoSuchMessage(id));
        }
        Ok(())
    }

    /// Removes everything in Trash for good. A message the server still holds
    /// stays as a tombstone, so it is never downloaded again.
    pub fn empty_trash(&mut self) -> Result<usize> {
        let tx = self.conn.transaction()?;
        tx.execute(
            "DELETE FROM message_bytes WHERE message_id IN (SELECT id FROM messages WHERE trashed_at IS NOT NULL)",
            [],
        )?;
        let gone = tx.execute(
            "DELETE FROM messages WHERE trashed_at IS NOT NULL AND on_server = 0",
            [],
        )?;
        tx.execute(
            "DELETE FROM message_text WHERE message_id IN (SELECT id FROM messages WHERE trashed_at IS NOT NULL)",
            [],
        )?;
        let tombstones = tx.execute(
            "UPDATE messages SET state = 'purged', from_addr = '', subject = '', attachments = ''
             WHERE trashed_at IS NOT NULL",
            [],
        )?;
        tx.commit()?;
        Ok(gone + tombstones)
    }

    /// Removes one message in Trash for good, as Empty Trash does: a message
    /// the server still holds stays as a tombstone, so it is never
    /// downloaded again, and is deleted there at the next fetch.
    pub fn delete_forever(&mut self, id: i64) -> Result<()> {
        let tx = self.conn.transaction()?;
        let trashed: bool = tx
            .query_row(
                "SELECT trashed_at IS NOT NULL FROM messages WHERE id = ?1 AND state != 'purged'",
                [id],
                |r| r.get(0),
            )
            .optional()?
            .ok_or(StoreError::NoSuchMessage(id))?;
        if !trashed {
            return Err(StoreError::NoSuchMessage(id));
        }
        tx.execute("DELETE FROM message_bytes WHERE message_id = ?1", [id])?;
        tx.execute("DELETE FROM message_text WHERE message_id = ?1", [id])?;
        let gone = tx.execute("DELETE FROM messages WHERE id = ?1 AND on_server = 0", [id])?;
        if gone == 0 {
            tx.execute(
                "UPDATE messages SET state = 'purged', from_addr = '', subject = '', attachments = ''
                 WHERE id = ?1",
                [id],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Marks a message read or unread.
    pub fn set_seen(&self, id: i64, seen: bool) -> Result<()> {
        self.conn.execute(
            "UPDATE messages SET seen = ?2 WHERE id = ?1",
            params![id, seen],
        )?;
        Ok(())
    }

    /// The stored bytes: the whole message, or the header block of a headers-only one.
    pub fn raw(&self, id: i64) -> Result<Vec<u8>> {
        let (blob, packed): (Vec<u8>, bool) = self
            .conn
            .query_row(
                "SELECT raw, packed FROM message_bytes WHERE message_id = ?1",
                [id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?
            .ok_or(StoreError::NoSuchMessage(id))?;
        unpacked(id, blob, packed)
    }

    /// Whether the stored bytes of message `id` can be given back: false
    /// when there are none, or they are kept packed and no longer unpack
    /// (damaged). Bytes kept as received carry no checksum: they are read
    /// as sound, without reading them.
    pub fn bytes_sound(&self, id: i64) -> Result<bool> {
        let packed: Option<bool> = self
            .conn
            .query_row(
                "SELECT packed FROM message_bytes WHERE message_id = ?1",
                [id],
                |r| r.get(0),
            )
            .optional()?;
        match packed {
            None => Ok(false),
            Some(false) => Ok(true),
            Some(true) => match self.raw(id) {
                Ok(_) => Ok(true),
                Err(StoreError::Corrupt { .. }) => Ok(false),
                Err(e) => Err(e),
            },
        }
    }

    /// Moves a message to Trash; the account's policy then removes it from the server.
    pub fn trash(&self, id: i64, now: i64) -> Result<()> {
        let n = self.conn.execute(
            "UPDATE messages SET trashed_at = ?2, delete_on_server = 1
             WHERE id = ?1 AND state != 'purged' AND trashed_at IS NULL",
            params![id, now],
        )?;
        if n == 0 {
            self.detail(id)?; // no such message, or already in Trash (which is fine)
        }
        Ok(())
    }

    /// Writes every full message to `out` as mboxrd: "From " separators, and
    /// lines that start with ">*From " quoted with one more '>'.
    pub fn export_mbox(&self, out: &mut dyn Write) -> Result<usize> {
        let mut stmt = self.conn.prepare(
            "SELECT m.from_addr, m.date, b.raw, b.packed, m.id FROM messages m JOIN message_bytes b ON b.message_id = m.id
             WHERE m.state = 'full' AND m.trashed_at IS NULL ORDER BY m.date, m.id",
        )?;
        let mut rows = stmt.query([])?;
        let mut count = 0;
        let io = |source| StoreError::Io {
            path: PathBuf::from("mbox"),
            source,
        };
        // A damaged message is left out, not the ones after it; the export
        // then fails, naming it.
        let mut damaged = None;
        while let Some(row) = rows.next()? {
            let from: String = row.get(0)?;
            let date: Option<i64> = row.get(1)?;
            let raw = match unpacked(row.get(4)?, row.get(2)?, row.get(3)?) {
                Ok(raw) => raw,
                Err(e @ StoreError::Corrupt { .. }) => {
                    damaged.get_or_insert(e);
                    continue;
                }
                Err(e) => return Err(e),
            };
            out.write_all(mbox_from_line(&from, date).as_bytes())
                .map_err(io)?;
            write_mboxrd_body(&raw, out).map_err(io)?;
            count += 1;
        }
        out.flush().map_err(io)?;
        match damaged {
            Some(e) => Err(e),
            None => Ok(count),
        }
    }

    /// Writes a consistent copy of the whole store to `dest` (a new file, mode
    /// 0600), even while other connections read and write.
    pub fn backup(&self, dest: &Path) -> Result<()> {
        let io = |source| StoreError::Io {
            path: dest.to_path_buf(),
            source,
        };
        // Created empty first so the copy is private from its first byte.
        OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(dest)
            .map_err(io)?;
        let copied = self
            .conn
            .execute("VACUUM INTO ?1", [dest.to_string_lossy()]);
        if let Err(e) = copied {
            let _ = fs::remove_file(dest);
            return Err(e.into());
        }
        Ok(())
    }

    /// Runs `PRAGMA integrity_check`; `Ok(())` when the database is sound.
    pub fn integrity_check(&self) -> Result<(), String> {
        let result: String = self
            .conn
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .map_err(|e| e.to_string())?;
        if result == "ok" { Ok(()) } else { Err(result) }
    }
}

/// A message's bytes as the store keeps them: packed ([`pack`]) when that
/// is smaller, else as they are. Made beside the store (the fetch packs on
/// its parser thread) and handed to the writes that store bytes.
#[derive(Clone, Debug, Default)]
pub struct Packed(Option<Vec<u8>>);

impl Packed {
    /// Packs `raw` (checked: it unpacks to `raw`).
    pub fn of(raw: &[u8]) -> Packed {
        Packed(pack::pack(raw))
    }

    /// What goes into `message_bytes`: the blob and whether it is packed.
    /// A packed form made of other bytes than `raw` (its length and CRC-32
    /// say so) is not used: `raw` is kept as it is.
    fn blob<'a>(&'a self, raw: &'a [u8]) -> (&'a [u8], bool) {
        match &self.0 {
            Some(packed) if pack::describes(packed, raw) => (packed, true),
            _ => (raw, false),
        }
    }
}

/// The bytes of message `id` from its row in `message_bytes`.
fn unpacked(id: i64, blob: Vec<u8>, packed: bool) -> Result<Vec<u8>> {
    if !packed {
        return Ok(blob);
    }
    pack::unpack(&blob).map_err(|e| StoreError::Corrupt {
        id,
        detail: e.to_string(),
    })
}

/// Registers `pipit_bytes(raw, packed)` on a connection of its own: a
/// message's bytes from its `message_bytes` row, NULL when they cannot be
/// had. For tests and tools that look into the database with SQL.
pub fn register_bytes_function(conn: &Connection) -> rusqlite::Result<()> {
    use rusqlite::functions::FunctionFlags;
    conn.create_scalar_function(
        "pipit_bytes",
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |ctx| {
            let blob: Vec<u8> = ctx.get(0)?;
            let packed: bool = ctx.get(1)?;
            Ok(if packed {
                pack::unpack(&blob).ok()
            } else {
                Some(blob)
            })
        },
    )
}

/// The condition a list's rows meet, written so that the partial indexes
/// of migration 9 serve the lists that may be large (all mail, one
/// account); `?1` is the account, when the filter names one. Outside
/// Trash, a message an armed rule deleted shows only in the Deleted by
/// rule view; `rules_deleted` says whether the store has any such message
/// (when it has none, the lists need not ask about each row).
fn list_where(filter: &Filter, rules_deleted: bool) -> (String, Option<String>) {
    let mut cond = String::from(if filter.trash {
        "state != 'purged' AND trashed_at IS NOT NULL"
    } else {
        "state != 'purged' AND trashed_at IS NULL"
    });
    cond.push_str(if filter.account.is_some() {
        " AND account = ?1"
    } else {
        " AND ?1 IS NULL"
    });
    if filter.headers_only {
        cond.push_str(" AND state = 'headers' AND on_server = 1");
    }
    if !filter.trash {
        match (filter.deleted_by_rule, rules_deleted) {
            (true, true) => cond.push_str(&format!(" AND {DELETED_BY_RULE}")),
            (true, false) => cond.push_str(" AND 0"),
            (false, true) => cond.push_str(&format!(" AND NOT {DELETED_BY_RULE}")),
            (false, false) => {}
        }
    }
    (cond, filter.account.clone())
}

const SUMMARY_COLUMNS: &str = "id, account, uid, from_addr, subject, date, size, state, attachments, seen, on_server, trashed_at IS NOT NULL";

fn summary_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Summary> {
    let text = |i: usize| -> rusqlite::Result<Arc<str>> { Ok(Arc::from(r.get_ref(i)?.as_str()?)) };
    let attachments = r.get_ref(8)?.as_str()?;
    Ok(Summary {
        id: r.get(0)?,
        account: text(1)?,
        uid: text(2)?,
        from: text(3)?,
        subject: text(4)?,
        date: r.get(5)?,
        size: r.get::<_, i64>(6)?.max(0) as u64,
        state: MessageState::from_sql(&r.get::<_, String>(7)?),
        attachments: attachments.lines().map(str::to_string).collect(),
        seen: r.get(9)?,
        on_server: r.get(10)?,
        trashed: r.get(11)?,
    })
}

/// Writes that commit together: one durable transaction.
pub struct Batch<'a> {
    tx: rusqlite::Transaction<'a>,
}

impl Batch<'_> {
    /// A message's text for search (and the reader), kept apart from its row.
    fn set_text(&self, id: i64, text: &str) -> Result<()> {
        if text.is_empty() {
            self.tx
                .prepare_cached("DELETE FROM message_text WHERE message_id = ?1")?
                .execute([id])?;
        } else {
            self.tx
                .prepare_cached(
                    "INSERT INTO message_text (message_id, body_text) VALUES (?1, ?2)
                     ON CONFLICT (message_id) DO UPDATE SET body_text = excluded.body_text",
                )?
                .execute(params![id, text])?;
        }
        Ok(())
    }

    /// Makes everything in the batch durable.
    pub fn commit(self) -> Result<()> {
        self.tx.commit()?;
        Ok(())
    }
}

/// Turns what a person types into an FTS5 query (see fold.rs).
fn fts_query(query: &str) -> Option<String> {
    fold::query(query)
}

fn mbox_from_line(from: &str, date: Option<i64>) -> String {
    let addr = from
        .rsplit_once('<')
        .and_then(|(_, a)| a.strip_suffix('>'))
        .unwrap_or(from)
        .trim();
    // The separator line is the mbox's own: an address that could break it
    // (spaces, control characters, anything but printable ASCII) is not used.
    let addr = if addr.is_empty() || !addr.bytes().all(|b| b.is_ascii_graphic()) {
        "MAILER-DAEMON"
    } else {
        addr
    };
    format!(
        "From {addr} {}\n",
        Civil::from_unix(date.unwrap_or(0)).asctime()
    )
}

fn write_mboxrd_body(raw: &[u8], out: &mut dyn Write) -> std::io::Result<()> {
    for line in raw.split_inclusive(|&b| b == b'\n') {
        let quoted = line
            .iter()
            .position(|&b| b != b'>')
            .is_some_and(|i| line[i..].starts_with(b"From "));
        if quoted {
            out.write_all(b">")?;
        }
        out.write_all(line)?;
    }
    if !raw.ends_with(b"\n") {
        out.write_all(b"\n")?;
    }
    out.write_all(b"\n")
}

#[cfg(test)]
pub(crate) mod tests;
