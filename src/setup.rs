//! Adding, changing and removing an account: the config file and the
//! keychain changed together, in the one order that never leaves an account
//! looking for a password that is not there. The command line and the
//! window's account settings both call these.

use std::path::Path;

use crate::config::{Account, Config, ConfigError, InvalidSetting};
use crate::oauth::Grant;
use crate::secrets::{Password, SecretError};

#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error(transparent)]
    Invalid(#[from] InvalidSetting),
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The keychain refused the password: nothing was saved.
    #[error(transparent)]
    Keychain(#[from] SecretError),
    /// The password could not follow the account to its new keychain entry.
    #[error(
        "the account's password could not be moved to its new keychain entry ({0}); nothing was changed"
    )]
    NotMoved(SecretError),
}

/// What a change did besides saving the settings.
#[derive(Debug, Default)]
pub struct Changed {
    /// Nothing differed: nothing was written.
    pub nothing: bool,
    /// The server or user changed: the next fetch finds what it has by headers.
    pub moved_server: bool,
    /// The old keychain entry could not be removed (the account works anyway).
    pub leftover: Option<SecretError>,
}

/// Adds `account`; its password, if given, goes to the keychain first, so an
/// account is only saved once its password is.
pub fn add(
    config_path: &Path,
    account: Account,
    password: Option<&Password>,
) -> Result<Config, SetupError> {
    account.validate()?;
    let mut config = Config::load(config_path)?;
    if config.accounts.iter().any(|a| a.name == account.name) {
        return Err(ConfigError::Exists(account.name).into());
    }
    if let Some(password) = password {
        account.keychain_entry().set(password)?;
    }
    config.add(account)?;
    config.save(config_path)?;
    Ok(config)
}

/// Replaces the account named `old_name` with `account` (same name); a new
/// password, if given, goes to the keychain. Without one, a keychain password
/// follows the account to its new server or user name.
pub fn edit(
    config_path: &Path,
    old_name: &str,
    mut account: Account,
    new_password: Option<&Password>,
) -> Result<(Config, Changed), SetupError> {
    let mut config = Config::load(config_path)?;
    let old = config.account(old_name)?.clone();
    account.name = old.name.clone();
    if new_password.is_some() {
        account.password_command = None;
    }
    account.validate()?;
    if account == old && new_password.is_none() {
        return Ok((
            config,
            Changed {
                nothing: true,
                ..Changed::default()
            },
        ));
    }
    // The password goes where the account now looks for it, before the
    // config says to look there.
    let moved = old.keychain_entry() != account.keychain_entry();
    if let Some(password) = new_password {
        account.keychain_entry().set(password)?;
    } else if account.password_command.is_none()
        && old.password_command.is_none()
        && old.oauth.is_none()
        && moved
    {
        let password = old.keychain_entry().get().map_err(SetupError::NotMoved)?;
        account
            .keychain_entry()
            .set(&password)
            .map_err(SetupError::NotMoved)?;
    }
    if let Some(a) = config.accounts.iter_mut().find(|a| a.name == old.name) {
        *a = account.clone();
    }
    config.save(config_path)?;
    let mut changed = Changed {
        moved_server: account.host != old.host
            || account.port != old.port
            || account.user != old.user,
        ..Changed::default()
    };
    // The old keychain entry goes, unless another account still uses it.
    if old.password_command.is_none()
        && old.oauth.is_none()
        && (moved || account.password_command.is_some())
    {
        changed.leftover = forget_password(&config, &old).err();
    }
    Ok((config, changed))
}

/// What removing an account did.
#[derive(Debug)]
pub struct Removed {
    pub account: Account,
    /// Whether its password was taken out of the keychain (`Ok(false)`: it
    /// had none there, or another account shares it).
    pub password: Result<bool, SecretError>,
}

/// Removes an account's settings and its keychain password; its mail stays
/// in the store.
pub fn remove(config_path: &Path, name: &str) -> Result<(Config, Removed), SetupError> {
    let mut config = Config::load(config_path)?;
    let account = config.remove(name)?;
    config.save(config_path)?;
    let password = if account.oauth.is_some() {
        Grant::forget(&account)
    } else if account.password_command.is_none() {
        forget_password(&config, &account)
    } else {
        Ok(false)
    };
    Ok((config, Removed { account, password }))
}

/// Adds an OAuth2 account that has signed in: its grant goes to the
/// keychain first, then the account to the config (and if that fails, the
/// grant leaves the keychain again).
pub fn add_signed_in(
    config_path: &Path,
    account: Account,
    grant: &Grant,
) -> Result<Config, SetupError> {
    account.validate()?;
    let mut config = Config::load(config_path)?;
    if config.accounts.iter().any(|a| a.name == account.name) {
        return Err(ConfigError::Exists(account.name).into());
    }
    grant.save(&account)?;
    let saved = config
        .add(account.clone())
        .and_then(|()| config.save(config_path));
    if let Err(e) = saved {
        let _ = Grant::forget(&account);
        return Err(e.into());
    }
    Ok(config)
}

/// Deletes `old`'s keychain entry unless an account in `config` still uses it.
fn forget_password(config: &Config, old: &Account) -> Result<bool, SecretError> {
    let shared = config
        .accounts
        .iter()
        .any(|a| a.password_command.is_none() && a.keychain_entry() == old.keychain_entry());
    if shared {
        return Ok(false);
    }
    old.keychain_entry().delete()
}
