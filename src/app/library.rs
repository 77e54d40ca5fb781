//! The window's own thread for the store: every query and change runs here,
//! so the UI thread never waits on SQLite, however large the mailbox.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread;

use crate::dates::unix_now;
use crate::mime::{self, Attachment};
use crate::store::{Detail, Filter, MessageState, Store, Summary};
use crate::sync::inventory::Kind;
use crate::sync::plan::Deletion;
use crate::worker::Notify;

/// Which messages a list shows.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum View {
    All,
    Account(String),
    /// Messages known only by their headers: still on the server.
    OnServer,
    /// The header blocks of messages rules deleted on the server, kept 30 days.
    DeletedByRule,
    Trash,
}

impl View {
    fn filter(&self) -> Filter {
        match self {
            View::All => Filter::default(),
            View::Account(name) => Filter {
                account: Some(name.clone()),
                ..Filter::default()
            },
            View::OnServer => Filter {
                headers_only: true,
                ..Filter::default()
            },
            View::Trash => Filter {
                trash: true,
                ..Filter::default()
            },
            View::DeletedByRule => Filter {
                deleted_by_rule: true,
                ..Filter::default()
            },
        }
    }
}

/// The list's sort column.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    From,
    Subject,
    Date,
    Size,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
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

/// What the window asks of the store.
pub enum Query {
    List {
        generation: u64,
        view: View,
        search: String,
        sort: Sort,
    },
    Open(i64),
    Trash(i64),
    Restore(i64),
    EmptyTrash,
    /// Remove one message in Trash for good.
    DeleteForever(i64),
    RequestDownload(i64),
    /// Everything on the servers as of their last sessions (the On server
    /// view), with the policies and size limits of `config`.
    Inventory {
        generation: u64,
        config: Box<crate::config::Config>,
        search: String,
    },
}

impl Query {
    /// A list the window shows (of a view, or the inventory): only the
    /// newest of several waiting is answered.
    fn is_list(&self) -> bool {
        matches!(self, Query::List { .. } | Query::Inventory { .. })
    }
}

/// One message of the inventory: what the store holds of it and its fate
/// on the server, as `sync::inventory` says for `pipit server list`.
#[derive(Clone, Debug)]
pub struct InventoryRow {
    /// The message as the list and the reader know it; for a message
    /// removed here for good (only a note is kept), made up of the note.
    pub summary: Summary,
    pub kind: Kind,
    pub deletion: Deletion,
    pub days_on_server: i64,
    /// When Pipit first saw it on the server.
    pub first_seen: i64,
    /// How many copies of it the server lists (more than one: the server
    /// lists it twice).
    pub copies: usize,
    /// What LIST said of them, added up; `None` if a listing has not said.
    pub listed: Option<u64>,
    /// Why only its headers are here, when that is not the user's choice.
    pub problem: String,
}

/// The inventory's lines, one row per message (its copies together), in
/// the lines' order: oldest on the server first.
pub fn inventory_rows(
    lines: Vec<crate::sync::inventory::Line>,
    mut stored: std::collections::HashMap<i64, Summary>,
) -> Vec<InventoryRow> {
    let mut rows: Vec<InventoryRow> = Vec::new();
    let mut at: std::collections::HashMap<i64, usize> = std::collections::HashMap::new();
    for line in lines {
        let c = line.copy;
        if let Some(&i) = at.get(&c.message) {
            let row = &mut rows[i];
            row.copies += 1;
            row.listed = row.listed.zip(c.size).map(|(a, b)| a + b);
            continue;
        }
        let summary = stored.remove(&c.message).unwrap_or_else(|| Summary {
            id: c.message,
            account: c.account.as_str().into(),
            uid: c.uid.clone().unwrap_or_default().into(),
            from: c.from.as_str().into(),
            subject: c.subject.as_str().into(),
            date: None,
            size: c.size.unwrap_or(0),
            state: c.state,
            attachments: Vec::new().into(),
            seen: true,
            on_server: true,
            trashed: c.delete_on_server,
        });
        at.insert(c.message, rows.len());
        rows.push(InventoryRow {
            summary,
            kind: line.kind,
            deletion: line.deletion,
            days_on_server: line.days_on_server,
            first_seen: c.first_seen,
            copies: 1,
            listed: c.size,
            problem: c.problem,
        });
    }
    rows
}

/// One message as the reader shows it.
#[derive(Clone, Debug)]
pub struct Opened {
    pub detail: Detail,
    pub attachments: Vec<Attachment>,
    /// An HTML-only message's text with its structure.
    pub html: Option<Vec<crate::html::Block>>,
    /// Only the front of the message (a TOP preview): the attachments are
    /// named in `detail.summary.attachments` but not here.
    pub partial: bool,
    /// What Reply, Reply All and Forward take from its headers.
    pub reply: mime::ReplyFields,
}

impl Opened {
    /// A whole message, parsed.
    pub fn whole(detail: Detail, raw: &[u8]) -> Opened {
        Opened {
            attachments: mime::attachments(raw),
            html: mime::html_only(raw).map(|h| crate::html::blocks(&h)),
            detail,
            partial: false,
            reply: mime::reply_fields(raw),
        }
    }
}

/// The front of a message still on the server (the answer to TOP), parsed
/// as far as it goes: its headers, the start of its text, and the names of
/// the attachments that begin within it.
pub fn opened_partial(raw: &[u8]) -> Opened {
    let parsed = mime::parse(raw);
    Opened {
        detail: Detail {
            summary: Summary {
                id: 0,
                account: "".into(),
                uid: "".into(),
                from: parsed.from.as_str().into(),
                subject: parsed.subject.as_str().into(),
                date: parsed.date,
                size: raw.len() as u64,
                state: crate::store::MessageState::Headers,
                attachments: parsed.attachments.clone().into(),
                seen: false,
                on_server: true,
                trashed: false,
            },
            to: parsed.to,
            cc: parsed.cc,
            message_id: parsed.message_id,
            text: parsed.text,
            problem: String::new(),
        },
        attachments: Vec::new(),
        html: mime::html_only(raw).map(|h| crate::html::blocks(&h)),
        partial: true,
        reply: mime::reply_fields(raw),
    }
}

/// What the store thread answers.
pub enum Answer {
    Rows {
        generation: u64,
        rows: Result<Vec<Summary>, String>,
    },
    Opened {
        id: i64,
        result: Result<Arc<Opened>, String>,
    },
    /// A change was made: lists should be asked for again.
    Changed {
        what: String,
    },
    Inventory {
        generation: u64,
        rows: Result<Vec<InventoryRow>, String>,
    },
    Failed(String),
}

pub struct Library {
    queries: Sender<Query>,
    pub answers: Receiver<Answer>,
}

impl Library {
    pub fn spawn(store_path: PathBuf, notify: Notify) -> Library {
        let (queries, inbox) = mpsc::channel::<Query>();
        let (outbox, answers) = mpsc::channel::<Answer>();
        thread::Builder::new()
            .name("pipit-library".into())
            .spawn(move || serve(&store_path, &inbox, &outbox, &*notify))
            .expect("cannot start the store thread");
        Library { queries, answers }
    }

    pub fn ask(&self, query: Query) {
        let _ = self.queries.send(query);
    }
}

fn serve(
    path: &std::path::Path,
    inbox: &Receiver<Query>,
    outbox: &Sender<Answer>,
    notify: &dyn Fn(),
) {
    let send = |a: Answer| {
        let _ = outbox.send(a);
        notify();
    };
    let mut store = match Store::open(path) {
        Ok(s) => s,
        Err(e) => {
            send(Answer::Failed(e.to_string()));
            return;
        }
    };
    let mut listed: Option<Listed> = None;
    while let Ok(mut query) = inbox.recv() {
        // Only the newest list request matters: skip those it replaces.
        while query.is_list() {
            match inbox.try_recv() {
                Ok(next) if next.is_list() => query = next,
                Ok(other) => {
                    answer(&mut store, &mut listed, query, &send);
                    query = other;
                    break;
                }
                Err(_) => break,
            }
        }
        answer(&mut store, &mut listed, query, &send);
    }
}

/// The rows of the view last listed, sorted as last asked, and the store's
/// data version they were read at. A search filters these with the ids the
/// index gives, instead of reading tens of thousands of rows again, and so
/// keeps the list's order.
struct Listed {
    view: View,
    sort: Sort,
    version: i64,
    rows: Vec<Summary>,
}

/// The view's rows, read again only if the store changed since.
fn rows_of<'a>(
    store: &Store,
    listed: &'a mut Option<Listed>,
    view: View,
    sort: Sort,
) -> Result<&'a Listed, crate::store::StoreError> {
    let version = store.data_version()?;
    match listed {
        Some(l) if l.view == view && l.version == version => {
            if l.sort != sort {
                sort_rows(&mut l.rows, sort);
                l.sort = sort;
            }
        }
        _ => {
            let mut rows = store.messages(&view.filter())?;
            sort_rows(&mut rows, sort);
            *listed = Some(Listed {
                view,
                sort,
                version,
                rows,
            });
        }
    }
    Ok(listed.as_ref().expect("set above"))
}

fn answer(store: &mut Store, listed: &mut Option<Listed>, query: Query, send: &dyn Fn(Answer)) {
    // This connection's own changes do not move the data version: forget the
    // rows whenever it makes one the list shows.
    if matches!(
        query,
        Query::Trash(_)
            | Query::Restore(_)
            | Query::EmptyTrash
            | Query::DeleteForever(_)
            | Query::RequestDownload(_)
    ) {
        *listed = None;
    }
    match query {
        Query::List {
            generation,
            view,
            search,
            sort,
        } => {
            let rows = rows_of(store, listed, view, sort).and_then(|l| {
                if search.trim().is_empty() {
                    return Ok(l.rows.clone());
                }
                let ids = store.search_ids(&search)?;
                Ok(l.rows
                    .iter()
                    .filter(|r| ids.binary_search(&r.id).is_ok())
                    .cloned()
                    .collect())
            });
            send(Answer::Rows {
                generation,
                rows: rows.map_err(|e| e.to_string()),
            });
        }
        Query::Open(id) => {
            // Opening a whole message reads it; a headers-only one is not
            // read yet, however often it is previewed.
            let result = (|| {
                let mut detail = store.detail(id)?;
                let raw = store.raw(id)?;
                if detail.summary.state == MessageState::Full && !detail.summary.seen {
                    store.set_seen(id, true)?;
                    detail.summary.seen = true;
                }
                Ok::<_, crate::store::StoreError>(Arc::new(Opened::whole(detail, &raw)))
            })();
            if let Ok(opened) = &result
                && opened.detail.summary.seen
                && let Some(row) = listed
                    .as_mut()
                    .and_then(|l| l.rows.iter_mut().find(|r| r.id == id))
            {
                row.seen = true;
            }
            send(Answer::Opened {
                id,
                result: result.map_err(|e| e.to_string()),
            });
        }
        Query::Trash(id) => changed(send, store.trash(id, unix_now()), "Moved to Trash"),
        Query::Restore(id) => changed(send, store.restore(id), "Restored from Trash"),
        Query::EmptyTrash => changed(send, store.empty_trash().map(|_| ()), "Trash emptied"),
        Query::DeleteForever(id) => changed(send, store.delete_forever(id), "Deleted for good"),
        Query::RequestDownload(id) => changed(send, store.request_download(id), "Downloading…"),
        Query::Inventory {
            generation,
            config,
            search,
        } => {
            let rows = (|| {
                let lines = crate::sync::inventory::lines(store, &config, None, unix_now())?;
                let stored = store.on_server()?.into_iter().map(|s| (s.id, s)).collect();
                let mut rows = inventory_rows(lines, stored);
                if !search.trim().is_empty() {
                    let ids = store.search_ids(&search)?;
                    rows.retain(|r| ids.binary_search(&r.summary.id).is_ok());
                }
                Ok::<_, crate::store::StoreError>(rows)
            })();
            send(Answer::Inventory {
                generation,
                rows: rows.map_err(|e| e.to_string()),
            });
        }
    }
}

fn changed(send: &dyn Fn(Answer), result: Result<(), crate::store::StoreError>, what: &str) {
    send(match result {
        Ok(()) => Answer::Changed { what: what.into() },
        Err(e) => Answer::Failed(e.to_string()),
    });
}

pub fn sort_rows(rows: &mut [Summary], sort: Sort) {
    match sort.column {
        Column::Date => rows.sort_by_key(|r| (r.date, r.id)),
        Column::Size => rows.sort_by_key(|r| (r.size, r.id)),
        Column::From => rows.sort_by_cached_key(|r| (r.from.to_lowercase(), r.id)),
        Column::Subject => rows.sort_by_cached_key(|r| (subject_key(&r.subject), r.id)),
    }
    if !sort.ascending {
        rows.reverse();
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::tests::add;
    use std::sync::Arc;
    use std::time::Duration;

    fn list(library: &Library, search: &str, sort: Sort) -> Vec<i64> {
        library.ask(Query::List {
            generation: 1,
            view: View::All,
            search: search.into(),
            sort,
        });
        loop {
            match library
                .answers
                .recv_timeout(Duration::from_secs(10))
                .unwrap()
            {
                Answer::Rows { rows, .. } => return rows.unwrap().iter().map(|r| r.id).collect(),
                _ => continue,
            }
        }
    }

    /// Issue 18: the inventory's copies of one message make one row; a
    /// message removed for good (no row in the store's list) shows as the
    /// note it is.
    #[test]
    fn the_inventory_has_one_row_per_message_and_one_for_a_note() {
        use crate::store::OnServer;
        use crate::sync::inventory::{Kind, Line};
        let line = |message: i64, size: u64, state: MessageState| Line {
            copy: OnServer {
                account: "lab".into(),
                uid: Some(format!("u{message}-{size}")),
                size: Some(size),
                listed_since: 0,
                message,
                state,
                first_seen: 0,
                from: String::new(),
                subject: String::new(),
                delete_on_server: state == MessageState::Purged,
                problem: String::new(),
            },
            days_on_server: 0,
            deletion: Deletion::Never,
            kind: if state == MessageState::Purged {
                Kind::DeletedHere
            } else {
                Kind::Stored
            },
            held_by_rule: None,
        };
        let stored = Summary {
            id: 1,
            account: "lab".into(),
            uid: "u1".into(),
            from: "ana@example.org".into(),
            subject: "Twice".into(),
            date: None,
            size: 100,
            state: MessageState::Full,
            attachments: Vec::new().into(),
            seen: true,
            on_server: true,
            trashed: false,
        };
        let rows = inventory_rows(
            vec![
                line(1, 100, MessageState::Full),
                line(2, 50, MessageState::Purged),
                line(1, 100, MessageState::Full),
            ],
            [(1, stored.clone())].into_iter().collect(),
        );
        assert_eq!(rows.len(), 2);
        assert_eq!((rows[0].copies, rows[0].listed), (2, Some(200)));
        assert_eq!(rows[0].summary, stored);
        assert_eq!(rows[1].summary.state, MessageState::Purged);
        assert!(rows[1].summary.trashed);
        assert_eq!(rows[1].listed, Some(50));
    }

    /// Issue 13, item 17: subject sort counted "Re:".
    #[test]
    fn subjects_sort_without_their_reply_and_forward_marks() {
        assert_eq!(subject_key("Re: Weekend hike"), "weekend hike");
        assert_eq!(subject_key("RE: Fwd: re[2]: AW: Hike"), "hike");
        assert_eq!(subject_key("Reading list"), "reading list");
        assert_eq!(subject_key("Recall: a"), "recall: a");
    }

    /// Issue 13, item 11: the TOP preview showed boundaries and base64.
    #[test]
    fn a_preview_shows_the_text_and_attachment_names_of_a_cut_message() {
        let front = b"From: Ana <ana@example.org>\r\nSubject: Photos\r\n\
Content-Type: multipart/mixed; boundary=\"xyz\"\r\n\r\n--xyz\r\nContent-Type: text/plain; charset=utf-8\r\n\
Content-Transfer-Encoding: base64\r\n\r\nSGVyZSBhcmUgdGhlIHBob3RvcyBmcm9tIHRoZSBsYWtlLg==\r\n--xyz\r\n\
Content-Type: application/zip; name=\"lake.zip\"\r\nContent-Disposition: attachment; filename=\"lake.zip\"\r\n\
Content-Transfer-Encoding: base64\r\n\r\nUEsDBBQAAAAIAAAAIQ";
        let opened = opened_partial(front);
        assert_eq!(
            opened.detail.text.trim(),
            "Here are the photos from the lake."
        );
        assert!(!opened.detail.text.contains("--xyz"));
        assert_eq!(
            &*opened.detail.summary.attachments,
            ["lake.zip".to_string()]
        );
        assert!(opened.partial);
    }

    #[test]
    fn searches_see_new_mail_trash_and_the_list_order() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pipit.db");
        let mut store = Store::open(&path).unwrap();
        let old = add(
            &mut store,
            "u1",
            b"Subject: harbour plans\r\nDate: Mon, 2 Nov 2026 10:00:00 +0000\r\n\r\nboats\r\n",
            MessageState::Full,
        );
        let library = Library::spawn(path, Arc::new(|| {}));
        let by_date = Sort::default();
        assert_eq!(list(&library, "", by_date), vec![old]);
        assert_eq!(list(&library, "harbour", by_date), vec![old]);

        // Mail stored by another connection (the fetch worker's) is found.
        let new = add(
            &mut store,
            "u2",
            b"Subject: harbour party\r\nDate: Tue, 3 Nov 2026 10:00:00 +0000\r\n\r\nboats\r\n",
            MessageState::Full,
        );
        assert_eq!(
            list(&library, "harbour", by_date),
            vec![new, old],
            "newest first"
        );
        let oldest_first = Sort {
            column: Column::Date,
            ascending: true,
        };
        assert_eq!(
            list(&library, "boats", oldest_first),
            vec![old, new],
            "in the list's order"
        );
        assert_eq!(list(&library, "party", by_date), vec![new]);

        // A change this thread makes itself is seen too.
        library.ask(Query::Trash(new));
        assert_eq!(list(&library, "harbour", by_date), vec![old]);
        assert!(list(&library, "nothing", by_date).is_empty());
    }
}
