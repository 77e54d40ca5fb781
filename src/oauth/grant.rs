//! The tokens a sign-in yields, kept in the OS keychain and nowhere else
//! (never in the config, the store, output or logs), and renewed with the
//! refresh token shortly before the access token expires.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use oauth2::basic::{BasicClient, BasicErrorResponseType, BasicTokenResponse};
use oauth2::{RefreshToken, RequestTokenError, TokenResponse as _, TokenUrl};
use serde::{Deserialize, Serialize};

use super::http::{Http, HttpError};
use super::{OAuthConfig, Provider, SignInError};
use crate::config::Account;
use crate::dates::unix_now;
use crate::secrets::{KeychainEntry, Password, SecretError};

/// The keychain service the sign-ins are filed under (passwords are under
/// `pipit`).
pub const SERVICE: &str = "pipit-oauth";

/// An access token is renewed this long before it expires, so that it does
/// not run out between the check and the login.
const MARGIN_SECS: i64 = 120;

/// How long an access token is taken to last when the provider does not
/// say (`expires_in` is only recommended): an hour, as the large providers'.
const UNSAID_LIFETIME_SECS: u64 = 3600;

/// One renewal at a time in this process (the window's automatic check and
/// a preview may ask at once): a provider that rotates refresh tokens takes
/// a refresh token once.
static RENEWING: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// What a sign-in left: the access token for logins, the refresh token to
/// get the next one, and where to ask for it.
#[derive(Clone, Serialize, Deserialize)]
pub struct Grant {
    pub access_token: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// Unix seconds; none if the server did not say.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    pub token_endpoint: String,
}

impl fmt::Debug for Grant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Grant")
            .field("expires_at", &self.expires_at)
            .field("token_endpoint", &self.token_endpoint)
            .finish_non_exhaustive()
    }
}

impl Grant {
    /// The grant a token response makes; a response without a new refresh
    /// token keeps the old one.
    pub fn from_response(
        response: &BasicTokenResponse,
        token_endpoint: &str,
        old_refresh: Option<String>,
    ) -> Grant {
        Grant {
            access_token: response.access_token().secret().clone(),
            refresh_token: response
                .refresh_token()
                .map(|t| t.secret().clone())
                .or(old_refresh),
            expires_at: Some(
                unix_now().saturating_add(
                    i64::try_from(
                        response
                            .expires_in()
                            .map_or(UNSAID_LIFETIME_SECS, |d| d.as_secs()),
                    )
                    .unwrap_or(i64::MAX),
                ),
            ),
            token_endpoint: token_endpoint.to_string(),
        }
    }

    fn fresh(&self, now: i64) -> bool {
        self.expires_at.is_none_or(|at| at - MARGIN_SECS > now)
    }

    /// Keeps this grant in the keychain as `account`'s.
    pub fn save(&self, account: &Account) -> Result<(), SecretError> {
        let json = serde_json::to_string(self).expect("a grant serialises");
        entry(account).set(&Password::new(json))
    }

    /// `account`'s grant, if it has signed in.
    pub fn load(account: &Account) -> Result<Option<Grant>, SignInError> {
        match entry(account).get() {
            Ok(json) => {
                serde_json::from_str(json.expose())
                    .map(Some)
                    .map_err(|_| SignInError::Expired {
                        account: account.name.clone(),
                        reason: "the keychain's copy of the sign-in is unreadable".into(),
                    })
            }
            Err(SecretError::NotInKeychain { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Forgets `account`'s sign-in; `Ok(false)` if there was none.
    pub fn forget(account: &Account) -> Result<bool, SecretError> {
        entry(account).delete()
    }
}

/// `account`'s place in the keychain for its sign-in: filed by the
/// account's name (which never changes, so that a new server or user name
/// keeps the sign-in where it is) and its random key (so that an account of
/// the same name under another `--home` has its own).
pub fn entry(account: &Account) -> KeychainEntry {
    let key = account.oauth.as_ref().map_or("", |o| o.key.as_str());
    KeychainEntry {
        service: SERVICE.to_string(),
        user: if key.is_empty() {
            account.name.clone()
        } else {
            format!("{} {key}", account.name)
        },
    }
}

/// The access token to log in with: the kept one while it is fresh, else a
/// new one from the refresh token (kept in its place).
pub fn access_token(account: &Account, config: &OAuthConfig) -> Result<Password, SignInError> {
    let grant = Grant::load(account)?.ok_or_else(|| SignInError::NotSignedIn {
        account: account.name.clone(),
    })?;
    if grant.fresh(unix_now()) {
        return Ok(Password::new(grant.access_token));
    }
    let _one_at_a_time = RENEWING.lock().unwrap_or_else(|e| e.into_inner());
    // Another thread may have renewed it while this one waited.
    let grant = Grant::load(account)?.ok_or_else(|| SignInError::NotSignedIn {
        account: account.name.clone(),
    })?;
    if grant.fresh(unix_now()) {
        return Ok(Password::new(grant.access_token));
    }
    let renewed = match refresh(account, config, grant.clone()) {
        Err(expired @ SignInError::Expired { .. }) => {
            // Another Pipit (the window, a command) may have used the
            // refresh token first and kept the new one: take that.
            match Grant::load(account)? {
                Some(newer) if newer.refresh_token != grant.refresh_token => {
                    if newer.fresh(unix_now()) {
                        return Ok(Password::new(newer.access_token));
                    }
                    refresh(account, config, newer)?
                }
                _ => return Err(expired),
            }
        }
        other => other?,
    };
    // The provider has the new refresh token now; if the keychain will not
    // take it, this login still goes ahead with the new access token.
    let _ = renewed.save(account);
    Ok(Password::new(renewed.access_token))
}

/// Marks `account`'s access token as used up, so that the next
/// [`access_token`] renews it: for a server that refused a token its
/// provider still called valid (revoked early, or the clocks disagree).
/// False if there is no sign-in to renew.
pub fn set_stale(account: &Account) -> bool {
    match Grant::load(account) {
        Ok(Some(mut grant)) if grant.refresh_token.is_some() => {
            grant.expires_at = Some(0);
            grant.save(account).is_ok()
        }
        _ => false,
    }
}

fn refresh(account: &Account, config: &OAuthConfig, old: Grant) -> Result<Grant, SignInError> {
    let expired = |reason: &str| SignInError::Expired {
        account: account.name.clone(),
        reason: reason.into(),
    };
    let Some(refresh_token) = old.refresh_token.clone() else {
        return Err(expired("the provider gave no refresh token"));
    };
    let provider = Provider::parse(&config.provider)?;
    let (id, secret) = provider.client(config)?;
    let url = super::http::checked(&old.token_endpoint)?;
    let mut client = BasicClient::new(id).set_token_uri(TokenUrl::from_url(url));
    if let Some(secret) = secret {
        client = client.set_client_secret(secret);
    }
    let http = Http::new(Arc::new(AtomicBool::new(false)));
    let response = client
        .exchange_refresh_token(&RefreshToken::new(refresh_token.clone()))
        .request(&http)
        .map_err(|e| token_error(e, &old.token_endpoint, &account.name))?;
    Ok(Grant::from_response(
        &response,
        &old.token_endpoint,
        Some(refresh_token),
    ))
}

/// What a failed token request means for the user.
pub fn token_error(
    e: RequestTokenError<HttpError, oauth2::basic::BasicErrorResponse>,
    url: &str,
    account: &str,
) -> SignInError {
    match server_answer(e, url) {
        Err(e) => e,
        Ok(r) => match r.error() {
            BasicErrorResponseType::InvalidGrant => SignInError::Expired {
                account: account.to_string(),
                reason: r.error_description().cloned().unwrap_or_default(),
            },
            other => SignInError::Refused {
                error: other.to_string(),
                description: r.error_description().cloned().unwrap_or_default(),
            },
        },
    }
}

/// A failed request to `url`: the server's error answer, for the caller to
/// judge, or what kept the request from being answered.
pub fn server_answer<T: oauth2::ErrorResponse>(
    e: RequestTokenError<HttpError, T>,
    url: &str,
) -> Result<T, SignInError> {
    match e {
        RequestTokenError::ServerResponse(r) => Ok(r),
        RequestTokenError::Request(HttpError::Cancelled) => Err(SignInError::Cancelled),
        RequestTokenError::Request(HttpError::Insecure(url)) => Err(SignInError::NotHttps { url }),
        RequestTokenError::Request(HttpError::Transport(cause)) => Err(SignInError::Unreachable {
            url: url.to_string(),
            cause,
        }),
        RequestTokenError::Parse(e, _) => Err(SignInError::BadAnswer(e.to_string())),
        RequestTokenError::Other(e) => Err(SignInError::BadAnswer(e)),
    }
}
