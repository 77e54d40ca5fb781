//! Asking DNS for MX and SRV records: hickory-proto encodes the question
//! and decodes the answer; a std UDP socket carries them to the first
//! nameserver in /etc/resolv.conf (over TCP when the answer is cut short).
//! No async runtime: one lookup is one question and one answer.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

use hickory_proto::op::{Message, MessageType, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};

/// What a nameserver said about a name.
#[derive(Debug, PartialEq, Eq)]
pub enum Answer {
    /// The records of the type asked for (perhaps none).
    Records(Vec<RData>),
    /// The name does not exist.
    NoSuchName,
    /// The answer did not fit in UDP: ask again over TCP.
    Truncated,
}

/// A question for `name`'s `kind` records, and its id.
pub fn question(name: &str, kind: RecordType) -> Result<(u16, Vec<u8>), String> {
    let name = Name::from_ascii(name).map_err(|e| format!("{name:?} is not a DNS name: {e}"))?;
    let mut message = Message::query();
    message.metadata.recursion_desired = true;
    message.add_query(Query::query(name, kind));
    let id = message.metadata.id;
    let bytes = message
        .to_vec()
        .map_err(|e| format!("cannot encode the question: {e}"))?;
    Ok((id, bytes))
}

/// Reads the answer to question `id` about `name`'s `kind` records.
pub fn answer(bytes: &[u8], id: u16, name: &str, kind: RecordType) -> Result<Answer, String> {
    let message = Message::from_vec(bytes).map_err(|e| format!("a garbled answer: {e}"))?;
    if message.metadata.id != id || message.metadata.message_type != MessageType::Response {
        return Err("an answer to another question".into());
    }
    if message.metadata.truncation {
        return Ok(Answer::Truncated);
    }
    match message.metadata.response_code {
        ResponseCode::NoError => {}
        ResponseCode::NXDomain => return Ok(Answer::NoSuchName),
        other => return Err(format!("the nameserver answered {other}")),
    }
    // The name asked about, and where its CNAMEs lead within this answer:
    // records for any other name were not asked for, and are not believed.
    let mut names = vec![key(name)];
    for _ in 0..8 {
        for r in &message.answers {
            if let RData::CNAME(target) = &r.data
                && names.contains(&key(&r.name.to_ascii()))
                && !names.contains(&key(&target.0.to_ascii()))
            {
                names.push(key(&target.0.to_ascii()));
            }
        }
    }
    let records = message
        .answers
        .iter()
        .filter(|r| r.record_type() == kind && names.contains(&key(&r.name.to_ascii())))
        .map(|r| r.data.clone())
        .collect();
    Ok(Answer::Records(records))
}

/// A name as compared: lower case, without the final dot.
fn key(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// The first nameserver in a resolv.conf; glibc's default if none.
pub fn nameserver_in(resolv_conf: &str) -> SocketAddr {
    resolv_conf
        .lines()
        .map(|l| l.split(['#', ';']).next().unwrap_or("").trim())
        .filter_map(|l| l.strip_prefix("nameserver"))
        .filter_map(|rest| rest.trim().parse::<std::net::IpAddr>().ok())
        .map(|ip| SocketAddr::new(ip, 53))
        .next()
        .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], 53)))
}

/// A nameserver to ask.
#[derive(Clone, Debug)]
pub struct Resolver {
    pub server: SocketAddr,
    pub timeout: Duration,
}

impl Resolver {
    /// The test override, else the system's first nameserver.
    pub fn system(timeout: Duration) -> Resolver {
        let server = super::overrides::nameserver().unwrap_or_else(|| {
            nameserver_in(&std::fs::read_to_string("/etc/resolv.conf").unwrap_or_default())
        });
        Resolver { server, timeout }
    }

    /// Asks for `name`'s `kind` records.
    pub fn lookup(&self, name: &str, kind: RecordType) -> Result<Answer, String> {
        let (id, bytes) = question(name, kind)?;
        let deadline = Instant::now() + self.timeout;
        let bind: SocketAddr = if self.server.is_ipv4() {
            ([0, 0, 0, 0], 0).into()
        } else {
            (std::net::Ipv6Addr::UNSPECIFIED, 0).into()
        };
        let socket = UdpSocket::bind(bind).map_err(|e| format!("cannot open a socket: {e}"))?;
        socket
            .connect(self.server)
            .map_err(|e| format!("cannot reach the nameserver {}: {e}", self.server))?;
        socket
            .send(&bytes)
            .map_err(|e| format!("cannot ask the nameserver {}: {e}", self.server))?;
        let mut buf = vec![0u8; 4096];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(self.silent());
            }
            socket
                .set_read_timeout(Some(left))
                .map_err(|e| e.to_string())?;
            let n = match socket.recv(&mut buf) {
                Ok(n) => n,
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) =>
                {
                    return Err(self.silent());
                }
                Err(e) => return Err(format!("the nameserver {}: {e}", self.server)),
            };
            // Stray or forged packets are skipped, not believed.
            match answer(&buf[..n], id, name, kind) {
                Ok(Answer::Truncated) => return self.lookup_tcp(name, kind, deadline),
                Ok(a) => return Ok(a),
                Err(e) if e.starts_with("an answer to another") => continue,
                Err(e) => return Err(e),
            }
        }
    }

    fn silent(&self) -> String {
        format!(
            "the nameserver {} did not answer within {} s",
            self.server,
            self.timeout.as_secs()
        )
    }

    fn lookup_tcp(
        &self,
        name: &str,
        kind: RecordType,
        deadline: Instant,
    ) -> Result<Answer, String> {
        let (id, bytes) = question(name, kind)?;
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(self.silent());
        }
        let mut tcp = TcpStream::connect_timeout(&self.server, left)
            .map_err(|e| format!("cannot reach the nameserver {} over TCP: {e}", self.server))?;
        tcp.set_read_timeout(Some(left))
            .map_err(|e| e.to_string())?;
        tcp.set_write_timeout(Some(left))
            .map_err(|e| e.to_string())?;
        let mut framed = (bytes.len() as u16).to_be_bytes().to_vec();
        framed.extend_from_slice(&bytes);
        let io = |e: std::io::Error| format!("the nameserver {} over TCP: {e}", self.server);
        tcp.write_all(&framed).map_err(io)?;
        let mut length = [0u8; 2];
        read_by(&mut tcp, &mut length, deadline).map_err(io)?;
        let mut reply = vec![0u8; u16::from_be_bytes(length) as usize];
        read_by(&mut tcp, &mut reply, deadline).map_err(io)?;
        match answer(&reply, id, name, kind)? {
            Answer::Truncated => Err("the nameserver cut its answer short, even over TCP".into()),
            a => Ok(a),
        }
    }
}

/// Fills `buf` from `tcp` by `deadline`, however the bytes trickle in.
fn read_by(tcp: &mut TcpStream, buf: &mut [u8], deadline: Instant) -> std::io::Result<()> {
    let mut filled = 0;
    while filled < buf.len() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(std::io::ErrorKind::TimedOut.into());
        }
        tcp.set_read_timeout(Some(left))?;
        match tcp.read(&mut buf[filled..])? {
            0 => return Err(std::io::ErrorKind::UnexpectedEof.into()),
            n => filled += n,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::rr::Record;
    use hickory_proto::rr::rdata::{MX, SRV};

    fn reply_to(question: &[u8], f: impl FnOnce(&mut Message)) -> Vec<u8> {
        let asked = Message::from_vec(question).unwrap();
        let mut reply = Message::response(asked.metadata.id, asked.metadata.op_code);
        reply.add_queries(asked.queries.clone());
        f(&mut reply);
        reply.to_vec().unwrap()
    }

    #[test]
    fn an_mx_answer_is_read() {
        let (id, q) = question("example.org", RecordType::MX).unwrap();
        let bytes = reply_to(&q, |m| {
            m.add_answer(Record::from_rdata(
                Name::from_ascii("example.org.").unwrap(),
                300,
                RData::MX(MX::new(
                    10,
                    Name::from_ascii("aspmx.l.google.com.").unwrap(),
                )),
            ));
        });
        let Answer::Records(records) = answer(&bytes, id, "example.org", RecordType::MX).unwrap()
        else {
            panic!("no records");
        };
        assert_eq!(records.len(), 1);
        assert!(
            matches!(&records[0], RData::MX(mx) if mx.exchange.to_ascii() == "aspmx.l.google.com.")
        );
    }

    #[test]
    fn other_answers_are_not_believed() {
        let (id, q) = question("_pop3s._tcp.example.org", RecordType::SRV).unwrap();
        let bytes = reply_to(&q, |m| {
            m.add_answer(Record::from_rdata(
                Name::from_ascii("_pop3s._tcp.evil.net.").unwrap(),
                300,
                RData::SRV(SRV::new(
                    0,
                    0,
                    995,
                    Name::from_ascii("pop.evil.net.").unwrap(),
                )),
            ));
        });
        assert_eq!(
            answer(&bytes, id, "_pop3s._tcp.example.org", RecordType::SRV).unwrap(),
            Answer::Records(vec![])
        );
        assert!(
            answer(
                &bytes,
                id.wrapping_add(1),
                "_pop3s._tcp.example.org",
                RecordType::SRV
            )
            .is_err()
        );
        assert!(answer(b"\x00\x01garbage", id, "example.org", RecordType::SRV).is_err());
    }

    #[test]
    fn no_such_name_and_truncation_are_told_apart() {
        let (id, q) = question("example.org", RecordType::MX).unwrap();
        let nx = reply_to(&q, |m| m.metadata.response_code = ResponseCode::NXDomain);
        assert_eq!(
            answer(&nx, id, "example.org", RecordType::MX).unwrap(),
            Answer::NoSuchName
        );
        let tc = reply_to(&q, |m| m.metadata.truncation = true);
        assert_eq!(
            answer(&tc, id, "example.org", RecordType::MX).unwrap(),
            Answer::Truncated
        );
        let fail = reply_to(&q, |m| m.metadata.response_code = ResponseCode::ServFail);
        assert!(answer(&fail, id, "example.org", RecordType::MX).is_err());
    }

    #[test]
    fn the_first_nameserver_of_resolv_conf_is_asked() {
        let conf = "# comment\nsearch example.org\nnameserver  fe80::1%eth0\nnameserver 192.0.2.53 # first usable\nnameserver 192.0.2.54\n";
        assert_eq!(nameserver_in(conf), "192.0.2.53:53".parse().unwrap());
        assert_eq!(nameserver_in(""), "127.0.0.1:53".parse().unwrap());
        assert_eq!(
            nameserver_in("nameserver ::1\n"),
            "[::1]:53".parse().unwrap()
        );
    }
}
