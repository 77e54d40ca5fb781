//! The reading pane: headers, the text (HTML with its structure), and
//! attachments with Save… and Open; for a message still on the server its
//! TOP preview with Download and Delete on server; for one that has left the
//! server, that, and nothing that cannot work. Everything a message says is
//! shown through `crate::reveal`, so no character in it can pass one thing
//! for another.

use std::sync::{Arc, Mutex};

use egui::RichText;

use super::library::Opened;
use super::{Banner, LinkAsk, PipitApp, Preview, Reading, words};
use crate::attachment::{Folders, Saved};
use crate::mime::Attachment;
use crate::reveal;
use crate::store::MessageState;
use crate::units::human_bytes;

/// Attachment rows in view at once; more scroll.
const ATTACHMENT_ROWS: f32 = 16.0;

/// Bytes of text the reader lays out. egui lays a label's text out whole,
/// on the UI thread: a megabyte takes seconds. The store keeps all of it.
const SHOWN_TEXT: usize = 64 * 1024;

/// How the message's text is scrolled this frame, by the keyboard.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Scroll {
    /// This many pages on (back, if negative).
    Pages(f32),
    Top,
    Bottom,
}

/// What a click in a message asks for.
pub enum Action {
    Save(Attachment),
    Open(Attachment),
    Link(LinkAsk),
}

pub fn ui(ui: &mut egui::Ui, app: &mut PipitApp) {
    let Some(id) = app.selected else {
        ui.add_space(20.0);
        ui.vertical_centered(|ui| ui.weak("Select a message to read it."));
        return;
    };
    // In On server: what the server holds of it and what becomes of it
    // there, above the message (or all there is, for one removed for good).
    if app.view == super::View::OnServer
        && let Some(row) = app.inventory_row(id).cloned()
    {
        if row.summary.state == MessageState::Purged {
            super::inventory::tombstone_ui(ui, &row);
            return;
        }
        super::inventory::facts_ui(ui, &row);
    }
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
    let summary = &opened.detail.summary;
    if summary.state != MessageState::Headers {
        if let Some(kind) = answer_row(ui) {
            app.compose(kind);
        }
        let page = app.reader_scroll.take().map(Scroll::Pages);
        let actions = message_ui(ui, &opened, "Account", page);
        for action in actions {
            act(app, action);
        }
        return;
    }
    headers_ui(ui, &opened, "Account");
    if !opened.detail.problem.is_empty() {
        ui.colored_label(
            ui.visuals().warn_fg_color,
            format!("Why only its headers are here: {}.", opened.detail.problem),
        );
    }
    let size = human_bytes(summary.size);
    match (summary.trashed, summary.on_server) {
        (true, true) => {
            ui.label(format!(
                "In Trash: this message ({size}) is deleted on the server at the next Get Mail, \
without being downloaded. Restore takes it back."
            ));
        }
        (true, false) => {
            ui.label(format!(
                "Deleted on the server: this message ({size}) was never downloaded; its headers \
are all Pipit has of it."
            ));
        }
        (false, true) => on_server_ui(ui, app, id, summary.size, &summary.account),
        (false, false) => {
            // Nothing to download or delete: offer nothing that cannot work.
            ui.label(format!(
                "This message ({size}) is no longer on the server: only its headers were \
downloaded, and they are all Pipit has of it."
            ));
        }
    }
}

/// Reply, Reply All and Forward, above a whole message: each hands it to
/// the desktop's mail composer. Returns the one clicked.
pub(super) fn answer_row(ui: &mut egui::Ui) -> Option<crate::compose::Kind> {
    use super::UiCommand;
    use crate::compose::Kind;
    let mut clicked = None;
    ui.horizontal(|ui| {
        for (command, kind) in [
            (UiCommand::Reply, Kind::Reply),
            (UiCommand::ReplyAll, Kind::ReplyAll),
            (UiCommand::Forward, Kind::Forward),
        ] {
            if ui
                .button(command.label())
                .on_hover_text(command.tooltip())
                .clicked()
            {
                clicked = Some(kind);
            }
        }
    });
    clicked
}

/// The keys of Reply, Reply All and Forward pressed this frame (consumed),
/// for a window without the main window's commands.
pub(super) fn answer_keys(ctx: &egui::Context) -> Option<crate::compose::Kind> {
    use super::UiCommand;
    use crate::compose::Kind;
    // Reply All first: its key is Reply's with Shift.
    [
        (UiCommand::ReplyAll, Kind::ReplyAll),
        (UiCommand::Reply, Kind::Reply),
        (UiCommand::Forward, Kind::Forward),
    ]
    .into_iter()
    .find(|(command, _)| {
        ctx.input_mut(|i| {
            command
                .global_shortcuts()
                .iter()
                .any(|s| i.consume_shortcut(s))
        })
    })
    .map(|(_, kind)| kind)
}

/// Hands a reply or a forward to the desktop's mail composer (on a job
/// thread: the opener is given a moment to say it failed); the word for
/// the footer when it went, the banner when it did not.
pub fn compose_job(
    folders: &Arc<Mutex<Folders>>,
    mailto: crate::compose::Mailto,
) -> Result<&'static str, Box<Banner>> {
    let folders = folders.lock().unwrap_or_else(|e| e.into_inner());
    match folders.compose(&mailto.uri) {
        Ok(()) if mailto.shortened => {
            Ok("Handed to your mail program (the quoted text was shortened to fit: it says so)")
        }
        Ok(()) => Ok("Handed to your mail program"),
        Err(e) => Err(Box::new(Banner {
            link: Some(mailto.uri),
            ..Banner::failure(&words::compose_error(&e))
        })),
    }
}

/// Carries out a click in the reader: Save and Open on a thread of their
/// own (the disk, and the desktop's file chooser over D-Bus).
fn act(app: &mut PipitApp, action: Action) {
    match action {
        Action::Link(target) => app.link = Some(target),
        action => {
            let folders = app.attachment_folders.clone();
            app.spawn_job("pipit-attachment", move || {
                let banner = attachment_job(&folders, action);
                Box::new(move |app: &mut PipitApp| {
                    if let Some(banner) = banner {
                        app.banner = Some(banner);
                    }
                })
            });
        }
    }
}

/// Saves or opens an attachment; what to tell the user, if anything.
pub fn attachment_job(folders: &Arc<Mutex<Folders>>, action: Action) -> Option<Banner> {
    let mut folders = folders.lock().unwrap_or_else(|e| e.into_inner());
    match action {
        Action::Save(a) => match folders.save_chosen(&a) {
            Ok(Saved::At {
                path,
                fallback: None,
            }) => Some(Banner::info(format!("Saved {}", path.display()))),
            Ok(Saved::At {
                path,
                fallback: Some(why),
            }) => Some(Banner {
                error: false,
                text: format!(
                    "Saved {} (no file chooser is available on this desktop, so it went to the \
Downloads folder)",
                    path.display()
                ),
                detail: Some(why),
                ..Banner::default()
            }),
            Ok(Saved::Cancelled) => None,
            Err(e) => Some(Banner::failure(&words::attachment_error(&e, "saved"))),
        },
        Action::Open(a) => Some(match folders.open(&a) {
            Ok(path) => Banner::info(format!("Opened {}", path.display())),
            Err(e) => Banner::failure(&words::attachment_error(&e, "opened")),
        }),
        Action::Link(_) => None,
    }
}

/// Opens a link in the browser (on a job thread: the opener is given a
/// moment to say it failed); what to tell the user, if it failed.
pub fn link_job(folders: &Arc<Mutex<Folders>>, target: &str) -> Option<Banner> {
    let folders = folders.lock().unwrap_or_else(|e| e.into_inner());
    match folders.open_link(target) {
        Ok(()) => None,
        Err(e) => Some(Banner {
            link: Some(target.to_string()),
            ..Banner::failure(&words::link_error(&e))
        }),
    }
}

/// Subject, From, To, Cc, Date and where it came from (`source`: "Account",
/// or "File" for a message file), and a caution where the sender or the
/// subject may imitate something else.
fn headers_ui(ui: &mut egui::Ui, opened: &Opened, source: &str) {
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
                .map(|t| crate::dates::full_local(t, &crate::dates::local_offset))
                .unwrap_or_default();
            field(ui, "Date", &date);
            field(ui, source, &d.summary.account);
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

/// A whole message: headers, attachments with Save… and Open, and the text,
/// scrolled as `scroll` says. Returns what was clicked.
pub(super) fn message_ui(
    ui: &mut egui::Ui,
    opened: &Opened,
    source: &str,
    scroll: Option<Scroll>,
) -> Vec<Action> {
    headers_ui(ui, opened, source);
    let d = &opened.detail;
    let mut actions = Vec::new();
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
                    attachment_row(ui, a, &mut actions);
                }
            });
        ui.separator();
    }
    egui::ScrollArea::vertical()
        .id_salt("body")
        .auto_shrink([false, false])
        .show(ui, |ui| {
            let height = ui.clip_rect().height() * 0.9;
            match scroll {
                Some(Scroll::Pages(pages)) => {
                    ui.scroll_with_delta(egui::vec2(0.0, -height * pages));
                }
                // As far as it goes: the scroll area stops at the ends.
                Some(Scroll::Top) => ui.scroll_with_delta(egui::vec2(0.0, f32::MAX / 4.0)),
                Some(Scroll::Bottom) => ui.scroll_with_delta(egui::vec2(0.0, -f32::MAX / 4.0)),
                None => {}
            }
            if let Some(html) = &opened.html {
                if let Some(target) = super::html_view::ui(ui, html) {
                    actions.push(Action::Link(target));
                }
                return;
            }
            text_ui(ui, &d.text);
        });
    actions
}

fn text_ui(ui: &mut egui::Ui, text: &str) {
    if text.trim().is_empty() {
        ui.label("(This message has no text.)");
        return;
    }
    let mut cut = SHOWN_TEXT.min(text.len());
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    let shown = reveal::text(&text[..cut]);
    if shown.lines().any(|line| quote_depth(line) > 0) {
        ui.add(
            egui::Label::new(quoted_job(ui, &shown))
                .selectable(true)
                .wrap(),
        );
    } else {
        ui.add(egui::Label::new(shown).selectable(true).wrap());
    }
    if cut < text.len() {
        ui.weak(format!(
            "The text goes on for {} more, not shown here: the message itself is kept \
whole, and Export writes all of it.",
            human_bytes((text.len() - cut) as u64)
        ));
    }
}

/// How deep a line of text is quoted: the ">" in front of it, spaces
/// between them allowed ("> > " is two deep, as is ">> ").
pub fn quote_depth(line: &str) -> usize {
    let mut depth = 0;
    for c in line.chars() {
        match c {
            '>' => depth += 1,
            ' ' | '\t' if depth > 0 => {}
            _ => break,
        }
    }
    depth
}

/// The colour of text quoted `depth` deep (from 1), readable on the
/// reader's background in light and dark alike; past four the colours
/// come round again.
pub fn quote_color(depth: usize, dark: bool) -> egui::Color32 {
    use egui::Color32;
    const LIGHT: [Color32; 4] = [
        Color32::from_rgb(0x1f, 0x4e, 0x9e),
        Color32::from_rgb(0x1d, 0x6b, 0x2f),
        Color32::from_rgb(0x8a, 0x4b, 0x00),
        Color32::from_rgb(0x7a, 0x2e, 0x8c),
    ];
    const DARK: [Color32; 4] = [
        Color32::from_rgb(0x8a, 0xb4, 0xf8),
        Color32::from_rgb(0x81, 0xc9, 0x95),
        Color32::from_rgb(0xf0, 0xb4, 0x6e),
        Color32::from_rgb(0xd2, 0x9b, 0xe6),
    ];
    let palette = if dark { &DARK } else { &LIGHT };
    palette[depth.saturating_sub(1) % palette.len()]
}

/// Text with its quoted lines coloured by their depth.
fn quoted_job(ui: &egui::Ui, text: &str) -> egui::text::LayoutJob {
    let font = egui::TextStyle::Body.resolve(ui.style());
    let visuals = ui.visuals();
    let mut job = egui::text::LayoutJob::default();
    for line in text.split_inclusive('\n') {
        let color = match quote_depth(line) {
            0 => visuals.text_color(),
            depth => quote_color(depth, visuals.dark_mode),
        };
        job.append(line, 0.0, egui::TextFormat::simple(font.clone(), color));
    }
    job
}

fn attachment_row(ui: &mut egui::Ui, a: &Attachment, actions: &mut Vec<Action>) {
    let runnable = crate::attachment::runnable(a);
    // The buttons first: a long name never pushes them out of reach.
    ui.horizontal(|ui| {
        if ui
            .small_button("Save…")
            .on_hover_text("Choose where to save it (your Downloads folder to start with)")
            .clicked()
        {
            actions.push(Action::Save(a.clone()));
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
            actions.push(Action::Open(a.clone()));
        }
        let mut text = format!(
            "Attachment: {} ({})",
            short_name(&a.name),
            human_bytes(a.bytes.len() as u64)
        );
        if let Some(why) = &runnable {
            text.push_str(&format!(" — {}: Save only", why.kind));
        }
        if let Some(mix) = reveal::lookalikes(&a.name) {
            text.push_str(&format!(" — caution: {mix}"));
        }
        ui.add(egui::Label::new(text).truncate())
            .on_hover_text(reveal::field(&a.name));
    });
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

fn on_server_ui(ui: &mut egui::Ui, app: &mut PipitApp, id: i64, size: u64, account: &str) {
    if app.downloading.contains(&id) {
        ui.horizontal(|ui| {
            ui.spinner();
            // Wrapped: a line that does not fit must not widen the pane.
            ui.add(
                egui::Label::new(format!(
                    "Downloading the whole message ({})… it shows here once it is stored.",
                    human_bytes(size)
                ))
                .wrap(),
            );
        });
        return;
    }
    ui.label(format!(
        "This message ({}) is still on the server: only its headers are here.",
        human_bytes(size)
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
            .button("Delete on server…")
            .on_hover_text("Delete it on the server without downloading it (asks first)")
            .clicked()
        {
            let subject = app
                .selected_row()
                .map(|r| super::list::display_subject(&r.subject))
                .unwrap_or_default();
            app.confirm = Some(app.confirm_delete_on_server(id, account, subject));
        }
    });
    ui.separator();
    if !app.previews.contains_key(&id) {
        app.request_preview(id, account);
    }
    match app.previews.get(&id).cloned() {
        Some(Preview::Ready(preview)) => {
            ui.label(RichText::new("Preview: its first lines, read from the server").weak());
            let names = &preview.detail.summary.attachments;
            if !names.is_empty() {
                ui.label(format!(
                    "Attachments: {}",
                    names
                        .iter()
                        .map(|n| reveal::field(n).into_owned())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
            }
            let mut link = None;
            egui::ScrollArea::vertical()
                .id_salt("preview")
                .auto_shrink([false, false])
                .show(ui, |ui| {
                    if let Some(html) = &preview.html {
                        link = super::html_view::ui(ui, html);
                    } else {
                        text_ui(ui, &preview.detail.text);
                    }
                    ui.weak("… the rest is on the server: Download brings all of it.");
                });
            if let Some(target) = link {
                app.link = Some(target);
            }
        }
        Some(Preview::Failed(e)) => {
            ui.colored_label(
                ui.visuals().error_fg_color,
                format!("The preview could not be fetched. {e}"),
            );
            if ui.button("Try again").clicked() {
                app.request_preview(id, account);
            }
        }
        Some(Preview::Loading) | None => {
            ui.horizontal(|ui| {
                ui.spinner();
                if app.fetching.contains(account) {
                    ui.add(
                        egui::Label::new(
                            "Waiting for Get Mail to finish, then fetching a preview…",
                        )
                        .wrap(),
                    );
                } else {
                    ui.add(egui::Label::new("Fetching a preview from the server…").wrap());
                }
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quote_depth_counts_the_marks_in_front() {
        assert_eq!(quote_depth("plain > not a quote"), 0);
        assert_eq!(quote_depth(""), 0);
        assert_eq!(quote_depth(" > indented is not a quote"), 0);
        assert_eq!(quote_depth("> one"), 1);
        assert_eq!(quote_depth(">one"), 1);
        assert_eq!(quote_depth(">"), 1);
        assert_eq!(quote_depth(">> two"), 2);
        assert_eq!(quote_depth("> > two"), 2);
        assert_eq!(quote_depth(">>> > four\r\n"), 4);
        assert_eq!(quote_depth("> a > b"), 1);
    }

    /// WCAG's contrast ratio of two colours.
    fn contrast(a: egui::Color32, b: egui::Color32) -> f32 {
        let lum = |c: egui::Color32| {
            let lin = |v: u8| {
                let v = f32::from(v) / 255.0;
                if v <= 0.039_28 {
                    v / 12.92
                } else {
                    ((v + 0.055) / 1.055).powf(2.4)
                }
            };
            0.2126 * lin(c.r()) + 0.7152 * lin(c.g()) + 0.0722 * lin(c.b())
        };
        let (x, y) = (lum(a), lum(b));
        (x.max(y) + 0.05) / (x.min(y) + 0.05)
    }

    #[test]
    fn each_depth_has_its_own_colour_readable_in_light_and_dark() {
        for dark in [false, true] {
            let visuals = if dark {
                egui::Visuals::dark()
            } else {
                egui::Visuals::light()
            };
            let colors: Vec<_> = (1..=4).map(|d| quote_color(d, dark)).collect();
            for (i, c) in colors.iter().enumerate() {
                assert!(
                    contrast(*c, visuals.panel_fill) >= 4.5,
                    "depth {} in {} mode: {}",
                    i + 1,
                    if dark { "dark" } else { "light" },
                    contrast(*c, visuals.panel_fill)
                );
                assert!(!colors[..i].contains(c));
                assert_ne!(*c, visuals.text_color());
            }
            assert_eq!(quote_color(5, dark), quote_color(1, dark));
        }
    }
}
