//! Reader of Zeek logs for flows (spec 1.6.1): `conn.log` gives traffic
//! observations, the protocol logs of [`META_DESC`] (`dns`, `http`, `ssl`,
//! `ssh`, `sip`, `snmp`, `modbus`, `rdp`, IVRE's `arp`) give metadata
//! observations; lines of other logs (`files`, `weird`, `x509`, ...) are
//! skipped and counted.
//!
//! Two encodings, line by line: Zeek TSV (header lines as [`ZeekHeader`]
//! reads them; the log type comes from `#path`) and Zeek JSON (one object
//! per line; the log type from its `_path` key, or from the file name
//! through [`ZeekFlowReader::with_path`] and [`log_path_from_file_name`]).
//!
//! TSV cells are typed by `#types`: the unset marker (`-`) is absent, the
//! empty marker (`(empty)`) an empty string or an empty list; `set[..]`,
//! `vector[..]` and `table[..]` are lists split on the set separator;
//! `bool` is `T` / `F`; `count`, `int` and `port` are numbers; everything
//! else is text.
//!
//! Mapping: `src` ← `id.orig_h` (or `pkt_src` for `arp`), `dst` ←
//! `id.resp_h` (or `pkt_dst`); ICMP type and code are in the port columns.
//! A connection lasts from `ts` to `ts + duration`; a protocol log entry is
//! an instant. Protocols: `conn` and `dns` say theirs; `http`, `ssh`,
//! `ssl`, `rdp`, `modbus` are TCP; `snmp` is UDP; `sip` is TCP when a
//! `Via` path says `SIP/2.0/TCP` or `SIP/2.0/TLS`, else UDP; `arp` is ARP.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::BufRead;
use std::net::IpAddr;

use chrono::{DateTime, Duration, TimeZone, Utc};
use serde_json::Value;

use super::error::{invalid, read_line, FlowErrorKind, FlowReadError};
use super::meta::{log_desc, MetaObservation, MetaValue, META_DESC};
use super::record::{
    has_ports, is_icmp, normalize_proto, Counters, Endpoints, Observation, ObservationKind,
};
use crate::escape::lossless_utf8;
use crate::reader::{Position, RecordReader};
use crate::zeeklog::{Directive, ZeekHeader};

/// Whether lines of this log type give flow observations.
pub fn is_flow_log(path: &str) -> bool {
    path == "conn" || META_DESC.iter().any(|d| d.log == path)
}

/// The log type of a Zeek file by its name: `conn.log`, `conn.log.gz`,
/// `dns.00:00:00-01:00:00.log.gz` (rotated) and `/var/log/zeek/http.log`
/// give `conn`, `conn`, `dns` and `http`.
pub fn log_path_from_file_name(name: &str) -> Option<String> {
    let base = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let stem = base.split('.').next().unwrap_or(base);
    (!stem.is_empty() && base.contains(".log")).then(|| stem.to_owned())
}

/// Streaming reader of Zeek logs into flow observations.
pub struct ZeekFlowReader<R> {
    input: R,
    line: u64,
    header: ZeekHeader,
    columns: HashMap<String, usize>,
    default_path: Option<String>,
    skipped: u64,
    buf: Vec<u8>,
}

impl<R: BufRead> ZeekFlowReader<R> {
    pub fn new(input: R) -> Self {
        ZeekFlowReader {
            input,
            line: 0,
            header: ZeekHeader::default(),
            columns: HashMap::new(),
            default_path: None,
            skipped: 0,
            buf: Vec::new(),
        }
    }

    /// The log type of lines that do not say it (JSON lines without
    /// `_path`, TSV lines before any `#path`).
    pub fn with_path(mut self, path: Option<String>) -> Self {
        self.default_path = path;
        self
    }

    /// Data lines of logs that carry no flow information (skipped).
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    fn err(&self, kind: impl Into<FlowErrorKind>) -> FlowReadError {
        FlowReadError::new(self.line, kind)
    }

    fn path(&self) -> Option<&str> {
        self.header.path.as_deref().or(self.default_path.as_deref())
    }

    /// A TSV cell as a typed value (`None`: unset).
    fn cell(&self, raw: &[u8], ty: &str) -> Option<MetaValue> {
        let text: Cow<str> = match std::str::from_utf8(raw) {
            Ok(t) => Cow::Borrowed(t),
            Err(_) => Cow::Owned(lossless_utf8(raw)),
        };
        if text == self.header.unset_field.as_str() {
            return None;
        }
        let container = ["set[", "vector[", "table["]
            .iter()
            .find_map(|p| ty.strip_prefix(p))
            .map(|inner| inner.strip_suffix(']').unwrap_or(inner));
        if let Some(inner) = container {
            if text == self.header.empty_field.as_str() || text.is_empty() {
                return Some(MetaValue::List(Vec::new()));
            }
            let items = text
                .split(self.header.set_separator.as_str())
                .filter(|item| *item != self.header.unset_field)
                .map(|item| scalar(item, inner))
                .collect();
            return Some(MetaValue::List(items));
        }
        if text == self.header.empty_field.as_str() {
            return Some(MetaValue::Str(String::new()));
        }
        Some(scalar(&text, ty))
    }

    fn tsv_line(&mut self, line: &[u8]) -> Result<Option<Observation>, FlowReadError> {
        let Some(path) = self.path() else {
            return Err(self.err(FlowErrorKind::Missing("log type (#path)")));
        };
        if !is_flow_log(path) {
            self.skipped += 1;
            return Ok(None);
        }
        let cells = self.header.split(line);
        if cells.len() != self.header.fields.len() {
            return Err(self.err(FlowErrorKind::FieldCount {
                expected: self.header.fields.len(),
                got: cells.len(),
            }));
        }
        let mut get = |name: &str| {
            let i = *self.columns.get(name)?;
            self.cell(cells[i], self.header.type_of(i))
        };
        observation(path, &mut get).map_err(|k| self.err(k))
    }

    fn json_line(&mut self, line: &[u8]) -> Result<Option<Observation>, FlowReadError> {
        let v: Value =
            serde_json::from_slice(line).map_err(|e| self.err(FlowErrorKind::Json(e)))?;
        let Value::Object(map) = v else {
            return Err(self.err(FlowErrorKind::NotAnObject));
        };
        let fields: HashMap<String, Value> = map
            .into_iter()
            .map(|(k, v)| (k.replace('.', "_"), v))
            .collect();
        let path = match fields.get("_path") {
            Some(Value::String(p)) => p.clone(),
            _ => match self.default_path.clone() {
                Some(p) => p,
                None => return Err(self.err(FlowErrorKind::Missing("log type (_path)"))),
            },
        };
        if !is_flow_log(&path) {
            self.skipped += 1;
            return Ok(None);
        }
        let mut get = |name: &str| fields.get(name).and_then(json_value);
        observation(&path, &mut get).map_err(|k| self.err(k))
    }
}

/// A scalar TSV value of Zeek type `ty`.
fn scalar(text: &str, ty: &str) -> MetaValue {
    match ty {
        "bool" => match text {
            "T" => MetaValue::Bool(true),
            "F" => MetaValue::Bool(false),
            _ => MetaValue::Str(text.to_owned()),
        },
        "count" | "int" | "port" => text
            .parse()
            .map(MetaValue::Int)
            .unwrap_or_else(|_| MetaValue::Str(text.to_owned())),
        _ => MetaValue::Str(text.to_owned()),
    }
}

/// A JSON value as a metadata value (`None`: null).
fn json_value(v: &Value) -> Option<MetaValue> {
    Some(match v {
        Value::Null => return None,
        Value::Bool(b) => MetaValue::Bool(*b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => MetaValue::Int(i),
            None => MetaValue::Str(n.to_string()),
        },
        Value::String(s) => MetaValue::Str(s.clone()),
        Value::Array(items) => MetaValue::List(items.iter().filter_map(json_value).collect()),
        Value::Object(_) => MetaValue::Str(v.to_string()),
    })
}

fn text_of(v: &MetaValue) -> Cow<'_, str> {
    match v {
        MetaValue::Str(s) => Cow::Borrowed(s),
        MetaValue::Int(n) => Cow::Owned(n.to_string()),
        MetaValue::Bool(b) => Cow::Owned(b.to_string()),
        MetaValue::List(_) => Cow::Owned(v.to_json().to_string()),
    }
}

/// Epoch seconds with up to nine decimals, read exactly, or an RFC 3339
/// time (Zeek JSON with ISO timestamps).
pub(crate) fn parse_epoch(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    let (secs, frac) = s.split_once('.').unwrap_or((s, ""));
    if !secs.is_empty()
        && secs.bytes().all(|b| b.is_ascii_digit())
        && frac.bytes().all(|b| b.is_ascii_digit())
    {
        let secs: i64 = secs.parse().ok()?;
        let digits = &frac[..frac.len().min(9)];
        let nanos = if digits.is_empty() {
            0
        } else {
            digits.parse::<u32>().ok()? * 10u32.pow(9 - digits.len() as u32)
        };
        return Utc.timestamp_opt(secs, nanos).single();
    }
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    let f: f64 = s.parse().ok()?;
    if !f.is_finite() {
        return None;
    }
    DateTime::from_timestamp_micros((f * 1e6).round() as i64)
}

type Getter<'a> = dyn FnMut(&str) -> Option<MetaValue> + 'a;

fn time(get: &mut Getter, name: &'static str) -> Result<DateTime<Utc>, FlowErrorKind> {
    let v = get(name).ok_or(FlowErrorKind::Missing(name))?;
    let parsed = match &v {
        MetaValue::Int(n) => Utc.timestamp_opt(*n, 0).single(),
        MetaValue::Str(s) => parse_epoch(s),
        _ => None,
    };
    parsed.ok_or_else(|| invalid(name, text_of(&v)))
}

fn address(get: &mut Getter, names: &[&'static str]) -> Result<IpAddr, FlowErrorKind> {
    for name in names {
        if let Some(v) = get(name) {
            let text = text_of(&v);
            return text.trim().parse().map_err(|_| invalid(name, text));
        }
    }
    Err(FlowErrorKind::Missing(names[0]))
}

fn number(get: &mut Getter, name: &'static str) -> Result<Option<u64>, FlowErrorKind> {
    match get(name) {
        None => Ok(None),
        Some(MetaValue::Int(n)) => u64::try_from(n)
            .map(Some)
            .map_err(|_| invalid(name, n.to_string())),
        Some(MetaValue::Str(s)) if s.is_empty() => Ok(None),
        Some(v) => {
            let text = text_of(&v);
            text.trim()
                .parse()
                .map(Some)
                .map_err(|_| invalid(name, text))
        }
    }
}

fn bounded<T: TryFrom<u64>>(
    get: &mut Getter,
    name: &'static str,
) -> Result<Option<T>, FlowErrorKind> {
    match number(get, name)? {
        None => Ok(None),
        Some(n) => T::try_from(n)
            .map(Some)
            .map_err(|_| invalid(name, n.to_string())),
    }
}

fn endpoints(proto: &str, get: &mut Getter) -> Result<Endpoints, FlowErrorKind> {
    Ok(if has_ports(proto) {
        match bounded::<u16>(get, "id_resp_p")? {
            Some(dport) => Endpoints::Ports {
                sport: bounded(get, "id_orig_p")?,
                dport,
            },
            None => return Err(FlowErrorKind::Missing("id.resp_p")),
        }
    } else if is_icmp(proto) {
        match bounded::<u8>(get, "id_orig_p")? {
            Some(icmp_type) => Endpoints::Icmp {
                icmp_type,
                code: bounded(get, "id_resp_p")?,
            },
            None => return Err(FlowErrorKind::Missing("id.orig_p")),
        }
    } else {
        Endpoints::None
    })
}

/// Whether a SIP entry went over TCP (or TLS): a `Via` path says so.
fn sip_over_tcp(get: &mut Getter) -> bool {
    ["request_path", "response_path"].iter().any(|name| {
        let items = match get(name) {
            Some(MetaValue::List(items)) => items,
            Some(v) => vec![v],
            None => Vec::new(),
        };
        items.iter().any(|item| {
            let t = text_of(item).to_ascii_uppercase();
            t.contains("SIP/2.0/TCP") || t.contains("SIP/2.0/TLS")
        })
    })
}

/// The observation of one entry of the log `path` (`None`: not a flow log).
fn observation(path: &str, get: &mut Getter) -> Result<Option<Observation>, FlowErrorKind> {
    let start = time(get, "ts")?;
    if path == "conn" {
        let proto = match get("proto") {
            Some(v) => normalize_proto(&text_of(&v)),
            None => return Err(FlowErrorKind::Missing("proto")),
        };
        let end = match get("duration") {
            Some(v) => {
                let text = text_of(&v);
                let seconds: f64 = text
                    .trim()
                    .parse()
                    .map_err(|_| invalid("duration", &*text))?;
                if !(0.0..1e9).contains(&seconds) {
                    return Err(invalid("duration", text));
                }
                start
                    .checked_add_signed(Duration::microseconds((seconds * 1e6).round() as i64))
                    .ok_or_else(|| invalid("duration", text))?
            }
            None => start,
        };
        let counters = Counters::observed(
            number(get, "orig_pkts")?.unwrap_or(0),
            number(get, "resp_pkts")?.unwrap_or(0),
            number(get, "orig_ip_bytes")?.unwrap_or(0),
            number(get, "resp_ip_bytes")?.unwrap_or(0),
        );
        return Ok(Some(Observation {
            src: address(get, &["id_orig_h"])?,
            dst: address(get, &["id_resp_h"])?,
            endpoints: endpoints(&proto, get)?,
            proto,
            start,
            end,
            kind: ObservationKind::Traffic(counters),
        }));
    }
    let Some(desc) = log_desc(path) else {
        return Ok(None);
    };
    let proto = match path {
        "arp" => "arp".to_owned(),
        "dns" => match get("proto") {
            Some(v) => normalize_proto(&text_of(&v)),
            None => return Err(FlowErrorKind::Missing("proto")),
        },
        "snmp" => "udp".to_owned(),
        "sip" if !sip_over_tcp(get) => "udp".to_owned(),
        _ => "tcp".to_owned(),
    };
    let src = address(get, &["id_orig_h", "pkt_src"])?;
    let dst = address(get, &["id_resp_h", "pkt_dst"])?;
    let endpoints = endpoints(&proto, get)?;
    let meta = MetaObservation::from_columns(desc, |name| get(name));
    Ok(Some(Observation {
        src,
        dst,
        proto,
        endpoints,
        start,
        end: start,
        kind: ObservationKind::Meta(meta),
    }))
}

impl<R: BufRead> RecordReader for ZeekFlowReader<R> {
    type Record = Observation;
    type Error = FlowReadError;

    fn next_record(&mut self) -> Result<Option<Observation>, FlowReadError> {
        let mut buf = std::mem::take(&mut self.buf);
        let result = loop {
            match read_line(&mut self.input, &mut buf, &mut self.line) {
                Ok(true) => {}
                Ok(false) => break Ok(None),
                Err(e) => break Err(e),
            }
            let parsed = if buf.is_empty() {
                Ok(None)
            } else if buf[0] == b'#' {
                match self.header.apply(&buf) {
                    Ok(Directive::Fields) => {
                        self.columns = self
                            .header
                            .fields
                            .iter()
                            .enumerate()
                            .map(|(i, f)| (f.clone(), i))
                            .collect();
                        Ok(None)
                    }
                    Ok(_) => Ok(None),
                    Err(e) => Err(self.err(e)),
                }
            } else if buf[0] == b'{' {
                self.json_line(&buf)
            } else {
                self.tsv_line(&buf)
            };
            match parsed {
                Ok(None) => continue,
                other => break other,
            }
        };
        self.buf = buf;
        result
    }

    /// A bad line is skipped; a read error ends the file.
    fn is_fatal(&self, error: &FlowReadError) -> bool {
        error.is_read()
    }

    fn position(&self) -> Position {
        Position {
            line: self.line,
            column: 1,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONN: &str = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tservice\tduration\torig_bytes\tresp_bytes\tconn_state\tlocal_orig\tlocal_resp\tmissed_bytes\thistory\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\ttunnel_parents\n#types\ttime\tstring\taddr\tport\taddr\tport\tenum\tstring\tinterval\tcount\tcount\tstring\tbool\tbool\tcount\tstring\tcount\tcount\tcount\tcount\tset[string]\n";

    fn read(s: &str) -> Vec<Result<Observation, FlowReadError>> {
        ZeekFlowReader::new(s.as_bytes()).records().collect()
    }

    #[test]
    fn conn_lines() {
        let log = format!(
            "{CONN}1573553586.964924\tC1\t192.168.4.11\t44220\t192.168.4.10\t27017\ttcp\t-\t0.525474\t254\t205\tSF\t-\t-\t0\tShADadFf\t6\t574\t4\t421\t-\n\
             1.5\tC2\t10.0.0.1\t8\t10.0.0.2\t0\ticmp\t-\t-\t-\t-\tOTH\t-\t-\t0\t-\t1\t84\t0\t0\t(empty)\n\
             1.5\tC3\tnot-an-ip\t8\t10.0.0.2\t0\ticmp\t-\t-\t-\t-\tOTH\t-\t-\t0\t-\t1\t84\t0\t0\t(empty)\n\
             1.5\tC4\t10.0.0.1\t8\n"
        );
        let items = read(&log);
        assert_eq!(items.len(), 4);
        let o = items[0].as_ref().unwrap();
        assert_eq!(o.proto, "tcp");
        assert_eq!(
            o.endpoints,
            Endpoints::Ports {
                sport: Some(44220),
                dport: 27017
            }
        );
        assert_eq!(o.start.timestamp_subsec_micros(), 964924);
        assert_eq!(
            (o.end - o.start).num_microseconds(),
            Some(525474),
            "a connection lasts its duration"
        );
        assert_eq!(
            o.kind,
            ObservationKind::Traffic(Counters::observed(6, 4, 574, 421))
        );
        let icmp = items[1].as_ref().unwrap();
        assert_eq!(
            icmp.endpoints,
            Endpoints::Icmp {
                icmp_type: 8,
                code: Some(0)
            }
        );
        assert_eq!(icmp.start, icmp.end);
        let e = items[2].as_ref().unwrap_err();
        assert_eq!(e.to_string(), "line 10: invalid id_orig_h \"not-an-ip\"");
        assert_eq!(
            items[3].as_ref().unwrap_err().to_string(),
            "line 11: expected 21 fields, got 4"
        );
    }

    #[test]
    fn protocol_logs_and_json() {
        let log = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tsip\n#fields\tts\tuid\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tmethod\tstatus_code\trequest_path\tuser_agent\trequest_body_len\n#types\ttime\tstring\taddr\tport\taddr\tport\tstring\tcount\tvector[string]\tstring\tcount\n\
            1388604231.036\tC\t172.22.75.71\t5062\t10.251.23.139\t5060\tINVITE\t100\tSIP/2.0/UDP 172.22.75.71:5062\tneufbox6 - r13507\t831\n\
            1388604231.036\tC\t172.22.75.71\t5062\t10.251.23.139\t5060\tBYE\t-\tSIP/2.0/TCP 172.22.75.71:5062,x\t(empty)\t0\n\
            #path\tfiles\n1.0\tanything\n\
            {\"_path\":\"http\",\"ts\":1.25,\"id.orig_h\":\"10.0.0.1\",\"id.orig_p\":1234,\"id.resp_h\":\"10.0.0.2\",\"id.resp_p\":80,\"method\":\"GET\",\"proxied\":[\"a\",\"b\"],\"status_code\":200}\n";
        let mut reader = ZeekFlowReader::new(log.as_bytes());
        let mut obs = Vec::new();
        while let Some(o) = reader.next_record().unwrap() {
            obs.push(o);
        }
        assert_eq!(reader.skipped(), 1);
        assert_eq!(obs.len(), 3);
        assert_eq!(obs[0].proto, "udp");
        assert_eq!(obs[1].proto, "tcp");
        let ObservationKind::Meta(m) = &obs[0].kind else {
            panic!("metadata expected")
        };
        assert_eq!(m.log, "sip");
        assert!(m
            .keys
            .contains(&("status_code".into(), MetaValue::Int(100))));
        assert!(m.keys.contains(&(
            "user_agent".into(),
            MetaValue::Str("neufbox6 - r13507".into())
        )));
        assert_eq!(m.counters, [("request_body_len".to_string(), 831)]);
        let ObservationKind::Meta(m) = &obs[2].kind else {
            panic!("metadata expected")
        };
        assert_eq!(m.log, "http");
        assert!(m.keys.contains(&(
            "proxied".into(),
            MetaValue::List(vec![MetaValue::Str("a".into()), MetaValue::Str("b".into())])
        )));
        assert_eq!(obs[2].start.timestamp_subsec_millis(), 250);
    }

    #[test]
    fn json_without_path_uses_the_file_name() {
        let line = "{\"ts\":\"2019-12-03T09:19:35.5Z\",\"id.orig_h\":\"::1\",\"id.orig_p\":5,\"id.resp_h\":\"::2\",\"id.resp_p\":53,\"proto\":\"udp\",\"orig_pkts\":1}\n";
        let items: Vec<_> = ZeekFlowReader::new(line.as_bytes()).records().collect();
        assert!(items[0].is_err());
        let path = log_path_from_file_name("/logs/conn.00:00:00-01:00:00.log.gz");
        assert_eq!(path.as_deref(), Some("conn"));
        let o = ZeekFlowReader::new(line.as_bytes())
            .with_path(path)
            .next_record()
            .unwrap()
            .unwrap();
        assert_eq!(o.key().dport, Some(53));
        assert_eq!(o.start.timestamp_subsec_millis(), 500);
        assert_eq!(log_path_from_file_name("notes.txt"), None);
    }

    #[test]
    fn exact_epochs() {
        assert_eq!(
            parse_epoch("1573553586.964924")
                .unwrap()
                .timestamp_subsec_nanos(),
            964924000
        );
        assert_eq!(parse_epoch("12").unwrap().timestamp(), 12);
        assert!(parse_epoch("x").is_none());
        assert!(parse_epoch("1e300").is_none());
    }
}

/// A SIP call (the shape of IVRE's `flow_elt_sip` oracle): the conn.log
/// entry and the sip.log entries of the call make one flow document.
#[cfg(test)]
mod document_tests {
    use super::*;
    use crate::flow::{FlowAggregator, SlotConfig};
    use serde_json::json;

    #[test]
    fn sip_call_document() {
        let log = "#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\tconn\n\
            #fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tproto\tduration\torig_pkts\torig_ip_bytes\tresp_pkts\tresp_ip_bytes\n\
            #types\ttime\taddr\tport\taddr\tport\tenum\tinterval\tcount\tcount\tcount\tcount\n\
            1388604231.036\t172.22.75.71\t5062\t10.251.23.139\t5060\tudp\t0.542\t4\t2636\t3\t2060\n\
            #path\tsip\n\
            #fields\tts\tid.orig_h\tid.orig_p\tid.resp_h\tid.resp_p\tmethod\tstatus_code\tuser_agent\trequest_body_len\tresponse_body_len\trequest_path\n\
            #types\ttime\taddr\tport\taddr\tport\tstring\tcount\tstring\tcount\tcount\tvector[string]\n\
            1388604231.036\t172.22.75.71\t5062\t10.251.23.139\t5060\tINVITE\t100\tneufbox6 - r13507\t831\t0\tSIP/2.0/UDP 172.22.75.71:5062\n\
            1388604231.100\t172.22.75.71\t5062\t10.251.23.139\t5060\tINVITE\t183\tneufbox6 - r13507\t0\t444\tSIP/2.0/UDP 172.22.75.71:5062\n\
            1388604231.200\t172.22.75.71\t5062\t10.251.23.139\t5060\tINVITE\t200\t-\t0\t0\tSIP/2.0/UDP 172.22.75.71:5062\n\
            1388604231.500\t172.22.75.71\t5062\t10.251.23.139\t5060\tBYE\t200\t(empty)\t0\t0\tSIP/2.0/UDP 172.22.75.71:5062\n";
        let mut agg = FlowAggregator::new(SlotConfig::default());
        for o in ZeekFlowReader::new(log.as_bytes()).records() {
            agg.add(o.unwrap());
        }
        let flows = agg.into_flows();
        assert_eq!(flows.len(), 1);
        assert_eq!(
            flows[0].to_json(),
            json!({
                "src_addr": "172.22.75.71", "dst_addr": "10.251.23.139",
                "proto": "udp", "dport": 5060, "sports": [5062], "schema_version": 1,
                "count": 1, "cspkts": 4, "scpkts": 3, "csbytes": 2636, "scbytes": 2060,
                "firstseen": "2014-01-01 19:23:51.036000",
                "lastseen": "2014-01-01 19:23:51.578000",
                "times": [{"start": "2014-01-01 19:00:00", "duration": 3600}],
                "meta": {"sip": {"count": 4, "method": ["BYE", "INVITE"],
                                 "status_code": [100, 183, 200],
                                 "user_agent": ["neufbox6 - r13507"],
                                 "request_body_len": 831, "response_body_len": 444}}
            })
        );
    }
}
