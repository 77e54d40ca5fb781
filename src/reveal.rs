//! Text from a message, made safe to show. A sender, subject or attachment
//! name can hide what it is: a right-to-left override makes
//! "invoice\u{202E}fdp.exe" read as "invoiceexe.pdf", a zero-width space
//! splits a word a filter looks for, an escape sequence repaints a terminal,
//! a Cyrillic "а" passes for a Latin one. Both faces show such text through
//! here: the characters that hide are written out as `[U+202E]`, and words
//! that mix alphabets are named. The store keeps the text as it came.

use std::borrow::Cow;

/// At most this many characters of one header field are shown; the message
/// itself keeps all of them.
pub const FIELD_CHARS: usize = 2_000;

/// A header field (sender, subject, attachment name) as it may be shown on
/// one line: control, direction and invisible characters written out as
/// `[U+XXXX]`, a tab as a space, and at most [`FIELD_CHARS`] characters.
pub fn field(text: &str) -> Cow<'_, str> {
    let too_long = text.len() > FIELD_CHARS && text.chars().nth(FIELD_CHARS).is_some();
    if !too_long && !text.chars().any(|c| hides(c) || c == '\t') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len().min(4 * FIELD_CHARS));
    for c in text.chars().take(FIELD_CHARS) {
        match c {
            '\t' => out.push(' '),
            c if hides(c) => write_out(&mut out, c),
            c => out.push(c),
        }
    }
    if too_long {
        out.push_str(" […]");
    }
    Cow::Owned(out)
}

/// A message's text as it may be shown: line breaks (LF, CRLF) and tabs stay,
/// every other control character is written out, so a terminal that prints
/// it is never given an escape sequence or a bare carriage return. Direction
/// marks stay: right-to-left text needs them, and no file name hangs on them.
pub fn text(text: &str) -> Cow<'_, str> {
    let stray = |(i, c): (usize, char)| {
        c.is_control() && c != '\n' && c != '\t' && !(c == '\r' && text[i + 1..].starts_with('\n'))
    };
    if !text.char_indices().any(stray) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for (i, c) in text.char_indices() {
        if stray((i, c)) {
            write_out(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Whether `text` has characters that [`field`] writes out.
pub fn has_hidden(text: &str) -> bool {
    text.chars().any(hides)
}

/// Says how `text` may imitate other text: a word whose letters come from
/// more than one alphabet ("Рaypal" with a Cyrillic "Р"), or letters made to
/// look like plain Latin ones (fullwidth "ｐａｙ", mathematical "𝐩𝐚𝐲").
pub fn lookalikes(text: &str) -> Option<String> {
    let mut word_scripts: Vec<Script> = Vec::new();
    let mut found: Vec<Script> = Vec::new();
    let mut mixed = false;
    let mut flush = |scripts: &mut Vec<Script>| {
        if scripts.len() > 1 {
            mixed = true;
            for s in scripts.iter() {
                if !found.contains(s) {
                    found.push(*s);
                }
            }
        } else if let [s @ (Script::Fullwidth | Script::Mathematical)] = scripts[..]
            && !found.contains(&s)
        {
            found.push(s);
        }
        scripts.clear();
    };
    for c in text.chars() {
        if !c.is_alphanumeric() {
            flush(&mut word_scripts);
            continue;
        }
        if let Some(s) = script(c)
            && !word_scripts.contains(&s)
        {
            word_scripts.push(s);
        }
    }
    flush(&mut word_scripts);
    if found.is_empty() {
        return None;
    }
    found.sort();
    let names: Vec<&str> = found.iter().map(|s| s.name()).collect();
    Some(if mixed {
        format!("{} letters mixed in one word", join_words(&names))
    } else {
        format!("{} letters that look like plain ones", join_words(&names))
    })
}

/// What to tell the reader about a header (`what`: "sender", "subject")
/// that may pass for something else, if anything.
pub fn caution(what: &str, value: &str) -> Option<String> {
    if let Some(mix) = lookalikes(value) {
        return Some(format!(
            "Caution: the {what} has {mix}, as imitations of familiar names do."
        ));
    }
    has_hidden(value).then(|| {
        format!(
            "Caution: the {what} has characters that change how it reads; they are shown as [U+…]."
        )
    })
}

fn join_words(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// The alphabets whose letters pass for each other's.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Script {
    Latin,
    Greek,
    Cyrillic,
    Armenian,
    Cherokee,
    Fullwidth,
    Mathematical,
}

impl Script {
    fn name(self) -> &'static str {
        match self {
            Script::Latin => "Latin",
            Script::Greek => "Greek",
            Script::Cyrillic => "Cyrillic",
            Script::Armenian => "Armenian",
            Script::Cherokee => "Cherokee",
            Script::Fullwidth => "fullwidth",
            Script::Mathematical => "mathematical",
        }
    }
}

/// The alphabet of a letter, for the few alphabets that imitate Latin;
/// digits and the rest of the world's letters count as none.
fn script(c: char) -> Option<Script> {
    Some(match c as u32 {
        0x41..=0x5A | 0x61..=0x7A | 0xC0..=0x24F | 0x1E00..=0x1EFF => {
            if c == '×' || c == '÷' {
                return None;
            }
            Script::Latin
        }
        0x370..=0x3FF | 0x1F00..=0x1FFF => Script::Greek,
        0x400..=0x52F | 0x1C80..=0x1C8F | 0x2DE0..=0x2DFF | 0xA640..=0xA69F => Script::Cyrillic,
        0x530..=0x58F => Script::Armenian,
        0x13A0..=0x13FF | 0xAB70..=0xABBF => Script::Cherokee,
        0xFF21..=0xFF3A | 0xFF41..=0xFF5A => Script::Fullwidth,
        0x1D400..=0x1D7FF => Script::Mathematical,
        _ => return None,
    })
}

/// Characters that change how the text around them reads, or read as
/// nothing at all: controls, direction overrides and marks, zero-width and
/// other invisible characters. The zero-width joiner and the variation
/// selectors stay: emoji are made with them.
pub fn hides(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{00AD}' // soft hyphen
            | '\u{034F}' // combining grapheme joiner
            | '\u{061C}' // Arabic letter mark
            | '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}' // Hangul fillers
            | '\u{17B4}' | '\u{17B5}' // Khmer inherent vowels
            | '\u{180E}' // Mongolian vowel separator
            | '\u{200B}' | '\u{200C}' // zero-width space, non-joiner
            | '\u{200E}' | '\u{200F}' // left-to-right and right-to-left marks
            | '\u{2028}' | '\u{2029}' // line and paragraph separators
            | '\u{202A}'..='\u{202E}' // embeddings and overrides
            | '\u{2060}'..='\u{2064}' // word joiner, invisible operators
            | '\u{2066}'..='\u{206F}' // isolates and deprecated format characters
            | '\u{FEFF}' // zero-width no-break space
            | '\u{FFF9}'..='\u{FFFB}' // interlinear annotations
            | '\u{1D173}'..='\u{1D17A}' // musical formatting
            | '\u{E0000}'..='\u{E007F}' // tags
        )
}

fn write_out(out: &mut String, c: char) {
    use std::fmt::Write as _;
    let _ = write!(out, "[U+{:04X}]", c as u32);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_right_to_left_override_cannot_pass_a_program_for_a_pdf() {
        assert_eq!(field("invoice\u{202E}fdp.exe"), "invoice[U+202E]fdp.exe");
        assert_eq!(
            field("a\u{2066}b\u{2069}\u{200B}c\u{FEFF}"),
            "a[U+2066]b[U+2069][U+200B]c[U+FEFF]"
        );
        assert!(has_hidden("x\u{200F}") && !has_hidden("Grüße 東京 שלום"));
        // Plain text is not copied.
        assert!(matches!(field("Köln café"), Cow::Borrowed(_)));
        // Emoji keep their joiners and presentation selectors.
        assert_eq!(field("👩\u{200D}💻 ❤\u{FE0F}"), "👩\u{200D}💻 ❤\u{FE0F}");
    }

    #[test]
    fn controls_are_written_out_and_never_reach_a_terminal() {
        assert_eq!(
            field("a\0b\x1b[2Jc\x07\r\nd\u{9B}e\x7f\tf"),
            "a[U+0000]b[U+001B][2Jc[U+0007][U+000D][U+000A]d[U+009B]e[U+007F] f"
        );
        assert_eq!(
            text("line one\r\nline two\n\ttabbed\x1b]0;title\x07 back\rover"),
            "line one\r\nline two\n\ttabbed[U+001B]]0;title[U+0007] back[U+000D]over"
        );
        assert!(matches!(text("plain\r\ntext\n"), Cow::Borrowed(_)));
        assert_eq!(text("ends with\r"), "ends with[U+000D]");
        assert_eq!(text("עברית\u{200F} stays"), "עברית\u{200F} stays");
    }

    // Fuzzing on stable: PROPTEST_CASES=100000 cargo test reveal::tests::fuzz runs longer.
    proptest::proptest! {
        #[test]
        fn fuzz_nothing_that_hides_gets_through(given in "\\PC{0,200}|[\\x00-\\x7f\\u{80}-\\u{9f}\\u{200b}-\\u{206f}a-z]{0,200}") {
            proptest::prop_assert!(!field(&given).chars().any(hides));
            let shown = text(&given);
            proptest::prop_assert!(!shown.char_indices().any(|(i, c)| c.is_control()
                && c != '\n' && c != '\t' && !(c == '\r' && shown[i + 1..].starts_with('\n'))));
            let _ = lookalikes(&given);
        }
    }

    #[test]
    fn a_field_is_shown_up_to_its_bound() {
        let long = "é".repeat(FIELD_CHARS + 10);
        let shown = field(&long);
        assert_eq!(shown.chars().count(), FIELD_CHARS + " […]".chars().count());
        assert!(shown.ends_with(" […]"));
        let exact = "é".repeat(FIELD_CHARS);
        assert_eq!(field(&exact), exact);
    }

    #[test]
    fn words_that_mix_alphabets_are_named() {
        assert_eq!(
            lookalikes("\u{0420}ayPal Security").as_deref(),
            Some("Latin and Cyrillic letters mixed in one word")
        );
        assert_eq!(
            lookalikes("service@p\u{0430}ypal.com").as_deref(),
            Some("Latin and Cyrillic letters mixed in one word")
        );
        assert_eq!(
            lookalikes("ｐａｙｐａｌ").as_deref(),
            Some("fullwidth letters that look like plain ones")
        );
        assert!(lookalikes("𝐩𝐚𝐲").unwrap().contains("mathematical"));
        assert!(lookalikes("Ελληνικά").is_none(), "one alphabet");
        for honest in [
            "Jürgen Müller <j@example.org>",
            "Москва and London",
            "東京 Tokyo",
            "Ελληνικά και English",
            "Invoice 2026-11",
            "",
        ] {
            assert_eq!(lookalikes(honest), None, "{honest}");
        }
        assert_eq!(
            caution("sender", "\u{0420}ayPal <service@paypal.com>").as_deref(),
            Some(
                "Caution: the sender has Latin and Cyrillic letters mixed in one word, \
as imitations of familiar names do."
            )
        );
        assert!(
            caution("subject", "invoice\u{202E}fdp.exe")
                .unwrap()
                .contains("[U+…]")
        );
        assert_eq!(caution("subject", "Lunch on Friday?"), None);
    }
}
