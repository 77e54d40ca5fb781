//! Thunderbird's autoconfig format (config-v1.1), as a provider publishes
//! it (`autoconfig.<domain>`, `<domain>/.well-known/autoconfig`) and as
//! Thunderbird's ISPDB serves it: the POP3 servers in a document, without
//! IO. Fetching is `http`'s.

use super::Address;
use crate::net::Security;

/// How a server wants the user to log in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Auth {
    /// A password (Pipit uses the strongest way the server offers).
    Password,
    /// A password, never sent in the clear (CRAM-MD5, SCRAM, APOP).
    PasswordEncrypted,
    /// OAuth2 sign-in instead of a password.
    Oauth2,
}

impl Auth {
    pub fn describe(self) -> &'static str {
        match self {
            Auth::Password => "password",
            Auth::PasswordEncrypted => "password (never sent in the clear)",
            Auth::Oauth2 => "OAuth2 sign-in",
        }
    }
}

/// One `<incomingServer type="pop3">`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Incoming {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub auth: Auth,
    /// The user name to log in with, placeholders filled in; `None` if the
    /// document gives none or one Pipit cannot fill in.
    pub user: Option<String>,
}

/// Reads a config-v1.1 document: every POP3 server in it that Pipit can
/// use, best first (TLS, then STARTTLS, then plain text; a password before
/// OAuth2, since the user has a password; then the document's order).
/// An error says what is wrong with the document, or that it has no POP3.
pub fn parse(text: &str, address: &Address) -> Result<Vec<Incoming>, String> {
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        nodes_limit: 50_000,
        ..roxmltree::ParsingOptions::default()
    };
    let doc = roxmltree::Document::parse_with_options(text, options)
        .map_err(|e| format!("not a valid autoconfig document: {e}"))?;
    let root = doc.root_element();
    if root.tag_name().name() != "clientConfig" {
        return Err(format!(
            "not an autoconfig document (its root is <{}>, not <clientConfig>)",
            root.tag_name().name()
        ));
    }
    let mut servers = Vec::new();
    let mut unusable = Vec::new();
    let mut other_types = 0;
    for provider in root.children().filter(|n| n.has_tag_name("emailProvider")) {
        for server in provider
            .children()
            .filter(|n| n.has_tag_name("incomingServer"))
        {
            if !server
                .attribute("type")
                .is_some_and(|t| t.eq_ignore_ascii_case("pop3"))
            {
                other_types += 1;
                continue;
            }
            match incoming(server, address) {
                Ok(found) => servers.push(found),
                Err(why) => unusable.push(why),
            }
        }
    }
    if servers.is_empty() {
        return Err(if let Some(why) = unusable.first() {
            format!("its POP3 server cannot be used: {why}")
        } else if other_types > 0 {
            "it lists no POP3 server (only IMAP or others)".to_string()
        } else {
            "it lists no incoming server".to_string()
        });
    }
    let security_rank = |s: Security| match s {
        Security::Tls => 0,
        Security::Starttls => 1,
        Security::Plain => 2,
    };
    servers.sort_by_key(|s| (security_rank(s.security), s.auth == Auth::Oauth2));
    Ok(servers)
}

fn child_text<'a>(node: roxmltree::Node<'a, 'a>, name: &str) -> Option<&'a str> {
    node.children()
        .find(|n| n.has_tag_name(name))
        .and_then(|n| n.text())
        .map(str::trim)
        .filter(|t| !t.is_empty())
}

fn incoming(server: roxmltree::Node<'_, '_>, address: &Address) -> Result<Incoming, String> {
    let host = child_text(server, "hostname").ok_or("it has no <hostname>")?;
    let host = fill(host, address)
        .ok_or_else(|| format!("its host name {host:?} uses a placeholder Pipit cannot fill in"))?;
    if host.is_empty()
        || host.len() > 253
        || !host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
    {
        return Err(format!("{host:?} is not a host name"));
    }
    let security = match child_text(server, "socketType").map(str::to_ascii_uppercase) {
        Some(s) if s == "SSL" || s == "TLS" => Security::Tls,
        Some(s) if s == "STARTTLS" => Security::Starttls,
        Some(s) if s == "PLAIN" => Security::Plain,
        Some(other) => return Err(format!("unknown <socketType> {other:?}")),
        None => return Err("it has no <socketType>".into()),
    };
    let port = match child_text(server, "port") {
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(|| format!("{p:?} is not a port"))?,
        None => security.default_port(),
    };
    // A server may list several ways to log in: the first Pipit can use.
    let mut auth = None;
    let mut unknown = Vec::new();
    for method in server
        .children()
        .filter(|n| n.has_tag_name("authentication"))
        .filter_map(|n| n.text())
        .map(str::trim)
    {
        let this = match method.to_ascii_lowercase().as_str() {
            "password-cleartext" | "plain" => Some(Auth::Password),
            "password-encrypted" | "secure" => Some(Auth::PasswordEncrypted),
            "oauth2" => Some(Auth::Oauth2),
            _ => None,
        };
        match this {
            Some(a) => {
                auth = Some(a);
                break;
            }
            None => unknown.push(method.to_string()),
        }
    }
    let auth = match (auth, unknown.first()) {
        (Some(a), _) => a,
        (None, None) => Auth::Password,
        (None, Some(m)) => return Err(format!("it wants {m} to log in, which Pipit does not do")),
    };
    let user = child_text(server, "username").and_then(|u| fill(u, address));
    Ok(Incoming {
        host: host.to_ascii_lowercase(),
        port,
        security,
        auth,
        user,
    })
}

/// Fills in the placeholders autoconfig knows; `None` if one is left that
/// Pipit cannot fill in (`%REALNAME%`, say).
fn fill(text: &str, address: &Address) -> Option<String> {
    let filled = text
        .replace("%EMAILADDRESS%", &address.full)
        .replace("%EMAILLOCALPART%", &address.local)
        .replace("%EMAILDOMAIN%", &address.domain);
    (!filled.contains('%')).then_some(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alice() -> Address {
        Address::parse("alice@example.org").unwrap()
    }

    fn doc(servers: &str) -> String {
        format!(
            r#"<?xml version="1.0" encoding="UTF-8"?>
<clientConfig version="1.1">
  <emailProvider id="example.org">
    <domain>example.org</domain>
    <displayName>Example Mail</displayName>
    {servers}
    <outgoingServer type="smtp">
      <hostname>smtp.example.org</hostname><port>465</port><socketType>SSL</socketType>
    </outgoingServer>
  </emailProvider>
</clientConfig>"#
        )
    }

    #[test]
    fn a_pop3_server_is_read_with_its_placeholders_filled() {
        let text = doc(r#"
    <incomingServer type="imap">
      <hostname>imap.example.org</hostname><port>993</port><socketType>SSL</socketType>
      <username>%EMAILADDRESS%</username><authentication>password-cleartext</authentication>
    </incomingServer>
    <incomingServer type="pop3">
      <hostname>pop.%EMAILDOMAIN%</hostname>
      <port>995</port>
      <socketType>SSL</socketType>
      <username>%EMAILLOCALPART%</username>
      <authentication>password-cleartext</authentication>
      <pop3><leaveMessagesOnServer>true</leaveMessagesOnServer></pop3>
    </incomingServer>"#);
        let servers = parse(&text, &alice()).unwrap();
        assert_eq!(
            servers,
            vec![Incoming {
                host: "pop.example.org".into(),
                port: 995,
                security: Security::Tls,
                auth: Auth::Password,
                user: Some("alice".into()),
            }]
        );
    }

    #[test]
    fn the_safest_server_comes_first_and_a_password_before_oauth() {
        let text = doc(r#"
    <incomingServer type="pop3">
      <hostname>pop.example.org</hostname><port>110</port><socketType>plain</socketType>
      <username>%EMAILADDRESS%</username><authentication>password-cleartext</authentication>
    </incomingServer>
    <incomingServer type="pop3">
      <hostname>pop.example.org</hostname><port>995</port><socketType>SSL</socketType>
      <username>%EMAILADDRESS%</username><authentication>OAuth2</authentication>
    </incomingServer>
    <incomingServer type="pop3">
      <hostname>pop.example.org</hostname><port>110</port><socketType>STARTTLS</socketType>
      <username>%EMAILADDRESS%</username><authentication>password-encrypted</authentication>
    </incomingServer>
    <incomingServer type="pop3">
      <hostname>pop.example.org</hostname><port>995</port><socketType>SSL</socketType>
      <username>%EMAILADDRESS%</username><authentication>password-cleartext</authentication>
    </incomingServer>"#);
        let servers = parse(&text, &alice()).unwrap();
        let summary: Vec<_> = servers
            .iter()
            .map(|s| (s.port, s.security, s.auth))
            .collect();
        assert_eq!(
            summary,
            vec![
                (995, Security::Tls, Auth::Password),
                (995, Security::Tls, Auth::Oauth2),
                (110, Security::Starttls, Auth::PasswordEncrypted),
                (110, Security::Plain, Auth::Password),
            ]
        );
        assert_eq!(servers[0].user.as_deref(), Some("alice@example.org"));
    }

    #[test]
    fn an_unknown_placeholder_leaves_the_user_to_the_caller() {
        let text = doc(r#"<incomingServer type="pop3">
      <hostname>pop.example.org</hostname><socketType>STARTTLS</socketType>
      <username>%REALNAME%</username></incomingServer>"#);
        let s = &parse(&text, &alice()).unwrap()[0];
        assert_eq!((s.port, s.user.as_deref()), (110, None));
    }

    #[test]
    fn documents_that_cannot_be_used_say_why() {
        let cases = [
            (
                "<clientConfig><emailProvider>",
                "not a valid autoconfig document",
            ),
            (
                "<html><body>Not found</body></html>",
                "not an autoconfig document",
            ),
            (
                &doc(
                    r#"<incomingServer type="imap"><hostname>imap.example.org</hostname>
                  <socketType>SSL</socketType></incomingServer>"#,
                ),
                "no POP3 server",
            ),
            (
                &doc(
                    r#"<incomingServer type="pop3"><hostname>pop.example.org</hostname>
                  <socketType>SSL</socketType><authentication>NTLM</authentication></incomingServer>"#,
                ),
                "NTLM",
            ),
            (
                &doc(
                    r#"<incomingServer type="pop3"><hostname>pop.example.org; rm -rf</hostname>
                  <socketType>SSL</socketType></incomingServer>"#,
                ),
                "not a host name",
            ),
            (
                &doc(
                    r#"<incomingServer type="pop3"><hostname>pop.example.org</hostname>
                  <port>99999</port><socketType>SSL</socketType></incomingServer>"#,
                ),
                "not a port",
            ),
            (
                r#"<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">]><clientConfig/>"#,
                "not a valid autoconfig document",
            ),
        ];
        for (text, expected) in cases {
            let err = parse(text, &alice()).unwrap_err();
            assert!(err.contains(expected), "{expected:?} not in {err:?}");
        }
    }
}
