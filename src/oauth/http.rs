//! The HTTP client every sign-in request goes through: ureq over rustls,
//! HTTPS only (plain HTTP only to this computer, where nothing crosses a
//! network), no redirects (a token request must reach the endpoint it
//! names), short timeouts, bounded answers, and a cancel that a waiting user
//! can press.

use std::io::Read as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use oauth2::{HttpRequest, HttpResponse};

use super::SignInError;

/// The most an authorization server's answer may be: metadata and tokens
/// are a few KiB.
const MAX_ANSWER: u64 = 1024 * 1024;

/// One client; cheap to clone.
#[derive(Clone)]
pub struct Http {
    agent: ureq::Agent,
    cancel: Arc<AtomicBool>,
}

/// Why a request got no answer (the server's own errors are answers).
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("{0}")]
    Insecure(String),
    #[error("{0}")]
    Transport(String),
    #[error("cancelled")]
    Cancelled,
}

impl Http {
    pub fn new(cancel: Arc<AtomicBool>) -> Http {
        let agent = ureq::AgentBuilder::new()
            .timeout_connect(Duration::from_secs(10))
            .timeout_read(Duration::from_secs(30))
            .timeout_write(Duration::from_secs(30))
            // A whole request, however slowly its answer trickles in.
            .timeout(Duration::from_secs(60))
            .redirects(0)
            .user_agent(concat!("Pipit/", env!("CARGO_PKG_VERSION")))
            .build();
        Http { agent, cancel }
    }

    pub fn cancelled(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// GET `url` for JSON: its body, or why not.
    pub fn get_json(&self, url: &str) -> Result<serde_json::Value, SignInError> {
        let request = oauth2::http::Request::get(url)
            .header("Accept", "application/json")
            .body(Vec::new())
            .map_err(|e| SignInError::Unreachable {
                url: url.into(),
                cause: e.to_string(),
            })?;
        let answer = oauth2::SyncHttpClient::call(self, request).map_err(|e| match e {
            HttpError::Insecure(_) => SignInError::NotHttps { url: url.into() },
            HttpError::Cancelled => SignInError::Cancelled,
            HttpError::Transport(cause) => SignInError::Unreachable {
                url: url.into(),
                cause,
            },
        })?;
        if !answer.status().is_success() {
            return Err(SignInError::Metadata {
                url: url.into(),
                problem: format!("the server answered HTTP {}", answer.status()),
            });
        }
        serde_json::from_slice(answer.body()).map_err(|e| SignInError::Metadata {
            url: url.into(),
            problem: format!("not JSON: {e}"),
        })
    }
}

/// Whether requests to `url` may go out: HTTPS anywhere, HTTP only to a
/// loopback address.
pub fn allowed(url: &oauth2::url::Url) -> bool {
    match url.scheme() {
        "https" => true,
        "http" => match url.host() {
            Some(oauth2::url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(oauth2::url::Host::Ipv6(ip)) => ip.is_loopback(),
            Some(oauth2::url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            None => false,
        },
        _ => false,
    }
}

/// Checks a URL the sign-in will send to.
pub fn checked(url: &str) -> Result<oauth2::url::Url, SignInError> {
    let parsed = oauth2::url::Url::parse(url).map_err(|e| SignInError::Metadata {
        url: url.into(),
        problem: format!("not an address: {e}"),
    })?;
    if allowed(&parsed) {
        Ok(parsed)
    } else {
        Err(SignInError::NotHttps { url: url.into() })
    }
}

impl oauth2::SyncHttpClient for Http {
    type Error = HttpError;

    fn call(&self, request: HttpRequest) -> Result<HttpResponse, HttpError> {
        if self.cancelled() {
            return Err(HttpError::Cancelled);
        }
        let uri = request.uri().to_string();
        let url = oauth2::url::Url::parse(&uri).map_err(|e| HttpError::Transport(e.to_string()))?;
        if !allowed(&url) {
            return Err(HttpError::Insecure(uri));
        }
        let mut call = self.agent.request(request.method().as_str(), &uri);
        for (name, value) in request.headers() {
            let value = value
                .to_str()
                .map_err(|_| HttpError::Transport(format!("header {name} is not text")))?;
            call = call.set(name.as_str(), value);
        }
        let sent = if request.body().is_empty() {
            call.call()
        } else {
            call.send_bytes(request.body())
        };
        // ureq calls a 4xx an error; OAuth2 puts its errors in 4xx bodies.
        let response = match sent {
            Ok(r) | Err(ureq::Error::Status(_, r)) => r,
            Err(ureq::Error::Transport(t)) => return Err(HttpError::Transport(t.to_string())),
        };
        let mut answer = oauth2::http::Response::builder().status(response.status());
        if let Some(kind) = response.header("Content-Type") {
            answer = answer.header("Content-Type", kind);
        }
        let mut body = Vec::new();
        response
            .into_reader()
            .take(MAX_ANSWER + 1)
            .read_to_end(&mut body)
            .map_err(|e| HttpError::Transport(e.to_string()))?;
        if body.len() as u64 > MAX_ANSWER {
            return Err(HttpError::Transport(format!(
                "the answer is larger than {} KiB",
                MAX_ANSWER / 1024
            )));
        }
        answer
            .body(body)
            .map_err(|e| HttpError::Transport(e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_https_or_this_computer() {
        for (url, ok) in [
            ("https://login.example.org/token", true),
            ("http://127.0.0.1:8080/token", true),
            ("http://[::1]:8080/token", true),
            ("http://localhost/token", true),
            ("http://login.example.org/token", false),
            ("http://127.0.0.1.evil.example/token", false),
            ("ftp://127.0.0.1/token", false),
        ] {
            assert_eq!(checked(url).is_ok(), ok, "{url}");
        }
    }
}
