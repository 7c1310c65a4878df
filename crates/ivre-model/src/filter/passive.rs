//! Leaves of the passive filters, and the helpers that build IVRE's named
//! passive filters (`searchdns`, `searchcert`, `searchja3server`, ...) out of
//! them (spec 3.1).
//!
//! A passive record is flat (addr, sensor, recontype, source, port, value,
//! targetval, first/last seen) plus an `infos` JSON object, so the leaves are
//! conditions on one column or one `infos` path; named filters are ANDs of
//! them (`searchuseragent` = recontype `HTTP_CLIENT_HEADER` ∧ source
//! `USER-AGENT` ∧ value). Negations apply to whole records.
//!
//! "value or hash" (JA3, HASSH): an exact 32/40/64 hex string is an MD5 (the
//! stored value) / SHA-1 / SHA-256 (`infos.sha1` / `infos.sha256`); any other
//! exact string is the raw form, whose MD5 is compared to the value; a
//! regular expression applies to the raw form (`infos.raw`).

use super::addr::{parse_port, AddrCond, PortSpec};
use super::cert::CertQuery;
use super::search::CommonSearch;
use super::service::ServiceQuery;
use super::value::{ex, path, re, regex_escape, rei, Match, Regex, ValueCond};
use super::{Filter, FilterError};
use crate::crypto::md5_hex;
use chrono::{DateTime, Utc};
use std::net::IpAddr;

/// A filter on passive records.
pub type PassiveFilter = Filter<PassiveLeaf>;

/// One condition on a passive record.
#[derive(Debug, Clone, PartialEq)]
pub enum PassiveLeaf {
    /// A condition on the record's address.
    Addr(AddrCond),
    /// Record ids.
    Id(Vec<i64>),
    SchemaVersion(i64),
    Sensor(Match),
    Recontype(Match),
    Source(Match),
    Port(i32),
    Value(Match),
    Targetval(Match),
    /// A condition on the value at a path of `infos` (`["service_name"]`,
    /// `["client", "sha1"]`, ...).
    Infos(Vec<String>, ValueCond),
    /// Some element of an `infos` list matches.
    InfosList(InfosList, Match),
    /// Seen less than this many seconds ago: `lastseen`, or `firstseen`
    /// when `new`.
    TimeAgo {
        seconds: f64,
        new: bool,
    },
    /// Seen strictly after this time (`lastseen`, or `firstseen` when `new`).
    Newer {
        time: DateTime<Utc>,
        new: bool,
    },
}

/// The `infos` lists a filter can look into (each has its own GIN index).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InfosList {
    /// `infos.domain`: every suffix of a DNS name.
    Domain,
    /// `infos.domaintarget`: every suffix of a DNS target name.
    DomainTarget,
}

fn leaf(l: PassiveLeaf) -> PassiveFilter {
    Filter::Leaf(l)
}

/// A condition on `infos.<path>` (a string match; `Match::Absent`: missing).
pub fn infos(keys: &[&str], m: Match) -> PassiveFilter {
    if m == Match::Absent {
        return leaf(PassiveLeaf::Infos(path(keys), ValueCond::Exists)).not();
    }
    leaf(PassiveLeaf::Infos(path(keys), ValueCond::Str(m)))
}

fn infos_cond(keys: &[&str], c: ValueCond) -> PassiveFilter {
    leaf(PassiveLeaf::Infos(path(keys), c))
}

// ----- addresses and columns ------------------------------------------------

pub fn host(addr: IpAddr) -> PassiveFilter {
    addr_cond(AddrCond::Host(addr))
}

/// Any of these addresses.
pub fn hosts(addrs: &[IpAddr]) -> PassiveFilter {
    Filter::any(addrs.iter().map(|a| host(*a)))
}

/// `a.b.c.d/n` (a bare address is a host).
pub fn net(cidr: &str) -> Result<PassiveFilter, FilterError> {
    Ok(addr_cond(AddrCond::net(cidr)?))
}

pub fn range(start: IpAddr, stop: IpAddr) -> PassiveFilter {
    addr_cond(AddrCond::Range(start, stop))
}

/// A positional address argument: `IP`, `A-B`, `CIDR` or an integer.
pub fn address_arg(s: &str) -> Result<PassiveFilter, FilterError> {
    Ok(addr_cond(AddrCond::parse_arg(s)?))
}

pub fn addr_cond(c: AddrCond) -> PassiveFilter {
    leaf(PassiveLeaf::Addr(c))
}

pub fn ipv4() -> PassiveFilter {
    addr_cond(AddrCond::Ipv4)
}

pub fn ipv6() -> PassiveFilter {
    addr_cond(AddrCond::Ipv6)
}

pub fn id(ids: Vec<i64>) -> PassiveFilter {
    leaf(PassiveLeaf::Id(ids))
}

pub fn schema_version(v: i64) -> PassiveFilter {
    leaf(PassiveLeaf::SchemaVersion(v))
}

/// `searchsensor` (also `searchcategory`).
pub fn sensor(m: Match) -> PassiveFilter {
    leaf(PassiveLeaf::Sensor(m))
}

/// `searchrecontype(rectype, source)`: both conditions hold.
pub fn recontype(rectype: Option<Match>, source: Option<Match>) -> PassiveFilter {
    let mut f = Filter::True;
    if let Some(m) = rectype {
        f = f.and(leaf(PassiveLeaf::Recontype(m)));
    }
    if let Some(m) = source {
        f = f.and(leaf(PassiveLeaf::Source(m)));
    }
    f
}

pub fn source(m: Match) -> PassiveFilter {
    leaf(PassiveLeaf::Source(m))
}

/// `searchport`: the (server) port.
pub fn port(p: i32) -> PassiveFilter {
    leaf(PassiveLeaf::Port(p))
}

/// `[tcp/]PORT` (passive ports are TCP server ports; other protocols are refused).
pub fn port_arg(s: &str) -> Result<PassiveFilter, FilterError> {
    let (proto, p) = parse_port(s)?;
    if proto != "tcp" || p < 0 {
        return Err(FilterError(format!(
            "invalid port {s:?}: passive records only have TCP server ports"
        )));
    }
    Ok(port(p))
}

pub fn value(m: Match) -> PassiveFilter {
    leaf(PassiveLeaf::Value(m))
}

pub fn targetval(m: Match) -> PassiveFilter {
    leaf(PassiveLeaf::Targetval(m))
}

fn rt(r: &str) -> PassiveFilter {
    leaf(PassiveLeaf::Recontype(ex(r)))
}

fn rt_src(r: &str, s: &str) -> PassiveFilter {
    rt(r).and(source(ex(s)))
}

// ----- services (infos.service_*) --------------------------------------------

/// `searchservice(name, port)`; `Match::Absent`: no service name.
pub fn service(name: Match, port_: Option<i32>) -> PassiveFilter {
    let f = infos(&["service_name"], name);
    match port_ {
        Some(p) => f.and(port(p)),
        None => f,
    }
}

/// `searchproduct(product, version, service, port)`.
pub fn product(
    product: Option<Match>,
    version: Option<Match>,
    service: Option<Match>,
    port_: Option<i32>,
) -> PassiveFilter {
    let mut f = Filter::True;
    for (k, m) in [
        ("service_name", service),
        ("service_product", product),
        ("service_version", version),
    ] {
        if let Some(m) = m {
            f = f.and(infos(&[k], m));
        }
    }
    if let Some(p) = port_ {
        f = f.and(port(p));
    }
    f
}

pub fn svchostname(m: Match) -> PassiveFilter {
    infos(&["service_hostname"], m)
}

fn tcp_port(p: Option<PortSpec>) -> Result<Option<i32>, FilterError> {
    match p {
        None => Ok(None),
        Some((proto, n)) if proto == "tcp" => Ok(Some(n)),
        Some((proto, n)) => Err(FilterError(format!(
            "invalid port {proto}/{n}: passive records only have TCP server ports"
        ))),
    }
}

/// A [`ServiceQuery`]: its conditions on the same record (TCP ports only).
pub fn service_query(q: ServiceQuery) -> Result<PassiveFilter, FilterError> {
    Ok(product(q.product, q.version, q.service, tcp_port(q.port)?))
}

/// `--service SVC[:PORT]`.
pub fn service_arg(s: &str) -> Result<PassiveFilter, FilterError> {
    service_query(ServiceQuery::service_arg(s)?)
}

/// `--product [SVC:]PROD[:PORT]`.
pub fn product_arg(s: &str) -> Result<PassiveFilter, FilterError> {
    service_query(ServiceQuery::product_arg(s)?)
}

/// `--prodversion VERSION | PROD:VERSION | SVC:PROD:VERSION[:PORT]`.
pub fn version_arg(s: &str) -> Result<PassiveFilter, FilterError> {
    service_query(ServiceQuery::version_arg(s)?)
}

// ----- DNS ---------------------------------------------------------------------

/// `searchdns(name, reverse, dnstype, subdomains, neg)`: a `DNS_ANSWER`
/// whose name (`value`; the target with `reverse`) matches, or with
/// `subdomains` one of whose name suffixes (`infos.domain`, or
/// `infos.domaintarget`) matches; `dnstype` is the record type (source
/// prefix `TYPE-`). `neg` negates the name condition only.
pub fn dns(
    name: Option<Match>,
    reverse: bool,
    dnstype: Option<&str>,
    subdomains: bool,
    neg: bool,
) -> PassiveFilter {
    let mut f = rt("DNS_ANSWER");
    if let Some(t) = dnstype {
        f = f.and(source(Match::Regex(Regex {
            pattern: format!("^{}-", regex_escape(&t.to_uppercase())),
            flags: String::new(),
        })));
    }
    if let Some(m) = name {
        let m = m.lowercase();
        let cond = match (subdomains, reverse) {
            (false, false) => value(m),
            (false, true) => targetval(m),
            (true, false) => leaf(PassiveLeaf::InfosList(InfosList::Domain, m)),
            (true, true) => leaf(PassiveLeaf::InfosList(InfosList::DomainTarget, m)),
        };
        f = f.and(cond.neg_if(neg));
    }
    f
}

/// `searchhostname`: a DNS answer for exactly this name.
pub fn hostname(m: Match) -> PassiveFilter {
    dns(Some(m), false, None, false, false)
}

/// `searchdomain`: a DNS answer for a name in this domain.
pub fn domain(m: Match) -> PassiveFilter {
    dns(Some(m), false, None, true, false)
}

// ----- MAC, HTTP, auth ---------------------------------------------------------

/// `searchmac(mac)`: `MAC_ADDRESS` records (MACs are stored lower case).
pub fn mac(m: Option<Match>) -> PassiveFilter {
    let f = rt("MAC_ADDRESS");
    match m {
        Some(m) => f.and(value(m.lowercase())),
        None => f,
    }
}

/// `searchuseragent(ua)`.
pub fn useragent(m: Option<Match>) -> PassiveFilter {
    let f = rt_src("HTTP_CLIENT_HEADER", "USER-AGENT");
    match m {
        Some(m) => f.and(value(m)),
        None => f,
    }
}

/// `searchjavaua()`.
pub fn javaua() -> PassiveFilter {
    useragent(Some(re("(^| )(Java|javaws)/")))
}

fn auth_headers() -> PassiveFilter {
    leaf(PassiveLeaf::Recontype(Match::AnyOf(vec![
        "HTTP_CLIENT_HEADER".into(),
        "HTTP_CLIENT_HEADER_SERVER".into(),
    ])))
    .and(source(Match::AnyOf(vec![
        "AUTHORIZATION".into(),
        "PROXY-AUTHORIZATION".into(),
    ])))
}

/// `searchbasicauth()`: HTTP Basic credentials.
pub fn basicauth() -> PassiveFilter {
    auth_headers().and(value(rei("^basic")))
}

/// `searchhttpauth()`: HTTP authorization headers.
pub fn httpauth() -> PassiveFilter {
    auth_headers()
}

/// `searchftpauth()`.
pub fn ftpauth() -> PassiveFilter {
    leaf(PassiveLeaf::Recontype(Match::AnyOf(vec![
        "FTP_CLIENT".into(),
        "FTP_SERVER".into(),
    ])))
}

/// `searchpopauth()`.
pub fn popauth() -> PassiveFilter {
    leaf(PassiveLeaf::Recontype(Match::AnyOf(vec![
        "POP_CLIENT".into(),
        "POP_SERVER".into(),
    ])))
}

// ----- certificates, JA3/JA4, HASSH, SSH keys ------------------------------------

/// `searchcert(...)`: `SSL_SERVER` `cert` (or `cacert`) records with these
/// certificate infos.
pub fn cert(q: CertQuery) -> PassiveFilter {
    let f = rt_src("SSL_SERVER", if q.cacert { "cacert" } else { "cert" });
    Filter::all(
        std::iter::once(f).chain(q.conditions().into_iter().map(|(keys, c)| match c {
            ValueCond::Str(m) => infos(keys, m),
            c => infos_cond(keys, c),
        })),
    )
}

/// A certificate hash (MD5, SHA-1 or SHA-256 by length; `:` and spaces dropped).
pub fn cert_hash(h: &str, cacert: bool) -> Result<PassiveFilter, FilterError> {
    let digits: String = h
        .chars()
        .filter(|c| *c != ':' && !c.is_whitespace())
        .collect();
    if !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(FilterError(format!(
            "invalid certificate hash {:?}",
            digits.to_lowercase()
        )));
    }
    Ok(cert(CertQuery::for_hash(h, cacert)?))
}

/// `searchtorcert()`: certificates like those TOR generates.
pub fn torcert() -> PassiveFilter {
    cert(CertQuery {
        subject: Some(re("^commonName=www\\.[a-z2-7]{8,20}\\.(net|com)$")),
        issuer: Some(re("^commonName=www\\.[a-z2-7]{8,20}\\.(net|com)$")),
        self_signed: Some(false),
        ..Default::default()
    })
}

/// IVRE's value-or-hash rule, on a record whose `value` is the MD5 of the
/// raw string kept in `infos.<base>.raw` (hashes in `infos.<base>.sha1|sha256`).
fn value_or_hash(m: Match, base: &[&'static str]) -> PassiveFilter {
    let at = |k: &'static str| -> Vec<&'static str> { base.iter().copied().chain([k]).collect() };
    match m {
        Match::Exact(v) => {
            let lower = v.to_lowercase();
            let hexa = !lower.is_empty() && lower.bytes().all(|b| b.is_ascii_hexdigit());
            match (hexa, lower.len(), base.is_empty()) {
                (true, 32, true) => value(Match::Exact(lower)),
                (true, 32, false) => infos(&at("md5"), Match::Exact(lower)),
                (true, 40, _) => infos(&at("sha1"), Match::Exact(lower)),
                (true, 64, _) => infos(&at("sha256"), Match::Exact(lower)),
                (_, _, true) => value(Match::Exact(md5_hex(v.as_bytes()))),
                (_, _, false) => infos(&at("raw"), Match::Exact(v)),
            }
        }
        Match::AnyOf(list) => Filter::any(
            list.into_iter()
                .map(|v| value_or_hash(Match::Exact(v), base)),
        ),
        m => infos(&at("raw"), m),
    }
}

/// `searchja3client(value_or_hash)`.
pub fn ja3client(m: Option<Match>) -> PassiveFilter {
    let f = rt_src("SSL_CLIENT", "ja3");
    match m {
        Some(m) => f.and(value_or_hash(m, &[])),
        None => f,
    }
}

/// `searchja3server(value_or_hash, client_value_or_hash)`: the server's JA3S,
/// and the client JA3 it answered (its MD5 is in the source `ja3-<md5>`).
pub fn ja3server(server: Option<Match>, client: Option<Match>) -> PassiveFilter {
    let mut f = rt("SSL_SERVER");
    f = match client {
        None => f.and(source(re("^ja3-"))),
        Some(Match::Exact(v)) => {
            let lower = v.to_lowercase();
            let hexa = !lower.is_empty() && lower.bytes().all(|b| b.is_ascii_hexdigit());
            match (hexa, lower.len()) {
                (true, 32) => f.and(source(Match::Exact(format!("ja3-{lower}")))),
                (true, 40 | 64) => f
                    .and(source(re("^ja3-")))
                    .and(value_or_hash(Match::Exact(lower), &["client"])),
                _ => f.and(source(Match::Exact(format!(
                    "ja3-{}",
                    md5_hex(v.as_bytes())
                )))),
            }
        }
        Some(m) => f
            .and(source(re("^ja3-")))
            .and(value_or_hash(m, &["client"])),
    };
    match server {
        Some(m) => f.and(value_or_hash(m, &[])),
        None => f,
    }
}

/// JA4 components a search can look at.
#[derive(Debug, Clone, Default)]
pub struct Ja4Query {
    /// The JA4 (`a_b_c`).
    pub value: Option<Match>,
    /// The components kept in `infos` (`ja4_a`, hashed `ja4_b` / `ja4_c`,
    /// raw lists `ja4_b_raw`, `ja4_c1_raw`, `ja4_c2_raw`).
    pub ja4_a: Option<Match>,
    pub ja4_b: Option<Match>,
    pub ja4_c: Option<Match>,
    pub ja4_b_raw: Option<Match>,
    pub ja4_c1_raw: Option<Match>,
    pub ja4_c2_raw: Option<Match>,
}

/// `searchja4client(...)`.
pub fn ja4client(q: Ja4Query) -> PassiveFilter {
    let mut f = rt_src("SSL_CLIENT", "ja4");
    if let Some(m) = q.value {
        f = f.and(value(m));
    }
    for (k, m) in [
        ("ja4_a", q.ja4_a),
        ("ja4_b", q.ja4_b),
        ("ja4_c", q.ja4_c),
        ("ja4_b_raw", q.ja4_b_raw),
        ("ja4_c1_raw", q.ja4_c1_raw),
        ("ja4_c2_raw", q.ja4_c2_raw),
    ] {
        if let Some(m) = m {
            f = f.and(infos(&[k], m));
        }
    }
    f
}

/// A JA4 client fingerprint given in raw form (`a_<hex,...>_<hex,...>[_<hex,...>]`),
/// hashed as at import time and compared with the stored JA4 (so it finds
/// records imported in raw and in hashed form alike).
pub fn ja4client_raw(raw: &str) -> Result<PassiveFilter, FilterError> {
    let mut rec =
        crate::passive::PassiveRecord::new("SSL_CLIENT", raw, DateTime::<Utc>::UNIX_EPOCH);
    rec.source = Some("ja4".into());
    let cfg = crate::passive::NormalizeConfig::default();
    let out = crate::passive::normalize(rec, &cfg);
    let hashed = out
        .into_iter()
        .next()
        .filter(|r| {
            r.infos
                .as_ref()
                .is_some_and(|i| i.contains_key("ja4_b_raw"))
        })
        .ok_or_else(|| {
            FilterError(format!(
                "invalid raw JA4 {raw:?} (a_<hex,...>_<hex,...>[_<hex,...>])"
            ))
        })?;
    Ok(ja4client(Ja4Query {
        value: Some(Match::Exact(hashed.value)),
        ..Default::default()
    }))
}

/// `searchhassh(value_or_hash, server)`: `Some(true)` servers only,
/// `Some(false)` clients only.
pub fn hassh(m: Option<Match>, server: Option<bool>) -> PassiveFilter {
    let f = match server {
        Some(true) => rt("SSH_SERVER_HASSH"),
        Some(false) => rt("SSH_CLIENT_HASSH"),
        None => leaf(PassiveLeaf::Recontype(Match::AnyOf(vec![
            "SSH_CLIENT_HASSH".into(),
            "SSH_SERVER_HASSH".into(),
        ]))),
    };
    match m {
        Some(m) => f.and(value_or_hash(m, &[])),
        None => f,
    }
}

/// `searchsshkey(fingerprint, key, keytype, bits)` on `SSH_SERVER_HOSTKEY`
/// `SSHv2` records: fingerprint = `infos.md5` (colons dropped), key = the
/// base64 blob (value), keytype = `infos.algo` (`rsa` means `ssh-rsa`).
pub fn sshkey(
    fingerprint: Option<Match>,
    key: Option<Match>,
    keytype: Option<Match>,
    bits: Option<i64>,
) -> PassiveFilter {
    let mut f = rt_src("SSH_SERVER_HOSTKEY", "SSHv2");
    if let Some(m) = fingerprint {
        let m = match m {
            Match::Exact(s) => Match::Exact(s.replace(':', "").to_lowercase()),
            m => m,
        };
        f = f.and(infos(&["md5"], m));
    }
    if let Some(m) = key {
        f = f.and(value(m));
    }
    if let Some(m) = keytype {
        let m = match m {
            Match::Exact(s) if !s.starts_with("ssh-") && !s.starts_with("ecdsa") => {
                Match::Exact(format!("ssh-{}", s.to_lowercase()))
            }
            m => m,
        };
        f = f.and(infos(&["algo"], m));
    }
    if let Some(b) = bits {
        f = f.and(infos_cond(&["bits"], ValueCond::Int(b)));
    }
    f
}

/// `searchtcpsrvbanner(banner)`.
pub fn tcpsrvbanner(m: Match) -> PassiveFilter {
    rt("TCP_SERVER_BANNER").and(value(m))
}

// ----- time --------------------------------------------------------------------

/// `searchtimeago(seconds, new)`: last seen (first seen when `new`) less
/// than `seconds` ago.
pub fn timeago(seconds: f64, new: bool) -> PassiveFilter {
    leaf(PassiveLeaf::TimeAgo { seconds, new })
}

/// `searchnewer(time, new)`: last seen (first seen when `new`) after `time`.
pub fn newer(time: DateTime<Utc>, new: bool) -> PassiveFilter {
    leaf(PassiveLeaf::Newer { time, new })
}

impl CommonSearch for PassiveLeaf {
    fn addr(c: AddrCond) -> PassiveLeaf {
        PassiveLeaf::Addr(c)
    }
    fn id(ids: Vec<i64>) -> PassiveFilter {
        id(ids)
    }
    fn schema_version(v: i64) -> PassiveFilter {
        schema_version(v)
    }
    /// IVRE's category of a passive record is its sensor.
    fn category(m: Match) -> PassiveFilter {
        sensor(m)
    }
    fn port(spec: &str) -> Result<PassiveFilter, FilterError> {
        port_arg(spec)
    }
    fn service(q: ServiceQuery) -> Result<PassiveFilter, FilterError> {
        service_query(q)
    }
    fn svchostname(m: Match) -> PassiveFilter {
        svchostname(m)
    }
    fn useragent(m: Option<Match>) -> PassiveFilter {
        useragent(m)
    }
    fn cert_hash(hash: &str, cacert: bool) -> Result<PassiveFilter, FilterError> {
        cert_hash(hash, cacert)
    }
    fn torcert() -> PassiveFilter {
        torcert()
    }
    fn sshkey(fingerprint: Match) -> PassiveFilter {
        sshkey(Some(fingerprint), None, None, None)
    }
    fn hassh(m: Option<Match>, server: Option<bool>) -> PassiveFilter {
        hassh(m, server)
    }
    /// A TCP server banner.
    fn banner(m: Match) -> PassiveFilter {
        tcpsrvbanner(m)
    }
    /// Last seen less than `seconds` ago.
    fn timeago(seconds: f64) -> PassiveFilter {
        timeago(seconds, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn leaves(f: &PassiveFilter) -> Vec<PassiveLeaf> {
        match f {
            Filter::Leaf(l) => vec![l.clone()],
            Filter::And(v) | Filter::Or(v) => v.iter().flat_map(leaves).collect(),
            Filter::Not(x) => leaves(x),
            _ => vec![],
        }
    }

    #[test]
    fn value_or_hash_rules() {
        let md5 = "5ef6678a6b060094834599ca16581b05";
        let l = leaves(&hassh(Some(ex(&md5.to_uppercase())), Some(false)));
        assert!(l.contains(&PassiveLeaf::Value(ex(md5))));
        let sha1 = "51f202202ee5382d7f8e0623ed3283369347eb99";
        let l = leaves(&hassh(Some(ex(sha1)), None));
        assert!(l.contains(&PassiveLeaf::Infos(
            path(&["sha1"]),
            ValueCond::Str(ex(sha1))
        )));
        let l = leaves(&ja3client(Some(ex("769,5,0-65281"))));
        assert!(l.contains(&PassiveLeaf::Value(ex(&md5_hex(b"769,5,0-65281")))));
        let l = leaves(&ja3client(Some(re("^769,"))));
        assert!(l.contains(&PassiveLeaf::Infos(
            path(&["raw"]),
            ValueCond::Str(re("^769,"))
        )));
        let l = leaves(&ja3server(None, Some(ex("769,255"))));
        assert!(l.contains(&PassiveLeaf::Source(Match::Exact(format!(
            "ja3-{}",
            md5_hex(b"769,255")
        )))));
    }

    #[test]
    fn dns_negation_only_on_the_name() {
        let f = dns(Some(ex("A.com")), false, Some("a"), false, true);
        let Filter::And(v) = f else { panic!() };
        assert_eq!(v.len(), 3);
        assert_eq!(v[2], value(ex("a.com")).not());
        assert!(
            matches!(&v[1], Filter::Leaf(PassiveLeaf::Source(Match::Regex(r))) if r.pattern == "^A-")
        );
    }

    #[test]
    fn addresses_and_ports() {
        assert!(matches!(
            address_arg("10.0.0.1-10.0.0.9").unwrap(),
            Filter::Leaf(PassiveLeaf::Addr(AddrCond::Range(..)))
        ));
        assert!(matches!(
            net("10.0.0.0/8").unwrap(),
            Filter::Leaf(PassiveLeaf::Addr(AddrCond::Net(_, 8)))
        ));
        assert!(port_arg("udp/53").is_err());
        assert_eq!(port_arg("80").unwrap(), port(80));
        assert!(cert_hash("zz", false).is_err());
        assert!(ja4client_raw("nope").is_err());
        let f = ja4client_raw("t13d1516h2_002f,0035_0403,0804").unwrap();
        assert!(leaves(&f)
            .iter()
            .any(|l| matches!(l, PassiveLeaf::Value(Match::Exact(v)) if v.starts_with("t13d1516h2_") && v.len() == 11 + 12 + 1 + 12)));
        let f = service_arg("http:80").unwrap();
        assert_eq!(leaves(&f).len(), 2);
    }
}
