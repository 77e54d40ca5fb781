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
use crate::rules::Rules;
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
    /// SASL SCRAM-SHA-256. (Written "scram-sha256" by earlier versions.)
    #[serde(rename = "scram-sha-256", alias = "scram-sha256")]
    ScramSha256,
    /// SASL XOAUTH2: the "password" is an OAuth2 access token.
    #[serde(rename = "xoauth2")]
    XOAuth2,
    /// SASL OAUTHBEARER (RFC 7628): the "password" is an OAuth2 access token.
    #[serde(rename = "oauthbearer")]
    OAuthBearer,
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
            "xoauth2" => Ok(AuthMethod::XOAuth2),
            "oauthbearer" => Ok(AuthMethod::OAuthBearer),
            _ => Err(format!(
                "unknown authentication {s:?}: use auto, apop, user, plain, cram-md5, scram-sha-256, \
xoauth2 or oauthbearer"
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
    /// Signs in with OAuth2: the login sends an access token (kept in the
    /// keychain with its refresh token) instead of a password.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub oauth: Option<Box<crate::oauth::OAuthConfig>>,
    /// Rules before download (`[[account.rule]]`), in order: see `crate::rules`.
    #[serde(default, rename = "rule", skip_serializing_if = "Rules::is_empty")]
    pub rules: Rules,
}

fn default_timeout() -> u64 {
    30
}

/// The longest wait for a server that makes sense: an hour.
const MAX_TIMEOUT_SECS: u64 = 3600;

/// A setting a user typed, named as each face names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Setting {
    Name,
    Host,
    Port,
    User,
    MaxSize,
    Timeout,
    PasswordCommand,
    Auth,
}

impl Setting {
    /// How the command line names it.
    pub fn option(self) -> &'static str {
        match self {
            Setting::Name => "NAME",
            Setting::Host => "--host",
            Setting::Port => "--port",
            Setting::User => "--user",
            Setting::MaxSize => "--max-size",
            Setting::Timeout => "--timeout",
            Setting::PasswordCommand => "--password-command",
            Setting::Auth => "--auth",
        }
    }

    /// How the window's account dialog labels it.
    pub fn label(self) -> &'static str {
        match self {
            Setting::Name => "Account name",
            Setting::Host => "Server",
            Setting::Port => "Port",
            Setting::User => "User name",
            Setting::MaxSize => "Size limit",
            Setting::Timeout => "Timeout",
            Setting::PasswordCommand => "Password command",
            Setting::Auth => "Authentication",
        }
    }
}

/// A setting that cannot be right, and what to write instead.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{problem}")]
pub struct InvalidSetting {
    pub setting: Setting,
    pub problem: String,
}

impl Account {
    /// What a deleting rule of this account is armed with: the rule with
    /// the rules before it ([`Rules::fingerprint_of`]), for this host and
    /// user (the mailbox; not the port, which changes with the security).
    /// The store keeps arming by account name; an account removed and added
    /// again under its name for another mailbox has not had its dry run
    /// there.
    pub fn arming_fingerprint(&self, rule: &crate::rules::Rule) -> crate::rules::Fingerprint {
        let text = serde_json::to_vec(&(self.rules.fingerprint_of(rule), &self.host, &self.user))
            .unwrap_or_default();
        let digest = ring::digest::digest(&ring::digest::SHA256, &text);
        digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Checks every setting a user types. The command line and the window's
    /// dialog both call this before they save anything, so neither can save
    /// an account that could never connect, or a user name that would put a
    /// second command on the wire.
    pub fn validate(&self) -> Result<(), InvalidSetting> {
        let invalid = |setting, problem: String| Err(InvalidSetting { setting, problem });
        if let Some(problem) = name_problem(&self.name) {
            return invalid(Setting::Name, problem);
        }
        if let Some(problem) = host_problem(&self.host) {
            return invalid(Setting::Host, problem);
        }
        if self.port == 0 {
            return invalid(
                Setting::Port,
                format!(
                    "0 is not a port; use a number from 1 to 65535 ({} for {})",
                    self.security.default_port(),
                    self.security.name()
                ),
            );
        }
        if let Some(problem) = user_problem(&self.user) {
            return invalid(Setting::User, problem);
        }
        if self.max_size == Some(0) {
            return invalid(
                Setting::MaxSize,
                "a limit of 0 bytes would keep every message on the server; give a size of \
at least 1 byte, or no limit"
                    .into(),
            );
        }
        if !(1..=MAX_TIMEOUT_SECS).contains(&self.timeout_secs) {
            return invalid(
                Setting::Timeout,
                format!(
                    "{} seconds is not a timeout Pipit can use; give a number of seconds from 1 to {MAX_TIMEOUT_SECS}",
                    self.timeout_secs
                ),
            );
        }
        if self.oauth.is_some() {
            if !matches!(self.auth, AuthMethod::XOAuth2 | AuthMethod::OAuthBearer) {
                return invalid(
                    Setting::Auth,
                    "an account that signs in with OAuth2 logs in with its token: use xoauth2 or oauthbearer".into(),
                );
            }
            if self.password_command.is_some() {
                return invalid(
                    Setting::PasswordCommand,
                    "an account that signs in with OAuth2 takes no password command: its token comes from the sign-in".into(),
                );
            }
        }
        if let Some(command) = &self.password_command {
            match crate::secrets::split_command(command) {
                Ok(words) if !words.is_empty() => {}
                Ok(_) => return invalid(Setting::PasswordCommand, "the command is empty".into()),
                Err(e) => return invalid(Setting::PasswordCommand, e.to_string()),
            }
        }
        Ok(())
    }

    /// Where the password comes from: the command if one is set, else the
    /// sign-in for an OAuth2 account (its access token), else the keychain.
    pub fn password_source(&self) -> PasswordSource {
        match (&self.password_command, &self.oauth) {
            (Some(cmd), _) => PasswordSource::Command(cmd.clone()),
            (None, Some(_)) => PasswordSource::SignIn(Box::new(self.clone())),
            (None, None) => PasswordSource::Keychain(self.keychain_entry()),
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
        let damaged = |detail: String| ConfigError::Damaged {
            path: path.to_path_buf(),
            detail,
        };
        // The rules first: what is wrong with one is named by its line.
        crate::rules::check_config_text(&text).map_err(damaged)?;
        toml::from_str(&text).map_err(|e| damaged(e.to_string()))
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

    /// Another account (not named `except`) that reads the mailbox
    /// `account` would: the same user on the same server and port. Two such
    /// accounts show every message twice.
    pub fn reading_same_mailbox(
        &self,
        account: &Account,
        except: Option<&str>,
    ) -> Option<&Account> {
        self.accounts.iter().find(|a| {
            Some(a.name.as_str()) != except
                && a.host.eq_ignore_ascii_case(&account.host)
                && a.port == account.port
                && a.user == account.user
        })
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

/// What is wrong with an account name, if anything. Names are typed again
/// with `--account NAME`, so they must be plain words on one line.
fn name_problem(name: &str) -> Option<String> {
    let hint = "give it a short name like home or work";
    if name.trim().is_empty() {
        return Some(format!("the account name is empty; {hint}"));
    }
    if name.chars().any(char::is_control) {
        return Some(format!("{name:?} has a control character; {hint}"));
    }
    if name.trim() != name {
        return Some(format!("{name:?} starts or ends with a space; {hint}"));
    }
    if name.starts_with('-') {
        return Some(format!(
            "{name:?} starts with '-', which the command line reads as an option; {hint}"
        ));
    }
    if name.chars().count() > 64 {
        return Some(format!(
            "the account name is longer than 64 characters; {hint}"
        ));
    }
    None
}

/// What is wrong with a server name, if anything: it must be an IP address,
/// or a DNS name in ASCII (what TLS checks a certificate against).
fn host_problem(host: &str) -> Option<String> {
    let hint = "give a name like pop.example.org, or an address like 192.0.2.7";
    if host.is_empty() {
        return Some(format!("the server name is empty; {hint}"));
    }
    if host.parse::<std::net::IpAddr>().is_ok() {
        return None;
    }
    let not = |why: &str| Some(format!("{host:?} is not a server name: {why}; {hint}"));
    if let Some(inner) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']'))
        && inner.parse::<std::net::Ipv6Addr>().is_ok()
    {
        return not("write an IPv6 address without its brackets");
    }
    if host.chars().any(char::is_control) {
        return not("it has a control character");
    }
    if host.chars().any(char::is_whitespace) {
        return not("it has a space");
    }
    if host.contains(':') || host.contains('/') {
        return not(
            "give the name alone, without pop3:// or a port (the port has its own setting)",
        );
    }
    if !host.is_ascii() {
        return not(
            "it has letters outside ASCII; write it as your provider does in ASCII (xn--…)",
        );
    }
    if let Some(c) = host
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')))
    {
        return not(&format!("no server name has {c:?} in it"));
    }
    let name = host.strip_suffix('.').unwrap_or(host);
    if name.len() > 253 {
        return not("it is longer than 253 characters");
    }
    for label in name.split('.') {
        if label.is_empty() {
            return not("it has two dots in a row, or starts with one");
        }
        if label.len() > 63 {
            return not("a part between dots is longer than 63 characters");
        }
        if label.starts_with('-') || label.ends_with('-') {
            return not("a part between dots starts or ends with '-'");
        }
    }
    None
}

/// What is wrong with a user name, if anything. It goes on the wire in
/// `USER name`: a line break in it would send a command of its own.
fn user_problem(user: &str) -> Option<String> {
    let hint = "give the name the server knows you by, often your address";
    if user.is_empty() {
        return Some(format!("the user name is empty; {hint}"));
    }
    if user.chars().any(char::is_control) {
        return Some(format!(
            "{user:?} has a control character (a line break, perhaps); {hint}"
        ));
    }
    if user.trim() != user {
        return Some(format!("{user:?} starts or ends with a space; {hint}"));
    }
    if user.len() > 255 {
        return Some(format!("the user name is longer than 255 bytes; {hint}"));
    }
    None
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
            oauth: None,
            rules: Default::default(),
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
    fn a_bad_rule_is_refused_with_its_line_and_field() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        let head = "[[account]]\nname = \"home\"\nhost = \"x\"\nport = 995\nsecurity = \"tls\"\nuser = \"u\"\npolicy = \"delete\"\n";
        let good = "[[account.rule]]\nname = \"spam\"\nheader = \"X-Spam-Flag: YES\"\naction = \"delete\"\n";
        fs::write(&path, format!("{head}{good}")).unwrap();
        let config = Config::load(&path).unwrap();
        assert_eq!(config.accounts[0].rules.iter().count(), 1);
        // Each bad rule, and the line (1-based) and field its error must name.
        let bad = [
            (
                "[[account.rule]]\nname = \"big\"\nlarger_than = 5\naction = \"shred\"\n",
                "line 15",
                "action",
            ),
            (
                "[[account.rule]]\nname = \"big\"\n\nheader = \"X-Spam-Flag\"\naction = \"delete\"\n",
                "line 15",
                "no ':'",
            ),
            (
                "[[account.rule]]\nname = \"big\"\naction = \"delete\"\n",
                "line 12",
                "no condition",
            ),
            (
                "[[account.rule]]\nname = \"big\"\nlarger_than = 5\n\nsmaller_than = 2\naction = \"delete\"\n",
                "line 16",
                "smaller_than",
            ),
            (
                "[[account.rule]]\nname = \"spam\"\nfrom = \"a\"\naction = \"delete\"\n",
                "",
                "another rule",
            ),
        ];
        for (rule, line, what) in bad {
            let text = format!("{head}{good}{rule}");
            fs::write(&path, &text).unwrap();
            let err = Config::load(&path).unwrap_err().to_string();
            assert!(err.contains(line) && err.contains(what), "{rule}: {err}");
            assert_eq!(fs::read_to_string(&path).unwrap(), text);
        }
    }

    #[test]
    fn settings_that_could_never_work_are_refused_with_what_to_write() {
        assert_eq!(account("home").validate(), Ok(()));
        let refused = |change: fn(&mut Account)| {
            let mut a = account("home");
            change(&mut a);
            a.validate().expect_err("refused")
        };
        type Case = (fn(&mut Account), Setting, &'static str);
        let cases: [Case; 17] = [
            (
                |a| a.name = String::new(),
                Setting::Name,
                "the account name is empty",
            ),
            (
                |a| a.name = " home".into(),
                Setting::Name,
                "starts or ends with a space",
            ),
            (
                |a| a.name = "-x".into(),
                Setting::Name,
                "reads as an option",
            ),
            (
                |a| a.name = "a\nb".into(),
                Setting::Name,
                "control character",
            ),
            (
                |a| a.host = String::new(),
                Setting::Host,
                "the server name is empty",
            ),
            (
                |a| a.host = "pop example.org".into(),
                Setting::Host,
                "it has a space",
            ),
            (
                |a| a.host = "pop.example.org\r".into(),
                Setting::Host,
                "control character",
            ),
            (
                |a| a.host = "pop.example.org:995".into(),
                Setting::Host,
                "without pop3:// or a port",
            ),
            (
                |a| a.host = "pop..example.org".into(),
                Setting::Host,
                "two dots in a row",
            ),
            (
                |a| a.host = "-pop.example.org".into(),
                Setting::Host,
                "starts or ends with '-'",
            ),
            (
                |a| a.host = "pop.exämple.org".into(),
                Setting::Host,
                "outside ASCII",
            ),
            (
                |a| a.host = "[::1]".into(),
                Setting::Host,
                "without its brackets",
            ),
            (
                |a| a.port = 0,
                Setting::Port,
                "0 is not a port; use a number from 1 to 65535 (995 for tls)",
            ),
            (
                |a| a.user = "alice\r\nDELE 1".into(),
                Setting::User,
                "control character",
            ),
            (
                |a| a.max_size = Some(0),
                Setting::MaxSize,
                "at least 1 byte",
            ),
            (|a| a.timeout_secs = 0, Setting::Timeout, "from 1 to 3600"),
            (
                |a| a.password_command = Some("pass 'show".into()),
                Setting::PasswordCommand,
                "unclosed quote",
            ),
        ];
        for (change, setting, says) in cases {
            let e = refused(change);
            assert_eq!(e.setting, setting, "{e}");
            assert!(e.to_string().contains(says), "{setting:?}: {e}");
        }
        for host in [
            "pop.example.org",
            "POP.Example.ORG.",
            "127.0.0.1",
            "::1",
            "mail_1.local",
            "localhost",
        ] {
            let mut a = account("home");
            a.host = host.into();
            assert_eq!(a.validate(), Ok(()), "{host}");
        }
    }

    /// Every way of logging in reads as the command line writes it, in the
    /// file too: `auth = "xoauth2"`, not serde's "x-o-auth2".
    #[test]
    fn auth_methods_are_written_as_typed() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        for name in [
            "auto",
            "apop",
            "user",
            "plain",
            "cram-md5",
            "scram-sha-256",
            "xoauth2",
            "oauthbearer",
        ] {
            let auth: AuthMethod = name.parse().unwrap();
            let mut config = Config::default();
            let mut a = account("home");
            a.auth = auth;
            config.add(a).unwrap();
            config.save(&path).unwrap();
            let text = fs::read_to_string(&path).unwrap();
            assert!(text.contains(&format!("auth = \"{name}\"")), "{text}");
            assert_eq!(Config::load(&path).unwrap(), config);
        }
        let err = "XOAUTH".parse::<AuthMethod>().unwrap_err();
        assert!(err.contains("xoauth2 or oauthbearer"), "{err}");
        // A file an earlier Pipit wrote still reads.
        let mut config = Config::default();
        config.add(account("home")).unwrap();
        config.save(&path).unwrap();
        let old = fs::read_to_string(&path)
            .unwrap()
            .replace("auth = \"auto\"", "auth = \"scram-sha256\"");
        fs::write(&path, old).unwrap();
        assert_eq!(
            Config::load(&path).unwrap().accounts[0].auth,
            AuthMethod::ScramSha256
        );
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
