//! IVRE's JSON host records, one per line (`ivre scancli --json`), with old
//! schema versions migrated on the fly (spec scans.md §1.11 and §2.5).
//!
//! Structural migrations (on the JSON value, before typing): integer IPs
//! become strings (`addr`, hop `ipaddr`, `state_reason_ip`), `infos.loc`
//! becomes `infos.coordinates` [lat, lon], host `scripts` move to the port
//! `-1`, the old `extraports` `[total, {reason: n}]` shape is rewritten,
//! `service_*` fields of `method=table` services are dropped, structured
//! values stored under the script id move to the alias key (`http-ntlm-info`
//! → `ntlm-info`), `synack_honeypot` becomes a tag, `scanid` is dropped.
//!
//! Scripts of records older than schema 19 are then run through the script
//! catalogue again ([`super::scripts::process`], given the stored shapes,
//! which are close to Nmap's own), as if freshly parsed: certificates are
//! re-parsed, HASSH added, `smb-os-discovery` split, `*-ntlm-info` renamed,
//! lists built; the derived hostnames, CPEs and service fields are applied.
//! (IVRE's migrations add only the `ntlm` hostnames; the other derived data
//! is a superset of IVRE's.) Records at schema 19 or later only get the
//! script shape rewrites of [`migrate`] (ssh-hostkey bits, lists...).
//!
//! `infos` is kept (IVRE's v22 drops it from nmap records). The result is at
//! [`SCHEMA_VERSION`] with `openports` recomputed.

use super::json_lines::JsonLines;
use super::HostReader;
use crate::reader::{Position, RecordReader};
use crate::scan::assemble::{apply_effects, process_port_script};
use crate::scan::error::{ParseError, ParseErrorKind};
use crate::scan::honeypot::clean_synack_honeypot;
use crate::scan::record::{Host, SCHEMA_VERSION};
use crate::scan::script::alias_key;
use crate::scan::scripts::{rename_s7, Effects};
use serde_json::{json, Map, Value};
use std::io::BufRead;
use std::net::{Ipv4Addr, Ipv6Addr};

/// What makes an IVRE JSON record unreadable: it is skipped, the reading
/// goes on.
#[derive(Debug, thiserror::Error)]
pub enum IvreRecordError {
    #[error("an IVRE JSON record must be an object")]
    NotAnObject,
    #[error("record without \"addr\"")]
    NoAddress,
    #[error("invalid integer address")]
    InvalidIntegerAddress,
    #[error("invalid IVRE record: {0}")]
    Invalid(#[source] serde_json::Error),
}

/// Reader of IVRE JSON lines.
pub struct IvreJsonReader<R: BufRead> {
    lines: JsonLines<R>,
}

impl<R: BufRead> IvreJsonReader<R> {
    pub fn new(input: R) -> Self {
        IvreJsonReader {
            lines: JsonLines::new(input),
        }
    }

    fn read_line(&mut self) -> Result<Option<Host>, ParseError> {
        loop {
            let more = self.lines.next_line().map_err(|e| {
                ParseError::new(ParseErrorKind::Io, self.lines.line() + 1, 1, e.to_string())
            })?;
            if !more {
                return Ok(None);
            }
            let t = self.lines.text();
            if t.is_empty() {
                continue;
            }
            let v = self.lines.parse(t, "JSON")?;
            return host_from_json(v)
                .map(Some)
                .map_err(|e| self.error_here(ParseErrorKind::Format, e.to_string()));
        }
    }
}

impl<R: BufRead> RecordReader for IvreJsonReader<R> {
    type Record = Host;
    type Error = ParseError;

    fn next_record(&mut self) -> Result<Option<Host>, ParseError> {
        self.read_line()
    }

    /// Each line stands alone: a bad line is skipped, unless the input
    /// failed or ends in the middle of it.
    fn is_fatal(&self, error: &ParseError) -> bool {
        matches!(error.kind, ParseErrorKind::Io | ParseErrorKind::Truncated)
    }

    /// The line read last (its start).
    fn position(&self) -> Position {
        self.lines.position()
    }
}

impl<R: BufRead> HostReader for IvreJsonReader<R> {}

/// Converts one IVRE JSON record (any schema version) to a current host.
pub fn host_from_json(v: Value) -> Result<Host, IvreRecordError> {
    let Value::Object(mut rec) = v else {
        return Err(IvreRecordError::NotAnObject);
    };
    rec.remove("_id");
    // recomputed below; an odd old shape must not make the record unreadable
    rec.remove("openports");
    let version = rec
        .get("schema_version")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    // Old scripts are given to the catalogue in their stored shape (close
    // to Nmap's own); recent ones only get the structural rewrites.
    migrate_with(&mut rec, version >= REPROCESS_BELOW)?;
    let mut host: Host =
        serde_json::from_value(Value::Object(rec)).map_err(IvreRecordError::Invalid)?;
    if version < REPROCESS_BELOW {
        reprocess_scripts(&mut host);
    }
    host.recompute_openports();
    // v19 -> 20: SYN-ACK honeypots lose their fake ports.
    if version < 20 {
        clean_synack_honeypot(&mut host);
    }
    Ok(host)
}

/// Records older than this schema version get their scripts run through the
/// script catalogue again (IVRE's migrations re-parse certificates, add
/// HASSH, split smb-os-discovery, derive ntlm hostnames...).
const REPROCESS_BELOW: u64 = 19;

/// Re-runs the scripts of an old record through the catalogue. IVRE's
/// migrations rebuild structured values but drop no script and derive no
/// new host data, except the `ntlm` host names of the ntlm-info migration:
/// other effects (cert host names, CPEs) are dropped, so that counts match
/// IVRE's.
fn reprocess_scripts(host: &mut Host) {
    let mut kept = Effects::default();
    for port in host.ports.iter_mut().flatten() {
        let Some(scripts) = port.scripts.take() else {
            continue;
        };
        port.scripts = Some(Vec::new());
        for s in scripts {
            let mut effects = Effects::default();
            let before = port.scripts.as_ref().map_or(0, Vec::len);
            // IVRE's ignore rules apply at XML ingest only: keep what they drop.
            let original = s.clone();
            process_port_script(port, s, &mut effects);
            if port.scripts.as_ref().map_or(0, Vec::len) == before {
                port.scripts.get_or_insert_with(Vec::new).push(original);
            }
            kept.hostnames.extend(
                effects
                    .hostnames
                    .into_iter()
                    .filter(|(_, kind)| kind == "ntlm"),
            );
        }
    }
    apply_effects(host, kept);
}

fn int_to_ip(v: &Value) -> Option<String> {
    let n = v
        .as_u64()
        .map(u128::from)
        .or_else(|| v.as_str().and_then(|s| s.parse::<u128>().ok()))?;
    Some(if n <= u128::from(u32::MAX) {
        Ipv4Addr::from(n as u32).to_string()
    } else {
        Ipv6Addr::from(n).to_string()
    })
}

fn fix_ip(v: &mut Value) {
    if v.is_number() {
        if let Some(s) = int_to_ip(v) {
            *v = Value::String(s);
        }
    }
}

/// Migrates a record in place to [`SCHEMA_VERSION`] (script shapes included;
/// [`host_from_json`] also runs old scripts through the catalogue).
pub fn migrate(rec: &mut Map<String, Value>) -> Result<(), IvreRecordError> {
    migrate_with(rec, true)
}

fn migrate_with(rec: &mut Map<String, Value>, script_shapes: bool) -> Result<(), IvreRecordError> {
    let version = rec
        .get("schema_version")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    if version >= u64::from(SCHEMA_VERSION) {
        return Ok(());
    }
    // addresses (v10 -> 11)
    match rec.get_mut("addr") {
        Some(a) if a.is_number() => {
            let s = int_to_ip(a).ok_or(IvreRecordError::InvalidIntegerAddress)?;
            *a = Value::String(s);
        }
        Some(Value::String(_)) => {}
        _ => return Err(IvreRecordError::NoAddress),
    }
    if let Some(Value::Array(traces)) = rec.get_mut("traces") {
        for t in traces {
            if let Some(Value::Array(hops)) = t.get_mut("hops") {
                for h in hops {
                    if let Some(ip) = h.get_mut("ipaddr") {
                        fix_ip(ip);
                    }
                }
            }
        }
    }
    if let Some(Value::Object(infos)) = rec.get_mut("infos") {
        if let Some(Value::Object(loc)) = infos.remove("loc") {
            if let Some(Value::Array(c)) = loc.get("coordinates") {
                if c.len() == 2 {
                    infos.insert("coordinates".into(), json!([c[1], c[0]]));
                }
            }
        }
    }
    // host scripts -> port -1 (v3 -> 5)
    if let Some(Value::Array(scripts)) = rec.remove("scripts") {
        let ports = rec.entry("ports").or_insert_with(|| Value::Array(vec![]));
        if let Value::Array(ports) = ports {
            ports.push(json!({"port": -1, "scripts": scripts}));
        }
    }
    // extraports [total, {reason: n}] -> {total, reasons} (v4 -> 5)
    if let Some(Value::Object(extra)) = rec.get_mut("extraports") {
        for (_, v) in extra.iter_mut() {
            if let Value::Array(a) = v {
                let total = a.first().cloned().unwrap_or(json!(0));
                let reasons = a.get(1).cloned().unwrap_or(json!({}));
                *v = json!({"total": total, "reasons": reasons});
            }
        }
    }
    // ports
    if let Some(Value::Array(ports)) = rec.get_mut("ports") {
        for p in ports.iter_mut() {
            let Value::Object(p) = p else { continue };
            if let Some(ip) = p.get_mut("state_reason_ip") {
                fix_ip(ip);
            }
            if p.get("service_method").and_then(Value::as_str) == Some("table") {
                p.retain(|k, _| !k.starts_with("service_"));
            }
            let proto = p.get("protocol").and_then(Value::as_str).map(String::from);
            // structured values stored under the script id before the alias
            // keys existed (`http-ntlm-info`, `smb-vuln-*`...)
            if let Some(Value::Array(scripts)) = p.get_mut("scripts") {
                for s in scripts.iter_mut() {
                    if let Value::Object(s) = s {
                        let id = s
                            .get("id")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_string();
                        let key = alias_key(&id);
                        if key != id && !s.contains_key(key) {
                            if let Some(v) = s.remove(&id) {
                                s.insert(key.to_string(), v);
                            }
                        }
                    }
                }
            }
            if !script_shapes {
                continue;
            }
            if let Some(Value::Array(scripts)) = p.get_mut("scripts") {
                for s in scripts.iter_mut() {
                    if let Value::Object(s) = s {
                        migrate_script(s, proto.as_deref());
                    }
                }
            }
        }
    }
    // synack_honeypot -> tag (v19 -> 20)
    if let Some(v) = rec.remove("synack_honeypot") {
        if v.as_bool().unwrap_or(false) {
            let tags = rec.entry("tags").or_insert_with(|| json!([]));
            if let Value::Array(t) = tags {
                t.push(
                    json!({"value": "Honeypot", "type": "warning", "info": ["SYN+ACK honeypot"]}),
                );
            }
        }
    }
    rec.remove("scanid");
    rec.insert("schema_version".into(), json!(SCHEMA_VERSION));
    Ok(())
}

fn take_obj(s: &mut Map<String, Value>, key: &str) -> Option<Map<String, Value>> {
    match s.get(key) {
        Some(Value::Object(_)) => match s.remove(key) {
            Some(Value::Object(o)) => Some(o),
            _ => None,
        },
        _ => None,
    }
}

fn migrate_script(s: &mut Map<String, Value>, _proto: Option<&str>) {
    let id = s
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    // *-ntlm-info -> ntlm-info (v18 -> 19)
    if id.ends_with("-ntlm-info") {
        let prefix = id.trim_end_matches("-ntlm-info").to_string();
        if let Some(mut data) = take_obj(s, &id) {
            data.insert("protocol".into(), json!(prefix));
            s.insert("ntlm-info".into(), Value::Object(data));
        }
        s.insert("id".into(), json!("ntlm-info"));
        return;
    }
    match id.as_str() {
        "ssh-hostkey" => {
            if let Some(Value::Array(keys)) = s.get_mut("ssh-hostkey") {
                for k in keys {
                    if let Some(b) = k.get_mut("bits") {
                        if let Some(n) = b.as_str().and_then(|x| x.trim().parse::<i64>().ok()) {
                            *b = json!(n);
                        }
                    }
                }
            }
        }
        "http-server-header" => {
            if let Some(o) = take_obj(s, "http-server-header") {
                let list: Vec<Value> = o.into_iter().map(|(_, v)| v).collect();
                s.insert("http-server-header".into(), Value::Array(list));
            } else if let Some(Value::String(x)) = s.get("http-server-header").cloned() {
                s.insert("http-server-header".into(), json!([x]));
            }
        }
        "ssl-cert" | "ssl-cacert" => {
            if let Some(o) = take_obj(s, "ssl-cert") {
                s.insert("ssl-cert".into(), json!([o]));
            }
        }
        "fcrdns" => {
            if let Some(o) = take_obj(s, "fcrdns") {
                let list: Vec<Value> = o
                    .into_iter()
                    .map(|(k, v)| {
                        let mut e = Map::new();
                        e.insert("name".into(), json!(k.replace('_', ".")));
                        if let Value::Object(v) = v {
                            e.extend(v);
                        }
                        Value::Object(e)
                    })
                    .collect();
                s.insert("fcrdns".into(), Value::Array(list));
            }
        }
        "rpcinfo" => {
            if let Some(o) = take_obj(s, "rpcinfo") {
                let mut list = Vec::new();
                for (prog, protos) in o {
                    let Value::Object(protos) = protos else {
                        continue;
                    };
                    for (proto, info) in protos {
                        let mut e = Map::new();
                        e.insert(
                            "program".into(),
                            prog.parse::<i64>().map(|n| json!(n)).unwrap_or(json!(prog)),
                        );
                        e.insert("protocol".into(), json!(proto));
                        if let Value::Object(info) = info {
                            for (k, v) in info {
                                let v = match (&*k, &v) {
                                    ("port", Value::String(p)) => {
                                        p.parse::<i64>().map(|n| json!(n)).unwrap_or(v)
                                    }
                                    _ => v,
                                };
                                e.insert(k, v);
                            }
                        }
                        list.push(Value::Object(e));
                    }
                }
                s.insert("rpcinfo".into(), Value::Array(list));
            }
        }
        "ms-sql-info" => {
            if let Some(o) = take_obj(s, "ms-sql-info") {
                let list: Vec<Value> = o
                    .into_iter()
                    .map(|(k, v)| {
                        let mut e = Map::new();
                        e.insert("Instance".into(), json!(k.replace('_', ".")));
                        if let Value::Object(v) = v {
                            e.extend(v);
                        }
                        Value::Object(e)
                    })
                    .collect();
                s.insert("ms-sql-info".into(), Value::Array(list));
            }
        }
        "s7-info" => {
            if let Some(o) = take_obj(s, "s7-info") {
                s.insert("s7-info".into(), Value::Object(rename_s7(o)));
            }
        }
        _ => {}
    }
    // vulns {vulnid: table} -> [{id, ...}] (v5 -> 8)
    if let Some(o) = take_obj(s, "vulns") {
        let list: Vec<Value> = o
            .into_iter()
            .map(|(k, v)| match v {
                Value::Object(mut v) => {
                    v.entry("id").or_insert(json!(k));
                    Value::Object(v)
                }
                other => json!({"id": k, "value": other}),
            })
            .collect();
        s.insert("vulns".into(), Value::Array(list));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema0_migration() {
        let v = json!({"_id": "x", "addr": 3699437243u64, "scripts": [{"id": "fcrdns", "output": "o",
            "fcrdns": {"a-b_example_com": {"status": "pass"}}}],
            "extraports": {"closed": [985, {"resets": 985}]},
            "infos": {"loc": {"type": "Point", "coordinates": [121.0, 23.5]}},
            "traces": [{"protocol": "tcp", "port": 80, "hops": [{"ttl": 1, "ipaddr": 391911426, "rtt": 0.4}]}],
            "ports": [{"protocol": "tcp", "port": 22, "state_state": "open", "scripts": [
                {"id": "ssh-hostkey", "output": "\n  1040 63:b1:2e:98:ae:6a:e3:80:18:a6:4d:ff:fc:4c:88:8a (RSA)",
                 "ssh-hostkey": [{"type": "ssh-rsa", "bits": "1040", "key": "QUFBQQ==", "fingerprint": "63b12e98ae6ae38018a64dfffc4c888a"}]},
                {"id": "http-ntlm-info", "output": "\n  Target_Name: X", "http-ntlm-info": {"Target_Name": "X"}}]}]});
        let h = host_from_json(v).unwrap();
        let out = serde_json::to_value(&h).unwrap();
        assert_eq!(out["addr"], "220.128.238.187");
        assert_eq!(out["traces"][0]["hops"][0]["ipaddr"], "23.92.24.2");
        assert_eq!(out["infos"]["coordinates"], json!([23.5, 121.0]));
        assert_eq!(
            out["extraports"]["closed"],
            json!({"total": 985, "reasons": {"resets": 985}})
        );
        assert_eq!(out["ports"][1]["port"], -1);
        // rebuilt as a list by the catalogue
        assert_eq!(out["ports"][1]["scripts"][0]["fcrdns"][0]["status"], "pass");
        assert_eq!(
            out["ports"][0]["scripts"][0]["ssh-hostkey"][0]["bits"],
            1040
        );
        assert_eq!(out["ports"][0]["scripts"][1]["id"], "ntlm-info");
        assert_eq!(
            out["ports"][0]["scripts"][1]["ntlm-info"]["protocol"],
            "http"
        );
        assert_eq!(out["openports"]["count"], 1);
        assert_eq!(out["schema_version"], 22);
        assert!(out.get("_id").is_none());
    }
}
