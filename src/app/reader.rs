//! The reading pane: headers, the text, attachments with Save and Open, and
//! for a message still on the server its TOP preview with Download and
//! Delete on server. Everything a message says is shown through
//! `crate::reveal`, so no character in it can pass one thing for another.

use egui::RichText;

use super::library::Opened;
use super::{PipitApp, Preview, Reading};
use crate::attachment::{AttachmentError, Folders};
use crate::reveal;
use crate::store::MessageState;

/// Attachment rows in view at once; more scroll.
const ATTACHMENT_ROWS: f32 = 16.0;

/// Bytes of text the reader lays out. egui lays a label's text out whole,
/// on the UI thread: a megabyte takes seconds. The store keeps all of it.
const SHOWN_TEXT: usize = 64 * 1024;

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
    if let Some(banner) = message_ui(ui, &opened, &mut app.attachment_folders) {
        app.banner = Some(banner);
    }
}

/// Subject, From, To, Cc, Date and account, and a caution where the sender
/// or the subject may imitate something else.
fn headers_ui(ui: &mut egui::Ui, opened: &Opened) {
    let d = &opened.detail;
    ui.add_space(4.0);
    let subject = super::list::display_subject(&d.summary.subject);
    few_lines(ui, &subject, egui::TextStyle::Heading);
    egui::Grid::new("headers")
        .num_columns(2)
        .spacing([8.0, 2.0])
        .show(ui, |ui| {
            let field = |ui: &mut egui::Ui, name: &str, value: &str| {
                if !value.is_empty() {
                    ui.label(RichText::new(name).weak());
                    few_lines(ui, &reveal::field(value), egui::TextStyle::Body);
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
    for caution in [
        reveal::caution("sender", &d.summary.from),
        reveal::caution("subject", &d.summary.subject),
    ]
    .into_iter()
    .flatten()
    {
        ui.colored_label(ui.visuals().warn_fg_color, caution);
    }
    ui.separator();
}

/// Header text on at most three lines, cut with "…", the whole of it on
/// hover: a header can run to thousands of characters, and the attachments
/// and the text below it must stay in view.
fn few_lines(ui: &mut egui::Ui, text: &str, style: egui::TextStyle) {
    let mut job = egui::text::LayoutJob::simple(
        text.to_owned(),
        style.resolve(ui.style()),
        ui.visuals().text_color(),
        ui.available_width(),
    );
    job.wrap.max_rows = 3;
    let galley = ui.fonts_mut(|f| f.layout_job(job));
    let elided = galley.elided;
    let shown = ui.add(egui::Label::new(galley));
    if elided {
        shown.on_hover_text(text);
    }
}

/// A whole message: headers, attachments with Save… and Open, and the text.
/// Returns what to tell the user after a click on Save or Open.
pub(super) fn message_ui(
    ui: &mut egui::Ui,
    opened: &Opened,
    folders: &mut Folders,
) -> Option<super::Banner> {
    headers_ui(ui, opened);
    let d = &opened.detail;
    let mut said = None;
    let count = opened.attachments.len();
    if count > 0 {
        if count as f32 > ATTACHMENT_ROWS {
            ui.label(format!("{count} attachments"));
        }
        let row_height = ui.spacing().interact_size.y;
        // Only the rows in view are laid out: a message can have 100,000.
        egui::ScrollArea::vertical()
            .id_salt("attachments")
            .max_height((row_height + ui.spacing().item_spacing.y) * ATTACHMENT_ROWS)
            .show_rows(ui, row_height, count, |ui, rows| {
                for a in &opened.attachments[rows] {
                    let runnable = crate::attachment::runnable(a);
                    // The buttons first: a long name never pushes them out of reach.
                    ui.horizontal(|ui| {
                        if ui
                            .small_button("Save…")
                            .on_hover_text("Save to your Downloads folder")
                            .clicked()
                        {
                            said = Some(attachment_banner(folders.save(a), "saved"));
                        }
                        let open = ui
                            .add_enabled(runnable.is_none(), egui::Button::new("Open").small())
                            .on_hover_text("Open with the program your desktop chooses");
                        let open = match &runnable {
                            Some(why) => open.on_disabled_hover_text(format!(
                                "Not opened: it is {why}, and the desktop may run it instead \
of showing it. Save it instead if you trust it and its sender."
                            )),
                            None => open,
                        };
                        if open.clicked() {
                            said = Some(attachment_banner(folders.open(a), "opened"));
                        }
                        let mut text = format!(
                            "Attachment: {} ({})",
                            short_name(&a.name),
                            crate::cli::human_bytes(a.bytes.len() as u64)
                        );
                        if let Some(why) = &runnable {
                            text.push_str(&format!(" — {}: Save only", why.kind));
                        }
                        if let Some(mix) = reveal::lookalikes(&a.name) {
                            text.push_str(&format!(" — caution: {mix}"));
                        }
                        ui.label(text).on_hover_text(reveal::field(&a.name));
                    });
                }
            });
        ui.separator();
    }
    egui::ScrollArea::vertical()
        .id_salt("body")
        .auto_shrink([false, false])
        .show(ui, |ui| {
            if d.text.trim().is_empty() {
                ui.label("(This message has no text.)");
                return;
            }
            let mut cut = SHOWN_TEXT.min(d.text.len());
            while !d.text.is_char_boundary(cut) {
                cut -= 1;
            }
            ui.add(
                egui::Label::new(reveal::text(&d.text[..cut]))
                    .selectable(true)
                    .wrap(),
            );
            if cut < d.text.len() {
                ui.weak(format!(
                    "The text goes on for {} more, not shown here: the message itself is kept \
whole, and Export writes all of it.",
                    crate::cli::human_bytes((d.text.len() - cut) as u64)
                ));
            }
        });
    said
}

/// An attachment's name as its row shows it: revealed, and a long one cut in
/// the middle, so its end, where the extension is, always shows.
fn short_name(name: &str) -> String {
    const HEAD: usize = 40;
    const TAIL: usize = 20;
    let count = name.chars().count();
    if count <= HEAD + TAIL + 1 {
        return reveal::field(name).into_owned();
    }
    let head: String = name.chars().take(HEAD).collect();
    let tail: String = name.chars().skip(count - TAIL).collect();
    format!("{}…{}", reveal::field(&head), reveal::field(&tail))
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

fn attachment_banner(
    result: Result<std::path::PathBuf, AttachmentError>,
    done: &str,
) -> super::Banner {
    match result {
        Ok(path) => super::Banner {
            error: false,
            text: format!("{} {}", capitalised(done), path.display()),
            detail: None,
            wrong_password: None,
        },
        Err(e) => super::Banner {
            error: true,
            text: format!("The attachment was not {done}"),
            detail: Some(e.to_string()),
            wrong_password: None,
        },
    }
}

fn capitalised(word: &str) -> String {
    let mut chars = word.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
