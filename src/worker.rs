//! The thread that runs fetch passes. One request enum in, one event enum
//! out: the CLI and the window are both just listeners, and neither waits on
//! the network. One-shot jobs (a TOP preview, "Test connection") each run
//! on a thread of their own and answer with a `poll_promise::Promise`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};

use crate::config::Account;
use crate::failpoint;
use crate::oauth;
use crate::paths::Paths;
use crate::secrets::{Password, PasswordSource, SecretError};
use crate::store::Store;
use crate::sync::{self, FetchError, FetchSummary, Progress, ServerInfo};

pub use poll_promise::Promise;

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

/// Called after each event is sent, so a window can wake up and look.
pub type Notify = Arc<dyn Fn() + Send + Sync>;

/// One gate per account name, held by whatever talks to that account's
/// server in this process: a preview asked for during a fetch waits for the
/// fetch to end instead of failing on the account's lock file, which the
/// fetch of this very Pipit holds.
#[derive(Clone, Default)]
struct Gates(Arc<Mutex<HashMap<String, Arc<Mutex<()>>>>>);

impl Gates {
    fn of(&self, account: &str) -> Arc<Mutex<()>> {
        let mut gates = self.0.lock().unwrap_or_else(|e| e.into_inner());
        gates.entry(account.to_string()).or_default().clone()
    }
}

pub struct Worker {
    paths: Paths,
    notify: Notify,
    gates: Gates,
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
        let gates = Gates::default();
        let (run_paths, run_notify, run_gates) = (paths.clone(), notify.clone(), gates.clone());
        let thread = thread::Builder::new()
            .name("pipit-worker".into())
            .spawn(move || run(&run_paths, &inbox, &outbox, &flag, &run_gates, &*run_notify))
            .expect("cannot start the worker thread");
        Worker {
            paths,
            notify,
            gates,
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

    /// The header block and first `lines` lines of message `id`, still on
    /// the server (TOP), on a thread of its own. During a fetch of the same
    /// account it waits for the fetch to end, then asks the server.
    pub fn preview(
        &self,
        account: Account,
        password: PasswordSource,
        id: i64,
        lines: u32,
    ) -> Promise<Result<Vec<u8>, FetchError>> {
        let paths = self.paths.clone();
        let gate = self.gates.of(&account.name);
        self.one_shot("pipit-preview", move || {
            guarded("the preview", || {
                let _turn = gate.lock().unwrap_or_else(|e| e.into_inner());
                let password = password.password()?;
                let store = Store::open(&paths.store)?;
                sync::preview(&account, &password, &store, &paths.locks, id, lines)
            })
        })
    }

    /// Logs in and out with `account`'s settings, on a thread of its own.
    pub fn test_connection(
        &self,
        account: Account,
        password: PasswordSource,
    ) -> Promise<Result<ServerInfo, FetchError>> {
        self.one_shot("pipit-test", move || {
            guarded("the connection test", || {
                let password = password.password()?;
                sync::test_connection(&account, &password)
            })
        })
    }

    /// Examines `account`'s server, read-only (`crate::doctor`), on a
    /// thread of its own. During a fetch of the same account it waits for
    /// the fetch to end: the server would refuse a second login meanwhile.
    pub fn doctor(
        &self,
        account: Account,
        password: PasswordSource,
    ) -> Promise<Result<crate::doctor::Report, FetchError>> {
        let gate = self.gates.of(&account.name);
        self.one_shot("pipit-doctor", move || {
            guarded("the server check", || {
                let _turn = gate.lock().unwrap_or_else(|e| e.into_inner());
                let password = password.password()?;
                let policy = account.policy;
                Ok(crate::doctor::examine(&account, &password, Some(policy)))
            })
        })
    }

    /// Signs `account` in with OAuth2 and logs in with the token, on a
    /// thread of its own: what to show the user meanwhile appears in the
    /// job's prompt. Nothing is saved; the caller saves the grant with the
    /// account (`setup::add_signed_in`) or in place of the old one.
    /// `open` hands the sign-in page's address to a browser.
    pub fn sign_in(
        &self,
        account: Account,
        flow: oauth::Flow,
        open: impl Fn(&str) -> Result<(), String> + Send + Sync + 'static,
    ) -> SignInJob {
        let cancel = Arc::new(AtomicBool::new(false));
        let prompt = Arc::new(Mutex::new(None));
        let (job_cancel, job_prompt, notify) =
            (cancel.clone(), prompt.clone(), self.notify.clone());
        let result = self.one_shot("pipit-sign-in", move || {
            guarded("the sign-in", || {
                let open = Arc::new(open);
                let mut show = |p: oauth::Prompt<'_>| {
                    let shown = match p {
                        oauth::Prompt::Browser { url } => {
                            // The opener may take seconds to answer, and the
                            // browser's answer must find Pipit listening:
                            // it runs beside the sign-in.
                            let (open, prompt, notify) =
                                (open.clone(), job_prompt.clone(), notify.clone());
                            let url = url.to_string();
                            let opening = url.clone();
                            let _ = thread::Builder::new()
                                .name("pipit-open-browser".into())
                                .spawn(move || {
                                    let opened = open(&opening);
                                    if let Some(SignInPrompt::Browser { opened: slot, .. }) =
                                        &mut *prompt.lock().unwrap_or_else(|e| e.into_inner())
                                    {
                                        *slot = Some(opened);
                                    }
                                    notify();
                                });
                            SignInPrompt::Browser { url, opened: None }
                        }
                        oauth::Prompt::Device(code) => SignInPrompt::Device(code.clone()),
                    };
                    *job_prompt.lock().unwrap_or_else(|e| e.into_inner()) = Some(shown);
                    notify();
                };
                let grant = oauth::sign_in(&account, flow, &mut show, job_cancel)
                    .map_err(|e| FetchError::Password(SecretError::SignIn(Box::new(e))))?;
                let token = Password::new(grant.access_token.clone());
                let info = sync::test_connection(&account, &token)?;
                Ok(SignedIn { grant, info })
            })
        });
        SignInJob {
            result,
            prompt,
            cancel: CancelOnDrop(cancel),
        }
    }

    /// Runs `job` on a thread of its own; its promise is kept when it ends,
    /// and then whoever waits is woken.
    fn one_shot<T: Send + 'static>(
        &self,
        name: &str,
        job: impl FnOnce() -> Result<T, FetchError> + Send + 'static,
    ) -> Promise<Result<T, FetchError>> {
        one_shot(name, self.notify.clone(), job)
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
    gates: &Gates,
    notify: &(dyn Fn() + Sync),
) {
    let send = |event: Event| {
        let _ = outbox.send(event);
        notify();
    };
    // Fetches run side by side, one thread and one store connection each (the
    // account lock keeps one account to one fetch).
    thread::scope(|scope| {
        while let Ok(request) = inbox.recv() {
            match request {
                Request::Shutdown => return,
                Request::Fetch { account, password } => {
                    let send = &send;
                    let name = account.name.clone();
                    let gate = gates.of(&name);
                    let spawned = thread::Builder::new()
                        .name(format!("pipit-fetch-{}", account.name))
                        .spawn_scoped(scope, move || {
                            let result = guarded("the fetch", || {
                                let _turn = gate.lock().unwrap_or_else(|e| e.into_inner());
                                failpoint::hit(&format!("fetch:{}", account.name));
                                let mut store = Store::open(&paths.store)?;
                                let mut fetch = |password: &Password| {
                                    sync::fetch(
                                        &account,
                                        password,
                                        &mut store,
                                        &paths.locks,
                                        cancel,
                                        &mut |p| send(Event::Progress(p)),
                                    )
                                };
                                match fetch(&password.password()?) {
                                    // A token refused before its time: once
                                    // more with a renewed one.
                                    Err(FetchError::TokenRefused { .. }) if password.renew() => {
                                        fetch(&password.password()?)
                                    }
                                    result => result,
                                }
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

/// Runs `job` on a thread of its own and keeps its promise with the result
/// (or with an error if no thread could be started), then calls `notify`.
pub fn one_shot<T: Send + 'static>(
    name: &str,
    notify: Notify,
    job: impl FnOnce() -> Result<T, FetchError> + Send + 'static,
) -> Promise<Result<T, FetchError>> {
    spawn_promise(name, notify, job, |e| {
        Err(FetchError::Internal(format!("cannot start a thread: {e}")))
    })
}

/// A sign-in under way in the window.
pub struct SignInJob {
    pub result: Promise<Result<SignedIn, FetchError>>,
    /// What the user is asked to do, once the sign-in has got that far.
    pub prompt: Arc<Mutex<Option<SignInPrompt>>>,
    cancel: CancelOnDrop,
}

impl SignInJob {
    /// Stops waiting for the user; the job ends with "cancelled".
    pub fn cancel(&self) {
        self.cancel.0.store(true, Ordering::Relaxed);
    }

    pub fn prompt(&self) -> Option<SignInPrompt> {
        self.prompt
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

/// Sets its flag when dropped: a job nobody waits for any more (a sign-in,
/// a lookup) stops.
pub struct CancelOnDrop(pub Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// What the window shows while a sign-in waits for the user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SignInPrompt {
    /// The browser was asked to open this address (and whether it could,
    /// once the opener has answered).
    Browser {
        url: String,
        opened: Option<Result<(), String>>,
    },
    /// The user is to enter this code at this address.
    Device(oauth::device::DeviceCode),
}

/// A sign-in that worked, with the server's answer to a login with it.
pub struct SignedIn {
    pub grant: oauth::Grant,
    pub info: ServerInfo,
}

/// Runs `job` on a thread of its own; its promise is kept with what it
/// returns, and then `notify` wakes whoever waits (a window's repaint). If
/// no thread can be started, the promise is kept with `failed`'s answer.
pub fn spawn_promise<T: Send + 'static, F: FnOnce() -> T + Send + 'static>(
    name: &str,
    notify: Notify,
    job: F,
    failed: impl FnOnce(std::io::Error) -> T,
) -> Promise<T> {
    let (sender, promise) = Promise::new();
    let shared = Arc::new(Mutex::new(Some((sender, job))));
    let in_thread = shared.clone();
    let spawned = thread::Builder::new().name(name.into()).spawn(move || {
        let taken = in_thread.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some((sender, job)) = taken {
            sender.send(job());
            notify();
        }
    });
    if let Err(e) = spawned
        && let Some((sender, _)) = shared.lock().unwrap_or_else(|e| e.into_inner()).take()
    {
        sender.send(failed(e));
    }
    promise
}
