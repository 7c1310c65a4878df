//! Passive record → partial view host (spec §2.4).
//!
//! Every record with an address gives a host: up (unless it is a DNS
//! answer, which does not prove the host alive), `state_reason` `passive`,
//! the sensor as source, and `starttime = endtime = lastseen` (so that a
//! long-lived observation does not give an absurd scan duration). The
//! recontype then adds what it teaches: an open port, a script, a hostname,
//! a MAC address. A record's `count` and `firstseen` are not kept.

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine;
use serde_json::{json, Map, Value};

use super::scripts::ScannerData;
use crate::escape;
use crate::passive::PassiveRecord;
use crate::probes::ServiceProbes;
use crate::scan::assemble::set_port_fields;
use crate::scan::record::Source;
use crate::scan::scripts::{ssl_cert_script, Effects};
use crate::scan::{Host, Port, Script};

/// A passive record as a partial view host; `None` for a record without
/// address (name-only DNS answers). `probes` identifies the services of
/// banners and `Server` headers (service fields, CPEs, hostname) as Nmap's
/// `-sV` would; without it, the service fields computed at import time
/// (the record's `infos`) are used and no CPE is added.
pub fn from_passive(rec: &PassiveRecord, probes: Option<&ServiceProbes>) -> Option<Host> {
    let addr = rec.addr?;
    let mut host = Host::new(addr.to_string());
    host.state_reason = Some("passive".into());
    if rec.recontype != "DNS_ANSWER" {
        host.state = Some("up".into());
    }
    host.source = Some(Source::Many(rec.sensor.iter().cloned().collect()));
    let seen = rec.lastseen.naive_utc();
    host.starttime = Some(seen);
    host.endtime = Some(seen);
    let mut ctx = Ctx {
        host,
        rec,
        probes,
        effects: Effects::default(),
    };
    ctx.extract();
    let Ctx {
        mut host, effects, ..
    } = ctx;
    crate::scan::assemble::apply_effects(&mut host, effects);
    Some(host)
}

struct Ctx<'a> {
    host: Host,
    rec: &'a PassiveRecord,
    probes: Option<&'a ServiceProbes>,
    effects: Effects,
}

fn infos_str<'a>(rec: &'a PassiveRecord, key: &str) -> Option<&'a str> {
    rec.infos.as_ref()?.get(key)?.as_str()
}

/// The protocol and port of a `proto/port` text (`tcp/80`).
fn proto_port(s: &str) -> Option<(String, u16)> {
    let (proto, port) = s.split_once('/')?;
    Some((proto.to_ascii_lowercase(), port.parse().ok()?))
}

/// Nmap-like human output of a key/value table: `  key: value` lines.
fn table_output(m: &Map<String, Value>) -> String {
    m.iter()
        .map(|(k, v)| match v {
            Value::String(s) => format!("  {k}: {s}"),
            other => format!("  {k}: {other}"),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Scanners that announce themselves in their HTTP `User-Agent`
/// (substring, lower case → name).
const SCANNER_USER_AGENTS: &[(&str, &str)] = &[
    ("nmap scripting engine", "Nmap"),
    ("masscan", "Masscan"),
    ("zgrab", "ZGrab"),
    ("censysinspect", "Censys"),
    ("expanse", "Expanse"),
    ("netcraftsurveyagent", "Netcraft"),
    ("internetmeasurement", "Driftnet"),
    ("nuclei", "Nuclei"),
    ("nikto", "Nikto"),
    ("sqlmap", "sqlmap"),
];

/// Scanners recognised by p0f (`app` or `os` label, lower case substring → name).
const SCANNER_P0F_LABELS: &[(&str, &str)] = &[
    ("nmap", "Nmap"),
    ("masscan", "Masscan"),
    ("zmap", "ZMap"),
    ("zgrab", "ZGrab"),
];

impl Ctx<'_> {
    fn extract(&mut self) {
        let rec = self.rec;
        let source = rec.source.as_deref().unwrap_or("");
        match rec.recontype.as_str() {
            "HTTP_CLIENT_HEADER" => match source {
                "USER-AGENT" => self.user_agent(),
                "AUTHORIZATION" | "PROXY-AUTHORIZATION" if is_ntlm_auth(&rec.value) => {
                    self.ntlm(None, Some("http"))
                }
                _ => {}
            },
            "HTTP_SERVER_HEADER" => self.http_server_header(source),
            "SSH_SERVER" | "TCP_SERVER_BANNER" => self.server_banner(),
            "SSH_SERVER_HOSTKEY" => self.ssh_hostkey(),
            "SSH_CLIENT_HASSH" | "SSH_SERVER_HASSH" => self.hassh(),
            "SSL_SERVER" => match source {
                "cert" | "cacert" => self.certificate(true),
                s if s.starts_with("ja3-") => self.ja3_server(&s[4..]),
                _ => {}
            },
            "SSL_CLIENT" => match source {
                "cert" | "cacert" => self.certificate(false),
                "ja3" => self.ja3_client(),
                "ja4" => self.ja4_client(),
                _ => {}
            },
            "DNS_ANSWER" => {
                let kind = source.split('-').next().unwrap_or("");
                self.host.add_hostname(&rec.value, kind);
            }
            "MAC_ADDRESS" => self.host.add_mac(&rec.value),
            "OPEN_PORT" => {
                let from_value = proto_port(&rec.value);
                let port = rec.port.or(from_value.as_ref().map(|p| p.1));
                if let Some(port) = port {
                    let proto = match source {
                        "" => from_value.map_or_else(|| "tcp".to_string(), |p| p.0),
                        s => s.to_ascii_lowercase(),
                    };
                    self.open_port(&proto, port);
                }
            }
            "TCP_HONEYPOT_HIT" | "UDP_HONEYPOT_HIT" => self.honeypot_hit(source),
            "HTTP_HONEYPOT_REQUEST" => self.http_honeypot(source),
            "DNS_HONEYPOT_QUERY" => self.dns_honeypot(source),
            "STUN_HONEYPOT_REQUEST" => self.stun_honeypot(source),
            "P0FV3_SYN" => self.p0f_scanner(),
            "NTLM_CHALLENGE" | "NTLM_AUTHENTICATE" => {
                self.ntlm(rec.port, ntlm_protocol(source));
            }
            "SMB" => self.smb(),
            _ => {}
        }
    }

    /// The open port `proto/port` (created when missing), as an index.
    fn open_port(&mut self, proto: &str, port: u16) -> usize {
        let ports = self.host.ports.get_or_insert_with(Vec::new);
        let number = i64::from(port);
        if let Some(i) = ports
            .iter()
            .position(|p| p.port == number && p.protocol.as_deref() == Some(proto))
        {
            return i;
        }
        let mut p = Port::new(proto, number);
        p.state_state = Some("open".into());
        p.state_reason = Some("passive".into());
        ports.push(p);
        ports.len() - 1
    }

    /// The record's server port (tcp), or the host-script port when unknown.
    fn port_or_host(&mut self, port: Option<u16>, proto: &str) -> &mut Port {
        match port {
            Some(port) => {
                let i = self.open_port(proto, port);
                &mut self.host.ports.as_mut().expect("just created")[i]
            }
            None => self.host.host_scripts_port(),
        }
    }

    fn add_script(&mut self, port: Option<u16>, proto: &str, script: Script) {
        self.port_or_host(port, proto)
            .scripts
            .get_or_insert_with(Vec::new)
            .push(script);
    }

    fn scanner_script(&mut self, data: ScannerData) {
        self.add_script(None, "tcp", data.into_script());
    }

    fn user_agent(&mut self) {
        let ua = self.rec.value.clone();
        let mut s = Script::new("http-user-agent", ua.clone());
        s.data = Some(json!([ua]));
        self.add_script(None, "tcp", s);
        let lower = ua.to_ascii_lowercase();
        if let Some((_, name)) = SCANNER_USER_AGENTS
            .iter()
            .find(|(needle, _)| lower.contains(needle))
        {
            let mut d = ScannerData::default();
            d.add_scanner(name, vec![("http".into(), ua)]);
            self.scanner_script(d);
        }
    }

    fn http_server_header(&mut self, source: &str) {
        let rec = self.rec;
        let Some(port) = rec.port else {
            return;
        };
        let i = self.open_port("tcp", port);
        self.host.ports.as_mut().expect("just created")[i].service_name = Some("http".into());
        match source {
            "SERVER" => {
                let mut s = Script::new("http-server-header", rec.value.clone());
                s.data = Some(json!([rec.value]));
                self.push_script_at(i, s);
                self.copy_service_infos(i);
                let banner = format!(
                    "HTTP/1.1 200 OK\r\nServer: {}\r\n\r\n",
                    String::from_utf8_lossy(&escape::decode(&rec.value))
                );
                self.identify(i, "GetRequest", banner.as_bytes());
            }
            "MICROSOFTSHAREPOINTTEAMSERVICES" => {
                let version = rec
                    .value
                    .split([';', ':'])
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_string();
                let mut s = Script::new(
                    "http-app",
                    format!("SharePoint: path /UNKNOWN/, version {version}"),
                );
                s.data = Some(
                    json!([{"application": "sharepoint", "version": version, "path": "/UNKNOWN/"}]),
                );
                self.push_script_at(i, s);
                self.effects.cpes.push((
                    format!("cpe:/a:microsoft:sharepoint_server:{version}"),
                    "scripts.id:http-app".into(),
                ));
            }
            "WWW-AUTHENTICATE" | "PROXY-AUTHENTICATE" if is_ntlm_auth(&rec.value) => {
                self.ntlm(Some(port), Some("http"))
            }
            _ => {}
        }
    }

    fn push_script_at(&mut self, i: usize, s: Script) {
        self.host.ports.as_mut().expect("port index")[i]
            .scripts
            .get_or_insert_with(Vec::new)
            .push(s);
    }

    /// Copies the `service_*` keys of the record's infos onto port `i`.
    fn copy_service_infos(&mut self, i: usize) {
        let Some(infos) = self.rec.infos.as_ref() else {
            return;
        };
        let port = &mut self.host.ports.as_mut().expect("port index")[i];
        let mut others = Map::new();
        for (k, v) in infos.iter().filter(|(k, _)| k.starts_with("service_")) {
            let field = match k.as_str() {
                "service_name" => &mut port.service_name,
                "service_product" => &mut port.service_product,
                "service_version" => &mut port.service_version,
                "service_extrainfo" => &mut port.service_extrainfo,
                "service_hostname" => &mut port.service_hostname,
                "service_ostype" => &mut port.service_ostype,
                "service_devicetype" => &mut port.service_devicetype,
                "service_tunnel" => &mut port.service_tunnel,
                _ => {
                    others.insert(k.clone(), v.clone());
                    continue;
                }
            };
            if let Some(text) = v.as_str() {
                *field = Some(text.to_owned());
            }
        }
        // Rare keys (numbers such as service_conf): the checked generic setter.
        if !others.is_empty() {
            set_port_fields(port, others);
        }
    }

    /// Nmap service identification of `data` received on port `i` after `probe`.
    fn identify(&mut self, i: usize, probe: &str, data: &[u8]) {
        let Some(probes) = self.probes else {
            return;
        };
        let port = &mut self.host.ports.as_mut().expect("port index")[i];
        let number = u16::try_from(port.port).unwrap_or(0);
        let proto = port.protocol.clone().unwrap_or_else(|| "tcp".into());
        let Some(m) = probes.match_banner(&[probe], &proto, number, data) else {
            return;
        };
        let (name, tunnel) = m.name_and_tunnel();
        port.service_name = Some(name.to_owned());
        if let Some(t) = tunnel {
            port.service_tunnel = Some(t.to_owned());
        }
        port.service_product = m.product.clone();
        port.service_version = m.version.clone();
        port.service_extrainfo = m.extrainfo.clone();
        port.service_hostname = m.hostname.clone();
        port.service_ostype = m.ostype.clone();
        port.service_devicetype = m.devicetype.clone();
        for cpe in &m.cpes {
            self.effects
                .cpes
                .push((cpe.clone(), format!("ports.port:{number}")));
        }
        if let Some(name) = &m.hostname {
            self.effects
                .hostnames
                .push((name.clone(), "service".into()));
        }
    }

    fn server_banner(&mut self) {
        let rec = self.rec;
        let Some(port) = rec.port else {
            return;
        };
        let mut raw = escape::decode(&rec.value);
        if rec.recontype == "SSH_SERVER" {
            raw.extend_from_slice(b"\r\n");
        }
        let i = self.open_port("tcp", port);
        self.push_script_at(i, Script::new("banner", escape::encode(&raw)));
        self.copy_service_infos(i);
        self.identify(i, "NULL", &raw);
    }

    fn ssh_hostkey(&mut self) {
        let rec = self.rec;
        let Some(port) = rec.port else {
            return;
        };
        let algo = infos_str(rec, "algo").unwrap_or("");
        let fingerprint = infos_str(rec, "md5").unwrap_or("").to_string();
        let bits = rec
            .infos
            .as_ref()
            .and_then(|i| i.get("bits"))
            .cloned()
            .unwrap_or(Value::Null);
        let label = match algo {
            "ssh-rsa" => "RSA".to_string(),
            "ssh-dss" => "DSA".to_string(),
            "ssh-ed25519" => "ED25519".to_string(),
            a if a.starts_with("ecdsa-") => "ECDSA".to_string(),
            a => a.to_ascii_uppercase(),
        };
        let colons = fingerprint
            .as_bytes()
            .chunks(2)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect::<Vec<_>>()
            .join(":");
        let output = format!("\n  {bits} {colons} ({label})\n{algo} {}", rec.value);
        let mut s = Script::new("ssh-hostkey", output);
        s.data = Some(
            json!([{"type": algo, "key": rec.value, "fingerprint": fingerprint, "bits": bits}]),
        );
        let i = self.open_port("tcp", port);
        self.host.ports.as_mut().expect("port index")[i].service_name = Some("ssh".into());
        self.push_script_at(i, s);
    }

    fn hassh(&mut self) {
        let rec = self.rec;
        let Some(raw) = infos_str(rec, "raw") else {
            return;
        };
        let lists: Vec<Vec<&str>> = raw
            .split(';')
            .map(|l| l.split(',').filter(|a| !a.is_empty()).collect())
            .collect();
        let mut data = Map::new();
        let mut output = String::new();
        for (key, algos) in [
            "kex_algorithms",
            "encryption_algorithms",
            "mac_algorithms",
            "compression_algorithms",
        ]
        .iter()
        .zip(&lists)
        {
            output.push_str(&format!("\n  {key}: ({})", algos.len()));
            for a in algos {
                output.push_str(&format!("\n      {a}"));
            }
            data.insert((*key).into(), json!(algos));
        }
        let mut hassh = Map::new();
        hassh.insert("version".into(), json!("1.1"));
        hassh.insert("raw".into(), json!(raw));
        hassh.insert("md5".into(), json!(rec.value));
        for k in ["sha1", "sha256"] {
            if let Some(v) = infos_str(rec, k) {
                hassh.insert(k.into(), json!(v));
            }
        }
        data.insert("hassh".into(), Value::Object(hassh));
        let mut s = Script::new("ssh2-enum-algos", output);
        s.data = Some(Value::Object(data));
        match rec.port.filter(|_| rec.recontype == "SSH_SERVER_HASSH") {
            Some(port) => {
                let i = self.open_port("tcp", port);
                self.host.ports.as_mut().expect("port index")[i].service_name = Some("ssh".into());
                self.push_script_at(i, s);
            }
            None => self.add_script(None, "tcp", s),
        }
    }

    fn certificate(&mut self, server: bool) {
        let rec = self.rec;
        let Ok(der) = B64.decode(rec.value.as_bytes()) else {
            return;
        };
        let id = if rec.source.as_deref() == Some("cacert") {
            "ssl-cacert"
        } else {
            "ssl-cert"
        };
        let mut effects = Effects::default();
        let s = ssl_cert_script(id, &[der], &mut effects);
        if s.data
            .as_ref()
            .and_then(Value::as_array)
            .is_none_or(Vec::is_empty)
        {
            return;
        }
        if server {
            let Some(port) = rec.port else {
                return;
            };
            let i = self.open_port("tcp", port);
            self.host.ports.as_mut().expect("port index")[i].service_tunnel = Some("ssl".into());
            self.push_script_at(i, s);
            self.effects.hostnames.append(&mut effects.hostnames);
        } else {
            self.add_script(None, "tcp", s);
        }
    }

    /// `{md5: value, raw, sha1, sha256}` of a JA3 record (hashes from `infos`).
    fn ja3_object(md5: &str, infos: Option<&Map<String, Value>>) -> Map<String, Value> {
        let mut o = Map::new();
        o.insert("md5".into(), json!(md5));
        for k in ["raw", "sha1", "sha256"] {
            if let Some(v) = infos.and_then(|i| i.get(k)) {
                o.insert(k.into(), v.clone());
            }
        }
        o
    }

    fn ja3_server(&mut self, client_md5: &str) {
        let rec = self.rec;
        let Some(port) = rec.port else {
            return;
        };
        let mut o = Self::ja3_object(&rec.value, rec.infos.as_ref());
        let client_infos = rec
            .infos
            .as_ref()
            .and_then(|i| i.get("client"))
            .and_then(Value::as_object);
        o.insert(
            "client".into(),
            Value::Object(Self::ja3_object(client_md5, client_infos)),
        );
        let mut s = Script::new("ssl-ja3-server", format!("{} - {client_md5}", rec.value));
        s.data = Some(json!([o]));
        let i = self.open_port("tcp", port);
        self.push_script_at(i, s);
    }

    fn ja3_client(&mut self) {
        let rec = self.rec;
        let o = Self::ja3_object(&rec.value, rec.infos.as_ref());
        let mut s = Script::new("ssl-ja3-client", rec.value.clone());
        s.data = Some(json!([o]));
        self.add_script(None, "tcp", s);
    }

    fn ja4_client(&mut self) {
        let rec = self.rec;
        let mut o = Map::new();
        o.insert("ja4".into(), json!(rec.value));
        for (k, v) in rec.infos.iter().flatten() {
            o.insert(k.clone(), v.clone());
        }
        let mut s = Script::new("ssl-ja4-client", rec.value.clone());
        s.data = Some(json!([o]));
        self.add_script(None, "tcp", s);
    }

    fn honeypot_hit(&mut self, source: &str) {
        let rec = self.rec;
        let Some((proto, port)) = proto_port(source) else {
            return;
        };
        let mut d = ScannerData::default();
        d.ports.insert((proto.clone(), port), 1);
        if infos_str(rec, "service_name") == Some("scanner") {
            let name = infos_str(rec, "service_product").unwrap_or("Unknown");
            d.add_scanner(name, vec![(proto, rec.value.clone())]);
        } else if !rec.value.is_empty() {
            d.probes.push((proto, rec.value.clone()));
        }
        self.scanner_script(d);
    }

    fn http_honeypot(&mut self, source: &str) {
        let rec = self.rec;
        let mut parts = source.splitn(3, '-');
        let (Some(method), Some(version), Some(target)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return;
        };
        let mut d = ScannerData::default();
        if let Some(pp) = proto_port(target) {
            d.ports.insert(pp, 1);
        }
        d.http_uris
            .push((method.into(), version.into(), rec.value.clone()));
        self.scanner_script(d);
    }

    fn dns_honeypot(&mut self, source: &str) {
        let rec = self.rec;
        let mut parts = source.rsplitn(3, '-');
        let (Some(qclass), Some(qtype), Some(target)) = (parts.next(), parts.next(), parts.next())
        else {
            return;
        };
        let mut d = ScannerData::default();
        if let Some(pp) = proto_port(target) {
            d.ports.insert(pp, 1);
        }
        d.dns_queries
            .push((rec.value.clone(), qtype.into(), qclass.into()));
        self.scanner_script(d);
    }

    fn stun_honeypot(&mut self, source: &str) {
        let rec = self.rec;
        let mut d = ScannerData::default();
        if let Some(pp) = proto_port(source) {
            d.ports.insert(pp, 1);
        }
        let raw = escape::decode(&rec.value);
        if raw.len() >= 20 {
            d.stun.push(json!({
                "type": u16::from_be_bytes([raw[0], raw[1]]),
                "length": u16::from_be_bytes([raw[2], raw[3]]),
                "magic": hex::encode(&raw[4..8]),
                "transaction_id": hex::encode(&raw[8..20]),
            }));
        }
        self.scanner_script(d);
    }

    fn p0f_scanner(&mut self) {
        let label = [infos_str(self.rec, "app"), infos_str(self.rec, "os")]
            .into_iter()
            .flatten()
            .map(str::to_ascii_lowercase)
            .collect::<Vec<_>>();
        let Some((_, name)) = SCANNER_P0F_LABELS
            .iter()
            .find(|(needle, _)| label.iter().any(|l| l.contains(needle)))
        else {
            return;
        };
        let mut d = ScannerData::default();
        d.add_scanner(name, vec![("tcp".into(), self.rec.value.clone())]);
        self.scanner_script(d);
    }

    /// `ntlm-info` from the record's NTLM infos, with the `ntlm` hostname.
    fn ntlm(&mut self, port: Option<u16>, protocol: Option<&str>) {
        let mut data: Map<String, Value> = self
            .rec
            .infos
            .iter()
            .flatten()
            .filter(|(k, _)| k.as_str() != "ntlm-fingerprint")
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        if data.is_empty() {
            return;
        }
        if let Some(p) = protocol {
            data.insert("protocol".into(), json!(p));
        }
        if let Some(name) = data.get("DNS_Computer_Name").and_then(Value::as_str) {
            self.effects
                .hostnames
                .push((name.to_string(), "ntlm".into()));
        }
        let mut s = Script::new("ntlm-info", table_output(&data));
        s.data = Some(Value::Object(data));
        let proto = transport(self.rec.source.as_deref());
        self.add_script(port, &proto, s);
    }

    fn smb(&mut self) {
        let Some(infos) = self.rec.infos.as_ref() else {
            return;
        };
        let mut data = Map::new();
        let mut lines = Vec::new();
        for (key, label) in [("os", "OS"), ("lanmanager", "LAN Manager")] {
            if let Some(v) = infos.get(key).and_then(Value::as_str) {
                data.insert(key.into(), json!(v));
                lines.push(format!("  {label}: {v}"));
            }
        }
        if data.is_empty() {
            return;
        }
        let mut s = Script::new("smb-os-discovery", lines.join("\n"));
        s.data = Some(Value::Object(data));
        let proto = transport(self.rec.source.as_deref());
        self.add_script(self.rec.port, &proto, s);
    }
}

/// Whether an HTTP authentication header value is NTLM (or Negotiate
/// wrapping NTLM, which the import decoded into infos).
fn is_ntlm_auth(value: &str) -> bool {
    let scheme = value.split(' ').next().unwrap_or("").to_ascii_lowercase();
    scheme == "ntlm" || scheme == "negotiate"
}

/// The transport of a Zeek `<transport>-<services>` source (`tcp` by default).
fn transport(source: Option<&str>) -> String {
    match source.and_then(|s| s.split('-').next()) {
        Some(t @ ("tcp" | "udp")) => t.to_string(),
        _ => "tcp".to_string(),
    }
}

/// The `protocol` of `ntlm-info` from a Zeek `<transport>-<services>` source.
fn ntlm_protocol(source: &str) -> Option<&'static str> {
    let services = source
        .split_once('-')
        .map_or("", |(_, s)| s)
        .to_ascii_uppercase();
    if services.contains("SMB") {
        Some("smb")
    } else if services.contains("DCE_RPC") || services.contains("DCERPC") {
        Some("dce-rpc")
    } else if services.contains("HTTP") {
        Some("http")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, Utc};

    fn rec(recontype: &str, source: Option<&str>, value: &str) -> PassiveRecord {
        let ts: DateTime<Utc> = DateTime::from_timestamp(1_600_000_000, 0).unwrap();
        let mut r = PassiveRecord::new(recontype, value, ts);
        r.addr = Some("198.51.100.7".parse().unwrap());
        r.sensor = Some("S".into());
        r.source = source.map(String::from);
        r
    }

    fn scanner(h: &Host) -> Value {
        let p = h
            .ports
            .as_ref()
            .unwrap()
            .iter()
            .find(|p| p.port == -1)
            .unwrap();
        let s = p
            .scripts
            .as_ref()
            .unwrap()
            .iter()
            .find(|s| s.id == "scanner")
            .unwrap();
        s.data.clone().unwrap()
    }

    #[test]
    fn no_address_no_host() {
        let mut r = rec("DNS_ANSWER", Some("CNAME-1.1.1.1-53"), "a.example.com");
        r.addr = None;
        assert!(from_passive(&r, None).is_none());
    }

    #[test]
    fn scanner_user_agents_add_a_scanner_script() {
        let h = from_passive(
            &rec(
                "HTTP_CLIENT_HEADER",
                Some("USER-AGENT"),
                "Mozilla/5.0 zgrab/0.x",
            ),
            None,
        )
        .unwrap();
        assert_eq!(
            scanner(&h),
            json!({"scanners": [{"name": "ZGrab", "probes": [{"proto": "http", "value": "Mozilla/5.0 zgrab/0.x"}]}]})
        );
    }

    #[test]
    fn honeypot_hits() {
        let mut r = rec("TCP_HONEYPOT_HIT", Some("tcp/23"), "");
        let h = from_passive(&r, None).unwrap();
        assert_eq!(
            scanner(&h),
            json!({"ports": [{"proto": "tcp", "port": 23, "count": 1}]})
        );
        r.value = "GET / HTTP/1.0\\r\\n\\r\\n".into();
        r.infos = json!({"service_name": "scanner", "service_product": "Masscan"})
            .as_object()
            .cloned();
        let d = scanner(&from_passive(&r, None).unwrap());
        assert_eq!(d["scanners"][0]["name"], "Masscan");
        assert_eq!(d["scanners"][0]["probes"][0]["value"], r.value.as_str());

        let r = rec("UDP_HONEYPOT_HIT", Some("udp/161"), "\\x30\\x26");
        let d = scanner(&from_passive(&r, None).unwrap());
        assert_eq!(
            d["probes"],
            json!([{"proto": "udp", "value": "\\x30\\x26"}])
        );

        let r = rec("HTTP_HONEYPOT_REQUEST", Some("GET-1.1-tcp/8080"), "/admin");
        let d = scanner(&from_passive(&r, None).unwrap());
        assert_eq!(
            d["http_uris"],
            json!([{"method": "GET", "version": "1.1", "uri": "/admin"}])
        );
        assert_eq!(d["ports"][0]["port"], 8080);

        let r = rec("DNS_HONEYPOT_QUERY", Some("udp/53-A-IN"), "example.com");
        let d = scanner(&from_passive(&r, None).unwrap());
        assert_eq!(
            d["dns_queries"],
            json!([{"query": "example.com", "qtype": "A", "qclass": "IN"}])
        );

        let stun = "\\x00\\x01\\x00\\x00\\x21\\x12\\xa4\\x42\\x01\\x02\\x03\\x04\\x05\\x06\\x07\\x08\\x09\\x0a\\x0b\\x0c";
        let r = rec("STUN_HONEYPOT_REQUEST", Some("udp/3478"), stun);
        let d = scanner(&from_passive(&r, None).unwrap());
        assert_eq!(
            d["stun"],
            json!([{"type": 1, "length": 0, "magic": "2112a442", "transaction_id": "0102030405060708090a0b0c"}])
        );
    }

    #[test]
    fn p0f_scanners_only() {
        let mut r = rec("P0FV3_SYN", Some("P0FV3"), "4:64+0:0:1460:1024,0:mss::0");
        r.infos = json!({"os": "NMap SYN scan"}).as_object().cloned();
        let d = scanner(&from_passive(&r, None).unwrap());
        assert_eq!(d["scanners"][0]["name"], "Nmap");
        r.infos = json!({"os": "Linux 2.2.x-3.x"}).as_object().cloned();
        assert!(from_passive(&r, None).unwrap().ports.is_none());
    }

    #[test]
    fn ja4_and_client_certificates_are_host_scripts() {
        let mut r = rec(
            "SSL_CLIENT",
            Some("ja4"),
            "t13d1516h2_8daaf6152771_02713d6af862",
        );
        r.infos = json!({"ja4_a": "t13d1516h2"}).as_object().cloned();
        let h = from_passive(&r, None).unwrap();
        let p = &h.ports.as_ref().unwrap()[0];
        assert_eq!(p.port, -1);
        let s = &p.scripts.as_ref().unwrap()[0];
        assert_eq!(s.id, "ssl-ja4-client");
        assert_eq!(
            s.data,
            Some(json!([{"ja4": "t13d1516h2_8daaf6152771_02713d6af862", "ja4_a": "t13d1516h2"}]))
        );
        // A client "certificate" that does not parse gives nothing.
        let r = rec("SSL_CLIENT", Some("cert"), "bm90IGEgY2VydA==");
        assert!(from_passive(&r, None).unwrap().ports.is_none());
    }

    #[test]
    fn client_ntlm_authorization() {
        let mut r = rec(
            "HTTP_CLIENT_HEADER",
            Some("AUTHORIZATION"),
            "NTLM Workstation:QVpBVEhPVEg=",
        );
        r.infos = json!({"Workstation": "AZATHOTH"}).as_object().cloned();
        let h = from_passive(&r, None).unwrap();
        let s = &h.ports.as_ref().unwrap()[0].scripts.as_ref().unwrap()[0];
        assert_eq!(s.id, "ntlm-info");
        assert_eq!(
            s.data,
            Some(json!({"Workstation": "AZATHOTH", "protocol": "http"}))
        );
        // Basic authentication teaches the view nothing.
        let mut r = rec(
            "HTTP_CLIENT_HEADER",
            Some("AUTHORIZATION"),
            "Basic dXNlcjpwYXNz",
        );
        r.infos = json!({"username": "user"}).as_object().cloned();
        assert!(from_passive(&r, None).unwrap().ports.is_none());
    }

    #[test]
    fn ntlm_protocol_and_transport_from_zeek_sources() {
        assert_eq!(ntlm_protocol("tcp-SMB"), Some("smb"));
        assert_eq!(ntlm_protocol("tcp-DCE_RPC,SMB"), Some("smb"));
        assert_eq!(ntlm_protocol("tcp-DCE_RPC"), Some("dce-rpc"));
        assert_eq!(ntlm_protocol("tcp-HTTP"), Some("http"));
        assert_eq!(ntlm_protocol("tcp-"), None);
        assert_eq!(transport(Some("udp-SMB")), "udp");
        assert_eq!(transport(Some("whatever")), "tcp");
        assert_eq!(transport(None), "tcp");
    }

    #[test]
    fn odd_records_never_panic() {
        let recontypes = [
            "HTTP_CLIENT_HEADER",
            "HTTP_SERVER_HEADER",
            "SSH_SERVER",
            "TCP_SERVER_BANNER",
            "SSH_SERVER_HOSTKEY",
            "SSH_CLIENT_HASSH",
            "SSH_SERVER_HASSH",
            "SSL_SERVER",
            "SSL_CLIENT",
            "DNS_ANSWER",
            "MAC_ADDRESS",
            "OPEN_PORT",
            "TCP_HONEYPOT_HIT",
            "UDP_HONEYPOT_HIT",
            "HTTP_HONEYPOT_REQUEST",
            "DNS_HONEYPOT_QUERY",
            "STUN_HONEYPOT_REQUEST",
            "P0FV3_SYN",
            "NTLM_CHALLENGE",
            "NTLM_AUTHENTICATE",
            "SMB",
            "UNKNOWN",
        ];
        let sources = [
            None,
            Some(""),
            Some("-"),
            Some("ja3-"),
            Some("cert"),
            Some("ja4"),
            Some("SERVER"),
            Some("USER-AGENT"),
            Some("MICROSOFTSHAREPOINTTEAMSERVICES"),
            Some("WWW-AUTHENTICATE"),
            Some("tcp/"),
            Some("udp/99999"),
            Some("GET-1.1"),
            Some("udp/53-A"),
        ];
        let values = ["", "\\x", "NTLM", "a;b;c;d;e", "\x03\x00"];
        let infos = [
            None,
            json!({"raw": ";;;;", "algo": 1, "bits": "x", "client": 3, "os": "nmap"})
                .as_object()
                .cloned(),
        ];
        for rt in recontypes {
            for src in sources {
                for v in values {
                    for i in &infos {
                        for port in [None, Some(0), Some(65535)] {
                            let mut r = rec(rt, src, v);
                            r.infos = i.clone();
                            r.port = port;
                            let h = from_passive(&r, None).unwrap();
                            assert_eq!(h.addr, "198.51.100.7");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn open_port_protocol_from_source() {
        let mut r = rec("OPEN_PORT", Some("UDP"), "udp/53");
        r.port = Some(53);
        let h = from_passive(&r, None).unwrap();
        let p = &h.ports.as_ref().unwrap()[0];
        assert_eq!((p.protocol.as_deref(), p.port), (Some("udp"), 53));
        assert_eq!(p.state_reason.as_deref(), Some("passive"));
    }
}
