//! Accounts on disk: a TOML file, written atomically, mode 0600, never
//! holding a password.

use std::fmt;
use std::fs::{self, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::net::{Endpoint, Fingerprint, Security, Trust};
use crate::pop3::Limits;
use crate::secrets::{KeychainEntry, PasswordSource};

/// What happens to a message on the server once it is safely in the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Policy {
    /// Leave it until the user deletes it here.
    Keep,
    /// Delete it from the server as soon as it is stored (download-and-delete).
    Delete,
    /// Delete it from the server N days after it was first seen there.
    KeepDays(u32),
}

impl FromStr for Policy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "keep" => Ok(Policy::Keep),
            "delete" => Ok(Policy::Delete),
            _ => s
                .strip_prefix("keep-days:")
                .and_then(|n| n.parse().ok())
                .map(Policy::KeepDays)
                .ok_or_else(|| format!("unknown policy {s:?}: use keep, delete or keep-days:N")),
        }
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Policy::Keep => f.write_str("keep"),
            Policy::Delete => f.write_str("delete"),
            Policy::KeepDays(n) => write!(f, "keep-days:{n}"),
        }
    }
}

impl TryFrom<String> for Policy {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<Policy> for String {
    fn from(p: Policy) -> String {
        p.to_string()
    }
}

/// How to log in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AuthMethod {
    /// The strongest SASL mechanism the server offers, else USER/PASS.
    #[default]
    Auto,
    /// APOP: the password never crosses the wire.
    Apop,
    /// USER and PASS.
    User,
    /// SASL PLAIN, even if stronger mechanisms are offered.
    Plain,
    /// SASL CRAM-MD5.
    CramMd5,
    /// SASL SCRAM-SHA-256.
    ScramSha256,
}

impl FromStr for AuthMethod {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(AuthMethod::Auto),
            "apop" => Ok(AuthMethod::Apop),
            "user" => Ok(AuthMethod::User),
            "plain" => Ok(AuthMethod::Plain),
            "cram-md5" => Ok(AuthMethod::CramMd5),
            "scram-sha-256" => Ok(AuthMethod::ScramSha256),
            _ => Err(format!(
                "unknown authentication {s:?}: use auto, apop, user, plain, cram-md5 or scram-sha-256"
            )),
        }
    }
}

/// One mail account.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    pub name: String,
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub user: String,
    #[serde(default)]
    pub auth: AuthMethod,
    /// A command whose standard output is the password; without one, the
    /// password is in the OS keychain.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_command: Option<String>,
    pub policy: Policy,
    /// Messages larger than this stay "headers only" until asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trust_fingerprint: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// Seconds to wait to connect, and for each read or write.
    #[serde(default = "default_timeout")]
    pub timeout_secs: u64,
    /// Minutes between automatic checks in the window; none means only by hand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check_every_minutes: Option<u32>,
}

fn default_timeout() -> u64 {
    30
}

impl Account {
    /// Where the password comes from: the command if one is set, else the keychain.
    pub fn password_source(&self) -> PasswordSource {
        match &self.password_command {
            Some(cmd) => PasswordSource::Command(cmd.clone()),
            None => PasswordSource::Keychain(self.keychain_entry()),
        }
    }

    /// This account's place in the OS keychain.
    pub fn keychain_entry(&self) -> KeychainEntry {
        KeychainEntry::new(&self.user, &self.host)
    }

    /// Where and how to connect.
    pub fn endpoint(&self) -> Result<Endpoint, String> {
        let trust = match (&self.trust_fingerprint, &self.ca_file) {
            (Some(fp), _) => Trust::Fingerprint(Fingerprint::parse(fp)?),
            (None, Some(ca)) => Trust::CaFile(ca.clone()),
            (None, None) => Trust::WebRoots,
        };
        Ok(Endpoint {
            host: self.host.clone(),
            port: self.port,
            security: self.security,
            trust,
            timeout: Duration::from_secs(self.timeout_secs.max(1)),
            limits: Limits::default(),
        })
    }
}

/// The whole config file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    #[serde(default, rename = "account")]
    pub accounts: Vec<Account>,
}

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read the config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the config file {path} is damaged; it was left untouched. Fix it or move it aside.\n{detail}"
    )]
    Damaged { path: PathBuf, detail: String },
    #[error("cannot write the config file {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("there is no account named {0:?} (see `pipit account list`)")]
    NoSuchAccount(String),
    #[error("an account named {0:?} exists already")]
    Exists(String),
    #[error("no account is set up yet: add one with `pipit account add NAME --host … --user …`")]
    NoAccounts,
}

impl Config {
    /// Reads the config file; a missing file is an empty config.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = match fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Config::default()),
            Err(source) => {
                return Err(ConfigError::Read {
                    path: path.to_path_buf(),
                    source,
                });
            }
        };
        toml::from_str(&text).map_err(|e| ConfigError::Damaged {
            path: path.to_path_buf(),
            detail: e.to_string(),
        })
    }

    /// Writes the config: a private temporary file, synced, then renamed over
    /// the old one, so a crash leaves either the old file or the new one.
    pub fn save(&self, path: &Path) -> Result<(), ConfigError> {
        let write_error = |source| ConfigError::Write {
            path: path.to_path_buf(),
            source,
        };
        let text = toml::to_string(self).map_err(|e| write_error(std::io::Error::other(e)))?;
        let dir = path.parent().unwrap_or(Path::new("."));
        fs::create_dir_all(dir).map_err(write_error)?;
        let tmp = dir.join(format!(".{}.tmp-{}", file_name(path), std::process::id()));
        let result = (|| {
            let mut file = OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(&tmp)?;
            file.write_all(text.as_bytes())?;
            file.sync_all()?;
            fs::rename(&tmp, path)?;
            fs::File::open(dir)?.sync_all()
        })();
        if result.is_err() {
            let _ = fs::remove_file(&tmp);
        }
        result.map_err(write_error)
    }

    pub fn account(&self, name: &str) -> Result<&Account, ConfigError> {
        self.accounts
            .iter()
            .find(|a| a.name == name)
            .ok_or_else(|| ConfigError::NoSuchAccount(name.to_string()))
    }

    pub fn add(&mut self, account: Account) -> Result<(), ConfigError> {
        if self.accounts.iter().any(|a| a.name == account.name) {
            return Err(ConfigError::Exists(account.name));
        }
        self.accounts.push(account);
        Ok(())
    }

    pub fn remove(&mut self, name: &str) -> Result<Account, ConfigError> {
        let i = self
            .accounts
            .iter()
            .position(|a| a.name == name)
            .ok_or_else(|| ConfigError::NoSuchAccount(name.to_string()))?;
        Ok(self.accounts.remove(i))
    }
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map_or("config".into(), |n| n.to_string_lossy().into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;

    fn account(name: &str) -> Account {
        Account {
            name: name.into(),
            host: "pop.example.org".into(),
            port: 995,
            security: Security::Tls,
            user: "alice".into(),
            auth: AuthMethod::Auto,
            password_command: Some("pass show mail".into()),
            policy: Policy::KeepDays(14),
            max_size: Some(1_000_000),
            trust_fingerprint: None,
            ca_file: None,
            timeout_secs: 30,
            check_every_minutes: Some(10),
        }
    }

    #[test]
    fn round_trip_private_and_atomic() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let mut config = Config::default();
        config.add(account("home")).unwrap();
        config.add(account("work")).unwrap();
        assert!(matches!(
            config.add(account("home")),
            Err(ConfigError::Exists(_))
        ));
        config.save(&path).unwrap();
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(Config::load(&path).unwrap(), config);
        assert!(
            fs::read_to_string(&path)
                .unwrap()
                .contains("policy = \"keep-days:14\"")
        );
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file left"
        );
    }

    #[test]
    fn a_damaged_file_names_its_line_and_is_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let text = "[[account]]\nname = \"home\"\nhost = \"x\"\nport = \"nine\"\n";
        fs::write(&path, text).unwrap();
        let err = Config::load(&path).unwrap_err().to_string();
        assert!(err.contains("damaged") && err.contains("line 4"), "{err}");
        assert_eq!(fs::read_to_string(&path).unwrap(), text);
    }

    #[test]
    fn policies_parse() {
        assert_eq!("keep".parse(), Ok(Policy::Keep));
        assert_eq!("delete".parse(), Ok(Policy::Delete));
        assert_eq!("keep-days:7".parse(), Ok(Policy::KeepDays(7)));
        assert!(
            "keep-days:x"
                .parse::<Policy>()
                .unwrap_err()
                .contains("keep-days:N")
        );
    }
}
