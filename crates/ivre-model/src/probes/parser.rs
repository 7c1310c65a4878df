//! The `nmap-service-probes` file format: `Probe` directives and their
//! `match` / `softmatch`, `ports`, `sslports`, `rarity`, `fallback`, ...
//! lines. A malformed line is an error carrying its line number (as in
//! Nmap, which refuses to start on such a file); a pattern that cannot be
//! translated is not an error, its line just never matches.
//!
//! As IVRE does, a pattern ending in `\r\n` (resp. `\n`) also matches at the
//! end of the data (banners often keep only their first line).
use std::collections::HashMap;
use std::sync::OnceLock;

use super::matcher::MatchRule;
use super::pcre::translate_pcre;
use super::template::Templates;
use super::{Probe, ProbesError, ProbesStats, Protocol, ServiceProbes};

/// What is wrong with a line of an `nmap-service-probes` file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DirectiveError {
    #[error("invalid probe protocol {0:?}")]
    ProbeProtocol(String),
    #[error("missing probe name")]
    MissingProbeName,
    #[error("missing probe string q|...|")]
    MissingProbeString,
    #[error("unterminated probe string")]
    UnterminatedProbeString,
    #[error("duplicate probe {0} {1}")]
    DuplicateProbe(Protocol, String),
    #[error("match line before any Probe")]
    MatchBeforeProbe,
    #[error("directive {0:?} before any Probe")]
    DirectiveBeforeProbe(String),
    #[error("unknown directive {0:?}")]
    UnknownDirective(String),
    #[error("invalid port {0:?}")]
    Port(String),
    #[error("invalid port range {0:?}")]
    PortRange(String),
    #[error("invalid rarity {0:?}")]
    Rarity(String),
    #[error("invalid number {0:?}")]
    Number(String),
    #[error("missing service name")]
    MissingService,
    #[error("missing value after {0:?}")]
    MissingValue(String),
    #[error("unterminated {key:?} field (delimiter {delimiter:?})")]
    UnterminatedField { key: String, delimiter: char },
    #[error("duplicate m field")]
    DuplicatePattern,
    #[error("unknown regex flag {0:?}")]
    RegexFlag(char),
    #[error("the m field must come first")]
    PatternNotFirst,
    #[error("unknown version field {0:?}")]
    VersionField(String),
    #[error("missing m field")]
    MissingPattern,
}

/// Parses a whole file.
pub(super) fn parse(data: &[u8]) -> Result<ServiceProbes, ProbesError> {
    let mut probes: Vec<Probe> = Vec::new();
    let mut index = HashMap::new();
    let mut stats = ProbesStats::default();
    for (idx, raw) in data.split(|&b| b == b'\n').enumerate() {
        let lineno = idx + 1;
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        let err = |error: DirectiveError| ProbesError::Parse {
            line: lineno,
            error,
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
                    return Err(err(DirectiveError::DuplicateProbe(key.0, key.1)));
                }
                index.insert(key, probes.len());
                probes.push(probe);
                stats.probes += 1;
            }
            b"match" | b"softmatch" => {
                let soft = directive == b"softmatch";
                let probe = probes
                    .last_mut()
                    .ok_or_else(|| err(DirectiveError::MatchBeforeProbe))?;
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
                    err(DirectiveError::DirectiveBeforeProbe(
                        String::from_utf8_lossy(directive).into_owned(),
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
                                .map_err(|_| err(DirectiveError::Rarity(value.clone())))?,
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
                            .map_err(|_| err(DirectiveError::Number(value.clone())))?;
                    }
                    _ => {
                        return Err(err(DirectiveError::UnknownDirective(
                            String::from_utf8_lossy(directive).into_owned(),
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

fn parse_probe(rest: &[u8], line: usize) -> Result<Probe, DirectiveError> {
    let (proto, rest) = split_word(rest);
    let protocol = match proto {
        b"TCP" => Protocol::Tcp,
        b"UDP" => Protocol::Udp,
        _ => {
            return Err(DirectiveError::ProbeProtocol(
                String::from_utf8_lossy(proto).into_owned(),
            ))
        }
    };
    let rest = trim_start(rest);
    let (name, rest) = split_word(rest);
    if name.is_empty() {
        return Err(DirectiveError::MissingProbeName);
    }
    let rest = trim_start(rest);
    if rest.len() < 3 || rest[0] != b'q' {
        return Err(DirectiveError::MissingProbeString);
    }
    let delim = rest[1];
    let end = rest[2..]
        .iter()
        .position(|&b| b == delim)
        .ok_or(DirectiveError::UnterminatedProbeString)?;
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

fn parse_ports(value: &str) -> Result<Vec<(u16, u16)>, DirectiveError> {
    let parse = |port: &str| {
        port.trim()
            .parse::<u16>()
            .map_err(|_| DirectiveError::Port(port.to_owned()))
    };
    value
        .split(',')
        .filter(|item| !item.trim().is_empty())
        .map(|item| match item.split_once('-') {
            Some((lo, hi)) => {
                let (lo, hi) = (parse(lo)?, parse(hi)?);
                if lo > hi {
                    return Err(DirectiveError::PortRange(item.to_owned()));
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

fn parse_match(rest: &[u8], soft: bool, line: usize) -> Result<MatchRule, DirectiveError> {
    let (service, mut data) = split_word(rest);
    if service.is_empty() {
        return Err(DirectiveError::MissingService);
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
            return Err(DirectiveError::MissingValue(
                String::from_utf8_lossy(key).into_owned(),
            ));
        };
        let end = after.iter().position(|&b| b == delim).ok_or_else(|| {
            DirectiveError::UnterminatedField {
                key: String::from_utf8_lossy(key).into_owned(),
                delimiter: delim as char,
            }
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
                return Err(DirectiveError::DuplicatePattern);
            }
            for flag in flags {
                match flag {
                    b'i' => case_insensitive = true,
                    b's' => dot_all = true,
                    _ => return Err(DirectiveError::RegexFlag(*flag as char)),
                }
            }
            pattern = Some(translate_pcre(&ivre_line_end(value)));
            continue;
        }
        if pattern.is_none() {
            return Err(DirectiveError::PatternNotFirst);
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
                return Err(DirectiveError::VersionField(
                    String::from_utf8_lossy(key).into_owned(),
                ))
            }
        };
        *slot = Some(value);
    }
    let pattern = pattern.ok_or(DirectiveError::MissingPattern)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn malformed_file_errors_with_line() {
        let bad = b"# comment\nProbe TCP NULL q||\nmatch ssh m|^SSH| p/x\n";
        match ServiceProbes::from_reader(&bad[..]) {
            Err(err @ ProbesError::Parse { line: 3, .. }) => assert_eq!(
                err.to_string(),
                "nmap-service-probes line 3: unterminated \"p\" field (delimiter '/')"
            ),
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
}
