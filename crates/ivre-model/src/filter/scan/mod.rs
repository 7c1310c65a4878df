//! Leaves of the scan ("nmap" purpose) filters and the builders of single
//! conditions. The `*_arg` parsers of IVRE's flag syntax live in [`args`],
//! IVRE's named searches (`searchcert`, `searchhassh`, `searchowa`, ...) in
//! [`named`].
//!
//! A leaf holds on one record. Leaves that look inside a list of the record
//! (ports, scripts, hostnames, hops, CPEs, tags) hold when *one element*
//! satisfies *every* condition of the leaf: `PortCond { port: 80, service:
//! http }` wants port 80 to be the http one, as IVRE's helpers do
//! (`$elemMatch`). Two leaves joined with AND may match different elements.

pub mod args;
pub mod named;

use super::addr::{parse_port, AddrCond, PortSpec};
use super::service::ServiceQuery;
use super::value::{ex, path, Match, ValueCond};
use super::{Filter, FilterError};
use chrono::{DateTime, Utc};
use std::net::IpAddr;

/// A filter on scan host records.
pub type ScanFilter = Filter<ScanLeaf>;

#[derive(Debug, Clone, PartialEq)]
#[allow(clippy::large_enum_variant)] // leaves are few and short-lived
pub enum ScanLeaf {
    /// A condition on the record's address.
    Addr(AddrCond),
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
    addr_cond(AddrCond::Host(addr))
}

/// `a.b.c.d/n` (or a bare address, for a host).
pub fn net(cidr: &str) -> Result<ScanFilter, FilterError> {
    Ok(addr_cond(AddrCond::net(cidr)?))
}

pub fn range(start: IpAddr, stop: IpAddr) -> ScanFilter {
    addr_cond(AddrCond::Range(start, stop))
}

pub fn addr_cond(c: AddrCond) -> ScanFilter {
    leaf(ScanLeaf::Addr(c))
}

pub fn ipv4() -> ScanFilter {
    addr_cond(AddrCond::Ipv4)
}

pub fn ipv6() -> ScanFilter {
    addr_cond(AddrCond::Ipv6)
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
pub fn service(name: Match, port: Option<PortSpec>) -> ScanFilter {
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
    port: Option<PortSpec>,
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

/// A [`ServiceQuery`]: its conditions on the same port.
pub fn service_query(q: ServiceQuery) -> ScanFilter {
    product(q.product, q.version, q.service, q.port)
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
