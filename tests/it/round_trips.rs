//! The round trips a fetch costs, counted by a proxy between Pipit and a
//! real Dovecot over implicit TLS (flights from Pipit: the TLS handshake's
//! two, then the POP3 ones; see `support::proxy`).

use crate::support::dovecot::Dovecot;
use crate::support::proxy::Proxy;
use crate::support::{Pipit, mail};

/// Flights of each fetch: the first (a server never seen), a check with
/// nothing new, then a small fetch (two new messages).
fn flights(auth: &str) -> [usize; 3] {
    flights_over("tls", auth)
}

fn flights_over(security: &str, auth: &str) -> [usize; 3] {
    let server = Dovecot::start(&mail::varied(3));
    let port = if security == "tls" {
        server.tls_port
    } else {
        server.plain_port
    };
    let proxy = Proxy::start(port, None);
    let pipit = Pipit::new();
    let fingerprint = server.fingerprint();
    pipit.add_account(
        proxy.port,
        security,
        &["--trust-fingerprint", &fingerprint, "--auth", auth],
    );
    let mut each = Vec::new();
    for step in 0..3 {
        if step == 2 {
            for m in mail::varied(5).iter().skip(3) {
                server.deliver(m);
            }
        }
        let report = pipit.fetch_ok();
        let expected = [3, 0, 2][step];
        assert_eq!(report["downloaded"], expected, "{auth}: {report:#}");
        let sessions = proxy.take_flights();
        assert_eq!(sessions.len(), 1, "{auth}: one connection: {sessions:?}");
        each.push(sessions[0]);
    }
    eprintln!(
        "round trips over {security} with --auth {auth}: first fetch, nothing new, 2 new: {each:?}"
    );
    [each[0], each[1], each[2]]
}

#[test]
fn a_check_of_a_server_seen_before_costs_four_round_trips_or_six_with_scram() {
    // TLS (2), the login with the listing (1), QUIT not waited for (1).
    for auth in ["plain", "user"] {
        let [first, check, small] = flights(auth);
        assert_eq!(check, 4, "{auth}: nothing new");
        // TOP and RETR of the new ones, QUIT behind them.
        assert_eq!(small, 4, "{auth}: two new");
        // Never seen: CAPA first. (A busy machine may see one more: the
        // server's session tickets after a full handshake can land between
        // two writes of one burst, which the proxy then counts as two.)
        assert!((5..=6).contains(&first), "{auth}: first fetch: {first}");
    }
    // SCRAM-SHA-256 (the strongest Dovecot offers, chosen by itself): two
    // round trips more, for the server to prove it knows the password.
    let [first, check, small] = flights("auto");
    assert_eq!((check, small), (6, 6), "SCRAM");
    assert!((7..=8).contains(&first), "SCRAM, first fetch: {first}");
}

#[test]
fn starttls_still_asks_stls_and_capa_over_tls_but_not_capa_before() {
    // STLS, TLS (2: the CAPA over TLS goes with the client's Finished),
    // the login with the listing, QUIT; the first fetch asks CAPA before
    // STLS too.
    assert_eq!(flights_over("starttls", "plain"), [6, 5, 5]);
}
