//! Nmap's `nmap-service-probes` database: parser and banner matcher.
//!
//! IVRE identifies the service behind a raw banner (Masscan banners, passive
//! TCP server banners, SSH banners, HTTP `Server:` headers...) by matching it
//! against the `match` / `softmatch` lines of Nmap's service probes file, as
//! `ivre.utils.match_nmap_svc_fp` does. This module reproduces that logic:
//!
//! * the file is parsed once ([`ServiceProbes::load`], [`ServiceProbes::from_reader`]);
//!   a malformed line is an error carrying its line number (as in Nmap, which
//!   refuses to start on such a file);
//! * Nmap's PCRE patterns are translated to the `regex` crate's syntax (bytes
//!   API, Unicode off so that `.` and `\xHH` are bytes). What `regex` cannot
//!   express (lookarounds, backreferences, atomic groups, possessive
//!   quantifiers, ...) is rejected at load time: the match line is kept but
//!   never matches, and it is counted in [`ProbesStats::unsupported`];
//! * regexes are compiled lazily, once, on first use (most patterns are
//!   anchored literals, so a cheap literal-prefix check spares compiling the
//!   vast majority of them); a pattern that the `regex` crate refuses or that
//!   exceeds the size limit is skipped, never a panic;
//! * as IVRE does, a pattern ending in `\r\n` (resp. `\n`) also matches at
//!   the end of the data (banners often keep only their first line);
//! * Nmap's HTTP header-skipping idiom `(?:[^\r\n]*\r\n(?!\r\n))*?` (about
//!   640 patterns) is rewritten to an equivalent lookahead-free form when a
//!   header name follows; PCRE's `$` (end, or before a final `\n`) becomes
//!   `(?:\n?\z)`; `\0`, octal and `\xH`/`\xHH` escapes become bytes.
//!
//! Probe order: the first hard `match` wins, whatever the probe; otherwise the
//! first `softmatch` met is returned (Nmap's choice; IVRE's Python code lets
//! later softmatches of the same probe overwrite it, which only matters when
//! several softmatches of one probe match the same banner).
//!
//! Version-info templates support `$1`..`$9`, `$P(n)`, `$SUBST(n,"a","b")`
//! and `$I(n,"<"|">")`; captured values are encoded the Nmap way (`\r`, `\n`,
//! `\t`, `\\` and `\xHH` for other non-printable bytes).
use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use regex::bytes::{Regex, RegexBuilder};
use serde_json::{Map, Value};

/// Compiled-program size limit per pattern: generous (real patterns need far
/// less) but bounded, so that a pathological pattern is skipped.
const REGEX_SIZE_LIMIT: usize = 4 * 1024 * 1024;
/// Lazy DFA cache limit per pattern.
const REGEX_DFA_SIZE_LIMIT: usize = 1024 * 1024;
/// Maximum depth when following `fallback` directives.
const MAX_FALLBACK_DEPTH: usize = 4;

/// Error while reading or parsing an `nmap-service-probes` file.
#[derive(Debug, thiserror::Error)]
pub enum ProbesError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("nmap-service-probes line {line}: {message}")]
    Parse { line: usize, message: String },
}

/// Transport protocol of a probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    Tcp,
    Udp,
}

impl Protocol {
    /// `"tcp"` / `"udp"`, case-insensitive.
    pub fn parse(value: &str) -> Option<Protocol> {
        if value.eq_ignore_ascii_case("tcp") {
            Some(Protocol::Tcp)
        } else if value.eq_ignore_ascii_case("udp") {
            Some(Protocol::Udp)
        } else {
            None
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The result of matching a banner: Nmap's version info, substitutions
/// applied. `service_name` is Nmap's name as written in the file (it may be
/// `ssl/<name>`, see [`ServiceMatch::name_and_tunnel`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ServiceMatch {
    pub service_name: String,
    pub product: Option<String>,
    pub version: Option<String>,
    pub extrainfo: Option<String>,
    pub hostname: Option<String>,
    pub ostype: Option<String>,
    pub devicetype: Option<String>,
    /// Full CPE strings, e.g. `cpe:/a:openbsd:openssh:7.4p1`.
    pub cpes: Vec<String>,
    /// `true` for a `softmatch` line.
    pub soft: bool,
}

impl ServiceMatch {
    /// IVRE's convention: `ssl/http` is `service_name=http` plus
    /// `service_tunnel=ssl`.
    pub fn name_and_tunnel(&self) -> (&str, Option<&'static str>) {
        match self.service_name.strip_prefix("ssl/") {
            Some(name) => (name, Some("ssl")),
            None => (&self.service_name, None),
        }
    }

    /// The IVRE port fields (`service_name`, `service_tunnel`,
    /// `service_product`, `service_version`, `service_extrainfo`,
    /// `service_hostname`, `service_ostype`, `service_devicetype`) this match
    /// sets. CPEs are host-level in IVRE and are not included.
    pub fn port_fields(&self) -> Map<String, Value> {
        let mut fields = Map::new();
        let (name, tunnel) = self.name_and_tunnel();
        fields.insert("service_name".into(), Value::String(name.to_owned()));
        if let Some(tunnel) = tunnel {
            fields.insert("service_tunnel".into(), Value::String(tunnel.to_owned()));
        }
        for (key, value) in [
            ("service_product", &self.product),
            ("service_version", &self.version),
            ("service_extrainfo", &self.extrainfo),
            ("service_hostname", &self.hostname),
            ("service_ostype", &self.ostype),
            ("service_devicetype", &self.devicetype),
        ] {
            if let Some(value) = value {
                fields.insert(key.into(), Value::String(value.clone()));
            }
        }
        fields
    }

    /// Sets the fields of [`ServiceMatch::port_fields`] on an IVRE port
    /// object (like IVRE's `port.update(nmap_info)`: other keys, including
    /// previously set `service_*` keys this match has no value for, are left
    /// untouched).
    pub fn apply_to_port(&self, port: &mut Map<String, Value>) {
        for (key, value) in self.port_fields() {
            port.insert(key, value);
        }
    }
}

/// Counters about a loaded file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProbesStats {
    /// `Probe` directives.
    pub probes: usize,
    /// `match` lines.
    pub matches: usize,
    /// `softmatch` lines.
    pub softmatches: usize,
    /// Match lines whose pattern uses a PCRE feature the `regex` crate does
    /// not have (lookaround, backreference, ...): they never match.
    pub unsupported: usize,
}

/// Result of [`ServiceProbes::compile_all`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CompileStats {
    /// Patterns compiled successfully.
    pub compiled: usize,
    /// Translated patterns refused by the `regex` crate (syntax or size
    /// limit): they never match.
    pub failed: usize,
    /// Patterns rejected at translation time (same as
    /// [`ProbesStats::unsupported`]).
    pub unsupported: usize,
}

/// One `Probe` directive and its match lines.
#[derive(Debug)]
pub struct Probe {
    pub protocol: Protocol,
    pub name: String,
    /// The decoded probe string (`q|...|`).
    pub payload: Vec<u8>,
    /// `ports` directive (inclusive ranges).
    pub ports: Vec<(u16, u16)>,
    /// `sslports` directive (inclusive ranges).
    pub sslports: Vec<(u16, u16)>,
    pub rarity: Option<u8>,
    pub fallbacks: Vec<String>,
    /// Line number of the `Probe` directive (1-based).
    pub line: usize,
    rules: Vec<MatchRule>,
}

impl Probe {
    /// Number of `match` + `softmatch` lines of this probe.
    pub fn rule_count(&self) -> usize {
        self.rules.len()
    }

    fn has_port(&self, port: u16) -> bool {
        self.ports
            .iter()
            .chain(self.sslports.iter())
            .any(|&(lo, hi)| lo <= port && port <= hi)
    }
}

#[derive(Debug, Default)]
struct Templates {
    product: Option<String>,
    version: Option<String>,
    extrainfo: Option<String>,
    hostname: Option<String>,
    ostype: Option<String>,
    devicetype: Option<String>,
    cpes: Vec<String>,
}

#[derive(Debug)]
struct MatchRule {
    service: String,
    soft: bool,
    line: usize,
    /// Translated pattern, or why it is unsupported.
    pattern: Result<Translated, String>,
    case_insensitive: bool,
    dot_all: bool,
    regex: OnceLock<Option<Regex>>,
    templates: Templates,
}

impl MatchRule {
    fn regex(&self) -> Option<&Regex> {
        self.regex
            .get_or_init(|| {
                let translated = self.pattern.as_ref().ok()?;
                RegexBuilder::new(&translated.pattern)
                    .unicode(false)
                    .case_insensitive(self.case_insensitive)
                    .dot_matches_new_line(self.dot_all)
                    .size_limit(REGEX_SIZE_LIMIT)
                    .dfa_size_limit(REGEX_DFA_SIZE_LIMIT)
                    .build()
                    .ok()
            })
            .as_ref()
    }

    /// Cheap pre-check: can the data possibly match?
    fn may_match(&self, data: &[u8]) -> bool {
        match &self.pattern {
            Err(_) => false,
            Ok(translated) => {
                let prefix = &translated.prefix;
                if prefix.is_empty() {
                    return true;
                }
                if data.len() < prefix.len() {
                    return false;
                }
                let head = &data[..prefix.len()];
                if self.case_insensitive {
                    head.eq_ignore_ascii_case(prefix)
                } else {
                    head == prefix.as_slice()
                }
            }
        }
    }

    fn try_match(&self, data: &[u8]) -> Option<ServiceMatch> {
        if !self.may_match(data) {
            return None;
        }
        let caps = self.regex()?.captures(data)?;
        let groups: Vec<Option<&[u8]>> = caps
            .iter()
            .skip(1)
            .map(|group| group.map(|m| m.as_bytes()))
            .collect();
        let fill = |template: &Option<String>| {
            template
                .as_deref()
                .and_then(|template| format_template(template, &groups))
                .filter(|value| !value.is_empty())
        };
        let t = &self.templates;
        Some(ServiceMatch {
            service_name: self.service.clone(),
            product: fill(&t.product),
            version: fill(&t.version),
            extrainfo: fill(&t.extrainfo),
            hostname: fill(&t.hostname),
            ostype: fill(&t.ostype),
            devicetype: fill(&t.devicetype),
            cpes: t
                .cpes
                .iter()
                .filter_map(|template| format_template(template, &groups))
                .map(|cpe| format!("cpe:/{cpe}"))
                .collect(),
            soft: self.soft,
        })
    }
}

/// A parsed `nmap-service-probes` file.
#[derive(Debug)]
pub struct ServiceProbes {
    probes: Vec<Probe>,
    index: HashMap<(Protocol, String), usize>,
    stats: ProbesStats,
}

impl ServiceProbes {
    /// Parses the file at `path`.
    pub fn load(path: impl AsRef<Path>) -> Result<ServiceProbes, ProbesError> {
        let path = path.as_ref();
        let io_err = |source| ProbesError::Io {
            path: path.display().to_string(),
            source,
        };
        let file = std::fs::File::open(path).map_err(io_err)?;
        Self::from_reader(file).map_err(|err| match err {
            ProbesError::Io { source, .. } => io_err(source),
            other => other,
        })
    }

    /// Parses an `nmap-service-probes` file from a reader.
    pub fn from_reader<R: Read>(mut reader: R) -> Result<ServiceProbes, ProbesError> {
        let mut data = Vec::new();
        reader
            .read_to_end(&mut data)
            .map_err(|source| ProbesError::Io {
                path: "<reader>".into(),
                source,
            })?;
        Self::parse(&data)
    }

    /// The first `nmap-service-probes` found in `$NMAPDIR`, `/usr/share/nmap`
    /// and `/usr/local/share/nmap`.
    pub fn find_default() -> Option<PathBuf> {
        let mut dirs: Vec<PathBuf> = Vec::new();
        if let Some(dir) = std::env::var_os("NMAPDIR") {
            dirs.push(dir.into());
        }
        dirs.push("/usr/share/nmap".into());
        dirs.push("/usr/local/share/nmap".into());
        dirs.into_iter()
            .map(|dir| dir.join("nmap-service-probes"))
            .find(|path| path.is_file())
    }

    /// Counters about the loaded file.
    pub fn stats(&self) -> ProbesStats {
        self.stats
    }

    /// All probes, in file order.
    pub fn probes(&self) -> &[Probe] {
        &self.probes
    }

    /// The probe `name` for `protocol` (names are case-sensitive, as in Nmap).
    pub fn probe(&self, protocol: Protocol, name: &str) -> Option<&Probe> {
        self.index
            .get(&(protocol, name.to_owned()))
            .map(|&idx| &self.probes[idx])
    }

    /// The probe whose (non-empty) payload is exactly `payload`: IVRE uses it
    /// to recognise Nmap's probes in passive client banners / honeypot hits.
    pub fn probe_by_payload(&self, protocol: Protocol, payload: &[u8]) -> Option<&Probe> {
        if payload.is_empty() {
            return None;
        }
        self.probes
            .iter()
            .find(|probe| probe.protocol == protocol && probe.payload == payload)
    }

    /// Compiles every pattern now (normally done lazily) and counts failures.
    pub fn compile_all(&self) -> CompileStats {
        let mut stats = CompileStats::default();
        for rule in self.probes.iter().flat_map(|probe| probe.rules.iter()) {
            if rule.pattern.is_err() {
                stats.unsupported += 1;
            } else if rule.regex().is_some() {
                stats.compiled += 1;
            } else {
                stats.failed += 1;
            }
        }
        stats
    }

    /// Line numbers and reasons of the unsupported patterns.
    pub fn unsupported(&self) -> Vec<(usize, &str)> {
        self.probes
            .iter()
            .flat_map(|probe| probe.rules.iter())
            .filter_map(|rule| match &rule.pattern {
                Err(reason) => Some((rule.line, reason.as_str())),
                Ok(_) => None,
            })
            .collect()
    }

    /// Matches `banner` (the data received after sending each probe; IVRE
    /// uses `NULL` for plain banners and `GetRequest` for HTTP responses)
    /// against the match lines of the probes `probe_names`, in that order,
    /// following `fallback` directives. The first hard `match` wins; if there
    /// is none, the first `softmatch` is returned (with `soft: true`).
    ///
    /// `protocol` is `"tcp"` or `"udp"` (anything else gives `None`). `port`
    /// is only used when `probe_names` is empty: then `NULL` (TCP) and the
    /// probes whose `ports`/`sslports` include `port` are tried, in file
    /// order.
    pub fn match_banner(
        &self,
        probe_names: &[&str],
        protocol: &str,
        port: u16,
        banner: &[u8],
    ) -> Option<ServiceMatch> {
        let protocol = Protocol::parse(protocol)?;
        let defaults;
        let names: &[&str] = if probe_names.is_empty() {
            defaults = self.default_probes(protocol, port);
            &defaults
        } else {
            probe_names
        };
        let mut soft = None;
        for name in names {
            match self.match_probe(protocol, name, banner, 0) {
                Some(found) if !found.soft => return Some(found),
                Some(found) => {
                    soft.get_or_insert(found);
                }
                None => {}
            }
        }
        soft
    }

    fn default_probes(&self, protocol: Protocol, port: u16) -> Vec<&str> {
        self.probes
            .iter()
            .filter(|probe| {
                probe.protocol == protocol && (probe.name == "NULL" || probe.has_port(port))
            })
            .map(|probe| probe.name.as_str())
            .collect()
    }

    fn match_probe(
        &self,
        protocol: Protocol,
        name: &str,
        banner: &[u8],
        depth: usize,
    ) -> Option<ServiceMatch> {
        let probe = self.probe(protocol, name)?;
        let mut soft = None;
        for rule in &probe.rules {
            // As IVRE does: this NULL-probe fingerprint is only a size check
            // on supposedly random data, too many false positives.
            if name == "NULL" && rule.service == "landesk-rc" && distinct_bytes(banner) < 100 {
                continue;
            }
            if soft.is_some() && rule.soft {
                continue;
            }
            if let Some(found) = rule.try_match(banner) {
                if !found.soft {
                    return Some(found);
                }
                soft = Some(found);
            }
        }
        if depth < MAX_FALLBACK_DEPTH {
            for fallback in &probe.fallbacks {
                // Nothing in the file gives the protocol of a fallback probe;
                // as IVRE does, `XTCP` falls back to the UDP probe `X`.
                let fb_protocol = match name.strip_suffix("TCP") {
                    Some(base) if protocol == Protocol::Tcp && base == fallback => Protocol::Udp,
                    _ => protocol,
                };
                match self.match_probe(fb_protocol, fallback, banner, depth + 1) {
                    Some(found) if !found.soft => return Some(found),
                    Some(found) => {
                        soft.get_or_insert(found);
                    }
                    None => {}
                }
            }
        }
        soft
    }

    fn parse(data: &[u8]) -> Result<ServiceProbes, ProbesError> {
        let mut probes: Vec<Probe> = Vec::new();
        let mut index = HashMap::new();
        let mut stats = ProbesStats::default();
        for (idx, raw) in data.split(|&b| b == b'\n').enumerate() {
            let lineno = idx + 1;
            let line = raw.strip_suffix(b"\r").unwrap_or(raw);
            let err = |message: String| ProbesError::Parse {
                line: lineno,
                message,
            };
            let trimmed = trim_start(line);
            if trimmed.is_empty() || trimmed[0] == b'#' {
                continue;
            }
            let (directive, rest) = split_word(trimmed);
            let rest = trim_start(rest);
            match directive {
                b"Exclude" => {}
                b"Probe" => {
                    let probe = parse_probe(rest, lineno).map_err(err)?;
                    let key = (probe.protocol, probe.name.clone());
                    if index.contains_key(&key) {
                        return Err(err(format!("duplicate probe {} {}", key.0, key.1)));
                    }
                    index.insert(key, probes.len());
                    probes.push(probe);
                    stats.probes += 1;
                }
                b"match" | b"softmatch" => {
                    let soft = directive == b"softmatch";
                    let probe = probes
                        .last_mut()
                        .ok_or_else(|| err("match line before any Probe".into()))?;
                    let rule = parse_match(rest, soft, lineno).map_err(err)?;
                    if soft {
                        stats.softmatches += 1;
                    } else {
                        stats.matches += 1;
                    }
                    if rule.pattern.is_err() {
                        stats.unsupported += 1;
                    }
                    probe.rules.push(rule);
                }
                _ => {
                    let probe = probes.last_mut().ok_or_else(|| {
                        err(format!(
                            "directive {:?} before any Probe",
                            String::from_utf8_lossy(directive)
                        ))
                    })?;
                    let value = String::from_utf8_lossy(trim_end(rest)).into_owned();
                    match directive {
                        b"ports" => probe.ports = parse_ports(&value).map_err(err)?,
                        b"sslports" => probe.sslports = parse_ports(&value).map_err(err)?,
                        b"rarity" => {
                            probe.rarity = Some(
                                value
                                    .parse()
                                    .map_err(|_| err(format!("invalid rarity {value:?}")))?,
                            )
                        }
                        b"fallback" => probe.fallbacks.extend(
                            value
                                .split(',')
                                .map(str::trim)
                                .filter(|name| !name.is_empty())
                                .map(str::to_owned),
                        ),
                        b"totalwaitms" | b"tcpwrappedms" => {
                            value
                                .parse::<u64>()
                                .map_err(|_| err(format!("invalid number {value:?}")))?;
                        }
                        _ => {
                            return Err(err(format!(
                                "unknown directive {:?}",
                                String::from_utf8_lossy(directive)
                            )))
                        }
                    }
                }
            }
        }
        Ok(ServiceProbes {
            probes,
            index,
            stats,
        })
    }
}

fn distinct_bytes(data: &[u8]) -> usize {
    let mut seen = [false; 256];
    data.iter().for_each(|&b| seen[b as usize] = true);
    seen.iter().filter(|&&b| b).count()
}

fn trim_start(data: &[u8]) -> &[u8] {
    let start = data
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(data.len());
    &data[start..]
}

fn trim_end(data: &[u8]) -> &[u8] {
    let end = data
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(0, |pos| pos + 1);
    &data[..end]
}

/// Splits at the first ASCII space or tab.
fn split_word(data: &[u8]) -> (&[u8], &[u8]) {
    match data.iter().position(|&b| b == b' ' || b == b'\t') {
        Some(pos) => (&data[..pos], &data[pos + 1..]),
        None => (data, &[]),
    }
}

fn parse_probe(rest: &[u8], line: usize) -> Result<Probe, String> {
    let (proto, rest) = split_word(rest);
    let protocol = match proto {
        b"TCP" => Protocol::Tcp,
        b"UDP" => Protocol::Udp,
        _ => {
            return Err(format!(
                "invalid probe protocol {:?}",
                String::from_utf8_lossy(proto)
            ))
        }
    };
    let rest = trim_start(rest);
    let (name, rest) = split_word(rest);
    if name.is_empty() {
        return Err("missing probe name".into());
    }
    let rest = trim_start(rest);
    if rest.len() < 3 || rest[0] != b'q' {
        return Err("missing probe string q|...|".into());
    }
    let delim = rest[1];
    let end = rest[2..]
        .iter()
        .position(|&b| b == delim)
        .ok_or("unterminated probe string")?;
    Ok(Probe {
        protocol,
        name: String::from_utf8_lossy(name).into_owned(),
        payload: nmap_decode(&rest[2..2 + end]),
        ports: Vec::new(),
        sslports: Vec::new(),
        rarity: None,
        fallbacks: Vec::new(),
        line,
        rules: Vec::new(),
    })
}

fn parse_ports(value: &str) -> Result<Vec<(u16, u16)>, String> {
    let parse = |port: &str| {
        port.trim()
            .parse::<u16>()
            .map_err(|_| format!("invalid port {port:?}"))
    };
    value
        .split(',')
        .filter(|item| !item.trim().is_empty())
        .map(|item| match item.split_once('-') {
            Some((lo, hi)) => {
                let (lo, hi) = (parse(lo)?, parse(hi)?);
                if lo > hi {
                    return Err(format!("invalid port range {item:?}"));
                }
                Ok((lo, hi))
            }
            None => parse(item).map(|port| (port, port)),
        })
        .collect()
}

/// Decodes Nmap's probe-string escapes (`\0`, `\xHH`, `\r`, `\n`, `\t`,
/// `\\`, ...; any other escaped character stands for itself).
fn nmap_decode(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut i = 0;
    while i < data.len() {
        let c = data[i];
        if c != b'\\' || i + 1 >= data.len() {
            out.push(c);
            i += 1;
            continue;
        }
        let e = data[i + 1];
        i += 2;
        match e {
            b'0' => out.push(0),
            b'r' => out.push(b'\r'),
            b'n' => out.push(b'\n'),
            b't' => out.push(b'\t'),
            b'a' => out.push(7),
            b'b' => out.push(8),
            b'f' => out.push(12),
            b'v' => out.push(11),
            b'x' => {
                let hex = data[i..]
                    .iter()
                    .take(2)
                    .take_while(|b| b.is_ascii_hexdigit())
                    .count();
                if hex == 0 {
                    out.extend_from_slice(b"\\x");
                } else {
                    let text = std::str::from_utf8(&data[i..i + hex]).unwrap_or("0");
                    out.push(u8::from_str_radix(text, 16).unwrap_or(0));
                    i += hex;
                }
            }
            other => out.push(other),
        }
    }
    out
}

fn parse_match(rest: &[u8], soft: bool, line: usize) -> Result<MatchRule, String> {
    let (service, mut data) = split_word(rest);
    if service.is_empty() {
        return Err("missing service name".into());
    }
    let mut pattern = None;
    let mut case_insensitive = false;
    let mut dot_all = false;
    let mut templates = Templates::default();
    loop {
        data = trim_start(data);
        if data.is_empty() {
            break;
        }
        let key: &[u8] = if data.starts_with(b"cpe:") {
            data = &data[4..];
            b"cpe"
        } else {
            let key = &data[..1];
            data = &data[1..];
            key
        };
        let Some((&delim, after)) = data.split_first() else {
            return Err(format!(
                "missing value after {:?}",
                String::from_utf8_lossy(key)
            ));
        };
        let end = after.iter().position(|&b| b == delim).ok_or_else(|| {
            format!(
                "unterminated {:?} field (delimiter {:?})",
                String::from_utf8_lossy(key),
                delim as char
            )
        })?;
        let value = &after[..end];
        data = &after[end + 1..];
        let flags_len = data
            .iter()
            .position(|&b| b == b' ' || b == b'\t')
            .unwrap_or(data.len());
        let flags = &data[..flags_len];
        data = &data[flags_len..];
        if key == b"m" {
            if pattern.is_some() {
                return Err("duplicate m field".into());
            }
            for flag in flags {
                match flag {
                    b'i' => case_insensitive = true,
                    b's' => dot_all = true,
                    _ => return Err(format!("unknown regex flag {:?}", *flag as char)),
                }
            }
            pattern = Some(translate_pcre(&ivre_line_end(value)));
            continue;
        }
        if pattern.is_none() {
            return Err("the m field must come first".into());
        }
        let value = String::from_utf8_lossy(value).into_owned();
        let slot = match key {
            b"p" => &mut templates.product,
            b"v" => &mut templates.version,
            b"i" => &mut templates.extrainfo,
            b"h" => &mut templates.hostname,
            b"o" => &mut templates.ostype,
            b"d" => &mut templates.devicetype,
            b"cpe" => {
                templates.cpes.push(value);
                continue;
            }
            _ => {
                return Err(format!(
                    "unknown version field {:?}",
                    String::from_utf8_lossy(key)
                ))
            }
        };
        *slot = Some(value);
    }
    let pattern = pattern.ok_or("missing m field")?;
    Ok(MatchRule {
        service: String::from_utf8_lossy(service).into_owned(),
        soft,
        line,
        pattern,
        case_insensitive,
        dot_all,
        regex: OnceLock::new(),
        templates,
    })
}

/// IVRE's tweak: a pattern ending with `\r\n` (resp. `\n`) also matches at
/// the end of the data.
fn ivre_line_end(pattern: &[u8]) -> Vec<u8> {
    // the final `\` must not itself be escaped
    let unescaped_at = |pos: usize| {
        pattern[..pos]
            .iter()
            .rev()
            .take_while(|&&b| b == b'\\')
            .count()
            % 2
            == 0
    };
    let len = pattern.len();
    if pattern.ends_with(b"\\r\\n") && unescaped_at(len - 4) {
        let mut out = pattern[..len - 4].to_vec();
        out.extend_from_slice(b"(?:\\r\\n|$)");
        out
    } else if pattern.ends_with(b"\\n") && unescaped_at(len - 2) {
        let mut out = pattern[..len - 2].to_vec();
        out.extend_from_slice(b"(?:\\n|$)");
        out
    } else {
        pattern.to_vec()
    }
}

#[derive(Debug)]
struct Translated {
    /// Pattern in the `regex` crate syntax (ASCII only).
    pattern: String,
    /// Literal bytes every match must start with at offset 0 (empty if
    /// unknown).
    prefix: Vec<u8>,
}

fn push_byte(out: &mut String, byte: u8) {
    // two-digit form: in non-Unicode mode it is a byte, also inside classes
    // (`\x{80}` is a code point there)
    out.push_str(&format!("\\x{byte:02X}"));
}

/// Nmap's HTTP idiom "skip header lines, without going past the end of the
/// headers": `(?:[^\r\n]*\r\n(?!\r\n))*?`, followed by a header name.
const HEADER_SKIP_IDIOM: &[u8] = b"(?:[^\\r\\n]*\\r\\n(?!\\r\\n))*?";
/// Equivalent without lookahead, as long as what follows cannot start with
/// `\r\n`: the first line may be empty, the next ones may not.
const HEADER_SKIP_REPLACEMENT: &str = "(?:[^\\r\\n]*\\r\\n(?:[^\\r\\n]+\\r\\n)*?)??";

/// Length of the header-skip idiom at the start of `pat`, when it is followed
/// by a mandatory letter (so that the rewrite is exact).
fn header_skip_idiom(pat: &[u8]) -> Option<usize> {
    let rest = pat.strip_prefix(HEADER_SKIP_IDIOM)?;
    let next = *rest.first()?;
    let quantified = matches!(rest.get(1), Some(b'?' | b'*' | b'{'));
    (next.is_ascii_alphabetic() && !quantified).then_some(HEADER_SKIP_IDIOM.len())
}

/// Translates a PCRE pattern (as used by Nmap) to the `regex` crate syntax,
/// or explains why it cannot.
fn translate_pcre(pat: &[u8]) -> Result<Translated, String> {
    let mut out = String::with_capacity(pat.len() + 16);
    // Literal prefix tracking: only while we are in the initial run of
    // literals after a leading `^`.
    let mut prefix: Vec<u8> = Vec::new();
    let mut in_prefix = pat.first() == Some(&b'^');
    let mut top_level_alternation = false;
    let mut depth = 0usize;
    let mut in_class = false;
    let mut class_start = 0usize; // index in `pat` of the first class item
    let mut i = 0;
    if in_prefix {
        out.push('^');
        i = 1;
    }
    let n = pat.len();
    while i < n {
        let c = pat[i];
        if c == b'\\' {
            let Some(&e) = pat.get(i + 1) else {
                return Err("trailing backslash".into());
            };
            i += 2;
            // A literal byte produced by this escape, if any.
            let mut literal: Option<u8> = None;
            match e {
                b'0'..=b'7' if e == b'0' || in_class => {
                    // octal: \0, \0N, \0NN (and \N.. inside a class)
                    let mut value = u32::from(e - b'0');
                    let mut taken = 0;
                    while taken < 2 && i < n && (b'0'..=b'7').contains(&pat[i]) {
                        value = value * 8 + u32::from(pat[i] - b'0');
                        i += 1;
                        taken += 1;
                    }
                    if value > 255 {
                        return Err("octal escape out of range".into());
                    }
                    literal = Some(value as u8);
                }
                b'1'..=b'9' => return Err("backreference".into()),
                b'x' => {
                    if pat.get(i) == Some(&b'{') {
                        let end = pat[i..]
                            .iter()
                            .position(|&b| b == b'}')
                            .ok_or("unterminated \\x{")?;
                        let hex = std::str::from_utf8(&pat[i + 1..i + end])
                            .map_err(|_| "invalid \\x{}")?;
                        let value = u32::from_str_radix(hex, 16).map_err(|_| "invalid \\x{}")?;
                        if value > 255 {
                            return Err("\\x{} escape above 0xFF".into());
                        }
                        literal = Some(value as u8);
                        i += end + 1;
                    } else {
                        let hex = pat[i..]
                            .iter()
                            .take(2)
                            .take_while(|b| b.is_ascii_hexdigit())
                            .count();
                        let value = if hex == 0 {
                            0
                        } else {
                            let text = std::str::from_utf8(&pat[i..i + hex]).unwrap_or("0");
                            u8::from_str_radix(text, 16).unwrap_or(0)
                        };
                        i += hex;
                        literal = Some(value);
                    }
                }
                b'a' => literal = Some(7),
                b'e' => literal = Some(0x1B),
                b'f' => literal = Some(12),
                b'n' => literal = Some(b'\n'),
                b'r' => literal = Some(b'\r'),
                b't' => literal = Some(b'\t'),
                b'b' if in_class => literal = Some(8),
                // PCRE's vertical / horizontal white space classes
                b'v' => out.push_str(if in_class {
                    "\\n\\x0B\\x0C\\r\\x85"
                } else {
                    "[\\n\\x0B\\x0C\\r\\x85]"
                }),
                b'h' => out.push_str(if in_class { " \\t\\xA0" } else { "[ \\t\\xA0]" }),
                b'd' | b'D' | b'w' | b'W' | b's' | b'S' => {
                    out.push('\\');
                    out.push(e as char);
                }
                b'b' | b'B' | b'A' | b'z' => {
                    out.push('\\');
                    out.push(e as char);
                }
                b'Z' => out.push_str("(?:\\n?\\z)"),
                _ if e.is_ascii_alphanumeric() => {
                    return Err(format!("unsupported escape \\{}", e as char));
                }
                // escaped punctuation, space or non-ASCII byte
                _ => literal = Some(e),
            }
            match literal {
                Some(byte) => {
                    push_byte(&mut out, byte);
                    if in_prefix && !in_class {
                        prefix.push(byte);
                    }
                }
                None => in_prefix = false,
            }
            continue;
        }
        if in_class {
            i += 1;
            match c {
                b']' if i - 1 > class_start => {
                    in_class = false;
                    out.push(']');
                }
                b'[' => {
                    // POSIX class [:name:] or a literal `[`
                    if pat.get(i) == Some(&b':') {
                        if let Some(end) = pat[i + 1..].windows(2).position(|w| w == b":]") {
                            let name = &pat[i..i + 1 + end + 2];
                            if !name[1..name.len() - 2]
                                .iter()
                                .all(|b| b.is_ascii_alphabetic() || *b == b'^')
                            {
                                return Err("invalid POSIX class".into());
                            }
                            out.push('[');
                            out.push_str(&String::from_utf8_lossy(name));
                            i += 1 + end + 2;
                            continue;
                        }
                    }
                    out.push_str("\\[");
                }
                b'-' if pat.get(i) == Some(&b'-') => {
                    // avoid the `--` set-difference operator
                    out.push('-');
                    out.push_str("\\-");
                    i += 1;
                }
                b'&' | b'~' | b'^' => push_byte(&mut out, c),
                _ if !c.is_ascii() || c.is_ascii_control() => push_byte(&mut out, c),
                _ => out.push(c as char),
            }
            continue;
        }
        i += 1;
        match c {
            b'[' => {
                in_prefix = false;
                in_class = true;
                out.push('[');
                if pat.get(i) == Some(&b'^') {
                    out.push('^');
                    i += 1;
                }
                class_start = i;
                if pat.get(i) == Some(&b']') {
                    out.push_str("\\]");
                    i += 1;
                }
            }
            b'(' => {
                in_prefix = false;
                if let Some(len) = header_skip_idiom(&pat[i - 1..]) {
                    out.push_str(HEADER_SKIP_REPLACEMENT);
                    i += len - 1;
                    continue;
                }
                if pat.get(i) != Some(&b'?') {
                    depth += 1;
                    out.push('(');
                    continue;
                }
                let rest = &pat[i + 1..];
                if rest.starts_with(b"=")
                    || rest.starts_with(b"!")
                    || rest.starts_with(b"<=")
                    || rest.starts_with(b"<!")
                {
                    return Err("lookaround".into());
                }
                if rest.starts_with(b">") {
                    return Err("atomic group".into());
                }
                if rest.starts_with(b"#") {
                    let end = rest
                        .iter()
                        .position(|&b| b == b')')
                        .ok_or("unterminated comment")?;
                    i += 1 + end + 1;
                    continue;
                }
                if rest.starts_with(b":") {
                    depth += 1;
                    out.push_str("(?:");
                    i += 2;
                    continue;
                }
                // named groups: (?<name>...), (?P<name>...), (?'name'...)
                let name_start = if rest.starts_with(b"P<") {
                    Some((2, b'>'))
                } else if rest.starts_with(b"<") {
                    Some((1, b'>'))
                } else if rest.starts_with(b"'") {
                    Some((1, b'\''))
                } else {
                    None
                };
                if let Some((skip, close)) = name_start {
                    let end = rest[skip..]
                        .iter()
                        .position(|&b| b == close)
                        .ok_or("unterminated group name")?;
                    let name = &rest[skip..skip + end];
                    if name.is_empty()
                        || !name.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'_')
                    {
                        return Err("invalid group name".into());
                    }
                    depth += 1;
                    out.push_str("(?P<");
                    out.push_str(std::str::from_utf8(name).unwrap_or("_"));
                    out.push('>');
                    i += 1 + skip + end + 1;
                    continue;
                }
                // inline flags: (?flags) or (?flags:...)
                let end = rest
                    .iter()
                    .position(|&b| b == b':' || b == b')')
                    .ok_or("unterminated group")?;
                let flags = &rest[..end];
                if flags.is_empty()
                    || !flags
                        .iter()
                        .all(|b| matches!(b, b'i' | b's' | b'm' | b'x' | b'U' | b'-'))
                {
                    return Err("unsupported group construct".into());
                }
                if flags.contains(&b'm') {
                    // `$` is translated assuming no multi-line mode
                    return Err("multi-line inline flag".into());
                }
                if rest[end] == b':' {
                    depth += 1;
                }
                out.push_str("(?");
                out.push_str(std::str::from_utf8(&rest[..=end]).unwrap_or(")"));
                i += 1 + end + 1;
            }
            b')' => {
                depth = depth.saturating_sub(1);
                out.push(')');
            }
            b'|' => {
                if depth == 0 {
                    top_level_alternation = true;
                }
                in_prefix = false;
                out.push('|');
            }
            b'*' | b'+' | b'?' => {
                if pat.get(i) == Some(&b'+') {
                    return Err("possessive quantifier".into());
                }
                if in_prefix && c != b'+' {
                    // the previous literal is optional
                    prefix.pop();
                }
                in_prefix = false;
                out.push(c as char);
            }
            b'{' => {
                let rest = &pat[i..];
                let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
                let mut len = digits;
                if digits > 0 && rest.get(len) == Some(&b',') {
                    len += 1;
                    len += rest[len..]
                        .iter()
                        .take_while(|b| b.is_ascii_digit())
                        .count();
                }
                if digits > 0 && rest.get(len) == Some(&b'}') {
                    if rest.get(len + 1) == Some(&b'+') {
                        return Err("possessive quantifier".into());
                    }
                    if in_prefix {
                        prefix.pop();
                    }
                    in_prefix = false;
                    out.push('{');
                    out.push_str(std::str::from_utf8(&rest[..len]).unwrap_or("1"));
                    out.push('}');
                    i += len + 1;
                } else {
                    push_byte(&mut out, b'{');
                    if in_prefix {
                        prefix.push(b'{');
                    }
                }
            }
            b'}' => {
                push_byte(&mut out, b'}');
                if in_prefix {
                    prefix.push(b'}');
                }
            }
            b'$' => {
                in_prefix = false;
                out.push_str("(?:\\n?\\z)");
            }
            b'^' | b'.' => {
                in_prefix = false;
                out.push(c as char);
            }
            _ => {
                if c.is_ascii_alphanumeric() {
                    out.push(c as char);
                } else {
                    push_byte(&mut out, c);
                }
                if in_prefix {
                    prefix.push(c);
                }
            }
        }
    }
    if in_class {
        return Err("unterminated character class".into());
    }
    if top_level_alternation {
        prefix.clear();
    }
    Ok(Translated {
        pattern: out,
        prefix,
    })
}

/// The first line of a banner, its `\n` included when there is one: what
/// IVRE matches for Masscan `ftp`/`imap`/`pop3`/`smtp`/`ssh` banners (this
/// matters for patterns ending in `\n$`, e.g. Cisco SSH).
pub fn banner_first_line(banner: &[u8]) -> &[u8] {
    match banner.iter().position(|&b| b == b'\n') {
        Some(pos) => &banner[..=pos],
        None => banner,
    }
}

/// Encodes bytes as Nmap does in version info (`\r`, `\n`, `\t`, `\\`,
/// printable ASCII as is, `\xHH` otherwise).
pub fn nmap_encode(data: &[u8]) -> String {
    let mut out = String::with_capacity(data.len());
    for &b in data {
        match b {
            b'\r' => out.push_str("\\r"),
            b'\n' => out.push_str("\\n"),
            b'\t' => out.push_str("\\t"),
            b'\\' => out.push_str("\\\\"),
            32..=126 => out.push(b as char),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out
}

/// Parses `N` then `,"a","b")`-style arguments for `$SUBST`/`$I`: returns
/// the group number, the quoted arguments and the length consumed after
/// the opening parenthesis.
fn parse_call(text: &str, nargs: usize) -> Option<(usize, Vec<&str>, usize)> {
    let bytes = text.as_bytes();
    let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    let group: usize = text[..digits].parse().ok()?;
    let mut pos = digits;
    let mut args = Vec::with_capacity(nargs);
    for _ in 0..nargs {
        if bytes.get(pos) != Some(&b',') || bytes.get(pos + 1) != Some(&b'"') {
            return None;
        }
        let start = pos + 2;
        let end = text[start..].find('"')? + start;
        args.push(&text[start..end]);
        pos = end + 1;
    }
    if bytes.get(pos) != Some(&b')') {
        return None;
    }
    Some((group, args, pos + 1))
}

/// Applies `$N`, `$P(N)`, `$SUBST(N,"a","b")` and `$I(N,"<"|">")` to a
/// version-info template. `None` when a referenced group did not take part
/// in the match (IVRE then omits the field).
fn format_template(template: &str, groups: &[Option<&[u8]>]) -> Option<String> {
    if !template.contains('$') {
        return Some(template.to_owned());
    }
    let group = |num: usize| -> Option<Option<&[u8]>> {
        // Some(None): group exists but did not participate; None: no such group.
        if num == 0 {
            return None;
        }
        groups.get(num - 1).copied()
    };
    let mut out = String::with_capacity(template.len() + 16);
    let mut rest = template;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        let after = &rest[pos + 1..];
        let next = after.as_bytes().first().copied();
        if let Some(d @ b'1'..=b'9') = next {
            match group(usize::from(d - b'0')) {
                Some(Some(value)) => out.push_str(&nmap_encode(value)),
                Some(None) => return None,
                None => {
                    out.push('$');
                    out.push(d as char);
                }
            }
            rest = &after[1..];
            continue;
        }
        let handled = if let Some(args) = after.strip_prefix("P(") {
            parse_call(args, 0).map(|(num, _, len)| (num, 2 + len, None))
        } else if let Some(args) = after.strip_prefix("SUBST(") {
            parse_call(args, 2).map(|(num, a, len)| (num, 6 + len, Some(("SUBST", a))))
        } else if let Some(args) = after.strip_prefix("I(") {
            parse_call(args, 1).map(|(num, a, len)| (num, 2 + len, Some(("I", a))))
        } else {
            None
        };
        let Some((num, consumed, call)) = handled else {
            out.push('$');
            rest = after;
            continue;
        };
        let value = match group(num) {
            Some(Some(value)) => value,
            Some(None) => return None,
            None => {
                // unknown group: keep the text as is
                out.push('$');
                out.push_str(&after[..consumed]);
                rest = &after[consumed..];
                continue;
            }
        };
        match call {
            None => {
                let printable: Vec<u8> = value
                    .iter()
                    .copied()
                    .filter(|b| (32..=126).contains(b))
                    .collect();
                out.push_str(&nmap_encode(&printable));
            }
            Some(("SUBST", args)) => {
                out.push_str(&nmap_encode(value).replace(args[0], args[1]));
            }
            Some((_, args)) => {
                let big_endian = match args[0] {
                    ">" => Some(true),
                    "<" => Some(false),
                    _ => None,
                };
                match big_endian {
                    Some(big_endian) if !value.is_empty() && value.len() <= 8 => {
                        let number = if big_endian {
                            value.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
                        } else {
                            value
                                .iter()
                                .rev()
                                .fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
                        };
                        out.push_str(&number.to_string());
                    }
                    _ => {
                        out.push('$');
                        out.push_str(&after[..consumed]);
                    }
                }
            }
        }
        rest = &after[consumed..];
    }
    out.push_str(rest);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROBES_PATH: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/data/nmap/nmap-service-probes"
    );

    fn probes() -> &'static ServiceProbes {
        static PROBES: OnceLock<ServiceProbes> = OnceLock::new();
        PROBES.get_or_init(|| ServiceProbes::load(PROBES_PATH).expect("load probes"))
    }

    fn null(banner: &[u8]) -> Option<ServiceMatch> {
        probes().match_banner(&["NULL"], "tcp", 0, banner)
    }

    #[test]
    fn loads_real_file() {
        let stats = probes().stats();
        assert!(stats.probes > 100, "{stats:?}");
        assert!(stats.matches > 10_000, "{stats:?}");
        assert!(stats.softmatches > 100, "{stats:?}");
        // lookarounds and backreferences exist in the file but stay a minority
        assert!(stats.unsupported > 0 && stats.unsupported < stats.matches / 10);
        let null = probes().probe(Protocol::Tcp, "NULL").unwrap();
        assert!(null.payload.is_empty());
        assert!(null.rule_count() > 1000);
        let get = probes().probe(Protocol::Tcp, "GetRequest").unwrap();
        assert_eq!(get.payload, b"GET / HTTP/1.0\r\n\r\n");
        assert!(get.has_port(80));
    }

    #[test]
    fn shareable_and_payload_lookup() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<ServiceProbes>();
        let probe = probes()
            .probe_by_payload(Protocol::Tcp, b"GET / HTTP/1.0\r\n\r\n")
            .unwrap();
        assert_eq!(probe.name, "GetRequest");
        assert!(probes().probe_by_payload(Protocol::Tcp, b"").is_none());
        assert!(probes()
            .probe_by_payload(Protocol::Udp, b"GET / HTTP/1.0\r\n\r\n")
            .is_none());
    }

    #[test]
    fn ssh_openssh_debian() {
        let m = null(b"SSH-2.0-OpenSSH_7.4p1 Debian-10+deb9u7\r\n").unwrap();
        assert_eq!(m.service_name, "ssh");
        assert_eq!(m.product.as_deref(), Some("OpenSSH"));
        assert_eq!(m.version.as_deref(), Some("7.4p1 Debian 10+deb9u7"));
        assert_eq!(m.extrainfo.as_deref(), Some("protocol 2.0"));
        assert_eq!(m.ostype.as_deref(), Some("Linux"));
        assert!(!m.soft);
        assert_eq!(
            m.cpes,
            [
                "cpe:/a:openbsd:openssh:7.4p1",
                "cpe:/o:debian:debian_linux",
                "cpe:/o:linux:linux_kernel"
            ]
        );
    }

    #[test]
    fn ftp_vsftpd() {
        let m = null(b"220 (vsFTPd 3.0.3)\r\n").unwrap();
        assert_eq!(m.service_name, "ftp");
        assert_eq!(m.product.as_deref(), Some("vsftpd"));
        assert_eq!(m.version.as_deref(), Some("3.0.3"));
        assert_eq!(m.cpes, ["cpe:/a:vsftpd:vsftpd:3.0.3"]);
    }

    #[test]
    fn http_apache_get_request() {
        let banner = b"HTTP/1.1 200 OK\r\nDate: Mon, 01 Jan 2024 00:00:00 GMT\r\n\
Server: Apache/2.4.29 (Ubuntu)\r\nContent-Length: 10\r\n\
Content-Type: text/html\r\n\r\n<html></html>";
        let m = probes()
            .match_banner(&["GetRequest"], "tcp", 80, banner)
            .unwrap();
        assert_eq!(m.service_name, "http");
        assert_eq!(m.product.as_deref(), Some("Apache httpd"));
        assert_eq!(m.version.as_deref(), Some("2.4.29"));
        assert_eq!(m.extrainfo.as_deref(), Some("(Ubuntu)"));
        assert!(m
            .cpes
            .contains(&"cpe:/a:apache:http_server:2.4.29".to_owned()));
        // NULL finds nothing specific for an HTTP response
        let mut port = Map::new();
        m.apply_to_port(&mut port);
        assert_eq!(port["service_name"], "http");
        assert_eq!(port["service_product"], "Apache httpd");
        assert!(!port.contains_key("service_tunnel"));
    }

    #[test]
    fn smtp() {
        let m = null(b"220 mx.example.org ESMTP Exim 4.92 Tue, 01 Jan 2019 00:00:00 +0000\r\n")
            .unwrap();
        assert_eq!(m.service_name, "smtp");
        assert_eq!(m.product.as_deref(), Some("Exim smtpd"));
        assert_eq!(m.version.as_deref(), Some("4.92"));
        assert_eq!(m.hostname.as_deref(), Some("mx.example.org"));
        assert_eq!(m.cpes, ["cpe:/a:exim:exim:4.92"]);
        // as in Nmap, the first matching line wins, and its capture keeps the
        // separator (`^220([\s-]\S+) ESMTP Postfix`)
        let m = null(b"220 mail.example.com ESMTP Postfix (Debian/GNU)\r\n").unwrap();
        assert_eq!(m.product.as_deref(), Some("Postfix smtpd"));
        assert_eq!(m.hostname.as_deref(), Some(" mail.example.com"));
        assert_eq!(m.cpes, ["cpe:/a:postfix:postfix"]);
    }

    #[test]
    fn garbage_no_match() {
        assert_eq!(null(b"\x01\x02\x03garbage \xff\xfe nothing here"), None);
        assert_eq!(null(b""), None);
        assert_eq!(
            probes().match_banner(&["NULL"], "sctp", 22, b"SSH-2.0-OpenSSH_7.4\r\n"),
            None
        );
        assert_eq!(
            probes().match_banner(&["NoSuchProbe"], "tcp", 22, b"SSH-2.0-OpenSSH_7.4\r\n"),
            None
        );
    }

    #[test]
    fn malformed_file_errors_with_line() {
        let bad = b"# comment\nProbe TCP NULL q||\nmatch ssh m|^SSH| p/x\n";
        match ServiceProbes::from_reader(&bad[..]) {
            Err(ProbesError::Parse { line, .. }) => assert_eq!(line, 3),
            other => panic!("unexpected {other:?}"),
        }
        let bad = b"match ssh m|^SSH|\n";
        assert!(matches!(
            ServiceProbes::from_reader(&bad[..]),
            Err(ProbesError::Parse { line: 1, .. })
        ));
        let bad = b"Probe TCP NULL q||\nbogus directive\n";
        assert!(matches!(
            ServiceProbes::from_reader(&bad[..]),
            Err(ProbesError::Parse { line: 2, .. })
        ));
        let bad = b"Probe TCP NULL q||\nports 80,abc\n";
        assert!(matches!(
            ServiceProbes::from_reader(&bad[..]),
            Err(ProbesError::Parse { line: 2, .. })
        ));
        let bad = b"Probe TCP NULL\n";
        assert!(matches!(
            ServiceProbes::from_reader(&bad[..]),
            Err(ProbesError::Parse { line: 1, .. })
        ));
        assert!(matches!(
            ServiceProbes::load("/nonexistent/nmap-service-probes"),
            Err(ProbesError::Io { .. })
        ));
    }

    #[test]
    fn unsupported_and_pathological_patterns_are_skipped() {
        let file = b"Probe TCP NULL q||\n\
match look m|^abc(?!d)| p/lookahead/\n\
match back m|^(a)\\1| p/backref/\n\
match huge m|^x(?:.{1,1000}){1,1000}y|s p/huge/\n\
match poss m|^a++b| p/possessive/\n\
match ok m|a| p/fallback/\n";
        let probes = ServiceProbes::from_reader(&file[..]).unwrap();
        assert_eq!(probes.stats().unsupported, 3);
        let compiled = probes.compile_all();
        assert_eq!(
            compiled,
            CompileStats {
                compiled: 1,
                failed: 1,
                unsupported: 3
            }
        );
        let m = probes.match_banner(&["NULL"], "tcp", 1, b"abce").unwrap();
        assert_eq!(m.service_name, "ok");
        let m = probes.match_banner(&["NULL"], "tcp", 1, b"xay").unwrap();
        assert_eq!(m.service_name, "ok");
    }

    #[test]
    fn softmatch_and_ssl_tunnel() {
        let file = b"Probe TCP NULL q||\n\
softmatch ftp m|^220 |\n\
match ssl/http m|^HTTPS (\\d+)| p/Secure/ v/$1/\n\
Probe TCP Other q|x|\n\
match ftp m|^220 (\\w+) ready| p/$1 ftpd/\n";
        let probes = ServiceProbes::from_reader(&file[..]).unwrap();
        let m = probes
            .match_banner(&["NULL"], "tcp", 21, b"220 hi")
            .unwrap();
        assert!(m.soft);
        assert_eq!(m.service_name, "ftp");
        // a hard match in a later probe wins over the soft one
        let m = probes
            .match_banner(&["NULL", "Other"], "tcp", 21, b"220 Foo ready")
            .unwrap();
        assert!(!m.soft);
        assert_eq!(m.product.as_deref(), Some("Foo ftpd"));
        let m = probes
            .match_banner(&["NULL"], "tcp", 443, b"HTTPS 12")
            .unwrap();
        assert_eq!(m.name_and_tunnel(), ("http", Some("ssl")));
        let fields = m.port_fields();
        assert_eq!(fields["service_name"], "http");
        assert_eq!(fields["service_tunnel"], "ssl");
        assert_eq!(fields["service_version"], "12");
        assert_eq!(fields["service_product"], "Secure");
    }

    #[test]
    fn fallback_probe() {
        let file = b"Probe TCP GetRequest q|GET|\n\
match http m|^HTTP/1\\.[01] \\d+| p/generic/\n\
Probe TCP Other q|x|\n\
fallback GetRequest\n";
        let probes = ServiceProbes::from_reader(&file[..]).unwrap();
        let m = probes
            .match_banner(&["Other"], "tcp", 1, b"HTTP/1.1 200 OK\r\n")
            .unwrap();
        assert_eq!(m.product.as_deref(), Some("generic"));
    }

    #[test]
    fn templates() {
        let groups: Vec<Option<&[u8]>> = vec![Some(b"a\r\x01b"), None, Some(b"\x01\x02")];
        assert_eq!(
            format_template("x $1 y", &groups).unwrap(),
            "x a\\r\\x01b y"
        );
        assert_eq!(format_template("$P(1)", &groups).unwrap(), "ab");
        assert_eq!(
            format_template("$SUBST(1,\"\\r\",\".\")", &groups).unwrap(),
            "a.\\x01b"
        );
        assert_eq!(format_template("$I(3,\">\")", &groups).unwrap(), "258");
        assert_eq!(format_template("$I(3,\"<\")", &groups).unwrap(), "513");
        assert_eq!(format_template("v$2", &groups), None);
        assert_eq!(format_template("$P(2)", &groups), None);
        assert_eq!(format_template("cost $5", &groups).unwrap(), "cost $5");
        assert_eq!(format_template("no subst", &groups).unwrap(), "no subst");
    }

    #[test]
    fn pcre_translation() {
        let t = |p: &[u8]| translate_pcre(p).map(|t| (t.pattern, t.prefix));
        let (pattern, prefix) = t(b"^SSH-\\d").unwrap();
        assert_eq!(prefix, b"SSH-");
        assert!(pattern.starts_with('^'));
        assert_eq!(t(b"^ab?c").unwrap().1, b"a");
        assert_eq!(t(b"^ab|cd").unwrap().1, b"");
        assert_eq!(t(b"^\\0\\x1\\xff").unwrap().1, b"\0\x01\xff");
        assert!(t(b"[[]").is_ok());
        assert!(t(b"a(?=b)").is_err());
        assert!(t(b"(a)\\1").is_err());
        assert!(t(b"[a").is_err());
        // binary-safe: \xff matches a raw byte, `.` any byte but \n
        let probes = ServiceProbes::from_reader(
            &b"Probe TCP NULL q||\nmatch bin m|^\\xff.\\0(.)$| p/bin/ v/$1/\n"[..],
        )
        .unwrap();
        let m = probes
            .match_banner(&["NULL"], "tcp", 1, b"\xff\xfe\0\x80\n")
            .unwrap();
        assert_eq!(m.version.as_deref(), Some("\\x80"));
    }

    #[test]
    fn ivre_trailing_newline() {
        // the pattern ends in \r?\n but masscan keeps the first line only
        let m = null(b"SSH-2.0-OpenSSH_6.0p1 Debian-4+deb7u2").unwrap();
        assert_eq!(m.version.as_deref(), Some("6.0p1 Debian 4+deb7u2"));
    }

    /// Masscan banners from the IVRE test samples (test-T22.xml), with the
    /// values IVRE stored for them (golden ivre-nmap-records.jsonl).
    #[test]
    fn masscan_golden_ssh() {
        // banner, product, version, extrainfo, ostype
        type Case<'a> = (&'a [u8], &'a str, Option<&'a str>, &'a str, Option<&'a str>);
        let cases: [Case; 3] = [
            // 178.32.164.34
            (
                b"SSH-2.0-OpenSSH_5.9p1 Debian-5ubuntu1.4",
                "OpenSSH",
                Some("5.9p1 Debian 5ubuntu1.4"),
                "Ubuntu Linux; protocol 2.0",
                Some("Linux"),
            ),
            // 109.164.41.134
            (
                b"SSH-2.0-dropbear_2014.63",
                "Dropbear sshd",
                Some("2014.63"),
                "protocol 2.0",
                Some("Linux"),
            ),
            // 93.170.75.80 (binary KEXINIT data follows the banner line; the
            // start of it, as in the sample)
            (
                b"SSH-2.0-OpenSSH_5.1p1 FreeBSD-20080901\r\n\x00\x00\x03\x04\x0a\x14\xd3\xd6C\x02\xdd\xe8\x8f\xda\x1e`\xfc\x9e\xc8\xa0",
                "OpenSSH",
                Some("5.1p1"),
                "FreeBSD 20080901; protocol 2.0",
                Some("FreeBSD"),
            ),
        ];
        for (banner, product, version, extrainfo, ostype) in cases {
            let m = null(banner).unwrap();
            assert_eq!(m.service_name, "ssh");
            assert_eq!(m.product.as_deref(), Some(product));
            assert_eq!(m.version.as_deref(), version);
            assert_eq!(m.extrainfo.as_deref(), Some(extrainfo));
            assert_eq!(m.ostype.as_deref(), ostype);
        }
    }

    /// Masscan keeps what follows the SSH banner line (binary KEXINIT);
    /// IVRE matches the first line, newline included (184.75.120.122 and
    /// 85.169.59.149 in test-T22.xml).
    #[test]
    fn masscan_first_line() {
        let banner = b"SSH-1.99-Cisco-1.25\n\0\0\x01\x14\x04\x14~\t\xb5Q";
        let line = banner_first_line(banner);
        assert_eq!(line, b"SSH-1.99-Cisco-1.25\n");
        let m = null(line).unwrap();
        assert_eq!(m.product.as_deref(), Some("Cisco SSH"));
        assert_eq!(m.version.as_deref(), Some("1.25"));
        assert_eq!(m.ostype.as_deref(), Some("IOS"));
        assert_eq!(m.cpes, ["cpe:/a:cisco:ssh:1.25", "cpe:/o:cisco:ios"]);
        // the whole banner (and a banner without its newline) only softmatch
        for banner in [&banner[..], b"SSH-1.99-Cisco-1.25"] {
            let m = null(banner).unwrap();
            assert!(m.soft);
            assert_eq!(m.service_name, "ssh");
            assert_eq!(m.extrainfo.as_deref(), Some("protocol 1.99"));
            assert_eq!(m.product, None);
        }
        assert_eq!(banner_first_line(b"no newline"), b"no newline");
    }

    /// Passive records (golden ivre-passive-records.jsonl): TCP server
    /// banners against NULL, HTTP `Server:` headers against GetRequest.
    #[test]
    fn passive_golden() {
        let m = null(
            b"J\x00\x00\x00\n5.7.21\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\
\xff\xff\x08\x02\x00\xff\xc1\x15\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\
\x00\x00\x00\x00\x00\x00\x00\x00mysql_native_password\x00",
        )
        .unwrap();
        assert_eq!(m.service_name, "mysql");
        assert_eq!(m.product.as_deref(), Some("MySQL"));
        assert_eq!(m.version.as_deref(), Some("5.7.21"));
        let m = null(
            b"* OK Microsoft Exchange IMAP4rev1 server version 5.5.2650.23 (umr-mail02) ready\r\n",
        )
        .unwrap();
        assert_eq!(m.service_name, "imap");
        assert_eq!(m.product.as_deref(), Some("Microsoft Exchange imapd"));
        assert_eq!(m.version.as_deref(), Some("5.5.2650.23"));
        assert_eq!(m.ostype.as_deref(), Some("Windows"));
        let m = probes()
            .match_banner(
                &["GetRequest"],
                "tcp",
                8080,
                b"HTTP/1.1 200 OK\r\nServer: nginx/1.6.2\r\n\r\n",
            )
            .unwrap();
        assert_eq!(m.service_name, "http");
        assert_eq!(m.product.as_deref(), Some("nginx"));
        assert_eq!(m.version.as_deref(), Some("1.6.2"));
    }

    /// `cargo test -p ivre-model --release -- --ignored --nocapture probes_timing`
    #[test]
    #[ignore]
    fn probes_timing() {
        let start = std::time::Instant::now();
        let probes = ServiceProbes::load(PROBES_PATH).unwrap();
        let load = start.elapsed();
        let start = std::time::Instant::now();
        let m = probes.match_banner(&["NULL"], "tcp", 22, b"SSH-2.0-OpenSSH_7.4\r\n");
        let first = start.elapsed();
        assert!(m.is_some());
        let start = std::time::Instant::now();
        for _ in 0..1000 {
            probes.match_banner(&["NULL"], "tcp", 22, b"SSH-2.0-OpenSSH_7.4\r\n");
        }
        let thousand = start.elapsed();
        let start = std::time::Instant::now();
        let compiled = probes.compile_all();
        let compile = start.elapsed();
        let start = std::time::Instant::now();
        for _ in 0..100 {
            probes.match_banner(&["NULL", "GetRequest"], "tcp", 22, b"\x01garbage\x02");
        }
        let garbage = start.elapsed();
        println!(
            "stats {:?}\ncompile {compiled:?}\nload {load:?}, first SSH match {first:?}, \
             1000 SSH matches {thousand:?}, compile_all {compile:?}, \
             100 garbage NULL+GetRequest misses {garbage:?}",
            probes.stats()
        );
    }
}
