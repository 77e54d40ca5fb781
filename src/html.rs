//! HTML mail as structured text: headings, paragraphs, lists, quotes,
//! links, preformatted text and tables as rows of text. A small tolerant
//! tokenizer, no DOM and no network: images become their alt text, scripts
//! and styles are dropped, and nothing is ever fetched.

/// A run of text with one style.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Span {
    pub text: String,
    pub strong: bool,
    pub italic: bool,
    pub code: bool,
    /// The link's real target, as written in the HTML.
    pub link: Option<String>,
}

/// What kind of block a run of spans makes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    Heading(u8),
    Paragraph,
    /// A list item: its nesting depth (1 for a top-level list) and marker ("•", "3.").
    Item {
        depth: u8,
        marker: String,
    },
    /// Preformatted text, whitespace kept.
    Pre,
    /// One table row, its cells separated by " | ".
    Row,
    Rule,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    pub kind: Kind,
    /// How deep in quotes (blockquote) it stands.
    pub quote: u8,
    pub spans: Vec<Span>,
}

impl Block {
    pub fn text(&self) -> String {
        self.spans.iter().map(|s| s.text.as_str()).collect()
    }
}

/// Blocks made from one message at most: the reader lays out each.
const MAX_BLOCKS: usize = 20_000;
/// Nesting kept for lists and quotes; deeper is drawn at this depth.
const MAX_DEPTH: u8 = 8;

#[derive(Default)]
struct Builder {
    blocks: Vec<Block>,
    spans: Vec<Span>,
    kind: Option<Kind>,
    strong: u32,
    italic: u32,
    code: u32,
    pre: u32,
    quote: u8,
    links: Vec<Option<String>>,
    /// Each open list: ordered, and the next number.
    lists: Vec<(bool, u32)>,
    /// Skipping the contents of script, style, head, title.
    skip: Option<String>,
    in_row: bool,
    cells: usize,
}

impl Builder {
    fn flush(&mut self) {
        let kind = self.kind.take().unwrap_or(Kind::Paragraph);
        let mut spans = std::mem::take(&mut self.spans);
        if kind != Kind::Pre {
            // Trim the block's outer whitespace.
            while spans
                .first()
                .is_some_and(|s| s.text.trim().is_empty() && s.link.is_none())
            {
                spans.remove(0);
            }
            while spans
                .last()
                .is_some_and(|s| s.text.trim().is_empty() && s.link.is_none())
            {
                spans.pop();
            }
            if let Some(first) = spans.first_mut() {
                first.text = first.text.trim_start().to_string();
            }
            if let Some(last) = spans.last_mut() {
                last.text = last.text.trim_end().to_string();
            }
        }
        let empty = spans.iter().all(|s| s.text.trim().is_empty());
        if (!empty || kind == Kind::Rule) && self.blocks.len() < MAX_BLOCKS {
            self.blocks.push(Block {
                kind,
                quote: self.quote,
                spans,
            });
        }
    }

    fn start(&mut self, kind: Kind) {
        self.flush();
        self.kind = Some(kind);
    }

    fn text(&mut self, raw: &str) {
        if self.skip.is_some() {
            return;
        }
        let text = decode_entities(raw);
        let text = if self.pre > 0 {
            text
        } else {
            let mut collapsed = String::with_capacity(text.len());
            let mut space = self
                .spans
                .last()
                .is_none_or(|s| s.text.ends_with([' ', '\n']));
            for c in text.chars() {
                if c.is_whitespace() && c != '\u{a0}' {
                    if !space {
                        collapsed.push(' ');
                        space = true;
                    }
                } else {
                    collapsed.push(c);
                    space = false;
                }
            }
            collapsed
        };
        if text.is_empty() {
            return;
        }
        self.push(text);
    }

    fn push(&mut self, text: String) {
        let span = Span {
            text,
            strong: self.strong > 0,
            italic: self.italic > 0,
            code: self.code > 0 || self.pre > 0,
            link: self.links.iter().rev().flatten().next().cloned(),
        };
        match self.spans.last_mut() {
            Some(last)
                if last.strong == span.strong
                    && last.italic == span.italic
                    && last.code == span.code
                    && last.link == span.link =>
            {
                last.text.push_str(&span.text);
            }
            _ => self.spans.push(span),
        }
    }

    fn open(&mut self, name: &str, attrs: &str) {
        if self.skip.is_some() {
            return;
        }
        match name {
            "script" | "style" | "head" | "title" | "template" | "noscript" => {
                self.skip = Some(name.to_string());
            }
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" => {
                self.start(Kind::Heading(name.as_bytes()[1] - b'0'));
            }
            "p" | "div" | "section" | "article" | "header" | "footer" | "main" | "center"
            | "address" | "figure" | "figcaption" | "dt" | "dd" | "table" | "tbody" | "thead"
            | "form" | "nav" | "aside"
                if !self.in_row =>
            {
                self.start(Kind::Paragraph);
            }
            "blockquote" => {
                self.flush();
                self.quote = (self.quote + 1).min(MAX_DEPTH);
            }
            "ul" | "ol" | "menu" => {
                self.flush();
                self.lists.push((name == "ol", 1));
            }
            "li" => {
                let depth = self.lists.len().clamp(1, MAX_DEPTH as usize) as u8;
                let marker = match self.lists.last_mut() {
                    Some((true, n)) => {
                        let m = format!("{n}.");
                        *n += 1;
                        m
                    }
                    _ => ["•", "◦", "▪"][(depth as usize - 1) % 3].to_string(),
                };
                self.start(Kind::Item { depth, marker });
            }
            "pre" => {
                self.start(Kind::Pre);
                self.pre += 1;
            }
            "tr" => {
                self.start(Kind::Row);
                self.in_row = true;
                self.cells = 0;
            }
            "td" | "th" => {
                if self.in_row {
                    if self.cells > 0 {
                        self.push(" | ".into());
                    }
                    self.cells += 1;
                } else {
                    self.start(Kind::Paragraph);
                }
                if name == "th" {
                    self.strong += 1;
                }
            }
            "br" if self.pre > 0 || !self.spans.is_empty() => self.push("\n".into()),
            "hr" => {
                self.start(Kind::Rule);
                self.flush();
            }
            "b" | "strong" => self.strong += 1,
            "i" | "em" | "cite" | "var" => self.italic += 1,
            "code" | "tt" | "kbd" | "samp" => self.code += 1,
            "a" => self
                .links
                .push(attribute(attrs, "href").filter(|h| !h.is_empty())),
            "img" => {
                let alt = attribute(attrs, "alt").unwrap_or_default();
                if !alt.trim().is_empty() {
                    self.italic += 1;
                    self.push(format!("[image: {}]", alt.trim()));
                    self.italic -= 1;
                }
            }
            _ => {}
        }
    }

    fn close(&mut self, name: &str) {
        if let Some(skipping) = &self.skip {
            if skipping == name {
                self.skip = None;
            }
            return;
        }
        match name {
            "h1" | "h2" | "h3" | "h4" | "h5" | "h6" | "p" | "div" | "section" | "article"
            | "header" | "footer" | "main" | "center" | "address" | "figure" | "figcaption"
            | "dt" | "dd" | "li" | "table" | "form" | "nav" | "aside"
                if !self.in_row =>
            {
                self.flush();
            }
            "blockquote" => {
                self.flush();
                self.quote = self.quote.saturating_sub(1);
            }
            "ul" | "ol" | "menu" => {
                self.flush();
                self.lists.pop();
            }
            "pre" => {
                self.flush();
                self.pre = self.pre.saturating_sub(1);
            }
            "tr" => {
                self.flush();
                self.in_row = false;
            }
            "th" => self.strong = self.strong.saturating_sub(1),
            "b" | "strong" => self.strong = self.strong.saturating_sub(1),
            "i" | "em" | "cite" | "var" => self.italic = self.italic.saturating_sub(1),
            "code" | "tt" | "kbd" | "samp" => self.code = self.code.saturating_sub(1),
            "a" => {
                self.links.pop();
            }
            _ => {}
        }
    }
}

/// Lays HTML out as blocks of styled text.
pub fn blocks(html: &str) -> Vec<Block> {
    let mut b = Builder::default();
    let mut rest = html;
    while !rest.is_empty() {
        let Some(lt) = rest.find('<') else {
            b.text(rest);
            break;
        };
        b.text(&rest[..lt]);
        rest = &rest[lt..];
        if let Some(after) = rest.strip_prefix("<!--") {
            rest = after.find("-->").map_or("", |end| &after[end + 3..]);
            continue;
        }
        let Some(gt) = tag_end(rest) else {
            b.text(rest);
            break;
        };
        let tag = &rest[1..gt];
        rest = &rest[gt + 1..];
        if tag.starts_with('!') || tag.starts_with('?') {
            continue;
        }
        let (closing, tag) = match tag.strip_prefix('/') {
            Some(t) => (true, t),
            None => (false, tag),
        };
        let name_end = tag
            .find(|c: char| c.is_whitespace() || c == '/')
            .unwrap_or(tag.len());
        let name = tag[..name_end].to_ascii_lowercase();
        if name.is_empty() || !name.starts_with(|c: char| c.is_ascii_alphabetic()) {
            b.text(&format!("<{tag}>"));
            continue;
        }
        if closing {
            b.close(&name);
        } else {
            b.open(&name, &tag[name_end..]);
        }
    }
    b.flush();
    b.blocks
}

/// Where a tag starting at `s[0] == '<'` ends, quotes respected.
fn tag_end(s: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in s.char_indices().skip(1) {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return Some(i),
            _ => {}
        }
    }
    None
}

/// An attribute's value in a tag's attribute text, entities decoded.
fn attribute(attrs: &str, name: &str) -> Option<String> {
    let mut rest = attrs;
    loop {
        rest = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '/');
        if rest.is_empty() {
            return None;
        }
        let key_end = rest
            .find(|c: char| c.is_whitespace() || c == '=')
            .unwrap_or(rest.len());
        let key = &rest[..key_end];
        rest = rest[key_end..].trim_start();
        let value = if let Some(after) = rest.strip_prefix('=') {
            let after = after.trim_start();
            let (value, tail) = match after.chars().next() {
                Some(q @ ('"' | '\'')) => {
                    let body = &after[1..];
                    let end = body.find(q).unwrap_or(body.len());
                    (&body[..end], body.get(end + 1..).unwrap_or(""))
                }
                _ => {
                    let end = after.find(char::is_whitespace).unwrap_or(after.len());
                    (&after[..end], &after[end..])
                }
            };
            rest = tail;
            Some(value)
        } else {
            None
        };
        if key.eq_ignore_ascii_case(name) {
            return Some(
                decode_entities(value.unwrap_or_default())
                    .trim()
                    .to_string(),
            );
        }
    }
}

/// `&amp;`, `&#233;`, `&#xE9;` and the common named entities, decoded.
pub fn decode_entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        let end = rest[1..]
            .find(|c: char| !c.is_ascii_alphanumeric() && c != '#')
            .map_or(rest.len(), |i| i + 1);
        let name = &rest[1..end];
        let decoded = if let Some(num) = name.strip_prefix('#') {
            let code = match num.strip_prefix(['x', 'X']) {
                Some(hex) => u32::from_str_radix(hex, 16).ok(),
                None => num.parse().ok(),
            };
            code.and_then(char::from_u32)
        } else {
            named_entity(name)
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end..];
                rest = rest.strip_prefix(';').unwrap_or(rest);
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn named_entity(name: &str) -> Option<char> {
    Some(match name {
        "amp" | "AMP" => '&',
        "lt" | "LT" => '<',
        "gt" | "GT" => '>',
        "quot" | "QUOT" => '"',
        "apos" => '\'',
        "nbsp" => '\u{a0}',
        "copy" => '©',
        "reg" => '®',
        "trade" => '™',
        "mdash" => '—',
        "ndash" => '–',
        "hellip" => '…',
        "lsquo" => '‘',
        "rsquo" => '’',
        "ldquo" => '“',
        "rdquo" => '”',
        "laquo" => '«',
        "raquo" => '»',
        "bull" => '•',
        "middot" => '·',
        "euro" => '€',
        "pound" => '£',
        "yen" => '¥',
        "cent" => '¢',
        "deg" => '°',
        "times" => '×',
        "divide" => '÷',
        "eacute" => 'é',
        "egrave" => 'è',
        "agrave" => 'à',
        "aacute" => 'á',
        "ccedil" => 'ç',
        "uuml" => 'ü',
        "ouml" => 'ö',
        "auml" => 'ä',
        "Uuml" => 'Ü',
        "Ouml" => 'Ö',
        "Auml" => 'Ä',
        "szlig" => 'ß',
        "ntilde" => 'ñ',
        "zwnj" => '\u{200c}',
        "zwj" => '\u{200d}',
        "shy" => '\u{ad}',
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 13, item 12: headings ran into paragraphs, bullets vanished,
    /// links were not links.
    #[test]
    fn html_keeps_its_headings_lists_quotes_links_and_tables() {
        let html = r#"<html><head><title>x</title><style>p{color:red}</style></head><body>
<h1>Spring &amp; migration</h1><p>The <b>pipits</b> are back. Read <a href="https://birds.example/pipits?a=1&amp;b=2">the report</a>.</p>
<ul><li>Meadow pipit</li><li>Tree pipit<ol><li>first</li><li>second</li></ol></li></ul>
<blockquote><p>Quoted words</p></blockquote><table><tr><th>Bird</th><th>Count</th></tr><tr><td>Pipit</td><td>12</td></tr></table>
<img src="https://tracker.example/x.gif" alt="a pipit"><script>alert(1)</script><pre>  two  spaces</pre></body></html>"#;
        let b = blocks(html);
        let texts: Vec<String> = b.iter().map(Block::text).collect();
        assert_eq!(b[0].kind, Kind::Heading(1));
        assert_eq!(texts[0], "Spring & migration");
        assert_eq!(texts[1], "The pipits are back. Read the report.");
        let link = b[1].spans.iter().find(|s| s.link.is_some()).unwrap();
        assert_eq!(link.text, "the report");
        assert_eq!(
            link.link.as_deref(),
            Some("https://birds.example/pipits?a=1&b=2")
        );
        assert!(b[1].spans.iter().any(|s| s.strong && s.text == "pipits"));
        assert_eq!(
            b[2].kind,
            Kind::Item {
                depth: 1,
                marker: "•".into()
            }
        );
        assert_eq!(texts[2], "Meadow pipit");
        assert_eq!(texts[3], "Tree pipit");
        assert_eq!(
            b[4].kind,
            Kind::Item {
                depth: 2,
                marker: "1.".into()
            }
        );
        assert_eq!(texts[5], "second");
        let quote = b.iter().find(|b| b.text() == "Quoted words").unwrap();
        assert_eq!(quote.quote, 1);
        assert!(texts.contains(&"Bird | Count".to_string()), "{texts:?}");
        assert!(texts.contains(&"Pipit | 12".to_string()), "{texts:?}");
        assert!(texts.iter().any(|t| t == "[image: a pipit]"), "{texts:?}");
        assert!(
            !texts
                .iter()
                .any(|t| t.contains("alert") || t.contains("color"))
        );
        let pre = b.iter().find(|b| b.kind == Kind::Pre).unwrap();
        assert_eq!(pre.text(), "  two  spaces");
    }

    #[test]
    fn broken_html_still_reads() {
        let b = blocks("<p>open <b>bold <i>both</p> after < 3 & done <a href='x");
        let all: String = b.iter().map(Block::text).collect::<Vec<_>>().join("/");
        assert!(all.contains("open bold both"), "{all}");
        assert!(all.contains("after < 3 & done"), "{all}");
    }
}
