//! Connecting and logging in, for a fetch: LOGIN-DELAY honoured before
//! connecting, the account's way of logging in handed to the protocol
//! engine (`pop3::Connection`, which holds every rule of the login), and a
//! refusal turned into what the user is told.

use crate::config::{Account, AuthMethod};
use crate::net::{Login, NetError, Session};
use crate::pop3::auth::Mechanism;
use crate::pop3::connection::Refusal;
use crate::pop3::{Capabilities, Command, Limits, Method, check_argument, check_sasl_field};
use crate::secrets::Password;
use crate::store::{AccountState, Store};

use super::{FetchError, Progress};
use crate::dates::unix_now;

/// Refuses, without connecting, a login the server asked not to have yet (LOGIN-DELAY).
pub(super) fn check_login_delay(
    store: &Store,
    account: &Account,
) -> Result<AccountState, FetchError> {
    let state = store.account_state(&account.name)?;
    let now = unix_now();
    if let Some(last) = state.last_login
        && state.login_delay > 0
        && now - last < state.login_delay
    {
        return Err(FetchError::TooSoon {
            delay: state.login_delay,
            ago: (now - last).max(0),
        });
    }
    Ok(state)
}

/// Connects and logs in; the session comes back with the capabilities the
/// server shows after login (some, Gmail among them, show more then).
pub(super) fn log_in(
    account: &Account,
    password: &Password,
    progress: &mut dyn FnMut(Progress),
) -> Result<Session, FetchError> {
    let mut session = connect_and_authenticate(account, password, progress, Ahead::default())?;
    session.refresh_capabilities()?;
    Ok(session)
}

/// What a login may go by and send ahead, to save round trips.
#[derive(Default)]
pub(crate) struct Ahead {
    /// The capabilities the server listed before the login last time.
    pub known: Option<Capabilities>,
    /// Whether commands may be pipelined at all.
    pub pipeline: bool,
    /// Commands to pipeline behind the login.
    pub after_login: Vec<Command>,
    /// Tighter bounds on the replies than a fetch's (`None`: a fetch's).
    pub limits: Option<Limits>,
}

/// The server an account's remembered capabilities belong to: its host,
/// port and security (another of any of them is another server).
pub(super) fn server_key(account: &Account) -> String {
    format!(
        "{}:{}:{}",
        account.host.to_ascii_lowercase(),
        account.port,
        account.security.name()
    )
}

/// Connects and logs in, and no more: the capabilities are those from
/// before the login (the doctor compares them with CAPA after it).
pub(crate) fn connect_and_authenticate(
    account: &Account,
    password: &Password,
    progress: &mut dyn FnMut(Progress),
    ahead: Ahead,
) -> Result<Session, FetchError> {
    let name = account.name.clone();
    let mut endpoint = account.endpoint().map_err(FetchError::Setup)?;
    if let Some(limits) = ahead.limits {
        endpoint.limits = limits;
    }
    // A line break in a credential would become commands of its own: refuse
    // before connecting, so nothing at all is sent.
    let method = method(account.auth);
    match method {
        Method::Sasl(m) if m.bearer() => check_sasl_field("user name", &account.user)
            .and_then(|()| check_sasl_field("access token", password.expose())),
        _ => check_argument("user name", &account.user)
            .and_then(|()| check_argument("password", password.expose())),
    }
    .map_err(NetError::from)?;
    progress(Progress::Connecting {
        account: name.clone(),
        host: format!("{}:{}", account.host, account.port),
    });
    let login = Login {
        user: account.user.clone(),
        password: password.expose().to_string(),
        method,
        known: ahead.known,
        pipeline: ahead.pipeline,
        after_login: ahead.after_login,
    };
    let session = Session::open(&endpoint, &login).map_err(login_error)?;
    progress(Progress::Connected {
        account: name.clone(),
    });
    progress(Progress::Authenticated { account: name });
    Ok(session)
}

fn method(auth: AuthMethod) -> Method {
    match auth {
        AuthMethod::Auto => Method::Auto,
        AuthMethod::Apop => Method::Apop,
        AuthMethod::User => Method::UserPass,
        AuthMethod::Plain => Method::Sasl(Mechanism::Plain),
        AuthMethod::CramMd5 => Method::Sasl(Mechanism::CramMd5),
        AuthMethod::ScramSha256 => Method::Sasl(Mechanism::ScramSha256),
        AuthMethod::XOAuth2 => Method::Sasl(Mechanism::XOAuth2),
        AuthMethod::OAuthBearer => Method::Sasl(Mechanism::OAuthBearer),
    }
}

/// What a refusal means for the user, by its RFC 2449/3206 code; a greeting
/// that is -ERR is the server refusing too.
fn login_error(e: NetError) -> FetchError {
    match e {
        NetError::LoginRefused {
            refusal,
            text,
            mechanism,
        } => refusal_error(refusal, text, mechanism),
        // A greeting that refuses without a code is a busy server, not a password.
        NetError::Refused { code, text } => {
            let refusal = code.map_or(Refusal::Temporary, |c| Refusal::of(Some(&c)));
            refusal_error(refusal, text, None)
        }
        NetError::TokenRefused {
            mechanism,
            status,
            text,
        } => FetchError::TokenRefused {
            mechanism: mechanism.name(),
            status,
            text,
        },
        NetError::NoApop => FetchError::NoApop,
        NetError::Sasl(e) => FetchError::Sasl(e),
        other => FetchError::Net(other),
    }
}

fn refusal_error(refusal: Refusal, text: String, mechanism: Option<Mechanism>) -> FetchError {
    match refusal {
        Refusal::InUse => FetchError::InUse { text },
        Refusal::LoginDelay => FetchError::LoginDelay { text, delay: None },
        Refusal::Temporary => FetchError::ServerTemporary { text },
        Refusal::Permanent => FetchError::ServerPermanent { text },
        // Servers list mechanisms they cannot use for every account (a
        // hashed password rules out CRAM-MD5 and often SCRAM).
        Refusal::Credentials => FetchError::AuthRefused {
            text: match mechanism {
                // Refused before the token went: the server will not take
                // this mechanism from this account (or this user name).
                Some(m) if m.bearer() => format!(
                    "{text} (it refused {} before Pipit sent the access token)",
                    m.name()
                ),
                Some(m) => format!(
                    "{text} (with {}; if the password is right, the server may not support it \
for this account: try re-adding it with --auth plain)",
                    m.name()
                ),
                None => text,
            },
        },
    }
}
