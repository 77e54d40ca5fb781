//! The reading pane: headers, the text, attachments with Save and Open, and
//! for a message still on the server its TOP preview with Download and
//! Delete on server.

use std::path::PathBuf;

use egui::RichText;

use super::library::Opened;
use super::{PipitApp, Preview, Reading};
use crate::mime::Attachment;
use crate::store::MessageState;

pub fn ui(ui: &mut egui::Ui, app: &mut PipitApp) {
    let Some(id) = app.selected else {
        ui.add_space(20.0);
        ui.vertical_centered(|ui| ui.weak("Select a message to read it."));
        return;
    };
    let opened = match &app.reading {
        None | Some(Reading::Loading) => {
            ui.spinner();
            return;
        }
        Some(Reading::Failed(e)) => {
            ui.colored_label(
                ui.visuals().error_fg_color,
                format!("This message could not be opened: {e}"),
            );
            return;
        }
        Some(Reading::Ready(opened)) => opened.clone(),
    };
    if opened.detail.summary.state == MessageState::Headers {
        headers_ui(ui, &opened);
        if !opened.detail.problem.is_empty() {
            ui.colored_label(
                ui.visuals().warn_fg_color,
                format!("Why only its headers are here: {}.", opened.detail.problem),
            );
        }
        if opened.detail.summary.on_server {
            on_server_ui(ui, app, id, opened.detail.summary.size);
        } else {
            // Nothing to download or delete: offer nothing that cannot work.
            ui.label(format!(
                "This message ({}) is no longer on the server: only its headers were downloaded, and they are all Pipit has of it.",
                crate::cli::human_bytes(opened.detail.summary.size)
            ));
        }
        return;
    }
    if let Some(banner) = message_ui(ui, &opened) {
        app.banner = Some(banner);
    }
}

/// Subject, From, To, Cc, Date and account.
fn headers_ui(ui: &mut egui::Ui, opened: &Opened) {
    let d = &opened.detail;
    ui.add_space(4.0);
    ui.label(RichText::new(super::list::display_subject(&d.summary.subject)).heading());
    egui::Grid::new("headers")
        .num_columns(2)
        .spacing([8.0, 2.0])
        .show(ui, |ui| {
            let field = |ui: &mut egui::Ui, name: &str, value: &str| {
                if !value.is_empty() {
                    ui.label(RichText::new(name).weak());
                    ui.add(egui::Label::new(value).wrap());
                    ui.end_row();
                }
            };
            field(ui, "From", &d.summary.from);
            field(ui, "To", &d.to);
            field(ui, "Cc", &d.cc);
            let date = d
                .summary
                .date
                .map(|t| crate::dates::Civil::from_unix(t).short())
                .unwrap_or_default();
            field(ui, "Date", &date);
            field(ui, "Account", &d.summary.account);
        });
    ui.separator();
}

/// A whole message: headers, attachments with Save… and Open, and the text.
/// Returns what to tell the user after a click on Save or Open.
pub(super) fn message_ui(ui: &mut egui::Ui, opened: &Opened) -> Option<super::Banner> {
    headers_ui(ui, opened);
    let d = &opened.detail;
    let mut said = None;
    if !opened.attachments.is_empty() {
        for (i, a) in opened.attachments.iter().enumerate() {
            ui.horizontal(|ui| {
                ui.label(format!(
                    "Attachment: {} ({})",
                    a.name,
                    crate::cli::human_bytes(a.bytes.len() as u64)
                ));
                if ui
                    .small_button("Save…")
                    .on_hover_text("Save to your Downloads folder")
                    .clicked()
                {
                    said = Some(attachment_banner(save(a), "Saved"));
                }
                if ui
                    .small_button("Open")
                    .on_hover_text("Open with the program your desktop chooses")
                    .clicked()
                {
                    said = Some(attachment_banner(open(a, d.summary.id, i), "Opened"));
                }
            });
        }
        ui.separator();
    }
    egui::ScrollArea::vertical()
        .id_salt("body")
        .auto_shrink([false, false])
        .show(ui, |ui| {
            let text = if d.text.trim().is_empty() {
                "(This message has no text.)"
            } else {
                d.text.as_str()
            };
            ui.add(egui::Label::new(text).selectable(true).wrap());
        });
    said
}

fn on_server_ui(ui: &mut egui::Ui, app: &mut PipitApp, id: i64, size: u64) {
    ui.label(format!(
        "This message ({}) is still on the server: only its headers are here.",
        crate::cli::human_bytes(size)
    ));
    ui.horizontal(|ui| {
        if ui
            .button("Download")
            .on_hover_text("Download the whole message now")
            .clicked()
        {
            app.download(id);
        }
        if ui
            .button("Delete on server")
            .on_hover_text("Move it to Trash and delete it on the server without downloading it")
            .clicked()
        {
            app.delete_on_server(id);
        }
    });
    ui.separator();
    if !app.previews.contains_key(&id) {
        app.request_preview(id);
    }
    match app.previews.get(&id) {
        Some(Preview::Ready(text)) => {
            ui.label(RichText::new("Preview (headers and first lines, via TOP)").weak());
            egui::ScrollArea::vertical()
                .id_salt("preview")
                .auto_shrink([false, false])
                .show(ui, |ui| {
                    ui.add(
                        egui::Label::new(RichText::new(text).monospace())
                            .selectable(true)
                            .wrap(),
                    );
                });
        }
        Some(Preview::Failed(e)) => {
            ui.colored_label(
                ui.visuals().error_fg_color,
                format!("The preview failed: {e}"),
            );
            if ui.button("Try again").clicked() {
                app.request_preview(id);
            }
        }
        Some(Preview::Loading) | None => {
            ui.horizontal(|ui| {
                ui.spinner();
                ui.label("Fetching a preview from the server…");
            });
        }
    }
}

fn attachment_banner(result: Result<PathBuf, String>, done: &str) -> super::Banner {
    match result {
        Ok(path) => super::Banner {
            error: false,
            text: format!("{done} {}", path.display()),
            detail: None,
            wrong_password: None,
        },
        Err(e) => super::Banner {
            error: true,
            text: "The attachment could not be saved".into(),
            detail: Some(e),
            wrong_password: None,
        },
    }
}

/// A file name safe to create: no directories, no leading dots.
fn safe_name(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c == '/' || c == '\\' || c.is_control() {
                '_'
            } else {
                c
            }
        })
        .collect();
    let cleaned = cleaned.trim_start_matches('.').trim();
    if cleaned.is_empty() {
        "attachment".into()
    } else {
        cleaned.to_string()
    }
}

/// Writes into the Downloads folder, never over an existing file.
fn save(a: &Attachment) -> Result<PathBuf, String> {
    let dir = directories::UserDirs::new()
        .and_then(|u| u.download_dir().map(PathBuf::from))
        .or_else(|| directories::UserDirs::new().map(|u| u.home_dir().to_path_buf()))
        .ok_or("no Downloads folder was found")?;
    let name = safe_name(&a.name);
    let (stem, ext) = match name.rsplit_once('.') {
        Some((s, e)) if !s.is_empty() => (s.to_string(), format!(".{e}")),
        _ => (name.clone(), String::new()),
    };
    for n in 0..1000 {
        let candidate = if n == 0 {
            dir.join(&name)
        } else {
            dir.join(format!("{stem} ({n}){ext}"))
        };
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&candidate)
        {
            Ok(mut f) => {
                use std::io::Write as _;
                f.write_all(&a.bytes)
                    .map_err(|e| format!("cannot write {}: {e}", candidate.display()))?;
                return Ok(candidate);
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(format!("cannot write {}: {e}", candidate.display())),
        }
    }
    Err("too many files of that name in Downloads".into())
}

/// Writes to a private temporary folder and hands it to the desktop.
fn open(a: &Attachment, id: i64, index: usize) -> Result<PathBuf, String> {
    let dir = std::env::temp_dir()
        .join(format!("pipit-{}", std::process::id()))
        .join(format!("{id}-{index}"));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let path = dir.join(safe_name(&a.name));
    std::fs::write(&path, &a.bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    std::process::Command::new("xdg-open")
        .arg(&path)
        .spawn()
        .map_err(|e| format!("cannot start xdg-open to open {}: {e}", path.display()))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::safe_name;

    #[test]
    fn attachment_names_cannot_escape_the_folder() {
        assert_eq!(safe_name("../../etc/passwd"), "_.._etc_passwd");
        assert_eq!(safe_name(".bashrc"), "bashrc");
        assert_eq!(safe_name(""), "attachment");
        assert_eq!(safe_name("report.pdf"), "report.pdf");
    }
}
