//! The bodies of LIST and UIDL: one `number value` per line.

use super::reply::ProtocolError;

/// One message as the server lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed {
    pub number: u32,
    pub size: u64,
}

/// Parses a LIST body: `n size` per line.
pub fn parse_list(body: &[u8]) -> Result<Vec<Listed>, ProtocolError> {
    lines(body, "LIST")?
        .into_iter()
        .map(|(number, value)| {
            let size = value.parse().map_err(|_| {
                ProtocolError::BadListing(format!("a LIST size that is not a number: {value:?}"))
            })?;
            Ok(Listed { number, size })
        })
        .collect()
}

/// Parses a UIDL body: `n unique-id` per line.
pub fn parse_uidl(body: &[u8]) -> Result<Vec<(u32, String)>, ProtocolError> {
    lines(body, "UIDL")?
        .into_iter()
        .map(|(n, uid)| {
            // RFC 1939 §7: 1 to 70 characters in 0x21..=0x7E.
            if uid.is_empty() || uid.len() > 70 || !uid.bytes().all(|b| (0x21..=0x7e).contains(&b))
            {
                Err(ProtocolError::BadListing(format!(
                    "a UIDL unique-id RFC 1939 does not allow: {uid:?}"
                )))
            } else {
                Ok((n, uid.to_string()))
            }
        })
        .collect()
}

fn lines<'a>(body: &'a [u8], what: &str) -> Result<Vec<(u32, &'a str)>, ProtocolError> {
    let text = std::str::from_utf8(body)
        .map_err(|_| ProtocolError::BadListing(format!("a {what} listing that is not text")))?;
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let mut parts = line.split_whitespace();
        let (Some(n), Some(value)) = (parts.next(), parts.next()) else {
            return Err(ProtocolError::BadListing(format!(
                "a {what} line without two fields: {line:?}"
            )));
        };
        let number: u32 = n.parse().ok().filter(|&n| n > 0).ok_or_else(|| {
            ProtocolError::BadListing(format!("a {what} message number that is not one: {n:?}"))
        })?;
        out.push((number, value));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_and_uidl() {
        assert_eq!(
            parse_list(b"1 120\r\n2 5000\r\n").unwrap(),
            vec![
                Listed {
                    number: 1,
                    size: 120
                },
                Listed {
                    number: 2,
                    size: 5000
                }
            ]
        );
        assert_eq!(
            parse_uidl(b"1 whqtswO00WBw418f9t5JxYwZ\n3 QhdPYR:00WBw1Ph7x7\n").unwrap(),
            vec![
                (1, "whqtswO00WBw418f9t5JxYwZ".into()),
                (3, "QhdPYR:00WBw1Ph7x7".into())
            ]
        );
    }

    #[test]
    fn broken_listings_are_errors() {
        assert!(parse_list(b"1 many\r\n").is_err());
        assert!(parse_list(b"0 10\r\n").is_err());
        assert!(parse_list(b"1\r\n").is_err());
        assert!(parse_uidl(b"1 \x01bad\r\n").is_err());
        assert!(parse_list(b"1 -5\r\n").is_err());
    }
}
