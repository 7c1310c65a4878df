//! The `scan_*` tables as the loader writes them: each column named once,
//! next to the field of the typed record it comes from.

use crate::copy::{copy_table, CopyBuffer};
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
    /// The document to store ([`stored_doc`]).
    pub doc: &'r Value,
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

copy_table! {
    ScanHost = "scan_host" for HostRow<'r> {
        "id" => |b, r| b.int(r.id),
        "file_id" => |b, r| b.int(r.file_id),
        "addr" => |b, r| b.text(&r.host.addr),
        "source" => |b, r| b.opt_text(single_source(r.host)),
        "categories" => |b, r| b.text_array(r.host.categories.iter().flatten()),
        "state" => |b, r| b.opt_text(r.host.state.as_deref()),
        "state_reason" => |b, r| b.opt_text(r.host.state_reason.as_deref()),
        "state_reason_ttl" => |b, r| b.opt_int(r.host.state_reason_ttl),
        "start_time" => |b, r| b.opt_text(utc_time(&r.host.starttime).as_deref()),
        "end_time" => |b, r| b.opt_text(utc_time(&r.host.endtime).as_deref()),
        "open_port_count" => |b, r| b.int(open_port_count(r.host)),
        "schema_version" => |b, r| b.opt_int(r.host.schema_version.map(i64::from)),
        "doc" => |b, r| b.json(r.doc),
        "open_ports" => |b, r| b.text_array(open_ports(r.host)),
        "services" => |b, r| b.text_array(port_values(r.host, |p| p.service_name.as_deref())),
        "products" => |b, r| b.text_array(port_values(r.host, |p| p.service_product.as_deref())),
    }
}

copy_table! {
    ScanPort = "scan_port" for Child<'r, Port> {
        "host_id" => |b, r| b.int(r.host_id),
        "idx" => |b, r| b.int(r.idx as i64),
        "protocol" => |b, r| b.opt_text(r.item.protocol.as_deref()),
        "port" => |b, r| b.int(r.item.port),
        "state" => |b, r| b.opt_text(r.item.state_state.as_deref()),
        "state_reason" => |b, r| b.opt_text(r.item.state_reason.as_deref()),
        "state_reason_ttl" => |b, r| b.opt_int(r.item.state_reason_ttl),
        "service_name" => |b, r| b.opt_text(r.item.service_name.as_deref()),
        "service_product" => |b, r| b.opt_text(r.item.service_product.as_deref()),
        "service_version" => |b, r| b.opt_text(r.item.service_version.as_deref()),
        "service_extrainfo" => |b, r| b.opt_text(r.item.service_extrainfo.as_deref()),
        "service_tunnel" => |b, r| b.opt_text(r.item.service_tunnel.as_deref()),
        "service_ostype" => |b, r| b.opt_text(r.item.service_ostype.as_deref()),
        "service_devicetype" => |b, r| b.opt_text(r.item.service_devicetype.as_deref()),
        "service_hostname" => |b, r| b.opt_text(r.item.service_hostname.as_deref()),
        "service_conf" => |b, r| b.opt_int(r.item.service_conf),
    }
}

copy_table! {
    ScanScript = "scan_script" for ScriptRow<'r> {
        "host_id" => |b, r| b.int(r.host_id),
        "port_idx" => |b, r| b.int(r.port_idx as i64),
        "idx" => |b, r| b.int(r.idx as i64),
        "port" => |b, r| b.int(r.port),
        "name" => |b, r| b.text(&r.script.id),
        "output" => |b, r| b.text(&r.script.output),
        "data" => |b, r| b.opt(ScriptData::of(r.script), |b, d| b.json(&d)),
    }
}

copy_table! {
    ScanHostname = "scan_hostname" for Child<'r, Hostname> {
        "host_id" => |b, r| b.int(r.host_id),
        "idx" => |b, r| b.int(r.idx as i64),
        "name" => |b, r| b.text(&r.item.name),
        "type" => |b, r| b.text(&r.item.kind),
        "domains" => |b, r| b.text_array(r.item.domains.iter().flatten()),
    }
}

copy_table! {
    ScanHop = "scan_hop" for HopRow<'r> {
        "host_id" => |b, r| b.int(r.host_id),
        "trace_idx" => |b, r| b.int(r.trace_idx as i64),
        "idx" => |b, r| b.int(r.idx as i64),
        "protocol" => |b, r| b.opt_text(r.trace.protocol.as_deref()),
        "port" => |b, r| b.opt_int(r.trace.port),
        "ttl" => |b, r| b.opt_int(r.hop.ttl),
        "ipaddr" => |b, r| b.opt_text(valid_ip(r.hop.ipaddr.as_deref())),
        "rtt" => |b, r| b.opt_float(number(&r.hop.rtt)),
        "host" => |b, r| b.opt_text(r.hop.host.as_deref()),
        "domains" => |b, r| b.opt(r.hop.domains.as_ref(), CopyBuffer::text_array),
    }
}

copy_table! {
    ScanOsmatch = "scan_osmatch" for Child<'r, OsMatch> {
        "host_id" => |b, r| b.int(r.host_id),
        "idx" => |b, r| b.int(r.idx as i64),
        "name" => |b, r| b.text(r.item.name.as_deref().unwrap_or_default()),
        "accuracy" => |b, r| b.opt_int(integer(r.item.accuracy.as_deref())),
    }
}

copy_table! {
    ScanOsclass = "scan_osclass" for Child<'r, OsClass> {
        "host_id" => |b, r| b.int(r.host_id),
        "idx" => |b, r| b.int(r.idx as i64),
        "type" => |b, r| b.opt_text(r.item.kind.as_deref()),
        "vendor" => |b, r| b.opt_text(r.item.vendor.as_deref()),
        "osfamily" => |b, r| b.opt_text(r.item.osfamily.as_deref()),
        "osgen" => |b, r| b.opt_text(r.item.osgen.as_deref()),
        "accuracy" => |b, r| b.opt_int(integer(r.item.accuracy.as_deref())),
    }
}

copy_table! {
    ScanCpe = "scan_cpe" for Child<'r, Cpe> {
        "host_id" => |b, r| b.int(r.host_id),
        "idx" => |b, r| b.int(r.idx as i64),
        "type" => |b, r| b.text(&r.item.kind),
        "vendor" => |b, r| b.text(&r.item.vendor),
        "product" => |b, r| b.text(&r.item.product),
        "version" => |b, r| b.text(&r.item.version),
        "origins" => |b, r| b.text_array(&r.item.origins),
    }
}

copy_table! {
    ScanTag = "scan_tag" for Child<'r, Tag> {
        "host_id" => |b, r| b.int(r.host_id),
        "idx" => |b, r| b.int(r.idx as i64),
        "value" => |b, r| b.text(&r.item.value),
        "type" => |b, r| b.text(&r.item.kind),
        "info" => |b, r| b.text_array(r.item.info.iter().flatten()),
    }
}

/// `scan_script.data`: the members of the script other than `id` and
/// `output` (its structured value under its key, and any other member).
struct ScriptData<'s>(&'s Script);

impl<'s> ScriptData<'s> {
    /// `None` when the script has no other member (NULL).
    fn of(script: &'s Script) -> Option<Self> {
        let data = ScriptData(script);
        (script.data.is_some() || data.extra().next().is_some()).then_some(data)
    }

    fn extra(&self) -> impl Iterator<Item = (&String, &Value)> {
        self.0
            .extra
            .iter()
            .filter(|(k, _)| *k != "id" && *k != "output")
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

/// The document stored for a host: its IVRE JSON (`verbatim` when given,
/// else the host's own), without the scripts lists of the ports whose
/// scripts the `*_script` rows give back exactly (`ivre_host_doc()` of
/// `sql/0010_scan_scale.sql` puts them back on read). A port whose scripts
/// would not come back as they are keeps them in the document.
pub(crate) fn stored_doc(host: &Host, verbatim: Option<&Value>) -> serde_json::Result<Value> {
    let mut doc = match verbatim {
        Some(v) => v.clone(),
        None => serde_json::to_value(host)?,
    };
    let ports = host.ports.as_deref().unwrap_or_default();
    let Some(Value::Array(doc_ports)) = doc.get_mut("ports") else {
        return Ok(doc);
    };
    if doc_ports.len() != ports.len() {
        return Ok(doc);
    }
    for (port, doc_port) in ports.iter().zip(doc_ports.iter_mut()) {
        let Some(scripts) = port.scripts.as_deref().filter(|s| !s.is_empty()) else {
            continue;
        };
        let Some(obj) = doc_port.as_object_mut() else {
            continue;
        };
        let same = match obj.get("scripts") {
            Some(Value::Array(stored)) => {
                stored.len() == scripts.len()
                    && scripts
                        .iter()
                        .zip(stored)
                        .all(|(s, d)| script_json(s).as_ref() == Some(d))
            }
            _ => false,
        };
        if same {
            obj.remove("scripts");
        }
    }
    Ok(doc)
}

/// A script as `ivre_host_doc()` rebuilds it from its row: `id`, `output`
/// and the members of `data`.
fn script_json(script: &Script) -> Option<Value> {
    let mut obj = serde_json::Map::new();
    obj.insert("id".into(), Value::String(script.id.clone()));
    obj.insert("output".into(), Value::String(script.output.clone()));
    if let Some(data) = ScriptData::of(script) {
        match serde_json::to_value(data).ok()? {
            Value::Object(m) => obj.extend(m),
            _ => return None,
        }
    }
    Some(Value::Object(obj))
}

/// `open_ports`: `protocol/port` of the open ports, distinct and sorted.
pub(crate) fn open_ports(host: &Host) -> Vec<String> {
    let mut out: Vec<String> = host
        .ports
        .iter()
        .flatten()
        .filter(|p| p.port != -1 && p.state_state.as_deref() == Some("open"))
        .map(|p| format!("{}/{}", p.protocol.as_deref().unwrap_or_default(), p.port))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// `services`, `products`: a field of the ports (any state), distinct and
/// sorted.
pub(crate) fn port_values<'h>(
    host: &'h Host,
    field: impl Fn(&'h Port) -> Option<&'h str>,
) -> Vec<&'h str> {
    let mut out: Vec<&str> = host
        .ports
        .iter()
        .flatten()
        .filter(|p| p.port != -1)
        .filter_map(field)
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}

/// IVRE's naive UTC time as a `timestamptz` literal; NULL for years that
/// do not have four digits.
pub(crate) fn utc_time(t: &Option<NaiveDateTime>) -> Option<String> {
    let t = t.as_ref().filter(|t| (0..=9999).contains(&t.year()))?;
    Some(format!("{}+00", format_datetime(t)))
}

/// `scan_host.source`: NULL unless the host has exactly one source.
fn single_source(host: &Host) -> Option<&str> {
    match &host.source {
        Some(Source::One(source)) => Some(source),
        Some(Source::Many(_)) | None => None,
    }
}

pub(crate) fn open_port_count(host: &Host) -> i64 {
    let count = host.openports.as_ref().map(|o| o.count);
    count.and_then(|c| i64::try_from(c).ok()).unwrap_or(0)
}

/// A hop's address if it is one (`inet` refuses anything else).
fn valid_ip(addr: Option<&str>) -> Option<&str> {
    addr.filter(|a| a.parse::<IpAddr>().is_ok())
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
    use crate::copy::ColumnSet;

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
        assert!(ScriptData::of(&Script::new("a", "b")).is_none());
        assert_eq!(
            utc_time(&ivre_model::scan::record::parse_datetime(
                "2021-01-11 00:17:05"
            )),
            Some("2021-01-11 00:17:05+00".into())
        );
    }

    /// The COPY text of every table's rows for one host, pinned.
    #[test]
    fn one_host_rows() {
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
                doc: &doc,
            }],
        );
        // The host's own document: its scripts come back from the
        // scan_script rows, so they are not stored in it.
        let own_doc = stored_doc(&host, None).unwrap();
        assert!(own_doc["ports"][0].get("scripts").is_none());
        assert_eq!(own_doc["ports"][0]["port"], 80);
        let mut own = String::new();
        rows::<ScanHost>(
            &mut own,
            &[HostRow {
                id: 8,
                file_id: 3,
                host: &host,
                doc: &own_doc,
            }],
        );
        let json = serde_json::to_string(&own_doc)
            .unwrap()
            .replace('\\', "\\\\");
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
            "8\t3\t10.0.0.1\tS\\\\1\t{\"a\",\"b\\\\\"c\"}\tup\tsyn-ack\t64\t",
            "2021-01-11 00:17:05+00\t0999-01-01 00:00:00+00\t1\t22\t{\"addr\":\"10.0.0.1\"}\t",
            "{\"tcp/80\"}\t{\"http\"}\t{\"nginx\"}\n",
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
