//! The NDJSON outputs of other scanners (spec scans.md §2.6–§2.13): Zgrab2,
//! Nuclei, httpx, tlsx, dnsx. One reader ([`ToolReader`]) reads the lines;
//! each format is a function turning one JSON object into zero or more host
//! records (dnsx gives one record per answer, Zgrab2 skips records with no
//! address).
//!
//! A line that is not JSON ends the file (the loader then stores nothing of
//! it); a JSON object that is not what the format expects (an address that
//! is not a string...) is an error naming its line.

mod dnsx;
mod httpx;
mod nuclei;
mod tlsx;
mod zgrab2;

use super::json_lines::JsonLines;
use super::HostReader;
use crate::reader::{Position, RecordReader};
use crate::scan::assemble::{apply_effects, canonical_ip, process_port_script};
use crate::scan::error::{ParseError, ParseErrorKind};
use crate::scan::record::{epoch_to_datetime, Host, Port};
use crate::scan::script::Script;
use crate::scan::scripts::Effects;
use chrono::{DateTime, NaiveDateTime};
use serde_json::{Map, Value};
use std::collections::VecDeque;
use std::io::BufRead;

/// The tool formats read here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    Zgrab2,
    Nuclei,
    Httpx,
    Tlsx,
    Dnsx,
}

impl Tool {
    /// The format name stored with the imported file.
    pub fn name(self) -> &'static str {
        match self {
            Tool::Zgrab2 => "zgrab2",
            Tool::Nuclei => "nuclei",
            Tool::Httpx => "httpx",
            Tool::Tlsx => "tlsx",
            Tool::Dnsx => "dnsx",
        }
    }

    /// The name used in error messages.
    fn label(self) -> &'static str {
        match self {
            Tool::Zgrab2 => "Zgrab2 JSON",
            Tool::Nuclei => "Nuclei JSON",
            Tool::Httpx => "httpx JSON",
            Tool::Tlsx => "tlsx JSON",
            Tool::Dnsx => "dnsx JSON",
        }
    }

    fn convert(self, obj: &Map<String, Value>, opts: &ToolOptions) -> Result<Vec<Host>, String> {
        match self {
            Tool::Zgrab2 => zgrab2::hosts(obj, opts),
            Tool::Nuclei => nuclei::hosts(obj),
            Tool::Httpx => httpx::hosts(obj),
            Tool::Tlsx => tlsx::hosts(obj),
            Tool::Dnsx => dnsx::hosts(obj),
        }
    }
}

/// What the tool readers take from the command line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ToolOptions {
    /// `--zgrab-port`: the port of Zgrab2 results that carry none (JARM,
    /// and the modules whose output names no port).
    pub zgrab_port: Option<u16>,
}

/// Reader of one tool's NDJSON output.
pub struct ToolReader<R: BufRead> {
    lines: JsonLines<R>,
    tool: Tool,
    opts: ToolOptions,
    pending: VecDeque<Host>,
}

impl<R: BufRead> ToolReader<R> {
    pub fn new(input: R, tool: Tool, opts: ToolOptions) -> Self {
        ToolReader {
            lines: JsonLines::new(input),
            tool,
            opts,
            pending: VecDeque::new(),
        }
    }
}

impl<R: BufRead> RecordReader for ToolReader<R> {
    type Record = Host;
    type Error = ParseError;

    fn next_record(&mut self) -> Result<Option<Host>, ParseError> {
        loop {
            if let Some(h) = self.pending.pop_front() {
                return Ok(Some(h));
            }
            let more = self
                .lines
                .next_line()
                .map_err(|e| self.error_here(ParseErrorKind::Io, e.to_string()))?;
            if !more {
                return Ok(None);
            }
            let text = self.lines.text();
            if text.is_empty() {
                continue;
            }
            let Value::Object(obj) = self.lines.parse(text, self.tool.label())? else {
                return Err(self.error_here(
                    ParseErrorKind::Format,
                    format!("{}: expected an object", self.tool.label()),
                ));
            };
            let hosts = self.tool.convert(&obj, &self.opts).map_err(|m| {
                self.error_here(
                    ParseErrorKind::Format,
                    format!("{}: {m}", self.tool.label()),
                )
            })?;
            self.pending.extend(hosts);
        }
    }

    /// An object that is not a valid record is skipped; JSON syntax errors
    /// end the file.
    fn is_fatal(&self, error: &ParseError) -> bool {
        error.kind != ParseErrorKind::Format
    }

    fn position(&self) -> Position {
        self.lines.position()
    }
}

impl<R: BufRead> HostReader for ToolReader<R> {}

// ---------------------------------------------------------------------------
// Helpers shared by the formats.

/// `obj[key]` as a string, if it is one.
fn get_str<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    obj.get(key).and_then(Value::as_str)
}

/// The first of `keys` present as a string.
fn first_str<'a>(obj: &'a Map<String, Value>, keys: &[&str]) -> Option<&'a str> {
    keys.iter().find_map(|k| get_str(obj, k))
}

/// A string field that must be a string when present.
fn opt_str<'a>(obj: &'a Map<String, Value>, key: &str) -> Result<Option<&'a str>, String> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(format!("{key:?} is not a string")),
    }
}

/// An IP address, possibly between brackets (`[2001:db8::1]`).
fn ip_literal(s: &str) -> Option<String> {
    let s = s.trim();
    let s = s
        .strip_prefix('[')
        .and_then(|x| x.strip_suffix(']'))
        .unwrap_or(s);
    canonical_ip(s)
}

/// A tool timestamp: RFC 3339 (any offset, converted to UTC), a naive
/// `YYYY-MM-DD HH:MM:SS`, or epoch seconds.
fn parse_time(v: &Value) -> Option<NaiveDateTime> {
    match v {
        Value::String(s) => {
            let s = s.trim();
            DateTime::parse_from_rfc3339(s)
                .map(|d| d.naive_utc())
                .ok()
                .or_else(|| crate::scan::record::parse_datetime(s))
                .or_else(|| s.parse::<f64>().ok().and_then(epoch_to_datetime))
        }
        Value::Number(n) => n.as_f64().and_then(epoch_to_datetime),
        _ => None,
    }
}

/// A URL split into scheme, host (no brackets), port and path (with its query).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Url {
    scheme: String,
    host: String,
    port: Option<u16>,
    path: String,
}

impl Url {
    /// Parses `scheme://host[:port][/path]`, or `host[:port][/path]`.
    fn parse(s: &str) -> Option<Url> {
        let s = s.trim();
        let (scheme, rest) = match s.find("://") {
            Some(i) => (s[..i].to_ascii_lowercase(), &s[i + 3..]),
            None => (String::new(), s),
        };
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(end);
        let authority = authority.rsplit('@').next().unwrap_or(authority);
        let (host, port) = if let Some(r) = authority.strip_prefix('[') {
            let close = r.find(']')?;
            let port = r[close + 1..].strip_prefix(':');
            (r[..close].to_string(), port)
        } else {
            match authority.rsplit_once(':') {
                Some((h, p)) if !h.contains(':') => (h.to_string(), Some(p)),
                _ => (authority.to_string(), None),
            }
        };
        let port = match port {
            Some(p) if !p.is_empty() => Some(p.parse::<u16>().ok()?),
            _ => None,
        };
        if host.is_empty() {
            return None;
        }
        Some(Url {
            scheme,
            host: host.to_ascii_lowercase(),
            port,
            path: if path.is_empty() {
                "/".into()
            } else {
                path.into()
            },
        })
    }

    /// The port, or the scheme's default (80, 443 for https).
    fn port_or_default(&self) -> u16 {
        self.port.unwrap_or(if self.is_tls() { 443 } else { 80 })
    }

    fn is_tls(&self) -> bool {
        matches!(self.scheme.as_str(), "https" | "wss" | "ssl" | "tls")
    }
}

/// A host record started the same way by every tool: state up, times set.
fn new_host(addr: String, time: Option<NaiveDateTime>) -> Host {
    let mut h = Host::new(addr);
    h.state = Some("up".into());
    h.starttime = time;
    h.endtime = time;
    h
}

/// The port `proto/num` of `host`, created open if missing.
fn port_mut<'a>(host: &'a mut Host, proto: &str, num: i64) -> &'a mut Port {
    let ports = host.ports.get_or_insert_with(Vec::new);
    let idx = match ports
        .iter()
        .position(|p| p.port == num && p.protocol.as_deref() == Some(proto))
    {
        Some(i) => i,
        None => {
            let mut p = Port::new(proto, num);
            p.state_state = Some("open".into());
            p.state_reason = Some("response".into());
            ports.push(p);
            ports.len() - 1
        }
    };
    &mut ports[idx]
}

/// Adds `script` to port `proto/num` (`num == -1`: the host scripts)
/// through the script catalogue, applying its host-level effects.
fn add_script(host: &mut Host, proto: &str, num: i64, script: Script) {
    let mut fx = Effects::default();
    if num < 0 {
        process_port_script(host.host_scripts_port(), script, &mut fx);
    } else {
        process_port_script(port_mut(host, proto, num), script, &mut fx);
    }
    apply_effects(host, fx);
}

/// A script with an output and a structured value.
fn script(id: &str, output: impl Into<String>, data: Option<Value>) -> Script {
    let mut s = Script::new(id, output);
    s.data = data;
    s
}

/// The text of an HTML `<title>`, white space collapsed.
fn html_title(body: &str) -> Option<String> {
    let lower = body.to_ascii_lowercase();
    let start = lower.find("<title")?;
    let open_end = start + lower[start..].find('>')? + 1;
    let close = open_end + lower[open_end..].find("</title")?;
    let title = body.get(open_end..close)?;
    let title = title.split_whitespace().collect::<Vec<_>>().join(" ");
    (!title.is_empty()).then_some(title)
}

/// Adds the `http-content` and `http-title` scripts of an HTTP body.
fn add_body_scripts(host: &mut Host, port: i64, body: &str, sha256: Option<&str>) {
    if body.is_empty() {
        return;
    }
    if let Some(title) = html_title(body) {
        add_script(
            host,
            "tcp",
            port,
            script(
                "http-title",
                title.clone(),
                Some(serde_json::json!({ "title": title })),
            ),
        );
    }
    let data = sha256.map(|h| serde_json::json!({ "body_sha256": h }));
    add_script(host, "tcp", port, script("http-content", body, data));
}

/// Sets the service fields of an open port.
fn set_service(host: &mut Host, proto: &str, port: i64, name: &str, tls: bool) {
    let p = port_mut(host, proto, port);
    if p.service_name.is_none() {
        p.service_name = Some(name.to_string());
    }
    if tls {
        p.service_tunnel = Some("ssl".into());
    }
}

/// Ends a record: `openports`.
fn finish(mut host: Host) -> Host {
    host.recompute_openports();
    host
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        let u = Url::parse("https://API.example.org:8443/x?y").unwrap();
        assert_eq!(
            (u.scheme.as_str(), u.host.as_str(), u.port, u.path.as_str()),
            ("https", "api.example.org", Some(8443), "/x?y")
        );
        assert_eq!(u.port_or_default(), 8443);
        let u = Url::parse("http://[2001:db8::1]/").unwrap();
        assert_eq!((u.host.as_str(), u.port_or_default()), ("2001:db8::1", 80));
        assert_eq!(Url::parse("example.com:443").unwrap().port, Some(443));
        assert!(Url::parse("http://x:99999/").is_none());
        assert!(Url::parse("").is_none());
    }

    /// The real samples, cut short and with bytes replaced at many places:
    /// every variant is read to its end without a panic.
    #[test]
    fn mangled_samples_never_panic() {
        use crate::scan::input::{ReadOptions, ScanReader};
        let samples = [
            include_str!("../../../../../../tests/data/zgrab2/http-https.json"),
            include_str!("../../../../../../tests/data/zgrab2/ssh-ssh.json"),
            include_str!("../../../../../../tests/data/zgrab2/mysql-8.0.json"),
            include_str!("../../../../../../tests/data/zgrab2/smtp-ehlo.04.json"),
            include_str!("../../../../../../tests/data/nuclei/bbot-nuclei.json"),
            include_str!("../../../../../../tests/data/httpx/bbot-httpx.json"),
            include_str!("../../../../../../tests/data/tlsx/tlsx-readme.json"),
            include_str!("../../../../../../tests/data/dnsx/bbot-dnsx.json"),
        ];
        let opts = ReadOptions::default();
        let read = |bytes: &[u8]| {
            if let Ok(r) = ScanReader::open(bytes, &opts) {
                for h in r.flatten() {
                    serde_json::to_vec(&h).unwrap();
                }
            }
        };
        let mut variants = 0;
        for sample in samples {
            let b = sample.as_bytes();
            let step = (b.len() / 150).max(1);
            for i in (0..b.len()).step_by(step) {
                read(&b[..i]);
                for c in [b'"', b'{', b'0', 0xff] {
                    let mut m = b.to_vec();
                    m[i] = c;
                    read(&m);
                    variants += 1;
                }
            }
        }
        assert!(variants > 3_000, "{variants}");
    }

    #[test]
    fn times_and_titles() {
        let t = parse_time(&Value::from("2022-04-15T17:09:01.021589723-04:00")).unwrap();
        assert_eq!(t.to_string(), "2022-04-15 21:09:01.021589723");
        assert!(parse_time(&Value::from("nope")).is_none());
        assert_eq!(
            html_title("<html><TITLE> A \n b </title>").as_deref(),
            Some("A b")
        );
        assert_eq!(html_title("<title>"), None);
        assert_eq!(html_title("<titleé>x</title>").as_deref(), Some("x"));
    }
}
