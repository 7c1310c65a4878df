//! Masscan specifics (spec scans.md §2.4): banners become fake Nmap scripts,
//! and the `-oJ` JSON output (array or NDJSON), which IVRE cannot read, gives
//! the same records as the XML path.
//!
//! A banner script is `{"id", "output", "masscan": {"raw": <base64 of the
//! unescaped bytes>, "encoded": <the banner as Masscan wrote it>}}` with no
//! structured value; [`super::scripts::process`] builds the structured values
//! (`ssl-cert`, `s7-info`, `smb-os-discovery`, `ike-info`, ...).
//!
//! For `X509`/`X509CA` banners (Masscan writes the DER certificate in base64),
//! `output` and `masscan.encoded` are the base64 DER text as written by Masscan,
//! and `masscan.raw` is base64 of those ASCII bytes (as IVRE stores it): the
//! catalogue base64-decodes `output` to get the DER.
//!
//! Service identification of banners (matching `nmap-service-probes`) is not
//! done here: the port gets only `service_tunnel=ssl` (ssl, X509, X509CA) and
//! the fixed names for `s7comm` (`iso-tsap`) and `smb` (`netbios-ssn` on 139,
//! `microsoft-ds` elsewhere).

use super::error::{ParseError, ParseErrorKind};
use super::nmap_xml::{apply_effects, canonical_ip, process_port_script};
use super::record::{epoch_to_datetime, parse_datetime, Host, Port};
use super::scripts::Effects;
use super::Script;
use base64::Engine;
use serde_json::{json, Map, Value};
use std::io::BufRead;

/// The script id IVRE gives to a Masscan service name.
pub fn script_id(masscan_name: &str) -> &'static str {
    match masscan_name {
        "http" => "http-headers",
        "http.server" => "http-server-header",
        "title" => "http-title",
        "html" => "http-content",
        "X509" => "ssl-cert",
        "X509CA" => "ssl-cacert",
        "s7comm" => "s7-info",
        "rdp" => "rdp-nla-support",
        "smb" => "smb-os-discovery",
        // ssh (IVRE's "ssh-banner", renamed), ftp, unknown, vnc, imap, pop,
        // smtp, telnet and anything else
        _ => "banner",
    }
}

/// The Nmap service name matching a Masscan service name, for the probes
/// used to fingerprint its banner (`None` when there is none).
pub fn nmap_service_name(masscan_name: &str) -> Option<&'static str> {
    Some(match masscan_name {
        "ftp" => "ftp",
        "http" | "http.server" | "title" | "html" => "http",
        "ssh" => "ssh",
        "vnc" => "vnc",
        "imap" => "imap",
        "pop" => "pop3",
        "smtp" => "smtp",
        "s7comm" => "iso-tsap",
        "telnet" => "telnet",
        "rdp" => "ms-wbt-server",
        _ => return None,
    })
}

/// Undoes Masscan's `\xHH` escaping (other bytes are kept as they are).
pub fn unescape_banner(banner: &str) -> Vec<u8> {
    let b = banner.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' && i + 4 <= b.len() && b[i + 1] == b'x' {
            if let (Some(h), Some(l)) = (hex_val(b[i + 2]), hex_val(b[i + 3])) {
                out.push(h << 4 | l);
                i += 4;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    out
}

fn hex_val(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

/// The human output of raw bytes: printable ASCII, tab, CR and LF kept,
/// other bytes written `\xHH`.
pub fn printable(raw: &[u8]) -> String {
    let mut s = String::with_capacity(raw.len());
    for &c in raw {
        if (0x20..0x7f).contains(&c) || matches!(c, b'\t' | b'\n' | b'\r') {
            s.push(c as char);
        } else {
            s.push_str(&format!("\\x{c:02x}"));
        }
    }
    s
}

/// Builds the fake script for a Masscan `<service name banner>` and applies
/// the fixed service fields to the port.
pub fn banner_script(port: &mut Port, name: &str, banner: &str) -> Option<Script> {
    match name {
        "ssl" | "X509" | "X509CA" => port.service_tunnel = Some("ssl".into()),
        "s7comm" => port.service_name = Some("iso-tsap".into()),
        "smb" => {
            port.service_name = Some(
                if port.port == 139 {
                    "netbios-ssn"
                } else {
                    "microsoft-ds"
                }
                .into(),
            )
        }
        _ => {}
    }
    let raw = unescape_banner(banner);
    let output = match name {
        "X509" | "X509CA" => banner.to_string(),
        // the banner line only; a patched Masscan appends the binary KEXINIT
        // (left in masscan.raw for the catalogue)
        "ssh" => {
            let end = raw
                .iter()
                .position(|&b| b == b'\r' || b == b'\n')
                .unwrap_or(raw.len());
            printable(&raw[..end])
        }
        _ => printable(&raw),
    };
    let mut extra = Map::new();
    extra.insert(
        "masscan".into(),
        json!({
            "raw": base64::engine::general_purpose::STANDARD.encode(&raw),
            "encoded": banner,
        }),
    );
    Some(Script {
        id: script_id(name).to_string(),
        output,
        data: None,
        extra,
    })
}

/// Reader of Masscan `-oJ` output: a JSON array written one object per line
/// (with `,` separators and a final `{"finished": 1}` in old versions), or
/// NDJSON; also `-oD` lines (`{"ip", "timestamp", "port", "proto",
/// "rec_type": "status"|"banner", "data": {...}}`). One record per object, as
/// the XML path gives one per `<host>`.
pub struct MasscanJsonReader<R: BufRead> {
    input: R,
    line: u64,
    buf: String,
    done: bool,
    /// Seen `[` (a JSON array) / its closing `]`.
    array: bool,
    closed: bool,
}

impl<R: BufRead> MasscanJsonReader<R> {
    pub fn new(input: R) -> Self {
        MasscanJsonReader {
            input,
            line: 0,
            buf: String::new(),
            done: false,
            array: false,
            closed: false,
        }
    }

    fn err(&self, kind: ParseErrorKind, msg: impl Into<String>) -> ParseError {
        ParseError::new(kind, self.line, 1, msg)
    }

    fn next_record(&mut self) -> Result<Option<Host>, ParseError> {
        loop {
            self.buf.clear();
            let n = self
                .input
                .read_line(&mut self.buf)
                .map_err(|e| self.err(ParseErrorKind::Io, e.to_string()))?;
            if n == 0 {
                if self.array && !self.closed {
                    return Err(
                        self.err(ParseErrorKind::Truncated, "input cut short: no closing ]")
                    );
                }
                return Ok(None);
            }
            self.line += 1;
            let mut t = self.buf.trim();
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
            let v: Value = serde_json::from_str(t).map_err(|e| {
                let kind = if !self.buf.ends_with('\n') {
                    ParseErrorKind::Truncated
                } else {
                    ParseErrorKind::Syntax
                };
                ParseError::new(
                    kind,
                    self.line,
                    e.column() as u64,
                    format!("invalid Masscan JSON: {e}"),
                )
            })?;
            let Value::Object(obj) = v else {
                return Err(self.err(ParseErrorKind::Format, "Masscan JSON: expected an object"));
            };
            if !obj.contains_key("ip") {
                // {"finished": 1} and the like
                continue;
            }
            return masscan_json_host(&obj)
                .map(Some)
                .map_err(|m| self.err(ParseErrorKind::Format, m));
        }
    }
}

impl<R: BufRead> Iterator for MasscanJsonReader<R> {
    type Item = Result<Host, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.next_record() {
            Ok(Some(h)) => Some(Ok(h)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                if e.kind != ParseErrorKind::Format {
                    self.done = true;
                }
                Some(Err(e))
            }
        }
    }
}

/// Converts one Masscan `-oJ` object to a host record.
pub fn masscan_json_host(obj: &Map<String, Value>) -> Result<Host, String> {
    let ip = obj
        .get("ip")
        .and_then(Value::as_str)
        .ok_or("Masscan JSON: \"ip\" is not a string")?;
    let addr = canonical_ip(ip).ok_or_else(|| format!("Masscan JSON: invalid address {ip:?}"))?;
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
            return Err("Masscan JSON: a port without a number".into());
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
            if let Some(script) = banner_script(port, name, banner) {
                process_port_script(port, script, &mut effects);
            }
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

    #[test]
    fn unescape_and_printable() {
        let raw = unescape_banner("SSH-2.0-x\\x0d\\x0a\\x00\\x5c\\xZZ");
        assert_eq!(raw, b"SSH-2.0-x\r\n\x00\\\\xZZ");
        assert_eq!(printable(&raw), "SSH-2.0-x\r\n\\x00\\\\xZZ");
        assert_eq!(printable(b"\x03\x00A"), "\\x03\\x00A");
    }

    #[test]
    fn json_array_cut_short() {
        let input = "[\n{\"ip\": \"10.0.0.1\", \"timestamp\": \"1\", \"ports\": [{\"port\": 1, \"proto\": \"tcp\", \"status\": \"open\"}]}\n,\n{\"ip\": \"10.0.0.2\", \"timest";
        let out: Vec<_> = MasscanJsonReader::new(input.as_bytes()).collect();
        assert_eq!(out.len(), 2);
        assert!(out[0].is_ok());
        let e = out[1].as_ref().unwrap_err();
        assert_eq!((e.kind, e.line), (ParseErrorKind::Truncated, 4), "{e}");
        let input = "[\n{\"ip\": \"10.0.0.1\", \"timestamp\": \"1\", \"ports\": []}\n,\n";
        let out: Vec<_> = MasscanJsonReader::new(input.as_bytes()).collect();
        assert_eq!(out[1].as_ref().unwrap_err().kind, ParseErrorKind::Truncated);
    }

    #[test]
    fn json_array_and_ndjson() {
        let input = "[\n{   \"ip\": \"10.0.0.1\",   \"timestamp\": \"1610324225\", \"ports\": [ {\"port\": 445, \"proto\": \"tcp\", \"status\": \"open\", \"reason\": \"syn-ack\", \"ttl\": 127} ] }\n,\n{   \"ip\": \"10.0.0.1\",   \"timestamp\": \"1610324229\", \"ports\": [ {\"port\": 22, \"proto\": \"tcp\", \"service\": {\"name\": \"ssh\", \"banner\": \"SSH-2.0-OpenSSH_8.4\"} } ] }\n,\n{\"finished\": 1}\n]\n";
        let hosts: Vec<Host> = MasscanJsonReader::new(input.as_bytes())
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
        let hosts: Vec<Host> = MasscanJsonReader::new(nd.as_bytes())
            .map(Result::unwrap)
            .collect();
        assert_eq!(hosts.len(), 1);
        let od = "{\"ip\":\"10.0.0.3\",\"timestamp\":\"1610324225\",\"port\":80,\"proto\":\"tcp\",\"rec_type\":\"status\",\"data\":{\"status\":\"open\",\"reason\":\"syn-ack\",\"ttl\":64}}\n{\"ip\":\"10.0.0.3\",\"timestamp\":\"1610324226\",\"port\":80,\"proto\":\"tcp\",\"rec_type\":\"banner\",\"data\":{\"service_name\":\"title\",\"banner\":\"Hello\"}}\n";
        let hosts: Vec<Host> = MasscanJsonReader::new(od.as_bytes())
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
