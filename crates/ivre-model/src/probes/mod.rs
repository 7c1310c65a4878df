//! Nmap's `nmap-service-probes` database: parser and banner matcher.
//!
//! IVRE identifies the service behind a raw banner (Masscan banners, passive
//! TCP server banners, SSH banners, HTTP `Server:` headers...) by matching it
//! against the `match` / `softmatch` lines of Nmap's service probes file, as
//! `ivre.utils.match_nmap_svc_fp` does. This module holds the loaded
//! database and its public types; the work is split by concern:
//!
//! * `parser`: the file is parsed once ([`ServiceProbes::load`],
//!   [`ServiceProbes::from_reader`]); a malformed line is an error carrying
//!   its line number (as in Nmap, which refuses to start on such a file);
//! * `pcre`: Nmap's PCRE patterns are translated to the `regex` crate's
//!   syntax; what `regex` cannot express is rejected at load time: the match
//!   line is kept but never matches, and it is counted in
//!   [`ProbesStats::unsupported`];
//! * `matcher`: regexes compiled lazily behind a literal-prefix check, and
//!   the probe order (first hard `match` wins, `fallback` directives);
//! * `template`: the version-info templates (`$1`, `$P()`, `$SUBST()`,
//!   `$I()`) filled from the captured groups.
use std::collections::HashMap;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

mod matcher;
mod parser;
mod pcre;
mod template;

use matcher::MatchRule;
pub use parser::DirectiveError;
pub use pcre::UnsupportedPattern;

/// Error while reading or parsing an `nmap-service-probes` file.
#[derive(Debug, thiserror::Error)]
pub enum ProbesError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("nmap-service-probes line {line}: {error}")]
    Parse { line: usize, error: DirectiveError },
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
        parser::parse(&data)
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
    pub fn unsupported(&self) -> Vec<(usize, &UnsupportedPattern)> {
        self.probes
            .iter()
            .flat_map(|probe| probe.rules.iter())
            .filter_map(|rule| match &rule.pattern {
                Err(reason) => Some((rule.line, reason)),
                Ok(_) => None,
            })
            .collect()
    }
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

#[cfg(test)]
mod tests {
    use std::sync::OnceLock;

    use super::*;

    pub(super) const PROBES_PATH: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/data/nmap/nmap-service-probes"
    );

    /// The real file, loaded once for every test of the module.
    pub(super) fn probes() -> &'static ServiceProbes {
        static PROBES: OnceLock<ServiceProbes> = OnceLock::new();
        PROBES.get_or_init(|| ServiceProbes::load(PROBES_PATH).expect("load probes"))
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
}
