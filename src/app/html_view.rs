//! HTML mail drawn as structured text (see `crate::html`): headings,
//! paragraphs, lists with their markers, quotes with a bar, tables as rows,
//! links that show their real target and open only after asking.

use egui::{FontId, RichText, TextStyle};

use super::{LinkAsk, fonts};
use crate::html::{Block, Kind, Span};
use crate::reveal;

/// Bytes of HTML text laid out, and pieces of text (each a widget): egui
/// lays text out on the UI thread, and a hostile message can be one
/// megabyte-long paragraph or a hundred thousand tiny ones.
const SHOWN: usize = 64 * 1024;
const PIECES: usize = 4_000;

/// Draws the blocks; returns the link the user clicked.
pub fn ui(ui: &mut egui::Ui, blocks: &[Block]) -> Option<LinkAsk> {
    let mut clicked = None;
    let mut budget = Budget {
        bytes: SHOWN,
        pieces: PIECES,
    };
    for block in blocks {
        if budget.spent() {
            break;
        }
        let quote = f32::from(block.quote) * 14.0;
        let response = ui
            .horizontal(|ui| {
                ui.add_space(quote);
                ui.vertical(|ui| block_ui(ui, block, &mut clicked, &mut budget));
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
    if budget.spent() {
        ui.weak("The message goes on; the rest is not shown here.");
    }
    clicked
}

/// What is left to lay out this frame.
struct Budget {
    bytes: usize,
    pieces: usize,
}

impl Budget {
    fn spent(&self) -> bool {
        self.bytes == 0 || self.pieces == 0
    }

    /// `text`, cut to what is left, and counted.
    fn take<'a>(&mut self, text: &'a str) -> &'a str {
        let mut cut = self.bytes.min(text.len());
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        self.bytes -= cut;
        self.pieces = self.pieces.saturating_sub(1);
        &text[..cut]
    }
}

fn block_ui(ui: &mut egui::Ui, block: &Block, clicked: &mut Option<LinkAsk>, budget: &mut Budget) {
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
            spans_ui(ui, &block.spans, Some(size), clicked, budget);
            ui.add_space(2.0);
        }
        Kind::Item { depth, marker } => {
            ui.horizontal_wrapped(|ui| {
                ui.add_space(f32::from(*depth - 1) * 18.0);
                ui.label(format!("{marker} "));
                spans_inline(ui, &block.spans, None, clicked, budget);
            });
        }
        Kind::Pre => {
            let text: String = block.spans.iter().map(|s| s.text.as_str()).collect();
            let text = budget.take(&text);
            ui.add(
                egui::Label::new(RichText::new(reveal::text(text)).monospace())
                    .selectable(true)
                    .wrap(),
            );
        }
        Kind::Paragraph | Kind::Row => {
            spans_ui(ui, &block.spans, None, clicked, budget);
            ui.add_space(4.0);
        }
    }
}

fn spans_ui(
    ui: &mut egui::Ui,
    spans: &[Span],
    size: Option<f32>,
    clicked: &mut Option<LinkAsk>,
    budget: &mut Budget,
) {
    ui.horizontal_wrapped(|ui| {
        ui.spacing_mut().item_spacing.x = 0.0;
        spans_inline(ui, spans, size, clicked, budget);
    });
}

fn spans_inline(
    ui: &mut egui::Ui,
    spans: &[Span],
    size: Option<f32>,
    clicked: &mut Option<LinkAsk>,
    budget: &mut Budget,
) {
    let body = ui.text_style_height(&TextStyle::Body);
    for span in spans {
        if budget.spent() {
            return;
        }
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
        let text = RichText::new(reveal::text(budget.take(&span.text))).font(font);
        match &span.link {
            Some(target) => {
                let link = ui
                    .link(text)
                    .on_hover_text(format!("Leads to {} (asks first)", reveal::field(target)));
                if link.clicked() {
                    *clicked = Some(LinkAsk {
                        target: target.clone(),
                        text: span.text.clone(),
                    });
                }
            }
            None => {
                ui.add(egui::Label::new(text).selectable(true));
            }
        }
    }
}
