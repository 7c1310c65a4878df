//! A small blocking DNS client, what `ivre-auditdom` needs and no more:
//! one question to one server over UDP (retried over TCP when the answer
//! is truncated), and zone transfers (AXFR) over TCP.
//!
//! Messages are built and parsed by `hickory-proto` (the wire format of the
//! Hickory DNS project); the sockets are plain `std` ones with timeouts.
//! Every answer is checked (message id, question, response code) and
//! bounded: a zone transfer stops with an error past `max_records` records
//! or `max_bytes` bytes, and a malformed or cut-short answer is an error,
//! never a panic.

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, Record, RecordType};
use std::hash::{BuildHasher, Hasher};
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::str::FromStr;
use std::time::{Duration, Instant};

/// One resource record, in presentation format (as `dig` prints it).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rr {
    /// The owner name, absolute (with its trailing dot).
    pub name: String,
    pub ttl: u32,
    /// `IN`, `CH`...
    pub class: String,
    /// `A`, `MX`, `SOA`...
    pub rtype: String,
    /// The record data: `10 mail.example.com.`, `"v=spf1 -all"`...
    pub data: String,
}

/// What can go wrong talking to a server.
#[derive(Debug, thiserror::Error)]
pub enum DnsError {
    #[error("invalid domain name {0:?}: {1}")]
    Name(String, String),
    #[error("invalid record type {0:?}")]
    Type(String),
    #[error("no answer within {0:?}")]
    Timeout(Duration),
    #[error("{0}")]
    Io(std::io::Error),
    #[error("malformed answer: {0}")]
    Malformed(String),
    #[error("answer cut short: {0}")]
    CutShort(String),
    #[error("the server answered {0}")]
    Rcode(String),
    #[error("zone transfer of more than {0} records (see --max-records)")]
    TooManyRecords(usize),
    #[error("zone transfer of more than {0} bytes")]
    TooLarge(usize),
    #[error("zone transfer longer than {0:?}")]
    TooSlow(Duration),
    #[error("zone transfer that does not start with the zone's SOA record")]
    NoSoa,
}

impl From<std::io::Error> for DnsError {
    fn from(e: std::io::Error) -> Self {
        DnsError::Io(e)
    }
}

/// The client settings.
#[derive(Debug, Clone, Copy)]
pub struct Client {
    /// Time allowed for each read (and each connection).
    pub timeout: Duration,
    /// Tries over UDP before giving up.
    pub tries: u32,
    /// Most records a zone transfer may hold.
    pub max_records: usize,
    /// Most bytes a zone transfer may take.
    pub max_bytes: usize,
    /// Most time a zone transfer may take.
    pub max_transfer_time: Duration,
}

impl Default for Client {
    fn default() -> Self {
        Client {
            timeout: Duration::from_secs(5),
            tries: 2,
            max_records: 1_000_000,
            max_bytes: 512 << 20,
            max_transfer_time: Duration::from_secs(600),
        }
    }
}

/// A domain name, absolute (IDNs converted to their ASCII form).
pub fn parse_name(name: &str) -> Result<Name, DnsError> {
    let mut n = Name::from_utf8(name.trim_end_matches('.'))
        .map_err(|e| DnsError::Name(name.to_string(), e.to_string()))?;
    if name.is_empty() || name == "." {
        return Err(DnsError::Name(name.to_string(), "empty name".into()));
    }
    n.set_fqdn(true);
    Ok(n)
}

fn parse_type(rtype: &str) -> Result<RecordType, DnsError> {
    RecordType::from_str(rtype).map_err(|_| DnsError::Type(rtype.to_string()))
}

/// A random message id (std's randomly seeded hasher, mixed with the time).
fn new_id() -> u16 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default(),
    );
    h.finish() as u16
}

fn request(name: &Name, rtype: RecordType, edns: bool) -> Result<(u16, Vec<u8>), DnsError> {
    let id = new_id();
    let mut m = Message::new();
    m.set_id(id)
        .set_message_type(MessageType::Query)
        .set_op_code(OpCode::Query)
        .set_recursion_desired(true)
        .add_query(Query::query(name.clone(), rtype));
    if edns {
        let mut e = Edns::new();
        e.set_max_payload(1232);
        m.set_edns(e);
    }
    let bytes = m
        .to_vec()
        .map_err(|e| DnsError::Name(name.to_string(), e.to_string()))?;
    Ok((id, bytes))
}

/// The presentation form of a character string, as in zone files.
fn quote(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() + 2);
    s.push('"');
    for &b in bytes {
        match b {
            b'"' | b'\\' => {
                s.push('\\');
                s.push(b as char);
            }
            0x20..=0x7e => s.push(b as char),
            _ => s.push_str(&format!("\\{b:03}")),
        }
    }
    s.push('"');
    s
}

/// A wire record in presentation format.
pub fn to_rr(r: &Record) -> Rr {
    let data = match r.data() {
        RData::TXT(t) => t
            .txt_data()
            .iter()
            .map(|b| quote(b))
            .collect::<Vec<_>>()
            .join(" "),
        d => d.to_string(),
    };
    Rr {
        name: r.name().to_ascii(),
        ttl: r.ttl(),
        class: r.dns_class().to_string(),
        rtype: r.record_type().to_string(),
        data,
    }
}

/// Parses a response to `(id, name, rtype)`: `Ok(None)` when it answers
/// something else (another id: a late answer to an earlier question).
fn parse_response(
    bytes: &[u8],
    id: u16,
    name: &Name,
    rtype: RecordType,
) -> Result<Option<Message>, DnsError> {
    if bytes.len() < 2 || u16::from_be_bytes([bytes[0], bytes[1]]) != id {
        return Ok(None);
    }
    let m = Message::from_vec(bytes).map_err(|e| DnsError::Malformed(e.to_string()))?;
    if m.message_type() != MessageType::Response {
        return Err(DnsError::Malformed("a query instead of a response".into()));
    }
    if let Some(q) = m.queries().first() {
        if q.query_type() != rtype || q.name() != name {
            return Err(DnsError::Malformed(format!(
                "answer to another question ({} {})",
                q.name(),
                q.query_type()
            )));
        }
    }
    Ok(Some(m))
}

/// The answers of `rcode`, or the error it is.
fn check_rcode(m: &Message) -> Result<(), DnsError> {
    match m.response_code() {
        ResponseCode::NoError | ResponseCode::NXDomain => Ok(()),
        c => Err(DnsError::Rcode(c.to_str().to_string())),
    }
}

/// Reads one length-prefixed message from a TCP stream.
fn read_tcp_message(s: &mut TcpStream, what: &str) -> Result<Vec<u8>, DnsError> {
    let mut len = [0u8; 2];
    read_exact(s, &mut len, what)?;
    let len = u16::from_be_bytes(len) as usize;
    let mut buf = vec![0u8; len];
    read_exact(s, &mut buf, what)?;
    Ok(buf)
}

fn read_exact(s: &mut TcpStream, buf: &mut [u8], what: &str) -> Result<(), DnsError> {
    s.read_exact(buf).map_err(|e| match e.kind() {
        ErrorKind::UnexpectedEof => DnsError::CutShort(format!("connection closed during {what}")),
        ErrorKind::WouldBlock | ErrorKind::TimedOut => {
            DnsError::CutShort(format!("no data within the timeout during {what}"))
        }
        _ => DnsError::Io(e),
    })
}

fn connect(server: SocketAddr, timeout: Duration) -> Result<TcpStream, DnsError> {
    let s = TcpStream::connect_timeout(&server, timeout)?;
    s.set_read_timeout(Some(timeout))?;
    s.set_write_timeout(Some(timeout))?;
    Ok(s)
}

fn send_tcp(s: &mut TcpStream, bytes: &[u8]) -> Result<(), DnsError> {
    let len =
        u16::try_from(bytes.len()).map_err(|_| DnsError::Malformed("question too long".into()))?;
    let mut out = len.to_be_bytes().to_vec();
    out.extend_from_slice(bytes);
    s.write_all(&out)?;
    Ok(())
}

impl Client {
    /// The records of type `rtype` in the answer of `server` to
    /// `name rtype` (empty for NXDOMAIN / no data). Over UDP, then over TCP
    /// when the UDP answer is truncated.
    pub fn query(&self, server: SocketAddr, name: &str, rtype: &str) -> Result<Vec<Rr>, DnsError> {
        let qname = parse_name(name)?;
        let qtype = parse_type(rtype)?;
        let m = match self.query_udp(server, &qname, qtype)? {
            Some(m) => m,
            None => self.query_tcp(server, &qname, qtype)?,
        };
        check_rcode(&m)?;
        Ok(m.answers()
            .iter()
            .filter(|r| r.record_type() == qtype)
            .map(to_rr)
            .collect())
    }

    /// `None`: truncated, to ask again over TCP.
    fn query_udp(
        &self,
        server: SocketAddr,
        name: &Name,
        rtype: RecordType,
    ) -> Result<Option<Message>, DnsError> {
        let local: SocketAddr = if server.is_ipv4() {
            "0.0.0.0:0".parse().expect("valid address")
        } else {
            "[::]:0".parse().expect("valid address")
        };
        let sock = UdpSocket::bind(local)?;
        sock.connect(server)?;
        let mut buf = vec![0u8; 65535];
        for _ in 0..self.tries.max(1) {
            let (id, bytes) = request(name, rtype, true)?;
            sock.send(&bytes)?;
            let deadline = Instant::now() + self.timeout;
            loop {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    break;
                }
                sock.set_read_timeout(Some(left))?;
                let n = match sock.recv(&mut buf) {
                    Ok(n) => n,
                    Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                        break
                    }
                    // an ICMP "port unreachable": nobody listens there
                    Err(e) => return Err(e.into()),
                };
                if let Some(m) = parse_response(&buf[..n], id, name, rtype)? {
                    return Ok((!m.truncated()).then_some(m));
                }
            }
        }
        Err(DnsError::Timeout(self.timeout))
    }

    fn query_tcp(
        &self,
        server: SocketAddr,
        name: &Name,
        rtype: RecordType,
    ) -> Result<Message, DnsError> {
        let mut s = connect(server, self.timeout)?;
        let (id, bytes) = request(name, rtype, false)?;
        send_tcp(&mut s, &bytes)?;
        // a few late answers to other questions at most
        for _ in 0..8 {
            let buf = read_tcp_message(&mut s, "the answer")?;
            if let Some(m) = parse_response(&buf, id, name, rtype)? {
                return Ok(m);
            }
        }
        Err(DnsError::Malformed("messages with other ids only".into()))
    }

    /// The records of a zone transfer of `zone` from `server`, in the order
    /// received, the zone's SOA first and last (as `dig AXFR` prints them).
    pub fn axfr(&self, server: SocketAddr, zone: &str) -> Result<Vec<Rr>, DnsError> {
        let qname = parse_name(zone)?;
        let mut s = connect(server, self.timeout)?;
        let (id, bytes) = request(&qname, RecordType::AXFR, false)?;
        send_tcp(&mut s, &bytes)?;
        let mut out: Vec<Rr> = Vec::new();
        let mut total = 0usize;
        let mut soas = 0;
        let deadline = Instant::now() + self.max_transfer_time;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(DnsError::TooSlow(self.max_transfer_time));
            }
            s.set_read_timeout(Some(left.min(self.timeout)))?;
            let buf = read_tcp_message(&mut s, "the zone transfer")?;
            total += buf.len() + 2;
            if total > self.max_bytes {
                return Err(DnsError::TooLarge(self.max_bytes));
            }
            let Some(m) = parse_response(&buf, id, &qname, RecordType::AXFR)? else {
                return Err(DnsError::Malformed("a message with another id".into()));
            };
            if m.response_code() != ResponseCode::NoError {
                return Err(DnsError::Rcode(m.response_code().to_str().to_string()));
            }
            if m.answers().is_empty() {
                return Err(DnsError::Malformed("a message without records".into()));
            }
            for r in m.answers() {
                let is_soa = r.record_type() == RecordType::SOA;
                if out.is_empty() && !is_soa {
                    return Err(DnsError::NoSoa);
                }
                if out.len() >= self.max_records {
                    return Err(DnsError::TooManyRecords(self.max_records));
                }
                out.push(to_rr(r));
                if is_soa {
                    soas += 1;
                    if soas == 2 {
                        return Ok(out);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(quote(b"v=spf1 -all"), "\"v=spf1 -all\"");
        assert_eq!(quote(b"a\"b\\c\x01"), "\"a\\\"b\\\\c\\001\"");
    }

    #[test]
    fn names() {
        assert_eq!(
            parse_name("Example.COM").unwrap().to_ascii(),
            "example.com."
        );
        assert_eq!(
            parse_name("example.com.").unwrap().to_ascii(),
            "example.com."
        );
        assert!(parse_name("").is_err());
        assert!(parse_name("a..b").is_err());
        assert!(parse_type("NOPE").is_err());
    }

    #[test]
    fn responses_are_checked() {
        let name = parse_name("example.com").unwrap();
        let (id, q) = request(&name, RecordType::NS, true).unwrap();
        // another id: ignored
        assert!(
            parse_response(&q, id.wrapping_add(1), &name, RecordType::NS)
                .unwrap()
                .is_none()
        );
        // our own question echoed: not a response
        assert!(parse_response(&q, id, &name, RecordType::NS).is_err());
        // garbage after the right id
        let mut junk = id.to_be_bytes().to_vec();
        junk.extend_from_slice(&[0x81, 0x80, 0, 1, 0, 5, 0, 0, 0, 0, 3]);
        assert!(matches!(
            parse_response(&junk, id, &name, RecordType::NS),
            Err(DnsError::Malformed(_))
        ));
        // every prefix of a real response: an error or a message, no panic
        let mut m = Message::from_vec(&q).unwrap();
        m.set_message_type(MessageType::Response);
        let bytes = m.to_vec().unwrap();
        assert!(parse_response(&bytes, id, &name, RecordType::NS)
            .unwrap()
            .is_some());
        for i in 0..bytes.len() {
            let _ = parse_response(&bytes[..i], id, &name, RecordType::NS);
        }
    }

    /// A response with records of many types, and that response with each
    /// byte replaced by a few values: every variant parses to a message or
    /// an error, and every record it gives prints, without a panic.
    #[test]
    fn mangled_responses_never_panic() {
        use hickory_proto::rr::rdata::{CAA, MX, NULL, SOA, SRV, TXT};
        let name = parse_name("example.com").unwrap();
        let (id, q) = request(&name, RecordType::AXFR, false).unwrap();
        let mut m = Message::from_vec(&q).unwrap();
        m.set_message_type(MessageType::Response);
        let sub = |l: &str| name.prepend_label(l).unwrap();
        let soa = SOA::new(sub("ns"), sub("h"), 1, 2, 3, 4, 5);
        for data in [
            RData::SOA(soa.clone()),
            RData::A("192.0.2.1".parse::<std::net::Ipv4Addr>().unwrap().into()),
            RData::AAAA("2001:db8::1".parse::<std::net::Ipv6Addr>().unwrap().into()),
            RData::MX(MX::new(10, sub("mail"))),
            RData::TXT(TXT::new(vec!["v=spf1 \"-all\"".into(), "x".into()])),
            RData::SRV(SRV::new(1, 2, 5060, sub("sip"))),
            RData::CAA(CAA::new_issue(false, Some(sub("ca")), vec![])),
            RData::NULL(NULL::with(vec![1, 2, 3])),
            RData::SOA(soa),
        ] {
            m.add_answer(Record::from_rdata(sub("www"), 300, data));
        }
        let bytes = m.to_vec().unwrap();
        let good = parse_response(&bytes, id, &name, RecordType::AXFR)
            .unwrap()
            .unwrap();
        let rrs: Vec<Rr> = good.answers().iter().map(to_rr).collect();
        assert_eq!(rrs.len(), 9);
        assert_eq!(rrs[4].data, "\"v=spf1 \\\"-all\\\"\" \"x\"");
        assert_eq!(rrs[3].data, "10 mail.example.com.");
        let mut parsed = 0;
        for i in 0..bytes.len() {
            for v in [0u8, 1, 0x3f, 0xc0, 0xff] {
                let mut b = bytes.clone();
                b[i] = v;
                if let Ok(Some(m)) = parse_response(&b, id, &name, RecordType::AXFR) {
                    parsed += 1;
                    for r in m.answers() {
                        let _ = to_rr(r);
                    }
                }
            }
        }
        assert!(parsed > 0);
    }
}
