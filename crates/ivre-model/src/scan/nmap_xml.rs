//! Streaming reader of Nmap and Masscan XML (`-oX`), one host at a time
//! (spec scans.md §2.3 and §2.4).
//!
//! * Only `up` hosts are yielded (a missing `<status>` counts as up, as in
//!   Masscan output). `<hosthint>`, `<prescript>` and `<postscript>` are skipped.
//! * Every script goes through [`scripts::process`]; the [`Effects`] it reports
//!   (hostnames, CPEs, MACs) are applied to the host.
//! * A DOCTYPE is allowed (and never fetched); entity declarations and custom
//!   entity references are refused with a [`ParseErrorKind::Entity`] error.
//! * Input cut short yields the complete hosts, then one
//!   [`ParseErrorKind::Truncated`] error.
//! * Errors about one host's content ([`ParseErrorKind::Format`]) do not stop
//!   the iteration; syntax, entity, I/O and truncation errors end it.

use super::error::{ParseError, ParseErrorKind};
use super::masscan;
use super::record::{epoch_to_datetime, Hop, Host, Os, OsClass, OsMatch, Port, Trace};
use super::scripts::{self, Effects, PortContext};
use super::xml_events::{attr, Ev, XmlEvents};
use super::Script;
use chrono::NaiveDateTime;
use serde_json::{json, Map, Value};
use std::io::BufRead;

/// What the reader learnt about the scan itself (`<nmaprun>` and `<runstats>`).
/// `end` and the `hosts_*` counts are known only once the whole file is read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ScanInfo {
    /// `nmap`, `masscan`, ...
    pub scanner: Option<String>,
    pub version: Option<String>,
    pub args: Option<String>,
    pub start: Option<NaiveDateTime>,
    /// From `<runstats><finished time>`.
    pub end: Option<NaiveDateTime>,
    pub xmloutputversion: Option<String>,
    /// `<scaninfo>` elements, attributes as strings.
    pub scaninfo: Vec<Map<String, Value>>,
    pub elapsed: Option<String>,
    pub exit: Option<String>,
    pub summary: Option<String>,
    pub hosts_up: Option<u64>,
    pub hosts_down: Option<u64>,
    pub hosts_total: Option<u64>,
    /// True once `</nmaprun>` was seen.
    pub complete: bool,
}

/// Streaming Nmap / Masscan XML reader. Memory does not depend on the file size.
pub struct NmapXmlReader<R: BufRead> {
    xml: XmlEvents<R>,
    info: ScanInfo,
    started: bool,
    done: bool,
}

/// Script ids whose NSE tables IVRE ignores (mixed keyed and unkeyed elements).
const IGNORE_TABLE_SCRIPTS: &[&str] = &["xmpp-info", "sslv2", "sslv2-drown"];

impl<R: BufRead> NmapXmlReader<R> {
    pub fn new(input: R) -> Self {
        NmapXmlReader {
            xml: XmlEvents::new(input),
            info: ScanInfo::default(),
            started: false,
            done: false,
        }
    }

    /// The scan-level information read so far.
    pub fn scan_info(&self) -> &ScanInfo {
        &self.info
    }

    pub fn is_masscan(&self) -> bool {
        self.info.scanner.as_deref() == Some("masscan")
    }

    /// Reads until the next up host, the end, or an error.
    fn next_host(&mut self) -> Result<Option<Host>, ParseError> {
        loop {
            match self.xml.next()? {
                Ev::Start(name, attrs) => {
                    if !self.started {
                        if name != "nmaprun" {
                            return Err(self.xml.error_here(
                                ParseErrorKind::Format,
                                format!(
                                    "not an Nmap or Masscan XML document (root element <{name}>)"
                                ),
                            ));
                        }
                        self.started = true;
                        self.read_nmaprun(&attrs);
                        continue;
                    }
                    match name.as_str() {
                        "host" => {
                            if let Some(h) = self.read_host(&attrs)? {
                                return Ok(Some(h));
                            }
                        }
                        "hosthint" | "prescript" | "postscript" | "output" => {
                            self.xml.skip_element()?
                        }
                        "scaninfo" => self.info.scaninfo.push(attrs_map(&attrs)),
                        "finished" => {
                            self.info.end = attr(&attrs, "time")
                                .and_then(|t| t.parse().ok())
                                .and_then(epoch_to_datetime);
                            self.info.elapsed = attr(&attrs, "elapsed").map(String::from);
                            self.info.exit = attr(&attrs, "exit").map(String::from);
                            self.info.summary = attr(&attrs, "summary").map(String::from);
                        }
                        "hosts" => {
                            let n = |k| attr(&attrs, k).and_then(|v| v.parse().ok());
                            self.info.hosts_up = n("up");
                            self.info.hosts_down = n("down");
                            self.info.hosts_total = n("total");
                        }
                        // verbose, debugging, taskbegin, taskend, taskprogress, runstats, target...
                        _ => {}
                    }
                }
                Ev::End(name) => {
                    if name == "nmaprun" {
                        self.info.complete = true;
                    }
                }
                Ev::Text(t) => {
                    if !self.started && !t.trim().is_empty() {
                        return Err(self.xml.error_here(
                            ParseErrorKind::Format,
                            "not an XML scan result (text before the root element)",
                        ));
                    }
                }
                Ev::Eof => {
                    if !self.started {
                        return Err(self.xml.error_here(
                            ParseErrorKind::Truncated,
                            "input cut short before the <nmaprun> element",
                        ));
                    }
                    if !self.info.complete {
                        return Err(self.xml.error_here(
                            ParseErrorKind::Truncated,
                            "input cut short: no </nmaprun>",
                        ));
                    }
                    return Ok(None);
                }
            }
        }
    }

    fn read_nmaprun(&mut self, attrs: &[(String, String)]) {
        let get = |k| attr(attrs, k).map(String::from);
        self.info.scanner = get("scanner");
        self.info.version = get("version");
        self.info.args = get("args");
        self.info.xmloutputversion = get("xmloutputversion");
        self.info.start = attr(attrs, "start")
            .and_then(|t| t.parse().ok())
            .and_then(epoch_to_datetime);
    }

    /// Reads one `<host>` element (its start tag was just read). Returns
    /// `None` for hosts that are not up.
    fn read_host(&mut self, attrs: &[(String, String)]) -> Result<Option<Host>, ParseError> {
        let masscan = self.is_masscan();
        let mut b = HostBuilder::new(masscan);
        // Errors about the content are reported once the whole element is
        // read, so that the iteration can go on with the next host.
        let mut error: Option<ParseError> = None;
        for (k, v) in attrs {
            match k.as_str() {
                "starttime" | "endtime" => {
                    let d = v.trim().parse::<f64>().ok().and_then(epoch_to_datetime);
                    match d {
                        Some(d) if k == "starttime" => b.host.starttime = Some(d),
                        Some(d) => b.host.endtime = Some(d),
                        None => {
                            error.get_or_insert_with(|| {
                                self.xml.error_here(
                                    ParseErrorKind::Format,
                                    format!("<host {k}=\"{v}\">: not an epoch time"),
                                )
                            });
                        }
                    }
                }
                _ => {
                    b.host.extra.insert(k.clone(), Value::String(v.clone()));
                }
            }
        }
        let mut depth = 1usize;
        loop {
            match self.xml.next()? {
                Ev::Start(name, attrs) => {
                    depth += 1;
                    if let Err(msg) = b.start(&name, &attrs) {
                        error.get_or_insert_with(|| {
                            self.xml.error_here(ParseErrorKind::Format, msg)
                        });
                    }
                }
                Ev::End(name) => {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                    if let Err(msg) = b.end(&name) {
                        error.get_or_insert_with(|| {
                            self.xml.error_here(ParseErrorKind::Format, msg)
                        });
                    }
                }
                Ev::Text(t) => b.text(&t),
                Ev::Eof => {
                    return Err(self.xml.error_here(
                        ParseErrorKind::Truncated,
                        "input cut short inside a <host> element",
                    ))
                }
            }
        }
        if let Some(e) = error {
            return Err(e);
        }
        Ok(b.finish())
    }
}

impl<R: BufRead> Iterator for NmapXmlReader<R> {
    type Item = Result<Host, ParseError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done {
            return None;
        }
        match self.next_host() {
            Ok(Some(h)) => Some(Ok(h)),
            Ok(None) => {
                self.done = true;
                None
            }
            Err(e) => {
                if e.kind != ParseErrorKind::Format || !self.started {
                    self.done = true;
                }
                Some(Err(e))
            }
        }
    }
}

fn attrs_map(attrs: &[(String, String)]) -> Map<String, Value> {
    attrs
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect()
}

/// The children of an NSE table: (key, value) in document order.
type Children = Vec<(Option<String>, Value)>;

/// A script being read: its id, output and the stack of open tables.
struct ScriptBuilder {
    id: String,
    output: String,
    /// The open containers: the script itself first, then each `<table>`.
    stack: Vec<(Option<String>, Children)>,
    /// The `<elem>` being read: its key and text.
    elem: Option<(Option<String>, String)>,
}

/// Converts NSE table children to JSON: keyed children give an object (dots
/// in keys become `_`), unkeyed ones a list. In the rare mixed case, an
/// object where the unkeyed children are keyed by their position.
fn table_value(children: Vec<(Option<String>, Value)>) -> Value {
    if children.iter().all(|(k, _)| k.is_none()) {
        return Value::Array(children.into_iter().map(|(_, v)| v).collect());
    }
    let mut map = Map::new();
    for (i, (k, v)) in children.into_iter().enumerate() {
        let key = match k {
            Some(k) => k.replace('.', "_"),
            None => i.to_string(),
        };
        map.insert(key, v);
    }
    Value::Object(map)
}

/// Where the current `<cpe>` text goes.
enum CpeOrigin {
    Port(i64),
    Os(Option<String>),
    Other,
}

struct HostBuilder {
    host: Host,
    masscan: bool,
    effects: Effects,
    port: Option<Port>,
    in_hostscript: bool,
    script: Option<ScriptBuilder>,
    extraports_state: Option<String>,
    os: Option<Os>,
    osmatch_line: Option<String>,
    trace: Option<Trace>,
    cpe: Option<(CpeOrigin, String)>,
    in_ports: bool,
}

fn int_attr(attrs: &[(String, String)], name: &str) -> Option<i64> {
    attr(attrs, name).and_then(|v| v.trim().parse().ok())
}

impl HostBuilder {
    fn new(masscan: bool) -> Self {
        HostBuilder {
            host: Host::new(String::new()),
            masscan,
            effects: Effects::default(),
            port: None,
            in_hostscript: false,
            script: None,
            extraports_state: None,
            os: None,
            osmatch_line: None,
            trace: None,
            cpe: None,
            in_ports: false,
        }
    }

    fn start(&mut self, name: &str, attrs: &[(String, String)]) -> Result<(), String> {
        // Inside a script: only tables and elems matter.
        if let Some(s) = self.script.as_mut() {
            match name {
                "table" => s
                    .stack
                    .push((attr(attrs, "key").map(String::from), Vec::new())),
                "elem" => s.elem = Some((attr(attrs, "key").map(String::from), String::new())),
                _ => {}
            }
            return Ok(());
        }
        match name {
            "status" => {
                self.host.state = attr(attrs, "state").map(String::from);
                self.host.state_reason = attr(attrs, "reason").map(String::from);
                self.host.state_reason_ttl = int_attr(attrs, "reason_ttl");
            }
            "address" => {
                let addr = attr(attrs, "addr").unwrap_or("");
                let kind = attr(attrs, "addrtype").unwrap_or("ipv4");
                match kind {
                    "ipv4" | "ipv6" if self.host.addr.is_empty() => {
                        self.host.addr = canonical_ip(addr)
                            .ok_or_else(|| format!("invalid {kind} address {addr:?}"))?;
                    }
                    "mac" => self.host.add_mac(addr),
                    _ => self.host.add_address(kind, addr),
                }
            }
            "hostnames" => {
                self.host.hostnames.get_or_insert_with(Vec::new);
            }
            "hostname" => {
                if let Some(n) = attr(attrs, "name") {
                    self.host.add_hostname(n, attr(attrs, "type").unwrap_or(""));
                }
            }
            "ports" => {
                self.in_ports = true;
                self.host.ports.get_or_insert_with(Vec::new);
            }
            "extraports" => {
                let state = attr(attrs, "state").unwrap_or("").to_string();
                let total = int_attr(attrs, "count").unwrap_or(0);
                let e = self
                    .host
                    .extraports
                    .get_or_insert_with(Default::default)
                    .entry(state.clone())
                    .or_default();
                e.total += total;
                self.extraports_state = Some(state);
            }
            "extrareasons" => {
                if let Some(state) = &self.extraports_state {
                    let reason = attr(attrs, "reason").unwrap_or("").to_string();
                    let count = int_attr(attrs, "count").unwrap_or(0);
                    if let Some(e) = self.host.extraports.as_mut().and_then(|m| m.get_mut(state)) {
                        *e.reasons.entry(reason).or_insert(0) += count;
                    }
                }
            }
            "port" => {
                let proto = attr(attrs, "protocol").unwrap_or("tcp");
                let portid = int_attr(attrs, "portid").ok_or("<port> without a valid portid")?;
                self.port = Some(Port::new(proto, portid));
            }
            "state" => {
                if let Some(p) = self.port.as_mut() {
                    p.state_state = attr(attrs, "state").map(String::from);
                    p.state_reason = attr(attrs, "reason").map(String::from);
                    p.state_reason_ttl = int_attr(attrs, "reason_ttl");
                    p.state_reason_ip = attr(attrs, "reason_ip").map(String::from);
                }
            }
            "owner" => {
                if let (Some(p), Some(n)) = (self.port.as_mut(), attr(attrs, "name")) {
                    p.extra.insert("owner".into(), Value::String(n.to_string()));
                }
            }
            "service" => {
                if let Some(p) = self.port.as_mut() {
                    if self.masscan && attr(attrs, "banner").is_some() {
                        let name = attr(attrs, "name").unwrap_or("unknown");
                        let banner = attr(attrs, "banner").unwrap_or("");
                        if let Some(script) = masscan::banner_script(p, name, banner) {
                            process_port_script(p, script, &mut self.effects);
                        }
                    } else if attr(attrs, "method") != Some("table") {
                        set_service(p, attrs);
                    }
                }
            }
            "cpe" => {
                let origin = if let Some(p) = &self.port {
                    CpeOrigin::Port(p.port)
                } else if self.os.is_some() {
                    CpeOrigin::Os(self.osmatch_line.clone())
                } else {
                    CpeOrigin::Other
                };
                self.cpe = Some((origin, String::new()));
            }
            "script" => {
                self.script = Some(ScriptBuilder {
                    id: attr(attrs, "id").unwrap_or("").to_string(),
                    output: attr(attrs, "output").unwrap_or("").to_string(),
                    stack: vec![(None, Vec::new())],
                    elem: None,
                });
            }
            "hostscript" => self.in_hostscript = true,
            "os" => {
                self.os.get_or_insert_with(Os::default);
            }
            "portused" => {
                if let Some(os) = self.os.as_mut() {
                    let mut m = Map::new();
                    m.insert(
                        "port".into(),
                        json!(format!(
                            "{}_{}",
                            attr(attrs, "proto").unwrap_or(""),
                            attr(attrs, "portid").unwrap_or("")
                        )),
                    );
                    m.insert("state".into(), json!(attr(attrs, "state").unwrap_or("")));
                    os.portused = Some(m);
                }
            }
            "osmatch" => {
                if let Some(os) = self.os.as_mut() {
                    let line = attr(attrs, "line").map(String::from);
                    os.osmatch.get_or_insert_with(Vec::new).push(OsMatch {
                        name: attr(attrs, "name").map(String::from),
                        accuracy: attr(attrs, "accuracy").map(String::from),
                        line: line.clone(),
                        extra: Map::new(),
                    });
                    self.osmatch_line = line;
                }
            }
            "osclass" => {
                if let Some(os) = self.os.as_mut() {
                    os.osclass.get_or_insert_with(Vec::new).push(OsClass {
                        kind: attr(attrs, "type").map(String::from),
                        vendor: attr(attrs, "vendor").map(String::from),
                        osfamily: attr(attrs, "osfamily").map(String::from),
                        osgen: attr(attrs, "osgen").map(String::from),
                        accuracy: attr(attrs, "accuracy").map(String::from),
                        extra: Map::new(),
                    });
                }
            }
            "osfingerprint" => {
                if let Some(os) = self.os.as_mut() {
                    os.fingerprint = attr(attrs, "fingerprint").map(String::from);
                }
            }
            "uptime" => {
                let mut m = Map::new();
                if let Some(s) = int_attr(attrs, "seconds") {
                    m.insert("seconds".into(), json!(s));
                }
                if let Some(l) = attr(attrs, "lastboot") {
                    m.insert("lastboot".into(), json!(l));
                }
                self.host.extra.insert("uptime".into(), Value::Object(m));
            }
            "distance" => {
                if let Some(d) = int_attr(attrs, "value") {
                    self.host.extra.insert("distance".into(), json!(d));
                }
            }
            "tcpsequence" => {
                let mut m = attrs_map(attrs);
                if let Some(i) = int_attr(attrs, "index") {
                    m.insert("index".into(), json!(i));
                }
                self.host
                    .extra
                    .insert("tcpsequence".into(), Value::Object(m));
            }
            "ipidsequence" | "tcptssequence" | "times" => {
                self.host
                    .extra
                    .insert(name.to_string(), Value::Object(attrs_map(attrs)));
            }
            "trace" => {
                self.trace = Some(Trace {
                    protocol: attr(attrs, "proto").map(String::from),
                    port: int_attr(attrs, "port"),
                    hops: Vec::new(),
                    extra: Map::new(),
                });
            }
            "hop" => {
                if let Some(t) = self.trace.as_mut() {
                    let rtt = match attr(attrs, "rtt") {
                        None => Value::Null,
                        Some(r) => match r.trim().parse::<f64>() {
                            Ok(f) if f.is_finite() => json!(f),
                            _ => Value::String(r.to_string()),
                        },
                    };
                    let ipaddr = attr(attrs, "ipaddr");
                    let host = attr(attrs, "host").filter(|h| !h.is_empty());
                    t.hops.push(Hop {
                        ttl: int_attr(attrs, "ttl"),
                        ipaddr: ipaddr.map(|a| canonical_ip(a).unwrap_or_else(|| a.to_string())),
                        rtt,
                        domains: host.map(super::record::name_domains),
                        host: host.map(String::from),
                        extra: Map::new(),
                    });
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn text(&mut self, t: &str) {
        if let Some(s) = self.script.as_mut() {
            if let Some((_, text)) = s.elem.as_mut() {
                text.push_str(t);
            }
        } else if let Some((_, text)) = self.cpe.as_mut() {
            text.push_str(t);
        }
    }

    fn end(&mut self, name: &str) -> Result<(), String> {
        if let Some(s) = self.script.as_mut() {
            match name {
                "elem" => {
                    if let Some((key, text)) = s.elem.take() {
                        if let Some(top) = s.stack.last_mut() {
                            top.1.push((key, Value::String(text)));
                        }
                    }
                }
                "table" if s.stack.len() > 1 => {
                    let (key, children) = s.stack.pop().unwrap_or_default();
                    let v = table_value(children);
                    if let Some(top) = s.stack.last_mut() {
                        top.1.push((key, v));
                    }
                }
                "script" => {
                    let s = self.script.take().expect("in a script");
                    self.finish_script(s);
                }
                _ => {}
            }
            return Ok(());
        }
        match name {
            "port" => {
                if let Some(p) = self.port.take() {
                    self.host.ports.get_or_insert_with(Vec::new).push(p);
                }
            }
            "cpe" => {
                if let Some((origin, text)) = self.cpe.take() {
                    let origin = match origin {
                        CpeOrigin::Port(p) => format!("ports.port:{p}"),
                        CpeOrigin::Os(Some(line)) => format!("os.osmatch.line:{line}"),
                        CpeOrigin::Os(None) => "os".to_string(),
                        CpeOrigin::Other => "cpe".to_string(),
                    };
                    self.host.add_cpe(text.trim(), &origin);
                }
            }
            "hostscript" => self.in_hostscript = false,
            "extraports" => self.extraports_state = None,
            "osmatch" => self.osmatch_line = None,
            "os" => {
                if let Some(os) = self.os.take() {
                    self.host.os = Some(os);
                }
            }
            "trace" => {
                if let Some(t) = self.trace.take() {
                    self.host.traces.get_or_insert_with(Vec::new).push(t);
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn finish_script(&mut self, mut s: ScriptBuilder) {
        let children = s.stack.pop().map(|(_, c)| c).unwrap_or_default();
        let data = if children.is_empty() || IGNORE_TABLE_SCRIPTS.contains(&s.id.as_str()) {
            None
        } else {
            Some(table_value(children))
        };
        let script = Script {
            id: s.id,
            output: s.output,
            data,
            extra: Map::new(),
        };
        if let Some(p) = self.port.as_mut() {
            process_port_script(p, script, &mut self.effects);
        } else if self.in_hostscript {
            process_port_script(self.host.host_scripts_port(), script, &mut self.effects);
        }
        // Scripts elsewhere (none in Nmap's DTD) are ignored.
    }

    fn finish(mut self) -> Option<Host> {
        match self.host.state.as_deref() {
            None => self.host.state = Some("up".into()),
            Some("up") => {}
            Some(_) => return None,
        }
        if self.host.addr.is_empty() {
            return None;
        }
        if self.host.starttime.is_none() {
            self.host.starttime = self.host.endtime;
        }
        if self.host.endtime.is_none() {
            self.host.endtime = self.host.starttime;
        }
        let effects = std::mem::take(&mut self.effects);
        apply_effects(&mut self.host, effects);
        self.host.recompute_openports();
        Some(self.host)
    }
}

/// Runs a script through the catalogue ([`scripts::process`]) in the context
/// of `port` (the `-1` pseudo-port for host scripts), appends the resulting
/// scripts to the port, sets the service fields the catalogue reported on the
/// port, and collects the host-level effects (hostnames, CPEs, MACs) in
/// `host_effects`, to be applied with [`apply_effects`].
pub fn process_port_script(port: &mut Port, script: Script, host_effects: &mut Effects) {
    let mut fx = Effects::default();
    let out = {
        let ctx = PortContext {
            port: u16::try_from(port.port).ok(),
            protocol: port.protocol.as_deref(),
            service_name: port.service_name.as_deref(),
        };
        scripts::process(script, &ctx, &mut fx)
    };
    port.scripts.get_or_insert_with(Vec::new).extend(out);
    if !fx.service.is_empty() && port.port >= 0 {
        set_port_fields(port, std::mem::take(&mut fx.service));
    }
    host_effects.hostnames.append(&mut fx.hostnames);
    host_effects.cpes.append(&mut fx.cpes);
    host_effects.macs.append(&mut fx.macs);
}

/// Sets port fields given by name (`service_name`, ...), keeping the port
/// valid: a value of the wrong type is ignored.
pub fn set_port_fields(port: &mut Port, fields: Map<String, Value>) {
    let Ok(Value::Object(mut v)) = serde_json::to_value(&*port) else {
        return;
    };
    for (k, val) in fields {
        let old = v.insert(k.clone(), val);
        if serde_json::from_value::<Port>(Value::Object(v.clone())).is_err() {
            match old {
                Some(o) => v.insert(k, o),
                None => v.remove(&k),
            };
        }
    }
    if let Ok(p) = serde_json::from_value(Value::Object(v)) {
        *port = p;
    }
}

/// Applies what the script catalogue reported to the host.
pub fn apply_effects(host: &mut Host, effects: Effects) {
    for (name, kind) in effects.hostnames {
        host.add_hostname(&name, &kind);
    }
    for (cpe, origin) in effects.cpes {
        host.add_cpe(&cpe, &origin);
    }
    for mac in effects.macs {
        host.add_mac(&mac);
    }
}

/// Canonical text of an IP address, or None.
pub fn canonical_ip(addr: &str) -> Option<String> {
    addr.trim()
        .parse::<std::net::IpAddr>()
        .ok()
        .map(|a| a.to_string())
}

/// Copies the `<service>` attributes to `service_*` port fields
/// (`https` becomes `http` with `service_tunnel=ssl`).
fn set_service(p: &mut Port, attrs: &[(String, String)]) {
    for (k, v) in attrs {
        let int = || v.trim().parse::<i64>().ok();
        match k.as_str() {
            "name" => p.service_name = Some(v.clone()),
            "product" => p.service_product = Some(v.clone()),
            "version" => p.service_version = Some(v.clone()),
            "extrainfo" => p.service_extrainfo = Some(v.clone()),
            "ostype" => p.service_ostype = Some(v.clone()),
            "devicetype" => p.service_devicetype = Some(v.clone()),
            "hostname" => p.service_hostname = Some(v.clone()),
            "tunnel" => p.service_tunnel = Some(v.clone()),
            "method" => p.service_method = Some(v.clone()),
            "conf" => p.service_conf = int(),
            "servicefp" => p.service_servicefp = Some(v.clone()),
            "proto" => p.service_proto = Some(v.clone()),
            "rpcnum" => p.service_rpcnum = int(),
            "lowver" => p.service_lowver = int(),
            "highver" => p.service_highver = int(),
            other => {
                p.extra
                    .insert(format!("service_{other}"), Value::String(v.clone()));
            }
        }
    }
    if p.service_name.as_deref() == Some("https") {
        p.service_name = Some("http".into());
        p.service_tunnel = Some("ssl".into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE nmaprun>
<?xml-stylesheet href="file:///usr/share/nmap/nmap.xsl" type="text/xsl"?>
<nmaprun scanner="nmap" args="nmap -A -&#45;script x 192.0.2.0/30" start="1610228563" version="7.94" xmloutputversion="1.05">
<scaninfo type="syn" protocol="tcp" numservices="2" services="22,443"/>
<verbose level="0"/>
<prescript><script id="broadcast-x" output="ignored"/></prescript>
<hosthint><status state="up" reason="arp-response" reason_ttl="0"/>
<address addr="192.0.2.9" addrtype="ipv4"/><hostnames><hostname name="hint.example.com" type="PTR"/></hostnames></hosthint>
<host starttime="1610228563" endtime="1610228584" comment="hello"><status state="up" reason="echo-reply" reason_ttl="52"/>
<address addr="192.0.2.1" addrtype="ipv4"/>
<address addr="00:15:5D:06:8F:11" addrtype="mac" vendor="Microsoft"/>
<hostnames><hostname name="WWW.Example.com" type="PTR"/><hostname name="www.example.com" type="user"/></hostnames>
<ports><extraports state="filtered" count="997">
<extrareasons reason="no-responses" count="990"/><extrareasons reason="host-unreach" count="7"/>
</extraports>
<port protocol="tcp" portid="22"><state state="open" reason="syn-ack" reason_ttl="52"/><service name="ssh" product="OpenSSH" version="8.9p1" extrainfo="protocol 2.0" ostype="Linux" method="probed" conf="10"><cpe>cpe:/a:openbsd:openssh:8.9p1</cpe><cpe>cpe:/o:linux:linux_kernel</cpe></service><script id="ssh-hostkey" output="&#xa;  256 aa:bb (ED25519)"><table>
<elem key="type">ssh-ed25519</elem>
<elem key="bits">256</elem>
</table>
</script></port>
<port protocol="tcp" portid="443"><state state="open" reason="syn-ack" reason_ttl="52"/><service name="https" method="probed" conf="10"/><script id="x.y" output="o"><elem key="a.b">1</elem><table key="list"><elem>x</elem><elem>y</elem></table><table key="empty"></table></script><script id="xmpp-info" output="mixed"><elem key="a">1</elem><elem>2</elem></script></port>
<port protocol="udp" portid="53"><state state="closed" reason="port-unreach" reason_ttl="52"/><service name="domain" method="table" conf="3"/></port>
<port protocol="tcp" portid="113"><state state="open" reason="syn-ack" reason_ttl="52"/><owner name="root"/><service name="ident" method="probed" conf="10" rpcnum="100000" lowver="2" highver="4" proto="rpc"/></port>
</ports>
<os><portused state="open" proto="tcp" portid="22"/><portused state="closed" proto="udp" portid="31337"/>
<osmatch name="Linux 5.0 - 5.14" accuracy="95" line="67890">
<osclass type="general purpose" vendor="Linux" osfamily="Linux" osgen="5.X" accuracy="95"><cpe>cpe:/o:linux:linux_kernel:5</cpe></osclass>
<osclass type="general purpose" vendor="Linux" osfamily="Linux" osgen="4.X" accuracy="95"/>
</osmatch>
<osfingerprint fingerprint="OS:SCAN(V=7.94)"/>
</os>
<uptime seconds="1234" lastboot="Sat Jan  9 22:22:09 2021"/>
<distance value="11"/>
<tcpsequence index="262" difficulty="Good luck!" values="1,2"/>
<ipidsequence class="All zeros" values="0,0"/>
<tcptssequence class="1000HZ" values="A,B"/>
<hostscript><script id="fcrdns" output="www.example.com (PTR)"/><script id="smb-os-discovery" output="x"/></hostscript>
<trace port="443" proto="tcp">
<hop ttl="1" ipaddr="198.51.100.1" rtt="0.41" host="gw.example.net"/>
<hop ttl="2" ipaddr="198.51.100.2" rtt="--"/>
</trace>
<times srtt="109626" rttvar="36470" to="255506"/>
</host>
<host starttime="1610228563" endtime="1610228584"><status state="down" reason="no-response" reason_ttl="0"/>
<address addr="192.0.2.2" addrtype="ipv4"/></host>
<host><address addr="2001:DB8::0001" addrtype="ipv6"/><hostnames/></host>
<postscript><script id="y" output="ignored"/></postscript>
<runstats><finished time="1610228584" timestr="x" summary="done" elapsed="21.50" exit="success"/><hosts up="2" down="1" total="3"/>
</runstats>
</nmaprun>
"#;

    fn parse(doc: &str) -> (Vec<Result<Host, ParseError>>, ScanInfo) {
        let mut r = NmapXmlReader::new(doc.as_bytes());
        let out: Vec<_> = r.by_ref().collect();
        (out, r.scan_info().clone())
    }

    #[test]
    fn full_nmap_document() {
        let (hosts, info) = parse(DOC);
        assert_eq!(hosts.len(), 2, "{hosts:?}");
        let h = hosts[0].as_ref().unwrap();
        let v = serde_json::to_value(h).unwrap();
        assert_eq!(v["addr"], "192.0.2.1");
        assert_eq!(v["comment"], "hello");
        assert_eq!(v["state_reason_ttl"], 52);
        assert_eq!(v["starttime"], "2021-01-09 21:42:43");
        assert_eq!(v["addresses"], json!({"mac": ["00:15:5d:06:8f:11"]}));
        assert_eq!(
            v["hostnames"],
            json!([{"type": "PTR", "name": "www.example.com", "domains": ["www.example.com", "example.com", "com"]},
                   {"type": "user", "name": "www.example.com", "domains": ["www.example.com", "example.com", "com"]}])
        );
        assert_eq!(
            v["extraports"],
            json!({"filtered": {"total": 997, "reasons": {"no-responses": 990, "host-unreach": 7}}})
        );
        let ports = v["ports"].as_array().unwrap();
        assert_eq!(ports.len(), 5);
        assert_eq!(ports[0]["service_product"], "OpenSSH");
        assert_eq!(ports[0]["service_conf"], 10);
        assert_eq!(
            ports[0]["scripts"][0]["ssh-hostkey"],
            json!([{"type": "ssh-ed25519", "bits": 256}])
        );
        assert_eq!(ports[1]["service_name"], "http");
        assert_eq!(ports[1]["service_tunnel"], "ssl");
        assert_eq!(
            ports[1]["scripts"][0]["x.y"],
            json!({"a_b": "1", "list": ["x", "y"], "empty": []})
        );
        assert_eq!(
            ports[1]["scripts"][1],
            json!({"id": "xmpp-info", "output": "mixed"})
        );
        // method="table" discarded
        assert_eq!(ports[2].get("service_name"), None);
        assert_eq!(ports[3]["owner"], "root");
        assert_eq!(ports[3]["service_rpcnum"], 100000);
        assert_eq!(ports[3]["service_highver"], 4);
        assert_eq!(ports[4]["port"], -1);
        assert_eq!(ports[4].get("protocol"), None);
        assert_eq!(ports[4]["scripts"].as_array().unwrap().len(), 2);
        assert_eq!(
            v["openports"],
            json!({"count": 3, "tcp": {"count": 3, "ports": [22, 113, 443]}})
        );
        assert_eq!(
            v["os"],
            json!({"osmatch": [{"name": "Linux 5.0 - 5.14", "accuracy": "95", "line": "67890"}],
                   "osclass": [{"type": "general purpose", "vendor": "Linux", "osfamily": "Linux", "osgen": "5.X", "accuracy": "95"},
                               {"type": "general purpose", "vendor": "Linux", "osfamily": "Linux", "osgen": "4.X", "accuracy": "95"}],
                   "portused": {"port": "udp_31337", "state": "closed"},
                   "fingerprint": "OS:SCAN(V=7.94)"})
        );
        assert_eq!(
            v["cpes"],
            json!([{"type": "a", "vendor": "openbsd", "product": "openssh", "version": "8.9p1", "origins": ["ports.port:22"]},
                   {"type": "o", "vendor": "linux", "product": "linux_kernel", "version": "", "origins": ["ports.port:22"]},
                   {"type": "o", "vendor": "linux", "product": "linux_kernel", "version": "5", "origins": ["os.osmatch.line:67890"]}])
        );
        assert_eq!(
            v["traces"],
            json!([{"protocol": "tcp", "port": 443, "hops": [
                {"ttl": 1, "ipaddr": "198.51.100.1", "rtt": 0.41, "host": "gw.example.net", "domains": ["gw.example.net", "example.net", "net"]},
                {"ttl": 2, "ipaddr": "198.51.100.2", "rtt": "--"}]}])
        );
        assert_eq!(
            v["uptime"],
            json!({"seconds": 1234, "lastboot": "Sat Jan  9 22:22:09 2021"})
        );
        assert_eq!(v["distance"], 11);
        assert_eq!(v["tcpsequence"]["index"], 262);
        assert_eq!(v["ipidsequence"]["class"], "All zeros");
        assert_eq!(v["tcptssequence"]["values"], "A,B");
        assert_eq!(v["times"]["srtt"], "109626");
        assert_eq!(v["schema_version"], 22);
        // the IPv6 host with no status: up, canonical address, no ports
        let h2 = hosts[1].as_ref().unwrap();
        assert_eq!(h2.addr, "2001:db8::1");
        assert_eq!(h2.state.as_deref(), Some("up"));
        assert!(h2.ports.is_none());
        assert_eq!(h2.hostnames.as_deref(), Some(&[][..]));
        // scan-level information
        assert_eq!(info.scanner.as_deref(), Some("nmap"));
        assert_eq!(info.version.as_deref(), Some("7.94"));
        assert_eq!(
            info.args.as_deref(),
            Some("nmap -A --script x 192.0.2.0/30")
        );
        assert_eq!(info.xmloutputversion.as_deref(), Some("1.05"));
        assert_eq!(
            info.start.map(|d| d.to_string()).as_deref(),
            Some("2021-01-09 21:42:43")
        );
        assert_eq!(
            info.end.map(|d| d.to_string()).as_deref(),
            Some("2021-01-09 21:43:04")
        );
        assert_eq!(info.hosts_total, Some(3));
        assert_eq!(info.scaninfo.len(), 1);
        assert!(info.complete);
    }

    #[test]
    fn masscan_document() {
        let doc = r#"<?xml version="1.0"?>
<!-- masscan v1.0 scan -->
<nmaprun scanner="masscan" start="1524396448" version="1.0-BETA"  xmloutputversion="1.03">
<scaninfo type="syn" protocol="tcp" />
<host endtime="1524396450"><address addr="192.0.2.1" addrtype="ipv4"/><ports><port protocol="tcp" portid="22"><state state="open" reason="response" reason_ttl="114" /><service name="ssh" banner="SSH-2.0-OpenSSH_8.4\x0d\x0a\x00\x01"></service></port></ports></host>
<host endtime="1524396451"><address addr="192.0.2.1" addrtype="ipv4"/><ports><port protocol="tcp" portid="443"><state state="open" reason="response" reason_ttl="114" /><service name="X509" banner="MIIB"></service></port></ports></host>
<host endtime="1524396452"><address addr="192.0.2.1" addrtype="ipv4"/><ports><port protocol="tcp" portid="139"><state state="open" reason="response" reason_ttl="114" /><service name="smb" banner="SMBv1 x"></service></port></ports></host>
<runstats>
<finished time="1524396460" timestr="2018-04-22 13:27:40" elapsed="12" />
<hosts up="3" down="0" total="3" />
</runstats>
</nmaprun>
"#;
        let (hosts, info) = parse(doc);
        assert_eq!(info.scanner.as_deref(), Some("masscan"));
        let hosts: Vec<Host> = hosts.into_iter().map(Result::unwrap).collect();
        assert_eq!(hosts.len(), 3);
        assert_eq!(hosts[0].starttime, hosts[0].endtime);
        assert_eq!(hosts[0].state.as_deref(), Some("up"));
        let v = serde_json::to_value(&hosts[0]).unwrap();
        assert_eq!(
            v["ports"][0]["scripts"][0],
            json!({"id": "banner", "output": "SSH-2.0-OpenSSH_8.4",
                   "masscan": {"raw": "U1NILTIuMC1PcGVuU1NIXzguNA0KAAE=", "encoded": "SSH-2.0-OpenSSH_8.4\\x0d\\x0a\\x00\\x01"}})
        );
        let v = serde_json::to_value(&hosts[1]).unwrap();
        assert_eq!(v["ports"][0]["service_tunnel"], "ssl");
        assert_eq!(v["ports"][0]["scripts"][0]["id"], "ssl-cert");
        assert_eq!(v["ports"][0]["scripts"][0]["output"], "MIIB");
        let v = serde_json::to_value(&hosts[2]).unwrap();
        assert_eq!(v["ports"][0]["service_name"], "netbios-ssn");
        assert_eq!(v["ports"][0]["scripts"][0]["id"], "smb-os-discovery");
    }

    #[test]
    fn entities_are_refused() {
        let bomb = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
]>
<nmaprun scanner="nmap"><host><address addr="192.0.2.1" addrtype="ipv4"/><hostnames><hostname name="&lol2;"/></hostnames></host></nmaprun>"#;
        let (out, _) = parse(bomb);
        assert_eq!(out.len(), 1);
        let e = out[0].as_ref().unwrap_err();
        assert_eq!(e.kind, ParseErrorKind::Entity);
        assert_eq!(e.line, 2);
        // a custom entity reference without a declaration
        let doc = "<nmaprun scanner=\"nmap\">\n<host><address addr=\"192.0.2.1\" addrtype=\"ipv4\"/>\n<hostnames><hostname name=\"&ext;\"/></hostnames></host></nmaprun>";
        let (out, _) = parse(doc);
        let e = out[0].as_ref().unwrap_err();
        assert_eq!(e.kind, ParseErrorKind::Entity, "{e}");
        assert_eq!(e.line, 3, "{e}");
        // in text
        let doc = "<nmaprun scanner=\"nmap\"><host><address addr=\"192.0.2.1\" addrtype=\"ipv4\"/><ports><port protocol=\"tcp\" portid=\"1\"><script id=\"x\" output=\"\"><elem>&ext;</elem></script></port></ports></host></nmaprun>";
        let (out, _) = parse(doc);
        assert_eq!(out[0].as_ref().unwrap_err().kind, ParseErrorKind::Entity);
        // predefined and character references are fine
        let doc = "<nmaprun scanner=\"nmap\"><host><address addr=\"192.0.2.1\" addrtype=\"ipv4\"/><ports><port protocol=\"tcp\" portid=\"1\"><script id=\"x\" output=\"a&amp;b&#xa;&lt;\"/></port></ports></host></nmaprun>";
        let (out, _) = parse(doc);
        let h = out[0].as_ref().unwrap();
        assert_eq!(
            h.ports.as_ref().unwrap()[0].scripts.as_ref().unwrap()[0].output,
            "a&b\n<"
        );
    }

    #[test]
    fn errors_have_places() {
        let doc = "<nmaprun scanner=\"nmap\">\n<host>\n  <address addr=\"192.0.2.1\" addrtype=\"ipv4\"/>\n  <ports><port protocol=\"tcp\" portid=\"1\"></ports>\n</host></nmaprun>";
        let (out, _) = parse(doc);
        let e = out.last().unwrap().as_ref().unwrap_err();
        assert_eq!(e.kind, ParseErrorKind::Syntax, "{e}");
        assert_eq!(e.line, 4, "{e}");
        let (out, _) = parse("<foo/>");
        assert_eq!(out[0].as_ref().unwrap_err().kind, ParseErrorKind::Format);
        let (out, _) = parse("<nmaprun scanner=\"nmap\"><host><address addr=\"192.0.2.1\" addrtype=\"ipv4\"/></host>");
        assert!(out[0].is_ok());
        assert_eq!(out[1].as_ref().unwrap_err().kind, ParseErrorKind::Truncated);
        let (out, _) = parse("<nmaprun scanner=\"nmap\"><host><address addr=\"192.0.2.1\" addrt");
        assert_eq!(out[0].as_ref().unwrap_err().kind, ParseErrorKind::Truncated);
        // a bad time or address is an error about that host only
        let (out, _) = parse("<nmaprun scanner=\"nmap\"><host starttime=\"x\"><address addr=\"192.0.2.2\" addrtype=\"ipv4\"/></host><host><address addr=\"192.0.2.1\" addrtype=\"ipv4\"/></host></nmaprun>");
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].as_ref().unwrap_err().kind, ParseErrorKind::Format);
        assert_eq!(out[1].as_ref().unwrap().addr, "192.0.2.1");
        let (out, _) = parse("<nmaprun scanner=\"nmap\"><host><address addr=\"x\" addrtype=\"ipv4\"/></host><host><address addr=\"192.0.2.1\" addrtype=\"ipv4\"/></host></nmaprun>");
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].as_ref().unwrap_err().kind, ParseErrorKind::Format);
        assert!(out[1].is_ok());
    }
}
