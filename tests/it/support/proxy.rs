//! A TCP proxy of our own between Pipit and a server, which breaks the first
//! connection it carries at a chosen byte: cut it, or stall it. Later
//! connections pass through untouched, so the next fetch can complete.
//!
//! It also counts each connection's flights: bursts of bytes from the
//! client with nothing from the server between them. Each is a round trip
//! the client paid for (the TLS handshake's two included; the TCP connect
//! and the greeting's wait are not flights), but for a last one it does not
//! wait on, such as a QUIT it does not wait to see answered.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// What happens to the first connection.
#[derive(Clone, Copy, Debug)]
pub enum Fault {
    /// Close both ways once this many bytes went from the server to the client.
    CutDown(usize),
    /// Close both ways once this many bytes went from the client to the server.
    CutUp(usize),
    /// Stop forwarding (but keep the connection open) after this many bytes down.
    StallDown(usize),
}

pub struct Proxy {
    pub port: u16,
    stop: Arc<AtomicBool>,
    /// Bytes carried down and up on the first connection.
    carried: Arc<Mutex<(usize, usize)>>,
    /// Each connection's flights so far, in the order they came.
    flights: Arc<Mutex<Vec<Flights>>>,
}

/// One connection's flights: how many, and whether the client sent last.
#[derive(Clone, Copy, Default)]
struct Flights {
    count: usize,
    client_last: bool,
}

impl Proxy {
    pub fn start(target: u16, fault: Option<Fault>) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let stop = Arc::new(AtomicBool::new(false));
        let carried = Arc::new(Mutex::new((0, 0)));
        let flights = Arc::new(Mutex::new(Vec::new()));
        let (st, ca, fl) = (stop.clone(), carried.clone(), flights.clone());
        thread::spawn(move || {
            let mut first = true;
            for client in listener.incoming() {
                if st.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(client) = client else { continue };
                let Ok(server) = TcpStream::connect(("127.0.0.1", target)) else {
                    continue;
                };
                let fault = if first { fault } else { None };
                first = false;
                let (up_limit, down_limit, stall) = match fault {
                    Some(Fault::CutDown(n)) => (usize::MAX, n, false),
                    Some(Fault::CutUp(n)) => (n, usize::MAX, false),
                    Some(Fault::StallDown(n)) => (usize::MAX, n, true),
                    None => (usize::MAX, usize::MAX, false),
                };
                let record = fault.is_some() || ca.lock().unwrap().0 == 0;
                let index = {
                    let mut all = fl.lock().unwrap();
                    all.push(Flights::default());
                    all.len() - 1
                };
                let (fl_up, fl_down) = (fl.clone(), fl.clone());
                let ca_up = ca.clone();
                let ca_down = ca.clone();
                let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                let st_up = st.clone();
                let st_down = st.clone();
                thread::spawn(move || {
                    let seen = || {
                        let mut all = fl_up.lock().unwrap();
                        let f = &mut all[index];
                        if !f.client_last {
                            f.count += 1;
                            f.client_last = true;
                        }
                    };
                    pump(c2, s2, up_limit, false, &st_up, seen, |n| {
                        if record {
                            ca_up.lock().unwrap().1 += n
                        }
                    })
                });
                thread::spawn(move || {
                    let seen = || fl_down.lock().unwrap()[index].client_last = false;
                    pump(server, client, down_limit, stall, &st_down, seen, |n| {
                        if record {
                            ca_down.lock().unwrap().0 += n
                        }
                    })
                });
            }
        });
        Proxy {
            port,
            stop,
            carried,
            flights,
        }
    }

    /// Waits until every connection so far has been quiet for a moment (the
    /// client may go without waiting for the last reply), then forgets them.
    pub fn take_flights(&self) -> Vec<usize> {
        std::thread::sleep(Duration::from_millis(200));
        std::mem::take(&mut *self.flights.lock().unwrap())
            .iter()
            .map(|f| f.count)
            .collect()
    }

    /// Bytes (down, up) the first connection carried.
    pub fn carried(&self) -> (usize, usize) {
        *self.carried.lock().unwrap()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// Copies `from` to `to` until `limit` bytes, then cuts (or stalls) both.
fn pump(
    mut from: TcpStream,
    mut to: TcpStream,
    limit: usize,
    stall: bool,
    stop: &AtomicBool,
    seen: impl Fn(),
    count: impl Fn(usize),
) {
    let mut buf = [0u8; 16 * 1024];
    let mut sent = 0usize;
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => n,
        };
        // Before it is passed on, so the answer cannot be counted first.
        seen();
        let allowed = n.min(limit - sent);
        if to.write_all(&buf[..allowed]).is_err() {
            break;
        }
        sent += allowed;
        count(allowed);
        if sent >= limit {
            if stall {
                // Hold both ends open, silent, until the test is over.
                while !stop.load(Ordering::SeqCst) {
                    thread::sleep(Duration::from_millis(50));
                }
            }
            break;
        }
    }
    let _ = from.shutdown(Shutdown::Both);
    let _ = to.shutdown(Shutdown::Both);
}
