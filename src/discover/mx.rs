//! The domain's mail exchangers: a domain whose mail Google or Microsoft
//! receives is hosted there, and its POP3 server is theirs.

use hickory_proto::rr::{RData, RecordType};

use super::dns::{Answer, Resolver};
use super::presets::{self, Preset};

/// The provider of the most preferred mail exchanger Pipit knows, with
/// that exchanger's name; or why there is none.
pub fn choose(exchangers: &[(u16, String)]) -> Result<(Preset, String), String> {
    let mut sorted: Vec<_> = exchangers.to_vec();
    sorted.sort();
    sorted
        .iter()
        .find_map(|(_, host)| presets::for_mail_exchanger(host).map(|p| (p, host.clone())))
        .ok_or_else(|| match sorted.first() {
            Some((_, host)) => format!(
                "its mail goes to {}, not a provider Pipit knows",
                host.trim_end_matches('.')
            ),
            None => "no MX records".to_string(),
        })
}

/// Asks for `domain`'s MX records and maps them.
pub fn lookup(resolver: &Resolver, domain: &str) -> Result<(Preset, String), String> {
    let exchangers = match resolver.lookup(domain, RecordType::MX)? {
        Answer::Records(records) => records
            .into_iter()
            .filter_map(|r| match r {
                RData::MX(mx) => Some((mx.preference, mx.exchange.to_ascii())),
                _ => None,
            })
            .collect::<Vec<_>>(),
        Answer::NoSuchName => return Err(format!("{domain} does not exist in DNS")),
        Answer::Truncated => return Err("a truncated answer".into()),
    };
    choose(&exchangers)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_most_preferred_known_exchanger_wins() {
        let (preset, host) = choose(&[
            (20, "alt1.aspmx.l.google.com.".into()),
            (5, "backup.example.org.".into()),
            (10, "aspmx.l.google.com.".into()),
        ])
        .unwrap();
        assert_eq!(
            (preset.provider, host.as_str()),
            ("Google", "aspmx.l.google.com.")
        );
        let (preset, _) =
            choose(&[(0, "example-org.mail.protection.outlook.com.".into())]).unwrap();
        assert_eq!(preset.oauth, Some("microsoft"));
    }

    #[test]
    fn an_unknown_exchanger_says_where_mail_goes() {
        let err = choose(&[(10, "mx.example.org.".into())]).unwrap_err();
        assert!(err.contains("mx.example.org,"), "{err}");
        assert_eq!(choose(&[]).unwrap_err(), "no MX records");
    }
}
