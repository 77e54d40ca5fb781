//! UIDL and LIST: can messages be told apart, and are their sizes true.

use std::collections::{HashMap, HashSet};

use super::Check;
use crate::pop3::Reply;
use crate::pop3::listing::parse_uidl;

/// The UIDs in a UIDL reply, with the number of lines RFC 1939 does not
/// allow; `None` if the server refused UIDL.
pub fn uids(reply: &Reply) -> Option<(Vec<(u32, String)>, usize)> {
    if !reply.is_ok() {
        return None;
    }
    let (uids, problems) = parse_uidl(reply.body.as_deref().unwrap_or_default());
    Some((uids, problems.len()))
}

/// `uidl`: whether the server gives UIDs, and whether they are RFC 1939's.
pub fn uidl(reply: &Reply, top_works: bool) -> Check {
    let Some((uids, bad)) = uids(reply) else {
        let pipit = if top_works {
            "Pipit tells messages apart by a digest of their header block (TOP n 0), a TOP per message each session"
        } else {
            "without TOP either, Pipit must download a message to know it; it tells messages apart by their headers and size"
        };
        return Check::warn(
            "uidl",
            format!(
                "no UIDL (the server said: {}): clients cannot tell which messages they already have",
                reply.text
            ),
            pipit,
        )
        .with("supported", false);
    };
    let check = if bad > 0 {
        Check::warn(
            "uidl",
            format!(
                "UIDL works, but {bad} of its lines break RFC 1939 (a UID of control bytes or over 512 characters, or a message listed twice)"
            ),
            "Pipit tells those messages apart by their header blocks and names them in the fetch report",
        )
    } else {
        Check::ok(
            "uidl",
            format!("UIDL works: {} messages with a UID each", uids.len()),
            "nothing to do",
        )
    };
    check.with("supported", true).with("invalid", bad)
}

/// `uidl-unique`: no UID given to two messages.
pub fn uidl_unique(uids: &[(u32, String)]) -> Check {
    let mut seen: HashMap<&str, usize> = HashMap::new();
    for (_, uid) in uids {
        *seen.entry(uid.as_str()).or_default() += 1;
    }
    let mut repeated: Vec<(&str, usize)> = seen.into_iter().filter(|(_, n)| *n > 1).collect();
    repeated.sort();
    if repeated.is_empty() {
        return Check::ok(
            "uidl-unique",
            format!("no UID is given twice ({} UIDs)", uids.len()),
            "nothing to do",
        )
        .with("duplicates", 0);
    }
    let messages: usize = repeated.iter().map(|(_, n)| n).sum();
    let example = repeated
        .iter()
        .take(3)
        .map(|(uid, n)| format!("{:?} ×{n}", crate::reveal::field(uid)))
        .collect::<Vec<_>>()
        .join(", ");
    Check::fail(
        "uidl-unique",
        format!(
            "duplicate UIDs: {messages} messages share {} UIDs ({example}): messages may be fetched twice, or never, by other clients",
            repeated.len()
        ),
        "Pipit tells them apart by content (size and header block) and never deletes one on its UID alone",
    )
    .with("duplicates", repeated.len())
}

/// `uidl-stable`: the UIDs of a second session are the first's (messages
/// that came or went between the two aside).
pub fn uidl_stable(first: &[(u32, String)], second: &[(u32, String)]) -> Check {
    let again: HashSet<&str> = second.iter().map(|(_, u)| u.as_str()).collect();
    let kept = first
        .iter()
        .filter(|(_, u)| again.contains(u.as_str()))
        .count();
    let changed = first.len() - kept;
    let detail = format!(
        "{kept} of {} UIDs the same in a second session",
        first.len()
    );
    if changed == 0 {
        return Check::ok("uidl-stable", detail, "nothing to do").with("changed", 0);
    }
    let pipit = "Pipit recognises the messages it has by their header block and size, and links them instead of downloading them again";
    let check = if kept == 0 {
        Check::fail(
            "uidl-stable",
            format!(
                "{detail}: every UID changed from one session to the next, so other clients download everything again each time"
            ),
            pipit,
        )
    } else {
        Check::fail(
            "uidl-stable",
            format!(
                "{detail}: {changed} changed (or their messages went in between): other clients may download those again"
            ),
            pipit,
        )
    };
    check.with("changed", changed)
}

/// `list-size`: LIST's octets for the message read, against the octets
/// RETR gave (dot-unstuffed, line ends as sent; `bare_lf` of them bare LF
/// line ends). A server that sizes its messages with CRLF line ends and
/// sends them with bare LF is short by exactly those: that is its line
/// endings (a warning there), not a lie about the size.
pub fn list_size(number: u32, listed: u64, retrieved: usize, bare_lf: usize) -> Check {
    let (retrieved, bare_lf) = (retrieved as u64, bare_lf as u64);
    if bare_lf > 0 && listed == retrieved + bare_lf {
        return Check::warn(
            "list-size",
            format!(
                "LIST says message {number} is {listed} octets, RETR gave {retrieved}: the difference is its {bare_lf} bare LF line ends, which LIST counts as CRLF (see line-endings)"
            ),
            "Pipit stores what RETR gives; its size limit and progress go by LIST's word, a few octets high",
        )
        .with("listed", listed)
        .with("retrieved", retrieved)
        .with("bare_lf", bare_lf);
    }
    if listed == retrieved {
        return Check::ok(
            "list-size",
            format!("LIST and RETR agree: message {number} is {listed} octets"),
            "nothing to do",
        )
        .with("listed", listed)
        .with("retrieved", retrieved);
    }
    Check::fail(
        "list-size",
        format!(
            "lying sizes: LIST says message {number} is {listed} octets, RETR gave {retrieved}: other clients' size limits and progress go wrong, and some cut the message short"
        ),
        "Pipit stores what RETR gives, within its own bounds; its size limit and progress go by LIST's word",
    )
    .with("listed", listed)
    .with("retrieved", retrieved)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::Status;
    use crate::pop3::Indicator;

    fn reply(indicator: Indicator, body: &[u8]) -> Reply {
        Reply {
            indicator,
            code: None,
            text: "no UIDL here".into(),
            body: (indicator == Indicator::Ok).then(|| body.to_vec()),
            oversized: None,
        }
    }

    fn u(list: &[(u32, &str)]) -> Vec<(u32, String)> {
        list.iter().map(|(n, s)| (*n, s.to_string())).collect()
    }

    #[test]
    fn uidl_is_supported_valid_or_missing() {
        let good = uidl(&reply(Indicator::Ok, b"1 a\r\n2 b\r\n"), true);
        assert_eq!(good.status, Status::Ok);
        assert!(good.detail.contains("2 messages"));
        let odd = uidl(&reply(Indicator::Ok, b"1 a\x01b\r\n2 b\r\n"), true);
        assert_eq!(odd.status, Status::Warn);
        let none = uidl(&reply(Indicator::Err, b""), true);
        assert_eq!(none.status, Status::Warn);
        assert!(none.detail.starts_with("no UIDL"), "{none:?}");
        assert!(none.pipit.contains("header block"));
    }

    #[test]
    fn duplicate_uids_say_what_they_cause() {
        assert_eq!(uidl_unique(&u(&[(1, "a"), (2, "b")])).status, Status::Ok);
        let dup = uidl_unique(&u(&[(1, "a"), (2, "a"), (3, "b")]));
        assert_eq!(dup.status, Status::Fail);
        assert!(
            dup.detail
                .starts_with("duplicate UIDs: 2 messages share 1 UIDs"),
            "{dup:?}"
        );
        assert!(dup.pipit.contains("tells them apart by content"));
    }

    #[test]
    fn uids_must_survive_a_second_session() {
        let first = u(&[(1, "a"), (2, "b")]);
        assert_eq!(
            uidl_stable(&first, &u(&[(1, "a"), (2, "b"), (3, "c")])).status,
            Status::Ok
        );
        let moved = uidl_stable(&first, &u(&[(1, "x"), (2, "y")]));
        assert_eq!(moved.status, Status::Fail);
        assert!(moved.detail.contains("every UID changed"), "{moved:?}");
        assert_eq!(uidl_stable(&first, &u(&[(1, "a")])).facts["changed"], 1);
    }

    #[test]
    fn list_sizes_must_be_retr_sizes() {
        assert_eq!(list_size(1, 10, 10, 0).status, Status::Ok);
        let lie = list_size(3, 100, 1234, 0);
        assert_eq!(lie.status, Status::Fail);
        // Short by exactly its bare LF line ends: the line endings, not a
        // lie; short by more, still a lie.
        let lf = list_size(4, 110, 100, 10);
        assert_eq!(lf.status, Status::Warn, "{lf:?}");
        assert!(lf.detail.contains("its 10 bare LF line ends"), "{lf:?}");
        assert_eq!(list_size(4, 111, 100, 10).status, Status::Fail);
        assert!(
            lie.detail
                .contains("LIST says message 3 is 100 octets, RETR gave 1234")
        );
    }
}
