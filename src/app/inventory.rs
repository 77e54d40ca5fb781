//! The *On server* view: every message the servers listed at their last
//! session, each with what is stored of it, its size, how long it has been
//! there and what the account's policy will do to it there (the facts of
//! `pipit server list`, from `sync::inventory`); a row of filters by kind,
//! and the totals. Selecting one shows it in the reader as any message, or,
//! for one removed here for good, what is left of it and what will happen.

use egui::{Align2, FontId, Rect, RichText, Role, Sense, TextStyle, WidgetInfo};

use super::PipitApp;
use super::library::InventoryRow;
use crate::store::MessageState;
use crate::sync::inventory::Kind;
use crate::sync::plan::Deletion;
use crate::units::human_bytes;

/// A date as the inventory writes it: the list's words, in local time.
fn date(unix: i64) -> String {
    crate::dates::relative(unix, crate::dates::unix_now(), &crate::dates::local_offset)
}

/// How long Pipit has seen a message on the server: no longer than it has
/// been there, which POP3 does not say (a mailbox read for the first time
/// today holds mail of years ago).
pub fn age_words(days: i64) -> String {
    match days {
        0 => "first seen there today".into(),
        1 => "first seen there 1 day ago".into(),
        n => format!("first seen there {n} days ago"),
    }
}

/// What the account's policy does to it on the server, in a few words.
pub fn short_fate(row: &InventoryRow) -> String {
    let words = crate::sync::inventory::deletion_words(row.deletion, "the next Get Mail", &date);
    match row.deletion {
        Deletion::Never => format!("{words} until you delete it here"),
        _ => words,
    }
}

/// What the account's policy does to it on the server, and why.
pub fn fate_words(row: &InventoryRow) -> String {
    let words = crate::sync::inventory::deletion_words(row.deletion, "the next Get Mail", &date);
    match row.deletion {
        Deletion::Never => format!("{words}: this account keeps mail until you delete it here"),
        Deletion::OnceDownloaded { .. } => {
            format!("{words}: this account deletes only mail it has stored")
        }
        Deletion::NextFetch
            if row.kind == Kind::DeletedHere && row.summary.state != MessageState::Purged =>
        {
            format!("{words}: you deleted it here (Restore, R, keeps it there)")
        }
        Deletion::NextFetch if row.kind == Kind::DeletedHere => {
            format!("{words}: you deleted it here")
        }
        _ => words,
    }
}

/// The kind as a row shows it: a message in Trash and one removed for good
/// are both deleted here, in different ways.
fn kind_words(row: &InventoryRow) -> &'static str {
    match row.kind {
        Kind::DeletedHere if row.summary.state == MessageState::Purged => "Deleted here for good",
        Kind::DeletedHere => "In Trash",
        k => k.name(),
    }
}

/// The inventory's rows the filter lets through.
pub fn shown(app: &PipitApp) -> impl Iterator<Item = &InventoryRow> {
    app.inventory_shown.iter().map(|&i| &app.inventory[i])
}

/// "5 messages on the server, 1.2 MB", or with a filter "2 of 5 messages on
/// the server, 60 kB of 1.2 MB"; copies count as the server counts them,
/// and where there are any, how many different messages the list shows
/// ("5 messages on the server (4 different)"), so that the choices' counts
/// add up.
pub fn totals(app: &PipitApp) -> String {
    let count = |rows: &mut dyn Iterator<Item = &InventoryRow>| {
        rows.fold((0usize, 0u64, false, 0usize), |(n, b, unknown, d), r| {
            (
                n + r.copies,
                b + r.listed.unwrap_or(0),
                unknown || r.listed.is_none(),
                d + 1,
            )
        })
    };
    let (all, all_bytes, unknown, all_different) = count(&mut app.inventory.iter());
    let plural = |n: usize| if n == 1 { "message" } else { "messages" };
    // A search narrows what the view holds: the counts say so.
    let place = if app.search.trim().is_empty() {
        "on the server"
    } else {
        "on the server that the search finds"
    };
    let copies = all != all_different;
    let mut text = if app.inventory_filter.is_some() {
        let (n, bytes, _, different) = count(&mut shown(app));
        let different = if copies {
            format!(" ({different} of {all_different} different)")
        } else {
            String::new()
        };
        // Rounded alike, a part would read as the whole ("9.7 MB of 9.7
        // MB"): then what is left out is said instead.
        let (part, whole) = (human_bytes(bytes), human_bytes(all_bytes));
        let of = if bytes != all_bytes && part == whole {
            format!("all but {} of {whole}", human_bytes(all_bytes - bytes))
        } else {
            format!("{part} of {whole}")
        };
        format!("{n} of {all} {} {place}{different}, {of}", plural(all))
    } else {
        let different = if copies {
            format!(" ({all_different} different)")
        } else {
            String::new()
        };
        format!(
            "{all} {} {place}{different}, {}",
            plural(all),
            human_bytes(all_bytes)
        )
    };
    if unknown {
        text.push_str(" (some sizes not known until the next Get Mail)");
    }
    text
}

pub fn ui(ui: &mut egui::Ui, app: &mut PipitApp) {
    filters_ui(ui, app);
    ui.horizontal_wrapped(|ui| {
        ui.label(totals(app)).on_hover_text(
            "As each server listed them at its account's last Get Mail. A message the server \
lists more than once counts each time, as the server counts it; the list and the choices above \
show it once. POP3 servers do not say how much room a mailbox has, so no quota is shown.",
        );
        order_ui(ui, app);
    });
    ui.separator();
    let scroll_to_selected = std::mem::take(&mut app.scroll_to_selected);
    let focus_list = std::mem::take(&mut app.focus_list);
    // Drawn from the inventory in place: a frame copies none of its rows.
    let rows: Vec<&InventoryRow> = shown(app).collect();
    if rows.is_empty() {
        ui.add_space(20.0);
        ui.vertical_centered(|ui| ui.weak(empty_text(app)));
        return;
    }
    let line = ui.text_style_height(&TextStyle::Body);
    let row_height = 2.0 * line + 12.0;
    let accounts = app.config.accounts.len();
    let selected_index = app
        .selected
        .and_then(|id| rows.iter().position(|r| r.summary.id == id));
    let mut scroll = egui::ScrollArea::vertical()
        .id_salt("inventory")
        .auto_shrink([false, false]);
    if scroll_to_selected && let Some(i) = selected_index {
        let spacing = ui.spacing().item_spacing.y;
        let top = i as f32 * (row_height + spacing);
        let view = ui.available_height();
        scroll = scroll.vertical_scroll_offset((top + row_height - view + 4.0).max(0.0).min(top));
    }
    let mut clicked = None;
    let mut has_focus = false;
    scroll.show_rows(ui, row_height, rows.len(), |ui, range| {
        let stop = selected_index
            .filter(|i| range.contains(i))
            .unwrap_or(range.start);
        for i in range {
            let row = rows[i];
            let selected = app.selected == Some(row.summary.id);
            let response = row_ui(ui, row, selected, row_height, i == stop, accounts > 1);
            if selected && focus_list {
                response.request_focus();
            }
            has_focus |= response.has_focus();
            if response.clicked() {
                clicked = Some(row.summary.id);
            }
        }
    });
    app.list_focused = has_focus;
    if let Some(id) = clicked {
        app.select(id);
        app.reader_open = app.narrow;
    }
}

fn empty_text(app: &PipitApp) -> String {
    if !app.rows_loaded {
        "Loading…".into()
    } else if !app.search.is_empty() {
        "No message on the server matches the search.".into()
    } else if app.config.accounts.is_empty() {
        "No account yet: Add account… sets one up.".into()
    } else if let Some(kind) = app.inventory_filter.filter(|_| !app.inventory.is_empty()) {
        format!(
            "No message on the server is {}.",
            kind.name().to_lowercase()
        )
    } else {
        "Nothing is known to be on the server: Get Mail lists what is there. (An account that \
deletes mail after downloading it leaves nothing there.)"
            .into()
    }
}

/// A row of choices: every kind, or one, each with how many there are.
fn filters_ui(ui: &mut egui::Ui, app: &mut PipitApp) {
    let mut chosen = app.inventory_filter;
    ui.horizontal_wrapped(|ui| {
        ui.label("Show");
        let all = app.inventory.len();
        let chip = |ui: &mut egui::Ui, kind: Option<Kind>, n: usize, chosen: &mut Option<Kind>| {
            let name = kind.map_or("All", Kind::name);
            let text = format!("{name} ({n})");
            let response = ui
                .selectable_label(*chosen == kind, &text)
                .on_hover_text(match kind {
                    None => "Every message on the server",
                    Some(Kind::Stored) => "Stored whole here; the server has a copy too",
                    Some(Kind::HeadersOnly) => {
                        "Over the account's size limit: only the headers are here, until you \
download it"
                    }
                    Some(Kind::ToDownload) => {
                        "Within the size limit, but its download failed or was cut short: the \
next Get Mail tries again"
                    }
                    Some(Kind::Failed) => {
                        "Pipit will not download it by itself (too large for Pipit, or it broke \
a session): select it for why, and Download to ask for it"
                    }
                    Some(Kind::DeletedHere) => {
                        "Deleted here (in Trash, or for good): deleted on the server at the next \
Get Mail"
                    }
                });
            if response.clicked() {
                *chosen = kind;
            }
        };
        chip(ui, None, all, &mut chosen);
        for kind in Kind::ALL {
            let n = app.inventory.iter().filter(|r| r.kind == kind).count();
            chip(ui, Some(kind), n, &mut chosen);
        }
    });
    if chosen != app.inventory_filter {
        app.set_inventory_filter(chosen, app.inventory_largest_first);
    }
}

/// Oldest on the server first, or largest first.
fn order_ui(ui: &mut egui::Ui, app: &mut PipitApp) {
    let mut largest_first = app.inventory_largest_first;
    let words = |largest: bool| {
        if largest {
            "Largest first"
        } else {
            "Oldest first"
        }
    };
    // The label and its choice stay together, on a line of their own where
    // they do not fit after the totals: a group is not wrapped by itself,
    // and it pushed past the list's right edge, the rows with it. Its width
    // is the one it had the frame before.
    let width_id = egui::Id::unique("inventory-order-width");
    let needed = ui.data(|d| d.get_temp::<f32>(width_id)).unwrap_or(150.0);
    if ui.available_size_before_wrap().x < needed {
        ui.end_row();
    }
    let group = ui.horizontal(|ui| {
        let order = ui.label("Order");
        egui::ComboBox::from_id_salt("inventory-order")
            .selected_text(words(largest_first))
            .show_ui(ui, |ui| {
                for largest in [false, true] {
                    ui.selectable_value(&mut largest_first, largest, words(largest));
                }
            })
            .response
            .labelled_by(order.id)
            .on_hover_text(
                "What comes first: the message Pipit has seen longest on the server, or the \
one taking the most room there",
            );
    });
    let width = group.response.rect.width();
    ui.data_mut(|d| d.insert_temp(width_id, width));
    if largest_first != app.inventory_largest_first {
        app.set_inventory_filter(app.inventory_filter, largest_first);
    }
}

/// *Check server…* for the accounts the view shows, in the toolbar: a
/// button for one, a menu for several.
pub fn check_button(ui: &mut egui::Ui, app: &mut PipitApp) {
    let names: Vec<String> = app.config.accounts.iter().map(|a| a.name.clone()).collect();
    let tip = "Examine the server, read-only: what it does wrong, and what Pipit does about it";
    match names.as_slice() {
        [] => {}
        [one] => {
            if ui.button("Check server…").on_hover_text(tip).clicked() {
                app.check_server(&one.clone());
            }
        }
        _ => {
            ui.menu_button("Check server…", |ui| {
                for name in &names {
                    if ui.button(name).clicked() {
                        app.check_server(name);
                        ui.close();
                    }
                }
            })
            .response
            .on_hover_text(tip);
        }
    }
}

fn row_ui(
    ui: &mut egui::Ui,
    row: &InventoryRow,
    selected: bool,
    height: f32,
    tab_stop: bool,
    name_account: bool,
) -> egui::Response {
    let sense = if tab_stop {
        Sense::click()
    } else {
        Sense::CLICK
    };
    let (rect, response) = ui.allocate_exact_size(egui::vec2(ui.available_width(), height), sense);
    let s = &row.summary;
    let purged = s.state == MessageState::Purged;
    let from = if purged {
        String::new()
    } else {
        super::list::display_from(&s.from)
    };
    let subject = if purged {
        "(removed here for good: only a note of it is kept)".to_string()
    } else {
        super::list::display_subject(&s.subject)
    };
    let size = row.listed.map_or("size not known".into(), human_bytes);
    let mut second = vec![kind_words(row).to_string(), age_words(row.days_on_server)];
    if row.copies > 1 {
        second.push(format!("listed {} times", row.copies));
    }
    second.push(short_fate(row));
    if name_account {
        second.push(s.account.to_string());
    }
    let second = second.join(" · ");
    let first = if from.is_empty() {
        subject.clone()
    } else {
        format!("{from} — {subject}")
    };
    let label = format!("{first}, {size}: {second}");
    response.widget_info(|| WidgetInfo::selected(Role::Button, true, selected, &label));
    if !ui.is_rect_visible(rect) {
        return response;
    }
    let visuals = ui.visuals().clone();
    super::list::paint_row_ground(ui, rect, &response, selected);
    let text = if selected {
        visuals.selection.stroke.color
    } else {
        visuals.strong_text_color()
    };
    let weak = if selected {
        visuals.selection.stroke.color
    } else {
        visuals.weak_text_color()
    };
    let kind_color = match row.kind {
        _ if selected => visuals.selection.stroke.color,
        Kind::Failed => visuals.warn_fg_color,
        Kind::DeletedHere => visuals.error_fg_color,
        _ => weak,
    };
    let body = ui.text_style_height(&TextStyle::Body) - 1.0;
    let painter = ui.painter_at(rect);
    let pad = 6.0;
    let half = (height - 4.0) / 2.0;
    let top = Rect::from_min_size(
        rect.min + egui::vec2(pad, 2.0),
        egui::vec2(rect.width() - 2.0 * pad, half),
    );
    let bottom = top.translate(egui::vec2(0.0, half));
    let size_galley = painter.layout_no_wrap(size.clone(), FontId::proportional(body), text);
    let size_w = size_galley.size().x;
    painter.galley(
        egui::pos2(
            top.right() - size_w,
            top.center().y - size_galley.size().y / 2.0,
        ),
        size_galley,
        text,
    );
    let mut job = egui::text::LayoutJob::simple_singleline(
        first.clone(),
        FontId::proportional(body),
        if purged { weak } else { text },
    );
    job.wrap = egui::text::TextWrapping::truncate_at_width((top.width() - size_w - 12.0).max(8.0));
    let first_galley = ui.fonts_mut(|f| f.layout_job(job));
    let first_cut = first_galley.elided;
    painter.galley(
        egui::pos2(top.left(), top.center().y - first_galley.size().y / 2.0),
        first_galley,
        text,
    );
    let small = FontId::proportional(body - 2.0);
    let kind = painter.text(
        egui::pos2(bottom.left(), bottom.center().y),
        Align2::LEFT_CENTER,
        kind_words(row),
        small.clone(),
        kind_color,
    );
    let rest = second
        .strip_prefix(kind_words(row))
        .unwrap_or(&second)
        .to_string();
    let mut job = egui::text::LayoutJob::simple_singleline(rest.clone(), small, weak);
    job.wrap =
        egui::text::TextWrapping::truncate_at_width((bottom.right() - kind.right()).max(8.0));
    let rest_galley = ui.fonts_mut(|f| f.layout_job(job));
    let rest_cut = rest_galley.elided;
    painter.galley(
        egui::pos2(kind.right(), bottom.center().y - rest_galley.size().y / 2.0),
        rest_galley,
        weak,
    );
    let why = super::words::sentence(&fate_words(row));
    if first_cut || rest_cut {
        return response.on_hover_text(format!("{first}\n{second}\n{why}"));
    }
    response.on_hover_text(why)
}

/// Above the reader, for a message of the On server view: its facts on the
/// server and its fate there.
pub fn facts_ui(ui: &mut egui::Ui, row: &InventoryRow) {
    egui::Frame::group(ui.style()).show(ui, |ui| {
        ui.set_width(ui.available_width());
        let size = row.listed.map_or("size not known yet".into(), human_bytes);
        let days = match row.days_on_server {
            0 => String::new(),
            1 => " (1 day ago)".into(),
            n => format!(" ({n} days ago)"),
        };
        let mut lines = vec![format!(
            "{}, {size}. Pipit first saw it on the server {}{days}.",
            kind_words(row),
            date(row.first_seen)
        )];
        if row.copies > 1 {
            lines.push(format!(
                "The server lists it {} times; Pipit keeps it once.",
                row.copies
            ));
        }
        ui.add(egui::Label::new(lines.join("\n")).wrap());
        ui.add(
            egui::Label::new(RichText::new(super::words::sentence(&fate_words(row))).strong())
                .wrap(),
        );
    });
}

/// The reader for a message removed here for good: only a note of it is
/// kept, so what is there to show is what will happen.
pub fn tombstone_ui(ui: &mut egui::Ui, row: &InventoryRow) {
    ui.add_space(4.0);
    ui.heading("Removed here for good");
    ui.add(
        egui::Label::new(format!(
            "You deleted this message here for good. Pipit keeps only a note of it (which \
copy on the server it was: its UID and size), so that it is never downloaded again; its text \
and headers are gone from this computer. {}",
            super::words::sentence(&fate_words(row))
        ))
        .wrap(),
    );
    if row.deletion != Deletion::NextFetch {
        return;
    }
    ui.add(
        egui::Label::new(
            RichText::new(
                "Nothing here can bring it back; a mail program that reads the server can, \
until then.",
            )
            .weak(),
        )
        .wrap(),
    );
}
