//! The message list: sortable columns, unread in bold, and only the visible
//! rows laid out, so 100,000 messages scroll as smoothly as ten.

use egui::{Align2, FontId, RichText, Role, Sense, TextStyle, WidgetInfo};

use super::{Column, PipitApp};
use crate::store::{MessageState, Summary};

const DATE_WIDTH: f32 = 130.0;
const SIZE_WIDTH: f32 = 80.0;

pub fn ui(ui: &mut egui::Ui, app: &mut PipitApp) {
    let width = ui.available_width();
    let from_width = (width * 0.28).clamp(120.0, 280.0);
    let subject_width = (width - from_width - DATE_WIDTH - SIZE_WIDTH - 16.0).max(80.0);

    ui.horizontal(|ui| {
        for (column, title, w) in [
            (Column::From, "From", from_width),
            (Column::Subject, "Subject", subject_width),
            (Column::Date, "Date", DATE_WIDTH),
            (Column::Size, "Size", SIZE_WIDTH),
        ] {
            let arrow = match (app.sort.column == column, app.sort.ascending) {
                (true, true) => " ⏶",
                (true, false) => " ⏷",
                (false, _) => "",
            };
            let button = egui::Button::new(RichText::new(format!("{title}{arrow}")).strong())
                .frame(false)
                .min_size(egui::vec2(w, 0.0));
            if ui
                .add_sized([w, 18.0], button)
                .on_hover_text(format!("Sort by {}", title.to_lowercase()))
                .clicked()
            {
                app.set_sort(column);
            }
        }
    });
    ui.separator();

    if app.rows.is_empty() {
        ui.add_space(20.0);
        ui.vertical_centered(|ui| {
            let text = if !app.rows_loaded {
                "Loading…"
            } else if !app.search.is_empty() {
                "No message matches the search."
            } else if app.config.accounts.is_empty() {
                "No account yet: add one to get your mail."
            } else {
                "No messages here. Get Mail downloads new ones."
            };
            ui.weak(text);
        });
        return;
    }

    let row_height = ui.text_style_height(&TextStyle::Body) + 6.0;
    let selected_index = app
        .selected
        .and_then(|id| app.rows.iter().position(|r| r.id == id));
    let mut scroll = egui::ScrollArea::vertical().auto_shrink([false, false]);
    if app.scroll_to_selected
        && let Some(i) = selected_index
    {
        // Keep the selection in view when the keyboard moves it.
        let top = i as f32 * (row_height + ui.spacing().item_spacing.y);
        scroll = scroll.vertical_scroll_offset((top - 3.0 * row_height).max(0.0));
        app.scroll_to_selected = false;
    }
    let mut clicked = None;
    scroll.show_rows(ui, row_height, app.rows.len(), |ui, range| {
        for i in range {
            let row = &app.rows[i];
            if row_ui(
                ui,
                row,
                Some(row.id) == app.selected,
                [from_width, subject_width],
                row_height,
            )
            .clicked()
            {
                clicked = Some(row.id);
            }
        }
    });
    if let Some(id) = clicked {
        app.select(id);
    }
}

fn row_ui(
    ui: &mut egui::Ui,
    row: &Summary,
    selected: bool,
    widths: [f32; 2],
    height: f32,
) -> egui::Response {
    let (rect, response) =
        ui.allocate_exact_size(egui::vec2(ui.available_width(), height), Sense::click());
    let label = format!(
        "{} — {}",
        display_from(&row.from),
        display_subject(&row.subject)
    );
    response.widget_info(|| WidgetInfo::selected(Role::Button, true, selected, &label));
    if !ui.is_rect_visible(rect) {
        return response;
    }
    let visuals = ui.visuals();
    if selected {
        ui.painter()
            .rect_filled(rect, 2.0, visuals.selection.bg_fill);
    } else if response.hovered() {
        ui.painter()
            .rect_filled(rect, 2.0, visuals.widgets.hovered.weak_bg_fill);
    }
    let color = if selected {
        visuals.selection.stroke.color
    } else if row.state == MessageState::Headers {
        visuals.weak_text_color()
    } else {
        visuals.text_color()
    };
    let font = FontId::proportional(ui.text_style_height(&TextStyle::Body) - 2.0);
    // Unread in bold. egui's default font has no bold face: strong colour,
    // drawn twice half a pixel apart, reads as bold.
    let unread = !row.seen;
    let color = if unread && !selected {
        visuals.strong_text_color()
    } else {
        color
    };
    let painter = ui.painter_at(rect);
    let y = rect.center().y;
    let cell = |x: f32, w: f32, text: String, align_right: bool| {
        let clip = egui::Rect::from_min_size(
            egui::pos2(x, rect.top()),
            egui::vec2(w - 8.0, rect.height()),
        );
        let p = painter.with_clip_rect(clip);
        let (at, align) = if align_right {
            (egui::pos2(x + w - 10.0, y), Align2::RIGHT_CENTER)
        } else {
            (egui::pos2(x, y), Align2::LEFT_CENTER)
        };
        if unread {
            p.text(at + egui::vec2(0.5, 0.0), align, &text, font.clone(), color);
        }
        p.text(at, align, text, font.clone(), color);
    };
    let mut x = rect.left() + 4.0;
    cell(x, widths[0], display_from(&row.from), false);
    x += widths[0];
    let mut subject_width = widths[1];
    if !row.attachments.is_empty() {
        // An attachment mark drawn, not a glyph: no font needed.
        let clip = egui::Rect::from_center_size(egui::pos2(x + 4.0, y), egui::vec2(6.0, 11.0));
        painter.rect_stroke(
            clip,
            3.0,
            egui::Stroke::new(1.5, color),
            egui::StrokeKind::Middle,
        );
        x += 14.0;
        subject_width -= 14.0;
    }
    cell(x, subject_width, display_subject(&row.subject), false);
    x += subject_width;
    let date = row
        .date
        .map(|d| crate::dates::Civil::from_unix(d).short())
        .unwrap_or_default();
    cell(x, DATE_WIDTH, date, false);
    x += DATE_WIDTH;
    let size = crate::cli::human_bytes(row.size);
    let size = if row.state == MessageState::Headers {
        format!("☁ {size}")
    } else {
        size
    };
    cell(x, SIZE_WIDTH, size, true);
    response
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
