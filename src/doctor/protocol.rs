//! What the server says it can do, and whether it does: CAPA, the login,
//! LOGIN-DELAY, EXPIRE, pipelining.

use super::{Check, list};
use crate::config::Policy;
use crate::net::Security;
use crate::pop3::auth::Mechanism;
use crate::pop3::{Capabilities, Method, Reply};

/// The capabilities as CAPA lists them, in its words.
pub fn names(caps: &Capabilities) -> Vec<String> {
    let mut out = Vec::new();
    for (on, name) in [
        (caps.top, "TOP"),
        (caps.uidl, "UIDL"),
        (caps.user, "USER"),
        (caps.pipelining, "PIPELINING"),
        (caps.stls, "STLS"),
        (caps.resp_codes, "RESP-CODES"),
        (caps.auth_resp_code, "AUTH-RESP-CODE"),
    ] {
        if on {
            out.push(name.to_string());
        }
    }
    if !caps.sasl.is_empty() {
        out.push(format!("SASL {}", caps.sasl.join(" ")));
    }
    if let Some(d) = caps.login_delay {
        out.push(format!("LOGIN-DELAY {d}"));
    }
    match caps.expire {
        Some(Some(d)) => out.push(format!("EXPIRE {d}")),
        Some(None) => out.push("EXPIRE NEVER".into()),
        None => {}
    }
    out
}

/// `capa`: what CAPA lists (before and after the login) against what
/// worked. `top_works` and `uidl_works`: whether TOP and UIDL answered +OK
/// (`None`: not tried).
pub fn capa(
    before: Option<&Capabilities>,
    after: Option<&Capabilities>,
    top_works: Option<bool>,
    uidl_works: Option<bool>,
) -> Check {
    let Some(caps) = after.or(before) else {
        return Check::warn(
            "capa",
            "the server does not answer CAPA (RFC 2449): it cannot say what it supports",
            "Pipit assumes only RFC 1939: it tries TOP and UIDL, and never pipelines",
        )
        .with("advertised", Vec::<String>::new());
    };
    let advertised = names(caps);
    let mut broken = Vec::new();
    let mut hidden = Vec::new();
    for (name, said, works) in [
        ("TOP", caps.top, top_works),
        ("UIDL", caps.uidl, uidl_works),
    ] {
        match (said, works) {
            (true, Some(false)) => broken.push(name),
            (false, Some(true)) => hidden.push(name),
            _ => {}
        }
    }
    let only_after: Vec<String> = match (before, after) {
        (Some(b), Some(a)) => {
            let b = names(b);
            names(a).into_iter().filter(|n| !b.contains(n)).collect()
        }
        _ => Vec::new(),
    };
    let mut detail = format!("advertises {}", list(&advertised));
    if !only_after.is_empty() {
        detail.push_str(&format!(" ({} only after the login)", list(&only_after)));
    }
    let check = if !broken.is_empty() {
        Check::fail(
            "capa",
            format!("{detail}; but {} answered -ERR", broken.join(" and ")),
            "Pipit goes by what works: without UIDL it tells messages apart by their header blocks, without TOP headers come with RETR",
        )
    } else if !hidden.is_empty() {
        Check::warn(
            "capa",
            format!(
                "{detail}; {} works but is not advertised",
                hidden.join(" and ")
            ),
            "Pipit uses only what CAPA lists, so it does without",
        )
    } else {
        Check::ok("capa", detail, "nothing to do")
    };
    check
        .with("advertised", &advertised)
        .with("after_login_only", &only_after)
}

fn method_name(method: Method) -> String {
    match method {
        Method::Apop => "APOP".into(),
        Method::UserPass => "USER/PASS".into(),
        Method::Sasl(m) => format!("SASL {}", m.name()),
        Method::Auto => "auto".into(),
        Method::Probe => "none (a probe)".into(),
    }
}

/// `auth`: the ways to log in the server offers, the one Pipit used, and
/// whether the password was at risk. `refused`: the login's refusal.
pub fn auth(
    caps: Option<&Capabilities>,
    apop_offered: bool,
    security: Security,
    loopback: bool,
    used: Option<Method>,
    refused: Option<&str>,
) -> Check {
    let mut offered: Vec<String> = caps.map(|c| c.sasl.clone()).unwrap_or_default();
    if caps.is_none_or(|c| c.user) {
        offered.push("USER".into());
    }
    if apop_offered {
        offered.push("APOP".into());
    }
    let offers = format!("offers {}", list(&offered));
    if let Some(refusal) = refused {
        return Check::fail(
            "auth",
            format!("{offers}; the login was refused: {refusal}"),
            "Pipit stops at a refused login and says so (exit 3); check the user name and password, or the account's --auth",
        )
        .with("offered", &offered);
    }
    let Some(used) = used else {
        return Check::skip("auth", format!("{offers}; no login was tried"))
            .with("offered", &offered);
    };
    let in_clear = security == Security::Plain && !loopback;
    let hashed = matches!(
        used,
        Method::Apop | Method::Sasl(Mechanism::CramMd5 | Mechanism::ScramSha256)
    );
    let detail = format!("{offers}; Pipit logged in with {}", method_name(used));
    let check = if in_clear && !hashed {
        Check::fail(
            "auth",
            format!("{detail}: the password crossed the network in clear"),
            "use --security tls or starttls (or at least --auth scram-sha-256 if the server offers it)",
        )
    } else if in_clear {
        Check::warn(
            "auth",
            format!("{detail}: the password never crosses the wire, but the mail does, in clear"),
            "use --security tls or starttls",
        )
    } else {
        Check::ok(
            "auth",
            format!(
                "{detail}{}",
                if hashed {
                    ": the password never crosses the wire"
                } else if security == Security::Plain {
                    ", in plain text to this very machine"
                } else {
                    ", over an encrypted connection"
                }
            ),
            "nothing to do",
        )
    };
    check
        .with("offered", &offered)
        .with("used", method_name(used))
        .with("plaintext_risk", in_clear && !hashed)
}

/// `login-delay`: RFC 2449's least time between two logins.
pub fn login_delay(caps: Option<&Capabilities>) -> Check {
    match caps.and_then(|c| c.login_delay) {
        Some(d) if d > 0 => Check::warn(
            "login-delay",
            format!(
                "the server allows one login every {d} seconds (LOGIN-DELAY {d}): new mail can arrive at most that often"
            ),
            "Pipit does not connect sooner (it says when to try again), and takes a refusal for it as \"wait\", never as a wrong password",
        )
        .with("seconds", d),
        _ => Check::ok("login-delay", "no LOGIN-DELAY: log in as often as you like", "nothing to do")
            .with("seconds", 0),
    }
}

/// `expire`: RFC 2449's days the server keeps a message after it was
/// retrieved, against the account's policy (if there is an account).
pub fn expire(caps: Option<&Capabilities>, policy: Option<Policy>) -> Check {
    let days = match caps.and_then(|c| c.expire) {
        None => {
            return Check::ok(
                "expire",
                "no EXPIRE: the server keeps mail until a client deletes it",
                "nothing to do",
            );
        }
        Some(None) => {
            return Check::ok(
                "expire",
                "EXPIRE NEVER: the server keeps mail until a client deletes it",
                "nothing to do",
            )
            .with("days", "never");
        }
        Some(Some(days)) => days,
    };
    let keeps_longer = match policy {
        Some(Policy::Keep) | None => true,
        Some(Policy::KeepDays(n)) => u64::from(n) > days,
        Some(Policy::Delete) => false,
    };
    let detail = if days == 0 {
        "EXPIRE 0: the server deletes each message once a client has retrieved it".to_string()
    } else {
        format!(
            "EXPIRE {days}: the server deletes each message {days} days after a client retrieved it"
        )
    };
    if keeps_longer {
        Check::warn(
            "expire",
            format!("{detail}, whatever the account's policy says"),
            "Pipit stores every message before it can go; on the server it will not stay longer than that",
        )
    } else {
        Check::ok("expire", detail, "the account's policy deletes sooner anyway")
    }
    .with("days", days)
}

/// What a burst of pipelined commands expected, in order: the message
/// number a `LIST n` reply names, or `None` for a reply that names none.
pub type Expected = Vec<Option<u32>>;

/// `pipelining`: advertised, and when it is, whether a burst of commands
/// sent at once got every reply, in order. `error` is what ended the burst.
pub fn pipelining(
    advertised: bool,
    expected: &Expected,
    replies: &[Reply],
    error: Option<&str>,
) -> Check {
    if !advertised {
        return Check::ok(
            "pipelining",
            "not advertised: one command at a time, a round trip each",
            "Pipit waits for each reply before the next command, as it must",
        )
        .with("advertised", false);
    }
    let sent = expected.len();
    let lost = sent.saturating_sub(replies.len());
    let out_of_order = expected
        .iter()
        .zip(replies)
        .filter(|(want, reply)| match want {
            Some(n) => {
                !reply.is_ok() || reply.text.split_whitespace().next() != Some(&n.to_string())
            }
            None => false,
        })
        .count();
    let check = if lost > 0 {
        Check::fail(
            "pipelining",
            format!(
                "advertised, but {lost} of {sent} commands sent together were never answered{}",
                error.map(|e| format!(": {e}")).unwrap_or_default()
            ),
            "a fetch that stalls on this is detected: Pipit goes on one command at a time and remembers it for a week",
        )
    } else if out_of_order > 0 {
        Check::fail(
            "pipelining",
            format!(
                "advertised, but {out_of_order} of {sent} replies to commands sent together answered another command"
            ),
            "replies out of order would pair a message with another's UID: do not pipeline with this server",
        )
    } else {
        Check::ok(
            "pipelining",
            format!("advertised, and safe: {sent} commands sent together, every reply in order"),
            "Pipit keeps a window of commands in flight, so a fetch costs about one round trip",
        )
    };
    check
        .with("advertised", true)
        .with("sent", sent)
        .with("lost", lost)
        .with("out_of_order", out_of_order)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doctor::Status;
    use crate::pop3::Indicator;

    fn caps(text: &str) -> Capabilities {
        Capabilities::parse(text.as_bytes())
    }

    fn ok(text: &str) -> Reply {
        Reply {
            indicator: Indicator::Ok,
            code: None,
            text: text.into(),
            body: None,
            oversized: None,
        }
    }

    #[test]
    fn capa_compares_what_is_advertised_with_what_works() {
        let c = caps("TOP\r\nUIDL\r\nUSER\r\n");
        assert_eq!(
            capa(Some(&c), Some(&c), Some(true), Some(true)).status,
            Status::Ok
        );
        let broken = capa(Some(&c), Some(&c), Some(false), Some(true));
        assert_eq!(broken.status, Status::Fail);
        assert!(broken.detail.contains("TOP answered -ERR"), "{broken:?}");
        let bare = caps("USER\r\n");
        let hidden = capa(Some(&bare), Some(&bare), Some(true), Some(false));
        assert_eq!(hidden.status, Status::Warn);
        assert!(hidden.detail.contains("TOP works but is not advertised"));
        assert_eq!(
            capa(None, None, Some(true), Some(true)).status,
            Status::Warn
        );
        let more = capa(Some(&bare), Some(&c), Some(true), Some(true));
        assert!(
            more.detail.contains("(TOP UIDL only after the login)"),
            "{more:?}"
        );
    }

    #[test]
    fn auth_names_the_mechanism_used_and_the_plaintext_risk() {
        let c = caps("USER\r\nSASL PLAIN SCRAM-SHA-256\r\n");
        let scram = Method::Sasl(Mechanism::ScramSha256);
        let tls = auth(Some(&c), false, Security::Tls, false, Some(scram), None);
        assert_eq!(tls.status, Status::Ok);
        assert!(
            tls.detail.contains("offers PLAIN SCRAM-SHA-256 USER"),
            "{tls:?}"
        );
        assert!(tls.detail.contains("logged in with SASL SCRAM-SHA-256"));
        let clear = auth(
            Some(&c),
            false,
            Security::Plain,
            false,
            Some(Method::UserPass),
            None,
        );
        assert_eq!(clear.status, Status::Fail);
        assert_eq!(clear.facts["plaintext_risk"], true);
        let hashed = auth(
            Some(&c),
            true,
            Security::Plain,
            false,
            Some(Method::Apop),
            None,
        );
        assert_eq!(hashed.status, Status::Warn);
        let local = auth(
            Some(&c),
            false,
            Security::Plain,
            true,
            Some(Method::UserPass),
            None,
        );
        assert_eq!(local.status, Status::Ok);
        assert!(
            local.detail.ends_with("in plain text to this very machine"),
            "{local:?}"
        );
        let refused = auth(
            Some(&c),
            false,
            Security::Tls,
            false,
            None,
            Some("[AUTH] no"),
        );
        assert_eq!(refused.status, Status::Fail);
    }

    #[test]
    fn login_delay_and_expire_come_from_capa() {
        assert_eq!(login_delay(Some(&caps("USER\r\n"))).status, Status::Ok);
        let delay = login_delay(Some(&caps("LOGIN-DELAY 900\r\n")));
        assert_eq!(delay.status, Status::Warn);
        assert!(delay.detail.contains("one login every 900 seconds"));
        assert_eq!(
            expire(Some(&caps("EXPIRE NEVER\r\n")), None).status,
            Status::Ok
        );
        let e = expire(Some(&caps("EXPIRE 30\r\n")), Some(Policy::Keep));
        assert_eq!(e.status, Status::Warn);
        assert!(e.detail.contains("30 days after"));
        let soon = expire(Some(&caps("EXPIRE 30\r\n")), Some(Policy::KeepDays(7)));
        assert_eq!(soon.status, Status::Ok);
        assert!(
            expire(Some(&caps("EXPIRE 0\r\n")), None)
                .detail
                .contains("once a client")
        );
    }

    #[test]
    fn pipelining_must_answer_everything_in_order() {
        let expected: Expected = vec![Some(1), Some(2), None];
        let replies = [ok("1 100"), ok("2 200"), ok("")];
        assert_eq!(
            pipelining(true, &expected, &replies, None).status,
            Status::Ok
        );
        let lost = pipelining(true, &expected, &replies[..1], Some("timeout"));
        assert_eq!(lost.status, Status::Fail);
        assert!(lost.detail.contains("2 of 3 commands"), "{lost:?}");
        let swapped = [ok("2 200"), ok("1 100"), ok("")];
        let wrong = pipelining(true, &expected, &swapped, None);
        assert_eq!(wrong.status, Status::Fail);
        assert_eq!(wrong.facts["out_of_order"], 2);
        assert_eq!(pipelining(false, &expected, &[], None).status, Status::Ok);
    }
}
