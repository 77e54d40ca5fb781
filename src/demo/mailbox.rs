//! The demo mailbox: mail that shows what Pipit does — plain and HTML-only
//! messages, attachments, non-Latin names and subjects, a long thread, and a
//! few large messages that stay on the server as headers only.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use crate::dates::Civil;

/// Messages larger than this stay on the server in the demo account.
pub const DEMO_SIZE_LIMIT: u64 = 1_000_000;

/// The sample mailbox, dated in the hours before `now` (Unix seconds).
pub fn messages(now: i64) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut hours_ago = 0i64;
    let mut next_date = || {
        hours_ago += 3;
        Civil::from_unix(now - hours_ago * 3600).rfc5322()
    };

    out.push(plain(
        "Pipit <hello@pipit.example>",
        "Welcome to Pipit",
        &next_date(),
        "<welcome@pipit.example>",
        None,
        "Hello!\n\n\
This is a demo mailbox on a POP3 server that Pipit started on your own machine, over TLS, with a certificate it made for the occasion.\n\n\
Things to try:\n\
- Click a column title to sort (a list too narrow for columns has Sort by instead). Type in Search (Ctrl+F) to find mail as you type.\n\
- Open \"On server\": everything on the server, with what Pipit holds of it and what the account does to it there. Large messages wait there with only their headers (Headers only): select one to preview its first lines (fetched with TOP), then Download it or Delete it on the server. Check server... examines the server.\n\
- Press Delete to move a message to Trash, and restore it from there (R).\n\
- F5 gets new mail. F1 lists every shortcut.\n\
- The gear beside the account opens its settings.\n\n\
Happy reading,\nthe Pipit team\n",
    ));
    out.push(html(
        "The Birdwatcher's Weekly <news@birdwatch.example>",
        "This week: pipits, wagtails and the spring migration",
        &next_date(),
    ));
    out.push(with_attachments(
        "Ana Lima <ana.lima@example.org>",
        "Minutes of Tuesday's meeting",
        &next_date(),
        "Hi all,\n\nattached are the minutes and the logo we talked about.\n\nAna\n",
        &[
            ("minutes.pdf", "application/pdf", TINY_PDF.to_vec()),
            (
                "logo.png",
                "image/png",
                include_bytes!("../../assets/icons/pipit-64.png").to_vec(),
            ),
        ],
    ));
    out.push(plain(
        "Jürgen Müller <juergen@example.de>",
        "Grüße aus Köln",
        &next_date(),
        "<koeln@example.de>",
        None,
        "Hallo!\n\nDas Wetter in Köln ist herrlich, der Dom steht noch.\nBis bald,\nJürgen\n",
    ));
    out.push(plain(
        "Ελένη Παπαδοπούλου <eleni@example.gr>",
        "Καλημέρα από την Αθήνα",
        &next_date(),
        "<athina@example.gr>",
        None,
        "Καλημέρα!\n\nΟ καιρός είναι υπέροχος. Τα λέμε σύντομα.\n",
    ));
    out.push(plain(
        "Дмитрий Иванов <dmitry@example.ru>",
        "Привет из Москвы",
        &next_date(),
        "<moskva@example.ru>",
        None,
        "Привет!\n\nПишу из Москвы. Всё хорошо.\n",
    ));
    out.push(plain(
        "山田 花子 <hanako@example.jp>",
        "東京からこんにちは",
        &next_date(),
        "<tokyo@example.jp>",
        None,
        "こんにちは!\n\n東京は晴れです。\n",
    ));

    // A long thread.
    let people = [
        "Sam Okafor <sam@example.org>",
        "Mia Chen <mia@example.org>",
        "Leo Rossi <leo@example.org>",
        "Ana Lima <ana.lima@example.org>",
    ];
    let mut references = String::new();
    // Dated in the hours before the mail above, oldest first: a reply never
    // comes before what it answers.
    let mut thread_dates: Vec<String> = (0..9).map(|_| next_date()).collect();
    thread_dates.reverse();
    for i in 0..9 {
        let id = format!("<hike-{i}@example.org>");
        let subject = if i == 0 {
            "Weekend hike to the lake".to_string()
        } else {
            "Re: Weekend hike to the lake".to_string()
        };
        let body = match i {
            0 => "Who is in for Saturday? Meet at the station at 8.\n".to_string(),
            8 => "Great day, thanks all! Photos are on the server (large).\n".to_string(),
            n => format!(
                "Count me in. I can bring {}.\n\n> earlier message {n}\n",
                [
                    "sandwiches",
                    "a map",
                    "tea",
                    "the binoculars",
                    "rain jackets",
                    "snacks",
                    "a camera"
                ][(n - 1) % 7]
            ),
        };
        let reply_to =
            (i > 0).then(|| (format!("<hike-{}@example.org>", i - 1), references.clone()));
        out.push(plain(
            people[i % people.len()],
            &subject,
            &thread_dates[i],
            &id,
            reply_to.as_ref().map(|(a, b)| (a.as_str(), b.as_str())),
            &body,
        ));
        references = format!("{references} {id}").trim().to_string();
    }

    // Large messages: over the demo account's size limit, so they stay on the server.
    for (i, (subject, name, size)) in [
        ("Holiday photos (large)", "lake-photos.zip", 2_400_000usize),
        ("Scanned contract", "contract-scan.pdf", 1_600_000),
        ("Band rehearsal recording", "rehearsal.ogg", 3_100_000),
    ]
    .into_iter()
    .enumerate()
    {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64 ^ i as u64;
        let blob: Vec<u8> = (0..size)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                state as u8
            })
            .collect();
        out.push(with_attachments(
            people[i % people.len()],
            subject,
            &next_date(),
            "Here it is — a big one. Preview it first if you like.\n",
            &[(name, "application/octet-stream", blob)],
        ));
    }
    out
}

fn header(from: &str, subject: &str, date: &str, id: &str) -> String {
    format!(
        "From: {}\r\nTo: You <you@example.net>\r\nSubject: {}\r\nDate: {date}\r\nMessage-ID: {id}\r\nMIME-Version: 1.0\r\n",
        encode_address(from),
        encode_word(subject)
    )
}

fn plain(
    from: &str,
    subject: &str,
    date: &str,
    id: &str,
    reply: Option<(&str, &str)>,
    body: &str,
) -> Vec<u8> {
    let mut m = header(from, subject, date, id);
    if let Some((parent, references)) = reply {
        m.push_str(&format!(
            "In-Reply-To: {parent}\r\nReferences: {references}\r\n"
        ));
    }
    m.push_str(
        "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n",
    );
    m.push_str(&body.replace('\n', "\r\n"));
    m.into_bytes()
}

fn html(from: &str, subject: &str, date: &str) -> Vec<u8> {
    let mut m = header(from, subject, date, "<weekly-42@birdwatch.example>");
    m.push_str("Content-Type: text/html; charset=utf-8\r\n\r\n");
    m.push_str(
        "<html><body><h1>The Birdwatcher's Weekly</h1>\r\n\
<p>Spring is here, and with it the <b>pipits</b>: small, streaky, and easy to miss.</p>\r\n\
<ul><li>Meadow pipit: the commonest, in open country.</li>\r\n\
<li>Tree pipit: sings in flight from a treetop.</li>\r\n\
<li>Water pipit: by mountain streams.</li></ul>\r\n\
<blockquote><p>\u{201c}A pipit is a lark that took up walking.\u{201d}</p></blockquote>\r\n\
<p>This message has no plain-text part: Pipit shows its headings, lists, quotes and \
<a href=\"https://birdwatch.example/pipits\">links</a> (a link shows where it leads before your browser opens it), \
and never loads anything from the web.</p></body></html>\r\n",
    );
    m.into_bytes()
}

fn with_attachments(
    from: &str,
    subject: &str,
    date: &str,
    text: &str,
    files: &[(&str, &str, Vec<u8>)],
) -> Vec<u8> {
    let boundary = "=_pipit_demo_boundary";
    let mut m = header(
        from,
        subject,
        date,
        &format!("<{}@example.org>", subject.len() * 31 + files.len()),
    );
    m.push_str(&format!(
        "Content-Type: multipart/mixed; boundary=\"{boundary}\"\r\n\r\n"
    ));
    m.push_str(&format!(
        "--{boundary}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{}\r\n",
        text.replace('\n', "\r\n")
    ));
    for (name, kind, bytes) in files {
        m.push_str(&format!(
            "--{boundary}\r\nContent-Type: {kind}; name=\"{name}\"\r\nContent-Transfer-Encoding: base64\r\n\
Content-Disposition: attachment; filename=\"{name}\"\r\n\r\n"
        ));
        for line in B64.encode(bytes).as_bytes().chunks(76) {
            m.push_str(std::str::from_utf8(line).expect("base64 is ASCII"));
            m.push_str("\r\n");
        }
    }
    m.push_str(&format!("--{boundary}--\r\n"));
    m.into_bytes()
}

/// RFC 2047: non-ASCII header text as a base64 encoded word.
fn encode_word(text: &str) -> String {
    if text.is_ascii() {
        text.to_string()
    } else {
        format!("=?UTF-8?B?{}?=", B64.encode(text))
    }
}

fn encode_address(address: &str) -> String {
    match address.split_once(" <") {
        Some((name, rest)) => format!("{} <{rest}", encode_word(name)),
        None => address.to_string(),
    }
}

/// A one-page PDF that says "Minutes", small enough to inline.
const TINY_PDF: &[u8] = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n\
2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n\
3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 300 144]/Contents 4 0 R/Resources<</Font<</F1 5 0 R>>>>>>endobj\n\
4 0 obj<</Length 44>>stream\nBT /F1 24 Tf 40 70 Td (Minutes) Tj ET\nendstream endobj\n\
5 0 obj<</Type/Font/Subtype/Type1/BaseFont/Helvetica>>endobj\n\
trailer<</Root 1 0 R>>\n%%EOF\n";

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 13, item 17: the long thread's replies were dated before its
    /// first message.
    #[test]
    fn every_reply_in_the_thread_is_dated_after_what_it_answers() {
        let all = messages(1_793_613_600);
        let parsed: Vec<_> = all.iter().map(|m| crate::mime::parse(m)).collect();
        let date_of = |id: &str| {
            parsed
                .iter()
                .find(|p| p.message_id == id)
                .and_then(|p| p.date)
                .unwrap()
        };
        for i in 1..9 {
            let (reply, parent) = (
                format!("hike-{i}@example.org"),
                format!("hike-{}@example.org", i - 1),
            );
            assert!(
                date_of(&reply) > date_of(&parent),
                "{reply} is dated before {parent}"
            );
        }
    }

    #[test]
    fn the_demo_mailbox_parses_and_shows_what_pipit_does() {
        let all = messages(1_793_613_600);
        assert_eq!(all.len(), 7 + 9 + 3);
        let parsed: Vec<_> = all.iter().map(|m| crate::mime::parse(m)).collect();
        assert!(parsed.iter().any(|p| p.subject == "東京からこんにちは"));
        assert!(parsed.iter().any(|p| p.from.starts_with("Ελένη")));
        assert!(
            parsed
                .iter()
                .any(|p| p.attachments == ["minutes.pdf", "logo.png"])
        );
        assert_eq!(
            parsed
                .iter()
                .filter(|p| p.subject.contains("Weekend hike"))
                .count(),
            9
        );
        let html = parsed
            .iter()
            .find(|p| p.subject.starts_with("This week"))
            .unwrap();
        assert!(html.text.contains("pipits") && !html.text.contains("<b>"));
        assert_eq!(
            all.iter()
                .filter(|m| m.len() as u64 > DEMO_SIZE_LIMIT)
                .count(),
            3
        );
    }
}
