//! The only place with egui: the window. It talks to the fetch worker and to
//! its own store thread through channels, so it never waits on the network
//! or on a query; background threads wake it with `request_repaint`.

mod account_dialog;
mod commands;
mod library;
mod list;
mod reader;
mod sidebar;
mod viewer;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use crate::config::{Account, Config};
use crate::net::NetError;
use crate::paths::Paths;
use crate::store::Summary;
use crate::sync::{FetchError, Progress};
use crate::worker::{Event, Notify, Worker};

pub use account_dialog::AccountDraft;
pub use commands::UiCommand;
use library::{Answer, Library, Opened, Query};
pub use library::{Column, Sort, View};
pub use viewer::Viewer;

/// How the window starts.
#[derive(Clone, Debug, Default)]
pub struct Startup {
    /// Get Mail as soon as the window is up (the demo does).
    pub fetch_now: bool,
    /// Words added to the window's title ("demo").
    pub title_note: Option<String>,
}

fn native_options(title: &str) -> eframe::NativeOptions {
    let mut viewport = egui::ViewportBuilder::default()
        .with_title(title)
        .with_app_id("pipit")
        .with_inner_size([1200.0, 760.0])
        .with_min_inner_size([640.0, 400.0]);
    if let Ok(icon) =
        eframe::icon_data::from_png_bytes(include_bytes!("../../assets/icons/pipit-256.png"))
    {
        viewport = viewport.with_icon(std::sync::Arc::new(icon));
    }
    eframe::NativeOptions {
        viewport,
        ..eframe::NativeOptions::default()
    }
}

/// Opens the window; returns when it is closed.
pub fn run(paths: Paths, startup: Startup) -> Result<(), String> {
    let title = match &startup.title_note {
        Some(note) => format!("Pipit ({note})"),
        None => "Pipit".to_string(),
    };
    eframe::run_native(
        &title,
        native_options(&title),
        Box::new(move |cc| {
            let mut app = PipitApp::new(paths, Some(cc.egui_ctx.clone()));
            if startup.fetch_now {
                app.get_mail();
            }
            Ok(Box::new(app))
        }),
    )
    .map_err(|e| format!("cannot open the window: {e}"))
}

/// Shows one message file in a window of its own.
pub fn open_file(path: &std::path::Path) -> Result<(), String> {
    let viewer = Viewer::load(path)?;
    let title = format!(
        "{} — Pipit",
        path.file_name()
            .map_or("message".into(), |n| n.to_string_lossy())
    );
    eframe::run_native(
        &title,
        native_options(&title),
        Box::new(move |_| Ok(Box::new(viewer))),
    )
    .map_err(|e| format!("cannot open the window: {e}"))
}

/// A message shown at the top of the window until dismissed.
#[derive(Clone, Debug)]
pub struct Banner {
    pub error: bool,
    pub text: String,
    pub detail: Option<String>,
    /// The account whose password was refused, to offer re-entering it.
    pub wrong_password: Option<String>,
}

/// What the reader shows for the selected message.
#[derive(Clone, Debug)]
pub enum Reading {
    Loading,
    /// Shared, not copied, with each frame that draws it: attachments can be megabytes.
    Ready(Arc<Opened>),
    Failed(String),
}

/// A TOP preview of a message still on the server.
#[derive(Clone, Debug)]
pub enum Preview {
    Loading,
    Ready(String),
    Failed(String),
}

pub struct PipitApp {
    paths: Paths,
    pub config: Config,
    worker: Worker,
    library: Library,
    ctx: Arc<OnceLock<egui::Context>>,

    pub view: View,
    pub search: String,
    pub sort: Sort,
    pub rows: Vec<Summary>,
    generation: u64,
    pub rows_loaded: bool,
    pub selected: Option<i64>,
    pub reading: Option<Reading>,
    pub previews: HashMap<i64, Preview>,

    /// Accounts being fetched, and the newest progress of each.
    pub fetching: HashSet<String>,
    pub progress: HashMap<String, Progress>,
    pub banner: Option<Banner>,
    /// Where Save… and Open put attachments.
    pub attachment_folders: crate::attachment::Folders,
    /// A short word on the last change ("Moved to Trash").
    pub notice: Option<String>,
    pub account_dialog: Option<AccountDraft>,
    /// Account whose password is being entered again.
    pub password_dialog: Option<(String, String)>,
    last_check: HashMap<String, Instant>,
    focus_search: bool,
    scroll_to_selected: bool,
}

impl PipitApp {
    /// The window's state. `ctx` may be given now (eframe) or is picked up
    /// on the first frame (tests).
    pub fn new(paths: Paths, ctx: Option<egui::Context>) -> PipitApp {
        let slot: Arc<OnceLock<egui::Context>> = Arc::new(OnceLock::new());
        if let Some(ctx) = ctx {
            let _ = slot.set(ctx);
        }
        let wake = slot.clone();
        let notify: Notify = Arc::new(move || {
            if let Some(ctx) = wake.get() {
                ctx.request_repaint();
            }
        });
        let (config, banner) = match Config::load(&paths.config) {
            Ok(c) => (c, None),
            Err(e) => (
                Config::default(),
                Some(Banner {
                    error: true,
                    text: "The account settings could not be read".into(),
                    detail: Some(e.to_string()),
                    wrong_password: None,
                }),
            ),
        };
        let first_start = config.accounts.is_empty() && banner.is_none();
        let mut app = PipitApp {
            worker: Worker::spawn_notifying(paths.clone(), notify.clone()),
            library: Library::spawn(paths.store.clone(), notify),
            paths,
            config,
            ctx: slot,
            view: View::All,
            search: String::new(),
            sort: Sort::default(),
            rows: Vec::new(),
            generation: 0,
            rows_loaded: false,
            selected: None,
            reading: None,
            previews: HashMap::new(),
            fetching: HashSet::new(),
            progress: HashMap::new(),
            banner,
            attachment_folders: crate::attachment::Folders::default(),
            notice: None,
            account_dialog: first_start.then(|| AccountDraft::new(true)),
            password_dialog: None,
            last_check: HashMap::new(),
            focus_search: false,
            scroll_to_selected: false,
        };
        app.reload();
        app
    }

    /// Draws the whole window. Called by eframe each frame, and by tests.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        let _ = self.ctx.set(ctx.clone());
        self.drain_events();
        self.automatic_checks(&ctx);
        for command in UiCommand::pressed(&ctx) {
            self.run_command(command);
        }

        egui::Panel::top("toolbar").show(ui, |ui| self.ui_toolbar(ui));
        egui::Panel::bottom("status").show(ui, |ui| self.ui_status(ui));
        egui::Panel::left("views")
            .resizable(true)
            .default_size(190.0)
            .show(ui, |ui| sidebar::ui(ui, self));
        egui::Panel::right("reader")
            .resizable(true)
            .default_size(420.0)
            .min_size(280.0)
            .show(ui, |ui| reader::ui(ui, self));
        egui::CentralPanel::default_margins().show(ui, |ui| list::ui(ui, self));

        if self.account_dialog.is_some() {
            account_dialog::ui(&ctx, self);
        }
        if self.password_dialog.is_some() {
            account_dialog::ui_password(&ctx, self);
        }
    }

    fn ui_toolbar(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            let busy = !self.fetching.is_empty();
            let get = ui
                .add_enabled(
                    !busy && !self.config.accounts.is_empty(),
                    egui::Button::new(UiCommand::GetMail.label()),
                )
                .on_hover_text(UiCommand::GetMail.tooltip());
            if get.clicked() {
                self.run_command(UiCommand::GetMail);
            }
            let in_trash = self.view == View::Trash;
            let has_selection = self.selected.is_some();
            if in_trash {
                if ui
                    .add_enabled(has_selection, egui::Button::new(UiCommand::Restore.label()))
                    .on_hover_text(UiCommand::Restore.tooltip())
                    .clicked()
                {
                    self.run_command(UiCommand::Restore);
                }
                if ui
                    .add_enabled(
                        !self.rows.is_empty(),
                        egui::Button::new(UiCommand::EmptyTrash.label()),
                    )
                    .on_hover_text(UiCommand::EmptyTrash.tooltip())
                    .clicked()
                {
                    self.run_command(UiCommand::EmptyTrash);
                }
            } else if ui
                .add_enabled(has_selection, egui::Button::new(UiCommand::Delete.label()))
                .on_hover_text(UiCommand::Delete.tooltip())
                .clicked()
            {
                self.run_command(UiCommand::Delete);
            }
            ui.separator();
            let label = ui.label("Search");
            let search = ui
                .add(
                    egui::TextEdit::singleline(&mut self.search)
                        .hint_text("sender, subject, text…")
                        .desired_width(280.0),
                )
                .labelled_by(label.id)
                .on_hover_text(UiCommand::Search.tooltip());
            if self.focus_search {
                search.request_focus();
                self.focus_search = false;
            }
            if search.changed() {
                self.reload();
            }
        });
    }

    fn ui_status(&mut self, ui: &mut egui::Ui) {
        if let Some(banner) = self.banner.clone() {
            let color = if banner.error {
                ui.visuals().error_fg_color
            } else {
                ui.visuals().text_color()
            };
            ui.horizontal_wrapped(|ui| {
                ui.colored_label(color, &banner.text);
                if let Some(account) = &banner.wrong_password
                    && ui.button("Enter the password again").clicked()
                {
                    self.password_dialog = Some((account.clone(), String::new()));
                }
                if ui.small_button("Dismiss").clicked() {
                    self.banner = None;
                }
            });
            if let Some(detail) = &banner.detail {
                egui::CollapsingHeader::new("Details")
                    .id_salt("banner-details")
                    .show(ui, |ui| {
                        ui.label(egui::RichText::new(detail).monospace());
                    });
            }
        }
        ui.horizontal(|ui| {
            if self.fetching.is_empty() {
                let count = self.rows.len();
                ui.label(format!(
                    "{count} message{}",
                    if count == 1 { "" } else { "s" }
                ));
                if let Some(notice) = &self.notice {
                    ui.weak(format!("· {notice}"));
                }
            } else {
                for account in &self.fetching {
                    let (fraction, text) = describe_progress(account, self.progress.get(account));
                    ui.add(
                        egui::ProgressBar::new(fraction)
                            .text(text)
                            .desired_width(360.0),
                    );
                }
                ui.spinner();
            }
        });
    }

    /// Carries out one command from a button, a key or a test.
    pub fn run_command(&mut self, command: UiCommand) {
        match command {
            UiCommand::GetMail => self.get_mail(),
            UiCommand::Delete => {
                if let Some(id) = self.selected {
                    self.move_selection_after_removing(id);
                    self.library.ask(Query::Trash(id));
                }
            }
            UiCommand::Restore => {
                if let Some(id) = self.selected {
                    self.move_selection_after_removing(id);
                    self.library.ask(Query::Restore(id));
                }
            }
            UiCommand::EmptyTrash => self.library.ask(Query::EmptyTrash),
            UiCommand::Search => self.focus_search = true,
            UiCommand::Next => self.step_selection(1),
            UiCommand::Previous => self.step_selection(-1),
            UiCommand::Open => {
                if let Some(id) = self.selected {
                    self.select(id);
                }
            }
            UiCommand::Escape => {
                if self.password_dialog.take().is_some() {
                } else if self.account_dialog.as_ref().is_some_and(|d| !d.first_start) {
                    self.account_dialog = None;
                } else if !self.search.is_empty() {
                    self.search.clear();
                    self.reload();
                }
            }
            UiCommand::AddAccount => self.account_dialog = Some(AccountDraft::new(false)),
        }
    }

    /// Starts a fetch of every account not already being fetched.
    pub fn get_mail(&mut self) {
        for account in self.config.accounts.clone() {
            self.fetch_account(&account);
        }
    }

    fn fetch_account(&mut self, account: &Account) {
        if self.fetching.insert(account.name.clone()) {
            self.last_check.insert(account.name.clone(), Instant::now());
            self.worker
                .fetch(account.clone(), account.password_source());
        }
    }

    /// Accounts with a check interval are fetched when it has passed.
    fn automatic_checks(&mut self, ctx: &egui::Context) {
        let mut soonest: Option<Duration> = None;
        for account in self.config.accounts.clone() {
            let Some(minutes) = account.check_every_minutes.filter(|m| *m > 0) else {
                continue;
            };
            let every = Duration::from_secs(u64::from(minutes) * 60);
            let since = self.last_check.get(&account.name).map(Instant::elapsed);
            match since {
                Some(since) if since < every => {
                    let left = every - since;
                    soonest = Some(soonest.map_or(left, |s| s.min(left)));
                }
                // Not yet checked in this run: start counting now, check at the interval.
                None => {
                    self.last_check.insert(account.name.clone(), Instant::now());
                    soonest = Some(soonest.map_or(every, |s| s.min(every)));
                }
                Some(_) => self.fetch_account(&account),
            }
        }
        if let Some(wait) = soonest {
            ctx.request_repaint_after(wait);
        }
    }

    /// Asks the store thread for the list again (view, search or sort changed).
    pub fn reload(&mut self) {
        self.generation += 1;
        self.library.ask(Query::List {
            generation: self.generation,
            view: self.view.clone(),
            search: self.search.clone(),
            sort: self.sort,
        });
    }

    pub fn set_view(&mut self, view: View) {
        if self.view != view {
            self.view = view;
            self.selected = None;
            self.reading = None;
            self.reload();
        }
    }

    pub fn set_sort(&mut self, column: Column) {
        self.sort = if self.sort.column == column {
            Sort {
                column,
                ascending: !self.sort.ascending,
            }
        } else {
            Sort {
                column,
                ascending: column != Column::Date && column != Column::Size,
            }
        };
        self.reload();
    }

    /// Selects a message and asks for its contents.
    pub fn select(&mut self, id: i64) {
        self.selected = Some(id);
        self.reading = Some(Reading::Loading);
        self.library.ask(Query::Open(id));
        if let Some(row) = self.rows.iter_mut().find(|r| r.id == id) {
            row.seen = true;
        }
    }

    fn step_selection(&mut self, step: isize) {
        if self.rows.is_empty() {
            return;
        }
        let at = self
            .selected
            .and_then(|id| self.rows.iter().position(|r| r.id == id));
        let next = match at {
            None => 0,
            Some(i) => (i as isize + step).clamp(0, self.rows.len() as isize - 1) as usize,
        };
        let id = self.rows[next].id;
        self.scroll_to_selected = true;
        self.select(id);
    }

    /// After a message leaves the list, the next one (or the previous) is selected.
    fn move_selection_after_removing(&mut self, id: i64) {
        let Some(i) = self.rows.iter().position(|r| r.id == id) else {
            return;
        };
        self.rows.remove(i);
        match self
            .rows
            .get(i)
            .or_else(|| i.checked_sub(1).and_then(|j| self.rows.get(j)))
        {
            Some(next) => {
                let next = next.id;
                self.select(next);
            }
            None => {
                self.selected = None;
                self.reading = None;
            }
        }
    }

    /// Fetches a TOP preview of a message still on the server.
    pub fn request_preview(&mut self, id: i64) {
        let Some(row) = self.rows.iter().find(|r| r.id == id) else {
            return;
        };
        let Ok(account) = self.config.account(&row.account) else {
            self.previews.insert(
                id,
                Preview::Failed(format!("the account {:?} is no longer set up", row.account)),
            );
            return;
        };
        self.previews.insert(id, Preview::Loading);
        self.worker
            .preview(account.clone(), account.password_source(), id, 20);
    }

    /// "Download": the next fetch takes the whole message, whatever its size.
    pub fn download(&mut self, id: i64) {
        self.library.ask(Query::RequestDownload(id));
        if let Some(account) = self
            .rows
            .iter()
            .find(|r| r.id == id)
            .map(|r| r.account.clone())
            && let Ok(account) = self.config.account(&account).cloned()
        {
            self.fetch_account(&account);
        }
    }

    /// "Delete on server": to Trash now, off the server at the next pass, which starts now.
    pub fn delete_on_server(&mut self, id: i64) {
        let account = self
            .rows
            .iter()
            .find(|r| r.id == id)
            .map(|r| r.account.clone());
        self.move_selection_after_removing(id);
        self.library.ask(Query::Trash(id));
        if let Some(account) = account
            && let Ok(account) = self.config.account(&account).cloned()
        {
            self.fetch_account(&account);
        }
    }

    /// Takes in everything the worker and the store thread have said.
    fn drain_events(&mut self) {
        while let Ok(answer) = self.library.answers.try_recv() {
            match answer {
                Answer::Rows { generation, rows } if generation == self.generation => match rows {
                    Ok(rows) => {
                        self.rows = rows;
                        self.rows_loaded = true;
                    }
                    Err(e) => self.show_error("The message list could not be read", e),
                },
                Answer::Rows { .. } => {}
                Answer::Opened { id, result } if Some(id) == self.selected => {
                    self.reading = Some(match result {
                        Ok(opened) => Reading::Ready(opened),
                        Err(e) => Reading::Failed(e),
                    });
                }
                Answer::Opened { .. } => {}
                Answer::Changed { what } => {
                    self.notice = Some(what);
                    self.reload();
                }
                Answer::Failed(e) => self.show_error("The mail store reported a problem", e),
            }
        }
        while let Ok(event) = self.worker.events().try_recv() {
            match event {
                Event::Progress(p) => {
                    // New headers and bodies show up in the list as they arrive.
                    if matches!(p, Progress::Headers { .. } | Progress::Listed { .. })
                        || matches!(&p, Progress::Downloaded { done, of, .. } if done == of || done % 50 == 0)
                    {
                        self.reload();
                    }
                    let account = progress_account(&p).to_string();
                    self.progress.insert(account, p);
                }
                Event::Finished { account, result } => {
                    self.fetching.remove(&account);
                    self.progress.remove(&account);
                    self.reload();
                    match result {
                        Ok(summary) if summary.errors.is_empty() => {
                            self.banner = (summary.new > 0 || summary.deleted_on_server > 0).then(|| Banner {
                                error: false,
                                text: format!(
                                    "{account}: {} new, {} downloaded, {} deleted on the server",
                                    summary.new, summary.downloaded, summary.deleted_on_server
                                ),
                                detail: (!summary.notes.is_empty()).then(|| summary.notes.join("\n")),
                                wrong_password: None,
                            });
                        }
                        Ok(summary) => {
                            self.banner = Some(Banner {
                                error: true,
                                text: format!(
                                    "{account}: {} messages could not be fetched",
                                    summary.errors.len()
                                ),
                                detail: Some(summary.errors.join("\n")),
                                wrong_password: None,
                            });
                        }
                        Err(e) => {
                            let wrong_password = matches!(e, FetchError::AuthRefused { .. })
                                .then(|| account.clone());
                            self.banner = Some(Banner {
                                error: true,
                                text: format!("{account}: {}", headline(&e)),
                                detail: Some(e.to_string()),
                                wrong_password,
                            });
                        }
                    }
                }
                Event::Preview { id, result } => {
                    self.previews.insert(
                        id,
                        match result {
                            Ok(bytes) => {
                                Preview::Ready(String::from_utf8_lossy(&bytes).into_owned())
                            }
                            Err(e) => Preview::Failed(e.to_string()),
                        },
                    );
                }
                Event::Tested { account, result } => account_dialog::tested(self, &account, result),
            }
        }
    }

    fn show_error(&mut self, text: &str, detail: String) {
        self.banner = Some(Banner {
            error: true,
            text: text.into(),
            detail: Some(detail),
            wrong_password: None,
        });
    }

    fn save_config(&mut self) -> Result<(), String> {
        self.config
            .save(&self.paths.config)
            .map_err(|e| e.to_string())
    }

    pub fn worker(&self) -> &Worker {
        &self.worker
    }
}

impl eframe::App for PipitApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        PipitApp::ui(self, ui);
    }
}

fn progress_account(p: &Progress) -> &str {
    match p {
        Progress::Connecting { account, .. }
        | Progress::Connected { account }
        | Progress::Authenticated { account }
        | Progress::Listed { account, .. }
        | Progress::Headers { account, .. }
        | Progress::Downloaded { account, .. }
        | Progress::Deleting { account, .. } => account,
    }
}

/// The progress bar's fill and words.
fn describe_progress(account: &str, p: Option<&Progress>) -> (f32, String) {
    match p {
        None | Some(Progress::Connecting { .. }) => (0.0, format!("{account}: connecting…")),
        Some(Progress::Connected { .. }) => (0.0, format!("{account}: logging in…")),
        Some(Progress::Authenticated { .. }) => (0.0, format!("{account}: listing…")),
        Some(Progress::Listed { new, total, .. }) => {
            (0.0, format!("{account}: {new} new of {total}"))
        }
        Some(Progress::Headers { done, of, .. }) => (
            *done as f32 / (*of).max(1) as f32,
            format!("{account}: headers {done} of {of}"),
        ),
        Some(Progress::Downloaded {
            done, of, bytes, ..
        }) => (
            *done as f32 / (*of).max(1) as f32,
            format!(
                "{account}: {done} of {of} messages, {}",
                crate::cli::human_bytes(*bytes)
            ),
        ),
        Some(Progress::Deleting { count, .. }) => {
            (1.0, format!("{account}: deleting {count} on the server…"))
        }
    }
}

/// The first words of an error, for the banner; the whole text is in Details.
fn headline(e: &FetchError) -> String {
    match e {
        FetchError::AuthRefused { .. } => "the server refused the password".into(),
        FetchError::Net(NetError::Certificate(_)) => {
            "the server's certificate is not trusted".into()
        }
        FetchError::Net(NetError::Timeout { .. } | NetError::Unanswered { .. }) => {
            "the server did not answer".into()
        }
        FetchError::Net(NetError::Resolve { .. } | NetError::Connect { .. }) => {
            "the server could not be reached".into()
        }
        other => other
            .to_string()
            .lines()
            .next()
            .unwrap_or_default()
            .to_string(),
    }
}
