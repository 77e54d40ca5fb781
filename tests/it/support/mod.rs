//! What the integration tests stand on: a real Dovecot, a scripted fake
//! server for faults, sample mail, and the real `pipit` binary.

pub mod authserver;
pub mod dns;
pub mod dovecot;
pub mod fake;
pub mod hostile;
pub mod https;
pub mod invariant;
pub mod keyring;
pub mod mail;
pub mod proxy;
pub mod window;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use serde_json::Value;

/// The real binary, with its own throwaway `--home`. It never sees the
/// developer's session bus, so no test can touch a real keychain.
pub struct Pipit {
    pub home: tempfile::TempDir,
    /// Variables set for every run (a test Secret Service's bus, say).
    pub env: Vec<(String, String)>,
}

impl Pipit {
    pub fn new() -> Pipit {
        Pipit {
            home: tempfile::tempdir().expect("temp dir"),
            env: Vec::new(),
        }
    }

    /// A Pipit that talks to this test keychain.
    pub fn with_keyring(keyring: &keyring::SecretService) -> Pipit {
        let mut pipit = Pipit::new();
        pipit.env = keyring.env();
        pipit
    }

    pub fn home(&self) -> &Path {
        self.home.path()
    }

    pub fn store_path(&self) -> PathBuf {
        self.home().join("pipit.db")
    }

    pub fn command(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_pipit"));
        c.arg("--home")
            .arg(self.home())
            .env_remove("PIPIT_HOME")
            .env_remove("DBUS_SESSION_BUS_ADDRESS")
            .env("XDG_RUNTIME_DIR", self.home());
        c.envs(self.env.iter().map(|(k, v)| (k, v)));
        c
    }

    /// Adds account "lab": user alice at 127.0.0.1:`port`, password from
    /// `printf secret` unless `extra` names another source, plus `extra`.
    pub fn add_account(&self, port: u16, security: &str, extra: &[&str]) {
        let args = account_add_args(port, security, extra);
        self.ok(&args.iter().map(String::as_str).collect::<Vec<_>>());
    }

    /// Adds a second account, `name`: plain text to 127.0.0.1:`port`, its
    /// password from `printf secret`.
    pub fn add_account_named(&self, name: &str, port: &str) {
        self.ok(&[
            "account",
            "add",
            name,
            "--host",
            "127.0.0.1",
            "--port",
            port,
            "--security",
            "plain",
            "--user",
            "bob",
            "--password-command",
            "printf secret",
        ]);
    }

    /// Runs `pipit --home HOME args…` with nothing on standard input.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command()
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("run pipit")
    }

    /// Runs with `input` on standard input.
    pub fn run_with_stdin(&self, args: &[&str], input: &[u8]) -> Output {
        use std::io::Write as _;
        let mut child = self
            .command()
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run pipit");
        // A pipit that refuses its arguments exits without reading its
        // input: the pipe is then broken, which is its answer, not the test's.
        match child.stdin.take().unwrap().write_all(input) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => {}
            other => other.unwrap(),
        }
        child.wait_with_output().unwrap()
    }

    /// Runs under [`run_bounded`]'s caps.
    pub fn run_bounded(
        &self,
        args: &[&str],
        memory_mib: u64,
        deadline: std::time::Duration,
    ) -> (Output, std::time::Duration) {
        let mut command = self.command();
        command.args(args);
        run_bounded(&command, memory_mib, deadline)
    }

    /// Runs and insists on exit status 0.
    pub fn ok(&self, args: &[&str]) -> Output {
        let out = self.run(args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "pipit {args:?} failed:\n{}",
            describe(&out)
        );
        out
    }

    /// `fetch --json`, with its exit status and report.
    pub fn fetch(&self, extra: &[&str]) -> (i32, Value) {
        let mut args = vec!["fetch", "--json"];
        args.extend_from_slice(extra);
        let out = self.run(&args);
        let report = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("fetch --json printed no JSON ({e}):\n{}", describe(&out)));
        (out.status.code().unwrap_or(-1), report)
    }

    pub fn fetch_ok(&self) -> Value {
        let (code, report) = self.fetch(&[]);
        assert_eq!(code, 0, "fetch failed: {report:#}");
        report
    }

    pub fn list(&self) -> Vec<Value> {
        let out = self.ok(&["list", "--json"]);
        serde_json::from_slice::<Vec<Value>>(&out.stdout).expect("list --json is a JSON array")
    }

    pub fn raw(&self, id: i64) -> Vec<u8> {
        self.ok(&["show", &id.to_string(), "--raw"]).stdout
    }

    /// Every full message's stored bytes, sorted.
    pub fn all_raw(&self) -> Vec<Vec<u8>> {
        let mut all: Vec<Vec<u8>> = self
            .list()
            .iter()
            .filter(|m| m["state"] == "full")
            .map(|m| self.raw(m["id"].as_i64().unwrap()))
            .collect();
        all.sort();
        all
    }
}

/// `account add lab` for user alice at 127.0.0.1:`port`, with `extra`; the
/// password comes from `printf secret` unless `extra` names another source.
pub fn account_add_args(port: u16, security: &str, extra: &[&str]) -> Vec<String> {
    let port = port.to_string();
    let mut args = vec![
        "account",
        "add",
        "lab",
        "--host",
        "127.0.0.1",
        "--port",
        &port,
        "--security",
        security,
        "--user",
        "alice",
    ];
    if !extra.iter().any(|a| a.starts_with("--password")) {
        args.extend_from_slice(&["--password-command", "printf secret"]);
    }
    args.extend_from_slice(extra);
    args.into_iter().map(String::from).collect()
}

/// Runs `command` with its address space capped at `memory_mib` MiB
/// (`ulimit -v`), killed if it takes longer than `deadline`; says how long
/// it took. Standard output and error are read as they come, so a command
/// that prints megabytes does not stall on a full pipe.
pub fn run_bounded(
    command: &Command,
    memory_mib: u64,
    deadline: std::time::Duration,
) -> (Output, std::time::Duration) {
    use std::io::Read as _;
    let started = std::time::Instant::now();
    let mut capped = Command::new("sh");
    capped
        .args(["-c", "ulimit -v \"$1\" && shift && exec \"$@\"", "sh"])
        .arg((memory_mib * 1024).to_string())
        .arg(command.get_program())
        .args(command.get_args())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in command.get_envs() {
        match value {
            Some(value) => capped.env(key, value),
            None => capped.env_remove(key),
        };
    }
    let mut child = capped.spawn().expect("run a capped command");
    let drain = |mut pipe: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            bytes
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait for the command") {
            break status;
        }
        if started.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{command:?} did not finish within {deadline:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let took = started.elapsed();
    let out = Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    };
    (out, took)
}

/// Fails the test, saying how to get it, unless `tool` is on the PATH.
pub fn require_tool(tool: &str) {
    let found = std::process::Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        found,
        "{tool} is not installed: run tests/run.sh, which installs what the tests need"
    );
}

/// Exit status, standard output and standard error, for assertion messages.
pub fn describe(out: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Opens the store directly, for checks the CLI does not offer.
pub fn open_db(path: &Path) -> rusqlite::Connection {
    rusqlite::Connection::open(path).expect("open store")
}
