//! Where a password comes from: the OS keychain (the default), a command's
//! output (as mpop's passwordeval), or a value given for this run. Passwords
//! never reach `Debug`, logs or errors.

pub mod keychain;

use std::fmt;

pub use keychain::KeychainEntry;
use std::process::{Command, Stdio};

/// A password. `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    pub fn new(secret: String) -> Password {
        Password(secret)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(***)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("the password command is empty")]
    EmptyCommand,
    #[error("the password command has an unclosed quote")]
    BadQuoting,
    #[error("cannot run the password command {program:?}: {source}")]
    Spawn {
        program: String,
        source: std::io::Error,
    },
    #[error("the password command {program:?} failed ({status}){}", if stderr.is_empty() { String::new() } else { format!(": {stderr}") })]
    Failed {
        program: String,
        status: String,
        stderr: String,
    },
    #[error("the password command {program:?} printed no password")]
    NoOutput { program: String },
    #[error("the password is not valid UTF-8")]
    NotUtf8,
    #[error("no password was given on standard input")]
    EmptyStdin,
    #[error(
        "the OS keychain is not reachable: {cause}.\n  Either unlock or install a keyring (on Linux: a Secret Service such as \
gnome-keyring or KeePassXC, in your desktop session),\n  or keep the password elsewhere and give Pipit a command \
that prints it: --password-command 'pass show mail'"
    )]
    NoKeychain { cause: String },
    #[error(
        "the keychain holds no password for {user} (service {service:?}); store one with: \
pipit account set-password ACCOUNT --password-stdin"
    )]
    NotInKeychain { service: String, user: String },
    #[error("the keychain failed: {0}")]
    Keychain(String),
    /// The OAuth2 sign-in gave no access token.
    #[error("{0}")]
    SignIn(Box<crate::oauth::SignInError>),
}

/// Where an account's password is read from.
#[derive(Clone, Debug)]
pub enum PasswordSource {
    /// Run this command, without a shell unless it names one; its standard
    /// output, less one trailing newline, is the password.
    Command(String),
    /// A password already in hand (read from standard input for this run).
    Given(Password),
    /// The OS keychain.
    Keychain(KeychainEntry),
    /// The account's OAuth2 sign-in: the access token, renewed if need be.
    SignIn(Box<crate::config::Account>),
}

impl PasswordSource {
    pub fn password(&self) -> Result<Password, SecretError> {
        match self {
            PasswordSource::Given(p) => Ok(p.clone()),
            PasswordSource::Command(cmd) => run_password_command(cmd),
            PasswordSource::Keychain(entry) => entry.get(),
            PasswordSource::SignIn(account) => match &account.oauth {
                Some(oauth) => crate::oauth::access_token(account, oauth)
                    .map_err(|e| SecretError::SignIn(Box::new(e))),
                None => Err(SecretError::SignIn(Box::new(
                    crate::oauth::SignInError::NotSignedIn {
                        account: account.name.clone(),
                    },
                ))),
            },
        }
    }
}

impl PasswordSource {
    /// After the server refused what [`PasswordSource::password`] gave:
    /// whether asking again may give something new (a signed-in account's
    /// renewed access token). Passwords are not asked again.
    pub fn renew(&self) -> bool {
        match self {
            PasswordSource::SignIn(account) => crate::oauth::grant::set_stale(account),
            _ => false,
        }
    }
}

fn run_password_command(cmd: &str) -> Result<Password, SecretError> {
    let argv = split_command(cmd)?;
    let (program, args) = argv.split_first().ok_or(SecretError::EmptyCommand)?;
    let output = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .output()
        .map_err(|source| SecretError::Spawn {
            program: program.clone(),
            source,
        })?;
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(SecretError::Failed {
            program: program.clone(),
            status: output.status.to_string(),
            stderr: stderr.trim().chars().take(300).collect(),
        });
    }
    let password = password_from_bytes(output.stdout)?;
    if password.0.is_empty() {
        return Err(SecretError::NoOutput {
            program: program.clone(),
        });
    }
    Ok(password)
}

/// Standard output or input to a password: one trailing newline (LF or CRLF) removed.
pub fn password_from_bytes(mut bytes: Vec<u8>) -> Result<Password, SecretError> {
    if bytes.ends_with(b"\n") {
        bytes.pop();
        if bytes.ends_with(b"\r") {
            bytes.pop();
        }
    }
    String::from_utf8(bytes)
        .map(Password)
        .map_err(|_| SecretError::NotUtf8)
}

/// Splits a command line into words: whitespace separates, '…' and "…" quote,
/// backslash escapes outside single quotes. No expansion of any kind.
pub fn split_command(cmd: &str) -> Result<Vec<String>, SecretError> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = cmd.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('\'') => break,
                        Some(c) => word.push(c),
                        None => return Err(SecretError::BadQuoting),
                    }
                }
            }
            '"' => {
                in_word = true;
                loop {
                    match chars.next() {
                        Some('"') => break,
                        Some('\\') => word.push(chars.next().ok_or(SecretError::BadQuoting)?),
                        Some(c) => word.push(c),
                        None => return Err(SecretError::BadQuoting),
                    }
                }
            }
            '\\' => {
                in_word = true;
                word.push(chars.next().ok_or(SecretError::BadQuoting)?);
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                word.push(c);
            }
        }
    }
    if in_word {
        words.push(word);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_split_like_a_shell_without_expansion() {
        assert_eq!(
            split_command("printf secret").unwrap(),
            ["printf", "secret"]
        );
        assert_eq!(
            split_command(r#"sh -c 'echo "$HOME"' "a b" c\ d ''"#).unwrap(),
            ["sh", "-c", "echo \"$HOME\"", "a b", "c d", ""]
        );
        assert!(split_command("echo 'open").is_err());
    }

    #[test]
    fn password_command_output_less_one_newline() {
        let p = PasswordSource::Command("printf 'pa ss\\n'".into())
            .password()
            .unwrap();
        assert_eq!(p.expose(), "pa ss");
        assert_eq!(format!("{p:?}"), "Password(***)");
    }

    #[test]
    fn password_command_failures_say_what_happened() {
        let err = PasswordSource::Command("sh -c 'echo locked >&2; exit 3'".into())
            .password()
            .unwrap_err()
            .to_string();
        assert!(err.contains("failed") && err.contains("locked"), "{err}");
        let err = PasswordSource::Command("/nonexistent/pw".into())
            .password()
            .unwrap_err();
        assert!(err.to_string().contains("cannot run"), "{err}");
        let err = PasswordSource::Command("true".into())
            .password()
            .unwrap_err();
        assert!(err.to_string().contains("printed no password"), "{err}");
        assert!(matches!(
            PasswordSource::Command("  ".into()).password(),
            Err(SecretError::EmptyCommand)
        ));
    }
}
