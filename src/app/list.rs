//! The message list: sortable, resizable columns (remembered across
//! restarts), unread in a real bold face with a dot, icons for attachments
//! and for mail still on the server, text cut with "…" and shown whole on
//! hover; below a width the columns give way to two-line rows. Only the
//! visible rows are laid out, so 100,000 messages scroll as smoothly as ten.

use egui::text::{LayoutJob, TextWrapping};
use egui::{Align2, Color32, CursorIcon, FontId, Rect, Role, Sense, Stroke, TextStyle, WidgetInfo};

use super::{Column, PipitApp, View, fonts};
use crate::store::{MessageState, Summary};
use crate::units::human_bytes;

/// The attachment icon (a paper clip), from egui's emoji font; the
/// on-server icon, a cloud, is painted ([`paint_cloud`]).
pub const CLIP: &str = "📎";
/// A mark on a row, beside its text.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mark {
    /// It has attachments.
    Clip,
    /// Known by its headers only, and still on the server (☁).
    OnServer,
    /// Known by its headers only, and gone from the server (☁ struck through).
    Gone,
}

/// Where a message known by its headers only is: the row says what the
/// reader says (`Summary::on_server`).
fn mark(row: &Summary) -> Option<Mark> {
    (row.state == MessageState::Headers).then_some(if row.on_server {
        Mark::OnServer
    } else {
        Mark::Gone
    })
}

/// Width of the unread dot's column and of an icon.
const DOT: f32 = 14.0;
const ICON: f32 = 18.0;
const PAD: f32 = 6.0;

/// The narrowest each column still shows its values in ("Yesterday
/// 21:32", "12.3 MB" with its ☁), and the width Subject is given before
/// the others shrink below the widths the user dragged them to. A list
/// narrower than the sum of the smallest gives way to two-line rows
/// ([`COLUMNS_FROM`]).
const FROM_MIN: f32 = 110.0;
const SUBJECT_MIN: f32 = 100.0;
const SUBJECT_WANTS: f32 = 160.0;
const DATE_MIN: f32 = 142.0;
const SIZE_MIN: f32 = 84.0;

/// Below this width the list's columns give way to two-line rows: the
/// unread dot and each column at its smallest. The list beside the reader
/// in a window of the default size (1200 points) is wider.
pub const COLUMNS_FROM: f32 = DOT + FROM_MIN + SUBJECT_MIN + DATE_MIN + SIZE_MIN;

/// Whether a list `width` wide shows columns (else two-line rows).
fn columns_fit(width: f32) -> bool {
    width >= COLUMNS_FROM
}

/// The columns' left edges and widths for a list `width` wide.
struct Columns {
    from: f32,
    subject: f32,
    date: f32,
    size: f32,
}

impl Columns {
    /// The user's widths while they fit beside a Subject of
    /// `SUBJECT_WANTS`; in a narrower list, Date and Size give up what they
    /// do not need, then From, down to their smallest.
    fn of(app: &PipitApp, width: f32) -> Columns {
        let l = &app.layout;
        let (mut from, mut date, mut size) = (l.from, l.date, l.size);
        let mut short = DOT + from + SUBJECT_WANTS + date + size - width;
        for (w, min) in [
            (&mut date, DATE_MIN),
            (&mut size, SIZE_MIN),
            (&mut from, FROM_MIN),
        ] {
            let give = short.min(*w - min).max(0.0);
            *w -= give;
            short -= give;
        }
        Columns {
            from,
            subject: (width - DOT - from - date - size).max(40.0),
            date,
            size,
        }
    }
}

pub fn ui(ui: &mut egui::Ui, app: &mut PipitApp) {
    let width = ui.available_width();
    let two_lines = !columns_fit(width);
    let cols = Columns::of(app, width);
    header_ui(ui, app, &cols, two_lines);
    ui.separator();

    if app.rows.is_empty() {
        ui.add_space(20.0);
        ui.vertical_centered(|ui| {
            ui.weak(empty_text(app));
        });
        return;
    }

    let line = ui.text_style_height(&TextStyle::Body);
    let row_height = if two_lines {
        2.0 * line + 10.0
    } else {
        line + 8.0
    };
    let selected_index = app.selected.and_then(|id| app.rows.position(id));
    let mut scroll = egui::ScrollArea::vertical().auto_shrink([false, false]);
    if app.scroll_to_selected
        && let Some(i) = selected_index
    {
        // Keep the selection in view when the keyboard moves it.
        let spacing = ui.spacing().item_spacing.y;
        let top = i as f32 * (row_height + spacing);
        let view = ui.available_height();
        let offset = ui
            .ctx()
            .data(|d| d.get_temp::<f32>(egui::Id::unique("list-offset")))
            .unwrap_or(0.0);
        let wanted = if top < offset {
            top
        } else if top + row_height > offset + view - 4.0 {
            top + row_height - view + 4.0
        } else {
            offset
        };
        scroll = scroll.vertical_scroll_offset(wanted.max(0.0));
        app.scroll_to_selected = false;
    }
    let mut clicked = None;
    let mut has_focus = false;
    let focus_list = std::mem::take(&mut app.focus_list);
    let output = scroll.show_rows(ui, row_height, app.rows.len(), |ui, range| {
        // The list is one Tab stop: the selected row, or the first in view.
        let stop = selected_index
            .filter(|i| range.contains(i))
            .unwrap_or(range.start);
        // Rows not read yet are asked for, a screen either side too; they
        // show empty for the frame or two until they come.
        let wanted = app.rows.wanted(range.clone());
        if !wanted.is_empty() {
            app.ask_rows(wanted);
        }
        for i in range {
            let Some(row) = app.rows.get(i) else {
                ui.allocate_exact_size(
                    egui::vec2(ui.available_width(), row_height),
                    Sense::hover(),
                );
                continue;
            };
            let selected = Some(row.id) == app.selected;
            app.drawn_rows += 1;
            let response = row_ui(ui, row, selected, &cols, row_height, two_lines, i == stop);
            if selected && focus_list {
                response.request_focus();
            }
            has_focus |= response.has_focus();
            if response.clicked() {
                clicked = Some(row.id);
            }
        }
    });
    app.list_focused = has_focus;
    ui.ctx().data_mut(|d| {
        d.insert_temp(
            egui::Id::unique("list-offset"),
            output.state.clamped_offset().y,
        )
    });
    if let Some(id) = clicked {
        app.select(id);
        app.reader_open = app.narrow;
    }
}

fn empty_text(app: &PipitApp) -> String {
    if !app.rows_loaded {
        "Loading…".into()
    } else if !app.search.is_empty() {
        "No message matches the search.".into()
    } else if app.config.accounts.is_empty() {
        "No account yet: Add account… sets one up.".into()
    } else {
        match &app.view {
            View::Trash => "Trash is empty.".into(),
            View::DeletedByRule => "No message was deleted by a rule in the last 30 days. \
A rule that deletes on the server keeps each message's headers here for 30 days, so a wrong rule is seen."
                .into(),
            // Its list is the inventory's (`inventory::ui`), with words of its own.
            View::OnServer => "Nothing is known to be on the server.".into(),
            View::Account(name) => {
                format!("No messages from {name} yet. Get Mail checks for new ones.")
            }
            View::All => "No messages yet. Get Mail checks for new ones.".into(),
        }
    }
}

/// The columns' names, as titles and as sort choices.
const COLUMNS: [(Column, &str); 4] = [
    (Column::From, "From"),
    (Column::Subject, "Subject"),
    (Column::Date, "Date"),
    (Column::Size, "Size"),
];

/// The order a sort puts the list in, in words ("Newest first").
pub fn order_words(column: Column, ascending: bool) -> &'static str {
    match (column, ascending) {
        (Column::Date, false) => "Newest first",
        (Column::Date, true) => "Oldest first",
        (Column::Size, false) => "Largest first",
        (Column::Size, true) => "Smallest first",
        (_, true) => "A to Z",
        (_, false) => "Z to A",
    }
}

/// Two-line rows have no columns to title: the header says what the list
/// is sorted by and in which order, and changes either.
fn sort_choice_ui(ui: &mut egui::Ui, app: &mut PipitApp) {
    ui.horizontal(|ui| {
        ui.add_space(DOT);
        let label = ui.label("Sort by");
        let mut column = app.sort.column;
        let name = |c: Column| {
            COLUMNS
                .iter()
                .find(|(k, _)| *k == c)
                .map_or("", |(_, t)| *t)
        };
        egui::ComboBox::from_id_salt("sort-by")
            .selected_text(name(column))
            .show_ui(ui, |ui| {
                for (c, title) in COLUMNS {
                    ui.selectable_value(&mut column, c, title);
                }
            })
            .response
            .labelled_by(label.id)
            .on_hover_text("What the list is sorted by");
        if column != app.sort.column {
            app.set_sort(column);
        }
        let order = order_words(app.sort.column, app.sort.ascending);
        let reverse = ui.button(order).on_hover_text(format!(
            "Reverse the order: {}",
            order_words(app.sort.column, !app.sort.ascending).to_lowercase()
        ));
        if reverse.clicked() {
            app.set_sort(app.sort.column);
            // As a column title: a click leaves no focus behind, so Enter
            // afterwards opens the selected message.
            if reverse.clicked_by(egui::PointerButton::Primary) {
                reverse.surrender_focus();
            }
        }
    });
}

/// The column titles: each over its values, aligned as they are; the edges
/// between them drag to resize.
fn header_ui(ui: &mut egui::Ui, app: &mut PipitApp, cols: &Columns, two_lines: bool) {
    if two_lines {
        sort_choice_ui(ui, app);
        return;
    }
    let height = ui.text_style_height(&TextStyle::Body) + 6.0;
    let (rect, _) =
        ui.allocate_exact_size(egui::vec2(ui.available_width(), height), Sense::hover());
    let titles: Vec<(Column, &str, Rect, bool)> = {
        let mut x = rect.left() + DOT;
        let mut out = Vec::new();
        for ((c, t), w) in COLUMNS
            .into_iter()
            .zip([cols.from, cols.subject, cols.date, cols.size])
        {
            out.push((
                c,
                t,
                Rect::from_min_size(egui::pos2(x, rect.top()), egui::vec2(w, height)),
                c == Column::Size,
            ));
            x += w;
        }
        out
    };
    for (column, title, cell, right) in &titles {
        let arrow = match (app.sort.column == *column, app.sort.ascending) {
            (true, true) => " ⏶",
            (true, false) => " ⏷",
            (false, _) => "",
        };
        let id = ui.scope_id().with(("sort", title));
        let response = ui.interact(*cell, id, Sense::click());
        response.widget_info(|| WidgetInfo::labeled(Role::Button, true, format!("{title}{arrow}")));
        let response = response.on_hover_text(format!("Sort by {}", title.to_lowercase()));
        if response.hovered() {
            ui.painter()
                .rect_filled(*cell, 2.0, ui.visuals().widgets.hovered.weak_bg_fill);
        }
        if response.has_focus() {
            ui.painter().rect_stroke(
                *cell,
                2.0,
                ui.visuals().selection.stroke,
                egui::StrokeKind::Inside,
            );
        }
        let (at, align) = if *right {
            (
                egui::pos2(cell.right() - PAD, cell.center().y),
                Align2::RIGHT_CENTER,
            )
        } else {
            (
                egui::pos2(cell.left() + PAD, cell.center().y),
                Align2::LEFT_CENTER,
            )
        };
        ui.painter().text(
            at,
            align,
            format!("{title}{arrow}"),
            FontId::new(ui.text_style_height(&TextStyle::Body) - 1.0, fonts::bold()),
            ui.visuals().strong_text_color(),
        );
        if response.clicked() {
            app.set_sort(*column);
            // A click leaves no focus behind: Enter afterwards opens the
            // selected message, it does not sort again.
            if !response.clicked_by(egui::PointerButton::Primary) {
            } else {
                response.surrender_focus();
            }
        }
    }
    // The edges after From, Subject and Date drag.
    let mut x = rect.left() + DOT;
    for (i, w) in [cols.from, cols.subject, cols.date].into_iter().enumerate() {
        x += w;
        let edge = Rect::from_center_size(egui::pos2(x, rect.center().y), egui::vec2(8.0, height));
        let id = ui.scope_id().with(("column-edge", i));
        let response = ui
            .interact(edge, id, Sense::drag())
            .on_hover_cursor(CursorIcon::ResizeHorizontal);
        let stroke = if response.hovered() || response.dragged() {
            ui.visuals().widgets.active.fg_stroke
        } else {
            Stroke::new(1.0, ui.visuals().widgets.noninteractive.bg_stroke.color)
        };
        ui.painter().vline(x, edge.y_range(), stroke);
        if response.dragged() {
            let dx = response.drag_delta().x;
            let l = &mut app.layout;
            match i {
                0 => l.from = (l.from + dx).clamp(60.0, 1_000.0),
                // The edge between Subject and Date moves Date's left edge.
                1 => l.date = (l.date - dx).clamp(60.0, 400.0),
                _ => {
                    let moved = (l.date + dx).clamp(60.0, 400.0) - l.date;
                    l.date += moved;
                    l.size = (l.size - moved).clamp(50.0, 300.0);
                }
            }
        }
    }
}

/// One cell's text, cut with "…" to `width`; whether it was cut.
fn cell_galley(
    ui: &egui::Ui,
    text: &str,
    font: FontId,
    color: Color32,
    width: f32,
) -> (std::sync::Arc<egui::Galley>, bool) {
    let mut job = LayoutJob::simple_singleline(text.to_owned(), font, color);
    job.wrap = TextWrapping::truncate_at_width(width.max(8.0));
    let galley = ui.fonts_mut(|f| f.layout_job(job));
    let cut = galley.elided;
    (galley, cut)
}

fn row_ui(
    ui: &mut egui::Ui,
    row: &Summary,
    selected: bool,
    cols: &Columns,
    height: f32,
    two_lines: bool,
    tab_stop: bool,
) -> egui::Response {
    let sense = if tab_stop {
        Sense::click()
    } else {
        Sense::CLICK
    };
    let (rect, response) = ui.allocate_exact_size(egui::vec2(ui.available_width(), height), sense);
    let from = display_from(&row.from);
    let subject = display_subject(&row.subject);
    let date = row
        .date
        .map(|d| crate::dates::relative(d, crate::dates::unix_now(), &crate::dates::local_offset))
        .unwrap_or_default();
    let size_text = human_bytes(row.size);
    // What a screen reader says of the row, beyond what is drawn as text.
    let mut label = format!("{from} — {subject}");
    if !row.seen {
        label.push_str(", unread");
    }
    if !row.attachments.is_empty() {
        label.push_str(", with attachments");
    }
    match mark(row) {
        Some(Mark::OnServer) => label.push_str(", still on the server"),
        Some(Mark::Gone) => label.push_str(", no longer on the server, only its headers here"),
        _ => {}
    }
    label.push_str(&format!(", {size_text}"));
    if !date.is_empty() {
        label.push_str(&format!(", {date}"));
    }
    response.widget_info(|| WidgetInfo::selected(Role::Button, true, selected, &label));
    if !ui.is_rect_visible(rect) {
        return response;
    }
    let visuals = ui.visuals().clone();
    super::list::paint_row_ground(ui, rect, &response, selected);
    let unread = !row.seen;
    let color = if selected {
        visuals.selection.stroke.color
    } else if row.state == MessageState::Headers {
        visuals.weak_text_color()
    } else if unread {
        visuals.strong_text_color()
    } else {
        visuals.text_color()
    };
    let size = ui.text_style_height(&TextStyle::Body) - 1.0;
    // Unread in the bold face, the same in every column and script; a dot
    // says it too, for scripts the bold face does not cover.
    let font = if unread {
        FontId::new(size, fonts::bold())
    } else {
        FontId::proportional(size)
    };
    let painter = ui.painter_at(rect);
    if unread {
        painter.circle_filled(
            egui::pos2(
                rect.left() + DOT / 2.0,
                rect.top() + height.min(size + 8.0) / 2.0,
            ),
            3.5,
            visuals.hyperlink_color,
        );
    }
    let icon_font = FontId::proportional(size);
    // (rect, whole text) of each cell that was cut, for the hover.
    let mut cut_cells: Vec<(Rect, String)> = Vec::new();
    let mut icons: Vec<(Rect, Mark)> = Vec::new();
    let mut put = |cell: Rect, text: &str, font: FontId, right: bool| {
        let (galley, cut) = cell_galley(ui, text, font, color, cell.width() - 2.0 * PAD);
        let pos = if right {
            egui::pos2(
                cell.right() - PAD - galley.size().x,
                cell.center().y - galley.size().y / 2.0,
            )
        } else {
            egui::pos2(cell.left() + PAD, cell.center().y - galley.size().y / 2.0)
        };
        painter.galley(pos, galley, color);
        if cut {
            cut_cells.push((cell, text.to_string()));
        }
    };
    let line_h = size + 8.0;
    if two_lines {
        let left = rect.left() + DOT;
        let top = Rect::from_min_max(
            egui::pos2(left, rect.top()),
            egui::pos2(rect.right(), rect.top() + line_h),
        );
        let bottom = Rect::from_min_max(egui::pos2(left, rect.top() + line_h - 2.0), rect.max);
        let date_w = 140.0f32.min(top.width() * 0.45);
        put(
            Rect::from_min_max(top.min, egui::pos2(top.right() - date_w, top.bottom())),
            &from,
            font.clone(),
            false,
        );
        put(
            Rect::from_min_max(egui::pos2(top.right() - date_w, top.top()), top.max),
            &date,
            font.clone(),
            true,
        );
        let mut sub = bottom;
        for icon in [
            mark(row),
            (!row.attachments.is_empty()).then_some(Mark::Clip),
        ]
        .into_iter()
        .flatten()
        {
            let r = Rect::from_min_max(egui::pos2(sub.right() - ICON, sub.top()), sub.max);
            icons.push((r, icon));
            sub.max.x -= ICON;
        }
        // The size, as the columns show it, at the end of the second line.
        let size_w = 80.0f32.min(sub.width() * 0.3);
        put(
            Rect::from_min_max(egui::pos2(sub.right() - size_w, sub.top()), sub.max),
            &size_text,
            FontId::proportional(size - 2.0),
            true,
        );
        sub.max.x -= size_w;
        put(sub, &subject, font.clone(), false);
    } else {
        let mut x = rect.left() + DOT;
        let cell =
            |x: f32, w: f32| Rect::from_min_size(egui::pos2(x, rect.top()), egui::vec2(w, height));
        put(cell(x, cols.from), &from, font.clone(), false);
        x += cols.from;
        let mut subject_cell = cell(x, cols.subject);
        if !row.attachments.is_empty() {
            icons.push((cell(subject_cell.right() - ICON - PAD, ICON), Mark::Clip));
            subject_cell.max.x -= ICON + PAD;
        }
        put(subject_cell, &subject, font.clone(), false);
        x += cols.subject;
        put(cell(x, cols.date), &date, font.clone(), false);
        x += cols.date;
        let mut size_cell = cell(x, cols.size);
        if let Some(icon) = mark(row) {
            icons.push((cell(x + 2.0, ICON), icon));
            size_cell.min.x += ICON;
        }
        put(size_cell, &size_text, font.clone(), true);
    }
    let behind = if selected {
        visuals.selection.bg_fill
    } else {
        visuals.panel_fill
    };
    for (r, icon) in &icons {
        let at = r.center();
        if *icon == Mark::Clip {
            painter.text(at, Align2::CENTER_CENTER, CLIP, icon_font.clone(), color);
            continue;
        }
        paint_cloud(&painter, at, color, behind);
        if *icon == Mark::Gone {
            // The cloud struck through: no longer there.
            let d = egui::vec2(7.0, 6.0);
            painter.line_segment([at - d, at + d], Stroke::new(3.5, behind));
            painter.line_segment([at - d, at + d], Stroke::new(1.5, color));
        }
    }
    // The hover says what is under the pointer: a cut cell's whole text, or an icon's meaning.
    if let Some(pointer) = response.hover_pos() {
        let icon_words = |icon: Mark| match icon {
            Mark::Clip => {
                let names = row
                    .attachments
                    .iter()
                    .take(5)
                    .map(|n| crate::reveal::field(n).into_owned())
                    .collect::<Vec<_>>()
                    .join(", ");
                format!("Attachments: {names}")
            }
            Mark::OnServer => "Still on the server: only its headers are here. Select it to \
preview or download it."
                .into(),
            Mark::Gone => "No longer on the server: only its headers were downloaded, and \
they are all Pipit has of it."
                .into(),
        };
        let tip = icons
            .iter()
            .find(|(r, _)| r.contains(pointer))
            .map(|(_, icon)| icon_words(*icon))
            .or_else(|| {
                cut_cells
                    .iter()
                    .find(|(r, _)| r.contains(pointer))
                    .map(|(_, t)| t.clone())
            });
        if let Some(tip) = tip {
            return response.on_hover_text(tip);
        }
    }
    response
}

/// The on-server mark: a filled cloud about 15 by 10 points centred on
/// `at`, painted rather than taken from a font (egui's ☁ is a hairline
/// outline that reads as an empty oval at the list's size).
/// `behind` is what it is painted on: a see-through `color` is mixed with it
/// first, so the overlapping parts do not show darker.
pub fn paint_cloud(painter: &egui::Painter, at: egui::Pos2, color: Color32, behind: Color32) {
    // Premultiplied: the colour plus what shows through it.
    let through = 1.0 - f32::from(color.a()) / 255.0;
    let mix = |c: u8, b: u8| (f32::from(c) + f32::from(b) * through).round().min(255.0) as u8;
    let color = Color32::from_rgb(
        mix(color.r(), behind.r()),
        mix(color.g(), behind.g()),
        mix(color.b(), behind.b()),
    );
    let base = Rect::from_min_max(at + egui::vec2(-7.5, 0.0), at + egui::vec2(7.5, 4.5));
    painter.rect_filled(base, 2.25, color);
    painter.circle_filled(at + egui::vec2(-3.5, 0.5), 3.5, color);
    painter.circle_filled(at + egui::vec2(1.0, -1.5), 4.5, color);
    painter.circle_filled(at + egui::vec2(4.5, 1.0), 3.0, color);
}

/// The sender's name if it has one, else the address, as `reveal::field` shows it.
pub fn display_from(from: &str) -> String {
    let name = from
        .split(" <")
        .next()
        .unwrap_or(from)
        .trim()
        .trim_matches('"');
    if name.is_empty() {
        "(no sender)".into()
    } else {
        crate::reveal::field(name).into_owned()
    }
}

/// The subject as `reveal::field` shows it.
pub fn display_subject(subject: &str) -> String {
    if subject.trim().is_empty() {
        "(no subject)".into()
    } else {
        crate::reveal::field(subject).into_owned()
    }
}

/// A list row's ground: the selection's fill, the hover's, and the focus
/// ring (the list is one Tab stop; the ring shows which row has it).
pub(super) fn paint_row_ground(
    ui: &egui::Ui,
    rect: egui::Rect,
    response: &egui::Response,
    selected: bool,
) {
    let visuals = ui.visuals();
    if selected {
        ui.painter()
            .rect_filled(rect, 2.0, visuals.selection.bg_fill);
    } else if response.hovered() {
        ui.painter()
            .rect_filled(rect, 2.0, visuals.widgets.hovered.weak_bg_fill);
    }
    if response.has_focus() {
        ui.painter().rect_stroke(
            rect,
            2.0,
            visuals.selection.stroke,
            egui::StrokeKind::Inside,
        );
    }
}
