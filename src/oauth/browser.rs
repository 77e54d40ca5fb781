//! Signing in in the system browser: the authorization code flow with PKCE
//! (S256) and a `state`, answered on a loopback address with a port the OS
//! chooses (RFC 8252). The browser's answer is one HTTP request to that
//! address; reading it needs only its first line.

use std::io::{Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use oauth2::basic::BasicClient;
use oauth2::url::form_urlencoded;
use oauth2::{
    AuthUrl, AuthorizationCode, CsrfToken, PkceCodeChallenge, RedirectUrl, Scope, TokenUrl,
};

use super::grant::{Grant, token_error};
use super::http::{Http, checked};
use super::{Endpoints, SignInError};
use crate::config::Account;

/// How long the browser may take: signing in with two factors takes minutes.
pub const WAIT: Duration = Duration::from_secs(10 * 60);

/// The most of the browser's request that is read: its first line is enough.
const MAX_REQUEST: usize = 16 * 1024;

/// How long one connection may take to send its request: a browser sends
/// it at once; a connection that dribbles is dropped, so it cannot hold the
/// only listener (nor a Cancel) for long.
const REQUEST_TIME: Duration = Duration::from_secs(3);

/// What the browser's request to the loopback address says.
#[derive(Debug, PartialEq, Eq)]
pub enum Redirect {
    /// The authorization server sent a code.
    Code { code: String, state: String },
    /// It refused (`access_denied` when the user declined).
    Error {
        error: String,
        description: String,
        state: String,
    },
    /// Something else (a favicon, a stray request): not the answer.
    Other,
}

/// Reads the first line of an HTTP request: `GET /?code=…&state=… HTTP/1.1`.
pub fn parse_redirect(head: &str) -> Redirect {
    let line = head.lines().next().unwrap_or_default();
    let mut words = line.split(' ');
    let (Some("GET"), Some(target)) = (words.next(), words.next()) else {
        return Redirect::Other;
    };
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if path != "/" {
        return Redirect::Other;
    }
    let mut code = None;
    let mut state = String::new();
    let mut error = None;
    let mut description = String::new();
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        match &*key {
            "code" => code = Some(value.into_owned()),
            "state" => state = value.into_owned(),
            "error" => error = Some(value.into_owned()),
            "error_description" => description = value.into_owned(),
            _ => {}
        }
    }
    match (code, error) {
        (_, Some(error)) => Redirect::Error {
            error,
            description,
            state,
        },
        (Some(code), None) => Redirect::Code { code, state },
        (None, None) => Redirect::Other,
    }
}

/// Signs in: shows the authorization address (`show` opens the browser and
/// says so), waits for the answer on the loopback address until `cancel`
/// or [`WAIT`], and trades the code for tokens.
pub fn sign_in(
    endpoints: &Endpoints,
    client: (oauth2::ClientId, Option<oauth2::ClientSecret>),
    account: &Account,
    show: &mut dyn FnMut(&str),
    cancel: Arc<AtomicBool>,
    wait: Duration,
) -> Result<Grant, SignInError> {
    let authorize = endpoints.authorize.as_deref().ok_or_else(|| SignInError::Metadata {
        url: endpoints.token.clone(),
        problem: "the server offers no sign-in in a browser (no authorization endpoint): use --device".into(),
    })?;
    let listener =
        TcpListener::bind(("127.0.0.1", 0)).map_err(|e| SignInError::Listen(e.to_string()))?;
    let port = listener
        .local_addr()
        .map_err(|e| SignInError::Listen(e.to_string()))?
        .port();
    listener
        .set_nonblocking(true)
        .map_err(|e| SignInError::Listen(e.to_string()))?;
    let redirect = format!("http://127.0.0.1:{port}/");
    let (id, secret) = client;
    let mut client = BasicClient::new(id)
        .set_auth_uri(AuthUrl::from_url(checked(authorize)?))
        .set_token_uri(TokenUrl::from_url(checked(&endpoints.token)?))
        .set_redirect_uri(RedirectUrl::new(redirect).expect("a loopback address is a URL"));
    if let Some(secret) = secret {
        client = client.set_client_secret(secret);
    }
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client
        .authorize_url(CsrfToken::new_random)
        .add_scopes(endpoints.scopes.iter().cloned().map(Scope::new))
        .set_pkce_challenge(challenge);
    for (key, value) in &endpoints.extra {
        request = request.add_extra_param(*key, *value);
    }
    if !account.user.is_empty() {
        request = request.add_extra_param("login_hint", account.user.as_str());
    }
    let (url, state) = request.url();
    show(url.as_str());

    let deadline = Instant::now() + wait;
    let code = loop {
        if cancel.load(Ordering::Relaxed) {
            return Err(SignInError::Cancelled);
        }
        if Instant::now() > deadline {
            return Err(SignInError::TimedOut {
                minutes: wait.as_secs().div_ceil(60),
            });
        }
        let stream = match listener.accept() {
            Ok((stream, _)) => stream,
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
            Err(e) => return Err(SignInError::Listen(e.to_string())),
        };
        // Only the answer carrying this sign-in's state ends it: a stray or
        // forged request (another program, a web page) is refused and the
        // wait goes on.
        match answer(stream, state.secret()) {
            Some(result) => break result?,
            None => continue,
        }
    };
    let http = Http::new(cancel);
    let response = client
        .exchange_code(AuthorizationCode::new(code))
        .set_pkce_verifier(verifier)
        .request(&http)
        .map_err(|e| token_error(e, &endpoints.token, &account.name))?;
    Ok(Grant::from_response(&response, &endpoints.token, None))
}

/// Reads one request from the browser and answers it with a page: the
/// code, the reason the sign-in failed, or none if it was not this
/// sign-in's answer.
fn answer(mut stream: TcpStream, state: &str) -> Option<Result<String, SignInError>> {
    let _ = stream.set_nonblocking(false);
    let until = Instant::now() + REQUEST_TIME;
    let mut head = Vec::new();
    let mut chunk = [0u8; 2048];
    while head.len() < MAX_REQUEST && !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() || stream.set_read_timeout(Some(left)).is_err() {
            break;
        }
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&chunk[..n]),
        }
    }
    let (status, page, result) = match parse_redirect(&String::from_utf8_lossy(&head)) {
        Redirect::Other => ("404 Not Found", "Not found.", None),
        Redirect::Code { state: said, .. } | Redirect::Error { state: said, .. }
            if said != state =>
        {
            (
                "400 Bad Request",
                "This answer does not belong to Pipit's sign-in, and was ignored. If you are signing in to Pipit, go back to Pipit and start again.",
                None,
            )
        }
        Redirect::Code { code, .. } => (
            "200 OK",
            "Signed in. You can close this tab and go back to Pipit.",
            Some(Ok(code)),
        ),
        Redirect::Error {
            error, description, ..
        } => (
            "200 OK",
            "The sign-in did not succeed. Go back to Pipit to see why.",
            Some(Err(if error == "access_denied" {
                SignInError::Cancelled
            } else {
                SignInError::Refused { error, description }
            })),
        ),
    };
    let body = format!(
        "<!doctype html><meta charset=utf-8><title>Pipit</title><p style=\"font:16px sans-serif\">{page}</p>"
    );
    let _ = write!(
        stream,
        "HTTP/1.1 {status}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    result
}

/// Opens `url` in the user's browser: `$BROWSER` if set, else the
/// desktop's opener. Returns what failed, if anything.
pub fn open_browser(url: &str) -> Result<(), String> {
    let browser = std::env::var("BROWSER")
        .ok()
        .filter(|b| !b.trim().is_empty());
    let argv = match &browser {
        // $BROWSER may list several, separated by colons: the first one.
        Some(b) => crate::secrets::split_command(b.split(':').next().unwrap_or_default())
            .map_err(|e| format!("$BROWSER: {e}"))?,
        None => vec!["xdg-open".to_string()],
    };
    let (program, args) = argv.split_first().ok_or("$BROWSER is empty")?;
    crate::attachment::run_opener(program.as_ref(), args, url).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_browsers_answer_is_read_from_its_first_line() {
        assert_eq!(
            parse_redirect("GET /?code=a%2Fb&state=xyz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"),
            Redirect::Code {
                code: "a/b".into(),
                state: "xyz".into()
            }
        );
        assert_eq!(
            parse_redirect(
                "GET /?error=access_denied&error_description=No+thanks&state=s HTTP/1.1\r\n"
            ),
            Redirect::Error {
                error: "access_denied".into(),
                description: "No thanks".into(),
                state: "s".into()
            }
        );
        for other in [
            "GET /favicon.ico HTTP/1.1\r\n",
            "POST /?code=a&state=b HTTP/1.1\r\n",
            "GET / HTTP/1.1\r\n",
            "",
            "\u{0}\u{1}garbage",
        ] {
            assert_eq!(parse_redirect(other), Redirect::Other, "{other:?}");
        }
    }
}
