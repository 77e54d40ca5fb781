//! RFC 6186 SRV records: `_pop3s._tcp.<domain>` (TLS), then
//! `_pop3._tcp.<domain>` (STARTTLS; Pipit never falls to plain text on its
//! own). A target of "." says the service is not offered.

use hickory_proto::rr::{RData, RecordType};

use super::dns::{Answer, Resolver};
use crate::net::Security;

/// One SRV record: priority, weight, port, target.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub priority: u16,
    pub weight: u16,
    pub port: u16,
    pub target: String,
}

/// What a service's records say.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Service {
    /// Use this host and port.
    At { host: String, port: u16 },
    /// The domain says it does not offer the service (target ".").
    NotOffered,
    /// No records.
    Absent,
}

/// The record to use: the lowest priority, then the highest weight (no
/// random choice: the same answer each time).
pub fn choose(records: &[Record]) -> Service {
    let mut usable: Vec<_> = records
        .iter()
        .filter(|r| !r.target.trim_end_matches('.').is_empty() && r.port != 0)
        .collect();
    if usable.is_empty() {
        return if records.is_empty() {
            Service::Absent
        } else {
            Service::NotOffered
        };
    }
    usable.sort_by_key(|r| (r.priority, std::cmp::Reverse(r.weight)));
    Service::At {
        host: usable[0].target.trim_end_matches('.').to_ascii_lowercase(),
        port: usable[0].port,
    }
}

/// The service's records for `domain`, chosen.
pub fn lookup(resolver: &Resolver, service: &str, domain: &str) -> Result<Service, String> {
    let name = format!("{service}._tcp.{domain}");
    match resolver.lookup(&name, RecordType::SRV)? {
        Answer::Records(records) => Ok(choose(
            &records
                .into_iter()
                .filter_map(|r| match r {
                    RData::SRV(s) => Some(Record {
                        priority: s.priority,
                        weight: s.weight,
                        port: s.port,
                        target: s.target.to_ascii(),
                    }),
                    _ => None,
                })
                .collect::<Vec<_>>(),
        )),
        Answer::NoSuchName => Ok(Service::Absent),
        Answer::Truncated => Err("a truncated answer".into()),
    }
}

/// The POP3 service of `domain`: TLS first, then STARTTLS, asked side by
/// side: host, port, security and the record's name; or what the records said.
pub fn pop3(resolver: &Resolver, domain: &str) -> Result<(String, u16, Security, String), String> {
    let (tls, starttls) = std::thread::scope(|s| {
        let tls = s.spawn(|| lookup(resolver, "_pop3s", domain));
        let starttls = lookup(resolver, "_pop3", domain);
        (
            tls.join()
                .unwrap_or_else(|_| Err("the lookup failed".into())),
            starttls,
        )
    });
    let record = |service: &str| format!("_{service}._tcp.{domain}");
    match (tls, starttls) {
        (Ok(Service::At { host, port }), _) => Ok((host, port, Security::Tls, record("pop3s"))),
        (_, Ok(Service::At { host, port })) => Ok((host, port, Security::Starttls, record("pop3"))),
        (Err(e), _) | (_, Err(e)) => Err(e),
        (Ok(Service::NotOffered), Ok(_)) | (Ok(_), Ok(Service::NotOffered)) => Err(format!(
            "{domain} says it offers no POP3 (SRV target \".\")"
        )),
        (Ok(Service::Absent), Ok(Service::Absent)) => Err("no SRV records".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(priority: u16, weight: u16, port: u16, target: &str) -> Record {
        Record {
            priority,
            weight,
            port,
            target: target.into(),
        }
    }

    #[test]
    fn the_lowest_priority_then_the_heaviest_is_chosen() {
        assert_eq!(
            choose(&[
                r(20, 100, 995, "backup.example.org."),
                r(10, 1, 995, "light.example.org."),
                r(10, 60, 9995, "Heavy.Example.org."),
            ]),
            Service::At {
                host: "heavy.example.org".into(),
                port: 9995
            }
        );
    }

    #[test]
    fn a_dot_says_not_offered_and_nothing_says_nothing() {
        assert_eq!(choose(&[r(0, 0, 0, ".")]), Service::NotOffered);
        assert_eq!(choose(&[]), Service::Absent);
    }
}
