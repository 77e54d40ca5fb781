//! The only place with egui: the window. It talks to the fetch worker and to
//! its own store thread through channels (streams of progress and answers),
//! and runs each one-shot job (a preview, a connection test, a keychain
//! write, an attachment saved) on a thread of its own behind a
//! `poll_promise::Promise`, so it never waits on the network, D-Bus or the
//! disk; background threads wake it with `request_repaint`.

mod account_dialog;
mod address_step;
mod check_server;
mod commands;
mod dialogs;
mod fonts;
mod html_view;
mod inventory;
mod layout;
mod library;
mod list;
mod reader;
mod rows;
mod rules_dialog;
mod sidebar;
mod sign_in;
mod viewer;
mod words;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use crate::config::{Account, Config};
use crate::paths::Paths;
use crate::store::{MessageState, Summary};
use crate::sync::{FetchError, FetchSummary, Progress};
use crate::worker::{Event, Notify, Promise, Worker};

pub use crate::sync::inventory::Kind;
pub use account_dialog::{AccountDraft, Field};
pub use check_server::CheckRun;
pub use commands::UiCommand;
pub use dialogs::{Confirm, LinkAsk};
pub use layout::{Appearance, Layout};
pub use library::InventoryRow;
use library::{Answer, Library, Listing, Query};
pub use library::{Column, Opened, Sort, View};
pub use rows::Rows;
pub use viewer::Viewer;
pub use words::Said;

/// How the window starts.
#[derive(Clone, Debug, Default)]
pub struct Startup {
    /// Get Mail as soon as the window is up (the demo does).
    pub fetch_now: bool,
    /// Words added to the window's title ("demo").
    pub title_note: Option<String>,
}

fn native_options(title: &str, size: [f32; 2]) -> eframe::NativeOptions {
    let mut viewport = egui::ViewportBuilder::default()
        .with_title(title)
        .with_app_id("pipit")
        .with_inner_size(size)
        .with_min_inner_size(layout::MIN_WINDOW);
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
    let size = Layout::load(&paths.config).window;
    eframe::run_native(
        &title,
        native_options(&title, size),
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

/// Shows one message file in a window of its own, with the look and zoom
/// of the profile's main window.
pub fn open_file(path: &std::path::Path, paths: &Paths) -> Result<(), String> {
    let viewer = Viewer::load(path)?.on_profile(paths);
    let title = format!(
        "{} — Pipit",
        path.file_name()
            .map_or("message".into(), |n| n.to_string_lossy())
    );
    eframe::run_native(
        &title,
        native_options(&title, [900.0, 700.0]),
        Box::new(move |cc| {
            fonts::install(&cc.egui_ctx);
            Ok(Box::new(viewer))
        }),
    )
    .map_err(|e| format!("cannot open the window: {e}"))
}

/// A message shown at the bottom of the window until dismissed.
#[derive(Clone, Debug, Default)]
pub struct Banner {
    pub error: bool,
    pub text: String,
    pub detail: Option<String>,
    /// What the footer offers to mend each failed account's fetch: the
    /// password, or the settings the failure's words point to.
    pub mend: Vec<(String, Mend)>,
    /// The accounts whose failed fetch this reports: saving new settings
    /// for one takes its part away.
    pub accounts: Vec<String>,
    /// A link that could not be opened, to offer copying it.
    pub link: Option<String>,
}

impl Banner {
    pub fn info(text: impl Into<String>) -> Banner {
        Banner {
            error: false,
            text: text.into(),
            detail: None,
            ..Banner::default()
        }
    }

    pub fn failure(said: &Said) -> Banner {
        Banner {
            error: true,
            text: said.line(),
            detail: Some(said.detail.clone()),
            ..Banner::default()
        }
    }
}

/// A short word on the last change ("Moved to Trash"), gone after a while.
#[derive(Clone, Debug)]
pub struct Notice {
    pub text: String,
    pub until: Instant,
}

/// How often, at most, a fetch's progress is drawn.
const PROGRESS_FRAME: Duration = Duration::from_millis(250);
/// How often, at most, the list is read again while a fetch stores mail.
const RELOAD_EVERY: Duration = Duration::from_secs(1);

/// A spinner for work that may take minutes (a fetch): drawn four times a
/// second with the progress, not in every frame the screen can show
/// (egui's asks for the next frame at once: under a software renderer each
/// frame costs tens of milliseconds of CPU).
pub(crate) fn calm_spinner(ui: &mut egui::Ui) -> egui::Response {
    let size = ui.style().spacing.interact_size.y;
    let (rect, response) = ui.allocate_exact_size(egui::vec2(size, size), egui::Sense::hover());
    response.widget_info(|| egui::WidgetInfo::new(egui::Role::ProgressIndicator));
    if ui.is_rect_visible(rect) {
        ui.ctx().request_repaint_after(PROGRESS_FRAME);
        let color = ui.visuals().strong_text_color();
        let radius = rect.height().min(rect.width()) * 0.5 - 2.0;
        let n = (radius.round() as u32).clamp(8, 128);
        let time = ui.input(|i| i.time);
        let start = time * std::f64::consts::TAU;
        let end = start + 240f64.to_radians() * time.sin();
        let points: Vec<egui::Pos2> = (0..n)
            .map(|i| {
                let angle = start + (end - start) * f64::from(i) / f64::from(n);
                let (sin, cos) = angle.sin_cos();
                rect.center() + radius * egui::vec2(cos as f32, sin as f32)
            })
            .collect();
        ui.painter()
            .add(egui::Shape::line(points, egui::Stroke::new(3.0, color)));
    }
    response
}

/// How long a notice stays in the footer.
pub const NOTICE_FOR: Duration = Duration::from_secs(6);

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
    Ready(Arc<Opened>),
    Failed(String),
}

/// How an account's last fetch in this run ended: kept until the next one
/// ends, and shown on its entry in the sidebar.
#[derive(Clone, Debug)]
pub enum Checked {
    Fine { new: usize, at: Instant },
    Failed { said: Said, mend: Option<Mend> },
}

/// The way from a failed fetch to its fix, offered as a button beside it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mend {
    /// Enter the password, kept in the keychain: the server refused it, or
    /// the keychain has none.
    Password { refused: bool },
    /// Sign in again: the OAuth2 sign-in expired or was revoked.
    SignIn,
    /// The account's settings, with this field in front.
    Settings(Option<Field>),
}

impl Mend {
    /// The way from `e` to its fix, for `account`.
    pub fn of(e: &FetchError, account: Option<&Account>) -> Option<Mend> {
        let command = account.is_some_and(|a| a.password_command.is_some());
        let signs_in = account.is_some_and(|a| a.oauth.is_some());
        Some(match e {
            FetchError::TokenRefused { .. } if signs_in => Mend::SignIn,
            FetchError::Password(crate::secrets::SecretError::SignIn(e)) if e.needs_sign_in() => {
                Mend::SignIn
            }
            FetchError::Password(crate::secrets::SecretError::SignIn(_)) => return None,
            FetchError::AuthRefused { .. } if command => {
                Mend::Settings(Some(Field::PasswordCommand))
            }
            FetchError::AuthRefused { .. } => Mend::Password { refused: true },
            FetchError::Password(crate::secrets::SecretError::NotInKeychain { .. }) => {
                Mend::Password { refused: false }
            }
            FetchError::Password(_) => Mend::Settings(Some(Field::PasswordCommand)),
            FetchError::Net(net) => {
                use crate::net::NetError as N;
                match net {
                    N::Resolve { .. } => Mend::Settings(Some(Field::Host)),
                    N::Connect { .. }
                    | N::Timeout { .. }
                    | N::Unanswered { .. }
                    | N::TooSlow { .. }
                    | N::Tls(_)
                    | N::TlsSetup(_)
                    | N::StlsUnavailable
                    | N::StlsRefused(_) => Mend::Settings(Some(Field::Port)),
                    N::Certificate(_) => Mend::Settings(None),
                    _ => return None,
                }
            }
            _ => return None,
        })
    }

    /// The button's words; `account` named when the footer speaks of several.
    pub fn label(self, account: Option<&str>) -> String {
        let of = account.map(|a| format!(" of {a}")).unwrap_or_default();
        match self {
            Mend::Password { refused: true } => format!("Enter the password{of} again"),
            Mend::Password { refused: false } => format!("Enter the password{of}…"),
            Mend::Settings(_) => format!("Fix the settings{of}…"),
            Mend::SignIn => format!("Sign in{of} again…"),
        }
    }
}

/// An account's fetch that ended in the current round of Get Mail.
#[derive(Clone, Debug)]
struct RoundResult {
    account: String,
    result: Result<FetchSummary, Said>,
}

/// A job whose result changes the window when it is ready.
type Apply = Box<dyn FnOnce(&mut PipitApp) + Send>;

pub struct PipitApp {
    paths: Paths,
    pub config: Config,
    worker: Worker,
    library: Library,
    ctx: Arc<OnceLock<egui::Context>>,
    notify: Notify,

    pub view: View,
    pub search: String,
    pub sort: Sort,
    /// The list: every message's place, and the rows near the screen.
    pub rows: Rows,
    /// The On server view's messages, every kind; `rows` holds those the
    /// filter lets through.
    pub inventory: Vec<InventoryRow>,
    /// The kind the On server view shows, or every kind.
    pub inventory_filter: Option<Kind>,
    /// Where in `inventory` the rows the filter lets through are, in the
    /// order chosen.
    inventory_shown: Vec<usize>,
    /// Oldest on the server first, or largest first.
    pub inventory_largest_first: bool,
    generation: u64,
    /// The generation of the list the rows are from.
    shown_generation: u64,
    pub rows_loaded: bool,
    pub selected: Option<i64>,
    pub reading: Option<Reading>,
    pub previews: HashMap<i64, Preview>,
    preview_jobs: HashMap<i64, Promise<Result<Vec<u8>, FetchError>>>,
    /// Messages whose Download was asked for, until their account's fetch ends.
    pub downloading: HashSet<i64>,
    /// Accounts to fetch again when their fetch ends: a Download was asked
    /// for while it ran, after it had planned what to download.
    fetch_again: HashSet<String>,

    /// Accounts being fetched, and the newest progress of each.
    pub fetching: HashSet<String>,
    pub progress: HashMap<String, Progress>,
    /// Each account's last result, until its next fetch ends.
    pub checked: HashMap<String, Checked>,
    round: Vec<RoundResult>,
    pub banner: Option<Banner>,
    /// Where Save… and Open put attachments; used on job threads.
    pub attachment_folders: Arc<Mutex<crate::attachment::Folders>>,
    pub notice: Option<Notice>,
    pub account_dialog: Option<AccountDraft>,
    /// Account whose password is being entered again.
    pub password_dialog: Option<account_dialog::PasswordDraft>,
    /// Signing in with OAuth2: a new account, or one whose sign-in ran out.
    pub sign_in_dialog: Option<sign_in::SignInDraft>,
    /// An account's rules before download, being edited.
    pub rules_dialog: Option<rules_dialog::RulesDraft>,
    /// A step that cannot be undone, waiting for the user's yes.
    pub confirm: Option<Confirm>,
    /// *Check server…*: the server doctor for one account, and its report.
    pub check_run: Option<CheckRun>,
    pub show_help: bool,
    /// Where a link would take the user, shown before the browser opens it.
    pub link: Option<LinkAsk>,
    jobs: Vec<Promise<Apply>>,
    last_check: HashMap<String, Instant>,
    focus_search: bool,
    /// The search changed: the selection stays only if the results hold it.
    selection_in_results: bool,
    pub(crate) focus_list: bool,
    /// A row of the list had the keyboard last frame: the list's keys
    /// (Space, Enter) are the list's, and the focus follows the selection.
    pub(crate) list_focused: bool,
    scroll_to_selected: bool,
    /// Page steps for the reader's text (Space, PageDown in the reader).
    pub(crate) reader_scroll: Option<f32>,
    pub layout: Layout,
    keeper: layout::Keeper,
    /// In a narrow window: the reader stands in for the list.
    pub reader_open: bool,
    pub narrow: bool,
    /// The keyboard moved the focus last: draw where it is.
    pub focus_visible: bool,
    /// The dialog on top, as of this frame's start.
    top_dialog: Option<dialogs::Dialog>,
    /// The top dialog came to the top this frame: it takes the focus.
    pub(crate) dialog_fresh: bool,
    /// Rows of mail the list drew this frame.
    pub drawn_rows: usize,
    /// A fetch stored mail the list does not show yet.
    reload_due: bool,
    last_reload: Instant,
    /// Light or dark as the desktop's portal prefers, for *Follow the
    /// system* where the window system does not say (X11).
    pub desktop_theme: Option<egui::Theme>,
}

impl PipitApp {
    /// The window's state. `ctx` may be given now (eframe) or is picked up
    /// on the first frame (tests).
    pub fn new(paths: Paths, ctx: Option<egui::Context>) -> PipitApp {
        let slot: Arc<OnceLock<egui::Context>> = Arc::new(OnceLock::new());
        if let Some(ctx) = ctx {
            fonts::install(&ctx);
            let _ = slot.set(ctx);
        }
        let wake = slot.clone();
        let notify: Notify = Arc::new(move || {
            if let Some(ctx) = wake.get() {
                ctx.request_repaint();
            }
        });
        // The fetch's progress comes in hundreds of events a second: the
        // window shows it four times a second, not once each.
        let wake = slot.clone();
        let progress: Notify = Arc::new(move || {
            if let Some(ctx) = wake.get() {
                ctx.request_repaint_after(PROGRESS_FRAME);
            }
        });
        let (config, banner) = match Config::load(&paths.config) {
            Ok(c) => (c, None),
            Err(e) => (
                Config::default(),
                Some(Banner {
                    error: true,
                    text: "The account settings could not be read. Fix or move the file the detail names, then start Pipit again.".into(),
                    detail: Some(e.to_string()),
                    ..Banner::default()
                }),
            ),
        };
        let first_start = config.accounts.is_empty() && banner.is_none();
        let layout = Layout::load(&paths.config);
        let mut app = PipitApp {
            worker: Worker::spawn_notifying(paths.clone(), progress),
            library: Library::spawn(paths.store.clone(), notify.clone()),
            keeper: layout::Keeper::new(&paths.config, layout.clone()),
            sort: layout.sort(),
            layout,
            paths,
            config,
            ctx: slot,
            notify,
            view: View::All,
            search: String::new(),
            rows: Rows::default(),
            inventory: Vec::new(),
            inventory_filter: None,
            inventory_shown: Vec::new(),
            inventory_largest_first: false,
            generation: 0,
            shown_generation: 0,
            rows_loaded: false,
            selected: None,
            reading: None,
            previews: HashMap::new(),
            preview_jobs: HashMap::new(),
            downloading: HashSet::new(),
            fetch_again: HashSet::new(),
            fetching: HashSet::new(),
            progress: HashMap::new(),
            checked: HashMap::new(),
            round: Vec::new(),
            banner,
            attachment_folders: Arc::default(),
            notice: None,
            account_dialog: first_start.then(AccountDraft::first_start),
            password_dialog: None,
            sign_in_dialog: None,
            confirm: None,
            check_run: None,
            show_help: false,
            rules_dialog: None,
            link: None,
            jobs: Vec::new(),
            last_check: HashMap::new(),
            focus_search: false,
            selection_in_results: false,
            focus_list: false,
            list_focused: false,
            scroll_to_selected: false,
            reader_scroll: None,
            reader_open: false,
            narrow: false,
            focus_visible: false,
            top_dialog: None,
            dialog_fresh: false,
            drawn_rows: 0,
            reload_due: false,
            last_reload: Instant::now(),
            desktop_theme: None,
        };
        app.reload();
        // The remembered look and zoom from the first frame on.
        if let Some(ctx) = app.ctx.get().cloned() {
            app.appearance(&ctx);
        }
        app.spawn_job("pipit-color-scheme", || {
            let theme = match crate::portal::color_scheme(None) {
                Ok(crate::portal::ColorScheme::Dark) => Some(egui::Theme::Dark),
                Ok(crate::portal::ColorScheme::Light) => Some(egui::Theme::Light),
                _ => None,
            };
            Box::new(move |app: &mut PipitApp| app.desktop_theme = theme)
        });
        app
    }

    /// Draws the whole window. Called by eframe each frame, and by tests.
    pub fn ui(&mut self, ui: &mut egui::Ui) {
        let ctx = ui.ctx().clone();
        if self.ctx.set(ctx.clone()).is_ok() {
            fonts::install(&ctx);
        }
        self.drawn_rows = 0;
        self.appearance(&ctx);
        self.drain_events();
        self.reload_when_due(&ctx);
        self.automatic_checks(&ctx);
        self.expire_notice(&ctx);
        let top_dialog = dialogs::open(self).first().copied();
        // A dialog that has just come to the top takes the keyboard.
        self.dialog_fresh = top_dialog.is_some() && top_dialog != self.top_dialog;
        self.top_dialog = top_dialog;
        let modal_open = top_dialog.is_some();
        for command in UiCommand::pressed(&ctx, modal_open, self.list_focused) {
            self.run_command(command);
        }
        if let Some(rect) = ctx.input(|i| i.viewport().inner_rect) {
            // The window system's size is in zoomed points; the window
            // opens at a size in unzoomed ones (it shrank by the zoom at
            // each start).
            let zoom = ctx.zoom_factor();
            self.layout.window = [
                (rect.width() * zoom).round(),
                (rect.height() * zoom).round(),
            ];
        }

        let width = ui.available_width();
        self.narrow = width < layout::READER_BESIDE_FROM;
        if !self.narrow {
            self.reader_open = false;
        }
        egui::Panel::top("toolbar").show(ui, |ui| self.ui_toolbar(ui));
        egui::Panel::bottom("status").show(ui, |ui| self.ui_status(ui));
        let pane = layout::Pane::before(ui, "views", self.layout.sidebar);
        let sidebar = egui::Panel::left("views")
            .resizable(true)
            .default_size(self.layout.sidebar)
            .size_range(110.0..=(width * 0.3).max(120.0))
            .show(ui, |ui| sidebar::ui(ui, self));
        if let Some(w) = pane.dragged_to(sidebar.response.rect.width()) {
            self.layout.sidebar = w;
        }
        if self.narrow {
            egui::CentralPanel::default_margins().show(ui, |ui| {
                if self.reader_open && self.selected.is_some() {
                    if ui
                        .button(UiCommand::BackToList.label())
                        .on_hover_text(UiCommand::BackToList.tooltip())
                        .clicked()
                    {
                        self.run_command(UiCommand::BackToList);
                    }
                    ui.separator();
                    reader::ui(ui, self);
                } else {
                    self.ui_list(ui);
                }
            });
        } else {
            let pane = layout::Pane::before(ui, "reader", self.layout.reader);
            let reader = egui::Panel::right("reader")
                .resizable(true)
                .default_size(self.layout.reader)
                .size_range(300.0..=(width * 0.7).max(320.0))
                .show(ui, |ui| {
                    // The panel keeps the width it was given, whatever its
                    // contents measure: no snapping back on the next frame.
                    ui.set_min_width(ui.available_width());
                    reader::ui(ui, self)
                });
            if let Some(w) = pane.dragged_to(reader.response.rect.width()) {
                self.layout.reader = w;
            }
            egui::CentralPanel::default_margins().show(ui, |ui| self.ui_list(ui));
        }

        if modal_open {
            // Dim the window behind a dialog, so it reads as waiting.
            ctx.layer_painter(egui::LayerId::new(
                egui::Order::Middle,
                egui::Id::unique("dim-behind-dialogs"),
            ))
            .rect_filled(
                ctx.content_rect(),
                0.0,
                egui::Color32::from_black_alpha(140),
            );
        }
        if self.account_dialog.is_some() {
            account_dialog::ui(&ctx, self);
        }
        if self.password_dialog.is_some() {
            account_dialog::ui_password(&ctx, self);
        }
        if self.sign_in_dialog.is_some() {
            sign_in::ui(&ctx, self);
        }
        if self.check_run.is_some() {
            check_server::ui(&ctx, self);
        }
        if self.rules_dialog.is_some() {
            rules_dialog::ui(&ctx, self);
        }
        dialogs::ui(&ctx, self);
        dialogs::raise_top(&ctx, self);
        self.focus_ring(&ctx);
        self.layout.set_sort(self.sort);
        if let Some(wait) = self.keeper.tick(&self.layout) {
            ctx.request_repaint_after(wait);
        }
    }

    /// The look the layout remembers: light, dark or the desktop's, and
    /// the zoom. The window's own keys zoom (and remember it), not egui's.
    fn appearance(&self, ctx: &egui::Context) {
        let theme = self.layout.theme.preference();
        // Where the window system does not say what the desktop prefers,
        // the portal may.
        let fallback = self.desktop_theme.unwrap_or(egui::Theme::Dark);
        if ctx.options(|o| {
            o.theme_preference != theme || o.zoom_with_keyboard || o.fallback_theme != fallback
        }) {
            ctx.options_mut(|o| {
                o.theme_preference = theme;
                o.fallback_theme = fallback;
                o.zoom_with_keyboard = false;
            });
        }
        if ctx.zoom_factor() != self.layout.zoom {
            ctx.set_zoom_factor(self.layout.zoom);
        }
    }

    /// *View*: light or dark, and the zoom.
    fn ui_view_menu(&mut self, ui: &mut egui::Ui) {
        ui.menu_button("View", |ui| {
            ui.label(egui::RichText::new("Appearance").weak());
            for theme in layout::Appearance::ALL {
                let chosen = self.layout.theme == theme;
                let button = ui.radio(chosen, theme.label());
                let button = if theme == layout::Appearance::System {
                    button.on_hover_text("Light or dark as your desktop's settings say")
                } else {
                    button
                };
                if button.clicked() {
                    self.layout.theme = theme;
                }
            }
            ui.separator();
            for command in [UiCommand::ZoomIn, UiCommand::ZoomOut, UiCommand::ZoomReset] {
                if ui
                    .add(
                        egui::Button::new(command.label())
                            .shortcut_text(command.keys_text().replace(", ", " or ")),
                    )
                    .on_hover_text(command.tooltip())
                    .clicked()
                {
                    self.run_command(command);
                }
            }
            ui.weak(format!("Zoom: {:.0} %", self.layout.zoom * 100.0));
        })
        .response
        .on_hover_text("Light or dark, and the size of everything");
    }

    /// The middle of the window: the view's message list, or for On server
    /// the inventory.
    fn ui_list(&mut self, ui: &mut egui::Ui) {
        if self.view == View::OnServer {
            inventory::ui(ui, self);
        } else {
            list::ui(ui, self);
        }
    }

    /// Tab shows where the keyboard is: the focused widget gets a ring,
    /// until the mouse is used again.
    fn focus_ring(&mut self, ctx: &egui::Context) {
        if ctx.input(|i| i.key_pressed(egui::Key::Tab)) {
            self.focus_visible = true;
        }
        if ctx.input(|i| i.pointer.any_pressed()) {
            self.focus_visible = false;
        }
        if !self.focus_visible {
            return;
        }
        let Some(rect) = ctx
            .memory(|m| m.focused())
            .and_then(|id| ctx.read_response(id))
            .map(|r| r.rect)
        else {
            return;
        };
        let painter = ctx.layer_painter(egui::LayerId::new(
            egui::Order::Foreground,
            egui::Id::unique("focus-ring"),
        ));
        painter.rect_stroke(
            rect.expand(2.0),
            3.0,
            egui::Stroke::new(2.0, ctx.global_style().visuals.selection.stroke.color),
            egui::StrokeKind::Outside,
        );
    }

    fn ui_toolbar(&mut self, ui: &mut egui::Ui) {
        ui.horizontal(|ui| {
            // The search box first, at the right: it never moves when the
            // buttons change with the view.
            ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
                if ui
                    .button(UiCommand::Help.label())
                    .on_hover_text(UiCommand::Help.tooltip())
                    .clicked()
                {
                    self.run_command(UiCommand::Help);
                }
                self.ui_view_menu(ui);
                let width = (ui.available_width() * 0.45).clamp(120.0, 320.0);
                let search = ui
                    .add(
                        egui::TextEdit::singleline(&mut self.search)
                            .hint_text("Search sender, subject, text…")
                            .desired_width(width),
                    )
                    .on_hover_text(UiCommand::Search.tooltip());
                let label = ui.label("Search");
                let search = search.labelled_by(label.id);
                if self.focus_search {
                    search.request_focus();
                    self.focus_search = false;
                }
                if search.has_focus() && ui.input(|i| i.key_pressed(egui::Key::ArrowDown)) {
                    search.surrender_focus();
                    self.focus_list = true;
                    if self.selected.is_none() {
                        self.step_selection(1);
                    }
                }
                if search.changed() {
                    self.search_changed();
                }
                ui.with_layout(egui::Layout::left_to_right(egui::Align::Center), |ui| {
                    self.ui_buttons(ui);
                });
            });
        });
    }

    fn ui_buttons(&mut self, ui: &mut egui::Ui) {
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
        if self.view == View::OnServer {
            inventory::check_button(ui, self);
        }
        // Delete and Restore act on the message in the reader: with none
        // there, they offer nothing.
        let shown = self.shown_row();
        let has_selection = shown.is_some();
        // A message in Trash, or removed for good, shown in On server: it
        // is deleted here already.
        let deletable = shown.as_ref().is_some_and(deletable);
        if self.view == View::Trash {
            let restorable = shown.as_ref().is_some_and(restorable);
            let restore = ui
                .add_enabled(restorable, egui::Button::new(UiCommand::Restore.label()))
                .on_hover_text(UiCommand::Restore.tooltip());
            let restore = if has_selection {
                restore.on_disabled_hover_text(
                    "Only its headers were here, and it is deleted on the server: there is \
nothing to restore.",
                )
            } else {
                restore
            };
            if restore.clicked() {
                self.run_command(UiCommand::Restore);
            }
            if ui
                .add_enabled(has_selection, egui::Button::new(UiCommand::Delete.label()))
                .on_hover_text("Delete the message for good (Delete)")
                .clicked()
            {
                self.run_command(UiCommand::Delete);
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
        } else if self.view == View::OnServer && shown.as_ref().is_some_and(restorable_here) {
            // In On server, a message in Trash has Restore where Delete
            // was: it keeps the message on the server, which Trash deletes
            // at the next Get Mail.
            if ui
                .button(UiCommand::Restore.label())
                .on_hover_text("Take the message out of Trash, so that it stays on the server (R)")
                .clicked()
            {
                self.run_command(UiCommand::Restore);
            }
        } else if ui
            .add_enabled(deletable, egui::Button::new(UiCommand::Delete.label()))
            .on_hover_text(
                if shown
                    .as_ref()
                    .is_some_and(|r| r.state == MessageState::Headers && r.on_server)
                {
                    "Delete the message on the server: only its headers are here (asks first; \
Delete)"
                } else {
                    UiCommand::Delete.tooltip()
                },
            )
            .on_disabled_hover_text(if has_selection {
                "It is removed here for good already: its copy on the server goes at the next \
Get Mail"
            } else {
                "Select a message first"
            })
            .clicked()
        {
            self.run_command(UiCommand::Delete);
        }
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
                let several = banner.mend.len() > 1;
                for (account, mend) in &banner.mend {
                    if ui
                        .button(mend.label(several.then_some(account.as_str())))
                        .clicked()
                    {
                        self.mend(account, *mend);
                    }
                }
                if let Some(link) = &banner.link
                    && ui.button("Copy the link").clicked()
                {
                    ui.ctx().copy_text(link.clone());
                    self.say("Link copied");
                }
                if ui.small_button("Dismiss").clicked() {
                    self.banner = None;
                }
            });
            if let Some(detail) = &banner.detail {
                egui::CollapsingHeader::new("Details")
                    .id_salt("banner-details")
                    .show(ui, |ui| {
                        egui::ScrollArea::vertical()
                            .max_height(160.0)
                            .show(ui, |ui| {
                                ui.add(
                                    egui::Label::new(egui::RichText::new(detail).monospace())
                                        .selectable(true)
                                        .wrap(),
                                );
                            });
                    });
            }
        }
        ui.horizontal(|ui| {
            if self.fetching.is_empty() {
                let count = self.rows.len();
                if self.rows.complete() {
                    ui.label(format!(
                        "{count} message{}",
                        if count == 1 { "" } else { "s" }
                    ));
                } else {
                    ui.label("Counting messages…");
                }
                if self.view == View::OnServer {
                    ui.weak("· as the servers listed them at the last Get Mail");
                }
                if let Some(notice) = &self.notice {
                    ui.weak(format!("· {}", notice.text));
                }
            } else {
                let mut accounts: Vec<&String> = self.fetching.iter().collect();
                accounts.sort();
                for account in accounts {
                    let (fraction, text) = describe_progress(account, self.progress.get(account));
                    ui.add(
                        egui::ProgressBar::new(fraction)
                            .text(text)
                            .desired_width(300.0),
                    );
                }
                calm_spinner(ui);
            }
        });
    }

    /// Opens the dialog that fixes `account`'s failure.
    pub fn mend(&mut self, account: &str, mend: Mend) {
        match mend {
            Mend::Password { refused } => {
                self.password_dialog = Some(account_dialog::PasswordDraft::new(account, refused));
            }
            Mend::SignIn => {
                if let Ok(a) = self.config.account(account) {
                    self.sign_in_dialog = Some(sign_in::SignInDraft::again(a));
                }
            }
            Mend::Settings(field) => {
                if let Ok(a) = self.config.account(account) {
                    let mut draft = AccountDraft::edit(a);
                    if field.is_some() {
                        draft.focus = field;
                    }
                    self.account_dialog = Some(draft);
                }
            }
        }
    }

    /// The selected message's row, if it is in the list.
    pub fn selected_row(&self) -> Option<&Summary> {
        self.rows.row(self.selected?)
    }

    /// The message Delete and Restore act on: the selected one, in the list
    /// or, having left it (downloaded out of On server), in the reader.
    pub fn shown_row(&self) -> Option<Summary> {
        let id = self.selected?;
        if let Some(row) = self.selected_row() {
            return Some(row.clone());
        }
        match &self.reading {
            Some(Reading::Ready(opened)) if opened.detail.summary.id == id => {
                Some(opened.detail.summary.clone())
            }
            _ => None,
        }
    }

    /// Carries out one command from a button, a key or a test.
    pub fn run_command(&mut self, command: UiCommand) {
        match command {
            UiCommand::GetMail => self.get_mail(),
            UiCommand::Delete => {
                let Some(row) = self.shown_row() else {
                    return;
                };
                if self.view != View::Trash && !deletable(&row) {
                    return;
                }
                if self.view == View::Trash {
                    self.confirm = Some(Confirm::DeleteForever {
                        id: row.id,
                        subject: list::display_subject(&row.subject),
                    });
                } else if row.state == MessageState::Headers && row.on_server {
                    // Only its headers are here: in Trash, the message itself
                    // would be deleted on the server at the next Get Mail, for
                    // good. Delete asks first, as Delete on server… does.
                    self.confirm = Some(self.confirm_delete_on_server(
                        row.id,
                        &row.account,
                        list::display_subject(&row.subject),
                    ));
                } else {
                    self.move_selection_after_removing(row.id);
                    self.library.ask(Query::Trash(row.id));
                }
            }
            UiCommand::Restore => {
                if self.view == View::Trash
                    && let Some(row) = self.shown_row()
                    && restorable(&row)
                {
                    self.move_selection_after_removing(row.id);
                    self.library.ask(Query::Restore(row.id));
                } else if self.view == View::OnServer
                    && let Some(row) = self.shown_row()
                    && restorable_here(&row)
                {
                    // It stays in the view, as what it is again.
                    self.library.ask(Query::Restore(row.id));
                }
            }
            UiCommand::EmptyTrash => {
                if self.view == View::Trash && !self.rows.is_empty() {
                    self.confirm = Some(Confirm::EmptyTrash {
                        count: self.rows.len(),
                    });
                }
            }
            UiCommand::Search => self.focus_search = true,
            UiCommand::Next => self.step_selection(1),
            UiCommand::Previous => self.step_selection(-1),
            UiCommand::First => self.step_selection(isize::MIN),
            UiCommand::Last => self.step_selection(isize::MAX),
            UiCommand::PageDown => self.step_selection(self.page_rows()),
            UiCommand::PageUp => self.step_selection(-self.page_rows()),
            UiCommand::ScrollReader => self.reader_scroll = Some(1.0),
            UiCommand::Open => {
                if let Some(id) = self.selected {
                    self.select(id);
                    self.reader_open = self.narrow;
                }
            }
            UiCommand::BackToList => self.reader_open = false,
            UiCommand::Escape => {
                if let Some(top) = dialogs::open(self).first() {
                    // The top dialog, the one in sight, closes first.
                    match top {
                        dialogs::Dialog::Link => self.link = None,
                        dialogs::Dialog::Confirm => self.confirm = None,
                        dialogs::Dialog::Help => self.show_help = false,
                        dialogs::Dialog::CheckServer => self.check_run = None,
                        dialogs::Dialog::Password => self.password_dialog = None,
                        // Dropping it stops a sign-in that waits.
                        dialogs::Dialog::SignIn => self.sign_in_dialog = None,
                        dialogs::Dialog::Rules => self.rules_dialog = None,
                        // What was typed is not thrown away without a word.
                        dialogs::Dialog::Account => {
                            if self
                                .account_dialog
                                .as_ref()
                                .is_some_and(AccountDraft::edited)
                            {
                                self.confirm = Some(Confirm::DiscardAccountEdits);
                            } else {
                                self.account_dialog = None;
                            }
                        }
                    }
                } else if self.reader_open {
                    self.reader_open = false;
                } else if !self.search.is_empty() {
                    self.search.clear();
                    self.search_changed();
                }
            }
            UiCommand::AddAccount => self.account_dialog = Some(AccountDraft::new()),
            UiCommand::Help => self.show_help = true,
            UiCommand::Reply => self.compose(crate::compose::Kind::Reply),
            UiCommand::ReplyAll => self.compose(crate::compose::Kind::ReplyAll),
            UiCommand::Forward => self.compose(crate::compose::Kind::Forward),
            UiCommand::ZoomIn => self.zoom_by(0.1),
            UiCommand::ZoomOut => self.zoom_by(-0.1),
            UiCommand::ZoomReset => self.layout.zoom = 1.0,
            UiCommand::View(n) => {
                if let Some(view) = sidebar::views(self).into_iter().nth(n) {
                    self.set_view(view.0);
                }
            }
        }
    }

    /// The message Reply, Reply All and Forward answer: the whole message
    /// in the reader (a message only on the server has no text to quote).
    pub fn answerable(&self) -> Option<Arc<Opened>> {
        match &self.reading {
            Some(Reading::Ready(opened))
                if !opened.partial
                    && opened.detail.summary.state != MessageState::Headers
                    && self.selected == Some(opened.detail.summary.id) =>
            {
                Some(opened.clone())
            }
            _ => None,
        }
    }

    /// Reply, Reply All or Forward: the message in the reader handed to
    /// the desktop's mail composer as a `mailto:` URI, on a job thread (the
    /// opener is given a moment to say it failed). Pipit does not send.
    pub fn compose(&mut self, kind: crate::compose::Kind) {
        let Some(opened) = self.answerable() else {
            // Only a key gets here (the buttons are shown only above a
            // message they can answer); Ctrl+R was Get Mail once.
            self.say(words::NOTHING_TO_ANSWER);
            return;
        };
        // The user's own addresses: every account's user that is one.
        let own: Vec<&str> = self
            .config
            .accounts
            .iter()
            .map(|a| a.user.as_str())
            .filter(|u| u.contains('@'))
            .collect();
        let mailto = crate::compose::mailto(&opened.reply, &opened.detail.text, kind, &own);
        let folders = self.attachment_folders.clone();
        self.spawn_job("pipit-compose", move || {
            let result = reader::compose_job(&folders, mailto);
            Box::new(move |app: &mut PipitApp| match result {
                Ok(said) => app.say(said),
                Err(banner) => app.banner = Some(*banner),
            })
        });
    }

    /// The whole window `by` larger (smaller, if negative), in steps of a
    /// tenth, between half and three times its usual size.
    fn zoom_by(&mut self, by: f32) {
        self.layout.zoom = ((self.layout.zoom + by) * 10.0).round().clamp(5.0, 30.0) / 10.0;
    }

    /// Rows in one page of the list.
    fn page_rows(&self) -> isize {
        // The window's height in the points its rows are laid out in.
        let window = self.layout.window[1] / self.layout.zoom;
        ((window - 160.0) / 26.0).max(1.0) as isize
    }

    /// Starts a fetch of every account not already being fetched.
    pub fn get_mail(&mut self) {
        for account in self.config.accounts.clone() {
            self.fetch_account(&account);
        }
    }

    fn fetch_account(&mut self, account: &Account) {
        if self.fetching.is_empty() {
            self.round.clear();
        }
        self.start_fetch(account);
    }

    /// Starts a fetch within the current round of Get Mail.
    fn start_fetch(&mut self, account: &Account) {
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

    fn expire_notice(&mut self, ctx: &egui::Context) {
        if let Some(notice) = &self.notice {
            let now = Instant::now();
            if now >= notice.until {
                self.notice = None;
            } else {
                ctx.request_repaint_after(notice.until - now);
            }
        }
    }

    /// Shows a short word in the footer for a few seconds.
    pub fn say(&mut self, text: impl Into<String>) {
        self.notice = Some(Notice {
            text: text.into(),
            until: Instant::now() + NOTICE_FOR,
        });
    }

    /// Reads the list again for the mail a fetch stored, if it is time.
    fn reload_when_due(&mut self, ctx: &egui::Context) {
        if !self.reload_due {
            return;
        }
        let since = self.last_reload.elapsed();
        if since >= RELOAD_EVERY {
            self.reload();
        } else {
            ctx.request_repaint_after(RELOAD_EVERY - since);
        }
    }

    /// Asks the store thread for the list again (view, search or sort changed).
    pub fn reload(&mut self) {
        self.reload_due = false;
        self.last_reload = Instant::now();
        self.generation += 1;
        if self.view == View::OnServer {
            self.library.ask(Query::Inventory {
                generation: self.generation,
                config: Box::new(self.config.clone()),
                search: self.search.clone(),
            });
            return;
        }
        self.library.ask(Query::List {
            generation: self.generation,
            view: self.view.clone(),
            search: self.search.clone(),
            sort: self.sort,
            keep: self
                .rows
                .ids_in_view()
                .into_iter()
                .chain(self.selected)
                .collect(),
        });
    }

    /// Whether the list shows what was last asked for (its first screen at
    /// least), not the list before a change of view, sort or search.
    pub fn list_is_current(&self) -> bool {
        self.shown_generation == self.generation
    }

    /// Asks the store thread for the rows of these messages (scrolled into view).
    pub(crate) fn ask_rows(&mut self, ids: Vec<i64>) {
        self.library.ask(Query::Rows {
            generation: self.generation,
            ids,
        });
    }

    /// The search's words changed: the list follows, and a selected
    /// message it no longer holds leaves the reader.
    fn search_changed(&mut self) {
        self.selection_in_results = true;
        self.reload();
    }

    fn clear_selection(&mut self) {
        self.selected = None;
        self.reading = None;
        self.reader_open = false;
    }

    pub fn set_view(&mut self, view: View) {
        if self.view != view {
            self.view = view;
            self.selected = None;
            self.reading = None;
            self.reader_open = false;
            self.reload();
        }
    }

    /// The On server view shows `kind`, or every kind; a selected message
    /// it no longer shows leaves the reader.
    pub fn set_inventory_filter(&mut self, kind: Option<Kind>, largest_first: bool) {
        self.inventory_filter = kind;
        self.inventory_largest_first = largest_first;
        let rows = self.filter_inventory();
        self.rows.replace(Listing::whole(rows));
        if self.selected_row().is_none() {
            self.clear_selection();
        }
    }

    /// The inventory's rows the filter lets through, as the list's rows.
    fn filter_inventory(&mut self) -> Vec<Summary> {
        let filter = self.inventory_filter;
        self.inventory_shown = (0..self.inventory.len())
            .filter(|&i| filter.is_none_or(|k| self.inventory[i].kind == k))
            .collect();
        if self.inventory_largest_first {
            // Stable: the same size keeps the oldest first.
            let inventory = &self.inventory;
            self.inventory_shown
                .sort_by_key(|&i| std::cmp::Reverse(inventory[i].listed.unwrap_or(0)));
        }
        self.inventory_shown
            .iter()
            .map(|&i| self.inventory[i].summary.clone())
            .collect()
    }

    /// The On server view's row of message `id`.
    pub fn inventory_row(&self, id: i64) -> Option<&InventoryRow> {
        self.inventory.iter().find(|r| r.summary.id == id)
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

    /// Selects a message and asks for its contents. A whole message is
    /// marked read; one known only by its headers is not (a preview is not
    /// a reading).
    pub fn select(&mut self, id: i64) {
        self.selected = Some(id);
        self.reader_scroll = None;
        if self
            .selected_row()
            .is_some_and(|r| r.state == MessageState::Purged)
        {
            // Only a note of it is kept: nothing to open.
            self.reading = None;
            return;
        }
        self.reading = Some(Reading::Loading);
        self.library.ask(Query::Open(id));
        if let Some(row) = self.rows.row_mut(id)
            && row.state == MessageState::Full
        {
            row.seen = true;
        }
    }

    fn step_selection(&mut self, step: isize) {
        if self.rows.is_empty() {
            return;
        }
        let last = self.rows.len() as isize - 1;
        let at = self.selected.and_then(|id| self.rows.position(id));
        let next = match (at, step) {
            (_, isize::MIN) => 0,
            (_, isize::MAX) => last,
            (None, s) if s < 0 => last,
            (None, _) => 0,
            (Some(i), s) => (i as isize).saturating_add(s).clamp(0, last),
        } as usize;
        let Some(id) = self.rows.id(next) else {
            return;
        };
        self.scroll_to_selected = true;
        // The keyboard's place goes with the selection.
        self.focus_list |= self.list_focused;
        if Some(id) != self.selected {
            self.select(id);
        }
    }

    /// After a message leaves the list, the next one (or the previous) is selected.
    fn move_selection_after_removing(&mut self, id: i64) {
        let Some(i) = self.rows.remove(id) else {
            // Shown in the reader only: it goes from there.
            if self.selected == Some(id) {
                self.clear_selection();
            }
            return;
        };
        match self
            .rows
            .id(i)
            .or_else(|| i.checked_sub(1).and_then(|j| self.rows.id(j)))
        {
            Some(next) => {
                self.select(next);
            }
            None => {
                self.selected = None;
                self.reading = None;
                self.reader_open = false;
            }
        }
    }

    /// Fetches a TOP preview of a message still on the server; during a
    /// fetch of its account it waits for the fetch to end.
    pub fn request_preview(&mut self, id: i64, account: &str) {
        let Ok(account) = self.config.account(account).cloned() else {
            self.previews.insert(
                id,
                Preview::Failed(format!(
                    "The account {account:?} is no longer set up, so its server cannot be asked."
                )),
            );
            return;
        };
        self.previews.insert(id, Preview::Loading);
        let promise = self
            .worker
            .preview(account.clone(), account.password_source(), id, 40);
        // A new request replaces the old one, which is dropped unanswered.
        self.preview_jobs.insert(id, promise);
    }

    /// "Download": the next fetch takes the whole message, whatever its
    /// size; it starts now, and the reader shows it once it is stored.
    pub fn download(&mut self, id: i64) {
        self.library.ask(Query::RequestDownload(id));
        self.downloading.insert(id);
        if let Some(account) = self.rows.row(id).map(|r| r.account.clone())
            && let Ok(account) = self.config.account(&account).cloned()
        {
            if self.fetching.contains(&account.name) {
                self.fetch_again.insert(account.name.clone());
            } else {
                self.fetch_account(&account);
            }
        }
    }

    /// The question before "Delete on server" of message `id`: that pass
    /// is a Get Mail of `account`, so what else is due to go from its
    /// server goes too, counted where the On server view knows it.
    pub fn confirm_delete_on_server(&self, id: i64, account: &str, subject: String) -> Confirm {
        let others = (self.view == View::OnServer && self.rows_loaded).then(|| {
            self.inventory
                .iter()
                .filter(|r| {
                    r.summary.id != id
                        && r.summary.account.as_ref() == account
                        && r.deletion == crate::sync::plan::Deletion::NextFetch
                })
                .map(|r| r.copies)
                .sum()
        });
        Confirm::DeleteOnServer {
            id,
            subject,
            others,
        }
    }

    /// "Delete on server", once confirmed: to Trash now, off the server at
    /// the next pass, which starts now.
    pub fn delete_on_server(&mut self, id: i64) {
        let account = self.rows.row(id).map(|r| r.account.clone());
        self.move_selection_after_removing(id);
        self.previews.remove(&id);
        self.library.ask(Query::Trash(id));
        if let Some(account) = account
            && let Ok(account) = self.config.account(&account).cloned()
        {
            self.fetch_account(&account);
        }
    }

    /// Runs `job` on a thread of its own; what it returns is applied to the
    /// window when it is done.
    pub(crate) fn spawn_job(&mut self, name: &str, job: impl FnOnce() -> Apply + Send + 'static) {
        let promise = crate::worker::spawn_promise(name, self.notify.clone(), job, |e| {
            let detail = e.to_string();
            Box::new(move |app: &mut PipitApp| {
                app.show_error(
                    "Pipit could not start a background task. Close some programs and try again.",
                    detail,
                );
            }) as Apply
        });
        self.jobs.push(promise);
    }

    /// Takes in everything the worker, the store thread and the jobs have said.
    fn drain_events(&mut self) {
        let done: Vec<Promise<Apply>> = self
            .jobs
            .extract_if(.., |job| job.ready().is_some())
            .collect();
        for job in done {
            if let Ok(apply) = job.try_take() {
                apply(self);
            }
        }
        let done: Vec<i64> = self
            .preview_jobs
            .iter()
            .filter(|(_, p)| p.ready().is_some())
            .map(|(id, _)| *id)
            .collect();
        for id in done {
            if let Some(Ok(result)) = self.preview_jobs.remove(&id).map(Promise::try_take) {
                self.previews.insert(
                    id,
                    match result {
                        Ok(bytes) => Preview::Ready(Arc::new(library::opened_partial(&bytes))),
                        Err(e) => Preview::Failed(words::fetch_error(&e).line()),
                    },
                );
            }
        }
        while let Ok(answer) = self.library.answers.try_recv() {
            match answer {
                Answer::List { generation, list } if generation == self.generation => match list {
                    Ok(list) => self.rows_arrived(generation, list),
                    Err(e) => self.show_error(
                        "The message list could not be read. Close and start Pipit again; if it goes on, the detail says why.",
                        e,
                    ),
                },
                Answer::Inventory { generation, rows } if generation == self.generation => {
                    match rows {
                        Ok(inventory) => {
                            self.inventory = inventory;
                            let rows = self.filter_inventory();
                            self.rows_arrived(generation, Listing::whole(rows));
                        }
                        Err(e) => self.show_error(
                            "What is on the server could not be read. Close and start Pipit again; if it goes on, the detail says why.",
                            e,
                        ),
                    }
                }
                Answer::List { .. } | Answer::Inventory { .. } => {}
                Answer::Rows { generation, rows } if generation == self.generation => {
                    self.rows.add(rows);
                }
                Answer::Rows { .. } => {}
                Answer::Opened { id, result } if Some(id) == self.selected => {
                    self.reading = Some(match result {
                        Ok(opened) => Reading::Ready(opened),
                        Err(e) => Reading::Failed(e),
                    });
                }
                Answer::Opened { .. } => {}
                Answer::Changed { what } => {
                    self.say(what);
                    self.reload();
                }
                Answer::Failed(e) => self.show_error(
                    "The mail store reported a problem; nothing was changed.",
                    e,
                ),
            }
        }
        while let Ok(event) = self.worker.events().try_recv() {
            match event {
                Event::Progress(p) => {
                    // New headers and bodies show up in the list as they
                    // arrive, a second apart at most.
                    if matches!(p, Progress::Headers { .. } | Progress::Listed { .. })
                        || matches!(&p, Progress::Downloaded { done, of, .. } if done == of || done % 50 == 0)
                    {
                        self.reload_due = true;
                    }
                    let account = p.account().to_string();
                    self.progress.insert(account, p);
                }
                Event::Finished { account, result } => self.finished(account, result),
            }
        }
    }

    /// The list's rows, as the store thread read them.
    fn rows_arrived(&mut self, generation: u64, list: Listing) {
        self.rows_loaded = list.complete;
        self.shown_generation = generation;
        self.rows.replace(list);
        if std::mem::take(&mut self.selection_in_results) && self.selected_row().is_none() {
            // The reader shows nothing the results do not hold.
            self.clear_selection();
        }
        self.refresh_reading();
    }

    /// The selected message changed in the store (downloaded, deleted on
    /// the server, restored): the reader shows it as it is now.
    fn refresh_reading(&mut self) {
        let Some(row) = self.selected_row() else {
            return;
        };
        let (id, state, on_server, trashed) = (row.id, row.state, row.on_server, row.trashed);
        if let Some(Reading::Ready(opened)) = &self.reading {
            let was = &opened.detail.summary;
            if was.state != state || was.on_server != on_server || was.trashed != trashed {
                if !on_server {
                    self.previews.remove(&id);
                }
                self.library.ask(Query::Open(id));
            }
        }
    }

    /// One account's fetch ended.
    fn finished(&mut self, account: String, result: Result<FetchSummary, FetchError>) {
        self.fetching.remove(&account);
        self.progress.remove(&account);
        self.reload();
        // A message shown by its headers may be whole now (Download), or
        // gone from the server: show it as it is, even if it left the view.
        if let (Some(id), Some(Reading::Ready(opened))) = (self.selected, &self.reading)
            && opened.detail.summary.state == MessageState::Headers
            && *opened.detail.summary.account == *account
        {
            self.library.ask(Query::Open(id));
        }
        let result = match result {
            Ok(summary) => {
                self.checked.insert(
                    account.clone(),
                    Checked::Fine {
                        new: summary.new,
                        at: Instant::now(),
                    },
                );
                Ok(summary)
            }
            Err(e) => {
                let settings = self.config.account(&account).ok();
                let command = settings.is_some_and(|a| a.password_command.is_some());
                let mut said = words::fetch_error_for(&e, command);
                if let Some(a) = settings {
                    said = words::name_the_server(said, &e, &a.host, a.port);
                }
                self.checked.insert(
                    account.clone(),
                    Checked::Failed {
                        said: said.clone(),
                        mend: Mend::of(&e, settings),
                    },
                );
                Err(said)
            }
        };
        let again = self.fetch_again.remove(&account) && result.is_ok();
        if !again {
            let rows = &self.rows;
            self.downloading
                .retain(|id| rows.row(*id).is_some_and(|r| *r.account != *account));
        }
        self.round.push(RoundResult {
            account: account.clone(),
            result,
        });
        if again && let Ok(a) = self.config.account(&account).cloned() {
            self.start_fetch(&a);
        }
        if self.fetching.is_empty() {
            self.end_round();
        }
    }

    /// Every fetch of this round of Get Mail ended: one word on all of them.
    /// A failure is never hidden by another account's success.
    fn end_round(&mut self) {
        let round = std::mem::take(&mut self.round);
        let failed: Vec<String> = round
            .iter()
            .filter(|r| r.result.is_err())
            .map(|r| r.account.clone())
            .collect();
        if !failed.is_empty() {
            self.banner = self.failure_banner(&failed);
            return;
        }
        let errors: Vec<String> = round
            .iter()
            .filter_map(|r| r.result.as_ref().ok())
            .flat_map(|s| s.errors.iter().map(move |e| format!("{}: {e}", s.account)))
            .collect();
        let mut notes: Vec<String> = round
            .iter()
            .filter_map(|r| r.result.as_ref().ok())
            .flat_map(|s| s.notes.iter().map(move |n| format!("{}: {n}", s.account)))
            .collect();
        // What rules before download did, and what they would do if armed.
        for s in round.iter().filter_map(|r| r.result.as_ref().ok()) {
            if s.deleted_by_rule > 0 {
                notes.push(format!(
                    "{}: {} deleted on the server by rules, unread (their headers are in Deleted by rule)",
                    s.account, s.deleted_by_rule
                ));
            }
            for u in &s.unarmed_rules {
                notes.push(format!(
                    "{}: rule \u{201c}{}\u{201d} would delete {}; it is not armed, so they stay on the server: open Rules… to see what it matches and arm it",
                    s.account, u.rule, u.would_delete
                ));
            }
        }
        let new: usize = round
            .iter()
            .filter_map(|r| r.result.as_ref().ok())
            .map(|s| s.new)
            .sum();
        let deleted: usize = round
            .iter()
            .filter_map(|r| r.result.as_ref().ok())
            .map(|s| s.deleted_on_server)
            .sum();
        // Bodies of messages known before this fetch: asked for with
        // Download (or retried), not new.
        let downloaded: usize = round
            .iter()
            .filter_map(|r| r.result.as_ref().ok())
            .map(|s| {
                s.downloaded.saturating_sub(
                    s.new
                        .saturating_sub(s.headers_only)
                        .saturating_sub(s.held_by_rule),
                )
            })
            .sum();
        if !errors.is_empty() {
            self.banner = Some(Banner {
                error: true,
                text: format!(
                    "{} message{} could not be fetched; the others were. Get Mail tries them again.",
                    errors.len(),
                    if errors.len() == 1 { "" } else { "s" }
                ),
                detail: Some(errors.join("\n")),
                ..Banner::default()
            });
            return;
        }
        // A fetch that went well clears the error it had shown.
        if self
            .banner
            .as_ref()
            .is_some_and(|b| b.error && b.detail.is_some())
        {
            self.banner = None;
        }
        let words = round_words(new, downloaded, deleted);
        if notes.is_empty() {
            self.say(words);
        } else {
            self.banner = Some(Banner {
                error: false,
                text: words,
                detail: Some(notes.join("\n")),
                ..Banner::default()
            });
        }
    }

    /// The footer's word on these accounts' failed fetches, from their
    /// last results: one failure is never hidden by another.
    pub(crate) fn failure_banner(&self, accounts: &[String]) -> Option<Banner> {
        let failed: Vec<(&String, &Said, Option<Mend>)> = accounts
            .iter()
            .filter_map(|a| match self.checked.get(a) {
                Some(Checked::Failed { said, mend }) => Some((a, said, *mend)),
                _ => None,
            })
            .collect();
        if failed.is_empty() {
            return None;
        }
        // Each failure starts with its account's name, however many
        // accounts there are, as the sidebar and the detail say it.
        let text = failed
            .iter()
            .map(|(a, said, _)| format!("{a}: {}", self.advice_for(a, said)))
            .collect::<Vec<_>>()
            .join(" ");
        let detail = failed
            .iter()
            .map(|(a, said, _)| format!("{a}: {}", said.detail))
            .collect::<Vec<_>>()
            .join("\n");
        Some(Banner {
            error: true,
            text,
            detail: Some(detail),
            mend: failed
                .iter()
                .filter_map(|f| Some((f.0.clone(), f.2?)))
                .collect(),
            accounts: failed.iter().map(|f| f.0.clone()).collect(),
            ..Banner::default()
        })
    }

    /// A failure's words for this account.
    pub(crate) fn advice_for(&self, _account: &str, said: &Said) -> String {
        said.line()
    }

    /// New settings were saved for `account` (or it was removed): its last
    /// result was about the old ones, and goes, from its sidebar entry and
    /// from the footer.
    pub(crate) fn forget_result(&mut self, account: &str) {
        self.checked.remove(account);
        if let Some(banner) = &self.banner
            && banner.accounts.iter().any(|a| a == account)
        {
            let rest: Vec<String> = banner
                .accounts
                .iter()
                .filter(|a| *a != account)
                .cloned()
                .collect();
            self.banner = self.failure_banner(&rest);
        }
    }

    fn show_error(&mut self, text: &str, detail: String) {
        self.banner = Some(Banner {
            error: true,
            text: text.into(),
            detail: Some(detail),
            ..Banner::default()
        });
    }

    pub fn worker(&self) -> &Worker {
        &self.worker
    }

    pub fn paths(&self) -> &Paths {
        &self.paths
    }
}

impl Drop for PipitApp {
    fn drop(&mut self) {
        self.layout.set_sort(self.sort);
        self.keeper.flush(&self.layout);
    }
}

/// Whether Delete (out of Trash) has something to do: not for a message
/// in Trash already, or removed for good, as the On server view shows them.
pub fn deletable(row: &Summary) -> bool {
    row.state != MessageState::Purged && !row.trashed
}

/// Whether Restore can bring the message back as something that works: a
/// message known only by its headers that has left the server cannot.
pub fn restorable(row: &Summary) -> bool {
    row.state == MessageState::Full || row.on_server
}

/// Whether On server offers Restore for the message: one in Trash (not
/// removed for good), which Restore keeps on the server.
pub fn restorable_here(row: &Summary) -> bool {
    row.trashed && row.state != MessageState::Purged && restorable(row)
}

impl eframe::App for PipitApp {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        PipitApp::ui(self, ui);
        log_frame(self.drawn_rows);
    }

    /// The window closes: its layout is written now, not left to a drop.
    fn on_exit(&mut self) {
        self.layout.set_sort(self.sort);
        self.keeper.flush(&self.layout);
    }
}

/// `PIPIT_FRAME_LOG=FILE`: each frame of the window appends a line to
/// FILE, when it was laid out (microseconds since the Unix epoch) and how
/// many rows of mail it drew. `tests/bench/window.sh` reads it: when the
/// first mail was drawn, and whether a window left alone draws at all.
fn log_frame(rows: usize) {
    use std::io::Write as _;
    static LOG: OnceLock<Option<Mutex<std::fs::File>>> = OnceLock::new();
    let log = LOG.get_or_init(|| {
        let path = std::env::var_os("PIPIT_FRAME_LOG")?;
        std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .ok()
            .map(Mutex::new)
    });
    if let Some(file) = log
        && let Ok(mut file) = file.lock()
    {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let _ = writeln!(file, "{} {rows}", now.as_micros());
    }
}

/// A round of Get Mail in a few words: what came, what was downloaded
/// because it was asked for, what the server deleted; "No new mail" only
/// when nothing at all happened.
fn round_words(new: usize, downloaded: usize, deleted: usize) -> String {
    let messages = |n: usize| format!("{n} message{}", if n == 1 { "" } else { "s" });
    let mut parts = Vec::new();
    match new {
        0 => {}
        1 => parts.push("1 new message".to_string()),
        n => parts.push(format!("{n} new messages")),
    }
    if downloaded > 0 {
        parts.push(format!("downloaded {}", messages(downloaded)));
    }
    if deleted > 0 {
        parts.push(format!("deleted {} on the server", messages(deleted)));
    }
    if parts.is_empty() {
        return "No new mail".into();
    }
    words::sentence(&parts.join(", "))
        .trim_end_matches('.')
        .to_string()
}

/// The progress bar's fill and words (the words are the engine's, as the
/// command line shows them).
fn describe_progress(account: &str, p: Option<&Progress>) -> (f32, String) {
    match p {
        None => (0.0, format!("{account}: connecting…")),
        Some(p) => (
            p.fraction().unwrap_or(0.0),
            format!("{account}: {}", p.words()),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::round_words;

    #[test]
    fn a_round_says_what_happened_and_no_new_mail_only_when_nothing_did() {
        assert_eq!(round_words(0, 0, 0), "No new mail");
        assert_eq!(round_words(0, 1, 0), "Downloaded 1 message");
        assert_eq!(round_words(0, 0, 1), "Deleted 1 message on the server");
        assert_eq!(
            round_words(2, 0, 2),
            "2 new messages, deleted 2 messages on the server"
        );
        assert_eq!(round_words(1, 3, 0), "1 new message, downloaded 3 messages");
    }
}
