//! A real Secret Service for one test: a private D-Bus session with
//! gnome-keyring unlocked in it, in throwaway HOME and XDG directories.
//! Needs the packages dbus, gnome-keyring and libsecret-tools (tests/run.sh
//! installs them); without them the test fails, loudly.

use std::io::{BufRead as _, BufReader};
use std::os::unix::fs::PermissionsExt as _;
use std::process::{Child, Command, Stdio};

pub struct SecretService {
    child: Child,
    bus: String,
    dir: tempfile::TempDir,
}

impl SecretService {
    pub fn start() -> SecretService {
        for tool in ["dbus-run-session", "gnome-keyring-daemon", "secret-tool"] {
            super::require_tool(tool);
        }
        let dir = tempfile::tempdir().unwrap();
        for sub in ["home", "run"] {
            std::fs::create_dir(dir.path().join(sub)).unwrap();
        }
        std::fs::set_permissions(
            dir.path().join("run"),
            std::fs::Permissions::from_mode(0o700),
        )
        .unwrap();
        // The session lives as long as `cat` reads our stdin.
        let mut child = Command::new("dbus-run-session")
            .args([
                "--",
                "sh",
                "-c",
                "printf pw | gnome-keyring-daemon --unlock --components=secrets >/dev/null && \
                 echo \"$DBUS_SESSION_BUS_ADDRESS\" && exec cat >/dev/null",
            ])
            .envs(Self::dirs(dir.path()))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start dbus-run-session");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let bus = line.trim().to_string();
        assert!(
            bus.starts_with("unix:"),
            "no D-Bus session started (got {bus:?})"
        );
        SecretService { child, bus, dir }
    }

    fn dirs(root: &std::path::Path) -> Vec<(String, String)> {
        let home = root.join("home");
        let d = |p: &std::path::Path| p.display().to_string();
        vec![
            ("HOME".into(), d(&home)),
            ("XDG_RUNTIME_DIR".into(), d(&root.join("run"))),
            ("XDG_DATA_HOME".into(), d(&home.join(".local/share"))),
            ("XDG_CONFIG_HOME".into(), d(&home.join(".config"))),
            ("XDG_CACHE_HOME".into(), d(&home.join(".cache"))),
        ]
    }

    /// The variables a process needs to use this keychain.
    pub fn env(&self) -> Vec<(String, String)> {
        let mut env = Self::dirs(self.dir.path());
        env.push(("DBUS_SESSION_BUS_ADDRESS".into(), self.bus.clone()));
        env
    }

    /// What the keychain holds for Pipit and `user`, read by another client.
    pub fn lookup(&self, user: &str) -> Option<String> {
        self.lookup_in("pipit", user)
    }

    /// The user names of every entry filed under `service`.
    pub fn users_in(&self, service: &str) -> Vec<String> {
        let out = Command::new("secret-tool")
            .args(["search", "--all", "service", service])
            .envs(self.env())
            .output()
            .unwrap();
        // secret-tool prints the attributes on standard output, or (older
        // versions) on standard error.
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        text.lines()
            .filter_map(|l| l.strip_prefix("attribute.username = "))
            .map(String::from)
            .collect()
    }

    /// What the keychain holds for `service` and `user`.
    pub fn lookup_in(&self, service: &str, user: &str) -> Option<String> {
        let out = Command::new("secret-tool")
            .args(["lookup", "service", service, "username", user])
            .envs(self.env())
            .output()
            .unwrap();
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

impl Drop for SecretService {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.wait();
    }
}
