//! `pipit doctor`: examines a POP3 server, read-only, and reports check by
//! check (see `crate::doctor`).

use std::path::PathBuf;

use clap::Args;

use super::{Failure, exit, password_from_stdin};
use crate::config::{Account, AuthMethod, Config, ConfigError, Policy};
use crate::net::{Fingerprint, Security};
use crate::paths::Paths;

#[derive(Args, Debug)]
pub struct DoctorArgs {
    /// The saved account whose server to examine (default: the only one).
    #[arg(long, conflicts_with_all = ["host", "port", "security", "user", "password_command", "trust_fingerprint", "ca_file", "auth", "timeout"])]
    pub account: Option<String>,
    /// A server not saved as an account.
    #[arg(long, requires = "user")]
    pub host: Option<String>,
    /// Default: 995 for tls, 110 for starttls and plain.
    #[arg(long, requires = "host")]
    pub port: Option<u16>,
    #[arg(long, requires = "host", value_parser = ["tls", "starttls", "plain"])]
    pub security: Option<String>,
    #[arg(long, requires = "host")]
    pub user: Option<String>,
    /// Read the password from standard input.
    #[arg(long, conflicts_with = "password_command")]
    pub password_stdin: bool,
    /// A command whose output is the password.
    #[arg(long, value_name = "CMD", requires = "host")]
    pub password_command: Option<String>,
    /// Trust exactly the server certificate with this SHA-256 fingerprint.
    #[arg(
        long,
        value_name = "SHA256",
        requires = "host",
        conflicts_with = "ca_file"
    )]
    pub trust_fingerprint: Option<String>,
    /// Trust certificates issued by the CA in this PEM file.
    #[arg(long, value_name = "PEM", requires = "host")]
    pub ca_file: Option<PathBuf>,
    /// How to log in (as for account add).
    #[arg(long, requires = "host")]
    pub auth: Option<String>,
    /// Seconds to wait for the server before giving up.
    #[arg(long, requires = "host")]
    pub timeout: Option<u64>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

fn usage(message: impl Into<String>) -> Failure {
    Failure::new(exit::USAGE, message)
}

/// The account to examine, and its policy if it is a saved one.
fn target(paths: &Paths, args: &DoctorArgs) -> Result<(Account, Option<Policy>), Failure> {
    let Some(host) = &args.host else {
        let config = Config::load(&paths.config)?;
        let account = match &args.account {
            Some(name) => config.account(name)?.clone(),
            None => match config.accounts.as_slice() {
                [one] => one.clone(),
                [] => return Err(ConfigError::NoAccounts.into()),
                _ => {
                    return Err(usage(
                        "say which server to examine: --account NAME, or --host H --user U …",
                    ));
                }
            },
        };
        let policy = account.policy;
        return Ok((account, Some(policy)));
    };
    let security: Security = args
        .security
        .as_deref()
        .unwrap_or("tls")
        .parse()
        .map_err(usage)?;
    if !args.password_stdin && args.password_command.is_none() {
        return Err(usage(
            "say where the password comes from: --password-stdin or --password-command CMD",
        ));
    }
    let trust_fingerprint = args
        .trust_fingerprint
        .as_deref()
        .map(|f| Fingerprint::parse(f).map(|f| f.to_string()).map_err(usage))
        .transpose()?;
    let auth: AuthMethod = args
        .auth
        .as_deref()
        .unwrap_or("auto")
        .parse()
        .map_err(usage)?;
    let account = Account {
        name: "doctor".into(),
        host: host.clone(),
        port: args.port.unwrap_or(security.default_port()),
        security,
        user: args.user.clone().unwrap_or_default(),
        auth,
        password_command: args.password_command.clone(),
        policy: Policy::Keep,
        max_size: None,
        trust_fingerprint,
        ca_file: args
            .ca_file
            .as_deref()
            .map(std::path::absolute)
            .transpose()
            .map_err(|e| usage(format!("--ca-file: {e}")))?,
        timeout_secs: args.timeout.unwrap_or(30),
        check_every_minutes: None,
        oauth: None,
        rules: Default::default(),
    };
    account
        .validate()
        .map_err(|e| usage(format!("{}: {e}", e.setting.option())))?;
    Ok((account, None))
}

pub fn run(paths: &Paths, args: DoctorArgs) -> Result<(), Failure> {
    let (account, policy) = target(paths, &args)?;
    let password = if args.password_stdin {
        password_from_stdin()?
    } else {
        account.password_source().password()?
    };
    let report = crate::doctor::examine(&account, &password, policy);
    if args.json {
        super::emit(&serde_json::to_string_pretty(&report).expect("the report serialises"));
    } else {
        super::emit(&report.human());
    }
    if report.failed() {
        let failed: Vec<&str> = report
            .checks
            .iter()
            .filter(|c| c.status == crate::doctor::Status::Fail)
            .map(|c| c.id)
            .collect();
        return Err(Failure::new(
            exit::CHECK_FAILED,
            format!(
                "the server failed {} of the doctor's checks: {}",
                failed.len(),
                failed.join(", ")
            ),
        ));
    }
    Ok(())
}
