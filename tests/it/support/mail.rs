//! Sample mail: varied enough to exercise parsing, dot-stuffing and sizes.

/// `n` deterministic messages, CRLF line endings, each different: plain,
/// HTML-only, with attachments, non-Latin headers, leading dots, long lines.
pub fn varied(n: usize) -> Vec<Vec<u8>> {
    let mut rng = 0x2545_f491_u64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    (0..n)
        .map(|i| {
            let kind = i % 6;
            let mut m = format!(
                "From: Sender {s} <sender{s}@example.org>\r\nTo: alice@example.net\r\n\
Date: Mon, 2 Nov 2026 {h:02}:{mi:02}:00 +0000\r\nMessage-ID: <test{i}@example.org>\r\nMIME-Version: 1.0\r\n",
                s = i % 17,
                h = i / 60 % 24,
                mi = i % 60
            );
            match kind {
                0 => {
                    m.push_str(&format!("Subject: Plain message {i}\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"));
                    for l in 0..(next() % 40 + 3) {
                        m.push_str(&format!("Line {l} of message {i}, about the post office.\r\n"));
                    }
                }
                1 => {
                    m.push_str(&format!(
                        "Subject: =?UTF-8?B?{}?=\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n",
                        b64(format!("Grüße aus Köln {i} — 東京").as_bytes())
                    ));
                    m.push_str(".A line that starts with a dot\r\n..and two\r\n.\r\nThe line above is a lone dot.\r\n");
                }
                2 => {
                    m.push_str(&format!("Subject: HTML only {i}\r\nContent-Type: text/html; charset=utf-8\r\n\r\n"));
                    m.push_str("<html><body><h1>Newsletter</h1><p>Read <b>this</b> offline.</p></body></html>\r\n");
                }
                3 => {
                    let size = (next() % 60_000 + 1_000) as usize;
                    let blob: Vec<u8> = (0..size).map(|_| next() as u8).collect();
                    m.push_str(&format!(
                        "Subject: With attachment {i}\r\nContent-Type: multipart/mixed; boundary=\"b{i}\"\r\n\r\n\
--b{i}\r\nContent-Type: text/plain\r\n\r\nSee the attached file.\r\n--b{i}\r\n\
Content-Type: application/octet-stream; name=\"data{i}.bin\"\r\nContent-Transfer-Encoding: base64\r\n\
Content-Disposition: attachment; filename=\"data{i}.bin\"\r\n\r\n"
                    ));
                    for chunk in b64(&blob).as_bytes().chunks(76) {
                        m.push_str(std::str::from_utf8(chunk).unwrap());
                        m.push_str("\r\n");
                    }
                    m.push_str(&format!("--b{i}--\r\n"));
                }
                4 => {
                    m.push_str(&format!("Subject: Long line {i}\r\n\r\n"));
                    m.push_str(&"x".repeat(5000));
                    m.push_str("\r\n");
                }
                _ => {
                    m.push_str(&format!("Subject: =?ISO-8859-1?Q?Caf=E9_{i}?=\r\nContent-Type: text/plain; charset=iso-8859-1\r\n\r\n"));
                    let mut bytes = m.into_bytes();
                    bytes.extend_from_slice(b"Caf\xe9 cr\xe8me, 8-bit text.\r\n");
                    return bytes;
                }
            }
            m.into_bytes()
        })
        .collect()
}

/// A message of about `size` bytes.
pub fn sized(i: usize, size: usize) -> Vec<u8> {
    let mut m = format!(
        "From: big@example.org\r\nSubject: Big {i}\r\nMessage-ID: <big{i}@example.org>\r\n\r\n"
    )
    .into_bytes();
    while m.len() < size {
        m.extend_from_slice(
            b"0123456789 abcdefghijklmnopqrstuvwxyz 0123456789 abcdefghijklmnop\r\n",
        );
    }
    m
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
