//! What the full-text index reads, and what a search asks it, folded the
//! same way, so that a person finds what they meant to type:
//! - Greek without its accents ("καλημερα" finds "Καλημέρα"), and ß as ss
//!   ("grusse" finds "Grüße"); SQLite's tokenizer already folds case and
//!   Latin accents, not these.
//! - Chinese, Japanese and Korean, which are written without spaces: each
//!   character is a word of its own, and a search for several is a phrase,
//!   so "晴れ" finds "東京は晴れです".
//!
//! The index calls [`fold`] as `pipit_fold` (registered on every connection
//! the store opens), in the triggers that keep it in step.

/// The text as the index keeps it.
pub fn fold(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    for c in text.chars() {
        if spaced(c) {
            out.push(' ');
            out.push(c);
            out.push(' ');
            continue;
        }
        match c {
            'ß' | 'ẞ' => out.push_str("ss"),
            // Combining accents, where text comes decomposed.
            '\u{0300}'..='\u{036F}' => {}
            c => out.push(greek_base(c).unwrap_or(c)),
        }
    }
    out
}

/// A search as the index reads it: each word a prefix, each run of
/// spaceless script a phrase of its characters. `None` when nothing is left
/// to look for.
pub fn query(text: &str) -> Option<String> {
    let mut terms: Vec<String> = Vec::new();
    let mut run: Vec<char> = Vec::new();
    let flush = |run: &mut Vec<char>, terms: &mut Vec<String>| {
        if !run.is_empty() {
            let chars: Vec<String> = run.drain(..).map(String::from).collect();
            terms.push(format!("\"{}\"", chars.join(" ")));
        }
    };
    for word in text.split(|c: char| !c.is_alphanumeric()) {
        let mut plain = String::new();
        for c in word.chars() {
            if spaced(c) {
                if !plain.is_empty() {
                    terms.push(format!("\"{}\"*", fold(&plain)));
                    plain.clear();
                }
                run.push(c);
            } else {
                flush(&mut run, &mut terms);
                plain.push(c);
            }
        }
        flush(&mut run, &mut terms);
        if !plain.is_empty() {
            terms.push(format!("\"{}\"*", fold(&plain)));
        }
    }
    (!terms.is_empty()).then(|| terms.join(" "))
}

/// Scripts written without spaces between words: Han, kana, Hangul.
fn spaced(c: char) -> bool {
    matches!(c,
        '\u{3040}'..='\u{30FF}'   // Hiragana, Katakana
        | '\u{31F0}'..='\u{31FF}' // Katakana extensions
        | '\u{3400}'..='\u{4DBF}' // CJK extension A
        | '\u{4E00}'..='\u{9FFF}' // CJK unified ideographs
        | '\u{AC00}'..='\u{D7AF}' // Hangul syllables
        | '\u{F900}'..='\u{FAFF}' // CJK compatibility ideographs
        | '\u{20000}'..='\u{2FA1F}' // CJK extensions B and later
    )
}

/// A Greek letter without its tonos or dialytika, lower case; final sigma
/// as sigma.
fn greek_base(c: char) -> Option<char> {
    Some(match c {
        'ά' | 'Ά' => 'α',
        'έ' | 'Έ' => 'ε',
        'ή' | 'Ή' => 'η',
        'ί' | 'Ί' | 'ϊ' | 'Ϊ' | 'ΐ' => 'ι',
        'ό' | 'Ό' => 'ο',
        'ύ' | 'Ύ' | 'ϋ' | 'Ϋ' | 'ΰ' => 'υ',
        'ώ' | 'Ώ' => 'ω',
        'ς' => 'σ',
        _ => return None,
    })
}

/// Makes `pipit_fold` known to `conn`: the index's triggers call it.
pub fn register(conn: &rusqlite::Connection) -> rusqlite::Result<()> {
    use rusqlite::functions::FunctionFlags;
    conn.create_scalar_function(
        "pipit_fold",
        1,
        FunctionFlags::SQLITE_UTF8
            | FunctionFlags::SQLITE_DETERMINISTIC
            | FunctionFlags::SQLITE_INNOCUOUS,
        |ctx| Ok(fold(ctx.get_raw(0).as_str().unwrap_or_default())),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greek_accents_sharp_s_and_spaceless_scripts_fold() {
        assert_eq!(fold("Καλημέρα"), "Καλημερα");
        assert_eq!(fold("Grüße"), "Grüsse");
        assert_eq!(fold("東京は晴れ"), " 東  京  は  晴  れ ");
        assert_eq!(fold("cafe\u{301}"), "cafe");
    }

    #[test]
    fn a_query_is_prefixes_and_phrases() {
        assert_eq!(query("koln cafe").as_deref(), Some("\"koln\"* \"cafe\"*"));
        assert_eq!(query("晴れ").as_deref(), Some("\"晴 れ\""));
        assert_eq!(query("Tokyo東京").as_deref(), Some("\"Tokyo\"* \"東 京\""));
        assert_eq!(query("\"*) ("), None);
    }
}
