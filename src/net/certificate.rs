//! Just enough X.509 to tell a person which certificate a server showed: its
//! subject and its validity dates. A small bounded DER reader; anything it
//! does not understand yields `None`, never a panic.

use std::fmt;

/// What is shown about a certificate before someone decides to trust it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CertificateSummary {
    /// "CN=mail.example.org, O=Example Home"
    pub subject: String,
    pub issuer: String,
    /// "2026-11-23"
    pub not_before: String,
    pub not_after: String,
}

impl fmt::Display for CertificateSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "subject {}, issued by {}, valid {} to {}",
            self.subject, self.issuer, self.not_before, self.not_after
        )
    }
}

/// Reads the subject, issuer and dates of a DER certificate.
pub fn summarize(der: &[u8]) -> Option<CertificateSummary> {
    let (_, cert, _) = tlv(der).filter(|(tag, ..)| *tag == SEQUENCE)?;
    let (_, mut tbs, _) = tlv(cert).filter(|(tag, ..)| *tag == SEQUENCE)?;
    // [0] version is optional.
    if tbs.first() == Some(&0xA0) {
        tbs = tlv(tbs)?.2;
    }
    let (_, _serial, rest) = tlv(tbs)?;
    let (_, _algorithm, rest) = tlv(rest)?;
    let (_, issuer, rest) = tlv(rest)?;
    let (_, validity, rest) = tlv(rest)?;
    let (_, subject, _) = tlv(rest)?;
    let (before_tag, before, rest) = tlv(validity)?;
    let (after_tag, after, _) = tlv(rest)?;
    Some(CertificateSummary {
        subject: name(subject)?,
        issuer: name(issuer)?,
        not_before: time(before_tag, before)?,
        not_after: time(after_tag, after)?,
    })
}

const SEQUENCE: u8 = 0x30;
const SET: u8 = 0x31;
const OID: u8 = 0x06;

/// One tag-length-value: (tag, contents, what follows). Lengths are checked.
fn tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let tag = *input.first()?;
    let first = *input.get(1)?;
    let (len, header) = if first < 0x80 {
        (usize::from(first), 2)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 {
            return None;
        }
        let mut len = 0usize;
        for &b in input.get(2..2 + n)? {
            len = len.checked_mul(256)?.checked_add(usize::from(b))?;
        }
        (len, 2 + n)
    };
    let end = header.checked_add(len)?;
    Some((tag, input.get(header..end)?, input.get(end..)?))
}

/// A distinguished name as "CN=…, O=…", the attributes people recognise.
fn name(mut rdns: &[u8]) -> Option<String> {
    let mut parts = Vec::new();
    while !rdns.is_empty() {
        let (tag, set, rest) = tlv(rdns)?;
        rdns = rest;
        if tag != SET {
            return None;
        }
        let (_, attribute, _) = tlv(set)?;
        let (oid_tag, oid, value) = tlv(attribute)?;
        if oid_tag != OID {
            return None;
        }
        let (_, value, _) = tlv(value)?;
        let label = match oid {
            [0x55, 0x04, 0x03] => "CN",
            [0x55, 0x04, 0x0A] => "O",
            [0x55, 0x04, 0x0B] => "OU",
            [0x55, 0x04, 0x06] => "C",
            _ => continue,
        };
        let value = String::from_utf8_lossy(value);
        parts.push(format!("{label}={}", crate::reveal::field(&value)));
    }
    Some(if parts.is_empty() {
        "(no name)".into()
    } else {
        parts.join(", ")
    })
}

/// UTCTime or GeneralizedTime to "YYYY-MM-DD".
fn time(tag: u8, value: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(value).ok()?;
    let (year, rest) = match tag {
        0x17 => {
            let yy: u32 = text.get(0..2)?.parse().ok()?;
            (if yy >= 50 { 1900 + yy } else { 2000 + yy }, text.get(2..)?)
        }
        0x18 => (text.get(0..4)?.parse().ok()?, text.get(4..)?),
        _ => return None,
    };
    let month: u32 = rest.get(0..2)?.parse().ok()?;
    let day: u32 = rest.get(2..4)?.parse().ok()?;
    Some(format!("{year:04}-{month:02}-{day:02}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::pki_types::{CertificateDer, pem::PemObject as _};

    #[test]
    fn subject_issuer_and_dates_of_a_real_certificate() {
        let pem = include_bytes!("../../tests/data/example-cert.pem");
        let der = CertificateDer::from_pem_slice(pem).unwrap();
        let s = summarize(&der).unwrap();
        assert_eq!(s.subject, "CN=mail.example.org, O=Example Home");
        assert_eq!(s.issuer, s.subject, "self-signed");
        assert_eq!(
            (s.not_before.as_str(), s.not_after.as_str()),
            ("2026-11-23", "2036-11-20")
        );
        assert!(s.to_string().contains("valid 2026-11-23 to 2036-11-20"));
    }

    #[test]
    fn truncated_or_garbage_input_is_none_not_a_panic() {
        let pem = include_bytes!("../../tests/data/example-cert.pem");
        let der = CertificateDer::from_pem_slice(pem).unwrap();
        for cut in 0..der.len() {
            let _ = summarize(&der[..cut]);
        }
        assert_eq!(summarize(b"\x30\x84\xff\xff\xff\xff"), None);
        assert_eq!(summarize(b""), None);
    }
}
