//! Raw message bytes to the fields Pipit lists, shows and searches, with
//! mail-parser. Best effort: broken mail still yields what can be read, and
//! the raw bytes are always kept as they came.

use std::borrow::Cow;

use mail_parser::{Address, Message, MessageParser, MimeHeaders as _, PartType};

/// The fields of one message that the store keeps beside its raw bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Parsed {
    pub from: String,
    pub to: String,
    pub cc: String,
    pub subject: String,
    /// Seconds since the Unix epoch, from the Date header.
    pub date: Option<i64>,
    pub message_id: String,
    pub attachments: Vec<String>,
    /// The readable text: text parts, and HTML-only parts turned to text.
    pub text: String,
}

/// More multipart boundaries than real mail ever nests: a message with more
/// is parsed whole (see `Skeleton`).
const MAX_BOUNDARIES: usize = 64;

/// Text beyond this is not indexed for search; the raw message keeps all of it.
const MAX_TEXT: usize = 1024 * 1024;

/// Bytes kept of one header field (sender, recipients, subject, Message-ID)
/// and of one attachment name: a header can be megabytes long, and the list
/// and the reader show these on every frame. The raw message keeps all of it.
const MAX_FIELD: usize = 8 * 1024;
const MAX_NAME: usize = 1024;
/// Bytes kept of the end of a name cut short.
const NAME_TAIL: usize = 32;

/// Attachment names kept for the list and `show`; the reader decodes the
/// message again and offers every attachment.
const MAX_NAMES: usize = 1000;

/// Marks where a field was cut.
const CUT: &str = " […]";

/// Parses a whole message or just its header block.
pub fn parse(raw: &[u8]) -> Parsed {
    let parser = MessageParser::default();
    let skeleton = Skeleton::of(raw);
    if !skeleton.cuts.is_empty()
        && let Some(message) = parser.parse(&skeleton.bytes[..])
        && skeleton.cut_only_binary_parts(&message)
    {
        return fields(&message);
    }
    parser.parse(raw).map(|m| fields(&m)).unwrap_or_default()
}

fn fields(message: &Message<'_>) -> Parsed {
    let mut text = String::new();
    for i in 0..message.text_body_count() {
        if let Some(part) = message.body_text(i) {
            if !text.is_empty() {
                text.push_str("\n\n");
            }
            text.push_str(&part);
            if text.len() > MAX_TEXT {
                truncate(&mut text, MAX_TEXT);
                break;
            }
        }
    }
    let field = |value: String| bounded(value, MAX_FIELD);
    let mut attachments: Vec<String> = message
        .attachments()
        .take(MAX_NAMES + 1)
        .map(|a| attachment_name(a.attachment_name()))
        .collect();
    if attachments.len() > MAX_NAMES {
        attachments.truncate(MAX_NAMES);
        let more = message.attachments().count() - MAX_NAMES;
        attachments.push(format!("[and {more} more]"));
    }
    Parsed {
        from: field(addresses(message.from())),
        to: field(addresses(message.to())),
        cc: field(addresses(message.cc())),
        subject: field(message.subject().unwrap_or_default().trim().to_string()),
        date: message.date().map(|d| d.to_timestamp()),
        message_id: field(message.message_id().unwrap_or_default().to_string()),
        attachments,
        text,
    }
}

/// An attachment's name for the store, which keeps names one to a line: a
/// line break in a name would make two names of one, so it is written out
/// as `crate::reveal` writes it.
fn attachment_name(name: Option<&str>) -> String {
    let name = name.unwrap_or("unnamed");
    let name = if name.contains(['\r', '\n']) {
        name.replace('\r', "[U+000D]").replace('\n', "[U+000A]")
    } else {
        name.to_string()
    };
    if name.len() <= MAX_NAME {
        return name;
    }
    // Cut in the middle: the end of a name, its extension, says what it is.
    let mut head = MAX_NAME - CUT.len() - NAME_TAIL;
    while !name.is_char_boundary(head) {
        head -= 1;
    }
    let mut tail = name.len() - NAME_TAIL;
    while !name.is_char_boundary(tail) {
        tail += 1;
    }
    format!("{}{CUT}{}", &name[..head], &name[tail..])
}

/// `value`, cut to at most `max` bytes and marked where it was cut.
fn bounded(mut value: String, max: usize) -> String {
    if value.len() > max {
        truncate(&mut value, max - CUT.len());
        value.push_str(CUT);
    }
    value
}

/// Cuts `text` to at most `max` bytes, at a character boundary.
fn truncate(text: &mut String, max: usize) {
    let mut cut = max.min(text.len());
    while !text.is_char_boundary(cut) {
        cut -= 1;
    }
    text.truncate(cut);
}

/// The message without the bodies of its base64 parts that are not text
/// (attachments, images): the index never reads them, and decoding them was
/// most of the time a fetch spent parsing. Header blocks stay, so attachment
/// names do. Only lines made wholly of base64 are left out, and only after a
/// header block that says base64 and not text; `cut_only_binary_parts` then
/// checks that the parser saw each cut inside such a part, so broken MIME
/// that the parser reads another way is parsed whole instead.
struct Skeleton<'a> {
    bytes: Cow<'a, [u8]>,
    /// Where lines were left out, as offsets into `bytes`.
    cuts: Vec<usize>,
}

impl<'a> Skeleton<'a> {
    fn of(raw: &'a [u8]) -> Skeleton<'a> {
        let mut kept: Vec<u8> = Vec::new(); // filled once a line is left out
        let mut cuts = Vec::new();
        let mut copied = 0; // raw[..copied] is in `kept`
        let mut boundaries: Vec<&[u8]> = Vec::new();
        let mut header_block: Option<usize> = Some(0); // where the one being read starts
        let mut skipping = false;
        let mut at = 0;
        while at < raw.len() {
            if skipping {
                // Leave out whole lines up to the first with another byte.
                let stop = at + base64_run(&raw[at..]);
                let next = if stop == raw.len() {
                    stop
                } else {
                    memchr::memrchr(b'\n', &raw[at..stop]).map_or(at, |i| at + i + 1)
                };
                if next > at {
                    kept.extend_from_slice(&raw[copied..at]);
                    cuts.push(kept.len());
                    copied = next;
                    at = next;
                }
                skipping = false;
                continue;
            }
            let end = memchr::memchr(b'\n', &raw[at..]).map_or(raw.len(), |i| at + i + 1);
            let line = &raw[at..end];
            if let Some(start) = header_block {
                if line == b"\r\n" || line == b"\n" {
                    let part = PartShape::of(&raw[start..at]);
                    boundaries.extend(part.boundary);
                    if boundaries.len() > MAX_BOUNDARIES {
                        // Hostile or absurd: parse it whole rather than
                        // compare every line with thousands of boundaries.
                        return Skeleton {
                            bytes: Cow::Borrowed(raw),
                            cuts: Vec::new(),
                        };
                    }
                    skipping = part.binary;
                    header_block = None;
                }
            } else if let Some(boundary) = line
                .strip_prefix(b"--")
                .and_then(|rest| boundaries.iter().find(|b| rest.starts_with(b)))
                && !line[2 + boundary.len()..].starts_with(b"--")
            {
                header_block = Some(end);
            }
            at = end;
        }
        if cuts.is_empty() {
            return Skeleton {
                bytes: Cow::Borrowed(raw),
                cuts,
            };
        }
        kept.extend_from_slice(&raw[copied..]);
        Skeleton {
            bytes: Cow::Owned(kept),
            cuts,
        }
    }

    /// Whether the parser put every cut inside a binary part, and none inside
    /// text or a nested message: then the fields are what the whole message gives.
    fn cut_only_binary_parts(&self, message: &Message<'_>) -> bool {
        let binary = |p: &mail_parser::MessagePart<'_>| {
            matches!(p.body, PartType::Binary(_) | PartType::InlineBinary(_))
        };
        self.cuts.iter().all(|&cut| {
            let mut holding = message
                .parts
                .iter()
                .filter(|p| (p.offset_body as usize..=p.offset_end as usize).contains(&cut));
            holding.clone().any(binary)
                && holding.all(|p| binary(p) || matches!(p.body, PartType::Multipart(_)))
        })
    }
}

/// How many bytes at the start of `bytes` are base64 or white space. Checks
/// 64 at a time without branching, so the compiler can use vector instructions.
fn base64_run(bytes: &[u8]) -> usize {
    let mut run = 0;
    for chunk in bytes.chunks(64) {
        if !chunk
            .iter()
            .fold(true, |all, &b| all & is_base64_or_space(b))
        {
            return run + chunk.iter().take_while(|&&b| is_base64_or_space(b)).count();
        }
        run += chunk.len();
    }
    run
}

fn is_base64_or_space(b: u8) -> bool {
    b.is_ascii_alphanumeric() | matches!(b, b'+' | b'/' | b'=' | b' ' | b'\t' | b'\r' | b'\n')
}

/// What a part's header block says about the body below it.
struct PartShape<'a> {
    /// Base64 and not text, a multipart or a message.
    binary: bool,
    /// The boundary of a multipart.
    boundary: Option<&'a [u8]>,
}

impl<'a> PartShape<'a> {
    fn of(block: &'a [u8]) -> PartShape<'a> {
        let (mut content_type, mut base64): (&[u8], bool) = (b"", false);
        for field in header_fields(block) {
            let Some(colon) = field.iter().position(|&b| b == b':') else {
                continue;
            };
            let (name, value) = (field[..colon].trim_ascii(), field[colon + 1..].trim_ascii());
            if name.eq_ignore_ascii_case(b"content-type") {
                content_type = value;
            } else if name.eq_ignore_ascii_case(b"content-transfer-encoding") {
                base64 = value.eq_ignore_ascii_case(b"base64");
            }
        }
        let kind = |prefix: &[u8]| {
            content_type.len() >= prefix.len()
                && content_type[..prefix.len()].eq_ignore_ascii_case(prefix)
        };
        PartShape {
            binary: base64
                && !content_type.is_empty()
                && !kind(b"text/")
                && !kind(b"multipart/")
                && !kind(b"message/"),
            boundary: if kind(b"multipart/") {
                parameter(content_type, b"boundary")
            } else {
                None
            },
        }
    }
}

/// The fields of a header block, each with its folded lines.
fn header_fields(block: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut at = 0;
    std::iter::from_fn(move || {
        if at >= block.len() {
            return None;
        }
        let start = at;
        loop {
            at = block[at..]
                .iter()
                .position(|&b| b == b'\n')
                .map_or(block.len(), |i| at + i + 1);
            if !matches!(block.get(at), Some(b' ' | b'\t')) {
                return Some(&block[start..at]);
            }
        }
    })
}

/// A parameter's value in a header value (`; name="value"` or `; name=value`).
fn parameter<'a>(value: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    value.split(|&b| b == b';').skip(1).find_map(|param| {
        let eq = param.iter().position(|&b| b == b'=')?;
        if !param[..eq].trim_ascii().eq_ignore_ascii_case(name) {
            return None;
        }
        let v = param[eq + 1..].trim_ascii();
        let v = match v.strip_prefix(b"\"") {
            Some(quoted) => &quoted[..quoted.iter().position(|&b| b == b'"')?],
            None => v,
        };
        (!v.is_empty()).then_some(v)
    })
}

/// One attachment, decoded.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Attachment {
    pub name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// The attachments of a whole message, decoded (base64, quoted-printable).
pub fn attachments(raw: &[u8]) -> Vec<Attachment> {
    let Some(message) = MessageParser::default().parse(raw) else {
        return Vec::new();
    };
    message
        .attachments()
        .map(|a| Attachment {
            name: a.attachment_name().unwrap_or("unnamed").to_string(),
            content_type: a
                .content_type()
                .map(|c| match c.subtype() {
                    Some(sub) => format!("{}/{sub}", c.ctype()),
                    None => c.ctype().to_string(),
                })
                .unwrap_or_else(|| "application/octet-stream".into()),
            bytes: a.contents().to_vec(),
        })
        .collect()
}

/// The HTML of a message whose only text is HTML (nothing else to show it
/// with), for the reader to lay out with its structure. `None` for a
/// message with a plain-text part.
pub fn html_only(raw: &[u8]) -> Option<String> {
    let message = MessageParser::default().parse(raw)?;
    let mut html = String::new();
    for id in &message.text_body {
        match &message.parts.get(*id as usize)?.body {
            PartType::Html(part) => {
                html.push_str(part);
                if html.len() > MAX_TEXT {
                    truncate(&mut html, MAX_TEXT);
                    break;
                }
            }
            _ => return None,
        }
    }
    (!html.is_empty()).then_some(html)
}

/// One address of a header, its display name apart.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Mailbox {
    pub name: Option<String>,
    pub address: String,
}

/// What a reply or a forward needs of a message's headers: the addresses
/// each apart, the identifiers that thread it, and the Date as written.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReplyFields {
    pub from: Vec<Mailbox>,
    pub reply_to: Vec<Mailbox>,
    pub to: Vec<Mailbox>,
    pub cc: Vec<Mailbox>,
    pub subject: String,
    /// The Date header in RFC 5322's form ("Sun, 29 Nov 2026 09:41:00 +0100").
    pub date: Option<String>,
    /// Without angle brackets, as the other identifiers below.
    pub message_id: Option<String>,
    pub in_reply_to: Vec<String>,
    pub references: Vec<String>,
}

/// Identifiers kept of References: a thread's first and its latest are
/// what threading needs, and a header can list thousands.
const MAX_REFERENCES: usize = 20;

/// The headers a reply or a forward of `raw` is built from.
pub fn reply_fields(raw: &[u8]) -> ReplyFields {
    // A reply needs a few fields, not a hostile header block whole: the
    // first megabyte of it, cut at a line's end (fields past it are not
    // answered to; a header block that long is no letter).
    let block = header_block(raw);
    let front = if block.len() > REPLY_HEADER_SCAN {
        let cut = &block[..REPLY_HEADER_SCAN];
        let end = memchr::memrchr(b'\n', cut).map_or(0, |i| i + 1);
        &cut[..end]
    } else {
        block
    };
    let Some(message) = MessageParser::default().parse_headers(front) else {
        return ReplyFields::default();
    };
    let mailboxes = |address: Option<&Address<'_>>| -> Vec<Mailbox> {
        let Some(address) = address else {
            return Vec::new();
        };
        address
            .iter()
            .filter_map(|a| {
                let addr = a.address()?.trim();
                (!addr.is_empty()).then(|| Mailbox {
                    name: a
                        .name()
                        .map(|n| bounded(n.trim().to_string(), MAX_NAME))
                        .filter(|n| !n.is_empty()),
                    address: bounded(addr.to_string(), MAX_NAME),
                })
            })
            .take(MAX_NAMES)
            .collect()
    };
    let ids = |value: &mail_parser::HeaderValue<'_>| -> Vec<String> {
        let list = value.as_text_list().unwrap_or_default();
        let mut ids: Vec<String> = list
            .iter()
            .map(|id| bounded(id.trim().to_string(), MAX_NAME))
            .filter(|id| !id.is_empty())
            .collect();
        if ids.len() > MAX_REFERENCES {
            ids.drain(1..ids.len() - (MAX_REFERENCES - 1));
        }
        ids
    };
    ReplyFields {
        from: mailboxes(message.from()),
        reply_to: mailboxes(message.reply_to()),
        to: mailboxes(message.to()),
        cc: mailboxes(message.cc()),
        subject: bounded(
            message.subject().unwrap_or_default().trim().to_string(),
            MAX_FIELD,
        ),
        date: message.date().map(|d| d.to_rfc822()),
        message_id: message
            .message_id()
            .map(|id| bounded(id.trim().to_string(), MAX_NAME))
            .filter(|id| !id.is_empty()),
        in_reply_to: ids(message.in_reply_to()),
        references: ids(message.references()),
    }
}

/// "Name <addr>, other@example.org" for display and search.
fn addresses(address: Option<&Address<'_>>) -> String {
    let Some(address) = address else {
        return String::new();
    };
    address
        .iter()
        .map(|a| match (a.name(), a.address()) {
            (Some(name), Some(addr)) => format!("{name} <{addr}>"),
            (Some(name), None) => name.to_string(),
            (None, Some(addr)) => addr.to_string(),
            (None, None) => String::new(),
        })
        .filter(|s| !s.is_empty())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A message's identity beside its UID: SHA-256 over its header block.
pub type HeaderDigest = [u8; 32];

/// Enough of a message's front for [`header_digest`]: the bound a header
/// block from TOP is held to.
pub const HEADER_DIGEST_SCAN: usize = 1024 * 1024;

/// How much of a header block a reply's fields are read from.
const REPLY_HEADER_SCAN: usize = 1024 * 1024;

/// The header block at the front of a message: up to and including the
/// blank line that ends it (all of it, if it has none).
pub fn header_block(raw: &[u8]) -> &[u8] {
    let mut at = 0;
    for line in raw.split_inclusive(|&b| b == b'\n') {
        at += line.len();
        if line == b"\n" || line == b"\r\n" {
            return &raw[..at];
        }
    }
    raw
}

/// The digest of a message's header block: its header lines, each ended by
/// LF whatever the server wrote, without the blank line that ends the block.
/// So the reply to `TOP n 0` and the front of the whole message give the same
/// digest, from any server, with or without that blank line.
pub fn header_digest(raw: &[u8]) -> HeaderDigest {
    let mut context = ring::digest::Context::new(&ring::digest::SHA256);
    for line in raw.split_inclusive(|&b| b == b'\n') {
        let text = line.strip_suffix(b"\n").unwrap_or(line);
        let text = text.strip_suffix(b"\r").unwrap_or(text);
        if text.is_empty() && line.ends_with(b"\n") {
            break; // the blank line: the body follows
        }
        context.update(text);
        context.update(b"\n");
    }
    let mut digest = [0u8; 32];
    digest.copy_from_slice(context.finish().as_ref());
    digest
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SEED_MESSAGE: &[u8] = b"From: A <a@example.org>\r\nSubject: =?UTF-8?Q?x?=\r\n\
Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/html; charset=utf-8\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\r\n<p>caf=C3=A9</p>\r\n--b\r\n\
Content-Type: application/octet-stream; name*=UTF-8''a%20b.bin\r\nContent-Transfer-Encoding: base64\r\n\r\n\
AAEC\r\n--b--\r\n";

    /// Nested multiparts, a base64 text part, a base64 image and a PDF whose
    /// boundary is quoted and folded onto its own line.
    const RICH_MESSAGE: &[u8] = b"From: a@example.org\r\nSubject: rich\r\n\
Content-Type: multipart/mixed;\r\n boundary=\"outer=_1\"\r\n\r\npreamble\r\n--outer=_1\r\n\
Content-Type: multipart/alternative; boundary=inner\r\n\r\n--inner\r\n\
Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\nS8O2bG4gY2Fmw6k=\r\n\
--inner\r\nContent-Type: text/html\r\n\r\n<p>K&ouml;ln</p>\r\n--inner--\r\n--outer=_1\r\n\
Content-Type: image/png; name=dot.png\r\nContent-Transfer-Encoding: BASE64\r\n\r\n\
iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==\r\n\
--outer=_1\r\ncontent-type: Application/PDF\r\ncontent-disposition: attachment;\r\n\tfilename=r.pdf\r\n\
content-transfer-encoding: base64\r\n\r\nJVBERi0xLjQK\r\nJVBERi0xLjQK\r\n\r\n--outer=_1--\r\nepilogue\r\n";

    #[test]
    fn attachment_bodies_are_left_out_of_the_parse_and_nothing_else() {
        let skeleton = Skeleton::of(RICH_MESSAGE);
        assert_eq!(skeleton.cuts.len(), 2);
        let skeleton = std::str::from_utf8(&skeleton.bytes).unwrap();
        assert!(!skeleton.contains("iVBOR") && !skeleton.contains("JVBER"));
        assert!(
            skeleton.contains("S8O2bG4gY2Fmw6k="),
            "a base64 text part stays"
        );
        assert!(skeleton.contains("filename=r.pdf") && skeleton.contains("name=dot.png"));
        let p = parse(RICH_MESSAGE);
        assert_eq!(p, whole(RICH_MESSAGE));
        assert_eq!(
            p.attachments,
            vec!["dot.png".to_string(), "r.pdf".to_string()]
        );
        assert!(p.text.contains("Köln café"), "{:?}", p.text);
        // A message without such parts is parsed as it is, not copied.
        let plain = b"Subject: s\r\n\r\nQUJD\r\n";
        assert!(matches!(Skeleton::of(plain).bytes, Cow::Borrowed(_)));
    }

    #[test]
    fn the_demo_mailbox_parses_the_same_without_attachment_bodies() {
        let mut cut = 0;
        for raw in crate::demo::mailbox::messages(1_800_000_000) {
            cut += usize::from(!Skeleton::of(&raw).cuts.is_empty());
            assert_eq!(parse(&raw), whole(&raw));
        }
        assert!(cut >= 2, "the demo mailbox has attachments to leave out");
    }

    #[test]
    fn a_flood_of_boundaries_is_parsed_whole_and_quickly() {
        let mut raw =
            b"Subject: many\r\nContent-Type: multipart/mixed; boundary=b0\r\n\r\n".to_vec();
        for i in 1..20_000 {
            raw.extend_from_slice(
                format!(
                    "--b{}\r\nContent-Type: multipart/mixed; boundary=b{i}\r\n\r\n",
                    i - 1
                )
                .as_bytes(),
            );
        }
        raw.extend_from_slice(b"--b19999\r\nContent-Type: image/png\r\nContent-Transfer-Encoding: base64\r\n\r\nAAAA\r\n");
        let skeleton = Skeleton::of(&raw);
        assert!(skeleton.cuts.is_empty());
        assert!(matches!(skeleton.bytes, Cow::Borrowed(_)));
    }

    #[test]
    fn the_text_kept_for_search_stops_at_its_bound_between_characters() {
        // Three text parts of 700 KiB each, in two-byte characters, the
        // first one byte out of step: the bound falls inside the second
        // part, in the middle of a character unless the cut looks for a
        // boundary.
        let first = format!("x{}", "é".repeat(350 * 1024));
        let other = "é".repeat(350 * 1024);
        let mut raw =
            b"Subject: long\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n".to_vec();
        for part in [&first, &other, &other] {
            raw.extend_from_slice(b"--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n");
            raw.extend_from_slice(part.as_bytes());
            raw.extend_from_slice(b"\r\n");
        }
        raw.extend_from_slice(b"--b--\r\n");
        let text = parse(&raw).text;
        assert!(text.len() <= MAX_TEXT, "{} bytes of text kept", text.len());
        assert!(text.len() > MAX_TEXT - 4, "cut short: {} bytes", text.len());
        assert!(text.starts_with(&first), "the first part whole");
    }

    #[test]
    fn header_fields_and_attachment_names_are_bounded() {
        let huge = "x".repeat(3 * 1024 * 1024);
        let mut raw = format!(
            "From: {huge} <a@example.org>\r\nTo: {huge}@example.org\r\nSubject: {huge}\r\n\
Message-ID: <{huge}@example.org>\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        );
        raw.push_str(&format!(
            "--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=\"{}.pdf\"\r\n\r\nx\r\n",
            "é".repeat(10_000)
        ));
        raw.push_str(
            "--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename*=UTF-8''a.pdf%0D%0Ab.exe\r\n\r\nx\r\n",
        );
        for i in 0..MAX_NAMES + 5 {
            raw.push_str(&format!(
                "--b\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=\"{i}.txt\"\r\n\r\nx\r\n"
            ));
        }
        raw.push_str("--b--\r\n");
        let p = parse(raw.as_bytes());
        for (name, value) in [
            ("from", &p.from),
            ("to", &p.to),
            ("subject", &p.subject),
            ("message_id", &p.message_id),
        ] {
            assert!(value.len() <= MAX_FIELD, "{name}: {} bytes", value.len());
            assert!(value.ends_with(CUT), "{name} is marked as cut");
        }
        assert_eq!(p.attachments.len(), MAX_NAMES + 1);
        assert!(
            p.attachments[0].len() <= MAX_NAME,
            "{}",
            p.attachments[0].len()
        );
        assert!(
            p.attachments[0].ends_with("éééé.pdf") && p.attachments[0].contains(CUT),
            "cut in the middle, its extension kept"
        );
        assert_eq!(
            p.attachments[1], "a.pdf[U+000D][U+000A]b.exe",
            "one name, on one line"
        );
        assert_eq!(p.attachments[MAX_NAMES], "[and 7 more]");
    }

    /// The fields of the whole message, attachments decoded.
    fn whole(raw: &[u8]) -> Parsed {
        MessageParser::default()
            .parse(raw)
            .map(|m| fields(&m))
            .unwrap_or_default()
    }

    // Fuzzing on stable: PROPTEST_CASES=100000 cargo test mime::tests::fuzz runs longer.
    proptest! {
        #[test]
        fn fuzz_arbitrary_bytes_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..4096)) {
            let _ = parse(&raw);
        }

        #[test]
        fn fuzz_mutated_mime_never_panics(edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..32)) {
            let mut raw = SEED_MESSAGE.to_vec();
            for (at, byte) in edits {
                let i = at.index(raw.len());
                if byte % 3 == 0 { raw.remove(i); } else { raw.insert(i, byte); }
            }
            let _ = parse(&raw);
        }

        /// Leaving attachment bodies out changes nothing the store keeps,
        /// however the MIME structure is broken.
        #[test]
        fn fuzz_leaving_out_attachment_bodies_changes_no_field(edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..24)) {
            let mut raw = RICH_MESSAGE.to_vec();
            for (at, byte) in edits {
                let i = at.index(raw.len());
                if byte % 3 == 0 { raw.remove(i); } else { raw.insert(i, byte); }
            }
            prop_assert_eq!(parse(&raw), whole(&raw));
        }
    }

    #[test]
    fn fields_of_a_multipart_message() {
        let raw = b"From: =?UTF-8?Q?J=C3=BCrgen?= <j@example.org>\r\n\
To: alice@example.net, Bob <bob@example.net>\r\n\
Subject: =?UTF-8?B?S8O2bG4gY2Fmw6k=?=\r\n\
Date: Mon, 2 Nov 2026 10:00:00 +0000\r\n\
Message-ID: <m1@example.org>\r\n\
Content-Type: multipart/mixed; boundary=b\r\n\r\n\
--b\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello there\r\n\
--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename=\"report.pdf\"\r\n\
Content-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--b--\r\n";
        let p = parse(raw);
        assert_eq!(p.from, "Jürgen <j@example.org>");
        assert_eq!(p.to, "alice@example.net, Bob <bob@example.net>");
        assert_eq!(p.subject, "Köln café");
        assert_eq!(p.date, Some(1_793_613_600));
        assert_eq!(p.message_id, "m1@example.org");
        assert_eq!(p.attachments, vec!["report.pdf".to_string()]);
        assert!(p.text.contains("Hello there"));
    }

    #[test]
    fn attachments_come_back_decoded() {
        let raw = b"Subject: a\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\
Content-Type: text/plain\r\n\r\nhi\r\n--b\r\nContent-Type: application/pdf\r\n\
Content-Disposition: attachment; filename=\"r.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0=\r\n--b--\r\n";
        let a = attachments(raw);
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].name, "r.pdf");
        assert_eq!(a[0].content_type, "application/pdf");
        assert_eq!(a[0].bytes, b"%PDF-");
    }

    #[test]
    fn html_only_mail_becomes_text() {
        let raw = b"From: a@b\r\nSubject: h\r\nContent-Type: text/html\r\n\r\n<html><body><p>Hi <b>you</b></p></body></html>\r\n";
        let p = parse(raw);
        assert!(
            p.text.contains("Hi") && p.text.contains("you"),
            "{:?}",
            p.text
        );
        assert!(!p.text.contains("<b>"));
    }

    #[test]
    fn broken_bytes_are_parsed_best_effort() {
        let p = parse(b"Subject: caf\xe9 \x00 nul\r\nFrom: \xff\xfe\r\n\r\nbody \x00\xff text\r\n");
        assert!(p.subject.starts_with("caf"));
        assert!(p.text.contains("body"));
        assert_eq!(parse(b""), Parsed::default());
    }

    #[test]
    fn the_header_digest_is_the_same_from_top_and_retr_with_any_line_endings() {
        let top = header_digest(b"From: a@b\r\nSubject: hi\r\n\r\n");
        assert_eq!(
            top,
            header_digest(b"From: a@b\r\nSubject: hi\r\n\r\nbody\r\n")
        );
        assert_eq!(top, header_digest(b"From: a@b\nSubject: hi\n\nbody\n"));
        assert_eq!(
            top,
            header_digest(b"From: a@b\r\nSubject: hi\r\n"),
            "no blank line"
        );
        assert_ne!(top, header_digest(b"From: a@b\r\nSubject: ho\r\n\r\n"));
        assert_ne!(
            top,
            header_digest(b"From: a@b\r\nSubject: hi\r\nX: 1\r\n\r\n"),
            "one more header"
        );
        assert_ne!(header_digest(b""), top);
        assert_eq!(
            header_digest(b""),
            header_digest(b"\r\nbody"),
            "no header at all"
        );
        assert_eq!(header_block(b"A: b\r\n\r\nbody"), b"A: b\r\n\r\n");
        assert_eq!(header_block(b"A: b\n\nbody"), b"A: b\n\n");
        assert_eq!(header_block(b"A: b\r\n"), b"A: b\r\n");
    }

    #[test]
    fn reply_fields_keep_names_apart_and_the_thread() {
        let raw = b"From: \"Doe, Jane\" <jane@example.org>\r\n\
Reply-To: =?UTF-8?Q?J=C3=BCrgen?= <list@example.org>\r\n\
To: me@example.net, Bob <bob@example.com>\r\nCc: <carol@example.com>\r\n\
Subject: Re: plans\r\nDate: Sun, 29 Nov 2026 09:41:00 +0100\r\n\
Message-ID: <m2@example.org>\r\nIn-Reply-To: <m1@example.org>\r\n\
References: <m0@example.org>\r\n <m1@example.org>\r\n\r\nbody\r\n";
        let f = reply_fields(raw);
        let mb = |name: Option<&str>, address: &str| Mailbox {
            name: name.map(str::to_string),
            address: address.into(),
        };
        assert_eq!(f.from, [mb(Some("Doe, Jane"), "jane@example.org")]);
        assert_eq!(f.reply_to, [mb(Some("Jürgen"), "list@example.org")]);
        assert_eq!(
            f.to,
            [
                mb(None, "me@example.net"),
                mb(Some("Bob"), "bob@example.com")
            ]
        );
        assert_eq!(f.cc, [mb(None, "carol@example.com")]);
        assert_eq!(f.subject, "Re: plans");
        assert_eq!(f.date.as_deref(), Some("Sun, 29 Nov 2026 09:41:00 +0100"));
        assert_eq!(f.message_id.as_deref(), Some("m2@example.org"));
        assert_eq!(f.in_reply_to, ["m1@example.org"]);
        assert_eq!(f.references, ["m0@example.org", "m1@example.org"]);
        assert_eq!(reply_fields(b"garbage"), ReplyFields::default());
        // A header block of megabytes is read for a reply from its front.
        let mut huge = b"From: Ana <ana@example.org>\r\nX-Junk: ".to_vec();
        huge.extend(std::iter::repeat_n(b'a', 3 * 1024 * 1024));
        huge.extend_from_slice(b"\r\nSubject: late\r\n\r\nbody\r\n");
        let f = reply_fields(&huge);
        assert_eq!(f.from.len(), 1);
        assert_eq!(f.subject, "");
    }
}
