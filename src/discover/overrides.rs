//! Where the lookups go in tests. Debug builds only (what the tests run),
//! as `failpoint` is; release builds always ask the real places.
//!
//! - `PIPIT_DISCOVER_DNS=127.0.0.1:PORT`: the nameserver to ask (instead
//!   of the first in /etc/resolv.conf).
//! - `PIPIT_DISCOVER_CA=path.pem`: one more trusted CA for HTTPS.
//! - `PIPIT_DISCOVER_ISPDB=https://…/`: the ISPDB's base address.
//! - `PIPIT_DISCOVER_HOSTS=name:port=ip:port,…`: see [`crate::net::hosts`].

use std::net::SocketAddr;
use std::path::PathBuf;

fn var(name: &str) -> Option<String> {
    crate::failpoint::test_setting(name)
}

/// The nameserver to ask instead of the system's.
pub fn nameserver() -> Option<SocketAddr> {
    var("PIPIT_DISCOVER_DNS").and_then(|v| v.parse().ok())
}

/// A CA to trust besides the web's roots.
pub fn extra_ca() -> Option<PathBuf> {
    var("PIPIT_DISCOVER_CA").map(PathBuf::from)
}

/// The ISPDB's base address, ending in `/`.
pub fn ispdb() -> Option<String> {
    var("PIPIT_DISCOVER_ISPDB").map(|v| if v.ends_with('/') { v } else { format!("{v}/") })
}
