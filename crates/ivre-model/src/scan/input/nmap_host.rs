//! The assembly of one Nmap / Masscan XML `<host>` element into a host
//! record, from the events inside it (the reader in [`super::nmap_xml`]
//! feeds them).

use super::xml_events::{attr, attrs_map};
use crate::scan::assemble::{apply_effects, banner_script, canonical_ip, process_port_script};
use crate::scan::record::{
    epoch_to_datetime, name_domains, Hop, Host, Os, OsClass, OsMatch, Port, Trace,
};
use crate::scan::script::Script;
use crate::scan::scripts::Effects;
use serde_json::{json, Map, Value};

/// What is wrong with the content of one `<host>` element: the host is
/// skipped, the reading goes on.
#[derive(Debug, thiserror::Error)]
pub(super) enum HostError {
    #[error("<host {attribute}=\"{value}\">: not an epoch time")]
    Time { attribute: String, value: String },
    #[error("invalid {kind} address {addr:?}")]
    Address { kind: String, addr: String },
    #[error("<port> without a valid portid")]
    PortId,
}

/// Script ids whose NSE tables IVRE ignores (mixed keyed and unkeyed elements).
const IGNORE_TABLE_SCRIPTS: &[&str] = &["xmpp-info", "sslv2", "sslv2-drown"];

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

/// A `<host>` element being read.
pub(super) struct HostBuilder {
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
    /// `masscan`: the document is Masscan's (its `<service banner>` are banners).
    pub(super) fn new(masscan: bool) -> Self {
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

    /// The attributes of the `<host>` start tag. All are read even when one
    /// is wrong; the first error is returned.
    pub(super) fn host_attributes(&mut self, attrs: &[(String, String)]) -> Result<(), HostError> {
        let mut error = None;
        for (k, v) in attrs {
            match k.as_str() {
                "starttime" | "endtime" => {
                    let d = v.trim().parse::<f64>().ok().and_then(epoch_to_datetime);
                    match d {
                        Some(d) if k == "starttime" => self.host.starttime = Some(d),
                        Some(d) => self.host.endtime = Some(d),
                        None => {
                            error.get_or_insert_with(|| HostError::Time {
                                attribute: k.clone(),
                                value: v.clone(),
                            });
                        }
                    }
                }
                _ => {
                    self.host.extra.insert(k.clone(), Value::String(v.clone()));
                }
            }
        }
        error.map_or(Ok(()), Err)
    }

    /// A start tag inside the `<host>` element.
    pub(super) fn start(
        &mut self,
        name: &str,
        attrs: &[(String, String)],
    ) -> Result<(), HostError> {
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
                        self.host.addr = canonical_ip(addr).ok_or_else(|| HostError::Address {
                            kind: kind.to_string(),
                            addr: addr.to_string(),
                        })?;
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
                let portid = int_attr(attrs, "portid").ok_or(HostError::PortId)?;
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
                        let script = banner_script(p, name, banner);
                        process_port_script(p, script, &mut self.effects);
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
                        domains: host.map(name_domains),
                        host: host.map(String::from),
                        extra: Map::new(),
                    });
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// Text inside the `<host>` element.
    pub(super) fn text(&mut self, t: &str) {
        if let Some(s) = self.script.as_mut() {
            if let Some((_, text)) = s.elem.as_mut() {
                text.push_str(t);
            }
        } else if let Some((_, text)) = self.cpe.as_mut() {
            text.push_str(t);
        }
    }

    /// An end tag inside the `<host>` element (not its own).
    pub(super) fn end(&mut self, name: &str) {
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
            return;
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

    /// The host, once its element is closed; `None` for hosts that are not up.
    pub(super) fn finish(mut self) -> Option<Host> {
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
