//! The message list's order, as the store reads it: by date, size, sender
//! or subject, each served by an index (migration 9) so that the first
//! screen of a million messages is a short walk down one index, and the
//! whole order is read from it without a row or a sort.
//!
//! Sender and subject sort by keys Pipit computes (`pipit_from_key`,
//! `pipit_subject_key`, registered on every connection with the folding
//! of fold.rs): the sender without case, the subject without "Re:" and its
//! kin in front. Triggers keep them in the columns `sort_from` and
//! `sort_subject`, which the indexes are on.

use serde::Serialize;

/// The list's sort column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Column {
    From,
    Subject,
    Date,
    Size,
}

/// A column and a direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Sort {
    pub column: Column,
    pub ascending: bool,
}

impl Default for Sort {
    fn default() -> Self {
        Sort {
            column: Column::Date,
            ascending: false,
        }
    }
}

impl Sort {
    /// The `ORDER BY` terms, ties broken by id in the same direction; each
    /// matches an index of migration 9 term for term.
    pub(crate) fn order_by(self) -> String {
        let key = match self.column {
            Column::Date => "date",
            Column::Size => "size",
            Column::From => "sort_from",
            Column::Subject => "sort_subject",
        };
        let dir = if self.ascending { "ASC" } else { "DESC" };
        format!("{key} {dir}, id {dir}")
    }
}

/// A sender as it sorts: without case.
pub fn from_key(from: &str) -> String {
    from.to_lowercase()
}

/// A subject as it sorts: without "Re:", "Fwd:" and their kin in front,
/// however many, and without case.
pub fn subject_key(subject: &str) -> String {
    const PREFIXES: [&str; 9] = ["re", "fwd", "fw", "aw", "sv", "wg", "tr", "rif", "vs"];
    let mut rest = subject.trim_start();
    while let Some(colon) = rest.find(':').filter(|&c| c <= 5) {
        let word = rest[..colon].trim_end();
        // "Re[2]:" and "Re(2):" too.
        let word = word.split(['[', '(']).next().unwrap_or(word);
        if !PREFIXES.iter().any(|p| word.eq_ignore_ascii_case(p)) {
            break;
        }
        rest = rest[colon + 1..].trim_start();
    }
    rest.to_lowercase()
}

/// Makes `pipit_from_key` and `pipit_subject_key` known to `conn`: the
/// triggers that keep the sort keys call them.
pub fn register(conn: &rusqlite::Connection) -> rusqlite::Result<()> {
    use rusqlite::functions::FunctionFlags;
    let flags = FunctionFlags::SQLITE_UTF8
        | FunctionFlags::SQLITE_DETERMINISTIC
        | FunctionFlags::SQLITE_INNOCUOUS;
    conn.create_scalar_function("pipit_from_key", 1, flags, |ctx| {
        Ok(from_key(ctx.get_raw(0).as_str().unwrap_or_default()))
    })?;
    conn.create_scalar_function("pipit_subject_key", 1, flags, |ctx| {
        Ok(subject_key(ctx.get_raw(0).as_str().unwrap_or_default()))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 13, item 17: subject sort counted "Re:".
    #[test]
    fn subjects_sort_without_their_reply_and_forward_marks() {
        assert_eq!(subject_key("Re: Weekend hike"), "weekend hike");
        assert_eq!(subject_key("RE: Fwd: re[2]: AW: Hike"), "hike");
        assert_eq!(subject_key("Reading list"), "reading list");
        assert_eq!(subject_key("Recall: a"), "recall: a");
    }
}
