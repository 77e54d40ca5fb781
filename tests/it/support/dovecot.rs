//! A real Dovecot POP3 server on loopback, one per test: its own directory,
//! free ports, a self-signed certificate, and one user `alice` (password
//! `secret`) whose Maildir holds the messages given. Started with
//! [`Dovecot::start_with_oauth2`], it also takes OAuth2 access tokens
//! (XOAUTH2, OAUTHBEARER): JWTs it checks itself, signed with
//! [`OAUTH2_KEY`] (see [`access_token`]).
//!
//! Dovecot must be installed (`apt-get install dovecot-pop3d`; tests/run.sh
//! does it). Without it these tests fail, loudly: they are never skipped.

use std::fs;
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

pub const USER: &str = "alice";
pub const PASSWORD: &str = "secret";
/// The HS256 key the OAuth2 Dovecot checks access tokens with.
pub const OAUTH2_KEY: &[u8] = b"pipit-test-hs256-key-0123456789abcdef";
/// The issuer it accepts.
pub const OAUTH2_ISSUER: &str = "https://issuer.pipit.test";

/// An access token as an identity provider would mint one: an HS256 JWT for
/// `sub`, from [`OAUTH2_ISSUER`], valid from `iat` to `exp` (Unix seconds),
/// signed with `key`.
pub fn access_token(key: &[u8], sub: &str, iat: i64, exp: i64) -> String {
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let header = b64.encode(r#"{"alg":"HS256","typ":"JWT"}"#);
    let claims = serde_json::json!({
        "sub": sub,
        "user": sub,
        "iss": OAUTH2_ISSUER,
        "aud": "pipit",
        "iat": iat,
        "exp": exp,
        // Something unguessable, so no two tokens are alike.
        "jti": format!("{:x}", rand_u64()),
    });
    let body = b64.encode(claims.to_string());
    let signed = format!("{header}.{body}");
    let tag = ring::hmac::sign(
        &ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key),
        signed.as_bytes(),
    );
    format!("{signed}.{}", b64.encode(tag.as_ref()))
}

fn rand_u64() -> u64 {
    use ring::rand::SecureRandom as _;
    let mut bytes = [0u8; 8];
    ring::rand::SystemRandom::new().fill(&mut bytes).unwrap();
    u64::from_le_bytes(bytes)
}

pub struct Dovecot {
    dir: tempfile::TempDir,
    pub plain_port: u16,
    pub tls_port: u16,
}

fn dovecot_binary() -> PathBuf {
    for p in ["/usr/sbin/dovecot", "/usr/local/sbin/dovecot"] {
        if Path::new(p).exists() {
            return PathBuf::from(p);
        }
    }
    panic!("Dovecot is not installed: run tests/run.sh, or apt-get install dovecot-pop3d");
}

/// Two distinct free ports, chosen while both are held.
fn free_ports() -> (u16, u16) {
    let a = TcpListener::bind("127.0.0.1:0").unwrap();
    let b = TcpListener::bind("127.0.0.1:0").unwrap();
    (
        a.local_addr().unwrap().port(),
        b.local_addr().unwrap().port(),
    )
}

fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

impl Dovecot {
    pub fn start(messages: &[Vec<u8>]) -> Dovecot {
        Dovecot::start_with_password(messages, PASSWORD)
    }

    /// A Dovecot whose user `alice` has this password.
    pub fn start_with_password(messages: &[Vec<u8>], password: &str) -> Dovecot {
        Dovecot::start_with(messages, password, "%08Xu%08Xv", false)
    }

    /// A Dovecot that writes its UIDLs with `uidl_format` (`pop3_uidl_format`):
    /// two servers with the same mail and other formats are one mailbox that
    /// moved.
    pub fn start_with_uidl_format(messages: &[Vec<u8>], uidl_format: &str) -> Dovecot {
        Dovecot::start_with(messages, PASSWORD, uidl_format, false)
    }

    /// A Dovecot that also offers XOAUTH2 and OAUTHBEARER, through its
    /// `oauth2` passdb validating JWTs locally (`introspection_mode =
    /// local`, Dovecot 2.3.11 and later): HS256, [`OAUTH2_KEY`] in a file
    /// dict, the issuer [`OAUTH2_ISSUER`], the user name in `sub`. A refused
    /// token costs no delay (`auth_failure_delay = 0`, no anvil penalty), so
    /// tests of refusals stay quick; the log says why a token was refused
    /// (`auth_verbose`). The password still works for the other mechanisms.
    pub fn start_with_oauth2(messages: &[Vec<u8>]) -> Dovecot {
        Dovecot::start_with(messages, PASSWORD, "%08Xu%08Xv", true)
    }

    fn start_with(
        messages: &[Vec<u8>],
        password: &str,
        uidl_format: &str,
        oauth2: bool,
    ) -> Dovecot {
        let binary = dovecot_binary();
        // Under /tmp, so Dovecot's unprivileged processes can reach it.
        let dir = tempfile::Builder::new()
            .prefix("pipit-dovecot-")
            .tempdir_in("/tmp")
            .unwrap();
        let root = dir.path().to_path_buf();
        for sub in [
            "run",
            "state",
            "home/alice/Maildir/cur",
            "home/alice/Maildir/new",
            "home/alice/Maildir/tmp",
        ] {
            fs::create_dir_all(root.join(sub)).unwrap();
        }
        for p in [&root, &root.join("run"), &root.join("home")] {
            fs::set_permissions(p, fs::Permissions::from_mode(0o755)).unwrap();
        }
        run(Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "30",
                "-subj",
                "/CN=localhost",
                "-addext",
                "subjectAltName=DNS:localhost,IP:127.0.0.1",
                "-addext",
                "basicConstraints=critical,CA:FALSE",
                "-keyout",
            ])
            .arg(root.join("key.pem"))
            .arg("-out")
            .arg(root.join("cert.pem")));
        for (i, m) in messages.iter().enumerate() {
            fs::write(
                root.join(format!(
                    "home/alice/Maildir/cur/1700000000.{:06}.test:2,",
                    i + 1
                )),
                m,
            )
            .unwrap();
        }

        // As root, Dovecot runs its parts as unprivileged users; otherwise as us.
        let uid = run(Command::new("id").arg("-u"));
        let gid = run(Command::new("id").arg("-g"));
        let (mail_uid, mail_gid, internal, login) = if uid == "0" {
            run(Command::new("chown")
                .args(["-R", "nobody:nogroup"])
                .arg(root.join("home")));
            (
                run(Command::new("id").args(["-u", "nobody"])),
                run(Command::new("id").args(["-g", "nobody"])),
                "dovecot".to_string(),
                "dovenull".to_string(),
            )
        } else {
            let me = run(Command::new("id").arg("-un"));
            (uid, gid, me.clone(), me)
        };
        fs::write(
            root.join("users"),
            format!(
                "{USER}:{{PLAIN}}{password}:{mail_uid}:{mail_gid}::{}::\n",
                root.join("home/alice").display()
            ),
        )
        .unwrap();

        // The key dict: `shared/<azp>/<alg>/<kid>` (no azp, no kid: "default")
        // is the file default/HS256/default under the prefix, in base64.
        let oauth2_conf = if oauth2 {
            use base64::Engine as _;
            let keys = root.join("oauth2-keys/default/HS256");
            fs::create_dir_all(&keys).unwrap();
            fs::write(
                keys.join("default"),
                base64::engine::general_purpose::STANDARD.encode(OAUTH2_KEY),
            )
            .unwrap();
            fs::write(
                root.join("oauth2.conf.ext"),
                format!(
                    "introspection_mode = local
local_validation_key_dict = fs:posix:prefix={}/
username_attribute = sub
issuers = {OAUTH2_ISSUER}
",
                    root.join("oauth2-keys").display()
                ),
            )
            .unwrap();
            format!(
                "auth_failure_delay = 0
auth_verbose = yes
passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {}
}}
",
                root.join("oauth2.conf.ext").display()
            )
        } else {
            String::new()
        };
        let (mechanisms, password_mechanisms, no_penalty) = if oauth2 {
            (
                " xoauth2 oauthbearer",
                "  mechanisms = plain login apop cram-md5 scram-sha-256\n",
                // Without its socket, the auth process applies no penalty.
                "  unix_listener anvil-auth-penalty {\n    mode = 0\n  }\n",
            )
        } else {
            ("", "", "")
        };

        let mut attempt = 0;
        let (plain_port, tls_port) = loop {
            attempt += 1;
            let (plain_port, tls_port) = free_ports();
            let r = root.display();
            let conf = root.join("dovecot.conf");
            fs::write(
                &conf,
                format!(
                    "base_dir = {r}/run
state_dir = {r}/state
log_path = {r}/dovecot.log
protocols = pop3
listen = 127.0.0.1
ssl = yes
ssl_cert = <{r}/cert.pem
ssl_key = <{r}/key.pem
disable_plaintext_auth = no
auth_mechanisms = plain login apop cram-md5 scram-sha-256{mechanisms}
mail_location = maildir:~/Maildir
pop3_uidl_format = {uidl_format}
default_internal_user = {internal}
default_login_user = {login}
first_valid_uid = 1
{oauth2_conf}passdb {{
  driver = passwd-file
{password_mechanisms}  args = scheme=PLAIN username_format=%u {r}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {r}/users
}}
service pop3-login {{
  inet_listener pop3 {{
    port = {plain_port}
  }}
  inet_listener pop3s {{
    port = {tls_port}
    ssl = yes
  }}
  chroot =
}}
service anvil {{
  chroot =
{no_penalty}}}
    "
                ),
            )
            .unwrap();
            // Dovecot daemonises and keeps its output open: so no pipes, just a file.
            let startup_log = fs::File::create(root.join("startup.log")).unwrap();
            let status = Command::new(&binary)
                .arg("-c")
                .arg(&conf)
                .stdin(std::process::Stdio::null())
                .stdout(startup_log.try_clone().unwrap())
                .stderr(startup_log)
                .status()
                .expect("run dovecot");
            if status.success() {
                break (plain_port, tls_port);
            }
            // Another test may have taken a port between choosing and binding.
            let log = fs::read_to_string(root.join("startup.log")).unwrap_or_default();
            assert!(attempt < 5, "dovecot did not start: {log}");
        };
        let server = Dovecot {
            dir,
            plain_port,
            tls_port,
        };
        server.wait_until_listening();
        server
    }

    fn wait_until_listening(&self) {
        let deadline = Instant::now() + Duration::from_secs(15);
        while Instant::now() < deadline {
            if TcpStream::connect(("127.0.0.1", self.tls_port)).is_ok()
                && TcpStream::connect(("127.0.0.1", self.plain_port)).is_ok()
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        panic!(
            "Dovecot did not start listening; its log:\n{}",
            fs::read_to_string(self.dir.path().join("dovecot.log")).unwrap_or_default()
        );
    }

    pub fn cert(&self) -> PathBuf {
        self.dir.path().join("cert.pem")
    }

    /// The SHA-256 fingerprint of the server's certificate, as Pipit prints it.
    pub fn fingerprint(&self) -> String {
        use rustls::pki_types::{CertificateDer, pem::PemObject as _};
        let der = CertificateDer::from_pem_file(self.cert()).unwrap();
        pipit::net::Fingerprint::of(&der).to_string()
    }

    /// The messages now in alice's mailbox, sorted.
    pub fn messages(&self) -> Vec<Vec<u8>> {
        let mut all = Vec::new();
        for sub in ["cur", "new"] {
            for entry in fs::read_dir(self.dir.path().join("home/alice/Maildir").join(sub)).unwrap()
            {
                all.push(fs::read(entry.unwrap().path()).unwrap());
            }
        }
        all.sort();
        all
    }

    /// Delivers a message to alice's mailbox, as new mail arriving does.
    pub fn deliver(&self, message: &[u8]) {
        use std::sync::atomic::{AtomicUsize, Ordering};
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "delivered.{}.{}.pipit",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        let maildir = self.dir.path().join("home/alice/Maildir");
        let tmp = maildir.join("tmp").join(&name);
        fs::write(&tmp, message).unwrap();
        fs::rename(&tmp, maildir.join("new").join(&name)).unwrap();
    }

    /// Adds Pipit's test account `lab` for this server over implicit TLS,
    /// trusting its certificate by fingerprint, then `extra`.
    pub fn account_for(&self, pipit: &super::Pipit, extra: &[&str]) {
        let fingerprint = self.fingerprint();
        let mut args = vec!["--trust-fingerprint", fingerprint.as_str()];
        args.extend_from_slice(extra);
        pipit.add_account(self.tls_port, "tls", &args);
    }

    pub fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("dovecot.log")).unwrap_or_default()
    }

    /// Messages sent whole (RETR) over every session so far, as Dovecot logs
    /// them when a session ends (`retr=N/bytes`).
    pub fn retrieved(&self) -> usize {
        self.log()
            .lines()
            .filter_map(|l| l.split("retr=").nth(1))
            .filter_map(|r| r.split('/').next()?.parse::<usize>().ok())
            .sum()
    }
}

impl Drop for Dovecot {
    fn drop(&mut self) {
        // SIGTERM to the master, without waiting for it (`dovecot stop` waits
        // about two seconds): its processes end on their own.
        if let Ok(pid) = fs::read_to_string(self.dir.path().join("run/master.pid")) {
            let _ = Command::new("kill").args(["-TERM", pid.trim()]).status();
        }
    }
}
