//! The per-account lock file, so two Pipits never fetch one account at once.

use std::fs::{self, File};
use std::path::Path;

use super::FetchError;

/// Held while an account is fetched, so two Pipits never fetch it at once.
pub(super) struct AccountLock {
    _file: File,
}

impl AccountLock {
    pub(super) fn take(dir: &Path, account: &str) -> Result<AccountLock, FetchError> {
        let lock_error = |source| FetchError::LockFile {
            path: dir.display().to_string(),
            source,
        };
        fs::create_dir_all(dir).map_err(lock_error)?;
        // One file name per account name, and two names never share one:
        // letters, digits and '-' stay, every other byte is written as _XX.
        let safe: String = account
            .bytes()
            .map(|b| {
                if b.is_ascii_alphanumeric() || b == b'-' {
                    (b as char).to_string()
                } else {
                    format!("_{b:02X}")
                }
            })
            .collect();
        let path = dir.join(format!("{safe}.lock"));
        let file = File::options()
            .create(true)
            .write(true)
            .truncate(false)
            .open(&path)
            .map_err(lock_error)?;
        match file.try_lock() {
            Ok(()) => Ok(AccountLock { _file: file }),
            Err(std::fs::TryLockError::WouldBlock) => Err(FetchError::Locked {
                account: account.to_string(),
            }),
            Err(std::fs::TryLockError::Error(e)) => Err(lock_error(e)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_fetch_of_one_account_is_refused_while_the_first_holds_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let first = AccountLock::take(dir.path(), "home").unwrap();
        let err = AccountLock::take(dir.path(), "home").err().unwrap();
        assert!(err.to_string().contains("another Pipit"), "{err}");
        AccountLock::take(dir.path(), "work").unwrap();
        // Names that differ only in what a file name cannot hold do not share a lock.
        let _spaced = AccountLock::take(dir.path(), "a b").unwrap();
        AccountLock::take(dir.path(), "a_b").unwrap();
        AccountLock::take(dir.path(), "a/b").unwrap();
        drop(first);
        AccountLock::take(dir.path(), "home").unwrap();
    }
}
