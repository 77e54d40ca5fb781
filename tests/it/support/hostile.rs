//! Messages made to hurt a mail reader, generated here rather than kept as
//! megabytes of fixtures: MIME nested 10,000 deep, 100,000 parts, a 50 MB
//! header, a decompression bomb, broken encoded-words and charsets, control
//! characters, spoofing characters, and attachment names that climb out of
//! a folder. Each is deterministic, so a failure can be reproduced.

use base64::Engine as _;

/// One message of the corpus.
pub struct Hostile {
    /// What it is, for assertion messages.
    pub name: &'static str,
    pub raw: Vec<u8>,
    /// A word its subject shows, to find it in the list.
    pub subject: &'static str,
}

/// Every message of the corpus that a POP3 fetch can carry. The 50 MB header
/// is apart ([`huge_header`]): a header block that size is over the fetch's
/// header-block bound.
pub fn fetchable() -> Vec<Hostile> {
    vec![
        Hostile {
            name: "MIME nested 10,000 deep",
            raw: deep_nesting(10_000),
            subject: "Deep",
        },
        Hostile {
            name: "100,000 parts",
            raw: many_parts(100_000),
            subject: "Parts",
        },
        Hostile {
            name: "a decompression bomb",
            raw: bomb(),
            subject: "Bomb",
        },
        Hostile {
            name: "malformed encoded-words and charsets",
            raw: encoded_words(),
            subject: "Encoded",
        },
        Hostile {
            name: "NUL and control characters in headers",
            raw: controls(),
            subject: "Controls",
        },
        Hostile {
            name: "right-to-left overrides and look-alikes",
            raw: spoofing(),
            subject: "Spoof",
        },
        Hostile {
            name: "attachment names that climb out of a folder",
            raw: climbing_names(),
            subject: "Names",
        },
    ]
}

/// The attachment names of [`climbing_names`], as their senders wrote them.
pub fn climbing_attachment_names() -> Vec<String> {
    vec![
        "../../../../../../tmp/pipit-climbed".into(),
        "/etc/passwd".into(),
        "..\\..\\..\\Windows\\System32\\evil.dll".into(),
        "C:\\Users\\Public\\evil.txt".into(),
        "~/.ssh/authorized_keys".into(),
        "..".into(),
        ".".into(),
        "CON".into(),
        "nul.txt".into(),
        "COM1.pdf".into(),
        "LPT9".into(),
        "/dev/sda".into(),
        "trailing dot.".into(),
        "a€.txt".into(),
        format!("{}.pdf", "a".repeat(9_996)),
        format!("{}.txt", "é".repeat(5_000)),
    ]
}

const FROM: &str = "From: Mallory <mallory@example.org>\r\nTo: alice@example.net\r\n\
Date: Tue, 3 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n";

/// `depth` multiparts, each the only part of the one around it, and text at
/// the bottom.
pub fn deep_nesting(depth: usize) -> Vec<u8> {
    let mut m = format!(
        "{FROM}Subject: Deep {depth}\r\nMessage-ID: <deep@example.org>\r\n\
Content-Type: multipart/mixed; boundary=\"d0\"\r\n\r\n"
    );
    for level in 1..depth {
        m.push_str(&format!(
            "--d{}\r\nContent-Type: multipart/mixed; boundary=\"d{level}\"\r\n\r\n",
            level - 1
        ));
    }
    m.push_str(&format!(
        "--d{}\r\nContent-Type: text/plain\r\n\r\nThe bottom of the well.\r\n",
        depth - 1
    ));
    for level in (0..depth).rev() {
        m.push_str(&format!("--d{level}--\r\n"));
    }
    m.into_bytes()
}

/// One multipart with `count` parts: text, and attachments with names.
pub fn many_parts(count: usize) -> Vec<u8> {
    let mut m = format!(
        "{FROM}Subject: Parts {count}\r\nMessage-ID: <parts@example.org>\r\n\
Content-Type: multipart/mixed; boundary=\"p\"\r\n\r\n"
    );
    for i in 0..count {
        if i % 2 == 0 {
            m.push_str(&format!(
                "--p\r\nContent-Type: text/plain\r\n\r\nPart {i}.\r\n"
            ));
        } else {
            m.push_str(&format!(
                "--p\r\nContent-Type: application/octet-stream\r\n\
Content-Disposition: attachment; filename=\"part-{i}.bin\"\r\n\r\nx\r\n"
            ));
        }
    }
    m.push_str("--p--\r\n");
    m.into_bytes()
}

/// A header block of about `size` bytes: a subject folded over half of it,
/// and tens of thousands of `Received:` lines for the rest.
pub fn huge_header(size: usize) -> Vec<u8> {
    let mut m =
        format!("{FROM}Message-ID: <huge@example.org>\r\nSubject: Huge header").into_bytes();
    let line = b"\r\n x-x-x-x-x-x-x-x-x-x-x-x-x-x-x-x-x-x-x-x-x-x-x-x-x-x-x-x-x-x-x-x-x-x-x-x-x";
    while m.len() < size / 2 {
        m.extend_from_slice(line);
    }
    m.extend_from_slice(b"\r\n");
    let received = b"Received: from relay.example.org by mx.example.net with ESMTP; Tue, 3 Nov 2026 10:00:00 +0000\r\n";
    while m.len() < size {
        m.extend_from_slice(received);
    }
    m.extend_from_slice(b"\r\nBelow a header block of fifty megabytes.\r\n");
    m
}

/// A gzip file that inflates to a gibibyte of zeros (about 6.5 MB), as a
/// base64 attachment, beside a plain base64 part that decodes to 6 MB of
/// zeros. Pipit never inflates an attachment: it keeps and saves the bytes.
pub fn bomb() -> Vec<u8> {
    let gz = gzip_of_zeros(1 << 30);
    let mut m = format!(
        "{FROM}Subject: Bomb\r\nMessage-ID: <bomb@example.org>\r\n\
Content-Type: multipart/mixed; boundary=\"z\"\r\n\r\n\
--z\r\nContent-Type: text/plain\r\n\r\nOpen the attachment.\r\n\
--z\r\nContent-Type: application/gzip\r\nContent-Encoding: gzip\r\n\
Content-Disposition: attachment; filename=\"zeros.gz\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
    )
    .into_bytes();
    push_base64_lines(&mut m, &gz);
    m.extend_from_slice(
        b"--z\r\nContent-Type: application/octet-stream\r\n\
Content-Disposition: attachment; filename=\"zeros.bin\"\r\nContent-Transfer-Encoding: base64\r\n\r\n",
    );
    push_base64_lines(&mut m, &vec![0u8; 6 << 20]);
    m.extend_from_slice(b"--z--\r\n");
    m
}

/// Encoded-words that lie, break off, nest, or name charsets nobody has.
pub fn encoded_words() -> Vec<u8> {
    let mut m = FROM.replace(
        "From: Mallory <mallory@example.org>",
        "From: =?UTF-8?B?!!!notbase64!!!?= =?X-UNKNOWN-9?Q?M=E4llory?= <mallory@example.org>",
    );
    m.push_str("Subject: Encoded =?UTF-8?Q?=FF=FE=C3?= =?UTF-8?B?");
    m.push_str(&"QUFB".repeat(2_000));
    m.push_str(" =?ISO-2022-JP?B?GyRCJCIbKEI?= =?utf-7?Q?+AGEAYgBj-?= =?UTF-8?Q?unterminated\r\n");
    m.push_str("Message-ID: <encoded@example.org>\r\nContent-Type: multipart/mixed; boundary=\"e\"\r\n\r\n");
    m.push_str(
        "--e\r\nContent-Type: text/plain; charset=\"=?UTF-8?Q?x?=\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n\
Broken =ZZ escapes =\r\nand =C3=28 bad UTF-8 =E2=82\r\n",
    );
    m.push_str(
        "--e\r\nContent-Type: text/plain; charset=x-no-such-charset\r\n\r\nText in \u{1} a charset nobody has.\r\n",
    );
    m.push_str(
        "--e\r\nContent-Type: application/octet-stream; name*0*=UTF-8''%FF%FE; name*1*=%E2%80%AEfdp.exe\r\n\
Content-Disposition: attachment; filename*=bogus-charset'xx'%E9t%E9.txt\r\nContent-Transfer-Encoding: base64\r\n\r\n\
not base64 at all ***\r\n",
    );
    m.push_str("--e--\r\n");
    // Bytes that are UTF-8 in no charset, where the text of that part is.
    let mut bytes = m.into_bytes();
    let at = bytes.iter().position(|&b| b == 1).expect("the marker");
    bytes.splice(at..=at, [0xff, 0xfe]);
    bytes
}

/// NUL, escape sequences, a bell, a lone CR, DEL and C1 controls in headers
/// and an attachment name: a terminal that prints them raw can be repainted.
pub fn controls() -> Vec<u8> {
    b"From: Ev\x00il \x1b[2J\x1b[1;1H<evil@example.org>\r\nTo: alice@example.net\r\n\
Date: Tue, 3 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n\
Subject: Controls \x1b]0;pwned\x07 \x1b[31mred\x1b[0m nul\x00here \rback del\x7f \xc2\x9b31m c1\r\n\
Message-ID: <controls@example.org>\r\nContent-Type: multipart/mixed; boundary=\"c\"\r\n\r\n\
--c\r\nContent-Type: text/plain\r\n\r\nBody with \x1b[5mblink\x1b[0m and \x00 NUL.\r\n\
--c\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename=\"a\x1b[8mb\x07.txt\"\r\n\r\nx\r\n\
--c\r\nContent-Type: text/plain\r\nContent-Disposition: attachment; filename*=UTF-8''report.pdf%0Asecond.exe\r\n\r\nx\r\n\
--c--\r\n"
        .to_vec()
}

/// A subject, a sender and attachment names that pretend to be something
/// else: a right-to-left override, look-alike letters, invisible characters,
/// and files a desktop would run rather than open.
pub fn spoofing() -> Vec<u8> {
    // A Cyrillic "Р" (U+0420) in the name, a Cyrillic "а" (U+0430) in the address.
    let mut m = format!(
        "From: =?UTF-8?B?{}?= <service@p\u{0430}ypal.com>\r\n",
        b64("\u{0420}ayPal Security".as_bytes())
    );
    m.push_str(
        "To: alice@example.net\r\nDate: Tue, 3 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n",
    );
    m.push_str(&format!(
        "Subject: =?UTF-8?B?{}?=\r\n",
        b64(
            "Spoof: your invoice\u{202E}fdp.exe is re\u{200B}ady \u{2066}isolated\u{2069}"
                .as_bytes()
        )
    ));
    m.push_str(
        "Message-ID: <spoof@example.org>\r\nContent-Type: multipart/mixed; boundary=\"s\"\r\n\r\n",
    );
    m.push_str(
        "--s\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPlease open the invoice.\r\n",
    );
    let script: &[u8] = b"#!/bin/sh\necho pwned > /tmp/pipit-pwned\n";
    for (name, content) in [
        ("invoice\u{202E}fdp.exe", script),
        ("photo\u{202E}gpj.scr", script),
        ("\u{202B}readme.txt", script),
        (
            "report.pdf\u{200B}.desktop",
            b"[Desktop Entry]\nExec=sh -c 'echo pwned'\n",
        ),
        ("run.sh", script),
        ("setup.EXE", b"MZ\x90\x00"),
        ("statement.pdf .exe", b"MZ\x90\x00"),
        ("notes.txt", b"Just notes.\n"),
        // A Cyrillic "і" (U+0456) for the Latin "i".
        ("\u{0456}nvoice.pdf", b"%PDF-1.4\n"),
    ] {
        m.push_str(&format!(
            "--s\r\nContent-Type: application/octet-stream\r\n\
Content-Disposition: attachment; filename*=UTF-8''{}\r\nContent-Transfer-Encoding: base64\r\n\r\n{}\r\n",
            percent(name),
            b64(content)
        ));
    }
    m.push_str("--s--\r\n");
    m.into_bytes()
}

/// Attachments named to climb out of the folder they are saved to.
pub fn climbing_names() -> Vec<u8> {
    let mut m = format!(
        "{FROM}Subject: Names\r\nMessage-ID: <names@example.org>\r\n\
Content-Type: multipart/mixed; boundary=\"n\"\r\n\r\n\
--n\r\nContent-Type: text/plain\r\n\r\nSave these.\r\n"
    );
    for name in climbing_attachment_names() {
        m.push_str(&format!(
            "--n\r\nContent-Type: text/plain\r\n\
Content-Disposition: attachment; filename*=UTF-8''{}\r\n\r\ncontent of an attachment\r\n",
            percent(&name)
        ));
    }
    m.push_str("--n--\r\n");
    m.into_bytes()
}

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn push_base64_lines(m: &mut Vec<u8>, bytes: &[u8]) {
    for chunk in b64(bytes).as_bytes().chunks(76) {
        m.extend_from_slice(chunk);
        m.extend_from_slice(b"\r\n");
    }
}

/// RFC 2231 percent-encoding of every byte that is not plainly safe.
fn percent(name: &str) -> String {
    name.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A gzip member that inflates to `len` zero bytes: one literal zero, then
/// back-references of 258 bytes at distance 1, in deflate's fixed Huffman
/// code (13 bits each). The CRC is made up: a bomb need not be honest, and
/// Pipit never inflates it anyway.
fn gzip_of_zeros(len: u64) -> Vec<u8> {
    // Fixed Huffman codes, bit-reversed: deflate packs them most significant bit first.
    const LITERAL_ZERO: (u64, u32) = (0b0000_1100, 8); // code 0b0011_0000
    const LENGTH_258: (u64, u32) = (0b1010_0011, 8); // code 285, 0b1100_0101
    const DISTANCE_1: (u64, u32) = (0, 5);
    const END_OF_BLOCK: (u64, u32) = (0, 7);
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3];
    let mut bits = BitWriter::default();
    bits.push((0b011, 3)); // the final block, fixed Huffman codes
    bits.push(LITERAL_ZERO);
    let mut left = len - 1;
    while left >= 258 {
        bits.push(LENGTH_258);
        bits.push(DISTANCE_1);
        left -= 258;
    }
    for _ in 0..left {
        bits.push(LITERAL_ZERO);
    }
    bits.push(END_OF_BLOCK);
    out.extend_from_slice(&bits.finish());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&(len as u32).to_le_bytes());
    out
}

/// Bits packed least significant first, as deflate wants them.
#[derive(Default)]
struct BitWriter {
    bytes: Vec<u8>,
    pending: u64,
    used: u32,
}

impl BitWriter {
    fn push(&mut self, (value, count): (u64, u32)) {
        self.pending |= value << self.used;
        self.used += count;
        while self.used >= 8 {
            self.bytes.push(self.pending as u8);
            self.pending >>= 8;
            self.used -= 8;
        }
    }

    fn finish(mut self) -> Vec<u8> {
        if self.used > 0 {
            self.bytes.push(self.pending as u8);
        }
        self.bytes
    }
}
