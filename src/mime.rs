//! Raw message bytes to the fields Pipit lists, shows and searches, with
//! mail-parser. Best effort: broken mail still yields what can be read, and
//! the raw bytes are always kept as they came.

use mail_parser::{Address, MessageParser, MimeHeaders as _};

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

/// Text beyond this is not indexed for search; the raw message keeps all of it.
const MAX_TEXT: usize = 1024 * 1024;

/// Parses a whole message or just its header block.
pub fn parse(raw: &[u8]) -> Parsed {
    let Some(message) = MessageParser::default().parse(raw) else {
        return Parsed::default();
    };
    let mut text = String::new();
    for i in 0..message.text_body_count() {
        if let Some(part) = message.body_text(i) {
            if !text.is_empty() {
                text.push_str("\n\n");
            }
            text.push_str(&part);
            if text.len() > MAX_TEXT {
                let mut cut = MAX_TEXT;
                while !text.is_char_boundary(cut) {
                    cut -= 1;
                }
                text.truncate(cut);
                break;
            }
        }
    }
    Parsed {
        from: addresses(message.from()),
        to: addresses(message.to()),
        cc: addresses(message.cc()),
        subject: message.subject().unwrap_or_default().trim().to_string(),
        date: message.date().map(|d| d.to_timestamp()),
        message_id: message.message_id().unwrap_or_default().to_string(),
        attachments: message
            .attachments()
            .map(|a| a.attachment_name().unwrap_or("unnamed").to_string())
            .collect(),
        text,
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SEED_MESSAGE: &[u8] = b"From: A <a@example.org>\r\nSubject: =?UTF-8?Q?x?=\r\n\
Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\nContent-Type: text/html; charset=utf-8\r\n\
Content-Transfer-Encoding: quoted-printable\r\n\r\n<p>caf=C3=A9</p>\r\n--b\r\n\
Content-Type: application/octet-stream; name*=UTF-8''a%20b.bin\r\nContent-Transfer-Encoding: base64\r\n\r\n\
AAEC\r\n--b--\r\n";

    // Fuzzing on stable: PROPTEST_CASES=100000 cargo test mime::tests::fuzz runs longer.
    proptest! {
        #[test]
        fn fuzz_arbitrary_bytes_never_panic(raw in proptest::collection::vec(any::<u8>(), 0..4096)) {
            let parsed = parse(&raw);
            prop_assert!(parsed.text.len() <= MAX_TEXT + 4);
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
}
