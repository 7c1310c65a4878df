//! Masscan's `-oJ` JSON output (array or NDJSON) and `-oD` lines, which IVRE
//! cannot read, give the same records as the XML path (spec scans.md §2.4):
//! banners become fake Nmap scripts ([`crate::scan::assemble::banner_script`]).

use super::json_lines::JsonLines;
use super::HostReader;
use crate::reader::{Position, RecordReader};
use crate::scan::assemble::{apply_effects, banner_script, canonical_ip, process_port_script};
use crate::scan::error::{ParseError, ParseErrorKind};
use crate::scan::record::{epoch_to_datetime, parse_datetime, Host, Port};
use crate::scan::scripts::Effects;
use serde_json::{json, Map, Value};
use std::io::BufRead;

/// What is wrong with one Masscan JSON object: it is skipped, the reading
/// goes on.
#[derive(Debug, thiserror::Error)]
pub enum MasscanJsonError {
    #[error("Masscan JSON: expected an object")]
    NotAnObject,
    #[error("Masscan JSON: \"ip\" is not a string")]
    IpNotAString,
    #[error("Masscan JSON: invalid address {0:?}")]
    InvalidAddress(String),
    #[error("Masscan JSON: a port without a number")]
    PortWithoutNumber,
}

/// Reader of Masscan `-oJ` output: a JSON array written one object per line
/// (with `,` separators and a final `{"finished": 1}` in old versions), or
/// NDJSON; also `-oD` lines (`{"ip", "timestamp", "port", "proto",
/// "rec_type": "status"|"banner", "data": {...}}`). One record per object, as
/// the XML path gives one per `<host>`.
pub struct MasscanJsonReader<R: BufRead> {
    lines: JsonLines<R>,
    /// Seen `[` (a JSON array) / its closing `]`.
    array: bool,
    closed: bool,
}

impl<R: BufRead> MasscanJsonReader<R> {
    pub fn new(input: R) -> Self {
        MasscanJsonReader {
            lines: JsonLines::new(input),
            array: false,
            closed: false,
        }
    }

    fn read_object(&mut self) -> Result<Option<Host>, ParseError> {
        loop {
            let more = self
                .lines
                .next_line()
                .map_err(|e| self.error_here(ParseErrorKind::Io, e.to_string()))?;
            if !more {
                if self.array && !self.closed {
                    return Err(
                        self.error_here(ParseErrorKind::Truncated, "input cut short: no closing ]")
                    );
                }
                return Ok(None);
            }
            let mut t = self.lines.text();
            if t.starts_with('[') {
                self.array = true;
            }
            if t.ends_with(']') {
                self.closed = true;
            }
            t = t
                .trim_start_matches(['[', ','])
                .trim_end_matches([']', ','])
                .trim();
            if t.is_empty() {
                continue;
            }
            let Value::Object(obj) = self.lines.parse(t, "Masscan JSON")? else {
                return Err(self.error_here(
                    ParseErrorKind::Format,
                    MasscanJsonError::NotAnObject.to_string(),
                ));
            };
            if !obj.contains_key("ip") {
                // {"finished": 1} and the like
                continue;
            }
            return masscan_json_host(&obj)
                .map(Some)
                .map_err(|e| self.error_here(ParseErrorKind::Format, e.to_string()));
        }
    }
}

impl<R: BufRead> RecordReader for MasscanJsonReader<R> {
    type Record = Host;
    type Error = ParseError;

    fn next_record(&mut self) -> Result<Option<Host>, ParseError> {
        self.read_object()
    }

    /// An object that is not a valid record is skipped; JSON syntax errors
    /// end the file.
    fn is_fatal(&self, error: &ParseError) -> bool {
        error.kind != ParseErrorKind::Format
    }

    /// The line read last (its start).
    fn position(&self) -> Position {
        self.lines.position()
    }
}

impl<R: BufRead> HostReader for MasscanJsonReader<R> {}

/// Converts one Masscan `-oJ` object to a host record.
pub fn masscan_json_host(obj: &Map<String, Value>) -> Result<Host, MasscanJsonError> {
    let ip = obj
        .get("ip")
        .and_then(Value::as_str)
        .ok_or(MasscanJsonError::IpNotAString)?;
    let addr = canonical_ip(ip).ok_or_else(|| MasscanJsonError::InvalidAddress(ip.to_string()))?;
    let mut host = Host::new(addr);
    host.state = Some("up".into());
    let time = match obj.get("timestamp") {
        Some(Value::String(s)) => s
            .trim()
            .parse::<f64>()
            .ok()
            .and_then(epoch_to_datetime)
            .or_else(|| parse_datetime(s)),
        Some(Value::Number(n)) => n.as_f64().and_then(epoch_to_datetime),
        _ => None,
    };
    host.starttime = time;
    host.endtime = time;
    let mut effects = Effects::default();
    let mut ports: Vec<Port> = Vec::new();
    // `-oD` lines: {"ip", "timestamp", "port", "proto", "rec_type", "data": {...}}
    let od_entry = obj.get("rec_type").map(|kind| {
        let data = obj.get("data").cloned().unwrap_or(json!({}));
        let mut e = json!({"port": obj.get("port").cloned().unwrap_or(Value::Null),
                           "proto": obj.get("proto").cloned().unwrap_or(json!("tcp"))});
        if kind == "banner" {
            e["service"] = json!({"name": data.get("service_name").cloned().unwrap_or(json!("unknown")),
                                  "banner": data.get("banner").cloned().unwrap_or(json!(""))});
        } else {
            for (k, v) in data.as_object().into_iter().flatten() {
                e[k] = v.clone();
            }
        }
        e
    });
    let entries: Vec<&Value> = match &od_entry {
        Some(e) => vec![e],
        None => obj
            .get("ports")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .collect(),
    };
    for p in entries {
        let Some(pnum) = p.get("port").and_then(Value::as_i64) else {
            return Err(MasscanJsonError::PortWithoutNumber);
        };
        let proto = p.get("proto").and_then(Value::as_str).unwrap_or("tcp");
        let idx = match ports
            .iter()
            .position(|x| x.port == pnum && x.protocol.as_deref() == Some(proto))
        {
            Some(i) => i,
            None => {
                ports.push(Port::new(proto, pnum));
                ports.len() - 1
            }
        };
        let port = &mut ports[idx];
        if let Some(s) = p.get("status").and_then(Value::as_str) {
            port.state_state = Some(s.to_string());
        }
        if let Some(r) = p.get("reason").and_then(Value::as_str) {
            port.state_reason = Some(r.to_string());
        }
        if let Some(t) = p.get("ttl").and_then(Value::as_i64) {
            port.state_reason_ttl = Some(t);
        }
        if let Some(svc) = p.get("service").and_then(Value::as_object) {
            if port.state_state.is_none() {
                port.state_state = Some("open".into());
                port.state_reason = Some("response".into());
            }
            let name = svc.get("name").and_then(Value::as_str).unwrap_or("unknown");
            let banner = svc.get("banner").and_then(Value::as_str).unwrap_or("");
            let script = banner_script(port, name, banner);
            process_port_script(port, script, &mut effects);
        }
    }
    host.ports = Some(ports);
    apply_effects(&mut host, effects);
    host.recompute_openports();
    Ok(host)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reader::Records;

    #[test]
    fn json_array_cut_short() {
        let input = "[\n{\"ip\": \"10.0.0.1\", \"timestamp\": \"1\", \"ports\": [{\"port\": 1, \"proto\": \"tcp\", \"status\": \"open\"}]}\n,\n{\"ip\": \"10.0.0.2\", \"timest";
        let out: Vec<_> = Records::new(MasscanJsonReader::new(input.as_bytes())).collect();
        assert_eq!(out.len(), 2);
        assert!(out[0].is_ok());
        let e = out[1].as_ref().unwrap_err();
        assert_eq!((e.kind, e.line), (ParseErrorKind::Truncated, 4), "{e}");
        let input = "[\n{\"ip\": \"10.0.0.1\", \"timestamp\": \"1\", \"ports\": []}\n,\n";
        let out: Vec<_> = Records::new(MasscanJsonReader::new(input.as_bytes())).collect();
        assert_eq!(out[1].as_ref().unwrap_err().kind, ParseErrorKind::Truncated);
    }

    #[test]
    fn json_array_and_ndjson() {
        let input = "[\n{   \"ip\": \"10.0.0.1\",   \"timestamp\": \"1610324225\", \"ports\": [ {\"port\": 445, \"proto\": \"tcp\", \"status\": \"open\", \"reason\": \"syn-ack\", \"ttl\": 127} ] }\n,\n{   \"ip\": \"10.0.0.1\",   \"timestamp\": \"1610324229\", \"ports\": [ {\"port\": 22, \"proto\": \"tcp\", \"service\": {\"name\": \"ssh\", \"banner\": \"SSH-2.0-OpenSSH_8.4\"} } ] }\n,\n{\"finished\": 1}\n]\n";
        let hosts: Vec<Host> = Records::new(MasscanJsonReader::new(input.as_bytes()))
            .map(Result::unwrap)
            .collect();
        assert_eq!(hosts.len(), 2);
        assert_eq!(hosts[0].addr, "10.0.0.1");
        assert_eq!(
            hosts[0].ports.as_ref().unwrap()[0].state_reason_ttl,
            Some(127)
        );
        let p = &hosts[1].ports.as_ref().unwrap()[0];
        let s = &p.scripts.as_ref().unwrap()[0];
        assert_eq!(s.id, "banner");
        assert_eq!(s.output, "SSH-2.0-OpenSSH_8.4");
        assert_eq!(hosts[1].openports.as_ref().unwrap().count, 1);
        let nd = "{\"ip\": \"10.0.0.2\", \"timestamp\": \"1610324225\", \"ports\": [{\"port\": 80, \"proto\": \"tcp\", \"status\": \"open\"}]}\n";
        let hosts: Vec<Host> = Records::new(MasscanJsonReader::new(nd.as_bytes()))
            .map(Result::unwrap)
            .collect();
        assert_eq!(hosts.len(), 1);
        let od = "{\"ip\":\"10.0.0.3\",\"timestamp\":\"1610324225\",\"port\":80,\"proto\":\"tcp\",\"rec_type\":\"status\",\"data\":{\"status\":\"open\",\"reason\":\"syn-ack\",\"ttl\":64}}\n{\"ip\":\"10.0.0.3\",\"timestamp\":\"1610324226\",\"port\":80,\"proto\":\"tcp\",\"rec_type\":\"banner\",\"data\":{\"service_name\":\"title\",\"banner\":\"Hello\"}}\n";
        let hosts: Vec<Host> = Records::new(MasscanJsonReader::new(od.as_bytes()))
            .map(Result::unwrap)
            .collect();
        assert_eq!(hosts.len(), 2);
        let p = &hosts[0].ports.as_ref().unwrap()[0];
        assert_eq!((p.port, p.state_reason_ttl), (80, Some(64)));
        let s = &hosts[1].ports.as_ref().unwrap()[0]
            .scripts
            .as_ref()
            .unwrap()[0];
        assert_eq!((s.id.as_str(), s.output.as_str()), ("http-title", "Hello"));
    }
}
