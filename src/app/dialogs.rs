//! The small dialogs: confirming what cannot be undone, the shortcut list
//! (F1), and a link's real target before the browser opens it.

use egui::{Id, LayerId, Modal, Order, RichText};

use super::library::Query;
use super::{PipitApp, UiCommand};

/// The window's dialogs, each a modal on a layer of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dialog {
    Link,
    Confirm,
    Help,
    Password,
    SignIn,
    CheckServer,
    Account,
    Rules,
}

impl Dialog {
    pub fn id(self) -> Id {
        Id::unique(("pipit-dialog", self))
    }

    pub fn layer(self) -> LayerId {
        LayerId::new(Order::Foreground, self.id())
    }
}

/// Where a dialog stands once it has settled, and its size as last drawn.
#[derive(Clone, Copy, Debug, Default)]
struct Placed {
    pos: Option<egui::Pos2>,
    size: egui::Vec2,
    last_frame: u64,
    frames: u32,
}

/// Frames a dialog takes to settle at the centre (egui sizes an area on
/// its first, unseen, frame).
const SETTLE_FRAMES: u32 = 3;

/// Shows the modal dialog `id`: centred when it opens, then kept where it
/// stood while its contents grow or shrink (More settings, an error under
/// a field), moved only as far as it takes to stay on the screen.
pub fn modal<R>(
    ctx: &egui::Context,
    id: Id,
    content: impl FnOnce(&mut egui::Ui) -> R,
) -> egui::ModalResponse<R> {
    let key = id.with("placed");
    let frame = ctx.cumulative_frame_nr();
    let mut placed: Placed = ctx.data(|d| d.get_temp(key)).unwrap_or_default();
    if placed.last_frame + 1 < frame {
        // Closed since: it opens anew, centred.
        placed = Placed::default();
    }
    let mut modal = Modal::new(id);
    if let Some(pos) = placed.pos {
        let screen = ctx.content_rect();
        let at = egui::pos2(
            pos.x.min(screen.right() - placed.size.x).max(screen.left()),
            pos.y.min(screen.bottom() - placed.size.y).max(screen.top()),
        );
        modal = modal.area(
            egui::Area::new(id)
                .kind(egui::UiKind::Modal)
                .sense(egui::Sense::hover())
                .order(Order::Foreground)
                .interactable(true)
                .fixed_pos(at),
        );
    }
    let response = modal.show(ctx, content);
    let rect = response.response.rect;
    placed.size = rect.size();
    placed.last_frame = frame;
    placed.frames += 1;
    if placed.pos.is_none() && placed.frames >= SETTLE_FRAMES {
        placed.pos = Some(rect.min);
    }
    ctx.data_mut(|d| d.insert_temp(key, placed));
    response
}

/// Lets the modal dialog `id` open anew at the centre on its next frame:
/// for a dialog whose contents have changed wholesale (a report in place of
/// a spinner), which would otherwise grow off the screen from where it stood.
pub fn recentre(ctx: &egui::Context, id: Id) {
    ctx.data_mut(|d| d.remove::<Placed>(id.with("placed")));
}

/// The dialogs open now, the top one first. The top one is drawn above the
/// others and takes the keys; Escape closes it first. A question asked from
/// a dialog (Remove account…) is above the dialog that asked it.
pub fn open(app: &PipitApp) -> Vec<Dialog> {
    [
        (app.link.is_some(), Dialog::Link),
        (app.confirm.is_some(), Dialog::Confirm),
        (app.show_help, Dialog::Help),
        (app.password_dialog.is_some(), Dialog::Password),
        (app.sign_in_dialog.is_some(), Dialog::SignIn),
        (app.check_run.is_some(), Dialog::CheckServer),
        (app.account_dialog.is_some(), Dialog::Account),
        (app.rules_dialog.is_some(), Dialog::Rules),
    ]
    .into_iter()
    .filter_map(|(open, d)| open.then_some(d))
    .collect()
}

/// Puts the top dialog above the other dialogs: egui keeps the order its
/// layers were first shown in, and a dialog shown again (a second
/// question) would otherwise come up behind the one that asked it. Only
/// when it is not above them already, so a dialog's own pop-ups (the
/// Security choice) stay above it.
pub fn raise_top(ctx: &egui::Context, app: &PipitApp) {
    let open = open(app);
    let Some((top, others)) = open.split_first() else {
        return;
    };
    let order: Vec<LayerId> = ctx.memory(|m| m.layer_ids().collect());
    let at = |d: &Dialog| order.iter().position(|l| *l == d.layer());
    let top_at = at(top);
    if others.iter().any(|d| at(d) > top_at) {
        ctx.move_to_top(top.layer());
    }
}

/// A step that cannot be undone, waiting for the user's yes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Confirm {
    /// Delete a message on the server without downloading it.
    DeleteOnServer {
        id: i64,
        subject: String,
        /// The account's other messages due to go from the server at its
        /// next pass, which this one is: `None` where not known (the On
        /// server view knows).
        others: Option<usize>,
    },
    /// Remove one message in Trash for good.
    DeleteForever {
        id: i64,
        subject: String,
    },
    EmptyTrash {
        count: usize,
    },
    /// Remove an account's settings and password.
    RemoveAccount {
        name: String,
    },
    /// Close the account dialog, throwing away what was typed in it.
    DiscardAccountEdits,
}

impl Confirm {
    fn words(&self) -> (&'static str, String, &'static str) {
        match self {
            Confirm::DeleteOnServer {
                subject, others, ..
            } => (
                "Delete on the server?",
                format!(
                    "\u{201c}{subject}\u{201d} will be deleted on the server now, without being \
downloaded. Its headers go to Trash; the message itself cannot be brought back.{}",
                    match others {
                        Some(0) => String::new(),
                        Some(1) =>
                            " This is a Get Mail of the account: the 1 other message due to \
go from the server (in Trash, or by the account's policy) goes too."
                                .to_string(),
                        Some(n) => format!(
                            " This is a Get Mail of the account: the {n} other messages due to go \
from the server (in Trash, or by the account's policy) go too."
                        ),
                        None => " This is a Get Mail of the account: any other message due to go \
from the server (in Trash, or by the account's policy) goes too."
                            .to_string(),
                    }
                ),
                "Delete on server",
            ),
            Confirm::DeleteForever { subject, .. } => (
                "Delete for good?",
                format!(
                    "\u{201c}{subject}\u{201d} will be removed from this computer for good. If it \
is still on the server, the server copy is deleted at the next Get Mail."
                ),
                "Delete for good",
            ),
            Confirm::EmptyTrash { count } => (
                "Empty Trash?",
                format!(
                    "{count} message{} will be removed from this computer for good. Those still on \
the server are deleted there at the next Get Mail.",
                    if *count == 1 { "" } else { "s" }
                ),
                "Empty Trash for good",
            ),
            Confirm::RemoveAccount { name } => (
                "Remove the account?",
                format!(
                    "Pipit forgets the settings of \u{201c}{name}\u{201d} and removes its password \
from the keychain. The mail downloaded from it stays on this computer, in All mail; nothing is \
deleted on the server."
                ),
                "Remove account",
            ),
            Confirm::DiscardAccountEdits => (
                "Discard your changes?",
                "What you typed in the account's settings is not saved yet. Discard it, or go \
back and Save it?"
                    .to_string(),
                "Discard changes",
            ),
        }
    }

    /// The button that leaves things as they are.
    fn no(&self) -> &'static str {
        match self {
            Confirm::DiscardAccountEdits => "Keep editing",
            _ => "Cancel",
        }
    }
}

pub fn ui(ctx: &egui::Context, app: &mut PipitApp) {
    if let Some(confirm) = app.confirm.clone() {
        ui_confirm(ctx, app, &confirm);
    }
    if app.show_help {
        ui_help(ctx, app);
    }
    if let Some(link) = app.link.clone() {
        ui_link(ctx, app, &link);
    }
}

fn ui_confirm(ctx: &egui::Context, app: &mut PipitApp, confirm: &Confirm) {
    let (title, text, yes) = confirm.words();
    let fresh = app.dialog_fresh;
    let mut answer = None;
    modal(ctx, Dialog::Confirm.id(), |ui| {
        ui.set_max_width(420.0);
        ui.heading(title);
        ui.add_space(4.0);
        ui.label(text);
        ui.add_space(8.0);
        ui.horizontal(|ui| {
            // The safe answer is the default: Enter leaves things as they
            // are, and the step that cannot be undone takes a click (or Tab
            // to it, then Enter).
            let cancel = default_button(ui, confirm.no());
            if fresh {
                cancel.request_focus();
            }
            if cancel.clicked() {
                answer = Some(false);
            }
            let yes = ui.button(RichText::new(yes).color(ui.visuals().error_fg_color));
            if yes.clicked() {
                answer = Some(true);
            }
        });
    });
    match answer {
        Some(true) => {
            app.confirm = None;
            match confirm {
                Confirm::DeleteOnServer { id, .. } => app.delete_on_server(*id),
                Confirm::DeleteForever { id, .. } => {
                    app.move_selection_after_removing(*id);
                    app.library.ask(Query::DeleteForever(*id));
                }
                Confirm::EmptyTrash { .. } => {
                    app.selected = None;
                    app.reading = None;
                    app.library.ask(Query::EmptyTrash);
                }
                Confirm::RemoveAccount { name, .. } => {
                    super::account_dialog::remove_account(app, name);
                }
                Confirm::DiscardAccountEdits => app.account_dialog = None,
            }
        }
        Some(false) => app.confirm = None,
        None => {}
    }
}

fn ui_help(ctx: &egui::Context, app: &mut PipitApp) {
    let mut close = false;
    let fresh = app.dialog_fresh;
    modal(ctx, Dialog::Help.id(), |ui| {
        ui.set_max_width(520.0);
        ui.heading("Keyboard shortcuts");
        ui.add_space(4.0);
        // The list scrolls in what the window leaves above Close, so Close
        // stays in sight in a small or zoomed-in window.
        let room = ui.ctx().content_rect().height() - 160.0;
        egui::ScrollArea::vertical()
            .id_salt("shortcuts-scroll")
            .max_height(room.max(120.0))
            .show(ui, |ui| {
                egui::Grid::new("shortcuts")
                    .num_columns(2)
                    .striped(true)
                    .show(ui, |ui| {
                        for command in UiCommand::ALL {
                            let keys = command.keys_text();
                            if keys.is_empty() || matches!(command, UiCommand::View(n) if n > 0) {
                                continue;
                            }
                            let keys = match command {
                                UiCommand::View(_) => "Ctrl+1 … Ctrl+9".to_string(),
                                _ => keys,
                            };
                            ui.label(RichText::new(keys).strong());
                            ui.label(match command {
                                UiCommand::View(_) => {
                                    "Show All mail, an account, On server or Trash"
                                }
                                UiCommand::Delete => {
                                    "Move to Trash; in Trash, or for a message only on the server, \
delete for good (after asking)"
                                }
                                c => c.label(),
                            });
                            ui.end_row();
                        }
                        ui.label(RichText::new("Tab, Shift+Tab").strong());
                        ui.label("Move between buttons and fields (the focused one is outlined)");
                        ui.end_row();
                    });
            });
        ui.add_space(8.0);
        let button = default_button(ui, "Close");
        if fresh {
            button.request_focus();
        }
        if button.clicked() {
            close = true;
        }
    });
    if close {
        app.show_help = false;
    }
}

fn ui_link(ctx: &egui::Context, app: &mut PipitApp, link: &LinkAsk) {
    match link_question(ctx, Dialog::Link.id(), link, app.dialog_fresh) {
        Some(true) => {
            app.link = None;
            let folders = app.attachment_folders.clone();
            let target = link.target.clone();
            app.spawn_job("pipit-link", move || {
                let banner = super::reader::link_job(&folders, &target);
                Box::new(move |app: &mut PipitApp| {
                    if let Some(banner) = banner {
                        app.banner = Some(banner);
                    }
                })
            });
        }
        Some(false) => app.link = None,
        None => {}
    }
}

/// A link clicked in a message, before anything opens it: where it leads,
/// and the words it showed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkAsk {
    pub target: String,
    pub text: String,
}

/// "Open this link?", in the main window and a message file's window
/// alike, as the modal `id`: where the link leads, on what site, and a
/// caution when its text shows another site. Some(true): open it; the
/// default button (focused when `fresh`) is Open, or Cancel after a caution.
pub fn link_question(ctx: &egui::Context, id: Id, link: &LinkAsk, fresh: bool) -> Option<bool> {
    let target = link.target.as_str();
    let caution = link_caution(&link.text, target);
    let mut answer = None;
    modal(ctx, id, |ui| {
        ui.set_max_width(520.0);
        ui.heading("Open this link?");
        ui.label("The link leads to:");
        ui.label(
            RichText::new(crate::reveal::field(target))
                .monospace()
                .strong(),
        );
        if let Some(host) = link_host(target) {
            ui.label(format!("on the site {}", crate::reveal::field(&host)));
        }
        if let Some(caution) = &caution {
            ui.add_space(4.0);
            ui.add(
                egui::Label::new(RichText::new(caution).color(ui.visuals().warn_fg_color)).wrap(),
            );
        }
        ui.add_space(8.0);
        ui.horizontal(|ui| {
            let cancel = if caution.is_some() {
                default_button(ui, "Cancel")
            } else {
                ui.button("Cancel")
            };
            if cancel.clicked() {
                answer = Some(false);
            }
            let open = if caution.is_some() {
                ui.button("Open in the browser")
            } else {
                default_button(ui, "Open in the browser")
            };
            if open.clicked() {
                answer = Some(true);
            }
            if fresh {
                if caution.is_some() { cancel } else { open }.request_focus();
            }
            if ui.button("Copy the link").clicked() {
                ui.ctx().copy_text(target.to_string());
                answer = Some(false);
            }
        });
    });
    answer
}

/// The site a link's text shows, when it shows one ("www.bank.example",
/// "https://bank.example/login"): lower case, without a port.
fn shown_host(text: &str) -> Option<String> {
    let text = text.trim();
    if text.is_empty() || text.contains(char::is_whitespace) {
        return None;
    }
    let rest = text.split_once("://").map_or(text, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next()?;
    if authority.contains('@') {
        return None;
    }
    let host = authority
        .split(':')
        .next()?
        .trim_end_matches('.')
        .to_lowercase();
    let labels: Vec<&str> = host.split('.').collect();
    let top = labels.last()?;
    (labels.len() >= 2
        && labels.iter().all(|l| !l.is_empty())
        && top.chars().count() >= 2
        && top.chars().all(char::is_alphabetic))
    .then_some(host)
}

/// A caution when a link's text shows one site and the link leads to
/// another ("https://www.bank.example" leading to evil.example); none when
/// the text shows no site, or the same one (or a part of it).
pub fn link_caution(text: &str, target: &str) -> Option<String> {
    let shown = shown_host(text)?;
    let real = link_host(target);
    let bare = |h: &str| h.strip_prefix("www.").unwrap_or(h).to_string();
    if let Some(real) = &real {
        let (s, r) = (bare(&shown), bare(real));
        if s == r || r.ends_with(&format!(".{s}")) || s.ends_with(&format!(".{r}")) {
            return None;
        }
    }
    Some(format!(
        "Caution: the link's text shows {}, but it leads to {}.",
        crate::reveal::field(&shown),
        crate::reveal::field(real.as_deref().unwrap_or(target))
    ))
}

/// A dialog's default button: outlined, and pressed by Enter (it has the
/// focus when the dialog opens; Tab moves to the others).
/// Whether Enter presses `dialog`'s default button this frame: it is the
/// dialog in sight, and Enter came in a field or with nothing focused (a
/// button with the keyboard is pressed by Enter itself).
pub fn enter_presses_default(ctx: &egui::Context, app: &PipitApp, dialog: Dialog) -> bool {
    app.top_dialog == Some(dialog)
        && ctx.input(|i| i.key_pressed(egui::Key::Enter))
        && (ctx.text_edit_focused() || ctx.memory(|m| m.focused()).is_none())
}

pub fn default_button(ui: &mut egui::Ui, text: impl Into<egui::WidgetText>) -> egui::Response {
    let stroke = egui::Stroke::new(2.0, ui.visuals().selection.stroke.color);
    ui.add(egui::Button::new(text).stroke(stroke))
        .on_hover_text("The default: Enter presses it")
}

/// The host part of a URL, lower case, for saying where a link goes.
pub fn link_host(url: &str) -> Option<String> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit('@').next()?;
    let host = host.split(':').next()?;
    (!host.is_empty()).then(|| host.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::link_caution;

    #[test]
    fn a_link_whose_text_shows_another_site_is_called_out() {
        let caution = |text, target| link_caution(text, target);
        assert_eq!(
            caution("https://www.paypal.com/login", "http://evil.example/login").as_deref(),
            Some("Caution: the link's text shows www.paypal.com, but it leads to evil.example.")
        );
        assert!(caution("https://bank.example", "https://bank.example.evil.example/").is_some());
        assert!(caution("p\u{430}ypal.com", "https://paypal.com/").is_some());
        assert!(caution("paypal.com", "mailto:someone@evil.example").is_some());
        // The same site, a part of it, or no site at all in the text.
        assert!(caution("paypal.com", "https://help.paypal.com/faq").is_none());
        assert!(caution("www.paypal.com", "https://paypal.com/").is_none());
        assert!(caution("HTTPS://PayPal.com:443/x", "https://paypal.com/").is_none());
        assert!(caution("the report", "http://evil.example/").is_none());
        assert!(caution("ana@example.org", "mailto:ana@example.org").is_none());
        assert!(caution("e.g.", "http://evil.example/").is_none());
        assert!(caution("3.14", "http://evil.example/").is_none());
    }
}
