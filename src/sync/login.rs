//! Connecting and logging in: LOGIN-DELAY honoured before connecting, then
//! APOP, SASL (the strongest mechanism offered) or USER/PASS, and a refused
//! login told apart by its response code.

use crate::config::{Account, AuthMethod};
use crate::net::{NetError, Session};
use crate::pop3::auth::{self, Mechanism, SaslSession};
use crate::pop3::{Command, Indicator, Reply, RespCode, check_argument};
use crate::secrets::Password;
use crate::store::{AccountState, Store};

use super::{FetchError, Progress, unix_now};

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
    let mut session = connect_and_authenticate(account, password, progress)?;
    session.refresh_capabilities()?;
    Ok(session)
}

pub(super) fn connect_and_authenticate(
    account: &Account,
    password: &Password,
    progress: &mut dyn FnMut(Progress),
) -> Result<Session, FetchError> {
    let name = account.name.clone();
    let endpoint = account.endpoint().map_err(FetchError::Setup)?;
    progress(Progress::Connecting {
        account: name.clone(),
        host: format!("{}:{}", account.host, account.port),
    });
    // A line break in a credential would become commands of its own: refuse
    // before connecting, so nothing at all is sent.
    check_argument("user name", &account.user)
        .and_then(|()| check_argument("password", password.expose()))
        .map_err(NetError::from)?;
    let mut session = Session::open(&endpoint).map_err(refused_to_fetch_error)?;
    progress(Progress::Connected {
        account: name.clone(),
    });
    authenticate(&mut session, account, password)?;
    progress(Progress::Authenticated { account: name });
    Ok(session)
}

/// Logs in: APOP if the account asks, else the strongest SASL mechanism
/// offered, else USER/PASS.
fn authenticate(
    session: &mut Session,
    account: &Account,
    password: &Password,
) -> Result<(), FetchError> {
    let caps = session.caps();
    let reply = match account.auth {
        AuthMethod::Apop => {
            let stamp = auth::greeting_timestamp(&session.greeting).ok_or(FetchError::NoApop)?;
            let digest = auth::apop_digest(stamp, password.expose());
            session.command(&Command::Apop {
                user: account.user.clone(),
                digest,
            })?
        }
        AuthMethod::Auto if Mechanism::strongest(&caps.sasl).is_some() => {
            let mechanism = Mechanism::strongest(&caps.sasl).expect("checked by the guard");
            let reply = sasl(session, mechanism, &account.user, password)?;
            if !reply.is_ok() && mechanism != Mechanism::Plain {
                // Servers list mechanisms they cannot use for every account
                // (a hashed password rules out CRAM-MD5 and often SCRAM).
                return Err(match login_error(reply, Some(password)) {
                    FetchError::AuthRefused { text } => FetchError::AuthRefused {
                        text: format!(
                            "{text} (with {}; if the password is right, the server may not support it \
for this account: try re-adding it with --auth plain)",
                            mechanism.name()
                        ),
                    },
                    other => other,
                });
            }
            reply
        }
        AuthMethod::Plain => sasl(session, Mechanism::Plain, &account.user, password)?,
        AuthMethod::CramMd5 => sasl(session, Mechanism::CramMd5, &account.user, password)?,
        AuthMethod::ScramSha256 => sasl(session, Mechanism::ScramSha256, &account.user, password)?,
        AuthMethod::Auto | AuthMethod::User => {
            let reply = session.command(&Command::User(account.user.clone()))?;
            if reply.is_ok() {
                session.command(&Command::Pass(password.expose().to_string()))?
            } else {
                reply
            }
        }
    };
    if reply.is_ok() {
        Ok(())
    } else {
        Err(login_error(reply, Some(password)))
    }
}

fn sasl(
    session: &mut Session,
    mechanism: Mechanism,
    user: &str,
    password: &Password,
) -> Result<Reply, FetchError> {
    let mut exchange = SaslSession::new(mechanism, user, password.expose());
    let mut reply = session.command(&Command::Auth {
        mechanism: mechanism.name().to_string(),
        initial_response: exchange.initial_response(),
    })?;
    for _ in 0..8 {
        if reply.is_ok() {
            // A success counts only once the exchange has reached its end.
            exchange.succeeded()?;
            return Ok(reply);
        }
        if reply.indicator != Indicator::Continue {
            return Ok(reply);
        }
        match exchange.respond(&reply.text) {
            Ok(answer) => reply = session.command(&Command::AuthResponse(answer))?,
            Err(e) => {
                // RFC 5034 §4: "*" cancels the exchange.
                let _ = session.command(&Command::AuthResponse("*".into()));
                return Err(e.into());
            }
        }
    }
    Err(FetchError::Protocol("the SASL exchange did not end".into()))
}

/// Tells a refused login apart by its RFC 2449/3206 code. A server that
/// repeats the password in its refusal does not get it shown.
fn login_error(reply: Reply, password: Option<&Password>) -> FetchError {
    let mut text = if reply.text.is_empty() {
        "no reason given".to_string()
    } else {
        reply.text
    };
    if let Some(p) = password.map(Password::expose).filter(|p| !p.is_empty()) {
        text = text.replace(p, "***");
    }
    match reply.code {
        Some(RespCode::InUse) => FetchError::InUse { text },
        Some(RespCode::LoginDelay) => FetchError::LoginDelay { text, delay: None },
        Some(RespCode::SysTemp) => FetchError::ServerTemporary { text },
        Some(RespCode::SysPerm) => FetchError::ServerPermanent { text },
        _ => FetchError::AuthRefused { text },
    }
}

/// A greeting that is -ERR is the server refusing, often for a reason with a code.
fn refused_to_fetch_error(e: NetError) -> FetchError {
    match e {
        NetError::Refused { code, text } => login_error(
            Reply {
                indicator: Indicator::Err,
                code: code.or(Some(RespCode::SysTemp)),
                text,
                body: None,
                oversized: None,
            },
            None,
        ),
        other => FetchError::Net(other),
    }
}
