//! The ledger: which copies of which stored messages each account's server
//! held at the last session. A message is who it is; a copy is where the
//! server lists it (a UID, a listed size, a header digest). One message may
//! have several copies (a mailbox that moved, renumbered UIDs, a duplicate on
//! the server), and a message with none has left the server.
//!
//! The fetch decides what the copies are (`sync::plan`); this file only
//! reads and writes them, and keeps each message's `on_server` in step.

use std::collections::{HashMap, HashSet};

use rusqlite::{OptionalExtension as _, params};

use super::{Batch, MessageState, Packed, Result, Store, StoreError, unpacked};
use crate::mime::{HeaderDigest, Parsed};

/// A message leaves the server in one of two ways.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Left {
    /// Pipit deleted it, and the server confirmed (+OK to QUIT).
    Deleted,
    /// It is no longer listed, and Pipit did not delete it: someone else did,
    /// or the mailbox moved (then it may come back under another UID).
    Vanished,
}

/// Stored messages a download is compared with, byte for byte, at most: a
/// server that sends thousands of look-alikes costs bounded time per message.
const LOOK_ALIKES_COMPARED: i64 = 8;

/// The stored full messages that may hold the same bytes as a download: its
/// size, and its header digest or Message-ID. Two index lookups, not one
/// `OR`: with that, SQLite read every message of the account for each
/// download (quadratic in the mailbox, and most of the store writer's time
/// on a large one).
pub(super) const IDENTICAL_CANDIDATES: &str = "SELECT id FROM messages
     WHERE id IN (SELECT id FROM messages WHERE account = ?1 AND header_digest = ?2
                  UNION ALL
                  SELECT id FROM messages WHERE ?4 != '' AND account = ?1 AND message_id = ?4)
       AND state = 'full' AND size = ?3
     ORDER BY id != ?5, id LIMIT ?6";

/// Whether `raw`'s header block is `stored`'s, give or take lines a server
/// adds to one of them (some add Status: or X-UIDL: to RETR, or a line to
/// TOP): the lines of one are all among the other's. An empty `stored` (no
/// header block was read) fits anything.
pub fn same_headers(stored: &[u8], raw: &[u8]) -> bool {
    fn lines(block: &[u8]) -> Vec<&[u8]> {
        let mut lines: Vec<&[u8]> = crate::mime::header_block(block)
            .split(|&b| b == b'\n')
            .map(|l| l.strip_suffix(b"\r").unwrap_or(l))
            .filter(|l| !l.is_empty())
            .collect();
        lines.sort_unstable();
        lines
    }
    fn within(small: &[&[u8]], large: &[&[u8]]) -> bool {
        // Both sorted: a merge walk, each line of `small` used once.
        let mut rest = large.iter();
        small.iter().all(|l| rest.by_ref().any(|m| m == l))
    }
    let (a, b) = (lines(stored), lines(raw));
    a.is_empty() || within(&a, &b) || within(&b, &a)
}

/// How long a tombstone of a purged message outlives its last copy on the
/// server: a mailbox that moves within this time finds it, and does not
/// bring the message back.
pub const TOMBSTONE_SECS: i64 = 30 * 86_400;

/// One copy of a message on the server, as the last session saw it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Copy {
    pub id: i64,
    /// Its UIDL; `None` when the server has none or gave one Pipit cannot use.
    pub uid: Option<String>,
    /// What LIST said; `None` until a listing says (stores from before the ledger).
    pub size: Option<u64>,
    pub digest: Option<HeaderDigest>,
    /// The stored message it is a copy of.
    pub message: i64,
}

/// What the fetch needs to know of a stored message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    pub id: i64,
    pub state: MessageState,
    /// Bytes stored: the whole message when full, else the listed size.
    pub size: u64,
    /// What the server listed when the message was first seen, if known.
    pub listed_size: Option<u64>,
    pub digest: Option<HeaderDigest>,
    pub first_seen: i64,
    /// The user deleted it here: the server copy is to go too.
    pub delete_on_server: bool,
    /// The user asked for the whole of a headers-only message.
    pub download_requested: bool,
    /// When its last copy left the server without Pipit deleting it.
    pub vanished_at: Option<i64>,
    /// Its download broke a session: not asked for again unless the user asks.
    pub set_aside: bool,
}

/// Everything the store knows of one account's server.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Ledger {
    pub copies: Vec<Copy>,
    pub messages: HashMap<i64, Stored>,
    /// UIDs the server has given to more than one message, now or before.
    pub suspect_uids: HashSet<String>,
}

/// A copy seen for the first time.
#[derive(Clone, Copy, Debug)]
pub struct NewCopy<'a> {
    pub account: &'a str,
    pub uid: Option<&'a str>,
    pub size: u64,
    pub digest: Option<&'a HeaderDigest>,
    pub first_seen: i64,
}

/// A message seen for the first time, with its first copy.
pub struct NewMessage<'a> {
    pub copy: NewCopy<'a>,
    /// The header block, or the whole message when `state` is `Full`.
    pub raw: &'a [u8],
    pub state: MessageState,
    pub parsed: &'a Parsed,
    /// Why only its headers are kept, if not by the user's choice ('' if none).
    pub problem: &'a str,
}

/// Downloaded bytes and where they belong.
#[derive(Clone, Copy, Debug)]
pub struct Download {
    /// The copy they were read from.
    pub copy: i64,
    /// The message that copy is believed to be.
    pub message: i64,
}

fn digest_from(blob: Option<Vec<u8>>) -> Option<HeaderDigest> {
    blob.and_then(|b| b.try_into().ok())
}

/// A ledger row read as `id, uid, size, header_digest, message`.
fn copy_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Copy> {
    Ok(Copy {
        id: r.get(0)?,
        uid: r.get(1)?,
        size: r.get::<_, Option<i64>>(2)?.map(|s| s.max(0) as u64),
        digest: digest_from(r.get(3)?),
        message: r.get(4)?,
    })
}

/// One copy the server held at the last session, with what the store holds
/// of it: a line of the inventory.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct OnServer {
    pub account: String,
    pub uid: Option<String>,
    /// What LIST said, if known.
    pub size: Option<u64>,
    /// When Pipit first saw this copy.
    pub listed_since: i64,
    /// The stored message.
    pub message: i64,
    pub state: MessageState,
    /// When Pipit first saw the message (keep-days counts from here).
    pub first_seen: i64,
    pub from: String,
    pub subject: String,
    /// The user deleted it here (in Trash, or purged).
    pub delete_on_server: bool,
    /// Why only its headers are here, if not by the user's choice.
    pub problem: String,
}

impl Store {
    /// Every copy the servers held at the last session, oldest first, of one
    /// account or all.
    pub fn inventory(&self, account: Option<&str>) -> Result<Vec<OnServer>> {
        let mut stmt = self.conn.prepare(
            "SELECT l.account, l.uid, l.size, l.first_seen, m.id, m.state, m.first_seen,
                m.from_addr, m.subject, m.delete_on_server, m.problem
             FROM ledger l JOIN messages m ON m.id = l.message
             WHERE ?1 IS NULL OR l.account = ?1
             ORDER BY l.account, m.first_seen, l.id",
        )?;
        let rows = stmt.query_map([account], |r| {
            Ok(OnServer {
                account: r.get(0)?,
                uid: r.get(1)?,
                size: r.get::<_, Option<i64>>(2)?.map(|s| s.max(0) as u64),
                listed_since: r.get(3)?,
                message: r.get(4)?,
                state: MessageState::from_sql(&r.get::<_, String>(5)?),
                first_seen: r.get(6)?,
                from: r.get(7)?,
                subject: r.get(8)?,
                delete_on_server: r.get(9)?,
                problem: r.get(10)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// What the store knows of `account`'s server: its copies, every stored
    /// message of the account (tombstones too), and the UIDs it repeated.
    pub fn ledger(&self, account: &str) -> Result<Ledger> {
        let mut copies = self.conn.prepare(
            "SELECT id, uid, size, header_digest, message FROM ledger WHERE account = ?1 ORDER BY id",
        )?;
        let copies = copies
            .query_map([account], copy_from_row)?
            .collect::<rusqlite::Result<_>>()?;
        let mut messages = self.conn.prepare(
            "SELECT id, state, size, listed_size, header_digest, first_seen, delete_on_server,
                download_requested, vanished_at, set_aside
             FROM messages WHERE account = ?1",
        )?;
        let messages = messages
            .query_map([account], |r| {
                Ok(Stored {
                    id: r.get(0)?,
                    state: MessageState::from_sql(&r.get::<_, String>(1)?),
                    size: r.get::<_, i64>(2)?.max(0) as u64,
                    listed_size: r.get::<_, Option<i64>>(3)?.map(|s| s.max(0) as u64),
                    digest: digest_from(r.get(4)?),
                    first_seen: r.get(5)?,
                    delete_on_server: r.get(6)?,
                    download_requested: r.get(7)?,
                    vanished_at: r.get(8)?,
                    set_aside: r.get(9)?,
                })
            })?
            .map(|s| s.map(|s| (s.id, s)))
            .collect::<rusqlite::Result<_>>()?;
        let mut suspects = self
            .conn
            .prepare("SELECT uid FROM suspect_uids WHERE account = ?1")?;
        let suspect_uids = suspects
            .query_map([account], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        Ok(Ledger {
            copies,
            messages,
            suspect_uids,
        })
    }

    /// The copies of one message the server held at the last session.
    pub fn copies_of(&self, message: i64) -> Result<Vec<Copy>> {
        let exists: Option<i64> = self
            .conn
            .query_row("SELECT id FROM messages WHERE id = ?1", [message], |r| {
                r.get(0)
            })
            .optional()?;
        exists.ok_or(StoreError::NoSuchMessage(message))?;
        let mut stmt = self.conn.prepare(
            "SELECT id, uid, size, header_digest, message FROM ledger WHERE message = ?1 ORDER BY id",
        )?;
        let copies = stmt
            .query_map([message], copy_from_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(copies)
    }
}

impl Batch<'_> {
    /// Adds a message and its first copy; returns (message id, copy id).
    pub fn insert(&self, m: &NewMessage<'_>) -> Result<(i64, i64)> {
        let id = self.insert_message(m, &Packed::of(m.raw))?;
        let copy = self.add_copy(&m.copy, id)?;
        Ok((id, copy))
    }

    fn insert_message(&self, m: &NewMessage<'_>, packed: &Packed) -> Result<i64> {
        let c = &m.copy;
        let stored_size = if m.state == MessageState::Full {
            m.raw.len() as u64
        } else {
            c.size
        };
        self.tx
            .prepare_cached(
                "INSERT INTO messages (account, uid, state, size, listed_size, header_digest, first_seen,
                    downloaded_at, from_addr, to_addr, cc_addr, subject, date, message_id, attachments,
                    problem)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, CASE WHEN ?3 = 'full' THEN ?7 END,
                    ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
            )?
            .execute(params![
                c.account,
                c.uid.unwrap_or(""),
                m.state.as_sql(),
                stored_size as i64,
                c.size as i64,
                c.digest.map(|d| d.as_slice()),
                c.first_seen,
                m.parsed.from,
                m.parsed.to,
                m.parsed.cc,
                m.parsed.subject,
                m.parsed.date,
                m.parsed.message_id,
                m.parsed.attachments.join("\n"),
                m.problem,
            ])?;
        let id = self.tx.last_insert_rowid();
        if !m.parsed.text.is_empty() {
            self.set_text(id, &m.parsed.text)?;
        }
        let (blob, packed) = packed.blob(m.raw);
        self.tx
            .prepare_cached(
                "INSERT INTO message_bytes (message_id, raw, packed) VALUES (?1, ?2, ?3)",
            )?
            .execute(params![id, blob, packed])?;
        Ok(id)
    }

    /// Records a copy of a stored message (a link: the server lists a message
    /// Pipit has under a UID it did not know); returns the copy's id.
    pub fn add_copy(&self, copy: &NewCopy<'_>, message: i64) -> Result<i64> {
        self.tx
            .prepare_cached(
                "INSERT INTO ledger (account, uid, size, header_digest, message, first_seen)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )?
            .execute(params![
                copy.account,
                copy.uid,
                copy.size as i64,
                copy.digest.map(|d| d.as_slice()),
                message,
                copy.first_seen,
            ])?;
        let id = self.tx.last_insert_rowid();
        self.tx
            .prepare_cached("UPDATE messages SET on_server = 1, vanished_at = NULL WHERE id = ?1")?
            .execute([message])?;
        Ok(id)
    }

    /// What a listing taught about a known copy: its size, its header digest.
    pub fn update_copy(&self, id: i64, size: u64, digest: Option<&HeaderDigest>) -> Result<()> {
        self.tx
            .prepare_cached(
                "UPDATE ledger SET size = ?2, header_digest = coalesce(?3, header_digest) WHERE id = ?1",
            )?
            .execute(params![id, size as i64, digest.map(|d| d.as_slice())])?;
        Ok(())
    }

    /// Copies no longer on the server. A message with no copy left is marked
    /// off the server; a tombstone whose copy Pipit deleted goes with it.
    pub fn forget_copies(&self, ids: &[i64], left: Left, now: i64) -> Result<()> {
        let mut message_of = self
            .tx
            .prepare_cached("SELECT message FROM ledger WHERE id = ?1")?;
        let mut forget = self.tx.prepare_cached("DELETE FROM ledger WHERE id = ?1")?;
        let mut messages = Vec::new();
        for id in ids {
            if let Some(m) = message_of
                .query_row([id], |r| r.get::<_, i64>(0))
                .optional()?
            {
                messages.push(m);
            }
            forget.execute([id])?;
        }
        messages.sort_unstable();
        messages.dedup();
        let mut off_server = self.tx.prepare_cached(
            "UPDATE messages SET on_server = 0,
                vanished_at = CASE WHEN ?2 THEN coalesce(vanished_at, ?3) END
             WHERE id = ?1 AND NOT EXISTS (SELECT 1 FROM ledger WHERE message = ?1)",
        )?;
        let mut drop_tombstone = self.tx.prepare_cached(
            "DELETE FROM messages WHERE id = ?1 AND state = 'purged' AND on_server = 0 AND vanished_at IS NULL",
        )?;
        for m in messages {
            off_server.execute(params![m, left == Left::Vanished, now])?;
            drop_tombstone.execute([m])?;
        }
        Ok(())
    }

    /// Sets a message aside: its download broke a session, for `why`.
    pub fn set_aside(&self, message: i64, why: &str) -> Result<()> {
        self.tx
            .prepare_cached(
                "UPDATE messages SET set_aside = 1, download_requested = 0, problem = ?2 WHERE id = ?1",
            )?
            .execute(params![message, why])?;
        Ok(())
    }

    /// Remembers UIDs the server gave to more than one message.
    pub fn add_suspect_uids(&self, account: &str, uids: &[String]) -> Result<()> {
        let mut add = self
            .tx
            .prepare_cached("INSERT OR IGNORE INTO suspect_uids (account, uid) VALUES (?1, ?2)")?;
        for uid in uids {
            add.execute(params![account, uid])?;
        }
        Ok(())
    }

    /// Tombstones whose last copy left the server long enough ago that the
    /// mailbox will not bring it back.
    pub fn sweep_tombstones(&self, account: &str, now: i64) -> Result<()> {
        self.tx.execute(
            "DELETE FROM messages WHERE account = ?1 AND state = 'purged' AND on_server = 0
                AND (vanished_at IS NULL OR vanished_at < ?2)",
            params![account, now - TOMBSTONE_SECS],
        )?;
        Ok(())
    }

    /// Stores the whole bytes read from a copy; returns the message that now
    /// holds them. Never stores one message twice: bytes identical to a
    /// stored message of the account join that message (the copy is linked to
    /// it, and a headers-only row made for this copy alone goes). Bytes that
    /// are not those of the message the copy was believed to be (a full one
    /// with other bytes, a headers-only one with other headers) make a
    /// message of their own: a copy is only ever linked to bytes it really has.
    pub fn store_download(
        &self,
        d: Download,
        raw: &[u8],
        parsed: &Parsed,
        digest: &HeaderDigest,
        now: i64,
    ) -> Result<i64> {
        self.store_download_packed(d, raw, &Packed::of(raw), parsed, digest, now)
    }

    /// [`Batch::store_download`] with the bytes packed already (`packed`
    /// must be [`Packed::of`] these `raw` bytes): the fetch packs them on
    /// its parser thread, beside the writer.
    pub fn store_download_packed(
        &self,
        d: Download,
        raw: &[u8],
        packed: &Packed,
        parsed: &Parsed,
        digest: &HeaderDigest,
        now: i64,
    ) -> Result<i64> {
        let (account, uid, first_seen): (String, Option<String>, i64) = self
            .tx
            .prepare_cached("SELECT account, uid, first_seen FROM ledger WHERE id = ?1")?
            .query_row([d.copy], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?
            .ok_or(StoreError::NoSuchMessage(d.message))?;
        if let Some(same) = self.identical(&account, raw, parsed, digest, d.message)? {
            if same != d.message {
                self.move_copy(d.copy, d.message, same, true, now)?;
            }
            return Ok(same);
        }
        let (state, stored, stored_packed): (String, Option<Vec<u8>>, Option<bool>) = self
            .tx
            .prepare_cached(
                "SELECT m.state, b.raw, b.packed FROM messages m LEFT JOIN message_bytes b ON b.message_id = m.id
                 WHERE m.id = ?1",
            )?
            .query_row([d.message], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
            .optional()?
            .ok_or(StoreError::NoSuchMessage(d.message))?;
        // A damaged header block is no evidence of which message this is
        // (nor is it an empty one, which fits anything): the download is
        // then a message of its own. An error here would fail the batch,
        // and every later fetch of the account at the same message.
        let stored = match stored {
            Some(blob) => unpacked(d.message, blob, stored_packed == Some(true)).ok(),
            None => Some(Vec::new()),
        };
        // A headers-only message is completed only by bytes with its headers
        // (the user may have seen, and deleted, it by them); a server may add
        // a line of its own to TOP or to RETR, not change one.
        if MessageState::from_sql(&state) == MessageState::Headers
            && stored.is_some_and(|stored| same_headers(&stored, raw))
        {
            self.complete_packed(d.message, raw, packed, parsed, digest, now)?;
            return Ok(d.message);
        }
        // Not the message it was believed to be: a message of its own, and
        // the copy says now what it holds.
        let id = self.insert_message(
            &NewMessage {
                copy: NewCopy {
                    account: &account,
                    uid: uid.as_deref(),
                    size: raw.len() as u64,
                    digest: Some(digest),
                    first_seen,
                },
                raw,
                state: MessageState::Full,
                parsed,
                problem: "",
            },
            packed,
        )?;
        self.tx
            .prepare_cached("UPDATE messages SET downloaded_at = ?2 WHERE id = ?1")?
            .execute(params![id, now])?;
        self.tx
            .prepare_cached("UPDATE ledger SET header_digest = ?2 WHERE id = ?1")?
            .execute(params![d.copy, digest.as_slice()])?;
        self.move_copy(d.copy, d.message, id, false, now)?;
        Ok(id)
    }

    /// A stored full message of the account with exactly these bytes (`prefer`
    /// first). Bytes are compared only with messages of the same size and the
    /// same header digest or Message-ID, at most [`LOOK_ALIKES_COMPARED`] of
    /// them: for nearly every message there is none, and its bytes are not
    /// handed to SQLite twice.
    fn identical(
        &self,
        account: &str,
        raw: &[u8],
        parsed: &Parsed,
        digest: &HeaderDigest,
        prefer: i64,
    ) -> Result<Option<i64>> {
        let candidates: Vec<i64> = self
            .tx
            .prepare_cached(IDENTICAL_CANDIDATES)?
            .query_map(
                params![
                    account,
                    digest.as_slice(),
                    raw.len() as i64,
                    parsed.message_id,
                    prefer,
                    LOOK_ALIKES_COMPARED
                ],
                |r| r.get(0),
            )?
            .collect::<rusqlite::Result<_>>()?;
        let mut bytes_of = self
            .tx
            .prepare_cached("SELECT raw, packed FROM message_bytes WHERE message_id = ?1")?;
        for id in candidates {
            let Some((blob, packed)) = bytes_of
                .query_row([id], |r| {
                    Ok((r.get::<_, Vec<u8>>(0)?, r.get::<_, bool>(1)?))
                })
                .optional()?
            else {
                continue;
            };
            // Damaged bytes are no evidence that these are the same: the
            // download is stored as a message of its own.
            if unpacked(id, blob, packed).is_ok_and(|stored| stored == raw) {
                return Ok(Some(id));
            }
        }
        Ok(None)
    }

    /// Points a copy at another message. `from`, left with no copy, is off
    /// the server; if it was a headers-only twin of `to` (`twin`) that the
    /// user did nothing to, it goes.
    fn move_copy(&self, copy: i64, from: i64, to: i64, twin: bool, now: i64) -> Result<()> {
        self.tx
            .prepare_cached("UPDATE ledger SET message = ?2 WHERE id = ?1")?
            .execute(params![copy, to])?;
        self.tx
            .prepare_cached("UPDATE messages SET on_server = 1, vanished_at = NULL WHERE id = ?1")?
            .execute([to])?;
        if twin {
            self.tx
                .prepare_cached(
                    "DELETE FROM messages WHERE id = ?1 AND state = 'headers' AND trashed_at IS NULL
                        AND NOT EXISTS (SELECT 1 FROM ledger WHERE message = ?1)",
                )?
                .execute([from])?;
        }
        // A message left without a copy was not where it was believed to be.
        self.tx
            .prepare_cached(
                "UPDATE messages SET on_server = 0, vanished_at = coalesce(vanished_at, ?2) WHERE id = ?1
                    AND NOT EXISTS (SELECT 1 FROM ledger WHERE message = ?1)",
            )?
            .execute(params![from, now])?;
        Ok(())
    }

    /// Turns a headers-only message into a full one.
    #[cfg(test)]
    pub(crate) fn complete(
        &self,
        id: i64,
        raw: &[u8],
        parsed: &Parsed,
        digest: &HeaderDigest,
        now: i64,
    ) -> Result<()> {
        self.complete_packed(id, raw, &Packed::of(raw), parsed, digest, now)
    }

    fn complete_packed(
        &self,
        id: i64,
        raw: &[u8],
        packed: &Packed,
        parsed: &Parsed,
        digest: &HeaderDigest,
        now: i64,
    ) -> Result<()> {
        self.tx
            .prepare_cached(
                "UPDATE messages SET state = 'full', size = ?2, downloaded_at = ?3, download_requested = 0,
                    from_addr = ?4, to_addr = ?5, cc_addr = ?6, subject = ?7, date = ?8, message_id = ?9,
                    attachments = ?10, header_digest = coalesce(header_digest, ?11), problem = ''
                 WHERE id = ?1",
            )?
            .execute(params![
                id,
                raw.len() as i64,
                now,
                parsed.from,
                parsed.to,
                parsed.cc,
                parsed.subject,
                parsed.date,
                parsed.message_id,
                parsed.attachments.join("\n"),
                digest.as_slice(),
            ])?;
        self.set_text(id, &parsed.text)?;
        // Stored whole, it is no longer held back nor deleted by a rule (a
        // rule's DELE the server never carried out): only leave-on-server's
        // mark still means something, else the message would be hidden from
        // every view but "Deleted by rule".
        self.tx
            .prepare_cached(
                "DELETE FROM rule_marks WHERE message_id = ?1 AND action != 'leave-on-server'",
            )?
            .execute([id])?;
        // The copy's digest is the message's now (a server without TOP gave none before).
        self.tx
            .prepare_cached(
                "UPDATE ledger SET header_digest = ?2 WHERE message = ?1 AND header_digest IS NULL",
            )?
            .execute(params![id, digest.as_slice()])?;
        // The header block is there already: replace its bytes in place.
        let (blob, packed) = packed.blob(raw);
        let replaced = self
            .tx
            .prepare_cached("UPDATE message_bytes SET raw = ?2, packed = ?3 WHERE message_id = ?1")?
            .execute(params![id, blob, packed])?;
        if replaced == 0 {
            self.tx
                .prepare_cached(
                    "INSERT INTO message_bytes (message_id, raw, packed) VALUES (?1, ?2, ?3)",
                )?
                .execute(params![id, blob, packed])?;
        }
        Ok(())
    }
}
