//! An OAuth2 authorization server on loopback, for the sign-in tests: RFC
//! 8414 metadata, the authorization endpoint (checks the client, PKCE S256
//! and the redirect, then sends the browser back with a code and the
//! state), the token endpoint (authorization code with the PKCE verifier,
//! refresh token, device code) and the device endpoint (RFC 8628: the first
//! poll is `authorization_pending`, the next `slow_down`, then tokens).

use std::collections::HashMap;
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

pub const CLIENT_ID: &str = "pipit-test-client";

/// How the authorization endpoint answers the browser.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Consent {
    Grant,
    /// The user pressed "No".
    Deny,
    /// The answer carries another state (a forged or crossed answer).
    WrongState,
}

#[derive(Default)]
struct State {
    consent: Option<Consent>,
    /// code → PKCE challenge
    codes: HashMap<String, String>,
    refresh_tokens: HashMap<String, bool>,
    device_polls: u32,
    /// What the token endpoint was asked, in order (grant types).
    asked: Vec<String>,
    issued: u32,
    /// How many times the browser was sent back to Pipit.
    redirects: u32,
    access_tokens: Vec<String>,
    expires_in: u64,
    problems: Vec<String>,
}

pub struct AuthServer {
    pub port: u16,
    state: Arc<Mutex<State>>,
}

type Mint = Arc<dyn Fn() -> String + Send + Sync>;

impl AuthServer {
    /// Starts the server; `mint` makes each access token it issues.
    pub fn start(mint: impl Fn() -> String + Send + Sync + 'static) -> AuthServer {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State {
            consent: Some(Consent::Grant),
            expires_in: 3600,
            ..State::default()
        }));
        let mint: Mint = Arc::new(mint);
        let shared = state.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (state, mint) = (shared.clone(), mint.clone());
                std::thread::spawn(move || serve(stream, port, &state, &mint));
            }
        });
        AuthServer { port, state }
    }

    pub fn issuer(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn set_consent(&self, consent: Consent) {
        self.state.lock().unwrap().consent = Some(consent);
    }

    /// Access tokens issued from now on expire after `secs`.
    pub fn set_expires_in(&self, secs: u64) {
        self.state.lock().unwrap().expires_in = secs;
    }

    /// Revokes every refresh token issued so far.
    pub fn revoke_all(&self) {
        for valid in self.state.lock().unwrap().refresh_tokens.values_mut() {
            *valid = false;
        }
    }

    /// The grant types the token endpoint was asked for, in order.
    pub fn asked(&self) -> Vec<String> {
        self.state.lock().unwrap().asked.clone()
    }

    /// How many times the authorization endpoint sent the browser back.
    pub fn redirects(&self) -> u32 {
        self.state.lock().unwrap().redirects
    }

    pub fn device_polls(&self) -> u32 {
        self.state.lock().unwrap().device_polls
    }

    /// What the server found wrong in Pipit's requests.
    pub fn problems(&self) -> Vec<String> {
        self.state.lock().unwrap().problems.clone()
    }

    /// Every token it issued, refresh and access.
    pub fn tokens(&self) -> Vec<String> {
        let s = self.state.lock().unwrap();
        s.refresh_tokens
            .keys()
            .chain(&s.access_tokens)
            .cloned()
            .collect()
    }
}

fn random() -> String {
    let mut bytes = [0u8; 18];
    ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut bytes).unwrap();
    URL_SAFE_NO_PAD.encode(bytes)
}

fn form(text: &str) -> HashMap<String, String> {
    oauth2::url::form_urlencoded::parse(text.as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn serve(stream: TcpStream, port: u16, state: &Mutex<State>, mint: &Mint) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let mut length = 0;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).unwrap_or(0) == 0 || header == "\r\n" {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().unwrap_or(0);
        }
    }
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    let mut words = line.split(' ');
    let (method, target) = (words.next().unwrap_or(""), words.next().unwrap_or(""));
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let issuer = format!("http://127.0.0.1:{port}");
    let (status, headers, body) = match (method, path) {
        ("GET", "/.well-known/oauth-authorization-server") => json(
            200,
            serde_json::json!({
                "issuer": issuer,
                "authorization_endpoint": format!("{issuer}/authorize"),
                "token_endpoint": format!("{issuer}/token"),
                "device_authorization_endpoint": format!("{issuer}/device"),
                "scopes_supported": ["pop3", "offline_access"],
                "code_challenge_methods_supported": ["S256"],
            }),
        ),
        ("GET", "/authorize") => authorize(&form(query), state),
        ("POST", "/token") => token(&form(&String::from_utf8_lossy(&body)), state, mint),
        ("POST", "/device") => json(
            200,
            serde_json::json!({
                "device_code": "dev-code-1",
                "user_code": "WDJB-MJHT",
                "verification_uri": format!("{issuer}/activate"),
                "expires_in": 600,
                "interval": 1,
            }),
        ),
        _ => (404, Vec::new(), b"not found".to_vec()),
    };
    let mut stream = stream;
    let mut head = format!(
        "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&body);
}

type Answer = (u16, Vec<(String, String)>, Vec<u8>);

fn json(status: u16, value: serde_json::Value) -> Answer {
    (
        status,
        vec![("Content-Type".into(), "application/json".into())],
        value.to_string().into_bytes(),
    )
}

fn authorize(q: &HashMap<String, String>, state: &Mutex<State>) -> Answer {
    let mut s = state.lock().unwrap();
    let redirect = q.get("redirect_uri").cloned().unwrap_or_default();
    let mut problems = Vec::new();
    if q.get("client_id").map(String::as_str) != Some(CLIENT_ID) {
        problems.push(format!("authorize: client_id {:?}", q.get("client_id")));
    }
    if q.get("response_type").map(String::as_str) != Some("code") {
        problems.push("authorize: response_type is not code".into());
    }
    if q.get("code_challenge_method").map(String::as_str) != Some("S256") {
        problems.push("authorize: no PKCE S256".into());
    }
    if !redirect.starts_with("http://127.0.0.1:") {
        problems.push(format!("authorize: redirect {redirect:?} is not loopback"));
    }
    if q.get("state").is_none_or(|s| s.len() < 16) {
        problems.push("authorize: no state, or a guessable one".into());
    }
    if !problems.is_empty() {
        s.problems.extend(problems);
        return (400, Vec::new(), b"bad request".to_vec());
    }
    s.redirects += 1;
    let state_said = q["state"].clone();
    let location = match s.consent.unwrap_or(Consent::Grant) {
        Consent::Grant | Consent::WrongState => {
            let code = random();
            s.codes.insert(
                code.clone(),
                q.get("code_challenge").cloned().unwrap_or_default(),
            );
            let state = if s.consent == Some(Consent::WrongState) {
                "forged-state-0123456789".to_string()
            } else {
                state_said
            };
            format!("{redirect}?code={code}&state={state}")
        }
        Consent::Deny => format!(
            "{redirect}?error=access_denied&error_description=The+user+said+no&state={state_said}"
        ),
    };
    (302, vec![("Location".into(), location)], Vec::new())
}

fn token(f: &HashMap<String, String>, state: &Mutex<State>, mint: &Mint) -> Answer {
    let mut s = state.lock().unwrap();
    let grant = f.get("grant_type").cloned().unwrap_or_default();
    s.asked.push(grant.clone());
    let invalid = |what: &str| {
        json(
            400,
            serde_json::json!({"error": "invalid_grant", "error_description": what}),
        )
    };
    if f.get("client_id").map(String::as_str) != Some(CLIENT_ID) {
        s.problems
            .push(format!("token: client_id {:?}", f.get("client_id")));
        return json(401, serde_json::json!({"error": "invalid_client"}));
    }
    match grant.as_str() {
        "authorization_code" => {
            let code = f.get("code").cloned().unwrap_or_default();
            let Some(challenge) = s.codes.remove(&code) else {
                return invalid("unknown or used code");
            };
            let verifier = f.get("code_verifier").cloned().unwrap_or_default();
            let digest = ring::digest::digest(&ring::digest::SHA256, verifier.as_bytes());
            if URL_SAFE_NO_PAD.encode(digest.as_ref()) != challenge {
                s.problems
                    .push("token: the PKCE verifier does not match".into());
                return invalid("PKCE verification failed");
            }
        }
        "refresh_token" => {
            let token = f.get("refresh_token").cloned().unwrap_or_default();
            if s.refresh_tokens.get(&token) != Some(&true) {
                return invalid("The refresh token was revoked");
            }
        }
        "urn:ietf:params:oauth:grant-type:device_code" => {
            s.device_polls += 1;
            match s.device_polls {
                1 => return json(400, serde_json::json!({"error": "authorization_pending"})),
                2 => return json(400, serde_json::json!({"error": "slow_down"})),
                _ => {}
            }
        }
        other => {
            s.problems.push(format!("token: grant type {other:?}"));
            return json(400, serde_json::json!({"error": "unsupported_grant_type"}));
        }
    }
    s.issued += 1;
    let refresh = random();
    s.refresh_tokens.insert(refresh.clone(), true);
    let access = mint();
    s.access_tokens.push(access.clone());
    json(
        200,
        serde_json::json!({
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": s.expires_in,
            "refresh_token": refresh,
        }),
    )
}
