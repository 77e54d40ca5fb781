//! Setting up an account from an address (#16), through the real binary:
//! every source pointed at servers on loopback (an HTTPS server with a
//! test CA for the autoconfig documents and the ISPDB, a nameserver for MX
//! and SRV, Dovecot for probing), each winning once, each timing out into
//! the next, and broken documents giving a clear answer, never a hang.

use std::net::TcpListener;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::dns::Dns;
use crate::support::dovecot::Dovecot;
use crate::support::https::{Https, Reply, autoconfig};
use crate::support::{Pipit, describe, mail};

const ADDRESS: &str = "alice@example.test";
const AUTOCONFIG: &str = "/mail/config-v1.1.xml";
const WELL_KNOWN: &str = "/.well-known/autoconfig/mail/config-v1.1.xml";
const ISPDB_PATH: &str = "/v1.1/example.test";

/// The servers every source is pointed at, and a Pipit pointed at them.
struct Lab {
    https: Https,
    dns: Dns,
    pipit: Pipit,
    /// Extra `name:port=ip:port` test hosts (the POP3 servers).
    hosts: Vec<String>,
    /// Listeners that accept and say nothing, kept open.
    _silent: Vec<TcpListener>,
}

impl Lab {
    fn new() -> Lab {
        Lab {
            https: Https::start(&["autoconfig.example.test", "example.test", "ispdb.test"]),
            dns: Dns::start(),
            pipit: Pipit::new(),
            hosts: Vec::new(),
            _silent: Vec::new(),
        }
    }

    /// `name:port` leads to 127.0.0.1:`to`.
    fn host(&mut self, name_port: &str, to: u16) {
        self.hosts.push(format!("{name_port}=127.0.0.1:{to}"));
    }

    /// `name:port` accepts connections and never says a word.
    fn silent_host(&mut self, name_port: &str) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        self.host(name_port, listener.local_addr().unwrap().port());
        self._silent.push(listener);
    }

    /// pop.example.test on 995 and 110 is this Dovecot.
    fn dovecot(&mut self, dovecot: &Dovecot) {
        self.host("pop.example.test:995", dovecot.tls_port);
        self.host("pop.example.test:110", dovecot.plain_port);
    }

    fn command(&self) -> std::process::Command {
        let mut hosts = vec![
            format!("autoconfig.example.test:443=127.0.0.1:{}", self.https.port),
            format!("example.test:443=127.0.0.1:{}", self.https.port),
            format!("ispdb.test:443=127.0.0.1:{}", self.https.port),
        ];
        hosts.extend(self.hosts.iter().cloned());
        let mut c = self.pipit.command();
        c.env("PIPIT_DISCOVER_HOSTS", hosts.join(","))
            .env("PIPIT_DISCOVER_CA", &self.https.ca)
            .env("PIPIT_DISCOVER_ISPDB", "https://ispdb.test/v1.1/")
            .env("PIPIT_DISCOVER_DNS", self.dns.addr.to_string())
            .stdin(std::process::Stdio::null());
        c
    }

    fn run(&self, args: &[&str]) -> (i32, std::process::Output, Duration) {
        let started = Instant::now();
        let out = self.command().args(args).output().expect("run pipit");
        (out.status.code().unwrap_or(-1), out, started.elapsed())
    }

    /// `account discover ADDRESS --json`: exit status, report, time taken.
    fn discover(&self) -> (i32, Value, Duration) {
        let (code, out, took) = self.run(&["account", "discover", ADDRESS, "--json"]);
        let report = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!("discover --json printed no JSON ({e}):\n{}", describe(&out))
        });
        (code, report, took)
    }

    fn add(&self, extra: &[&str]) -> (i32, String) {
        let mut args = vec![
            "account",
            "add",
            "lab",
            "--email",
            ADDRESS,
            "--password-command",
            "printf secret",
        ];
        args.extend_from_slice(extra);
        let (code, out, _) = self.run(&args);
        (code, String::from_utf8_lossy(&out.stderr).to_string())
    }

    fn fetch(&self) -> Value {
        let (code, out, _) = self.run(&["fetch", "--json"]);
        assert_eq!(code, 0, "fetch failed:\n{}", describe(&out));
        serde_json::from_slice(&out.stdout).unwrap()
    }
}

fn chosen(report: &Value) -> &Value {
    &report["found"][0]
}

/// What `source` said, from the report.
fn said(report: &Value, source: &str) -> String {
    report["tried"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["source"] == source)
        .map(|a| a["outcome"].as_str().unwrap().to_string())
        .unwrap_or_else(|| panic!("{source} was not asked: {report:#}"))
}

#[test]
fn the_autoconfig_document_wins_and_the_account_added_from_it_fetches() {
    let dovecot = Dovecot::start(&[mail::sized(1, 500), mail::sized(2, 500)]);
    let mut lab = Lab::new();
    lab.dovecot(&dovecot);
    lab.https.route(
        "autoconfig.example.test",
        AUTOCONFIG,
        Reply::Xml(autoconfig(
            "pop.example.test",
            995,
            "SSL",
            "%EMAILLOCALPART%",
        )),
    );
    // A later source with another answer does not win over it.
    lab.dns
        .srv("_pop3s._tcp.example.test", 9995, "other.example.test.");

    let (code, report, took) = lab.discover();
    assert_eq!(code, 0, "{report:#}");
    let found = chosen(&report);
    assert_eq!(found["source"], "autoconfig", "{report:#}");
    assert_eq!(found["host"], "pop.example.test");
    assert_eq!(found["port"], 995);
    assert_eq!(found["security"], "tls");
    assert_eq!(found["user"], "alice");
    assert_eq!(found["user_from_source"], true);
    assert!(found["from"].as_str().unwrap().starts_with(
        "https://autoconfig.example.test/mail/config-v1.1.xml?emailaddress=alice%40example.test"
    ));
    assert_eq!(found["flags"]["needs_confirmation"], false);
    assert!(took < Duration::from_secs(6), "took {took:?}");

    // The account: discovered, with the self-signed server's certificate trusted by hand.
    let fingerprint = dovecot.fingerprint();
    let (code, err) = lab.add(&["--trust-fingerprint", &fingerprint]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("pop.example.test:995"), "{err}");
    let (_, out, _) = lab.run(&["account", "list", "--json"]);
    let accounts: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(accounts[0]["host"], "pop.example.test");
    assert_eq!(accounts[0]["user"], "alice");
    let report = lab.fetch();
    assert_eq!(report["downloaded"], 2, "{report:#}");
}

#[test]
fn the_well_known_document_answers_when_there_is_no_autoconfig_host() {
    let lab = Lab::new();
    lab.https.route(
        "example.test",
        WELL_KNOWN,
        Reply::Xml(autoconfig(
            "mail.example.test",
            995,
            "SSL",
            "%EMAILADDRESS%",
        )),
    );
    let (code, report, _) = lab.discover();
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(chosen(&report)["source"], "well-known");
    assert_eq!(chosen(&report)["user"], ADDRESS);
    assert_eq!(said(&report, "autoconfig"), "no document (HTTP 404)");
}

#[test]
fn the_ispdb_answers_next_and_its_word_on_another_domain_is_taken() {
    let lab = Lab::new();
    lab.https.route(
        "ispdb.test",
        ISPDB_PATH,
        Reply::Xml(autoconfig(
            "pop.hoster.example",
            995,
            "SSL",
            "%EMAILADDRESS%",
        )),
    );
    let (code, report, _) = lab.discover();
    assert_eq!(code, 0, "{report:#}");
    let found = chosen(&report);
    assert_eq!(found["source"], "ispdb");
    assert_eq!(found["host"], "pop.hoster.example");
    assert_eq!(found["flags"]["needs_confirmation"], false, "{report:#}");
}

#[test]
fn an_mx_at_google_means_google_and_a_password_add_points_at_oauth() {
    let lab = Lab::new();
    lab.dns.mx("example.test", 10, "aspmx.l.google.com.");
    lab.dns.mx("example.test", 20, "alt1.aspmx.l.google.com.");
    let (code, report, _) = lab.discover();
    assert_eq!(code, 0, "{report:#}");
    let found = chosen(&report);
    assert_eq!(found["source"], "mx");
    assert_eq!(found["host"], "pop.gmail.com");
    assert_eq!(found["flags"]["oauth_required"], true);
    assert_eq!(found["oauth_provider"], "google");

    let (code, err) = lab.add(&[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--oauth google"), "{err}");
    let (_, out, _) = lab.run(&["account", "list", "--json"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "[]");
}

#[test]
fn srv_records_answer_and_a_server_in_another_domain_is_flagged() {
    let lab = Lab::new();
    lab.dns
        .srv("_pop3s._tcp.example.test", 1995, "pop.example.test.");
    let (code, report, _) = lab.discover();
    assert_eq!(code, 0, "{report:#}");
    let found = chosen(&report);
    assert_eq!(found["source"], "srv");
    assert_eq!(
        (found["port"].as_u64(), found["security"].as_str()),
        (Some(1995), Some("tls"))
    );
    assert_eq!(found["flags"]["needs_confirmation"], false);

    let lab = Lab::new();
    lab.dns.srv("_pop3s._tcp.example.test", 0, ".");
    lab.dns
        .srv("_pop3._tcp.example.test", 110, "mail.elsewhere.example.");
    let (_, report, _) = lab.discover();
    let found = chosen(&report);
    assert_eq!(found["security"], "starttls", "{report:#}");
    assert_eq!(found["flags"]["needs_confirmation"], true, "{report:#}");
}

#[test]
fn probing_finds_dovecot_and_its_unknown_certificate_needs_the_users_word() {
    let dovecot = Dovecot::start(&[mail::sized(1, 500)]);
    let mut lab = Lab::new();
    lab.dovecot(&dovecot);
    let (code, report, _) = lab.discover();
    assert_eq!(code, 0, "{report:#}");
    let found = chosen(&report);
    assert_eq!(found["source"], "probe");
    assert_eq!(found["host"], "pop.example.test");
    assert_eq!(
        (found["port"].as_u64(), found["security"].as_str()),
        (Some(995), Some("tls"))
    );
    let fingerprint = dovecot.fingerprint();
    assert_eq!(
        found["flags"]["untrusted_certificate"],
        fingerprint.as_str()
    );
    assert!(
        !dovecot.log().contains("user=<alice"),
        "a probe logs in as no one"
    );

    let (code, err) = lab.add(&["--user", "alice"]);
    // A certificate problem, as the README's exit statuses say.
    assert_eq!(code, 4, "{err}");
    assert!(
        err.contains(&format!("--trust-fingerprint {fingerprint}")),
        "{err}"
    );
    let (code, err) = lab.add(&["--user", "alice", "--trust-fingerprint", &fingerprint]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(lab.fetch()["downloaded"], 1);
}

#[test]
fn a_silent_source_falls_through_to_the_next_in_seconds() {
    let mut lab = Lab::new();
    lab.https
        .route("autoconfig.example.test", AUTOCONFIG, Reply::Hang);
    lab.https.route("example.test", WELL_KNOWN, Reply::Hang);
    lab.https.route(
        "ispdb.test",
        ISPDB_PATH,
        Reply::Xml(autoconfig("pop.example.test", 995, "SSL", "%EMAILADDRESS%")),
    );
    lab.silent_host("pop.example.test:995");
    let (code, report, took) = lab.discover();
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(chosen(&report)["source"], "ispdb", "{report:#}");
    assert!(
        said(&report, "autoconfig").contains("no answer"),
        "{report:#}"
    );
    assert!(took < Duration::from_secs(8), "took {took:?}");

    // Every document silent, the nameserver too: probing answers.
    let dovecot = Dovecot::start(&[]);
    let mut lab = Lab::new();
    lab.dovecot(&dovecot);
    for (host, path) in [
        ("autoconfig.example.test", AUTOCONFIG),
        ("example.test", WELL_KNOWN),
        ("ispdb.test", ISPDB_PATH),
    ] {
        lab.https.route(host, path, Reply::Hang);
    }
    lab.dns.go_silent();
    let (code, report, took) = lab.discover();
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(chosen(&report)["source"], "probe", "{report:#}");
    assert!(said(&report, "mx").contains("did not answer"), "{report:#}");
    assert!(took < Duration::from_secs(9), "took {took:?}");
}

#[test]
fn when_everything_is_silent_the_search_ends_in_seconds_and_says_what_to_do() {
    let mut lab = Lab::new();
    for (host, path) in [
        ("autoconfig.example.test", AUTOCONFIG),
        ("example.test", WELL_KNOWN),
        ("ispdb.test", ISPDB_PATH),
    ] {
        lab.https.route(host, path, Reply::Hang);
    }
    lab.dns.go_silent();
    lab.silent_host("pop.example.test:995");
    lab.silent_host("pop.example.test:110");
    let (code, out, took) = lab.run(&["account", "discover", ADDRESS]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(code, 1, "{}", describe(&out));
    assert!(
        err.contains("no POP3 settings found for example.test (tried presets, autoconfig, ISPDB, MX, SRV, probing pop/pop3/mail.example.test): give --host"),
        "{err}"
    );
    assert!(took < Duration::from_secs(13), "took {took:?}");
    let (code, err) = lab.add(&[]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("give --host"), "{err}");
}

#[test]
fn broken_documents_each_say_what_is_wrong_and_never_hang() {
    let lab = Lab::new();
    lab.https.route(
        "autoconfig.example.test",
        AUTOCONFIG,
        Reply::Xml("<clientConfig><emailProvider><incomingServer type=\"pop3\">".into()),
    );
    lab.https.route("example.test", WELL_KNOWN, Reply::Endless);
    lab.https.route(
        "ispdb.test",
        ISPDB_PATH,
        Reply::Redirect("https://ispdb.test/v1.1/loop".into()),
    );
    lab.https.route(
        "ispdb.test",
        "/v1.1/loop",
        Reply::Redirect("https://ispdb.test/v1.1/example.test".into()),
    );
    lab.dns
        .srv("_pop3s._tcp.example.test", 995, "pop.example.test.");
    let (code, report, took) = lab.discover();
    assert_eq!(code, 0, "{report:#}");
    assert_eq!(chosen(&report)["source"], "srv", "{report:#}");
    assert!(
        said(&report, "autoconfig").contains("not a valid autoconfig document"),
        "{report:#}"
    );
    assert!(
        said(&report, "well-known").contains("larger than 1024 KiB"),
        "{report:#}"
    );
    assert!(
        said(&report, "ispdb").contains("redirect loop"),
        "{report:#}"
    );
    let ispdb_asks = lab
        .https
        .asked()
        .iter()
        .filter(|a| a.starts_with("ispdb.test"))
        .count();
    assert!(
        ispdb_asks <= 4,
        "a loop is left at once, not followed ({ispdb_asks} requests)"
    );
    assert!(took < Duration::from_secs(6), "took {took:?}");
}

#[test]
fn a_document_naming_another_domains_server_needs_confirmation() {
    let lab = Lab::new();
    lab.https.route(
        "autoconfig.example.test",
        AUTOCONFIG,
        Reply::Xml(autoconfig(
            "pop.elsewhere.example",
            995,
            "SSL",
            "%EMAILADDRESS%",
        )),
    );
    let (code, report, _) = lab.discover();
    assert_eq!(code, 0);
    let found = chosen(&report);
    assert_eq!(found["flags"]["needs_confirmation"], true, "{report:#}");
    assert!(
        found["notes"][0]
            .as_str()
            .unwrap()
            .contains("outside example.test")
    );

    let (code, err) = lab.add(&[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--yes"), "{err}");
    let (code, err) = lab.add(&["--yes"]);
    assert_eq!(code, 0, "{err}");
    let (_, out, _) = lab.run(&["account", "list", "--json"]);
    let accounts: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(accounts[0]["host"], "pop.elsewhere.example");
}

#[test]
fn plain_text_is_found_and_flagged_but_used_only_when_asked_for() {
    let lab = Lab::new();
    lab.https.route(
        "autoconfig.example.test",
        AUTOCONFIG,
        Reply::Xml(autoconfig(
            "pop.example.test",
            110,
            "plain",
            "%EMAILADDRESS%",
        )),
    );
    let (code, report, _) = lab.discover();
    assert_eq!(code, 0);
    let found = chosen(&report);
    assert_eq!(found["security"], "plain");
    assert_eq!(found["flags"]["plain_text"], true, "{report:#}");

    let (code, err) = lab.add(&[]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--security plain"), "{err}");
    let (code, err) = lab.add(&["--security", "plain"]);
    assert_eq!(code, 0, "{err}");
    let (_, out, _) = lab.run(&["account", "list", "--json"]);
    let accounts: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        (
            accounts[0]["security"].as_str(),
            accounts[0]["port"].as_u64()
        ),
        (Some("plain"), Some(110))
    );
}
