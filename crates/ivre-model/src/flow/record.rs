//! The flow record (spec 1.2), what a reader gives (one observation, the
//! "input record contract" of spec 1.3) and how an observation updates a
//! flow.

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;

use chrono::{DateTime, Timelike, Utc};
use serde_json::{json, Map, Value};

use super::meta::{LogMeta, MetaObservation};
use super::slots::{SlotConfig, TimeSlot};

/// Version of the flow record layout; part of the key in IVRE.
pub const SCHEMA_VERSION: i32 = 1;

/// Whether a protocol name is ICMP (v4 or v6): its key carries the ICMP
/// type, and its codes are accumulated.
pub fn is_icmp(proto: &str) -> bool {
    matches!(proto, "icmp" | "icmp6" | "ipv6-icmp")
}

/// Whether a protocol has ports: its key carries the destination port, and
/// its source ports are accumulated.
pub fn has_ports(proto: &str) -> bool {
    matches!(proto, "tcp" | "udp")
}

/// A protocol name as the flow stores it: lower case, and the ICMPv6 names
/// of the different tools (`ICMP6`, `ipv6-icmp`) made one (`icmp6`).
pub fn normalize_proto(proto: &str) -> String {
    let p = proto.trim().to_ascii_lowercase();
    match p.as_str() {
        "ipv6-icmp" | "icmpv6" => "icmp6".to_owned(),
        _ => p,
    }
}

/// What identifies a flow: client, server, protocol, and the destination
/// port (TCP, UDP) or the ICMP type (ICMP); other protocols (ARP, GRE, ...)
/// have neither.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlowKey {
    /// The client.
    pub src: IpAddr,
    /// The server.
    pub dst: IpAddr,
    /// Lower-case protocol name ([`normalize_proto`]), or a number as text
    /// for protocols without a name (iptables `PROTO=2`).
    pub proto: String,
    /// Destination port: `Some` exactly for TCP and UDP.
    pub dport: Option<u16>,
    /// ICMP type: `Some` exactly for ICMP.
    pub icmp_type: Option<u8>,
}

/// The ports (or ICMP type and code) of one observation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoints {
    /// TCP or UDP; the source port may be unknown (Zeek protocol logs
    /// always give it; some exports do not).
    Ports { sport: Option<u16>, dport: u16 },
    /// ICMP: type and code (the code may be unknown).
    Icmp { icmp_type: u8, code: Option<u8> },
    /// A protocol without ports (ARP, GRE, ...).
    None,
}

/// The traffic counters of a flow (absent on flows that only protocol
/// logs touched, as `count` is in IVRE).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Counters {
    /// Observations (connections, NetFlow / Argus records, iptables lines)
    /// merged into the flow.
    pub count: u64,
    /// Packets client → server.
    pub cspkts: u64,
    /// Packets server → client.
    pub scpkts: u64,
    /// Bytes client → server (IP level for Zeek: `orig_ip_bytes`).
    pub csbytes: u64,
    /// Bytes server → client (`resp_ip_bytes` for Zeek).
    pub scbytes: u64,
}

impl Counters {
    /// The counters of one observation (`count` = 1).
    pub fn observed(cspkts: u64, scpkts: u64, csbytes: u64, scbytes: u64) -> Counters {
        Counters {
            count: 1,
            cspkts,
            scpkts,
            csbytes,
            scbytes,
        }
    }

    /// Sums two sets of counters (saturating: a counter never wraps).
    pub fn add(&mut self, other: &Counters) {
        self.count = self.count.saturating_add(other.count);
        self.cspkts = self.cspkts.saturating_add(other.cspkts);
        self.scpkts = self.scpkts.saturating_add(other.scpkts);
        self.csbytes = self.csbytes.saturating_add(other.csbytes);
        self.scbytes = self.scbytes.saturating_add(other.scbytes);
    }

    /// The counters seen from the other side (client and server swapped).
    pub fn reversed(&self) -> Counters {
        Counters {
            count: self.count,
            cspkts: self.scpkts,
            scpkts: self.cspkts,
            csbytes: self.scbytes,
            scbytes: self.csbytes,
        }
    }
}

/// What one observation brings to its flow (spec 1.3): traffic (Zeek
/// `conn.log`, NetFlow, Argus, iptables: `conn2flow` / `flow2flow`) or
/// protocol metadata (every other Zeek log: `any2flow`).
#[derive(Debug, Clone, PartialEq)]
pub enum ObservationKind {
    /// One connection or flow record: its counters are summed (`count` is
    /// 1, see [`Counters::observed`]).
    Traffic(Counters),
    /// One protocol log entry: `meta.<log>` is updated, counters are not.
    Meta(MetaObservation),
}

/// One input record, as every reader gives it: a connection, a NetFlow /
/// Argus record, an iptables line or a protocol log entry, with its client
/// and server already decided.
#[derive(Debug, Clone, PartialEq)]
pub struct Observation {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// Lower-case protocol name ([`normalize_proto`]).
    pub proto: String,
    pub endpoints: Endpoints,
    /// Start of the observation.
    pub start: DateTime<Utc>,
    /// End of the observation (equal to `start` for a single event).
    pub end: DateTime<Utc>,
    pub kind: ObservationKind,
}

impl Observation {
    /// The flow this observation belongs to. The port or ICMP type goes
    /// into the key only for the protocols that have them, whatever the
    /// reader found.
    pub fn key(&self) -> FlowKey {
        let (dport, icmp_type) = match self.endpoints {
            Endpoints::Ports { dport, .. } if has_ports(&self.proto) => (Some(dport), None),
            Endpoints::Icmp { icmp_type, .. } if is_icmp(&self.proto) => (None, Some(icmp_type)),
            _ => (None, None),
        };
        FlowKey {
            src: self.src,
            dst: self.dst,
            proto: self.proto.clone(),
            dport,
            icmp_type,
        }
    }
}

/// One aggregated flow (spec 1.2): every observation of "client `src`
/// talked to server `dst` with `proto` on `dport` (or ICMP `type`)".
#[derive(Debug, Clone, PartialEq)]
pub struct Flow {
    pub key: FlowKey,
    /// Source ports seen (TCP, UDP) in traffic records.
    pub sports: BTreeSet<u16>,
    /// ICMP codes seen in traffic records.
    pub codes: BTreeSet<u8>,
    /// `None` while only protocol logs touched the flow.
    pub counters: Option<Counters>,
    /// Earliest observation start.
    pub firstseen: DateTime<Utc>,
    /// Latest observation end.
    pub lastseen: DateTime<Utc>,
    /// Time slots in which the flow was active (spec 1.4).
    pub times: BTreeSet<TimeSlot>,
    /// Protocol metadata by Zeek log name (`dns`, `http`, ...), spec 1.5.
    pub meta: BTreeMap<String, LogMeta>,
}

impl Flow {
    /// The flow of one observation alone.
    pub fn from_observation(obs: Observation, slots: &SlotConfig) -> Flow {
        let mut flow = Flow::empty(obs.key(), obs.start, obs.end);
        flow.absorb(obs, slots);
        flow
    }

    /// A flow with nothing seen yet but its key and times.
    pub fn empty(key: FlowKey, firstseen: DateTime<Utc>, lastseen: DateTime<Utc>) -> Flow {
        Flow {
            key,
            sports: BTreeSet::new(),
            codes: BTreeSet::new(),
            counters: None,
            firstseen,
            lastseen,
            times: BTreeSet::new(),
            meta: BTreeMap::new(),
        }
    }

    /// Elements of the flow's sets of ports, codes and slots (what its
    /// memory grows with, with its metadata).
    pub fn sets_len(&self) -> usize {
        self.sports.len() + self.codes.len() + self.times.len()
    }

    /// Applies one observation of this flow (spec 1.3): min / max times,
    /// summed counters, set unions, slots. The observation's key must be
    /// this flow's (the aggregator guarantees it).
    pub fn absorb(&mut self, obs: Observation, slots: &SlotConfig) {
        let (start, end) = if obs.end < obs.start {
            (obs.end, obs.start)
        } else {
            (obs.start, obs.end)
        };
        self.firstseen = self.firstseen.min(start);
        self.lastseen = self.lastseen.max(end);
        self.times.extend(slots.slots(start, end));
        match obs.kind {
            ObservationKind::Traffic(c) => {
                self.counters.get_or_insert_with(Counters::default).add(&c);
                // Only traffic records feed the sets, as in IVRE.
                match obs.endpoints {
                    Endpoints::Ports {
                        sport: Some(sport), ..
                    } if self.key.dport.is_some() => {
                        self.sports.insert(sport);
                    }
                    Endpoints::Icmp {
                        code: Some(code), ..
                    } if self.key.icmp_type.is_some() => {
                        self.codes.insert(code);
                    }
                    _ => {}
                }
            }
            ObservationKind::Meta(m) => {
                self.meta.entry(m.log.clone()).or_default().absorb(m);
            }
        }
    }

    /// Merges another flow (of the same key, or one being folded into this
    /// one by the cleanup): the same rules as [`Flow::absorb`].
    pub fn merge(&mut self, other: Flow) {
        self.firstseen = self.firstseen.min(other.firstseen);
        self.lastseen = self.lastseen.max(other.lastseen);
        self.sports.extend(other.sports);
        self.codes.extend(other.codes);
        self.times.extend(other.times);
        if let Some(c) = other.counters {
            self.counters.get_or_insert_with(Counters::default).add(&c);
        }
        for (log, m) in other.meta {
            self.meta.entry(log).or_default().merge(m);
        }
    }

    /// The flow's name in listings and daily counts: `tcp/80`, `icmp/8`,
    /// or the bare protocol.
    pub fn name(&self) -> String {
        match (self.key.dport, self.key.icmp_type) {
            (Some(p), _) => format!("{}/{p}", self.key.proto),
            (_, Some(t)) => format!("{}/{t}", self.key.proto),
            _ => self.key.proto.clone(),
        }
    }
}

/// A time as IVRE's JSON outputs write it (Python's `str()` of a
/// datetime): `2014-01-01 19:23:51.036000`, without the fraction when it is
/// zero; UTC.
pub fn ivre_time(t: &DateTime<Utc>) -> String {
    if t.nanosecond() / 1000 == 0 {
        t.format("%Y-%m-%d %H:%M:%S").to_string()
    } else {
        t.format("%Y-%m-%d %H:%M:%S%.6f").to_string()
    }
}

impl Flow {
    /// The flow as IVRE's flow document (spec 1.2): `src_addr`, `dst_addr`,
    /// `proto`, `dport` or `type`, `schema_version`, `sports` and `codes`
    /// when not empty, the counters when traffic was seen, `firstseen`,
    /// `lastseen`, `times` (`{start, duration}`) and `meta` when any.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("src_addr".into(), json!(self.key.src.to_string()));
        m.insert("dst_addr".into(), json!(self.key.dst.to_string()));
        m.insert("proto".into(), json!(self.key.proto));
        if let Some(p) = self.key.dport {
            m.insert("dport".into(), json!(p));
        }
        if let Some(t) = self.key.icmp_type {
            m.insert("type".into(), json!(t));
        }
        m.insert("schema_version".into(), json!(SCHEMA_VERSION));
        if !self.sports.is_empty() {
            m.insert("sports".into(), json!(self.sports));
        }
        if !self.codes.is_empty() {
            m.insert("codes".into(), json!(self.codes));
        }
        if let Some(c) = &self.counters {
            m.insert("count".into(), json!(c.count));
            m.insert("cspkts".into(), json!(c.cspkts));
            m.insert("scpkts".into(), json!(c.scpkts));
            m.insert("csbytes".into(), json!(c.csbytes));
            m.insert("scbytes".into(), json!(c.scbytes));
        }
        m.insert("firstseen".into(), json!(ivre_time(&self.firstseen)));
        m.insert("lastseen".into(), json!(ivre_time(&self.lastseen)));
        if !self.times.is_empty() {
            let times: Vec<Value> = self
                .times
                .iter()
                .map(|s| json!({"start": ivre_time(&s.start), "duration": s.duration}))
                .collect();
            m.insert("times".into(), Value::Array(times));
        }
        if !self.meta.is_empty() {
            let meta: Map<String, Value> = self
                .meta
                .iter()
                .map(|(log, lm)| (log.clone(), lm.to_json()))
                .collect();
            m.insert("meta".into(), Value::Object(meta));
        }
        Value::Object(m)
    }
}

/// `--count`'s figures: distinct clients, distinct servers, flows (a host
/// with both roles counts in both).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FlowCounts {
    pub clients: u64,
    pub servers: u64,
    pub flows: u64,
}

impl FlowCounts {
    /// Counts a set of flows.
    pub fn of<'a>(flows: impl IntoIterator<Item = &'a Flow>) -> FlowCounts {
        let mut clients = BTreeSet::new();
        let mut servers = BTreeSet::new();
        let mut n = 0;
        for f in flows {
            clients.insert(f.key.src);
            servers.insert(f.key.dst);
            n += 1;
        }
        FlowCounts {
            clients: clients.len() as u64,
            servers: servers.len() as u64,
            flows: n,
        }
    }
}
