//! HTML mail drawn as structured text (see `crate::html`): headings,
//! paragraphs, lists with their markers, quotes with a bar, tables as rows,
//! links that show their real target and open only after asking.

use egui::{FontId, RichText, TextStyle};

use super::fonts;
use crate::html::{Block, Kind, Span};
use crate::reveal;

/// Characters of HTML text laid out; the rest is said to go on.
const SHOWN: usize = 64 * 1024;

/// Draws the blocks; returns the target of a link the user clicked.
pub fn ui(ui: &mut egui::Ui, blocks: &[Block]) -> Option<String> {
    let mut clicked = None;
    let mut shown = 0;
    for block in blocks {
        if shown > SHOWN {
            ui.weak("The message goes on; the rest is not shown here.");
            break;
        }
        shown += block.spans.iter().map(|s| s.text.len()).sum::<usize>();
        let quote = f32::from(block.quote) * 14.0;
        let response = ui
            .horizontal(|ui| {
                ui.add_space(quote);
                ui.vertical(|ui| block_ui(ui, block, &mut clicked));
            })
            .response;
        if block.quote > 0 {
            let rect = response.rect;
            for depth in 0..block.quote {
                let x = rect.left() + f32::from(depth) * 14.0 + 4.0;
                ui.painter().vline(
                    x,
                    rect.y_range(),
                    egui::Stroke::new(2.0, ui.visuals().weak_text_color()),
                );
            }
        }
    }
    clicked
}

fn block_ui(ui: &mut egui::Ui, block: &Block, clicked: &mut Option<String>) {
    match &block.kind {
        Kind::Rule => {
            ui.separator();
        }
        Kind::Heading(level) => {
            ui.add_space(6.0);
            let size = match level {
                1 => 22.0,
                2 => 19.0,
                3 => 17.0,
                _ => 15.0,
            };
            spans_ui(ui, &block.spans, Some(size), clicked);
            ui.add_space(2.0);
        }
        Kind::Item { depth, marker } => {
            ui.horizontal_wrapped(|ui| {
                ui.add_space(f32::from(*depth - 1) * 18.0);
                ui.label(format!("{marker} "));
                spans_inline(ui, &block.spans, None, clicked);
            });
        }
        Kind::Pre => {
            let text: String = block.spans.iter().map(|s| s.text.as_str()).collect();
            ui.add(
                egui::Label::new(RichText::new(reveal::text(&text)).monospace())
                    .selectable(true)
                    .wrap(),
            );
        }
        Kind::Paragraph | Kind::Row => {
            spans_ui(ui, &block.spans, None, clicked);
            ui.add_space(4.0);
        }
    }
}

fn spans_ui(ui: &mut egui::Ui, spans: &[Span], size: Option<f32>, clicked: &mut Option<String>) {
    ui.horizontal_wrapped(|ui| {
        ui.spacing_mut().item_spacing.x = 0.0;
        spans_inline(ui, spans, size, clicked);
    });
}

fn spans_inline(
    ui: &mut egui::Ui,
    spans: &[Span],
    size: Option<f32>,
    clicked: &mut Option<String>,
) {
    let body = ui.text_style_height(&TextStyle::Body);
    for span in spans {
        let family = if span.strong || size.is_some() {
            fonts::bold()
        } else if span.italic {
            fonts::italic()
        } else {
            egui::FontFamily::Proportional
        };
        let font = if span.code {
            FontId::monospace(size.unwrap_or(body) - 1.0)
        } else {
            FontId::new(size.unwrap_or(body), family)
        };
        let text = RichText::new(reveal::text(&span.text)).font(font);
        match &span.link {
            Some(target) => {
                let link = ui
                    .link(text)
                    .on_hover_text(format!("Leads to {} (asks first)", reveal::field(target)));
                if link.clicked() {
                    *clicked = Some(target.clone());
                }
            }
            None => {
                ui.add(egui::Label::new(text).selectable(true));
            }
        }
    }
}
