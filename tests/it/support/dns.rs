//! A nameserver on loopback for the discovery tests (what
//! `PIPIT_DISCOVER_DNS` points at): MX and SRV answers from a table, the
//! name unknown otherwise (NXDOMAIN), or, told to, silence.

use std::collections::HashMap;
use std::net::UdpSocket;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use hickory_proto::op::{Message, ResponseCode};
use hickory_proto::rr::rdata::{MX, SRV};
use hickory_proto::rr::{Name, RData, Record, RecordType};

type Table = Arc<Mutex<HashMap<(String, RecordType), Vec<RData>>>>;

pub struct Dns {
    pub addr: std::net::SocketAddr,
    records: Table,
    silent: Arc<AtomicBool>,
}

fn key(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

impl Dns {
    pub fn start() -> Dns {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        let addr = socket.local_addr().unwrap();
        let records: Table = Arc::default();
        let silent = Arc::new(AtomicBool::new(false));
        let (r, s) = (records.clone(), silent.clone());
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok((n, from)) = socket.recv_from(&mut buf) {
                if s.load(Ordering::Relaxed) {
                    continue;
                }
                let Ok(asked) = Message::from_vec(&buf[..n]) else {
                    continue;
                };
                let mut reply = Message::response(asked.metadata.id, asked.metadata.op_code);
                reply.metadata.recursion_desired = asked.metadata.recursion_desired;
                reply.add_queries(asked.queries.clone());
                let found = asked.queries.first().and_then(|q| {
                    let table = r.lock().unwrap();
                    table
                        .get(&(key(&q.name().to_ascii()), q.query_type()))
                        .cloned()
                        .map(|data| (q.name().clone(), data))
                });
                match found {
                    Some((name, data)) => {
                        for d in data {
                            reply.add_answer(Record::from_rdata(name.clone(), 60, d));
                        }
                    }
                    None => reply.metadata.response_code = ResponseCode::NXDomain,
                }
                let _ = socket.send_to(&reply.to_vec().unwrap(), from);
            }
        });
        Dns {
            addr,
            records,
            silent,
        }
    }

    pub fn mx(&self, domain: &str, preference: u16, exchange: &str) {
        self.add(
            domain,
            RecordType::MX,
            RData::MX(MX::new(preference, Name::from_ascii(exchange).unwrap())),
        );
    }

    pub fn srv(&self, name: &str, port: u16, target: &str) {
        self.add(
            name,
            RecordType::SRV,
            RData::SRV(SRV::new(0, 0, port, Name::from_ascii(target).unwrap())),
        );
    }

    fn add(&self, name: &str, kind: RecordType, data: RData) {
        self.records
            .lock()
            .unwrap()
            .entry((key(name), kind))
            .or_default()
            .push(data);
    }

    /// From now on, answers nothing.
    pub fn go_silent(&self) {
        self.silent.store(true, Ordering::Relaxed);
    }
}
