//! Reply, Reply All and Forward, handed to the desktop's mail composer:
//! Pipit reads, it does not send. A reply is a `mailto:` URI (RFC 6068)
//! carrying the recipients, the subject, the headers that thread it
//! (In-Reply-To, References) and the quoted text; whatever program the
//! desktop has for `mailto:` links writes and sends it. Pure: a message's
//! fields in, one URI out.

use crate::mime::{Mailbox, ReplyFields};

/// The longest URI handed on. It goes to the opener as one argument
/// (Linux takes at most 128 KiB in one), and the opener hands it to the
/// composer on a command line or over D-Bus; 32 KiB passes all of them.
pub const MAX_URI: usize = 32 * 1024;

/// Which answer to a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// To the sender (its Reply-To, else its From).
    Reply,
    /// To the sender and every other recipient but oneself.
    ReplyAll,
    /// To nobody yet, with the message below a forwarded-message block.
    Forward,
}

/// A `mailto:` URI, and whether its quoted text was cut to fit.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mailto {
    pub uri: String,
    pub shortened: bool,
}

/// The `mailto:` URI that answers a message with `fields` and readable
/// `text`. `own` are the user's own addresses (an account's user), left out
/// of Reply All's recipients.
pub fn mailto(fields: &ReplyFields, text: &str, kind: Kind, own: &[&str]) -> Mailto {
    let (to, cc) = recipients(fields, kind, own);
    let mut uri = String::from("mailto:");
    uri.push_str(&address_list(&to));
    let mut hfields: Vec<(&str, String)> = Vec::new();
    if !cc.is_empty() {
        hfields.push(("cc", address_list(&cc)));
    }
    hfields.push(("subject", encode(&subject(&fields.subject, kind))));
    if kind != Kind::Forward {
        if let Some(id) = fields.message_id.as_deref().filter(|id| valid_id(id)) {
            hfields.push(("In-Reply-To", encode(&format!("<{id}>"))));
        }
        let references = references(fields);
        if !references.is_empty() {
            hfields.push(("References", encode(&references)));
        }
    }
    for (i, (name, value)) in hfields.iter().enumerate() {
        uri.push(if i == 0 { '?' } else { '&' });
        uri.push_str(name);
        uri.push('=');
        uri.push_str(value);
    }
    let body = match kind {
        Kind::Forward => forwarded(fields, text),
        Kind::Reply | Kind::ReplyAll => quoted(fields, text),
    };
    uri.push_str(if hfields.is_empty() { "?" } else { "&" });
    uri.push_str("body=");
    let budget = MAX_URI.saturating_sub(uri.len());
    let (encoded, shortened) = encode_body(&crlf(&body), budget, kind);
    uri.push_str(&encoded);
    Mailto { uri, shortened }
}

/// What the composer's body says where the quoted text was cut.
pub fn shortened_note(kind: Kind) -> &'static str {
    match kind {
        Kind::Forward => {
            "[Pipit shortened the forwarded text to fit the link handed to your mail program. \
Save the message (or export it) to send all of it as an attachment.]"
        }
        Kind::Reply | Kind::ReplyAll => {
            "[Pipit shortened the quoted text to fit the link handed to your mail program.]"
        }
    }
}

/// The answer's To and Cc, each address once, without the user's own.
fn recipients(fields: &ReplyFields, kind: Kind, own: &[&str]) -> (Vec<String>, Vec<String>) {
    let sender = if fields.reply_to.is_empty() {
        &fields.from
    } else {
        &fields.reply_to
    };
    let own: Vec<String> = own.iter().map(|a| a.trim().to_lowercase()).collect();
    let mut seen: Vec<String> = Vec::new();
    let mut take = |list: &[Mailbox], into: &mut Vec<String>, skip_own: bool| {
        for m in list {
            let key = m.address.to_lowercase();
            // A line break (even a bare CR) in an address would let a
            // composer that writes it into a header add a header: no
            // mail goes to such an address anyway.
            if m.address.chars().any(char::is_control) {
                continue;
            }
            if (skip_own && own.contains(&key)) || seen.contains(&key) {
                continue;
            }
            seen.push(key);
            into.push(m.address.clone());
        }
    };
    let (mut to, mut cc) = (Vec::new(), Vec::new());
    match kind {
        Kind::Forward => {}
        // Replying to one's own message goes to oneself, as asked.
        Kind::Reply => take(sender, &mut to, false),
        Kind::ReplyAll => {
            take(sender, &mut to, true);
            take(&fields.to, &mut to, true);
            take(&fields.cc, &mut cc, true);
            if to.is_empty() && cc.is_empty() {
                // Everyone was oneself: to the sender, as Reply does.
                take(sender, &mut to, false);
            }
        }
    }
    (to, cc)
}

/// The subject with one "Re: " (or "Fwd: ") in front, however many it had.
pub fn subject(original: &str, kind: Kind) -> String {
    let prefixes: &[&str] = match kind {
        Kind::Forward => &["fwd:", "fw:"],
        Kind::Reply | Kind::ReplyAll => &["re:"],
    };
    let mut rest = original.trim();
    'strip: loop {
        for p in prefixes {
            if rest.len() >= p.len()
                && rest.is_char_boundary(p.len())
                && rest[..p.len()].eq_ignore_ascii_case(p)
            {
                rest = rest[p.len()..].trim_start();
                continue 'strip;
            }
        }
        break;
    }
    let mark = if kind == Kind::Forward { "Fwd" } else { "Re" };
    // A header field is one line: a line break (from an encoded word)
    // would end it in the composer.
    format!("{mark}: {}", one_line(rest))
}

/// `text` on one line: each control character (a line break from an
/// encoded word) a space.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// The References of a reply: the message's own, then its Message-ID
/// (RFC 5322, 3.6.4), each in angle brackets, space-separated.
fn references(fields: &ReplyFields) -> String {
    let mut ids: Vec<&str> = if fields.references.is_empty() {
        // No References: its one In-Reply-To stands for them.
        match fields.in_reply_to.as_slice() {
            [one] => vec![one.as_str()],
            _ => Vec::new(),
        }
    } else {
        fields.references.iter().map(String::as_str).collect()
    };
    if let Some(id) = &fields.message_id {
        ids.push(id);
    }
    ids.retain(|id| valid_id(id));
    ids.iter()
        .map(|id| format!("<{id}>"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Whether `id` may stand in In-Reply-To or References: a message's
/// header can hold anything, and a line break there would let it add
/// headers (a Bcc) to the reply in the composer.
fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && !id
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '<' || c == '>')
}

/// Who wrote it, as the attribution line names them.
fn sender_name(fields: &ReplyFields) -> String {
    match fields.from.first() {
        Some(Mailbox {
            name: Some(name), ..
        }) => one_line(name),
        Some(m) => one_line(&m.address),
        None => "the sender".into(),
    }
}

/// "On DATE, NAME wrote:" and the text, each line behind "> ".
fn quoted(fields: &ReplyFields, text: &str) -> String {
    let mut body = match &fields.date {
        Some(date) => format!("On {date}, {} wrote:\n", sender_name(fields)),
        // A name or an address stays as written; only the stand-in is
        // capitalized.
        None if fields.from.is_empty() => "The sender wrote:\n".to_string(),
        None => format!("{} wrote:\n", sender_name(fields)),
    };
    for line in text.trim_end().lines() {
        let line = line.trim_end_matches('\r');
        if line.is_empty() {
            body.push('>');
        } else if line.starts_with('>') {
            body.push('>');
            body.push_str(line);
        } else {
            body.push_str("> ");
            body.push_str(line);
        }
        body.push('\n');
    }
    body
}

/// The forwarded-message block, then the text.
fn forwarded(fields: &ReplyFields, text: &str) -> String {
    let list = |list: &[Mailbox]| {
        list.iter()
            .map(|m| match &m.name {
                Some(name) => format!("{name} <{}>", m.address),
                None => m.address.clone(),
            })
            .map(|m| one_line(&m))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut body = String::from("-------- Forwarded Message --------\n");
    let mut line = |name: &str, value: &str| {
        if !value.is_empty() {
            body.push_str(&format!("{name}: {value}\n"));
        }
    };
    line("Subject", &one_line(&fields.subject));
    line(
        "Date",
        &one_line(fields.date.as_deref().unwrap_or_default()),
    );
    line("From", &list(&fields.from));
    line("Reply-To", &list(&fields.reply_to));
    line("To", &list(&fields.to));
    line("Cc", &list(&fields.cc));
    body.push('\n');
    body.push_str(text.trim_end());
    body.push('\n');
    body
}

/// Every line break as CRLF, as RFC 6068 wants them in a body.
fn crlf(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\r' => {
                if chars.peek() == Some(&'\n') {
                    chars.next();
                }
                out.push_str("\r\n");
            }
            '\n' => out.push_str("\r\n"),
            c => out.push(c),
        }
    }
    out
}

/// Addresses for the to-part or `cc`: each percent-encoded, a comma
/// inside one too, joined by bare commas (RFC 6068, 2).
fn address_list(addresses: &[String]) -> String {
    addresses
        .iter()
        .map(|a| encode(a).replace(',', "%2C"))
        .collect::<Vec<_>>()
        .join(",")
}

/// Whether `c` may stand as itself in a `mailto:` field: RFC 6068's
/// `qchar` (unreserved and some-delims), less "+", which some composers
/// read as a space.
fn plain(c: u8) -> bool {
    c.is_ascii_alphanumeric()
        || matches!(
            c,
            b'-' | b'.'
                | b'_'
                | b'~'
                | b'!'
                | b'$'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b','
                | b';'
                | b':'
                | b'@'
        )
}

/// Percent-encodes `text` as UTF-8 (RFC 6068, 2 and 5).
pub fn encode(text: &str) -> String {
    encode_prefix(text, usize::MAX).0
}

/// As much of `text` as fits in `budget` bytes once percent-encoded, and
/// how many bytes of `text` that is.
fn encode_prefix(text: &str, budget: usize) -> (String, usize) {
    let mut out = String::with_capacity(text.len().min(budget));
    let mut one = [0u8; 4];
    for (i, c) in text.char_indices() {
        let bytes = c.encode_utf8(&mut one).as_bytes();
        let len = if bytes.len() == 1 && plain(bytes[0]) {
            1
        } else {
            3 * bytes.len()
        };
        if out.len().saturating_add(len) > budget {
            return (out, i);
        }
        for &b in bytes {
            if plain(b) {
                out.push(b as char);
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    (out, text.len())
}

/// The body percent-encoded in at most `budget` bytes, and whether it was
/// cut: then it ends at a line's end (where there is one to end at) and
/// with a note that says so.
fn encode_body(body: &str, budget: usize, kind: Kind) -> (String, bool) {
    let (whole, taken) = encode_prefix(body, budget);
    if taken == body.len() {
        return (whole, false);
    }
    let note = encode(&format!("\r\n\r\n{}\r\n", shortened_note(kind)));
    let (head, taken) = encode_prefix(body, budget.saturating_sub(note.len()));
    let head = match body[..taken].rfind("\r\n") {
        Some(n) if n > 0 => encode(&body[..n]),
        _ => head,
    };
    (head + &note, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mb(name: Option<&str>, address: &str) -> Mailbox {
        Mailbox {
            name: name.map(str::to_string),
            address: address.into(),
        }
    }

    fn message() -> ReplyFields {
        ReplyFields {
            from: vec![mb(Some("Doe, Jane"), "jane@example.org")],
            reply_to: Vec::new(),
            to: vec![
                mb(Some("Me"), "me@example.net"),
                mb(None, "bob@example.com"),
            ],
            cc: vec![
                mb(None, "carol@example.com"),
                mb(None, "Bob@Example.com"),
                mb(None, "ME@example.net"),
            ],
            subject: "Lunch & more? 100% #1".into(),
            date: Some("Sun, 29 Nov 2026 09:41:00 +0100".into()),
            message_id: Some("m2@example.org".into()),
            in_reply_to: vec!["m1@example.org".into()],
            references: vec!["m0@example.org".into(), "m1@example.org".into()],
        }
    }

    /// The value of field `name` in `uri`, decoded.
    fn field(uri: &str, name: &str) -> Option<String> {
        let query = uri.split_once('?')?.1;
        query.split('&').find_map(|f| {
            let (n, v) = f.split_once('=')?;
            n.eq_ignore_ascii_case(name).then(|| decode(v))
        })
    }

    fn to_part(uri: &str) -> &str {
        let rest = uri.strip_prefix("mailto:").unwrap();
        rest.split_once('?').map_or(rest, |(to, _)| to)
    }

    fn decode(v: &str) -> String {
        let b = v.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            if b[i] == b'%' {
                out.push(u8::from_str_radix(&v[i + 1..i + 3], 16).unwrap());
                i += 3;
            } else {
                out.push(b[i]);
                i += 1;
            }
        }
        String::from_utf8(out).unwrap()
    }

    /// Every character of the URI is one RFC 6068 allows bare.
    fn well_formed(uri: &str) {
        let rest = uri.strip_prefix("mailto:").unwrap();
        let (to, query) = rest.split_once('?').unwrap_or((rest, ""));
        for c in to.bytes() {
            assert!(plain(c) || c == b'%', "{c:?} bare in the to-part of {uri}");
        }
        for f in query.split('&') {
            let (_, v) = f.split_once('=').expect("name=value");
            for c in v.bytes() {
                assert!(plain(c) || c == b'%', "{c:?} bare in {f}");
            }
        }
    }

    #[test]
    fn reply_goes_to_the_sender_with_one_re_and_the_thread() {
        let m = mailto(
            &message(),
            "Hi,\nsee you.",
            Kind::Reply,
            &["me@example.net"],
        );
        well_formed(&m.uri);
        assert!(!m.shortened);
        assert!(m.uri.starts_with("mailto:jane@example.org?"), "{}", m.uri);
        assert_eq!(field(&m.uri, "cc"), None);
        assert_eq!(
            field(&m.uri, "subject").unwrap(),
            "Re: Lunch & more? 100% #1"
        );
        assert!(
            m.uri
                .contains("subject=Re:%20Lunch%20%26%20more%3F%20100%25%20%231")
        );
        assert_eq!(field(&m.uri, "In-Reply-To").unwrap(), "<m2@example.org>");
        assert_eq!(
            field(&m.uri, "References").unwrap(),
            "<m0@example.org> <m1@example.org> <m2@example.org>"
        );
        assert_eq!(
            field(&m.uri, "body").unwrap(),
            "On Sun, 29 Nov 2026 09:41:00 +0100, Doe, Jane wrote:\r\n> Hi,\r\n> see you.\r\n"
        );
        assert!(m.uri.contains("%0D%0A%3E%20see%20you."));
    }

    #[test]
    fn reply_prefers_reply_to_and_never_stacks_re() {
        let mut f = message();
        f.reply_to = vec![mb(Some("List"), "list@example.org")];
        f.subject = "RE: re:  Re: plans".into();
        let m = mailto(&f, "", Kind::Reply, &[]);
        assert_eq!(to_part(&m.uri), "list@example.org");
        assert_eq!(field(&m.uri, "subject").unwrap(), "Re: plans");
        assert_eq!(subject("Fwd: FW: x", Kind::Forward), "Fwd: x");
        assert_eq!(subject("Re: x", Kind::Forward), "Fwd: Re: x");
        assert_eq!(subject("", Kind::Reply), "Re: ");
        assert_eq!(subject("Réponse", Kind::Reply), "Re: Réponse");
        assert_eq!(subject("a\r\nBcc: x", Kind::Reply), "Re: a  Bcc: x");
    }

    #[test]
    fn reply_all_adds_to_and_cc_without_oneself_or_twice() {
        let m = mailto(&message(), "x", Kind::ReplyAll, &["Me@Example.net"]);
        well_formed(&m.uri);
        assert_eq!(
            to_part(&m.uri),
            "jane@example.org,bob@example.com",
            "{}",
            m.uri
        );
        assert_eq!(field(&m.uri, "cc").unwrap(), "carol@example.com");
        // A message from oneself to oneself: Reply All still goes somewhere.
        let mut f = message();
        f.from = vec![mb(None, "me@example.net")];
        f.to = vec![mb(None, "me@example.net")];
        f.cc.clear();
        let m = mailto(&f, "x", Kind::ReplyAll, &["me@example.net"]);
        assert_eq!(to_part(&m.uri), "me@example.net");
    }

    #[test]
    fn addresses_with_commas_and_odd_characters_stay_one_address_each() {
        let mut f = message();
        f.from = vec![mb(Some("A"), "\"a,b?c&d\"@example.org")];
        f.to = vec![mb(None, "x%y@example.org"), mb(None, "ü@exämple.org")];
        f.cc.clear();
        let m = mailto(&f, "x", Kind::ReplyAll, &[]);
        well_formed(&m.uri);
        let to = to_part(&m.uri);
        let each: Vec<String> = to.split(',').map(decode).collect();
        assert_eq!(
            each,
            [
                "\"a,b?c&d\"@example.org",
                "x%y@example.org",
                "ü@exämple.org"
            ]
        );
        assert!(to.contains("x%25y@"), "{to}");
    }

    #[test]
    fn non_ascii_is_utf8_percent_encoded() {
        let mut f = message();
        f.from = vec![mb(Some("Jürgen Köhler"), "jk@example.de")];
        f.subject = "Grüße — 東京".into();
        let m = mailto(&f, "Straße", Kind::Reply, &[]);
        well_formed(&m.uri);
        assert!(m.uri.is_ascii());
        assert!(
            m.uri
                .contains("Gr%C3%BC%C3%9Fe%20%E2%80%94%20%E6%9D%B1%E4%BA%AC")
        );
        let body = field(&m.uri, "body").unwrap();
        assert!(body.starts_with("On Sun, 29 Nov 2026 09:41:00 +0100, Jürgen Köhler wrote:"));
        assert!(body.contains("> Straße"));
        // A plus is written out: some composers read a bare one as a space.
        assert!(encode("a+b").contains("%2B"));
    }

    #[test]
    fn quotes_deepen_and_blank_lines_stay() {
        let m = mailto(
            &message(),
            "mine\r\n\r\n> theirs\n>> older\n",
            Kind::Reply,
            &[],
        );
        let body = field(&m.uri, "body").unwrap();
        assert!(
            body.ends_with("> mine\r\n>\r\n>> theirs\r\n>>> older\r\n"),
            "{body:?}"
        );
    }

    #[test]
    fn identifiers_that_would_break_a_header_are_left_out() {
        let mut f = message();
        f.message_id = Some("x@y>\r\nBcc: spy@example.org".into());
        f.references = vec!["a b@c".into(), "ok@example.org".into()];
        let m = mailto(&f, "x", Kind::Reply, &[]);
        assert_eq!(field(&m.uri, "In-Reply-To"), None);
        assert_eq!(field(&m.uri, "References").unwrap(), "<ok@example.org>");
    }

    #[test]
    fn a_message_with_no_from_and_no_date_is_still_answered() {
        let f = ReplyFields {
            subject: "orphan".into(),
            ..ReplyFields::default()
        };
        let m = mailto(&f, "text", Kind::Reply, &["me@example.net"]);
        well_formed(&m.uri);
        assert_eq!(to_part(&m.uri), "");
        assert!(m.uri.starts_with("mailto:?subject=Re:%20orphan&body="));
        assert_eq!(field(&m.uri, "In-Reply-To"), None);
        assert_eq!(field(&m.uri, "References"), None);
        assert_eq!(
            field(&m.uri, "body").unwrap(),
            "The sender wrote:\r\n> text\r\n"
        );
        let m = mailto(&f, "", Kind::ReplyAll, &[]);
        assert_eq!(to_part(&m.uri), "");
    }

    #[test]
    fn forward_has_no_recipients_and_a_forwarded_block() {
        let m = mailto(&message(), "The text.", Kind::Forward, &[]);
        well_formed(&m.uri);
        assert_eq!(to_part(&m.uri), "");
        assert_eq!(
            field(&m.uri, "subject").unwrap(),
            "Fwd: Lunch & more? 100% #1"
        );
        assert_eq!(field(&m.uri, "In-Reply-To"), None);
        assert_eq!(
            field(&m.uri, "body").unwrap(),
            "-------- Forwarded Message --------\r\n\
Subject: Lunch & more? 100% #1\r\n\
Date: Sun, 29 Nov 2026 09:41:00 +0100\r\n\
From: Doe, Jane <jane@example.org>\r\n\
To: Me <me@example.net>, bob@example.com\r\n\
Cc: carol@example.com, Bob@Example.com, ME@example.net\r\n\
\r\n\
The text.\r\n"
        );
    }

    #[test]
    fn a_long_body_is_cut_at_a_line_and_says_so() {
        let text: String = (0..20_000).map(|i| format!("line {i} ü\n")).collect();
        for kind in [Kind::Reply, Kind::Forward] {
            let m = mailto(&message(), &text, kind, &[]);
            well_formed(&m.uri);
            assert!(m.shortened);
            assert!(m.uri.len() <= MAX_URI, "{}", m.uri.len());
            assert!(m.uri.len() > MAX_URI - 200, "{}", m.uri.len());
            let body = field(&m.uri, "body").unwrap();
            assert!(body.ends_with(&format!("\r\n\r\n{}\r\n", shortened_note(kind))));
            let before = body.rsplit_once("\r\n\r\n[Pipit").unwrap().0;
            assert!(
                before.ends_with(" ü"),
                "cut inside a line: {:?}",
                &before[before.len() - 20..]
            );
        }
        // One endless line: cut where the room ends, still whole characters.
        let m = mailto(&message(), &"ü".repeat(50_000), Kind::Reply, &[]);
        assert!(m.shortened && m.uri.len() <= MAX_URI);
        field(&m.uri, "body").unwrap();
        // Well within: not cut.
        let m = mailto(&message(), &"a".repeat(1000), Kind::Reply, &[]);
        assert!(!m.shortened);
    }

    #[test]
    fn an_address_with_a_line_break_is_left_out_and_the_body_keeps_one_line_each() {
        let mut f = message();
        f.from = vec![mb(None, "a\rBcc: evil@example.com")];
        f.reply_to = Vec::new();
        let m = mailto(&f, "text", Kind::Reply, &[]);
        well_formed(&m.uri);
        assert_eq!(to_part(&m.uri), "");
        // Reply All keeps the others.
        let m = mailto(&f, "text", Kind::ReplyAll, &[]);
        assert_eq!(to_part(&m.uri), "me@example.net,bob@example.com");
        // The attribution and the forwarded block: one line each, no
        // line that passes for a header.
        let mut f = message();
        f.from = vec![mb(
            Some("Jane\r\nBcc: evil@example.com"),
            "jane@example.org",
        )];
        f.subject = "Hi\r\nBcc: evil@example.com".into();
        let body = field(&mailto(&f, "text", Kind::Reply, &[]).uri, "body").unwrap();
        assert!(!body.contains("\r\nBcc"), "{body:?}");
        let body = field(&mailto(&f, "text", Kind::Forward, &[]).uri, "body").unwrap();
        assert!(!body.contains("\r\nBcc"), "{body:?}");
        assert!(
            body.contains("Subject: Hi  Bcc: evil@example.com\r\n"),
            "{body:?}"
        );
    }

    #[test]
    fn an_address_in_the_attribution_stays_as_written() {
        let f = ReplyFields {
            from: vec![mb(None, "ann@example.org")],
            ..ReplyFields::default()
        };
        let body = field(&mailto(&f, "x", Kind::Reply, &[]).uri, "body").unwrap();
        assert_eq!(body, "ann@example.org wrote:\r\n> x\r\n");
    }
}
