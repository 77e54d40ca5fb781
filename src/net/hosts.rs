//! Where a host name leads. Normally the system's resolver; in debug builds
//! only (what the tests run), `PIPIT_DISCOVER_HOSTS` maps made-up names to
//! servers on this computer, so a test can serve `autoconfig.example.test`
//! or `pop.example.test` from loopback ports: a comma-separated list of
//! `name:port=ip:port`. While it is set, a name it does not list is not
//! found (only IP addresses and `localhost` still resolve), so no test
//! ever asks the real network. Release builds ignore it.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

/// The variable that maps test host names (debug builds only).
pub const HOSTS_VARIABLE: &str = "PIPIT_DISCOVER_HOSTS";

/// The addresses of `host` on `port`.
pub fn resolve(host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
    if let Some(map) = test_hosts() {
        return lookup_in(&map, host, port);
    }
    Ok((host, port).to_socket_addrs()?.collect())
}

/// The test map, in debug builds when it is set.
fn test_hosts() -> Option<String> {
    crate::failpoint::test_setting(HOSTS_VARIABLE)
}

fn lookup_in(map: &str, host: &str, port: u16) -> io::Result<Vec<SocketAddr>> {
    let wanted = format!("{}:{port}", host.trim_end_matches('.'));
    for entry in map.split(',').map(str::trim).filter(|e| !e.is_empty()) {
        let Some((name, addr)) = entry.split_once('=') else {
            continue;
        };
        if name.eq_ignore_ascii_case(&wanted) {
            let addr: SocketAddr = addr.parse().map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{HOSTS_VARIABLE}: {addr:?} is not ip:port"),
                )
            })?;
            return Ok(vec![addr]);
        }
    }
    if host.parse::<std::net::IpAddr>().is_ok() || host.eq_ignore_ascii_case("localhost") {
        return Ok((host, port).to_socket_addrs()?.collect());
    }
    Err(io::Error::new(
        io::ErrorKind::NotFound,
        format!("{host}:{port} is not among the test hosts ({HOSTS_VARIABLE})"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_test_map_sends_names_to_local_ports_and_nowhere_else() {
        let map = "autoconfig.example.test:443=127.0.0.1:4431, pop.example.test:995=127.0.0.1:9950";
        assert_eq!(
            lookup_in(map, "POP.example.test.", 995).unwrap(),
            vec!["127.0.0.1:9950".parse().unwrap()]
        );
        assert!(lookup_in(map, "pop.example.test", 110).is_err());
        assert!(lookup_in(map, "example.org", 443).is_err());
        assert_eq!(
            lookup_in(map, "127.0.0.1", 25).unwrap(),
            vec!["127.0.0.1:25".parse().unwrap()]
        );
    }
}
