//! What the window remembers across restarts: its size, the widths of its
//! panes and columns, the list's sort, its light or dark look and its zoom. Kept in `window.json` beside the
//! config file, written on a thread of its own when it changes.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::library::{Column, Sort};

/// Below this window width the reader replaces the list when a message is
/// open, instead of standing beside it.
pub const READER_BESIDE_FROM: f32 = 900.0;
/// The smallest window that still shows a list and a toolbar.
pub const MIN_WINDOW: [f32; 2] = [520.0, 380.0];

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Layout {
    /// The window's inner size, in points.
    pub window: [f32; 2],
    pub sidebar: f32,
    pub reader: f32,
    /// Widths of the From, Date and Size columns; Subject takes the rest.
    pub from: f32,
    pub date: f32,
    pub size: f32,
    pub sort_column: SortColumn,
    pub ascending: bool,
    /// Light or dark, or as the desktop prefers.
    pub theme: Appearance,
    /// How much larger than usual everything is (Ctrl +/−/0).
    pub zoom: f32,
}

/// The window's look: the desktop's light or dark preference, or one of
/// them whatever the desktop prefers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Appearance {
    #[default]
    System,
    Light,
    Dark,
}

impl Appearance {
    pub const ALL: [Appearance; 3] = [Appearance::System, Appearance::Light, Appearance::Dark];

    pub fn label(self) -> &'static str {
        match self {
            Appearance::System => "Follow the system",
            Appearance::Light => "Light",
            Appearance::Dark => "Dark",
        }
    }

    pub fn preference(self) -> egui::ThemePreference {
        match self {
            Appearance::System => egui::ThemePreference::System,
            Appearance::Light => egui::ThemePreference::Light,
            Appearance::Dark => egui::ThemePreference::Dark,
        }
    }
}

/// [`Column`] as written to the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SortColumn {
    From,
    Subject,
    Date,
    Size,
}

impl Default for Layout {
    fn default() -> Self {
        Layout {
            window: [1200.0, 760.0],
            sidebar: 190.0,
            reader: 520.0,
            from: 200.0,
            date: 150.0,
            size: 84.0,
            sort_column: SortColumn::Date,
            ascending: false,
            theme: Appearance::System,
            zoom: 1.0,
        }
    }
}

impl Layout {
    pub fn path(config: &Path) -> PathBuf {
        config.with_file_name("window.json")
    }

    /// The remembered layout, or the default if there is none or it cannot be read.
    pub fn load(config: &Path) -> Layout {
        std::fs::read(Layout::path(config))
            .ok()
            .and_then(|bytes| serde_json::from_slice::<Layout>(&bytes).ok())
            .map(Layout::sane)
            .unwrap_or_default()
    }

    /// Sizes a person could have made, whatever the file says.
    fn sane(mut self) -> Layout {
        let d = Layout::default();
        let fix = |v: f32, min: f32, max: f32, default: f32| {
            if v.is_finite() && (min..=max).contains(&v) {
                v
            } else {
                default
            }
        };
        self.window = [
            fix(self.window[0], MIN_WINDOW[0], 10_000.0, d.window[0]),
            fix(self.window[1], MIN_WINDOW[1], 10_000.0, d.window[1]),
        ];
        self.sidebar = fix(self.sidebar, 100.0, 600.0, d.sidebar);
        self.reader = fix(self.reader, 200.0, 5_000.0, d.reader);
        self.from = fix(self.from, 60.0, 1_000.0, d.from);
        self.date = fix(self.date, 60.0, 400.0, d.date);
        self.size = fix(self.size, 50.0, 300.0, d.size);
        self.zoom = fix(self.zoom, 0.5, 3.0, d.zoom);
        self
    }

    pub fn sort(&self) -> Sort {
        Sort {
            column: match self.sort_column {
                SortColumn::From => Column::From,
                SortColumn::Subject => Column::Subject,
                SortColumn::Date => Column::Date,
                SortColumn::Size => Column::Size,
            },
            ascending: self.ascending,
        }
    }

    pub fn set_sort(&mut self, sort: Sort) {
        self.sort_column = match sort.column {
            Column::From => SortColumn::From,
            Column::Subject => SortColumn::Subject,
            Column::Date => SortColumn::Date,
            Column::Size => SortColumn::Size,
        };
        self.ascending = sort.ascending;
    }
}

/// Writes the layout when it has changed and has stayed so for a moment
/// (a drag changes it every frame), off the UI thread.
pub struct Keeper {
    path: PathBuf,
    saved: Layout,
    changed_at: Option<Instant>,
    writing: Option<std::thread::JoinHandle<()>>,
}

const SETTLE: Duration = Duration::from_millis(600);

impl Keeper {
    pub fn new(config: &Path, saved: Layout) -> Keeper {
        Keeper {
            path: Layout::path(config),
            saved,
            changed_at: None,
            writing: None,
        }
    }

    /// Called every frame with the layout as it is; returns how long until
    /// it should be looked at again, if a write is waiting.
    pub fn tick(&mut self, now: &Layout) -> Option<Duration> {
        if *now == self.saved {
            self.changed_at = None;
            return None;
        }
        let since = *self.changed_at.get_or_insert_with(Instant::now);
        if since.elapsed() < SETTLE {
            return Some(SETTLE.saturating_sub(since.elapsed()));
        }
        self.write(now);
        None
    }

    /// Writes now (the window is closing), if anything changed, and waits
    /// for the write.
    pub fn flush(&mut self, now: &Layout) {
        if *now != self.saved {
            self.write(now);
        }
        if let Some(writing) = self.writing.take() {
            let _ = writing.join();
        }
    }

    fn write(&mut self, now: &Layout) {
        self.saved = now.clone();
        self.changed_at = None;
        let (path, layout) = (self.path.clone(), now.clone());
        if let Some(earlier) = self.writing.take() {
            let _ = earlier.join();
        }
        self.writing = std::thread::Builder::new()
            .name("pipit-layout".into())
            .spawn(move || {
                let Ok(text) = serde_json::to_vec_pretty(&layout) else {
                    return;
                };
                if let Some(dir) = path.parent() {
                    let _ = std::fs::create_dir_all(dir);
                }
                // A layout lost to a crash costs nothing: no need for more than a rename.
                let tmp = path.with_extension("json.tmp");
                if std::fs::write(&tmp, text).is_ok() {
                    let _ = std::fs::rename(&tmp, &path);
                }
            })
            .ok();
    }
}

/// A resizable side panel whose width is the user's to set: the width
/// remembered in the layout is given to the panel every frame, so neither
/// wide contents (a long line in the reader) nor a small window can change
/// it for good; only a drag of its edge does.
pub struct Pane {
    dragging: bool,
}

impl Pane {
    /// Before the panel `salt` is shown in `ui`: hands it `wanted`, unless
    /// its edge is being dragged.
    pub fn before(ui: &egui::Ui, salt: &str, wanted: f32) -> Pane {
        // The ids egui gives a panel and its resize handle.
        let id = ui.scope_id().with(salt);
        let dragging = ui
            .ctx()
            .read_response(id.with("__resize"))
            .is_some_and(|r| r.dragged() || r.drag_stopped());
        if !dragging {
            let rect = egui::Rect::from_min_size(egui::Pos2::ZERO, egui::vec2(wanted, wanted));
            ui.ctx().data_mut(|d| {
                d.insert_persisted(id, egui::PanelState { outer_rect: rect });
            });
        }
        Pane { dragging }
    }

    /// After it was shown at `width`: the width the user chose, if they
    /// are dragging its edge.
    pub fn dragged_to(&self, width: f32) -> Option<f32> {
        self.dragging.then(|| width.round())
    }
}
