//! Built-in settings for large providers that offer POP3, from their
//! published help pages: answered at once, without asking anyone. Only
//! providers whose settings are certain are here.

use crate::net::Security;

/// One provider's POP3 server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Preset {
    pub provider: &'static str,
    pub host: &'static str,
    pub port: u16,
    pub security: Security,
    /// The OAuth2 provider (`pipit account add --oauth NAME`) its POP3
    /// server wants instead of a password, if it wants one.
    pub oauth: Option<&'static str>,
    /// What else to know, if anything.
    pub note: Option<&'static str>,
}

const GOOGLE: Preset = Preset {
    provider: "Google",
    host: "pop.gmail.com",
    port: 995,
    security: Security::Tls,
    oauth: Some("google"),
    note: Some("POP must be turned on in Gmail's settings (Forwarding and POP/IMAP)"),
};

const MICROSOFT: Preset = Preset {
    provider: "Microsoft",
    host: "outlook.office365.com",
    port: 995,
    security: Security::Tls,
    oauth: Some("microsoft"),
    note: Some("POP must be turned on in Outlook's settings (Forwarding and IMAP)"),
};

const fn password(
    provider: &'static str,
    host: &'static str,
    note: Option<&'static str>,
) -> Preset {
    Preset {
        provider,
        host,
        port: 995,
        security: Security::Tls,
        oauth: None,
        note,
    }
}

const APP_PASSWORD: Option<&str> =
    Some("the provider wants an app password, made in its account security settings");

/// The preset for a domain, if Pipit has one.
pub fn for_domain(domain: &str) -> Option<Preset> {
    Some(match domain {
        "gmail.com" | "googlemail.com" => GOOGLE,
        "outlook.com" | "hotmail.com" | "live.com" | "msn.com" => MICROSOFT,
        "yahoo.com" => password("Yahoo", "pop.mail.yahoo.com", APP_PASSWORD),
        "aol.com" => password("AOL", "pop.aol.com", APP_PASSWORD),
        "gmx.net" | "gmx.de" => password(
            "GMX",
            "pop.gmx.net",
            Some("POP3 must be turned on in GMX's settings"),
        ),
        "web.de" => password(
            "WEB.DE",
            "pop3.web.de",
            Some("POP3 must be turned on in WEB.DE's settings"),
        ),
        "fastmail.com" => password("Fastmail", "pop.fastmail.com", APP_PASSWORD),
        _ => return None,
    })
}

/// The preset of the provider whose mail exchanger this is (a domain of
/// its own hosted by Google Workspace or Microsoft 365).
pub fn for_mail_exchanger(host: &str) -> Option<Preset> {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let under = |suffix: &str| host == suffix || host.ends_with(&format!(".{suffix}"));
    if under("google.com") || under("googlemail.com") {
        Some(GOOGLE)
    } else if host.ends_with(".mail.protection.outlook.com") {
        Some(MICROSOFT)
    } else {
        None
    }
}

/// The OAuth2 provider behind a POP3 server's name, when it is one Pipit
/// knows (for an autoconfig document that says OAuth2).
pub fn oauth_provider_of(host: &str) -> Option<&'static str> {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let under = |suffix: &str| host == suffix || host.ends_with(&format!(".{suffix}"));
    if under("gmail.com") || under("googlemail.com") || under("google.com") {
        Some("google")
    } else if under("office365.com") || under("outlook.com") {
        Some("microsoft")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_large_providers_are_known_and_the_rest_are_not() {
        let gmail = for_domain("googlemail.com").unwrap();
        assert_eq!(
            (gmail.host, gmail.port, gmail.oauth),
            ("pop.gmail.com", 995, Some("google"))
        );
        let hotmail = for_domain("hotmail.com").unwrap();
        assert_eq!(hotmail.host, "outlook.office365.com");
        assert_eq!(hotmail.oauth, Some("microsoft"));
        assert_eq!(for_domain("web.de").unwrap().host, "pop3.web.de");
        assert!(for_domain("yahoo.com").unwrap().oauth.is_none());
        assert!(for_domain("example.org").is_none());
        assert!(for_domain("gmail.com.evil.net").is_none());
    }

    #[test]
    fn a_mail_exchanger_names_its_provider() {
        assert_eq!(
            for_mail_exchanger("aspmx.l.google.com.").unwrap().provider,
            "Google"
        );
        assert_eq!(
            for_mail_exchanger("SMTP.GOOGLE.COM").unwrap().provider,
            "Google"
        );
        assert_eq!(
            for_mail_exchanger("example-org.mail.protection.outlook.com")
                .unwrap()
                .provider,
            "Microsoft"
        );
        assert!(for_mail_exchanger("mx.example.org").is_none());
        assert!(for_mail_exchanger("google.com.evil.net").is_none());
        assert!(for_mail_exchanger("notgoogle.com").is_none());
        assert!(for_mail_exchanger("outlook.com").is_none());
    }

    #[test]
    fn an_oauth_server_names_its_provider() {
        assert_eq!(oauth_provider_of("pop.gmail.com"), Some("google"));
        assert_eq!(
            oauth_provider_of("outlook.office365.com"),
            Some("microsoft")
        );
        assert_eq!(oauth_provider_of("pop.example.org"), None);
    }
}
