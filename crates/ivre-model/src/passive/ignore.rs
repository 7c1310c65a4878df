//! Ignore rules for passive imports (`-i/--ignore-spec FILE`, spec 2.6),
//! as a declarative file instead of IVRE's executed Python.
//!
//! # File format
//!
//! One rule per line; `#` starts a comment (whole line or trailing); blank
//! lines are ignored; words are separated by white space.
//!
//! ```text
//! # drop observations about private hosts, for some recontypes
//! net 10.0.0.0/8 HTTP_CLIENT_HEADER OPEN_PORT SSL_SERVER
//! net 192.168.0.0/16                 # no recontype: applies to all
//! net 169.254.0.0-169.254.255.255 DNS_ANSWER   # inclusive range
//! # but never drop these (recontype source), like IVRE's NEVERIGNORE
//! keep HTTP_CLIENT_HEADER AUTHORIZATION
//! keep HTTP_CLIENT_HEADER PROXY-AUTHORIZATION
//! # drop a whole recontype, or one source of it, whatever the address
//! drop HTTP_SERVER_HEADER X-POWERED-BY
//! drop TCP_CLIENT_BANNER
//! ```
//!
//! * `net <CIDR | FIRST-LAST> [RECONTYPE...]`: an observation whose `addr`
//!   is inside the network (or inclusive range) is dropped, when its
//!   recontype is listed (or for every recontype when none is listed).
//! * `keep <RECONTYPE> <SOURCE>`: exempts that (recontype, source) pair from
//!   the `net` rules (IVRE's `NEVERIGNORE`).
//! * `drop <RECONTYPE> [SOURCE]`: drops every observation of that recontype
//!   (and source, when given), with or without an address.
//!
//! As in IVRE, rules are evaluated on the observation as read, before any
//! normalisation, and records without `addr` are never dropped by `net`
//! rules.

use std::net::IpAddr;
use std::str::FromStr;

use ipnetwork::IpNetwork;

use super::record::PassiveRecord;

#[derive(Debug, Clone, PartialEq)]
enum Range {
    Net(IpNetwork),
    Span(IpAddr, IpAddr),
}

impl Range {
    fn contains(&self, ip: IpAddr) -> bool {
        match self {
            Range::Net(n) => n.contains(ip),
            Range::Span(a, b) => match (a, b, ip) {
                (IpAddr::V4(a), IpAddr::V4(b), IpAddr::V4(ip)) => *a <= ip && ip <= *b,
                (IpAddr::V6(a), IpAddr::V6(b), IpAddr::V6(ip)) => *a <= ip && ip <= *b,
                _ => false,
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
struct NetRule {
    range: Range,
    recontypes: Vec<String>,
}

/// A parsed ignore specification.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct IgnoreSpec {
    nets: Vec<NetRule>,
    keep: Vec<(String, String)>,
    drop: Vec<(String, Option<String>)>,
}

/// An error in an ignore file, with its 1-based line number.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {kind}")]
pub struct IgnoreSpecError {
    pub line: usize,
    pub kind: IgnoreRuleError,
}

/// What is wrong with a rule of an ignore file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IgnoreRuleError {
    #[error("net: missing network")]
    MissingNetwork,
    #[error("invalid address {0:?}")]
    Address(String),
    #[error("range {0:?} mixes IPv4 and IPv6")]
    MixedRange(String),
    #[error("invalid network {text:?}: {error}")]
    Network {
        text: String,
        error: ipnetwork::IpNetworkError,
    },
    #[error("keep: expected RECONTYPE SOURCE")]
    KeepArguments,
    #[error("drop: expected RECONTYPE [SOURCE]")]
    DropArguments,
    #[error("unknown rule {0:?}")]
    UnknownRule(String),
}

fn parse_range(s: &str) -> Result<Range, IgnoreRuleError> {
    let address = |text: &str| {
        text.parse::<IpAddr>()
            .map_err(|_| IgnoreRuleError::Address(text.to_owned()))
    };
    if let Some((a, b)) = s.split_once('-') {
        let (a, b) = (address(a)?, address(b)?);
        if a.is_ipv4() != b.is_ipv4() {
            return Err(IgnoreRuleError::MixedRange(s.to_owned()));
        }
        return Ok(Range::Span(a, b));
    }
    IpNetwork::from_str(s)
        .map(Range::Net)
        .map_err(|error| IgnoreRuleError::Network {
            text: s.to_owned(),
            error,
        })
}

impl FromStr for IgnoreSpec {
    type Err = IgnoreSpecError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let mut spec = IgnoreSpec::default();
        for (i, line) in text.lines().enumerate() {
            let err = |kind: IgnoreRuleError| IgnoreSpecError { line: i + 1, kind };
            let line = line.split('#').next().unwrap_or_default();
            let words: Vec<&str> = line.split_whitespace().collect();
            let Some((&kw, args)) = words.split_first() else {
                continue;
            };
            match kw {
                "net" => {
                    let (range, rts) = args
                        .split_first()
                        .ok_or_else(|| err(IgnoreRuleError::MissingNetwork))?;
                    spec.nets.push(NetRule {
                        range: parse_range(range).map_err(err)?,
                        recontypes: rts.iter().map(|s| s.to_string()).collect(),
                    });
                }
                "keep" => match args {
                    [rt, src] => spec.keep.push((rt.to_string(), src.to_string())),
                    _ => return Err(err(IgnoreRuleError::KeepArguments)),
                },
                "drop" => match args {
                    [rt] => spec.drop.push((rt.to_string(), None)),
                    [rt, src] => spec.drop.push((rt.to_string(), Some(src.to_string()))),
                    _ => return Err(err(IgnoreRuleError::DropArguments)),
                },
                other => return Err(err(IgnoreRuleError::UnknownRule(other.to_owned()))),
            }
        }
        Ok(spec)
    }
}

impl IgnoreSpec {
    /// Parses an ignore file's text.
    pub fn parse(text: &str) -> Result<Self, IgnoreSpecError> {
        text.parse()
    }

    /// True when no rule is defined.
    pub fn is_empty(&self) -> bool {
        self.nets.is_empty() && self.drop.is_empty()
    }

    /// Whether the observation must be dropped.
    pub fn ignores(&self, rec: &PassiveRecord) -> bool {
        let src = rec.source.as_deref();
        if self
            .drop
            .iter()
            .any(|(rt, s)| *rt == rec.recontype && (s.is_none() || s.as_deref() == src))
        {
            return true;
        }
        let Some(addr) = rec.addr else {
            return false;
        };
        if self
            .keep
            .iter()
            .any(|(rt, s)| *rt == rec.recontype && Some(s.as_str()) == src)
        {
            return false;
        }
        self.nets.iter().any(|n| {
            (n.recontypes.is_empty() || n.recontypes.contains(&rec.recontype))
                && n.range.contains(addr)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;

    fn rec(rt: &str, src: &str, addr: Option<&str>) -> PassiveRecord {
        let mut r = PassiveRecord::new(rt, "v", DateTime::from_timestamp(0, 0).unwrap());
        r.source = Some(src.into());
        r.addr = addr.map(|a| a.parse().unwrap());
        r
    }

    #[test]
    fn rules() {
        let spec = IgnoreSpec::parse(
            "# example\nnet 10.0.0.0/8 HTTP_CLIENT_HEADER\nnet 192.168.1.10-192.168.1.20\nkeep HTTP_CLIENT_HEADER AUTHORIZATION\n\ndrop HTTP_SERVER_HEADER X-POWERED-BY # trailing\n",
        )
        .unwrap();
        assert!(spec.ignores(&rec("HTTP_CLIENT_HEADER", "USER-AGENT", Some("10.1.2.3"))));
        assert!(!spec.ignores(&rec(
            "HTTP_CLIENT_HEADER",
            "AUTHORIZATION",
            Some("10.1.2.3")
        )));
        assert!(!spec.ignores(&rec("OPEN_PORT", "TCP", Some("10.1.2.3"))));
        assert!(spec.ignores(&rec("OPEN_PORT", "TCP", Some("192.168.1.15"))));
        assert!(!spec.ignores(&rec("OPEN_PORT", "TCP", Some("192.168.1.21"))));
        assert!(!spec.ignores(&rec("DNS_ANSWER", "CNAME", None)));
        assert!(spec.ignores(&rec("HTTP_SERVER_HEADER", "X-POWERED-BY", None)));
        let e = IgnoreSpec::parse("net 10.0.0.0/8\nnet 300.1.1.1/8\n").unwrap_err();
        assert_eq!(e.line, 2);
        assert!(IgnoreSpec::parse("bogus x").is_err());
    }
}
