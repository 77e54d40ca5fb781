//! What the window says when something fails: what happened and what to do,
//! in the window's own terms (its buttons and fields, never a command-line
//! flag). The engine's whole message stays one click away, as the detail.

use crate::attachment::{AttachmentError, LinkError};
use crate::net::{NetError, Security};
use crate::secrets::SecretError;
use crate::sync::FetchError;

/// Reply, Reply All or Forward's key with no message to answer (Ctrl+R
/// was Get Mail before it was Reply).
pub const NOTHING_TO_ANSWER: &str = "Reply, Reply All and Forward answer a downloaded message: \
open one first. Get Mail is F5.";

/// A failure as the window shows it: a headline, what to do, and the detail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Said {
    /// What happened, in a few words.
    pub headline: String,
    /// What to do about it, when the window knows.
    pub advice: Option<String>,
    /// The engine's own words, for the curious and for bug reports.
    pub detail: String,
}

impl Said {
    /// The headline and the advice on one line.
    pub fn line(&self) -> String {
        match &self.advice {
            Some(advice) => format!("{} {advice}", sentence(&self.headline)),
            None => sentence(&self.headline),
        }
    }
}

/// `text` with its first letter a capital.
pub fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// `text` with a capital first letter and a full stop.
pub fn sentence(text: &str) -> String {
    let mut out = capitalized(text);
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}

/// A fetch, preview or connection test that failed.
pub fn fetch_error(e: &FetchError) -> Said {
    let detail = e.to_string();
    let (headline, advice): (String, Option<&str>) = match e {
        FetchError::AuthRefused { .. } => (
            "the server refused the password".into(),
            Some("Enter it again, or check the user name in the account's settings."),
        ),
        FetchError::Net(net) => return net_error(net, detail),
        FetchError::Password(SecretError::SignIn(e)) => return sign_in_error(e, detail),
        FetchError::Password(secret) => return secret_error(secret, "read"),
        FetchError::TokenRefused { .. } => (
            "the sign-in has expired or was revoked".into(),
            Some("Sign in again."),
        ),
        FetchError::Locked { .. } => (
            "another Pipit is fetching this account right now".into(),
            Some("Get Mail again when it has finished."),
        ),
        FetchError::InUse { .. } => (
            "the mailbox is in use by another program".into(),
            Some("Get Mail again in a minute."),
        ),
        FetchError::TooSoon { .. } | FetchError::LoginDelay { .. } => (
            "the server asks Pipit to wait before logging in again".into(),
            Some("Get Mail again later; the detail says how long."),
        ),
        FetchError::ServerTemporary { .. } => (
            "the server has a temporary problem".into(),
            Some("Get Mail again later."),
        ),
        FetchError::NotOnServer => ("the message is no longer on the server".into(), None),
        other => (first_line(&other.to_string()), None),
    };
    Said {
        headline,
        advice: advice.map(str::to_string),
        detail,
    }
}

/// A fetch that failed, for an account whose password comes from a
/// command (`command`) or the keychain: a refused password is mended where
/// it comes from.
pub fn fetch_error_for(e: &FetchError, command: bool) -> Said {
    let mut said = fetch_error(e);
    if command && matches!(e, FetchError::AuthRefused { .. }) {
        said.advice = Some(
            "Pipit had it from the account's Password command: check that, and the user name, \
in the account's settings."
                .into(),
        );
    }
    said
}

/// What was tested, for the words on a failed Test connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tested {
    pub host: String,
    pub port: u16,
    pub security: Security,
    /// The password came from the Password command.
    pub command: bool,
}

/// A Test connection that failed, as the account dialog says it: the user
/// is in the settings, so the fields are named (not "the account's
/// settings"), the server by its name and port, a timeout's likely cause
/// (plain text against a TLS port) is said, and what to do is to test
/// again, not Get Mail.
pub fn test_error(e: &FetchError, t: &Tested) -> Said {
    let mut said = fetch_error(e);
    let at = format!("{}:{}", t.host, t.port);
    let (headline, advice): (Option<String>, Option<String>) = match e {
        FetchError::AuthRefused { .. } if t.command => (
            None,
            Some(
                "Pipit had it from Password command (under More settings): check that, and \
User name."
                    .into(),
            ),
        ),
        FetchError::AuthRefused { .. } => (None, Some("Check Password and User name.".into())),
        FetchError::Net(net) => match net {
            NetError::Resolve { .. } => (
                None,
                Some("Check Server (a typo?), and that this computer is online.".into()),
            ),
            NetError::Connect { .. } => (
                Some(format!("the server {at} could not be reached")),
                Some(
                    "Check Server, Port and Security (TLS is usually port 995, STARTTLS and \
plain text 110), and that this computer is online."
                        .into(),
                ),
            ),
            NetError::Timeout { .. } | NetError::Unanswered { .. } | NetError::TooSlow { .. } => (
                Some(format!("the server {at} did not answer in time")),
                Some(match t.security {
                    Security::Tls => "Check Port (TLS is usually 995) and Server, and that this \
computer is online, then test again."
                        .into(),
                    _ => format!(
                        "Check Security: with {}, a server that expects TLS (usually on port \
995) waits and never answers. Choose TLS, or the port for plain text (usually 110).",
                        super::account_dialog::security_label(t.security)
                    ),
                }),
            ),
            NetError::Closed => (
                None,
                Some("Check Security and Port, then test again.".into()),
            ),
            NetError::Tls(_) | NetError::TlsSetup(_) => (
                None,
                Some(
                    "Check Security and Port: a server for plain text or STARTTLS (usually port \
110) does not speak TLS on connecting."
                        .into(),
                ),
            ),
            NetError::StlsUnavailable | NetError::StlsRefused(_) => (
                None,
                Some("Choose TLS (port 995) under Security if the server supports it.".into()),
            ),
            NetError::Certificate(_) => (None, Some("Test connection again to see it.".into())),
            _ => (None, said.advice.clone()),
        },
        FetchError::Password(SecretError::NotInKeychain { .. }) => {
            (None, Some("Enter it in Password.".into()))
        }
        FetchError::Password(SecretError::Spawn { .. } | SecretError::Failed { .. })
        | FetchError::Password(SecretError::NoOutput { .. }) => (
            None,
            Some("Check Password command under More settings.".into()),
        ),
        FetchError::Password(SecretError::NoKeychain { .. }) => (
            None,
            Some(
                "Unlock or start your desktop's keyring (such as GNOME Keyring or KeePassXC), or \
fill in Password command under More settings instead."
                    .into(),
            ),
        ),
        FetchError::Locked { .. } => (None, Some("Test again when it has finished.".into())),
        FetchError::InUse { .. } => (None, Some("Test again in a minute.".into())),
        FetchError::TooSoon { .. } | FetchError::LoginDelay { .. } => (
            None,
            Some("Test again later; the detail says how long.".into()),
        ),
        FetchError::ServerTemporary { .. } => (None, Some("Test again later.".into())),
        _ => (None, said.advice.clone()),
    };
    if let Some(headline) = headline {
        said.headline = headline;
    }
    said.advice = advice;
    said
}

/// `said` as the account dialog says it: the user is in the settings, so
/// not "in the account's settings".
pub fn in_the_settings(mut said: Said) -> Said {
    said.advice = said
        .advice
        .map(|a| a.replace(" in the account's settings", ""));
    said
}

/// A fetch's failure to reach `host`:`port` (or to hear from it), as the
/// footer says it: with the server named, as the settings name it (the
/// detail has the address tried).
pub fn name_the_server(mut said: Said, e: &FetchError, host: &str, port: u16) -> Said {
    match e {
        FetchError::Net(NetError::Connect { .. }) => {
            said.headline = format!("the server {host}:{port} could not be reached");
        }
        FetchError::Net(
            NetError::Timeout { .. } | NetError::Unanswered { .. } | NetError::TooSlow { .. },
        ) => said.headline = format!("the server {host}:{port} did not answer in time"),
        _ => {}
    }
    said
}

fn net_error(e: &NetError, detail: String) -> Said {
    let (headline, advice) = match e {
        NetError::Resolve { host, .. } => (
            format!("the server {host} could not be found"),
            "Check the server's name in the account's settings (a typo?), and that this \
computer is online.",
        ),
        NetError::Connect { .. } => (
            "the server could not be reached".into(),
            "Check the port and security in the account's settings, and that this computer is \
online.",
        ),
        NetError::Timeout { .. } | NetError::Unanswered { .. } | NetError::TooSlow { .. } => (
            "the server did not answer in time".into(),
            "Get Mail again later; if it keeps happening, check the port and security in the \
account's settings.",
        ),
        NetError::Closed => (
            "the server closed the connection".into(),
            "Get Mail again; nothing was lost.",
        ),
        NetError::Certificate(_) => (
            "the server's certificate is not trusted".into(),
            "Open the account's settings and use Test connection to see the certificate, and \
trust it only if it is your server's.",
        ),
        NetError::Tls(_) | NetError::TlsSetup(_) => (
            "the encrypted connection failed".into(),
            "Check the security and port in the account's settings.",
        ),
        NetError::StlsUnavailable | NetError::StlsRefused(_) => (
            "the server does not offer STARTTLS; nothing was sent".into(),
            "Choose TLS (port 995) in the account's settings if the server supports it.",
        ),
        other => (first_line(&other.to_string()), ""),
    };
    Said {
        headline,
        advice: (!advice.is_empty()).then(|| advice.to_string()),
        detail,
    }
}

/// An OAuth2 sign-in that failed or ran out.
pub fn sign_in_error(e: &crate::oauth::SignInError, detail: String) -> Said {
    use crate::oauth::SignInError as E;
    let (headline, advice): (String, Option<&str>) = match e {
        E::Expired { .. } | E::NotSignedIn { .. } => (
            "the sign-in has expired or was revoked".into(),
            Some("Sign in again."),
        ),
        E::Cancelled => ("the sign-in was cancelled".into(), None),
        E::StateMismatch => (
            "the browser's answer did not belong to this sign-in".into(),
            Some("Sign in again."),
        ),
        E::Unreachable { .. } => (
            "the provider could not be reached".into(),
            Some("Check the provider's address and the network, then try again."),
        ),
        E::NoClientId { .. } => (
            "Pipit has no client id for this provider".into(),
            Some("Fill in Client id: see the README, \"Signing in with OAuth2\"."),
        ),
        E::TimedOut { .. } | E::CodeExpired { .. } => (
            "the sign-in took too long".into(),
            Some("Sign in again when ready."),
        ),
        E::NoBrowser { .. } => (
            "no browser could be opened".into(),
            Some("Use a code on another device."),
        ),
        other => (first_line(&other.to_string()), None),
    };
    Said {
        headline,
        advice: advice.map(str::to_string),
        detail,
    }
}

/// The keychain failed while Pipit tried to `doing` ("store", "read") a password.
pub fn secret_error(e: &SecretError, doing: &str) -> Said {
    let detail = e.to_string();
    let (headline, advice) = match e {
        SecretError::NoKeychain { .. } => (
            format!(
                "Pipit could not {doing} the password: no keychain is available in this session"
            ),
            Some(
                "Unlock or start your desktop's keyring (such as GNOME Keyring or KeePassXC), or \
fill in Password command under More settings in the account's settings instead."
                    .to_string(),
            ),
        ),
        SecretError::NotInKeychain { .. } => (
            "the keychain holds no password for this account".into(),
            Some("Enter the password in the account's settings.".into()),
        ),
        SecretError::Spawn { program, .. } => (
            format!("the password command {program:?} could not be started"),
            Some("Check Password command in the account's settings.".into()),
        ),
        SecretError::Failed { program, .. } | SecretError::NoOutput { program } => (
            format!("the password command {program:?} gave no password"),
            Some("Check Password command in the account's settings.".into()),
        ),
        other => (
            format!("Pipit could not {doing} the password"),
            Some(sentence(&other.to_string())),
        ),
    };
    Said {
        headline,
        advice,
        detail,
    }
}

/// Save… or Open of an attachment that failed; `doing` is "saved" or "opened".
pub fn attachment_error(e: &AttachmentError, doing: &str) -> Said {
    let detail = e.to_string();
    let (headline, advice): (String, Option<String>) = match e {
        AttachmentError::Opener { .. } => (
            "the attachment could not be opened: this desktop has no program set to open files \
(xdg-open)"
                .into(),
            Some("Save it instead, and open it from your file manager.".into()),
        ),
        AttachmentError::Runnable { why, .. } => (
            format!("the attachment was not opened: it is {}", why.kind),
            Some("Save it instead if you trust it and its sender.".into()),
        ),
        AttachmentError::Write { path, source } => (
            format!(
                "the attachment was not {doing}: {} could not be written",
                path.display()
            ),
            Some(match source.kind() {
                std::io::ErrorKind::NotFound => "The folder does not exist: choose another.".into(),
                std::io::ErrorKind::PermissionDenied => {
                    "You may not write there: choose another folder.".into()
                }
                _ => format!("The system said: {source}."),
            }),
        ),
        other => (
            format!("the attachment was not {doing}"),
            Some(sentence(&other.to_string())),
        ),
    };
    Said {
        headline,
        advice,
        detail,
    }
}

/// Reply, Reply All or Forward that no mail program took.
pub fn compose_error(e: &LinkError) -> Said {
    let headline = match e {
        LinkError::NoComposer { .. } => {
            "no mail program is set on this desktop to write the reply: Pipit reads mail, it \
does not send it"
        }
        LinkError::Start { .. } => {
            "the reply could not be handed to a mail program: this desktop has no program set \
to open links (xdg-open)"
        }
        _ => "the reply could not be handed to a mail program: none took it",
    };
    Said {
        headline: headline.into(),
        advice: Some(
            "Choose a default mail program in your desktop's settings (Default Applications, \
Mail), or run: xdg-mime default thunderbird.desktop x-scheme-handler/mailto. Or Copy the link \
into a mail program yourself."
                .into(),
        ),
        detail: e.to_string(),
    }
}

/// "Open in the browser" that failed.
pub fn link_error(e: &LinkError) -> Said {
    let (headline, advice) = match e {
        LinkError::Scheme { .. } => (
            "the link was not opened: it is not a web or mail link",
            "Copy the link if you trust it and know what opens it.",
        ),
        LinkError::Start { .. } => (
            "the link could not be opened: this desktop has no program set to open links \
(xdg-open)",
            "Copy the link and paste it into your browser.",
        ),
        LinkError::Failed { .. } => (
            "the link could not be opened: no web browser took it",
            "Set a default web browser for your desktop, or Copy the link and paste it into \
your browser.",
        ),
        LinkError::NoComposer { .. } => (
            "the link could not be opened: no mail program is set to write mail",
            "Set a default mail program for your desktop, or Copy the link.",
        ),
    };
    Said {
        headline: headline.into(),
        advice: Some(advice.into()),
        detail: e.to_string(),
    }
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or_default().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 13, item 5: raw DNS errors, D-Bus walls and a failed Open
    /// called "could not be saved".
    #[test]
    fn failures_say_what_happened_and_what_to_do_in_the_windows_terms() {
        let dns = fetch_error(&FetchError::Net(NetError::Resolve {
            host: "pop.exmaple.org".into(),
            source: std::io::Error::other("failed to lookup address information"),
        }));
        assert_eq!(
            dns.headline,
            "the server pop.exmaple.org could not be found"
        );
        assert!(dns.line().contains("Check the server's name"), "{dns:?}");
        assert!(!dns.line().contains("lookup"), "{dns:?}");

        let keychain = secret_error(
            &SecretError::NoKeychain {
                cause:
                    "no D-Bus session bus is running (org.freedesktop.DBus.Error.ServiceUnknown)"
                        .into(),
            },
            "store",
        );
        let line = keychain.line();
        assert!(
            line.contains("Password command under More settings"),
            "{line}"
        );
        assert!(
            !line.contains("--password-command") && !line.contains("DBus"),
            "{line}"
        );
        assert!(
            keychain.detail.contains("ServiceUnknown"),
            "the detail keeps it"
        );

        let open = attachment_error(
            &AttachmentError::Opener {
                program: "xdg-open".into(),
                path: "/tmp/x/a.pdf".into(),
                source: std::io::Error::from(std::io::ErrorKind::NotFound),
            },
            "opened",
        );
        assert!(open.headline.contains("could not be opened"), "{open:?}");
        assert!(!open.line().contains("saved"), "{open:?}");
    }

    /// Second review, item 6: in the account dialog, "in the account's
    /// settings" was said to a user already in them.
    #[test]
    fn the_account_dialog_does_not_send_the_user_to_where_they_are() {
        let keychain = in_the_settings(secret_error(
            &SecretError::NoKeychain {
                cause: "no D-Bus session bus is running".into(),
            },
            "store",
        ));
        let line = keychain.line();
        assert!(
            line.ends_with("fill in Password command under More settings instead."),
            "{line}"
        );
        assert!(!line.contains("account's settings"), "{line}");
        let refused = test_error(
            &FetchError::AuthRefused {
                text: "invalid password".into(),
            },
            &Tested {
                host: "pop.example.org".into(),
                port: 110,
                security: Security::Plain,
                command: false,
            },
        );
        assert_eq!(
            refused.line(),
            "The server refused the password. Check Password and User name."
        );
    }
}
