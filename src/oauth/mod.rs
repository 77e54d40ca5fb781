//! Signing in with OAuth2, for mailboxes that take no password over POP3
//! (Microsoft's, Google's, and any server whose authorization server
//! publishes RFC 8414 metadata). The access token it yields is what the
//! XOAUTH2 and OAUTHBEARER logins send in place of a password.
//!
//! - [`provider`]: where to sign in: presets, or an issuer's metadata.
//! - [`browser`]: the authorization code flow with PKCE in the system
//!   browser, answered on a loopback address (RFC 8252).
//! - [`device`]: the device flow (RFC 8628), for machines without a browser.
//! - [`grant`]: the tokens, kept in the OS keychain only, refreshed before
//!   they expire.
//! - [`http`]: the one HTTP client all of these use (HTTPS only, bounded).

pub mod browser;
pub mod device;
pub mod grant;
pub mod http;
pub mod provider;

pub use grant::{Grant, access_token};
pub use provider::{Endpoints, Provider};

use serde::{Deserialize, Serialize};

use crate::secrets::SecretError;

/// An account's OAuth2 settings, as the config file keeps them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OAuthConfig {
    /// `microsoft`, `google`, or an issuer's HTTPS URL.
    pub provider: String,
    /// The application's registration with the provider; without one, the
    /// one Pipit was built with (if any).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// Only for providers that give desktop applications a "secret" that is
    /// not one (Google).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// The scopes to ask for, space-separated; without them, the
    /// provider's preset (or, for an issuer, `offline_access` if offered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// Where the sign-in is filed in the keychain, beside the account's
    /// name: random, so that an account of the same name under another
    /// `--home` never reads or replaces this one's.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub key: String,
}

/// A new random keychain key for a sign-in.
pub fn new_key() -> String {
    use ring::rand::SecureRandom as _;
    let mut bytes = [0u8; 8];
    ring::rand::SystemRandom::new()
        .fill(&mut bytes)
        .expect("the system has randomness");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// What went wrong while signing in or renewing a sign-in.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("the sign-in has expired or was revoked: sign in again (pipit account sign-in {account}){}", detail(.reason))]
    Expired { account: String, reason: String },
    #[error(
        "account {account:?} is not signed in yet: sign in with pipit account sign-in {account}"
    )]
    NotSignedIn { account: String },
    #[error(
        "Pipit has no client id for {provider}: register Pipit with {provider} (see the README, \"Signing in with OAuth2\") and give it with --client-id"
    )]
    NoClientId { provider: String },
    #[error(
        "{0:?} is not a provider Pipit knows: use microsoft, google, or the issuer's https:// address"
    )]
    UnknownProvider(String),
    #[error(
        "{url} is not HTTPS: Pipit sends sign-in requests only over HTTPS (or to this computer)"
    )]
    NotHttps { url: String },
    #[error("cannot reach {url}: {cause}")]
    Unreachable { url: String, cause: String },
    #[error("the authorization server's metadata at {url} is not usable: {problem}")]
    Metadata { url: String, problem: String },
    #[error("the authorization server refused: {}{}", crate::reveal::field(.error), detail(.description))]
    Refused { error: String, description: String },
    #[error("the authorization server answered something that is not OAuth2: {0}")]
    BadAnswer(String),
    #[error(
        "the browser's answer did not come from this sign-in (its state did not match): nothing was signed in; try again"
    )]
    StateMismatch,
    #[error("no answer from the browser in {minutes} minutes: sign in again when ready")]
    TimedOut { minutes: u64 },
    #[error("the code was not entered in {minutes} minutes: sign in again when ready")]
    CodeExpired { minutes: u64 },
    #[error("the sign-in was cancelled")]
    Cancelled,
    #[error("cannot open a browser ({cause}); open this address yourself: {url}")]
    NoBrowser { cause: String, url: String },
    #[error("cannot listen for the browser's answer on this computer: {0}")]
    Listen(String),
    #[error("the keychain: {0}")]
    Keychain(#[from] SecretError),
}

fn detail(text: &str) -> String {
    if text.is_empty() {
        String::new()
    } else {
        format!(" ({})", crate::reveal::field(text))
    }
}

impl SignInError {
    /// True when only a new sign-in can help (as a refused password).
    pub fn needs_sign_in(&self) -> bool {
        matches!(
            self,
            SignInError::Expired { .. } | SignInError::NotSignedIn { .. }
        )
    }

    /// True when the network, not the server's answer, is at fault.
    pub fn is_network(&self) -> bool {
        matches!(self, SignInError::Unreachable { .. })
    }
}

/// How the user signs in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flow {
    /// In the system browser, answered on a loopback address.
    Browser,
    /// With a code entered on another device.
    Device,
}

/// What to show the user while a sign-in waits for them.
pub enum Prompt<'a> {
    /// The browser should now be open at this address.
    Browser { url: &'a str },
    /// Enter this code at this address.
    Device(&'a device::DeviceCode),
}

/// Signs `account` in with its OAuth2 settings: finds the endpoints, runs
/// the flow (showing the user what to do through `show`), and returns the
/// grant. Nothing is kept: the caller saves the grant once a login with it
/// has worked.
pub fn sign_in(
    account: &crate::config::Account,
    flow: Flow,
    show: &mut dyn FnMut(Prompt<'_>),
    cancel: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> Result<Grant, SignInError> {
    let config = account
        .oauth
        .as_ref()
        .ok_or_else(|| SignInError::NotSignedIn {
            account: account.name.clone(),
        })?;
    let provider = Provider::parse(&config.provider)?;
    let client = provider.client(config)?;
    let http = http::Http::new(cancel.clone());
    let endpoints = provider.endpoints(&http, config)?;
    match flow {
        Flow::Browser => browser::sign_in(
            &endpoints,
            client,
            account,
            &mut |url| show(Prompt::Browser { url }),
            cancel,
            browser::WAIT,
        ),
        Flow::Device => device::sign_in(
            &endpoints,
            client,
            &mut |code| show(Prompt::Device(code)),
            cancel,
        ),
    }
}
