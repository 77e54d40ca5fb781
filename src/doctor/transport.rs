//! The connection itself: TLS, the certificate, how fast the server answers.

use std::time::Duration;

use super::Check;
use crate::net::{CertificateSummary, Security};

/// How the account trusts the server's certificate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrustedBy {
    WebRoots,
    CaFile,
    Fingerprint,
}

/// `tls`: the session's encryption. `negotiated` is the TLS version and
/// cipher suite; `names_host` whether the certificate names the host.
pub fn tls(
    host: &str,
    security: Security,
    loopback: bool,
    negotiated: Option<(&str, &str)>,
    names_host: Option<bool>,
    stls_offered: bool,
) -> Check {
    let Some((version, cipher)) = negotiated else {
        if security != Security::Plain {
            return Check::skip("tls", "no TLS session to examine");
        }
        let hint = if stls_offered {
            " The server offers STLS: use --security starttls."
        } else {
            ""
        };
        return if loopback {
            Check::ok(
                "tls",
                "plain text, to this very machine: nothing crosses a network",
                format!("Pipit sends the password unencrypted only because the account says plain.{hint}"),
            )
        } else {
            Check::fail(
                "tls",
                "no encryption: the password and every message cross the network in clear",
                format!("Pipit does so only because the account says plain; use --security tls (port 995) or starttls.{hint}"),
            )
        }
        .with("encrypted", false);
    };
    let how = match security {
        Security::Starttls => "after STLS",
        _ => "from the first byte",
    };
    let mut check = match names_host {
        Some(false) => Check::warn(
            "tls",
            format!("{version}, {cipher} {how}; the certificate does not name {host}"),
            "Pipit accepts it only because the account trusts this very certificate (its fingerprint); other clients will refuse it",
        ),
        _ => Check::ok(
            "tls",
            format!("{version}, {cipher} {how}; the certificate names {host}"),
            "nothing to do",
        ),
    };
    if version == "TLSv1.2" && check.status == super::Status::Ok {
        check.detail.push_str(" (TLS 1.3 would be better)");
    }
    check
        .with("encrypted", true)
        .with("version", version)
        .with("cipher", cipher)
        .with("hostname_valid", names_host)
}

/// `tls` and `certificate` when the TLS handshake (or STLS) failed:
/// `certificate` is the refused certificate's reason and fingerprint, if
/// that was why.
pub fn tls_failed(
    error: &str,
    certificate: Option<(&str, Option<String>, Option<&CertificateSummary>)>,
) -> (Check, Check) {
    match certificate {
        Some((reason, fingerprint, summary)) => (
            Check::fail(
                "tls",
                "the TLS handshake stopped at the server's certificate",
                "Pipit sends nothing over a connection it does not trust",
            ),
            Check::fail(
                "certificate",
                format!(
                    "not trusted: {reason}{}",
                    summary.map(|s| format!(" ({s})")).unwrap_or_default()
                ),
                match &fingerprint {
                    Some(f) => format!("Pipit refuses to log in; if this is your server's certificate, trust it with --trust-fingerprint {f}"),
                    None => "Pipit refuses to log in".into(),
                },
            )
            .with("fingerprint", fingerprint),
        ),
        None => (
            Check::fail(
                "tls",
                error.to_string(),
                "Pipit sends no credential without the encryption the account asks for (no downgrade)",
            ),
            Check::skip("certificate", "no TLS session to examine"),
        ),
    }
}

/// `certificate`: who vouches for it, how long it has left, whether it is
/// self-signed. `web` is whether the public roots would trust it (and why
/// not); `days_left` counts from today to its last day.
pub fn certificate(
    summary: Option<&CertificateSummary>,
    chain_len: usize,
    trusted_by: TrustedBy,
    web: Result<(), String>,
    days_left: Option<i64>,
    fingerprint: &str,
) -> Check {
    let self_signed = summary.is_some_and(|s| s.subject == s.issuer) && chain_len == 1;
    let who = summary.map_or("an unreadable certificate".to_string(), |s| {
        format!("{} (issued by {})", s.subject, s.issuer)
    });
    let expiry = match days_left {
        Some(d) if d < 0 => format!("expired {} days ago", -d),
        // A certificate made to outlive everyone (rcgen's default ends in
        // the year 4096) read "expires in 755720 days".
        Some(d) if d > 730 => format!("expires in about {} years", d / 365),
        Some(d) => format!("expires in {d} days"),
        None => "expiry unreadable".into(),
    };
    let by = match trusted_by {
        TrustedBy::WebRoots => "the public certificate authorities",
        TrustedBy::CaFile => "the account's CA file",
        TrustedBy::Fingerprint => "the account's pinned fingerprint",
    };
    let detail = format!(
        "{who}, {expiry}{}; chain of {chain_len}; trusted here by {by}",
        if self_signed { ", self-signed" } else { "" }
    );
    let check = match (days_left, &web) {
        (Some(d), _) if d < 0 => Check::fail(
            "certificate",
            detail,
            match trusted_by {
                TrustedBy::Fingerprint => {
                    "Pipit still connects, as the account pins this very certificate; other clients refuse it: renew it"
                }
                _ => {
                    "Pipit refuses an expired certificate: the server's administrator must renew it"
                }
            },
        ),
        (Some(d), _) if d <= 14 => Check::warn(
            "certificate",
            detail,
            "renew it soon: once expired, clients that check it (Pipit too, unless it pins it) will refuse to connect",
        ),
        (_, Err(reason)) => Check::warn(
            "certificate",
            format!("{detail}; the public authorities would not: {reason}"),
            match trusted_by {
                TrustedBy::Fingerprint => {
                    "Pipit trusts exactly this certificate, so a changed one is refused until you trust it again"
                }
                _ => {
                    "Pipit trusts it through the account's CA file; other clients need that CA too"
                }
            },
        ),
        _ => Check::ok("certificate", detail, "nothing to do"),
    };
    check
        .with("self_signed", self_signed)
        .with("days_left", days_left)
        .with("chain", chain_len)
        .with("web_trusted", web.is_ok())
        .with("fingerprint", fingerprint)
        .with("not_after", summary.map(|s| s.not_after.clone()))
}

/// Days from `today` to `not_after` ("YYYY-MM-DD").
pub fn days_until(not_after: &str, today: jiff::civil::Date) -> Option<i64> {
    let end: jiff::civil::Date = not_after.parse().ok()?;
    Some(i64::from((end - today).get_days()))
}

/// `latency`: the greeting's wait and a command's round trip.
pub fn latency(greeting: Option<Duration>, round_trip: Option<Duration>) -> Check {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let greeting_ms = greeting.map(ms);
    let rtt_ms = round_trip.map(ms);
    let detail = format!(
        "greeting after {}, a command's round trip {}",
        greeting_ms.map_or("?".into(), |g| format!("{g:.0} ms")),
        rtt_ms.map_or("not measured".into(), |r| format!("{r:.1} ms"))
    );
    let check = if greeting_ms.is_some_and(|g| g > 5000.0) {
        Check::warn(
            "latency",
            format!(
                "{detail}: the server is slow to greet (a slow name lookup on its side, or a deliberate delay)"
            ),
            "each fetch waits for it; Pipit's timeout covers it as long as it is under the account's --timeout",
        )
    } else if rtt_ms.is_some_and(|r| r > 500.0) {
        Check::warn(
            "latency",
            format!("{detail}: a slow link"),
            "Pipit pipelines commands where the server allows it, so a fetch costs about one round trip, not one per message",
        )
    } else {
        Check::ok("latency", detail, "nothing to do")
    };
    check
        .with("greeting_ms", greeting_ms)
        .with("round_trip_ms", rtt_ms)
}

/// `throughput`: bytes of message data read and the time they took, less
/// the round trips of the commands that asked for them.
pub fn throughput(bytes: u64, took: Duration) -> Check {
    if bytes < 16 * 1024 {
        return Check::skip(
            "throughput",
            format!("only {bytes} bytes of mail read: too little to measure"),
        )
        .with("bytes", bytes);
    }
    let secs = took.as_secs_f64().max(0.000_1);
    let rate = bytes as f64 / secs;
    let detail = format!(
        "{}/s ({} in {:.0} ms)",
        crate::units::human_bytes(rate as u64),
        crate::units::human_bytes(bytes),
        secs * 1000.0
    );
    let check = if rate < 50_000.0 {
        Check::warn(
            "throughput",
            format!("{detail}: slow; a 10 MB message takes minutes"),
            "Pipit goes on as long as at least 1 KB a second arrives, and keeps what it has stored if the link breaks",
        )
    } else {
        Check::ok("throughput", detail, "nothing to do")
    };
    check
        .with("bytes", bytes)
        .with("bytes_per_second", rate.round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::Status;

    fn summary(subject: &str, issuer: &str) -> CertificateSummary {
        CertificateSummary {
            subject: subject.into(),
            issuer: issuer.into(),
            not_before: "2026-01-01".into(),
            not_after: "2027-01-01".into(),
        }
    }

    #[test]
    fn plain_text_is_a_failure_only_across_a_network() {
        let remote = tls("pop.example.org", Security::Plain, false, None, None, true);
        assert_eq!(remote.status, Status::Fail);
        assert!(remote.pipit.contains("--security starttls"), "{remote:?}");
        let local = tls("127.0.0.1", Security::Plain, true, None, None, false);
        assert_eq!(local.status, Status::Ok);
        let good = tls(
            "pop.example.org",
            Security::Tls,
            false,
            Some(("TLSv1.3", "TLS13_AES_256_GCM_SHA384")),
            Some(true),
            false,
        );
        assert_eq!(good.status, Status::Ok);
        assert_eq!(good.facts["version"], "TLSv1.3");
        let misnamed = tls(
            "pop.example.org",
            Security::Tls,
            false,
            Some(("TLSv1.3", "X")),
            Some(false),
            false,
        );
        assert_eq!(misnamed.status, Status::Warn);
        assert!(misnamed.detail.contains("does not name pop.example.org"));
    }

    #[test]
    fn a_certificate_is_judged_by_its_days_left_and_who_vouches() {
        let s = summary("CN=localhost", "CN=localhost");
        let pinned = certificate(
            Some(&s),
            1,
            TrustedBy::Fingerprint,
            Err("it is not signed by an authority Pipit trusts".into()),
            Some(29),
            "AB",
        );
        assert_eq!(pinned.status, Status::Warn);
        assert!(
            pinned.detail.contains("expires in 29 days, self-signed"),
            "{pinned:?}"
        );
        assert_eq!(pinned.facts["self_signed"], true);
        let soon = certificate(Some(&s), 1, TrustedBy::WebRoots, Ok(()), Some(3), "AB");
        assert_eq!(soon.status, Status::Warn);
        let gone = certificate(Some(&s), 1, TrustedBy::Fingerprint, Ok(()), Some(-2), "AB");
        assert_eq!(gone.status, Status::Fail);
        assert!(gone.detail.contains("expired 2 days ago"));
        let far = certificate(
            Some(&s),
            1,
            TrustedBy::WebRoots,
            Ok(()),
            Some(755_720),
            "AB",
        );
        assert!(
            far.detail.contains("expires in about 2070 years"),
            "{far:?}"
        );
        assert_eq!(far.facts["days_left"], 755_720);
        let fine = certificate(
            Some(&summary("CN=pop.example.org", "CN=R11")),
            2,
            TrustedBy::WebRoots,
            Ok(()),
            Some(60),
            "AB",
        );
        assert_eq!(fine.status, Status::Ok);
        assert_eq!(fine.facts["self_signed"], false);
        let today: jiff::civil::Date = "2026-11-29".parse().unwrap();
        assert_eq!(days_until("2026-12-29", today), Some(30));
        assert_eq!(days_until("2026-11-27", today), Some(-2));
        assert_eq!(days_until("garbage", today), None);
    }

    #[test]
    fn a_refused_certificate_names_its_fingerprint() {
        let (t, c) = tls_failed(
            "x",
            Some((
                "it is not signed by an authority",
                Some("AB:CD".into()),
                Some(&summary("CN=a", "CN=a")),
            )),
        );
        assert_eq!((t.status, c.status), (Status::Fail, Status::Fail));
        assert!(c.pipit.contains("--trust-fingerprint AB:CD"));
        assert!(
            c.detail
                .ends_with("(subject CN=a, issued by CN=a, valid 2026-01-01 to 2027-01-01)")
        );
        let (t, c) = tls_failed("the server does not offer STLS", None);
        assert!(t.detail.contains("STLS"));
        assert_eq!(c.status, Status::Skip);
    }

    #[test]
    fn slow_greetings_links_and_transfers_are_warned_of() {
        let ms = Duration::from_millis;
        assert_eq!(latency(Some(ms(20)), Some(ms(1))).status, Status::Ok);
        assert_eq!(latency(Some(ms(9000)), Some(ms(1))).status, Status::Warn);
        assert_eq!(latency(Some(ms(20)), Some(ms(800))).status, Status::Warn);
        assert_eq!(throughput(100, ms(1)).status, Status::Skip);
        assert_eq!(throughput(1 << 20, ms(100)).status, Status::Ok);
        assert_eq!(throughput(1 << 20, ms(100_000)).status, Status::Warn);
    }
}
