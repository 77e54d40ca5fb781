//! What the rules before download leave in the store: which rule held a
//! message back or deleted it on the server (the "Deleted by rule" view
//! keeps the header blocks of those for 30 days), and which deleting rules
//! the user has armed by a dry run. The rules themselves live in the config
//! (`crate::rules`); nothing here judges a message.

use std::collections::{HashMap, HashSet};

use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use super::{Batch, MessageState, Result, Store, Summary, summary_from_row};

/// The messages of account ?1 a rule deleted before ?2 that are kept as
/// headers and gone from the server: what the sweep removes. From the
/// marks (few) to the messages (many), never the other way.
const SWEPT: &str =
    "SELECT r.message_id FROM rule_marks r CROSS JOIN messages m ON m.id = r.message_id
     WHERE r.action = 'delete' AND r.at < ?2 AND m.account = ?1 AND m.state = 'headers'
        AND m.on_server = 0";

/// What a rule did to a message, as the store remembers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuleMark {
    HeadersOnly,
    LeaveOnServer,
    /// A deleting rule not armed yet: the message was left on the server.
    Unarmed,
    /// Deleted on the server by an armed rule (or about to be, this session).
    Delete,
}

impl RuleMark {
    fn as_sql(self) -> &'static str {
        match self {
            RuleMark::HeadersOnly => "headers-only",
            RuleMark::LeaveOnServer => "leave-on-server",
            RuleMark::Unarmed => "unarmed",
            RuleMark::Delete => "delete",
        }
    }
}

/// A message a rule deleted on the server: its header block is kept for a
/// while so that a wrong rule is seen.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct DeletedByRule {
    #[serde(flatten)]
    pub summary: Summary,
    pub rule: String,
    /// When the rule deleted it (or sent its DELE: `on_server` says whether
    /// the server has confirmed).
    pub at: i64,
}

/// A message on the server as of the last session, with its header block:
/// what a dry run of the rules looks at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OnServerHeaders {
    pub message: i64,
    pub uid: Option<String>,
    /// What the server listed (else the stored size).
    pub size: u64,
    pub state: MessageState,
    pub from: String,
    pub subject: String,
    /// The user asked for it whole, or deleted it: rules leave it alone.
    pub users_choice: bool,
    pub header_block: Vec<u8>,
}

impl Store {
    /// The deleting rules armed for `account`: rule name → the fingerprint
    /// of the rule as its dry run saw it.
    pub fn armed_rules(&self, account: &str) -> Result<HashMap<String, String>> {
        let mut stmt = self
            .conn
            .prepare("SELECT rule, fingerprint FROM rule_arms WHERE account = ?1")?;
        let rows = stmt.query_map([account], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Arms a deleting rule as it is now (after its dry run).
    pub fn arm_rule(&self, account: &str, rule: &str, fingerprint: &str, now: i64) -> Result<()> {
        self.conn.execute(
            "INSERT INTO rule_arms (account, rule, fingerprint, armed_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (account, rule) DO UPDATE SET fingerprint = excluded.fingerprint,
                armed_at = excluded.armed_at",
            params![account, rule, fingerprint, now],
        )?;
        Ok(())
    }

    /// Forgets a rule's arming (the rule was removed).
    pub fn disarm_rule(&self, account: &str, rule: &str) -> Result<()> {
        self.conn.execute(
            "DELETE FROM rule_arms WHERE account = ?1 AND rule = ?2",
            params![account, rule],
        )?;
        Ok(())
    }

    /// Messages of `account` a "leave on server" rule held: the account's
    /// policy never deletes them on the server.
    pub fn left_on_server_by_rule(&self, account: &str) -> Result<HashSet<i64>> {
        let mut stmt = self.conn.prepare(
            "SELECT r.message_id FROM rule_marks r CROSS JOIN messages m ON m.id = r.message_id
             WHERE m.account = ?1 AND r.action = 'leave-on-server'",
        )?;
        let rows = stmt.query_map([account], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The messages rules deleted on the server, of one account or all,
    /// newest deletion first.
    pub fn deleted_by_rule(&self, account: Option<&str>) -> Result<Vec<DeletedByRule>> {
        let columns = super::SUMMARY_COLUMNS
            .split(", ")
            .map(|c| format!("m.{c}"))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "SELECT {columns}, r.rule, r.at FROM rule_marks r CROSS JOIN messages m ON m.id = r.message_id
             WHERE r.action = 'delete' AND (?1 IS NULL OR m.account = ?1)
             ORDER BY r.at DESC, m.id DESC"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map([account], |r| {
            Ok(DeletedByRule {
                summary: summary_from_row(r)?,
                rule: r.get(12)?,
                at: r.get(13)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every message on `account`'s server as of the last session, with its
    /// header block (the front of what is stored, at most
    /// [`crate::mime::HEADER_DIGEST_SCAN`] bytes of it).
    pub fn on_server_headers(&self, account: &str) -> Result<Vec<OnServerHeaders>> {
        let mut stmt = self.conn.prepare(
            "SELECT m.id, l.uid, coalesce(l.size, m.listed_size, m.size), m.state, m.from_addr,
                m.subject, m.download_requested OR m.delete_on_server OR m.trashed_at IS NOT NULL,
                b.message_id IS NOT NULL
             FROM ledger l JOIN messages m ON m.id = l.message
             LEFT JOIN message_bytes b ON b.message_id = m.id
             WHERE l.account = ?1 ORDER BY l.id",
        )?;
        let rows = stmt
            .query_map([account], |r| {
                Ok((
                    OnServerHeaders {
                        message: r.get(0)?,
                        uid: r.get(1)?,
                        size: r.get::<_, i64>(2)?.max(0) as u64,
                        state: MessageState::from_sql(&r.get::<_, String>(3)?),
                        from: r.get(4)?,
                        subject: r.get(5)?,
                        users_choice: r.get(6)?,
                        header_block: Vec::new(),
                    },
                    r.get::<_, bool>(7)?,
                ))
            })?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        let mut out = Vec::with_capacity(rows.len());
        for (mut m, has_bytes) in rows {
            if has_bytes {
                m.header_block = self.stored_header_block(m.message)?.unwrap_or_default();
            }
            out.push(m);
        }
        Ok(out)
    }
}

impl Store {
    /// The header blocks stored of these messages (the front of what is
    /// stored, at most [`crate::mime::HEADER_DIGEST_SCAN`] bytes of it).
    pub fn header_blocks(&self, ids: &[i64]) -> Result<HashMap<i64, Vec<u8>>> {
        let mut out = HashMap::with_capacity(ids.len());
        for &id in ids {
            if let Some(block) = self.stored_header_block(id)? {
                out.insert(id, block);
            }
        }
        Ok(out)
    }

    /// The header block of what is stored of a message (from the front of
    /// its bytes, at most [`crate::mime::HEADER_DIGEST_SCAN`] of them), or
    /// `None` when nothing is stored or the stored bytes are damaged (no
    /// rule judges a message on bytes that are not its own). Bytes kept
    /// packed are unpacked whole: a packed blob is only checked whole.
    fn stored_header_block(&self, id: i64) -> Result<Option<Vec<u8>>> {
        let packed: Option<bool> = self
            .conn
            .prepare_cached("SELECT packed FROM message_bytes WHERE message_id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?;
        let front = match packed {
            None => return Ok(None),
            Some(false) => {
                let blob =
                    self.conn
                        .blob_open(rusqlite::MAIN_DB, "message_bytes", "raw", id, true)?;
                let mut front = vec![0u8; crate::mime::HEADER_DIGEST_SCAN.min(blob.len())];
                let n = blob.read_at(&mut front, 0)?;
                front.truncate(n);
                front
            }
            Some(true) => match self.raw(id) {
                Ok(raw) => raw,
                Err(super::StoreError::Corrupt { .. }) => return Ok(None),
                Err(e) => return Err(e),
            },
        };
        let scanned = &front[..front.len().min(crate::mime::HEADER_DIGEST_SCAN)];
        Ok(Some(crate::mime::header_block(scanned).to_vec()))
    }
}

impl Store {
    /// Forgets which rule held back each message of `account` kept as
    /// headers, once no rule of the account holds anything back (a message
    /// a rule deleted stays in its view; one still on the server, whose
    /// DELE the server never carried out, no rule will delete now, and it
    /// shows again). Writes only if there is any.
    pub fn release_held_by_rules(&self, account: &str) -> Result<()> {
        let held =
            "SELECT r.message_id FROM rule_marks r CROSS JOIN messages m ON m.id = r.message_id
             WHERE m.account = ?1 AND m.state = 'headers'
                AND (r.action != 'delete' OR m.on_server = 1)";
        let any: bool =
            self.conn
                .query_row(&format!("SELECT EXISTS ({held})"), [account], |r| r.get(0))?;
        if any {
            self.conn.execute(
                &format!("DELETE FROM rule_marks WHERE message_id IN ({held})"),
                [account],
            )?;
        }
        Ok(())
    }

    /// The messages kept as headers that a rule holds back, of one account
    /// or all: message → (rule, what it does).
    pub fn held_by_rules(&self, account: Option<&str>) -> Result<HashMap<i64, (String, RuleMark)>> {
        let mut stmt = self.conn.prepare(
            "SELECT r.message_id, r.rule, r.action FROM rule_marks r CROSS JOIN messages m
                ON m.id = r.message_id
             WHERE r.action != 'delete' AND (?1 IS NULL OR m.account = ?1)",
        )?;
        let rows = stmt.query_map([account], |r| {
            let mark = match r.get::<_, String>(2)?.as_str() {
                "leave-on-server" => RuleMark::LeaveOnServer,
                "unarmed" => RuleMark::Unarmed,
                _ => RuleMark::HeadersOnly,
            };
            Ok((r.get(0)?, (r.get(1)?, mark)))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Whether [`Batch::sweep_deleted_by_rule`] would remove anything.
    pub fn deleted_by_rule_to_sweep(&self, account: &str, now: i64) -> Result<bool> {
        Ok(self.conn.query_row(
            &format!("SELECT EXISTS ({SWEPT})"),
            params![account, now - crate::rules::DELETED_KEPT_SECS],
            |r| r.get(0),
        )?)
    }
}

impl Batch<'_> {
    /// Remembers what a rule did to a message.
    pub fn mark_rule(&self, message: i64, rule: &str, mark: RuleMark, now: i64) -> Result<()> {
        self.tx
            .prepare_cached(
                "INSERT INTO rule_marks (message_id, rule, action, at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (message_id) DO UPDATE SET rule = excluded.rule,
                    action = excluded.action,
                    at = CASE WHEN rule_marks.action = excluded.action AND rule_marks.rule = excluded.rule
                         THEN rule_marks.at ELSE excluded.at END",
            )?
            .execute(params![message, rule, mark.as_sql(), now])?;
        Ok(())
    }

    /// Whether the user has asked for this message whole (perhaps while
    /// the session that judged it ran).
    pub fn asked_for(&self, message: i64) -> Result<bool> {
        Ok(self
            .tx
            .prepare_cached("SELECT download_requested FROM messages WHERE id = ?1")?
            .query_row([message], |r| r.get(0))
            .optional()?
            .unwrap_or(false))
    }

    /// Forgets what a rule did to a message (no rule holds it any more).
    pub fn unmark_rule(&self, message: i64) -> Result<()> {
        self.tx
            .prepare_cached("DELETE FROM rule_marks WHERE message_id = ?1")?
            .execute([message])?;
        Ok(())
    }

    /// Messages a rule deleted whose header blocks have been kept long
    /// enough: gone, once the server no longer holds them. Only header
    /// blocks go: a message stored whole is never swept here.
    pub fn sweep_deleted_by_rule(&self, account: &str, now: i64) -> Result<usize> {
        let n = self.tx.execute(
            &format!("DELETE FROM messages WHERE id IN ({SWEPT})"),
            params![account, now - crate::rules::DELETED_KEPT_SECS],
        )?;
        Ok(n)
    }
}
