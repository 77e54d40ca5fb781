//! One small message read with RETR and with TOP: do they agree, and how
//! does the server end its lines.

use super::{Check, lines_of};
use crate::pop3::Reply;

/// How many lines of `message` its header block takes (the blank line
/// included, if there is one).
fn header_lines(message: &[u8]) -> usize {
    let block = crate::mime::header_block(message);
    lines_of(block).len()
}

/// The lines after the header block.
fn body_lines(message: &[u8]) -> Vec<&[u8]> {
    lines_of(message).split_off(header_lines(message))
}

/// `top`: `TOP n 0` gives the header block and nothing else; `TOP n k`
/// gives it and `k` lines of the body. `retr` is the same message whole.
pub fn top(number: u32, top0: &Reply, topk: Option<(u32, &Reply)>, retr: Option<&[u8]>) -> Check {
    if !top0.is_ok() {
        return Check::warn(
            "top",
            format!("TOP is not supported (the server said: {})", top0.text),
            "no previews of mail on the server; Pipit reads headers with RETR instead",
        )
        .with("supported", false);
    }
    let got = top0.body.as_deref().unwrap_or_default();
    let Some(retr) = retr else {
        return Check::ok(
            "top",
            format!("TOP {number} 0 answers ({} bytes); not compared with RETR (no message was read with RETR)", got.len()),
            "nothing to do",
        )
        .with("supported", true);
    };
    let header: Vec<&[u8]> = lines_of(crate::mime::header_block(retr));
    let lines = lines_of(got);
    let header_without_blank = header.strip_suffix(&[&b""[..]]).unwrap_or(&header);
    let mut problems = Vec::new();
    let mut status = super::Status::Ok;
    if lines == header || lines == header_without_blank {
        // As it should be.
    } else if lines.starts_with(&header) && header.last() == Some(&&b""[..]) {
        status = super::Status::Fail;
        problems.push(format!(
            "TOP {number} 0 sent {} lines of the body too: previews and header-only copies hold part of the body",
            lines.len() - header.len()
        ));
    } else {
        let only_top = lines.iter().filter(|l| !header.contains(l)).count();
        let only_retr = header.iter().filter(|l| !lines.contains(l)).count();
        status = super::Status::Warn;
        problems.push(format!(
            "TOP {number} 0's header block is not RETR's ({only_top} lines only in TOP, {only_retr} only in RETR)"
        ));
    }
    if let Some((k, reply)) = topk
        && reply.is_ok()
    {
        let want = body_lines(retr).len().min(k as usize);
        let got = body_lines(reply.body.as_deref().unwrap_or_default()).len();
        if got != want {
            if status == super::Status::Ok {
                status = super::Status::Warn;
            }
            problems.push(format!(
                "TOP {number} {k} sent {got} lines of the body, not {want}"
            ));
        }
    }
    let check = match status {
        super::Status::Ok => Check::ok(
            "top",
            format!(
                "TOP {number} 0 gives the header block and nothing else; TOP {number} k gives k lines"
            ),
            "nothing to do",
        ),
        s => Check::new(
            "top",
            s,
            problems.join("; "),
            "Pipit takes a header block as the same message's when its lines are all among the other's, and shows previews as the server sends them",
        ),
    };
    check.with("supported", true)
}

/// `dot-stuffing`: TOP and RETR agree on a message with lines that start
/// with a dot. `top_whole` is `TOP n` for at least every line of it.
pub fn dot_stuffing(number: u32, retr: &[u8], top_whole: Option<&Reply>) -> Check {
    let dotted = lines_of(retr)
        .iter()
        .filter(|l| l.starts_with(b"."))
        .count();
    if dotted == 0 {
        return Check::skip(
            "dot-stuffing",
            format!("message {number}, the one read, has no line that starts with a dot"),
        );
    }
    let Some(top) = top_whole.filter(|r| r.is_ok()) else {
        return Check::skip(
            "dot-stuffing",
            "TOP does not work: nothing to compare RETR with",
        );
    };
    let from_top = body_lines(top.body.as_deref().unwrap_or_default());
    if from_top == body_lines(retr) {
        Check::ok(
            "dot-stuffing",
            format!("TOP and RETR agree on message {number}, which has {dotted} lines that start with a dot"),
            "nothing to do",
        )
    } else {
        Check::fail(
            "dot-stuffing",
            format!("TOP and RETR disagree on message {number}, which has {dotted} lines that start with a dot: one of them is not dot-stuffed, so dots vanish or a lone \".\" ends the message early"),
            "Pipit stores what RETR gives; a reply cut short by a lone dot breaks the session and the fetch says so",
        )
    }
    .with("dotted_lines", dotted)
}

/// Line ends that are a bare LF, with no CR before.
pub fn bare_lf(bytes: &[u8]) -> usize {
    bytes
        .iter()
        .enumerate()
        .filter(|&(i, &b)| b == b'\n' && (i == 0 || bytes[i - 1] != b'\r'))
        .count()
}

/// `line-endings`: every line of every multi-line reply ends in CRLF.
pub fn line_endings(bodies: &[(&str, &[u8])]) -> Check {
    let bare: Vec<(&str, usize)> = bodies
        .iter()
        .map(|(what, b)| (*what, bare_lf(b)))
        .filter(|(_, n)| *n > 0)
        .collect();
    if bare.is_empty() {
        // Only replies with lines in them say how the server ends lines.
        let what: Vec<&str> = bodies
            .iter()
            .filter(|(_, b)| !b.is_empty())
            .map(|(w, _)| *w)
            .collect();
        if what.is_empty() {
            return Check::skip(
                "line-endings",
                "no reply had lines to look at (the mailbox is empty)",
            );
        }
        return Check::ok(
            "line-endings",
            format!("every line ends in CRLF ({})", what.join(", ")),
            "nothing to do",
        )
        .with("bare_lf", 0);
    }
    let total: usize = bare.iter().map(|(_, n)| n).sum();
    let where_ = bare
        .iter()
        .map(|(w, n)| format!("{w} {n}"))
        .collect::<Vec<_>>()
        .join(", ");
    Check::warn(
        "line-endings",
        format!("bare LF line endings ({where_}): RFC 1939 wants CRLF, and some clients join lines or miss the end of a reply"),
        "Pipit reads a bare LF as a line end, and stores each message as the server sent it",
    )
    .with("bare_lf", total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::Status;
    use crate::pop3::Indicator;

    const RETR: &[u8] = b"From: a@b\r\nSubject: hi\r\n\r\n.dot line\r\nsecond\r\nthird\r\n";

    fn ok(body: &[u8]) -> Reply {
        Reply {
            indicator: Indicator::Ok,
            code: None,
            text: String::new(),
            body: Some(body.to_vec()),
            oversized: None,
        }
    }

    #[test]
    fn top_gives_the_header_block_and_the_lines_asked_for() {
        let top0 = ok(b"From: a@b\r\nSubject: hi\r\n\r\n");
        let top2 = ok(b"From: a@b\r\nSubject: hi\r\n\r\n.dot line\r\nsecond\r\n");
        let good = top(1, &top0, Some((2, &top2)), Some(RETR));
        assert_eq!(good.status, Status::Ok, "{good:?}");
        let no_blank = ok(b"From: a@b\r\nSubject: hi\r\n");
        assert_eq!(top(1, &no_blank, None, Some(RETR)).status, Status::Ok);
        let too_much = top(1, &top2, None, Some(RETR));
        assert_eq!(too_much.status, Status::Fail);
        assert!(
            too_much.detail.contains("sent 2 lines of the body too"),
            "{too_much:?}"
        );
        let extra = ok(b"X-UIDL: 1\r\nFrom: a@b\r\nSubject: hi\r\n\r\n");
        let differs = top(1, &extra, None, Some(RETR));
        assert_eq!(differs.status, Status::Warn);
        assert!(
            differs.detail.contains("1 lines only in TOP"),
            "{differs:?}"
        );
        let wrong_k = top(1, &top0, Some((1, &top2)), Some(RETR));
        assert_eq!(wrong_k.status, Status::Warn);
        assert!(
            wrong_k
                .detail
                .contains("TOP 1 1 sent 2 lines of the body, not 1")
        );
        let mut refused = ok(b"");
        refused.indicator = Indicator::Err;
        assert_eq!(top(1, &refused, None, Some(RETR)).status, Status::Warn);
    }

    #[test]
    fn top_and_retr_must_agree_on_leading_dots() {
        let whole = ok(RETR);
        assert_eq!(dot_stuffing(1, RETR, Some(&whole)).status, Status::Ok);
        let unstuffed = ok(b"From: a@b\r\nSubject: hi\r\n\r\ndot line\r\nsecond\r\nthird\r\n");
        let bad = dot_stuffing(1, RETR, Some(&unstuffed));
        assert_eq!(bad.status, Status::Fail);
        assert!(bad.detail.contains("1 lines that start with a dot"));
        assert_eq!(
            dot_stuffing(1, b"From: a\r\n\r\nno dots\r\n", Some(&whole)).status,
            Status::Skip
        );
        assert_eq!(dot_stuffing(1, RETR, None).status, Status::Skip);
    }

    #[test]
    fn bare_line_feeds_are_counted_where_they_came() {
        let fine = line_endings(&[("LIST", b"1 10\r\n"), ("RETR", RETR)]);
        assert_eq!(fine.status, Status::Ok);
        let bare = line_endings(&[("LIST", b"1 10\n2 20\n"), ("RETR", RETR)]);
        assert_eq!(bare.status, Status::Warn);
        assert!(
            bare.detail.starts_with("bare LF line endings (LIST 2)"),
            "{bare:?}"
        );
        assert_eq!(bare.facts["bare_lf"], 2);
    }

    #[test]
    fn line_endings_are_not_ok_on_no_lines_at_all() {
        // An empty mailbox: LIST and UIDL have no lines to end.
        let check = line_endings(&[("LIST", b""), ("UIDL", b"")]);
        assert_eq!(check.status, Status::Skip, "{check:?}");
        let some = line_endings(&[("LIST", b""), ("UIDL", b"1 a\r\n")]);
        assert_eq!(some.status, Status::Ok, "{some:?}");
        assert!(some.detail.ends_with("(UIDL)"), "{some:?}");
    }
}
