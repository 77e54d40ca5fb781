//! The thread that runs fetch passes. One request enum in, one event enum
//! out: the CLI and the window are both just listeners, and neither waits on
//! the network.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::{self, JoinHandle};

use crate::config::Account;
use crate::failpoint;
use crate::paths::Paths;
use crate::secrets::PasswordSource;
use crate::store::Store;
use crate::sync::{self, FetchError, FetchSummary, Progress, ServerInfo};

/// What the worker is asked to do.
pub enum Request {
    /// One fetch of one account.
    Fetch {
        account: Box<Account>,
        password: PasswordSource,
    },
    /// The headers and first lines of a message still on the server (TOP).
    Preview {
        account: Box<Account>,
        password: PasswordSource,
        id: i64,
        lines: u32,
    },
    /// Log in and out, to prove an account's settings.
    TestConnection {
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
    /// A preview came back (or failed).
    Preview {
        id: i64,
        result: Result<Vec<u8>, FetchError>,
    },
    /// "Test connection" ended.
    Tested {
        account: String,
        result: Result<ServerInfo, FetchError>,
    },
}

/// Called after each event is sent, so a window can wake up and look.
pub type Notify = Arc<dyn Fn() + Send + Sync>;

pub struct Worker {
    requests: Sender<Request>,
    events: Receiver<Event>,
    cancel: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Worker {
    /// Starts the worker thread; it opens the store when first asked to fetch.
    pub fn spawn(paths: Paths) -> Worker {
        Worker::spawn_notifying(paths, Arc::new(|| {}))
    }

    /// Like [`Worker::spawn`], calling `notify` after every event.
    pub fn spawn_notifying(paths: Paths, notify: Notify) -> Worker {
        let (requests, inbox) = mpsc::channel::<Request>();
        let (outbox, events) = mpsc::channel::<Event>();
        let cancel = Arc::new(AtomicBool::new(false));
        let flag = cancel.clone();
        let thread = thread::Builder::new()
            .name("pipit-worker".into())
            .spawn(move || run(&paths, &inbox, &outbox, &flag, &*notify))
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

    pub fn preview(&self, account: Account, password: PasswordSource, id: i64, lines: u32) {
        let _ = self.requests.send(Request::Preview {
            account: Box::new(account),
            password,
            id,
            lines,
        });
    }

    pub fn test_connection(&self, account: Account, password: PasswordSource) {
        let _ = self.requests.send(Request::TestConnection {
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

fn run(
    paths: &Paths,
    inbox: &Receiver<Request>,
    outbox: &Sender<Event>,
    cancel: &AtomicBool,
    notify: &(dyn Fn() + Sync),
) {
    let send = |event: Event| {
        let _ = outbox.send(event);
        notify();
    };
    // Fetches run side by side, one thread and one store connection each (the
    // account lock keeps one account to one fetch); the rest run here in turn.
    thread::scope(|scope| {
        let mut store: Option<Store> = None;
        while let Ok(request) = inbox.recv() {
            match request {
                Request::Shutdown => return,
                Request::Fetch { account, password } => {
                    let send = &send;
                    let name = account.name.clone();
                    let spawned = thread::Builder::new()
                        .name(format!("pipit-fetch-{}", account.name))
                        .spawn_scoped(scope, move || {
                            let result = guarded("the fetch", || {
                                failpoint::hit(&format!("fetch:{}", account.name));
                                let password = password.password()?;
                                let mut store = Store::open(&paths.store)?;
                                sync::fetch(
                                    &account,
                                    &password,
                                    &mut store,
                                    &paths.locks,
                                    cancel,
                                    &mut |p| {
                                        send(Event::Progress(p));
                                    },
                                )
                            });
                            send(Event::Finished {
                                account: account.name.clone(),
                                result,
                            });
                        });
                    if let Err(e) = spawned {
                        send(Event::Finished {
                            account: name,
                            result: Err(FetchError::Setup(format!(
                                "cannot start a fetch thread: {e}"
                            ))),
                        });
                    }
                }
                Request::Preview {
                    account,
                    password,
                    id,
                    lines,
                } => {
                    let result = guarded("the preview", || {
                        let password = password.password()?;
                        let store = open_store(&mut store, paths)?;
                        sync::preview(&account, &password, store, &paths.locks, id, lines)
                    });
                    send(Event::Preview { id, result });
                }
                Request::TestConnection { account, password } => {
                    let result = guarded("the connection test", || {
                        let password = password.password()?;
                        sync::test_connection(&account, &password)
                    });
                    send(Event::Tested {
                        account: account.name.clone(),
                        result,
                    });
                }
            }
        }
    });
}

/// Runs `work`; a panic in it becomes an internal error naming `what`, so
/// whoever waits for the result hears of it (a window's Get Mail never stays
/// disabled), and the worker lives on. Nothing is deleted after a panic: the
/// session it cut short never reached QUIT.
fn guarded<T>(what: &str, work: impl FnOnce() -> Result<T, FetchError>) -> Result<T, FetchError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).unwrap_or_else(|panic| {
        Err(FetchError::Internal(format!(
            "{what} stopped unexpectedly ({})",
            failpoint::panic_text(&*panic)
        )))
    })
}

fn open_store<'a>(
    store: &'a mut Option<Store>,
    paths: &Paths,
) -> Result<&'a mut Store, FetchError> {
    if store.is_none() {
        *store = Some(Store::open(&paths.store)?);
    }
    Ok(store.as_mut().expect("opened above"))
}
