//! The OS keychain, through the `keyring` family of crates: Secret Service on
//! Linux (over D-Bus, pure Rust). Every call runs on a helper thread with a
//! deadline, so a keychain that never answers is an error, not a hang.

use std::sync::Mutex;
use std::sync::mpsc;
use std::time::Duration;

use keyring_core::Entry;

use super::{Password, SecretError};

/// The service name every Pipit password is filed under.
pub const SERVICE: &str = "pipit";

/// How long one keychain call may take. Failures are far quicker (a missing
/// bus in milliseconds, a locked keyring in under 100 ms); this only stops hangs.
const DEADLINE: Duration = Duration::from_secs(5);

/// One password's place in the keychain: service `pipit`, user `alice@pop.example.org`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeychainEntry {
    pub service: String,
    pub user: String,
}

impl KeychainEntry {
    /// The entry for a login `user` on `host`.
    pub fn new(user: &str, host: &str) -> KeychainEntry {
        KeychainEntry {
            service: SERVICE.to_string(),
            user: format!("{user}@{host}"),
        }
    }

    pub fn get(&self) -> Result<Password, SecretError> {
        self.call(|e| e.get_password()).map(Password::new)
    }

    pub fn set(&self, password: &Password) -> Result<(), SecretError> {
        let secret = password.expose().to_string();
        self.call(move |e| e.set_password(&secret))
            .map_err(|e| without_secret(e, password.expose()))
    }

    /// Removes the entry; `Ok(false)` if there was none.
    pub fn delete(&self) -> Result<bool, SecretError> {
        match self.call(|e| e.delete_credential()) {
            Ok(()) => Ok(true),
            Err(SecretError::NotInKeychain { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    fn call<T: Send + 'static>(
        &self,
        op: impl FnOnce(&Entry) -> keyring_core::Result<T> + Send + 'static,
    ) -> Result<T, SecretError> {
        let (service, user) = (self.service.clone(), self.user.clone());
        let (tx, rx) = mpsc::channel();
        std::thread::Builder::new()
            .name("pipit-keychain".into())
            .spawn(move || {
                let result = ensure_store()
                    .and_then(|()| {
                        Entry::new(&service, &user).map_err(|e| classify(e, &service, &user))
                    })
                    .and_then(|entry| op(&entry).map_err(|e| classify(e, &service, &user)));
                let _ = tx.send(result);
            })
            .map_err(|e| SecretError::Keychain(format!("cannot start a thread: {e}")))?;
        rx.recv_timeout(DEADLINE).unwrap_or_else(|_| {
            Err(SecretError::NoKeychain {
                cause: format!("it did not answer within {} seconds", DEADLINE.as_secs()),
            })
        })
    }
}

/// A keychain's own words, passed on in an error, may quote what it was
/// given: never the password.
fn without_secret(e: SecretError, secret: &str) -> SecretError {
    if secret.is_empty() {
        return e;
    }
    let scrub = |text: String| text.replace(secret, "***");
    match e {
        SecretError::Keychain(detail) => SecretError::Keychain(scrub(detail)),
        SecretError::NoKeychain { cause } => SecretError::NoKeychain {
            cause: scrub(cause),
        },
        other => other,
    }
}

/// Installs the platform's store as the default, once; tests may install a
/// mock store first, which is then left alone.
fn ensure_store() -> Result<(), SecretError> {
    static INIT: Mutex<()> = Mutex::new(());
    let _guard = INIT.lock().unwrap_or_else(|e| e.into_inner());
    if keyring_core::get_default_store().is_some() {
        return Ok(());
    }
    let store = platform_store()?;
    keyring_core::set_default_store(store);
    Ok(())
}

#[cfg(target_os = "linux")]
fn platform_store() -> Result<std::sync::Arc<keyring_core::api::CredentialStore>, SecretError> {
    match zbus_secret_service_keyring_store::Store::new() {
        Ok(store) => Ok(store),
        Err(e) => Err(SecretError::NoKeychain {
            cause: describe_unreachable(&e.to_string()),
        }),
    }
}

#[cfg(not(target_os = "linux"))]
fn platform_store() -> Result<std::sync::Arc<keyring_core::api::CredentialStore>, SecretError> {
    Err(SecretError::NoKeychain {
        cause: "this build of Pipit has no keychain support for this platform yet".into(),
    })
}

/// Names the cause in words a user can act on.
fn describe_unreachable(detail: &str) -> String {
    let lower = detail.to_ascii_lowercase();
    let cause = if lower.contains("dbus_session_bus_address")
        || lower.contains("bus not found")
        || lower.contains("address")
    {
        "no D-Bus session bus is running (is this a desktop session?)"
    } else if lower.contains("locked") || lower.contains("prompt") {
        "the keyring is locked"
    } else if lower.contains("serviceunknown")
        || lower.contains("service unknown")
        || lower.contains("not provided")
    {
        "no Secret Service is running"
    } else {
        "the Secret Service could not be used"
    };
    format!("{cause} ({detail})")
}

fn classify(e: keyring_core::Error, service: &str, user: &str) -> SecretError {
    use keyring_core::Error as K;
    match e {
        K::NoEntry => SecretError::NotInKeychain {
            service: service.to_string(),
            user: user.to_string(),
        },
        K::NoStorageAccess(inner) => SecretError::NoKeychain {
            cause: describe_unreachable(&inner.to_string()),
        },
        K::PlatformFailure(inner) => {
            let detail = inner.to_string();
            let lower = detail.to_ascii_lowercase();
            if lower.contains("bus") || lower.contains("address") || lower.contains("secrets") {
                SecretError::NoKeychain {
                    cause: describe_unreachable(&detail),
                }
            } else {
                SecretError::Keychain(detail)
            }
        }
        K::BadEncoding(_) => SecretError::NotUtf8,
        // Other variants carry no secret, but say so in general terms anyway.
        other => SecretError::Keychain(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use keyring_core::mock;

    fn with_mock() {
        static ONCE: std::sync::Once = std::sync::Once::new();
        ONCE.call_once(|| keyring_core::set_default_store(mock::Store::new().unwrap()));
    }

    #[test]
    fn set_get_delete_round_trip() {
        with_mock();
        let entry = KeychainEntry::new("alice", "pop.round-trip.example");
        assert_eq!(entry.user, "alice@pop.round-trip.example");
        entry.set(&Password::new("hunter2".into())).unwrap();
        assert_eq!(entry.get().unwrap().expose(), "hunter2");
        assert!(entry.delete().unwrap());
        assert!(!entry.delete().unwrap(), "deleting twice is fine");
        let err = entry.get().unwrap_err().to_string();
        assert!(
            err.contains("no password for alice@pop.round-trip.example")
                && err.contains("set-password"),
            "{err}"
        );
    }

    #[test]
    fn keychain_errors_become_messages_that_say_what_to_do() {
        let locked = classify(
            keyring_core::Error::NoStorageAccess(Box::new(std::io::Error::other(
                "collection is locked",
            ))),
            SERVICE,
            "a@b",
        )
        .to_string();
        assert!(locked.contains("the keyring is locked"), "{locked}");
        assert!(
            locked.contains("unlock or install a keyring") && locked.contains("--password-command"),
            "{locked}"
        );
        let no_bus = classify(
            keyring_core::Error::PlatformFailure(Box::new(std::io::Error::other(
                "D-Bus error: Address DBUS_SESSION_BUS_ADDRESS not set",
            ))),
            SERVICE,
            "a@b",
        )
        .to_string();
        assert!(no_bus.contains("no D-Bus session bus"), "{no_bus}");
        let odd = classify(
            keyring_core::Error::TooLong("user".into(), 10),
            SERVICE,
            "a@b",
        )
        .to_string();
        assert!(odd.contains("keychain failed"), "{odd}");
    }

    /// Each failure is injected where the secret is at hand: a backend that
    /// quotes what it was asked to store, and one that hands back the
    /// password's bytes with its complaint that they are not UTF-8.
    #[test]
    fn injected_failures_surface_without_the_password() {
        with_mock();
        const SECRET: &str = "Tq9-topsecret-Zr4";
        let entry = KeychainEntry::new("bob", "pop.injected.example");
        entry.set(&Password::new(SECRET.into())).unwrap();
        // The mock store gives every Entry of one service and user the same
        // credential: an error set through this one meets the next call.
        let e = Entry::new(&entry.service, &entry.user).unwrap();
        let cred: &mock::Cred = e.as_any().downcast_ref().unwrap();
        let shown = |err: SecretError| format!("{err} {err:?}");

        cred.set_error(keyring_core::Error::PlatformFailure(Box::new(
            std::io::Error::other(format!("item {SECRET:?} rejected by policy")),
        )));
        let text = shown(entry.set(&Password::new(SECRET.into())).unwrap_err());
        assert!(
            text.contains("keychain failed") && text.contains("rejected by policy"),
            "{text}"
        );
        assert!(!text.contains(SECRET), "{text}");

        let mut not_utf8 = SECRET.as_bytes().to_vec();
        not_utf8.push(0xff);
        cred.set_error(keyring_core::Error::BadEncoding(not_utf8));
        let text = shown(entry.get().unwrap_err());
        assert!(
            text.contains("not valid UTF-8") && !text.contains(SECRET),
            "{text}"
        );

        cred.set_error(keyring_core::Error::NoStorageAccess(Box::new(
            std::io::Error::other("locked"),
        )));
        let text = shown(entry.get().unwrap_err());
        assert!(text.contains("not reachable"), "{text}");
        assert_eq!(
            entry.get().unwrap().expose(),
            SECRET,
            "the password is still there"
        );
    }
}
