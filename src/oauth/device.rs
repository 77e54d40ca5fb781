//! Signing in on a machine without a browser (RFC 8628): Pipit shows a code
//! and an address; the user enters the code on any device; Pipit polls
//! until they have, as often as the server allows (`slow_down` honoured).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use oauth2::basic::BasicClient;
use oauth2::{DeviceAuthorizationUrl, Scope, StandardDeviceAuthorizationResponse, TokenUrl};

use super::grant::{Grant, server_answer};
use super::http::{Http, checked};
use super::{Endpoints, SignInError};

/// The least time between two polls, whatever the server says.
const MIN_INTERVAL: Duration = Duration::from_secs(1);

/// The longest Pipit waits for the code to be entered, whatever the server
/// says.
const MAX_WAIT: Duration = Duration::from_secs(30 * 60);

/// What the user is asked to do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeviceCode {
    pub user_code: String,
    pub verification_uri: String,
    /// The address with the code in it, where the server gives one.
    pub verification_uri_complete: Option<String>,
}

/// Signs in with the device flow: asks for a code, `show`s it, and polls
/// until the user has entered it, declined, or `cancel` is set.
pub fn sign_in(
    endpoints: &Endpoints,
    client: (oauth2::ClientId, Option<oauth2::ClientSecret>),
    show: &mut dyn FnMut(&DeviceCode),
    cancel: Arc<AtomicBool>,
) -> Result<Grant, SignInError> {
    let device = endpoints.device.as_deref().ok_or_else(|| SignInError::Metadata {
        url: endpoints.token.clone(),
        problem: "the server offers no device sign-in (no device_authorization_endpoint): sign in in a browser".into(),
    })?;
    let (id, secret) = client;
    let mut client = BasicClient::new(id)
        .set_device_authorization_url(DeviceAuthorizationUrl::from_url(checked(device)?))
        .set_token_uri(TokenUrl::from_url(checked(&endpoints.token)?));
    if let Some(secret) = secret {
        client = client.set_client_secret(secret);
    }
    let http = Http::new(cancel.clone());
    let details: StandardDeviceAuthorizationResponse = client
        .exchange_device_code()
        .add_scopes(endpoints.scopes.iter().cloned().map(Scope::new))
        .request(&http)
        .map_err(|e| match server_answer(e, device) {
            Err(e) => e,
            Ok(r) => SignInError::Refused {
                error: r.error().to_string(),
                description: r.error_description().cloned().unwrap_or_default(),
            },
        })?;
    show(&DeviceCode {
        user_code: details.user_code().secret().clone(),
        verification_uri: details.verification_uri().to_string(),
        verification_uri_complete: details
            .verification_uri_complete()
            .map(|u| u.secret().clone()),
    });
    // The poll ends at the code's expiry; a cancel makes that moment now.
    let now = {
        let cancel = cancel.clone();
        move || {
            if cancel.load(Ordering::Relaxed) {
                chrono::DateTime::<chrono::Utc>::MAX_UTC
            } else {
                chrono::Utc::now()
            }
        }
    };
    let sleep = {
        let cancel = cancel.clone();
        move |interval: Duration| {
            // A server asking for no wait at all would be polled flat out.
            let until = std::time::Instant::now() + interval.max(MIN_INTERVAL);
            while std::time::Instant::now() < until && !cancel.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    };
    let result = client
        .exchange_device_access_token(&details)
        .set_time_fn(now)
        .request(&http, sleep, Some(MAX_WAIT));
    if cancel.load(Ordering::Relaxed) {
        return Err(SignInError::Cancelled);
    }
    let response = result.map_err(|e| match server_answer(e, &endpoints.token) {
        Err(e) => e,
        Ok(r) => match r.error() {
            oauth2::DeviceCodeErrorResponseType::AccessDenied => SignInError::Cancelled,
            oauth2::DeviceCodeErrorResponseType::ExpiredToken => SignInError::CodeExpired {
                minutes: details.expires_in().min(MAX_WAIT).as_secs().div_ceil(60),
            },
            other => SignInError::Refused {
                error: other.to_string(),
                description: r.error_description().cloned().unwrap_or_default(),
            },
        },
    })?;
    Ok(Grant::from_response(&response, &endpoints.token, None))
}
