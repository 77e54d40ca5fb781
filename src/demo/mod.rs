//! `pipit demo`: a real POP3 server over TLS on loopback, serving a sample
//! mailbox, and a throwaway profile whose account trusts the server's new
//! certificate by fingerprint. Never the user's real profile or keychain.

pub(crate) mod mailbox;
mod server;

use std::path::{Path, PathBuf};

use crate::config::{Account, AuthMethod, Config, Policy};
use crate::net::Security;
use crate::paths::Paths;

pub use mailbox::DEMO_SIZE_LIMIT;
pub use server::Server;

pub const USER: &str = "demo";
pub const PASSWORD: &str = "demo";

/// A running demo: its server, and a profile set up to fetch from it.
pub struct Demo {
    pub server: Server,
    /// The throwaway profile; removed when the demo ends.
    pub home: tempfile::TempDir,
}

impl Demo {
    /// Starts the server and writes a profile with one account for it.
    pub fn start() -> Result<Demo, String> {
        let server = Server::start(USER, PASSWORD, mailbox::messages(crate::dates::unix_now()))?;
        let home = tempfile::Builder::new()
            .prefix("pipit-demo-")
            .tempdir()
            .map_err(|e| format!("cannot make a temporary profile: {e}"))?;
        let mut config = Config::default();
        config.accounts.push(account(&server));
        config
            .save(&Paths::under(home.path()).config)
            .map_err(|e| e.to_string())?;
        Ok(Demo { server, home })
    }

    pub fn paths(&self) -> Paths {
        Paths::under(self.home.path())
    }

    /// What `pipit demo --headless` prints: where the server is and how to fetch from it.
    pub fn instructions(&self, home_hint: &Path) -> String {
        let p = self.server.port;
        let fp = &self.server.fingerprint;
        format!(
            "Pipit demo POP3 server (TLS) on 127.0.0.1:{p}\n\
user {USER}, password {PASSWORD}, certificate SHA-256 {fp}\n\n\
Try it from another terminal:\n\
  pipit --home {home} account add demo --host 127.0.0.1 --port {p} --user {USER} \\\n\
      --password-command 'printf {PASSWORD}' --trust-fingerprint {fp} --max-size {DEMO_SIZE_LIMIT}\n\
  pipit --home {home} fetch\n\
  pipit --home {home} list\n\n\
Press Ctrl+C to stop the server.",
            home = home_hint.display()
        )
    }
}

/// The demo account: TLS, the certificate pinned, large mail left on the server.
pub fn account(server: &Server) -> Account {
    Account {
        name: "Demo".into(),
        host: "127.0.0.1".into(),
        port: server.port,
        security: Security::Tls,
        user: USER.into(),
        auth: AuthMethod::Auto,
        password_command: Some(format!("printf {PASSWORD}")),
        policy: Policy::Keep,
        max_size: Some(DEMO_SIZE_LIMIT),
        trust_fingerprint: Some(server.fingerprint.to_string()),
        ca_file: None,
        timeout_secs: 30,
        check_every_minutes: None,
        oauth: None,
        rules: Default::default(),
    }
}

/// A directory name for the headless instructions' `--home` (not created here).
pub fn suggested_home() -> PathBuf {
    std::env::temp_dir().join("pipit-demo-cli")
}
