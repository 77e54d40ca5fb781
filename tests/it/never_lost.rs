//! Never lose a message: the real binary killed at random moments, and
//! connections cut at random bytes, against a real Dovecot. Every run ends
//! with the invariant checked, then a clean fetch that completes the mailbox.
//!
//! Randomness is seeded and the seed printed; set PIPIT_FAULT_SEED to repeat
//! a run, PIPIT_FAULT_RUNS for more runs (on demand; CI uses the default).

use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::dovecot::Dovecot;
use crate::support::proxy::{Fault, Proxy};
use crate::support::{Pipit, describe, invariant, mail};

/// A small seeded generator (xorshift), so a failing run can be repeated.
struct Rng(u64);

impl Rng {
    fn from_env(test: &str) -> Rng {
        let seed = std::env::var("PIPIT_FAULT_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
                    | 1
            });
        println!("{test}: seed {seed} (PIPIT_FAULT_SEED={seed} repeats this run)");
        Rng(seed)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

fn runs(default: usize) -> usize {
    std::env::var("PIPIT_FAULT_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

fn add(pipit: &Pipit, port: u16, security: &str, server: &Dovecot) {
    let fingerprint = server.fingerprint();
    let mut extra = vec!["--policy", "delete", "--timeout", "2"];
    if security != "plain" {
        extra.extend_from_slice(&["--trust-fingerprint", &fingerprint]);
    }
    pipit.add_account(port, security, &extra);
}

/// After a broken fetch: the invariant; then a clean fetch moves everything.
fn finish_cleanly(pipit: &Pipit, server: &Dovecot, messages: &[Vec<u8>], what: &str) {
    invariant::check(&pipit.store_path(), messages, &server.messages());
    let out = pipit.run(&["fetch"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{what}: the clean fetch after failed:\n{}",
        describe(&out)
    );
    invariant::check(&pipit.store_path(), messages, &server.messages());
    assert!(
        server.messages().is_empty(),
        "{what}: the server still holds mail"
    );
    let mut all = messages.to_vec();
    all.sort();
    let mut stored = invariant::stored_messages(&pipit.store_path());
    stored.sort();
    assert_eq!(stored, all, "{what}: the store is not the whole mailbox");
}

#[test]
fn kill_9_at_random_moments_loses_nothing() {
    let mut rng = Rng::from_env("kill -9");
    let messages = mail::varied(300);

    // How long a whole fetch takes here, so kills land all through it.
    let server = Dovecot::start(&messages);
    let pipit = Pipit::new();
    add(&pipit, server.tls_port, "tls", &server);
    let started = Instant::now();
    pipit.fetch_ok();
    let span = started.elapsed().as_millis() as u64 + 20;

    for run in 0..runs(10) {
        let server = Dovecot::start(&messages);
        let pipit = Pipit::new();
        add(&pipit, server.tls_port, "tls", &server);
        let delay = rng.below(span);
        let mut child = pipit
            .command()
            .arg("fetch")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(delay));
        let _ = child.kill(); // SIGKILL
        let status = child.wait().unwrap();
        let what = format!("run {run}, killed after {delay} ms of ~{span} ({status})");
        println!(
            "{what}: {} of {} messages stored",
            invariant::stored_messages(&pipit.store_path()).len(),
            messages.len()
        );
        finish_cleanly(&pipit, &server, &messages, &what);
    }
}

#[test]
fn cutting_the_connection_at_random_bytes_loses_nothing() {
    let mut rng = Rng::from_env("cut");
    let messages = mail::varied(40);

    // One clean pass through the proxy measures the bytes of a whole session.
    let server = Dovecot::start(&messages);
    let proxy = Proxy::start(server.plain_port, None);
    let pipit = Pipit::new();
    add(&pipit, proxy.port, "plain", &server);
    pipit.fetch_ok();
    let (down, up) = proxy.carried();
    assert!(down > 0 && up > 0);

    // Both directions; small offsets land in the greeting, CAPA and login,
    // large ones in the listings, TOP, RETR, DELE and QUIT.
    let mut faults = vec![
        Fault::CutDown(0),
        Fault::CutDown(20),
        Fault::CutUp(5),
        Fault::CutUp(up - 6),
    ];
    for _ in 0..runs(12) {
        faults.push(Fault::CutDown(rng.below(down as u64) as usize));
        faults.push(Fault::CutUp(rng.below(up as u64) as usize));
    }
    for fault in faults {
        let server = Dovecot::start(&messages);
        let proxy = Proxy::start(server.plain_port, Some(fault));
        let pipit = Pipit::new();
        add(&pipit, proxy.port, "plain", &server);
        let out = pipit.run(&["fetch"]);
        let what = format!("{fault:?} of ({down} down, {up} up)");
        let code = out.status.code();
        // Cut before QUIT's reply: a network error. Cut after it: all done.
        assert!(
            code == Some(5) || code == Some(0),
            "{what}:\n{}",
            describe(&out)
        );
        finish_cleanly(&pipit, &server, &messages, &what);
    }
}

#[test]
fn a_cut_inside_tls_and_stalls_longer_than_the_timeout() {
    let messages = mail::varied(20);
    let cases = [
        (Fault::CutDown(3000), "tls"),
        (Fault::CutDown(60_000), "tls"),
        // Mid-handshake, and mid-greeting: a stall, not a pipelining fault.
        (Fault::StallDown(1000), "tls"),
        (Fault::StallDown(10), "plain"),
    ];
    for (fault, security) in cases {
        let server = Dovecot::start(&messages);
        let target = if security == "tls" {
            server.tls_port
        } else {
            server.plain_port
        };
        let proxy = Proxy::start(target, Some(fault));
        let pipit = Pipit::new();
        add(&pipit, proxy.port, security, &server);
        let started = Instant::now();
        let out = pipit.run(&["fetch"]);
        let what = format!("{fault:?} over {security}");
        match fault {
            Fault::StallDown(_) => {
                assert_eq!(out.status.code(), Some(5), "{what}:\n{}", describe(&out));
                assert!(
                    String::from_utf8_lossy(&out.stderr)
                        .contains("did not answer within 2 seconds"),
                    "{}",
                    describe(&out)
                );
                assert!(
                    started.elapsed() < Duration::from_secs(30),
                    "a stall must end by the timeout"
                );
            }
            _ => assert!(
                matches!(out.status.code(), Some(4 | 5)),
                "{what}:\n{}",
                describe(&out)
            ),
        }
        finish_cleanly(&pipit, &server, &messages, &what);
    }
}
