//! The thread that runs fetch passes. One request enum in, one event enum
//! out: the CLI and the window are both just listeners, and neither waits on
//! the network.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::{self, JoinHandle};

use crate::config::Account;
use crate::paths::Paths;
use crate::secrets::PasswordSource;
use crate::store::Store;
use crate::sync::{self, FetchError, FetchSummary, Progress};

/// What the worker is asked to do.
pub enum Request {
    /// One fetch of one account.
    Fetch {
        account: Box<Account>,
        password: PasswordSource,
    },
    /// Finish the current request, then end the thread.
    Shutdown,
}

/// What the worker reports.
#[derive(Debug)]
pub enum Event {
    Progress(Progress),
    /// A fetch ended, well or not.
    Finished {
        account: String,
        result: Result<FetchSummary, FetchError>,
    },
}

pub struct Worker {
    requests: Sender<Request>,
    events: Receiver<Event>,
    cancel: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Worker {
    /// Starts the worker thread; it opens the store when first asked to fetch.
    pub fn spawn(paths: Paths) -> Worker {
        let (requests, inbox) = mpsc::channel::<Request>();
        let (outbox, events) = mpsc::channel::<Event>();
        let cancel = Arc::new(AtomicBool::new(false));
        let flag = cancel.clone();
        let thread = thread::Builder::new()
            .name("pipit-worker".into())
            .spawn(move || run(&paths, &inbox, &outbox, &flag))
            .expect("cannot start the worker thread");
        Worker {
            requests,
            events,
            cancel,
            thread: Some(thread),
        }
    }

    pub fn fetch(&self, account: Account, password: PasswordSource) {
        self.cancel.store(false, Ordering::Relaxed);
        let _ = self.requests.send(Request::Fetch {
            account: Box::new(account),
            password,
        });
    }

    /// Stops the fetch under way at the next reply; nothing stored is lost and
    /// nothing is deleted on the server (no QUIT is sent).
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    /// The events so far, without waiting.
    pub fn events(&self) -> &Receiver<Event> {
        &self.events
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.cancel();
        let _ = self.requests.send(Request::Shutdown);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn run(paths: &Paths, inbox: &Receiver<Request>, outbox: &Sender<Event>, cancel: &AtomicBool) {
    let mut store: Option<Store> = None;
    while let Ok(request) = inbox.recv() {
        let (account, source) = match request {
            Request::Shutdown => return,
            Request::Fetch { account, password } => (account, password),
        };
        let result = (|| {
            let password = source.password()?;
            if store.is_none() {
                store = Some(Store::open(&paths.store)?);
            }
            let store = store.as_mut().expect("opened above");
            sync::fetch(&account, &password, store, &paths.locks, cancel, &mut |p| {
                let _ = outbox.send(Event::Progress(p));
            })
        })();
        let _ = outbox.send(Event::Finished {
            account: account.name.clone(),
            result,
        });
    }
}
