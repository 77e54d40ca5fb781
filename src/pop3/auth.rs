//! Credentials on the wire: APOP (RFC 1939 §7) and the SASL mechanisms of
//! RFC 5034: PLAIN (RFC 4616), CRAM-MD5 (RFC 2195), SCRAM-SHA-256 (RFC 7677),
//! and the OAuth2 bearer-token ones, XOAUTH2 (Google's, also Microsoft's)
//! and OAUTHBEARER (RFC 7628), whose "password" is an access token.
//! Pure computation: the session in `net` sends what these produce.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use md5::{Digest as _, Md5};
use ring::{digest, hmac, pbkdf2, rand::SecureRandom as _};

/// SASL mechanisms Pipit speaks: those for a password weakest first, then
/// those for an OAuth2 access token.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Mechanism {
    Plain,
    CramMd5,
    ScramSha256,
    /// `user=…^Aauth=Bearer token^A^A`: Google's and Microsoft's.
    XOAuth2,
    /// RFC 7628: a GS2 header, the server's host and port, the token.
    OAuthBearer,
}

impl Mechanism {
    pub fn name(self) -> &'static str {
        match self {
            Mechanism::Plain => "PLAIN",
            Mechanism::CramMd5 => "CRAM-MD5",
            Mechanism::ScramSha256 => "SCRAM-SHA-256",
            Mechanism::XOAuth2 => "XOAUTH2",
            Mechanism::OAuthBearer => "OAUTHBEARER",
        }
    }

    /// Whether its secret is an OAuth2 access token (a bearer token: whoever
    /// holds it is let in), not a password.
    pub fn bearer(self) -> bool {
        matches!(self, Mechanism::XOAuth2 | Mechanism::OAuthBearer)
    }

    /// The strongest password mechanism both sides know, from the server's
    /// SASL list. Never a bearer-token mechanism: those need a token, which
    /// an account asks for by name.
    pub fn strongest(offered: &[String]) -> Option<Mechanism> {
        [Mechanism::ScramSha256, Mechanism::CramMd5, Mechanism::Plain]
            .into_iter()
            .find(|m| offered.iter().any(|o| o.eq_ignore_ascii_case(m.name())))
    }
}

/// The SASL exchange went wrong on the server's side.
#[derive(Clone, Debug, thiserror::Error, PartialEq, Eq)]
pub enum SaslError {
    #[error("the server's SASL challenge is not valid base64")]
    BadBase64,
    #[error("the server's SCRAM message is malformed: {0}")]
    BadScram(&'static str),
    #[error("the server could not prove it knows the password (SCRAM signature mismatch)")]
    ServerNotVerified,
    /// A success came before the exchange reached its end: for SCRAM, before
    /// the server proved it knows the password. Nothing is accepted then.
    #[error(
        "the server said the login succeeded without proving it knows the password ({0} exchange unfinished); \
Pipit does not trust it. If this is your server, check its setup, or use another --auth"
    )]
    Unfinished(&'static str),
    #[error("the server sent more SASL challenges than {0} needs")]
    TooManySteps(&'static str),
    /// The server sent an error for the access token, then +OK.
    #[error(
        "the server said it refused the access token, then that the login succeeded ({0}); \
Pipit does not trust it"
    )]
    Contradiction(&'static str),
}

/// One SASL exchange in progress.
pub struct SaslSession {
    mechanism: Mechanism,
    user: String,
    password: String,
    /// SCRAM's client nonce: randomness comes in from outside.
    nonce: String,
    scram: ScramState,
    /// The server's name and port, which OAUTHBEARER names.
    host: String,
    port: u16,
    bearer: BearerState,
}

/// Where an XOAUTH2 or OAUTHBEARER exchange stands. The token always goes
/// in a step of its own, after `AUTH mechanism` and the server's `+`: RFC
/// 5034 caps a command line at 255 octets, and tokens are longer.
#[derive(Clone, Debug, PartialEq, Eq)]
enum BearerState {
    /// `AUTH mechanism` sent; the server's empty `+` is awaited.
    Start,
    /// The token went in answer to it.
    Sent,
    /// The server answered the token with an error (RFC 7628 §3.2.2), with
    /// this status, and got the answer that ends the exchange; its -ERR
    /// follows.
    Refused { status: Option<String> },
}

enum ScramState {
    Start,
    /// Sent client-first with this nonce and bare message.
    SentFirst {
        nonce: String,
        first_bare: String,
    },
    /// Sent client-final; expecting the server's signature.
    SentFinal {
        server_signature: Vec<u8>,
    },
    /// The server's signature was right: the server knows the password.
    Verified,
    /// Over: refused, or already answered.
    Done,
}

impl SaslSession {
    /// An exchange; `nonce` is SCRAM's client nonce (see [`fresh_nonce`]).
    pub fn new(mechanism: Mechanism, user: &str, password: &str, nonce: &str) -> Self {
        SaslSession {
            mechanism,
            user: user.to_string(),
            password: password.to_string(),
            nonce: nonce.to_string(),
            scram: ScramState::Start,
            host: String::new(),
            port: 0,
            bearer: BearerState::Start,
        }
    }

    /// The server it is with: OAUTHBEARER's message names it.
    pub fn with_server(mut self, host: &str, port: u16) -> Self {
        self.host = host.to_string();
        self.port = port;
        self
    }

    /// Whether the secret (an access token) has been sent.
    pub fn token_sent(&self) -> bool {
        self.bearer != BearerState::Start
    }

    /// The status in the server's error for the access token (XOAUTH2,
    /// OAUTHBEARER), cleaned to letters, digits and a little punctuation:
    /// `Some(None)` when the error had none; `None` when no error came.
    pub fn token_status(&self) -> Option<Option<&str>> {
        match &self.bearer {
            BearerState::Refused { status } => Some(status.as_deref()),
            _ => None,
        }
    }

    /// The initial response sent with `AUTH mechanism`, base64, if the
    /// mechanism starts on the client's side.
    pub fn initial_response(&mut self) -> Option<String> {
        match self.mechanism {
            Mechanism::Plain => Some(B64.encode(format!("\0{}\0{}", self.user, self.password))),
            Mechanism::CramMd5 => None,
            // Never on the AUTH line: see `BearerState`.
            Mechanism::XOAuth2 | Mechanism::OAuthBearer => None,
            Mechanism::ScramSha256 => {
                let nonce = self.nonce.clone();
                let first_bare = format!("n={},r={nonce}", scram_name(&self.user));
                let out = B64.encode(format!("n,,{first_bare}"));
                self.scram = ScramState::SentFirst { nonce, first_bare };
                Some(out)
            }
        }
    }

    /// Answers one `+ challenge` line (base64); returns the base64 answer.
    pub fn respond(&mut self, challenge: &str) -> Result<String, SaslError> {
        let challenge = B64
            .decode(challenge.trim())
            .map_err(|_| SaslError::BadBase64)?;
        match self.mechanism {
            Mechanism::Plain => {
                // A server that ignored the initial response asks with an empty challenge.
                if challenge.is_empty() {
                    Ok(self.initial_response().unwrap_or_default())
                } else {
                    Err(SaslError::TooManySteps("PLAIN"))
                }
            }
            Mechanism::CramMd5 => {
                let mac = hmac_md5(self.password.as_bytes(), &challenge);
                Ok(B64.encode(format!("{} {}", self.user, hex(&mac))))
            }
            Mechanism::ScramSha256 => self.scram_step(&challenge),
            Mechanism::XOAuth2 | Mechanism::OAuthBearer => self.bearer_step(&challenge),
        }
    }

    fn bearer_step(&mut self, challenge: &[u8]) -> Result<String, SaslError> {
        match &self.bearer {
            // The server's go-ahead (empty for any server that follows the
            // RFCs; whatever it says, it cannot be about a token not sent).
            BearerState::Start => {
                self.bearer = BearerState::Sent;
                Ok(B64.encode(self.bearer_message()))
            }
            // A challenge after the token is the server's error (a JSON
            // object); the client's answer ends the exchange, and -ERR follows.
            BearerState::Sent => {
                self.bearer = BearerState::Refused {
                    status: error_status(challenge),
                };
                Ok(match self.mechanism {
                    // XOAUTH2: an empty line. OAUTHBEARER: %x01 (RFC 7628 §3.2.3).
                    Mechanism::OAuthBearer => B64.encode([1u8]),
                    _ => String::new(),
                })
            }
            BearerState::Refused { .. } => Err(SaslError::TooManySteps(self.mechanism.name())),
        }
    }

    /// The client's message carrying the token, before base64.
    fn bearer_message(&self) -> String {
        let (user, token) = (&self.user, &self.password);
        match self.mechanism {
            Mechanism::OAuthBearer => format!(
                "n,a={},\x01host={}\x01port={}\x01auth=Bearer {token}\x01\x01",
                scram_name(user),
                self.host,
                self.port
            ),
            _ => format!("user={user}\x01auth=Bearer {token}\x01\x01"),
        }
    }

    fn scram_step(&mut self, challenge: &[u8]) -> Result<String, SaslError> {
        let text = std::str::from_utf8(challenge).map_err(|_| SaslError::BadScram("not UTF-8"))?;
        match std::mem::replace(&mut self.scram, ScramState::Done) {
            ScramState::Start => Err(SaslError::BadScram(
                "challenge before the client's first message",
            )),
            ScramState::SentFirst { nonce, first_bare } => {
                let server_nonce = scram_attr(text, 'r').ok_or(SaslError::BadScram("no nonce"))?;
                if !server_nonce.starts_with(&nonce) || server_nonce.len() == nonce.len() {
                    return Err(SaslError::BadScram("the nonce does not extend ours"));
                }
                let salt = B64
                    .decode(scram_attr(text, 's').ok_or(SaslError::BadScram("no salt"))?)
                    .map_err(|_| SaslError::BadScram("salt is not base64"))?;
                let iterations: u32 = scram_attr(text, 'i')
                    .and_then(|i| i.parse().ok())
                    .filter(|&i| (1..=10_000_000).contains(&i))
                    .ok_or(SaslError::BadScram(
                        "iteration count missing or out of range",
                    ))?;
                let mut salted = [0u8; 32];
                pbkdf2::derive(
                    pbkdf2::PBKDF2_HMAC_SHA256,
                    std::num::NonZeroU32::new(iterations).expect("checked above"),
                    &salt,
                    self.password.as_bytes(),
                    &mut salted,
                );
                let client_key = hmac_sha256(&salted, b"Client Key");
                let stored_key = digest::digest(&digest::SHA256, &client_key);
                let without_proof = format!("c=biws,r={server_nonce}");
                let auth_message = format!("{first_bare},{text},{without_proof}");
                let signature = hmac_sha256(stored_key.as_ref(), auth_message.as_bytes());
                let proof: Vec<u8> = client_key
                    .iter()
                    .zip(&signature)
                    .map(|(a, b)| a ^ b)
                    .collect();
                let server_key = hmac_sha256(&salted, b"Server Key");
                self.scram = ScramState::SentFinal {
                    server_signature: hmac_sha256(&server_key, auth_message.as_bytes()),
                };
                Ok(B64.encode(format!("{without_proof},p={}", B64.encode(proof))))
            }
            ScramState::SentFinal { server_signature } => {
                if let Some(e) = scram_attr(text, 'e') {
                    let _ = e; // the server refused; its -ERR follows our empty answer
                    return Ok(String::new());
                }
                let v = scram_attr(text, 'v').ok_or(SaslError::BadScram("no server signature"))?;
                if B64.decode(v).ok().as_deref() != Some(server_signature.as_slice()) {
                    return Err(SaslError::ServerNotVerified);
                }
                self.scram = ScramState::Verified;
                Ok(String::new())
            }
            ScramState::Verified | ScramState::Done => {
                Err(SaslError::TooManySteps("SCRAM-SHA-256"))
            }
        }
    }

    /// Whether the client has said all it has to say: the server's next
    /// reply should end the exchange (+OK or -ERR), so commands may be
    /// pipelined behind. Never for the bearer-token mechanisms, whose
    /// refusal comes as one more challenge.
    pub fn complete(&self) -> bool {
        match self.mechanism {
            Mechanism::Plain => true,
            Mechanism::CramMd5 => false,
            Mechanism::ScramSha256 => matches!(self.scram, ScramState::Verified),
            Mechanism::XOAuth2 | Mechanism::OAuthBearer => false,
        }
    }

    /// Whether a `+OK` now ends the exchange well: every mechanism whose last
    /// step is the server's must have taken it (SCRAM: the server's signature
    /// checked). Call on `+OK`; an error means the login must fail.
    pub fn succeeded(&self) -> Result<(), SaslError> {
        match (self.mechanism, &self.scram) {
            (Mechanism::Plain | Mechanism::CramMd5, _) => Ok(()),
            (Mechanism::ScramSha256, ScramState::Verified) => Ok(()),
            (Mechanism::ScramSha256, _) => Err(SaslError::Unfinished("SCRAM-SHA-256")),
            (m @ (Mechanism::XOAuth2 | Mechanism::OAuthBearer), _) => match self.bearer {
                BearerState::Sent => Ok(()),
                BearerState::Start => Err(SaslError::Unfinished(m.name())),
                BearerState::Refused { .. } => Err(SaslError::Contradiction(m.name())),
            },
        }
    }
}

/// The `status` of a server's error for an access token (RFC 7628 §3.2.2:
/// a JSON object; Google and Dovecot send one for XOAUTH2 too), as far as it
/// is safe to show: letters, digits and `-._:/ `, at most 64 of them.
fn error_status(challenge: &[u8]) -> Option<String> {
    let json: serde_json::Value = serde_json::from_slice(challenge).ok()?;
    let status = match json.get("status")? {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        _ => return None,
    };
    let clean: String = status
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || "-._:/ ".contains(*c))
        .take(64)
        .collect();
    let clean = clean.trim();
    (!clean.is_empty()).then(|| clean.to_string())
}

/// The APOP digest: lower-case hex MD5 of the greeting's timestamp and the password.
pub fn apop_digest(timestamp: &str, password: &str) -> String {
    let mut md5 = Md5::new();
    md5.update(timestamp.as_bytes());
    md5.update(password.as_bytes());
    hex(&md5.finalize())
}

/// The `<...@...>` timestamp in a greeting, which APOP needs.
pub fn greeting_timestamp(greeting: &str) -> Option<&str> {
    let start = greeting.find('<')?;
    let end = start + greeting[start..].find('>')?;
    let stamp = &greeting[start..=end];
    stamp.contains('@').then_some(stamp)
}

fn hmac_md5(key: &[u8], message: &[u8]) -> [u8; 16] {
    // RFC 2104 with a 64-byte block.
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..16].copy_from_slice(&Md5::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Md5::new();
    inner.update(block.map(|b| b ^ 0x36));
    inner.update(message);
    let mut outer = Md5::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> Vec<u8> {
    hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), message)
        .as_ref()
        .to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A SCRAM client nonce from the operating system's random source.
pub fn fresh_nonce() -> String {
    let mut bytes = [0u8; 18];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .expect("the operating system's random source failed");
    B64.encode(bytes)
}

/// RFC 5802 §5.1 (and RFC 5801's GS2 header, for OAUTHBEARER): ',' and '='
/// in a user name are escaped.
fn scram_name(user: &str) -> String {
    user.replace('=', "=3D").replace(',', "=2C")
}

fn scram_attr(message: &str, name: char) -> Option<&str> {
    message.split(',').find_map(|part| {
        let mut chars = part.chars();
        (chars.next() == Some(name) && chars.next() == Some('=')).then(|| &part[2..])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apop_digest_matches_rfc_1939_example() {
        let stamp =
            greeting_timestamp("+OK POP3 server ready <1896.697170952@dbc.mtview.ca.us>").unwrap();
        assert_eq!(stamp, "<1896.697170952@dbc.mtview.ca.us>");
        assert_eq!(
            apop_digest(stamp, "tanstaaf"),
            "c4c9334bac560ecc979e58001b3e22fb"
        );
        assert_eq!(greeting_timestamp("+OK ready"), None);
    }

    #[test]
    fn cram_md5_matches_rfc_2195_example() {
        let mut s = SaslSession::new(Mechanism::CramMd5, "tim", "tanstaaftanstaaf", "n");
        assert_eq!(s.initial_response(), None);
        let answer = s
            .respond(&B64.encode("<1896.697170952@postoffice.reston.mci.net>"))
            .unwrap();
        assert_eq!(
            B64.decode(answer).unwrap(),
            b"tim b913a602c7eda7a495b4e6e7334d3890"
        );
    }

    #[test]
    fn plain_initial_response() {
        let mut s = SaslSession::new(Mechanism::Plain, "alice", "pw", "n");
        assert_eq!(
            B64.decode(s.initial_response().unwrap()).unwrap(),
            b"\0alice\0pw"
        );
    }

    #[test]
    fn strongest_offered_mechanism_wins() {
        let offered = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            Mechanism::strongest(&offered(&["PLAIN", "LOGIN", "CRAM-MD5", "SCRAM-SHA-256"])),
            Some(Mechanism::ScramSha256)
        );
        assert_eq!(
            Mechanism::strongest(&offered(&["plain", "cram-md5"])),
            Some(Mechanism::CramMd5)
        );
        assert_eq!(Mechanism::strongest(&offered(&["LOGIN", "GSSAPI"])), None);
    }

    /// RFC 7677 §3's example, with its client nonce put in place of a random one.
    #[test]
    fn scram_sha_256_matches_rfc_7677_example() {
        let mut s = SaslSession::new(
            Mechanism::ScramSha256,
            "user",
            "pencil",
            "rOprNGfwEbeRWgbNEkqO",
        );
        assert_eq!(
            B64.decode(s.initial_response().unwrap()).unwrap(),
            b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
        );
        let server_first = "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096";
        let final_msg = B64
            .decode(s.respond(&B64.encode(server_first)).unwrap())
            .unwrap();
        assert_eq!(
            String::from_utf8(final_msg).unwrap(),
            "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ="
        );
        assert_eq!(s.succeeded(), Err(SaslError::Unfinished("SCRAM-SHA-256")));
        assert_eq!(
            s.respond(&B64.encode("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="))
                .unwrap(),
            ""
        );
        assert_eq!(s.succeeded(), Ok(()), "verified: a +OK now ends it well");
    }

    #[test]
    fn a_success_before_the_server_proves_itself_is_refused() {
        let mut s = SaslSession::new(Mechanism::ScramSha256, "user", "pencil", "abc");
        assert!(s.succeeded().is_err(), "before anything");
        s.initial_response();
        assert!(s.succeeded().is_err(), "after client-first");
        let SaslSession {
            scram: ScramState::SentFirst { nonce, .. },
            ..
        } = &s
        else {
            panic!("client-first sent")
        };
        let server_first = format!("r={nonce}xyz,s=QUJD,i=4096");
        s.respond(&B64.encode(server_first)).unwrap();
        assert_eq!(
            s.succeeded(),
            Err(SaslError::Unfinished("SCRAM-SHA-256")),
            "after client-final, without the server's signature"
        );
        assert!(
            s.succeeded()
                .unwrap_err()
                .to_string()
                .contains("without proving"),
            "says what happened"
        );
        // Mechanisms that end on the client's side end with the server's +OK.
        assert_eq!(
            SaslSession::new(Mechanism::Plain, "a", "b", "n").succeeded(),
            Ok(())
        );
        assert_eq!(
            SaslSession::new(Mechanism::CramMd5, "a", "b", "n").succeeded(),
            Ok(())
        );
    }

    /// RFC 7628 §4.1's example, and the one in Google's XOAUTH2 document.
    #[test]
    fn bearer_messages_match_the_published_examples() {
        let mut s = SaslSession::new(
            Mechanism::OAuthBearer,
            "user@example.com",
            "vF9dft4qmTc2Nvb3RlckBhbHRhdmlzdGEuY29tCg==",
            "n",
        )
        .with_server("server.example.com", 143);
        assert_eq!(s.initial_response(), None, "never on the AUTH line");
        assert!(!s.token_sent());
        assert_eq!(
            s.respond("").unwrap(),
            "bixhPXVzZXJAZXhhbXBsZS5jb20sAWhvc3Q9c2VydmVyLmV4YW1wbGUuY29tAXBvcnQ9MTQzAWF1dGg9QmVhcmVyIHZGOWRmdDRxbVRjMk52YjNSbGNrQmhiSFJoZG1semRHRXVZMjl0Q2c9PQEB"
        );
        assert!(s.token_sent());
        assert_eq!(s.succeeded(), Ok(()));

        let mut s = SaslSession::new(
            Mechanism::XOAuth2,
            "someuser@example.com",
            "ya29.vF9dft4qmTc2Nvb3RlckBhdHRhdmlzdGEuY29tCg",
            "n",
        );
        assert_eq!(s.initial_response(), None);
        assert_eq!(
            s.respond("").unwrap(),
            "dXNlcj1zb21ldXNlckBleGFtcGxlLmNvbQFhdXRoPUJlYXJlciB5YTI5LnZGOWRmdDRxbVRjMk52YjNSbGNrQmhkSFJoZG1semRHRXVZMjl0Q2cBAQ=="
        );
    }

    #[test]
    fn oauthbearer_escapes_commas_and_equals_in_the_user_name() {
        let mut s = SaslSession::new(Mechanism::OAuthBearer, "a,b=c", "tok", "n")
            .with_server("pop.example.org", 995);
        let message = B64.decode(s.respond("").unwrap()).unwrap();
        assert_eq!(
            message,
            b"n,a=a=2Cb=3Dc,\x01host=pop.example.org\x01port=995\x01auth=Bearer tok\x01\x01"
        );
    }

    #[test]
    fn a_refused_token_is_answered_as_each_mechanism_asks_and_its_status_kept() {
        let error = B64.encode(r#"{"status":"401","schemes":"bearer","scope":"mail"}"#);
        let mut s = SaslSession::new(Mechanism::XOAuth2, "alice", "tok", "n");
        s.respond("").unwrap();
        assert_eq!(s.token_status(), None, "no error yet");
        assert_eq!(s.respond(&error).unwrap(), "", "XOAUTH2: an empty line");
        assert_eq!(s.token_status(), Some(Some("401")));
        assert_eq!(
            s.succeeded(),
            Err(SaslError::Contradiction("XOAUTH2")),
            "a +OK after the error is not believed"
        );
        assert_eq!(
            s.respond(&error).unwrap_err(),
            SaslError::TooManySteps("XOAUTH2")
        );

        let mut s = SaslSession::new(Mechanism::OAuthBearer, "alice", "tok", "n");
        s.respond("").unwrap();
        let answer = s
            .respond(&B64.encode(r#"{"status":"invalid_token"}"#))
            .unwrap();
        assert_eq!(B64.decode(answer).unwrap(), [1u8], "OAUTHBEARER: %x01");
        assert_eq!(s.token_status(), Some(Some("invalid_token")));

        // A status is cleaned, and may be absent or a number.
        for (json, status) in [
            (r#"{"status":401}"#, Some("401")),
            (r#"{"schemes":"bearer"}"#, None),
            (r#"not json"#, None),
            (r#"{"status":"\u001b[2Jx\u202e<b>"}"#, Some("2Jxb")),
            (r#"{"status":"   "}"#, None),
        ] {
            let mut s = SaslSession::new(Mechanism::XOAuth2, "alice", "tok", "n");
            s.respond("").unwrap();
            s.respond(&B64.encode(json)).unwrap();
            assert_eq!(s.token_status(), Some(status), "{json}");
        }
        let long = format!(r#"{{"status":"{}"}}"#, "x".repeat(500));
        let mut s = SaslSession::new(Mechanism::XOAuth2, "alice", "tok", "n");
        s.respond("").unwrap();
        s.respond(&B64.encode(long)).unwrap();
        assert_eq!(s.token_status().flatten().map(str::len), Some(64));

        // Not base64: refused, whichever step.
        let mut s = SaslSession::new(Mechanism::XOAuth2, "alice", "tok", "n");
        assert_eq!(s.respond("!!").unwrap_err(), SaslError::BadBase64);
        assert!(!s.token_sent());
        // +OK before the token went proves nothing.
        assert_eq!(s.succeeded(), Err(SaslError::Unfinished("XOAUTH2")));
    }

    #[test]
    fn auto_never_picks_a_token_mechanism() {
        let offered = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            Mechanism::strongest(&offered(&["XOAUTH2", "OAUTHBEARER"])),
            None
        );
        assert_eq!(
            Mechanism::strongest(&offered(&["OAUTHBEARER", "XOAUTH2", "PLAIN"])),
            Some(Mechanism::Plain)
        );
        assert!(Mechanism::XOAuth2.bearer() && Mechanism::OAuthBearer.bearer());
        assert!(!Mechanism::ScramSha256.bearer());
    }

    #[test]
    fn scram_refuses_a_server_that_does_not_know_the_password() {
        let mut s = SaslSession::new(Mechanism::ScramSha256, "user", "pencil", "abc");
        s.scram = ScramState::SentFirst {
            nonce: "abc".into(),
            first_bare: "n=user,r=abc".into(),
        };
        s.respond(&B64.encode("r=abcdef,s=QUJD,i=4096")).unwrap();
        assert_eq!(
            s.respond(&B64.encode("v=AAAA")).unwrap_err(),
            SaslError::ServerNotVerified
        );
        let mut s = SaslSession::new(Mechanism::ScramSha256, "user", "pencil", "abc");
        s.scram = ScramState::SentFirst {
            nonce: "abc".into(),
            first_bare: "n=user,r=abc".into(),
        };
        assert!(s.respond(&B64.encode("r=xyz,s=QUJD,i=4096")).is_err());
    }
}
