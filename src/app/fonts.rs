//! The window's typefaces: Inter, in a regular, a semibold and an italic
//! face (subsets for Latin, Greek and Cyrillic, OFL; `assets/fonts/`), so
//! unread mail is drawn in a real bold face, the same in every column.
//! egui's own fonts and the system's (for CJK and other scripts) follow as
//! fallbacks.

use std::sync::Arc;

use egui::{FontData, FontDefinitions, FontFamily};

/// The family unread rows, headings and strong HTML text use.
pub const BOLD: &str = "bold";
/// The family for HTML's emphasis.
pub const ITALIC: &str = "italic";

pub fn bold() -> FontFamily {
    FontFamily::Name(BOLD.into())
}

pub fn italic() -> FontFamily {
    FontFamily::Name(ITALIC.into())
}

/// Installs the faces; the first call on a context does the work.
pub fn install(ctx: &egui::Context) {
    let mut fonts = FontDefinitions::default();
    let faces: [(&str, &'static [u8]); 3] = [
        (
            "Inter-Regular",
            include_bytes!("../../assets/fonts/Inter-Regular.otf"),
        ),
        (
            "Inter-SemiBold",
            include_bytes!("../../assets/fonts/Inter-SemiBold.otf"),
        ),
        (
            "Inter-Italic",
            include_bytes!("../../assets/fonts/Inter-Italic.otf"),
        ),
    ];
    for (name, bytes) in faces {
        fonts
            .font_data
            .insert(name.into(), Arc::new(FontData::from_static(bytes)));
    }
    let fallbacks = fonts
        .families
        .get(&FontFamily::Proportional)
        .cloned()
        .unwrap_or_default();
    let with = |first: &str| {
        let mut list = vec![first.to_string()];
        list.extend(fallbacks.iter().cloned());
        list
    };
    fonts
        .families
        .insert(FontFamily::Proportional, with("Inter-Regular"));
    fonts.families.insert(bold(), with("Inter-SemiBold"));
    fonts.families.insert(italic(), with("Inter-Italic"));
    ctx.set_fonts(fonts);
}
