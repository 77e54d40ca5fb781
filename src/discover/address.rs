//! An email address, split into what the lookups need: the local part and
//! the domain (lower case, internationalised names in their ASCII form).

/// An address Pipit can look settings up for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Address {
    /// The address as given, trimmed.
    pub full: String,
    pub local: String,
    /// Lower case, ASCII (punycode for an internationalised name), no final dot.
    pub domain: String,
}

impl Address {
    pub fn parse(text: &str) -> Result<Address, String> {
        let full = text.trim();
        let Some((local, domain)) = full.rsplit_once('@') else {
            return Err(format!("{full:?} is not an email address (no @)"));
        };
        if local.is_empty() {
            return Err(format!("{full:?} has nothing before the @"));
        }
        if full
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || c == '%')
        {
            return Err(format!(
                "{full:?} is not an email address (it holds spaces or control characters)"
            ));
        }
        let domain = domain.trim_end_matches('.');
        let ascii = match oauth2::url::Host::parse(domain) {
            Ok(oauth2::url::Host::Domain(d)) => d.to_ascii_lowercase(),
            _ => return Err(format!("{domain:?} is not a domain name")),
        };
        if !ascii.contains('.')
            || ascii
                .split('.')
                .any(|label| label.is_empty() || label.len() > 63)
            || !ascii
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        {
            return Err(format!("{domain:?} is not a domain name Pipit can look up"));
        }
        Ok(Address {
            full: full.to_string(),
            local: local.to_string(),
            domain: ascii,
        })
    }

    /// Whether `host` is the address's domain or under it.
    pub fn owns(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        host == self.domain || host.ends_with(&format!(".{}", self.domain))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_splits_at_its_last_at() {
        let a = Address::parse(" Alice.Smith@Example.ORG. ").unwrap();
        assert_eq!(a.full, "Alice.Smith@Example.ORG.");
        assert_eq!(a.local, "Alice.Smith");
        assert_eq!(a.domain, "example.org");
        let quoted = Address::parse("\"a@b\"@example.org").unwrap();
        assert_eq!(quoted.domain, "example.org");
    }

    #[test]
    fn an_international_domain_is_looked_up_in_ascii() {
        assert_eq!(
            Address::parse("jörg@bücher.example").unwrap().domain,
            "xn--bcher-kva.example"
        );
    }

    #[test]
    fn what_is_not_an_address_says_why() {
        for bad in [
            "alice",
            "@example.org",
            "alice@",
            "alice@localhost",
            "alice@[127.0.0.1]",
            "alice@exa mple.org",
            "alice@example..org",
            "ali\nce@example.org",
            "alice@example.org/evil",
        ] {
            assert!(Address::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_domain_owns_its_subdomains_only() {
        let a = Address::parse("a@example.org").unwrap();
        assert!(a.owns("example.org"));
        assert!(a.owns("POP.Example.org."));
        assert!(!a.owns("badexample.org"));
        assert!(!a.owns("example.org.evil.net"));
        assert!(!a.owns("mail.hoster.net"));
    }
}
