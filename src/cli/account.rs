//! `pipit account add|list|edit|remove|set-password`.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::{Failure, exit};
use crate::config::{Account, AuthMethod, Config, ConfigError, Policy};
use crate::net::{Fingerprint, Security};
use crate::oauth::{Grant, SignInError};
use crate::paths::Paths;
use crate::setup::{self, SetupError};

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
    /// Change an account's settings; its mail, and what Pipit knows of its
    /// server, stay. Pointed at another server holding the same mail (a
    /// move), the next fetch finds the messages it has instead of
    /// downloading them again.
    Edit(Box<EditArgs>),
    /// Sign an OAuth2 account in again (its sign-in expired or was revoked).
    SignIn {
        name: String,
        /// With a code entered on another device, not in this computer's browser.
        #[arg(long)]
        device: bool,
    },
    /// Look up an address's POP3 settings and say where they came from
    /// (nothing is saved, no login is tried).
    Discover {
        /// The email address.
        address: String,
        /// Print JSON on standard output.
        #[arg(long)]
        json: bool,
    },
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
    /// The email address: the server and the user name are looked up from
    /// it (the options below still override what is found).
    #[arg(long, value_name = "ADDRESS")]
    pub email: Option<String>,
    /// Use settings found for --email that need confirming (a server outside the address's domain).
    #[arg(long, requires = "email")]
    pub yes: bool,
    /// The POP3 server (with --oauth microsoft or google: theirs by default).
    #[arg(long, required_unless_present_any = ["oauth", "email"])]
    pub host: Option<String>,
    /// Default: 995 for tls, 110 for starttls and plain.
    #[arg(long)]
    pub port: Option<u16>,
    /// tls (the default), starttls or plain.
    #[arg(long, value_parser = ["tls", "starttls", "plain"])]
    pub security: Option<String>,
    /// Default with --email: what the lookup found, else the address.
    #[arg(long, required_unless_present = "email")]
    pub user: Option<String>,
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
    /// auto (strongest SASL offered, else USER/PASS; the default), apop, user, plain, cram-md5 or
    /// scram-sha-256; xoauth2 or oauthbearer when the password source gives an OAuth2 access token
    /// (xoauth2 is the default with --oauth).
    #[arg(long)]
    pub auth: Option<String>,
    /// Seconds to wait for the server before giving up.
    #[arg(long, default_value_t = 30)]
    pub timeout: u64,
    #[command(flatten)]
    pub oauth: OAuthArgs,
}

/// Signing in with OAuth2 instead of a password.
#[derive(Args, Debug)]
pub struct OAuthArgs {
    /// Sign in with OAuth2: microsoft, google, or an issuer's https:// address.
    #[arg(long, value_name = "PROVIDER", conflicts_with_all = ["password_stdin", "password_command"])]
    pub oauth: Option<String>,
    /// Sign in with a code entered on another device, not in this computer's browser.
    #[arg(long, requires = "oauth")]
    pub device: bool,
    /// The client id Pipit is registered under with the provider.
    #[arg(long, requires = "oauth")]
    pub client_id: Option<String>,
    /// The provider's client secret for desktop apps (Google), if it gives one.
    #[arg(long, requires = "oauth")]
    pub client_secret: Option<String>,
    /// The scopes to ask for, space-separated (default: the provider's).
    #[arg(long, requires = "oauth")]
    pub scope: Option<String>,
}

#[derive(Args, Debug)]
pub struct EditArgs {
    pub name: String,
    #[arg(long)]
    pub host: Option<String>,
    /// Default: unchanged, or the new security's port if the old one was the old default.
    #[arg(long)]
    pub port: Option<u16>,
    #[arg(long, value_parser = ["tls", "starttls", "plain"])]
    pub security: Option<String>,
    #[arg(long)]
    pub user: Option<String>,
    /// Read a new password from standard input and keep it in the OS keychain.
    #[arg(long, conflicts_with = "password_command")]
    pub password_stdin: bool,
    /// A command whose output is the password, run at each fetch.
    #[arg(long, value_name = "CMD")]
    pub password_command: Option<String>,
    /// keep, delete (after download) or keep-days:N.
    #[arg(long)]
    pub policy: Option<String>,
    /// Messages larger than this many bytes stay headers-only until asked for.
    #[arg(long, value_name = "BYTES", conflicts_with = "no_max_size")]
    pub max_size: Option<u64>,
    /// Download messages of any size.
    #[arg(long)]
    pub no_max_size: bool,
    /// Trust exactly the server certificate with this SHA-256 fingerprint.
    #[arg(long, value_name = "SHA256", conflicts_with_all = ["ca_file", "web_roots"])]
    pub trust_fingerprint: Option<String>,
    /// Trust certificates issued by the CA (or the self-signed certificate) in this PEM file.
    #[arg(long, value_name = "PEM", conflicts_with = "web_roots")]
    pub ca_file: Option<PathBuf>,
    /// Trust the public certificate authorities again (no pinned fingerprint, no CA file).
    #[arg(long)]
    pub web_roots: bool,
    /// auto, apop, user, plain, cram-md5, scram-sha-256, xoauth2 or oauthbearer.
    #[arg(long)]
    pub auth: Option<String>,
    /// Seconds to wait for the server before giving up.
    #[arg(long)]
    pub timeout: Option<u64>,
}

fn usage(message: String) -> Failure {
    Failure::new(exit::USAGE, message)
}

/// A fingerprint as Pipit writes it, or a usage error.
fn fingerprint(f: &str) -> Result<String, Failure> {
    Fingerprint::parse(f).map(|f| f.to_string()).map_err(usage)
}

/// A CA file's absolute path, which must exist; or a usage error.
fn ca_file_at(path: &std::path::Path) -> Result<PathBuf, Failure> {
    let ca = std::path::absolute(path).map_err(|e| {
        usage(format!(
            "cannot use the CA file path {}: {e}",
            path.display()
        ))
    })?;
    if !ca.is_file() {
        return Err(usage(format!(
            "the CA file {} does not exist",
            ca.display()
        )));
    }
    Ok(ca)
}

impl From<SetupError> for Failure {
    fn from(e: SetupError) -> Self {
        match e {
            SetupError::Invalid(e) => usage(format!("{}: {e}", e.setting.option())),
            SetupError::Config(e) => e.into(),
            SetupError::Keychain(e) => e.into(),
            e @ SetupError::NotMoved(_) => Failure::new(
                exit::OTHER,
                format!("{e}. Give it again with --password-stdin"),
            ),
        }
    }
}

/// Checks an account as typed, naming the option at fault: nothing is saved
/// unless this passes.
fn validated(account: &Account) -> Result<(), Failure> {
    account
        .validate()
        .map_err(|e| usage(format!("{}: {e}", e.setting.option())))
}

pub fn run(paths: &Paths, command: AccountCommand) -> Result<(), Failure> {
    match command {
        AccountCommand::Add(args) => {
            let AddArgs {
                name,
                email,
                yes,
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
                oauth,
            } = *args;
            let provider = oauth
                .oauth
                .as_deref()
                .map(crate::oauth::Provider::parse)
                .transpose()
                .map_err(|e| usage(format!("--oauth: {e}")))?;
            let preset = provider.as_ref().and_then(|p| p.pop3_server());
            let security: Option<Security> = security
                .as_deref()
                .map(str::parse)
                .transpose()
                .map_err(usage)?;
            // An address and no server: look the server up.
            let found = match &email {
                Some(address) if host.is_none() && provider.is_none() => {
                    Some(super::discover::for_add(
                        address,
                        &super::discover::Given {
                            security,
                            trust: trust_fingerprint.is_some() || ca_file.is_some(),
                            yes,
                            can_ask: !password_stdin,
                        },
                    )?)
                }
                _ => None,
            };
            let Some(host) = host
                .or(preset.map(|(h, _)| h.to_string()))
                .or(found.as_ref().map(|f| f.host.clone()))
            else {
                return Err(usage(
                    "--host: say which POP3 server this provider's mail is on".into(),
                ));
            };
            // A port found goes with the security it was found with.
            let port = port.or(preset.map(|(_, p)| p)).or(found
                .as_ref()
                .filter(|f| security.is_none_or(|s| s == f.security))
                .map(|f| f.port));
            let security = security
                .or(found.as_ref().map(|f| f.security))
                .unwrap_or(Security::Tls);
            let Some(user) = user
                .or(found.as_ref().map(|f| f.user.clone()))
                .or(email.clone())
            else {
                return Err(usage("--user: say who logs in".into()));
            };
            let policy: Policy = policy.parse().map_err(usage)?;
            let auth: AuthMethod = auth.as_deref().unwrap_or("auto").parse().map_err(usage)?;
            // A signed-in account sends its token with XOAUTH2 unless told
            // otherwise: the mechanism Microsoft's, Google's and Dovecot's
            // POP3 servers all take.
            let auth = match (&provider, auth) {
                (Some(_), AuthMethod::Auto) => AuthMethod::XOAuth2,
                (_, auth) => auth,
            };
            let trust_fingerprint = trust_fingerprint.as_deref().map(fingerprint).transpose()?;
            let ca_file = ca_file.as_deref().map(ca_file_at).transpose()?;
            if !password_stdin && password_command.is_none() && provider.is_none() {
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
                rules: Default::default(),
                oauth: provider.map(|p| {
                    Box::new(crate::oauth::OAuthConfig {
                        provider: p.key().to_string(),
                        client_id: oauth.client_id,
                        client_secret: oauth.client_secret,
                        scope: oauth.scope,
                        key: crate::oauth::new_key(),
                    })
                }),
            };
            // Before the keychain and the config file: a bad value saves nothing.
            validated(&account)?;
            if account.oauth.is_some() {
                return add_signed_in(paths, account, oauth.device);
            }
            let config = Config::load(&paths.config)?;
            if config.accounts.iter().any(|a| a.name == account.name) {
                return Err(ConfigError::Exists(account.name).into());
            }
            // The keychain first: an account is only saved once its password is.
            let password = password_stdin
                .then(super::password_from_stdin)
                .transpose()?;
            setup::add(&paths.config, account, password.as_ref())?;
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
            let (_, removed) = setup::remove(&paths.config, &name)?;
            eprintln!("Removed account {name:?}. Its downloaded mail stays in the store.");
            let what = if removed.account.oauth.is_some() {
                "sign-in"
            } else {
                "password"
            };
            match removed.password {
                Ok(true) => eprintln!("Its {what} was removed from the keychain."),
                Ok(false) => {}
                Err(e) => {
                    eprintln!("pipit: warning: its {what} may still be in the keychain: {e}")
                }
            }
            Ok(())
        }
        AccountCommand::Edit(args) => edit(paths, *args),
        AccountCommand::Discover { address, json } => super::discover::run(&address, json),
        AccountCommand::SignIn { name, device } => {
            let config = Config::load(&paths.config)?;
            let account = config.account(&name)?.clone();
            if account.oauth.is_none() {
                return Err(usage(format!(
                    "account {name:?} logs in with a password, not OAuth2: to change it, use pipit account set-password {name} --password-stdin"
                )));
            }
            let grant = signed_in(&account, device)?;
            // The browser may be signed in to another mailbox: the sign-in
            // replaces the old one only once the server takes it.
            logged_in(&account, &grant)?;
            grant.save(&account)?;
            eprintln!(
                "Signed in: account {name:?} fetches again with: pipit fetch --account {name}"
            );
            Ok(())
        }
        AccountCommand::SetPassword { name, .. } => {
            let mut config = Config::load(&paths.config)?;
            let account = config.account(&name)?.clone();
            if account.oauth.is_some() {
                return Err(usage(format!(
                    "account {name:?} signs in with OAuth2 and has no password: to sign in again, use pipit account sign-in {name}"
                )));
            }
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

/// `account add --oauth`: the sign-in first, then a login with its token;
/// the account is saved only once both have worked.
fn add_signed_in(paths: &Paths, account: Account, device: bool) -> Result<(), Failure> {
    let config = Config::load(&paths.config)?;
    if config.accounts.iter().any(|a| a.name == account.name) {
        return Err(ConfigError::Exists(account.name).into());
    }
    let grant = signed_in(&account, device)?;
    let info = logged_in(&account, &grant)?;
    let name = account.name.clone();
    setup::add_signed_in(&paths.config, account, &grant)?;
    eprintln!(
        "Added account {name:?} ({} message{} on the server). Fetch its mail with: pipit fetch --account {name}",
        info.messages,
        if info.messages == 1 { "" } else { "s" }
    );
    Ok(())
}

/// Logs in to the account's server with a new sign-in's token, before the
/// sign-in is kept.
fn logged_in(account: &Account, grant: &Grant) -> Result<crate::sync::ServerInfo, Failure> {
    eprintln!("Signed in. Logging in to {}…", account.host);
    let token = crate::secrets::Password::new(grant.access_token.clone());
    crate::sync::test_connection(account, &token).map_err(|e| {
        Failure::new(
            exit::of(e.kind()),
            format!(
                "the sign-in worked but the POP3 server refused the login with it: {e}. Nothing was saved: \
is the browser signed in to another mailbox?"
            ),
        )
    })
}

/// Runs the sign-in, telling the user on standard error what to do.
fn signed_in(account: &Account, device: bool) -> Result<Grant, Failure> {
    use crate::oauth::{Flow, Prompt};
    let flow = if device { Flow::Device } else { Flow::Browser };
    let cancel = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut show = |prompt: Prompt<'_>| match prompt {
        Prompt::Browser { url } => {
            eprintln!(
                "Opening your browser to sign in. If it does not open, open this address:\n  {url}"
            );
            eprintln!("Waiting for the browser (Ctrl+C to stop)…");
            // Beside the sign-in: the opener may take seconds to answer, and
            // the browser's answer must find Pipit listening.
            let url = url.to_string();
            std::thread::spawn(move || {
                if let Err(e) = crate::oauth::browser::open_browser(&url) {
                    eprintln!("pipit: could not open a browser: {e}");
                }
            });
        }
        Prompt::Device(code) => {
            eprintln!(
                "To sign in, open {} on any device and enter the code {}",
                crate::reveal::field(&code.verification_uri),
                crate::reveal::field(&code.user_code)
            );
            eprintln!("Waiting for you to sign in there (Ctrl+C to stop)…");
        }
    };
    crate::oauth::sign_in(account, flow, &mut show, cancel).map_err(|e| {
        let status = if e.needs_sign_in()
            || matches!(e, SignInError::Refused { .. } | SignInError::StateMismatch)
        {
            exit::of(crate::sync::ErrorKind::LoginRefused)
        } else if e.is_network() {
            exit::of(crate::sync::ErrorKind::Network)
        } else if matches!(
            e,
            SignInError::NoClientId { .. }
                | SignInError::UnknownProvider(_)
                | SignInError::NotHttps { .. }
        ) {
            exit::USAGE
        } else {
            exit::OTHER
        };
        Failure::new(status, format!("cannot sign in: {e}"))
    })
}

/// `account edit`: the changed settings, checked as `add` checks them; the
/// password follows the account to a new server or user name.
fn edit(paths: &Paths, args: EditArgs) -> Result<(), Failure> {
    let config = Config::load(&paths.config)?;
    let old = config.account(&args.name)?.clone();
    if old.oauth.is_some() && args.password_stdin {
        return Err(usage(format!(
            "--password-stdin: account {:?} signs in with OAuth2 and has no password: to sign in again, use pipit account sign-in {}",
            old.name, old.name
        )));
    }
    let mut account = old.clone();
    if let Some(security) = &args.security {
        let security: Security = security.parse().map_err(usage)?;
        // A port left at the old security's default follows the new one.
        if args.port.is_none() && account.port == account.security.default_port() {
            account.port = security.default_port();
        }
        account.security = security;
    }
    if let Some(host) = args.host {
        account.host = host;
    }
    if let Some(port) = args.port {
        account.port = port;
    }
    if let Some(user) = args.user {
        account.user = user;
    }
    if let Some(policy) = &args.policy {
        account.policy = policy.parse().map_err(usage)?;
    }
    if let Some(auth) = &args.auth {
        account.auth = auth.parse().map_err(usage)?;
    }
    if args.no_max_size {
        account.max_size = None;
    } else if let Some(bytes) = args.max_size {
        account.max_size = Some(bytes);
    }
    if let Some(f) = &args.trust_fingerprint {
        account.trust_fingerprint = Some(fingerprint(f)?);
        account.ca_file = None;
    } else if let Some(ca) = &args.ca_file {
        account.ca_file = Some(ca_file_at(ca)?);
        account.trust_fingerprint = None;
    } else if args.web_roots {
        account.trust_fingerprint = None;
        account.ca_file = None;
    }
    if let Some(timeout) = args.timeout {
        account.timeout_secs = timeout;
    }
    if let Some(command) = args.password_command {
        account.password_command = Some(command);
    } else if args.password_stdin {
        account.password_command = None;
    }
    validated(&account)?;
    if account == old && !args.password_stdin {
        eprintln!("Nothing to change for {:?}.", old.name);
        return Ok(());
    }
    let password = args
        .password_stdin
        .then(super::password_from_stdin)
        .transpose()?;
    let (_, changed) = setup::edit(&paths.config, &old.name, account.clone(), password.as_ref())?;
    if let Some(e) = changed.leftover {
        eprintln!("pipit: warning: the old password may still be in the keychain: {e}");
    }
    let name = &account.name;
    if changed.moved_server {
        eprintln!(
            "Changed account {name:?}: now {}@{}:{}. Its mail stays; the next fetch finds the \
messages it already has on the new server by their headers, without downloading them again.",
            account.user, account.host, account.port
        );
    } else {
        eprintln!("Changed account {name:?}.");
    }
    Ok(())
}
