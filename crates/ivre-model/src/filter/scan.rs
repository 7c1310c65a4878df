//! Leaves of the scan ("nmap" purpose) filters, and the helpers that build
//! IVRE's named filters out of them.
//!
//! A leaf holds on one record. Leaves that look inside a list of the record
//! (ports, scripts, hostnames, hops, CPEs, tags) hold when *one element*
//! satisfies *every* condition of the leaf: `PortCond { port: 80, service:
//! http }` wants port 80 to be the http one, as IVRE's helpers do
//! (`$elemMatch`). Two leaves joined with AND may match different elements.

use super::{str2regexp, Filter, FilterError, Match, Regex};
use chrono::{DateTime, Utc};
use std::net::IpAddr;

/// A filter on scan host records.
pub type ScanFilter = Filter<ScanLeaf>;

#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)] // leaves are few and short-lived
pub enum ScanLeaf {
    /// The record's address is this one.
    Host(IpAddr),
    /// The address is in this network (address, prefix length).
    Net(IpAddr, u8),
    /// The address is between these two, inclusive.
    Range(IpAddr, IpAddr),
    Ipv4,
    Ipv6,
    /// Record ids.
    Id(Vec<i64>),
    SchemaVersion(i64),
    Category(Match),
    Source(Match),
    /// Some port (the host-script pseudo-port -1 included) satisfies all the conditions.
    Port(PortCond),
    /// Some open port is not in this list of (protocol, port).
    OtherOpenPort(Vec<(String, i32)>),
    /// The number of open ports is within these bounds.
    CountOpenPorts {
        min: i64,
        max: i64,
    },
    /// Some script satisfies all the conditions.
    Script(ScriptCond),
    /// Some hostname satisfies all the conditions (no condition: any hostname).
    Hostname {
        name: Option<Match>,
        domain: Option<Match>,
    },
    /// Some traceroute hop satisfies all the conditions.
    Hop {
        addr: Option<IpAddr>,
        ttl: Option<i64>,
        name: Option<Match>,
        domain: Option<Match>,
    },
    /// Some OS class has this vendor, family, generation or type.
    Os(Match),
    /// Some CPE matches all the given parts.
    Cpe(CpeCond),
    /// Some tag has this value (and info).
    Tag {
        value: Option<Match>,
        info: Option<Match>,
    },
    /// Scanned in this interval (overlap: ends after `start`, starts before `end`).
    TimeRange {
        start: Option<DateTime<Utc>>,
        end: Option<DateTime<Utc>>,
    },
    /// Ended less than this many seconds ago.
    TimeAgo(f64),
    /// Has this MAC address (None: any).
    Mac(Option<Match>),
}

/// Conditions on one port.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PortCond {
    pub protocol: Option<String>,
    /// Port number; -1 is the host-script pseudo-port.
    pub port: Option<i32>,
    /// `Some(Match::Exact("open"))` for an open port.
    pub state: Option<Match>,
    pub service: Option<Match>,
    pub product: Option<Match>,
    pub version: Option<Match>,
    pub extrainfo: Option<Match>,
    pub devicetype: Option<Match>,
    pub hostname: Option<Match>,
    pub tunnel: Option<Match>,
}

/// Which port a script is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScriptPort {
    #[default]
    Any,
    /// A host script (port -1).
    Host,
    /// A script of a real port.
    Service,
    Number(i32),
}

/// Conditions on one script.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ScriptCond {
    /// Script id.
    pub name: Option<Match>,
    pub output: Option<Match>,
    pub port: ScriptPort,
    /// Conditions on the structured output.
    pub data: Option<DataCond>,
}

/// A step from a JSON value to another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seg {
    Key(String),
    /// Every element of a list (a non-list value stands for itself).
    Each,
}

/// Conditions on one element of a script's structured output: `path` leads
/// from the script data (`{alias_key: value}`) to the elements, each condition
/// applies to a sub-path of the *same* element.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DataCond {
    pub path: Vec<Seg>,
    pub conds: Vec<(Vec<String>, ValueCond)>,
}

/// A condition on a JSON value.
#[derive(Debug, Clone, PartialEq)]
pub enum ValueCond {
    /// On its text (a string, or a number or bool as text).
    Str(Match),
    Bool(bool),
    Int(i64),
    Exists,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct CpeCond {
    pub cpe_type: Option<Match>,
    pub vendor: Option<Match>,
    pub product: Option<Match>,
    pub version: Option<Match>,
}

fn leaf(l: ScanLeaf) -> ScanFilter {
    Filter::Leaf(l)
}

fn re(p: &str) -> Match {
    Match::Regex(Regex {
        pattern: p.to_string(),
        flags: String::new(),
    })
}

fn rei(p: &str) -> Match {
    Match::Regex(Regex {
        pattern: p.to_string(),
        flags: "i".to_string(),
    })
}

fn ex(s: &str) -> Match {
    Match::Exact(s.to_string())
}

fn path(keys: &[&str]) -> Vec<String> {
    keys.iter().map(|k| k.to_string()).collect()
}

fn keys(spec: &str) -> Vec<Seg> {
    // "a.b[].c[]" -> Key a, Key b, Each, Key c, Each
    let mut out = Vec::new();
    for part in spec.split('.') {
        let (k, each) = match part.strip_suffix("[]") {
            Some(k) => (k, true),
            None => (part, false),
        };
        out.push(Seg::Key(k.to_string()));
        if each {
            out.push(Seg::Each);
        }
    }
    out
}

// ----- address and metadata -------------------------------------------------

pub fn host(addr: IpAddr) -> ScanFilter {
    leaf(ScanLeaf::Host(addr))
}

/// `a.b.c.d/n` (or a bare address, for a host).
pub fn net(cidr: &str) -> Result<ScanFilter, FilterError> {
    let (a, len) = match cidr.split_once('/') {
        Some((a, l)) => (a, Some(l)),
        None => (cidr, None),
    };
    let addr: IpAddr = a
        .trim()
        .parse()
        .map_err(|_| FilterError(format!("invalid network {cidr:?}")))?;
    let max = if addr.is_ipv4() { 32 } else { 128 };
    let len = match len {
        Some(l) => l
            .trim()
            .parse::<u8>()
            .ok()
            .filter(|l| *l <= max)
            .ok_or_else(|| FilterError(format!("invalid prefix length in {cidr:?}")))?,
        None => max,
    };
    Ok(leaf(ScanLeaf::Net(addr, len)))
}

pub fn range(start: IpAddr, stop: IpAddr) -> ScanFilter {
    leaf(ScanLeaf::Range(start, stop))
}

fn parse_ip(s: &str) -> Result<IpAddr, FilterError> {
    let s = s.trim();
    if let Ok(a) = s.parse() {
        return Ok(a);
    }
    // IVRE also accepts an IPv4 address as an integer.
    if let Ok(n) = s.parse::<u32>() {
        return Ok(IpAddr::V4(n.into()));
    }
    Err(FilterError(format!("invalid address {s:?}")))
}

/// A positional address argument: `IP`, `A-B`, `CIDR` or an integer.
pub fn address_arg(s: &str) -> Result<ScanFilter, FilterError> {
    if s.contains('/') {
        return net(s);
    }
    if let Some((a, b)) = s.split_once('-') {
        if !a.contains(':') || !b.contains(':') || a.parse::<IpAddr>().is_err() {
            return Ok(range(parse_ip(a)?, parse_ip(b)?));
        }
    }
    Ok(host(parse_ip(s)?))
}

pub fn address(s: &str) -> Result<IpAddr, FilterError> {
    parse_ip(s)
}

pub fn ipv4() -> ScanFilter {
    leaf(ScanLeaf::Ipv4)
}

pub fn ipv6() -> ScanFilter {
    leaf(ScanLeaf::Ipv6)
}

pub fn category(m: Match) -> ScanFilter {
    leaf(ScanLeaf::Category(m))
}

pub fn source(m: Match) -> ScanFilter {
    leaf(ScanLeaf::Source(m))
}

pub fn mac(m: Option<Match>) -> ScanFilter {
    leaf(ScanLeaf::Mac(m.map(Match::lowercase)))
}

pub fn timeago(seconds: f64) -> ScanFilter {
    leaf(ScanLeaf::TimeAgo(seconds))
}

pub fn timerange(start: Option<DateTime<Utc>>, end: Option<DateTime<Utc>>) -> ScanFilter {
    leaf(ScanLeaf::TimeRange { start, end })
}

pub fn tag(value: Option<Match>, info: Option<Match>) -> ScanFilter {
    leaf(ScanLeaf::Tag { value, info })
}

// ----- ports and services ---------------------------------------------------

/// `[proto/]PORT`, `proto_PORT` or `host` (the host-script pseudo-port).
pub fn parse_port(s: &str) -> Result<(String, i32), FilterError> {
    let s = s.trim();
    if s == "host" {
        return Ok((String::new(), -1));
    }
    let (proto, num) = match s.split_once(['/', '_']) {
        Some((p, n)) => (p.to_lowercase(), n),
        None => ("tcp".to_string(), s),
    };
    let port = num
        .parse::<i32>()
        .ok()
        .filter(|p| (0..=65535).contains(p))
        .ok_or_else(|| FilterError(format!("invalid port {s:?}")))?;
    Ok((proto, port))
}

/// The port is in this state (IVRE's `searchport`, default state open).
pub fn port_state(protocol: &str, port: i32, state: Option<&str>) -> ScanFilter {
    let mut c = PortCond {
        port: Some(port),
        state: state.map(ex),
        ..Default::default()
    };
    if port != -1 {
        c.protocol = Some(protocol.to_string());
    }
    leaf(ScanLeaf::Port(c))
}

/// `--port [proto/]PORT`: that port is open.
pub fn port(spec: &str) -> Result<ScanFilter, FilterError> {
    let (proto, p) = parse_port(spec)?;
    Ok(port_state(
        &proto,
        p,
        if p == -1 { None } else { Some("open") },
    ))
}

/// All of (or any of) these ports are open.
pub fn ports(specs: &[&str], any: bool) -> Result<ScanFilter, FilterError> {
    let fs = specs
        .iter()
        .map(|s| port(s))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(if any {
        Filter::any(fs)
    } else {
        Filter::all(fs)
    })
}

pub fn other_open_port(specs: &[&str]) -> Result<ScanFilter, FilterError> {
    Ok(leaf(ScanLeaf::OtherOpenPort(
        specs
            .iter()
            .map(|s| parse_port(s))
            .collect::<Result<_, _>>()?,
    )))
}

/// Some port is open.
pub fn openport() -> ScanFilter {
    leaf(ScanLeaf::CountOpenPorts {
        min: 1,
        max: i64::MAX,
    })
}

pub fn countports(min: i64, max: i64) -> ScanFilter {
    leaf(ScanLeaf::CountOpenPorts { min, max })
}

pub fn port_cond(c: PortCond) -> ScanFilter {
    leaf(ScanLeaf::Port(c))
}

/// IVRE's `searchservice`: the service name on some port (any state).
pub fn service(name: Match, port: Option<(String, i32)>) -> ScanFilter {
    let (protocol, port) = port.map_or((None, None), |(p, n)| (Some(p), Some(n)));
    port_cond(PortCond {
        protocol,
        port,
        service: Some(name),
        ..Default::default()
    })
}

/// IVRE's `searchproduct`: product (and version, service, port) on the same port.
pub fn product(
    product: Option<Match>,
    version: Option<Match>,
    service: Option<Match>,
    port: Option<(String, i32)>,
) -> ScanFilter {
    let (protocol, port) = port.map_or((None, None), |(p, n)| (Some(p), Some(n)));
    port_cond(PortCond {
        protocol,
        port,
        service,
        product,
        version,
        ..Default::default()
    })
}

/// `--service SVC[:PORT]`.
pub fn service_arg(s: &str) -> Result<ScanFilter, FilterError> {
    let (svc, port) = split_port_suffix(s)?;
    Ok(service(super::str2regexpnone(svc)?, port))
}

/// Splits a trailing `:PORT` (digits only) off, unless inside a regex.
/// A `(protocol, port)` pair.
pub type PortSpec = (String, i32);

fn split_port_suffix(s: &str) -> Result<(&str, Option<PortSpec>), FilterError> {
    if let Some((head, tail)) = s.rsplit_once(':') {
        let regex_open = head.starts_with('/') && !head[1..].contains('/');
        if !regex_open && !tail.is_empty() && tail.bytes().all(|b| b.is_ascii_digit()) {
            return Ok((head, Some(parse_port(tail)?)));
        }
    }
    Ok((s, None))
}

/// Splits on `:` outside `/regex/` parts.
fn split_colons(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut in_re = false;
    let b = s.as_bytes();
    for i in 0..b.len() {
        match b[i] {
            b'/' if i == start => in_re = true,
            b'/' if in_re
                && (i + 1 == b.len() || b[i + 1] == b':' || b[i + 1].is_ascii_alphabetic()) =>
            {
                // end of a regex: flags follow until ':'
                in_re = false;
            }
            b':' if !in_re => {
                parts.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&s[start..]);
    parts
}

/// `--product [SVC:]PROD[:PORT]`.
pub fn product_arg(s: &str) -> Result<ScanFilter, FilterError> {
    let (rest, port) = split_port_suffix(s)?;
    let parts = split_colons(rest);
    let (svc, prod) = match parts.as_slice() {
        [p] => (None, *p),
        [s, p] => (Some(*s), *p),
        _ => {
            return Err(FilterError(format!(
                "invalid product {s:?}: [SERVICE:]PRODUCT[:PORT]"
            )))
        }
    };
    Ok(product(
        Some(super::str2regexpnone(prod)?),
        None,
        svc.map(super::str2regexpnone).transpose()?,
        port,
    ))
}

/// `--prodversion VERSION | PROD:VERSION | SVC:PROD:VERSION[:PORT]`.
pub fn version_arg(s: &str) -> Result<ScanFilter, FilterError> {
    let (rest, port) = split_port_suffix(s)?;
    let parts = split_colons(rest);
    let n = super::str2regexpnone;
    let (svc, prod, ver) = match parts.as_slice() {
        [v] => (None, None, *v),
        [p, v] => (None, Some(*p), *v),
        [s, p, v] => (Some(*s), Some(*p), *v),
        _ => return Err(FilterError(format!("invalid version {s:?}"))),
    };
    Ok(product(
        prod.map(n).transpose()?,
        Some(n(ver)?),
        svc.map(n).transpose()?,
        port,
    ))
}

pub fn svchostname(m: Match) -> ScanFilter {
    port_cond(PortCond {
        hostname: Some(m),
        ..Default::default()
    })
}

pub fn devicetype(m: Match) -> ScanFilter {
    port_cond(PortCond {
        devicetype: Some(m),
        ..Default::default()
    })
}

pub fn netdev() -> ScanFilter {
    devicetype(Match::AnyOf(
        [
            "bridge",
            "broadband router",
            "firewall",
            "hub",
            "load balancer",
            "proxy server",
            "router",
            "switch",
            "WAP",
        ]
        .map(String::from)
        .to_vec(),
    ))
}

pub fn phonedev() -> ScanFilter {
    devicetype(Match::AnyOf(
        ["PBX", "phone", "telecom-misc", "VoIP adapter", "VoIP phone"]
            .map(String::from)
            .to_vec(),
    ))
}

pub fn webcam() -> ScanFilter {
    devicetype(ex("webcam"))
}

// ----- hostnames, traceroute, OS, CPE ----------------------------------------

pub fn hostname(name: Option<Match>) -> ScanFilter {
    leaf(ScanLeaf::Hostname {
        name: name.map(Match::lowercase),
        domain: None,
    })
}

pub fn domain(m: Match) -> ScanFilter {
    leaf(ScanLeaf::Hostname {
        name: None,
        domain: Some(m.lowercase()),
    })
}

pub fn hop(addr: IpAddr, ttl: Option<i64>) -> ScanFilter {
    leaf(ScanLeaf::Hop {
        addr: Some(addr),
        ttl,
        name: None,
        domain: None,
    })
}

pub fn hopname(m: Match) -> ScanFilter {
    leaf(ScanLeaf::Hop {
        addr: None,
        ttl: None,
        name: Some(m),
        domain: None,
    })
}

pub fn hopdomain(m: Match) -> ScanFilter {
    leaf(ScanLeaf::Hop {
        addr: None,
        ttl: None,
        name: None,
        domain: Some(m),
    })
}

pub fn os(m: Match) -> ScanFilter {
    leaf(ScanLeaf::Os(m))
}

pub fn cpe(c: CpeCond) -> ScanFilter {
    leaf(ScanLeaf::Cpe(c))
}

/// `cpe:TYPE:VENDOR:PRODUCT:VERSION` (any prefix, `cpe:/` accepted, each part str2regexp).
pub fn cpe_arg(s: &str) -> Result<ScanFilter, FilterError> {
    let s = s
        .strip_prefix("cpe:/")
        .or_else(|| s.strip_prefix("cpe:2.3:"))
        .or_else(|| s.strip_prefix("cpe:"))
        .unwrap_or(s);
    let parts = split_colons(s);
    let get = |i: usize| -> Result<Option<Match>, FilterError> {
        parts
            .get(i)
            .filter(|p| !p.is_empty() && **p != "*")
            .map(|p| str2regexp(p))
            .transpose()
    };
    Ok(cpe(CpeCond {
        cpe_type: get(0)?,
        vendor: get(1)?,
        product: get(2)?,
        version: get(3)?,
    }))
}

// ----- scripts ----------------------------------------------------------------

pub fn script_cond(c: ScriptCond) -> ScanFilter {
    leaf(ScanLeaf::Script(c))
}

/// IVRE's `searchscript(name, output)`.
pub fn script(name: Option<Match>, output: Option<Match>) -> ScanFilter {
    script_cond(ScriptCond {
        name,
        output,
        ..Default::default()
    })
}

/// `--script ID[:OUTPUT]`, both parts str2regexp.
pub fn script_arg(s: &str) -> Result<ScanFilter, FilterError> {
    let parts = split_colons(s);
    let (name, out) = match parts.len() {
        1 => (parts[0], None),
        _ => (parts[0], Some(s[parts[0].len() + 1..].to_string())),
    };
    Ok(script(
        Some(str2regexp(name)?),
        out.map(|o| str2regexp(&o)).transpose()?,
    ))
}

fn data_script(
    name: &str,
    port: ScriptPort,
    path: &str,
    conds: Vec<(Vec<String>, ValueCond)>,
) -> ScanFilter {
    script_cond(ScriptCond {
        name: Some(ex(name)),
        output: None,
        port,
        data: Some(DataCond {
            path: keys(path),
            conds,
        }),
    })
}

/// `--cert HASH` (md5, sha1 or sha256 chosen by length; `:` and spaces dropped)
/// and the other `searchcert` fields.
#[derive(Debug, Clone, Default)]
pub struct CertQuery {
    pub keytype: Option<Match>,
    pub md5: Option<Match>,
    pub sha1: Option<Match>,
    pub sha256: Option<Match>,
    pub subject: Option<Match>,
    pub issuer: Option<Match>,
    pub self_signed: Option<bool>,
    pub pkmd5: Option<Match>,
    pub pksha1: Option<Match>,
    pub pksha256: Option<Match>,
    pub cacert: bool,
}

pub fn cert(q: CertQuery) -> ScanFilter {
    let mut conds = Vec::new();
    let mut add = |p: &[&str], m: Option<Match>| {
        if let Some(m) = m {
            conds.push((path(p), ValueCond::Str(m)));
        }
    };
    add(&["pubkey", "type"], q.keytype);
    add(&["md5"], q.md5.map(Match::lowercase));
    add(&["sha1"], q.sha1.map(Match::lowercase));
    add(&["sha256"], q.sha256.map(Match::lowercase));
    add(&["subject_text"], q.subject);
    add(&["issuer_text"], q.issuer);
    add(&["pubkey", "md5"], q.pkmd5.map(Match::lowercase));
    add(&["pubkey", "sha1"], q.pksha1.map(Match::lowercase));
    add(&["pubkey", "sha256"], q.pksha256.map(Match::lowercase));
    if let Some(b) = q.self_signed {
        conds.push((path(&["self_signed"]), ValueCond::Bool(b)));
    }
    data_script(
        if q.cacert { "ssl-cacert" } else { "ssl-cert" },
        ScriptPort::Any,
        "ssl-cert[]",
        conds,
    )
}

impl CertQuery {
    /// A certificate hash, the kind chosen by its length (MD5, SHA-1 or
    /// SHA-256; `:` and spaces dropped, case ignored).
    pub fn for_hash(h: &str, cacert: bool) -> Result<CertQuery, FilterError> {
        let h: String = h
            .chars()
            .filter(|c| *c != ':' && !c.is_whitespace())
            .collect::<String>()
            .to_lowercase();
        let m = Some(Match::Exact(h.clone()));
        let mut q = CertQuery {
            cacert,
            ..Default::default()
        };
        match h.len() {
            32 => q.md5 = m,
            40 => q.sha1 = m,
            64 => q.sha256 = m,
            _ => {
                return Err(FilterError(format!(
                    "invalid certificate hash {h:?}: expected an MD5, SHA-1 or SHA-256 (32, 40 or 64 hex digits)"
                )))
            }
        }
        Ok(q)
    }
}

/// A certificate hash, the kind chosen by its length.
pub fn cert_hash(h: &str, cacert: bool) -> Result<ScanFilter, FilterError> {
    Ok(cert(CertQuery::for_hash(h, cacert)?))
}

/// Certificates issued by what TOR uses (`www.<random>.net|com` subjects and issuers).
pub fn torcert() -> ScanFilter {
    cert(CertQuery {
        subject: Some(re("^commonName=www\\.[a-z2-7]{8,20}\\.net$")),
        issuer: Some(re("^commonName=www\\.[a-z2-7]{8,20}\\.(com|net)$")),
        ..Default::default()
    })
}

pub fn sshkey(
    fingerprint: Option<Match>,
    key: Option<Match>,
    keytype: Option<Match>,
    bits: Option<i64>,
) -> ScanFilter {
    let mut conds = Vec::new();
    if let Some(f) = fingerprint {
        let f = match f {
            Match::Exact(s) => Match::Exact(s.replace(':', "").to_lowercase()),
            m => m,
        };
        conds.push((path(&["fingerprint"]), ValueCond::Str(f)));
    }
    if let Some(k) = key {
        conds.push((path(&["key"]), ValueCond::Str(k)));
    }
    if let Some(t) = keytype {
        let t = match t {
            Match::Exact(s) if !s.starts_with("ssh-") && !s.starts_with("ecdsa") => {
                Match::Exact(format!("ssh-{s}"))
            }
            m => m,
        };
        conds.push((path(&["type"]), ValueCond::Str(t)));
    }
    if let Some(b) = bits {
        conds.push((path(&["bits"]), ValueCond::Int(b)));
    }
    data_script("ssh-hostkey", ScriptPort::Any, "ssh-hostkey[]", conds)
}

/// `searchhassh(value, server)`: a raw HASSH string (MD5-hashed when it is
/// not a hash), an MD5/SHA-1/SHA-256 hash, or a regex on the raw value.
/// `server`: Some(true) = a real port, Some(false) = a host script (client).
pub fn hassh(value: Option<Match>, server: Option<bool>) -> ScanFilter {
    let port = match server {
        None => ScriptPort::Any,
        Some(true) => ScriptPort::Service,
        Some(false) => ScriptPort::Host,
    };
    let cond = match value {
        None => (path(&[]), ValueCond::Exists),
        Some(Match::Exact(v)) => {
            let lower = v.to_lowercase();
            let is_hex = !lower.is_empty() && lower.bytes().all(|b| b.is_ascii_hexdigit());
            match (is_hex, lower.len()) {
                (true, 32) => (path(&["md5"]), ValueCond::Str(Match::Exact(lower))),
                (true, 40) => (path(&["sha1"]), ValueCond::Str(Match::Exact(lower))),
                (true, 64) => (path(&["sha256"]), ValueCond::Str(Match::Exact(lower))),
                _ => (path(&["raw"]), ValueCond::Str(Match::Exact(v))),
            }
        }
        Some(m) => (path(&["raw"]), ValueCond::Str(m)),
    };
    data_script("ssh2-enum-algos", port, "ssh2-enum-algos.hassh", vec![cond])
}

/// `--httphdr [NAME[:VALUE]]` (the name is lower-cased).
pub fn httphdr(name: Option<Match>, value: Option<Match>) -> ScanFilter {
    let mut conds = Vec::new();
    if let Some(n) = name {
        conds.push((path(&["name"]), ValueCond::Str(n.lowercase())));
    }
    if let Some(v) = value {
        conds.push((path(&["value"]), ValueCond::Str(v)));
    }
    if conds.is_empty() {
        return script(Some(ex("http-headers")), None);
    }
    data_script("http-headers", ScriptPort::Any, "http-headers[]", conds)
}

pub fn httphdr_arg(s: Option<&str>) -> Result<ScanFilter, FilterError> {
    let Some(s) = s.filter(|s| !s.is_empty()) else {
        return Ok(httphdr(None, None));
    };
    let parts = split_colons(s);
    let name = str2regexp(parts[0])?;
    let value = if parts.len() > 1 {
        Some(str2regexp(&s[parts[0].len() + 1..])?)
    } else {
        None
    };
    Ok(httphdr(Some(name), value))
}

pub fn httpapp(name: Option<Match>, version: Option<Match>) -> ScanFilter {
    let mut conds = Vec::new();
    if let Some(n) = name {
        conds.push((path(&["application"]), ValueCond::Str(n)));
    }
    if let Some(v) = version {
        conds.push((path(&["version"]), ValueCond::Str(v)));
    }
    if conds.is_empty() {
        return script(Some(ex("http-app")), None);
    }
    data_script("http-app", ScriptPort::Any, "http-app[]", conds)
}

pub fn httptitle(m: Match) -> ScanFilter {
    script(
        Some(Match::AnyOf(vec!["http-title".into(), "html-title".into()])),
        Some(m),
    )
}

pub fn cookie(name: &str) -> ScanFilter {
    script(
        Some(ex("http-headers")),
        Some(Match::Regex(Regex {
            pattern: format!("^ *Set-Cookie: {}=", regex_escape(name)),
            flags: "mi".into(),
        })),
    )
}

/// Escapes a literal for a regex.
pub fn regex_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii_alphanumeric() || c == '_' || !c.is_ascii() {
            out.push(c);
        } else {
            out.push('\\');
            out.push(c);
        }
    }
    out
}

/// ls-style file listings (ftp-anon, http-ls, nfs-ls, smb-ls, afp-ls).
pub fn file(name: Option<Match>, scripts: Option<Vec<String>>) -> ScanFilter {
    let conds = match name {
        Some(m) => vec![(path(&["filename"]), ValueCond::Str(m))],
        None => vec![(path(&["filename"]), ValueCond::Exists)],
    };
    script_cond(ScriptCond {
        name: scripts.map(Match::AnyOf),
        output: None,
        port: ScriptPort::Any,
        data: Some(DataCond {
            path: keys("ls.volumes[].files[]"),
            conds,
        }),
    })
}

/// `--file [SCRIPTS:]NAME`.
pub fn file_arg(s: &str) -> Result<ScanFilter, FilterError> {
    let parts = split_colons(s);
    Ok(match parts.as_slice() {
        [n] => file(Some(str2regexp(n)?), None),
        [sc, n] => file(
            Some(str2regexp(n)?),
            Some(sc.split(',').map(str::to_string).collect()),
        ),
        _ => return Err(FilterError(format!("invalid file filter {s:?}"))),
    })
}

/// Files typical of a web application in listings (readable or writable web
/// files often lead to code execution).
pub fn webfiles() -> ScanFilter {
    file(
        Some(rei(
            "vhost|www|web\\.config|\\.htaccess|\\.([aj]sp|php|html?|js|css)",
        )),
        None,
    )
}

pub fn vuln(id: Option<Match>, state: Option<Match>) -> ScanFilter {
    let mut conds = Vec::new();
    if let Some(i) = id {
        conds.push((path(&["id"]), ValueCond::Str(i)));
    }
    if let Some(s) = state {
        conds.push((path(&["state"]), ValueCond::Str(s)));
    }
    if conds.is_empty() {
        conds.push((path(&["id"]), ValueCond::Exists));
    }
    script_cond(ScriptCond {
        data: Some(DataCond {
            path: keys("vulns[]"),
            conds,
        }),
        ..Default::default()
    })
}

/// Generic structured-output search: `KEY.sub.path` = value, under the
/// script's alias key (`searchscript(values=...)`).
pub fn script_values(
    name: Option<Match>,
    key: &str,
    subpath: &[&str],
    value: ValueCond,
) -> ScanFilter {
    script_cond(ScriptCond {
        name,
        output: None,
        port: ScriptPort::Any,
        data: Some(DataCond {
            path: vec![Seg::Key(key.to_string()), Seg::Each],
            conds: vec![(path(subpath), value)],
        }),
    })
}

// ----- the named shortcuts ------------------------------------------------

pub fn anonftp() -> ScanFilter {
    script(
        Some(ex("ftp-anon")),
        Some(re("^Anonymous FTP login allowed")),
    )
}

pub fn anonldap() -> ScanFilter {
    port_cond(PortCond {
        extrainfo: Some(ex("Anonymous bind OK")),
        ..Default::default()
    })
}

/// HTTP default credentials found (http-default-accounts).
pub fn authhttp() -> ScanFilter {
    script(
        Some(ex("http-default-accounts")),
        Some(re("credentials found")),
    )
}

pub fn authbypassvnc() -> ScanFilter {
    script(Some(ex("realvnc-auth-bypass")), None)
}

/// NIS servers (ypserv in the RPC listing).
pub fn nis() -> ScanFilter {
    script(Some(ex("rpcinfo")), Some(re("ypserv")))
}

/// NFS servers (nfs in the RPC listing).
pub fn nfs() -> ScanFilter {
    script(Some(ex("rpcinfo")), Some(re("nfs")))
}

/// X11 servers that do not deny access.
pub fn x11() -> ScanFilter {
    port_cond(PortCond {
        service: Some(ex("X11")),
        extrainfo: Some(Match::NotExact("access denied".into())),
        ..Default::default()
    })
}

/// X11 servers granting access (x11-access).
pub fn x11access() -> ScanFilter {
    script(
        Some(ex("x11-access")),
        Some(ex("X server access is granted")),
    )
}

/// Windows XP hosts with 445/tcp open.
pub fn xp445() -> ScanFilter {
    port_state("tcp", 445, Some("open")).and(script(
        Some(ex("smb-os-discovery")),
        Some(re("Windows 5\\.1")),
    ))
}

/// Outlook Web Access: OWA paths or headers in HTTP scripts, or its title.
pub fn owa() -> ScanFilter {
    script(
        Some(Match::AnyOf(
            [
                "http-headers",
                "http-auth-finder",
                "http-title",
                "html-title",
            ]
            .map(String::from)
            .to_vec(),
        )),
        Some(rei("[ /](owa|exchweb)|X-OWA-Version|Outlook Web A")),
    )
}

/// phpMyAdmin (its cookie).
pub fn phpmyadmin() -> ScanFilter {
    cookie("phpMyAdmin")
}

/// Webmin's MiniServ on an http port that Nmap did not label "Webmin httpd".
pub fn webmin() -> ScanFilter {
    port_cond(PortCond {
        service: Some(ex("http")),
        product: Some(ex("MiniServ")),
        extrainfo: Some(Match::NotExact("Webmin httpd".into())),
        ..Default::default()
    })
}

pub fn vsftpdbackdoor() -> ScanFilter {
    product(Some(ex("vsftpd")), Some(ex("2.3.4")), None, None).or(script(
        Some(ex("ftp-vsftpd-backdoor")),
        Some(re("VULNERABLE")),
    ))
}

/// Boa web server 0.93 to 0.94.11 (Intersil).
pub fn vuln_boa() -> ScanFilter {
    product(
        Some(ex("Boa HTTPd")),
        Some(re("^0\\.9(3([^0-9]|$)|4\\.([0-9]|1[01])$)")),
        None,
        None,
    )
}

pub fn geovision() -> ScanFilter {
    product(Some(re("^GeoVision")), None, None, None)
}

pub fn mssqlemptypwd() -> ScanFilter {
    script(Some(ex("ms-sql-empty-password")), Some(re("Login Success")))
}

pub fn mysqlemptypwd() -> ScanFilter {
    script(
        Some(ex("mysql-empty-password")),
        Some(re("account has empty password")),
    )
}

/// A banner (Masscan or Nmap `banner` script) matching.
pub fn banner(m: Match) -> ScanFilter {
    script(Some(ex("banner")), Some(m))
}

pub fn jarm(m: Option<Match>) -> ScanFilter {
    script(Some(ex("ssl-jarm")), m)
}

pub fn useragent(m: Option<Match>) -> ScanFilter {
    script(Some(ex("http-user-agent")), m)
}

pub fn smb(key: &str, value: Match) -> ScanFilter {
    data_script(
        "smb-os-discovery",
        ScriptPort::Any,
        "smb-os-discovery",
        vec![(path(&[key]), ValueCond::Str(value))],
    )
}

pub fn ntlm(key: &str, value: Match) -> ScanFilter {
    data_script(
        "ntlm-info",
        ScriptPort::Any,
        "ntlm-info",
        vec![(path(&[key]), ValueCond::Str(value))],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_parse() {
        assert_eq!(parse_port("80").unwrap(), ("tcp".into(), 80));
        assert_eq!(parse_port("udp/53").unwrap(), ("udp".into(), 53));
        assert_eq!(parse_port("udp_53").unwrap(), ("udp".into(), 53));
        assert!(parse_port("x").is_err());
        assert!(parse_port("70000").is_err());
    }

    #[test]
    fn product_syntax() {
        let f = product_arg("http:Apache httpd:80").unwrap();
        let Filter::Leaf(ScanLeaf::Port(c)) = f else {
            panic!()
        };
        assert_eq!(c.service, Some(ex("http")));
        assert_eq!(c.product, Some(ex("Apache httpd")));
        assert_eq!(c.port, Some(80));
        let f = product_arg("/^apa/i").unwrap();
        let Filter::Leaf(ScanLeaf::Port(c)) = f else {
            panic!()
        };
        assert_eq!(c.product, Some(rei("^apa")));
        assert_eq!(c.service, None);
    }

    #[test]
    fn script_syntax() {
        let f = script_arg("http-robots.txt:/cgi-bin/").unwrap();
        let Filter::Leaf(ScanLeaf::Script(c)) = f else {
            panic!()
        };
        assert_eq!(c.name, Some(ex("http-robots.txt")));
        assert_eq!(c.output, Some(re("cgi-bin")));
    }

    #[test]
    fn addresses() {
        assert!(matches!(
            address_arg("10.0.0.1-10.0.0.9").unwrap(),
            Filter::Leaf(ScanLeaf::Range(..))
        ));
        assert!(matches!(
            address_arg("10.0.0.0/8").unwrap(),
            Filter::Leaf(ScanLeaf::Net(_, 8))
        ));
        assert!(matches!(
            address_arg("::1").unwrap(),
            Filter::Leaf(ScanLeaf::Host(_))
        ));
        assert!(address_arg("10.0.0.0/33").is_err());
    }
}
