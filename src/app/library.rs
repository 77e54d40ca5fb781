//! The window's own thread for the store: every query and change runs here,
//! so the UI thread never waits on SQLite, however large the mailbox.

use std::collections::VecDeque;
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

pub use crate::store::{Column, Sort};

/// What the window asks of the store.
pub enum Query {
    List {
        generation: u64,
        view: View,
        search: String,
        sort: Sort,
        /// Messages whose rows come with the answer, fresh (those in view).
        keep: Vec<i64>,
    },
    /// The rows of these messages (scrolled into view), for the list of
    /// this generation.
    Rows {
        generation: u64,
        ids: Vec<i64>,
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

/// A list as the store thread gives it: the order of all its messages (or,
/// before that is read, of its first screen), and the rows of a few.
#[derive(Clone, Debug, Default)]
pub struct Listing {
    /// Every message's id, in the list's order: 8 bytes a message, shared.
    pub ids: Arc<Vec<i64>>,
    /// Whether `ids` is the whole list (else its first screen only, the
    /// whole following at once).
    pub complete: bool,
    /// Rows of the first screen and of those asked to be kept.
    pub rows: Vec<Summary>,
}

impl Listing {
    /// A whole list of these rows, in their order (a list that is never
    /// long, as the inventory's).
    pub fn whole(rows: Vec<Summary>) -> Listing {
        Listing {
            ids: Arc::new(rows.iter().map(|r| r.id).collect()),
            complete: true,
            rows,
        }
    }
}

/// How many rows come first, and with every list: a screen and more.
pub const FIRST: usize = 120;

/// What the store thread answers.
pub enum Answer {
    List {
        generation: u64,
        list: Result<Listing, String>,
    },
    Rows {
        generation: u64,
        rows: Vec<Summary>,
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
    let mut queue = Queue {
        inbox,
        waiting: VecDeque::new(),
    };
    while let Some(query) = queue.next() {
        // Only the newest list request matters: skip those it replaces.
        if query.is_list() && queue.list_waiting() {
            continue;
        }
        answer(&mut store, &mut listed, query, &send, &mut queue);
    }
}

/// The window's requests, in order, with a look ahead: a long answer
/// stops early when a newer list request makes it useless.
struct Queue<'a> {
    inbox: &'a Receiver<Query>,
    waiting: VecDeque<Query>,
}

impl Queue<'_> {
    fn next(&mut self) -> Option<Query> {
        self.waiting.pop_front().or_else(|| self.inbox.recv().ok())
    }

    /// Whether a list request waits (one that replaces the one at hand).
    fn list_waiting(&mut self) -> bool {
        self.waiting.extend(self.inbox.try_iter());
        self.waiting.iter().any(Query::is_list)
    }
}

/// The order of the view last listed, as last sorted, and the store's data
/// version it was read at. A search filters it with the ids the index
/// gives, and so keeps the list's order; a second search reads no row.
struct Listed {
    view: View,
    sort: Sort,
    version: i64,
    ids: Arc<Vec<i64>>,
}

/// The view's order, read again only if the store changed since.
fn ids_of(
    store: &Store,
    listed: &mut Option<Listed>,
    view: &View,
    sort: Sort,
) -> Result<Arc<Vec<i64>>, crate::store::StoreError> {
    let version = store.data_version()?;
    if let Some(l) = listed
        && l.view == *view
        && l.sort == sort
        && l.version == version
    {
        return Ok(l.ids.clone());
    }
    let ids = Arc::new(store.list_ids(&view.filter(), sort)?);
    *listed = Some(Listed {
        view: view.clone(),
        sort,
        version,
        ids: ids.clone(),
    });
    Ok(ids)
}

/// The first matches of `search` in the order `ids`, a screen at least,
/// if the index finds them quickly: it is asked once for the matches
/// within the range of ids of the list's head, a short stretch of its
/// lists when the order follows the ids (by date, as mail arrives). Once:
/// the index reads a word typed as a prefix whole, whatever the range.
fn first_matches(
    store: &Store,
    ids: &[i64],
    search: &str,
) -> Result<Option<Vec<i64>>, crate::store::StoreError> {
    const HEAD: usize = 16_384;
    let head = &ids[..ids.len().min(HEAD)];
    let (lo, hi) = head.iter().fold((i64::MAX, i64::MIN), |(lo, hi), &id| {
        (lo.min(id), hi.max(id))
    });
    if hi - lo > 4 * HEAD as i64 {
        // The order does not follow the ids: the stretch would be most of
        // the index.
        return Ok(None);
    }
    let found = store.search_ids_between(search, lo, hi)?;
    let first: Vec<i64> = head
        .iter()
        .copied()
        .filter(|id| found.binary_search(id).is_ok())
        .collect();
    Ok((first.len() >= FIRST).then_some(first))
}

/// The rows of the first screen of `ids` and of `keep`.
fn first_rows(
    store: &Store,
    ids: &[i64],
    keep: &[i64],
) -> Result<Vec<Summary>, crate::store::StoreError> {
    let first = &ids[..ids.len().min(FIRST)];
    let mut wanted = first.to_vec();
    // Only those still in the list: a row outside it is not the list's.
    let keep: std::collections::HashSet<i64> = keep
        .iter()
        .filter(|id| !first.contains(id))
        .copied()
        .collect();
    if !keep.is_empty() {
        wanted.extend(ids[first.len()..].iter().filter(|id| keep.contains(id)));
    }
    store.summaries(&wanted)
}

fn answer(
    store: &mut Store,
    listed: &mut Option<Listed>,
    query: Query,
    send: &dyn Fn(Answer),
    queue: &mut Queue<'_>,
) {
    // This connection's own changes do not move the data version: forget the
    // order whenever it makes one the list shows.
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
            keep,
        } => {
            let list_answer = |list: Result<Listing, crate::store::StoreError>| Answer::List {
                generation,
                list: list.map_err(|e| e.to_string()),
            };
            if search.trim().is_empty() {
                // The first screen at once, from the column's index, while
                // the whole order is read; not when only the mail changed
                // (the window keeps the list it has, scrolled where it is,
                // until the new one is whole).
                let same = listed
                    .as_ref()
                    .is_some_and(|l| l.view == view && l.sort == sort);
                if !same {
                    match store.list_first(&view.filter(), sort, FIRST as i64) {
                        Ok(rows) if rows.len() == FIRST => send(list_answer(Ok(Listing {
                            ids: Arc::new(rows.iter().map(|r| r.id).collect()),
                            complete: false,
                            rows,
                        }))),
                        Ok(_) => {}
                        Err(e) => return send(list_answer(Err(e))),
                    }
                }
                let list = ids_of(store, listed, &view, sort).and_then(|ids| {
                    Ok(Listing {
                        rows: first_rows(store, &ids, &keep)?,
                        ids,
                        complete: true,
                    })
                });
                send(list_answer(list));
                return;
            }
            let ids = match ids_of(store, listed, &view, sort) {
                Ok(ids) => ids,
                Err(e) => return send(list_answer(Err(e))),
            };
            // The first screen of matches at once, found chunk by chunk
            // down the list's order; the whole result follows, unless the
            // search has changed meanwhile (another letter typed).
            if ids.len() > 8 * FIRST {
                match first_matches(store, &ids, &search) {
                    Ok(Some(first)) => {
                        let rows = store.summaries(&first[..FIRST]);
                        send(list_answer(rows.map(|rows| Listing {
                            ids: Arc::new(first),
                            complete: false,
                            rows,
                        })));
                        if queue.list_waiting() {
                            return;
                        }
                    }
                    Ok(None) => {}
                    Err(e) => return send(list_answer(Err(e))),
                }
            }
            let list = Ok(ids).and_then(|ids: Arc<Vec<i64>>| {
                let found = store.search_ids(&search)?;
                let ids: Vec<i64> = match found.last() {
                    None => Vec::new(),
                    Some(&max) => {
                        // A bit per message: filtering a million ids is a
                        // few milliseconds.
                        let mut bits = vec![0u64; max as usize / 64 + 1];
                        for &id in &found {
                            bits[id as usize / 64] |= 1 << (id % 64);
                        }
                        ids.iter()
                            .copied()
                            .filter(|&id| {
                                id >= 0
                                    && id <= max
                                    && bits[id as usize / 64] & (1 << (id % 64)) != 0
                            })
                            .collect()
                    }
                };
                Ok(Listing {
                    rows: first_rows(store, &ids, &keep)?,
                    ids: Arc::new(ids),
                    complete: true,
                })
            });
            send(list_answer(list));
        }
        Query::Rows { generation, ids } => match store.summaries(&ids) {
            Ok(rows) => send(Answer::Rows { generation, rows }),
            Err(e) => send(Answer::Failed(e.to_string())),
        },
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
            keep: Vec::new(),
        });
        loop {
            match library
                .answers
                .recv_timeout(Duration::from_secs(10))
                .unwrap()
            {
                Answer::List { list, .. } => {
                    let list = list.unwrap();
                    if list.complete {
                        return list.ids.to_vec();
                    }
                }
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

    /// Issue 17: a search of a large list shows its first screen of matches
    /// before the whole result; both in the list's order.
    #[test]
    fn a_search_of_a_large_list_answers_its_first_screen_first() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pipit.db");
        let mut store = Store::open(&path).unwrap();
        let batch = store.batch().unwrap();
        for i in 0..3_000 {
            let word = if i % 3 == 0 { "often" } else { "seldom" };
            let raw = format!(
                "Subject: {word} {i}\r\nDate: {}\r\n\r\ntext\r\n",
                crate::dates::Civil::from_unix(1_700_000_000 + i * 60).rfc5322()
            );
            let parsed = crate::mime::parse(raw.as_bytes());
            batch
                .insert(&crate::store::NewMessage {
                    copy: crate::store::NewCopy {
                        account: "home",
                        uid: Some(&format!("u{i}")),
                        size: raw.len() as u64,
                        digest: Some(&crate::mime::header_digest(raw.as_bytes())),
                        first_seen: 0,
                    },
                    raw: raw.as_bytes(),
                    state: MessageState::Full,
                    parsed: &parsed,
                    problem: "",
                })
                .unwrap();
        }
        batch.commit().unwrap();
        let library = Library::spawn(path, Arc::new(|| {}));
        let whole = list(&library, "", Sort::default());
        assert_eq!(whole.len(), 3_000);
        library.ask(Query::List {
            generation: 2,
            view: View::All,
            search: "often".into(),
            sort: Sort::default(),
            keep: Vec::new(),
        });
        let mut answers = Vec::new();
        while answers.last().is_none_or(|l: &Listing| !l.complete) {
            if let Answer::List { list, .. } = library
                .answers
                .recv_timeout(Duration::from_secs(10))
                .unwrap()
            {
                answers.push(list.unwrap());
            }
        }
        let [first, all] = &answers[..] else {
            panic!("{} answers", answers.len());
        };
        assert!(!first.complete && first.ids.len() >= FIRST);
        assert_eq!(all.ids.len(), 1_000);
        assert_eq!(&all.ids[..first.ids.len()], &first.ids[..], "a prefix");
        // Ids from 1: message i is id i + 1.
        let often: Vec<i64> = whole.into_iter().filter(|id| (id - 1) % 3 == 0).collect();
        assert_eq!(*all.ids, often, "in the list's order");
        assert_eq!(first.rows.len(), FIRST);
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
