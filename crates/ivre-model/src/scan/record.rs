//! The host record of the "nmap" purpose, field-compatible with IVRE's JSON
//! (`ivre scancli --json`), spec scans.md §1.
//!
//! Every collection is an `Option` so that a record read from JSON and written
//! back keeps the difference between "absent" and "empty". Unknown members are
//! kept in the `extra` maps (serde `flatten`).
//!
//! Documented normalisations of a JSON round trip (everything else is kept):
//! * `starttime`/`endtime` are written `YYYY-MM-DD HH:MM:SS`, with `.ffffff`
//!   only when the fraction is not zero (IVRE writes `.000000`);
//! * integer fields given as numeric strings (`"state_reason_ttl": "52"`) are
//!   written back as numbers.

use super::script::Script;
use chrono::NaiveDateTime;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// The record schema version written by this implementation (IVRE's `SCHEMA_VERSION`).
pub const SCHEMA_VERSION: u32 = 22;

/// One scanned host in one scan result.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Host {
    #[serde(default)]
    pub addr: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addresses: Option<BTreeMap<String, Vec<String>>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostnames: Option<Vec<Hostname>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_reason: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_int"
    )]
    pub state_reason_ttl: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "datetime")]
    pub starttime: Option<NaiveDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "datetime")]
    pub endtime: Option<NaiveDateTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ports: Option<Vec<Port>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openports: Option<OpenPorts>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extraports: Option<BTreeMap<String, ExtraPorts>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os: Option<Os>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traces: Option<Vec<Trace>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpes: Option<Vec<Cpe>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub categories: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<Vec<Tag>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_version: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub infos: Option<Map<String, Value>>,
    /// Any other member: `<host>` attributes such as `timedout` or `comment`,
    /// and the Nmap elements kept verbatim (`uptime`, `distance`,
    /// `tcpsequence`, `ipidsequence`, `tcptssequence`, `times`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// `source`: a string in the nmap purpose, a list of strings in the view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Source {
    One(String),
    Many(Vec<String>),
}

/// A hostname: `{type, name, domains}`, `domains` including the name itself.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Hostname {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domains: Option<Vec<String>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A port, or (with `port == -1` and no protocol) the container of host scripts.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Port {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub protocol: Option<String>,
    #[serde(deserialize_with = "strict_or_string_int")]
    pub port: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_reason: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_int"
    )]
    pub state_reason_ttl: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state_reason_ip: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_product: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_extrainfo: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_ostype: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_devicetype: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_hostname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_tunnel: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_method: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_int"
    )]
    pub service_conf: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_servicefp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service_proto: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_int"
    )]
    pub service_rpcnum: Option<i64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_int"
    )]
    pub service_lowver: Option<i64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_int"
    )]
    pub service_highver: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scripts: Option<Vec<Script>>,
    /// `"field"` (image in `screendata`) or `"empty"`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub screenshot: Option<String>,
    /// The trimmed image, base64 (as in IVRE's JSON exports).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub screendata: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub screenwords: Option<Vec<String>>,
    /// Anything else (e.g. `owner` from Nmap's ident `<owner name>`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Port {
    /// A new port `protocol/port` with nothing else set.
    pub fn new(protocol: &str, port: i64) -> Self {
        Port {
            protocol: Some(protocol.to_string()),
            port,
            ..Port::default()
        }
    }

    /// The pseudo-port `-1` that holds host scripts.
    pub fn host_scripts() -> Self {
        Port {
            port: -1,
            ..Port::default()
        }
    }

    pub fn is_open(&self) -> bool {
        self.state_state.as_deref() == Some("open")
    }
}

/// `openports`: `{"count": N, "<proto>": {"count": n, "ports": [...]}}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct OpenPorts {
    #[serde(default)]
    pub count: u64,
    #[serde(flatten)]
    pub protocols: BTreeMap<String, ProtoPorts>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ProtoPorts {
    #[serde(default)]
    pub count: u64,
    #[serde(default)]
    pub ports: Vec<i64>,
}

/// `extraports.<state>`: `{"total": int, "reasons": {reason: int}}`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ExtraPorts {
    #[serde(default)]
    pub total: i64,
    #[serde(default)]
    pub reasons: BTreeMap<String, i64>,
}

/// The `os` object (spec §1.7).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Os {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub osmatch: Option<Vec<OsMatch>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub osclass: Option<Vec<OsClass>>,
    /// `{"port": "tcp_80", "state": "open"}` (the last `<portused>` only, as IVRE).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub portused: Option<Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct OsMatch {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accuracy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct OsClass {
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub osfamily: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub osgen: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub accuracy: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// One traceroute (spec §1.6).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Trace {
    /// `tcp`, `udp`, `icmp` or null (always written).
    #[serde(default)]
    pub protocol: Option<String>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_int"
    )]
    pub port: Option<i64>,
    #[serde(default)]
    pub hops: Vec<Hop>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Hop {
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "lenient_int"
    )]
    pub ttl: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ipaddr: Option<String>,
    /// A number, or the original string when it is not numeric (`"--"`).
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub rtt: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub domains: Option<Vec<String>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A CPE (spec §1.8).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Cpe {
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default)]
    pub vendor: String,
    #[serde(default)]
    pub product: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub origins: Vec<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A tag (spec §1.9).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Tag {
    #[serde(default)]
    pub value: String,
    #[serde(rename = "type", default)]
    pub kind: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub info: Option<Vec<String>>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl Tag {
    /// Parses the `scan2db --tags` syntax `VALUE[:TYPE[:INFO]]` (type defaults to `info`).
    pub fn parse(spec: &str) -> Tag {
        let mut it = spec.splitn(3, ':');
        let value = it.next().unwrap_or("").to_string();
        let kind = it.next().filter(|s| !s.is_empty()).unwrap_or("info");
        let info = it
            .next()
            .map(|s| s.trim_matches('"').to_string())
            .filter(|s| !s.is_empty());
        Tag {
            value,
            kind: kind.to_string(),
            info: info.map(|i| vec![i]),
            extra: Map::new(),
        }
    }
}

/// Merges `new` into `tags`: unique by `value`, `info` lists unioned, sorted, unique.
pub fn merge_tags(tags: &mut Vec<Tag>, new: impl IntoIterator<Item = Tag>) {
    for tag in new {
        if let Some(old) = tags.iter_mut().find(|t| t.value == tag.value) {
            if let Some(info) = tag.info {
                let merged = old.info.get_or_insert_with(Vec::new);
                merged.extend(info);
                merged.sort();
                merged.dedup();
            }
        } else {
            let mut tag = tag;
            if let Some(info) = tag.info.as_mut() {
                info.sort();
                info.dedup();
            }
            tags.push(tag);
        }
    }
}

/// The `domains` list of a name: the name itself then each parent, up to the TLD.
pub fn name_domains(name: &str) -> Vec<String> {
    let mut out = vec![name.to_string()];
    let mut rest = name;
    while let Some(i) = rest.find('.') {
        rest = &rest[i + 1..];
        if rest.is_empty() {
            break;
        }
        out.push(rest.to_string());
    }
    out
}

fn valid_hostname(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"_.*-".contains(&b))
        && name.parse::<std::net::Ipv4Addr>().is_err()
}

/// Parses a CPE 2.2 (`cpe:/a:vendor:product:version...`) or 2.3
/// (`cpe:2.3:a:vendor:product:version:...`) string into `(type, vendor, product, version)`;
/// `version` is the rest of the string (update, edition...), with the 2.3 trailing
/// wildcard fields (`*`, `-`) removed.
pub fn parse_cpe(cpe: &str) -> Option<(String, String, String, String)> {
    let cpe = cpe.trim();
    let lower = cpe.to_ascii_lowercase();
    let rest = if lower.starts_with("cpe:2.3:") {
        let fields: Vec<&str> = cpe[8..].split(':').collect();
        let mut fields: Vec<&str> = fields;
        while fields.len() > 3 && matches!(fields.last(), Some(&"*") | Some(&"-") | Some(&"")) {
            fields.pop();
        }
        fields.join(":")
    } else if lower.starts_with("cpe:/") {
        cpe[5..].to_string()
    } else {
        return None;
    };
    let mut it = rest.splitn(4, ':');
    let kind = it.next()?.to_string();
    if !matches!(kind.as_str(), "a" | "o" | "h") {
        return None;
    }
    let vendor = it.next().unwrap_or("").to_string();
    let product = it.next().unwrap_or("").to_string();
    let version = it.next().unwrap_or("").to_string();
    Some((kind, vendor, product, version))
}

impl Host {
    /// A new, empty `up` host for `addr`, at the current schema version.
    pub fn new(addr: impl Into<String>) -> Self {
        Host {
            addr: addr.into(),
            schema_version: Some(SCHEMA_VERSION),
            ..Host::default()
        }
    }

    /// The address, parsed (`None` when `addr` is not an IP address).
    pub fn ip(&self) -> Option<std::net::IpAddr> {
        self.addr.parse().ok()
    }

    /// Adds a hostname of type `kind`. The name is lower-cased and loses its
    /// trailing dot; names that are not `[a-z0-9_.*-]+`, or that are IPv4
    /// literals, are rejected (returns false). Deduplicated on `(name, type)`.
    pub fn add_hostname(&mut self, name: &str, kind: &str) -> bool {
        let name = name.trim().trim_end_matches('.').to_ascii_lowercase();
        if !valid_hostname(&name) {
            return false;
        }
        let list = self.hostnames.get_or_insert_with(Vec::new);
        if !list.iter().any(|h| h.name == name && h.kind == kind) {
            list.push(Hostname {
                kind: kind.to_string(),
                domains: Some(name_domains(&name)),
                name,
                extra: Map::new(),
            });
        }
        true
    }

    /// Adds a CPE string (2.2 or 2.3) found at `origin` (e.g. `ports.port:22`).
    /// An existing CPE gets the origin merged. Returns false for an unparsable string.
    pub fn add_cpe(&mut self, cpe: &str, origin: &str) -> bool {
        let Some((kind, vendor, product, version)) = parse_cpe(cpe) else {
            return false;
        };
        let list = self.cpes.get_or_insert_with(Vec::new);
        if let Some(c) = list.iter_mut().find(|c| {
            c.kind == kind && c.vendor == vendor && c.product == product && c.version == version
        }) {
            if !c.origins.iter().any(|o| o == origin) {
                c.origins.push(origin.to_string());
            }
        } else {
            list.push(Cpe {
                kind,
                vendor,
                product,
                version,
                origins: vec![origin.to_string()],
                extra: Map::new(),
            });
        }
        true
    }

    /// Adds a MAC address (lower-cased, deduplicated) to `addresses.mac`.
    pub fn add_mac(&mut self, mac: &str) {
        self.add_address("mac", &mac.to_ascii_lowercase());
    }

    /// Adds an address of type `kind` to `addresses` (deduplicated).
    pub fn add_address(&mut self, kind: &str, addr: &str) {
        let list = self
            .addresses
            .get_or_insert_with(BTreeMap::new)
            .entry(kind.to_string())
            .or_default();
        if !list.iter().any(|a| a == addr) {
            list.push(addr.to_string());
        }
    }

    /// Merges tags (see [`merge_tags`]).
    pub fn add_tags(&mut self, tags: impl IntoIterator<Item = Tag>) {
        merge_tags(self.tags.get_or_insert_with(Vec::new), tags);
    }

    /// Replaces the categories with the sorted, unique `categories`.
    pub fn set_categories<S: AsRef<str>>(&mut self, categories: &[S]) {
        let mut cats: Vec<String> = categories.iter().map(|c| c.as_ref().to_string()).collect();
        cats.sort();
        cats.dedup();
        self.categories = Some(cats);
    }

    /// Recomputes `openports` from `ports`: only `state_state == "open"`,
    /// ports deduplicated and sorted per protocol. Always sets the field.
    pub fn recompute_openports(&mut self) {
        let mut op = OpenPorts::default();
        for p in self.ports.iter().flatten() {
            if !p.is_open() {
                continue;
            }
            let proto = p.protocol.clone().unwrap_or_default();
            op.protocols.entry(proto).or_default().ports.push(p.port);
        }
        for pp in op.protocols.values_mut() {
            pp.ports.sort_unstable();
            pp.ports.dedup();
            pp.count = pp.ports.len() as u64;
            op.count += pp.count;
        }
        self.openports = Some(op);
    }

    /// True when the host has at least one open port.
    pub fn has_open_ports(&self) -> bool {
        self.ports.iter().flatten().any(Port::is_open)
    }

    /// The host-script pseudo-port `-1`, created (at the end of `ports`) when missing.
    pub fn host_scripts_port(&mut self) -> &mut Port {
        let ports = self.ports.get_or_insert_with(Vec::new);
        let idx = match ports.iter().position(|p| p.port == -1) {
            Some(i) => i,
            None => {
                ports.push(Port::host_scripts());
                ports.len() - 1
            }
        };
        &mut ports[idx]
    }
}

/// Accepts an integer, a float with no fraction, or a numeric string.
fn value_to_i64(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .or_else(|| n.as_f64().filter(|f| f.fract() == 0.0).map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn lenient_int<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    let v = Value::deserialize(d)?;
    match v {
        Value::Null => Ok(None),
        v => value_to_i64(&v)
            .map(Some)
            .ok_or_else(|| serde::de::Error::custom(format!("expected an integer, got {v}"))),
    }
}

fn strict_or_string_int<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    let v = Value::deserialize(d)?;
    value_to_i64(&v)
        .ok_or_else(|| serde::de::Error::custom(format!("expected an integer, got {v}")))
}

/// Parses IVRE's date strings: `YYYY-MM-DD HH:MM:SS[.f]`, also with a `T`, or
/// an epoch number.
pub fn parse_datetime(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    for fmt in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
        if let Ok(d) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(d);
        }
    }
    let s = s.strip_suffix('Z').unwrap_or(s);
    if let Ok(d) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(d.naive_utc());
    }
    s.parse::<f64>().ok().and_then(epoch_to_datetime)
}

/// Epoch seconds (possibly fractional) to a naive UTC datetime.
pub fn epoch_to_datetime(secs: f64) -> Option<NaiveDateTime> {
    if !secs.is_finite() {
        return None;
    }
    let whole = secs.floor();
    let nanos = ((secs - whole) * 1e9).round().min(999_999_999.0) as u32;
    chrono::DateTime::from_timestamp(whole as i64, nanos).map(|d| d.naive_utc())
}

/// Formats as IVRE: `YYYY-MM-DD HH:MM:SS`, plus `.ffffff` when the fraction is not zero.
pub fn format_datetime(d: &NaiveDateTime) -> String {
    use chrono::Timelike;
    if d.nanosecond() == 0 {
        d.format("%Y-%m-%d %H:%M:%S").to_string()
    } else {
        d.format("%Y-%m-%d %H:%M:%S%.6f").to_string()
    }
}

mod datetime {
    use super::*;

    pub fn serialize<S: Serializer>(d: &Option<NaiveDateTime>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_str(&format_datetime(d)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<NaiveDateTime>, D::Error> {
        let v = Value::deserialize(d)?;
        match &v {
            Value::Null => Ok(None),
            Value::String(s) => parse_datetime(s)
                .map(Some)
                .ok_or_else(|| serde::de::Error::custom(format!("invalid date {s:?}"))),
            Value::Number(n) => n
                .as_f64()
                .and_then(epoch_to_datetime)
                .map(Some)
                .ok_or_else(|| serde::de::Error::custom(format!("invalid date {n}"))),
            // Mongo extended JSON {"$date": ...}
            Value::Object(o) => match o.get("$date") {
                Some(Value::Number(n)) => {
                    Ok(n.as_f64().and_then(|ms| epoch_to_datetime(ms / 1000.0)))
                }
                Some(Value::String(s)) => Ok(parse_datetime(s)),
                _ => Err(serde::de::Error::custom("invalid date object")),
            },
            _ => Err(serde::de::Error::custom(format!("invalid date {v}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn hostname_rules() {
        let mut h = Host::new("192.0.2.1");
        assert!(h.add_hostname("WWW.Example.com.", "PTR"));
        assert!(h.add_hostname("www.example.com", "PTR"));
        assert!(h.add_hostname("www.example.com", "user"));
        assert!(!h.add_hostname("192.0.2.1", "PTR"));
        assert!(!h.add_hostname("bad name", "PTR"));
        let hn = h.hostnames.as_ref().unwrap();
        assert_eq!(hn.len(), 2);
        assert_eq!(
            hn[0].domains.as_deref().unwrap(),
            ["www.example.com", "example.com", "com"]
        );
    }

    #[test]
    fn cpe_rules() {
        let mut h = Host::new("192.0.2.1");
        assert!(h.add_cpe("cpe:/a:openbsd:openssh:8.9p1", "ports.port:22"));
        assert!(h.add_cpe(
            "cpe:2.3:a:openbsd:openssh:8.9p1:*:*:*:*:*:*:*",
            "scripts.id:x"
        ));
        assert!(h.add_cpe("cpe:/o:linux:linux_kernel", "ports.port:22"));
        assert!(h.add_cpe(
            "cpe:/o:microsoft:windows_7::sp1:professional",
            "os.osmatch.line:1"
        ));
        assert!(!h.add_cpe("nope", "x"));
        let c = h.cpes.as_ref().unwrap();
        assert_eq!(c.len(), 3);
        assert_eq!(c[0].origins, ["ports.port:22", "scripts.id:x"]);
        assert_eq!(c[1].version, "");
        assert_eq!(c[2].version, ":sp1:professional");
    }

    #[test]
    fn tags_merge() {
        let mut h = Host::new("192.0.2.1");
        h.add_tags([Tag::parse("CDN:info:B"), Tag::parse("CDN:info:A")]);
        h.add_tags([Tag::parse("Scanner:warning")]);
        let t = h.tags.as_ref().unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].info.as_deref().unwrap(), ["A", "B"]);
        assert_eq!(t[1].kind, "warning");
    }

    #[test]
    fn openports_and_roundtrip() {
        let v = json!({"addr": "192.0.2.1", "starttime": "2021-01-11 00:17:05",
            "ports": [{"protocol": "tcp", "port": 80, "state_state": "open"},
                      {"protocol": "tcp", "port": 22, "state_state": "open"},
                      {"protocol": "udp", "port": 53, "state_state": "closed"},
                      {"port": -1, "scripts": [{"id": "x", "output": "y"}]}],
            "weird": {"a": 1}, "schema_version": 22});
        let mut h: Host = serde_json::from_value(v.clone()).unwrap();
        assert_eq!(serde_json::to_value(&h).unwrap(), v);
        h.recompute_openports();
        assert_eq!(
            serde_json::to_value(h.openports.as_ref().unwrap()).unwrap(),
            json!({"count": 2, "tcp": {"count": 2, "ports": [22, 80]}})
        );
    }

    #[test]
    fn dates() {
        let d = parse_datetime("2021-01-11 00:17:05.000000").unwrap();
        assert_eq!(format_datetime(&d), "2021-01-11 00:17:05");
        let d = epoch_to_datetime(1610324225.0).unwrap();
        assert_eq!(format_datetime(&d), "2021-01-11 00:17:05");
    }
}
