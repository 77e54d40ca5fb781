//! `pipit open FILE.eml`: one message file in a window of its own, as the
//! desktop opens it from a file manager. Nothing is stored.

use std::path::Path;

use super::library::Opened;
use super::{Banner, reader};
use crate::mime;
use crate::store::{Detail, MessageState, Summary};

pub struct Viewer {
    opened: Opened,
    banner: Option<Banner>,
    /// Where Save… and Open put attachments.
    pub attachment_folders: crate::attachment::Folders,
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
        let opened = Opened {
            detail: Detail {
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
            attachments: mime::attachments(raw),
        };
        Viewer {
            opened,
            banner: None,
            attachment_folders: crate::attachment::Folders::default(),
        }
    }

    pub fn ui(&mut self, ui: &mut egui::Ui) {
        if let Some(banner) = self.banner.clone() {
            egui::Panel::bottom("viewer-status").show(ui, |ui| {
                ui.horizontal(|ui| {
                    let color = if banner.error {
                        ui.visuals().error_fg_color
                    } else {
                        ui.visuals().text_color()
                    };
                    ui.colored_label(color, &banner.text);
                    if ui.small_button("Dismiss").clicked() {
                        self.banner = None;
                    }
                });
                if let Some(detail) = &banner.detail {
                    ui.label(detail);
                }
            });
        }
        egui::CentralPanel::default_margins().show(ui, |ui| {
            if let Some(banner) = reader::message_ui(ui, &self.opened, &mut self.attachment_folders)
            {
                self.banner = Some(banner);
            }
        });
    }
}

impl eframe::App for Viewer {
    fn ui(&mut self, ui: &mut egui::Ui, _frame: &mut eframe::Frame) {
        Viewer::ui(self, ui);
    }
}
