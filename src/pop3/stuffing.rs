//! The server side of a multi-line reply (RFC 1939 §3): each line that
//! starts with '.' gets one more, and a line of "." ends the reply. Pipit's
//! own demo server writes replies with it; the tests' servers do too.

/// `message` (or its header block and first `body_lines` lines, as TOP
/// asks) dot-stuffed and terminated, ready to follow a "+OK" line.
pub fn dot_stuff(message: &[u8], body_lines: Option<usize>) -> Vec<u8> {
    let mut out = Vec::with_capacity(message.len() + message.len() / 64 + 8);
    let mut in_body = false;
    let mut body_seen = 0;
    for line in message.split_inclusive(|&b| b == b'\n') {
        if in_body && body_lines.is_some_and(|max| body_seen >= max) {
            break;
        }
        if line.starts_with(b".") {
            out.push(b'.');
        }
        out.extend_from_slice(line);
        if in_body {
            body_seen += 1;
        } else if line == b"\r\n" || line == b"\n" {
            in_body = true;
        }
    }
    if !out.is_empty() && !out.ends_with(b"\n") {
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b".\r\n");
    out
}

#[cfg(test)]
mod tests {
    use super::dot_stuff;

    #[test]
    fn top_stops_after_the_asked_lines_and_dots_are_stuffed() {
        let m = b"Subject: x\r\n\r\n.one\r\ntwo\r\nthree\r\n";
        assert_eq!(dot_stuff(m, Some(0)), b"Subject: x\r\n\r\n.\r\n");
        assert_eq!(
            dot_stuff(m, Some(2)),
            b"Subject: x\r\n\r\n..one\r\ntwo\r\n.\r\n"
        );
        assert_eq!(
            dot_stuff(m, None),
            b"Subject: x\r\n\r\n..one\r\ntwo\r\nthree\r\n.\r\n"
        );
        assert_eq!(dot_stuff(b"no newline", None), b"no newline\r\n.\r\n");
        assert_eq!(dot_stuff(b"", None), b".\r\n");
    }
}
