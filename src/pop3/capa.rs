//! The capabilities a server lists in reply to CAPA (RFC 2449).

/// What the server says it can do. A server that does not know CAPA gets
/// `Capabilities::default()`: nothing assumed beyond RFC 1939's core.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Capabilities {
    pub top: bool,
    pub uidl: bool,
    pub user: bool,
    pub pipelining: bool,
    pub stls: bool,
    pub resp_codes: bool,
    pub auth_resp_code: bool,
    /// SASL mechanisms, upper case.
    pub sasl: Vec<String>,
    /// LOGIN-DELAY in seconds: the least time between two logins.
    pub login_delay: Option<u64>,
    /// EXPIRE: days the server keeps a message after it was retrieved;
    /// `Some(None)` is "NEVER".
    pub expire: Option<Option<u64>>,
    pub implementation: Option<String>,
}

impl Capabilities {
    /// Parses the body of a CAPA reply; unknown lines are ignored.
    pub fn parse(body: &[u8]) -> Capabilities {
        let mut caps = Capabilities::default();
        for line in String::from_utf8_lossy(body).lines() {
            let mut words = line.split_whitespace();
            let Some(name) = words.next() else { continue };
            let args: Vec<&str> = words.collect();
            match name.to_ascii_uppercase().as_str() {
                "TOP" => caps.top = true,
                "UIDL" => caps.uidl = true,
                "USER" => caps.user = true,
                "PIPELINING" => caps.pipelining = true,
                "STLS" => caps.stls = true,
                "RESP-CODES" => caps.resp_codes = true,
                "AUTH-RESP-CODE" => caps.auth_resp_code = true,
                "SASL" => caps.sasl = args.iter().map(|m| m.to_ascii_uppercase()).collect(),
                "LOGIN-DELAY" => caps.login_delay = args.first().and_then(|s| s.parse().ok()),
                "EXPIRE" => {
                    caps.expire = match args.first() {
                        Some(a) if a.eq_ignore_ascii_case("NEVER") => Some(None),
                        Some(a) => a.parse().ok().map(Some),
                        None => None,
                    }
                }
                "IMPLEMENTATION" => {
                    caps.implementation = Some(crate::reveal::field(&args.join(" ")).into_owned())
                }
                _ => {}
            }
        }
        caps
    }

    pub fn has_sasl(&self, mechanism: &str) -> bool {
        self.sasl.iter().any(|m| m.eq_ignore_ascii_case(mechanism))
    }

    /// The capabilities as CAPA lines (CRLF after each), which
    /// [`Capabilities::parse`] reads back to the same: how Pipit remembers
    /// a server's between sessions.
    pub fn lines(&self) -> String {
        let mut out = String::new();
        let mut line = |l: &str| {
            out.push_str(l);
            out.push_str("\r\n");
        };
        for (on, name) in [
            (self.top, "TOP"),
            (self.uidl, "UIDL"),
            (self.user, "USER"),
            (self.pipelining, "PIPELINING"),
            (self.stls, "STLS"),
            (self.resp_codes, "RESP-CODES"),
            (self.auth_resp_code, "AUTH-RESP-CODE"),
        ] {
            if on {
                line(name);
            }
        }
        if !self.sasl.is_empty() {
            line(&format!("SASL {}", self.sasl.join(" ")));
        }
        if let Some(delay) = self.login_delay {
            line(&format!("LOGIN-DELAY {delay}"));
        }
        match self.expire {
            Some(Some(days)) => line(&format!("EXPIRE {days}")),
            Some(None) => line("EXPIRE NEVER"),
            None => {}
        }
        if let Some(implementation) = &self.implementation {
            line(&format!("IMPLEMENTATION {implementation}"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dovecot_capa() {
        let caps = Capabilities::parse(
            b"CAPA\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\nSTLS\r\nUSER\r\n\
SASL PLAIN LOGIN cram-md5 SCRAM-SHA-256\r\nLOGIN-DELAY 900\r\nEXPIRE NEVER\r\nIMPLEMENTATION Dovecot 2\r\n",
        );
        assert!(caps.top && caps.uidl && caps.pipelining && caps.stls && caps.user);
        assert!(caps.resp_codes && caps.auth_resp_code);
        assert!(caps.has_sasl("CRAM-MD5") && caps.has_sasl("plain"));
        assert_eq!(caps.login_delay, Some(900));
        assert_eq!(caps.expire, Some(None));
        assert_eq!(caps.implementation.as_deref(), Some("Dovecot 2"));
    }

    #[test]
    fn capabilities_remembered_as_lines_read_back_the_same() {
        for body in [
            &b"TOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nAUTH-RESP-CODE\r\nSTLS\r\nUSER\r\n\
SASL PLAIN LOGIN cram-md5 SCRAM-SHA-256\r\nLOGIN-DELAY 900\r\nEXPIRE NEVER\r\nIMPLEMENTATION Dovecot 2\r\n"[..],
            b"EXPIRE 30\r\nSASL XOAUTH2\r\n",
            b"IMPLEMENTATION odd\x1b[31m name \xff\r\n",
            b"",
        ] {
            let caps = Capabilities::parse(body);
            assert_eq!(Capabilities::parse(caps.lines().as_bytes()), caps, "{caps:?}");
        }
    }

    #[test]
    fn a_minimal_server_offers_nothing_extra() {
        let caps = Capabilities::parse(b"USER\r\n");
        assert!(!caps.top && !caps.uidl && !caps.pipelining && !caps.stls);
        assert_eq!(
            Capabilities::parse(b"\xff\xfe garbage\r\n\r\n"),
            Capabilities::default()
        );
    }
}
