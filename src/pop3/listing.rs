//! The bodies of LIST and UIDL: one `number value` per line.
//!
//! Read liberally: a line that breaks the rules costs that one message, not
//! the listing. Each such line comes back as a [`Problem`] naming it, so the
//! fetch can say what it left alone.

/// One message as the server lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed {
    pub number: u32,
    pub size: u64,
}

/// A listing line that could not be used, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    /// The message the line was about, when its number could be read.
    pub number: Option<u32>,
    pub text: String,
}

/// The problems of one listing: the first [`Problems::KEPT`] of them, and how
/// many more there were (a listing of millions of broken lines costs a
/// counter, not millions of messages).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Problems {
    pub kept: Vec<Problem>,
    pub more: usize,
}

impl Problems {
    pub const KEPT: usize = 100;

    fn push(&mut self, problem: Problem) {
        if self.kept.len() < Problems::KEPT {
            self.kept.push(problem);
        } else {
            self.more += 1;
        }
    }

    pub fn len(&self) -> usize {
        self.kept.len() + self.more
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn extend(&mut self, other: Problems) {
        for p in other.kept {
            self.push(p);
        }
        self.more += other.more;
    }
}

/// The longest UID Pipit takes as one. RFC 1939 says 70 characters; some
/// servers write longer ones, which identify their messages just as well.
pub const MAX_UID: usize = 512;

/// Parses a LIST body: `n size` per line. A message listed twice is left
/// out (which of its sizes is true cannot be told).
pub fn parse_list(body: &[u8]) -> (Vec<Listed>, Problems) {
    let (lines, mut problems) = lines(body, "LIST");
    let mut listed: Vec<Listed> = Vec::with_capacity(lines.len());
    for (number, value) in lines {
        match std::str::from_utf8(value).ok().and_then(|v| v.parse().ok()) {
            Some(size) => listed.push(Listed { number, size }),
            None => problems.push(Problem {
                number: Some(number),
                text: format!(
                    "LIST gave message {number} a size that is not a number ({})",
                    shown(value)
                ),
            }),
        }
    }
    let twice = repeated(listed.iter().map(|l| l.number));
    for &number in &twice {
        problems.push(Problem {
            number: Some(number),
            text: format!("LIST gave message {number} more than once"),
        });
    }
    listed.retain(|l| !twice.contains(&l.number));
    (listed, problems)
}

/// Parses a UIDL body: `n unique-id` per line. A unique-id outside RFC 1939's
/// characters (0x21–0x7E) or longer than [`MAX_UID`], or given for a message
/// listed twice, is a problem: that message has no usable UID.
pub fn parse_uidl(body: &[u8]) -> (Vec<(u32, String)>, Problems) {
    let (lines, mut problems) = lines(body, "UIDL");
    let mut uids: Vec<(u32, String)> = Vec::with_capacity(lines.len());
    for (number, value) in lines {
        if value.len() <= MAX_UID && value.iter().all(|b| (0x21..=0x7e).contains(b)) {
            uids.push((number, String::from_utf8_lossy(value).into_owned()));
        } else {
            problems.push(Problem {
                number: Some(number),
                text: format!(
                    "UIDL gave message {number} a unique-id RFC 1939 does not allow ({})",
                    shown(value)
                ),
            });
        }
    }
    let twice = repeated(uids.iter().map(|(n, _)| *n));
    for &number in &twice {
        problems.push(Problem {
            number: Some(number),
            text: format!("UIDL gave message {number} more than once"),
        });
    }
    uids.retain(|(n, _)| !twice.contains(n));
    (uids, problems)
}

/// The lines of a listing as (message number, rest of the line).
fn lines<'a>(body: &'a [u8], what: &str) -> (Vec<(u32, &'a [u8])>, Problems) {
    let mut out = Vec::new();
    let mut problems = Problems::default();
    for line in body.split(|&b| b == b'\n') {
        let line = line.trim_ascii();
        if line.is_empty() {
            continue;
        }
        let (n, rest) = match line.iter().position(u8::is_ascii_whitespace) {
            Some(i) => (&line[..i], line[i..].trim_ascii()),
            None => (line, &line[line.len()..]),
        };
        let number = std::str::from_utf8(n)
            .ok()
            .and_then(|n| n.parse::<u32>().ok())
            .filter(|&n| n > 0);
        let Some(number) = number else {
            problems.push(Problem {
                number: None,
                text: format!("a {what} line that names no message ({})", shown(line)),
            });
            continue;
        };
        if rest.is_empty() {
            problems.push(Problem {
                number: Some(number),
                text: format!("a {what} line for message {number} with nothing after the number"),
            });
            continue;
        }
        // Anything after a second space is for extensions (RFC 1939 §5).
        let value = match rest.iter().position(u8::is_ascii_whitespace) {
            Some(i) if what == "LIST" => &rest[..i],
            _ => rest,
        };
        out.push((number, value));
    }
    (out, problems)
}

fn repeated(numbers: impl Iterator<Item = u32>) -> Vec<u32> {
    let mut seen = std::collections::HashSet::new();
    let mut twice: Vec<u32> = numbers.filter(|n| !seen.insert(*n)).collect();
    twice.sort_unstable();
    twice.dedup();
    twice
}

/// Bytes from a server, shown safely and briefly in a message.
fn shown(bytes: &[u8]) -> String {
    let text: String = String::from_utf8_lossy(&bytes[..bytes.len().min(40)])
        .chars()
        .map(|c| if crate::reveal::hides(c) { '?' } else { c })
        .collect();
    if bytes.len() > 40 {
        format!("{text:?}… ({} bytes)", bytes.len())
    } else {
        format!("{text:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_and_uidl() {
        assert_eq!(
            parse_list(b"1 120\r\n2 5000 extra\r\n"),
            (
                vec![
                    Listed {
                        number: 1,
                        size: 120
                    },
                    Listed {
                        number: 2,
                        size: 5000
                    }
                ],
                Problems::default()
            )
        );
        assert_eq!(
            parse_uidl(b"1 whqtswO00WBw418f9t5JxYwZ\n3 QhdPYR:00WBw1Ph7x7\n"),
            (
                vec![
                    (1, "whqtswO00WBw418f9t5JxYwZ".into()),
                    (3, "QhdPYR:00WBw1Ph7x7".into())
                ],
                Problems::default()
            )
        );
    }

    #[test]
    fn a_broken_line_costs_its_message_not_the_listing() {
        let (listed, problems) =
            parse_list(b"1 many\r\n0 10\r\n3\r\n4 -5\r\n5 100\r\n\xff\xfe 1\r\n");
        assert_eq!(
            listed,
            vec![Listed {
                number: 5,
                size: 100
            }]
        );
        assert_eq!(problems.len(), 5, "{problems:?}");
        let one = problems.kept.iter().find(|p| p.number == Some(1)).unwrap();
        assert!(one.text.contains("not a number"), "{problems:?}");

        let long = format!("2 {}\r\n", "x".repeat(MAX_UID + 1));
        let mut body = b"1 \x01bad\r\n".to_vec();
        body.extend_from_slice(long.as_bytes());
        body.extend_from_slice(b"3 fine\r\n4 with space\r\n5 caf\xc3\xa9\r\n");
        let (uids, problems) = parse_uidl(&body);
        assert_eq!(uids, vec![(3, "fine".to_string())]);
        let named: Vec<Option<u32>> = problems.kept.iter().map(|p| p.number).collect();
        assert_eq!(named, vec![Some(1), Some(2), Some(4), Some(5)]);
        assert!(problems.kept[1].text.contains("513 bytes"), "{problems:?}");
    }

    #[test]
    fn a_message_listed_twice_is_left_out() {
        let (listed, problems) = parse_list(b"1 10\r\n2 20\r\n1 30\r\n");
        assert_eq!(
            listed,
            vec![Listed {
                number: 2,
                size: 20
            }]
        );
        assert_eq!(problems.kept[0].number, Some(1));
        let (uids, _) = parse_uidl(b"1 a\r\n1 b\r\n2 c\r\n");
        assert_eq!(uids, vec![(2, "c".to_string())]);
    }

    #[test]
    fn a_uid_longer_than_rfc_1939_allows_but_printable_is_taken() {
        let uid = "u".repeat(100);
        let (uids, problems) = parse_uidl(format!("1 {uid}\r\n").as_bytes());
        assert_eq!(uids, vec![(1, uid)]);
        assert!(problems.is_empty());
    }

    #[test]
    fn a_listing_of_millions_of_broken_lines_keeps_a_count_not_millions_of_problems() {
        let body = b"a\r\n".repeat(1_000_000);
        let (listed, problems) = parse_list(&body);
        assert!(listed.is_empty());
        assert_eq!(problems.kept.len(), Problems::KEPT);
        assert_eq!(problems.more, 1_000_000 - Problems::KEPT);
    }
}
