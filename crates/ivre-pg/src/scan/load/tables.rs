//! The `scan_*` tables as the loader writes them: each column named once,
//! next to the field of the typed record it comes from.

use crate::copy::{Column, ColumnSet, CopyTable};
use chrono::{Datelike, NaiveDateTime};
use ivre_model::scan::record::{format_datetime, OsClass, OsMatch, Source};
use ivre_model::scan::{Cpe, Hop, Host, Hostname, Port, Script, Tag, Trace};
use serde::ser::{SerializeMap, Serializer};
use serde::Serialize;
use serde_json::Value;
use std::net::IpAddr;

/// A `scan_host` row.
pub struct HostRow<'r> {
    pub id: i64,
    pub file_id: i64,
    pub host: &'r Host,
    /// The document to store instead of the host's own IVRE JSON.
    pub doc: Option<&'r Value>,
}

/// A row of a table with one row per item of a host's list.
pub struct Child<'r, T> {
    pub host_id: i64,
    pub idx: usize,
    pub item: &'r T,
}

impl<'r, T> Child<'r, T> {
    pub fn new(host_id: i64, idx: usize, item: &'r T) -> Self {
        Child { host_id, idx, item }
    }
}

/// A `scan_script` row.
pub struct ScriptRow<'r> {
    pub host_id: i64,
    pub port_idx: usize,
    pub idx: usize,
    pub port: i64,
    pub script: &'r Script,
}

/// A `scan_hop` row: a hop with the traceroute it belongs to.
pub struct HopRow<'r> {
    pub host_id: i64,
    pub trace_idx: usize,
    pub idx: usize,
    pub trace: &'r Trace,
    pub hop: &'r Hop,
}

pub struct ScanHost;

impl CopyTable for ScanHost {
    const NAME: &'static str = "scan_host";
}

impl ColumnSet for ScanHost {
    type Row<'r> = HostRow<'r>;
    const COLUMNS: &'static [Column<Self>] = &[
        Column {
            name: "id",
            write: |b, r| {
                b.int(r.id);
            },
        },
        Column {
            name: "file_id",
            write: |b, r| {
                b.int(r.file_id);
            },
        },
        Column {
            name: "addr",
            write: |b, r| {
                b.text(&r.host.addr);
            },
        },
        Column {
            name: "source",
            write: |b, r| {
                b.opt_text(match &r.host.source {
                    Some(Source::One(source)) => Some(source),
                    Some(Source::Many(_)) | None => None,
                });
            },
        },
        Column {
            name: "categories",
            write: |b, r| {
                b.text_array(r.host.categories.iter().flatten().map(String::as_str));
            },
        },
        Column {
            name: "state",
            write: |b, r| {
                b.opt_text(r.host.state.as_deref());
            },
        },
        Column {
            name: "state_reason",
            write: |b, r| {
                b.opt_text(r.host.state_reason.as_deref());
            },
        },
        Column {
            name: "state_reason_ttl",
            write: |b, r| {
                b.opt_int(r.host.state_reason_ttl);
            },
        },
        Column {
            name: "start_time",
            write: |b, r| {
                b.opt_text(utc_time(r.host.starttime.as_ref()).as_deref());
            },
        },
        Column {
            name: "end_time",
            write: |b, r| {
                b.opt_text(utc_time(r.host.endtime.as_ref()).as_deref());
            },
        },
        Column {
            name: "open_port_count",
            write: |b, r| {
                let count = r.host.openports.as_ref().map(|o| o.count);
                b.int(count.and_then(|c| i64::try_from(c).ok()).unwrap_or(0));
            },
        },
        Column {
            name: "schema_version",
            write: |b, r| {
                b.opt_int(r.host.schema_version.map(i64::from));
            },
        },
        Column {
            name: "doc",
            write: |b, r| {
                match r.doc {
                    Some(doc) => b.json(doc),
                    None => b.json(r.host),
                };
            },
        },
    ];
}

pub struct ScanPort;

impl CopyTable for ScanPort {
    const NAME: &'static str = "scan_port";
}

impl ColumnSet for ScanPort {
    type Row<'r> = Child<'r, Port>;
    const COLUMNS: &'static [Column<Self>] = &[
        Column {
            name: "host_id",
            write: |b, r| {
                b.int(r.host_id);
            },
        },
        Column {
            name: "idx",
            write: |b, r| {
                b.int(r.idx as i64);
            },
        },
        Column {
            name: "protocol",
            write: |b, r| {
                b.opt_text(r.item.protocol.as_deref());
            },
        },
        Column {
            name: "port",
            write: |b, r| {
                b.int(r.item.port);
            },
        },
        Column {
            name: "state",
            write: |b, r| {
                b.opt_text(r.item.state_state.as_deref());
            },
        },
        Column {
            name: "state_reason",
            write: |b, r| {
                b.opt_text(r.item.state_reason.as_deref());
            },
        },
        Column {
            name: "state_reason_ttl",
            write: |b, r| {
                b.opt_int(r.item.state_reason_ttl);
            },
        },
        Column {
            name: "service_name",
            write: |b, r| {
                b.opt_text(r.item.service_name.as_deref());
            },
        },
        Column {
            name: "service_product",
            write: |b, r| {
                b.opt_text(r.item.service_product.as_deref());
            },
        },
        Column {
            name: "service_version",
            write: |b, r| {
                b.opt_text(r.item.service_version.as_deref());
            },
        },
        Column {
            name: "service_extrainfo",
            write: |b, r| {
                b.opt_text(r.item.service_extrainfo.as_deref());
            },
        },
        Column {
            name: "service_tunnel",
            write: |b, r| {
                b.opt_text(r.item.service_tunnel.as_deref());
            },
        },
        Column {
            name: "service_ostype",
            write: |b, r| {
                b.opt_text(r.item.service_ostype.as_deref());
            },
        },
        Column {
            name: "service_devicetype",
            write: |b, r| {
                b.opt_text(r.item.service_devicetype.as_deref());
            },
        },
        Column {
            name: "service_hostname",
            write: |b, r| {
                b.opt_text(r.item.service_hostname.as_deref());
            },
        },
        Column {
            name: "service_conf",
            write: |b, r| {
                b.opt_int(r.item.service_conf);
            },
        },
    ];
}

pub struct ScanScript;

impl CopyTable for ScanScript {
    const NAME: &'static str = "scan_script";
}

impl ColumnSet for ScanScript {
    type Row<'r> = ScriptRow<'r>;
    const COLUMNS: &'static [Column<Self>] = &[
        Column {
            name: "host_id",
            write: |b, r| {
                b.int(r.host_id);
            },
        },
        Column {
            name: "port_idx",
            write: |b, r| {
                b.int(r.port_idx as i64);
            },
        },
        Column {
            name: "idx",
            write: |b, r| {
                b.int(r.idx as i64);
            },
        },
        Column {
            name: "port",
            write: |b, r| {
                b.int(r.port);
            },
        },
        Column {
            name: "name",
            write: |b, r| {
                b.text(&r.script.id);
            },
        },
        Column {
            name: "output",
            write: |b, r| {
                b.text(&r.script.output);
            },
        },
        Column {
            name: "data",
            write: |b, r| {
                let data = ScriptData(r.script);
                if data.is_empty() {
                    b.null();
                } else {
                    b.json(&data);
                }
            },
        },
    ];
}

pub struct ScanHostname;

impl CopyTable for ScanHostname {
    const NAME: &'static str = "scan_hostname";
}

impl ColumnSet for ScanHostname {
    type Row<'r> = Child<'r, Hostname>;
    const COLUMNS: &'static [Column<Self>] = &[
        Column {
            name: "host_id",
            write: |b, r| {
                b.int(r.host_id);
            },
        },
        Column {
            name: "idx",
            write: |b, r| {
                b.int(r.idx as i64);
            },
        },
        Column {
            name: "name",
            write: |b, r| {
                b.text(&r.item.name);
            },
        },
        Column {
            name: "type",
            write: |b, r| {
                b.text(&r.item.kind);
            },
        },
        Column {
            name: "domains",
            write: |b, r| {
                b.text_array(r.item.domains.iter().flatten().map(String::as_str));
            },
        },
    ];
}

pub struct ScanHop;

impl CopyTable for ScanHop {
    const NAME: &'static str = "scan_hop";
}

impl ColumnSet for ScanHop {
    type Row<'r> = HopRow<'r>;
    const COLUMNS: &'static [Column<Self>] = &[
        Column {
            name: "host_id",
            write: |b, r| {
                b.int(r.host_id);
            },
        },
        Column {
            name: "trace_idx",
            write: |b, r| {
                b.int(r.trace_idx as i64);
            },
        },
        Column {
            name: "idx",
            write: |b, r| {
                b.int(r.idx as i64);
            },
        },
        Column {
            name: "protocol",
            write: |b, r| {
                b.opt_text(r.trace.protocol.as_deref());
            },
        },
        Column {
            name: "port",
            write: |b, r| {
                b.opt_int(r.trace.port);
            },
        },
        Column {
            name: "ttl",
            write: |b, r| {
                b.opt_int(r.hop.ttl);
            },
        },
        Column {
            name: "ipaddr",
            write: |b, r| {
                let ipaddr = r.hop.ipaddr.as_deref();
                b.opt_text(ipaddr.filter(|a| a.parse::<IpAddr>().is_ok()));
            },
        },
        Column {
            name: "rtt",
            write: |b, r| {
                b.opt_float(number(&r.hop.rtt));
            },
        },
        Column {
            name: "host",
            write: |b, r| {
                b.opt_text(r.hop.host.as_deref());
            },
        },
        Column {
            name: "domains",
            write: |b, r| {
                match &r.hop.domains {
                    Some(domains) => b.text_array(domains.iter().map(String::as_str)),
                    None => b.null(),
                };
            },
        },
    ];
}

pub struct ScanOsmatch;

impl CopyTable for ScanOsmatch {
    const NAME: &'static str = "scan_osmatch";
}

impl ColumnSet for ScanOsmatch {
    type Row<'r> = Child<'r, OsMatch>;
    const COLUMNS: &'static [Column<Self>] = &[
        Column {
            name: "host_id",
            write: |b, r| {
                b.int(r.host_id);
            },
        },
        Column {
            name: "idx",
            write: |b, r| {
                b.int(r.idx as i64);
            },
        },
        Column {
            name: "name",
            write: |b, r| {
                b.text(r.item.name.as_deref().unwrap_or_default());
            },
        },
        Column {
            name: "accuracy",
            write: |b, r| {
                b.opt_int(integer(r.item.accuracy.as_deref()));
            },
        },
    ];
}

pub struct ScanOsclass;

impl CopyTable for ScanOsclass {
    const NAME: &'static str = "scan_osclass";
}

impl ColumnSet for ScanOsclass {
    type Row<'r> = Child<'r, OsClass>;
    const COLUMNS: &'static [Column<Self>] = &[
        Column {
            name: "host_id",
            write: |b, r| {
                b.int(r.host_id);
            },
        },
        Column {
            name: "idx",
            write: |b, r| {
                b.int(r.idx as i64);
            },
        },
        Column {
            name: "type",
            write: |b, r| {
                b.opt_text(r.item.kind.as_deref());
            },
        },
        Column {
            name: "vendor",
            write: |b, r| {
                b.opt_text(r.item.vendor.as_deref());
            },
        },
        Column {
            name: "osfamily",
            write: |b, r| {
                b.opt_text(r.item.osfamily.as_deref());
            },
        },
        Column {
            name: "osgen",
            write: |b, r| {
                b.opt_text(r.item.osgen.as_deref());
            },
        },
        Column {
            name: "accuracy",
            write: |b, r| {
                b.opt_int(integer(r.item.accuracy.as_deref()));
            },
        },
    ];
}

pub struct ScanCpe;

impl CopyTable for ScanCpe {
    const NAME: &'static str = "scan_cpe";
}

impl ColumnSet for ScanCpe {
    type Row<'r> = Child<'r, Cpe>;
    const COLUMNS: &'static [Column<Self>] = &[
        Column {
            name: "host_id",
            write: |b, r| {
                b.int(r.host_id);
            },
        },
        Column {
            name: "idx",
            write: |b, r| {
                b.int(r.idx as i64);
            },
        },
        Column {
            name: "type",
            write: |b, r| {
                b.text(&r.item.kind);
            },
        },
        Column {
            name: "vendor",
            write: |b, r| {
                b.text(&r.item.vendor);
            },
        },
        Column {
            name: "product",
            write: |b, r| {
                b.text(&r.item.product);
            },
        },
        Column {
            name: "version",
            write: |b, r| {
                b.text(&r.item.version);
            },
        },
        Column {
            name: "origins",
            write: |b, r| {
                b.text_array(r.item.origins.iter().map(String::as_str));
            },
        },
    ];
}

pub struct ScanTag;

impl CopyTable for ScanTag {
    const NAME: &'static str = "scan_tag";
}

impl ColumnSet for ScanTag {
    type Row<'r> = Child<'r, Tag>;
    const COLUMNS: &'static [Column<Self>] = &[
        Column {
            name: "host_id",
            write: |b, r| {
                b.int(r.host_id);
            },
        },
        Column {
            name: "idx",
            write: |b, r| {
                b.int(r.idx as i64);
            },
        },
        Column {
            name: "value",
            write: |b, r| {
                b.text(&r.item.value);
            },
        },
        Column {
            name: "type",
            write: |b, r| {
                b.text(&r.item.kind);
            },
        },
        Column {
            name: "info",
            write: |b, r| {
                b.text_array(r.item.info.iter().flatten().map(String::as_str));
            },
        },
    ];
}

/// `scan_script.data`: the members of the script other than `id` and
/// `output` (its structured value under its key, and any other member).
struct ScriptData<'s>(&'s Script);

impl ScriptData<'_> {
    fn extra(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.0
            .extra
            .iter()
            .filter(|(k, _)| *k != "id" && *k != "output")
    }

    fn is_empty(&self) -> bool {
        self.0.data.is_none() && self.extra().next().is_none()
    }
}

impl Serialize for ScriptData<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        if let Some(data) = &self.0.data {
            map.serialize_entry(self.0.key(), data)?;
        }
        for (k, v) in self.extra() {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// IVRE's naive UTC time as a `timestamptz` literal; NULL for years that
/// do not have four digits.
fn utc_time(t: Option<&NaiveDateTime>) -> Option<String> {
    let t = t.filter(|t| (0..=9999).contains(&t.year()))?;
    Some(format!("{}+00", format_datetime(t)))
}

/// Nmap writes some integers as strings (`accuracy`).
fn integer(s: Option<&str>) -> Option<i64> {
    s?.trim().parse().ok()
}

/// A number, or a numeric string (a hop's `rtt`).
fn number(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn script_data_is_every_other_member() {
        let s: Script = serde_json::from_value(serde_json::json!(
            {"id": "ftp-anon", "output": "x", "ls": {"files": 1}, "masscan": {"raw": "eA=="}}
        ))
        .unwrap();
        assert_eq!(
            serde_json::to_string(&ScriptData(&s)).unwrap(),
            r#"{"ls":{"files":1},"masscan":{"raw":"eA=="}}"#
        );
        assert!(ScriptData(&Script::new("a", "b")).is_empty());
        assert_eq!(
            utc_time(ivre_model::scan::record::parse_datetime("2021-01-11 00:17:05").as_ref()),
            Some("2021-01-11 00:17:05+00".into())
        );
    }

    /// The COPY text of every table's rows for one host, pinned.
    #[test]
    fn one_host_rows() {
        use crate::copy::CopyBuffer;
        fn rows<S: ColumnSet>(out: &mut String, rows: &[S::Row<'_>]) {
            let mut b = CopyBuffer::detached(0);
            for row in rows {
                S::write(&mut b, row);
                b.end_row();
            }
            out.push_str(std::str::from_utf8(&b.into_bytes()).unwrap());
        }
        let host: Host = serde_json::from_value(serde_json::json!({
            "addr": "10.0.0.1", "source": "S\\1", "categories": ["a", "b\"c"],
            "state": "up", "state_reason": "syn-ack", "state_reason_ttl": 64,
            "starttime": "2021-01-11 00:17:05", "endtime": "0999-01-01 00:00:00",
            "openports": {"count": 1}, "schema_version": 22,
            "ports": [{"protocol": "tcp", "port": 80, "state_state": "open",
                "service_name": "http", "service_product": "nginx", "service_conf": 10,
                "scripts": [{"id": "http-title", "output": "Home\tpage",
                    "http-title": {"title": "Home"}},
                    {"id": "banner", "output": "x"}]}],
            "hostnames": [{"type": "PTR", "name": "a.example", "domains": ["example"]}],
            "traces": [{"protocol": "tcp", "port": 80, "hops": [
                {"ttl": 1, "ipaddr": "10.0.0.254", "rtt": "0.50", "host": "gw"},
                {"ttl": 2, "ipaddr": "bogus", "rtt": 1.5, "domains": ["x", "y"]}]}],
            "os": {"osmatch": [{"name": "Linux", "accuracy": "98"}],
                "osclass": [{"type": "general purpose", "vendor": "Linux",
                    "osfamily": "Linux", "osgen": "5.X", "accuracy": "98"}]},
            "cpes": [{"type": "o", "vendor": "linux", "product": "linux_kernel",
                "version": "5", "origins": ["osmatch"]}],
            "tags": [{"value": "CDN", "type": "info", "info": ["via x"]}]
        }))
        .unwrap();
        let doc = serde_json::json!({"addr": "10.0.0.1"});
        let mut out = String::new();
        rows::<ScanHost>(
            &mut out,
            &[HostRow {
                id: 8,
                file_id: 3,
                host: &host,
                doc: Some(&doc),
            }],
        );
        // Without a document of its own, a host's IVRE JSON is stored.
        let mut own = String::new();
        rows::<ScanHost>(
            &mut own,
            &[HostRow {
                id: 8,
                file_id: 3,
                host: &host,
                doc: None,
            }],
        );
        let json = serde_json::to_string(&host).unwrap().replace('\\', "\\\\");
        assert_eq!(own, out.replace(&doc.to_string(), &json));
        let ports = host.ports.as_ref().unwrap();
        rows::<ScanPort>(&mut out, &[Child::new(7, 0, &ports[0])]);
        let scripts = ports[0].scripts.as_ref().unwrap();
        let script = |idx| ScriptRow {
            host_id: 7,
            port_idx: 0,
            idx,
            port: 80,
            script: &scripts[idx],
        };
        rows::<ScanScript>(&mut out, &[script(0), script(1)]);
        rows::<ScanHostname>(
            &mut out,
            &[Child::new(7, 0, &host.hostnames.as_ref().unwrap()[0])],
        );
        let trace = &host.traces.as_ref().unwrap()[0];
        let hop = |idx| HopRow {
            host_id: 7,
            trace_idx: 0,
            idx,
            trace,
            hop: &trace.hops[idx],
        };
        rows::<ScanHop>(&mut out, &[hop(0), hop(1)]);
        let os = host.os.as_ref().unwrap();
        rows::<ScanOsmatch>(
            &mut out,
            &[Child::new(7, 0, &os.osmatch.as_ref().unwrap()[0])],
        );
        rows::<ScanOsclass>(
            &mut out,
            &[Child::new(7, 0, &os.osclass.as_ref().unwrap()[0])],
        );
        rows::<ScanCpe>(
            &mut out,
            &[Child::new(7, 0, &host.cpes.as_ref().unwrap()[0])],
        );
        rows::<ScanTag>(
            &mut out,
            &[Child::new(7, 0, &host.tags.as_ref().unwrap()[0])],
        );
        const EXPECTED: &str = concat!(
            "8\t3\t10.0.0.1\tS\\\\1\t{\"a\",\"b\\\\\"c\"}\tup\tsyn-ack\t64\t2021-01-11 00:17:05+00\t0999-01-01 00:00:00+00\t1\t22\t{\"addr\":\"10.0.0.1\"}\n",
            "7\t0\ttcp\t80\topen\t\\N\t\\N\thttp\tnginx\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t10\n",
            "7\t0\t0\t80\thttp-title\tHome\\tpage\t{\"http-title\":{\"title\":\"Home\"}}\n",
            "7\t0\t1\t80\tbanner\tx\t\\N\n",
            "7\t0\ta.example\tPTR\t{\"example\"}\n",
            "7\t0\t0\ttcp\t80\t1\t10.0.0.254\t0.5\tgw\t\\N\n",
            "7\t0\t1\ttcp\t80\t2\t\\N\t1.5\t\\N\t{\"x\",\"y\"}\n",
            "7\t0\tLinux\t98\n",
            "7\t0\tgeneral purpose\tLinux\tLinux\t5.X\t98\n",
            "7\t0\to\tlinux\tlinux_kernel\t5\t{\"osmatch\"}\n",
            "7\t0\tCDN\tinfo\t{\"via x\"}\n",
        );
        assert_eq!(out, EXPECTED);
    }
}
