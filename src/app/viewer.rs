//! `pipit open FILE.eml`: one message file in a window of its own, as the
//! desktop opens it from a file manager. Nothing is stored.

use std::path::Path;
use std::sync::{Arc, Mutex};

use super::dialogs::{self, LinkAsk};
use super::library::Opened;
use super::reader::{self, Action};
use super::{Banner, fonts};
use crate::mime;
use crate::store::{Detail, MessageState, Summary};
use crate::worker::Promise;

pub struct Viewer {
    opened: Opened,
    pub banner: Option<Banner>,
    /// Where Save… and Open put attachments; used on job threads.
    pub attachment_folders: Arc<Mutex<crate::attachment::Folders>>,
    jobs: Vec<Promise<Option<Banner>>>,
    link: Option<LinkAsk>,
    /// The link question was open last frame.
    link_shown: bool,
    fonts_installed: bool,
    /// The main window's look and zoom, taken on the first frame.
    look: Option<(super::Appearance, f32)>,
    /// The user's own addresses, left out of Reply All.
    own: Vec<String>,
}

impl Viewer {
    /// Reads and parses a message file.
    pub fn load(path: &Path) -> Result<Viewer, String> {
        let raw =
            std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        Ok(Viewer::from_bytes(&raw, &path.display().to_string()))
    }

    pub fn from_bytes(raw: &[u8], name: &str) -> Viewer {
        let parsed = mime::parse(raw);
        let opened = Opened::whole(
            Detail {
                summary: Summary {
                    id: 0,
                    account: name.into(),
                    uid: "".into(),
                    from: parsed.from.as_str().into(),
                    subject: parsed.subject.as_str().into(),
                    date: parsed.date,
                    size: raw.len() as u64,
                    state: MessageState::Full,
                    attachments: parsed.attachments.clone().into(),
                    seen: true,
                    on_server: false,
                    trashed: false,
                },
                to: parsed.to,
                cc: parsed.cc,
                message_id: parsed.message_id,
                text: parsed.text,
                problem: String::new(),
            },
            raw,
        );
        Viewer {
            opened,
            banner: None,
            attachment_folders: Arc::default(),
            jobs: Vec::new(),
            link: None,
            link_shown: false,
            fonts_installed: false,
            look: None,
            own: Vec::new(),
        }
    }

    /// Takes from the profile what the main window would: its light or
    /// dark look and zoom (from `window.json`, only read), and the
    /// accounts' addresses, which Reply All leaves out.
    pub fn on_profile(mut self, paths: &crate::paths::Paths) -> Viewer {
        let layout = super::Layout::load(&paths.config);
        self.look = Some((layout.theme, layout.zoom));
        if let Ok(config) = crate::config::Config::load(&paths.config) {
            self.own = config
                .accounts
                .iter()
                .map(|a| a.user.clone())
                .filter(|u| u.contains('@'))
                .collect();
        }
        self
    }

    pub fn ui(&mut self, ui: &mut egui::Ui) {
        if !self.fonts_installed {
            fonts::install(ui.ctx());
            self.fonts_installed = true;
            // Once: Ctrl +/-/0 (egui's own keys here) change it for this window.
            if let Some((theme, zoom)) = self.look {
                ui.ctx().set_theme(theme.preference());
                ui.ctx().set_zoom_factor(zoom);
            }
        }
        for job in self.jobs.extract_if(.., |job| job.ready().is_some()) {
            if let Ok(Some(banner)) = job.try_take() {
                self.banner = Some(banner);
            }
        }
        if let Some(banner) = self.banner.clone() {
            egui::Panel::bottom("viewer-status").show(ui, |ui| {
                ui.horizontal(|ui| {
                    let color = if banner.error {
                        ui.visuals().error_fg_color
                    } else {
                        ui.visuals().text_color()
                    };
                    ui.colored_label(color, &banner.text);
                    if let Some(link) = &banner.link
                        && ui.button("Copy the link").clicked()
                    {
                        ui.ctx().copy_text(link.clone());
                    }
                    if ui.small_button("Dismiss").clicked() {
                        self.banner = None;
                    }
                });
                if let Some(detail) = &banner.detail {
                    ui.label(detail);
                }
            });
        }
        let scroll = self.keys(ui.ctx());
        let mut answer = if self.link.is_none() {
            reader::answer_keys(ui.ctx())
        } else {
            None
        };
        let actions = egui::CentralPanel::default_margins()
            .show(ui, |ui| {
                if let Some(kind) = reader::answer_row(ui) {
                    answer = Some(kind);
                }
                reader::message_ui(ui, &self.opened, "File", scroll)
            })
            .inner;
        if let Some(kind) = answer {
            let own: Vec<&str> = self.own.iter().map(String::as_str).collect();
            let mailto =
                crate::compose::mailto(&self.opened.reply, &self.opened.detail.text, kind, &own);
            self.spawn(ui.ctx(), move |folders| {
                Some(match reader::compose_job(folders, mailto) {
                    Ok(said) => Banner::info(said),
                    Err(banner) => *banner,
                })
            });
        }
        for action in actions {
            match action {
                Action::Link(link) => self.link = Some(link),
                action => self.spawn(ui.ctx(), move |folders| {
                    reader::attachment_job(folders, action)
                }),
            }
        }
        let fresh = self.link.is_some() && !self.link_shown;
        self.link_shown = self.link.is_some();
        if let Some(link) = self.link.clone() {
            // The main window's question, caution and all.
            match dialogs::link_question(ui.ctx(), egui::Id::unique("link"), &link, fresh) {
                Some(true) => {
                    self.link = None;
                    let target = link.target;
                    self.spawn(ui.ctx(), move |folders| reader::link_job(folders, &target));
                }
                Some(false) => self.link = None,
                None => {}
            }
        }
    }

    /// The reader's keys, as in the main window's reader: Space and Page
    /// Down a page on, Shift+Space and Page Up a page back, Home and End to
    /// the ends; Escape closes the question in sight, else the window.
    fn keys(&mut self, ctx: &egui::Context) -> Option<reader::Scroll> {
        use egui::{Key, Modifiers};
        use reader::Scroll;
        let escape = ctx.input_mut(|i| i.consume_key(Modifiers::NONE, Key::Escape));
        if self.link.is_some() {
            if escape {
                self.link = None;
            }
            return None;
        }
        if escape {
            ctx.send_viewport_cmd(egui::ViewportCommand::Close);
            return None;
        }
        // A button reached with Tab keeps Space, which presses it.
        let on_widget = ctx.memory(|m| m.focused()).is_some();
        ctx.input_mut(|i| {
            let keys = [
                (Modifiers::SHIFT, Key::Space, Scroll::Pages(-1.0)),
                (Modifiers::NONE, Key::Space, Scroll::Pages(1.0)),
                (Modifiers::NONE, Key::PageDown, Scroll::Pages(1.0)),
                (Modifiers::NONE, Key::PageUp, Scroll::Pages(-1.0)),
                (Modifiers::NONE, Key::Home, Scroll::Top),
                (Modifiers::NONE, Key::End, Scroll::Bottom),
            ];
            keys.into_iter()
                .filter(|(_, key, _)| !(on_widget && *key == Key::Space))
                .find(|(m, key, _)| i.consume_key(*m, *key))
                .map(|(_, _, scroll)| scroll)
        })
    }

    /// Runs `job` on a thread of its own; the banner it returns is shown.
    fn spawn(
        &mut self,
        ctx: &egui::Context,
        job: impl FnOnce(&Arc<Mutex<crate::attachment::Folders>>) -> Option<Banner> + Send + 'static,
    ) {
        let folders = self.attachment_folders.clone();
        let ctx = ctx.clone();
        let notify: crate::worker::Notify = Arc::new(move || ctx.request_repaint());
        self.jobs.push(crate::worker::spawn_promise(
            "pipit-attachment",
            notify,
            move || job(&folders),
            |e| {
                Some(Banner {
                    error: true,
                    text: "Pipit could not start a background task.".into(),
                    detail: Some(e.to_string()),
                    ..Banner::default()
                })
            },
        ));
    }
}

impl eframe::App for Viewer {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        Viewer::ui(self, ui);
    }
}
