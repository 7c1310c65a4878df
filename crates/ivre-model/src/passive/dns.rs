//! Passive DNS (spec 3.4, 3.5): what a query asks for, and the two shapes
//! of its answers.
//!
//! * A query ([`DnsQuery`]) is about a name (exact, `/regex/`, or a parent
//!   domain with `subdomains`), an address, or a network; `reverse` makes a
//!   name query match the *target* of the answers (CNAME/NS/MX target)
//!   instead of the queried name. [`DnsSubject::parse`] reads a command-line
//!   or URL value the way IVRE does: an IP, a decimal integer IP, a CIDR, a
//!   `/regex/flags` or a name.
//! * [`DnsAnswer`] is one stored `DNS_ANSWER` record, printed in the Passive
//!   DNS Common Output Format (draft-dulaunoy-dnsop-passive-dns-cof) by
//!   [`DnsAnswer::to_cof`].
//! * [`DnsPair`] is the aggregation of the answers of one `(name, target)`
//!   pair (IVRE's `iter_dns`): record types, sensors, first and last seen,
//!   total count; printed as `ivre iphost` does ([`DnsPair::write_text`],
//!   [`DnsPair::to_json`]).
//!
//! Storage convention (IVRE's): `value` is the queried name, `source` is
//! `RRTYPE-server-port`, the answer is `addr` (A, AAAA, and PTR, which is
//! stored "forward style": name = host name, addr = the address) or
//! `targetval` (CNAME, NS, MX).
//!
//! Fixed IVRE quirks: COF times are integer epoch seconds (IVRE printed date
//! strings), no empty `targetval` leaks into COF lines, and an address
//! query is not counted twice.

use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use chrono::{DateTime, Utc};
use ipnetwork::IpNetwork;
use serde_json::{json, Map, Value};

/// What a name query matches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NamePattern {
    /// The name itself (or, with `subdomains`, a parent domain).
    Exact(String),
    /// A POSIX-style regular expression (PostgreSQL `~`), from `/re/` or
    /// `/re/i` (case-insensitive).
    Regex {
        pattern: String,
        case_insensitive: bool,
    },
}

/// What a query is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DnsSubject {
    /// Answers giving this address (A, AAAA, PTR).
    Addr(IpAddr),
    /// Answers giving an address in this network (stored canonical: host
    /// bits cleared).
    Net(IpNetwork),
    /// Answers for (or, with `reverse`, pointing to) names.
    Name(NamePattern),
}

/// A value that cannot be a DNS query.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DnsQueryError {
    #[error("empty query")]
    Empty,
    #[error("unsupported regular expression flag {flag:?} in {query:?} (only i)")]
    RegexFlag { flag: char, query: String },
    #[error("integer address out of range: {0}")]
    IntegerOutOfRange(String),
    #[error("invalid network {query:?}: {error}")]
    Network {
        query: String,
        error: ipnetwork::IpNetworkError,
    },
}

impl DnsSubject {
    /// Reads a query value: an IPv4/IPv6 address, a decimal integer
    /// (IPv4 up to 2^32-1, IPv6 beyond), a CIDR `addr/len`, a `/regex/`
    /// with optional `i` flag, or else a name. A trailing dot on a name is
    /// dropped (stored names have none).
    pub fn parse(value: &str) -> Result<Self, DnsQueryError> {
        let v = value.trim();
        if v.is_empty() {
            return Err(DnsQueryError::Empty);
        }
        if let Some(rest) = v.strip_prefix('/') {
            if let Some(end) = rest.rfind('/') {
                let (pattern, flags) = (&rest[..end], &rest[end + 1..]);
                let mut case_insensitive = false;
                for f in flags.chars() {
                    match f {
                        'i' => case_insensitive = true,
                        other => {
                            return Err(DnsQueryError::RegexFlag {
                                flag: other,
                                query: v.to_owned(),
                            })
                        }
                    }
                }
                return Ok(DnsSubject::Name(NamePattern::Regex {
                    pattern: pattern.to_owned(),
                    case_insensitive,
                }));
            }
        }
        if let Ok(ip) = v.parse::<IpAddr>() {
            return Ok(DnsSubject::Addr(ip));
        }
        if v.bytes().all(|b| b.is_ascii_digit()) {
            let n: u128 = v
                .parse()
                .map_err(|_| DnsQueryError::IntegerOutOfRange(v.to_owned()))?;
            return Ok(DnsSubject::Addr(match u32::try_from(n) {
                Ok(n4) => IpAddr::V4(Ipv4Addr::from(n4)),
                Err(_) => IpAddr::V6(Ipv6Addr::from(n)),
            }));
        }
        if let Some((addr, len)) = v.split_once('/') {
            if let (Ok(addr), Ok(len)) = (addr.parse::<IpAddr>(), len.parse::<u8>()) {
                let invalid = |error| DnsQueryError::Network {
                    query: v.to_owned(),
                    error,
                };
                let net = IpNetwork::new(addr, len).map_err(invalid)?;
                let canonical = IpNetwork::new(net.network(), len).map_err(invalid)?;
                return Ok(DnsSubject::Net(canonical));
            }
        }
        let name = v.strip_suffix('.').unwrap_or(v);
        Ok(DnsSubject::Name(NamePattern::Exact(name.to_owned())))
    }
}

/// A passive DNS query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsQuery {
    pub subject: DnsSubject,
    /// Name queries: match a parent domain (`infos.domain`, or
    /// `infos.domaintarget` with `reverse`) instead of the name itself.
    pub subdomains: bool,
    /// Name queries: match the target of the answer instead of its name.
    pub reverse: bool,
    /// Only answers of this record type (`A`, `AAAA`, `PTR`, `CNAME`, ...;
    /// compared upper-cased).
    pub rrtype: Option<String>,
    /// Only answers seen by this sensor.
    pub sensor: Option<String>,
}

impl DnsQuery {
    /// A query on `subject` with no option.
    pub fn new(subject: DnsSubject) -> Self {
        DnsQuery {
            subject,
            subdomains: false,
            reverse: false,
            rrtype: None,
            sensor: None,
        }
    }
}

/// Record type and DNS server of a stored `source` (`A-109.0.66.10-53`).
pub fn split_source(source: &str) -> (&str, Option<&str>) {
    let mut parts = source.splitn(3, '-');
    let rrtype = parts.next().unwrap_or_default();
    let server = parts.next().filter(|s| !s.is_empty());
    (rrtype, server)
}

/// Python's `str(datetime)`: seconds, and microseconds only when non-zero.
pub fn python_datetime(t: &DateTime<Utc>) -> String {
    if t.timestamp_subsec_micros() == 0 {
        t.format("%Y-%m-%d %H:%M:%S").to_string()
    } else {
        t.format("%Y-%m-%d %H:%M:%S%.6f").to_string()
    }
}

/// One stored DNS answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsAnswer {
    /// The queried name (`value`).
    pub rrname: String,
    /// Record type (first field of `source`).
    pub rrtype: String,
    /// The answer: the address, or the target name.
    pub rdata: String,
    /// DNS server that gave the answer (second field of `source`).
    pub server: Option<String>,
    pub sensor: Option<String>,
    pub count: i64,
    pub firstseen: DateTime<Utc>,
    pub lastseen: DateTime<Utc>,
}

impl DnsAnswer {
    /// The Common Output Format object: the draft's mandatory `rrname`,
    /// `rrtype`, `rdata`, `time_first`, `time_last` (integer epoch seconds),
    /// its optional `count` and `sensor_id`, and IVRE's `source` (the DNS
    /// server address).
    pub fn to_cof(&self) -> Value {
        let mut m = Map::new();
        m.insert("rrname".into(), json!(self.rrname));
        m.insert("rrtype".into(), json!(self.rrtype));
        m.insert("rdata".into(), json!(self.rdata));
        m.insert("time_first".into(), json!(self.firstseen.timestamp()));
        m.insert("time_last".into(), json!(self.lastseen.timestamp()));
        m.insert("count".into(), json!(self.count));
        if let Some(s) = &self.sensor {
            m.insert("sensor_id".into(), json!(s));
        }
        if let Some(s) = &self.server {
            m.insert("source".into(), json!(s));
        }
        Value::Object(m)
    }
}

/// The answers of one `(name, target)` pair, aggregated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DnsPair {
    pub name: String,
    /// The address (A, AAAA, PTR) or target name (CNAME, NS, MX).
    pub target: String,
    /// Record types seen, sorted.
    pub types: Vec<String>,
    /// Sensors that saw it, sorted.
    pub sources: Vec<String>,
    pub firstseen: DateTime<Utc>,
    pub lastseen: DateTime<Utc>,
    /// Sum of the record counts.
    pub count: i64,
}

impl DnsPair {
    /// `ivre iphost` text form: `name -> target<TAB>A, PTR`, then `from`,
    /// `firstseen` and `lastseen` lines, then a blank line.
    pub fn write_text(&self, out: &mut impl Write) -> io::Result<()> {
        writeln!(
            out,
            "{} -> {}\t{}\n\tfrom: {}\n\tfirstseen: {}\n\tlastseen: {}\n",
            self.name,
            self.target,
            self.types.join(", "),
            self.sources.join(", "),
            python_datetime(&self.firstseen),
            python_datetime(&self.lastseen),
        )
    }

    /// `ivre iphost --json` form (dates as `YYYY-MM-DD HH:MM:SS[.ffffff]`).
    pub fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "target": self.target,
            "types": self.types,
            "sources": self.sources,
            "firstseen": python_datetime(&self.firstseen),
            "lastseen": python_datetime(&self.lastseen),
            "count": self.count,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: i64, micros: u32) -> DateTime<Utc> {
        DateTime::from_timestamp(s, micros * 1000).unwrap()
    }

    #[test]
    fn parse_values() {
        use DnsSubject::*;
        assert_eq!(
            DnsSubject::parse("10.0.0.1").unwrap(),
            Addr("10.0.0.1".parse().unwrap())
        );
        assert_eq!(
            DnsSubject::parse("167772161").unwrap(),
            Addr("10.0.0.1".parse().unwrap())
        );
        assert_eq!(
            DnsSubject::parse("2001:db8::1").unwrap(),
            Addr("2001:db8::1".parse().unwrap())
        );
        assert_eq!(
            DnsSubject::parse("10.1.2.3/8").unwrap(),
            Net("10.0.0.0/8".parse().unwrap())
        );
        assert!(DnsSubject::parse("10.0.0.0/33").is_err());
        assert_eq!(
            DnsSubject::parse("www.example.com.").unwrap(),
            Name(NamePattern::Exact("www.example.com".into()))
        );
        assert_eq!(
            DnsSubject::parse("/^ntp\\./i").unwrap(),
            Name(NamePattern::Regex {
                pattern: "^ntp\\.".into(),
                case_insensitive: true
            })
        );
        assert!(DnsSubject::parse("/x/g").is_err());
        assert!(DnsSubject::parse("").is_err());
        // Not a CIDR: a name with a slash stays a name (it matches nothing).
        assert!(matches!(
            DnsSubject::parse("a/b").unwrap(),
            Name(NamePattern::Exact(_))
        ));
    }

    #[test]
    fn sources() {
        assert_eq!(split_source("A-109.0.66.10-53"), ("A", Some("109.0.66.10")));
        assert_eq!(
            split_source("AAAA-2001:db8::1-53"),
            ("AAAA", Some("2001:db8::1"))
        );
        assert_eq!(split_source("PTR"), ("PTR", None));
    }

    #[test]
    fn outputs() {
        let p = DnsPair {
            name: "ntp.sfr.net".into(),
            target: "109.0.66.1".into(),
            types: vec!["A".into()],
            sources: vec!["S1".into(), "TEST".into()],
            firstseen: ts(119, 236_000),
            lastseen: ts(121, 0),
            count: 2,
        };
        let mut out = Vec::new();
        p.write_text(&mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "ntp.sfr.net -> 109.0.66.1\tA\n\tfrom: S1, TEST\n\tfirstseen: 1970-01-01 00:01:59.236000\n\tlastseen: 1970-01-01 00:02:01\n\n"
        );
        assert_eq!(p.to_json()["lastseen"], "1970-01-01 00:02:01");
        let a = DnsAnswer {
            rrname: "ntp.sfr.net".into(),
            rrtype: "A".into(),
            rdata: "109.0.66.1".into(),
            server: Some("109.0.66.10".into()),
            sensor: Some("TEST".into()),
            count: 2,
            firstseen: ts(119, 236_000),
            lastseen: ts(121, 999_000),
        };
        assert_eq!(
            serde_json::to_string(&a.to_cof()).unwrap(),
            r#"{"rrname":"ntp.sfr.net","rrtype":"A","rdata":"109.0.66.1","time_first":119,"time_last":121,"count":2,"sensor_id":"TEST","source":"109.0.66.10"}"#
        );
    }
}
