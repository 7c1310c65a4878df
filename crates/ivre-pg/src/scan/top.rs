//! The `--top` / `topvalues` field vocabulary of the scan purpose, as
//! typed [`Projection`]s: one row per counted element (port, script,
//! hostname domain, ...) with its value (strings, numbers, tuples as
//! arrays). Counting is per element, as in IVRE, except for the per-host
//! fields (`portlist:`, `countports:`). The fields come in families, one
//! module each. A projection is built once and then placed on a table set
//! ([`HostTables`]: the scan results or the view).

mod host;
mod keys;
mod ports;
mod scripts;

use super::tables::HostTables;
use crate::query::projection::{self, ChildTable, Rows, Unnest, ValueShape};
use crate::sql::SqlBuilder;
use crate::{Error, Result};

/// The top-level keys of a host record (scan results and view): a dotted
/// record path (`--top`, `--distinct`, `--sort`) must start with one of
/// them, so that a misspelt field is an error rather than an empty answer.
pub const RECORD_KEYS: &[&str] = &[
    "addr",
    "addresses",
    "categories",
    "comment",
    "cpes",
    "distance",
    "endtime",
    "extraports",
    "hostnames",
    "infos",
    "ipidsequence",
    "openports",
    "os",
    "owner",
    "ports",
    "schema_version",
    "source",
    "starttime",
    "state",
    "state_reason",
    "state_reason_ttl",
    "tags",
    "tcpsequence",
    "tcptssequence",
    "timedout",
    "times",
    "traces",
    "uptime",
];

/// The named `--top` fields, for the message of an unknown one.
const TOP_FIELDS: &str = "category, source, addr, net[:MASK], schema_version, port, portlist, \
     countports, service, product, version, devicetype, cpe[.KEY], ttl, screenwords, script, jarm, \
     useragent, httphdr, httpapp, smb.KEY, ntlm[.KEY], modbus.KEY, s7.KEY, enip.KEY, vulns.KEY, \
     file[.KEY], cert[.KEY], cacert[.KEY], sshkey[.KEY], hassh[-server|-client], domains, hop, \
     hop>N, tag, country, city, asnum, as (most take :ARG)";

/// Checks that a dotted record path starts with a key of the record
/// ([`RECORD_KEYS`]); the error lists the named fields and those keys.
pub fn check_record_path(name: &str) -> Result<()> {
    let first = name.split('.').next().unwrap_or_default();
    if RECORD_KEYS.contains(&first) {
        Ok(())
    } else {
        Err(Error::BadFilter(format!(
            "unknown field {name:?} (named fields: {TOP_FIELDS}; or a record path under {})",
            RECORD_KEYS.join(", ")
        )))
    }
}

/// The child tables of a host record (`h`), in whichever table set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanChild {
    Port,
    Script,
    Cpe,
    Hostname,
    Hop,
    Tag,
}

impl ScanChild {
    /// The table in the set `t`, with its alias (`scan_port p`).
    fn table_in(self, t: HostTables) -> &'static str {
        match (t, self) {
            (HostTables::Scan, ScanChild::Port) => "scan_port p",
            (HostTables::Scan, ScanChild::Script) => "scan_script s",
            (HostTables::Scan, ScanChild::Cpe) => "scan_cpe c",
            (HostTables::Scan, ScanChild::Hostname) => "scan_hostname n",
            (HostTables::Scan, ScanChild::Hop) => "scan_hop o",
            (HostTables::Scan, ScanChild::Tag) => "scan_tag t",
            (HostTables::View, ScanChild::Port) => "view_port p",
            (HostTables::View, ScanChild::Script) => "view_script s",
            (HostTables::View, ScanChild::Cpe) => "view_cpe c",
            (HostTables::View, ScanChild::Hostname) => "view_hostname n",
            (HostTables::View, ScanChild::Hop) => "view_hop o",
            (HostTables::View, ScanChild::Tag) => "view_tag t",
        }
    }

    fn on(self) -> &'static str {
        match self {
            ScanChild::Port => "p.host_id = h.id",
            ScanChild::Script => "s.host_id = h.id",
            ScanChild::Cpe => "c.host_id = h.id",
            ScanChild::Hostname => "n.host_id = h.id",
            ScanChild::Hop => "o.host_id = h.id",
            ScanChild::Tag => "t.host_id = h.id",
        }
    }
}

/// A child table of a host record in one table set.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostChild {
    pub tables: HostTables,
    pub kind: ScanChild,
}

impl ChildTable for HostChild {
    fn table(&self) -> &'static str {
        self.kind.table_in(self.tables)
    }

    fn on(&self) -> &'static str {
        self.kind.on()
    }
}

/// What a `topvalues` / `distinct` of host records counts, on a table set.
pub type HostProjection = projection::Projection<HostChild>;

/// A projection before it is placed on a table set.
pub type Projection = projection::Projection<ScanChild>;

/// Places a projection on the table set `t`.
pub fn in_tables(p: Projection, t: HostTables) -> HostProjection {
    p.map_child(|kind| HostChild { tables: t, kind })
}

/// A `--top` field taken apart: `base[.sub][:arg]`.
struct Field<'a> {
    /// The whole field, for messages.
    name: &'a str,
    base: &'a str,
    sub: &'a str,
    arg: Option<&'a str>,
}

impl<'a> Field<'a> {
    fn parse(name: &'a str) -> Field<'a> {
        let (head, arg) = match name.split_once(':') {
            Some((h, a)) => (h, Some(a)),
            None => (name, None),
        };
        // dotted sub-fields (cert.sha256, httphdr.name, ...)
        let (base, sub) = head.split_once('.').unwrap_or((head, ""));
        Field {
            name,
            base,
            sub,
            arg,
        }
    }

    /// The error of a field this vocabulary does not know; `forms` lists
    /// the known ones of its family.
    fn unknown(&self, forms: &str) -> Error {
        Error::BadFilter(format!("unknown field {:?}{forms}", self.name))
    }
}

/// Rows of a child table (no list unwound).
fn child(table: ScanChild) -> Rows<ScanChild> {
    Rows::Child {
        table,
        unnest: Vec::new(),
    }
}

/// Rows of the elements of a JSON list in `scan_script s` data.
fn script_list(list: &str, alias: &'static str) -> Rows<ScanChild> {
    Rows::Child {
        table: ScanChild::Script,
        unnest: vec![Unnest::new(
            format!("jsonb_path_query(s.data -> '{list}', 'lax $[*]')"),
            alias,
        )],
    }
}

/// The projection of a `--top` field on the table set `t`.
pub fn projection(b: &mut SqlBuilder, name: &str, t: HostTables) -> Result<HostProjection> {
    field_projection(b, name, t).map(|p| in_tables(p, t))
}

fn field_projection(b: &mut SqlBuilder, name: &str, t: HostTables) -> Result<Projection> {
    let f = Field::parse(name);
    match (f.base, f.sub) {
        ("category" | "categories", "") => host::categories(b, &f),
        ("source", "") => Ok(host::source(t)),
        ("addr", "") => Ok(host::scalar("host(h.addr)")),
        ("net", "") => host::net(b, &f),
        ("schema_version", "") => Ok(host::scalar("h.schema_version")),
        ("port", "") => Ok(ports::port(b, &f)),
        ("portlist" | "countports", "") => Ok(ports::port_set(b, &f, t)),
        ("service" | "product" | "version" | "devicetype", "") => ports::service(b, &f),
        ("cpe", _) => ports::cpe(b, &f),
        ("ttl", "") => Ok(ports::ttl()),
        ("screenwords", "") => Ok(ports::screenwords()),
        ("script", "") => scripts::script(b, &f),
        ("jarm", "") => scripts::jarm(b, &f),
        ("useragent", "") => scripts::useragent(b, &f),
        ("httphdr", _) => scripts::httphdr(b, &f),
        ("httpapp", "") => Ok(scripts::httpapp(b, &f)),
        ("smb", k) if !k.is_empty() => Ok(scripts::smb(b, k)),
        ("ntlm", k) => Ok(scripts::ntlm(b, k)),
        ("modbus", k) if !k.is_empty() => Ok(scripts::keyed(b, "modbus-discover", k)),
        ("s7", k) if !k.is_empty() => Ok(scripts::keyed(b, "s7-info", k)),
        ("enip", k) if !k.is_empty() => Ok(scripts::enip(b, k)),
        ("vulns", s) if !s.is_empty() => Ok(scripts::vulns(b, s)),
        ("file", _) => Ok(scripts::file(b, &f)),
        ("cert" | "cacert", _) => Ok(keys::cert(b, &f)),
        ("sshkey", _) => Ok(keys::sshkey(b, &f)),
        ("hassh" | "hassh-server" | "hassh-client", _) => keys::hassh(&f),
        ("domains" | "domain", "") => Ok(host::domains(b, &f)),
        ("hop", "") if !name.contains('>') => host::hop(b, &f),
        (base, "") if base.starts_with("hop>") => host::hop_beyond(b, &f),
        ("tag", _) => host::tag(b, &f),
        ("country", "") => Ok(host::infos(&["country_code", "country_name"])),
        ("city", "") => Ok(host::infos(&["country_code", "city"])),
        ("asnum", "") => Ok(host::infos(&["as_num"])),
        ("as", "") => Ok(host::infos(&["as_num", "as_name"])),
        _ if f.arg.is_some() => Err(f.unknown(&format!(" ({TOP_FIELDS})"))),
        _ => host::document_path(b, name, t),
    }
}

/// A jsonb value of the counted rows.
fn json(rows: Rows<ScanChild>, cond: Vec<String>, value: String) -> Projection {
    Projection::new(rows, cond, ValueShape::Json(value))
}
