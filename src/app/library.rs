//! The window's own thread for the store: every query and change runs here,
//! so the UI thread never waits on SQLite, however large the mailbox.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread;

use crate::dates::unix_now;
use crate::mime::{self, Attachment};
use crate::store::{Detail, Filter, MessageState, Store, Summary};
use crate::worker::Notify;

/// Which messages a list shows.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum View {
    All,
    Account(String),
    /// Messages known only by their headers: still on the server.
    OnServer,
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
}

impl Opened {
    /// A whole message, parsed.
    pub fn whole(detail: Detail, raw: &[u8]) -> Opened {
        Opened {
            attachments: mime::attachments(raw),
            html: mime::html_only(raw).map(|h| crate::html::blocks(&h)),
            detail,
            partial: false,
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
        while let Query::List { .. } = query {
            match inbox.try_recv() {
                Ok(next @ Query::List { .. }) => query = next,
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

/// Whether `listed` holds the current order of this view.
fn fresh(store: &Store, listed: &Option<Listed>, view: &View, sort: Sort) -> bool {
    listed.as_ref().is_some_and(|l| {
        l.view == *view && l.sort == sort && store.data_version().ok() == Some(l.version)
    })
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

fn answer(store: &mut Store, listed: &mut Option<Listed>, query: Query, send: &dyn Fn(Answer)) {
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
                // the whole order is read.
                if !fresh(store, listed, &view, sort) {
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
            let list = ids_of(store, listed, &view, sort).and_then(|ids| {
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
