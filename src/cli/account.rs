//! `pipit account add|list|remove`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::{Failure, exit};
use crate::config::{Account, AuthMethod, Config, ConfigError, Policy};
use crate::net::{Fingerprint, Security};
use crate::paths::Paths;

#[derive(Subcommand, Debug)]
pub enum AccountCommand {
    /// Add an account.
    Add(Box<AddArgs>),
    /// List the accounts.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Remove an account and its keychain entry (its downloaded mail stays in the store).
    Remove { name: String },
    /// Store a new password for an account in the OS keychain.
    SetPassword {
        name: String,
        /// Read the password from standard input.
        #[arg(long, required = true)]
        password_stdin: bool,
    },
}

#[derive(Args, Debug)]
pub struct AddArgs {
    pub name: String,
    #[arg(long)]
    pub host: String,
    /// Default: 995 for tls, 110 for starttls and plain.
    #[arg(long)]
    pub port: Option<u16>,
    #[arg(long, default_value = "tls", value_parser = ["tls", "starttls", "plain"])]
    pub security: String,
    #[arg(long)]
    pub user: String,
    /// Read the password from standard input and keep it in the OS keychain.
    #[arg(long, conflicts_with = "password_command")]
    pub password_stdin: bool,
    /// A command whose output is the password, run at each fetch (no shell unless you write one).
    #[arg(long, value_name = "CMD")]
    pub password_command: Option<String>,
    /// keep, delete (after download) or keep-days:N.
    #[arg(long, default_value = "keep")]
    pub policy: String,
    /// Messages larger than this many bytes stay headers-only until asked for.
    #[arg(long, value_name = "BYTES")]
    pub max_size: Option<u64>,
    /// Trust exactly the server certificate with this SHA-256 fingerprint.
    #[arg(long, value_name = "SHA256", conflicts_with = "ca_file")]
    pub trust_fingerprint: Option<String>,
    /// Trust certificates issued by the CA (or the self-signed certificate) in this PEM file.
    #[arg(long, value_name = "PEM")]
    pub ca_file: Option<PathBuf>,
    /// auto (strongest SASL offered, else USER/PASS), apop, user, plain, cram-md5 or scram-sha-256.
    #[arg(long, default_value = "auto")]
    pub auth: String,
    /// Seconds to wait for the server before giving up.
    #[arg(long, default_value_t = 30)]
    pub timeout: u64,
}

pub fn run(paths: &Paths, command: AccountCommand) -> Result<(), Failure> {
    match command {
        AccountCommand::Add(args) => {
            let AddArgs {
                name,
                host,
                port,
                security,
                user,
                password_stdin,
                password_command,
                policy,
                max_size,
                trust_fingerprint,
                ca_file,
                auth,
                timeout,
            } = *args;
            let usage = |m: String| Failure::new(exit::USAGE, m);
            let security: Security = security.parse().map_err(usage)?;
            let policy: Policy = policy.parse().map_err(usage)?;
            let auth: AuthMethod = auth.parse().map_err(usage)?;
            let trust_fingerprint = trust_fingerprint
                .map(|f| Fingerprint::parse(&f).map(|f| f.to_string()))
                .transpose()
                .map_err(usage)?;
            let ca_file = ca_file
                .map(|p| {
                    std::path::absolute(&p).map_err(|e| {
                        usage(format!("cannot use the CA file path {}: {e}", p.display()))
                    })
                })
                .transpose()?;
            if let Some(ca) = &ca_file
                && !ca.is_file()
            {
                return Err(usage(format!(
                    "the CA file {} does not exist",
                    ca.display()
                )));
            }
            if !password_stdin && password_command.is_none() {
                return Err(usage(
                    "say where the password comes from: --password-stdin (kept in the OS keychain) \
or --password-command CMD"
                        .into(),
                ));
            }
            let account = Account {
                name: name.clone(),
                port: port.unwrap_or(security.default_port()),
                host,
                security,
                user,
                auth,
                password_command,
                policy,
                max_size,
                trust_fingerprint,
                ca_file,
                timeout_secs: timeout,
                check_every_minutes: None,
            };
            // Before the keychain and the config file: a bad value saves nothing.
            account
                .validate()
                .map_err(|e| usage(format!("{}: {e}", e.setting.option())))?;
            let mut config = Config::load(&paths.config)?;
            if config.accounts.iter().any(|a| a.name == account.name) {
                return Err(ConfigError::Exists(account.name).into());
            }
            if password_stdin {
                // The keychain first: an account is only saved once its password is.
                let password = super::password_from_stdin()?;
                account.keychain_entry().set(&password)?;
            }
            config.add(account)?;
            config.save(&paths.config)?;
            eprintln!("Added account {name:?}. Fetch its mail with: pipit fetch --account {name}");
            Ok(())
        }
        AccountCommand::List { json } => {
            let config = Config::load(&paths.config)?;
            if json {
                super::emit(
                    &serde_json::to_string_pretty(&config.accounts).expect("accounts serialise"),
                );
            } else if config.accounts.is_empty() {
                eprintln!(
                    "No accounts yet. Add one with: pipit account add NAME --host HOST --user USER --password-command CMD"
                );
            } else {
                let mut text = String::new();
                for a in &config.accounts {
                    text.push_str(&format!(
                        "{}\t{}@{}:{} ({}, policy {})\n",
                        a.name,
                        a.user,
                        a.host,
                        a.port,
                        a.security.name(),
                        a.policy
                    ));
                }
                super::emit(text.trim_end());
            }
            Ok(())
        }
        AccountCommand::Remove { name } => {
            let mut config = Config::load(&paths.config)?;
            let removed = config.remove(&name)?;
            config.save(&paths.config)?;
            eprintln!("Removed account {name:?}. Its downloaded mail stays in the store.");
            // Another account may log in as the same user on the same server.
            let shared = config.accounts.iter().any(|a| {
                a.password_command.is_none() && a.keychain_entry() == removed.keychain_entry()
            });
            if removed.password_command.is_none() && !shared {
                match removed.keychain_entry().delete() {
                    Ok(_) => eprintln!("Its password was removed from the keychain."),
                    Err(e) => {
                        eprintln!("pipit: warning: its password may still be in the keychain: {e}")
                    }
                }
            }
            Ok(())
        }
        AccountCommand::SetPassword { name, .. } => {
            let mut config = Config::load(&paths.config)?;
            let account = config.account(&name)?.clone();
            let password = super::password_from_stdin()?;
            account.keychain_entry().set(&password)?;
            if account.password_command.is_some() {
                // The keychain now holds the password: stop asking the command.
                if let Some(a) = config.accounts.iter_mut().find(|a| a.name == name) {
                    a.password_command = None;
                }
                config.save(&paths.config)?;
                eprintln!(
                    "Account {name:?} now takes its password from the keychain, not its password command."
                );
            } else {
                eprintln!("Stored the new password for {name:?} in the keychain.");
            }
            Ok(())
        }
    }
}
