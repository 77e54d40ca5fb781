//! Where Pipit keeps its files: under `--home DIR` / `PIPIT_HOME` when given
//! (tests, demos, portable setups), else the platform's config and data dirs.

use std::path::{Path, PathBuf};

#[derive(Clone, Debug)]
pub struct Paths {
    pub config: PathBuf,
    pub store: PathBuf,
    /// One lock file per account, held while it is fetched.
    pub locks: PathBuf,
}

impl Paths {
    pub fn under(home: &Path) -> Paths {
        Paths {
            config: home.join("config.toml"),
            store: home.join("pipit.db"),
            locks: home.join("locks"),
        }
    }

    /// `home` if given, else `PIPIT_HOME`, else the platform directories.
    pub fn resolve(home: Option<&Path>) -> Result<Paths, String> {
        if let Some(home) = home {
            return Ok(Paths::under(home));
        }
        if let Some(home) = std::env::var_os("PIPIT_HOME").filter(|h| !h.is_empty()) {
            return Ok(Paths::under(Path::new(&home)));
        }
        let dirs = directories::ProjectDirs::from("org", "Pipit", "pipit").ok_or(
            "cannot find a home directory for Pipit's files: set PIPIT_HOME or use --home DIR",
        )?;
        Ok(Paths {
            config: dirs.config_dir().join("config.toml"),
            store: dirs.data_dir().join("pipit.db"),
            locks: dirs.data_dir().join("locks"),
        })
    }
}
